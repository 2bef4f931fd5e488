/* SPDX-License-Identifier: MIT */
/* The runner behind tests/tsan/criterion/criterion.h: runs every registered
 * test in order, in this process, and exits non-zero if any failed.
 * Arguments: criterion's (--jobs=1 --verbose=0) are accepted and ignored;
 * --filter=SUITE/NAME runs one test. */
#include <criterion/criterion.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static struct wt_cr_test *tests, **tests_tail = &tests;
static struct wt_cr_suite *suites;
static jmp_buf leave;
static bool failed;

void wt_cr_register(struct wt_cr_test *t)
{
	*tests_tail = t; /* constructors run in file order: keep it */
	tests_tail = &t->next;
}

void wt_cr_register_suite(struct wt_cr_suite *s)
{
	s->next = suites;
	suites = s;
}

void wt_cr_check(bool ok, bool fatal, const char *file, int line, const char *expr,
		 const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	failed = true;
	fprintf(stderr, "%s:%d: %s failed: %s", file, line, fatal ? "assertion" : "expectation",
		expr);
	if (fmt[1]) {
		fputc(':', stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	if (fatal)
		longjmp(leave, 1);
}

void wt_cr_skip(const char *fmt, ...)
{
	va_list ap;

	fputs("skipped:", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	longjmp(leave, 2);
}

static const struct wt_cr_suite_cfg *suite_cfg(const char *name)
{
	for (struct wt_cr_suite *s = suites; s; s = s->next)
		if (!strcmp(s->name, name))
			return &s->cfg;
	return NULL;
}

/* Run one test with its suite's init and fini: 0 passed, 1 failed, 2 skipped. */
static int run_one(const struct wt_cr_test *t)
{
	const struct wt_cr_suite_cfg *volatile cfg = suite_cfg(t->suite);
	volatile int how;

	failed = false;
	how = setjmp(leave);
	if (how == 0) {
		if (cfg && cfg->init)
			cfg->init();
		t->fn();
	}
	if (cfg && cfg->fini && setjmp(leave) == 0)
		cfg->fini();
	return how == 2 ? 2 : failed ? 1 : 0;
}

/* As Criterion does: each test in a process of its own, so that a test's
 * namespace, devices and threads cannot leak into the next one. */
static int run_isolated(const struct wt_cr_test *t)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return run_one(t);
	if (pid == 0)
		_exit(run_one(t));
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "test killed by signal %d\n", WTERMSIG(status));
		return 1;
	}
	/* TSan exits with 66 when it reported a race. */
	return WEXITSTATUS(status) <= 2 ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	static const char *const verdict[] = { "PASS", "FAIL", "SKIP" };
	const char *filter = NULL;
	unsigned count[3] = { 0, 0, 0 };

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--filter=", 9))
			filter = argv[i] + 9;
	for (struct wt_cr_test *t = tests; t; t = t->next) {
		char full[256];
		int r;

		snprintf(full, sizeof(full), "%s/%s", t->suite, t->name);
		if (filter && strcmp(filter, full))
			continue;
		r = run_isolated(t);
		count[r]++;
		fprintf(stderr, "[%s] %s\n", verdict[r], full);
	}
	fprintf(stderr, "passing: %u, failing: %u, skipped: %u\n", count[0], count[1], count[2]);
	return count[1] ? 1 : 0;
}
