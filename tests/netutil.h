/* SPDX-License-Identifier: MIT */
/* Small packet and device helpers for the engine tests (inside a private
 * network namespace only). */
#ifndef WINTUN_TEST_NETUTIL_H
#define WINTUN_TEST_NETUTIL_H

#include <stdint.h>

/* A TUN queue as the library opens one: multi-queue, packet info on,
 * non-blocking.  Fails the test on error. */
int nu_tun_open(const char *name);
/* Give @name an IPv4 address/prefix and bring it up (ioctl). */
void nu_if_addr4_up(const char *name, const char *addr, unsigned prefix);
/* Add an IPv6 address/prefix (ioctl on an AF_INET6 socket). */
void nu_if_addr6(const char *name, const char *addr, unsigned prefix);
void nu_if_set_mtu(const char *name, unsigned mtu);

uint16_t nu_csum(const void *data, unsigned len, uint32_t sum);

/* Build an IPv4 UDP packet into @buf; returns its length. */
unsigned nu_udp4(uint8_t *buf, const char *src, const char *dst, uint16_t sport, uint16_t dport,
		 const void *payload, unsigned len);
/* Build an ICMP echo request (IPv4 or IPv6 by the address form). */
unsigned nu_echo4(uint8_t *buf, const char *src, const char *dst, uint16_t id, uint16_t seq);
unsigned nu_echo6(uint8_t *buf, const char *src, const char *dst, uint16_t id, uint16_t seq);

#endif
