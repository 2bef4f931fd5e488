/* SPDX-License-Identifier: MIT */
/*
 * udp-tunnel end to end: two instances of the real binary in two throw-away
 * namespaces joined by a veth pair; ping and a TCP transfer through the
 * tunnel, bytes checked at the far end, in each mode.  Namespace names carry
 * the test process's pid, and every test removes them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "named_netns.h"

#define TCP_BYTES (32u << 20)
#define TRANSFER_GUARD_S 120

struct end {
	char ns[32], out[64];
	pid_t pid;
};

static struct end ends[2];

static const char *tunnel_path(void)
{
	const char *p = getenv("UDP_TUNNEL");

	cr_assert_not_null(p, "UDP_TUNNEL is not set (run through meson test)");
	return p;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* Two namespaces, a veth pair between them (192.168.77.1 and .2): the
 * "internet" the tunnel crosses. */
static void make_underlay(void)
{
	wt_test_enter_netns(); /* proves the privilege; the ends use named ones */
	for (int i = 0; i < 2; i++)
		snprintf(ends[i].ns, sizeof(ends[i].ns), "wtut%c%d", 'a' + i, getpid());
	sh("ip netns add %s && ip netns add %s", ends[0].ns, ends[1].ns);
	sh("ip link add wtut0 netns %s type veth peer name wtut1 netns %s", ends[0].ns, ends[1].ns);
	for (int i = 0; i < 2; i++)
		sh("ip -n %s addr add 192.168.77.%d/24 dev wtut%d && ip -n %s link set wtut%d up && "
		   "ip -n %s link set lo up",
		   ends[i].ns, i + 1, i, ends[i].ns, i, ends[i].ns);
}

/* Whether @pid runs its thread udp-tunnel/in (started last). */
static bool running(pid_t pid)
{
	return nn_thread_named(pid, "udp-tunnel/in") >= 0;
}

static void start_end(int i, const char *const *mode)
{
	struct end *e = &ends[i];
	char local[32], peer[32], addr[32];
	const char *argv[16] = { "ip", "netns", "exec", e->ns, tunnel_path(), "--local", local,
				 "--peer", peer, "--addr", addr };
	int n = 11;

	snprintf(local, sizeof(local), "192.168.77.%d:5555", i + 1);
	snprintf(peer, sizeof(peer), "192.168.77.%d:5555", 2 - i);
	snprintf(addr, sizeof(addr), "10.77.0.%d/24", i + 1);
	for (; mode && *mode && n < 15; mode++)
		argv[n++] = *mode;
	argv[n] = NULL;
	snprintf(e->out, sizeof(e->out), "/tmp/wtut-test-%d-%d.out", getpid(), i);
	e->pid = fork();
	cr_assert(e->pid >= 0);
	if (e->pid == 0) {
		int fd = open(e->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		/* Should the test be killed (its timeout), the tool goes too. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		/* ip netns exec execs the tool in place: e->pid is the tool. */
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	/* A guard against a hang only: a loaded machine takes seconds. */
	for (int t = 0; t < 6000 && !running(e->pid); t++)
		usleep(10000);
	cr_assert(running(e->pid), "udp-tunnel in %s did not start", e->ns);
}

/* Stop an end; returns its exit status and leaves its summary in @summary. */
static int stop_end(int i, char *summary, size_t len)
{
	struct end *e = &ends[i];
	int status;
	size_t n = 0;
	FILE *f;

	kill(e->pid, SIGTERM);
	cr_assert_eq(waitpid(e->pid, &status, 0), e->pid);
	e->pid = 0;
	f = fopen(e->out, "r");
	if (f) {
		n = fread(summary, 1, len - 1, f);
		fclose(f);
	}
	summary[n] = 0;
	unlink(e->out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs after every test, also after a failed assertion: nothing stays. */
static void teardown(void)
{
	char cmd[128];

	for (int i = 0; i < 2; i++)
		if (ends[i].pid > 0) {
			kill(ends[i].pid, SIGKILL);
			waitpid(ends[i].pid, NULL, 0);
			unlink(ends[i].out);
		}
	if (!ends[0].ns[0])
		return;
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null",
		 ends[0].ns, ends[1].ns);
	if (system(cmd) != 0)
		fprintf(stderr, "%s failed\n", cmd);
}

/* TCP_BYTES of pseudo-random data from end 0 to end 1 through the tunnel. */
static void tcp_transfer(void)
{
	nn_tcp_transfer(&(struct nn_tcp){ .from_ns = ends[0].ns, .to_ns = ends[1].ns,
					  .to_addr = "10.77.0.2", .port = 7100, .bytes = TCP_BYTES,
					  .seed = 2463534242u, .guard_s = TRANSFER_GUARD_S });
}

/* From an end's summary: packets and sends (or datagrams read) of one
 * direction. */
static void counts(const char *summary, const char *dir, unsigned long long *pkts,
		   unsigned long long *msgs)
{
	const char *p = strstr(summary, dir);

	*pkts = *msgs = 0;
	cr_assert(p && sscanf(p + strlen(dir), " %llu packets, %*u bytes, %llu", pkts, msgs) == 2,
		  "no '%s' counts in: %s", dir, summary);
}

/* The namespace's count of IPv4 packets dropped as malformed (bad header,
 * shorter than their total length): what a tunnel that cut packets at the
 * wrong place delivers.  TCP would hide it by retransmitting. */
static unsigned long long malformed_in(const char *ns)
{
	char cmd[320], names[1024], values[1024];
	unsigned long long sum = 0;
	char *n, *v, *sn, *sv;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /proc/net/snmp", ns);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f))
		if (!strncmp(names, "Ip: ", 4))
			break;
	pclose(f);
	cr_assert(!strncmp(names, "Ip: ", 4) && !strncmp(values, "Ip: ", 4), "no Ip: lines");
	for (n = strtok_r(names, " \n", &sn), v = strtok_r(values, " \n", &sv); n && v;
	     n = strtok_r(NULL, " \n", &sn), v = strtok_r(NULL, " \n", &sv))
		if (!strcmp(n, "InHdrErrors") || !strcmp(n, "InTruncatedPkts"))
			sum += strtoull(v, NULL, 10);
	return sum;
}

/* Ping both ways and a TCP transfer, with end 0 in @mode0 and end 1 in
 * @mode1; both must stop cleanly, having dropped nothing.  @batched: end 0
 * sent several packets per UDP message (GSO) and end 1 read several per
 * datagram (GRO). */
static void ping_and_tcp(const char *const *mode0, const char *const *mode1, bool batched)
{
	char summary[1024];
	unsigned long long pkts, msgs;

	make_underlay();
	start_end(0, mode0);
	start_end(1, mode1);
	cr_expect_eq(nn_run_in(ends[0].ns, "ping -c 3 -i 0.2 -w 20 10.77.0.2"), 0, "ping 0 -> 1");
	cr_expect_eq(nn_run_in(ends[1].ns, "ping -c 3 -i 0.2 -w 20 10.77.0.1"), 0, "ping 1 -> 0");
	tcp_transfer();
	for (int i = 0; i < 2; i++)
		cr_expect_eq(malformed_in(ends[i].ns), 0, "malformed packets came out of the tunnel in %s",
			     ends[i].ns);
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(stop_end(i, summary, sizeof(summary)), 0, "end %d: %s", i, summary);
		/* Two summary lines, "to peer" and "from peer". */
		cr_expect(strstr(summary, "to peer") && strstr(summary, "from peer"), "%s", summary);
		for (const char *p = summary; (p = strstr(p, "dropped")); p++)
			cr_expect_eq(strncmp(p - 3, " 0 ", 3), 0, "end %d dropped packets: %s", i,
				     summary);
		counts(summary, i ? "from peer" : "to peer", &pkts, &msgs);
		cr_expect_geq(pkts, TCP_BYTES / 1500, "end %d: %s", i, summary);
		if (batched)
			cr_expect_lt(msgs * 2, pkts, "end %d: no GSO/GRO batches: %s", i, summary);
	}
}

TestSuite(udp_tunnel, .timeout = 300, .fini = teardown);

Test(udp_tunnel, batches)
{
	ping_and_tcp(NULL, NULL, true);
}

/* Super-packets split for the wire, sent with GSO, received with GRO and
 * coalesced by the engine. */
Test(udp_tunnel, offload)
{
	ping_and_tcp((const char *[]){ "--offload", NULL }, (const char *[]){ "--offload", NULL },
		     true);
}

/* Without the socket offloads: one datagram per message each way. */
Test(udp_tunnel, offload_without_gso_gro)
{
	ping_and_tcp((const char *[]){ "--offload", "--no-gso", "--no-gro", NULL },
		     (const char *[]){ "--offload", "--no-gso", "--no-gro", NULL }, false);
}

Test(udp_tunnel, plain)
{
	ping_and_tcp((const char *[]){ "--plain", NULL }, (const char *[]){ "--plain", NULL }, false);
}

/* The wire format is the same in every mode. */
Test(udp_tunnel, offload_end_talks_to_plain_end)
{
	ping_and_tcp((const char *[]){ "--offload", NULL }, (const char *[]){ "--plain", NULL },
		     false);
}
