/* SPDX-License-Identifier: MIT */
/* wintun-bench mq: the two adapters, their session pairs and forwarders. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mq.h"

#define FWD_BATCH 256

static int adapter(const char *name, const char *addr, const char *route,
		   WINTUN_ADAPTER_HANDLE *out)
{
	WINTUN_ADAPTER_HANDLE a = WintunCreateAdapter(name, "wintun-bench", NULL);

	if (!a || !WintunAddAdapterAddress(a, addr) || !WintunSetAdapterUp(a, true) ||
	    !WintunAddAdapterRoute(a, route, NULL, 0)) {
		int err = errno;

		fprintf(stderr, "wintun-bench: mq: cannot set up %s: %s\n", name, strerror(err));
		if (a)
			WintunCloseAdapter(a);
		return -err;
	}
	*out = a;
	return 0;
}

int wb_mq_adapters(struct wb_mq *m, struct wb_env *env)
{
	int ret;

	memset(m, 0, sizeof(*m));
	ret = adapter("wbqA", "10.11.0.1/24", "10.12.0.0/24", &m->a);
	if (ret)
		return ret;
	/* The library creates a device in the calling thread's namespace. */
	if (setns(env->ns_b, CLONE_NEWNET) < 0)
		return -errno;
	ret = adapter("wbqB", "10.12.0.1/24", "10.11.0.0/24", &m->b);
	if (setns(env->ns_main, CLONE_NEWNET) < 0 && !ret)
		ret = -errno;
	return ret;
}

void wb_mq_close(struct wb_mq *m)
{
	if (m->b)
		WintunCloseAdapter(m->b);
	if (m->a)
		WintunCloseAdapter(m->a);
	m->a = m->b = NULL;
}

/* ---- the forwarder of one pair ------------------------------------------ */

struct dir {
	WINTUN_SESSION_HANDLE from, to;
	uint8_t *held;
	uint32_t size;
};

/* Move up to FWD_BATCH records; a record that finds no room is held (and
 * the direction waits), never dropped: TCP would pay for a lost 64 KiB
 * super-packet with a halved window. */
static unsigned forward(struct dir *d, bool *dead)
{
	unsigned n = 0;

	while (n < FWD_BATCH) {
		uint8_t *out;

		if (!d->held && !(d->held = WintunReceivePacket(d->from, &d->size))) {
			*dead |= errno != EAGAIN;
			break;
		}
		out = WintunAllocateSendPacket(d->to, d->size);
		if (!out) {
			*dead |= errno != ENOBUFS && errno != EINVAL;
			if (errno == EINVAL) { /* refused: drop it */
				WintunReleaseReceivePacket(d->from, d->held);
				d->held = NULL;
			}
			break;
		}
		memcpy(out, d->held, d->size);
		WintunSendPacket(d->to, out);
		WintunReleaseReceivePacket(d->from, d->held);
		d->held = NULL;
		n++;
	}
	return n;
}

static void wait_for_work(struct dir d[2])
{
	struct pollfd pfd[2];
	struct timespec ts = { 0, d[0].held || d[1].held ? 20000 : 10000000 };

	for (int i = 0; i < 2; i++)
		pfd[i] = (struct pollfd){ .fd = d[i].held ? -1 : WintunGetReadWaitEvent(d[i].from),
					  .events = POLLIN };
	if (ppoll(pfd, 2, &ts, NULL) > 0)
		for (int i = 0; i < 2; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents) {
				uint64_t v;

				if (read(pfd[i].fd, &v, sizeof(v)) < 0)
					(void)0; /* drained by the next receive anyway */
			}
}

static void *forwarder(void *arg)
{
	struct wb_mq_pair *p = arg;
	struct dir d[2] = { { p->a, p->b, NULL, 0 }, { p->b, p->a, NULL, 0 } };
	bool dead = false;

	atomic_store(&p->tid, (int)syscall(SYS_gettid));
	pthread_setname_np(pthread_self(), "wb-mqfwd");
	while (!dead && !atomic_load_explicit(p->stop, memory_order_relaxed)) {
		unsigned moved = 0;

		for (int i = 0; i < 2; i++) {
			unsigned n = forward(&d[i], &dead);

			atomic_fetch_add_explicit(&p->records[i], n, memory_order_relaxed);
			moved += n;
		}
		if (!moved)
			wait_for_work(d);
	}
	for (int i = 0; i < 2; i++)
		if (d[i].held)
			WintunReleaseReceivePacket(d[i].from, d[i].held);
	return NULL;
}

/* ---- pairs ------------------------------------------------------------- */

static int engine_cpu(WINTUN_SESSION_HANDLE s)
{
	WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

	return WintunGetSessionStatistics(s, &st) ? st.EngineCpu : -1;
}

static int start_pair(struct wb_mq *m, struct wb_mq_pair *p, const struct wb_opts *o)
{
	WINTUN_SESSION_OPTIONS so = { .Size = sizeof(so), .Capacity = o->capacity_set ? o->capacity : 0x80000,
				      .Flags = WINTUN_SESSION_EXTRA_QUEUE | WINTUN_SESSION_OFFLOAD };
	pthread_attr_t attr;
	cpu_set_t set;
	int ret;

	p->stop = &m->stop;
	p->a = WintunStartSessionEx(m->a, &so);
	if (!p->a)
		return -errno;
	/* One engine per pair: what tun-pump does by default. */
	so.ShareEngineWith = p->a;
	p->b = WintunStartSessionEx(m->b, &so);
	if (!p->b)
		return -errno;
	/* Offload mode: the forwarder on its engine's CPU (tun-pump's default,
	 * measured there). */
	p->cpu = engine_cpu(p->a);
	pthread_attr_init(&attr);
	if (p->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(p->cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	ret = pthread_create(&p->th, &attr, forwarder, p);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	p->started = true;
	return 0;
}

int wb_mq_start(struct wb_mq *m, unsigned q, const struct wb_opts *o)
{
	int ret = 0;

	atomic_store(&m->stop, false);
	m->q = q;
	for (unsigned i = 0; i < q && !ret; i++)
		ret = start_pair(m, &m->pair[i], o);
	if (ret)
		fprintf(stderr, "wintun-bench: mq: cannot start %u session pairs: %s\n", q,
			strerror(-ret));
	return ret;
}

void wb_mq_stop(struct wb_mq *m)
{
	atomic_store(&m->stop, true);
	for (unsigned i = 0; i < WB_MQ_MAX; i++) {
		struct wb_mq_pair *p = &m->pair[i];

		if (p->started)
			pthread_join(p->th, NULL);
		if (p->b)
			WintunEndSession(p->b);
		if (p->a)
			WintunEndSession(p->a);
		memset(p, 0, sizeof(*p));
	}
	m->q = 0;
}

unsigned wb_mq_tids(const struct wb_mq *m, int *tids, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->q && n + 2 <= max; i++) {
		WINTUN_SESSION_STATISTICS st = { .Size = sizeof(st) };

		if (WintunGetSessionStatistics(m->pair[i].a, &st))
			tids[n++] = st.EngineThreadId;
		tids[n++] = atomic_load(&m->pair[i].tid);
	}
	return n;
}
