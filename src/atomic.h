/* SPDX-License-Identifier: MIT */
/*
 * The only memory-ordering primitives of the project, on C11 atomics so that
 * ThreadSanitizer sees them and no architecture needs hand-written barriers.
 * Every call site names the operation it pairs with.
 */
#ifndef WINTUN_ATOMIC_H
#define WINTUN_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

/* The ring header fields are plain integers in the ABI; these casts view them
 * as atomics (same size and representation for uint32_t/int32_t on Linux). */
#define WT_ATOMIC_U32(p) ((_Atomic uint32_t *)(void *)(p))
#define WT_ATOMIC_I32(p) ((_Atomic int32_t *)(void *)(p))

static inline uint32_t wt_load_acquire(const uint32_t *p)
{
	return atomic_load_explicit(WT_ATOMIC_U32((uint32_t *)p), memory_order_acquire);
}

static inline void wt_store_release(uint32_t *p, uint32_t v)
{
	atomic_store_explicit(WT_ATOMIC_U32(p), v, memory_order_release);
}

/* Relaxed accessors: for a value only this side writes, or a hint that a
 * later fence or acquire makes safe. */
static inline uint32_t wt_load_relaxed(const uint32_t *p)
{
	return atomic_load_explicit(WT_ATOMIC_U32((uint32_t *)p), memory_order_relaxed);
}

static inline void wt_store_relaxed(uint32_t *p, uint32_t v)
{
	atomic_store_explicit(WT_ATOMIC_U32(p), v, memory_order_relaxed);
}

static inline int32_t wt_load_i32_relaxed(const int32_t *p)
{
	return atomic_load_explicit(WT_ATOMIC_I32((int32_t *)p), memory_order_relaxed);
}

static inline void wt_store_i32_relaxed(int32_t *p, int32_t v)
{
	atomic_store_explicit(WT_ATOMIC_I32(p), v, memory_order_relaxed);
}

static inline int32_t wt_exchange_i32_relaxed(int32_t *p, int32_t v)
{
	return atomic_exchange_explicit(WT_ATOMIC_I32(p), v, memory_order_relaxed);
}

/* Full fence (store-load ordering): the Alertable handshake needs it on both
 * sides, see the protocol comment in wintun/ring.h. */
static inline void wt_full_fence(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

#endif
