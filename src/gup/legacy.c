/* SPDX-License-Identifier: MIT */
/*
 * src/gup/legacy.c - the 2014-2019 get_user_pages API (include/gup/legacy.h).
 *
 * The same engine as the modern API, with that era's rules: references only
 * (FOLL_GET; FOLL_PIN did not exist), a `vmas` array only for the variant that
 * never drops the lock, and FOLL_LONGTERM only where the VMAs can be checked
 * (seed 003): plain get_user_pages refuses fs-DAX VMAs itself, as
 * get_user_pages_longterm did, and the _locked/_unlocked variants refuse the flag.
 */
#include "gup/internal.h"
#include "gup/legacy.h"

#define SITE __builtin_return_address(0)

/* Flags a caller of that era could pass. */
#define LEGACY_FOLL_FLAGS	(GUP_FOLL_EXTERNAL & ~FOLL_PCI_P2PDMA)

static bool legacy_args_ok(struct gup_task *t, struct gup_mm *mm, unsigned flags,
			   const void *site)
{
	if (!t || !mm || t->w != mm->w)
		return false;
	if (flags & ~LEGACY_FOLL_FLAGS) {
		gup_misuse(t->w, site, "FOLL flag(s) %#x unknown to the legacy API",
			   flags & ~LEGACY_FOLL_FLAGS);
		return false;
	}
	return true;
}

static unsigned legacy_flags(struct gup_task *t, struct gup_mm *mm, unsigned flags,
			     struct gup_page **pages)
{
	flags |= FOLL_TOUCH | (pages ? FOLL_GET : 0);
	if (mm != t->mm)
		flags |= FOLL_REMOTE;
	return flags;
}

GUP_API long gup_legacy_get_user_pages(struct gup_task *t, struct gup_mm *mm, uint64_t start,
				       unsigned long nr_pages, unsigned gup_flags,
				       struct gup_page **pages, const struct gup_vma **vmas)
{
	struct gup_call c = { .task = t, .mm = mm, .site = SITE };
	int locked = 1;
	long ret;

	if (!legacy_args_ok(t, mm, gup_flags, c.site))
		return -EINVAL;
	if (!task_holds_mmap_lock(t, mm)) {
		gup_misuse(t->w, c.site, "get_user_pages called without the mmap lock of mm %u",
			   mm->id);
		return -EINVAL;
	}
	start &= PAGE_MASK;
	/* The lock is never dropped here, so the VMAs stay meaningful. */
	ret = __get_user_pages_locked(&c, start, nr_pages, (struct page **)pages, &locked,
				      legacy_flags(t, mm, gup_flags & ~FOLL_LONGTERM, pages));
	for (long i = 0; i < ret; i++) {
		struct gup_vma *vma = vma_lookup(mm, start + ((uint64_t)i << PAGE_SHIFT));

		if ((gup_flags & FOLL_LONGTERM) && vma && (vma->vm_flags & VM_FSDAX)) {
			/* get_user_pages_longterm: drop everything, refuse fs-DAX. */
			for (long j = 0; pages && j < ret; j++)
				gup_put_ref(mm->w, t, (struct page *)pages[j], FOLL_GET);
			return -EOPNOTSUPP;
		}
		if (vmas)
			vmas[i] = vma;
	}
	return ret;
}

GUP_API long gup_legacy_get_user_pages_locked(struct gup_task *t, struct gup_mm *mm,
					      uint64_t start, unsigned long nr_pages,
					      unsigned gup_flags, struct gup_page **pages,
					      int *locked)
{
	struct gup_call c = { .task = t, .mm = mm, .site = SITE };

	if (!legacy_args_ok(t, mm, gup_flags, c.site) || !locked || *locked != 1)
		return -EINVAL;
	if (gup_flags & FOLL_LONGTERM)
		return -EINVAL;		/* needs the VMAs, which this variant cannot give */
	if (!task_holds_mmap_lock(t, mm)) {
		gup_misuse(t->w, c.site, "get_user_pages_locked called without the mmap lock");
		return -EINVAL;
	}
	return __get_user_pages_locked(&c, start & PAGE_MASK, nr_pages, (struct page **)pages,
				       locked, legacy_flags(t, mm, gup_flags, pages) |
				       FOLL_UNLOCKABLE);
}

GUP_API long gup_legacy_get_user_pages_unlocked(struct gup_task *t, struct gup_mm *mm,
						uint64_t start, unsigned long nr_pages,
						struct gup_page **pages, unsigned gup_flags)
{
	struct gup_call c = { .task = t, .mm = mm, .site = SITE };
	int locked = 0;

	if (!legacy_args_ok(t, mm, gup_flags, c.site) || (gup_flags & FOLL_LONGTERM))
		return -EINVAL;
	if (task_holds_mmap_lock(t, mm)) {
		gup_misuse(t->w, c.site, "get_user_pages_unlocked called holding the mmap lock");
		return -EINVAL;
	}
	return __get_user_pages_locked(&c, start & PAGE_MASK, nr_pages, (struct page **)pages,
				       &locked, legacy_flags(t, mm, gup_flags, pages) |
				       FOLL_UNLOCKABLE);
}

GUP_API uint64_t gup_vma_start(const struct gup_vma *vma)
{
	return vma ? vma_start(vma) : 0;
}

GUP_API uint64_t gup_vma_end(const struct gup_vma *vma)
{
	return vma ? vma_end(vma) : 0;
}

GUP_API int gup_vma_prot(const struct gup_vma *vma)
{
	if (!vma)
		return 0;
	return ((vma->vm_flags & VM_READ) ? GUP_PROT_READ : 0) |
	       ((vma->vm_flags & VM_WRITE) ? GUP_PROT_WRITE : 0) |
	       ((vma->vm_flags & VM_EXEC) ? GUP_PROT_EXEC : 0);
}
