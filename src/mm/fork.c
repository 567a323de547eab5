/* SPDX-License-Identifier: MIT */
/*
 * src/mm/fork.c - dup_mm: the child's address space, copy_page_range.
 *
 * Only the calling task is copied (the child mm gets one task).  Both mmap locks
 * are held for write (parent's first), so no fault or slow GUP runs in either mm
 * while PTEs are copied; other parent tasks can still store through writable
 * TLB entries and gup-fast can still walk, until the single flush at the end
 * (seed004 1.10, L619-622: "a single IPI in the common case").
 *
 * Per present PTE of a private mapping:
 *   - the zero page is copied as is (special, R/O);
 *   - the policy may copy a page for the child at once: linux-6.x copies an
 *     exclusive anon page that may be DMA-pinned (linux_anchor 1.12), leaving the
 *     parent's PTE and page untouched - the pin stays coherent with the parent;
 *   - otherwise the page is shared: exclusivity cleared, one atomic for
 *     mapcount+refcount, both PTEs write-protected.
 * The copy is bracketed by mm->write_protect_seq so that a concurrent gup-fast
 * FOLL_PIN backs off instead of pinning a page that is becoming shared.
 */
#include "mm/fault.h"
#include "mm/userfaultfd.h"
#include "world.h"

struct copy_args {
	struct gup_world *w;
	struct gup_vma *src_vma, *dst_vma;
	struct frame_arena *arena;	/* hoisted: looked up for every PTE */
	bool cow;		/* is_cow_mapping(src) */
	bool copy_pinned;	/* policy says copy maybe-pinned pages, and MMF_HAS_PINNED */
	bool wrprotected;	/* some parent PTE lost write: flush needed */
	uint64_t nr_shared, nr_copied;
};

/* The child gets its own copy of @page (copy_present_page).  Both PT locks held. */
/* What copy_present_pte did, so the loop can count in registers. */
enum {
	COPIED_ZERO = 1,	/* the zero page: nothing counted             */
	COPIED_SHARED = 2,	/* page shared COW (or a private file page)    */
	COPIED_PAGE = 4,	/* the child got its own copy (maybe pinned)  */
	COPIED_WRPROTECT = 8,	/* the parent's PTE lost write: flush needed  */
};

/* The child gets its own copy of @page (copy_present_page).  Both PT locks held. */
static int copy_present_page(struct copy_args *ca, pte_t *dst, uint64_t addr,
			     struct page *page)
{
	struct gup_world *w = ca->dst_vma->mm->w;
	struct page *new = alloc_page(w, GFP_MOVABLE);
	uint64_t entry;

	if (!new)
		return -ENOMEM;
	mem_copy_frame(page_data(ca->arena, new), page_data(ca->arena, page), PAGE_SIZE);
	/* Published by set_pte's release, as in new_anon_page. */
	page_init_private(new, (UINT64_C(1) << PG_anon) | (UINT64_C(1) << PG_uptodate),
			  PAGE_MAP_REF, addr >> PAGE_SHIFT, true);
	entry = pfn_pte(page_to_pfn(ca->arena, new), PTE_PRESENT | PTE_ACCESSED);
	entry = pte_mkdirty(entry);
	if (ca->dst_vma->vm_flags & VM_WRITE)
		entry = pte_mkwrite(entry);
	set_pte(dst, entry);
	return COPIED_PAGE;
}

/*
 * fork_copy=maybe_pinned (5.9+, gVisor): a page that may be DMA-pinned in an mm
 * that has ever pinned.  Where exclusivity decides reuse only an exclusive page
 * can be pinned (a shared one is unshared first), so only those are looked at;
 * 5.9's page_needs_cow_for_dma had no exclusivity to look at.
 */
static bool fork_copy_maybe_pinned(const struct copy_args *ca, struct page *page,
				   bool exclusive)
{
	if (!ca->copy_pinned)
		return false;
	if (!exclusive && ca->w->policy->reuse == REUSE_ANON_EXCLUSIVE)
		return false;
	return page_maybe_dma_pinned(page);
}

/* Copy one present PTE.  Both PT locks held.  COPIED_* bits, or -ENOMEM. */
static int copy_present_pte(struct copy_args *ca, pte_t *dst, pte_t *src, uint64_t pte,
			    uint64_t addr)
{
	struct page *page;
	int done = COPIED_SHARED;

	/* The child is never uffd-wp registered (dup_userfaultfd): no markers there. */
	if (pte_special(pte)) {		/* zero page: nothing to count */
		set_pte(dst, pte & ~PTE_UFFD_WP);
		return COPIED_ZERO;
	}
	page = pfn_to_page(ca->arena, pte_pfn(pte));	/* vm_normal_page */
	if (PageAnon(page)) {
		bool exclusive = PageAnonExclusive(page);

		if (fork_copy_maybe_pinned(ca, page, exclusive))
			return copy_present_page(ca, dst, addr, page);
		if (exclusive)
			ClearPageAnonExclusive(page);	/* about to be mapped twice */
	}
	page_add_map_ref(page);
	if (ca->cow && pte_write(pte)) {
		ptep_set_wrprotect(src, pte);
		pte = pte_wrprotect(pte);
		done |= COPIED_WRPROTECT;
	}
	set_pte(dst, pte_mkold(pte) & ~PTE_UFFD_WP);
	return done;
}

/* The one atomic per shared page lands on its struct page: see prefetch_pte_page. */
#define FORK_PREFETCH_AHEAD	16

static int copy_pte_table(struct pgtable *src_pt, uint64_t addr, uint64_t end, void *arg)
{
	struct copy_args *ca = arg;
	struct gup_mm *dst_mm = ca->dst_vma->mm;
	unsigned i = pte_index(addr), last = pte_index(end - 1);
	uint64_t nr_shared = 0, nr_copied = 0;
	struct pgtable *dst_pt;
	int64_t rss = 0;
	int ret = 0, all = 0;

	if (!pte_alloc_map(dst_mm, addr, &dst_pt))
		return -ENOMEM;
	spin_lock(&src_pt->ptl);
	spin_lock(&dst_pt->ptl);	/* lock order: parent's table, then the child's */
	for (; i <= last; i++, addr += PAGE_SIZE) {
		uint64_t pte = ptep_get(&src_pt->ent[i]);

		if (i + FORK_PREFETCH_AHEAD <= last)
			prefetch_pte_page(ca->arena, &src_pt->ent[i + FORK_PREFETCH_AHEAD]);
		if (pte_none(pte))
			continue;
		if (!pte_present(pte)) {
			set_pte(&dst_pt->ent[i], pte);	/* swap entries (later) */
			continue;
		}
		ret = copy_present_pte(ca, &dst_pt->ent[i], &src_pt->ent[i], pte, addr);
		if (ret < 0)
			break;
		all |= ret;
		rss += !(ret & COPIED_ZERO);
		nr_shared += !!(ret & COPIED_SHARED);
		nr_copied += !!(ret & COPIED_PAGE);
	}
	spin_unlock(&dst_pt->ptl);
	spin_unlock(&src_pt->ptl);
	add_mm_rss(dst_mm, rss);
	ca->nr_shared += nr_shared;
	ca->nr_copied += nr_copied;
	ca->wrprotected |= all & COPIED_WRPROTECT;
	cond_resched();
	return ret < 0 ? ret : 0;
}

static int copy_page_range(struct gup_vma *dst_vma, struct gup_vma *src_vma,
			   bool *wrprotected)
{
	struct gup_mm *src_mm = src_vma->mm;
	struct gup_world *w = src_mm->w;
	struct copy_args ca = {
		.w = w,
		.src_vma = src_vma,
		.dst_vma = dst_vma,
		.arena = &w->arena,
		.cow = is_cow_mapping(src_vma->vm_flags),
	};
	int ret;

	if (ca.cow)
		raw_write_seqcount_begin(&src_mm->write_protect_seq);
	/*
	 * MMF_HAS_PINNED is read only now, inside the write-protect section.  gup-fast
	 * sets the flag, then reads the sequence; fork bumps the sequence, then reads
	 * the flag: with a full barrier on each side (set_bit's RMW, this smp_mb) one
	 * of them sees the other - gup-fast backs off, or fork copies the page.  Read
	 * before the section, a pin could land between the read and the copy and fork
	 * would share a pinned page: the explorer found that (R1 on linux-6.x, three
	 * executions at preemption bound 2).
	 */
	smp_mb();
	ca.copy_pinned = w->policy->fork_copy == FORK_COPY_MAYBE_PINNED &&
			 test_bit(MMF_HAS_PINNED, &src_mm->flags);
	ret = walk_pte_tables(src_mm, vma_start(src_vma), vma_end(src_vma),
			      copy_pte_table, &ca);
	if (ca.cow)
		raw_write_seqcount_end(&src_mm->write_protect_seq);
	*wrprotected |= ca.wrprotected;
	count_vm_events(w, GUP_STAT_FORK_PTE_SHARED, ca.nr_shared);
	count_vm_events(w, GUP_STAT_FORK_PAGE_COPIED, ca.nr_copied);
	return ret;
}

/* Does fork copy the PTEs of @vma?  Shared mappings fault in again in the child. */
static bool vma_needs_copy(const struct gup_vma *vma)
{
	return !(vma->vm_flags & VM_SHARED);
}

static int dup_mmap(struct gup_mm *mm, struct gup_mm *oldmm, bool *wrprotected)
{
	struct gup_vma *vma, *tmp;
	int ret;

	for (vma = node_vma(vma_tree_first(&oldmm->vmas)); vma; vma = vma_next(vma)) {
		if (vma->vm_flags & VM_DONTCOPY)
			continue;	/* MADV_DONTFORK: the child has a hole here */
		tmp = vma_dup(mm, vma);
		if (!tmp)
			return -ENOMEM;
		dup_userfaultfd(tmp);
		ret = vma_link(mm, tmp);
		if (ret) {
			vma_free(tmp);
			return ret;
		}
		if (vma->vm_flags & VM_WIPEONFORK)
			continue;	/* the child starts with fresh zero-fill memory */
		if (vma_needs_copy(vma)) {
			ret = copy_page_range(tmp, vma, wrprotected);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int dup_mm(struct gup_mm *oldmm, struct gup_mm **out)
{
	struct gup_mm *mm = mm_alloc(oldmm->w);
	bool wrprotected = false;
	int ret;

	if (!mm)
		return -ENOMEM;
	mmap_write_lock(oldmm);
	mmap_write_lock(mm);	/* nobody can see it yet; taken for the assertions' sake */
	mm->mmap_base = oldmm->mmap_base;
	ret = dup_mmap(mm, oldmm, &wrprotected);
	/* One flush for the whole fork: stale writable entries die here. */
	if (wrprotected)
		flush_tlb_mm(oldmm);
	mmap_write_unlock(mm);
	mmap_write_unlock(oldmm);
	if (ret) {
		mmput(mm);	/* tears down whatever was copied */
		return ret;
	}
	count_vm_event(oldmm->w, GUP_STAT_FORK);
	*out = mm;
	return 0;
}
