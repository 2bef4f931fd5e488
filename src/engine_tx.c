/* SPDX-License-Identifier: MIT */
/*
 * TX: Receive ring -> TUN, zero copy.  Walk the records the client published,
 * validate each (the ring is hostile input), write the tun_pi over the
 * record's Size and submit one write per packet straight from the ring.  Head
 * moves, in ring order, as the writes complete.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "engine_internal.h"
#include "ip_header.h"
#include "log.h"
#include "ring_sync.h"

static void tx_stop_bogus(struct wt_port *p, uint32_t off, uint32_t word, uint32_t tail)
{
	wt_err("%s: bogus record in the receive ring at %u (size word 0x%08x, tail %u); "
	       "the receive ring stops, RX goes on",
	       p->ifname, off, word, tail);
	p->tx_stopped = true;
	wt_stat_add(&p->stats->tx.drop_bogus, 1);
	/* Pairs with the client's load-acquire of Receive.Head: allocation
	 * fails from now on (EBADMSG). */
	wt_store_release(&p->rings->desc.Receive.Ring->Head, WINTUN_RING_SENTINEL);
}

/* Move Head over the records at the front of the FIFO that are done. */
static void tx_advance(struct wt_port *p)
{
	uint32_t head = p->tx_head;

	while (p->tx_count && p->tx_fifo[p->tx_first].done) {
		head = p->tx_fifo[p->tx_first].next;
		p->tx_first = (p->tx_first + 1) % WT_TX_INFLIGHT_MAX;
		p->tx_count--;
	}
	if (head == p->tx_head)
		return;
	p->tx_head = head;
	/* Pairs with the client's load-acquire of Receive.Head: the kernel is
	 * done with these bytes, the client may reuse them. */
	if (!p->tx_stopped && !p->dead)
		wt_store_release(&p->rings->desc.Receive.Ring->Head, head);
}

/* Queue the record at tx_walk; returns false if it is bogus or the SQ has no
 * room for its write (then it stays at tx_walk for the next turn). */
static bool tx_queue_record(struct wt_engine *e, struct wt_port *p, uint32_t tail)
{
	WINTUN_RING *ring = p->rings->desc.Receive.Ring;
	uint32_t cap = p->rings->capacity, off = p->tx_walk;
	WINTUN_RING_PACKET *rec = wintun_ring_record(ring, off);
	/* Read once, atomically (a plain load may be repeated): the client
	 * may scribble. */
	uint32_t word = wt_load_relaxed(&rec->Size);
	unsigned slot = (p->tx_first + p->tx_count) % WT_TX_INFLIGHT_MAX;
	struct wt_tx_entry *ent = &p->tx_fifo[slot];
	struct tun_pi pi = { 0, 0 };
	uint16_t proto;
	uint32_t hdr;

	/* Before anything is written over the record: its Size is read anew
	 * on the retry. */
	if (!wt_uring_sq_room(e))
		return false;
	if (!wintun_ring_record_valid(off, tail, cap, word, false)) {
		tx_stop_bogus(p, off, word, tail);
		return false;
	}
	if (p->coalesce && wt_tx_coalesce(e, p, tail, word, slot))
		return true;
	*ent = (struct wt_tx_entry){ .off = off, .len = word,
				     .next = wintun_ring_next(off, word, cap) };
	p->tx_count++;
	p->tx_walk = ent->next;
	/* Offload mode: the IP packet follows the virtio_net_hdr. */
	hdr = p->vnet_hdr ? WINTUN_VNET_HDR_SIZE : 0;
	proto = word >= hdr ? wt_ip_ethertype(rec->Data + hdr, word - hdr) : 0;
	if (!proto) {
		wt_stat_add(&p->stats->tx.drop_non_ip, 1);
		ent->done = true;
		return true;
	}
	pi.proto = htons(proto);
	memcpy(rec, &pi, sizeof(pi));
	/* Cannot fail: the room was checked above. */
	wt_uring_prep_write(e, p, rec, (unsigned)sizeof(pi) + word, wt_udata(p, WT_OP_TX_WRITE, slot));
	return true;
}

bool wt_tx_pump(struct wt_engine *e, struct wt_port *p)
{
	uint32_t cap = p->rings->capacity, tail;
	unsigned queued = 0;

	if (p->dead || p->closing || p->tx_stopped)
		return false;
	/* Pairs with the client's store-release of Receive.Tail. */
	tail = wt_load_acquire(&p->rings->desc.Receive.Ring->Tail);
	if (tail == p->tx_walk)
		return false;
	if (!wintun_ring_offset_valid(tail, cap)) {
		tx_stop_bogus(p, p->tx_walk, 0, tail);
		return false;
	}
	while (p->tx_walk != tail && p->tx_count < WT_TX_INFLIGHT_MAX &&
	       tx_queue_record(e, p, tail))
		queued++;
	if (queued)
		wt_stat_add(&p->stats->tx.batches, 1);
	tx_advance(p); /* dropped non-IP records may already free space */
	return queued > 0;
}

void wt_tx_complete(struct wt_port *p, unsigned idx, int res)
{
	struct wt_tx_entry *ent = &p->tx_fifo[idx % WT_TX_INFLIGHT_MAX];
	uint32_t want = ent->want ? ent->want : (uint32_t)sizeof(struct tun_pi) + ent->len;

	ent->done = true;
	if (res == (int)want) {
		wt_stat_add(&p->stats->tx.packets, ent->segs ? ent->segs : 1);
		wt_stat_add(&p->stats->tx.bytes, ent->len);
	} else {
		/* A refused packet is a drop, as Wintun's; EIO only says the
		 * link is down right now (adapters start down, links flap). */
		wt_stat_add(&p->stats->tx.drop_write_error, ent->segs ? ent->segs : 1);
		if (wt_io_device_gone(res))
			wt_port_kill(p, "TUN write failed", -res);
	}
	tx_advance(p);
}

bool wt_tx_prepare_sleep(struct wt_engine *e, struct wt_port *p)
{
	struct io_uring_sqe *sqe;

	if (p->dead || p->closing || p->tx_stopped)
		return true;
	if (!wt_ring_arm(p->rings->desc.Receive.Ring, p->tx_walk))
		return false; /* Tail moved while arming: go on working */
	if (p->tx_wake_armed)
		return true;
	/* A poll, not a read: the eventfd may be non-blocking (it is ours, or
	 * a raw-ring client's), and a poll never races with its flags. */
	sqe = wt_uring_sqe(e);
	if (!sqe) {
		wt_ring_disarm(p->rings->desc.Receive.Ring);
		return false; /* no SQ room: go round once more */
	}
	io_uring_prep_poll_add(sqe, p->rings->desc.Receive.TailMoved, POLLIN);
	io_uring_sqe_set_data64(sqe, wt_udata(p, WT_OP_TX_WAKE, 0));
	p->inflight++;
	p->tx_wake_armed = true;
	return true;
}

void wt_tx_wake_complete(struct wt_port *p, int res)
{
	p->tx_wake_armed = false;
	if (res == -ECANCELED)
		return;
	wt_event_drain(p->rings->desc.Receive.TailMoved);
	wt_stat_add(&p->stats->tx.wakeups, 1);
}
