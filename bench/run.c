/* SPDX-License-Identifier: MIT */
/*
 * One run of one scenario on one implementation: start the I/O side (engine
 * or baseline), the client, the generator and the sink; let it settle for
 * 100 ms; measure for the duration (counters and per-thread CPU sampled at
 * both ends of the window); stop the generator, let the pipe drain, stop the
 * rest; turn the counters into metrics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "stats.h"
#include "syscalls.h"

volatile sig_atomic_t wb_interrupted;

const struct wb_metric_def wb_metrics[WB_NMETRIC] = {
	[WB_M_PPS] = { "pps", "packets/s delivered", 0, false, true },
	[WB_M_GBPS] = { "gbps", "Gbit/s delivered (L3)", 3, false, true },
	[WB_M_SENT_PS] = { "sent_pps", "packets/s sent", 0, false, true },
	[WB_M_LOSS] = { "loss_pct", "lost % (sent - delivered)", 2, false, false },
	[WB_M_RING_FULL] = { "ring_full", "Send ring full (episodes)", 0, false, false },
	[WB_M_KDROP] = { "kernel_tx_dropped", "kernel tx_dropped (TUN queue)", 0, false, false },
	[WB_M_IO_CPP] = { "io_cycles_per_pkt", "I/O thread cycles/pkt", 0, false, true },
	[WB_M_IO_USER] = { "io_user_pct", "  I/O thread user %", 1, false, false },
	[WB_M_CL_CPP] = { "client_cycles_per_pkt", "client thread cycles/pkt", 0, false, true },
	[WB_M_CL_USER] = { "client_user_pct", "  client thread user %", 1, false, false },
	[WB_M_ENTER_PP] = { "enter_per_pkt", "io_uring_enter/pkt (wt counter)", 3, true, false },
	[WB_M_IO_SYS] = { "io_syscalls_per_pkt", "I/O thread syscalls/pkt (traced)", 3, false, true },
	[WB_M_CL_SYS] = { "client_syscalls_per_pkt", "client syscalls/pkt (traced)", 3, false, true },
	[WB_M_IO_ENTER_TRACED] = { "io_uring_enter_per_pkt_traced", "io_uring_enter/pkt (traced)", 3,
				   true, false },
	[WB_M_P50] = { "lat_p50_us", "latency p50 (us)", 1, false, true },
	[WB_M_P99] = { "lat_p99_us", "latency p99 (us)", 1, false, true },
	[WB_M_P999] = { "lat_p999_us", "latency p99.9 (us)", 1, false, true },
	[WB_M_READS_GB] = { "tun_reads_per_gb", "TUN reads per GB delivered", 0, false, true },
	[WB_M_CPU_S_GB] = { "cpu_s_per_gb", "I/O + client CPU s per GB", 3, false, true },
	[WB_M_BOUND_GBPS] = { "veth_gbps", "veth Gbit/s, same run (bound)", 3, false, false },
	[WB_M_OF_BOUND] = { "of_veth", "Gbit/s / veth Gbit/s", 3, false, true },
	[WB_M_RING_BPP] = { "ring_bytes_per_pkt", "Send ring bytes/pkt (records+pads)", 0, false,
			    true },
};

const struct wb_scenario wb_scenarios[WB_NSCN] = {
	[WB_RX] = { "rx", "kernel UDP (sendmmsg) -> wb0 -> Send ring -> client",
		    { WB_DEV_MAIN }, 1, wb_client_rx, .gen = wb_gen_main },
	[WB_TX] = { "tx", "client -> Receive ring -> wb0 -> kernel UDP sink",
		    { WB_DEV_MAIN }, 1, wb_client_tx, .sink = wb_sink_main },
	[WB_RX_BATCH] = { "rx-batch", "rx, the client on WintunReceivePackets/"
				      "WintunReleaseReceivePackets (64 per call)",
			  { WB_DEV_MAIN }, 1, wb_client_rx_batch, .gen = wb_gen_main },
	[WB_TX_BATCH] = { "tx-batch", "tx, the client on WintunAllocateSendPackets/"
				      "WintunSendPackets (64 per call)",
			  { WB_DEV_MAIN }, 1, wb_client_tx_batch, .sink = wb_sink_main },
	[WB_FWD] = { "fwd", "ns A UDP (sendmmsg) -> wbA -> forwarder -> wbB -> ns B UDP sink",
		     { WB_DEV_A, WB_DEV_B }, 2, wb_client_fwd, .gen = wb_gen_main,
		     .sink = wb_sink_main },
	[WB_TCP] = { "tcp", "one TCP bulk stream ns A -> wbA -> forwarder -> wbB -> ns B (and ACKs back)",
		     { WB_DEV_A, WB_DEV_B }, 2, wb_client_fwd, .gen = wb_tcp_send_main,
		     .sink = wb_tcp_recv_main, .tcp = true },
	[WB_PINGPONG] = { "pingpong", "ICMP echo via Receive ring, reply via Send ring",
			  { WB_DEV_MAIN }, 1, wb_client_pingpong, .latency = true },
	[WB_TSO] = { "tso", "tcp in offload mode: ns A -> wbOA -> forwarder (super-packets "
			    "copied whole) -> wbOB -> ns B",
		     { WB_DEV_OA, WB_DEV_OB }, 2, wb_client_fwd, .gen = wb_tcp_send_main,
		     .sink = wb_tcp_recv_main, .tcp = true, .offload = true, .bound = true },
	[WB_TSO_SPLIT] = { "tso-split", "tso, the forwarder splitting every super-packet into "
					"MTU-sized packets; wbOB's engine coalesces them",
			   { WB_DEV_OA, WB_DEV_OB }, 2, wb_client_fwd_split,
			   .gen = wb_tcp_send_main, .sink = wb_tcp_recv_main, .tcp = true,
			   .offload = true, .split = true, .bound = true },
};

struct th {
	struct wb_thread t;
	void *(*fn)(void *);
	struct wb_run *r;
};

static void *trampoline(void *arg)
{
	struct th *t = arg;

	wb_thread_enter(&t->t);
	return t->fn(t->r);
}

static int th_start(struct th *t, const char *name, int cpu, void *(*fn)(void *),
		    struct wb_run *r)
{
	int ret;

	t->t.name = name;
	t->t.cpu = cpu;
	t->fn = fn;
	t->r = r;
	ret = pthread_create(&t->t.th, NULL, trampoline, t);
	if (ret)
		return -ret;
	t->t.started = true;
	while (!atomic_load(&t->t.tid))
		sched_yield();
	return 0;
}

static void th_join(struct th *t)
{
	if (t->t.started)
		pthread_join(t->t.th, NULL);
	t->t.started = false;
}

static void sleep_s(double s)
{
	uint64_t end = wb_now_ns() + (uint64_t)(s * 1e9);

	while (!wb_interrupted) {
		uint64_t now = wb_now_ns();
		struct timespec ts = { 0, 20000000 };

		if (now >= end)
			break;
		if (end - now < 20000000)
			ts.tv_nsec = (long)(end - now);
		nanosleep(&ts, NULL);
	}
}

/* Per-thread counters of a run: CPU, and syscalls with --count-syscalls. */
struct counters {
	struct wb_cpu_counter io, cl;
	int sys_io, sys_cl, sys_enter; /* -1: not counted */
};

struct snap {
	uint64_t t, sent, delivered, bytes, enter, forwarded, reads, ring_bytes;
	uint64_t sys_io, sys_cl, sys_enter;
	struct wb_cpu_sample io, cl;
};

static void counters_open(struct counters *c, const struct wb_run *r, int client_tid)
{
	wb_cpu_open(&c->io, r->io.tid);
	wb_cpu_open(&c->cl, client_tid);
	c->sys_io = c->sys_cl = c->sys_enter = -1;
	if (!r->o->count_syscalls)
		return;
	c->sys_io = wb_sys_open(r->io.tid, WB_SYS_ALL);
	c->sys_cl = wb_sys_open(client_tid, WB_SYS_ALL);
	if (r->io.kind == WB_ENGINE)
		c->sys_enter = wb_sys_open(r->io.tid, WB_SYS_IO_URING_ENTER);
	if (c->sys_io < 0)
		fprintf(stderr, "wintun-bench: cannot count syscalls (tracefs, perf_event_open): %s\n",
			strerror(-c->sys_io));
}

static void counters_close(struct counters *c)
{
	wb_cpu_close(&c->io);
	wb_cpu_close(&c->cl);
	wb_sys_close(c->sys_io);
	wb_sys_close(c->sys_cl);
	wb_sys_close(c->sys_enter);
}

static void snap_take(struct wb_run *r, const struct counters *c, struct snap *s)
{
	const struct wb_cpu_counter *io = &c->io, *cl = &c->cl;

	s->t = wb_now_ns();
	s->sent = atomic_load(&r->sent);
	s->delivered = atomic_load(&r->delivered);
	s->bytes = atomic_load(&r->bytes);
	s->forwarded = atomic_load(&r->forwarded);
	s->enter = wb_io_enter_calls(&r->io);
	s->reads = wb_io_rx_packets(&r->io);
	s->ring_bytes = wb_io_rx_ring_bytes(&r->io);
	wb_cpu_sample(io, &s->io);
	wb_cpu_sample(cl, &s->cl);
	s->sys_io = wb_sys_read(c->sys_io);
	s->sys_cl = wb_sys_read(c->sys_cl);
	s->sys_enter = wb_sys_read(c->sys_enter);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

static void latency_metrics(struct wb_run *r, double *m)
{
	wb_sort(r->lat_us, r->nlat);
	m[WB_M_P50] = wb_percentile_sorted(r->lat_us, r->nlat, 50);
	m[WB_M_P99] = wb_percentile_sorted(r->lat_us, r->nlat, 99);
	m[WB_M_P999] = wb_percentile_sorted(r->lat_us, r->nlat, 99.9);
}

static void syscall_metrics(const struct counters *c, const struct snap *a, const struct snap *b,
			    double pkts, double *m)
{
	if (c->sys_io >= 0)
		m[WB_M_IO_SYS] = ratio((double)(b->sys_io - a->sys_io), pkts);
	if (c->sys_cl >= 0)
		m[WB_M_CL_SYS] = ratio((double)(b->sys_cl - a->sys_cl), pkts);
	if (c->sys_enter >= 0)
		m[WB_M_IO_ENTER_TRACED] = ratio((double)(b->sys_enter - a->sys_enter), pkts);
}

static void metrics(const struct wb_scenario *scn, struct wb_run *r, const struct counters *c,
		    const struct snap *a, const struct snap *b, uint64_t ring_full, uint64_t kdrop,
		    double *m)
{
	double secs = (double)(b->t - a->t) / 1e9;
	double deliv = (double)(b->delivered - a->delivered);
	/* Per packet the client handled: tx counts what it sent (all of it
	 * went through the I/O thread), pingpong counts round trips. */
	double pkts = scn == &wb_scenarios[WB_TX] || scn == &wb_scenarios[WB_TX_BATCH]
			      ? (double)(b->sent - a->sent)
			      : deliv;
	uint64_t sent = atomic_load(&r->sent), got = atomic_load(&r->delivered);

	for (unsigned i = 0; i < WB_NMETRIC; i++)
		m[i] = NAN;
	m[WB_M_PPS] = deliv / secs;
	m[WB_M_GBPS] = (double)(b->bytes - a->bytes) * 8 / secs / 1e9;
	m[WB_M_SENT_PS] = (double)(b->sent - a->sent) / secs;
	m[WB_M_LOSS] = sent ? 100.0 * (double)(sent > got ? sent - got : 0) / (double)sent : NAN;
	m[WB_M_RING_FULL] = (double)ring_full;
	m[WB_M_KDROP] = (double)kdrop;
	m[WB_M_IO_CPP] = ratio(wb_cpu_cycles(&a->io, &b->io), pkts);
	m[WB_M_IO_USER] = 100 * wb_cpu_user_share(&a->io, &b->io);
	m[WB_M_CL_CPP] = ratio(wb_cpu_cycles(&a->cl, &b->cl), pkts);
	m[WB_M_CL_USER] = 100 * wb_cpu_user_share(&a->cl, &b->cl);
	/* Per packet put into the Send ring (what the client walks). */
	m[WB_M_RING_BPP] = ratio((double)(b->ring_bytes - a->ring_bytes),
				 (double)(b->reads - a->reads));
	if (scn->tcp) {
		double gb = (double)(b->bytes - a->bytes) / 1e9;
		double cpu_ns = (double)(b->io.cpu_ns - a->io.cpu_ns) +
				(double)(b->cl.cpu_ns - a->cl.cpu_ns);

		/* Reads of both devices (data and ACKs), per GB of goodput. */
		m[WB_M_READS_GB] = ratio((double)(b->reads - a->reads), gb);
		m[WB_M_CPU_S_GB] = ratio(cpu_ns / 1e9, gb);
		/* Packets are what the forwarder moved (data and ACKs); the
		 * stream has no loss to count. */
		pkts = (double)(b->forwarded - a->forwarded);
		m[WB_M_PPS] = pkts / secs;
		m[WB_M_SENT_PS] = m[WB_M_LOSS] = NAN;
		m[WB_M_IO_CPP] = ratio(wb_cpu_cycles(&a->io, &b->io), pkts);
		m[WB_M_CL_CPP] = ratio(wb_cpu_cycles(&a->cl, &b->cl), pkts);
	}
	if (r->io.kind == WB_ENGINE)
		m[WB_M_ENTER_PP] = ratio((double)(b->enter - a->enter), pkts);
	syscall_metrics(c, a, b, pkts, m);
	if (scn->latency)
		latency_metrics(r, m);
}

/* A TCP stream's two ends do kernel work on both sides of the path: the
 * scheduler places them (tcp scenarios and the veth bound) unless --gen-cpu. */
static int tcp_ends_cpu(const struct wb_opts *o)
{
	return o->gen_cpu_set ? o->gen_cpu : -1;
}

/* Start the client, the sink and the generator; 0 or a negative errno. */
static int start_threads(const struct wb_scenario *scn, struct wb_run *r, struct th *cl,
			 struct th *gen, struct th *sink)
{
	const struct wb_opts *o = r->o;
	int gen_cpu = scn->tcp ? tcp_ends_cpu(o) : o->gen_cpu, ret = 0;
	/* Super-packets: the client copies 64 KiB records the I/O thread has
	 * just read and will write; on the same CPU they stay in its cache. */
	int client_cpu = scn->offload && !o->client_cpu_set ? o->engine_cpu : o->client_cpu;

	if (scn->sink)
		ret = th_start(sink, "wb-sink", gen_cpu, scn->sink, r);
	if (!ret)
		ret = th_start(cl, scn->ndev == 2 ? "wb-fwd" : "wb-client", client_cpu,
			       scn->client, r);
	if (!ret && scn->gen)
		ret = th_start(gen, "wb-gen", gen_cpu, scn->gen, r);
	return ret;
}

static void stop_threads(struct wb_run *r, struct th *cl, struct th *gen, struct th *sink)
{
	atomic_store(&r->gen_stop, true);
	th_join(gen);
	sleep_s(0.2); /* what is in flight arrives */
	atomic_store(&r->stop, true);
	th_join(cl);
	th_join(sink);
}

static void run_init(const struct wb_scenario *scn, struct wb_run *r, const struct wb_opts *o,
		     struct wb_env *env)
{
	bool fwd = scn->devs[0] == WB_DEV_A;

	memset(r, 0, sizeof(*r));
	r->o = o;
	r->env = env;
	r->gen_fd = fwd ? env->gen_fwd : env->gen_rx;
	r->sink_fd = scn->tcp ? (scn->offload ? env->tso_listen : env->tcp_listen)
		     : fwd    ? env->sink_fwd
			      : env->sink_tx;
	r->tcp_dst = scn->offload ? "10.6.0.1" : "10.2.0.1";
	if (scn->latency) {
		r->cap_lat = (size_t)(o->duration * 200000) + 1000;
		r->lat_us = malloc(r->cap_lat * sizeof(double));
		if (!r->lat_us)
			r->cap_lat = 0;
	}
}

int wb_run_once(const struct wb_scenario *scn, enum wb_impl impl, const struct wb_opts *o,
		struct wb_env *env, double m[WB_NMETRIC])
{
	struct wb_run r;
	struct th cl = { 0 }, gen = { 0 }, sink = { 0 };
	struct counters cnt;
	struct wb_dev *devs[2];
	struct snap a, b;
	uint64_t kd0;
	int ret;

	for (unsigned i = 0; i < scn->ndev; i++)
		devs[i] = &env->dev[scn->devs[i]];
	run_init(scn, &r, o, env);
	wb_env_drain(env);
	kd0 = wb_dev_tx_dropped(devs[0]->name);
	ret = wb_io_start(&r.io, impl, devs, scn->ndev, o, scn->offload, scn->split);
	if (ret)
		goto out;
	ret = start_threads(scn, &r, &cl, &gen, &sink);
	if (ret) {
		fprintf(stderr, "wintun-bench: cannot start a thread: %s\n", strerror(-ret));
		stop_threads(&r, &cl, &gen, &sink);
		wb_io_stop(&r.io);
		goto out;
	}
	counters_open(&cnt, &r, atomic_load(&cl.t.tid));
	sleep_s(0.1); /* warm up */
	atomic_store(&r.measuring, true);
	snap_take(&r, &cnt, &a);
	sleep_s(o->duration);
	snap_take(&r, &cnt, &b);
	atomic_store(&r.measuring, false);
	stop_threads(&r, &cl, &gen, &sink);
	metrics(scn, &r, &cnt, &a, &b, wb_io_ring_full(&r.io),
		wb_dev_tx_dropped(devs[0]->name) - kd0, m);
	counters_close(&cnt);
	wb_io_stop(&r.io);
	if (wb_interrupted)
		ret = -EINTR;
out:
	free(r.lat_us);
	return ret;
}

double wb_tcp_over_veth(const struct wb_opts *o, struct wb_env *env)
{
	struct wb_run r;
	struct th gen = { 0 }, sink = { 0 };
	uint64_t t0 = 0, b0 = 0, t1 = 1, b1 = 0;
	int ret;

	if (env->veth_listen < 0)
		return NAN;
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.env = env;
	r.sink_fd = env->veth_listen;
	r.tcp_dst = "10.7.0.2";
	ret = th_start(&sink, "wb-sink", tcp_ends_cpu(o), wb_tcp_recv_main, &r);
	if (!ret)
		ret = th_start(&gen, "wb-gen", tcp_ends_cpu(o), wb_tcp_send_main, &r);
	if (!ret) {
		sleep_s(0.1); /* warm up */
		t0 = wb_now_ns();
		b0 = atomic_load(&r.bytes);
		sleep_s(o->duration);
		t1 = wb_now_ns();
		b1 = atomic_load(&r.bytes);
	}
	atomic_store(&r.gen_stop, true);
	th_join(&gen);
	atomic_store(&r.stop, true);
	th_join(&sink);
	if (ret || wb_interrupted)
		return NAN;
	return (double)(b1 - b0) * 8 / ((double)(t1 - t0) / 1e9) / 1e9;
}
