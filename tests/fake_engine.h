/* SPDX-License-Identifier: MIT */
/*
 * A thread that plays the engine for client-side tests: it consumes the
 * Receive ring and produces every packet back into the Send ring (a loopback),
 * optionally with pad records in between, using the library's handshake
 * helpers for both halves.
 */
#ifndef WINTUN_TEST_FAKE_ENGINE_H
#define WINTUN_TEST_FAKE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct wintun_session;

/*
 * How long the engine sleeps when the Receive ring is empty.  Long on
 * purpose: a lost wake-up must not be rescued by a timeout within the test's
 * run, but show as a stall that the test detects.
 */
#define FAKE_ENGINE_IDLE_MS 10000

struct fake_engine {
	struct wintun_session *session;
	bool pads;              /* insert pseudo-random pad records */
	pthread_t thread;
	atomic_bool stop;
	uint64_t forwarded;
	uint64_t pads_written;
	uint64_t sleeps;
	uint64_t lost_wakeups;  /* sleeps that timed out with the ring not empty */
};

void fake_engine_start(struct fake_engine *fe, struct wintun_session *s, bool pads);
void fake_engine_stop(struct fake_engine *fe);

/* Engine-side single steps, for unit tests. */
void fake_produce(struct wintun_session *s, const void *data, uint32_t len);
void fake_produce_pad(struct wintun_session *s, uint32_t len);
void fake_produce_raw(struct wintun_session *s, uint32_t size_word, uint32_t span);

#endif
