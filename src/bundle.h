/* SPDX-License-Identifier: MIT */
/*
 * Wintun 0.1's bundle format, pure functions (no session): a bundle is a run
 * of records, each a 4-byte native-endian size, 12 zero bytes, the packet and
 * zero padding up to the next 16-byte boundary.  Bundles come from the
 * caller's buffer, possibly another process's: every byte is checked.
 */
#ifndef WINTUN_BUNDLE_H
#define WINTUN_BUNDLE_H

#include <stdint.h>

#define WT_BUNDLE_ALIGN 16u
#define WT_BUNDLE_HDR_LEN 16u /* size word plus 12 zero bytes */

struct wt_bundle_pkt {
	const uint8_t *data;
	uint32_t len;
};

/* Bytes a record of a @len-byte packet spans, padding included. */
static inline uint32_t wt_bundle_record_len(uint32_t len)
{
	return (WT_BUNDLE_HDR_LEN + len + WT_BUNDLE_ALIGN - 1) & ~(WT_BUNDLE_ALIGN - 1);
}

/*
 * Check a whole bundle of @size bytes and list its packets in @pkts (room for
 * WINTUN_MAX_BUNDLE_PACKETS).  Returns the packet count, or -EINVAL with a
 * log line naming the offset of the first fault: a record cut short, a size
 * above WINTUN_MAX_IP_PACKET_SIZE, non-zero header or padding bytes, a
 * packet that is not IPv4 or IPv6, too many packets.
 */
int wt_bundle_parse(const uint8_t *buf, uint32_t size, struct wt_bundle_pkt *pkts);

/*
 * Write one record for @len bytes of @pkt at @buf, which has @room bytes.
 * Returns the bytes written (wt_bundle_record_len), or 0 if it does not fit.
 */
uint32_t wt_bundle_put(uint8_t *buf, uint32_t room, const uint8_t *pkt, uint32_t len);

#endif
