/* SPDX-License-Identifier: MIT */
/*
 * One's-complement sums 8 bytes at a time into a 64-bit accumulator: the sum
 * of 32-bit halves cannot overflow 64 bits for any packet (< 2^32 bytes), and
 * one's-complement addition is order-independent, so wide loads in host
 * order are summed and byte-swapped once at the end.
 */
#include "checksum.h"

#include <string.h>

static uint64_t sum_host(const uint8_t *p, size_t len)
{
	uint64_t acc = 0;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		acc += (w & 0xFFFFFFFFu) + (w >> 32);
	}
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { *p, 0 };
		uint16_t w;

		memcpy(&w, last, 2);
		acc += w;
	}
	return acc;
}

static uint32_t fold64(uint64_t acc)
{
	acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
	acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
	acc = (acc & 0xFFFF) + (acc >> 16);
	acc = (acc & 0xFFFF) + (acc >> 16);
	return (uint32_t)acc;
}

uint32_t wt_csum_add(uint32_t sum, const void *data, size_t len)
{
	uint32_t s = fold64(sum_host(data, len));

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = ((s & 0xFF) << 8) | (s >> 8); /* host-order words to network order */
#endif
	return fold64((uint64_t)sum + s);
}
