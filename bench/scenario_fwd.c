/* SPDX-License-Identifier: MIT */
/*
 * fwd: netns A socket -> tunA -> session A's Send ring -> this forwarder
 * (copy into session B's Receive ring, rewriting nothing) -> tunB -> netns B
 * socket, and the same from B to A for anything coming back.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "wintun.h"

/* Up to 64 packets from @from to @to; returns how many were taken, or -1 if
 * a session ended. */
static int forward(struct wintun_session *from, struct wintun_session *to, uint64_t *drops)
{
	int n = 0;

	while (n < 64) {
		uint32_t len;
		uint8_t *p = WintunReceivePacket(from, &len), *q;

		if (!p)
			return errno == EAGAIN ? n : -1;
		q = WintunAllocateSendPacket(to, len);
		if (q) {
			memcpy(q, p, len);
			WintunSendPacket(to, q);
		} else {
			(*drops)++;
		}
		WintunReleaseReceivePacket(from, p);
		n++;
	}
	return n;
}

static void wait_both(struct wintun_session *a, struct wintun_session *b)
{
	struct pollfd pfd[2] = {
		{ .fd = WintunGetReadWaitEvent(a), .events = POLLIN },
		{ .fd = WintunGetReadWaitEvent(b), .events = POLLIN },
	};
	uint64_t v;

	if (poll(pfd, 2, 50) <= 0)
		return;
	/* Reset the events that fired; a failed read means already reset. */
	for (unsigned i = 0; i < 2; i++)
		if (pfd[i].revents && read(pfd[i].fd, &v, sizeof(v)) != sizeof(v))
			v = 0;
}

/* tso-split, A to B: every super-packet split into MTU-sized packets
 * straight into B's Receive ring (a VPN that must encrypt each one); B's
 * engine coalesces them again.  Returns as forward() does. */
static int split_forward(struct wintun_session *from, struct wintun_session *to,
			 uint64_t *drops)
{
	int n = 0;

	while (n < 64) {
		uint32_t len;
		uint8_t *p = WintunReceivePacket(from, &len);

		if (!p)
			return errno == EAGAIN ? n : -1;
		if (!WintunSplitPacketToSession(p, len, to)) {
			if (errno == ESHUTDOWN || errno == EBADMSG) {
				WintunReleaseReceivePacket(from, p);
				return -1;
			}
			(*drops)++; /* ENOBUFS: B is full; EINVAL: counted, logged */
		}
		WintunReleaseReceivePacket(from, p);
		n++;
	}
	return n;
}

typedef int (*fwd_fn)(struct wintun_session *from, struct wintun_session *to, uint64_t *drops);

/* The forwarder's loop: A to B with @ab, B to A with a copy. */
static void fwd_loop(struct wb_run *r, fwd_fn ab_fn)
{
	struct wintun_session *a = r->io.s[0], *b = r->io.s[1];
	uint64_t drops = 0, moved = 0;

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		int ab = ab_fn(a, b, &drops), ba;

		if (ab < 0)
			break;
		ba = forward(b, a, &drops);
		if (ba < 0)
			break;
		moved += (unsigned)(ab + ba);
		atomic_store_explicit(&r->forwarded, moved, memory_order_relaxed);
		if (!ab && !ba)
			wait_both(a, b);
	}
	atomic_store(&r->lost, drops);
}

void *wb_client_fwd(void *arg)
{
	fwd_loop(arg, forward);
	return NULL;
}

void *wb_client_fwd_split(void *arg)
{
	fwd_loop(arg, split_forward);
	return NULL;
}
