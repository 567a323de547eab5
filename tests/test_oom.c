/* SPDX-License-Identifier: MIT */
/*
 * tests/test_oom.c - running out of frames: every path that allocates a frame
 * (anonymous fault, COW copy, fork's early copy of a maybe-pinned page, populate)
 * fails cleanly with -ENOMEM, changes nothing it should not, and recovers once
 * memory is freed.
 *
 * Page tables come from a host-malloc'd pool, not from the frame arena, so
 * exhausting frames never starves the table allocator; failing a table
 * allocation is not injectable and is not tested here.
 *
 * A FOLL_PIN is simulated as GUP does it for a small page: GUP_PIN_COUNTING_BIAS
 * references, MMF_HAS_PINNED on the mm, and the nr_foll_pin_acquired counter (so
 * that gup_world_check can account for the extra references).
 */
#define _GNU_SOURCE	/* sched_yield */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "mm/mm.h"
#include "world.h"

#define PROT_RW		(GUP_PROT_READ | GUP_PROT_WRITE)
#define MAP_ANON_PRIV	(GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS)
#define PAGE		GUP_PAGE_SIZE
#define WAIT_NS		(UINT64_C(20) * 1000 * 1000 * 1000)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static struct gup_world *world_new(const char *policy, size_t nr_frames, size_t nr_movable)
{
	struct gup_world_config cfg = {
		.nr_frames = nr_frames,
		.nr_movable = nr_movable,
		.policy = policy,
	};
	struct gup_world *w = NULL;

	assert_int_equal(gup_world_create(&cfg, &w), 0);
	assert_non_null(w);
	return w;
}

static struct gup_task *task_new(struct gup_world *w)
{
	struct gup_mm *mm;
	struct gup_task *t = NULL;

	assert_int_equal(gup_mm_create(w, &mm), 0);
	assert_int_equal(gup_task_create(mm, &t), 0);
	gup_mm_put(mm);
	return t;
}

static uint64_t map_rw(struct gup_task *t, size_t nr_pages, int extra_flags)
{
	uint64_t addr = 0;

	assert_int_equal(gup_mmap(t, 0, nr_pages * PAGE, PROT_RW, MAP_ANON_PRIV | extra_flags, &addr), 0);
	return addr;
}

static uint64_t stat_of(struct gup_world *w, enum gup_stat_item item)
{
	uint64_t s[GUP_NR_STATS];

	assert_int_equal(gup_world_stats(w, s), 0);
	return s[item];
}

#define DELTA(w, before, item)	(stat_of((w), (item)) - (before)[(item)])

static void snap(struct gup_world *w, uint64_t *s)
{
	assert_int_equal(gup_world_stats(w, s), 0);
}

static struct gup_mem_info meminfo(struct gup_world *w)
{
	struct gup_mem_info mi;

	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	return mi;
}

static size_t rss_of(struct gup_task *t)
{
	struct gup_mm_info info;

	assert_int_equal(gup_mm_info(gup_task_mm(t), &info), 0);
	return info.rss;
}

static int store_u64(struct gup_task *t, uint64_t addr, uint64_t v)
{
	return gup_store(t, addr, &v, sizeof(v));
}

static uint64_t load_u64(struct gup_task *t, uint64_t addr)
{
	uint64_t v = ~UINT64_C(0);

	assert_int_equal(gup_load(t, addr, &v, sizeof(v)), 0);
	return v;
}

static uint64_t page_value(uint64_t tag, size_t i)
{
	return (tag << 32) | (i + 1);
}

/*
 * Store one value per page of [addr, addr + nr_pages pages) until a store fails;
 * returns how many pages were stored, and the failing store's result in *@ret.
 */
static size_t fill_until_fail(struct gup_task *t, uint64_t addr, size_t nr_pages, uint64_t tag,
			      int *ret)
{
	size_t i;

	*ret = 0;
	for (i = 0; i < nr_pages; i++) {
		*ret = store_u64(t, addr + i * PAGE, page_value(tag, i));
		if (*ret)
			break;
	}
	return i;
}

static void check_clean(struct gup_world *w)
{
	assert_int_equal(gup_world_check(w, NULL), 0);
}

static void world_done(struct gup_world *w)
{
	check_clean(w);
	assert_int_equal(gup_world_destroy(w), 0);
}

/* The FOLL_PIN simulation on the page mapped at @addr. */
static struct page *sim_pin(struct gup_task *t, uint64_t addr)
{
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_world *w = mm->w;
	int64_t pfn = gup_mm_pfn(mm, addr);
	struct page *page;

	assert_true(pfn > 0);
	page = pfn_to_page(&w->arena, (uint64_t)pfn);
	page_ref_add(page, GUP_PIN_COUNTING_BIAS);
	set_bit(MMF_HAS_PINNED, &mm->flags);
	count_vm_event(w, GUP_STAT_PIN_ACQUIRED);
	assert_true(page_maybe_dma_pinned(page));
	return page;
}

static void sim_unpin(struct gup_world *w, struct page *page)
{
	page_ref_sub(w, page, GUP_PIN_COUNTING_BIAS);
	count_vm_event(w, GUP_STAT_PIN_RELEASED);
}

/* ------------------------------------------------------------------------ */
/* Out of frames is a clean -ENOMEM                                         */
/* ------------------------------------------------------------------------ */

static void test_out_of_frames(void **state)
{
	const char *policy = *state;
	/* Both zones: movable allocations fall back to ZONE_NORMAL before failing. */
	struct gup_world *w = world_new(policy, 64, 24);
	struct gup_task *t = task_new(w);
	size_t free0 = meminfo(w).nr_free, n, n2;
	uint64_t s[GUP_NR_STATS], addr, v = 0;
	int ret;

	assert_int_equal(free0, 63);	/* every frame but the zero page */
	addr = map_rw(t, 128, 0);
	snap(w, s);
	n = fill_until_fail(t, addr, 128, 1, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(n, free0);
	assert_int_equal(meminfo(w).nr_free, 0);
	assert_int_equal(meminfo(w).nr_movable_free, 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_OOM), 1);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_ANON_WRITE), n);
	assert_int_equal(rss_of(t), n);
	assert_int_equal(gup_mm_pfn(gup_task_mm(t), addr + n * PAGE), -EFAULT);	/* nothing mapped */
	check_clean(w);

	/* Everything stored is there; reading the failed page needs no frame (zero page). */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(load_u64(t, addr + i * PAGE), page_value(1, i));
	assert_int_equal(load_u64(t, addr + n * PAGE), 0);
	assert_int_equal(rss_of(t), n);
	/* Writing it still needs one: the zero page's COW fails the same way. */
	snap(w, s);
	assert_int_equal(store_u64(t, addr + n * PAGE, 5), -ENOMEM);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_OOM), 1);
	assert_int_equal(load_u64(t, addr + n * PAGE), 0);
	/* Stores to pages that have frames are unaffected. */
	assert_int_equal(store_u64(t, addr + 8, 0x77), 0);
	/* A multi-page store copies up to the faulting page, then reports -ENOMEM. */
	{
		uint8_t buf[2 * 4096];

		memset(buf, 0xab, sizeof(buf));
		assert_int_equal(gup_store(t, addr + (n - 1) * PAGE, buf, sizeof(buf)), -ENOMEM);
		assert_int_equal(load_u64(t, addr + (n - 1) * PAGE), UINT64_C(0xabababababababab));
		assert_int_equal(load_u64(t, addr + n * PAGE), 0);
	}
	check_clean(w);

	/* munmap gives every frame back, and stores work again. */
	snap(w, s);
	assert_int_equal(gup_munmap(t, addr, 128 * PAGE), 0);
	assert_int_equal(meminfo(w).nr_free, free0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FRAME_FREE), n);
	assert_int_equal(rss_of(t), 0);
	assert_int_equal(gup_load(t, addr, &v, sizeof(v)), -EFAULT);
	addr = map_rw(t, 128, 0);
	n2 = fill_until_fail(t, addr, 128, 2, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(n2, free0);
	for (size_t i = 0; i < n2; i++)
		assert_int_equal(load_u64(t, addr + i * PAGE), page_value(2, i));
	assert_int_equal(gup_munmap(t, addr, 128 * PAGE), 0);
	assert_int_equal(meminfo(w).nr_free, free0);

	gup_task_exit(t);
	world_done(w);
}

/* Several tasks exhausting memory at once: together they get every frame, no more. */

#define EX_TASKS	4
#define EX_PAGES	64	/* per task: together more than the world has */

struct ex_ctx;

struct ex_task {
	struct ex_ctx *c;
	struct gup_task *t;
	uint64_t base;
	size_t stored;
	int last_ret;
};

struct ex_ctx {
	struct ex_task tk[EX_TASKS];
	_Atomic unsigned ready;
	_Atomic unsigned bad;
};

static void ex_fn(void *arg)
{
	struct ex_task *me = arg;
	uint64_t end = 0;
	unsigned spins = 0;
	struct timespec ts;

	atomic_fetch_add_explicit(&me->c->ready, 1, memory_order_relaxed);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + WAIT_NS;
	while (atomic_load(&me->c->ready) < EX_TASKS) {
		if (++spins % 64 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec > end) {
				atomic_fetch_add_explicit(&me->c->bad, 1, memory_order_relaxed);
				return;
			}
			sched_yield();
		}
	}
	me->stored = fill_until_fail(me->t, me->base, EX_PAGES, 3, &me->last_ret);
}

static void test_out_of_frames_concurrent(void **state)
{
	const char *policy = *state;
	struct gup_world *w = world_new(policy, 128, 64);
	struct gup_mm *mm;
	static struct ex_ctx c;
	struct gup_thread *th[EX_TASKS];
	size_t free0 = meminfo(w).nr_free, total = 0;

	memset(&c, 0, sizeof(c));
	assert_int_equal(gup_mm_create(w, &mm), 0);
	for (int i = 0; i < EX_TASKS; i++) {
		c.tk[i].c = &c;
		assert_int_equal(gup_task_create(mm, &c.tk[i].t), 0);
		c.tk[i].base = map_rw(c.tk[i].t, EX_PAGES, 0);
	}
	gup_mm_put(mm);
	for (int i = 0; i < EX_TASKS; i++)
		assert_int_equal(gup_thread_start(w, ex_fn, &c.tk[i], &th[i]), 0);
	for (int i = 0; i < EX_TASKS; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);
	assert_int_equal(atomic_load(&c.bad), 0);

	for (int i = 0; i < EX_TASKS; i++) {
		/* Each task either filled its region or met -ENOMEM, nothing else. */
		if (c.tk[i].stored < EX_PAGES)
			assert_int_equal(c.tk[i].last_ret, -ENOMEM);
		else
			assert_int_equal(c.tk[i].last_ret, 0);
		total += c.tk[i].stored;
		for (size_t p = 0; p < c.tk[i].stored; p++)
			assert_int_equal(load_u64(c.tk[i].t, c.tk[i].base + p * PAGE), page_value(3, p));
	}
	assert_int_equal(total, free0);
	assert_int_equal(meminfo(w).nr_free, 0);
	assert_int_equal(rss_of(c.tk[0].t), free0);
	check_clean(w);

	for (int i = 0; i < EX_TASKS; i++)
		gup_task_exit(c.tk[i].t);
	assert_int_equal(meminfo(w).nr_free, free0);
	world_done(w);
}

/* ------------------------------------------------------------------------ */
/* fork when frames are exhausted                                           */
/* ------------------------------------------------------------------------ */

/*
 * linux-6.x copies a maybe-pinned exclusive page for the child at fork.  With no
 * frame free, fork fails with -ENOMEM and the parent is as it was: its data, its
 * single task, and - the pages fork had already shared being exclusive to it again -
 * stores that need no frame.
 */
static void test_fork_pinned_no_frames(void **state)
{
	struct gup_world *w = world_new("linux-6.x", 64, 0);
	struct gup_task *t = task_new(w), *child = NULL;
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_mem_info before;
	struct page *pinned;
	uint64_t s[GUP_NR_STATS], a, b;
	size_t nb;
	int ret;

	(void)state;
	a = map_rw(t, 4, 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(store_u64(t, a + i * PAGE, page_value(0xa, i)), 0);
	pinned = sim_pin(t, a + PAGE);
	check_clean(w);

	/* Fill the rest of memory (B lies below A: fork shares all of it first). */
	b = map_rw(t, 64, 0);
	assert_true(b < a);
	nb = fill_until_fail(t, b, 64, 0xb, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(meminfo(w).nr_free, 0);

	before = meminfo(w);
	snap(w, s);
	assert_int_equal(gup_fork(t, &child), -ENOMEM);
	assert_null(child);
	assert_int_equal(DELTA(w, s, GUP_STAT_FORK), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(meminfo(w).nr_mms, before.nr_mms);
	assert_int_equal(meminfo(w).nr_tasks, before.nr_tasks);
	assert_int_equal(meminfo(w).nr_free, 0);
	assert_int_equal(rss_of(t), 4 + nb);
	check_clean(w);

	/* The parent's data is intact. */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(load_u64(t, a + i * PAGE), page_value(0xa, i));
	for (size_t i = 0; i < nb; i++)
		assert_int_equal(load_u64(t, b + i * PAGE), page_value(0xb, i));
	/* The pinned page was never write-protected: a store to it hits. */
	snap(w, s);
	assert_int_equal(store_u64(t, a + PAGE + 8, 1), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT), 0);
	/* Pages fork shared before failing are the parent's alone again: reuse, no frame. */
	snap(w, s);
	for (size_t i = 0; i < nb; i++)
		assert_int_equal(store_u64(t, b + i * PAGE + 8, i), 0);
	assert_int_equal(store_u64(t, a + 8, 2), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_OOM), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FRAME_ALLOC), 0);
	assert_int_equal(gup_mm_pfn(mm, a + PAGE), (int64_t)page_to_pfn(&w->arena, pinned));
	check_clean(w);

	/* Unpinned, fork copies nothing early and succeeds with no frame free. */
	sim_unpin(w, pinned);
	check_clean(w);
	snap(w, s);
	assert_int_equal(gup_fork(t, &child), 0);
	assert_non_null(child);
	assert_int_equal(DELTA(w, s, GUP_STAT_FORK), 1);
	assert_int_equal(DELTA(w, s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(load_u64(child, a + 2 * PAGE), page_value(0xa, 2));
	assert_int_equal(load_u64(child, b), page_value(0xb, 0));
	check_clean(w);
	gup_task_exit(child);

	gup_task_exit(t);
	world_done(w);
}

/* linux-2.6.29 shares the pinned page like any other: the same fork needs no frame. */
static void test_fork_pinned_no_frames_2629(void **state)
{
	struct gup_world *w = world_new("linux-2.6.29", 64, 0);
	struct gup_task *t = task_new(w), *child = NULL;
	struct page *pinned;
	uint64_t s[GUP_NR_STATS], a, b;
	int ret;

	(void)state;
	a = map_rw(t, 4, 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(store_u64(t, a + i * PAGE, page_value(0xa, i)), 0);
	pinned = sim_pin(t, a + PAGE);
	b = map_rw(t, 64, 0);
	fill_until_fail(t, b, 64, 0xb, &ret);
	assert_int_equal(ret, -ENOMEM);

	snap(w, s);
	assert_int_equal(gup_fork(t, &child), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(load_u64(child, a + PAGE), page_value(0xa, 1));
	check_clean(w);
	gup_task_exit(child);
	sim_unpin(w, pinned);
	gup_task_exit(t);
	world_done(w);
}

/* ------------------------------------------------------------------------ */
/* COW when frames are exhausted                                            */
/* ------------------------------------------------------------------------ */

static void test_cow_no_frames(void **state)
{
	const char *policy = *state;
	struct gup_world *w = world_new(policy, 64, 0);
	struct gup_task *t = task_new(w), *child;
	uint64_t s[GUP_NR_STATS], a, b;
	size_t nb;
	int ret;

	a = map_rw(t, 8, 0);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(store_u64(t, a + i * PAGE, page_value(0xa, i)), 0);
	assert_int_equal(gup_fork(t, &child), 0);

	b = map_rw(t, 64, 0);
	nb = fill_until_fail(t, b, 64, 0xb, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(meminfo(w).nr_free, 0);
	assert_true(nb >= 2);

	/* Both sides need a copy of a shared page: -ENOMEM, nothing changed. */
	snap(w, s);
	assert_int_equal(store_u64(t, a, 0xdead), -ENOMEM);
	assert_int_equal(store_u64(child, a + PAGE, 0xbeef), -ENOMEM);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_OOM), 2);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_WP), 2);
	assert_int_equal(DELTA(w, s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_COW_REUSE), 0);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(load_u64(t, a + i * PAGE), page_value(0xa, i));
		assert_int_equal(load_u64(child, a + i * PAGE), page_value(0xa, i));
		assert_int_equal(gup_mm_pfn(gup_task_mm(t), a + i * PAGE),
				 gup_mm_pfn(gup_task_mm(child), a + i * PAGE));
	}
	/* A store that needs no frame still works. */
	assert_int_equal(store_u64(t, b + 8, 1), 0);
	check_clean(w);

	/* Free two frames: the copies succeed, and each side sees its own data. */
	snap(w, s);
	assert_int_equal(gup_munmap(t, b, 2 * PAGE), 0);
	assert_int_equal(meminfo(w).nr_free, 2);
	assert_int_equal(store_u64(t, a, 0xdead), 0);
	assert_int_equal(store_u64(child, a + PAGE, 0xbeef), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_COW_COPY), 2);
	assert_int_equal(meminfo(w).nr_free, 0);
	assert_int_equal(load_u64(t, a), 0xdead);
	assert_int_equal(load_u64(child, a), page_value(0xa, 0));
	assert_int_equal(load_u64(t, a + PAGE), page_value(0xa, 1));
	assert_int_equal(load_u64(child, a + PAGE), 0xbeef);
	/* The other side of each copied page is now mapped once: reused without a frame. */
	snap(w, s);
	assert_int_equal(store_u64(child, a, 0xc0), 0);
	assert_int_equal(store_u64(t, a + PAGE, 0xc1), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_COW_REUSE), 2);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_OOM), 0);
	assert_int_equal(load_u64(t, a), 0xdead);
	assert_int_equal(load_u64(child, a), 0xc0);
	check_clean(w);

	/* Once the child exits, the rest of the parent's pages are reused too. */
	gup_task_exit(child);
	snap(w, s);
	for (size_t i = 2; i < 8; i++)
		assert_int_equal(store_u64(t, a + i * PAGE, i), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_OOM), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_COW_COPY), 0);
	gup_task_exit(t);
	world_done(w);
}

/* ------------------------------------------------------------------------ */
/* MAP_POPULATE / MADV_POPULATE_* with too few frames                        */
/* ------------------------------------------------------------------------ */

static void test_populate_too_few_frames(void **state)
{
	const char *policy = *state;
	struct gup_world *w = world_new(policy, 64, 0);
	struct gup_task *t = task_new(w);
	size_t free0 = meminfo(w).nr_free;
	uint64_t s[GUP_NR_STATS], addr;

	/* MADV_POPULATE_WRITE reports the failure. */
	addr = map_rw(t, 100, 0);
	snap(w, s);
	assert_int_equal(gup_madvise(t, addr, 100 * PAGE, GUP_MADV_POPULATE_WRITE), -ENOMEM);
	assert_int_equal(meminfo(w).nr_free, 0);
	assert_int_equal(rss_of(t), free0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_OOM), 1);
	check_clean(w);
	for (size_t i = 0; i < free0; i++)
		assert_int_equal(load_u64(t, addr + i * PAGE), 0);
	/* Populated pages are writable without another fault. */
	snap(w, s);
	assert_int_equal(store_u64(t, addr, 1), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT), 0);
	/* POPULATE_READ needs no frame: the zero page. */
	assert_int_equal(gup_madvise(t, addr, 100 * PAGE, GUP_MADV_POPULATE_READ), 0);
	assert_int_equal(rss_of(t), free0);
	check_clean(w);
	assert_int_equal(gup_munmap(t, addr, 100 * PAGE), 0);
	assert_int_equal(meminfo(w).nr_free, free0);

	/* MAP_POPULATE is best effort: mmap succeeds, as much as fits is populated. */
	snap(w, s);
	addr = 0;
	assert_int_equal(gup_mmap(t, 0, 100 * PAGE, PROT_RW, MAP_ANON_PRIV | GUP_MAP_POPULATE, &addr), 0);
	assert_true(addr >= GUP_MMAP_MIN);
	assert_int_equal(meminfo(w).nr_free, 0);
	assert_int_equal(rss_of(t), free0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_OOM), 1);
	check_clean(w);
	snap(w, s);
	for (size_t i = 0; i < free0; i++)
		assert_int_equal(store_u64(t, addr + i * PAGE, page_value(4, i)), 0);
	assert_int_equal(DELTA(w, s, GUP_STAT_FAULT), 0);
	assert_int_equal(store_u64(t, addr + free0 * PAGE, 1), -ENOMEM);
	assert_int_equal(load_u64(t, addr + 99 * PAGE), 0);
	for (size_t i = 0; i < free0; i++)
		assert_int_equal(load_u64(t, addr + i * PAGE), page_value(4, i));

	/* A read-only MAP_POPULATE maps the zero page: no frame needed at all. */
	{
		uint64_t ro = 0;

		snap(w, s);
		assert_int_equal(gup_mmap(t, 0, 16 * PAGE, GUP_PROT_READ,
					  MAP_ANON_PRIV | GUP_MAP_POPULATE, &ro), 0);
		assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_OOM), 0);
		assert_int_equal(DELTA(w, s, GUP_STAT_FAULT_ANON_READ), 16);
		assert_int_equal(load_u64(t, ro + 15 * PAGE), 0);
		assert_int_equal(gup_munmap(t, ro, 16 * PAGE), 0);
	}
	check_clean(w);
	assert_int_equal(gup_munmap(t, addr, 100 * PAGE), 0);
	assert_int_equal(meminfo(w).nr_free, free0);

	/* With memory back, both populate fully. */
	addr = map_rw(t, 32, GUP_MAP_POPULATE);
	assert_int_equal(rss_of(t), 32);
	assert_int_equal(gup_madvise(t, addr, 32 * PAGE, GUP_MADV_POPULATE_WRITE), 0);
	assert_int_equal(meminfo(w).nr_free, free0 - 32);
	check_clean(w);

	gup_task_exit(t);
	world_done(w);
}

int main(void)
{
	static const char *const p6 = "linux-6.x", *const p26 = "linux-2.6.29";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(test_out_of_frames, (void *)p6),
		cmocka_unit_test_prestate(test_out_of_frames, (void *)p26),
		cmocka_unit_test_prestate(test_out_of_frames_concurrent, (void *)p6),
		cmocka_unit_test_prestate(test_out_of_frames_concurrent, (void *)p26),
		cmocka_unit_test(test_fork_pinned_no_frames),
		cmocka_unit_test(test_fork_pinned_no_frames_2629),
		cmocka_unit_test_prestate(test_cow_no_frames, (void *)p6),
		cmocka_unit_test_prestate(test_cow_no_frames, (void *)p26),
		cmocka_unit_test_prestate(test_populate_too_few_frames, (void *)p6),
		cmocka_unit_test_prestate(test_populate_too_few_frames, (void *)p26),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
