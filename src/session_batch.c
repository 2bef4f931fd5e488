/* SPDX-License-Identifier: MIT */
/*
 * Batch calls on the rings (zero copy) and Wintun 0.1 bundle I/O (copy).
 * Same locks, checks and handshake as the single-packet calls in
 * session_client.c, so both kinds may be mixed on one session; what a batch
 * saves is per-packet locking, index stores and fences: one Head or Tail
 * store and at most one wake-up per call.
 */
#include <errno.h>
#include <string.h>

#include "atomic.h"
#include "bundle.h"
#include "log.h"
#include "ring_sync.h"
#include "session.h"
#include "session_client.h"

/* ---- Send ring: the client consumes ---------------------------------- */

/* Take the packet record at rx.head (just peeked): it is now outstanding. */
static void rx_take_locked(struct wintun_session *s, uint32_t len)
{
	s->rx.head = wintun_ring_next(s->rx.head, len, s->rings.capacity);
	s->rx.outstanding++;
}

/*
 * Advance head_release over the released records (CLIENT or PAD) and publish
 * it if it moved from @before.  Returns true if Head moved (the caller wakes
 * the engine after unlocking).
 */
static bool rx_reclaim_locked(struct wintun_session *s, uint32_t before)
{
	WINTUN_RING *ring = s->rings.desc.Send.Ring;
	uint32_t cap = s->rings.capacity, word;

	while (s->rx.outstanding) {
		word = wt_load_relaxed(&wintun_ring_record(ring, s->rx.head_release)->Size);
		if (!(word & (WINTUN_PACKET_CLIENT | WINTUN_PACKET_PAD)))
			break;
		s->rx.head_release = wintun_ring_next(s->rx.head_release,
							wintun_ring_record_len(word), cap);
		s->rx.outstanding--;
	}
	if (s->rx.head_release == before || s->rx.stop_errno == EBADMSG)
		return false;
	/* Pairs with the engine's load-acquire of Send.Head: our reads of the
	 * released packets happen before the engine reuses their space. */
	wt_store_release(&ring->Head, s->rx.head_release);
	return true;
}

WINTUN_API uint32_t WintunReceivePackets(WINTUN_SESSION_HANDLE s, WINTUN_BATCH_PACKET *Packets,
					 uint32_t Count)
{
	WINTUN_RING_PACKET *rec;
	uint32_t n = 0, len;
	int ret;

	if (!s || !Packets || !Count) {
		wt_err("WintunReceivePackets: %s", !s ? "session is NULL"
					      : !Packets ? "Packets is NULL" : "Count is 0");
		errno = EINVAL;
		return 0;
	}
	pthread_mutex_lock(&s->rx.lock);
	/* Only an empty ring at the start arms the wake-up (as
	 * WintunReceivePacket does): a batch cut short just stops. */
	ret = wt_rx_peek_locked(s, &rec, &len, true);
	while (!ret) {
		Packets[n++] = (WINTUN_BATCH_PACKET){ .Data = rec->Data, .Size = len };
		rx_take_locked(s, len);
		if (n == Count)
			break;
		ret = wt_rx_peek_locked(s, &rec, &len, false);
	}
	pthread_mutex_unlock(&s->rx.lock);
	if (!n)
		errno = -ret;
	return n;
}

/*
 * The common case in one pass: Packets[0..) are the oldest packets still out,
 * in ring order (a batch as WintunReceivePackets returned it).  Moves
 * head_release past them and past the pads and released records in between,
 * as the walk would.  Returns how many packets it took.
 */
static uint32_t rx_release_in_order_locked(struct wintun_session *s, const WINTUN_BATCH_PACKET *pkts,
					   uint32_t count)
{
	WINTUN_RING *ring = s->rings.desc.Send.Ring;
	uint32_t i = 0, word;

	while (i < count && s->rx.outstanding) {
		WINTUN_RING_PACKET *rec = wintun_ring_record(ring, s->rx.head_release);

		word = wt_load_relaxed(&rec->Size);
		if (!(word & (WINTUN_PACKET_CLIENT | WINTUN_PACKET_PAD))) {
			if (pkts[i].Data != rec->Data)
				break;
			i++;
		}
		s->rx.head_release = wintun_ring_next(s->rx.head_release,
							wintun_ring_record_len(word), s->rings.capacity);
		s->rx.outstanding--;
	}
	return i;
}

WINTUN_API void WintunReleaseReceivePackets(WINTUN_SESSION_HANDLE s, const WINTUN_BATCH_PACKET *Packets,
					    uint32_t Count)
{
	WINTUN_RING *ring;
	uint32_t i, off, cap, word, before, bad = 0, first_bad = 0;
	bool moved;

	if (!s || (!Packets && Count)) {
		wt_err("WintunReleaseReceivePackets: %s is NULL", s ? "Packets" : "session");
		errno = EINVAL;
		return;
	}
	ring = s->rings.desc.Send.Ring;
	cap = s->rings.capacity;
	pthread_mutex_lock(&s->rx.lock);
	before = s->rx.head_release;
	i = rx_release_in_order_locked(s, Packets, Count);
	for (; i < Count; i++) {
		word = 0;
		off = wt_held_record(ring, cap, Packets[i].Data, s->rx.outstanding,
				     s->rx.head_release, s->rx.head, &word);
		if (off == UINT32_MAX || (word & (WINTUN_PACKET_CLIENT | WINTUN_PACKET_PAD))) {
			if (!bad++)
				first_bad = i;
			continue;
		}
		wt_store_relaxed(&wintun_ring_record(ring, off)->Size, word | WINTUN_PACKET_CLIENT);
	}
	moved = rx_reclaim_locked(s, before);
	pthread_mutex_unlock(&s->rx.lock);
	if (moved)
		wt_rx_space_wake(s);
	if (bad) {
		wt_err("WintunReleaseReceivePackets: %u of %u packets (the first at index %u, "
		       "%p) were not received on this session or were released already",
		       bad, Count, first_bad, (void *)Packets[first_bad].Data);
		errno = EINVAL;
	}
}

/* ---- Receive ring: the client produces ------------------------------- */

/* Under tx.lock: 0 if the engine still consumes the Receive ring, with its
 * Head in *head; else the errno-style reason, logged if it is corruption. */
static int tx_head_locked(struct wintun_session *s, const char *fn, uint32_t *head)
{
	uint32_t h;
	int err;

	/* Pairs with the engine's store-release of Receive.Head once its writes
	 * of the freed records have completed. */
	h = wt_load_acquire(&s->rings.desc.Receive.Ring->Head);
	if (h != WINTUN_RING_SENTINEL && wintun_ring_offset_valid(h, s->rings.capacity)) {
		*head = h;
		return 0;
	}
	err = h == WINTUN_RING_SENTINEL ? wt_tx_stopped_errno(s) : EBADMSG;
	if (err == EBADMSG)
		wt_err("%s: the receive ring was stopped as corrupt (head 0x%08x)", fn, h);
	return err;
}

/*
 * Allocate records for Packets[0..count) in order, as many as fit, or, with
 * @all, all of them or none.  Returns how many, or a negative errno
 * (-ENOBUFS when not even one fits, or not all with @all).
 */
static int tx_alloc(struct wintun_session *s, WINTUN_BATCH_PACKET *pkts, uint32_t count, bool all,
		    const char *fn)
{
	WINTUN_RING *ring = s->rings.desc.Receive.Ring;
	uint32_t cap = s->rings.capacity, head = 0, room, need, n = 0;
	uint64_t total = 0;
	WINTUN_RING_PACKET *rec;
	int err;

	pthread_mutex_lock(&s->tx.lock);
	err = tx_head_locked(s, fn, &head);
	if (err) {
		pthread_mutex_unlock(&s->tx.lock);
		return -err;
	}
	room = wintun_ring_free(head, s->tx.tail, cap);
	for (uint32_t i = 0; all && i < count; i++)
		total += wintun_ring_record_size(pkts[i].Size);
	if (total > room) {
		pthread_mutex_unlock(&s->tx.lock);
		return -ENOBUFS;
	}
	for (; n < count; n++) {
		need = wintun_ring_record_size(pkts[n].Size);
		if (need > room)
			break;
		room -= need;
		rec = wintun_ring_record(ring, s->tx.tail);
		/* The CLIENT bit marks "allocated, not sent yet" for the send walk. */
		wt_store_relaxed(&rec->Size, pkts[n].Size | WINTUN_PACKET_CLIENT);
		pkts[n].Data = rec->Data;
		pkts[n].Reserved = 0;
		s->tx.tail = wintun_ring_next(s->tx.tail, pkts[n].Size, cap);
		s->tx.outstanding++;
	}
	pthread_mutex_unlock(&s->tx.lock);
	return n ? (int)n : -ENOBUFS;
}

WINTUN_API uint32_t WintunAllocateSendPackets(WINTUN_SESSION_HANDLE s, WINTUN_BATCH_PACKET *Packets,
					      uint32_t Count)
{
	int ret;

	if (!s || !Packets || !Count) {
		wt_err("WintunAllocateSendPackets: %s", !s ? "session is NULL"
					       : !Packets ? "Packets is NULL" : "Count is 0");
		errno = EINVAL;
		return 0;
	}
	for (uint32_t i = 0; i < Count; i++) {
		if (Packets[i].Size == 0 || Packets[i].Size > WINTUN_MAX_IP_PACKET_SIZE) {
			wt_err("WintunAllocateSendPackets: packet %u: size %u is not within 1..%u",
			       i, Packets[i].Size, WINTUN_MAX_IP_PACKET_SIZE);
			errno = EINVAL;
			return 0;
		}
	}
	ret = tx_alloc(s, Packets, Count, false, "WintunAllocateSendPackets");
	if (ret < 0) {
		errno = -ret;
		return 0;
	}
	return (uint32_t)ret;
}

/* Advance tail_release over the records sent (CLIENT clear) and publish it
 * if it moved from @before.  Returns true if Tail moved. */
static bool tx_publish_locked(struct wintun_session *s, uint32_t before)
{
	WINTUN_RING *ring = s->rings.desc.Receive.Ring;
	uint32_t cap = s->rings.capacity, word;

	while (s->tx.outstanding) {
		word = wt_load_relaxed(&wintun_ring_record(ring, s->tx.tail_release)->Size);
		if (word & WINTUN_PACKET_CLIENT)
			break;
		/* The length bits only: a scribbled word cannot throw the walk
		 * further than a record can span. */
		s->tx.tail_release = wintun_ring_next(s->tx.tail_release,
							wintun_ring_record_len(word), cap);
		s->tx.outstanding--;
	}
	if (s->tx.tail_release == before)
		return false; /* an earlier allocation is still being filled */
	/* Pairs with the engine's load-acquire of Receive.Tail: the packet
	 * bytes written before are visible with the new Tail.  Published under
	 * the lock so that Tail only moves forward. */
	wt_store_release(&ring->Tail, s->tx.tail_release);
	return true;
}

/*
 * The common case in one pass: Packets[0..) are the first unsent records, in
 * allocation order (a batch as WintunAllocateSendPackets returned it).  Marks
 * them sent and moves tail_release past them, as the walk would.  Returns
 * how many it took; the rest go the general way.
 */
static uint32_t tx_send_in_order_locked(struct wintun_session *s, const WINTUN_BATCH_PACKET *pkts,
					uint32_t count)
{
	WINTUN_RING *ring = s->rings.desc.Receive.Ring;
	uint32_t i = 0, word;

	for (; i < count && s->tx.outstanding; i++) {
		WINTUN_RING_PACKET *rec = wintun_ring_record(ring, s->tx.tail_release);

		if (pkts[i].Data != rec->Data)
			break;
		word = wt_load_relaxed(&rec->Size);
		if (!(word & WINTUN_PACKET_CLIENT))
			break;
		wt_store_relaxed(&rec->Size, word & ~WINTUN_PACKET_CLIENT);
		s->tx.tail_release = wintun_ring_next(s->tx.tail_release,
							wintun_ring_record_len(word), s->rings.capacity);
		s->tx.outstanding--;
	}
	return i;
}

WINTUN_API void WintunSendPackets(WINTUN_SESSION_HANDLE s, const WINTUN_BATCH_PACKET *Packets,
				  uint32_t Count)
{
	WINTUN_RING *ring;
	uint32_t i, off, cap, word, before, bad = 0, first_bad = 0;
	bool moved;

	if (!s || (!Packets && Count)) {
		wt_err("WintunSendPackets: %s is NULL", s ? "Packets" : "session");
		errno = EINVAL;
		return;
	}
	ring = s->rings.desc.Receive.Ring;
	cap = s->rings.capacity;
	pthread_mutex_lock(&s->tx.lock);
	before = s->tx.tail_release;
	i = tx_send_in_order_locked(s, Packets, Count);
	for (; i < Count; i++) {
		word = 0;
		off = wt_held_record(ring, cap, Packets[i].Data, s->tx.outstanding,
				     s->tx.tail_release, s->tx.tail, &word);
		if (off == UINT32_MAX || !(word & WINTUN_PACKET_CLIENT)) {
			if (!bad++)
				first_bad = i;
			continue;
		}
		wt_store_relaxed(&wintun_ring_record(ring, off)->Size, word & ~WINTUN_PACKET_CLIENT);
	}
	moved = tx_publish_locked(s, before);
	pthread_mutex_unlock(&s->tx.lock);
	/* Fence, then wake the engine if it armed (Alertable handshake): once
	 * for the whole batch. */
	if (moved)
		wt_ring_wake(ring, s->rings.desc.Receive.TailMoved);
	if (bad) {
		wt_err("WintunSendPackets: %u of %u packets (the first at index %u, %p) were "
		       "not allocated on this session or were sent already",
		       bad, Count, first_bad, (void *)Packets[first_bad].Data);
		errno = EINVAL;
	}
}

/* ---- Wintun 0.1 bundles ---------------------------------------------- */

static bool bundle_session_ok(struct wintun_session *s, const char *fn)
{
	if (!s->vnet_hdr)
		return true;
	wt_err("%s: bundles carry plain IP packets; this session is in offload mode", fn);
	return false;
}

/* Under rx.lock: copy packets into @buf as bundle records while they fit.
 * Returns the bytes written, or a negative errno if none was. */
static int64_t rx_fill_bundle_locked(struct wintun_session *s, uint8_t *buf, uint32_t size)
{
	WINTUN_RING_PACKET *rec;
	uint32_t used = 0, span, len, n = 0;
	int ret = wt_rx_peek_locked(s, &rec, &len, true);

	while (!ret) {
		span = wt_bundle_put(buf + used, size - used, rec->Data, len);
		if (!span) {
			if (n)
				break;
			wt_err("WintunReadBundle: a buffer of %u bytes cannot hold the next "
			       "packet (%u bytes, %u as a bundle record)",
			       size, len, wt_bundle_record_len(len));
			return -ENOBUFS;
		}
		used += span;
		/* Copied out: released at once, by the same walk as a release. */
		wt_store_relaxed(&rec->Size, len | WINTUN_PACKET_CLIENT);
		rx_take_locked(s, len);
		if (++n == WINTUN_MAX_BUNDLE_PACKETS)
			break;
		ret = wt_rx_peek_locked(s, &rec, &len, false);
	}
	return n ? (int64_t)used : ret;
}

WINTUN_API uint32_t WintunReadBundle(WINTUN_SESSION_HANDLE s, void *Buffer, uint32_t BufferSize)
{
	int64_t ret;
	bool moved;

	if (!s || !Buffer) {
		wt_err("WintunReadBundle: %s is NULL", s ? "Buffer" : "session");
		errno = EINVAL;
		return 0;
	}
	if (!bundle_session_ok(s, "WintunReadBundle")) {
		errno = EINVAL;
		return 0;
	}
	pthread_mutex_lock(&s->rx.lock);
	ret = rx_fill_bundle_locked(s, Buffer, BufferSize);
	moved = ret > 0 && rx_reclaim_locked(s, s->rx.head_release);
	pthread_mutex_unlock(&s->rx.lock);
	if (moved)
		wt_rx_space_wake(s);
	if (ret < 0) {
		errno = (int)-ret;
		return 0;
	}
	return (uint32_t)ret;
}

/* Fill an allocated record from the bundle (every one of them was
 * allocated: the allocation was all or nothing). */
static void bundle_copy(const WINTUN_BATCH_PACKET *to, const struct wt_bundle_pkt *from)
{
	if (to->Data)
		memcpy(to->Data, from->data, from->len);
}

WINTUN_API bool WintunWriteBundle(WINTUN_SESSION_HANDLE s, const void *Buffer, uint32_t Size)
{
	struct wt_bundle_pkt in[WINTUN_MAX_BUNDLE_PACKETS];
	WINTUN_BATCH_PACKET out[WINTUN_MAX_BUNDLE_PACKETS];
	int n, i;

	if (!s || (!Buffer && Size)) {
		wt_err("WintunWriteBundle: %s is NULL", s ? "Buffer" : "session");
		return wt_fail_bool(-EINVAL);
	}
	if (!bundle_session_ok(s, "WintunWriteBundle"))
		return wt_fail_bool(-EINVAL);
	/* Every record is checked before anything is allocated: a bad bundle
	 * sends nothing. */
	n = wt_bundle_parse(Buffer, Size, in);
	if (n <= 0)
		return n ? wt_fail_bool(n) : true;
	for (i = 0; i < n; i++)
		out[i] = (WINTUN_BATCH_PACKET){ .Size = in[i].len };
	i = tx_alloc(s, out, (uint32_t)n, true, "WintunWriteBundle");
	if (i < 0)
		return wt_fail_bool(i);
	for (i = 0; i < n; i++)
		bundle_copy(&out[i], &in[i]);
	WintunSendPackets(s, out, (uint32_t)n);
	return true;
}
