/* SPDX-License-Identifier: MIT */
/*
 * tests/test_litmus_parse.c - the litmus front end (src/litmus/, docs/litmus.md):
 *
 *   - a test using every construct and every operation parses to the tree it
 *     says, and round-trips through the printer (print, parse, print: the same
 *     text);
 *   - a table of malformed inputs, each with the exact line:col and words of
 *     its diagnostic;
 *   - every prefix of a valid test fails cleanly or parses (no crash, no leak:
 *     run under ASan by `SAN=address,undefined`);
 *   - the limits: threads, operations, names, nesting, sizes, input length;
 *   - every test in tests/litmus/ parses, states results for linux-2.6.29 and
 *     linux-6.x, and round-trips;
 *   - every input the fuzzer ever kept (fuzz/crashers/) still parses or fails
 *     cleanly;
 *   - every example in docs/litmus.md parses.
 *
 * Files are found relative to this source file's directory, which is where
 * `make check` runs them from.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "litmus/litmus.h"

/* ---- helpers ---------------------------------------------------------------------- */

/* @t printed, as a malloc'ed string (its length in *@len). */
static char *print_str(const struct litmus_test *t, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(litmus_print(f, t), 0);
	assert_int_equal(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

static struct litmus_test *parse_ok(const char *path, const char *text, size_t len)
{
	struct litmus_test *t = NULL;
	struct litmus_diag d;
	int err = litmus_parse(path, text, len, &t, &d);

	if (err)
		print_error("%s\n", d.text);
	assert_int_equal(err, 0);
	assert_non_null(t);
	return t;
}

/* print(parse(text)) parses, and prints the same again. */
static void assert_round_trip(const char *path, const char *text, size_t len)
{
	struct litmus_test *t = parse_ok(path, text, len), *t2;
	size_t n1, n2;
	char *s1 = print_str(t, &n1), *s2;

	t2 = parse_ok("printed", s1, n1);
	s2 = print_str(t2, &n2);
	if (n1 != n2 || memcmp(s1, s2, n1))
		print_error("first print:\n%s\nsecond print:\n%s\n", s1, s2);
	assert_int_equal(n1, n2);
	assert_memory_equal(s1, s2, n1);
	assert_int_equal(t2->nr_threads, t->nr_threads);
	assert_int_equal(t2->nr_mms, t->nr_mms);
	assert_int_equal(t2->nr_regions, t->nr_regions);
	free(s1);
	free(s2);
	litmus_free(t2);
	litmus_free(t);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

/* The directory @sub next to this source's directory's parent, e.g. "fuzz/crashers". */
static void repo_path(char *buf, size_t size, const char *sub)
{
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');
	int dir = slash ? (int)(slash - file) : 1;

	snprintf(buf, size, "%.*s/../%s", dir, slash ? file : ".", sub);
}

/* Call @fn on every regular file in @dir whose name ends with @suffix; the count. */
static unsigned for_each_file(const char *dir, const char *suffix,
			      void (*fn)(const char *path, const char *text, size_t len))
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	unsigned count = 0;

	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t nl = strlen(name), sl = strlen(suffix);
		char path[1024];

		if (name[0] != '.' && nl >= sl && !strcmp(name + nl - sl, suffix)) {
			size_t len;
			char *text;

			snprintf(path, sizeof(path), "%s/%s", dir, name);
			text = read_file(path, &len);
			fn(path, text, len);
			free(text);
			count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

/* ---- every construct ------------------------------------------------------------------ */

/*
 * tests/litmus-syntax/kitchen-sink.litmus uses every construct and operation.
 * It is not a runnable test (its Result: lines mean nothing), so it lives
 * outside tests/litmus/; the fuzzer seeds from it too.
 */
#define KITCHEN_SINK	"tests/litmus-syntax/kitchen-sink.litmus"

static char *sink_text(size_t *len)
{
	char path[512];

	repo_path(path, sizeof(path), KITCHEN_SINK);
	return read_file(path, len);
}

static struct litmus_test *sink(void)
{
	size_t len;
	char *text = sink_text(&len);
	struct litmus_test *t = parse_ok("sink.litmus", text, len);

	free(text);	/* the tree holds no pointer into the text */
	return t;
}

static void test_sink_round_trips(void **state)
{
	size_t len;
	char *text = sink_text(&len);

	(void)state;
	assert_round_trip("sink.litmus", text, len);
	free(text);
}

static void test_sink_uses_every_op(void **state)
{
	struct litmus_test *t = sink();
	bool seen[LOP_NR] = { false };

	(void)state;
	for (unsigned i = 0; i < t->nr_threads; i++)
		for (unsigned j = 0; j < t->threads[i].nr_ops; j++)
			seen[t->threads[i].ops[j].kind] = true;
	for (int k = 0; k < LOP_NR; k++) {
		if (!seen[k])
			print_error("operation %s is not in the kitchen sink\n",
				    litmus_op_info(k)->name);
		assert_true(seen[k]);
		assert_int_equal(litmus_op_lookup(litmus_op_info(k)->name,
						  strlen(litmus_op_info(k)->name)), k);
	}
	litmus_free(t);
}

/* The op of thread @th whose result is @name. */
static const struct litmus_op *op_named(const struct litmus_test *t, unsigned th, const char *name)
{
	for (unsigned i = 0; i < t->threads[th].nr_ops; i++)
		if (t->threads[th].ops[i].result && !strcmp(t->threads[th].ops[i].result, name))
			return &t->threads[th].ops[i];
	fail_msg("no result %s in P%u", name, th);
	return NULL;
}

static void test_sink_header_and_state(void **state)
{
	struct litmus_test *t = sink();
	const struct litmus_region *r;

	(void)state;
	assert_string_equal(t->path, "sink.litmus");
	assert_string_equal(t->name, "Kitchen+sink.v1-2");
	assert_int_equal(t->desc_len, strlen(t->desc));
	assert_non_null(strstr(t->desc, "\"quotes\", \\, \t tab, \x01 byte\nand a second"));
	assert_int_equal(t->nr_expect, 2);
	assert_string_equal(t->expect[0].policy, "linux-6.x");
	assert_int_equal(t->expect[0].obs, LITMUS_NEVER);
	assert_string_equal(t->expect[1].policy, "linux-2.6.29");
	assert_int_equal(t->expect[1].obs, LITMUS_SOMETIMES);
	assert_int_equal(t->expect[1].pos.line, 5);
	assert_int_equal(t->expect[1].pos.col, 9);
	assert_int_equal(t->memory, LITMUS_MEM_SB);
	assert_int_equal(t->memory_pos.line, 6);
	assert_int_equal(t->memory_pos.col, 1);

	assert_int_equal(t->nr_disks, 2);
	assert_int_equal(t->disks[0].size, 8192);
	assert_int_equal(t->disks[0].init.len, 512 + 6 + 2);
	assert_int_equal(t->disks[0].init.nr_pieces, 4);
	assert_int_equal(t->disks[1].size, 4096);
	assert_int_equal(t->disks[1].init.nr_pieces, 0);
	assert_int_equal(t->nr_files, 3);
	assert_int_equal(t->files[0].kind, LITMUS_FILE_DISK);
	assert_int_equal(t->files[0].disk, 0);
	assert_true(t->files[0].dax);
	assert_int_equal(t->files[0].max_size, 8192);
	assert_int_equal(t->files[1].size, 0);
	assert_int_equal(t->files[2].kind, LITMUS_FILE_MEMFD);
	assert_int_equal(t->nr_pipes, 1);
	assert_int_equal(t->nr_uffds, 1);
	assert_int_equal(t->uffds[0].mm, 0);

	/* parent, monitor declared; child and grandchild forked by P0. */
	assert_int_equal(t->nr_declared_mms, 2);
	assert_int_equal(t->nr_mms, 4);
	assert_string_equal(t->mms[2].name, "child");
	assert_int_equal(t->mms[2].parent, 0);
	assert_int_equal(t->mms[2].fork_thread, 0);
	assert_int_equal(t->mms[2].fork_op, 5);
	assert_int_equal(t->mms[2].nr_regions, 7);
	assert_int_equal(t->mms[3].root, 0);
	assert_int_equal(t->mms[1].first_region, 7);

	r = &t->regions[0];
	assert_string_equal(r->name, "buf");
	assert_int_equal(r->kind, LITMUS_MAP_ANON);
	assert_false(r->shared);
	assert_int_equal(r->prot, GUP_PROT_READ | GUP_PROT_WRITE);
	assert_int_equal(r->len, 16384);
	assert_int_equal(r->init.len, 4096);
	assert_true(t->regions[2].shared && t->regions[2].populate);
	assert_int_equal(t->regions[2].prot, GUP_PROT_READ | GUP_PROT_WRITE | GUP_PROT_EXEC);
	assert_int_equal(t->regions[5].kind, LITMUS_MAP_FILE);
	assert_int_equal(t->regions[5].file_off, 4096);
	assert_int_equal(t->regions[6].prot, GUP_PROT_NONE);
	litmus_free(t);
}

static void test_sink_ops(void **state)
{
	struct litmus_test *t = sink();
	const struct litmus_op *op;

	(void)state;
	assert_int_equal(t->nr_threads, 5);
	assert_int_equal(t->threads[2].mm, 2);		/* P2@child */
	assert_int_equal(t->threads[3].mm, 1);		/* P3@monitor */

	op = op_named(t, 0, "s");
	assert_int_equal(op->kind, LOP_STORE);
	assert_int_equal(op->pos.line, 30);
	assert_int_equal(op->pos.col, 2);
	assert_int_equal(op->args[0].addr.region, 0);
	assert_int_equal(op->args[0].addr.off, 8);
	assert_int_equal(op->args[1].pat.len, 8);

	op = op_named(t, 0, "g4");
	assert_int_equal(op->args[2].num, GUP_FOLL_WRITE | 0x100000);
	op = op_named(t, 0, "g5");
	assert_int_equal(op->nr_args, 5);
	assert_true(op->args[4].present);
	assert_int_equal(op->args[0].ref, 2);		/* child */
	assert_int_equal(op_named(t, 0, "g6")->nr_args, 4);
	op = op_named(t, 0, "pw");
	assert_int_equal(op->args[0].ref, 7);		/* the op g2 */
	op = op_named(t, 0, "ma");
	assert_int_equal(op->args[2].num, GUP_MADV_DONTFORK);
	op = op_named(t, 0, "mp");
	assert_int_equal(op->args[2].num, GUP_PROT_READ | GUP_PROT_WRITE);

	/* process_vm: the remote address is monitor's, the local one parent's. */
	op = op_named(t, 1, "pv2");
	assert_int_equal(op->args[1].addr.region, 7);
	assert_int_equal(op->args[1].addr.off, 8);
	assert_int_equal(op->args[2].addr.region, 0);
	/* uffd ops name the uffd's mm (parent) from a monitor thread. */
	op = op_named(t, 3, "uc");
	assert_int_equal(op->args[1].addr.region, 0);
	assert_int_equal(op->args[3].num, 3);
	assert_int_equal(op_named(t, 3, "uc2")->nr_args, 3);
	assert_int_equal(t->threads[4].ops[0].kind, LOP_EXIT);
	litmus_free(t);
}

static void test_sink_conditions(void **state)
{
	struct litmus_test *t = sink();
	const struct litmus_cond *c = t->cond, *k;

	(void)state;
	assert_non_null(t->filter);
	assert_int_equal(t->filter->kind, LC_AND);
	assert_int_equal(t->quant, LITMUS_EXISTS);
	assert_int_equal(c->kind, LC_OR);
	assert_int_equal(c->nr_kids, 4);
	k = c->kids[0];
	assert_int_equal(k->kind, LC_AND);
	assert_int_equal(k->kids[0]->kind, LC_EQ);
	assert_int_equal(k->kids[0]->loc.kind, LL_MEM);
	assert_int_equal(k->kids[1]->kind, LC_NOT);
	assert_int_equal(k->kids[1]->kids[0]->kind, LC_NE);
	assert_int_equal(k->kids[1]->kids[0]->loc.obj, 2);	/* child */
	assert_int_equal(k->kids[1]->kids[0]->val.pat.len, 2);

	k = c->kids[1]->kids[1];				/* the uffd_read results */
	assert_int_equal(k->kind, LC_OR);
	assert_int_equal(k->kids[0]->val.kind, LV_ADDR);
	assert_int_equal(k->kids[0]->val.addr.off, 4096);
	assert_int_equal(k->kids[1]->val.kind, LV_INT);
	assert_int_equal(k->kids[1]->val.num, -EAGAIN);
	assert_int_equal(k->kids[2]->val.num, 65536);

	assert_int_equal(c->kids[2]->kind, LC_NOT);
	assert_int_equal(c->kids[2]->kids[0]->kids[0]->kind, LC_FALSE);

	k = c->kids[3];
	assert_int_equal(k->kind, LC_AND);
	assert_int_equal(k->kids[0]->loc.kind, LL_DISK);
	assert_int_equal(k->kids[0]->loc.off, 4096);
	assert_int_equal(k->kids[1]->loc.kind, LL_FILE);
	assert_int_equal(k->kids[2]->loc.kind, LL_RESULT);
	assert_int_equal(k->kids[2]->val.kind, LV_BYTES);
	assert_int_equal(k->kids[3]->val.kind, LV_INT);
	assert_int_equal(k->kids[3]->val.num, -EFAULT);
	assert_int_equal(k->kids[6]->val.num, INT64_MIN);
	assert_int_equal(k->kids[7]->val.num, INT64_MAX);
	assert_int_equal(k->kids[8]->loc.kind, LL_STAT);
	assert_int_equal(k->kids[8]->loc.obj, GUP_STAT_FORK_PAGE_COPIED);
	assert_int_equal(k->kids[8]->val.kind, LV_INT);
	assert_int_equal(k->kids[8]->val.num, 0);
	litmus_free(t);
}

static void test_quantifiers(void **state)
{
	static const char *const finals[] = {
		"exists (a:buf = 1)", "~exists (a:buf = 1)", "~ exists a:buf = 1",
		"forall (true)", "forall ~~~(a:buf != 0 /\\ ((P0:x = 0)))",
		"filter a:buf = 0 exists P0:x = 0x01 0x02 \"\\0\"*3",
	};
	static const enum litmus_quant want[] = {
		LITMUS_EXISTS, LITMUS_NOT_EXISTS, LITMUS_NOT_EXISTS, LITMUS_FORALL,
		LITMUS_FORALL, LITMUS_EXISTS,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++) {
		char text[512];
		struct litmus_test *t;
		int n = snprintf(text, sizeof(text),
				 "GUP q\n{ mm a { buf: anon private rw 4096; } }\n"
				 "P0@a { x = load(buf, 1); }\nP1@a { }\n%s\n", finals[i]);

		t = parse_ok("q.litmus", text, (size_t)n);
		assert_int_equal(t->quant, want[i]);
		litmus_free(t);
		assert_round_trip("q.litmus", text, (size_t)n);
	}
}

static void test_policies_from_caller(void **state)
{
	static const char text[] =
		"GUP pol\nResult: vendor-a=Never vendor-b=Always\n"
		"{ mm a { } }\nP0@a { }\nP1@a { }\nexists (true)\n";
	static const char *const mine[] = { "vendor-a", "vendor-b", NULL };
	static const char want[] = "pol:2:9: unknown policy 'vendor-a' "
				   "(known: linux-6.x, linux-2.6.29, ";
	struct litmus_test *t;
	struct litmus_diag d;

	(void)state;
	assert_int_equal(litmus_parse("pol", text, sizeof(text) - 1, &t, &d), -EINVAL);
	assert_null(t);
	/* The known ones are every preset, the default first. */
	assert_memory_equal(d.text, want, sizeof(want) - 1);
	assert_int_equal(litmus_parse_policies("pol", text, sizeof(text) - 1, mine, &t, &d), 0);
	assert_int_equal(t->nr_expect, 2);
	assert_int_equal(t->expect[1].obs, LITMUS_ALWAYS);
	litmus_free(t);
}

/* A Memory: line picks the model; without one it is sc; the printer keeps it. */
static void test_memory_line(void **state)
{
	static const struct {
		const char *head;
		enum litmus_memory want;
		unsigned line;		/* of the Memory: line, 0 if none */
	} cases[] = {
		{ "GUP m\n", LITMUS_MEM_SC, 0 },
		{ "GUP m\nMemory: sb\n", LITMUS_MEM_SB, 2 },
		{ "GUP m\nMemory: sc\n", LITMUS_MEM_SC, 2 },
		{ "GUP m \"why\"\nResult: linux-6.x=Never\nMemory:sb // the model\n"
		  "Result: linux-2.6.29=Sometimes\n", LITMUS_MEM_SB, 3 },
		{ "GUP m\n  Memory (* here *) : sb (* store buffers *)\n", LITMUS_MEM_SB, 2 },
	};
	static const char rest[] = "{ mm a { buf: anon private rw 4096; } }\n"
				   "P0@a { store(buf, 1); }\nP1@a { x = load(buf, 1); }\n"
				   "exists (P1:x = 0)\n";

	(void)state;
	assert_string_equal(litmus_memory_name(LITMUS_MEM_SC), "sc");
	assert_string_equal(litmus_memory_name(LITMUS_MEM_SB), "sb");
	assert_int_equal(litmus_memory_lookup("sb", 2), LITMUS_MEM_SB);
	assert_int_equal(litmus_memory_lookup("sbx", 2), LITMUS_MEM_SB);
	assert_int_equal(litmus_memory_lookup("tso", 3), -1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		int n = snprintf(text, sizeof(text), "%s%s", cases[i].head, rest);
		struct litmus_test *t = parse_ok("m.litmus", text, (size_t)n);
		char *printed = print_str(t, NULL);

		assert_int_equal(t->memory, cases[i].want);
		assert_int_equal(t->memory_pos.line, cases[i].line);
		assert_int_equal(t->nr_expect, i == 3 ? 2 : 0);
		/* Printed only when written, always after the Result: line. */
		if (cases[i].line)
			assert_non_null(strstr(printed, cases[i].want == LITMUS_MEM_SB ?
						       "\nMemory: sb\n\n{" : "\nMemory: sc\n\n{"));
		else
			assert_null(strstr(printed, "Memory"));
		free(printed);
		litmus_free(t);
		assert_round_trip("m.litmus", text, (size_t)n);
	}
}

static void test_api_edges(void **state)
{
	struct litmus_test *t = (struct litmus_test *)&t;
	struct litmus_diag d;

	(void)state;
	assert_int_equal(litmus_parse("x", "GUP", 3, NULL, &d), -EINVAL);
	/* NULL text is an empty input; NULL path reads "<input>"; diag is optional. */
	assert_int_equal(litmus_parse(NULL, NULL, 0, &t, &d), -EINVAL);
	assert_null(t);
	assert_string_equal(d.text, "<input>:1:1: a test starts with 'GUP' and its name");
	assert_int_equal(d.line, 1);
	assert_int_equal(d.col, 1);
	assert_int_equal(litmus_parse(NULL, "", 0, &t, NULL), -EINVAL);
	litmus_free(NULL);
	assert_null(litmus_op_info(LOP_NR));
	assert_int_equal(litmus_op_lookup("nope", 4), -1);
	assert_string_equal(litmus_obs_name(LITMUS_SOMETIMES), "Sometimes");
	assert_string_equal(litmus_quant_name(LITMUS_NOT_EXISTS), "~exists");
	assert_string_equal(litmus_errno_name(EFAULT), "EFAULT");
	assert_null(litmus_errno_name(4095));
}

static void test_patterns(void **state)
{
	static const char text[] =
		"GUP pat\n{ mm a { buf: anon private rw 8192 = 0x01 \"ab\"*3 0xff*2 \"\\x00\"; } }\n"
		"P0@a { }\nP1@a { }\nexists (a:buf = 1 \"abababc\")\n";
	static const uint8_t want[] = { 1, 'a', 'b', 'a', 'b', 'a', 'b', 0xff, 0xff, 0 };
	struct litmus_test *t = parse_ok("pat", text, sizeof(text) - 1);
	const struct litmus_pattern *p = &t->regions[0].init;
	uint8_t buf[sizeof(want)];

	(void)state;
	assert_int_equal(p->len, sizeof(want));
	litmus_pattern_expand(p, buf);
	assert_memory_equal(buf, want, sizeof(want));
	assert_true(litmus_pattern_matches(p, want));
	buf[6] = 'c';
	assert_false(litmus_pattern_matches(p, buf));
	assert_int_equal(t->cond->val.pat.len, 8);
	litmus_free(t);
}

/* ---- malformed inputs -------------------------------------------------------------------- */

/* Lines 1-2 of most cases: a header and a small state. */
#define H	"GUP t\n"
#define ST	"{ mm a { buf: anon private rw 4096; } disk d 512; file f on d 512; pipe p; }\n"
#define HS	H ST
/* Lines 3-4: two threads; line 5: the final condition. */
#define T2	"P0@a { }\nP1@a { }\n"
#define FIN	"exists (true)\n"
/* A thread P0 with @ops on line 3, P1 on 4, the condition on 5. */
#define OPS(ops)	HS "P0@a { " ops " }\nP1@a { }\n" FIN

struct bad_case {
	const char *text;
	size_t len;		/* 0: strlen(text) */
	unsigned line, col;
	const char *msg;	/* a part of the message */
};

static const struct bad_case bad_cases[] = {
	/* lexical */
	{ "", 0, 1, 1, "a test starts with 'GUP'" },
	{ "GUQ t\n", 0, 1, 1, "a test starts with 'GUP'" },
	{ "GUP\n", 0, 2, 1, "expected the test's name, got end of file" },
	{ "GUP !\n", 0, 1, 5, "unexpected character '!'" },
	{ H "\"abc", 0, 2, 1, "unterminated string" },
	{ H "\"a\\qb\"", 0, 2, 3, "unknown escape '\\q'" },
	{ H "\"\\x4\"", 0, 2, 2, "'\\x' needs two hex digits" },
	{ H "\"a\x01\"", 0, 2, 3, "character '\\x01' in a string" },
	{ H "(* open\n (* nested *)\n", 0, 2, 1, "unterminated comment" },
	{ H "\0", 7, 2, 1, "unexpected character '\\x00'" },
	{ H "\xc3\xa9", 0, 2, 1, "unexpected character '\\xc3'" },
	{ HS T2 "exists (a:buf = 0x)\n", 0, 5, 17, "'0x' without hex digits" },
	{ HS T2 "exists (a:buf = 12ab)\n", 0, 5, 19, "bad digit 'a' in integer" },
	{ HS T2 "exists (a:buf = 99999999999999999999)\n", 0, 5, 17, "integer too large" },
	{ HS T2 "exists (a:buf = 1) $\n", 0, 5, 20, "unexpected character '$'" },
	/* the header */
	{ H "Result linux-6.x=Never\n", 0, 2, 8, "expected ':' after Result, got 'linux'" },
	{ H "Result: linux-4.0=Never\n", 0, 2, 9, "unknown policy 'linux-4.0' (known: " },
	{ H "Result: linux-6.x=Maybe\n", 0, 2, 19,
	  "expected Never, Sometimes or Always, got 'Maybe'" },
	{ H "Result: linux-6.x=Never linux-6.x=Always\n", 0, 2, 25,
	  "policy 'linux-6.x' has a result already (line 2)" },
	{ H "Result: linux-6.x Never\n", 0, 2, 19, "expected '=' after the policy name" },
	{ H "Result:\n" ST, 0, 2, 7, "Result: needs POLICY=Observation entries" },
	{ H "Memory sb\n", 0, 2, 8, "expected ':' after Memory, got 'sb'" },
	{ H "Memory\n" ST, 0, 3, 1, "expected ':' after Memory, got '{'" },
	{ H "Memory: tso\n" ST, 0, 2, 9, "unknown memory model 'tso' (sc or sb)" },
	{ H "Memory: SB\n" ST, 0, 2, 9, "unknown memory model 'SB' (sc or sb)" },
	{ H "Memory: 1\n" ST, 0, 2, 9, "expected a memory model (sc or sb), got integer 1" },
	{ H "Memory:\n" ST, 0, 2, 7, "Memory: needs sc or sb on its line" },
	{ H "Memory: // sb\nsb\n" ST, 0, 2, 7, "Memory: needs sc or sb on its line" },
	{ H "Memory: sb sc\n" ST, 0, 2, 12,
	  "unexpected 'sc' after the memory model (a Memory: line names one)" },
	{ H "Memory: sb;\n" ST, 0, 2, 11, "unexpected ';' after the memory model" },
	{ H "Memory: sb\nResult: linux-6.x=Never\n  Memory: sc\n" ST, 0, 4, 3,
	  "a second Memory: line (the first is line 2)" },
	{ H "Memory: sc\nMemory: sc\n" ST, 0, 3, 1, "a second Memory: line (the first is line 2)" },
	/* the initial state */
	{ H "mm a { }\n", 0, 2, 1, "expected '{' (the initial state), got 'mm'" },
	{ H "{ disc d 512; }\n", 0, 2, 3, "expected a declaration (disk, file, memfd, pipe, uffd, "
	  "mm) or '}', got 'disc'" },
	{ H "{ disk d 100; }\n", 0, 2, 10, "disk size must be a positive multiple of 512" },
	{ H "{ disk d 512 = 0*513; }\n", 0, 2, 16, "513 initial bytes do not fit in the 512" },
	{ H "{ disk d 512 = 256; }\n", 0, 2, 16, "byte value 256 out of range (0 to 255)" },
	{ H "{ disk d 512 = 1*0; }\n", 0, 2, 18, "repeat count must be at least 1" },
	{ H "{ disk d 512 = \"\"; }\n", 0, 2, 16, "empty string in a pattern" },
	{ H "{ disk d 512 = ; }\n", 0, 2, 16, "expected bytes (like 0x42*512 or \"text\"), got ';'" },
	{ H "{ file f on d 512; }\n", 0, 2, 13, "unknown disk 'd'" },
	{ H "{ mm a { } file f on a 512; }\n", 0, 2, 22, "'a' is an mm, not a disk" },
	{ H "{ disk d 4096; file f on d 1024 max 512; }\n", 0, 2, 28,
	  "a file needs 0 <= size <= max size" },
	{ H "{ disk d 512; pipe d; }\n", 0, 2, 20, "pipe 'd' is already declared (as a disk)" },
	{ H "{ mm P1 { } }\n", 0, 2, 6, "'P1' is a thread's name" },
	{ H "{ pipe p }\n", 0, 2, 10, "expected ';' after the declaration, got '}'" },
	{ H "{ uffd u on b; }\n", 0, 2, 13, "unknown mm 'b'" },
	{ H "{ mm a { buf: anon private rw 100; } }\n", 0, 2, 31,
	  "mapping length must be a positive multiple of 4096" },
	{ H "{ mm a { buf: anon private wr 4096; } }\n", 0, 2, 28,
	  "bad protection 'wr' (r, w, x in that order, or none)" },
	{ H "{ mm a { buf: anon public rw 4096; } }\n", 0, 2, 20,
	  "expected private or shared, got 'public'" },
	{ H "{ mm a { buf: heap private rw 4096; } }\n", 0, 2, 15, "expected anon or file" },
	{ H "{ mm a { buf: anon private r 4096 = 1; } }\n", 0, 2, 37,
	  "initial bytes need a writable mapping" },
	{ H "{ mm a { b: anon private r 4096; b: anon private r 4096; } }\n", 0, 2, 34,
	  "mapping 'b' is already declared in mm 'a'" },
	{ H "{ memfd m 8192; mm a { b: file m+100 shared r 4096; } }\n", 0, 2, 34,
	  "file offset must be a multiple of 4096" },
	{ H "{ mm a { buf anon private r 4096; } }\n", 0, 2, 14,
	  "expected ':' after the mapping's name, got 'anon'" },
	/* threads */
	{ HS "P0@b { }\nP1@a { }\n" FIN, 0, 3, 4, "unknown mm 'b' (a child is named by an earlier fork)" },
	{ HS "P1@a { }\n" FIN, 0, 3, 1, "expected thread P0 or the final condition, got 'P1'" },
	{ HS "P0@a { }\n" FIN, 0, 4, 1, "a test has 2 to 5 threads, this one 1" },
	{ HS "P0 a { }\n" FIN, 0, 3, 4, "expected '@' and the thread's mm, got 'a'" },
	{ HS "P0@a { }\nP1@a { }\nP2@a { }\nP3@a { }\nP4@a { }\nP5@a { }\n" FIN, 0, 8, 1,
	  "more than 5 threads" },
	{ HS "P0@d { }\n" FIN, 0, 3, 4, "'d' is a disk, not an mm" },
	{ HS "P0@c { }\nP1@a { fork(c); }\n" FIN, 0, 3, 4, "unknown mm 'c'" },
	{ OPS("stor(buf, 1);"), 0, 3, 8, "unknown operation 'stor'" },
	{ OPS("store(buf, 1)"), 0, 3, 22, "expected ';' after the operation, got '}'" },
	{ OPS("store(buf);"), 0, 3, 17, "store needs 2 arguments, got 1" },
	{ OPS("store(buf, 1, 2);"), 0, 3, 20, "too many arguments: store takes at most 2" },
	{ OPS("store buf, 1;"), 0, 3, 14, "expected '(' and the arguments, got 'buf'" },
	{ OPS("store(bof, 1);"), 0, 3, 14, "no mapping 'bof' in mm 'a'" },
	{ OPS("store(buf+4090, 0*8);"), 0, 3, 14,
	  "range [4090, 4098) lies outside mapping 'buf' (4096 bytes)" },
	{ OPS("x = load(buf+1, 18446744073709551615);"), 0, 3, 17,
	  "range of 18446744073709551615 bytes from 1 overflows" },
	{ OPS("g = get_user_pages_fast(buf+4095, 2, 0);"), 0, 3, 32,
	  "range [0, 8192) lies outside mapping 'buf' (4096 bytes)" },
	{ OPS("get_user_pages_fast(buf, 1, 0);"), 0, 3, 8,
	  "name the result of get_user_pages_fast" },
	{ OPS("x = exit;"), 0, 3, 8, "exit has no result to name" },
	{ OPS("exit(1);"), 0, 3, 13, "expected ')': it takes no arguments, got integer 1" },
	{ OPS("x = load(buf, 1); x = load(buf, 1);"), 0, 3, 26,
	  "result 'x' is already named in this thread" },
	{ OPS("exit; store(buf, 1);"), 0, 3, 14, "operation after exit" },
	{ OPS("g = get_user_pages(buf, 1, FOLL_WRTE);"), 0, 3, 35, "unknown FOLL flag 'FOLL_WRTE'" },
	{ OPS("g = get_user_pages(buf, 1, FOLL_WRITE|);"), 0, 3, 46, "expected a FOLL flag, got ')'" },
	{ OPS("madvise(buf, 4096, MADV_DONTFORK|MADV_DOFORK);"), 0, 3, 40,
	  "a madvise advice is one value, not an or of several" },
	{ OPS("mprotect(buf, 4096, rwz);"), 0, 3, 28, "bad protection 'rwz'" },
	{ OPS("put(h);"), 0, 3, 12, "no earlier result named 'h' in this thread" },
	{ OPS("p = pin_user_pages_fast(buf, 1, 0); put(p);"), 0, 3, 48,
	  "put cannot take 'p': it comes from pin_user_pages_fast" },
	{ OPS("p = pin_user_pages_fast(buf, 1, 0); unpin(p); unpin(p);"), 0, 3, 60,
	  "'p' was already released at line 3" },
	{ OPS("x = load(buf, 1); wait(x);"), 0, 3, 31, "wait cannot take 'x': it comes from load" },
	{ OPS("vmsplice(d, buf, 1);"), 0, 3, 17, "'d' is a disk, not a pipe" },
	{ OPS("fork(a);"), 0, 3, 13, "child mm 'a' is already declared (as an mm)" },
	{ OPS("g = get_user_pages_remote(a, buf, 1, 0, unlocked);"), 0, 3, 48,
	  "expected 'locked', got 'unlocked'" },
	{ OPS("r = dio_read(d, 512, buf, 512);"), 0, 3, 24,
	  "range [512, 1024) lies outside disk 'd' (512 bytes)" },
	{ OPS("x = pread(f, 0, 1024);"), 0, 3, 21,
	  "range [0, 1024) lies outside file 'f' (max size 512)" },
	{ OPS("g = get_user_pages_fast(buf, 1, 0); x = page_read(g, 4000, 100);"), 0, 3, 61,
	  "range [4000, 4100) lies outside the 4096 bytes 'g' holds" },
	{ OPS("x = load(buf, -1);"), 0, 3, 22, "expected length (an integer), got '-'" },
	/* conditions */
	{ HS T2 "(true)\n", 0, 5, 1, "expected thread P2 or the final condition, got '('" },
	{ HS T2 "~forall (true)\n", 0, 5, 2, "expected 'exists', got 'forall'" },
	{ HS T2 "exists (b:buf = 1)\n", 0, 5, 9, "unknown location 'b'" },
	{ HS T2 "exists (P0:r = 1)\n", 0, 5, 12, "P0 has no result named 'r'" },
	{ HS T2 "exists (P7:r = 1)\n", 0, 5, 9, "no thread P7" },
	{ HS T2 "exists (a:buf 1)\n", 0, 5, 15,
	  "expected '=' or '!=' after the location, got integer 1" },
	{ HS T2 "exists (a:buf = 1\n", 0, 6, 1,
	  "expected ')' or a connective (/\\ or \\/), got end of file" },
	{ HS T2 "exists (true) foo\n", 0, 5, 15, "unexpected 'foo' after the final condition" },
	{ HS T2 "exists (vm_stat(forks) = 1)\n", 0, 5, 17,
	  "unknown counter 'forks' (gup_stat_name's names" },
	{ HS T2 "exists (vm_stat(fork) = -1)\n", 0, 5, 25, "a counter is never negative" },
	{ HS T2 "exists (vm_stat(fork) = -EFAULT)\n", 0, 5, 25, "a counter is never negative" },
	{ HS T2 "exists (vm_stat(fork) = 0x11*8)\n", 0, 5, 29,
	  "a counter is compared with a count, not bytes" },
	{ HS T2 "exists (vm_stat(fork) = \"ab\")\n", 0, 5, 25,
	  "expected a count (a counter is compared with an integer), got a string" },
	{ HS T2 "exists (vm_stat(fork = 1)\n", 0, 5, 22, "expected ')' after the counter's name" },
	{ HS T2 "exists (vm_stat() = 1)\n", 0, 5, 17, "expected a counter's name, got ')'" },
	{ HS T2 "exists (vm_stat = 1)\n", 0, 5, 9, "unknown location 'vm_stat'" },
	{ HS T2 "exists (a:buf+4095 = 1 2)\n", 0, 5, 9,
	  "2 bytes at 4095 lie outside 'buf' (4096 bytes)" },
	{ HS T2 "exists (d+510 = 0*4)\n", 0, 5, 9, "4 bytes at 510 lie outside 'd' (512 bytes)" },
	{ HS T2 "exists (a:buf = -1)\n", 0, 5, 17, "expected bytes (like 0x42*512" },
	{ HS T2 "exists (a = 1)\n", 0, 5, 11, "expected ':' and a mapping after the mm, got '='" },
	{ HS T2 "exists (a:buf = 1 /\\)\n", 0, 5, 21,
	  "expected a location (MM:MAPPING, PN:RESULT, a disk, a file or vm_stat(NAME)), got ')'" },
	{ HS T2 "filter (true)\n(true)\n", 0, 6, 1, "expected the final condition" },
};

/* Conditions on results, which need a thread with results. */
#define RES(cond)	HS "P0@a { x = store(buf, 1); y = load(buf, 1); }\nP1@a { }\nexists (" \
			cond ")\n"

static const struct bad_case bad_results[] = {
	{ RES("P0:x = EFAULT"), 0, 5, 16, "errors are negative: write -EFAULT" },
	{ RES("P0:x = -EFOO"), 0, 5, 17, "unknown error name 'EFOO'" },
	{ RES("P0:x = -0"), 0, 5, 17, "write 0, not -0" },
	{ RES("P0:x = 0x01 0x02"), 0, 5, 21, "expected ')' or a connective" },
	{ RES("P0:x = 9223372036854775808"), 0, 5, 16, "integer out of range" },
	{ RES("P0:x = \"s\""), 0, 5, 16, "expected an integer or -ERRNO, got a string" },
	{ RES("P0:y = EFAULT"), 0, 5, 16, "expected bytes" },
	{ RES("P0:x+1 = 1"), 0, 5, 13, "expected '=' or '!=' after the location, got '+'" },
	{ RES("P0 = 1"), 0, 5, 12, "expected ':' and a result name after the thread, got '='" },
};

/* Does @c fail exactly as it says?  Prints what it got if not. */
static bool check_bad(const struct bad_case *c)
{
	size_t len = c->len ? c->len : strlen(c->text);
	struct litmus_test *t = (struct litmus_test *)&t;
	struct litmus_diag d;
	char prefix[64];
	int err = litmus_parse("bad.litmus", c->text, len, &t, &d);

	snprintf(prefix, sizeof(prefix), "bad.litmus:%u:%u: ", c->line, c->col);
	if (err != -EINVAL || t || d.line != c->line || d.col != c->col ||
	    !strstr(d.msg, c->msg) || strncmp(d.text, prefix, strlen(prefix)) ||
	    strcmp(d.text + strlen(prefix), d.msg)) {
		print_error("input:\n%.*s\nwant %u:%u: ...%s...\ngot  %s\n\n", (int)len, c->text,
			    c->line, c->col, c->msg, d.text);
		litmus_free(err ? NULL : t);
		return false;
	}
	return true;
}

static void test_malformed(void **state)
{
	unsigned n = 0, bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++, n++)
		bad += !check_bad(&bad_cases[i]);
	for (size_t i = 0; i < sizeof(bad_results) / sizeof(bad_results[0]); i++, n++)
		bad += !check_bad(&bad_results[i]);
	print_message("%u malformed inputs, each with its line:col and message\n", n);
	assert_int_equal(bad, 0);
	assert_true(n >= 40);
}

/* Cut anywhere, a valid test fails with a message or still parses: never worse. */
static void test_every_prefix(void **state)
{
	size_t len;
	char *text = sink_text(&len);
	unsigned ok = 0;

	(void)state;
	for (size_t n = 0; n <= len; n++) {
		struct litmus_test *t;
		struct litmus_diag d;
		char *copy = malloc(n ? n : 1);	/* exactly n bytes: ASan sees any overread */
		int err;

		assert_non_null(copy);
		memcpy(copy, text, n);
		err = litmus_parse("cut", copy, n, &t, &d);
		if (err) {
			assert_int_equal(err, -EINVAL);
			assert_true(d.line >= 1 && d.col >= 1);
			assert_int_equal(strncmp(d.text, "cut:", 4), 0);
		} else {
			ok++;
			litmus_free(t);
		}
		free(copy);
	}
	/* Only the cuts inside the final condition's last integer still parse. */
	assert_true(ok >= 1 && ok <= 20);
	free(text);
}

/* ---- limits ---------------------------------------------------------------------------------- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (b->s && (size_t)n < room)
			break;
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	b->len += (size_t)n;
}

static void expect_error(const struct sbuf *b, const char *msg)
{
	struct litmus_test *t;
	struct litmus_diag d;

	assert_int_equal(litmus_parse("lim", b->s, b->len, &t, &d), -EINVAL);
	if (!strstr(d.msg, msg)) {
		print_error("want ...%s...\ngot  %s\n", msg, d.text);
		fail();
	}
}

static void test_limits(void **state)
{
	struct sbuf b = { 0 };

	(void)state;
	/* Operations per thread. */
	sb_add(&b, "GUP lim\n{ mm a { buf: anon private rw 4096; } }\nP0@a {\n");
	for (int i = 0; i < LITMUS_MAX_OPS; i++)
		sb_add(&b, "store(buf, 1);\n");
	sb_add(&b, "}\nP1@a { }\nexists (true)\n");
	litmus_free(parse_ok("lim", b.s, b.len));
	b.len = 0;
	sb_add(&b, "GUP lim\n{ mm a { buf: anon private rw 4096; } }\nP0@a {\n");
	for (int i = 0; i <= LITMUS_MAX_OPS; i++)
		sb_add(&b, "store(buf, 1);\n");
	sb_add(&b, "}\nP1@a { }\nexists (true)\n");
	expect_error(&b, "more than 64 operations in one thread");

	/* Declarations of one kind, mappings of one mm. */
	b.len = 0;
	sb_add(&b, "GUP lim\n{\n");
	for (int i = 0; i <= LITMUS_MAX_DECLS; i++)
		sb_add(&b, "pipe p%c;\n", 'a' + i);
	expect_error(&b, "too many pipes (the limit is 16)");
	b.len = 0;
	sb_add(&b, "GUP lim\n{ mm a {\n");
	for (int i = 0; i <= LITMUS_MAX_DECLS; i++)
		sb_add(&b, "m%d: anon private r 4096;\n", i);
	expect_error(&b, "too many mappings in one mm");

	/* A name, a string, nesting, a condition. */
	b.len = 0;
	sb_add(&b, "GUP lim\n{ mm %065d { } }\n", 0);
	expect_error(&b, "expected a name for the mm, got integer");
	b.len = 0;
	sb_add(&b, "GUP lim\n{ mm m%064d { } }\n", 0);
	expect_error(&b, "name longer than 64 bytes");
	b.len = 0;
	sb_add(&b, "GUP %065d\n", 0);
	expect_error(&b, "the test's name longer than 64 bytes");
	b.len = 0;
	sb_add(&b, "GUP lim\n\"%04097d\"", 0);
	expect_error(&b, "string longer than 4096 bytes");
	b.len = 0;
	sb_add(&b, "GUP lim\n");
	for (int i = 0; i <= LITMUS_MAX_DEPTH; i++)
		sb_add(&b, "(*");
	expect_error(&b, "comments nested more than 32 deep");
	/*
	 * A condition's height is limited, not its parentheses: a tree as high
	 * as allowed, written with as few as possible, must survive the printer's
	 * extra ones.  Only a flood of ( is refused for its own sake.
	 */
	b.len = 0;
	sb_add(&b, "GUP lim\n{ disk d 512; mm a { } }\nP0@a { }\nP1@a { }\nexists ");
	for (int i = 2; i < LITMUS_MAX_DEPTH; i++)	/* (...) is 2 high */
		sb_add(&b, "~");
	sb_add(&b, "(d = 0 /\\ true \\/ ~d = 1)\n");
	assert_round_trip("lim", b.s, b.len);
	b.len = 0;
	sb_add(&b, "GUP lim\n{ disk d 512; mm a { } }\nP0@a { }\nP1@a { }\nexists ");
	for (int i = 0; i < LITMUS_MAX_DEPTH; i++)
		sb_add(&b, "~");
	sb_add(&b, "d = 0\n");
	assert_round_trip("lim", b.s, b.len);
	b.len = 0;
	sb_add(&b, "GUP lim\n{ mm a { } }\nP0@a { }\nP1@a { }\nexists ");
	for (int i = 0; i <= LITMUS_MAX_DEPTH; i++)
		sb_add(&b, "~");
	sb_add(&b, "true\n");
	expect_error(&b, "condition nested more than 32 deep");
	b.len = 0;
	sb_add(&b, "GUP lim\n{ mm a { } }\nP0@a { }\nP1@a { }\nexists ");
	for (int i = 0; i <= LITMUS_MAX_NEST; i++)
		sb_add(&b, "(");
	expect_error(&b, "more than 128 parentheses and negations open");
	b.len = 0;
	sb_add(&b, "GUP lim\n{ mm a { } }\nP0@a { }\nP1@a { }\nexists (true");
	for (int i = 0; i < LITMUS_MAX_COND; i++)
		sb_add(&b, " /\\ true");
	sb_add(&b, ")\n");
	expect_error(&b, "condition with more than 256 terms");

	/* Sizes: huge repeats are fine as patterns, but not above the limit. */
	b.len = 0;
	sb_add(&b, "GUP lim\n{ disk d 16777216 = 0xfa*16777216; mm a { } }\n"
		   "P0@a { }\nP1@a { }\nexists (d = 0xfa*16777216)\n");
	litmus_free(parse_ok("lim", b.s, b.len));
	b.len = 0;
	sb_add(&b, "GUP lim\n{ disk d 16777216 = 0*8388608 1*8388609; }\n");
	expect_error(&b, "pattern longer than 16777216 bytes");
	b.len = 0;
	sb_add(&b, "GUP lim\n{ disk d 512 = \"ab\"*18446744073709551615; }\n");
	expect_error(&b, "pattern longer than 16777216 bytes");
	b.len = 0;
	sb_add(&b, "GUP lim\n{ disk d 33554432; }\n");
	expect_error(&b, "disk size above the limit of 16777216 bytes");
	b.len = 0;
	sb_add(&b, "GUP lim\n{ disk d 512 = 1");
	for (int i = 0; i < LITMUS_MAX_PIECES; i++)
		sb_add(&b, " 1");
	expect_error(&b, "more than 256 pieces in one pattern");

	/* The whole input. */
	b.len = 0;
	sb_add(&b, "GUP lim\n");
	while (b.len <= LITMUS_MAX_TEXT)
		sb_add(&b, "// padding padding padding padding padding padding padding\n");
	expect_error(&b, "test longer than 1048576 bytes");
	free(b.s);
}

/* ---- the corpus and the fuzzer's finds ---------------------------------------------------------- */

static void check_corpus_file(const char *path, const char *text, size_t len)
{
	struct litmus_test *t = parse_ok(path, text, len);
	bool old = false, new = false;

	for (unsigned i = 0; i < t->nr_expect; i++) {
		old |= !strcmp(t->expect[i].policy, "linux-2.6.29");
		new |= !strcmp(t->expect[i].policy, "linux-6.x");
	}
	if (!old || !new)
		print_error("%s: needs Result: for linux-2.6.29 and linux-6.x\n", path);
	assert_true(old && new);
	assert_non_null(t->desc);
	assert_true(t->nr_threads >= 2 && t->nr_threads <= 3);
	litmus_free(t);
	assert_round_trip(path, text, len);
}

static void test_corpus(void **state)
{
	char dir[512];
	unsigned n;

	(void)state;
	repo_path(dir, sizeof(dir), "tests/litmus");
	n = for_each_file(dir, ".litmus", check_corpus_file);
	print_message("%u tests in %s\n", n, dir);
	assert_true(n >= 6);
}

/* Whatever the fuzzer kept: no crash, a clean error or a round trip. */
static void check_regression(const char *path, const char *text, size_t len)
{
	struct litmus_test *t;
	struct litmus_diag d;
	int err = litmus_parse(path, text, len, &t, &d);

	if (err) {
		assert_int_equal(err, -EINVAL);
		assert_non_null(strstr(d.text, path));
		return;
	}
	litmus_free(t);
	assert_round_trip(path, text, len);
}

static void test_fuzz_regressions(void **state)
{
	char dir[512];
	unsigned n;

	(void)state;
	repo_path(dir, sizeof(dir), "fuzz/crashers");
	n = for_each_file(dir, "", check_regression);
	print_message("%u fuzzer regression inputs in %s\n", n, dir);
}

/* Every example in docs/litmus.md (a ``` block starting with GUP) parses. */
static void test_doc_examples(void **state)
{
	char path[512];
	size_t len;
	char *doc, *p;
	unsigned n = 0;

	(void)state;
	repo_path(path, sizeof(path), "docs/litmus.md");
	doc = read_file(path, &len);
	for (p = doc; (p = strstr(p, "```\nGUP ")); n++) {
		char *start = p + 4, *end = strstr(start, "```");

		assert_non_null(end);
		assert_round_trip("litmus.md", start, (size_t)(end - start));
		p = end + 3;
	}
	print_message("%u examples in %s\n", n, path);
	assert_true(n >= 3);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sink_round_trips),
		cmocka_unit_test(test_sink_uses_every_op),
		cmocka_unit_test(test_sink_header_and_state),
		cmocka_unit_test(test_sink_ops),
		cmocka_unit_test(test_sink_conditions),
		cmocka_unit_test(test_quantifiers),
		cmocka_unit_test(test_policies_from_caller),
		cmocka_unit_test(test_memory_line),
		cmocka_unit_test(test_api_edges),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_fuzz_regressions),
		cmocka_unit_test(test_doc_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
