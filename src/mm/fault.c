/* SPDX-License-Identifier: MIT */
/*
 * src/mm/fault.c - handle_mm_fault: anonymous, shared-anon and file faults,
 * write-protect (COW) faults with the policy's reuse rule, unshare faults.
 *
 * Every decision is made on a PTE value read under the PT lock, or re-validated
 * under it (pte_same) after work done without it (allocating, copying).  The mmap
 * lock is held for read throughout; a handler that drops it says so with
 * VM_FAULT_RETRY / VM_FAULT_COMPLETED (fault.h).
 */
#include "mm/fault.h"
#include "mm/userfaultfd.h"
#include "world.h"
#include "debug.h"

int vm_fault_to_errno(unsigned ret, bool hwpoison_errno)
{
	if (ret & VM_FAULT_OOM)
		return -ENOMEM;
	if (ret & VM_FAULT_HWPOISON)
		return hwpoison_errno ? -EHWPOISON : -EFAULT;
	if (ret & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV))
		return -EFAULT;
	return 0;
}

static bool pte_same_locked(struct vm_fault *vmf)
{
	return ptep_get(vmf->pte) == vmf->orig_pte;
}

static uint64_t maybe_mkwrite(uint64_t pte, struct gup_vma *vma)
{
	return (vma->vm_flags & VM_WRITE) ? pte_mkwrite(pte) : pte;
}

/* A fresh private anon page for @vmf: exclusive, mapped once (the caller maps it). */
static void new_anon_page(struct vm_fault *vmf, struct page *page)
{
	/* Published by set_pte's release (pgtable.h), as __SetPageUptodate orders it. */
	page_init_private(page, (UINT64_C(1) << PG_anon) | (UINT64_C(1) << PG_uptodate),
			  PAGE_MAP_REF, vmf->address >> PAGE_SHIFT, true);
}

/* Undo new_anon_page for a page that lost a race and was never mapped. */
static void discard_new_page(struct gup_world *w, struct page *page)
{
	page_init_private(page, 0, 0, 0, false);
	free_frame(w, page);
}

/* ---- anonymous ---- */

static unsigned do_anonymous_page(struct vm_fault *vmf)
{
	struct gup_vma *vma = vmf->vma;
	struct gup_world *w = vmf->w;
	struct page *page;
	uint64_t entry;

	if (!(vmf->flags & FAULT_FLAG_WRITE)) {
		/* Read (or unshare of nothing): map the shared zero page R/O. */
		entry = pfn_pte(ZERO_PFN, PTE_PRESENT | PTE_SPECIAL | PTE_ACCESSED);
		spin_lock(&vmf->pt->ptl);
		if (pte_none(ptep_get(vmf->pte)))
			set_pte(vmf->pte, entry);
		spin_unlock(&vmf->pt->ptl);
		count_task_event(w, vmf->task, GUP_STAT_FAULT_ANON_READ);
		return 0;
	}
	page = alloc_page(w, GFP_MOVABLE | GFP_ZERO);
	if (!page) {
		count_task_event(w, vmf->task, GUP_STAT_FAULT_OOM);
		return VM_FAULT_OOM;
	}
	new_anon_page(vmf, page);
	entry = pfn_pte(page_to_pfn(&w->arena, page), PTE_PRESENT | PTE_ACCESSED);
	entry = maybe_mkwrite(pte_mkdirty(entry), vma);

	spin_lock(&vmf->pt->ptl);
	if (!pte_none(ptep_get(vmf->pte))) {
		spin_unlock(&vmf->pt->ptl);
		discard_new_page(w, page);	/* another task faulted it in */
		return 0;
	}
	set_pte(vmf->pte, entry);
	spin_unlock(&vmf->pt->ptl);
	add_mm_rss_task(vmf->mm, vmf->task, 1);
	count_task_event(w, vmf->task, GUP_STAT_FAULT_ANON_WRITE);
	return 0;
}

/*
 * Map @page (one reference held by the caller, which the mapping takes over) at
 * vmf->address if the PTE is still none.  Returns false if it lost the race (the
 * caller's reference is then dropped here).
 */
static bool finish_fault_map(struct vm_fault *vmf, struct page *page, uint64_t entry)
{
	spin_lock(&vmf->pt->ptl);
	if (!pte_none(ptep_get(vmf->pte))) {
		spin_unlock(&vmf->pt->ptl);
		put_page(vmf->w, page);
		return false;
	}
	/* Our reference becomes the map's. */
	add_parts_u64(&page->count, PAGE_COUNT_MAP, PAGE_MAP_ONE);
	set_pte(vmf->pte, entry);
	spin_unlock(&vmf->pt->ptl);
	add_mm_rss_task(vmf->mm, vmf->task, 1);
	return true;
}

/* Shared anonymous memory: the page comes from the shmem object. */
static unsigned do_shmem_fault(struct vm_fault *vmf)
{
	struct gup_vma *vma = vmf->vma;
	struct page *page;
	uint64_t entry;
	int ret;

	ret = shmem_get_page(vmf->w, vma->shmem, vmf->pgoff, &page);
	if (ret == -ENOMEM) {
		count_task_event(vmf->w, vmf->task, GUP_STAT_FAULT_OOM);
		return VM_FAULT_OOM;
	}
	if (ret)
		return VM_FAULT_SIGBUS;
	if (PageHWPoison(page)) {
		put_page(vmf->w, page);
		return VM_FAULT_HWPOISON;
	}
	/* No write notification for shmem: a writable VMA maps writable at once. */
	entry = pfn_pte(page_to_pfn(&vmf->w->arena, page), PTE_PRESENT | PTE_ACCESSED);
	entry = maybe_mkwrite(entry, vma);
	if (vmf->flags & FAULT_FLAG_WRITE) {
		entry = pte_mkdirty(entry);
		SetPageDirty(page);
	}
	finish_fault_map(vmf, page, entry);
	count_task_event(vmf->w, vmf->task, GUP_STAT_FAULT_SHARED);
	return 0;
}

static unsigned wp_page_copy(struct vm_fault *vmf, struct page *old, bool put_old);

/* Drop what a fault handler handed over: the page lock if it said LOCKED, the reference. */
static void fault_release_page(struct vm_fault *vmf, unsigned ret)
{
	if (ret & VM_FAULT_LOCKED)
		unlock_page(vmf->page);
	put_page(vmf->w, vmf->page);
}

/*
 * A file-backed VMA (filemap.c, or a test's hooks).  A handler that returns
 * VM_FAULT_LOCKED keeps the page locked until it is mapped, so that truncate,
 * which takes the page lock to remove it, cannot slip in between (filemap.c).
 */
static unsigned do_file_fault(struct vm_fault *vmf)
{
	struct gup_vma *vma = vmf->vma;
	unsigned ret, mk;
	uint64_t entry;

	if (!vma->vm_ops->fault)
		return VM_FAULT_SIGBUS;
	ret = vma->vm_ops->fault(vmf);
	if (ret & (VM_FAULT_ERROR | VM_FAULT_RETRY | VM_FAULT_COMPLETED | VM_FAULT_NOPAGE))
		return ret & ~VM_FAULT_NOPAGE;
	GUP_BUG_ON(!vmf->page, "vm_ops->fault returned no page");
	if ((vmf->flags & FAULT_FLAG_WRITE) && !(vma->vm_flags & VM_SHARED)) {
		/* do_cow_fault: a private write gets its own anon copy at once. */
		vmf->orig_pte = 0;
		mk = wp_page_copy(vmf, vmf->page, false);
		fault_release_page(vmf, ret);
		return mk & ~VM_FAULT_WRITE;	/* not do_wp_page's (2.6.29 __do_fault) */
	}
	entry = pfn_pte(page_to_pfn(&vmf->w->arena, vmf->page), PTE_PRESENT | PTE_ACCESSED);
	if ((vmf->flags & FAULT_FLAG_WRITE) && vma->vm_ops->page_mkwrite) {
		/* do_shared_fault: page_mkwrite takes the page lock itself. */
		if (ret & VM_FAULT_LOCKED)
			unlock_page(vmf->page);
		ret &= ~VM_FAULT_LOCKED;
		mk = vma->vm_ops->page_mkwrite(vmf);
		if (mk & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) {
			put_page(vmf->w, vmf->page);
			return mk & ~VM_FAULT_NOPAGE;
		}
		ret |= mk & VM_FAULT_LOCKED;
	}
	if (vmf->flags & FAULT_FLAG_WRITE) {
		/* Shared write: map writable and dirty; read faults map R/O so the
		 * first write is noticed (dirty tracking). */
		entry = maybe_mkwrite(pte_mkdirty(entry), vma);
		if (!PageDirty(vmf->page))
			SetPageDirty(vmf->page);
	}
	if (ret & VM_FAULT_LOCKED) {
		struct page *page = vmf->page;

		get_page(page);		/* the map takes the handler's reference */
		finish_fault_map(vmf, page, entry);
		unlock_page(page);
		put_page(vmf->w, page);
		return 0;
	}
	finish_fault_map(vmf, vmf->page, entry);
	return 0;
}

/* ---- write-protect and unshare ---- */

/*
 * wp_page_copy - give this mapping its own copy of @old (NULL: the zero page).
 * Entered without the PT lock and with a reference on @old (the caller's); the
 * copy is made unlocked, then installed only if the PTE is unchanged.  Unshare
 * maps the copy R/O (linux_anchor 1.10).
 *
 * @put_old: drop the caller's reference too (do_wp_page's), in one decrement
 * with the mapping's when the copy replaced it.  Linux drops the two with
 * consecutive folio_puts at the end of wp_page_copy, and nothing between them
 * reads the count: one decrement shows nobody a state the two did not, and the
 * explorer has one put fewer to order against every other (docs/explore.md,
 * "Limits").
 */
static unsigned wp_page_copy(struct vm_fault *vmf, struct page *old, bool put_old)
{
	struct gup_world *w = vmf->w;
	bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;
	struct page *new;
	uint64_t entry, pte;
	bool mapped_old;

	new = alloc_page(w, GFP_MOVABLE | (old ? 0 : GFP_ZERO));
	if (!new) {
		count_task_event(w, vmf->task, GUP_STAT_FAULT_OOM);
		if (put_old)
			put_page(w, old);
		return VM_FAULT_OOM;
	}
	if (old)
		mem_copy_frame(page_data(&w->arena, new), page_data(&w->arena, old), PAGE_SIZE);
	new_anon_page(vmf, new);
	entry = pfn_pte(page_to_pfn(&w->arena, new), PTE_PRESENT | PTE_ACCESSED);
	if (!unshare)
		entry = maybe_mkwrite(pte_mkdirty(entry), vmf->vma);
	else
		entry |= vmf->orig_pte & PTE_UFFD_WP;	/* unsharing is not the write */

	spin_lock(&vmf->pt->ptl);
	if (!pte_same_locked(vmf)) {
		spin_unlock(&vmf->pt->ptl);
		discard_new_page(w, new);
		if (put_old)
			put_page(w, old);
		return 0;	/* someone else resolved it; the access retries */
	}
	/* ptep_clear_flush: no task may keep using the old page through its TLB. */
	pte = ptep_get_and_clear(vmf->pte);
	if (pte_present(pte))
		flush_tlb_page(vmf->mm, vmf->address);
	set_pte(vmf->pte, entry);
	/* @old was mapped here (COW), or is a cache page never mapped (do_cow_fault). */
	mapped_old = old && pte_present(pte);
	if (mapped_old)
		page_remove_rmap(old);
	spin_unlock(&vmf->pt->ptl);

	if (!mapped_old)	/* the zero page, or nothing, became a counted page */
		add_mm_rss_task(vmf->mm, vmf->task, 1);
	if (mapped_old || put_old)	/* the mapping's reference, the caller's */
		page_ref_sub(w, old, (uint32_t)mapped_old + (uint32_t)put_old);
	if (!old)
		count_task_event(w, vmf->task, GUP_STAT_COW_ZERO);
	count_task_event(w, vmf->task, unshare ? GUP_STAT_UNSHARE_COPY : GUP_STAT_COW_COPY);
	return unshare ? 0 : VM_FAULT_WRITE;
}

/* The policy's reuse rule for a private anon page (PT lock held). */
static bool wp_can_reuse_anon(struct gup_world *w, struct page *page)
{
	bool reuse;

	switch (w->policy->reuse) {
	/*
	 * Counts are read with acquire: a previous sharer's accesses, made before
	 * its unmap dropped its count, happen-before our writes into the reused page
	 * (Linux leans on a control dependency here; C11 needs the acquire).
	 */
	case REUSE_ANON_EXCLUSIVE:
		/* Exclusive: reuse with no refcount check - what makes pins reliable. */
		if (PageAnonExclusive(page))
			return true;
		return page_ref_count_acquire(page) == 1;
	case REUSE_REFCOUNT:
		return page_ref_count_acquire(page) == 1;
	case REUSE_MAPCOUNT:
		/* 2.6.29 do_wp_page: trylock_page, reuse_swap_page (mapcount == 1). */
		if (!trylock_page(page))
			return false;
		reuse = page_mapcount_acquire(page) == 1;
		unlock_page(page);
		return reuse;
	}
	return false;
}

static unsigned wp_page_reuse(struct vm_fault *vmf, struct page *page)
{
	struct gup_world *w = vmf->w;
	uint64_t entry;

	/* A reused page belongs to this mapping alone from now on. */
	SetPageAnonExclusive(page);
	if (vmf->flags & FAULT_FLAG_UNSHARE) {
		spin_unlock(&vmf->pt->ptl);
		count_task_event(w, vmf->task, GUP_STAT_UNSHARE_REUSE);
		return 0;	/* the PTE stays R/O: unshare never grants write */
	}
	/* A marker left by a uffd being released goes: writable PTEs carry none. */
	entry = maybe_mkwrite(pte_mkdirty(pte_mkyoung(vmf->orig_pte)), vmf->vma) & ~PTE_UFFD_WP;
	/* Gaining write needs no flush: a stale R/O entry just faults again. */
	set_pte(vmf->pte, entry);
	spin_unlock(&vmf->pt->ptl);
	count_task_event(w, vmf->task, GUP_STAT_COW_REUSE);
	return VM_FAULT_WRITE;
}

/* A write (or unshare) to a shared mapping: no COW, just permission and dirty. */
static unsigned wp_page_shared(struct vm_fault *vmf, struct page *page)
{
	struct gup_vma *vma = vmf->vma;

	if (vmf->flags & FAULT_FLAG_UNSHARE)
		return 0;	/* UNSHARE on a non-COW mapping is a read fault */
	unsigned ret = 0;

	if (page && vma->vm_ops && vma->vm_ops->page_mkwrite) {
		/* The PTE keeps the page alive only under the PT lock: hold a reference. */
		spin_lock(&vmf->pt->ptl);
		if (!pte_same_locked(vmf)) {
			spin_unlock(&vmf->pt->ptl);
			return 0;
		}
		get_page(page);
		spin_unlock(&vmf->pt->ptl);
		vmf->page = page;
		ret = vma->vm_ops->page_mkwrite(vmf);
		if (ret & (VM_FAULT_ERROR | VM_FAULT_RETRY | VM_FAULT_NOPAGE)) {
			put_page(vmf->w, page);
			return ret & ~VM_FAULT_NOPAGE;
		}
	}
	spin_lock(&vmf->pt->ptl);
	if (pte_same_locked(vmf))
		set_pte(vmf->pte, maybe_mkwrite(pte_mkdirty(pte_mkyoung(vmf->orig_pte)), vma));
	spin_unlock(&vmf->pt->ptl);
	if (page && !PageDirty(page))
		SetPageDirty(page);
	if (ret & VM_FAULT_LOCKED)
		unlock_page(page);	/* writeback may clean it from now on */
	if (page && vma->vm_ops && vma->vm_ops->page_mkwrite)
		put_page(vmf->w, page);
	return 0;
}

static unsigned do_wp_page(struct vm_fault *vmf)
{
	struct gup_vma *vma = vmf->vma;
	struct page *page = vm_normal_page(vma, vmf->address, vmf->orig_pte);

	count_task_event(vmf->w, vmf->task, (vmf->flags & FAULT_FLAG_UNSHARE) ? GUP_STAT_FAULT_UNSHARE
								 : GUP_STAT_FAULT_WP);
	if (!(vmf->flags & FAULT_FLAG_UNSHARE) && uffd_wp_armed(vma, vmf->orig_pte))
		return handle_userfault(vmf, VM_UFFD_WP);
	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE))
		return wp_page_shared(vmf, page);
	if (!page)
		return wp_page_copy(vmf, NULL, false);	/* the zero page */
	spin_lock(&vmf->pt->ptl);
	if (!pte_same_locked(vmf)) {
		spin_unlock(&vmf->pt->ptl);
		return 0;
	}
	if (PageAnon(page) && wp_can_reuse_anon(vmf->w, page))
		return wp_page_reuse(vmf, page);	/* unlocks */
	/*
	 * A shared anon page, or a page-cache page in a private mapping: copy it.
	 * The reference is taken while the PTE still maps the page, under the PT
	 * lock; taken after the unlock it could land on a page another COW fault,
	 * an unshare or a truncate has just freed (the explorer found this with
	 * R2: the parent's store, the pin's unshare and the child's store).
	 */
	get_page(page);
	spin_unlock(&vmf->pt->ptl);
	return wp_page_copy(vmf, page, true);
}

/* ---- dispatch ---- */

static unsigned handle_pte_fault(struct vm_fault *vmf)
{
	uint64_t pte = ptep_get(vmf->pte);
	bool want_write = vmf->flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE);

	vmf->orig_pte = pte;
	if (pte_none(pte)) {
		if (uffd_missing(vmf->vma, vmf->pgoff))
			return handle_userfault(vmf, VM_UFFD_MISSING);
		if (vma_is_anonymous(vmf->vma))
			return do_anonymous_page(vmf);
		if (vma_is_shmem(vmf->vma))
			return do_shmem_fault(vmf);
		return do_file_fault(vmf);
	}
	if (!pte_present(pte) || pte_protnone(pte))
		return VM_FAULT_SIGBUS;	/* no swap yet; PROT_NONE was refused earlier */
	if (want_write && !pte_write(pte))
		return do_wp_page(vmf);
	if (vmf->flags & FAULT_FLAG_WRITE) {
		/*
		 * Spurious: writable already (a stale TLB entry); note dirty and
		 * young, if not noted yet.  Like ptep_set_access_flags, store only a
		 * change: the PTE is the same under the lock, and a store of the
		 * same value would still race with every lockless reader of it.
		 */
		uint64_t entry = pte_mkdirty(pte_mkyoung(pte));

		spin_lock(&vmf->pt->ptl);
		if (pte_same_locked(vmf) && entry != pte)
			set_pte(vmf->pte, entry);
		spin_unlock(&vmf->pt->ptl);
	}
	return 0;
}

/*
 * The PTE slot of the fault, allocating tables as needed.  The faulting task's
 * paging-structure cache usually has the PTE table already: it is still alive if
 * no shootdown happened since the task synced its TLB (tables are freed only
 * after one), and none can happen now - freeing needs the mmap lock for write.
 */
static pte_t *fault_pte_lookup(struct vm_fault *vmf)
{
	struct gup_task *t = vmf->task;

	if (t && t->mm == vmf->mm && t->pwc_tag == (vmf->address >> PMD_SHIFT) + 1 &&
	    t->tlb_gen == (uint64_t)atomic64_read(&vmf->mm->tlb_gen)) {
		vmf->pt = t->pwc_table;
		return &vmf->pt->ent[pte_index(vmf->address)];
	}
	return pte_alloc_map(vmf->mm, vmf->address, &vmf->pt);
}

unsigned handle_mm_fault(struct gup_vma *vma, uint64_t addr, unsigned flags,
			 struct gup_task *task)
{
	struct vm_fault vmf = {
		.vma = vma,
		.mm = vma->mm,
		.w = vma->mm->w,
		.address = addr & PAGE_MASK,
		.flags = flags,
		.task = task,
	};

	if ((flags & FAULT_FLAG_WRITE) && (flags & FAULT_FLAG_UNSHARE))
		return VM_FAULT_SIGBUS;		/* illegal combination (fault.h) */
	if ((flags & FAULT_FLAG_TRIED) && !(flags & FAULT_FLAG_ALLOW_RETRY))
		return VM_FAULT_SIGBUS;
	count_task_event(vmf.w, task, GUP_STAT_FAULT);
	vmf.pgoff = linear_page_index(vma, vmf.address);
	vmf.pte = fault_pte_lookup(&vmf);
	if (!vmf.pte)
		return VM_FAULT_OOM;
	return handle_pte_fault(&vmf);
}

/* The access check of the CPU's fault path: does @vma allow this access at all? */
static bool access_error(struct gup_vma *vma, bool write)
{
	if (write)
		return !(vma->vm_flags & VM_WRITE);
	return !(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC));
}

int do_user_fault(struct gup_task *t, uint64_t addr, bool write)
{
	struct gup_mm *mm = t->mm;
	unsigned flags = FAULT_FLAG_USER | FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE |
			 (write ? FAULT_FLAG_WRITE : 0);
	struct gup_vma *vma;
	unsigned ret;

retry:
	if (down_read_killable(&mm->mmap_lock, &t->fatal_signal))
		return -EINTR;
	vma = vma_lookup(mm, addr);
	if (!vma || access_error(vma, write)) {
		mmap_read_unlock(mm);
		count_task_event(t->w, t, GUP_STAT_FAULT_SIGSEGV);
		return -EFAULT;
	}
	ret = handle_mm_fault(vma, addr, flags, t);
	if (ret & VM_FAULT_COMPLETED)
		return 0;
	if (ret & VM_FAULT_RETRY) {
		/* The handler dropped the lock (e.g. to wait for I/O); try again. */
		if (read_once_bool(&t->fatal_signal))
			return -EINTR;
		flags |= FAULT_FLAG_TRIED;
		goto retry;
	}
	mmap_read_unlock(mm);
	return vm_fault_to_errno(ret, false);
}
