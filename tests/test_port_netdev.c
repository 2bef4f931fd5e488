/* SPDX-License-Identifier: MIT */
/*
 * The engine's view of its device: the MTU followed into the namespace the
 * device moved to (issue 11, defect 9), and DropRingFull counting the packets
 * the kernel dropped while the Send ring was full (defect 10).  Each test in
 * a private network namespace; the second namespace is made by the test.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "netutil.h"
#include "src/netlink.h"
#include "src/nl_link.h"
#include "wintun.h"

#define IFNAME "wtn0"
#define LOCAL "10.9.0.1"
#define PEER "10.9.0.2"
#define PORT 9999

/* No IPv6 on devices made or moved into the calling thread's namespace, so
 * no unsolicited packets (router or MLD) reach the ring. */
static void no_ipv6(void)
{
	FILE *f = fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w");

	cr_assert_not_null(f, "%s", strerror(errno));
	fputs("1", f);
	fclose(f);
}

static int this_netns(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "%s", strerror(errno));
	return fd;
}

/* A second namespace, without IPv6 either; the caller stays in its own. */
static int other_netns(void)
{
	int home = this_netns(), away;

	cr_assert_eq(unshare(CLONE_NEWNET), 0, "%s", strerror(errno));
	no_ipv6();
	away = this_netns();
	cr_assert_eq(setns(home, CLONE_NEWNET), 0);
	close(home);
	return away;
}

static WINTUN_SESSION_HANDLE start(WINTUN_ADAPTER_HANDLE a, uint32_t capacity, uint32_t flags)
{
	WINTUN_SESSION_OPTIONS o = { .Size = sizeof(o), .Flags = flags, .Capacity = capacity };
	WINTUN_SESSION_HANDLE s = WintunStartSessionEx(a, &o);

	cr_assert_not_null(s, "start: %s", strerror(errno));
	return s;
}

static WINTUN_SESSION_STATISTICS stats(WINTUN_SESSION_HANDLE s)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	cr_assert(WintunGetSessionStatistics(s, &st), "%s", strerror(errno));
	return st;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0, "%s", strerror(errno));
	return fd;
}

static void send_udp(int fd, uint32_t len, uint32_t seq)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	static uint8_t buf[65536];

	inet_pton(AF_INET, PEER, &to.sin_addr);
	wt_test_payload_fill(buf, len, 1, seq);
	cr_assert_eq(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len,
		     "sendto: %s", strerror(errno));
}

static bool is_our_udp(const uint8_t *p, uint32_t len)
{
	return len >= 28 && p[0] == 0x45 && p[9] == IPPROTO_UDP &&
	       ((p[22] << 8) | p[23]) == PORT;
}

/* Receive and release until @ms pass without a packet; the size of the last
 * of ours goes to @last_size (may be NULL).  Returns how many were ours. */
static uint32_t drain(WINTUN_SESSION_HANDLE s, unsigned ms, uint32_t *last_size)
{
	uint32_t ours = 0, size, stream, seq;
	uint8_t *p;

	while (WintunWaitForPacket(s, ms)) {
		while ((p = WintunReceivePacket(s, &size))) {
			if (is_our_udp(p, size)) {
				cr_assert(wt_test_payload_check(p + 28, size - 28, &stream, &seq),
					  "corrupt packet");
				ours++;
				if (last_size)
					*last_size = size;
			}
			WintunReleaseReceivePacket(s, p);
		}
	}
	return ours;
}

/* ---- defect 9: the MTU probe follows the device's namespace ------------- */

/* In the device's namespace @away: up, address, MTU @mtu; wait until the
 * engine's next probe is due (every 50 ms, and before the first read after
 * a quiet spell), then send one UDP payload of @len there. */
static void send_big_over_there(int away, int home, unsigned mtu, uint32_t len)
{
	int fd;

	cr_assert_eq(setns(away, CLONE_NEWNET), 0, "%s", strerror(errno));
	nu_if_set_mtu(IFNAME, mtu);
	nu_if_addr4_up(IFNAME, LOCAL, 24);
	sleep_ms(200);
	fd = udp_socket();
	send_udp(fd, len, 1);
	close(fd);
	cr_assert_eq(setns(home, CLONE_NEWNET), 0, "%s", strerror(errno));
}

/* The big packet arrives whole; nothing was dropped as too large.  Waits
 * until it is there (hang guard 10 s), then 300 ms more for others of ours,
 * which must not come. */
static void expect_big_delivered(WINTUN_SESSION_HANDLE s, uint32_t len)
{
	uint32_t got = 0, ours = 0;

	for (int i = 0; i < 100 && !ours; i++)
		ours += drain(s, 100, &got);
	ours += drain(s, 300, &got);
	cr_expect_eq(ours, 1, "the packet must be delivered, once");
	cr_expect_eq(got, len + 28);
	cr_expect_eq(stats(s).Rx.DropTruncated, 0, "dropped as truncated: the old MTU");
}

/* An adapter and a session in a fresh namespace (home), and a second
 * namespace (away) to move the device to. */
struct moving {
	WINTUN_ADAPTER_HANDLE a;
	WINTUN_SESSION_HANDLE s;
	int home, away;
};

static WINTUN_ADAPTER_HANDLE create(void)
{
	WINTUN_ADAPTER_HANDLE a;

	wt_test_enter_netns();
	wt_test_log_capture();
	no_ipv6();
	a = WintunCreateAdapter(IFNAME, "Test", NULL);
	cr_assert_not_null(a, "%s", strerror(errno));
	return a;
}

static void moving_setup(struct moving *m)
{
	m->a = create();
	m->home = this_netns();
	m->away = other_netns();
	m->s = start(m->a, 0, 0);
}

static void moving_teardown(struct moving *m)
{
	WintunEndSession(m->s);
	WintunCloseAdapter(m->a);
	close(m->away);
	close(m->home);
}

/* Move the device from the calling thread's namespace to @to, as "ip link
 * set netns" would: not through the adapter handle. */
static void move_by_netlink(int to)
{
	struct wt_nl nl;

	cr_assert_eq(wt_nl_open(&nl, -1), 0);
	cr_assert_eq(wt_nl_link_set_netns(&nl, (int)if_nametoindex(IFNAME), to), 0);
	wt_nl_close(&nl);
}

Test(port_netdev, mtu_followed_after_set_adapter_netns, .timeout = 60)
{
	struct moving m;

	moving_setup(&m);
	cr_assert(WintunSetAdapterNetns(m.a, m.away), "%s", strerror(errno));
	send_big_over_there(m.away, m.home, 4000, 3000);
	expect_big_delivered(m.s, 3000);
	cr_expect(wt_test_log_contains("the engine follows it"));
	moving_teardown(&m);
}

/* Moved by someone else, then moved back: the engine follows both ways. */
Test(port_netdev, mtu_followed_after_foreign_move_and_back, .timeout = 60)
{
	struct moving m;

	moving_setup(&m);
	move_by_netlink(m.away);
	send_big_over_there(m.away, m.home, 3000, 2500);
	expect_big_delivered(m.s, 2500);

	cr_assert_eq(setns(m.away, CLONE_NEWNET), 0);
	move_by_netlink(m.home);
	cr_assert_eq(setns(m.home, CLONE_NEWNET), 0);
	send_big_over_there(m.home, m.home, 5000, 4500);
	expect_big_delivered(m.s, 4500);
	moving_teardown(&m);
}

/*
 * Renamed under a running session, and another device took the old name:
 * the engine knows its device by name and index (it asks the queue fd only
 * when those break), so it must not follow the newcomer's MTU.
 */
Test(port_netdev, mtu_followed_after_rename_with_the_old_name_taken, .timeout = 60)
{
	WINTUN_ADAPTER_HANDLE a, b;
	WINTUN_SESSION_HANDLE s;
	int fd;

	a = create();
	s = start(a, 0, 0); /* the engine has learnt "wtn0" and its index */
	cr_assert(WintunSetAdapterName(a, "wtn1"), "rename: %s", strerror(errno));
	b = WintunCreateAdapter(IFNAME, "Test", NULL);
	cr_assert_not_null(b, "%s", strerror(errno));
	cr_assert(WintunSetAdapterMtu(b, 1280), "%s", strerror(errno));
	cr_assert(WintunSetAdapterMtu(a, 4000), "%s", strerror(errno));
	nu_if_addr4_up("wtn1", LOCAL, 24);
	sleep_ms(200); /* the engine's next MTU probe is due before the read */
	fd = udp_socket();
	send_udp(fd, 3000, 1);
	close(fd);
	expect_big_delivered(s, 3000);

	WintunEndSession(s);
	WintunCloseAdapter(b);
	WintunCloseAdapter(a);
}

/* ---- defect 10: DropRingFull counts packets ----------------------------- */

/* The device's tx_dropped as the kernel reports it (getifaddrs' link
 * statistics: netlink in this namespace, not the library's code). */
static uint64_t kernel_tx_dropped(void)
{
	struct ifaddrs *all, *i;
	uint64_t v = UINT64_MAX;

	cr_assert_eq(getifaddrs(&all), 0, "%s", strerror(errno));
	for (i = all; i; i = i->ifa_next)
		/* The link's entry: AF_PACKET, or no address at all for a
		 * device without a link-layer address such as TUN. */
		if ((!i->ifa_addr || i->ifa_addr->sa_family == AF_PACKET) && i->ifa_data &&
		    !strcmp(i->ifa_name, IFNAME))
			v = ((const struct rtnl_link_stats *)i->ifa_data)->tx_dropped;
	freeifaddrs(all);
	cr_assert_neq(v, UINT64_MAX, "no statistics for " IFNAME);
	return v;
}

/* Wait (a hang guard, not a speed check) until @cond holds of the stats. */
#define WAIT_STATS(s, st, cond)                                      \
	do {                                                         \
		for (int tries_ = 0; tries_ < 1000; tries_++) {      \
			st = stats(s);                               \
			if (cond)                                    \
				break;                               \
			sleep_ms(10);                                \
		}                                                    \
	} while (0)

#define FILL 200u   /* paced: more than the ring holds, fewer than ring + queue */
#define FLOOD 2000u /* then at once: the TUN queue (500) overflows */

/*
 * Drain until the packets delivered (@got so far) and DropRingFull add up to
 * @sent, not until a quiet spell: the engine counts drops with a query that
 * waits for RTNL, at a new episode's start and on its way to sleep, and
 * another namespace's teardown can hold RTNL for seconds (10 s only guard
 * against a hang).  Then 300 ms more, for whatever should not come.  Returns
 * the packets delivered, the statistics after in *st.
 */
static uint32_t drain_until_counted(WINTUN_SESSION_HANDLE s, uint32_t got, uint32_t sent,
				    WINTUN_SESSION_STATISTICS *st)
{
	for (int tries = 0; tries < 1000; tries++) {
		got += drain(s, 10, NULL);
		*st = stats(s);
		if (got + st->Rx.DropRingFull >= sent)
			break;
	}
	got += drain(s, 300, NULL);
	*st = stats(s);
	return got;
}

/*
 * A client that stalls: the ring fills, the kernel's queue behind it too,
 * and the rest of a flood is dropped by the kernel.  Every packet sent is
 * then either delivered (once the client reads again) or in DropRingFull,
 * and the kernel dropped nothing else (its tx_dropped equals DropRingFull).
 */
static void ring_full_counts_packets(uint32_t flags)
{
	WINTUN_ADAPTER_HANDLE a;
	WINTUN_SESSION_HANDLE s;
	WINTUN_SESSION_STATISTICS st;
	uint64_t kdrop0;
	uint32_t got;
	int fd;

	a = create();
	cr_assert(WintunAddAdapterAddress(a, LOCAL "/24"));
	cr_assert(WintunSetAdapterUp(a, true));
	s = start(a, WINTUN_MIN_RING_CAPACITY, flags);
	kdrop0 = kernel_tx_dropped();
	fd = udp_socket();

	/* 128 KiB hold ~87 slots of 1504 bytes: the ring fills, nothing is
	 * dropped yet, however slowly the engine runs. */
	for (uint32_t i = 0; i < FILL; i++)
		send_udp(fd, 1000, i);
	WAIT_STATS(s, st, st.RxRingFullEpisodes >= 1);
	cr_assert_geq(st.RxRingFullEpisodes, 1, "the ring never filled");
	cr_assert_lt(st.Rx.Packets, FILL);
	for (uint32_t i = FILL; i < FILL + FLOOD; i++)
		send_udp(fd, 1000, i);
	close(fd);

	/* The client reads again: the episode ends, the queue drains. */
	got = drain_until_counted(s, 0, FILL + FLOOD, &st);
	cr_expect_gt(st.Rx.DropRingFull, 0);
	cr_expect_eq(got + st.Rx.DropRingFull, FILL + FLOOD, "delivered %u + dropped %llu",
		     got, (unsigned long long)st.Rx.DropRingFull);
	cr_expect_eq(st.Rx.Packets, got, "nothing but our packets");
	cr_expect_eq(kernel_tx_dropped() - kdrop0, st.Rx.DropRingFull,
		     "the kernel dropped for other reasons too");
	cr_expect_geq(st.RxRingFullEpisodes, 1);
	cr_expect_lt(st.RxRingFullEpisodes, st.Rx.DropRingFull,
		     "episodes are not packets");

	WintunEndSession(s);
	WintunCloseAdapter(a);
}

/*
 * One episode alone: a ring larger than the kernel's queue fills, a flood
 * overflows the queue, and the client then frees the whole ring at once, so
 * the queue fits and no second episode starts.  The episode's drops must be
 * counted all the same, when the engine next goes idle (wt_rx_full_settle),
 * not only by a next episode's start.
 */
static void ring_full_one_episode(uint32_t flags)
{
	static uint8_t *held[4096];
	WINTUN_ADAPTER_HANDLE a;
	WINTUN_SESSION_HANDLE s;
	WINTUN_SESSION_STATISTICS st;
	uint32_t sent = 0, nheld = 0, got = 0, size, stream, seq;
	uint64_t kdrop0;
	uint8_t *p;
	int fd;

	a = create();
	cr_assert(WintunAddAdapterAddress(a, LOCAL "/24"));
	cr_assert(WintunSetAdapterUp(a, true));
	s = start(a, 0x100000, flags);
	kdrop0 = kernel_tx_dropped();
	fd = udp_socket();

	/* Paced (the queue must not overflow yet) until the ring is full. */
	for (st = stats(s); !st.RxRingFullEpisodes; st = stats(s)) {
		cr_assert_lt(sent, 4000u, "a 1 MiB ring never filled");
		for (uint32_t i = 0; i < 100; i++)
			send_udp(fd, 1000, sent++);
		WAIT_STATS(s, st, st.RxRingFullEpisodes || st.Rx.Packets >= sent);
	}
	for (uint32_t i = 0; i < FLOOD; i++)
		send_udp(fd, 1000, sent++);
	close(fd);

	/* Take the whole ring, then give it all back at once: newest first,
	 * so that Head moves only with the oldest, over the whole ring. */
	while (nheld < sizeof(held) / sizeof(held[0]) && (p = WintunReceivePacket(s, &size))) {
		cr_assert(is_our_udp(p, size), "only our packets");
		cr_assert(wt_test_payload_check(p + 28, size - 28, &stream, &seq), "corrupt packet");
		held[nheld++] = p;
	}
	cr_assert_gt(nheld, 500u, "the ring held %u packets, no more than the queue", nheld);
	for (uint32_t i = nheld; i-- > 0;)
		WintunReleaseReceivePacket(s, held[i]);
	got = drain_until_counted(s, nheld, sent, &st);
	/* The multishot read's provided buffers drain one by one after the
	 * ring fills, and each pump that finds some left ends an episode: more
	 * than one there, the count exact all the same. */
	if (!(flags & WINTUN_SESSION_RX_MULTISHOT))
		cr_expect_eq(st.RxRingFullEpisodes, 1, "one episode, not %llu",
			     (unsigned long long)st.RxRingFullEpisodes);
	cr_expect_gt(st.Rx.DropRingFull, 0);
	cr_expect_eq(got + st.Rx.DropRingFull, sent, "delivered %u + dropped %llu of %u", got,
		     (unsigned long long)st.Rx.DropRingFull, sent);
	cr_expect_eq(kernel_tx_dropped() - kdrop0, st.Rx.DropRingFull,
		     "the kernel dropped for other reasons too");

	WintunEndSession(s);
	WintunCloseAdapter(a);
}

Test(port_netdev, ring_full_one_episode_counts_its_drops, .timeout = 120)
{
	ring_full_one_episode(0);
}

Test(port_netdev, ring_full_one_episode_counts_its_drops_multishot, .timeout = 120)
{
	if (!wt_test_kernel_has_read_multishot())
		cr_skip_test("the kernel has no IORING_OP_READ_MULTISHOT (Linux 6.7)");
	ring_full_one_episode(WINTUN_SESSION_RX_MULTISHOT);
}

Test(port_netdev, ring_full_counts_packets, .timeout = 120)
{
	ring_full_counts_packets(0);
}

Test(port_netdev, ring_full_counts_packets_multishot, .timeout = 120)
{
	if (!wt_test_kernel_has_read_multishot())
		cr_skip_test("the kernel has no IORING_OP_READ_MULTISHOT (Linux 6.7)");
	ring_full_counts_packets(WINTUN_SESSION_RX_MULTISHOT);
}

/* An old caller's struct, without RxRingFullEpisodes, still gets the rest. */
Test(port_netdev, statistics_old_size_accepted, .timeout = 60)
{
	WINTUN_ADAPTER_HANDLE a;
	WINTUN_SESSION_HANDLE s;
	WINTUN_SESSION_STATISTICS st;

	a = create();
	s = start(a, 0, 0);
	memset(&st, 0xAB, sizeof(st));
	st.Size = offsetof(WINTUN_SESSION_STATISTICS, RxRingFullEpisodes);
	cr_assert(WintunGetSessionStatistics(s, &st), "%s", strerror(errno));
	cr_expect_eq(st.Size, offsetof(WINTUN_SESSION_STATISTICS, RxRingFullEpisodes));
	cr_expect_eq(st.RxRingFullEpisodes, 0xABABABABABABABABull, "written past Size");
	WintunEndSession(s);
	WintunCloseAdapter(a);
}
