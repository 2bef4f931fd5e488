/* SPDX-License-Identifier: MIT */
/* Output: an aligned table per scenario, or JSON. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"
#include "config.h"
#include "stats.h"

static const char *impl_name[WB_NIMPL] = { "engine", "baseline" };

static const char baseline_desc[] =
	"one wb-base-io thread: poll() on the TUN fd(s) + Receive event; once poll() reports a "
	"TUN fd readable, read() until EAGAIN into the Send ring; one write() per packet; same TUN queue fd, packet information on "
	"(tun_pi handled in place), same rings and client code, no idle spin";

static struct wb_summary summary(const struct wb_result *r, enum wb_impl impl, unsigned metric)
{
	double v[r->runs_done ? r->runs_done : 1];

	for (unsigned i = 0; i < r->runs_done; i++)
		v[i] = r->m[impl][i * WB_NMETRIC + metric];
	return wb_summarize(v, r->runs_done);
}

static void fmt(char *buf, size_t n, double v, int prec)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else if (prec == 0 && fabs(v) >= 1e9)
		snprintf(buf, n, "%.2fG", v / 1e9);
	else if (prec == 0 && fabs(v) >= 1e6)
		snprintf(buf, n, "%.2fM", v / 1e6);
	else if (prec == 0 && fabs(v) >= 1e5)
		snprintf(buf, n, "%.1fk", v / 1e3);
	else
		snprintf(buf, n, "%.*f", prec, v);
}

static void cell(char *buf, size_t n, struct wb_summary s, int prec)
{
	char a[24], b[24], c[24];

	if (!s.n) {
		snprintf(buf, n, "-");
		return;
	}
	fmt(a, sizeof(a), s.median, prec);
	fmt(b, sizeof(b), s.min, prec);
	fmt(c, sizeof(c), s.max, prec);
	if (s.n == 1)
		snprintf(buf, n, "%s", a);
	else
		snprintf(buf, n, "%s [%s..%s]", a, b, c);
}

static void header(const struct wb_opts *o)
{
	struct utsname u;

	uname(&u);
	printf("wintun-bench %s  kernel %s  %ld CPUs  engine/I/O CPU %d, client CPU %d, "
	       "generator/sink CPU %d%s\n",
	       WINTUN_VERSION, u.release, sysconf(_SC_NPROCESSORS_ONLN), o->engine_cpu,
	       o->client_cpu, o->gen_cpu, o->gen_cpu_set ? "" : " (tcp, tso: unpinned)");
	if (!o->client_cpu_set)
		printf("tso, tso-split: the client on the engine/I/O CPU\n");
	if (!o->capacity_set)
		printf("tso: rings of 512 KiB (as tun-pump in offload mode)\n");
	printf("engine features: %s\n", wb_engine_features[0] ? wb_engine_features : "(no engine run)");
	printf("cycles: %s\n", wb_cpu_method());
	printf("baseline: %s\n", baseline_desc);
	printf("UDP payload %s (avg %.0f B), %u run(s) x %.1f s per implementation, interleaved; "
	       "cells: median [min..max]\n",
	       o->size_arg, wb_payload_avg(o), o->runs, o->duration);
	if (o->rate)
		printf("offered load: %llu packets/s (rx, tx, fwd)\n", (unsigned long long)o->rate);
	else
		printf("offered load: flood (no pacing)\n");
	printf("cycles/pkt: per packet the client received (tx: sent; pingpong: per round trip;\n"
	       "  tcp: per packet forwarded, data and ACKs); tcp Gbit/s is TCP goodput\n");
}

static void table_one(const struct wb_result *r)
{
	printf("\n== %s: %s (%u run%s each)\n", r->scn->name, r->scn->what, r->runs_done,
	       r->runs_done == 1 ? "" : "s");
	printf("%-32s %-30s %-30s %s\n", "metric", "engine", "baseline", "engine/baseline");
	for (unsigned k = 0; k < WB_NMETRIC; k++) {
		const struct wb_metric_def *d = &wb_metrics[k];
		struct wb_summary e = summary(r, WB_ENGINE, k), b = summary(r, WB_BASELINE, k);
		char ce[96], cb[96], cr[32] = "";

		if (!e.n && !b.n)
			continue;
		cell(ce, sizeof(ce), e, d->prec);
		cell(cb, sizeof(cb), b, d->prec);
		if (d->ratio && e.n && b.n && b.median > 0)
			snprintf(cr, sizeof(cr), "%.2f", e.median / b.median);
		printf("%-32s %-30s %-30s %s\n", d->label, ce, cb, cr);
	}
}

void wb_report_table(const struct wb_opts *o, const struct wb_result *r, unsigned n)
{
	header(o);
	for (unsigned i = 0; i < n; i++)
		table_one(&r[i]);
	fflush(stdout);
}

static void jnum(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fprintf(f, "null");
	else
		fprintf(f, "%.6g", v);
}

static void json_impl(FILE *f, const struct wb_result *r, enum wb_impl impl)
{
	fprintf(f, "\"%s\": {\"runs\": [", impl_name[impl]);
	for (unsigned i = 0; i < r->runs_done; i++) {
		fprintf(f, "%s{", i ? ", " : "");
		for (unsigned k = 0; k < WB_NMETRIC; k++) {
			fprintf(f, "%s\"%s\": ", k ? ", " : "", wb_metrics[k].key);
			jnum(f, r->m[impl][i * WB_NMETRIC + k]);
		}
		fprintf(f, "}");
	}
	fprintf(f, "], \"summary\": {");
	for (unsigned k = 0; k < WB_NMETRIC; k++) {
		struct wb_summary s = summary(r, impl, k);

		fprintf(f, "%s\"%s\": {\"median\": ", k ? ", " : "", wb_metrics[k].key);
		jnum(f, s.median);
		fprintf(f, ", \"min\": ");
		jnum(f, s.min);
		fprintf(f, ", \"max\": ");
		jnum(f, s.max);
		fprintf(f, "}");
	}
	fprintf(f, "}}");
}

static void json_one(FILE *f, const struct wb_result *r)
{
	fprintf(f, "{\"name\": \"%s\", \"description\": \"%s\", \"runs_done\": %u,\n    ",
	       r->scn->name, r->scn->what, r->runs_done);
	json_impl(f, r, WB_ENGINE);
	fprintf(f, ",\n    ");
	json_impl(f, r, WB_BASELINE);
	fprintf(f, ",\n    \"ratio\": {");
	for (unsigned k = 0; k < WB_NMETRIC; k++) {
		struct wb_summary e = summary(r, WB_ENGINE, k), b = summary(r, WB_BASELINE, k);

		fprintf(f, "%s\"%s\": ", k ? ", " : "", wb_metrics[k].key);
		jnum(f, e.n && b.n && b.median > 0 ? e.median / b.median : NAN);
	}
	fprintf(f, "}}");
}

void wb_report_json(FILE *f, const struct wb_opts *o, const struct wb_result *r, unsigned n)
{
	struct utsname u;

	uname(&u);
	fprintf(f, "{\"tool\": \"wintun-bench\", \"version\": \"%s\", \"kernel\": \"%s\", "
	       "\"cpus\": %ld,\n",
	       WINTUN_VERSION, u.release, sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, " \"cycles_method\": \"%s\", \"hw_counters\": %s, \"tsc_ghz\": %.4f,\n",
	       wb_cpu_method(), wb_cpu_hw() ? "true" : "false", wb_cpu_tsc_hz() / 1e9);
	fprintf(f, " \"baseline\": \"%s\",\n", baseline_desc);
	fprintf(f, " \"engine_features\": \"%s\",\n", wb_engine_features);
	fprintf(f, " \"options\": {\"size\": \"%s\", \"payload_avg\": %.1f, \"duration\": %g, "
	       "\"runs\": %u, \"engine_cpu\": %d, \"client_cpu\": %d, \"gen_cpu\": %d, "
	       "\"batch\": %u, \"spin_us\": %d, \"capacity\": %u, \"rate\": %llu},\n",
	       o->size_arg, wb_payload_avg(o), o->duration, o->runs, o->engine_cpu,
	       o->client_cpu, o->gen_cpu, o->batch, o->spin_us, o->capacity,
		(unsigned long long)o->rate);
	fprintf(f, " \"scenarios\": [");
	for (unsigned i = 0; i < n; i++) {
		fprintf(f, "%s\n  ", i ? "," : "");
		json_one(f, &r[i]);
	}
	fprintf(f, "\n ]}\n");
	fflush(f);
}
