/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the netlink reply parsing.  The real sources of
 * src/netlink.c (the batch walk, NLMSG_ERROR and extended-ack parsing) and
 * src/nl_link.c (RTM_NEWLINK attributes, nested link info, the dump list) are
 * compiled into this file so their static callbacks are reachable; the input
 * is one receive buffer as the kernel could have filled it.
 */
#include "../../src/netlink.c"
#include "../../src/nl_link.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[WT_NL_BUF_SIZE] __attribute__((aligned(8)));
	struct wt_nl nl = { 0 };
	struct link_list ll = { 0 };
	struct wt_nl_link one;
	struct wt_nl_ctx ctx = { .nl = &nl, .cb = list_cb, .data = &ll };

	if (size > sizeof(buf))
		size = sizeof(buf);
	memcpy(buf, data, size);
	/* As exchange() does: a batch whose framing overruns it is refused
	 * before libmnl walks it. */
	if (!batch_well_framed(buf, size))
		return 0;
	/* A dump reply (the adapter listing) and a single-link reply. */
	mnl_cb_run2(buf, size, 0, 0, on_data, &ctx, ctl_cbs, NLMSG_MIN_TYPE);
	ctx = (struct wt_nl_ctx){ .nl = &nl, .cb = get_cb, .data = &one };
	mnl_cb_run2(buf, size, 0, 0, on_data, &ctx, ctl_cbs, NLMSG_MIN_TYPE);
	/* Whatever was parsed is bounded and terminated. */
	for (size_t i = 0; i < ll.count; i++)
		if (strnlen(ll.links[i].name, sizeof(ll.links[i].name)) == sizeof(ll.links[i].name))
			__builtin_trap();
	if (strnlen(nl.ext_msg, sizeof(nl.ext_msg)) == sizeof(nl.ext_msg))
		__builtin_trap();
	free(ll.links);
	return 0;
}
