/* SPDX-License-Identifier: MIT */
/* Per-session counters: written by the engine thread only, read from any
 * thread (relaxed atomics: each counter is exact, a snapshot across counters
 * is not). */
#ifndef WINTUN_STATS_H
#define WINTUN_STATS_H

#include <stdatomic.h>
#include <stdint.h>

struct wt_dir_stats {
	_Atomic uint64_t packets, bytes;
	_Atomic uint64_t drop_ring_full;  /* RX: packets the kernel dropped while the ring was full */
	_Atomic uint64_t drop_truncated;  /* RX: packet larger than the slot */
	_Atomic uint64_t drop_non_ip;     /* TX: not IPv4/IPv6 */
	_Atomic uint64_t drop_bogus;      /* TX: ring stopped on a bogus record */
	_Atomic uint64_t drop_write_error;/* TX: the kernel refused the write */
	_Atomic uint64_t batches;         /* batches of reads / writes submitted */
	_Atomic uint64_t wakeups;         /* times this direction woke the engine */
	_Atomic uint64_t ring_full_episodes; /* RX: times reading stopped for lack of ring space */
	_Atomic uint64_t ring_bytes;      /* RX: Send ring bytes published (records and pads) */
	_Atomic uint64_t deferrals;       /* RX: next read put off, packets coming fast */
};

struct wt_port_stats {
	struct wt_dir_stats rx, tx;
};

/* Single writer: a relaxed load and store is enough and cheaper than an
 * atomic read-modify-write. */
static inline void wt_stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t wt_stat_get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

#endif
