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
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "netutil.h"
#include "src/atomic.h"
#include "src/ring_sync.h"
#include "src/session_lifetime.h"
#include "wintun.h"

#define IFNAME "wte0"
#define LOCAL "10.9.0.1"  /* the kernel's side */
#define PEER "10.9.0.2"   /* the client's side, behind the rings */
#define N_UDP 100000u

static struct wintun_session *s;

static void sysctl_set(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(value, f);
	fclose(f);
}

/* With @ipv6 the device answers IPv6 at once (no DAD); without, it has no
 * IPv6 at all, so no unsolicited packets (router or MLD) reach the ring. */
/* WINTUN_TEST_RX_MULTISHOT=1 runs the suite on the multishot RX variant. */
static bool rx_multishot(void)
{
	const char *v = getenv("WINTUN_TEST_RX_MULTISHOT");

	return v && !strcmp(v, "1");
}

static struct wintun_session *start_with(uint32_t capacity, bool ipv6)
{
	struct wt_start_opts o = { .capacity = capacity, .cpu = -1, .numa_node = -1,
				   .spin_us = -1, .name = IFNAME, .rx_multishot = rx_multishot() };
	int fd;

	if (o.rx_multishot && !wt_test_kernel_has_read_multishot())
		cr_skip_test("the kernel has no IORING_OP_READ_MULTISHOT (Linux 6.7): the multishot "
			     "RX variant cannot run here (features::multishot_* checks the refusal)");
	wt_test_enter_netns();
	wt_test_log_capture();
	if (ipv6)
		sysctl_set("/proc/sys/net/ipv6/conf/default/accept_dad", "0");
	else
		sysctl_set("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	fd = nu_tun_open(IFNAME);
	nu_if_addr4_up(IFNAME, LOCAL, 24);
	cr_assert_eq(wt_session_start(fd, &o, &s), 0);
	return s;
}

static struct wintun_session *start(uint32_t capacity)
{
	return start_with(capacity, false);
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

/* Like ping: one request a second until the reply comes (the first may go
 * before IPv6 on the new device is ready). */
static bool echo_replied(uint8_t *req, unsigned req_len, bool (*is_reply)(const uint8_t *, uint32_t))
{
	for (int attempt = 0; attempt < 10; attempt++) {
		uint32_t len;
		uint8_t *p;

		inject(req, req_len);
		WintunWaitForPacket(s, 1000);
		while ((p = WintunReceivePacket(s, &len))) {
			bool reply = is_reply(p, len);

			WintunReleaseReceivePacket(s, p);
			if (reply)
				return true;
			WintunWaitForPacket(s, 200);
		}
	}
	return false;
}

static bool is_echo6_reply(const uint8_t *p, uint32_t len)
{
	return len >= 48 && p[0] >> 4 == 6 && p[6] == IPPROTO_ICMPV6 && p[40] == 129 &&
	       (p[44] << 8 | p[45]) == 78;
}

Test(engine, icmp_echo_v6, .timeout = 60)
{
	uint8_t req[64];

	start_with(0x100000, true);
	nu_if_addr6(IFNAME, "fd00:9::1", 64);
	cr_expect(echo_replied(req, nu_echo6(req, "fd00:9::2", "fd00:9::1", 78, 1), is_echo6_reply));
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
	/* The sink can hold the last packet before the engine has reaped its
	 * write's completion, which is when it is counted. */
	for (int i = 0; i < 200 && wt_stat_get(&s->stats.tx.packets) < N_UDP; i++)
		usleep(10000);
	cr_expect_eq(wt_stat_get(&s->stats.tx.packets), N_UDP);
	cr_expect_eq(wt_stat_get(&s->stats.tx.drop_write_error), 0);
	close(k.fd);
	end();
}

/* ---- back-pressure, hostile rings, MTU, ending ------------------------ */

static void send_udp(int fd, uint32_t len, uint32_t stream, uint32_t seq)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
	static uint8_t buf[65536];

	inet_pton(AF_INET, PEER, &to.sin_addr);
	wt_test_payload_fill(buf, len, stream, seq);
	cr_assert_eq(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len,
		     "sendto: %s", strerror(errno));
}

/* Receive UDP-9999 packets until one of @stream arrives; check it intact. */
static uint32_t receive_udp(uint32_t stream, uint32_t *seq_out)
{
	for (;;) {
		uint32_t len, st, seq;
		uint8_t *p = next_packet(&len);

		if (!is_udp4_to(p, len, 9999)) {
			WintunReleaseReceivePacket(s, p);
			continue;
		}
		cr_assert(wt_test_payload_check(p + 28, len - 28, &st, &seq), "corrupt packet");
		WintunReleaseReceivePacket(s, p);
		if (st == stream) {
			*seq_out = seq;
			return len - 28;
		}
	}
}

/* Take what the ring holds now: count @stream's UDP-9999 packets in *got,
 * each intact and sent after the one before (*last). */
static void take_stream(uint32_t stream, uint32_t *got, uint32_t *last)
{
	uint32_t len, st, seq;
	uint8_t *p;

	while ((p = WintunReceivePacket(s, &len))) {
		if (is_udp4_to(p, len, 9999)) {
			cr_assert(wt_test_payload_check(p + 28, len - 28, &st, &seq), "corrupt packet");
			cr_assert(st != stream || *got == 0 || seq > *last, "out of order");
			if (st == stream) {
				*last = seq;
				(*got)++;
			}
		}
		WintunReleaseReceivePacket(s, p);
	}
	cr_assert_eq(errno, EAGAIN, "receive: %s", strerror(errno));
}

Test(engine, ring_full_backpressure_recovers, .timeout = 120)
{
	int fd;
	uint32_t seq, last = 0, got = 0;

	start(WINTUN_MIN_RING_CAPACITY);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* 128 KiB hold ~87 slots of 1504 bytes, the kernel's TUN queue 500
	 * packets more: the client reads nothing.  The first 200 fill the ring
	 * but not the queue, so no packet is dropped before the episode starts
	 * however late the engine runs; once it is counted its drop baseline is
	 * read (10 s only guard against a hang). */
	for (uint32_t i = 0; i < 200; i++)
		send_udp(fd, 1000, 3, i);
	for (int i = 0; i < 1000 && !wt_stat_get(&s->stats.rx.ring_full_episodes); i++)
		usleep(10000);
	cr_assert_gt(wt_stat_get(&s->stats.rx.ring_full_episodes), 0);
	/* The rest overflow the queue: the ring holds at most 127 of these
	 * records (1032 bytes; fewer in MTU slots), the queue 500. */
	for (uint32_t i = 200; i < 1000; i++) {
		send_udp(fd, 1000, 3, i);
		if (i % 50 == 0)
			usleep(2000);
	}
	/* Everything that did arrive is intact and in order, and every packet
	 * not delivered was dropped from the full TUN queue after the
	 * baseline: each is counted, exactly.  Read until the two add up, not
	 * until a quiet spell: a new episode's count, and the last one's on
	 * the engine's way to sleep, is a query that waits for RTNL, which
	 * another namespace's teardown can hold for seconds (30 s of quiet
	 * only guard against a hang).  Then nothing more may come. */
	for (int quiet = 0; quiet < 3000 && got + wt_stat_get(&s->stats.rx.drop_ring_full) < 1000;) {
		if (!WintunWaitForPacket(s, 10))
			quiet++;
		take_stream(3, &got, &last);
	}
	WintunWaitForPacket(s, 300);
	take_stream(3, &got, &last);
	cr_expect_gt(got, 50);
	cr_expect_leq(got, 627);
	cr_expect_eq(wt_stat_get(&s->stats.rx.drop_ring_full), 1000 - got, "delivered %u", got);
	/* The session recovers once the client reads again. */
	send_udp(fd, 500, 4, 1);
	cr_expect_eq(receive_udp(4, &seq), 500);
	close(fd);
	end();
}

Test(engine, garbage_in_receive_ring_stops_tx_only, .timeout = 120)
{
	WINTUN_RING *ring;
	uint32_t seq;
	int fd;

	start(0x100000);
	ring = s->rings.desc.Receive.Ring;
	/* A raw record claiming 0x12345 bytes, published behind the API. */
	wintun_ring_record(ring, 0)->Size = 0x12345;
	s->tx.tail = s->tx.tail_release = 8;
	wt_store_release(&ring->Tail, 8);
	wt_event_signal(s->rings.desc.Receive.TailMoved); /* wake the engine */
	for (int i = 0; i < 1000 && wt_load_acquire(&ring->Head) != WINTUN_RING_SENTINEL; i++)
		usleep(10000);
	cr_expect_eq(wt_load_acquire(&ring->Head), WINTUN_RING_SENTINEL);
	cr_expect_eq(wt_stat_get(&s->stats.tx.drop_bogus), 1);
	cr_expect(wt_test_log_contains("bogus record in the receive ring"));
	errno = 0;
	cr_expect_null(WintunAllocateSendPacket(s, 100));
	cr_expect_eq(errno, EBADMSG);
	/* RX goes on. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	send_udp(fd, 100, 5, 1);
	cr_expect_eq(receive_udp(5, &seq), 100);
	close(fd);
	end();
}

Test(engine, non_ip_records_are_dropped_and_counted, .timeout = 60)
{
	uint8_t junk[30] = { 0x10 }; /* version 1 */

	start(0x100000);
	inject(junk, sizeof(junk));
	inject(junk, 3);
	/* The engine counts a drop, then frees the space: wait for both. */
	for (int i = 0; i < 1000 && (wt_stat_get(&s->stats.tx.drop_non_ip) < 2 ||
				     wt_load_acquire(&s->rings.desc.Receive.Ring->Head) !=
					     s->rings.desc.Receive.Ring->Tail);
	     i++)
		usleep(10000);
	cr_expect_eq(wt_stat_get(&s->stats.tx.drop_non_ip), 2);
	cr_expect_eq(wt_load_acquire(&s->rings.desc.Receive.Ring->Head),
		     s->rings.desc.Receive.Ring->Tail);
	end();
}

Test(engine, mtu_raised_and_lowered_under_traffic, .timeout = 120)
{
	uint32_t seq;
	int fd;

	start(0x400000);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	send_udp(fd, 1400, 6, 0);
	cr_expect_eq(receive_udp(6, &seq), 1400);
	nu_if_set_mtu(IFNAME, 9000);
	usleep(200000); /* the engine follows within 50 ms of its next batch */
	/* A first big packet: delivered, or (multishot variant: its buffers
	 * were provided at the old size) dropped as truncated and counted. */
	send_udp(fd, 8000, 10, 0);
	for (int i = 0; i < 100 && !WintunIsPacketAvailable(s) &&
			wt_stat_get(&s->stats.rx.drop_truncated) == 0;
	     i++)
		usleep(10000);
	/* The drain (and the read(2) fallback) probes the MTU before the reads
	 * that follow a quiet 50 ms: only multishot may truncate here. */
	if (!rx_multishot())
		cr_expect_eq(wt_stat_get(&s->stats.rx.drop_truncated), 0,
			     "the drain read the first big packet into an old-size slot");
	if (wt_stat_get(&s->stats.rx.drop_truncated) == 0)
		cr_expect_eq(receive_udp(10, &seq), 8000);
	usleep(100000);
	for (uint32_t i = 1; i <= 20; i++) {
		send_udp(fd, 8000, 6, i);
		cr_expect_eq(receive_udp(6, &seq), 8000);
		cr_expect_eq(seq, i);
	}
	nu_if_set_mtu(IFNAME, 1280);
	usleep(200000);
	for (uint32_t i = 21; i <= 40; i++) {
		send_udp(fd, 1200, 6, i);
		cr_expect_eq(receive_udp(6, &seq), 1200);
	}
	close(fd);
	end();
}

struct waiter {
	struct wintun_session *s;
	bool result;
	int err;
};

static bool waiting(struct wintun_session *ws)
{
	bool in;

	pthread_mutex_lock(&ws->rx.lock);
	in = ws->rx.waiters > 0;
	pthread_mutex_unlock(&ws->rx.lock);
	return in;
}

static void *wait_forever(void *arg)
{
	struct waiter *w = arg;

	w->result = WintunWaitForPacket(w->s, UINT32_MAX);
	w->err = errno;
	return NULL;
}

Test(engine, end_session_wakes_a_sleeping_client, .timeout = 60)
{
	struct waiter w = { 0 };
	pthread_t t;

	start(0x100000);
	w.s = s;
	pthread_create(&t, NULL, wait_forever, &w);
	while (!waiting(s)) /* the client is inside WintunWaitForPacket */
		usleep(1000);
	end();
	pthread_join(t, NULL);
	cr_expect_not(w.result);
	cr_expect_eq(w.err, ESHUTDOWN);
}

Test(engine, device_deleted_under_load_ends_session, .timeout = 120)
{
	uint32_t len;
	int fd, err = 0;

	start(0x100000);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int i = 0; i < 200; i++)
		send_udp(fd, 200, 7, (uint32_t)i);
	cr_assert_eq(system("ip link del dev " IFNAME), 0);
	for (int i = 0; i < 1000; i++) {
		uint8_t *p = WintunReceivePacket(s, &len);

		if (p) {
			WintunReleaseReceivePacket(s, p);
			continue;
		}
		err = errno;
		if (err == ESHUTDOWN)
			break;
		WintunWaitForPacket(s, 10);
	}
	cr_expect_eq(err, ESHUTDOWN);
	close(fd);
	end();
}

static unsigned count_threads(const char *prefix, int *tid)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	unsigned n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && strncmp(comm, prefix, strlen(prefix)) == 0) {
			n++;
			if (tid)
				*tid = atoi(de->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

Test(engine, pinned_and_no_io_wq_workers, .timeout = 120)
{
	struct wt_start_opts o = { .capacity = 0x100000, .cpu = 0, .numa_node = -1,
				   .spin_us = -1, .name = IFNAME };
	struct pacer pc = { 0 };
	cpu_set_t set;
	pthread_t t;
	uint32_t got = 0;
	int fd, tid = 0;

	wt_test_enter_netns();
	fd = nu_tun_open(IFNAME);
	nu_if_addr4_up(IFNAME, LOCAL, 24);
	cr_assert_eq(wt_session_start(fd, &o, &s), 0);
	pthread_create(&t, NULL, udp_flood, &pc);
	while (got < 20000) {
		uint32_t len;
		uint8_t *p = next_packet(&len);

		if (is_udp4_to(p, len, 9999))
			atomic_store(&pc.done, ++got);
		WintunReleaseReceivePacket(s, p);
	}
	atomic_store(&pc.stop, true);
	pthread_join(t, NULL);
	cr_expect_eq(count_threads("iou-wrk", NULL), 0, "io-wq workers appeared");
	cr_assert_eq(count_threads("wintun/" IFNAME, &tid), 1);
	cr_assert_eq(sched_getaffinity(tid, sizeof(set), &set), 0);
	cr_expect_eq(CPU_COUNT(&set), 1);
	cr_expect(CPU_ISSET(0, &set));
	end();
}

/* Bursts separated by idle gaps longer than the spin: each must arrive
 * without a timeout, or a wake-up was lost. */
Test(engine, no_lost_wakeup_in_bursts, .timeout = 300)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(9998) };
	static uint8_t pkt[256], payload[64], buf[256];
	unsigned late_rx = 0, late_tx = 0;
	int sink, src;

	start(0x100000);
	src = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sink = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, LOCAL, &at.sin_addr);
	cr_assert_eq(bind(sink, (struct sockaddr *)&at, sizeof(at)), 0);
	for (uint32_t burst = 0; burst < 300; burst++) {
		uint32_t seq;

		/* kernel -> ring: the client sleeps in WintunWaitForPacket */
		for (uint32_t i = 0; i < 4; i++)
			send_udp(src, 64, 8, burst * 4 + i);
		for (uint32_t i = 0; i < 4; i++) {
			uint32_t len;
			uint8_t *p;

			while (!(p = WintunReceivePacket(s, &len)))
				if (!WintunWaitForPacket(s, 2000) && errno == ETIMEDOUT)
					late_rx++;
			if (!is_udp4_to(p, len, 9999))
				i--;
			WintunReleaseReceivePacket(s, p);
		}
		/* ring -> kernel: the engine sleeps on the receive event */
		usleep(300);
		wt_test_payload_fill(payload, 64, 9, burst);
		inject(pkt, nu_udp4(pkt, PEER, LOCAL, 5555, 9998, payload, 64));
		struct pollfd pfd = { .fd = sink, .events = POLLIN };
		if (poll(&pfd, 1, 2000) != 1)
			late_tx++;
		else
			recv(sink, buf, sizeof(buf), 0);
		usleep(300);
		(void)seq;
	}
	cr_expect_eq(late_rx, 0, "%u lost wake-ups kernel -> ring", late_rx);
	cr_expect_eq(late_tx, 0, "%u lost wake-ups ring -> kernel", late_tx);
	cr_expect_gt(wt_stat_get(&s->stats.tx.wakeups), 0);
	close(src);
	close(sink);
	end();
}

/* Without CAP_IPC_LOCK and with a small RLIMIT_MEMLOCK, io_uring refuses to
 * pin the rings as fixed buffers: the session must still work, with plain
 * READ/WRITE on the same memory, and say so in the log. */
static void drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	unsigned bit = CAP_IPC_LOCK % 32, word = CAP_IPC_LOCK / 32;

	cr_assert_eq(syscall(SYS_capget, &h, d), 0);
	d[word].effective &= ~(1u << bit);
	d[word].permitted &= ~(1u << bit);
	cr_assert_eq(syscall(SYS_capset, &h, d), 0, "capset: %s", strerror(errno));
}

static bool is_echo4_reply(const uint8_t *p, uint32_t len)
{
	return len >= 28 && p[0] == 0x45 && p[9] == IPPROTO_ICMP && p[20] == 0;
}

Test(engine, fixed_buffers_refused_falls_back, .timeout = 60)
{
	/* Debian's default for users: 8 MiB; two 4 MiB rings do not fit. */
	struct rlimit small = { 8 << 20, 8 << 20 };
	uint8_t req[64];

	wt_test_enter_netns();
	drop_cap_ipc_lock();
	cr_assert_eq(setrlimit(RLIMIT_MEMLOCK, &small), 0);
	start(0x400000);
	cr_expect(wt_test_log_contains("using plain READ/WRITE"), "no fallback logged");
	cr_expect(echo_replied(req, nu_echo4(req, PEER, LOCAL, 79, 1), is_echo4_reply));
	end();
}
