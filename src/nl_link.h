/* SPDX-License-Identifier: MIT */
/* Network links over route netlink: query, list, change, delete. */
#ifndef WINTUN_NL_LINK_H
#define WINTUN_NL_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "netlink.h"

#define WT_IFALIASZ 256 /* the kernel's IFALIASZ */

/* What the library needs to know about a link. */
struct wt_nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	char alias[WT_IFALIASZ];
	char kind[16]; /* IFLA_INFO_KIND, "" if none */
	uint32_t mtu;
	uint32_t gso_max_size;
	unsigned int flags; /* IFF_* */
	/* TUN details (IFLA_INFO_DATA), valid when kind is "tun". */
	uint8_t tun_type; /* IFF_TUN or IFF_TAP */
	bool tun_pi, tun_vnet_hdr, tun_multi_queue, tun_persist;
};

/* Get one link by @ifindex (> 0) or else by @name.  -ENODEV if none. */
int wt_nl_link_get(struct wt_nl *nl, int ifindex, const char *name, struct wt_nl_link *out);

/* All links of the socket's namespace; free(*links) afterwards. */
int wt_nl_link_list(struct wt_nl *nl, struct wt_nl_link **links, size_t *count);

/* RTM_NEWLINK changes on an existing link. */
int wt_nl_link_set_alias(struct wt_nl *nl, int ifindex, const char *alias);
int wt_nl_link_set_name(struct wt_nl *nl, int ifindex, const char *name);
int wt_nl_link_set_mtu(struct wt_nl *nl, int ifindex, uint32_t mtu);
int wt_nl_link_set_gso_max_size(struct wt_nl *nl, int ifindex, uint32_t size);
int wt_nl_link_set_up(struct wt_nl *nl, int ifindex, bool up);
int wt_nl_link_set_netns(struct wt_nl *nl, int ifindex, int netns_fd);

/* RTM_DELLINK: removes the link whoever holds it open. */
int wt_nl_link_delete(struct wt_nl *nl, int ifindex);

#endif
