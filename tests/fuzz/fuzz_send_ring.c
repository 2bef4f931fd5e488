/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the client's walker of the Send ring (rx_peek_locked
 * through WintunReceivePacket / WintunReleaseReceivePacket), with the ring
 * contents chosen by the fuzzer, as a hostile or broken engine could leave
 * them.
 *
 * Input: Head (4 bytes, reduced to a valid offset: a registration with a bad
 * Head is refused before the walker runs), Tail (4 bytes, raw), Tail2 (4
 * bytes, raw, published when the ring first reads as empty), one byte of
 * release pattern, then the ring bytes, copied from Data[Head] on (wrapping
 * to Data[0] past the trailing bytes; bytes not covered read 0xFF).
 *
 * Checks: no crash or out-of-bounds access; every packet handed out lies
 * inside the ring's data and is at most 0xFFFF bytes; only EAGAIN, EBADMSG,
 * ESHUTDOWN as failures; after EBADMSG Head holds the sentinel; otherwise,
 * once every packet is released, Head has caught up with the walk.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "wintun.h"

#define CAPACITY WINTUN_RING_MIN_CAPACITY
#define MAX_OUT 16

static struct wintun_session *session;

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void reset_ring(const uint8_t *bytes, size_t n, uint32_t head, uint32_t tail)
{
	WINTUN_RING *ring = session->rings.desc.Send.Ring;
	size_t room = CAPACITY + WINTUN_RING_TRAILING_BYTES, first;

	/* Bytes the input does not cover read as bogus records (0xFFFFFFFF), so
	 * that the walk ends where the fuzzer's data ends. */
	memset(ring->Data, 0xFF, CAPACITY + WINTUN_RING_TRAILING_BYTES);
	ring->Alertable = 0;
	first = n < room - head ? n : room - head;
	memcpy(&ring->Data[head], bytes, first);
	if (n > first)
		memcpy(ring->Data, bytes + first, n - first < room ? n - first : room);
	ring->Head = head;
	ring->Tail = tail;
	session->rx.head = session->rx.head_release = head;
	session->rx.outstanding = 0;
	session->rx.stop_errno = 0;
}

static void check_packet(const uint8_t *pkt, uint32_t size)
{
	const uint8_t *lo = session->rings.desc.Send.Ring->Data + sizeof(WINTUN_RING_PACKET);
	const uint8_t *hi = session->rings.desc.Send.Ring->Data + CAPACITY +
			    WINTUN_RING_TRAILING_BYTES;
	volatile uint8_t sink = 0;

	if (size > WINTUN_RING_MAX_PACKET_SIZE || pkt < lo || pkt + size > hi)
		abort();
	for (uint32_t i = 0; i < size; i++)
		sink ^= pkt[i];
	(void)sink;
}

/* Release the outstanding packets in an order the pattern byte picks. */
static void release_all(uint8_t **out, unsigned *nout, uint8_t pattern)
{
	while (*nout) {
		unsigned i = (pattern & 1) ? *nout - 1 : (pattern >> 1) % *nout;

		WintunReleaseReceivePacket(session, out[i]);
		out[i] = out[--*nout];
		pattern = (uint8_t)(pattern * 37 + 11);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out[MAX_OUT];
	unsigned nout = 0, rounds = 0;
	uint32_t head, tail2, psize;
	uint8_t pattern;
	bool tail2_done = false, bad = false;

	if (size < 13)
		return -1;
	if (!session && wt_session_create(CAPACITY, -1, false, &session))
		abort();
	head = wintun_ring_wrap(get32(data), CAPACITY) & ~(WINTUN_RING_ALIGNMENT - 1);
	tail2 = get32(data + 8);
	pattern = data[12];
	reset_ring(data + 13, size - 13, head, get32(data + 4));
	for (;;) {
		uint8_t *pkt = WintunReceivePacket(session, &psize);

		if (!pkt) {
			int err = errno;

			if (err == EAGAIN && !tail2_done) {
				tail2_done = true;
				session->rings.desc.Send.Ring->Tail = tail2;
				continue;
			}
			if (err != EAGAIN && err != EBADMSG && err != ESHUTDOWN)
				abort();
			bad = err == EBADMSG;
			break;
		}
		if (++rounds > CAPACITY) /* more records than fit in the ring */
			abort();
		check_packet(pkt, psize);
		out[nout++] = pkt;
		if (nout == MAX_OUT || (pattern & 0x80))
			release_all(out, &nout, pattern);
	}
	release_all(out, &nout, pattern);
	if (bad && session->rings.desc.Send.Ring->Head != WINTUN_RING_SENTINEL)
		abort(); /* a corrupt ring must be stopped for the engine too */
	if (!bad && (session->rx.outstanding ||
		     session->rings.desc.Send.Ring->Head != session->rx.head))
		abort(); /* everything released: Head is where the walk is */
	return 0;
}
