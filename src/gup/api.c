/* SPDX-License-Identifier: MIT */
/*
 * src/gup/api.c - the public GUP entry points: thin validating wrappers.
 *
 * Each checks its arguments the way Linux's is_valid_gup_args does (linux_anchor
 * 1.5), adds the flags the variant implies, checks the mmap lock contract, and
 * calls one engine.  Rejections return what Linux returns: -EINVAL from get_* and
 * the fast variants, 0 from pin_user_pages, _remote and _unlocked.
 *
 * The lock contract is checked always (holding is recorded per task, lock.c): a
 * locked variant called without the lock, or an unlocked one with it, would walk
 * VMAs unprotected or self-deadlock, so it is refused - and reported as misuse in
 * debug mode, with the caller's site.
 */
#include "gup/internal.h"

#define SITE __builtin_return_address(0)

/*
 * is_valid_gup_args - reject what Linux WARNs about, and add @to_set.  @locked is
 * the caller's pointer (NULL for variants without one).
 */
static bool is_valid_gup_args(struct gup_world *w, const void *site, struct gup_page **pages,
			      int *locked, unsigned *gup_flags, unsigned to_set)
{
	unsigned flags = *gup_flags;

	if (flags & INTERNAL_GUP_FLAGS) {
		gup_misuse(w, site, "internal FOLL flag(s) %#x passed by a caller",
			   flags & INTERNAL_GUP_FLAGS);
		return false;
	}
	if (flags & ~(GUP_FOLL_EXTERNAL | INTERNAL_GUP_FLAGS)) {
		gup_misuse(w, site, "unknown FOLL flag bit(s) %#x",
			   flags & ~(GUP_FOLL_EXTERNAL | INTERNAL_GUP_FLAGS));
		return false;
	}
	flags |= to_set;
	if (locked) {
		if (*locked != 1)
			return false;	/* "At the external interface locked must be set" */
		flags |= FOLL_UNLOCKABLE;
	}
	if ((flags & (FOLL_PIN | FOLL_GET)) == (FOLL_PIN | FOLL_GET))
		return false;
	if ((flags & FOLL_LONGTERM) && !(flags & FOLL_PIN))
		return false;
	if ((flags & (FOLL_GET | FOLL_PIN)) && !pages)
		return false;
	if ((flags & FOLL_LONGTERM) && (flags & FOLL_PCI_P2PDMA))
		return false;
	*gup_flags = flags;
	return true;
}

/* The variants that need @mm's lock held by the caller. */
static bool lock_held_ok(struct gup_task *t, struct gup_mm *mm, const void *site,
			 const char *fn)
{
	if (task_holds_mmap_lock(t, mm))
		return true;
	gup_misuse(t->w, site, "%s called without the mmap lock of mm %u", fn, mm->id);
	return false;
}

/* The variants that take the lock themselves: holding it would self-deadlock. */
static bool lock_free_ok(struct gup_task *t, const void *site, const char *fn)
{
	if (!task_holds_mmap_lock(t, t->mm))
		return true;
	gup_misuse(t->w, site, "%s called holding the mmap lock (it takes the lock itself)", fn);
	return false;
}

static bool task_ok(struct gup_task *t, struct gup_mm *mm)
{
	return t && mm && t->w == mm->w;
}

/* What tells the slow-path variants apart. */
struct gup_variant {
	const char *name;
	unsigned to_set;	/* flags the variant implies                     */
	long reject;		/* return value for rejected arguments           */
	bool lock_held;		/* the caller holds the lock (else GUP takes it) */
};

static long gup_variant_call(const struct gup_variant *v, struct gup_task *t,
			     struct gup_mm *mm, uint64_t start, unsigned long nr_pages,
			     unsigned gup_flags, struct gup_page **pages, int *locked,
			     const void *site)
{
	struct gup_call c = { .task = t, .mm = mm, .site = site };
	int local_locked = v->lock_held ? 1 : 0;

	if (!task_ok(t, mm) ||
	    !is_valid_gup_args(t->w, site, pages, locked, &gup_flags, v->to_set))
		return v->reject;
	if (v->lock_held ? !lock_held_ok(t, mm, site, v->name) : !lock_free_ok(t, site, v->name))
		return v->reject;
	/* pin_* go through the long-term engine; get_* reject FOLL_LONGTERM above. */
	return __gup_longterm_locked(&c, start & PAGE_MASK, nr_pages, (struct page **)pages,
				     locked ? locked : &local_locked, gup_flags);
}

static const struct gup_variant
	v_get = { "get_user_pages", FOLL_TOUCH, -EINVAL, true },
	v_pin = { "pin_user_pages", FOLL_PIN, 0, true },
	v_get_remote = { "get_user_pages_remote", FOLL_TOUCH | FOLL_REMOTE, -EINVAL, true },
	v_pin_remote = { "pin_user_pages_remote", FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE, 0, true },
	v_get_unlocked = { "get_user_pages_unlocked", FOLL_TOUCH | FOLL_UNLOCKABLE, -EINVAL,
			   false },
	v_pin_unlocked = { "pin_user_pages_unlocked", FOLL_PIN | FOLL_TOUCH | FOLL_UNLOCKABLE, 0,
			   false };

/* ---- locked: the caller holds the lock, never dropped ---- */

GUP_API long gup_get_user_pages(struct gup_task *t, uint64_t start, unsigned long nr_pages,
				unsigned gup_flags, struct gup_page **pages)
{
	return gup_variant_call(&v_get, t, t ? t->mm : NULL, start, nr_pages, gup_flags, pages,
				NULL, SITE);
}

GUP_API long gup_pin_user_pages(struct gup_task *t, uint64_t start, unsigned long nr_pages,
				unsigned gup_flags, struct gup_page **pages)
{
	return gup_variant_call(&v_pin, t, t ? t->mm : NULL, start, nr_pages, gup_flags, pages,
				NULL, SITE);
}

/* ---- remote: another mm, the caller holds its lock; droppable with @locked ---- */

GUP_API long gup_get_user_pages_remote(struct gup_task *t, struct gup_mm *mm, uint64_t start,
				       unsigned long nr_pages, unsigned gup_flags,
				       struct gup_page **pages, int *locked)
{
	return gup_variant_call(&v_get_remote, t, mm, start, nr_pages, gup_flags, pages, locked,
				SITE);
}

GUP_API long gup_pin_user_pages_remote(struct gup_task *t, struct gup_mm *mm, uint64_t start,
				       unsigned long nr_pages, unsigned gup_flags,
				       struct gup_page **pages, int *locked)
{
	return gup_variant_call(&v_pin_remote, t, mm, start, nr_pages, gup_flags, pages, locked,
				SITE);
}

/* ---- unlocked: GUP takes and releases the lock ---- */

GUP_API long gup_get_user_pages_unlocked(struct gup_task *t, uint64_t start,
					 unsigned long nr_pages, struct gup_page **pages,
					 unsigned gup_flags)
{
	return gup_variant_call(&v_get_unlocked, t, t ? t->mm : NULL, start, nr_pages,
				gup_flags, pages, NULL, SITE);
}

GUP_API long gup_pin_user_pages_unlocked(struct gup_task *t, uint64_t start,
					 unsigned long nr_pages, struct gup_page **pages,
					 unsigned gup_flags)
{
	return gup_variant_call(&v_pin_unlocked, t, t ? t->mm : NULL, start, nr_pages,
				gup_flags, pages, NULL, SITE);
}

/* ---- fast ---- */

static int fast_common(struct gup_task *t, uint64_t start, int nr_pages, unsigned gup_flags,
		       struct gup_page **pages, unsigned to_set, const void *site,
		       const char *fn)
{
	struct gup_call c = { .task = t, .mm = t ? t->mm : NULL, .site = site };
	long ret;

	if (!task_ok(t, c.mm) ||
	    !is_valid_gup_args(t->w, site, pages, NULL, &gup_flags, to_set))
		return -EINVAL;
	if (gup_flags & ~FOLL_FAST_ALLOWED) {
		gup_misuse(t->w, site, "%s: flag(s) %#x are not allowed on gup-fast", fn,
			   gup_flags & ~FOLL_FAST_ALLOWED);
		return -EINVAL;
	}
	if (!(gup_flags & FOLL_FAST_ONLY) && !lock_free_ok(t, site, fn))
		return -EINVAL;		/* might_lock_read: the fallback takes it */
	ret = gup_fast_fallback(&c, start, (unsigned long)(long)nr_pages, gup_flags,
				(struct page **)pages);
	return (int)ret;
}

GUP_API int gup_get_user_pages_fast(struct gup_task *t, uint64_t start, int nr_pages,
				    unsigned gup_flags, struct gup_page **pages)
{
	return fast_common(t, start, nr_pages, gup_flags, pages, FOLL_GET, SITE,
			   "get_user_pages_fast");
}

GUP_API int gup_get_user_pages_fast_only(struct gup_task *t, uint64_t start, int nr_pages,
					 unsigned gup_flags, struct gup_page **pages)
{
	return fast_common(t, start, nr_pages, gup_flags, pages, FOLL_GET | FOLL_FAST_ONLY, SITE,
			   "get_user_pages_fast_only");
}

GUP_API int gup_pin_user_pages_fast(struct gup_task *t, uint64_t start, int nr_pages,
				    unsigned gup_flags, struct gup_page **pages)
{
	return fast_common(t, start, nr_pages, gup_flags, pages, FOLL_PIN, SITE,
			   "pin_user_pages_fast");
}

/* ---- fixup_user_fault ---- */

#define FIXUP_FAULT_FLAGS	(GUP_FAULT_FLAG_WRITE | GUP_FAULT_FLAG_REMOTE | \
				 GUP_FAULT_FLAG_UNSHARE)

GUP_API int gup_fixup_user_fault(struct gup_task *t, struct gup_mm *mm, uint64_t address,
				 unsigned fault_flags, bool *unlocked)
{
	struct gup_call c = { .task = t, .mm = mm, .site = SITE };

	if (!task_ok(t, mm) || (fault_flags & ~FIXUP_FAULT_FLAGS) ||
	    ((fault_flags & GUP_FAULT_FLAG_WRITE) && (fault_flags & GUP_FAULT_FLAG_UNSHARE)))
		return -EINVAL;
	if (!lock_held_ok(t, mm, c.site, "fixup_user_fault"))
		return -EINVAL;
	if (address >= GUP_TASK_SIZE)
		return -EFAULT;
	return fixup_user_fault_engine(&c, address & PAGE_MASK, fault_flags, unlocked);
}

/* ---- pages as a device sees them ---- */

static const struct page *cpage(const struct gup_page *p)
{
	return (const struct page *)p;
}

GUP_API uint64_t gup_page_pfn(const struct gup_page *page)
{
	return page ? page_to_pfn(&cpage(page)->w->arena, cpage(page)) : 0;
}

static int page_range_ok(struct gup_page *page, size_t off, const void *buf, size_t len)
{
	if (!page || (!buf && len) || off > PAGE_SIZE || len > PAGE_SIZE - off)
		return -EINVAL;
	return 0;
}

GUP_API int gup_page_read(struct gup_page *page, size_t off, void *buf, size_t len)
{
	struct page *p = gup_page_to_page(page);
	int err = page_range_ok(page, off, buf, len);

	if (err)
		return err;
	mem_copy_from_shared(buf, page_data(&p->w->arena, p) + off, len, page_data(&p->w->arena, p));
	return 0;
}

GUP_API int gup_page_write(struct gup_page *page, size_t off, const void *buf, size_t len)
{
	struct page *p = gup_page_to_page(page);
	int err = page_range_ok(page, off, buf, len);

	if (err)
		return err;
	if (PageZero(p))
		return -EPERM;		/* the shared zero page is never written */
	mem_copy_to_shared(page_data(&p->w->arena, p) + off, buf, len, page_data(&p->w->arena, p));
	return 0;
}

GUP_API unsigned gup_page_ref_count(const struct gup_page *page)
{
	return page ? page_ref_count((struct page *)page) : 0;
}

GUP_API unsigned gup_page_mapcount(const struct gup_page *page)
{
	return page ? page_mapcount((struct page *)page) : 0;
}

GUP_API bool gup_page_maybe_dma_pinned(const struct gup_page *page)
{
	return page && page_maybe_dma_pinned((struct page *)page);
}

GUP_API bool gup_page_anon_exclusive(const struct gup_page *page)
{
	return page && PageAnonExclusive((struct page *)page);
}

GUP_API bool gup_page_is_zero(const struct gup_page *page)
{
	return page && PageZero((struct page *)page);
}

GUP_API bool gup_page_dirty(const struct gup_page *page)
{
	return page && PageDirty((struct page *)page);
}

GUP_API bool gup_page_movable(const struct gup_page *page)
{
	return page && cpage(page)->zone == ZONE_MOVABLE;
}

GUP_API int gup_memory_failure(struct gup_world *w, uint64_t pfn)
{
	struct page *p;

	if (!w || pfn >= w->arena.nr_frames)
		return -EINVAL;
	p = pfn_to_page(&w->arena, pfn);
	if (PageZero(p) || PageReserved(p))
		return -EBUSY;		/* the zero page cannot be taken offline */
	SetPageHWPoison(p);
	return 0;
}
