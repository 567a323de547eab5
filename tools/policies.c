/* SPDX-License-Identifier: MIT */
/*
 * tools/policies.c - `gup policies`, and the --knob overrides of the commands
 * that build worlds (demo, litmus).  Public API only (<gup/gup.h>).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gup/gup.h>

#include "cmd.h"

int knob_arg_add(struct knob_args *k, const char *policy, const char *kv, char *msg,
		 size_t size)
{
	int ret;

	if (k->n == MAX_KNOBS) {
		snprintf(msg, size, "too many --knob options (at most %d)", MAX_KNOBS);
		return -EINVAL;
	}
	k->v[k->n] = kv;
	k->v[k->n + 1] = NULL;
	ret = gup_policy_check(policy, k->v, msg, size);
	if (ret) {
		k->v[k->n] = NULL;
		return ret;
	}
	k->n++;
	return 0;
}

const char *knob_args_text(const struct knob_args *k, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < k->n && used < size; i++) {
		int w = snprintf(buf + used, size - used, "%s%s", i ? " " : "", k->v[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
	return buf;
}

/* Each preset: its name and summary, then every knob's value. */
int cmd_policies(int argc, char **argv)
{
	char knobs[512];

	if (argc > 1) {
		fprintf(stderr, "gup: policies: unexpected argument '%s'\n(see: gup help)\n",
			argv[1]);
		return 2;
	}
	for (const char *const *n = gup_policy_names(); *n; n++) {
		if (gup_policy_knobs(*n, NULL, knobs, sizeof(knobs)) < 0)
			return 1;
		printf("%-15s %s\n%-15s %s\n", *n, gup_policy_summary(*n), "", knobs);
	}
	return 0;
}
