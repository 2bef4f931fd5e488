/* SPDX-License-Identifier: MIT */
/* Multi-queue (issue #15): several sessions on one adapter, each on a TUN
 * queue of its own, asked for with WINTUN_SESSION_EXTRA_QUEUE.  Each test in
 * a private network namespace; traffic goes to 10.9.0.0/24 behind the
 * adapter only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine_fixture.h"
#include "helpers.h"
#include "netutil.h"
#include "wintun.h"

#define CAP 0x100000u
#define MAXQ 8

static WINTUN_ADAPTER_HANDLE a;

static void setup(void)
{
	wt_test_log_capture();
	a = ef_adapter("wtm0", "10.9.0.1", true);
}

TestSuite(multi_queue, .init = setup, .timeout = 120);

static WINTUN_SESSION_HANDLE start(uint32_t flags, WINTUN_SESSION_HANDLE share)
{
	WINTUN_SESSION_OPTIONS o = { .Size = sizeof(o), .Flags = flags, .Capacity = CAP,
				     .ShareEngineWith = share };

	return WintunStartSessionEx(a, &o);
}

static WINTUN_SESSION_HANDLE start_extra(void)
{
	WINTUN_SESSION_HANDLE s = start(WINTUN_SESSION_EXTRA_QUEUE, NULL);

	cr_assert_not_null(s, "extra queue: %s", strerror(errno));
	return s;
}

/* ---- traffic: UDP flows from the stack to 10.9.0.2, one port per flow --- */

struct flow_msg {
	uint32_t flow, seq;
};

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	return fd;
}

static void send_flow(int fd, uint32_t flow, uint32_t seq)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(20000 + flow)) };
	struct flow_msg m = { flow, seq };

	inet_pton(AF_INET, "10.9.0.2", &to.sin_addr);
	cr_assert_eq(sendto(fd, &m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to)),
		     (ssize_t)sizeof(m), "sendto: %s", strerror(errno));
}

/* A test datagram's flow message, or false for any other packet. */
static bool parse_flow(const uint8_t *p, uint32_t len, struct flow_msg *m)
{
	uint32_t ihl;

	if (len < 20 || (p[0] >> 4) != 4 || p[9] != IPPROTO_UDP)
		return false;
	ihl = (p[0] & 15u) * 4;
	if (len < ihl + 8 + sizeof(*m) || p[ihl + 2] * 256u + p[ihl + 3] < 20000)
		return false;
	memcpy(m, p + ihl + 8, sizeof(*m));
	return true;
}

#define FLOWS 64

/* Per session: the last sequence number seen of each flow (+1; 0: none). */
struct seen {
	uint32_t next[FLOWS];
	uint64_t packets;
};

/* Read what session @s has; check each flow arrives in order.  Returns the
 * test datagrams taken. */
static unsigned drain(WINTUN_SESSION_HANDLE s, struct seen *seen, bool no_gaps)
{
	unsigned got = 0;
	uint8_t *p;
	uint32_t size;
	struct flow_msg m;

	while ((p = WintunReceivePacket(s, &size))) {
		if (parse_flow(p, size, &m)) {
			cr_assert_lt(m.flow, FLOWS);
			if (no_gaps)
				cr_expect_eq(m.seq, seen->next[m.flow], "flow %u: seq %u, expected %u",
					     m.flow, m.seq, seen->next[m.flow]);
			else
				cr_expect_geq(m.seq, seen->next[m.flow], "flow %u reordered", m.flow);
			seen->next[m.flow] = m.seq + 1;
			seen->packets++;
			got++;
		}
		WintunReleaseReceivePacket(s, p);
	}
	cr_assert_eq(errno, EAGAIN, "receive: %s", strerror(errno));
	return got;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One packet of each flow, then wait (hang guard 10 s) until the sessions
 * have them all: a burst of FLOWS stays far below a queue's 500 packets, so
 * nothing may be lost. */
static void round_trip(int fd, WINTUN_SESSION_HANDLE *s, struct seen *seen, unsigned n,
		       uint32_t seq)
{
	unsigned got = 0;
	uint64_t deadline = now_ms() + 10000;

	for (uint32_t f = 0; f < FLOWS; f++)
		send_flow(fd, f, seq);
	while (got < FLOWS && now_ms() < deadline) {
		for (unsigned i = 0; i < n; i++)
			got += drain(s[i], &seen[i], true);
		if (got < FLOWS)
			usleep(200);
	}
	cr_assert_eq(got, FLOWS, "round %u: %u of %u datagrams arrived", seq, got, FLOWS);
}

/* ---- the rules ---------------------------------------------------------- */

Test(multi_queue, plain_start_stays_ebusy_and_extra_joins)
{
	WINTUN_ADAPTER_HANDLE b = WintunOpenAdapter("wtm0");
	WINTUN_SESSION_HANDLE s0, s1, t;

	cr_assert_not_null(b);
	s0 = WintunStartSession(a, CAP);
	cr_assert_not_null(s0, "%s", strerror(errno));
	s1 = start_extra();
	errno = 0;
	cr_expect_null(WintunStartSession(a, CAP), "a plain start must not join a set");
	cr_expect_eq(errno, EBUSY);
	cr_expect(wt_test_log_contains("needs WINTUN_SESSION_EXTRA_QUEUE"));
	errno = 0;
	t = WintunStartSessionEx(b, &(WINTUN_SESSION_OPTIONS){ .Size = sizeof(WINTUN_SESSION_OPTIONS),
				     .Flags = WINTUN_SESSION_EXTRA_QUEUE });
	cr_expect_null(t, "an extra queue through another handle must be refused");
	cr_expect_eq(errno, EBUSY);
	/* The first session ends first: the set still holds the device. */
	WintunEndSession(s0);
	errno = 0;
	cr_expect_null(WintunStartSession(b, CAP));
	cr_expect_eq(errno, EBUSY);
	cr_expect_null(WintunStartSession(a, CAP));
	WintunEndSession(s1);
	t = WintunStartSession(b, CAP);
	cr_expect_not_null(t, "the set's last end frees the device: %s", strerror(errno));
	if (t)
		WintunEndSession(t);
	WintunCloseAdapter(b);
	WintunCloseAdapter(a);
}

Test(multi_queue, extra_queue_starts_a_set_and_offload_mode_must_match)
{
	WINTUN_SESSION_HANDLE s0 = start_extra(), s1;

	errno = 0;
	s1 = start(WINTUN_SESSION_EXTRA_QUEUE | WINTUN_SESSION_OFFLOAD, NULL);
	cr_expect_null(s1);
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("must be in the offload mode of the running sessions"));
	s1 = start_extra();
	WintunEndSession(s1);
	WintunEndSession(s0);
	WintunCloseAdapter(a);
}

Test(multi_queue, beyond_the_kernel_queue_limit_is_e2big)
{
	int raw[256];
	unsigned nraw = 0;
	WINTUN_SESSION_HANDLE s0 = start_extra(), s1;

	/* The handle's detached queue and s0 take two of the 256; leave one. */
	while (nraw < 256 - 3)
		raw[nraw++] = nu_tun_open("wtm0");
	s1 = start_extra();
	errno = 0;
	cr_expect_null(start(WINTUN_SESSION_EXTRA_QUEUE, NULL), "a 257th queue");
	cr_expect_eq(errno, E2BIG, "errno %d (%s)", errno, strerror(errno));
	cr_expect(wt_test_log_contains("the device has the kernel's maximum of 256 queues"));
	WintunEndSession(s1);
	s1 = start_extra(); /* the ended session's queue is free again */
	WintunEndSession(s1);
	while (nraw)
		close(raw[--nraw]);
	WintunEndSession(s0);
	WintunCloseAdapter(a);
}

Test(multi_queue, extra_engines_take_distinct_cpus)
{
	WINTUN_SESSION_HANDLE s[2], other;
	WINTUN_SESSION_STATISTICS st[2] = { { .Size = sizeof(st[0]) }, { .Size = sizeof(st[1]) } };
	WINTUN_ADAPTER_HANDLE b;
	cpu_set_t set;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	if (CPU_COUNT(&set) < 2)
		cr_skip_test("needs two allowed CPUs");
	s[0] = start_extra();
	/* Another adapter's session in between takes the next CPU of the
	 * engines' spread over all sessions: the set must still not double up. */
	b = WintunCreateAdapter("wtm1", "Test", NULL);
	cr_assert_not_null(b);
	other = WintunStartSession(b, CAP);
	cr_assert_not_null(other, "%s", strerror(errno));
	s[1] = start_extra();
	for (int i = 0; i < 2; i++)
		cr_assert(WintunGetSessionStatistics(s[i], &st[i]));
	cr_expect_neq(st[0].EngineCpu, st[1].EngineCpu, "both engines on CPU %d", st[0].EngineCpu);
	cr_expect_neq(st[0].EngineThreadId, st[1].EngineThreadId);
	for (int i = 1; i >= 0; i--)
		WintunEndSession(s[i]);
	WintunEndSession(other);
	WintunCloseAdapter(b);
	WintunCloseAdapter(a);
}

/* ---- steering ----------------------------------------------------------- */

static unsigned sessions_with_flows(struct seen *seen, unsigned n)
{
	unsigned used = 0;

	for (unsigned i = 0; i < n; i++)
		used += seen[i].packets > 0;
	return used;
}

/* Each flow lives on exactly one session. */
static void expect_one_session_per_flow(struct seen *seen, unsigned n)
{
	for (unsigned f = 0; f < FLOWS; f++) {
		unsigned on = 0;

		for (unsigned i = 0; i < n; i++)
			on += seen[i].next[f] != 0;
		cr_expect_eq(on, 1, "flow %u seen on %u sessions", f, on);
	}
}

Test(multi_queue, flows_stay_in_order_on_one_session_and_spread_over_all)
{
	WINTUN_SESSION_HANDLE s[4];
	struct seen seen[4] = { 0 };
	int fd = udp_socket();

	for (int i = 0; i < 4; i++)
		s[i] = start_extra();
	for (uint32_t seq = 0; seq < 50; seq++)
		round_trip(fd, s, seen, 4, seq);
	expect_one_session_per_flow(seen, 4);
	/* 64 flows on 4 queues: all on fewer has a chance below 4 * 0.75^64. */
	cr_expect_eq(sessions_with_flows(seen, 4), 4);
	for (int i = 0; i < 4; i++)
		WintunEndSession(s[i]);
	close(fd);
	WintunCloseAdapter(a);
}

/* An echo reply to the request of sequence number @seq. */
static bool is_echo4_reply(const uint8_t *p, uint32_t len, uint16_t seq)
{
	return len >= 28 && p[0] == 0x45 && p[9] == IPPROTO_ICMP && p[20] == 0 &&
	       (p[26] << 8 | p[27]) == seq;
}

/* One echo request from session @k; the replies to it, as seen on each
 * session, are added to @replies.  Each request has a sequence number of its
 * own, so a late reply to an earlier one is not counted.  Waits for the reply
 * (hang guard 10 s), then 300 ms more for copies that must not come. */
static void ping_on(WINTUN_SESSION_HANDLE *s, unsigned n, unsigned k, unsigned *replies)
{
	static uint16_t seq;
	uint8_t req[64], *p;
	unsigned len, got = 0;
	uint64_t guard, end = 0;
	uint32_t size;

	/* Same addresses and id: every request is of the one flow. */
	len = nu_echo4(req, "10.9.0.2", "10.9.0.1", 7, ++seq);
	p = WintunAllocateSendPacket(s[k], len);
	cr_assert_not_null(p);
	memcpy(p, req, len);
	WintunSendPacket(s[k], p);
	for (guard = now_ms() + 10000; !end || now_ms() < end; usleep(1000)) {
		for (unsigned i = 0; i < n; i++)
			while ((p = WintunReceivePacket(s[i], &size))) {
				if (is_echo4_reply(p, size, seq)) {
					replies[i]++;
					got++;
				}
				WintunReleaseReceivePacket(s[i], p);
			}
		if (got && !end)
			end = now_ms() + 300;
		cr_assert(got || now_ms() < guard, "ping %u from session %u: no reply in 10 s",
			  seq, k);
	}
}

Test(multi_queue, a_flow_comes_back_on_the_session_that_sent_it)
{
	WINTUN_SESSION_HANDLE s[3];

	for (int i = 0; i < 3; i++)
		s[i] = start_extra();
	for (unsigned round = 0; round < 2; round++)
		for (unsigned k = 0; k < 3; k++) {
			unsigned replies[3] = { 0 }, moved[3] = { 0 }, tries;

			/* The kernel notes the writing queue just after the
			 * packet went up the stack: the reply to a flow's first
			 * packet on a new queue may still go to the old one.
			 * Ping until a reply comes back on k (not after a fixed
			 * number of pings: the note may come late), then check
			 * the next one. */
			for (tries = 0; !moved[k] && tries < 10; tries++)
				ping_on(s, 3, k, moved);
			cr_assert(moved[k], "ping on %u: %u pings, no reply came back on it", k,
				  tries);
			ping_on(s, 3, k, replies);
			for (unsigned i = 0; i < 3; i++)
				cr_expect_eq(replies[i], i == k, "ping on %u: %u replies on %u", k,
					     replies[i], i);
		}
	for (int i = 0; i < 3; i++)
		WintunEndSession(s[i]);
	WintunCloseAdapter(a);
}

/* ---- ending independently ------------------------------------------------ */

/* End the sessions in @order; before each end, every datagram of every flow
 * reaches the live sessions, in order, one session per flow.  (A flow may
 * move to another session when the set changes: each phase starts over.) */
static void end_in_order(const unsigned *order, unsigned n)
{
	WINTUN_SESSION_HANDLE s[MAXQ], live[MAXQ];
	struct seen seen[MAXQ];
	int fd = udp_socket();

	for (unsigned i = 0; i < n; i++)
		s[i] = start_extra();
	for (unsigned step = 0; step < n; step++) {
		unsigned nlive = 0;

		for (unsigned i = 0; i < n; i++)
			if (s[i]) {
				live[nlive] = s[i];
				seen[nlive++] = (struct seen){ 0 };
			}
		for (uint32_t seq = 0; seq < 5; seq++)
			round_trip(fd, live, seen, nlive, seq);
		expect_one_session_per_flow(seen, nlive);
		WintunEndSession(s[order[step]]);
		s[order[step]] = NULL;
	}
	close(fd);
}

Test(multi_queue, sessions_end_in_any_order)
{
	static const unsigned orders[][4] = { { 0, 1, 2, 3 }, { 3, 2, 1, 0 }, { 1, 3, 0, 2 } };

	for (unsigned i = 0; i < 3; i++)
		end_in_order(orders[i], 4);
	WintunCloseAdapter(a);
}

struct waiter {
	WINTUN_SESSION_HANDLE s;
	atomic_int done, err;
};

static void *wait_forever(void *arg)
{
	struct waiter *w = arg;

	while (WintunWaitForPacket(w->s, 0xFFFFFFFF)) {
		uint8_t *p;
		uint32_t size;

		while ((p = WintunReceivePacket(w->s, &size)))
			WintunReleaseReceivePacket(w->s, p);
	}
	atomic_store(&w->err, errno);
	atomic_store(&w->done, 1);
	return NULL;
}

Test(multi_queue, eshutdown_reaches_only_the_ended_sessions_waiters)
{
	struct waiter w[2] = { { .s = start_extra() }, { .s = start_extra() } };
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, wait_forever, &w[i]), 0);
	usleep(100000);
	WintunEndSession(w[1].s);
	pthread_join(t[1], NULL);
	cr_expect_eq(atomic_load(&w[1].err), ESHUTDOWN, "errno %d", atomic_load(&w[1].err));
	usleep(100000);
	cr_expect_eq(atomic_load(&w[0].done), 0, "the other session's waiter must stay");
	WintunEndSession(w[0].s);
	pthread_join(t[0], NULL);
	cr_expect_eq(atomic_load(&w[0].err), ESHUTDOWN);
	WintunCloseAdapter(a);
}

/* ---- under traffic ------------------------------------------------------- */

struct reader {
	WINTUN_SESSION_HANDLE s;
	struct seen seen;
	atomic_uint_least64_t packets;
	atomic_bool stop;
	int reordered;
};

static void *read_until_stopped(void *arg)
{
	struct reader *r = arg;

	while (!atomic_load(&r->stop)) {
		uint8_t *p;
		uint32_t size;
		struct flow_msg m;

		if (!WintunWaitForPacket(r->s, 20))
			continue;
		while ((p = WintunReceivePacket(r->s, &size))) {
			if (parse_flow(p, size, &m) && m.flow < FLOWS) {
				/* Queue drops may leave gaps, flows may move
				 * between sessions; a step back on one session
				 * is reordering. */
				r->reordered += m.seq < r->seen.next[m.flow];
				r->seen.next[m.flow] = m.seq + 1;
				atomic_fetch_add(&r->packets, 1);
			}
			WintunReleaseReceivePacket(r->s, p);
		}
	}
	return NULL;
}

struct sender {
	atomic_bool stop;
	uint32_t seq;
};

static void *send_until_stopped(void *arg)
{
	struct sender *sd = arg;
	int fd = udp_socket();

	while (!atomic_load(&sd->stop)) {
		for (uint32_t f = 0; f < FLOWS; f++)
			send_flow(fd, f, sd->seq);
		sd->seq++;
		usleep(500);
	}
	close(fd);
	return NULL;
}

static void reader_start(struct reader *r, pthread_t *t)
{
	*r = (struct reader){ .s = start_extra() };
	cr_assert_eq(pthread_create(t, NULL, read_until_stopped, r), 0);
}

static void reader_end(struct reader *r, pthread_t t)
{
	atomic_store(&r->stop, true);
	pthread_join(t, NULL);
	cr_expect_eq(r->reordered, 0, "a flow went backwards on one session");
	WintunEndSession(r->s);
}

static uint64_t live_packets(struct reader *r, unsigned n, unsigned skip)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		if (i != skip)
			sum += atomic_load(&r[i].packets);
	return sum;
}

/* Sessions end and start while flows run: the others keep receiving, and no
 * flow goes backwards on any session. */
Test(multi_queue, start_and_end_under_traffic, .timeout = 240)
{
	static struct reader r[4];
	pthread_t rt[4], st;
	struct sender sd = { 0 };

	for (unsigned i = 0; i < 4; i++)
		reader_start(&r[i], &rt[i]);
	cr_assert_eq(pthread_create(&st, NULL, send_until_stopped, &sd), 0);
	for (unsigned round = 0; round < 12; round++) {
		unsigned k = (round * 7 + 3) % 4;
		uint64_t before;

		usleep(30000);
		reader_end(&r[k], rt[k]);
		before = live_packets(r, 4, k);
		for (uint64_t end = now_ms() + 10000;
		     live_packets(r, 4, k) < before + FLOWS && now_ms() < end;)
			usleep(1000);
		cr_expect_geq(live_packets(r, 4, k), before + FLOWS,
			      "round %u: the other sessions stopped receiving", round);
		reader_start(&r[k], &rt[k]);
	}
	atomic_store(&sd.stop, true);
	pthread_join(st, NULL);
	for (unsigned i = 0; i < 4; i++)
		reader_end(&r[i], rt[i]);
	WintunCloseAdapter(a);
}

/* ---- engine sharing -------------------------------------------------------- */

Test(multi_queue, extra_queue_on_a_shared_engine)
{
	WINTUN_SESSION_HANDLE s[2];
	WINTUN_SESSION_STATISTICS st[2] = { { .Size = sizeof(st[0]) }, { .Size = sizeof(st[1]) } };
	struct seen seen[2] = { 0 };
	int fd = udp_socket();

	s[0] = start_extra();
	s[1] = start(WINTUN_SESSION_EXTRA_QUEUE, s[0]);
	cr_assert_not_null(s[1], "%s", strerror(errno));
	for (int i = 0; i < 2; i++)
		cr_assert(WintunGetSessionStatistics(s[i], &st[i]));
	cr_expect_eq(st[0].EngineThreadId, st[1].EngineThreadId);
	for (uint32_t seq = 0; seq < 5; seq++)
		round_trip(fd, s, seen, 2, seq);
	expect_one_session_per_flow(seen, 2);
	cr_expect_eq(sessions_with_flows(seen, 2), 2);
	/* The engine's first session ends first: the other keeps it. */
	WintunEndSession(s[0]);
	seen[0] = (struct seen){ 0 };
	for (uint32_t seq = 0; seq < 5; seq++)
		round_trip(fd, &s[1], &seen[0], 1, seq);
	WintunEndSession(s[1]);
	close(fd);
	WintunCloseAdapter(a);
}

/* ---- a caller's steering program ------------------------------------------ */

/* A socket filter program that returns @value: every packet to queue
 * @value % queues.  Loaded with bpf(2) directly (no libbpf needed). */
static int constant_program(int value)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = value },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = 2;
	attr.license = (uintptr_t) "GPL";
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0)
		cr_skip_test("cannot load a BPF program: %s", strerror(errno));
	return fd;
}

static void expect_all_on(WINTUN_SESSION_HANDLE *s, unsigned n, unsigned which, int fd)
{
	struct seen seen[MAXQ] = { 0 };

	for (uint32_t seq = 0; seq < 3; seq++)
		round_trip(fd, s, seen, n, seq);
	for (unsigned i = 0; i < n; i++)
		cr_expect_eq(seen[i].packets, i == which ? 3 * FLOWS : 0,
			     "session %u got %llu datagrams (all must go to %u)", i,
			     (unsigned long long)seen[i].packets, which);
}

Test(multi_queue, a_steering_program_picks_the_session)
{
	WINTUN_SESSION_HANDLE s[3];
	struct seen seen[3] = { 0 };
	int udp = udp_socket(), one = constant_program(1), two = constant_program(2), bad;

	for (int i = 0; i < 3; i++)
		s[i] = start_extra();
	cr_assert(WintunSetAdapterSteeringProgram(a, one), "%s", strerror(errno));
	expect_all_on(s, 3, 1, udp);
	cr_assert(WintunSetAdapterSteeringProgram(a, two), "%s", strerror(errno));
	expect_all_on(s, 3, 2, udp);
	/* Removed: the automatic steering spreads the flows again. */
	cr_assert(WintunSetAdapterSteeringProgram(a, -1), "%s", strerror(errno));
	for (uint32_t seq = 0; seq < 3; seq++)
		round_trip(udp, s, seen, 3, seq);
	cr_expect_eq(sessions_with_flows(seen, 3), 3);
	bad = udp_socket();
	errno = 0;
	cr_expect_not(WintunSetAdapterSteeringProgram(a, bad), "a socket is no program");
	cr_expect(errno == EINVAL || errno == EBADF, "errno %d", errno);
	cr_expect(wt_test_log_contains("cannot set the steering program of wtm0"));
	cr_expect_not(WintunSetAdapterSteeringProgram(NULL, one));
	cr_expect_eq(errno, EINVAL);
	for (int i = 0; i < 3; i++)
		WintunEndSession(s[i]);
	close(bad);
	close(two);
	close(one);
	close(udp);
	WintunCloseAdapter(a);
}

/* ---- sessions of a set started from several threads at once -------------- */

struct racer {
	pthread_barrier_t *go;
	uint32_t flags;
	WINTUN_SESSION_HANDLE s;
	int err;
};

static void *start_racing(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	r->s = start(r->flags, NULL);
	r->err = r->s ? 0 : errno;
	return NULL;
}

/* The set's sessions open their queues concurrently, each round in the other
 * offload mode, so that every round the device's mode must switch (which
 * closes and re-opens the handle's own queue) while the others attach. */
Test(multi_queue, concurrent_starts_of_a_set_switching_offload_mode, .timeout = 240)
{
	enum { THREADS = 3, ROUNDS = 12 };
	pthread_barrier_t go;

	for (unsigned round = 0; round < ROUNDS; round++) {
		uint32_t flags = WINTUN_SESSION_EXTRA_QUEUE |
				 (round % 2 ? 0 : WINTUN_SESSION_OFFLOAD);
		struct racer r[THREADS];
		pthread_t t[THREADS];

		pthread_barrier_init(&go, NULL, THREADS);
		for (unsigned i = 0; i < THREADS; i++) {
			r[i] = (struct racer){ .go = &go, .flags = flags };
			cr_assert_eq(pthread_create(&t[i], NULL, start_racing, &r[i]), 0);
		}
		for (unsigned i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		for (unsigned i = 0; i < THREADS; i++)
			cr_expect_not_null(r[i].s, "round %u, thread %u: %s", round, i,
					   strerror(r[i].err));
		for (unsigned i = 0; i < THREADS; i++)
			if (r[i].s)
				WintunEndSession(r[i].s);
	}
	WintunCloseAdapter(a);
}

/* Extra queues started at once each get a CPU of their own: one engine per
 * allowed CPU first, then as many again started concurrently must land one
 * more on each CPU, not all on the one that looked least used to each. */
Test(multi_queue, concurrent_extra_engines_spread_over_the_cpus, .timeout = 240)
{
	enum { MAXCPU = 16 };
	WINTUN_SESSION_HANDLE s[MAXCPU];
	struct racer r[MAXCPU];
	pthread_t t[MAXCPU];
	pthread_barrier_t go;
	unsigned per_cpu[CPU_SETSIZE] = { 0 };
	cpu_set_t set;
	unsigned n;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	n = (unsigned)CPU_COUNT(&set);
	if (n < 2 || n > MAXCPU)
		cr_skip_test("needs 2..%d allowed CPUs, has %u", MAXCPU, n);
	for (unsigned i = 0; i < n; i++)
		s[i] = start_extra();
	pthread_barrier_init(&go, NULL, n);
	for (unsigned i = 0; i < n; i++) {
		r[i] = (struct racer){ .go = &go, .flags = WINTUN_SESSION_EXTRA_QUEUE };
		cr_assert_eq(pthread_create(&t[i], NULL, start_racing, &r[i]), 0);
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	for (unsigned i = 0; i < 2 * n; i++) {
		WINTUN_SESSION_HANDLE x = i < n ? s[i] : r[i - n].s;
		WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

		cr_assert_not_null(x, "session %u: %s", i, strerror(r[i % n].err));
		cr_assert(WintunGetSessionStatistics(x, &st));
		cr_assert_lt((unsigned)st.EngineCpu, CPU_SETSIZE);
		per_cpu[st.EngineCpu]++;
	}
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			cr_expect_eq(per_cpu[cpu], 2, "CPU %d runs %u of the set's engines", cpu,
				     per_cpu[cpu]);
	for (unsigned i = 0; i < n; i++) {
		WintunEndSession(r[i].s);
		WintunEndSession(s[i]);
	}
	WintunCloseAdapter(a);
}

/* A start refused (the other offload mode) while the set's first session
 * switches the device's mode, which replaces the handle's own queue: the
 * refusal names the adapter from the handle's fd at that moment.  Under
 * ThreadSanitizer (tsan-multi-queue) this caught the fd being closed and
 * re-assigned under the reader. */
Test(multi_queue, a_start_refused_during_the_sets_mode_switch, .timeout = 240)
{
	pthread_barrier_t go;

	for (unsigned round = 0; round < 10; round++) {
		uint32_t on = round % 2 ? 0 : WINTUN_SESSION_OFFLOAD;
		struct racer r[2];
		pthread_t t[2];
		unsigned started = 0;

		pthread_barrier_init(&go, NULL, 2);
		r[0] = (struct racer){ .go = &go, .flags = WINTUN_SESSION_EXTRA_QUEUE | on };
		r[1] = (struct racer){ .go = &go,
				       .flags = WINTUN_SESSION_EXTRA_QUEUE |
						(on ^ WINTUN_SESSION_OFFLOAD) };
		for (int i = 0; i < 2; i++)
			cr_assert_eq(pthread_create(&t[i], NULL, start_racing, &r[i]), 0);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		for (int i = 0; i < 2; i++) {
			if (r[i].s)
				started++;
			else
				cr_expect_eq(r[i].err, EINVAL, "round %u: %s", round,
					     strerror(r[i].err));
		}
		cr_expect_eq(started, 1, "round %u: %u sessions started", round, started);
		for (int i = 0; i < 2; i++)
			if (r[i].s)
				WintunEndSession(r[i].s);
	}
	WintunCloseAdapter(a);
}

struct name_reader {
	WINTUN_ADAPTER_HANDLE h;
	atomic_bool stop;
	atomic_uint reads;
};

static void *read_names(void *arg)
{
	struct name_reader *r = arg;
	char name[WINTUN_MAX_ADAPTER_NAME];

	while (!atomic_load(&r->stop)) {
		/* Two calls that make a system call on the handle's own queue:
		 * TUNSETSTEERINGEBPF (no program: nothing changes) and
		 * TUNGETIFF. */
		WintunSetAdapterSteeringProgram(r->h, -1);
		if (atomic_fetch_add(&r->reads, 1) % 16 == 0)
			WintunGetAdapterName(r->h, name);
	}
	return NULL;
}

/* The first session of a handle switches the device to offload mode while
 * another thread reads the adapter's name through the same handle: that
 * read's reference to the handle's old queue can outlive the switch's close
 * of it, and the kernel then keeps the device's flags (the queue still
 * counts).  The start must wait that out, not fail with EBUSY. */
Test(multi_queue, a_mode_switch_while_another_thread_uses_the_handle, .timeout = 240)
{
	unsigned fails = 0;

	for (unsigned round = 0; round < 100; round++) {
		struct name_reader r[2] = { 0 };
		WINTUN_SESSION_OPTIONS o = { .Size = sizeof(o), .Flags = WINTUN_SESSION_OFFLOAD,
					     .Capacity = CAP };
		WINTUN_ADAPTER_HANDLE h = WintunCreateAdapter("wtm2", "Test", NULL);
		WINTUN_SESSION_HANDLE x;
		pthread_t t[2];

		cr_assert_not_null(h, "round %u: %s", round, strerror(errno));
		for (int i = 0; i < 2; i++) {
			r[i].h = h;
			cr_assert_eq(pthread_create(&t[i], NULL, read_names, &r[i]), 0);
		}
		while (!atomic_load(&r[0].reads) || !atomic_load(&r[1].reads))
			sched_yield();
		x = WintunStartSessionEx(h, &o);
		for (int i = 0; i < 2; i++) {
			atomic_store(&r[i].stop, true);
			pthread_join(t[i], NULL);
		}
		cr_expect_not_null(x, "round %u: %s", round, strerror(errno));
		fails += !x;
		if (x)
			WintunEndSession(x);
		WintunCloseAdapter(h);
	}
	cr_log_info("%u of 100 starts failed", fails);
	WintunCloseAdapter(a);
}

/* ---- no descriptor leaks on the set's error paths ---------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Refused starts (EBUSY, EINVAL for the other offload mode, E2BIG beyond the
 * kernel's queue limit) and starts and ends that switch the device's mode
 * leave the process's descriptors as they were. */
Test(multi_queue, no_descriptor_leaks_on_refusals_and_mode_switches)
{
	WINTUN_SESSION_HANDLE s0 = start_extra(), s1;
	int raw[256];
	unsigned nraw = 0;
	int before = count_fds();

	for (int i = 0; i < 5; i++) {
		cr_expect_null(start(0, NULL));
		cr_expect_null(start(WINTUN_SESSION_EXTRA_QUEUE | WINTUN_SESSION_OFFLOAD, NULL));
	}
	cr_expect_eq(count_fds(), before, "EBUSY/EINVAL refusals leaked descriptors");
	/* The handle's detached queue and s0 take two of the 256. */
	while (nraw < 256 - 2)
		raw[nraw++] = nu_tun_open("wtm0");
	before = count_fds();
	for (int i = 0; i < 5; i++) {
		errno = 0;
		cr_expect_null(start(WINTUN_SESSION_EXTRA_QUEUE, NULL));
		cr_expect_eq(errno, E2BIG, "errno %d", errno);
	}
	cr_expect_eq(count_fds(), before, "E2BIG refusals leaked descriptors");
	while (nraw)
		close(raw[--nraw]);
	s1 = start_extra();
	WintunEndSession(s1);
	WintunEndSession(s0);
	before = count_fds();
	for (int i = 0; i < 3; i++) {
		s0 = start(WINTUN_SESSION_OFFLOAD | WINTUN_SESSION_EXTRA_QUEUE, NULL);
		cr_assert_not_null(s0);
		cr_expect_null(start(WINTUN_SESSION_EXTRA_QUEUE, NULL));
		s1 = start(WINTUN_SESSION_OFFLOAD | WINTUN_SESSION_EXTRA_QUEUE, NULL);
		cr_assert_not_null(s1, "%s", strerror(errno));
		WintunEndSession(s0);
		WintunEndSession(s1);
		s0 = start(0, NULL);
		cr_assert_not_null(s0);
		WintunEndSession(s0);
	}
	cr_expect_eq(count_fds(), before, "starts and ends switching the mode leaked descriptors");
	WintunCloseAdapter(a);
}
