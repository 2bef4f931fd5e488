/* SPDX-License-Identifier: MIT */
/*
 * wintun-bench: the io_uring engine against a plain read()/write() loop, on
 * the same TUN devices, in private network namespaces, interleaved run by
 * run.  See --help and bench/README (in the top-level README).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "mq.h"
#include "wintun.h"

static void on_signal(int sig)
{
	(void)sig;
	wb_interrupted = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: sleeps end early */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void logger(WINTUN_LOGGER_LEVEL level, uint64_t ts, const char *msg)
{
	(void)ts;
	if (level != WINTUN_LOG_INFO)
		fprintf(stderr, "wintun: %s\n", msg);
}

static bool progress_tty;

static void progress(const struct wb_scenario *scn, unsigned run, unsigned runs, const char *what,
		     double secs_left)
{
	fprintf(stderr, "%s[%s] run %u/%u %-8s  ~%.0f s left%s", progress_tty ? "\r" : "",
		scn->name, run + 1, runs, what, secs_left, progress_tty ? "   " : "\n");
}

static double total_seconds(const struct wb_opts *o)
{
	double t = 0;

	for (unsigned s = 0; s < WB_NSCN; s++)
		if (o->scenarios & (1u << s))
			t += o->runs * (WB_NIMPL + wb_scenarios[s].bound) * (o->duration + 0.5);
	return t;
}

/* The kernel bound of this run, next to both implementations' numbers. */
static void run_bound(const struct wb_opts *o, struct wb_env *env, struct wb_result *res,
		      unsigned run)
{
	double bound = wb_tcp_over_veth(o, env);

	for (unsigned impl = 0; impl < WB_NIMPL; impl++) {
		double *m = &res->m[impl][run * WB_NMETRIC];

		m[WB_M_BOUND_GBPS] = bound;
		m[WB_M_OF_BOUND] = bound > 0 ? m[WB_M_GBPS] / bound : NAN;
	}
}

static int run_scenario(const struct wb_opts *o, struct wb_env *env, struct wb_result *res,
			double *left)
{
	for (unsigned run = 0; run < o->runs; run++) {
		for (unsigned impl = 0; impl < WB_NIMPL; impl++) {
			int ret;

			progress(res->scn, run, o->runs, impl == WB_ENGINE ? "engine" : "baseline",
				 *left);
			ret = wb_run_once(res->scn, impl, o, env,
					  &res->m[impl][run * WB_NMETRIC]);
			*left -= o->duration + 0.5;
			if (ret)
				return ret;
		}
		if (res->scn->bound) {
			progress(res->scn, run, o->runs, "veth", *left);
			run_bound(o, env, res, run);
			*left -= o->duration + 0.5;
		}
		res->runs_done = run + 1;
	}
	return 0;
}

static int write_json(const struct wb_opts *o, const struct wb_result *res, unsigned n)
{
	FILE *f = fopen(o->json_out, "w");

	if (!f) {
		fprintf(stderr, "wintun-bench: %s: %s\n", o->json_out, strerror(errno));
		return -1;
	}
	wb_report_json(f, o, res, n);
	return fclose(f) ? -1 : 0;
}

static int setup(struct wb_env *env)
{
	int ret = wb_env_setup(env);

	if (ret == -EPERM || ret == -EACCES) {
		fprintf(stderr, "wintun-bench: not permitted (%s). It needs root, or CAP_SYS_ADMIN "
				"and CAP_NET_ADMIN, to create private network namespaces and TUN "
				"devices (/dev/net/tun).\n",
			strerror(-ret));
		return 1;
	}
	if (ret) {
		if (ret == -ENOENT || ret == -ENODEV)
			fprintf(stderr, "wintun-bench: no TUN support (/dev/net/tun, module tun)\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct wb_opts o;
	struct wb_env env;
	struct wb_result res[WB_NSCN];
	unsigned n = 0;
	double left;
	bool exit_now;
	int ret = wb_opts_parse(&o, argc, argv, &exit_now), status = 0;

	if (ret || exit_now)
		return ret;
	if (o.checksum) {
		wb_cpu_init(false);
		return wb_checksum_bench(&o);
	}
	if (o.calls) {
		wb_cpu_init(false);
		return wb_calls_bench(&o);
	}
	install_signals();
	WintunSetLogger(logger);
	progress_tty = isatty(STDERR_FILENO);
	if (setup(&env)) {
		wb_env_teardown(&env);
		return 1;
	}
	wb_cpu_init(!o.no_hw);
	if (o.mq && !o.scenarios) {
		status = wb_mq_bench(&o, &env);
		wb_env_teardown(&env);
		return status;
	}
	left = total_seconds(&o);
	memset(res, 0, sizeof(res));
	for (unsigned s = 0; s < WB_NSCN && !wb_interrupted; s++) {
		if (!(o.scenarios & (1u << s)))
			continue;
		res[n].scn = &wb_scenarios[s];
		for (unsigned i = 0; i < WB_NIMPL; i++)
			res[n].m[i] = calloc((size_t)o.runs * WB_NMETRIC, sizeof(double));
		if (!res[n].m[WB_ENGINE] || !res[n].m[WB_BASELINE]) {
			fprintf(stderr, "wintun-bench: out of memory\n");
			status = 1;
			break;
		}
		ret = run_scenario(&o, &env, &res[n++], &left);
		if (ret && ret != -EINTR) {
			fprintf(stderr, "\nwintun-bench: scenario %s failed: %s\n",
				wb_scenarios[s].name, strerror(-ret));
			status = 1;
		}
	}
	if (progress_tty)
		fprintf(stderr, "\r%60s\r", "");
	if (wb_interrupted) {
		fprintf(stderr, "wintun-bench: interrupted; results of the completed runs follow\n");
		status = 130;
	}
	if (o.mq && !wb_interrupted)
		status = wb_mq_bench(&o, &env) ? 1 : status;
	if (o.json)
		wb_report_json(stdout, &o, res, n);
	else
		wb_report_table(&o, res, n);
	if (o.json_out && write_json(&o, res, n))
		status = status ? status : 1;
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < WB_NIMPL; k++)
			free(res[i].m[k]);
	wb_env_teardown(&env);
	return status;
}
