/* SPDX-License-Identifier: MIT */
#include "engine_rx_full.h"

#include "engine_internal.h"
#include "port_netdev.h"

/* Add the kernel's drops since the last look to drop_ring_full. */
static void count_drops(struct wt_port *p)
{
	uint64_t now;

	p->rx_full_count_due = false;
	p->rx_full_checked_ns = wt_now_ns();
	if (!p->rx_full_base_ok)
		return;
	if (wt_netdev_tx_dropped(p->netdev, p->tun_fd, &now)) {
		p->rx_full_base_ok = false; /* the rest of these drops are not known */
		return;
	}
	/* The counter only grows for one device; guard anyway, a wrapped
	 * difference would add 2^64 drops. */
	if (now > p->rx_full_base)
		wt_stat_add(&p->stats->rx.drop_ring_full, now - p->rx_full_base);
	p->rx_full_base = now;
}

void wt_rx_full_note(struct wt_port *p)
{
	bool chained = false;

	if (p->rx_blocked) {
		if (wt_now_ns() - p->rx_full_checked_ns > WT_MTU_RECHECK_NS)
			count_drops(p);
		return;
	}
	p->rx_blocked = true;
	/* The last episode's drops not counted yet: one look counts them and
	 * is this episode's baseline. */
	if (p->rx_full_count_due && p->rx_full_base_ok) {
		count_drops(p);
		chained = p->rx_full_base_ok;
	}
	if (!chained) {
		p->rx_full_count_due = false;
		/* Without a baseline this episode's drops are not known: none
		 * are counted rather than guessed. */
		p->rx_full_base_ok = wt_netdev_tx_dropped(p->netdev, p->tun_fd, &p->rx_full_base) == 0;
		p->rx_full_checked_ns = wt_now_ns();
	}
	/* Counted once the baseline is read: from then on every drop of the
	 * episode is counted, so whoever sees the episode can rely on that. */
	wt_stat_add(&p->stats->rx.ring_full_episodes, 1);
}

void wt_rx_full_end(struct wt_port *p)
{
	if (!p->rx_blocked)
		return;
	p->rx_blocked = false;
	/* Counted by wt_rx_full_settle, not here on the way to the next read:
	 * the query waits for the kernel's RTNL lock, which another
	 * namespace's teardown can hold for a long time. */
	p->rx_full_count_due = true;
}

void wt_rx_full_settle(struct wt_port *p)
{
	if (p->rx_full_count_due)
		count_drops(p);
}
