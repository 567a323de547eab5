/* SPDX-License-Identifier: MIT */
/*
 * src/mm/pgtable.c - page-table memory, lookups, the range walker, table freeing.
 *
 * Upper-level entries are populated under mm->page_table_lock with the
 * "allocate outside the lock, install if still empty" pattern; a table is
 * published with a release store, which pairs with the acquire load of every
 * walker (so a lockless walker sees the table's zeroed entries).
 */
#include <stdlib.h>
#include <string.h>

#include "mm/mm.h"
#include "world.h"
#include "debug.h"

#define POOL_CHUNK	64	/* tables per malloc */

int pgtable_pool_init(struct pgtable_pool *pool)
{
	memset(pool, 0, sizeof(*pool));
	spin_lock_init(&pool->lock);
	return 0;
}

void pgtable_pool_destroy(struct pgtable_pool *pool)
{
	for (size_t i = 0; i < pool->nr_chunks; i++)
		free(pool->chunks[i]);
	free(pool->chunks);
}

/* Grow the pool by one chunk; pool->lock held.  false on host -ENOMEM. */
static bool pool_grow(struct pgtable_pool *pool)
{
	struct pgtable *chunk;

	if (pool->nr_chunks == pool->cap_chunks) {
		size_t cap = pool->cap_chunks ? pool->cap_chunks * 2 : 16;
		void **c = realloc(pool->chunks, cap * sizeof(*c));

		if (!c)
			return false;
		pool->chunks = c;
		pool->cap_chunks = cap;
	}
	chunk = aligned_alloc(_Alignof(struct pgtable), POOL_CHUNK * sizeof(*chunk));
	if (!chunk)
		return false;
	pool->chunks[pool->nr_chunks++] = chunk;
	for (int i = 0; i < POOL_CHUNK; i++) {
		chunk[i].free_next = pool->free;
		pool->free = &chunk[i];
	}
	return true;
}

struct pgtable *pgtable_alloc(struct gup_world *w, int level)
{
	struct pgtable_pool *pool = &w->pgtables;
	struct pgtable *pt;

	spin_lock(&pool->lock);
	if (!pool->free && !pool_grow(pool)) {
		spin_unlock(&pool->lock);
		return NULL;
	}
	pt = pool->free;
	pool->free = pt->free_next;
	spin_unlock(&pool->lock);

	for (int i = 0; i < PTRS_PER_TABLE; i++)
		init_private_u64(&pt->ent[i], 0);
	spin_lock_init(&pt->ptl);
	pt->level = level;
	pt->nr_pde = 0;
	pt->free_next = NULL;
	stat_add(&pool->nr_used, 1);
	count_vm_event(w, GUP_STAT_PGTABLE_ALLOC);
	return pt;
}

void pgtable_free(struct gup_world *w, struct pgtable *pt)
{
	struct pgtable_pool *pool = &w->pgtables;

	spin_lock(&pool->lock);
	pt->free_next = pool->free;
	pool->free = pt;
	spin_unlock(&pool->lock);
	stat_add(&pool->nr_used, (uint64_t)-1);
	count_vm_event(w, GUP_STAT_PGTABLE_FREE);
}

static struct pgtable *pde_next(pte_t *pde)
{
	/* Acquire: the table's contents are initialised before it is published. */
	uint64_t v = smp_load_acquire(pde);

	return v ? pde_table(v) : NULL;
}

/* The table below @pde, allocating it if missing.  NULL on -ENOMEM. */
static struct pgtable *pde_alloc(struct gup_mm *mm, struct pgtable *dir, pte_t *pde, int level)
{
	struct pgtable *pt = pde_next(pde), *new;

	if (likely(pt))
		return pt;
	new = pgtable_alloc(mm->w, level);
	if (!new)
		return NULL;
	spin_lock(&mm->page_table_lock);
	pt = pde_next(pde);
	if (!pt) {
		/* Release: pairs with pde_next()'s acquire in lockless walkers. */
		smp_store_release(pde, (uint64_t)(uintptr_t)new | PDE_PRESENT);
		dir->nr_pde++;
		stat_add(&mm->nr_pgtables, 1);
		pt = new;
		new = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	if (new)
		pgtable_free(mm->w, new);	/* lost the race: someone installed one */
	return pt;
}

static const int level_shift[4] = { PAGE_SHIFT, PMD_SHIFT, PUD_SHIFT, PGD_SHIFT };

static unsigned level_index(int level, uint64_t addr)
{
	return (addr >> level_shift[level]) & 511;
}

pte_t *pte_offset_map(struct gup_mm *mm, uint64_t addr, struct pgtable **ptp)
{
	struct pgtable *pt = mm->pgd;

	for (int level = 3; level > 0; level--) {
		pt = pde_next(&pt->ent[level_index(level, addr)]);
		if (!pt)
			return NULL;
	}
	*ptp = pt;
	return &pt->ent[pte_index(addr)];
}

pte_t *pte_alloc_map(struct gup_mm *mm, uint64_t addr, struct pgtable **ptp)
{
	struct pgtable *pt = mm->pgd;

	for (int level = 3; level > 0; level--) {
		pt = pde_alloc(mm, pt, &pt->ent[level_index(level, addr)], level - 1);
		if (!pt)
			return NULL;
	}
	*ptp = pt;
	return &pt->ent[pte_index(addr)];
}

static uint64_t level_span_end(int level, uint64_t addr, uint64_t end)
{
	uint64_t size = UINT64_C(1) << level_shift[level];
	uint64_t next = (addr + size) & ~(size - 1);

	return (next - 1 < end - 1) ? next : end;	/* overflow-safe min */
}

static int walk_level(struct pgtable *pt, int level, uint64_t addr, uint64_t end,
		      pte_table_fn fn, void *arg)
{
	if (level == 0)
		return fn(pt, addr, end, arg);
	do {
		uint64_t next = level_span_end(level, addr, end);
		struct pgtable *child = pde_next(&pt->ent[level_index(level, addr)]);
		int ret;

		if (child) {
			ret = walk_level(child, level - 1, addr, next, fn, arg);
			if (ret)
				return ret;
		}
		addr = next;
	} while (addr != end);
	return 0;
}

int walk_pte_tables(struct gup_mm *mm, uint64_t start, uint64_t end, pte_table_fn fn,
		    void *arg)
{
	if (start >= end)
		return 0;
	return walk_level(mm->pgd, 3, start, end, fn, arg);
}

static size_t walk_all_level(struct pgtable *pt, int level, uint64_t base, pte_table_fn fn,
			     void *arg)
{
	uint64_t size = UINT64_C(1) << level_shift[level];
	unsigned left = pt->nr_pde;
	size_t tables = 1;

	if (level == 0) {
		fn(pt, base, base + PTRS_PER_TABLE * size, arg);
		return 1;
	}
	for (unsigned i = 0; left && i < PTRS_PER_TABLE; i++) {
		struct pgtable *child = pde_next(&pt->ent[i]);
		size_t below;

		if (!child)
			continue;
		left--;
		below = walk_all_level(child, level - 1, base + i * size, fn, arg);
		if (below == SIZE_MAX)
			return SIZE_MAX;
		tables += below;
	}
	return left ? SIZE_MAX : tables;
}

size_t walk_all_pte_tables(struct gup_mm *mm, pte_table_fn fn, void *arg)
{
	return walk_all_level(mm->pgd, 3, 0, fn, arg);
}

/* ---- freeing ---- */

static void gather_table(struct mmu_gather *tlb, struct pgtable *pt)
{
	pt->free_next = tlb->tables;
	tlb->tables = pt;
	tlb->need_flush = true;
	stat_add(&tlb->mm->nr_pgtables, (uint64_t)-1);
}

/* A PTE table maps nothing (a check: every PTE is read). */
static bool pte_table_is_empty(struct pgtable *pt)
{
	for (int i = 0; i < PTRS_PER_TABLE; i++)
		if (read_once_u64(&pt->ent[i]))
			return false;
	return true;
}

/*
 * Free the children of @pt (level >= 1) whose spans lie wholly inside
 * [floor, ceiling) and meet [start, end); then report whether @pt itself became
 * empty.  A child's span outside [floor, ceiling) may still hold PTEs of a
 * neighbouring VMA and is kept.  Only the entries that meet [start, end) are
 * read, and none past the directory's last table (nr_pde: nobody installs one
 * meanwhile, the mmap lock is held for write): exit's range is everything, an
 * unmap's a few entries a level.
 */
static bool free_level(struct mmu_gather *tlb, struct pgtable *pt, int level,
		       uint64_t base, uint64_t start, uint64_t end, uint64_t floor,
		       uint64_t ceiling)
{
	int shift = level_shift[level];
	uint64_t size = UINT64_C(1) << shift;
	uint64_t first = start > base ? (start - base) >> shift : 0;
	uint64_t last = (end - 1 - base) >> shift;	/* end > base: the caller's span meets it */
	unsigned left = pt->nr_pde;	/* tables still to meet: none past the last */

	if (last >= PTRS_PER_TABLE)
		last = PTRS_PER_TABLE - 1;
	for (uint64_t i = first; left && i <= last; i++) {
		uint64_t lo = base + i * size, hi = lo + size;
		struct pgtable *child = pde_next(&pt->ent[i]);

		if (!child)
			continue;
		left--;
		if (level > 1 &&
		    !free_level(tlb, child, level - 1, lo, start, end, floor, ceiling))
			continue;
		if (lo < floor || hi > ceiling)
			continue;
		GUP_BUG_ON(level == 1 && !pte_table_is_empty(child),
			   "freeing a PTE table that still maps pages");
		spin_lock(&tlb->mm->page_table_lock);
		write_once_u64(&pt->ent[i], 0);
		pt->nr_pde--;
		spin_unlock(&tlb->mm->page_table_lock);
		gather_table(tlb, child);
	}
	return pt->nr_pde == 0;
}

void free_pgtables(struct mmu_gather *tlb, uint64_t start, uint64_t end,
		   uint64_t floor, uint64_t ceiling)
{
	free_level(tlb, tlb->mm->pgd, 3, 0, start, end, floor, ceiling);
}
