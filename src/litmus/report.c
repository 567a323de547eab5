/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/report.c - a run's result as text, JSON or DOT (run.h).
 *
 * The text follows herd7's lines, in its order (Test, States, Ok/No,
 * Witnesses, Positive/Negative, Condition, Observation, Time), each state
 * prefixed by the number of executions that reached it and marked *> if it
 * satisfies the condition (litmus7's convention for runs on hardware).  Then
 * the lines herd7 has no use for: the policy, the search and its figures,
 * stuck executions, engine errors, and the trace of the witness (or of the
 * counterexample, for forall) with its replay string.  Docs: docs/litmus.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "litmus/run.h"

/* ---- which execution a report shows ------------------------------------------------- */

static const struct litmus_trace *shown_trace(const struct litmus_result *r, const char **what)
{
	if (r->explore.strategy == EXPLORE_REPLAY) {
		*what = "Replayed";
		return r->first;
	}
	if (r->test->quant == LITMUS_FORALL) {
		*what = "Counterexample";
		return r->counter;
	}
	*what = "Witness";
	return r->witness;
}

static const char *end_name(enum explore_end end)
{
	switch (end) {
	case EXPLORE_DONE:
		return "done";
	case EXPLORE_DEADLOCK:
		return "deadlock";
	case EXPLORE_STEP_BOUND:
		return "step bound";
	}
	return "?";
}

/* ---- text ------------------------------------------------------------------------------ */

static void text_herd(FILE *f, const struct litmus_result *r)
{
	const struct litmus_test *t = r->test;

	fprintf(f, "Test %s %s\n", t->name, litmus_kind_name(t->quant));
	fprintf(f, "States %u\n", r->nr_states);
	for (unsigned i = 0; i < r->nr_states; i++)
		fprintf(f, "%-6lu %s%s\n", r->states[i].count, r->states[i].sat ? "*>" : ":>",
			r->states[i].text);
	fprintf(f, "%s\nWitnesses\n", r->ok ? "Ok" : "No");
	fprintf(f, "Positive: %lu Negative: %lu\n", r->positive, r->negative);
	fprintf(f, "Condition %s (", litmus_quant_name(t->quant));
	litmus_print_cond(f, t, t->cond);
	fputs(")\n", f);
	fprintf(f, "Observation %s %s %lu %lu\n", t->name, litmus_obs_name(r->obs), r->positive,
		r->negative);
	fprintf(f, "Time %s %.2f\n", t->name, r->secs);
}

static void text_search(FILE *f, const struct litmus_result *r)
{
	const struct explore_stats *s = &r->stats;
	char search[160];
	const char *how = "";

	litmus_search_name(&r->explore, search, sizeof(search));
	if (r->explore.strategy == EXPLORE_DFS)
		how = s->complete ? (r->explore.preemption_bound >= 0 ?
				     ": complete within the bound" : ": complete") :
				    ": incomplete (cut by the execution limit)";
	fprintf(f, "Policy %s%s%s\nSearch %s%s\n", r->policy, r->knobs ? " with " : "",
		r->knobs ? r->knobs : "", search, how);
	fprintf(f, "Executions %lu (%lu counted, %lu redundant, %lu filtered, %lu deadlocked, "
		"%lu at the step bound; %lu choices cut by the preemption bound)\n",
		s->execs, r->execs_sat + r->execs_unsat, s->redundant, r->filtered,
		s->deadlocks, s->step_bounds, s->bounded);
	fprintf(f, "Points %" PRIu64 " (%.2f M/s), states %" PRIu64 ", deepest execution %lu\n",
		s->points, r->secs > 0 ? (double)s->points / r->secs / 1e6 : 0.0, s->states,
		s->max_depth);
}

/* Each line of @text, indented. */
static void text_block(FILE *f, const char *text)
{
	while (text && *text) {
		const char *nl = strchr(text, '\n');
		int len = nl ? (int)(nl - text) : (int)strlen(text);

		fprintf(f, "  %.*s\n", len, text);
		text += len + (nl != NULL);
	}
}

/* "[b,e]": where an operation started and returned in the execution's order. */
static const char *op_span(const struct litmus_trace_op *o, char *buf, size_t size)
{
	if (!o->begin)
		snprintf(buf, size, "[-]");
	else if (!o->end)
		snprintf(buf, size, "[%u,-]", o->begin);
	else
		snprintf(buf, size, "[%u,%u]", o->begin, o->end);
	return buf;
}

/* Why an operation has no result in a stuck execution, or NULL. */
static const char *op_stopped(const struct litmus_trace_op *o)
{
	if (!o->begin)
		return "never ran";
	return o->end ? NULL : "did not return";
}

static void text_trace(FILE *f, const struct litmus_result *r, const struct litmus_trace *tr)
{
	const struct litmus_test *t = r->test;

	fputs("  actors:", f);
	for (unsigned i = 0; i < t->nr_threads; i++)
		if (tr->actor[i] >= 0)
			fprintf(f, " %d=P%u", tr->actor[i], i);
	if (litmus_result_memory(r) == LITMUS_MEM_SB)
		fprintf(f, " (%d + n flushes n's store buffer; any other is a device);",
			EXPLORE_MAX_ACTORS / 2);
	else
		fputs(" (any other is a device);", f);
	fputs(" [begin,end] order the operations\n", f);
	for (unsigned i = 0; i < t->nr_threads; i++) {
		const struct litmus_thread *th = &t->threads[i];

		for (unsigned j = 0; j < th->nr_ops; j++) {
			const struct litmus_trace_op *o = &tr->ops[i][j];
			char span[32];

			fprintf(f, "  P%u@%-10s %-9s %s", i, t->mms[th->mm].name,
				op_span(o, span, sizeof(span)), r->op_text[i][j]);
			if (o->value)
				fprintf(f, " -> %s", o->value);
			else if (op_stopped(o))
				fprintf(f, "  (%s)", op_stopped(o));
			fputc('\n', f);
		}
	}
	if (tr->state)
		fprintf(f, "  final state: %s%s\n", tr->state, tr->sat ? " (satisfies)" : "");
	else if (tr->filtered)
		fputs("  final state: dropped by the filter\n", f);
	else
		fprintf(f, "  ended: %s\n", end_name(tr->end));
}

/* An execution: its schedule, the command that replays it, its trace. */
static void text_execution(FILE *f, const struct litmus_result *r, const struct litmus_trace *tr,
			   const char *what)
{
	fprintf(f, "%s schedule %s\n", what, tr->schedule);
	fprintf(f, "%s replay gup litmus --policy %s", what, r->policy);
	for (const char *k = r->knobs; k && *k;) {
		size_t len = strcspn(k, " ");

		fprintf(f, " --knob %.*s", (int)len, k);
		k += len + (k[len] == ' ');
	}
	/* A model other than the file's was forced: the replay must force it too. */
	if (litmus_result_memory(r) != r->test->memory)
		fprintf(f, " --memory %s", litmus_memory_name(litmus_result_memory(r)));
	fprintf(f, " --replay %s %s\n", tr->schedule, r->test->path);
	fprintf(f, "%s trace:\n", what);
	text_trace(f, r, tr);
}

static void text_outcomes(FILE *f, const struct litmus_result *r)
{
	const struct litmus_trace *tr;
	const char *what;

	if (r->stuck)
		fprintf(f, "Stuck %lu executions (deadlock or step bound); first: %s, schedule %s\n",
			r->stats.deadlocks + r->stats.step_bounds, end_name(r->stuck->end),
			r->stuck->schedule);
	if (r->errors) {
		fprintf(f, "Errors %lu executions failed the engine's checks; first, schedule %s:\n",
			r->errors, r->error ? r->error->schedule : "?");
		text_block(f, r->error_text);
	}
	if (r->misuse) {
		fprintf(f, "Misuse %lu executions with misuse reports; the first:\n", r->misuse);
		text_block(f, r->misuse_text);
	}
	if (r->err)
		fprintf(f, "Error %s\n", r->err_text ? r->err_text : strerror(-r->err));
	tr = shown_trace(r, &what);
	if (tr)
		text_execution(f, r, tr, what);
	if (r->stuck && r->stuck != tr)
		text_execution(f, r, r->stuck, "Stuck");
}

int litmus_report_text(FILE *f, const struct litmus_result *r)
{
	text_herd(f, r);
	text_search(f, r);
	text_outcomes(f, r);
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_key(FILE *f, const char *key, const char *val, bool comma)
{
	json_str(f, key);
	fputs(": ", f);
	if (val)
		json_str(f, val);
	else
		fputs("null", f);
	if (comma)
		fputs(", ", f);
}

static void json_trace(FILE *f, const struct litmus_result *r, const struct litmus_trace *tr)
{
	const struct litmus_test *t = r->test;

	if (!tr) {
		fputs("null", f);
		return;
	}
	fputs("{", f);
	json_key(f, "schedule", tr->schedule, true);
	json_key(f, "end", end_name(tr->end), true);
	json_key(f, "state", tr->state, true);
	fprintf(f, "\"satisfies\": %s, \"threads\": [", tr->sat ? "true" : "false");
	for (unsigned i = 0; i < t->nr_threads; i++) {
		fprintf(f, "%s{\"thread\": \"P%u\", \"actor\": %d, \"ops\": [", i ? ", " : "", i,
			tr->actor[i]);
		for (unsigned j = 0; j < t->threads[i].nr_ops; j++) {
			const struct litmus_trace_op *o = &tr->ops[i][j];

			fputs(j ? ", {" : "{", f);
			json_key(f, "op", r->op_text[i][j], true);
			fprintf(f, "\"begin\": %u, \"end\": %u, ", o->begin, o->end);
			json_key(f, "result", o->value, false);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("]}", f);
}

static void json_states(FILE *f, const struct litmus_result *r)
{
	fputs("\"states\": [", f);
	for (unsigned i = 0; i < r->nr_states; i++) {
		fputs(i ? ", {" : "{", f);
		json_key(f, "state", r->states[i].text, true);
		fprintf(f, "\"count\": %lu, \"satisfies\": %s}", r->states[i].count,
			r->states[i].sat ? "true" : "false");
	}
	fputs("], ", f);
}

static void json_stats(FILE *f, const struct litmus_result *r)
{
	const struct explore_stats *s = &r->stats;
	char search[160];

	litmus_search_name(&r->explore, search, sizeof(search));
	json_key(f, "search", search, true);
	fprintf(f, "\"preemption_bound\": %d, \"por\": %s, \"complete\": %s, ",
		r->explore.strategy == EXPLORE_DFS ? r->explore.preemption_bound : -1,
		r->explore.por ? "true" : "false", s->complete ? "true" : "false");
	fprintf(f, "\"executions\": %lu, \"counted\": %lu, \"redundant\": %lu, "
		"\"filtered\": %lu, \"deadlocks\": %lu, \"step_bounds\": %lu, "
		"\"bounded_choices\": %lu, \"points\": %" PRIu64 ", \"time\": %.3f, ",
		s->execs, r->execs_sat + r->execs_unsat, s->redundant, r->filtered,
		s->deadlocks, s->step_bounds, s->bounded, s->points, r->secs);
	fprintf(f, "\"errors\": %lu, ", r->errors);
	json_key(f, "error_report", r->error_text, true);
	fprintf(f, "\"misuse\": %lu, ", r->misuse);
	json_key(f, "misuse_report", r->misuse_text, true);
	json_key(f, "run_error", r->err ? r->err_text : NULL, true);
}

int litmus_report_json(FILE *f, const struct litmus_result *r, const char *check)
{
	const struct litmus_test *t = r->test;
	enum litmus_obs want;
	bool known = litmus_expected(t, r->policy, &want);

	fputs("{", f);
	json_key(f, "test", t->name, true);
	json_key(f, "file", t->path, true);
	json_key(f, "policy", r->policy, true);
	json_key(f, "knobs", r->knobs, true);
	json_key(f, "memory", litmus_memory_name(litmus_result_memory(r)), true);
	json_key(f, "kind", litmus_kind_name(t->quant), true);
	json_states(f, r);
	fprintf(f, "\"ok\": %s, \"positive\": %lu, \"negative\": %lu, ", r->ok ? "true" : "false",
		r->positive, r->negative);
	json_key(f, "observation", litmus_obs_name(r->obs), true);
	json_key(f, "expected", known ? litmus_obs_name(want) : NULL, true);
	json_key(f, "check", check, true);
	json_stats(f, r);
	fputs("\"witness\": ", f);
	json_trace(f, r, r->witness);
	fputs(", \"counterexample\": ", f);
	json_trace(f, r, r->counter);
	fputs(", \"stuck\": ", f);
	json_trace(f, r, r->stuck);
	if (r->explore.strategy == EXPLORE_REPLAY) {
		fputs(", \"replayed\": ", f);
		json_trace(f, r, r->first);
	}
	fputs("}", f);
	return ferror(f) ? -EIO : 0;
}

/* ---- DOT --------------------------------------------------------------------------------- */

static void dot_esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void dot_str(FILE *f, const char *s)
{
	fputc('"', f);
	dot_esc(f, s);
	fputc('"', f);
}

/* One lane per thread: its operations in program order. */
static void dot_lanes(FILE *f, const struct litmus_result *r, const struct litmus_trace *tr)
{
	const struct litmus_test *t = r->test;

	for (unsigned i = 0; i < t->nr_threads; i++) {
		const struct litmus_thread *th = &t->threads[i];

		fprintf(f, "  subgraph cluster_P%u {\n    label=\"P%u@%s (actor %d)\";\n", i, i,
			t->mms[th->mm].name, tr->actor[i]);
		for (unsigned j = 0; j < th->nr_ops; j++) {
			const struct litmus_trace_op *o = &tr->ops[i][j];
			char span[32];

			fprintf(f, "    p%u_%u [label=\"%s\\n", i, j, op_span(o, span, sizeof(span)));
			dot_esc(f, r->op_text[i][j]);
			fputs("\\n", f);
			if (o->value) {
				fputs("-> ", f);
				dot_esc(f, o->value);
			} else {
				fputs(op_stopped(o) ? op_stopped(o) : "", f);
			}
			fputs("\"];\n", f);
			if (j)
				fprintf(f, "    p%u_%u -> p%u_%u;\n", i, j - 1, i, j);
		}
		fputs("  }\n", f);
	}
}

/* Did some operation start after @a returned and return before @b started? */
static bool op_between(const struct litmus_test *t, const struct litmus_trace *tr,
		       const struct litmus_trace_op *a, const struct litmus_trace_op *b)
{
	for (unsigned i = 0; i < t->nr_threads; i++)
		for (unsigned j = 0; j < t->threads[i].nr_ops; j++) {
			const struct litmus_trace_op *c = &tr->ops[i][j];

			if (c->begin > a->end && c->end && c->end < b->begin)
				return true;
		}
	return false;
}

/*
 * Dashed edges: @a returned before @b started, in different threads - the
 * observed order - leaving out what a path through a third operation implies.
 */
static void dot_order(FILE *f, const struct litmus_result *r, const struct litmus_trace *tr)
{
	const struct litmus_test *t = r->test;

	for (unsigned i = 0; i < t->nr_threads; i++)
		for (unsigned a = 0; a < t->threads[i].nr_ops; a++)
			for (unsigned j = 0; j < t->nr_threads; j++)
				for (unsigned b = 0; j != i && b < t->threads[j].nr_ops; b++) {
					const struct litmus_trace_op *oa = &tr->ops[i][a];
					const struct litmus_trace_op *ob = &tr->ops[j][b];

					if (!oa->end || !ob->begin || oa->end > ob->begin ||
					    op_between(t, tr, oa, ob))
						continue;
					fprintf(f, "  p%u_%u -> p%u_%u [style=dashed];\n", i, a, j, b);
				}
}

int litmus_report_dot(FILE *f, const struct litmus_result *r)
{
	const char *what;
	const struct litmus_trace *tr = shown_trace(r, &what);
	char title[512];

	if (!tr) {
		fprintf(f, "// %s, %s: no %s to draw (observation %s)\n", r->test->name, r->policy,
			what, litmus_obs_name(r->obs));
		return ferror(f) ? -EIO : 0;
	}
	snprintf(title, sizeof(title), "%s, %s: %s %s", r->test->name, r->policy, what,
		 tr->schedule);
	fputs("digraph ", f);
	dot_str(f, title);
	fputs(" {\n  label=", f);
	dot_str(f, title);
	fputs(";\n  labelloc=t;\n  node [shape=box, fontname=\"monospace\"];\n", f);
	dot_lanes(f, r, tr);
	dot_order(f, r, tr);
	if (tr->state) {
		fputs("  final [shape=note, label=", f);
		dot_str(f, tr->state);
		fputs("];\n", f);
	}
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}
