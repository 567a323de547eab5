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
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "mm/fault.h"
#include "world.h"

#define PG		GUP_PAGE_SIZE
#define NR_FRAMES	256
#define NR_MOVABLE	128

static const char POL_NEW[] = "linux-6.x";
static const char POL_OLD[] = "linux-2.6.29";

static bool is_new(const char *policy)
{
	return strcmp(policy, POL_NEW) == 0;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static struct gup_world *world_new(const char *policy)
{
	struct gup_world_config cfg = {
		.nr_frames = NR_FRAMES,
		.nr_movable = NR_MOVABLE,
		.policy = policy,
	};
	struct gup_world *w = NULL;

	assert_int_equal(gup_world_create(&cfg, &w), 0);
	assert_non_null(w);
	assert_string_equal(gup_world_policy(w), policy);
	return w;
}

static struct gup_task *task_new(struct gup_world *w)
{
	struct gup_mm *mm = NULL;
	struct gup_task *t = NULL;

	assert_int_equal(gup_mm_create(w, &mm), 0);
	assert_int_equal(gup_task_create(mm, &t), 0);
	gup_mm_put(mm);		/* the task holds the mm now */
	return t;
}

static struct gup_task *fork_ok(struct gup_task *t)
{
	struct gup_task *c = NULL;

	assert_int_equal(gup_fork(t, &c), 0);
	assert_non_null(c);
	assert_ptr_not_equal(gup_task_mm(c), gup_task_mm(t));
	return c;
}

static uint64_t map_anon(struct gup_task *t, unsigned nr_pages, int prot, int flags)
{
	uint64_t addr = 0;

	assert_int_equal(gup_mmap(t, 0, nr_pages * PG, prot, flags | GUP_MAP_ANONYMOUS, &addr),
			 0);
	assert_int_not_equal(addr, 0);
	return addr;
}

static uint64_t map_private(struct gup_task *t, unsigned nr_pages)
{
	return map_anon(t, nr_pages, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_PRIVATE);
}

static void check_world(struct gup_world *w)
{
	assert_int_equal(gup_world_check(w, stderr), 0);
}

/* All tasks have exited: everything is back on the free lists, then tear down. */
static void world_end(struct gup_world *w)
{
	struct gup_mem_info mi;

	check_world(w);
	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	assert_int_equal(mi.nr_mms, 0);
	assert_int_equal(mi.nr_tasks, 0);
	assert_int_equal(mi.nr_free, mi.nr_frames - 1);	/* all but the zero page */
	assert_int_equal(mi.nr_pgtables, 0);
	assert_int_equal(gup_world_destroy(w), 0);
}

struct snap {
	uint64_t v[GUP_NR_STATS];
};

static void snap(struct gup_world *w, struct snap *s)
{
	assert_int_equal(gup_world_stats(w, s->v), 0);
}

static uint64_t delta(struct gup_world *w, const struct snap *s, enum gup_stat_item i)
{
	uint64_t now[GUP_NR_STATS];

	assert_int_equal(gup_world_stats(w, now), 0);
	return now[i] - s->v[i];
}

/* The bytes of page @vpn for pattern @seed: distinct per seed and per page. */
static uint8_t pat_byte(unsigned seed, uint64_t vpn, size_t off)
{
	return (uint8_t)(off * 7 + (off >> 8) + vpn * 13 + seed * 101 + 1);
}

static void make_page(uint8_t *buf, unsigned seed, uint64_t addr)
{
	for (size_t off = 0; off < PG; off++)
		buf[off] = pat_byte(seed, addr / PG, off);
}

static void fill_pages(struct gup_task *t, uint64_t addr, unsigned n, unsigned seed)
{
	static uint8_t buf[GUP_PAGE_SIZE];

	for (unsigned i = 0; i < n; i++) {
		make_page(buf, seed, addr + i * PG);
		assert_int_equal(gup_store(t, addr + i * PG, buf, PG), 0);
	}
}

/* Page by page: @t reads pattern @seed at [addr, addr + n pages). */
static void check_pages(struct gup_task *t, uint64_t addr, unsigned n, unsigned seed)
{
	static uint8_t want[GUP_PAGE_SIZE], got[GUP_PAGE_SIZE];

	for (unsigned i = 0; i < n; i++) {
		make_page(want, seed, addr + i * PG);
		memset(got, 0x5a, PG);
		assert_int_equal(gup_load(t, addr + i * PG, got, PG), 0);
		if (memcmp(want, got, PG) != 0)
			fail_msg("page %u at %#llx: not pattern %u (first byte %#x, want %#x)", i,
				 (unsigned long long)(addr + i * PG), seed, got[0], want[0]);
	}
}

static void check_zero_pages(struct gup_task *t, uint64_t addr, unsigned n)
{
	static uint8_t got[GUP_PAGE_SIZE];

	for (unsigned i = 0; i < n; i++) {
		memset(got, 0x5a, PG);
		assert_int_equal(gup_load(t, addr + i * PG, got, PG), 0);
		for (size_t off = 0; off < PG; off++)
			if (got[off])
				fail_msg("page %u at %#llx: byte %zu is %#x, want 0", i,
					 (unsigned long long)(addr + i * PG), off, got[off]);
	}
}

/* Does frame @page hold pattern @seed of address @addr? (reads the frame itself) */
static bool frame_has(struct gup_world *w, struct page *page, unsigned seed, uint64_t addr)
{
	static uint8_t want[GUP_PAGE_SIZE];

	make_page(want, seed, addr);
	return memcmp(page_data(&w->arena, page), want, PG) == 0;
}

static int64_t pfn_of(struct gup_task *t, uint64_t addr)
{
	return gup_mm_pfn(gup_task_mm(t), addr);
}

static uint64_t pte_of(struct gup_task *t, uint64_t addr)
{
	struct gup_mm *mm = gup_task_mm(t);
	struct pgtable *pt;
	pte_t *ptep;
	uint64_t pte;

	mmap_read_lock(mm);
	ptep = pte_offset_map(mm, addr, &pt);
	pte = ptep ? ptep_get(ptep) : 0;
	mmap_read_unlock(mm);
	return pte;
}

static struct page *page_at(struct gup_world *w, struct gup_task *t, uint64_t addr)
{
	int64_t pfn = pfn_of(t, addr);

	assert_true(pfn > 0);
	return pfn_to_page(&w->arena, (uint64_t)pfn);
}

static size_t rss_of(struct gup_task *t)
{
	struct gup_mm_info mi;

	assert_int_equal(gup_mm_info(gup_task_mm(t), &mi), 0);
	return mi.rss;
}

static size_t nr_vmas_of(struct gup_task *t)
{
	struct gup_mm_info mi;

	assert_int_equal(gup_mm_info(gup_task_mm(t), &mi), 0);
	return mi.nr_vmas;
}

static size_t nr_free(struct gup_world *w)
{
	struct gup_mem_info mi;

	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	return mi.nr_free;
}

/*
 * A FOLL_PIN on the page mapped at @addr, taken as GUP takes it on a small page:
 * under the mmap lock, through the PTE, refcount += GUP_PIN_COUNTING_BIAS, the mm
 * marked MMF_HAS_PINNED (sticky), and the pin counted so the checker balances.
 */
static struct page *sim_pin(struct gup_world *w, struct gup_task *t, uint64_t addr,
			    bool mark_mm)
{
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_vma *vma;
	struct pgtable *pt;
	struct page *page = NULL;
	pte_t *ptep;
	uint64_t pte = 0;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	ptep = pte_offset_map(mm, addr, &pt);
	if (vma && ptep) {
		pte = ptep_get(ptep);
		if (pte_present(pte))
			page = vm_normal_page(vma, addr, pte);
	}
	if (page) {
		page_ref_add(page, GUP_PIN_COUNTING_BIAS);
		if (mark_mm)
			set_bit(MMF_HAS_PINNED, &mm->flags);
		count_vm_event(w, GUP_STAT_PIN_ACQUIRED);
	}
	mmap_read_unlock(mm);
	assert_non_null(page);
	assert_true(page_maybe_dma_pinned(page));
	return page;
}

static void sim_unpin(struct gup_world *w, struct page *page)
{
	page_ref_sub(w, page, GUP_PIN_COUNTING_BIAS);
	count_vm_event(w, GUP_STAT_PIN_RELEASED);
}

/* One cmocka test per policy for a scenario taking the policy name. */
#define PER_POLICY(fn)                                                          \
	static void fn##__linux6(void **state) { (void)state; fn(POL_NEW); }    \
	static void fn##__linux2629(void **state) { (void)state; fn(POL_OLD); }
#define POLICY_TESTS(fn) cmocka_unit_test(fn##__linux6), cmocka_unit_test(fn##__linux2629)

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
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, NPAGES);
	int64_t orig[NPAGES];
	struct snap s;

	fill_pages(p, a, NPAGES, 1);
	for (unsigned i = 0; i < NPAGES; i++) {
		struct page *pg = page_at(w, p, a + i * PG);

		orig[i] = pfn_of(p, a + i * PG);
		assert_true(pte_write(pte_of(p, a + i * PG)));
		assert_true(PageAnonExclusive(pg));
	}

	snap(w, &s);
	c = fork_ok(p);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), NPAGES);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	/* One shootdown for the whole fork, however many PTEs lost write. */
	assert_int_equal(delta(w, &s, GUP_STAT_TLB_FLUSH), 1);
	for (unsigned i = 0; i < NPAGES; i++) {
		struct page *pg = page_at(w, p, a + i * PG);

		assert_int_equal(pfn_of(c, a + i * PG), orig[i]);
		assert_false(pte_write(pte_of(p, a + i * PG)));
		assert_false(pte_write(pte_of(c, a + i * PG)));
		assert_false(PageAnonExclusive(pg));
		assert_int_equal(page_mapcount(pg), 2);
		assert_int_equal(page_ref_count(pg), 2);
	}
	assert_int_equal(rss_of(p), NPAGES);
	assert_int_equal(rss_of(c), NPAGES);
	check_world(w);

	if (mprotect_dance) {
		/* cow.c's "mprotect() optimization": RO then RW before writing. */
		assert_int_equal(gup_mprotect(p, a, NPAGES * PG, GUP_PROT_READ), 0);
		assert_int_equal(gup_store(p, a, "x", 1), -EFAULT);
		assert_int_equal(gup_mprotect(p, a, NPAGES * PG,
					      GUP_PROT_READ | GUP_PROT_WRITE), 0);
		/* Shared pages must never be made writable by the upgrade. */
		for (unsigned i = 0; i < NPAGES; i++)
			assert_false(pte_write(pte_of(p, a + i * PG)));
		check_world(w);
	}

	snap(w, &s);
	fill_pages(p, a, NPAGES, 2);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), NPAGES);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 0);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_not_equal(pfn_of(p, a + i * PG), orig[i]);
		assert_int_equal(pfn_of(c, a + i * PG), orig[i]);
		assert_true(PageAnonExclusive(page_at(w, p, a + i * PG)));
	}
	check_pages(c, a, NPAGES, 1);	/* no leak from parent into child */
	check_pages(p, a, NPAGES, 2);
	check_world(w);

	snap(w, &s);
	fill_pages(c, a, NPAGES, 3);
	/* The child is the only mapper of the originals now: reuse, no copy. */
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(pfn_of(c, a + i * PG), orig[i]);
		assert_int_not_equal(pfn_of(c, a + i * PG), pfn_of(p, a + i * PG));
	}
	check_pages(p, a, NPAGES, 2);	/* no leak from child into parent */
	check_pages(c, a, NPAGES, 3);
	check_world(w);

	gup_task_exit(c);
	check_pages(p, a, NPAGES, 2);
	gup_task_exit(p);
	world_end(w);
}

static void fork_basic_cow(const char *policy)
{
	basic_cow_common(policy, false);
}
PER_POLICY(fork_basic_cow)

static void fork_basic_cow_mprotect(const char *policy)
{
	basic_cow_common(policy, true);
}
PER_POLICY(fork_basic_cow_mprotect)

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
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, NPAGES);
	int64_t orig[NPAGES];
	struct snap s;

	fill_pages(p, a, NPAGES, 1);
	for (unsigned i = 0; i < NPAGES; i++)
		orig[i] = pfn_of(p, a + i * PG);
	c = fork_ok(p);
	check_pages(c, a, NPAGES, 1);
	gup_task_exit(c);
	check_world(w);

	for (unsigned i = 0; i < NPAGES; i++) {
		struct page *pg = page_at(w, p, a + i * PG);

		assert_false(PageAnonExclusive(pg));	/* fork cleared it for good */
		assert_int_equal(page_mapcount(pg), 1);
		assert_int_equal(page_ref_count(pg), 1);
		assert_false(pte_write(pte_of(p, a + i * PG)));
	}

	snap(w, &s);
	fill_pages(p, a, NPAGES, 2);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), NPAGES);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), NPAGES);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(pfn_of(p, a + i * PG), orig[i]);
		assert_true(pte_write(pte_of(p, a + i * PG)));
		assert_true(PageAnonExclusive(page_at(w, p, a + i * PG)));
	}
	check_pages(p, a, NPAGES, 2);
	check_world(w);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fork_child_exits_first)

/* The mirror image: the parent exits, the orphaned child reuses and keeps its data. */
static void fork_parent_exits_first(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, NPAGES);
	int64_t orig[NPAGES];
	struct snap s;

	fill_pages(p, a, NPAGES, 4);
	for (unsigned i = 0; i < NPAGES; i++)
		orig[i] = pfn_of(p, a + i * PG);
	c = fork_ok(p);
	gup_task_exit(p);
	check_world(w);
	check_pages(c, a, NPAGES, 4);

	snap(w, &s);
	fill_pages(c, a, NPAGES, 5);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), NPAGES);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_int_equal(pfn_of(c, a + i * PG), orig[i]);
	check_pages(c, a, NPAGES, 5);
	check_world(w);
	gup_task_exit(c);
	world_end(w);
}
PER_POLICY(fork_parent_exits_first)

/* ------------------------------------------------------------------------ */
/* The zero page across fork                                                */
/* ------------------------------------------------------------------------ */

static void fork_zero_page(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, NPAGES);
	size_t free_before;
	struct snap s;

	snap(w, &s);
	check_zero_pages(p, a, NPAGES);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_ANON_READ), NPAGES);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	for (unsigned i = 0; i < NPAGES; i++) {
		uint64_t pte = pte_of(p, a + i * PG);

		assert_int_equal(pfn_of(p, a + i * PG), 0);
		assert_true(pte_special(pte));
		assert_false(pte_write(pte));
	}
	assert_int_equal(rss_of(p), 0);

	free_before = nr_free(w);
	snap(w, &s);
	c = fork_ok(p);
	/* The zero page is special: copied as is, no frame counted or shared. */
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(nr_free(w), free_before);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(pfn_of(c, a + i * PG), 0);
		assert_true(pte_special(pte_of(c, a + i * PG)));
	}
	assert_int_equal(rss_of(c), 0);
	check_world(w);

	snap(w, &s);
	fill_pages(c, a, NPAGES, 7);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_ZERO), NPAGES);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 0);
	assert_int_equal(nr_free(w), free_before - NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		struct page *pg = page_at(w, c, a + i * PG);

		assert_true(PageAnonExclusive(pg));
		assert_int_equal(page_mapcount(pg), 1);
		assert_int_equal(pfn_of(p, a + i * PG), 0);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(pfn_of(c, a + j * PG), pfn_of(c, a + i * PG));
	}
	check_pages(c, a, NPAGES, 7);
	check_zero_pages(p, a, NPAGES);
	/* The shared zero frame itself is untouched. */
	for (size_t off = 0; off < PG; off++)
		assert_int_equal(page_data(&w->arena, zero_page(w))[off], 0);
	assert_int_equal(rss_of(c), NPAGES);
	assert_int_equal(rss_of(p), 0);
	check_world(w);

	gup_task_exit(c);
	assert_int_equal(nr_free(w), free_before);
	check_zero_pages(p, a, NPAGES);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fork_zero_page)

/* ------------------------------------------------------------------------ */
/* MADV_DONTFORK / MADV_DOFORK                                              */
/* ------------------------------------------------------------------------ */

static void fork_dontfork(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c1, *c2;
	uint64_t a = map_private(p, 6), hole = a + 2 * PG;
	uint8_t b = 0;
	struct snap s;

	fill_pages(p, a, 6, 1);
	assert_int_equal(gup_madvise(p, hole, 2 * PG, GUP_MADV_DONTFORK), 0);
	assert_int_equal(nr_vmas_of(p), 3);

	snap(w, &s);
	c1 = fork_ok(p);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	assert_int_equal(nr_vmas_of(c1), 2);
	assert_int_equal(rss_of(c1), 4);
	/* The child has a hole where the DONTFORK range was. */
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(gup_load(c1, hole + i * PG, &b, 1), -EFAULT);
		assert_int_equal(gup_store(c1, hole + i * PG, &b, 1), -EFAULT);
		assert_int_equal(pfn_of(c1, hole + i * PG), -EFAULT);
	}
	check_pages(c1, a, 2, 1);
	check_pages(c1, a + 4 * PG, 2, 1);
	/* The parent keeps the range, still writable and exclusive: no COW there. */
	check_pages(p, a, 6, 1);
	for (unsigned i = 0; i < 2; i++) {
		assert_true(pte_write(pte_of(p, hole + i * PG)));
		assert_true(PageAnonExclusive(page_at(w, p, hole + i * PG)));
	}
	snap(w, &s);
	fill_pages(p, hole, 2, 2);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	check_world(w);

	/* MADV_DOFORK: copied again by the next fork (and the VMAs merge back). */
	assert_int_equal(gup_madvise(p, hole, 2 * PG, GUP_MADV_DOFORK), 0);
	assert_int_equal(nr_vmas_of(p), 1);
	snap(w, &s);
	c2 = fork_ok(p);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 6);
	assert_int_equal(nr_vmas_of(c2), 1);
	check_pages(c2, a, 2, 1);
	check_pages(c2, hole, 2, 2);
	check_pages(c2, a + 4 * PG, 2, 1);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(pfn_of(c2, a + i * PG), pfn_of(p, a + i * PG));
	/* ... and is COW-protected from the parent like any other page. */
	fill_pages(p, hole, 2, 3);
	check_pages(c2, hole, 2, 2);
	check_pages(p, hole, 2, 3);
	/* The first child never sees any of it. */
	assert_int_equal(gup_load(c1, hole, &b, 1), -EFAULT);
	check_world(w);

	gup_task_exit(c1);
	gup_task_exit(c2);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fork_dontfork)

/* ------------------------------------------------------------------------ */
/* MADV_WIPEONFORK / MADV_KEEPONFORK                                        */
/* ------------------------------------------------------------------------ */

static void fork_wipeonfork(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c1, *c2;
	uint64_t a = map_private(p, 6), wipe = a + 2 * PG;
	uint64_t sh = map_anon(p, 2, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_SHARED);
	struct snap s;

	fill_pages(p, a, 6, 1);
	assert_int_equal(gup_madvise(p, wipe, 2 * PG, GUP_MADV_WIPEONFORK), 0);
	/* Only private anonymous memory can be wiped. */
	assert_int_equal(gup_madvise(p, sh, 2 * PG, GUP_MADV_WIPEONFORK), -EINVAL);

	snap(w, &s);
	c1 = fork_ok(p);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	assert_int_equal(rss_of(c1), 4);
	/* The wiped range exists in the child but starts empty: zero-fill. */
	assert_int_equal(pfn_of(c1, wipe), -EFAULT);
	check_zero_pages(c1, wipe, 2);
	check_pages(c1, a, 2, 1);		/* the neighbours are inherited */
	check_pages(c1, a + 4 * PG, 2, 1);
	check_pages(p, a, 6, 1);		/* the parent keeps everything */
	/* The parent's wiped range was not even write-protected. */
	snap(w, &s);
	fill_pages(p, wipe, 2, 2);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), 0);
	/* The child's fresh memory is its own. */
	fill_pages(c1, wipe, 2, 3);
	check_pages(p, wipe, 2, 2);
	check_pages(c1, wipe, 2, 3);
	check_world(w);

	/* The child's VMA keeps the advice: its own child starts wiped too. */
	{
		struct gup_task *gc = fork_ok(c1);

		check_zero_pages(gc, wipe, 2);
		check_pages(gc, a, 2, 1);
		check_pages(c1, wipe, 2, 3);
		gup_task_exit(gc);
	}

	/* MADV_KEEPONFORK: inherited again by the next fork. */
	assert_int_equal(gup_madvise(p, wipe, 2 * PG, GUP_MADV_KEEPONFORK), 0);
	c2 = fork_ok(p);
	check_pages(c2, a, 2, 1);
	check_pages(c2, wipe, 2, 2);
	check_pages(c2, a + 4 * PG, 2, 1);
	check_world(w);

	gup_task_exit(c1);
	gup_task_exit(c2);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fork_wipeonfork)

/* ------------------------------------------------------------------------ */
/* Shared anonymous memory                                                  */
/* ------------------------------------------------------------------------ */

static void fork_shared_anon(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t sh = map_anon(p, 4, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_SHARED);
	uint64_t pr = map_private(p, 4);
	struct snap s;

	fill_pages(p, sh, 4, 1);
	fill_pages(p, pr, 4, 1);

	snap(w, &s);
	c = fork_ok(p);
	/* Only the private mapping's PTEs are shared COW. */
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	check_pages(c, sh, 4, 1);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pfn_of(c, sh + i * PG), pfn_of(p, sh + i * PG));

	snap(w, &s);
	fill_pages(c, sh + PG, 1, 2);		/* child -> parent */
	fill_pages(p, sh + 2 * PG, 1, 3);	/* parent -> child */
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	for (struct gup_task *t = p;; t = c) {
		check_pages(t, sh, 1, 1);
		check_pages(t, sh + PG, 1, 2);
		check_pages(t, sh + 2 * PG, 1, 3);
		check_pages(t, sh + 3 * PG, 1, 1);
		if (t == c)
			break;
	}
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pfn_of(c, sh + i * PG), pfn_of(p, sh + i * PG));

	/* The private neighbour is copy-on-write as usual. */
	snap(w, &s);
	fill_pages(c, pr, 4, 4);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 4);
	check_pages(p, pr, 4, 1);
	check_pages(c, pr, 4, 4);
	check_world(w);

	/* The object outlives the child's mapping. */
	gup_task_exit(c);
	check_pages(p, sh + PG, 1, 2);
	check_world(w);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fork_shared_anon)

/* ------------------------------------------------------------------------ */
/* Fork chains                                                              */
/* ------------------------------------------------------------------------ */

/* Each process sees the snapshot of its own fork time, whatever the others do. */
static void fork_grandchild_and_siblings(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c1, *c2, *gc, *c3;
	uint64_t a = map_private(p, 4);
	struct gup_mem_info mi;
	struct snap s;

	snap(w, &s);
	fill_pages(p, a, 4, 1);
	c1 = fork_ok(p);		/* c1: 1 */
	fill_pages(p, a, 4, 2);
	c2 = fork_ok(p);		/* c2: 2 */
	fill_pages(c1, a, 4, 3);
	gc = fork_ok(c1);		/* gc: 3 */
	fill_pages(c1, a, 4, 4);
	c3 = fork_ok(p);		/* c3: 2, shared with c2 and p */
	fill_pages(p, a, 4, 5);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK), 4);
	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	assert_int_equal(mi.nr_mms, 5);
	assert_int_equal(mi.nr_tasks, 5);

	check_pages(p, a, 4, 5);
	check_pages(c1, a, 4, 4);
	check_pages(c2, a, 4, 2);
	check_pages(c3, a, 4, 2);
	check_pages(gc, a, 4, 3);
	for (unsigned i = 0; i < 4; i++) {
		/* c2 and c3 still share the generation-2 frames, three ways no more. */
		struct page *pg = page_at(w, c2, a + i * PG);

		assert_int_equal(pfn_of(c3, a + i * PG), pfn_of(c2, a + i * PG));
		assert_int_equal(page_mapcount(pg), 2);
	}
	check_world(w);

	/* Writes after the forks stay private to the writer. */
	fill_pages(c2, a, 4, 6);
	fill_pages(gc, a, 4, 7);
	check_pages(c3, a, 4, 2);
	check_pages(c2, a, 4, 6);
	check_pages(gc, a, 4, 7);
	check_pages(c1, a, 4, 4);
	check_pages(p, a, 4, 5);
	check_world(w);

	/* Exits in any order leave the survivors intact. */
	gup_task_exit(c1);
	check_pages(gc, a, 4, 7);
	gup_task_exit(p);
	check_pages(c3, a, 4, 2);
	check_world(w);
	gup_task_exit(c3);
	gup_task_exit(gc);
	check_pages(c2, a, 4, 6);
	gup_task_exit(c2);
	world_end(w);
}
PER_POLICY(fork_grandchild_and_siblings)

/* A read-only private mapping: nothing to write-protect, so no flush at fork. */
static void fork_readonly_mapping(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, 4);
	struct snap s;

	fill_pages(p, a, 4, 1);
	assert_int_equal(gup_mprotect(p, a, 4 * PG, GUP_PROT_READ), 0);
	snap(w, &s);
	c = fork_ok(p);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	assert_int_equal(delta(w, &s, GUP_STAT_TLB_FLUSH), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_false(PageAnonExclusive(page_at(w, p, a + i * PG)));
	/* Both make it writable again: the pages are shared, so each write copies
	 * until only one mapper is left. */
	assert_int_equal(gup_mprotect(p, a, 4 * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_int_equal(gup_mprotect(c, a, 4 * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_false(pte_write(pte_of(p, a + i * PG)));
		assert_false(pte_write(pte_of(c, a + i * PG)));
	}
	snap(w, &s);
	fill_pages(c, a, 4, 2);
	fill_pages(p, a, 4, 3);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 4);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 4);
	check_pages(c, a, 4, 2);
	check_pages(p, a, 4, 3);
	check_world(w);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fork_readonly_mapping)

/*
 * Another task of the parent holds writable TLB entries when the parent forks:
 * fork's shootdown must end them, so that task's next store copies instead of
 * writing into the frame the child now shares.
 */
static void fork_other_task_writable_entry(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t1 = task_new(w), *t2 = NULL, *c;
	uint64_t a = map_private(t1, 4);
	struct snap s;

	assert_int_equal(gup_task_create(gup_task_mm(t1), &t2), 0);
	fill_pages(t1, a, 4, 1);
	fill_pages(t2, a, 4, 2);	/* t2 now caches writable entries */
	check_pages(t1, a, 4, 2);

	snap(w, &s);
	c = fork_ok(t1);
	assert_int_equal(delta(w, &s, GUP_STAT_TLB_FLUSH), 1);
	assert_true(delta(w, &s, GUP_STAT_TLB_SHOOTDOWN) >= 2);	/* both tasks reached */

	snap(w, &s);
	fill_pages(t2, a, 4, 3);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 4);
	check_pages(c, a, 4, 2);	/* no leak from the parent's other thread */
	check_pages(t1, a, 4, 3);
	check_pages(t2, a, 4, 3);
	check_world(w);

	gup_task_exit(c);
	gup_task_exit(t2);
	gup_task_exit(t1);
	world_end(w);
}
PER_POLICY(fork_other_task_writable_entry)

/*
 * PROT_NONE PTEs of a private mapping are copied as they are (still mapping the
 * frame); after both sides make the range accessible again, it is COW as usual.
 */
static void fork_prot_none(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, 3);
	int64_t pfn[3];
	uint8_t b;
	struct snap s;

	fill_pages(p, a, 3, 1);
	for (unsigned i = 0; i < 3; i++)
		pfn[i] = pfn_of(p, a + i * PG);
	assert_int_equal(gup_mprotect(p, a, 3 * PG, GUP_PROT_NONE), 0);
	assert_int_equal(gup_load(p, a, &b, 1), -EFAULT);

	snap(w, &s);
	c = fork_ok(p);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(pfn_of(c, a + i * PG), pfn[i]);
		assert_true(pte_protnone(pte_of(c, a + i * PG)));
		assert_false(PageAnonExclusive(page_at(w, p, a + i * PG)));
	}
	assert_int_equal(gup_load(c, a, &b, 1), -EFAULT);
	assert_int_equal(rss_of(c), 3);
	check_world(w);

	assert_int_equal(gup_mprotect(p, a, 3 * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_int_equal(gup_mprotect(c, a, 3 * PG, GUP_PROT_READ), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_false(pte_write(pte_of(p, a + i * PG)));
	check_pages(c, a, 3, 1);
	snap(w, &s);
	fill_pages(p, a, 3, 2);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 3);
	check_pages(c, a, 3, 1);
	check_pages(p, a, 3, 2);
	assert_int_equal(gup_store(c, a, &b, 1), -EFAULT);
	check_world(w);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fork_prot_none)

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
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, 4), pa = a + PG;
	struct page *pinned;
	int64_t pinned_pfn, child_pfn;
	uint8_t mark[16], got[16];
	struct snap s;

	fill_pages(p, a, 4, 1);
	pinned = sim_pin(w, p, pa, true);
	pinned_pfn = pfn_of(p, pa);
	assert_true(PageAnonExclusive(pinned));
	assert_int_equal(page_ref_count(pinned), 1 + GUP_PIN_COUNTING_BIAS);
	check_world(w);

	snap(w, &s);
	c = fork_ok(p);
	child_pfn = pfn_of(c, pa);
	check_pages(c, a, 4, 1);	/* same data either way */
	check_world(w);
	if (is_new(policy)) {
		assert_int_equal(delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 1);
		assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 3);
		assert_int_not_equal(child_pfn, pinned_pfn);
		assert_true(PageAnonExclusive(page_at(w, c, pa)));
		assert_true(pte_write(pte_of(c, pa)));
		/* The parent's side is untouched. */
		assert_int_equal(pfn_of(p, pa), pinned_pfn);
		assert_true(pte_write(pte_of(p, pa)));
		assert_true(PageAnonExclusive(pinned));
		assert_int_equal(page_mapcount(pinned), 1);
		assert_int_equal(page_ref_count(pinned), 1 + GUP_PIN_COUNTING_BIAS);
		/* The other pages were shared normally. */
		assert_int_equal(pfn_of(c, a), pfn_of(p, a));
		assert_false(pte_write(pte_of(p, a)));
	} else {
		assert_int_equal(delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
		assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
		assert_int_equal(child_pfn, pinned_pfn);
		assert_false(pte_write(pte_of(p, pa)));
		assert_int_equal(page_mapcount(pinned), 2);
	}

	/* The parent writes the pinned page. */
	snap(w, &s);
	fill_pages(p, pa, 1, 2);
	check_pages(p, pa, 1, 2);
	check_pages(c, pa, 1, 1);
	if (is_new(policy)) {
		assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), 0);
		assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
		assert_int_equal(pfn_of(p, pa), pinned_pfn);
		/* The pin stays coherent with the parent. */
		assert_true(frame_has(w, pinned, 2, pa));
	} else {
		assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 1);
		assert_int_not_equal(pfn_of(p, pa), pinned_pfn);
		assert_int_equal(pfn_of(c, pa), pinned_pfn);
		/* The pinned frame lost the parent's store: it is the child's now. */
		assert_true(frame_has(w, pinned, 1, pa));
		assert_false(frame_has(w, pinned, 2, pa));
	}
	check_world(w);

	/* The device writes through the pin (a DMA into the frame). */
	memset(mark, 0xd3, sizeof(mark));
	memcpy(page_data(&w->arena, pinned) + 100, mark, sizeof(mark));
	if (is_new(policy)) {
		assert_int_equal(gup_load(p, pa + 100, got, sizeof(got)), 0);
		assert_memory_equal(got, mark, sizeof(mark));	/* the parent sees it */
		check_pages(c, pa, 1, 1);			/* the child does not */
	} else {
		assert_int_equal(gup_load(c, pa + 100, got, sizeof(got)), 0);
		assert_memory_equal(got, mark, sizeof(mark));	/* leaked into the child */
		check_pages(p, pa, 1, 2);			/* lost for the parent */
	}

	if (is_new(policy)) {
		struct gup_task *c2;

		/* The child's copy is its own, writable at once. */
		snap(w, &s);
		fill_pages(c, pa, 1, 3);
		assert_int_equal(delta(w, &s, GUP_STAT_FAULT), 0);
		assert_int_equal(pfn_of(c, pa), child_pfn);
		assert_int_equal(gup_load(p, pa + 100, got, sizeof(got)), 0);
		assert_memory_equal(got, mark, sizeof(mark));

		/* Still pinned and exclusive: the next fork copies it again. */
		snap(w, &s);
		c2 = fork_ok(p);
		assert_int_equal(delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 1);
		assert_int_not_equal(pfn_of(c2, pa), pinned_pfn);
		assert_int_not_equal(pfn_of(c2, pa), child_pfn);
		assert_int_equal(gup_load(c2, pa + 100, got, sizeof(got)), 0);
		assert_memory_equal(got, mark, sizeof(mark));	/* the snapshot, DMA included */
		assert_true(pte_write(pte_of(p, pa)));
		check_world(w);
		gup_task_exit(c2);
	}

	sim_unpin(w, pinned);
	check_world(w);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fork_early_copy_pinned)

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
	struct gup_task *p = task_new(w), *c = NULL;
	size_t n = nr_free(w);
	uint64_t a = map_private(p, (unsigned)n), pa = a + (n / 2) * PG;
	struct gup_mem_info mi;
	struct page *pinned;
	struct snap s;
	int ret;

	fill_pages(p, a, (unsigned)n, 1);
	assert_int_equal(nr_free(w), 0);
	pinned = sim_pin(w, p, pa, true);

	snap(w, &s);
	ret = gup_fork(p, &c);
	if (is_new(policy)) {
		assert_int_equal(ret, -ENOMEM);
		assert_int_equal(delta(w, &s, GUP_STAT_FORK), 0);
		assert_int_equal(gup_world_meminfo(w, &mi), 0);
		assert_int_equal(mi.nr_mms, 1);
		assert_int_equal(mi.nr_tasks, 1);
		assert_int_equal(nr_free(w), 0);
		assert_int_equal(rss_of(p), n);
		assert_true(PageAnonExclusive(pinned));
		assert_true(pte_write(pte_of(p, pa)));
		assert_int_equal(page_mapcount(pinned), 1);
		check_world(w);
		check_pages(p, a, (unsigned)n, 1);

		/* Every page is the parent's alone: writes need no frame. */
		snap(w, &s);
		fill_pages(p, a, (unsigned)n, 2);
		assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
		assert_true(frame_has(w, pinned, 2, pa));
		check_pages(p, a, (unsigned)n, 2);
		check_world(w);

		/* One free frame is all the early copy needs. */
		assert_int_equal(gup_munmap(p, a, PG), 0);
		assert_int_equal(nr_free(w), 1);
		c = fork_ok(p);
		assert_int_equal(nr_free(w), 0);
		check_pages(c, a + PG, (unsigned)n - 1, 2);
		assert_int_not_equal(pfn_of(c, pa), pfn_of(p, pa));
	} else {
		assert_int_equal(ret, 0);
		assert_non_null(c);
		assert_int_equal(nr_free(w), 0);
		check_pages(c, a, (unsigned)n, 1);
		assert_int_equal(pfn_of(c, pa), pfn_of(p, pa));
		/* And no frame for the parent's COW: the store fails, nothing changes. */
		assert_true(gup_fill(p, pa, 0x99, 1) < 0);
		check_pages(p, a, (unsigned)n, 1);
		check_pages(c, a, (unsigned)n, 1);
	}
	check_world(w);
	sim_unpin(w, pinned);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fork_enomem_early_copy)

/*
 * MMF_HAS_PINNED is sticky, but only a page that may actually be pinned is copied
 * at fork; and a pinned page in an mm without the flag is shared (the flag gates
 * the whole check, linux_anchor 1.6).
 */
static void fork_has_pinned_but_unpinned(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c1, *c2;
	struct gup_mm *mm = gup_task_mm(p);
	uint64_t a = map_private(p, 4);
	struct page *pinned;
	struct snap s;

	fill_pages(p, a, 4, 1);
	set_bit(MMF_HAS_PINNED, &mm->flags);
	snap(w, &s);
	c1 = fork_ok(p);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pfn_of(c1, a + i * PG), pfn_of(p, a + i * PG));
	check_pages(c1, a, 4, 1);
	gup_task_exit(c1);
	check_world(w);

	/* A pinned page of an mm that was never marked: shared as well. */
	gup_task_exit(p);
	p = task_new(w);
	mm = gup_task_mm(p);
	a = map_private(p, 2);
	fill_pages(p, a, 2, 2);
	pinned = sim_pin(w, p, a, false);
	assert_false(test_bit(MMF_HAS_PINNED, &mm->flags));
	snap(w, &s);
	c2 = fork_ok(p);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 2);
	assert_int_equal(pfn_of(c2, a), pfn_of(p, a));
	check_pages(c2, a, 2, 2);
	check_world(w);
	sim_unpin(w, pinned);
	gup_task_exit(c2);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fork_has_pinned_but_unpinned)

/* ------------------------------------------------------------------------ */
/* RSS and free memory                                                      */
/* ------------------------------------------------------------------------ */

static void fork_rss_meminfo(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, NPAGES), ca, cz;
	size_t free0 = nr_free(w), free_forked;
	struct gup_mem_info mi;

	fill_pages(p, a, NPAGES, 1);
	assert_int_equal(nr_free(w), free0 - NPAGES);
	assert_int_equal(rss_of(p), NPAGES);

	c = fork_ok(p);
	free_forked = nr_free(w);
	assert_int_equal(free_forked, free0 - NPAGES);	/* sharing costs no frame */
	assert_int_equal(rss_of(c), NPAGES);
	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	assert_int_equal(mi.nr_mms, 2);
	assert_int_equal(mi.nr_tasks, 2);

	/* The child COWs 3 pages, maps 4 new ones, and reads 2 (zero page). */
	fill_pages(c, a, 3, 2);
	assert_int_equal(nr_free(w), free_forked - 3);
	ca = map_private(c, 4);
	fill_pages(c, ca, 4, 3);
	cz = map_private(c, 2);
	check_zero_pages(c, cz, 2);
	assert_int_equal(nr_free(w), free_forked - 7);
	assert_int_equal(rss_of(c), NPAGES + 4);
	assert_int_equal(rss_of(p), NPAGES);
	check_world(w);

	/* Everything the child alone owned comes back when it exits. */
	gup_task_exit(c);
	assert_int_equal(nr_free(w), free_forked);
	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	assert_int_equal(mi.nr_mms, 1);
	assert_int_equal(mi.nr_tasks, 1);
	assert_int_equal(rss_of(p), NPAGES);
	check_pages(p, a, NPAGES, 1);
	check_world(w);

	gup_task_exit(p);
	assert_int_equal(nr_free(w), free0);
	world_end(w);
}
PER_POLICY(fork_rss_meminfo)

int main(void)
{
	const struct CMUnitTest fork_tests[] = {
		POLICY_TESTS(fork_basic_cow),
		POLICY_TESTS(fork_basic_cow_mprotect),
		POLICY_TESTS(fork_child_exits_first),
		POLICY_TESTS(fork_parent_exits_first),
		POLICY_TESTS(fork_zero_page),
		POLICY_TESTS(fork_dontfork),
		POLICY_TESTS(fork_wipeonfork),
		POLICY_TESTS(fork_shared_anon),
		POLICY_TESTS(fork_grandchild_and_siblings),
		POLICY_TESTS(fork_readonly_mapping),
		POLICY_TESTS(fork_other_task_writable_entry),
		POLICY_TESTS(fork_prot_none),
		POLICY_TESTS(fork_early_copy_pinned),
		POLICY_TESTS(fork_enomem_early_copy),
		POLICY_TESTS(fork_has_pinned_but_unpinned),
		POLICY_TESTS(fork_rss_meminfo),
	};

	return cmocka_run_group_tests(fork_tests, NULL, NULL);
}
