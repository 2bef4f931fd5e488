/* SPDX-License-Identifier: MIT */
/* Public link configuration of an adapter over netlink: up/down, MTU, GSO
 * size, name, namespace, and the state query. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "adapter.h"
#include "adapter_id.h"
#include "adapter_name.h"
#include "log.h"
#include "nl_link.h"

WINTUN_API bool WintunSetAdapterUp(WINTUN_ADAPTER_HANDLE Adapter, bool Up)
{
	struct wt_adapter_nl c;
	int ret = wt_adapter_nl_begin(Adapter, "WintunSetAdapterUp", &c);

	if (ret)
		return wt_fail_bool(ret);
	ret = wt_nl_link_set_up(&c.nl, c.ifindex, Up);
	ret = wt_adapter_nl_end(&c, ret, Up ? "bring up" : "bring down");
	return ret ? wt_fail_bool(ret) : true;
}

WINTUN_API bool WintunSetAdapterMtu(WINTUN_ADAPTER_HANDLE Adapter, uint32_t Mtu)
{
	struct wt_adapter_nl c;
	char op[48];
	int ret = wt_adapter_nl_begin(Adapter, "WintunSetAdapterMtu", &c);

	if (ret)
		return wt_fail_bool(ret);
	snprintf(op, sizeof(op), "set MTU %u on", Mtu);
	ret = wt_nl_link_set_mtu(&c.nl, c.ifindex, Mtu);
	ret = wt_adapter_nl_end(&c, ret, op);
	return ret ? wt_fail_bool(ret) : true;
}

WINTUN_API uint32_t WintunGetAdapterMtu(WINTUN_ADAPTER_HANDLE Adapter)
{
	uint32_t mtu = 0;
	int ret;

	if (!Adapter) {
		wt_err("WintunGetAdapterMtu: adapter handle is NULL");
		return (uint32_t)wt_fail_bool(-EINVAL);
	}
	ret = wt_adapter_get_mtu(Adapter, &mtu);
	return ret ? (uint32_t)wt_fail_bool(ret) : mtu;
}

/* Kernels before 5.19 accept IFLA_GSO_MAX_SIZE on RTM_NEWLINK for an
 * existing device but ignore it: read it back to tell. */
static int set_gso(struct wt_adapter_nl *c, uint32_t size)
{
	struct wt_nl_link link;
	int ret = wt_nl_link_set_gso_max_size(&c->nl, c->ifindex, size);

	if (!ret)
		ret = wt_nl_link_get(&c->nl, c->ifindex, NULL, &link);
	if (!ret && link.gso_max_size != size) {
		snprintf(c->nl.ext_msg, sizeof(c->nl.ext_msg),
			 "this kernel cannot change it on an existing device");
		ret = -EOPNOTSUPP;
	}
	return ret;
}

WINTUN_API bool WintunSetAdapterGsoMaxSize(WINTUN_ADAPTER_HANDLE Adapter, uint32_t Size)
{
	struct wt_adapter_nl c;
	char op[64];
	int ret = wt_adapter_nl_begin(Adapter, "WintunSetAdapterGsoMaxSize", &c);

	if (ret)
		return wt_fail_bool(ret);
	snprintf(op, sizeof(op), "set GSO maximum size %u on", Size);
	ret = wt_adapter_nl_end(&c, set_gso(&c, Size), op);
	return ret ? wt_fail_bool(ret) : true;
}

/* The device name for the Windows-style @name: its first mapping, or the
 * current one if the adapter has this name already.  Refuse a name that
 * another adapter of the namespace has: 0, -EEXIST or the netlink error
 * (logged). */
static int friendly_ifname(struct wt_adapter_nl *c, const char *name, char ifname[IFNAMSIZ])
{
	int ret = wt_friendly_find(&c->nl, name, ifname);

	if (ret == 0 && !strcmp(ifname, c->name))
		return 0; /* keep the device name, maybe the hashed one */
	if (ret == 0) {
		wt_err("cannot rename adapter %s to \"%s\": adapter %s has this name", c->name,
		       name, ifname);
		return -EEXIST;
	}
	wt_name_map(name, 0, ifname);
	return ret == -ENOENT ? 0 : ret;
}

static int rename_device(struct wt_adapter_nl *c, const char *ifname)
{
	char op[64];
	int ret;

	if (!strcmp(ifname, c->name))
		return 0;
	snprintf(op, sizeof(op), "rename adapter %s to", c->name);
	ret = wt_nl_link_set_name(&c->nl, c->ifindex, ifname);
	if (ret)
		wt_nl_log_error(&c->nl, ret, op, ifname);
	if (ret == -EBUSY)
		wt_err("adapter %s is up: bring the adapter down to rename it", c->name);
	return ret;
}

/* The ifalias again, with the new Windows-style name or without one. */
static int retag_device(struct wintun_adapter *a, struct wt_adapter_nl *c, const char *friendly)
{
	char alias[WT_IFALIASZ];
	int ret = wt_alias_format(alias, sizeof(alias), a->tunnel_type, &a->guid, friendly);

	if (!ret)
		ret = wt_nl_link_set_alias(&c->nl, c->ifindex, alias);
	if (ret)
		wt_nl_log_error(&c->nl, ret, "set the ifalias of", c->name);
	return ret;
}

WINTUN_API bool WintunSetAdapterName(WINTUN_ADAPTER_HANDLE Adapter, const char *Name)
{
	char ifname[IFNAMSIZ];
	struct wt_adapter_nl c;
	bool friendly;
	int ret = wt_adapter_nl_begin(Adapter, "WintunSetAdapterName", &c);

	if (ret)
		return wt_fail_bool(ret);
	ret = wt_check_adapter_name(Name, "new adapter name");
	if (ret)
		goto out;
	friendly = wt_name_is_friendly(Name);
	if (friendly) {
		ret = friendly_ifname(&c, Name, ifname);
	} else {
		snprintf(ifname, sizeof(ifname), "%s", Name);
	}
	if (!ret)
		ret = rename_device(&c, ifname);
	if (!ret)
		ret = retag_device(Adapter, &c, friendly ? Name : NULL);
out:
	wt_nl_close(&c.nl);
	return ret ? wt_fail_bool(ret) : true;
}

/* After a move the ifindex may differ (the kernel keeps it only if it is
 * free in the target): look the device up by name where it is now. */
static int refresh_ifindex(struct wintun_adapter *a)
{
	struct wt_nl_link link;
	char name[IFNAMSIZ];
	struct wt_nl nl;
	int ret;

	ret = wt_adapter_name(a, name);
	if (!ret)
		ret = wt_adapter_nl_open(a, &nl);
	if (ret)
		return ret;
	ret = wt_nl_link_get(&nl, 0, name, &link);
	if (ret)
		wt_nl_log_error(&nl, ret, "find moved adapter", name);
	else
		atomic_store(&a->ifindex, link.ifindex);
	wt_nl_close(&nl);
	return ret;
}

WINTUN_API bool WintunSetAdapterNetns(WINTUN_ADAPTER_HANDLE Adapter, int NetnsFd)
{
	struct wt_adapter_nl c;
	int ret = wt_adapter_nl_begin(Adapter, "WintunSetAdapterNetns", &c);

	if (ret)
		return wt_fail_bool(ret);
	if (NetnsFd < 0) {
		wt_err("WintunSetAdapterNetns: namespace fd %d is invalid", NetnsFd);
		wt_nl_close(&c.nl);
		return wt_fail_bool(-EINVAL);
	}
	ret = wt_nl_link_set_netns(&c.nl, c.ifindex, NetnsFd);
	if (ret)
		wt_nl_log_error(&c.nl, ret, "move to another network namespace: adapter", c.name);
	wt_nl_close(&c.nl);
	if (!ret)
		ret = refresh_ifindex(Adapter);
	return ret ? wt_fail_bool(ret) : true;
}

static void fill_info(WINTUN_ADAPTER_INFO *info, const struct wt_nl_link *l)
{
	memset(info, 0, sizeof(*info));
	info->IfIndex = (uint32_t)l->ifindex;
	info->Mtu = l->mtu;
	info->Flags = l->flags;
	info->Up = l->flags & IFF_UP;
	info->Running = l->flags & IFF_RUNNING;
	memcpy(info->Name, l->name, IFNAMSIZ);
}

WINTUN_API bool WintunGetAdapterInfo(WINTUN_ADAPTER_HANDLE Adapter, WINTUN_ADAPTER_INFO *Info)
{
	const size_t min_size = sizeof(WINTUN_ADAPTER_INFO); /* the first version */
	WINTUN_ADAPTER_INFO out;
	struct wt_nl_link link;
	struct wt_adapter_nl c;
	uint32_t size;
	int ret;

	if (!Info) {
		wt_err("WintunGetAdapterInfo: Info is NULL");
		return wt_fail_bool(-EINVAL);
	}
	if (Info->Size < min_size) {
		wt_err("WintunGetAdapterInfo: Info->Size %u is below %zu", Info->Size, min_size);
		return wt_fail_bool(-EINVAL);
	}
	ret = wt_adapter_nl_begin(Adapter, "WintunGetAdapterInfo", &c);
	if (ret)
		return wt_fail_bool(ret);
	ret = wt_nl_link_get(&c.nl, c.ifindex, NULL, &link);
	ret = wt_adapter_nl_end(&c, ret, "read the state of");
	if (ret)
		return wt_fail_bool(ret);
	fill_info(&out, &link);
	size = Info->Size < sizeof(out) ? Info->Size : (uint32_t)sizeof(out);
	out.Size = size;
	memcpy(Info, &out, size);
	return true;
}
