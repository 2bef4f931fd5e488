/* SPDX-License-Identifier: MIT */
#include "ring_sync.h"

#include <errno.h>
#include <unistd.h>

#include "atomic.h"
#include "log.h"

bool wt_ring_claim_wake(WINTUN_RING *ring)
{
	/* Full fence: orders the caller's store-release of Tail before the load
	 * of Alertable (store->load).  Pairs with the fence in wt_ring_arm. */
	wt_full_fence();
	if (!wt_load_i32_relaxed(&ring->Alertable))
		return false;
	/* Clear it so a burst costs one signal; a consumer that re-arms after
	 * this will re-check Tail after its own fence and see our publish. */
	return wt_exchange_i32_relaxed(&ring->Alertable, 0) != 0;
}

bool wt_ring_wake(WINTUN_RING *ring, int event_fd)
{
	if (!wt_ring_claim_wake(ring))
		return false;
	wt_event_signal(event_fd);
	return true;
}

bool wt_ring_publish(WINTUN_RING *ring, uint32_t tail, int event_fd)
{
	/* Pairs with the consumer's load-acquire of Tail: the records written
	 * before this store are visible once the new Tail is. */
	wt_store_release(&ring->Tail, tail);
	return wt_ring_wake(ring, event_fd);
}

bool wt_ring_arm(WINTUN_RING *ring, uint32_t head)
{
	wt_store_i32_relaxed(&ring->Alertable, 1);
	/* Full fence: orders the store of Alertable before the re-load of Tail
	 * (store->load).  Pairs with the fence in wt_ring_wake. */
	wt_full_fence();
	/* Acquire: if Tail moved, the records before it are visible. */
	if (wt_load_acquire(&ring->Tail) != head) {
		wt_ring_disarm(ring);
		return false;
	}
	return true;
}

void wt_ring_disarm(WINTUN_RING *ring)
{
	if (wt_load_i32_relaxed(&ring->Alertable))
		wt_store_i32_relaxed(&ring->Alertable, 0);
}

void wt_event_signal(int event_fd)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, so it is readable already. */
	if (write(event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		wt_err("cannot signal event fd %d: errno %d", event_fd, errno);
}

uint64_t wt_event_drain(int event_fd)
{
	uint64_t n = 0;

	if (read(event_fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}
