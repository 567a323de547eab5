/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/litmus.h - the front end of the GUP litmus language: parse a test
 * into the tree of litmus/ast.h, print it back, describe its operations.
 *
 * The language is documented in docs/litmus.md.  Everything here is internal to
 * libgup (none of it is gup_*, so the shared library does not export it); the
 * `gup` tool, the interpreter and the tests link the internal archive.
 *
 * No global state: a parse allocates only inside the test it returns (or
 * nothing, on error), and two threads may parse at once.
 */
#ifndef GUP_LITMUS_H
#define GUP_LITMUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "litmus/ast.h"

/*
 * Limits, so that no input makes the parser, or later the explorer, explode.
 * A test is meant to be 15-40 lines: these are far above what one needs.
 */
#define LITMUS_MAX_TEXT		(1u << 20)	/* bytes of source                   */
#define LITMUS_MAX_IDENT	64		/* bytes of a name                   */
#define LITMUS_MAX_STRING	4096		/* bytes of a "string", decoded      */
#define LITMUS_MAX_BYTES	(1u << 24)	/* a pattern, mapping, disk or file  */
#define LITMUS_MAX_PIECES	256		/* pieces of one pattern             */
#define LITMUS_MIN_THREADS	2
#define LITMUS_MAX_THREADS	5
#define LITMUS_MAX_OPS		64		/* operations of one thread          */
#define LITMUS_MAX_DECLS	16		/* disks, files, pipes, uffds, mms,
						 * regions of one mm: each           */
#define LITMUS_MAX_EXPECT	16		/* policy=Observation entries        */
#define LITMUS_MAX_DEPTH	32		/* height of a condition's tree, and
						 * nesting of comments               */
#define LITMUS_MAX_NEST		128		/* ( and ~ open at once (the stack)  */
#define LITMUS_MAX_COND		256		/* nodes of one condition            */

/*
 * A complaint about the input: `text` is "file:line:col: msg", ready to print;
 * line and col are 0 when it is not about a place (out of memory).
 */
struct litmus_diag {
	unsigned line, col;
	char msg[256];
	char text[512];
};

/*
 * litmus_parse - parse @len bytes of @text (need not be NUL-terminated), read
 * from @path (only used in messages and positions; NULL means "<input>").
 * Policies in Result: lines must be ones the engine knows (gup_policy_names()).
 * Return: 0 and *@out (free it with litmus_free); -EINVAL and @diag filled for
 * bad input; -ENOMEM.  *@out is NULL on error.
 */
int litmus_parse(const char *path, const char *text, size_t len,
		 struct litmus_test **out, struct litmus_diag *diag);

/* As litmus_parse, with the policies Result: lines may name (NULL-terminated). */
int litmus_parse_policies(const char *path, const char *text, size_t len,
			  const char *const *policies, struct litmus_test **out,
			  struct litmus_diag *diag);

void litmus_free(struct litmus_test *t);

/*
 * litmus_print - write @t in canonical form: parsing the output gives the same
 * tree (positions aside) and printing that gives the same text.
 * Return: 0, or -EIO if writing failed.
 */
int litmus_print(FILE *f, const struct litmus_test *t);

/*
 * Pieces of the canonical text, for the runner's reports: an operation as
 * written in its thread (`n = wait(rd)`, no indent, no `;`), a location
 * (`parent:buf+512`), a condition (without the quantifier), an integer.
 */
void litmus_print_op(FILE *f, const struct litmus_test *t, const struct litmus_thread *th,
		     const struct litmus_op *op);
void litmus_print_loc(FILE *f, const struct litmus_test *t, const struct litmus_loc *l);
void litmus_print_cond(FILE *f, const struct litmus_test *t, const struct litmus_cond *c);
/* An integer as conditions write it: -EFAULT for a known errno, else decimal. */
void litmus_print_int(FILE *f, int64_t v);

/* ---- the operations' signatures --------------------------------------------- */

/* A name for flag bits (or, with `single`, for one value of an enumeration). */
struct litmus_flag {
	const char *name;
	uint64_t value;
};

struct litmus_flag_table {
	const char *what;		/* "FOLL flag", "madvise advice"... */
	const struct litmus_flag *flags;
	unsigned nr;
	bool single;			/* one name, not an or of several */
};

struct litmus_arg_info {
	enum litmus_arg_kind kind;
	const char *what;			/* for messages: "length", "pages" */
	const struct litmus_flag_table *flags;	/* LA_FLAGS */
	const char *keyword;			/* LA_KEYWORD */
	unsigned handles;			/* LA_HANDLE: accepted LH_* classes */
};

enum litmus_res_kind {
	LR_NONE,	/* no value; the op cannot be named (exit, put...)     */
	LR_INT,		/* the call's return: a count, 0 or -errno             */
	LR_BYTES,	/* bytes read; -errno if the call failed               */
	LR_ADDR,	/* an address (uffd_read's fault address); or -errno   */
};

/* Where the op's LA_ADDR arguments are: which mm's regions. */
enum litmus_ctx {
	LCTX_SELF,	/* the thread's mm                        */
	LCTX_MM,	/* the mm of argument 0 (LA_MM): remote   */
	LCTX_UFFD,	/* the mm of the uffd of argument 0       */
};

/*
 * A range the op touches, checked against what it lies in when the parser can
 * tell: [off, off+len) of argument `obj` (an address: its region; a disk or
 * file: its size; a page or fixed-buffer handle: the range it holds).  `off` is
 * the argument giving the offset (obj itself for an address), `len` the one
 * giving the length, in `unit`s.
 */
enum litmus_span_unit {
	LS_BYTES,	/* len is a byte count                                  */
	LS_PAGES,	/* len is a page count; the range starts at off's page  */
	LS_PATTERN,	/* len is the length of a pattern argument              */
};

struct litmus_span {
	int8_t obj, off, len;
	enum litmus_span_unit unit;
};

struct litmus_op_info {
	const char *name;
	const char *call;			/* what it runs: "gup_store" */
	unsigned nr_args, nr_required;		/* optional ones come last */
	struct litmus_arg_info args[LITMUS_MAX_ARGS];
	enum litmus_res_kind result;
	unsigned handle;			/* LH_* the result holds, or 0 */
	bool releases;				/* ends the life of its handle (arg 0) */
	enum litmus_ctx ctx;
	unsigned nr_spans;
	struct litmus_span spans[2];
};

const struct litmus_op_info *litmus_op_info(enum litmus_op_kind kind);
/* The op called @name (@len bytes), or -1. */
int litmus_op_lookup(const char *name, size_t len);

const char *litmus_obs_name(enum litmus_obs obs);
/* "EFAULT" for EFAULT (positive); NULL if the language has no name for it. */
const char *litmus_errno_name(int64_t err);
const char *litmus_quant_name(enum litmus_quant q);
/* "sc", "sb": the words of a Memory: line. */
const char *litmus_memory_name(enum litmus_memory m);
/* The model called @name (@len bytes), or -1. */
int litmus_memory_lookup(const char *name, size_t len);

/* ---- patterns --------------------------------------------------------------------- */

/* Write the p->len bytes of @p to @out. */
void litmus_pattern_expand(const struct litmus_pattern *p, uint8_t *out);
/* Are the p->len bytes at @buf those of @p? */
bool litmus_pattern_matches(const struct litmus_pattern *p, const uint8_t *buf);

#endif /* GUP_LITMUS_H */
