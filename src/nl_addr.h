/* SPDX-License-Identifier: MIT */
/* IP addresses and routes over route netlink, IPv4 and IPv6. */
#ifndef WINTUN_NL_ADDR_H
#define WINTUN_NL_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "netlink.h"

/* An address with prefix length, parsed from "10.0.0.1/24" or "fd00::1/64". */
struct wt_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

/*
 * Parse @text; without "/len" the prefix is the full length (a host).
 * Returns 0 or -EINVAL (not logged: the caller names what it was parsing).
 */
int wt_cidr_parse(const char *text, struct wt_cidr *out);

/* Parse a bare address of @family (AF_UNSPEC: either). */
int wt_ip_parse(const char *text, int family, struct wt_cidr *out);

/* RTM_NEWADDR (@add) or RTM_DELADDR of @a on @ifindex. */
int wt_nl_addr_change(struct wt_nl *nl, int ifindex, const struct wt_cidr *a, bool add);

/* RTM_NEWROUTE (@add) or RTM_DELROUTE in the main table: @dst via @ifindex,
 * through @gw if not NULL, with @metric. */
int wt_nl_route_change(struct wt_nl *nl, int ifindex, const struct wt_cidr *dst,
		       const struct wt_cidr *gw, uint32_t metric, bool add);

#endif
