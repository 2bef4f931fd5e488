/* SPDX-License-Identifier: MIT */
/* Ring arithmetic of wintun/ring.h against hand-computed vectors. */
#include <criterion/criterion.h>

#include "wintun/ring.h"

#define CAP 0x20000u

Test(ring, align)
{
	cr_expect_eq(wintun_ring_align(0), 0);
	cr_expect_eq(wintun_ring_align(1), 4);
	cr_expect_eq(wintun_ring_align(4), 4);
	cr_expect_eq(wintun_ring_align(5), 8);
	cr_expect_eq(wintun_ring_align(0xFFFF), 0x10000);
}

Test(ring, record_size)
{
	cr_expect_eq(wintun_ring_record_size(0), 4);
	cr_expect_eq(wintun_ring_record_size(1), 8);
	cr_expect_eq(wintun_ring_record_size(4), 8);
	cr_expect_eq(wintun_ring_record_size(20), 24);
	cr_expect_eq(wintun_ring_record_size(1500), 1504);
	cr_expect_eq(wintun_ring_record_size(0xFFFF), 0x10004);
}

Test(ring, next_wraps_at_capacity)
{
	cr_expect_eq(wintun_ring_next(0, 20, CAP), 24);
	cr_expect_eq(wintun_ring_next(0x1FFF0, 12, CAP), 0);       /* ends exactly at the end */
	cr_expect_eq(wintun_ring_next(0x1FFF0, 13, CAP), 4);       /* spills 4 bytes */
	cr_expect_eq(wintun_ring_next(0x1FFFC, 0xFFFF, CAP), 0x10000); /* largest, last offset */
	cr_expect_eq(wintun_ring_wrap(CAP + 8, CAP), 8);
}

Test(ring, largest_record_at_last_offset_fits_trailing_bytes)
{
	size_t end = sizeof(WINTUN_RING) + (CAP - 4) + wintun_ring_record_size(0xFFFF);

	cr_expect_eq(end, wintun_ring_size(CAP));
}

Test(ring, free_space_keeps_one_unit)
{
	cr_expect_eq(wintun_ring_free(0, 0, CAP), CAP - 4);
	cr_expect_eq(wintun_ring_free(8, 4, CAP), 0);
	cr_expect_eq(wintun_ring_free(4, 8, CAP), CAP - 8);
	cr_expect_eq(wintun_ring_free(0x100, 0x1FF00, CAP), 0x1FC);
	cr_expect_eq(wintun_ring_used(4, 8, CAP), 4);
	cr_expect_eq(wintun_ring_used(8, 4, CAP), CAP - 4);
	cr_expect_eq(wintun_ring_used(0x1FF00, 0x100, CAP), 0x200);
	for (uint32_t h = 0; h < CAP; h += 0x1234 & ~3u)
		for (uint32_t t = 0; t < CAP; t += 0x2468 & ~3u)
			cr_assert_eq(wintun_ring_free(h, t, CAP) + wintun_ring_used(h, t, CAP), CAP - 4);
}

Test(ring, sizes)
{
	cr_expect_eq(wintun_ring_size(CAP), 12 + CAP + 0x10000);
	cr_expect_eq(wintun_ring_size(WINTUN_RING_MAX_CAPACITY), 12 + 0x4000000 + 0x10000);
}

Test(ring, capacity_validation)
{
	cr_expect(wintun_ring_capacity_valid(0x20000));
	cr_expect(wintun_ring_capacity_valid(0x400000));
	cr_expect(wintun_ring_capacity_valid(0x4000000));
	cr_expect_not(wintun_ring_capacity_valid(0));
	cr_expect_not(wintun_ring_capacity_valid(0x10000));
	cr_expect_not(wintun_ring_capacity_valid(0x30000));
	cr_expect_not(wintun_ring_capacity_valid(0x8000000));
	cr_expect_not(wintun_ring_capacity_valid(0xFFFFFFFF));
}

Test(ring, offset_validation)
{
	cr_expect(wintun_ring_offset_valid(0, CAP));
	cr_expect(wintun_ring_offset_valid(CAP - 4, CAP));
	cr_expect_not(wintun_ring_offset_valid(CAP, CAP));
	cr_expect_not(wintun_ring_offset_valid(2, CAP));
	cr_expect_not(wintun_ring_offset_valid(WINTUN_RING_SENTINEL, CAP));
}

Test(ring, pads)
{
	cr_expect(wintun_ring_record_is_pad(WINTUN_PACKET_PAD | 16));
	cr_expect_not(wintun_ring_record_is_pad(16));
	cr_expect_eq(wintun_ring_record_len(WINTUN_PACKET_PAD | 16), 16);
	cr_expect_eq(wintun_ring_record_len(WINTUN_PACKET_CLIENT | 0xFFFF), 0xFFFF);
	cr_expect_eq(WINTUN_PACKET_PAD, 0x40000000u);
}

Test(ring, record_validation)
{
	cr_expect(wintun_ring_record_valid(0, 24, CAP, 20, false));        /* exact fit */
	cr_expect_not(wintun_ring_record_valid(0, 20, CAP, 20, false));    /* past tail */
	cr_expect_not(wintun_ring_record_valid(0, 0x20000 - 4, CAP, 0x10000, false)); /* > max */
	cr_expect_not(wintun_ring_record_valid(0, 24, CAP, WINTUN_PACKET_PAD | 20, false));
	cr_expect(wintun_ring_record_valid(0, 24, CAP, WINTUN_PACKET_PAD | 20, true));
	cr_expect_not(wintun_ring_record_valid(0, 24, CAP, WINTUN_PACKET_CLIENT | 20, true));
	cr_expect_not(wintun_ring_record_valid(0, 24, CAP, 0x00100000 | 20, true));
	/* Across the end: record at the last offset spilling into trailing bytes. */
	cr_expect(wintun_ring_record_valid(CAP - 4, 0x10000, CAP, 0xFFFF, false));
	cr_expect_not(wintun_ring_record_valid(CAP - 4, 0xFFFC, CAP, 0xFFFF, false));
}
