/* SPDX-License-Identifier: MIT */
/*
 * src/gup/fast.c - gup-fast: the lockless walk (linux_anchor 1.13) and its fallback.
 *
 * No mmap lock, no VMA, no fault.  The walk runs in an irq-off section of the
 * calling task: page tables are freed only after a shootdown, and a shootdown
 * waits for every irq-off section of the mm's tasks (tlb.c), so every table the
 * walk reaches stays allocated until the section ends.  Each page is grabbed
 * with a try-add that fails on a zero refcount (a frame being freed), then the
 * PTE is read again: if it changed, the grab is undone and the walk stops
 * (grab-then-recheck; the policy's fast_recheck).  The refcount RMW is a full
 * barrier; it orders the grab before the re-read, pairing with the PTE clear +
 * flush of zap and migration.  Without the re-read the walk is still safe - the
 * flush of a zap or a migration waits for its irq-off section, so a page it
 * grabbed stays allocated and counted - only no longer sure to be mapped.
 *
 * Against fork, the policy's fast_guard (policy.h has each design's): linux-6.x
 * (wp_seq): fork write-protects under mm->write_protect_seq; a pin that starts
 * during it, or overlaps it, is undone (pins must not land on pages fork is
 * making COW-shared: linux_anchor 1.12).  andrea-v2 (pg_gup): PG_gup, smp_mb and
 * the recheck against fork's write-protect, smp_mb and PG_gup test.  nick-v3
 * (dontcow): only pages fork will never share.  kosaki-v2 (writable): only
 * writable PTEs.  gvisor (slow): no lockless walk at all.
 *
 * Whatever the walk did not get goes to the slow path with FOLL_UNLOCKABLE,
 * unless FOLL_FAST_ONLY.
 */
#include "gup/internal.h"

/* The flags gup-fast looks at, in one read per page (gup_fast_pte). */
#define GUP_FAST_PFLAGS	(PG_BIT(PG_hwpoison) | PG_BIT(PG_anon) | PG_BIT(PG_shmem) |	\
			 PG_BIT(PG_zero) | PG_BIT(PG_referenced) | PG_BIT(PG_gup) |	\
			 PG_BIT(PG_dontcow))

/*
 * Page refused by gup-fast (the slow path decides): file-backed, non-shmem pages
 * for FOLL_PIN, FOLL_LONGTERM or FOLL_WRITE (gup_fast_folio_allowed): without the
 * VMA, gup-fast cannot tell whether the filesystem tracks their dirtiness.
 */

static bool gup_fast_page_allowed(uint64_t pflags, unsigned flags)
{
	if (!(flags & (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE)))
		return true;
	return pflags & (PG_BIT(PG_anon) | PG_BIT(PG_shmem) | PG_BIT(PG_zero));
}

/* Drop what gup_fast_pte took, before it was counted (a failed recheck, a fork). */
static void ungrab(struct gup_world *w, struct page *page, unsigned flags)
{
	if (!(flags & FOLL_PIN) && w->debug)
		atomic_sub(1, &page->gup_gets);
	page_ref_sub(w, page, (flags & FOLL_PIN) ? GUP_PIN_COUNTING_BIAS : 1);
}

/*
 * Before the grab: what the policy's guard refuses from the PTE and the page's
 * flags alone, leaving it to the slow path.  PG_dontcow is never cleared while
 * the page lives, so a stale read only sends a page to the slow path.
 */
static bool gup_fast_guard_refuses(const struct gup_policy *pol, uint64_t pte, uint64_t pflags)
{
	switch (pol->fast_guard) {
	case FAST_GUARD_DONTCOW:
		/* Nick v3 (L5845-5846, L3304-3305): an anon page fork might still share. */
		return (pflags & PG_BIT(PG_anon)) && !(pflags & PG_BIT(PG_dontcow));
	case FAST_GUARD_WRITABLE:
		/* KOSAKI v2 (L8647-8679): "Maybe the read only pte is cow mapped page". */
		return !pte_write(pte);
	default:
		return false;
	}
}

/* Andrea v2's guard covers anon pages: fork tests PG_gup only on those (L4808-4809). */
static bool gup_fast_pg_gup(const struct gup_policy *pol, uint64_t pflags)
{
	return pol->fast_guard == FAST_GUARD_PG_GUP && (pflags & PG_BIT(PG_anon));
}

/*
 * After the grab, before anything the PTE said is trusted: Andrea's PG_gup
 * (set once, L4334-4335), the guard's barrier (fast_barrier, L4336) and the
 * re-read of the PTE (fast_recheck, L4346-4351) - which under his guard must
 * also find the anon page still writable, de-COWing reads in the slow path.
 * This is a store-buffer pair with fork's write-protect, smp_mb and PG_gup
 * test: one side sees the other.  Without the re-read the walk keeps a page
 * whose PTE fork write-protected meanwhile: Linus's R3 (L376-402).  Without the
 * barrier only the grab's own RMW orders the grab before the re-read.
 */
static bool gup_fast_recheck(const struct gup_policy *pol, struct page *page, pte_t *ptep,
			     uint64_t pte, uint64_t pflags)
{
	bool pg_gup = gup_fast_pg_gup(pol, pflags);
	uint64_t now;

	if (pg_gup && !(pflags & PG_BIT(PG_gup)))
		SetPageGUP(page);
	if (pol->fast_barrier)
		smp_mb();
	if (!pol->fast_recheck)
		return true;
	now = ptep_get(ptep);
	return now == pte && (!pg_gup || pte_write(now));
}

/*
 * Does the policy ask more of each PTE than the engine's own tests and re-read
 * (linux-6.x, linux-2.6.29)?  Looked up once per walk: the common walk keeps
 * its per-page path free of policy loads.
 */
static bool gup_fast_guarded(const struct gup_policy *pol)
{
	return (pol->fast_guard != FAST_GUARD_NONE && pol->fast_guard != FAST_GUARD_WP_SEQ) ||
	       pol->fast_barrier || !pol->fast_recheck;
}

/*
 * May gup-fast take the page a PTE maps, from the PTE alone?  Present to the
 * CPU (not PROT_NONE), writable if FOLL_WRITE, and not special (the zero page
 * has no struct page to count).  One mask and compare: the walk tests it per
 * page.
 */
static inline bool gup_fast_pte_ok(uint64_t pte, unsigned flags)
{
	uint64_t want = PTE_PRESENT | ((flags & FOLL_WRITE) ? PTE_WRITE : 0);

	return (pte & (want | PTE_PROTNONE | PTE_SPECIAL)) == want;
}

/*
 * One PTE: grab its page (not yet counted) into *@pagep, or return false to
 * stop the walk here.  @map: the arena's descriptors, w->arena.pages, loaded
 * once per walk.  @guarded: gup_fast_guarded(w->policy).  @hooked:
 * sched_hooked(), for the points of the common path (the rare ones test the
 * hook themselves).
 */
static inline __attribute__((always_inline)) bool
gup_fast_pte(struct gup_world *w, struct page *map, pte_t *ptep, unsigned flags, bool guarded,
	     bool hooked, struct page **pagep)
{
	/* Acquire: pairs with set_pte's release, so whatever initialised the frame
	 * (zeroing, a COW or migration copy) is seen by the device through the
	 * page we return. */
	uint64_t pte = load_acquire_hk_u64(hooked, ptep);
	uint64_t pflags;
	struct page *page;

	if (!gup_fast_pte_ok(pte, flags))
		return false;
	page = &map[pte_pfn(pte)];
	/* The grab below writes this line: fetch it for ownership now, rather
	 * than shared for the flag tests and upgraded at the cmpxchg. */
	prefetchw(page);
	/*
	 * One read of the flags serves every test below: the bits tested do not
	 * change while the page stays mapped by the PTE we re-check after the grab
	 * (PG_referenced is only a hint; PG_gup and PG_dontcow are only ever set
	 * while the page lives, so a stale read costs a redundant set or a trip
	 * to the slow path).
	 */
	pflags = read_bits_hk_u64(hooked, &page->flags, GUP_FAST_PFLAGS);
	if (pflags & PG_BIT(PG_hwpoison))
		return false;
	if ((flags & FOLL_LONGTERM) && !page_is_longterm_pinnable(page))
		return false;		/* the slow path migrates it */
	if (unlikely(guarded) && gup_fast_guard_refuses(w->policy, pte, pflags))
		return false;
	if (!page_ref_try_add_hk(hooked, page, (flags & FOLL_PIN) ? GUP_PIN_COUNTING_BIAS : 1))
		return false;		/* being freed, or would overflow */
	if (!(flags & FOLL_PIN) && w->debug)
		atomic_add(1, &page->gup_gets);
	/* Grab-then-recheck: the PTE we decided on must still be there. */
	if ((unlikely(guarded) ? !gup_fast_recheck(w->policy, page, ptep, pte, pflags) :
				 ptep_get_hk(hooked, ptep) != pte) ||
	    !gup_fast_page_allowed(pflags, flags) ||
	    /* FOLL_WRITE found the PTE writable */
	    (!(flags & FOLL_WRITE) && !pte_write(pte) && gup_must_unshare(w, NULL, flags, page))) {
		ungrab(w, page, flags);
		return false;
	}
	if (!(pflags & PG_BIT(PG_referenced)))
		SetPageReferenced(page);
	*pagep = page;
	return true;
}

/*
 * Fetch the struct page lines of the PTEs [@from, @from + GUP_PREFETCH_AHEAD)
 * of the table @ent, for writing; the walk calls this at the start of the
 * chunk before, so a line is asked for 16 to 31 PTEs before its grab.  The
 * grab's locked RMW waits for its line, and where frames were recycled in
 * scattered order a pass pays one miss per page in turn otherwise (256 MiB
 * populated in random order: 34 -> 16 ns/page warm, 58 -> 32 cold).  Not where
 * the chunk's frames continue in order from the last frame of the chunk the
 * walk is on (a hint from its ends, peeks, no scheduling point): the hardware's
 * stream prefetcher is ahead of the walk there, and the fetch would cost a
 * fifth of its instructions for nothing (58 -> 45 a page; the allocator hands
 * out runs of 64 frames, so three chunks in four).
 */
static void gup_fast_prefetch(struct page *map, pte_t *ent, unsigned from)
{
	unsigned to = from + GUP_PREFETCH_AHEAD;
	uint64_t cur, end;

	if (to > PTRS_PER_TABLE)
		to = PTRS_PER_TABLE;
	if (from >= to)
		return;
	cur = peek_u64(&ent[from - 1]);
	end = peek_u64(&ent[to - 1]);
	if (pte_present(cur) && pte_present(end) && pte_pfn(end) - pte_pfn(cur) == to - from)
		return;
	for (unsigned i = from; i < to; i++)
		prefetch_pte_page(map, &ent[i]);
}

/*
 * The lockless walk of [start, end): the pages grabbed from @start on, in
 * @pages.  The upper levels are walked once per PTE table (2 MiB), and the PTEs
 * of a table in an inner loop, as Linux walks a PMD's PTEs in one go.
 *
 * The struct page lines are fetched ahead, a chunk at a time
 * (gup_fast_prefetch).
 *
 * Inline, so that gup_fast() can instantiate it for constant @flags, @guarded
 * and @hooked: what they decide leaves the per-page path.
 */
static inline __attribute__((always_inline)) unsigned long
gup_fast_walk(struct gup_world *w, struct gup_mm *mm, uint64_t start, uint64_t end,
	      unsigned flags, bool guarded, bool hooked, struct page **pages)
{
	struct page *map = w->arena.pages;
	unsigned long nr = 0;

	for (uint64_t addr = start, next; addr < end; addr = next) {
		unsigned idx = pte_index(addr), last;
		struct pgtable *pt;

		next = (addr & ~(PMD_SIZE - 1)) + PMD_SIZE;	/* end <= GUP_TASK_SIZE */
		if (next > end)
			next = end;
		last = idx + (unsigned)((next - addr) >> PAGE_SHIFT);
		if (!pte_offset_map(mm, addr, &pt))
			break;
		for (; idx < last; idx++, nr++) {
			if (!(idx % GUP_PREFETCH_AHEAD))
				gup_fast_prefetch(map, pt->ent, idx + GUP_PREFETCH_AHEAD);
			if (!gup_fast_pte(w, map, &pt->ent[idx], flags, guarded, hooked,
					  &pages[nr]))
				return nr;
		}
	}
	return nr;
}

/*
 * The FOLL flags the walk tests.  The common call - a writable pin, on a
 * policy whose guard is the engine's own tests, in free mode - gets an
 * instance of its own: with the table loop and the single PTE test, 117 -> 68
 * instructions per page (callgrind), 18 -> 12 ns/page in bench/gup_ops; with
 * no hook to test, 58 (docs/performance.md, "GUP").
 */
#define GUP_FAST_WALK_FLAGS	(FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM)

/*
 * gup-fast proper: the walk in an irq-off section, inside the policy's guard
 * against fork.  Counters are added once per call.
 */
static unsigned long gup_fast(struct gup_task *t, uint64_t start, uint64_t end,
			      unsigned flags, struct page **pages)
{
	struct gup_mm *mm = t->mm;
	struct gup_world *w = mm->w;
	unsigned long nr;
	uint32_t seq = 0;
	bool wp_seq = (flags & FOLL_PIN) && w->policy->fast_guard == FAST_GUARD_WP_SEQ;
	bool guarded = gup_fast_guarded(w->policy);
	bool hooked = sched_hooked();

	if (wp_seq && !raw_seqcount_try_begin(&mm->write_protect_seq, &seq))
		return 0;	/* fork is write-protecting right now */
	local_irq_disable(&t->irq);
	if (!hooked && !guarded && (flags & GUP_FAST_WALK_FLAGS) == (FOLL_PIN | FOLL_WRITE))
		nr = gup_fast_walk(w, mm, start, end, FOLL_PIN | FOLL_WRITE, false, false, pages);
	else
		nr = gup_fast_walk(w, mm, start, end, flags, guarded, hooked, pages);
	local_irq_enable(&t->irq);
	if (wp_seq && nr && read_seqcount_retry(&mm->write_protect_seq, seq)) {
		/* A fork overlapped: these pages may now be COW-shared; undo it all. */
		for (unsigned long i = 0; i < nr; i++)
			ungrab(w, pages[i], flags);
		return 0;
	}
	if (nr) {
		count_task_events(w, t, (flags & FOLL_PIN) ? GUP_STAT_PIN_ACQUIRED :
				  GUP_STAT_GET_ACQUIRED, nr);
		count_task_events(w, t, GUP_STAT_GUP_FAST_PAGES, nr);
	}
	return nr;
}

/*
 * May the lockless walk run at all?  Not where the policy has none: the weak
 * generic version (L8890-8906), gVisor's Pin.  Not for a long-term pin where
 * such pins wire the VMA (FreeBSD), which only the slow path can see.
 */
static bool gup_fast_permitted(const struct gup_policy *pol, unsigned flags)
{
	if (pol->fast_guard == FAST_GUARD_SLOW)
		return false;
	return !(flags & FOLL_LONGTERM) || pol->fork_copy != FORK_COPY_WIRED;
}

long gup_fast_fallback(struct gup_call *c, uint64_t start, unsigned long nr_pages,
		       unsigned flags, struct page **pages)
{
	struct gup_task *t = c->task;
	unsigned long nr_pinned;
	uint64_t len, end;
	int locked = 0;
	long ret;

	if (flags & FOLL_PIN) {
		if (!test_bit(MMF_HAS_PINNED, &t->mm->flags))
			set_bit(MMF_HAS_PINNED, &t->mm->flags);
	}
	start &= PAGE_MASK;
	len = (uint64_t)nr_pages << PAGE_SHIFT;
	if ((len >> PAGE_SHIFT) != nr_pages || start + len < start)
		return -EOVERFLOW;
	end = start + len;
	if (end > GUP_TASK_SIZE)
		return -EFAULT;
	if (!nr_pages)
		return 0;
	nr_pinned = gup_fast_permitted(t->w->policy, flags) ? gup_fast(t, start, end, flags, pages)
							    : 0;
	if (nr_pinned == nr_pages || (flags & FOLL_FAST_ONLY))
		return (long)nr_pinned;

	/* The rest through the slow path, which may drop and retake the lock. */
	count_task_event(t->w, t, GUP_STAT_GUP_FAST_FALLBACK);
	start += (uint64_t)nr_pinned << PAGE_SHIFT;
	ret = __gup_longterm_locked(c, start, nr_pages - nr_pinned, pages + nr_pinned, &locked,
				    flags | FOLL_TOUCH | FOLL_UNLOCKABLE | FOLL_PINNING);
	if (ret < 0)
		/* "returning -errno is not an option" once pages are pinned */
		return nr_pinned ? (long)nr_pinned : ret;
	return ret + (long)nr_pinned;
}
