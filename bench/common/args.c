/* SPDX-License-Identifier: MIT */
/*
 * bench/common/args.c - command-line numbers for the bench programs (args.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"

long bench_arg_long(const char *prog, const char *usage, const char *opt, const char *s,
		    long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = s ? strtol(s, &end, 10) : 0;
	if (!s || errno || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: %s wants an integer in %ld..%ld\n", prog, opt, lo, hi);
		fprintf(stderr, "%s\n", usage);
		exit(2);
	}
	return v;
}
