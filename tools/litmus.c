/* SPDX-License-Identifier: MIT */
/*
 * tools/litmus.c - `gup litmus`: run litmus tests under the explorer and print
 * herd7-style results (docs/litmus.md, "Running tests"; man/gup.1).
 *
 * Every file is parsed before anything runs, so that a typo in the tenth test
 * is reported at once.  Exit status: 0; 1 if a check failed (--check), a run
 * stopped on an error or the engine's checker complained; 2 for bad input
 * (options, files, parse errors, policies, a malformed replay string).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gup/gup.h"
#include "litmus/litmus.h"
#include "litmus/run.h"
#include "cmd.h"
#include "corpus.h"

#define MAX_POLICIES	16

enum out_format { OUT_TEXT, OUT_JSON, OUT_DOT };

struct litmus_cmd {
	struct litmus_run_opts run;
	const char *policies[MAX_POLICIES];
	unsigned nr_policies;
	struct knob_args knobs;		/* --knob: into run.knobs */
	bool check;
	enum out_format format;
	bool strategy_set, seed_set, depth_set;
	struct corpus corpus;
	unsigned passed, failed, skipped;
	bool errors;		/* a run stopped, or the engine complained */
	bool progress_shown;
	unsigned nr_results;
};

void litmus_usage(FILE *f)
{
	fputs("  litmus [options] FILE|DIR...      run litmus tests (herd7-style output)\n"
	      "      --policy NAME     a policy to run (repeatable; default: the file's Result:\n"
	      "                        policies, or every preset)\n"
	      "      --knob NAME=VALUE override a knob of every policy run (repeatable; the\n"
	      "                        Result: lines are not checked then)\n"
	      "      --check           compare with the Result: lines; exit 1 on a mismatch\n"
	      "      --memory sc|sb    the memory model (default: the file's Memory: line, or\n"
	      "                        sc; --check skips a run whose model is not the file's)\n"
	      "      --json | --dot    JSON results, or a Graphviz picture of each witness\n"
	      "      --bound N|none    DFS preemption bound (default 2)\n"
	      "      --no-por          DFS without partial-order reduction\n"
	      "      --order-locks     POR that orders every two critical sections of a\n"
	      "                        lock, not only conflicting ones (for comparison)\n"
	      "      --random N        N random walks instead of DFS\n"
	      "      --pct N           N PCT walks (--depth D, default 3)\n"
	      "      --seed S          seed of --random and --pct (default 0)\n"
	      "      --replay STRING   run one schedule and print its trace\n"
	      "      --max-execs N     stop after N executions\n"
	      "      --max-steps N     choice points an execution may take (default 1000000)\n",
	      f);
}

static int bad(const char *fmt, const char *arg)
{
	return cmd_bad("gup litmus", fmt, arg);
}

/* A decimal count in [0, max]; -1 on garbage. */
static int64_t count_arg(const char *s, int64_t max)
{
	char *end;
	long long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return -1;
	return v;
}


/* ---- options ---------------------------------------------------------------------- */

static int set_strategy(struct litmus_cmd *c, enum explore_strategy s, const char *opt)
{
	if (c->strategy_set)
		return bad("only one of --random, --pct and --replay may be given (%s)", opt);
	c->strategy_set = true;
	c->run.explore.strategy = s;
	return 0;
}

/* An option that takes a count: its value, or -1 after the complaint. */
static int64_t opt_count(int argc, char **argv, int *i, int64_t max)
{
	int64_t v;

	if (*i + 1 >= argc) {
		bad("%s needs a value", argv[*i]);
		return -1;
	}
	v = count_arg(argv[*i + 1], max);
	if (v < 0) {
		fprintf(stderr, "gup litmus: %s wants a count in 0..%" PRId64 ", not '%s'\n",
			argv[*i], max, argv[*i + 1]);
		return -1;
	}
	(*i)++;
	return v;
}

static int opt_bound(struct litmus_cmd *c, int argc, char **argv, int *i)
{
	int64_t v;

	if (*i + 1 < argc && !strcmp(argv[*i + 1], "none")) {
		c->run.explore.preemption_bound = -1;
		(*i)++;
		return 0;
	}
	v = opt_count(argc, argv, i, 1000);
	if (v < 0)
		return 2;
	c->run.explore.preemption_bound = (int)v;
	return 0;
}

static int opt_policy(struct litmus_cmd *c, int argc, char **argv, int *i)
{
	const char *name;
	char msg[512];

	if (*i + 1 >= argc)
		return bad("%s needs a value", argv[*i]);
	name = argv[++*i];
	if (gup_policy_check(name, NULL, msg, sizeof(msg)))
		return bad("%s", msg);
	for (unsigned k = 0; k < c->nr_policies; k++)
		if (!strcmp(c->policies[k], name))
			return 0;
	if (c->nr_policies == MAX_POLICIES)
		return bad("too many policies (%s)", name);
	c->policies[c->nr_policies++] = name;
	return 0;
}

static int opt_knob(struct litmus_cmd *c, int argc, char **argv, int *i)
{
	char msg[512];

	if (*i + 1 >= argc)
		return bad("%s needs name=value", argv[*i]);
	if (knob_arg_add(&c->knobs, NULL, argv[++*i], msg, sizeof(msg)))
		return bad("%s", msg);
	c->run.knobs = c->knobs.v;
	return 0;
}

/* --memory sc|sb: force a model on every test, whatever its Memory: line says. */
static int opt_memory(struct litmus_cmd *c, int argc, char **argv, int *i)
{
	const char *name;
	int m;

	if (*i + 1 >= argc)
		return bad("%s needs sc or sb", argv[*i]);
	name = argv[++*i];
	m = litmus_memory_lookup(name, strlen(name));
	if (m < 0)
		return bad("--memory wants sc or sb, not '%s'", name);
	c->run.memory = m == LITMUS_MEM_SB ? LITMUS_RUN_MEMORY_SB : LITMUS_RUN_MEMORY_SC;
	return 0;
}

/* The options that pick or tune the search. */
static int opt_search(struct litmus_cmd *c, int argc, char **argv, int *i)
{
	const char *o = argv[*i];
	struct explore_config *e = &c->run.explore;
	int64_t v;

	if (!strcmp(o, "--bound"))
		return opt_bound(c, argc, argv, i);
	if (!strcmp(o, "--no-por")) {
		e->por = false;
		return 0;
	}
	if (!strcmp(o, "--order-locks")) {
		e->order_locks = true;
		return 0;
	}
	if (!strcmp(o, "--replay")) {
		if (*i + 1 >= argc)
			return bad("%s needs a schedule string", o);
		e->replay = argv[++*i];
		return set_strategy(c, EXPLORE_REPLAY, o);
	}
	v = opt_count(argc, argv, i, INT64_MAX / 2);
	if (v < 0)
		return 2;
	if (!strcmp(o, "--random") || !strcmp(o, "--pct")) {
		e->max_execs = (unsigned long)v;
		return set_strategy(c, o[2] == 'r' ? EXPLORE_RANDOM : EXPLORE_PCT, o);
	}
	if (!strcmp(o, "--seed")) {
		e->seed = (uint64_t)v;
		c->seed_set = true;
	} else if (!strcmp(o, "--depth")) {
		if (!v || v > 1000)
			return bad("--depth wants 1..1000, not '%s'", argv[*i]);
		e->pct_depth = (unsigned)v;
		c->depth_set = true;
	} else if (!strcmp(o, "--max-execs")) {
		e->max_execs = (unsigned long)v;
	} else {	/* --max-steps */
		e->max_steps = (unsigned long)v;
	}
	return 0;
}

static bool is_search_opt(const char *o)
{
	static const char *const opts[] = { "--bound", "--no-por", "--order-locks", "--random",
					     "--pct", "--seed",
					     "--depth", "--replay", "--max-execs", "--max-steps" };

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strcmp(o, opts[i]))
			return true;
	return false;
}

static int parse_options(struct litmus_cmd *c, int argc, char **argv, int *first_file)
{
	int i, err = 0;

	for (i = 1; i < argc && !err && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if (!strcmp(o, "--policy"))
			err = opt_policy(c, argc, argv, &i);
		else if (!strcmp(o, "--knob"))
			err = opt_knob(c, argc, argv, &i);
		else if (!strcmp(o, "--memory"))
			err = opt_memory(c, argc, argv, &i);
		else if (!strcmp(o, "--check"))
			c->check = true;
		else if (!strcmp(o, "--json") || !strcmp(o, "--dot"))
			c->format = c->format != OUT_TEXT ? (enum out_format)-1 :
				    o[2] == 'j' ? OUT_JSON : OUT_DOT;
		else if (is_search_opt(o))
			err = opt_search(c, argc, argv, &i);
		else
			err = bad("unknown option '%s'", o);
	}
	if (err)
		return err;
	if (c->format == (enum out_format)-1)
		return bad("%s", "--json and --dot exclude each other");
	if ((c->seed_set && c->run.explore.strategy != EXPLORE_RANDOM &&
	     c->run.explore.strategy != EXPLORE_PCT) ||
	    (c->depth_set && c->run.explore.strategy != EXPLORE_PCT))
		return bad("%s", "--seed goes with --random or --pct, --depth with --pct");
	if (i >= argc)
		return bad("%s", "no test file given");
	*first_file = i;
	return 0;
}

/* ---- running ---------------------------------------------------------------------- */

static void show_progress(void *arg, const struct litmus_result *r)
{
	struct litmus_cmd *c = arg;

	if (r->secs < 1.0)
		return;
	fprintf(stderr, "\r%s %s: %lu executions, %.1f s ", r->test->name, r->policy,
		r->stats.execs, r->secs);
	c->progress_shown = true;
}

static void clear_progress(struct litmus_cmd *c)
{
	if (c->progress_shown)
		fputs("\r\033[K", stderr);
	c->progress_shown = false;
}

/*
 * Why @r cannot be checked against the Result: lines (they hold for the presets
 * as they are, under the file's memory model), or NULL and its entry in *@want.
 */
static const char *why_unchecked(const struct litmus_result *r, enum litmus_obs *want,
				 char *buf, size_t size)
{
	if (r->knobs)
		return "knobs overridden (the Result: lines are the presets')";
	if (litmus_result_memory(r) != r->test->memory) {
		snprintf(buf, size, "memory model %s forced (the Result: lines are for the "
			 "file's, %s)", litmus_memory_name(litmus_result_memory(r)),
			 litmus_memory_name(r->test->memory));
		return buf;
	}
	if (!litmus_expected(r->test, r->policy, want))
		return "no Result: for this policy";
	return NULL;
}

/* Compare with the Result: line; "ok", "FAIL" or NULL (nothing expected). */
static const char *check_one(struct litmus_cmd *c, const struct litmus_result *r)
{
	enum litmus_obs want;
	FILE *out = c->format == OUT_TEXT ? stdout : stderr;
	char buf[128];
	const char *why;

	if (!c->check)
		return NULL;
	why = why_unchecked(r, &want, buf, sizeof(buf));
	if (why) {
		c->skipped++;
		if (c->format != OUT_JSON)
			fprintf(out, "skip %s %s: %s\n", r->test->name, r->policy, why);
		return NULL;
	}
	if (want == r->obs && !r->err && !r->errors) {
		c->passed++;
		if (c->format != OUT_JSON)
			fprintf(out, "ok   %s %s %s\n", r->test->name, r->policy,
				litmus_obs_name(r->obs));
		return "ok";
	}
	c->failed++;
	if (c->format != OUT_JSON)
		fprintf(out, "FAIL %s %s %s, expected %s%s\n", r->test->name, r->policy,
			litmus_obs_name(r->obs), litmus_obs_name(want),
			r->err || r->errors ? " (and the run had errors)" : "");
	return "FAIL";
}

static void report(struct litmus_cmd *c, const struct litmus_result *r, const char *check)
{
	switch (c->format) {
	case OUT_TEXT:
		litmus_report_text(stdout, r);
		break;
	case OUT_JSON:
		fputs(c->nr_results ? ",\n" : "\n", stdout);
		litmus_report_json(stdout, r, check);
		break;
	case OUT_DOT:
		litmus_report_dot(stdout, r);
		break;
	}
	c->nr_results++;
}

static int run_one(struct litmus_cmd *c, const struct litmus_test *t, const char *policy)
{
	struct litmus_result *r;
	const char *check;
	int err = litmus_run(t, policy, &c->run, &r);

	clear_progress(c);
	if (err) {
		fprintf(stderr, "gup litmus: %s %s: %s\n", t->name, policy, strerror(-err));
		c->errors = true;
		return err == -EINVAL ? 2 : 0;
	}
	if (r->err == -EINVAL && c->run.explore.strategy == EXPLORE_REPLAY) {
		fprintf(stderr, "gup litmus: %s %s: %s\n", t->name, policy, r->err_text);
		litmus_result_free(r);
		return 2;
	}
	if (c->format == OUT_TEXT && c->nr_results)
		fputc('\n', stdout);
	c->errors |= r->err || r->errors;
	if (c->format == OUT_TEXT) {
		report(c, r, NULL);
		check = check_one(c, r);
	} else {
		check = check_one(c, r);
		report(c, r, check);
	}
	litmus_result_free(r);
	fflush(stdout);
	return 0;
}

static int run_test(struct litmus_cmd *c, const struct litmus_test *t)
{
	int err = 0;

	if (c->nr_policies) {
		for (unsigned i = 0; !err && i < c->nr_policies; i++)
			err = run_one(c, t, c->policies[i]);
		return err;
	}
	if (t->nr_expect) {
		for (unsigned i = 0; !err && i < t->nr_expect; i++)
			err = run_one(c, t, t->expect[i].policy);
		return err;
	}
	for (const char *const *n = gup_policy_names(); !err && *n; n++)
		err = run_one(c, t, *n);
	return err;
}

static void summary(struct litmus_cmd *c)
{
	FILE *out = c->format == OUT_DOT ? stderr : stdout;

	if (c->format == OUT_JSON) {
		printf("\n], \"checked\": %s, \"passed\": %u, \"failed\": %u, \"skipped\": %u}\n",
		       c->check ? "true" : "false", c->passed, c->failed, c->skipped);
		return;
	}
	if (!c->check)
		return;
	if (c->format == OUT_TEXT)
		fputc('\n', out);
	if (c->skipped)
		fprintf(out, "%u passed, %u failed, %u skipped\n", c->passed, c->failed,
			c->skipped);
	else
		fprintf(out, "%u passed, %u failed\n", c->passed, c->failed);
}

static int run_all(struct litmus_cmd *c)
{
	int err = 0;

	if (isatty(STDERR_FILENO)) {
		c->run.progress = show_progress;
		c->run.progress_arg = c;
	}
	if (c->format == OUT_JSON)
		fputs("{\"results\": [", stdout);
	for (unsigned i = 0; !err && i < c->corpus.nr; i++)
		err = run_test(c, c->corpus.tests[i]);
	if (err)
		return err;
	summary(c);
	return c->failed || c->errors ? 1 : 0;
}

static void cmd_free(struct litmus_cmd *c)
{
	corpus_release(&c->corpus);
	free(c);
}

int cmd_litmus(int argc, char **argv)
{
	struct litmus_cmd *c = calloc(1, sizeof(*c));
	int first = 0, ret;

	if (!c)
		return bad("%s", "out of memory");
	litmus_run_opts_init(&c->run);
	c->corpus.cmd = "gup litmus";
	ret = parse_options(c, argc, argv, &first);
	for (int i = first; !ret && i < argc; i++)
		ret = corpus_add(&c->corpus, argv[i]);
	if (!ret || ret == 2)	/* every parse error, even after a bad path */
		ret = corpus_parse(&c->corpus) ? 2 : ret;
	if (!ret)
		ret = run_all(c);
	cmd_free(c);
	return ret;
}
