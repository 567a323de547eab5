/* SPDX-License-Identifier: MIT */
/*
 * tools/corpus.h - the litmus files a command was given, parsed: what `gup
 * litmus` and `gup matrix` share.
 */
#ifndef GUP_TOOLS_CORPUS_H
#define GUP_TOOLS_CORPUS_H

#include "litmus/litmus.h"

#define CORPUS_MAX_FILES	4096

struct corpus {
	const char *cmd;			/* "gup litmus": the messages' prefix */
	char *files[CORPUS_MAX_FILES];
	struct litmus_test *tests[CORPUS_MAX_FILES];
	unsigned nr;
};

/*
 * Add @path: a file, or a directory's *.litmus files in name order.  0, or 2
 * with a message on stderr (a missing path, an empty directory, too many files).
 */
int corpus_add(struct corpus *c, const char *path);
/*
 * Parse every file, reporting each bad one as `file:line:col: message` on
 * stderr (all of them, not just the first).  0 or 2.
 */
int corpus_parse(struct corpus *c);
void corpus_release(struct corpus *c);

#endif /* GUP_TOOLS_CORPUS_H */
