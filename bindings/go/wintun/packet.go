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

// ReceivePacket takes the next packet the OS sent out of the adapter, without
// waiting (WintunReceivePacket).  The slice points into the ring: it stays
// valid, and may be modified, until ReleaseReceivePacket.  An empty ring is
// an error wrapping syscall.EAGAIN; an ended session wraps ESHUTDOWN.
func (s *Session) ReceivePacket() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() {
		return nil, ended("WintunReceivePacket")
	}
	return s.receive()
}

// ReadPacket is ReceivePacket that waits while the ring is empty.  The wait
// parks the goroutine in the Go runtime's poller on the read-wait event, so
// an idle session holds no OS thread.  End wakes it (ESHUTDOWN).
func (s *Session) ReadPacket() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() {
		return nil, ended("WintunReceivePacket")
	}
	pkt, err := s.receive()
	if !isEmpty(err) {
		return pkt, err
	}
	// WintunReceivePacket resets the event and arms the wake-up when it finds
	// the ring empty, so the callback returning false right after it cannot
	// sleep through a packet: the poller's edge comes after the re-arm.
	werr := s.rc.Read(func(uintptr) bool {
		pkt, err = s.receive()
		return !isEmpty(err)
	})
	if werr != nil { // End closed the event file under us
		return nil, ended("WintunReceivePacket")
	}
	return pkt, err
}

// receive is one WintunReceivePacket; the caller holds mu shared.
func (s *Session) receive() ([]byte, error) {
	var size C.uint32_t
	p, err := C.WintunReceivePacket(s.h, &size)
	if p == nil {
		return nil, wrap("WintunReceivePacket", err)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(size)), nil
}

func isEmpty(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Errno == syscall.EAGAIN
}

// ReleaseReceivePacket hands a packet from ReceivePacket or ReadPacket back
// to the engine (WintunReleaseReceivePacket).
func (s *Session) ReleaseReceivePacket(packet []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() || len(packet) == 0 {
		return
	}
	C.WintunReleaseReceivePacket(s.h, (*C.uint8_t)(unsafe.Pointer(&packet[0])))
}

// AllocateSendPacket reserves size bytes in the Receive ring for a packet to
// the OS (WintunAllocateSendPacket).  Fill the slice, then SendPacket it.  A
// full ring is an error wrapping syscall.ENOBUFS.
func (s *Session) AllocateSendPacket(size int) ([]byte, error) {
	if size <= 0 || size > C.WINTUN_MAX_IP_PACKET_SIZE {
		return nil, &Error{Op: "WintunAllocateSendPacket", Errno: syscall.EINVAL}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() {
		return nil, ended("WintunAllocateSendPacket")
	}
	p, err := C.WintunAllocateSendPacket(s.h, C.uint32_t(size))
	if p == nil {
		return nil, wrap("WintunAllocateSendPacket", err)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), size), nil
}

// SendPacket publishes a packet from AllocateSendPacket (WintunSendPacket).
func (s *Session) SendPacket(packet []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() || len(packet) == 0 {
		return
	}
	C.WintunSendPacket(s.h, (*C.uint8_t)(unsafe.Pointer(&packet[0])))
}
