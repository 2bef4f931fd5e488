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

/*
 * Hand back Packets[0..count) in one direction (release or send).  The common
 * case first, in one pass: the packets are the oldest still held, in ring
 * order (a batch as WintunReceivePackets or WintunAllocateSendPackets
 * returned it), so the release cursor moves past them, and past the records
 * already handed back in between, as the walk would.  The rest go one by
 * one.  Returns how many were not held, the first at index *first_bad
 * with its data at *first_data.
 */
static uint32_t hand_back_locked(const struct wt_client_dir *d, const WINTUN_BATCH_PACKET *pkts,
				 uint32_t count, uint32_t *first_bad, const void **first_data)
{
	uint32_t i = 0, bad = 0, word;

	while (i < count && *d->outstanding) {
		WINTUN_RING_PACKET *rec = wintun_ring_record(d->ring, *d->release);

		word = wt_load_relaxed(&rec->Size);
		if (wt_dir_holds(d, word)) {
			if (pkts[i].Data != rec->Data)
				break;
			wt_store_relaxed(&rec->Size, word ^ WINTUN_PACKET_CLIENT);
			i++;
		}
		*d->release = wintun_ring_next(*d->release, wintun_ring_record_len(word), d->cap);
		(*d->outstanding)--;
	}
	for (; i < count; i++) {
		if (!wt_dir_hand_back(d, pkts[i].Data) && !bad++) {
			*first_bad = i;
			*first_data = pkts[i].Data;
		}
	}
	return bad;
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
		wt_rx_take_locked(s, len);
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
 * WintunReleaseReceivePackets (@send false: the Send ring, under rx.lock) and
 * WintunSendPackets (@send true: the Receive ring, under tx.lock): hand the
 * batch back, publish Head or Tail once, wake the engine at most once.
 */
static void hand_back_batch(struct wintun_session *s, bool send, const WINTUN_BATCH_PACKET *pkts,
			    uint32_t count, const char *fn)
{
	pthread_mutex_t *lock;
	struct wt_client_dir d;
	uint32_t before, bad, first_bad = 0;
	const void *first_data = NULL;
	bool moved;

	if (!s || (!pkts && count)) {
		wt_err("%s: %s is NULL", fn, s ? "Packets" : "session");
		errno = EINVAL;
		return;
	}
	lock = send ? &s->tx.lock : &s->rx.lock;
	pthread_mutex_lock(lock);
	d = send ? wt_tx_dir(s) : wt_rx_dir(s);
	before = *d.release;
	bad = hand_back_locked(&d, pkts, count, &first_bad, &first_data);
	moved = send ? wt_tx_publish_locked(s, before) : wt_rx_reclaim_locked(s, before);
	pthread_mutex_unlock(lock);
	/* Fence, then wake the engine if it armed (Alertable handshake): once
	 * for the whole batch. */
	if (moved && send)
		wt_ring_wake(d.ring, s->rings.desc.Receive.TailMoved);
	else if (moved)
		wt_rx_space_wake(s);
	if (bad) {
		wt_err("%s: %u of %u packets (the first at index %u, %p) were not %s on this "
		       "session or were %s already",
		       fn, bad, count, first_bad, first_data, send ? "allocated" : "received",
		       send ? "sent" : "released");
		errno = EINVAL;
	}
}

WINTUN_API void WintunReleaseReceivePackets(WINTUN_SESSION_HANDLE s, const WINTUN_BATCH_PACKET *Packets,
					    uint32_t Count)
{
	hand_back_batch(s, false, Packets, Count, "WintunReleaseReceivePackets");
}

/* ---- Receive ring: the client produces ------------------------------- */

/*
 * Allocate records for Packets[0..count) in order, as many as fit, or, with
 * @all, all of them or none.  Returns how many, or a negative errno
 * (-ENOBUFS when not even one fits, or not all with @all).
 */
static int tx_alloc(struct wintun_session *s, WINTUN_BATCH_PACKET *pkts, uint32_t count, bool all,
		    const char *fn)
{
	uint32_t head = 0, room, need, n = 0;
	uint64_t total = 0;
	int err;

	pthread_mutex_lock(&s->tx.lock);
	err = wt_tx_head_locked(s, fn, &head);
	if (err) {
		pthread_mutex_unlock(&s->tx.lock);
		return -err;
	}
	room = wintun_ring_free(head, s->tx.tail, s->rings.capacity);
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
		pkts[n].Data = wt_tx_take_locked(s, pkts[n].Size)->Data;
		pkts[n].Reserved = 0;
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

WINTUN_API void WintunSendPackets(WINTUN_SESSION_HANDLE s, const WINTUN_BATCH_PACKET *Packets,
				  uint32_t Count)
{
	hand_back_batch(s, true, Packets, Count, "WintunSendPackets");
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
		wt_rx_take_locked(s, len);
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
	moved = ret > 0 && wt_rx_reclaim_locked(s, s->rx.head_release);
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
