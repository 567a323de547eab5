/* SPDX-License-Identifier: MIT */
/*
 * tools/cmd.h - the subcommands of the `gup` tool that live in files of their own.
 */
#ifndef GUP_TOOLS_CMD_H
#define GUP_TOOLS_CMD_H

#include <stdio.h>

/* gup litmus [options] FILE|DIR...  (tools/litmus.c).  Return: the exit status. */
int cmd_litmus(int argc, char **argv);
void litmus_usage(FILE *f);

#endif /* GUP_TOOLS_CMD_H */
