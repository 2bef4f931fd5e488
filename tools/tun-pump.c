/* SPDX-License-Identifier: MIT */
/*
 * tun-pump: forwards packets between two Wintun adapters, ring to ring -- the
 * smallest complete "VPN without crypto".  A's Send ring goes into B's
 * Receive ring and back, with the public API only (receive, allocate, copy,
 * send, release), in batches, from one forwarding thread.  Each adapter may
 * live in a network namespace of its own.  This file: options and main; the
 * parts are listed in pump.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pump.h"

struct pump P = { .a = { .name = "wtpump-a" }, .b = { .name = "wtpump-b" },
			 .engine_cpu = -1, .fwd_cpu = -1, .queues = 1 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tun-pump [options]\n"
		"Forwards packets between two Wintun adapters A and B, ring to ring.\n\n"
		"  --name-a NAME, --name-b NAME  adapter names (default wtpump-a, wtpump-b)\n"
		"  --addr-a CIDR, --addr-b CIDR  an address/prefix of the adapter, IPv4 or IPv6\n"
		"                                (e.g. 10.1.0.1/24; repeatable, up to %d)\n"
		"  --route-a CIDR, --route-b CIDR  a route through the adapter (repeatable, up to %d)\n"
		"  --netns-a NAME, --netns-b NAME  put the adapter in this named network namespace\n"
		"                                (/run/netns/NAME, as made by 'ip netns add')\n"
		"  --create-netns                create the two namespaces (default names\n"
		"                                wtpump-a, wtpump-b) and remove them on exit\n"
		"  --mtu N                       MTU of both adapters (default: the kernel's, 1500)\n"
		"  --capacity BYTES              ring capacity, power of two, 131072..67108864\n"
		"                                (default 524288 in offload mode without --split,\n"
		"                                else 4194304)\n"
		"  --queues N                    N session pairs on N queues of each adapter,\n"
		"                                N forwarding threads (default 1, at most %d);\n"
		"                                the kernel spreads flows over the queues\n"
		"  --engine-cpu N                pin the engine thread to CPU N (queue q: N + q)\n"
		"  --fwd-cpu N                   pin the forwarding thread to CPU N (queue q:\n"
		"                                N + q; default: in offload mode, its queue's\n"
		"                                engine CPU; otherwise unpinned)\n"
		"  --no-offload                  one MTU-sized packet per record (default: offload\n"
		"                                mode, TCP/UDP super-packets pass through whole)\n"
		"  --offloads MASK               offloads to enable: a sum of 1 checksum, 2 TSO4,\n"
		"                                4 TSO6, 8 TSO-ECN, 32 USO4, 64 USO6 (default all)\n"
		"  --split                       the forwarder splits A's super-packets into\n"
		"                                MTU-sized packets (as a VPN that must see every\n"
		"                                packet) and B's engine coalesces them again;\n"
		"                                needs offload mode: refused with --no-offload\n"
		"                                or --offloads 0\n"
		"  --separate-engines            one engine thread per adapter (default: the two\n"
		"                                sessions share one engine thread)\n"
		"  --duration SECONDS            stop after this long (default: until SIGINT/SIGTERM)\n"
		"  --json                        print the final summary as JSON\n"
		"  --quiet                       no live status line\n"
		"  --verbose                     print the library's log on stderr, and each\n"
		"                                queue's rates on the live line\n"
		"  --help                        this text\n"
		"  --version                     the versions of tun-pump and of the library\n\n"
		"Exit codes: 0 on a clean stop, 1 on an error, 2 on bad usage.\n",
		MAX_ROUTES, MAX_ROUTES, MAX_QUEUES);
}

/* The library may come from another build than the tool (a packaged
 * libwintun0 next to a tun-pump built by hand): name both. */
static void print_version(void)
{
	uint32_t v = WintunGetRunningDriverVersion();

	printf("tun-pump (Wintun for Linux) %s\nlibwintun %u.%u (running)\n", TOOLS_VERSION,
	       v >> 16, v & 0xFFFF);
}

static void logger(WINTUN_LOGGER_LEVEL level, uint64_t ts, const char *msg)
{
	(void)ts;
	if (level == WINTUN_LOG_ERR)
		atomic_fetch_add(&P.errors_logged, 1);
	if (P.verbose || level == WINTUN_LOG_ERR)
		fprintf(stderr, "tun-pump: %s\n", msg);
}

uint64_t pump_errors_logged(void)
{
	return atomic_load(&P.errors_logged);
}

void pump_stop(void)
{
	uint64_t one = 1;

	if (write(P.stop_fd, &one, sizeof(one)) < 0)
		_exit(1);
}

static void on_signal(int sig)
{
	(void)sig;
	pump_stop();
}

bool pump_stopping(void)
{
	struct pollfd pfd = { .fd = P.stop_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}
/* ---- options -------------------------------------------------------------- */

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return !errno && end != s && !*end && *out <= max && s[0] != '-';
}

static int parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name-a", 1, 0, 'A' },  { "name-b", 1, 0, 'B' },	{ "addr-a", 1, 0, 'a' },
		{ "addr-b", 1, 0, 'b' },  { "route-a", 1, 0, 'r' },	{ "route-b", 1, 0, 'R' },
		{ "netns-a", 1, 0, 'n' }, { "netns-b", 1, 0, 'N' },	{ "create-netns", 0, 0, 'c' },
		{ "mtu", 1, 0, 'm' },	  { "capacity", 1, 0, 'C' },	{ "engine-cpu", 1, 0, 'e' },
		{ "fwd-cpu", 1, 0, 'f' }, { "separate-engines", 0, 0, 's' },
		{ "duration", 1, 0, 'd' }, { "json", 0, 0, 'j' },	{ "quiet", 0, 0, 'q' },
		{ "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' },	{ "no-offload", 0, 0, 'O' },
		{ "offloads", 1, 0, 'o' },	{ "split", 0, 0, 'S' },	{ "version", 0, 0, 'V' },
		{ "queues", 1, 0, 'Q' },
		{ 0, 0, 0, 0 },
	};
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'A': P.a.name = optarg; break;
		case 'B': P.b.name = optarg; break;
		case 'a':
		case 'b':
		case 'r':
		case 'R': {
			struct side *s = c == 'a' || c == 'r' ? &P.a : &P.b;
			bool route = c == 'r' || c == 'R';
			int *n = route ? &s->nroutes : &s->naddrs;

			if (*n == MAX_ROUTES) {
				fprintf(stderr, "tun-pump: at most %d %s per adapter\n", MAX_ROUTES,
					route ? "routes" : "addresses");
				return 2;
			}
			(route ? s->routes : s->addrs)[(*n)++] = optarg;
			break;
		}
		case 'n': P.a.netns = optarg; break;
		case 'N': P.b.netns = optarg; break;
		case 'c': P.create_netns = true; break;
		case 'm':
			if (!parse_uint(optarg, 65535, &v) || v < 68) {
				fprintf(stderr, "tun-pump: --mtu must be 68..65535\n");
				return 2;
			}
			P.mtu = (uint32_t)v;
			break;
		case 'C':
			if (!parse_uint(optarg, UINT32_MAX, &v) || v < WINTUN_MIN_RING_CAPACITY ||
			    v > WINTUN_MAX_RING_CAPACITY || (v & (v - 1))) {
				fprintf(stderr, "tun-pump: --capacity must be a power of two from %u to %u\n",
					WINTUN_MIN_RING_CAPACITY, WINTUN_MAX_RING_CAPACITY);
				return 1;
			}
			P.capacity = (uint32_t)v;
			break;
		case 'e':
		case 'f':
			if (!parse_uint(optarg, CPU_SETSIZE - 1, &v)) {
				fprintf(stderr, "tun-pump: --%s needs a CPU number\n",
					c == 'e' ? "engine-cpu" : "fwd-cpu");
				return 2;
			}
			*(c == 'e' ? &P.engine_cpu : &P.fwd_cpu) = (int)v;
			break;
		case 'Q':
			if (!parse_uint(optarg, MAX_QUEUES, &v) || !v) {
				fprintf(stderr, "tun-pump: --queues must be 1..%d\n", MAX_QUEUES);
				return 2;
			}
			P.queues = (unsigned)v;
			break;
		case 's': P.separate_engines = true; break;
		case 'O': P.no_offload = true; break;
		case 'S': P.split = true; break;
		case 'o':
			if (!parse_uint(optarg, 0x6F, &v) || (v & ~0x6Ful)) {
				fprintf(stderr, "tun-pump: --offloads takes a sum of 1, 2, 4, 8, 32, 64\n");
				return 2;
			}
			P.offloads = (uint32_t)v;
			if (!v)
				P.no_offload = true;
			break;
		case 'd': {
			char *end;

			P.duration = strtod(optarg, &end);
			if (end == optarg || *end || P.duration <= 0) {
				fprintf(stderr, "tun-pump: --duration needs a positive number of seconds\n");
				return 2;
			}
			break;
		}
		case 'j': P.json = true; break;
		case 'q': P.quiet = true; break;
		case 'v': P.verbose = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': print_version(); exit(0);
		default: fprintf(stderr, "tun-pump: see tun-pump --help\n"); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tun-pump: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (P.split && P.no_offload) {
		/* Without offloads there are no super-packets to split: --split
		 * would have quietly switched offload mode back on. */
		fprintf(stderr, "tun-pump: --split splits offload-mode super-packets; it cannot be "
				"combined with --no-offload or --offloads 0\n");
		return 2;
	}
	if (P.create_netns) {
		P.a.netns = P.a.netns ? P.a.netns : "wtpump-a";
		P.b.netns = P.b.netns ? P.b.netns : "wtpump-b";
	}
	if (!strcmp(P.a.name, P.b.name) && (!P.a.netns || !P.b.netns || !strcmp(P.a.netns, P.b.netns))) {
		fprintf(stderr, "tun-pump: the two adapters need different names\n");
		return 2;
	}
	return 0;
}

/* Forwarder @q, on its CPU from pump_place_forwarders. */
static int start_forwarder(unsigned q, pthread_t *t)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int ret;

	pthread_attr_init(&attr);
	if (P.fwd_cpus[q] >= 0) {
		CPU_ZERO(&set);
		CPU_SET(P.fwd_cpus[q], &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	ret = pthread_create(t, &attr, pump_forwarder, (void *)(intptr_t)q);
	pthread_attr_destroy(&attr);
	return ret;
}

int main(int argc, char **argv)
{
	pthread_t fwd[MAX_QUEUES];
	unsigned nfwd = 0;
	int ret = parse(argc, argv);

	if (ret)
		return ret;
	P.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	WintunSetLogger(logger);
	if (geteuid() != 0)
		fprintf(stderr, "tun-pump: not root: creating adapters needs CAP_NET_ADMIN\n");
	ret = 1;
	if (P.create_netns && (pump_netns_create(&P.a) < 0 || pump_netns_create(&P.b) < 0))
		goto out;
	if (pump_in_netns(&P.a, pump_configure) < 0 || pump_in_netns(&P.b, pump_configure) < 0)
		goto out;
	if (pump_start_sessions() < 0)
		goto out;
	pump_place_forwarders();
	for (nfwd = 0; nfwd < P.queues; nfwd++)
		if (start_forwarder(nfwd, &fwd[nfwd])) {
			fprintf(stderr, "tun-pump: cannot start forwarding thread %u\n", nfwd);
			pump_stop();
			goto join;
		}
	if (!P.quiet)
		fprintf(stderr, "tun-pump: forwarding %s%s%s <-> %s%s%s; Ctrl-C stops\n", P.a.name,
			P.a.netns ? "@" : "", P.a.netns ? P.a.netns : "", P.b.name,
			P.b.netns ? "@" : "", P.b.netns ? P.b.netns : "");
	pump_run();
	ret = 0;
join:
	for (unsigned q = 0; q < nfwd; q++)
		pthread_join(fwd[q], NULL);
out:
	pump_teardown();
	return ret;
}
