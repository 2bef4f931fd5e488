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

struct fake_engine {
	struct wintun_session *session;
	bool pads;              /* insert pseudo-random pad records */
	pthread_t thread;
	atomic_bool stop;
	uint64_t forwarded;
	uint64_t pads_written;
	uint64_t sleeps;
};

void fake_engine_start(struct fake_engine *fe, struct wintun_session *s, bool pads);
void fake_engine_stop(struct fake_engine *fe);

/* Engine-side single steps, for unit tests. */
void fake_produce(struct wintun_session *s, const void *data, uint32_t len);
void fake_produce_pad(struct wintun_session *s, uint32_t len);
void fake_produce_raw(struct wintun_session *s, uint32_t size_word, uint32_t span);

#endif
