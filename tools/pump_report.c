/* SPDX-License-Identifier: MIT */
/* tun-pump: the live status line and the final summary. */
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "pump.h"

struct snapshot {
	uint64_t packets[2], bytes[2], drops[2], waits[2]; /* all queues */
	uint64_t qpackets[MAX_QUEUES][2], qbytes[MAX_QUEUES][2];
	WINTUN_SESSION_STATISTICS st[2]; /* A's and B's sessions, summed */
	double t;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void add_dir(WINTUN_DIRECTION_STATISTICS *sum, const WINTUN_DIRECTION_STATISTICS *d)
{
	sum->Packets += d->Packets;
	sum->Bytes += d->Bytes;
	sum->DropRingFull += d->DropRingFull;
	sum->DropTruncated += d->DropTruncated;
	sum->DropNonIp += d->DropNonIp;
	sum->DropBogus += d->DropBogus;
	sum->DropWriteError += d->DropWriteError;
}

/* One side's sessions as one: counters summed, the rest queue 0's. */
static void side_stats(const struct side *sd, WINTUN_SESSION_STATISTICS *sum)
{
	sum->Size = sizeof(*sum);
	WintunGetSessionStatistics(sd->sessions[0], sum);
	for (unsigned q = 1; q < P.queues; q++) {
		WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

		if (!WintunGetSessionStatistics(sd->sessions[q], &st))
			continue;
		add_dir(&sum->Rx, &st.Rx);
		add_dir(&sum->Tx, &st.Tx);
		sum->IoUringEnterCalls += st.IoUringEnterCalls;
	}
}

static void snap(struct snapshot *s)
{
	for (int i = 0; i < 2; i++) {
		s->packets[i] = s->bytes[i] = s->drops[i] = s->waits[i] = 0;
		for (unsigned q = 0; q < P.queues; q++) {
			struct fwd_counters *c = &P.fwd[q];

			s->qpackets[q][i] = atomic_load(&c->packets[i]);
			s->qbytes[q][i] = atomic_load(&c->bytes[i]);
			s->packets[i] += s->qpackets[q][i];
			s->bytes[i] += s->qbytes[q][i];
			s->drops[i] += atomic_load(&c->drops[i]);
			s->waits[i] += atomic_load(&c->waits[i]);
		}
		side_stats(i ? &P.b : &P.a, &s->st[i]);
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
		"\rA->B %9.0f pkt/s %7.3f Gbit/s | B->A %9.0f pkt/s %7.3f Gbit/s | drops: forwarder "
		"%llu, engine %llu   ",
		(double)(b->packets[0] - a->packets[0]) / dt,
		(double)(b->bytes[0] - a->bytes[0]) * 8e-9 / dt,
		(double)(b->packets[1] - a->packets[1]) / dt,
		(double)(b->bytes[1] - a->bytes[1]) * 8e-9 / dt,
		(unsigned long long)(b->drops[0] + b->drops[1]),
		(unsigned long long)(session_drops(&b->st[0]) + session_drops(&b->st[1])));
	if (!P.verbose || P.queues < 2)
		return;
	/* Each queue pair's A->B rate: how evenly the kernel spread the flows. */
	for (unsigned q = 0; q < P.queues; q++)
		fprintf(stderr, "%sq%u %.0f pkt/s %.3f Gbit/s", q ? ", " : "\n  per queue A->B: ", q,
			(double)(b->qpackets[q][0] - a->qpackets[q][0]) / dt,
			(double)(b->qbytes[q][0] - a->qbytes[q][0]) * 8e-9 / dt);
	fputc('\n', stderr);
}

static void json_direction(const struct snapshot *end, int i, double dt)
{
	printf("\"%s\": {\"packets\": %llu, \"bytes\": %llu, \"drops\": %llu, "
	       "\"waits_ring_full\": %llu, \"packets_per_s\": %.0f, \"gbit_per_s\": %.4f}",
	       i ? "b_to_a" : "a_to_b", (unsigned long long)end->packets[i],
	       (unsigned long long)end->bytes[i], (unsigned long long)end->drops[i],
	       (unsigned long long)end->waits[i], (double)end->packets[i] / dt,
	       (double)end->bytes[i] * 8e-9 / dt);
}

/* One field per cause, named after the statistics fields, so that a script
 * can tell a full ring from a refused write. */
static void json_engine_drops(const WINTUN_SESSION_STATISTICS *st)
{
	printf("{\"rx_ring_full\": %llu, \"rx_truncated\": %llu, \"tx_non_ip\": %llu, "
	       "\"tx_bogus\": %llu, \"tx_write_error\": %llu}",
	       (unsigned long long)st->Rx.DropRingFull, (unsigned long long)st->Rx.DropTruncated,
	       (unsigned long long)st->Tx.DropNonIp, (unsigned long long)st->Tx.DropBogus,
	       (unsigned long long)st->Tx.DropWriteError);
}

/* The WINTUN_FEATURE_* names a session's engine runs with, space-separated. */
static void features(const WINTUN_SESSION_STATISTICS *st, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < 64 && at < len; i++)
		if (st->Features & (1ull << i))
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? " " : "",
					       WintunGetFeatureName(1ull << i));
}

/* Each queue pair's forwarded packets and bytes, A->B then B->A. */
static void json_queues(const struct snapshot *end)
{
	printf(", \"queues\": %u, \"per_queue\": [", P.queues);
	for (unsigned q = 0; q < P.queues; q++)
		printf("%s{\"a_to_b_packets\": %llu, \"a_to_b_bytes\": %llu, \"b_to_a_packets\": "
		       "%llu, \"b_to_a_bytes\": %llu}",
		       q ? ", " : "", (unsigned long long)end->qpackets[q][0],
		       (unsigned long long)end->qbytes[q][0], (unsigned long long)end->qpackets[q][1],
		       (unsigned long long)end->qbytes[q][1]);
	printf("]");
}

static void json_summary(const struct snapshot *end, double dt)
{
	printf("{\"seconds\": %.3f, ", dt);
	json_direction(end, 0, dt);
	printf(", ");
	json_direction(end, 1, dt);
	printf(", \"engine_drops\": {\"a\": ");
	json_engine_drops(&end->st[0]);
	printf(", \"b\": ");
	json_engine_drops(&end->st[1]);
	printf("}, \"features\": {");
	for (int i = 0; i < 2; i++) {
		char f[256];

		features(&end->st[i], f, sizeof(f));
		printf("%s\"%c\": \"%s\"", i ? ", " : "", 'a' + i, f);
	}
	printf("}");
	json_queues(end);
	printf("}\n");
}

static void summary(const struct snapshot *start, const struct snapshot *end)
{
	double dt = end->t - start->t;

	if (P.json) {
		json_summary(end, dt);
		return;
	}
	for (int i = 0; i < 2; i++)
		printf("%s: %llu packets, %llu bytes in %.1f s (%.0f pkt/s, %.3f Gbit/s), waited "
		       "%llu times for room in %c's ring, %llu dropped (could not be forwarded)\n",
		       i ? "B->A" : "A->B", (unsigned long long)end->packets[i],
		       (unsigned long long)end->bytes[i], dt, (double)end->packets[i] / dt,
		       (double)end->bytes[i] * 8e-9 / dt, (unsigned long long)end->waits[i],
		       i ? 'A' : 'B', (unsigned long long)end->drops[i]);
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
	for (int i = 0; i < 2; i++) {
		char f[256];

		features(&end->st[i], f, sizeof(f));
		printf("engine %c runs with: %s\n", 'A' + i, f);
	}
	for (unsigned q = 0; P.queues > 1 && q < P.queues; q++)
		printf("queue %u: A->B %llu packets (%.0f pkt/s), B->A %llu packets\n", q,
		       (unsigned long long)end->qpackets[q][0], (double)end->qpackets[q][0] / dt,
		       (unsigned long long)end->qpackets[q][1]);
}

void pump_run(void)
{
	struct snapshot start, last, cur;
	bool tty = !P.quiet && isatty(STDERR_FILENO);

	snap(&start);
	last = start;
	while (!pump_stopping()) {
		struct pollfd pfd = { .fd = P.stop_fd, .events = POLLIN };

		poll(&pfd, 1, P.duration > 0 && P.duration < 1 ? (int)(P.duration * 1000) : 1000);
		snap(&cur);
		if (tty)
			status_line(&last, &cur);
		last = cur;
		if (P.duration > 0 && cur.t - start.t >= P.duration)
			pump_stop();
	}
	if (tty)
		fputc('\n', stderr);
	snap(&cur);
	summary(&start, &cur);
}
