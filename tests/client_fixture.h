/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the suites that drive a session's client side step by step
 * from the engine side (test_client.c, test_batch.c): one session with no
 * engine, its rings at hand, the library's log captured.
 */
#ifndef WINTUN_TEST_CLIENT_FIXTURE_H
#define WINTUN_TEST_CLIENT_FIXTURE_H

#include "src/session.h"

/* Bytes per ring. */
#define CAP 0x20000u

/* The test's session, between client_fixture_setup and _teardown. */
extern struct wintun_session *sess;

/* Criterion .init / .fini. */
void client_fixture_setup(void);
void client_fixture_teardown(void);

/* The engine produces into the Send ring and consumes the Receive ring. */
WINTUN_RING *send_ring(void);
WINTUN_RING *recv_ring(void);

#endif
