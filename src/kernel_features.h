/* SPDX-License-Identifier: MIT */
/*
 * Kernel features the engine can use, probed once per process, with the
 * kernel version that brought each and what the engine does without it.
 * WINTUN_DISABLE_FEATURES (comma-separated names, see features.c) turns
 * features off, to run the fallbacks on a kernel that has them.
 */
#ifndef WINTUN_KERNEL_FEATURES_H
#define WINTUN_KERNEL_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wintun.h"

/* Process-wide probes (not tied to one io_uring): WINTUN_FEATURE_* bits. */
uint64_t wt_features_process(void);

/* false if WINTUN_DISABLE_FEATURES names the feature (one WINTUN_FEATURE_*). */
bool wt_feature_allowed(uint64_t feature);

/* "name name ..." of the bits in @features, into @buf (always terminated). */
void wt_features_describe(uint64_t features, char *buf, size_t len);

#endif
