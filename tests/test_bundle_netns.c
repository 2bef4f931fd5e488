/* SPDX-License-Identifier: MIT */
/*
 * Batches and bundles through a real TUN device and the kernel, each test in
 * a private network namespace: echo requests go in, the kernel's replies and
 * a UDP socket's datagrams come out, checked byte by byte against the 0.1
 * bundle layout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine_fixture.h"
#include "helpers.h"
#include "netutil.h"
#include "wintun.h"

#define PEER "10.9.0.2"
#define SELF "10.9.0.1"
#define ECHOES 40

static WINTUN_ADAPTER_HANDLE a;
static WINTUN_SESSION_HANDLE s;

static void setup(void)
{
	a = ef_adapter("wtb0", SELF, true);
	s = WintunStartSession(a, 0x40000);
	cr_assert_not_null(s, "start: %s", strerror(errno));
}

static void teardown(void)
{
	WintunEndSession(s);
	WintunCloseAdapter(a);
}

TestSuite(bundle_netns, .init = setup, .fini = teardown, .timeout = 120);

static double now_sec(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Echo requests PEER -> SELF, seq 0..ECHOES-1, as a bundle laid out as the
 * 0.1 README draws it.  Returns its size. */
static uint32_t echo_bundle(uint8_t *b)
{
	uint32_t off = 0;

	for (uint16_t seq = 0; seq < ECHOES; seq++) {
		uint32_t len = nu_echo4(b + off + 16, PEER, SELF, 77, seq);

		memcpy(b + off, &len, 4);
		memset(b + off + 4, 0, 12);
		off += 16 + len;
		while (off % 16)
			b[off++] = 0;
	}
	return off;
}

/* The sequence number of an echo reply SELF -> PEER with id 77, or -1. */
static int echo_reply_seq(const uint8_t *p, uint32_t len)
{
	struct in_addr src;

	inet_pton(AF_INET, SELF, &src);
	if (len < 28 || p[0] != 0x45 || p[9] != IPPROTO_ICMP || p[20] != 0 ||
	    memcmp(p + 12, &src, 4) || p[24] != 0 || p[25] != 77)
		return -1;
	return p[26] << 8 | p[27];
}

/*
 * Walk a bundle from WintunReadBundle by the README's rules (sizes, zero
 * header and padding bytes, 16-byte records), calling @fn for each packet.
 * Returns the number of packets.
 */
static unsigned walk_read_bundle(const uint8_t *b, uint32_t size,
				 void (*fn)(const uint8_t *, uint32_t, void *), void *arg)
{
	static const uint8_t zero[16];
	uint32_t off = 0, len;
	unsigned n = 0;

	cr_assert_eq(size % 16, 0, "a bundle of whole 16-byte records");
	while (off < size) {
		memcpy(&len, b + off, 4);
		cr_assert(len >= 20 && len <= 0xFFFF && off + 16 + len <= size, "size %u at %u",
			  len, off);
		cr_assert_arr_eq(b + off + 4, zero, 12, "12 zero bytes at %u", off);
		fn(b + off + 16, len, arg);
		off += 16 + len;
		for (; off % 16; off++)
			cr_assert_eq(b[off], 0, "zero padding at %u", off);
		n++;
	}
	cr_assert_leq(n, WINTUN_MAX_BUNDLE_PACKETS);
	return n;
}

static void note_echo(const uint8_t *p, uint32_t len, void *arg)
{
	unsigned char *seen = arg;
	int seq = echo_reply_seq(p, len);

	if (seq >= 0 && seq < ECHOES)
		seen[seq]++;
}

static unsigned count_seen(const unsigned char *seen)
{
	unsigned n = 0;

	for (int i = 0; i < ECHOES; i++) {
		cr_assert_leq(seen[i], 1, "reply %d twice", i);
		n += seen[i];
	}
	return n;
}

Test(bundle_netns, bundle_of_echo_requests_round_trips_as_bundles)
{
	static uint8_t in[ECHOES * 64], out[65536];
	unsigned char seen[ECHOES] = { 0 };
	uint32_t size = echo_bundle(in);
	double deadline = now_sec() + 30;

	cr_assert(WintunWriteBundle(s, in, size), "write: %s", strerror(errno));
	while (count_seen(seen) < ECHOES && now_sec() < deadline) {
		uint32_t got = WintunReadBundle(s, out, sizeof(out));

		if (!got) {
			cr_assert_eq(errno, EAGAIN, "read: %s", strerror(errno));
			WintunWaitForPacket(s, 1000);
			continue;
		}
		walk_read_bundle(out, got, note_echo, seen);
	}
	cr_expect_eq(count_seen(seen), ECHOES, "every request answered");
}

Test(bundle_netns, malformed_bundle_reaches_nobody)
{
	static uint8_t in[ECHOES * 64];
	uint32_t size = echo_bundle(in);
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	in[size - 1] = 0xFF; /* the last record's padding */
	errno = 0;
	cr_expect_not(WintunWriteBundle(s, in, size));
	cr_expect_eq(errno, EINVAL);
	usleep(200 * 1000);
	cr_expect_not(WintunIsPacketAvailable(s), "no request went in, so no reply");
	cr_assert(WintunGetSessionStatistics(s, &st));
	cr_expect_eq(st.Tx.Packets, 0);
}

/* Batch calls both ways: echo requests allocated and sent in one batch,
 * replies received in batches and released in reverse order. */
Test(bundle_netns, batch_calls_round_trip)
{
	WINTUN_BATCH_PACKET p[ECHOES];
	unsigned char seen[ECHOES] = { 0 };
	uint8_t req[64];
	double deadline = now_sec() + 30;
	uint32_t n;

	for (int i = 0; i < ECHOES; i++)
		p[i] = (WINTUN_BATCH_PACKET){ .Size = nu_echo4(req, PEER, SELF, 77, (uint16_t)i) };
	cr_assert_eq(WintunAllocateSendPackets(s, p, ECHOES), ECHOES);
	for (int i = 0; i < ECHOES; i++)
		nu_echo4(p[i].Data, PEER, SELF, 77, (uint16_t)i);
	WintunSendPackets(s, p, ECHOES);
	while (count_seen(seen) < ECHOES && now_sec() < deadline) {
		n = WintunReceivePackets(s, p, ECHOES);
		if (!n) {
			cr_assert_eq(errno, EAGAIN, "receive: %s", strerror(errno));
			WintunWaitForPacket(s, 1000);
			continue;
		}
		for (uint32_t i = 0; i < n; i++)
			note_echo(p[i].Data, p[i].Size, seen);
		for (uint32_t i = 0; i < n / 2; i++) {
			WINTUN_BATCH_PACKET t = p[i];

			p[i] = p[n - 1 - i];
			p[n - 1 - i] = t;
		}
		WintunReleaseReceivePackets(s, p, n);
	}
	cr_expect_eq(count_seen(seen), ECHOES, "every request answered");
}

struct udp_seen {
	unsigned next;
	unsigned bad;
};

static void note_udp(const uint8_t *p, uint32_t len, void *arg)
{
	struct udp_seen *u = arg;
	unsigned seq;

	if (len != 28 + 64 || p[9] != IPPROTO_UDP || p[22] != 0x1F || p[23] != 0x90)
		return; /* not ours (to port 8080) */
	memcpy(&seq, p + 28, sizeof(seq));
	for (unsigned i = sizeof(seq); i < 64; i++)
		if (p[28 + i] != (uint8_t)(seq + i))
			u->bad++;
	if (seq != u->next)
		u->bad++;
	u->next = seq + 1;
}

static void send_datagrams(int fd, unsigned from, unsigned count)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(8080) };
	uint8_t payload[64];

	inet_pton(AF_INET, PEER, &to.sin_addr);
	for (unsigned seq = from; seq < from + count; seq++) {
		memcpy(payload, &seq, sizeof(seq));
		for (unsigned i = sizeof(seq); i < 64; i++)
			payload[i] = (uint8_t)(seq + i);
		cr_assert_eq(sendto(fd, payload, 64, 0, (struct sockaddr *)&to, sizeof(to)), 64);
	}
}

/* Datagrams from a socket, read back in bundles, in order.  Rounds of 100:
 * the device's queue (500 packets) drops what the engine has not read yet. */
Test(bundle_netns, socket_datagrams_read_as_bundles_in_order)
{
	static uint8_t out[65536];
	struct udp_seen u = { 0 };
	double deadline = now_sec() + 30;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned sent = 0;

	cr_assert_geq(fd, 0);
	while (sent < 600 && now_sec() < deadline) {
		send_datagrams(fd, sent, 100);
		sent += 100;
		while (u.next < sent && now_sec() < deadline) {
			uint32_t got = WintunReadBundle(s, out, sizeof(out));

			if (!got) {
				cr_assert_eq(errno, EAGAIN, "read: %s", strerror(errno));
				WintunWaitForPacket(s, 1000);
				continue;
			}
			walk_read_bundle(out, got, note_udp, &u);
		}
	}
	close(fd);
	cr_expect_eq(u.next, 600, "every datagram came out");
	cr_expect_eq(u.bad, 0, "datagrams corrupt or out of order");
}
