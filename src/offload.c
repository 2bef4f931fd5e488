/* SPDX-License-Identifier: MIT */
#include "offload.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "wintun.h"

/* Newer than some kernel headers. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

_Static_assert(WINTUN_OFFLOAD_CSUM == TUN_F_CSUM && WINTUN_OFFLOAD_TSO4 == TUN_F_TSO4 &&
		       WINTUN_OFFLOAD_TSO6 == TUN_F_TSO6 && WINTUN_OFFLOAD_TSO_ECN == TUN_F_TSO_ECN &&
		       WINTUN_OFFLOAD_USO4 == TUN_F_USO4 && WINTUN_OFFLOAD_USO6 == TUN_F_USO6,
	       "public offload bits are the kernel's TUN_F_* bits");

int wt_offload_enable(int fd, const char *ifname, uint32_t wanted, uint32_t *enabled)
{
	/* Each step drops what older kernels refuse: USO (6.2), then ECN. */
	const uint32_t steps[] = { 0, WINTUN_OFFLOAD_USO4 | WINTUN_OFFLOAD_USO6,
				   WINTUN_OFFLOAD_USO4 | WINTUN_OFFLOAD_USO6 | WINTUN_OFFLOAD_TSO_ECN };
	int hdr = WINTUN_VNET_HDR_SIZE;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		int err = errno;

		wt_err("%s: cannot set the virtio_net_hdr size: %s", ifname, strerror(err));
		return -err;
	}
	/* Segmentation offloads need checksum offload. */
	if (!(wanted & WINTUN_OFFLOAD_CSUM))
		wanted = 0;
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		uint32_t try = wanted & ~steps[i];

		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)try) == 0) {
			*enabled = try;
			wt_info("%s: offloads on: 0x%02x (asked 0x%02x)", ifname, try, wanted);
			return 0;
		}
		if (errno != EINVAL)
			break;
	}
	{
		int err = errno;

		wt_err("%s: the kernel refuses offloads 0x%02x: %s", ifname, wanted, strerror(err));
		return -err;
	}
}
