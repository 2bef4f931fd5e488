/* SPDX-License-Identifier: MIT */
/* One session per device (issue #11, defect 5): a second session through
 * another handle or from another process is EBUSY, and the claim goes with
 * WintunEndSession or with the holder's death. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "wintun.h"

#define CAP 0x20000

static void setup(void)
{
	wt_test_enter_netns();
	wt_test_log_capture();
}

TestSuite(adapter_claim, .init = setup, .timeout = 60);

static WINTUN_ADAPTER_HANDLE create(void)
{
	WINTUN_ADAPTER_HANDLE a = WintunCreateAdapter("wtc0", "Test", NULL);

	cr_assert_not_null(a, "create: %s", strerror(errno));
	return a;
}

static void expect_busy(WINTUN_SESSION_HANDLE s)
{
	cr_expect_null(s, "a second session on the device must be refused");
	cr_expect_eq(errno, EBUSY, "errno %d (%s)", errno, strerror(errno));
	cr_expect(wt_test_log_contains("adapter wtc0: it already has a session, in this or"));
}

Test(adapter_claim, second_handle_in_same_process_is_ebusy)
{
	WINTUN_ADAPTER_HANDLE a = create(), b = WintunOpenAdapter("wtc0");
	WINTUN_SESSION_HANDLE s, t;

	cr_assert_not_null(b);
	s = WintunStartSession(a, CAP);
	cr_assert_not_null(s, "%s", strerror(errno));
	errno = 0;
	t = WintunStartSession(b, CAP);
	expect_busy(t);
	if (t)
		WintunEndSession(t);
	WintunEndSession(s);
	WintunCloseAdapter(b);
	WintunCloseAdapter(a);
}

Test(adapter_claim, end_session_frees_the_device_for_any_handle)
{
	WINTUN_ADAPTER_HANDLE a = create(), b = WintunOpenAdapter("wtc0");
	WINTUN_SESSION_HANDLE s;

	cr_assert_not_null(b);
	for (int round = 0; round < 3; round++) {
		s = WintunStartSession(a, CAP);
		cr_assert_not_null(s, "round %d, a: %s", round, strerror(errno));
		cr_expect_null(WintunStartSession(b, CAP));
		WintunEndSession(s);
		/* b's refused start must not have kept b's own slot either. */
		s = WintunStartSession(b, CAP);
		cr_assert_not_null(s, "round %d, b after a ended: %s", round, strerror(errno));
		cr_expect_null(WintunStartSession(a, CAP));
		WintunEndSession(s);
	}
	WintunCloseAdapter(b);
	WintunCloseAdapter(a);
}

static void free_rings(WINTUN_REGISTER_RINGS *r)
{
	close(r->Send.TailMoved);
	close(r->Receive.TailMoved);
	free(r->Send.Ring);
	free(r->Receive.Ring);
}

static void make_rings(WINTUN_REGISTER_RINGS *r)
{
	size_t size = wintun_ring_size(CAP), alloc = (size + 63) & ~(size_t)63;

	memset(r, 0, sizeof(*r));
	r->Send.Ring = aligned_alloc(64, alloc);
	r->Receive.Ring = aligned_alloc(64, alloc);
	cr_assert(r->Send.Ring && r->Receive.Ring);
	memset(r->Send.Ring, 0, size);
	memset(r->Receive.Ring, 0, size);
	r->Send.RingSize = r->Receive.RingSize = (uint32_t)size;
	r->Send.TailMoved = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->Receive.TailMoved = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

Test(adapter_claim, register_rings_follows_the_same_rule)
{
	WINTUN_ADAPTER_HANDLE a = create(), b = WintunOpenAdapter("wtc0");
	WINTUN_REGISTER_RINGS r, r2;
	WINTUN_SESSION_HANDLE s, t;

	cr_assert_not_null(b);
	make_rings(&r);
	make_rings(&r2);
	s = WintunRegisterRings(a, &r);
	cr_assert_not_null(s, "%s", strerror(errno));
	errno = 0;
	t = WintunRegisterRings(b, &r2);
	expect_busy(t);
	if (t)
		WintunEndSession(t);
	errno = 0;
	t = WintunStartSession(b, CAP);
	expect_busy(t);
	if (t)
		WintunEndSession(t);
	WintunEndSession(s);
	s = WintunRegisterRings(b, &r2);
	cr_expect_not_null(s, "after the end: %s", strerror(errno));
	if (s)
		WintunEndSession(s);
	WintunCloseAdapter(b);
	WintunCloseAdapter(a);
	free_rings(&r);
	free_rings(&r2);
}

/*
 * A child that opens the adapter, starts a session, says so on @ready and
 * then waits for a byte on @go.  With @end it ends the session and closes the
 * handle before exiting; without, it just _exit()s, as a crash would.
 * Exit status 0, or 1 if it could not start.
 */
static pid_t spawn_holder(int ready, int go, bool end)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		WINTUN_ADAPTER_HANDLE c = WintunOpenAdapter("wtc0");
		WINTUN_SESSION_HANDLE s = c ? WintunStartSession(c, CAP) : NULL;
		char byte = s ? 'y' : 'n';

		if (write(ready, &byte, 1) != 1 || !s)
			_exit(1);
		if (read(go, &byte, 1) < 0)
			_exit(1);
		if (end) {
			WintunEndSession(s);
			WintunCloseAdapter(c);
		}
		_exit(0);
	}
	return pid;
}

/* Start a holder and wait until it holds the session. */
static pid_t hold_in_child(int *go_wr, bool end)
{
	int ready[2], go[2];
	char byte = 0;
	pid_t pid;

	cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
	pid = spawn_holder(ready[1], go[0], end);
	close(ready[1]);
	close(go[0]);
	cr_assert_eq(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	cr_assert_eq(byte, 'y', "the child could not start its session");
	*go_wr = go[1];
	return pid;
}

static void release_child(pid_t pid, int go_wr)
{
	int status;

	cr_assert_eq(write(go_wr, "x", 1), 1);
	close(go_wr);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
}

Test(adapter_claim, session_in_another_process_is_ebusy_until_it_ends)
{
	WINTUN_ADAPTER_HANDLE a = create();
	WINTUN_SESSION_HANDLE s;
	int go;
	pid_t pid = hold_in_child(&go, true);

	errno = 0;
	s = WintunStartSession(a, CAP);
	expect_busy(s);
	if (s)
		WintunEndSession(s);
	release_child(pid, go);
	s = WintunStartSession(a, CAP);
	cr_expect_not_null(s, "after the child ended its session: %s", strerror(errno));
	if (s)
		WintunEndSession(s);
	WintunCloseAdapter(a);
}

Test(adapter_claim, holder_that_dies_releases_the_claim)
{
	WINTUN_ADAPTER_HANDLE a = create();
	WINTUN_SESSION_HANDLE s;
	int go;
	pid_t pid = hold_in_child(&go, false);

	errno = 0;
	s = WintunStartSession(a, CAP);
	expect_busy(s);
	if (s)
		WintunEndSession(s);
	release_child(pid, go); /* _exit() with the session still running */
	s = WintunStartSession(a, CAP);
	cr_expect_not_null(s, "after the holder died: %s", strerror(errno));
	if (s)
		WintunEndSession(s);
	WintunCloseAdapter(a);
}
