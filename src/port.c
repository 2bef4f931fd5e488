/* SPDX-License-Identifier: MIT */
/* Creating and freeing ports (the engine-side state of a session). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "engine_internal.h"
#include "log.h"
#include "port_netdev.h"

static int port_new(int tun_fd, struct wt_ring_pair *rings, struct wt_port_stats *stats,
		    const struct wt_port_opts *po, struct wt_port **out)
{
	struct wt_port *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	p->tun_fd = tun_fd;
	p->rings = rings;
	p->stats = stats;
	p->file_index = p->buf_index = -1;
	p->vnet_hdr = po->vnet_hdr;
	p->coalesce = po->vnet_hdr && po->coalesce;
	p->offloads = po->offloads;
	if (p->coalesce) {
		p->tx_iov = calloc((size_t)WT_TX_INFLIGHT_MAX * WT_GRO_MAX_SEGS, sizeof(*p->tx_iov));
		ret = -ENOMEM;
		if (!p->tx_iov)
			goto free_port;
	}
	ret = wt_netdev_open(tun_fd, &p->netdev);
	if (ret) {
		wt_err("cannot open a socket to follow the device: %s", strerror(-ret));
		goto free_port;
	}
	ret = wt_rx_probe_mtu(p);
	if (ret) {
		wt_err("cannot read the TUN device's name and MTU: %s", strerror(-ret));
		goto close_netdev;
	}
	wt_rx_init(p, po->batch_max);
	p->rx_multishot = po->rx_multishot;
	/* The index registration checked, not a reload the client may have
	 * changed since. */
	p->tx_head = p->tx_walk = rings->start.recv_head;
	*out = p;
	return 0;
close_netdev:
	wt_netdev_close(p->netdev);
free_port:
	free(p->tx_iov);
	free(p);
	return ret;
}

static void port_free(struct wt_port *p)
{
	wt_netdev_close(p->netdev);
	free(p->tx_iov);
	free(p);
}

int wt_engine_add_port(struct wt_engine *e, int tun_fd, struct wt_ring_pair *rings,
		       struct wt_port_stats *stats, const struct wt_port_opts *po,
		       struct wt_port **out)
{
	struct wt_port *p;
	int ret = port_new(tun_fd, rings, stats, po, &p);

	if (ret)
		return ret;
	p->engine = e;
	ret = wt_engine_run_cmd_add(e, p);
	if (ret) {
		port_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void wt_engine_remove_port(struct wt_engine *e, struct wt_port *p)
{
	wt_engine_run_cmd_remove(e, p);
	port_free(p);
}
