/* SPDX-License-Identifier: MIT */
#include "memory.h"

#include <errno.h>
#include <numa.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

#define WT_HUGE_PAGE (2u << 20)

static size_t round_up(size_t n, size_t unit)
{
	return (n + unit - 1) / unit * unit;
}

static void *map_anon(size_t len, int extra)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* libnuma fills its per-node CPU masks lazily and publishes them without
 * ordering ("slightly racy", it says): concurrent session starts (a
 * multi-queue set starts from any thread) must not look a node up at once. */
static pthread_mutex_t node_lock = PTHREAD_MUTEX_INITIALIZER;

int wt_mem_node_of_cpu(int cpu)
{
	int node;

	if (cpu < 0 || numa_available() < 0)
		return -1;
	pthread_mutex_lock(&node_lock);
	node = numa_node_of_cpu(cpu);
	pthread_mutex_unlock(&node_lock);
	return node;
}

static void place_on_node(void *addr, size_t len, int node)
{
	if (node < 0 || numa_available() < 0)
		return;
	if (node > numa_max_node()) {
		wt_warn("NUMA node %d does not exist (max %d); ring memory not placed", node,
			numa_max_node());
		return;
	}
	/* Before the pages are touched, so the pre-fault below lands there. */
	numa_tonode_memory(addr, len, node);
}

/* Touch every page now: the engine's fast path must never take a fault, and
 * fixed-buffer registration pins the pages anyway. */
static void prefault(void *addr, size_t len, size_t page)
{
	volatile char *p = addr;

	for (size_t off = 0; off < len; off += page)
		p[off] = 0;
}

int wt_mem_alloc(struct wt_mem *mem, size_t size, int numa_node, bool hugepages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	mem->huge = false;
	mem->addr = NULL;
	if (hugepages) {
		mem->len = round_up(size, WT_HUGE_PAGE);
		mem->addr = map_anon(mem->len, MAP_HUGETLB);
		if (mem->addr) {
			mem->huge = true;
			page = WT_HUGE_PAGE;
		} else {
			wt_info("no explicit huge pages for %zu bytes of ring (errno %d); "
				"using transparent huge pages",
				mem->len, errno);
		}
	}
	if (!mem->addr) {
		mem->len = round_up(size, hugepages ? WT_HUGE_PAGE : page);
		mem->addr = map_anon(mem->len, 0);
		if (!mem->addr) {
			int err = errno;

			wt_err("cannot map %zu bytes of ring memory: errno %d", mem->len, err);
			return -err;
		}
		if (hugepages)
			madvise(mem->addr, mem->len, MADV_HUGEPAGE);
	}
	place_on_node(mem->addr, mem->len, numa_node);
	prefault(mem->addr, mem->len, page);
	return 0;
}

void wt_mem_free(struct wt_mem *mem)
{
	if (mem->addr)
		munmap(mem->addr, mem->len);
	mem->addr = NULL;
	mem->len = 0;
}
