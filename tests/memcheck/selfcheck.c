/* SPDX-License-Identifier: MIT */
/*
 * Not a test of the library: deliberately broken tests that the memory
 * checking steps must fail (tests/memcheck/selfcheck.sh), so that a checker
 * whose reports get lost is noticed.  Built, never registered with meson.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Volatile, so that the compiler keeps the allocations and the access. */
static void *volatile sink;
static volatile size_t past_end = 16;

Test(selfcheck, clean)
{
	sink = malloc(64);
	cr_assert_not_null(sink);
	free(sink);
	sink = NULL;
}

Test(selfcheck, definite_leak)
{
	sink = malloc(4096);
	cr_assert_not_null(sink);
	memset(sink, 1, 4096);
	sink = NULL; /* the last pointer to the block is gone */
}

Test(selfcheck, invalid_read)
{
	char *volatile p = malloc(16);
	volatile char c;

	cr_assert_not_null(p);
	c = p[past_end]; /* one byte past the block */
	(void)c;
	free(p);
}
