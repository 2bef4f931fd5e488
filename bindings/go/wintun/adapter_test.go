// SPDX-License-Identifier: MIT

package wintun

import (
	"errors"
	"syscall"
	"testing"
)

func TestCreateOpenClose(t *testing.T) {
	inPrivateNetns(t)
	a, err := CreateAdapter("wtgo0", "GoTest", &GUID{Data1: 0x12345678, Data4: [8]byte{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	info, err := a.Info()
	if err != nil || info.IfName != "wtgo0" || info.IfIndex == 0 {
		t.Fatalf("Info: %+v, %v", info, err)
	}
	if a.LUID()>>24&0xFFFFFF != uint64(info.IfIndex) {
		t.Fatalf("LUID %#x does not hold ifindex %d", a.LUID(), info.IfIndex)
	}
	if _, err := CreateAdapter("wtgo0", "GoTest", nil); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second CreateAdapter: %v, want EEXIST", err)
	}
	if _, err := CreateAdapter("a/b c", "bad type", nil); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("CreateAdapter with a bad tunnel type: %v, want EINVAL", err)
	}

	o, err := OpenAdapter("wtgo0")
	if err != nil {
		t.Fatal(err)
	}
	oinfo, err := o.Info()
	if err != nil || oinfo.IfIndex != info.IfIndex {
		t.Fatalf("opened adapter: %+v, %v; created: %+v", oinfo, err, info)
	}
	o.Close()
	o.Close() // a second Close does nothing
	if o, err = OpenAdapter("wtgo0"); err != nil {
		t.Fatalf("closing an opened handle deleted the device: %v", err)
	}
	o.Close()

	a.Close()
	if _, err := OpenAdapter("wtgo0"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("OpenAdapter after the creator closed: %v, want ENOENT", err)
	}
	var werr *Error
	if _, err := OpenAdapter("nothere"); !errors.As(err, &werr) || werr.Op != "WintunOpenAdapter" {
		t.Fatalf("error %v is not an *Error naming the call", err)
	}
}
