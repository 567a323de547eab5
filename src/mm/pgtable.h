/* SPDX-License-Identifier: MIT */
/*
 * src/mm/pgtable.h - four-level page tables of 512 entries, x86-64 shaped.
 *
 * Levels: PGD (bits 39..47) -> PUD (30..38) -> PMD (21..29) -> PTE (12..20).
 * An upper-level entry is 0 (none) or the address of the next table | PDE_PRESENT.
 * A PTE is 0 (none) or pfn << 12 | PTE_* bits.
 *
 * Who writes entries, and how:
 *  - every change except the A/D bits is made under the PT lock of the PTE table
 *    (ptl) or, for upper levels, under mm->page_table_lock;
 *  - the TLB-fill walker (the "hardware", tlb.c) sets ACCESSED/DIRTY with a cmpxchg
 *    and only when a bit is missing, never holding a lock.  So a PT-lock holder that
 *    sees both bits set may use a plain store (see ptep_set_wrprotect);
 *  - lockless readers (the TLB walker, gup-fast) run inside an irq-off section;
 *    tables are freed only after a TLB shootdown, which waits for every such
 *    section of the mm's tasks to end (free_pgtables + tlb_finish_mmu).
 */
#ifndef GUP_MM_PGTABLE_H
#define GUP_MM_PGTABLE_H

#include "mm/page.h"

#define PTRS_PER_TABLE	512
#define PMD_SHIFT	21
#define PUD_SHIFT	30
#define PGD_SHIFT	39
#define PMD_SIZE	(UINT64_C(1) << PMD_SHIFT)
#define PUD_SIZE	(UINT64_C(1) << PUD_SHIFT)
#define PGD_SIZE	(UINT64_C(1) << PGD_SHIFT)

#define PTE_PRESENT	(UINT64_C(1) << 0)
#define PTE_WRITE	(UINT64_C(1) << 1)
#define PTE_ACCESSED	(UINT64_C(1) << 5)
#define PTE_DIRTY	(UINT64_C(1) << 6)
#define PTE_PROTNONE	(UINT64_C(1) << 8)	/* mapped, PROT_NONE: present for the mm */
#define PTE_SPECIAL	(UINT64_C(1) << 9)	/* no struct page to count (zero page)   */
#define PTE_SOFT_DIRTY	(UINT64_C(1) << 10)
#define PTE_UFFD_WP	(UINT64_C(1) << 11)
#define PTE_PFN_MASK	(((UINT64_C(1) << 52) - 1) & ~UINT64_C(0xfff))

#define PDE_PRESENT	UINT64_C(1)

/*
 * A table of any level.  4 KiB of entries plus a descriptor (the kernel keeps the
 * same things in the table page's struct ptdesc).
 */
struct pgtable {
	_Atomic uint64_t ent[PTRS_PER_TABLE];
	spinlock_t ptl;			/* PT lock: guards ent[] of a PTE table       */
	int level;			/* 0 PTE, 1 PMD, 2 PUD, 3 PGD; constant        */
	/*
	 * A directory (level >= 1): its entries that point to a table.  Changed
	 * under the mm's page_table_lock (pde_alloc, free_level); read by
	 * free_level, under the mmap lock for write, when nobody installs.
	 */
	unsigned nr_pde;
	struct pgtable *free_next;	/* pool free list / mmu_gather, owner only    */
} __attribute__((aligned(64)));

typedef _Atomic uint64_t pte_t;		/* an entry slot of any level */

static inline unsigned pgd_index(uint64_t a) { return (a >> PGD_SHIFT) & 511; }
static inline unsigned pud_index(uint64_t a) { return (a >> PUD_SHIFT) & 511; }
static inline unsigned pmd_index(uint64_t a) { return (a >> PMD_SHIFT) & 511; }
static inline unsigned pte_index(uint64_t a) { return (a >> PAGE_SHIFT) & 511; }

static inline uint64_t ptep_get(pte_t *ptep) { return read_once_u64(ptep); }
/* ... with @hooked read once by a hot loop (sched.h: sched_hooked). */
static inline uint64_t ptep_get_hk(bool hooked, pte_t *ptep) { return read_once_hk_u64(hooked, ptep); }
/*
 * set_pte is a release store: whatever the writer did to the frame and its
 * struct page before publishing (zeroing, copying, initialising) is visible to a
 * lockless walker that reads the PTE with acquire (tlb_fill, gup-fast).  Every
 * republication (reuse, write-protect) keeps that chain intact.  Free on x86.
 */
static inline void set_pte(pte_t *ptep, uint64_t v) { smp_store_release(ptep, v); }
/* ptep_get_and_clear: atomic, so an A/D update of the walker is not lost. */
static inline uint64_t ptep_get_and_clear(pte_t *ptep) { return xchg_u64(ptep, 0); }

static inline bool pte_none(uint64_t pte) { return pte == 0; }
/* "Present" for the mm (a frame is mapped), including PROT_NONE entries. */
static inline bool pte_present(uint64_t pte) { return pte & (PTE_PRESENT | PTE_PROTNONE); }
/* Present for the CPU: the TLB walker and gup-fast may use it. */
static inline bool pte_accessible(uint64_t pte) { return pte & PTE_PRESENT; }
static inline bool pte_write(uint64_t pte) { return pte & PTE_WRITE; }
static inline bool pte_dirty(uint64_t pte) { return pte & PTE_DIRTY; }
static inline bool pte_young(uint64_t pte) { return pte & PTE_ACCESSED; }
static inline bool pte_special(uint64_t pte) { return pte & PTE_SPECIAL; }
static inline bool pte_protnone(uint64_t pte) { return pte & PTE_PROTNONE; }
static inline uint64_t pte_pfn(uint64_t pte) { return (pte & PTE_PFN_MASK) >> PAGE_SHIFT; }
static inline uint64_t pfn_pte(uint64_t pfn, uint64_t bits) { return (pfn << PAGE_SHIFT) | bits; }
static inline uint64_t pte_wrprotect(uint64_t pte) { return pte & ~PTE_WRITE; }
static inline uint64_t pte_mkwrite(uint64_t pte) { return pte | PTE_WRITE; }
static inline uint64_t pte_mkdirty(uint64_t pte) { return pte | PTE_DIRTY | PTE_SOFT_DIRTY; }
static inline uint64_t pte_mkyoung(uint64_t pte) { return pte | PTE_ACCESSED; }
static inline uint64_t pte_mkold(uint64_t pte) { return pte & ~PTE_ACCESSED; }

static inline struct pgtable *pde_table(uint64_t pde)
{
	return (struct pgtable *)(uintptr_t)(pde & ~PDE_PRESENT);
}

/*
 * ptep_set_wrprotect - clear PTE_WRITE under the PT lock.  Linux uses a locked
 * RMW because the MMU may set Dirty at any moment; our walker only ever writes to
 * set a missing A/D bit, so when both are already set a plain store cannot lose an
 * update and saves fork one atomic per page.
 */
static inline void ptep_set_wrprotect(pte_t *ptep, uint64_t pte)
{
	if ((pte & (PTE_ACCESSED | PTE_DIRTY)) == (PTE_ACCESSED | PTE_DIRTY))
		set_pte(ptep, pte_wrprotect(pte));
	else
		fetch_and_u64(ptep, ~PTE_WRITE);
}

/* Page-table memory: a per-world pool of struct pgtable. */
struct pgtable_pool {
	spinlock_t lock;
	struct pgtable *free;		/* under lock */
	void **chunks;			/* under lock: malloc'd blocks, freed at world teardown */
	size_t nr_chunks, cap_chunks;
	_Atomic uint64_t nr_used;	/* statistics */
};

struct gup_world;
struct gup_mm;

int pgtable_pool_init(struct pgtable_pool *pool);
void pgtable_pool_destroy(struct pgtable_pool *pool);
struct pgtable *pgtable_alloc(struct gup_world *w, int level);
void pgtable_free(struct gup_world *w, struct pgtable *pt);

/*
 * Lookups.  pte_offset_map: the PTE slot of @addr if all upper tables exist, else
 * NULL; callers hold the mmap lock or are in an irq-off section.
 * pte_alloc_map: allocating the missing tables (mmap lock held); NULL on -ENOMEM.
 * Both return the PTE table through @ptp (to take its ptl).
 */
pte_t *pte_offset_map(struct gup_mm *mm, uint64_t addr, struct pgtable **ptp);
pte_t *pte_alloc_map(struct gup_mm *mm, uint64_t addr, struct pgtable **ptp);

/*
 * walk_pte_tables - call @fn for every existing PTE table that covers part of
 * [start, end), with the sub-range it covers.  mmap lock held.  A non-zero return
 * from @fn stops the walk and is returned.
 */
typedef int (*pte_table_fn)(struct pgtable *pt, uint64_t start, uint64_t end, void *arg);
int walk_pte_tables(struct gup_mm *mm, uint64_t start, uint64_t end, pte_table_fn fn,
		    void *arg);
/*
 * walk_all_pte_tables - @fn (its return ignored) for every PTE table of an mm
 * nobody changes (the invariant checker's), each directory read only up to its
 * last table (nr_pde).  Return: the tables met, the PGD included, to compare
 * with the mm's count; SIZE_MAX if a directory holds fewer than its nr_pde.
 */
size_t walk_all_pte_tables(struct gup_mm *mm, pte_table_fn fn, void *arg);

struct mmu_gather;
/*
 * free_pgtables - detach the tables whose whole span lies in [floor, ceiling) and
 * intersects [start, end), queueing them on @tlb; they are freed by tlb_finish_mmu
 * after the shootdown.  mmap lock held for write.
 */
void free_pgtables(struct mmu_gather *tlb, uint64_t start, uint64_t end,
		   uint64_t floor, uint64_t ceiling);

#endif /* GUP_MM_PGTABLE_H */
