/* SPDX-License-Identifier: MIT */
/*
 * A port of Wintun's example client: creates an adapter, gives it an
 * address, and plays a peer behind it: every second it injects an ICMP echo
 * request from the peer address to the adapter's address through the
 * session, and prints every packet the OS sends out of the adapter (the echo
 * replies among them).  Ctrl-C ends it cleanly.
 *
 * By default it runs in a private network namespace of its own, so it never
 * touches the machine's network; --here runs it in the current namespace.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <wintun.h>

static int quit_fd = -1;
static unsigned max_pings;

static void on_signal(int sig)
{
	uint64_t one = 1;

	(void)sig;
	if (write(quit_fd, &one, sizeof(one)) < 0)
		_exit(1);
}

static void logger(WINTUN_LOGGER_LEVEL level, uint64_t ts, const char *msg)
{
	static const char tag[] = { '+', '-', '!' };

	fprintf(stderr, "%llu.%06llu [%c] %s\n", (unsigned long long)(ts / 1000000000u),
		(unsigned long long)(ts / 1000u % 1000000u), tag[level % 3], msg);
}

static uint16_t checksum(const uint8_t *p, unsigned len)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An ICMP echo request 10.6.7.8 -> 10.6.7.7, as Wintun's example sends. */
static void send_ping(WINTUN_SESSION_HANDLE session, uint16_t seq)
{
	uint8_t *p = WintunAllocateSendPacket(session, 28);
	uint16_t c;

	if (!p) {
		if (errno != ENOBUFS)
			perror("WintunAllocateSendPacket");
		return; /* ring full: drop, as Wintun's example does */
	}
	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[8] = 255;
	p[9] = IPPROTO_ICMP;
	inet_pton(AF_INET, "10.6.7.8", p + 12);
	inet_pton(AF_INET, "10.6.7.7", p + 16);
	c = checksum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[20] = 8; /* echo request */
	p[26] = (uint8_t)(seq >> 8);
	p[27] = (uint8_t)seq;
	c = checksum(p + 20, 8);
	p[22] = (uint8_t)(c >> 8);
	p[23] = (uint8_t)c;
	WintunSendPacket(session, p);
	printf("Sending IPv4 ICMP echo request to 10.6.7.7 from 10.6.7.8 (seq %u)\n", seq);
}

static void print_packet(const uint8_t *p, uint32_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	if (len >= 20 && p[0] >> 4 == 4) {
		inet_ntop(AF_INET, p + 12, src, sizeof(src));
		inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
		if (p[9] == IPPROTO_ICMP && len >= 28 && p[20] == 0)
			printf("Received IPv4 ICMP echo reply from %s to %s\n", src, dst);
		else
			printf("Received IPv4 packet from %s to %s (proto %u, %u bytes)\n", src, dst,
			       p[9], len);
	} else if (len >= 40 && p[0] >> 4 == 6) {
		inet_ntop(AF_INET6, p + 8, src, sizeof(src));
		inet_ntop(AF_INET6, p + 24, dst, sizeof(dst));
		printf("Received IPv6 packet from %s to %s (next header %u, %u bytes)\n", src, dst,
		       p[6], len);
	} else {
		printf("Received a %u-byte non-IP packet\n", len);
	}
	fflush(stdout);
}

static int run(WINTUN_SESSION_HANDLE session)
{
	struct pollfd fds[2] = {
		{ .fd = WintunGetReadWaitEvent(session), .events = POLLIN },
		{ .fd = quit_fd, .events = POLLIN },
	};
	struct timespec next = { 0 }, now;
	uint16_t seq = 0;

	for (;;) {
		uint32_t size;
		uint8_t *p;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec >= next.tv_sec) {
			if (max_pings && seq >= max_pings)
				return 0;
			send_ping(session, ++seq);
			next.tv_sec = now.tv_sec + 1;
		}
		while ((p = WintunReceivePacket(session, &size))) {
			print_packet(p, size);
			WintunReleaseReceivePacket(session, p);
		}
		if (errno != EAGAIN) {
			perror("WintunReceivePacket");
			return 1;
		}
		if (poll(fds, 2, 200) < 0 && errno != EINTR)
			return 1;
		if (fds[1].revents & POLLIN)
			return 0;
		if (fds[0].revents & POLLIN) {
			uint64_t n;

			if (read(fds[0].fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
				return 1;
		}
	}
}

int main(int argc, char **argv)
{
	WINTUN_ADAPTER_HANDLE adapter;
	WINTUN_SESSION_HANDLE session;
	bool here = false;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--here"))
			here = true;
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			max_pings = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--here] [--count N]\n"
					"  --here     use the current network namespace (default: a private one)\n"
					"  --count N  stop after N echo requests (default: until Ctrl-C)\n",
				argv[0]);
			return 2;
		}
	}
	if (!here && unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "needs CAP_NET_ADMIN (run as root) for a private network namespace: %s\n",
			strerror(errno));
		return 1;
	}
	quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	WintunSetLogger(logger);
	printf("Wintun library v%u.%u loaded\n", WintunGetRunningDriverVersion() >> 16,
	       WintunGetRunningDriverVersion() & 0xFFFF);
	adapter = WintunCreateAdapter("wintun-demo", "Demo", NULL);
	if (!adapter) {
		perror("WintunCreateAdapter");
		return 1;
	}
	if (!WintunAddAdapterAddress(adapter, "10.6.7.7/24") || !WintunSetAdapterUp(adapter, true)) {
		perror("adapter configuration");
		goto close_adapter;
	}
	session = WintunStartSession(adapter, 0x400000);
	if (!session) {
		perror("WintunStartSession");
		goto close_adapter;
	}
	printf("Adapter wintun-demo up with 10.6.7.7/24; pinging it from 10.6.7.8. Ctrl-C ends.\n");
	fflush(stdout);
	ret = run(session);
	WintunEndSession(session);
close_adapter:
	WintunCloseAdapter(adapter);
	printf("Done.\n");
	return ret;
}
