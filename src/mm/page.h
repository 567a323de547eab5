/* SPDX-License-Identifier: MIT */
/*
 * src/mm/page.h - physical frames: struct page, reference counts, the allocator.
 *
 * Every frame of the arena has a struct page of at most 64 bytes, as in Linux.
 *
 * Reference counting.  refcount and mapcount live in ONE 64-bit word, @count:
 *     bits  0..31  refcount  (page_ref_count)
 *     bits 32..63  mapcount  (page_mapcount; number of PTEs mapping the frame)
 * A mapping holds one reference, so mapping a page is a single atomic add of
 * PAGE_MAP_REF (mapcount+1 and refcount+1) and fork's per-page cost is one atomic.
 * Reading @count gives a consistent (refcount, mapcount) pair; the thread argues
 * over exactly that comparison (seed004 1.1: "page_count != page_mapcount +
 * PageSwapCache", L4816-4819), which here is race-free for one instant.
 * FOLL_PIN on a small page adds GUP_PIN_COUNTING_BIAS (1024) to the refcount
 * (linux_anchor 1.6), so maybe_dma_pinned is refcount >= 1024.
 *
 * Invariant (checked by gup_world_check at quiescence):
 *     refcount == mapcount + cache refs (shmem/page cache) + GUP refs + pins*1024
 * The zero page holds one permanent reference and no mapcount: PTEs that map it are
 * "special" (vm_normal_page returns NULL for them, as in Linux).
 *
 * Anon exclusivity (PG_anon_exclusive in Linux 5.19+) is its own byte, written with
 * WRITE_ONCE under the PT lock of the single PTE that maps the page, and read
 * locklessly by gup-fast; no read-modify-write of @flags is needed for it.
 */
#ifndef GUP_MM_PAGE_H
#define GUP_MM_PAGE_H

#include "sched/sched.h"

struct gup_world;

#define PAGE_SHIFT	12
#define PAGE_SIZE	(UINT64_C(1) << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define GUP_PIN_COUNTING_BIAS	1024u

#define PAGE_REF_ONE	UINT64_C(1)
#define PAGE_MAP_ONE	(UINT64_C(1) << 32)
#define PAGE_MAP_REF	(PAGE_MAP_ONE | PAGE_REF_ONE)
/* A refcount this high is refused by try-get (overflow guard; Linux: -ENOMEM). */
#define PAGE_REF_MAX	(UINT32_C(1) << 30)

enum pageflags {
	PG_locked,	/* page lock (lock_page / trylock_page)              */
	PG_dirty,	/* contents newer than backing store                  */
	PG_anon,	/* private anonymous page                             */
	PG_zero,	/* the shared zero page                               */
	PG_reserved,	/* never freed (zero page)                            */
	PG_uptodate,
	PG_hwpoison,	/* memory error: access gives VM_FAULT_HWPOISON       */
	PG_shmem,	/* page of a shared-anon (shmem) object's cache       */
	PG_free,	/* on the free lists (debugging and the checker)      */
	PG_referenced,
	PG_gup,		/* Andrea 2009 (seed004 1.3): set by gup, tested by fork */
	PG_dontcow,	/* Nick 2009 (seed004 1.4): never COW-shared again      */
	PG_dax,		/* a block of an fs-DAX file: the storage itself       */
	NR_PAGEFLAGS
};

enum zone_type {
	ZONE_NORMAL,	/* unmovable: long-term pins may stay here           */
	ZONE_MOVABLE,	/* user pages prefer it; FOLL_LONGTERM migrates out   */
	NR_ZONES
};

struct page {
	_Atomic uint64_t flags;		/* PG_* bits, atomic bitops                  */
	_Atomic uint64_t count;		/* refcount | mapcount << 32 (see above)     */
	_Atomic uintptr_t mapping;	/* shmem object for PG_shmem; NULL for anon  */
	_Atomic uint64_t index;		/* anon: vaddr >> PAGE_SHIFT; shmem: pgoff   */
	_Atomic uint8_t anon_exclusive;	/* written under the mapping PTE's PT lock   */
	uint8_t zone;			/* enum zone_type, constant                  */
	uint8_t pad[2];
	/* Debug mode only: FOLL_GET references GUP handed out (misuse reports). */
	atomic_t gup_gets;
	struct gup_world *w;		/* constant: the page's world (gup_put_page) */
	uint64_t private_data[2];	/* policy-specific (later issues)            */
};

_Static_assert(sizeof(struct page) <= 64, "struct page must fit 64 bytes");

/* ---- flags ---- */
/*
 * @flags is a bit word (sched.h): every access names its bits, so that the
 * explorer takes a test of one flag and a change of another as independent.
 */
#define PG_BIT(b)	(UINT64_C(1) << (b))
#define PAGE_FLAGS_ALL	(PG_BIT(NR_PAGEFLAGS) - 1)

#define PAGEFLAG_FNS(name, bit)                                                       \
static inline bool Page##name(struct page *p) { return test_bit(bit, &p->flags); }   \
static inline void SetPage##name(struct page *p) { set_bit(bit, &p->flags); }        \
static inline void ClearPage##name(struct page *p) { clear_bit(bit, &p->flags); }

PAGEFLAG_FNS(Locked, PG_locked)
PAGEFLAG_FNS(Dirty, PG_dirty)
PAGEFLAG_FNS(Anon, PG_anon)
PAGEFLAG_FNS(Zero, PG_zero)
PAGEFLAG_FNS(Reserved, PG_reserved)
PAGEFLAG_FNS(Uptodate, PG_uptodate)
PAGEFLAG_FNS(HWPoison, PG_hwpoison)
PAGEFLAG_FNS(Shmem, PG_shmem)
PAGEFLAG_FNS(Free, PG_free)
PAGEFLAG_FNS(Referenced, PG_referenced)
PAGEFLAG_FNS(GUP, PG_gup)
PAGEFLAG_FNS(DontCOW, PG_dontcow)
PAGEFLAG_FNS(Dax, PG_dax)

static inline bool PageAnonExclusive(struct page *p)
{
	return read_once_u8(&p->anon_exclusive);
}

/* Caller holds the PT lock of the only PTE that maps @p (or @p is not yet mapped). */
static inline void SetPageAnonExclusive(struct page *p)
{
	write_once_u8(&p->anon_exclusive, 1);
}

static inline void ClearPageAnonExclusive(struct page *p)
{
	write_once_u8(&p->anon_exclusive, 0);
}

/*
 * page_init_private - set up a frame nobody else can see yet (just allocated, not
 * yet in a PTE or a cache).  Plain initialisation, no scheduling points: there is
 * no other party to interleave with.  Publication (set_pte under the PT lock,
 * after smp_wmb) is the point where others may look.
 */
static inline void page_init_private(struct page *p, uint64_t flags, uint64_t count,
				     uint64_t index, bool exclusive)
{
	init_private_u64(&p->flags, flags);
	init_private_u64(&p->count, count);
	init_private_u64(&p->index, index);
	init_private_u8(&p->anon_exclusive, exclusive);
}

/* ---- counts ---- */
/*
 * @count is a word of two fields (sched.h, read_parts_u64): every access names
 * the ones it uses or changes, so that the explorer takes a reference drop and
 * an unmap's mapcount decrement as independent.
 */
#define PAGE_COUNT_REF	UINT64_C(1)	/* field 0: the refcount */
#define PAGE_COUNT_MAP	UINT64_C(2)	/* field 1: the mapcount */
#define PAGE_COUNT_BOTH	(PAGE_COUNT_REF | PAGE_COUNT_MAP)

static inline uint32_t count_ref(uint64_t c) { return (uint32_t)c; }
static inline uint32_t count_map(uint64_t c) { return (uint32_t)(c >> 32); }

static inline uint64_t page_count_word(struct page *p)
{
	return read_parts_u64(&p->count, PAGE_COUNT_BOTH);
}

static inline uint32_t page_ref_count(struct page *p)
{
	return count_ref(read_parts_u64(&p->count, PAGE_COUNT_REF));
}

static inline uint32_t page_mapcount(struct page *p)
{
	return count_map(read_parts_u64(&p->count, PAGE_COUNT_MAP));
}

/* With acquire: decisions that hand the page to us (COW reuse). */
static inline uint32_t page_ref_count_acquire(struct page *p)
{
	return count_ref(load_acquire_parts_u64(&p->count, PAGE_COUNT_REF));
}

static inline uint32_t page_mapcount_acquire(struct page *p)
{
	return count_map(load_acquire_parts_u64(&p->count, PAGE_COUNT_MAP));
}

static inline bool page_mapped(struct page *p)
{
	return page_mapcount(p) != 0;
}

/* folio_maybe_dma_pinned for a small page: false positives allowed, never false negatives. */
static inline bool page_maybe_dma_pinned(struct page *p)
{
	return page_ref_count(p) >= GUP_PIN_COUNTING_BIAS;
}

/* Take a reference on a page the caller already holds one on (or maps under PT lock). */
static inline void get_page(struct page *p)
{
	add_parts_u64(&p->count, PAGE_COUNT_REF, PAGE_REF_ONE);
}

static inline void page_ref_add(struct page *p, uint32_t nr)
{
	add_parts_u64(&p->count, PAGE_COUNT_REF, nr);
}

/*
 * page_ref_try_add - add @nr references unless the refcount is 0 (the frame is
 * being freed) or would pass PAGE_REF_MAX.  The lockless (gup-fast) grab; inline
 * because gup-fast does one per page.  The cmpxchg is a full barrier.
 */
bool page_ref_try_add_retry(struct page *p, uint32_t nr, uint64_t c);
/*
 * Under a hook: one point, a write of the refcount, then the loop.  The grab
 * is one atomic step (add unless zero) whose value is the refcount only; a
 * read point before the cmpxchg would make the mapcount, which the cmpxchg
 * compares, a field the grab reads.
 */
bool page_ref_try_add_hooked(struct page *p, uint32_t nr);

/* May @nr references be added to count word @c: 1 <= refcount <= PAGE_REF_MAX - @nr? */
static inline bool page_ref_addable(uint64_t c, uint32_t nr)
{
	/* One compare for a constant @nr: a zero refcount wraps to the largest value. */
	return nr <= PAGE_REF_MAX && count_ref(c) - 1 < PAGE_REF_MAX - nr;
}

/* @hooked: sched_hooked(), read once by a hot loop (sched.h). */
static inline bool page_ref_try_add_hk(bool hooked, struct page *p, uint32_t nr)
{
	uint64_t c;

	if (unlikely(hooked))
		return page_ref_try_add_hooked(p, nr);
	c = read_once_hk_u64(false, &p->count);
	if (!page_ref_addable(c, nr))
		return false;
	if (likely(try_cmpxchg_hk_u64(false, &p->count, &c, c + nr)))
		return true;
	/* Contended: the loop lives out of line, keeping the caller's registers. */
	return page_ref_try_add_retry(p, nr, c);
}

static inline bool page_ref_try_add(struct page *p, uint32_t nr)
{
	return page_ref_try_add_hk(sched_hooked(), p, nr);
}

/* page_ref_sub's rare outcomes: the last reference (free), or an underflow (bug). */
void page_ref_sub_last(struct gup_world *w, struct page *p, uint64_t old, uint32_t nr);

/* Drop @nr references; the last one frees the frame.  Inline: unpin does one per page. */
static inline void page_ref_sub(struct gup_world *w, struct page *p, uint32_t nr)
{
	uint64_t old = fetch_add_parts_u64(&p->count, PAGE_COUNT_REF, (uint64_t)0 - nr);

	if (unlikely(count_ref(old) <= nr))
		page_ref_sub_last(w, p, old, nr);
	else
		sched_dec_kept(&p->count, PAGE_COUNT_REF);
}

static inline void put_page(struct gup_world *w, struct page *p)
{
	page_ref_sub(w, p, 1);
}

/* Map: mapcount+1 and refcount+1 in one atomic (page_dup_rmap + get_page). */
static inline void page_add_map_ref(struct page *p)
{
	add_parts_u64(&p->count, PAGE_COUNT_BOTH, PAGE_MAP_REF);
}

/* Unmap under the PT lock: mapcount-1; the mapping's reference is put later (after flush). */
static inline void page_remove_rmap(struct page *p)
{
	add_parts_u64(&p->count, PAGE_COUNT_MAP, (uint64_t)0 - PAGE_MAP_ONE);
}

/* ---- page lock ---- */
/*
 * The page lock is held across I/O (a page-cache read or writeback), so waiters
 * sleep on a wait queue hashed from the page (world->page_wait, as Linux's
 * folio_waitqueue); unlock_page wakes the queue.
 */
static inline bool trylock_page(struct page *p)
{
	return !test_and_set_bit_lock(PG_locked, &p->flags);
}

void lock_page(struct page *p);
/* As lock_page; -EINTR if *@fatal becomes true first (@fatal may be NULL). */
int lock_page_killable(struct page *p, _Atomic bool *fatal);
/* Wait until nobody holds the page lock, without taking it.  0 or -EINTR. */
int wait_on_page_locked_killable(struct page *p, _Atomic bool *fatal);
void unlock_page(struct page *p);

/* ---- the arena ---- */

#define NR_ALLOC_SHARDS	16
/* Frames go to shards in chunks of this many contiguous pfns (the free home). */
#define SHARD_CHUNK	64

struct free_shard {
	spinlock_t lock;
	uint64_t *ents;			/* under lock: stack of pfn << 1 | known-zero */
	size_t nr_free, cap;		/* under lock */
	_Atomic uint64_t nr_hint;	/* copy of nr_free for lockless "empty?" peeks */
} __attribute__((aligned(64)));

struct frame_arena {
	struct page *pages;		/* nr_frames descriptors, constant */
	size_t pages_bytes;		/* their mapping's size, constant */
	uint8_t *data;			/* nr_frames * PAGE_SIZE bytes, constant */
	size_t nr_frames;
	size_t movable_start;		/* pfn where ZONE_MOVABLE begins, constant */
	struct free_shard shards[NR_ZONES][NR_ALLOC_SHARDS];
	/*
	 * Set when zone_alloc_slow found the zone empty with every shard locked;
	 * cleared by the next free into the zone.  Lets allocations fall back to the
	 * next zone at the cost of one load while a zone stays exhausted.
	 */
	_Atomic bool zone_empty[NR_ZONES];
	/*
	 * Free frames taken off their list by a zeroing batch and not yet put back
	 * (changed under a shard lock of the zone, atomically since those differ).
	 * The exhaustion check holds every shard lock, so it sees a consistent value
	 * and waits for such frames instead of failing.
	 */
	atomic_t nr_zeroing[NR_ZONES];
};

/* gfp: which zones an allocation may use. */
#define GFP_KERNEL	0x0	/* ZONE_NORMAL only (unmovable)                  */
#define GFP_MOVABLE	0x1	/* prefer ZONE_MOVABLE, fall back to NORMAL       */
#define GFP_ZERO	0x2	/* zero the frame                                */

/*
 * The host memory of a destroyed arena, kept for the next arena of the same
 * size: a caller that builds and destroys many worlds (the litmus runner, a
 * world per explored execution) saves mapping, faulting in and unmapping it
 * every time.  Its frames read as zeros again (MADV_DONTNEED).  Owned by that
 * caller and used by one thread at a time; empty when zeroed.
 */
struct frame_arena_store {
	uint8_t *data;
	struct page *pages;
	size_t nr_frames, pages_bytes;
};

/* @store: NULL, or where to take the host memory from if it holds this size. */
int frame_arena_init(struct frame_arena *a, size_t nr_frames, size_t nr_movable,
		     bool prepopulate, struct frame_arena_store *store);
/* Point every struct page at its world (public page handles carry no world). */
void frame_arena_set_world(struct frame_arena *a, struct gup_world *w);
/* @store: NULL, or where to keep the host memory if it is empty. */
void frame_arena_destroy(struct frame_arena *a, struct frame_arena_store *store);
/* Unmap what @store keeps. */
void frame_arena_store_release(struct frame_arena_store *store);
/* Free frames of zone @z (sums the shards under their locks). */
size_t frame_arena_nr_free(struct frame_arena *a, enum zone_type z);

/*
 * alloc_page - a free frame with refcount 0 and clean flags, or NULL (out of
 * frames).  The caller sets the count it needs (a fresh page is private to it).
 */
struct page *alloc_page(struct gup_world *w, unsigned gfp);
/* Return a frame whose refcount dropped to 0 (or an unused fresh one). */
void free_frame(struct gup_world *w, struct page *p);

static inline uint64_t page_to_pfn(const struct frame_arena *a, const struct page *p)
{
	return (uint64_t)(p - a->pages);
}

static inline struct page *pfn_to_page(const struct frame_arena *a, uint64_t pfn)
{
	return &a->pages[pfn];
}

static inline uint8_t *page_data(const struct frame_arena *a, const struct page *p)
{
	return a->data + (page_to_pfn(a, p) << PAGE_SHIFT);
}

static inline bool pfn_valid(const struct frame_arena *a, uint64_t pfn)
{
	return pfn < a->nr_frames;
}

#define ZERO_PFN	0	/* frame 0 is the shared zero page */

#endif /* GUP_MM_PAGE_H */
