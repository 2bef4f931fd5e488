/* SPDX-License-Identifier: MIT */
/*
 * The adapter object: a handle on a TUN device of this library.  It holds one
 * TUN fd detached from the data path (TUNSETQUEUE IFF_DETACH_QUEUE): the fd
 * keeps the non-persistent device alive and lets the library find the device
 * wherever it is (TUNGETIFF, TUNGETDEVNETNS) but never receives a packet.
 * The engine opens queues of its own with wt_adapter_open_queue.
 */
#ifndef WINTUN_ADAPTER_H
#define WINTUN_ADAPTER_H

#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "netlink.h"
#include "wintun.h"

/* CPUs whose engines a session set counts (glibc's CPU_SETSIZE). */
#define WT_SET_CPUS 1024

struct wintun_adapter {
	int fd;              /* detached TUN queue: keeps the device alive */
	/* Held shared around each system call on fd, exclusive while a mode
	 * switch replaces that queue (adapter_handle.c): a call in flight holds
	 * a reference to the old queue, and the kernel counts the queue, and
	 * keeps the device's flags, until that reference goes. */
	pthread_rwlock_t fd_lock;
	_Atomic int ifindex; /* in the device's namespace; changes only on a netns move */
	bool created;        /* delete the device on close */
	atomic_uint sessions; /* sessions running through this handle (the set) */
	int claim_fd;        /* the set's device claim (adapter_claim.c), or -1 */
	bool set_offload;    /* offload mode of the set (TUN flags are per device) */
	uint16_t set_cpus[WT_SET_CPUS]; /* engines of the set's sessions per CPU */
	atomic_int extra_refs; /* sessions holding the handle beyond the user's close */
	_Atomic uint64_t last_end_ns; /* wt_now_ns() when a session of this handle ended */
	WINTUN_GUID guid;
	char tunnel_type[WINTUN_MAX_TUNNEL_TYPE + 1];
};

/*
 * Open a NEW queue fd attached to the adapter's device: /dev/net/tun opened
 * O_RDWR | O_NONBLOCK | O_CLOEXEC in the device's namespace, TUNSETIFF with
 * IFF_TUN | IFF_MULTI_QUEUE (+ IFF_VNET_HDR if @vnet_hdr), packet information
 * on.  Note: TUN flags are per device, so @vnet_hdr switches IFF_VNET_HDR for
 * every queue of the device.  Thread-safe (serialised: a mode switch re-opens
 * the handle's own fd).  Returns 0 and *fd, or a negative errno (logged).
 * Within a moment of a session's end on this handle, a refusal that the
 * ended session's queue can explain (EBUSY for a switch, E2BIG) is retried:
 * the kernel may release that queue after WintunEndSession returned.
 */
int wt_adapter_open_queue(struct wintun_adapter *a, bool vnet_hdr, int *fd);

/* ioctl(2) on the handle's own queue, under fd_lock held shared: never on
 * the queue a mode switch is replacing.  Every system call on fd outside
 * the switch goes through here.  Returns ioctl's result or a negative errno. */
int wt_adapter_ioctl(struct wintun_adapter *a, unsigned long req, void *arg);

/* Interface index in the device's current namespace. */
int wt_adapter_ifindex(const struct wintun_adapter *a);

/* Current name (follows renames).  Returns 0 or a negative errno (logged). */
int wt_adapter_name(struct wintun_adapter *a, char name[IFNAMSIZ]);

/* Current MTU, read over netlink in the device's namespace.  0 or -errno. */
int wt_adapter_get_mtu(struct wintun_adapter *a, uint32_t *mtu);

/*
 * The one session set of a device: 0, or -EBUSY (logged) if a session
 * already runs on the device, through this handle or any other, in this
 * process or another.  With @extra (WINTUN_SESSION_EXTRA_QUEUE), a session
 * running through this same handle is no obstacle: the new one joins its set,
 * in the set's offload mode @offload (else -EINVAL, logged).  The claim goes
 * when the set's last session calls wt_adapter_release_session, or with the
 * holder's death.  Each session holds a handle reference, so
 * WintunCloseAdapter under a running session does not free the handle under
 * it.  Thread-safe.
 */
int wt_adapter_claim_queue(struct wintun_adapter *a, bool extra, bool offload);
int wt_adapter_claim_session(struct wintun_adapter *a); /* plain: no @extra */
void wt_adapter_release_session(struct wintun_adapter *a);

/* For an extra queue (after its claim): the allowed CPU that the fewest
 * engines of the set run on (ties: the highest), counted for it already
 * (uncount it if the start fails); -1 for the set's first session or when
 * the affinity is unreadable (the engine then picks). */
int wt_adapter_pick_cpu(struct wintun_adapter *a);

/* Count (@delta 1) or uncount (-1) an engine of the set on @cpu. */
void wt_adapter_count_cpu(struct wintun_adapter *a, int cpu, int delta);

/* ---- for the adapter_*.c files ---- */

/* A new fd of the device's network namespace, or -1 (the caller's) when the
 * kernel will not say. */
int wt_adapter_netns(struct wintun_adapter *a);

/* A netlink socket in the device's current namespace (TUNGETDEVNETNS on the
 * adapter's fd).  Returns 0 or a negative errno (logged). */
int wt_adapter_nl_open(struct wintun_adapter *a, struct wt_nl *nl);

/* A handle on the existing device @name of the calling thread's namespace
 * (or on the adapter of that Windows-style name), checked to be a Wintun
 * adapter.  Returns 0 or -ENOENT, -ENOTSUP... (logged). */
int wt_adapter_open(const char *name, struct wintun_adapter **out);

/* Drop a reference: close the fd and free at the last one (the user's handle
 * and each running session hold one); no device deletion. */
void wt_adapter_free(struct wintun_adapter *a);

/* A configuration call in progress: netlink socket in the device's namespace,
 * the device's ifindex and its name for log lines. */
struct wt_adapter_nl {
	struct wt_nl nl;
	int ifindex;
	char name[IFNAMSIZ + 8];
};

/* Start a configuration call of public function @fn: -EINVAL (logged) for a
 * NULL @a, else open the socket.  0 or a negative errno (logged). */
int wt_adapter_nl_begin(struct wintun_adapter *a, const char *fn, struct wt_adapter_nl *c);

/* Finish it: log "cannot <op> <name>: <error>" if @ret < 0, close the socket,
 * return @ret. */
int wt_adapter_nl_end(struct wt_adapter_nl *c, int ret, const char *op);

/* The name for log lines: the current name, or "#<ifindex>" if unreadable. */
const char *wt_adapter_log_name(struct wintun_adapter *a, char buf[IFNAMSIZ + 8]);

#endif
