/* SPDX-License-Identifier: MIT */
/*
 * RX, multishot variant (kernel >= 6.7): one IORING_OP_READ_MULTISHOT on the
 * TUN fd, fed by a provided-buffer ring whose buffers are the slots of the
 * Send ring's free space.  The kernel takes the buffers in the order they were
 * provided, so filled slots form a prefix and Tail follows them; provided but
 * unfilled slots stay reserved ahead of Tail, so no slot is ever empty and
 * only short packets leave pads.  Zero copy as in the drain: the tun_pi lands
 * on the record's Size field.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "atomic.h"
#include "engine_internal.h"
#include "engine_rx_full.h"
#include "log.h"
#include "ring_sync.h"

#define WT_OP_READ_MULTISHOT 49 /* IORING_OP_READ_MULTISHOT, newer than liburing 2.3 */

bool wt_rx_multishot_supported(struct io_uring *ring)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
	bool ok = probe && io_uring_opcode_supported(probe, WT_OP_READ_MULTISHOT);

	if (probe)
		io_uring_free_probe(probe);
	return ok;
}

int wt_rx_multishot_setup(struct wt_engine *e, struct wt_port *p, unsigned bgid)
{
	struct io_uring_buf_reg reg = { 0 };
	unsigned entries = WT_MS_ENTRIES;
	size_t len = entries * sizeof(struct io_uring_buf);
	int ret;

	p->ms_br = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->ms_br == MAP_FAILED) {
		p->ms_br = NULL;
		return -errno;
	}
	io_uring_buf_ring_init(p->ms_br);
	reg.ring_addr = (uint64_t)(uintptr_t)p->ms_br;
	reg.ring_entries = entries;
	reg.bgid = (uint16_t)bgid;
	ret = io_uring_register_buf_ring(&e->ring, &reg, 0);
	if (ret) {
		munmap(p->ms_br, len);
		p->ms_br = NULL;
		wt_warn("%s: cannot register a provided-buffer ring (%s); RX uses the drain",
			p->ifname, strerror(-ret));
		return ret;
	}
	p->ms_bgid = (uint16_t)bgid;
	p->ms_first = p->ms_count = 0;
	wt_info("%s: RX with multishot read", p->ifname);
	return 0;
}

void wt_rx_multishot_teardown(struct wt_engine *e, struct wt_port *p)
{
	if (!p->ms_br)
		return;
	io_uring_unregister_buf_ring(&e->ring, p->ms_bgid);
	munmap(p->ms_br, WT_MS_ENTRIES * sizeof(struct io_uring_buf));
	p->ms_br = NULL;
}

/* Hand the kernel every slot of free space (up to the buffer ring's size). */
static unsigned provide(struct wt_port *p, int64_t space)
{
	WINTUN_RING *ring = p->rings->desc.Send.Ring;
	int mask = io_uring_buf_ring_mask(WT_MS_ENTRIES);
	unsigned n = 0;

	while (p->ms_count < WT_MS_ENTRIES && space >= p->slot_size) {
		unsigned bid = (p->ms_first + p->ms_count) % WT_MS_ENTRIES;

		p->ms_slots[bid] = (struct wt_ms_slot){ .off = p->rx_next, .size = p->slot_size };
		io_uring_buf_ring_add(p->ms_br, &ring->Data[p->rx_next], wt_rx_read_len(p), (uint16_t)bid,
				      mask, (int)n);
		p->rx_next = wintun_ring_wrap(p->rx_next + p->slot_size, p->rings->capacity);
		space -= p->slot_size;
		p->ms_count++;
		n++;
	}
	if (n)
		io_uring_buf_ring_advance(p->ms_br, (int)n);
	return n;
}

static void arm(struct wt_engine *e, struct wt_port *p)
{
	struct io_uring_sqe *sqe = wt_uring_sqe(e);

	if (!sqe)
		return; /* no SQ room: the next pump arms it */
	io_uring_prep_rw(WT_OP_READ_MULTISHOT, sqe, p->tun_fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = p->ms_bgid;
	if (p->file_index >= 0) {
		sqe->fd = p->file_index;
		sqe->flags |= IOSQE_FIXED_FILE;
	}
	io_uring_sqe_set_data64(sqe, wt_udata(p, WT_OP_RX_MULTISHOT, 0));
	p->inflight++;
	p->ms_armed = true;
	wt_stat_add(&p->stats->rx.batches, 1);
}

/* The buffers already provided were sized for the old MTU: a packet at the
 * new MTU would be truncated.  Stop the read, take the unused buffers back
 * (a fresh buffer ring), and provide slots of the new size. */
static bool reprovide_if_mtu_grew(struct wt_engine *e, struct wt_port *p)
{
	unsigned newest = (p->ms_first + p->ms_count + WT_MS_ENTRIES - 1) % WT_MS_ENTRIES;

	if (!p->ms_count || p->ms_slots[newest].size >= p->slot_size)
		return false;
	if (p->ms_armed) {
		if (!p->ms_cancelling) {
			struct io_uring_sqe *sqe = wt_uring_sqe(e);

			if (!sqe)
				return true; /* no SQ room: the next pump retries */
			io_uring_prep_cancel64(sqe, wt_udata(p, WT_OP_RX_MULTISHOT, 0), 0);
			io_uring_sqe_set_data64(sqe, WT_OP_CANCEL);
			p->ms_cancelling = true;
		}
		return true; /* wait for the read to end */
	}
	p->ms_cancelling = false;
	wt_rx_multishot_teardown(e, p);
	p->rx_next = p->rx_tail; /* nothing after Tail was filled */
	if (wt_rx_multishot_setup(e, p, p->ms_bgid) < 0)
		wt_port_kill(p, "cannot re-create the provided-buffer ring", EIO);
	return false;
}

bool wt_rx_multishot_pump(struct wt_engine *e, struct wt_port *p)
{
	int64_t space;

	if (p->dead || p->closing || p->rx_stopped)
		return false;
	if (wt_now_ns() - p->mtu_checked_ns > WT_MTU_RECHECK_NS)
		wt_rx_probe_mtu(p);
	if (reprovide_if_mtu_grew(e, p) || !p->ms_br)
		return false;
	space = wt_rx_free_space(p);
	if (space < 0)
		return false;
	provide(p, space);
	/* Nothing provided at all: the client holds the whole ring. */
	if (!p->ms_count) {
		wt_rx_full_note(p);
		return false;
	}
	wt_rx_full_end(p);
	if (!p->ms_armed)
		arm(e, p);
	return false; /* completions come when packets do */
}

void wt_rx_multishot_complete(struct wt_port *p, int res, unsigned cqe_flags)
{
	unsigned bid;

	if (!(cqe_flags & IORING_CQE_F_MORE))
		p->ms_armed = false; /* re-armed by the next pump */
	else
		p->inflight++;   /* the same request goes on */
	if (res == -ENOBUFS || res == -ECANCELED || res == -EAGAIN || res == 0)
		return;
	if (wt_io_device_gone(res) || (res > 0 && !(cqe_flags & IORING_CQE_F_BUFFER))) {
		wt_port_kill(p, "TUN multishot read failed", res < 0 ? -res : EIO);
		return;
	}
	if (res < 0)
		return; /* a refused read ends the request; the next pump re-arms */
	bid = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
	if (bid >= WT_MS_ENTRIES || (bid - p->ms_first) % WT_MS_ENTRIES >= p->ms_count) {
		wt_port_kill(p, "the kernel returned a buffer that was not provided", EIO);
		return;
	}
	wt_rx_settle(p, p->ms_slots[bid].off, p->ms_slots[bid].size, res);
	p->ms_slots[bid].done = true;
	while (p->ms_count && p->ms_slots[p->ms_first].done) {
		struct wt_ms_slot *s = &p->ms_slots[p->ms_first];

		p->rx_tail = wintun_ring_wrap(s->off + s->size, p->rings->capacity);
		wt_stat_add(&p->stats->rx.ring_bytes, s->size);
		p->ms_first = (p->ms_first + 1) % WT_MS_ENTRIES;
		p->ms_count--;
		p->rx_dirty = true;
	}
}

void wt_rx_flush(struct wt_port *p)
{
	if (!p->rx_dirty || p->dead)
		return;
	p->rx_dirty = false;
	wt_rx_publish(p);
}
