/* SPDX-License-Identifier: MIT */
/*
 * GSO in software: one TCP or UDP super-packet (with the virtio_net_hdr the
 * kernel put in front of it) becomes gso_size-sized segments, each a complete
 * IP packet: IPv4 total length, ID and header checksum, or IPv6 payload
 * length; TCP sequence numbers, FIN/PSH on the last segment only and CWR on
 * the first only; UDP lengths; transport checksums computed in full.  The
 * input is untrusted: every offset is checked before use.
 */
#include "gso.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>

#include "checksum.h"
#include "ip_header.h"
#include "log.h"
#include "wintun/ring.h"

struct gso_info {
	const uint8_t *pkt;
	uint32_t len, ip_hlen, l4_hlen, mss;
	uint8_t proto;
	bool v6;
	uint16_t csum_start, csum_offset;
	uint8_t flags, gso_type;
};

static int parse_ip(struct gso_info *g)
{
	struct wt_ip_hdr h;

	/* IPv6 extension headers are not split: the next header must be TCP
	 * or UDP, checked against the GSO type below. */
	if (!wt_ip_hdr_parse(g->pkt, g->len, &h))
		return -EINVAL;
	g->ip_hlen = h.hlen;
	g->proto = h.proto;
	g->v6 = h.v6;
	return 0;
}

static int parse(const uint8_t *rec, uint32_t size, struct gso_info *g)
{
	uint8_t want;

	if (size < WINTUN_VNET_HDR_SIZE)
		return -EINVAL;
	*g = (struct gso_info){ .pkt = rec + WINTUN_VNET_HDR_SIZE,
				.len = size - WINTUN_VNET_HDR_SIZE,
				.flags = rec[0],
				.gso_type = rec[1] & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN,
				.mss = wt_get_le16(rec + 4),
				.csum_start = wt_get_le16(rec + 6),
				.csum_offset = wt_get_le16(rec + 8) };
	if (parse_ip(g))
		return -EINVAL;
	if (g->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	want = g->gso_type == VIRTIO_NET_HDR_GSO_UDP_L4 ? IPPROTO_UDP : IPPROTO_TCP;
	if (g->proto != want || !g->mss ||
	    (g->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && g->v6) ||
	    (g->gso_type == VIRTIO_NET_HDR_GSO_TCPV6 && !g->v6) ||
	    (g->gso_type != VIRTIO_NET_HDR_GSO_TCPV4 && g->gso_type != VIRTIO_NET_HDR_GSO_TCPV6 &&
	     g->gso_type != VIRTIO_NET_HDR_GSO_UDP_L4))
		return -EINVAL;
	if (want == IPPROTO_UDP)
		g->l4_hlen = 8;
	else if (g->ip_hlen + 20 <= g->len)
		g->l4_hlen = (g->pkt[g->ip_hlen + 12] >> 4) * 4u;
	/* TCP: at least the 20-byte header, which holds the sequence number,
	 * flags and checksum that every segment gets rewritten. */
	if (g->l4_hlen < (want == IPPROTO_TCP ? 20u : 8u) || g->ip_hlen + g->l4_hlen > g->len)
		return -EINVAL;
	return 0;
}

static void fix_l4_checksum(uint8_t *seg, uint32_t seg_len, const struct gso_info *g)
{
	uint8_t *l4 = seg + g->ip_hlen;
	uint32_t l4_len = seg_len - g->ip_hlen;
	uint8_t *field = l4 + (g->proto == IPPROTO_TCP ? 16 : 6);
	uint16_t c;

	wt_put16(field, 0);
	c = wt_csum_fold(wt_csum_add(wt_csum_pseudo(seg, g->v6, g->proto, l4_len), l4, l4_len));
	wt_put16(field, g->proto == IPPROTO_UDP && c == 0 ? 0xFFFF : c);
}

static void fix_ip(uint8_t *seg, uint32_t seg_len, const struct gso_info *g, uint32_t i)
{
	if (g->v6) {
		wt_put16(seg + 4, (uint16_t)(seg_len - 40));
		return;
	}
	wt_put16(seg + 2, (uint16_t)seg_len);
	wt_put16(seg + 4, (uint16_t)(wt_get16(g->pkt + 4) + i));
	wt_put16(seg + 10, 0);
	wt_put16(seg + 10, wt_csum_fold(wt_csum_add(0, seg, g->ip_hlen)));
}

static void fix_l4(uint8_t *seg, uint32_t seg_len, const struct gso_info *g, uint32_t i,
		   bool last)
{
	uint8_t *l4 = seg + g->ip_hlen;

	if (g->proto == IPPROTO_UDP) {
		wt_put16(l4 + 4, (uint16_t)(seg_len - g->ip_hlen));
	} else {
		uint32_t seq = (uint32_t)wt_get16(l4 + 4) << 16 | wt_get16(l4 + 6);

		seq += i * g->mss;
		wt_put16(l4 + 4, (uint16_t)(seq >> 16));
		wt_put16(l4 + 6, (uint16_t)seq);
		if (!last)
			l4[13] &= (uint8_t)~0x09; /* FIN, PSH: last segment only */
		if (i)
			l4[13] &= (uint8_t)~0x80; /* CWR: first segment only */
	}
	fix_l4_checksum(seg, seg_len, g);
}

/* No segmentation: copy, completing a partial checksum if asked to. */
static int pass_one(const struct gso_info *g, wt_gso_emit_fn emit, void *ctx)
{
	uint32_t at = (uint32_t)g->csum_start + g->csum_offset;
	bool csum = g->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	uint8_t *out;

	/* Check before emitting: a caller's emitted buffer is always filled. */
	if (csum && (g->csum_start >= g->len || at + 2 > g->len))
		return -EINVAL;
	out = emit(ctx, g->len);
	if (!out)
		return -ENOBUFS;
	memcpy(out, g->pkt, g->len);
	if (csum) {
		/* The field holds the pseudo-header sum already. */
		wt_put16(out + at, wt_csum_fold(wt_csum_add(0, out + g->csum_start,
							  g->len - g->csum_start)));
	}
	return 1;
}

int wt_gso_split(const uint8_t *rec, uint32_t size, wt_gso_emit_fn emit, void *ctx)
{
	struct gso_info g;
	uint32_t hdr, payload, n;

	if (parse(rec, size, &g))
		return -EINVAL;
	if (g.gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return pass_one(&g, emit, ctx);
	hdr = g.ip_hlen + g.l4_hlen;
	payload = g.len - hdr;
	n = payload ? (payload + g.mss - 1) / g.mss : 1;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = i * g.mss;
		uint32_t plen = payload - off < g.mss ? payload - off : g.mss;
		uint8_t *seg = emit(ctx, hdr + plen);

		if (!seg)
			return -ENOBUFS;
		memcpy(seg, g.pkt, hdr);
		memcpy(seg + hdr, g.pkt + hdr + off, plen);
		fix_ip(seg, hdr + plen, &g, i);
		fix_l4(seg, hdr + plen, &g, i, i + 1 == n);
	}
	return (int)n;
}
