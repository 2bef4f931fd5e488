/* SPDX-License-Identifier: MIT */
/*
 * The two implementations behind one interface: the engine (sessions
 * started with wt_session_start on a dup() of the held TUN queue, sharing
 * one engine when there are two devices) or the baseline I/O thread (sessions
 * with the same rings, served by baseline.c).  The client code sees the same
 * struct wintun_session either way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "src/engine.h"
#include "src/session.h"
#include "src/session_lifetime.h"
#include "wintun.h"

/* Offload mode: the capacity tun-pump uses (see tools/tun-pump.c). */
static uint32_t capacity(const struct wb_opts *o, bool offload, bool split)
{
	return offload && !split && !o->capacity_set ? 0x80000 : o->capacity;
}

char wb_engine_features[256];

/* What the engine runs with on this kernel, for the report's header. */
static void note_features(struct wintun_session *s)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };
	size_t at = 0;

	if (wb_engine_features[0] || !WintunGetSessionStatistics(s, &st))
		return;
	for (unsigned i = 0; i < 64 && at < sizeof(wb_engine_features); i++)
		if (st.Features & (1ull << i))
			at += (size_t)snprintf(wb_engine_features + at, sizeof(wb_engine_features) - at,
					       "%s%s", at ? " " : "", WintunGetFeatureName(1ull << i));
}

static int engine_start(struct wb_io *io, struct wb_dev **devs, unsigned n,
			const struct wb_opts *o, bool offload, bool split)
{
	for (unsigned i = 0; i < n; i++) {
		struct wt_start_opts so = { .capacity = capacity(o, offload, split),
					    .cpu = o->engine_cpu,
					    .numa_node = -1, .batch = o->batch,
					    .spin_us = o->spin_us, .rx_multishot = o->rx_multishot,
					    .offload = offload, .coalesce = split && i == 1,
					    .offloads = offload ? devs[i]->offloads : 0,
					    .share = i ? io->s[0] : NULL, .name = devs[i]->name };
		int fd = dup(devs[i]->fd), ret;

		if (fd < 0)
			return -errno;
		ret = wt_session_start(fd, &so, &io->s[i]);
		if (ret) {
			close(fd);
			fprintf(stderr, "wintun-bench: engine session on %s: %s\n", devs[i]->name,
				strerror(-ret));
			return ret;
		}
		io->n = i + 1;
	}
	io->tid = wt_engine_tid(io->s[0]->engine);
	note_features(io->s[0]);
	return 0;
}

static int baseline_start(struct wb_io *io, struct wb_dev **devs, unsigned n,
			  const struct wb_opts *o, bool offload, bool split)
{
	int fds[2], ret;

	for (unsigned i = 0; i < n; i++) {
		ret = wt_session_create(capacity(o, offload, split), -1, false, &io->s[i]);
		if (ret)
			return ret;
		/* What the client-side split looks at, as wt_session_start sets it. */
		io->s[i]->vnet_hdr = offload;
		io->s[i]->offloads = offload ? devs[i]->offloads : 0;
		/* Same client code, same client spin (--spin-us) as the engine's. */
		wt_session_set_wait_spin(io->s[i], o->spin_us);
		io->n = i + 1;
		fds[i] = devs[i]->fd;
	}
	return wb_base_start(&io->base, io->s, fds, n, o->engine_cpu, offload, &io->tid);
}

int wb_io_start(struct wb_io *io, enum wb_impl kind, struct wb_dev **devs, unsigned n,
		const struct wb_opts *o, bool offload, bool split)
{
	int ret;

	memset(io, 0, sizeof(*io));
	io->kind = kind;
	ret = kind == WB_ENGINE ? engine_start(io, devs, n, o, offload, split)
				: baseline_start(io, devs, n, o, offload, split);
	if (ret)
		wb_io_stop(io);
	return ret;
}

void wb_io_stop(struct wb_io *io)
{
	if (io->base)
		wb_base_stop(io->base);
	io->base = NULL;
	/* The engine is shared: end the session that joined it first. */
	for (unsigned i = io->n; i-- > 0;) {
		if (io->kind == WB_ENGINE) {
			wt_session_end(io->s[i]);
		} else {
			wt_ring_pair_close(&io->s[i]->rings);
			wt_session_destroy(io->s[i]);
		}
		io->s[i] = NULL;
	}
	io->n = 0;
}

uint64_t wb_io_enter_calls(const struct wb_io *io)
{
	return io->kind == WB_ENGINE && io->n ? wt_engine_enter_calls(io->s[0]->engine) : 0;
}

uint64_t wb_io_ring_full(const struct wb_io *io)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < io->n; i++)
		n += wt_stat_get(&io->s[i]->stats.rx.ring_full_episodes);
	return n;
}

uint64_t wb_io_rx_ring_bytes(const struct wb_io *io)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < io->n; i++)
		n += wt_stat_get(&io->s[i]->stats.rx.ring_bytes);
	return n;
}

uint64_t wb_io_rx_packets(const struct wb_io *io)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < io->n; i++)
		n += wt_stat_get(&io->s[i]->stats.rx.packets);
	return n;
}
