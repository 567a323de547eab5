/* SPDX-License-Identifier: MIT */
/*
 * bench/file_ops.c - what dropping the mmap lock across file I/O buys (seed 002).
 *
 * Reader tasks take file pages that are not in the page cache, one GUP call a page,
 * from a disk with --latency-us per read; a writer task of the same mm meanwhile
 * does an mmap + munmap of an anonymous page every --period-us, each of which needs
 * the mmap lock for write.  (Paced: a writer in a tight loop would take the lock
 * over and over while woken readers are still on their way to run, and measure
 * reader starvation instead.)  Two modes, run in turn:
 *
 *   retry   gup_get_user_pages_unlocked: the fault may retry, so it drops the lock
 *           while the disk works (FAULT_FLAG_ALLOW_RETRY -> VM_FAULT_RETRY);
 *   locked  gup_mmap_read_lock + gup_get_user_pages: the caller holds the lock, the
 *           fault may not drop it, and the disk read happens under it.
 *
 * Reported per mode: the writer's wait per mmap+munmap pair (median, 99th
 * percentile, mean, max) and the readers' page rate; then the ratio of the writer's
 * mean and median waits, locked / retry (the 2014 change's point: expect > 10x).
 * Each mode reads pages no earlier phase read, so every GUP misses the cache.
 *
 * usage: file_ops [--readers N] [--pages N] [--latency-us N] [--period-us N] [--runs N]
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gup/file.h>
#include <gup/gup.h>

#include "args.h"

#define MAX_READERS	8
#define MAX_OPS		(1 << 20)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void check(long err, const char *what)
{
	if (err < 0) {
		fprintf(stderr, "file_ops: %s failed: %s\n", what, strerror((int)-err));
		exit(1);
	}
}

struct bench {
	struct gup_world *w;
	struct gup_mm *mm;
	struct gup_file *file;
	uint64_t addr;			/* the file's shared mapping */
	long readers, pages;		/* pages per reader per phase */
	long period_ns;			/* the writer's pace */
	atomic_int readers_left;	/* the writer runs until it is 0 */
	atomic_int started;
};

static void sleep_ns(long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

struct reader {
	struct bench *b;
	struct gup_task *t;
	bool locked;			/* GUP under the caller's lock */
	uint64_t first;			/* first page index in the file */
	double t0, t1;
};

struct writer {
	struct bench *b;
	struct gup_task *t;
	double *wait;			/* ns per mmap+munmap pair */
	long n;
};

static void reader_fn(void *arg)
{
	struct reader *r = arg;
	struct bench *b = r->b;

	atomic_fetch_add(&b->started, 1);
	r->t0 = now_ns();
	for (long i = 0; i < b->pages; i++) {
		uint64_t at = b->addr + (r->first + (uint64_t)i) * GUP_PAGE_SIZE;
		struct gup_page *page;
		long got;

		if (r->locked) {
			check(gup_mmap_read_lock(r->t, b->mm), "gup_mmap_read_lock");
			got = gup_get_user_pages(r->t, at, 1, 0, &page);
			gup_mmap_read_unlock(r->t, b->mm);
		} else {
			got = gup_get_user_pages_unlocked(r->t, at, 1, &page, 0);
		}
		if (got != 1) {
			fprintf(stderr, "file_ops: GUP of page %llu returned %ld\n",
				(unsigned long long)(r->first + (uint64_t)i), got);
			exit(1);
		}
		gup_put_page(page);
	}
	r->t1 = now_ns();
	atomic_fetch_sub(&b->readers_left, 1);
}

static void writer_fn(void *arg)
{
	struct writer *wr = arg;
	struct bench *b = wr->b;

	/* Start when the readers do, stop when the last one ends. */
	while (atomic_load(&b->started) < b->readers)
		;
	while (atomic_load(&b->readers_left) > 0 && wr->n < MAX_OPS) {
		double t0 = now_ns();
		uint64_t a;

		check(gup_mmap(wr->t, 0, GUP_PAGE_SIZE, GUP_PROT_READ | GUP_PROT_WRITE,
			       GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS, &a), "gup_mmap");
		check(gup_munmap(wr->t, a, GUP_PAGE_SIZE), "gup_munmap");
		wr->wait[wr->n++] = now_ns() - t0;
		sleep_ns(b->period_ns);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct result {
	double med, p99, mean, max;	/* the writer's wait, ns */
	long ops;
	double pages_per_s;		/* the readers' aggregate rate */
};

/* One phase: the readers on fresh pages starting at @first_page, and the writer. */
static struct result run_phase(struct bench *b, bool locked, uint64_t first_page,
			       double *wait)
{
	struct reader rd[MAX_READERS];
	struct gup_thread *th[MAX_READERS + 1];
	struct writer wr = { .b = b, .wait = wait };
	double start = INFINITY, end = 0, sum = 0;
	struct result res;

	atomic_store(&b->readers_left, (int)b->readers);
	atomic_store(&b->started, 0);
	check(gup_task_create(b->mm, &wr.t), "gup_task_create");
	for (long i = 0; i < b->readers; i++) {
		rd[i] = (struct reader){ .b = b, .locked = locked,
					 .first = first_page + (uint64_t)(i * b->pages) };
		check(gup_task_create(b->mm, &rd[i].t), "gup_task_create");
	}
	check(gup_thread_start(b->w, writer_fn, &wr, &th[b->readers]), "gup_thread_start");
	for (long i = 0; i < b->readers; i++)
		check(gup_thread_start(b->w, reader_fn, &rd[i], &th[i]), "gup_thread_start");
	for (long i = 0; i <= b->readers; i++)
		check(gup_thread_join(th[i]), "gup_thread_join");
	for (long i = 0; i < b->readers; i++) {
		start = rd[i].t0 < start ? rd[i].t0 : start;
		end = rd[i].t1 > end ? rd[i].t1 : end;
		gup_task_exit(rd[i].t);
	}
	gup_task_exit(wr.t);

	if (wr.n == 0) {
		fprintf(stderr, "file_ops: the writer did not run\n");
		exit(1);
	}
	qsort(wait, (size_t)wr.n, sizeof(*wait), cmp_double);
	for (long i = 0; i < wr.n; i++)
		sum += wait[i];
	res.ops = wr.n;
	res.med = wait[wr.n / 2];
	res.p99 = wait[(long)((double)(wr.n - 1) * 0.99)];
	res.mean = sum / (double)wr.n;
	res.max = wait[wr.n - 1];
	res.pages_per_s = (double)(b->readers * b->pages) / ((end - start) / 1e9);
	return res;
}

#define USAGE "usage: file_ops [--readers N] [--pages N] [--latency-us N] [--period-us N] [--runs N]"

static void usage_exit(void)
{
	fprintf(stderr, "%s\n", USAGE);
	exit(2);
}

static long parse_arg(const char *opt, const char *s, long lo, long hi)
{
	return bench_arg_long("file_ops", USAGE, opt, s, lo, hi);
}

static double median_of(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void print_result(const char *mode, const struct result *r)
{
	printf("  %-7s writer wait per mmap+munmap: median %9.1f us  p99 %9.1f us  "
	       "mean %9.1f us  max %9.1f us  (%ld ops)   readers %7.0f pages/s\n", mode,
	       r->med / 1e3, r->p99 / 1e3, r->mean / 1e3, r->max / 1e3, r->ops, r->pages_per_s);
}

int main(int argc, char **argv)
{
	long readers = 2, pages = 200, latency_us = 1000, period_us = 100, runs = 3;
	struct gup_world_config cfg = { .prepopulate = true };
	struct gup_disk_config dc = { 0 };
	struct gup_file_config fc = { 0 };
	struct gup_disk *disk;
	struct gup_task *t;
	struct bench b;
	double *wait, rmean[16], rmed[16];
	uint64_t next = 0, file_pages;

	for (int i = 1; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--readers"))
			readers = parse_arg(argv[i], v, 1, MAX_READERS);
		else if (!strcmp(argv[i], "--pages"))
			pages = parse_arg(argv[i], v, 1, 100000);
		else if (!strcmp(argv[i], "--latency-us"))
			latency_us = parse_arg(argv[i], v, 0, 1000000);
		else if (!strcmp(argv[i], "--period-us"))
			period_us = parse_arg(argv[i], v, 0, 1000000);
		else if (!strcmp(argv[i], "--runs"))
			runs = parse_arg(argv[i], v, 1, 16);
		else {
			fprintf(stderr, "file_ops: unknown option %s\n", argv[i]);
			usage_exit();
		}
	}
	file_pages = (uint64_t)(readers * pages * 2 * runs);
	cfg.nr_frames = file_pages + 4096;
	check(gup_world_create(&cfg, &b.w), "gup_world_create");
	dc.bytes = file_pages * GUP_PAGE_SIZE;
	dc.read_latency_ns = (uint64_t)latency_us * 1000;
	check(gup_disk_create(b.w, &dc, &disk), "gup_disk_create");
	fc.disk = disk;
	fc.max_size = fc.size = dc.bytes;
	check(gup_file_create(b.w, &fc, &b.file), "gup_file_create");
	check(gup_mm_create(b.w, &b.mm), "gup_mm_create");
	check(gup_task_create(b.mm, &t), "gup_task_create");
	check(gup_mmap_file(t, 0, fc.size, GUP_PROT_READ, GUP_MAP_SHARED, b.file, 0, &b.addr),
	      "gup_mmap_file");
	b.readers = readers;
	b.pages = pages;
	b.period_ns = period_us * 1000;
	wait = malloc(MAX_OPS * sizeof(*wait));
	if (!wait)
		check(-ENOMEM, "malloc");

	printf("libgup file_ops: %ld reader task(s) x %ld uncached file pages each, disk read "
	       "latency %ld us, one writer task doing mmap+munmap every %ld us; %ld run(s) of "
	       "each mode\n", readers, pages, latency_us, period_us, runs);
	for (long r = 0; r < runs; r++) {
		struct result rr, rl;

		rr = run_phase(&b, false, next, wait);
		next += (uint64_t)(readers * pages);
		rl = run_phase(&b, true, next, wait);
		next += (uint64_t)(readers * pages);
		printf("run %ld:\n", r + 1);
		print_result("retry", &rr);
		print_result("locked", &rl);
		rmean[r] = rl.mean / rr.mean;
		rmed[r] = rl.med / rr.med;
	}
	printf("writer wait, locked / retry (median over runs): mean %.0fx, median %.0fx   "
	       "(seed 002's point; expected > 10x)\n", median_of(rmean, runs),
	       median_of(rmed, runs));

	free(wait);
	gup_task_exit(t);
	gup_mm_put(b.mm);
	check(gup_file_close(b.file), "gup_file_close");
	if (gup_world_check(b.w, stderr) != 0 || gup_world_destroy(b.w) != 0) {
		fprintf(stderr, "file_ops: the world did not tear down cleanly\n");
		return 1;
	}
	return 0;
}
