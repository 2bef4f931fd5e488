/* SPDX-License-Identifier: MIT */
#include "netlink.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "netns.h"

/* Restarted dumps, for the tests that check the restart path runs. */
static atomic_uint wt_nl_restarts;

unsigned int wt_nl_dump_restarts(void)
{
	return atomic_load_explicit(&wt_nl_restarts, memory_order_relaxed);
}

/* A dump interrupted this many times in a row is reported as EAGAIN: the
 * tables are changing faster than we can read them. */
#define WT_NL_DUMP_TRIES 16

int wt_nl_open(struct wt_nl *nl, int netns_fd)
{
	int saved, ret, one = 1;

	memset(nl, 0, sizeof(*nl));
	ret = wt_netns_enter(netns_fd, &saved);
	if (ret)
		return ret;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	ret = nl->sock ? 0 : -errno;
	wt_netns_leave(saved);
	if (ret) {
		wt_err("cannot open a netlink socket: %s", strerror(-ret));
		return ret;
	}
	/* Best effort: extended acks give the kernel's reason in words, and
	 * capped acks keep error replies small. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		wt_err("cannot bind a netlink socket: %s", strerror(-ret));
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return ret;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	return 0;
}

void wt_nl_close(struct wt_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

struct nlmsghdr *wt_nl_msg(struct wt_nl *nl, void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	/* Attribute padding is not always zeroed by libmnl: never send stack
	 * garbage to the kernel. */
	memset(buf, 0, WT_NL_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* State shared by the callbacks of one exchange. */
struct wt_nl_ctx {
	struct wt_nl *nl;
	mnl_cb_t cb;
	void *data;
	int err;   /* kernel's negative errno from NLMSG_ERROR, or 0 */
	bool intr; /* the dump was interrupted (NLM_F_DUMP_INTR) */
};

static int ext_ack_attr(const struct nlattr *attr, void *data)
{
	struct wt_nl *nl = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(nl->ext_msg, sizeof(nl->ext_msg), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* The TLVs after struct nlmsgerr (and after the echoed request unless the
 * ack is capped) may hold the kernel's message. */
static void parse_ext_ack(struct wt_nl *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	unsigned int off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (mnl_nlmsg_get_payload_len(nlh) < off)
		return;
	mnl_attr_parse(nlh, off, ext_ack_attr, nl);
}

static int on_error(const struct nlmsghdr *nlh, void *data)
{
	struct wt_nl_ctx *ctx = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		ctx->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP; /* the ack */
	ctx->err = e->error < 0 ? e->error : -e->error;
	parse_ext_ack(ctx->nl, nlh);
	return MNL_CB_ERROR;
}

static int on_done(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_STOP;
}

static int on_noop(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static int on_data(const struct nlmsghdr *nlh, void *data)
{
	struct wt_nl_ctx *ctx = data;

	return ctx->cb ? ctx->cb(nlh, ctx->data) : MNL_CB_OK;
}

/* Not const: mnl_cb_run2 takes a non-const array. */
static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_NOOP] = on_noop,
	[NLMSG_ERROR] = on_error,
	[NLMSG_DONE] = on_done,
	[NLMSG_OVERRUN] = on_noop,
};

/*
 * True if every message of the batch lies inside it.  libmnl 1.0.4 compares
 * nlmsg_len as a signed int, so a length of 2^31 or more passes its check and
 * the walk runs off the buffer: check the framing before libmnl walks it.
 */
static bool batch_well_framed(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)p;
		size_t step = NLMSG_ALIGN((size_t)nlh->nlmsg_len);

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
			return false;
		if (step >= len)
			return true;
		p += step;
		len -= step;
	}
	return true;
}

/* True once the batch @buf of @len bytes holds the end of a dump (DONE or
 * an error). */
static bool batch_ends_dump(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
			return true;
	return false;
}

/* libmnl stops at the first reply flagged NLM_F_DUMP_INTR; read and drop the
 * rest of that dump so the socket is clean for the restart. */
static int drain_dump(struct wt_nl *nl, char *buf, size_t len)
{
	ssize_t n = (ssize_t)len;

	while (!batch_ends_dump(buf, (size_t)n)) {
		n = mnl_socket_recvfrom(nl->sock, buf, WT_NL_BUF_SIZE);
		if (n < 0)
			return -errno;
		if (!batch_well_framed(buf, (size_t)n))
			return -EBADMSG;
	}
	return 0;
}

/* Send @nlh and run the replies until the ack, DONE or an error.  An
 * interrupted dump sets ctx->intr and returns 0. */
static int exchange(struct wt_nl_ctx *ctx, struct nlmsghdr *nlh)
{
	struct wt_nl *nl = ctx->nl;
	char buf[WT_NL_BUF_SIZE];
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	nl->ext_msg[0] = '\0';
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (!batch_well_framed(buf, (size_t)n)) {
			wt_err("netlink: a reply message overruns its batch; ignoring the batch");
			return -EBADMSG;
		}
		errno = 0; /* libmnl reports its own errors through errno only */
		ret = mnl_cb_run2(buf, (size_t)n, seq, nl->portid, on_data, ctx, ctl_cbs,
				  NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR && !ctx->err && errno == EINTR) {
			ctx->intr = true;
			return drain_dump(nl, buf, (size_t)n);
		}
		if (ret == MNL_CB_ERROR)
			return ctx->err ? ctx->err : errno ? -errno : -EIO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

int wt_nl_request(struct wt_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct wt_nl_ctx ctx = { .nl = nl, .cb = cb, .data = data };

	nlh->nlmsg_flags |= NLM_F_ACK;
	return exchange(&ctx, nlh);
}

int wt_nl_dump(struct wt_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
	       void (*restart)(void *data))
{
	for (int i = 0; i < WT_NL_DUMP_TRIES; i++) {
		struct wt_nl_ctx ctx = { .nl = nl, .cb = cb, .data = data };
		int ret;

		nlh->nlmsg_flags |= NLM_F_DUMP;
		if (i)
			nlh->nlmsg_seq = ++nl->seq;
		ret = exchange(&ctx, nlh);
		if (ret || !ctx.intr)
			return ret;
		atomic_fetch_add_explicit(&wt_nl_restarts, 1, memory_order_relaxed);
		if (restart)
			restart(data);
	}
	wt_err("netlink dump interrupted %d times in a row: the tables keep changing",
	       WT_NL_DUMP_TRIES);
	return -EAGAIN;
}

void wt_nl_log_error(const struct wt_nl *nl, int err, const char *op, const char *dev)
{
	const char *hint = err == -EPERM ? " (needs CAP_NET_ADMIN)" : "";

	if (nl->ext_msg[0])
		wt_err("cannot %s %s: %s (kernel: %s)%s", op, dev, strerror(-err), nl->ext_msg,
		       hint);
	else
		wt_err("cannot %s %s: %s%s", op, dev, strerror(-err), hint);
}
