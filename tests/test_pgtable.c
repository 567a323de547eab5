// SPDX-License-Identifier: MIT
/*
 * tests/test_pgtable.c - unit tests of the four-level page tables: index
 * helpers, lookups and allocation, the range walker, PTE bit helpers, table
 * accounting across mmap/munmap, and gup_mm_pfn.
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
#include "mm/pgtable.h"
#include "world.h"

#include "common/fixture.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* ---- helpers ---------------------------------------------------------- */

/* Count distinct tables an address set needs, level by level. */
struct table_count {
	uint64_t keys[3][256];	/* 0: PUD (pgd idx), 1: PMD, 2: PTE */
	size_t n[3];
};

static void tc_add_key(struct table_count *tc, int lvl, uint64_t key)
{
	for (size_t i = 0; i < tc->n[lvl]; i++)
		if (tc->keys[lvl][i] == key)
			return;
	assert_true(tc->n[lvl] < 256);
	tc->keys[lvl][tc->n[lvl]++] = key;
}

static void tc_add(struct table_count *tc, uint64_t addr)
{
	tc_add_key(tc, 0, addr >> PGD_SHIFT);
	tc_add_key(tc, 1, addr >> PUD_SHIFT);
	tc_add_key(tc, 2, addr >> PMD_SHIFT);
}

static size_t tc_total(const struct table_count *tc)
{
	return tc->n[0] + tc->n[1] + tc->n[2];
}

/* ---- index helpers -------------------------------------------------------- */

static void test_index_helpers(void **state)
{
	uint64_t top = GUP_TASK_SIZE - PAGE_SIZE;
	uint64_t a = (UINT64_C(3) << PGD_SHIFT) | (UINT64_C(5) << PUD_SHIFT) |
		     (UINT64_C(7) << PMD_SHIFT) | (UINT64_C(9) << PAGE_SHIFT) | 0x123;

	(void)state;
	assert_int_equal(PTRS_PER_TABLE, 512);
	assert_int_equal(PMD_SIZE, 2 * MiB);
	assert_int_equal(PUD_SIZE, 1 * GiB);
	assert_int_equal(PGD_SIZE, 512 * GiB);
	assert_int_equal(pgd_index(0), 0);
	assert_int_equal(pud_index(0), 0);
	assert_int_equal(pmd_index(0), 0);
	assert_int_equal(pte_index(0), 0);
	assert_int_equal(pgd_index(a), 3);
	assert_int_equal(pud_index(a), 5);
	assert_int_equal(pmd_index(a), 7);
	assert_int_equal(pte_index(a), 9);
	assert_int_equal(pgd_index(top), 255);
	assert_int_equal(pud_index(top), 511);
	assert_int_equal(pmd_index(top), 511);
	assert_int_equal(pte_index(top), 511);
	/* Each index wraps at its level's boundary. */
	assert_int_equal(pte_index(PMD_SIZE), 0);
	assert_int_equal(pte_index(PMD_SIZE - 1), 511);
	assert_int_equal(pmd_index(PUD_SIZE), 0);
	assert_int_equal(pmd_index(PUD_SIZE - 1), 511);
	assert_int_equal(pud_index(PGD_SIZE), 0);
	assert_int_equal(pud_index(PGD_SIZE - 1), 511);
	assert_int_equal(pgd_index(PGD_SIZE), 1);
	assert_int_equal(pmd_index(PMD_SIZE), 1);
	assert_int_equal(pud_index(PUD_SIZE), 1);
}

/* ---- lookups ----------------------------------------------------------- */

static void test_pte_alloc_offset_map(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 256, 0);
	struct gup_mm *mm;
	const uint64_t addrs[] = {
		0x10000,				/* PGD 0, PUD 0, PMD 0 */
		0x10000 + PAGE_SIZE,			/* same table, next slot */
		0x10000 + PMD_SIZE,			/* PMD 1 */
		0x10000 + PUD_SIZE,			/* PUD 1 */
		0x10000 + PGD_SIZE,			/* PGD 1 */
		GUP_TASK_SIZE - PAGE_SIZE,		/* PGD 255, 511/511/511 */
	};
	enum { NA = sizeof(addrs) / sizeof(addrs[0]) };
	pte_t *slot[NA];
	struct pgtable *pt[NA], *pt2;
	size_t base;
	uint64_t alloc0;

	(void)state;
	assert_int_equal(gup_mm_create(w, &mm), 0);
	assert_int_equal(fx_mm_info(mm).nr_pgtables, 1);	/* the PGD */
	base = fx_meminfo(w).nr_pgtables;
	assert_int_equal(base, 1);
	alloc0 = fx_stat(w, GUP_STAT_PGTABLE_ALLOC);
	assert_int_equal(mm->pgd->level, 3);

	mmap_write_lock(mm);
	for (size_t i = 0; i < NA; i++)
		assert_null(pte_offset_map(mm, addrs[i], &pt2));

	/* addrs[0]: PUD + PMD + PTE */
	slot[0] = pte_alloc_map(mm, addrs[0], &pt[0]);
	assert_non_null(slot[0]);
	assert_int_equal(pt[0]->level, 0);
	assert_ptr_equal(slot[0], &pt[0]->ent[pte_index(addrs[0])]);
	assert_int_equal(stat_read(&mm->nr_pgtables), 4);
	/* Same table, next slot: nothing new. */
	slot[1] = pte_alloc_map(mm, addrs[1], &pt[1]);
	assert_ptr_equal(pt[1], pt[0]);
	assert_ptr_equal(slot[1], slot[0] + 1);
	assert_int_equal(stat_read(&mm->nr_pgtables), 4);
	/* Other PMD slot: one PTE table. */
	slot[2] = pte_alloc_map(mm, addrs[2], &pt[2]);
	assert_ptr_not_equal(pt[2], pt[0]);
	assert_int_equal(stat_read(&mm->nr_pgtables), 5);
	/* Other PUD slot: PMD + PTE. */
	slot[3] = pte_alloc_map(mm, addrs[3], &pt[3]);
	assert_int_equal(stat_read(&mm->nr_pgtables), 7);
	/* Other PGD slot: PUD + PMD + PTE. */
	slot[4] = pte_alloc_map(mm, addrs[4], &pt[4]);
	assert_int_equal(stat_read(&mm->nr_pgtables), 10);
	slot[5] = pte_alloc_map(mm, addrs[5], &pt[5]);
	assert_int_equal(stat_read(&mm->nr_pgtables), 13);
	assert_ptr_equal(slot[5], &pt[5]->ent[511]);

	for (size_t i = 0; i < NA; i++) {
		pte_t *s = pte_offset_map(mm, addrs[i], &pt2);

		assert_ptr_equal(s, slot[i]);
		assert_ptr_equal(pt2, pt[i]);
		assert_int_equal(ptep_get(s), 0);
		/* pte_alloc_map on an existing path allocates nothing. */
		assert_ptr_equal(pte_alloc_map(mm, addrs[i], &pt2), slot[i]);
		for (size_t j = 0; j < NA; j++)
			if (j != i && (addrs[i] >> PMD_SHIFT) != (addrs[j] >> PMD_SHIFT))
				assert_ptr_not_equal(pt[i], pt[j]);
	}
	/* Upper entries point at tables of the right level. */
	{
		uint64_t pgde = ptep_get(&mm->pgd->ent[pgd_index(addrs[4])]);
		struct pgtable *pud, *pmd;

		assert_true(pgde & PDE_PRESENT);
		pud = pde_table(pgde);
		assert_int_equal(pud->level, 2);
		pmd = pde_table(ptep_get(&pud->ent[pud_index(addrs[4])]));
		assert_int_equal(pmd->level, 1);
		assert_ptr_equal(pde_table(ptep_get(&pmd->ent[pmd_index(addrs[4])])), pt[4]);
	}
	/* A neighbouring, never-allocated PMD slot still has no table. */
	assert_null(pte_offset_map(mm, addrs[2] + PMD_SIZE, &pt2));
	mmap_write_unlock(mm);

	assert_int_equal(fx_mm_info(mm).nr_pgtables, 13);
	assert_int_equal(fx_meminfo(w).nr_pgtables, 13);
	assert_int_equal(fx_stat(w, GUP_STAT_PGTABLE_ALLOC) - alloc0, 12);

	/* The last put frees every (empty) table. */
	gup_mm_put(mm);
	assert_int_equal(fx_meminfo(w).nr_pgtables, 0);
	assert_int_equal(fx_stat(w, GUP_STAT_PGTABLE_ALLOC), fx_stat(w, GUP_STAT_PGTABLE_FREE));
	fx_world_done(w);
}

/* ---- the walker ------------------------------------------------------------- */

struct walk_rec {
	size_t n;
	struct pgtable *pt[32];
	uint64_t start[32], end[32];
	size_t stop_after;	/* return 7 after this many calls (0: never) */
};

static int record_fn(struct pgtable *pt, uint64_t start, uint64_t end, void *arg)
{
	struct walk_rec *r = arg;

	if (r->n < 32) {
		r->pt[r->n] = pt;
		r->start[r->n] = start;
		r->end[r->n] = end;
	}
	r->n++;
	if (r->stop_after && r->n == r->stop_after)
		return 7;
	return 0;
}

static void test_walk_pte_tables(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 256, 0);
	struct gup_mm *mm;
	/* Tables at: PMD slots 1 and 3 of the first GiB, one in GiB 2, one in PGD 1. */
	const uint64_t t_a = 1 * PMD_SIZE, t_b = 3 * PMD_SIZE, t_c = 2 * PUD_SIZE + 5 * PMD_SIZE,
		       t_d = PGD_SIZE + 7 * PMD_SIZE;
	struct pgtable *pa, *pb, *pc, *pd;
	struct walk_rec r;

	(void)state;
	assert_int_equal(gup_mm_create(w, &mm), 0);
	mmap_write_lock(mm);
	assert_non_null(pte_alloc_map(mm, t_a + 0x5000, &pa));
	assert_non_null(pte_alloc_map(mm, t_b, &pb));
	assert_non_null(pte_alloc_map(mm, t_c + PMD_SIZE - PAGE_SIZE, &pc));
	assert_non_null(pte_alloc_map(mm, t_d + 0x1000, &pd));

	/* Empty mm range or inverted range: nothing. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(walk_pte_tables(mm, 0x10000, 0x10000, record_fn, &r), 0);
	assert_int_equal(walk_pte_tables(mm, t_b, t_a, record_fn, &r), 0);
	assert_int_equal(walk_pte_tables(mm, 0, PMD_SIZE, record_fn, &r), 0);
	assert_int_equal(r.n, 0);

	/* The whole user space: all four, in address order, full spans. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(walk_pte_tables(mm, 0, GUP_TASK_SIZE, record_fn, &r), 0);
	assert_int_equal(r.n, 4);
	assert_ptr_equal(r.pt[0], pa);
	assert_int_equal(r.start[0], t_a);
	assert_int_equal(r.end[0], t_a + PMD_SIZE);
	assert_ptr_equal(r.pt[1], pb);
	assert_int_equal(r.start[1], t_b);
	assert_int_equal(r.end[1], t_b + PMD_SIZE);
	assert_ptr_equal(r.pt[2], pc);
	assert_int_equal(r.start[2], t_c);
	assert_int_equal(r.end[2], t_c + PMD_SIZE);
	assert_ptr_equal(r.pt[3], pd);
	assert_int_equal(r.start[3], t_d);
	assert_int_equal(r.end[3], t_d + PMD_SIZE);

	/* A range that starts and ends inside tables: clipped sub-ranges. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(walk_pte_tables(mm, t_a + 0x3000, t_b + 0x2000, record_fn, &r), 0);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.pt[0], pa);
	assert_int_equal(r.start[0], t_a + 0x3000);
	assert_int_equal(r.end[0], t_a + PMD_SIZE);
	assert_ptr_equal(r.pt[1], pb);
	assert_int_equal(r.start[1], t_b);
	assert_int_equal(r.end[1], t_b + 0x2000);

	/* Entirely inside one table. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(walk_pte_tables(mm, t_c + 0x4000, t_c + 0x9000, record_fn, &r), 0);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.pt[0], pc);
	assert_int_equal(r.start[0], t_c + 0x4000);
	assert_int_equal(r.end[0], t_c + 0x9000);

	/* Crossing a PUD and a PGD boundary. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(walk_pte_tables(mm, t_b + PMD_SIZE, t_d + 0x2000, record_fn, &r), 0);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.pt[0], pc);
	assert_int_equal(r.start[0], t_c);
	assert_int_equal(r.end[0], t_c + PMD_SIZE);
	assert_ptr_equal(r.pt[1], pd);
	assert_int_equal(r.start[1], t_d);
	assert_int_equal(r.end[1], t_d + 0x2000);

	/* Range touching a table's edge exactly: end == table start excludes it. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(walk_pte_tables(mm, t_a + PMD_SIZE, t_b, record_fn, &r), 0);
	assert_int_equal(r.n, 0);

	/* A non-zero return stops the walk and is passed through. */
	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	assert_int_equal(walk_pte_tables(mm, 0, GUP_TASK_SIZE, record_fn, &r), 7);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.pt[1], pb);
	mmap_write_unlock(mm);

	gup_mm_put(mm);
	assert_int_equal(fx_meminfo(w).nr_pgtables, 0);
	fx_world_done(w);
}

/* ---- PTE bits ---------------------------------------------------------------- */

static void test_pte_bits(void **state)
{
	uint64_t pfn = UINT64_C(0x123456789);	/* 36 bits: well inside the mask */
	uint64_t pte = pfn_pte(pfn, PTE_PRESENT);
	uint64_t pn = pfn_pte(77, PTE_PROTNONE);

	(void)state;
	assert_int_equal(pte_pfn(pte), pfn);
	assert_int_equal(pte_pfn(pfn_pte(pfn, PTE_PRESENT | PTE_WRITE | PTE_DIRTY |
					    PTE_ACCESSED | PTE_SPECIAL | PTE_SOFT_DIRTY |
					    PTE_UFFD_WP)), pfn);
	assert_int_equal(pte_pfn(pfn_pte(0, PTE_PRESENT)), 0);
	assert_int_equal(pte_pfn(pfn_pte((UINT64_C(1) << 40) - 1, PTE_PRESENT | PTE_WRITE)),
			 (UINT64_C(1) << 40) - 1);

	assert_true(pte_none(0));
	assert_false(pte_none(pte));
	assert_false(pte_present(0));
	assert_false(pte_accessible(0));
	assert_true(pte_present(pte));
	assert_true(pte_accessible(pte));
	/* PROT_NONE: present for the mm, not for the CPU. */
	assert_true(pte_present(pn));
	assert_false(pte_accessible(pn));
	assert_true(pte_protnone(pn));
	assert_false(pte_protnone(pte));
	assert_int_equal(pte_pfn(pn), 77);
	/* A non-zero entry without either bit is not present. */
	assert_false(pte_present(pfn_pte(5, PTE_DIRTY)));

	assert_false(pte_write(pte));
	assert_true(pte_write(pte_mkwrite(pte)));
	assert_int_equal(pte_mkwrite(pte), pte | PTE_WRITE);
	assert_false(pte_write(pte_wrprotect(pte_mkwrite(pte))));
	assert_int_equal(pte_wrprotect(pte_mkwrite(pte)), pte);
	assert_int_equal(pte_wrprotect(pte), pte);

	assert_false(pte_dirty(pte));
	assert_true(pte_dirty(pte_mkdirty(pte)));
	assert_int_equal(pte_mkdirty(pte), pte | PTE_DIRTY | PTE_SOFT_DIRTY);
	assert_int_equal(pte_pfn(pte_mkdirty(pte)), pfn);

	assert_false(pte_young(pte));
	assert_true(pte_young(pte_mkyoung(pte)));
	assert_false(pte_young(pte_mkold(pte_mkyoung(pte))));
	assert_int_equal(pte_mkold(pte_mkyoung(pte)), pte);
	/* mkold/wrprotect leave the other bits alone. */
	{
		uint64_t all = pte_mkyoung(pte_mkdirty(pte_mkwrite(pte)));

		assert_int_equal(pte_mkold(all), all & ~PTE_ACCESSED);
		assert_true(pte_dirty(pte_mkold(all)));
		assert_true(pte_write(pte_mkold(all)));
		assert_int_equal(pte_wrprotect(all), all & ~PTE_WRITE);
		assert_true(pte_young(pte_wrprotect(all)));
		assert_true(pte_dirty(pte_wrprotect(all)));
	}
	assert_true(pte_special(pfn_pte(0, PTE_PRESENT | PTE_SPECIAL)));
	assert_false(pte_special(pte));
	assert_int_equal(pde_table((uint64_t)(uintptr_t)&pfn | PDE_PRESENT),
			 (struct pgtable *)(uintptr_t)&pfn);
}

static void test_ptep_set_wrprotect(void **state)
{
	const uint64_t base = pfn_pte(42, PTE_PRESENT | PTE_WRITE);
	const uint64_t variants[] = {
		base,
		base | PTE_ACCESSED,
		base | PTE_DIRTY,
		base | PTE_ACCESSED | PTE_DIRTY,
		base | PTE_ACCESSED | PTE_DIRTY | PTE_SOFT_DIRTY,
		base & ~PTE_WRITE,
	};
	pte_t slot;

	(void)state;
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		uint64_t v = variants[i];

		atomic_init(&slot, v);
		ptep_set_wrprotect(&slot, v);
		assert_int_equal(ptep_get(&slot), v & ~PTE_WRITE);
		assert_false(pte_write(ptep_get(&slot)));
		assert_int_equal(pte_pfn(ptep_get(&slot)), 42);
		assert_true(pte_present(ptep_get(&slot)));
	}
	/* Without A|D the RMW path keeps a bit set since @pte was read. */
	atomic_init(&slot, base);
	set_pte(&slot, base | PTE_DIRTY);	/* the "walker" sets D meanwhile */
	ptep_set_wrprotect(&slot, base);
	assert_int_equal(ptep_get(&slot), (base | PTE_DIRTY) & ~PTE_WRITE);
	/* ptep_get_and_clear returns the old value and leaves none. */
	atomic_init(&slot, base);
	assert_int_equal(ptep_get_and_clear(&slot), base);
	assert_true(pte_none(ptep_get(&slot)));
}

/* ---- accounting through mmap/munmap ---------------------------------------- */

static void test_pgtable_accounting(void **state)
{
	struct fx_env e;
	struct table_count tc;
	/* Bases, all MAP_FIXED; each region gets a few touched pages. */
	const uint64_t regions[] = {
		UINT64_C(0x40000000),			/* GiB 1 */
		UINT64_C(0x40000000) + 3 * PMD_SIZE,	/* same GiB, other 2 MiB */
		UINT64_C(0x40000000) + PMD_SIZE - 2 * PAGE_SIZE, /* straddles 2 MiB edge */
		UINT64_C(5) * GiB + 7 * PMD_SIZE,	/* GiB 5 */
		PGD_SIZE + UINT64_C(2) * GiB,		/* PGD 1 */
		UINT64_C(0x7e0000000000),		/* high PGD */
	};
	enum { NR = sizeof(regions) / sizeof(regions[0]), PAGES = 4 };
	size_t base_world, rss_expected = 0;
	uint64_t fault_w0;

	(void)state;
	fx_env_new(&e, NULL, 1024);
	memset(&tc, 0, sizeof(tc));
	base_world = fx_meminfo(e.w).nr_pgtables;
	assert_int_equal(base_world, 1);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1);
	fault_w0 = fx_stat(e.w, GUP_STAT_FAULT_ANON_WRITE);

	for (size_t i = 0; i < NR; i++) {
		uint64_t got = 0;

		assert_int_equal(gup_mmap(e.t, regions[i], PAGES * PAGE_SIZE,
					  GUP_PROT_READ | GUP_PROT_WRITE,
					  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED, &got), 0);
		assert_int_equal(got, regions[i]);
	}
	/* mmap alone allocates no table. */
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1);
	/* Touch every page of every region (region 2 straddles a 2 MiB edge). */
	for (size_t i = 0; i < NR; i++)
		for (size_t p = 0; p < PAGES; p++) {
			uint64_t a = regions[i] + p * PAGE_SIZE;
			uint64_t v = a ^ UINT64_C(0xabcdef);

			assert_int_equal(gup_store(e.t, a + 8, &v, sizeof(v)), 0);
			tc_add(&tc, a);
			rss_expected++;
		}
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT_ANON_WRITE) - fault_w0, rss_expected);
	assert_int_equal(fx_mm_info(e.mm).rss, rss_expected);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1 + tc_total(&tc));
	assert_int_equal(fx_meminfo(e.w).nr_pgtables, base_world + tc_total(&tc));
	/* Data is where it was put. */
	for (size_t i = 0; i < NR; i++)
		for (size_t p = 0; p < PAGES; p++) {
			uint64_t a = regions[i] + p * PAGE_SIZE, v = 0;

			assert_int_equal(gup_load(e.t, a + 8, &v, sizeof(v)), 0);
			assert_int_equal(v, a ^ UINT64_C(0xabcdef));
		}
	fx_check(e.w);
	/* The checker trusts no directory's count of tables: one too low or too high. */
	{
		FILE *rep = tmpfile();

		assert_non_null(rep);
		e.mm->pgd->nr_pde--;	/* the walk stops before the high PGD entry */
		assert_true(gup_world_check(e.w, rep) > 0);
		e.mm->pgd->nr_pde += 2;	/* one more than there are */
		assert_true(gup_world_check(e.w, rep) > 0);
		e.mm->pgd->nr_pde--;
		fclose(rep);
	}
	fx_check(e.w);

	for (size_t i = 0; i < NR; i++)
		assert_int_equal(gup_munmap(e.t, regions[i], PAGES * PAGE_SIZE), 0);
	assert_int_equal(fx_mm_info(e.mm).nr_vmas, 0);
	assert_int_equal(fx_mm_info(e.mm).rss, 0);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1);
	assert_int_equal(fx_meminfo(e.w).nr_pgtables, base_world);
	assert_int_equal(fx_stat(e.w, GUP_STAT_PGTABLE_ALLOC) - fx_stat(e.w, GUP_STAT_PGTABLE_FREE),
			 fx_meminfo(e.w).nr_pgtables);
	fx_env_done(&e);
}

/* Many pages over several tables, one munmap (crosses the gather batch). */
static void test_pgtable_accounting_big(void **state)
{
	struct fx_env e;
	const uint64_t start = UINT64_C(0x80000000) - 3 * PMD_SIZE / 2;	/* mid-table */
	const uint64_t len = 700 * PAGE_SIZE;
	struct table_count tc;
	uint64_t got, zap0, free0;
	size_t nfree;

	(void)state;
	fx_env_new(&e, NULL, 2048);
	memset(&tc, 0, sizeof(tc));
	assert_int_equal(gup_mmap(e.t, start, len, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED, &got), 0);
	assert_int_equal(got, start);
	assert_int_equal(gup_fill(e.t, start, 0x5a, len), 0);
	for (uint64_t a = start; a < start + len; a += PAGE_SIZE)
		tc_add(&tc, a);
	assert_int_equal(fx_mm_info(e.mm).rss, 700);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1 + tc_total(&tc));
	assert_int_equal(tc.n[2], 2);	/* crosses one 2 MiB boundary */
	nfree = fx_nr_free(e.w);
	zap0 = fx_stat(e.w, GUP_STAT_ZAP_PTE);
	free0 = fx_stat(e.w, GUP_STAT_FRAME_FREE);
	assert_int_equal(gup_munmap(e.t, start, len), 0);
	assert_int_equal(fx_stat(e.w, GUP_STAT_ZAP_PTE) - zap0, 700);
	assert_int_equal(fx_stat(e.w, GUP_STAT_FRAME_FREE) - free0, 700);
	{
		struct gup_mem_info mi = fx_meminfo(e.w);

		assert_int_equal(mi.nr_free, nfree + 700);
		assert_int_equal(mi.nr_pgtables, 1);
	}
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1);
	fx_env_done(&e);
}

static void test_munmap_half_keeps_table(void **state)
{
	struct fx_env e;
	const uint64_t b = UINT64_C(0x40000000) + 4 * PMD_SIZE;	/* 2 MiB aligned */
	const uint64_t keep = UINT64_C(0x40000000) + 9 * PMD_SIZE;	/* same GiB */
	struct pgtable *pt;
	uint64_t got, v;
	size_t tables;

	(void)state;
	fx_env_new(&e, NULL, 1024);
	assert_int_equal(gup_mmap(e.t, b, PMD_SIZE, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED, &got), 0);
	assert_int_equal(gup_mmap(e.t, keep, PAGE_SIZE, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED, &got), 0);
	/* Touch both halves and the other mapping. */
	for (uint64_t off = 0; off < PMD_SIZE; off += 64 * PAGE_SIZE) {
		v = b + off;
		assert_int_equal(gup_store(e.t, b + off, &v, sizeof(v)), 0);
	}
	v = keep;
	assert_int_equal(gup_store(e.t, keep, &v, sizeof(v)), 0);
	tables = fx_mm_info(e.mm).nr_pgtables;
	assert_int_equal(tables, 1 + 1 + 1 + 2);	/* PGD, PUD, PMD, 2 PTE tables */
	assert_int_equal(fx_mm_info(e.mm).rss, 8 + 1);
	assert_int_equal(fx_mm_info(e.mm).nr_vmas, 2);

	/* Lower half: the table stays, the upper half still uses it. */
	assert_int_equal(gup_munmap(e.t, b, PMD_SIZE / 2), 0);
	assert_int_equal(fx_mm_info(e.mm).nr_vmas, 2);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, tables);
	assert_int_equal(fx_mm_info(e.mm).rss, 4 + 1);
	mmap_read_lock(e.mm);
	assert_non_null(pte_offset_map(e.mm, b, &pt));
	assert_true(pte_none(ptep_get(&pt->ent[0])));
	assert_false(pte_none(ptep_get(&pt->ent[256])));
	mmap_read_unlock(e.mm);
	assert_int_equal(gup_load(e.t, b, &v, sizeof(v)), -EFAULT);
	assert_int_equal(gup_load(e.t, b + PMD_SIZE / 2, &v, sizeof(v)), 0);
	assert_int_equal(v, b + PMD_SIZE / 2);
	fx_check(e.w);

	/* The rest: now the PTE table goes, the PMD/PUD stay for @keep. */
	assert_int_equal(gup_munmap(e.t, b + PMD_SIZE / 2, PMD_SIZE / 2), 0);
	assert_int_equal(fx_mm_info(e.mm).nr_vmas, 1);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, tables - 1);
	assert_int_equal(fx_meminfo(e.w).nr_pgtables, tables - 1);
	mmap_read_lock(e.mm);
	assert_null(pte_offset_map(e.mm, b, &pt));
	assert_non_null(pte_offset_map(e.mm, keep, &pt));
	mmap_read_unlock(e.mm);
	assert_int_equal(gup_load(e.t, keep, &v, sizeof(v)), 0);
	assert_int_equal(v, keep);

	/* And the last mapping takes PMD, PUD and its PTE table with it. */
	assert_int_equal(gup_munmap(e.t, keep, PAGE_SIZE), 0);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1);
	assert_int_equal(fx_meminfo(e.w).nr_pgtables, 1);
	fx_env_done(&e);
}

/* A neighbour that shares the table but has no pages still keeps it. */
static void test_munmap_neighbour_untouched(void **state)
{
	struct fx_env e;
	const uint64_t b = UINT64_C(0x200000);
	uint64_t got, v = 1;

	(void)state;
	fx_env_new(&e, NULL, 256);
	assert_int_equal(gup_mmap(e.t, b, PAGE_SIZE, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED, &got), 0);
	/* Different prot: no merge. */
	assert_int_equal(gup_mmap(e.t, b + PAGE_SIZE, PAGE_SIZE, GUP_PROT_READ,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED, &got), 0);
	assert_int_equal(fx_mm_info(e.mm).nr_vmas, 2);
	assert_int_equal(gup_store(e.t, b, &v, sizeof(v)), 0);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 4);
	assert_int_equal(gup_munmap(e.t, b, PAGE_SIZE), 0);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 4);
	assert_int_equal(gup_munmap(e.t, b + PAGE_SIZE, PAGE_SIZE), 0);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1);
	assert_int_equal(fx_meminfo(e.w).nr_pgtables, 1);
	fx_env_done(&e);
}

/* Tables are per mm: two mms, their PGDs, teardown. */
static void test_pgtables_two_mms(void **state)
{
	struct fx_env e;
	struct gup_mm *mm2;
	struct gup_task *t2;
	uint64_t got, v = 3;

	(void)state;
	fx_env_new(&e, NULL, 512);
	assert_int_equal(gup_mm_create(e.w, &mm2), 0);
	assert_int_equal(gup_task_create(mm2, &t2), 0);
	assert_int_equal(fx_meminfo(e.w).nr_pgtables, 2);
	assert_int_equal(gup_mmap(t2, 0x10000, PAGE_SIZE, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED, &got), 0);
	assert_int_equal(gup_store(t2, 0x10000, &v, sizeof(v)), 0);
	assert_int_equal(fx_mm_info(mm2).nr_pgtables, 4);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1);
	assert_int_equal(fx_meminfo(e.w).nr_pgtables, 5);
	/* The same address in the other mm is not mapped. */
	assert_int_equal(gup_mm_pfn(e.mm, 0x10000), -EFAULT);
	assert_true(gup_mm_pfn(mm2, 0x10000) > 0);
	/* Exit with the mapping in place: mmput tears it all down. */
	gup_task_exit(t2);
	gup_mm_put(mm2);
	assert_int_equal(fx_meminfo(e.w).nr_pgtables, 1);
	fx_env_done(&e);
}

/* ---- gup_mm_pfn ------------------------------------------------------------- */

static void test_mm_pfn(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x300000);
	uint64_t got, v = 0;
	int64_t pfn;

	(void)state;
	fx_env_new(&e, NULL, 256);
	assert_int_equal(gup_mm_pfn(e.mm, a), -EFAULT);
	assert_int_equal(gup_mm_pfn(NULL, a), -EINVAL);
	assert_int_equal(gup_mm_pfn(e.mm, GUP_TASK_SIZE), -EINVAL);
	assert_int_equal(gup_mmap(e.t, a, 2 * PAGE_SIZE, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED, &got), 0);
	/* A mapping with no fault yet has no PTE. */
	assert_int_equal(gup_mm_pfn(e.mm, a), -EFAULT);

	/* Read: the zero page. */
	assert_int_equal(gup_load(e.t, a + 5, &v, sizeof(v)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(gup_mm_pfn(e.mm, a), ZERO_PFN);
	assert_int_equal(gup_mm_pfn(e.mm, a + PAGE_SIZE - 1), ZERO_PFN);
	assert_int_equal(gup_mm_pfn(e.mm, a + PAGE_SIZE), -EFAULT);
	assert_int_equal(fx_mm_info(e.mm).rss, 0);

	/* Write: a real frame (from ZONE_MOVABLE, which anon memory prefers). */
	v = 0x1122334455667788;
	assert_int_equal(gup_store(e.t, a + 8, &v, sizeof(v)), 0);
	pfn = gup_mm_pfn(e.mm, a);
	assert_true(pfn > ZERO_PFN);
	assert_true((uint64_t)pfn < 256);
	assert_true((uint64_t)pfn >= e.w->arena.movable_start);
	assert_int_equal(fx_mm_info(e.mm).rss, 1);
	/* The frame holds the bytes. */
	assert_memory_equal(page_data(&e.w->arena, pfn_to_page(&e.w->arena, pfn)) + 8, &v,
			    sizeof(v));
	assert_true(PageAnon(pfn_to_page(&e.w->arena, pfn)));
	assert_int_equal(page_mapcount(pfn_to_page(&e.w->arena, pfn)), 1);

	/* PROT_NONE keeps the frame mapped for the mm (pte_present). */
	assert_int_equal(gup_mprotect(e.t, a, PAGE_SIZE, GUP_PROT_NONE), 0);
	assert_int_equal(gup_mm_pfn(e.mm, a), pfn);
	assert_int_equal(gup_mprotect(e.t, a, PAGE_SIZE, GUP_PROT_READ | GUP_PROT_WRITE), 0);

	assert_int_equal(gup_munmap(e.t, a, 2 * PAGE_SIZE), 0);
	assert_int_equal(gup_mm_pfn(e.mm, a), -EFAULT);
	assert_int_equal(fx_nr_free(e.w), 255);
	fx_env_done(&e);
}

/* ---- concurrent faults racing to populate the same tables ------------------ */

enum { RACE_THREADS = 4, RACE_REGIONS = 12, RACE_ROUNDS = 8 };

static uint64_t race_region(int r)
{
	/* Spread over PGD, PUD and PMD slots: every level gets contended. */
	return (uint64_t)(r % 3) * PGD_SIZE + (uint64_t)((r / 3) % 2) * 5 * PUD_SIZE +
	       (uint64_t)(r / 6) * 9 * PMD_SIZE + PUD_SIZE;
}

struct race_arg {
	struct gup_task *t;
	int id;
	int round;
	int errors;
};

static void race_worker(void *arg)
{
	struct race_arg *ra = arg;

	for (int r = 0; r < RACE_REGIONS; r++) {
		uint64_t a = race_region(r) + (uint64_t)ra->round * 8 * PAGE_SIZE +
			     (uint64_t)ra->id * PAGE_SIZE;
		uint64_t v = a ^ 0x77, back = 0;

		if (gup_store(ra->t, a, &v, sizeof(v)) || gup_load(ra->t, a, &back, sizeof(back)) ||
		    back != v)
			ra->errors++;
	}
}

static void test_pgtable_alloc_race(void **state)
{
	struct fx_env e;
	struct gup_task *tasks[RACE_THREADS];
	struct race_arg args[RACE_THREADS];
	struct table_count tc;
	size_t pages = 0;

	(void)state;
	fx_env_new(&e, NULL, 1024);
	memset(&tc, 0, sizeof(tc));
	for (int i = 0; i < RACE_THREADS; i++)
		assert_int_equal(gup_task_create(e.mm, &tasks[i]), 0);
	for (int round = 0; round < RACE_ROUNDS; round++) {
		struct gup_thread *th[RACE_THREADS];

		/* Fresh mappings each round: the tables are gone again. */
		for (int r = 0; r < RACE_REGIONS; r++) {
			uint64_t got;

			assert_int_equal(gup_mmap(e.t, race_region(r) + round * 8 * PAGE_SIZE,
						  8 * PAGE_SIZE, GUP_PROT_READ | GUP_PROT_WRITE,
						  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED,
						  &got), 0);
		}
		for (int i = 0; i < RACE_THREADS; i++) {
			args[i] = (struct race_arg){ .t = tasks[i], .id = i, .round = round };
			th[i] = fx_thread_start(e.w, race_worker, &args[i]);
		}
		for (int i = 0; i < RACE_THREADS; i++) {
			assert_int_equal(gup_thread_join(th[i]), 0);
			assert_int_equal(args[i].errors, 0);
		}
		memset(&tc, 0, sizeof(tc));
		for (int r = 0; r < RACE_REGIONS; r++)
			tc_add(&tc, race_region(r) + round * 8 * PAGE_SIZE);
		pages = (size_t)RACE_REGIONS * RACE_THREADS;
		assert_int_equal(fx_mm_info(e.mm).rss, pages);
		assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1 + tc_total(&tc));
		assert_int_equal(fx_meminfo(e.w).nr_pgtables, 1 + tc_total(&tc));
		assert_int_equal(fx_stat(e.w, GUP_STAT_PGTABLE_ALLOC) -
				 fx_stat(e.w, GUP_STAT_PGTABLE_FREE), fx_meminfo(e.w).nr_pgtables);
		fx_check(e.w);
		for (int r = 0; r < RACE_REGIONS; r++)
			assert_int_equal(gup_munmap(e.t, race_region(r) + round * 8 * PAGE_SIZE,
						    8 * PAGE_SIZE), 0);
		assert_int_equal(fx_mm_info(e.mm).nr_pgtables, 1);
		assert_int_equal(fx_meminfo(e.w).nr_pgtables, 1);
	}
	for (int i = 0; i < RACE_THREADS; i++)
		gup_task_exit(tasks[i]);
	fx_env_done(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_helpers),
		cmocka_unit_test(test_pte_alloc_offset_map),
		cmocka_unit_test(test_walk_pte_tables),
		cmocka_unit_test(test_pte_bits),
		cmocka_unit_test(test_ptep_set_wrprotect),
		cmocka_unit_test(test_pgtable_accounting),
		cmocka_unit_test(test_pgtable_accounting_big),
		cmocka_unit_test(test_munmap_half_keeps_table),
		cmocka_unit_test(test_munmap_neighbour_untouched),
		cmocka_unit_test(test_pgtables_two_mms),
		cmocka_unit_test(test_mm_pfn),
		cmocka_unit_test(test_pgtable_alloc_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
