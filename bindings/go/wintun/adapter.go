// SPDX-License-Identifier: MIT

package wintun

/*
#cgo pkg-config: wintun
#include <stdlib.h>
#include <wintun.h>
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// GUID is an adapter's GUID, laid out as Windows' GUID.
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// Adapter is a handle on a libwintun adapter (a TUN device).  Close it once;
// using it from several goroutines is safe, closing it while another
// goroutine still uses it is not (as for the C handle).
type Adapter struct {
	h C.WINTUN_ADAPTER_HANDLE
}

// AdapterInfo is the device's state as the kernel reports it.
type AdapterInfo struct {
	IfIndex uint32
	MTU     uint32
	Flags   uint32 // IFF_* flags
	Up      bool   // administratively up
	Running bool   // operationally up
	IfName  string // the interface name (never the Windows-style name)
}

// CreateAdapter creates an adapter in the calling thread's network namespace
// (WintunCreateAdapter).  A nil guid asks for a random one.  Closing the
// returned adapter deletes the device.
func CreateAdapter(name, tunnelType string, guid *GUID) (*Adapter, error) {
	cname, ctype := C.CString(name), C.CString(tunnelType)
	defer C.free(unsafe.Pointer(cname))
	defer C.free(unsafe.Pointer(ctype))
	var cguid *C.WINTUN_GUID
	if guid != nil {
		cguid = &C.WINTUN_GUID{Data1: C.uint32_t(guid.Data1), Data2: C.uint16_t(guid.Data2),
			Data3: C.uint16_t(guid.Data3)}
		for i, b := range guid.Data4 {
			cguid.Data4[i] = C.uint8_t(b)
		}
	}
	h, err := C.WintunCreateAdapter(cname, ctype, cguid)
	if h == nil {
		return nil, wrap("WintunCreateAdapter", err)
	}
	return &Adapter{h: h}, nil
}

// OpenAdapter opens an existing adapter by name (WintunOpenAdapter); closing
// it leaves the device in place.
func OpenAdapter(name string) (*Adapter, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	h, err := C.WintunOpenAdapter(cname)
	if h == nil {
		return nil, wrap("WintunOpenAdapter", err)
	}
	return &Adapter{h: h}, nil
}

// Close releases the handle (WintunCloseAdapter); a second Close does
// nothing.
func (a *Adapter) Close() error {
	if a.h != nil {
		C.WintunCloseAdapter(a.h)
		a.h = nil
	}
	return nil
}

// Name returns the adapter's name: its Windows-style name if it has one,
// else the interface name.
func (a *Adapter) Name() (string, error) {
	var buf [C.WINTUN_MAX_ADAPTER_NAME]C.char
	if ok, err := C.WintunGetAdapterName(a.h, &buf[0]); !ok {
		return "", wrap("WintunGetAdapterName", err)
	}
	return C.GoString(&buf[0]), nil
}

// LUID returns the adapter's LUID (its interface index in NetLuidIndex).
func (a *Adapter) LUID() uint64 {
	var luid C.WINTUN_NET_LUID
	C.WintunGetAdapterLuid(a.h, &luid)
	return *(*uint64)(unsafe.Pointer(&luid))
}

// Info reads the device's index, MTU, flags and interface name.
func (a *Adapter) Info() (AdapterInfo, error) {
	info := C.WINTUN_ADAPTER_INFO{Size: C.uint32_t(unsafe.Sizeof(C.WINTUN_ADAPTER_INFO{}))}
	if ok, err := C.WintunGetAdapterInfo(a.h, &info); !ok {
		return AdapterInfo{}, wrap("WintunGetAdapterInfo", err)
	}
	return AdapterInfo{
		IfIndex: uint32(info.IfIndex), MTU: uint32(info.Mtu), Flags: uint32(info.Flags),
		Up: bool(info.Up), Running: bool(info.Running), IfName: C.GoString(&info.Name[0]),
	}, nil
}

// SetUp brings the device up or down.
func (a *Adapter) SetUp(up bool) error {
	if ok, err := C.WintunSetAdapterUp(a.h, C.bool(up)); !ok {
		return wrap("WintunSetAdapterUp", err)
	}
	return nil
}

// MTU returns the device's MTU.
func (a *Adapter) MTU() (int, error) {
	mtu, err := C.WintunGetAdapterMtu(a.h)
	if mtu == 0 {
		return 0, wrap("WintunGetAdapterMtu", err)
	}
	return int(mtu), nil
}

// SetMTU sets the device's MTU (68 to 65535).
func (a *Adapter) SetMTU(mtu int) error {
	if mtu < 0 || mtu > 0xFFFFFFFF {
		return &Error{Op: "WintunSetAdapterMtu", Errno: syscall.EINVAL}
	}
	if ok, err := C.WintunSetAdapterMtu(a.h, C.uint32_t(mtu)); !ok {
		return wrap("WintunSetAdapterMtu", err)
	}
	return nil
}

// AddAddress adds an address such as "10.0.0.1/24" or "fd00::1/64".
func (a *Adapter) AddAddress(addressWithPrefix string) error {
	c := C.CString(addressWithPrefix)
	defer C.free(unsafe.Pointer(c))
	if ok, err := C.WintunAddAdapterAddress(a.h, c); !ok {
		return wrap("WintunAddAdapterAddress", err)
	}
	return nil
}

// AddRoute adds a route to destination through the adapter; an empty gateway
// makes it on-link.
func (a *Adapter) AddRoute(destination, gateway string, metric uint32) error {
	cdst := C.CString(destination)
	defer C.free(unsafe.Pointer(cdst))
	var cgw *C.char
	if gateway != "" {
		cgw = C.CString(gateway)
		defer C.free(unsafe.Pointer(cgw))
	}
	if ok, err := C.WintunAddAdapterRoute(a.h, cdst, cgw, C.uint32_t(metric)); !ok {
		return wrap("WintunAddAdapterRoute", err)
	}
	return nil
}

// RunningDriverVersion returns the library's version, major<<16 | minor.
func RunningDriverVersion() uint32 { return uint32(C.WintunGetRunningDriverVersion()) }
