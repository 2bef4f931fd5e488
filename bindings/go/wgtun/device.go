// SPDX-License-Identifier: MIT

// Package wgtun is a tun.Device of wireguard-go (0.0.20220316's interface)
// on a libwintun adapter: the packets the OS sends out of the adapter come
// from the session's Send ring, the packets wireguard-go decrypted go into
// its Receive ring.  Up/down and MTU events are reported as by wireguard-go's
// own Linux device: from the kernel's link notifications.
package wgtun

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.zx2c4.com/wireguard/tun"

	"wintunlinux/wintun"
)

// DefaultRingCapacity is the ring size wireguard-go's Wintun device uses on
// Windows: 8 MiB, room for thousands of full-size packets while the
// encryption goroutines catch up.
const DefaultRingCapacity = 8 << 20

// Device is a tun.Device on a libwintun adapter that it created and deletes
// on Close.
type Device struct {
	adapter *wintun.Adapter
	session *wintun.Session
	index   int32
	events  chan tun.Event
	links   *linkWatch
	once    sync.Once

	tx         sync.Mutex // orders Write and Flush
	held       []byte     // the burst's first packet, allocated, not sent
	flushTimer *time.Timer
}

var _ tun.Device = (*Device)(nil)

// CreateTUN creates the adapter name with the given MTU and starts its
// session with the default options; the device stays down until someone
// brings it up (as wireguard-go's own CreateTUN).
func CreateTUN(name string, mtu int) (tun.Device, error) {
	return CreateTUNWithOptions(name, mtu, &wintun.SessionOptions{Capacity: DefaultRingCapacity})
}

// CreateTUNWithOptions is CreateTUN with the session's options (CPU, spin,
// capacity...).
func CreateTUNWithOptions(name string, mtu int, opts *wintun.SessionOptions) (*Device, error) {
	a, err := wintun.CreateAdapter(name, "WireGuard", nil)
	if err != nil {
		return nil, err
	}
	d, err := start(a, mtu, opts)
	if err != nil {
		a.Close()
		return nil, err
	}
	return d, nil
}

func start(a *wintun.Adapter, mtu int, opts *wintun.SessionOptions) (*Device, error) {
	if err := a.SetMTU(mtu); err != nil {
		return nil, err
	}
	info, err := a.Info()
	if err != nil {
		return nil, err
	}
	d := &Device{adapter: a, index: int32(info.IfIndex), events: make(chan tun.Event, 5)}
	d.flushTimer = time.AfterFunc(time.Hour, func() { d.Flush() })
	d.flushTimer.Stop()
	// Subscribe before reading the state, so no change falls between them.
	if d.links, err = watchLinks(); err != nil {
		return nil, err
	}
	if d.session, err = a.StartSessionEx(opts); err != nil {
		d.links.close()
		return nil, err
	}
	go d.links.run(d.index, d.events, d.initialUp())
	return d, nil
}

// initialUp tells whether the device is already running, which wireguard-go's
// device learns from its Linux device's first status probe.
func (d *Device) initialUp() bool {
	info, err := d.adapter.Info()
	return err == nil && info.Running
}

// File returns nil: a libwintun session lives in this process's memory and
// engine thread, so there is no descriptor that could serve the device from
// another process.
func (d *Device) File() *os.File { return nil }

// Read takes one packet the OS sent out of the adapter, waiting in the Go
// poller while there is none, and copies it to buf[offset:].
func (d *Device) Read(buf []byte, offset int) (int, error) {
	p, err := d.session.ReadPacket()
	if err != nil {
		return 0, closedOr(err)
	}
	n := copy(buf[offset:], p)
	d.session.ReleaseReceivePacket(p)
	return n, nil
}

// Write injects buf[offset:] into the OS.  With the ring full the packet is
// dropped, as wireguard-go's Wintun device on Windows does: a later packet
// finds room once the engine has caught up, and the protocols above retransmit.
//
// The first packet of a burst is held back until Flush (wireguard-go flushes
// when a peer's queue runs dry): the library publishes sent packets only up
// to the oldest one still unsent, so the whole burst then reaches the engine
// at once, and costs it one wake-up instead of one per packet.
func (d *Device) Write(buf []byte, offset int) (int, error) {
	packet := buf[offset:]
	if len(packet) == 0 {
		return 0, nil
	}
	d.tx.Lock()
	defer d.tx.Unlock()
	p, err := d.session.AllocateSendPacket(len(packet))
	if errors.Is(err, syscall.ENOBUFS) && d.held != nil {
		d.flushLocked() // the held packet may be what keeps the ring full
		p, err = d.session.AllocateSendPacket(len(packet))
	}
	if errors.Is(err, syscall.ENOBUFS) {
		return 0, nil
	}
	if err != nil {
		return 0, closedOr(err)
	}
	copy(p, packet)
	if d.held == nil {
		d.held = p
		// wireguard-go skips its Flush after a packet it refuses: the
		// timer publishes the burst then.
		d.flushTimer.Reset(flushDelay)
	} else {
		d.session.SendPacket(p)
	}
	return len(packet), nil
}

// flushDelay bounds how long a held packet waits for a Flush that may not
// come.
const flushDelay = time.Millisecond

// Flush publishes the packets written since the last Flush.
func (d *Device) Flush() error {
	d.tx.Lock()
	d.flushLocked()
	d.tx.Unlock()
	return nil
}

func (d *Device) flushLocked() {
	if d.held != nil {
		d.session.SendPacket(d.held)
		d.held = nil
	}
}

// closedOr reports an ended session as os.ErrClosed, which is how
// wireguard-go's devices say they were closed.
func closedOr(err error) error {
	if errors.Is(err, syscall.ESHUTDOWN) {
		return os.ErrClosed
	}
	return err
}

// MTU returns the device's current MTU.
func (d *Device) MTU() (int, error) { return d.adapter.MTU() }

// Name returns the interface name (it follows renames).
func (d *Device) Name() (string, error) {
	info, err := d.adapter.Info()
	if err != nil {
		return "", err
	}
	return info.IfName, nil
}

// Events returns the channel of up, down and MTU events; it is closed after
// Close.
func (d *Device) Events() chan tun.Event { return d.events }

// Close ends the session (a Read in progress returns os.ErrClosed), stops
// the event listener and deletes the device.  Later calls do nothing.
func (d *Device) Close() error {
	d.once.Do(func() {
		d.flushTimer.Stop()
		d.links.close()
		d.session.End()
		d.adapter.Close()
	})
	return nil
}

// Session gives access to the session's counters and options.
func (d *Device) Session() *wintun.Session { return d.session }
