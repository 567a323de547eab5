/* SPDX-License-Identifier: MIT */
/*
 * bench/mm_ops.c - the engine's per-page costs against the machine and the host kernel.
 *
 *   first-touch write fault   (libgup)  vs cold memset floor    vs host mmap+touch
 *   fork of a populated mm    (libgup)  vs two atomics          vs host fork()
 *   COW break after fork      (libgup)  vs cold memcpy + fault  vs host COW write
 *
 * Everything is measured in the same run, medians of --runs repetitions after one
 * discarded warm-up, on a pre-populated arena (no host page fault inside a
 * libgup measurement).  Targets (issue 2 / BRIEF 6) are printed with each ratio;
 * they are figures to read, never asserted.
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

typedef double (*bench_fn)(struct gup_world *w, size_t bytes);
typedef double (*anchor_fn)(size_t bytes);

static double median_of(int runs, bench_fn fn, struct gup_world *w, size_t bytes,
			double *min, double *max)
{
	double v[runs];

	fn(w, bytes);	/* warm-up: page-table pool, caches */
	for (int i = 0; i < runs; i++)
		v[i] = fn(w, bytes);
	*min = *max = v[0];
	for (int i = 1; i < runs; i++) {
		if (v[i] < *min)
			*min = v[i];
		if (v[i] > *max)
			*max = v[i];
	}
	return anchor_median(v, runs);
}

static double anchor_of(int runs, anchor_fn fn, size_t bytes)
{
	double v[runs];

	fn(bytes);
	for (int i = 0; i < runs; i++)
		v[i] = fn(bytes);
	return anchor_median(v, runs);
}

static double atomic_of(int runs)
{
	double v[runs];

	for (int i = 0; i < runs; i++)
		v[i] = floor_atomic_ns();
	return anchor_median(v, runs);
}

static void row(const char *name, double med, double min, double max)
{
	printf("  %-26s %9.1f ns/page   (min %.1f, max %.1f)\n", name, med, min, max);
}

static void verdict(const char *what, double ratio, double target, const char *cmp)
{
	bool ok = cmp[0] == '<' ? ratio <= target : ratio >= target;

	printf("  %-44s %6.2fx   target %s %.2fx   %s\n", what, ratio, cmp, target,
	       ok ? "met" : "NOT MET");
}

static long parse_arg(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = s ? strtol(s, &end, 10) : 0;
	if (!s || errno || *end || v < lo || v > hi) {
		fprintf(stderr, "mm_ops: %s wants an integer in %ld..%ld\n", opt, lo, hi);
		fprintf(stderr, "usage: mm_ops [--runs N] [--fault-mib N] [--fork-mib N] [--cow-mib N]\n");
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long runs = anchor_runs(), fault_mib = 512, fork_mib = 512, cow_mib = 256;
	struct gup_world_config cfg = { .prepopulate = true };
	struct gup_world *w;
	double fmin, fmax, kmin, kmax, cmin, cmax;
	double fault, fork_ns, cow, memset_ns, memcpy_ns, atomic_ns, h_fault, h_fork, h_cow;
	size_t max_mib;

	for (int i = 1; i < argc; i += 2) {	/* every option takes one value */
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--runs"))
			runs = parse_arg(argv[i], v, 1, 1000);
		else if (!strcmp(argv[i], "--fault-mib"))
			fault_mib = parse_arg(argv[i], v, 1, 8192);
		else if (!strcmp(argv[i], "--fork-mib"))
			fork_mib = parse_arg(argv[i], v, 1, 8192);
		else if (!strcmp(argv[i], "--cow-mib"))
			cow_mib = parse_arg(argv[i], v, 1, 8192);
		else
			parse_arg(argv[i], NULL, 0, 0);	/* unknown option: usage, exit 2 */
	}
	max_mib = (size_t)(fault_mib > fork_mib ? fault_mib : fork_mib);
	if ((size_t)cow_mib * 2 > max_mib)
		max_mib = (size_t)cow_mib * 2;
	cfg.nr_frames = (max_mib << 20) / GUP_PAGE_SIZE + 8192;
	cfg.nr_movable = cfg.nr_frames / 2;
	check(gup_world_create(&cfg, &w), "gup_world_create");

	printf("libgup mm_ops: %ld runs (medians), arena %zu MiB pre-populated, policy %s\n",
	       runs, (size_t)(cfg.nr_frames * GUP_PAGE_SIZE) >> 20, gup_world_policy(w));
	printf("floors (same run):\n");
	memset_ns = anchor_of((int)runs, floor_memset_cold_ns, (size_t)256 << 20);
	memcpy_ns = anchor_of((int)runs, floor_memcpy_cold_ns, (size_t)256 << 20);
	atomic_ns = atomic_of((int)runs);
	printf("  %-26s %9.1f ns/page\n", "memset cold 4 KiB", memset_ns);
	printf("  %-26s %9.1f ns/page\n", "memcpy cold 4 KiB", memcpy_ns);
	printf("  %-26s %9.1f ns\n", "atomic increment", atomic_ns);

	printf("host kernel (same run):\n");
	h_fault = anchor_of((int)runs, host_fault_ns, (size_t)fault_mib << 20);
	h_fork = anchor_of((int)runs, host_fork_ns, (size_t)fork_mib << 20);
	h_cow = anchor_of((int)runs, host_cow_ns, (size_t)cow_mib << 20);
	printf("  %-26s %9.1f ns/page  (%ld MiB)\n", "mmap + first touch", h_fault, fault_mib);
	printf("  %-26s %9.1f ns/page  (%ld MiB)\n", "fork()", h_fork, fork_mib);
	printf("  %-26s %9.1f ns/page  (%ld MiB)\n", "COW write after fork", h_cow, cow_mib);

	printf("libgup:\n");
	fault = median_of((int)runs, bench_fault, w, (size_t)fault_mib << 20, &fmin, &fmax);
	row("first-touch write fault", fault, fmin, fmax);
	fork_ns = median_of((int)runs, bench_fork, w, (size_t)fork_mib << 20, &kmin, &kmax);
	row("fork of populated mm", fork_ns, kmin, kmax);
	cow = median_of((int)runs, bench_cow, w, (size_t)cow_mib << 20, &cmin, &cmax);
	row("COW break after fork", cow, cmin, cmax);

	printf("ratios:\n");
	verdict("fault / cold memset", fault / memset_ns, 1.3, "<=");
	verdict("fork / two atomics", fork_ns / (2 * atomic_ns), 1.5, "<=");
	verdict("COW / (cold memcpy + libgup fault)", cow / (memcpy_ns + fault), 1.3, "<=");
	verdict("COW / (cold memcpy + fault overhead)",
		cow / (memcpy_ns + (fault > memset_ns ? fault - memset_ns : 0)), 1.3, "<=");
	verdict("host fault / libgup fault (speed-up)", h_fault / fault, 2.0, ">=");
	verdict("host fork / libgup fork (speed-up)", h_fork / fork_ns, 2.0, ">=");
	verdict("host COW / libgup COW (speed-up)", h_cow / cow, 2.0, ">=");

	if (gup_world_check(w, stderr) != 0 || gup_world_destroy(w) != 0) {
		fprintf(stderr, "mm_ops: the world did not tear down cleanly\n");
		return 1;
	}
	return 0;
}
