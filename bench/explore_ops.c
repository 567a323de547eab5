/* SPDX-License-Identifier: MIT */
/*
 * bench/explore_ops.c - how fast the laboratory explores, and what partial-order
 * reduction saves (issue 5 items 7 and 2).
 *
 *   speed      R1-lost-dio-read (the corpus test) under each of its policies,
 *              with the default search (DFS, POR, preemption bound 2), run
 *              --runs times: scheduling points per second (every substrate
 *              point, the actors' and the scheduler context's: setup builds a
 *              world per execution), states per second (the points where a
 *              switch could happen), executions per second; medians, and the
 *              target of docs/performance.md (>= 1 M points/s).
 *   reduction  every corpus test under each policy of its Result: lines, with
 *              and without POR (both under the preemption bound 2): executions
 *              and time.  Without POR a run stops at --cap executions ("cap
 *              reached"): that search grows with every interleaving of several
 *              thousand steps.
 *
 * Figures to read, never asserted.  The whole world is rebuilt every execution,
 * so the figures include the engine's setup and teardown, as a user's run does.
 *
 * usage: explore_ops [--runs N] [--cap N] [--dir DIR] [--speed-only]
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchors.h"
#include "litmus/litmus.h"
#include "litmus/run.h"

#define MAX_RUNS	100
#define SPEED_TEST	"R1-lost-dio-read.litmus"
#define TARGET_POINTS	1e6

struct bench {
	int runs;
	unsigned long cap;
	const char *dir;
	bool speed_only;
};

static struct litmus_test *load(const char *dir, const char *name)
{
	char path[1024];
	struct litmus_test *t = NULL;
	struct litmus_diag d;
	char *text;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "explore_ops: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	text = malloc(LITMUS_MAX_TEXT + 1);
	len = text ? fread(text, 1, LITMUS_MAX_TEXT + 1, f) : 0;
	fclose(f);
	if (text && litmus_parse(path, text, len, &t, &d))
		fprintf(stderr, "%s\n", d.text);
	free(text);
	return t;
}

/* One run of @t under @policy; NULL (and a message) if it failed. */
static struct litmus_result *run(const struct litmus_test *t, const char *policy, bool por,
				 unsigned long cap)
{
	struct litmus_run_opts o;
	struct litmus_result *r;

	litmus_run_opts_init(&o);
	o.explore.por = por;
	o.explore.max_execs = cap;
	if (litmus_run(t, policy, &o, &r))
		return NULL;
	if (r->err || r->errors) {
		fprintf(stderr, "explore_ops: %s %s: %s\n", t->name, policy,
			r->err ? r->err_text : "the engine's checker failed");
		litmus_result_free(r);
		return NULL;
	}
	return r;
}

/* ---- speed ---------------------------------------------------------------------- */

static int speed(const struct bench *b)
{
	struct litmus_test *t = load(b->dir, SPEED_TEST);
	double pts[MAX_RUNS], sts[MAX_RUNS], exs[MAX_RUNS];
	int ret = 0;

	if (!t)
		return 1;
	printf("speed: %s, DFS with POR, preemption bound %d, %d runs a policy (medians)\n",
	       t->name, LITMUS_DEFAULT_BOUND, b->runs);
	for (unsigned p = 0; p < t->nr_expect && !ret; p++) {
		const char *policy = t->expect[p].policy;
		unsigned long execs = 0;
		double secs = 0;

		for (int i = 0; i < b->runs; i++) {
			struct litmus_result *r = run(t, policy, true, 0);

			if (!r) {
				ret = 1;
				break;
			}
			pts[i] = (double)r->stats.points / r->secs;
			sts[i] = (double)r->stats.states / r->secs;
			exs[i] = (double)r->stats.execs / r->secs;
			execs = r->stats.execs;
			secs = r->secs;
			litmus_result_free(r);
		}
		if (ret)
			break;
		printf("  %-13s %6lu executions (%.2f s a run): %6.2f M points/s  "
		       "%6.2f M states/s  %7.0f executions/s   target >= %.0f M points/s: %s\n",
		       policy, execs, secs, anchor_median(pts, b->runs) / 1e6,
		       anchor_median(sts, b->runs) / 1e6, anchor_median(exs, b->runs),
		       TARGET_POINTS / 1e6,
		       anchor_median(pts, b->runs) >= TARGET_POINTS ? "met" : "NOT met");
	}
	litmus_free(t);
	return ret;
}

/* ---- reduction ------------------------------------------------------------------ */

static void reduction_row(const struct bench *b, const struct litmus_test *t, const char *policy)
{
	struct litmus_result *with = run(t, policy, true, 0);
	struct litmus_result *without = run(t, policy, false, b->cap);

	printf("  %-22s %-13s", t->name, policy);
	if (with)
		printf(" %9lu %7.2f s %-9s", with->stats.execs, with->secs,
		       litmus_obs_name(with->obs));
	else
		printf(" %9s %9s %-9s", "error", "", "");
	if (!without)
		printf(" %12s\n", "error");
	else if (!without->stats.complete)
		printf(" cap reached (%lu executions, %.2f s, %s so far)\n", without->stats.execs,
		       without->secs, litmus_obs_name(without->obs));
	else
		printf(" %12lu %7.2f s %-9s x%.0f\n", without->stats.execs, without->secs,
		       litmus_obs_name(without->obs),
		       with ? (double)without->stats.execs / (double)with->stats.execs : 0.0);
	litmus_result_free(with);
	litmus_result_free(without);
}

static int is_litmus(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 7 && !strcmp(d->d_name + n - 7, ".litmus");
}

static int reduction(const struct bench *b)
{
	struct dirent **names;
	int n = scandir(b->dir, &names, is_litmus, alphasort);

	if (n < 0) {
		fprintf(stderr, "explore_ops: %s: %s\n", b->dir, strerror(errno));
		return 1;
	}
	printf("\nreduction: executions with POR, and without (cap %lu), both under "
	       "preemption bound %d\n", b->cap, LITMUS_DEFAULT_BOUND);
	printf("  %-22s %-13s %9s %9s %-9s %12s\n", "test", "policy", "with POR", "", "",
	       "without POR");
	for (int i = 0; i < n; i++) {
		struct litmus_test *t = load(b->dir, names[i]->d_name);

		for (unsigned p = 0; t && p < t->nr_expect; p++)
			reduction_row(b, t, t->expect[p].policy);
		litmus_free(t);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: explore_ops [--runs N] [--cap N] [--dir DIR] [--speed-only]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct bench b = { .runs = anchor_runs(), .cap = 20000, .dir = "tests/litmus" };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			b.runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cap") && i + 1 < argc)
			b.cap = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			b.dir = argv[++i];
		else if (!strcmp(argv[i], "--speed-only"))
			b.speed_only = true;
		else
			return usage();
	}
	if (b.runs < 1 || b.runs > MAX_RUNS || !b.cap)
		return usage();
	if (speed(&b))
		return 1;
	return b.speed_only ? 0 : reduction(&b);
}
