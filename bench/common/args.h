/* SPDX-License-Identifier: MIT */
/*
 * bench/common/args.h - command-line numbers for the bench programs.
 */
#ifndef GUP_BENCH_ARGS_H
#define GUP_BENCH_ARGS_H

/*
 * The integer @s given to option @opt of program @prog, which must lie in
 * [lo, hi]; otherwise "prog: opt wants an integer in lo..hi", then @usage, on
 * stderr and exit status 2.  @s NULL means the option had no value.
 */
long bench_arg_long(const char *prog, const char *usage, const char *opt, const char *s,
		    long lo, long hi);

#endif /* GUP_BENCH_ARGS_H */
