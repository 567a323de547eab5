/* SPDX-License-Identifier: MIT */
/*
 * src/gup/gup.c - the GUP slow path: follow_page, faultin_page, the page loop and
 * the `locked` retry protocol (linux_anchor 1.5, 1.7, 1.8, 1.10).
 *
 * The page loop runs with the target mm's mmap lock held for read.  Each page is
 * looked up under its PT lock (follow_page_pte), which decides from the PTE it
 * sees: grab it, fault it in (not present, not writable for a write), or unshare
 * it first (a R/O pin of a page that is not anon-exclusive).  A fault may drop
 * the lock (VM_FAULT_RETRY, only with FOLL_UNLOCKABLE or FOLL_NOWAIT); then the
 * loop stops, and __get_user_pages_locked retakes the lock and retries the
 * faulting page alone with FOLL_TRIED before going on.
 */
#include "gup/internal.h"

/* ---- the VMA check (check_vma_flags, linux_anchor 1.5) ---- */

/* A shared file mapping whose writes the filesystem tracks (page_mkwrite). */
static bool vma_needs_dirty_tracking(const struct gup_vma *vma)
{
	return (vma->vm_flags & VM_SHARED) && vma->vm_ops && vma->vm_ops->page_mkwrite;
}

/*
 * A long-term writable pin of such a mapping would let the device write pages
 * the filesystem believes clean (the reason FOLL_LONGTERM exists at all).
 */
static bool writable_file_mapping_allowed(const struct gup_vma *vma, unsigned flags)
{
	if ((flags & (FOLL_PIN | FOLL_LONGTERM)) != (FOLL_PIN | FOLL_LONGTERM))
		return true;
	return !vma_needs_dirty_tracking(vma);
}

int check_vma_flags(struct gup_vma *vma, unsigned flags)
{
	uint32_t vm_flags = vma->vm_flags;

	if (vm_flags & (VM_IO | VM_PFNMAP))
		return -EFAULT;
	if ((flags & FOLL_ANON) && !vma_is_anonymous(vma))
		return -EFAULT;
	if ((flags & FOLL_LONGTERM) && (vm_flags & VM_FSDAX))
		return -EOPNOTSUPP;
	if (flags & FOLL_WRITE) {
		if (!vma_is_anonymous(vma) && !vma_is_shmem(vma) &&
		    !writable_file_mapping_allowed(vma, flags))
			return -EFAULT;
		if (!(vm_flags & VM_WRITE)) {
			/* ptrace may write only where a private copy protects the file. */
			if (!(flags & FOLL_FORCE) || !is_cow_mapping(vm_flags))
				return -EFAULT;
		}
	} else if (!(vm_flags & VM_READ)) {
		if (!(flags & FOLL_FORCE) || !(vm_flags & VM_MAYREAD))
			return -EFAULT;
	}
	return 0;
}

/* ---- follow_page ---- */

/*
 * gup_must_unshare - a R/O pin must not land on a page that a COW fault could
 * later replace under the pin (linux_anchor 1.10).  Only R/O pins, only where
 * the policy unshares (read_cow=unshare, linux-6.x).
 */
bool gup_must_unshare(struct gup_world *w, struct gup_vma *vma, unsigned flags,
		      struct page *page)
{
	if ((flags & (FOLL_WRITE | FOLL_PIN)) != FOLL_PIN)
		return false;
	if (w->policy->read_cow != READ_COW_UNSHARE)
		return false;
	if (!PageAnon(page)) {
		/* Page cache (or the zero page) in a private mapping, long-term only. */
		if (!(flags & FOLL_LONGTERM))
			return false;
		if (!vma)	/* gup-fast cannot tell: fall back */
			return true;
		return is_cow_mapping(vma->vm_flags);
	}
	/* Pairs with the smp_mb in fork's clearing of exclusivity (gup-fast). */
	smp_rmb();
	return !PageAnonExclusive(page);
}

/* Is a read GUP with @flags on @page in the policy's read_cow scope? */
static bool read_cow_applies(const struct gup_policy *pol, unsigned flags, struct page *page)
{
	switch (pol->read_cow) {
	case READ_COW_ANON:		/* Andrea v2, follow_page (L5063-5069) */
		return PageAnon(page);
	case READ_COW_ALL:		/* Nick v3: every GUP that returns pages (L5726) */
		return true;
	case READ_COW_PINNING:		/* KOSAKI v2: GUP_FLAGS_PINNING_PAGE (L8860-8883) */
		return flags & FOLL_PINNING;
	case READ_COW_PIN:		/* gVisor: every pin, R/O ones too */
		return flags & FOLL_PIN;
	default:			/* never; unshare is gup_must_unshare's */
		return false;
	}
}

/*
 * gup_must_decow - must a GUP that takes a reference without FOLL_WRITE break
 * COW first (read_cow), so that a COW fault cannot later give the referenced
 * page away, or leak the other side's writes into it (R1, R2)?  The designs of
 * 2009 force a write fault (FOLL_WRITE): the PTE ends writable, which is what
 * Andrea's fork test looks at (L4808-4809).  A mapping without VM_WRITE cannot
 * be made writable - Andrea's loop would spin there (seed004 §6.5 [obs]) - so
 * there an unshare fault makes the page ours and the PTE stays R/O; once the
 * page is exclusive, nothing is left to break.
 */
static bool gup_must_decow(struct gup_world *w, struct gup_vma *vma, unsigned flags,
			   uint64_t pte, struct page *page)
{
	if (pte_write(pte) || !(flags & (FOLL_GET | FOLL_PIN)) ||
	    !is_cow_mapping(vma->vm_flags) || !read_cow_applies(w->policy, flags, page))
		return false;
	/*
	 * Nick and KOSAKI forced FOLL_WRITE at the top of the page's loop, and
	 * 2.6.29's loop dropped it after the write fault: a page zapped after
	 * that comes back read-faulted, not de-COWed (Andrea's follow_page
	 * forces it again on every anon PTE it finds R/O, L5065-5068).
	 */
	if ((flags & FOLL_COWED) && w->policy->read_cow != READ_COW_ANON)
		return false;
	if (!(vma->vm_flags & VM_WRITE))
		return !(PageAnon(page) && PageAnonExclusive(page));
	return true;
}

/*
 * gup_mark_page - what a GUP that takes a reference leaves on the page for fork
 * to find (the policy's fork_copy).  Andrea's PG_gup: on an anon page taken
 * from a writable PTE, set once (follow_page, L5070-5071); a R/O one was
 * de-COWed first.  Nick's PG_dontcow: on every anon page of a COW mapping a GUP
 * returns, de-COWed (L5743-5744); never cleared while the page lives.  PT lock
 * held: fork, which tests them under the same lock, sees the mark or has
 * already shared the page (and then this GUP faulted first).
 */
static void gup_mark_page(struct gup_world *w, struct gup_vma *vma, unsigned flags,
			  uint64_t pte, struct page *page)
{
	if (!(flags & (FOLL_GET | FOLL_PIN)))
		return;
	switch (w->policy->fork_copy) {
	case FORK_COPY_PG_GUP:
		if (pte_write(pte) && PageAnon(page) && !PageGUP(page))
			SetPageGUP(page);
		break;
	case FORK_COPY_DONTCOW:
		if (is_cow_mapping(vma->vm_flags) && PageAnon(page) && !PageDontCOW(page))
			SetPageDontCOW(page);
		break;
	default:
		break;
	}
}

/*
 * May a FOLL_WRITE be served by this PTE without a write fault?  A writable PTE,
 * or a FOLL_FORCE write onto a private copy already made for us: an exclusive anon
 * page of a private mapping without VM_WRITE (the Dirty COW lesson, CVE-2016-5195:
 * never onto a page the write would leak into; and CVE-2022-2590's: never a
 * shared one).  A uffd-wp armed PTE always takes the fault.
 */
static bool can_follow_write_pte(uint64_t pte, struct page *page, struct gup_vma *vma,
				 unsigned flags)
{
	if (pte_write(pte))
		return true;
	/* 2.6.29's follow_page wanted a writable PTE, full stop: a forced write
	 * got its page by dropping FOLL_WRITE instead (write_retry=read). */
	if (!(flags & FOLL_FORCE) || vma->mm->w->policy->write_retry == WRITE_RETRY_READ)
		return false;
	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE))
		return false;
	if (!(vma->vm_flags & VM_MAYWRITE) || (vma->vm_flags & VM_WRITE))
		return false;
	if (!page || !PageAnon(page) || !PageAnonExclusive(page))
		return false;
	return !(pte & PTE_UFFD_WP);
}

/* NUMA hinting is not modelled: a PROT_NONE PTE is followed unless asked not to. */
static bool gup_can_follow_protnone(struct gup_vma *vma, unsigned flags)
{
	if (!(flags & FOLL_HONOR_NUMA_FAULT))
		return true;
	return !(vma->vm_flags & VM_ACCESS_FLAGS);
}

/* No PTE to follow: fault it in, unless dumping a hole (no_page_table). */
static int no_page(struct gup_vma *vma, unsigned flags)
{
	if ((flags & FOLL_DUMP) && (vma_is_anonymous(vma) || !vma->vm_ops->fault))
		return -EFAULT;
	return 0;
}

/*
 * follow_page_pte - the page at @addr, grabbed per @flags, or an answer:
 * 0 with *pagep NULL: fault it in; -EMLINK: unshare it first; -EXDEV: break COW
 * first (gup_must_decow); other -errno: fail.
 * With FOLL_GET/FOLL_PIN unset (no pages array), nothing is grabbed.
 */
static int follow_page_pte(struct gup_call *c, struct gup_vma *vma, uint64_t addr,
			   unsigned flags, struct page **pagep)
{
	struct gup_world *w = c->mm->w;
	struct pgtable *pt;
	struct page *page;
	uint64_t pte;
	pte_t *ptep;
	int ret = 0;

	*pagep = NULL;
	ptep = pte_offset_map(c->mm, addr, &pt);
	if (!ptep)
		return no_page(vma, flags);
	spin_lock(&pt->ptl);
	pte = ptep_get(ptep);
	if (!pte_present(pte)) {
		ret = no_page(vma, flags);
		goto out_unlock;
	}
	if (pte_protnone(pte) && !gup_can_follow_protnone(vma, flags))
		goto out_unlock;
	page = vm_normal_page(vma, addr, pte);
	if ((flags & FOLL_WRITE) && !can_follow_write_pte(pte, page, vma, flags))
		goto out_unlock;
	if (!page) {
		/* The zero page (special PTE): a hole to a core dump. */
		if (flags & FOLL_DUMP) {
			ret = -EFAULT;
			goto out_unlock;
		}
		page = zero_page(w);
	}
	if (!pte_write(pte) && gup_must_unshare(w, vma, flags, page)) {
		ret = -EMLINK;
		goto out_unlock;
	}
	if (gup_must_decow(w, vma, flags, pte, page)) {
		ret = -EXDEV;
		goto out_unlock;
	}
	if (PageHWPoison(page)) {
		ret = (flags & FOLL_HWPOISON) ? -EHWPOISON : -EFAULT;
		goto out_unlock;
	}
	/*
	 * Invariant 3: a pinned anon page is exclusive (sanity_check_pinned_pages) -
	 * where R/O pins unshare and exclusivity decides reuse; a knob that turns
	 * either off makes a shared pin possible, not a bug.
	 */
	GUP_BUG_ON((flags & FOLL_PIN) && PageAnon(page) && !PageAnonExclusive(page) &&
		   w->policy->read_cow == READ_COW_UNSHARE &&
		   w->policy->reuse == REUSE_ANON_EXCLUSIVE,
		   "pinning a shared anon page at %#llx", (unsigned long long)addr);
	gup_mark_page(w, vma, flags, pte, page);
	ret = try_grab_page(w, c->task, page, flags);
	if (ret)
		goto out_unlock;
	if ((flags & FOLL_TOUCH) && !PageZero(page)) {
		if ((flags & FOLL_WRITE) && !pte_dirty(pte) && !PageDirty(page))
			SetPageDirty(page);
		if (!PageReferenced(page))
			SetPageReferenced(page);	/* mark_page_accessed */
	}
	*pagep = page;
out_unlock:
	spin_unlock(&pt->ptl);
	return ret;
}

/* ---- faultin_page ---- */

/* faultin_page: look again, and the write fault made the page ours (VM_FAULT_WRITE). */
#define FAULTIN_COWED	1

/*
 * Fault the page in with the flags GUP implies (linux_anchor 1.8).  Returns 0
 * or FAULTIN_COWED (look again), -EBUSY (VM_FAULT_RETRY: the lock is dropped,
 * *locked = 0, unless RETRY_NOWAIT), -EAGAIN (VM_FAULT_COMPLETED: done, lock
 * dropped), or -errno.
 */
static int faultin_page(struct gup_call *c, struct gup_vma *vma, uint64_t addr,
			unsigned flags, bool unshare, int *locked)
{
	unsigned fault_flags = 0, ret;

	if (flags & FOLL_NOFAULT)
		return -EFAULT;
	if (flags & FOLL_WRITE)
		fault_flags |= FAULT_FLAG_WRITE;
	if (flags & FOLL_REMOTE)
		fault_flags |= FAULT_FLAG_REMOTE;
	if (flags & FOLL_UNLOCKABLE) {
		fault_flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;
		if (flags & FOLL_INTERRUPTIBLE)
			fault_flags |= FAULT_FLAG_INTERRUPTIBLE;
	}
	if (flags & FOLL_NOWAIT)
		fault_flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT;
	if (flags & FOLL_TRIED)
		fault_flags |= FAULT_FLAG_TRIED;	/* only ever set with UNLOCKABLE */
	if (unshare)
		fault_flags |= FAULT_FLAG_UNSHARE;	/* never with WRITE */

	ret = handle_mm_fault(vma, addr, fault_flags, c->task);
	if (ret & VM_FAULT_COMPLETED) {
		/* The handler finished and released the lock. */
		task_note_mmap_unlock(c->task, c->mm);
		*locked = 0;
		return -EAGAIN;
	}
	if (ret & VM_FAULT_ERROR)
		return vm_fault_to_errno(ret, flags & FOLL_HWPOISON);
	if (ret & VM_FAULT_RETRY) {
		if (!(fault_flags & FAULT_FLAG_RETRY_NOWAIT)) {
			task_note_mmap_unlock(c->task, c->mm);
			*locked = 0;
		}
		return -EBUSY;
	}
	return (ret & VM_FAULT_WRITE) ? FAULTIN_COWED : 0;
}

/* Break COW before a read GUP takes its reference (gup_must_decow): as faultin_page. */
static int faultin_decow(struct gup_call *c, struct gup_vma *vma, uint64_t addr,
			 unsigned flags, int *locked)
{
	count_task_event(c->mm->w, c->task, GUP_STAT_GUP_DECOW);
	if (vma->vm_flags & VM_WRITE)
		return faultin_page(c, vma, addr, flags | FOLL_WRITE, false, locked);
	return faultin_page(c, vma, addr, flags, true, locked);
}

/* ---- the page loop ---- */

static bool gup_signal_pending(struct gup_call *c)
{
	/* Only fatal signals exist here, so FOLL_INTERRUPTIBLE changes nothing. */
	return c->task && read_once_bool(&c->task->fatal_signal);
}

/*
 * __get_user_pages - the loop over [start, start + nr_pages pages).  Returns the
 * pages done, or -errno if none; 0 when a fault dropped the lock (or could not
 * wait, FOLL_NOWAIT) before the first page.
 */
static long __get_user_pages(struct gup_call *c, uint64_t start, unsigned long nr_pages,
			     unsigned flags, struct page **pages, int *locked)
{
	struct gup_vma *vma = NULL;
	unsigned long i = 0;
	long ret = 0;

	while (i < nr_pages) {
		/*
		 * The page's lookup flags.  The kernels of 2009 (write_retry=read)
		 * dropped FOLL_WRITE once a write fault had made the page theirs,
		 * "since we have COWed", and looked it up as a read; had the page
		 * been zapped meanwhile, the read fault mapped the file's page and
		 * the write went to the page cache: CVE-2016-5195, closed by
		 * 19be0eaffa3a (4.8.3), which kept the write.
		 */
		unsigned foll = flags;
		struct page *page;

		if (!vma || start >= vma_end(vma)) {
			/* GUP never grows a stack (gup_vma_lookup). */
			vma = vma_lookup(c->mm, start);
			if (!vma) {
				ret = -EFAULT;
				break;
			}
			ret = check_vma_flags(vma, flags);
			if (ret)
				break;
			/* FreeBSD: a long-term pin wires the entry (vslock); a hold does not. */
			if ((flags & FOLL_LONGTERM) && c->mm->w->policy->fork_copy == FORK_COPY_WIRED)
				vma_wire(vma);
		}
retry:
		if (gup_signal_pending(c)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		ret = follow_page_pte(c, vma, start, foll, &page);
		if (!ret && !page)
			ret = faultin_page(c, vma, start, foll, false, locked);
		else if (ret == -EMLINK)
			ret = faultin_page(c, vma, start, foll, true, locked);
		else if (ret == -EXDEV)
			ret = faultin_decow(c, vma, start, foll, locked);
		else if (!ret)
			goto got_page;
		switch (ret) {
		case FAULTIN_COWED:
			if (c->mm->w->policy->write_retry == WRITE_RETRY_READ)
				foll = (foll & ~FOLL_WRITE) | FOLL_COWED;
			goto retry;
		case 0:
			goto retry;
		case -EBUSY:
		case -EAGAIN:
			ret = 0;	/* the lock is gone (or NOWAIT): stop here */
			/* fallthrough */
		default:
			goto out;
		}
got_page:
		if (pages)
			pages[i] = page;
		i++;
		start += PAGE_SIZE;
	}
out:
	if (i)
		count_task_events(c->mm->w, c->task, GUP_STAT_GUP_SLOW_PAGES, i);
	return i ? (long)i : ret;
}

long __get_user_pages_locked(struct gup_call *c, uint64_t start, unsigned long nr_pages,
			     struct page **pages, int *locked, unsigned flags)
{
	bool must_unlock = false;
	long ret, pages_done = 0;

	if (!nr_pages)
		return 0;
	if (!*locked) {
		if (gup_mmap_read_lock_killable(c))
			return -EAGAIN;
		must_unlock = true;
		*locked = 1;
	}
	if ((flags & FOLL_PIN) && !test_bit(MMF_HAS_PINNED, &c->mm->flags))
		set_bit(MMF_HAS_PINNED, &c->mm->flags);	/* sticky (linux_anchor 1.6) */
	if (pages && !(flags & FOLL_PIN))
		flags |= FOLL_GET;

	for (;;) {
		ret = __get_user_pages(c, start, nr_pages, flags, pages, locked);
		if (!(flags & FOLL_UNLOCKABLE)) {
			pages_done = ret;	/* the lock cannot have been dropped */
			break;
		}
		if (ret > 0) {
			nr_pages -= (unsigned long)ret;
			pages_done += ret;
			if (!nr_pages)
				break;
		}
		if (*locked) {
			/* Stopped for another reason than a dropped lock (or NOWAIT). */
			if (!pages_done)
				pages_done = ret;
			break;
		}
		/* The fault at start + ret pages dropped the lock: retry that page alone. */
		if (pages && ret > 0)
			pages += ret;
		if (ret > 0)
			start += (uint64_t)ret << PAGE_SHIFT;
		/*
		 * The lock was dropped under the caller: whatever we retake is ours
		 * to release, and the caller learns it from *locked == 0.
		 */
		must_unlock = true;
retry:
		count_task_event(c->mm->w, c->task, GUP_STAT_GUP_RETRY);
		if (gup_signal_pending(c) || gup_mmap_read_lock_killable(c)) {
			if (!pages_done)
				pages_done = -EINTR;
			break;
		}
		*locked = 1;
		ret = __get_user_pages(c, start, 1, flags | FOLL_TRIED, pages, locked);
		if (!*locked) {
			GUP_BUG_ON(ret != 0, "a retried fault dropped the lock and returned pages");
			goto retry;	/* "Continue to retry until we succeeded" */
		}
		if (ret != 1) {
			if (!pages_done)
				pages_done = ret;
			break;
		}
		nr_pages--;
		pages_done++;
		if (!nr_pages)
			break;
		if (pages)
			pages++;
		start += PAGE_SIZE;
	}
	if (must_unlock && *locked) {
		gup_mmap_read_unlock_call(c);
		*locked = 0;
	}
	/* Only FOLL_NOWAIT may legitimately end with nothing done and no error. */
	if (pages_done == 0 && !(flags & FOLL_NOWAIT))
		pages_done = -EFAULT;
	return pages_done;
}

/* ---- fixup_user_fault ---- */

static bool vma_permits_fault(struct gup_vma *vma, unsigned fault_flags)
{
	if (fault_flags & FAULT_FLAG_WRITE)
		return vma->vm_flags & VM_WRITE;
	return vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC);
}

int fixup_user_fault_engine(struct gup_call *c, uint64_t address, unsigned fault_flags,
			    bool *unlocked)
{
	struct gup_vma *vma;
	unsigned ret;

	if (unlocked)
		fault_flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;
retry:
	vma = vma_lookup(c->mm, address);
	if (!vma || !vma_permits_fault(vma, fault_flags))
		return -EFAULT;
	if ((fault_flags & FAULT_FLAG_KILLABLE) && gup_signal_pending(c))
		return -EINTR;
	ret = handle_mm_fault(vma, address, fault_flags, c->task);
	if (ret & (VM_FAULT_COMPLETED | VM_FAULT_RETRY)) {
		/* The lock was dropped: retake it; the caller learns via *unlocked. */
		task_note_mmap_unlock(c->task, c->mm);
		if (gup_mmap_read_lock_killable(c)) {
			/* Never return without the lock: take it unkillably. */
			mmap_read_lock(c->mm);
			task_note_mmap_lock(c->task, c->mm, MMAP_HELD_READ);
			*unlocked = true;
			return -EINTR;
		}
		*unlocked = true;
		if (ret & VM_FAULT_COMPLETED)
			return 0;
		fault_flags |= FAULT_FLAG_TRIED;
		goto retry;
	}
	if (ret & VM_FAULT_ERROR)
		return vm_fault_to_errno(ret, false);
	return 0;
}
