/* SPDX-License-Identifier: MIT */
/*
 * tun-pump: forwards packets between two Wintun adapters, ring to ring -- the
 * smallest complete "VPN without crypto".  A's Send ring goes into B's
 * Receive ring and back, with the public API only (receive, allocate, copy,
 * send, release), in batches, from one forwarding thread.  Each adapter may
 * live in a network namespace of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <wintun.h>

#define MAX_ROUTES 8
#define BATCH 256

struct side {
	const char *name, *netns;
	const char *addrs[MAX_ROUTES], *routes[MAX_ROUTES];
	int naddrs, nroutes;
	char netns_path[128];
	bool netns_created;
	WINTUN_ADAPTER_HANDLE adapter;
	WINTUN_SESSION_HANDLE session;
};

struct pump {
	struct side a, b;
	uint32_t mtu, capacity;
	int engine_cpu, fwd_cpu;
	bool separate_engines, create_netns, json, quiet, verbose, no_offload, split;
	uint32_t offloads;
	double duration;
	int stop_fd;
	/* forwarding counters: written by the forwarding thread only */
	_Atomic uint64_t fwd_packets[2], fwd_bytes[2], fwd_drops[2];
};

static struct pump P = { .a = { .name = "wtpump-a" }, .b = { .name = "wtpump-b" },
			 .engine_cpu = -1, .fwd_cpu = -1 };

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
		"  --engine-cpu N                pin the engine thread to CPU N\n"
		"  --fwd-cpu N                   pin the forwarding thread to CPU N (default:\n"
		"                                in offload mode, the engine's CPU; otherwise\n"
		"                                unpinned)\n"
		"  --no-offload                  one MTU-sized packet per record (default: offload\n"
		"                                mode, TCP/UDP super-packets pass through whole)\n"
		"  --offloads MASK               offloads to enable: a sum of 1 checksum, 2 TSO4,\n"
		"                                4 TSO6, 8 TSO-ECN, 32 USO4, 64 USO6 (default all)\n"
		"  --split                       the forwarder splits A's super-packets into\n"
		"                                MTU-sized packets (as a VPN that must see every\n"
		"                                packet) and B's engine coalesces them again\n"
		"  --separate-engines            one engine thread per adapter (default: the two\n"
		"                                sessions share one engine thread)\n"
		"  --duration SECONDS            stop after this long (default: until SIGINT/SIGTERM)\n"
		"  --json                        print the final summary as JSON\n"
		"  --quiet                       no live status line\n"
		"  --verbose                     print the library's log on stderr\n"
		"  --help                        this text\n\n"
		"Exit codes: 0 on a clean stop, 1 on an error, 2 on bad usage.\n",
		MAX_ROUTES, MAX_ROUTES);
}

static void logger(WINTUN_LOGGER_LEVEL level, uint64_t ts, const char *msg)
{
	(void)ts;
	if (P.verbose || level == WINTUN_LOG_ERR)
		fprintf(stderr, "tun-pump: %s\n", msg);
}

static void on_signal(int sig)
{
	uint64_t one = 1;

	(void)sig;
	if (write(P.stop_fd, &one, sizeof(one)) < 0)
		_exit(1);
}

static bool stopping(void)
{
	struct pollfd pfd = { .fd = P.stop_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/* ---- namespaces -------------------------------------------------------- */

static int netns_create(struct side *s)
{
	pid_t pid;
	int fd, status;

	mkdir("/run/netns", 0755);
	snprintf(s->netns_path, sizeof(s->netns_path), "/run/netns/%s", s->netns);
	fd = open(s->netns_path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "tun-pump: cannot create namespace %s: %s\n", s->netns,
			errno == EEXIST ? "it already exists" : strerror(errno));
		return -1;
	}
	close(fd);
	s->netns_created = true;
	/* As 'ip netns add' does: a child enters a new namespace and
	 * bind-mounts it onto the file, which keeps it alive. */
	pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWNET) == 0 &&
				      mount("/proc/self/ns/net", s->netns_path, "none", MS_BIND, NULL) == 0
			      ? 0
			      : 1);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "tun-pump: cannot create namespace %s\n", s->netns);
		return -1;
	}
	return 0;
}

static void netns_remove(struct side *s)
{
	if (!s->netns_created)
		return;
	umount2(s->netns_path, MNT_DETACH);
	unlink(s->netns_path);
	s->netns_created = false;
}

static void loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

/* Run @fn for @s inside its namespace (or here without one). */
static int in_netns(struct side *s, int (*fn)(struct side *))
{
	int home, target, ret;

	if (!s->netns)
		return fn(s);
	if (!s->netns_path[0])
		snprintf(s->netns_path, sizeof(s->netns_path), "/run/netns/%s", s->netns);
	target = open(s->netns_path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		fprintf(stderr, "tun-pump: network namespace %s does not exist (%s)\n", s->netns,
			strerror(errno));
		return -1;
	}
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0 || setns(target, CLONE_NEWNET) < 0) {
		fprintf(stderr, "tun-pump: cannot enter network namespace %s: %s\n", s->netns,
			strerror(errno));
		close(target);
		if (home >= 0)
			close(home);
		return -1;
	}
	if (s->netns_created)
		loopback_up();
	ret = fn(s);
	if (setns(home, CLONE_NEWNET) < 0) {
		fprintf(stderr, "tun-pump: cannot return to the original namespace\n");
		ret = -1;
	}
	close(home);
	close(target);
	return ret;
}

/* ---- adapters ---------------------------------------------------------- */

static int configure(struct side *s)
{
	s->adapter = WintunCreateAdapter(s->name, "tun-pump", NULL);
	if (!s->adapter) {
		if (errno == EEXIST)
			fprintf(stderr, "tun-pump: the name %s is in use\n", s->name);
		else if (errno == EPERM)
			fprintf(stderr, "tun-pump: creating %s needs CAP_NET_ADMIN (run as root)\n",
				s->name);
		else
			fprintf(stderr, "tun-pump: cannot create %s: %s\n", s->name, strerror(errno));
		return -1;
	}
	if (P.mtu && !WintunSetAdapterMtu(s->adapter, P.mtu)) {
		fprintf(stderr, "tun-pump: cannot set MTU %u on %s: %s\n", P.mtu, s->name,
			strerror(errno));
		return -1;
	}
	for (int i = 0; i < s->naddrs; i++)
		if (!WintunAddAdapterAddress(s->adapter, s->addrs[i])) {
			fprintf(stderr, "tun-pump: cannot add %s to %s: %s\n", s->addrs[i], s->name,
				strerror(errno));
			return -1;
		}
	if (!WintunSetAdapterUp(s->adapter, true)) {
		fprintf(stderr, "tun-pump: cannot bring %s up: %s\n", s->name, strerror(errno));
		return -1;
	}
	for (int i = 0; i < s->nroutes; i++)
		if (!WintunAddAdapterRoute(s->adapter, s->routes[i], NULL, 0)) {
			fprintf(stderr, "tun-pump: cannot add route %s via %s: %s\n", s->routes[i],
				s->name, strerror(errno));
			return -1;
		}
	return 0;
}

static int start_sessions(void)
{
	WINTUN_SESSION_OPTIONS o = { .Size = sizeof(o), .Capacity = P.capacity };

	/* Offload mode: 64 KiB records cycle through the rings, and rings that
	 * fit the cache beat rings that absorb longer bursts (wintun-bench
	 * tso, 5 runs: 4 MiB 10.9 Gbit/s and 0.59 CPU s/GB, 1 MiB 11.7 and
	 * 0.53, 512 KiB 13.5 and 0.46; 256 KiB and less fill up).  TCP, the
	 * traffic offloads are for, backs off when the TUN queue fills.  Not
	 * with --split: B's ring then holds MTU-sized packets, and tso-split
	 * filled 512 KiB rings (571 episodes in 3 runs, 8.5 vs 9.2 Gbit/s). */
	if (!o.Capacity)
		o.Capacity = P.no_offload || P.split ? 0x400000 : 0x80000;
	/* Offload mode: super-packets pass through untouched, header and all. */
	if (!P.no_offload && !P.split) {
		o.Flags |= WINTUN_SESSION_OFFLOAD;
		o.Offloads = P.offloads;
	}

	if (P.engine_cpu >= 0) {
		o.Flags |= WINTUN_SESSION_PIN_CPU;
		o.Cpu = P.engine_cpu;
	}
	if (P.split) {
		o.Flags |= WINTUN_SESSION_OFFLOAD;
		o.Offloads = P.offloads;
	}
	P.a.session = WintunStartSessionEx(P.a.adapter, &o);
	if (!P.a.session) {
		fprintf(stderr, "tun-pump: cannot start a session on %s: %s\n", P.a.name,
			strerror(errno));
		return -1;
	}
	if (!P.separate_engines)
		o.ShareEngineWith = P.a.session;
	if (P.split)
		o.Flags |= WINTUN_SESSION_COALESCE; /* B's engine merges the segments again */
	P.b.session = WintunStartSessionEx(P.b.adapter, &o);
	if (!P.b.session) {
		fprintf(stderr, "tun-pump: cannot start a session on %s: %s\n", P.b.name,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* In offload mode the forwarder copies 64 KiB records the engine has just
 * read and is about to write: on the engine's CPU they stay in its cache,
 * and an engine that does not spin leaves that CPU to it (wintun-bench tso:
 * 0.92x the veth bound there, 0.70x on the other CPU).  -1: leave it. */
static int offload_fwd_cpu(void)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	if (P.no_offload || !WintunGetSessionStatistics(P.a.session, &st))
		return -1;
	return st.EngineCpu;
}

static void teardown(void)
{
	struct side *sides[2] = { &P.a, &P.b };

	for (int i = 0; i < 2; i++) {
		if (sides[i]->session)
			WintunEndSession(sides[i]->session);
		sides[i]->session = NULL;
	}
	for (int i = 0; i < 2; i++) {
		if (sides[i]->adapter)
			WintunCloseAdapter(sides[i]->adapter);
		sides[i]->adapter = NULL;
		netns_remove(sides[i]);
	}
}

/* ---- forwarding ---------------------------------------------------------- */

static void add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* Move up to BATCH packets from @from's Send ring into @to's Receive ring.
 * Returns how many it moved; *dead is set when a session ended. */
static unsigned forward(WINTUN_SESSION_HANDLE from, WINTUN_SESSION_HANDLE to, int dir, bool *dead)
{
	unsigned n = 0;
	uint64_t bytes = 0, drops = 0;

	for (; n < BATCH; n++) {
		uint32_t size;
		uint8_t *in = WintunReceivePacket(from, &size), *out;

		if (!in) {
			if (errno != EAGAIN)
				*dead = true;
			break;
		}
		if (P.split && dir == 0) {
			/* A (offload mode) -> B (plain): software GSO into B's ring. */
			uint32_t sent = WintunSplitPacketToSession(in, size, to);

			bytes += size - (size >= 10 ? 10 : size);
			if (!sent && errno == ENOBUFS)
				drops++;
			else if (!sent && errno != EINVAL)
				*dead = true;
			WintunReleaseReceivePacket(from, in);
			continue;
		}
		out = WintunAllocateSendPacket(to, size);
		if (out) {
			memcpy(out, in, size);
			WintunSendPacket(to, out);
			bytes += size;
		} else if (errno == ENOBUFS) {
			drops++; /* the other side is full: drop, as a NIC would */
		} else {
			*dead = true;
		}
		WintunReleaseReceivePacket(from, in);
	}
	add(&P.fwd_packets[dir], n - drops);
	add(&P.fwd_bytes[dir], bytes);
	add(&P.fwd_drops[dir], drops);
	return n;
}

static void *forwarder(void *arg)
{
	struct pollfd pfd[3] = {
		{ .fd = WintunGetReadWaitEvent(P.a.session), .events = POLLIN },
		{ .fd = WintunGetReadWaitEvent(P.b.session), .events = POLLIN },
		{ .fd = P.stop_fd, .events = POLLIN },
	};
	bool dead = false;

	(void)arg;
	pthread_setname_np(pthread_self(), "tun-pump/fwd");
	while (!dead) {
		unsigned moved = forward(P.a.session, P.b.session, 0, &dead) +
				 forward(P.b.session, P.a.session, 1, &dead);

		if (moved)
			continue;
		/* Both receives said EAGAIN and armed the wake-ups. */
		if (poll(pfd, 3, 1000) < 0 && errno != EINTR)
			break;
		if (pfd[2].revents)
			break;
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents) {
				uint64_t v;

				if (read(pfd[i].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					dead = true;
			}
	}
	if (dead)
		on_signal(0); /* a session ended: stop the pump */
	return NULL;
}

/* ---- status ------------------------------------------------------------- */

struct snapshot {
	uint64_t packets[2], bytes[2], drops[2];
	WINTUN_SESSION_STATISTICS st[2];
	double t;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void snap(struct snapshot *s)
{
	WINTUN_SESSION_HANDLE sess[2] = { P.a.session, P.b.session };

	for (int i = 0; i < 2; i++) {
		s->packets[i] = atomic_load(&P.fwd_packets[i]);
		s->bytes[i] = atomic_load(&P.fwd_bytes[i]);
		s->drops[i] = atomic_load(&P.fwd_drops[i]);
		s->st[i].Size = sizeof(s->st[i]);
		WintunGetSessionStatistics(sess[i], &s->st[i]);
	}
	s->t = now_s();
}

static uint64_t session_drops(const WINTUN_SESSION_STATISTICS *st)
{
	return st->Rx.DropRingFull + st->Rx.DropTruncated + st->Tx.DropNonIp + st->Tx.DropBogus +
	       st->Tx.DropWriteError;
}

static void status_line(const struct snapshot *a, const struct snapshot *b)
{
	double dt = b->t - a->t;

	fprintf(stderr,
		"\rA->B %9.0f pkt/s %7.3f Gbit/s | B->A %9.0f pkt/s %7.3f Gbit/s | drops: ring-full "
		"%llu, engine %llu   ",
		(double)(b->packets[0] - a->packets[0]) / dt,
		(double)(b->bytes[0] - a->bytes[0]) * 8e-9 / dt,
		(double)(b->packets[1] - a->packets[1]) / dt,
		(double)(b->bytes[1] - a->bytes[1]) * 8e-9 / dt,
		(unsigned long long)(b->drops[0] + b->drops[1]),
		(unsigned long long)(session_drops(&b->st[0]) + session_drops(&b->st[1])));
}

static void summary(const struct snapshot *start, const struct snapshot *end)
{
	double dt = end->t - start->t;
	const char *dir[2] = { "a_to_b", "b_to_a" };

	if (P.json) {
		printf("{\"seconds\": %.3f", dt);
		for (int i = 0; i < 2; i++)
			printf(", \"%s\": {\"packets\": %llu, \"bytes\": %llu, \"drops_ring_full\": "
			       "%llu, \"packets_per_s\": %.0f, \"gbit_per_s\": %.4f}",
			       dir[i], (unsigned long long)end->packets[i],
			       (unsigned long long)end->bytes[i], (unsigned long long)end->drops[i],
			       (double)end->packets[i] / dt, (double)end->bytes[i] * 8e-9 / dt);
		printf(", \"engine_drops\": {\"a\": %llu, \"b\": %llu}}\n",
		       (unsigned long long)session_drops(&end->st[0]),
		       (unsigned long long)session_drops(&end->st[1]));
		return;
	}
	for (int i = 0; i < 2; i++)
		printf("%s: %llu packets, %llu bytes in %.1f s (%.0f pkt/s, %.3f Gbit/s), %llu dropped "
		       "(other ring full)\n",
		       i ? "B->A" : "A->B", (unsigned long long)end->packets[i],
		       (unsigned long long)end->bytes[i], dt, (double)end->packets[i] / dt,
		       (double)end->bytes[i] * 8e-9 / dt, (unsigned long long)end->drops[i]);
	for (int i = 0; i < 2; i++) {
		const WINTUN_SESSION_STATISTICS *st = &end->st[i];

		printf("engine %c: drops %llu (RX ring full %llu, truncated %llu; TX non-IP %llu, "
		       "bogus %llu, write errors %llu), io_uring_enter %llu\n",
		       'A' + i, (unsigned long long)session_drops(st),
		       (unsigned long long)st->Rx.DropRingFull, (unsigned long long)st->Rx.DropTruncated,
		       (unsigned long long)st->Tx.DropNonIp, (unsigned long long)st->Tx.DropBogus,
		       (unsigned long long)st->Tx.DropWriteError,
		       (unsigned long long)st->IoUringEnterCalls);
	}
}

static void run(void)
{
	struct snapshot start, last, cur;
	bool tty = !P.quiet && isatty(STDERR_FILENO);

	snap(&start);
	last = start;
	while (!stopping()) {
		struct pollfd pfd = { .fd = P.stop_fd, .events = POLLIN };

		poll(&pfd, 1, P.duration > 0 && P.duration < 1 ? (int)(P.duration * 1000) : 1000);
		snap(&cur);
		if (tty)
			status_line(&last, &cur);
		last = cur;
		if (P.duration > 0 && cur.t - start.t >= P.duration)
			on_signal(0);
	}
	if (tty)
		fputc('\n', stderr);
	snap(&cur);
	summary(&start, &cur);
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
		{ "offloads", 1, 0, 'o' },	{ "split", 0, 0, 'S' },	{ 0, 0, 0, 0 },
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
		default: fprintf(stderr, "tun-pump: see tun-pump --help\n"); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tun-pump: unexpected argument '%s'\n", argv[optind]);
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

int main(int argc, char **argv)
{
	pthread_t fwd;
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
	if (P.create_netns && (netns_create(&P.a) < 0 || netns_create(&P.b) < 0))
		goto out;
	if (in_netns(&P.a, configure) < 0 || in_netns(&P.b, configure) < 0)
		goto out;
	if (start_sessions() < 0)
		goto out;
	if (P.fwd_cpu >= 0 || (P.fwd_cpu = offload_fwd_cpu()) >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(P.fwd_cpu, &set);
		sched_setaffinity(0, sizeof(set), &set); /* inherited by the forwarder */
	}
	if (pthread_create(&fwd, NULL, forwarder, NULL)) {
		fprintf(stderr, "tun-pump: cannot start the forwarding thread\n");
		goto out;
	}
	if (!P.quiet)
		fprintf(stderr, "tun-pump: forwarding %s%s%s <-> %s%s%s; Ctrl-C stops\n", P.a.name,
			P.a.netns ? "@" : "", P.a.netns ? P.a.netns : "", P.b.name,
			P.b.netns ? "@" : "", P.b.netns ? P.b.netns : "");
	run();
	pthread_join(fwd, NULL);
	ret = 0;
out:
	teardown();
	return ret;
}
