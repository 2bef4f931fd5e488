/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "wintun.h"

WINTUN_API uint32_t WintunGetRunningDriverVersion(void)
{
	return ((uint32_t)WINTUN_VERSION_MAJOR << 16) | (uint32_t)WINTUN_VERSION_MINOR;
}
