/* SPDX-License-Identifier: MIT */
/* The public GSO split: into a caller's buffer, or into a session's ring. */
#include <errno.h>
#include <string.h>

#include "gso.h"
#include "log.h"
#include "session.h"
#include "wintun.h"

struct to_buffer {
	uint8_t *buf;
	uint32_t size, used, *sizes, max, n;
};

static uint8_t *emit_buffer(void *arg, uint32_t len)
{
	struct to_buffer *b = arg;
	uint8_t *at;

	if (b->n == b->max || b->size - b->used < len)
		return NULL;
	at = b->buf + b->used;
	b->used += len;
	b->sizes[b->n++] = len;
	return at;
}

static uint32_t split_result(int ret, const char *fn)
{
	if (ret >= 0)
		return (uint32_t)ret;
	if (ret == -EINVAL)
		wt_err("%s: not a well-formed offload-mode record (virtio_net_hdr + IPv4/IPv6 "
		       "TCP/UDP packet)",
		       fn);
	errno = -ret;
	return 0;
}

WINTUN_API uint32_t WintunSplitPacket(const uint8_t *Record, uint32_t RecordSize, uint8_t *Buffer,
				      uint32_t BufferSize, uint32_t *PacketSizes,
				      uint32_t MaxPackets)
{
	struct to_buffer b = { Buffer, BufferSize, 0, PacketSizes, MaxPackets, 0 };

	if (!Record || !Buffer || !PacketSizes) {
		wt_err("WintunSplitPacket: %s is NULL",
		       !Record ? "Record" : !Buffer ? "Buffer" : "PacketSizes");
		errno = EINVAL;
		return 0;
	}
	return split_result(wt_gso_split(Record, RecordSize, emit_buffer, &b), "WintunSplitPacket");
}

/* Segments are sent in groups: all allocated first, then sent last to first,
 * so that the first send publishes the whole group at once and the far
 * engine can coalesce it again (it would otherwise race the splitter). */
#define SPLIT_GROUP 64

struct to_session {
	struct wintun_session *s;
	uint8_t *pending[SPLIT_GROUP]; /* allocated, filled except the last */
	unsigned n;
	int err;
};

static void send_pending(struct to_session *t)
{
	while (t->n)
		WintunSendPacket(t->s, t->pending[--t->n]);
}

static uint8_t *emit_session(void *arg, uint32_t len)
{
	struct to_session *t = arg;
	uint32_t hdr = t->s->vnet_hdr ? WINTUN_VNET_HDR_SIZE : 0;
	uint8_t *p;

	if (t->n == SPLIT_GROUP)
		send_pending(t); /* all filled: the next emit means the last one is */
	p = WintunAllocateSendPacket(t->s, len + hdr);
	if (!p) {
		t->err = errno;
		return NULL;
	}
	memset(p, 0, hdr);
	t->pending[t->n++] = p;
	return p + hdr;
}

WINTUN_API uint32_t WintunSplitPacketToSession(const uint8_t *Record, uint32_t RecordSize,
					       WINTUN_SESSION_HANDLE Session)
{
	struct to_session t = { .s = Session };
	int ret;

	if (!Record || !Session) {
		wt_err("WintunSplitPacketToSession: %s is NULL", Record ? "session" : "Record");
		errno = EINVAL;
		return 0;
	}
	ret = wt_gso_split(Record, RecordSize, emit_session, &t);
	send_pending(&t); /* every emitted buffer is filled by now */
	if (ret == -ENOBUFS && t.err)
		ret = -t.err;
	return split_result(ret, "WintunSplitPacketToSession");
}
