/* SPDX-License-Identifier: MIT */
#include "adapter_id.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"

int wt_check_tunnel_type(const char *type)
{
	size_t len;

	if (!type || !*type) {
		wt_err("tunnel type is %s", type ? "empty" : "NULL");
		return -EINVAL;
	}
	len = strnlen(type, WINTUN_MAX_TUNNEL_TYPE + 1);
	if (len > WINTUN_MAX_TUNNEL_TYPE) {
		wt_err("tunnel type is too long (at most %d bytes)", WINTUN_MAX_TUNNEL_TYPE);
		return -EINVAL;
	}
	/* Whitespace would end the type=... field of the ifalias. */
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)type[i] <= ' ' || type[i] == 0x7f) {
			wt_err("tunnel type \"%s\" contains whitespace or control characters",
			       type);
			return -EINVAL;
		}
	}
	return 0;
}

int wt_guid_random(WINTUN_GUID *guid)
{
	ssize_t n = getrandom(guid, sizeof(*guid), 0);

	if (n != (ssize_t)sizeof(*guid)) {
		int err = n < 0 ? errno : EIO;

		wt_err("cannot get random bytes for a GUID: %s", strerror(err));
		return -err;
	}
	/* RFC 4122 version 4, variant 1, as Windows' random GUIDs. */
	guid->Data3 = (uint16_t)((guid->Data3 & 0x0fff) | 0x4000);
	guid->Data4[0] = (uint8_t)((guid->Data4[0] & 0x3f) | 0x80);
	return 0;
}

void wt_guid_format(const WINTUN_GUID *g, char buf[WT_GUID_STRLEN])
{
	snprintf(buf, WT_GUID_STRLEN, "{%08" PRIX32 "-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
		 g->Data1, g->Data2, g->Data3, g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3],
		 g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}

int wt_alias_format(char *buf, size_t size, const char *type, const WINTUN_GUID *guid,
		    const char *friendly)
{
	char g[WT_GUID_STRLEN];
	int n;

	wt_guid_format(guid, g);
	n = snprintf(buf, size, WT_ALIAS_PREFIX "%s guid=%s%s%s", type, g,
		     friendly ? WT_ALIAS_NAME : "", friendly ? friendly : "");
	return n < 0 || (size_t)n >= size ? -EINVAL : 0;
}

bool wt_alias_is_wintun(const char *alias)
{
	return strncmp(alias, WT_ALIAS_PREFIX, strlen(WT_ALIAS_PREFIX)) == 0;
}

static int parse_guid(const char *s, WINTUN_GUID *g)
{
	unsigned int d2, d3, b[8];
	uint32_t d1;
	int end = 0;

	if (sscanf(s, "{%8" SCNx32 "-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x}%n", &d1, &d2, &d3, &b[0],
		   &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &end) != 11 ||
	    end != WT_GUID_STRLEN - 1 || (s[end] != '\0' && s[end] != ' '))
		return -EINVAL; /* a space may start fields a later version adds */
	g->Data1 = d1;
	g->Data2 = (uint16_t)d2;
	g->Data3 = (uint16_t)d3;
	for (int i = 0; i < 8; i++)
		g->Data4[i] = (uint8_t)b[i];
	return 0;
}

int wt_alias_parse(const char *alias, char type[WINTUN_MAX_TUNNEL_TYPE + 1], WINTUN_GUID *guid)
{
	const char *t, *sp;
	size_t len;

	if (!wt_alias_is_wintun(alias))
		return -EINVAL;
	t = alias + strlen(WT_ALIAS_PREFIX);
	sp = strchr(t, ' ');
	len = sp ? (size_t)(sp - t) : strlen(t);
	if (len == 0 || len > WINTUN_MAX_TUNNEL_TYPE)
		return -EINVAL;
	memcpy(type, t, len);
	type[len] = '\0';
	/* An adapter whose GUID field was damaged still opens, GUID zero. */
	memset(guid, 0, sizeof(*guid));
	if (sp && strncmp(sp, " guid=", 6) == 0)
		parse_guid(sp + 6, guid);
	return 0;
}
