/* SPDX-License-Identifier: MIT */
/*
 * pingpong: one ICMP echo request at a time, injected through the Receive
 * ring to 10.9.0.1 (the kernel answers), the reply taken from the Send ring.
 * The client sleeps on the read-wait event while it waits (no spinning), so
 * the latency includes the wake-ups on both sides.  A request without a reply
 * after 1 s counts as lost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "bench.h"
#include "wintun.h"

#define PP_ID 0x5742

static bool is_reply(const uint8_t *p, uint32_t len, uint16_t seq)
{
	return len >= 28 && p[0] == 0x45 && p[9] == IPPROTO_ICMP && p[20] == 0 &&
	       (p[24] << 8 | p[25]) == PP_ID && (p[26] << 8 | p[27]) == seq;
}

/* Wait for the reply to @seq; true if it came, false if lost or ended. */
static bool await_reply(struct wb_run *r, struct wintun_session *s, uint16_t seq,
			uint64_t deadline, bool *ended)
{
	while (wb_now_ns() < deadline && !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		uint32_t len;
		uint8_t *p = WintunReceivePacket(s, &len);
		bool match;

		if (!p) {
			if (errno != EAGAIN) {
				*ended = true;
				return false;
			}
			WintunWaitForPacket(s, 100);
			continue;
		}
		match = is_reply(p, len, seq);
		WintunReleaseReceivePacket(s, p);
		if (match)
			return true;
	}
	return false;
}

void *wb_client_pingpong(void *arg)
{
	struct wb_run *r = arg;
	struct wintun_session *s = r->io.s[0];
	uint32_t src = inet_addr("10.9.0.2"), dst = inet_addr("10.9.0.1");
	unsigned payload = r->o->size_mode == WB_SIZE_MIXED ? 64 : r->o->payload;
	uint8_t req[WB_MTU];
	uint64_t done = 0, sent = 0;
	bool ended = false;

	for (uint16_t seq = 0; !ended && !atomic_load_explicit(&r->stop, memory_order_relaxed);
	     seq++) {
		unsigned len = wb_echo4(req, src, dst, PP_ID, seq, payload);
		uint8_t *p = WintunAllocateSendPacket(s, len);
		uint64_t t0;

		if (!p)
			break;
		memcpy(p, req, len);
		t0 = wb_now_ns();
		WintunSendPacket(s, p);
		atomic_store_explicit(&r->sent, ++sent, memory_order_relaxed);
		if (!await_reply(r, s, seq, t0 + 1000000000u, &ended)) {
			atomic_fetch_add(&r->lost, 1);
			continue;
		}
		if (atomic_load_explicit(&r->measuring, memory_order_relaxed) &&
		    r->nlat < r->cap_lat)
			r->lat_us[r->nlat++] = (double)(wb_now_ns() - t0) / 1000.0;
		atomic_store_explicit(&r->delivered, ++done, memory_order_relaxed);
		atomic_store_explicit(&r->bytes, done * len, memory_order_relaxed);
	}
	return NULL;
}
