/* SPDX-License-Identifier: MIT */
/*
 * udp-tunnel: the UDP socket and its batched I/O.
 *
 * Framing: one inner IP packet per UDP datagram, nothing added (no header,
 * no encryption).  The same on the wire in every mode, so a --plain end
 * talks to an engine end.
 *
 * Out: packets are queued as iovecs (pointing into the Send ring, or into a
 * split buffer) and go out with one sendmmsg per batch.  With UDP GSO a run
 * of equal-sized packets (the last may be shorter) becomes one message with
 * UDP_SEGMENT: the kernel cuts it into one datagram per packet after a single
 * pass through the stack, as wireguard-go does.
 * In: recvmmsg; with UDP_GRO the kernel hands over runs of datagrams of one
 * flow glued together, with their segment size in a control message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "udp_tunnel.h"

/* The kernel's limits for one GSO message: UDP_MAX_SEGMENTS (64 before
 * 6.9, 128 since) and the largest UDP payload over IPv4. */
#define GSO_MAX_SEGS 64u
#define UDP_MAX_PAYLOAD 65507u
#define TXQ_PACKETS 1024u
#define TXQ_MSGS 256u
#define SOCK_BUF (8 << 20)

struct ut_txq {
	struct iovec iov[TXQ_PACKETS];
	struct mmsghdr msgs[TXQ_MSGS];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cmsg[TXQ_MSGS];
	unsigned npkts, nmsgs;
	uint32_t seg, bytes; /* the open message: segment size, payload so far */
	bool open;           /* the open message can take another segment */
	bool gso_warned;
};

struct ut_txq *ut_txq_new(void)
{
	return calloc(1, sizeof(struct ut_txq));
}

void ut_txq_free(struct ut_txq *q)
{
	free(q);
}

static void set_segment(struct ut_txq *q, struct msghdr *m, unsigned idx)
{
	struct cmsghdr *c;
	uint16_t seg = (uint16_t)q->seg;

	m->msg_control = q->cmsg[idx].buf;
	m->msg_controllen = sizeof(q->cmsg[idx].buf);
	c = CMSG_FIRSTHDR(m);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
}

/* Close the open message: a UDP_SEGMENT control message if it holds more
 * than one packet. */
static void close_msg(struct ut_txq *q)
{
	struct msghdr *m;

	if (!q->nmsgs)
		return;
	m = &q->msgs[q->nmsgs - 1].msg_hdr;
	if (m->msg_iovlen > 1 && !m->msg_control)
		set_segment(q, m, q->nmsgs - 1);
	q->open = false;
}

static bool joins_open_msg(const struct ut_txq *q, uint32_t len)
{
	const struct msghdr *m = &q->msgs[q->nmsgs - 1].msg_hdr;

	return T.gso && q->open && len <= q->seg && m->msg_iovlen < GSO_MAX_SEGS &&
	       q->bytes + len <= UDP_MAX_PAYLOAD;
}

int ut_txq_add(struct ut_txq *q, const uint8_t *p, uint32_t len)
{
	struct msghdr *m;

	if (q->npkts == TXQ_PACKETS) {
		int ret = ut_txq_flush(q);

		if (ret)
			return ret;
	}
	q->iov[q->npkts] = (struct iovec){ .iov_base = (void *)p, .iov_len = len };
	if (q->nmsgs && joins_open_msg(q, len)) {
		q->msgs[q->nmsgs - 1].msg_hdr.msg_iovlen++;
		q->bytes += len;
		q->open = len == q->seg; /* a shorter segment must be the last */
	} else {
		close_msg(q);
		if (q->nmsgs == TXQ_MSGS) {
			int ret = ut_txq_flush(q);

			if (ret)
				return ret;
			q->iov[0] = (struct iovec){ .iov_base = (void *)p, .iov_len = len };
		}
		m = &q->msgs[q->nmsgs++].msg_hdr;
		*m = (struct msghdr){ .msg_iov = &q->iov[q->npkts], .msg_iovlen = 1 };
		q->seg = q->bytes = len;
		q->open = true;
	}
	q->npkts++;
	return 0;
}

static void count_sent(const struct msghdr *m, uint32_t bytes)
{
	ut_count(&T.st[UT_OUT].packets, m->msg_iovlen);
	ut_count(&T.st[UT_OUT].bytes, bytes);
	ut_count(&T.st[UT_OUT].sends, 1);
}

/* A message the kernel refused: its packets are dropped, the tunnel goes
 * on (a datagram too big for the path, GSO refused). */
static void refused(struct ut_txq *q, const struct msghdr *m, int err)
{
	ut_count(&T.st[UT_OUT].drops, m->msg_iovlen);
	if (err == EIO && m->msg_iovlen > 1 && !q->gso_warned) {
		/* The kernel refuses GSO where the route's device cannot
		 * checksum: send one datagram per packet from now on. */
		fprintf(stderr, "udp-tunnel: the kernel refused UDP GSO (EIO): turned off\n");
		T.gso = false;
		q->gso_warned = true;
	}
}

int ut_txq_flush(struct ut_txq *q)
{
	unsigned done = 0;
	int ret = 0;

	close_msg(q);
	while (done < q->nmsgs) {
		int n = sendmmsg(T.sock, q->msgs + done, q->nmsgs - done, 0);

		if (n < 0 && (errno == EINTR || errno == ECONNREFUSED))
			continue; /* ECONNREFUSED: an earlier datagram met no listener */
		if (n < 0 && (errno == EBADF || errno == ENOTSOCK || errno == EFAULT)) {
			ret = -errno;
			break;
		}
		if (n < 0) {
			refused(q, &q->msgs[done].msg_hdr, errno);
			done++;
			continue;
		}
		for (int i = 0; i < n; i++)
			count_sent(&q->msgs[done + i].msg_hdr, q->msgs[done + i].msg_len);
		done += (unsigned)n;
	}
	q->npkts = q->nmsgs = 0;
	q->open = false;
	return ret;
}

/* ---- in ------------------------------------------------------------------ */

#define RXQ_MSGS_GRO 32u
#define RXQ_MSGS 256u
#define RXQ_SLOT_GRO 65536u

struct ut_rxq {
	unsigned nmsgs;
	uint32_t slot;
	uint8_t *buf;
	struct mmsghdr msgs[RXQ_MSGS];
	struct iovec iov[RXQ_MSGS];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cmsg[RXQ_MSGS];
};

struct ut_rxq *ut_rxq_new(void)
{
	struct ut_rxq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	/* Without GRO a datagram is one inner packet: the MTU bounds it, and
	 * a longer one (truncated) is dropped. */
	q->nmsgs = T.gro ? RXQ_MSGS_GRO : RXQ_MSGS;
	q->slot = T.gro ? RXQ_SLOT_GRO : (T.mtu + 63) & ~63u;
	q->buf = malloc((size_t)q->nmsgs * q->slot);
	if (!q->buf) {
		free(q);
		return NULL;
	}
	for (unsigned i = 0; i < q->nmsgs; i++)
		q->iov[i] = (struct iovec){ .iov_base = q->buf + (size_t)i * q->slot,
					    .iov_len = q->slot };
	return q;
}

void ut_rxq_free(struct ut_rxq *q)
{
	if (q)
		free(q->buf);
	free(q);
}

bool ut_wait_readable(int fd)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
				 { .fd = T.stop_fd, .events = POLLIN } };

	while (poll(pfd, 2, -1) < 0)
		if (errno != EINTR)
			return false;
	return !pfd[1].revents;
}

static void arm(struct ut_rxq *q)
{
	for (unsigned i = 0; i < q->nmsgs; i++)
		q->msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &q->iov[i], .msg_iovlen = 1,
						      .msg_control = q->cmsg[i].buf,
						      .msg_controllen = sizeof(q->cmsg[i].buf) };
}

/* The segment size of a GRO message, or its whole length. */
static uint32_t segment_size(struct msghdr *m, uint32_t len)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int seg;

			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			return seg > 0 ? (uint32_t)seg : len;
		}
	return len;
}

static int split_msg(struct mmsghdr *mm, ut_deliver_fn deliver, void *ctx)
{
	uint32_t len = mm->msg_len, seg;
	uint8_t *p = mm->msg_hdr.msg_iov->iov_base;
	int n = 0;

	ut_count(&T.st[UT_IN].sends, 1);
	if (mm->msg_hdr.msg_flags & MSG_TRUNC) {
		ut_count(&T.st[UT_IN].drops, 1);
		return 0;
	}
	seg = segment_size(&mm->msg_hdr, len);
	for (uint32_t off = 0; off < len; off += seg, n++)
		deliver(ctx, p + off, len - off < seg ? len - off : seg);
	return n;
}

int ut_rxq_receive(struct ut_rxq *q, ut_deliver_fn deliver, void *ctx)
{
	int n, pkts = 0;

	while (!pkts) {
		arm(q);
		n = recvmmsg(T.sock, q->msgs, q->nmsgs, MSG_DONTWAIT, NULL);
		if (n < 0 && errno == EAGAIN) {
			if (!ut_wait_readable(T.sock))
				return 0;
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == ECONNREFUSED))
			continue; /* ECONNREFUSED: the peer was not listening yet */
		if (n <= 0)
			return n < 0 ? -errno : 0;
		for (int i = 0; i < n; i++)
			pkts += split_msg(&q->msgs[i], deliver, ctx);
	}
	return pkts;
}

/* ---- the socket ------------------------------------------------------------ */

static void big_buffers(int fd)
{
	int v = SOCK_BUF;

	/* The FORCE variants pass rmem_max/wmem_max (we run as root); the
	 * plain ones are the fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

/* UDP_SEGMENT (4.18) and UDP_GRO (5.0): asked for, and off where refused. */
static void offloads(int fd)
{
	int zero = 0, one = 1;

	if (T.gso && setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) < 0) {
		fprintf(stderr, "udp-tunnel: no UDP GSO here (%s): one datagram per send\n",
			strerror(errno));
		T.gso = false;
	}
	if (T.gro && setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0) {
		fprintf(stderr, "udp-tunnel: no UDP GRO here (%s): one datagram per receive\n",
			strerror(errno));
		T.gro = false;
	}
}

int ut_socket_open(void)
{
	int fd = socket(T.local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "udp-tunnel: socket: %s\n", strerror(errno));
		return -1;
	}
	big_buffers(fd);
	if (!T.plain)
		offloads(fd);
	/* Connected: the kernel then drops datagrams from anyone but the
	 * peer (no encryption, but at least no stranger's packets). */
	if (bind(fd, (struct sockaddr *)&T.local, T.local_len) < 0 ||
	    connect(fd, (struct sockaddr *)&T.peer, T.peer_len) < 0) {
		fprintf(stderr, "udp-tunnel: cannot bind to --local or connect to --peer: %s\n",
			strerror(errno));
		close(fd);
		return -1;
	}
	T.sock = fd;
	return 0;
}
