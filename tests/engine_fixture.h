/* SPDX-License-Identifier: MIT */
/* Adapters, sessions and UDP traffic for the engine regression tests built
 * on the public API (inside the test's private network namespace only). */
#ifndef WINTUN_TEST_ENGINE_FIXTURE_H
#define WINTUN_TEST_ENGINE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "wintun.h"

/* Enter a private namespace (once per test process) and create adapter
 * @name with address @addr/24, up or left down as created.  No IPv6, so no
 * unsolicited packets reach the rings. */
WINTUN_ADAPTER_HANDLE ef_adapter(const char *name, const char *addr, bool up);

/* Copy @pkt into the Receive ring, waiting (10 s guard) for space. */
void ef_inject(WINTUN_SESSION_HANDLE s, const uint8_t *pkt, unsigned len);

/* Inject a UDP packet @src:5555 -> @dst:@port carrying (stream, seq). */
void ef_inject_udp(WINTUN_SESSION_HANDLE s, const char *src, const char *dst, uint16_t port,
		   uint32_t stream, uint32_t seq);

/* A UDP socket bound to @addr:@port. */
int ef_udp_bound(const char *addr, uint16_t port);
/* Send a UDP datagram of @len bytes carrying (stream, seq) to @dst:@port;
 * a full queue or a down link drops it silently. */
void ef_send_udp(int fd, const char *dst, uint16_t port, uint32_t len, uint32_t stream,
		 uint32_t seq);
/* Wait up to @ms for a datagram of @stream on @fd; its seq in *seq. */
bool ef_recv_udp(int fd, uint32_t stream, int ms, uint32_t *seq);

/* Receive (and release) packets from the Send ring until a UDP packet to
 * @port of @stream arrives or @ms pass.  Its seq in *seq. */
bool ef_ring_recv_udp(WINTUN_SESSION_HANDLE s, uint16_t port, uint32_t stream, int ms,
		      uint32_t *seq);

/* Monotonic milliseconds. */
int64_t ef_now_ms(void);

/* The kernel's count of voluntary context switches of thread @tid. */
uint64_t ef_voluntary_switches(int tid);

#endif
