/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/lex.c - tokens of the litmus language (docs/litmus.md, "Lexical
 * rules"), the arena, and diagnostics.
 *
 * The lexer pulls one token at a time on demand: the parser asks for a test or
 * policy name (which may hold '.', '+' and '-') exactly where one is expected,
 * so the ordinary tokens need no modes.  It never reads past src[len]; the
 * input need not be NUL-terminated and may hold any byte (anything outside
 * printable ASCII and blanks is reported, not skipped).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "litmus/lex.h"

/* ---- the arena ---------------------------------------------------------------- */

#define ARENA_CHUNK	(16u << 10)
#define ARENA_ALIGN	_Alignof(max_align_t)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	_Alignas(max_align_t) unsigned char data[];
};

struct litmus_arena {
	struct arena_chunk *head;
};

struct litmus_arena *arena_new(void)
{
	return calloc(1, sizeof(struct litmus_arena));
}

void arena_free(struct litmus_arena *a)
{
	struct arena_chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *arena_alloc(struct litmus_arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need < size)
		return NULL;
	if (!c || c->size - c->used < need) {
		size_t chunk = need > ARENA_CHUNK ? need : ARENA_CHUNK;

		if (chunk > SIZE_MAX - sizeof(*c))
			return NULL;
		c = malloc(sizeof(*c) + chunk);
		if (!c)
			return NULL;
		c->size = chunk;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	memset(p, 0, size);
	return p;
}

/* ---- diagnostics ------------------------------------------------------------------ */

static void diag_set(struct litmus_diag *d, const char *path, unsigned line, unsigned col)
{
	d->line = line;
	d->col = col;
	if (line)
		snprintf(d->text, sizeof(d->text), "%s:%u:%u: %s", path, line, col, d->msg);
	else
		snprintf(d->text, sizeof(d->text), "%s: %s", path, d->msg);
}

_Noreturn void lx_fail(struct lexer *lx, struct litmus_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lx->diag->msg, sizeof(lx->diag->msg), fmt, ap);
	va_end(ap);
	diag_set(lx->diag, lx->path, pos.line, pos.col);
	lx->err = -EINVAL;
	longjmp(lx->fail, 1);
}

_Noreturn void lx_nomem(struct lexer *lx)
{
	snprintf(lx->diag->msg, sizeof(lx->diag->msg), "out of memory");
	diag_set(lx->diag, lx->path, 0, 0);
	lx->err = -ENOMEM;
	longjmp(lx->fail, 1);
}

void *lx_alloc(struct lexer *lx, size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		lx_nomem(lx);
	p = arena_alloc(lx->arena, n * size);
	if (!p)
		lx_nomem(lx);
	return p;
}

char *lx_strdup(struct lexer *lx, const char *s, size_t len)
{
	char *d = lx_alloc(lx, len + 1, 1);

	memcpy(d, s, len);
	return d;
}

/* ---- characters -------------------------------------------------------------------- */

void lx_init(struct lexer *lx, const char *path, const char *src, size_t len,
	     struct litmus_arena *arena, struct litmus_diag *diag)
{
	memset(lx, 0, sizeof(*lx));
	lx->path = path;
	lx->src = src;
	lx->len = len;
	lx->line = 1;
	lx->col = 1;
	lx->arena = arena;
	lx->diag = diag;
}

static struct litmus_pos here(const struct lexer *lx)
{
	return (struct litmus_pos){ lx->path, lx->line, lx->col };
}

/* The byte @ahead bytes on, or -1 past the end. */
static int at(const struct lexer *lx, size_t ahead)
{
	if (ahead >= lx->len - lx->off)
		return -1;
	return (unsigned char)lx->src[lx->off + ahead];
}

static void advance(struct lexer *lx)
{
	if (lx->src[lx->off] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->off++;
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_name_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '+' || c == '-';
}

/* A byte, as a message shows it: 'x', or \xHH when not printable. */
static const char *show_char(int c, char *buf, size_t size)
{
	if (c >= 0x21 && c < 0x7f && c != '\'')
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "'\\x%02x'", (unsigned)c);
	return buf;
}

/* Skip "(* ... *)", which nests (as in OCaml and herd). */
static void skip_block_comment(struct lexer *lx)
{
	struct litmus_pos open[LITMUS_MAX_DEPTH];
	unsigned depth = 0;

	do {
		if (at(lx, 0) == '(' && at(lx, 1) == '*') {
			if (depth == LITMUS_MAX_DEPTH)
				lx_fail(lx, here(lx), "comments nested more than %d deep",
					LITMUS_MAX_DEPTH);
			open[depth++] = here(lx);
			advance(lx);
			advance(lx);
		} else if (at(lx, 0) == '*' && at(lx, 1) == ')') {
			depth--;
			advance(lx);
			advance(lx);
		} else if (at(lx, 0) < 0) {
			lx_fail(lx, open[depth - 1], "unterminated comment");
		} else {
			advance(lx);
		}
	} while (depth);
}

static void skip_blanks(struct lexer *lx)
{
	for (;;) {
		int c = at(lx, 0);

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			advance(lx);
		} else if (c == '(' && at(lx, 1) == '*') {
			skip_block_comment(lx);
		} else if (c == '/' && at(lx, 1) == '/') {
			while (at(lx, 0) >= 0 && at(lx, 0) != '\n')
				advance(lx);
		} else {
			return;
		}
	}
}

/* ---- tokens ------------------------------------------------------------------------ */

static void lex_int(struct lexer *lx, struct tok *t)
{
	uint64_t v = 0;
	unsigned base = 10;
	int d;

	if (at(lx, 0) == '0' && (at(lx, 1) == 'x' || at(lx, 1) == 'X')) {
		base = 16;
		advance(lx);
		advance(lx);
		if (hex_value(at(lx, 0)) < 0)
			lx_fail(lx, t->pos, "'0x' without hex digits");
	}
	while ((d = hex_value(at(lx, 0))) >= 0 && (unsigned)d < base) {
		if (v > (UINT64_MAX - (unsigned)d) / base)
			lx_fail(lx, t->pos, "integer too large (the limit is 2^64-1)");
		v = v * base + (unsigned)d;
		advance(lx);
	}
	if (is_alpha(at(lx, 0)) || is_digit(at(lx, 0))) {
		char c[12];

		lx_fail(lx, here(lx), "bad digit %s in integer",
			show_char(at(lx, 0), c, sizeof(c)));
	}
	t->kind = T_INT;
	t->num = v;
}

/* One character of a string after a backslash; its value. */
static int lex_escape(struct lexer *lx)
{
	struct litmus_pos pos = here(lx);
	int c, h, l;
	char buf[12];

	advance(lx);	/* the backslash */
	c = at(lx, 0);
	if (c < 0)
		lx_fail(lx, pos, "unterminated string");
	advance(lx);
	switch (c) {
	case '\\': return '\\';
	case '"': return '"';
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case '0': return 0;
	case 'x':
		h = hex_value(at(lx, 0));
		l = h < 0 ? -1 : hex_value(at(lx, 1));
		if (l < 0)
			lx_fail(lx, pos, "'\\x' needs two hex digits");
		advance(lx);
		advance(lx);
		return h << 4 | l;
	}
	if (c >= 0x21 && c < 0x7f)
		lx_fail(lx, pos, "unknown escape '\\%c' in a string", c);
	lx_fail(lx, pos, "unknown escape: backslash then %s", show_char(c, buf, sizeof(buf)));
}

static void lex_string(struct lexer *lx, struct tok *t)
{
	uint8_t buf[LITMUS_MAX_STRING];
	size_t n = 0;
	uint8_t *copy;
	int c;

	advance(lx);	/* the quote */
	for (;;) {
		c = at(lx, 0);
		if (c < 0)
			lx_fail(lx, t->pos, "unterminated string");
		if (c == '"')
			break;
		if (c == '\\') {
			c = lex_escape(lx);
		} else if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c >= 0x7f) {
			char s[12];

			lx_fail(lx, here(lx), "character %s in a string (use \\xHH)",
				show_char(c, s, sizeof(s)));
		} else {
			advance(lx);
		}
		if (n == LITMUS_MAX_STRING)
			lx_fail(lx, t->pos, "string longer than %d bytes", LITMUS_MAX_STRING);
		buf[n++] = (uint8_t)c;
	}
	advance(lx);
	/* Exactly its size: the decoded bytes of a file never exceed the file. */
	copy = lx_alloc(lx, n ? n : 1, 1);
	memcpy(copy, buf, n);
	t->kind = T_STRING;
	t->str = copy;
	t->str_len = n;
}

static void lex_ident(struct lexer *lx, struct tok *t)
{
	while (is_alpha(at(lx, 0)) || is_digit(at(lx, 0)))
		advance(lx);
	t->kind = T_IDENT;
	if (lx->off - (size_t)(t->text - lx->src) > LITMUS_MAX_IDENT)
		lx_fail(lx, t->pos, "name longer than %d bytes", LITMUS_MAX_IDENT);
}

/* Punctuation: one or two characters.  false if @c starts none. */
static bool lex_punct(struct lexer *lx, struct tok *t, int c)
{
	static const struct {
		char c1, c2;
		enum tok_kind kind;
	} ops[] = {
		{ '!', '=', T_NE }, { '/', '\\', T_AND }, { '\\', '/', T_OR },
		{ '{', 0, T_LBRACE }, { '}', 0, T_RBRACE }, { '(', 0, T_LPAREN },
		{ ')', 0, T_RPAREN }, { ';', 0, T_SEMI }, { ':', 0, T_COLON },
		{ ',', 0, T_COMMA }, { '@', 0, T_AT }, { '=', 0, T_EQ },
		{ '+', 0, T_PLUS }, { '-', 0, T_MINUS }, { '*', 0, T_STAR },
		{ '|', 0, T_BAR }, { '~', 0, T_TILDE },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i].c1 != c || (ops[i].c2 && ops[i].c2 != at(lx, 1)))
			continue;
		advance(lx);
		if (ops[i].c2)
			advance(lx);
		t->kind = ops[i].kind;
		return true;
	}
	return false;
}

static void lex(struct lexer *lx, struct tok *t)
{
	int c;

	skip_blanks(lx);
	memset(t, 0, sizeof(*t));
	t->pos = here(lx);
	t->text = lx->src + lx->off;
	c = at(lx, 0);
	if (c < 0) {
		t->kind = T_EOF;
	} else if (is_digit(c)) {
		lex_int(lx, t);
	} else if (is_alpha(c)) {
		lex_ident(lx, t);
	} else if (c == '"') {
		lex_string(lx, t);
	} else if (!lex_punct(lx, t, c)) {
		char s[12];

		lx_fail(lx, t->pos, "unexpected character %s", show_char(c, s, sizeof(s)));
	}
	t->len = (size_t)(lx->src + lx->off - t->text);
}

const struct tok *lx_peek(struct lexer *lx)
{
	if (!lx->have_tok) {
		lex(lx, &lx->tok);
		lx->have_tok = true;
	}
	return &lx->tok;
}

struct tok lx_next(struct lexer *lx)
{
	lx_peek(lx);
	lx->have_tok = false;
	return lx->tok;
}

struct tok lx_name(struct lexer *lx, const char *what)
{
	struct tok t;

	/* The parser only asks right after consuming, never after a peek. */
	if (lx->have_tok)
		lx_fail(lx, lx->tok.pos, "internal error: name after lookahead");
	skip_blanks(lx);
	memset(&t, 0, sizeof(t));
	t.pos = here(lx);
	t.text = lx->src + lx->off;
	while (is_name_char(at(lx, 0)))
		advance(lx);
	t.len = (size_t)(lx->src + lx->off - t.text);
	if (!t.len) {
		char buf[48];

		lx_peek(lx);
		lx_fail(lx, t.pos, "expected %s, got %s", what,
			tok_describe(&lx->tok, buf, sizeof(buf)));
	}
	if (t.len > LITMUS_MAX_IDENT)
		lx_fail(lx, t.pos, "%s longer than %d bytes", what, LITMUS_MAX_IDENT);
	t.kind = T_NAME;
	return t;
}

bool lx_on_line(struct lexer *lx, unsigned line)
{
	if (lx->have_tok)
		return lx->tok.pos.line == line;
	skip_blanks(lx);
	return at(lx, 0) >= 0 && lx->line == line;
}

bool tok_is(const struct tok *t, const char *word)
{
	return t->kind == T_IDENT && strlen(word) == t->len &&
	       memcmp(t->text, word, t->len) == 0;
}

const char *tok_describe(const struct tok *t, char *buf, size_t size)
{
	static const char *const punct[] = {
		[T_LBRACE] = "'{'", [T_RBRACE] = "'}'", [T_LPAREN] = "'('",
		[T_RPAREN] = "')'", [T_SEMI] = "';'", [T_COLON] = "':'",
		[T_COMMA] = "','", [T_AT] = "'@'", [T_EQ] = "'='", [T_NE] = "'!='",
		[T_PLUS] = "'+'", [T_MINUS] = "'-'", [T_STAR] = "'*'", [T_BAR] = "'|'",
		[T_TILDE] = "'~'", [T_AND] = "'/\\'", [T_OR] = "'\\/'",
	};
	/* Long names are cut: the message must stay readable. */
	int n = t->len > 24 ? 24 : (int)t->len;
	const char *more = t->len > 24 ? "..." : "";

	switch (t->kind) {
	case T_EOF:
		snprintf(buf, size, "end of file");
		break;
	case T_IDENT:
		snprintf(buf, size, "'%.*s%s'", n, t->text, more);
		break;
	case T_NAME:
		snprintf(buf, size, "name '%.*s%s'", n, t->text, more);
		break;
	case T_INT:
		snprintf(buf, size, "integer %.*s%s", n, t->text, more);
		break;
	case T_STRING:
		snprintf(buf, size, "a string");
		break;
	default:
		snprintf(buf, size, "%s", punct[t->kind]);
		break;
	}
	return buf;
}
