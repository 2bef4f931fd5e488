/* SPDX-License-Identifier: MIT */
#include "ip_header.h"

#include <linux/if_ether.h>

uint16_t wt_ip_ethertype(const uint8_t *pkt, uint32_t len)
{
	if (len >= 20 && pkt[0] >> 4 == 4)
		return ETH_P_IP;
	if (len >= 40 && pkt[0] >> 4 == 6)
		return ETH_P_IPV6;
	return 0;
}

bool wt_ip_hdr_parse(const uint8_t *pkt, uint32_t len, struct wt_ip_hdr *h)
{
	switch (wt_ip_ethertype(pkt, len)) {
	case ETH_P_IP:
		*h = (struct wt_ip_hdr){ .hlen = (pkt[0] & 15u) * 4, .proto = pkt[9],
					 .fragment = (wt_get16(pkt + 6) & 0x3FFF) != 0 };
		return h->hlen >= 20 && h->hlen <= len && wt_get16(pkt + 2) == len;
	case ETH_P_IPV6:
		*h = (struct wt_ip_hdr){ .hlen = 40, .proto = pkt[6], .v6 = true };
		return wt_get16(pkt + 4) == len - 40;
	default:
		return false;
	}
}
