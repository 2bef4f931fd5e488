/* SPDX-License-Identifier: MIT */
/* Issue #11, defect 4: a client that stops releasing fills the Send ring;
 * the engine must then sleep until space comes back, not poll for it. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine_fixture.h"
#include "src/atomic.h"
#include "wintun/ring.h"

#define LOCAL "10.16.0.1"
#define PEER "10.16.0.2"
#define MEASURE_MS 3000

static int engine_tid(WINTUN_SESSION_HANDLE s)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	cr_assert(WintunGetSessionStatistics(s, &st));
	return st.EngineThreadId;
}

/* Times the engine stopped reading for lack of Send ring space (the packet
 * count, DropRingFull, only catches up when an episode ends). */
static uint64_t ring_full(WINTUN_SESSION_HANDLE s)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	cr_assert(WintunGetSessionStatistics(s, &st));
	return st.RxRingFullEpisodes;
}

/* The engine thread's wake-ups per second over MEASURE_MS: each sleep it
 * wakes from is one voluntary context switch. */
static double wakeups_per_s(int tid, const char *what)
{
	uint64_t before = ef_voluntary_switches(tid), after;
	int64_t t0 = ef_now_ms(), ms;
	double rate;

	usleep(MEASURE_MS * 1000);
	after = ef_voluntary_switches(tid);
	ms = ef_now_ms() - t0;
	rate = (double)(after - before) * 1000.0 / (double)ms;
	printf("%s: %llu engine wake-ups in %lld ms (%.1f/s)\n", what,
	       (unsigned long long)(after - before), (long long)ms, rate);
	return rate;
}

/* Send datagrams to the peer until the engine stops reading for lack of
 * Send ring space (the client reads nothing meanwhile). */
static void fill(WINTUN_SESSION_HANDLE s, int fd)
{
	for (uint32_t seq = 0; !ring_full(s); seq++) {
		cr_assert_lt(seq, 100000, "the ring never filled");
		ef_send_udp(fd, PEER, 9999, 1400, 1, seq);
	}
}

Test(rx_stall, stalled_client_engine_sleeps_until_release, .timeout = 120)
{
	WINTUN_ADAPTER_HANDLE a = ef_adapter("wtst0", LOCAL, true);
	WINTUN_SESSION_HANDLE s = WintunStartSession(a, 0x20000);
	int fd = ef_udp_bound(LOCAL, 0), tid;
	uint32_t seq;

	cr_assert_not_null(s, "start: %s", strerror(errno));
	tid = engine_tid(s);
	usleep(200000);
	cr_expect_leq(wakeups_per_s(tid, "idle"), 20.0);
	fill(s, fd);
	/* Packets keep coming while the client holds the ring: the kernel
	 * queues and drops them, the engine must not wake for them either. */
	for (uint32_t i = 0; i < 20; i++)
		ef_send_udp(fd, PEER, 9999, 1400, 1, 100000 + i);
	cr_expect_leq(wakeups_per_s(tid, "Send ring full, client stalled"), 50.0);
	/* The client releases: the engine resumes (the new stream comes after
	 * whatever the kernel still queues). */
	ef_send_udp(fd, PEER, 9999, 100, 2, 0);
	cr_expect(ef_ring_recv_udp(s, 9999, 2, 10000, &seq), "RX did not resume after release");
	close(fd);
	WintunEndSession(s);
	WintunCloseAdapter(a);
}

/* A raw-ring client releases by storing Head itself and knows nothing of
 * the library's release wake-up: the engine retries on a slow timer. */
Test(rx_stall, raw_ring_client_stalled_slow_retry, .timeout = 120)
{
	WINTUN_ADAPTER_HANDLE a = ef_adapter("wtst1", LOCAL, true);
	uint32_t cap = 0x20000, tail;
	size_t size = wintun_ring_size(cap);
	WINTUN_REGISTER_RINGS r = { 0 };
	WINTUN_SESSION_HANDLE s;
	int fd = ef_udp_bound(LOCAL, 0), tid;
	uint64_t full;

	r.Send.Ring = aligned_alloc(64, (size + 63) & ~(size_t)63);
	r.Receive.Ring = aligned_alloc(64, (size + 63) & ~(size_t)63);
	memset(r.Send.Ring, 0, size);
	memset(r.Receive.Ring, 0, size);
	r.Send.RingSize = r.Receive.RingSize = (uint32_t)size;
	r.Send.TailMoved = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r.Receive.TailMoved = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s = WintunRegisterRings(a, &r);
	cr_assert_not_null(s, "register: %s", strerror(errno));
	tid = engine_tid(s);
	fill(s, fd);
	cr_expect_leq(wakeups_per_s(tid, "raw ring full, client stalled"), 50.0);
	/* Release everything by hand: the engine finds the space on its next
	 * retry and reads again. */
	full = ring_full(s);
	tail = wt_load_acquire(&r.Send.Ring->Tail);
	wt_store_release(&r.Send.Ring->Head, tail);
	for (int i = 0; i < 500 && wt_load_acquire(&r.Send.Ring->Tail) == tail; i++) {
		ef_send_udp(fd, PEER, 9999, 100, 2, (uint32_t)i);
		usleep(10000);
	}
	cr_expect_neq(wt_load_acquire(&r.Send.Ring->Tail), tail, "RX did not resume");
	(void)full;
	close(fd);
	WintunEndSession(s);
	WintunCloseAdapter(a);
	close(r.Send.TailMoved);
	close(r.Receive.TailMoved);
	free(r.Send.Ring);
	free(r.Receive.Ring);
}
