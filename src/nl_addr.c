/* SPDX-License-Identifier: MIT */
#include "nl_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

static unsigned int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int wt_ip_parse(const char *text, int family, struct wt_cidr *out)
{
	memset(out, 0, sizeof(*out));
	if ((family == AF_UNSPEC || family == AF_INET) && inet_pton(AF_INET, text, out->addr) == 1)
		out->family = AF_INET;
	else if ((family == AF_UNSPEC || family == AF_INET6) &&
		 inet_pton(AF_INET6, text, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	out->prefix = (uint8_t)(addr_len(out->family) * 8);
	return 0;
}

int wt_cidr_parse(const char *text, struct wt_cidr *out)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long prefix;
	char *end;
	int ret;

	if (len == 0 || len >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, text, len);
	ip[len] = '\0';
	ret = wt_ip_parse(ip, AF_UNSPEC, out);
	if (ret || !slash)
		return ret;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (errno || *end || prefix > (unsigned long)addr_len(out->family) * 8)
		return -EINVAL;
	out->prefix = (uint8_t)prefix;
	return 0;
}

int wt_nl_addr_change(struct wt_nl *nl, int ifindex, const struct wt_cidr *a, bool add)
{
	char buf[WT_NL_MSG_SIZE];
	struct nlmsghdr *nlh = wt_nl_msg(nl, buf, add ? RTM_NEWADDR : RTM_DELADDR,
					 add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = a->prefix;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/* IFA_LOCAL is the interface's own address; on a point-to-point link
	 * IFA_ADDRESS would be the peer, here it is the same. */
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(a->family), a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(a->family), a->addr);
	return wt_nl_request(nl, nlh, NULL, NULL);
}

int wt_nl_route_change(struct wt_nl *nl, int ifindex, const struct wt_cidr *dst,
		       const struct wt_cidr *gw, uint32_t metric, bool add)
{
	char buf[WT_NL_MSG_SIZE];
	struct nlmsghdr *nlh = wt_nl_msg(nl, buf, add ? RTM_NEWROUTE : RTM_DELROUTE,
					 add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = (uint8_t)dst->family;
	rtm->rtm_dst_len = dst->prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	/* Without a gateway the destination is on the link itself. */
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (!add)
		rtm->rtm_scope = RT_SCOPE_NOWHERE; /* match any scope */
	if (dst->prefix)
		mnl_attr_put(nlh, RTA_DST, addr_len(dst->family), dst->addr);
	if (gw)
		mnl_attr_put(nlh, RTA_GATEWAY, addr_len(gw->family), gw->addr);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, metric);
	return wt_nl_request(nl, nlh, NULL, NULL);
}
