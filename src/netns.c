/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* thread-self, not self: setns changes only the calling thread. */
#define WT_THREAD_NETNS "/proc/thread-self/ns/net"

static bool same_ns(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

int wt_netns_enter(int ns_fd, int *saved)
{
	int cur, err;

	*saved = -1;
	if (ns_fd < 0)
		return 0;
	cur = open(WT_THREAD_NETNS, O_RDONLY | O_CLOEXEC);
	if (cur < 0) {
		err = errno;
		wt_err("cannot open %s: %s", WT_THREAD_NETNS, strerror(err));
		return -err;
	}
	/* The common case needs no setns, hence no CAP_SYS_ADMIN. */
	if (same_ns(cur, ns_fd)) {
		close(cur);
		return 0;
	}
	if (setns(ns_fd, CLONE_NEWNET)) {
		err = errno;
		wt_err("cannot enter the adapter's network namespace: %s%s", strerror(err),
		       err == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		close(cur);
		return -err;
	}
	*saved = cur;
	return 0;
}

void wt_netns_leave(int saved)
{
	if (saved < 0)
		return;
	/* Cannot fail for a namespace we were in a moment ago, short of a
	 * kernel bug; if it does, say so loudly: the thread is now elsewhere. */
	if (setns(saved, CLONE_NEWNET))
		wt_err("cannot return to the original network namespace: %s", strerror(errno));
	close(saved);
}
