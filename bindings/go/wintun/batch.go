// SPDX-License-Identifier: MIT

package wintun

/*
#include <wintun.h>
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// The batch calls take the library's WINTUN_BATCH_PACKET descriptors in memory
// of ours; they hold pointers into the rings only (C memory), which cgo
// allows in Go memory handed to C.

func descriptors(packets [][]byte) []C.WINTUN_BATCH_PACKET {
	d := make([]C.WINTUN_BATCH_PACKET, len(packets))
	for i, p := range packets {
		if len(p) > 0 {
			d[i].Data = (*C.uint8_t)(unsafe.Pointer(&p[0]))
			d[i].Size = C.uint32_t(len(p))
		}
	}
	return d
}

func fromDescriptors(packets [][]byte, d []C.WINTUN_BATCH_PACKET) {
	for i := range d {
		packets[i] = unsafe.Slice((*byte)(unsafe.Pointer(d[i].Data)), int(d[i].Size))
	}
}

// ReceivePackets takes up to len(packets) packets at once
// (WintunReceivePackets), without waiting: packets[:n] then point into the
// ring, in ring order, until released.  An empty ring is an error wrapping
// EAGAIN.
func (s *Session) ReceivePackets(packets [][]byte) (int, error) {
	if len(packets) == 0 {
		return 0, &Error{Op: "WintunReceivePackets", Errno: syscall.EINVAL}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() {
		return 0, ended("WintunReceivePackets")
	}
	return s.receiveBatch(packets, make([]C.WINTUN_BATCH_PACKET, len(packets)))
}

// ReadPackets is ReceivePackets that waits in the Go poller while the ring
// is empty, as ReadPacket does.
func (s *Session) ReadPackets(packets [][]byte) (int, error) {
	if len(packets) == 0 {
		return 0, &Error{Op: "WintunReceivePackets", Errno: syscall.EINVAL}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() {
		return 0, ended("WintunReceivePackets")
	}
	d := make([]C.WINTUN_BATCH_PACKET, len(packets))
	n, err := s.receiveBatch(packets, d)
	if !isEmpty(err) {
		return n, err
	}
	// As in ReadPacket: the empty ring re-armed the wake-up just before.
	werr := s.rc.Read(func(uintptr) bool {
		n, err = s.receiveBatch(packets, d)
		return !isEmpty(err)
	})
	if werr != nil {
		return 0, ended("WintunReceivePackets")
	}
	return n, err
}

// receiveBatch is one WintunReceivePackets; the caller holds mu shared.
func (s *Session) receiveBatch(packets [][]byte, d []C.WINTUN_BATCH_PACKET) (int, error) {
	n, err := C.WintunReceivePackets(s.h, &d[0], C.uint32_t(len(d)))
	if n == 0 {
		return 0, wrap("WintunReceivePackets", err)
	}
	fromDescriptors(packets, d[:n])
	return int(n), nil
}

// ReleaseReceivePackets hands received packets back at once
// (WintunReleaseReceivePackets).
func (s *Session) ReleaseReceivePackets(packets [][]byte) {
	s.onDescriptors(packets, func(d *C.WINTUN_BATCH_PACKET, n C.uint32_t) {
		C.WintunReleaseReceivePackets(s.h, d, n)
	})
}

// onDescriptors runs call on packets' batch descriptors, unless there are
// none or the session is ending (then the ring is no longer the caller's).
func (s *Session) onDescriptors(packets [][]byte, call func(*C.WINTUN_BATCH_PACKET, C.uint32_t)) {
	if len(packets) == 0 {
		return
	}
	d := descriptors(packets)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() {
		return
	}
	call(&d[0], C.uint32_t(len(d)))
}

// AllocateSendPackets reserves ring space for len(sizes) packets at once
// (WintunAllocateSendPackets) and sets packets[i] to the i-th buffer.  The
// allocation is a prefix: n < len(sizes) when the ring filled; a full ring
// from the start is an error wrapping ENOBUFS.  packets must be at least as
// long as sizes.
func (s *Session) AllocateSendPackets(sizes []int, packets [][]byte) (int, error) {
	if len(sizes) == 0 || len(packets) < len(sizes) {
		return 0, &Error{Op: "WintunAllocateSendPackets", Errno: syscall.EINVAL}
	}
	d := make([]C.WINTUN_BATCH_PACKET, len(sizes))
	for i, size := range sizes {
		if size <= 0 || size > C.WINTUN_MAX_IP_PACKET_SIZE {
			return 0, &Error{Op: "WintunAllocateSendPackets", Errno: syscall.EINVAL}
		}
		d[i].Size = C.uint32_t(size)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() {
		return 0, ended("WintunAllocateSendPackets")
	}
	n, err := C.WintunAllocateSendPackets(s.h, &d[0], C.uint32_t(len(d)))
	if n == 0 {
		return 0, wrap("WintunAllocateSendPackets", err)
	}
	fromDescriptors(packets, d[:n])
	return int(n), nil
}

// SendPackets publishes allocated packets at once, with one wake-up of the
// engine at most (WintunSendPackets).
func (s *Session) SendPackets(packets [][]byte) {
	s.onDescriptors(packets, func(d *C.WINTUN_BATCH_PACKET, n C.uint32_t) {
		C.WintunSendPackets(s.h, d, n)
	})
}
