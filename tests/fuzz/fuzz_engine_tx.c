/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the engine's walker of the Receive ring (wt_tx_pump,
 * tx_queue_record, and the TCP/UDP coalescing of engine_tx_gro.c in offload
 * mode), with the ring contents chosen by the fuzzer, as a hostile client
 * could leave them.  engine_tx.c and engine_tx_gro.c are compiled unchanged
 * in the harness of tests/tx_harness.c, whose stubs of the io_uring calls
 * (wt_uring_prep_write/_writev) and wt_port_kill check that each write lies
 * inside the ring and record it; it is completed later, in an order the
 * input picks.
 *
 * Input: Head (4 bytes, reduced to a valid offset, as a registration
 * requires), Tail (4, raw), Tail2 (4, raw, published once the walk is idle),
 * a flags byte (bit 0 offload mode, bit 1 coalescing, with every offload on,
 * bit 2 complete in reverse order, bit 3 fail some writes with EIO), then the
 * ring bytes from
 * Data[Head] on (wrapping to Data[0]); bytes not covered read 0xFF.
 *
 * Checks: no crash or out-of-bounds access; every write stays inside the
 * ring's data and within the records published; a bogus record stops the
 * ring with Head = SENTINEL; otherwise, once every write completed, Head has
 * caught up with the walk.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tx_harness.h"
#include "wintun.h"

#define CAPACITY WINTUN_RING_MIN_CAPACITY

static struct tx_harness *h;

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void reset(const uint8_t *bytes, size_t n, uint32_t head, uint32_t tail, uint8_t flags)
{
	WINTUN_RING *ring = h->session->rings.desc.Receive.Ring;
	size_t room = CAPACITY + WINTUN_RING_TRAILING_BYTES, first;

	memset(ring->Data, 0xFF, room);
	first = n < room - head ? n : room - head;
	memcpy(&ring->Data[head], bytes, first);
	if (n > first)
		memcpy(ring->Data, bytes + first, n - first < room ? n - first : room);
	ring->Head = head;
	ring->Tail = tail;
	ring->Alertable = 0;
	/* Every offload on: what may be merged is up to the records. */
	txh_reset_port(h, flags & 1, flags & 2, WINTUN_OFFLOAD_ALL);
}

/* Complete every pending write, oldest first or newest first. */
static void complete_all(uint8_t flags, unsigned *round)
{
	while (h->npending) {
		unsigned i = (flags & 4) ? h->npending - 1 : 0;
		int res = (int)h->pending[i].len;

		if ((flags & 8) && (++*round % 7) == 0)
			res = -EIO;
		txh_complete(h, i, res);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	WINTUN_RING *ring;
	uint32_t head, tail2;
	unsigned round = 0, pumps = 0;
	bool tail2_done = false;
	uint8_t flags;

	if (size < 13)
		return -1;
	if (!h && txh_create(CAPACITY, &h))
		abort();
	ring = h->session->rings.desc.Receive.Ring;
	head = wintun_ring_wrap(get32(data), CAPACITY) & ~(WINTUN_RING_ALIGNMENT - 1);
	tail2 = get32(data + 8);
	flags = data[12];
	reset(data + 13, size - 13, head, get32(data + 4), flags);
	for (;;) {
		bool progress = wt_tx_pump(&h->engine, &h->port);

		if (++pumps > CAPACITY)
			abort(); /* more batches than records fit in the ring */
		if (h->npending) {
			complete_all(flags, &round);
			continue;
		}
		if (progress)
			continue;
		if (tail2_done)
			break;
		tail2_done = true;
		ring->Tail = tail2;
	}
	if (h->port.tx_stopped && ring->Head != WINTUN_RING_SENTINEL)
		abort(); /* a bogus ring must be stopped for the client too */
	if (!h->port.tx_stopped && !h->port.dead &&
	    (h->port.tx_count || ring->Head != h->port.tx_walk))
		abort(); /* all writes done: Head is where the walk is */
	return 0;
}
