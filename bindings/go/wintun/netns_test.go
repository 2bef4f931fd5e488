// SPDX-License-Identifier: MIT

package wintun

import (
	"os"
	"runtime"
	"syscall"
	"testing"
)

// inPrivateNetns moves the test's goroutine, locked to its OS thread, into a
// network namespace of its own, so the test's devices and traffic never
// reach the machine's network.  The thread is never unlocked: the runtime
// ends it with the goroutine instead of reusing a thread in a foreign
// namespace.  Threads the library starts from it (engines) inherit the
// namespace.
func inPrivateNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for a private network namespace)")
	}
	runtime.LockOSThread()
	if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
		skipOrFail(t, "unshare(CLONE_NEWNET): "+err.Error())
	}
}

// skipOrFail skips, unless WINTUN_REQUIRE_NETNS=1 says the namespace tests
// must run (CI), as the C suites do.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("WINTUN_REQUIRE_NETNS") == "1" {
		t.Fatalf("WINTUN_REQUIRE_NETNS=1 but cannot run: %s", why)
	}
	t.Skip("skipped: " + why)
}
