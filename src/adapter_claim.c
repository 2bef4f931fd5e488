/* SPDX-License-Identifier: MIT */
/*
 * The one session of a device.  Wintun refuses a second registration on an
 * adapter; on Linux a second session would attach a second TUN queue that
 * silently takes half the flows.  So the refusal must hold across handles
 * and processes, and must vanish with a holder that crashes.
 *
 * The claim is an abstract AF_UNIX socket bound to a name made of the
 * device's ifindex, created in the device's network namespace: abstract
 * names are per namespace, as ifindexes are, and the kernel does not reuse an
 * ifindex soon.  bind() fails with EADDRINUSE while a holder lives, and the
 * kernel frees the name when the holder's socket closes -- also when the
 * holder dies.  A lock file would need a writable directory and would leave
 * stale files; flock() has no per-device file to lock.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "adapter.h"
#include "log.h"
#include "netns.h"

/* sockaddr length of the abstract name "\0wintun/session/<ifindex>". */
static socklen_t claim_address(int ifindex, struct sockaddr_un *sun)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, "wintun/session/%d", ifindex);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* A socket of the device's namespace, not the caller's: two processes in
 * different namespaces may hold handles on the same device. */
static int claim_socket(struct wintun_adapter *a)
{
	int ns = wt_adapter_netns(a);
	int saved, fd, ret;

	ret = wt_netns_enter(ns, &saved);
	if (ns >= 0)
		close(ns);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ret = fd < 0 ? -errno : fd;
	wt_netns_leave(saved);
	if (ret < 0)
		wt_err("cannot open the session claim socket: %s", strerror(-ret));
	return ret;
}

/* 0 and *fd holding the device's claim, -EBUSY (logged) if another holds
 * it, or another negative errno (logged). */
static int claim_device(struct wintun_adapter *a, int *fd)
{
	int ifindex = wt_adapter_ifindex(a);
	char name[IFNAMSIZ + 8];
	struct sockaddr_un sun;
	socklen_t len = claim_address(ifindex, &sun);
	int s = claim_socket(a);
	int err;

	if (s < 0)
		return s;
	if (bind(s, (struct sockaddr *)&sun, len) == 0) {
		*fd = s;
		return 0;
	}
	err = errno;
	close(s);
	wt_adapter_log_name(a, name);
	if (err == EADDRINUSE) {
		wt_err("cannot start a session on adapter %s: it already has a session, in this or "
		       "another process (one per adapter; the claim is the socket \"@%s\")",
		       name, sun.sun_path + 1);
		return -EBUSY;
	}
	wt_err("cannot claim adapter %s for a session: bind: %s", name, strerror(err));
	return -err;
}

int wt_adapter_claim_session(struct wintun_adapter *a)
{
	char name[IFNAMSIZ + 8];
	bool expected = false;
	int ret;

	if (!atomic_compare_exchange_strong(&a->session, &expected, true)) {
		wt_err("adapter %s already has a session running on this handle",
		       wt_adapter_log_name(a, name));
		return -EBUSY;
	}
	ret = claim_device(a, &a->claim_fd);
	if (ret) {
		atomic_store(&a->session, false);
		return ret;
	}
	atomic_fetch_add(&a->extra_refs, 1);
	return 0;
}

void wt_adapter_release_session(struct wintun_adapter *a)
{
	/* Only the session's owner gets here, and only after its queue is
	 * closed, so the next claimant never meets a second queue. */
	close(a->claim_fd);
	a->claim_fd = -1;
	atomic_store(&a->session, false);
	wt_adapter_free(a); /* the session's reference */
}
