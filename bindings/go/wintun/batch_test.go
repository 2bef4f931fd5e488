// SPDX-License-Identifier: MIT

package wintun

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

func TestBatchBothWays(t *testing.T) {
	inPrivateNetns(t)
	a, s := upSession(t, "wtgo3", "10.9.3.1/24")
	defer a.Close()
	defer s.End()
	defer time.AfterFunc(hangGuard, func() { s.End() }).Stop()
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 9, 3, 1), Port: 4000})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()

	// OS -> client: three datagrams, read in batches, in order.
	for port := 5001; port <= 5003; port++ {
		sock.WriteToUDP([]byte("out"), &net.UDPAddr{IP: net.IPv4(10, 9, 3, 2), Port: port})
	}
	next := 5001
	batch := make([][]byte, 8)
	for next <= 5003 {
		n, err := s.ReadPackets(batch)
		if err != nil {
			t.Fatalf("ReadPackets: %v", err)
		}
		for _, p := range batch[:n] {
			if len(p) >= 28 && p[0]>>4 == 4 && p[9] == syscall.IPPROTO_UDP &&
				int(binary.BigEndian.Uint16(p[22:])) == next {
				next++
			}
		}
		s.ReleaseReceivePackets(batch[:n])
	}

	// client -> OS: three datagrams allocated and sent in one batch.
	var sizes []int
	var pkts [][]byte
	for i := 0; i < 3; i++ {
		p := udp4(net.IPv4(10, 9, 3, 2), net.IPv4(10, 9, 3, 1), 5000, 4000, []byte{'a' + byte(i)})
		pkts, sizes = append(pkts, p), append(sizes, len(p))
	}
	bufs := make([][]byte, 3)
	if n, err := s.AllocateSendPackets(sizes, bufs); n != 3 || err != nil {
		t.Fatalf("AllocateSendPackets: %d, %v", n, err)
	}
	for i := range bufs {
		copy(bufs[i], pkts[i])
	}
	s.SendPackets(bufs)
	sock.SetReadDeadline(time.Now().Add(hangGuard))
	for i := 0; i < 3; i++ {
		got := make([]byte, 10)
		n, err := sock.Read(got)
		if err != nil || n != 1 || got[0] != 'a'+byte(i) {
			t.Fatalf("datagram %d: %q, %v", i, got[:n], err)
		}
	}

	if _, err := s.ReceivePackets(nil); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("ReceivePackets(nil): %v, want EINVAL", err)
	}
	s.End()
	if _, err := s.ReceivePackets(batch); !errors.Is(err, syscall.ESHUTDOWN) {
		t.Fatalf("ReceivePackets after End: %v, want ESHUTDOWN", err)
	}
}
