/* SPDX-License-Identifier: MIT */
/*
 * Per-thread CPU accounting: hardware cycles through perf_event_open where
 * the machine has a PMU, otherwise the thread's CPU time (scheduler clock)
 * converted to cycles at the TSC frequency.  User/system split from
 * /proc/self/task/<tid>/stat either way.
 */
#ifndef WB_CPU_H
#define WB_CPU_H

#include <stdbool.h>
#include <stdint.h>

/* Decide the method once, before any measurement: probes the PMU and times
 * the TSC against CLOCK_MONOTONIC for 50 ms. */
void wb_cpu_init(bool allow_hw);
bool wb_cpu_hw(void);
double wb_cpu_tsc_hz(void);
/* The method in words, for the output. */
const char *wb_cpu_method(void);

struct wb_cpu_counter {
	int tid;
	int perf_fd; /* -1 without a PMU */
};

struct wb_cpu_sample {
	uint64_t cycles;     /* hardware cycles, or CPU ns x TSC Hz */
	uint64_t cpu_ns;     /* scheduler CPU time */
	uint64_t utime, stime; /* clock ticks */
};

int wb_cpu_open(struct wb_cpu_counter *c, int tid);
void wb_cpu_close(struct wb_cpu_counter *c);
void wb_cpu_sample(const struct wb_cpu_counter *c, struct wb_cpu_sample *s);

/* From two samples: cycles and the user share (0..1, NaN without ticks). */
double wb_cpu_cycles(const struct wb_cpu_sample *a, const struct wb_cpu_sample *b);
double wb_cpu_user_share(const struct wb_cpu_sample *a, const struct wb_cpu_sample *b);

#endif
