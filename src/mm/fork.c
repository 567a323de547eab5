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

/*
 * A copy fork decided on after sharing the page (fork_copy_how=decow, precow):
 * made with both PT locks dropped, then re-validated (fork_copy_deferred).
 */
struct fork_defer {
	struct page *page;	/* the original; the child's mapping of it counted */
	uint64_t pte;		/* the parent's PTE as fork left it (write-protected) */
	uint64_t child_pte;	/* the child's: the shared page (decow) or none (precow) */
	bool was_writable;	/* the parent's PTE was writable before fork */
	bool was_exclusive;	/* the page was the parent's alone before fork */
};

struct copy_args {
	struct gup_world *w;
	struct gup_vma *src_vma, *dst_vma;
	struct frame_arena *arena;	/* hoisted: looked up for every PTE */
	bool cow;		/* is_cow_mapping(src) */
	bool copy_pinned;	/* policy says copy maybe-pinned pages, and MMF_HAS_PINNED */
	bool copy_before;	/* the policy may copy a page before sharing it (keep) */
	bool copy_after;	/* the policy decides after sharing (fork_copy_how) */
	bool wired;		/* fork_copy=wired, and the VMA is */
	bool wrprotected;	/* some parent PTE lost write: flush needed */
	uint64_t nr_shared, nr_copied;
	int64_t rss;
	struct fork_defer defer;
};

/* What copy_present_pte did, so the loop can count in registers. */
enum {
	COPIED_ZERO = 1,	/* the zero page: nothing counted             */
	COPIED_SHARED = 2,	/* page shared COW (or a private file page)    */
	COPIED_PAGE = 4,	/* the child got its own copy (maybe pinned)  */
	COPIED_WRPROTECT = 8,	/* the parent's PTE lost write: flush needed  */
	COPIED_DEFER = 16,	/* a copy to make with the locks dropped (ca->defer) */
};

/* A copy of @page for the child, not yet visible to anyone; NULL: no frame. */
static struct page *fork_copy_frame(struct copy_args *ca, struct page *page, uint64_t addr)
{
	struct page *new = alloc_page(ca->w, GFP_MOVABLE);

	if (!new)
		return NULL;
	mem_copy_frame(page_data(ca->arena, new), page_data(ca->arena, page), PAGE_SIZE);
	/* Published by set_pte's release, as in new_anon_page. */
	page_init_private(new, (UINT64_C(1) << PG_anon) | (UINT64_C(1) << PG_uptodate),
			  PAGE_MAP_REF, addr >> PAGE_SHIFT, true);
	return new;
}

/* Map the child's copy @new at @dst (the child's PT lock held). */
static void fork_map_copy(struct copy_args *ca, pte_t *dst, struct page *new)
{
	uint64_t entry = pfn_pte(page_to_pfn(ca->arena, new), PTE_PRESENT | PTE_ACCESSED);

	entry = pte_mkdirty(entry);
	if (ca->dst_vma->vm_flags & VM_WRITE)
		entry = pte_mkwrite(entry);
	set_pte(dst, entry);
}

/* The child gets its own copy of @page (copy_present_page).  Both PT locks held. */
static int copy_present_page(struct copy_args *ca, pte_t *dst, uint64_t addr,
			     struct page *page)
{
	struct page *new = fork_copy_frame(ca, page, addr);

	if (!new)
		return -ENOMEM;
	fork_map_copy(ca, dst, new);
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

/*
 * fork_copy=pg_gup (Andrea v2, L4808-4822): a page some GUP marked, with more
 * references than mappings - an O_DIRECT transfer may be using it.  Only a
 * writable parent PTE: a R/O one was de-COWed by every GUP that took a page
 * from it (read_cow=anon).  The page lock keeps the counts stable against the
 * swap cache; a page whose lock cannot be had is copied to be safe (L4811).
 * After sharing, fork's write-protect and this test pair with gup-fast's
 * PG_gup and recheck: the caller issued smp_mb between them.
 */
static bool fork_copy_pg_gup(struct page *page, bool writable)
{
	uint64_t c;

	if (!writable || !PageGUP(page))
		return false;
	if (!trylock_page(page))
		return true;
	c = page_count_word(page);
	unlock_page(page);
	return count_ref(c) != count_map(c);
}

/* Does the policy give the child a copy of the anon page @page? */
static bool fork_wants_copy(const struct copy_args *ca, struct page *page, bool exclusive,
			    bool writable)
{
	switch (ca->w->policy->fork_copy) {
	case FORK_COPY_MAYBE_PINNED:
		return fork_copy_maybe_pinned(ca, page, exclusive);
	case FORK_COPY_PG_GUP:
		return fork_copy_pg_gup(page, writable);
	case FORK_COPY_DONTCOW:
		/* Nick v3: copy_one_pte returns 1 for it (L5531-5532). */
		return PageDontCOW(page);
	case FORK_COPY_WIRED:
		/* FreeBSD vm_map_copy_entry: "wired down pages can't be set copy-on-write" */
		return ca->wired;
	default:
		return false;
	}
}

/*
 * Share @page COW with the child: its mapping counted (one atomic), a writable
 * parent PTE write-protected.  Returns the parent's PTE as it is now.
 */
static inline __attribute__((always_inline)) uint64_t
share_page(struct copy_args *ca, pte_t *src, uint64_t pte, struct page *page, int *done)
{
	page_add_map_ref(page);
	if (ca->cow && pte_write(pte)) {
		ptep_set_wrprotect(src, pte);
		pte = pte_wrprotect(pte);
		*done |= COPIED_WRPROTECT;
	}
	return pte;
}

/* The child's PTE for a page shared COW: old, and never uffd-wp (dup_userfaultfd). */
static inline uint64_t pte_for_child(uint64_t parent)
{
	return pte_mkold(parent) & ~PTE_UFFD_WP;
}

/*
 * Share @page COW with the child, then ask the policy: COPIED_DEFER with
 * ca->defer filled in if the child is to get a copy.  precow (Andrea's
 * forcecow, L4824-4837): smp_mb before the test, then flush_tlb_page, and the
 * child's PTE is left empty.  decow (Nick v3, L5531-5532): the child's PTE maps
 * the shared page until decow_one_pte replaces it; no barrier, no flush.  Both
 * PT locks held.
 */
static int share_then_decide(struct copy_args *ca, pte_t *dst, uint64_t pte, uint64_t addr,
			     struct page *page, bool exclusive, int done)
{
	bool precow = ca->w->policy->fork_copy_how == FORK_HOW_PRECOW;
	bool writable = done & COPIED_WRPROTECT;
	uint64_t child = pte_for_child(pte);

	if (precow)
		smp_mb();	/* the write-protect before PG_gup and the counts (L4810) */
	if (!fork_wants_copy(ca, page, exclusive, writable)) {
		set_pte(dst, child);
		return done;
	}
	if (precow)	/* the copy must be atomic against the parent's threads (L4831) */
		flush_tlb_page(ca->src_vma->mm, addr);
	else
		set_pte(dst, child);
	ca->defer = (struct fork_defer){ .page = page, .pte = pte,
					 .child_pte = precow ? 0 : child,
					 .was_writable = writable, .was_exclusive = exclusive };
	return (done & COPIED_WRPROTECT) | COPIED_DEFER;
}

/*
 * copy_present_pte where the policy may copy this VMA's pages for the child
 * (ca->copy_before, ca->copy_after): out of line, so that the common fork pays
 * nothing for it.
 */
static __attribute__((noinline)) int
copy_present_pte_policy(struct copy_args *ca, pte_t *dst, pte_t *src, uint64_t pte,
			uint64_t addr, struct page *page)
{
	bool anon = PageAnon(page), exclusive = false;
	int done = COPIED_SHARED;

	if (anon) {
		exclusive = PageAnonExclusive(page);
		if (ca->copy_before && fork_wants_copy(ca, page, exclusive, pte_write(pte)))
			return copy_present_page(ca, dst, addr, page);
		if (exclusive)
			ClearPageAnonExclusive(page);	/* about to be mapped twice */
	}
	pte = share_page(ca, src, pte, page, &done);
	if (ca->copy_after && anon)
		return share_then_decide(ca, dst, pte, addr, page, exclusive, done);
	set_pte(dst, pte_for_child(pte));
	return done;
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
	if (unlikely(ca->copy_before | ca->copy_after))
		return copy_present_pte_policy(ca, dst, src, pte, addr, page);
	if (PageAnon(page) && PageAnonExclusive(page))
		ClearPageAnonExclusive(page);	/* about to be mapped twice */
	set_pte(dst, pte_for_child(share_page(ca, src, pte, page, &done)));
	return done;
}

/*
 * Undo what share_then_decide did: the child's mapping of @d->page goes, the
 * parent's PTE at @src is as it was before fork if it still maps the page.  Both
 * PT locks held.
 */
static void fork_defer_undo(struct copy_args *ca, pte_t *src, pte_t *dst,
			    struct fork_defer *d)
{
	uint64_t now = ptep_get(src);

	if (d->child_pte && ptep_get(dst) == d->child_pte)
		set_pte(dst, 0);	/* the child has no task: nothing to flush */
	page_remove_rmap(d->page);
	put_page(ca->w, d->page);	/* never the last: the parent maps it */
	if (pte_present(now) && pte_pfn(now) == pte_pfn(d->pte)) {
		if (d->was_exclusive)
			SetPageAnonExclusive(d->page);
		if (d->was_writable)
			set_pte(src, pte_mkwrite(now));
	}
}

/*
 * Did the PTEs stay as share_then_decide left them while the locks were
 * dropped?  precow re-checks both (fork_pre_cow, L5142-5150), decow the child's
 * (decow_one_pte, L5466-5468).
 */
static bool fork_defer_valid(const struct copy_args *ca, pte_t *src, pte_t *dst,
			     const struct fork_defer *d)
{
	if (ptep_get(dst) != d->child_pte)
		return false;
	return ca->w->policy->fork_copy_how != FORK_HOW_PRECOW || ptep_get(src) == d->pte;
}

/*
 * The copy share_then_decide asked for, made with both PT locks dropped (an
 * allocation may wait, in Linux), then re-validated: if a PTE changed meanwhile,
 * undo and let the caller look at this PTE again (-EAGAIN).  Else the child maps
 * the copy instead of the page.  precow (fork_pre_cow, L5102-5175): the parent's
 * PTE is writable again, so the parent keeps the page a transfer is using
 * (L2301-2304); gaining write needs no flush.  decow (decow_one_pte,
 * L5417-5500): the parent's PTE stays write-protected, and its next write
 * reuses the page, mapped once again (L2224-2228).  Unlike the patches, an
 * allocation failure undoes the child's mapping count and the parent's
 * write-protect (seed004 1.15 [obs]).  Returns COPIED_* or -errno, both locks
 * held again.
 */
static int fork_copy_deferred(struct copy_args *ca, struct pgtable *src_pt,
			      struct pgtable *dst_pt, uint64_t addr)
{
	pte_t *src = &src_pt->ent[pte_index(addr)], *dst = &dst_pt->ent[pte_index(addr)];
	struct fork_defer *d = &ca->defer;
	struct page *new;

	spin_unlock(&dst_pt->ptl);
	spin_unlock(&src_pt->ptl);
	new = fork_copy_frame(ca, d->page, addr);
	spin_lock(&src_pt->ptl);
	spin_lock(&dst_pt->ptl);
	if (!new || !fork_defer_valid(ca, src, dst, d)) {
		fork_defer_undo(ca, src, dst, d);
		if (!new)
			return -ENOMEM;
		page_init_private(new, 0, 0, 0, false);
		free_frame(ca->w, new);
		return -EAGAIN;
	}
	page_remove_rmap(d->page);	/* the child maps the copy instead */
	put_page(ca->w, d->page);
	fork_map_copy(ca, dst, new);
	if (d->was_exclusive)
		SetPageAnonExclusive(d->page);
	if (d->was_writable && ca->w->policy->fork_copy_how == FORK_HOW_PRECOW)
		set_pte(src, pte_mkwrite(d->pte));
	return COPIED_PAGE;
}

/* The one atomic per shared page lands on its struct page: see prefetch_pte_page. */
#define FORK_PREFETCH_AHEAD	16

/*
 * Copy the PTEs of [*addr, end), both PT locks held, until the end or until a
 * copy has to be made with the locks dropped (COPIED_DEFER, *addr at its PTE).
 * Counts go to @ca.  Returns 0, COPIED_DEFER or -ENOMEM.
 */
static int copy_pte_run(struct copy_args *ca, struct pgtable *src_pt, struct pgtable *dst_pt,
			uint64_t *addrp, uint64_t end)
{
	uint64_t addr = *addrp, nr_shared = 0, nr_copied = 0;
	unsigned i = pte_index(addr), last = pte_index(end - 1);
	int64_t rss = 0;
	int ret = 0, all = 0;

	for (; i <= last; i++, addr += PAGE_SIZE) {
		uint64_t pte = ptep_get(&src_pt->ent[i]);

		if (i + FORK_PREFETCH_AHEAD <= last)
			prefetch_pte_page(ca->arena->pages, &src_pt->ent[i + FORK_PREFETCH_AHEAD]);
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
		if (ret & COPIED_DEFER)
			break;
		rss += !(ret & COPIED_ZERO);
		nr_shared += !!(ret & COPIED_SHARED);
		nr_copied += !!(ret & COPIED_PAGE);
	}
	ca->rss += rss;
	ca->nr_shared += nr_shared;
	ca->nr_copied += nr_copied;
	ca->wrprotected |= all & COPIED_WRPROTECT;
	*addrp = addr;
	return ret < 0 ? ret : (all & COPIED_DEFER);
}

static int copy_pte_table(struct pgtable *src_pt, uint64_t addr, uint64_t end, void *arg)
{
	struct copy_args *ca = arg;
	struct gup_mm *dst_mm = ca->dst_vma->mm;
	struct pgtable *dst_pt;
	int ret;

	if (!pte_alloc_map(dst_mm, addr, &dst_pt))
		return -ENOMEM;
	ca->rss = 0;
	spin_lock(&src_pt->ptl);
	spin_lock(&dst_pt->ptl);	/* lock order: parent's table, then the child's */
	while ((ret = copy_pte_run(ca, src_pt, dst_pt, &addr, end)) == COPIED_DEFER) {
		ret = fork_copy_deferred(ca, src_pt, dst_pt, addr);
		if (ret == -EAGAIN)
			continue;		/* look at this PTE again */
		if (ret < 0)
			break;
		ca->rss++;
		ca->nr_copied++;
		addr += PAGE_SIZE;
		if (addr == end)
			break;
	}
	spin_unlock(&dst_pt->ptl);
	spin_unlock(&src_pt->ptl);
	add_mm_rss(dst_mm, ca->rss);
	cond_resched();
	return ret < 0 ? ret : 0;
}

/*
 * Which of the per-page questions this VMA needs at all: fork asks nothing of a
 * page unless the policy could copy it here - the common fork of an mm that
 * never pinned does no more per page than 2.6.29's.
 */
static void fork_copy_mode(struct copy_args *ca)
{
	const struct gup_policy *pol = ca->w->policy;
	bool maybe;

	switch (pol->fork_copy) {
	case FORK_COPY_MAYBE_PINNED:
		maybe = ca->copy_pinned;
		break;
	case FORK_COPY_WIRED:
		maybe = ca->wired;
		break;
	case FORK_COPY_NONE:
		maybe = false;
		break;
	default:
		maybe = ca->cow;
		break;
	}
	ca->copy_after = maybe && ca->cow && pol->fork_copy_how != FORK_HOW_KEEP;
	ca->copy_before = maybe && !ca->copy_after;
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
	ca.wired = ca.cow && vma_wired(src_vma);
	fork_copy_mode(&ca);
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
		if (vma_wired(tmp))	/* FreeBSD: new_entry->wired_count = 0 */
			write_once_bool(&tmp->wired, false);
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

/*
 * KOSAKI's fork side (policy fork_lock, L8797-8813): wait until no O_DIRECT of
 * the parent holds its pages, and keep new ones out until the copy is done.
 * Counted when it had to wait: the fork-blocking cost of R13.
 */
static bool fork_exclude_io(struct gup_mm *oldmm)
{
	if (oldmm->w->policy->fork_lock == FORK_LOCK_NONE)
		return false;
	if (!down_write_trylock(&oldmm->mm_pinned_sem)) {
		count_vm_event(oldmm->w, GUP_STAT_FORK_IO_WAIT);
		down_write(&oldmm->mm_pinned_sem);
	}
	return true;
}

int dup_mm(struct gup_mm *oldmm, struct gup_mm **out)
{
	struct gup_mm *mm = mm_alloc(oldmm->w);
	bool wrprotected = false, excluded;
	int ret;

	if (!mm)
		return -ENOMEM;
	excluded = fork_exclude_io(oldmm);
	mmap_write_lock(oldmm);
	mmap_write_lock(mm);	/* nobody can see it yet; taken for the assertions' sake */
	mm->mmap_base = oldmm->mmap_base;
	ret = dup_mmap(mm, oldmm, &wrprotected);
	/* One flush for the whole fork: stale writable entries die here. */
	if (wrprotected)
		flush_tlb_mm(oldmm);
	mmap_write_unlock(mm);
	mmap_write_unlock(oldmm);
	if (excluded)
		up_write(&oldmm->mm_pinned_sem);
	if (ret) {
		mmput(mm);	/* tears down whatever was copied */
		return ret;
	}
	count_vm_event(oldmm->w, GUP_STAT_FORK);
	*out = mm;
	return 0;
}
