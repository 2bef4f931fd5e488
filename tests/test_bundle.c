/* SPDX-License-Identifier: MIT */
/*
 * Wintun 0.1 bundles: the parser against bundles laid out byte by byte as
 * the 0.1 README draws them (size, 12 zero bytes, packet, zero padding to 16),
 * each malformation, and bundle reads and writes on a session.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fake_engine.h"
#include "helpers.h"
#include "pktbuild.h"
#include "src/atomic.h"
#include "src/bundle.h"
#include "src/session.h"
#include "wintun.h"

#define CAP 0x20000u

static struct wintun_session *s;
static uint8_t bundle[WINTUN_MAX_BUNDLE_PACKETS * 2 * 64 + 0x20000];
static struct wt_bundle_pkt pkts[WINTUN_MAX_BUNDLE_PACKETS];

static void setup(void)
{
	wt_test_log_capture();
	cr_assert_eq(wt_session_create(CAP, -1, false, &s), 0);
	memset(bundle, 0, sizeof(bundle));
}

static void teardown(void)
{
	wt_session_destroy(s);
}

TestSuite(bundle, .init = setup, .fini = teardown, .timeout = 60);

/* A UDP/IPv4 packet of @len bytes (>= 28) whose payload bytes are @seed. */
static unsigned udp_packet(uint8_t *buf, unsigned len, uint8_t seed)
{
	static const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };
	uint8_t payload[1500];

	memset(payload, seed, sizeof(payload));
	return pb_udp4(buf, src, dst, 1000, 2000, payload, len - 28);
}

/*
 * Append one record at @off the way the README draws it: size_n (4 bytes,
 * native endian), 12 zero bytes, packet_n, then zeros to the next 16-byte
 * boundary.  Written out here rather than with wt_bundle_put, so that the
 * test checks the library against the format and not against itself.
 */
static uint32_t put_record(uint32_t off, unsigned len, uint8_t seed)
{
	uint32_t size = len;

	memcpy(bundle + off, &size, 4);
	udp_packet(bundle + off + 16, len, seed);
	off += 16 + len;
	while (off % 16)
		bundle[off++] = 0;
	return off;
}

Test(bundle, parses_the_readme_layout)
{
	uint32_t end = put_record(0, 28, 1); /* 16 + 28 + 4 = 48 */

	cr_assert_eq(end, 48);
	end = put_record(end, 32, 2); /* a packet ending on a boundary: no padding */
	cr_assert_eq(end, 48 + 48);
	end = put_record(end, 29, 3);
	cr_assert_eq(wt_bundle_parse(bundle, end, pkts), 3);
	cr_expect_eq(pkts[0].data, bundle + 16);
	cr_expect_eq(pkts[0].len, 28);
	cr_expect_eq(pkts[1].data, bundle + 64);
	cr_expect_eq(pkts[1].len, 32);
	cr_expect_eq(pkts[2].len, 29);
	cr_expect_eq(pkts[2].data[28], 3);
	cr_expect_eq(wt_bundle_parse(bundle, 0, pkts), 0, "an empty bundle is empty");
}

Test(bundle, writer_matches_the_layout)
{
	uint8_t pkt[64], out[128];

	udp_packet(pkt, 44, 9);
	memset(out, 0xEE, sizeof(out));
	cr_assert_eq(wt_bundle_put(out, sizeof(out), pkt, 44), 64);
	put_record(0, 44, 9);
	cr_expect_arr_eq(out, bundle, 64);
	cr_expect_eq(wt_bundle_put(out, 63, pkt, 44), 0, "does not fit");
}

/* Parse @size bytes, expecting EINVAL and a log line with @what. */
static void expect_malformed(uint32_t size, const char *what)
{
	wt_test_log_clear();
	cr_expect_eq(wt_bundle_parse(bundle, size, pkts), -EINVAL, "%s", what);
	cr_expect(wt_test_log_contains(what), "log line with \"%s\"", what);
}

Test(bundle, each_malformation_is_einval_with_its_offset)
{
	uint32_t two = put_record(put_record(0, 28, 1), 28, 2); /* records at 0 and 48 */
	uint32_t v;

	expect_malformed(two - 1, "packet at offset 48 (48 bytes with padding) runs past");
	expect_malformed(two - 40, "8 bytes at offset 48 are too few");
	bundle[48 + 7] = 1;
	expect_malformed(two, "12 bytes after the size at offset 48 are not zero");
	bundle[48 + 7] = 0;
	bundle[48 + 16 + 28 + 3] = 0x80;
	expect_malformed(two, "padding after the packet at offset 48 is not zero");
	bundle[48 + 16 + 28 + 3] = 0;
	bundle[48 + 16] = 0x50; /* version 5 */
	expect_malformed(two, "packet at offset 48 is not an IPv4 or IPv6");
	bundle[48 + 16] = 0x45;
	v = 0;
	memcpy(bundle + 48, &v, 4);
	expect_malformed(two, "size 0 at offset 48");
	v = WINTUN_MAX_IP_PACKET_SIZE + 1;
	memcpy(bundle + 48, &v, 4);
	expect_malformed(two, "size 65536 at offset 48");
	v = 28;
	memcpy(bundle + 48, &v, 4);
	cr_expect_eq(wt_bundle_parse(bundle, two, pkts), 2, "repaired");
	/* An IPv4 header is 20 bytes: a 19-byte "packet" is not IP. */
	v = 19;
	memcpy(bundle, &v, 4);
	memset(bundle + 16 + 19, 0, 48 - 16 - 19);
	expect_malformed(48, "packet at offset 0 is not an IPv4 or IPv6");
}

Test(bundle, more_than_256_packets_is_einval)
{
	uint32_t end = 0;

	for (int i = 0; i < WINTUN_MAX_BUNDLE_PACKETS; i++)
		end = put_record(end, 28, (uint8_t)i);
	cr_expect_eq(wt_bundle_parse(bundle, end, pkts), WINTUN_MAX_BUNDLE_PACKETS);
	end = put_record(end, 28, 0);
	expect_malformed(end, "more than 256 packets (the next one at offset 12288)");
}

Test(bundle, write_sends_every_packet_in_order)
{
	uint32_t end = put_record(put_record(put_record(0, 28, 1), 100, 2), 41, 3);
	WINTUN_RING *r = s->rings.desc.Receive.Ring;

	cr_assert(WintunWriteBundle(s, bundle, end));
	cr_expect_eq(r->Tail, 32 + 104 + 48);
	cr_expect_eq(wintun_ring_record(r, 0)->Size, 28);
	cr_expect_arr_eq(wintun_ring_record(r, 0)->Data, bundle + 16, 28);
	cr_expect_eq(wintun_ring_record(r, 32)->Size, 100);
	cr_expect_arr_eq(wintun_ring_record(r, 32)->Data, bundle + 48 + 16, 100);
	cr_expect_eq(wintun_ring_record(r, 136)->Size, 41);
	cr_expect(WintunWriteBundle(s, NULL, 0), "an empty bundle sends nothing");
	cr_expect_eq(r->Tail, 184);
}

Test(bundle, malformed_bundle_sends_nothing)
{
	uint32_t end = put_record(put_record(0, 28, 1), 28, 2);

	bundle[end - 1] = 1; /* the last record's padding */
	errno = 0;
	cr_expect_not(WintunWriteBundle(s, bundle, end));
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("offset 48"));
	cr_expect_eq(s->rings.desc.Receive.Ring->Tail, 0, "the first packet was not sent");
	cr_expect_eq(s->tx.tail, 0, "nor allocated");
}

Test(bundle, write_is_all_or_nothing_when_the_ring_is_full)
{
	uint32_t end = 0, n = 0;
	uint8_t *p;

	/* Leave room for exactly two 1500-byte records. */
	while (wintun_ring_free(0, s->tx.tail, CAP) >= 3 * 1504) {
		p = WintunAllocateSendPacket(s, 1500);
		cr_assert_not_null(p);
		WintunSendPacket(s, p);
	}
	for (; n < 3; n++)
		end = put_record(end, 1500, (uint8_t)n);
	errno = 0;
	cr_expect_not(WintunWriteBundle(s, bundle, end));
	cr_expect_eq(errno, ENOBUFS);
	cr_expect(WintunWriteBundle(s, bundle, 2 * wt_bundle_record_len(1500)), "two fit");
}

Test(bundle, read_copies_and_releases)
{
	uint8_t pkt[3][128];
	uint8_t out[4096];
	uint32_t size;

	udp_packet(pkt[0], 28, 1);
	udp_packet(pkt[1], 100, 2);
	udp_packet(pkt[2], 33, 3);
	fake_produce(s, pkt[0], 28);
	fake_produce_pad(s, 12);
	fake_produce(s, pkt[1], 100);
	fake_produce(s, pkt[2], 33);
	memset(out, 0xEE, sizeof(out));
	size = WintunReadBundle(s, out, sizeof(out));
	put_record(put_record(put_record(0, 28, 1), 100, 2), 33, 3);
	cr_assert_eq(size, 48 + 128 + 64);
	cr_expect_arr_eq(out, bundle, size, "the bundle the README describes");
	cr_expect_eq(s->rings.desc.Send.Ring->Head, s->rings.desc.Send.Ring->Tail, "released");
	errno = 0;
	cr_expect_eq(WintunReadBundle(s, out, sizeof(out)), 0);
	cr_expect_eq(errno, EAGAIN);
	cr_expect_eq(s->rings.desc.Send.Ring->Alertable, 1, "armed like WintunReceivePacket");
}

Test(bundle, read_stops_where_the_buffer_ends)
{
	uint8_t pkt[128], out[200];

	udp_packet(pkt, 100, 1);
	fake_produce(s, pkt, 100);
	fake_produce(s, pkt, 100);
	/* One 128-byte record fits in 200 bytes, the second does not. */
	cr_expect_eq(WintunReadBundle(s, out, sizeof(out)), 128);
	errno = 0;
	cr_expect_eq(WintunReadBundle(s, out, 127), 0);
	cr_expect_eq(errno, ENOBUFS);
	cr_expect(wt_test_log_contains("cannot hold the next packet (100 bytes, 128"));
	cr_expect_eq(WintunReadBundle(s, out, 128), 128, "the packet stayed in the ring");
}

Test(bundle, read_takes_at_most_256_packets)
{
	static uint8_t out[300 * 48];
	uint8_t pkt[28];

	udp_packet(pkt, 28, 1);
	for (int i = 0; i < 300; i++)
		fake_produce(s, pkt, 28);
	cr_expect_eq(WintunReadBundle(s, out, sizeof(out)), WINTUN_MAX_BUNDLE_PACKETS * 48);
	cr_expect_eq(WintunReadBundle(s, out, sizeof(out)), 44 * 48);
}

Test(bundle, bad_input_and_offload_sessions)
{
	uint8_t out[64];

	errno = 0;
	cr_expect_eq(WintunReadBundle(s, NULL, 64), 0);
	cr_expect_eq(errno, EINVAL);
	errno = 0;
	cr_expect_not(WintunWriteBundle(NULL, bundle, 16));
	cr_expect_eq(errno, EINVAL);
	s->vnet_hdr = true;
	errno = 0;
	cr_expect_eq(WintunReadBundle(s, out, sizeof(out)), 0);
	cr_expect_eq(errno, EINVAL);
	cr_expect(wt_test_log_contains("offload mode"));
	s->vnet_hdr = false;
}
