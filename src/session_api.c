/* SPDX-License-Identifier: MIT */
/* The public session API: start (plain, extended, raw rings), end, stats. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "clock.h"
#include "engine.h"
#include "log.h"
#include "offload.h"
#include "session_lifetime.h"
#include "wintun.h"

#define WT_DEFAULT_CAPACITY 0x400000u

static int options_to_start(const WINTUN_SESSION_OPTIONS *in, struct wt_start_opts *o)
{
	WINTUN_SESSION_OPTIONS opt = { 0 };

	*o = (struct wt_start_opts){ .capacity = WT_DEFAULT_CAPACITY, .cpu = -1, .numa_node = -1,
				     .spin_us = -1 };
	if (!in)
		return 0;
	if (in->Size < offsetof(WINTUN_SESSION_OPTIONS, Capacity) || in->Size > sizeof(opt)) {
		wt_err("session options: Size %u is not a known WINTUN_SESSION_OPTIONS size "
		       "(expected %zu)",
		       in->Size, sizeof(opt));
		return -EINVAL;
	}
	memcpy(&opt, in, in->Size);
	if (opt.Flags & ~WINTUN_SESSION_FLAGS_ALL) {
		wt_err("session options: unknown flags 0x%x", opt.Flags & ~WINTUN_SESSION_FLAGS_ALL);
		return -EINVAL;
	}
	if (opt.Capacity)
		o->capacity = opt.Capacity;
	if (opt.Flags & WINTUN_SESSION_PIN_CPU) {
		if (opt.Cpu < 0 || opt.Cpu >= CPU_SETSIZE) {
			wt_err("session options: CPU %d does not exist", opt.Cpu);
			return -EINVAL;
		}
		o->cpu = opt.Cpu;
	}
	if (opt.Flags & WINTUN_SESSION_NUMA_NODE)
		o->numa_node = opt.NumaNode;
	if (opt.Flags & WINTUN_SESSION_SPIN)
		o->spin_us = (int)(opt.SpinMicroseconds > 1000000 ? 1000000 : opt.SpinMicroseconds);
	if (opt.BatchDepth > 256) {
		wt_err("session options: batch depth %u is above 256", opt.BatchDepth);
		return -EINVAL;
	}
	o->batch = opt.BatchDepth;
	o->hugepages = opt.Flags & WINTUN_SESSION_HUGEPAGES;
	o->rx_multishot = opt.Flags & WINTUN_SESSION_RX_MULTISHOT;
	o->offload = opt.Flags & WINTUN_SESSION_OFFLOAD;
	o->coalesce = opt.Flags & WINTUN_SESSION_COALESCE;
	if (o->coalesce && !o->offload) {
		wt_err("session options: WINTUN_SESSION_COALESCE needs WINTUN_SESSION_OFFLOAD");
		return -EINVAL;
	}
	if (opt.Offloads & ~WINTUN_OFFLOAD_ALL) {
		wt_err("session options: unknown offloads 0x%x", opt.Offloads & ~WINTUN_OFFLOAD_ALL);
		return -EINVAL;
	}
	o->offloads = !o->offload ? 0 : opt.Offloads ? opt.Offloads : WINTUN_OFFLOAD_ALL;
	o->share = opt.ShareEngineWith;
	o->extra_queue = opt.Flags & WINTUN_SESSION_EXTRA_QUEUE;
	return 0;
}

/* Offload mode: negotiate the offloads, and keep the kernel's super-packets
 * within a record (virtio_net_hdr + packet <= 0xFFFF). */
static int enable_offloads(WINTUN_ADAPTER_HANDLE a, int fd, const char *name,
			   struct wt_start_opts *o)
{
	uint32_t on;
	int ret = wt_offload_enable(fd, name, o->offloads, &on);

	if (ret)
		return ret;
	o->offloads = on;
	if (on & (WINTUN_OFFLOAD_TSO4 | WINTUN_OFFLOAD_TSO6 | WINTUN_OFFLOAD_USO4 |
		  WINTUN_OFFLOAD_USO6) &&
	    !WintunSetAdapterGsoMaxSize(a, WINTUN_RING_MAX_PACKET_SIZE - WINTUN_VNET_HDR_SIZE))
		wt_warn("%s: cannot bound the GSO size (%s); super-packets above %u bytes would "
			"be dropped as truncated",
			name, strerror(errno), WINTUN_RING_MAX_PACKET_SIZE - WINTUN_VNET_HDR_SIZE);
	return 0;
}

/* An extra queue's engine: on a CPU of its own within the set, unless the
 * caller placed it or shares an engine.  Returns the CPU picked, which the
 * set counts already, or -1. */
static int place_extra(WINTUN_ADAPTER_HANDLE a, struct wt_start_opts *o)
{
	if (!o->extra_queue || o->cpu >= 0 || o->share)
		return -1;
	o->cpu = wt_adapter_pick_cpu(a);
	return o->cpu;
}

/* Open a queue and start the session on it (the adapter is claimed). */
static int start_on_queue(WINTUN_ADAPTER_HANDLE a, const struct wt_start_opts *o,
			  const WINTUN_REGISTER_RINGS *raw, struct wintun_session **out)
{
	struct wt_start_opts named = *o; /* names this frame's buffer: stays here */
	char name[IFNAMSIZ];
	int fd, ret;

	ret = wt_adapter_open_queue(a, o->offload, &fd);
	if (ret)
		return ret;
	if (wt_adapter_name(a, name) == 0)
		named.name = name;
	if (o->offload) {
		ret = enable_offloads(a, fd, name, &named);
		if (ret)
			goto close_fd;
	}
	ret = raw ? wt_session_start_raw(fd, raw, &named, out) : wt_session_start(fd, &named, out);
	if (ret)
		goto close_fd;
	return 0;
close_fd:
	close(fd);
	return ret;
}

/* Claim the adapter (or join its set), open a queue and start the session. */
static int start_on_adapter(WINTUN_ADAPTER_HANDLE a, const struct wt_start_opts *o,
			    const WINTUN_REGISTER_RINGS *raw, struct wintun_session **out)
{
	struct wt_start_opts placed = *o;
	int ret, picked, cpu;

	ret = wt_adapter_claim_queue(a, o->extra_queue, o->offload);
	if (ret)
		return ret;
	picked = place_extra(a, &placed);
	ret = start_on_queue(a, &placed, raw, out);
	if (ret) {
		wt_adapter_count_cpu(a, picked, -1);
		wt_adapter_release_session(a);
		return ret;
	}
	cpu = wt_engine_cpu((*out)->engine);
	if (cpu != picked) {
		wt_adapter_count_cpu(a, picked, -1);
		wt_adapter_count_cpu(a, cpu, 1);
	}
	(*out)->adapter = a;
	return 0;
}

WINTUN_API WINTUN_SESSION_HANDLE WintunStartSessionEx(WINTUN_ADAPTER_HANDLE Adapter,
						       const WINTUN_SESSION_OPTIONS *Options)
{
	struct wintun_session *s;
	struct wt_start_opts o;
	int ret;

	if (!Adapter) {
		wt_err("WintunStartSession: adapter is NULL");
		return wt_fail_ptr(-EINVAL);
	}
	ret = options_to_start(Options, &o);
	if (!ret && !wintun_ring_capacity_valid(o.capacity)) {
		wt_err("WintunStartSession: ring capacity %u is not a power of two between %u and %u",
		       o.capacity, WINTUN_MIN_RING_CAPACITY, WINTUN_MAX_RING_CAPACITY);
		ret = -EINVAL;
	}
	if (!ret)
		ret = start_on_adapter(Adapter, &o, NULL, &s);
	return ret ? wt_fail_ptr(ret) : s;
}

WINTUN_API WINTUN_SESSION_HANDLE WintunStartSession(WINTUN_ADAPTER_HANDLE Adapter,
						     uint32_t Capacity)
{
	WINTUN_SESSION_OPTIONS o = { .Size = sizeof(o), .Capacity = Capacity };

	if (Adapter && !wintun_ring_capacity_valid(Capacity)) {
		if (Capacity & (Capacity - 1))
			wt_err("WintunStartSession: ring capacity %u is not a power of two", Capacity);
		else
			wt_err("WintunStartSession: ring capacity %u is out of range (%u..%u)",
			       Capacity, WINTUN_MIN_RING_CAPACITY, WINTUN_MAX_RING_CAPACITY);
		return wt_fail_ptr(-EINVAL);
	}
	return WintunStartSessionEx(Adapter, &o);
}

WINTUN_API WINTUN_SESSION_HANDLE WintunRegisterRings(WINTUN_ADAPTER_HANDLE Adapter,
						      const WINTUN_REGISTER_RINGS *Rings)
{
	struct wintun_session *s;
	struct wt_start_opts o;
	int ret;

	if (!Adapter || !Rings) {
		wt_err("WintunRegisterRings: %s is NULL", Adapter ? "Rings" : "adapter");
		return wt_fail_ptr(-EINVAL);
	}
	options_to_start(NULL, &o);
	ret = start_on_adapter(Adapter, &o, Rings, &s);
	return ret ? wt_fail_ptr(ret) : s;
}

WINTUN_API void WintunEndSession(WINTUN_SESSION_HANDLE Session)
{
	struct wintun_adapter *a;

	if (!Session) {
		wt_err("WintunEndSession: session is NULL");
		errno = EINVAL;
		return;
	}
	a = Session->adapter;
	if (a)
		wt_adapter_count_cpu(a, wt_engine_cpu(Session->engine), -1);
	wt_session_end(Session);
	if (a) {
		/* (Not for refused starts: their queue never reached an engine.) */
		atomic_store(&a->last_end_ns, wt_now_ns());
		wt_adapter_release_session(a);
	}
}

static void copy_dir(WINTUN_DIRECTION_STATISTICS *d, struct wt_dir_stats *s)
{
	d->Packets = wt_stat_get(&s->packets);
	d->Bytes = wt_stat_get(&s->bytes);
	d->DropRingFull = wt_stat_get(&s->drop_ring_full);
	d->DropTruncated = wt_stat_get(&s->drop_truncated);
	d->DropNonIp = wt_stat_get(&s->drop_non_ip);
	d->DropBogus = wt_stat_get(&s->drop_bogus);
	d->DropWriteError = wt_stat_get(&s->drop_write_error);
	d->Batches = wt_stat_get(&s->batches);
	d->Wakeups = wt_stat_get(&s->wakeups);
}

WINTUN_API bool WintunGetSessionStatistics(WINTUN_SESSION_HANDLE Session,
					   WINTUN_SESSION_STATISTICS *Stats)
{
	WINTUN_SESSION_STATISTICS all = { .Size = sizeof(all) };
	uint32_t size;

	if (!Session || !Stats) {
		wt_err("WintunGetSessionStatistics: %s is NULL", Session ? "Stats" : "session");
		return wt_fail_bool(-EINVAL);
	}
	size = Stats->Size;
	if (size < sizeof(uint32_t) || size > sizeof(all)) {
		wt_err("WintunGetSessionStatistics: Size %u is not a known size (expected %zu)",
		       size, sizeof(all));
		return wt_fail_bool(-EINVAL);
	}
	copy_dir(&all.Rx, &Session->stats.rx);
	copy_dir(&all.Tx, &Session->stats.tx);
	if (Session->engine) {
		all.IoUringEnterCalls = wt_engine_enter_calls(Session->engine);
		all.EngineCpu = wt_engine_cpu(Session->engine);
		all.EngineThreadId = wt_engine_tid(Session->engine);
		all.Offloads = Session->offloads;
		all.Features = wt_engine_port_features(Session->port);
	}
	all.RxRingFullEpisodes = wt_stat_get(&Session->stats.rx.ring_full_episodes);
	/* An older caller's smaller struct gets the fields it knows. */
	memcpy(Stats, &all, size);
	Stats->Size = size;
	return true;
}
