/* SPDX-License-Identifier: MIT */
#include "engine_rx_full.h"

#include "engine_internal.h"
#include "port_netdev.h"

/* Add the kernel's drops since the last look to drop_ring_full. */
static void count_drops(struct wt_port *p)
{
	uint64_t now;

	p->rx_full_checked_ns = wt_now_ns();
	if (!p->rx_full_base_ok || wt_netdev_tx_dropped(p->netdev, p->tun_fd, &now))
		return;
	/* The counter only grows for one device; guard anyway, a wrapped
	 * difference would add 2^64 drops. */
	if (now > p->rx_full_base)
		wt_stat_add(&p->stats->rx.drop_ring_full, now - p->rx_full_base);
	p->rx_full_base = now;
}

void wt_rx_full_note(struct wt_port *p)
{
	if (p->rx_blocked) {
		if (wt_now_ns() - p->rx_full_checked_ns > WT_MTU_RECHECK_NS)
			count_drops(p);
		return;
	}
	p->rx_blocked = true;
	wt_stat_add(&p->stats->rx.ring_full_episodes, 1);
	/* Without a baseline this episode's drops are not known: none are
	 * counted rather than guessed. */
	p->rx_full_base_ok = wt_netdev_tx_dropped(p->netdev, p->tun_fd, &p->rx_full_base) == 0;
	p->rx_full_checked_ns = wt_now_ns();
}

void wt_rx_full_end(struct wt_port *p)
{
	if (!p->rx_blocked)
		return;
	p->rx_blocked = false;
	count_drops(p);
}
