/* SPDX-License-Identifier: MIT */
/*
 * The engine thread: its lifetime, its commands (add and remove ports), and
 * its loop: pump every port, submit and reap in one io_uring_enter, spin a
 * little when idle, then arm the wake-ups and sleep in io_uring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"
#include "engine_rx_full.h"
#include "kernel_features.h"
#include "log.h"
#include "port_netdev.h"
#include "ring_sync.h"

enum wt_cmd_op { WT_CMD_ADD, WT_CMD_REMOVE };

struct wt_cmd {
	enum wt_cmd_op op;
	struct wt_port *port;
	int result;
	bool done;
	struct wt_cmd *next;
};

void wt_port_kill(struct wt_port *p, const char *why, int err)
{
	if (p->dead)
		return;
	wt_err("%s: %s (%s); the session ends", p->ifname, why, strerror(err));
	p->dead = true;
	/* The client wakes up and sees ESHUTDOWN. */
	wt_ring_pair_close(p->rings);
}

/* ---- commands ---------------------------------------------------------- */

static void cmd_finish(struct wt_engine *e, struct wt_cmd *c, int result)
{
	pthread_mutex_lock(&e->lock);
	c->result = result;
	c->done = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

static int cmd_run(struct wt_engine *e, enum wt_cmd_op op, struct wt_port *p)
{
	struct wt_cmd c = { .op = op, .port = p };

	pthread_mutex_lock(&e->lock);
	c.next = e->cmds;
	/* The command lives on this stack until the engine marks it done; we
	 * wait for that below, so the engine never sees it dangle. */
	// cppcheck-suppress autoVariables
	e->cmds = &c;
	atomic_store(&e->cmd_pending, true);
	wt_event_signal(e->ctl_fd);
	while (!c.done)
		pthread_cond_wait(&e->cond, &e->lock);
	pthread_mutex_unlock(&e->lock);
	return c.result;
}

int wt_engine_run_cmd_add(struct wt_engine *e, struct wt_port *p)
{
	return cmd_run(e, WT_CMD_ADD, p);
}

void wt_engine_run_cmd_remove(struct wt_engine *e, struct wt_port *p)
{
	cmd_run(e, WT_CMD_REMOVE, p);
}

static int port_slot(struct wt_engine *e, struct wt_port *p)
{
	for (unsigned i = 0; i < WT_ENGINE_MAX_PORTS; i++)
		if (e->ports[i] == p)
			return (int)i;
	return -1;
}

/* The engine's features, less what this port could not get. */
static uint64_t port_features(struct wt_engine *e, struct wt_port *p)
{
	uint64_t f = e->features & ~(WINTUN_FEATURE_FIXED_FILES | WINTUN_FEATURE_FIXED_BUFFERS);

	if (p->file_index >= 0)
		f |= WINTUN_FEATURE_FIXED_FILES;
	if (p->buf_index >= 0)
		f |= WINTUN_FEATURE_FIXED_BUFFERS;
	if (p->ms_br) /* keeps its provided buffers' slots */
		f = (f | WINTUN_FEATURE_RX_MULTISHOT) & ~WINTUN_FEATURE_RX_COMPACT;
	return f;
}

/* A blocking fd (a raw-ring client's own event) would send an io_uring write
 * to a worker thread: such an event is signalled by write(2). */
static bool event_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}

static int engine_add(struct wt_engine *e, struct wt_port *p)
{
	int slot = port_slot(e, NULL);

	if (slot < 0) {
		wt_err("engine %s: already serves %u sessions", e->name, WT_ENGINE_MAX_PORTS);
		return -EBUSY;
	}
	if (p->rx_multishot && !e->has_read_multishot) {
		wt_err("%s: WINTUN_SESSION_RX_MULTISHOT needs IORING_OP_READ_MULTISHOT "
		       "(Linux 6.7)%s; start the session without it",
		       p->ifname, wt_feature_allowed(WINTUN_FEATURE_READ_MULTISHOT)
					  ? ", which this kernel lacks"
					  : ", which WINTUN_DISABLE_FEATURES turns off");
		return -EOPNOTSUPP;
	}
	wt_uring_register_port(e, p, (unsigned)slot);
	p->signal_sqe = event_nonblocking(p->rings->desc.Send.TailMoved);
	if (p->rx_multishot)
		wt_rx_multishot_setup(e, p, (unsigned)slot);
	p->nowait_reads = e->features & WINTUN_FEATURE_NOWAIT_READS;
	p->features = port_features(e, p);
	e->ports[slot] = p;
	e->nports++;
	return 0;
}

/* The last step of a removal, once no I/O of the port is in flight. */
static void engine_finalize(struct wt_engine *e, struct wt_port *p)
{
	int slot = port_slot(e, p);

	if (!p->dead) { /* the last episode's drops, before the stats go */
		wt_rx_full_end(p);
		wt_rx_full_settle(p);
	}
	wt_uring_unregister_port(e, p);
	wt_rx_multishot_teardown(e, p);
	if (!p->dead)
		wt_ring_pair_close(p->rings);
	if (slot >= 0) {
		e->ports[slot] = NULL;
		e->nports--;
	}
	/* A queued signal names the client's eventfd by number: it goes in
	 * before the client may close that fd (and the number be reused). */
	if (io_uring_sq_ready(&e->ring))
		wt_uring_submit(e, 0, 0);
	cmd_finish(e, p->remove_cmd, 0);
}

static bool engine_cancel(struct wt_engine *e, uint64_t udata)
{
	struct io_uring_sqe *sqe = wt_uring_sqe(e);

	if (!sqe)
		return false;
	io_uring_prep_cancel64(sqe, udata, 0);
	io_uring_sqe_set_data64(sqe, WT_OP_CANCEL);
	return true;
}

/* Cancel the port's requests that wait for an event; false if one could not
 * be queued (no SQ room): pump_all tries again, a second cancel of the same
 * request is harmless. */
static bool port_cancel(struct wt_engine *e, struct wt_port *p)
{
	bool ok = true;

	if (p->rx_poll_armed)
		ok &= engine_cancel(e, wt_udata(p, WT_OP_RX_POLL, WT_RX_POLL_TUN));
	if (p->rx_space_armed)
		ok &= engine_cancel(e, wt_udata(p, WT_OP_RX_POLL, WT_RX_POLL_SPACE));
	if (p->tx_wake_armed)
		ok &= engine_cancel(e, wt_udata(p, WT_OP_TX_WAKE, 0));
	if (p->ms_armed)
		ok &= engine_cancel(e, wt_udata(p, WT_OP_RX_MULTISHOT, 0));
	p->cancel_retry = !ok;
	return ok;
}

static void engine_remove(struct wt_engine *e, struct wt_cmd *c)
{
	struct wt_port *p = c->port;

	p->closing = true;
	p->remove_cmd = c;
	port_cancel(e, p);
	if (!p->inflight)
		engine_finalize(e, p);
}

static void engine_commands(struct wt_engine *e)
{
	struct wt_cmd *c, *next;

	pthread_mutex_lock(&e->lock);
	c = e->cmds;
	e->cmds = NULL;
	atomic_store(&e->cmd_pending, false);
	pthread_mutex_unlock(&e->lock);
	for (; c; c = next) {
		next = c->next;
		if (c->op == WT_CMD_ADD)
			cmd_finish(e, c, engine_add(e, c->port));
		else
			engine_remove(e, c);
	}
}

/* ---- completions ------------------------------------------------------- */

/* False if there was no SQ room: prepare_sleep tries again. */
static bool arm_ctl(struct wt_engine *e)
{
	struct io_uring_sqe *sqe = wt_uring_sqe(e);

	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, e->ctl_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, WT_OP_CTL);
	e->ctl_armed = true;
	return true;
}

static void dispatch(struct wt_engine *e, uint64_t udata, int res, unsigned flags)
{
	struct wt_port *p = wt_udata_port(udata);
	enum wt_op op = wt_udata_op(udata);

	if (op == WT_OP_CTL) {
		e->ctl_armed = false;
		wt_event_drain(e->ctl_fd);
		arm_ctl(e);
		return;
	}
	if (!p)
		return; /* a cancel request's own completion */
	p->inflight--;
	if (op == WT_OP_RX_READ)
		wt_rx_complete(p, wt_udata_idx(udata), res);
	else if (op == WT_OP_RX_POLL && wt_udata_idx(udata) == WT_RX_POLL_SPACE)
		wt_rx_space_complete(p, res);
	else if (op == WT_OP_RX_POLL)
		wt_rx_poll_complete(p, res);
	else if (op == WT_OP_TX_WRITE)
		wt_tx_complete(p, wt_udata_idx(udata), res);
	else if (op == WT_OP_TX_WAKE)
		wt_tx_wake_complete(p, res);
	else if (op == WT_OP_RX_MULTISHOT)
		wt_rx_multishot_complete(p, res, flags);
	if (p->closing && !p->inflight)
		engine_finalize(e, p);
}

static unsigned reap_cq(struct wt_engine *e)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&e->ring, head, cqe) {
		dispatch(e, cqe->user_data, cqe->res, cqe->flags);
		n++;
	}
	io_uring_cq_advance(&e->ring, n);
	return n;
}

static unsigned reap(struct wt_engine *e)
{
	unsigned n = reap_cq(e);

	/* Completions that did not fit wait in the kernel until asked for:
	 * the CQ is sized for none to, this is the safety net. */
	while (wt_uring_cq_flush_overflow(e))
		n += reap_cq(e);
	/* One publish (and fence) per reap, not per packet. */
	for (unsigned i = 0; n && i < WT_ENGINE_MAX_PORTS; i++)
		if (e->ports[i])
			wt_rx_flush(e->ports[i]);
	return n;
}

/* ---- the loop ---------------------------------------------------------- */

_Atomic uint64_t wt_engine_idle_sleep_ns = WT_ALIVE_RECHECK_NS;

static bool pump_all(struct wt_engine *e)
{
	bool work = false;

	for (unsigned i = 0; i < WT_ENGINE_MAX_PORTS; i++) {
		struct wt_port *p = e->ports[i];

		if (!p)
			continue;
		if (p->closing && p->cancel_retry)
			port_cancel(e, p);
		work |= wt_tx_pump(e, p);
		work |= wt_rx_pump(e, p);
	}
	return work;
}

/* Ends the sessions whose device was deleted without a wake-up reaching us
 * (see WT_ALIVE_RECHECK_NS), asking a queue fd if what it last said is
 * older than @max_age_ns or no longer holds. */
static void check_devices(struct wt_engine *e, uint64_t now, uint64_t max_age_ns)
{
	e->alive_checked_ns = now;
	for (unsigned i = 0; i < WT_ENGINE_MAX_PORTS; i++) {
		struct wt_port *p = e->ports[i];

		if (!p || p->dead || p->closing)
			continue;
		if (wt_netdev_check(p->netdev, p->tun_fd, max_age_ns) == -EBADFD)
			wt_port_kill(p, "the TUN device was deleted", ENODEV);
	}
}

/* Arm every port's wake-ups and say how long to sleep at most (*timeout_ns);
 * false if work showed up meanwhile. */
static bool prepare_sleep(struct wt_engine *e, uint64_t *timeout_ns)
{
	bool ok = e->ctl_armed || arm_ctl(e);

	*timeout_ns = atomic_load_explicit(&wt_engine_idle_sleep_ns, memory_order_relaxed);
	for (unsigned i = 0; i < WT_ENGINE_MAX_PORTS; i++) {
		struct wt_port *p = e->ports[i];

		if (!p)
			continue;
		ok &= wt_tx_prepare_sleep(e, p);
		ok &= wt_rx_prepare_sleep(e, p, timeout_ns);
	}
	return ok;
}

/* Submit what engine_loop held back for the sleep's io_uring_enter, now
 * that it must go in sooner. */
static void submit_held(struct wt_engine *e, bool *held)
{
	if (*held)
		wt_uring_submit(e, 0, 0);
	*held = false;
}

/*
 * Going to sleep: count the drops of ring-full episodes that ended (an
 * RTM_GETSTATS query, which waits for RTNL), now that no read waits for it.
 * The submissions held for the sleep go in first: the client's wake-up
 * must not wait for RTNL either.
 */
static void settle_drops(struct wt_engine *e, bool *held)
{
	bool due = false;

	for (unsigned i = 0; i < WT_ENGINE_MAX_PORTS; i++)
		due |= e->ports[i] && e->ports[i]->rx_full_count_due;
	if (!due)
		return;
	submit_held(e, held);
	for (unsigned i = 0; i < WT_ENGINE_MAX_PORTS; i++)
		if (e->ports[i])
			wt_rx_full_settle(e->ports[i]);
}

/* On the way to sleep, nothing to do: the time to ask every queue fd, when
 * it is due (see WT_DEVICES_ASK_NS). */
static void ask_devices(struct wt_engine *e, bool *held)
{
	uint64_t now = wt_now_ns();

	if (now - e->devices_asked_ns < WT_DEVICES_ASK_NS)
		return;
	submit_held(e, held); /* the polls wait in the kernel meanwhile */
	check_devices(e, now, 0);
	e->devices_asked_ns = now;
}

static void disarm_all(struct wt_engine *e)
{
	for (unsigned i = 0; i < WT_ENGINE_MAX_PORTS; i++) {
		if (!e->ports[i])
			continue;
		wt_ring_disarm(e->ports[i]->rings->desc.Receive.Ring);
		wt_rx_disarm_space(e->ports[i]);
	}
}

/*
 * Adaptive idle spin.  Spinning pays when work comes back within the spin
 * window: the engine then saves a sleep and a wake-up, and the packet its
 * latency.  At light load the next packet comes later, and the whole window
 * is burnt for nothing (at 80k packets/s, paced, most idle periods).  So the
 * engine keeps a running score of its last idle periods (about eight, an
 * average with weight 1/8) that spun: one that ended with work within the
 * window counts as paid, one that outlasted it as unpaid.  It spins while at
 * least half of them paid, otherwise it sleeps at once -- but still spins
 * one idle period in WT_SPIN_PROBE to see whether spinning pays again.  (A
 * sleep says little: the time to its wake-up includes the wake-up's own
 * latency, and counting it would keep an engine that stopped spinning from
 * ever starting again.)  Each probe that does not pay doubles the interval
 * to the next, up to WT_SPIN_PROBE_MAX, and one that pays brings it back:
 * at light load the probes were most of what the spin still cost (one
 * window burnt every eighth idle period).
 */
#define WT_SPIN_SCORE_ONE 256u
#define WT_SPIN_PROBE 8u
#define WT_SPIN_PROBE_MAX 64u

static void spin_learn(struct wt_engine *e, bool paid)
{
	int target = paid ? (int)WT_SPIN_SCORE_ONE : 0;

	e->spin_score = (unsigned)((int)e->spin_score + (target - (int)e->spin_score) / 8);
	if (e->spin_probing) {
		e->spin_probing = false;
		e->spin_probe_every = paid ? WT_SPIN_PROBE
				      : e->spin_probe_every * 2 > WT_SPIN_PROBE_MAX
					      ? WT_SPIN_PROBE_MAX
					      : e->spin_probe_every * 2;
		e->spin_probe_left = e->spin_probe_every;
	}
}

/* A port waits to read its next batch on purpose (wt_rx_pump's deferral):
 * spinning would only burn the wait. */
static bool rx_deferring(const struct wt_engine *e)
{
	for (unsigned i = 0; i < WT_ENGINE_MAX_PORTS; i++)
		if (e->ports[i] && e->ports[i]->rx_defer_until)
			return true;
	return false;
}

/* At the start of an idle period: spin through it? */
static bool spin_now(struct wt_engine *e)
{
	if (e->spin_score >= WT_SPIN_SCORE_ONE / 2)
		return true;
	if (e->spin_probe_left > 1) {
		e->spin_probe_left--;
		return false;
	}
	/* The probe's spin_learn sets the next interval. */
	e->spin_probe_left = e->spin_probe_every;
	e->spin_probing = true;
	return true;
}

static void engine_loop(struct wt_engine *e)
{
	uint64_t spin_ns = (uint64_t)e->spin_us * 1000u, idle_since = 0, now;
	bool spinning = false;

	e->spin_score = WT_SPIN_SCORE_ONE;
	e->spin_probe_left = e->spin_probe_every = WT_SPIN_PROBE;
	while (!atomic_load_explicit(&e->stop, memory_order_relaxed)) {
		uint64_t timeout_ns;
		bool work, held;

		if (atomic_load_explicit(&e->cmd_pending, memory_order_relaxed))
			engine_commands(e);
		/* Every turn, busy or idle (one vDSO clock read): a session
		 * flooding a shared engine must not keep another's deleted
		 * device from being noticed. */
		now = wt_now_ns();
		if (now - e->alive_checked_ns > WT_ALIVE_RECHECK_NS)
			check_devices(e, now, WT_NETDEV_TRUST_NS);
		work = pump_all(e);
		/* Reads and writes complete inline: wait for one completion
		 * in the same io_uring_enter that submits them.  Only then: a
		 * poll queued beside them (or alone, while the work was just
		 * dropping records) may never complete, and nothing else
		 * would wake this wait.  With nothing but polls and signals
		 * queued and nothing else to do, the engine is going idle:
		 * they go in with the sleep's io_uring_enter, or before a
		 * spin (one system call per quiet packet saved). */
		held = false;
		if (io_uring_sq_ready(&e->ring)) {
			if (work || e->inline_sqes)
				wt_uring_submit(e, e->inline_sqes ? 1 : 0, 0);
			else
				held = true;
		} else if (!work && (e->defer_taskrun || e->taskrun_flag) && wt_uring_work_pending(e)) {
			wt_uring_get_events(e); /* run deferred poll completions */
		}
		if (reap(e) || work) {
			submit_held(e, &held); /* busy after all: completions came */
			if (idle_since && spinning)
				spin_learn(e, true); /* within the window */
			idle_since = 0;
			continue;
		}
		if (!idle_since) {
			idle_since = now;
			spinning = spin_ns && !rx_deferring(e) && spin_now(e);
			if (spinning)
				wt_stat_add(&e->idle_spins, 1);
		}
		if (spinning && now - idle_since < spin_ns) {
			submit_held(e, &held); /* the spin must see the poll complete */
			continue;
		}
		if (spinning) {
			spin_learn(e, false); /* the window passed */
			spinning = false;
		}
		settle_drops(e, &held);
		ask_devices(e, &held);
		if (!prepare_sleep(e, &timeout_ns)) {
			submit_held(e, &held); /* not sleeping after all */
			idle_since = 0;
			continue;
		}
		wt_stat_add(&e->idle_sleeps, 1);
		wt_uring_submit(e, 1, timeout_ns);
		disarm_all(e);
		reap(e);
		idle_since = 0;
	}
}

/* ---- lifetime ---------------------------------------------------------- */

static int pick_cpu(void)
{
	static atomic_uint next;
	cpu_set_t set;
	unsigned count, want;

	if (sched_getaffinity(0, sizeof(set), &set) < 0 || !(count = (unsigned)CPU_COUNT(&set)))
		return -1;
	/* Spread sessions over the allowed CPUs, starting from the last one
	 * (the first is where most programs' main threads run). */
	want = count - 1 - atomic_fetch_add(&next, 1) % count;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && want-- == 0)
			return cpu;
	return -1;
}

static void pin(struct wt_engine *e)
{
	cpu_set_t set;
	int ret;

	if (e->cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(e->cpu, &set);
	ret = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (ret)
		wt_warn("engine %s: cannot pin to CPU %d (%s); runs unpinned", e->name, e->cpu,
			strerror(ret));
}

static void *engine_main(void *arg)
{
	struct wt_engine *e = arg;
	int ret;

	pthread_setname_np(pthread_self(), e->name);
	e->tid = (int)gettid();
	pin(e);
	ret = wt_uring_setup(e);
	if (!ret)
		arm_ctl(e); /* the SQ is empty: cannot fail */
	pthread_mutex_lock(&e->lock);
	e->init_result = ret;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	if (ret)
		return NULL;
	engine_loop(e);
	wt_uring_teardown(e);
	return NULL;
}

/* The engine thread starts with every signal blocked: it inherits the
 * caller's mask otherwise, and a process-directed signal could then run the
 * application's handler on the pinned engine thread, in the middle of its
 * loop.  The caller's own mask is restored at once. */
static int start_thread(struct wt_engine *e)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&e->thread, NULL, engine_main, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int wt_engine_create(const struct wt_engine_opts *opts, struct wt_engine **out)
{
	struct wt_engine *e = calloc(1, sizeof(*e));
	int ret;

	if (!e)
		return -ENOMEM;
	e->cpu = opts->cpu >= 0 ? opts->cpu : pick_cpu();
	e->spin_us = opts->spin_us;
	snprintf(e->name, sizeof(e->name), "wintun/%s", opts->name ? opts->name : "");
	e->refs = 1;
	e->init_result = 1;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	e->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->ctl_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = start_thread(e);
	if (ret) {
		wt_err("cannot start the engine thread: %s", strerror(-ret));
		close(e->ctl_fd);
		goto fail;
	}
	pthread_mutex_lock(&e->lock);
	while (e->init_result == 1)
		pthread_cond_wait(&e->cond, &e->lock);
	ret = e->init_result;
	pthread_mutex_unlock(&e->lock);
	if (ret) {
		pthread_join(e->thread, NULL);
		close(e->ctl_fd);
		goto fail;
	}
	*out = e;
	return 0;
fail:
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	free(e);
	return ret;
}

void wt_engine_get(struct wt_engine *e)
{
	pthread_mutex_lock(&e->lock);
	e->refs++;
	pthread_mutex_unlock(&e->lock);
}

void wt_engine_put(struct wt_engine *e)
{
	bool last;

	pthread_mutex_lock(&e->lock);
	last = --e->refs == 0;
	pthread_mutex_unlock(&e->lock);
	if (!last)
		return;
	/* No port is left; the stop flag is read by the engine thread after it
	 * drains the control event. */
	atomic_store(&e->stop, true);
	atomic_store(&e->cmd_pending, true);
	wt_event_signal(e->ctl_fd);
	pthread_join(e->thread, NULL);
	close(e->ctl_fd);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	free(e);
}

int wt_engine_cpu(const struct wt_engine *e)
{
	return e->cpu;
}

int wt_engine_tid(const struct wt_engine *e)
{
	return e->tid;
}

uint64_t wt_engine_enter_calls(struct wt_engine *e)
{
	return wt_stat_get(&e->enter_calls);
}

uint64_t wt_engine_port_features(const struct wt_port *p)
{
	return p->features;
}
