/* SPDX-License-Identifier: MIT */
/* tun-pump --split: one super-packet, split once, sent on as room appears. */
#ifndef PUMP_SPLIT_H
#define PUMP_SPLIT_H

#include <stdint.h>

#include <wintun.h>

struct pump_split {
	uint8_t *buf;      /* the record's packets, one after another */
	uint32_t *sizes;   /* and their sizes */
	uint32_t n;        /* packets in buf */
	uint32_t next;     /* the first not yet in the other ring */
	uint32_t off;      /* its offset in buf */
	uint32_t to_hdr;   /* zero virtio_net_hdr before each (offload-mode receiver) */
	int err;           /* the record could not be split: -EINVAL */
	uint64_t sent;     /* packets sent in all, to tell progress */
};

/* Returns 0 or -ENOMEM.  @to_hdr: WINTUN_VNET_HDR_SIZE if the receiving
 * session is in offload mode, else 0. */
int pump_split_init(struct pump_split *sp, uint32_t to_hdr);
void pump_split_free(struct pump_split *sp);
/* Split the offload-mode record @rec into the buffer. */
void pump_split_load(struct pump_split *sp, const uint8_t *rec, uint32_t size);
/* Send what is left of the loaded record into @to's Receive ring.  Returns
 * 0 when all is sent, -ENOBUFS when the ring filled (call again later: it
 * goes on where it stopped), -EINVAL for a record that could not be split,
 * or the -errno of WintunAllocateSendPacket. */
int pump_split_send(struct pump_split *sp, WINTUN_SESSION_HANDLE to);

#endif
