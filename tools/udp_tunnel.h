/* SPDX-License-Identifier: MIT */
/* udp-tunnel's parts: options and set-up (udp-tunnel.c), the UDP socket and
 * its batched I/O (udp_tunnel_net.c), the ring-side forwarding threads
 * (udp_tunnel_fwd.c), the plain-TUN variant (udp_tunnel_plain.c).  One
 * process-wide state, T, filled by the options before any thread starts. */
#ifndef UDP_TUNNEL_H
#define UDP_TUNNEL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <wintun.h>

#define UT_MAX_CIDRS 8

/* Directions: to the peer (adapter -> UDP) and from the peer (UDP -> adapter). */
enum { UT_OUT, UT_IN };

struct ut_stats {
	_Atomic uint64_t packets, bytes, drops, sends;
};

struct udp_tunnel {
	const char *name;
	const char *addrs[UT_MAX_CIDRS], *routes[UT_MAX_CIDRS];
	int naddrs, nroutes;
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len;
	uint32_t mtu, capacity;
	int engine_cpu, thread_cpu; /* thread_cpu: -1 unpinned, -2 the engine's */
	int spin_us;                /* -1: the library's default */
	bool plain, offload, gso, gro, quiet;
	double duration;
	int stop_fd, sock;
	WINTUN_ADAPTER_HANDLE adapter;
	WINTUN_SESSION_HANDLE session;
	/* sends: UDP messages (GSO: several packets each) or datagrams read */
	struct ut_stats st[2];
};

extern struct udp_tunnel T;

/* udp-tunnel.c */
void ut_stop(void);
bool ut_stopping(void);
void ut_count(_Atomic uint64_t *c, uint64_t n);

/* A mode's two threads: out (adapter -> peer) and in (peer -> adapter). */
struct ut_threads {
	pthread_t thread[2];
	bool started[2];
};

/* Start @out and @in; 0, or -1 (said on stderr) with what started marked. */
int ut_start_threads(struct ut_threads *t, void *(*out)(void *), void *(*in)(void *));

/* udp_tunnel_net.c */
int ut_socket_open(void);
struct ut_txq;
struct ut_txq *ut_txq_new(void);
void ut_txq_free(struct ut_txq *q);
/* Queue one inner packet; @p must stay valid until ut_txq_flush.  May flush
 * (when the queue is full).  Returns 0, or -errno when the socket failed. */
int ut_txq_add(struct ut_txq *q, const uint8_t *p, uint32_t len);
int ut_txq_flush(struct ut_txq *q);
struct ut_rxq;
struct ut_rxq *ut_rxq_new(void);
void ut_rxq_free(struct ut_rxq *q);
/* Receive a batch of datagrams (waiting for one, or for the stop): calls
 * @deliver for each inner packet.  Returns the number of packets, 0 when
 * stopping, -errno on a socket error. */
typedef void (*ut_deliver_fn)(void *ctx, const uint8_t *p, uint32_t len);
int ut_rxq_receive(struct ut_rxq *q, ut_deliver_fn deliver, void *ctx);
/* poll() for POLLIN on @fd or the stop; false when stopping. */
bool ut_wait_readable(int fd);

/* udp_tunnel_fwd.c */
int ut_fwd_start(void);
void ut_fwd_join(void);

/* udp_tunnel_plain.c */
int ut_plain_start(void);
void ut_plain_join(void);

#endif
