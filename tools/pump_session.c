/* SPDX-License-Identifier: MIT */
/* tun-pump: the two adapters and their sessions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pump.h"

int pump_configure(struct side *s)
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
int pump_offload_fwd_cpu(void)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	if (P.no_offload || !WintunGetSessionStatistics(P.a.session, &st))
		return -1;
	return st.EngineCpu;
}

void pump_teardown(void)
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
		pump_netns_remove(sides[i]);
	}
}
