/* SPDX-License-Identifier: MIT */
/*
 * tools/gup.c - the `gup` command.
 *
 *   gup demo [--policy NAME] [--knob K=V]... [--pages N]
 *                                          a process writes, forks, both diverge
 *   gup litmus [options] FILE|DIR...       run litmus tests (tools/litmus.c)
 *   gup matrix [options] [FILE|DIR...]     the corpus under every preset (tools/matrix.c)
 *   gup policies                           the presets and their knobs (tools/policies.c)
 *   gup help | --help | --version
 *
 * The demo uses the public API only; `litmus` uses the internal litmus front end
 * and runner (src/litmus/).  Bad command lines print a message and exit 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gup/gup.h>

#include "cmd.h"

#define GUP_VERSION "0.1.0"

static const char *prog = "gup";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s <command> [options]\n"
		"commands:\n"
		"  demo [--policy NAME] [--knob NAME=VALUE]... [--pages N]\n"
		"                                    write, fork, diverge; print what happened\n",
		prog);
	litmus_usage(f);
	matrix_usage(f);
	fprintf(f,
		"  policies                          the policy presets and their knob values\n"
		"  help                              this text\n"
		"options: --version\n"
		"--policy NAME picks a preset (gup policies); --knob NAME=VALUE overrides one of\n"
		"its knobs (repeatable; docs/policies.md).\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return 2;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "%s: %s failed: %s\n", prog, what, strerror(-err));
	return 1;
}

/* Parse a positive decimal count; -1 on garbage. */
static long parse_count(const char *s, long max)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > max)
		return -1;
	return v;
}

/* ---- demo ---- */

struct demo {
	struct gup_world *w;
	struct gup_task *parent, *child;
	uint64_t base;
	long pages;
};

static void stamp(char *buf, const char *who, int version, long page)
{
	snprintf(buf, 32, "%s v%d page %d", who, version, (int)(page & 0xffff));
}

static int write_all(struct gup_task *t, uint64_t base, long pages, long step,
		     const char *who, int version)
{
	char buf[32];

	for (long i = 0; i < pages; i += step) {
		int err;

		stamp(buf, who, version, i);
		err = gup_store(t, base + (uint64_t)i * GUP_PAGE_SIZE, buf, sizeof(buf));
		if (err)
			return err;
	}
	return 0;
}

static void show_page(struct demo *d, const char *label, long page)
{
	uint64_t addr = d->base + (uint64_t)page * GUP_PAGE_SIZE;
	char pbuf[32] = "", cbuf[32] = "";

	if (gup_load(d->parent, addr, pbuf, sizeof(pbuf)) ||
	    gup_load(d->child, addr, cbuf, sizeof(cbuf)))
		printf("  %-24s load failed\n", label);
	printf("  %-24s page %-4ld parent pfn %-6lld \"%s\"\n", label, page,
	       (long long)gup_mm_pfn(gup_task_mm(d->parent), addr), pbuf);
	printf("  %-24s           child  pfn %-6lld \"%s\"\n", "", 
	       (long long)gup_mm_pfn(gup_task_mm(d->child), addr), cbuf);
}

static void print_stats(struct gup_world *w)
{
	uint64_t st[GUP_NR_STATS];

	if (gup_world_stats(w, st))
		return;
	printf("counters (non-zero):\n");
	for (int i = 0; i < GUP_NR_STATS; i++)
		if (st[i])
			printf("  %-22s %llu\n", gup_stat_name(i), (unsigned long long)st[i]);
}

/* Check that each side sees exactly what it should; returns the number of surprises. */
static int verify(struct demo *d)
{
	int bad = 0;

	for (long i = 0; i < d->pages; i++) {
		uint64_t addr = d->base + (uint64_t)i * GUP_PAGE_SIZE;
		char want[32], got[32];

		stamp(want, "parent", 2, i);
		if (gup_load(d->parent, addr, got, sizeof(got)) || strcmp(want, got))
			bad++;
		if (i % 2)
			stamp(want, "parent", 1, i);	/* untouched by the child */
		else
			stamp(want, "child", 1, i);
		if (gup_load(d->child, addr, got, sizeof(got)) || strcmp(want, got))
			bad++;
	}
	return bad;
}

static int demo_run(struct demo *d)
{
	struct gup_mm *mm;
	struct gup_mem_info mi;
	int err;

	err = gup_mm_create(d->w, &mm);
	if (err)
		return die("gup_mm_create", err);
	err = gup_task_create(mm, &d->parent);
	gup_mm_put(mm);		/* the task holds the mm now */
	if (err)
		return die("gup_task_create", err);
	err = gup_mmap(d->parent, 0, (size_t)d->pages * GUP_PAGE_SIZE,
		       GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS,
		       &d->base);
	if (err)
		return die("gup_mmap", err);
	printf("1. parent maps %ld private anonymous pages at %#llx and writes them\n",
	       d->pages, (unsigned long long)d->base);
	err = write_all(d->parent, d->base, d->pages, 1, "parent", 1);
	if (err)
		return die("gup_store", err);

	err = gup_fork(d->parent, &d->child);
	if (err)
		return die("gup_fork", err);
	printf("2. fork(): parent and child share every frame, write-protected\n");
	show_page(d, "after fork:", 0);

	err = write_all(d->parent, d->base, d->pages, 1, "parent", 2);
	if (!err)
		err = write_all(d->child, d->base, d->pages, 2, "child", 1);
	if (err)
		return die("gup_store", err);
	printf("3. parent rewrites every page; child writes every other page\n");
	show_page(d, "parent wrote, child too:", 0);
	show_page(d, "only the parent wrote:", 1);

	err = verify(d);
	printf("4. divergence check: %s\n", err ? "FAILED" : "each side sees exactly its own writes");
	print_stats(d->w);
	if (!gup_world_meminfo(d->w, &mi))
		printf("memory: %zu frames, %zu free, %zu page tables, %zu mms, %zu tasks\n",
		       mi.nr_frames, mi.nr_free, mi.nr_pgtables, mi.nr_mms, mi.nr_tasks);
	printf("invariant check: %d violation(s)\n", gup_world_check(d->w, stdout));
	return err ? 1 : 0;
}

/* The demo's options into @cfg and @d; 0, or the exit status of bad input. */
static int demo_options(int argc, char **argv, struct gup_world_config *cfg, struct demo *d,
			struct knob_args *knobs)
{
	char msg[512];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--policy") && i + 1 < argc) {
			cfg->policy = argv[++i];
			if (gup_policy_check(cfg->policy, knobs->v, msg, sizeof(msg)))
				return bad_usage("%s", msg);
		} else if (!strcmp(argv[i], "--knob") && i + 1 < argc) {
			if (knob_arg_add(knobs, cfg->policy, argv[++i], msg, sizeof(msg)))
				return bad_usage("%s", msg);
		} else if (!strcmp(argv[i], "--pages") && i + 1 < argc) {
			d->pages = parse_count(argv[++i], 1024);
			if (d->pages < 0)
				return bad_usage("--pages wants a count in 1..1024, not '%s'", argv[i]);
		} else {
			return bad_usage("demo: unknown or incomplete option '%s'", argv[i]);
		}
	}
	cfg->knobs = knobs->v;
	return 0;
}

static int cmd_demo(int argc, char **argv)
{
	struct gup_world_config cfg = { .nr_frames = 4096, .nr_movable = 2048 };
	struct demo d = { .pages = 8 };
	struct knob_args knobs = { .n = 0 };
	char text[512];
	int ret, leaks;

	ret = demo_options(argc, argv, &cfg, &d, &knobs);
	if (ret)
		return ret;
	ret = gup_world_create(&cfg, &d.w);
	if (ret)
		return die("gup_world_create", ret);
	printf("libgup demo, policy %s", gup_world_policy(d.w));
	if (knobs.n)
		printf(" with %s", knob_args_text(&knobs, text, sizeof(text)));
	printf("\n");
	ret = demo_run(&d);
	if (d.child)
		gup_task_exit(d.child);
	if (d.parent)
		gup_task_exit(d.parent);
	leaks = gup_world_destroy(d.w);
	printf("teardown: %d leaked frame(s)\n", leaks);
	return ret || leaks ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return bad_usage("%s", "missing command");
	if (!strcmp(argv[1], "demo"))
		return cmd_demo(argc - 1, argv + 1);
	if (!strcmp(argv[1], "litmus"))
		return cmd_litmus(argc - 1, argv + 1);
	if (!strcmp(argv[1], "matrix"))
		return cmd_matrix(argc - 1, argv + 1);
	if (!strcmp(argv[1], "policies"))
		return cmd_policies(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("gup %s\n", GUP_VERSION);
		return 0;
	}
	return bad_usage("unknown command '%s'", argv[1]);
}
