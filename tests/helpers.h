/* SPDX-License-Identifier: MIT */
/* Test helpers shared by the Criterion suites. */
#ifndef WINTUN_TEST_HELPERS_H
#define WINTUN_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Move the calling test process into a fresh network namespace (Criterion
 * runs each test in its own process, so the namespace goes with it) and bring
 * its loopback up.  Without CAP_NET_ADMIN the test is skipped with a message,
 * or fails when WINTUN_REQUIRE_NETNS=1.
 */
void wt_test_enter_netns(void);

/* Built with ThreadSanitizer (gcc or clang)?  Microsecond timing tests skip
 * there: it runs the code 5-15x slower than the gaps they rely on. */
static inline bool wt_test_built_with_tsan(void)
{
#if defined(__SANITIZE_THREAD__)
	return true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
	return true;
#endif
#endif
	return false;
}

/* Whether the kernel has IORING_OP_READ_MULTISHOT (Linux 6.7), which the
 * multishot RX variant needs: tests of that variant skip without it. */
bool wt_test_kernel_has_read_multishot(void);

/* Capture the library's log in memory (installs a logger). */
void wt_test_log_capture(void);
/* True if a captured log line contains @needle. */
bool wt_test_log_contains(const char *needle);
/* Forget the captured lines. */
void wt_test_log_clear(void);

/* A deterministic test payload: @seq and @stream are embedded and the rest is
 * a function of them; wt_test_payload_check verifies a received copy. */
void wt_test_payload_fill(uint8_t *buf, uint32_t len, uint32_t stream, uint32_t seq);
bool wt_test_payload_check(const uint8_t *buf, uint32_t len, uint32_t *stream, uint32_t *seq);

#endif
