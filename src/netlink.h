/* SPDX-License-Identifier: MIT */
/*
 * Route-netlink transport over libmnl: a socket (optionally created inside
 * another network namespace), acknowledged requests and dumps.  Kernel errors
 * come back as negative errnos; the kernel's extended-ack text, when it sends
 * one, is kept in ext_msg so the caller's log line can quote it.
 */
#ifndef WINTUN_NETLINK_H
#define WINTUN_NETLINK_H

#include <libmnl/libmnl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wt_nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	char ext_msg[160]; /* extended ack of the last failed request, or "" */
};

/* Receive buffer: one batch of dump replies. */
#define WT_NL_BUF_SIZE 32768 /* libmnl's MNL_SOCKET_DUMP_SIZE, missing from older libmnl */
/* Size of a request message buffer (our requests are small). */
#define WT_NL_MSG_SIZE 1024

/*
 * Open a NETLINK_ROUTE socket in the namespace @netns_fd (-1: the calling
 * thread's).  Returns 0 or a negative errno (logged).
 */
int wt_nl_open(struct wt_nl *nl, int netns_fd);
void wt_nl_close(struct wt_nl *nl);

/* Start a message of @type in @buf (WT_NL_MSG_SIZE bytes) with @flags plus
 * NLM_F_REQUEST and the next sequence number. */
struct nlmsghdr *wt_nl_msg(struct wt_nl *nl, void *buf, uint16_t type, uint16_t flags);

/*
 * Send @nlh with NLM_F_ACK and read replies until the ack.  Replies other
 * than the ack go to @cb (may be NULL).  Returns 0 or the kernel's negative
 * errno; not logged (the caller knows what it was doing: see wt_nl_log_error).
 */
int wt_nl_request(struct wt_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/*
 * Send the dump request @nlh (NLM_F_DUMP is added) and pass every reply to
 * @cb.  A dump the kernel marks NLM_F_DUMP_INTR (tables changed under it) is
 * restarted, after calling @restart(@data) so the caller can forget partial
 * results.  Returns 0 or a negative errno.
 */
int wt_nl_dump(struct wt_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
	       void (*restart)(void *data));

/* How many dumps were restarted so far (process-wide; for tests). */
unsigned int wt_nl_dump_restarts(void);

/* Log "cannot <op> <dev>: <error> (<kernel's words>)" with a hint for EPERM. */
void wt_nl_log_error(const struct wt_nl *nl, int err, const char *op, const char *dev);

#endif
