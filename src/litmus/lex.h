/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/lex.h - the litmus lexer, the arena the tree lives in, and the
 * one way out on bad input.  Private to src/litmus/.
 *
 * Errors: lx_fail() formats the diagnostic and longjmps back to the parse's
 * entry point, which frees the arena.  Everything allocated during a parse is in
 * the arena, so a failure anywhere leaks nothing and needs no unwinding code.
 */
#ifndef GUP_LITMUS_LEX_H
#define GUP_LITMUS_LEX_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "litmus/litmus.h"

/* ---- the arena ---------------------------------------------------------------- */

struct litmus_arena;

struct litmus_arena *arena_new(void);
void arena_free(struct litmus_arena *a);
/* Zeroed, aligned for any object; NULL only when out of memory. */
void *arena_alloc(struct litmus_arena *a, size_t size);

/* ---- tokens --------------------------------------------------------------------- */

enum tok_kind {
	T_EOF,
	T_IDENT,	/* [A-Za-z_][A-Za-z0-9_]*        */
	T_INT,		/* 123, 0x7b                     */
	T_STRING,	/* "..." with \\ \" \n \t \r \0 \xHH */
	T_NAME,		/* a test or policy name (lx_name) */
	T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN,
	T_SEMI, T_COLON, T_COMMA, T_AT,
	T_EQ, T_NE, T_PLUS, T_MINUS, T_STAR, T_BAR, T_TILDE,
	T_AND,		/* /\ */
	T_OR,		/* \/ */
};

struct tok {
	enum tok_kind kind;
	struct litmus_pos pos;
	const char *text;	/* in the source */
	size_t len;
	uint64_t num;		/* T_INT */
	const uint8_t *str;	/* T_STRING: decoded, in the arena */
	size_t str_len;
};

struct lexer {
	const char *path;
	const char *src;
	size_t len, off;
	unsigned line, col;		/* of src[off] */
	struct tok tok;			/* the lookahead, when have_tok */
	bool have_tok;
	struct litmus_arena *arena;
	struct litmus_diag *diag;
	jmp_buf fail;
	int err;			/* what the longjmp returns: -EINVAL, -ENOMEM */
};

void lx_init(struct lexer *lx, const char *path, const char *src, size_t len,
	     struct litmus_arena *arena, struct litmus_diag *diag);

/* The next token, without consuming it. */
const struct tok *lx_peek(struct lexer *lx);
/* Consume and return the next token. */
struct tok lx_next(struct lexer *lx);
/*
 * Consume a name: [A-Za-z0-9_.+-]+ (test and policy names, like herd's
 * "SB+fencembonceonces" or "linux-2.6.29").  Nothing may be peeked already.
 */
struct tok lx_name(struct lexer *lx, const char *what);
/*
 * Skip blanks and comments and tell whether the next token starts on @line
 * (a Result: line ends with its line).
 */
bool lx_on_line(struct lexer *lx, unsigned line);

/* Is @t the identifier @word? */
bool tok_is(const struct tok *t, const char *word);
/* "identifier 'foo'", "integer 12", "';'", "end of file" (into @buf). */
const char *tok_describe(const struct tok *t, char *buf, size_t size);

/* Report "path:line:col: message" and unwind the parse (-EINVAL). */
_Noreturn void lx_fail(struct lexer *lx, struct litmus_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Out of memory: unwind with -ENOMEM. */
_Noreturn void lx_nomem(struct lexer *lx);

/* arena_alloc, unwinding on failure; @n objects of @size, checked for overflow. */
void *lx_alloc(struct lexer *lx, size_t n, size_t size);
/* A NUL-terminated copy of @len bytes. */
char *lx_strdup(struct lexer *lx, const char *s, size_t len);

#endif /* GUP_LITMUS_LEX_H */
