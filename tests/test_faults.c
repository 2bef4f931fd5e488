/* SPDX-License-Identifier: MIT */
/*
 * Fault injection: io_uring refused by the kernel (a seccomp filter makes
 * io_uring_setup fail, as kernel.io_uring_disabled or an old kernel would),
 * and ring memory that cannot be mapped.  Each gives a clean error with a log
 * line, leaves the adapter usable, and leaks nothing (the suite runs under
 * ASan in CI).  Buffer registration refused and the device vanishing under
 * load are in test_engine.c.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "helpers.h"
#include "wintun.h"

/* Make io_uring_setup fail with @err for this process from now on. */
static void deny_io_uring(int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	cr_assert_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0, "seccomp: %s",
		     strerror(errno));
}

static WINTUN_ADAPTER_HANDLE make_adapter(void)
{
	WINTUN_ADAPTER_HANDLE a;

	wt_test_enter_netns();
	wt_test_log_capture();
	a = WintunCreateAdapter("wtf0", "Faults", NULL);
	cr_assert_not_null(a);
	return a;
}

static void io_uring_refused(int err)
{
	WINTUN_ADAPTER_HANDLE a = make_adapter();

	deny_io_uring(err);
	errno = 0;
	cr_expect_null(WintunStartSession(a, 0x20000));
	cr_expect_eq(errno, err);
	cr_expect(wt_test_log_contains("cannot set up io_uring"));
	/* Nothing half-started: the adapter is free and still works. */
	cr_expect(WintunSetAdapterUp(a, true));
	errno = 0;
	cr_expect_null(WintunStartSession(a, 0x20000));
	cr_expect_eq(errno, err, "not EBUSY: the failed start released the adapter");
	WintunCloseAdapter(a);
}

Test(faults, io_uring_disabled, .timeout = 60)
{
	io_uring_refused(EPERM);
}

Test(faults, io_uring_missing, .timeout = 60)
{
	io_uring_refused(ENOSYS);
}

/* The virtual size this process has now, in bytes. */
static size_t vm_size(void)
{
	char line[128];
	size_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

Test(faults, ring_memory_cannot_be_mapped, .timeout = 60)
{
	WINTUN_ADAPTER_HANDLE a = make_adapter();
	struct rlimit as;

	/* Room for a thread or two, not for two 64 MiB rings. */
	as.rlim_cur = as.rlim_max = vm_size() + (48u << 20);
	cr_assert_eq(setrlimit(RLIMIT_AS, &as), 0);
	errno = 0;
	cr_expect_null(WintunStartSession(a, WINTUN_MAX_RING_CAPACITY));
	cr_expect_eq(errno, ENOMEM);
	cr_expect(wt_test_log_contains("cannot map"));
	/* A smaller session fits and works. */
	WINTUN_SESSION_HANDLE s = WintunStartSession(a, 0x20000);
	cr_expect_not_null(s, "%s", strerror(errno));
	if (s)
		WintunEndSession(s);
	WintunCloseAdapter(a);
}
