/* SPDX-License-Identifier: MIT */
/*
 * RX: TUN -> Send ring, no bounce buffer.  Packets are read straight into
 * fixed-size slots of the Send ring's free space.  The fd has packet
 * information on, so the kernel's 4-byte tun_pi lands exactly on the
 * record's Size field; once the batch completes, the tun_pi is replaced by
 * the size, the records are moved together (engine_rx_compact.c: a small
 * packet takes its record's bytes, not a slot; one copy within the ring, in
 * cache), and Tail is published.
 *
 * Batching: one poll for readiness, then a batch of reads with RWF_NOWAIT in
 * one io_uring_enter.  They run inline and in order; a read that finds no
 * packet fails at once with -EAGAIN, but a packet arriving during the batch
 * can still fill a later slot, so every completion is checked.
 *
 * Deferral: under a flood the engine drains the device faster than packets
 * come, and a poll armed after each drain wakes it for the very next packet,
 * which it then reads nearly alone, while the sender pays a wake-up per
 * packet.  So when a batch of several packets drained the device and, the
 * last time, the next packet came within WT_RX_DEFER_NS of a drain, the
 * engine reads again WT_RX_DEFER_NS later instead, with no poll armed (the
 * TUN queue, hundreds of packets, holds what comes meanwhile), and sleeps
 * rather than spins until then.  Sparse traffic (a ping, a paced stream)
 * never meets the condition and keeps its wake-up per packet.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "engine_internal.h"
#include "engine_rx_full.h"
#include "log.h"
#include "port_netdev.h"
#include "ring_sync.h"

#define WT_RX_BATCH_DEFAULT 64u
#define WT_RX_BATCH_START 8u
/* A batch this full drained the device, and the packet after the last
 * drain came within WT_RX_DEFER_NS: packets come fast, so read again in
 * WT_RX_DEFER_NS rather than at the next packet (see rx_settle_batch). */
#define WT_RX_DEFER_MIN 4u
#define WT_RX_DEFER_NS 20000u

atomic_bool wt_rx_defer_always;

int wt_rx_probe_mtu(struct wt_port *p)
{
	uint32_t mtu;
	int ret;

	/* Stamped even on failure: a device out of sight is asked again in
	 * 50 ms, not before every batch. */
	p->mtu_checked_ns = wt_now_ns();
	/* The device may have been renamed, or moved to another namespace,
	 * since the session started: wt_netdev follows both. */
	ret = wt_netdev_mtu(p->netdev, p->tun_fd, p->ifname, &mtu);
	if (ret)
		return ret;
	if (mtu > WINTUN_RING_MAX_PACKET_SIZE)
		mtu = WINTUN_RING_MAX_PACKET_SIZE;
	if (mtu != p->mtu && p->mtu)
		wt_info("%s: MTU %u -> %u, RX slots follow", p->ifname, p->mtu, mtu);
	p->mtu = mtu;
	/* Offload mode: slots for the largest super-packet the record allows
	 * (the device's GSO maximum size keeps the kernel below it). */
	p->slot_size = wintun_ring_record_size(p->vnet_hdr ? WINTUN_RING_MAX_PACKET_SIZE : mtu);
	return 0;
}

void wt_rx_init(struct wt_port *p, unsigned batch_max)
{
	p->batch_max = batch_max ? batch_max : WT_RX_BATCH_DEFAULT;
	if (p->batch_max > WT_RX_BATCH_MAX)
		p->batch_max = WT_RX_BATCH_MAX;
	p->batch = p->batch_max < WT_RX_BATCH_START ? p->batch_max : WT_RX_BATCH_START;
	/* The index registration checked, not a reload the client may have
	 * changed since (reads land at rx_next). */
	p->rx_tail = p->rx_next = p->rings->start.send_tail;
	p->rx_ready = true;
}

/* Ring space the client has handed back, or -1 if it aborted the ring. */
int64_t wt_rx_free_space(struct wt_port *p)
{
	uint32_t cap = p->rings->capacity;
	/* Pairs with the client's store-release of Send.Head after it is done
	 * with the released packets. */
	uint32_t head = wt_load_acquire(&p->rings->desc.Send.Ring->Head);

	if (!wintun_ring_offset_valid(head, cap)) {
		if (head == WINTUN_RING_SENTINEL)
			wt_err("%s: the client stopped the send ring as corrupt; RX stops",
			       p->ifname);
		else
			wt_err("%s: send ring head %u is invalid; RX stops", p->ifname, head);
		p->rx_stopped = true;
		return -1;
	}
	return wintun_ring_free(head, p->rx_next, cap);
}

static void rx_settle_batch(struct wt_port *p);

/*
 * Kernels before 6.4 refuse RWF_NOWAIT on TUN reads, and an io_uring READ
 * without it parks on poll even on an O_NONBLOCK fd.  There the engine
 * thread reads the batch itself after the readiness poll: read(2) on the
 * non-blocking fd, straight into the slots (still one copy, by the kernel),
 * until the queue is empty; the batch then settles as io_uring's would.
 */
static void rx_read_plain(struct wt_port *p, int64_t space)
{
	WINTUN_RING *ring = p->rings->desc.Send.Ring;
	unsigned n = 0;

	while (n < p->batch && space >= p->slot_size) {
		ssize_t res = read(p->tun_fd, &ring->Data[p->rx_next], wt_rx_read_len(p));

		p->rx_slots[n++] = (struct wt_rx_slot){ .off = p->rx_next, .state = WT_SLOT_DONE,
							.res = res < 0 ? -errno : (int32_t)res };
		p->rx_next = wintun_ring_wrap(p->rx_next + p->slot_size, p->rings->capacity);
		space -= p->slot_size;
		if (res <= 0)
			break; /* drained (or an error the settling reports) */
	}
	p->rx_count = n;
	p->rx_pending = 0;
	rx_settle_batch(p);
}

static void rx_arm_poll(struct wt_engine *e, struct wt_port *p)
{
	if (!p->rx_poll_armed)
		p->rx_poll_armed = wt_uring_prep_poll(e, p, wt_udata(p, WT_OP_RX_POLL, WT_RX_POLL_TUN));
}

bool wt_rx_pump(struct wt_engine *e, struct wt_port *p)
{
	WINTUN_RING *ring = p->rings->desc.Send.Ring;
	uint32_t cap = p->rings->capacity;
	int64_t space;
	unsigned n;

	if (p->ms_br || p->ms_cancelling)
		return wt_rx_multishot_pump(e, p);
	if (p->dead || p->closing || p->rx_stopped) {
		p->rx_defer_until = 0; /* no more reads: nothing to wait for */
		return false;
	}
	if (p->rx_pending)
		return false;
	if (!p->rx_ready && p->rx_defer_until) {
		if (wt_now_ns() < p->rx_defer_until)
			return false;
		p->rx_defer_until = 0;
		p->rx_ready = true; /* read, whether a packet came or not */
	}
	if (!p->rx_ready) {
		rx_arm_poll(e, p);
		return false;
	}
	if (wt_now_ns() - p->mtu_checked_ns > WT_MTU_RECHECK_NS)
		wt_rx_probe_mtu(p);
	space = wt_rx_free_space(p);
	if (space < p->slot_size) {
		if (space >= 0)
			wt_rx_full_note(p);
		else
			wt_rx_full_end(p);
		return false;
	}
	wt_rx_full_end(p);
	if (!p->nowait_reads) {
		wt_stat_add(&p->stats->rx.batches, 1);
		rx_read_plain(p, space);
		return true;
	}
	for (n = 0; n < p->batch && space >= p->slot_size; n++, space -= p->slot_size) {
		p->rx_slots[n] = (struct wt_rx_slot){ .off = p->rx_next, .state = WT_SLOT_INFLIGHT };
		if (!wt_uring_prep_read(e, p, &ring->Data[p->rx_next], wt_rx_read_len(p), true,
					wt_udata(p, WT_OP_RX_READ, n)))
			break; /* no SQ room: a smaller batch */
		p->rx_next = wintun_ring_wrap(p->rx_next + p->slot_size, cap);
	}
	if (!n)
		return false; /* no SQ room at all: next turn */
	p->rx_count = p->rx_pending = n;
	wt_stat_add(&p->stats->rx.batches, 1);
	return true;
}

/* Cover @len bytes at @off with pad records (@len >= 4, a multiple of 4).  A
 * whole offload-mode slot (0x10004 bytes) is one more than a pad can say, so
 * it takes two. */
static void rx_write_pad(struct wt_port *p, uint32_t off, uint32_t len)
{
	WINTUN_RING *ring = p->rings->desc.Send.Ring;

	if (len - (uint32_t)sizeof(WINTUN_RING_PACKET) > WINTUN_RING_MAX_PACKET_SIZE) {
		wintun_ring_record(ring, off)->Size = WINTUN_PACKET_PAD | 4u;
		off = wintun_ring_wrap(off + 8, p->rings->capacity);
		len -= 8;
	}
	wintun_ring_record(ring, off)->Size = WINTUN_PACKET_PAD | (len - (uint32_t)sizeof(WINTUN_RING_PACKET));
}

/* Bytes a read into a slot may fill: the tun_pi plus at most the largest
 * record length, so a packet that is too big is truncated (and dropped),
 * never published with a Size above 0xFFFF. */
uint32_t wt_rx_read_len(const struct wt_port *p)
{
	uint32_t most = (uint32_t)sizeof(WINTUN_RING_PACKET) + WINTUN_RING_MAX_PACKET_SIZE;

	return p->slot_size < most ? p->slot_size : most;
}

/* Turn a completed read of the slot at @off (@size bytes) into a record, and
 * the rest of the slot into a pad.  Returns true if the slot holds a packet. */
bool wt_rx_settle(struct wt_port *p, uint32_t off, uint32_t size, int res)
{
	WINTUN_RING_PACKET *rec = wintun_ring_record(p->rings->desc.Send.Ring, off);
	struct tun_pi pi;
	uint32_t len, used;

	if (res < (int)sizeof(pi)) {
		rx_write_pad(p, off, size);
		return false;
	}
	memcpy(&pi, rec, sizeof(pi));
	if (pi.flags & TUN_PKT_STRIP) {
		wt_stat_add(&p->stats->rx.drop_truncated, 1);
		rx_write_pad(p, off, size);
		p->mtu_checked_ns = 0; /* the MTU grew: follow it before the next batch */
		return false;
	}
	len = (uint32_t)res - (uint32_t)sizeof(pi);
	rec->Size = len;
	used = wintun_ring_record_size(len);
	/* A packet that spilled into the trailing bytes ends, in ring terms,
	 * near the start: the pad goes at the wrapped offset. */
	if (used < size)
		rx_write_pad(p, wintun_ring_wrap(off + used, p->rings->capacity), size - used);
	wt_stat_add(&p->stats->rx.packets, 1);
	wt_stat_add(&p->stats->rx.bytes, len);
	return true;
}

static void rx_adapt_batch(struct wt_port *p, unsigned filled)
{
	if (filled == p->rx_count && p->batch < p->batch_max)
		p->batch = p->batch * 2 > p->batch_max ? p->batch_max : p->batch * 2;
	else if (filled * 4 < p->rx_count && p->batch > 2)
		p->batch /= 2;
}

void wt_rx_publish(struct wt_port *p)
{
	WINTUN_RING *ring = p->rings->desc.Send.Ring;

	/* Pairs with the client's load-acquire of Tail: the records written
	 * before this store are visible once the new Tail is. */
	wt_store_release(&ring->Tail, p->rx_tail);
	/* The handshake of wt_ring_publish; only the signal goes by io_uring. */
	if (wt_ring_claim_wake(ring))
		wt_uring_signal(p->engine, p, p->rings->desc.Send.TailMoved);
}

static void rx_settle_batch(struct wt_port *p)
{
	uint32_t end = p->rx_slots[0].off; /* where the next record goes */
	unsigned filled = 0;
	bool drained = false;

	for (unsigned i = 0; i < p->rx_count; i++) {
		struct wt_rx_slot *s = &p->rx_slots[i];

		if (wt_io_device_gone(s->res))
			wt_port_kill(p, "TUN read failed", -s->res);
		else if (s->res <= 0 && s->res != -EINTR)
			drained = true; /* EAGAIN; any other refusal: poll again */
		wt_rx_place(p, &end, s->off, s->res); /* engine_rx_compact.c */
		filled += s->res > 0;
	}
	/* The space after the last packet -- the rest of its slot and the
	 * empty slots after it -- goes back to the free space rather than
	 * becoming pads the client must skip.  In offload mode a slot is
	 * 64 KiB: an ACK would otherwise take all of it, filling a 512 KiB
	 * ring with seven ACKs and spreading records over the cache. */
	p->rx_next = end;
	wt_stat_add(&p->stats->rx.ring_bytes,
		    wintun_ring_wrap(end - p->rx_slots[0].off, p->rings->capacity));
	rx_adapt_batch(p, filled);
	if (drained) {
		p->rx_ready = false;
		p->rx_drained_ns = wt_now_ns();
		/* Several packets, then the device ran dry, and last time the
		 * next packet came soon after: packets come fast.  Woken by
		 * the next one, the engine would read it nearly alone and the
		 * sender would pay a wake-up per packet; instead read again a
		 * little later, a batch at once, with no poll armed meanwhile
		 * (the TUN queue holds hundreds of packets). */
		if (((filled >= WT_RX_DEFER_MIN && p->rx_fast) ||
		     (filled && atomic_load_explicit(&wt_rx_defer_always, memory_order_relaxed))) &&
		    !p->rx_poll_armed) {
			p->rx_defer_until = p->rx_drained_ns + WT_RX_DEFER_NS;
			wt_stat_add(&p->stats->rx.deferrals, 1);
		}
	}
	if (p->rx_next != p->rx_tail && !p->dead) {
		p->rx_tail = p->rx_next;
		wt_rx_publish(p);
	}
}

void wt_rx_complete(struct wt_port *p, unsigned idx, int res)
{
	if (idx >= p->rx_count || p->rx_slots[idx].state != WT_SLOT_INFLIGHT)
		return;
	p->rx_slots[idx].res = res;
	p->rx_slots[idx].state = WT_SLOT_DONE;
	if (--p->rx_pending == 0)
		rx_settle_batch(p);
}

void wt_rx_poll_complete(struct wt_port *p, int res)
{
	p->rx_poll_armed = false;
	if (res == -ECANCELED)
		return;
	/* Readable, or an error the next read will report (device gone). */
	p->rx_ready = true;
	p->rx_fast = wt_now_ns() - p->rx_drained_ns < WT_RX_DEFER_NS;
	wt_stat_add(&p->stats->rx.wakeups, 1);
}

/* ---- sleeping with the Send ring full ---------------------------------- */

static bool rx_arm_space_poll(struct wt_engine *e, struct wt_port *p)
{
	struct io_uring_sqe *sqe;

	if (p->rx_space_armed)
		return true;
	sqe = wt_uring_sqe(e);
	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, p->rings->space_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, wt_udata(p, WT_OP_RX_POLL, WT_RX_POLL_SPACE));
	p->inflight++;
	p->rx_space_armed = true;
	return true;
}

/*
 * Before the engine sleeps: a port that stopped reading for lack of Send ring
 * space sleeps until the client releases some (Alertable handshake, as the
 * Receive ring's, on library-private memory).  Returns false if space came
 * back while arming (go on working).  Raw rings have no release wake-up:
 * *timeout_ns becomes the slow retry period.
 */
bool wt_rx_prepare_sleep(struct wt_engine *e, struct wt_port *p, uint64_t *timeout_ns)
{
	struct wt_ring_pair *r = p->rings;
	int64_t space;

	if (p->rx_defer_until) { /* cleared by wt_rx_pump once RX has ended */
		uint64_t now = wt_now_ns();

		if (now >= p->rx_defer_until)
			return false; /* time to read: go on working */
		if (*timeout_ns > p->rx_defer_until - now)
			*timeout_ns = p->rx_defer_until - now;
	}
	if (!p->rx_blocked || p->dead || p->closing || p->rx_stopped)
		return true;
	if (r->space_fd < 0) {
		if (*timeout_ns > WT_RX_BLOCKED_RETRY_NS)
			*timeout_ns = WT_RX_BLOCKED_RETRY_NS;
		return true;
	}
	atomic_store_explicit(&r->space_armed, 1, memory_order_relaxed);
	/* Full fence: orders the store of space_armed before the re-load of
	 * Send.Head (store->load).  Pairs with the fence in rx_space_wake
	 * (session_client.c), after the client's store-release of Head. */
	wt_full_fence();
	space = wt_rx_free_space(p);
	if (space < 0 || space >= p->slot_size) {
		wt_rx_disarm_space(p);
		return space < 0; /* stopped: nothing to wait for; else go on */
	}
	if (rx_arm_space_poll(e, p))
		return true;
	wt_rx_disarm_space(p); /* no SQ room: go round once more */
	return false;
}

/* The engine goes on without sleeping: the client need not signal. */
void wt_rx_disarm_space(struct wt_port *p)
{
	if (atomic_load_explicit(&p->rings->space_armed, memory_order_relaxed))
		atomic_store_explicit(&p->rings->space_armed, 0, memory_order_relaxed);
}

void wt_rx_space_complete(struct wt_port *p, int res)
{
	p->rx_space_armed = false;
	if (res == -ECANCELED)
		return;
	wt_event_drain(p->rings->space_fd);
	wt_stat_add(&p->stats->rx.wakeups, 1);
}
