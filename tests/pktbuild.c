/* SPDX-License-Identifier: MIT */
#include "pktbuild.h"

#include <netinet/in.h>
#include <string.h>

uint16_t pb_csum(const void *data, unsigned len, uint32_t sum)
{
	const uint8_t *p = data;

	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

unsigned pb_ip4(uint8_t *buf, const void *src, const void *dst, uint8_t proto, unsigned l4_len)
{
	unsigned total = 20 + l4_len;

	memset(buf, 0, 20);
	buf[0] = 0x45;
	put16(buf + 2, (uint16_t)total);
	buf[8] = 64;
	buf[9] = proto;
	memcpy(buf + 12, src, 4);
	memcpy(buf + 16, dst, 4);
	put16(buf + 10, pb_csum(buf, 20, 0));
	return total;
}

unsigned pb_udp4(uint8_t *buf, const void *src, const void *dst, uint16_t sport, uint16_t dport,
		 const void *payload, unsigned len)
{
	uint8_t *udp = buf + 20;

	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8 + len));
	put16(udp + 6, 0);
	if (payload)
		memcpy(udp + 8, payload, len);
	return pb_ip4(buf, src, dst, IPPROTO_UDP, 8 + len);
}

unsigned pb_echo4(uint8_t *buf, const void *src, const void *dst, uint16_t id, uint16_t seq,
		  const void *payload, unsigned len)
{
	uint8_t *icmp = buf + 20;

	memset(icmp, 0, 8);
	icmp[0] = 8; /* echo request */
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	if (payload)
		memcpy(icmp + 8, payload, len);
	put16(icmp + 2, pb_csum(icmp, 8 + len, 0));
	return pb_ip4(buf, src, dst, IPPROTO_ICMP, 8 + len);
}
