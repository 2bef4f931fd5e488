/* SPDX-License-Identifier: MIT */
/*
 * What identifies an adapter: its tunnel type, its GUID, and the ifalias
 * "wintun type=<type> guid=<GUID>[ name=<friendly name>]" that keeps them
 * with the device.  Name rules are in adapter_name.h.
 */
#ifndef WINTUN_ADAPTER_ID_H
#define WINTUN_ADAPTER_ID_H

#include <stdbool.h>
#include <stddef.h>

#include "wintun.h"

#define WT_ALIAS_PREFIX "wintun type="
#define WT_ALIAS_NAME " name=" /* the last field: the rest of the alias */

/* Check a tunnel type.  0 or -EINVAL (logged). */
int wt_check_tunnel_type(const char *type);

/* A random (version 4) GUID.  0 or a negative errno (logged). */
int wt_guid_random(WINTUN_GUID *guid);

/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" into @buf (39 bytes). */
#define WT_GUID_STRLEN 39
void wt_guid_format(const WINTUN_GUID *guid, char buf[WT_GUID_STRLEN]);

/* Build the ifalias into @buf of @size, with " name=@friendly" last unless
 * @friendly is NULL (see adapter_name.h).  Returns 0 or -EINVAL if it does
 * not fit. */
int wt_alias_format(char *buf, size_t size, const char *type, const WINTUN_GUID *guid,
		    const char *friendly);

/* True if @alias marks a Wintun adapter. */
bool wt_alias_is_wintun(const char *alias);

/* Parse an ifalias written by wt_alias_format.  Returns 0 or -EINVAL. */
int wt_alias_parse(const char *alias, char type[WINTUN_MAX_TUNNEL_TYPE + 1], WINTUN_GUID *guid);

#endif
