/* SPDX-License-Identifier: MIT */
#include "adapter_name.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_id.h"
#include "log.h"
#include "nl_link.h"

/* Characters of a Windows-style name that an interface name cannot hold. */
static bool mapped_char(char c)
{
	return c == ' ' || c == '/' || c == ':' || c == '%';
}

static bool control_char(unsigned char c)
{
	return c < ' ' || c == 0x7f;
}

/* Why @name (not NULL) can be neither an interface name nor a friendly name,
 * or NULL if it can be one of them. */
static const char *name_problem(const char *name)
{
	size_t len = strnlen(name, IFNAMSIZ);

	if (len == 0)
		return "is empty";
	if (len >= IFNAMSIZ)
		return "is too long: at most 15 bytes (Linux's IFNAMSIZ), a Windows-style name "
		       "such as \"Data Center\" included";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "is not allowed (\".\" and \"..\" are reserved)";
	for (size_t i = 0; i < len; i++)
		if (control_char((unsigned char)name[i]))
			return "contains a control character (tab, newline...); spaces, '/', ':' "
			       "and '%' are fine";
	return NULL;
}

int wt_check_adapter_name(const char *name, const char *what)
{
	const char *why;

	if (!name) {
		wt_err("%s is NULL", what);
		return -EINVAL;
	}
	why = name_problem(name);
	if (!why)
		return 0;
	if (strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
		wt_err("%s \"%.*s...\" %s", what, IFNAMSIZ - 1, name, why);
	else if (!*name)
		wt_err("%s %s", what, why);
	else
		wt_err("%s \"%s\" %s", what, name, why);
	return -EINVAL;
}

bool wt_name_is_friendly(const char *name)
{
	for (; *name; name++)
		if (mapped_char(*name))
			return true;
	return false;
}

/* FNV-1a: any stable hash does; this one is short. */
static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

void wt_name_map(const char *name, int attempt, char ifname[IFNAMSIZ])
{
	size_t len = strlen(name), keep = 10;
	uint32_t h;

	for (size_t i = 0; i < len; i++)
		ifname[i] = mapped_char(name[i]) ? '_' : name[i];
	ifname[len] = '\0';
	if (attempt == 0)
		return;
	/* Do not cut a UTF-8 sequence: back up to the start of a character. */
	if (keep > len)
		keep = len;
	while (keep > 0 && ((unsigned char)ifname[keep] & 0xc0) == 0x80)
		keep--;
	h = name_hash(name);
	snprintf(ifname + keep, IFNAMSIZ - keep, "-%04x", (unsigned int)((h ^ (h >> 16)) & 0xffff));
}

int wt_alias_friendly(const char *alias, char out[WINTUN_MAX_ADAPTER_NAME])
{
	const char *n = strstr(alias, WT_ALIAS_NAME);
	size_t len;

	/* The name is the last field and may hold spaces: the rest of the
	 * alias.  The type and the GUID before it hold no " name=". */
	if (!wt_alias_is_wintun(alias) || !n)
		return -ENOENT;
	n += strlen(WT_ALIAS_NAME);
	len = strlen(n);
	if (len == 0 || len >= WINTUN_MAX_ADAPTER_NAME)
		return -ENOENT;
	memcpy(out, n, len + 1);
	return 0;
}

int wt_friendly_find(struct wt_nl *nl, const char *friendly, char ifname[IFNAMSIZ])
{
	char found[WINTUN_MAX_ADAPTER_NAME];
	struct wt_nl_link *links = NULL;
	size_t count = 0;
	int ret;

	ret = wt_nl_link_list(nl, &links, &count);
	if (ret) {
		wt_nl_log_error(nl, ret, "list", "network devices");
		return ret;
	}
	ret = -ENOENT;
	for (size_t i = 0; i < count && ret; i++) {
		if (strcmp(links[i].kind, "tun") != 0 ||
		    wt_alias_friendly(links[i].alias, found) != 0 || strcmp(found, friendly) != 0)
			continue;
		memcpy(ifname, links[i].name, IFNAMSIZ);
		ret = 0;
	}
	free(links);
	return ret;
}
