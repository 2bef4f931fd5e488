/* SPDX-License-Identifier: MIT */
/* Wintun 0.1 bundles: the parser for writes, the writer for reads. */
#include <errno.h>
#include <string.h>

#include "bundle.h"
#include "ip_header.h"
#include "log.h"
#include "wintun.h"

static bool all_zero(const uint8_t *p, uint32_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* Check the record at @off; its packet length in *len.  Returns 0 or
 * -EINVAL after logging what is wrong there. */
static int check_record(const uint8_t *buf, uint32_t size, uint32_t off, uint32_t *len)
{
	uint32_t n, span;

	if (size - off < WT_BUNDLE_HDR_LEN) {
		wt_err("bundle: %u bytes at offset %u are too few for a record header",
		       size - off, off);
		return -EINVAL;
	}
	memcpy(&n, buf + off, sizeof(n)); /* native endian, maybe unaligned */
	if (n == 0 || n > WINTUN_MAX_IP_PACKET_SIZE) {
		wt_err("bundle: packet size %u at offset %u is not within 1..%u", n, off,
		       WINTUN_MAX_IP_PACKET_SIZE);
		return -EINVAL;
	}
	if (!all_zero(buf + off + 4, WT_BUNDLE_HDR_LEN - 4)) {
		wt_err("bundle: the 12 bytes after the size at offset %u are not zero", off);
		return -EINVAL;
	}
	span = wt_bundle_record_len(n);
	if (span > size - off) {
		wt_err("bundle: the %u-byte packet at offset %u (%u bytes with padding) runs "
		       "past the end of the %u-byte bundle",
		       n, off, span, size);
		return -EINVAL;
	}
	if (!all_zero(buf + off + WT_BUNDLE_HDR_LEN + n, span - WT_BUNDLE_HDR_LEN - n)) {
		wt_err("bundle: padding after the packet at offset %u is not zero", off);
		return -EINVAL;
	}
	if (!wt_ip_ethertype(buf + off + WT_BUNDLE_HDR_LEN, n)) {
		wt_err("bundle: the packet at offset %u is not an IPv4 or IPv6 packet", off);
		return -EINVAL;
	}
	*len = n;
	return 0;
}

int wt_bundle_parse(const uint8_t *buf, uint32_t size, struct wt_bundle_pkt *pkts)
{
	uint32_t off = 0, len = 0;
	int n = 0, ret;

	while (off < size) {
		if (n == WINTUN_MAX_BUNDLE_PACKETS) {
			wt_err("bundle: more than %u packets (the next one at offset %u)",
			       WINTUN_MAX_BUNDLE_PACKETS, off);
			return -EINVAL;
		}
		ret = check_record(buf, size, off, &len);
		if (ret)
			return ret;
		pkts[n].data = buf + off + WT_BUNDLE_HDR_LEN;
		pkts[n].len = len;
		n++;
		off += wt_bundle_record_len(len);
	}
	return n;
}

uint32_t wt_bundle_put(uint8_t *buf, uint32_t room, const uint8_t *pkt, uint32_t len)
{
	uint32_t span = wt_bundle_record_len(len);

	if (span > room)
		return 0;
	memcpy(buf, &len, sizeof(len));
	memset(buf + 4, 0, WT_BUNDLE_HDR_LEN - 4);
	memcpy(buf + WT_BUNDLE_HDR_LEN, pkt, len);
	memset(buf + WT_BUNDLE_HDR_LEN + len, 0, span - WT_BUNDLE_HDR_LEN - len);
	return span;
}
