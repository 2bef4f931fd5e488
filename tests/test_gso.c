/* SPDX-License-Identifier: MIT */
/* The checksum routine and the GSO split against hand-built super-packets. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "helpers.h"
#include "netutil.h"
#include "src/checksum.h"
#include "wintun.h"

/* nu_csum (tests/netutil.c) is the textbook RFC 1071 sum, one 16-bit word at
 * a time: the reference. */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	return nu_csum(p, (unsigned)len, 0);
}

Test(checksum, matches_the_reference)
{
	static uint8_t buf[3000];
	uint32_t x = 7;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t len = 0; len < sizeof(buf); len += len < 70 ? 1 : 97)
		cr_assert_eq(wt_csum_fold(wt_csum_add(0, buf, len)), ref_csum(buf, len), "len %zu", len);
	/* Chunks of even length sum like the whole. */
	cr_expect_eq(wt_csum_fold(wt_csum_add(wt_csum_add(0, buf, 1000), buf + 1000, 999)),
		     ref_csum(buf, 1999));
	/* Every alignment of the start, through the vector loop and its tail. */
	for (size_t off = 1; off < 16; off++)
		for (size_t len = 29; len < 100; len += 7)
			cr_assert_eq(wt_csum_fold(wt_csum_add(0, buf + off, len)),
				     ref_csum(buf + off, len), "offset %zu len %zu", off, len);
	memset(buf, 0xFF, 64);
	cr_expect_eq(wt_csum_fold(wt_csum_add(0, buf, 64)), ref_csum(buf, 64));
	cr_expect_eq(ref_csum((const uint8_t *)"\x45\x00\x00\x1c", 4), (uint16_t)~0x451c);
}

/* The largest record: all-ones words push every accumulator to its maximum. */
Test(checksum, largest_packet_all_ones_and_random)
{
	static uint8_t big[WINTUN_RING_MAX_PACKET_SIZE];
	uint32_t x = 99;

	memset(big, 0xFF, sizeof(big));
	cr_expect_eq(wt_csum_fold(wt_csum_add(0xFFFF, big, sizeof(big))),
		     nu_csum(big, sizeof(big), 0xFFFF));
	for (size_t i = 0; i < sizeof(big); i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (uint8_t)(x >> 16);
	}
	cr_expect_eq(wt_csum_fold(wt_csum_add(0, big, sizeof(big))), ref_csum(big, sizeof(big)));
}

/* ---- building super-packets ------------------------------------------- */

#define PAYLOAD 10000u
#define MSS 1448u

static uint8_t payload[PAYLOAD];

static void fill_payload(void)
{
	for (uint32_t i = 0; i < PAYLOAD; i++)
		payload[i] = (uint8_t)(i * 31 + 7);
}

static void vnet(uint8_t *r, uint8_t flags, uint8_t type, uint16_t hdr_len, uint16_t mss,
		 uint16_t cstart, uint16_t coff)
{
	uint16_t v[4] = { hdr_len, mss, cstart, coff };

	r[0] = flags;
	r[1] = type;
	for (int i = 0; i < 4; i++) {
		r[2 + 2 * i] = (uint8_t)v[i];
		r[3 + 2 * i] = (uint8_t)(v[i] >> 8);
	}
}

/* IPv4 or IPv6 header + TCP with 12 bytes of options (or UDP) + payload. */
static uint32_t build(uint8_t *rec, bool v6, uint8_t proto, uint8_t tcp_flags, uint32_t plen)
{
	uint8_t *ip = rec + 10;
	uint32_t ihl = v6 ? 40 : 20, l4 = proto == IPPROTO_TCP ? 32 : 8;
	uint32_t len = ihl + l4 + plen;
	uint8_t *t = ip + ihl;

	memset(ip, 0, ihl + l4);
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((len - 40) >> 8);
		ip[5] = (uint8_t)(len - 40);
		ip[6] = proto;
		ip[7] = 64;
		inet_pton(AF_INET6, "fd00::1", ip + 8);
		inet_pton(AF_INET6, "fd00::2", ip + 24);
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)(len >> 8);
		ip[3] = (uint8_t)len;
		ip[4] = 0x12;
		ip[5] = 0x34;
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = proto;
		inet_pton(AF_INET, "10.0.0.1", ip + 12);
		inet_pton(AF_INET, "10.0.0.2", ip + 16);
	}
	t[0] = 0x30;
	t[1] = 0x39; /* port 12345 */
	t[2] = 0x00;
	t[3] = 0x50; /* port 80 */
	if (proto == IPPROTO_TCP) {
		t[4] = 0xFF; /* sequence close to the wrap */
		t[5] = 0xFF;
		t[6] = 0xF0;
		t[7] = 0x00;
		t[12] = 8 << 4; /* 32-byte header: timestamps option */
		t[13] = tcp_flags;
		t[14] = 0xFF;
		t[20] = 1;
		t[21] = 1;
		t[22] = 8;
		t[23] = 10;
	}
	memcpy(t + l4, payload, plen);
	return len + 10;
}

static bool csum_ok(const uint8_t *pkt, uint32_t len)
{
	bool v6 = pkt[0] >> 4 == 6;
	uint32_t ihl = v6 ? 40 : (pkt[0] & 15u) * 4, l4len = len - ihl;
	uint8_t proto = v6 ? pkt[6] : pkt[9];
	uint8_t tail[4] = { 0, proto, (uint8_t)(l4len >> 8), (uint8_t)l4len };
	uint32_t sum = v6 ? wt_csum_add(0, pkt + 8, 32) : wt_csum_add(0, pkt + 12, 8);

	if (!v6 && wt_csum_fold(wt_csum_add(0, pkt, ihl)) != 0)
		return false; /* IPv4 header checksum */
	sum = wt_csum_add(sum, tail, 4);
	return wt_csum_fold(wt_csum_add(sum, pkt + ihl, l4len)) == 0;
}

static void check_tcp_split(bool v6)
{
	static uint8_t rec[70000], out[80000];
	uint32_t sizes[64], n, off = 0, ihl = v6 ? 40 : 20;
	uint32_t len = build(rec, v6, IPPROTO_TCP, 0x80 | 0x10 | 0x08 | 0x01, PAYLOAD);

	fill_payload();
	len = build(rec, v6, IPPROTO_TCP, 0x80 | 0x10 | 0x08 | 0x01, PAYLOAD);
	vnet(rec, 1, v6 ? 4 : 1, (uint16_t)(ihl + 32), MSS, (uint16_t)ihl, 16);
	n = WintunSplitPacket(rec, len, out, sizeof(out), sizes, 64);
	cr_assert_eq(n, (PAYLOAD + MSS - 1) / MSS, "%u segments: %s", n, strerror(errno));
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = out + off, *t = p + ihl;
		uint32_t plen = i + 1 < n ? MSS : PAYLOAD - MSS * (n - 1);
		uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];

		cr_assert_eq(sizes[i], ihl + 32 + plen);
		cr_assert(csum_ok(p, sizes[i]), "segment %u checksum", i);
		cr_assert_eq(seq, 0xFFFFF000u + i * MSS, "segment %u sequence", i);
		cr_assert_eq(t[13] & 0x01, i + 1 == n ? 0x01 : 0, "FIN on the last only");
		cr_assert_eq(t[13] & 0x08, i + 1 == n ? 0x08 : 0, "PSH on the last only");
		cr_assert_eq(t[13] & 0x80, i == 0 ? 0x80 : 0, "CWR on the first only");
		cr_assert_eq(t[13] & 0x10, 0x10, "ACK everywhere");
		cr_assert_eq(t[20], 1, "options kept");
		cr_assert_arr_eq(p + ihl + 32, payload + i * MSS, plen);
		if (v6) {
			cr_assert_eq((uint32_t)(p[4] << 8 | p[5]), 32 + plen);
		} else {
			cr_assert_eq((uint32_t)(p[2] << 8 | p[3]), sizes[i]);
			cr_assert_eq((uint32_t)(p[4] << 8 | p[5]), 0x1234 + i, "IPv4 ID");
		}
		off += sizes[i];
	}
}

Test(gso, tcp4_split)
{
	check_tcp_split(false);
}

Test(gso, tcp6_split)
{
	check_tcp_split(true);
}

Test(gso, udp4_split_and_short_last)
{
	static uint8_t rec[70000], out[80000];
	uint32_t sizes[64], n, len;

	fill_payload();
	len = build(rec, false, IPPROTO_UDP, 0, 3000);
	vnet(rec, 1, 5, 28, 1200, 20, 6);
	n = WintunSplitPacket(rec, len, out, sizeof(out), sizes, 64);
	cr_assert_eq(n, 3);
	cr_expect_eq(sizes[0], 28 + 1200);
	cr_expect_eq(sizes[2], 28 + 600);
	for (uint32_t i = 0, off = 0; i < n; off += sizes[i++]) {
		cr_expect(csum_ok(out + off, sizes[i]));
		cr_expect_eq((uint32_t)(out[off + 24] << 8 | out[off + 25]), sizes[i] - 20, "UDP length");
	}
}

Test(gso, not_a_super_packet_gets_its_checksum_completed)
{
	static uint8_t rec[2000], out[2000];
	uint32_t sizes[4], len, sum;
	uint8_t *ip = rec + 10;

	fill_payload();
	len = build(rec, false, IPPROTO_TCP, 0x18, 500);
	ip[10] = ip[11] = 0;
	sum = wt_csum_fold(wt_csum_add(0, ip, 20));
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	/* The kernel leaves the pseudo-header sum (not complemented) in place. */
	{
		uint8_t tail[4] = { 0, IPPROTO_TCP, (uint8_t)((532) >> 8), (uint8_t)532 };
		uint32_t ps = wt_csum_add(wt_csum_add(0, ip + 12, 8), tail, 4);
		uint16_t folded = (uint16_t)~wt_csum_fold(ps);

		ip[36] = (uint8_t)(folded >> 8);
		ip[37] = (uint8_t)folded;
	}
	vnet(rec, 1, 0, 0, 0, 20, 16);
	cr_assert_eq(WintunSplitPacket(rec, len, out, sizeof(out), sizes, 4), 1);
	cr_expect_eq(sizes[0], len - 10);
	cr_expect(csum_ok(out, sizes[0]));
}

/* Regression (found by tests/fuzz/fuzz_gso.c): a TCP data offset of 8..16
 * bytes passed the parse, and each short segment's checksum (at TCP offset
 * 16) was written past the end of the segment. */
Test(gso, tcp_header_shorter_than_20_bytes_is_refused)
{
	static uint8_t rec[200], out[1024];
	uint32_t sizes[64], len;

	wt_test_log_capture();
	fill_payload();
	/* IPv4 + 32 bytes of TCP, no payload; then claim an 8-byte TCP header:
	 * 24 bytes of "payload", 24 segments of 20 + 8 + 1 = 29 bytes. */
	len = build(rec, false, IPPROTO_TCP, 0x10, 0);
	rec[10 + 20 + 12] = 2 << 4;
	vnet(rec, 1, 1, 28, 1, 20, 16);
	memset(out, 0xA5, sizeof(out));
	errno = 0;
	cr_expect_eq(WintunSplitPacket(rec, len, out, 24 * 29, sizes, 64), 0);
	cr_expect_eq(errno, EINVAL);
	for (size_t i = 24 * 29; i < sizeof(out); i++)
		cr_assert_eq(out[i], 0xA5, "byte %zu past the buffer was written", i);
}

Test(gso, bad_input)
{
	static uint8_t rec[70000], out[80000];
	uint32_t sizes[64], len;

	wt_test_log_capture();
	fill_payload();
	len = build(rec, false, IPPROTO_TCP, 0x10, PAYLOAD);
	vnet(rec, 1, 1, 52, 0, 20, 16); /* MSS 0 */
	errno = 0;
	cr_expect_eq(WintunSplitPacket(rec, len, out, sizeof(out), sizes, 64), 0);
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("not a well-formed offload-mode record"));
	vnet(rec, 1, 4, 52, MSS, 20, 16); /* TCPV6 on an IPv4 packet */
	cr_expect_eq(WintunSplitPacket(rec, len, out, sizeof(out), sizes, 64), 0);
	vnet(rec, 1, 1, 52, MSS, 20, 16);
	cr_expect_eq(WintunSplitPacket(rec, len - 1, out, sizeof(out), sizes, 64), 0, "truncated");
	cr_expect_eq(WintunSplitPacket(rec, 9, out, sizeof(out), sizes, 64), 0);
	errno = 0;
	cr_expect_eq(WintunSplitPacket(rec, len, out, 3000, sizes, 64), 0);
	cr_expect_eq(errno, ENOBUFS);
	cr_expect_eq(WintunSplitPacket(rec, len, out, sizeof(out), sizes, 2), 0);
	cr_expect_eq(errno, ENOBUFS);
	rec[10 + 20 + 12] = 0x10; /* TCP data offset 4 bytes */
	cr_expect_eq(WintunSplitPacket(rec, len, out, sizeof(out), sizes, 64), 0);
	errno = 0;
	cr_expect_eq(WintunSplitPacket(NULL, len, out, sizeof(out), sizes, 64), 0);
	cr_expect_eq(errno, EINVAL);
	cr_expect_eq(WintunSplitPacketToSession(rec, len, NULL), 0);
	cr_expect_eq(errno, EINVAL);
	/* Everything else is bounds-checked: arbitrary bytes never crash. */
	for (uint32_t seed = 1; seed < 20000; seed++) {
		uint32_t x = seed, l = seed % 300;

		for (uint32_t i = 0; i < l; i++) {
			x = x * 1103515245u + 12345u;
			rec[i] = (uint8_t)(x >> 16);
		}
		WintunSplitPacket(rec, l, out, sizeof(out), sizes, 64);
	}
}
