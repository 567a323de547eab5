/* SPDX-License-Identifier: MIT */
/*
 * gup/legacy.h - the get_user_pages API as it stood from 2014 to 2019, for the
 * legacy policies (linux-2.6.29 and the 2009 designs) and for comparing designs.
 *
 * Seed 002 (2014) added get_user_pages_locked/_unlocked so that GUP could drop
 * mmap_sem to wait for I/O; they take no `vmas` array, because the array "becomes
 * meaningless the moment the mmap_sem is released".  Only plain get_user_pages,
 * with the lock held throughout, still fills one.  Seed 003's rule follows:
 * FOLL_LONGTERM needs the VMAs (to refuse fs-DAX), so get_user_pages_locked and
 * _unlocked refuse it with -EINVAL.  There is no FOLL_PIN in this era: every
 * page comes back with a FOLL_GET reference (release it with gup_put_page).
 */
#ifndef GUP_LEGACY_H
#define GUP_LEGACY_H

#include <gup/gup.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A VMA as get_user_pages reported it: valid only while the mmap lock is held. */
struct gup_vma;
GUP_API uint64_t gup_vma_start(const struct gup_vma *vma);
GUP_API uint64_t gup_vma_end(const struct gup_vma *vma);
GUP_API int gup_vma_prot(const struct gup_vma *vma);	/* GUP_PROT_* */

/*
 * get_user_pages(tsk, mm, start, nr_pages, gup_flags, pages, vmas): the caller
 * holds @mm's mmap lock; @vmas (optional) receives each page's VMA.
 * Return: pages done (possibly short), -errno if none, -EINVAL on bad arguments.
 */
GUP_API long gup_legacy_get_user_pages(struct gup_task *t, struct gup_mm *mm, uint64_t start,
				       unsigned long nr_pages, unsigned gup_flags,
				       struct gup_page **pages, const struct gup_vma **vmas);

/*
 * get_user_pages_locked: as above without @vmas; *@locked must be 1 (the caller
 * holds the lock) and is 0 on return if GUP dropped it to wait.
 */
GUP_API long gup_legacy_get_user_pages_locked(struct gup_task *t, struct gup_mm *mm,
					      uint64_t start, unsigned long nr_pages,
					      unsigned gup_flags, struct gup_page **pages,
					      int *locked);

/* get_user_pages_unlocked: the caller does not hold the lock. */
GUP_API long gup_legacy_get_user_pages_unlocked(struct gup_task *t, struct gup_mm *mm,
						uint64_t start, unsigned long nr_pages,
						struct gup_page **pages, unsigned gup_flags);

#ifdef __cplusplus
}
#endif

#endif /* GUP_LEGACY_H */
