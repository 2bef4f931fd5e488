/* SPDX-License-Identifier: MIT */
/* The private-namespace helper works, and a TUN device can be created and
 * removed inside it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "helpers.h"

Test(netns, tun_device_lives_and_dies_in_private_namespace, .timeout = 60)
{
	struct ifreq ifr = { 0 };
	int fd;

	wt_test_enter_netns();
	cr_assert_eq(if_nametoindex("wtsmoke0"), 0);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	cr_assert(fd >= 0, "open /dev/net/tun: %s", strerror(errno));
	strcpy(ifr.ifr_name, "wtsmoke0");
	ifr.ifr_flags = IFF_TUN;
	cr_assert_eq(ioctl(fd, TUNSETIFF, &ifr), 0, "TUNSETIFF: %s", strerror(errno));
	cr_expect_gt(if_nametoindex("wtsmoke0"), 0);
	close(fd); /* not persistent: the device goes with its last fd */
	cr_expect_eq(if_nametoindex("wtsmoke0"), 0);
}
