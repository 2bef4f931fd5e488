/* SPDX-License-Identifier: MIT */
/* wintun-bench: shared types of the harness. */
#ifndef WB_BENCH_H
#define WB_BENCH_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu.h"

struct wintun_session;

/* ---- options (opts.c) --------------------------------------------------- */

enum wb_scn { WB_RX, WB_TX, WB_RX_BATCH, WB_TX_BATCH, WB_FWD, WB_TCP, WB_PINGPONG, WB_TSO,
	      WB_TSO_SPLIT, WB_NSCN };
enum wb_size_mode { WB_SIZE_FIXED, WB_SIZE_MTU, WB_SIZE_MIXED };

struct wb_opts {
	unsigned scenarios;    /* bit per enum wb_scn */
	enum wb_size_mode size_mode;
	unsigned payload;      /* fixed UDP payload bytes */
	const char *size_arg;
	double duration;       /* seconds per run */
	unsigned runs;
	int engine_cpu, client_cpu, gen_cpu; /* -1: not pinned */
	bool gen_cpu_set;      /* --gen-cpu given: tcp scenarios pin too */
	bool client_cpu_set;   /* --client-cpu given: tso scenarios use it too */
	unsigned batch;        /* engine RX batch (0: default) */
	int spin_us;           /* engine idle spin and client wait spin (< 0: defaults) */
	bool rx_multishot;     /* engine RX variant: multishot read */
	uint32_t capacity;     /* ring capacity */
	bool capacity_set;     /* --capacity given: tso scenarios use it too */
	uint64_t rate;         /* offered packets/s of rx, tx, fwd (0: flood) */
	bool json, quick, no_hw, count_syscalls;
	bool checksum;         /* --checksum: the checksum routine alone */
	bool mq;               /* --scenario mq: its own harness (scenario_mq.c) */
	unsigned mq_queues, mq_streams, mq_flows; /* mq: 0 = default */
	bool calls;            /* --calls: the client calls alone */
	const char *json_out;   /* also write JSON here */
};

/* Returns 0, or the exit status (2 for a bad argument, 0 after --help). */
int wb_opts_parse(struct wb_opts *o, int argc, char **argv, bool *exit_now);

/* UDP payload of the @i-th packet of a stream. */
unsigned wb_payload(const struct wb_opts *o, uint64_t i);
/* Average payload, for the header line. */
double wb_payload_avg(const struct wb_opts *o);

/* ---- namespaces, devices, sockets (netns.c) ------------------------------ */

#define WB_MTU 1500u

/* OA and OB: the same as A and B, with offloads (IFF_VNET_HDR, TSO, USO). */
enum wb_dev_id { WB_DEV_MAIN, WB_DEV_A, WB_DEV_B, WB_DEV_OA, WB_DEV_OB, WB_NDEV };

struct wb_dev {
	char name[16];
	int fd;        /* the TUN queue, held for the whole program */
	int ns_fd;     /* its network namespace */
	uint32_t offloads; /* OA, OB: the WINTUN_OFFLOAD_* bits the kernel took */
};

struct wb_env {
	int ns_main, ns_b;
	struct wb_dev dev[WB_NDEV];
	int gen_rx;    /* UDP, main ns, connected to 10.9.0.2:9 (out of wb0) */
	int sink_tx;   /* UDP, main ns, bound to 10.9.0.1:9998 */
	int gen_fwd;   /* UDP, ns A (= main), connected to 10.2.0.1:9 */
	int sink_fwd;  /* UDP, ns B, bound to 10.2.0.1:9 */
	int tcp_listen; /* TCP, ns B, listening on 10.2.0.1:5001 */
	int tso_listen; /* TCP, ns B, listening on 10.6.0.1:5001 (via wbOA, wbOB) */
	int veth_listen; /* TCP, ns B, listening on 10.7.0.2:5001 (via the veth pair) */
};

/* Move the process into fresh namespaces and create everything; returns 0
 * or a negative errno with a message printed. -EPERM: not privileged. */
int wb_env_setup(struct wb_env *env);
void wb_env_teardown(struct wb_env *env);
/* Throw away what is left in the TUN queues and the sink sockets. */
void wb_env_drain(struct wb_env *env);
/* Kernel tx_dropped counter of a device in the main namespace. */
uint64_t wb_dev_tx_dropped(const char *name);

/* ---- engine or baseline (impl.c, baseline.c) ----------------------------- */

enum wb_impl { WB_ENGINE, WB_BASELINE, WB_NIMPL };

struct wb_base;

struct wb_io {
	enum wb_impl kind;
	unsigned n;
	struct wintun_session *s[2];
	struct wb_base *base;
	int tid; /* engine or baseline I/O thread */
};

/* @offload: sessions in offload mode (the devices have IFF_VNET_HDR);
 * @split: the client splits super-packets, the engine coalesces them on the
 * second device. */
int wb_io_start(struct wb_io *io, enum wb_impl kind, struct wb_dev **devs, unsigned n,
		const struct wb_opts *o, bool offload, bool split);
void wb_io_stop(struct wb_io *io);
uint64_t wb_io_enter_calls(const struct wb_io *io);
/* Packets the I/O side counted as dropped for a full Send ring. */
uint64_t wb_io_ring_full(const struct wb_io *io);
/* Packets read from the TUN fds (one read each), both sessions. */
uint64_t wb_io_rx_packets(const struct wb_io *io);
/* Send ring bytes the I/O side published (records and pads), all sessions. */
uint64_t wb_io_rx_ring_bytes(const struct wb_io *io);

/* The baseline I/O thread: poll() + read()/write() on the same fds. */
int wb_base_start(struct wb_base **out, struct wintun_session **s, const int *fds, unsigned n,
		  int cpu, bool vnet_hdr, int *tid);
void wb_base_stop(struct wb_base *b);

/* ---- one run (run.c) ------------------------------------------------------ */

enum wb_metric {
	WB_M_PPS, WB_M_GBPS, WB_M_SENT_PS, WB_M_LOSS, WB_M_RING_FULL, WB_M_KDROP,
	WB_M_IO_CPP, WB_M_IO_USER, WB_M_CL_CPP, WB_M_CL_USER, WB_M_ENTER_PP,
	WB_M_IO_SYS, WB_M_CL_SYS, WB_M_IO_ENTER_TRACED,
	WB_M_P50, WB_M_P99, WB_M_P999,
	WB_M_READS_GB, WB_M_CPU_S_GB, WB_M_BOUND_GBPS, WB_M_OF_BOUND, WB_M_RING_BPP, WB_NMETRIC
};

struct wb_metric_def {
	const char *key, *label;
	int prec;        /* digits after the point */
	bool engine_only, ratio;
};
extern const struct wb_metric_def wb_metrics[WB_NMETRIC];

struct wb_thread {
	pthread_t th;
	bool started;
	atomic_int tid;
	int cpu;
	const char *name;
};

/* A run: what the traffic and client threads share. */
struct wb_run {
	const struct wb_opts *o;
	struct wb_env *env;
	struct wb_io io;
	atomic_bool stop;      /* clients and sinks stop */
	atomic_bool gen_stop;  /* the generator stops (first) */
	int gen_fd, sink_fd;
	const char *tcp_dst;   /* tcp, tso: where the stream goes (port 5001) */
	_Atomic uint64_t forwarded; /* fwd, tcp: packets the forwarder moved */
	_Atomic uint64_t sent, delivered, bytes; /* by whoever counts them */
	/* pingpong */
	double *lat_us;
	size_t nlat, cap_lat;
	atomic_bool measuring;
	_Atomic uint64_t lost;
};

struct wb_scenario {
	const char *name, *what;
	enum wb_dev_id devs[2];
	unsigned ndev;
	void *(*client)(void *run);
	void *(*gen)(void *run);  /* traffic source thread, or NULL */
	void *(*sink)(void *run); /* traffic sink thread, or NULL */
	bool tcp;          /* per forwarded packet, goodput in Gbit/s */
	bool latency;
	bool offload;      /* sessions in offload mode on the OA/OB devices */
	bool split;        /* the client splits, the second device's engine coalesces */
	bool bound;        /* also measure the same stream over a veth pair */
};
extern const struct wb_scenario wb_scenarios[WB_NSCN];

/* Run @scn once with @impl; fills @m (NaN where not applicable).  Returns 0
 * or a negative errno. */
int wb_run_once(const struct wb_scenario *scn, enum wb_impl impl, const struct wb_opts *o,
		struct wb_env *env, double m[WB_NMETRIC]);

/* Thread helpers: name, pin, record the tid. */
void wb_thread_enter(struct wb_thread *t);
extern volatile sig_atomic_t wb_interrupted;

/* ---- traffic (traffic.c) -------------------------------------------------- */

void *wb_gen_main(void *run);
void *wb_sink_main(void *run);
/* An IPv4/UDP packet into @buf (checksum 0); returns its length. */
unsigned wb_udp4(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		 unsigned payload);
unsigned wb_echo4(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
		  unsigned payload);
uint64_t wb_now_ns(void);

/* Pacing at o->rate: how many of the next @max packets may go now (0 after
 * a short sleep when none may); @sent counts since @t0. */
unsigned wb_pace(const struct wb_opts *o, uint64_t t0, uint64_t sent, unsigned max);

/* A tx client found the Receive ring full: sleep *@delay_ns (0.5 ms at
 * first, doubling to 1 ms while it stays full), as a VPN would, rather than
 * spin; wb_full_reset after a packet went in. */
void wb_full_wait(uint64_t *delay_ns);
static inline void wb_full_reset(uint64_t *delay_ns)
{
	*delay_ns = 0;
}

/* ---- clients (scenario_*.c) ------------------------------------------------ */

void *wb_client_rx(void *run);
void *wb_client_tx(void *run);
void *wb_client_rx_batch(void *run);
void *wb_client_tx_batch(void *run);
void *wb_client_fwd(void *run);
void *wb_client_pingpong(void *run);
void *wb_client_fwd_split(void *run);
void *wb_tcp_send_main(void *run);
void *wb_tcp_recv_main(void *run);
/* The kernel bound of the tcp scenarios: the same sender and receiver over a
 * veth pair, for @o->duration; Gbit/s of goodput, or NaN. */
double wb_tcp_over_veth(const struct wb_opts *o, struct wb_env *env);

/* ---- the checksum routine (checksum.c) --------------------------------- */

/* Measures and prints; returns the exit status. */
int wb_checksum_bench(const struct wb_opts *o);

/* ---- the client calls, single against batch (calls.c) -------------------- */

int wb_calls_bench(const struct wb_opts *o);

/* ---- output (report.c) ---------------------------------------------------- */

struct wb_result {
	const struct wb_scenario *scn;
	unsigned runs_done;
	double *m[WB_NIMPL]; /* runs x WB_NMETRIC */
};

void wb_report_table(const struct wb_opts *o, const struct wb_result *r, unsigned n);
void wb_report_json(FILE *f, const struct wb_opts *o, const struct wb_result *r, unsigned n);

/* WINTUN_FEATURE_* names the engine ran with (impl.c; empty: no engine run). */
extern char wb_engine_features[256];

#endif
