/* SPDX-License-Identifier: MIT */
/*
 * The baseline: what the engine thread does, done the plain way by one
 * "wb-base-io" thread, so the client side (WintunReceivePacket & co. on the
 * same ring protocol) and the per-thread accounting stay the same.
 *
 *   RX: when poll() reports the TUN fd readable (or the last drain stopped
 *       for lack of ring space), read() until EAGAIN, one packet per read
 *       (in offload mode: a virtio_net_hdr and a super-packet up to 64 KiB),
 *       straight into the Send ring (the fd has packet information on: the
 *       kernel's 4-byte tun_pi lands on the record's Size, replaced by the
 *       length; no pads needed since every read's length is known at once).
 *       Tail is published every 64 packets and at the end of the drain.
 *   TX: when the Receive ring's Tail moves, one write() per record (tun_pi
 *       written over Size), Head released every 64 packets and at the end.
 *   Idle: arm the Receive ring's Alertable (full fence, as the protocol
 *       requires) and poll() the TUN fds and the Receive events together;
 *       no spinning.  With the Send ring full the TUN fd is not polled and
 *       poll() times out after 1 ms to look at the ring again.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "src/atomic.h"
#include "src/ip_header.h"
#include "src/ring_sync.h"
#include "src/session.h"

#define BASE_PUBLISH_EVERY 64u

struct base_port {
	struct wintun_session *s;
	int fd;
	uint32_t slot;        /* record size of the largest packet read */
	bool vnet_hdr;        /* offload mode: records start with a virtio_net_hdr */
	uint32_t rx_tail;     /* Send ring, ours */
	uint32_t tx_head;     /* Receive ring, ours */
	bool rx_ready;        /* poll() said readable, not drained to EAGAIN yet */
	bool rx_blocked, rx_dead, tx_dead;
};

struct wb_base {
	pthread_t th;
	struct wb_thread t;
	atomic_bool stop;
	unsigned n;
	struct base_port p[2];
};

static uint32_t send_space(struct base_port *p)
{
	/* Pairs with the client's store-release of Send.Head. */
	uint32_t head = wt_load_acquire(&p->s->rings.desc.Send.Ring->Head);

	if (!wintun_ring_offset_valid(head, p->s->rings.capacity)) {
		p->rx_dead = true;
		return 0;
	}
	return wintun_ring_free(head, p->rx_tail, p->s->rings.capacity);
}

static void rx_publish(struct base_port *p)
{
	wt_ring_publish(p->s->rings.desc.Send.Ring, p->rx_tail, p->s->rings.desc.Send.TailMoved);
}

/* One read into the slot at rx_tail; 1 packet, 0 drained, -1 error. */
static int rx_one(struct base_port *p)
{
	WINTUN_RING_PACKET *rec = wintun_ring_record(p->s->rings.desc.Send.Ring, p->rx_tail);
	ssize_t n = read(p->fd, rec, sizeof(struct tun_pi) + WINTUN_RING_MAX_PACKET_SIZE);
	struct tun_pi pi;
	uint32_t len;

	if (n < 0) {
		if (errno == EAGAIN)
			p->rx_ready = false; /* until poll() says otherwise */
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	}
	if (n < (ssize_t)sizeof(pi))
		return 1; /* nothing usable, try the next */
	memcpy(&pi, rec, sizeof(pi));
	if (pi.flags & TUN_PKT_STRIP) {
		wt_stat_add(&p->s->stats.rx.drop_truncated, 1);
		return 1;
	}
	len = (uint32_t)n - (uint32_t)sizeof(pi);
	rec->Size = len;
	p->rx_tail = wintun_ring_next(p->rx_tail, len, p->s->rings.capacity);
	wt_stat_add(&p->s->stats.rx.ring_bytes, wintun_ring_record_size(len));
	wt_stat_add(&p->s->stats.rx.packets, 1);
	wt_stat_add(&p->s->stats.rx.bytes, len);
	return 1;
}

/* Drain the TUN queue into the Send ring; true if anything moved. */
static bool rx_drain(struct base_port *p)
{
	uint32_t start = p->rx_tail, since = 0;
	bool more = true;

	if (p->rx_dead || !p->rx_ready)
		return false; /* no read() that poll() did not ask for */
	while (more) {
		if (send_space(p) < p->slot) {
			if (!p->rx_blocked && !p->rx_dead)
				wt_stat_add(&p->s->stats.rx.ring_full_episodes, 1);
			p->rx_blocked = !p->rx_dead;
			break;
		}
		p->rx_blocked = false;
		more = rx_one(p) > 0;
		if (more && ++since == BASE_PUBLISH_EVERY) {
			rx_publish(p);
			since = 0;
		}
	}
	if (p->rx_tail != start)
		rx_publish(p);
	return p->rx_tail != start;
}

static void tx_release(struct base_port *p)
{
	/* Pairs with the client's load-acquire of Receive.Head. */
	wt_store_release(&p->s->rings.desc.Receive.Ring->Head, p->tx_head);
}

static void tx_write(struct base_port *p, WINTUN_RING_PACKET *rec, uint32_t len)
{
	uint32_t hdr = p->vnet_hdr ? WINTUN_VNET_HDR_SIZE : 0;
	struct tun_pi pi = { 0, htons(len >= hdr ? wt_ip_ethertype(rec->Data + hdr, len - hdr) : 0) };

	if (!pi.proto) {
		wt_stat_add(&p->s->stats.tx.drop_non_ip, 1);
		return;
	}
	memcpy(rec, &pi, sizeof(pi));
	if (write(p->fd, rec, sizeof(pi) + len) == (ssize_t)(sizeof(pi) + len)) {
		wt_stat_add(&p->s->stats.tx.packets, 1);
		wt_stat_add(&p->s->stats.tx.bytes, len);
	} else {
		wt_stat_add(&p->s->stats.tx.drop_write_error, 1);
	}
}

/* Write out everything the client published; true if anything moved. */
static bool tx_drain(struct base_port *p)
{
	WINTUN_RING *ring = p->s->rings.desc.Receive.Ring;
	uint32_t cap = p->s->rings.capacity, tail, since = 0, start = p->tx_head;

	if (p->tx_dead)
		return false;
	/* Pairs with the client's store-release of Receive.Tail. */
	tail = wt_load_acquire(&ring->Tail);
	if (tail != p->tx_head && !wintun_ring_offset_valid(tail, cap)) {
		p->tx_dead = true;
		return false;
	}
	while (p->tx_head != tail) {
		WINTUN_RING_PACKET *rec = wintun_ring_record(ring, p->tx_head);
		uint32_t word = rec->Size;

		if (!wintun_ring_record_valid(p->tx_head, tail, cap, word, false)) {
			p->tx_dead = true;
			wt_store_release(&ring->Head, WINTUN_RING_SENTINEL);
			return true;
		}
		tx_write(p, rec, word);
		p->tx_head = wintun_ring_next(p->tx_head, word, cap);
		if (++since == BASE_PUBLISH_EVERY) {
			tx_release(p);
			since = 0;
		}
	}
	if (p->tx_head != start)
		tx_release(p);
	return p->tx_head != start;
}

/* Sleep in poll() until a TUN fd or a Receive event is ready. */
static void base_sleep(struct wb_base *b)
{
	struct pollfd pfd[4];
	struct base_port *port_of[4];
	unsigned n = 0;
	int timeout = 100;

	for (unsigned i = 0; i < b->n; i++) {
		struct base_port *p = &b->p[i];

		if (!p->tx_dead && !wt_ring_arm(p->s->rings.desc.Receive.Ring, p->tx_head))
			goto disarm; /* Tail moved meanwhile */
		if (p->rx_blocked)
			timeout = 1; /* no event tells that the client freed space */
		else if (!p->rx_dead) {
			port_of[n] = p;
			pfd[n++] = (struct pollfd){ .fd = p->fd, .events = POLLIN };
		}
		port_of[n] = NULL;
		pfd[n++] = (struct pollfd){ .fd = p->s->rings.desc.Receive.TailMoved,
					    .events = POLLIN };
	}
	if (poll(pfd, n, timeout) > 0)
		for (unsigned i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (port_of[i])
				port_of[i]->rx_ready = true;
			else
				wt_event_drain(pfd[i].fd);
		}
disarm:
	for (unsigned i = 0; i < b->n; i++)
		wt_ring_disarm(b->p[i].s->rings.desc.Receive.Ring);
}

static void *base_main(void *arg)
{
	struct wb_base *b = arg;

	wb_thread_enter(&b->t);
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		bool work = false;

		for (unsigned i = 0; i < b->n; i++) {
			work |= tx_drain(&b->p[i]);
			work |= rx_drain(&b->p[i]);
		}
		if (!work)
			base_sleep(b);
	}
	return NULL;
}

int wb_base_start(struct wb_base **out, struct wintun_session **s, const int *fds, unsigned n,
		  int cpu, bool vnet_hdr, int *tid)
{
	struct wb_base *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return -ENOMEM;
	b->n = n;
	b->t.name = "wb-base-io";
	b->t.cpu = cpu;
	for (unsigned i = 0; i < n; i++) {
		b->p[i].s = s[i];
		b->p[i].fd = fds[i];
		/* Offload mode: room for the largest super-packet. */
		b->p[i].slot = wintun_ring_record_size(vnet_hdr ? WINTUN_RING_MAX_PACKET_SIZE
							  : WB_MTU);
		b->p[i].vnet_hdr = vnet_hdr;
		b->p[i].rx_ready = true; /* packets may be queued already */
		b->p[i].rx_tail = wt_load_relaxed(&s[i]->rings.desc.Send.Ring->Tail);
		b->p[i].tx_head = wt_load_relaxed(&s[i]->rings.desc.Receive.Ring->Head);
	}
	ret = -pthread_create(&b->th, NULL, base_main, b);
	if (ret) {
		free(b);
		return ret;
	}
	while (!atomic_load(&b->t.tid))
		sched_yield();
	*tid = atomic_load(&b->t.tid);
	*out = b;
	return 0;
}

void wb_base_stop(struct wb_base *b)
{
	atomic_store(&b->stop, true);
	for (unsigned i = 0; i < b->n; i++)
		wt_event_signal(b->p[i].s->rings.desc.Receive.TailMoved);
	pthread_join(b->th, NULL);
	free(b);
}
