/* SPDX-License-Identifier: MIT */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "netns.h"

int wt_tun_open(int netns_fd, int oflags, int *fd)
{
	int saved, ret;

	ret = wt_netns_enter(netns_fd, &saved);
	if (ret)
		return ret;
	*fd = open("/dev/net/tun", oflags);
	ret = *fd < 0 ? -errno : 0;
	wt_netns_leave(saved);
	return ret;
}

int wt_tun_set_iff(int fd, const char *name, int flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = (short)flags;
	return ioctl(fd, TUNSETIFF, &ifr) ? -errno : 0;
}

int wt_tun_detach(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_DETACH_QUEUE;
	return ioctl(fd, TUNSETQUEUE, &ifr) ? -errno : 0;
}
