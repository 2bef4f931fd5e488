/* SPDX-License-Identifier: MIT */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "atomic.h"
#include "log.h"
#include "ring_sync.h"

static int check_capacity(uint32_t capacity)
{
	if (wintun_ring_capacity_valid(capacity))
		return 0;
	if (capacity & (capacity - 1))
		wt_err("ring capacity %u is not a power of two", capacity);
	else
		wt_err("ring capacity %u is out of range (%u..%u)", capacity,
		       WINTUN_RING_MIN_CAPACITY, WINTUN_RING_MAX_CAPACITY);
	return -EINVAL;
}

static int new_event(int *fd)
{
	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*fd < 0) {
		int err = errno;

		wt_err("cannot create an eventfd: errno %d", err);
		return -err;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int wt_ring_pair_alloc(struct wt_ring_pair *pair, uint32_t capacity, int numa_node, bool hugepages)
{
	size_t size = wintun_ring_size(capacity);
	int ret;

	*pair = (struct wt_ring_pair){ .capacity = capacity, .own_events = true, .space_fd = -1 };
	pair->desc.Send.TailMoved = pair->desc.Receive.TailMoved = -1;
	ret = check_capacity(capacity);
	if (ret)
		return ret;
	ret = wt_mem_alloc(&pair->send_mem, size, numa_node, hugepages);
	if (ret)
		goto fail;
	ret = wt_mem_alloc(&pair->recv_mem, size, numa_node, hugepages);
	if (ret)
		goto fail;
	ret = new_event(&pair->desc.Send.TailMoved);
	if (ret)
		goto fail;
	ret = new_event(&pair->desc.Receive.TailMoved);
	if (ret)
		goto fail;
	ret = new_event(&pair->space_fd);
	if (ret)
		goto fail;
	pair->desc.Send.Ring = pair->send_mem.addr;
	pair->desc.Send.RingSize = (uint32_t)size;
	pair->desc.Receive.Ring = pair->recv_mem.addr;
	pair->desc.Receive.RingSize = (uint32_t)size;
	return 0;
fail:
	wt_ring_pair_free(pair);
	return ret;
}

static int check_event(int fd, const char *which)
{
	if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
		wt_err("%s event fd %d is not an open descriptor", which, fd);
		return -EINVAL;
	}
	return 0;
}

/* Checks @d (a snapshot, not the caller's struct); the ring's indexes are
 * read once each, and only the values checked go to *head and *tail. */
static int check_ring(const WINTUN_RING_DESCRIPTOR *d, const char *which, uint32_t *capacity,
		      uint32_t *head_out, uint32_t *tail_out)
{
	uint32_t overhead = (uint32_t)sizeof(WINTUN_RING) + WINTUN_RING_TRAILING_BYTES;
	uint32_t head, tail;

	if (!d->Ring) {
		wt_err("%s ring pointer is NULL", which);
		return -EINVAL;
	}
	if (d->RingSize <= overhead || !wintun_ring_capacity_valid(d->RingSize - overhead)) {
		wt_err("%s ring size %u is not 12 + capacity + 0x10000 for a valid capacity", which,
		       d->RingSize);
		return -EINVAL;
	}
	*capacity = d->RingSize - overhead;
	/* Acquire: pairs with the client's store-release of its indexes, so
	 * the records it put there before registering are visible. */
	head = wt_load_acquire(&d->Ring->Head);
	tail = wt_load_acquire(&d->Ring->Tail);
	if (!wintun_ring_offset_valid(head, *capacity) || !wintun_ring_offset_valid(tail, *capacity)) {
		wt_err("%s ring indexes head %u tail %u are not aligned offsets below %u", which, head,
		       tail, *capacity);
		return -EINVAL;
	}
	*head_out = head;
	*tail_out = tail;
	return check_event(d->TailMoved, which);
}

int wt_ring_pair_adopt(struct wt_ring_pair *pair, const WINTUN_REGISTER_RINGS *rings)
{
	WINTUN_REGISTER_RINGS desc;
	struct wt_ring_start start;
	uint32_t send_cap, recv_cap;
	int ret;

	*pair = (struct wt_ring_pair){ .own_events = false, .space_fd = -1 };
	if (!rings) {
		wt_err("ring registration is NULL");
		return -EINVAL;
	}
	/* Check and keep one copy: the caller may change its struct meanwhile. */
	desc = *rings;
	ret = check_ring(&desc.Send, "send", &send_cap, &start.send_head, &start.send_tail);
	if (ret)
		return ret;
	ret = check_ring(&desc.Receive, "receive", &recv_cap, &start.recv_head, &start.recv_tail);
	if (ret)
		return ret;
	if (send_cap != recv_cap) {
		wt_err("send and receive rings differ in capacity (%u vs %u)", send_cap, recv_cap);
		return -EINVAL;
	}
	if ((uintptr_t)desc.Send.Ring < (uintptr_t)desc.Receive.Ring + desc.Receive.RingSize &&
	    (uintptr_t)desc.Receive.Ring < (uintptr_t)desc.Send.Ring + desc.Send.RingSize) {
		wt_err("send and receive rings overlap");
		return -EINVAL;
	}
	if (((uintptr_t)desc.Send.Ring | (uintptr_t)desc.Receive.Ring) & 3u) {
		wt_err("ring memory must be 4-byte aligned");
		return -EINVAL;
	}
	pair->desc = desc;
	pair->capacity = send_cap;
	pair->start = start;
	return 0;
}

void wt_ring_pair_free(struct wt_ring_pair *pair)
{
	wt_mem_free(&pair->send_mem);
	wt_mem_free(&pair->recv_mem);
	if (pair->own_events) {
		close_fd(&pair->desc.Send.TailMoved);
		close_fd(&pair->desc.Receive.TailMoved);
	}
	close_fd(&pair->space_fd);
	pair->desc.Send.Ring = pair->desc.Receive.Ring = NULL;
}

void wt_ring_pair_close(struct wt_ring_pair *pair)
{
	/* Allocators see Head == SENTINEL together with Send.Tail == SENTINEL
	 * and report ESHUTDOWN rather than a corrupt ring. */
	wt_store_release(&pair->desc.Send.Ring->Tail, WINTUN_RING_SENTINEL);
	wt_store_release(&pair->desc.Receive.Ring->Head, WINTUN_RING_SENTINEL);
	/* Always signal: a client may be blocked in poll without having armed
	 * (it may have waited on the event directly). */
	wt_full_fence();
	wt_event_signal(pair->desc.Send.TailMoved);
}

void wt_session_init_client(struct wintun_session *s)
{
	pthread_mutex_init(&s->rx.lock, NULL);
	pthread_mutex_init(&s->tx.lock, NULL);
	pthread_cond_init(&s->rx.waiters_left, NULL);
	/* A raw registration may start with indexes other than 0: the values
	 * it checked, never a fresh (unchecked) load of the ring. */
	s->rx.head = s->rx.head_release = s->rings.start.send_head;
	s->tx.tail = s->tx.tail_release = s->rings.start.recv_tail;
	s->tun_fd = -1;
	s->rx.spin_max_ns = WT_WAIT_SPIN_DEFAULT_NS;
}

int wt_session_create(uint32_t capacity, int numa_node, bool hugepages,
		      struct wintun_session **out)
{
	struct wintun_session *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = wt_ring_pair_alloc(&s->rings, capacity, numa_node, hugepages);
	if (ret) {
		free(s);
		return ret;
	}
	wt_session_init_client(s);
	*out = s;
	return 0;
}

void wt_session_destroy(struct wintun_session *s)
{
	if (!s)
		return;
	wt_ring_pair_free(&s->rings);
	pthread_mutex_destroy(&s->rx.lock);
	pthread_mutex_destroy(&s->tx.lock);
	pthread_cond_destroy(&s->rx.waiters_left);
	free(s);
}
