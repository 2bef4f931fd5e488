/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for <criterion/criterion.h> for the ThreadSanitizer build only.
 * Criterion cannot start under TSan (its inheritable arena is mapped at an
 * address TSan reserves: "Could not initialize inheritable arena",
 * Snaipe/Criterion#274), so the unit and stress suites are compiled against
 * this header instead: the same test files, run one after another in one
 * process by shim.c.  It implements only the macros those files use.
 * A failed cr_expect marks the test failed and goes on; a failed cr_assert
 * also leaves the test (longjmp), then the suite's .fini runs.
 */
#ifndef WT_CRITERION_SHIM_H
#define WT_CRITERION_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct wt_cr_test {
	const char *suite, *name;
	void (*fn)(void);
	struct wt_cr_test *next;
};

struct wt_cr_suite_cfg {
	void (*init)(void);
	void (*fini)(void);
	double timeout;
};

struct wt_cr_suite {
	const char *name;
	struct wt_cr_suite_cfg cfg;
	struct wt_cr_suite *next;
};

struct wt_cr_test_cfg {
	double timeout;
	bool disabled;
};

void wt_cr_register(struct wt_cr_test *t);
void wt_cr_register_suite(struct wt_cr_suite *s);
void wt_cr_check(bool ok, bool fatal, const char *file, int line, const char *expr,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
_Noreturn void wt_cr_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define Test(suite, name, ...)                                                        \
	static void suite##_##name(void);                                             \
	__attribute__((constructor)) static void suite##_##name##_reg(void)           \
	{                                                                             \
		static struct wt_cr_test t = { #suite, #name, suite##_##name, NULL }; \
		(void)(struct wt_cr_test_cfg){ __VA_ARGS__ };                        \
		wt_cr_register(&t);                                                   \
	}                                                                             \
	static void suite##_##name(void)

#define TestSuite(suite, ...)                                                             \
	__attribute__((constructor)) static void suite##_suite_reg(void)                  \
	{                                                                                 \
		static struct wt_cr_suite wt_cr_s = { #suite, { __VA_ARGS__ }, NULL };        \
		wt_cr_register_suite(&wt_cr_s);                                               \
	}                                                                                 \
	struct wt_cr_swallow_semicolon_##suite

/* The format always starts with a space: never empty, and optional. */
#define WT_CR(ok, fatal, expr, ...) wt_cr_check((ok), (fatal), __FILE__, __LINE__, expr, " " __VA_ARGS__)

#define cr_assert(c, ...) WT_CR(!!(c), true, #c, __VA_ARGS__)
#define cr_expect(c, ...) WT_CR(!!(c), false, #c, __VA_ARGS__)
#define cr_assert_not(c, ...) WT_CR(!(c), true, "!(" #c ")", __VA_ARGS__)
#define cr_expect_not(c, ...) WT_CR(!(c), false, "!(" #c ")", __VA_ARGS__)
#define cr_assert_eq(a, b, ...) WT_CR((a) == (b), true, #a " == " #b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...) WT_CR((a) == (b), false, #a " == " #b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) WT_CR((a) != (b), true, #a " != " #b, __VA_ARGS__)
#define cr_expect_neq(a, b, ...) WT_CR((a) != (b), false, #a " != " #b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) WT_CR((a) > (b), true, #a " > " #b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...) WT_CR((a) > (b), false, #a " > " #b, __VA_ARGS__)
#define cr_expect_geq(a, b, ...) WT_CR((a) >= (b), false, #a " >= " #b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) WT_CR((a) >= (b), true, #a " >= " #b, __VA_ARGS__)
#define cr_expect_lt(a, b, ...) WT_CR((a) < (b), false, #a " < " #b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) WT_CR((a) < (b), true, #a " < " #b, __VA_ARGS__)
#define cr_expect_leq(a, b, ...) WT_CR((a) <= (b), false, #a " <= " #b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) WT_CR((a) <= (b), true, #a " <= " #b, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...) WT_CR(!strcmp((a), (b)), false, #a " == " #b, __VA_ARGS__)
#define cr_assert_null(p, ...) WT_CR((p) == NULL, true, #p " == NULL", __VA_ARGS__)
#define cr_expect_null(p, ...) WT_CR((p) == NULL, false, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) WT_CR((p) != NULL, true, #p " != NULL", __VA_ARGS__)
#define cr_expect_not_null(p, ...) WT_CR((p) != NULL, false, #p " != NULL", __VA_ARGS__)
#define cr_expect_arr_eq(a, b, n, ...) \
	WT_CR(memcmp((a), (b), (n)) == 0, false, #a " == " #b " (" #n " bytes)", __VA_ARGS__)
#define cr_assert_arr_eq(a, b, n, ...) \
	WT_CR(memcmp((a), (b), (n)) == 0, true, #a " == " #b " (" #n " bytes)", __VA_ARGS__)
#define cr_assert_fail(...) WT_CR(false, true, "cr_assert_fail", __VA_ARGS__)
#define cr_skip_test(...) wt_cr_skip(" " __VA_ARGS__)
#define cr_log_info(...) ((void)0)

#endif
