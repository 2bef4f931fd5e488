/* SPDX-License-Identifier: MIT */
/*
 * The client side of a session: what wintun.dll does on Windows.  The client
 * consumes the Send ring (receive/release) and produces into the Receive ring
 * (allocate/send).  Each direction has one lock, as in wintun.dll: the fast
 * path is an uncontended mutex plus a few loads and stores in shared memory.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "atomic.h"
#include "clock.h"
#include "log.h"
#include "ring_sync.h"
#include "session.h"
#include "session_client.h"

/* ---- Send ring: the client consumes ---------------------------------- */

/* Wake an engine that sleeps for lack of Send ring space, after the caller's
 * store-release of Send.Head (the releasing half of the handshake in
 * wt_rx_prepare_sleep). */
static void rx_space_wake(struct wintun_session *s)
{
	if (s->rings.space_fd < 0)
		return;
	/* Full fence: orders the store-release of Head before the load of
	 * space_armed (store->load).  Pairs with the fence in
	 * wt_rx_prepare_sleep. */
	wt_full_fence();
	if (!atomic_load_explicit(&s->rings.space_armed, memory_order_relaxed))
		return;
	/* Clear it so a burst of releases costs one signal. */
	if (atomic_exchange_explicit(&s->rings.space_armed, 0, memory_order_relaxed))
		wt_event_signal(s->rings.space_fd);
}

static int rx_stop_locked(struct wintun_session *s, int err)
{
	if (err == EBADMSG) {
		/* Tell the engine to stop producing; pairs with its load-acquire
		 * of Send.Head. */
		wt_store_release(&s->rings.desc.Send.Ring->Head, WINTUN_RING_SENTINEL);
	}
	s->rx.stop_errno = err;
	/* The stop is sticky: from now on nothing here drains the event, and
	 * this signal replaces one an earlier drain may have taken, so every
	 * waiter and every poller of the event wakes up and sees the stop. */
	wt_event_signal(s->rings.desc.Send.TailMoved);
	return -err;
}

/*
 * The ring is empty at @tail: reset the event (Windows' read-wait event is an
 * auto-reset event, and a client that only polls it must not find it
 * readable again), then arm the wake-up.  Draining first loses nothing: a
 * publish after the drain sees Alertable (full fences, wt_ring_arm) and
 * signals again.  Returns true if the ring is still empty.
 */
static bool rx_reset_and_arm_locked(struct wintun_session *s, uint32_t tail)
{
	wt_event_drain(s->rings.desc.Send.TailMoved);
	return wt_ring_arm(s->rings.desc.Send.Ring, tail);
}

/* Pads the engine left are freed at once when no packet before them is still
 * out, otherwise counted so that the release walk passes over them. */
static void rx_skip_pad_locked(struct wintun_session *s, uint32_t size_word)
{
	s->rx.head = wintun_ring_next(s->rx.head, wintun_ring_record_len(size_word),
					s->rings.capacity);
	if (s->rx.outstanding) {
		s->rx.outstanding++;
		return;
	}
	s->rx.head_release = s->rx.head;
	/* Pairs with the engine's load-acquire of Send.Head. */
	wt_store_release(&s->rings.desc.Send.Ring->Head, s->rx.head);
	rx_space_wake(s);
}

/*
 * Find the next packet record at send.head, skipping pads.  With @arm, an
 * empty ring arms the wake-up (Alertable handshake) before reporting EAGAIN.
 * Returns 0 with *rec set, or -EAGAIN, -ESHUTDOWN, -EBADMSG.
 */
static int rx_peek_locked(struct wintun_session *s, WINTUN_RING_PACKET **rec, uint32_t *len,
			    bool arm)
{
	WINTUN_RING *ring = s->rings.desc.Send.Ring;
	uint32_t cap = s->rings.capacity;
	uint32_t tail, word;

	if (s->rx.stop_errno)
		return -s->rx.stop_errno;
	/* Pairs with the store-release of Tail in wt_rx_publish (engine). */
	tail = wt_load_acquire(&ring->Tail);
	for (;;) {
		if (tail == WINTUN_RING_SENTINEL)
			return rx_stop_locked(s, ESHUTDOWN);
		if (!wintun_ring_offset_valid(tail, cap)) {
			wt_err("send ring: tail %u is not an aligned offset below %u", tail, cap);
			return rx_stop_locked(s, EBADMSG);
		}
		if (s->rx.head == tail) {
			if (!arm || rx_reset_and_arm_locked(s, tail))
				return -EAGAIN;
			tail = wt_load_acquire(&ring->Tail); /* moved while arming */
			continue;
		}
		/* Once, atomically: the checked value is the one used. */
		word = wt_load_relaxed(&wintun_ring_record(ring, s->rx.head)->Size);
		if (!wintun_ring_record_valid(s->rx.head, tail, cap, word, true)) {
			wt_err("send ring: bogus record at %u (size word 0x%08x, tail %u)",
			       s->rx.head, word, tail);
			return rx_stop_locked(s, EBADMSG);
		}
		if (!wintun_ring_record_is_pad(word)) {
			*rec = wintun_ring_record(ring, s->rx.head);
			*len = word; /* the value checked: never read it twice */
			return 0;
		}
		rx_skip_pad_locked(s, word);
	}
}

/* Take the packet record at rx.head (just peeked): it is now outstanding. */
static void rx_take_locked(struct wintun_session *s, uint32_t len)
{
	s->rx.head = wintun_ring_next(s->rx.head, len, s->rings.capacity);
	s->rx.outstanding++;
}

WINTUN_API uint8_t *WintunReceivePacket(WINTUN_SESSION_HANDLE s, uint32_t *PacketSize)
{
	WINTUN_RING_PACKET *rec;
	uint32_t len;
	int ret;

	if (!s || !PacketSize) {
		wt_err("WintunReceivePacket: %s is NULL", s ? "PacketSize" : "session");
		return wt_fail_ptr(-EINVAL);
	}
	pthread_mutex_lock(&s->rx.lock);
	ret = rx_peek_locked(s, &rec, &len, true);
	if (ret) {
		pthread_mutex_unlock(&s->rx.lock);
		return wt_fail_ptr(ret);
	}
	*PacketSize = len;
	rx_take_locked(s, len);
	pthread_mutex_unlock(&s->rx.lock);
	return rec->Data;
}

/* Offset of the record holding @packet in @ring, or UINT32_MAX if @packet
 * cannot be a record's data there. */
static uint32_t record_offset(const WINTUN_RING *ring, uint32_t cap, const uint8_t *packet)
{
	uintptr_t data = (uintptr_t)ring->Data + sizeof(WINTUN_RING_PACKET);
	uintptr_t p = (uintptr_t)packet;
	uint32_t off;

	if (p < data || p - data >= cap)
		return UINT32_MAX;
	off = (uint32_t)(p - data);
	return wintun_ring_offset_valid(off, cap) ? off : UINT32_MAX;
}

/* True if @off lies in [from, to) going round the ring. */
static bool in_window(uint32_t off, uint32_t from, uint32_t to, uint32_t cap)
{
	return wintun_ring_wrap(off - from, cap) < wintun_ring_wrap(to - from, cap);
}

/*
 * The offset of the record holding @packet in @ring if it is one of the
 * @outstanding records in [from, to), with its Size word (read once) in
 * *word; UINT32_MAX otherwise.  Called under the direction's lock.
 */
static uint32_t held_record(WINTUN_RING *ring, uint32_t cap, const uint8_t *packet,
			    uint32_t outstanding, uint32_t from, uint32_t to, uint32_t *word)
{
	uint32_t off = record_offset(ring, cap, packet);

	if (off == UINT32_MAX || !outstanding || !in_window(off, from, to, cap))
		return UINT32_MAX;
	*word = wt_load_relaxed(&wintun_ring_record(ring, off)->Size);
	return off;
}

/*
 * The Send ring's releases and the Receive ring's sends are one walk over the
 * records the client holds; only the Size-word bits that say "held" differ.
 */
static struct wt_client_dir rx_dir(struct wintun_session *s)
{
	return (struct wt_client_dir){
		.ring = s->rings.desc.Send.Ring,
		.cap = s->rings.capacity,
		.release = &s->rx.head_release,
		.end = s->rx.head,
		.outstanding = &s->rx.outstanding,
		/* Received, not released: neither released (CLIENT) nor a pad. */
		.held_mask = WINTUN_PACKET_CLIENT | WINTUN_PACKET_PAD,
		.held_bits = 0,
	};
}

static struct wt_client_dir tx_dir(struct wintun_session *s)
{
	return (struct wt_client_dir){
		.ring = s->rings.desc.Receive.Ring,
		.cap = s->rings.capacity,
		.release = &s->tx.tail_release,
		.end = s->tx.tail,
		.outstanding = &s->tx.outstanding,
		/* Allocated, not sent: CLIENT set. */
		.held_mask = WINTUN_PACKET_CLIENT,
		.held_bits = WINTUN_PACKET_CLIENT,
	};
}

static bool dir_holds(const struct wt_client_dir *d, uint32_t word)
{
	return (word & d->held_mask) == d->held_bits;
}

/* Under the direction's lock: hand back the held record whose data @packet
 * is (released or sent: the CLIENT bit flips).  False if it is not one. */
static bool dir_hand_back(const struct wt_client_dir *d, const uint8_t *packet)
{
	uint32_t word = 0;
	uint32_t off = held_record(d->ring, d->cap, packet, *d->outstanding, *d->release, d->end,
				   &word);

	if (off == UINT32_MAX || !dir_holds(d, word))
		return false;
	wt_store_relaxed(&wintun_ring_record(d->ring, off)->Size, word ^ WINTUN_PACKET_CLIENT);
	return true;
}

/* Under the direction's lock: move the release cursor over the records
 * handed back (and pads). */
static void dir_walk(const struct wt_client_dir *d)
{
	uint32_t word;

	while (*d->outstanding) {
		word = wt_load_relaxed(&wintun_ring_record(d->ring, *d->release)->Size);
		if (dir_holds(d, word))
			break;
		/* The length bits only: a scribbled word cannot throw the walk
		 * further than a record can span. */
		*d->release = wintun_ring_next(*d->release, wintun_ring_record_len(word), d->cap);
		(*d->outstanding)--;
	}
}

/* Under rx.lock: walk head_release over the released records and publish it
 * if it moved from @before.  Returns true if Head moved (the caller wakes the
 * engine after unlocking). */
static bool rx_reclaim_locked(struct wintun_session *s, uint32_t before)
{
	struct wt_client_dir d = rx_dir(s);

	dir_walk(&d);
	if (s->rx.head_release == before || s->rx.stop_errno == EBADMSG)
		return false;
	/* Pairs with the engine's load-acquire of Send.Head: our reads of the
	 * released packets happen before the engine reuses their space. */
	wt_store_release(&d.ring->Head, s->rx.head_release);
	return true;
}

WINTUN_API void WintunReleaseReceivePacket(WINTUN_SESSION_HANDLE s, const uint8_t *Packet)
{
	struct wt_client_dir d;
	bool moved;

	if (!s || !Packet) {
		wt_err("WintunReleaseReceivePacket: %s is NULL", s ? "packet" : "session");
		errno = EINVAL;
		return;
	}
	pthread_mutex_lock(&s->rx.lock);
	d = rx_dir(s);
	if (!dir_hand_back(&d, Packet)) {
		pthread_mutex_unlock(&s->rx.lock);
		wt_err("WintunReleaseReceivePacket: %p is not a packet received on this session "
		       "and not yet released",
		       (const void *)Packet);
		errno = EINVAL;
		return;
	}
	moved = rx_reclaim_locked(s, s->rx.head_release);
	pthread_mutex_unlock(&s->rx.lock);
	if (moved)
		rx_space_wake(s);
}

WINTUN_API bool WintunIsPacketAvailable(WINTUN_SESSION_HANDLE s)
{
	WINTUN_RING_PACKET *rec;
	uint32_t len;
	int ret;

	if (!s) {
		wt_err("WintunIsPacketAvailable: session is NULL");
		return wt_fail_bool(-EINVAL);
	}
	pthread_mutex_lock(&s->rx.lock);
	ret = rx_peek_locked(s, &rec, &len, false);
	pthread_mutex_unlock(&s->rx.lock);
	if (!ret)
		return true;
	if (ret == -EAGAIN) {
		errno = 0;
		return false;
	}
	return wt_fail_bool(ret);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until @deadline for poll(); -1 waits forever. */
static int remaining_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	return left < 0 ? 0 : (int)(left > 1000000 ? 1000000 : left);
}

static int wait_for_packet(struct wintun_session *s, uint32_t Milliseconds, int64_t deadline);

WINTUN_API bool WintunWaitForPacket(WINTUN_SESSION_HANDLE s, uint32_t Milliseconds)
{
	int64_t deadline = Milliseconds == UINT32_MAX ? -1 : now_ms() + Milliseconds;
	int ret;

	if (!s) {
		wt_err("WintunWaitForPacket: session is NULL");
		return wt_fail_bool(-EINVAL);
	}
	/* WintunEndSession waits for us to leave before freeing the session. */
	pthread_mutex_lock(&s->rx.lock);
	s->rx.waiters++;
	pthread_mutex_unlock(&s->rx.lock);
	ret = wait_for_packet(s, Milliseconds, deadline);
	pthread_mutex_lock(&s->rx.lock);
	if (--s->rx.waiters == 0)
		pthread_cond_broadcast(&s->rx.waiters_left);
	pthread_mutex_unlock(&s->rx.lock);
	return ret ? wt_fail_bool(ret) : true;
}

void wt_session_wait_for_waiters(struct wintun_session *s)
{
	pthread_mutex_lock(&s->rx.lock);
	while (s->rx.waiters)
		pthread_cond_wait(&s->rx.waiters_left, &s->rx.lock);
	pthread_mutex_unlock(&s->rx.lock);
}

/*
 * WintunWaitForPacket watches Tail for a little while before it arms the
 * wake-up and sleeps: a packet that comes within the spin is taken with no
 * sleep, no wake-up (the engine's signal finds nobody to wake, which is what
 * makes it cheap) and no scheduling delay.  Adaptive: a spin that found a
 * packet sets the next one to the longest, rx.spin_max_ns; one that did not
 * halves it, down to none; then one wait in WT_WAIT_SPIN_PROBE spins anyway
 * (the longest) to see whether spinning pays again.
 */
#define WT_WAIT_SPIN_MIN_NS 500u
#define WT_WAIT_SPIN_PROBE 8u

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* How long this wait spins; *probe: it is a probe (a miss ends spinning at
 * once, not halving down). */
static unsigned wait_spin_budget(struct wintun_session *s, bool *probe)
{
	unsigned budget = atomic_load_explicit(&s->rx.spin_ns, memory_order_relaxed), n;

	*probe = !budget;
	if (budget || !s->rx.spin_max_ns)
		return budget;
	n = atomic_fetch_add_explicit(&s->rx.spin_probe, 1, memory_order_relaxed);
	return n % WT_WAIT_SPIN_PROBE == WT_WAIT_SPIN_PROBE - 1 ? s->rx.spin_max_ns : 0;
}

/* The ring was empty at @head: watch Tail for @budget ns. */
static void wait_spin(struct wintun_session *s, uint32_t head, unsigned budget, bool probe)
{
	WINTUN_RING *ring = s->rings.desc.Send.Ring;
	uint64_t t0 = wt_now_ns();
	unsigned next;
	bool paid = false;

	do {
		/* A hint only: the peek after it loads Tail with acquire (and
		 * checks it; SENTINEL counts as moved). */
		if (wt_load_relaxed(&ring->Tail) != head) {
			paid = true;
			break;
		}
		cpu_relax();
	} while (wt_now_ns() - t0 < budget);
	next = paid ? s->rx.spin_max_ns : probe ? 0 : budget / 2;
	atomic_store_explicit(&s->rx.spin_ns, next < WT_WAIT_SPIN_MIN_NS ? 0 : next,
			      memory_order_relaxed);
	atomic_fetch_add_explicit(paid ? &s->rx.spins_paid : &s->rx.spins_unpaid, 1,
				  memory_order_relaxed);
}

static int wait_for_packet(struct wintun_session *s, uint32_t Milliseconds, int64_t deadline)
{
	WINTUN_RING_PACKET *rec;
	uint32_t len, head;
	bool probe = false;
	unsigned budget = Milliseconds ? wait_spin_budget(s, &probe) : 0;
	bool spun = budget == 0;
	int ret;

	for (;;) {
		struct pollfd pfd = { .fd = s->rings.desc.Send.TailMoved, .events = POLLIN };
		int timeout;

		pthread_mutex_lock(&s->rx.lock);
		ret = rx_peek_locked(s, &rec, &len, Milliseconds != 0 && spun);
		/* Spin unarmed (WintunReceivePacket may have armed): a publish
		 * meanwhile then costs the engine no signal.  Whoever disarms
		 * is awake and sees the packet; the arm after the spin covers
		 * the rest (the handshake as before). */
		if (ret == -EAGAIN && !spun)
			wt_ring_disarm(s->rings.desc.Send.Ring);
		head = s->rx.head;
		pthread_mutex_unlock(&s->rx.lock);
		if (ret != -EAGAIN)
			return ret;
		if (!spun) {
			spun = true;
			wait_spin(s, head, budget, probe);
			continue;
		}
		timeout = remaining_ms(deadline);
		if (timeout == 0)
			return -ETIMEDOUT;
		/* No drain after the wake-up: the next peek resets the event if
		 * the ring is empty again, and never once the session stopped
		 * (other waiters and pollers must see that too). */
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			return -errno;
	}
}

WINTUN_API int WintunGetReadWaitEvent(WINTUN_SESSION_HANDLE s)
{
	if (!s) {
		wt_err("WintunGetReadWaitEvent: session is NULL");
		return wt_fail_int(-EINVAL);
	}
	return s->rings.desc.Send.TailMoved;
}

/* ---- Receive ring: the client produces ------------------------------- */

/* Why the engine stopped consuming (Head == SENTINEL): the session ended, or
 * it found the ring corrupt. */
static int tx_stopped_errno(struct wintun_session *s)
{
	/* Pairs with the store-release in wt_ring_pair_close. */
	return wt_load_acquire(&s->rings.desc.Send.Ring->Tail) == WINTUN_RING_SENTINEL ? ESHUTDOWN
										     : EBADMSG;
}

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
	err = h == WINTUN_RING_SENTINEL ? tx_stopped_errno(s) : EBADMSG;
	if (err == EBADMSG)
		wt_err("%s: the receive ring was stopped as corrupt (head 0x%08x)", fn, h);
	return err;
}

/* Under tx.lock: allocate the record at tx.tail for @size bytes (room
 * checked), marked CLIENT ("allocated, not sent yet") for the send walk. */
static WINTUN_RING_PACKET *tx_take_locked(struct wintun_session *s, uint32_t size)
{
	WINTUN_RING_PACKET *rec = wintun_ring_record(s->rings.desc.Receive.Ring, s->tx.tail);

	wt_store_relaxed(&rec->Size, size | WINTUN_PACKET_CLIENT);
	s->tx.tail = wintun_ring_next(s->tx.tail, size, s->rings.capacity);
	s->tx.outstanding++;
	return rec;
}

WINTUN_API uint8_t *WintunAllocateSendPacket(WINTUN_SESSION_HANDLE s, uint32_t PacketSize)
{
	WINTUN_RING_PACKET *rec;
	uint32_t head = 0;
	int err;

	if (!s || PacketSize == 0 || PacketSize > WINTUN_MAX_IP_PACKET_SIZE) {
		if (!s)
			wt_err("WintunAllocateSendPacket: session is NULL");
		else
			wt_err("WintunAllocateSendPacket: packet size %u is not within 1..%u",
			       PacketSize, WINTUN_MAX_IP_PACKET_SIZE);
		return wt_fail_ptr(-EINVAL);
	}
	pthread_mutex_lock(&s->tx.lock);
	err = tx_head_locked(s, "WintunAllocateSendPacket", &head);
	if (err) {
		pthread_mutex_unlock(&s->tx.lock);
		return wt_fail_ptr(-err);
	}
	if (wintun_ring_record_size(PacketSize) >
	    wintun_ring_free(head, s->tx.tail, s->rings.capacity)) {
		pthread_mutex_unlock(&s->tx.lock);
		return wt_fail_ptr(-ENOBUFS);
	}
	rec = tx_take_locked(s, PacketSize);
	pthread_mutex_unlock(&s->tx.lock);
	return rec->Data;
}

/* Under tx.lock: walk tail_release over the records sent and publish it if
 * it moved from @before.  Returns true if Tail moved (the caller wakes the
 * engine after unlocking). */
static bool tx_publish_locked(struct wintun_session *s, uint32_t before)
{
	struct wt_client_dir d = tx_dir(s);

	dir_walk(&d);
	if (s->tx.tail_release == before)
		return false; /* an earlier allocation is still being filled */
	/* Pairs with the engine's load-acquire of Receive.Tail: the packet
	 * bytes written before are visible with the new Tail.  Published under
	 * the lock so that Tail only moves forward. */
	wt_store_release(&d.ring->Tail, s->tx.tail_release);
	return true;
}

WINTUN_API void WintunSendPacket(WINTUN_SESSION_HANDLE s, const uint8_t *Packet)
{
	struct wt_client_dir d;
	bool moved;

	if (!s || !Packet) {
		wt_err("WintunSendPacket: %s is NULL", s ? "packet" : "session");
		errno = EINVAL;
		return;
	}
	pthread_mutex_lock(&s->tx.lock);
	d = tx_dir(s);
	if (!dir_hand_back(&d, Packet)) {
		pthread_mutex_unlock(&s->tx.lock);
		wt_err("WintunSendPacket: %p is not a packet allocated on this session and not "
		       "yet sent",
		       (const void *)Packet);
		errno = EINVAL;
		return;
	}
	moved = tx_publish_locked(s, s->tx.tail_release);
	pthread_mutex_unlock(&s->tx.lock);
	/* Fence, then wake the engine if it armed (Alertable handshake). */
	if (moved)
		wt_ring_wake(d.ring, s->rings.desc.Receive.TailMoved);
}

/* ---- Shared with the batch calls (session_client.h) ------------------ */

int wt_rx_peek_locked(struct wintun_session *s, WINTUN_RING_PACKET **rec, uint32_t *len,
		      bool arm)
{
	return rx_peek_locked(s, rec, len, arm);
}

void wt_rx_take_locked(struct wintun_session *s, uint32_t len)
{
	rx_take_locked(s, len);
}

void wt_rx_space_wake(struct wintun_session *s)
{
	rx_space_wake(s);
}

bool wt_rx_reclaim_locked(struct wintun_session *s, uint32_t before)
{
	return rx_reclaim_locked(s, before);
}

struct wt_client_dir wt_rx_dir(struct wintun_session *s)
{
	return rx_dir(s);
}

struct wt_client_dir wt_tx_dir(struct wintun_session *s)
{
	return tx_dir(s);
}

bool wt_dir_holds(const struct wt_client_dir *d, uint32_t word)
{
	return dir_holds(d, word);
}

bool wt_dir_hand_back(const struct wt_client_dir *d, const uint8_t *packet)
{
	return dir_hand_back(d, packet);
}

int wt_tx_head_locked(struct wintun_session *s, const char *fn, uint32_t *head)
{
	return tx_head_locked(s, fn, head);
}

WINTUN_RING_PACKET *wt_tx_take_locked(struct wintun_session *s, uint32_t size)
{
	return tx_take_locked(s, size);
}

bool wt_tx_publish_locked(struct wintun_session *s, uint32_t before)
{
	return tx_publish_locked(s, before);
}
