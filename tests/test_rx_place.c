/* SPDX-License-Identifier: MIT */
/*
 * wt_rx_place (engine_rx_compact.c) on a ring in plain memory, no TUN: slots
 * filled as the kernel would (tun_pi + packet), placed in order, then the
 * Send ring walked as a client does.  Covers what the netns tests reach only
 * by chance: batches across the wrap point, empty and truncated slots, gaps
 * longer than one pad can cover (offload-mode slots), the feature off.
 */
#include <criterion/criterion.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>

#include "src/engine_internal.h"
#include "src/session.h"
#include "wintun.h"
#include "wintun/ring.h"

static struct wt_ring_pair rp;
static struct wt_port_stats stats;
static struct wt_port port;
static WINTUN_RING *ring;

static void setup_ring(uint32_t cap, uint32_t slot, bool compact)
{
	ring = calloc(1, wintun_ring_size(cap));
	cr_assert_not_null(ring);
	memset(&rp, 0, sizeof(rp));
	memset(&stats, 0, sizeof(stats));
	memset(&port, 0, sizeof(port));
	rp.desc.Send.Ring = ring;
	rp.capacity = cap;
	port.rings = &rp;
	port.stats = &stats;
	port.slot_size = slot;
	port.features = compact ? WINTUN_FEATURE_RX_COMPACT : 0;
}

static uint8_t byte_of(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31u + i * 7u + 1u);
}

/* What a TUN read of packet @seq (@len bytes) leaves in the slot at @off. */
static int fill_slot(uint32_t off, uint32_t seq, uint32_t len, uint16_t flags)
{
	struct tun_pi pi = { .flags = flags, .proto = 0x0008 };
	uint8_t *at = ring->Data + off;

	memcpy(at, &pi, sizeof(pi));
	for (uint32_t i = 0; i < len; i++)
		at[sizeof(pi) + i] = byte_of(seq, i);
	return (int)(sizeof(pi) + len);
}

struct want {
	uint32_t seq, len;
};

/* Walk from @start to @end as the client would: every packet of @w, in
 * order, intact; pads skipped; nothing else. */
static void walk(uint32_t start, uint32_t end, const struct want *w, unsigned n)
{
	uint32_t cap = rp.capacity, off = start;
	unsigned got = 0;

	while (off != end) {
		uint32_t word = wintun_ring_record(ring, off)->Size;
		uint32_t len = wintun_ring_record_len(word);

		cr_assert(wintun_ring_record_valid(off, end, cap, word, true),
			  "bad record 0x%x at %u", word, off);
		if (!wintun_ring_record_is_pad(word)) {
			const uint8_t *d = wintun_ring_record(ring, off)->Data;

			cr_assert_lt(got, n, "more packets than were read");
			cr_assert_eq(len, w[got].len, "packet %u: %u bytes, read %u", got, len,
				     w[got].len);
			for (uint32_t i = 0; i < len; i++)
				cr_assert_eq(d[i], byte_of(w[got].seq, i),
					     "packet %u corrupt at byte %u", got, i);
			got++;
		}
		off = wintun_ring_next(off, len, cap);
	}
	cr_assert_eq(got, n, "%u packets in the ring, %u read", got, n);
}

static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1664525u + 1013904223u;
	return *x >> 8;
}

/* One batch of @n MTU slots starting 10 slots before the wrap point, with
 * random sizes, some empty and one truncated slot.  Returns the ring bytes
 * the placed records (and pads) take. */
static uint32_t mixed_batch(uint32_t seed, unsigned n)
{
	uint32_t cap = rp.capacity, slot = port.slot_size;
	uint32_t start = cap - 10 * slot - 12, off = start, end = start, x = seed;
	struct want w[256];
	unsigned nw = 0;

	cr_assert_leq(n, 256);
	for (unsigned i = 0; i < n; i++, off = wintun_ring_wrap(off + slot, cap)) {
		uint32_t r = lcg(&x), len = 20 + r % (1500 - 20 + 1);
		int res;

		if (r % 13 == 0) {
			res = -11; /* EAGAIN: an empty slot */
		} else if (r % 29 == 0) {
			res = fill_slot(off, i, len, TUN_PKT_STRIP); /* dropped */
		} else {
			res = fill_slot(off, i, len, 0);
			w[nw++] = (struct want){ i, len };
		}
		cr_assert_eq(wt_rx_place(&port, &end, off, res), res > 0 && r % 29 != 0);
	}
	walk(start, end, w, nw);
	return wintun_ring_wrap(end - start, cap);
}

Test(rx_place, mixed_sizes_across_the_wrap_point)
{
	setup_ring(WINTUN_MIN_RING_CAPACITY, 1504, true);
	for (uint32_t seed = 1; seed <= 200; seed++)
		mixed_batch(seed, 64);
	free(ring);
}

Test(rx_place, feature_off_keeps_slots)
{
	setup_ring(WINTUN_MIN_RING_CAPACITY, 1504, false);
	for (uint32_t seed = 1; seed <= 50; seed++)
		mixed_batch(seed, 64);
	free(ring);
}

Test(rx_place, small_packets_take_their_record_bytes)
{
	uint32_t start = 0x1000, end = start, off = start;
	struct want w[64];

	setup_ring(WINTUN_MIN_RING_CAPACITY, 1504, true);
	for (unsigned i = 0; i < 64; i++, off += 1504) {
		w[i] = (struct want){ i, 92 };
		wt_rx_place(&port, &end, off, fill_slot(off, i, 92, 0));
	}
	walk(start, end, w, 64);
	cr_expect_eq(end - start, 64 * 96);
	free(ring);
}

/* Offload mode: 64 KiB slots.  ACKs are moved together; a super-packet
 * stays in place behind pads covering more than one pad can say. */
Test(rx_place, offload_slots_long_gaps)
{
	uint32_t slot = wintun_ring_record_size(WINTUN_RING_MAX_PACKET_SIZE);
	uint32_t cap = 0x100000, start = cap - 3 * slot - 8, end = start, off = start;
	static const uint32_t lens[] = { 52, 52, 40, 60000, 52, 0xFFFF, 40, 9000, 52, 60 };
	struct want w[10];

	setup_ring(cap, slot, true);
	for (unsigned i = 0; i < 10; i++, off = wintun_ring_wrap(off + slot, cap)) {
		w[i] = (struct want){ i, lens[i] };
		wt_rx_place(&port, &end, off, fill_slot(off, i, lens[i], 0));
	}
	walk(start, end, w, 10);
	free(ring);
}
