/* SPDX-License-Identifier: MIT */
/*
 * What the rest of the library asks of an adapter handle: where the device is
 * now (name, ifindex, namespace), new queues for the engine and the MTU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include "adapter.h"
#include "adapter_name.h"
#include "clock.h"
#include "log.h"
#include "nl_link.h"
#include "tun.h"

int wt_adapter_ifindex(const struct wintun_adapter *a)
{
	/* The cast drops const only to satisfy atomic_load's prototype. */
	return atomic_load_explicit((_Atomic int *)&a->ifindex, memory_order_relaxed);
}

int wt_adapter_ioctl(struct wintun_adapter *a, unsigned long req, void *arg)
{
	int ret;

	pthread_rwlock_rdlock(&a->fd_lock);
	ret = ioctl(a->fd, req, arg);
	if (ret < 0)
		ret = -errno;
	pthread_rwlock_unlock(&a->fd_lock);
	return ret;
}

/* TUNGETIFF: the device's current name. */
static int handle_name(struct wintun_adapter *a, char name[IFNAMSIZ])
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	ret = wt_adapter_ioctl(a, TUNGETIFF, &ifr);
	if (!ret) {
		memcpy(name, ifr.ifr_name, IFNAMSIZ);
		name[IFNAMSIZ - 1] = '\0';
	}
	return ret;
}

int wt_adapter_name(struct wintun_adapter *a, char name[IFNAMSIZ])
{
	/* TUNGETIFF works on our detached queue and follows renames and
	 * namespace moves; it fails once the device is gone. */
	int ret = handle_name(a, name);

	if (ret == -EBADFD || ret == -ENODEV) {
		wt_err("adapter #%d is gone (its device was deleted)", wt_adapter_ifindex(a));
		return -ENODEV;
	}
	if (ret)
		wt_err("cannot read the name of adapter #%d: %s", wt_adapter_ifindex(a),
		       strerror(-ret));
	return ret;
}

const char *wt_adapter_log_name(struct wintun_adapter *a, char buf[IFNAMSIZ + 8])
{
	if (handle_name(a, buf))
		snprintf(buf, IFNAMSIZ + 8, "#%d", wt_adapter_ifindex(a));
	return buf;
}

/* The device's namespace, or -1 (the caller's) when the kernel will not say:
 * TUNGETDEVNETNS needs CAP_NET_ADMIN, which an unprivileged caller lacks, and
 * such a caller cannot have moved the device anyway. */
int wt_adapter_netns(struct wintun_adapter *a)
{
	int ns = wt_adapter_ioctl(a, TUNGETDEVNETNS, NULL);

	return ns < 0 ? -1 : ns;
}

int wt_adapter_nl_open(struct wintun_adapter *a, struct wt_nl *nl)
{
	int ns = wt_adapter_netns(a);
	int ret = wt_nl_open(nl, ns);

	if (ns >= 0)
		close(ns);
	return ret;
}

/* The device's IFF_VNET_HDR flag, from the adapter's own fd. */
static int device_vnet_hdr(struct wintun_adapter *a)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	ret = wt_adapter_ioctl(a, TUNGETIFF, &ifr);
	return ret ? ret : (ifr.ifr_flags & IFF_VNET_HDR) != 0;
}

/* Put a fresh detached queue of the device, opened in namespace @ns, under
 * the handle's fd number. */
static int reopen_handle_fd(struct wintun_adapter *a, int ns, const char *name, int flags)
{
	int fd, ret = wt_tun_open(ns, O_RDWR | O_CLOEXEC, &fd);

	if (ret)
		return ret;
	ret = wt_tun_set_iff(fd, name, flags);
	if (!ret)
		ret = wt_tun_detach(fd);
	if (!ret && dup3(fd, a->fd, O_CLOEXEC) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * TUN flags are per device, and the kernel only applies a TUNSETIFF's
 * IFF_VNET_HDR while the device has no other queue -- but the handle's own
 * detached queue always counts.  So: make the device persistent for a moment,
 * drop the handle's queue, attach the new queue alone (its flags apply), and
 * re-open the handle's queue.  A crash inside this window leaves a persistent
 * device, which WintunDeleteDriver removes.  Other threads make their system
 * calls on the handle's fd (a log line's adapter name, the namespace, a
 * steering program) under fd_lock shared; the switch holds it exclusive, as
 * a call in flight on the old queue would keep it counted past its close
 * (the kernel would then keep the device's flags: a spurious EBUSY).  The
 * fd keeps its number throughout (/dev/null stands in), so that nothing ever
 * meets a closed or reused number.
 */
static int attach_switching_vnet(struct wintun_adapter *a, int ns, const char *name, int flags,
				 int fd)
{
	bool lost = false;
	int hold, ret;

	pthread_rwlock_wrlock(&a->fd_lock);
	if (ioctl(a->fd, TUNSETPERSIST, 1) < 0) {
		ret = -errno;
		goto out;
	}
	hold = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (hold < 0 || dup3(hold, a->fd, O_CLOEXEC) < 0) {
		ret = -errno;
		if (hold >= 0)
			close(hold);
		ioctl(a->fd, TUNSETPERSIST, 0);
		goto out;
	}
	close(hold);
	ret = wt_tun_set_iff(fd, name, flags);
	lost = reopen_handle_fd(a, ns, name, flags) < 0;
	if (lost)
		ret = ret ? ret : -EIO;
	else
		ioctl(a->fd, TUNSETPERSIST, 0);
out:
	pthread_rwlock_unlock(&a->fd_lock);
	/* Logged unlocked: a log callback may call back into this handle. */
	if (lost)
		wt_err("%s: cannot re-open the adapter's own queue; the device stays persistent",
		       name);
	return ret;
}

/* @quiet: a refusal that a retry may cure is not logged. */
static int open_queue(struct wintun_adapter *a, bool vnet_hdr, int *fd, bool quiet)
{
	int flags = WT_TUN_FLAGS | (vnet_hdr ? IFF_VNET_HDR : 0);
	char name[IFNAMSIZ];
	int ns, ret, cur;

	ret = wt_adapter_name(a, name);
	if (ret)
		return ret;
	ns = wt_adapter_netns(a);
	ret = wt_tun_open(ns, O_RDWR | O_NONBLOCK | O_CLOEXEC, fd);
	if (ret) {
		wt_err("cannot open /dev/net/tun for a queue of %s: %s", name, strerror(-ret));
		goto out;
	}
	cur = device_vnet_hdr(a);
	if (cur >= 0 && cur != vnet_hdr)
		ret = attach_switching_vnet(a, ns, name, flags, *fd);
	else
		ret = wt_tun_set_iff(*fd, name, flags);
	if (!ret && device_vnet_hdr(a) != vnet_hdr) {
		if (!quiet)
			wt_err("cannot switch %s %s offload mode: another process has the "
			       "adapter open",
			       name, vnet_hdr ? "to" : "out of");
		ret = -EBUSY;
	}
	if (ret) {
		if (ret == -E2BIG && !quiet)
			wt_err("cannot attach a queue to %s: the device has the kernel's maximum "
			       "of %d queues (MAX_TAP_QUEUES; each adapter handle's detached "
			       "queue counts)",
			       name, WT_TUN_MAX_QUEUES);
		else if (ret != -EBUSY && ret != -E2BIG)
			wt_err("cannot attach a queue to %s: %s%s", name, strerror(-ret),
			       ret == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
		close(*fd);
		*fd = -1;
	}
out:
	if (ns >= 0)
		close(ns);
	return ret;
}

/*
 * The sessions of a set start from any thread, and a mode switch closes and
 * re-opens the handle's own queue (a->fd) and needs the device to have no
 * other queue: another start inside that window would use a closed (maybe
 * reused) descriptor, or attach and make the switch fail.  Queue opens are
 * rare, so one lock for all handles.
 */
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * How long after a session's end on this handle a refusal is retried.  The
 * kernel releases a queue when the last reference to its file goes, and that
 * can come after WintunEndSession returned: from a work item a second later
 * (6.1's io_uring, for registered files; the engine avoids those there), or
 * from a kernel thread's deferred fput (io_uring's ring teardown).  The
 * lingering queue makes a mode switch fail (EBUSY) or a device at the queue
 * limit refuse (E2BIG); a genuine refusal just takes this long to come.
 */
#define WT_QUEUE_LINGER_NS 2000000000u

int wt_adapter_open_queue(struct wintun_adapter *a, bool vnet_hdr, int *fd)
{
	uint64_t until = atomic_load(&a->last_end_ns) + WT_QUEUE_LINGER_NS;
	bool retry;
	int ret;

	pthread_mutex_lock(&queue_lock);
	for (;;) {
		retry = atomic_load(&a->last_end_ns) && wt_now_ns() < until;
		ret = open_queue(a, vnet_hdr, fd, retry);
		if (!retry || (ret != -EBUSY && ret != -E2BIG))
			break;
		usleep(5000);
	}
	pthread_mutex_unlock(&queue_lock);
	return ret;
}

int wt_adapter_get_mtu(struct wintun_adapter *a, uint32_t *mtu)
{
	char name[IFNAMSIZ + 8];
	struct wt_nl_link link;
	struct wt_nl nl;
	int ret;

	ret = wt_adapter_nl_open(a, &nl);
	if (ret)
		return ret;
	ret = wt_nl_link_get(&nl, wt_adapter_ifindex(a), NULL, &link);
	if (ret)
		wt_nl_log_error(&nl, ret, "read the MTU of", wt_adapter_log_name(a, name));
	else
		*mtu = link.mtu;
	wt_nl_close(&nl);
	return ret;
}

WINTUN_API void WintunGetAdapterLuid(WINTUN_ADAPTER_HANDLE Adapter, WINTUN_NET_LUID *Luid)
{
	if (!Adapter || !Luid) {
		wt_err("WintunGetAdapterLuid: %s is NULL", Adapter ? "Luid" : "adapter handle");
		wt_fail_ptr(-EINVAL);
		return;
	}
	Luid->Value = 0;
	Luid->Info.NetLuidIndex = (uint64_t)wt_adapter_ifindex(Adapter) & 0xffffff;
	Luid->Info.IfType = 53; /* IF_TYPE_PROP_VIRTUAL */
}

/* Wintun's own spelling: its example client and language bindings call this
 * name, so a port links unchanged. */
WINTUN_API void WintunGetAdapterLUID(WINTUN_ADAPTER_HANDLE Adapter, WINTUN_NET_LUID *Luid)
{
	WintunGetAdapterLuid(Adapter, Luid);
}

int wt_adapter_nl_begin(struct wintun_adapter *a, const char *fn, struct wt_adapter_nl *c)
{
	if (!a) {
		wt_err("%s: adapter handle is NULL", fn);
		return -EINVAL;
	}
	wt_adapter_log_name(a, c->name);
	c->ifindex = wt_adapter_ifindex(a);
	return wt_adapter_nl_open(a, &c->nl);
}

int wt_adapter_nl_end(struct wt_adapter_nl *c, int ret, const char *op)
{
	if (ret)
		wt_nl_log_error(&c->nl, ret, op, c->name);
	wt_nl_close(&c->nl);
	return ret;
}

_Static_assert(WINTUN_MAX_ADAPTER_NAME == IFNAMSIZ, "public name size must be IFNAMSIZ");

/* Replace @name by the adapter's Windows-style name if it has one.  Read
 * from the device each time, so a rename by another process shows. */
static void friendly_name(struct wintun_adapter *a, char name[WINTUN_MAX_ADAPTER_NAME])
{
	struct wt_nl_link link;
	struct wt_nl nl;

	if (wt_adapter_nl_open(a, &nl))
		return;
	if (wt_nl_link_get(&nl, wt_adapter_ifindex(a), NULL, &link) == 0)
		wt_alias_friendly(link.alias, name);
	wt_nl_close(&nl);
}

WINTUN_API bool WintunGetAdapterName(WINTUN_ADAPTER_HANDLE Adapter,
				     char Name[WINTUN_MAX_ADAPTER_NAME])
{
	int ret;

	if (!Adapter || !Name) {
		wt_err("WintunGetAdapterName: %s is NULL", Adapter ? "Name" : "adapter handle");
		return wt_fail_bool(-EINVAL);
	}
	ret = wt_adapter_name(Adapter, Name);
	if (ret)
		return wt_fail_bool(ret);
	friendly_name(Adapter, Name);
	return true;
}

WINTUN_API bool WintunGetAdapterGUID(WINTUN_ADAPTER_HANDLE Adapter, WINTUN_GUID *Guid)
{
	if (!Adapter || !Guid) {
		wt_err("WintunGetAdapterGUID: %s is NULL", Adapter ? "Guid" : "adapter handle");
		return wt_fail_bool(-EINVAL);
	}
	*Guid = Adapter->guid;
	return true;
}
