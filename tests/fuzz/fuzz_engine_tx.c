/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the engine's walker of the Receive ring (wt_tx_pump,
 * tx_queue_record, and the TCP coalescing of engine_tx_gro.c in offload
 * mode), with the ring contents chosen by the fuzzer, as a hostile client
 * could leave them.  engine_tx.c and engine_tx_gro.c are compiled unchanged;
 * their io_uring calls (wt_uring_prep_write/_writev) and wt_port_kill are
 * replaced below by stubs that check each write lies inside the ring and
 * complete it later, in an order the input picks.
 *
 * Input: Head (4 bytes, reduced to a valid offset, as a registration
 * requires), Tail (4, raw), Tail2 (4, raw, published once the walk is idle),
 * a flags byte (bit 0 offload mode, bit 1 coalescing, bit 2 complete in
 * reverse order, bit 3 fail some writes with EIO), then the ring bytes from
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
#include <sys/uio.h>

#include "engine_internal.h"
#include "session.h"

#define CAPACITY WINTUN_RING_MIN_CAPACITY

static struct wintun_session *session;
static struct wt_engine engine;
static struct wt_port port;
static struct wt_port_stats stats;
static struct iovec *tx_iov;

/* Writes submitted and not completed yet: FIFO slot and expected length. */
static struct {
	unsigned slot;
	int want;
} pending[WT_TX_INFLIGHT_MAX];
static unsigned npending;

static void check_span(const void *buf, size_t len)
{
	const uint8_t *lo = session->rings.desc.Receive.Ring->Data;
	const uint8_t *hi = lo + CAPACITY + WINTUN_RING_TRAILING_BYTES;
	const uint8_t *p = buf;
	volatile uint8_t sink = 0;

	if (p < lo || len > (size_t)(hi - p))
		abort(); /* the kernel would be handed memory outside the ring */
	for (size_t i = 0; i < len; i++)
		sink ^= p[i];
	(void)sink;
}

static void add_pending(uint64_t udata, size_t len)
{
	if (wt_udata_port(udata) != &port || wt_udata_op(udata) != WT_OP_TX_WRITE ||
	    npending == WT_TX_INFLIGHT_MAX)
		abort();
	pending[npending].slot = wt_udata_idx(udata);
	pending[npending].want = (int)len;
	npending++;
}

void wt_uring_prep_write(struct wt_engine *e, struct wt_port *p, void *buf, unsigned len,
			 uint64_t udata)
{
	(void)e;
	(void)p;
	check_span(buf, len);
	if (len > sizeof(WINTUN_PACKET) + WINTUN_RING_MAX_PACKET_SIZE)
		abort();
	add_pending(udata, len);
}

void wt_uring_prep_writev(struct wt_engine *e, struct wt_port *p, const struct iovec *iov,
			  unsigned n, uint64_t udata)
{
	size_t total = 0;

	(void)e;
	(void)p;
	if (n == 0 || n > WT_GRO_MAX_SEGS)
		abort();
	for (unsigned i = 0; i < n; i++) {
		check_span(iov[i].iov_base, iov[i].iov_len);
		total += iov[i].iov_len;
	}
	add_pending(udata, total);
}

struct io_uring_sqe *wt_uring_sqe(struct wt_engine *e)
{
	(void)e;
	abort(); /* only wt_tx_prepare_sleep asks for one; not called here */
}

void wt_port_kill(struct wt_port *p, const char *why, int err)
{
	(void)why;
	(void)err;
	p->dead = true;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void setup(void)
{
	if (wt_session_create(CAPACITY, -1, false, &session))
		abort();
	tx_iov = calloc((size_t)WT_TX_INFLIGHT_MAX * WT_GRO_MAX_SEGS, sizeof(*tx_iov));
	if (!tx_iov)
		abort();
}

static void reset(const uint8_t *bytes, size_t n, uint32_t head, uint32_t tail, uint8_t flags)
{
	WINTUN_RING *ring = session->rings.desc.Receive.Ring;
	size_t room = CAPACITY + WINTUN_RING_TRAILING_BYTES, first;

	memset(ring->Data, 0xFF, room);
	first = n < room - head ? n : room - head;
	memcpy(&ring->Data[head], bytes, first);
	if (n > first)
		memcpy(ring->Data, bytes + first, n - first < room ? n - first : room);
	ring->Head = head;
	ring->Tail = tail;
	ring->Alertable = 0;
	memset(&port, 0, sizeof(port));
	memset(&stats, 0, sizeof(stats));
	port.engine = &engine;
	port.rings = &session->rings;
	port.stats = &stats;
	strcpy(port.ifname, "fuzz0");
	port.tun_fd = port.file_index = port.buf_index = port.mtu_sock = -1;
	port.vnet_hdr = flags & 1;
	port.coalesce = port.vnet_hdr && (flags & 2);
	port.tx_iov = tx_iov;
	port.tx_head = port.tx_walk = head;
	npending = 0;
}

/* Complete every pending write, oldest first or newest first. */
static void complete_all(uint8_t flags, unsigned *round)
{
	while (npending) {
		unsigned i = (flags & 4) ? npending - 1 : 0;
		unsigned slot = pending[i].slot;
		int res = pending[i].want;

		if ((flags & 8) && (++*round % 7) == 0)
			res = -EIO;
		memmove(&pending[i], &pending[i + 1], (npending - i - 1) * sizeof(pending[0]));
		npending--;
		wt_tx_complete(&port, slot, res);
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
	if (!session)
		setup();
	ring = session->rings.desc.Receive.Ring;
	head = wintun_ring_wrap(get32(data), CAPACITY) & ~(WINTUN_RING_ALIGNMENT - 1);
	tail2 = get32(data + 8);
	flags = data[12];
	reset(data + 13, size - 13, head, get32(data + 4), flags);
	for (;;) {
		bool progress = wt_tx_pump(&engine, &port);

		if (++pumps > CAPACITY)
			abort(); /* more batches than records fit in the ring */
		if (npending) {
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
	if (port.tx_stopped && ring->Head != WINTUN_RING_SENTINEL)
		abort(); /* a bogus ring must be stopped for the client too */
	if (!port.tx_stopped && !port.dead && (port.tx_count || ring->Head != port.tx_walk))
		abort(); /* all writes done: Head is where the walk is */
	return 0;
}
