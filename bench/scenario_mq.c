/* SPDX-License-Identifier: MIT */
/*
 * mq (issue #15): S TCP streams, then F UDP flows of 64-byte packets, from
 * namespace A to B through wbqA -> Q forwarders -> wbqB, with Q = 1 and
 * Q = N in the same run, and the same S streams over the veth pair (the
 * kernel's bound).  Per configuration: Gbit/s, packets/s, cycles per packet
 * of the engines and forwarders, and how evenly the kernel spread the flows
 * (A->B records of the least busy queue / the busiest).  Medians of --runs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mq.h"
#include "stats.h"

#define MAX_STREAMS 16
#define MAX_FLOWS 64
#define UDP_PAYLOAD 36 /* 64-byte IP packets */

enum { C_VETH, C_ONE, C_N, C_NCONF };
enum { K_TCP_GBPS, K_TCP_CPP, K_TCP_SPREAD, K_UDP_PPS, K_UDP_LOSS, K_UDP_QDROP, K_UDP_REORDER,
       K_UDP_CPP, K_UDP_SPREAD, K_NKEY };

/* udp_loss: 1 - delivered / sent; udp_queue_drops: the part wbqA's TUN
 * queues dropped (tx_dropped / sent); udp_reordered: datagrams that came
 * after a later one of their flow. */
static const char *const key_names[K_NKEY] = { "tcp_gbit_per_s", "tcp_cycles_per_record",
					       "tcp_spread", "udp_packets_per_s", "udp_loss",
					       "udp_queue_drops", "udp_reordered",
					       "udp_cycles_per_packet", "udp_spread" };

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR && !wb_interrupted)
		;
}

/* ---- CPU of the engines and forwarders ---------------------------------- */

struct cpu_set_sample {
	struct wb_cpu_counter c[2 * WB_MQ_MAX];
	struct wb_cpu_sample s[2 * WB_MQ_MAX];
	unsigned n;
};

static void cpu_open(struct cpu_set_sample *cs, const struct wb_mq *m)
{
	int tids[2 * WB_MQ_MAX];

	cs->n = m ? wb_mq_tids(m, tids, 2 * WB_MQ_MAX) : 0;
	for (unsigned i = 0; i < cs->n; i++)
		wb_cpu_open(&cs->c[i], tids[i]);
}

static void cpu_take(struct cpu_set_sample *cs)
{
	for (unsigned i = 0; i < cs->n; i++)
		wb_cpu_sample(&cs->c[i], &cs->s[i]);
}

static double cpu_cycles(const struct cpu_set_sample *a, const struct cpu_set_sample *b)
{
	double sum = 0;

	for (unsigned i = 0; i < a->n; i++)
		sum += wb_cpu_cycles(&a->s[i], &b->s[i]);
	return sum;
}

static void cpu_close(struct cpu_set_sample *cs)
{
	for (unsigned i = 0; i < cs->n; i++)
		wb_cpu_close(&cs->c[i]);
}

/* Per-queue A->B records; @total: both directions, all queues. */
static void records(const struct wb_mq *m, uint64_t *ab, uint64_t *total)
{
	*total = 0;
	for (unsigned i = 0; m && i < m->q; i++) {
		ab[i] = atomic_load(&m->pair[i].records[0]);
		*total += ab[i] + atomic_load(&m->pair[i].records[1]);
	}
}

static double spread(const struct wb_mq *m, const uint64_t *a, const uint64_t *b)
{
	double lo = INFINITY, hi = 0;

	if (!m)
		return NAN;
	for (unsigned i = 0; i < m->q; i++) {
		double d = (double)(b[i] - a[i]);

		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	return hi > 0 ? lo / hi : NAN;
}

/* ---- TCP streams ---------------------------------------------------------- */

struct tcp_phase {
	struct wb_run r[MAX_STREAMS];
	pthread_t gen[MAX_STREAMS], sink[MAX_STREAMS];
	unsigned n;
};

static uint64_t tcp_bytes(const struct tcp_phase *t)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < t->n; i++)
		sum += atomic_load(&t->r[i].bytes);
	return sum;
}

static void tcp_start(struct tcp_phase *t, unsigned n, const struct wb_opts *o,
		      struct wb_env *env, int listen_fd, const char *dst)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	for (unsigned i = 0; i < n; i++) {
		t->r[i].o = o;
		t->r[i].env = env;
		t->r[i].sink_fd = listen_fd;
		t->r[i].tcp_dst = dst;
		pthread_create(&t->sink[i], NULL, wb_tcp_recv_main, &t->r[i]);
		pthread_create(&t->gen[i], NULL, wb_tcp_send_main, &t->r[i]);
	}
}

static void tcp_stop(struct tcp_phase *t)
{
	for (unsigned i = 0; i < t->n; i++)
		atomic_store(&t->r[i].gen_stop, true);
	for (unsigned i = 0; i < t->n; i++)
		pthread_join(t->gen[i], NULL);
	for (unsigned i = 0; i < t->n; i++)
		atomic_store(&t->r[i].stop, true);
	for (unsigned i = 0; i < t->n; i++)
		pthread_join(t->sink[i], NULL);
}

/* Gbit/s of @streams streams to @dst:5001; with @m, also cycles per
 * forwarded record and the spread. */
static void tcp_measure(const struct wb_opts *o, struct wb_env *env, const struct wb_mq *m,
			unsigned streams, int listen_fd, const char *dst, double *out)
{
	static struct tcp_phase t;
	struct cpu_set_sample c0, c1;
	uint64_t q0[WB_MQ_MAX], q1[WB_MQ_MAX], r0, r1, b0, b1, t0, t1;

	tcp_start(&t, streams, o, env, listen_fd, dst);
	sleep_s(0.3); /* connect and slow start */
	cpu_open(&c0, m);
	c1 = c0;
	records(m, q0, &r0);
	cpu_take(&c0);
	b0 = tcp_bytes(&t);
	t0 = wb_now_ns();
	sleep_s(o->duration);
	t1 = wb_now_ns();
	b1 = tcp_bytes(&t);
	cpu_take(&c1);
	records(m, q1, &r1);
	tcp_stop(&t);
	cpu_close(&c0);
	out[K_TCP_GBPS] = (double)(b1 - b0) * 8 / ((double)(t1 - t0) / 1e9) / 1e9;
	out[K_TCP_CPP] = m && r1 > r0 ? cpu_cycles(&c0, &c1) / (double)(r1 - r0) : NAN;
	out[K_TCP_SPREAD] = spread(m, q0, q1);
}

/* ---- UDP flows ------------------------------------------------------------ */

struct udp_phase {
	int gen[MAX_FLOWS], sink;
	unsigned n;
	atomic_bool stop;
	_Atomic uint64_t sent, got, reordered;
	pthread_t tg, ts;
};

/* The payload: flow and sequence number, zero-padded. */
struct udp_msg {
	uint32_t flow, seq;
	uint8_t pad[UDP_PAYLOAD - 8];
};

static void *udp_gen(void *arg)
{
	struct udp_phase *u = arg;
	static struct udp_msg m[32];
	static uint32_t next[MAX_FLOWS];
	struct iovec iov[32];
	struct mmsghdr msg[32];

	for (unsigned i = 0; i < 32; i++) {
		iov[i] = (struct iovec){ &m[i], sizeof(m[i]) };
		msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	memset(next, 0, sizeof(next));
	pthread_setname_np(pthread_self(), "wb-gen");
	while (!atomic_load_explicit(&u->stop, memory_order_relaxed))
		for (unsigned f = 0; f < u->n; f++) {
			int n;

			for (unsigned i = 0; i < 32; i++)
				m[i] = (struct udp_msg){ .flow = f, .seq = next[f] + i };
			n = sendmmsg(u->gen[f], msg, 32, 0);
			if (n > 0) {
				next[f] += (uint32_t)n;
				atomic_fetch_add_explicit(&u->sent, (uint64_t)n, memory_order_relaxed);
			}
		}
	return NULL;
}

/* Count @n received datagrams, and those that came after a later one of
 * their flow. */
static void udp_count(struct udp_phase *u, const struct mmsghdr *msg, int n, uint8_t (*buf)[128],
		      uint32_t *next)
{
	uint64_t late = 0;

	for (int i = 0; i < n; i++) {
		struct udp_msg m;

		if (msg[i].msg_len < 8)
			continue;
		memcpy(&m, buf[i], 8);
		if (m.flow >= MAX_FLOWS)
			continue;
		if (m.seq < next[m.flow])
			late++;
		else
			next[m.flow] = m.seq + 1;
	}
	atomic_fetch_add_explicit(&u->got, (uint64_t)n, memory_order_relaxed);
	atomic_fetch_add_explicit(&u->reordered, late, memory_order_relaxed);
}

static void *udp_sink(void *arg)
{
	struct udp_phase *u = arg;
	static uint8_t buf[64][128];
	static uint32_t next[MAX_FLOWS];
	struct iovec iov[64];
	struct mmsghdr msg[64];

	for (unsigned i = 0; i < 64; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	memset(next, 0, sizeof(next));
	pthread_setname_np(pthread_self(), "wb-sink");
	while (!atomic_load_explicit(&u->stop, memory_order_relaxed)) {
		int n = recvmmsg(u->sink, msg, 64, MSG_WAITFORONE, NULL);

		if (n > 0)
			udp_count(u, msg, n, buf, next);
	}
	return NULL;
}

static int udp_socket(int ns, int ns_back, const char *addr, uint16_t port, bool bind_it)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_usec = 50000 };
	int buf = 4 << 20, fd;

	if (ns >= 0 && setns(ns, CLONE_NEWNET) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ns_back >= 0 && setns(ns_back, CLONE_NEWNET) < 0) {
		close(fd);
		return -1;
	}
	if (fd < 0)
		return -1;
	inet_pton(AF_INET, addr, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if ((bind_it ? bind(fd, (struct sockaddr *)&sa, sizeof(sa))
		     : connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void udp_close(struct udp_phase *u)
{
	for (unsigned f = 0; f < u->n; f++)
		if (u->gen[f] >= 0)
			close(u->gen[f]);
	if (u->sink >= 0)
		close(u->sink);
}

/* Packets/s that reach B of @flows flows through @m, with the loss and
 * cycles per delivered packet. */
static int udp_measure(const struct wb_opts *o, struct wb_env *env, const struct wb_mq *m,
		       unsigned flows, double *out)
{
	static struct udp_phase u;
	struct cpu_set_sample c0, c1;
	uint64_t q0[WB_MQ_MAX], q1[WB_MQ_MAX], r0, r1, s0, s1, g0, g1, t0, t1, d0, d1, o0, o1;

	memset(&u, 0, sizeof(u));
	u.n = flows;
	u.sink = udp_socket(env->ns_b, env->ns_main, "10.12.0.1", 9, true);
	for (unsigned f = 0; f < flows; f++)
		u.gen[f] = udp_socket(-1, -1, "10.12.0.1", 9, false);
	for (unsigned f = 0; f < flows; f++)
		if (u.gen[f] < 0 || u.sink < 0) {
			udp_close(&u);
			return -EIO;
		}
	pthread_create(&u.ts, NULL, udp_sink, &u);
	pthread_create(&u.tg, NULL, udp_gen, &u);
	sleep_s(0.2);
	cpu_open(&c0, m);
	c1 = c0;
	records(m, q0, &r0);
	cpu_take(&c0);
	d0 = wb_dev_tx_dropped("wbqA");
	o0 = atomic_load(&u.reordered);
	s0 = atomic_load(&u.sent);
	g0 = atomic_load(&u.got);
	t0 = wb_now_ns();
	sleep_s(o->duration);
	t1 = wb_now_ns();
	s1 = atomic_load(&u.sent);
	g1 = atomic_load(&u.got);
	o1 = atomic_load(&u.reordered);
	d1 = wb_dev_tx_dropped("wbqA");
	cpu_take(&c1);
	records(m, q1, &r1);
	atomic_store(&u.stop, true);
	pthread_join(u.tg, NULL);
	pthread_join(u.ts, NULL);
	cpu_close(&c0);
	udp_close(&u);
	out[K_UDP_PPS] = (double)(g1 - g0) / ((double)(t1 - t0) / 1e9);
	out[K_UDP_LOSS] = s1 > s0 ? 1 - (double)(g1 - g0) / (double)(s1 - s0) : NAN;
	out[K_UDP_QDROP] = s1 > s0 ? (double)(d1 - d0) / (double)(s1 - s0) : NAN;
	out[K_UDP_REORDER] = (double)(o1 - o0);
	out[K_UDP_CPP] = g1 > g0 ? cpu_cycles(&c0, &c1) / (double)(g1 - g0) : NAN;
	out[K_UDP_SPREAD] = spread(m, q0, q1);
	return 0;
}

/* ---- the runs ------------------------------------------------------------- */

struct mq_params {
	unsigned n, streams, flows;
	int listen_fd; /* TCP, ns B, 10.12.0.1:5001 */
};

static int listener(struct wb_env *env)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5001) };
	int one = 1, fd;

	if (setns(env->ns_b, CLONE_NEWNET) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (setns(env->ns_main, CLONE_NEWNET) < 0 || fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, "10.12.0.1", &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int one_config(const struct wb_opts *o, struct wb_env *env, struct wb_mq *m,
		      const struct mq_params *p, unsigned q, double *out)
{
	int ret = wb_mq_start(m, q, o);

	if (!ret) {
		sleep_s(0.1);
		tcp_measure(o, env, m, p->streams, p->listen_fd, "10.12.0.1", out);
		ret = udp_measure(o, env, m, p->flows, out);
	}
	wb_mq_stop(m);
	return ret;
}

static int one_run(const struct wb_opts *o, struct wb_env *env, struct wb_mq *m,
		   const struct mq_params *p, double res[C_NCONF][K_NKEY])
{
	int ret;

	for (unsigned c = 0; c < C_NCONF; c++)
		for (unsigned k = 0; k < K_NKEY; k++)
			res[c][k] = NAN;
	tcp_measure(o, env, NULL, p->streams, env->veth_listen, "10.7.0.2", res[C_VETH]);
	ret = one_config(o, env, m, p, 1, res[C_ONE]);
	if (!ret)
		ret = one_config(o, env, m, p, p->n, res[C_N]);
	return ret;
}

static double median_of(double *v, unsigned n)
{
	double s[n ? n : 1];
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		if (!isnan(v[i]))
			s[k++] = v[i];
	if (!k)
		return NAN;
	for (unsigned i = 1; i < k; i++)
		for (unsigned j = i; j > 0 && s[j] < s[j - 1]; j--) {
			double t = s[j];

			s[j] = s[j - 1];
			s[j - 1] = t;
		}
	return k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

static const char *const conf_names[C_NCONF] = { "veth", "1 queue", "N queues" };

static void report(const struct wb_opts *o, const struct mq_params *p, double (*res)[C_NCONF][K_NKEY],
		   unsigned runs)
{
	double med[C_NCONF][K_NKEY], v[1000];

	for (unsigned c = 0; c < C_NCONF; c++)
		for (unsigned k = 0; k < K_NKEY; k++) {
			for (unsigned r = 0; r < runs; r++)
				v[r] = res[r][c][k];
			med[c][k] = median_of(v, runs);
		}
	if (o->json) {
		printf("{\"scenario\": \"mq\", \"queues\": %u, \"tcp_streams\": %u, \"udp_flows\": %u, "
		       "\"runs\": %u, \"seconds\": %.2f, \"cpu_method\": \"%s\", \"medians\": {",
		       p->n, p->streams, p->flows, runs, o->duration, wb_cpu_method());
		for (unsigned c = 0; c < C_NCONF; c++) {
			printf("%s\"%s\": {", c ? ", " : "", c == C_VETH ? "veth" : c == C_ONE ? "q1" : "qn");
			for (unsigned k = 0; k < K_NKEY; k++) {
				printf("%s\"%s\": ", k ? ", " : "", key_names[k]);
				if (isnan(med[c][k]))
					printf("null");
				else
					printf("%.4g", med[c][k]);
			}
			printf("}");
		}
		printf("}}\n");
		return;
	}
	printf("mq: %u TCP streams, then %u UDP flows of 64-byte packets, A -> B; 1 queue vs %u "
	       "queues (offload mode, one engine and one forwarder per queue pair); medians of %u "
	       "runs of %.1f s; cycles: %s\n",
	       p->streams, p->flows, p->n, runs, o->duration, wb_cpu_method());
	printf("%-28s %12s %12s %12s\n", "", conf_names[0], conf_names[1], "N queues");
	for (unsigned k = 0; k < K_NKEY; k++) {
		printf("%-28s", key_names[k]);
		for (unsigned c = 0; c < C_NCONF; c++)
			if (isnan(med[c][k]))
				printf(" %12s", "-");
			else
				printf(" %12.4g", med[c][k]);
		printf("\n");
	}
	printf("N queues / 1 queue: TCP %.2fx, UDP packets/s %.2fx; TCP N queues / veth %.2fx\n",
	       med[C_N][K_TCP_GBPS] / med[C_ONE][K_TCP_GBPS],
	       med[C_N][K_UDP_PPS] / med[C_ONE][K_UDP_PPS],
	       med[C_N][K_TCP_GBPS] / med[C_VETH][K_TCP_GBPS]);
}

static unsigned default_queues(void)
{
	cpu_set_t set;
	int n = sched_getaffinity(0, sizeof(set), &set) ? 2 : CPU_COUNT(&set);

	return n < 2 ? 2 : n > WB_MQ_MAX ? WB_MQ_MAX : (unsigned)n;
}

int wb_mq_bench(const struct wb_opts *o, struct wb_env *env)
{
	struct mq_params p = { .n = o->mq_queues ? o->mq_queues : default_queues(),
			       .streams = o->mq_streams ? o->mq_streams : 2,
			       .flows = o->mq_flows ? o->mq_flows : 4 };
	double (*res)[C_NCONF][K_NKEY] = calloc(o->runs, sizeof(*res));
	struct wb_mq m;
	unsigned done = 0;
	int ret = -ENOMEM;

	if (!res)
		return 1;
	ret = wb_mq_adapters(&m, env);
	p.listen_fd = ret ? -1 : listener(env);
	if (!ret && p.listen_fd < 0)
		ret = -EIO;
	for (unsigned r = 0; !ret && r < o->runs && !wb_interrupted; r++) {
		ret = one_run(o, env, &m, &p, res[r]);
		if (!ret)
			done++;
		fprintf(stderr, "mq: run %u/%u done\n", r + 1, o->runs);
	}
	if (done)
		report(o, &p, res, done);
	if (p.listen_fd >= 0)
		close(p.listen_fd);
	wb_mq_close(&m);
	free(res);
	if (ret)
		fprintf(stderr, "wintun-bench: mq failed: %s\n", strerror(-ret));
	return ret ? 1 : 0;
}
