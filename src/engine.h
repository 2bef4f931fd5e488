/* SPDX-License-Identifier: MIT */
/*
 * The engine: one thread with one io_uring that moves packets between TUN
 * queues and ring pairs (ports).  Several ports may share an engine.
 */
#ifndef WINTUN_ENGINE_H
#define WINTUN_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

struct wt_engine;
struct wt_port;
struct wt_ring_pair;
struct wt_port_stats;

struct wt_engine_opts {
	int cpu;          /* CPU to pin to, or -1: pick one from the allowed set */
	int spin_us;      /* idle spin before sleeping, microseconds */
	const char *name; /* thread name suffix (the interface name) */
};

/* Start an engine thread.  Returns 0 or a negative errno (logged). */
int wt_engine_create(const struct wt_engine_opts *opts, struct wt_engine **out);

/* Reference counting: the thread stops and is joined at the last put. */
void wt_engine_get(struct wt_engine *e);
void wt_engine_put(struct wt_engine *e);

int wt_engine_cpu(const struct wt_engine *e);
/* Kernel thread id of the engine thread (for per-thread CPU accounting). */
int wt_engine_tid(const struct wt_engine *e);
uint64_t wt_engine_enter_calls(struct wt_engine *e);
/* WINTUN_FEATURE_* a port runs with (fixed once the port is served). */
uint64_t wt_engine_port_features(const struct wt_port *p);

struct wt_port_opts {
	unsigned batch_max; /* most reads per RX batch (0: default) */
	bool rx_multishot;  /* the multishot-read RX variant, where the kernel has it */
	bool vnet_hdr;      /* offload mode: records start with a virtio_net_hdr */
	bool coalesce;      /* offload mode: merge TCP segments (GRO) on TX */
	uint32_t offloads;  /* offload mode: WINTUN_OFFLOAD_* that are on */
};

/*
 * Create a port for @tun_fd (non-blocking, packet information on) and
 * @rings, and hand it to the engine thread; waits until the engine serves it.
 * @po: per-port options.  Returns 0 or a negative
 * errno (logged).
 */
int wt_engine_add_port(struct wt_engine *e, int tun_fd, struct wt_ring_pair *rings,
		       struct wt_port_stats *stats, const struct wt_port_opts *po,
		       struct wt_port **out);

/*
 * Stop serving @port: cancel its I/O, store the close sentinels, wake the
 * client, and free the port (not the TUN fd nor the rings).  Waits for the
 * engine thread.
 */
void wt_engine_remove_port(struct wt_engine *e, struct wt_port *port);


#endif
