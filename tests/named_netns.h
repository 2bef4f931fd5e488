/* SPDX-License-Identifier: MIT */
/*
 * For the end-to-end suites that run real binaries in named network
 * namespaces (test_pump.c, test_udp_tunnel.c): sockets and commands inside
 * one, a TCP transfer between two checked byte for byte, and the threads of
 * the binaries under test.
 */
#ifndef WINTUN_TEST_NAMED_NETNS_H
#define WINTUN_TEST_NAMED_NETNS_H

#include <stdint.h>
#include <sys/types.h>

/* A socket of @type inside the named namespace @ns (/run/netns/@ns). */
int nn_socket_in(const char *ns, int type);

/* Run the shell command @cmd inside @ns, quietly; system()'s status. */
int nn_run_in(const char *ns, const char *cmd);

struct nn_tcp {
	const char *from_ns, *to_ns; /* the sender's and the listener's */
	const char *to_addr;         /* the listener's IPv4 address in to_ns */
	uint16_t port;
	uint32_t bytes;              /* a multiple of 64 KiB */
	uint32_t seed;               /* of the pseudo-random data */
	int guard_s;                 /* > 0: fail a transfer stalled this long,
				      * or a socket call blocked for 60 s */
};

/* Send t->bytes of pseudo-random data over TCP and expect them at the far
 * end, the same bytes (a checksum) and all of them. */
void nn_tcp_transfer(const struct nn_tcp *t);

/* The id of the thread of process @pid named @comm exactly, or -1 (also
 * once the process is gone). */
pid_t nn_thread_named(pid_t pid, const char *comm);

#endif
