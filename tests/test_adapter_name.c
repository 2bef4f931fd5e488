/* SPDX-License-Identifier: MIT */
/* Windows-style adapter names ("Data Center"): mapped to a valid interface
 * name, kept as the friendly name in the ifalias, found again by name. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>

#include "helpers.h"
#include "nl_check.h"
#include "wintun.h"

static void setup(void)
{
	wt_test_enter_netns();
	wt_test_log_capture();
}

TestSuite(adapter_name, .init = setup, .timeout = 60);

static WINTUN_ADAPTER_HANDLE create(const char *name)
{
	WINTUN_ADAPTER_HANDLE a = WintunCreateAdapter(name, "Test", NULL);

	cr_assert_not_null(a, "create \"%s\": %s", name, strerror(errno));
	return a;
}

static void expect_name(WINTUN_ADAPTER_HANDLE a, const char *want)
{
	char name[WINTUN_MAX_ADAPTER_NAME];

	cr_assert(WintunGetAdapterName(a, name), "%s", strerror(errno));
	cr_expect_str_eq(name, want);
}

static uint64_t ifindex_of(WINTUN_ADAPTER_HANDLE a)
{
	WINTUN_NET_LUID luid;

	WintunGetAdapterLuid(a, &luid);
	return luid.Info.NetLuidIndex;
}

struct seen {
	int count;
	bool found;
	const char *want;
};

static bool look_for(WINTUN_ADAPTER_HANDLE a, intptr_t param)
{
	struct seen *s = (struct seen *)param;
	char name[WINTUN_MAX_ADAPTER_NAME];

	cr_assert(WintunGetAdapterName(a, name));
	s->count++;
	s->found |= !strcmp(name, s->want);
	return true;
}

Test(adapter_name, create_open_and_enumerate_windows_style_name)
{
	WINTUN_ADAPTER_HANDLE a = create("Data Center"), b;
	struct seen seen = { .want = "Data Center" };
	WINTUN_GUID ga, gb;
	char alias[256];

	cr_expect_gt(if_nametoindex("Data_Center"), 0, "the device is the mapped name");
	cr_assert(nlt_link_alias("Data_Center", alias, sizeof(alias)));
	cr_expect(strstr(alias, " name=Data Center") != NULL, "alias: %s", alias);
	expect_name(a, "Data Center");
	b = WintunOpenAdapter("Data Center");
	cr_assert_not_null(b, "open by the Windows-style name: %s", strerror(errno));
	cr_expect_eq(ifindex_of(b), ifindex_of(a));
	expect_name(b, "Data Center");
	cr_assert(WintunGetAdapterGUID(a, &ga) && WintunGetAdapterGUID(b, &gb));
	cr_expect_eq(memcmp(&ga, &gb, sizeof(ga)), 0, "the GUID must survive the name field");
	cr_expect_neq(ga.Data1 | ga.Data2 | ga.Data3, 0);
	cr_assert(WintunEnumAdapters("Test", look_for, (intptr_t)&seen));
	cr_expect_eq(seen.count, 1);
	cr_expect(seen.found, "enumeration must report the friendly name");
	errno = 0;
	cr_expect_null(WintunCreateAdapter("Data Center", "Test", NULL));
	cr_expect_eq(errno, EEXIST);
	cr_expect(wt_test_log_contains("\"Data Center\": it already exists"));
	WintunCloseAdapter(b);
	WintunCloseAdapter(a);
	cr_expect_eq(if_nametoindex("Data_Center"), 0);
}

Test(adapter_name, plain_names_have_no_friendly_name)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0");
	char alias[256];

	expect_name(a, "wt0");
	cr_assert(nlt_link_alias("wt0", alias, sizeof(alias)));
	cr_expect(strstr(alias, "name=") == NULL, "alias: %s", alias);
	WintunCloseAdapter(a);
}

Test(adapter_name, mapped_name_collision_takes_the_hashed_name)
{
	WINTUN_ADAPTER_HANDLE plain = create("Data_Center"), space, slash, again;

	space = create("Data Center");
	slash = create("Data/Center");
	cr_expect_neq(ifindex_of(space), ifindex_of(plain));
	cr_expect_neq(ifindex_of(slash), ifindex_of(space));
	expect_name(plain, "Data_Center");
	expect_name(space, "Data Center");
	expect_name(slash, "Data/Center");
	again = WintunOpenAdapter("Data/Center");
	cr_assert_not_null(again);
	cr_expect_eq(ifindex_of(again), ifindex_of(slash));
	WintunCloseAdapter(again);
	again = WintunOpenAdapter("Data Center");
	cr_assert_not_null(again);
	cr_expect_eq(ifindex_of(again), ifindex_of(space));
	WintunCloseAdapter(again);
	WintunCloseAdapter(slash);
	WintunCloseAdapter(space);
	WintunCloseAdapter(plain);
}

Test(adapter_name, foreign_tun_device_on_the_mapped_name_is_eexist)
{
	/* A TUN device without our ifalias may be an adapter being created
	 * under the same name this instant: refuse rather than duplicate. */
	cr_assert(nlt_make_persistent_tun("Data_Center", IFF_TUN | IFF_MULTI_QUEUE));
	errno = 0;
	cr_expect_null(WintunCreateAdapter("Data Center", "Test", NULL));
	cr_expect_eq(errno, EEXIST);
	cr_expect(wt_test_log_contains("its device Data_Center exists already"));
}

static void expect_bad(const char *name, const char *log)
{
	wt_test_log_clear();
	errno = 0;
	cr_expect_null(WintunCreateAdapter(name, "Test", NULL), "\"%s\"", name);
	cr_expect_eq(errno, EINVAL, "\"%s\": errno %d", name, errno);
	cr_expect(wt_test_log_contains(log), "\"%s\": no log line with \"%s\"", name, log);
}

Test(adapter_name, names_that_cannot_be_mapped_are_einval)
{
	expect_bad("", "adapter name is empty");
	expect_bad("Data Center 2024", "too long: at most 15 bytes");
	expect_bad("Data\tCenter", "contains a control character");
	expect_bad("..", "is not allowed");
	errno = 0;
	cr_expect_null(WintunOpenAdapter("No Such Name"));
	cr_expect_eq(errno, ENOENT);
	cr_expect(wt_test_log_contains("\"No Such Name\": no adapter has this name"));
}

Test(adapter_name, rename_to_and_from_a_windows_style_name)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0"), b;
	char alias[256];

	cr_assert(WintunSetAdapterName(a, "Branch Office"), "%s", strerror(errno));
	expect_name(a, "Branch Office");
	cr_expect_gt(if_nametoindex("Branch_Office"), 0);
	b = WintunOpenAdapter("Branch Office");
	cr_assert_not_null(b);
	WintunCloseAdapter(b);
	cr_assert(WintunSetAdapterName(a, "wt1"));
	expect_name(a, "wt1");
	cr_assert(nlt_link_alias("wt1", alias, sizeof(alias)));
	cr_expect(strstr(alias, "name=") == NULL, "alias: %s", alias);
	cr_expect_null(WintunOpenAdapter("Branch Office"));
	WintunCloseAdapter(a);
}

Test(adapter_name, rename_keeps_a_hashed_device_name_and_refuses_a_taken_name)
{
	WINTUN_ADAPTER_HANDLE plain = create("Data_Center"), space = create("Data Center");
	WINTUN_ADAPTER_HANDLE other = create("Other Site");
	char before[WINTUN_MAX_ADAPTER_NAME];
	WINTUN_ADAPTER_INFO info = { .Size = sizeof(info) };

	cr_assert(WintunGetAdapterInfo(space, &info));
	memcpy(before, info.Name, sizeof(before));
	cr_expect_neq(strcmp(before, "Data_Center"), 0, "the hashed name: %s", before);
	cr_assert(WintunSetAdapterName(space, "Data Center"), "same name again: %s",
		  strerror(errno));
	cr_assert(WintunGetAdapterInfo(space, &info));
	cr_expect_str_eq(info.Name, before);
	errno = 0;
	cr_expect_not(WintunSetAdapterName(other, "Data Center"));
	cr_expect_eq(errno, EEXIST);
	cr_expect(wt_test_log_contains("has this name"));
	expect_name(other, "Other Site");
	WintunCloseAdapter(other);
	WintunCloseAdapter(space);
	WintunCloseAdapter(plain);
}
