/* SPDX-License-Identifier: MIT */
/* The pure parts of adapters: name rules, GUID text, the ifalias format and
 * address parsing.  No devices, no privilege. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "helpers.h"
#include "src/adapter_id.h"
#include "src/adapter_name.h"
#include "src/nl_addr.h"

Test(adapter_id, guid_and_alias_round_trip)
{
	const WINTUN_GUID g = { 0x01234567, 0x89ab, 0xcdef, { 0, 1, 2, 3, 4, 5, 6, 0xff } };
	char text[WT_GUID_STRLEN], alias[256], type[WINTUN_MAX_TUNNEL_TYPE + 1];
	WINTUN_GUID back;

	wt_guid_format(&g, text);
	cr_expect_str_eq(text, "{01234567-89AB-CDEF-0001-0203040506FF}");
	cr_assert_eq(wt_alias_format(alias, sizeof(alias), "WireGuard", &g, NULL), 0);
	cr_expect_str_eq(alias, "wintun type=WireGuard guid={01234567-89AB-CDEF-0001-0203040506FF}");
	cr_expect(wt_alias_is_wintun(alias));
	cr_assert_eq(wt_alias_parse(alias, type, &back), 0);
	cr_expect_str_eq(type, "WireGuard");
	cr_expect_eq(memcmp(&back, &g, sizeof(g)), 0);
}

Test(adapter_id, damaged_alias)
{
	char type[WINTUN_MAX_TUNNEL_TYPE + 1];
	WINTUN_GUID g;

	cr_expect_eq(wt_alias_parse("wintun", type, &g), -EINVAL);
	cr_expect_eq(wt_alias_parse("wintun type=", type, &g), -EINVAL);
	cr_expect_eq(wt_alias_parse("something else", type, &g), -EINVAL);
	/* A readable type with a bad GUID still parses, GUID zero. */
	cr_expect_eq(wt_alias_parse("wintun type=X guid={nonsense}", type, &g), 0);
	cr_expect_str_eq(type, "X");
	cr_expect_eq(g.Data1 | g.Data2 | g.Data3, 0);
	cr_expect_eq(wt_alias_parse("wintun type=X guid={01234567-89AB-CDEF-0001-0203040506FF}junk",
				    type, &g), 0);
	cr_expect_eq(g.Data1, 0, "trailing junk: GUID not trusted");
}

Test(adapter_id, random_guids_differ)
{
	WINTUN_GUID a, b;

	cr_assert_eq(wt_guid_random(&a), 0);
	cr_assert_eq(wt_guid_random(&b), 0);
	cr_expect_neq(memcmp(&a, &b, sizeof(a)), 0);
	cr_expect_eq(a.Data3 >> 12, 4);
	cr_expect_eq(a.Data4[0] >> 6, 2);
}

Test(adapter_id, name_rules)
{
	wt_test_log_capture();
	cr_expect_eq(wt_check_adapter_name("wt0", "adapter name"), 0);
	cr_expect_eq(wt_check_adapter_name("a-b_c.d", "adapter name"), 0);
	cr_expect_eq(wt_check_adapter_name("abcdefghijklmnop", "adapter name"), -EINVAL);
	cr_expect(wt_test_log_contains("at most 15 bytes"));
	cr_expect_eq(wt_check_adapter_name(".", "adapter name"), -EINVAL);
	cr_expect_eq(wt_check_adapter_name("a\x7f", "adapter name"), -EINVAL);
	cr_expect_eq(wt_check_tunnel_type("Wintun"), 0);
	cr_expect_eq(wt_check_tunnel_type("a\nb"), -EINVAL);
}

static void expect_cidr(const char *text, int family, const char *addr, unsigned prefix)
{
	struct wt_cidr c;
	uint8_t want[16];

	cr_assert_eq(wt_cidr_parse(text, &c), 0, "%s", text);
	cr_expect_eq(c.family, family, "%s", text);
	cr_assert_eq(inet_pton(family, addr, want), 1);
	cr_expect_eq(memcmp(c.addr, want, family == AF_INET ? 4 : 16), 0, "%s", text);
	cr_expect_eq(c.prefix, prefix, "%s", text);
}

Test(adapter_id, cidr_parse)
{
	struct wt_cidr c;

	expect_cidr("10.0.0.1/24", AF_INET, "10.0.0.1", 24);
	expect_cidr("10.0.0.1", AF_INET, "10.0.0.1", 32);
	expect_cidr("0.0.0.0/0", AF_INET, "0.0.0.0", 0);
	expect_cidr("fd00::1/64", AF_INET6, "fd00::1", 64);
	expect_cidr("::/0", AF_INET6, "::", 0);
	expect_cidr("fd00::1", AF_INET6, "fd00::1", 128);
	static const char *const bad[] = { "", "/24", "10.0.0.1/", "10.0.0.1/33", "10.0.0.1/-1",
					   "10.0.0.1/2x", "10.0.0.256/8", "fd00::1/129",
					   "hello", "10.0.0.1/ 8", "10.0.0.1/+8" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(wt_cidr_parse(bad[i], &c), -EINVAL, "\"%s\" must be rejected", bad[i]);
	cr_expect_eq(wt_ip_parse("fd00::2", AF_INET, &c), -EINVAL, "family mismatch");
}

Test(adapter_id, windows_style_names_map_deterministically)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], alias[256], friendly[WINTUN_MAX_ADAPTER_NAME];
	const WINTUN_GUID g = { 1, 2, 3, { 4 } };

	wt_test_log_capture();
	cr_expect(wt_name_is_friendly("Data Center"));
	cr_expect(!wt_name_is_friendly("wt0"));
	cr_expect_eq(wt_check_adapter_name("a:b/c%d e", "adapter name"), 0);
	wt_name_map("a:b/c%d e", 0, a);
	cr_expect_str_eq(a, "a_b_c_d_e");
	wt_name_map("Data Center", 1, a);
	wt_name_map("Data Center", 1, b);
	cr_expect_str_eq(a, b, "the same name must map the same way");
	cr_expect_eq(strlen(a), 15);
	cr_expect_eq(strncmp(a, "Data_Cente-", 11), 0, "%s", a);
	wt_name_map("Data/Center", 1, b);
	cr_expect_str_neq(a, b, "namesakes after mapping differ by the hash");
	/* A multi-byte character is not cut in two. */
	wt_name_map("Ca \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 1, a);
	cr_expect_eq(strncmp(a, "Ca_\xc3\xa9\xc3\xa9\xc3\xa9-", 10), 0, "%s", a);
	cr_assert_eq(wt_alias_format(alias, sizeof(alias), "VPN", &g, "Data Center"), 0);
	cr_assert_eq(wt_alias_friendly(alias, friendly), 0);
	cr_expect_str_eq(friendly, "Data Center");
	cr_assert_eq(wt_alias_format(alias, sizeof(alias), "VPN", &g, NULL), 0);
	cr_expect_eq(wt_alias_friendly(alias, friendly), -ENOENT);
}
