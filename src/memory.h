/* SPDX-License-Identifier: MIT */
/* Ring memory: page-aligned, pre-faulted, optionally on a NUMA node and in
 * huge pages. */
#ifndef WINTUN_MEMORY_H
#define WINTUN_MEMORY_H

#include <stdbool.h>
#include <stddef.h>

struct wt_mem {
	void *addr;
	size_t len;  /* mapped length (rounded up to the page size used) */
	bool huge;   /* backed by explicit huge pages (MAP_HUGETLB) */
};

/*
 * Map @size bytes of zeroed ring memory.  @numa_node < 0: no placement (the
 * first touch, by the caller's thread, decides).  @hugepages: try
 * MAP_HUGETLB, then fall back to transparent huge pages.  Returns 0 or a
 * negative errno.
 */
int wt_mem_alloc(struct wt_mem *mem, size_t size, int numa_node, bool hugepages);
void wt_mem_free(struct wt_mem *mem);

/* NUMA node of @cpu, or -1 where NUMA is not available. */
int wt_mem_node_of_cpu(int cpu);

#endif
