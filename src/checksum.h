/* SPDX-License-Identifier: MIT */
/* The Internet checksum (RFC 1071), used by the GSO split and the coalescer. */
#ifndef WINTUN_CHECKSUM_H
#define WINTUN_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Add @len bytes at @data to the 32-bit partial sum @sum (big-endian 16-bit
 * words; an odd last byte is padded with zero).  Returns the new partial sum,
 * already folded to 32 bits. */
uint32_t wt_csum_add(uint32_t sum, const void *data, size_t len);

/* Fold a partial sum to 16 bits and complement it: the checksum field. */
static inline uint16_t wt_csum_fold(uint32_t sum)
{
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The partial sum of the TCP/UDP pseudo-header for a transport segment of
 * @l4_len bytes behind the IPv4 or IPv6 header at @ip. */
uint32_t wt_csum_pseudo(const uint8_t *ip, bool v6, uint8_t proto, uint32_t l4_len);

#endif
