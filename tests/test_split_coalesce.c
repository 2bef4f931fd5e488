/* SPDX-License-Identifier: MIT */
/*
 * Split -> coalesce round trip, with no TUN device: a super-packet as the
 * kernel hands it over on a TUN read (virtio_net_hdr + IPv4/IPv6 TCP or UDP,
 * transport checksum left partial) is split by WintunSplitPacketToSession
 * into the Receive ring of an offload-mode session, and the engine's TX walk
 * with coalescing on (engine_tx.c + engine_tx_gro.c, io_uring stubbed:
 * tests/tx_harness.c) must merge the segments back into one write whose
 * bytes, after the tun_pi, are the original record's, byte for byte.
 *
 * One field may differ, and only where the kernel's own value is a hint:
 * hdr_len (see hdr_len_comes_back_as_the_header_length below).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "pktbuild.h"
#include "tx_harness.h"
#include "wintun.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* newer than some kernel headers */
#endif

#define VNET WINTUN_VNET_HDR_SIZE
#define PI_SIZE 4u /* struct tun_pi, written over the first record's Size */
#define TCP_ACK 0x10
#define TCP_PSH 0x08

/* A super-packet as a TUN read returns it. */
struct super {
	bool v6;
	uint8_t proto;
	uint16_t mss;      /* gso_size */
	uint32_t payload;  /* transport payload bytes, all segments */
	uint16_t linear;   /* payload bytes in the skb's linear part */
};

static uint8_t orig[WINTUN_RING_MAX_PACKET_SIZE];
static uint8_t merged[PI_SIZE + WINTUN_RING_MAX_PACKET_SIZE];

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void put_le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint32_t ip_hlen(const struct super *c)
{
	return c->v6 ? 40 : 20;
}

/* TCP with the timestamps option, as Linux sends it: 32 bytes. */
static uint32_t l4_hlen(const struct super *c)
{
	return c->proto == IPPROTO_TCP ? 32 : 8;
}

static uint32_t check_at(const struct super *c)
{
	return c->proto == IPPROTO_TCP ? 16 : 6; /* offsetof(struct tcphdr/udphdr, check) */
}

/* What a CHECKSUM_PARTIAL skb holds in its transport checksum field: the
 * pseudo-header sum over the whole super-packet's transport length, folded
 * and not complemented (~csum_tcpudp_magic(..., 0) in __tcp_v4_send_check
 * and udp4_hwcsum; ~csum_ipv6_magic for IPv6).  Computed here with the
 * textbook sum of pktbuild.c, not the library's. */
static uint16_t pseudo_partial(const uint8_t *ip, bool v6, uint8_t proto, uint32_t l4_len)
{
	uint8_t ph[40] = { 0 };

	if (v6) {
		memcpy(ph, ip + 8, 32);
		put32(ph + 32, l4_len);
		ph[39] = proto;
		return (uint16_t)~pb_csum(ph, 40, 0);
	}
	memcpy(ph, ip + 12, 8);
	ph[9] = proto;
	put16(ph + 10, l4_len);
	return (uint16_t)~pb_csum(ph, 12, 0);
}

/* virtio_net_hdr_from_skb() for a GSO skb with CHECKSUM_PARTIAL on a TUN
 * device (no link header, little-endian fields). */
static void build_vnet(uint8_t *vnet, const struct super *c)
{
	vnet[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vnet[1] = c->proto == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4
		  : c->v6		  ? VIRTIO_NET_HDR_GSO_TCPV6
					  : VIRTIO_NET_HDR_GSO_TCPV4;
	put_le16(vnet + 2, ip_hlen(c) + l4_hlen(c) + c->linear); /* skb_headlen() */
	put_le16(vnet + 4, c->mss);
	put_le16(vnet + 6, ip_hlen(c)); /* skb_checksum_start_offset() */
	put_le16(vnet + 8, check_at(c));
}

/* Non-default traffic class and flow label, TOS and TTL: they must survive. */
static void build_ip(uint8_t *ip, const struct super *c, uint32_t l4_len)
{
	if (c->v6) {
		ip[0] = 0x62; /* version 6, traffic class 0x28 */
		ip[1] = 0x8A; /* flow label 0xABCDE */
		ip[2] = 0xBC;
		ip[3] = 0xDE;
		put16(ip + 4, l4_len);
		ip[6] = c->proto;
		ip[7] = 63;
		inet_pton(AF_INET6, "fd00::1", ip + 8);
		inet_pton(AF_INET6, "fd00::2", ip + 24);
		return;
	}
	ip[0] = 0x45;
	ip[1] = 0x28;
	put16(ip + 2, 20 + l4_len);
	/* The super-packet's ID is its first segment's; the segments count up
	 * from it (inet_gso_segment), here across the 16-bit wrap. */
	put16(ip + 4, 0xFFFE);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 63;
	ip[9] = c->proto;
	inet_pton(AF_INET, "10.0.0.1", ip + 12);
	inet_pton(AF_INET, "10.0.0.2", ip + 16);
	put16(ip + 10, pb_csum(ip, 20, 0)); /* ip_send_check() on the whole packet */
}

static void build_l4(uint8_t *l4, const struct super *c, uint32_t l4_len)
{
	put16(l4, 40000);
	put16(l4 + 2, 5201);
	if (c->proto == IPPROTO_UDP) {
		put16(l4 + 4, l4_len);
		return;
	}
	put32(l4 + 4, 0xFFFFF000); /* the segments' sequence numbers wrap */
	put32(l4 + 8, 0x01020304);
	l4[12] = (uint8_t)(l4_hlen(c) / 4 << 4);
	l4[13] = TCP_ACK | TCP_PSH; /* tcp_push: PSH on the super-packet */
	put16(l4 + 14, 0x01F5);
	l4[20] = 1; /* NOP, NOP, timestamps */
	l4[21] = 1;
	l4[22] = 8;
	l4[23] = 10;
	put32(l4 + 24, 0x11223344);
	put32(l4 + 28, 0x55667788);
}

/* The record (virtio_net_hdr + IP packet) a TUN read would return. */
static uint32_t build_super(uint8_t *rec, const struct super *c)
{
	uint8_t *ip = rec + VNET, *l4 = ip + ip_hlen(c);
	uint32_t l4_len = l4_hlen(c) + c->payload;

	memset(rec, 0, VNET + ip_hlen(c) + l4_hlen(c));
	build_vnet(rec, c);
	build_ip(ip, c, l4_len);
	build_l4(l4, c, l4_len);
	for (uint32_t i = 0; i < c->payload; i++)
		l4[l4_hlen(c) + i] = (uint8_t)(i * 131 + (i >> 9));
	put16(l4 + check_at(c), pseudo_partial(ip, c->v6, c->proto, l4_len));
	return VNET + ip_hlen(c) + l4_len;
}

/* Where byte @off of a record is, for a failure message. */
static const char *where(const struct super *c, uint32_t off)
{
	static const char *vnet_fields[] = { "flags", "gso_type", "hdr_len", "hdr_len",
					     "gso_size", "gso_size", "csum_start", "csum_start",
					     "csum_offset", "csum_offset" };
	static char buf[80];
	uint32_t ip = VNET, l4 = ip + ip_hlen(c), data = l4 + l4_hlen(c);

	if (off < ip)
		snprintf(buf, sizeof(buf), "virtio_net_hdr byte %u (%s)", off, vnet_fields[off]);
	else if (off < l4)
		snprintf(buf, sizeof(buf), "IP header byte %u", off - ip);
	else if (off < data)
		snprintf(buf, sizeof(buf), "%s header byte %u",
			 c->proto == IPPROTO_TCP ? "TCP" : "UDP", off - l4);
	else
		snprintf(buf, sizeof(buf), "payload byte %u", off - data);
	return buf;
}

/*
 * Split @rec into an offload-mode session's Receive ring, let the engine's
 * TX walk coalesce it, and return the length of its one write, whose bytes
 * (iovecs concatenated) are left in merged[].
 */
static uint32_t split_and_coalesce(const uint8_t *rec, uint32_t len, uint32_t segs)
{
	struct tx_harness *h;
	const struct txh_write *w;
	WINTUN_RING *ring;
	uint32_t got = 0, n;

	cr_assert_eq(txh_create(WINTUN_RING_MIN_CAPACITY, &h), 0);
	ring = h->session->rings.desc.Receive.Ring;
	h->session->vnet_hdr = true;
	txh_reset_port(h, true, true, WINTUN_OFFLOAD_ALL);
	n = WintunSplitPacketToSession(rec, len, h->session);
	cr_assert_eq(n, segs, "split into %u segments, not %u (%s)", n, segs,
		     n ? "" : strerror(errno));
	cr_assert(wt_tx_pump(&h->engine, &h->port));
	cr_assert_eq(h->npending, 1, "%u writes, not one super-packet", h->npending);
	w = &h->pending[0];
	cr_assert_eq(w->n, segs, "%u iovecs for %u segments", w->n, segs);
	cr_assert_leq(w->len, sizeof(merged));
	for (unsigned i = 0; i < w->n; i++) {
		memcpy(merged + got, w->iov[i].iov_base, w->iov[i].iov_len);
		got += (uint32_t)w->iov[i].iov_len;
	}
	/* The kernel took it all: every record is freed. */
	txh_complete(h, 0, (int)w->len);
	cr_expect_eq(ring->Head, ring->Tail, "Head %u, Tail %u", ring->Head, ring->Tail);
	cr_expect_eq(wt_stat_get(&h->stats.tx.packets), segs);
	cr_expect_eq(wt_stat_get(&h->stats.tx.drop_write_error), 0);
	cr_expect(!h->port.dead && !h->port.tx_stopped);
	txh_destroy(h);
	return got;
}

/* The merged write must be the tun_pi, then @want byte for byte, except
 * for the bytes [@skip, @skip + @nskip) that the caller checks itself. */
static void expect_same(const struct super *c, const uint8_t *want, uint32_t len, uint32_t got,
			uint32_t skip, uint32_t nskip)
{
	uint8_t pi[PI_SIZE] = { 0, 0, c->v6 ? ETH_P_IPV6 >> 8 : ETH_P_IP >> 8,
				c->v6 ? ETH_P_IPV6 & 0xFF : ETH_P_IP & 0xFF };

	cr_assert_eq(got, PI_SIZE + len, "wrote %u bytes for a %u-byte record", got, len);
	cr_assert_arr_eq(merged, pi, PI_SIZE, "tun_pi");
	for (uint32_t i = 0; i < len; i++) {
		if (i >= skip && i < skip + nskip)
			continue;
		cr_assert_eq(merged[PI_SIZE + i], want[i],
			     "%s: 0x%02x after the round trip, 0x%02x before", where(c, i),
			     merged[PI_SIZE + i], want[i]);
	}
}

static void round_trip(const struct super *c)
{
	uint32_t len = build_super(orig, c);
	uint32_t segs = (c->payload + c->mss - 1) / c->mss;

	expect_same(c, orig, len, split_and_coalesce(orig, len, segs), 0, 0);
}

Test(split_coalesce, tcp4)
{
	round_trip(&(struct super){ .proto = IPPROTO_TCP, .mss = 1448, .payload = 5 * 1448 + 700 });
}

Test(split_coalesce, tcp6)
{
	round_trip(&(struct super){
		.v6 = true, .proto = IPPROTO_TCP, .mss = 1428, .payload = 7 * 1428 + 1 });
}

Test(split_coalesce, udp4)
{
	round_trip(&(struct super){ .proto = IPPROTO_UDP, .mss = 1200, .payload = 3 * 1200 + 100 });
}

Test(split_coalesce, udp6)
{
	round_trip(&(struct super){
		.v6 = true, .proto = IPPROTO_UDP, .mss = 1232, .payload = 4 * 1232 + 17 });
}

/* No short last segment: PSH must still come back (from the last one). */
Test(split_coalesce, tcp4_last_segment_full)
{
	round_trip(&(struct super){ .proto = IPPROTO_TCP, .mss = 1448, .payload = 4 * 1448 });
}

/* As many segments as one coalesced write carries (WT_GRO_MAX_SEGS). */
Test(split_coalesce, tcp4_most_segments)
{
	round_trip(&(struct super){ .proto = IPPROTO_TCP, .mss = 1448,
				    .payload = (WT_GRO_MAX_SEGS - 1) * 1448 + 1000 });
}

/*
 * The one exception.  On a read the kernel fills hdr_len with
 * skb_headlen(), the length of the skb's linear part: "a hint as to how much
 * should be linear" (virtio_net_hdr_from_skb).  For TCP and UDP GSO from a
 * local socket the payload is in page fragments and hdr_len is the header
 * length, which the tests above use; a super-packet with some payload in its
 * linear part (as a forwarded one may have) reports more.  The segments
 * cannot carry that hint, and the coalescer writes the header length: what
 * the ring format documents (include/wintun/ring.h), and all the kernel's
 * write path needs (tun_get_user raises hdr_len to csum_start + csum_offset
 * + 2 and refuses one longer than the packet).  So here hdr_len comes back
 * as the header length; every other byte is the same.
 */
Test(split_coalesce, hdr_len_comes_back_as_the_header_length)
{
	struct super c = { .proto = IPPROTO_TCP, .mss = 1448, .payload = 3 * 1448 + 5,
			   .linear = 200 };
	uint32_t len = build_super(orig, &c), hdr = ip_hlen(&c) + l4_hlen(&c);

	expect_same(&c, orig, len, split_and_coalesce(orig, len, 4), 2, 2);
	cr_expect_eq((uint32_t)(merged[PI_SIZE + 2] | merged[PI_SIZE + 3] << 8), hdr, "hdr_len");
}
