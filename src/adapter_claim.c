/* SPDX-License-Identifier: MIT */
/*
 * The one session (set) of a device.  Wintun refuses a second registration on an
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
 *
 * Multi-queue: sessions started with WINTUN_SESSION_EXTRA_QUEUE through the
 * handle that holds the claim join its set; the claim goes with the set's
 * last session, whichever order they end in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
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

/* Claims and releases of all handles are rare: one lock keeps a set's count,
 * its claim and its CPU counts consistent without a lock per handle. */
static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;

/* Under set_lock: may a session with @extra and @offload join the handle's
 * running set?  0 or -EBUSY / -EINVAL (logged). */
static int join_set(struct wintun_adapter *a, bool extra, bool offload)
{
	char name[IFNAMSIZ + 8];

	if (!extra) {
		wt_err("adapter %s already has a session running on this handle (an extra "
		       "queue needs WINTUN_SESSION_EXTRA_QUEUE)",
		       wt_adapter_log_name(a, name));
		return -EBUSY;
	}
	if (offload != a->set_offload) {
		wt_err("adapter %s: an extra queue must be in the offload mode of the running "
		       "sessions (%s): TUN flags are per device",
		       wt_adapter_log_name(a, name), a->set_offload ? "on" : "off");
		return -EINVAL;
	}
	return 0;
}

int wt_adapter_claim_queue(struct wintun_adapter *a, bool extra, bool offload)
{
	int ret = 0;

	pthread_mutex_lock(&set_lock);
	if (atomic_load(&a->sessions))
		ret = join_set(a, extra, offload);
	else
		ret = claim_device(a, &a->claim_fd);
	if (!ret) {
		if (!atomic_fetch_add(&a->sessions, 1))
			a->set_offload = offload;
		atomic_fetch_add(&a->extra_refs, 1);
	}
	pthread_mutex_unlock(&set_lock);
	return ret;
}

int wt_adapter_claim_session(struct wintun_adapter *a)
{
	return wt_adapter_claim_queue(a, false, false);
}

void wt_adapter_release_session(struct wintun_adapter *a)
{
	pthread_mutex_lock(&set_lock);
	/* Only a session's owner gets here, and only after its queue is
	 * closed, so the next claimant never meets a second queue. */
	if (atomic_fetch_sub(&a->sessions, 1) == 1) {
		close(a->claim_fd);
		a->claim_fd = -1;
	}
	pthread_mutex_unlock(&set_lock);
	wt_adapter_free(a); /* the session's reference */
}

/* The allowed CPU with the fewest of the set's engines; ties: the highest
 * (the first CPU is where most programs' main threads run). */
static int least_used_cpu(const struct wintun_adapter *a, const cpu_set_t *allowed)
{
	int best = -1;

	for (int cpu = WT_SET_CPUS - 1; cpu >= 0; cpu--)
		if (CPU_ISSET(cpu, allowed) && (best < 0 || a->set_cpus[cpu] < a->set_cpus[best]))
			best = cpu;
	return best;
}

int wt_adapter_pick_cpu(struct wintun_adapter *a)
{
	cpu_set_t allowed;
	int cpu = -1;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return -1;
	pthread_mutex_lock(&set_lock);
	/* The set's first engine is placed by the engine's own spread over
	 * sessions of every adapter; the others avoid the set's CPUs. */
	if (atomic_load(&a->sessions) > 1)
		cpu = least_used_cpu(a, &allowed);
	/* Counted at once, not once the engine runs: starts of the set on
	 * other threads meanwhile must see this CPU taken. */
	if (cpu >= 0)
		a->set_cpus[cpu]++;
	pthread_mutex_unlock(&set_lock);
	return cpu;
}

void wt_adapter_count_cpu(struct wintun_adapter *a, int cpu, int delta)
{
	if (cpu < 0 || cpu >= WT_SET_CPUS)
		return;
	pthread_mutex_lock(&set_lock);
	a->set_cpus[cpu] = (uint16_t)(a->set_cpus[cpu] + delta);
	pthread_mutex_unlock(&set_lock);
}
