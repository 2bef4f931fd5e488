/* SPDX-License-Identifier: MIT */
/* tun-pump: named network namespaces, made and entered as 'ip netns' does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pump.h"

int pump_netns_create(struct side *s)
{
	pid_t pid;
	int fd, status;

	mkdir("/run/netns", 0755);
	snprintf(s->netns_path, sizeof(s->netns_path), "/run/netns/%s", s->netns);
	fd = open(s->netns_path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "tun-pump: cannot create namespace %s: %s\n", s->netns,
			errno == EEXIST ? "it already exists" : strerror(errno));
		return -1;
	}
	close(fd);
	s->netns_created = true;
	/* As 'ip netns add' does: a child enters a new namespace and
	 * bind-mounts it onto the file, which keeps it alive. */
	pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWNET) == 0 &&
				      mount("/proc/self/ns/net", s->netns_path, "none", MS_BIND, NULL) == 0
			      ? 0
			      : 1);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "tun-pump: cannot create namespace %s\n", s->netns);
		return -1;
	}
	return 0;
}

void pump_netns_remove(struct side *s)
{
	if (!s->netns_created)
		return;
	umount2(s->netns_path, MNT_DETACH);
	unlink(s->netns_path);
	s->netns_created = false;
}

static void loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

/* Run @fn for @s inside its namespace (or here without one). */
int pump_in_netns(struct side *s, int (*fn)(struct side *))
{
	int home, target, ret;

	if (!s->netns)
		return fn(s);
	if (!s->netns_path[0])
		snprintf(s->netns_path, sizeof(s->netns_path), "/run/netns/%s", s->netns);
	target = open(s->netns_path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		fprintf(stderr, "tun-pump: network namespace %s does not exist (%s)\n", s->netns,
			strerror(errno));
		return -1;
	}
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0 || setns(target, CLONE_NEWNET) < 0) {
		fprintf(stderr, "tun-pump: cannot enter network namespace %s: %s\n", s->netns,
			strerror(errno));
		close(target);
		if (home >= 0)
			close(home);
		return -1;
	}
	if (s->netns_created)
		loopback_up();
	ret = fn(s);
	if (setns(home, CLONE_NEWNET) < 0) {
		fprintf(stderr, "tun-pump: cannot return to the original namespace\n");
		ret = -1;
	}
	close(home);
	close(target);
	return ret;
}
