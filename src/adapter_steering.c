/* SPDX-License-Identifier: MIT */
/*
 * A caller's steering eBPF program for the adapter's device
 * (TUNSETSTEERINGEBPF): it replaces tun's automatic flow steering in picking
 * the queue -- the session -- of each packet the stack sends into the device.
 * Loading the program is the caller's business (libbpf, or bpf(2)); we only
 * attach its fd, through the handle's detached queue, which the kernel
 * accepts as any queue of the device.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "adapter.h"
#include "log.h"
#include "tun.h"

WINTUN_API bool WintunSetAdapterSteeringProgram(WINTUN_ADAPTER_HANDLE Adapter, int ProgramFd)
{
	char name[IFNAMSIZ + 8];
	int fd = ProgramFd < 0 ? -1 : ProgramFd, err;

	if (!Adapter) {
		wt_err("WintunSetAdapterSteeringProgram: adapter is NULL");
		return wt_fail_bool(-EINVAL);
	}
	err = -wt_adapter_ioctl(Adapter, TUNSETSTEERINGEBPF, &fd);
	if (err) {
		wt_err("cannot %s the steering program of %s: %s%s", ProgramFd < 0 ? "remove" : "set",
		       wt_adapter_log_name(Adapter, name), strerror(err),
		       err == EINVAL || err == EBADF ? " (not a loaded BPF_PROG_TYPE_SOCKET_FILTER "
						       "program fd)" : "");
		return wt_fail_bool(-err);
	}
	return true;
}
