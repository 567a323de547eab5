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
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "mm/mm.h"
#include "world.h"

#include "common/fixture.h"

#define PROT_RW		(GUP_PROT_READ | GUP_PROT_WRITE)
#define MAP_ANON_PRIV	(GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS)
#define PAGE		GUP_PAGE_SIZE

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

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
		*ret = fx_try_store_u64(t, addr + i * PAGE, page_value(tag, i));
		if (*ret)
			break;
	}
	return i;
}

/* Four pages holding page_value(0xa, i), the second one FOLL_PIN'ed (*@pinned). */
static uint64_t map_pinned_region(struct gup_task *t, struct page **pinned)
{
	uint64_t a = fx_map_private(t, 4);

	for (size_t i = 0; i < 4; i++)
		fx_store_u64(t, a + i * PAGE, page_value(0xa, i));
	*pinned = fx_foll_pin(t, a + PAGE, true);
	return a;
}

/* ------------------------------------------------------------------------ */
/* Out of frames is a clean -ENOMEM                                         */
/* ------------------------------------------------------------------------ */

static void test_out_of_frames(void **state)
{
	const char *policy = *state;
	/* Both zones: movable allocations fall back to ZONE_NORMAL before failing. */
	struct gup_world *w = fx_world_new(policy, 64, 24);
	struct gup_task *t = fx_task_new(w);
	size_t free0 = fx_nr_free(w), n, n2;
	struct fx_snap s;
	uint64_t addr, v = 0;
	int ret;

	assert_int_equal(free0, 63);	/* every frame but the zero page */
	addr = fx_map_private(t, 128);
	fx_snap(w, &s);
	n = fill_until_fail(t, addr, 128, 1, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(n, free0);
	assert_int_equal(fx_nr_free(w), 0);
	assert_int_equal(fx_meminfo(w).nr_movable_free, 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_OOM), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_ANON_WRITE), n);
	assert_int_equal(fx_rss(t), n);
	assert_int_equal(gup_mm_pfn(gup_task_mm(t), addr + n * PAGE), -EFAULT);	/* nothing mapped */
	fx_check(w);

	/* Everything stored is there; reading the failed page needs no frame (zero page). */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fx_load_u64(t, addr + i * PAGE), page_value(1, i));
	assert_int_equal(fx_load_u64(t, addr + n * PAGE), 0);
	assert_int_equal(fx_rss(t), n);
	/* Writing it still needs one: the zero page's COW fails the same way. */
	fx_snap(w, &s);
	assert_int_equal(fx_try_store_u64(t, addr + n * PAGE, 5), -ENOMEM);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_OOM), 1);
	assert_int_equal(fx_load_u64(t, addr + n * PAGE), 0);
	/* Stores to pages that have frames are unaffected. */
	fx_store_u64(t, addr + 8, 0x77);
	/* A multi-page store copies up to the faulting page, then reports -ENOMEM. */
	{
		uint8_t buf[2 * 4096];

		memset(buf, 0xab, sizeof(buf));
		assert_int_equal(gup_store(t, addr + (n - 1) * PAGE, buf, sizeof(buf)), -ENOMEM);
		assert_int_equal(fx_load_u64(t, addr + (n - 1) * PAGE),
				 UINT64_C(0xabababababababab));
		assert_int_equal(fx_load_u64(t, addr + n * PAGE), 0);
	}
	fx_check(w);

	/* munmap gives every frame back, and stores work again. */
	fx_snap(w, &s);
	assert_int_equal(gup_munmap(t, addr, 128 * PAGE), 0);
	assert_int_equal(fx_nr_free(w), free0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_FREE), n);
	assert_int_equal(fx_rss(t), 0);
	assert_int_equal(gup_load(t, addr, &v, sizeof(v)), -EFAULT);
	addr = fx_map_private(t, 128);
	n2 = fill_until_fail(t, addr, 128, 2, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(n2, free0);
	for (size_t i = 0; i < n2; i++)
		assert_int_equal(fx_load_u64(t, addr + i * PAGE), page_value(2, i));
	assert_int_equal(gup_munmap(t, addr, 128 * PAGE), 0);
	assert_int_equal(fx_nr_free(w), free0);

	gup_task_exit(t);
	fx_world_done(w);
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

	/* Start together, so that the tasks compete for the last frames. */
	atomic_fetch_add_explicit(&me->c->ready, 1, memory_order_relaxed);
	if (!fx_wait_at_least(&me->c->ready, EX_TASKS)) {
		atomic_fetch_add_explicit(&me->c->bad, 1, memory_order_relaxed);
		return;
	}
	me->stored = fill_until_fail(me->t, me->base, EX_PAGES, 3, &me->last_ret);
}

static void test_out_of_frames_concurrent(void **state)
{
	const char *policy = *state;
	struct gup_world *w = fx_world_new(policy, 128, 64);
	struct gup_mm *mm;
	static struct ex_ctx c;
	struct gup_thread *th[EX_TASKS];
	size_t free0 = fx_nr_free(w), total = 0;

	memset(&c, 0, sizeof(c));
	assert_int_equal(gup_mm_create(w, &mm), 0);
	for (int i = 0; i < EX_TASKS; i++) {
		c.tk[i].c = &c;
		c.tk[i].t = fx_task_add(mm);
		c.tk[i].base = fx_map_private(c.tk[i].t, EX_PAGES);
	}
	gup_mm_put(mm);
	for (int i = 0; i < EX_TASKS; i++)
		th[i] = fx_thread_start(w, ex_fn, &c.tk[i]);
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
			assert_int_equal(fx_load_u64(c.tk[i].t, c.tk[i].base + p * PAGE), page_value(3, p));
	}
	assert_int_equal(total, free0);
	assert_int_equal(fx_nr_free(w), 0);
	assert_int_equal(fx_rss(c.tk[0].t), free0);
	fx_check(w);

	for (int i = 0; i < EX_TASKS; i++)
		gup_task_exit(c.tk[i].t);
	assert_int_equal(fx_nr_free(w), free0);
	fx_world_done(w);
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
	struct gup_world *w = fx_world_new(FX_POLICY_NEW, 64, 0);
	struct gup_task *t = fx_task_new(w), *child = NULL;
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_mem_info before;
	struct page *pinned;
	struct fx_snap s;
	uint64_t a, b;
	size_t nb;
	int ret;

	(void)state;
	a = map_pinned_region(t, &pinned);
	fx_check(w);

	/* Fill the rest of memory (B lies below A: fork shares all of it first). */
	b = fx_map_private(t, 64);
	assert_true(b < a);
	nb = fill_until_fail(t, b, 64, 0xb, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(fx_nr_free(w), 0);

	before = fx_meminfo(w);
	fx_snap(w, &s);
	assert_int_equal(gup_fork(t, &child), -ENOMEM);
	assert_null(child);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(fx_meminfo(w).nr_mms, before.nr_mms);
	assert_int_equal(fx_meminfo(w).nr_tasks, before.nr_tasks);
	assert_int_equal(fx_nr_free(w), 0);
	assert_int_equal(fx_rss(t), 4 + nb);
	fx_check(w);

	/* The parent's data is intact. */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(fx_load_u64(t, a + i * PAGE), page_value(0xa, i));
	for (size_t i = 0; i < nb; i++)
		assert_int_equal(fx_load_u64(t, b + i * PAGE), page_value(0xb, i));
	/* The pinned page was never write-protected: a store to it hits. */
	fx_snap(w, &s);
	fx_store_u64(t, a + PAGE + 8, 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);
	/* Pages fork shared before failing are the parent's alone again: reuse, no frame. */
	fx_snap(w, &s);
	for (size_t i = 0; i < nb; i++)
		fx_store_u64(t, b + i * PAGE + 8, i);
	fx_store_u64(t, a + 8, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_OOM), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	assert_int_equal(gup_mm_pfn(mm, a + PAGE), (int64_t)page_to_pfn(&w->arena, pinned));
	fx_check(w);

	/* Unpinned, fork copies nothing early and succeeds with no frame free. */
	fx_foll_unpin(w, pinned);
	fx_check(w);
	fx_snap(w, &s);
	assert_int_equal(gup_fork(t, &child), 0);
	assert_non_null(child);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(fx_load_u64(child, a + 2 * PAGE), page_value(0xa, 2));
	assert_int_equal(fx_load_u64(child, b), page_value(0xb, 0));
	fx_check(w);
	gup_task_exit(child);

	gup_task_exit(t);
	fx_world_done(w);
}

/* linux-2.6.29 shares the pinned page like any other: the same fork needs no frame. */
static void test_fork_pinned_no_frames_2629(void **state)
{
	struct gup_world *w = fx_world_new(FX_POLICY_OLD, 64, 0);
	struct gup_task *t = fx_task_new(w), *child = NULL;
	struct page *pinned;
	struct fx_snap s;
	uint64_t a, b;
	int ret;

	(void)state;
	a = map_pinned_region(t, &pinned);
	b = fx_map_private(t, 64);
	fill_until_fail(t, b, 64, 0xb, &ret);
	assert_int_equal(ret, -ENOMEM);

	fx_snap(w, &s);
	assert_int_equal(gup_fork(t, &child), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(fx_load_u64(child, a + PAGE), page_value(0xa, 1));
	fx_check(w);
	gup_task_exit(child);
	fx_foll_unpin(w, pinned);
	gup_task_exit(t);
	fx_world_done(w);
}

/* ------------------------------------------------------------------------ */
/* COW when frames are exhausted                                            */
/* ------------------------------------------------------------------------ */

static void test_cow_no_frames(void **state)
{
	const char *policy = *state;
	struct gup_world *w = fx_world_new(policy, 64, 0);
	struct gup_task *t = fx_task_new(w), *child;
	struct fx_snap s;
	uint64_t a, b;
	size_t nb;
	int ret;

	a = fx_map_private(t, 8);
	for (size_t i = 0; i < 8; i++)
		fx_store_u64(t, a + i * PAGE, page_value(0xa, i));
	assert_int_equal(gup_fork(t, &child), 0);

	b = fx_map_private(t, 64);
	nb = fill_until_fail(t, b, 64, 0xb, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(fx_nr_free(w), 0);
	assert_true(nb >= 2);

	/* Both sides need a copy of a shared page: -ENOMEM, nothing changed. */
	fx_snap(w, &s);
	assert_int_equal(fx_try_store_u64(t, a, 0xdead), -ENOMEM);
	assert_int_equal(fx_try_store_u64(child, a + PAGE, 0xbeef), -ENOMEM);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_OOM), 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(fx_load_u64(t, a + i * PAGE), page_value(0xa, i));
		assert_int_equal(fx_load_u64(child, a + i * PAGE), page_value(0xa, i));
		assert_int_equal(gup_mm_pfn(gup_task_mm(t), a + i * PAGE),
				 gup_mm_pfn(gup_task_mm(child), a + i * PAGE));
	}
	/* A store that needs no frame still works. */
	fx_store_u64(t, b + 8, 1);
	fx_check(w);

	/* Free two frames: the copies succeed, and each side sees its own data. */
	fx_snap(w, &s);
	assert_int_equal(gup_munmap(t, b, 2 * PAGE), 0);
	assert_int_equal(fx_nr_free(w), 2);
	fx_store_u64(t, a, 0xdead);
	fx_store_u64(child, a + PAGE, 0xbeef);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 2);
	assert_int_equal(fx_nr_free(w), 0);
	assert_int_equal(fx_load_u64(t, a), 0xdead);
	assert_int_equal(fx_load_u64(child, a), page_value(0xa, 0));
	assert_int_equal(fx_load_u64(t, a + PAGE), page_value(0xa, 1));
	assert_int_equal(fx_load_u64(child, a + PAGE), 0xbeef);
	/* The other side of each copied page is now mapped once: reused without a frame. */
	fx_snap(w, &s);
	fx_store_u64(child, a, 0xc0);
	fx_store_u64(t, a + PAGE, 0xc1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_OOM), 0);
	assert_int_equal(fx_load_u64(t, a), 0xdead);
	assert_int_equal(fx_load_u64(child, a), 0xc0);
	fx_check(w);

	/* Once the child exits, the rest of the parent's pages are reused too. */
	gup_task_exit(child);
	fx_snap(w, &s);
	for (size_t i = 2; i < 8; i++)
		fx_store_u64(t, a + i * PAGE, i);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_OOM), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	gup_task_exit(t);
	fx_world_done(w);
}

/* ------------------------------------------------------------------------ */
/* MAP_POPULATE / MADV_POPULATE_* with too few frames                        */
/* ------------------------------------------------------------------------ */

static void test_populate_too_few_frames(void **state)
{
	const char *policy = *state;
	struct gup_world *w = fx_world_new(policy, 64, 0);
	struct gup_task *t = fx_task_new(w);
	size_t free0 = fx_nr_free(w);
	struct fx_snap s;
	uint64_t addr;

	/* MADV_POPULATE_WRITE reports the failure. */
	addr = fx_map_private(t, 100);
	fx_snap(w, &s);
	assert_int_equal(gup_madvise(t, addr, 100 * PAGE, GUP_MADV_POPULATE_WRITE), -ENOMEM);
	assert_int_equal(fx_nr_free(w), 0);
	assert_int_equal(fx_rss(t), free0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_OOM), 1);
	fx_check(w);
	for (size_t i = 0; i < free0; i++)
		assert_int_equal(fx_load_u64(t, addr + i * PAGE), 0);
	/* Populated pages are writable without another fault. */
	fx_snap(w, &s);
	fx_store_u64(t, addr, 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);
	/* POPULATE_READ needs no frame: the zero page. */
	assert_int_equal(gup_madvise(t, addr, 100 * PAGE, GUP_MADV_POPULATE_READ), 0);
	assert_int_equal(fx_rss(t), free0);
	fx_check(w);
	assert_int_equal(gup_munmap(t, addr, 100 * PAGE), 0);
	assert_int_equal(fx_nr_free(w), free0);

	/* MAP_POPULATE is best effort: mmap succeeds, as much as fits is populated. */
	fx_snap(w, &s);
	addr = 0;
	assert_int_equal(gup_mmap(t, 0, 100 * PAGE, PROT_RW, MAP_ANON_PRIV | GUP_MAP_POPULATE, &addr), 0);
	assert_true(addr >= GUP_MMAP_MIN);
	assert_int_equal(fx_nr_free(w), 0);
	assert_int_equal(fx_rss(t), free0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_OOM), 1);
	fx_check(w);
	fx_snap(w, &s);
	for (size_t i = 0; i < free0; i++)
		fx_store_u64(t, addr + i * PAGE, page_value(4, i));
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);
	assert_int_equal(fx_try_store_u64(t, addr + free0 * PAGE, 1), -ENOMEM);
	assert_int_equal(fx_load_u64(t, addr + 99 * PAGE), 0);
	for (size_t i = 0; i < free0; i++)
		assert_int_equal(fx_load_u64(t, addr + i * PAGE), page_value(4, i));

	/* A read-only MAP_POPULATE maps the zero page: no frame needed at all. */
	{
		uint64_t ro = 0;

		fx_snap(w, &s);
		assert_int_equal(gup_mmap(t, 0, 16 * PAGE, GUP_PROT_READ,
					  MAP_ANON_PRIV | GUP_MAP_POPULATE, &ro), 0);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_OOM), 0);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_ANON_READ), 16);
		assert_int_equal(fx_load_u64(t, ro + 15 * PAGE), 0);
		assert_int_equal(gup_munmap(t, ro, 16 * PAGE), 0);
	}
	fx_check(w);
	assert_int_equal(gup_munmap(t, addr, 100 * PAGE), 0);
	assert_int_equal(fx_nr_free(w), free0);

	/* With memory back, both populate fully. */
	addr = fx_map_anon(t, 32, PROT_RW, GUP_MAP_PRIVATE | GUP_MAP_POPULATE);
	assert_int_equal(fx_rss(t), 32);
	assert_int_equal(gup_madvise(t, addr, 32 * PAGE, GUP_MADV_POPULATE_WRITE), 0);
	assert_int_equal(fx_nr_free(w), free0 - 32);
	fx_check(w);

	gup_task_exit(t);
	fx_world_done(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_POLICY_STATE_TESTS(test_out_of_frames),
		FX_POLICY_STATE_TESTS(test_out_of_frames_concurrent),
		cmocka_unit_test(test_fork_pinned_no_frames),
		cmocka_unit_test(test_fork_pinned_no_frames_2629),
		FX_POLICY_STATE_TESTS(test_cow_no_frames),
		FX_POLICY_STATE_TESTS(test_populate_too_few_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
