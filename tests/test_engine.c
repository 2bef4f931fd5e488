/* SPDX-License-Identifier: MIT */
/* The engine with real TUN devices, each test in a private network namespace. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "netutil.h"
#include "src/atomic.h"
#include "src/session_start.h"
#include "wintun.h"

#define IFNAME "wte0"
#define LOCAL "10.9.0.1"  /* the kernel's side */
#define PEER "10.9.0.2"   /* the client's side, behind the rings */
#define N_UDP 100000u

static struct wintun_session *s;

static struct wintun_session *start(uint32_t capacity)
{
	struct wt_start_opts o = { .capacity = capacity, .cpu = -1, .numa_node = -1,
				   .spin_us = -1, .name = IFNAME };
	int fd;

	wt_test_enter_netns();
	wt_test_log_capture();
	fd = nu_tun_open(IFNAME);
	nu_if_addr4_up(IFNAME, LOCAL, 24);
	cr_assert_eq(wt_session_start(fd, &o, &s), 0);
	return s;
}

static void end(void)
{
	wt_session_end(s);
}

/* Next packet from the Send ring, waiting up to 10 s (a guard, not a
 * deadline the test relies on). */
static uint8_t *next_packet(uint32_t *len)
{
	for (int i = 0; i < 100; i++) {
		uint8_t *p = WintunReceivePacket(s, len);

		if (p)
			return p;
		cr_assert_eq(errno, EAGAIN, "receive: %s", strerror(errno));
		WintunWaitForPacket(s, 100);
	}
	cr_assert_fail("no packet within 10 s");
	return NULL;
}

static void inject(const uint8_t *pkt, unsigned len)
{
	uint8_t *p;

	while (!(p = WintunAllocateSendPacket(s, len))) {
		cr_assert_eq(errno, ENOBUFS, "allocate: %s", strerror(errno));
		sched_yield();
	}
	memcpy(p, pkt, len);
	WintunSendPacket(s, p);
}

static bool is_udp4_to(const uint8_t *p, uint32_t len, uint16_t port)
{
	return len >= 28 && p[0] == 0x45 && p[9] == IPPROTO_UDP && (p[22] << 8 | p[23]) == port;
}

Test(engine, icmp_echo_v4, .timeout = 60)
{
	uint8_t req[64];
	uint32_t len;

	start(0x100000);
	inject(req, nu_echo4(req, PEER, LOCAL, 77, 1));
	for (;;) {
		uint8_t *p = next_packet(&len);
		bool reply = len >= 28 && p[0] == 0x45 && p[9] == IPPROTO_ICMP && p[20] == 0 &&
			     (p[24] << 8 | p[25]) == 77;

		WintunReleaseReceivePacket(s, p);
		if (reply)
			break;
	}
	cr_expect_geq(wt_stat_get(&s->stats.tx.packets), 1);
	end();
}

Test(engine, icmp_echo_v6, .timeout = 60)
{
	uint8_t req[64];
	uint32_t len;
	FILE *f;

	wt_test_enter_netns();
	/* No duplicate address detection: the address must answer at once. */
	f = fopen("/proc/sys/net/ipv6/conf/default/accept_dad", "w");
	cr_assert_not_null(f);
	fputs("0", f);
	fclose(f);
	start(0x100000);
	nu_if_addr6(IFNAME, "fd00:9::1", 64);
	inject(req, nu_echo6(req, "fd00:9::2", "fd00:9::1", 78, 1));
	for (;;) {
		uint8_t *p = next_packet(&len);
		bool reply = len >= 48 && p[0] >> 4 == 6 && p[6] == IPPROTO_ICMPV6 && p[40] == 129 &&
			     (p[44] << 8 | p[45]) == 78;

		WintunReleaseReceivePacket(s, p);
		if (reply)
			break;
	}
	end();
}

/* ---- UDP, kernel -> ring --------------------------------------------- */

static uint32_t udp_size(uint32_t seq)
{
	return 12 + (seq * 7919u) % (1500 - 28 - 12 + 1); /* 12..1472 bytes of payload */
}

struct pacer {
	atomic_uint done;  /* packets the consumer has seen */
	atomic_bool stop;
};

static void *udp_flood(void *arg)
{
	struct pacer *pc = arg;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
	static uint8_t buf[1500];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, PEER, &to.sin_addr);
	for (uint32_t seq = 0; seq < N_UDP && !atomic_load(&pc->stop); seq++) {
		/* Pace: the kernel's TUN queue (500 packets) must not overflow. */
		while (seq - atomic_load(&pc->done) > 200 && !atomic_load(&pc->stop))
			sched_yield();
		wt_test_payload_fill(buf, udp_size(seq), 1, seq);
		sendto(fd, buf, udp_size(seq), 0, (struct sockaddr *)&to, sizeof(to));
	}
	close(fd);
	return NULL;
}

Test(engine, udp_kernel_to_ring_100k_in_order, .timeout = 300)
{
	struct pacer pc = { 0 };
	pthread_t t;
	uint32_t expect = 0;

	start(0x400000);
	pthread_create(&t, NULL, udp_flood, &pc);
	while (expect < N_UDP) {
		uint32_t len, stream, seq;
		uint8_t *p = next_packet(&len);

		if (is_udp4_to(p, len, 9999)) {
			cr_assert(wt_test_payload_check(p + 28, len - 28, &stream, &seq),
				  "packet %u corrupt", expect);
			cr_assert_eq(seq, expect, "got %u, expected %u", seq, expect);
			cr_assert_eq(len - 28, udp_size(seq));
			expect++;
			atomic_store(&pc.done, expect);
		}
		WintunReleaseReceivePacket(s, p);
	}
	pthread_join(t, NULL);
	cr_expect_geq(wt_stat_get(&s->stats.rx.packets), N_UDP);
	cr_expect_eq(wt_stat_get(&s->stats.rx.drop_truncated), 0);
	end();
}

/* ---- UDP, ring -> kernel --------------------------------------------- */

struct sink {
	int fd;
	atomic_uint got;
	atomic_uint bad;
};

static void *udp_sink(void *arg)
{
	struct sink *k = arg;
	static uint8_t buf[2048];

	while (atomic_load(&k->got) < N_UDP) {
		struct pollfd pfd = { .fd = k->fd, .events = POLLIN };
		uint32_t stream, seq;
		ssize_t n;

		if (poll(&pfd, 1, 10000) <= 0)
			break; /* nothing for 10 s: the main thread reports the loss */
		n = recv(k->fd, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		if (!wt_test_payload_check(buf, (uint32_t)n, &stream, &seq) ||
		    seq != atomic_load(&k->got) || (uint32_t)n != udp_size(seq))
			atomic_fetch_add(&k->bad, 1);
		atomic_fetch_add(&k->got, 1);
	}
	return NULL;
}

Test(engine, udp_ring_to_kernel_100k_in_order, .timeout = 300)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(9998) };
	struct sink k = { 0 };
	static uint8_t pkt[1600], payload[1500];
	int rcvbuf = 4 << 20;
	pthread_t t;

	start(0x400000);
	k.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, LOCAL, &at.sin_addr);
	setsockopt(k.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	cr_assert_eq(bind(k.fd, (struct sockaddr *)&at, sizeof(at)), 0);
	pthread_create(&t, NULL, udp_sink, &k);
	for (uint32_t seq = 0; seq < N_UDP; seq++) {
		while (seq - atomic_load(&k.got) > 200)
			sched_yield();
		wt_test_payload_fill(payload, udp_size(seq), 2, seq);
		inject(pkt, nu_udp4(pkt, PEER, LOCAL, 5555, 9998, payload, udp_size(seq)));
	}
	pthread_join(t, NULL);
	cr_expect_eq(atomic_load(&k.got), N_UDP);
	cr_expect_eq(atomic_load(&k.bad), 0);
	cr_expect_eq(wt_stat_get(&s->stats.tx.packets), N_UDP);
	cr_expect_eq(wt_stat_get(&s->stats.tx.drop_write_error), 0);
	close(k.fd);
	end();
}
