/* SPDX-License-Identifier: MIT */
#include "session_lifetime.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "tun.h"

static int engine_for(const struct wt_start_opts *o, struct wt_engine **e)
{
	struct wt_engine_opts eo = {
		.cpu = o->cpu,
		/* Offload mode: no idle spin by default (see wintun.h). */
		.spin_us = o->spin_us >= 0 ? o->spin_us : o->offload ? 0 : WT_SPIN_US_DEFAULT,
		.name = o->name,
	};

	if (o->share) {
		if (!o->share->engine) {
			wt_err("the session to share an engine with has no engine");
			return -EINVAL;
		}
		*e = o->share->engine;
		wt_engine_get(*e);
		return 0;
	}
	return wt_engine_create(&eo, e);
}

static int attach(struct wintun_session *s, int tun_fd, const struct wt_start_opts *o,
		  struct wt_engine *e)
{
	struct wt_port_opts po = { .batch_max = o->batch, .rx_multishot = o->rx_multishot,
				   .vnet_hdr = o->offload, .coalesce = o->coalesce,
				   .offloads = o->offloads };
	int ret = wt_engine_add_port(e, tun_fd, &s->rings, &s->stats, &po, &s->port);

	if (ret)
		return ret;
	s->engine = e;
	s->tun_fd = tun_fd;
	wt_session_set_wait_spin(s, o->spin_us);
	s->offloads = o->offloads;
	s->vnet_hdr = o->offload;
	return 0;
}

int wt_session_start(int tun_fd, const struct wt_start_opts *o, struct wintun_session **out)
{
	struct wintun_session *s;
	struct wt_engine *e;
	int node, ret;

	ret = engine_for(o, &e);
	if (ret)
		return ret;
	node = o->numa_node >= 0 ? o->numa_node : wt_mem_node_of_cpu(wt_engine_cpu(e));
	ret = wt_session_create(o->capacity, node, o->hugepages, &s);
	if (ret)
		goto put;
	ret = attach(s, tun_fd, o, e);
	if (ret)
		goto destroy;
	*out = s;
	return 0;
destroy:
	wt_session_destroy(s);
put:
	wt_engine_put(e);
	return ret;
}

int wt_session_start_raw(int tun_fd, const WINTUN_REGISTER_RINGS *rings,
			 const struct wt_start_opts *o, struct wintun_session **out)
{
	struct wintun_session *s = calloc(1, sizeof(*s));
	struct wt_engine *e;
	int ret;

	if (!s)
		return -ENOMEM;
	ret = wt_ring_pair_adopt(&s->rings, rings);
	if (ret) {
		free(s);
		return ret;
	}
	wt_session_init_client(s);
	ret = engine_for(o, &e);
	if (ret)
		goto destroy;
	ret = attach(s, tun_fd, o, e);
	if (ret) {
		wt_engine_put(e);
		goto destroy;
	}
	*out = s;
	return 0;
destroy:
	wt_session_destroy(s);
	return ret;
}

void wt_session_end(struct wintun_session *s)
{
	/* Out of the device's queues first: the kernel steers the flows to the
	 * set's other sessions at once, instead of into a queue nobody reads
	 * while the engine winds down (its packets would die with it). */
	if (s->adapter && s->tun_fd >= 0)
		wt_tun_detach(s->tun_fd);
	if (s->engine) {
		wt_engine_remove_port(s->engine, s->port);
		wt_engine_put(s->engine);
	} else {
		/* No engine closed the rings: do it here, so that waiters see
		 * ESHUTDOWN. */
		wt_ring_pair_close(&s->rings);
	}
	/* The rings are closed and the client's event left readable: threads
	 * in WintunWaitForPacket return ESHUTDOWN; free only once they left. */
	wt_session_wait_for_waiters(s);
	if (s->tun_fd >= 0)
		close(s->tun_fd);
	wt_session_destroy(s);
}
