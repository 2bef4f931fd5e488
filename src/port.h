/* SPDX-License-Identifier: MIT */
/*
 * A port: one session as the engine serves it -- a TUN queue fd and a ring
 * pair, with the RX slot state (TUN -> Send ring) and the TX walk state
 * (Receive ring -> TUN).  Touched by the engine thread only, except the
 * statistics.
 */
#ifndef WINTUN_PORT_H
#define WINTUN_PORT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "session.h"
#include "stats.h"

#define WT_RX_BATCH_MAX 256u
#define WT_TX_INFLIGHT_MAX 256u
#define WT_GRO_MAX_SEGS 32u /* segments one coalesced write may carry */
#define WT_MS_ENTRIES 256u /* provided buffers of the multishot RX variant */

enum wt_slot_state { WT_SLOT_FREE, WT_SLOT_INFLIGHT, WT_SLOT_DONE };

struct wt_rx_slot {
	uint32_t off;   /* record offset in the Send ring */
	int32_t res;    /* read result */
	uint8_t state;
};

struct wt_ms_slot {
	uint32_t off, size;
	bool done;
};

struct wt_tx_entry {
	uint32_t off;   /* record offset in the Receive ring */
	uint32_t next;  /* offset of the record after it */
	uint32_t len;   /* packet length (coalesced: IP bytes of all segments) */
	uint32_t want;  /* coalesced: bytes the write must take; 0: 4 + len */
	uint16_t segs;  /* coalesced: segments merged */
	bool done;
};

struct wt_engine;
struct io_uring_buf_ring;
struct iovec;
struct wt_cmd;
struct wt_netdev;

struct wt_port {
	struct wt_engine *engine;
	struct wt_ring_pair *rings;
	struct wt_port_stats *stats;
	char ifname[IFNAMSIZ];
	int tun_fd;
	int file_index;     /* registered file slot, or -1: use tun_fd */
	int buf_index;      /* first of two registered buffers (Send, Receive), or -1 */
	struct wt_netdev *netdev; /* the device seen from its namespace: MTU, tx_dropped */
	bool vnet_hdr;      /* offload mode: a virtio_net_hdr leads each record */
	bool coalesce;      /* offload mode: merge TCP segments into super-packets */
	uint32_t offloads;  /* offload mode: WINTUN_OFFLOAD_* on (what may be merged) */
	struct iovec *tx_iov; /* coalesce: WT_GRO_MAX_SEGS iovecs per FIFO slot */
	uint64_t features;  /* WINTUN_FEATURE_* it runs with; set before it is served */
	bool signal_sqe;    /* the client's event is non-blocking: signal it by SQE */
	bool dead;          /* device gone or I/O failed: no more I/O */
	bool closing;       /* being removed: cancel, drain, close */
	bool cancel_retry;  /* closing: a cancel found no SQ room, try again */
	unsigned inflight;  /* SQEs of this port not completed yet */
	struct wt_cmd *remove_cmd; /* set while being removed */

	/* RX: TUN -> Send ring */
	uint32_t mtu, slot_size;
	uint32_t rx_tail;   /* published Send.Tail */
	uint32_t rx_next;   /* end of the reserved slots */
	unsigned batch, batch_max;
	unsigned rx_count, rx_pending; /* slots in the current batch, still in flight */
	struct wt_rx_slot rx_slots[WT_RX_BATCH_MAX];
	bool rx_ready;      /* the fd may have packets: drain it */
	bool rx_poll_armed;
	uint64_t rx_defer_until; /* drained after a full batch: read again then */
	uint64_t rx_drained_ns;  /* when a batch last found the device empty */
	bool rx_fast;       /* the packet after that drain came within WT_RX_DEFER_NS */
	bool rx_stopped;    /* the client aborted the Send ring */
	bool rx_blocked;    /* no room in the Send ring: wait for a release */
	bool rx_space_armed; /* a poll on the release wake-up is in flight */
	bool rx_full_base_ok;  /* rx_full_base is known */
	bool rx_full_count_due; /* an episode ended: its drops are not counted yet */
	uint64_t rx_full_base; /* device tx_dropped when last counted (engine_rx_full.c) */
	uint64_t rx_full_checked_ns;
	uint64_t mtu_checked_ns;
	bool rx_multishot;  /* asked for the multishot variant */
	bool nowait_reads;  /* io_uring reads with RWF_NOWAIT; else read(2) (< 6.4) */
	bool rx_dirty;      /* rx_tail moved, not published yet */
	struct io_uring_buf_ring *ms_br; /* set: multishot variant in use */
	uint16_t ms_bgid;
	bool ms_armed, ms_cancelling;
	unsigned ms_first, ms_count; /* provided slots, oldest first */
	struct wt_ms_slot ms_slots[WT_MS_ENTRIES];

	/* TX: Receive ring -> TUN */
	uint32_t tx_head;   /* published Receive.Head */
	uint32_t tx_walk;   /* next record to look at */
	unsigned tx_first, tx_count; /* FIFO of records in flight or dropped */
	struct wt_tx_entry tx_fifo[WT_TX_INFLIGHT_MAX];
	bool tx_stopped;    /* bogus record: Head = SENTINEL */
	bool tx_wake_armed; /* a read on Receive.TailMoved is in flight */
};

#endif
