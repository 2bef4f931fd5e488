/* SPDX-License-Identifier: MIT */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y); /* NaNs sort last */
	return (x > y) - (x < y);
}

void wb_sort(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_double);
}

double wb_percentile_sorted(const double *v, size_t n, double p)
{
	double rank, frac;
	size_t lo;

	if (!n)
		return NAN;
	if (p <= 0)
		return v[0];
	if (p >= 100)
		return v[n - 1];
	rank = p / 100.0 * (double)(n - 1);
	lo = (size_t)rank;
	frac = rank - (double)lo;
	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + frac * (v[lo + 1] - v[lo]);
}

double wb_percentile(double *v, size_t n, double p)
{
	wb_sort(v, n);
	return wb_percentile_sorted(v, n, p);
}

double wb_median(double *v, size_t n)
{
	return wb_percentile(v, n, 50);
}

double wb_min(const double *v, size_t n)
{
	double m = NAN;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]) && (isnan(m) || v[i] < m))
			m = v[i];
	return m;
}

double wb_max(const double *v, size_t n)
{
	double m = NAN;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]) && (isnan(m) || v[i] > m))
			m = v[i];
	return m;
}

struct wb_summary wb_summarize(const double *v, size_t n)
{
	struct wb_summary s = { NAN, NAN, NAN, 0 };
	double *copy = n ? malloc(n * sizeof(*v)) : NULL;

	if (!copy)
		return s;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			copy[s.n++] = v[i];
	s.median = wb_median(copy, s.n);
	s.min = wb_min(copy, s.n);
	s.max = wb_max(copy, s.n);
	free(copy);
	return s;
}
