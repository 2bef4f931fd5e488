// SPDX-License-Identifier: MIT

package wgtun

import (
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/tun"
)

// linkWatch is a netlink socket subscribed to link changes, read through
// the Go poller so that closing it ends the reading goroutine.
type linkWatch struct {
	f    *os.File
	stop chan struct{}
}

func watchLinks() (*linkWatch, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC,
		unix.NETLINK_ROUTE)
	if err != nil {
		return nil, os.NewSyscallError("socket(NETLINK_ROUTE)", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind(RTMGRP_LINK)", err)
	}
	return &linkWatch{f: os.NewFile(uintptr(fd), "netlink-link-watch"), stop: make(chan struct{})}, nil
}

func (w *linkWatch) close() {
	close(w.stop)
	w.f.Close()
}

// run turns the notifications about link index into events, as
// wireguard-go's Linux device does: each RTM_NEWLINK gives EventUp when the
// link runs, EventDown when it stopped after having run, and EventMTUUpdate.
// It closes events when the watch is closed.
func (w *linkWatch) run(index int32, events chan tun.Event, up bool) {
	defer close(events)
	wasUp := up
	if up && !w.send(events, tun.EventUp) {
		return
	}
	buf := make([]byte, 1<<16)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if errors.Is(err, unix.ENOBUFS) { // notifications were lost: the next ones still count
				continue
			}
			return
		}
		for _, flags := range linkFlags(buf[:n], index) {
			if flags&unix.IFF_RUNNING != 0 {
				wasUp = true
				if !w.send(events, tun.EventUp) {
					return
				}
			} else if wasUp && !w.send(events, tun.EventDown) {
				return
			}
			if !w.send(events, tun.EventMTUUpdate) {
				return
			}
		}
	}
}

// send delivers an event unless the watch was closed meanwhile.
func (w *linkWatch) send(events chan tun.Event, e tun.Event) bool {
	select {
	case events <- e:
		return true
	case <-w.stop:
		return false
	}
}

// linkFlags returns the flags of every RTM_NEWLINK about index in a batch of
// netlink messages; a truncated or malformed message ends the walk.
func linkFlags(b []byte, index int32) []uint32 {
	var flags []uint32
	for len(b) >= unix.SizeofNlMsghdr {
		hdr := (*unix.NlMsghdr)(unsafe.Pointer(&b[0]))
		size := int(hdr.Len)
		if size < unix.SizeofNlMsghdr || size > len(b) {
			break
		}
		if hdr.Type == unix.RTM_NEWLINK && size >= unix.SizeofNlMsghdr+unix.SizeofIfInfomsg {
			info := (*unix.IfInfomsg)(unsafe.Pointer(&b[unix.SizeofNlMsghdr]))
			if info.Index == index {
				flags = append(flags, info.Flags)
			}
		}
		aligned := (size + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
		if aligned >= len(b) {
			break
		}
		b = b[aligned:]
	}
	return flags
}
