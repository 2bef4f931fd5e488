/* SPDX-License-Identifier: MIT */
/*
 * --checksum: the library's Internet checksum (src/checksum.c, used by the
 * GSO split and the coalescer) against the textbook RFC 1071 loop (one
 * 16-bit word at a time, tests/pktbuild.c), on the same buffers in the same
 * run: bytes per cycle and GB/s for a header, an MTU packet and a 64 KiB
 * super-packet, medians of --runs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "src/checksum.h"
#include "stats.h"
#include "tests/pktbuild.h"

#define CS_SIZES 3
#define CS_IMPLS 2

static const unsigned cs_size[CS_SIZES] = { 40, 1500, 65535 };
static const char *const cs_name[CS_IMPLS] = { "wt_csum_add", "textbook (16-bit words)" };

static volatile uint32_t cs_sink; /* keeps the sums alive */

static uint32_t cs_one(unsigned impl, const uint8_t *buf, unsigned len)
{
	return impl == 0 ? wt_csum_fold(wt_csum_add(0, buf, len)) : pb_csum(buf, len, 0);
}

/* Bytes per nanosecond (= GB/s) of @impl over @len bytes, for ~50 ms. */
static double cs_rate(unsigned impl, const uint8_t *buf, unsigned len)
{
	uint64_t reps = 0, bytes = 0, t0 = wb_now_ns(), t;
	uint32_t acc = 0;

	do {
		for (unsigned i = 0; i < 64; i++)
			acc += cs_one(impl, buf + (reps + i) % 8, len); /* vary the alignment */
		reps += 64;
		bytes += 64ull * len;
		t = wb_now_ns();
	} while (t - t0 < 50000000u);
	cs_sink = acc;
	return (double)bytes / (double)(t - t0);
}

int wb_checksum_bench(const struct wb_opts *o)
{
	uint8_t *buf = malloc(65536 + 8);
	double *v = calloc((size_t)o->runs * CS_IMPLS, sizeof(double));
	double ghz = wb_cpu_tsc_hz() / 1e9, med[CS_SIZES][CS_IMPLS];

	if (!buf || !v) {
		free(buf);
		free(v);
		fprintf(stderr, "wintun-bench: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < 65536 + 8; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 8));
	for (unsigned sz = 0; sz < CS_SIZES; sz++) {
		/* Interleaved run by run: both see the same moments of this
		 * noisy machine. */
		for (unsigned r = 0; r < o->runs; r++)
			for (unsigned impl = 0; impl < CS_IMPLS; impl++)
				v[impl * o->runs + r] = cs_rate(impl, buf, cs_size[sz]);
		for (unsigned impl = 0; impl < CS_IMPLS; impl++)
			med[sz][impl] = wb_summarize(v + impl * o->runs, o->runs).median;
	}
	printf("checksum: %u run(s) of 50 ms per cell, medians; TSC %.3f GHz\n", o->runs, ghz);
	printf("%-8s %-26s %-26s %s\n", "bytes", cs_name[0], cs_name[1], "ratio");
	for (unsigned sz = 0; sz < CS_SIZES; sz++) {
		char a[40], b[40];

		snprintf(a, sizeof(a), "%.2f GB/s %.2f B/cycle", med[sz][0], med[sz][0] / ghz);
		snprintf(b, sizeof(b), "%.2f GB/s %.2f B/cycle", med[sz][1], med[sz][1] / ghz);
		printf("%-8u %-26s %-26s %.2f\n", cs_size[sz], a, b, med[sz][0] / med[sz][1]);
	}
	free(buf);
	free(v);
	return 0;
}
