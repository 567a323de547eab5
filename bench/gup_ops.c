/* SPDX-License-Identifier: MIT */
/*
 * bench/gup_ops.c - the per-page cost of taking and releasing GUP references and
 * pins, against the machine and the host kernel (issue item 10).
 *
 *   gup-fast pin and get, 1 and 512 pages a call  (libgup)  vs one atomic increment
 *     (and one per 64-byte line of an array as large as the range's struct pages)
 *   their release: unpin, put_page                (libgup)
 *   pin_user_pages (mmap lock held), _unlocked    (libgup)
 *     all of them                                           vs host io_uring buffer
 *                                                              registration (a FOLL_LONGTERM
 *                                                              pin) and unregistration
 *   gup-fast pin from 1 and 2 tasks of one mm     (libgup)  aggregate pages/s, speed-up
 *   process_vm_readv from a child                 (host)    a remote pin + copy + unpin
 *
 * The range is a populated private anonymous mapping (--mib, 256 MiB by default) in
 * a world whose arena is pre-populated, so no host page fault lands inside a libgup
 * measurement; every pin is FOLL_WRITE.  A repetition makes PASSES passes over the
 * range for each case (pin or get all of it, then release all of it), and each pass
 * is one sample; the rows are medians of all samples after one discarded warm-up
 * repetition, which also checks every page handed out.  The floors and the host
 * take one sample a repetition.  The phases run libgup first, then the floors, then
 * the host kernel, because the host side must give memory back and on a VM that is
 * reported to the hypervisor a moment later, stalling whatever runs then (the host
 * buffer it registers stays mapped until the end).  The targets are judged on
 * paired rounds (bench_paired): two things timed back to back, a ratio per round,
 * the median ratio; the ratios of the phases' medians are printed for information.
 * They are figures to read, never asserted.
 * The world's counters give the sanity figures: pins taken per gup-fast page, and
 * gup-fast calls that fell back to the slow path.
 *
 * usage: gup_ops [--runs N] [--mib N]
 */
#define _GNU_SOURCE	/* sched_setaffinity, CPU_SET */

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gup/gup.h>

#include "anchors.h"
#include "args.h"

#define BATCH		512	/* pages a call, the batched case */
#define MAX_THREADS	2
#define PASSES		8	/* passes over the range a repetition, a sample each */
#define MAX_RUNS	64

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void check(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "gup_ops: %s failed: %s\n", what, strerror(-err));
		exit(1);
	}
}

/* A GUP call must return every page it was asked for. */
static void check_got(long got, long want, const char *what, uint64_t addr)
{
	if (got == want)
		return;
	if (got < 0)
		fprintf(stderr, "gup_ops: %s at %#llx failed: %s\n", what,
			(unsigned long long)addr, strerror((int)-got));
	else
		fprintf(stderr, "gup_ops: %s at %#llx returned %ld of %ld pages\n", what,
			(unsigned long long)addr, got, want);
	exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "gup_ops: out of memory\n");
		exit(1);
	}
	return p;
}

/* The populated range and the tasks that pin it. */
struct bench {
	struct gup_world *w;
	struct gup_mm *mm;
	struct gup_task *t;			/* the main thread's task       */
	struct gup_task *wt[MAX_THREADS];	/* one per worker thread        */
	uint64_t addr;
	size_t nr;				/* pages in the range           */
	struct gup_page **pages[MAX_THREADS];	/* one array per worker; [0] main */
};

static void bench_open(struct bench *b, struct gup_world *w, size_t bytes)
{
	b->w = w;
	b->nr = bytes / GUP_PAGE_SIZE;
	check(gup_mm_create(w, &b->mm), "gup_mm_create");
	check(gup_task_create(b->mm, &b->t), "gup_task_create");
	for (int i = 0; i < MAX_THREADS; i++) {
		check(gup_task_create(b->mm, &b->wt[i]), "gup_task_create");
		b->pages[i] = xcalloc(b->nr, sizeof(*b->pages[i]));
	}
	check(gup_mmap(b->t, 0, bytes, GUP_PROT_READ | GUP_PROT_WRITE,
		       GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS, &b->addr), "gup_mmap");
	check(gup_madvise(b->t, b->addr, bytes, GUP_MADV_POPULATE_WRITE),
	      "gup_madvise(MADV_POPULATE_WRITE)");
}

static void bench_close(struct bench *b)
{
	for (int i = 0; i < MAX_THREADS; i++) {
		gup_task_exit(b->wt[i]);
		free(b->pages[i]);
	}
	gup_task_exit(b->t);
	gup_mm_put(b->mm);
}

static uint64_t page_addr(const struct bench *b, size_t i)
{
	return b->addr + (uint64_t)i * GUP_PAGE_SIZE;
}

/* The samples of one quantity: one per pass of every repetition (NULL: warm-up). */
struct series {
	double v[MAX_RUNS * PASSES];
	int n;
};

static void add(struct series *s, double x)
{
	if (s)
		s->v[s->n++] = x;
}

static double med(struct series *s)
{
	return anchor_median(s->v, s->n);
}

/* Every page handed out is the one the range maps, pinned if @pin. */
static void verify(struct bench *b, struct gup_page **pages, size_t first, size_t n,
		   bool pin)
{
	for (size_t i = 0; i < n; i++) {
		struct gup_page *p = pages[i];
		int64_t pfn = gup_mm_pfn(b->mm, page_addr(b, first + i));

		if (!p || pfn < 0 || gup_page_pfn(p) != (uint64_t)pfn ||
		    (pin && !gup_page_maybe_dma_pinned(p))) {
			fprintf(stderr, "gup_ops: page %zu: wrong page handed out\n", first + i);
			exit(1);
		}
	}
}

/* Counters over the gup-fast passes (the sanity figures). */
enum { S_PIN, S_GET };
struct fast_ctr {
	uint64_t grabs, fast_pages, fallbacks, calls;
};
static struct fast_ctr fctr[2];
static uint64_t snap0[GUP_NR_STATS];

static void ctr_begin(struct gup_world *w)
{
	check(gup_world_stats(w, snap0), "gup_world_stats");
}

static void ctr_end(struct gup_world *w, int kind, uint64_t calls)
{
	uint64_t s[GUP_NR_STATS];
	enum gup_stat_item grab = kind == S_PIN ? GUP_STAT_PIN_ACQUIRED : GUP_STAT_GET_ACQUIRED;

	check(gup_world_stats(w, s), "gup_world_stats");
	fctr[kind].grabs += s[grab] - snap0[grab];
	fctr[kind].fast_pages += s[GUP_STAT_GUP_FAST_PAGES] - snap0[GUP_STAT_GUP_FAST_PAGES];
	fctr[kind].fallbacks += s[GUP_STAT_GUP_FAST_FALLBACK] -
				snap0[GUP_STAT_GUP_FAST_FALLBACK];
	fctr[kind].calls += calls;
}

static uint64_t nr_calls(size_t nr, size_t batch)
{
	return (nr + batch - 1) / batch;
}

/*
 * One pass of gup-fast over the whole range, @batch pages a call, from the main
 * task, then the release (unpin in the same batches, or put page by page).  Times
 * each half in ns per page; the warm-up (@check) also checks every page handed out.
 */
static void fast_pass(struct bench *b, bool pin, unsigned flags, size_t batch, bool check,
		      double *acq_ns, double *rel_ns)
{
	struct gup_page **pages = b->pages[0];
	double t0, t1, t2;

	ctr_begin(b->w);
	t0 = now_ns();
	for (size_t i = 0; i < b->nr; i += batch) {
		int n = (int)(b->nr - i < batch ? b->nr - i : batch);
		int got = pin ? gup_pin_user_pages_fast(b->t, page_addr(b, i), n, flags, pages + i)
			      : gup_get_user_pages_fast(b->t, page_addr(b, i), n, flags, pages + i);

		if (got != n)
			check_got(got, n, pin ? "gup_pin_user_pages_fast" :
				  "gup_get_user_pages_fast", page_addr(b, i));
	}
	t1 = now_ns();
	ctr_end(b->w, pin ? S_PIN : S_GET, nr_calls(b->nr, batch));
	if (check)
		verify(b, pages, 0, b->nr, pin);
	t2 = now_ns();
	if (pin) {
		for (size_t i = 0; i < b->nr; i += batch)
			gup_unpin_user_pages(pages + i, b->nr - i < batch ? b->nr - i : batch);
	} else {
		for (size_t i = 0; i < b->nr; i++)
			gup_put_page(pages[i]);
	}
	*rel_ns = (now_ns() - t2) / (double)b->nr;
	*acq_ns = (t1 - t0) / (double)b->nr;
}

/* PASSES passes of fast_pass, one sample each in @acq and @rel (NULL: the warm-up). */
static void bench_fast(struct bench *b, bool pin, unsigned flags, size_t batch,
		       struct series *acq, struct series *rel)
{
	for (int pass = 0; pass < PASSES; pass++) {
		double a, r;

		fast_pass(b, pin, flags, batch, !acq && pass == 0, &a, &r);
		add(acq, a);
		add(rel, r);
	}
}

/*
 * Slow path: pin_user_pages with the lock taken around each call, or _unlocked.
 * PASSES samples of the pinning (the unpin is not timed).
 */
static void bench_slow(struct bench *b, bool unlocked, size_t batch, struct series *s)
{
	struct gup_page **pages = b->pages[0];

	for (int pass = 0; pass < PASSES; pass++) {
		double t0 = now_ns();

		for (size_t i = 0; i < b->nr; i += batch) {
			unsigned long n = b->nr - i < batch ? b->nr - i : batch;
			long got;

			if (unlocked) {
				got = gup_pin_user_pages_unlocked(b->t, page_addr(b, i), n,
								  pages + i, GUP_FOLL_WRITE);
			} else {
				check(gup_mmap_read_lock(b->t, b->mm), "gup_mmap_read_lock");
				got = gup_pin_user_pages(b->t, page_addr(b, i), n, GUP_FOLL_WRITE,
							 pages + i);
				gup_mmap_read_unlock(b->t, b->mm);
			}
			if (got != (long)n)
				check_got(got, (long)n, unlocked ? "gup_pin_user_pages_unlocked" :
					  "gup_pin_user_pages", page_addr(b, i));
		}
		add(s, (now_ns() - t0) / (double)b->nr);
		gup_unpin_user_pages(pages, b->nr);
	}
}

/* ---- gup-fast pin from several tasks of one mm ---- */

/*
 * The CPUs the workers run on, one each: left to itself the scheduler may keep
 * both on one vCPU for longer than a pass lasts (about a millisecond), and the
 * pass then measures one CPU doing both halves in turn.  -1: not bound (a single
 * CPU available).
 */
static int worker_cpu[MAX_THREADS] = { -1, -1 };

static void pick_cpus(void)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE && n < MAX_THREADS; cpu++)
		if (CPU_ISSET(cpu, &set))
			worker_cpu[n++] = cpu;
	if (n < MAX_THREADS)
		for (int i = 0; i < MAX_THREADS; i++)
			worker_cpu[i] = -1;
}

static void bind_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {	/* 0: this thread */
		fprintf(stderr, "gup_ops: sched_setaffinity(cpu %d) failed: %s\n", cpu,
			strerror(errno));
		exit(1);
	}
}

struct worker {
	struct bench *b;
	struct gup_task *t;
	int cpu;
	struct gup_page **pages;
	size_t first, nr;		/* the pages it pins */
	atomic_int *ready;		/* a start barrier: workers that are running */
	int nthreads;
	double t0, t1;
	unsigned long *lines;		/* non-NULL: the floor, one atomic per 64-byte
					 * line of these nr lines, instead of pinning */
	const char *err;		/* a failed call, reported by the main thread */
	long got, want;
	uint64_t at;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void worker_fn(void *arg)
{
	struct worker *wk = arg;
	struct bench *b = wk->b;
	size_t done;

	bind_cpu(wk->cpu);
	/* Start together: the main thread waits in join, off both CPUs. */
	atomic_fetch_add(wk->ready, 1);
	while (atomic_load(wk->ready) < wk->nthreads)
		cpu_relax();
	wk->t0 = now_ns();
	if (wk->lines) {
		for (size_t i = 0; i < wk->nr; i++) {
			atomic_fetch_add((_Atomic unsigned long *)&wk->lines[i * 8], 1);
			__asm__ __volatile__("" ::: "memory");
		}
		wk->t1 = now_ns();
		return;
	}
	for (done = 0; done < wk->nr; ) {
		int n = (int)(wk->nr - done < BATCH ? wk->nr - done : BATCH);
		uint64_t at = page_addr(b, wk->first + done);
		int got = gup_pin_user_pages_fast(wk->t, at, n, GUP_FOLL_WRITE, wk->pages + done);

		if (got != n) {
			wk->err = "gup_pin_user_pages_fast";
			wk->got = got;
			wk->want = n;
			wk->at = at;
			if (got > 0)
				gup_unpin_user_pages(wk->pages + done, (unsigned long)got);
			break;
		}
		done += (size_t)n;
	}
	wk->t1 = now_ns();
	gup_unpin_user_pages(wk->pages, done);
}

/*
 * @nthreads tasks pin concurrently, 512 pages a call: their own share of the range
 * (@whole false), or each the whole range.  Returns the wall time from the first
 * start to the last end, and in *pages the pages pinned in all.
 */
static double bench_threads_once(struct bench *b, int nthreads, bool whole, size_t *pages,
				 unsigned long *lines)
{
	struct worker wk[MAX_THREADS];
	struct gup_thread *th[MAX_THREADS];
	atomic_int ready = 0;
	double start = INFINITY, end = 0;
	size_t total = 0;

	for (int i = 0; i < nthreads; i++) {
		size_t lo = whole ? 0 : b->nr * (size_t)i / (size_t)nthreads;
		size_t hi = whole ? b->nr : b->nr * (size_t)(i + 1) / (size_t)nthreads;

		wk[i] = (struct worker){ .b = b, .t = b->wt[i], .cpu = worker_cpu[i],
					 .pages = b->pages[i],
					 .first = lo, .nr = hi - lo, .ready = &ready,
					 .nthreads = nthreads,
					 .lines = lines ? lines + lo * 8 : NULL };
		total += hi - lo;
	}
	ctr_begin(b->w);
	for (int i = 0; i < nthreads; i++)
		check(gup_thread_start(b->w, worker_fn, &wk[i], &th[i]), "gup_thread_start");
	for (int i = 0; i < nthreads; i++)
		check(gup_thread_join(th[i]), "gup_thread_join");
	for (int i = 0; i < nthreads; i++) {
		if (wk[i].err)
			check_got(wk[i].got, wk[i].want, wk[i].err, wk[i].at);
		start = wk[i].t0 < start ? wk[i].t0 : start;
		end = wk[i].t1 > end ? wk[i].t1 : end;
	}
	if (!lines)
		ctr_end(b->w, S_PIN, nr_calls(total, BATCH));
	*pages = total;
	return end - start;
}

/*
 * The three thread cases, PASSES times, interleaved pass by pass so that they see
 * the same machine (on a VM, the speed of a vCPU drifts): 1 task on the whole
 * range, 2 tasks on halves, 2 tasks each on the whole range.  One sample per pass
 * in s[case]: aggregate ns per page, wall time over all pages pinned; in s[3] the
 * pass's speed-up, 1 task / 2 tasks on halves (a paired ratio); and in s[4] the
 * machine's own speed-up on the same memory pattern, timed in the same pass: one
 * atomic increment per 64-byte line of an array as large as the range's struct
 * pages, by 1 thread, then by 2 threads on halves.
 */
static void bench_threads(struct bench *b, struct series *s[5])
{
	static const struct { int nthreads; bool whole; } cases[3] = {
		{ 1, true }, { 2, false }, { 2, true },
	};
	unsigned long *lines = xcalloc(b->nr * 8, sizeof(*lines));

	for (int pass = 0; pass < PASSES; pass++) {
		double ns[3], l1, l2;
		size_t n;

		for (int c = 0; c < 3; c++) {
			ns[c] = bench_threads_once(b, cases[c].nthreads, cases[c].whole, &n, NULL) /
				(double)n;
			add(s[c], ns[c]);
		}
		add(s[3], ns[0] / ns[1]);
		l1 = bench_threads_once(b, 1, true, &n, lines);
		l2 = bench_threads_once(b, 2, false, &n, lines);
		add(s[4], l1 / l2);
	}
	free(lines);
}

/* ---- reporting ---- */

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
	printf("  %-34s %9.1f %-8s (min %.1f, max %.1f)\n", name, med(s), unit, smin(s), smax(s));
}

/* A row of aggregate ns per page, with the pages per second it means. */
static void row_rate(const char *name, struct series *s)
{
	printf("  %-34s %9.1f %-8s (min %.1f, max %.1f)   %.1f Mpages/s\n", name, med(s),
	       "ns/page", smin(s), smax(s), 1e3 / med(s));
}

/* References taken per page gup-fast grabbed: one atomic RMW each. */
static void ctr_row(const char *what, const struct fast_ctr *c)
{
	printf("  %s acquired per gup-fast page      %.3f  (%llu %s, %llu pages, %llu calls)\n",
	       what, c->fast_pages ? (double)c->grabs / (double)c->fast_pages : NAN,
	       (unsigned long long)c->grabs, what, (unsigned long long)c->fast_pages,
	       (unsigned long long)c->calls);
}

static void verdict(const char *what, double r, double target, const char *cmp)
{
	bool ok = cmp[0] == '<' ? r <= target : r >= target;

	printf("  %-44s %6.2fx   target %s %.2fx   %s\n", what, r, cmp, target,
	       ok ? "met" : "NOT MET");
}

static void info(const char *what, double r, const char *note)
{
	printf("  %-44s %6.2fx   (information: %s)\n", what, r, note);
}

#define USAGE "usage: gup_ops [--runs N] [--mib N]"

static void usage_exit(void)
{
	fprintf(stderr, "%s\n", USAGE);
	exit(2);
}

static long parse_arg(const char *opt, const char *s, long lo, long hi)
{
	return bench_arg_long("gup_ops", USAGE, opt, s, lo, hi);
}

/*
 * The host's io_uring registration, in buffers of at most 1 GiB (the kernel's
 * limit per buffer) and of 2 MiB (512 pages, the libgup batch), interleaved run
 * by run.  False (and a line saying why) if io_uring is unavailable.
 */
static const size_t host_iov_bytes[2] = { (size_t)1 << 30, BATCH * GUP_PAGE_SIZE };

static bool host_uring(size_t bytes, long runs, struct series *reg, struct series *unreg)
{
	const char *why = NULL;
	double r, u;
	int err;

	for (long i = -1; i < runs; i++) {	/* -1: the warm-up */
		for (int c = 0; c < 2; c++) {
			err = host_uring_register_ns(bytes, host_iov_bytes[c], &r, &u, &why);
			if (err) {
				printf("  io_uring buffer registration: unavailable: %s: %s\n", why,
				       strerror(err));
				return false;
			}
			if (i >= 0) {
				add(&reg[c], r);
				add(&unreg[c], u);
			}
		}
	}
	return true;
}

/*
 * The verdicts' rounds.  On a shared VM the speed of the machine drifts: one pin
 * pass takes 9 ns/page and the next 15, in bursts that last seconds, so two
 * medians taken a minute apart compare two different machines.  A round times two
 * things back to back and gives their ratio; a verdict is the median ratio over
 * rounds.  First the floor (as many atomic increments as there are pages) against
 * a 512-page gup-fast pin pass; then, in rounds of their own (@host_cfg >= 0), the
 * pin pass and its unpin against the host's io_uring registration and
 * unregistration of as many pages - each of the two evicts the other's lines, so
 * both start equally cold.
 */
static void bench_paired(struct bench *b, size_t bytes, long rounds, int host_cfg,
			 struct series *vs_atomic, struct series *vs_host)
{
	double atom, pin, unpin, reg, unreg;
	const char *why;
	int err;

	for (long r = -1; r < rounds; r++) {	/* -1: the warm-up */
		atom = floor_atomic_ops_ns(b->nr);
		fast_pass(b, true, GUP_FOLL_WRITE, BATCH, false, &pin, &unpin);
		if (r >= 0)
			add(vs_atomic, pin / atom);
	}
	for (long r = -1; host_cfg >= 0 && r < rounds; r++) {
		fast_pass(b, true, GUP_FOLL_WRITE, BATCH, false, &pin, &unpin);
		err = host_uring_register_ns(bytes, host_iov_bytes[host_cfg], &reg, &unreg, &why);
		if (err) {
			fprintf(stderr, "gup_ops: %s failed in a paired round: %s\n", why,
				strerror(err));
			exit(1);
		}
		if (r >= 0)
			add(vs_host, (reg + unreg) / (pin + unpin));
	}
}

int main(int argc, char **argv)
{
	long runs = anchor_runs(), mib = 256;
	struct gup_world_config cfg = { .prepopulate = true };
	size_t bytes;
	bool uring;
	struct gup_world *w;
	struct bench b;
	double d;
	/* static: up to MAX_RUNS * PASSES samples each */
	static struct series pf1, pf1u, pf, pfu, gf1, gf1p, gf, gfp, pl, plu, sl, un;
	static struct series t1, t2, t2w, atom, lines, hr[2], hu[2], pvm;
	static struct series p_atom, p_host, p_thr, p_lines;	/* paired ratios, one a round */
	int host_cfg = -1;

	for (int i = 1; i < argc; i += 2) {	/* every option takes one value */
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--runs"))
			runs = parse_arg(argv[i], v, 1, MAX_RUNS);
		else if (!strcmp(argv[i], "--mib"))
			mib = parse_arg(argv[i], v, 1, 4096);
		else {
			fprintf(stderr, "gup_ops: unknown option %s\n", argv[i]);
			usage_exit();
		}
	}
	if (runs > MAX_RUNS)
		runs = MAX_RUNS;
	bytes = (size_t)mib << 20;
	cfg.nr_frames = bytes / GUP_PAGE_SIZE + 8192;
	cfg.nr_movable = 0;	/* every page long-term pinnable: no migration */
	check(gup_world_create(&cfg, &w), "gup_world_create");

	printf("libgup gup_ops: %ld repetitions of %d passes after a warm-up, %ld MiB populated "
	       "private anon (%zu pages), FOLL_WRITE, policy %s\n", runs, PASSES, mib,
	       bytes / GUP_PAGE_SIZE, gup_world_policy(w));
	/*
	 * Phases, in this order: libgup (its arena is never given back), the floor,
	 * the host kernel last - it must munmap, and on a VM freed memory is reported
	 * to the hypervisor a moment later, stalling whatever runs then.
	 */
	pick_cpus();
	if (worker_cpu[1] < 0)
		printf("note: fewer than 2 CPUs available: the 2-thread figures share one CPU\n");
	bench_open(&b, w, bytes);
#define S(x) (warm ? NULL : &(x))	/* where a sample goes: nowhere in the warm-up */
	for (long r = -1; r < runs; r++) {	/* -1: the warm-up, checked and discarded */
		bool warm = r < 0;
		struct series *th[5] = { S(t1), S(t2), S(t2w), S(p_thr), S(p_lines) };

		bench_fast(&b, true, GUP_FOLL_WRITE, 1, S(pf1), S(pf1u));
		bench_fast(&b, true, GUP_FOLL_WRITE, BATCH, S(pf), S(pfu));
		bench_fast(&b, false, GUP_FOLL_WRITE, 1, S(gf1), S(gf1p));
		bench_fast(&b, false, GUP_FOLL_WRITE, BATCH, S(gf), S(gfp));
		bench_fast(&b, true, GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, BATCH, S(pl), S(plu));
		bench_slow(&b, false, BATCH, S(sl));
		bench_slow(&b, true, BATCH, S(un));
		bench_threads(&b, th);
	}
#undef S
	floor_atomic_ns();	/* warm-up */
	floor_atomic_lines_ns(b.nr);
	for (long r = 0; r < runs; r++) {
		add(&atom, floor_atomic_ns());
		add(&lines, floor_atomic_lines_ns(b.nr));
	}
	anchor_release();

	printf("libgup (medians):\n");
	row("gup-fast pin, 1 page/call", &pf1, "ns/page");
	row("  unpin, 1 page/call", &pf1u, "ns/page");
	row("gup-fast pin, 512 pages/call", &pf, "ns/page");
	row("  unpin, 512 pages/call", &pfu, "ns/page");
	row("gup-fast get, 1 page/call", &gf1, "ns/page");
	row("  put_page", &gf1p, "ns/page");
	row("gup-fast get, 512 pages/call", &gf, "ns/page");
	row("  put_page", &gfp, "ns/page");
	row("gup-fast pin LONGTERM, 512/call", &pl, "ns/page");
	row("  unpin, 512 pages/call", &plu, "ns/page");
	row("pin_user_pages (locked), 512/call", &sl, "ns/page");
	row("pin_user_pages_unlocked, 512/call", &un, "ns/page");
	row_rate("gup-fast pin 512, 1 thread", &t1);
	row_rate("gup-fast pin 512, 2 threads/halves", &t2);
	row_rate("gup-fast pin 512, 2 threads/whole", &t2w);
	printf("floors (medians):\n");
	row("atomic increment", &atom, "ns");
	row("atomic increment, 1 line/page", &lines, "ns/page");

	printf("host kernel (medians; %ld MiB populated, MADV_NOHUGEPAGE):\n", mib);
	uring = host_uring(bytes, runs, hr, hu);
	if (uring)	/* the faster of the two buffer sizes */
		host_cfg = med(&hr[1]) + med(&hu[1]) < med(&hr[0]) + med(&hu[0]);
	bench_paired(&b, bytes, runs * PASSES, host_cfg, &p_atom, &p_host);
	for (long r = -1; r < runs; r++) {
		d = host_pvm_readv_ns(bytes);
		if (isnan(d))
			break;
		if (r >= 0)
			add(&pvm, d);
	}
	host_release();
	if (uring) {
		row("io_uring register, <=1 GiB bufs", &hr[0], "ns/page");
		row("io_uring unregister, <=1 GiB bufs", &hu[0], "ns/page");
		row("io_uring register, 2 MiB bufs", &hr[1], "ns/page");
		row("io_uring unregister, 2 MiB bufs", &hu[1], "ns/page");
	}
	if (pvm.n)
		row("process_vm_readv from a child", &pvm, "ns/page");
	else
		printf("  process_vm_readv: unavailable (see the note above)\n");

	printf("counters over the gup-fast passes (timed and warm-up):\n");
	ctr_row("pins", &fctr[S_PIN]);
	ctr_row("gets", &fctr[S_GET]);
	printf("  slow-path fallbacks                  %llu  (pin calls), %llu  (get calls)\n",
	       (unsigned long long)fctr[S_PIN].fallbacks,
	       (unsigned long long)fctr[S_GET].fallbacks);

	printf("ratios of medians (information; the verdicts below pair their samples):\n");
	info("fast pin 512 / one atomic increment", med(&pf) / med(&atom), "phases apart");
	info("fast pin 512 / atomic, 1 line per page", med(&pf) / med(&lines),
	     "the struct page lines a pin touches");
	if (uring) {
		double host = med(&hr[host_cfg]) + med(&hu[host_cfg]);

		info("host (register+unregister) / (pin+unpin)", host / (med(&pf) + med(&pfu)),
		     "phases apart");
		info("host register / fast pin 512", med(&hr[host_cfg]) / med(&pf), "the pin alone");
		info("host unregister / unpin 512", med(&hu[host_cfg]) / med(&pfu),
		     "the unpin alone");
		info("host (reg+unreg) / LONGTERM (pin+unpin)", host / (med(&pl) + med(&plu)),
		     "the same flags as io_uring");
		printf("  (host figures: the %s buffers, the faster)\n", host_cfg ? "2 MiB" : "1 GiB");
	}
	info("gup-fast pin speed-up, 2 threads / 1", med(&t1) / med(&t2), "medians of passes");
	info("2 threads on the whole range / 1", med(&t1) / med(&t2w),
	     "both pin every page: shared refcount lines");
	info("fast pin 1 page/call / 512 pages/call", med(&pf1) / med(&pf), "per-call cost");
	info("slow pin (locked) / fast pin, 512/call", med(&sl) / med(&pf), "slow path walk");
	if (pvm.n)
		info("host process_vm_readv / fast pin 512", med(&pvm) / med(&pf),
		     "remote pin + copy + unpin");

	printf("verdicts: medians of paired ratios (%d rounds, each timing both sides back to "
	       "back)\n", p_atom.n);
	verdict("fast pin 512 / one atomic increment", med(&p_atom), 2.0, "<=");
	if (uring)
		verdict("host (register+unregister) / (pin+unpin)", med(&p_host), 3.0, ">=");
	else
		printf("  %-44s unavailable (io_uring)\n",
		       "host (register+unregister) / (pin+unpin)");
	verdict("gup-fast pin speed-up, 2 threads / 1", med(&p_thr), 1.8, ">=");
	info("the machine's speed-up, 2 threads / 1", med(&p_lines),
	     "an atomic per struct page line, same passes");
	bench_close(&b);
	if (gup_world_check(w, stderr) != 0 || gup_world_destroy(w) != 0) {
		fprintf(stderr, "gup_ops: the world did not tear down cleanly\n");
		return 1;
	}
	return 0;
}
