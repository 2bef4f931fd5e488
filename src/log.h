/* SPDX-License-Identifier: MIT */
/* Internal logging: formats a message and hands it to the user's logger. */
#ifndef WINTUN_LOG_H
#define WINTUN_LOG_H

#include "wintun.h"

void wt_log(WINTUN_LOGGER_LEVEL level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define wt_info(...) wt_log(WINTUN_LOG_INFO, __VA_ARGS__)
#define wt_warn(...) wt_log(WINTUN_LOG_WARN, __VA_ARGS__)
#define wt_err(...) wt_log(WINTUN_LOG_ERR, __VA_ARGS__)

/* True when a logger is set: lets hot paths skip formatting. */
bool wt_log_enabled(void);

/* Public-boundary helpers: set errno once from a negative errno code and
 * return the failure value of the function's type. */
void *wt_fail_ptr(int neg_errno);
bool wt_fail_bool(int neg_errno);
int wt_fail_int(int neg_errno);

#endif
