/* SPDX-License-Identifier: MIT */
/* Without CAP_NET_ADMIN, creating an adapter fails with EPERM, says why, and
 * leaves nothing behind. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "wintun.h"

/* Drop CAP_NET_ADMIN from the effective, permitted and inheritable sets with
 * the raw syscall (no libcap). */
static bool drop_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		uint32_t keep = i == CAP_TO_INDEX(CAP_NET_ADMIN) ? ~CAP_TO_MASK(CAP_NET_ADMIN) : ~0u;

		data[i].effective &= keep;
		data[i].permitted &= keep;
		data[i].inheritable &= keep;
	}
	return syscall(SYS_capset, &hdr, data) == 0;
}

/* Child exit codes. */
enum { OK, NO_DROP, CREATED, WRONG_ERRNO, NO_LOG, LEFT_DEVICE };

static int child(void)
{
	WINTUN_ADAPTER_HANDLE a;

	wt_test_log_capture();
	if (!drop_net_admin())
		return NO_DROP;
	errno = 0;
	a = WintunCreateAdapter("wtp0", "Test", NULL);
	if (a)
		return CREATED;
	if (errno != EPERM)
		return WRONG_ERRNO;
	if (!wt_test_log_contains("CAP_NET_ADMIN"))
		return NO_LOG;
	return if_nametoindex("wtp0") ? LEFT_DEVICE : OK;
}

/* In a private namespace, run @fn in a child process (the capability drop
 * must not touch the test process) and return its exit code. */
static int run_in_child(int (*fn)(void))
{
	int status;
	pid_t pid;

	wt_test_enter_netns();
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(fn());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child died");
	return WEXITSTATUS(status);
}

Test(adapter_perm, create_without_cap_net_admin_is_eperm, .timeout = 60)
{
	int status = run_in_child(child);

	cr_expect_eq(status, OK,
		     "child result %d (1 no drop, 2 created, 3 errno, 4 no log, 5 device left)",
		     status);
	cr_expect_eq(if_nametoindex("wtp0"), 0, "no device may be left behind");
}

/* An adapter created with the capability, then used without it: reads still
 * work (the namespace lookup falls back to the caller's), changes get EPERM
 * with the reason, and the device still goes with the handle. */
static int child_after_drop(void)
{
	WINTUN_ADAPTER_HANDLE a;

	wt_test_log_capture();
	a = WintunCreateAdapter("wtp1", "Test", NULL);
	if (!a)
		return CREATED; /* could not even create */
	if (!drop_net_admin())
		return NO_DROP;
	if (WintunGetAdapterMtu(a) != 1500)
		return WRONG_ERRNO;
	errno = 0;
	if (WintunSetAdapterMtu(a, 1400) || errno != EPERM)
		return WRONG_ERRNO;
	if (!wt_test_log_contains("cannot set MTU 1400 on wtp1") ||
	    !wt_test_log_contains("CAP_NET_ADMIN"))
		return NO_LOG;
	WintunCloseAdapter(a); /* RTM_DELLINK refused, but the fd was the last */
	return if_nametoindex("wtp1") ? LEFT_DEVICE : OK;
}

Test(adapter_perm, config_without_cap_net_admin_is_eperm, .timeout = 60)
{
	int status = run_in_child(child_after_drop);

	cr_expect_eq(status, OK,
		     "child result %d (1 no drop, 2 no create, 3 errno, 4 no log, 5 device left)",
		     status);
	cr_expect_eq(if_nametoindex("wtp1"), 0);
}
