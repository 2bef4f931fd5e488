/* SPDX-License-Identifier: MIT */
/*
 * The bench's world: the process moves into a fresh network namespace (the
 * "main" one, also side A of fwd) and creates a second one for side B.  Both
 * disappear with the process, whatever way it ends: no traffic ever leaves
 * them, nothing is left behind.
 *
 *   main ns: lo up; wb0 10.9.0.1/24 (rx, tx, pingpong; the client is 10.9.0.2)
 *            wbA 10.1.0.1/24, route 10.2.0.0/24 dev wbA
 *            wbOA 10.5.0.1/24, route 10.6.0.0/24 dev wbOA (offloads on)
 *            wbVA 10.7.0.1/24, veth to wbVB
 *   ns B:    lo up; wbB 10.2.0.1/24, route 10.1.0.0/24 dev wbB; UDP sink on
 *            10.2.0.1:9, TCP listener on 10.2.0.1:5001
 *            wbOB 10.6.0.1/24, route 10.5.0.0/24 dev wbOB (offloads on); TCP
 *            listener on 10.6.0.1:5001
 *            wbVB 10.7.0.2/24; TCP listener on 10.7.0.2:5001
 *
 * The offload devices have IFF_VNET_HDR and every offload the kernel takes
 * (checksum, TSO, USO), with the GSO maximum size kept within a ring record,
 * as WintunStartSessionEx sets up an adapter in offload mode.
 *
 * IPv6 is disabled before the devices exist, so no router or MLD packets
 * reach the rings.  The TUN queues are opened once (multi-queue, packet
 * information on, non-blocking) and held for the whole program; each engine
 * run gets a dup() of the fd (the session owns and closes it), the baseline
 * uses the fd itself: both serve the very same queue.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h> /* before the linux/ headers: libc-compat */
#include <linux/if_tun.h>
#include <linux/route.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "links.h"
#include "src/offload.h"
#include "wintun.h"

static int ioctl_inet(unsigned long req, void *arg)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (s < 0)
		return -errno;
	ret = ioctl(s, req, arg) < 0 ? -errno : 0;
	close(s);
	return ret;
}

static int if_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int ret;

	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ret = ioctl_inet(SIOCGIFFLAGS, &ifr);
	if (ret)
		return ret;
	ifr.ifr_flags |= IFF_UP;
	return ioctl_inet(SIOCSIFFLAGS, &ifr);
}

static int if_addr4(const char *name, const char *addr, unsigned prefix)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int ret;

	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	ret = ioctl_inet(SIOCSIFADDR, &ifr);
	if (ret)
		return ret;
	sin->sin_addr.s_addr = htonl(~0u << (32 - prefix));
	ret = ioctl_inet(SIOCSIFNETMASK, &ifr);
	return ret ? ret : if_up(name);
}

static int route4(const char *dst, unsigned prefix, const char *dev)
{
	struct rtentry rt = { 0 };
	struct sockaddr_in *d = (struct sockaddr_in *)&rt.rt_dst;
	struct sockaddr_in *m = (struct sockaddr_in *)&rt.rt_genmask;

	d->sin_family = m->sin_family = AF_INET;
	inet_pton(AF_INET, dst, &d->sin_addr);
	m->sin_addr.s_addr = htonl(~0u << (32 - prefix));
	rt.rt_flags = RTF_UP;
	rt.rt_dev = (char *)dev;
	return ioctl_inet(SIOCADDRT, &rt);
}

static int sysctl_write(const char *path, const char *v)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f)
		return -errno;
	if (fputs(v, f) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/* lo up, no IPv6 on new devices, no reverse-path filter. */
static int ns_init(void)
{
	int ret = if_up("lo");

	if (ret)
		return ret;
	sysctl_write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	sysctl_write("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
	sysctl_write("/proc/sys/net/ipv4/conf/default/rp_filter", "0");
	return 0;
}

static int tun_open(struct wb_dev *d, const char *name, bool offload)
{
	struct ifreq ifr = { 0 };
	int ret, fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_flags = IFF_TUN | IFF_MULTI_QUEUE; /* packet information on */
	if (offload)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->fd = fd;
	d->ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!offload)
		return 0;
	ret = wt_offload_enable(fd, name, WINTUN_OFFLOAD_ALL, &d->offloads);
	if (!ret)
		ret = wb_set_gso_max_size(name, WINTUN_RING_MAX_PACKET_SIZE - WINTUN_VNET_HDR_SIZE);
	return ret;
}

static int udp_socket(const char *addr, uint16_t port, bool bind_it)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int big = 8 << 20;

	if (fd < 0)
		return -errno;
	inet_pton(AF_INET, addr, &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	if ((bind_it ? bind(fd, (struct sockaddr *)&sin, sizeof(sin))
		     : connect(fd, (struct sockaddr *)&sin, sizeof(sin))) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int tcp_listener(const char *addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -errno;
	inet_pton(AF_INET, addr, &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 16) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

#define TRY(what, expr)                                                               \
	do {                                                                          \
		ret = (expr);                                                         \
		if (ret < 0) {                                                        \
			fprintf(stderr, "wintun-bench: %s: %s\n", what, strerror(-ret)); \
			return ret;                                                   \
		}                                                                     \
	} while (0)

static int setup_main(struct wb_env *env)
{
	int ret;

	TRY("network namespace", ns_init());
	TRY("TUN device wb0", tun_open(&env->dev[WB_DEV_MAIN], "wb0", false));
	TRY("wb0 address", if_addr4("wb0", "10.9.0.1", 24));
	TRY("TUN device wbA", tun_open(&env->dev[WB_DEV_A], "wbA", false));
	TRY("wbA address", if_addr4("wbA", "10.1.0.1", 24));
	TRY("route 10.2.0.0/24", route4("10.2.0.0", 24, "wbA"));
	TRY("TUN device wbOA", tun_open(&env->dev[WB_DEV_OA], "wbOA", true));
	TRY("wbOA address", if_addr4("wbOA", "10.5.0.1", 24));
	TRY("route 10.6.0.0/24", route4("10.6.0.0", 24, "wbOA"));
	TRY("rx generator socket", env->gen_rx = udp_socket("10.9.0.2", 9, false));
	TRY("tx sink socket", env->sink_tx = udp_socket("10.9.0.1", 9998, true));
	TRY("fwd generator socket", env->gen_fwd = udp_socket("10.2.0.1", 9, false));
	return 0;
}

static int setup_b(struct wb_env *env)
{
	int ret;

	TRY("network namespace B", ns_init());
	TRY("TUN device wbB", tun_open(&env->dev[WB_DEV_B], "wbB", false));
	TRY("wbB address", if_addr4("wbB", "10.2.0.1", 24));
	TRY("route 10.1.0.0/24", route4("10.1.0.0", 24, "wbB"));
	TRY("TUN device wbOB", tun_open(&env->dev[WB_DEV_OB], "wbOB", true));
	TRY("wbOB address", if_addr4("wbOB", "10.6.0.1", 24));
	TRY("route 10.5.0.0/24", route4("10.5.0.0", 24, "wbOB"));
	TRY("fwd sink socket", env->sink_fwd = udp_socket("10.2.0.1", 9, true));
	TRY("tcp listener", env->tcp_listen = tcp_listener("10.2.0.1", 5001));
	TRY("tso listener", env->tso_listen = tcp_listener("10.6.0.1", 5001));
	return 0;
}

/* The veth pair, once both namespaces exist; ends in the main one, or sets
 * *lost when it could not get back there. */
static int setup_veth(struct wb_env *env, bool *lost)
{
	int ret;

	TRY("veth pair wbVA/wbVB", wb_veth_create("wbVA", "wbVB", env->ns_b));
	TRY("wbVA address", if_addr4("wbVA", "10.7.0.1", 24));
	if (setns(env->ns_b, CLONE_NEWNET) < 0)
		return -errno;
	ret = if_addr4("wbVB", "10.7.0.2", 24);
	if (!ret)
		ret = env->veth_listen = tcp_listener("10.7.0.2", 5001);
	if (setns(env->ns_main, CLONE_NEWNET) < 0) {
		*lost = true;
		return -errno;
	}
	if (ret < 0)
		fprintf(stderr, "wintun-bench: wbVB: %s\n", strerror(-ret));
	return ret < 0 ? ret : 0;
}

int wb_env_setup(struct wb_env *env)
{
	bool lost = false;
	int ret;

	memset(env, 0, sizeof(*env));
	env->ns_main = env->ns_b = env->gen_rx = env->sink_tx = env->gen_fwd = env->sink_fwd = -1;
	env->tcp_listen = env->tso_listen = env->veth_listen = -1;
	for (unsigned i = 0; i < WB_NDEV; i++)
		env->dev[i].fd = env->dev[i].ns_fd = -1;
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	env->ns_main = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ret = setup_main(env);
	if (ret)
		return ret;
	if (unshare(CLONE_NEWNET) < 0) {
		ret = -errno;
		fprintf(stderr, "wintun-bench: second network namespace: %s\n", strerror(-ret));
		return ret;
	}
	env->ns_b = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ret = setup_b(env);
	if (setns(env->ns_main, CLONE_NEWNET) < 0) {
		fprintf(stderr, "wintun-bench: back to the main namespace: %s\n", strerror(errno));
		return -errno;
	}
	if (ret)
		return ret;
	/* Without veth (CONFIG_VETH) the benchmark still runs, without its bound. */
	ret = setup_veth(env, &lost);
	if (lost) {
		fprintf(stderr, "wintun-bench: back to the main namespace: %s\n", strerror(-ret));
		return ret;
	}
	if (ret)
		fprintf(stderr, "wintun-bench: no veth pair: the tso scenarios run without "
				"the kernel bound\n");
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void wb_env_teardown(struct wb_env *env)
{
	for (unsigned i = 0; i < WB_NDEV; i++) {
		close_fd(&env->dev[i].fd);
		close_fd(&env->dev[i].ns_fd);
	}
	close_fd(&env->gen_rx);
	close_fd(&env->sink_tx);
	close_fd(&env->gen_fwd);
	close_fd(&env->sink_fwd);
	close_fd(&env->tcp_listen);
	close_fd(&env->tso_listen);
	close_fd(&env->veth_listen);
	close_fd(&env->ns_b);
	close_fd(&env->ns_main);
}

static void drain_fd(int fd, bool is_socket)
{
	static char buf[65536];

	if (fd < 0)
		return;
	for (int i = 0; i < 100000; i++) {
		ssize_t n = is_socket ? recv(fd, buf, sizeof(buf), MSG_DONTWAIT)
				      : read(fd, buf, sizeof(buf));
		if (n < 0)
			break;
	}
}

void wb_env_drain(struct wb_env *env)
{
	for (unsigned i = 0; i < WB_NDEV; i++)
		drain_fd(env->dev[i].fd, false);
	drain_fd(env->sink_tx, true);
	drain_fd(env->sink_fwd, true);
}

/* /proc/net/dev of the calling thread's namespace: "name: rx_bytes rx_packets
 * rx_errs rx_drop ... tx_bytes tx_packets tx_errs tx_drop ..." */
uint64_t wb_dev_tx_dropped(const char *name)
{
	char line[512];
	unsigned long long v[16];
	uint64_t res = 0;
	FILE *f = fopen("/proc/thread-self/net/dev", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *p = line;

		if (!colon)
			continue;
		*colon = 0;
		while (*p == ' ')
			p++;
		if (strcmp(p, name))
			continue;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &v[10], &v[11]) == 12)
			res = v[11];
	}
	fclose(f);
	return res;
}
