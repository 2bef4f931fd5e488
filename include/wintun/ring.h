/* SPDX-License-Identifier: MIT */
/*
 * Wintun for Linux: the shared-memory ring protocol.
 *
 * This header is the one definition of the memory the engine thread and the
 * client share.  The engine, the client library, the tests, the fuzzers and
 * third-party "raw ring" clients all use it.  It depends on nothing but the C
 * standard library.
 *
 * THE PROTOCOL
 *
 * A session has two rings.  Names follow Wintun's, seen from the adapter:
 *   - the Send ring carries packets the OS sent out of the adapter: the
 *     engine produces, the client consumes;
 *   - the Receive ring carries packets the client injects: the client
 *     produces, the engine consumes.
 *
 * Layout.  A ring is a WINTUN_RING header followed by capacity + 0x10000
 * bytes.  The capacity is a power of two between 128 KiB and 64 MiB.  Head and
 * Tail are byte offsets into Data, multiples of 4 and below the capacity.  A
 * record is a 4-byte Size followed by Size bytes of packet; the next record
 * starts at (offset + align4(4 + Size)) & (capacity - 1).  A record that
 * starts near the end of the capacity runs on into the 0x10000 trailing bytes,
 * so a packet is always contiguous in memory (a record never wraps).
 *
 * Ownership.  Head == Tail means empty.  Bytes from Head up to Tail belong to
 * the consumer, the rest to the producer.  The producer may use
 * (Head - Tail - 4) & (capacity - 1) bytes: one alignment unit stays unused so
 * that a full ring is distinguishable from an empty one.
 *
 * Publication.  The producer writes records, then store-releases Tail.  The
 * consumer load-acquires Tail, reads the records, then store-releases Head
 * to hand the space back; the producer load-acquires Head.  Each side only
 * ever writes its own index.
 *
 * Size field.  Bits 0..15: the packet length (at most 0xFFFF).  Bit 30
 * (WINTUN_PACKET_PAD): a pad record (Send ring only, see below).  Bit 31
 * (WINTUN_PACKET_CLIENT): reserved for the client's own bookkeeping of
 * records it has not released/sent yet, as in wintun.dll; never set in a
 * published record the other side reads.  Any other bit set in a published
 * record makes it bogus.
 *
 * Pad records (Linux extension, Send ring only).  The engine reads packets of
 * unknown length into fixed-size slots, so a short packet can leave a gap
 * before the next slot, and a slot that received nothing is a gap as a whole.
 * A gap is covered by one record with Size = WINTUN_PACKET_PAD | len, which
 * spans align4(4 + len) bytes like any other record and carries no packet.
 * The client library skips pads transparently; raw-ring clients must skip
 * them too (wintun_ring_record_is_pad()).
 *
 * Sentinels.  A consumer that finds a bogus record (length above 0xFFFF,
 * unknown flag bits, a record running past Tail) or a bogus index (not
 * aligned, not below the capacity) stops reading that ring and stores
 * Head = WINTUN_RING_SENTINEL.  When a session ends, the engine stores
 * Send.Tail = WINTUN_RING_SENTINEL and signals the Send event, so that a
 * waiting client wakes up and learns that the session is over.
 *
 * Wake-ups (the Alertable handshake).  Each ring has an event (an eventfd)
 * that the producer signals when the consumer may be asleep:
 *
 *   consumer, finding the ring empty      producer, after writing records
 *   ---------------------------------     -------------------------------
 *   store Alertable = 1                   store-release Tail
 *   FULL FENCE                            FULL FENCE
 *   load Tail                             load Alertable
 *   still empty: sleep on the event       Alertable set: signal the event
 *   else: Alertable = 0, go on
 *
 * Both fences are needed.  Each side stores one variable and then loads the
 * other one (the Dekker pattern).  Acquire/release orders a load before a
 * later store, or a store before a later store, but never a store before a
 * later load: without a full fence the CPU may satisfy the load from before
 * its own store became visible (x86 store buffers do exactly that).  Then the
 * consumer sees an empty ring and the producer sees Alertable == 0 at the same
 * time: the consumer sleeps and nobody wakes it.  Wintun for Windows shipped
 * without these fences and lost wake-ups for seconds under load.
 *
 * The producer may clear Alertable when it signals (an atomic exchange), so
 * that a burst costs one signal.  A spurious signal is harmless: the consumer
 * finds the ring empty, re-arms and sleeps again.  The event is an eventfd in
 * counter mode: reading it resets it, like an auto-reset event.
 *
 * Offload mode (opt-in per session, Linux extension).  In offload mode each
 * record's data is a struct virtio_net_hdr (WINTUN_VNET_HDR_SIZE = 10 bytes,
 * fields in little-endian, see <linux/virtio_net.h>) followed by the IP
 * packet, which may be a TCP/UDP super-packet of up to 64 KiB:
 *   flags       VIRTIO_NET_HDR_F_NEEDS_CSUM (1): the transport checksum is
 *               partial: csum_start/csum_offset say where to complete it;
 *               VIRTIO_NET_HDR_F_DATA_VALID (2): the checksum was verified;
 *   gso_type    VIRTIO_NET_HDR_GSO_NONE (0), TCPV4 (1), UDP_L4 (5), TCPV6 (4),
 *               with VIRTIO_NET_HDR_GSO_ECN (0x80) possibly or-ed in;
 *   hdr_len     bytes of IP + transport headers of each segment;
 *   gso_size    payload bytes per segment (the MSS);
 *   csum_start, csum_offset  where the checksum starts, and where it goes
 *               relative to csum_start.
 * The record Size limit (0xFFFF) bounds header plus packet: the engine sets
 * the device's GSO maximum size so that the kernel never builds a larger one.
 * A client forwarding super-packets between two offload-mode sessions passes
 * the record through unchanged; a client that needs MTU-sized packets must
 * segment (GSO) itself.
 */
#ifndef WINTUN_RING_H
#define WINTUN_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Smallest ring capacity, in bytes (128 KiB). */
#define WINTUN_RING_MIN_CAPACITY 0x20000u
/** Largest ring capacity, in bytes (64 MiB). */
#define WINTUN_RING_MAX_CAPACITY 0x4000000u
/** Largest packet a record can carry (and largest pad length). */
#define WINTUN_RING_MAX_PACKET_SIZE 0xFFFFu
/** Records, Head and Tail are aligned to this many bytes. */
#define WINTUN_RING_ALIGNMENT 4u
/** Bytes after the capacity that keep a record contiguous. */
#define WINTUN_RING_TRAILING_BYTES 0x10000u
/** Head (consumer aborted) or Send.Tail (session ended) sentinel value. */
#define WINTUN_RING_SENTINEL 0xFFFFFFFFu
/** Size flag: this record is a pad and carries no packet. */
#define WINTUN_PACKET_PAD 0x40000000u
/** Size flag reserved for client-side bookkeeping of unpublished records. */
#define WINTUN_PACKET_CLIENT 0x80000000u
/** Mask of the length bits of Size. */
#define WINTUN_PACKET_SIZE_MASK 0x0000FFFFu
/** Size of the virtio_net_hdr that starts each record in offload mode. */
#define WINTUN_VNET_HDR_SIZE 10u

/** Header of a ring; Data follows (capacity + trailing bytes). */
typedef struct WINTUN_RING {
	uint32_t Head;     /**< consumer's index; written by the consumer only */
	uint32_t Tail;     /**< producer's index; written by the producer only */
	int32_t Alertable; /**< non-zero: the consumer may be asleep */
	uint8_t Data[];
} WINTUN_RING;

/**
 * One record in a ring (also spelled WINTUN_PACKET and TUN_PACKET).
 * wintun.h's WINTUN_BATCH_PACKET, the batch calls' descriptor of a packet,
 * is a different thing: a pointer and a length.
 */
typedef struct WINTUN_RING_PACKET {
	uint32_t Size; /**< packet length plus flags, see above */
	uint8_t Data[];
} WINTUN_RING_PACKET;

/** One ring of a registration: its memory, its size, its event. */
typedef struct WINTUN_RING_DESCRIPTOR {
	uint32_t RingSize;  /**< wintun_ring_size(capacity) */
	WINTUN_RING *Ring;  /**< the ring memory */
	int TailMoved;      /**< eventfd signalled by the ring's producer */
} WINTUN_RING_DESCRIPTOR;

/**
 * A pair of rings with their events, as a raw-ring client registers them
 * (Wintun's TUN_REGISTER_RINGS).  Both rings have the same capacity.
 */
typedef struct WINTUN_REGISTER_RINGS {
	WINTUN_RING_DESCRIPTOR Send;    /**< engine -> client */
	WINTUN_RING_DESCRIPTOR Receive; /**< client -> engine */
} WINTUN_REGISTER_RINGS;

/* Wintun's own spellings, for code ported from Windows. */
typedef WINTUN_RING TUN_RING;
typedef WINTUN_RING_PACKET TUN_PACKET;
/* This header's name for the record before WINTUN_RING_PACKET: kept so that
 * raw-ring clients written against it still compile and mean the same. */
typedef WINTUN_RING_PACKET WINTUN_PACKET;
typedef WINTUN_REGISTER_RINGS TUN_REGISTER_RINGS;

_Static_assert(offsetof(WINTUN_RING, Head) == 0, "ring ABI: Head at 0");
_Static_assert(offsetof(WINTUN_RING, Tail) == 4, "ring ABI: Tail at 4");
_Static_assert(offsetof(WINTUN_RING, Alertable) == 8, "ring ABI: Alertable at 8");
_Static_assert(offsetof(WINTUN_RING, Data) == 12, "ring ABI: Data at 12");
_Static_assert(sizeof(WINTUN_RING) == 12, "ring ABI: header is 12 bytes");
_Static_assert(offsetof(WINTUN_RING_PACKET, Size) == 0, "ring ABI: Size at 0");
_Static_assert(offsetof(WINTUN_RING_PACKET, Data) == 4, "ring ABI: packet at 4");
_Static_assert(sizeof(WINTUN_RING_PACKET) == 4, "ring ABI: record header is 4 bytes");
_Static_assert((WINTUN_RING_MIN_CAPACITY & (WINTUN_RING_MIN_CAPACITY - 1)) == 0,
	       "min capacity is a power of two");
_Static_assert((WINTUN_RING_MAX_CAPACITY & (WINTUN_RING_MAX_CAPACITY - 1)) == 0,
	       "max capacity is a power of two");
/* The largest record starting at the last offset must end inside the
 * trailing bytes: (capacity - 4) + align4(4 + 0xFFFF) <= capacity + 0x10000. */
_Static_assert(((4u + WINTUN_RING_MAX_PACKET_SIZE + 3u) & ~3u) - WINTUN_RING_ALIGNMENT <=
		       WINTUN_RING_TRAILING_BYTES,
	       "trailing bytes hold the largest record");
_Static_assert((WINTUN_PACKET_SIZE_MASK & (WINTUN_PACKET_PAD | WINTUN_PACKET_CLIENT)) == 0,
	       "flags do not overlap the length");

/** Round @n up to the record alignment. */
static inline uint32_t wintun_ring_align(uint32_t n)
{
	return (n + (WINTUN_RING_ALIGNMENT - 1)) & ~(WINTUN_RING_ALIGNMENT - 1);
}

/** Reduce an offset modulo @capacity (a power of two). */
static inline uint32_t wintun_ring_wrap(uint32_t off, uint32_t capacity)
{
	return off & (capacity - 1);
}

/** Bytes a record carrying @len bytes occupies in the ring. */
static inline uint32_t wintun_ring_record_size(uint32_t len)
{
	return wintun_ring_align((uint32_t)sizeof(WINTUN_RING_PACKET) + len);
}

/** Offset of the record after the one at @off that carries @len bytes. */
static inline uint32_t wintun_ring_next(uint32_t off, uint32_t len, uint32_t capacity)
{
	return wintun_ring_wrap(off + wintun_ring_record_size(len), capacity);
}

/** Bytes the consumer owns: published and not yet freed. */
static inline uint32_t wintun_ring_used(uint32_t head, uint32_t tail, uint32_t capacity)
{
	return wintun_ring_wrap(tail - head, capacity);
}

/** Bytes the producer may still write (one alignment unit stays unused). */
static inline uint32_t wintun_ring_free(uint32_t head, uint32_t tail, uint32_t capacity)
{
	return wintun_ring_wrap(head - tail - WINTUN_RING_ALIGNMENT, capacity);
}

/** Total bytes of a ring with @capacity: header, data and trailing bytes. */
static inline size_t wintun_ring_size(uint32_t capacity)
{
	return sizeof(WINTUN_RING) + (size_t)capacity + WINTUN_RING_TRAILING_BYTES;
}

/** True if @capacity is a power of two within the allowed range. */
static inline bool wintun_ring_capacity_valid(uint32_t capacity)
{
	return capacity >= WINTUN_RING_MIN_CAPACITY && capacity <= WINTUN_RING_MAX_CAPACITY &&
	       (capacity & (capacity - 1)) == 0;
}

/** True if @off is a usable Head/Tail value: aligned and below @capacity. */
static inline bool wintun_ring_offset_valid(uint32_t off, uint32_t capacity)
{
	return off < capacity && (off & (WINTUN_RING_ALIGNMENT - 1)) == 0;
}

/** True if a record's Size word marks a pad record. */
static inline bool wintun_ring_record_is_pad(uint32_t size_word)
{
	return (size_word & WINTUN_PACKET_PAD) != 0;
}

/** The length part (packet or pad bytes) of a record's Size word. */
static inline uint32_t wintun_ring_record_len(uint32_t size_word)
{
	return size_word & WINTUN_PACKET_SIZE_MASK;
}

/** The record at offset @off of @ring. */
static inline WINTUN_RING_PACKET *wintun_ring_record(WINTUN_RING *ring, uint32_t off)
{
	return (WINTUN_RING_PACKET *)(void *)&ring->Data[off];
}

/**
 * Check the published record at @off before a consumer uses it.
 * @size_word: the record's Size as read from the ring (read it once, the
 * memory is shared); @pads_allowed: true on the Send ring only.
 * @off and @tail must be valid offsets (wintun_ring_offset_valid()) with
 * @off != @tail.  Returns true if the record is well formed and ends at or
 * before @tail.
 */
static inline bool wintun_ring_record_valid(uint32_t off, uint32_t tail, uint32_t capacity,
					    uint32_t size_word, bool pads_allowed)
{
	uint32_t allowed = WINTUN_PACKET_SIZE_MASK | (pads_allowed ? WINTUN_PACKET_PAD : 0u);

	if (size_word & ~allowed)
		return false;
	return wintun_ring_record_size(wintun_ring_record_len(size_word)) <=
	       wintun_ring_used(off, tail, capacity);
}

#ifdef __cplusplus
}
#endif

#endif /* WINTUN_RING_H */
