/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: wt_gso_split on arbitrary bytes, as a client calling
 * WintunSplitOffloadPacket on a hostile record would.  The input is the
 * record: a virtio_net_hdr and the packet.  Each segment goes into a buffer
 * of exactly the size asked for, so ASan catches any write past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gso.h"

#define MAX_SEGS 4096u

struct emit_ctx {
	uint8_t *seg;      /* the last segment, freed at the next emit */
	uint32_t seg_len;
	uint32_t nsegs;
	uint32_t max_len;  /* no segment can be longer than the input packet */
};

static void check_seg(const struct emit_ctx *c)
{
	volatile uint8_t sink = 0;

	/* Every byte of an emitted segment must have been written (MSan would
	 * say so; here: touching them makes ASan check the bounds). */
	for (uint32_t i = 0; i < c->seg_len; i++)
		sink ^= c->seg[i];
	(void)sink;
}

static uint8_t *emit(void *ctx, uint32_t len)
{
	struct emit_ctx *c = ctx;

	if (c->seg)
		check_seg(c);
	free(c->seg);
	c->seg = NULL;
	if (len == 0 || len > c->max_len)
		abort(); /* a segment longer than the packet it came from */
	if (++c->nsegs > MAX_SEGS)
		return NULL; /* exercises the -ENOBUFS path */
	c->seg = malloc(len);
	if (!c->seg)
		return NULL;
	c->seg_len = len;
	return c->seg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emit_ctx c = { 0 };
	uint8_t *rec;
	int n;

	if (size > 0xFFFF) /* a record never carries more */
		return -1;
	/* An exact-size heap copy: reads past the record are caught too. */
	rec = malloc(size ? size : 1);
	if (!rec)
		return 0;
	memcpy(rec, data, size);
	c.max_len = size > 10 ? (uint32_t)size - 10 : 0;
	n = wt_gso_split(rec, (uint32_t)size, emit, &c);
	if (c.seg)
		check_seg(&c);
	free(c.seg);
	if (n > 0 && (uint32_t)n != c.nsegs)
		abort(); /* the count returned is the count emitted */
	if (n == 0 || (n < 0 && n != -22 && n != -105))
		abort(); /* only -EINVAL or -ENOBUFS, never 0 */
	free(rec);
	return 0;
}
