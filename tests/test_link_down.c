/* SPDX-License-Identifier: MIT */
/* Issue #11, defect 1: a TUN device refuses writes (EIO) while its link is
 * down.  That is one dropped packet, as on Windows, never the session's
 * end: adapters are created down and links flap. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "engine_fixture.h"

#define LOCAL "10.13.0.1" /* the kernel's side */
#define PEER "10.13.0.2"  /* behind the rings */

static void stats(WINTUN_SESSION_HANDLE s, WINTUN_SESSION_STATISTICS *st)
{
	st->Size = sizeof(*st);
	cr_assert(WintunGetSessionStatistics(s, st));
}

/* One packet each way, retried until one gets through (hang guard 10 s):
 * right after the link comes up the kernel may still be settling its routes,
 * and a slow machine may take longer than one try's 500 ms.  A late packet
 * of an earlier try counts as well. */
static void traffic_flows(WINTUN_SESSION_HANDLE s, int sink, int src, uint32_t stream)
{
	int64_t guard = ef_now_ms() + 10000;
	bool to_kernel = false, to_ring = false;
	uint32_t seq;

	for (uint32_t i = 0; !(to_kernel && to_ring) && ef_now_ms() < guard; i++) {
		if (!to_kernel) {
			ef_inject_udp(s, PEER, LOCAL, 9998, stream, i);
			to_kernel = ef_recv_udp(sink, stream, 500, &seq);
		}
		if (!to_ring) {
			ef_send_udp(src, PEER, 9999, 100, stream, i);
			to_ring = ef_ring_recv_udp(s, 9999, stream, 500, &seq);
		}
	}
	cr_assert(to_kernel, "stream %u: nothing reached the kernel", stream);
	cr_assert(to_ring, "stream %u: nothing reached the ring", stream);
}

Test(link_down, send_while_down_then_up, .timeout = 60)
{
	WINTUN_SESSION_STATISTICS st;
	WINTUN_ADAPTER_HANDLE a = ef_adapter("wtld0", LOCAL, false);
	WINTUN_SESSION_HANDLE s = WintunStartSession(a, 0x20000);
	int sink, src;

	cr_assert_not_null(s, "start: %s", strerror(errno));
	/* A Windows port sends before anyone brings the link up. */
	for (uint32_t i = 0; i < 10; i++)
		ef_inject_udp(s, PEER, LOCAL, 9998, 1, i);
	for (int i = 0; i < 1000; i++) {
		stats(s, &st);
		if (st.Tx.DropWriteError >= 10)
			break;
		usleep(10000);
	}
	cr_expect_eq(st.Tx.DropWriteError, 10, "%llu writes refused while down",
		     (unsigned long long)st.Tx.DropWriteError);
	cr_assert(WintunSetAdapterUp(a, true));
	sink = ef_udp_bound(LOCAL, 9998);
	src = ef_udp_bound(LOCAL, 0);
	traffic_flows(s, sink, src, 2);
	close(sink);
	close(src);
	WintunEndSession(s);
	WintunCloseAdapter(a);
}

struct flood {
	WINTUN_SESSION_HANDLE s;
	int src;
	atomic_bool stop;
	atomic_bool pause, paused; /* asked for; the flood thread has stopped */
};

/* Both directions at once, errors ignored: while the link is down the
 * kernel has no route (ENETUNREACH) and the device refuses writes. */
static void *flood(void *arg)
{
	struct flood *f = arg;

	for (uint32_t seq = 0; !atomic_load(&f->stop); seq++) {
		uint8_t *p;

		if (atomic_load(&f->pause)) {
			atomic_store(&f->paused, true);
			usleep(1000);
			continue;
		}
		ef_send_udp(f->src, PEER, 9999, 200, 3, seq);
		p = WintunAllocateSendPacket(f->s, 100);
		if (p) {
			memset(p, 0, 100);
			p[0] = 0x45; /* an IPv4 header the kernel will drop */
			WintunSendPacket(f->s, p);
		} else {
			cr_assert_eq(errno, ENOBUFS, "allocate: %s", strerror(errno));
			sched_yield();
		}
	}
	return NULL;
}

/* Keep the Send ring drained so the flood does not stall RX. */
static void drain(WINTUN_SESSION_HANDLE s, unsigned ms)
{
	int64_t until = ef_now_ms() + ms;

	while (ef_now_ms() < until) {
		uint32_t len;
		uint8_t *p = WintunReceivePacket(s, &len);

		if (p)
			WintunReleaseReceivePacket(s, p);
		else if (errno == EAGAIN)
			WintunWaitForPacket(s, 10);
		else
			cr_assert_fail("receive: %s", strerror(errno));
	}
}

Test(link_down, three_flaps_under_a_flood, .timeout = 120)
{
	WINTUN_SESSION_STATISTICS st;
	WINTUN_ADAPTER_HANDLE a = ef_adapter("wtld1", LOCAL, true);
	WINTUN_SESSION_HANDLE s = WintunStartSession(a, 0x40000);
	struct flood f = { .s = s };
	int sink, src;
	pthread_t t;

	cr_assert_not_null(s, "start: %s", strerror(errno));
	sink = ef_udp_bound(LOCAL, 9998);
	src = ef_udp_bound(LOCAL, 0);
	f.src = ef_udp_bound(LOCAL, 0);
	pthread_create(&t, NULL, flood, &f);
	for (uint32_t flap = 0; flap < 3; flap++) {
		drain(s, 100);
		cr_assert(WintunSetAdapterUp(a, false));
		drain(s, 100);
		cr_assert(WintunSetAdapterUp(a, true));
		drain(s, 50);
		/* The probes go while the flood pauses: under it, the TUN
		 * queue (500) stays full and a probe gets in only by chance.
		 * The link went down and up under the flood all the same. */
		atomic_store(&f.paused, false);
		atomic_store(&f.pause, true);
		for (int i = 0; i < 1000 && !atomic_load(&f.paused); i++)
			usleep(10000);
		cr_assert(atomic_load(&f.paused), "the flood did not pause");
		traffic_flows(s, sink, src, 10 + flap);
		atomic_store(&f.pause, false);
	}
	atomic_store(&f.stop, true);
	pthread_join(t, NULL);
	stats(s, &st);
	cr_expect_gt(st.Tx.DropWriteError, 0, "no write was refused: did the link go down?");
	close(sink);
	close(src);
	close(f.src);
	WintunEndSession(s);
	WintunCloseAdapter(a);
}
