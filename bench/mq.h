/* SPDX-License-Identifier: MIT */
/*
 * wintun-bench --scenario mq (issue #15): two Wintun adapters, wbqA in
 * namespace A and wbqB in namespace B, joined by Q session pairs (Q queues of
 * each adapter, offload mode) and one forwarding thread per pair; TCP streams
 * and UDP flows from A to B go through them, with 1 queue and with N.
 */
#ifndef WB_MQ_H
#define WB_MQ_H

#include <stdatomic.h>
#include <stdint.h>

#include "bench.h"
#include "wintun.h"

#define WB_MQ_MAX 64

struct wb_mq_pair {
	struct wintun_session *a, *b; /* queue q of wbqA and of wbqB */
	pthread_t th;
	bool started;
	atomic_int tid;
	int cpu;                      /* the forwarder's: A's engine CPU */
	_Atomic uint64_t records[2];  /* forwarded A->B, B->A */
	atomic_bool *stop;
};

struct wb_mq {
	WINTUN_ADAPTER_HANDLE a, b;
	unsigned q;
	struct wb_mq_pair pair[WB_MQ_MAX];
	atomic_bool stop;
};

/* Create and configure wbqA (10.11.0.1/24, route to 10.12.0.0/24) in the main
 * namespace and wbqB (10.12.0.1/24, route back) in env->ns_b.  0 or -errno
 * (printed). */
int wb_mq_adapters(struct wb_mq *m, struct wb_env *env);
void wb_mq_close(struct wb_mq *m);

/* Start @q session pairs (each B session on its A session's engine) and a
 * forwarder each; stop them all.  0 or -errno (printed). */
int wb_mq_start(struct wb_mq *m, unsigned q, const struct wb_opts *o);
void wb_mq_stop(struct wb_mq *m);

/* The engine thread ids of the pairs, and the forwarders' (2 per pair). */
unsigned wb_mq_tids(const struct wb_mq *m, int *tids, unsigned max);

/* The scenario itself (scenario_mq.c): prints its table or JSON. */
int wb_mq_bench(const struct wb_opts *o, struct wb_env *env);

#endif
