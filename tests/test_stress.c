/* SPDX-License-Identifier: MIT */
/*
 * tests/test_stress.c - free-mode stress: real threads driving tasks of one mm
 * while another task forks, faults, unmaps or changes protections.
 *
 * Every check is an exact property (no lost write, no torn value, each page
 * allocated once, the invariant checker clean, no leaked frame), not a timing.
 * Threads never call cmocka assertions: they count errors and keep the first
 * message; the main thread asserts after joining them.  Handshakes are C11
 * atomics (relaxed on purpose in test_fork_exit_reuse_ordering, so that TSan
 * sees only the ordering the engine provides); every loop is bounded.
 *
 * GUP_STRESS_SCALE (percent, default 100; 25 under TSan) scales the iteration
 * counts.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"

#include "common/fixture.h"

#define PROT_RW		(GUP_PROT_READ | GUP_PROT_WRITE)
#define MAP_ANON_PRIV	(GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS)
#define PAGE		GUP_PAGE_SIZE

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static unsigned scale_pct(void)
{
	const char *s = getenv("GUP_STRESS_SCALE");
	long v;

	if (s && *s) {
		v = strtol(s, NULL, 10);
		if (v >= 1 && v <= 100000)
			return (unsigned)v;
	}
#if defined(__SANITIZE_THREAD__)
	return 25;
#else
	return 100;
#endif
}

static unsigned scaled(unsigned base)
{
	uint64_t n = (uint64_t)base * scale_pct() / 100;

	return n ? (unsigned)n : 1;
}

/*
 * Wait until *@p passes @old, unless *@done says its owner has stopped.  For
 * "let the others make progress" gates; false if it timed out or the owner stopped.
 */
static bool wait_progress(_Atomic unsigned *p, unsigned old, _Atomic int *done)
{
	struct fx_spin s;

	fx_spin_begin(&s, FX_WAIT_NS, 64);
	while (atomic_load_explicit(p, memory_order_acquire) <= old) {
		if (atomic_load_explicit(done, memory_order_acquire))
			return false;
		if (!fx_spin(&s))
			return false;
	}
	return true;
}

/*
 * Pacing of a worker by the thread it races with: wait until *@p >= @want or
 * *@stop is set (or FX_WAIT_NS pass).  Keeps both sides overlapping without letting
 * one run far ahead.
 */
static void wait_pace(_Atomic unsigned *p, unsigned want, _Atomic int *stop)
{
	struct fx_spin s;

	fx_spin_begin(&s, FX_WAIT_NS, 64);
	while (atomic_load_explicit(p, memory_order_acquire) < want &&
	       !atomic_load_explicit(stop, memory_order_acquire))
		if (!fx_spin(&s))
			return;
}

/* Errors seen by a thread: a count and the first message. */
struct errlog {
	_Atomic unsigned n;
	_Atomic int claimed;
	char first[256];
};

__attribute__((format(printf, 2, 3)))
static void err(struct errlog *e, const char *fmt, ...)
{
	va_list ap;
	int zero = 0;

	if (atomic_fetch_add_explicit(&e->n, 1, memory_order_relaxed) == 0 &&
	    atomic_compare_exchange_strong(&e->claimed, &zero, 1)) {
		va_start(ap, fmt);
		vsnprintf(e->first, sizeof(e->first), fmt, ap);
		va_end(ap);
	}
}

static void assert_no_errors(struct errlog *e)
{
	unsigned n = atomic_load(&e->n);

	if (n)
		fail_msg("%u error(s) in threads; first: %s", n, e->first);
}

/* ------------------------------------------------------------------------ */
/* Stores from several tasks while another task forks                       */
/* ------------------------------------------------------------------------ */

#define FW_WRITERS	3
#define FW_PAGES	64
#define FW_PER_PAGE	4				/* slots per writer per page */
#define FW_SLOTS	(FW_PAGES * FW_PER_PAGE)	/* slots per writer          */
#define FW_MAX_ROUNDS	1000000u
#define FW_PACE		16				/* writer rounds per fork    */
#define SEQ_MASK	((UINT64_C(1) << 40) - 1)

/* Writer @wr's slot @k: interleaved so that every page holds every writer's slots. */
static uint64_t fw_slot_addr(uint64_t base, unsigned wr, unsigned k)
{
	unsigned page = k % FW_PAGES, j = k / FW_PAGES;

	return base + page * PAGE + (uint64_t)(j * FW_WRITERS + wr) * 8;
}

/* Writer id in bits 56..63, slot in 40..55, sequence in 0..39: a torn or misplaced
 * value cannot pass for a real one. */
static uint64_t fw_value(unsigned wr, unsigned k, uint64_t seq)
{
	return ((uint64_t)(wr + 1) << 56) | ((uint64_t)k << 40) | seq;
}

struct fork_stress;

struct fw_writer {
	struct fork_stress *fs;
	struct gup_task *t;
	unsigned id;
	_Atomic unsigned started;	/* round being written (published before it) */
	_Atomic unsigned completed;	/* last round whose stores all returned      */
	_Atomic int done;		/* the thread has returned                    */
	_Atomic unsigned allow;		/* forker: rounds this writer may start       */
	uint64_t last[FW_SLOTS];	/* owner: last value stored per slot          */
};

struct fork_stress {
	uint64_t base;
	unsigned nr_forks;
	struct gup_task *forker;
	struct fw_writer wr[FW_WRITERS];
	_Atomic int stop;
	_Atomic unsigned forks_done;
	struct errlog errs;
	uint64_t *seen;		/* forker: previous child's value per (writer, slot) */
	uint64_t checked;	/* forker: slot values checked in children            */
};

static void fw_writer_loop(struct fw_writer *me);

static void fw_writer_fn(void *arg)
{
	struct fw_writer *me = arg;

	fw_writer_loop(me);
	atomic_store_explicit(&me->done, 1, memory_order_release);
}

static void fw_writer_loop(struct fw_writer *me)
{
	struct fork_stress *fs = me->fs;

	for (unsigned r = 1; r <= FW_MAX_ROUNDS; r++) {
		if (r > 1 && atomic_load_explicit(&fs->stop, memory_order_acquire))
			break;
		/* The forker lets us run FW_PACE rounds at a time: bounded, yet overlapping. */
		wait_pace(&me->allow, r, &fs->stop);
		atomic_store(&me->started, r);
		for (unsigned k = 0; k < FW_SLOTS; k++) {
			uint64_t v = fw_value(me->id, k, r);
			int ret = gup_store(me->t, fw_slot_addr(fs->base, me->id, k), &v, sizeof(v));

			if (ret) {
				err(&fs->errs, "writer %u: store of slot %u round %u: %d", me->id, k, r, ret);
				return;
			}
			me->last[k] = v;
		}
		atomic_store(&me->completed, r);
	}
}

/* Check one child: every slot holds a value its writer really wrote, not older than
 * what the writer had completed before the fork, not newer than it had started.
 * The values are kept in @snap for the second look. */
static void fw_check_child(struct fork_stress *fs, struct gup_task *child, const unsigned *floor,
			   uint64_t *snap)
{
	for (unsigned wr = 0; wr < FW_WRITERS; wr++) {
		for (unsigned k = 0; k < FW_SLOTS; k++) {
			uint64_t v = 0, seq, *prev = &fs->seen[wr * FW_SLOTS + k];
			int ret = gup_load(child, fw_slot_addr(fs->base, wr, k), &v, sizeof(v));
			unsigned ceiling;

			if (ret) {
				err(&fs->errs, "child load writer %u slot %u: %d", wr, k, ret);
				return;
			}
			/* Read after the load: the writer had started the round we saw. */
			ceiling = atomic_load(&fs->wr[wr].started);
			seq = v & SEQ_MASK;
			if (v >> 56 != wr + 1 || ((v >> 40) & 0xffff) != k) {
				err(&fs->errs, "child sees torn/foreign value %#" PRIx64
				    " in writer %u slot %u", v, wr, k);
				return;
			}
			if (seq < floor[wr] || seq > ceiling) {
				err(&fs->errs, "child sees seq %" PRIu64 " in writer %u slot %u, "
				    "expected [%u, %u]", seq, wr, k, floor[wr], ceiling);
				return;
			}
			if (seq < *prev) {
				err(&fs->errs, "child sees seq %" PRIu64 " in writer %u slot %u, an "
				    "earlier child saw %" PRIu64, seq, wr, k, *prev);
				return;
			}
			*prev = seq;
			snap[wr * FW_SLOTS + k] = v;
			fs->checked++;
		}
	}
}

/* The child's memory is a snapshot: whatever the parent's writers did since, it is
 * unchanged (no store through a stale TLB entry leaked into a shared page). */
static void fw_recheck_child(struct fork_stress *fs, struct gup_task *child, const uint64_t *snap,
			     unsigned fork_nr)
{
	for (unsigned wr = 0; wr < FW_WRITERS; wr++) {
		for (unsigned k = 0; k < FW_SLOTS; k++) {
			uint64_t v = 0;
			int ret = gup_load(child, fw_slot_addr(fs->base, wr, k), &v, sizeof(v));

			if (ret || v != snap[wr * FW_SLOTS + k]) {
				err(&fs->errs, "fork %u: child's writer %u slot %u changed from %#" PRIx64
				    " to %#" PRIx64 " (load %d)", fork_nr, wr, k,
				    snap[wr * FW_SLOTS + k], v, ret);
				return;
			}
		}
	}
}

/* Let every writer run: allow FW_PACE more rounds, wait until it completes one. */
static bool fw_let_writers_run(struct fork_stress *fs)
{
	for (unsigned wr = 0; wr < FW_WRITERS; wr++) {
		struct fw_writer *x = &fs->wr[wr];
		unsigned s = atomic_load(&x->started);

		if (atomic_load(&x->allow) < s + FW_PACE)
			atomic_store(&x->allow, s + FW_PACE);
		if (!wait_progress(&x->completed, s, &x->done)) {
			err(&fs->errs, "writer %u made no progress past round %u", wr, s);
			return false;
		}
	}
	return true;
}

static void fw_forker_fn(void *arg)
{
	struct fork_stress *fs = arg;
	unsigned floor[FW_WRITERS];
	uint64_t *snap = calloc((size_t)FW_WRITERS * FW_SLOTS, sizeof(*snap));

	if (!snap) {
		err(&fs->errs, "out of host memory");
		goto out;
	}
	/* Every writer has written every slot once before the first fork. */
	for (unsigned wr = 0; wr < FW_WRITERS; wr++)
		if (!fx_wait_at_least(&fs->wr[wr].completed, 1)) {
			err(&fs->errs, "writer %u never completed a round", wr);
			goto out;
		}
	for (unsigned i = 0; i < fs->nr_forks; i++) {
		struct gup_task *child = NULL;
		int ret;

		for (unsigned wr = 0; wr < FW_WRITERS; wr++)
			floor[wr] = atomic_load(&fs->wr[wr].completed);
		ret = gup_fork(fs->forker, &child);
		if (ret) {
			err(&fs->errs, "fork %u: %d", i, ret);
			goto out;
		}
		fw_check_child(fs, child, floor, snap);
		/* The writers store over every slot again, then the child looks again. */
		if (!fw_let_writers_run(fs))
			goto out;
		fw_recheck_child(fs, child, snap, i);
		gup_task_exit(child);
		atomic_store(&fs->forks_done, i + 1);
		if (!fw_let_writers_run(fs))
			goto out;
		if (atomic_load_explicit(&fs->errs.n, memory_order_relaxed))
			break;
	}
out:
	free(snap);
	atomic_store_explicit(&fs->stop, 1, memory_order_release);
}

static void test_stores_while_forking(void **state)
{
	const char *policy = *state;
	struct gup_world *w = fx_world_new(policy, 1024, 0);
	static struct fork_stress fs;
	struct gup_thread *th[FW_WRITERS + 1];
	struct gup_mm *mm;
	struct gup_mem_info mi;
	size_t free0;
	uint64_t fork0, alloc0, free_ev0;

	memset(&fs, 0, sizeof(fs));
	fs.nr_forks = scaled(50);
	fs.seen = calloc((size_t)FW_WRITERS * FW_SLOTS, sizeof(*fs.seen));
	assert_non_null(fs.seen);
	assert_int_equal(gup_mm_create(w, &mm), 0);
	for (unsigned i = 0; i < FW_WRITERS; i++) {
		fs.wr[i].fs = &fs;
		fs.wr[i].id = i;
		fs.wr[i].t = fx_task_add(mm);
		atomic_store(&fs.wr[i].allow, FW_PACE);
	}
	fs.forker = fx_task_add(mm);
	gup_mm_put(mm);
	fs.base = fx_map_private(fs.forker, FW_PAGES);
	free0 = fx_nr_free(w);
	fork0 = fx_stat(w, GUP_STAT_FORK);
	alloc0 = fx_stat(w, GUP_STAT_FRAME_ALLOC);
	free_ev0 = fx_stat(w, GUP_STAT_FRAME_FREE);

	for (unsigned i = 0; i < FW_WRITERS; i++)
		th[i] = fx_thread_start(w, fw_writer_fn, &fs.wr[i]);
	th[FW_WRITERS] = fx_thread_start(w, fw_forker_fn, &fs);
	for (unsigned i = 0; i <= FW_WRITERS; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);

	assert_no_errors(&fs.errs);
	print_message("%s: %u forks; writer rounds %u/%u/%u; tlb flushes %" PRIu64 "\n", policy,
		      fs.nr_forks, atomic_load(&fs.wr[0].completed), atomic_load(&fs.wr[1].completed),
		      atomic_load(&fs.wr[2].completed), fx_stat(w, GUP_STAT_TLB_FLUSH));
	assert_int_equal(atomic_load(&fs.forks_done), fs.nr_forks);
	assert_int_equal(fs.checked, (uint64_t)fs.nr_forks * FW_WRITERS * FW_SLOTS);

	/* No lost write: every slot holds exactly the last value its writer stored. */
	for (unsigned wr = 0; wr < FW_WRITERS; wr++) {
		for (unsigned k = 0; k < FW_SLOTS; k++) {
			uint64_t v = 0;

			assert_int_equal(gup_load(fs.forker, fw_slot_addr(fs.base, wr, k), &v, sizeof(v)), 0);
			if (v != fs.wr[wr].last[k])
				fail_msg("writer %u slot %u: %#" PRIx64 " in memory, last stored %#" PRIx64,
					 wr, k, v, fs.wr[wr].last[k]);
		}
	}

	fx_check(w);
	assert_int_equal(fx_stat(w, GUP_STAT_FORK) - fork0, fs.nr_forks);
	/* Children are gone: the parent maps its 64 pages and nothing else is in use. */
	mi = fx_meminfo(w);
	assert_int_equal(mi.nr_mms, 1);
	assert_int_equal(mi.nr_tasks, FW_WRITERS + 1);
	assert_int_equal(free0 - mi.nr_free, FW_PAGES);
	assert_int_equal((fx_stat(w, GUP_STAT_FRAME_ALLOC) - alloc0) -
			 (fx_stat(w, GUP_STAT_FRAME_FREE) - free_ev0), FW_PAGES);
	assert_int_equal(fx_mm_info(mm).rss, FW_PAGES);

	for (unsigned i = 0; i < FW_WRITERS; i++)
		gup_task_exit(fs.wr[i].t);
	gup_task_exit(fs.forker);
	free(fs.seen);
	fx_world_done(w);
}

/* ------------------------------------------------------------------------ */
/* Ordering the engine must provide: fork, child exit, COW reuse             */
/* ------------------------------------------------------------------------ */

/*
 * Writers and a forker take turns, and - on purpose - hand over with RELAXED
 * atomics only, so that whatever orders their memory accesses must come from the
 * engine (under TSan a missing edge is reported as a data race on frame bytes):
 *
 *   writers: store round i into all their slots (after child i-1 exited: the PTEs
 *            are write-protected by fork i-1, the pages mapped once again -> the
 *            write faults reuse the pages, no copy)
 *   forker:  fork child i, which must see exactly round i; exit it.
 *
 * Edges needed: a writer's stores happen-before child i's loads (fork's TLB
 * shootdown waits for the writer's irq-off sections: acquire of its irq seq), and
 * child i's loads happen-before the writers' next stores to the same frames (the
 * child's unmap drops the page count; the reuse decision reads it).
 */
#define RE_WRITERS	2
#define RE_PAGES	32
#define RE_SLOTS	(RE_PAGES * 2)	/* per writer */
#define RE_REC		16		/* bytes per slot: {value, ~value}, not single-copy atomic */

struct reuse_ctx;

struct re_writer {
	struct reuse_ctx *c;
	struct gup_task *t;
	unsigned id;
	_Atomic unsigned written;	/* relaxed: last round fully stored */
};

struct reuse_ctx {
	uint64_t base;
	unsigned rounds;
	struct gup_task *forker;
	struct re_writer wr[RE_WRITERS];
	_Atomic unsigned child_gone;	/* relaxed: child i has exited */
	_Atomic int stop;
	uint64_t children_checked;
	struct errlog errs;
};

static uint64_t re_addr(uint64_t base, unsigned id, unsigned k)
{
	return base + (k % RE_PAGES) * PAGE + (uint64_t)((k / RE_PAGES) * RE_WRITERS + id) * RE_REC;
}

static uint64_t re_value(unsigned id, unsigned k, unsigned round)
{
	return ((uint64_t)(id + 1) << 56) | ((uint64_t)k << 40) | round;
}

/* Relaxed spin until *@p >= @want (or stop, or FX_WAIT_NS). */
static bool re_wait(_Atomic unsigned *p, unsigned want, _Atomic int *stop)
{
	struct fx_spin s;

	fx_spin_begin(&s, FX_WAIT_NS, 64);
	while (atomic_load_explicit(p, memory_order_relaxed) < want) {
		if (atomic_load_explicit(stop, memory_order_relaxed))
			return false;
		if (!fx_spin(&s))
			return false;
	}
	return true;
}

static void re_writer_fn(void *arg)
{
	struct re_writer *me = arg;
	struct reuse_ctx *c = me->c;

	for (unsigned i = 1; i <= c->rounds; i++) {
		if (!re_wait(&c->child_gone, i - 1, &c->stop))
			return;
		for (unsigned k = 0; k < RE_SLOTS; k++) {
			uint64_t v[2] = { re_value(me->id, k, i), ~re_value(me->id, k, i) };
			int ret = gup_store(me->t, re_addr(c->base, me->id, k), v, sizeof(v));

			if (ret) {
				err(&c->errs, "writer %u round %u slot %u: %d", me->id, i, k, ret);
				atomic_store_explicit(&c->stop, 1, memory_order_relaxed);
				return;
			}
		}
		atomic_store_explicit(&me->written, i, memory_order_relaxed);
	}
}

static void re_forker_fn(void *arg)
{
	struct reuse_ctx *c = arg;

	for (unsigned i = 1; i <= c->rounds; i++) {
		struct gup_task *child = NULL;
		int ret;

		for (unsigned wr = 0; wr < RE_WRITERS; wr++)
			if (!re_wait(&c->wr[wr].written, i, &c->stop)) {
				if (!atomic_load_explicit(&c->stop, memory_order_relaxed))
					err(&c->errs, "writer %u never wrote round %u", wr, i);
				goto out;
			}
		ret = gup_fork(c->forker, &child);
		if (ret) {
			err(&c->errs, "fork %u: %d", i, ret);
			goto out;
		}
		for (unsigned wr = 0; wr < RE_WRITERS; wr++) {
			for (unsigned k = 0; k < RE_SLOTS; k++) {
				uint64_t v[2] = { 0, 0 };

				ret = gup_load(child, re_addr(c->base, wr, k), v, sizeof(v));
				if (ret || v[0] != re_value(wr, k, i) || v[1] != ~v[0]) {
					err(&c->errs, "child %u: writer %u slot %u holds %#" PRIx64
					    "/%#" PRIx64 ", want %#" PRIx64 " (load %d)", i, wr, k, v[0],
					    v[1], re_value(wr, k, i), ret);
					gup_task_exit(child);
					goto out;
				}
			}
		}
		c->children_checked++;
		gup_task_exit(child);
		atomic_store_explicit(&c->child_gone, i, memory_order_relaxed);
	}
out:
	atomic_store_explicit(&c->stop, 1, memory_order_relaxed);
}

static void test_fork_exit_reuse_ordering(void **state)
{
	const char *policy = *state;
	struct gup_world *w = fx_world_new(policy, 256, 0);
	static struct reuse_ctx c;
	struct gup_thread *th[RE_WRITERS + 1];
	struct gup_mm *mm;
	uint64_t reuse0, copy0;

	memset(&c, 0, sizeof(c));
	c.rounds = scaled(200);
	assert_int_equal(gup_mm_create(w, &mm), 0);
	for (unsigned i = 0; i < RE_WRITERS; i++) {
		c.wr[i].c = &c;
		c.wr[i].id = i;
		c.wr[i].t = fx_task_add(mm);
	}
	c.forker = fx_task_add(mm);
	gup_mm_put(mm);
	c.base = fx_map_private(c.forker, RE_PAGES);
	reuse0 = fx_stat(w, GUP_STAT_COW_REUSE);
	copy0 = fx_stat(w, GUP_STAT_COW_COPY);

	for (unsigned i = 0; i < RE_WRITERS; i++)
		th[i] = fx_thread_start(w, re_writer_fn, &c.wr[i]);
	th[RE_WRITERS] = fx_thread_start(w, re_forker_fn, &c);
	for (unsigned i = 0; i <= RE_WRITERS; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);
	assert_no_errors(&c.errs);
	assert_int_equal(c.children_checked, c.rounds);
	/* Each page is write-protected by every fork but the last and reused, never copied. */
	assert_int_equal(fx_stat(w, GUP_STAT_COW_COPY) - copy0, 0);
	assert_int_equal(fx_stat(w, GUP_STAT_COW_REUSE) - reuse0, (uint64_t)(c.rounds - 1) * RE_PAGES);
	for (unsigned wr = 0; wr < RE_WRITERS; wr++)
		for (unsigned k = 0; k < RE_SLOTS; k++) {
			uint64_t v[2] = { 0, 0 };

			assert_int_equal(gup_load(c.forker, re_addr(c.base, wr, k), v, sizeof(v)), 0);
			assert_int_equal(v[0], re_value(wr, k, c.rounds));
			assert_int_equal(v[1], ~v[0]);
		}
	fx_check(w);
	for (unsigned i = 0; i < RE_WRITERS; i++)
		gup_task_exit(c.wr[i].t);
	gup_task_exit(c.forker);
	fx_world_done(w);
}

/* ------------------------------------------------------------------------ */
/* Concurrent faults on the same fresh pages                                */
/* ------------------------------------------------------------------------ */

#define CF_TASKS	4
#define CF_PAGES	128

struct cf_ctx;

struct cf_task {
	struct cf_ctx *c;
	struct gup_task *t;
	unsigned id;
};

struct cf_ctx {
	uint64_t base;
	unsigned round;
	bool read_first;	/* odd tasks load every page before storing */
	_Atomic unsigned ready;
	struct cf_task tk[CF_TASKS];
	struct errlog errs;
};

static uint64_t cf_value(unsigned id, unsigned page, unsigned round)
{
	return ((uint64_t)(id + 1) << 56) | ((uint64_t)round << 24) | page;
}

static void cf_fn(void *arg)
{
	struct cf_task *me = arg;
	struct cf_ctx *c = me->c;

	/* Start together so the first touches of each page collide. */
	atomic_fetch_add(&c->ready, 1);
	if (!fx_wait_at_least(&c->ready, CF_TASKS)) {
		err(&c->errs, "task %u: start barrier timed out", me->id);
		return;
	}
	if (c->read_first && (me->id & 1)) {
		for (unsigned p = 0; p < CF_PAGES; p++) {
			uint64_t v = 0;
			int ret = gup_load(me->t, c->base + p * PAGE + me->id * 8, &v, sizeof(v));

			if (ret || v != 0)
				err(&c->errs, "task %u: first load of page %u: %d, %#" PRIx64,
				    me->id, p, ret, v);
		}
	}
	for (unsigned p = 0; p < CF_PAGES; p++) {
		uint64_t v = cf_value(me->id, p, c->round), back = 0;
		uint64_t a = c->base + p * PAGE + me->id * 8;
		int ret = gup_store(me->t, a, &v, sizeof(v));

		if (!ret)
			ret = gup_load(me->t, a, &back, sizeof(back));
		if (ret || back != v)
			err(&c->errs, "task %u page %u: %d, read back %#" PRIx64, me->id, p, ret, back);
	}
}

static void run_cf_round(struct gup_world *w, struct cf_ctx *c, bool read_first)
{
	struct gup_thread *th[CF_TASKS];
	uint64_t s0[GUP_NR_STATS], s1[GUP_NR_STATS];
	size_t free0 = fx_nr_free(w);

	c->read_first = read_first;
	atomic_store(&c->ready, 0);
	c->base = fx_map_private(c->tk[0].t, CF_PAGES);
	fx_stats(w, s0);
	for (unsigned i = 0; i < CF_TASKS; i++)
		th[i] = fx_thread_start(w, cf_fn, &c->tk[i]);
	for (unsigned i = 0; i < CF_TASKS; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);
	assert_no_errors(&c->errs);
	fx_stats(w, s1);

	/* Each page got exactly one frame, and every task's slot survived. */
	if (read_first)
		assert_int_equal((s1[GUP_STAT_FAULT_ANON_WRITE] - s0[GUP_STAT_FAULT_ANON_WRITE]) +
				 (s1[GUP_STAT_COW_ZERO] - s0[GUP_STAT_COW_ZERO]), CF_PAGES);
	else
		assert_int_equal(s1[GUP_STAT_FAULT_ANON_WRITE] - s0[GUP_STAT_FAULT_ANON_WRITE], CF_PAGES);
	assert_int_equal((s1[GUP_STAT_FRAME_ALLOC] - s0[GUP_STAT_FRAME_ALLOC]) -
			 (s1[GUP_STAT_FRAME_FREE] - s0[GUP_STAT_FRAME_FREE]), CF_PAGES);
	assert_int_equal(free0 - fx_nr_free(w), CF_PAGES);
	for (unsigned p = 0; p < CF_PAGES; p++) {
		for (unsigned id = 0; id < CF_TASKS; id++) {
			uint64_t v = 0;

			assert_int_equal(gup_load(c->tk[(id + 1) % CF_TASKS].t,
						  c->base + p * PAGE + id * 8, &v, sizeof(v)), 0);
			if (v != cf_value(id, p, c->round))
				fail_msg("round %u page %u task %u: %#" PRIx64 ", want %#" PRIx64,
					 c->round, p, id, v, cf_value(id, p, c->round));
		}
	}
	fx_check(w);
	assert_int_equal(gup_munmap(c->tk[0].t, c->base, CF_PAGES * PAGE), 0);
	assert_int_equal(fx_nr_free(w), free0);
}

static void test_concurrent_first_touch(void **state)
{
	const char *policy = *state;
	struct gup_world *w = fx_world_new(policy, 1024, 0);
	static struct cf_ctx c;
	struct gup_mm *mm;
	unsigned rounds = scaled(40);

	memset(&c, 0, sizeof(c));
	assert_int_equal(gup_mm_create(w, &mm), 0);
	for (unsigned i = 0; i < CF_TASKS; i++) {
		c.tk[i].c = &c;
		c.tk[i].id = i;
		c.tk[i].t = fx_task_add(mm);
	}
	gup_mm_put(mm);
	for (c.round = 1; c.round <= rounds; c.round++)
		run_cf_round(w, &c, c.round % 2 == 0);
	for (unsigned i = 0; i < CF_TASKS; i++)
		gup_task_exit(c.tk[i].t);
	fx_world_done(w);
}

/* ------------------------------------------------------------------------ */
/* munmap/mmap churn next to a stable region                                */
/* ------------------------------------------------------------------------ */

#define CH_USERS	2
#define CH_STABLE	32	/* pages */
#define CH_CHURN	16	/* pages */
#define CH_TAG		(UINT64_C(0xC0DE) << 48)
#define CH_MAX_ROUNDS	200000u

struct churn_ctx;

struct churn_user {
	struct churn_ctx *c;
	struct gup_task *t;
	unsigned id;
	uint64_t last[CH_STABLE];	/* owner: last value stored per stable slot */
	uint64_t churn_ok, churn_fault;	/* owner: outcomes in the churned region   */
	_Atomic unsigned passes;	/* completed passes over both regions       */
	_Atomic int done;		/* the thread has returned                  */
};

struct churn_ctx {
	uint64_t stable, churn;
	unsigned nr_iter;
	struct gup_task *churner;
	struct churn_user u[CH_USERS];
	_Atomic unsigned gen;		/* churner: generation being written */
	_Atomic int stop;
	_Atomic unsigned users_started;
	struct errlog errs;
};

static uint64_t ch_user_value(unsigned id, uint64_t seq)
{
	return ((uint64_t)(id + 1) << 56) | seq;
}

static void churner_fn(void *arg)
{
	struct churn_ctx *c = arg;
	uint64_t addr = 0;

	if (!fx_wait_at_least(&c->users_started, CH_USERS))
		err(&c->errs, "users never started");
	for (unsigned g = 1; g <= c->nr_iter; g++) {
		int flags = MAP_ANON_PRIV, ret;

		/* Every 8 generations, let the users catch up: real overlap. */
		for (unsigned i = 0; g % 8 == 0 && i < CH_USERS; i++) {
			struct churn_user *u = &c->u[i];

			if (!wait_progress(&u->passes, g / 2 - 1, &u->done)) {
				err(&c->errs, "user %u made no progress (gen %u)", i, g);
				goto out;
			}
		}

		if (g % 2) {
			ret = gup_munmap(c->churner, c->churn, CH_CHURN * PAGE);
			if (ret) {
				err(&c->errs, "churn munmap %u: %d", g, ret);
				break;
			}
			flags |= GUP_MAP_FIXED_NOREPLACE;
		} else {
			flags |= GUP_MAP_FIXED;		/* replaces the old mapping in one call */
		}
		ret = gup_mmap(c->churner, c->churn, CH_CHURN * PAGE, PROT_RW, flags, &addr);
		if (ret || addr != c->churn) {
			err(&c->errs, "churn mmap %u: %d at %#" PRIx64, g, ret, addr);
			break;
		}
		atomic_store(&c->gen, g);
		for (unsigned p = 0; p < CH_CHURN; p += 1 + (g % 3)) {
			uint64_t v = CH_TAG | g;

			ret = gup_store(c->churner, c->churn + p * PAGE, &v, sizeof(v));
			if (ret) {
				err(&c->errs, "churner store gen %u page %u: %d", g, p, ret);
				goto out;
			}
		}
	}
out:
	atomic_store_explicit(&c->stop, 1, memory_order_release);
}

static void churn_user_loop(struct churn_user *me);

static void churn_user_fn(void *arg)
{
	struct churn_user *me = arg;

	atomic_fetch_add(&me->c->users_started, 1);
	churn_user_loop(me);
	atomic_store_explicit(&me->done, 1, memory_order_release);
}

static void churn_user_loop(struct churn_user *me)
{
	struct churn_ctx *c = me->c;

	for (uint64_t seq = 1; seq <= CH_MAX_ROUNDS; seq++) {
		if (atomic_load_explicit(&c->stop, memory_order_acquire))
			break;
		/* At most 4 passes per generation. */
		wait_pace(&c->gen, (unsigned)((seq - 1) / 4), &c->stop);
		/* Stable region: our slot of every page, stored and read back. */
		for (unsigned p = 0; p < CH_STABLE; p++) {
			uint64_t a = c->stable + p * PAGE + me->id * 8;
			uint64_t v = ch_user_value(me->id, seq), back = 0;
			int ret = gup_store(me->t, a, &v, sizeof(v));

			if (!ret)
				ret = gup_load(me->t, a, &back, sizeof(back));
			if (ret || back != v) {
				err(&c->errs, "user %u stable page %u: %d, %#" PRIx64 " != %#" PRIx64,
				    me->id, p, ret, back, v);
				return;
			}
			me->last[p] = v;
		}
		/* Churned region: data or -EFAULT, never anything else. */
		for (unsigned p = 0; p < CH_CHURN; p++) {
			uint64_t a = c->churn + p * PAGE;
			uint64_t v = 0, mine = ch_user_value(me->id, seq);
			unsigned g;
			int ret = gup_load(me->t, a, &v, sizeof(v));

			g = atomic_load(&c->gen);
			if (ret == 0 && v != 0 &&
			    ((v & ~UINT64_C(0xffffffff)) != CH_TAG || (v & 0xffffffff) > g)) {
				err(&c->errs, "user %u churn page %u: foreign value %#" PRIx64
				    " (gen %u)", me->id, p, v, g);
				return;
			}
			if (ret != 0 && ret != -EFAULT) {
				err(&c->errs, "user %u churn load page %u: %d", me->id, p, ret);
				return;
			}
			ret = gup_store(me->t, a + 8 + me->id * 8, &mine, sizeof(mine));
			if (ret != 0 && ret != -EFAULT) {
				err(&c->errs, "user %u churn store page %u: %d", me->id, p, ret);
				return;
			}
			if (ret == 0)
				me->churn_ok++;
			else
				me->churn_fault++;
			v = 0;
			ret = gup_load(me->t, a + 8 + me->id * 8, &v, sizeof(v));
			if (ret == 0 && v != 0 && (v >> 56 != me->id + 1 || (v & SEQ_MASK) > seq)) {
				err(&c->errs, "user %u churn page %u: own slot holds %#" PRIx64,
				    me->id, p, v);
				return;
			}
			if (ret != 0 && ret != -EFAULT) {
				err(&c->errs, "user %u churn reload page %u: %d", me->id, p, ret);
				return;
			}
		}
		atomic_fetch_add(&me->passes, 1);
	}
}

static void test_munmap_churn(void **state)
{
	const char *policy = *state;
	struct gup_world *w = fx_world_new(policy, 512, 0);
	static struct churn_ctx c;
	struct gup_thread *th[CH_USERS + 1];
	struct gup_mm *mm;
	size_t free_before;

	memset(&c, 0, sizeof(c));
	c.nr_iter = scaled(2000);
	free_before = fx_nr_free(w);
	assert_int_equal(gup_mm_create(w, &mm), 0);
	c.churner = fx_task_add(mm);
	for (unsigned i = 0; i < CH_USERS; i++) {
		c.u[i].c = &c;
		c.u[i].id = i;
		c.u[i].t = fx_task_add(mm);
	}
	gup_mm_put(mm);
	c.stable = fx_map_private(c.churner, CH_STABLE);
	c.churn = fx_map_private(c.churner, CH_CHURN);

	for (unsigned i = 0; i < CH_USERS; i++)
		th[i] = fx_thread_start(w, churn_user_fn, &c.u[i]);
	th[CH_USERS] = fx_thread_start(w, churner_fn, &c);
	for (unsigned i = 0; i <= CH_USERS; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);
	assert_no_errors(&c.errs);
	print_message("%s: %u remaps; churned accesses ok/fault %" PRIu64 "/%" PRIu64 ", %" PRIu64
		      "/%" PRIu64 "\n", policy, c.nr_iter, c.u[0].churn_ok, c.u[0].churn_fault,
		      c.u[1].churn_ok, c.u[1].churn_fault);
	assert_int_equal(atomic_load(&c.gen), c.nr_iter);

	for (unsigned i = 0; i < CH_USERS; i++) {
		/* Bounded loop ran: some accesses to the churned region were made. */
		assert_true(c.u[i].churn_ok + c.u[i].churn_fault > 0);
		for (unsigned p = 0; p < CH_STABLE; p++) {
			uint64_t v = 0;

			assert_int_equal(gup_load(c.churner, c.stable + p * PAGE + i * 8, &v, sizeof(v)), 0);
			assert_int_equal(v, c.u[i].last[p]);
		}
	}
	fx_check(w);

	for (unsigned i = 0; i < CH_USERS; i++)
		gup_task_exit(c.u[i].t);
	gup_task_exit(c.churner);
	assert_int_equal(fx_nr_free(w), free_before);
	fx_world_done(w);
}

/* ------------------------------------------------------------------------ */
/* mprotect toggling while others store                                     */
/* ------------------------------------------------------------------------ */

#define MP_USERS	2
#define MP_PAGES	8
#define MP_SLOTS	(MP_PAGES * 4)	/* per user */
#define MP_MAX_ROUNDS	400000u

struct mp_ctx;

struct mp_user {
	struct mp_ctx *c;
	struct gup_task *t;
	unsigned id;
	uint64_t last[MP_SLOTS];	/* owner: last value stored successfully (0: none) */
	uint64_t ok, fault;
	_Atomic unsigned passes;
	_Atomic int done;
};

struct mp_ctx {
	uint64_t base;
	unsigned nr_toggles;
	struct gup_task *toggler;
	struct mp_user u[MP_USERS];
	_Atomic unsigned toggles;
	_Atomic int stop;
	_Atomic unsigned users_started;
	struct errlog errs;
};

static uint64_t mp_slot_addr(uint64_t base, unsigned id, unsigned k)
{
	return base + (k % MP_PAGES) * PAGE + (uint64_t)((k / MP_PAGES) * MP_USERS + id) * 8;
}

static void toggler_fn(void *arg)
{
	struct mp_ctx *c = arg;

	if (!fx_wait_at_least(&c->users_started, MP_USERS))
		err(&c->errs, "users never started");
	for (unsigned i = 0; i < c->nr_toggles; i++) {
		int prot = (i % 2 == 0) ? GUP_PROT_READ : PROT_RW;
		/* Sometimes only part of the region: VMAs split and merge back. */
		uint64_t off = (i % 3 == 0) ? 2 * PAGE : 0;
		int ret;

		/* Every 8 toggles, let each user complete a pass: real overlap. */
		for (unsigned j = 0; i % 8 == 0 && j < MP_USERS; j++) {
			struct mp_user *u = &c->u[j];

			if (!wait_progress(&u->passes, i / 2, &u->done)) {
				err(&c->errs, "user %u made no progress (toggle %u)", j, i);
				goto out;
			}
		}
		ret = gup_mprotect(c->toggler, c->base + off, MP_PAGES * PAGE - off, prot);
		if (ret) {
			err(&c->errs, "mprotect %u: %d", i, ret);
			break;
		}
		atomic_store(&c->toggles, i + 1);
	}
out:
	if (gup_mprotect(c->toggler, c->base, MP_PAGES * PAGE, PROT_RW))
		err(&c->errs, "final mprotect failed");
	atomic_store_explicit(&c->stop, 1, memory_order_release);
}

static void mp_user_loop(struct mp_user *me);

static void mp_user_fn(void *arg)
{
	struct mp_user *me = arg;

	atomic_fetch_add(&me->c->users_started, 1);
	mp_user_loop(me);
	atomic_store_explicit(&me->done, 1, memory_order_release);
}

static void mp_user_loop(struct mp_user *me)
{
	struct mp_ctx *c = me->c;

	for (uint64_t seq = 1; seq <= MP_MAX_ROUNDS; seq++) {
		if (atomic_load_explicit(&c->stop, memory_order_acquire))
			break;
		/* At most 2 passes per toggle. */
		wait_pace(&c->toggles, (unsigned)((seq - 1) / 2), &c->stop);
		for (unsigned k = 0; k < MP_SLOTS; k++) {
			uint64_t a = mp_slot_addr(c->base, me->id, k);
			uint64_t v = ((uint64_t)(me->id + 1) << 56) | ((uint64_t)k << 40) | seq, back = 0;
			int ret = gup_store(me->t, a, &v, sizeof(v));

			if (ret == 0) {
				me->last[k] = v;
				me->ok++;
			} else if (ret == -EFAULT) {
				me->fault++;
			} else {
				err(&c->errs, "user %u slot %u: store returned %d", me->id, k, ret);
				return;
			}
			/* Reading is always allowed, and shows exactly the last successful store. */
			ret = gup_load(me->t, a, &back, sizeof(back));
			if (ret || back != me->last[k]) {
				err(&c->errs, "user %u slot %u: load %d gives %#" PRIx64 ", last stored %#"
				    PRIx64, me->id, k, ret, back, me->last[k]);
				return;
			}
		}
		atomic_fetch_add(&me->passes, 1);
	}
}

static void test_mprotect_toggle(void **state)
{
	const char *policy = *state;
	struct gup_world *w = fx_world_new(policy, 256, 0);
	static struct mp_ctx c;
	struct gup_thread *th[MP_USERS + 1];
	struct gup_mm *mm;
	struct gup_mm_info info;

	memset(&c, 0, sizeof(c));
	c.nr_toggles = scaled(4000);
	assert_int_equal(gup_mm_create(w, &mm), 0);
	c.toggler = fx_task_add(mm);
	for (unsigned i = 0; i < MP_USERS; i++) {
		c.u[i].c = &c;
		c.u[i].id = i;
		c.u[i].t = fx_task_add(mm);
	}
	gup_mm_put(mm);
	c.base = fx_map_private(c.toggler, MP_PAGES);

	for (unsigned i = 0; i < MP_USERS; i++)
		th[i] = fx_thread_start(w, mp_user_fn, &c.u[i]);
	th[MP_USERS] = fx_thread_start(w, toggler_fn, &c);
	for (unsigned i = 0; i <= MP_USERS; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);
	assert_no_errors(&c.errs);
	print_message("%s: %u toggles; stores ok/fault %" PRIu64 "/%" PRIu64 ", %" PRIu64 "/%" PRIu64
		      "\n", policy, c.nr_toggles, c.u[0].ok, c.u[0].fault, c.u[1].ok, c.u[1].fault);

	/* RW again: every slot holds its last successful store, and stores work. */
	for (unsigned i = 0; i < MP_USERS; i++) {
		assert_true(c.u[i].ok > 0);
		for (unsigned k = 0; k < MP_SLOTS; k++) {
			uint64_t a = mp_slot_addr(c.base, i, k), v = 0;

			assert_int_equal(gup_load(c.toggler, a, &v, sizeof(v)), 0);
			if (v != c.u[i].last[k])
				fail_msg("user %u slot %u: %#" PRIx64 " in memory, last stored %#" PRIx64,
					 i, k, v, c.u[i].last[k]);
			v = ~v;
			assert_int_equal(gup_store(c.u[i].t, a, &v, sizeof(v)), 0);
		}
	}
	info = fx_mm_info(mm);
	assert_int_equal(info.nr_vmas, 1);	/* the splits merged back */
	assert_int_equal(info.rss, MP_PAGES);
	fx_check(w);

	for (unsigned i = 0; i < MP_USERS; i++)
		gup_task_exit(c.u[i].t);
	gup_task_exit(c.toggler);
	fx_world_done(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_POLICY_STATE_TESTS(test_stores_while_forking),
		FX_POLICY_STATE_TESTS(test_fork_exit_reuse_ordering),
		FX_POLICY_STATE_TESTS(test_concurrent_first_touch),
		FX_POLICY_STATE_TESTS(test_munmap_churn),
		FX_POLICY_STATE_TESTS(test_mprotect_toggle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
