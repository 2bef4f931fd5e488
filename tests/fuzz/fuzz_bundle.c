/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: wt_bundle_parse, the check of a Wintun 0.1 bundle that
 * WintunWriteBundle runs on a caller's (maybe another process's) buffer.
 * The input is the bundle, in a buffer of exactly its size so that ASan
 * catches any read past it.  What is accepted must be exactly what the
 * writer produces again, record for record; the input tiled until it holds
 * more than 256 packets must be refused.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "ip_header.h"
#include "wintun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wt_bundle_pkt pkts[WINTUN_MAX_BUNDLE_PACKETS];

/* An accepted bundle, written again from its packets, is the input. */
static void check_round_trip(const uint8_t *buf, uint32_t size, int n)
{
	uint8_t *again = malloc(size ? size : 1);
	uint32_t off = 0, span;

	for (int i = 0; i < n; i++) {
		if (pkts[i].data < buf + off || pkts[i].data + pkts[i].len > buf + size ||
		    !wt_ip_ethertype(pkts[i].data, pkts[i].len))
			abort();
		span = wt_bundle_put(again + off, size - off, pkts[i].data, pkts[i].len);
		if (!span)
			abort();
		off += span;
	}
	if (off != size || memcmp(again, buf, size))
		abort();
	free(again);
}

/* The bundle repeated past 256 packets must be refused as a whole. */
static void check_limit(const uint8_t *buf, uint32_t size, int n)
{
	uint32_t reps = WINTUN_MAX_BUNDLE_PACKETS / (uint32_t)n + 1, total = size * reps;
	uint8_t *tiled;

	if (total > (1u << 22))
		return;
	tiled = malloc(total);
	for (uint32_t i = 0; i < reps; i++)
		memcpy(tiled + i * size, buf, size);
	if (wt_bundle_parse(tiled, total, pkts) != -EINVAL)
		abort();
	if (wt_bundle_parse(tiled, size * (reps - 1), pkts) != n * (int)(reps - 1))
		abort();
	free(tiled);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	int n;

	if (size > (1u << 20))
		return 0;
	buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	n = wt_bundle_parse(buf, (uint32_t)size, pkts);
	if (n < -EINVAL || (n < 0 && n != -EINVAL) || n > WINTUN_MAX_BUNDLE_PACKETS)
		abort();
	if (n >= 0)
		check_round_trip(buf, (uint32_t)size, n);
	if (n > 0)
		check_limit(buf, (uint32_t)size, n);
	free(buf);
	return 0;
}
