/* SPDX-License-Identifier: MIT */
/* IPv4 packet builders shared by the tests and the benchmark (no test
 * framework here: wintun-bench links it too). */
#ifndef WINTUN_TEST_PKTBUILD_H
#define WINTUN_TEST_PKTBUILD_H

#include <stdint.h>

/* The textbook RFC 1071 checksum of @len bytes, starting from @sum. */
uint16_t pb_csum(const void *data, unsigned len, uint32_t sum);

/* An IPv4 header (no options, TTL 64, header checksum) in front of @l4_len
 * bytes of @proto; addresses are 4 bytes in network order.  Returns the
 * total length. */
unsigned pb_ip4(uint8_t *buf, const void *src, const void *dst, uint8_t proto, unsigned l4_len);

/* IPv4 + UDP (no UDP checksum, allowed for IPv4).  @payload is copied after
 * the headers, or, if NULL, the @len bytes already there are kept. */
unsigned pb_udp4(uint8_t *buf, const void *src, const void *dst, uint16_t sport, uint16_t dport,
		 const void *payload, unsigned len);

/* IPv4 + ICMP echo request, payload as for pb_udp4. */
unsigned pb_echo4(uint8_t *buf, const void *src, const void *dst, uint16_t id, uint16_t seq,
		  const void *payload, unsigned len);

#endif
