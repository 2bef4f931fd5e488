/* SPDX-License-Identifier: MIT */
#include "client_fixture.h"

#include <criterion/criterion.h>

#include "helpers.h"

struct wintun_session *sess;

void client_fixture_setup(void)
{
	wt_test_log_capture();
	cr_assert_eq(wt_session_create(CAP, -1, false, &sess), 0);
}

void client_fixture_teardown(void)
{
	wt_session_destroy(sess);
}

WINTUN_RING *send_ring(void)
{
	return sess->rings.desc.Send.Ring;
}

WINTUN_RING *recv_ring(void)
{
	return sess->rings.desc.Receive.Ring;
}
