/* SPDX-License-Identifier: MIT */
/*
 * The engine's TX half (src/engine_tx.c and src/engine_tx_gro.c, compiled
 * unchanged) over a real session, with no io_uring and no TUN device.  The
 * calls they make into engine_uring.c and engine.c are stubbed in
 * tx_harness.c: each write is checked to lie inside the Receive ring and
 * recorded instead of submitted, and the caller completes it later in any
 * order it likes.  Used by the split/coalesce round-trip unit test and the
 * engine_tx fuzzer.  Build it from the sources (tx_harness_src in
 * tests/meson.build, the engine_tx list in tests/fuzz/run.sh), not against
 * libwintun: its engine_uring.c defines the same functions.
 */
#ifndef WINTUN_TEST_TX_HARNESS_H
#define WINTUN_TEST_TX_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "src/engine_internal.h"
#include "src/session.h"

/* One write the engine submitted: what the kernel would be handed. */
struct txh_write {
	unsigned slot;           /* TX FIFO slot, for wt_tx_complete */
	const struct iovec *iov; /* into the harness: stable until completed */
	unsigned n;
	uint32_t len;            /* bytes in all of iov */
};

struct tx_harness {
	struct wintun_session *session;
	struct wt_engine engine;
	struct wt_port port;
	struct wt_port_stats stats;
	struct iovec tx_iov[WT_TX_INFLIGHT_MAX * WT_GRO_MAX_SEGS]; /* the port's */
	struct iovec one[WT_TX_INFLIGHT_MAX]; /* a plain write's buffer, by slot */
	struct txh_write pending[WT_TX_INFLIGHT_MAX]; /* oldest first */
	unsigned npending;
};

/* A harness over a fresh session of @capacity bytes per ring (not in offload
 * mode: set session->vnet_hdr for a client that splits into it).  The port
 * is set up as by txh_reset_port(h, false, false, 0).  Returns 0 or a
 * negative errno. */
int txh_create(uint32_t capacity, struct tx_harness **out);
void txh_destroy(struct tx_harness *h);

/*
 * The port as the engine sets it up when it adopts the session: the TX walk
 * at the Receive ring's Head, nothing in flight, statistics zeroed.
 * @vnet_hdr: offload mode; @coalesce: merge segments (offload mode only);
 * @offloads: the WINTUN_OFFLOAD_* the device has on, which decide what may
 * be merged.
 */
void txh_reset_port(struct tx_harness *h, bool vnet_hdr, bool coalesce, uint32_t offloads);

/* Complete pending[@i] with @res (bytes written, or a negative errno), as
 * its completion from the kernel would. */
void txh_complete(struct tx_harness *h, unsigned i, int res);

#endif
