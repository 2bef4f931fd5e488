/* SPDX-License-Identifier: MIT */
/* Order statistics over small vectors of doubles (runs, latency samples). */
#ifndef WB_STATS_H
#define WB_STATS_H

#include <stddef.h>

/* Sort @v in place, ascending (NaNs last). */
void wb_sort(double *v, size_t n);

/*
 * The @p-th percentile (0..100) of the sorted vector @v, by linear
 * interpolation between closest ranks: rank = p / 100 * (n - 1) (the method
 * of numpy's default and of Excel's PERCENTILE.INC).  NaN if @n is 0.
 */
double wb_percentile_sorted(const double *v, size_t n, double p);

/* Same on an unsorted vector; sorts @v in place. */
double wb_percentile(double *v, size_t n, double p);

/* Median (the 50th percentile: the mean of the two middle values for an
 * even @n); sorts @v in place.  NaN if @n is 0. */
double wb_median(double *v, size_t n);

/* Smallest and largest value, ignoring NaNs; NaN if there is none. */
double wb_min(const double *v, size_t n);
double wb_max(const double *v, size_t n);

/* Median, min and max of the non-NaN values among @v (not modified). */
struct wb_summary {
	double median, min, max;
	size_t n; /* values that were not NaN */
};
struct wb_summary wb_summarize(const double *v, size_t n);

#endif
