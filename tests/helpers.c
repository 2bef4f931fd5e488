/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "helpers.h"

#include <liburing.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wintun.h"

static void loopback_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	strcpy(ifr.ifr_name, "lo");
	cr_assert(ioctl(fd, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS lo: %s", strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	cr_assert(ioctl(fd, SIOCSIFFLAGS, &ifr) == 0, "SIOCSIFFLAGS lo: %s", strerror(errno));
	close(fd);
}

void wt_test_enter_netns(void)
{
	const char *require = getenv("WINTUN_REQUIRE_NETNS");
	int err;

	if (unshare(CLONE_NEWNET) == 0) {
		loopback_up();
		return;
	}
	err = errno;
	if (require && strcmp(require, "1") == 0)
		cr_assert_fail("WINTUN_REQUIRE_NETNS=1 but no private network namespace: "
			 "unshare(CLONE_NEWNET): %s",
			 strerror(err));
	cr_skip_test("needs CAP_NET_ADMIN to create a private network namespace "
		     "(unshare(CLONE_NEWNET): %s); run as root",
		     strerror(err));
}

#define LOG_LINES 256
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_lines[LOG_LINES];
static unsigned log_count;

static void capture(WINTUN_LOGGER_LEVEL level, uint64_t ts, const char *msg)
{
	(void)level;
	(void)ts;
	pthread_mutex_lock(&log_lock);
	if (log_count < LOG_LINES)
		log_lines[log_count++] = strdup(msg);
	pthread_mutex_unlock(&log_lock);
	if (getenv("WINTUN_TEST_VERBOSE"))
		fprintf(stderr, "wintun: %s\n", msg);
}

void wt_test_log_capture(void)
{
	WintunSetLogger(capture);
}

bool wt_test_log_contains(const char *needle)
{
	bool found = false;

	pthread_mutex_lock(&log_lock);
	for (unsigned i = 0; i < log_count && !found; i++)
		found = log_lines[i] && strstr(log_lines[i], needle);
	pthread_mutex_unlock(&log_lock);
	return found;
}

void wt_test_log_clear(void)
{
	pthread_mutex_lock(&log_lock);
	for (unsigned i = 0; i < log_count; i++)
		free(log_lines[i]);
	log_count = 0;
	pthread_mutex_unlock(&log_lock);
}

/* Payload: stream (4), seq (4), len (4), then bytes from a small xorshift
 * seeded by all three, so any bit flip, truncation or swap is detected. */
static uint8_t next_byte(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return (uint8_t)*x;
}

static uint32_t seed_of(uint32_t stream, uint32_t seq, uint32_t len)
{
	return (stream * 2654435761u) ^ (seq * 40503u) ^ (len << 7) ^ 0x9e3779b9u;
}

void wt_test_payload_fill(uint8_t *buf, uint32_t len, uint32_t stream, uint32_t seq)
{
	uint32_t hdr[3] = { stream, seq, len };
	uint32_t x = seed_of(stream, seq, len);

	for (uint32_t i = 0; i < len; i++)
		buf[i] = i < sizeof(hdr) ? ((uint8_t *)hdr)[i] : next_byte(&x);
}

bool wt_test_payload_check(const uint8_t *buf, uint32_t len, uint32_t *stream, uint32_t *seq)
{
	uint32_t hdr[3] = { 0, 0, 0 };
	uint32_t x;

	memcpy(hdr, buf, len < sizeof(hdr) ? len : sizeof(hdr));
	if (len >= sizeof(hdr) && hdr[2] != len)
		return false;
	x = seed_of(hdr[0], hdr[1], len);
	for (uint32_t i = sizeof(hdr); i < len; i++)
		if (buf[i] != next_byte(&x))
			return false;
	*stream = hdr[0];
	*seq = hdr[1];
	return true;
}

bool wt_test_kernel_has_read_multishot(void)
{
	struct io_uring_probe *probe = io_uring_get_probe();
	bool ok = probe && io_uring_opcode_supported(probe, 49 /* IORING_OP_READ_MULTISHOT */);

	if (probe)
		io_uring_free_probe(probe);
	return ok;
}
