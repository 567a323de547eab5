/* SPDX-License-Identifier: MIT */
/*
 * tools/matrix.h - the cost side of `gup matrix` (tools/matrix_cost.c).
 */
#ifndef GUP_TOOLS_MATRIX_H
#define GUP_TOOLS_MATRIX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "litmus/run.h"
#include "corpus.h"

/* What one preset makes the common operations pay (matrix_cost.c says how). */
struct mx_cost {
	double atomics_per_page;	/* gup-fast pin: RMWs, adds, bit ops  */
	double barriers_per_page;	/* gup-fast pin: smp_mb()s            */
	uint64_t fork_copied;		/* pages fork copied, 16 of 256 pinned */
	double fallbacks_per_page;	/* read pins after fork: slow-path calls */
	double fork_ms_during_io;	/* fork with a 20 ms direct read in flight */
};

/* Run the workload under @preset.  Return: 0, or a negative errno. */
int matrix_cost(const char *preset, struct mx_cost *out);

/* A claim of the 2009 thread, and the run that settles it (matrix_claims.c). */
struct mx_claim {
	const char *who;		/* "Linus, L376-402" */
	const char *claim;
	const char *test;		/* a corpus test's name */
	const char *preset;
	const char *knobs[4];		/* overrides, NULL-terminated */
	enum litmus_obs settles;	/* the observation that bears the claim out */
	const char *pending;		/* why the model cannot decide it yet, or NULL */
	bool sb;			/* run under the sb memory model (store buffers) */
	int bound;			/* at least this preemption bound (0: the matrix's) */
};

struct mx_claim_out {
	bool found;			/* the corpus has the test */
	const char *file;
	int err;			/* litmus_run's own failure, or 0 */
	enum litmus_obs obs;
	unsigned long execs;
	bool had_errors;
	char schedule[1024];		/* the witness's, "" if none */
};

const struct mx_claim *matrix_claims(unsigned *n);
void matrix_claim_run(const struct mx_claim *cl, const struct corpus *corpus,
		      const struct litmus_run_opts *base, struct mx_claim_out *out);
/* The run bears the claim out (not for a pending one: it is not checked). */
bool matrix_claim_settled(const struct mx_claim *cl, const struct mx_claim_out *out);
void matrix_claim_print(FILE *f, const struct mx_claim *cl, const struct mx_claim_out *out,
			bool markdown);

#endif /* GUP_TOOLS_MATRIX_H */
