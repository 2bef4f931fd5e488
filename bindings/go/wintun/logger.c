// SPDX-License-Identifier: MIT
/* A C function for WintunSetLogger that forwards to the Go logger. */
#include "_cgo_export.h"

void wintun_go_logger(WINTUN_LOGGER_LEVEL level, uint64_t timestamp, const char *message)
{
	wintunGoLog(level, timestamp, (char *)message);
}
