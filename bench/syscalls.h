/* SPDX-License-Identifier: MIT */
/*
 * Exact system-call counts of one thread, from the syscall tracepoints
 * through perf_event_open (software events: no PMU needed).  Opt-in
 * (--count-syscalls): an enabled syscall tracepoint sends every system call
 * on the machine through the slower traced path, which adds to the cycles
 * being measured.
 */
#ifndef WB_SYSCALLS_H
#define WB_SYSCALLS_H

#include <stdint.h>

enum wb_sys_event { WB_SYS_ALL, WB_SYS_IO_URING_ENTER };

/* A counter of @ev for thread @tid, or a negative errno (no tracefs, no
 * permission). */
int wb_sys_open(int tid, enum wb_sys_event ev);
/* Current count (0 for a negative fd). */
uint64_t wb_sys_read(int fd);
void wb_sys_close(int fd);

#endif
