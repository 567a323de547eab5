// SPDX-License-Identifier: MIT
/*
 * tests/test_page.c - unit tests of frames: the arena, the zoned allocator,
 * reference and map counts, the page lock, world lifecycle and leak reports.
 *
 * The internal API (alloc_page, free_frame, page_ref_*) is used directly; a
 * frame handed out by alloc_page is private to the test until it is freed, so
 * gup_world_check is only run once every such frame has been returned.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm/mm.h"
#include "mm/page.h"
#include "world.h"

#include "common/fixture.h"

/* ---- helpers ---------------------------------------------------------- */

static uint64_t pfn_of(struct gup_world *w, struct page *p)
{
	return page_to_pfn(&w->arena, p);
}

/* Drop a fresh (count 0) frame through the normal reference path. */
static void release_fresh(struct gup_world *w, struct page *p)
{
	page_ref_add(p, 1);
	put_page(w, p);
}

/* ---- struct page and the zero page -------------------------------------- */

static void test_page_struct_size(void **state)
{
	(void)state;
	assert_true(sizeof(struct page) <= 64);
	/* The count word packs refcount in the low half, mapcount in the high. */
	assert_int_equal(PAGE_MAP_REF, (UINT64_C(1) << 32) | 1);
	assert_int_equal(count_ref(UINT64_C(0x0000000500000007)), 7);
	assert_int_equal(count_map(UINT64_C(0x0000000500000007)), 5);
}

static void test_zero_page(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 256, 0);
	struct page *zp = zero_page(w);
	const uint8_t *d;

	(void)state;
	assert_ptr_equal(zp, pfn_to_page(&w->arena, 0));
	assert_int_equal(pfn_of(w, zp), ZERO_PFN);
	assert_int_equal(ZERO_PFN, 0);
	assert_true(PageZero(zp));
	assert_true(PageReserved(zp));
	assert_false(PageFree(zp));
	assert_false(PageAnon(zp));
	assert_int_equal(page_ref_count(zp), 1);
	assert_int_equal(page_mapcount(zp), 0);
	assert_false(page_mapped(zp));
	d = page_data(&w->arena, zp);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		assert_int_equal(d[i], 0);
	/* All the other frames start free. */
	for (uint64_t pfn = 1; pfn < 256; pfn++) {
		struct page *p = pfn_to_page(&w->arena, pfn);

		assert_true(PageFree(p));
		assert_int_equal(page_count_word(p), 0);
	}
	assert_int_equal(fx_nr_free(w), 255);
	fx_world_done(w);
}

/* ---- the allocator ------------------------------------------------------- */

static void test_alloc_exhaust_movable_first(void **state)
{
	enum { N = 256, MOV = 64 };
	struct gup_world *w = fx_world_new(NULL, N, MOV);
	struct page *got[N];
	uint8_t seen[N] = { 0 };
	size_t n = 0;
	struct gup_mem_info mi = fx_meminfo(w);

	(void)state;
	assert_int_equal(mi.nr_frames, N);
	assert_int_equal(mi.nr_movable, MOV);
	assert_int_equal(mi.nr_free, N - 1);
	assert_int_equal(mi.nr_movable_free, MOV);
	assert_int_equal(w->arena.movable_start, N - MOV);

	for (;;) {
		struct page *p = alloc_page(w, GFP_MOVABLE);
		uint64_t pfn;

		if (!p)
			break;
		assert_true(n < N);	/* bounded: never more than the arena */
		pfn = pfn_of(w, p);
		assert_true(pfn > ZERO_PFN && pfn < N);
		assert_int_equal(seen[pfn], 0);
		seen[pfn] = 1;
		/* A fresh frame: refcount 0, clean flags. */
		assert_int_equal(page_count_word(p), 0);
		assert_false(PageFree(p));
		assert_false(PageAnon(p));
		if (n < MOV) {
			/* Movable preferred until that zone runs dry. */
			assert_true(pfn >= N - MOV);
			assert_int_equal(p->zone, ZONE_MOVABLE);
		} else {
			assert_true(pfn < N - MOV);
			assert_int_equal(p->zone, ZONE_NORMAL);
		}
		got[n++] = p;
		mi = fx_meminfo(w);
		assert_int_equal(mi.nr_free, N - 1 - n);
		assert_int_equal(mi.nr_movable_free, n < MOV ? MOV - n : 0);
	}
	assert_int_equal(n, N - 1);
	assert_null(alloc_page(w, GFP_KERNEL));
	assert_null(alloc_page(w, GFP_MOVABLE | GFP_ZERO));
	mi = fx_meminfo(w);
	assert_int_equal(mi.nr_free, 0);
	assert_int_equal(mi.nr_movable_free, 0);
	assert_int_equal(fx_stat(w, GUP_STAT_FRAME_ALLOC), N - 1);

	for (size_t i = 0; i < n; i++) {
		release_fresh(w, got[i]);
		assert_true(PageFree(got[i]));
	}
	mi = fx_meminfo(w);
	assert_int_equal(mi.nr_free, N - 1);
	assert_int_equal(mi.nr_movable_free, MOV);
	assert_int_equal(fx_stat(w, GUP_STAT_FRAME_FREE), N - 1);
	fx_world_done(w);
}

static void test_alloc_kernel_never_movable(void **state)
{
	enum { N = 256, MOV = 100 };
	struct gup_world *w = fx_world_new(NULL, N, MOV);
	struct page *got[N];
	size_t n = 0;
	struct page *m;

	(void)state;
	while (n < N) {
		struct page *p = alloc_page(w, GFP_KERNEL);

		if (!p)
			break;
		assert_true(pfn_of(w, p) < N - MOV);
		assert_int_equal(p->zone, ZONE_NORMAL);
		got[n++] = p;
	}
	/* Every NORMAL frame except the zero page; MOVABLE untouched. */
	assert_int_equal(n, N - MOV - 1);
	assert_int_equal(fx_meminfo(w).nr_movable_free, MOV);
	assert_int_equal(fx_nr_free(w), MOV);
	/* A movable allocation still succeeds, from the movable zone. */
	m = alloc_page(w, GFP_MOVABLE);
	assert_non_null(m);
	assert_true(pfn_of(w, m) >= N - MOV);
	free_frame(w, m);
	for (size_t i = 0; i < n; i++)
		free_frame(w, got[i]);
	assert_int_equal(fx_nr_free(w), N - 1);
	fx_world_done(w);
}

/*
 * A world without ZONE_MOVABLE (the litmus runner's) knows from the start that
 * the zone is empty: a movable allocation falls back to ZONE_NORMAL at the cost
 * of one look, never by locking every shard first.  It used to find out by
 * zone_alloc_slow, under the explorer too, where a first write fault that way
 * holds more locks than the explorer tracks and the run stopped (-EOVERFLOW).
 */
static void test_alloc_no_movable_zone(void **state)
{
	enum { N = 256 };
	struct gup_world *w = fx_world_new(NULL, N, 0);
	struct page *p;

	(void)state;
	assert_true(atomic_load(&w->arena.zone_empty[ZONE_MOVABLE]));
	assert_false(atomic_load(&w->arena.zone_empty[ZONE_NORMAL]));
	p = alloc_page(w, GFP_MOVABLE);
	assert_non_null(p);
	assert_int_equal(p->zone, ZONE_NORMAL);
	free_frame(w, p);
	/* A free into ZONE_NORMAL changes nothing for the movable zone. */
	assert_true(atomic_load(&w->arena.zone_empty[ZONE_MOVABLE]));
	fx_world_done(w);

	/* With movable frames, neither zone is known empty before it runs dry. */
	w = fx_world_new(NULL, N, 64);
	assert_false(atomic_load(&w->arena.zone_empty[ZONE_MOVABLE]));
	assert_false(atomic_load(&w->arena.zone_empty[ZONE_NORMAL]));
	fx_world_done(w);
}

static void test_alloc_zero(void **state)
{
	enum { N = 64 };
	struct gup_world *w = fx_world_new(NULL, N, 16);
	struct page *got[N];
	size_t n = 0, dirty_left = 0;

	(void)state;
	/* Take everything, dirty it, give it back. */
	while ((got[n] = alloc_page(w, GFP_MOVABLE)) != NULL) {
		assert_true(n < N - 1);
		memset(page_data(&w->arena, got[n]), 0xa5, PAGE_SIZE);
		n++;
	}
	assert_int_equal(n, N - 1);
	for (size_t i = 0; i < n; i++)
		free_frame(w, got[i]);

	/* Without GFP_ZERO a recycled frame keeps its old bytes ... */
	for (size_t i = 0; i < n; i++) {
		got[i] = alloc_page(w, GFP_MOVABLE);
		assert_non_null(got[i]);
		dirty_left += !fx_frame_is_zero(w, got[i]);
	}
	assert_int_equal(dirty_left, n);
	for (size_t i = 0; i < n; i++)
		free_frame(w, got[i]);

	/* ... with GFP_ZERO every one comes back zeroed. */
	for (size_t i = 0; i < n; i++) {
		got[i] = alloc_page(w, GFP_MOVABLE | GFP_ZERO);
		assert_non_null(got[i]);
		assert_true(fx_frame_is_zero(w, got[i]));
		assert_int_equal(page_count_word(got[i]), 0);
	}
	for (size_t i = 0; i < n; i++)
		release_fresh(w, got[i]);
	/* The zero page was never handed out nor touched. */
	assert_true(fx_frame_is_zero(w, zero_page(w)));
	fx_world_done(w);
}

/*
 * A world built from a store's arena (the litmus runner's, between executions)
 * is the same host memory made new: frames zero, descriptors fresh, counts
 * empty.  Another size maps its own and leaves the store alone.
 */
static void test_arena_store_reuse(void **state)
{
	enum { N = 64 };
	FILE *rep = tmpfile();
	struct gup_world_config cfg = { .nr_frames = N, .nr_movable = 16, .report = rep };
	struct frame_arena_store store = { 0 };
	struct gup_world *w;
	struct page *got[N];
	uint8_t *data;
	size_t n = 0;

	(void)state;
	assert_non_null(rep);
	assert_int_equal(world_create(&cfg, &store, &w), 0);
	assert_null(store.data);			/* nothing to take yet */
	while ((got[n] = alloc_page(w, GFP_MOVABLE)) != NULL) {
		memset(page_data(&w->arena, got[n]), 0xa5, PAGE_SIZE);
		page_ref_add(got[n], 1);		/* kept: a leak the store must not see */
		n++;
	}
	assert_int_equal(n, N - 1);
	data = w->arena.data;
	for (size_t i = 0; i < n / 2; i++)
		put_page(w, got[i]);
	assert_int_equal(world_destroy(w, &store), (int)(n - n / 2));	/* reported */
	assert_ptr_equal(store.data, data);
	assert_int_equal(store.nr_frames, N);

	assert_int_equal(world_create(&cfg, &store, &w), 0);
	assert_ptr_equal(w->arena.data, data);		/* taken, */
	assert_null(store.data);			/* so no longer kept */
	for (uint64_t pfn = 0; pfn < N; pfn++) {
		struct page *p = pfn_to_page(&w->arena, pfn);

		assert_true(fx_frame_is_zero(w, p));
		if (pfn != ZERO_PFN) {
			assert_true(PageFree(p));
			assert_int_equal(page_count_word(p), 0);
		}
	}
	assert_int_equal(frame_arena_nr_free(&w->arena, ZONE_NORMAL) +
			 frame_arena_nr_free(&w->arena, ZONE_MOVABLE), N - 1);
	assert_int_equal(gup_world_check(w, NULL), 0);
	assert_int_equal(world_destroy(w, &store), 0);
	assert_ptr_equal(store.data, data);

	cfg.nr_frames = 2 * N;				/* another size: not taken */
	assert_int_equal(world_create(&cfg, &store, &w), 0);
	assert_ptr_not_equal(w->arena.data, data);
	assert_ptr_equal(store.data, data);
	assert_int_equal(world_destroy(w, &store), 0);	/* the store is full: unmapped */
	assert_ptr_equal(store.data, data);
	frame_arena_store_release(&store);
	assert_null(store.data);
	frame_arena_store_release(&store);		/* empty: nothing to do */
	fclose(rep);
}

/* ---- reference counts ---------------------------------------------------- */

static void test_ref_try_add(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	struct page *p = alloc_page(w, GFP_KERNEL);

	(void)state;
	assert_non_null(p);
	/* Count 0 (being freed / fresh): the lockless grab must fail. */
	assert_false(page_ref_try_add(p, 1));
	assert_int_equal(page_count_word(p), 0);

	page_ref_add(p, 1);
	assert_true(page_ref_try_add(p, 2));
	assert_int_equal(page_ref_count(p), 3);
	/* Overflow guard: refcount + nr may reach PAGE_REF_MAX but not pass it. */
	assert_false(page_ref_try_add(p, PAGE_REF_MAX - 2));
	assert_int_equal(page_ref_count(p), 3);
	assert_false(page_ref_try_add(p, UINT32_MAX));
	assert_int_equal(page_ref_count(p), 3);
	assert_true(page_ref_try_add(p, PAGE_REF_MAX - 3));
	assert_int_equal(page_ref_count(p), PAGE_REF_MAX);
	assert_false(page_ref_try_add(p, 1));
	assert_int_equal(page_ref_count(p), PAGE_REF_MAX);
	assert_int_equal(page_mapcount(p), 0);

	/* Drop all but one, then the last put frees the frame. */
	page_ref_sub(w, p, PAGE_REF_MAX - 1);
	assert_int_equal(page_ref_count(p), 1);
	assert_false(PageFree(p));
	put_page(w, p);
	assert_true(PageFree(p));
	assert_false(page_ref_try_add(p, 1));	/* free again: refused */
	assert_int_equal(fx_nr_free(w), 63);
	fx_world_done(w);
}

static void test_ref_map_packing(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 8);
	struct page *p = alloc_page(w, GFP_MOVABLE);
	size_t free0;

	(void)state;
	assert_non_null(p);
	free0 = fx_nr_free(w);

	page_add_map_ref(p);
	assert_int_equal(page_ref_count(p), 1);
	assert_int_equal(page_mapcount(p), 1);
	assert_true(page_mapped(p));
	assert_int_equal(page_count_word(p), PAGE_MAP_REF);

	page_add_map_ref(p);
	get_page(p);
	assert_int_equal(page_ref_count(p), 3);
	assert_int_equal(page_mapcount(p), 2);

	/* rmap removal drops only the mapcount; the mapping's ref goes later. */
	page_remove_rmap(p);
	assert_int_equal(page_ref_count(p), 3);
	assert_int_equal(page_mapcount(p), 1);
	page_remove_rmap(p);
	assert_int_equal(page_ref_count(p), 3);
	assert_int_equal(page_mapcount(p), 0);
	assert_false(page_mapped(p));

	put_page(w, p);
	put_page(w, p);
	assert_int_equal(page_ref_count(p), 1);
	assert_false(PageFree(p));
	assert_int_equal(fx_nr_free(w), free0);
	put_page(w, p);
	assert_true(PageFree(p));
	assert_int_equal(page_count_word(p), 0);
	assert_int_equal(fx_nr_free(w), free0 + 1);
	assert_int_equal(fx_meminfo(w).nr_movable_free, 8);
	fx_world_done(w);
}

static void test_maybe_dma_pinned(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	struct page *p = alloc_page(w, GFP_KERNEL);

	(void)state;
	assert_non_null(p);
	page_ref_add(p, GUP_PIN_COUNTING_BIAS - 1);
	assert_int_equal(page_ref_count(p), 1023);
	assert_false(page_maybe_dma_pinned(p));
	get_page(p);
	assert_int_equal(page_ref_count(p), 1024);
	assert_true(page_maybe_dma_pinned(p));
	page_ref_add(p, GUP_PIN_COUNTING_BIAS);
	assert_true(page_maybe_dma_pinned(p));
	page_ref_sub(w, p, GUP_PIN_COUNTING_BIAS + 1);
	assert_false(page_maybe_dma_pinned(p));
	page_ref_sub(w, p, GUP_PIN_COUNTING_BIAS - 1);
	assert_true(PageFree(p));
	fx_world_done(w);
}

/* ---- the page lock -------------------------------------------------------- */

static void test_page_lock(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	struct page *p = alloc_page(w, GFP_KERNEL);

	(void)state;
	assert_non_null(p);
	page_ref_add(p, 1);
	assert_false(PageLocked(p));
	assert_true(trylock_page(p));
	assert_true(PageLocked(p));
	assert_false(trylock_page(p));
	assert_true(PageLocked(p));
	unlock_page(p);
	assert_false(PageLocked(p));
	lock_page(p);		/* uncontended: returns at once */
	assert_true(PageLocked(p));
	assert_false(trylock_page(p));
	unlock_page(p);
	assert_true(trylock_page(p));
	unlock_page(p);
	/* The lock bit does not disturb the other flags. */
	SetPageDirty(p);
	assert_true(trylock_page(p));
	assert_true(PageDirty(p));
	unlock_page(p);
	assert_true(PageDirty(p));
	put_page(w, p);
	assert_true(PageFree(p));
	fx_world_done(w);
}

enum { LOCK_THREADS = 4, LOCK_ITERS = 20000 };

struct lock_arg {
	struct page *page;
	uint64_t *counter;	/* plain: guarded by the page lock */
};

static void lock_worker(void *arg)
{
	struct lock_arg *la = arg;

	for (int i = 0; i < LOCK_ITERS; i++) {
		lock_page(la->page);
		/* A non-atomic read-modify-write: loses updates unless exclusive. */
		uint64_t v = *(volatile uint64_t *)la->counter;
		*(volatile uint64_t *)la->counter = v + 1;
		unlock_page(la->page);
	}
}

static void test_page_lock_threads(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	struct page *p = alloc_page(w, GFP_KERNEL);
	struct gup_thread *th[LOCK_THREADS];
	uint64_t counter = 0;
	struct lock_arg la = { .page = p, .counter = &counter };

	(void)state;
	assert_non_null(p);
	page_ref_add(p, 1);
	for (int i = 0; i < LOCK_THREADS; i++)
		th[i] = fx_thread_start(w, lock_worker, &la);
	for (int i = 0; i < LOCK_THREADS; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);
	assert_int_equal(counter, (uint64_t)LOCK_THREADS * LOCK_ITERS);
	assert_false(PageLocked(p));
	put_page(w, p);
	fx_world_done(w);
}

/* ---- concurrent allocation ----------------------------------------------- */

enum { AF_THREADS = 4, AF_ROUNDS = 2000, AF_BATCH = 24, AF_FRAMES = 1024 };

struct af_shared {
	struct gup_world *w;
	_Atomic uint32_t owner[AF_FRAMES];	/* 0 free, else thread id + 1 */
	_Atomic uint64_t errors;
	_Atomic uint64_t allocs;
	_Atomic uint64_t null_allocs;
};

struct af_arg {
	struct af_shared *sh;
	uint32_t id;
	uint64_t rng;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(0x2545F4914F6CDD1D);
}

static void af_worker(void *arg)
{
	struct af_arg *a = arg;
	struct af_shared *sh = a->sh;
	struct gup_world *w = sh->w;
	struct page *held[AF_BATCH];

	for (int r = 0; r < AF_ROUNDS; r++) {
		size_t want = 1 + xorshift(&a->rng) % AF_BATCH, n = 0;

		for (size_t i = 0; i < want; i++) {
			unsigned gfp = (xorshift(&a->rng) & 1) ? GFP_MOVABLE : GFP_KERNEL;
			struct page *p = alloc_page(w, gfp | ((i & 3) == 0 ? GFP_ZERO : 0));
			uint32_t expect = 0;
			uint64_t pfn;

			if (!p) {
				atomic_fetch_add_explicit(&sh->null_allocs, 1, memory_order_relaxed);
				continue;
			}
			pfn = page_to_pfn(&w->arena, p);
			if (pfn == ZERO_PFN || pfn >= AF_FRAMES || PageFree(p) ||
			    page_count_word(p) != 0 ||
			    (gfp == GFP_KERNEL && p->zone != ZONE_NORMAL) ||
			    !atomic_compare_exchange_strong(&sh->owner[pfn], &expect, a->id + 1)) {
				atomic_fetch_add_explicit(&sh->errors, 1, memory_order_relaxed);
				continue;	/* leave it allocated: the leak check will notice */
			}
			/* Scribble on the frame: ASan/races would show a shared frame. */
			memset(page_data(&w->arena, p), (int)a->id + 1, 64);
			held[n++] = p;
		}
		atomic_fetch_add_explicit(&sh->allocs, n, memory_order_relaxed);
		for (size_t i = 0; i < n; i++) {
			struct page *p = held[i];
			uint64_t pfn = page_to_pfn(&w->arena, p);
			uint32_t expect = a->id + 1;
			const uint8_t *d = page_data(&w->arena, p);

			if (d[0] != (uint8_t)(a->id + 1) || d[63] != (uint8_t)(a->id + 1))
				atomic_fetch_add_explicit(&sh->errors, 1, memory_order_relaxed);
			if (!atomic_compare_exchange_strong(&sh->owner[pfn], &expect, 0))
				atomic_fetch_add_explicit(&sh->errors, 1, memory_order_relaxed);
			if (i & 1) {
				free_frame(w, p);
			} else {
				page_ref_add(p, 2);
				page_ref_sub(w, p, 1);
				put_page(w, p);
			}
		}
	}
}

static void test_alloc_free_concurrent(void **state)
{
	struct gup_world *w = fx_world_new(NULL, AF_FRAMES, AF_FRAMES / 2);
	struct af_shared *sh = calloc(1, sizeof(*sh));
	struct af_arg args[AF_THREADS];
	struct gup_thread *th[AF_THREADS];
	struct gup_mem_info mi;

	(void)state;
	assert_non_null(sh);
	sh->w = w;
	for (uint32_t i = 0; i < AF_THREADS; i++) {
		args[i].sh = sh;
		args[i].id = i;
		args[i].rng = UINT64_C(0x9E3779B97F4A7C15) * (i + 1);
		th[i] = fx_thread_start(w, af_worker, &args[i]);
	}
	for (int i = 0; i < AF_THREADS; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);

	assert_int_equal(atomic_load(&sh->errors), 0);
	/* 4 threads * at most 24 frames never exhaust 1023 frames. */
	assert_int_equal(atomic_load(&sh->null_allocs), 0);
	assert_true(atomic_load(&sh->allocs) >= (uint64_t)AF_THREADS * AF_ROUNDS);
	for (size_t pfn = 0; pfn < AF_FRAMES; pfn++)
		assert_int_equal(atomic_load(&sh->owner[pfn]), 0);
	for (uint64_t pfn = 1; pfn < AF_FRAMES; pfn++)
		assert_true(PageFree(pfn_to_page(&w->arena, pfn)));
	mi = fx_meminfo(w);
	assert_int_equal(mi.nr_free, AF_FRAMES - 1);
	assert_int_equal(mi.nr_movable_free, AF_FRAMES / 2);
	assert_int_equal(fx_stat(w, GUP_STAT_FRAME_ALLOC), atomic_load(&sh->allocs));
	assert_int_equal(fx_stat(w, GUP_STAT_FRAME_FREE), atomic_load(&sh->allocs));
	free(sh);
	fx_world_done(w);
}

/*
 * No spurious exhaustion: 4 threads never hold more than 32 of 63 free frames
 * at once, so every single allocation must succeed ("exhaustion is reported only
 * after every shard of every allowed zone was tried: no frame hides", page.c).
 * The 63 frames all start in one shard, so the threads keep moving them between
 * shards while they allocate.
 */
enum { NS_THREADS = 4, NS_HOLD = 8, NS_ROUNDS = 200000, NS_FRAMES = 64 };

struct ns_shared {
	struct gup_world *w;
	_Atomic uint64_t nulls, allocs, errors;
};

static void ns_worker(void *arg)
{
	struct ns_shared *sh = arg;
	struct page *held[NS_HOLD];

	for (int r = 0; r < NS_ROUNDS; r++) {
		int n = 0;

		for (int i = 0; i < NS_HOLD; i++) {
			struct page *p = alloc_page(sh->w, GFP_KERNEL);

			if (!p) {
				atomic_fetch_add_explicit(&sh->nulls, 1, memory_order_relaxed);
				continue;
			}
			if (PageFree(p) || page_count_word(p) != 0)
				atomic_fetch_add_explicit(&sh->errors, 1, memory_order_relaxed);
			held[n++] = p;
		}
		atomic_fetch_add_explicit(&sh->allocs, (uint64_t)n, memory_order_relaxed);
		for (int i = 0; i < n; i++)
			free_frame(sh->w, held[i]);
	}
}

static void test_alloc_no_spurious_failure(void **state)
{
	struct ns_shared sh = { .w = fx_world_new(NULL, NS_FRAMES, 0) };
	struct gup_thread *th[NS_THREADS];
	uint64_t nulls;

	(void)state;
	assert_true(NS_THREADS * NS_HOLD < NS_FRAMES - 1);
	for (int i = 0; i < NS_THREADS; i++)
		th[i] = fx_thread_start(sh.w, ns_worker, &sh);
	for (int i = 0; i < NS_THREADS; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);
	nulls = atomic_load(&sh.nulls);
	if (nulls)
		print_error("%llu of %llu allocations failed with >= %d frames free\n",
			    (unsigned long long)nulls,
			    (unsigned long long)(nulls + atomic_load(&sh.allocs)),
			    NS_FRAMES - 1 - NS_THREADS * NS_HOLD);
	/* Tear down first, so that a failure below leaks nothing. */
	assert_int_equal(fx_nr_free(sh.w), NS_FRAMES - 1);
	fx_world_done(sh.w);
	assert_int_equal(atomic_load(&sh.errors), 0);
	assert_int_equal(nulls, 0);
}

/* ---- world lifecycle ------------------------------------------------------ */

static void test_world_bad_config(void **state)
{
	struct gup_world_config cfg = { .nr_frames = 64 };
	struct gup_world *w = (struct gup_world *)(uintptr_t)0x1;

	(void)state;
	assert_int_equal(gup_world_create(NULL, &w), -EINVAL);
	assert_int_equal(gup_world_create(&cfg, NULL), -EINVAL);
	cfg.nr_frames = 15;
	assert_int_equal(gup_world_create(&cfg, &w), -EINVAL);
	cfg.nr_frames = 0;
	assert_int_equal(gup_world_create(&cfg, &w), -EINVAL);
	cfg.nr_frames = 64;
	cfg.nr_movable = 64 - 7;
	assert_int_equal(gup_world_create(&cfg, &w), -EINVAL);
	cfg.nr_movable = 64;
	assert_int_equal(gup_world_create(&cfg, &w), -EINVAL);
	cfg.nr_movable = SIZE_MAX;
	assert_int_equal(gup_world_create(&cfg, &w), -EINVAL);
	cfg.nr_movable = 0;
	cfg.nr_frames = SIZE_MAX;	/* far beyond any arena */
	assert_int_equal(gup_world_create(&cfg, &w), -EINVAL);
	cfg.nr_frames = 64;
	cfg.nr_movable = 0;
	cfg.policy = "linux-9.9";
	assert_int_equal(gup_world_create(&cfg, &w), -EINVAL);
	cfg.policy = "";
	assert_int_equal(gup_world_create(&cfg, &w), -EINVAL);
	cfg.policy = "LINUX-6.X";
	assert_int_equal(gup_world_create(&cfg, &w), -EINVAL);
	/* Nothing was written on failure. */
	assert_ptr_equal(w, (struct gup_world *)(uintptr_t)0x1);

	/* The edges that are allowed. */
	cfg.policy = NULL;
	cfg.nr_frames = 16;
	cfg.nr_movable = 8;
	w = NULL;
	assert_int_equal(gup_world_create(&cfg, &w), 0);
	assert_non_null(w);
	assert_int_equal(fx_nr_free(w), 15);
	assert_int_equal(fx_meminfo(w).nr_movable_free, 8);
	fx_world_done(w);

	assert_int_equal(gup_world_destroy(NULL), -EINVAL);
}

static void test_world_policies(void **state)
{
	const char *const *names = gup_policy_names();
	const char *want[] = { "linux-6.x", "linux-2.6.29" };
	struct gup_world *w;
	size_t n = 0;

	(void)state;
	assert_non_null(names);
	while (names[n]) {
		assert_true(n < 64);
		n++;
	}
	assert_true(n >= 2);
	for (size_t i = 0; i < 2; i++) {
		struct gup_world_config cfg = { .nr_frames = 32, .policy = want[i] };
		bool listed = false;

		for (size_t j = 0; j < n; j++)
			listed |= strcmp(names[j], want[i]) == 0;
		assert_true(listed);
		w = NULL;
		assert_int_equal(gup_world_create(&cfg, &w), 0);
		assert_string_equal(gup_world_policy(w), want[i]);
		fx_world_done(w);
	}
	/* Every listed name creates a world that reports it back. */
	for (size_t j = 0; j < n; j++) {
		struct gup_world_config cfg = { .nr_frames = 32, .policy = names[j] };

		assert_int_equal(gup_world_create(&cfg, &w), 0);
		assert_string_equal(gup_world_policy(w), names[j]);
		fx_world_done(w);
	}
	/* NULL is the default, linux-6.x. */
	{
		struct gup_world_config cfg = { .nr_frames = 32, .prepopulate = true };

		assert_int_equal(gup_world_create(&cfg, &w), 0);
		assert_string_equal(gup_world_policy(w), "linux-6.x");
		fx_world_done(w);
	}
	assert_null(gup_world_policy(NULL));
}

static void test_world_destroy_busy(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	struct gup_mm *mm = NULL;
	struct gup_task *t = NULL;
	struct gup_mem_info mi;

	(void)state;
	assert_int_equal(gup_mm_create(w, &mm), 0);
	assert_int_equal(gup_world_destroy(w), -EBUSY);
	/* Nothing was freed: the world still works. */
	mi = fx_meminfo(w);
	assert_int_equal(mi.nr_mms, 1);
	assert_int_equal(mi.nr_tasks, 0);
	assert_int_equal(gup_task_create(mm, &t), 0);
	assert_int_equal(fx_meminfo(w).nr_tasks, 1);
	gup_mm_put(mm);		/* the task keeps the mm alive */
	assert_int_equal(gup_world_destroy(w), -EBUSY);
	assert_int_equal(fx_meminfo(w).nr_mms, 1);
	gup_task_exit(t);
	mi = fx_meminfo(w);
	assert_int_equal(mi.nr_mms, 0);
	assert_int_equal(mi.nr_tasks, 0);
	assert_int_equal(mi.nr_pgtables, 0);
	fx_world_done(w);
}

static void test_world_leak_report(void **state)
{
	FILE *rep = tmpfile();
	struct gup_world_config cfg = { .nr_frames = 64, .report = rep };
	struct gup_world *w = NULL;
	struct page *p, *q;
	uint64_t pfn;
	char line[512], want[64];
	int leak_lines = 0, summary_lines = 0, pfn_hit = 0;

	(void)state;
	assert_non_null(rep);
	assert_int_equal(gup_world_create(&cfg, &w), 0);
	p = alloc_page(w, GFP_KERNEL);
	q = alloc_page(w, GFP_KERNEL);
	assert_non_null(p);
	assert_non_null(q);
	page_ref_add(p, 1);	/* leaked: one reference nobody puts */
	page_ref_add(q, 1);
	put_page(w, q);		/* not leaked */
	pfn = pfn_of(w, p);
	assert_int_equal(gup_world_destroy(w), 1);

	snprintf(want, sizeof(want), "pfn %llu ", (unsigned long long)pfn);
	rewind(rep);
	while (fgets(line, sizeof(line), rep)) {
		if (strstr(line, "leak:")) {
			leak_lines++;
			pfn_hit += strstr(line, want) != NULL;
			assert_non_null(strstr(line, "refcount 1"));
		}
		if (strstr(line, "leaked at teardown"))
			summary_lines++;
	}
	assert_int_equal(leak_lines, 1);
	assert_int_equal(pfn_hit, 1);
	assert_int_equal(summary_lines, 1);
	fclose(rep);
}

/* Counters that must meet at teardown: an imbalance is reported by name. */
static void test_world_unbalanced_report(void **state)
{
	FILE *rep = tmpfile();
	struct gup_world_config cfg = { .nr_frames = 64, .report = rep };
	struct gup_world *w = NULL;
	char line[512];
	int pins = 0, others = 0;

	(void)state;
	assert_non_null(rep);
	assert_int_equal(gup_world_create(&cfg, &w), 0);
	/* A pin recorded as acquired and never released (no frame involved). */
	count_vm_event(w, GUP_STAT_PIN_ACQUIRED);
	assert_int_equal(gup_world_destroy(w), 0);	/* no frame leaked */
	rewind(rep);
	while (fgets(line, sizeof(line), rep)) {
		if (strstr(line, "unbalanced at teardown: 1 pins acquired, 0 released"))
			pins++;
		else
			others++;
	}
	assert_int_equal(pins, 1);
	assert_int_equal(others, 0);
	fclose(rep);
}

static void test_meminfo_stats_args(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 8);
	struct gup_mem_info mi;
	uint64_t s[GUP_NR_STATS];

	(void)state;
	assert_int_equal(gup_world_meminfo(NULL, &mi), -EINVAL);
	assert_int_equal(gup_world_meminfo(w, NULL), -EINVAL);
	assert_int_equal(gup_world_stats(NULL, s), -EINVAL);
	assert_int_equal(gup_world_stats(w, NULL), -EINVAL);
	assert_int_equal(gup_world_stats(w, s), 0);
	for (int i = 0; i < GUP_NR_STATS; i++) {
		assert_int_equal(s[i], 0);
		assert_non_null(gup_stat_name(i));
	}
	assert_null(gup_stat_name(GUP_NR_STATS));
	assert_string_equal(gup_stat_name(GUP_STAT_FRAME_ALLOC), "frame_alloc");
	mi = fx_meminfo(w);
	assert_int_equal(mi.nr_pgtables, 0);
	assert_int_equal(mi.nr_mms, 0);
	assert_int_equal(gup_world_check(NULL, stderr), -EINVAL);
	fx_world_done(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_struct_size),
		cmocka_unit_test(test_zero_page),
		cmocka_unit_test(test_alloc_exhaust_movable_first),
		cmocka_unit_test(test_alloc_kernel_never_movable),
		cmocka_unit_test(test_alloc_no_movable_zone),
		cmocka_unit_test(test_alloc_zero),
		cmocka_unit_test(test_arena_store_reuse),
		cmocka_unit_test(test_ref_try_add),
		cmocka_unit_test(test_ref_map_packing),
		cmocka_unit_test(test_maybe_dma_pinned),
		cmocka_unit_test(test_page_lock),
		cmocka_unit_test(test_page_lock_threads),
		cmocka_unit_test(test_alloc_free_concurrent),
		cmocka_unit_test(test_alloc_no_spurious_failure),
		cmocka_unit_test(test_world_bad_config),
		cmocka_unit_test(test_world_policies),
		cmocka_unit_test(test_world_destroy_busy),
		cmocka_unit_test(test_world_leak_report),
		cmocka_unit_test(test_world_unbalanced_report),
		cmocka_unit_test(test_meminfo_stats_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
