/* SPDX-License-Identifier: MIT */
/*
 * Kernel feature probes that do not need an io_uring, and the feature names.
 *
 * TUN reads with RWF_NOWAIT (Linux 6.4 gave TUN files FMODE_NOWAIT): before
 * that the kernel refuses the flag with EOPNOTSUPP, on preadv2 and io_uring
 * alike, and an io_uring READ without it parks on poll even on an O_NONBLOCK
 * fd.  The probe asks a TUN file that is attached to no device: the flag is
 * checked before the read, so EOPNOTSUPP means unsupported, and anything
 * else (EBADFD: no device) means supported.  No packet can be taken.
 */
#define _GNU_SOURCE
#include "kernel_features.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"

static const struct {
	uint64_t bit;
	const char *name;
} names[] = {
	{ WINTUN_FEATURE_SINGLE_ISSUER, "single-issuer" },
	{ WINTUN_FEATURE_DEFER_TASKRUN, "defer-taskrun" },
	{ WINTUN_FEATURE_COOP_TASKRUN, "coop-taskrun" },
	{ WINTUN_FEATURE_TASKRUN_FLAG, "taskrun-flag" },
	{ WINTUN_FEATURE_RING_FD, "registered-ring-fd" },
	{ WINTUN_FEATURE_FIXED_FILES, "fixed-files" },
	{ WINTUN_FEATURE_FIXED_BUFFERS, "fixed-buffers" },
	{ WINTUN_FEATURE_NOWAIT_READS, "nowait-reads" },
	{ WINTUN_FEATURE_READ_MULTISHOT, "read-multishot" },
	{ WINTUN_FEATURE_RX_MULTISHOT, "rx-multishot" },
	{ WINTUN_FEATURE_RX_COMPACT, "rx-compact" },
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static uint64_t process_features, disabled;

static uint64_t bit_of(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && !strncmp(names[i].name, name, len))
			return names[i].bit;
	return 0;
}

/* WINTUN_DISABLE_FEATURES=nowait-reads,fixed-buffers,... */
static void read_disabled(void)
{
	const char *s = getenv("WINTUN_DISABLE_FEATURES");

	while (s && *s) {
		size_t len = strcspn(s, ", ");
		uint64_t bit = bit_of(s, len);

		if (bit)
			disabled |= bit;
		else if (len)
			wt_warn("WINTUN_DISABLE_FEATURES: unknown feature '%.*s'", (int)len, s);
		s += len;
		s += strspn(s, ", ");
	}
	if (disabled) {
		char buf[256];

		wt_features_describe(disabled, buf, sizeof(buf));
		wt_warn("WINTUN_DISABLE_FEATURES: the engine will not use: %s", buf);
	}
}

static bool probe_nowait_reads(void)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	char byte;
	struct iovec iov = { &byte, 1 };
	bool ok;

	if (fd < 0)
		return true; /* no TUN here: sessions fail earlier, with a clearer error */
	ok = !(preadv2(fd, &iov, 1, -1, RWF_NOWAIT) < 0 && errno == EOPNOTSUPP);
	close(fd);
	return ok;
}

static void probe(void)
{
	read_disabled();
	if (probe_nowait_reads())
		process_features |= WINTUN_FEATURE_NOWAIT_READS;
	/* Needs nothing from the kernel: listed so that it can be turned off. */
	process_features |= WINTUN_FEATURE_RX_COMPACT;
	process_features &= ~disabled;
}

uint64_t wt_features_process(void)
{
	pthread_once(&once, probe);
	return process_features;
}

bool wt_feature_allowed(uint64_t feature)
{
	pthread_once(&once, probe);
	return !(disabled & feature);
}

void wt_features_describe(uint64_t features, char *buf, size_t len)
{
	size_t at = 0;

	if (!len)
		return;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(features & names[i].bit))
			continue;
		n = snprintf(buf + at, len - at, "%s%s", at ? " " : "", names[i].name);
		if (n < 0 || (size_t)n >= len - at)
			return;
		at += (size_t)n;
	}
}

WINTUN_API const char *WintunGetFeatureName(uint64_t Feature)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].bit == Feature)
			return names[i].name;
	wt_err("WintunGetFeatureName: 0x%llx is not one WINTUN_FEATURE_* bit",
	       (unsigned long long)Feature);
	errno = EINVAL;
	return NULL;
}
