/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "engine_fixture.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "netutil.h"

int64_t ef_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_sysctl(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(value, f);
	fclose(f);
}

WINTUN_ADAPTER_HANDLE ef_adapter(const char *name, const char *addr, bool up)
{
	static bool in_netns;
	WINTUN_ADAPTER_HANDLE a;
	char cidr[32];

	if (!in_netns) {
		wt_test_enter_netns();
		write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
		in_netns = true;
	}
	a = WintunCreateAdapter(name, "Test", NULL);
	cr_assert_not_null(a, "create %s: %s", name, strerror(errno));
	snprintf(cidr, sizeof(cidr), "%s/24", addr);
	cr_assert(WintunAddAdapterAddress(a, cidr), "address %s: %s", cidr, strerror(errno));
	if (up)
		cr_assert(WintunSetAdapterUp(a, true), "up: %s", strerror(errno));
	return a;
}

void ef_inject(WINTUN_SESSION_HANDLE s, const uint8_t *pkt, unsigned len)
{
	int64_t give_up = ef_now_ms() + 10000;
	uint8_t *p;

	while (!(p = WintunAllocateSendPacket(s, len))) {
		cr_assert_eq(errno, ENOBUFS, "allocate: %s", strerror(errno));
		cr_assert_lt(ef_now_ms(), give_up, "the receive ring stayed full for 10 s");
		sched_yield();
	}
	memcpy(p, pkt, len);
	WintunSendPacket(s, p);
}

void ef_inject_udp(WINTUN_SESSION_HANDLE s, const char *src, const char *dst, uint16_t port,
		   uint32_t stream, uint32_t seq)
{
	uint8_t payload[64], pkt[128];

	wt_test_payload_fill(payload, sizeof(payload), stream, seq);
	ef_inject(s, pkt, nu_udp4(pkt, src, dst, 5555, port, payload, sizeof(payload)));
}

int ef_udp_bound(const char *addr, uint16_t port)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(port) };
	int rcvbuf = 4 << 20, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	inet_pton(AF_INET, addr, &at.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	cr_assert_eq(bind(fd, (struct sockaddr *)&at, sizeof(at)), 0, "bind %s:%u: %s", addr,
		     port, strerror(errno));
	return fd;
}

void ef_send_udp(int fd, const char *dst, uint16_t port, uint32_t len, uint32_t stream,
		 uint32_t seq)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	uint8_t buf[1500];

	cr_assert_leq(len, sizeof(buf));
	inet_pton(AF_INET, dst, &to.sin_addr);
	wt_test_payload_fill(buf, len, stream, seq);
	/* A drop, not a failure: ENOBUFS, the device's queue is full (the test
	 * floods); ENETUNREACH, its link is down (no route). */
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		cr_assert(errno == ENOBUFS || errno == EAGAIN || errno == ENETUNREACH,
			  "sendto: %s", strerror(errno));
}

bool ef_recv_udp(int fd, uint32_t stream, int ms, uint32_t *seq)
{
	int64_t deadline = ef_now_ms() + ms;
	uint8_t buf[2048];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - ef_now_ms();
		uint32_t st, sq;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 && wt_test_payload_check(buf, (uint32_t)n, &st, &sq) && st == stream) {
			*seq = sq;
			return true;
		}
	}
}

static bool is_udp4_to(const uint8_t *p, uint32_t len, uint16_t port)
{
	return len >= 28 && p[0] == 0x45 && p[9] == IPPROTO_UDP && (p[22] << 8 | p[23]) == port;
}

bool ef_ring_recv_udp(WINTUN_SESSION_HANDLE s, uint16_t port, uint32_t stream, int ms,
		      uint32_t *seq)
{
	int64_t deadline = ef_now_ms() + ms;

	for (;;) {
		uint32_t len, st, sq;
		uint8_t *p = WintunReceivePacket(s, &len);
		bool match;

		if (!p) {
			int64_t left = deadline - ef_now_ms();

			cr_assert_eq(errno, EAGAIN, "receive: %s", strerror(errno));
			if (left <= 0)
				return false;
			WintunWaitForPacket(s, (uint32_t)left);
			continue;
		}
		match = is_udp4_to(p, len, port) &&
			wt_test_payload_check(p + 28, len - 28, &st, &sq) && st == stream;
		WintunReleaseReceivePacket(s, p);
		if (match) {
			*seq = sq;
			return true;
		}
	}
}

uint64_t ef_voluntary_switches(int tid)
{
	char path[64], line[128];
	unsigned long long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %llu", &n) == 1)
			break;
	fclose(f);
	return n;
}
