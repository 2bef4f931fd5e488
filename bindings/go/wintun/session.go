// SPDX-License-Identifier: MIT

package wintun

/*
#include <wintun.h>
*/
import "C"

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Session is a running session: two rings and the engine thread serving
// them.  Every method is safe to call from several goroutines, End included:
// End first wakes the goroutines waiting in ReadPacket, then waits for every
// call in progress to return before it frees the rings.
type Session struct {
	h C.WINTUN_SESSION_HANDLE
	// mu is held shared by every call that uses h and exclusively by End,
	// so that h is never used after WintunEndSession freed it.
	mu     sync.RWMutex
	ending atomic.Bool
	// wait is a duplicate of the read-wait eventfd, registered with the Go
	// poller; End closes it to wake the waiters before taking mu.
	wait *os.File
	rc   syscall.RawConn
}

// Flags of SessionOptions (WINTUN_SESSION_*).
const (
	SessionPinCPU      = C.WINTUN_SESSION_PIN_CPU
	SessionNumaNode    = C.WINTUN_SESSION_NUMA_NODE
	SessionHugePages   = C.WINTUN_SESSION_HUGEPAGES
	SessionSpin        = C.WINTUN_SESSION_SPIN
	SessionRxMultishot = C.WINTUN_SESSION_RX_MULTISHOT
	SessionOffload     = C.WINTUN_SESSION_OFFLOAD
	SessionCoalesce    = C.WINTUN_SESSION_COALESCE
)

// SessionOptions are WINTUN_SESSION_OPTIONS' fields; zero means "default".
type SessionOptions struct {
	Flags            uint32 // WINTUN_SESSION_* bits
	Capacity         uint32 // ring capacity, a power of two; 0: 4 MiB
	Cpu              int32  // with WINTUN_SESSION_PIN_CPU
	NumaNode         int32  // with WINTUN_SESSION_NUMA_NODE
	BatchDepth       uint32 // TUN reads per batch, 1..256; 0: 64
	SpinMicroseconds uint32 // with WINTUN_SESSION_SPIN
	Offloads         uint32 // with WINTUN_SESSION_OFFLOAD
}

// StartSession starts a session with rings of the given capacity, a power of
// two from 128 KiB to 64 MiB (WintunStartSession).
func (a *Adapter) StartSession(capacity uint32) (*Session, error) {
	h, err := C.WintunStartSession(a.h, C.uint32_t(capacity))
	if h == nil {
		return nil, wrap("WintunStartSession", err)
	}
	return newSession(h)
}

// StartSessionEx starts a session with options (WintunStartSessionEx); nil
// options are the defaults.
func (a *Adapter) StartSessionEx(o *SessionOptions) (*Session, error) {
	var copts *C.WINTUN_SESSION_OPTIONS
	if o != nil {
		copts = &C.WINTUN_SESSION_OPTIONS{
			Size: C.uint32_t(unsafe.Sizeof(C.WINTUN_SESSION_OPTIONS{})), Flags: C.uint32_t(o.Flags),
			Capacity: C.uint32_t(o.Capacity), Cpu: C.int32_t(o.Cpu), NumaNode: C.int32_t(o.NumaNode),
			BatchDepth: C.uint32_t(o.BatchDepth), SpinMicroseconds: C.uint32_t(o.SpinMicroseconds),
			Offloads: C.uint32_t(o.Offloads),
		}
	}
	h, err := C.WintunStartSessionEx(a.h, copts)
	if h == nil {
		return nil, wrap("WintunStartSessionEx", err)
	}
	return newSession(h)
}

func newSession(h C.WINTUN_SESSION_HANDLE) (*Session, error) {
	f, err := pollableEvent(int(C.WintunGetReadWaitEvent(h)))
	if err != nil {
		C.WintunEndSession(h)
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		C.WintunEndSession(h)
		return nil, err
	}
	return &Session{h: h, wait: f, rc: rc}, nil
}

// pollableEvent duplicates the session's eventfd (the session keeps its
// own) into a file the Go poller watches: the duplicate shares the
// non-blocking flag, which is what makes os.NewFile register it.
func pollableEvent(fd int) (*os.File, error) {
	dup, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return nil, &Error{Op: "fcntl(F_DUPFD_CLOEXEC) of the read-wait event", Errno: errno}
	}
	return os.NewFile(dup, "wintun-read-wait"), nil
}

// End ends the session (WintunEndSession).  Goroutines blocked in ReadPacket
// return an error wrapping ESHUTDOWN; packets still held from ReceivePacket
// or AllocateSendPacket must not be touched afterwards.  A second End does
// nothing.
func (s *Session) End() error {
	if s.ending.Swap(true) {
		return nil
	}
	s.wait.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	C.WintunEndSession(s.h)
	s.h = nil
	return nil
}

// ReadWaitEvent returns the session's own read-wait eventfd, for a caller
// that polls it itself; it belongs to the session (do not close it).
func (s *Session) ReadWaitEvent() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() {
		return -1
	}
	return int(C.WintunGetReadWaitEvent(s.h))
}
