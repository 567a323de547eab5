/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/run.c - run a litmus test under the explorer (run.h).
 *
 * The explorer calls back three times per execution:
 *
 *   setup     a fresh world of the test's policy, debug checks on (build.c),
 *             and one actor per thread of a declared mm (threads of forked
 *             children start at their fork: exec.c);
 *   finish    the final state (state.c), the condition, and the state's entry
 *             in the set; the first witness, counterexample and stuck
 *             execution are kept with their schedules and traces;
 *   teardown  everything released, the engine's invariant checker run on the
 *             quiescent world, the world destroyed and its leaks counted
 *             (build.c); a world whose actors are stuck (deadlock, step
 *             bound) cannot be torn down: its bulk is freed (world_abandon),
 *             the rest leaked, and a run stops after LITMUS_MAX_STUCK of them.
 *
 * Everything hangs off the struct runner of one litmus_run() call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "litmus/run_internal.h"
#include "world.h"

#define STR_(x)		#x
#define STR(x)		STR_(x)
#define PROGRESS_NS	UINT64_C(200000000)	/* how often progress is called */
#define MAX_FRAMES	((size_t)1 << 20)	/* a world's arena at most: 4 GiB */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

void litmus_run_opts_init(struct litmus_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->explore.strategy = EXPLORE_DFS;
	o->explore.por = true;
	o->explore.preemption_bound = LITMUS_DEFAULT_BOUND;
	o->memory = LITMUS_RUN_MEMORY_TEST;
}

/* Store buffers or not: what the caller forces, else what the test asks for. */
static bool run_store_buffers(const struct litmus_test *t, enum litmus_run_memory m)
{
	switch (m) {
	case LITMUS_RUN_MEMORY_SC:
		return false;
	case LITMUS_RUN_MEMORY_SB:
		return true;
	case LITMUS_RUN_MEMORY_TEST:
		break;
	}
	return t->memory == LITMUS_MEM_SB;
}

/* ---- what a run needs once: layout, bytes, locations ----------------------------- */

/* Each mapping at its own address, a guard page apart, the same in every run. */
static int layout(struct runner *r)
{
	const struct litmus_test *t = r->t;
	uint64_t addr = RUN_MAP_BASE;

	r->region_addr = calloc(t->nr_regions + 1, sizeof(*r->region_addr));
	if (!r->region_addr)
		return -ENOMEM;
	for (unsigned i = 0; i < t->nr_regions; i++) {
		r->region_addr[i] = addr;
		addr += t->regions[i].len + GUP_PAGE_SIZE;
	}
	return 0;
}

/* Frames enough for every mm to own a copy of every page, the files, and slack. */
static size_t frames_needed(const struct litmus_test *t)
{
	uint64_t map = 0, files = 0, n;

	for (unsigned i = 0; i < t->nr_regions; i++)
		map += t->regions[i].len / GUP_PAGE_SIZE;
	for (unsigned i = 0; i < t->nr_files; i++)
		files += run_page_up(t->files[i].max_size) / GUP_PAGE_SIZE;
	n = 64 + 16 * (uint64_t)t->nr_mms + map * (t->nr_mms + 2) + files * 3;
	/*
	 * At least a chunk in every allocator shard: each actor allocates from its
	 * own shard (its "CPU"), and one that had to steal another's frames would
	 * make every allocation a conflict between actors - orders the search
	 * would explore for nothing, since which frame a fault gets decides no
	 * outcome.
	 */
	if (n < (uint64_t)SHARD_CHUNK * NR_ALLOC_SHARDS)
		n = (uint64_t)SHARD_CHUNK * NR_ALLOC_SHARDS;
	return n > MAX_FRAMES ? MAX_FRAMES : (size_t)n;
}

static uint8_t *expand(const struct litmus_pattern *p, int *err)
{
	uint8_t *b;

	if (!p->nr_pieces)
		return NULL;
	b = malloc(p->len ? p->len : 1);
	if (!b)
		*err = -ENOMEM;
	else
		litmus_pattern_expand(p, b);
	return b;
}

static uint8_t **expand_array(unsigned n, int *err)
{
	uint8_t **a = calloc(n + 1, sizeof(*a));

	if (!a)
		*err = -ENOMEM;
	return a;
}

/* Every pattern the setup and the operations write, expanded once per run. */
static int expand_patterns(struct runner *r)
{
	const struct litmus_test *t = r->t;
	int err = 0;

	r->disk_init = expand_array(t->nr_disks, &err);
	r->file_init = expand_array(t->nr_files, &err);
	r->region_init = expand_array(t->nr_regions, &err);
	for (unsigned i = 0; i < t->nr_threads; i++)
		r->op_pat[i] = expand_array(t->threads[i].nr_ops, &err);
	if (err)
		return err;
	for (unsigned i = 0; i < t->nr_disks; i++)
		r->disk_init[i] = expand(&t->disks[i].init, &err);
	for (unsigned i = 0; i < t->nr_files; i++)
		r->file_init[i] = expand(&t->files[i].init, &err);
	for (unsigned i = 0; i < t->nr_regions; i++)
		r->region_init[i] = expand(&t->regions[i].init, &err);
	for (unsigned i = 0; i < t->nr_threads; i++) {
		const struct litmus_thread *th = &t->threads[i];

		for (unsigned j = 0; j < th->nr_ops; j++)
			for (unsigned a = 0; a < th->ops[j].nr_args; a++)
				if (th->ops[j].args[a].kind == LA_PATTERN)
					r->op_pat[i][j] = expand(&th->ops[j].args[a].pat, &err);
	}
	return err;
}

/* Note the locations of @c's atoms: each once, with the longest pattern compared. */
static void collect_locs(struct runner *r, const struct litmus_cond *c, bool shown)
{
	int i;

	if (c->kind != LC_EQ && c->kind != LC_NE) {
		for (unsigned k = 0; k < c->nr_kids; k++)
			collect_locs(r, c->kids[k], shown);
		return;
	}
	i = state_loc_index(r, &c->loc);
	if (i < 0) {
		i = (int)r->nr_locs++;
		r->locs[i].loc = &c->loc;
	}
	r->locs[i].shown |= shown;
	if (c->val.kind == LV_BYTES && c->val.pat.len > r->locs[i].len)
		r->locs[i].len = c->val.pat.len;
}

static int prepare_locs(struct runner *r)
{
	r->locs = calloc(2 * LITMUS_MAX_COND, sizeof(*r->locs));
	r->vals = calloc(2 * LITMUS_MAX_COND, sizeof(*r->vals));
	if (!r->locs || !r->vals)
		return -ENOMEM;
	collect_locs(r, r->t->cond, true);
	if (r->t->filter)
		collect_locs(r, r->t->filter, false);
	return 0;
}

static char *op_text(const struct litmus_test *t, const struct litmus_thread *th,
		     const struct litmus_op *op)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	litmus_print_op(f, t, th, op);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int prepare_texts(struct runner *r)
{
	const struct litmus_test *t = r->t;

	for (unsigned i = 0; i < t->nr_threads; i++) {
		const struct litmus_thread *th = &t->threads[i];

		r->res->op_text[i] = calloc(th->nr_ops + 1, sizeof(char *));
		if (!r->res->op_text[i])
			return -ENOMEM;
		for (unsigned j = 0; j < th->nr_ops; j++) {
			r->res->op_text[i][j] = op_text(t, th, &th->ops[j]);
			if (!r->res->op_text[i][j])
				return -ENOMEM;
		}
	}
	return 0;
}

static int runner_prepare(struct runner *r)
{
	int err = layout(r);

	if (!err)
		err = expand_patterns(r);
	if (!err)
		err = prepare_locs(r);
	if (!err)
		err = prepare_texts(r);
	r->nr_frames = frames_needed(r->t);
	return err;
}

static void free_array(uint8_t **a, unsigned n)
{
	if (!a)
		return;
	for (unsigned i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

static void runner_free(struct runner *r)
{
	const struct litmus_test *t = r->t;

	free(r->region_addr);
	free_array(r->disk_init, t->nr_disks);
	free_array(r->file_init, t->nr_files);
	free_array(r->region_init, t->nr_regions);
	for (unsigned i = 0; i < t->nr_threads; i++)
		free_array(r->op_pat[i], t->threads[i].nr_ops);
	free(r->locs);
	free(r->vals);
	frame_arena_store_release(&r->arenas);
	free(r->sched);
}

/* ---- outcomes ------------------------------------------------------------------------------ */

static int add_state(struct litmus_result *res, char *text, bool sat)
{
	for (unsigned i = 0; i < res->nr_states; i++) {
		if (!strcmp(res->states[i].text, text)) {
			res->states[i].count++;
			free(text);
			return 0;
		}
	}
	if (res->nr_states == res->cap_states) {
		unsigned cap = res->cap_states ? 2 * res->cap_states : 8;
		struct litmus_state *s = realloc(res->states, cap * sizeof(*s));

		if (!s) {
			free(text);
			return -ENOMEM;
		}
		res->states = s;
		res->cap_states = cap;
	}
	res->states[res->nr_states++] = (struct litmus_state){ text, 1, sat };
	return 0;
}

static void trace_free(const struct litmus_test *t, struct litmus_trace *tr)
{
	if (!tr)
		return;
	for (unsigned i = 0; i < t->nr_threads; i++) {
		for (unsigned j = 0; tr->ops[i] && j < t->threads[i].nr_ops; j++)
			free(tr->ops[i][j].value);
		free(tr->ops[i]);
	}
	free(tr->schedule);
	free(tr->state);
	free(tr);
}

static int trace_thread(const struct runner *r, const struct rthread *th,
			struct litmus_trace *tr)
{
	unsigned n = th->lt->nr_ops;

	tr->actor[th->idx] = th->actor;
	tr->ops[th->idx] = calloc(n + 1, sizeof(**tr->ops));
	if (!tr->ops[th->idx])
		return -ENOMEM;
	for (unsigned j = 0; j < n; j++) {
		const struct rop *ro = &th->ops[j];
		struct litmus_trace_op *to = &tr->ops[th->idx][j];

		to->begin = ro->begin;
		to->end = ro->end;
		if (!ro->end || ro->val.kind == RV_UNSET)
			continue;
		to->value = state_val_text(r, &ro->val);
		if (!to->value)
			return -ENOMEM;
	}
	return 0;
}

/* The execution that just ended, for the report: schedule, state, each thread's ops. */
static struct litmus_trace *trace_take(const struct runner *r, enum explore_end end,
				       const char *state, bool sat)
{
	struct litmus_trace *tr = calloc(1, sizeof(*tr));
	int err = 0;

	if (!tr)
		return NULL;
	tr->end = end;
	tr->sat = sat;
	tr->schedule = strdup(r->sched ? r->sched : "");
	tr->state = state ? strdup(state) : NULL;
	if (!tr->schedule || (state && !tr->state))
		err = -ENOMEM;
	for (unsigned i = 0; i < r->t->nr_threads; i++)
		if (!err)
			err = trace_thread(r, &r->x->threads[i], tr);
	if (err) {
		trace_free(r->t, tr);
		return NULL;
	}
	return tr;
}

/* Keep the trace in *@slot unless one is there. */
static void trace_keep(const struct runner *r, struct litmus_trace **slot, enum explore_end end,
		       const char *state, bool sat)
{
	if (!*slot)
		*slot = trace_take(r, end, state, sat);
}

static void note_schedule(struct runner *r, const char *sched)
{
	size_t len = strlen(sched) + 1;

	if (len > r->sched_cap) {
		char *s = realloc(r->sched, 2 * len);

		if (!s)
			return;
		r->sched = s;
		r->sched_cap = 2 * len;
	}
	memcpy(r->sched, sched, len);
}

static void progress(struct runner *r)
{
	uint64_t now;

	if (!r->o->progress)
		return;
	now = now_ns();
	if (now < r->next_progress)
		return;
	r->next_progress = now + PROGRESS_NS;
	r->res->secs = (double)(now - r->t0) / 1e9;
	r->o->progress(r->o->progress_arg, r->res);
}

/* An execution that ended with every thread done: its final state. */
static void finish_done(struct runner *r)
{
	struct litmus_result *res = r->res;
	char *text;
	bool sat;

	state_read(r);
	if (r->t->filter && !state_eval(r, r->t->filter)) {
		res->filtered++;
		if (!res->first && (res->first = trace_take(r, EXPLORE_DONE, NULL, false)))
			res->first->filtered = true;
		state_free_vals(r);
		return;
	}
	sat = state_eval(r, r->t->cond);
	text = state_text(r);
	state_free_vals(r);
	if (!text) {
		res->err = -ENOMEM;
		return;
	}
	trace_keep(r, &res->first, EXPLORE_DONE, text, sat);
	trace_keep(r, sat ? &res->witness : &res->counter, EXPLORE_DONE, text, sat);
	if (sat)
		res->execs_sat++;
	else
		res->execs_unsat++;
	if (add_state(res, text, sat))
		res->err = -ENOMEM;
}

static void run_finish(void *arg, enum explore_end end, bool redundant, const char *sched)
{
	struct runner *r = arg;

	note_schedule(r, sched);
	progress(r);
	if (redundant)
		return;
	if (end != EXPLORE_DONE) {
		trace_keep(r, &r->res->first, end, NULL, false);
		trace_keep(r, &r->res->stuck, end, NULL, false);
		return;
	}
	finish_done(r);
}

/* The world's reports of this execution, as one string (NULL if none or no memory). */
static char *report_text(struct xrun *x)
{
	if (fflush(x->report) || !x->report_len)
		return NULL;
	return strndup(x->report_buf, x->report_len);
}

/* After a clean end: were there misuse reports, did the checker find anything? */
static void note_reports(struct runner *r, struct xrun *x, unsigned long misuse, int bad)
{
	struct litmus_result *res = r->res;

	if (bad) {
		res->errors++;
		if (!res->error_text)
			res->error_text = report_text(x);
		trace_keep(r, &res->error, EXPLORE_DONE, NULL, false);
	} else if (misuse) {
		res->misuse++;
		if (!res->misuse_text)
			res->misuse_text = report_text(x);
	}
}

static void run_teardown(void *arg, bool abandoned)
{
	struct runner *r = arg;
	struct xrun *x = r->x;
	const struct litmus_test *t = r->t;
	unsigned long misuse;
	int bad;

	for (unsigned i = 0; i < t->nr_threads; i++)
		if (x->threads[i].st)
			sched_thread_join(x->threads[i].st);	/* -EDEADLK if stuck: freed */
	if (abandoned && x->w) {
		/* Stuck actors hold its locks: the bulk is freed, the rest leaked. */
		world_abandon(x->w, &r->arenas);
		x->w = NULL;
	} else if (!abandoned) {
		misuse = x->w ? gup_world_misuse_count(x->w) : 0;
		bad = xrun_release(x);
		note_reports(r, x, misuse, bad);
	}
	xrun_free(x);
	r->x = NULL;
}

static int run_setup(void *arg)
{
	struct runner *r = arg;
	struct xrun *x;
	const struct litmus_test *t = r->t;
	int err;

	if (r->res->stats.deadlocks + r->res->stats.step_bounds >= LITMUS_MAX_STUCK)
		return -ECANCELED;	/* enough worlds leaked: the run ends here */
	x = xrun_alloc(r);
	if (!x)
		return -ENOMEM;
	r->x = x;
	err = xrun_build(x);
	for (unsigned i = 0; !err && i < t->nr_threads; i++)
		if (t->threads[i].mm < t->nr_declared_mms)
			err = exec_thread_start(&x->threads[i]);
	if (!err)
		return 0;
	/*
	 * Actors already started never run (the explorer stops on a setup
	 * error); their tasks are exited with the others.
	 */
	for (unsigned i = 0; i < t->nr_threads; i++)
		x->threads[i].st = NULL;
	xrun_release(x);
	xrun_free(x);
	r->x = NULL;
	return err;
}

static const struct explore_ops run_ops = { run_setup, run_finish, run_teardown };

/* ---- the run ------------------------------------------------------------------------------- */

static int cmp_state(const void *a, const void *b)
{
	return strcmp(((const struct litmus_state *)a)->text,
		      ((const struct litmus_state *)b)->text);
}

/* herd7's verdicts: positive and negative count distinct states. */
static void conclude(struct litmus_result *res)
{
	if (res->nr_states)
		qsort(res->states, res->nr_states, sizeof(*res->states), cmp_state);
	for (unsigned i = 0; i < res->nr_states; i++) {
		if (res->states[i].sat)
			res->positive++;
		else
			res->negative++;
	}
	if (!res->positive)
		res->obs = LITMUS_NEVER;
	else if (!res->negative)
		res->obs = LITMUS_ALWAYS;
	else
		res->obs = LITMUS_SOMETIMES;
	switch (res->test->quant) {
	case LITMUS_EXISTS:
		res->ok = res->positive > 0;
		break;
	case LITMUS_NOT_EXISTS:
		res->ok = res->positive == 0;
		break;
	case LITMUS_FORALL:
		res->ok = res->negative == 0;
		break;
	}
}

static const char *policy_name(const char *policy)
{
	for (const char *const *n = gup_policy_names(); *n; n++)
		if (!strcmp(*n, policy))
			return *n;
	return NULL;
}

/* The overrides as one line, "a=b c=d" (malloc'ed). */
static char *knobs_text(const char *const *knobs)
{
	size_t len = 1;
	char *text;

	for (const char *const *k = knobs; *k; k++)
		len += strlen(*k) + 1;
	text = malloc(len);
	if (!text)
		return NULL;
	text[0] = '\0';
	for (const char *const *k = knobs; *k; k++) {
		if (k != knobs)
			strcat(text, " ");
		strcat(text, *k);
	}
	return text;
}

static void explain_error(struct litmus_result *res)
{
	const char *what;

	switch (res->err) {
	case 0:
		return;
	case -ECANCELED:
		what = "stopped after " STR(LITMUS_MAX_STUCK) " stuck executions (each leaks "
		       "what its stuck actors hold); the search is incomplete";
		break;
	case -EPROTO:
		what = "the replayed schedule diverged: the run is not deterministic";
		break;
	case -EINVAL:
		what = res->explore.strategy == EXPLORE_REPLAY ?
		       "bad schedule string, or it names an actor that cannot run" :
		       "the explorer refused the options";
		break;
	default:
		what = strerror(-res->err);
		break;
	}
	res->err_text = strdup(what);
}

int litmus_run(const struct litmus_test *t, const char *policy,
	       const struct litmus_run_opts *o, struct litmus_result **out)
{
	struct litmus_run_opts defaults;
	struct runner r = { .t = t };
	struct litmus_result *res;
	int err;

	*out = NULL;
	if (!o) {
		litmus_run_opts_init(&defaults);
		o = &defaults;
	}
	if (!t || !policy || !policy_name(policy) || gup_policy_check(policy, o->knobs, NULL, 0) ||
	    (unsigned)o->memory > LITMUS_RUN_MEMORY_SB)
		return -EINVAL;
	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	res->test = t;
	res->policy = policy_name(policy);
	if (o->knobs && o->knobs[0]) {
		res->knobs = knobs_text(o->knobs);
		if (!res->knobs) {
			free(res);
			return -ENOMEM;
		}
	}
	res->explore = o->explore;
	res->explore.store_buffers = run_store_buffers(t, o->memory);
	r.o = o;
	r.res = res;
	err = runner_prepare(&r);
	if (err) {
		runner_free(&r);
		litmus_result_free(res);
		return err;
	}
	r.t0 = now_ns();
	r.next_progress = r.t0 + PROGRESS_NS;
	err = explore_run(&res->explore, &run_ops, &r, &res->stats);
	if (!res->err)
		res->err = err;
	res->secs = (double)(now_ns() - r.t0) / 1e9;
	runner_free(&r);
	conclude(res);
	explain_error(res);
	*out = res;
	return 0;
}

void litmus_result_free(struct litmus_result *r)
{
	const struct litmus_test *t;

	if (!r)
		return;
	t = r->test;
	for (unsigned i = 0; i < r->nr_states; i++)
		free(r->states[i].text);
	free(r->states);
	for (unsigned i = 0; i < t->nr_threads; i++) {
		for (unsigned j = 0; r->op_text[i] && j < t->threads[i].nr_ops; j++)
			free(r->op_text[i][j]);
		free(r->op_text[i]);
	}
	trace_free(t, r->first);
	trace_free(t, r->witness);
	trace_free(t, r->counter);
	trace_free(t, r->stuck);
	trace_free(t, r->error);
	free(r->knobs);
	free(r->err_text);
	free(r->error_text);
	free(r->misuse_text);
	free(r);
}

/* ---- names ---------------------------------------------------------------------------------- */

const char *litmus_kind_name(enum litmus_quant q)
{
	static const char *const names[] = { "Allowed", "Forbidden", "Required" };

	return (unsigned)q < 3 ? names[q] : "?";
}

bool litmus_expected(const struct litmus_test *t, const char *policy, enum litmus_obs *obs)
{
	for (unsigned i = 0; i < t->nr_expect; i++) {
		if (!strcmp(t->expect[i].policy, policy)) {
			*obs = t->expect[i].obs;
			return true;
		}
	}
	return false;
}

enum litmus_memory litmus_result_memory(const struct litmus_result *r)
{
	return r->explore.store_buffers ? LITMUS_MEM_SB : LITMUS_MEM_SC;
}

/* The strategy and its parameters; the length written (as snprintf counts it). */
static int search_strategy(const struct explore_config *c, char *buf, size_t size)
{
	int n;

	switch (c->strategy) {
	case EXPLORE_DFS:
		n = snprintf(buf, size, "DFS %s POR, ", c->por ? "with" : "without");
		if (c->preemption_bound >= 0)
			n += snprintf(buf + n, size - (size_t)n, "preemption bound %d",
				      c->preemption_bound);
		else
			n += snprintf(buf + n, size - (size_t)n, "no preemption bound");
		if (c->max_execs)
			n += snprintf(buf + n, size - (size_t)n, ", at most %lu executions",
				      c->max_execs);
		return n;
	case EXPLORE_RANDOM:
		return snprintf(buf, size, "random walks, %lu of them, seed %" PRIu64,
				c->max_execs ? c->max_execs : 1000, c->seed);
	case EXPLORE_PCT:
		return snprintf(buf, size, "PCT depth %u, %lu walks, seed %" PRIu64,
				c->pct_depth ? c->pct_depth : 3,
				c->max_execs ? c->max_execs : 1000, c->seed);
	case EXPLORE_REPLAY:
		return snprintf(buf, size, "replay of one schedule");
	}
	return snprintf(buf, size, "?");
}

void litmus_search_name(const struct explore_config *c, char *buf, size_t size)
{
	int n = search_strategy(c, buf, size);

	/* sc says nothing: the lines every report had before the sb model. */
	if (c->store_buffers && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ", sb memory model");
}
