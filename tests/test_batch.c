/* SPDX-License-Identifier: MIT */
/* The batch calls, driven step by step from the engine side (fake_engine). */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "client_fixture.h"
#include "fake_engine.h"
#include "helpers.h"
#include "src/atomic.h"
#include "src/ring_sync.h"
#include "src/session.h"
#include "wintun.h"

TestSuite(batch, .init = client_fixture_setup, .fini = client_fixture_teardown, .timeout = 60);

/* Record offset of a received packet in the Send ring. */
static uint32_t off_of(const WINTUN_BATCH_PACKET *p)
{
	return (uint32_t)(p->Data - send_ring()->Data) - 4;
}

Test(batch, receive_in_ring_order_skipping_pads)
{
	static const char *const words[] = { "one", "second", "3", "fourth!" };
	WINTUN_BATCH_PACKET p[8];

	fake_produce(sess, words[0], 3);
	fake_produce_pad(sess, 10);
	fake_produce(sess, words[1], 6);
	fake_produce(sess, words[2], 1);
	fake_produce_pad(sess, 0);
	fake_produce(sess, words[3], 7);
	cr_assert_eq(WintunReceivePackets(sess, p, 8), 4);
	for (int i = 0; i < 4; i++) {
		cr_expect_eq(p[i].Size, strlen(words[i]));
		cr_expect_arr_eq(p[i].Data, words[i], p[i].Size);
	}
	errno = 0;
	cr_expect_eq(WintunReceivePackets(sess, p, 8), 0);
	cr_expect_eq(errno, EAGAIN);
	/* EAGAIN armed the wake-up as WintunReceivePacket's does. */
	cr_expect_eq(send_ring()->Alertable, 1);
}

Test(batch, count_bounds_the_batch)
{
	WINTUN_BATCH_PACKET p[3];

	for (char c = 'a'; c < 'f'; c++)
		fake_produce(sess, &c, 1);
	cr_assert_eq(WintunReceivePackets(sess, p, 3), 3);
	cr_expect_eq(p[2].Data[0], 'c');
	cr_assert_eq(WintunReceivePackets(sess, p, 3), 2);
	cr_expect_eq(p[0].Data[0], 'd');
	cr_expect_eq(p[1].Data[0], 'e');
	/* A batch cut short by an empty ring does not arm: only EAGAIN does. */
	cr_expect_eq(send_ring()->Alertable, 0);
}

Test(batch, release_in_any_order_frees_in_ring_order)
{
	WINTUN_BATCH_PACKET p[5], q[2];
	uint32_t tail;

	for (char c = 'a'; c < 'f'; c++)
		fake_produce(sess, &c, 1);
	tail = send_ring()->Tail;
	cr_assert_eq(WintunReceivePackets(sess, p, 5), 5);
	q[0] = p[4];
	q[1] = p[1];
	WintunReleaseReceivePackets(sess, q, 2);
	cr_expect_eq(send_ring()->Head, 0, "p[0] is still out");
	WintunReleaseReceivePackets(sess, &p[0], 1);
	cr_expect_eq(send_ring()->Head, off_of(&p[2]), "freed up to the first held one");
	/* A single-packet release mixes with the batch. */
	WintunReleaseReceivePacket(sess, p[3].Data);
	cr_expect_eq(send_ring()->Head, off_of(&p[2]));
	WintunReleaseReceivePackets(sess, &p[2], 1);
	cr_expect_eq(send_ring()->Head, tail);
}

Test(batch, release_rejects_foreign_and_double_but_releases_the_rest)
{
	WINTUN_BATCH_PACKET p[2], bad[3];
	uint8_t local[8];

	fake_produce(sess, "abcd", 4);
	fake_produce(sess, "efgh", 4);
	cr_assert_eq(WintunReceivePackets(sess, p, 2), 2);
	WintunReleaseReceivePackets(sess, &p[0], 1);
	bad[0] = p[0]; /* released already */
	bad[1] = (WINTUN_BATCH_PACKET){ .Data = local, .Size = 4 };
	bad[2] = p[1];
	errno = 0;
	WintunReleaseReceivePackets(sess, bad, 3);
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("2 of 3 packets (the first at index 0"));
	cr_expect_eq(send_ring()->Head, send_ring()->Tail, "p[1] was released all the same");
}

Test(batch, allocate_is_a_prefix_when_the_ring_fills)
{
	WINTUN_BATCH_PACKET p[128];
	uint32_t fit = (CAP - 4) / 1504, n;

	for (int i = 0; i < 128; i++)
		p[i] = (WINTUN_BATCH_PACKET){ .Size = 1500 };
	n = WintunAllocateSendPackets(sess, p, 128);
	cr_assert_eq(n, fit);
	for (uint32_t i = 0; i < n; i++)
		cr_expect_eq(p[i].Data, recv_ring()->Data + 4 + i * 1504);
	cr_expect_null(p[n].Data, "past the prefix nothing is touched");
	errno = 0;
	cr_expect_eq(WintunAllocateSendPackets(sess, &p[n], 1), 0);
	cr_expect_eq(errno, ENOBUFS);
	WintunSendPackets(sess, p, n);
	cr_expect_eq(recv_ring()->Tail, n * 1504);
	/* The engine consumes: room again, the rest continues in order. */
	wt_store_release(&recv_ring()->Head, recv_ring()->Tail);
	cr_expect_eq(WintunAllocateSendPackets(sess, &p[n], 128 - n), 128 - n > fit ? fit : 128 - n);
}

Test(batch, send_publishes_once_in_allocation_order)
{
	WINTUN_BATCH_PACKET p[4], q[3];
	uint8_t *single;

	for (int i = 0; i < 4; i++)
		p[i] = (WINTUN_BATCH_PACKET){ .Size = 20 + 4 * (uint32_t)i };
	cr_assert_eq(WintunAllocateSendPackets(sess, p, 2), 2);
	single = WintunAllocateSendPacket(sess, 100);
	cr_assert_eq(WintunAllocateSendPackets(sess, &p[2], 2), 2);
	for (int i = 0; i < 4; i++)
		memset(p[i].Data, 'a' + i, p[i].Size);
	q[0] = p[3];
	q[1] = p[2];
	q[2] = p[1];
	WintunSendPackets(sess, q, 3);
	cr_expect_eq(recv_ring()->Tail, 0, "p[0] is still being filled");
	WintunSendPackets(sess, p, 1);
	cr_expect_eq(recv_ring()->Tail, 24 + 28, "up to the single allocation");
	WintunSendPacket(sess, single);
	cr_expect_eq(recv_ring()->Tail, 24 + 28 + 104 + 32 + 36);
	cr_expect_eq(wintun_ring_record(recv_ring(), 24 + 28 + 104 + 32)->Size, 32);
	cr_expect_eq(wintun_ring_record(recv_ring(), 24 + 28 + 104 + 32)->Data[0], 'd');
	errno = 0;
	WintunSendPackets(sess, p, 1);
	cr_expect_eq(errno, EINVAL, "double send");
}

Test(batch, send_wakes_an_armed_consumer_once)
{
	WINTUN_BATCH_PACKET p[16];
	uint64_t count = 0;

	for (int i = 0; i < 16; i++)
		p[i] = (WINTUN_BATCH_PACKET){ .Size = 20 };
	cr_assert(wt_ring_arm(recv_ring(), recv_ring()->Head));
	cr_assert_eq(WintunAllocateSendPackets(sess, p, 16), 16);
	WintunSendPackets(sess, p, 16);
	cr_expect_eq(recv_ring()->Alertable, 0);
	cr_assert_eq(read(sess->rings.desc.Receive.TailMoved, &count, sizeof(count)), 8);
	cr_expect_eq(count, 1, "one wake-up for the batch");
	cr_expect_eq(recv_ring()->Tail, 16 * 24);
}

Test(batch, session_end_gives_eshutdown)
{
	WINTUN_BATCH_PACKET p[2] = { { .Size = 20 }, { .Size = 20 } };

	wt_ring_pair_close(&sess->rings);
	errno = 0;
	cr_expect_eq(WintunReceivePackets(sess, p, 2), 0);
	cr_expect_eq(errno, ESHUTDOWN);
	errno = 0;
	cr_expect_eq(WintunAllocateSendPackets(sess, p, 2), 0);
	cr_expect_eq(errno, ESHUTDOWN);
}

Test(batch, bad_input)
{
	WINTUN_BATCH_PACKET p[2] = { { .Size = 20 }, { .Size = 0 } };

	errno = 0;
	cr_expect_eq(WintunReceivePackets(NULL, p, 1), 0);
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_eq(WintunReceivePackets(sess, p, 0), 0);
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_eq(WintunAllocateSendPackets(sess, p, 2), 0);
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("packet 1: size 0"));
	cr_expect_null(p[0].Data, "nothing allocated when one size is bad");
	p[1].Size = WINTUN_MAX_IP_PACKET_SIZE + 1;
	errno = 0;
	cr_expect_eq(WintunAllocateSendPackets(sess, p, 2), 0);
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	WintunSendPackets(sess, NULL, 1);
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	WintunReleaseReceivePackets(sess, NULL, 0);
	cr_expect_eq(errno, 0, "an empty release is fine");
}
