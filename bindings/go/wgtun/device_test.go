// SPDX-License-Identifier: MIT

package wgtun

import (
	"errors"
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
	go func() {
		_, err := d.Read(make([]byte, 2000), 16)
		read <- err
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
