/* SPDX-License-Identifier: MIT */
/*
 * GRO on the way in (offload mode, opt-in): consecutive records of the
 * Receive ring that are segments of one TCP flow -- same addresses, ports,
 * ACK, options and flags, contiguous sequence numbers, all but the last a
 * full MSS, PSH ending the run -- or datagrams of one UDP flow (all but the
 * last of the same size) go to the TUN device as one super-packet,
 * in one vectored write whose iovecs point into the ring: the first record's
 * headers (rewritten in place: lengths, IPv4 checksum, a virtio_net_hdr
 * asking the kernel to segment and checksum) and every record's payload.
 * Anything else goes out as it is, in order.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>

#include "atomic.h"
#include "checksum.h"
#include "engine_internal.h"
#include "ip_header.h"
#include "wintun.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_URG 0x20
#define TCP_CWR 0x80
/* Header + payload of a merged packet, plus the vnet header, fit a record. */
#define GRO_MAX_IP_LEN (WINTUN_RING_MAX_PACKET_SIZE - WINTUN_VNET_HDR_SIZE)

struct seg {
	uint8_t *rec;   /* the record (Size field first) */
	uint8_t *ip;    /* the IP packet */
	uint32_t len;   /* IP packet length */
	uint32_t ihl, thl, payload, seq;
	uint8_t flags, proto;
	bool v6;
};

/* The offloads that allow merging this kind of packet (WINTUN_OFFLOAD_*). */
static uint32_t needed_offload(const struct seg *s)
{
	if (s->proto == IPPROTO_UDP)
		return s->v6 ? WINTUN_OFFLOAD_USO6 : WINTUN_OFFLOAD_USO4;
	return s->v6 ? WINTUN_OFFLOAD_TSO6 : WINTUN_OFFLOAD_TSO4;
}

static bool parse_l4(struct seg *s)
{
	uint8_t *l4 = s->ip + s->ihl;

	if (s->proto == IPPROTO_UDP) {
		s->thl = 8;
		if (s->ihl + 8 > s->len || wt_get16(l4 + 4) != s->len - s->ihl)
			return false;
		s->payload = s->len - s->ihl - 8;
		return s->payload > 0;
	}
	if (s->ihl + 20 > s->len)
		return false;
	s->thl = (l4[12] >> 4) * 4u;
	if (s->thl < 20 || s->ihl + s->thl > s->len)
		return false;
	s->payload = s->len - s->ihl - s->thl;
	s->seq = wt_get32(l4 + 4);
	s->flags = l4[13];
	return s->payload && !(s->flags & (TCP_FIN | TCP_SYN | TCP_RST | TCP_URG));
}

/* Parse a record as a plain TCP segment or UDP datagram that may take part
 * in a merge. */
static bool parse_seg(WINTUN_RING_PACKET *rec, uint32_t word, struct seg *s)
{
	const uint8_t *vnet = rec->Data;
	uint8_t *ip = rec->Data + WINTUN_VNET_HDR_SIZE;
	uint32_t len = word - WINTUN_VNET_HDR_SIZE;
	struct wt_ip_hdr h;

	if (word < WINTUN_VNET_HDR_SIZE + 40 || vnet[0] || vnet[1])
		return false; /* too short, or already offloaded */
	*s = (struct seg){ .rec = (uint8_t *)rec, .ip = ip, .len = len };
	/* Only plain headers merge: no IPv4 options, no fragments. */
	if (!wt_ip_hdr_parse(ip, len, &h) || (!h.v6 && (h.hlen != 20 || h.fragment)))
		return false;
	s->ihl = h.hlen;
	s->v6 = h.v6;
	s->proto = h.proto;
	return (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP) && parse_l4(s);
}

/* Same flow and can follow @prev directly (@first sets the rules). */
static bool can_follow(const struct seg *first, const struct seg *prev, const struct seg *s,
		       uint32_t total)
{
	const uint8_t *a = first->ip, *b = s->ip;

	if (s->v6 != first->v6 || s->proto != first->proto || s->ihl != first->ihl ||
	    s->thl != first->thl)
		return false;
	if (prev->payload != first->payload || s->payload > first->payload)
		return false; /* all but the last carry a full MSS */
	if (first->ihl + first->thl + total + s->payload > GRO_MAX_IP_LEN)
		return false;
	if (first->proto == IPPROTO_TCP &&
	    (prev->flags & TCP_PSH || (s->flags ^ first->flags) & ~TCP_PSH || s->flags & TCP_CWR ||
	     s->seq != first->seq + total))
		return false;
	if (first->v6 ? memcmp(a, b, 4) != 0 || memcmp(a + 8, b + 8, 32) != 0
		      : a[1] != b[1] || a[8] != b[8] || memcmp(a + 12, b + 12, 8) != 0)
		return false; /* class/flow label, TOS/TTL, addresses */
	if (first->proto == IPPROTO_UDP)
		return !memcmp(a + first->ihl, b + first->ihl, 4); /* ports */
	/* Ports, ACK, and the options must be the same (as kernel GRO). */
	return !memcmp(a + first->ihl, b + first->ihl, 4) &&
	       !memcmp(a + first->ihl + 8, b + first->ihl + 8, 4) &&
	       !memcmp(a + first->ihl + 20, b + first->ihl + 20, first->thl - 20);
}

/* Rewrite the first record into the super-packet's headers. */
static void build_headers(struct seg *f, uint32_t total, bool psh)
{
	uint32_t ip_len = f->ihl + f->thl + total, l4_len = f->thl + total;
	uint8_t *vnet = f->rec + sizeof(WINTUN_RING_PACKET), *l4 = f->ip + f->ihl;
	struct tun_pi pi = { 0, htons(f->v6 ? ETH_P_IPV6 : ETH_P_IP) };
	bool udp = f->proto == IPPROTO_UDP;
	uint16_t check_at = udp ? 6 : 16;

	if (f->v6) {
		wt_put16(f->ip + 4, (uint16_t)(ip_len - 40));
	} else {
		wt_put16(f->ip + 2, (uint16_t)ip_len);
		wt_put16(f->ip + 10, 0);
		wt_put16(f->ip + 10, wt_csum_fold(wt_csum_add(0, f->ip, 20)));
	}
	if (udp)
		wt_put16(l4 + 4, (uint16_t)l4_len);
	else if (psh)
		l4[13] |= TCP_PSH;
	/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum. */
	wt_put16(l4 + check_at,
		 (uint16_t)~wt_csum_fold(wt_csum_pseudo(f->ip, f->v6, f->proto, l4_len)));
	memset(vnet, 0, WINTUN_VNET_HDR_SIZE);
	vnet[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vnet[1] = udp	   ? VIRTIO_NET_HDR_GSO_UDP_L4
		  : f->v6 ? VIRTIO_NET_HDR_GSO_TCPV6
			  : VIRTIO_NET_HDR_GSO_TCPV4;
	wt_put_le16(vnet + 2, (uint16_t)(f->ihl + f->thl));
	wt_put_le16(vnet + 4, (uint16_t)f->payload);
	wt_put_le16(vnet + 6, (uint16_t)f->ihl);
	wt_put_le16(vnet + 8, check_at);
	memcpy(f->rec, &pi, sizeof(pi));
}

unsigned wt_tx_coalesce(struct wt_engine *e, struct wt_port *p, uint32_t tail, uint32_t word,
			unsigned slot)
{
	WINTUN_RING *ring = p->rings->desc.Receive.Ring;
	uint32_t cap = p->rings->capacity, off, total, bytes;
	struct iovec *iov = p->tx_iov + (size_t)slot * WT_GRO_MAX_SEGS;
	struct wt_tx_entry *ent = &p->tx_fifo[slot];
	struct seg first, prev, s;
	unsigned n = 1;
	bool psh;

	/* @word: the first record's Size as the caller read and validated it
	 * (the client may scribble on the ring: never read it twice). */
	if (!parse_seg(wintun_ring_record(ring, p->tx_walk), word, &first) ||
	    !(p->offloads & needed_offload(&first)) || first.flags & (TCP_PSH | TCP_CWR))
		return 0;
	prev = first;
	total = first.payload;
	bytes = first.len;
	off = wintun_ring_next(p->tx_walk, first.len + WINTUN_VNET_HDR_SIZE, cap);
	iov[0] = (struct iovec){ first.rec, sizeof(WINTUN_RING_PACKET) + WINTUN_VNET_HDR_SIZE + first.len };
	while (off != tail && n < WT_GRO_MAX_SEGS) {
		WINTUN_RING_PACKET *rec = wintun_ring_record(ring, off);
		uint32_t next_word = wt_load_relaxed(&rec->Size); /* read once, as above */

		if (!wintun_ring_record_valid(off, tail, cap, next_word, false) ||
		    !parse_seg(rec, next_word, &s) || !can_follow(&first, &prev, &s, total))
			break;
		iov[n++] = (struct iovec){ s.ip + s.ihl + s.thl, s.payload };
		total += s.payload;
		bytes += s.len;
		prev = s;
		off = wintun_ring_next(off, next_word, cap);
	}
	if (n < 2)
		return 0;
	psh = prev.flags & TCP_PSH;
	build_headers(&first, total, psh);
	*ent = (struct wt_tx_entry){ .off = p->tx_walk, .next = off, .len = bytes, .segs = (uint16_t)n,
				     .want = (uint32_t)sizeof(WINTUN_RING_PACKET) + WINTUN_VNET_HDR_SIZE +
					     first.ihl + first.thl + total };
	p->tx_count++;
	p->tx_walk = off;
	wt_uring_prep_writev(e, p, iov, n, wt_udata(p, WT_OP_TX_WRITE, slot));
	return n;
}
