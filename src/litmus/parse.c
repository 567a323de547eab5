/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/parse.c - the litmus grammar (docs/litmus.md) and its static
 * checks, in one recursive-descent pass.
 *
 * Names are resolved as they are read, so a name must be declared before it is
 * used: disks before the files on them, an mm before its uffd, a fork before
 * the threads bound to its child, a handle before the op that releases it.
 * That is also what makes the checks cheap and their messages precise: the
 * first thing wrong is reported, at its own line and column, and the parse
 * stops (lx_fail unwinds; the arena goes with the test).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gup/gup.h"
#include "litmus/lex.h"
#include "policy/policy.h"

#define PAGE		GUP_PAGE_SIZE
#define SECTOR		512u

/* The kinds of declared name; they share one namespace. */
enum ns_kind { NS_MM, NS_DISK, NS_FILE, NS_PIPE, NS_UFFD, NS_NR };

static const char *const ns_what[NS_NR] = { "mm", "disk", "file", "pipe", "uffd" };
static const char *const ns_a[NS_NR] = { "an mm", "a disk", "a file", "a pipe", "a uffd" };

struct parser {
	struct lexer lx;
	struct litmus_test *t;
	const char *const *policies;

	/* The test's arrays, writable while they grow (the test's are const). */
	struct litmus_expect *expect;
	struct litmus_disk *disks;
	struct litmus_file *files;
	struct litmus_pipe *pipes;
	struct litmus_uffd *uffds;
	struct litmus_mm *mms;
	struct litmus_region *regions;
	struct litmus_thread *threads;
	unsigned cap_expect, cap_regions;

	/* The thread being read. */
	struct litmus_op *ops;
	unsigned cap_ops;
	bool exited;
	unsigned released_line[LITMUS_MAX_OPS];	/* 0: not released */

	unsigned cond_nodes;
	unsigned nest;		/* ( and ~ open */
};

/* ---- small helpers ----------------------------------------------------------------- */

#define fail(p, pos, ...)	lx_fail(&(p)->lx, (pos), __VA_ARGS__)

static const struct tok *peek(struct parser *p)
{
	return lx_peek(&p->lx);
}

static struct tok next(struct parser *p)
{
	return lx_next(&p->lx);
}

static bool peek_is(struct parser *p, enum tok_kind kind)
{
	return peek(p)->kind == kind;
}

static bool accept(struct parser *p, enum tok_kind kind)
{
	if (!peek_is(p, kind))
		return false;
	next(p);
	return true;
}

static bool accept_word(struct parser *p, const char *word)
{
	if (!tok_is(peek(p), word))
		return false;
	next(p);
	return true;
}

static _Noreturn void fail_expected(struct parser *p, const struct tok *t, const char *what)
{
	char buf[48];

	fail(p, t->pos, "expected %s, got %s", what, tok_describe(t, buf, sizeof(buf)));
}

static struct tok expect(struct parser *p, enum tok_kind kind, const char *what)
{
	struct tok t = next(p);

	if (t.kind != kind)
		fail_expected(p, &t, what);
	return t;
}

static void expect_word(struct parser *p, const char *word)
{
	struct tok t = next(p);

	if (!tok_is(&t, word)) {
		char what[32];

		snprintf(what, sizeof(what), "'%s'", word);
		fail_expected(p, &t, what);
	}
}

static struct tok expect_ident(struct parser *p, const char *what)
{
	return expect(p, T_IDENT, what);
}

static char *tok_str(struct parser *p, const struct tok *t)
{
	return lx_strdup(&p->lx, t->text, t->len);
}

static bool tok_eq(const struct tok *t, const char *s)
{
	return strlen(s) == t->len && memcmp(t->text, s, t->len) == 0;
}

static uint64_t expect_uint(struct parser *p, const char *what)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s (an integer)", what);
	return expect(p, T_INT, buf).num;
}

/* Make room for one more of @size bytes in *@arr (holding @nr, room for *@cap). */
static void *grow(struct parser *p, void *arr, unsigned nr, unsigned *cap, size_t size)
{
	void *bigger;

	if (nr < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 4;
	bigger = lx_alloc(&p->lx, *cap, size);
	if (nr)
		memcpy(bigger, arr, nr * size);
	return bigger;
}

/* Is [off, off+len) inside [0, extent)?  No overflow. */
static bool range_ok(uint64_t off, uint64_t len, uint64_t extent)
{
	return off <= extent && len <= extent - off;
}

/* `PN` with a decimal N: the name of thread N (-1 if @t is not of that form). */
static long thread_number(const struct tok *t)
{
	long n = 0;

	if (t->kind != T_IDENT || t->len < 2 || t->len > 4 || t->text[0] != 'P')
		return -1;
	for (size_t i = 1; i < t->len; i++) {
		if (t->text[i] < '0' || t->text[i] > '9')
			return -1;
		n = n * 10 + (t->text[i] - '0');
	}
	if (t->len > 2 && t->text[1] == '0')
		return -1;
	return n;
}

/* ---- the namespace -------------------------------------------------------------------- */

/* The name of the @i-th declared @kind, NULL past the last. */
static const char *ns_name(const struct parser *p, enum ns_kind kind, unsigned i)
{
	const struct litmus_test *T = p->t;

	switch (kind) {
	case NS_MM:
		return i < T->nr_mms ? p->mms[i].name : NULL;
	case NS_DISK:
		return i < T->nr_disks ? p->disks[i].name : NULL;
	case NS_FILE:
		return i < T->nr_files ? p->files[i].name : NULL;
	case NS_PIPE:
		return i < T->nr_pipes ? p->pipes[i].name : NULL;
	case NS_UFFD:
		return i < T->nr_uffds ? p->uffds[i].name : NULL;
	case NS_NR:
		break;
	}
	return NULL;
}

/* The index of the @kind called @t, or -1. */
static int find(const struct parser *p, enum ns_kind kind, const struct tok *t)
{
	const char *name;

	for (unsigned i = 0; (name = ns_name(p, kind, i)); i++)
		if (tok_eq(t, name))
			return (int)i;
	return -1;
}

/* What @t names, or NS_NR if nothing. */
static enum ns_kind kind_of(struct parser *p, const struct tok *t, int *index)
{
	for (int k = 0; k < NS_NR; k++) {
		*index = find(p, k, t);
		if (*index >= 0)
			return k;
	}
	return NS_NR;
}

/* Read the name of something being declared: unique, not a thread's. */
static struct tok new_name(struct parser *p, const char *what)
{
	char expected[48];
	struct tok t;
	enum ns_kind k;
	int i;

	snprintf(expected, sizeof(expected), "a name for the %s", what);
	t = expect_ident(p, expected);
	k = kind_of(p, &t, &i);
	if (thread_number(&t) >= 0)
		fail(p, t.pos, "'%.*s' is a thread's name; choose another for the %s",
		     (int)t.len, t.text, what);
	if (k != NS_NR)
		fail(p, t.pos, "%s '%.*s' is already declared (as %s)", what, (int)t.len,
		     t.text, ns_a[k]);
	return t;
}

/* Read a reference to an existing @kind. */
static unsigned use_name(struct parser *p, enum ns_kind kind)
{
	struct tok t = next(p);
	int i;
	enum ns_kind k;

	if (t.kind != T_IDENT)
		fail_expected(p, &t, ns_a[kind]);
	k = kind_of(p, &t, &i);
	if (k == kind)
		return (unsigned)i;
	if (k != NS_NR)
		fail(p, t.pos, "'%.*s' is %s, not %s", (int)t.len, t.text, ns_a[k], ns_a[kind]);
	if (kind == NS_MM)
		fail(p, t.pos, "unknown mm '%.*s' (a child is named by an earlier fork)",
		     (int)t.len, t.text);
	fail(p, t.pos, "unknown %s '%.*s'", ns_what[kind], (int)t.len, t.text);
}

static void check_count(struct parser *p, struct litmus_pos pos, unsigned nr, const char *what)
{
	if (nr >= LITMUS_MAX_DECLS)
		fail(p, pos, "too many %s (the limit is %d)", what, LITMUS_MAX_DECLS);
}

/*
 * The start of a declaration at @pos of one more @what (there are @nr): within
 * the limit, and a new name, which it returns.
 */
static const char *declare(struct parser *p, struct litmus_pos pos, unsigned nr,
			   const char *what, const char *plural)
{
	struct tok name;

	check_count(p, pos, nr, plural);
	name = new_name(p, what);
	return tok_str(p, &name);
}

/* ---- patterns ---------------------------------------------------------------------------- */

static bool starts_pattern(struct parser *p)
{
	return peek_is(p, T_INT) || peek_is(p, T_STRING);
}

/* piece { piece }, piece = (INT | STRING) [ '*' INT ] */
static struct litmus_pattern parse_pattern(struct parser *p)
{
	struct litmus_pattern pat = { .pos = peek(p)->pos };
	struct litmus_piece *pieces = NULL;
	unsigned cap = 0;

	if (!starts_pattern(p))
		fail_expected(p, peek(p), "bytes (like 0x42*512 or \"text\")");
	while (starts_pattern(p)) {
		struct tok t = next(p);
		struct litmus_piece pc = { .repeat = 1 };
		uint64_t bytes;

		if (pat.nr_pieces == LITMUS_MAX_PIECES)
			fail(p, t.pos, "more than %d pieces in one pattern", LITMUS_MAX_PIECES);
		if (t.kind == T_INT) {
			uint8_t *b;

			if (t.num > 255)
				fail(p, t.pos, "byte value %.*s out of range (0 to 255)",
				     (int)t.len, t.text);
			b = lx_alloc(&p->lx, 1, 1);
			*b = (uint8_t)t.num;
			pc.bytes = b;
			pc.nr_bytes = 1;
		} else {
			if (!t.str_len)
				fail(p, t.pos, "empty string in a pattern");
			pc.bytes = t.str;
			pc.nr_bytes = (uint32_t)t.str_len;
			pc.string = true;
		}
		if (accept(p, T_STAR)) {
			struct tok n = expect(p, T_INT, "a repeat count");

			if (!n.num)
				fail(p, n.pos, "repeat count must be at least 1");
			pc.repeat = n.num;
		}
		bytes = pc.nr_bytes;
		if (pc.repeat > LITMUS_MAX_BYTES / bytes ||
		    pat.len + bytes * pc.repeat > LITMUS_MAX_BYTES)
			fail(p, t.pos, "pattern longer than %u bytes", LITMUS_MAX_BYTES);
		pat.len += bytes * pc.repeat;
		pieces = grow(p, pieces, pat.nr_pieces, &cap, sizeof(*pieces));
		pieces[pat.nr_pieces++] = pc;
	}
	pat.pieces = pieces;
	return pat;
}

/* ---- flags and protections ---------------------------------------------------------------- */

static uint64_t parse_flag(struct parser *p, const struct litmus_flag_table *tab)
{
	struct tok t = next(p);

	if (t.kind == T_INT)
		return t.num;
	if (t.kind != T_IDENT) {
		char what[48];

		snprintf(what, sizeof(what), "a %s", tab->what);
		fail_expected(p, &t, what);
	}
	for (unsigned i = 0; i < tab->nr; i++)
		if (tok_eq(&t, tab->flags[i].name))
			return tab->flags[i].value;
	fail(p, t.pos, "unknown %s '%.*s'", tab->what, (int)t.len, t.text);
}

static uint64_t parse_flags(struct parser *p, const struct litmus_flag_table *tab)
{
	uint64_t v = parse_flag(p, tab);

	if (tab->single) {
		if (peek_is(p, T_BAR))
			fail(p, peek(p)->pos, "a %s is one value, not an or of several", tab->what);
		return v;
	}
	while (accept(p, T_BAR))
		v |= parse_flag(p, tab);
	return v;
}

/* none, or the letters r, w, x in that order: r, rw, rwx, rx, w, wx, x. */
static int parse_prot(struct parser *p)
{
	struct tok t = next(p);
	static const char order[] = "rwx";
	static const int bits[] = { GUP_PROT_READ, GUP_PROT_WRITE, GUP_PROT_EXEC };
	size_t k = 0;
	int prot = 0;

	if (t.kind != T_IDENT)
		fail_expected(p, &t, "a protection (r, rw, rx, rwx, none...)");
	if (tok_eq(&t, "none"))
		return GUP_PROT_NONE;
	for (size_t i = 0; i < t.len; i++) {
		while (k < 3 && order[k] != t.text[i])
			k++;
		if (k == 3)
			fail(p, t.pos, "bad protection '%.*s' (r, w, x in that order, or none)",
			     (int)t.len, t.text);
		prot |= bits[k++];
	}
	return prot;
}

/* ---- the header ------------------------------------------------------------------------------ */

static bool policy_known(const struct parser *p, const struct tok *t)
{
	for (const char *const *n = p->policies; *n; n++)
		if (tok_eq(t, *n))
			return true;
	return false;
}

static _Noreturn void fail_policy(struct parser *p, const struct tok *t)
{
	char known[160] = "";
	size_t used = 0;

	for (const char *const *n = p->policies; *n && used < sizeof(known); n++) {
		int w = snprintf(known + used, sizeof(known) - used, "%s%s",
				 used ? ", " : "", *n);

		if (w < 0)
			break;
		used += (size_t)w;
	}
	fail(p, t->pos, "unknown policy '%.*s' (known: %s)", (int)t->len, t->text, known);
}

/* Result: POLICY=OBS { POLICY=OBS }, to the end of the line. */
static void parse_result_line(struct parser *p)
{
	static const char *const obs[] = { "Never", "Sometimes", "Always" };
	struct litmus_test *T = p->t;
	struct tok kw = next(p);
	struct tok colon = expect(p, T_COLON, "':' after Result");

	if (!lx_on_line(&p->lx, kw.pos.line))
		fail(p, colon.pos, "Result: needs POLICY=Observation entries on its line");
	do {
		struct tok name = lx_name(&p->lx, "a policy name");
		struct tok o;
		struct litmus_expect *e;
		unsigned k;

		if (!policy_known(p, &name))
			fail_policy(p, &name);
		for (unsigned i = 0; i < T->nr_expect; i++)
			if (tok_eq(&name, p->expect[i].policy))
				fail(p, name.pos, "policy '%.*s' has a result already (line %u)",
				     (int)name.len, name.text, p->expect[i].pos.line);
		if (T->nr_expect == LITMUS_MAX_EXPECT)
			fail(p, name.pos, "more than %d results", LITMUS_MAX_EXPECT);
		expect(p, T_EQ, "'=' after the policy name");
		o = next(p);
		for (k = 0; k < 3 && !tok_is(&o, obs[k]); k++)
			;
		if (k == 3)
			fail_expected(p, &o, "Never, Sometimes or Always");
		p->expect = grow(p, p->expect, T->nr_expect, &p->cap_expect, sizeof(*p->expect));
		e = &p->expect[T->nr_expect++];
		e->pos = name.pos;
		e->policy = tok_str(p, &name);
		e->obs = (enum litmus_obs)k;
	} while (lx_on_line(&p->lx, kw.pos.line));
}

/* Memory: sc | sb, alone on its line; at most one per test. */
static void parse_memory_line(struct parser *p)
{
	struct litmus_test *T = p->t;
	struct tok kw = next(p);
	struct tok colon, m;
	char buf[48];
	int model;

	if (T->memory_pos.line)
		fail(p, kw.pos, "a second Memory: line (the first is line %u)",
		     T->memory_pos.line);
	colon = expect(p, T_COLON, "':' after Memory");
	if (!lx_on_line(&p->lx, kw.pos.line))
		fail(p, colon.pos, "Memory: needs sc or sb on its line");
	m = next(p);
	if (m.kind != T_IDENT)
		fail_expected(p, &m, "a memory model (sc or sb)");
	model = litmus_memory_lookup(m.text, m.len);
	if (model < 0)
		fail(p, m.pos, "unknown memory model %s (sc or sb)",
		     tok_describe(&m, buf, sizeof(buf)));
	if (lx_on_line(&p->lx, kw.pos.line))
		fail(p, peek(p)->pos, "unexpected %s after the memory model (a Memory: line "
		     "names one)", tok_describe(peek(p), buf, sizeof(buf)));
	T->memory = (enum litmus_memory)model;
	T->memory_pos = kw.pos;
}

static void parse_header(struct parser *p)
{
	struct litmus_test *T = p->t;
	struct tok t = next(p);
	struct tok name;

	if (!tok_is(&t, "GUP"))
		fail(p, t.pos, "a test starts with 'GUP' and its name");
	T->pos = t.pos;
	name = lx_name(&p->lx, "the test's name");
	T->name = tok_str(p, &name);
	if (peek_is(p, T_STRING)) {
		struct tok d = next(p);

		T->desc = lx_strdup(&p->lx, (const char *)d.str, d.str_len);
		T->desc_len = d.str_len;
	}
	for (;;) {
		if (tok_is(peek(p), "Result"))
			parse_result_line(p);
		else if (tok_is(peek(p), "Memory"))
			parse_memory_line(p);
		else
			break;
	}
}

/* ---- the initial state ------------------------------------------------------------------------ */

/* A size: positive, a multiple of @unit, at most LITMUS_MAX_BYTES. */
static uint64_t parse_size(struct parser *p, const char *what, uint64_t unit)
{
	struct tok t = expect(p, T_INT, what);

	if (!t.num || t.num % unit)
		fail(p, t.pos, "%s must be a positive multiple of %llu", what,
		     (unsigned long long)unit);
	if (t.num > LITMUS_MAX_BYTES)
		fail(p, t.pos, "%s above the limit of %u bytes", what, LITMUS_MAX_BYTES);
	return t.num;
}

/* [ '=' pattern ] that must fit in @size bytes. */
static struct litmus_pattern parse_init_bytes(struct parser *p, uint64_t size, const char *what)
{
	struct litmus_pattern pat = { .pos = peek(p)->pos };

	if (!accept(p, T_EQ))
		return pat;
	pat = parse_pattern(p);
	if (pat.len > size)
		fail(p, pat.pos, "%llu initial bytes do not fit in the %llu of %s",
		     (unsigned long long)pat.len, (unsigned long long)size, what);
	return pat;
}

/* disk NAME SIZE [ = pattern ] ; */
static void parse_disk(struct parser *p, struct litmus_pos pos)
{
	struct litmus_test *T = p->t;
	struct litmus_disk d = { .pos = pos };

	d.name = declare(p, pos, T->nr_disks, "disk", "disks");
	d.size = parse_size(p, "disk size", SECTOR);
	d.init = parse_init_bytes(p, d.size, "the disk");
	p->disks[T->nr_disks++] = d;
}

/*
 * file NAME on DISK SIZE [ max SIZE ] [ dax ] [ = pattern ] ;
 * memfd NAME SIZE [ max SIZE ] [ = pattern ] ;
 */
static void parse_file(struct parser *p, struct litmus_pos pos, bool memfd)
{
	struct litmus_test *T = p->t;
	struct litmus_file f = { .pos = pos };
	struct tok size;

	f.name = declare(p, pos, T->nr_files, "file", "files");
	f.kind = memfd ? LITMUS_FILE_MEMFD : LITMUS_FILE_DISK;
	if (!memfd) {
		expect_word(p, "on");
		f.disk = use_name(p, NS_DISK);
	}
	size = expect(p, T_INT, "the file's size");
	f.size = f.max_size = size.num;
	if (accept_word(p, "max"))
		f.max_size = parse_size(p, "max size", 1);
	if (f.size > f.max_size || !f.max_size || f.max_size > LITMUS_MAX_BYTES)
		fail(p, size.pos, "a file needs 0 <= size <= max size, with max size from 1 "
		     "to %u", LITMUS_MAX_BYTES);
	if (!memfd && accept_word(p, "dax"))
		f.dax = true;
	f.init = parse_init_bytes(p, f.size, "the file");
	p->files[T->nr_files++] = f;
}

/* pipe NAME ; */
static void parse_pipe(struct parser *p, struct litmus_pos pos)
{
	struct litmus_test *T = p->t;
	const char *name = declare(p, pos, T->nr_pipes, "pipe", "pipes");

	p->pipes[T->nr_pipes++] = (struct litmus_pipe){ pos, name };
}

/* uffd NAME on MM ; */
static void parse_uffd(struct parser *p, struct litmus_pos pos)
{
	struct litmus_test *T = p->t;
	struct litmus_uffd u = { .pos = pos };

	u.name = declare(p, pos, T->nr_uffds, "uffd", "uffds");
	expect_word(p, "on");
	u.mm = use_name(p, NS_MM);
	p->uffds[T->nr_uffds++] = u;
}

/* NAME : (anon | file F [+ OFF]) (private | shared) PROT SIZE [populate] [= pattern] ; */
static void parse_mapping(struct parser *p, unsigned mm)
{
	struct litmus_test *T = p->t;
	struct litmus_mm *m = &p->mms[mm];
	struct litmus_region r = { .mm = mm };
	struct tok name = expect_ident(p, "a mapping's name or '}'");
	struct tok src, share;

	r.pos = name.pos;
	check_count(p, name.pos, m->nr_regions, "mappings in one mm");
	for (unsigned i = 0; i < m->nr_regions; i++)
		if (tok_eq(&name, p->regions[m->first_region + i].name))
			fail(p, name.pos, "mapping '%.*s' is already declared in mm '%s'",
			     (int)name.len, name.text, m->name);
	r.name = tok_str(p, &name);
	expect(p, T_COLON, "':' after the mapping's name");
	src = next(p);
	if (tok_is(&src, "file")) {
		struct tok off;

		r.kind = LITMUS_MAP_FILE;
		r.file = use_name(p, NS_FILE);
		if (accept(p, T_PLUS)) {
			off = expect(p, T_INT, "a file offset");
			if (off.num % PAGE)
				fail(p, off.pos, "file offset must be a multiple of %llu",
				     (unsigned long long)PAGE);
			r.file_off = off.num;
		}
	} else if (!tok_is(&src, "anon")) {
		fail_expected(p, &src, "anon or file");
	}
	share = next(p);
	if (tok_is(&share, "shared"))
		r.shared = true;
	else if (!tok_is(&share, "private"))
		fail_expected(p, &share, "private or shared");
	r.prot = parse_prot(p);
	r.len = parse_size(p, "mapping length", PAGE);
	r.populate = accept_word(p, "populate");
	r.init = parse_init_bytes(p, r.len, "the mapping");
	if (r.init.nr_pieces && !(r.prot & GUP_PROT_WRITE))
		fail(p, r.init.pos, "initial bytes need a writable mapping (they are stored "
		     "by the CPU)");
	expect(p, T_SEMI, "';' after the mapping");
	p->regions = grow(p, p->regions, T->nr_regions, &p->cap_regions, sizeof(*p->regions));
	p->regions[T->nr_regions++] = r;
	m->nr_regions++;
}

/* mm NAME { mapping... } */
static void parse_mm(struct parser *p, struct litmus_pos pos)
{
	struct litmus_test *T = p->t;
	const char *name = declare(p, pos, T->nr_mms, "mm", "mms");

	p->mms[T->nr_mms] = (struct litmus_mm){ .pos = pos, .name = name, .parent = -1,
						.root = T->nr_mms,
						.first_region = T->nr_regions };
	T->nr_mms++;
	T->nr_declared_mms++;
	expect(p, T_LBRACE, "'{' after the mm's name");
	while (!accept(p, T_RBRACE))
		parse_mapping(p, T->nr_mms - 1);
}

static void parse_init(struct parser *p)
{
	struct tok t = next(p);

	if (t.kind != T_LBRACE)
		fail_expected(p, &t, "'{' (the initial state)");
	/* A few KiB at most: the limits make growing them not worth it. */
	p->disks = lx_alloc(&p->lx, LITMUS_MAX_DECLS, sizeof(*p->disks));
	p->files = lx_alloc(&p->lx, LITMUS_MAX_DECLS, sizeof(*p->files));
	p->pipes = lx_alloc(&p->lx, LITMUS_MAX_DECLS, sizeof(*p->pipes));
	p->uffds = lx_alloc(&p->lx, LITMUS_MAX_DECLS, sizeof(*p->uffds));
	p->mms = lx_alloc(&p->lx, LITMUS_MAX_DECLS, sizeof(*p->mms));
	for (;;) {
		t = next(p);
		if (t.kind == T_RBRACE)
			return;
		if (tok_is(&t, "disk"))
			parse_disk(p, t.pos);
		else if (tok_is(&t, "file") || tok_is(&t, "memfd"))
			parse_file(p, t.pos, tok_is(&t, "memfd"));
		else if (tok_is(&t, "pipe"))
			parse_pipe(p, t.pos);
		else if (tok_is(&t, "uffd"))
			parse_uffd(p, t.pos);
		else if (tok_is(&t, "mm"))
			parse_mm(p, t.pos);
		else
			fail_expected(p, &t, "a declaration (disk, file, memfd, pipe, uffd, mm) "
				      "or '}'");
		if (!tok_is(&t, "mm"))
			expect(p, T_SEMI, "';' after the declaration");
	}
}

/* ---- operations ------------------------------------------------------------------------------- */

/* REGION [ + OFF ], a region of @mm. */
static struct litmus_addr parse_addr(struct parser *p, unsigned mm)
{
	const struct litmus_mm *m = &p->mms[mm];
	struct tok t = next(p);
	struct litmus_addr a = { 0 };
	unsigned i;

	if (t.kind != T_IDENT)
		fail_expected(p, &t, "an address (a mapping's name, like buf+512)");
	for (i = 0; i < m->nr_regions; i++)
		if (tok_eq(&t, p->regions[m->first_region + i].name))
			break;
	if (i == m->nr_regions)
		fail(p, t.pos, "no mapping '%.*s' in mm '%s'", (int)t.len, t.text, m->name);
	a.region = m->first_region + i;
	if (accept(p, T_PLUS))
		a.off = expect(p, T_INT, "an offset after '+'").num;
	return a;
}

/* The op of the current thread whose result is called @t, or -1. */
static int find_result(const struct litmus_op *ops, unsigned nr, const struct tok *t)
{
	for (unsigned i = 0; i < nr; i++)
		if (ops[i].result && tok_eq(t, ops[i].result))
			return (int)i;
	return -1;
}

static void parse_handle(struct parser *p, struct litmus_arg *a, const struct litmus_op_info *info,
			 const struct litmus_arg_info *ai, unsigned nr_ops)
{
	struct tok t = expect_ident(p, ai->what);
	int i = find_result(p->ops, nr_ops, &t);
	const struct litmus_op_info *def;

	if (i < 0)
		fail(p, t.pos, "no earlier result named '%.*s' in this thread", (int)t.len, t.text);
	def = litmus_op_info(p->ops[i].kind);
	if (!(def->handle & ai->handles))
		fail(p, t.pos, "%s cannot take '%.*s': it comes from %s", info->name,
		     (int)t.len, t.text, def->name);
	if (p->released_line[i])
		fail(p, t.pos, "'%.*s' was already released at line %u", (int)t.len, t.text,
		     p->released_line[i]);
	a->ref = (unsigned)i;
}

/* The mm whose regions the op's addresses name. */
static unsigned addr_mm(struct parser *p, const struct litmus_op *op, unsigned self)
{
	switch (litmus_op_info(op->kind)->ctx) {
	case LCTX_MM:
		return op->args[0].ref;
	case LCTX_UFFD:
		return p->uffds[op->args[0].ref].mm;
	case LCTX_SELF:
		break;
	}
	return self;
}

static void add_child(struct parser *p, struct litmus_arg *a, unsigned thread, unsigned op)
{
	struct litmus_test *T = p->t;
	struct litmus_pos pos = peek(p)->pos;
	const char *name = declare(p, pos, T->nr_mms, "child mm", "mms");
	unsigned parent = p->threads[thread].mm;

	p->mms[T->nr_mms] = (struct litmus_mm){
		.pos = pos, .name = name, .parent = (int)parent,
		.root = p->mms[parent].root, .fork_thread = thread, .fork_op = op,
		.first_region = p->mms[parent].first_region,
		.nr_regions = p->mms[parent].nr_regions,
	};
	a->ref = T->nr_mms++;
}

/* The namespace of the arguments that name a declared thing. */
static const enum ns_kind arg_ns[] = {
	[LA_MM] = NS_MM, [LA_DISK] = NS_DISK, [LA_FILE] = NS_FILE, [LA_PIPE] = NS_PIPE,
	[LA_UFFD] = NS_UFFD,
};

static void parse_arg(struct parser *p, struct litmus_op *op, unsigned i, unsigned thread,
		      unsigned nr_ops)
{
	const struct litmus_arg_info *ai = &litmus_op_info(op->kind)->args[i];
	struct litmus_arg *a = &op->args[i];
	unsigned self = p->threads[thread].mm;

	a->pos = peek(p)->pos;
	a->kind = ai->kind;
	switch (ai->kind) {
	case LA_ADDR:
		a->addr = parse_addr(p, addr_mm(p, op, self));
		break;
	case LA_LADDR:
		a->addr = parse_addr(p, self);
		break;
	case LA_UINT:
		a->num = expect_uint(p, ai->what);
		break;
	case LA_PATTERN:
		a->pat = parse_pattern(p);
		break;
	case LA_FLAGS:
		a->num = parse_flags(p, ai->flags);
		break;
	case LA_PROT:
		a->num = (uint64_t)parse_prot(p);
		break;
	case LA_MM:
	case LA_DISK:
	case LA_FILE:
	case LA_PIPE:
	case LA_UFFD:
		a->ref = use_name(p, arg_ns[ai->kind]);
		break;
	case LA_NEWMM:
		add_child(p, a, thread, nr_ops);
		break;
	case LA_HANDLE:
		parse_handle(p, a, litmus_op_info(op->kind), ai, nr_ops);
		break;
	case LA_KEYWORD:
		expect_word(p, ai->keyword);
		a->present = true;
		break;
	}
}

/* ( arg , arg ... ) by the op's signature; optional args are the trailing ones. */
static void parse_args(struct parser *p, struct litmus_op *op, unsigned thread, unsigned nr_ops)
{
	const struct litmus_op_info *info = litmus_op_info(op->kind);

	if (!info->nr_args) {
		if (accept(p, T_LPAREN))
			expect(p, T_RPAREN, "')': it takes no arguments");
		return;
	}
	expect(p, T_LPAREN, "'(' and the arguments");
	for (unsigned i = 0; i < info->nr_args; i++) {
		if (i >= info->nr_required && !peek_is(p, T_COMMA))
			break;
		if (i && peek_is(p, T_RPAREN))
			fail(p, peek(p)->pos, "%s needs %u arguments, got %u", info->name,
			     info->nr_required, i);
		if (i)
			expect(p, T_COMMA, "','");
		parse_arg(p, op, i, thread, nr_ops);
		op->nr_args++;
	}
	if (peek_is(p, T_COMMA))
		fail(p, peek(p)->pos, "too many arguments: %s takes at most %u", info->name,
		     info->nr_args);
	expect(p, T_RPAREN, "')' after the arguments");
}

/* How many bytes handle op @h holds: its first span's length. */
static uint64_t handle_extent(const struct litmus_op *h)
{
	const struct litmus_span *s = &litmus_op_info(h->kind)->spans[0];
	uint64_t n = h->args[s->len].num;

	if (s->unit == LS_PAGES)
		return n > UINT64_MAX / PAGE ? UINT64_MAX : n * PAGE;
	return n;
}

/* Does the span lie inside what it names?  Where the parser can tell. */
static void check_span(struct parser *p, const struct litmus_op *op, const struct litmus_span *s)
{
	const struct litmus_arg *obj = &op->args[s->obj];
	const struct litmus_arg *len_arg = &op->args[s->len];
	uint64_t off, len, extent;
	char name[128];

	off = op->args[s->off].num;
	switch (obj->kind) {
	case LA_ADDR:
	case LA_LADDR:
		off = obj->addr.off;
		extent = p->regions[obj->addr.region].len;
		snprintf(name, sizeof(name), "mapping '%s' (%llu bytes)",
			 p->regions[obj->addr.region].name, (unsigned long long)extent);
		break;
	case LA_DISK:
		extent = p->disks[obj->ref].size;
		snprintf(name, sizeof(name), "disk '%s' (%llu bytes)", p->disks[obj->ref].name,
			 (unsigned long long)extent);
		break;
	case LA_FILE:
		extent = p->files[obj->ref].max_size;
		snprintf(name, sizeof(name), "file '%s' (max size %llu)", p->files[obj->ref].name,
			 (unsigned long long)extent);
		break;
	default:	/* LA_HANDLE */
		extent = handle_extent(&p->ops[obj->ref]);
		snprintf(name, sizeof(name), "the %llu bytes '%s' holds",
			 (unsigned long long)extent, p->ops[obj->ref].result);
		break;
	}
	switch (s->unit) {
	case LS_PAGES:
		off -= off % PAGE;
		len = len_arg->num > UINT64_MAX / PAGE ? UINT64_MAX : len_arg->num * PAGE;
		break;
	case LS_PATTERN:
		len = len_arg->pat.len;
		break;
	default:
		len = len_arg->num;
		break;
	}
	if (!range_ok(off, len, extent)) {
		if (len > UINT64_MAX - off)
			fail(p, op->args[s->off].pos, "range of %llu bytes from %llu overflows",
			     (unsigned long long)len, (unsigned long long)off);
		fail(p, op->args[s->off].pos, "range [%llu, %llu) lies outside %s",
		     (unsigned long long)off, (unsigned long long)(off + len), name);
	}
}

static void check_op(struct parser *p, const struct litmus_op *op)
{
	const struct litmus_op_info *info = litmus_op_info(op->kind);

	for (unsigned s = 0; s < info->nr_spans; s++)
		check_span(p, op, &info->spans[s]);
	if (info->releases)
		p->released_line[op->args[0].ref] = op->pos.line;
	if (op->kind == LOP_EXIT)
		p->exited = true;
}

/* [ NAME = ] OP [ ( args ) ] ; */
static void parse_stmt(struct parser *p, unsigned thread)
{
	struct litmus_thread *th = &p->threads[thread];
	unsigned nr = th->nr_ops;
	struct tok t = expect_ident(p, "an operation or '}'");
	struct litmus_op *op;
	const struct litmus_op_info *info;
	struct tok res = { .kind = T_EOF };
	int k;

	if (nr == LITMUS_MAX_OPS)
		fail(p, t.pos, "more than %d operations in one thread", LITMUS_MAX_OPS);
	if (p->exited)
		fail(p, t.pos, "operation after exit");
	if (accept(p, T_EQ)) {
		res = t;
		t = expect_ident(p, "an operation after '='");
	}
	k = litmus_op_lookup(t.text, t.len);
	if (k < 0)
		fail(p, t.pos, "unknown operation '%.*s'", (int)t.len, t.text);
	info = litmus_op_info(k);
	p->ops = grow(p, p->ops, nr, &p->cap_ops, sizeof(*p->ops));
	th->ops = p->ops;
	op = &p->ops[nr];
	memset(op, 0, sizeof(*op));
	op->kind = k;
	op->pos = res.kind == T_IDENT ? res.pos : t.pos;
	if (res.kind == T_IDENT) {
		if (info->result == LR_NONE)
			fail(p, res.pos, "%s has no result to name", info->name);
		if (find_result(p->ops, nr, &res) >= 0)
			fail(p, res.pos, "result '%.*s' is already named in this thread",
			     (int)res.len, res.text);
		op->result = tok_str(p, &res);
		op->result_pos = res.pos;
	} else if (info->handle) {
		fail(p, t.pos, "name the result of %s (NAME = %s(...)): a later operation "
		     "must release it", info->name, info->name);
	}
	parse_args(p, op, thread, nr);
	expect(p, T_SEMI, "';' after the operation");
	check_op(p, op);
	th->nr_ops++;
}

/* PN @ MM { stmt... } */
static void parse_thread(struct parser *p)
{
	struct litmus_test *T = p->t;
	struct tok t = next(p);
	long n = thread_number(&t);
	struct litmus_thread *th;

	if (n != (long)T->nr_threads) {
		char what[48];

		snprintf(what, sizeof(what), "thread P%u or the final condition", T->nr_threads);
		fail_expected(p, &t, what);
	}
	if (T->nr_threads == LITMUS_MAX_THREADS)
		fail(p, t.pos, "more than %d threads", LITMUS_MAX_THREADS);
	if (!p->threads)
		p->threads = lx_alloc(&p->lx, LITMUS_MAX_THREADS, sizeof(*p->threads));
	th = &p->threads[T->nr_threads];
	th->pos = t.pos;
	th->id = (unsigned)n;
	expect(p, T_AT, "'@' and the thread's mm");
	th->mm = use_name(p, NS_MM);
	expect(p, T_LBRACE, "'{' after the thread's mm");
	p->ops = NULL;
	p->cap_ops = 0;
	p->exited = false;
	memset(p->released_line, 0, sizeof(p->released_line));
	T->nr_threads++;
	while (!accept(p, T_RBRACE))
		parse_stmt(p, T->nr_threads - 1);
}

/* ---- conditions ---------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "ESRCH", ESRCH }, { "EINTR", EINTR },
	{ "EIO", EIO }, { "ENXIO", ENXIO }, { "E2BIG", E2BIG }, { "EBADF", EBADF },
	{ "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM }, { "EACCES", EACCES }, { "EFAULT", EFAULT },
	{ "EBUSY", EBUSY }, { "EEXIST", EEXIST }, { "EINVAL", EINVAL }, { "EFBIG", EFBIG },
	{ "ENOSPC", ENOSPC }, { "ERANGE", ERANGE }, { "EDEADLK", EDEADLK },
	{ "EMLINK", EMLINK }, { "EOVERFLOW", EOVERFLOW }, { "EOPNOTSUPP", EOPNOTSUPP },
	{ "ETIMEDOUT", ETIMEDOUT }, { "EREMOTEIO", EREMOTEIO }, { "EHWPOISON", EHWPOISON },
};

const char *litmus_errno_name(int64_t err)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].value == err)
			return errnos[i].name;
	return NULL;
}

static struct litmus_cond *new_cond(struct parser *p, struct litmus_pos pos,
				    enum litmus_cond_kind kind)
{
	struct litmus_cond *c;

	if (++p->cond_nodes > LITMUS_MAX_COND)
		fail(p, pos, "condition with more than %d terms", LITMUS_MAX_COND);
	c = lx_alloc(&p->lx, 1, sizeof(*c));
	c->pos = pos;
	c->kind = kind;
	return c;
}

/* An integer value: [ - ] INT, or -ERRNO. */
static int64_t parse_int_value(struct parser *p)
{
	bool neg = accept(p, T_MINUS);
	struct tok t = next(p);

	if (t.kind == T_IDENT) {
		for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
			if (!tok_eq(&t, errnos[i].name))
				continue;
			if (!neg)
				fail(p, t.pos, "errors are negative: write -%s", errnos[i].name);
			return -(int64_t)errnos[i].value;
		}
		fail(p, t.pos, "unknown error name '%.*s'", (int)t.len, t.text);
	}
	if (t.kind != T_INT)
		fail_expected(p, &t, "an integer or -ERRNO");
	if (t.num > (uint64_t)INT64_MAX + neg)
		fail(p, t.pos, "integer out of range");
	if (neg && !t.num)
		fail(p, t.pos, "write 0, not -0");
	return neg ? (int64_t)(0 - t.num) : (int64_t)t.num;
}

/* MM:REGION [+ OFF] as a value (an address). */
static void parse_addr_value(struct parser *p, struct litmus_value *v)
{
	v->kind = LV_ADDR;
	v->mm = use_name(p, NS_MM);
	expect(p, T_COLON, "':' and a mapping (an address is MM:REGION+OFF)");
	v->addr = parse_addr(p, v->mm);
}

static void parse_value(struct parser *p, const struct litmus_loc *loc, struct litmus_value *v)
{
	enum litmus_res_kind res = LR_BYTES;

	v->pos = peek(p)->pos;
	if (loc->kind == LL_STAT) {
		/* A counter: a count, never an error or bytes. */
		if (peek_is(p, T_MINUS))
			fail(p, v->pos, "a counter is never negative");
		if (!peek_is(p, T_INT))
			fail_expected(p, peek(p), "a count (a counter is compared with an integer)");
		v->kind = LV_INT;
		v->num = parse_int_value(p);
		if (peek_is(p, T_STAR) || peek_is(p, T_INT) || peek_is(p, T_STRING))
			fail(p, peek(p)->pos, "a counter is compared with a count, not bytes");
		return;
	}
	if (loc->kind == LL_RESULT)
		res = litmus_op_info(p->threads[loc->obj].ops[loc->op].kind)->result;
	if (res == LR_INT || (res != LR_BYTES && !peek_is(p, T_IDENT)) ||
	    (loc->kind == LL_RESULT && peek_is(p, T_MINUS))) {
		v->kind = LV_INT;
		v->num = parse_int_value(p);
	} else if (res == LR_ADDR) {
		parse_addr_value(p, v);
	} else {
		v->kind = LV_BYTES;
		v->pat = parse_pattern(p);
	}
}

/* Does the pattern @v compared with @loc lie inside what @loc names? */
static void check_loc_extent(struct parser *p, const struct litmus_loc *loc,
			     const struct litmus_value *v)
{
	uint64_t extent;
	const char *name;

	switch (loc->kind) {
	case LL_MEM:
		extent = p->regions[loc->region].len;
		name = p->regions[loc->region].name;
		break;
	case LL_DISK:
		extent = p->disks[loc->obj].size;
		name = p->disks[loc->obj].name;
		break;
	case LL_FILE:
		extent = p->files[loc->obj].max_size;
		name = p->files[loc->obj].name;
		break;
	default:
		return;
	}
	if (!range_ok(loc->off, v->pat.len, extent))
		fail(p, loc->pos, "%llu bytes at %llu lie outside '%s' (%llu bytes)",
		     (unsigned long long)v->pat.len, (unsigned long long)loc->off, name,
		     (unsigned long long)extent);
}

/*
 * vm_stat ( NAME ), the word already read: a counter of the world, by its name
 * in gup_stat_name() ("fork_page_copied").
 */
static void parse_stat_loc(struct parser *p, struct litmus_loc *loc)
{
	struct tok name;

	expect(p, T_LPAREN, "'(' after vm_stat");
	name = expect_ident(p, "a counter's name");
	for (int i = 0; i < GUP_NR_STATS; i++) {
		if (tok_eq(&name, gup_stat_name((enum gup_stat_item)i))) {
			loc->kind = LL_STAT;
			loc->obj = (unsigned)i;
			expect(p, T_RPAREN, "')' after the counter's name");
			return;
		}
	}
	fail(p, name.pos, "unknown counter '%.*s' (gup_stat_name's names, e.g. "
	     "fork_page_copied, cow_copy)", (int)name.len, name.text);
}

/* PN:RESULT, MM:REGION [+ OFF], DISK [+ OFF], FILE [+ OFF] or vm_stat(NAME) */
static void parse_loc(struct parser *p, struct litmus_loc *loc)
{
	struct litmus_test *T = p->t;
	struct tok t = next(p);
	long n = thread_number(&t);
	struct litmus_addr addr;
	int i;

	loc->pos = t.pos;
	if (t.kind != T_IDENT)
		fail_expected(p, &t, "a location (MM:MAPPING, PN:RESULT, a disk, a file or "
			      "vm_stat(NAME))");
	/* Not a name of the test: those are never followed by '('. */
	if (tok_is(&t, "vm_stat") && peek_is(p, T_LPAREN)) {
		parse_stat_loc(p, loc);
		return;
	}
	if (n >= 0) {
		struct tok r;

		expect(p, T_COLON, "':' and a result name after the thread");
		r = expect_ident(p, "a result name");
		if (n >= (long)T->nr_threads)
			fail(p, t.pos, "no thread P%ld", n);
		i = find_result(p->threads[n].ops, p->threads[n].nr_ops, &r);
		if (i < 0)
			fail(p, r.pos, "P%ld has no result named '%.*s'", n, (int)r.len, r.text);
		loc->kind = LL_RESULT;
		loc->obj = (unsigned)n;
		loc->op = (unsigned)i;
		return;
	}
	switch (kind_of(p, &t, &i)) {
	case NS_MM:
		expect(p, T_COLON, "':' and a mapping after the mm");
		loc->kind = LL_MEM;
		loc->obj = (unsigned)i;
		addr = parse_addr(p, (unsigned)i);
		loc->region = addr.region;
		loc->off = addr.off;
		return;
	case NS_DISK:
		loc->kind = LL_DISK;
		break;
	case NS_FILE:
		loc->kind = LL_FILE;
		break;
	default:
		fail(p, t.pos, "unknown location '%.*s' (expected MM:MAPPING, PN:RESULT, a "
		     "disk, a file or vm_stat(NAME))", (int)t.len, t.text);
	}
	loc->obj = (unsigned)i;
	if (accept(p, T_PLUS))
		loc->off = expect(p, T_INT, "an offset after '+'").num;
}

/*
 * Conditions are limited by the height of their tree, not by how they are
 * written: the printer adds parentheses the source could leave out (around
 * the outermost condition, an atom under ~, an /\ inside \/), and whatever it
 * prints must parse again.  A tree of height h prints with at most 2h + 3
 * levels of ( and ~, well under LITMUS_MAX_NEST, which only guards the stack
 * against (((((...
 */
static const struct litmus_cond *parse_or(struct parser *p, unsigned *height);

static unsigned check_height(struct parser *p, struct litmus_pos pos, unsigned height)
{
	if (height > LITMUS_MAX_DEPTH)
		fail(p, pos, "condition nested more than %d deep", LITMUS_MAX_DEPTH);
	return height;
}

static void enter(struct parser *p, struct litmus_pos pos)
{
	if (++p->nest > LITMUS_MAX_NEST)
		fail(p, pos, "more than %d parentheses and negations open", LITMUS_MAX_NEST);
}

/* LOC (= | !=) VALUE */
static const struct litmus_cond *parse_atom(struct parser *p)
{
	struct litmus_cond *c = new_cond(p, peek(p)->pos, LC_EQ);
	struct tok op;

	parse_loc(p, &c->loc);
	op = next(p);
	if (op.kind == T_NE)
		c->kind = LC_NE;
	else if (op.kind != T_EQ)
		fail_expected(p, &op, "'=' or '!=' after the location");
	parse_value(p, &c->loc, &c->val);
	if (c->val.kind == LV_BYTES)
		check_loc_extent(p, &c->loc, &c->val);
	return c;
}

static const struct litmus_cond *parse_unary(struct parser *p, unsigned *height)
{
	struct litmus_pos pos = peek(p)->pos;
	const struct litmus_cond *c;

	*height = 0;
	if (accept(p, T_TILDE)) {
		struct litmus_cond *n = new_cond(p, pos, LC_NOT);
		const struct litmus_cond **kid = lx_alloc(&p->lx, 1, sizeof(*kid));

		enter(p, pos);
		*kid = parse_unary(p, height);
		p->nest--;
		*height = check_height(p, pos, *height + 1);
		n->kids = kid;
		n->nr_kids = 1;
		return n;
	}
	if (accept(p, T_LPAREN)) {
		enter(p, pos);
		c = parse_or(p, height);
		expect(p, T_RPAREN, "')' or a connective (/\\ or \\/)");
		p->nest--;
		return c;
	}
	if (accept_word(p, "true"))
		return new_cond(p, pos, LC_TRUE);
	if (accept_word(p, "false"))
		return new_cond(p, pos, LC_FALSE);
	return parse_atom(p);
}

/* kid { CONN kid }, as one n-ary node when there are several. */
static const struct litmus_cond *parse_chain(struct parser *p, enum litmus_cond_kind kind,
					     unsigned *height)
{
	struct litmus_pos pos = peek(p)->pos;
	enum tok_kind conn = kind == LC_OR ? T_OR : T_AND;
	const struct litmus_cond *first, **kids = NULL;
	struct litmus_cond *c;
	unsigned nr = 0, cap = 0, h;

	first = kind == LC_OR ? parse_chain(p, LC_AND, height) : parse_unary(p, height);
	if (!peek_is(p, conn))
		return first;
	c = new_cond(p, pos, kind);
	kids = grow(p, kids, nr, &cap, sizeof(*kids));
	kids[nr++] = first;
	while (accept(p, conn)) {
		kids = grow(p, kids, nr, &cap, sizeof(*kids));
		kids[nr++] = kind == LC_OR ? parse_chain(p, LC_AND, &h) : parse_unary(p, &h);
		if (h > *height)
			*height = h;
	}
	*height = check_height(p, pos, *height + 1);
	c->kids = kids;
	c->nr_kids = nr;
	return c;
}

static const struct litmus_cond *parse_or(struct parser *p, unsigned *height)
{
	return parse_chain(p, LC_OR, height);
}

static const struct litmus_cond *parse_cond(struct parser *p)
{
	unsigned height;

	return parse_or(p, &height);
}

/* [ filter COND ] ( exists | ~exists | forall ) COND EOF */
static void parse_final(struct parser *p)
{
	struct litmus_test *T = p->t;
	struct tok t = next(p);

	if (T->nr_threads < LITMUS_MIN_THREADS)
		fail(p, t.pos, "a test has %d to %d threads, this one %u", LITMUS_MIN_THREADS,
		     LITMUS_MAX_THREADS, T->nr_threads);
	if (tok_is(&t, "filter")) {
		T->filter = parse_cond(p);
		t = next(p);
	}
	T->quant_pos = t.pos;
	if (tok_is(&t, "exists")) {
		T->quant = LITMUS_EXISTS;
	} else if (tok_is(&t, "forall")) {
		T->quant = LITMUS_FORALL;
	} else if (t.kind == T_TILDE) {
		expect_word(p, "exists");
		T->quant = LITMUS_NOT_EXISTS;
	} else {
		fail_expected(p, &t, "the final condition (exists, ~exists or forall)");
	}
	T->cond = parse_cond(p);
	t = next(p);
	if (t.kind != T_EOF) {
		char buf[48];

		fail(p, t.pos, "unexpected %s after the final condition",
		     tok_describe(&t, buf, sizeof(buf)));
	}
}

/* Threads until the word that starts the end: filter, exists, forall or ~. */
static bool at_final(struct parser *p)
{
	const struct tok *t = peek(p);

	return tok_is(t, "filter") || tok_is(t, "exists") || tok_is(t, "forall") ||
	       t->kind == T_TILDE || t->kind == T_EOF;
}

static void parse_test(struct parser *p)
{
	struct litmus_test *T = p->t;

	parse_header(p);
	parse_init(p);
	while (!at_final(p))
		parse_thread(p);
	parse_final(p);

	T->expect = p->expect;
	T->disks = p->disks;
	T->files = p->files;
	T->pipes = p->pipes;
	T->uffds = p->uffds;
	T->mms = p->mms;
	T->regions = p->regions;
	T->threads = p->threads;
}

/* ---- entry points ------------------------------------------------------------------------------- */

/* Everything that may fail with lx_fail, out of the function that calls setjmp. */
static void parse_all(struct parser *p, size_t len)
{
	struct litmus_arena *arena = p->lx.arena;
	const char *path = p->lx.path;

	if (len > LITMUS_MAX_TEXT)
		fail(p, ((struct litmus_pos){ path, 1, 1 }), "test longer than %u bytes",
		     LITMUS_MAX_TEXT);
	p->t = lx_alloc(&p->lx, 1, sizeof(*p->t));
	p->t->arena = arena;
	p->t->path = lx_strdup(&p->lx, path, strlen(path));
	p->lx.path = p->t->path;
	parse_test(p);
}

int litmus_parse_policies(const char *path, const char *text, size_t len,
			  const char *const *policies, struct litmus_test **out,
			  struct litmus_diag *diag)
{
	struct litmus_diag scratch;
	struct litmus_arena *arena;
	struct parser *p;
	int err;

	if (!diag)
		diag = &scratch;
	memset(diag, 0, sizeof(*diag));
	if (!out)
		return -EINVAL;
	*out = NULL;
	arena = arena_new();
	/* The parser lives in the arena too, so the longjmp leaves nothing behind. */
	p = arena ? arena_alloc(arena, sizeof(*p)) : NULL;
	if (!p) {
		arena_free(arena);
		snprintf(diag->msg, sizeof(diag->msg), "out of memory");
		snprintf(diag->text, sizeof(diag->text), "%s: out of memory",
			 path ? path : "<input>");
		return -ENOMEM;
	}
	lx_init(&p->lx, path ? path : "<input>", text ? text : "", text ? len : 0, arena, diag);
	p->policies = policies ? policies : policy_names;
	if (setjmp(p->lx.fail)) {
		err = p->lx.err;
		arena_free(p->lx.arena);
		return err;
	}
	parse_all(p, len);
	*out = p->t;
	return 0;
}

int litmus_parse(const char *path, const char *text, size_t len, struct litmus_test **out,
		 struct litmus_diag *diag)
{
	return litmus_parse_policies(path, text, len, NULL, out, diag);
}

void litmus_free(struct litmus_test *t)
{
	if (t)
		arena_free(t->arena);
}
