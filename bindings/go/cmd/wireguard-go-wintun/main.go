// SPDX-License-Identifier: MIT

// Command wireguard-go-wintun is wireguard-go on a libwintun adapter: the
// same command line, environment, UAPI socket and behaviour as Debian's
// wireguard-go 0.0.20220316, built from its packaged sources, with the TUN
// device replaced by package wgtun.
//
//	wireguard-go-wintun [-f/--foreground] INTERFACE-NAME
//
// One difference: wireguard-go daemonizes by handing its TUN descriptor to a
// child, but a libwintun session lives in the memory and engine thread of
// the process that started it.  So the background child creates the adapter
// itself, and the parent returns once the child is serving (or fails with
// it), as wireguard-go's parent returns once the interface exists.
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/tun"

	"wintunlinux/wgtun"
	"wintunlinux/wintun"
)

// Version is the wireguard-go release whose sources this is built against.
const Version = "0.0.20220316"

const (
	exitSetupSuccess = 0
	exitSetupFailed  = 1
)

// The environment of wireguard-go, and the readiness pipe of this program.
const (
	envTunFd      = "WG_TUN_FD"
	envUapiFd     = "WG_UAPI_FD"
	envForeground = "WG_PROCESS_FOREGROUND"
	envReadyFd    = "WG_WINTUN_READY_FD"
	envCPU        = "WG_WINTUN_CPU"     // pin the engine thread to this CPU
	envSpin       = "WG_WINTUN_SPIN_US" // the engine's idle spin (0: none)
	envRing       = "WG_WINTUN_RING"    // ring capacity in bytes
)

// sessionOptions reads the engine's settings from the environment; unset
// variables keep the library's defaults (and wgtun's ring size).
func sessionOptions() (*wintun.SessionOptions, error) {
	o := &wintun.SessionOptions{Capacity: wgtun.DefaultRingCapacity}
	for _, v := range []struct {
		env  string
		flag uint32
		set  func(uint64)
	}{
		{envCPU, wintun.SessionPinCPU, func(n uint64) { o.Cpu = int32(n) }},
		{envSpin, wintun.SessionSpin, func(n uint64) { o.SpinMicroseconds = uint32(n) }},
		{envRing, 0, func(n uint64) { o.Capacity = uint32(n) }},
	} {
		s := os.Getenv(v.env)
		if s == "" {
			continue
		}
		n, err := strconv.ParseUint(s, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %w", v.env, s, err)
		}
		v.set(n)
		o.Flags |= v.flag
	}
	return o, nil
}

func usage() {
	fmt.Printf("Usage: %s [-f/--foreground] INTERFACE-NAME\n", os.Args[0])
}

// parseArgs returns the interface name and whether -f was given; ok is
// false when the arguments are not of that form.
func parseArgs(args []string) (name string, foreground, ok bool) {
	switch {
	case len(args) == 2 && args[1] != "-f" && args[1] != "--foreground":
		return args[1], false, true
	case len(args) == 3 && (args[1] == "-f" || args[1] == "--foreground"):
		return args[2], true, true
	}
	return "", false, false
}

func logLevel() int {
	switch os.Getenv("LOG_LEVEL") {
	case "verbose", "debug":
		return device.LogLevelVerbose
	case "error":
		return device.LogLevelError
	case "silent":
		return device.LogLevelSilent
	}
	return device.LogLevelError
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		v := wintun.RunningDriverVersion()
		fmt.Printf("wireguard-go v%s on libwintun %d.%d\n\nUserspace WireGuard daemon for %s-%s.\n",
			Version, v>>16, v&0xFFFF, runtime.GOOS, runtime.GOARCH)
		return
	}
	name, foreground, ok := parseArgs(os.Args)
	if !ok {
		usage()
		return
	}
	if os.Getenv(envForeground) == "1" {
		foreground = true
	} else {
		kernelNotice()
	}
	if !foreground {
		os.Exit(daemonize(name))
	}
	os.Exit(serve(name))
}

// kernelNotice is wireguard-go's reminder that Linux has WireGuard built in.
func kernelNotice() {
	fmt.Fprintln(os.Stderr, "Running wireguard-go is not required because this kernel has first class")
	fmt.Fprintln(os.Stderr, "support for WireGuard (see https://www.wireguard.com/install/).")
}

// daemonize starts this program again in the background, in foreground
// mode, and waits until it serves the interface or gives up.
func daemonize(name string) int {
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Failed to daemonize: %v\n", err)
		return exitSetupFailed
	}
	devnull, _ := os.Open(os.DevNull)
	stdout, stderr := devnull, devnull
	if os.Getenv("LOG_LEVEL") != "" && logLevel() != device.LogLevelSilent {
		stdout, stderr = os.Stdout, os.Stderr
	}
	env := append(os.Environ(), envForeground+"=1", envReadyFd+"=3")
	self, err := os.Executable()
	if err == nil {
		var p *os.Process
		p, err = os.StartProcess(self, os.Args, &os.ProcAttr{
			Dir: ".", Env: env, Files: []*os.File{devnull, stdout, stderr, w},
			Sys: &syscall.SysProcAttr{Setsid: true},
		})
		if err == nil {
			p.Release()
		}
	}
	w.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Failed to daemonize: %v\n", err)
		return exitSetupFailed
	}
	// The child writes one byte once it listens on the UAPI socket; an end
	// of file without it means it failed (its log says why).
	var b [1]byte
	if n, _ := r.Read(b[:]); n != 1 {
		fmt.Fprintln(os.Stderr, "The background process failed to start (set LOG_LEVEL=verbose to see why)")
		return exitSetupFailed
	}
	return exitSetupSuccess
}

// serve runs the device in this process until a signal, a UAPI failure or
// the device's end.
func serve(name string) int {
	if os.Getenv(envTunFd) != "" {
		fmt.Fprintf(os.Stderr, "%s is not supported: a libwintun adapter is served by the process that creates it\n", envTunFd)
		return exitSetupFailed
	}
	var dev tun.Device
	opts, err := sessionOptions()
	if err == nil {
		dev, err = wgtun.CreateTUNWithOptions(name, device.DefaultMTU, opts)
	}
	if err == nil {
		if real, err2 := dev.Name(); err2 == nil {
			name = real
		}
	}
	logger := device.NewLogger(logLevel(), fmt.Sprintf("(%s) ", name))
	wintun.SetLogger(func(level wintun.LogLevel, _ time.Time, msg string) {
		if level == wintun.LogInfo {
			logger.Verbosef("libwintun: %s", msg)
		} else {
			logger.Errorf("libwintun: %s", msg)
		}
	})
	logger.Verbosef("Starting wireguard-go version %s on libwintun", Version)
	if err != nil {
		logger.Errorf("Failed to create TUN device: %v", err)
		return exitSetupFailed
	}
	fileUAPI, err := openUAPI(name)
	if err != nil {
		logger.Errorf("UAPI listen error: %v", err)
		dev.Close()
		return exitSetupFailed
	}
	wg := device.NewDevice(dev, conn.NewDefaultBind(), logger)
	logger.Verbosef("Device started")
	uapi, err := ipc.UAPIListen(name, fileUAPI)
	if err != nil {
		logger.Errorf("Failed to listen on uapi socket: %v", err)
		wg.Close()
		return exitSetupFailed
	}
	errs := make(chan error, 1)
	go acceptUAPI(uapi, wg, errs)
	logger.Verbosef("UAPI listener started")
	signalReady()

	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, os.Interrupt)
	select {
	case <-term:
	case <-errs:
	case <-wg.Wait():
	}
	uapi.Close()
	wg.Close()
	logger.Verbosef("Shutting down")
	return exitSetupSuccess
}

func openUAPI(name string) (*os.File, error) {
	s := os.Getenv(envUapiFd)
	if s == "" {
		return ipc.UAPIOpen(name)
	}
	fd, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), ""), nil
}

// acceptUAPI serves each configuration connection (wg set/show) in a
// goroutine of its own until the listener fails or is closed.
func acceptUAPI(uapi net.Listener, wg *device.Device, errs chan<- error) {
	for {
		c, err := uapi.Accept()
		if err != nil {
			errs <- err
			return
		}
		go wg.IpcHandle(c)
	}
}

// signalReady tells a waiting parent (daemonize) that the interface is
// served.
func signalReady() {
	s := os.Getenv(envReadyFd)
	if s == "" {
		return
	}
	os.Unsetenv(envReadyFd)
	if fd, err := strconv.Atoi(s); err == nil {
		f := os.NewFile(uintptr(fd), "ready")
		f.Write([]byte{1})
		f.Close()
	}
}
