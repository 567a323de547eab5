/* SPDX-License-Identifier: MIT */
/*
 * fuzz/litmus_parse_fuzz.c - libFuzzer target for the litmus parser.
 *
 * Built by `make fuzz` (clang, -fsanitize=fuzzer,address,undefined), run by
 * `make fuzz-run`.  Besides crashes, leaks and undefined behaviour, it checks
 * what the parser promises:
 *
 *   - a rejected input gets -EINVAL and "fuzz:LINE:COL: message", with LINE and
 *     COL inside the input (or just past its end);
 *   - an accepted one prints, the printed text parses, and printing that gives
 *     the same text again.
 *
 * A broken promise aborts, so libFuzzer keeps the input as a crash; inputs that
 * ever failed go to fuzz/crashers/, which tests/test_litmus_parse.c replays on
 * every `make check`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "litmus/litmus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *detail)
{
	fprintf(stderr, "litmus_parse_fuzz: %s\n%s\n", what, detail ? detail : "");
	abort();
}

/* Is (line, col) a place in @text, or the one just past its end? */
static int place_ok(const char *text, size_t len, unsigned line, unsigned col)
{
	unsigned l = 1;
	size_t start = 0;

	for (size_t i = 0; i < len && l < line; i++)
		if (text[i] == '\n') {
			l++;
			start = i + 1;
		}
	if (l != line || col < 1)
		return 0;
	for (size_t i = start; i < len && text[i] != '\n'; i++)
		if (i - start + 1 == col)
			return 1;
	/* The end of the line or of the input. */
	return col == (memchr(text + start, '\n', len - start) ?
		       (size_t)((const char *)memchr(text + start, '\n', len - start) -
				(text + start)) + 1 : len - start + 1);
}

static char *print(const struct litmus_test *t, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f || litmus_print(f, t) || fclose(f))
		broken("printing failed", NULL);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct litmus_test *t, *t2;
	struct litmus_diag d;
	size_t n1, n2;
	char *s1, *s2;
	char prefix[64];
	int err;

	err = litmus_parse("fuzz", text, size, &t, &d);
	if (err) {
		if (err != -EINVAL || t)
			broken("an error other than -EINVAL, or a test with it", d.text);
		snprintf(prefix, sizeof(prefix), "fuzz:%u:%u: ", d.line, d.col);
		if (strncmp(d.text, prefix, strlen(prefix)) || !d.msg[0])
			broken("a diagnostic without file:line:col: message", d.text);
		if (!place_ok(text, size, d.line, d.col))
			broken("a diagnostic pointing outside the input", d.text);
		return 0;
	}
	s1 = print(t, &n1);
	err = litmus_parse("printed", s1, n1, &t2, &d);
	if (err)
		broken(d.text, s1);
	s2 = print(t2, &n2);
	if (n1 != n2 || memcmp(s1, s2, n1))
		broken("printing is not stable", s2);
	free(s1);
	free(s2);
	litmus_free(t2);
	litmus_free(t);
	return 0;
}
