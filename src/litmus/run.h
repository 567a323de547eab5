/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/run.h - run a parsed litmus test under the explorer, and report
 * what came out the way herd7 does (docs/litmus.md, "Running tests").
 *
 * litmus_run() runs one test under one policy: every execution builds a fresh
 * world, runs the threads' operations through the gup_* API as actors of the
 * deterministic scheduler (src/sched/explore.h), reads the final state, and
 * releases everything.  The result holds the distinct final states with their
 * counts, the observation, the explorer's figures, and the first witness and
 * counterexample with their schedule strings and per-thread traces.  The
 * reporters print it as text (herd7's lines and ours), JSON or DOT.
 *
 * Internal to libgup like the parser: the `gup` tool, the bench and the tests
 * link the internal archive.  No global state: two threads may run tests at
 * once, each on its own OS thread.
 */
#ifndef GUP_LITMUS_RUN_H
#define GUP_LITMUS_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "litmus/litmus.h"
#include "sched/explore.h"

struct litmus_result;

/* The preemption bound of the default search: see docs/litmus.md. */
#define LITMUS_DEFAULT_BOUND	2
/*
 * A run stops (-ECANCELED) after this many stuck executions (deadlock, step
 * bound): each leaks what its stuck actors hold, some 40 KB.
 */
#define LITMUS_MAX_STUCK	5000

/* The memory model of a run: the test's own, or one the caller forces. */
enum litmus_run_memory {
	LITMUS_RUN_MEMORY_TEST,	/* the test's Memory: line (sc without one)   */
	LITMUS_RUN_MEMORY_SC,	/* sequential consistency, whatever it says   */
	LITMUS_RUN_MEMORY_SB,	/* store buffers, whatever it says            */
};

struct litmus_run_opts {
	/* The search.  explore.store_buffers is not read: `memory` decides it. */
	struct explore_config explore;
	enum litmus_run_memory memory;
	/*
	 * Overrides of the policy's knobs ("name=value", NULL-terminated; NULL: none),
	 * applied to the world of every execution (docs/policies.md).  Borrowed: they
	 * must outlive the run.
	 */
	const char *const *knobs;
	/*
	 * Called now and then (every 0.2 s or so) while the run goes on, from the
	 * running thread; for a progress line.  NULL: not called.
	 */
	void (*progress)(void *arg, const struct litmus_result *r);
	void *progress_arg;
};

/*
 * The default search: DFS with POR under a preemption bound of
 * LITMUS_DEFAULT_BOUND, in the memory model the test asks for.
 */
void litmus_run_opts_init(struct litmus_run_opts *o);

/* A distinct final state: the values of the condition's locations. */
struct litmus_state {
	char *text;		/* "P0:n=512; parent:buf+512=0x42*512;" */
	unsigned long count;	/* executions that ended in it */
	bool sat;		/* it satisfies the condition */
};

/* One operation in a trace. */
struct litmus_trace_op {
	unsigned begin, end;	/* order of its start and of its return; 0: never */
	char *value;		/* its result as text; NULL if none or it never returned */
};

/* One execution, for a witness, a counterexample, a replay. */
struct litmus_trace {
	char *schedule;				/* the replay string */
	enum explore_end end;
	char *state;				/* NULL unless it ended (EXPLORE_DONE) */
	bool sat;
	bool filtered;				/* the filter dropped it */
	int actor[LITMUS_MAX_THREADS];		/* each thread's actor id; -1: never ran */
	struct litmus_trace_op *ops[LITMUS_MAX_THREADS];
};

struct litmus_result {
	const struct litmus_test *test;
	const char *policy;			/* the preset's name (static) */
	char *knobs;				/* its overrides, "a=b c=d"; NULL if none */
	struct explore_config explore;		/* as run (replay borrowed from the caller);
						 * store_buffers: the model used */
	int err;				/* 0, or why the run stopped (-errno) */
	char *err_text;				/* and what it says about it */
	struct explore_stats stats;
	double secs;

	struct litmus_state *states;		/* sorted by text */
	unsigned nr_states, cap_states;
	unsigned long positive, negative;	/* distinct states where p holds, fails */
	unsigned long execs_sat, execs_unsat;	/* executions counted in states */
	unsigned long filtered;			/* executions the filter dropped */
	unsigned long errors;			/* executions the engine's checker failed */
	char *error_text;			/* the first one's report */
	unsigned long misuse;			/* executions with misuse reports */
	char *misuse_text;			/* the first one's report */

	enum litmus_obs obs;			/* Never, Sometimes, Always: about p */
	bool ok;				/* the quantified condition is validated */

	char **op_text[LITMUS_MAX_THREADS];	/* "rd = dio_read(sda, 0, buf+512, 512)" */
	struct litmus_trace *first;		/* the first execution not redundant */
	struct litmus_trace *witness;		/* the first where p holds */
	struct litmus_trace *counter;		/* the first where p fails */
	struct litmus_trace *stuck;		/* the first deadlock or step bound */
	struct litmus_trace *error;		/* the first the checker failed */
};

/*
 * litmus_run - run @t under @policy (a preset name, with @o's knob overrides)
 * with @o (NULL: the default search).  Return: 0 and *@out (free it with
 * litmus_result_free), the run's own failures being in (*out)->err; -EINVAL
 * (unknown policy or knob, bad options); -ENOMEM.
 */
int litmus_run(const struct litmus_test *t, const char *policy,
	       const struct litmus_run_opts *o, struct litmus_result **out);
void litmus_result_free(struct litmus_result *r);

/* herd7's kind of a test: Allowed (exists), Forbidden (~exists), Required (forall). */
const char *litmus_kind_name(enum litmus_quant q);
/* The Result: entry for @policy: true and *@obs, or false if the test has none. */
bool litmus_expected(const struct litmus_test *t, const char *policy, enum litmus_obs *obs);
/*
 * "DFS with POR, preemption bound 2" and the like, into @buf; ", sb memory
 * model" after it when @c has store buffers (nothing for sc).
 */
void litmus_search_name(const struct explore_config *c, char *buf, size_t size);
/* The model @r ran under: LITMUS_MEM_SC or LITMUS_MEM_SB. */
enum litmus_memory litmus_result_memory(const struct litmus_result *r);

/*
 * Reporters.  Text: herd7's block (Test ... Time), then our lines (Policy,
 * Search, Executions, Points, outcomes, the witness's schedule and trace).
 * JSON: one object; @check is "ok", "FAIL" or NULL (not checked).  DOT: a
 * digraph with one swimlane per thread for the witness (or the
 * counterexample, or the replayed execution); a comment if there is none.
 * Return: 0 or -EIO.
 */
int litmus_report_text(FILE *f, const struct litmus_result *r);
int litmus_report_json(FILE *f, const struct litmus_result *r, const char *check);
int litmus_report_dot(FILE *f, const struct litmus_result *r);

#endif /* GUP_LITMUS_RUN_H */
