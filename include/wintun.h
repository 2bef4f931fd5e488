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

/** An adapter: a TUN device of this library (see "Adapters" below). */
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

/* ---- Adapters ---- */

/*
 * An adapter is a Linux TUN device (IFF_TUN | IFF_MULTI_QUEUE, with packet
 * information) whose ifalias reads "wintun type=<TunnelType> guid=<GUID>":
 * that is how WintunOpenAdapter and WintunEnumAdapters recognize the devices
 * of this library.
 *
 * Lifetime: devices are NOT persistent.  Every adapter handle keeps one TUN
 * file descriptor of the device open, detached from the data path
 * (TUNSETQUEUE IFF_DETACH_QUEUE) so it never receives packets; a detached
 * queue still keeps the device alive.  The device therefore lives while any
 * handle (or session) on it is open, in any process, and disappears with the
 * last one: a process that crashes leaves no adapter behind that would block
 * its restart.  WintunCloseAdapter on the handle that created the device
 * deletes the device at once, even if other processes still hold it.
 *
 * Names: Wintun names adapters like "Data Center"; a Linux interface name
 * cannot hold a space, '/', ':' (nor '%', a TUNSETIFF template).  A name
 * with those characters is a Windows-style ("friendly") name: the device
 * gets a derived interface name -- each such character replaced by '_'
 * ("Data_Center"), or, if another device holds that name, its first 10
 * bytes, '-' and 4 hex digits of a hash of the name ("Data_Cente-1a2b") --
 * and the friendly name is kept with the device in the ifalias, after the
 * GUID: "wintun type=<TunnelType> guid=<GUID> name=Data Center".
 * WintunGetAdapterName returns the friendly name, WintunOpenAdapter finds
 * the adapter by it, WintunEnumAdapters' handles report it, and ip-link shows
 * the interface name.  Either kind of name is 1 to 15 bytes (IFNAMSIZ - 1:
 * WintunGetAdapterName must return it in WINTUN_MAX_ADAPTER_NAME bytes),
 * holds no control character, and is not "." or "..": anything else is
 * EINVAL with a log line saying why.  Two adapters cannot share a friendly
 * name (EEXIST).
 *
 * A handle follows its device by interface index: renaming the device
 * (WintunSetAdapterName, or ip-link) does not invalidate it, and after
 * WintunSetAdapterNetns its configuration functions act in the device's new
 * network namespace.
 *
 * One session per adapter, as in Wintun: while a session (WintunStartSession,
 * WintunStartSessionEx or WintunRegisterRings) runs on a device, starting
 * another on the same device fails with EBUSY, through any handle, in any
 * process of any namespace that reaches the device.  A second session would
 * attach a second TUN queue, and the kernel would give it half the flows.
 * The claim is an abstract AF_UNIX socket "@wintun/session/<ifindex>" in the
 * device's namespace (listed by ss -xa): it goes with WintunEndSession or
 * with the holder's exit or crash, never outlives its process, and is
 * inherited by a fork() child until that child exits or execs.  It is taken
 * in the namespace the device is in when the session starts: after
 * WintunSetAdapterNetns under a running session, a process in the new
 * namespace is not refused.
 *
 * All adapter functions need CAP_NET_ADMIN in the device's network namespace
 * except where noted (EPERM otherwise).  All are thread-safe: one handle may be
 * used from several threads, but closing it while another thread still uses
 * it is a use-after-free, as for any handle.
 */

/**
 * Size of an adapter name buffer, terminating NUL included: Linux's IFNAMSIZ
 * (the header does not include <net/if.h>, which clashes with <linux/if.h>).
 */
#define WINTUN_MAX_ADAPTER_NAME 16

/** Longest tunnel type, in bytes, not counting the terminating NUL. */
#define WINTUN_MAX_TUNNEL_TYPE 64

/** A GUID, laid out as Windows' GUID. */
typedef struct WINTUN_GUID {
	uint32_t Data1;
	uint16_t Data2;
	uint16_t Data3;
	uint8_t Data4[8];
} WINTUN_GUID;

/** A network interface LUID, laid out as Windows' NET_LUID. */
typedef union WINTUN_NET_LUID {
	uint64_t Value;
	struct {
		uint64_t Reserved : 24;
		uint64_t NetLuidIndex : 24; /**< the interface index */
		uint64_t IfType : 16;       /**< 53, IF_TYPE_PROP_VIRTUAL */
	} Info;
} WINTUN_NET_LUID;

/**
 * Creates a new adapter: a TUN device called @Name in the calling thread's
 * network namespace.
 * @Name: the adapter name, 1 to WINTUN_MAX_ADAPTER_NAME-1 (15) bytes, no
 * control characters, not "." or "..": the device name, or a Windows-style
 * name with spaces, '/', ':' or '%', which is mapped (see "Names" above).
 * @TunnelType: a free-form tag, 1 to WINTUN_MAX_TUNNEL_TYPE bytes without
 * whitespace (WintunEnumAdapters filters on it).
 * @RequestedGUID: the adapter's GUID, or NULL for a random one.
 * Returns the handle (release it with WintunCloseAdapter, which deletes the
 * device), or NULL with errno:
 *   EINVAL  a NULL/empty/too long/malformed Name or TunnelType;
 *   EEXIST  a network device called Name already exists; for a
 *           Windows-style Name: an adapter of that name exists, or its
 *           interface name is held by a TUN device that may be one being
 *           created, or both its interface names are taken;
 *   EPERM   no CAP_NET_ADMIN;
 *   ENOENT  /dev/net/tun is missing (no tun module);
 *   other   what the kernel reported (ENOMEM, EMFILE...).
 */
WINTUN_API WINTUN_ADAPTER_HANDLE WintunCreateAdapter(const char *Name, const char *TunnelType,
						     const WINTUN_GUID *RequestedGUID);

/**
 * Opens an existing adapter (created by this or another process) by name, in
 * the calling thread's network namespace.  The handle keeps the device alive
 * until WintunCloseAdapter, which does not delete it.
 * @Name: the device name, or the adapter's Windows-style name.
 * Returns the handle, or NULL with errno:
 *   EINVAL   a NULL or malformed Name;
 *   ENOENT   no network device called Name (for a Windows-style name: no
 *            adapter of that name);
 *   ENOTSUP  the device exists but is not a Wintun adapter (not a
 *            multi-queue TUN device with packet information, or its ifalias
 *            does not start with "wintun type=");
 *   EPERM    no CAP_NET_ADMIN.
 */
WINTUN_API WINTUN_ADAPTER_HANDLE WintunOpenAdapter(const char *Name);

/**
 * Releases an adapter handle.  If the handle came from WintunCreateAdapter the
 * device is deleted (RTM_DELLINK), even if other handles or processes still
 * use it; their sessions then end with ESHUTDOWN.  Closing a handle whose
 * session is still running is allowed (logged as a warning): the session ends
 * when it notices the device is gone; end it with WintunEndSession as usual.
 * @Adapter: the handle; NULL is ignored (errno EINVAL, logged).
 */
WINTUN_API void WintunCloseAdapter(WINTUN_ADAPTER_HANDLE Adapter);

/**
 * Deletes the leftovers of this library: Wintun adapters in the calling
 * thread's network namespace that no process holds open (persistent devices
 * left by other tools or crashed older versions).  Adapters in use are left
 * alone (logged).  On Linux there is no driver to unload.
 * Returns true on success, or false with errno (EPERM without CAP_NET_ADMIN,
 * or the netlink error).
 */
WINTUN_API bool WintunDeleteDriver(void);

/**
 * Returns the LUID of the adapter: NetLuidIndex = interface index, IfType = 53
 * (IF_TYPE_PROP_VIRTUAL).  Needs no privilege.
 * @Adapter: the handle.
 * @Luid: receives the LUID.  With a NULL Adapter or Luid nothing is written
 * and errno is EINVAL (logged).
 */
WINTUN_API void WintunGetAdapterLuid(WINTUN_ADAPTER_HANDLE Adapter, WINTUN_NET_LUID *Luid);

/**
 * The same as WintunGetAdapterLuid, under Wintun's spelling (what its example
 * client and language bindings call).  Both names stay exported.
 */
WINTUN_API void WintunGetAdapterLUID(WINTUN_ADAPTER_HANDLE Adapter, WINTUN_NET_LUID *Luid);

/**
 * Called by WintunEnumAdapters for each adapter.
 * @Adapter: a handle valid only during the call (do not close it; open the
 * adapter by name to keep one).
 * @Param: the caller's parameter.
 * Returns true to continue, false to stop the enumeration.
 */
typedef bool (*WINTUN_ENUM_CALLBACK)(WINTUN_ADAPTER_HANDLE Adapter, intptr_t Param);

/**
 * Enumerates the Wintun adapters of the calling thread's network namespace
 * (Wintun 0.8 API).
 * @TunnelType: only adapters of this tunnel type, or NULL for all.
 * @Callback: called once per adapter, in interface-index order.
 * @Param: passed to Callback.
 * Returns true if the enumeration ran (also when Callback stopped it), or
 * false with errno: EINVAL for a NULL Callback, EPERM, or the netlink error.
 * Devices that vanish during the enumeration are skipped.
 */
WINTUN_API bool WintunEnumAdapters(const char *TunnelType, WINTUN_ENUM_CALLBACK Callback,
				   intptr_t Param);

/**
 * Gets the adapter's name: its Windows-style name if it has one (see "Names"
 * above), else its current device name.  Either follows renames.  Needs no
 * privilege.
 * @Adapter: the handle.
 * @Name: receives the NUL-terminated name.
 * Returns true, or false with errno EINVAL (NULL argument) or ENODEV (the
 * device is gone).
 */
WINTUN_API bool WintunGetAdapterName(WINTUN_ADAPTER_HANDLE Adapter,
				     char Name[WINTUN_MAX_ADAPTER_NAME]);

/**
 * Renames the adapter's device (Wintun 0.8 API).  Handles and sessions on
 * the adapter stay valid.  Kernels before 6.2 rename only a device that is
 * down.
 * @Adapter: the handle.
 * @Name: the new name, same rules as for WintunCreateAdapter.  A
 * Windows-style name renames the device to its first mapping ("Data_Center",
 * no hashed fallback) and stores the name; a plain name drops a stored one.
 * Returns true, or false with errno: EINVAL (bad name), EEXIST (name taken),
 * EBUSY (the device is up and the kernel is older than 6.2: bring it down
 * first), EPERM, ENODEV (gone).
 */
WINTUN_API bool WintunSetAdapterName(WINTUN_ADAPTER_HANDLE Adapter, const char *Name);

/**
 * Gets the adapter's GUID, as given to (or chosen by) WintunCreateAdapter.
 * Needs no privilege.
 * @Adapter: the handle.
 * @Guid: receives the GUID.
 * Returns true, or false with errno EINVAL (NULL argument).
 */
WINTUN_API bool WintunGetAdapterGUID(WINTUN_ADAPTER_HANDLE Adapter, WINTUN_GUID *Guid);

/* ---- Adapter configuration (Linux additions, netlink) ----
 *
 * These act on the device in its current network namespace (see
 * WintunSetAdapterNetns).  Each returns true, or false with errno: EINVAL
 * for a NULL handle or a malformed argument, EPERM without CAP_NET_ADMIN,
 * ENODEV when the device is gone, otherwise the error the kernel reported; a
 * line naming the operation, the device and the kernel's reason is logged.
 */

/** Size-prefixed adapter state for WintunGetAdapterInfo (can grow). */
typedef struct WINTUN_ADAPTER_INFO {
	uint32_t Size;    /**< set by the caller: sizeof(WINTUN_ADAPTER_INFO) */
	uint32_t IfIndex; /**< interface index in the device's namespace */
	uint32_t Mtu;     /**< MTU in bytes */
	uint32_t Flags;   /**< IFF_* flags as the kernel reports them */
	bool Up;          /**< administratively up (IFF_UP) */
	bool Running;     /**< operationally up (IFF_RUNNING) */
	char Name[WINTUN_MAX_ADAPTER_NAME]; /**< current device (interface) name,
					      never the Windows-style name */
} WINTUN_ADAPTER_INFO;

/**
 * Reads the adapter's interface index, MTU, flags and name.
 * @Adapter: the handle.
 * @Info: the caller sets Size to sizeof(WINTUN_ADAPTER_INFO) of the header
 * it was built with (at least this version's); at most Size bytes are
 * written, Size is set to the number written.  EINVAL if Size is too small.
 */
WINTUN_API bool WintunGetAdapterInfo(WINTUN_ADAPTER_HANDLE Adapter, WINTUN_ADAPTER_INFO *Info);

/** Brings the adapter up (@Up true) or down. */
WINTUN_API bool WintunSetAdapterUp(WINTUN_ADAPTER_HANDLE Adapter, bool Up);

/** Sets the MTU (the kernel accepts 68 to 65535 for TUN; EINVAL otherwise).
 * A running session follows the change. */
WINTUN_API bool WintunSetAdapterMtu(WINTUN_ADAPTER_HANDLE Adapter, uint32_t Mtu);

/** Returns the MTU, or 0 with errno (EINVAL, ENODEV, ...). */
WINTUN_API uint32_t WintunGetAdapterMtu(WINTUN_ADAPTER_HANDLE Adapter);

/**
 * Sets the largest GSO super-packet the kernel hands to the adapter
 * (IFLA_GSO_MAX_SIZE), for offload mode.  Kernels before 5.19 cannot change
 * it on an existing device: then EOPNOTSUPP.  Sizes above the device's TSO
 * limit (64 KiB for TUN): EINVAL.
 */
WINTUN_API bool WintunSetAdapterGsoMaxSize(WINTUN_ADAPTER_HANDLE Adapter, uint32_t Size);

/**
 * Adds an IP address to the adapter.
 * @AddressWithPrefix: "10.0.0.1/24" or "fd00::1/64"; without "/len" a host
 * address (/32, /128).  EEXIST if the address is already there.
 */
WINTUN_API bool WintunAddAdapterAddress(WINTUN_ADAPTER_HANDLE Adapter,
					const char *AddressWithPrefix);

/** Removes an address added with WintunAddAdapterAddress (same syntax);
 * EADDRNOTAVAIL if the adapter has no such address. */
WINTUN_API bool WintunRemoveAdapterAddress(WINTUN_ADAPTER_HANDLE Adapter,
					   const char *AddressWithPrefix);

/**
 * Adds a route through the adapter to the main table.
 * @Destination: "10.1.0.0/16", "fd01::/48", "0.0.0.0/0"; host bits must be
 * zero (the kernel says EINVAL otherwise).
 * @Gateway: the next hop, same family, or NULL for an on-link route.
 * @Metric: the route's priority (lower wins); 0 for the kernel default.
 * The device must be up (ENETDOWN otherwise); a gateway must be reachable
 * through one of the adapter's addresses (ENETUNREACH).  EEXIST if the route
 * exists.
 */
WINTUN_API bool WintunAddAdapterRoute(WINTUN_ADAPTER_HANDLE Adapter, const char *Destination,
				      const char *Gateway, uint32_t Metric);

/** Removes a route added with WintunAddAdapterRoute (same arguments);
 * ESRCH if there is no such route. */
WINTUN_API bool WintunRemoveAdapterRoute(WINTUN_ADAPTER_HANDLE Adapter, const char *Destination,
					 const char *Gateway, uint32_t Metric);

/**
 * Moves the adapter's device into another network namespace.  The device
 * loses its addresses and routes and goes down, as for any device.  The
 * handle and its sessions stay valid; later configuration calls act in the
 * new namespace.  Needs CAP_NET_ADMIN in both namespaces, and CAP_SYS_ADMIN
 * for later calls on the handle from outside that namespace.
 * @NetnsFd: a descriptor of the target namespace (/proc/<pid>/ns/net or a
 * bind mount of it as made by "ip netns add").  Not consumed.
 * EEXIST: the target already has a device with this name.
 */
WINTUN_API bool WintunSetAdapterNetns(WINTUN_ADAPTER_HANDLE Adapter, int NetnsFd);

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
 *              WintunWaitForPacket) and try again.  On the way the call has
 *              reset the read-wait event (as Windows resets an auto-reset
 *              event) and then armed the wake-up, so waiting right after it
 *              neither misses a packet nor wakes up at once for old ones;
 *   ESHUTDOWN  the session has ended;
 *   EBADMSG    the ring content is corrupt; the ring stays stopped.
 */
WINTUN_API uint8_t *WintunReceivePacket(WINTUN_SESSION_HANDLE Session, uint32_t *PacketSize);

/**
 * Releases a packet returned by WintunReceivePacket, handing its ring space
 * back to the engine.  Packets may be released in any order; space is
 * reclaimed in ring order.  An engine that stopped reading because the ring
 * was full sleeps until a release wakes it (a private event, not part of the
 * ring protocol), so a client that holds packets costs no CPU.  Thread-safe.
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
 * (poll, epoll) for POLLIN, then call WintunReceivePacket again.  It behaves
 * like Windows' auto-reset event: WintunReceivePacket resets it when it finds
 * the ring empty, so the Wintun README loop ported as is (wait on the event,
 * never read it) sleeps while the ring is idle.  Reading 8 bytes from it
 * yourself is harmless and loses no wake-up.  The end of the session is
 * sticky: from then on the library never resets the event, so every thread
 * polling it wakes up and sees ESHUTDOWN (as long as no thread reads the
 * event itself after the end).  The descriptor belongs to the session:
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
 * Before it sleeps it watches the ring for up to 5 us with the wake-up
 * disarmed: a packet that comes that soon is taken without a sleep, and the
 * engine has nobody to wake.  The spin adapts: the full 5 us after a spin
 * that found a packet, halved after one that did not, down to none; then one
 * wait in eight spins again to see whether it pays.  5 us is about what a
 * sleep and a wake-up cost, so the spin costs no more CPU than sleeping; a
 * session started with WINTUN_SESSION_SPIN spins up to SpinMicroseconds
 * instead (0: never), trading CPU for latency as the engine does.  A client that polls
 * WintunGetReadWaitEvent() itself can do the same: after WintunReceivePacket
 * fails with EAGAIN, call WintunIsPacketAvailable() for a few microseconds
 * (and stop doing so while it keeps finding nothing) before it polls; the
 * engine's signal for a packet found that way costs little, since no thread
 * sleeps on the event, and the next WintunReceivePacket that finds the ring
 * empty resets it.
 * @Session: the session.
 * @Milliseconds: the timeout; UINT32_MAX waits forever; 0 only checks (no
 * spin).
 * Returns true when a packet is ready.  Otherwise false with errno:
 *   ETIMEDOUT  nothing arrived in time;
 *   ESHUTDOWN  the session has ended (every thread waiting here returns,
 *              however many there are);
 *   EBADMSG    the ring content is corrupt;
 *   EINVAL     Session is NULL.
 */
WINTUN_API bool WintunWaitForPacket(WINTUN_SESSION_HANDLE Session, uint32_t Milliseconds);

/* ---- Batches (Linux addition): many packets per call, zero copy ---- */

/**
 * One packet of a batch call.  The batch calls fill Data (a pointer into a
 * ring, as WintunReceivePacket and WintunAllocateSendPacket return); Size is
 * the packet's length in bytes (set by the library on receive, by the caller
 * before an allocation).  Not the ring's record (that is WINTUN_RING_PACKET
 * in wintun/ring.h).
 */
typedef struct WINTUN_BATCH_PACKET {
	uint8_t *Data;
	uint32_t Size;
	uint32_t Reserved; /**< 0 */
} WINTUN_BATCH_PACKET;

/** Most packets in one bundle (Wintun 0.1's limit). */
#define WINTUN_MAX_BUNDLE_PACKETS 256

/**
 * Retrieves up to Count packets from the session's Send ring in one call:
 * WintunReceivePacket for many packets, with one lock.  Packets[0..n) receive
 * pointers into the ring, in ring order, each valid (and writable in place)
 * until released.  Only an empty ring at the start of the call resets the
 * read-wait event and arms the wake-up (as WintunReceivePacket's EAGAIN
 * does); a batch cut short by an empty ring returns what it has.
 * Thread-safe; may be mixed with the single-packet calls.
 * @Session: the session.
 * @Packets: room for Count descriptors.
 * @Count: at least 1.
 * Returns the number of packets (1..Count), or 0 with errno:
 *   EINVAL     Session or Packets is NULL, or Count is 0;
 *   EAGAIN     the ring is empty (wait as after WintunReceivePacket);
 *   ESHUTDOWN  the session has ended;
 *   EBADMSG    the ring content is corrupt; the ring stays stopped.
 * A session that ends or a corruption found after the first packet ends the
 * batch early; the next call reports it.
 */
WINTUN_API uint32_t WintunReceivePackets(WINTUN_SESSION_HANDLE Session, WINTUN_BATCH_PACKET *Packets,
					 uint32_t Count);

/**
 * Releases received packets (from WintunReceivePackets or
 * WintunReceivePacket), in any order and in any grouping, handing their ring
 * space back with one Head store and at most one wake-up of the engine.
 * Thread-safe.
 * @Session: the session.
 * @Packets: Count descriptors; only Data is read.
 * @Count: may be 0.
 * Packets that were not received on this session or were released already
 * are skipped: the others are released, and errno is set to EINVAL with a log
 * line naming the first bad index.  A NULL Session (or NULL Packets with a
 * non-zero Count) is ignored with errno EINVAL.
 */
WINTUN_API void WintunReleaseReceivePackets(WINTUN_SESSION_HANDLE Session,
					    const WINTUN_BATCH_PACKET *Packets, uint32_t Count);

/**
 * Allocates Receive ring space for Packets[0..Count), whose Size the caller
 * has set, and fills their Data: WintunAllocateSendPacket for many packets,
 * with one lock.  The allocation is a prefix, in order: when the ring fills,
 * fewer than Count are allocated and the rest are left untouched.
 * Allocation order is send order, across threads and across single-packet
 * calls.  Fill the packets, then call WintunSendPackets (or WintunSendPacket
 * for each).  Thread-safe.
 * @Session: the session.
 * @Packets: Count descriptors with Size 1..WINTUN_MAX_IP_PACKET_SIZE.
 * @Count: at least 1.
 * Returns how many packets were allocated (1..Count), or 0 with errno:
 *   EINVAL     Session or Packets is NULL, Count is 0, or a Size is out of
 *              range (nothing is allocated; the log names the index);
 *   ENOBUFS    the ring is full: not even Packets[0] fits;
 *   ESHUTDOWN  the session has ended;
 *   EBADMSG    the engine found the ring corrupt and stopped reading it.
 */
WINTUN_API uint32_t WintunAllocateSendPackets(WINTUN_SESSION_HANDLE Session,
					      WINTUN_BATCH_PACKET *Packets, uint32_t Count);

/**
 * Sends packets allocated with WintunAllocateSendPackets (or
 * WintunAllocateSendPacket), in any grouping: the packets reach the adapter
 * in allocation order, so this publishes every packet up to the first one
 * still unsent, with one Tail store and at most one wake-up of the engine.
 * Thread-safe.
 * @Session: the session.
 * @Packets: Count descriptors; only Data is read.
 * @Count: may be 0.
 * Packets that were not allocated on this session or were sent already are
 * skipped: the others are sent, and errno is set to EINVAL with a log line
 * naming the first bad index.  A NULL Session (or NULL Packets with a
 * non-zero Count) is ignored with errno EINVAL.
 */
WINTUN_API void WintunSendPackets(WINTUN_SESSION_HANDLE Session, const WINTUN_BATCH_PACKET *Packets,
				  uint32_t Count);

/* ---- Bundles: Wintun 0.1's ReadFile/WriteFile format (copy) ---- */

/*
 * A bundle is a run of records, one per packet: the packet's size (4 bytes,
 * native endian), 12 zero bytes, the packet (IPv4 or IPv6), then zero bytes
 * up to the next 16-byte boundary.  A record of an n-byte packet thus spans
 * (16 + n + 15) & ~15 bytes, and every record starts 16-byte aligned within
 * the bundle.  (The 0.1 README's diagram, followed here; its padding formula
 * "16-((4+size)&15)" cannot be meant literally, since it never lands the
 * next 16-byte header on a 16-byte boundary.)  At most
 * WINTUN_MAX_BUNDLE_PACKETS records.  Bundles carry plain IP packets, so a
 * session in offload mode refuses them (EINVAL).
 */

/**
 * Copies up to WINTUN_MAX_BUNDLE_PACKETS packets from the Send ring into
 * Buffer as a bundle, as many as fit, and releases them.  An empty ring
 * resets the read-wait event and arms the wake-up as WintunReceivePacket
 * does.  Thread-safe.
 * @Session: the session.
 * @Buffer: receives the bundle (any alignment).
 * @BufferSize: its size in bytes; 16 + WINTUN_MAX_IP_PACKET_SIZE rounded up
 * to 16 always holds at least one packet.
 * Returns the bundle's size in bytes (a multiple of 16), or 0 with errno:
 *   EINVAL     Session or Buffer is NULL, or an offload-mode session;
 *   EAGAIN     the ring is empty;
 *   ENOBUFS    BufferSize cannot hold even the first packet (it stays in
 *              the ring; logged with its size);
 *   ESHUTDOWN  the session has ended;
 *   EBADMSG    the ring content is corrupt.
 */
WINTUN_API uint32_t WintunReadBundle(WINTUN_SESSION_HANDLE Session, void *Buffer,
				     uint32_t BufferSize);

/**
 * Checks a whole bundle, then copies all its packets into the Receive ring
 * and sends them, in order, with one Tail store and at most one wake-up.
 * All or nothing: a bundle that fails a check, or does not fit in the ring's
 * free space, sends nothing.  Thread-safe.
 * @Session: the session.
 * @Buffer: the bundle (any alignment); may be NULL when Size is 0.
 * @Size: its size in bytes: exactly the sum of its records, the last one's
 * padding included.  0 sends nothing and succeeds.
 * Returns true, or false with errno:
 *   EINVAL     Session is NULL, an offload-mode session, or a malformed
 *              bundle: a record cut short by the end of the buffer, a size
 *              of 0 or above WINTUN_MAX_IP_PACKET_SIZE, non-zero header or
 *              padding bytes, a packet that is not IPv4 (>= 20 bytes) or
 *              IPv6 (>= 40 bytes), more than WINTUN_MAX_BUNDLE_PACKETS
 *              packets.  The log line names the offset of the fault;
 *   ENOBUFS    the ring has no room for the whole bundle now (retry later);
 *   ESHUTDOWN  the session has ended;
 *   EBADMSG    the engine found the ring corrupt and stopped reading it.
 */
WINTUN_API bool WintunWriteBundle(WINTUN_SESSION_HANDLE Session, const void *Buffer,
				  uint32_t Size);

/* ---- Sessions: starting and ending (Linux types, Wintun semantics) ---- */

/** Flags of WINTUN_SESSION_OPTIONS. */
#define WINTUN_SESSION_PIN_CPU 0x1u   /**< pin the engine thread to Cpu */
#define WINTUN_SESSION_NUMA_NODE 0x2u /**< place ring memory on NumaNode */
#define WINTUN_SESSION_HUGEPAGES 0x4u /**< back the rings with huge pages */
#define WINTUN_SESSION_SPIN 0x8u      /**< use SpinMicroseconds (default 10; 0 in
					 offload mode, see SpinMicroseconds) */
#define WINTUN_SESSION_RX_MULTISHOT 0x10u /**< RX with one multishot read fed by
					    provided buffers (kernel >= 6.7; otherwise the
					    default drain is used and the log says so) */
#define WINTUN_SESSION_OFFLOAD 0x20u /**< offload mode: records carry a virtio_net_hdr
					 and may be TCP/UDP super-packets (see ring.h) */
#define WINTUN_SESSION_COALESCE 0x40u /**< with WINTUN_SESSION_OFFLOAD: the engine merges
					  consecutive segments of a TCP flow, or datagrams of a
					  UDP flow, from the Receive ring into one super-packet
					  write (GRO), zero copy; each kind only where its
					  offload (TSO4/6, USO4/6) is on */
#define WINTUN_SESSION_EXTRA_QUEUE 0x80u /**< multi-queue: this session may join the
					     sessions already running through the same adapter
					     handle, on a TUN queue of its own (see "Multi-queue"
					     at WintunStartSessionEx) */
#define WINTUN_SESSION_FLAGS_ALL 0xFFu

/** Offloads of offload mode (WINTUN_SESSION_OPTIONS.Offloads; the kernel's TUN_F_* bits). */
#define WINTUN_OFFLOAD_CSUM 0x01u    /**< packets may carry a partial checksum */
#define WINTUN_OFFLOAD_TSO4 0x02u    /**< TCP/IPv4 super-packets */
#define WINTUN_OFFLOAD_TSO6 0x04u    /**< TCP/IPv6 super-packets */
#define WINTUN_OFFLOAD_TSO_ECN 0x08u /**< TSO with ECN */
#define WINTUN_OFFLOAD_USO4 0x20u    /**< UDP/IPv4 super-packets (kernel >= 6.2) */
#define WINTUN_OFFLOAD_USO6 0x40u    /**< UDP/IPv6 super-packets (kernel >= 6.2) */
#define WINTUN_OFFLOAD_ALL 0x6Fu

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
	uint32_t SpinMicroseconds; /**< with WINTUN_SESSION_SPIN: idle spin before sleeping,
					the longest: the engine spins only while spinning has
					lately paid (work came back within it in at least half
					of its last idle periods), else sleeps at once, probing
					one idle period in eight, and while the probes find
					nothing one in 16, 32, then 64.
					Default 10 us: it keeps the round trips of small packets
					short (the client's turn-around fits in it) and does not
					spin through the gaps of a paced stream, which cost more
					than the sleep they save;
					0 for an engine started in offload mode, where records
					come tens of us apart and the spin only takes a CPU from
					the client and the traffic (wintun-bench tso, client on
					the engine's CPU: 0.77x -> 0.92x the veth bound).  An
					engine shared by several sessions spins as the session
					that started it decided.
					It also sets the longest spin of this session's
					WintunWaitForPacket (default 5 us, about the CPU a sleep
					and a wake-up cost): 0 never spins, for the least CPU;
					30 makes small-packet round trips about 2x faster
					(wintun-bench pingpong p50 19.4 -> 8.4 us) at the cost of
					a client CPU that spins while packets come tens of us
					apart */
	uint32_t Offloads;         /**< with WINTUN_SESSION_OFFLOAD: the offloads to
					enable (WINTUN_OFFLOAD_*); 0: all the kernel has.  Each
					can be left out: kernels have shipped offload bugs */
	WINTUN_SESSION_HANDLE ShareEngineWith; /**< serve this session from that
					session's engine thread (one thread, one io_uring for
					both); NULL: a thread of its own */
} WINTUN_SESSION_OPTIONS;

/**
 * Starts a session on an adapter: allocates the two rings (each
 * sizeof(WINTUN_RING) + Capacity + 0x10000 bytes), attaches a queue of the
 * TUN device, and starts the engine thread that moves packets between the
 * device and the rings (named "wintun/<ifname>", pinned to one CPU, every
 * signal blocked so that process-directed signals never run the
 * application's handlers on it).
 * @Adapter: the adapter.
 * @Capacity: ring capacity, a power of two from WINTUN_MIN_RING_CAPACITY to
 * WINTUN_MAX_RING_CAPACITY.
 * Returns the session (end it with WintunEndSession), or NULL with errno:
 *   EINVAL  Adapter is NULL or Capacity is invalid;
 *   EBUSY   the adapter's device already has a session, through this or
 *           another handle, in this or another process (see "Adapters"; for
 *           several sessions per device see WintunStartSessionEx);
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
 * batch depth, idle spin, huge pages, sharing another session's engine, and
 * extra queues.
 * @Adapter: the adapter.
 * @Options: the options, or NULL for the defaults.
 * Errors: as WintunStartSession; EINVAL also for an unknown Size or flag, a
 * CPU that does not exist, BatchDepth above 256, a ShareEngineWith session
 * that has no engine, or an extra queue whose WINTUN_SESSION_OFFLOAD differs
 * from the running sessions'; E2BIG for a queue beyond the kernel's limit;
 * EBUSY also when the device's offload mode must change and another process
 * has the device open.  Within 2 s of a session's end on the same handle, an
 * EBUSY or E2BIG that the ended session's queue could cause is retried until
 * then: the kernel may release that queue only after WintunEndSession
 * returned.
 *
 * Multi-queue.  A Linux TUN device has up to 256 queues (MAX_TAP_QUEUES;
 * every open adapter handle keeps one detached queue, which counts).  Each
 * session is one queue with its own rings and engine.  Without
 * WINTUN_SESSION_EXTRA_QUEUE a start fails with EBUSY while the device has any
 * session (Wintun's rule).  With it, a start through the adapter handle whose
 * sessions run on the device joins them (through any other handle: EBUSY);
 * with no session running it starts the first one.  The sessions of such a
 * set are independent: each is ended by its own WintunEndSession, in any
 * order; ending one detaches its queue (the kernel then spreads its flows
 * over the others, which lose none of their packets), and only its own
 * waiters see ESHUTDOWN.  The device stays claimed until the set's last
 * session ends.  All sessions of a set share the offload mode (TUN flags are
 * per device).  An extra session's engine runs, unless Cpu or
 * ShareEngineWith say otherwise, on the allowed CPU with the fewest engines of
 * the set, and its rings are on that CPU's NUMA node; with more queues than
 * CPUs, ShareEngineWith serves several queues from one thread.
 * Which session gets a packet:
 *   to the client (kernel -> ring): the kernel's choice, tun_select_queue:
 *   a flow (by its symmetric flow hash) goes to the queue that last wrote a
 *   packet of that flow (automatic flow steering; entries age out after
 *   about 3 s), else to the queue the hash maps to (hash scaled to the number
 *   of queues).  So one flow stays on one session, in order, while the
 *   number of queues is unchanged; when a session ends or starts, flows are
 *   re-spread, and a flow can move once to another session.  The kernel
 *   notes the writing queue only after the written packet went up the
 *   stack, so the reply to a flow's first packet on a new queue may still
 *   come out of the old one.  Hash steering is even only on average (two
 *   flows share a queue half of the time).  WintunSetAdapterSteeringProgram
 *   replaces this choice with a program of the caller's.
 *   to the kernel (ring -> kernel): the session (queue) the client sends the
 *   packet on; a flow should be sent on one session to keep its order.
 */
WINTUN_API WINTUN_SESSION_HANDLE WintunStartSessionEx(WINTUN_ADAPTER_HANDLE Adapter,
						       const WINTUN_SESSION_OPTIONS *Options);

/**
 * Multi-queue (Linux extension): lets a caller's eBPF program pick the
 * session of each packet the kernel sends into the adapter, instead of the
 * automatic flow steering described at WintunStartSessionEx
 * (TUNSETSTEERINGEBPF).  The program is a loaded BPF_PROG_TYPE_SOCKET_FILTER
 * (libbpf or bpf(2): the caller's business); for each packet it returns a
 * number (its low 16 bits count), and the packet goes to queue
 * (number % queues), where the queues
 * are numbered in the order their sessions started, closing the gap when one
 * ends (the last one takes the ended one's number).  It holds for the whole
 * device, every handle and session, until replaced or removed, or the device
 * goes; while it is set, the kernel does not learn writing queues.
 * @Adapter: the adapter.
 * @ProgramFd: the program's fd (the kernel takes its own reference), or -1 to
 * remove the program and go back to the automatic steering.
 * Returns true, or false with errno: EINVAL for a NULL Adapter or an fd that
 * is not such a program (logged), EPERM without CAP_NET_ADMIN, or the
 * errno of the ioctl (logged).  Thread-safe.
 */
WINTUN_API bool WintunSetAdapterSteeringProgram(WINTUN_ADAPTER_HANDLE Adapter, int ProgramFd);

/**
 * Registers a client's own rings on an adapter (Wintun's
 * TUN_IOCTL_REGISTER_RINGS): the client allocated both rings (same capacity,
 * 4-byte aligned, not overlapping) and two eventfds, and drives the protocol
 * of <wintun/ring.h> itself.  An engine thread serves them as for
 * WintunStartSession (which is built on the same path).  The memory and the
 * eventfds stay the client's and must outlive the session.  As in Wintun, no
 * event tells the engine that the client freed Send ring space: with that
 * ring full, the engine looks at Send.Head again every 40 ms (25 times a
 * second) until there is room.
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
 * sentinel (Send.Tail = 0xFFFFFFFF) and signals the read-wait event, which
 * then stays readable: every thread blocked in WintunWaitForPacket returns
 * false with ESHUTDOWN, and every poller of the event wakes up.  Waits
 * (without spinning) until the threads inside WintunWaitForPacket have
 * returned, then frees the rings, the queue and the handle.  No other call may use the
 * handle once this returns; a thread polling the read-wait event itself must
 * stop using the handle when it wakes.
 * @Session: the session; NULL is ignored (errno EINVAL, logged).
 */
WINTUN_API void WintunEndSession(WINTUN_SESSION_HANDLE Session);

/** Counters of one direction. */
typedef struct WINTUN_DIRECTION_STATISTICS {
	uint64_t Packets;        /**< packets delivered */
	uint64_t Bytes;          /**< bytes delivered (IP packets) */
	uint64_t DropRingFull;   /**< RX: packets dropped for lack of ring space.  With
				      the Send ring full the engine stops reading and
				      the kernel drops from the TUN queue: this is the
				      device's tx_dropped over those episodes (see
				      RxRingFullEpisodes), added when one ends (the
				      engine sleeps while the ring is full, so the
				      count catches up once the client releases
				      space; for raw rings also at its slow retries).
				      Device-wide: on a multi-queue
				      adapter another queue's drops count here too */
	uint64_t DropTruncated;  /**< RX: packets larger than the slot (MTU grew) */
	uint64_t DropNonIp;      /**< TX: records that are not IPv4/IPv6 packets */
	uint64_t DropBogus;      /**< TX: bogus records (the ring was stopped) */
	uint64_t DropWriteError; /**< TX: packets the kernel refused (EIO while the
				      link is down, ...): dropped, the session goes
				      on; only a deleted device ends it */
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
	uint32_t Offloads;               /**< offloads on (WINTUN_OFFLOAD_*); 0: not
					      in offload mode */
	uint32_t Reserved2;
	uint64_t Features;               /**< what the engine runs with for this
					      session: WINTUN_FEATURE_* bits */
	uint64_t RxRingFullEpisodes;     /**< times RX stopped reading because the Send
					      ring was full (until the client released
					      space); what DropRingFull counted before.
					      An episode is counted once its drop
					      baseline is read: every drop after it
					      shows in DropRingFull */
} WINTUN_SESSION_STATISTICS;

/*
 * Kernel features the engine uses where the kernel has them (Linux
 * extension), with the version that brought each and the fallback taken
 * before it.  The minimum kernel is 6.1; every feature newer than that is
 * probed at run time.  The environment variable WINTUN_DISABLE_FEATURES
 * (comma-separated names, as WintunGetFeatureName gives them) keeps the
 * engine from using the named features, to run a fallback on a newer kernel
 * or to avoid a kernel bug.
 */
#define WINTUN_FEATURE_SINGLE_ISSUER  (1ull << 0) /**< io_uring SINGLE_ISSUER (6.0) */
#define WINTUN_FEATURE_DEFER_TASKRUN  (1ull << 1) /**< DEFER_TASKRUN (6.1); else COOP_TASKRUN */
#define WINTUN_FEATURE_COOP_TASKRUN   (1ull << 2) /**< COOP_TASKRUN (5.19); else none */
#define WINTUN_FEATURE_TASKRUN_FLAG   (1ull << 3) /**< TASKRUN_FLAG (5.19); else the
						       idle spin enters to look */
#define WINTUN_FEATURE_RING_FD        (1ull << 4) /**< registered ring fd (5.18) */
#define WINTUN_FEATURE_FIXED_FILES    (1ull << 5) /**< registered TUN fd (sparse
						       tables, 5.19; only where the kernel
						       releases a deregistered file at
						       once, not 6.1); else plain fds */
#define WINTUN_FEATURE_FIXED_BUFFERS  (1ull << 6) /**< rings as fixed buffers (5.19,
						       RLIMIT_MEMLOCK); else plain
						       READ/WRITE on the same memory */
#define WINTUN_FEATURE_NOWAIT_READS   (1ull << 7) /**< TUN reads with RWF_NOWAIT in
						       io_uring (6.4); else read(2)
						       from the engine thread */
#define WINTUN_FEATURE_READ_MULTISHOT (1ull << 8) /**< IORING_OP_READ_MULTISHOT (6.7) */
#define WINTUN_FEATURE_RX_MULTISHOT   (1ull << 9) /**< this session reads with it
						       (WINTUN_SESSION_RX_MULTISHOT) */
#define WINTUN_FEATURE_RX_COMPACT     (1ull << 10) /**< any kernel, not a kernel
						       feature: RX moves each packet's
						       record next to the previous
						       one, so a small packet takes
						       align4(4 + length) bytes of
						       the Send ring, not an MTU
						       slot; off: today's MTU slots
						       with pads (to compare).  Not
						       with RX_MULTISHOT */

/**
 * The name of one WINTUN_FEATURE_* bit ("nowait-reads"), for logs and
 * WINTUN_DISABLE_FEATURES (Linux extension).  Thread-safe.
 * @Feature: exactly one WINTUN_FEATURE_* bit.
 * Returns a static string, or NULL with errno EINVAL (not one known bit,
 * logged).
 */
WINTUN_API const char *WintunGetFeatureName(uint64_t Feature);

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

/* ---- Offload mode helpers ---- */

/**
 * Splits an offload-mode record into plain, MTU-sized IP packets (GSO in
 * software), for a client that must handle every packet (a VPN encrypting
 * per packet).  TCP: sequence numbers, FIN/PSH on the last packet only, CWR
 * on the first only; IPv4 total length, ID (incremented) and header
 * checksum; IPv6 payload length; UDP length; transport checksums computed.
 * A record that is not a super-packet gives one packet (its partial checksum
 * completed if the header asks for it).  Thread-safe (no shared state).
 * @Record: the record data as WintunReceivePacket returned it on an
 * offload-mode session (virtio_net_hdr, then the packet).
 * @RecordSize: its size.
 * @Buffer: where the packets are written, one after the other.
 * @BufferSize: its size.
 * @PacketSizes: receives each packet's size.
 * @MaxPackets: the length of PacketSizes.
 * Returns the number of packets, or 0 with errno EINVAL (a NULL argument, or
 * a malformed header or packet: logged) or ENOBUFS (Buffer or PacketSizes too
 * small).
 */
WINTUN_API uint32_t WintunSplitPacket(const uint8_t *Record, uint32_t RecordSize, uint8_t *Buffer,
				      uint32_t BufferSize, uint32_t *PacketSizes,
				      uint32_t MaxPackets);

/**
 * Splits an offload-mode record straight into another session's Receive
 * ring: one WintunAllocateSendPacket/WintunSendPacket per packet, no
 * intermediate copy; up to 64 packets are published at once, so that an
 * engine with WINTUN_SESSION_COALESCE can merge them again.  If that session is in offload mode too, each packet
 * gets a zero virtio_net_hdr (no offload).
 * @Record, @RecordSize: as for WintunSplitPacket.
 * @Session: the session whose Receive ring gets the packets.
 * Returns the number of packets sent, or 0 with errno EINVAL (as for
 * WintunSplitPacket), ENOBUFS (the ring filled up: the packets before were
 * sent), ESHUTDOWN or EBADMSG (as WintunAllocateSendPacket).
 */
WINTUN_API uint32_t WintunSplitPacketToSession(const uint8_t *Record, uint32_t RecordSize,
					       WINTUN_SESSION_HANDLE Session);

#ifdef __cplusplus
}
#endif

#endif /* WINTUN_H */
