/* SPDX-License-Identifier: MIT */
#include "nl_check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BUF 32768

typedef int (*nlt_cb)(const struct nlmsghdr *nlh, void *data);

/* One request, replies to @cb until the ack or DONE.  0 or -1. */
static int talk(struct nlmsghdr *nlh, nlt_cb cb, void *data)
{
	static char buf[BUF];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	unsigned int portid, seq = (unsigned int)time(NULL);
	int ret = -1;
	ssize_t n;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (ret <= MNL_CB_STOP)
			break;
	}
	ret = ret == MNL_CB_ERROR ? -1 : 0;
out:
	if (nl)
		mnl_socket_close(nl);
	return ret;
}

struct link_q {
	char *alias;
	size_t size;
	uint32_t gso;
	bool found;
};

static int link_attr(const struct nlattr *a, void *data)
{
	struct link_q *q = data;

	if (mnl_attr_get_type(a) == IFLA_IFALIAS && q->alias)
		snprintf(q->alias, q->size, "%s", mnl_attr_get_str(a));
	if (mnl_attr_get_type(a) == IFLA_GSO_MAX_SIZE)
		q->gso = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_q *q = data;

	q->found = true;
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr, q);
}

static bool get_link(const char *name, struct link_q *q)
{
	char buf[1024] = { 0 }; /* libmnl leaves attribute padding as it finds it */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK; /* the ack ends the exchange */
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = (int)if_nametoindex(name);
	if (!ifi->ifi_index)
		return false;
	return talk(nlh, link_cb, q) == 0 && q->found;
}

bool nlt_link_alias(const char *name, char *alias, size_t size)
{
	struct link_q q = { .alias = alias, .size = size };

	alias[0] = '\0';
	return get_link(name, &q);
}

uint32_t nlt_link_gso_max_size(const char *name)
{
	struct link_q q = { 0 };

	return get_link(name, &q) ? q.gso : 0;
}

bool nlt_set_alias(const char *name, const char *alias)
{
	char buf[1024] = { 0 }; /* libmnl leaves attribute padding as it finds it */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = (int)if_nametoindex(name);
	mnl_attr_put_str(nlh, IFLA_IFALIAS, alias);
	return ifi->ifi_index && talk(nlh, NULL, NULL) == 0;
}

struct route_q {
	int family;
	uint8_t dst[16], gw[16];
	unsigned plen;
	bool want_gw;
	int oif;
	uint32_t metric;
	bool found;
};

struct route_attrs {
	const struct nlattr *dst, *gw, *oif, *prio;
};

static int route_attr(const struct nlattr *a, void *data)
{
	struct route_attrs *r = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_DST:
		r->dst = a;
		break;
	case RTA_GATEWAY:
		r->gw = a;
		break;
	case RTA_OIF:
		r->oif = a;
		break;
	case RTA_PRIORITY:
		r->prio = a;
		break;
	}
	return MNL_CB_OK;
}

static bool attr_is(const struct nlattr *a, const void *bytes, size_t len)
{
	return a && mnl_attr_get_payload_len(a) == len && !memcmp(mnl_attr_get_payload(a), bytes, len);
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	size_t len = rtm->rtm_family == AF_INET ? 4 : 16;
	struct route_q *q = data;
	struct route_attrs r = { 0 };

	if (rtm->rtm_family != q->family || rtm->rtm_dst_len != q->plen ||
	    rtm->rtm_table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, &r);
	if (q->plen && !attr_is(r.dst, q->dst, len))
		return MNL_CB_OK;
	if (q->want_gw ? !attr_is(r.gw, q->gw, len) : r.gw != NULL)
		return MNL_CB_OK;
	if (!r.oif || (int)mnl_attr_get_u32(r.oif) != q->oif)
		return MNL_CB_OK;
	if ((r.prio ? mnl_attr_get_u32(r.prio) : 0) != q->metric)
		return MNL_CB_OK;
	q->found = true;
	return MNL_CB_OK;
}

bool nlt_route_exists(int family, const char *dst, unsigned plen, const char *gw, int oif,
		      uint32_t metric)
{
	struct route_q q = { .family = family, .plen = plen, .oif = oif, .metric = metric };
	char buf[1024] = { 0 }; /* libmnl leaves attribute padding as it finds it */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	if (inet_pton(family, dst, q.dst) != 1)
		return false;
	if (gw && inet_pton(family, gw, q.gw) != 1)
		return false;
	q.want_gw = gw != NULL;
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	return talk(nlh, route_cb, &q) == 0 && q.found;
}

bool nlt_has_address(const char *name, int family, const char *addr, unsigned plen)
{
	struct ifaddrs *ifs, *i;
	uint8_t want[16];
	bool found = false;

	if (inet_pton(family, addr, want) != 1 || getifaddrs(&ifs))
		return false;
	for (i = ifs; i && !found; i = i->ifa_next) {
		const void *got;
		const uint8_t *mask;
		unsigned bits = 0;
		size_t len = family == AF_INET ? 4 : 16;

		if (!i->ifa_addr || i->ifa_addr->sa_family != family || strcmp(i->ifa_name, name))
			continue;
		if (family == AF_INET) {
			got = &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr;
			mask = (const uint8_t *)&((struct sockaddr_in *)(void *)i->ifa_netmask)->sin_addr;
		} else {
			got = &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
			mask = ((struct sockaddr_in6 *)(void *)i->ifa_netmask)->sin6_addr.s6_addr;
		}
		for (size_t b = 0; b < len; b++)
			bits += (unsigned)__builtin_popcount(mask[b]);
		found = !memcmp(got, want, len) && bits == plen;
	}
	freeifaddrs(ifs);
	return found;
}

bool nlt_make_persistent_tun(const char *name, int flags)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = (short)flags;
	ok = ioctl(fd, TUNSETIFF, &ifr) == 0 && ioctl(fd, TUNSETPERSIST, 1) == 0;
	close(fd);
	return ok;
}
