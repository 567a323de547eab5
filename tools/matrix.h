/* SPDX-License-Identifier: MIT */
/*
 * tools/matrix.h - the cost side of `gup matrix` (tools/matrix_cost.c).
 */
#ifndef GUP_TOOLS_MATRIX_H
#define GUP_TOOLS_MATRIX_H

#include <stdint.h>

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

#endif /* GUP_TOOLS_MATRIX_H */
