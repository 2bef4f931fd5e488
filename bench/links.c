/* SPDX-License-Identifier: MIT */
/*
 * Netlink set-up the ioctls of netns.c cannot do: a veth pair whose second
 * end lives in another namespace (the kernel bound of the tcp scenarios), and
 * the GSO maximum size of the offload devices (their super-packets must fit a
 * ring record, as WintunStartSessionEx arranges for adapters).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "links.h"
#include "src/netlink.h"
#include "src/nl_link.h"

int wb_veth_create(const char *name, const char *peer, int peer_ns_fd)
{
	char buf[WT_NL_MSG_SIZE];
	struct wt_nl nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi, *peer_ifi;
	struct nlattr *info, *data, *peer_attr;
	int ret = wt_nl_open(&nl, -1);

	if (ret)
		return ret;
	nlh = wt_nl_msg(&nl, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* VETH_INFO_PEER carries an ifinfomsg, then the peer's attributes. */
	peer_attr = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	peer_ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*peer_ifi));
	peer_ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	mnl_attr_nest_end(nlh, peer_attr);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	ret = wt_nl_request(&nl, nlh, NULL, NULL);
	if (ret)
		fprintf(stderr, "wintun-bench: veth pair %s/%s: %s%s%s\n", name, peer,
			strerror(-ret), nl.ext_msg[0] ? ": " : "", nl.ext_msg);
	wt_nl_close(&nl);
	return ret;
}

int wb_set_gso_max_size(const char *name, uint32_t size)
{
	struct wt_nl nl;
	unsigned idx = if_nametoindex(name);
	int ret;

	if (!idx)
		return -errno;
	ret = wt_nl_open(&nl, -1);
	if (ret)
		return ret;
	ret = wt_nl_link_set_gso_max_size(&nl, (int)idx, size);
	wt_nl_close(&nl);
	return ret;
}
