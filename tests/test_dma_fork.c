/* SPDX-License-Identifier: MIT */
/*
 * tests/test_dma_fork.c - seed 004's two test programs, in behaviour, as
 * free-mode stress tests of the DMA engine against fork (seed004 section 4).
 *
 *   dma_thread (T1): a buffer offset by 512 bytes from a page boundary, so that
 *     every page holds the tail of one worker's O_DIRECT read and the head of the
 *     next one's; workers read their slices of a "file" while another thread
 *     forks over and over (each child touches the buffer and exits); after each
 *     round every slice must hold the file's bytes in the parent.
 *   forkscrew (T2): an asynchronous read into [512, 4608) of a buffer is in
 *     flight; another thread forks (the child lives on); a third thread does a
 *     synchronous read into [4608, 8704), whose write fault on the shared page
 *     1 makes a 2.6.29 parent copy it away; then the asynchronous read's result
 *     must be in the parent.
 *
 * linux-6.x must never lose a byte: fork copies the pages the reads pinned for
 * the child, and gup-fast pins back off while fork write-protects.  On
 * linux-2.6.29 the loss is seed 004's bug (R1); how often it shows in free mode
 * is counted and printed, never asserted.  Either way a slice may only hold
 * the file's bytes or the fill (a lost read), never anything else, and every
 * reference comes back.
 *
 * The CPU and the DMA never touch the same bytes while a read is in flight (as
 * in dma_thread): the buffer is filled before the reads start and checked after
 * they complete.  Where a fork may be copying a page at the same time, the CPU
 * only moves aligned words (children's loads, dma_thread's fill), as the
 * engine's frame copy does.
 *
 * GUP_STRESS_SCALE (percent; default 100, 50 under ASan, 25 under TSan) scales
 * the fork and iteration targets; each test also stops at a time budget.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "gup/io.h"

#include "common/io_fixture.h"

#define PG		GUP_PAGE_SIZE
#define SECT		512u
#define NR_FRAMES	1024

#ifdef __has_feature
#define DF_HAS_FEATURE(x) __has_feature(x)
#else
#define DF_HAS_FEATURE(x) 0
#endif

#if defined(__SANITIZE_THREAD__) || DF_HAS_FEATURE(thread_sanitizer)
#define DF_DEFAULT_PCT	25
#elif defined(__SANITIZE_ADDRESS__) || DF_HAS_FEATURE(address_sanitizer)
#define DF_DEFAULT_PCT	50
#else
#define DF_DEFAULT_PCT	100
#endif

/* Time budget of one stress test. */
#define DF_BUDGET_NS	(UINT64_C(3000) * 1000 * 1000)

static unsigned df_scaled(unsigned base)
{
	const char *s = getenv("GUP_STRESS_SCALE");
	unsigned pct = DF_DEFAULT_PCT;
	uint64_t n;

	if (s && *s) {
		long v = strtol(s, NULL, 10);

		if (v > 0 && v <= 100000)
			pct = (unsigned)v;
	}
	n = (uint64_t)base * pct / 100;
	return n ? (unsigned)n : 1;
}

/* Wait until *@p >= @want or *@stop is set; false on timeout or stop. */
static bool df_wait(_Atomic unsigned *p, unsigned want, _Atomic int *stop)
{
	struct fx_spin s;

	fx_spin_begin(&s, FX_WAIT_NS, 16);
	while (atomic_load_explicit(p, memory_order_acquire) < want) {
		if (stop && atomic_load_explicit(stop, memory_order_acquire))
			return false;
		if (!fx_spin(&s))
			return false;
	}
	return true;
}

/*
 * A disk with a read latency (each chunk of a request pays it), holding
 * @nr_regions regions of @region bytes, region n (from 0) all byte n + 1.
 */
static struct gup_disk *df_disk(struct gup_world *w, unsigned nr_regions, size_t region,
				uint64_t latency_ns)
{
	struct gup_disk_config cfg = { .bytes = nr_regions * region,
				       .read_latency_ns = latency_ns };
	static uint8_t buf[64 * 1024];
	struct gup_disk *d;

	assert_true(region <= sizeof(buf));
	assert_int_equal(gup_disk_create(w, &cfg, &d), 0);
	for (unsigned n = 0; n < nr_regions; n++) {
		memset(buf, (int)(n + 1), region);
		assert_int_equal(gup_disk_poke(d, n * region, buf, region), 0);
	}
	return d;
}

/*
 * Check a slice the parent read from a region of byte @want: bytes still @fill
 * are lost (counted); anything else is a failure.  Returns the lost bytes.
 */
static size_t df_check_slice(struct fx_fail *f, struct gup_task *t, uint64_t addr, size_t len,
			     uint8_t want, uint8_t fill, const char *who)
{
	uint8_t buf[PG];
	size_t lost = 0;

	if (gup_load(t, addr, buf, len)) {
		fx_failf(f, "%s: load of %#llx failed", who, (unsigned long long)addr);
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == want)
			continue;
		if (buf[i] != fill) {
			fx_failf(f, "%s: byte %zu is %#x: neither the file's %#x nor the fill", who,
				 i, buf[i], want);
			return lost;
		}
		lost++;
	}
	return lost;
}

/*
 * memset through @t in aligned 8-byte stores.  A fork that began while a read
 * still pinned one of these pages copies it for the child (linux-6.x) and may
 * still be copying when the read completes and the next fill starts: its word
 * loads then race with these stores, which is fine for single-copy-atomic
 * words and a C data race for gup_fill's memset.
 */
static int df_fill_words(struct gup_task *t, uint64_t addr, uint8_t c, size_t len)
{
	uint64_t v;

	memset(&v, c, sizeof(v));
	for (size_t off = 0; off < len; off += sizeof(v)) {
		int ret = gup_store(t, addr + off, &v, sizeof(v));

		if (ret)
			return ret;
	}
	return 0;
}

/* A child's touch: an aligned word of each page of [addr, addr + n pages). */
static void df_child_touch(struct fx_fail *f, struct gup_task *child, uint64_t addr, unsigned n)
{
	for (unsigned p = 0; p < n; p++) {
		uint64_t v;

		if (gup_load(child, addr + p * PG + 2 * SECT, &v, sizeof(v)))
			fx_failf(f, "child load of page %u failed", p);
	}
}

/* ------------------------------------------------------------------------ */
/* dma_thread                                                               */
/* ------------------------------------------------------------------------ */

#define DT_WORKERS	4
#define DT_FILES	8			/* disk regions: "file" n is all byte n */
#define DT_CHUNK	(DT_WORKERS * PG)	/* what one round reads */
#define DT_FILL		0xfa
#define DT_LATENCY_NS	20000

struct dt_ctx {
	struct gup_disk *d;
	uint64_t buf;				/* DT_WORKERS + 1 pages */
	struct gup_task *worker[DT_WORKERS], *forker;
	_Atomic unsigned round;			/* main: the round that may start */
	_Atomic unsigned reads_done;		/* workers: reads finished and checked */
	_Atomic unsigned forks;
	_Atomic int stop;
	_Atomic unsigned lost_reads;
	_Atomic uint64_t lost_bytes;
	struct fx_fail f;
};

struct dt_worker_arg {
	struct dt_ctx *c;
	unsigned j;
};

static void dt_worker(void *arg)
{
	struct dt_worker_arg *a = arg;
	struct dt_ctx *c = a->c;
	uint64_t addr = c->buf + SECT + a->j * PG;
	struct gup_iovec iov = { addr, PG };

	for (unsigned r = 1; df_wait(&c->round, r, &c->stop); r++) {
		unsigned file = (r - 1) % DT_FILES;
		long ret = gup_dio_read(c->worker[a->j], c->d, file * DT_CHUNK + a->j * PG, &iov, 1);
		size_t lost;

		if (ret != PG)
			fx_failf(&c->f, "round %u worker %u: read returned %ld", r, a->j, ret);
		lost = df_check_slice(&c->f, c->worker[a->j], addr, PG, (uint8_t)(file + 1),
				      DT_FILL, "dma_thread");
		if (lost) {
			atomic_fetch_add(&c->lost_reads, 1);
			atomic_fetch_add(&c->lost_bytes, lost);
		}
		atomic_fetch_add_explicit(&c->reads_done, 1, memory_order_release);
	}
}

static void dt_forker(void *arg)
{
	struct dt_ctx *c = arg;

	while (!atomic_load_explicit(&c->stop, memory_order_acquire) && !fx_failed(&c->f)) {
		struct gup_task *child = NULL;
		int ret = gup_fork(c->forker, &child);

		if (ret) {
			fx_failf(&c->f, "fork: %d", ret);
			break;
		}
		df_child_touch(&c->f, child, c->buf, DT_WORKERS + 1);
		gup_task_exit(child);
		atomic_fetch_add(&c->forks, 1);
	}
}

static void dma_thread_scenario(const char *policy)
{
	struct gup_world *w = fx_world_new(policy, NR_FRAMES, NR_FRAMES / 4);
	struct gup_thread *workers[DT_WORKERS], *forker;
	struct dt_worker_arg args[DT_WORKERS];
	unsigned want_forks = df_scaled(4000), min_rounds = df_scaled(250), r;
	uint64_t deadline = fx_now_ns() + DF_BUDGET_NS;
	static struct dt_ctx c;
	struct gup_task *main_t;
	struct fx_snap s0;

	memset(&c, 0, sizeof(c));
	main_t = fx_task_new(w);
	c.d = df_disk(w, DT_FILES, DT_CHUNK, DT_LATENCY_NS);
	c.buf = fx_map_private(main_t, DT_WORKERS + 1);
	for (unsigned j = 0; j < DT_WORKERS; j++)
		c.worker[j] = fx_task_add(gup_task_mm(main_t));
	c.forker = fx_task_add(gup_task_mm(main_t));
	fx_snap(w, &s0);
	for (unsigned j = 0; j < DT_WORKERS; j++) {
		args[j] = (struct dt_worker_arg){ &c, j };
		workers[j] = fx_thread_start(w, dt_worker, &args[j]);
	}
	forker = fx_thread_start(w, dt_forker, &c);
	for (r = 1; !fx_failed(&c.f); r++) {
		if (r > min_rounds && (atomic_load(&c.forks) >= want_forks || fx_now_ns() > deadline))
			break;
		/* Fill, then let the round's reads go; they end before the next fill. */
		if (df_fill_words(main_t, c.buf, DT_FILL, (DT_WORKERS + 1) * PG))
			fx_failf(&c.f, "fill of round %u failed", r);
		atomic_store_explicit(&c.round, r, memory_order_release);
		if (!df_wait(&c.reads_done, r * DT_WORKERS, NULL))
			fx_failf(&c.f, "round %u never finished", r);
	}
	atomic_store_explicit(&c.stop, 1, memory_order_release);
	for (unsigned j = 0; j < DT_WORKERS; j++)
		assert_int_equal(gup_thread_join(workers[j]), 0);
	assert_int_equal(gup_thread_join(forker), 0);
	fx_assert_no_fail(&c.f);

	print_message("%s dma_thread: %u rounds, %u reads, %u forks (%" PRIu64 " pages copied "
		      "at fork); lost reads %u (%" PRIu64 " bytes)\n", policy, r - 1,
		      atomic_load(&c.reads_done), atomic_load(&c.forks),
		      fx_delta(w, &s0, GUP_STAT_FORK_PAGE_COPIED), atomic_load(&c.lost_reads),
		      atomic_load(&c.lost_bytes));
	assert_true(atomic_load(&c.forks) >= 1);
	assert_int_equal(atomic_load(&c.reads_done), (r - 1) * DT_WORKERS);
	if (fx_policy_is_new(policy))
		assert_int_equal(atomic_load(&c.lost_reads), 0);
	/* The bytes no DMA touches still hold the fill. */
	fx_io_mem_is(main_t, c.buf, SECT, DT_FILL);
	fx_io_mem_is(main_t, c.buf + DT_WORKERS * PG + SECT, PG - SECT, DT_FILL);
	fx_io_assert_balanced(w);
	fx_check(w);
	for (unsigned j = 0; j < DT_WORKERS; j++)
		gup_task_exit(c.worker[j]);
	gup_task_exit(c.forker);
	gup_task_exit(main_t);
	assert_int_equal(gup_disk_destroy(c.d), 0);
	fx_world_end(w);
}
FX_PER_POLICY(dma_thread_scenario)

/* ------------------------------------------------------------------------ */
/* forkscrew                                                                */
/* ------------------------------------------------------------------------ */

#define FS_PAGES	3
#define FS_FILL		0x2a
#define FS_LATENCY_NS	200000			/* the async read is slow, as advised */

struct fs_ctx {
	struct gup_disk *d;
	uint64_t buf;
	struct gup_task *sync, *forker;
	unsigned iters;				/* main: iterations to run */
	_Atomic unsigned submitted, forked, synced, child_gone;	/* per iteration */
	_Atomic int stop;
	struct fx_fail f;
};

/* Fork once the async read is in flight; keep the child until the sync read is done. */
static void fs_forker(void *arg)
{
	struct fs_ctx *c = arg;

	for (unsigned i = 1; df_wait(&c->submitted, i, &c->stop); i++) {
		struct gup_task *child = NULL;
		int ret = gup_fork(c->forker, &child);

		if (ret) {
			fx_failf(&c->f, "fork %u: %d", i, ret);
			break;
		}
		atomic_store_explicit(&c->forked, i, memory_order_release);
		if (!df_wait(&c->synced, i, &c->stop))
			fx_failf(&c->f, "iteration %u: no sync read", i);
		df_child_touch(&c->f, child, c->buf, FS_PAGES);
		gup_task_exit(child);
		atomic_store_explicit(&c->child_gone, i, memory_order_release);
	}
}

/* After the fork, the synchronous read into the next page's neighbourhood. */
static void fs_sync_reader(void *arg)
{
	struct fs_ctx *c = arg;
	struct gup_iovec iov = { c->buf + SECT + PG, PG };

	for (unsigned i = 1; df_wait(&c->forked, i, &c->stop); i++) {
		long ret = gup_dio_read(c->sync, c->d, PG, &iov, 1);

		if (ret != PG)
			fx_failf(&c->f, "iteration %u: sync read returned %ld", i, ret);
		atomic_store_explicit(&c->synced, i, memory_order_release);
	}
}

static void forkscrew_scenario(const char *policy)
{
	struct gup_world *w = fx_world_new(policy, NR_FRAMES, NR_FRAMES / 4);
	uint64_t deadline = fx_now_ns() + DF_BUDGET_NS, lost_bytes = 0;
	struct gup_iovec aio;
	struct gup_thread *th[2];
	unsigned i, lost = 0, want = df_scaled(200);
	static struct fs_ctx c;
	struct gup_task *main_t;

	memset(&c, 0, sizeof(c));
	main_t = fx_task_new(w);
	/* Region 0 (byte 1): the async read's source; region 1 (byte 2): the sync read's. */
	c.d = df_disk(w, 2, PG, FS_LATENCY_NS);
	c.buf = fx_map_private(main_t, FS_PAGES);
	c.sync = fx_task_add(gup_task_mm(main_t));
	c.forker = fx_task_add(gup_task_mm(main_t));
	aio = (struct gup_iovec){ c.buf + SECT, PG };
	th[0] = fx_thread_start(w, fs_forker, &c);
	th[1] = fx_thread_start(w, fs_sync_reader, &c);
	for (i = 1; i <= want && !fx_failed(&c.f) && (i < 16 || fx_now_ns() < deadline); i++) {
		struct gup_dio *req;
		size_t n;

		if (gup_fill(main_t, c.buf, FS_FILL, FS_PAGES * PG) ||
		    gup_dio_submit(main_t, c.d, GUP_DIO_READ, 0, &aio, 1, &req)) {
			fx_failf(&c.f, "iteration %u: fill or submit failed", i);
			break;
		}
		atomic_store_explicit(&c.submitted, i, memory_order_release);
		if (gup_dio_wait(req) != PG)
			fx_failf(&c.f, "iteration %u: async read failed", i);
		if (!df_wait(&c.child_gone, i, NULL))
			fx_failf(&c.f, "iteration %u: the child never exited", i);
		/* The async read's slice may lose bytes on 2.6.29; the sync read's never. */
		n = df_check_slice(&c.f, main_t, aio.base, PG, 1, FS_FILL, "forkscrew async");
		lost += n != 0;
		lost_bytes += n;
		if (df_check_slice(&c.f, main_t, aio.base + PG, PG, 2, FS_FILL, "forkscrew sync"))
			fx_failf(&c.f, "iteration %u: the synchronous read lost data", i);
	}
	atomic_store_explicit(&c.stop, 1, memory_order_release);
	assert_int_equal(gup_thread_join(th[0]), 0);
	assert_int_equal(gup_thread_join(th[1]), 0);
	fx_assert_no_fail(&c.f);
	print_message("%s forkscrew: %u iterations; async read lost in %u (%" PRIu64 " bytes)\n",
		      policy, i - 1, lost, lost_bytes);
	assert_true(i > 1);
	if (fx_policy_is_new(policy))
		assert_int_equal(lost, 0);
	fx_io_assert_balanced(w);
	fx_check(w);
	gup_task_exit(c.sync);
	gup_task_exit(c.forker);
	gup_task_exit(main_t);
	assert_int_equal(gup_disk_destroy(c.d), 0);
	fx_world_end(w);
}
FX_PER_POLICY(forkscrew_scenario)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_POLICY_TESTS(dma_thread_scenario),
		FX_POLICY_TESTS(forkscrew_scenario),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
