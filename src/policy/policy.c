/* SPDX-License-Identifier: MIT */
/*
 * src/policy/policy.c - the presets.  Each cites where its rule comes from.
 */
#include <string.h>

#include "policy/policy.h"

static const struct gup_policy presets[] = {
	{
		.name = "linux-6.x",
		.summary = "5.19+ anon-exclusive: exclusive pages reused, R/O pins unshare, "
			   "fork copies maybe-pinned pages",
		.reuse = REUSE_ANON_EXCLUSIVE,
		.fork_copy = FORK_COPY_MAYBE_PINNED,
		.mprotect_try_writable = true,
		.io_ref = IO_REF_PIN,
	},
	{
		.name = "linux-2.6.29",
		.summary = "2009 baseline: COW reuse by mapcount==1, fork shares every page "
			   "(the bug of seed 004)",
		.reuse = REUSE_MAPCOUNT,
		.fork_copy = FORK_COPY_NONE,
		.mprotect_try_writable = false,
		.io_ref = IO_REF_GET,
	},
};

const char *const policy_names[] = { "linux-6.x", "linux-2.6.29", NULL };

const struct gup_policy *policy_find(const char *name)
{
	if (!name)
		return &presets[0];
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}
