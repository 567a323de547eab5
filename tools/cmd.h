/* SPDX-License-Identifier: MIT */
/*
 * tools/cmd.h - the subcommands of the `gup` tool that live in files of their own.
 */
#ifndef GUP_TOOLS_CMD_H
#define GUP_TOOLS_CMD_H

#include <stdio.h>

/* "CMD: <fmt with arg>" and a pointer to help on stderr; returns 2 (bad input). */
int cmd_bad(const char *cmd, const char *fmt, const char *arg);

/* gup litmus [options] FILE|DIR...  (tools/litmus.c).  Return: the exit status. */
int cmd_litmus(int argc, char **argv);
void litmus_usage(FILE *f);

/* gup matrix [options] [FILE|DIR...]  (tools/matrix.c).  Return: the exit status. */
int cmd_matrix(int argc, char **argv);
void matrix_usage(FILE *f);
/* gup policies  (tools/policies.c).  Return: the exit status. */
int cmd_policies(int argc, char **argv);

/* ---- --knob name=value, as every command that builds worlds takes it (tools/policies.c) ---- */

#define MAX_KNOBS	32

struct knob_args {
	const char *v[MAX_KNOBS + 1];	/* NULL-terminated, as gup_world_config.knobs */
	unsigned n;
};

/*
 * knob_arg_add - one more override for @policy (NULL: the default), checked at
 * once together with the earlier ones.  Return: 0, or -EINVAL with the library's
 * message in @msg (an unknown knob or value, too many knobs).
 */
int knob_arg_add(struct knob_args *k, const char *policy, const char *kv, char *msg,
		 size_t size);

/* The overrides as one line ("a=b c=d"), or "" if there are none. */
const char *knob_args_text(const struct knob_args *k, char *buf, size_t size);

#endif /* GUP_TOOLS_CMD_H */
