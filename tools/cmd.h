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

#endif /* GUP_TOOLS_CMD_H */
