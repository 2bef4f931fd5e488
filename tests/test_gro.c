/* SPDX-License-Identifier: MIT */
/*
 * TCP coalescing (GRO) in the engine, seen by the kernel: segments written
 * into the Receive ring of an offload-mode session must reach the device as
 * one super-packet (captured with a packet socket on the TUN device), with the
 * payload intact; and split -> coalesce gives back the original stream.
 * Also RX in offload mode: small packets do not keep whole 64 KiB slots.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "netutil.h"
#include "src/checksum.h"
#include "src/offload.h"
#include "src/session_lifetime.h"
#include "src/stats.h"
#include "wintun.h"

#define SEGS 10u
#define MSS 1000u

static struct wintun_session *s;
static int cap_fd;
static uint32_t offloads_on; /* what the kernel accepted */
static uint8_t payload[SEGS * MSS];

static void start_session(uint32_t capacity)
{
	struct wt_start_opts o = { .capacity = capacity, .cpu = -1, .numa_node = -1,
				   .spin_us = -1, .name = "wtg0", .offload = true,
				   .coalesce = true, .offloads = WINTUN_OFFLOAD_ALL };
	struct ifreq ifr = { 0 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd;

	wt_test_enter_netns(); /* first: the device must be created in it */
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	cr_assert(fd >= 0);
	strcpy(ifr.ifr_name, "wtg0");
	ifr.ifr_flags = IFF_TUN | IFF_MULTI_QUEUE | IFF_VNET_HDR;
	cr_assert_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
	/* The library's own negotiation: kernels before 6.2 refuse USO, and
	 * the session must then be told what is really on. */
	cr_assert_eq(wt_offload_enable(fd, "wtg0", WINTUN_OFFLOAD_ALL, &offloads_on), 0);
	o.offloads = offloads_on;
	nu_if_addr4_up("wtg0", "10.9.0.1", 24);
	cap_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	sll.sll_ifindex = (int)if_nametoindex("wtg0");
	cr_assert_eq(bind(cap_fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	cr_assert_eq(wt_session_start(fd, &o, &s), 0);
	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + i / 251);
}

static void start_coalescing_session(void)
{
	start_session(0x400000);
}

/* An IPv4 TCP segment 10.9.0.2:1234 -> 10.9.0.1:5555 with valid checksums. */
static uint32_t tcp4(uint8_t *p, uint32_t seq, uint8_t flags, const uint8_t *data, uint32_t len)
{
	uint32_t total = 40 + len, sum;
	uint8_t tail[4] = { 0, IPPROTO_TCP, (uint8_t)((20 + len) >> 8), (uint8_t)(20 + len) };
	uint16_t c;

	memset(p, 0, 40);
	p[0] = 0x45;
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	p[6] = 0x40;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	inet_pton(AF_INET, "10.9.0.2", p + 12);
	inet_pton(AF_INET, "10.9.0.1", p + 16);
	c = wt_csum_fold(wt_csum_add(0, p, 20));
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[20] = 0x04;
	p[21] = 0xD2;
	p[22] = 0x15;
	p[23] = 0xB3;
	p[24] = (uint8_t)(seq >> 24);
	p[25] = (uint8_t)(seq >> 16);
	p[26] = (uint8_t)(seq >> 8);
	p[27] = (uint8_t)seq;
	p[31] = 1; /* ack 1 */
	p[32] = 5 << 4;
	p[33] = flags;
	p[34] = 0x20;
	memcpy(p + 40, data, len);
	sum = wt_csum_add(wt_csum_add(0, p + 12, 8), tail, 4);
	c = wt_csum_fold(wt_csum_add(sum, p + 20, 20 + len));
	p[36] = (uint8_t)(c >> 8);
	p[37] = (uint8_t)c;
	return total;
}

/* The TCP packets to port 5555 the kernel saw, concatenated payloads. */
static uint32_t capture(uint8_t *out, uint32_t *packets, uint32_t *largest)
{
	static uint8_t buf[70000];
	uint32_t got = 0;

	*packets = *largest = 0;
	for (;;) {
		struct pollfd pfd = { .fd = cap_fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, got < sizeof(payload) ? 5000 : 300) <= 0)
			return got;
		n = recv(cap_fd, buf, sizeof(buf), 0);
		if (n < 40 || buf[9] != IPPROTO_TCP || (buf[22] << 8 | buf[23]) != 5555)
			continue;
		(*packets)++;
		if ((uint32_t)n > *largest)
			*largest = (uint32_t)n;
		memcpy(out + got, buf + 40, (size_t)n - 40);
		got += (uint32_t)n - 40;
	}
}

Test(gro, segments_reach_the_kernel_as_one_super_packet, .timeout = 60)
{
	static uint8_t seen[sizeof(payload) + 70000];
	uint8_t *rec[SEGS];
	uint32_t packets, largest;

	start_coalescing_session();
	/* Allocate all, send the first last: they are published together. */
	for (uint32_t i = 0; i < SEGS; i++) {
		rec[i] = WintunAllocateSendPacket(s, 10 + 40 + MSS);
		cr_assert_not_null(rec[i]);
		memset(rec[i], 0, 10);
		tcp4(rec[i] + 10, 1000000 + i * MSS, 0x10 | (i + 1 == SEGS ? 0x08 : 0),
		     payload + i * MSS, MSS);
	}
	for (uint32_t i = SEGS; i-- > 0;)
		WintunSendPacket(s, rec[i]);
	cr_assert_eq(capture(seen, &packets, &largest), sizeof(payload));
	cr_expect_eq(packets, offloads_on & WINTUN_OFFLOAD_TSO4 ? 1 : SEGS,
		     "%u packets reached the kernel (offloads 0x%02x)", packets, offloads_on);
	cr_expect_eq(largest, 40 + sizeof(payload));
	cr_expect_arr_eq(seen, payload, sizeof(payload));
	/* The capture can hold the data before the engine has reaped its
	 * write's completion, which is when the records are counted. */
	for (int i = 0; i < 1000 && wt_stat_get(&s->stats.tx.packets) < SEGS; i++)
		usleep(10000);
	cr_expect_eq(wt_stat_get(&s->stats.tx.packets), SEGS);
	wt_session_end(s);
}

Test(gro, split_then_coalesce_round_trip, .timeout = 60)
{
	static uint8_t super[10 + 40 + sizeof(payload)], seen[sizeof(payload) + 70000];
	uint32_t packets, largest, len;

	start_coalescing_session();
	len = tcp4(super + 10, 5000, 0x18, payload, sizeof(payload));
	/* A TSO super-packet as the kernel hands it over: GSO TCPV4, MSS. */
	memset(super, 0, 10);
	super[1] = 1;
	super[4] = (uint8_t)MSS;
	super[5] = (uint8_t)(MSS >> 8);
	cr_assert_eq(WintunSplitPacketToSession(super, 10 + len, s), SEGS);
	cr_assert_eq(capture(seen, &packets, &largest), sizeof(payload));
	cr_expect_arr_eq(seen, payload, sizeof(payload), "stream changed");
	/* The split publishes all segments at once (gso_api.c): one packet. */
	cr_expect_eq(packets, 1, "%u packets: not coalesced into one", packets);
	cr_expect_eq(largest, 40 + sizeof(payload));
	cr_expect_eq(wt_stat_get(&s->stats.tx.drop_write_error), 0);
	wt_session_end(s);
}

/* An IPv4 UDP datagram 10.9.0.2:1234 -> 10.9.0.1:6666 with its checksum. */
static uint32_t udp4(uint8_t *p, const uint8_t *data, uint32_t len)
{
	uint8_t tail[4] = { 0, IPPROTO_UDP, (uint8_t)((8 + len) >> 8), (uint8_t)(8 + len) };
	uint32_t total = nu_udp4(p, "10.9.0.2", "10.9.0.1", 1234, 6666, data, len), sum;
	uint16_t c;

	sum = wt_csum_add(wt_csum_add(0, p + 12, 8), tail, 4);
	c = wt_csum_fold(wt_csum_add(sum, p + 20, 8 + len));
	p[26] = (uint8_t)(c >> 8);
	p[27] = (uint8_t)c;
	return total;
}

/* Datagrams of one UDP flow go to the kernel as one USO super-packet (one
 * by one where the kernel has no USO, before 6.2), and the socket still
 * receives every datagram, intact and separate. */
Test(gro, udp_datagrams_coalesced_and_delivered_separately, .timeout = 60)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(6666) };
	static uint8_t buf[70000];
	uint8_t *rec[SEGS];
	uint32_t packets = 0;
	int sock;

	start_coalescing_session();
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.9.0.1", &at.sin_addr);
	cr_assert_eq(bind(sock, (struct sockaddr *)&at, sizeof(at)), 0);
	for (uint32_t i = 0; i < SEGS; i++) {
		rec[i] = WintunAllocateSendPacket(s, 10 + 28 + MSS);
		cr_assert_not_null(rec[i]);
		memset(rec[i], 0, 10);
		udp4(rec[i] + 10, payload + i * MSS, MSS);
	}
	for (uint32_t i = SEGS; i-- > 0;)
		WintunSendPacket(s, rec[i]);
	for (;;) {
		struct pollfd pfd = { .fd = cap_fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, packets ? 300 : 5000) <= 0)
			break;
		n = recv(cap_fd, buf, sizeof(buf), 0);
		if (n >= 28 && buf[9] == IPPROTO_UDP && (buf[22] << 8 | buf[23]) == 6666)
			packets++;
	}
	cr_expect_eq(packets, offloads_on & WINTUN_OFFLOAD_USO4 ? 1 : SEGS,
		     "%u packets reached the kernel (offloads 0x%02x)", packets, offloads_on);
	for (uint32_t i = 0; i < SEGS; i++) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		ssize_t n;

		cr_assert_eq(poll(&pfd, 1, 5000), 1, "datagram %u missing", i);
		n = recv(sock, buf, sizeof(buf), 0);
		cr_assert_eq(n, (ssize_t)MSS, "datagram %u: %zd bytes", i, n);
		cr_assert_arr_eq(buf, payload + i * MSS, MSS);
	}
	close(sock);
	wt_session_end(s);
}

/* RX in offload mode reads into 64 KiB slots; a small packet must not keep
 * its whole slot, or a 128 KiB ring holds one datagram (or seven ACKs in
 * 512 KiB).  Twenty small datagrams, nobody receiving: all must be there. */
Test(gro, rx_small_packets_do_not_keep_a_whole_slot, .timeout = 60)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	uint32_t got = 0, size;
	uint8_t *p, *held[64];
	unsigned nheld = 0;
	int sock;

	start_session(WINTUN_MIN_RING_CAPACITY);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.9.0.2", &to.sin_addr);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(sendto(sock, payload, 50, 0, (struct sockaddr *)&to, sizeof(to)), 50);
	/* Nothing is released until the end: the space stays taken.  (Other
	 * packets, e.g. IPv6 router solicitations, may come in between.) */
	for (int i = 0; i < 500 && got < 20; i++) {
		while (nheld < 64 && (p = WintunReceivePacket(s, &size))) {
			held[nheld++] = p;
			/* virtio_net_hdr, then IPv4/UDP with the 50 bytes */
			if (size == 10 + 28 + 50 && p[10 + 9] == IPPROTO_UDP)
				got++;
		}
		if (got < 20)
			usleep(10000);
	}
	cr_expect_eq(got, 20, "%u of 20 datagrams in the ring", got);
	for (unsigned i = 0; i < nheld; i++)
		WintunReleaseReceivePacket(s, held[i]);
	cr_expect_eq(wt_stat_get(&s->stats.rx.drop_ring_full), 0);
	close(sock);
	wt_session_end(s);
}
