/* SPDX-License-Identifier: MIT */
/*
 * udp-tunnel: a VPN data plane on the library, without the VPN's crypto.
 * The adapter's packets go to a peer as UDP datagrams, one inner IP packet
 * per datagram, and the peer's datagrams come back into the adapter: batch
 * calls on the rings, sendmmsg/recvmmsg with UDP GSO/GRO on the socket
 * (--offload: super-packets split for the wire, coalesced again by the
 * engine), or plain TUN read/write for comparison (--plain).  This file:
 * options, set-up, the summary; the parts are listed in udp_tunnel.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "udp_tunnel.h"

struct udp_tunnel T = { .name = "wtudp0", .mtu = 1452, .engine_cpu = -1, .thread_cpu = -3,
			.spin_us = -1, .gso = true,
			.gro = true, .stop_fd = -1, .sock = -1 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: udp-tunnel --local ADDR:PORT --peer ADDR:PORT [options]\n"
		"\n"
		"  *** NO ENCRYPTION, NO AUTHENTICATION. ***  Every packet crosses the network\n"
		"  in clear text, and anyone who can send from the peer's address can inject\n"
		"  packets into this host.  This is a data-plane demonstrator and a benchmark\n"
		"  of the library, NOT a VPN: never use it to carry real traffic.\n"
		"\n"
		"Creates a Wintun adapter and carries its packets to a peer over UDP, one\n"
		"inner IP packet per datagram, nothing added; datagrams from the peer go\n"
		"into the adapter.  Run one instance at each end.\n\n"
		"  --local ADDR:PORT       address and UDP port to bind ([v6addr]:port for IPv6)\n"
		"  --peer ADDR:PORT        the other end; only its datagrams are accepted\n"
		"  --name NAME             adapter name (default wtudp0)\n"
		"  --addr CIDR             an address of the adapter (repeatable, up to %d)\n"
		"  --route CIDR            a route through the adapter (repeatable, up to %d)\n"
		"  --mtu N                 adapter MTU (default 1452: 1500 less IPv6 and UDP\n"
		"                          headers; each inner packet must fit one datagram)\n"
		"  --offload               offload mode: the adapter hands over TCP/UDP\n"
		"                          super-packets, split into MTU-sized packets for the\n"
		"                          wire and sent with UDP GSO; received with UDP GRO and\n"
		"                          coalesced again by the engine (as wireguard-go does)\n"
		"  --plain                 no Wintun session: plain TUN read()/write(), one\n"
		"                          packet per system call (as OpenVPN), for comparison\n"
		"  --no-gso, --no-gro      do not use UDP GSO / UDP GRO on the socket\n"
		"  --capacity BYTES        ring capacity (default 4194304)\n"
		"  --engine-cpu N          pin the engine thread to CPU N\n"
		"  --thread-cpu N|engine|none  pin the two forwarding threads to CPU N, to the\n"
		"                          engine's CPU, or not at all (default: the engine's\n"
		"                          in offload mode, else none)\n"
		"  --spin US               the engine's idle spin, microseconds (default: the\n"
		"                          library's, 20; 0 in offload mode)\n"
		"  --duration SECONDS      stop after this long (default: SIGINT/SIGTERM)\n"
		"  --quiet                 no summary\n"
		"  --help                  this text\n\n"
		"The wire format is the same in every mode: ends in different modes interoperate.\n"
		"Exit codes: 0 on a clean stop, 1 on an error, 2 on bad usage.\n",
		UT_MAX_CIDRS, UT_MAX_CIDRS);
}

void ut_count(_Atomic uint64_t *c, uint64_t n)
{
	/* One writer per counter: no read-modify-write needed. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

void ut_stop(void)
{
	uint64_t one = 1;

	if (write(T.stop_fd, &one, sizeof(one)) < 0)
		_exit(1);
}

bool ut_stopping(void)
{
	struct pollfd pfd = { .fd = T.stop_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

int ut_start_threads(struct ut_threads *t, void *(*out)(void *), void *(*in)(void *))
{
	void *(*fn[2])(void *) = { out, in };

	for (int i = 0; i < 2; i++) {
		if (pthread_create(&t->thread[i], NULL, fn[i], NULL)) {
			fprintf(stderr, "udp-tunnel: cannot start a thread\n");
			return -1;
		}
		t->started[i] = true;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	ut_stop();
}

static void logger(WINTUN_LOGGER_LEVEL level, uint64_t ts, const char *msg)
{
	(void)ts;
	if (level != WINTUN_LOG_INFO)
		fprintf(stderr, "udp-tunnel: %s\n", msg);
}

/* ---- options ------------------------------------------------------------- */

static bool parse_endpoint(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;
	size_t n;

	if (!colon || colon == s)
		return false;
	n = (size_t)(colon - s);
	if (s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || !port || port > 65535)
		return false;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return true;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return true;
	}
	return false;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return !errno && end != s && !*end && *out <= max && s[0] != '-';
}

static int usage_error(const char *what)
{
	fprintf(stderr, "udp-tunnel: %s (see udp-tunnel --help)\n", what);
	return 2;
}

static int add_cidr(const char **list, int *n, const char *cidr)
{
	if (*n == UT_MAX_CIDRS)
		return usage_error("too many --addr or --route");
	list[(*n)++] = cidr;
	return 0;
}

static int parse_number(int c, const char *arg)
{
	unsigned long v;
	char *end;

	switch (c) {
	case 'm':
		if (!parse_uint(arg, 65535, &v) || v < 68)
			return usage_error("--mtu must be 68..65535");
		T.mtu = (uint32_t)v;
		return 0;
	case 'C':
		if (!parse_uint(arg, WINTUN_MAX_RING_CAPACITY, &v) || v < WINTUN_MIN_RING_CAPACITY ||
		    (v & (v - 1)))
			return usage_error("--capacity must be a power of two, 131072..67108864");
		T.capacity = (uint32_t)v;
		return 0;
	case 'e':
		if (!parse_uint(arg, CPU_SETSIZE - 1, &v))
			return usage_error("--engine-cpu needs a CPU number");
		T.engine_cpu = (int)v;
		return 0;
	case 't':
		if (!strcmp(arg, "engine") || !strcmp(arg, "none")) {
			T.thread_cpu = arg[0] == 'e' ? -2 : -1;
			return 0;
		}
		if (!parse_uint(arg, CPU_SETSIZE - 1, &v))
			return usage_error("--thread-cpu needs a CPU number, engine or none");
		T.thread_cpu = (int)v;
		return 0;
	case 's':
		if (!parse_uint(arg, 1000000, &v))
			return usage_error("--spin needs microseconds, 0..1000000");
		T.spin_us = (int)v;
		return 0;
	default: /* 'd' */
		T.duration = strtod(arg, &end);
		if (end == arg || *end || !(T.duration > 0))
			return usage_error("--duration needs a positive number of seconds");
		return 0;
	}
}

static int parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "local", 1, 0, 'l' },	      { "peer", 1, 0, 'p' },	   { "name", 1, 0, 'n' },
		{ "addr", 1, 0, 'a' },	      { "route", 1, 0, 'r' },	   { "mtu", 1, 0, 'm' },
		{ "offload", 0, 0, 'o' },     { "plain", 0, 0, 'P' },	   { "no-gso", 0, 0, 'G' },
		{ "no-gro", 0, 0, 'R' },      { "capacity", 1, 0, 'C' },   { "engine-cpu", 1, 0, 'e' },
		{ "duration", 1, 0, 'd' },    { "quiet", 0, 0, 'q' },	   { "help", 0, 0, 'h' },
		{ "thread-cpu", 1, 0, 't' },  { "spin", 1, 0, 's' },
		{ 0, 0, 0, 0 },
	};
	bool local = false, peer = false;
	int c, ret = 0;

	while (!ret && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			local = parse_endpoint(optarg, &T.local, &T.local_len);
			ret = local ? 0 : usage_error("--local needs ADDR:PORT");
			break;
		case 'p':
			peer = parse_endpoint(optarg, &T.peer, &T.peer_len);
			ret = peer ? 0 : usage_error("--peer needs ADDR:PORT");
			break;
		case 'n': T.name = optarg; break;
		case 'a': ret = add_cidr(T.addrs, &T.naddrs, optarg); break;
		case 'r': ret = add_cidr(T.routes, &T.nroutes, optarg); break;
		case 'o': T.offload = true; break;
		case 'P': T.plain = true; break;
		case 'G': T.gso = false; break;
		case 'R': T.gro = false; break;
		case 'q': T.quiet = true; break;
		case 'h': usage(stdout); exit(0);
		case 'm': case 'C': case 'e': case 'd': case 't': case 's':
			ret = parse_number(c, optarg);
			break;
		default: return 2;
		}
	}
	if (ret)
		return ret;
	if (optind < argc)
		return usage_error("unexpected argument");
	if (!local || !peer)
		return usage_error("--local and --peer are required");
	if (T.local.ss_family != T.peer.ss_family)
		return usage_error("--local and --peer must be of one address family");
	if (T.plain && T.offload)
		return usage_error("--plain and --offload exclude each other");
	if (T.plain)
		T.gso = T.gro = false; /* one packet per system call */
	if (T.thread_cpu == -3)
		T.thread_cpu = T.offload ? -2 : -1;
	return 0;
}

/* ---- set-up ---------------------------------------------------------------- */

static int configure(void)
{
	T.adapter = WintunCreateAdapter(T.name, "udp-tunnel", NULL);
	if (!T.adapter) {
		fprintf(stderr, "udp-tunnel: cannot create adapter %s: %s\n", T.name, strerror(errno));
		return -1;
	}
	if (!WintunSetAdapterMtu(T.adapter, T.mtu))
		return -1; /* the library logged why */
	for (int i = 0; i < T.naddrs; i++)
		if (!WintunAddAdapterAddress(T.adapter, T.addrs[i]))
			return -1;
	if (!WintunSetAdapterUp(T.adapter, true))
		return -1;
	for (int i = 0; i < T.nroutes; i++)
		if (!WintunAddAdapterRoute(T.adapter, T.routes[i], NULL, 0))
			return -1;
	return 0;
}

/* Pins the calling thread, and so the forwarding threads it starts.  On the
 * engine's CPU (offload mode's default) they find the 64 KiB records the
 * engine has just read still in its cache, and hand it theirs the same way,
 * as tun-pump's forwarder does. */
static void pin_threads(void)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };
	int cpu = T.thread_cpu;
	cpu_set_t set;

	if (cpu == -2)
		cpu = WintunGetSessionStatistics(T.session, &st) ? st.EngineCpu : -1;
	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fprintf(stderr, "udp-tunnel: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
}

static int start_session(void)
{
	WINTUN_SESSION_OPTIONS o = { .Size = sizeof(o), .Capacity = T.capacity };

	if (!o.Capacity)
		o.Capacity = 4u << 20;
	/* Offload mode: what the kernel cut for the wire comes back as runs
	 * of segments, which the engine merges into one write. */
	if (T.offload)
		o.Flags |= WINTUN_SESSION_OFFLOAD | WINTUN_SESSION_COALESCE;
	if (T.engine_cpu >= 0) {
		o.Flags |= WINTUN_SESSION_PIN_CPU;
		o.Cpu = T.engine_cpu;
	}
	if (T.spin_us >= 0) {
		o.Flags |= WINTUN_SESSION_SPIN;
		o.SpinMicroseconds = (uint32_t)T.spin_us;
	}
	T.session = WintunStartSessionEx(T.adapter, &o);
	if (!T.session) {
		fprintf(stderr, "udp-tunnel: cannot start a session: %s\n", strerror(errno));
		return -1;
	}
	pin_threads();
	return 0;
}

static void wait_for_stop(void)
{
	struct pollfd pfd = { .fd = T.stop_fd, .events = POLLIN };
	struct timespec ts = { .tv_sec = (time_t)T.duration,
			       .tv_nsec = (long)((T.duration - (double)(time_t)T.duration) * 1e9) };

	while (ppoll(&pfd, 1, T.duration > 0 ? &ts : NULL, NULL) < 0 && errno == EINTR)
		;
}

static void summary(void)
{
	static const char *const dir[2] = { "to peer", "from peer" };

	if (T.quiet)
		return;
	for (int i = 0; i < 2; i++)
		printf("udp-tunnel: %-9s %llu packets, %llu bytes, %llu %s, %llu dropped\n", dir[i],
		       (unsigned long long)T.st[i].packets, (unsigned long long)T.st[i].bytes,
		       (unsigned long long)T.st[i].sends, i == UT_OUT ? "sends" : "datagrams read",
		       (unsigned long long)T.st[i].drops);
}

int main(int argc, char **argv)
{
	int ret = parse(argc, argv);

	if (ret)
		return ret;
	T.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	WintunSetLogger(logger);
	ret = 1;
	if (T.stop_fd < 0 || configure() < 0 || ut_socket_open() < 0)
		goto out;
	if (T.plain ? ut_plain_start() < 0 : start_session() < 0 || ut_fwd_start() < 0)
		goto out;
	if (!T.quiet)
		fprintf(stderr, "udp-tunnel: %s up (%s%s%s), NO ENCRYPTION; Ctrl-C stops\n", T.name,
			T.plain ? "plain TUN" : T.offload ? "offload mode" : "batches",
			T.gso ? ", UDP GSO" : "", T.gro ? ", UDP GRO" : "");
	wait_for_stop();
	ret = 0;
out:
	ut_stop(); /* the threads see it, whatever stopped us */
	if (T.plain)
		ut_plain_join();
	else
		ut_fwd_join();
	if (T.session)
		WintunEndSession(T.session);
	if (T.adapter)
		WintunCloseAdapter(T.adapter);
	if (T.sock >= 0)
		close(T.sock);
	summary();
	return ret;
}
