// SPDX-License-Identifier: MIT

package wgtun

import (
	"errors"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/tun"

	"wintunlinux/wintun"
)

// inPrivateNetns: see package wintun's tests (the goroutine's thread stays
// locked in a namespace of its own and dies with it).
func inPrivateNetns(t *testing.T) {
	t.Helper()
	why := "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for a private network namespace)"
	if os.Geteuid() == 0 {
		runtime.LockOSThread()
		if err := syscall.Unshare(syscall.CLONE_NEWNET); err == nil {
			return
		}
		why = "unshare(CLONE_NEWNET) failed"
	}
	if os.Getenv("WINTUN_REQUIRE_NETNS") == "1" {
		t.Fatalf("WINTUN_REQUIRE_NETNS=1 but cannot run: %s", why)
	}
	t.Skip("skipped: " + why)
}

func nextEvent(t *testing.T, events chan tun.Event) tun.Event {
	t.Helper()
	select {
	case e, ok := <-events:
		if !ok {
			t.Fatal("events closed early")
		}
		return e
	case <-time.After(60 * time.Second): // a hang guard only
		t.Fatal("no event")
	}
	return 0
}

// expect reads events until want arrives; others may come first (each link
// notification gives an MTU event, and the kernel sends several).
func expect(t *testing.T, events chan tun.Event, want tun.Event) {
	t.Helper()
	for nextEvent(t, events) != want {
	}
}

func TestEventsAndClose(t *testing.T) {
	inPrivateNetns(t)
	d, err := CreateTUNWithOptions("wgtun0", 1420, &wintun.SessionOptions{Capacity: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if mtu, err := d.MTU(); mtu != 1420 || err != nil {
		t.Fatalf("MTU %d, %v; want 1420", mtu, err)
	}
	if name, err := d.Name(); name != "wgtun0" || err != nil {
		t.Fatalf("Name %q, %v", name, err)
	}
	a, err := wintun.OpenAdapter("wgtun0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.SetUp(true); err != nil {
		t.Fatal(err)
	}
	expect(t, d.Events(), tun.EventUp)
	if err := a.SetMTU(1300); err != nil {
		t.Fatal(err)
	}
	expect(t, d.Events(), tun.EventMTUUpdate)
	if mtu, _ := d.MTU(); mtu != 1300 {
		t.Fatalf("MTU %d after the change, want 1300", mtu)
	}
	if err := a.SetUp(false); err != nil {
		t.Fatal(err)
	}
	expect(t, d.Events(), tun.EventDown)

	read := make(chan error)
	go func() { // packets the kernel sent while the link was up come first
		for {
			if _, err := d.Read(make([]byte, 2000), 16); err != nil {
				read <- err
				return
			}
		}
	}()
	d.Close()
	select {
	case err := <-read:
		if !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Read after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Read still waits after Close")
	}
	for range d.Events() { // must end: Close closes the channel
	}
}

// udp4 builds an IPv4/UDP packet after offset bytes of room, as wireguard-go
// hands them to Write (UDP checksum 0: none, allowed over IPv4).
func udp4(offset int, payload string) []byte {
	b := make([]byte, offset+28+len(payload))
	p := b[offset:]
	p[0], p[8], p[9] = 0x45, 64, syscall.IPPROTO_UDP
	p[2], p[3] = byte(len(p)>>8), byte(len(p))
	copy(p[12:], []byte{10, 9, 1, 2, 10, 9, 1, 1})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(p[i])<<8 | uint32(p[i+1])
	}
	for sum>>16 != 0 {
		sum = sum&0xFFFF + sum>>16
	}
	p[10], p[11] = byte(^sum>>8), byte(^sum)
	p[20], p[21], p[22], p[23] = 0x13, 0x88, 0x0f, 0xa0 // 5000 -> 4000
	p[24], p[25] = byte((8+len(payload))>>8), byte(8+len(payload))
	copy(p[28:], payload)
	return b
}

// Written packets reach the OS in order, after Flush, and also without one
// (wireguard-go does not flush after a packet it refuses).
func TestWriteFlush(t *testing.T) {
	inPrivateNetns(t)
	d, err := CreateTUNWithOptions("wgtun1", 1420, &wintun.SessionOptions{Capacity: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a, err := wintun.OpenAdapter("wgtun1")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.AddAddress("10.9.1.1/24"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetUp(true); err != nil {
		t.Fatal(err)
	}
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 9, 1, 1), Port: 4000})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	sock.SetReadDeadline(time.Now().Add(60 * time.Second)) // a hang guard only
	receive := func(want string) {
		t.Helper()
		buf := make([]byte, 100)
		n, err := sock.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("socket got %q, %v; want %q", buf[:n], err, want)
		}
	}
	for _, s := range []string{"one", "two", "three"} {
		if n, err := d.Write(udp4(16, s), 16); n != 28+len(s) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	d.Flush()
	receive("one")
	receive("two")
	receive("three")
	if _, err := d.Write(udp4(16, "unflushed"), 16); err != nil {
		t.Fatal(err)
	}
	receive("unflushed")
}
