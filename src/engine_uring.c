/* SPDX-License-Identifier: MIT */
/* io_uring set-up with fallbacks, registration, and SQE preparation. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine_internal.h"
#include "kernel_features.h"
#include "log.h"
#include "ring_sync.h"

static const struct {
	unsigned flags;
	uint64_t features; /* WINTUN_FEATURE_* the mode stands for */
} setup_modes[] = {
	/* TASKRUN_FLAG: the kernel flags pending completion work in the SQ
	 * ring, so an idle spin looks at memory instead of entering. */
	{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
	  WINTUN_FEATURE_SINGLE_ISSUER | WINTUN_FEATURE_DEFER_TASKRUN | WINTUN_FEATURE_TASKRUN_FLAG },
	{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	  WINTUN_FEATURE_SINGLE_ISSUER | WINTUN_FEATURE_DEFER_TASKRUN },
	{ IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
	  WINTUN_FEATURE_COOP_TASKRUN | WINTUN_FEATURE_TASKRUN_FLAG },
	{ IORING_SETUP_COOP_TASKRUN, WINTUN_FEATURE_COOP_TASKRUN },
	{ 0, 0 },
};

static void log_features(struct wt_engine *e, unsigned entries)
{
	char buf[256];

	wt_features_describe(e->features, buf, sizeof(buf));
	wt_info("engine %s: io_uring (%u entries, %u completions): %s", e->name, entries,
		e->ring.cq.ring_entries, buf);
	if (!(e->features & WINTUN_FEATURE_NOWAIT_READS))
		wt_info("engine %s: TUN reads without RWF_NOWAIT (kernel < 6.4): read(2) from the "
			"engine thread after each readiness poll",
			e->name);
}

/* Some liburing 2.3 register calls return -1 and set errno, others -errno. */
static int uring_err(int ret)
{
	return ret == -1 ? -errno : ret;
}

/*
 * Does a file taken out of the registered table go at once?  Older kernels
 * (6.1 among them) put removed files from a work item a second later, so a
 * session's TUN queue outlived WintunEndSession by that second: the next
 * start that switched the device's offload mode (which needs the device
 * without other queues) got EBUSY, and a device at the queue limit refused
 * the queue just ended.  Asked of one end of a socket pair: its peer gets
 * EPIPE once it is released.
 */
static bool removed_files_go_at_once(struct wt_engine *e)
{
	int sv[2], none = -1;
	bool at_once = false;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	if (uring_err(io_uring_register_files_update(&e->ring, 0, &sv[0], 1)) == 1) {
		close(sv[0]);
		sv[0] = -1;
		if (uring_err(io_uring_register_files_update(&e->ring, 0, &none, 1)) == 1)
			at_once = send(sv[1], "", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
				  errno == EPIPE;
	}
	if (sv[0] >= 0)
		close(sv[0]);
	close(sv[1]);
	return at_once;
}

static void register_tables(struct wt_engine *e)
{
	int ret = -EPERM;

	/* Sparse tables, filled as ports come and go (from this thread, the
	 * only one allowed to touch a SINGLE_ISSUER ring). */
	if (wt_feature_allowed(WINTUN_FEATURE_FIXED_FILES))
		ret = uring_err(io_uring_register_files_sparse(&e->ring, WT_ENGINE_MAX_PORTS));
	e->fixed_files = ret == 0;
	if (ret)
		wt_info("engine %s: registered files unavailable (%s); using plain fds", e->name,
			strerror(-ret));
	else if (!removed_files_go_at_once(e)) {
		/* The table stays registered, unused: taking it out would
		 * wait for that same delayed work. */
		e->fixed_files = false;
		wt_info("engine %s: this kernel releases a deregistered file only a second "
			"later, which would keep an ended session's TUN queue on the device; "
			"using plain fds",
			e->name);
	}
	ret = -EPERM;
	if (wt_feature_allowed(WINTUN_FEATURE_FIXED_BUFFERS))
		ret = uring_err(io_uring_register_buffers_sparse(&e->ring, 2 * WT_ENGINE_MAX_PORTS));
	e->fixed_buffers = ret == 0;
	if (ret)
		wt_warn("engine %s: fixed buffers unavailable (%s); using plain READ/WRITE on the "
			"same ring memory",
			e->name, strerror(-ret));
	if (wt_feature_allowed(WINTUN_FEATURE_RING_FD) && io_uring_register_ring_fd(&e->ring) >= 0)
		e->features |= WINTUN_FEATURE_RING_FD;
	else
		wt_info("engine %s: ring fd not registered", e->name);
}

/* A set-up mode the kernel may have and WINTUN_DISABLE_FEATURES allows. */
static bool mode_allowed(uint64_t features)
{
	for (uint64_t bit = 1; bit && bit <= features; bit <<= 1)
		if (features & bit && !wt_feature_allowed(bit))
			return false;
	return true;
}

static int uring_init(struct wt_engine *e, unsigned flags, unsigned entries, unsigned cq_entries,
		      unsigned *feats)
{
	struct io_uring_params p = { .flags = flags | IORING_SETUP_CQSIZE,
				     .cq_entries = cq_entries };
	int ret = io_uring_queue_init_params(entries, &e->ring, &p);

	*feats = p.features;
	return ret;
}

/*
 * What the engine cannot run without, with the version that brought it:
 * completions never dropped (5.5), internal polling instead of io-wq for
 * pollable files (5.7), waits with a timeout in io_uring_enter (5.11),
 * io-wq workers that are threads of this process (5.12).  The oldest
 * kernel tested (CI boots it) is 6.1.
 */
static const struct {
	unsigned feat;
	const char *name;
} required_feats[] = {
	{ IORING_FEAT_NODROP, "IORING_FEAT_NODROP (5.5)" },
	{ IORING_FEAT_FAST_POLL, "IORING_FEAT_FAST_POLL (5.7)" },
	{ IORING_FEAT_EXT_ARG, "IORING_FEAT_EXT_ARG (5.11)" },
	{ IORING_FEAT_NATIVE_WORKERS, "IORING_FEAT_NATIVE_WORKERS (5.12)" },
};

/* Test-only: features to pretend the kernel lacks (IORING_FEAT_* bits). */
_Atomic unsigned wt_uring_hide_feats;

/* 0, or -EOPNOTSUPP with one log line naming what the kernel lacks. */
static int check_required(struct wt_engine *e, unsigned feats)
{
	char missing[160] = "";
	size_t at = 0;

	feats &= ~atomic_load_explicit(&wt_uring_hide_feats, memory_order_relaxed);
	for (size_t i = 0; i < sizeof(required_feats) / sizeof(required_feats[0]); i++)
		if (!(feats & required_feats[i].feat) && at < sizeof(missing))
			at += (size_t)snprintf(missing + at, sizeof(missing) - at, "%s%s",
					       at ? ", " : "", required_feats[i].name);
	if (!at)
		return 0;
	wt_err("engine %s: the kernel lacks io_uring features the engine needs: %s; "
	       "the minimum is Linux 6.1",
	       e->name, missing);
	return -EOPNOTSUPP;
}

int wt_uring_setup(struct wt_engine *e)
{
	int ret = -EINVAL;

	unsigned entries = WT_ENGINE_SQ_ENTRIES, cq_entries = WT_ENGINE_CQ_ENTRIES, feats = 0;

	for (unsigned i = 0; i < sizeof(setup_modes) / sizeof(setup_modes[0]); i++) {
		if (!mode_allowed(setup_modes[i].features))
			continue;
		ret = uring_init(e, setup_modes[i].flags, entries, cq_entries, &feats);
		/* Locked-memory limits (users without CAP_IPC_LOCK): smaller;
		 * what no longer fits in the CQ waits in the kernel's overflow
		 * list (wt_uring_cq_flush_overflow). */
		while (ret == -ENOMEM && entries > 64) {
			entries /= 4;
			cq_entries /= 4;
			ret = uring_init(e, setup_modes[i].flags, entries, cq_entries, &feats);
		}
		if (ret == 0 && (ret = check_required(e, feats)) != 0) {
			io_uring_queue_exit(&e->ring);
			return ret;
		}
		if (ret == 0) {
			e->features = setup_modes[i].features;
			e->defer_taskrun = setup_modes[i].flags & IORING_SETUP_DEFER_TASKRUN;
			e->taskrun_flag = setup_modes[i].flags & IORING_SETUP_TASKRUN_FLAG;
			register_tables(e);
			e->has_read_multishot = wt_feature_allowed(WINTUN_FEATURE_READ_MULTISHOT) &&
						wt_rx_multishot_supported(&e->ring);
			if (e->has_read_multishot)
				e->features |= WINTUN_FEATURE_READ_MULTISHOT;
			if (e->fixed_files)
				e->features |= WINTUN_FEATURE_FIXED_FILES;
			if (e->fixed_buffers)
				e->features |= WINTUN_FEATURE_FIXED_BUFFERS;
			e->features |= wt_features_process();
			log_features(e, entries);
			return 0;
		}
		if (ret != -EINVAL)
			break; /* not a missing feature: ENOMEM, EPERM, ENOSYS... */
	}
	wt_err("engine %s: cannot set up io_uring: %s%s", e->name, strerror(-ret),
	       ret == -EPERM ? " (io_uring disabled by kernel.io_uring_disabled?)" : "");
	return ret;
}

void wt_uring_teardown(struct wt_engine *e)
{
	io_uring_queue_exit(&e->ring);
}

bool wt_uring_work_pending(struct wt_engine *e)
{
	if (!e->taskrun_flag)
		return true; /* cannot tell: look */
	return atomic_load_explicit((_Atomic unsigned *)e->ring.sq.kflags, memory_order_relaxed) &
	       IORING_SQ_TASKRUN;
}

void wt_uring_get_events(struct wt_engine *e)
{
	wt_stat_add(&e->enter_calls, 1);
	io_uring_get_events(&e->ring);
}

bool wt_uring_sq_room(struct wt_engine *e)
{
	if (io_uring_sq_space_left(&e->ring))
		return true;
	wt_uring_submit(e, 0, 0); /* SQ full: flush it */
	if (io_uring_sq_space_left(&e->ring))
		return true;
	/* Refused (EBUSY while completions wait in the kernel's overflow
	 * list, or EAGAIN): move those into the CQ, reaped later, and try
	 * once more. */
	wt_uring_cq_flush_overflow(e);
	wt_uring_submit(e, 0, 0);
	return io_uring_sq_space_left(&e->ring) > 0;
}

struct io_uring_sqe *wt_uring_sqe(struct wt_engine *e)
{
	return wt_uring_sq_room(e) ? io_uring_get_sqe(&e->ring) : NULL;
}

bool wt_uring_cq_flush_overflow(struct wt_engine *e)
{
	unsigned flags = atomic_load_explicit((_Atomic unsigned *)e->ring.sq.kflags,
					      memory_order_relaxed);

	if (!(flags & IORING_SQ_CQ_OVERFLOW))
		return false;
	if (!wt_stat_get(&e->cq_overflows))
		wt_warn("engine %s: completion queue overflowed; the kernel holds the rest",
			e->name);
	wt_stat_add(&e->cq_overflows, 1);
	wt_uring_get_events(e);
	return true;
}

int wt_uring_submit(struct wt_engine *e, unsigned wait_nr, uint64_t timeout_ns)
{
	int ret;

	wt_stat_add(&e->enter_calls, 1);
	e->inline_sqes = 0; /* everything queued goes in now */
	if (wait_nr && timeout_ns) {
		struct __kernel_timespec ts = {
			.tv_sec = (long long)(timeout_ns / 1000000000u),
			.tv_nsec = (long long)(timeout_ns % 1000000000u),
		};
		struct io_uring_cqe *cqe;

		ret = io_uring_submit_and_wait_timeout(&e->ring, &cqe, wait_nr, &ts, NULL);
		return ret == -ETIME ? 0 : ret;
	}
	return wait_nr ? io_uring_submit_and_wait(&e->ring, wait_nr) : io_uring_submit(&e->ring);
}

/* Register the port's fd and rings where the engine has the tables; a port
 * that cannot be registered runs with plain fds and READ/WRITE (logged). */
void wt_uring_register_port(struct wt_engine *e, struct wt_port *p, unsigned slot)
{
	struct iovec iov[2] = {
		{ p->rings->desc.Send.Ring, p->rings->desc.Send.RingSize },
		{ p->rings->desc.Receive.Ring, p->rings->desc.Receive.RingSize },
	};
	int ret;

	p->file_index = p->buf_index = -1;
	if (e->fixed_files) {
		ret = uring_err(io_uring_register_files_update(&e->ring, slot, &p->tun_fd, 1));
		if (ret == 1)
			p->file_index = (int)slot;
		else
			wt_info("%s: TUN fd not registered (%s)", p->ifname, strerror(-ret));
	}
	if (e->fixed_buffers) {
		ret = uring_err(io_uring_register_buffers_update_tag(&e->ring, 2 * slot, iov, NULL, 2));
		if (ret == 2) {
			p->buf_index = (int)(2 * slot);
		} else {
			if (ret >= 0) { /* one of two went in: take it back */
				struct iovec none[2] = { { NULL, 0 }, { NULL, 0 } };

				io_uring_register_buffers_update_tag(&e->ring, 2 * slot, none, NULL, 2);
				ret = -ENOMEM;
			}
			wt_warn("%s: rings not registered as fixed buffers (%s, RLIMIT_MEMLOCK?); "
				"using plain READ/WRITE on the same memory",
				p->ifname, strerror(-ret));
		}
	}
}

void wt_uring_unregister_port(struct wt_engine *e, struct wt_port *p)
{
	struct iovec none[2] = { { NULL, 0 }, { NULL, 0 } };
	int minus_one = -1;

	if (p->file_index >= 0)
		io_uring_register_files_update(&e->ring, (unsigned)p->file_index, &minus_one, 1);
	if (p->buf_index >= 0)
		io_uring_register_buffers_update_tag(&e->ring, (unsigned)p->buf_index, none, NULL,
						     2);
}

static void set_file(struct io_uring_sqe *sqe, struct wt_port *p)
{
	if (p->file_index >= 0) {
		sqe->fd = p->file_index;
		sqe->flags |= IOSQE_FIXED_FILE;
	}
}

bool wt_uring_prep_read(struct wt_engine *e, struct wt_port *p, void *buf, unsigned len,
			bool send_ring, uint64_t udata)
{
	struct io_uring_sqe *sqe = wt_uring_sqe(e);

	if (!sqe)
		return false;
	if (p->buf_index >= 0)
		io_uring_prep_read_fixed(sqe, p->tun_fd, buf, len, 0,
					 p->buf_index + (send_ring ? 0 : 1));
	else
		io_uring_prep_read(sqe, p->tun_fd, buf, len, 0);
	/* Never park: a read that finds no packet fails at once (-EAGAIN)
	 * instead of arming a poll per read. */
	sqe->rw_flags = RWF_NOWAIT;
	set_file(sqe, p);
	io_uring_sqe_set_data64(sqe, udata);
	p->inflight++;
	e->inline_sqes++;
	return true;
}

bool wt_uring_prep_write(struct wt_engine *e, struct wt_port *p, void *buf, unsigned len,
			 uint64_t udata)
{
	struct io_uring_sqe *sqe = wt_uring_sqe(e);

	if (!sqe)
		return false;
	if (p->buf_index >= 0)
		io_uring_prep_write_fixed(sqe, p->tun_fd, buf, len, 0, p->buf_index + 1);
	else
		io_uring_prep_write(sqe, p->tun_fd, buf, len, 0);
	set_file(sqe, p);
	io_uring_sqe_set_data64(sqe, udata);
	p->inflight++;
	e->inline_sqes++; /* a TUN write never waits */
	return true;
}

bool wt_uring_prep_writev(struct wt_engine *e, struct wt_port *p, const struct iovec *iov,
			  unsigned n, uint64_t udata)
{
	struct io_uring_sqe *sqe = wt_uring_sqe(e);

	if (!sqe)
		return false;
	io_uring_prep_writev(sqe, p->tun_fd, iov, n, 0);
	set_file(sqe, p);
	io_uring_sqe_set_data64(sqe, udata);
	p->inflight++;
	e->inline_sqes++;
	return true;
}

bool wt_uring_prep_poll(struct wt_engine *e, struct wt_port *p, uint64_t udata)
{
	struct io_uring_sqe *sqe = wt_uring_sqe(e);

	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, p->tun_fd, POLLIN);
	set_file(sqe, p);
	io_uring_sqe_set_data64(sqe, udata);
	p->inflight++;
	return true;
}

/* What every signal SQE writes.  The kernel reads it at issue, or later from
 * an io-wq worker: it must outlive any request. */
static const uint64_t signal_one = 1;

void wt_uring_signal(struct wt_engine *e, struct wt_port *p, int event_fd)
{
	struct io_uring_sqe *sqe = p->signal_sqe ? wt_uring_sqe(e) : NULL;

	if (!sqe) {
		wt_event_signal(event_fd);
		return;
	}
	/* Issued inline by the io_uring_enter the loop makes anyway (the fd is
	 * non-blocking, so never punted to a worker): the wake-up costs no
	 * system call of its own.  Every path to a sleep submits the SQ
	 * first, so the consumer is woken before the engine waits. */
	io_uring_prep_write(sqe, event_fd, &signal_one, sizeof(signal_one), 0);
	/* A completion would only say "done": skip it.  A failure (EAGAIN, the
	 * counter saturated: already readable) still posts one, which
	 * dispatch ignores (user_data 0: no port). */
	if (e->ring.features & IORING_FEAT_CQE_SKIP)
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, 0);
	wt_stat_add(&e->signal_sqes, 1);
}
