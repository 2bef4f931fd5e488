/* SPDX-License-Identifier: MIT */
/*
 * tun-pump: the forwarding thread, A's Send ring into B's Receive ring and
 * back, with the public API only.
 *
 * Backpressure, never loss: a record taken from one side stays taken (not
 * released) until the other side's Receive ring has room for it.  Meanwhile
 * this direction takes nothing more, so its Send ring fills, its engine stops
 * reading and the kernel holds the traffic back (TCP's own queue limits) --
 * where dropping a 64 KiB super-packet would cost TCP a retransmission and
 * halve its window.  Nothing signals freed space in a Receive ring, so the
 * wait is a short sleep that grows while nothing moves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "pump.h"
#include "pump_split.h"

#define BATCH 256
/* Waits for room: long enough to leave the CPU to the engine (in offload
 * mode both share one), short enough that the ring does not run dry while
 * we sleep (at 10 Gbit/s a 64 KiB record's room frees in ~50 us, a whole
 * 512 KiB ring in ~400 us); any progress starts again from the shortest.
 * At most 1,000 wake-ups a second when the other side has stalled. */
#define WAIT_MIN_NS 20000L
#define WAIT_MAX_NS 1000000L

struct direction {
	WINTUN_SESSION_HANDLE from, to;
	struct fwd_counters *c;
	int idx;
	uint32_t from_hdr; /* virtio_net_hdr before the IP packet in from's records */
	bool split;        /* split from's super-packets into MTU-sized packets */
	uint8_t *held;     /* taken from @from, not yet all in @to's ring */
	uint32_t held_size;
	bool blocked;      /* the held record waits for room */
	struct pump_split sp; /* with @split: the held record's packets */
	uint64_t packets, bytes, drops, waits;
};

static void add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* Bytes before the IP packet in @s's records: the virtio_net_hdr in offload
 * mode.  The counters count IP bytes, the same in every mode. */
static uint32_t record_header(WINTUN_SESSION_HANDLE s)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	return WintunGetSessionStatistics(s, &st) && st.Offloads ? WINTUN_VNET_HDR_SIZE : 0;
}

static int copy_to(WINTUN_SESSION_HANDLE to, const uint8_t *rec, uint32_t size)
{
	uint8_t *out = WintunAllocateSendPacket(to, size);

	if (!out)
		return -errno;
	memcpy(out, rec, size);
	WintunSendPacket(to, out);
	return 0;
}

/* Put the held record (or what is left of it) into the other ring.
 * Returns 0 when it is all there and released, -ENOBUFS when the ring is
 * full (still held), another -errno when a session ended. */
static int deliver(struct direction *d)
{
	int ret = d->split ? pump_split_send(&d->sp, d->to) : copy_to(d->to, d->held, d->held_size);

	if (ret == -ENOBUFS)
		return ret;
	d->blocked = false;
	if (ret == -EINVAL) {
		d->drops++; /* refused by the other side or the splitter (logged) */
		ret = 0;
	} else if (!ret) {
		d->packets++;
		d->bytes += d->held_size > d->from_hdr ? d->held_size - d->from_hdr : 0;
	}
	WintunReleaseReceivePacket(d->from, d->held);
	d->held = NULL;
	return ret;
}

static int take(struct direction *d)
{
	uint32_t size;
	uint8_t *rec = WintunReceivePacket(d->from, &size);

	if (!rec)
		return -errno;
	d->held = rec;
	d->held_size = size;
	if (d->split)
		pump_split_load(&d->sp, rec, size);
	return 0;
}

/* Move up to BATCH records from @d->from's Send ring into @d->to's Receive
 * ring, the held one first.  Returns how many it completed (a record of
 * which only some packets went counts as progress too); *dead is set when a
 * session ended. */
static unsigned forward(struct direction *d, bool *dead)
{
	uint64_t split_before = d->sp.sent;
	unsigned n = 0;
	int ret = 0;

	while (n < BATCH) {
		if (!d->held && (ret = take(d)))
			break;
		if ((ret = deliver(d)))
			break;
		n++;
	}
	if (ret == -ENOBUFS) {
		if (!d->blocked)
			d->waits++;
		d->blocked = true;
		if (d->sp.sent != split_before)
			n++; /* some of the held record's packets went */
	} else if (ret && ret != -EAGAIN) {
		*dead = true;
	}
	return n;
}

static void publish(struct direction *d)
{
	add(&d->c->packets[d->idx], d->packets);
	add(&d->c->bytes[d->idx], d->bytes);
	add(&d->c->drops[d->idx], d->drops);
	add(&d->c->waits[d->idx], d->waits);
	d->packets = d->bytes = d->drops = d->waits = 0;
}

/* Sleep until a packet arrives on a side we may take from, the stop is asked
 * for, or (something held) @wait_ns passed.  Returns false to stop. */
static bool wait_for_work(struct direction dir[2], long wait_ns, bool *dead)
{
	struct pollfd pfd[3];
	struct timespec ts = { 0, wait_ns };
	bool holding = dir[0].held || dir[1].held;

	for (int i = 0; i < 2; i++) {
		/* A direction that holds a record took nothing new: its
		 * wake-up is not armed, and must not be waited for. */
		pfd[i].fd = dir[i].held ? -1 : WintunGetReadWaitEvent(dir[i].from);
		pfd[i].events = POLLIN;
	}
	pfd[2] = (struct pollfd){ .fd = P.stop_fd, .events = POLLIN };
	if (!holding) {
		ts.tv_sec = 1; /* only a guard: the wake-ups are armed */
		ts.tv_nsec = 0;
	}
	if (ppoll(pfd, 3, &ts, NULL) < 0 && errno != EINTR)
		return false;
	if (pfd[2].revents)
		return false;
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0 && pfd[i].revents) {
			uint64_t v;

			if (read(pfd[i].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				*dead = true;
		}
	return true;
}

static int init_direction(struct direction *d, int idx, unsigned q, struct side *from,
			  struct side *to)
{
	*d = (struct direction){ .from = from->sessions[q], .to = to->sessions[q], .idx = idx,
				 .c = &P.fwd[q] };
	d->from_hdr = record_header(d->from);
	/* Only A's super-packets are split: B's engine coalesces them again,
	 * and what B sends back (mostly ACKs) passes as it is. */
	d->split = P.split && idx == 0;
	return d->split ? pump_split_init(&d->sp, record_header(d->to)) : 0;
}

void *pump_forwarder(void *arg)
{
	struct direction dir[2] = { 0 };
	long wait_ns = WAIT_MIN_NS;
	bool dead = false;
	unsigned q = (unsigned)(intptr_t)arg;

	pthread_setname_np(pthread_self(), "tun-pump/fwd");
	prctl(PR_SET_TIMERSLACK, 1000UL); /* the waits are tens of µs */
	if (init_direction(&dir[0], 0, q, &P.a, &P.b) || init_direction(&dir[1], 1, q, &P.b, &P.a)) {
		fprintf(stderr, "tun-pump: out of memory\n");
		dead = true;
	}
	while (!dead) {
		unsigned moved = forward(&dir[0], &dead) + forward(&dir[1], &dead);

		publish(&dir[0]);
		publish(&dir[1]);
		if (moved) {
			wait_ns = WAIT_MIN_NS;
			continue;
		}
		if (dead || !wait_for_work(dir, wait_ns, &dead))
			break;
		if (dir[0].held || dir[1].held)
			wait_ns = wait_ns * 2 > WAIT_MAX_NS ? WAIT_MAX_NS : wait_ns * 2;
	}
	for (int i = 0; i < 2; i++) {
		if (dir[i].held)
			WintunReleaseReceivePacket(dir[i].from, dir[i].held); /* stopping */
		pump_split_free(&dir[i].sp);
	}
	if (dead)
		pump_stop(); /* a session ended: stop the pump */
	return NULL;
}
