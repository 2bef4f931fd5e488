/* SPDX-License-Identifier: MIT */
/*
 * A session: a pair of rings with their events (what the engine serves) plus
 * the client-side state of wintun.dll (what WintunReceivePacket and friends
 * use).  The engine drives the other half of the same object.
 */
#ifndef WINTUN_SESSION_H
#define WINTUN_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "memory.h"
#include "stats.h"
#include "wintun/ring.h"

/* Where each side starts: the indexes as registration read and checked them,
 * once.  Nobody reloads them from the (hostile) ring memory to start. */
struct wt_ring_start {
	uint32_t send_head, send_tail, recv_head, recv_tail;
};

/* The rings as the engine sees them; owned by the session or, for a raw ring
 * registration, by the client. */
struct wt_ring_pair {
	WINTUN_REGISTER_RINGS desc;
	uint32_t capacity;
	struct wt_ring_start start;
	struct wt_mem send_mem, recv_mem; /* empty when the client owns them */
	bool own_events;                  /* close the eventfds with the pair */
	/* The Send ring's space wake-up, library-private (a raw-ring client
	 * stores Head itself and knows nothing of it): the engine sets
	 * space_armed before it sleeps on space_fd for lack of Send ring
	 * space, the client's release signals it (Alertable handshake, see
	 * wt_rx_prepare_sleep).  space_fd -1: none, the engine retries on a
	 * timer. */
	int space_fd;
	atomic_int space_armed;
};

/* WintunWaitForPacket's longest spin unless the session says otherwise
 * (WINTUN_SESSION_SPIN): about what a sleep and a wake-up cost, so spinning
 * costs no more CPU than sleeping would. */
#define WT_WAIT_SPIN_DEFAULT_NS 5000u

/* Client side of rx: the client consumes the Send ring. */
struct wt_rx_consumer {
	pthread_mutex_t lock;
	uint32_t head;         /* next record to hand out; SENTINEL once stopped */
	uint32_t head_release; /* first record not released yet */
	uint32_t outstanding;  /* records (packets and pads) handed out, not released */
	int stop_errno;        /* why it stopped: ESHUTDOWN or EBADMSG */
	unsigned waiters;      /* threads inside WintunWaitForPacket */
	/* WintunWaitForPacket's adaptive spin before it sleeps (session_client.c) */
	unsigned spin_max_ns;  /* the longest spin; 0: never spin */
	atomic_uint spin_ns;   /* how long the next wait watches Tail first */
	atomic_uint spin_probe; /* waits counted for the probes */
	_Atomic uint64_t spins_paid, spins_unpaid;
	pthread_cond_t waiters_left; /* signalled when waiters drops to 0 */
};

/* Client side of tx: the client produces into the Receive ring. */
struct wt_tx_producer {
	pthread_mutex_t lock;
	uint32_t tail;         /* next allocation */
	uint32_t tail_release; /* first record not sent yet */
	uint32_t outstanding;  /* records allocated, not published */
};

struct wt_engine;
struct wt_port;

struct wintun_session {
	struct wt_ring_pair rings;
	struct wt_rx_consumer rx;   /* consumes the Send ring (glossary: engine_internal.h) */
	struct wt_tx_producer tx;   /* produces into the Receive ring */
	struct wt_engine *engine; /* the thread that serves this session */
	struct wt_port *port;     /* this session's state inside that engine */
	struct wt_port_stats stats;
	int tun_fd;               /* owned; -1 for a session without a device */
	uint32_t offloads;        /* offload mode: WINTUN_OFFLOAD_* that are on */
	bool vnet_hdr;            /* offload mode: records start with a virtio_net_hdr */
	struct wintun_adapter *adapter;
};

/*
 * Allocate a ring pair of @capacity (validated, logged) with fresh eventfds.
 * @numa_node < 0: no placement.  Returns 0 or a negative errno.
 */
int wt_ring_pair_alloc(struct wt_ring_pair *pair, uint32_t capacity, int numa_node, bool hugepages);

/*
 * Adopt a raw-ring client's registration: check a snapshot of it (capacity,
 * sizes, pointers, indexes, events), keep the checked indexes in
 * pair->start and refer to the client's memory without owning it.
 * Returns 0 or -EINVAL with a log line that says what was wrong.
 */
int wt_ring_pair_adopt(struct wt_ring_pair *pair, const WINTUN_REGISTER_RINGS *rings);

void wt_ring_pair_free(struct wt_ring_pair *pair);

/*
 * A session over a fresh ring pair, not attached to any engine yet (tests
 * attach a thread of their own that plays the engine).  Returns 0 or a
 * negative errno.
 */
int wt_session_create(uint32_t capacity, int numa_node, bool hugepages,
		      struct wintun_session **out);
void wt_session_destroy(struct wintun_session *session);

/* Initialise the client-side state from the checked start indexes. */
void wt_session_init_client(struct wintun_session *s);

/* An explicit spin (WINTUN_SESSION_SPIN's microseconds, >= 0) is the
 * session's choice between latency and CPU: WintunWaitForPacket follows it
 * as the engine does.  < 0 keeps the default. */
static inline void wt_session_set_wait_spin(struct wintun_session *s, int spin_us)
{
	if (spin_us >= 0)
		s->rx.spin_max_ns = (unsigned)spin_us * 1000u;
}

/* Block until no thread is inside WintunWaitForPacket any more (the rings
 * must be closed already, so that they all return). */
void wt_session_wait_for_waiters(struct wintun_session *s);

/* Engine side, when a session ends: mark both rings closed and wake the
 * client (Send.Tail = Receive.Head = SENTINEL). */
void wt_ring_pair_close(struct wt_ring_pair *pair);

#endif
