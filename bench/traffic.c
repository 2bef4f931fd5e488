/* SPDX-License-Identifier: MIT */
/*
 * The kernel side of the traffic: a UDP generator ("wb-gen", sendmmsg on a
 * connected socket, as fast as it goes) and a UDP sink ("wb-sink", recvmmsg),
 * plus the packet builders the clients use.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "tests/pktbuild.h"

#define WB_MMSG 64u

uint64_t wb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void wb_thread_enter(struct wb_thread *t)
{
	pthread_setname_np(pthread_self(), t->name);
	if (t->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	atomic_store(&t->tid, (int)gettid());
}

static void wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	poll(&pfd, 1, ms);
}

unsigned wb_pace(const struct wb_opts *o, uint64_t t0, uint64_t sent, unsigned max)
{
	uint64_t due;

	if (!o->rate)
		return max;
	due = (uint64_t)((double)(wb_now_ns() - t0) * (double)o->rate / 1e9);
	if (due > sent)
		return due - sent < max ? (unsigned)(due - sent) : max;
	/* Sleep about the time of the next packet, 20 us at least. */
	struct timespec ts = { 0, (long)(1e9 / (double)o->rate) };

	if (ts.tv_nsec < 20000)
		ts.tv_nsec = 20000;
	if (ts.tv_nsec > 10000000)
		ts.tv_nsec = 10000000;
	nanosleep(&ts, NULL);
	return 0;
}

void wb_full_wait(uint64_t *delay_ns)
{
	struct timespec ts;

	*delay_ns = *delay_ns ? *delay_ns * 2 : 500000;
	if (*delay_ns > 1000000)
		*delay_ns = 1000000;
	ts = (struct timespec){ 0, (long)*delay_ns };
	nanosleep(&ts, NULL);
}

void *wb_gen_main(void *arg)
{
	struct wb_run *r = arg;
	static uint8_t payload[WB_MTU];
	struct mmsghdr msg[WB_MMSG];
	struct iovec iov[WB_MMSG];
	uint64_t seq = 0, t0 = wb_now_ns();

	prctl(PR_SET_TIMERSLACK, 1UL);
	memset(payload, 0xA5, sizeof(payload));
	memset(msg, 0, sizeof(msg));
	for (unsigned i = 0; i < WB_MMSG; i++) {
		iov[i].iov_base = payload;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load_explicit(&r->gen_stop, memory_order_relaxed)) {
		unsigned want = wb_pace(r->o, t0, seq, WB_MMSG);
		int n;

		if (!want)
			continue;
		for (unsigned i = 0; i < want; i++)
			iov[i].iov_len = wb_payload(r->o, seq + i);
		n = sendmmsg(r->gen_fd, msg, want, MSG_DONTWAIT);
		if (n > 0) {
			seq += (unsigned)n;
			atomic_store_explicit(&r->sent, seq, memory_order_relaxed);
		} else if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			wait_fd(r->gen_fd, POLLOUT, 10);
		} else if (n < 0 && errno != EINTR) {
			/* e.g. ECONNREFUSED from an ICMP error: go on */
		}
	}
	return NULL;
}

void *wb_sink_main(void *arg)
{
	struct wb_run *r = arg;
	static uint8_t buf[WB_MMSG][WB_MTU];
	struct mmsghdr msg[WB_MMSG];
	struct iovec iov[WB_MMSG];
	uint64_t pkts = 0, bytes = 0;

	memset(msg, 0, sizeof(msg));
	for (unsigned i = 0; i < WB_MMSG; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		int n = recvmmsg(r->sink_fd, msg, WB_MMSG, MSG_DONTWAIT, NULL);

		if (n <= 0) {
			wait_fd(r->sink_fd, POLLIN, 50);
			continue;
		}
		for (int i = 0; i < n; i++)
			bytes += msg[i].msg_len + 28; /* IPv4 + UDP headers: L3 bytes */
		pkts += (unsigned)n;
		atomic_store_explicit(&r->delivered, pkts, memory_order_relaxed);
		atomic_store_explicit(&r->bytes, bytes, memory_order_relaxed);
	}
	return NULL;
}

unsigned wb_udp4(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		 unsigned payload)
{
	memset(buf + 28, 0x5A, payload);
	return pb_udp4(buf, &src, &dst, sport, dport, NULL, payload);
}

unsigned wb_echo4(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
		  unsigned payload)
{
	memset(buf + 28, 0x77, payload);
	return pb_echo4(buf, &src, &dst, id, seq, NULL, payload);
}
