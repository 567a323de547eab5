/* SPDX-License-Identifier: MIT */
/*
 * src/debug.h - internal-invariant checks.
 *
 * GUP_BUG_ON is for states the engine itself must never reach (a refcount
 * underflow, freeing a mapped frame): it prints the broken invariant and aborts,
 * like BUG_ON.  Caller mistakes never reach it: they get a negative errno.
 */
#ifndef GUP_DEBUG_H
#define GUP_DEBUG_H

#include <stdio.h>
#include <stdlib.h>

#define GUP_BUG_ON(cond, ...)                                                   \
	do {                                                                    \
		if (__builtin_expect(!!(cond), 0)) {                            \
			fprintf(stderr, "libgup BUG at %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
			abort();                                                \
		}                                                               \
	} while (0)

#endif /* GUP_DEBUG_H */
