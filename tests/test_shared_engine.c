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
#include <unistd.h>

#include "engine_fixture.h"

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
		if (st.Rx.DropRingFull)
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
	int64_t deleted;

	hold_ring_full(sa, "10.14.0.1", "10.14.0.2");
	pthread_create(&tc, NULL, busy_client, &busy);
	pthread_create(&tk, NULL, busy_kernel, &busy);
	pthread_create(&tw, NULL, wait_forever, &w);
	usleep(300000); /* the waiter sleeps, the engine is busy */
	deleted = ef_now_ms();
	WintunCloseAdapter(a); /* deletes the device */
	/* The flood goes on for 10 s at most: the bound below is 2 s. */
	for (int i = 0; i < 1000 && !atomic_load(&w.done); i++)
		usleep(10000);
	atomic_store(&busy.stop, true);
	pthread_join(tc, NULL);
	pthread_join(tk, NULL);
	pthread_join(tw, NULL);
	printf("deleted device's waiter woke after %lld ms (device check every 250 ms)\n",
	       (long long)(w.at_ms - deleted));
	cr_expect_not(w.result);
	cr_expect_eq(w.err, ESHUTDOWN, "waiter: %s", strerror(w.err));
	cr_expect_leq(w.at_ms - deleted, 2000, "the session ended %lld ms after the deletion",
		      (long long)(w.at_ms - deleted));
	WintunEndSession(sb);
	WintunEndSession(sa);
	WintunCloseAdapter(b);
}
