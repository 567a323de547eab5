/* SPDX-License-Identifier: MIT */
/*
 * tools/matrix_claims.c - where the 2009 thread disagreed, settled by a run
 * (issue 6 item 4; docs/policies.md, "What the explorer says").
 *
 * Each claim names a corpus test, a preset and the knob values that make the
 * design the claim is about, and the observation that would settle it.  A
 * claim the model cannot decide yet says why (pending) and is run anyway for
 * the record, but never checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "litmus/run.h"
#include "corpus.h"
#include "matrix.h"

static const struct mx_claim claims[] = {
	{
		.who = "Linus, L376-402",
		.claim = "the first PG_gup patch's gup-fast races with fork: it grabs a page "
			 "fork is sharing, with no re-check",
		.test = "R3-fork-vs-gup-fast", .preset = "andrea-v2",
		.knobs = { "fast_recheck=off", NULL },
		.settles = LITMUS_SOMETIMES,
	},
	{
		.who = "Andrea, L4333-4352",
		.claim = "setting PG_gup, smp_mb, then re-checking the PTE closes that race",
		.test = "R3-fork-vs-gup-fast", .preset = "andrea-v2",
		.knobs = { NULL },
		.settles = LITMUS_NEVER,
	},
	/*
	 * The barrier questions need a model where a store can wait: under
	 * sequential consistency gup-fast's smp_mb changes nothing, so first the
	 * control (Andrea's walk without it, Never), then the sb model with it
	 * missing (Sometimes: PG_gup still sits in gup-fast's store buffer when
	 * fork tests it, and the re-read PTE was read before fork write-protected
	 * it), then Nick's walk, which has none and needs none: fork copies every
	 * page it could take (L5219-5221).  The default bound is enough: the sb
	 * witness takes two preemptions (before bounded POR's conservative
	 * branches, the search only found it at bound 4; explore.md, "Bounded
	 * POR").
	 */
	{
		.who = "Andrea, L4336 (control)",
		.claim = "under sequential consistency gup-fast's smp_mb changes nothing",
		.test = "R3-fork-vs-gup-fast", .preset = "andrea-v2",
		.knobs = { "fast_barrier=off", NULL },
		.settles = LITMUS_NEVER,
	},
	{
		.who = "Andrea, L4336",
		.claim = "gup-fast needs smp_mb between setting PG_gup and re-reading the PTE: "
			 "a store-buffering pair with fork",
		.test = "R3-fork-vs-gup-fast", .preset = "andrea-v2",
		.knobs = { "fast_barrier=off", NULL },
		.settles = LITMUS_SOMETIMES,
		.sb = true,
	},
	{
		.who = "Nick, L3088-3091",
		.claim = "PG_dontcow needs no barrier in gup-fast: one branch and no barrier",
		.test = "R3-fork-vs-gup-fast", .preset = "nick-v3",
		.knobs = { "fast_barrier=off", NULL },
		.settles = LITMUS_NEVER,
		.sb = true,
	},
	{
		.who = "Andrea, L7972-7977",
		.claim = "Linus's page_count reuse (F12) breaks once the page is in the swap "
			 "cache",
		.test = "R6-swap-cache", .preset = "linus-refcount",
		.knobs = { NULL },
		.settles = LITMUS_SOMETIMES,
		.pending = "swap is not modelled yet (the swap issue): R6 has no test",
	},
};

const struct mx_claim *matrix_claims(unsigned *n)
{
	*n = sizeof(claims) / sizeof(claims[0]);
	return claims;
}

/* The claim's test in @corpus, or NULL if the corpus does not have it. */
static const struct litmus_test *claim_test(const struct corpus *corpus, const char *name,
					    const char **file)
{
	for (unsigned i = 0; i < corpus->nr; i++)
		if (!strcmp(corpus->tests[i]->name, name)) {
			*file = corpus->files[i];
			return corpus->tests[i];
		}
	return NULL;
}

void matrix_claim_run(const struct mx_claim *cl, const struct corpus *corpus,
		      const struct litmus_run_opts *base, struct mx_claim_out *out)
{
	struct litmus_run_opts o = *base;
	const struct litmus_test *t = claim_test(corpus, cl->test, &out->file);
	struct litmus_result *r;

	memset(out->schedule, 0, sizeof(out->schedule));
	out->found = t != NULL;
	if (!t)
		return;
	o.knobs = cl->knobs[0] ? cl->knobs : NULL;
	o.progress = NULL;
	if (cl->sb)
		o.memory = LITMUS_RUN_MEMORY_SB;
	if (cl->bound && o.explore.preemption_bound >= 0 && o.explore.preemption_bound < cl->bound)
		o.explore.preemption_bound = cl->bound;
	out->err = litmus_run(t, cl->preset, &o, &r);
	if (out->err)
		return;
	out->obs = r->obs;
	out->execs = r->stats.execs;
	out->had_errors = r->err || r->errors;
	if (r->witness && r->witness->schedule)
		snprintf(out->schedule, sizeof(out->schedule), "%s", r->witness->schedule);
	litmus_result_free(r);
}

bool matrix_claim_settled(const struct mx_claim *cl, const struct mx_claim_out *out)
{
	return out->found && !out->err && !out->had_errors && out->obs == cl->settles;
}

/* "--knob a --knob b [--memory sb]" for a replay command. */
static void knob_flags(const struct mx_claim *cl, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; cl->knobs[i] && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, " --knob %s", cl->knobs[i]);
	if (cl->sb && len < size)
		snprintf(buf + len, size - len, " --memory sb");
}

void matrix_claim_print(FILE *f, const struct mx_claim *cl, const struct mx_claim_out *out,
			bool markdown)
{
	char knobs[128], what[256];

	knob_flags(cl, knobs, sizeof(knobs));
	if (cl->bound)
		snprintf(what, sizeof(what), "%s on %s%s --bound %d", cl->test, cl->preset, knobs,
			 cl->bound);
	else
		snprintf(what, sizeof(what), "%s on %s%s", cl->test, cl->preset, knobs);
	if (markdown)
		fprintf(f, "| %s | %s | `%s` | ", cl->who, cl->claim, what);
	else
		fprintf(f, "%s: %s\n    %s: ", cl->who, cl->claim, what);
	if (!out->found)
		fprintf(f, "not in this corpus%s%s%s", cl->pending ? " (pending: " : "",
			cl->pending ? cl->pending : "", cl->pending ? ")" : "");
	else if (out->err)
		fprintf(f, "error %d", out->err);
	else
		fprintf(f, "%s in %lu executions%s", litmus_obs_name(out->obs), out->execs,
			out->had_errors ? " (with errors)" : "");
	if (out->found && !out->err) {
		if (cl->pending)
			fprintf(f, "; pending: %s", cl->pending);
		else
			fprintf(f, "; %s", matrix_claim_settled(cl, out) ? "settled" :
				"NOT settled as stated");
	}
	if (markdown) {
		fprintf(f, " |");
		if (out->schedule[0])
			fprintf(f, " `gup litmus --policy %s%s --replay %s %s`", cl->preset, knobs,
				out->schedule, out->file);
		fprintf(f, " |\n");
		return;
	}
	fputc('\n', f);
	if (out->schedule[0])
		fprintf(f, "    witness: gup litmus --policy %s%s --replay %s %s\n", cl->preset, knobs,
			out->schedule, out->file);
}
