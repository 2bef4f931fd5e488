/* SPDX-License-Identifier: MIT */
/* Adapter lifetime and identity: create, open, close, enumerate, rename,
 * DeleteDriver, and their error paths.  Each test runs in its own private
 * network namespace. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "nl_check.h"
#include "src/adapter.h"
#include "wintun.h"

static const WINTUN_GUID test_guid = { 0xdeadbabe, 0xcafe, 0xbeef,
				       { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } };

static void setup(void)
{
	wt_test_enter_netns();
	wt_test_log_capture();
}

static WINTUN_ADAPTER_HANDLE create(const char *name, const char *type)
{
	WINTUN_ADAPTER_HANDLE a = WintunCreateAdapter(name, type, NULL);

	cr_assert_not_null(a, "WintunCreateAdapter(%s): %s", name, strerror(errno));
	return a;
}

TestSuite(adapter, .init = setup, .timeout = 60);

Test(adapter, create_then_close_deletes_device)
{
	WINTUN_ADAPTER_HANDLE a = WintunCreateAdapter("wt0", "Test", &test_guid);

	cr_assert_not_null(a, "%s", strerror(errno));
	cr_expect_gt(if_nametoindex("wt0"), 0);
	WintunCloseAdapter(a);
	cr_expect_eq(if_nametoindex("wt0"), 0, "the device must go with its creator's handle");
}

Test(adapter, ifalias_holds_type_and_guid)
{
	WINTUN_ADAPTER_HANDLE a = WintunCreateAdapter("wt0", "MyVPN", &test_guid);
	char alias[256];
	WINTUN_GUID g;

	cr_assert_not_null(a);
	cr_assert(nlt_link_alias("wt0", alias, sizeof(alias)));
	cr_expect_str_eq(alias, "wintun type=MyVPN guid={DEADBABE-CAFE-BEEF-0123-456789ABCDEF}");
	cr_assert(WintunGetAdapterGUID(a, &g));
	cr_expect_eq(memcmp(&g, &test_guid, sizeof(g)), 0);
	WintunCloseAdapter(a);
}

Test(adapter, null_guid_is_random_v4)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0", "Test"), b = create("wt1", "Test");
	WINTUN_GUID ga, gb;

	cr_assert(WintunGetAdapterGUID(a, &ga) && WintunGetAdapterGUID(b, &gb));
	cr_expect_neq(memcmp(&ga, &gb, sizeof(ga)), 0);
	cr_expect_eq(ga.Data3 >> 12, 4, "version 4 GUID");
	WintunCloseAdapter(a);
	WintunCloseAdapter(b);
}

Test(adapter, luid_is_ifindex_and_type_53)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0", "Test");
	WINTUN_NET_LUID luid;

	WintunGetAdapterLuid(a, &luid);
	cr_expect_eq(luid.Info.NetLuidIndex, if_nametoindex("wt0"));
	cr_expect_eq(luid.Info.IfType, 53);
	cr_expect_eq(luid.Info.Reserved, 0);
	WintunCloseAdapter(a);
}

Test(adapter, luid_under_wintun_spelling_is_the_same)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0", "Test");
	WINTUN_NET_LUID luid = { .Value = 1 }, upper = { .Value = 2 };

	WintunGetAdapterLuid(a, &luid);
	WintunGetAdapterLUID(a, &upper);
	cr_expect_eq(upper.Value, luid.Value);
	cr_expect_eq(upper.Info.NetLuidIndex, if_nametoindex("wt0"));
	errno = 0;
	WintunGetAdapterLUID(a, NULL);
	cr_expect_eq(errno, EINVAL);
	WintunCloseAdapter(a);
}

Test(adapter, open_existing_and_close_keeps_device)
{
	WINTUN_ADAPTER_HANDLE a = WintunCreateAdapter("wt0", "Test", &test_guid), b;
	WINTUN_GUID g;
	char name[IFNAMSIZ];

	cr_assert_not_null(a);
	b = WintunOpenAdapter("wt0");
	cr_assert_not_null(b, "WintunOpenAdapter: %s", strerror(errno));
	cr_assert(WintunGetAdapterGUID(b, &g));
	cr_expect_eq(memcmp(&g, &test_guid, sizeof(g)), 0);
	cr_assert(WintunGetAdapterName(b, name));
	cr_expect_str_eq(name, "wt0");
	WintunCloseAdapter(b);
	cr_expect_gt(if_nametoindex("wt0"), 0, "closing an opened handle must not delete");
	WintunCloseAdapter(a);
	cr_expect_eq(if_nametoindex("wt0"), 0);
}

/* The lifetime decision rests on this kernel behaviour: a detached queue alone
 * keeps a non-persistent TUN device alive, and the device goes with it. */
Test(adapter, detached_queue_alone_keeps_device_alive)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0", "Test"), b;

	b = WintunOpenAdapter("wt0");
	cr_assert_not_null(b);
	wt_adapter_free(a); /* the creator's fd goes, without RTM_DELLINK */
	cr_expect_gt(if_nametoindex("wt0"), 0, "b's detached queue must keep the device");
	WintunCloseAdapter(b);
	cr_expect_eq(if_nametoindex("wt0"), 0, "the device must not be persistent");
}

Test(adapter, device_vanishes_when_creator_exits_without_closing)
{
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* Static volatile: still reachable at exit (the store cannot be
		 * optimized away), so valgrind's leak check does not fail the
		 * child for the handle it deliberately never closes. */
		static WINTUN_ADAPTER_HANDLE volatile a;

		a = WintunCreateAdapter("wtc0", "Test", NULL);
		_exit(a && if_nametoindex("wtc0") ? 0 : 1); /* no WintunCloseAdapter */
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child could not create");
	cr_expect_eq(if_nametoindex("wtc0"), 0, "a dead process must not leave its adapter");
	/* And the name is free again for a restart. */
	WintunCloseAdapter(create("wtc0", "Test"));
}

Test(adapter, existing_name_is_eexist)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0", "Test");

	errno = 0;
	cr_expect_null(WintunCreateAdapter("wt0", "Test", NULL));
	cr_expect_eq(errno, EEXIST);
	cr_expect(wt_test_log_contains("already exists"));
	errno = 0;
	cr_expect_null(WintunCreateAdapter("lo", "Test", NULL));
	cr_expect_eq(errno, EEXIST, "a non-TUN device's name is taken too");
	cr_expect_gt(if_nametoindex("wt0"), 0, "the failed create must not hurt the first");
	WintunCloseAdapter(a);
}

static void expect_bad_create(const char *name, const char *type, const char *log)
{
	wt_test_log_clear();
	errno = 0;
	cr_expect_null(WintunCreateAdapter(name, type, NULL), "name %s type %s", name, type);
	cr_expect_eq(errno, EINVAL, "name %s type %s: errno %d", name, type, errno);
	cr_expect(wt_test_log_contains(log), "name %s type %s: no log line with \"%s\"", name,
		  type, log);
}

Test(adapter, bad_names_and_types_are_einval)
{
	expect_bad_create(NULL, "Test", "adapter name is NULL");
	expect_bad_create("", "Test", "adapter name is empty");
	expect_bad_create("0123456789abcdef", "Test", "too long");
	/* ' ', '/', ':' and '%' are mapped (test_adapter_name.c); control
	 * characters are not. */
	expect_bad_create("a\tb", "Test", "contains");
	expect_bad_create("..", "Test", "not allowed");
	expect_bad_create("wt0", NULL, "tunnel type is NULL");
	expect_bad_create("wt0", "", "tunnel type is empty");
	expect_bad_create("wt0", "a b", "whitespace");
	expect_bad_create("wt0",
			  "0123456789012345678901234567890123456789012345678901234567890123X",
			  "too long");
	cr_expect_eq(if_nametoindex("wt0"), 0);
	/* 15 bytes and a 64-byte type are fine. */
	WintunCloseAdapter(create("abcdefghijklmno",
				  "0123456789012345678901234567890123456789012345678901234567890123"));
}

Test(adapter, open_missing_is_enoent)
{
	errno = 0;
	cr_expect_null(WintunOpenAdapter("nosuch0"));
	cr_expect_eq(errno, ENOENT);
	cr_expect(wt_test_log_contains("no such network device"));
	errno = 0;
	cr_expect_null(WintunOpenAdapter("bad\tname"));
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_null(WintunOpenAdapter("bad/name"), "a Windows-style name nobody has");
	cr_expect_eq(errno, ENOENT);
}

static void expect_not_wintun(const char *name, const char *why)
{
	wt_test_log_clear();
	errno = 0;
	cr_expect_null(WintunOpenAdapter(name), "%s", name);
	cr_expect_eq(errno, ENOTSUP, "%s: errno %d", name, errno);
	cr_expect(wt_test_log_contains("not a Wintun adapter"), "%s", name);
	cr_expect(wt_test_log_contains(why), "%s: no \"%s\" in the log", name, why);
}

Test(adapter, open_foreign_device_is_enotsup)
{
	expect_not_wintun("lo", "not a TUN device");
	cr_assert(nlt_make_persistent_tun("plain0", IFF_TUN));
	expect_not_wintun("plain0", "without multi-queue");
	cr_assert(nlt_make_persistent_tun("tap0", IFF_TAP | IFF_MULTI_QUEUE));
	expect_not_wintun("tap0", "TAP");
	cr_assert(nlt_make_persistent_tun("mq0", IFF_TUN | IFF_MULTI_QUEUE));
	expect_not_wintun("mq0", "ifalias");
	cr_assert(nlt_set_alias("mq0", "someone else's"));
	expect_not_wintun("mq0", "ifalias");
}

Test(adapter, null_handles_are_einval_and_logged)
{
	WINTUN_NET_LUID luid;
	char name[IFNAMSIZ];
	WINTUN_GUID g;

	errno = 0;
	WintunCloseAdapter(NULL);
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("WintunCloseAdapter: adapter handle is NULL"));
	errno = 0;
	WintunGetAdapterLuid(NULL, &luid);
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("WintunGetAdapterLuid"));
	cr_expect_not(WintunGetAdapterName(NULL, name));
	cr_expect_eq(errno, EINVAL);
	cr_expect_not(WintunGetAdapterGUID(NULL, &g));
	cr_expect_eq(errno, EINVAL);
	cr_expect_not(WintunSetAdapterName(NULL, "x"));
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("WintunSetAdapterName: adapter handle is NULL"));
	cr_expect_not(WintunEnumAdapters(NULL, NULL, 0));
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("Callback is NULL"));
}

struct seen {
	int count, stop_after;
	char names[8][IFNAMSIZ];
};

static bool collect(WINTUN_ADAPTER_HANDLE a, intptr_t param)
{
	struct seen *s = (struct seen *)param;

	cr_assert(WintunGetAdapterName(a, s->names[s->count]));
	s->count++;
	return s->count != s->stop_after;
}

Test(adapter, enumerate_by_type)
{
	WINTUN_ADAPTER_HANDLE a = create("wta0", "TypeA"), b = create("wtb0", "TypeB"),
			      c = create("wta1", "TypeA");
	struct seen all = { 0 }, only_a = { 0 }, first = { .stop_after = 1 };

	cr_assert(nlt_make_persistent_tun("plain0", IFF_TUN | IFF_MULTI_QUEUE));
	cr_assert(WintunEnumAdapters(NULL, collect, (intptr_t)&all));
	cr_expect_eq(all.count, 3);
	cr_assert(WintunEnumAdapters("TypeA", collect, (intptr_t)&only_a));
	cr_expect_eq(only_a.count, 2);
	cr_expect_str_eq(only_a.names[0], "wta0");
	cr_expect_str_eq(only_a.names[1], "wta1");
	cr_assert(WintunEnumAdapters(NULL, collect, (intptr_t)&first));
	cr_expect_eq(first.count, 1, "returning false stops the enumeration");
	/* The handles passed to the callback are temporary: nothing was deleted. */
	cr_expect_gt(if_nametoindex("wta0"), 0);
	WintunCloseAdapter(a);
	WintunCloseAdapter(b);
	WintunCloseAdapter(c);
}

static void set_up(const char *name, bool up)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, name);
	cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags = (short)(up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP);
	cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
}

Test(adapter, rename_follows_device)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0", "Test"), b = create("wt1", "Test");
	unsigned idx = if_nametoindex("wt0");
	WINTUN_NET_LUID luid;
	char name[IFNAMSIZ];

	cr_assert(WintunSetAdapterName(a, "renamed0"), "%s", strerror(errno));
	cr_expect_eq(if_nametoindex("wt0"), 0);
	cr_expect_eq(if_nametoindex("renamed0"), idx);
	cr_assert(WintunGetAdapterName(a, name));
	cr_expect_str_eq(name, "renamed0");
	WintunGetAdapterLuid(a, &luid);
	cr_expect_eq(luid.Info.NetLuidIndex, idx);

	errno = 0;
	cr_expect_not(WintunSetAdapterName(a, "wt1"));
	cr_expect_eq(errno, EEXIST);
	errno = 0;
	cr_expect_not(WintunSetAdapterName(a, "bad\tname"));
	cr_expect_eq(errno, EINVAL);

	/* Linux 6.2 and later rename an up device; older kernels say EBUSY and
	 * the library explains what to do. */
	set_up("renamed0", true);
	wt_test_log_clear();
	errno = 0;
	if (WintunSetAdapterName(a, "wt2")) {
		cr_expect_eq(if_nametoindex("wt2"), idx);
		cr_assert(WintunGetAdapterName(a, name));
		cr_expect_str_eq(name, "wt2");
	} else {
		cr_expect_eq(errno, EBUSY);
		cr_expect(wt_test_log_contains("bring the adapter down to rename it"));
		cr_assert(WintunSetAdapterName(a, "wt2") == false);
	}

	WintunCloseAdapter(a);
	cr_expect_eq(if_nametoindex("renamed0"), 0, "close deletes the renamed device");
	cr_expect_eq(if_nametoindex("wt2"), 0, "close deletes the renamed device");
	WintunCloseAdapter(b);
}

static bool is_wintun(const char *name)
{
	char alias[256];

	return nlt_link_alias(name, alias, sizeof(alias)) && !strncmp(alias, "wintun type=", 12);
}

Test(adapter, delete_driver_removes_unused_leftovers_only)
{
	WINTUN_ADAPTER_HANDLE used = create("wt0", "Test");

	cr_assert(nlt_make_persistent_tun("left0", IFF_TUN | IFF_MULTI_QUEUE));
	cr_assert(nlt_set_alias("left0", "wintun type=Old guid={00000000-0000-0000-0000-000000000000}"));
	cr_assert(nlt_make_persistent_tun("other0", IFF_TUN | IFF_MULTI_QUEUE));
	cr_assert(is_wintun("left0"));
	cr_assert(WintunDeleteDriver(), "%s", strerror(errno));
	cr_expect_eq(if_nametoindex("left0"), 0, "the unused leftover must go");
	cr_expect_gt(if_nametoindex("wt0"), 0, "an adapter in use must stay");
	cr_expect_gt(if_nametoindex("other0"), 0, "a foreign TUN device must stay");
	cr_expect(wt_test_log_contains("adapter wt0 is in use"));
	WintunCloseAdapter(used);
}

Test(adapter, session_slot_is_exclusive)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0", "Test");

	cr_expect_eq(wt_adapter_claim_session(a), 0);
	cr_expect_eq(wt_adapter_claim_session(a), -EBUSY);
	cr_expect(wt_test_log_contains("already has a session"));
	wt_adapter_release_session(a);
	cr_expect_eq(wt_adapter_claim_session(a), 0);
	WintunCloseAdapter(a); /* allowed with a claimed session, with a warning */
	cr_expect(wt_test_log_contains("while a session is running"));
	cr_expect_eq(if_nametoindex("wt0"), 0);
	wt_adapter_release_session(a); /* the session ends last: frees the handle */
}

/* A UDP datagram routed into the adapter reaches the queue fd with the 4-byte
 * tun_pi in front (TUNGETIFF cannot tell: it reports 0x1000, IFF_NOFILTER,
 * which has the value of IFF_NO_PI). */
static void expect_packet_with_pi(WINTUN_ADAPTER_HANDLE a, int fd)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[2048];
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(WintunSetAdapterUp(a, true));
	cr_assert(WintunAddAdapterAddress(a, "10.0.0.1/24"));
	inet_pton(AF_INET, "10.0.0.2", &to.sin_addr);
	cr_assert_eq(sendto(s, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
	close(s);
	for (;;) { /* skip IPv6 router solicitations and the like */
		ssize_t n;

		cr_assert_eq(poll(&pfd, 1, 5000), 1, "no packet on the queue");
		n = read(fd, buf, sizeof(buf));
		cr_assert_gt(n, 4);
		if (buf[2] == 0x86 && buf[3] == 0xdd)
			continue;
		cr_expect_eq(buf[0] | buf[1], 0, "tun_pi flags");
		cr_expect_eq(buf[2] << 8 | buf[3], 0x0800, "tun_pi protocol: IPv4");
		cr_expect_eq(buf[4], 0x45, "the IPv4 header follows the 4-byte tun_pi");
		cr_expect_eq(buf[4 + 9], 17, "UDP");
		break;
	}
}

Test(adapter, engine_interface_queue_name_mtu)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0", "Test");
	struct ifreq ifr = { 0 };
	char name[IFNAMSIZ];
	uint32_t mtu = 0;
	int fd = -1;

	cr_expect_eq(wt_adapter_ifindex(a), (int)if_nametoindex("wt0"));
	cr_assert_eq(wt_adapter_get_mtu(a, &mtu), 0);
	cr_expect_eq(mtu, 1500);
	cr_assert(WintunSetAdapterName(a, "wtq0"));
	cr_assert_eq(wt_adapter_name(a, name), 0);
	cr_expect_str_eq(name, "wtq0");
	cr_assert_eq(wt_adapter_open_queue(a, false, &fd), 0);
	cr_expect(fcntl(fd, F_GETFL) & O_NONBLOCK);
	cr_expect(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(ioctl(fd, TUNGETIFF, &ifr), 0);
	cr_expect_str_eq(ifr.ifr_name, "wtq0");
	cr_expect_eq(ifr.ifr_flags & (IFF_TUN | IFF_MULTI_QUEUE), IFF_TUN | IFF_MULTI_QUEUE);
	expect_packet_with_pi(a, fd);
	close(fd);
	WintunCloseAdapter(a);
}

/* Another handle's owner deleted the device: calls fail with ENODEV, closing
 * is still fine. */
Test(adapter, handle_outlives_device)
{
	WINTUN_ADAPTER_HANDLE a = create("wt0", "Test"), b;
	char name[IFNAMSIZ];
	int fd = -1;

	b = WintunOpenAdapter("wt0");
	cr_assert_not_null(b);
	WintunCloseAdapter(a);
	cr_expect_eq(if_nametoindex("wt0"), 0, "the creator's close deletes for everyone");
	errno = 0;
	cr_expect_not(WintunGetAdapterName(b, name));
	cr_expect_eq(errno, ENODEV);
	cr_expect(wt_test_log_contains("is gone"));
	errno = 0;
	cr_expect_not(WintunSetAdapterMtu(b, 1400));
	cr_expect_eq(errno, ENODEV);
	cr_expect_eq(WintunGetAdapterMtu(b), 0);
	cr_expect_eq(errno, ENODEV);
	cr_expect_eq(wt_adapter_open_queue(b, false, &fd), -ENODEV);
	WintunCloseAdapter(b);
}
