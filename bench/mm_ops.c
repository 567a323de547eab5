/* SPDX-License-Identifier: MIT */
/*
 * bench/mm_ops.c - the engine's per-page costs against the machine and the host kernel.
 *
 *   first-touch write fault   (libgup)  vs cold memset floor    vs host mmap+touch
 *                                       (and, for reading, vs streaming-store zeroing:
 *                                        libgup zeroes that way, see src/sched/mem.c)
 *   fork of a populated mm    (libgup)  vs two atomics          vs host fork()
 *   COW break after fork      (libgup)  vs cold memcpy + fault  vs host COW write
 *
 * Everything is measured in the same run, medians of --runs repetitions after one
 * discarded warm-up, on a pre-populated arena (no host page fault inside a
 * libgup measurement).  The phases run libgup first, then the floors, then the
 * host kernel, because the host side must give memory back and on a VM that is
 * reported to the hypervisor a moment later, stalling whatever runs then.
 * Targets (issue 2 / BRIEF 6) are printed with each ratio of medians; they are
 * figures to read, never asserted.
 *
 * usage: mm_ops [--runs N] [--fault-mib N] [--fork-mib N] [--cow-mib N]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gup/gup.h>

#include "anchors.h"
#include "args.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void check(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "mm_ops: %s failed: %s\n", what, strerror(-err));
		exit(1);
	}
}

struct env {
	struct gup_world *w;
	struct gup_task *t;
};

static void env_open(struct env *e, struct gup_world *w)
{
	struct gup_mm *mm;

	e->w = w;
	check(gup_mm_create(w, &mm), "gup_mm_create");
	check(gup_task_create(mm, &e->t), "gup_task_create");
	gup_mm_put(mm);
}

static void env_close(struct env *e)
{
	gup_task_exit(e->t);
}

static uint64_t map_region(struct env *e, size_t bytes)
{
	uint64_t addr;

	check(gup_mmap(e->t, 0, bytes, GUP_PROT_READ | GUP_PROT_WRITE,
		       GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS, &addr), "gup_mmap");
	return addr;
}

/* One byte stored per page: every store takes a fault (first touch or COW). */
static void touch(struct gup_task *t, uint64_t addr, size_t pages, char c)
{
	for (size_t i = 0; i < pages; i++)
		check(gup_store(t, addr + i * GUP_PAGE_SIZE, &c, 1), "gup_store");
}

static double bench_fault(struct gup_world *w, size_t bytes)
{
	size_t pages = bytes / GUP_PAGE_SIZE;
	struct env e;
	uint64_t addr;
	double t0, t1;

	env_open(&e, w);
	addr = map_region(&e, bytes);
	t0 = now_ns();
	touch(e.t, addr, pages, 1);
	t1 = now_ns();
	env_close(&e);
	return (t1 - t0) / (double)pages;
}

/* A populated private mapping of @bytes in a fresh mm (every page written once). */
static uint64_t populated(struct env *e, struct gup_world *w, size_t bytes)
{
	uint64_t addr;

	env_open(e, w);
	addr = map_region(e, bytes);
	touch(e->t, addr, bytes / GUP_PAGE_SIZE, 1);
	return addr;
}

static double bench_fork(struct gup_world *w, size_t bytes)
{
	struct gup_task *child;
	struct env e;
	double t0, t1;

	populated(&e, w, bytes);
	t0 = now_ns();
	check(gup_fork(e.t, &child), "gup_fork");
	t1 = now_ns();
	gup_task_exit(child);
	env_close(&e);
	return (t1 - t0) / (double)(bytes / GUP_PAGE_SIZE);
}

static double bench_cow(struct gup_world *w, size_t bytes)
{
	size_t pages = bytes / GUP_PAGE_SIZE;
	struct gup_task *child;
	struct env e;
	uint64_t addr = populated(&e, w, bytes);
	double t0, t1;

	check(gup_fork(e.t, &child), "gup_fork");	/* the child stays alive */
	t0 = now_ns();
	touch(e.t, addr, pages, 2);
	t1 = now_ns();
	gup_task_exit(child);
	env_close(&e);
	return (t1 - t0) / (double)pages;
}

/* The repetitions of one quantity, and their summary. */
struct series {
	double v[64];
	int n;
};

static void add(struct series *s, double x)
{
	s->v[s->n++] = x;
}

static double med(struct series *s)
{
	return anchor_median(s->v, s->n);
}

static double smin(const struct series *s)
{
	return anchor_min(s->v, s->n);
}

static double smax(const struct series *s)
{
	return anchor_max(s->v, s->n);
}

static void row(const char *name, struct series *s, const char *unit)
{
	printf("  %-26s %9.1f %-8s (min %.1f, max %.1f)\n", name, med(s), unit, smin(s), smax(s));
}

static void verdict(const char *what, double r, double target, const char *cmp)
{
	bool ok = cmp[0] == '<' ? r <= target : r >= target;

	printf("  %-40s %6.2fx   target %s %.2fx   %s\n", what, r, cmp, target,
	       ok ? "met" : "NOT MET");
}

#define USAGE "usage: mm_ops [--runs N] [--fault-mib N] [--fork-mib N] [--cow-mib N]"

static long parse_arg(const char *opt, const char *s, long lo, long hi)
{
	return bench_arg_long("mm_ops", USAGE, opt, s, lo, hi);
}

int main(int argc, char **argv)
{
	long runs = anchor_runs(), fault_mib = 512, fork_mib = 512, cow_mib = 256;
	struct gup_world_config cfg = { .prepopulate = true };
	size_t fault_b, fork_b, cow_b, floor_b = (size_t)256 << 20, max_mib;
	struct series mset = {0}, mzs = {0}, mcpy = {0}, atom = {0}, hf = {0}, hk = {0}, hc = {0};
	struct series f = {0}, k = {0}, c = {0};
	struct gup_world *w;

	for (int i = 1; i < argc; i += 2) {	/* every option takes one value */
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--runs"))
			runs = parse_arg(argv[i], v, 1, 64);
		else if (!strcmp(argv[i], "--fault-mib"))
			fault_mib = parse_arg(argv[i], v, 1, 8192);
		else if (!strcmp(argv[i], "--fork-mib"))
			fork_mib = parse_arg(argv[i], v, 1, 8192);
		else if (!strcmp(argv[i], "--cow-mib"))
			cow_mib = parse_arg(argv[i], v, 1, 8192);
		else
			parse_arg(argv[i], NULL, 0, 0);	/* unknown option: usage, exit 2 */
	}
	if (runs > 64)
		runs = 64;
	fault_b = (size_t)fault_mib << 20;
	fork_b = (size_t)fork_mib << 20;
	cow_b = (size_t)cow_mib << 20;
	max_mib = (size_t)(fault_mib > fork_mib ? fault_mib : fork_mib);
	if ((size_t)cow_mib * 2 > max_mib)
		max_mib = (size_t)cow_mib * 2;
	cfg.nr_frames = (max_mib << 20) / GUP_PAGE_SIZE + 8192;
	cfg.nr_movable = cfg.nr_frames / 2;
	check(gup_world_create(&cfg, &w), "gup_world_create");

	printf("libgup mm_ops: %ld repetitions after a warm-up, arena %zu MiB pre-populated, "
	       "policy %s\n", runs, (size_t)(cfg.nr_frames * GUP_PAGE_SIZE) >> 20,
	       gup_world_policy(w));
	/*
	 * Phases, in this order: libgup (its arena is never given back), the floors
	 * (their buffers stay mapped), the host kernel last - it must munmap, and on
	 * a VM freed memory is reported to the hypervisor a moment later, stalling
	 * whatever runs then.
	 */
	bench_fault(w, fault_b);	/* warm-up: page-table pool, caches */
	bench_fork(w, fork_b);
	bench_cow(w, cow_b);
	for (long r = 0; r < runs; r++) {
		add(&f, bench_fault(w, fault_b));
		add(&k, bench_fork(w, fork_b));
		add(&c, bench_cow(w, cow_b));
	}
	floor_memset_cold_ns(floor_b);	/* warm-up: map and fault the buffers */
	floor_memcpy_cold_ns(floor_b);
	for (long r = 0; r < runs; r++) {
		add(&mset, floor_memset_cold_ns(floor_b));
		add(&mzs, floor_zero_stream_cold_ns(floor_b));
		add(&mcpy, floor_memcpy_cold_ns(floor_b));
		add(&atom, floor_atomic_ns());
	}
	anchor_release();
	for (long r = 0; r < runs; r++) {
		add(&hf, host_fault_ns(fault_b));
		add(&hk, host_fork_ns(fork_b));
		add(&hc, host_cow_ns(cow_b));
	}

	printf("libgup (medians):\n");
	row("first-touch write fault", &f, "ns/page");
	row("fork of populated mm", &k, "ns/page");
	row("COW break after fork", &c, "ns/page");
	printf("floors (medians):\n");
	row("memset cold 4 KiB", &mset, "ns/page");
	row("streaming zero cold 4 KiB", &mzs, "ns/page");
	row("memcpy cold 4 KiB", &mcpy, "ns/page");
	row("atomic increment", &atom, "ns");
	printf("host kernel (medians):\n");
	row("mmap + first touch", &hf, "ns/page");
	row("fork()", &hk, "ns/page");
	row("COW write after fork", &hc, "ns/page");
	printf("ratios of medians:\n");
	verdict("fault / cold memset", med(&f) / med(&mset), 1.3, "<=");
	verdict("fork / two atomics", med(&k) / (2 * med(&atom)), 1.5, "<=");
	verdict("COW / (cold memcpy + libgup fault)", med(&c) / (med(&mcpy) + med(&f)), 1.3, "<=");
	/* No target: what the fault costs beyond the zeroing it actually does. */
	printf("  %-40s %6.2fx   (information: libgup zeroes with streaming stores)\n",
	       "fault / streaming zero", med(&f) / med(&mzs));
	verdict("speed-up over host: fault", med(&hf) / med(&f), 2.0, ">=");
	verdict("speed-up over host: fork", med(&hk) / med(&k), 2.0, ">=");
	verdict("speed-up over host: COW", med(&hc) / med(&c), 2.0, ">=");

	if (gup_world_check(w, stderr) != 0 || gup_world_destroy(w) != 0) {
		fprintf(stderr, "mm_ops: the world did not tear down cleanly\n");
		return 1;
	}
	return 0;
}
