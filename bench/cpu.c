/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "cpu.h"

#include <linux/perf_event.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static bool use_hw;
static double tsc_hz;
static char method[128];

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double measure_tsc_hz(void)
{
	struct timespec nap = { 0, 50000000 };
	uint64_t t0 = mono_ns(), c0 = __rdtsc(), t1, c1;

	nanosleep(&nap, NULL);
	t1 = mono_ns();
	c1 = __rdtsc();
	return (double)(c1 - c0) * 1e9 / (double)(t1 - t0);
}

static int perf_open_cycles(int tid)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_CPU_CYCLES;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

void wb_cpu_init(bool allow_hw)
{
	int fd = allow_hw ? perf_open_cycles((int)gettid()) : -1;

	use_hw = fd >= 0;
	if (fd >= 0)
		close(fd);
	tsc_hz = measure_tsc_hz();
	if (use_hw)
		snprintf(method, sizeof(method),
			 "hardware cycles (perf_event_open PERF_COUNT_HW_CPU_CYCLES, per thread)");
	else
		snprintf(method, sizeof(method),
			 "no PMU: thread CPU time x TSC frequency (%.3f GHz, measured)",
			 tsc_hz / 1e9);
}

bool wb_cpu_hw(void)
{
	return use_hw;
}

double wb_cpu_tsc_hz(void)
{
	return tsc_hz;
}

const char *wb_cpu_method(void)
{
	return method;
}

int wb_cpu_open(struct wb_cpu_counter *c, int tid)
{
	c->tid = tid;
	c->perf_fd = use_hw ? perf_open_cycles(tid) : -1;
	return use_hw && c->perf_fd < 0 ? -1 : 0;
}

void wb_cpu_close(struct wb_cpu_counter *c)
{
	if (c->perf_fd >= 0)
		close(c->perf_fd);
	c->perf_fd = -1;
}

/* The scheduler clock of any thread of this process, by kernel id (the
 * clockid encoding glibc's pthread_getcpuclockid uses). */
static uint64_t thread_cpu_ns(int tid)
{
	clockid_t clk = (clockid_t)((~(unsigned)tid << 3) | 6u);
	struct timespec ts;

	if (clock_gettime(clk, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Fields 14 and 15 of /proc/self/task/<tid>/stat, after the ")" of comm. */
static void thread_ticks(int tid, uint64_t *ut, uint64_t *st)
{
	char path[64], buf[1024], *p;
	unsigned long long u = 0, s = 0;
	FILE *f;
	size_t n;

	*ut = *st = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &u, &s) == 2) {
		*ut = u;
		*st = s;
	}
}

void wb_cpu_sample(const struct wb_cpu_counter *c, struct wb_cpu_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->cpu_ns = thread_cpu_ns(c->tid);
	thread_ticks(c->tid, &s->utime, &s->stime);
	if (c->perf_fd >= 0) {
		uint64_t v = 0;

		if (read(c->perf_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			s->cycles = v;
	} else {
		s->cycles = (uint64_t)((double)s->cpu_ns * tsc_hz / 1e9);
	}
}

double wb_cpu_cycles(const struct wb_cpu_sample *a, const struct wb_cpu_sample *b)
{
	return (double)(b->cycles - a->cycles);
}

double wb_cpu_user_share(const struct wb_cpu_sample *a, const struct wb_cpu_sample *b)
{
	uint64_t u = b->utime - a->utime, s = b->stime - a->stime;

	return u + s ? (double)u / (double)(u + s) : NAN;
}
