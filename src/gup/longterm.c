/* SPDX-License-Identifier: MIT */
/*
 * src/gup/longterm.c - FOLL_LONGTERM: pins that may be held indefinitely must not
 * sit in ZONE_MOVABLE (linux_anchor 1.14, __gup_longterm_locked).
 *
 * Pin the range; if any page is not long-term pinnable, unpin everything, migrate
 * those pages to ZONE_NORMAL frames (updating their PTEs), and pin again.
 *
 * Only anonymous pages are migrated: a long-term pin made them exclusive (a write
 * pin broke COW, a R/O pin unshared), so each is mapped by exactly one PTE, the
 * one GUP found it through.  Shared memory (shmem) is allocated unmovable until a
 * reverse map exists (shmem.c); any other movable page fails with -ENOMEM, as a
 * failed migrate_pages does.
 *
 * Migration of one page, with the mmap lock held for read and the PT lock held
 * throughout: clear the PTE, flush (which waits out gup-fast's irq-off walks: a
 * lockless grab either completed before the clear, and shows in the refcount, or
 * sees the PTE gone and backs off), check that only the mapping's reference is
 * left, copy, install the new PTE.  A fault racing with us waits on the PT lock
 * and finds the new PTE.
 */
#include "gup/internal.h"

/*
 * Re-pin rounds before giving up on a page kept busy by someone else: then the
 * call fails with -ENOMEM, as a failed migrate_pages does (it retries busy
 * pages a bounded number of times too).
 */
#define LONGTERM_TRIES	8

static int migrate_anon_page(struct gup_call *c, uint64_t addr, struct page *old)
{
	struct gup_world *w = c->mm->w;
	struct page *new;
	struct pgtable *pt;
	uint64_t pte;
	pte_t *ptep;
	int ret = 0;

	if (!PageAnon(old))
		return -ENOMEM;
	new = alloc_page(w, GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	ptep = pte_offset_map(c->mm, addr, &pt);
	if (!ptep)
		goto out_free;		/* unmapped meanwhile: the re-pin will see */
	spin_lock(&pt->ptl);
	pte = ptep_get(ptep);
	if (!pte_present(pte) || pte_special(pte) ||
	    pte_pfn(pte) != page_to_pfn(&w->arena, old))
		goto out_unlock;
	if (!PageAnonExclusive(old) || page_mapcount(old) != 1) {
		ret = -EAGAIN;		/* shared again (fork): the re-pin unshares */
		goto out_unlock;
	}
	pte = ptep_get_and_clear(ptep);
	flush_tlb_page(c->mm, addr);
	if (page_ref_count(old) != 1) {
		/* Someone else holds it (another GUP user): not now. */
		set_pte(ptep, pte);
		ret = -EAGAIN;
		goto out_unlock;
	}
	mem_copy_frame(page_data(&w->arena, new), page_data(&w->arena, old), PAGE_SIZE);
	page_init_private(new, read_bits_u64(&old->flags, PAGE_FLAGS_ALL & ~PG_BIT(PG_locked)),
			  PAGE_MAP_REF, read_once_u64(&old->index), true);
	/* Published by set_pte's release, like a fresh anon page. */
	set_pte(ptep, pfn_pte(page_to_pfn(&w->arena, new), pte & ~PTE_PFN_MASK));
	page_remove_rmap(old);
	ClearPageAnonExclusive(old);
	spin_unlock(&pt->ptl);
	put_page(w, old);
	count_task_event(w, c->task, GUP_STAT_LONGTERM_MIGRATE);
	return 0;

out_unlock:
	spin_unlock(&pt->ptl);
out_free:
	free_frame(w, new);
	return ret;
}

/*
 * Returns 0 if every page may stay pinned; otherwise the pins are dropped and
 * -EAGAIN (pin again) or -errno is returned.
 */
static int check_and_migrate_movable_pages(struct gup_call *c, uint64_t start, long nr,
					   struct page **pages, int *locked, unsigned flags)
{
	bool any = false, took_lock = false;
	int ret = -EAGAIN;

	for (long i = 0; i < nr && !any; i++)
		any = !page_is_longterm_pinnable(pages[i]);
	if (!any)
		return 0;
	if (!*locked) {
		if (gup_mmap_read_lock_killable(c))
			ret = -EINTR;
		else
			took_lock = true;
	}
	for (long i = 0; i < nr; i++) {
		struct page *page = pages[i];
		int err = 0;

		/* Our pin goes first: the copy must see nothing but the mapping. */
		gup_put_ref(c->mm->w, c->task, page, flags & (FOLL_GET | FOLL_PIN));
		if (ret == -EAGAIN && !page_is_longterm_pinnable(page))
			err = migrate_anon_page(c, start + ((uint64_t)i << PAGE_SHIFT), page);
		if (err && err != -EAGAIN)
			ret = err;
		pages[i] = NULL;
	}
	if (took_lock)
		gup_mmap_read_unlock_call(c);
	return ret;
}

long __gup_longterm_locked(struct gup_call *c, uint64_t start, unsigned long nr_pages,
			   struct page **pages, int *locked, unsigned flags)
{
	if (!(flags & FOLL_LONGTERM))
		return __get_user_pages_locked(c, start, nr_pages, pages, locked, flags);
	for (int tries = 0; tries < LONGTERM_TRIES; tries++) {
		long rc = __get_user_pages_locked(c, start, nr_pages, pages, locked, flags);
		int err;

		if (rc <= 0)
			return rc;
		err = check_and_migrate_movable_pages(c, start, rc, pages, locked, flags);
		if (!err)
			return rc;
		if (err != -EAGAIN)
			return err;
	}
	return -ENOMEM;
}
