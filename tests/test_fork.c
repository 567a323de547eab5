/* SPDX-License-Identifier: MIT */
/*
 * tests/test_fork.c - fork() semantics: copy-on-write after fork, the fork-time
 * madvise flags, shared anonymous memory, fork chains, the early copy of pinned
 * pages (linux_anchor 1.12) and what a child's exit gives back.
 *
 * Every test builds its own small world, drives tasks through the public API and
 * checks real bytes with gup_store/gup_load.  The engine's counters pin down the
 * mechanism (copy or reuse, shared or copied at fork).  Where a design choice of a
 * policy changes the outcome, the test runs once per policy and asserts what that
 * policy must do; the rest run under both presets as well, since they must not
 * differ.  Internal headers are used only to look at PTEs and struct pages and to
 * simulate a FOLL_PIN the way GUP takes one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "mm/fault.h"
#include "world.h"

#include "common/fixture.h"

#define PG		GUP_PAGE_SIZE
#define NR_FRAMES	256
#define NR_MOVABLE	128

static struct gup_world *world_new(const char *policy)
{
	return fx_world_new(policy, NR_FRAMES, NR_MOVABLE);
}

/* ------------------------------------------------------------------------ */
/* Basic COW after fork                                                     */
/* ------------------------------------------------------------------------ */

#define NPAGES	8

/*
 * Parent writes A, forks; both map the same frames R/O; the parent's B copies
 * every page away (the child still maps the originals, so the parent cannot
 * reuse), the child's C then reuses its now-unshared pages.
 */
static void basic_cow_common(const char *policy, bool mprotect_dance)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, NPAGES);
	int64_t orig[NPAGES];
	struct fx_snap s;

	fx_fill_pages(p, a, NPAGES, 1);
	for (unsigned i = 0; i < NPAGES; i++) {
		struct page *pg = fx_page_at(p, a + i * PG);

		orig[i] = fx_pfn(p, a + i * PG);
		assert_true(pte_write(fx_pte(p, a + i * PG)));
		assert_true(PageAnonExclusive(pg));
	}

	fx_snap(w, &s);
	c = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	/* One shootdown for the whole fork, however many PTEs lost write. */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_FLUSH), 1);
	for (unsigned i = 0; i < NPAGES; i++) {
		struct page *pg = fx_page_at(p, a + i * PG);

		assert_int_equal(fx_pfn(c, a + i * PG), orig[i]);
		assert_false(pte_write(fx_pte(p, a + i * PG)));
		assert_false(pte_write(fx_pte(c, a + i * PG)));
		assert_false(PageAnonExclusive(pg));
		assert_int_equal(page_mapcount(pg), 2);
		assert_int_equal(page_ref_count(pg), 2);
	}
	assert_int_equal(fx_rss(p), NPAGES);
	assert_int_equal(fx_rss(c), NPAGES);
	fx_check(w);

	if (mprotect_dance) {
		/* cow.c's "mprotect() optimization": RO then RW before writing. */
		assert_int_equal(gup_mprotect(p, a, NPAGES * PG, GUP_PROT_READ), 0);
		assert_int_equal(gup_store(p, a, "x", 1), -EFAULT);
		assert_int_equal(gup_mprotect(p, a, NPAGES * PG,
					      GUP_PROT_READ | GUP_PROT_WRITE), 0);
		/* Shared pages must never be made writable by the upgrade. */
		for (unsigned i = 0; i < NPAGES; i++)
			assert_false(pte_write(fx_pte(p, a + i * PG)));
		fx_check(w);
	}

	fx_snap(w, &s);
	fx_fill_pages(p, a, NPAGES, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_not_equal(fx_pfn(p, a + i * PG), orig[i]);
		assert_int_equal(fx_pfn(c, a + i * PG), orig[i]);
		assert_true(PageAnonExclusive(fx_page_at(p, a + i * PG)));
	}
	fx_check_pages(c, a, NPAGES, 1);	/* no leak from parent into child */
	fx_check_pages(p, a, NPAGES, 2);
	fx_check(w);

	fx_snap(w, &s);
	fx_fill_pages(c, a, NPAGES, 3);
	/* The child is the only mapper of the originals now: reuse, no copy. */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(fx_pfn(c, a + i * PG), orig[i]);
		assert_int_not_equal(fx_pfn(c, a + i * PG), fx_pfn(p, a + i * PG));
	}
	fx_check_pages(p, a, NPAGES, 2);	/* no leak from child into parent */
	fx_check_pages(c, a, NPAGES, 3);
	fx_check(w);

	gup_task_exit(c);
	fx_check_pages(p, a, NPAGES, 2);
	gup_task_exit(p);
	fx_world_end(w);
}

static void fork_basic_cow(const char *policy)
{
	basic_cow_common(policy, false);
}
FX_PER_POLICY(fork_basic_cow)

static void fork_basic_cow_mprotect(const char *policy)
{
	basic_cow_common(policy, true);
}
FX_PER_POLICY(fork_basic_cow_mprotect)

/* ------------------------------------------------------------------------ */
/* Reuse once the other side is gone                                        */
/* ------------------------------------------------------------------------ */

/*
 * The child exits before the parent writes: each page is mapped once and holds
 * only the mapping's reference.  linux-6.x reuses by refcount == 1 (fork cleared
 * exclusivity), linux-2.6.29 by mapcount == 1: both reuse, nothing is copied.
 */
static void fork_child_exits_first(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, NPAGES);
	int64_t orig[NPAGES];
	struct fx_snap s;

	fx_fill_pages(p, a, NPAGES, 1);
	for (unsigned i = 0; i < NPAGES; i++)
		orig[i] = fx_pfn(p, a + i * PG);
	c = fx_fork(p);
	fx_check_pages(c, a, NPAGES, 1);
	gup_task_exit(c);
	fx_check(w);

	for (unsigned i = 0; i < NPAGES; i++) {
		struct page *pg = fx_page_at(p, a + i * PG);

		assert_false(PageAnonExclusive(pg));	/* fork cleared it for good */
		assert_int_equal(page_mapcount(pg), 1);
		assert_int_equal(page_ref_count(pg), 1);
		assert_false(pte_write(fx_pte(p, a + i * PG)));
	}

	fx_snap(w, &s);
	fx_fill_pages(p, a, NPAGES, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(fx_pfn(p, a + i * PG), orig[i]);
		assert_true(pte_write(fx_pte(p, a + i * PG)));
		assert_true(PageAnonExclusive(fx_page_at(p, a + i * PG)));
	}
	fx_check_pages(p, a, NPAGES, 2);
	fx_check(w);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fork_child_exits_first)

/* The mirror image: the parent exits, the orphaned child reuses and keeps its data. */
static void fork_parent_exits_first(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, NPAGES);
	int64_t orig[NPAGES];
	struct fx_snap s;

	fx_fill_pages(p, a, NPAGES, 4);
	for (unsigned i = 0; i < NPAGES; i++)
		orig[i] = fx_pfn(p, a + i * PG);
	c = fx_fork(p);
	gup_task_exit(p);
	fx_check(w);
	fx_check_pages(c, a, NPAGES, 4);

	fx_snap(w, &s);
	fx_fill_pages(c, a, NPAGES, 5);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_int_equal(fx_pfn(c, a + i * PG), orig[i]);
	fx_check_pages(c, a, NPAGES, 5);
	fx_check(w);
	gup_task_exit(c);
	fx_world_end(w);
}
FX_PER_POLICY(fork_parent_exits_first)

/* ------------------------------------------------------------------------ */
/* The zero page across fork                                                */
/* ------------------------------------------------------------------------ */

static void fork_zero_page(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, NPAGES);
	size_t free_before;
	struct fx_snap s;

	fx_snap(w, &s);
	fx_check_zero_pages(p, a, NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_ANON_READ), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	for (unsigned i = 0; i < NPAGES; i++) {
		uint64_t pte = fx_pte(p, a + i * PG);

		assert_int_equal(fx_pfn(p, a + i * PG), 0);
		assert_true(pte_special(pte));
		assert_false(pte_write(pte));
	}
	assert_int_equal(fx_rss(p), 0);

	free_before = fx_nr_free(w);
	fx_snap(w, &s);
	c = fx_fork(p);
	/* The zero page is special: copied as is, no frame counted or shared. */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(fx_nr_free(w), free_before);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(fx_pfn(c, a + i * PG), 0);
		assert_true(pte_special(fx_pte(c, a + i * PG)));
	}
	assert_int_equal(fx_rss(c), 0);
	fx_check(w);

	fx_snap(w, &s);
	fx_fill_pages(c, a, NPAGES, 7);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_ZERO), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
	assert_int_equal(fx_nr_free(w), free_before - NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		struct page *pg = fx_page_at(c, a + i * PG);

		assert_true(PageAnonExclusive(pg));
		assert_int_equal(page_mapcount(pg), 1);
		assert_int_equal(fx_pfn(p, a + i * PG), 0);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(fx_pfn(c, a + j * PG), fx_pfn(c, a + i * PG));
	}
	fx_check_pages(c, a, NPAGES, 7);
	fx_check_zero_pages(p, a, NPAGES);
	/* The shared zero frame itself is untouched. */
	for (size_t off = 0; off < PG; off++)
		assert_int_equal(page_data(&w->arena, zero_page(w))[off], 0);
	assert_int_equal(fx_rss(c), NPAGES);
	assert_int_equal(fx_rss(p), 0);
	fx_check(w);

	gup_task_exit(c);
	assert_int_equal(fx_nr_free(w), free_before);
	fx_check_zero_pages(p, a, NPAGES);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fork_zero_page)

/* ------------------------------------------------------------------------ */
/* MADV_DONTFORK / MADV_DOFORK                                              */
/* ------------------------------------------------------------------------ */

static void fork_dontfork(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c1, *c2;
	uint64_t a = fx_map_private(p, 6), hole = a + 2 * PG;
	uint8_t b = 0;
	struct fx_snap s;

	fx_fill_pages(p, a, 6, 1);
	assert_int_equal(gup_madvise(p, hole, 2 * PG, GUP_MADV_DONTFORK), 0);
	assert_int_equal(fx_nr_vmas(p), 3);

	fx_snap(w, &s);
	c1 = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	assert_int_equal(fx_nr_vmas(c1), 2);
	assert_int_equal(fx_rss(c1), 4);
	/* The child has a hole where the DONTFORK range was. */
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(gup_load(c1, hole + i * PG, &b, 1), -EFAULT);
		assert_int_equal(gup_store(c1, hole + i * PG, &b, 1), -EFAULT);
		assert_int_equal(fx_pfn(c1, hole + i * PG), -EFAULT);
	}
	fx_check_pages(c1, a, 2, 1);
	fx_check_pages(c1, a + 4 * PG, 2, 1);
	/* The parent keeps the range, still writable and exclusive: no COW there. */
	fx_check_pages(p, a, 6, 1);
	for (unsigned i = 0; i < 2; i++) {
		assert_true(pte_write(fx_pte(p, hole + i * PG)));
		assert_true(PageAnonExclusive(fx_page_at(p, hole + i * PG)));
	}
	fx_snap(w, &s);
	fx_fill_pages(p, hole, 2, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	fx_check(w);

	/* MADV_DOFORK: copied again by the next fork (and the VMAs merge back). */
	assert_int_equal(gup_madvise(p, hole, 2 * PG, GUP_MADV_DOFORK), 0);
	assert_int_equal(fx_nr_vmas(p), 1);
	fx_snap(w, &s);
	c2 = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 6);
	assert_int_equal(fx_nr_vmas(c2), 1);
	fx_check_pages(c2, a, 2, 1);
	fx_check_pages(c2, hole, 2, 2);
	fx_check_pages(c2, a + 4 * PG, 2, 1);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(fx_pfn(c2, a + i * PG), fx_pfn(p, a + i * PG));
	/* ... and is COW-protected from the parent like any other page. */
	fx_fill_pages(p, hole, 2, 3);
	fx_check_pages(c2, hole, 2, 2);
	fx_check_pages(p, hole, 2, 3);
	/* The first child never sees any of it. */
	assert_int_equal(gup_load(c1, hole, &b, 1), -EFAULT);
	fx_check(w);

	gup_task_exit(c1);
	gup_task_exit(c2);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fork_dontfork)

/* ------------------------------------------------------------------------ */
/* MADV_WIPEONFORK / MADV_KEEPONFORK                                        */
/* ------------------------------------------------------------------------ */

static void fork_wipeonfork(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c1, *c2;
	uint64_t a = fx_map_private(p, 6), wipe = a + 2 * PG;
	uint64_t sh = fx_map_anon(p, 2, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_SHARED);
	struct fx_snap s;

	fx_fill_pages(p, a, 6, 1);
	assert_int_equal(gup_madvise(p, wipe, 2 * PG, GUP_MADV_WIPEONFORK), 0);
	/* Only private anonymous memory can be wiped. */
	assert_int_equal(gup_madvise(p, sh, 2 * PG, GUP_MADV_WIPEONFORK), -EINVAL);

	fx_snap(w, &s);
	c1 = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	assert_int_equal(fx_rss(c1), 4);
	/* The wiped range exists in the child but starts empty: zero-fill. */
	assert_int_equal(fx_pfn(c1, wipe), -EFAULT);
	fx_check_zero_pages(c1, wipe, 2);
	fx_check_pages(c1, a, 2, 1);		/* the neighbours are inherited */
	fx_check_pages(c1, a + 4 * PG, 2, 1);
	fx_check_pages(p, a, 6, 1);		/* the parent keeps everything */
	/* The parent's wiped range was not even write-protected. */
	fx_snap(w, &s);
	fx_fill_pages(p, wipe, 2, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 0);
	/* The child's fresh memory is its own. */
	fx_fill_pages(c1, wipe, 2, 3);
	fx_check_pages(p, wipe, 2, 2);
	fx_check_pages(c1, wipe, 2, 3);
	fx_check(w);

	/* The child's VMA keeps the advice: its own child starts wiped too. */
	{
		struct gup_task *gc = fx_fork(c1);

		fx_check_zero_pages(gc, wipe, 2);
		fx_check_pages(gc, a, 2, 1);
		fx_check_pages(c1, wipe, 2, 3);
		gup_task_exit(gc);
	}

	/* MADV_KEEPONFORK: inherited again by the next fork. */
	assert_int_equal(gup_madvise(p, wipe, 2 * PG, GUP_MADV_KEEPONFORK), 0);
	c2 = fx_fork(p);
	fx_check_pages(c2, a, 2, 1);
	fx_check_pages(c2, wipe, 2, 2);
	fx_check_pages(c2, a + 4 * PG, 2, 1);
	fx_check(w);

	gup_task_exit(c1);
	gup_task_exit(c2);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fork_wipeonfork)

/* ------------------------------------------------------------------------ */
/* Shared anonymous memory                                                  */
/* ------------------------------------------------------------------------ */

static void fork_shared_anon(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t sh = fx_map_anon(p, 4, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_SHARED);
	uint64_t pr = fx_map_private(p, 4);
	struct fx_snap s;

	fx_fill_pages(p, sh, 4, 1);
	fx_fill_pages(p, pr, 4, 1);

	fx_snap(w, &s);
	c = fx_fork(p);
	/* Only the private mapping's PTEs are shared COW. */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	fx_check_pages(c, sh, 4, 1);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(fx_pfn(c, sh + i * PG), fx_pfn(p, sh + i * PG));

	fx_snap(w, &s);
	fx_fill_pages(c, sh + PG, 1, 2);		/* child -> parent */
	fx_fill_pages(p, sh + 2 * PG, 1, 3);	/* parent -> child */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	for (struct gup_task *t = p;; t = c) {
		fx_check_pages(t, sh, 1, 1);
		fx_check_pages(t, sh + PG, 1, 2);
		fx_check_pages(t, sh + 2 * PG, 1, 3);
		fx_check_pages(t, sh + 3 * PG, 1, 1);
		if (t == c)
			break;
	}
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(fx_pfn(c, sh + i * PG), fx_pfn(p, sh + i * PG));

	/* The private neighbour is copy-on-write as usual. */
	fx_snap(w, &s);
	fx_fill_pages(c, pr, 4, 4);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 4);
	fx_check_pages(p, pr, 4, 1);
	fx_check_pages(c, pr, 4, 4);
	fx_check(w);

	/* The object outlives the child's mapping. */
	gup_task_exit(c);
	fx_check_pages(p, sh + PG, 1, 2);
	fx_check(w);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fork_shared_anon)

/* ------------------------------------------------------------------------ */
/* Fork chains                                                              */
/* ------------------------------------------------------------------------ */

/* Each process sees the snapshot of its own fork time, whatever the others do. */
static void fork_grandchild_and_siblings(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c1, *c2, *gc, *c3;
	uint64_t a = fx_map_private(p, 4);
	struct gup_mem_info mi;
	struct fx_snap s;

	fx_snap(w, &s);
	fx_fill_pages(p, a, 4, 1);
	c1 = fx_fork(p);		/* c1: 1 */
	fx_fill_pages(p, a, 4, 2);
	c2 = fx_fork(p);		/* c2: 2 */
	fx_fill_pages(c1, a, 4, 3);
	gc = fx_fork(c1);		/* gc: 3 */
	fx_fill_pages(c1, a, 4, 4);
	c3 = fx_fork(p);		/* c3: 2, shared with c2 and p */
	fx_fill_pages(p, a, 4, 5);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK), 4);
	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	assert_int_equal(mi.nr_mms, 5);
	assert_int_equal(mi.nr_tasks, 5);

	fx_check_pages(p, a, 4, 5);
	fx_check_pages(c1, a, 4, 4);
	fx_check_pages(c2, a, 4, 2);
	fx_check_pages(c3, a, 4, 2);
	fx_check_pages(gc, a, 4, 3);
	for (unsigned i = 0; i < 4; i++) {
		/* c2 and c3 still share the generation-2 frames, three ways no more. */
		struct page *pg = fx_page_at(c2, a + i * PG);

		assert_int_equal(fx_pfn(c3, a + i * PG), fx_pfn(c2, a + i * PG));
		assert_int_equal(page_mapcount(pg), 2);
	}
	fx_check(w);

	/* Writes after the forks stay private to the writer. */
	fx_fill_pages(c2, a, 4, 6);
	fx_fill_pages(gc, a, 4, 7);
	fx_check_pages(c3, a, 4, 2);
	fx_check_pages(c2, a, 4, 6);
	fx_check_pages(gc, a, 4, 7);
	fx_check_pages(c1, a, 4, 4);
	fx_check_pages(p, a, 4, 5);
	fx_check(w);

	/* Exits in any order leave the survivors intact. */
	gup_task_exit(c1);
	fx_check_pages(gc, a, 4, 7);
	gup_task_exit(p);
	fx_check_pages(c3, a, 4, 2);
	fx_check(w);
	gup_task_exit(c3);
	gup_task_exit(gc);
	fx_check_pages(c2, a, 4, 6);
	gup_task_exit(c2);
	fx_world_end(w);
}
FX_PER_POLICY(fork_grandchild_and_siblings)

/* A read-only private mapping: nothing to write-protect, so no flush at fork. */
static void fork_readonly_mapping(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, 4);
	struct fx_snap s;

	fx_fill_pages(p, a, 4, 1);
	assert_int_equal(gup_mprotect(p, a, 4 * PG, GUP_PROT_READ), 0);
	fx_snap(w, &s);
	c = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_FLUSH), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_false(PageAnonExclusive(fx_page_at(p, a + i * PG)));
	/* Both make it writable again: the pages are shared, so each write copies
	 * until only one mapper is left. */
	assert_int_equal(gup_mprotect(p, a, 4 * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_int_equal(gup_mprotect(c, a, 4 * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_false(pte_write(fx_pte(p, a + i * PG)));
		assert_false(pte_write(fx_pte(c, a + i * PG)));
	}
	fx_snap(w, &s);
	fx_fill_pages(c, a, 4, 2);
	fx_fill_pages(p, a, 4, 3);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 4);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 4);
	fx_check_pages(c, a, 4, 2);
	fx_check_pages(p, a, 4, 3);
	fx_check(w);
	gup_task_exit(c);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fork_readonly_mapping)

/*
 * Another task of the parent holds writable TLB entries when the parent forks:
 * fork's shootdown must end them, so that task's next store copies instead of
 * writing into the frame the child now shares.
 */
static void fork_other_task_writable_entry(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t1 = fx_task_new(w), *t2 = NULL, *c;
	uint64_t a = fx_map_private(t1, 4);
	struct fx_snap s;

	assert_int_equal(gup_task_create(gup_task_mm(t1), &t2), 0);
	fx_fill_pages(t1, a, 4, 1);
	fx_fill_pages(t2, a, 4, 2);	/* t2 now caches writable entries */
	fx_check_pages(t1, a, 4, 2);

	fx_snap(w, &s);
	c = fx_fork(t1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_FLUSH), 1);
	assert_true(fx_delta(w, &s, GUP_STAT_TLB_SHOOTDOWN) >= 2);	/* both tasks reached */

	fx_snap(w, &s);
	fx_fill_pages(t2, a, 4, 3);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 4);
	fx_check_pages(c, a, 4, 2);	/* no leak from the parent's other thread */
	fx_check_pages(t1, a, 4, 3);
	fx_check_pages(t2, a, 4, 3);
	fx_check(w);

	gup_task_exit(c);
	gup_task_exit(t2);
	gup_task_exit(t1);
	fx_world_end(w);
}
FX_PER_POLICY(fork_other_task_writable_entry)

/*
 * PROT_NONE PTEs of a private mapping are copied as they are (still mapping the
 * frame); after both sides make the range accessible again, it is COW as usual.
 */
static void fork_prot_none(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, 3);
	int64_t pfn[3];
	uint8_t b;
	struct fx_snap s;

	fx_fill_pages(p, a, 3, 1);
	for (unsigned i = 0; i < 3; i++)
		pfn[i] = fx_pfn(p, a + i * PG);
	assert_int_equal(gup_mprotect(p, a, 3 * PG, GUP_PROT_NONE), 0);
	assert_int_equal(gup_load(p, a, &b, 1), -EFAULT);

	fx_snap(w, &s);
	c = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(fx_pfn(c, a + i * PG), pfn[i]);
		assert_true(pte_protnone(fx_pte(c, a + i * PG)));
		assert_false(PageAnonExclusive(fx_page_at(p, a + i * PG)));
	}
	assert_int_equal(gup_load(c, a, &b, 1), -EFAULT);
	assert_int_equal(fx_rss(c), 3);
	fx_check(w);

	assert_int_equal(gup_mprotect(p, a, 3 * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_int_equal(gup_mprotect(c, a, 3 * PG, GUP_PROT_READ), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_false(pte_write(fx_pte(p, a + i * PG)));
	fx_check_pages(c, a, 3, 1);
	fx_snap(w, &s);
	fx_fill_pages(p, a, 3, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 3);
	fx_check_pages(c, a, 3, 1);
	fx_check_pages(p, a, 3, 2);
	assert_int_equal(gup_store(c, a, &b, 1), -EFAULT);
	fx_check(w);
	gup_task_exit(c);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fork_prot_none)

/* ------------------------------------------------------------------------ */
/* Early copy of pinned pages at fork (linux_anchor 1.12)                   */
/* ------------------------------------------------------------------------ */

/*
 * A page of the parent is FOLL_PIN'ed (as for DMA), then the parent forks and
 * writes it.  linux-6.x copies the maybe-pinned exclusive page for the child at
 * fork and leaves the parent's PTE writable: the parent's later store lands in
 * the pinned frame, and so does a DMA write seen by the parent.  linux-2.6.29
 * shares it; the parent's store COWs the page away, so the pinned frame (where the
 * device reads and writes) is now the child's - the 2009 bug (seed 004 R1).
 */
static void fork_early_copy_pinned(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, 4), pa = a + PG;
	struct page *pinned;
	int64_t pinned_pfn, child_pfn;
	uint8_t mark[16], got[16];
	struct fx_snap s;

	fx_fill_pages(p, a, 4, 1);
	pinned = fx_foll_pin(p, pa, true);
	pinned_pfn = fx_pfn(p, pa);
	assert_true(PageAnonExclusive(pinned));
	assert_int_equal(page_ref_count(pinned), 1 + GUP_PIN_COUNTING_BIAS);
	fx_check(w);

	fx_snap(w, &s);
	c = fx_fork(p);
	child_pfn = fx_pfn(c, pa);
	fx_check_pages(c, a, 4, 1);	/* same data either way */
	fx_check(w);
	if (fx_policy_is_new(policy)) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 1);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 3);
		assert_int_not_equal(child_pfn, pinned_pfn);
		assert_true(PageAnonExclusive(fx_page_at(c, pa)));
		assert_true(pte_write(fx_pte(c, pa)));
		/* The parent's side is untouched. */
		assert_int_equal(fx_pfn(p, pa), pinned_pfn);
		assert_true(pte_write(fx_pte(p, pa)));
		assert_true(PageAnonExclusive(pinned));
		assert_int_equal(page_mapcount(pinned), 1);
		assert_int_equal(page_ref_count(pinned), 1 + GUP_PIN_COUNTING_BIAS);
		/* The other pages were shared normally. */
		assert_int_equal(fx_pfn(c, a), fx_pfn(p, a));
		assert_false(pte_write(fx_pte(p, a)));
	} else {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
		assert_int_equal(child_pfn, pinned_pfn);
		assert_false(pte_write(fx_pte(p, pa)));
		assert_int_equal(page_mapcount(pinned), 2);
	}

	/* The parent writes the pinned page. */
	fx_snap(w, &s);
	fx_fill_pages(p, pa, 1, 2);
	fx_check_pages(p, pa, 1, 2);
	fx_check_pages(c, pa, 1, 1);
	if (fx_policy_is_new(policy)) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 0);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
		assert_int_equal(fx_pfn(p, pa), pinned_pfn);
		/* The pin stays coherent with the parent. */
		assert_true(fx_frame_has(w, pinned, 2, pa));
	} else {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 1);
		assert_int_not_equal(fx_pfn(p, pa), pinned_pfn);
		assert_int_equal(fx_pfn(c, pa), pinned_pfn);
		/* The pinned frame lost the parent's store: it is the child's now. */
		assert_true(fx_frame_has(w, pinned, 1, pa));
		assert_false(fx_frame_has(w, pinned, 2, pa));
	}
	fx_check(w);

	/* The device writes through the pin (a DMA into the frame). */
	memset(mark, 0xd3, sizeof(mark));
	memcpy(page_data(&w->arena, pinned) + 100, mark, sizeof(mark));
	if (fx_policy_is_new(policy)) {
		assert_int_equal(gup_load(p, pa + 100, got, sizeof(got)), 0);
		assert_memory_equal(got, mark, sizeof(mark));	/* the parent sees it */
		fx_check_pages(c, pa, 1, 1);			/* the child does not */
	} else {
		assert_int_equal(gup_load(c, pa + 100, got, sizeof(got)), 0);
		assert_memory_equal(got, mark, sizeof(mark));	/* leaked into the child */
		fx_check_pages(p, pa, 1, 2);			/* lost for the parent */
	}

	if (fx_policy_is_new(policy)) {
		struct gup_task *c2;

		/* The child's copy is its own, writable at once. */
		fx_snap(w, &s);
		fx_fill_pages(c, pa, 1, 3);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);
		assert_int_equal(fx_pfn(c, pa), child_pfn);
		assert_int_equal(gup_load(p, pa + 100, got, sizeof(got)), 0);
		assert_memory_equal(got, mark, sizeof(mark));

		/* Still pinned and exclusive: the next fork copies it again. */
		fx_snap(w, &s);
		c2 = fx_fork(p);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 1);
		assert_int_not_equal(fx_pfn(c2, pa), pinned_pfn);
		assert_int_not_equal(fx_pfn(c2, pa), child_pfn);
		assert_int_equal(gup_load(c2, pa + 100, got, sizeof(got)), 0);
		assert_memory_equal(got, mark, sizeof(mark));	/* the snapshot, DMA included */
		assert_true(pte_write(fx_pte(p, pa)));
		fx_check(w);
		gup_task_exit(c2);
	}

	fx_foll_unpin(w, pinned);
	fx_check(w);
	gup_task_exit(c);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fork_early_copy_pinned)

/*
 * The early copy needs a frame.  With none free, linux-6.x's fork fails with
 * -ENOMEM and leaves the parent usable: same data, the pinned page still its own
 * and writable, no child mm left behind, nothing leaked; the pages it had already
 * write-protected are reused on the next write (nobody else maps them).
 * linux-2.6.29 needs no frame and forks.  Once a frame is free, fork works.
 */
static void fork_enomem_early_copy(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c = NULL;
	size_t n = fx_nr_free(w);
	uint64_t a = fx_map_private(p, (unsigned)n), pa = a + (n / 2) * PG;
	struct gup_mem_info mi;
	struct page *pinned;
	struct fx_snap s;
	int ret;

	fx_fill_pages(p, a, (unsigned)n, 1);
	assert_int_equal(fx_nr_free(w), 0);
	pinned = fx_foll_pin(p, pa, true);

	fx_snap(w, &s);
	ret = gup_fork(p, &c);
	if (fx_policy_is_new(policy)) {
		assert_int_equal(ret, -ENOMEM);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK), 0);
		assert_int_equal(gup_world_meminfo(w, &mi), 0);
		assert_int_equal(mi.nr_mms, 1);
		assert_int_equal(mi.nr_tasks, 1);
		assert_int_equal(fx_nr_free(w), 0);
		assert_int_equal(fx_rss(p), n);
		assert_true(PageAnonExclusive(pinned));
		assert_true(pte_write(fx_pte(p, pa)));
		assert_int_equal(page_mapcount(pinned), 1);
		fx_check(w);
		fx_check_pages(p, a, (unsigned)n, 1);

		/* Every page is the parent's alone: writes need no frame. */
		fx_snap(w, &s);
		fx_fill_pages(p, a, (unsigned)n, 2);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
		assert_true(fx_frame_has(w, pinned, 2, pa));
		fx_check_pages(p, a, (unsigned)n, 2);
		fx_check(w);

		/* One free frame is all the early copy needs. */
		assert_int_equal(gup_munmap(p, a, PG), 0);
		assert_int_equal(fx_nr_free(w), 1);
		c = fx_fork(p);
		assert_int_equal(fx_nr_free(w), 0);
		fx_check_pages(c, a + PG, (unsigned)n - 1, 2);
		assert_int_not_equal(fx_pfn(c, pa), fx_pfn(p, pa));
	} else {
		assert_int_equal(ret, 0);
		assert_non_null(c);
		assert_int_equal(fx_nr_free(w), 0);
		fx_check_pages(c, a, (unsigned)n, 1);
		assert_int_equal(fx_pfn(c, pa), fx_pfn(p, pa));
		/* And no frame for the parent's COW: the store fails, nothing changes. */
		assert_true(gup_fill(p, pa, 0x99, 1) < 0);
		fx_check_pages(p, a, (unsigned)n, 1);
		fx_check_pages(c, a, (unsigned)n, 1);
	}
	fx_check(w);
	fx_foll_unpin(w, pinned);
	gup_task_exit(c);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fork_enomem_early_copy)

/*
 * MMF_HAS_PINNED is sticky, but only a page that may actually be pinned is copied
 * at fork; and a pinned page in an mm without the flag is shared (the flag gates
 * the whole check, linux_anchor 1.6).
 */
static void fork_has_pinned_but_unpinned(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c1, *c2;
	struct gup_mm *mm = gup_task_mm(p);
	uint64_t a = fx_map_private(p, 4);
	struct page *pinned;
	struct fx_snap s;

	fx_fill_pages(p, a, 4, 1);
	set_bit(MMF_HAS_PINNED, &mm->flags);
	fx_snap(w, &s);
	c1 = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(fx_pfn(c1, a + i * PG), fx_pfn(p, a + i * PG));
	fx_check_pages(c1, a, 4, 1);
	gup_task_exit(c1);
	fx_check(w);

	/* A pinned page of an mm that was never marked: shared as well. */
	gup_task_exit(p);
	p = fx_task_new(w);
	mm = gup_task_mm(p);
	a = fx_map_private(p, 2);
	fx_fill_pages(p, a, 2, 2);
	pinned = fx_foll_pin(p, a, false);
	assert_false(test_bit(MMF_HAS_PINNED, &mm->flags));
	fx_snap(w, &s);
	c2 = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 2);
	assert_int_equal(fx_pfn(c2, a), fx_pfn(p, a));
	fx_check_pages(c2, a, 2, 2);
	fx_check(w);
	fx_foll_unpin(w, pinned);
	gup_task_exit(c2);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fork_has_pinned_but_unpinned)

/* ------------------------------------------------------------------------ */
/* RSS and free memory                                                      */
/* ------------------------------------------------------------------------ */

static void fork_rss_meminfo(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, NPAGES), ca, cz;
	size_t free0 = fx_nr_free(w), free_forked;
	struct gup_mem_info mi;

	fx_fill_pages(p, a, NPAGES, 1);
	assert_int_equal(fx_nr_free(w), free0 - NPAGES);
	assert_int_equal(fx_rss(p), NPAGES);

	c = fx_fork(p);
	free_forked = fx_nr_free(w);
	assert_int_equal(free_forked, free0 - NPAGES);	/* sharing costs no frame */
	assert_int_equal(fx_rss(c), NPAGES);
	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	assert_int_equal(mi.nr_mms, 2);
	assert_int_equal(mi.nr_tasks, 2);

	/* The child COWs 3 pages, maps 4 new ones, and reads 2 (zero page). */
	fx_fill_pages(c, a, 3, 2);
	assert_int_equal(fx_nr_free(w), free_forked - 3);
	ca = fx_map_private(c, 4);
	fx_fill_pages(c, ca, 4, 3);
	cz = fx_map_private(c, 2);
	fx_check_zero_pages(c, cz, 2);
	assert_int_equal(fx_nr_free(w), free_forked - 7);
	assert_int_equal(fx_rss(c), NPAGES + 4);
	assert_int_equal(fx_rss(p), NPAGES);
	fx_check(w);

	/* Everything the child alone owned comes back when it exits. */
	gup_task_exit(c);
	assert_int_equal(fx_nr_free(w), free_forked);
	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	assert_int_equal(mi.nr_mms, 1);
	assert_int_equal(mi.nr_tasks, 1);
	assert_int_equal(fx_rss(p), NPAGES);
	fx_check_pages(p, a, NPAGES, 1);
	fx_check(w);

	gup_task_exit(p);
	assert_int_equal(fx_nr_free(w), free0);
	fx_world_end(w);
}
FX_PER_POLICY(fork_rss_meminfo)

int main(void)
{
	const struct CMUnitTest fork_tests[] = {
		FX_POLICY_TESTS(fork_basic_cow),
		FX_POLICY_TESTS(fork_basic_cow_mprotect),
		FX_POLICY_TESTS(fork_child_exits_first),
		FX_POLICY_TESTS(fork_parent_exits_first),
		FX_POLICY_TESTS(fork_zero_page),
		FX_POLICY_TESTS(fork_dontfork),
		FX_POLICY_TESTS(fork_wipeonfork),
		FX_POLICY_TESTS(fork_shared_anon),
		FX_POLICY_TESTS(fork_grandchild_and_siblings),
		FX_POLICY_TESTS(fork_readonly_mapping),
		FX_POLICY_TESTS(fork_other_task_writable_entry),
		FX_POLICY_TESTS(fork_prot_none),
		FX_POLICY_TESTS(fork_early_copy_pinned),
		FX_POLICY_TESTS(fork_enomem_early_copy),
		FX_POLICY_TESTS(fork_has_pinned_but_unpinned),
		FX_POLICY_TESTS(fork_rss_meminfo),
	};

	return cmocka_run_group_tests(fork_tests, NULL, NULL);
}
