/* SPDX-License-Identifier: MIT */
/* Starting and ending sessions on a TUN queue fd (the public session API and
 * the tests build on this). */
#ifndef WINTUN_SESSION_LIFETIME_H
#define WINTUN_SESSION_LIFETIME_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

struct wt_start_opts {
	uint32_t capacity;
	int cpu;                       /* -1: engine picks */
	int numa_node;                 /* -1: the engine CPU's node */
	unsigned batch;                /* 0: default */
	int spin_us;                   /* < 0: default */
	bool hugepages;
	bool rx_multishot;              /* multishot-read RX variant */
	uint32_t offloads;              /* offload mode: offloads that are on */
	bool offload;                   /* offload mode (fd has IFF_VNET_HDR) */
	bool coalesce;                  /* offload mode: GRO on TX */
	struct wintun_session *share;  /* join this session's engine */
	bool extra_queue;              /* may join the adapter's running sessions */
	const char *name;              /* interface name, for the thread */
};

#define WT_SPIN_US_DEFAULT 10

/*
 * Start a session serving @tun_fd (non-blocking, packet information on).
 * With @raw, the rings are the client's (adopted by the caller into
 * session->rings beforehand) and @o->capacity is ignored.  On success the
 * session owns @tun_fd.  Returns 0 or a negative errno (logged).
 */
int wt_session_start(int tun_fd, const struct wt_start_opts *o, struct wintun_session **out);
int wt_session_start_raw(int tun_fd, const WINTUN_REGISTER_RINGS *rings,
			 const struct wt_start_opts *o, struct wintun_session **out);

/* Stop the engine's service, close the rings (sentinels), free everything
 * (closes the TUN fd). */
void wt_session_end(struct wintun_session *s);

#endif
