/* SPDX-License-Identifier: MIT */
/*
 * RX record placement: once a batch of reads has settled, each packet's
 * record is moved back to where the previous one ended, so a packet takes
 * its record's bytes of the Send ring, not a whole slot.
 *
 * Why move rather than read into right-sized slots: a TUN read drops a
 * packet that does not fit its buffer, and its length is known only once it
 * is read, so every read still gets an MTU-sized slot.  A 92-byte packet left
 * in place takes 1504 bytes: 16 times the memory for the client to walk, and
 * a 4 MiB ring fills after ~2,800 small packets.  Moving it costs one copy of
 * bytes the kernel has just written (in cache) and needs nothing from the
 * kernel, so every read path (io_uring with or without fixed buffers, read(2)
 * before 6.4) gets it alike.
 *
 * Safety of the moves: a record never exceeds its slot, so the place it goes
 * to is never past its slot's start, and the batch is walked in ring order:
 * a move only overwrites slots already settled, never a later slot's packet.
 * Order is kept: records stay in read order, only closer together.
 *
 * A record stays in place, behind a pad covering the gap, when moving it
 * would copy far more than it gives back (near-MTU packets each leaving a
 * few dozen bytes) or when it is large (an offload-mode super-packet: the
 * pad costs the client nothing, 64 KiB of copy costs the engine a lot).
 */
#include <linux/if_tun.h>
#include <string.h>

#include "engine_internal.h"
#include "kernel_features.h"

/* Largest record worth moving: an MTU-9000 packet, not a super-packet. */
#define WT_RX_MOVE_MAX 9216u
/* Move when the gap closed is at least this share (1/n) of the bytes copied. */
#define WT_RX_MOVE_RATIO 4u
/* The most one pad record covers: 4 + 0xFFFC, kept a multiple of 4. */
#define WT_RX_PAD_MAX 0x10000u

/* Cover @len bytes at @off (a multiple of 4) with pad records. */
void wt_rx_pad_gap(struct wt_port *p, uint32_t off, uint32_t len)
{
	WINTUN_RING *ring = p->rings->desc.Send.Ring;

	while (len) {
		uint32_t n = len > WT_RX_PAD_MAX ? WT_RX_PAD_MAX : len;

		wintun_ring_record(ring, off)->Size =
			WINTUN_PACKET_PAD | (n - (uint32_t)sizeof(WINTUN_RING_PACKET));
		off = wintun_ring_wrap(off + n, p->rings->capacity);
		len -= n;
	}
}

static bool rx_worth_moving(const struct wt_port *p, uint32_t gap, uint32_t rec)
{
	if (!(p->features & WINTUN_FEATURE_RX_COMPACT))
		return false;
	return rec <= WT_RX_MOVE_MAX && gap * WT_RX_MOVE_RATIO >= rec;
}

/*
 * Settle the read of the slot at @off (result @res) into a record at *@end,
 * where the previous record of the batch ended, and move *@end past it.
 * Returns true if the slot held a packet; an empty or dropped slot leaves
 * *@end where it was (the next record closes the gap).
 */
bool wt_rx_place(struct wt_port *p, uint32_t *end, uint32_t off, int res)
{
	WINTUN_RING *ring = p->rings->desc.Send.Ring;
	uint32_t cap = p->rings->capacity;
	uint32_t len, gap, at = off;
	struct tun_pi pi;

	if (res < (int)sizeof(pi))
		return false; /* nothing read */
	memcpy(&pi, wintun_ring_record(ring, off), sizeof(pi));
	if (pi.flags & TUN_PKT_STRIP) {
		wt_stat_add(&p->stats->rx.drop_truncated, 1);
		p->mtu_checked_ns = 0; /* the MTU grew: follow it before the next batch */
		return false;
	}
	len = (uint32_t)res - (uint32_t)sizeof(pi);
	gap = wintun_ring_wrap(off - *end, cap);
	if (gap && rx_worth_moving(p, gap, wintun_ring_record_size(len))) {
		/* Both ends are below the capacity and a record runs on into
		 * the trailing bytes, so each side is contiguous. */
		memmove(wintun_ring_record(ring, *end)->Data, wintun_ring_record(ring, off)->Data, len);
		at = *end;
	} else if (gap) {
		wt_rx_pad_gap(p, *end, gap);
	}
	wintun_ring_record(ring, at)->Size = len;
	*end = wintun_ring_next(at, len, cap);
	wt_stat_add(&p->stats->rx.packets, 1);
	wt_stat_add(&p->stats->rx.bytes, len);
	return true;
}
