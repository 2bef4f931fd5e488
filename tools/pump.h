/* SPDX-License-Identifier: MIT */
/* tun-pump's parts: set-up (namespaces, adapters, sessions), forwarding,
 * reporting.  One process-wide state, P: the options fill it before any
 * thread starts. */
#ifndef PUMP_H
#define PUMP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <wintun.h>

#define MAX_ROUTES 8
#define MAX_QUEUES 64 /* --queues: session pairs, one forwarder each */

struct side {
	const char *name, *netns;
	const char *addrs[MAX_ROUTES], *routes[MAX_ROUTES];
	int naddrs, nroutes;
	char netns_path[128];
	bool netns_created;
	WINTUN_ADAPTER_HANDLE adapter;
	WINTUN_SESSION_HANDLE session; /* queue 0's, = sessions[0] */
	WINTUN_SESSION_HANDLE sessions[MAX_QUEUES];
};

/* Forwarding counters of one queue pair: written by its forwarder only. */
struct fwd_counters {
	_Atomic uint64_t packets[2], bytes[2], drops[2];
	_Atomic uint64_t waits[2]; /* times it waited for room in the other ring */
};

struct pump {
	struct side a, b;
	uint32_t mtu, capacity;
	int engine_cpu, fwd_cpu;
	unsigned queues;         /* session pairs and forwarders (--queues) */
	int fwd_cpus[MAX_QUEUES]; /* each forwarder's CPU, -1: unpinned */
	bool separate_engines, create_netns, json, quiet, verbose, no_offload, split;
	uint32_t offloads;
	double duration;
	int stop_fd;
	struct fwd_counters fwd[MAX_QUEUES];
	_Atomic uint64_t errors_logged; /* error lines of the library shown */
};

extern struct pump P;

/* tun-pump.c */
void pump_stop(void);
bool pump_stopping(void);
uint64_t pump_errors_logged(void);

/* pump_netns.c */
int pump_netns_create(struct side *s);
void pump_netns_remove(struct side *s);
int pump_in_netns(struct side *s, int (*fn)(struct side *));

/* pump_session.c */
int pump_configure(struct side *s);
int pump_start_sessions(void);
void pump_place_forwarders(void);
void pump_teardown(void);

/* pump_fwd.c: @arg is the queue pair's index (intptr_t) */
void *pump_forwarder(void *arg);

/* pump_report.c */
void pump_run(void);

#endif
