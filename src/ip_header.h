/* SPDX-License-Identifier: MIT */
/*
 * The one place that reads IP packets: network-order field access, the
 * virtio_net_hdr's little-endian fields, and the IPv4/IPv6 header parser used
 * by the engine's TX walk, its coalescer (GRO) and the split (GSO).  Packets
 * come from the client's ring: every length is checked against the bytes
 * there are.
 */
#ifndef WINTUN_IP_HEADER_H
#define WINTUN_IP_HEADER_H

#include <stdbool.h>
#include <stdint.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* newer than some kernel headers */
#endif

static inline uint16_t wt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t wt_get32(const uint8_t *p)
{
	return (uint32_t)wt_get16(p) << 16 | wt_get16(p + 2);
}

static inline void wt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* virtio_net_hdr fields are little-endian (the TUN default). */
static inline uint16_t wt_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void wt_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

struct wt_ip_hdr {
	uint32_t hlen;  /* header length: IPv4 IHL x 4; IPv6 40 (no extension headers) */
	uint8_t proto;  /* IPv4 protocol; IPv6 next header */
	bool v6;
	bool fragment;  /* IPv4: more fragments or a fragment offset */
};

/*
 * The EtherType of a packet the Windows driver accepts (IPv4 of at least 20
 * bytes, IPv6 of at least 40), or 0: what the engine writes to TUN.
 */
uint16_t wt_ip_ethertype(const uint8_t *pkt, uint32_t len);

/*
 * Parse the IPv4 or IPv6 header at @pkt, whose length field must say exactly
 * @len bytes (the record's).  Returns true with *h filled, false if it is
 * not such a packet.
 */
bool wt_ip_hdr_parse(const uint8_t *pkt, uint32_t len, struct wt_ip_hdr *h);

#endif
