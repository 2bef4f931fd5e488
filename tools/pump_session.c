/* SPDX-License-Identifier: MIT */
/* tun-pump: the two adapters and their sessions. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pump.h"

/* The library logs the cause of a failure itself, and logger() always shows
 * errors: add our own line only when it did not, so that each failure is
 * told once.  @mark: pump_errors_logged() before the call that failed. */
__attribute__((format(printf, 2, 3))) static int failed(uint64_t mark, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	if (pump_errors_logged() != mark)
		return -1;
	va_start(ap, fmt);
	fputs("tun-pump: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(err));
	va_end(ap);
	return -1;
}

static int create(struct side *s)
{
	uint64_t mark = pump_errors_logged();

	s->adapter = WintunCreateAdapter(s->name, "tun-pump", NULL);
	if (s->adapter)
		return 0;
	if (errno == EEXIST)
		return failed(mark, "the name %s is in use", s->name);
	if (errno == EPERM)
		return failed(mark, "creating %s needs CAP_NET_ADMIN (run as root)", s->name);
	return failed(mark, "cannot create %s", s->name);
}

int pump_configure(struct side *s)
{
	uint64_t mark;

	if (create(s))
		return -1;
	mark = pump_errors_logged();
	if (P.mtu && !WintunSetAdapterMtu(s->adapter, P.mtu))
		return failed(mark, "cannot set MTU %u on %s", P.mtu, s->name);
	for (int i = 0; i < s->naddrs; i++)
		if (!WintunAddAdapterAddress(s->adapter, s->addrs[i]))
			return failed(mark, "cannot add %s to %s", s->addrs[i], s->name);
	if (!WintunSetAdapterUp(s->adapter, true))
		return failed(mark, "cannot bring %s up", s->name);
	for (int i = 0; i < s->nroutes; i++)
		if (!WintunAddAdapterRoute(s->adapter, s->routes[i], NULL, 0))
			return failed(mark, "cannot add route %s via %s", s->routes[i], s->name);
	return 0;
}

/* Queue @q's engine CPU with --engine-cpu: the given one for queue 0, the
 * next CPUs for the others. */
static int engine_cpu(unsigned q)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return (int)(((long)P.engine_cpu + (long)q) % (n > 0 ? n : 1));
}

/* Start queue pair @q: A's session, then B's (on A's engine unless
 * --separate-engines).  Every session after the first pair asks for an
 * extra queue of its adapter. */
static int start_pair(WINTUN_SESSION_OPTIONS o, unsigned q)
{
	uint64_t mark;

	if (P.queues > 1)
		o.Flags |= WINTUN_SESSION_EXTRA_QUEUE;
	if (P.engine_cpu >= 0) {
		o.Flags |= WINTUN_SESSION_PIN_CPU;
		o.Cpu = engine_cpu(q);
	}
	mark = pump_errors_logged();
	P.a.sessions[q] = WintunStartSessionEx(P.a.adapter, &o);
	if (!P.a.sessions[q])
		return failed(mark, "cannot start session %u on %s", q, P.a.name);
	if (!P.separate_engines)
		o.ShareEngineWith = P.a.sessions[q];
	if (P.split)
		o.Flags |= WINTUN_SESSION_COALESCE; /* B's engine merges the segments again */
	mark = pump_errors_logged();
	P.b.sessions[q] = WintunStartSessionEx(P.b.adapter, &o);
	if (!P.b.sessions[q])
		return failed(mark, "cannot start session %u on %s", q, P.b.name);
	return 0;
}

int pump_start_sessions(void)
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
	/* Offload mode: super-packets pass through untouched, header and all
	 * (with --split: the forwarder splits A's, B's engine merges them). */
	if (!P.no_offload) {
		o.Flags |= WINTUN_SESSION_OFFLOAD;
		o.Offloads = P.offloads;
	}
	for (unsigned q = 0; q < P.queues; q++)
		if (start_pair(o, q))
			return -1;
	P.a.session = P.a.sessions[0];
	P.b.session = P.b.sessions[0];
	return 0;
}

static int session_cpu(WINTUN_SESSION_HANDLE s)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	return WintunGetSessionStatistics(s, &st) ? st.EngineCpu : -1;
}

/* In offload mode the forwarder copies 64 KiB records the engine has just
 * read and is about to write: on the engine's CPU they stay in its cache,
 * and an engine that does not spin leaves that CPU to it (wintun-bench tso:
 * 0.92x the veth bound there, 0.70x on the other CPU).  So each forwarder
 * goes to its pair's (A's) engine CPU; otherwise unpinned, or --fwd-cpu and
 * the CPUs after it. */
static int forwarder_cpu(unsigned q)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	if (P.fwd_cpu >= 0)
		return (int)(((long)P.fwd_cpu + (long)q) % (n > 0 ? n : 1));
	return P.no_offload ? -1 : session_cpu(P.a.sessions[q]);
}

void pump_place_forwarders(void)
{
	for (unsigned q = 0; q < P.queues; q++) {
		P.fwd_cpus[q] = forwarder_cpu(q);
		if (P.quiet)
			continue;
		fprintf(stderr, "tun-pump: queue %u: engine A on CPU %d, engine B on CPU %d%s, "
				"forwarder on ",
			q, session_cpu(P.a.sessions[q]), session_cpu(P.b.sessions[q]),
			P.separate_engines ? "" : " (shared)");
		if (P.fwd_cpus[q] >= 0)
			fprintf(stderr, "CPU %d", P.fwd_cpus[q]);
		else
			fputs("any CPU", stderr);
		fprintf(stderr, "; %s\n", P.no_offload ? "no offload" : P.split ? "offload, split" : "offload");
	}
}

void pump_teardown(void)
{
	struct side *sides[2] = { &P.a, &P.b };

	for (unsigned q = 0; q < MAX_QUEUES; q++)
		for (int i = 0; i < 2; i++) {
			if (sides[i]->sessions[q])
				WintunEndSession(sides[i]->sessions[q]);
			sides[i]->sessions[q] = NULL;
		}
	for (int i = 0; i < 2; i++) {
		sides[i]->session = NULL;
		if (sides[i]->adapter)
			WintunCloseAdapter(sides[i]->adapter);
		sides[i]->adapter = NULL;
		pump_netns_remove(sides[i]);
	}
}
