/* SPDX-License-Identifier: MIT */
/* Command line of wintun-bench. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "config.h"
#include "wintun.h"

static const char usage[] =
	"usage: wintun-bench [options]\n"
	"Measures the Wintun io_uring engine against a plain poll()+read()/write() loop\n"
	"on the same TUN devices, in a private network namespace (needs root or\n"
	"CAP_NET_ADMIN + CAP_SYS_ADMIN).  Runs are interleaved engine, baseline, ...\n"
	"\n"
	"  --scenario S     rx | tx | rx-batch | tx-batch | fwd | tcp | pingpong |\n"
	"                   tso | tso-split | all | mq\n"
	"                   (default all; mq is not part of all); may repeat\n"
	"                   mq: --streams TCP streams, then --flows UDP flows of 64-byte\n"
	"                   packets, A -> wbqA -> forwarders -> wbqB -> B, through 1 queue\n"
	"                   pair and through --queues pairs, and the streams over veth\n"
	"                   rx: kernel UDP (sendmmsg) -> TUN -> Send ring -> client\n"
	"                   tx: client -> Receive ring -> TUN -> kernel UDP sink\n"
	"                   rx-batch, tx-batch: rx, tx with the client on the batch\n"
	"                   calls (up to 64 packets per call) instead of one per call\n"
	"                   fwd: netns A socket -> tunA -> client forwarder -> tunB -> netns B sink\n"
	"                   tcp: one TCP bulk stream A -> B through the same forwarder\n"
	"                   pingpong: ICMP echo through the rings, kernel answers\n"
	"                   tso: tcp in offload mode (TSO/GRO super-packets through the\n"
	"                   rings), next to the same stream over a veth pair (the bound)\n"
	"                   tso-split: tso, the forwarder splitting every super-packet\n"
	"                   into MTU-sized packets, the far engine coalescing them\n"
	"  --size N         UDP payload: 64 | 1400 | mtu | mixed | bytes 1..1472 (default 64)\n"
	"                   mixed: 7 x 64, 4 x 548, 1 x 1400 bytes\n"
	"  --duration SEC   seconds per run (default 3)\n"
	"  --runs N         runs per implementation (default 5)\n"
	"  --engine-cpu C   CPU of the engine / baseline I/O thread (-1: unpinned)\n"
	"  --client-cpu C   CPU of the client thread (tso, tso-split: the engine's\n"
	"                   CPU unless given, as tun-pump does in offload mode)\n"
	"  --gen-cpu C      CPU of the traffic generator and sink threads (tcp, tso:\n"
	"                   unpinned unless given, as for the veth bound)\n"
	"  --batch N        engine RX batch (reads per io_uring_enter, default engine's)\n"
	"  --spin-us N      engine idle spin in microseconds, and the longest client\n"
	"                   wait spin, both implementations' (default: the library's,\n"
	"                   engine 10, or 0 in offload mode; client 5)\n"
	"  --rx-multishot   engine RX with the multishot-read variant (default: drain)\n"
	"  --capacity N     ring capacity in bytes, power of two (default 4 MiB; tso:\n"
	"                   512 KiB, as tun-pump in offload mode)\n"
	"  --rate PPS       offered load of rx, tx and fwd in packets/s (default 0: flood);\n"
	"                   at a rate both sides sustain, cycles/pkt compare like for like\n"
	"  --count-syscalls count the I/O and client threads' system calls exactly\n"
	"                   (syscall tracepoints; they slow every system call a little)\n"
	"  --no-hw          do not use hardware counters even if present\n"
	"  --json           machine-readable output on stdout instead of the table\n"
	"  --json-out FILE  also write the JSON to FILE (for bench/plot.sh)\n"
	"  --quick          a few seconds in total: 1 run of 0.5 s per implementation\n"
	"  --queues N       mq: queue pairs to compare with one (default: the allowed\n"
	"                   CPUs, at least 2)\n"
	"  --streams S      mq: TCP streams (default 2)\n"
	"  --flows F        mq: UDP flows (default 4)\n"
	"  --checksum       only measure the checksum routine of the GSO split and the\n"
	"                   coalescer against the textbook RFC 1071 loop (no devices)\n"
	"  --calls          only measure the client calls' own cost per packet, single\n"
	"                   against batch (one thread, no engine, no devices)\n"
	"  --help           this text\n"
	"  --version        the versions of wintun-bench and of the library\n";

/* The library may come from another build than the tool: name both. */
static void print_version(void)
{
	uint32_t v = WintunGetRunningDriverVersion();

	printf("wintun-bench (Wintun for Linux) %s\nlibwintun %u.%u (running)\n", WINTUN_VERSION,
	       v >> 16, v & 0xFFFF);
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_cpu(const char *s, int *out)
{
	unsigned long v;

	if (s && !strcmp(s, "-1")) {
		*out = -1;
		return true;
	}
	if (!parse_uint(s, CPU_SETSIZE - 1, &v))
		return false;
	*out = (int)v;
	return true;
}

static bool parse_scenario(const char *s, unsigned *mask, bool *mq)
{
	static const char *names[WB_NSCN] = { "rx",  "tx",	 "rx-batch", "tx-batch", "fwd",
					       "tcp", "pingpong", "tso",      "tso-split" };

	if (!strcmp(s, "mq")) {
		*mq = true;
		return true;
	}
	if (!strcmp(s, "all")) {
		*mask = (1u << WB_NSCN) - 1;
		return true;
	}
	for (unsigned i = 0; i < WB_NSCN; i++)
		if (!strcmp(s, names[i])) {
			*mask |= 1u << i;
			return true;
		}
	return false;
}

static bool parse_size(struct wb_opts *o, const char *s)
{
	unsigned long v;

	o->size_arg = s;
	if (!strcmp(s, "mtu")) {
		o->size_mode = WB_SIZE_MTU;
		o->payload = WB_MTU - 28;
		return true;
	}
	if (!strcmp(s, "mixed")) {
		o->size_mode = WB_SIZE_MIXED;
		return true;
	}
	if (!parse_uint(s, WB_MTU - 28, &v) || v == 0)
		return false;
	o->size_mode = WB_SIZE_FIXED;
	o->payload = (unsigned)v;
	return true;
}

/* Defaults: the engine on the last allowed CPU (as the library picks), the
 * client on the first, the generator on a third one if there is one. */
static void default_cpus(struct wb_opts *o)
{
	cpu_set_t set;
	int cpus[3] = { -1, -1, -1 }, n = 0, last = -1;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			if (n < 3)
				cpus[n++] = c;
			last = c;
		}
	o->engine_cpu = last;
	o->client_cpu = cpus[0];
	o->gen_cpu = n >= 3 ? cpus[1] : cpus[0];
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "wintun-bench: bad %s '%s' (see --help)\n", what, arg ? arg : "");
	return 2;
}

int wb_opts_parse(struct wb_opts *o, int argc, char **argv, bool *exit_now)
{
	enum { O_SCN = 256, O_SIZE, O_DUR, O_RUNS, O_ECPU, O_CCPU, O_GCPU, O_BATCH, O_SPIN,
	       O_CAP, O_RATE, O_NOHW, O_SYSC, O_JSON, O_JSON_OUT, O_QUICK, O_HELP, O_MS,
	       O_CSUM, O_VERSION, O_QUEUES, O_STREAMS, O_FLOWS, O_CALLS };
	static const struct option lo[] = {
		{ "scenario", 1, NULL, O_SCN }, { "size", 1, NULL, O_SIZE },
		{ "duration", 1, NULL, O_DUR }, { "runs", 1, NULL, O_RUNS },
		{ "engine-cpu", 1, NULL, O_ECPU }, { "client-cpu", 1, NULL, O_CCPU },
		{ "gen-cpu", 1, NULL, O_GCPU }, { "batch", 1, NULL, O_BATCH },
		{ "spin-us", 1, NULL, O_SPIN }, { "capacity", 1, NULL, O_CAP },
		{ "rx-multishot", 0, NULL, O_MS },
		{ "rate", 1, NULL, O_RATE }, { "count-syscalls", 0, NULL, O_SYSC },
		{ "no-hw", 0, NULL, O_NOHW }, { "json", 0, NULL, O_JSON },
		{ "json-out", 1, NULL, O_JSON_OUT },
		{ "quick", 0, NULL, O_QUICK }, { "help", 0, NULL, O_HELP },
		{ "checksum", 0, NULL, O_CSUM }, { "calls", 0, NULL, O_CALLS },
		{ "version", 0, NULL, O_VERSION },
		{ "queues", 1, NULL, O_QUEUES }, { "streams", 1, NULL, O_STREAMS },
		{ "flows", 1, NULL, O_FLOWS },
		{ NULL, 0, NULL, 0 },
	};
	bool runs_set = false, dur_set = false;
	unsigned long v;
	char *end;
	int c;

	*o = (struct wb_opts){ .payload = 64, .size_arg = "64", .duration = 3, .runs = 5,
			       .spin_us = -1, .capacity = 4u << 20 };
	default_cpus(o);
	*exit_now = false;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_SCN:
			if (!parse_scenario(optarg, &o->scenarios, &o->mq))
				return bad("scenario", optarg);
			break;
		case O_SIZE:
			if (!parse_size(o, optarg))
				return bad("size", optarg);
			break;
		case O_DUR:
			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || *end || !(o->duration >= 0.1 && o->duration <= 3600))
				return bad("duration (0.1 to 3600 seconds)", optarg);
			dur_set = true;
			break;
		case O_RUNS:
			if (!parse_uint(optarg, 1000, &v) || !v)
				return bad("number of runs (1 to 1000)", optarg);
			o->runs = (unsigned)v;
			runs_set = true;
			break;
		case O_ECPU:
			if (!parse_cpu(optarg, &o->engine_cpu))
				return bad("engine CPU", optarg);
			break;
		case O_CCPU:
			if (!parse_cpu(optarg, &o->client_cpu))
				return bad("client CPU", optarg);
			o->client_cpu_set = true;
			break;
		case O_GCPU:
			if (!parse_cpu(optarg, &o->gen_cpu))
				return bad("generator CPU", optarg);
			o->gen_cpu_set = true;
			break;
		case O_BATCH:
			if (!parse_uint(optarg, 1024, &v) || !v)
				return bad("batch (1 to 1024)", optarg);
			o->batch = (unsigned)v;
			break;
		case O_MS:
			o->rx_multishot = true;
			break;
		case O_CSUM:
			o->checksum = true;
			break;
		case O_QUEUES:
			if (!parse_uint(optarg, 64, &v) || v < 2)
				return bad("number of queues (2 to 64)", optarg);
			o->mq_queues = (unsigned)v;
			break;
		case O_STREAMS:
			if (!parse_uint(optarg, 16, &v) || !v)
				return bad("number of TCP streams (1 to 16)", optarg);
			o->mq_streams = (unsigned)v;
			break;
		case O_FLOWS:
			if (!parse_uint(optarg, 64, &v) || !v)
				return bad("number of UDP flows (1 to 64)", optarg);
			o->mq_flows = (unsigned)v;
			break;
		case O_CALLS:
			o->calls = true;
			break;
		case O_SPIN:
			if (!parse_uint(optarg, 1000000, &v))
				return bad("spin time (0 to 1000000 us)", optarg);
			o->spin_us = (int)v;
			break;
		case O_CAP:
			if (!parse_uint(optarg, WINTUN_MAX_RING_CAPACITY, &v) ||
			    !wintun_ring_capacity_valid((uint32_t)v))
				return bad("capacity (power of two, 128 KiB to 64 MiB)", optarg);
			o->capacity = (uint32_t)v;
			o->capacity_set = true;
			break;
		case O_RATE:
			if (!parse_uint(optarg, 100000000, &v))
				return bad("rate (packets/s, 0 to 100000000)", optarg);
			o->rate = v;
			break;
		case O_SYSC:
			o->count_syscalls = true;
			break;
		case O_NOHW:
			o->no_hw = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_JSON_OUT:
			o->json_out = optarg;
			break;
		case O_QUICK:
			o->quick = true;
			break;
		case O_HELP:
			fputs(usage, stdout);
			*exit_now = true;
			return 0;
		case O_VERSION:
			print_version();
			*exit_now = true;
			return 0;
		default:
			return bad("option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("argument", argv[optind]);
	if (!o->scenarios && !o->mq)
		o->scenarios = (1u << WB_NSCN) - 1;
	if (o->quick) {
		if (!runs_set)
			o->runs = 1;
		if (!dur_set)
			o->duration = 0.5;
	}
	return 0;
}

unsigned wb_payload(const struct wb_opts *o, uint64_t i)
{
	static const unsigned mix[12] = { 64, 548, 64, 64, 548, 64, 1400, 64, 548, 64, 64, 548 };

	return o->size_mode == WB_SIZE_MIXED ? mix[i % 12] : o->payload;
}

double wb_payload_avg(const struct wb_opts *o)
{
	double sum = 0;

	for (unsigned i = 0; i < 12; i++)
		sum += wb_payload(o, i);
	return sum / 12;
}
