/* SPDX-License-Identifier: MIT */
/*
 * udp-tunnel on the library: two threads, one per direction.
 *
 * Out ("udp-tunnel/out"): a batch of records from the Send ring
 * (WintunReceivePackets), queued for the socket straight from the ring (in
 * offload mode super-packets are first split into MTU-sized packets), one
 * sendmmsg, then the whole batch released.
 * In ("udp-tunnel/in"): a recvmmsg batch, its packets copied into the
 * Receive ring with one WintunAllocateSendPackets and one
 * WintunSendPackets (one Tail store, one wake-up): in offload mode the
 * engine (WINTUN_SESSION_COALESCE) merges the segments of a flow into one
 * super-packet write, as the sender's kernel cut it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "udp_tunnel.h"

#define OUT_BATCH 256u
/* Split output: a 64 KiB TCP super-packet cut at the smallest MSS Linux
 * uses fills at most ~200 KiB; four of them fit before a flush. */
#define SPLIT_BUF (1u << 20)
#define SPLIT_MAX 4096u
#define IN_PACKETS 2048u /* 32 GRO messages of at most 64 datagrams */
#define IN_BATCH 256u
#define WAIT_MIN_NS 20000L
#define WAIT_MAX_NS 1000000L

static struct ut_threads threads;

/* ---- out: Send ring -> socket ---------------------------------------------- */

struct out {
	struct ut_txq *q;
	uint8_t *split;
	uint32_t *sizes;
	uint32_t split_used;
};

static bool needs_split(const uint8_t *rec, uint32_t size)
{
	struct virtio_net_hdr h;

	if (size < WINTUN_VNET_HDR_SIZE)
		return false;
	memcpy(&h, rec, sizeof(h));
	return h.gso_type != VIRTIO_NET_HDR_GSO_NONE || (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
}

static uint32_t split_into(struct out *o, const uint8_t *rec, uint32_t size)
{
	return WintunSplitPacket(rec, size, o->split + o->split_used, SPLIT_BUF - o->split_used,
				 o->sizes, SPLIT_MAX);
}

/* An offload-mode record: zero copy unless it is a super-packet or its
 * checksum is left to us, then split (checksums completed) into the
 * split buffer, which is flushed first when full. */
static int queue_offload_record(struct out *o, const uint8_t *rec, uint32_t size)
{
	uint32_t n;
	int ret;

	if (size <= WINTUN_VNET_HDR_SIZE) {
		ut_count(&T.st[UT_OUT].drops, 1);
		return 0;
	}
	if (!needs_split(rec, size))
		return ut_txq_add(o->q, rec + WINTUN_VNET_HDR_SIZE, size - WINTUN_VNET_HDR_SIZE);
	n = split_into(o, rec, size);
	if (!n && errno == ENOBUFS && o->split_used) {
		if ((ret = ut_txq_flush(o->q)))
			return ret;
		o->split_used = 0;
		n = split_into(o, rec, size);
	}
	if (!n) {
		ut_count(&T.st[UT_OUT].drops, 1); /* malformed: the library logged why */
		return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		if ((ret = ut_txq_add(o->q, o->split + o->split_used, o->sizes[i])))
			return ret;
		o->split_used += o->sizes[i];
	}
	return 0;
}

static int send_batch(struct out *o, const WINTUN_BATCH_PACKET *pk, uint32_t n)
{
	int ret = 0;

	for (uint32_t i = 0; i < n && !ret; i++)
		ret = T.offload ? queue_offload_record(o, pk[i].Data, pk[i].Size)
				: ut_txq_add(o->q, pk[i].Data, pk[i].Size);
	if (!ret)
		ret = ut_txq_flush(o->q);
	o->split_used = 0;
	return ret;
}

static void out_loop(struct out *o)
{
	WINTUN_BATCH_PACKET pk[OUT_BATCH];
	int fd = WintunGetReadWaitEvent(T.session);

	for (;;) {
		uint32_t n = WintunReceivePackets(T.session, pk, OUT_BATCH);
		int ret;

		if (!n) {
			if (errno == EAGAIN && ut_wait_readable(fd))
				continue;
			if (errno != EAGAIN)
				fprintf(stderr, "udp-tunnel: the session ended: %s\n", strerror(errno));
			return;
		}
		ret = send_batch(o, pk, n);
		WintunReleaseReceivePackets(T.session, pk, n);
		if (ret) {
			fprintf(stderr, "udp-tunnel: the socket failed: %s\n", strerror(-ret));
			return;
		}
	}
}

static void *out_thread(void *arg)
{
	struct out o = { .q = ut_txq_new() };

	(void)arg;
	pthread_setname_np(pthread_self(), "udp-tunnel/out");
	if (T.offload) {
		o.split = malloc(SPLIT_BUF);
		o.sizes = calloc(SPLIT_MAX, sizeof(*o.sizes));
	}
	if (!o.q || (T.offload && (!o.split || !o.sizes)))
		fprintf(stderr, "udp-tunnel: out of memory\n");
	else
		out_loop(&o);
	ut_txq_free(o.q);
	free(o.split);
	free(o.sizes);
	ut_stop();
	return NULL;
}

/* ---- in: socket -> Receive ring --------------------------------------------- */

struct in {
	const uint8_t *p[IN_PACKETS];
	uint32_t len[IN_PACKETS];
	uint32_t n;
};

static void collect(void *ctx, const uint8_t *p, uint32_t len)
{
	struct in *in = ctx;
	uint32_t hdr = T.offload ? WINTUN_VNET_HDR_SIZE : 0;

	/* Sizes the ring cannot take are dropped here: one would make
	 * WintunAllocateSendPackets refuse the whole batch. */
	if (in->n == IN_PACKETS || !len || len > WINTUN_MAX_IP_PACKET_SIZE - hdr) {
		ut_count(&T.st[UT_IN].drops, 1);
		return;
	}
	in->p[in->n] = p;
	in->len[in->n++] = len;
}

/* Sleep a little while the Receive ring is full (nothing signals freed
 * space there): the socket buffer holds the traffic meanwhile, and drops
 * when that fills, as a NIC would.  False when stopping. */
static bool wait_for_room(long *ns)
{
	struct timespec ts = { 0, *ns };

	nanosleep(&ts, NULL);
	*ns = *ns * 2 > WAIT_MAX_NS ? WAIT_MAX_NS : *ns * 2;
	return !ut_stopping();
}

/* Packets [from, from + count) into the ring.  Returns how many went in,
 * or -errno (ENOBUFS: none, the ring is full). */
static int put(const struct in *in, uint32_t from, uint32_t count)
{
	uint32_t hdr = T.offload ? WINTUN_VNET_HDR_SIZE : 0, got;
	WINTUN_BATCH_PACKET pk[IN_BATCH];

	for (uint32_t i = 0; i < count; i++)
		pk[i] = (WINTUN_BATCH_PACKET){ .Size = hdr + in->len[from + i] };
	got = WintunAllocateSendPackets(T.session, pk, count);
	if (!got)
		return -errno;
	for (uint32_t i = 0; i < got; i++) {
		memset(pk[i].Data, 0, hdr); /* no offload: the packet is whole, checksums done */
		memcpy(pk[i].Data + hdr, in->p[from + i], in->len[from + i]);
		ut_count(&T.st[UT_IN].bytes, in->len[from + i]);
	}
	WintunSendPackets(T.session, pk, got);
	ut_count(&T.st[UT_IN].packets, got);
	return (int)got;
}

static int deliver(const struct in *in)
{
	long wait_ns = WAIT_MIN_NS;

	for (uint32_t done = 0; done < in->n;) {
		uint32_t count = in->n - done > IN_BATCH ? IN_BATCH : in->n - done;
		int ret = put(in, done, count);

		if (ret == -ENOBUFS) {
			if (!wait_for_room(&wait_ns))
				return 0;
			continue;
		}
		if (ret == -EINVAL) { /* a size the ring cannot take */
			ut_count(&T.st[UT_IN].drops, 1);
			done++;
			continue;
		}
		if (ret < 0)
			return ret;
		done += (uint32_t)ret;
		wait_ns = WAIT_MIN_NS;
	}
	return 0;
}

static void *in_thread(void *arg)
{
	struct ut_rxq *q = ut_rxq_new();
	struct in *in = malloc(sizeof(*in));
	int ret = 0;

	(void)arg;
	pthread_setname_np(pthread_self(), "udp-tunnel/in");
	if (!q || !in)
		fprintf(stderr, "udp-tunnel: out of memory\n");
	while (q && in && !ret) {
		in->n = 0;
		ret = ut_rxq_receive(q, collect, in);
		if (ret > 0)
			ret = deliver(in);
		else if (!ret)
			break; /* stopping */
	}
	if (ret < 0)
		fprintf(stderr, "udp-tunnel: %s\n", strerror(-ret));
	ut_rxq_free(q);
	free(in);
	ut_stop();
	return NULL;
}

int ut_fwd_start(void)
{
	return ut_start_threads(&threads, out_thread, in_thread);
}

void ut_fwd_join(void)
{
	for (int i = 0; i < 2; i++)
		if (threads.started[i])
			pthread_join(threads.thread[i], NULL);
}
