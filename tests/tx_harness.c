/* SPDX-License-Identifier: MIT */
#include "tx_harness.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "src/atomic.h"

/* The stubs get the port; the port is in a harness. */
static struct tx_harness *harness_of(struct wt_port *p)
{
	return (struct tx_harness *)((char *)p - offsetof(struct tx_harness, port));
}

/* The kernel would be handed @len bytes at @buf: they must lie inside the
 * Receive ring's data, wherever a hostile client pointed the walk.  Every
 * byte is read, so that ASan checks the whole span too. */
static void check_span(struct tx_harness *h, const void *buf, size_t len)
{
	const uint8_t *lo = h->session->rings.desc.Receive.Ring->Data;
	const uint8_t *hi = lo + h->session->rings.capacity + WINTUN_RING_TRAILING_BYTES;
	const uint8_t *p = buf;
	volatile uint8_t sink = 0;

	if (p < lo || p > hi || len > (size_t)(hi - p))
		abort();
	for (size_t i = 0; i < len; i++)
		sink ^= p[i];
	(void)sink;
}

static void record(struct tx_harness *h, struct wt_port *p, uint64_t udata, const struct iovec *iov,
		   unsigned n, size_t len)
{
	if (p != &h->port || wt_udata_port(udata) != p || wt_udata_op(udata) != WT_OP_TX_WRITE ||
	    wt_udata_idx(udata) >= WT_TX_INFLIGHT_MAX || h->npending == WT_TX_INFLIGHT_MAX)
		abort(); /* a completion would not find its way back */
	h->pending[h->npending++] = (struct txh_write){ .slot = wt_udata_idx(udata), .iov = iov,
							.n = n, .len = (uint32_t)len };
}

bool wt_uring_prep_write(struct wt_engine *e, struct wt_port *p, void *buf, unsigned len,
			 uint64_t udata)
{
	struct tx_harness *h = harness_of(p);
	unsigned slot = wt_udata_idx(udata) % WT_TX_INFLIGHT_MAX;

	(void)e;
	check_span(h, buf, len);
	if (len > sizeof(WINTUN_RING_PACKET) + WINTUN_RING_MAX_PACKET_SIZE)
		abort(); /* more than one record */
	h->one[slot] = (struct iovec){ buf, len };
	record(h, p, udata, &h->one[slot], 1, len);
	return true;
}

bool wt_uring_prep_writev(struct wt_engine *e, struct wt_port *p, const struct iovec *iov,
			  unsigned n, uint64_t udata)
{
	struct tx_harness *h = harness_of(p);
	size_t total = 0;

	(void)e;
	if (n == 0 || n > WT_GRO_MAX_SEGS)
		abort();
	for (unsigned i = 0; i < n; i++) {
		check_span(h, iov[i].iov_base, iov[i].iov_len);
		total += iov[i].iov_len;
	}
	record(h, p, udata, iov, n, total);
	return true;
}

bool wt_uring_sq_room(struct wt_engine *e)
{
	(void)e;
	return true; /* writes are recorded, never queued */
}

struct io_uring_sqe *wt_uring_sqe(struct wt_engine *e)
{
	(void)e;
	abort(); /* only wt_tx_prepare_sleep asks for one; callers do not sleep */
}

void wt_port_kill(struct wt_port *p, const char *why, int err)
{
	(void)why;
	(void)err;
	p->dead = true;
}

int txh_create(uint32_t capacity, struct tx_harness **out)
{
	struct tx_harness *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return -ENOMEM;
	ret = wt_session_create(capacity, -1, false, &h->session);
	if (ret) {
		free(h);
		return ret;
	}
	txh_reset_port(h, false, false, 0);
	*out = h;
	return 0;
}

void txh_destroy(struct tx_harness *h)
{
	if (!h)
		return;
	wt_session_destroy(h->session);
	free(h);
}

void txh_reset_port(struct tx_harness *h, bool vnet_hdr, bool coalesce, uint32_t offloads)
{
	struct wt_port *p = &h->port;

	memset(p, 0, sizeof(*p));
	memset(&h->stats, 0, sizeof(h->stats));
	p->engine = &h->engine;
	p->rings = &h->session->rings;
	p->stats = &h->stats;
	strcpy(p->ifname, "txh0");
	p->tun_fd = p->file_index = p->buf_index = -1;
	p->vnet_hdr = vnet_hdr;
	p->coalesce = vnet_hdr && coalesce;
	p->offloads = vnet_hdr ? offloads : 0;
	p->tx_iov = h->tx_iov;
	p->tx_head = p->tx_walk = wt_load_relaxed(&h->session->rings.desc.Receive.Ring->Head);
	h->npending = 0;
}

void txh_complete(struct tx_harness *h, unsigned i, int res)
{
	unsigned slot;

	if (i >= h->npending)
		abort();
	slot = h->pending[i].slot;
	memmove(&h->pending[i], &h->pending[i + 1], (h->npending - i - 1) * sizeof(h->pending[0]));
	h->npending--;
	wt_tx_complete(&h->port, slot, res);
}
