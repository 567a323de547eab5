/* SPDX-License-Identifier: MIT */
/*
 * src/gup/internal.h - the GUP engine: flags, the slow path, gup-fast, pins.
 *
 * One engine per operation, public entry points are thin validating wrappers
 * (api.c, legacy.c):
 *
 *   __get_user_pages_locked   slow path with the `locked` retry protocol (gup.c)
 *   __gup_longterm_locked     the same, then migration out of ZONE_MOVABLE for
 *                             FOLL_LONGTERM (longterm.c)
 *   gup_fast_fallback         lockless walk, then the slow path for the rest (fast.c)
 *
 * Semantics follow linux_anchor.md section 1; each rule cites its subsection.
 *
 * Locking: the slow path runs with the target mm's mmap lock held for read
 * (taken here if *locked == 0); it takes PT locks under it.  gup-fast takes no lock:
 * it walks in an irq-off section, which page-table freeing waits out (tlb.c), and
 * it re-reads each PTE after grabbing the page (grab-then-recheck).
 */
#ifndef GUP_GUP_INTERNAL_H
#define GUP_GUP_INTERNAL_H

#include "gup/gup.h"
#include "debug.h"
#include "mm/fault.h"
#include "world.h"

/* External FOLL flags are the public GUP_FOLL_* values (linux_anchor 1.4). */
#include "gup/foll.h"

/* Internal only: a caller passing any of these is refused (is_valid_gup_args). */
#define FOLL_TOUCH		(1u << 16)	/* mark accessed; dirty with WRITE   */
#define FOLL_TRIED		(1u << 17)	/* retry pass: FAULT_FLAG_TRIED      */
#define FOLL_REMOTE		(1u << 18)	/* not current's mm                  */
#define FOLL_PIN		(1u << 19)	/* pin: release with unpin_user_page */
#define FOLL_FAST_ONLY		(1u << 20)	/* gup-fast without fallback         */
#define FOLL_UNLOCKABLE		(1u << 21)	/* GUP may drop the mmap lock        */
#define FOLL_MADV_POPULATE	(1u << 22)	/* MADV_POPULATE_* error semantics   */
/*
 * The caller keeps the pages after GUP returns: gup-fast's slow path, as KOSAKI's
 * GUP_FLAGS_PINNING_PAGE (seed004 L8772, L8680-8702).  read_cow=pinning de-COWs
 * these calls only, sparing access_process_vm and the like (R15).
 */
#define FOLL_PINNING		(1u << 23)
/*
 * This page's lookup dropped FOLL_WRITE after its write fault (write_retry=read,
 * the 2009 loop): the FOLL_WRITE that Nick's and KOSAKI's de-COW forced once
 * per page is spent (seed004 L5736, L8883).  Never passed in.
 */
#define FOLL_COWED		(1u << 24)

#define INTERNAL_GUP_FLAGS	(FOLL_TOUCH | FOLL_TRIED | FOLL_REMOTE | FOLL_PIN | \
				 FOLL_FAST_ONLY | FOLL_UNLOCKABLE | FOLL_MADV_POPULATE | \
				 FOLL_PINNING | FOLL_COWED)

/* Every flag the slow path knows. */
#define GUP_FOLL_EXTERNAL	((1u << 13) - 1)

/* What gup-fast accepts (gup_fast_fallback, linux_anchor 1.5). */
#define FOLL_FAST_ALLOWED	(FOLL_WRITE | FOLL_LONGTERM | FOLL_FORCE | FOLL_PIN | \
				 FOLL_GET | FOLL_FAST_ONLY | FOLL_NOFAULT | \
				 FOLL_PCI_P2PDMA | FOLL_HONOR_NUMA_FAULT)

static inline struct page *gup_page_to_page(struct gup_page *p)
{
	return (struct page *)p;
}

static inline struct gup_page *page_to_gup_page(struct page *p)
{
	return (struct gup_page *)p;
}

/* ---- the caller's context ---- */

/*
 * Who is calling and on which mm.  @task may be NULL for internal callers with
 * no task (population); then no fatal signal is seen and no lock is tracked.
 */
struct gup_call {
	struct gup_task *task;		/* "current"                          */
	struct gup_mm *mm;		/* the target (task's own, or remote) */
	const void *site;		/* caller's return address, for reports */
};

/* ---- pin accounting (pin.c) ---- */

/*
 * Batched walks (gup-fast, unpin_user_pages) fetch the struct page line of the
 * page this many entries ahead (gup-fast: a chunk of this many, a chunk
 * ahead): about the misses a core keeps in flight, and measured best of
 * 8/16/32 on cold passes.
 */
#define GUP_PREFETCH_AHEAD	16

/*
 * try_grab_page - take what @flags asks for on a page found under its PT lock:
 * FOLL_GET +1, FOLL_PIN +GUP_PIN_COUNTING_BIAS (nothing on the zero page).
 * Return 0 or -ENOMEM (refcount would overflow).
 */
int try_grab_page(struct gup_world *w, struct gup_task *t, struct page *page,
		  unsigned flags);
/* Undo one try_grab_page (FOLL_GET or FOLL_PIN per @flags). */
void gup_put_ref(struct gup_world *w, struct gup_task *t, struct page *page,
		 unsigned flags);
/* Pages that are not long-term pinnable: ZONE_MOVABLE (the zero page is fine). */
static inline bool page_is_longterm_pinnable(struct page *page)
{
	return PageZero(page) || page->zone != ZONE_MOVABLE;
}

/* ---- the slow path (gup.c) ---- */

/*
 * gup_must_unshare - must a R/O pin unshare @page first (linux_anchor 1.10)?
 * @vma is NULL from gup-fast, which then falls back where it cannot tell.
 */
bool gup_must_unshare(struct gup_world *w, struct gup_vma *vma, unsigned flags,
		      struct page *page);

/*
 * check_vma_flags - may GUP with @flags touch @vma at all?  0, -EFAULT or
 * -EOPNOTSUPP (linux_anchor 1.5's table).
 */
int check_vma_flags(struct gup_vma *vma, unsigned flags);

/*
 * __get_user_pages_locked - the slow path and the `locked` protocol
 * (linux_anchor 1.8).  *@locked == 0: the lock is taken here (killable) and always
 * released before returning; *@locked == 1: the caller holds it, and it is
 * dropped only with FOLL_UNLOCKABLE, then *@locked is 0 on return.
 * Return: pages done (possibly short), or -errno if none.
 */
long __get_user_pages_locked(struct gup_call *c, uint64_t start, unsigned long nr_pages,
			     struct page **pages, int *locked, unsigned flags);

/* The same with FOLL_LONGTERM's migration out of ZONE_MOVABLE (longterm.c). */
long __gup_longterm_locked(struct gup_call *c, uint64_t start, unsigned long nr_pages,
			   struct page **pages, int *locked, unsigned flags);

/* fixup_user_fault's engine (gup.c). */
int fixup_user_fault_engine(struct gup_call *c, uint64_t address, unsigned fault_flags,
			    bool *unlocked);

/* ---- gup-fast (fast.c) ---- */

/* get/pin_user_pages_fast(_only): lockless walk, then the slow path (unless FAST_ONLY). */
long gup_fast_fallback(struct gup_call *c, uint64_t start, unsigned long nr_pages,
		       unsigned flags, struct page **pages);

/* ---- the mmap lock as GUP's callers hold it (lock.c) ---- */

/*
 * Which mmap locks a task holds, for the locked variants' contract and for misuse
 * reports.  Only the owning thread changes or reads its own record.
 */
void task_note_mmap_lock(struct gup_task *t, struct gup_mm *mm, int mode);
void task_note_mmap_unlock(struct gup_task *t, struct gup_mm *mm);
/* Take/drop @mm's lock for read on behalf of the call (killable). */
int gup_mmap_read_lock_killable(struct gup_call *c);
void gup_mmap_read_unlock_call(struct gup_call *c);

#endif /* GUP_GUP_INTERNAL_H */
