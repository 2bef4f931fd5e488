/* SPDX-License-Identifier: MIT */
/*
 * Independent netlink checks for the adapter tests: they ask the kernel
 * directly (libmnl, no library code) so a test verifies what the library did,
 * not what it believes it did.
 */
#ifndef WINTUN_TEST_NL_CHECK_H
#define WINTUN_TEST_NL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ifalias of device @name ("" if none); false if there is no such device. */
bool nlt_link_alias(const char *name, char *alias, size_t size);

/* Set the ifalias of device @name; false on failure. */
bool nlt_set_alias(const char *name, const char *alias);

/* IFLA_GSO_MAX_SIZE of @name, 0 if unknown. */
uint32_t nlt_link_gso_max_size(const char *name);

/* True if the main table holds a route to @dst/@plen out of @oif with @metric
 * and gateway @gw (NULL: none). */
bool nlt_route_exists(int family, const char *dst, unsigned plen, const char *gw, int oif,
		      uint32_t metric);

/* True if device @name has address @addr/@plen (getifaddrs). */
bool nlt_has_address(const char *name, int family, const char *addr, unsigned plen);

/* Create a TUN device @name with @flags and make it persistent; the fd is
 * closed.  False on failure. */
bool nlt_make_persistent_tun(const char *name, int flags);

#endif
