/* SPDX-License-Identifier: MIT */
/*
 * Kernel feature probing: the names, what a session reports it runs with,
 * and the fallbacks WINTUN_DISABLE_FEATURES forces on a kernel that has the
 * features (Criterion forks each test, and the library probes once per
 * process, so each test sets the variable before its first session).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine_fixture.h"
#include "helpers.h"
#include "netutil.h"
#include "src/engine_internal.h"
#include "wintun.h"

static uint64_t session_features(WINTUN_SESSION_HANDLE s)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	cr_assert(WintunGetSessionStatistics(s, &st));
	return st.Features;
}

/* What the library's probe should find: does a TUN file take RWF_NOWAIT? */
static bool tun_takes_nowait(void)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
	char byte;
	struct iovec iov = { &byte, 1 };
	bool ok;

	cr_assert_geq(fd, 0);
	ok = preadv2(fd, &iov, 1, -1, RWF_NOWAIT) >= 0 || errno != EOPNOTSUPP;
	close(fd);
	return ok;
}

static bool is_echo4_reply(const uint8_t *p, uint32_t len)
{
	return len >= 28 && p[0] == 0x45 && p[9] == IPPROTO_ICMP && p[20] == 0;
}

/* Echo requests out through the Receive ring, replies back through the Send
 * ring: both directions of the engine, @n round trips. */
static void round_trips(WINTUN_SESSION_HANDLE s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t req[64], *p;
		unsigned len = nu_echo4(req, "10.77.0.2", "10.77.0.1", 7, (uint16_t)i);
		uint32_t size;
		bool replied = false;

		p = WintunAllocateSendPacket(s, len);
		cr_assert_not_null(p, "allocate: %s", strerror(errno));
		memcpy(p, req, len);
		WintunSendPacket(s, p);
		while (!replied) {
			cr_assert(WintunWaitForPacket(s, 10000), "no reply %u: %s", i, strerror(errno));
			while (!replied && (p = WintunReceivePacket(s, &size))) {
				replied = is_echo4_reply(p, size) && p[27] == (uint8_t)i;
				WintunReleaseReceivePacket(s, p);
			}
		}
	}
}

Test(features, names_are_unique_and_round_trip)
{
	for (unsigned i = 0; i < 10; i++) {
		const char *name = WintunGetFeatureName(1ull << i);

		cr_assert_not_null(name, "bit %u has no name", i);
		for (unsigned j = 0; j < i; j++)
			cr_assert_str_neq(name, WintunGetFeatureName(1ull << j));
	}
	cr_assert_str_eq(WintunGetFeatureName(WINTUN_FEATURE_NOWAIT_READS), "nowait-reads");
}

Test(features, bad_feature_bits_are_refused)
{
	wt_test_log_capture();
	errno = 0;
	cr_assert_null(WintunGetFeatureName(0));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(WintunGetFeatureName(WINTUN_FEATURE_NOWAIT_READS | WINTUN_FEATURE_FIXED_FILES));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(WintunGetFeatureName(1ull << 63));
	cr_assert(wt_test_log_contains("is not one WINTUN_FEATURE_* bit"));
}

Test(features, a_session_reports_what_it_runs_with)
{
	WINTUN_ADAPTER_HANDLE a;
	WINTUN_SESSION_HANDLE s;
	uint64_t f;

	unsetenv("WINTUN_DISABLE_FEATURES");
	wt_test_log_capture();
	a = ef_adapter("feat0", "10.77.0.1", true);
	s = WintunStartSession(a, 0x20000);
	cr_assert_not_null(s, "start: %s", strerror(errno));
	f = session_features(s);
	/* The log's feature line names every feature the statistics report. */
	for (unsigned i = 0; i < 64; i++)
		if (f & (1ull << i))
			cr_assert(wt_test_log_contains(WintunGetFeatureName(1ull << i)),
				  "%s not in the log", WintunGetFeatureName(1ull << i));
	cr_assert(f & (WINTUN_FEATURE_DEFER_TASKRUN | WINTUN_FEATURE_COOP_TASKRUN),
		  "the minimum kernel (6.1) has DEFER_TASKRUN");
	cr_assert_eq(!!(f & WINTUN_FEATURE_NOWAIT_READS), tun_takes_nowait(),
		     "the probe disagrees with preadv2");
	cr_assert_eq(f & WINTUN_FEATURE_RX_MULTISHOT, 0, "multishot was not asked for");
	round_trips(s, 20);
	WintunEndSession(s);
	WintunCloseAdapter(a);
}

Test(features, reads_without_nowait_move_packets_both_ways)
{
	WINTUN_ADAPTER_HANDLE a;
	WINTUN_SESSION_HANDLE s;

	setenv("WINTUN_DISABLE_FEATURES", "nowait-reads,fixed-buffers", 1);
	wt_test_log_capture();
	a = ef_adapter("feat0", "10.77.0.1", true);
	s = WintunStartSession(a, 0x20000);
	cr_assert_not_null(s, "start: %s", strerror(errno));
	cr_assert_eq(session_features(s) & (WINTUN_FEATURE_NOWAIT_READS | WINTUN_FEATURE_FIXED_BUFFERS),
		     0);
	cr_assert(wt_test_log_contains("read(2) from the engine thread"));
	round_trips(s, 200);
	WintunEndSession(s);
	WintunCloseAdapter(a);
}

Test(features, multishot_without_the_kernel_feature_is_refused)
{
	WINTUN_SESSION_OPTIONS o = { .Size = sizeof(o), .Flags = WINTUN_SESSION_RX_MULTISHOT };
	WINTUN_ADAPTER_HANDLE a;
	WINTUN_SESSION_HANDLE s;

	setenv("WINTUN_DISABLE_FEATURES", "read-multishot", 1);
	wt_test_log_capture();
	a = ef_adapter("feat0", "10.77.0.1", true);
	errno = 0;
	cr_assert_null(WintunStartSessionEx(a, &o));
	cr_assert_eq(errno, EOPNOTSUPP, "errno %d", errno);
	cr_assert(wt_test_log_contains("needs IORING_OP_READ_MULTISHOT"));
	/* The refusal leaves the adapter usable. */
	s = WintunStartSession(a, 0x20000);
	cr_assert_not_null(s, "start after the refusal: %s", strerror(errno));
	round_trips(s, 5);
	WintunEndSession(s);
	WintunCloseAdapter(a);
}

Test(features, unknown_names_in_the_variable_are_logged)
{
	WINTUN_ADAPTER_HANDLE a;
	WINTUN_SESSION_HANDLE s;

	setenv("WINTUN_DISABLE_FEATURES", "no-such-thing", 1);
	wt_test_log_capture();
	a = ef_adapter("feat0", "10.77.0.1", true);
	s = WintunStartSession(a, 0x20000);
	cr_assert_not_null(s);
	cr_assert(wt_test_log_contains("unknown feature 'no-such-thing'"));
	WintunEndSession(s);
	WintunCloseAdapter(a);
}

Test(features, a_kernel_below_the_minimum_is_refused)
{
	WINTUN_ADAPTER_HANDLE a;
	WINTUN_SESSION_HANDLE s;

	unsetenv("WINTUN_DISABLE_FEATURES");
	wt_test_log_capture();
	a = ef_adapter("feat0", "10.77.0.1", true);
	/* As a 5.11 kernel: io-wq workers are not threads of the process. */
	atomic_store(&wt_uring_hide_feats, IORING_FEAT_NATIVE_WORKERS);
	errno = 0;
	cr_assert_null(WintunStartSession(a, 0x20000));
	cr_assert_eq(errno, EOPNOTSUPP, "errno %d", errno);
	cr_assert(wt_test_log_contains("IORING_FEAT_NATIVE_WORKERS (5.12)"));
	cr_assert(wt_test_log_contains("the minimum is Linux 6.1"));
	/* Nothing was left half-started: the adapter takes a session. */
	atomic_store(&wt_uring_hide_feats, 0);
	s = WintunStartSession(a, 0x20000);
	cr_assert_not_null(s, "start: %s", strerror(errno));
	round_trips(s, 3);
	WintunEndSession(s);
	WintunCloseAdapter(a);
}
