/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

/* Swapped atomically so WintunSetLogger may race with logging threads. */
static _Atomic(WINTUN_LOGGER_CALLBACK) wt_logger;

WINTUN_API void WintunSetLogger(WINTUN_LOGGER_CALLBACK NewLogger)
{
	atomic_store_explicit(&wt_logger, NewLogger, memory_order_release);
}

bool wt_log_enabled(void)
{
	return atomic_load_explicit(&wt_logger, memory_order_relaxed) != NULL;
}

static uint64_t wall_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void wt_log(WINTUN_LOGGER_LEVEL level, const char *fmt, ...)
{
	WINTUN_LOGGER_CALLBACK logger = atomic_load_explicit(&wt_logger, memory_order_acquire);
	int saved = errno; /* logging must never change the errno we report */
	char msg[512];
	va_list ap;

	if (!logger)
		return;
	va_start(ap, fmt);
	/* clang-tidy 14's analyzer does not see va_start here (a known false
	 * positive of clang-analyzer-valist.Uninitialized). */
	vsnprintf(msg, sizeof(msg), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
	va_end(ap);
	logger(level, wall_clock_ns(), msg);
	errno = saved;
}

void *wt_fail_ptr(int neg_errno)
{
	errno = -neg_errno;
	return NULL;
}

bool wt_fail_bool(int neg_errno)
{
	errno = -neg_errno;
	return false;
}

int wt_fail_int(int neg_errno)
{
	errno = -neg_errno;
	return -1;
}
