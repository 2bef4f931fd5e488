/* SPDX-License-Identifier: MIT */
/*
 * Windows-style adapter names.  Wintun names adapters like "Data Center";
 * Linux interface names cannot contain spaces, '/', ':' (nor '%', which
 * TUNSETIFF expands).  Such a name is kept as the adapter's friendly name in
 * the ifalias ("... name=Data Center") and the device gets a derived name
 * ("Data_Center").  A name Linux accepts as it is stays the device name, with
 * no friendly name.
 */
#ifndef WINTUN_ADAPTER_NAME_H
#define WINTUN_ADAPTER_NAME_H

#include <net/if.h>
#include <stdbool.h>

#include "netlink.h"
#include "wintun.h"

/* Check a name given to the public API (@what: "adapter name" for the log):
 * a Linux interface name, or a Windows-style name that maps to one.  0 or
 * -EINVAL with a log line saying what is wrong and what would work. */
int wt_check_adapter_name(const char *name, const char *what);

/* True if the checked @name needs mapping (it is not a valid interface name
 * as it is). */
bool wt_name_is_friendly(const char *name);

/* The interface name for the friendly @name: @attempt 0 replaces each
 * character Linux refuses by '_'; attempt 1, for when that one is taken by
 * another device, is its first 10 bytes, '-' and 4 hex digits of a hash of
 * @name.  Deterministic. */
void wt_name_map(const char *name, int attempt, char ifname[IFNAMSIZ]);

/* The friendly name in @alias into @out: 0, or -ENOENT if it has none. */
int wt_alias_friendly(const char *alias, char out[WINTUN_MAX_ADAPTER_NAME]);

/* The device name of the adapter called @friendly in the namespace of @nl:
 * 0, -ENOENT (not logged) or the netlink error (logged). */
int wt_friendly_find(struct wt_nl *nl, const char *friendly, char ifname[IFNAMSIZ]);

#endif
