/* SPDX-License-Identifier: MIT */
/* One engine serving several sessions (ShareEngineWith) under load. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine_fixture.h"
#include "helpers.h"
#include "src/engine_internal.h"
#include "src/session.h"

static WINTUN_SESSION_HANDLE start_shared(WINTUN_ADAPTER_HANDLE a, WINTUN_SESSION_HANDLE with,
					  uint32_t capacity)
{
	WINTUN_SESSION_OPTIONS o = { .Size = sizeof(o), .Capacity = capacity,
				     .ShareEngineWith = with };
	WINTUN_SESSION_HANDLE s = WintunStartSessionEx(a, &o);

	cr_assert_not_null(s, "start: %s", strerror(errno));
	return s;
}

static void stats(WINTUN_SESSION_HANDLE s, WINTUN_SESSION_STATISTICS *st)
{
	st->Size = sizeof(*st);
	cr_assert(WintunGetSessionStatistics(s, st));
}

/* ---- issue #11, defect 7: device check on a busy engine ---------------- */

struct busy {
	WINTUN_SESSION_HANDLE s;
	const char *local, *peer;
	atomic_bool stop;
};

/* The client of a session at full speed both ways: inject to the kernel
 * (which answers port unreachable), drain the Send ring. */
static void *busy_client(void *arg)
{
	struct busy *b = arg;

	for (uint32_t seq = 0; !atomic_load(&b->stop); seq++) {
		uint8_t *p;
		uint32_t len;

		p = WintunAllocateSendPacket(b->s, 64);
		if (p) {
			memset(p, 0, 64);
			p[0] = 0x45; /* dropped by the kernel: a bad header */
			WintunSendPacket(b->s, p);
		}
		while ((p = WintunReceivePacket(b->s, &len)))
			WintunReleaseReceivePacket(b->s, p);
	}
	return NULL;
}

/* The kernel side: datagrams to the peer behind the rings, non-stop. */
static void *busy_kernel(void *arg)
{
	struct busy *b = arg;
	int fd = ef_udp_bound(b->local, 0);

	for (uint32_t seq = 0; !atomic_load(&b->stop); seq++)
		ef_send_udp(fd, b->peer, 9999, 64, 1, seq);
	close(fd);
	return NULL;
}

struct waiter {
	WINTUN_SESSION_HANDLE s;
	atomic_bool done;
	bool result;
	int err;
	int64_t at_ms;
};

static void *wait_forever(void *arg)
{
	struct waiter *w = arg;

	w->result = WintunWaitForPacket(w->s, UINT32_MAX);
	w->err = errno;
	w->at_ms = ef_now_ms();
	atomic_store(&w->done, true);
	return NULL;
}

/* Take every packet from @s's Send ring without releasing any, until the
 * engine has stopped reading for lack of space. */
static void hold_ring_full(WINTUN_SESSION_HANDLE s, const char *local, const char *peer)
{
	WINTUN_SESSION_STATISTICS st;
	int fd = ef_udp_bound(local, 0);
	uint32_t len;

	for (uint32_t seq = 0;; seq++) {
		stats(s, &st);
		if (st.RxRingFullEpisodes)
			break;
		cr_assert_lt(seq, 100000, "the ring never filled");
		ef_send_udp(fd, peer, 9999, 1400, 2, seq);
		while (WintunReceivePacket(s, &len))
			;
	}
	usleep(50000);
	while (WintunReceivePacket(s, &len))
		;
	cr_assert_eq(errno, EAGAIN);
	close(fd);
}

/* A's device is deleted while B keeps the shared engine busy.  A's Send ring
 * is full, so no read or poll of A's device is in flight for the deletion
 * to complete: only the engine's device check can end A's session. */
Test(shared_engine, deleted_device_ends_session_on_busy_engine, .timeout = 120)
{
	WINTUN_ADAPTER_HANDLE a = ef_adapter("wtsha0", "10.14.0.1", true);
	WINTUN_ADAPTER_HANDLE b = ef_adapter("wtshb0", "10.15.0.1", true);
	WINTUN_SESSION_HANDLE sa = start_shared(a, NULL, 0x20000);
	WINTUN_SESSION_HANDLE sb = start_shared(b, sa, 0x100000);
	struct busy busy = { .s = sb, .local = "10.15.0.1", .peer = "10.15.0.2" };
	struct waiter w = { .s = sa };
	pthread_t tc, tk, tw;
	WINTUN_SESSION_STATISTICS st;
	int64_t deleted;
	bool in_flood;

	hold_ring_full(sa, "10.14.0.1", "10.14.0.2");
	pthread_create(&tc, NULL, busy_client, &busy);
	pthread_create(&tk, NULL, busy_kernel, &busy);
	pthread_create(&tw, NULL, wait_forever, &w);
	/* The engine is busy (hang guard 10 s); then time for the waiter to
	 * fall asleep (a late one finds the session ended: the same result). */
	for (int i = 0; i < 1000; i++) {
		stats(sb, &st);
		if (st.Rx.Packets >= 1000)
			break;
		usleep(10000);
	}
	cr_assert_geq(st.Rx.Packets, 1000, "the flood did not start");
	usleep(300000);
	WintunCloseAdapter(a); /* deletes the device */
	/* Timed from here: the deletion itself waits for RTNL and RCU, which
	 * another namespace's teardown can hold for seconds. */
	deleted = ef_now_ms();
	/* The flood goes on until the waiter wakes, 10 s at most: a session
	 * that ends only once the engine is idle again fails below. */
	for (int i = 0; i < 1000 && !atomic_load(&w.done); i++)
		usleep(10000);
	in_flood = atomic_load(&w.done);
	atomic_store(&busy.stop, true);
	pthread_join(tc, NULL);
	pthread_join(tk, NULL);
	pthread_join(tw, NULL);
	printf("deleted device's waiter woke after %lld ms (device check every 250 ms)\n",
	       (long long)(w.at_ms - deleted));
	cr_expect_not(w.result);
	cr_expect_eq(w.err, ESHUTDOWN, "waiter: %s", strerror(w.err));
	/* Not a speed test: the session must end while the engine is busy,
	 * however slow the machine. */
	cr_expect(in_flood, "the session ended only after the flood stopped (%lld ms)",
		  (long long)(w.at_ms - deleted));
	WintunEndSession(sb);
	WintunEndSession(sa);
	WintunCloseAdapter(b);
}

/* ---- issue #11, defect 6: completions of a full shared engine ---------- */

#define N_PORTS 16u
#define N_PKTS 3000u   /* per session and direction */
#define IN_FLIGHT 200u /* below the kernel's TUN queue (500) and socket buffers */

struct port_traffic {
	WINTUN_SESSION_HANDLE s;
	char local[16], peer[16];
	int src, sink;
	uint32_t rx_sent, tx_sent; /* kernel -> ring, ring -> kernel */
	atomic_uint rx_got, tx_got;
	atomic_uint rx_bad, tx_bad;
};

struct mesh {
	struct port_traffic t[N_PORTS];
	atomic_bool stop;
};

static bool udp_of(const uint8_t *p, uint32_t len, uint32_t *stream, uint32_t *seq)
{
	return len >= 28 && p[0] == 0x45 && p[9] == 17 && (p[22] << 8 | p[23]) == 9999 &&
	       wt_test_payload_check(p + 28, len - 28, stream, seq);
}

/* Every session's client, round robin: inject a burst, drain the Send ring. */
static void *mesh_clients(void *arg)
{
	struct mesh *m = arg;

	while (!atomic_load(&m->stop)) {
		for (unsigned i = 0; i < N_PORTS; i++) {
			struct port_traffic *t = &m->t[i];
			uint32_t len, stream, seq;
			uint8_t *p;

			while (t->tx_sent < N_PKTS &&
			       t->tx_sent - atomic_load(&t->tx_got) < IN_FLIGHT)
				ef_inject_udp(t->s, t->peer, t->local, 9998, i, t->tx_sent++);
			while ((p = WintunReceivePacket(t->s, &len))) {
				if (udp_of(p, len, &stream, &seq)) {
					if (stream != 100 + i || seq != atomic_load(&t->rx_got))
						atomic_fetch_add(&t->rx_bad, 1);
					atomic_fetch_add(&t->rx_got, 1);
				}
				WintunReleaseReceivePacket(t->s, p);
			}
		}
	}
	return NULL;
}

/* The kernel side of every session, round robin: send a burst to the peer
 * behind the rings, collect what the sink got from the ring. */
static void *mesh_kernel(void *arg)
{
	struct mesh *m = arg;
	uint8_t buf[2048];

	while (!atomic_load(&m->stop)) {
		for (unsigned i = 0; i < N_PORTS; i++) {
			struct port_traffic *t = &m->t[i];
			uint32_t stream, seq;
			ssize_t n;

			while (t->rx_sent < N_PKTS &&
			       t->rx_sent - atomic_load(&t->rx_got) < IN_FLIGHT)
				ef_send_udp(t->src, t->peer, 9999, 200, 100 + i, t->rx_sent++);
			while ((n = recv(t->sink, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
				if (!wt_test_payload_check(buf, (uint32_t)n, &stream, &seq) ||
				    stream != i || seq != atomic_load(&t->tx_got))
					atomic_fetch_add(&t->tx_bad, 1);
				atomic_fetch_add(&t->tx_got, 1);
			}
		}
	}
	return NULL;
}

static bool mesh_done(struct mesh *m)
{
	for (unsigned i = 0; i < N_PORTS; i++)
		if (atomic_load(&m->t[i].rx_got) < N_PKTS || atomic_load(&m->t[i].tx_got) < N_PKTS)
			return false;
	return true;
}

/* 16 sessions on one engine, each with a full RX batch (256 reads) and up
 * to 200 writes in flight, all at once: every packet each way arrives, in
 * order, and no completion ever spills past the CQ. */
Test(shared_engine, sixteen_sessions_flooding_both_ways, .timeout = 600)
{
	WINTUN_SESSION_OPTIONS o = { .Size = sizeof(o), .Capacity = 0x100000, .BatchDepth = 256 };
	static struct mesh m;
	WINTUN_ADAPTER_HANDLE a[N_PORTS];
	int64_t t0;
	pthread_t tc, tk;

	for (unsigned i = 0; i < N_PORTS; i++) {
		struct port_traffic *t = &m.t[i];
		char name[16];

		snprintf(name, sizeof(name), "wtm%u", i);
		snprintf(t->local, sizeof(t->local), "10.20.%u.1", i);
		snprintf(t->peer, sizeof(t->peer), "10.20.%u.2", i);
		a[i] = ef_adapter(name, t->local, true);
		o.ShareEngineWith = i ? m.t[0].s : NULL;
		t->s = WintunStartSessionEx(a[i], &o);
		cr_assert_not_null(t->s, "session %u: %s", i, strerror(errno));
		t->src = ef_udp_bound(t->local, 0);
		t->sink = ef_udp_bound(t->local, 9998);
	}
	t0 = ef_now_ms();
	pthread_create(&tc, NULL, mesh_clients, &m);
	pthread_create(&tk, NULL, mesh_kernel, &m);
	/* A guard against a hang, not a speed test. */
	while (!mesh_done(&m) && ef_now_ms() - t0 < 300000)
		usleep(20000);
	atomic_store(&m.stop, true);
	pthread_join(tc, NULL);
	pthread_join(tk, NULL);
	printf("16 sessions x %u packets each way in %lld ms, %llu CQ overflows\n", N_PKTS,
	       (long long)(ef_now_ms() - t0),
	       (unsigned long long)wt_stat_get(&m.t[0].s->engine->cq_overflows));
	for (unsigned i = 0; i < N_PORTS; i++) {
		struct port_traffic *t = &m.t[i];
		WINTUN_SESSION_STATISTICS st;

		/* A write is counted when its completion is reaped, which can
		 * be after the sink already has the packet (hang guard 10 s). */
		for (int k = 0; k < 1000; k++) {
			stats(t->s, &st);
			if (st.Tx.Packets >= N_PKTS)
				break;
			usleep(10000);
		}
		cr_expect_eq(atomic_load(&t->rx_got), N_PKTS, "session %u: %u of %u to the ring", i,
			     atomic_load(&t->rx_got), N_PKTS);
		cr_expect_eq(atomic_load(&t->tx_got), N_PKTS, "session %u: %u of %u to the kernel",
			     i, atomic_load(&t->tx_got), N_PKTS);
		cr_expect_eq(atomic_load(&t->rx_bad) + atomic_load(&t->tx_bad), 0,
			     "session %u: out of order or corrupt", i);
		cr_expect_eq(st.Tx.Packets, N_PKTS, "session %u: %llu written", i,
			     (unsigned long long)st.Tx.Packets);
		cr_expect_eq(st.Tx.DropWriteError + st.Tx.DropNonIp + st.Tx.DropBogus, 0);
	}
	cr_expect_eq(wt_stat_get(&m.t[0].s->engine->cq_overflows), 0,
		     "completions spilled past the CQ");
	for (unsigned i = 0; i < N_PORTS; i++) {
		WintunEndSession(m.t[N_PORTS - 1 - i].s);
		close(m.t[i].src);
		close(m.t[i].sink);
		WintunCloseAdapter(a[i]);
	}
}
