/* SPDX-License-Identifier: MIT */
/* wintun-bench's statistics (bench/stats.c) on hand-computed vectors. */
#include <criterion/criterion.h>
#include <math.h>

#include "bench/stats.h"

#define EPS 1e-9

Test(unit, median_odd_and_even)
{
	double odd[] = { 5, 1, 3 };           /* sorted: 1 3 5 */
	double even[] = { 4, 1, 3, 2 };       /* sorted: 1 2 3 4 -> (2 + 3) / 2 */
	double one[] = { 7 };

	cr_expect_float_eq(wb_median(odd, 3), 3.0, EPS);
	cr_expect_float_eq(wb_median(even, 4), 2.5, EPS);
	cr_expect_float_eq(wb_median(one, 1), 7.0, EPS);
	cr_expect(isnan(wb_median(one, 0)));
}

Test(unit, median_sorts_in_place)
{
	double v[] = { 3, -1, 2, 10, 0 };

	cr_expect_float_eq(wb_median(v, 5), 2.0, EPS);
	cr_expect(v[0] == -1 && v[1] == 0 && v[2] == 2 && v[3] == 3 && v[4] == 10);
}

Test(unit, min_max_ignore_nan)
{
	double v[] = { NAN, 4, -2.5, NAN, 9 };
	double none[] = { NAN, NAN };

	cr_expect_float_eq(wb_min(v, 5), -2.5, EPS);
	cr_expect_float_eq(wb_max(v, 5), 9.0, EPS);
	cr_expect(isnan(wb_min(none, 2)));
	cr_expect(isnan(wb_max(none, 0)));
}

/* Linear interpolation between closest ranks, rank = p/100 * (n - 1). */
Test(unit, percentiles_interpolate)
{
	double v[] = { 10, 20, 30, 40, 50 }; /* n = 5: rank = p / 25 */

	cr_expect_float_eq(wb_percentile_sorted(v, 5, 0), 10.0, EPS);
	cr_expect_float_eq(wb_percentile_sorted(v, 5, 25), 20.0, EPS);   /* rank 1 */
	cr_expect_float_eq(wb_percentile_sorted(v, 5, 50), 30.0, EPS);   /* rank 2 */
	cr_expect_float_eq(wb_percentile_sorted(v, 5, 90), 46.0, EPS);   /* rank 3.6 */
	cr_expect_float_eq(wb_percentile_sorted(v, 5, 99), 49.6, EPS);   /* rank 3.96 */
	cr_expect_float_eq(wb_percentile_sorted(v, 5, 99.9), 49.96, EPS);/* rank 3.996 */
	cr_expect_float_eq(wb_percentile_sorted(v, 5, 100), 50.0, EPS);
}

/* 1..1000: rank = p/100 * 999, value = rank + 1. */
Test(unit, percentiles_of_a_thousand)
{
	double v[1000];

	for (int i = 0; i < 1000; i++)
		v[i] = 1000 - i; /* unsorted on purpose */
	cr_expect_float_eq(wb_percentile(v, 1000, 50), 500.5, EPS);
	cr_expect_float_eq(wb_percentile_sorted(v, 1000, 99), 990.01, EPS);
	cr_expect_float_eq(wb_percentile_sorted(v, 1000, 99.9), 999.001, EPS);
}

Test(unit, percentile_single_and_empty)
{
	double v[] = { 42 };

	cr_expect_float_eq(wb_percentile_sorted(v, 1, 99.9), 42.0, EPS);
	cr_expect(isnan(wb_percentile_sorted(v, 0, 50)));
}

Test(unit, summary_skips_nan_and_keeps_input)
{
	double v[] = { 3, NAN, 1, 2, 8 };
	struct wb_summary s = wb_summarize(v, 5);

	cr_expect_eq(s.n, 4);
	cr_expect_float_eq(s.median, 2.5, EPS); /* 1 2 3 8 */
	cr_expect_float_eq(s.min, 1.0, EPS);
	cr_expect_float_eq(s.max, 8.0, EPS);
	cr_expect(v[0] == 3 && isnan(v[1]) && v[4] == 8);
}
