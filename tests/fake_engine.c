/* SPDX-License-Identifier: MIT */
#include "fake_engine.h"

#include <poll.h>
#include <sched.h>
#include <string.h>

#include "src/atomic.h"
#include "src/ring_sync.h"
#include "src/session.h"

static void produce_word(struct wintun_session *s, uint32_t word, const void *data, uint32_t len,
			 uint32_t span)
{
	WINTUN_RING *ring = s->rings.desc.Send.Ring;
	uint32_t tail = wt_load_relaxed(&ring->Tail);
	WINTUN_RING_PACKET *rec = wintun_ring_record(ring, tail);

	rec->Size = word;
	if (data)
		memcpy(rec->Data, data, len);
	wt_ring_publish(ring, wintun_ring_wrap(tail + span, s->rings.capacity),
			s->rings.desc.Send.TailMoved);
}

void fake_produce(struct wintun_session *s, const void *data, uint32_t len)
{
	produce_word(s, len, data, len, wintun_ring_record_size(len));
}

void fake_produce_pad(struct wintun_session *s, uint32_t len)
{
	produce_word(s, WINTUN_PACKET_PAD | len, NULL, 0, wintun_ring_record_size(len));
}

void fake_produce_raw(struct wintun_session *s, uint32_t size_word, uint32_t span)
{
	produce_word(s, size_word, NULL, 0, span);
}

/* Space in the Send ring, or 0 if the client aborted it. */
static uint32_t send_space(struct wintun_session *s, uint32_t stail)
{
	uint32_t head = wt_load_acquire(&s->rings.desc.Send.Ring->Head);

	if (head == WINTUN_RING_SENTINEL)
		return 0;
	return wintun_ring_free(head, stail, s->rings.capacity);
}

/* Copy one record from the Receive ring at @rhead into the Send ring at
 * *stail.  Returns false if there is no room yet. */
static bool forward_one(struct fake_engine *fe, uint32_t rhead, uint32_t *stail, uint32_t *rng)
{
	struct wintun_session *s = fe->session;
	uint32_t cap = s->rings.capacity;
	WINTUN_RING_PACKET *in = wintun_ring_record(s->rings.desc.Receive.Ring, rhead);
	uint32_t pad = 0;

	if (fe->pads) {
		*rng = *rng * 1103515245u + 12345u;
		if ((*rng >> 16) % 4 == 0)
			pad = (*rng >> 8) % 200;
	}
	if (send_space(s, *stail) < wintun_ring_record_size(in->Size) +
					    (fe->pads ? wintun_ring_record_size(pad) : 0))
		return false;
	if (fe->pads && pad) {
		wintun_ring_record(s->rings.desc.Send.Ring, *stail)->Size = WINTUN_PACKET_PAD | pad;
		*stail = wintun_ring_next(*stail, pad, cap);
		fe->pads_written++;
	}
	WINTUN_RING_PACKET *out = wintun_ring_record(s->rings.desc.Send.Ring, *stail);
	out->Size = in->Size;
	memcpy(out->Data, in->Data, in->Size);
	*stail = wintun_ring_next(*stail, in->Size, cap);
	return true;
}

static void wait_for_client(struct fake_engine *fe, uint32_t rhead)
{
	struct wintun_session *s = fe->session;
	struct pollfd pfd = { .fd = s->rings.desc.Receive.TailMoved, .events = POLLIN };

	if (!wt_ring_arm(s->rings.desc.Receive.Ring, rhead))
		return;
	fe->sleeps++;
	if (poll(&pfd, 1, FAKE_ENGINE_IDLE_MS) > 0)
		wt_event_drain(pfd.fd);
	else if (wt_load_acquire(&s->rings.desc.Receive.Ring->Tail) != rhead)
		fe->lost_wakeups++; /* armed, yet the client published unseen */
}

static void *fake_engine_main(void *arg)
{
	struct fake_engine *fe = arg;
	struct wintun_session *s = fe->session;
	WINTUN_RING *recv = s->rings.desc.Receive.Ring;
	uint32_t cap = s->rings.capacity, rng = 1;
	uint32_t rhead = wt_load_relaxed(&recv->Head);
	uint32_t stail = wt_load_relaxed(&s->rings.desc.Send.Ring->Tail);

	while (!atomic_load(&fe->stop)) {
		/* Pairs with the client's store-release of Receive.Tail. */
		uint32_t rtail = wt_load_acquire(&recv->Tail);
		uint32_t start = stail;

		if (rtail == rhead) {
			wait_for_client(fe, rhead);
			continue;
		}
		while (rhead != rtail && forward_one(fe, rhead, &stail, &rng)) {
			rhead = wintun_ring_next(rhead, wintun_ring_record(recv, rhead)->Size, cap);
			fe->forwarded++;
		}
		/* Pairs with the client's load-acquire of Receive.Head. */
		wt_store_release(&recv->Head, rhead);
		if (stail != start)
			wt_ring_publish(s->rings.desc.Send.Ring, stail, s->rings.desc.Send.TailMoved);
		else
			sched_yield(); /* Send ring full: let the client drain it */
	}
	return NULL;
}

void fake_engine_start(struct fake_engine *fe, struct wintun_session *s, bool pads)
{
	memset(fe, 0, sizeof(*fe));
	fe->session = s;
	fe->pads = pads;
	atomic_init(&fe->stop, false);
	pthread_create(&fe->thread, NULL, fake_engine_main, fe);
}

void fake_engine_stop(struct fake_engine *fe)
{
	atomic_store(&fe->stop, true);
	/* Ends a sleep now rather than after FAKE_ENGINE_IDLE_MS. */
	wt_event_signal(fe->session->rings.desc.Receive.TailMoved);
	pthread_join(fe->thread, NULL);
}
