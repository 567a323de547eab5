/* SPDX-License-Identifier: MIT */
/*
 * tools/corpus.c - loading and parsing the litmus files of a command line.
 *
 * Every file is parsed before anything runs, so that a typo in the tenth test
 * is reported at once, with every other bad file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "corpus.h"

int cmd_bad(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", cmd);
	fprintf(stderr, fmt, arg);
	fputs("\n(see: gup help)\n", stderr);
	return 2;
}

static int corpus_bad(const struct corpus *c, const char *what, const char *path)
{
	fprintf(stderr, "%s: %s%s%s\n", c->cmd, what, path ? " " : "", path ? path : "");
	return 2;
}

static int add_file(struct corpus *c, const char *path)
{
	if (c->nr == CORPUS_MAX_FILES)
		return corpus_bad(c, "more than 4096 files at", path);
	c->files[c->nr] = strdup(path);
	if (!c->files[c->nr])
		return corpus_bad(c, "out of memory at", path);
	c->nr++;
	return 0;
}

static int is_litmus(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 7 && !strcmp(d->d_name + n - 7, ".litmus");
}

int corpus_add(struct corpus *c, const char *path)
{
	struct dirent **names;
	int n = scandir(path, &names, is_litmus, alphasort), err = 0;

	if (n < 0 && errno == ENOTDIR)
		return add_file(c, path);
	if (n < 0) {
		fprintf(stderr, "%s: %s: %s\n", c->cmd, path, strerror(errno));
		return 2;
	}
	if (!n)
		err = corpus_bad(c, "no *.litmus file in directory", path);
	for (int i = 0; i < n; i++) {
		char full[4096];

		if (!err) {
			snprintf(full, sizeof(full), "%s/%s", path, names[i]->d_name);
			err = add_file(c, full);
		}
		free(names[i]);
	}
	free(names);
	return err;
}

/* The file's text (at most one byte past the parser's limit: it says what is wrong). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(LITMUS_MAX_TEXT + 2);
	if (buf) {
		*len = fread(buf, 1, LITMUS_MAX_TEXT + 1, f);
		if (ferror(f)) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static int parse_file(struct corpus *c, unsigned i)
{
	struct litmus_diag diag;
	size_t len;
	char *text;
	int err;

	errno = 0;
	text = slurp(c->files[i], &len);
	if (!text) {
		fprintf(stderr, "%s: %s: %s\n", c->cmd, c->files[i], strerror(errno ? errno : EIO));
		return 2;
	}
	err = litmus_parse(c->files[i], text, len, &c->tests[i], &diag);
	free(text);
	if (err == -EINVAL) {
		fprintf(stderr, "%s\n", diag.text);
		return 2;
	}
	if (err) {
		fprintf(stderr, "%s: %s: %s\n", c->cmd, c->files[i], strerror(-err));
		return 2;
	}
	return 0;
}

int corpus_parse(struct corpus *c)
{
	int ret = 0;

	for (unsigned i = 0; i < c->nr; i++)
		if (parse_file(c, i))
			ret = 2;
	return ret;
}

void corpus_release(struct corpus *c)
{
	for (unsigned i = 0; i < c->nr; i++) {
		litmus_free(c->tests[i]);
		free(c->files[i]);
	}
	c->nr = 0;
}
