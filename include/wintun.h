/* SPDX-License-Identifier: MIT */
/*
 * Wintun for Linux: the public API.
 *
 * Wintun's API (names and semantics of wintun.dll 0.14, plus a few functions
 * of the 0.8 API) on Linux: UTF-8 names, fixed-width integers, an eventfd as
 * the read-wait event, opaque handles.  A function that fails returns NULL,
 * false or 0 and sets errno; where the cause is something the caller can fix,
 * the logger (WintunSetLogger) also receives a line that says what was wrong.
 *
 *   errno       Wintun error              meaning
 *   EAGAIN      ERROR_NO_MORE_ITEMS       ring empty: wait on the read-wait event
 *   ENOBUFS     ERROR_BUFFER_OVERFLOW     send ring full
 *   ESHUTDOWN   ERROR_HANDLE_EOF          session ended, engine stopped, adapter gone
 *   EBADMSG     ERROR_INVALID_DATA        ring content corrupt
 *   ENOENT      ERROR_FILE_NOT_FOUND      no such adapter
 *   EEXIST      ERROR_ALREADY_EXISTS      adapter name taken
 *   EINVAL      ERROR_INVALID_PARAMETER   bad capacity, size, name, NULL handle
 *   EPERM       ERROR_ACCESS_DENIED       no CAP_NET_ADMIN / not allowed
 *
 * The shared-memory ring protocol is in <wintun/ring.h>.
 */
#ifndef WINTUN_H
#define WINTUN_H

#include <stdbool.h>
#include <stdint.h>

#include <wintun/ring.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(WINTUN_BUILDING_LIBRARY)
#define WINTUN_API __attribute__((visibility("default")))
#else
#define WINTUN_API
#endif

/** Minimum ring capacity (128 KiB). */
#define WINTUN_MIN_RING_CAPACITY WINTUN_RING_MIN_CAPACITY
/** Maximum ring capacity (64 MiB). */
#define WINTUN_MAX_RING_CAPACITY WINTUN_RING_MAX_CAPACITY
/** Maximum IP packet size. */
#define WINTUN_MAX_IP_PACKET_SIZE WINTUN_RING_MAX_PACKET_SIZE

/** An adapter: a TUN device created by this library. */
typedef struct wintun_adapter *WINTUN_ADAPTER_HANDLE;

/** A session: two rings shared with the engine thread that serves them. */
typedef struct wintun_session *WINTUN_SESSION_HANDLE;

/** Level of a log message. */
typedef enum WINTUN_LOGGER_LEVEL {
	WINTUN_LOG_INFO, /**< informational */
	WINTUN_LOG_WARN, /**< warning */
	WINTUN_LOG_ERR,  /**< error */
} WINTUN_LOGGER_LEVEL;

/**
 * Receives the library's diagnostic messages.
 * @Level: the message level.
 * @Timestamp: nanoseconds since the Unix epoch (CLOCK_REALTIME).
 * @Message: the message text, UTF-8, no trailing newline; valid only during
 * the call.
 * May be called from several threads at once, including engine threads:
 * serialize inside the callback if needed, and do not call back into the
 * library from it.
 */
typedef void (*WINTUN_LOGGER_CALLBACK)(WINTUN_LOGGER_LEVEL Level, uint64_t Timestamp,
				       const char *Message);

/**
 * Sets the logger callback.  The library logs nothing until one is set.
 * @NewLogger: the new global logger, or NULL to disable logging.
 * Thread-safe; may be called at any time from any thread.
 */
WINTUN_API void WintunSetLogger(WINTUN_LOGGER_CALLBACK NewLogger);

/**
 * Returns the version of the running library, (major << 16) | minor.
 * On Linux the library plays the role of Wintun's driver, so its version is
 * the "driver" version.  Never fails.
 */
WINTUN_API uint32_t WintunGetRunningDriverVersion(void);

/**
 * Retrieves one packet from the session's Send ring (packets the OS sent out
 * of the adapter).  The packet stays valid, and may be modified in place,
 * until it is released with WintunReleaseReceivePacket.  Pad records are
 * skipped.  Thread-safe.
 * @Session: the session.
 * @PacketSize: receives the packet's size in bytes.
 * Returns a pointer to the layer-3 packet (IPv4 or IPv6; in offload mode a
 * virtio_net_hdr then the packet), or NULL with errno:
 *   EINVAL     Session or PacketSize is NULL;
 *   EAGAIN     the ring is empty: wait on WintunGetReadWaitEvent() (or call
 *              WintunWaitForPacket) and try again.  The call has already armed
 *              the wake-up, so waiting right after it cannot miss a packet;
 *   ESHUTDOWN  the session has ended;
 *   EBADMSG    the ring content is corrupt; the ring stays stopped.
 */
WINTUN_API uint8_t *WintunReceivePacket(WINTUN_SESSION_HANDLE Session, uint32_t *PacketSize);

/**
 * Releases a packet returned by WintunReceivePacket, handing its ring space
 * back to the engine.  Packets may be released in any order; space is
 * reclaimed in ring order.  Thread-safe.
 * @Session: the session.
 * @Packet: a packet obtained from WintunReceivePacket on this session and not
 * released yet.  A NULL Session or Packet is ignored (errno EINVAL, logged).
 */
WINTUN_API void WintunReleaseReceivePacket(WINTUN_SESSION_HANDLE Session, const uint8_t *Packet);

/**
 * Allocates space for a packet in the session's Receive ring (packets the
 * client injects into the OS).  Fill it, then call WintunSendPacket.
 * Thread-safe: the order of WintunAllocateSendPacket calls is the order in
 * which packets reach the adapter.
 * @Session: the session.
 * @PacketSize: exact packet size, 1 to WINTUN_MAX_IP_PACKET_SIZE.
 * Returns a pointer to PacketSize writable bytes, or NULL with errno:
 *   EINVAL     Session is NULL, or PacketSize is 0 or too large;
 *   ENOBUFS    the ring is full (drop the packet, or retry later);
 *   ESHUTDOWN  the session has ended;
 *   EBADMSG    the engine found the ring corrupt and stopped reading it.
 */
WINTUN_API uint8_t *WintunAllocateSendPacket(WINTUN_SESSION_HANDLE Session, uint32_t PacketSize);

/**
 * Sends a packet allocated with WintunAllocateSendPacket and releases its
 * buffer.  Packets go out in allocation order, so a packet may wait for
 * earlier allocations to be sent.  Wakes the engine if it sleeps.
 * Thread-safe.
 * @Session: the session.
 * @Packet: a packet from WintunAllocateSendPacket on this session, not sent
 * yet.  A NULL Session or Packet is ignored (errno EINVAL, logged).
 */
WINTUN_API void WintunSendPacket(WINTUN_SESSION_HANDLE Session, const uint8_t *Packet);

/**
 * Returns the session's read-wait event: an eventfd (counter mode,
 * non-blocking) that becomes readable when packets arrive after
 * WintunReceivePacket failed with EAGAIN, and when the session ends.  Poll it
 * (poll, epoll) for POLLIN, then read 8 bytes from it to reset it before
 * calling WintunReceivePacket again.  The descriptor belongs to the session:
 * do not close it.
 * @Session: the session.
 * Returns the descriptor, or -1 with errno EINVAL for a NULL session.
 */
WINTUN_API int WintunGetReadWaitEvent(WINTUN_SESSION_HANDLE Session);

/**
 * Tells whether WintunReceivePacket would find a packet, without taking it
 * and without arming the wake-up (Wintun 0.8 API).  Thread-safe.
 * @Session: the session.
 * Returns true if a packet is ready.  Returns false with errno 0 if the ring
 * is empty, and false with errno EINVAL, ESHUTDOWN or EBADMSG as
 * WintunReceivePacket would.
 */
WINTUN_API bool WintunIsPacketAvailable(WINTUN_SESSION_HANDLE Session);

/**
 * Waits until a packet is available on the session's Send ring, the session
 * ends or the timeout expires (Wintun 0.8 API).  Thread-safe.
 * @Session: the session.
 * @Milliseconds: the timeout; UINT32_MAX waits forever; 0 only checks.
 * Returns true when a packet is ready.  Otherwise false with errno:
 *   ETIMEDOUT  nothing arrived in time;
 *   ESHUTDOWN  the session has ended;
 *   EBADMSG    the ring content is corrupt;
 *   EINVAL     Session is NULL.
 */
WINTUN_API bool WintunWaitForPacket(WINTUN_SESSION_HANDLE Session, uint32_t Milliseconds);

/* ---- Sessions: starting and ending (Linux types, Wintun semantics) ---- */

/** Flags of WINTUN_SESSION_OPTIONS. */
#define WINTUN_SESSION_PIN_CPU 0x1u   /**< pin the engine thread to Cpu */
#define WINTUN_SESSION_NUMA_NODE 0x2u /**< place ring memory on NumaNode */
#define WINTUN_SESSION_HUGEPAGES 0x4u /**< back the rings with huge pages */
#define WINTUN_SESSION_SPIN 0x8u      /**< use SpinMicroseconds (default 20) */
#define WINTUN_SESSION_RX_MULTISHOT 0x10u /**< RX with one multishot read fed by
					    provided buffers (kernel >= 6.7; otherwise the
					    default drain is used and the log says so) */
#define WINTUN_SESSION_FLAGS_ALL 0x1Fu

/**
 * Options of WintunStartSessionEx.  Set Size to sizeof(WINTUN_SESSION_OPTIONS)
 * and zero everything you do not use: zero means "default" everywhere.  The
 * struct may grow at its end; Size tells the library which fields you know.
 */
typedef struct WINTUN_SESSION_OPTIONS {
	uint32_t Size;             /**< sizeof(WINTUN_SESSION_OPTIONS) */
	uint32_t Flags;            /**< WINTUN_SESSION_* */
	uint32_t Capacity;         /**< ring capacity; 0: 4 MiB */
	int32_t Cpu;               /**< with WINTUN_SESSION_PIN_CPU; default: a CPU
					from the process's allowed set, spread over sessions */
	int32_t NumaNode;          /**< with WINTUN_SESSION_NUMA_NODE; default: the
					engine CPU's node (no placement without NUMA) */
	uint32_t BatchDepth;       /**< most TUN reads per batch, 1..256; 0: 64 */
	uint32_t SpinMicroseconds; /**< with WINTUN_SESSION_SPIN: idle spin before sleeping */
	uint32_t Reserved;         /**< zero */
	WINTUN_SESSION_HANDLE ShareEngineWith; /**< serve this session from that
					session's engine thread (one thread, one io_uring for
					both); NULL: a thread of its own */
} WINTUN_SESSION_OPTIONS;

/**
 * Starts a session on an adapter: allocates the two rings (each
 * sizeof(WINTUN_RING) + Capacity + 0x10000 bytes), attaches a queue of the
 * TUN device, and starts the engine thread that moves packets between the
 * device and the rings (named "wintun/<ifname>", pinned to one CPU).
 * @Adapter: the adapter.
 * @Capacity: ring capacity, a power of two from WINTUN_MIN_RING_CAPACITY to
 * WINTUN_MAX_RING_CAPACITY.
 * Returns the session (end it with WintunEndSession), or NULL with errno:
 *   EINVAL  Adapter is NULL or Capacity is invalid;
 *   EBUSY   the adapter already has a session;
 *   ENOMEM, EMFILE  out of memory or descriptors;
 *   EPERM   io_uring is disabled (sysctl kernel.io_uring_disabled), or the
 *           device cannot be attached;
 *   other   the errno of the failing system call (logged).
 * Thread-safe.
 */
WINTUN_API WINTUN_SESSION_HANDLE WintunStartSession(WINTUN_ADAPTER_HANDLE Adapter,
						     uint32_t Capacity);

/**
 * Starts a session with options (Linux extension): CPU, NUMA node, capacity,
 * batch depth, idle spin, huge pages, and sharing another session's engine.
 * @Adapter: the adapter.
 * @Options: the options, or NULL for the defaults.
 * Errors: as WintunStartSession; EINVAL also for an unknown Size or flag, a
 * CPU that does not exist, BatchDepth above 256, or a ShareEngineWith session
 * that has no engine.
 */
WINTUN_API WINTUN_SESSION_HANDLE WintunStartSessionEx(WINTUN_ADAPTER_HANDLE Adapter,
						       const WINTUN_SESSION_OPTIONS *Options);

/**
 * Registers a client's own rings on an adapter (Wintun's
 * TUN_IOCTL_REGISTER_RINGS): the client allocated both rings (same capacity,
 * 4-byte aligned, not overlapping) and two eventfds, and drives the protocol
 * of <wintun/ring.h> itself.  An engine thread serves them as for
 * WintunStartSession (which is built on the same path).  The memory and the
 * eventfds stay the client's and must outlive the session.
 * @Adapter: the adapter.
 * @Rings: the registration.
 * Returns a session handle for WintunEndSession and WintunGetSessionStatistics
 * (the packet functions work on it too), or NULL with errno: EINVAL for a
 * NULL argument or a bad registration (logged with the reason), otherwise as
 * WintunStartSession.
 */
WINTUN_API WINTUN_SESSION_HANDLE WintunRegisterRings(WINTUN_ADAPTER_HANDLE Adapter,
						      const WINTUN_REGISTER_RINGS *Rings);

/**
 * Ends a session: the engine stops, cancels its I/O, stores the close
 * sentinel (Send.Tail = 0xFFFFFFFF) and signals the read-wait event, so a
 * thread blocked in WintunWaitForPacket returns false with ESHUTDOWN.  Then
 * the rings, the queue and the handle are freed.  No other call may use the
 * handle once this returns; a thread polling the read-wait event itself must
 * stop using the handle when it wakes.
 * @Session: the session; NULL is ignored (errno EINVAL, logged).
 */
WINTUN_API void WintunEndSession(WINTUN_SESSION_HANDLE Session);

/** Counters of one direction. */
typedef struct WINTUN_DIRECTION_STATISTICS {
	uint64_t Packets;        /**< packets delivered */
	uint64_t Bytes;          /**< bytes delivered (IP packets) */
	uint64_t DropRingFull;   /**< RX: times reading stopped for lack of ring space
				      (the kernel's queue then drops, see tx_dropped) */
	uint64_t DropTruncated;  /**< RX: packets larger than the slot (MTU grew) */
	uint64_t DropNonIp;      /**< TX: records that are not IPv4/IPv6 packets */
	uint64_t DropBogus;      /**< TX: bogus records (the ring was stopped) */
	uint64_t DropWriteError; /**< TX: writes the kernel refused */
	uint64_t Batches;        /**< batches of reads (RX) or writes (TX) submitted */
	uint64_t Wakeups;        /**< times this direction woke the sleeping engine */
} WINTUN_DIRECTION_STATISTICS;

/** Session statistics; set Size before the call. */
typedef struct WINTUN_SESSION_STATISTICS {
	uint32_t Size;                   /**< sizeof(WINTUN_SESSION_STATISTICS) */
	uint32_t Reserved;
	WINTUN_DIRECTION_STATISTICS Rx;  /**< TUN -> Send ring (packets the OS sent) */
	WINTUN_DIRECTION_STATISTICS Tx;  /**< Receive ring -> TUN (packets injected) */
	uint64_t IoUringEnterCalls;      /**< of the engine (shared engines: all sessions) */
	int32_t EngineCpu;               /**< CPU the engine is pinned to, or -1 */
	int32_t EngineThreadId;          /**< kernel thread id of the engine */
} WINTUN_SESSION_STATISTICS;

/**
 * Reads a session's counters (Linux extension).  Each counter is exact; the
 * set is not one atomic snapshot.  Thread-safe.
 * @Session: the session.
 * @Stats: receives the counters; Stats->Size must be set (a smaller, older
 * size gets the fields it covers).
 * Returns true, or false with errno EINVAL (NULL argument, unknown Size).
 */
WINTUN_API bool WintunGetSessionStatistics(WINTUN_SESSION_HANDLE Session,
					   WINTUN_SESSION_STATISTICS *Stats);

#ifdef __cplusplus
}
#endif

#endif /* WINTUN_H */
