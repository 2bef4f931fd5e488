/* SPDX-License-Identifier: MIT */
/* The monotonic clock the engine, the client calls and the adapter share. */
#ifndef WINTUN_CLOCK_H
#define WINTUN_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t wt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
