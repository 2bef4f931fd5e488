/* SPDX-License-Identifier: MIT */
/*
 * Shared by the engine's files: the engine object and io_uring helpers.
 *
 * Glossary -- one name per thing, in the engine and the client side alike:
 *
 *   Send ring      the shared ring the engine produces into and the client
 *                  consumes (packets the OS sent out of the adapter).  Wintun's
 *                  name, from the adapter's side; it is what
 *                  WintunReceivePacket reads.
 *   Receive ring   the shared ring the client produces into and the engine
 *                  consumes (packets the client injects); what
 *                  WintunAllocateSendPacket fills.
 *   rx             the flow through the Send ring: TUN read -> Send ring ->
 *                  WintunReceivePacket.  engine_rx*.c, port->rx_*,
 *                  session->rx (the client's consumer state), Rx statistics.
 *   tx             the flow through the Receive ring: WintunAllocateSendPacket
 *                  -> Receive ring -> TUN write.  engine_tx*.c, port->tx_*,
 *                  session->tx (the client's producer state), Tx statistics.
 *   port           one session as an engine serves it (port.h).
 *   record         Size + packet in a ring; a pad record covers a gap (rx).
 *   slot           the fixed-size piece of Send ring free space one TUN read
 *                  lands in (rx).
 *
 * Ring fields keep the ABI's names (desc.Send, desc.Receive, Head, Tail,
 * Alertable); everything else says rx or tx.
 */
#ifndef WINTUN_ENGINE_INTERNAL_H
#define WINTUN_ENGINE_INTERNAL_H

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "engine.h"
#include "port.h"

#define WT_ENGINE_MAX_PORTS 16u
#define WT_ENGINE_SQ_ENTRIES 1024u
/* Completions one engine can have in flight at once, per port: a full RX
 * batch (or all provided buffers of the multishot variant), a full TX FIFO,
 * the TUN, release and Receive-ring polls, and up to three cancels with
 * their targets; plus the control poll.  The CQ holds them all (rounded up
 * to a power of two): the pump queues a whole turn's reads and writes,
 * flushing the SQ as it fills, before anything is reaped. */
#define WT_PORT_MAX_CQES (WT_RX_BATCH_MAX + WT_TX_INFLIGHT_MAX + 3u + 6u)
#define WT_ENGINE_CQ_ENTRIES 16384u
_Static_assert(WT_ENGINE_MAX_PORTS * WT_PORT_MAX_CQES + 1u <= WT_ENGINE_CQ_ENTRIES,
	       "the CQ must hold every completion a full engine can have in flight");
_Static_assert(WT_MS_ENTRIES <= WT_RX_BATCH_MAX, "multishot RX counted as a full batch");
#define WT_MTU_RECHECK_NS 50000000ull /* follow MTU changes within 50 ms */
/* How often the engine, busy or idle, checks that its devices still exist,
 * and the longest an idle engine sleeps.  Deleting a TUN device wakes its
 * readers before it detaches their files, so a poll completion can run in
 * between, find the device still attached and re-arm; no wake-up follows
 * (and a port whose Send ring is full has no read or poll in flight at
 * all).  The check bounds that race. */
#define WT_ALIVE_RECHECK_NS 250000000ull
/* That check asks the queue fd only when the device's name no longer gives
 * its index (see struct wt_netdev): the fd's ioctls wait for RTNL, and a
 * link flapping elsewhere would stall the engine before every read after a
 * quiet spell.  The fd itself is asked on the way to sleep, at this period,
 * and by a busy engine at WT_NETDEV_TRUST_NS. */
#define WT_DEVICES_ASK_NS 1000000000ull
/* A raw-ring client frees Send ring space by storing Head itself, and no
 * event says so: with that ring full, the engine looks again at this period
 * (25 wake-ups a second).  The library's own sessions wake it instead (see
 * wt_rx_prepare_sleep). */
#define WT_RX_BLOCKED_RETRY_NS 40000000ull

/* What a completion is for: low bits of user_data. */
enum wt_op {
	WT_OP_RX_READ = 1,
	WT_OP_RX_POLL,  /* index WT_RX_POLL_TUN or WT_RX_POLL_SPACE */
	WT_OP_TX_WRITE,
	WT_OP_TX_WAKE,  /* read of the Receive ring's eventfd */
	WT_OP_CTL,      /* read of the engine's control eventfd */
	WT_OP_CANCEL,
	WT_OP_RX_MULTISHOT,
};

/* The two polls of RX, told apart by the user_data index. */
#define WT_RX_POLL_TUN 0u   /* the TUN fd is readable */
#define WT_RX_POLL_SPACE 1u /* the client released Send ring space */

struct wt_cmd;

struct wt_engine {
	struct io_uring ring;
	bool fixed_files, fixed_buffers;
	bool has_read_multishot; /* IORING_OP_READ_MULTISHOT (kernel >= 6.7) */
	bool defer_taskrun;       /* completions need io_uring_enter(GETEVENTS) */
	bool taskrun_flag;        /* IORING_SQ_TASKRUN tells when they are pending */
	uint64_t features;        /* WINTUN_FEATURE_* this engine runs with */
	/* (Plain flags stay together, away from the atomics below: the
	 * compiler may load neighbouring bools as one word.) */
	int cpu, spin_us;
	char name[16];
	pthread_t thread;
	int tid;                  /* the engine thread's kernel id */

	int ctl_fd; /* eventfd: commands are pending */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct wt_cmd *cmds;      /* under lock */
	atomic_bool cmd_pending;  /* cheap check while spinning */
	unsigned refs;            /* under lock */
	int init_result;          /* under lock; 1 while starting */
	atomic_bool stop;

	struct wt_port *ports[WT_ENGINE_MAX_PORTS];
	unsigned nports;
	_Atomic uint64_t enter_calls;
	uint64_t alive_checked_ns;
	uint64_t devices_asked_ns; /* when check_devices last asked every queue fd */
	bool ctl_armed;           /* the control eventfd's poll is in flight */
	_Atomic uint64_t cq_overflows; /* times completions spilled past the CQ */
	unsigned inline_sqes;     /* queued reads/writes that complete at submission */
	_Atomic uint64_t signal_sqes; /* client wake-ups queued as eventfd writes */
	/* Adaptive idle spin: how often, lately, work came back within the
	 * spin window (WT_SPIN_SCORE_ONE: always), and what idle periods did. */
	unsigned spin_score;
	unsigned spin_probe_left;     /* idle periods until the next probe */
	unsigned spin_probe_every;    /* probe interval: 8, doubling to 64 */
	bool spin_probing;            /* the spin in progress is a probe */
	_Atomic uint64_t idle_spins;  /* idle periods that spun first */
	_Atomic uint64_t idle_sleeps; /* idle periods that ended asleep */
};

/* user_data: the port pointer (8-aligned) | op, index in the top 16 bits. */
static inline uint64_t wt_udata(struct wt_port *p, enum wt_op op, unsigned idx)
{
	return (uint64_t)(uintptr_t)p | (uint64_t)op | ((uint64_t)idx << 48);
}

static inline struct wt_port *wt_udata_port(uint64_t u)
{
	return (struct wt_port *)(uintptr_t)(u & 0x0000FFFFFFFFFFF8ull);
}

static inline enum wt_op wt_udata_op(uint64_t u)
{
	return (enum wt_op)(u & 7u);
}

static inline unsigned wt_udata_idx(uint64_t u)
{
	return (unsigned)(u >> 48);
}

/* engine_uring.c */
int wt_uring_setup(struct wt_engine *e);
void wt_uring_teardown(struct wt_engine *e);
/* Room for one more SQE, submitting what is queued if the SQ is full; false
 * if the kernel takes nothing now (the caller tries again next turn). */
bool wt_uring_sq_room(struct wt_engine *e);
/* An SQE, or NULL when there is no room (see wt_uring_sq_room). */
struct io_uring_sqe *wt_uring_sqe(struct wt_engine *e);
/* Completions spilled past the CQ (the kernel keeps them): move them into
 * the CQ.  True if there were any, so the caller reaps again. */
bool wt_uring_cq_flush_overflow(struct wt_engine *e);
/* Completion work may be waiting in the kernel (or we cannot tell). */
bool wt_uring_work_pending(struct wt_engine *e);
/* Run it: one counted io_uring_enter(GETEVENTS). */
void wt_uring_get_events(struct wt_engine *e);
int wt_uring_submit(struct wt_engine *e, unsigned wait_nr, uint64_t timeout_ns);
void wt_uring_register_port(struct wt_engine *e, struct wt_port *p, unsigned slot);
void wt_uring_unregister_port(struct wt_engine *e, struct wt_port *p);
/* The wt_uring_prep_* return false, queuing nothing, when the SQ has no room. */
bool wt_uring_prep_read(struct wt_engine *e, struct wt_port *p, void *buf, unsigned len,
			bool send_ring, uint64_t udata);
bool wt_uring_prep_write(struct wt_engine *e, struct wt_port *p, void *buf, unsigned len,
			 uint64_t udata);
bool wt_uring_prep_writev(struct wt_engine *e, struct wt_port *p, const struct iovec *iov,
			  unsigned n, uint64_t udata);
bool wt_uring_prep_poll(struct wt_engine *e, struct wt_port *p, uint64_t udata);
/* Signal @event_fd for the port's client: an eventfd write queued as an SQE
 * when the port allows it (p->signal_sqe), else write(2) at once. */
void wt_uring_signal(struct wt_engine *e, struct wt_port *p, int event_fd);

/* engine_rx.c */
bool wt_rx_pump(struct wt_engine *e, struct wt_port *p);
void wt_rx_complete(struct wt_port *p, unsigned idx, int res);
void wt_rx_poll_complete(struct wt_port *p, int res);
bool wt_rx_prepare_sleep(struct wt_engine *e, struct wt_port *p, uint64_t *timeout_ns);
void wt_rx_space_complete(struct wt_port *p, int res);
void wt_rx_disarm_space(struct wt_port *p);
void wt_rx_init(struct wt_port *p, unsigned batch_max);
int wt_rx_probe_mtu(struct wt_port *p);
int64_t wt_rx_free_space(struct wt_port *p);
uint32_t wt_rx_read_len(const struct wt_port *p);
bool wt_rx_settle(struct wt_port *p, uint32_t off, uint32_t size, int res);
/* Publish rx_tail as Send.Tail and wake the client if it armed. */
void wt_rx_publish(struct wt_port *p);

/* engine_rx_compact.c */
bool wt_rx_place(struct wt_port *p, uint32_t *end, uint32_t off, int res);
void wt_rx_pad_gap(struct wt_port *p, uint32_t off, uint32_t len);

/* engine_rx_multishot.c */
bool wt_rx_multishot_supported(struct io_uring *ring);
int wt_rx_multishot_setup(struct wt_engine *e, struct wt_port *p, unsigned bgid);
void wt_rx_multishot_teardown(struct wt_engine *e, struct wt_port *p);
bool wt_rx_multishot_pump(struct wt_engine *e, struct wt_port *p);
void wt_rx_multishot_complete(struct wt_port *p, int res, unsigned cqe_flags);
void wt_rx_flush(struct wt_port *p);

/* engine_tx.c */
bool wt_tx_pump(struct wt_engine *e, struct wt_port *p);
void wt_tx_complete(struct wt_port *p, unsigned idx, int res);
bool wt_tx_prepare_sleep(struct wt_engine *e, struct wt_port *p);
void wt_tx_wake_complete(struct wt_port *p, int res);

/* engine_tx_gro.c */
unsigned wt_tx_coalesce(struct wt_engine *e, struct wt_port *p, uint32_t tail, uint32_t word,
			unsigned slot);

/* engine.c */
/* Tests only, not API: the longest an idle engine sleeps (default
 * WT_ALIVE_RECHECK_NS).  Stretched to tens of seconds, a lost wake-up
 * becomes a stall a test can see, not a 250 ms hiccup the timer hides. */
extern _Atomic uint64_t wt_engine_idle_sleep_ns;
/* Test-only: every drained batch that held a packet puts the next read
 * off, however slowly packets come (engine_rx.c). */
extern atomic_bool wt_rx_defer_always;
/* Test-only: IORING_FEAT_* bits the engine pretends the kernel lacks. */
extern _Atomic unsigned wt_uring_hide_feats;
int wt_engine_run_cmd_add(struct wt_engine *e, struct wt_port *p);
void wt_engine_run_cmd_remove(struct wt_engine *e, struct wt_port *p);
void wt_port_kill(struct wt_port *p, const char *why, int err);
/* The I/O result @res says the TUN device is gone (its queue was detached:
 * deleted), not that one packet was refused. */
static inline bool wt_io_device_gone(int res)
{
	return res == -EBADFD;
}

#endif
