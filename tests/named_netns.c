/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "named_netns.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int nn_socket_in(const char *ns, int type)
{
	char path[64];
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), target, fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	target = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(home >= 0 && target >= 0, "namespace %s: %s", ns, strerror(errno));
	cr_assert_eq(setns(target, CLONE_NEWNET), 0);
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	cr_assert_eq(setns(home, CLONE_NEWNET), 0);
	close(home);
	close(target);
	return fd;
}

int nn_run_in(const char *ns, const char *cmd)
{
	char line[256];

	snprintf(line, sizeof(line), "ip netns exec %s %s >/dev/null 2>&1", ns, cmd);
	return system(line);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

struct tcp_rx {
	int listener;
	uint64_t hash, bytes;
};

static void *tcp_receiver(void *arg)
{
	struct tcp_rx *r = arg;
	static uint8_t buf[65536];
	int fd = accept(r->listener, NULL, NULL);
	ssize_t n;

	r->hash = 0xcbf29ce484222325ull;
	while (fd >= 0 && (n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		r->hash = fnv(r->hash, buf, (size_t)n);
		r->bytes += (uint64_t)n;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* The next 64 KiB of the xorshift stream. */
static void fill(uint8_t *buf, size_t len, uint32_t *x)
{
	for (size_t i = 0; i < len; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 17;
		*x ^= *x << 5;
		buf[i] = (uint8_t)*x;
	}
}

/* With a guard, a socket call blocked for a minute fails instead of hanging
 * (a hang guard, not a speed limit). */
static int guarded_socket_in(const struct nn_tcp *t, const char *ns)
{
	struct timeval tv = { .tv_sec = 60 };
	int fd = nn_socket_in(ns, SOCK_STREAM);

	if (t->guard_s > 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

void nn_tcp_transfer(const struct nn_tcp *t)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(t->port) };
	struct tcp_rx r = { 0 };
	static uint8_t buf[65536];
	uint64_t hash = 0xcbf29ce484222325ull;
	uint32_t x = t->seed;
	time_t deadline = time(NULL) + t->guard_s;
	pthread_t th;
	int fd;

	r.listener = guarded_socket_in(t, t->to_ns);
	inet_pton(AF_INET, t->to_addr, &at.sin_addr);
	cr_assert_eq(bind(r.listener, (struct sockaddr *)&at, sizeof(at)), 0);
	cr_assert_eq(listen(r.listener, 1), 0);
	pthread_create(&th, NULL, tcp_receiver, &r);
	fd = guarded_socket_in(t, t->from_ns);
	cr_assert_eq(connect(fd, (struct sockaddr *)&at, sizeof(at)), 0, "connect: %s",
		     strerror(errno));
	for (uint32_t sent = 0; sent < t->bytes; sent += sizeof(buf)) {
		/* A hang guard: a tunnel that loses every batch still lets
		 * TCP's lone retransmissions crawl through. */
		if (t->guard_s > 0)
			cr_assert_lt(time(NULL), deadline, "stalled: %u bytes sent in %d s", sent,
				     t->guard_s);
		fill(buf, sizeof(buf), &x);
		hash = fnv(hash, buf, sizeof(buf));
		for (size_t off = 0; off < sizeof(buf);) {
			ssize_t n = send(fd, buf + off, sizeof(buf) - off, 0);

			cr_assert(n > 0, "send: %s (after %u bytes)", strerror(errno), sent);
			off += (size_t)n;
		}
	}
	close(fd);
	pthread_join(th, NULL);
	close(r.listener);
	cr_expect_eq(r.bytes, t->bytes, "%llu bytes arrived", (unsigned long long)r.bytes);
	cr_expect_eq(r.hash, hash, "the data differ at the far end");
}

pid_t nn_thread_named(pid_t pid, const char *comm)
{
	char path[320], name[32];
	size_t len = strlen(comm);
	struct dirent *de;
	pid_t found = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && found < 0 && (de = readdir(d))) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/comm", (int)pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) && !strncmp(name, comm, len) && name[len] == '\n')
			found = atoi(de->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}
