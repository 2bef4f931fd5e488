/* SPDX-License-Identifier: MIT */
/*
 * udp-tunnel --plain: the same tunnel on a plain TUN queue, one packet per
 * system call each way (read, send; recv, write), as OpenVPN moves them: the
 * comparison for the library's batches.  The adapter is still created and
 * configured through the library (same device, addresses and routes), but no
 * session runs: this process attaches its own queue to the device.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp_tunnel.h"

#define PI_SIZE 4u /* struct tun_pi: the device carries packet information */
#define BUF_SIZE (PI_SIZE + 65536u)

static int tun_fd = -1;
static struct ut_threads threads;

static int attach_queue(void)
{
	WINTUN_ADAPTER_INFO info = { .Size = sizeof(info) };
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_MULTI_QUEUE };

	if (!WintunGetAdapterInfo(T.adapter, &info))
		return -1;
	memcpy(ifr.ifr_name, info.Name, sizeof(ifr.ifr_name));
	ifr.ifr_name[IFNAMSIZ - 1] = 0;
	tun_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tun_fd < 0 || ioctl(tun_fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "udp-tunnel: cannot attach a queue to %s: %s\n", info.Name,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void *out_thread(void *arg)
{
	static uint8_t buf[BUF_SIZE];

	(void)arg;
	pthread_setname_np(pthread_self(), "udp-tunnel/out");
	for (;;) {
		ssize_t n = read(tun_fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "udp-tunnel: TUN read: %s\n", strerror(errno));
			break;
		}
		if (n <= (ssize_t)PI_SIZE)
			continue;
		if (send(T.sock, buf + PI_SIZE, (size_t)n - PI_SIZE, 0) < 0) {
			ut_count(&T.st[UT_OUT].drops, 1);
			continue;
		}
		ut_count(&T.st[UT_OUT].packets, 1);
		ut_count(&T.st[UT_OUT].bytes, (uint64_t)n - PI_SIZE);
		ut_count(&T.st[UT_OUT].sends, 1);
	}
	ut_stop();
	return NULL;
}

/* The tun_pi before the packet: the protocol from the IP version. */
static bool set_pi(uint8_t *buf, size_t len)
{
	struct tun_pi pi = { 0 };
	unsigned version = len ? buf[PI_SIZE] >> 4 : 0;

	if (version != 4 && version != 6)
		return false;
	pi.proto = htons(version == 4 ? ETH_P_IP : ETH_P_IPV6);
	memcpy(buf, &pi, PI_SIZE);
	return true;
}

static void *in_thread(void *arg)
{
	static uint8_t buf[BUF_SIZE];

	(void)arg;
	pthread_setname_np(pthread_self(), "udp-tunnel/in");
	for (;;) {
		ssize_t n = recv(T.sock, buf + PI_SIZE, sizeof(buf) - PI_SIZE, 0);

		if (n < 0 && (errno == EINTR || errno == ECONNREFUSED))
			continue;
		if (n < 0) {
			fprintf(stderr, "udp-tunnel: recv: %s\n", strerror(errno));
			break;
		}
		ut_count(&T.st[UT_IN].sends, 1);
		if (!set_pi(buf, (size_t)n) || write(tun_fd, buf, (size_t)n + PI_SIZE) < 0) {
			ut_count(&T.st[UT_IN].drops, 1);
			continue;
		}
		ut_count(&T.st[UT_IN].packets, 1);
		ut_count(&T.st[UT_IN].bytes, (uint64_t)n);
	}
	ut_stop();
	return NULL;
}

int ut_plain_start(void)
{
	if (attach_queue() < 0)
		return -1;
	return ut_start_threads(&threads, out_thread, in_thread);
}

/* Both threads block in one system call per packet, with no stop to poll
 * for: cancelled there (read and recv are cancellation points). */
void ut_plain_join(void)
{
	for (int i = 0; i < 2; i++)
		if (threads.started[i]) {
			pthread_cancel(threads.thread[i]);
			pthread_join(threads.thread[i], NULL);
		}
	if (tun_fd >= 0)
		close(tun_fd);
}
