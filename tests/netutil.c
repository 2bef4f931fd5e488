/* SPDX-License-Identifier: MIT */
#include "netutil.h"
#include "pktbuild.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int nu_tun_open(const char *name)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	cr_assert(fd >= 0, "open /dev/net/tun: %s", strerror(errno));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_flags = IFF_TUN | IFF_MULTI_QUEUE;
	cr_assert_eq(ioctl(fd, TUNSETIFF, &ifr), 0, "TUNSETIFF %s: %s", name, strerror(errno));
	return fd;
}

static void ifreq_ioctl(int family, unsigned long req, struct ifreq *ifr, const char *what)
{
	int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(s >= 0);
	cr_assert_eq(ioctl(s, req, ifr), 0, "%s %s: %s", what, ifr->ifr_name, strerror(errno));
	close(s);
}

void nu_if_addr4_up(const char *name, const char *addr, unsigned prefix)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	ifreq_ioctl(AF_INET, SIOCSIFADDR, &ifr, "SIOCSIFADDR");
	sin->sin_addr.s_addr = htonl(prefix ? ~0u << (32 - prefix) : 0);
	ifreq_ioctl(AF_INET, SIOCSIFNETMASK, &ifr, "SIOCSIFNETMASK");
	memset(&ifr.ifr_addr, 0, sizeof(ifr.ifr_addr));
	ifreq_ioctl(AF_INET, SIOCGIFFLAGS, &ifr, "SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	ifreq_ioctl(AF_INET, SIOCSIFFLAGS, &ifr, "SIOCSIFFLAGS");
}

struct nu_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

void nu_if_addr6(const char *name, const char *addr, unsigned prefix)
{
	struct nu_in6_ifreq r = { .prefixlen = prefix, .ifindex = (int)if_nametoindex(name) };
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(s >= 0 && r.ifindex > 0);
	inet_pton(AF_INET6, addr, &r.addr);
	cr_assert_eq(ioctl(s, SIOCSIFADDR, &r), 0, "SIOCSIFADDR v6: %s", strerror(errno));
	close(s);
}

void nu_if_set_mtu(const char *name, unsigned mtu)
{
	struct ifreq ifr = { 0 };

	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_mtu = (int)mtu;
	ifreq_ioctl(AF_INET, SIOCSIFMTU, &ifr, "SIOCSIFMTU");
}

uint16_t nu_csum(const void *data, unsigned len, uint32_t sum)
{
	return pb_csum(data, len, sum);
}

unsigned nu_udp4(uint8_t *buf, const char *src, const char *dst, uint16_t sport, uint16_t dport,
		 const void *payload, unsigned len)
{
	struct in_addr s, d;

	inet_pton(AF_INET, src, &s);
	inet_pton(AF_INET, dst, &d);
	return pb_udp4(buf, &s, &d, sport, dport, payload, len);
}

unsigned nu_echo4(uint8_t *buf, const char *src, const char *dst, uint16_t id, uint16_t seq)
{
	struct in_addr s, d;

	inet_pton(AF_INET, src, &s);
	inet_pton(AF_INET, dst, &d);
	return pb_echo4(buf, &s, &d, id, seq, "wintun!!", 8);
}

unsigned nu_echo6(uint8_t *buf, const char *src, const char *dst, uint16_t id, uint16_t seq)
{
	uint8_t *icmp = buf + 40;
	uint32_t sum = 0;
	uint16_t c;

	memset(buf, 0, 40 + 16);
	buf[0] = 0x60;
	buf[5] = 16; /* payload length */
	buf[6] = IPPROTO_ICMPV6;
	buf[7] = 64;
	inet_pton(AF_INET6, src, buf + 8);
	inet_pton(AF_INET6, dst, buf + 24);
	icmp[0] = 128; /* echo request */
	icmp[4] = (uint8_t)(id >> 8);
	icmp[5] = (uint8_t)id;
	icmp[6] = (uint8_t)(seq >> 8);
	icmp[7] = (uint8_t)seq;
	memcpy(icmp + 8, "wintun!!", 8);
	/* Pseudo-header: addresses, length, next header. */
	for (unsigned i = 8; i < 40; i += 2)
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	sum += 16 + IPPROTO_ICMPV6;
	c = nu_csum(icmp, 16, sum);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	return 56;
}
