/* SPDX-License-Identifier: MIT */
/*
 * tcp: one bulk TCP stream from namespace A (a "wb-gen" thread writing 64 KiB
 * at a time to 10.2.0.1:5001) to namespace B (a "wb-sink" thread accepting
 * and reading), through wbA, the same forwarder as fwd, and wbB; the ACKs go
 * back the other way through the forwarder.  The threads run in the main
 * namespace (A); the listener was created in B, so accepted sockets are B's.
 * tso and tso-split: the same stream through the offload devices wbOA and
 * wbOB (to 10.6.0.1); the kernel bound: over the veth pair (to 10.7.0.2).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

#define TCP_CHUNK (128u << 10)

static bool wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, ms) > 0;
}

/* Blocking I/O with a timeout, as iperf3 does it: a full socket buffer
 * sleeps in the kernel instead of a poll() round trip per EAGAIN, and the
 * 50 ms timeout still lets the thread see its stop flag. */
static void blocking(int fd)
{
	struct timeval tv = { .tv_usec = 50000 };

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int tcp_connect(struct wb_run *r)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5001) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, r->tcp_dst, &to.sin_addr);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	while (!atomic_load(&r->gen_stop) && !wait_fd(fd, POLLOUT, 50))
		;
	blocking(fd);
	return fd;
}

void *wb_tcp_send_main(void *arg)
{
	struct wb_run *r = arg;
	static uint8_t buf[TCP_CHUNK];
	uint64_t sent = 0;
	int fd = tcp_connect(r);

	if (fd < 0)
		return NULL;
	memset(buf, 0x3C, sizeof(buf));
	while (!atomic_load_explicit(&r->gen_stop, memory_order_relaxed)) {
		ssize_t n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);

		if (n > 0) {
			sent += (uint64_t)n;
			atomic_store_explicit(&r->sent, sent, memory_order_relaxed);
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			break;
		}
	}
	close(fd);
	return NULL;
}

void *wb_tcp_recv_main(void *arg)
{
	struct wb_run *r = arg;
	static uint8_t buf[4 * TCP_CHUNK];
	uint64_t got = 0;
	int fd = -1;

	while (fd < 0 && !atomic_load(&r->stop)) {
		fd = accept4(r->sink_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			wait_fd(r->sink_fd, POLLIN, 50);
	}
	if (fd >= 0)
		blocking(fd);
	while (fd >= 0 && !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0) {
			got += (uint64_t)n;
			atomic_store_explicit(&r->bytes, got, memory_order_relaxed);
			atomic_store_explicit(&r->delivered, got, memory_order_relaxed);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}
