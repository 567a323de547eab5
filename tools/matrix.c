/* SPDX-License-Identifier: MIT */
/*
 * tools/matrix.c - `gup matrix`: the litmus corpus under every policy preset,
 * as one table - races as rows, designs as columns (docs/matrix.md).
 *
 * Each cell is one `gup litmus` run (the same default search) reduced to its
 * observation and the executions it took, marked where it differs from the
 * test's Result: line for that preset.  The runs are independent, so they go
 * to --jobs OS threads (the runner keeps no global state); the table is
 * printed when all are done, in file and preset order.  Exit status: 0; 1 if
 * --check found a cell that differs (or a run failed); 2 for bad input.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gup/gup.h"
#include "litmus/litmus.h"
#include "litmus/run.h"
#include "cmd.h"
#include "corpus.h"
#include "matrix.h"

#define MAX_PRESETS	32
#define MAX_JOBS	64
#define DEFAULT_DIR	"tests/litmus"

enum mx_format { MX_TEXT, MX_MARKDOWN, MX_JSON };

/* What a cell says once its run is over. */
enum mx_verdict {
	MX_AS_EXPECTED,		/* the Result: line's observation           */
	MX_DIFFERS,		/* another one (or the run had errors)      */
	MX_UNSTATED,		/* the test says nothing for this preset    */
};

struct mx_cell {
	enum litmus_obs obs, want;
	enum mx_verdict verdict;
	unsigned long execs;
	bool complete, had_errors;
	int err;			/* litmus_run's own failure (-errno), or 0 */
	double secs;
};

struct matrix_cmd {
	struct litmus_run_opts run;
	enum mx_format format;
	bool check;
	unsigned jobs;
	const char *presets[MAX_PRESETS];
	unsigned nr_presets;
	struct corpus corpus;
	struct mx_cell *cells;		/* [test][preset] */
	struct mx_cost costs[MAX_PRESETS];
	int cost_err[MAX_PRESETS];
	struct mx_claim_out *claims;	/* matrix_claims(), in order */
	unsigned nr_claims;
	/* the work queue of the threads */
	pthread_mutex_t lock;
	unsigned next;			/* under lock: the next cell to run */
	double wall;
};

void matrix_usage(FILE *f)
{
	fputs("  matrix [options] [FILE|DIR...]    the corpus under every preset, as a table\n"
	      "                                    (default: " DEFAULT_DIR ")\n"
	      "      --check           exit 1 if a cell differs from its Result: line\n"
	      "      --markdown | --json   a Markdown table, or JSON, instead of text\n"
	      "      --policy NAME     a column (repeatable; default: every preset)\n"
	      "      --bound N|none    DFS preemption bound (default 2)\n"
	      "      --max-execs N     stop each search after N executions\n"
	      "      --jobs N          runs at once (default 2)\n",
	      f);
}

static int mx_bad(const char *fmt, const char *arg)
{
	return cmd_bad("gup matrix", fmt, arg);
}

/* ---- options ---------------------------------------------------------------------- */

static bool known_preset(const char *name)
{
	for (const char *const *n = gup_policy_names(); *n; n++)
		if (!strcmp(*n, name))
			return true;
	return false;
}

/* A count option's value: 1 .. @max, or -1 after a message. */
static long long mx_count(int argc, char **argv, int *i, long long max)
{
	const char *o = argv[*i];
	char *end;
	long long v;

	if (*i + 1 >= argc) {
		mx_bad("%s needs a number", o);
		return -1;
	}
	errno = 0;
	v = strtoll(argv[++*i], &end, 10);
	if (errno || end == argv[*i] || *end || v < 1 || v > max) {
		fprintf(stderr, "gup matrix: %s wants 1..%lld, not '%s'\n(see: gup help)\n", o, max,
			argv[*i]);
		return -1;
	}
	return v;
}

static int mx_option(struct matrix_cmd *c, int argc, char **argv, int *i)
{
	const char *o = argv[*i];
	long long v;

	if (!strcmp(o, "--check")) {
		c->check = true;
	} else if (!strcmp(o, "--markdown") || !strcmp(o, "--json")) {
		if (c->format != MX_TEXT)
			return mx_bad("%s", "--markdown and --json exclude each other");
		c->format = o[2] == 'm' ? MX_MARKDOWN : MX_JSON;
	} else if (!strcmp(o, "--policy")) {
		if (*i + 1 >= argc)
			return mx_bad("%s", "--policy needs a preset name");
		if (!known_preset(argv[*i + 1]))
			return mx_bad("unknown policy '%s' (see: gup policies)", argv[*i + 1]);
		if (c->nr_presets == MAX_PRESETS)
			return mx_bad("%s", "too many --policy options");
		c->presets[c->nr_presets++] = argv[++*i];
	} else if (!strcmp(o, "--bound") && *i + 1 < argc && !strcmp(argv[*i + 1], "none")) {
		c->run.explore.preemption_bound = -1;
		++*i;
	} else if (!strcmp(o, "--bound")) {
		if ((v = mx_count(argc, argv, i, 1000)) < 0)
			return 2;
		c->run.explore.preemption_bound = (int)v;
	} else if (!strcmp(o, "--max-execs")) {
		if ((v = mx_count(argc, argv, i, 1000000000000LL)) < 0)
			return 2;
		c->run.explore.max_execs = (unsigned long)v;
	} else if (!strcmp(o, "--jobs")) {
		if ((v = mx_count(argc, argv, i, MAX_JOBS)) < 0)
			return 2;
		c->jobs = (unsigned)v;
	} else {
		return mx_bad("unknown option '%s'", o);
	}
	return 0;
}

/* Options, then the files (or the default directory). */
static int mx_parse(struct matrix_cmd *c, int argc, char **argv)
{
	int i, err = 0;

	for (i = 1; i < argc && !err && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		err = mx_option(c, argc, argv, &i);
	}
	if (err)
		return err;
	if (!c->nr_presets)
		for (const char *const *n = gup_policy_names(); *n && c->nr_presets < MAX_PRESETS; n++)
			c->presets[c->nr_presets++] = *n;
	if (i >= argc)
		err = corpus_add(&c->corpus, DEFAULT_DIR);
	for (; !err && i < argc; i++)
		err = corpus_add(&c->corpus, argv[i]);
	if (!err || err == 2)		/* every parse error, even after a bad path */
		err = corpus_parse(&c->corpus) ? 2 : err;
	return err;
}

/* ---- running ---------------------------------------------------------------------- */

static void mx_fill(struct mx_cell *cell, const struct litmus_test *t, const char *preset,
		    const struct litmus_result *r)
{
	cell->obs = r->obs;
	cell->execs = r->stats.execs;
	cell->complete = r->stats.complete;
	cell->had_errors = r->err || r->errors;
	cell->secs = r->secs;
	if (!litmus_expected(t, preset, &cell->want))
		cell->verdict = MX_UNSTATED;
	else if (cell->want == cell->obs && !cell->had_errors)
		cell->verdict = MX_AS_EXPECTED;
	else
		cell->verdict = MX_DIFFERS;
}

static void mx_run_cell(struct matrix_cmd *c, unsigned k)
{
	const struct litmus_test *t = c->corpus.tests[k / c->nr_presets];
	const char *preset = c->presets[k % c->nr_presets];
	struct mx_cell *cell = &c->cells[k];
	struct litmus_result *r;

	cell->err = litmus_run(t, preset, &c->run, &r);
	if (cell->err) {
		cell->verdict = MX_DIFFERS;
		cell->had_errors = true;
		return;
	}
	mx_fill(cell, t, preset, r);
	litmus_result_free(r);
}

static void *mx_worker(void *arg)
{
	struct matrix_cmd *c = arg;
	unsigned total = c->corpus.nr * c->nr_presets;

	for (;;) {
		unsigned k;

		pthread_mutex_lock(&c->lock);
		k = c->next < total ? c->next++ : total;
		pthread_mutex_unlock(&c->lock);
		if (k == total)
			return NULL;
		mx_run_cell(c, k);
	}
}

static double mx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every cell, on @c->jobs threads (the calling one among them). */
static int mx_run_all(struct matrix_cmd *c)
{
	const struct mx_claim *defs;
	pthread_t th[MAX_JOBS];
	unsigned started = 0;
	double t0 = mx_now();

	c->cells = calloc((size_t)c->corpus.nr * c->nr_presets, sizeof(*c->cells));
	if (!c->cells)
		return mx_bad("%s", "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	while (started + 1 < c->jobs && !pthread_create(&th[started], NULL, mx_worker, c))
		started++;
	mx_worker(c);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&c->lock);
	/* The cost side: one free-mode workload per preset, one at a time (it times fork). */
	for (unsigned p = 0; p < c->nr_presets; p++)
		c->cost_err[p] = matrix_cost(c->presets[p], &c->costs[p]);
	/* Where the thread disagreed: each claim's own run. */
	defs = matrix_claims(&c->nr_claims);
	c->claims = calloc(c->nr_claims, sizeof(*c->claims));
	if (!c->claims)
		return mx_bad("%s", "out of memory");
	for (unsigned i = 0; i < c->nr_claims; i++)
		matrix_claim_run(&defs[i], &c->corpus, &c->run, &c->claims[i]);
	c->wall = mx_now() - t0;
	return 0;
}

/* Claims that can be checked and are not borne out by their run. */
static unsigned mx_claims_failed(const struct matrix_cmd *c)
{
	unsigned n, bad = 0;
	const struct mx_claim *defs = matrix_claims(&n);

	for (unsigned i = 0; i < c->nr_claims; i++)
		bad += c->claims[i].found && !defs[i].pending &&
		       !matrix_claim_settled(&defs[i], &c->claims[i]);
	return bad;
}

static void mx_print_claims(const struct matrix_cmd *c, bool markdown)
{
	unsigned n;
	const struct mx_claim *defs = matrix_claims(&n);

	if (markdown)
		printf("\n| who | claim | run | verdict | witness |\n|---|---|---|---|---|\n");
	else
		printf("\nwhere the thread disagreed\n");
	for (unsigned i = 0; i < c->nr_claims; i++)
		matrix_claim_print(stdout, &defs[i], &c->claims[i], markdown);
}

static const char *const cost_head[] = {
	"preset", "fork copies", "atomics/page", "mb/page", "fallbacks/page", "fork during I/O",
};

/* One preset's costs as the columns of cost_head (after the name). */
static void mx_cost_cells(const struct matrix_cmd *c, unsigned p, char cell[5][32])
{
	const struct mx_cost *k = &c->costs[p];

	if (c->cost_err[p]) {
		for (int i = 0; i < 5; i++)
			snprintf(cell[i], 32, "error %d", c->cost_err[p]);
		return;
	}
	snprintf(cell[0], 32, "%llu of 256", (unsigned long long)k->fork_copied);
	snprintf(cell[1], 32, "%.2f", k->atomics_per_page);
	snprintf(cell[2], 32, "%.2f", k->barriers_per_page);
	snprintf(cell[3], 32, "%.2f", k->fallbacks_per_page);
	snprintf(cell[4], 32, "%.1f ms", k->fork_ms_during_io);
}

/* ---- the table -------------------------------------------------------------------- */

static const char *mx_mark(const struct mx_cell *cell)
{
	if (cell->err || cell->had_errors)
		return " E";
	switch (cell->verdict) {
	case MX_DIFFERS:
		return " !";
	case MX_UNSTATED:
		return " ?";
	default:
		return cell->complete ? "" : " +";
	}
}

/* "Sometimes 1366 !" */
static void mx_cell_text(const struct mx_cell *cell, char *buf, size_t n)
{
	if (cell->err)
		snprintf(buf, n, "error %d E", cell->err);
	else
		snprintf(buf, n, "%s %lu%s", litmus_obs_name(cell->obs), cell->execs,
			 mx_mark(cell));
}

static void mx_counts(const struct matrix_cmd *c, unsigned *as, unsigned *diff, unsigned *un)
{
	*as = *diff = *un = 0;
	for (unsigned k = 0; k < c->corpus.nr * c->nr_presets; k++) {
		const struct mx_cell *cell = &c->cells[k];

		if (cell->verdict == MX_AS_EXPECTED)
			++*as;
		else if (cell->verdict == MX_DIFFERS)
			++*diff;
		else
			++*un;
	}
}

static int mx_name_width(const struct matrix_cmd *c)
{
	size_t w = 4;

	for (unsigned i = 0; i < c->corpus.nr; i++)
		if (strlen(c->corpus.tests[i]->name) > w)
			w = strlen(c->corpus.tests[i]->name);
	return (int)w;
}

static void mx_print_text(const struct matrix_cmd *c)
{
	char search[128], buf[64];
	int w = mx_name_width(c);

	litmus_search_name(&c->run.explore, search, sizeof(search));
	printf("gup matrix: %u tests x %u presets; %s; %.1f s\n\n", c->corpus.nr, c->nr_presets,
	       search, c->wall);
	printf("%-*s", w, "test");
	for (unsigned p = 0; p < c->nr_presets; p++)
		printf("  %-16s", c->presets[p]);
	putchar('\n');
	for (unsigned i = 0; i < c->corpus.nr; i++) {
		printf("%-*s", w, c->corpus.tests[i]->name);
		for (unsigned p = 0; p < c->nr_presets; p++) {
			mx_cell_text(&c->cells[i * c->nr_presets + p], buf, sizeof(buf));
			printf("  %-16s", buf);
		}
		putchar('\n');
	}
	printf("\na cell: the observation and the executions explored; ! differs from the "
	       "test's Result: line,\n? the test states nothing for the preset, + the search "
	       "was cut, E the run had errors\n");
	printf("\ncosts (free mode: 256 pages, 16 of them pinned long-term at fork; a 20 ms "
	       "direct read in flight for the last column)\n");
	printf("%-16s", cost_head[0]);
	for (int i = 1; i < 6; i++)
		printf("  %-15s", cost_head[i]);
	putchar('\n');
	for (unsigned p = 0; p < c->nr_presets; p++) {
		char cell[5][32];

		mx_cost_cells(c, p, cell);
		printf("%-16s", c->presets[p]);
		for (int i = 0; i < 5; i++)
			printf("  %-15s", cell[i]);
		putchar('\n');
	}
}

static void mx_print_markdown(const struct matrix_cmd *c)
{
	char search[128];

	litmus_search_name(&c->run.explore, search, sizeof(search));
	printf("| test |");
	for (unsigned p = 0; p < c->nr_presets; p++)
		printf(" %s |", c->presets[p]);
	printf("\n|---|");
	for (unsigned p = 0; p < c->nr_presets; p++)
		printf("---|");
	putchar('\n');
	for (unsigned i = 0; i < c->corpus.nr; i++) {
		printf("| %s |", c->corpus.tests[i]->name);
		for (unsigned p = 0; p < c->nr_presets; p++) {
			const struct mx_cell *cell = &c->cells[i * c->nr_presets + p];

			if (cell->err) {
				printf(" error %d |", cell->err);
				continue;
			}
			printf(" %s (%lu)", litmus_obs_name(cell->obs), cell->execs);
			if (cell->verdict == MX_DIFFERS)
				printf(" **differs: %s expected**",
				       cell->had_errors ? "no errors" : litmus_obs_name(cell->want));
			else if (cell->verdict == MX_UNSTATED)
				printf(" (unstated)");
			printf(" |");
		}
		putchar('\n');
	}
	printf("\nObservation (executions explored); %s.\n\n", search);
	printf("|");
	for (int i = 0; i < 6; i++)
		printf(" %s |", cost_head[i]);
	printf("\n|---|---|---|---|---|---|\n");
	for (unsigned p = 0; p < c->nr_presets; p++) {
		char cell[5][32];

		mx_cost_cells(c, p, cell);
		printf("| %s |", c->presets[p]);
		for (int i = 0; i < 5; i++)
			printf(" %s |", cell[i]);
		putchar('\n');
	}
	printf("\nCosts in free mode: fork of 256 pages with 16 pinned long-term, gup-fast "
	       "pins of the 256 (atomics and full barriers per page; read pins after the "
	       "fork that fell back to the slow path), fork with a 20 ms direct read in "
	       "flight.\n");
}

static void mx_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void mx_print_claims_json(const struct matrix_cmd *c)
{
	unsigned n;
	const struct mx_claim *defs = matrix_claims(&n);

	for (unsigned i = 0; i < c->nr_claims; i++) {
		const struct mx_claim *cl = &defs[i];
		const struct mx_claim_out *o = &c->claims[i];

		printf("%s\n  {\"who\": ", i ? "," : "");
		mx_json_str(cl->who);
		printf(", \"claim\": ");
		mx_json_str(cl->claim);
		printf(", \"test\": ");
		mx_json_str(cl->test);
		printf(", \"preset\": ");
		mx_json_str(cl->preset);
		printf(", \"knobs\": [");
		for (int k = 0; cl->knobs[k]; k++) {
			printf(k ? ", " : "");
			mx_json_str(cl->knobs[k]);
		}
		printf("], \"memory\": \"%s\", \"bound\": %d", cl->sb ? "sb" : "sc", cl->bound);
		printf(", \"found\": %s, \"observation\": \"%s\", \"executions\": %lu, "
		       "\"settles\": \"%s\", \"settled\": %s, \"pending\": ",
		       o->found ? "true" : "false",
		       o->found && !o->err ? litmus_obs_name(o->obs) : "none", o->execs,
		       litmus_obs_name(cl->settles),
		       !cl->pending && matrix_claim_settled(cl, o) ? "true" : "false");
		if (cl->pending)
			mx_json_str(cl->pending);
		else
			printf("null");
		printf(", \"witness\": ");
		mx_json_str(o->schedule);
		printf("}");
	}
}

static void mx_print_json(const struct matrix_cmd *c)
{
	static const char *const verdicts[] = { "as expected", "differs", "unstated" };
	unsigned as, diff, un;

	mx_counts(c, &as, &diff, &un);
	printf("{\"presets\": [");
	for (unsigned p = 0; p < c->nr_presets; p++) {
		printf(p ? ", " : "");
		mx_json_str(c->presets[p]);
	}
	printf("],\n \"tests\": [");
	for (unsigned i = 0; i < c->corpus.nr; i++) {
		printf(i ? ",\n  {\"name\": " : "\n  {\"name\": ");
		mx_json_str(c->corpus.tests[i]->name);
		printf(", \"file\": ");
		mx_json_str(c->corpus.files[i]);
		printf(", \"cells\": [");
		for (unsigned p = 0; p < c->nr_presets; p++) {
			const struct mx_cell *cell = &c->cells[i * c->nr_presets + p];

			printf("%s{\"preset\": ", p ? ", " : "");
			mx_json_str(c->presets[p]);
			printf(", \"observation\": \"%s\", \"expected\": ",
			       cell->err ? "error" : litmus_obs_name(cell->obs));
			if (cell->verdict == MX_UNSTATED && !cell->err)
				printf("null");
			else
				printf("\"%s\"", litmus_obs_name(cell->want));
			printf(", \"verdict\": \"%s\", \"executions\": %lu, \"complete\": %s, "
			       "\"errors\": %s, \"time\": %.3f}",
			       verdicts[cell->verdict], cell->execs, cell->complete ? "true" : "false",
			       cell->had_errors ? "true" : "false", cell->secs);
		}
		printf("]}");
	}
	printf("],\n \"costs\": [");
	for (unsigned p = 0; p < c->nr_presets; p++) {
		const struct mx_cost *k = &c->costs[p];

		printf("%s\n  {\"preset\": ", p ? "," : "");
		mx_json_str(c->presets[p]);
		printf(", \"error\": %d, \"fork_pages_copied\": %llu, \"atomics_per_page\": %.3f, "
		       "\"barriers_per_page\": %.3f, \"fallbacks_per_page\": %.3f, "
		       "\"fork_ms_during_io\": %.3f}",
		       c->cost_err[p], (unsigned long long)k->fork_copied, k->atomics_per_page,
		       k->barriers_per_page, k->fallbacks_per_page, k->fork_ms_during_io);
	}
	printf("],\n \"claims\": [");
	mx_print_claims_json(c);
	printf("],\n \"as_expected\": %u, \"differ\": %u, \"unstated\": %u, "
	       "\"claims_not_settled\": %u, \"time\": %.3f}\n",
	       as, diff, un, mx_claims_failed(c), c->wall);
}

static int mx_report(const struct matrix_cmd *c)
{
	unsigned as, diff, un, claims_bad = mx_claims_failed(c);

	mx_counts(c, &as, &diff, &un);
	switch (c->format) {
	case MX_JSON:
		mx_print_json(c);
		break;
	case MX_MARKDOWN:
		mx_print_markdown(c);
		mx_print_claims(c, true);
		break;
	default:
		mx_print_text(c);
		mx_print_claims(c, false);
		break;
	}
	/* A claim that should be settled and is not counts as a failed cell. */
	diff += claims_bad;
	if (c->format != MX_JSON) {
		printf("\n");
		if (c->check)
			printf("%u passed, %u failed%s", as, diff, un ? "" : "\n");
		else
			printf("%u as expected, %u differ%s", as, diff, un ? "" : "\n");
		if (un)
			printf(", %u unstated\n", un);
	}
	return c->check && diff ? 1 : 0;
}

int cmd_matrix(int argc, char **argv)
{
	struct matrix_cmd *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return mx_bad("%s", "out of memory");
	litmus_run_opts_init(&c->run);
	c->jobs = 2;
	c->corpus.cmd = "gup matrix";
	ret = mx_parse(c, argc, argv);
	if (!ret)
		ret = mx_run_all(c);
	if (!ret)
		ret = mx_report(c);
	corpus_release(&c->corpus);
	free(c->cells);
	free(c->claims);
	free(c);
	return ret;
}
