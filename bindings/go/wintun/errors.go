// SPDX-License-Identifier: MIT

package wintun

import (
	"errors"
	"syscall"
)

// Error is a failed library call: the operation and the errno it set.
type Error struct {
	Op    string        // the library function, e.g. "WintunStartSession"
	Errno syscall.Errno // what the library set errno to
}

func (e *Error) Error() string { return e.Op + ": " + e.Errno.Error() }

// Unwrap lets errors.Is match the errno (and, through syscall.Errno.Is, the
// os.Err* values it stands for).
func (e *Error) Unwrap() error { return e.Errno }

// wrap turns the error cgo reported beside a failed call into an *Error.
// A call that failed without setting errno still fails: EIO stands for that,
// so a failure is never reported as success.
func wrap(op string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) || errno == 0 {
		errno = syscall.EIO
	}
	return &Error{Op: op, Errno: errno}
}

// ended is what a call on a session that End has begun ending returns: the
// library's own word for an ended session.
func ended(op string) error { return &Error{Op: op, Errno: syscall.ESHUTDOWN} }
