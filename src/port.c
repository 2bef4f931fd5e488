/* SPDX-License-Identifier: MIT */
/* Creating and freeing ports (the engine-side state of a session). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "engine_internal.h"
#include "log.h"

static bool same_ns(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

/*
 * A socket in the device's network namespace, for SIOCGIFMTU: the device may
 * have been moved out of the caller's namespace.
 */
static int open_mtu_socket(int tun_fd)
{
	int dev_ns = ioctl(tun_fd, TUNGETDEVNETNS);
	int own_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int sock = -1, err = 0;

	if (dev_ns < 0 || own_ns < 0 || same_ns(dev_ns, own_ns)) {
		sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		err = sock < 0 ? -errno : 0;
	} else if (setns(dev_ns, CLONE_NEWNET) < 0) {
		err = -errno;
	} else {
		sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		err = sock < 0 ? -errno : 0;
		if (setns(own_ns, CLONE_NEWNET) < 0)
			wt_err("cannot return to the caller's network namespace: %s",
			       strerror(errno));
	}
	if (dev_ns >= 0)
		close(dev_ns);
	if (own_ns >= 0)
		close(own_ns);
	return sock >= 0 ? sock : err;
}

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
	p->mtu_sock = open_mtu_socket(tun_fd);
	if (p->mtu_sock < 0) {
		ret = p->mtu_sock;
		wt_err("cannot open a socket to follow the MTU: %s", strerror(-ret));
		goto free_port;
	}
	ret = wt_rx_probe_mtu(p);
	if (ret) {
		wt_err("cannot read the TUN device's name and MTU: %s", strerror(-ret));
		goto close_sock;
	}
	wt_rx_init(p, po->batch_max);
	p->rx_multishot = po->rx_multishot;
	/* The index registration checked, not a reload the client may have
	 * changed since. */
	p->tx_head = p->tx_walk = rings->start.recv_head;
	*out = p;
	return 0;
close_sock:
	close(p->mtu_sock);
free_port:
	free(p->tx_iov);
	free(p);
	return ret;
}

static void port_free(struct wt_port *p)
{
	close(p->mtu_sock);
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
