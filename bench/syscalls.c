/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "syscalls.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const event_path[] = {
	[WB_SYS_ALL] = "raw_syscalls/sys_enter",
	[WB_SYS_IO_URING_ENTER] = "syscalls/sys_enter_io_uring_enter",
};

/* The tracepoint's id from tracefs, wherever it is mounted. */
static long tracepoint_id(enum wb_sys_event ev)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[256];
	long id = -1;

	for (unsigned i = 0; i < 2 && id < 0; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/events/%s/id", roots[i], event_path[ev]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%ld", &id) != 1)
			id = -1;
		fclose(f);
	}
	return id;
}

int wb_sys_open(int tid, enum wb_sys_event ev)
{
	struct perf_event_attr a;
	long id = tracepoint_id(ev);
	int fd;

	if (id < 0)
		return -ENOENT;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_TRACEPOINT;
	a.config = (uint64_t)id;
	fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

uint64_t wb_sys_read(int fd)
{
	uint64_t v = 0;

	if (fd >= 0 && read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		v = 0;
	return v;
}

void wb_sys_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
