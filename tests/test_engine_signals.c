/* SPDX-License-Identifier: MIT */
/* Issue #11, defect 8: the engine thread must not take the caller's signal
 * mask, or process-directed signals run the application's handlers on it. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine_fixture.h"

/* The SigBlk mask of thread @tid, as /proc prints it (hex). */
static void sigblk(int tid, char *out, size_t size)
{
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	out[0] = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %63s", out) == 1)
			break;
	fclose(f);
	cr_assert_lt(strlen(out), size);
}

Test(engine_signals, engine_thread_blocks_every_signal, .timeout = 60)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };
	WINTUN_ADAPTER_HANDLE a = ef_adapter("wtsig0", "10.12.0.1", true);
	sigset_t all, none, after;
	WINTUN_SESSION_HANDLE s;
	char mask[64], want[64];

	/* What "every signal" reads: SIGKILL, SIGSTOP and the C library's
	 * internal signals never enter a mask. */
	sigfillset(&all);
	cr_assert_eq(pthread_sigmask(SIG_SETMASK, &all, NULL), 0);
	sigblk(gettid(), want, sizeof(want));
	/* The caller blocks nothing, as most programs' main threads. */
	sigemptyset(&none);
	cr_assert_eq(pthread_sigmask(SIG_SETMASK, &none, NULL), 0);
	s = WintunStartSession(a, 0x20000);
	cr_assert_not_null(s, "start: %s", strerror(errno));
	cr_assert(WintunGetSessionStatistics(s, &st));
	sigblk(st.EngineThreadId, mask, sizeof(mask));
	cr_expect_str_eq(mask, want, "engine thread %d blocks %s, not %s", st.EngineThreadId,
			 mask, want);
	/* The caller's mask is its own again. */
	cr_assert_eq(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
	cr_expect_not(sigismember(&after, SIGINT));
	cr_expect_not(sigismember(&after, SIGTERM));
	WintunEndSession(s);
	WintunCloseAdapter(a);
}
