/* SPDX-License-Identifier: MIT */
/*
 * gup/linux.h - Linux's names over libgup, so that a snippet of driver code
 * compiles nearly unchanged:
 *
 *	struct page **pages = calloc(n, sizeof(*pages));
 *	mmap_read_lock(current->mm);
 *	ret = pin_user_pages(start, n, FOLL_WRITE | FOLL_LONGTERM, pages);
 *	mmap_read_unlock(current->mm);
 *	...
 *	unpin_user_pages_dirty_lock(pages, ret, true);
 *
 * `current` is the task set for this OS thread with gup_set_current().  `struct
 * page` stays an incomplete type: driver code only passes pointers to it, which
 * are libgup's page handles.  Include it only in such code: it defines short
 * macros (current, FOLL_*, get_user_pages...) that would clash elsewhere.
 */
#ifndef GUP_LINUX_H
#define GUP_LINUX_H

#include <gup/foll.h>
#include <gup/gup.h>

struct page;
struct mm_struct;	/* never defined: mm pointers are struct gup_mm */

struct gup_linux_current {
	struct gup_task *task;
	struct gup_mm *mm;
};

static inline struct gup_linux_current *gup_linux_current(void)
{
	static __thread struct gup_linux_current cur;

	cur.task = gup_current();
	cur.mm = cur.task ? gup_task_mm(cur.task) : NULL;
	return &cur;
}

#define current			(gup_linux_current())


#define FAULT_FLAG_WRITE	GUP_FAULT_FLAG_WRITE
#define FAULT_FLAG_REMOTE	GUP_FAULT_FLAG_REMOTE
#define FAULT_FLAG_UNSHARE	GUP_FAULT_FLAG_UNSHARE

#define GUP_LINUX_PAGES(p)	((struct gup_page **)(p))
#define GUP_LINUX_PAGE(p)	((struct gup_page *)(p))

/* The mmap lock of @mm, held by current.  Linux's mmap_read_lock cannot fail. */
static inline void mmap_read_lock(struct gup_mm *mm)
{
	int err = gup_mmap_read_lock(gup_current(), mm);

	(void)err;	/* -EINTR only for a killed task, which Linux would not see here */
}
#define mmap_read_lock_killable(mm)	gup_mmap_read_lock(gup_current(), (mm))
#define mmap_read_unlock(mm)		gup_mmap_read_unlock(gup_current(), (mm))

#define get_user_pages(start, nr, flags, pages) \
	gup_get_user_pages(gup_current(), (start), (nr), (flags), GUP_LINUX_PAGES(pages))
#define get_user_pages_remote(mm, start, nr, flags, pages, locked) \
	gup_get_user_pages_remote(gup_current(), (mm), (start), (nr), (flags), \
				  GUP_LINUX_PAGES(pages), (locked))
#define get_user_pages_unlocked(start, nr, pages, flags) \
	gup_get_user_pages_unlocked(gup_current(), (start), (nr), GUP_LINUX_PAGES(pages), (flags))
#define get_user_pages_fast(start, nr, flags, pages) \
	gup_get_user_pages_fast(gup_current(), (start), (nr), (flags), GUP_LINUX_PAGES(pages))
#define get_user_pages_fast_only(start, nr, flags, pages) \
	gup_get_user_pages_fast_only(gup_current(), (start), (nr), (flags), GUP_LINUX_PAGES(pages))
#define pin_user_pages(start, nr, flags, pages) \
	gup_pin_user_pages(gup_current(), (start), (nr), (flags), GUP_LINUX_PAGES(pages))
#define pin_user_pages_remote(mm, start, nr, flags, pages, locked) \
	gup_pin_user_pages_remote(gup_current(), (mm), (start), (nr), (flags), \
				  GUP_LINUX_PAGES(pages), (locked))
#define pin_user_pages_unlocked(start, nr, pages, flags) \
	gup_pin_user_pages_unlocked(gup_current(), (start), (nr), GUP_LINUX_PAGES(pages), (flags))
#define pin_user_pages_fast(start, nr, flags, pages) \
	gup_pin_user_pages_fast(gup_current(), (start), (nr), (flags), GUP_LINUX_PAGES(pages))

#define put_page(page)			gup_put_page(GUP_LINUX_PAGE(page))
#define unpin_user_page(page)		gup_unpin_user_page(GUP_LINUX_PAGE(page))
#define unpin_user_pages(pages, n)	gup_unpin_user_pages(GUP_LINUX_PAGES(pages), (n))
#define unpin_user_pages_dirty_lock(pages, n, dirty) \
	gup_unpin_user_pages_dirty_lock(GUP_LINUX_PAGES(pages), (n), (dirty))
#define unpin_user_page_range_dirty_lock(page, n, dirty) \
	gup_unpin_user_page_range_dirty_lock(GUP_LINUX_PAGE(page), (n), (dirty))
#define fixup_user_fault(mm, addr, flags, unlocked) \
	gup_fixup_user_fault(gup_current(), (mm), (addr), (flags), (unlocked))

#define page_maybe_dma_pinned(page)	gup_page_maybe_dma_pinned(GUP_LINUX_PAGE(page))
#define page_to_pfn(page)		gup_page_pfn(GUP_LINUX_PAGE(page))

#endif /* GUP_LINUX_H */
