/* SPDX-License-Identifier: MIT */
/*
 * src/gup/pin.c - pin accounting: grabbing, putting, unpinning (linux_anchor 1.2, 1.6).
 *
 * FOLL_GET adds one reference; FOLL_PIN adds GUP_PIN_COUNTING_BIAS (1024) to the
 * refcount of a small page, so page_maybe_dma_pinned (refcount >= 1024) may give
 * false positives but never false negatives.  The zero page is never pinned: a
 * pin of it takes and counts nothing, and its unpin does nothing.  Every pin and
 * FOLL_GET reference is counted (nr_foll_pin_acquired/released, and the same for
 * gets), and the pairs must balance at teardown (world.c).
 */
#include "gup/internal.h"
#include "mm/filemap.h"

int try_grab_page(struct gup_world *w, struct gup_task *t, struct page *page,
		  unsigned flags)
{
	if (flags & FOLL_GET) {
		if (!page_ref_try_add(page, 1))
			return -ENOMEM;
		if (w->debug)
			atomic_add(1, &page->gup_gets);
		count_task_events(w, t, GUP_STAT_GET_ACQUIRED, 1);
	} else if (flags & FOLL_PIN) {
		if (PageZero(page))
			return 0;	/* never pinned (linux_anchor 1.6) */
		if (!page_ref_try_add(page, GUP_PIN_COUNTING_BIAS))
			return -ENOMEM;
		count_task_events(w, t, GUP_STAT_PIN_ACQUIRED, 1);
	}
	return 0;
}

void gup_put_ref(struct gup_world *w, struct gup_task *t, struct page *page, unsigned flags)
{
	if (flags & FOLL_GET) {
		if (w->debug)
			atomic_sub(1, &page->gup_gets);
		count_task_events(w, t, GUP_STAT_GET_RELEASED, 1);
		put_page(w, page);
	} else if (flags & FOLL_PIN) {
		if (PageZero(page))
			return;
		count_task_events(w, t, GUP_STAT_PIN_RELEASED, 1);
		page_ref_sub(w, page, GUP_PIN_COUNTING_BIAS);
	}
}

/* ---- public release functions ---- */

/* An unpin of a page that cannot hold a pin is reported and ignored. */
static __attribute__((noinline, cold)) bool unpin_bad(struct page *page, const void *site)
{
	gup_misuse(page->w, site, "unpin of pfn %llu, which holds no pin "
		   "(refcount %u; a FOLL_GET page is released with put)",
		   (unsigned long long)page_to_pfn(&page->w->arena, page), page_ref_count(page));
	return false;
}

/* Inline: the check is one load and compare a page; the report is out of line. */
static inline bool unpin_ok(struct page *page, const void *site)
{
	if (likely(page_ref_count(page) >= GUP_PIN_COUNTING_BIAS))
		return true;
	return unpin_bad(page, site);
}

/*
 * Pins released by one call are counted once per world at the end (a world
 * counter is a shared atomic; Linux's vm events are per cpu).
 */
struct unpin_batch {
	struct gup_world *w;
	uint64_t nr;
};

static void unpin_batch_flush(struct unpin_batch *b)
{
	if (b->nr)
		count_vm_events(b->w, GUP_STAT_PIN_RELEASED, b->nr);
	b->nr = 0;
}

static inline __attribute__((always_inline)) void
unpin_one(struct unpin_batch *b, struct page *page, bool make_dirty, const void *site)
{
	uint64_t pflags;

	prefetchw(page);	/* written below: one ownership miss, not two */
	/* PG_zero and PG_dax never change while the page is pinned: one read. */
	pflags = read_bits_u64(&page->flags, PG_BIT(PG_zero) | PG_BIT(PG_dax));
	if ((pflags & PG_BIT(PG_zero)) || !unpin_ok(page, site))
		return;		/* the zero page is never pinned */
	if (make_dirty && !PageDirty(page)) {
		/* set_page_dirty_lock: the page lock orders us against writeback. */
		lock_page(page);
		SetPageDirty(page);
		unlock_page(page);
	}
	if (b->w != page->w) {
		unpin_batch_flush(b);
		b->w = page->w;
	}
	b->nr++;
	page_ref_sub(page->w, page, GUP_PIN_COUNTING_BIAS);
	if (unlikely(pflags & PG_BIT(PG_dax)))
		dax_page_released(page);	/* truncate may wait for this */
}

GUP_API void gup_unpin_user_page(struct gup_page *page)
{
	struct unpin_batch b = { NULL, 0 };

	if (!page)
		return;
	unpin_one(&b, gup_page_to_page(page), false, __builtin_return_address(0));
	unpin_batch_flush(&b);
}

/* Each public entry takes its own caller's address: a call between them may not
 * be a tail call (sanitizer builds), and the report must name the user. */
static void unpin_pages(struct gup_page **pages, unsigned long npages, bool make_dirty,
			const void *site)
{
	struct unpin_batch b = { NULL, 0 };

	if (!pages)
		return;
	/* A caller that passes an errno as the count gets a warning, not a crash. */
	if ((long)npages < 0) {
		if (npages && pages[0])
			gup_misuse(gup_page_to_page(pages[0])->w, site,
				   "unpin of %ld pages (an errno passed as a count?)", (long)npages);
		return;
	}
	for (unsigned long i = 0; i < npages; i++) {
		/* Start the miss on a later page's line now (see gup_fast). */
		if (i + GUP_PREFETCH_AHEAD < npages && pages[i + GUP_PREFETCH_AHEAD])
			prefetchw(gup_page_to_page(pages[i + GUP_PREFETCH_AHEAD]));
		if (pages[i])
			unpin_one(&b, gup_page_to_page(pages[i]), make_dirty, site);
	}
	unpin_batch_flush(&b);
}

GUP_API void gup_unpin_user_pages_dirty_lock(struct gup_page **pages, unsigned long npages,
					     bool make_dirty)
{
	unpin_pages(pages, npages, make_dirty, __builtin_return_address(0));
}

GUP_API void gup_unpin_user_pages(struct gup_page **pages, unsigned long npages)
{
	unpin_pages(pages, npages, false, __builtin_return_address(0));
}

GUP_API void gup_unpin_user_page_range_dirty_lock(struct gup_page *page, unsigned long npages,
						  bool make_dirty)
{
	const void *site = __builtin_return_address(0);
	struct page *p = page ? gup_page_to_page(page) : NULL;
	struct unpin_batch b = { NULL, 0 };
	struct frame_arena *a;

	if (!p)
		return;
	a = &p->w->arena;
	if ((long)npages < 0 || page_to_pfn(a, p) + npages > a->nr_frames) {
		gup_misuse(p->w, site, "unpin of a range past the end of the arena");
		return;
	}
	for (unsigned long i = 0; i < npages; i++)
		unpin_one(&b, p + i, make_dirty, site);
	unpin_batch_flush(&b);
}

GUP_API void gup_put_page(struct gup_page *page)
{
	struct page *p = page ? gup_page_to_page(page) : NULL;
	const void *site = __builtin_return_address(0);
	bool dax;

	if (!p)
		return;
	if (p->w->debug && atomic_read(&p->gup_gets) <= 0) {
		gup_misuse(p->w, site, "put of pfn %llu, which holds no FOLL_GET reference%s",
			   (unsigned long long)page_to_pfn(&p->w->arena, p),
			   page_maybe_dma_pinned(p) ? " (it is pinned: release it with unpin)" : "");
		return;
	}
	/*
	 * PG_dax never changes while we hold the reference, and after the put
	 * the page may be another's: ask first (as unpin_one does), so that the
	 * question does not race with the free of the page.
	 */
	dax = PageDax(p);
	gup_put_ref(p->w, NULL, p, FOLL_GET);
	if (unlikely(dax))
		dax_page_released(p);
}
