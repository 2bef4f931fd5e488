// SPDX-License-Identifier: MIT

// Package wintun is a Go binding of libwintun, Wintun's model on Linux: an
// adapter is a TUN device, a session is two shared-memory rings that an
// engine thread of the library moves packets through.
//
// Packets the OS sends out of the adapter are taken with ReceivePacket (or
// ReadPacket, which waits) and handed back with ReleaseReceivePacket; packets
// for the OS are written into AllocateSendPacket's buffer and published with
// SendPacket.  Every call is a cgo call over <wintun.h>, found through
// pkg-config ("wintun").
//
// Waiting for packets goes through the Go runtime's poller: a session's
// read-wait event (an eventfd) is registered with it, so an idle session costs
// a parked goroutine, never an OS thread.
//
// Errors are *Error values that wrap the errno the library set: test them
// with errors.Is(err, syscall.EAGAIN), syscall.ENOBUFS, syscall.ESHUTDOWN...
package wintun
