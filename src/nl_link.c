/* SPDX-License-Identifier: MIT */
#include "nl_link.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

static void copy_str(char *dst, size_t size, const struct nlattr *attr)
{
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(dst, size, "%s", mnl_attr_get_str(attr));
}

static uint8_t get_u8(const struct nlattr *attr)
{
	return mnl_attr_validate(attr, MNL_TYPE_U8) == 0 ? mnl_attr_get_u8(attr) : 0;
}

static uint32_t get_u32(const struct nlattr *attr)
{
	return mnl_attr_validate(attr, MNL_TYPE_U32) == 0 ? mnl_attr_get_u32(attr) : 0;
}

static int tun_data_attr(const struct nlattr *attr, void *data)
{
	struct wt_nl_link *l = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_TUN_TYPE:
		l->tun_type = get_u8(attr);
		break;
	case IFLA_TUN_PI:
		l->tun_pi = get_u8(attr);
		break;
	case IFLA_TUN_VNET_HDR:
		l->tun_vnet_hdr = get_u8(attr);
		break;
	case IFLA_TUN_MULTI_QUEUE:
		l->tun_multi_queue = get_u8(attr);
		break;
	case IFLA_TUN_PERSIST:
		l->tun_persist = get_u8(attr);
		break;
	}
	return MNL_CB_OK;
}

/* IFLA_LINKINFO: the kind first, so INFO_DATA is read only for tun. */
static void parse_linkinfo(const struct nlattr *info, struct wt_nl_link *l)
{
	const struct nlattr *attr, *data = NULL;

	mnl_attr_for_each_nested(attr, info) {
		if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
			copy_str(l->kind, sizeof(l->kind), attr);
		else if (mnl_attr_get_type(attr) == IFLA_INFO_DATA)
			data = attr;
	}
	if (data && strcmp(l->kind, "tun") == 0)
		mnl_attr_parse_nested(data, tun_data_attr, l);
}

static int link_attr(const struct nlattr *attr, void *data)
{
	struct wt_nl_link *l = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		copy_str(l->name, sizeof(l->name), attr);
		break;
	case IFLA_IFALIAS:
		copy_str(l->alias, sizeof(l->alias), attr);
		break;
	case IFLA_MTU:
		l->mtu = get_u32(attr);
		break;
	case IFLA_GSO_MAX_SIZE:
		l->gso_max_size = get_u32(attr);
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
			parse_linkinfo(attr, l);
		break;
	}
	return MNL_CB_OK;
}

static void parse_link(const struct nlmsghdr *nlh, struct wt_nl_link *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, l);
}

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		parse_link(nlh, data);
	return MNL_CB_OK;
}

int wt_nl_link_get(struct wt_nl *nl, int ifindex, const char *name, struct wt_nl_link *out)
{
	char buf[WT_NL_MSG_SIZE];
	struct nlmsghdr *nlh = wt_nl_msg(nl, buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex > 0 ? ifindex : 0;
	if (ifindex <= 0)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	out->ifindex = 0;
	return wt_nl_request(nl, nlh, get_cb, out);
}

struct link_list {
	struct wt_nl_link *links;
	size_t count, cap;
	int err;
};

static int list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_list *ll = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (ll->count == ll->cap) {
		size_t cap = ll->cap ? ll->cap * 2 : 16;
		struct wt_nl_link *p = realloc(ll->links, cap * sizeof(*p));

		if (!p) {
			ll->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		ll->links = p;
		ll->cap = cap;
	}
	parse_link(nlh, &ll->links[ll->count++]);
	return MNL_CB_OK;
}

static void list_restart(void *data)
{
	((struct link_list *)data)->count = 0;
}

int wt_nl_link_list(struct wt_nl *nl, struct wt_nl_link **links, size_t *count)
{
	char buf[WT_NL_MSG_SIZE];
	struct nlmsghdr *nlh = wt_nl_msg(nl, buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct link_list ll = { 0 };
	int ret;

	ifi->ifi_family = AF_UNSPEC;
	ret = wt_nl_dump(nl, nlh, list_cb, &ll, list_restart);
	if (ll.err)
		ret = ll.err;
	if (ret) {
		free(ll.links);
		return ret;
	}
	*links = ll.links;
	*count = ll.count;
	return 0;
}

/* An RTM_NEWLINK (or DELLINK) aimed at @ifindex, ready for attributes. */
static struct nlmsghdr *link_msg(struct wt_nl *nl, void *buf, uint16_t type, int ifindex)
{
	struct nlmsghdr *nlh = wt_nl_msg(nl, buf, type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int wt_nl_link_set_alias(struct wt_nl *nl, int ifindex, const char *alias)
{
	char buf[WT_NL_MSG_SIZE];
	struct nlmsghdr *nlh = link_msg(nl, buf, RTM_NEWLINK, ifindex);

	mnl_attr_put_str(nlh, IFLA_IFALIAS, alias);
	return wt_nl_request(nl, nlh, NULL, NULL);
}

int wt_nl_link_set_name(struct wt_nl *nl, int ifindex, const char *name)
{
	char buf[WT_NL_MSG_SIZE];
	struct nlmsghdr *nlh = link_msg(nl, buf, RTM_NEWLINK, ifindex);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return wt_nl_request(nl, nlh, NULL, NULL);
}

/* Set one 32-bit link attribute. */
static int link_set_u32(struct wt_nl *nl, int ifindex, uint16_t attr, uint32_t value)
{
	char buf[WT_NL_MSG_SIZE];
	struct nlmsghdr *nlh = link_msg(nl, buf, RTM_NEWLINK, ifindex);

	mnl_attr_put_u32(nlh, attr, value);
	return wt_nl_request(nl, nlh, NULL, NULL);
}

int wt_nl_link_set_mtu(struct wt_nl *nl, int ifindex, uint32_t mtu)
{
	return link_set_u32(nl, ifindex, IFLA_MTU, mtu);
}

int wt_nl_link_set_gso_max_size(struct wt_nl *nl, int ifindex, uint32_t size)
{
	return link_set_u32(nl, ifindex, IFLA_GSO_MAX_SIZE, size);
}

int wt_nl_link_set_up(struct wt_nl *nl, int ifindex, bool up)
{
	char buf[WT_NL_MSG_SIZE];
	struct nlmsghdr *nlh = link_msg(nl, buf, RTM_NEWLINK, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return wt_nl_request(nl, nlh, NULL, NULL);
}

int wt_nl_link_set_netns(struct wt_nl *nl, int ifindex, int netns_fd)
{
	char buf[WT_NL_MSG_SIZE];
	struct nlmsghdr *nlh = link_msg(nl, buf, RTM_NEWLINK, ifindex);

	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	return wt_nl_request(nl, nlh, NULL, NULL);
}

int wt_nl_link_delete(struct wt_nl *nl, int ifindex)
{
	char buf[WT_NL_MSG_SIZE];

	return wt_nl_request(nl, link_msg(nl, buf, RTM_DELLINK, ifindex), NULL, NULL);
}
