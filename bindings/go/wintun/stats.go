// SPDX-License-Identifier: MIT

package wintun

/*
#include <wintun.h>
*/
import "C"

import "unsafe"

// DirectionStatistics are one direction's counters (see wintun.h).
type DirectionStatistics struct {
	Packets, Bytes                              uint64
	DropRingFull, DropTruncated, DropNonIp      uint64
	DropBogus, DropWriteError, Batches, Wakeups uint64
}

// Statistics are a session's counters: Rx is TUN to Send ring, Tx is
// Receive ring to TUN.
type Statistics struct {
	Rx, Tx            DirectionStatistics
	IoUringEnterCalls uint64
	EngineCpu         int32
	EngineThreadId    int32
}

func direction(d *C.WINTUN_DIRECTION_STATISTICS) DirectionStatistics {
	return DirectionStatistics{
		Packets: uint64(d.Packets), Bytes: uint64(d.Bytes),
		DropRingFull: uint64(d.DropRingFull), DropTruncated: uint64(d.DropTruncated),
		DropNonIp: uint64(d.DropNonIp), DropBogus: uint64(d.DropBogus),
		DropWriteError: uint64(d.DropWriteError), Batches: uint64(d.Batches), Wakeups: uint64(d.Wakeups),
	}
}

// Statistics reads the session's counters (WintunGetSessionStatistics).
func (s *Session) Statistics() (Statistics, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ending.Load() {
		return Statistics{}, ended("WintunGetSessionStatistics")
	}
	st := C.WINTUN_SESSION_STATISTICS{Size: C.uint32_t(unsafe.Sizeof(C.WINTUN_SESSION_STATISTICS{}))}
	if ok, err := C.WintunGetSessionStatistics(s.h, &st); !ok {
		return Statistics{}, wrap("WintunGetSessionStatistics", err)
	}
	return Statistics{Rx: direction(&st.Rx), Tx: direction(&st.Tx),
		IoUringEnterCalls: uint64(st.IoUringEnterCalls), EngineCpu: int32(st.EngineCpu),
		EngineThreadId: int32(st.EngineThreadId)}, nil
}
