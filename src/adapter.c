/* SPDX-License-Identifier: MIT */
/*
 * The adapter handle: create, open, close.  What the engine needs of it is in
 * adapter_handle.c and adapter_claim.c, name rules in adapter_name.c,
 * configuration in adapter_config.c, enumeration and cleanup in
 * adapter_enum.c.
 */
#include "adapter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter_id.h"
#include "adapter_name.h"
#include "log.h"
#include "nl_link.h"
#include "tun.h"

static struct wintun_adapter *adapter_alloc(void)
{
	struct wintun_adapter *a = calloc(1, sizeof(*a));
	pthread_rwlockattr_t attr;

	if (!a) {
		wt_err("out of memory for an adapter handle");
		return NULL;
	}
	a->fd = a->claim_fd = -1;
	/* A switch must not wait behind a stream of readers. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&a->fd_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	return a;
}

void wt_adapter_free(struct wintun_adapter *a)
{
	if (atomic_fetch_sub(&a->extra_refs, 1) > 0)
		return; /* a session still uses the handle */
	if (a->fd >= 0)
		close(a->fd);
	pthread_rwlock_destroy(&a->fd_lock);
	free(a);
}

static void log_tun_error(int err, const char *op, const char *name)
{
	if (err == -EPERM || err == -EACCES)
		wt_err("cannot %s %s: permission denied (needs CAP_NET_ADMIN)", op, name);
	else if (err == -ENOENT || err == -ENODEV)
		wt_err("cannot %s %s: /dev/net/tun is missing (is the tun module loaded?)", op,
		       name);
	else
		wt_err("cannot %s %s: %s", op, name, strerror(-err));
}

/* Our own queue: attached with @flags, then detached so that it keeps the
 * device alive without ever receiving a packet.  With IFF_TUN_EXCL, -EEXIST
 * (not logged) if the name is taken. */
static int attach_handle_fd(struct wintun_adapter *a, const char *name, int flags,
			    const char *op)
{
	int ret = wt_tun_open(-1, O_RDWR | O_CLOEXEC, &a->fd);

	if (ret) {
		log_tun_error(ret, op, name);
		return ret;
	}
	ret = wt_tun_set_iff(a->fd, name, flags);
	if (ret == -EBUSY && (flags & IFF_TUN_EXCL))
		return -EEXIST; /* the caller knows which name it wanted */
	if (ret) {
		log_tun_error(ret, op, name);
		return ret;
	}
	ret = wt_tun_detach(a->fd);
	if (ret)
		wt_err("cannot detach the handle's queue of %s: %s", name, strerror(-ret));
	return ret;
}

/* Find the new device's ifindex and write the ifalias that marks it ours,
 * with @friendly (or NULL) as its Windows-style name. */
static int tag_device(struct wintun_adapter *a, const char *name, const char *friendly)
{
	char alias[WT_IFALIASZ];
	struct wt_nl_link link;
	struct wt_nl nl;
	int ret;

	ret = wt_nl_open(&nl, -1);
	if (ret)
		return ret;
	ret = wt_nl_link_get(&nl, 0, name, &link);
	if (ret) {
		wt_nl_log_error(&nl, ret, "look up new adapter", name);
		goto out;
	}
	atomic_store(&a->ifindex, link.ifindex);
	ret = wt_alias_format(alias, sizeof(alias), a->tunnel_type, &a->guid, friendly);
	if (!ret)
		ret = wt_nl_link_set_alias(&nl, link.ifindex, alias);
	if (ret)
		wt_nl_log_error(&nl, ret, "set the ifalias of new adapter", name);
out:
	wt_nl_close(&nl);
	return ret;
}

/* A new device called @name (an interface name as it is). */
static int attach_new(struct wintun_adapter *a, const char *name)
{
	int ret = attach_handle_fd(a, name, WT_TUN_FLAGS | IFF_TUN_EXCL, "create adapter");

	if (ret == -EEXIST)
		wt_err("cannot create adapter %s: a network device with this name already exists",
		       name);
	return ret;
}

/*
 * May the device that holds @ifname be an adapter called @friendly, or one
 * being created under that name right now (its ifalias not written yet)?
 * Then creating @friendly elsewhere would make two adapters of one name.
 */
static bool may_be_namesake(const char *ifname, const char *friendly)
{
	char found[WINTUN_MAX_ADAPTER_NAME];
	struct wt_nl_link link;
	struct wt_nl nl;
	bool same = true;

	if (wt_nl_open(&nl, -1))
		return true;
	if (wt_nl_link_get(&nl, 0, ifname, &link) == 0)
		same = !strcmp(link.kind, "tun") &&
		       (!link.alias[0] ||
			(wt_alias_friendly(link.alias, found) == 0 && !strcmp(found, friendly)));
	wt_nl_close(&nl);
	return same;
}

/* The device of the adapter called @friendly into @ifname: 0, -ENOENT (none)
 * or a netlink error. */
static int friendly_lookup(const char *friendly, char ifname[IFNAMSIZ])
{
	struct wt_nl nl;
	int ret = wt_nl_open(&nl, -1);

	if (ret)
		return ret;
	ret = wt_friendly_find(&nl, friendly, ifname);
	wt_nl_close(&nl);
	return ret;
}

/* Is there an adapter called @friendly already?  0 (no), or -EEXIST / the
 * netlink error (logged). */
static int friendly_unused(const char *friendly)
{
	char ifname[IFNAMSIZ];
	int ret = friendly_lookup(friendly, ifname);

	if (ret == 0) {
		wt_err("cannot create adapter \"%s\": it already exists (device %s)", friendly,
		       ifname);
		return -EEXIST;
	}
	return ret == -ENOENT ? 0 : ret;
}

/* A new device for the Windows-style name @friendly: the readable mapping,
 * or the hashed one if another device holds that; its name into @ifname. */
static int attach_friendly(struct wintun_adapter *a, const char *friendly, char ifname[IFNAMSIZ])
{
	char first[IFNAMSIZ];
	int ret = friendly_unused(friendly);

	if (ret)
		return ret;
	wt_name_map(friendly, 0, first);
	ret = attach_handle_fd(a, first, WT_TUN_FLAGS | IFF_TUN_EXCL, "create adapter");
	memcpy(ifname, first, IFNAMSIZ);
	if (ret != -EEXIST)
		return ret;
	if (may_be_namesake(first, friendly)) {
		wt_err("cannot create adapter \"%s\": its device %s exists already", friendly,
		       first);
		return -EEXIST;
	}
	wt_name_map(friendly, 1, ifname);
	ret = attach_handle_fd(a, ifname, WT_TUN_FLAGS | IFF_TUN_EXCL, "create adapter");
	if (ret == -EEXIST)
		wt_err("cannot create adapter \"%s\": both its device names, %s and %s, are "
		       "taken by other devices",
		       friendly, first, ifname);
	return ret;
}

static int adapter_create(const char *name, const char *type, const WINTUN_GUID *guid,
			  struct wintun_adapter **out)
{
	bool friendly = false;
	char g[WT_GUID_STRLEN], ifname[IFNAMSIZ];
	struct wintun_adapter *a;
	int ret;

	ret = wt_check_adapter_name(name, "adapter name");
	if (!ret)
		ret = wt_check_tunnel_type(type);
	if (ret)
		return ret;
	friendly = wt_name_is_friendly(name);
	a = adapter_alloc();
	if (!a)
		return -ENOMEM;
	snprintf(a->tunnel_type, sizeof(a->tunnel_type), "%s", type);
	if (guid)
		a->guid = *guid;
	else if ((ret = wt_guid_random(&a->guid)))
		goto fail;
	if (friendly) {
		ret = attach_friendly(a, name, ifname);
	} else {
		snprintf(ifname, sizeof(ifname), "%s", name);
		ret = attach_new(a, name);
	}
	if (ret)
		goto fail;
	ret = tag_device(a, ifname, friendly ? name : NULL);
	if (ret)
		goto fail;
	a->created = true;
	wt_guid_format(&a->guid, g);
	wt_info("created adapter %s%s%s%s (type %s, GUID %s, ifindex %d)", ifname,
		friendly ? " for \"" : "", friendly ? name : "", friendly ? "\"" : "", type, g,
		atomic_load(&a->ifindex));
	*out = a;
	return 0;
fail:
	/* The device is not persistent: closing our only fd removes it. */
	wt_adapter_free(a);
	return ret;
}

WINTUN_API WINTUN_ADAPTER_HANDLE WintunCreateAdapter(const char *Name, const char *TunnelType,
						     const WINTUN_GUID *RequestedGUID)
{
	struct wintun_adapter *a = NULL;
	int ret = adapter_create(Name, TunnelType, RequestedGUID, &a);

	return ret ? wt_fail_ptr(ret) : a;
}

/* Why @l is not a Wintun adapter, or NULL if it is one. */
static const char *not_wintun_reason(const struct wt_nl_link *l)
{
	if (strcmp(l->kind, "tun") != 0)
		return "not a TUN device";
	if (l->tun_type != IFF_TUN)
		return "a TAP device, not TUN";
	if (!l->tun_multi_queue || !l->tun_pi)
		return "a TUN device without multi-queue or packet information";
	if (!wt_alias_is_wintun(l->alias))
		return "its ifalias does not start with \"" WT_ALIAS_PREFIX "\"";
	return NULL;
}

/* Find @name in the calling thread's namespace and check it is ours. */
static int lookup_wintun(const char *name, struct wt_nl_link *link)
{
	const char *why;
	struct wt_nl nl;
	int ret;

	ret = wt_nl_open(&nl, -1);
	if (ret)
		return ret;
	ret = wt_nl_link_get(&nl, 0, name, link);
	if (ret == -ENODEV) {
		wt_err("cannot open adapter %s: no such network device", name);
		ret = -ENOENT;
	} else if (ret) {
		wt_nl_log_error(&nl, ret, "open adapter", name);
	} else if ((why = not_wintun_reason(link))) {
		wt_err("cannot open adapter %s: not a Wintun adapter (%s)", name, why);
		ret = -ENOTSUP;
	}
	wt_nl_close(&nl);
	return ret;
}

/* The device name of the adapter called @friendly: 0, or -ENOENT (logged). */
static int find_friendly(const char *friendly, char ifname[IFNAMSIZ])
{
	int ret = friendly_lookup(friendly, ifname);

	if (ret == -ENOENT)
		wt_err("cannot open adapter \"%s\": no adapter has this name", friendly);
	return ret;
}

int wt_adapter_open(const char *name, struct wintun_adapter **out)
{
	char ifname[IFNAMSIZ];
	struct wt_nl_link link;
	struct wintun_adapter *a;
	int ret;

	ret = wt_check_adapter_name(name, "adapter name");
	if (!ret && wt_name_is_friendly(name)) {
		ret = find_friendly(name, ifname);
		name = ifname;
	}
	if (!ret)
		ret = lookup_wintun(name, &link);
	if (ret)
		return ret;
	a = adapter_alloc();
	if (!a)
		return -ENOMEM;
	wt_alias_parse(link.alias, a->tunnel_type, &a->guid);
	atomic_store(&a->ifindex, link.ifindex);
	/* TUN flags are per device: keep IFF_VNET_HDR as a running session set
	 * it, or we would switch it off under that session. */
	ret = attach_handle_fd(a, name, WT_TUN_FLAGS | (link.tun_vnet_hdr ? IFF_VNET_HDR : 0),
			       "open adapter");
	if (ret) {
		wt_adapter_free(a);
		return ret;
	}
	*out = a;
	return 0;
}

WINTUN_API WINTUN_ADAPTER_HANDLE WintunOpenAdapter(const char *Name)
{
	struct wintun_adapter *a = NULL;
	int ret = wt_adapter_open(Name, &a);

	return ret ? wt_fail_ptr(ret) : a;
}

static void delete_device(struct wintun_adapter *a)
{
	char name[IFNAMSIZ + 8];
	struct wt_nl nl;
	int ret;

	wt_adapter_log_name(a, name);
	if (wt_adapter_nl_open(a, &nl))
		return;
	ret = wt_nl_link_delete(&nl, wt_adapter_ifindex(a));
	/* ENODEV: someone deleted it already, which is what we wanted. */
	if (ret && ret != -ENODEV)
		wt_nl_log_error(&nl, ret, "delete adapter", name);
	wt_nl_close(&nl);
}

WINTUN_API void WintunCloseAdapter(WINTUN_ADAPTER_HANDLE Adapter)
{
	char name[IFNAMSIZ + 8];

	if (!Adapter) {
		wt_err("WintunCloseAdapter: adapter handle is NULL");
		wt_fail_ptr(-EINVAL);
		return;
	}
	if (atomic_load(&Adapter->sessions))
		wt_warn("closing adapter %s while a session is running on it",
			wt_adapter_log_name(Adapter, name));
	if (Adapter->created)
		delete_device(Adapter);
	wt_adapter_free(Adapter);
}
