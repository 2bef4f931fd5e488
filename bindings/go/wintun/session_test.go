// SPDX-License-Identifier: MIT

package wintun

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"
)

// hangGuard ends the session if the test is still running after a generous
// time, so that a lost wake-up fails the test instead of hanging it.
const hangGuard = 60 * time.Second

func upSession(t *testing.T, name, addr string) (*Adapter, *Session) {
	t.Helper()
	a, err := CreateAdapter(name, "GoTest", nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.StartSession(1 << 20)
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	if addr != "" {
		if err := a.AddAddress(addr); err != nil {
			t.Fatal(err)
		}
		if err := a.SetUp(true); err != nil {
			t.Fatal(err)
		}
	}
	return a, s
}

func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum>>16 != 0 {
		sum = sum&0xFFFF + sum>>16
	}
	return ^uint16(sum)
}

// udp4 builds an IPv4/UDP packet (UDP checksum 0: none, allowed over IPv4).
func udp4(src, dst net.IP, sport, dport uint16, payload []byte) []byte {
	p := make([]byte, 28+len(payload))
	p[0], p[8], p[9] = 0x45, 64, syscall.IPPROTO_UDP
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	copy(p[12:], src.To4())
	copy(p[16:], dst.To4())
	binary.BigEndian.PutUint16(p[10:], checksum(p[:20]))
	binary.BigEndian.PutUint16(p[20:], sport)
	binary.BigEndian.PutUint16(p[22:], dport)
	binary.BigEndian.PutUint16(p[24:], uint16(8+len(payload)))
	copy(p[28:], payload)
	return p
}

func TestPacketBothWays(t *testing.T) {
	inPrivateNetns(t)
	a, s := upSession(t, "wtgo1", "10.9.0.1/24")
	defer a.Close()
	defer s.End()
	defer time.AfterFunc(hangGuard, func() { s.End() }).Stop()

	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 9, 0, 1), Port: 4000})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()

	// OS -> client: a datagram to the peer side of the adapter comes out of
	// the Send ring.
	out := []byte("out of the adapter")
	if _, err := sock.WriteToUDP(out, &net.UDPAddr{IP: net.IPv4(10, 9, 0, 2), Port: 5000}); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := s.ReadPacket()
		if err != nil {
			t.Fatalf("ReadPacket: %v", err)
		}
		found := len(p) >= 28 && p[0]>>4 == 4 && p[9] == syscall.IPPROTO_UDP &&
			binary.BigEndian.Uint16(p[22:]) == 5000 && bytes.Equal(p[28:], out)
		s.ReleaseReceivePacket(p)
		if found {
			break
		}
	}

	// client -> OS: a datagram written into the Receive ring reaches the socket.
	in := []byte("into the adapter")
	pkt := udp4(net.IPv4(10, 9, 0, 2), net.IPv4(10, 9, 0, 1), 5000, 4000, in)
	buf, err := s.AllocateSendPacket(len(pkt))
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, pkt)
	s.SendPacket(buf)
	sock.SetReadDeadline(time.Now().Add(hangGuard))
	got := make([]byte, 100)
	n, from, err := sock.ReadFromUDP(got)
	if err != nil || !bytes.Equal(got[:n], in) || from.Port != 5000 {
		t.Fatalf("socket got %q from %v, %v; want %q", got[:n], from, err, in)
	}
	// The engine counts a write when it reaps its completion, which may come
	// after the socket already has the datagram.
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(time.Millisecond) {
		st, err := s.Statistics()
		if err == nil && st.Tx.Packets == 1 && st.Rx.Packets > 0 {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("statistics %+v, %v", st, err)
		}
	}
}

func TestEndWhileReaderWaits(t *testing.T) {
	inPrivateNetns(t)
	a, s := upSession(t, "wtgo2", "")
	defer a.Close()
	done := make(chan error)
	go func() {
		_, err := s.ReadPacket()
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("ReadPacket returned on an idle session: %v", err)
	case <-time.After(200 * time.Millisecond): // let the reader reach its wait
	}
	s.End()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.ESHUTDOWN) {
			t.Fatalf("waiting ReadPacket after End: %v, want ESHUTDOWN", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("ReadPacket still waits after End")
	}
	if _, err := s.ReceivePacket(); !errors.Is(err, syscall.ESHUTDOWN) {
		t.Fatalf("ReceivePacket after End: %v, want ESHUTDOWN", err)
	}
	if _, err := s.AllocateSendPacket(20); !errors.Is(err, syscall.ESHUTDOWN) {
		t.Fatalf("AllocateSendPacket after End: %v, want ESHUTDOWN", err)
	}
	s.End() // a second End does nothing
}

// Idle readers wait in the Go poller: they must not each hold an OS thread,
// as a blocking wait in C (WintunWaitForPacket) would make the runtime start
// one thread per waiting goroutine.
func TestIdleReadersHoldNoThread(t *testing.T) {
	inPrivateNetns(t)
	const readers = 8
	var sessions []*Session
	done := make(chan error, readers)
	threads := pprof.Lookup("threadcreate").Count()
	for i := 0; i < readers; i++ {
		a, s := upSession(t, "wtgoidle"+string(rune('0'+i)), "")
		defer a.Close()
		sessions = append(sessions, s)
		go func() {
			_, err := s.ReadPacket()
			done <- err
		}()
	}
	time.Sleep(500 * time.Millisecond) // let the readers reach their wait
	// Checked before End: closing the adapters (deferred) still wakes
	// readers blocked in C, ending ours would wait for them.
	if grew := pprof.Lookup("threadcreate").Count() - threads; grew >= readers/2 {
		t.Fatalf("%d idle readers made the runtime start %d threads", readers, grew)
	}
	for _, s := range sessions {
		s.End()
	}
	for i := 0; i < readers; i++ {
		if err := <-done; !errors.Is(err, syscall.ESHUTDOWN) {
			t.Errorf("reader: %v, want ESHUTDOWN", err)
		}
	}
}
