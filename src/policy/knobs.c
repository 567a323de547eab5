/* SPDX-License-Identifier: MIT */
/*
 * src/policy/knobs.c - the knobs by name: `--knob name=value` overrides and the
 * "name=value ..." line of `gup policies`.
 *
 * One table: each knob's name, where it lives in struct gup_policy, and the
 * names of its values in enum order (booleans are "off", "on").  Parsing and
 * printing both walk it, so a knob added to the structure is added here once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

#define KNOB_MAX_VALUES	8

enum knob_type { KNOB_ENUM, KNOB_BOOL };

struct knob {
	const char *name;
	enum knob_type type;
	size_t offset;				/* of the field in struct gup_policy */
	const char *values[KNOB_MAX_VALUES];	/* by value; NULL-terminated      */
};

#define KNOB_ENUM_FIELD(field, ...) \
	{ #field, KNOB_ENUM, offsetof(struct gup_policy, field), { __VA_ARGS__, NULL } }
#define KNOB_BOOL_FIELD(field) \
	{ #field, KNOB_BOOL, offsetof(struct gup_policy, field), { "off", "on", NULL } }

static const struct knob knobs[] = {
	KNOB_ENUM_FIELD(reuse, "mapcount", "refcount", "anon_exclusive"),
	KNOB_ENUM_FIELD(read_cow, "never", "anon", "all", "pinning", "pin", "unshare"),
	KNOB_ENUM_FIELD(fork_copy, "none", "pg_gup", "dontcow", "maybe_pinned",
			"wired"),
	KNOB_ENUM_FIELD(fork_copy_how, "keep", "decow", "precow"),
	KNOB_ENUM_FIELD(fast_guard, "none", "pg_gup", "dontcow", "writable", "wp_seq", "slow"),
	KNOB_BOOL_FIELD(fast_recheck),
	KNOB_BOOL_FIELD(fast_barrier),
	KNOB_ENUM_FIELD(fork_lock, "none", "dio_submit", "dio_complete"),
	KNOB_BOOL_FIELD(mprotect_try_writable),
	KNOB_ENUM_FIELD(io_ref, "pin", "get"),
	KNOB_ENUM_FIELD(write_retry, "write", "read"),
};

#define NR_KNOBS	(sizeof(knobs) / sizeof(knobs[0]))

/* Other spellings of the boolean values: "on" and "off" are what we print. */
static int bool_alias(const char *v)
{
	static const char *const yes[] = { "1", "true", "yes" }, *const no[] = { "0", "false", "no" };

	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(v, yes[i]))
			return 1;
		if (!strcmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* Every enum knob is stored in an int-sized enum, every other one in a bool. */
_Static_assert(sizeof(enum cow_reuse_rule) == sizeof(int) &&
	       sizeof(enum read_cow_rule) == sizeof(int) &&
	       sizeof(enum fork_copy_rule) == sizeof(int) &&
	       sizeof(enum fork_copy_how) == sizeof(int) &&
	       sizeof(enum fast_guard_rule) == sizeof(int) &&
	       sizeof(enum fork_lock_rule) == sizeof(int) &&
	       sizeof(enum io_ref_rule) == sizeof(int) &&
	       sizeof(enum write_retry_rule) == sizeof(int), "enum knobs are int-sized");

static int knob_get(const struct knob *k, const struct gup_policy *p)
{
	const char *field = (const char *)p + k->offset;
	bool b;
	int v;

	if (k->type == KNOB_BOOL) {
		memcpy(&b, field, sizeof(b));
		return b;
	}
	memcpy(&v, field, sizeof(v));
	return v;
}

static void knob_set(const struct knob *k, struct gup_policy *p, int v)
{
	char *field = (char *)p + k->offset;
	bool b = v;

	if (k->type == KNOB_BOOL)
		memcpy(field, &b, sizeof(b));
	else
		memcpy(field, &v, sizeof(v));
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (err && size) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "a, b, c" of a NULL-terminated list into @buf. */
static const char *join(char *buf, size_t size, const char *const *names)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const char *const *n = names; *n && used < size; n++) {
		int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", *n);

		if (w < 0)
			break;
		used += (size_t)w;
	}
	return buf;
}

static const struct knob *knob_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NR_KNOBS; i++)
		if (strlen(knobs[i].name) == len && !strncmp(knobs[i].name, name, len))
			return &knobs[i];
	return NULL;
}

static int knob_value(const struct knob *k, const char *v)
{
	for (int i = 0; k->values[i]; i++)
		if (!strcmp(k->values[i], v))
			return i;
	return k->type == KNOB_BOOL ? bool_alias(v) : -1;
}

/* Apply one "name=value" to @p. */
static int knob_apply(struct gup_policy *p, const char *kv, char *err, size_t size)
{
	const char *eq = strchr(kv, '=');
	const struct knob *k;
	char list[256];
	int v;

	if (!eq || eq == kv)
		return fail(err, size, "knob '%s' is not name=value", kv);
	k = knob_find(kv, (size_t)(eq - kv));
	if (!k) {
		const char *names[NR_KNOBS + 1];

		for (size_t i = 0; i < NR_KNOBS; i++)
			names[i] = knobs[i].name;
		names[NR_KNOBS] = NULL;
		return fail(err, size, "unknown knob '%.*s' (known: %s)", (int)(eq - kv), kv,
			    join(list, sizeof(list), names));
	}
	v = knob_value(k, eq + 1);
	if (v < 0)
		return fail(err, size, "knob %s has no value '%s' (values: %s)", k->name, eq + 1,
			    join(list, sizeof(list), k->values));
	knob_set(k, p, v);
	return 0;
}

int policy_build(struct gup_policy *out, const char *name, const char *const *kv,
		 char *err, size_t err_size)
{
	const struct gup_policy *preset = policy_find(name);
	char list[256];
	int ret;

	if (!preset)
		return fail(err, err_size, "unknown policy '%s' (known: %s)", name,
			    join(list, sizeof(list), policy_names));
	*out = *preset;
	for (; kv && *kv; kv++) {
		ret = knob_apply(out, *kv, err, err_size);
		if (ret)
			return ret;
	}
	return 0;
}

int policy_format(const struct gup_policy *p, char *buf, size_t size)
{
	size_t used = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < NR_KNOBS; i++) {
		const struct knob *k = &knobs[i];
		int w = snprintf(used < size ? buf + used : NULL, used < size ? size - used : 0,
				 "%s%s=%s", i ? " " : "", k->name, k->values[knob_get(k, p)]);

		if (w < 0)
			return w;
		used += (size_t)w;
	}
	return (int)used;
}
