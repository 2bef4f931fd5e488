/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "port_netdev.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "netlink.h"

struct wt_ns_id {
	dev_t dev;
	ino_t ino; /* 0: none */
};

struct wt_netdev {
	/* Route netlink in the device's namespace.  Its fd also answers
	 * SIOCGIFMTU: socket ioctls the protocol does not handle go to the
	 * namespace's devices, so one socket serves both. */
	struct wt_nl nl;
	struct wt_ns_id ns;      /* where nl lives (ino 0: the opener's, unknown) */
	struct wt_ns_id refused; /* a namespace we could not enter: not retried */
	/* The device as the queue fd last named it (TUNGETIFF), at
	 * known_ns: its name and index in ns (ifindex 0: not known).  The TUN
	 * ioctls take RTNL, which a link flapping elsewhere or a namespace's
	 * teardown can hold for long; a socket's SIOCGIFINDEX and SIOCGIFMTU
	 * look a name up under RCU only.  So while the name still gives the
	 * index, the fd is not asked again until the answer is max_age old. */
	char name[IFNAMSIZ];
	int ifindex;
	uint64_t known_ns;
	bool stats_warned;
};

static bool ns_is(const struct wt_ns_id *id, const struct stat *st)
{
	return id->ino && id->ino == st->st_ino && id->dev == st->st_dev;
}

/* Make the socket in the namespace @ns_fd, where the device now is.  On
 * failure the old socket stays (it answers ENODEV), and that namespace is
 * not tried again: each try would log, every 50 ms. */
static int reopen(struct wt_netdev *nd, int ns_fd, const struct stat *st, int tun_fd)
{
	struct wt_nl fresh;
	struct ifreq ifr;
	int ret = wt_nl_open(&fresh, ns_fd);

	if (ret && !nd->nl.sock)
		return ret; /* the first open: wt_nl_open said why */
	memset(&ifr, 0, sizeof(ifr));
	ioctl(tun_fd, TUNGETIFF, &ifr);
	if (ret) {
		nd->refused = (struct wt_ns_id){ st->st_dev, st->st_ino };
		wt_err("%s: cannot follow the device into its network namespace (%s): its MTU "
		       "and drops are no longer seen",
		       ifr.ifr_name, strerror(-ret));
		return ret;
	}
	if (nd->nl.sock)
		wt_info("%s: the device moved to another network namespace; the engine follows it",
			ifr.ifr_name);
	wt_nl_close(&nd->nl);
	nd->nl = fresh;
	nd->ns = (struct wt_ns_id){ st->st_dev, st->st_ino };
	nd->ifindex = 0; /* an index of the old namespace */
	return 0;
}

/* Have nd->nl in the device's current namespace. */
static int follow(struct wt_netdev *nd, int tun_fd)
{
	int ns = ioctl(tun_fd, TUNGETDEVNETNS);
	struct stat st;
	int ret = 0;

	/* Before Linux 5.2, or without CAP_NET_ADMIN over the device's
	 * namespace, there is no asking: stay where we are, the opener's
	 * namespace at first. */
	if (ns < 0)
		return nd->nl.sock ? 0 : wt_nl_open(&nd->nl, -1);
	if (fstat(ns, &st) < 0)
		ret = -errno;
	else if (!ns_is(&nd->ns, &st) && !ns_is(&nd->refused, &st))
		ret = reopen(nd, ns, &st, tun_fd);
	close(ns);
	return ret;
}

int wt_netdev_open(int tun_fd, struct wt_netdev **out)
{
	struct wt_netdev *nd = calloc(1, sizeof(*nd));
	int ret;

	if (!nd)
		return -ENOMEM;
	ret = follow(nd, tun_fd);
	if (ret) {
		free(nd);
		return ret;
	}
	*out = nd;
	return 0;
}

void wt_netdev_close(struct wt_netdev *nd)
{
	if (!nd)
		return;
	wt_nl_close(&nd->nl);
	free(nd);
}

static int dev_ioctl(struct wt_netdev *nd, unsigned long req, struct ifreq *ifr)
{
	return ioctl(mnl_socket_get_fd(nd->nl.sock), req, ifr) < 0 ? -errno : 0;
}

/* A socket ioctl on the device under its known name (RCU, no RTNL). */
static int known_name_ioctl(struct wt_netdev *nd, unsigned long req, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, nd->name, IFNAMSIZ);
	return dev_ioctl(nd, req, ifr);
}

/* Ask the queue fd for the device's name (RTNL), follow it into its
 * namespace and learn its index there. */
static int learn(struct wt_netdev *nd, int tun_fd)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(tun_fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	/* A failed follow keeps the old socket; its ENODEV says enough. */
	follow(nd, tun_fd);
	ret = dev_ioctl(nd, SIOCGIFINDEX, &ifr);
	if (ret)
		return ret;
	memcpy(nd->name, ifr.ifr_name, IFNAMSIZ);
	nd->ifindex = ifr.ifr_ifindex;
	nd->known_ns = wt_now_ns();
	return 0;
}

/* The known name still gives the known index in nd's namespace, and the fd
 * was asked within @max_age_ns.  A renamed, moved or deleted device fails
 * this: its name is gone, or belongs to another index. */
static bool still_known(struct wt_netdev *nd, uint64_t max_age_ns)
{
	struct ifreq ifr;

	if (!nd->ifindex || wt_now_ns() - nd->known_ns > max_age_ns)
		return false;
	return !known_name_ioctl(nd, SIOCGIFINDEX, &ifr) && ifr.ifr_ifindex == nd->ifindex;
}

int wt_netdev_check(struct wt_netdev *nd, int tun_fd, uint64_t max_age_ns)
{
	return still_known(nd, max_age_ns) ? 0 : learn(nd, tun_fd);
}

static int read_mtu(struct wt_netdev *nd, uint32_t *mtu)
{
	struct ifreq ifr;
	int ret = known_name_ioctl(nd, SIOCGIFMTU, &ifr);

	if (!ret)
		*mtu = ifr.ifr_mtu > 0 ? (uint32_t)ifr.ifr_mtu : 0;
	return ret;
}

int wt_netdev_mtu(struct wt_netdev *nd, int tun_fd, char name[IFNAMSIZ], uint32_t *mtu)
{
	int ret;

	/* Read, then checked that the name was still the device's. */
	if (!nd->ifindex || read_mtu(nd, mtu) || !still_known(nd, WT_NETDEV_TRUST_NS)) {
		ret = learn(nd, tun_fd);
		if (!ret)
			ret = read_mtu(nd, mtu);
		if (ret)
			return ret;
	}
	memcpy(name, nd->name, IFNAMSIZ);
	return 0;
}

static int stats_attr(const struct nlattr *attr, void *data)
{
	struct rtnl_link_stats64 s;

	/* Copied: the attribute is only 4-byte aligned. */
	if (mnl_attr_get_type(attr) == IFLA_STATS_LINK_64 &&
	    mnl_attr_get_payload_len(attr) >= sizeof(s)) {
		memcpy(&s, mnl_attr_get_payload(attr), sizeof(s));
		*(uint64_t *)data = s.tx_dropped;
		return MNL_CB_STOP;
	}
	return MNL_CB_OK;
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWSTATS ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct if_stats_msg))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct if_stats_msg), stats_attr, data);
	return MNL_CB_OK;
}

/* RTM_GETSTATS for the 64-bit link counters only: a reply of ~200 bytes,
 * where RTM_GETLINK would carry every attribute of the link. */
static int query_tx_dropped(struct wt_netdev *nd, uint64_t *out)
{
	char buf[WT_NL_MSG_SIZE];
	struct nlmsghdr *nlh = wt_nl_msg(&nd->nl, buf, RTM_GETSTATS, 0);
	struct if_stats_msg *ism = mnl_nlmsg_put_extra_header(nlh, sizeof(*ism));
	uint64_t v = UINT64_MAX;
	int ret;

	ism->family = AF_UNSPEC;
	ism->ifindex = (uint32_t)nd->ifindex;
	ism->filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	ret = wt_nl_request(&nd->nl, nlh, stats_cb, &v);
	if (!ret && v == UINT64_MAX)
		ret = -EBADMSG;
	if (!ret)
		*out = v;
	return ret;
}

int wt_netdev_tx_dropped(struct wt_netdev *nd, int tun_fd, uint64_t *out)
{
	int ret = wt_netdev_check(nd, tun_fd, WT_NETDEV_TRUST_NS);

	if (!ret)
		ret = query_tx_dropped(nd, out);
	if (ret && !nd->stats_warned) {
		nd->stats_warned = true;
		wt_err("cannot read the device's tx_dropped (%s): DropRingFull misses "
		       "packets the kernel dropped",
		       strerror(-ret));
	}
	return ret;
}
