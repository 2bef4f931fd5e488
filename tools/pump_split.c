/* SPDX-License-Identifier: MIT */
/*
 * tun-pump --split.  WintunSplitPacketToSession would write straight into
 * the ring, but when the ring fills halfway it cannot say how far it got, so
 * the rest could be neither resent nor skipped.  Splitting into a buffer
 * first costs one copy of packets that are still in the cache, and lets the
 * forwarder wait for room and go on with the very next packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pump_split.h"

/* Room for a 64 KiB TCP super-packet cut at the smallest MSS Linux sends
 * (48 bytes: 1,364 packets of up to 148 bytes with IPv6 and full options). */
#define SPLIT_BUF (256u << 10)
#define SPLIT_MAX 2048u
/* Packets allocated before any is sent: the first send then publishes them
 * all at once, so that B's engine can coalesce them (as the library's own
 * WintunSplitPacketToSession does). */
#define SPLIT_GROUP 64u

int pump_split_init(struct pump_split *sp, uint32_t to_hdr)
{
	*sp = (struct pump_split){ .to_hdr = to_hdr };
	sp->buf = malloc(SPLIT_BUF);
	sp->sizes = calloc(SPLIT_MAX, sizeof(*sp->sizes));
	if (!sp->buf || !sp->sizes) {
		pump_split_free(sp);
		return -ENOMEM;
	}
	return 0;
}

void pump_split_free(struct pump_split *sp)
{
	free(sp->buf);
	free(sp->sizes);
	sp->buf = NULL;
	sp->sizes = NULL;
}

void pump_split_load(struct pump_split *sp, const uint8_t *rec, uint32_t size)
{
	sp->n = WintunSplitPacket(rec, size, sp->buf, SPLIT_BUF, sp->sizes, SPLIT_MAX);
	sp->next = sp->off = 0;
	sp->err = 0;
	if (sp->n)
		return;
	if (errno == ENOBUFS)
		fprintf(stderr, "tun-pump: a super-packet of %u bytes splits into more than %u "
			"packets or %u bytes: not forwarded\n", size, SPLIT_MAX, SPLIT_BUF);
	sp->err = -EINVAL; /* malformed ones the library has logged */
}

/* Allocate up to SPLIT_GROUP packets from sp->next on, fill them, then send
 * them last to first.  Returns how many, *err set if the ring refused one. */
static uint32_t send_group(struct pump_split *sp, WINTUN_SESSION_HANDLE to, int *err)
{
	uint8_t *group[SPLIT_GROUP];
	uint32_t g = 0, off = sp->off;

	for (; g < SPLIT_GROUP && sp->next + g < sp->n; g++) {
		uint32_t len = sp->sizes[sp->next + g];
		uint8_t *p = WintunAllocateSendPacket(to, sp->to_hdr + len);

		if (!p) {
			*err = -errno;
			break;
		}
		memset(p, 0, sp->to_hdr);
		memcpy(p + sp->to_hdr, sp->buf + off, len);
		off += len;
		group[g] = p;
	}
	for (uint32_t i = g; i > 0; i--)
		WintunSendPacket(to, group[i - 1]);
	sp->next += g;
	sp->off = off;
	sp->sent += g;
	return g;
}

int pump_split_send(struct pump_split *sp, WINTUN_SESSION_HANDLE to)
{
	int err = 0;

	if (sp->err)
		return sp->err;
	while (sp->next < sp->n && !err)
		send_group(sp, to, &err);
	return err;
}
