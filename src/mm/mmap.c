/* SPDX-License-Identifier: MIT */
/*
 * src/mm/mmap.c - mmap, munmap, mprotect, madvise: the VMA-range system calls.
 *
 * Each takes the mmap lock for write (madvise's DONTNEED and POPULATE take it for
 * read, as Linux does), splits VMAs at the range's edges, works on the VMAs inside,
 * and merges what became compatible.  Pages and tables are released through an
 * mmu_gather only after the TLB shootdown.
 */
#include "mm/fault.h"
#include "mm/filemap.h"
#include "mm/userfaultfd.h"
#include "world.h"
#include "debug.h"

static uint64_t page_align(uint64_t len)
{
	return (len + PAGE_SIZE - 1) & PAGE_MASK;
}

/* [start, start+len) page-aligned, non-empty, inside the user address space. */
static int check_range(uint64_t start, uint64_t len, uint64_t *end)
{
	if (start & ~PAGE_MASK)
		return -EINVAL;
	if (len > GUP_TASK_SIZE)
		return -EINVAL;
	*end = start + page_align(len);
	if (*end > GUP_TASK_SIZE || *end < start)
		return -EINVAL;
	return 0;
}

static uint32_t prot_to_vm_flags(int prot)
{
	return ((prot & GUP_PROT_READ) ? VM_READ : 0) |
	       ((prot & GUP_PROT_WRITE) ? VM_WRITE : 0) |
	       ((prot & GUP_PROT_EXEC) ? VM_EXEC : 0);
}

/* Split so that a VMA boundary lies at @addr (if a VMA spans it).  mmap lock (w). */
static int split_at(struct gup_mm *mm, uint64_t addr)
{
	struct gup_vma *vma = vma_lookup(mm, addr), *upper;

	if (!vma || vma_start(vma) == addr)
		return 0;
	return split_vma(vma, addr, &upper);
}

/* Is [start, end) fully covered by VMAs? */
static bool range_is_mapped(struct gup_mm *mm, uint64_t start, uint64_t end)
{
	struct gup_vma *vma = find_vma(mm, start);

	for (uint64_t cur = start; cur < end; vma = vma_next(vma)) {
		if (!vma || vma_start(vma) > cur)
			return false;
		cur = vma_end(vma);
	}
	return true;
}

/* ---- munmap ---- */

/* Remove every mapping in [start, end).  mmap lock held for write. */
static int munmap_locked(struct gup_mm *mm, uint64_t start, uint64_t end)
{
	struct gup_vma *vma, *next, *prev, *doomed = NULL;
	struct mmu_gather tlb;
	uint64_t floor, ceiling;
	int ret;

	if (!node_vma(vma_tree_find_intersection(&mm->vmas, start, end)))
		return 0;
	ret = split_at(mm, start);
	if (!ret)
		ret = split_at(mm, end);
	if (ret)
		return ret;

	tlb_gather_mmu(&tlb, mm);
	for (vma = find_vma(mm, start); vma && vma_start(vma) < end; vma = next) {
		next = vma_next(vma);
		zap_page_range(&tlb, vma, vma_start(vma), vma_end(vma));
		unlink_file_vma(vma);	/* before free_pgtables: truncate walks its tables */
		/* Waiters retry after we unlock and find no VMA (-EFAULT), not a hang. */
		userfaultfd_unmap(vma);
		vma_unlink(mm, vma);
		vma->doomed_next = doomed;	/* freed after the flush */
		doomed = vma;
	}
	/* The neighbours bound which page tables may go (free_pgtables). */
	next = find_vma(mm, start);
	prev = next ? node_vma(vma_tree_prev(&next->node)) : node_vma(vma_tree_last(&mm->vmas));
	floor = prev ? vma_end(prev) : 0;
	ceiling = next ? vma_start(next) : GUP_TASK_SIZE;
	free_pgtables(&tlb, start, end, floor, ceiling);
	tlb_finish_mmu(&tlb);
	while (doomed) {
		vma = doomed;
		doomed = vma->doomed_next;
		vma_free(vma);
	}
	return 0;
}

int do_munmap(struct gup_mm *mm, uint64_t start, uint64_t len)
{
	uint64_t end;
	int ret = check_range(start, len, &end);

	if (ret)
		return ret;
	if (!len)
		return -EINVAL;
	mmap_write_lock(mm);
	ret = munmap_locked(mm, start, end);
	mmap_write_unlock(mm);
	return ret;
}

/* ---- mmap ---- */

/* A free gap of @len bytes: @hint if it fits, else top-down below mmap_base. */
static uint64_t get_unmapped_area(struct gup_mm *mm, uint64_t hint, uint64_t len)
{
	uint64_t cand;

	if (hint && !(hint & ~PAGE_MASK) && hint >= GUP_MMAP_MIN &&
	    hint + len <= GUP_TASK_SIZE && hint + len > hint &&
	    !vma_tree_find_intersection(&mm->vmas, hint, hint + len))
		return hint;
	if (len > mm->mmap_base - GUP_MMAP_MIN)
		return 0;
	cand = mm->mmap_base - len;
	for (;;) {
		struct vma_node *n = vma_tree_find_intersection(&mm->vmas, cand, cand + len);

		if (!n)
			return cand;
		if (n->start < GUP_MMAP_MIN + len)
			return 0;
		cand = n->start - len;
	}
}

static int mmap_region(struct gup_mm *mm, uint64_t addr, uint64_t len, int prot,
		       int flags, struct gup_file *file, uint64_t pgoff, struct gup_vma **out)
{
	struct gup_vma *vma = vma_alloc(mm);
	bool shared = flags & GUP_MAP_SHARED;
	int ret;

	if (!vma)
		return -ENOMEM;
	vma->node.start = addr;
	vma->node.end = addr + len;
	vma->vm_flags = prot_to_vm_flags(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
	if (file) {
		if (shared)
			vma->vm_flags |= VM_SHARED | VM_MAYSHARE;
		vma->pgoff = pgoff;
		vma->vm_private = file;
		if (file->flags & GUP_FILE_DAX) {
			vma->vm_ops = &dax_vm_ops;
			vma->vm_flags |= VM_FSDAX;
		} else {
			vma->vm_ops = (file->flags & GUP_FILE_MEMFD) ? &memfd_vm_ops
								     : &filemap_vm_ops;
		}
		vma->vm_ops->open(vma);	/* a file reference, and onto i_mmap */
	} else if (shared) {
		vma->vm_flags |= VM_SHARED | VM_MAYSHARE;
		vma->shmem = shmem_obj_create(mm->w, len >> PAGE_SHIFT);
		if (!vma->shmem) {
			vma_free(vma);
			return -ENOMEM;
		}
	} else {
		vma->pgoff = addr >> PAGE_SHIFT;	/* anon: pgoff is the page's vaddr */
	}
	ret = vma_link(mm, vma);
	GUP_BUG_ON(ret, "mmap_region: area not free");
	*out = vma_merge_neighbours(vma);
	return 0;
}

#define MAP_KNOWN_FLAGS	(GUP_MAP_SHARED | GUP_MAP_PRIVATE | GUP_MAP_FIXED | \
			 GUP_MAP_ANONYMOUS | GUP_MAP_POPULATE | GUP_MAP_FIXED_NOREPLACE)

static int mmap_check_args(uint64_t addr, uint64_t len, int prot, int flags, bool has_file)
{
	int type = flags & (GUP_MAP_SHARED | GUP_MAP_PRIVATE);

	if (!len || len > GUP_TASK_SIZE || (prot & ~(GUP_PROT_READ | GUP_PROT_WRITE | GUP_PROT_EXEC)))
		return -EINVAL;
	if ((flags & ~MAP_KNOWN_FLAGS) || (type != GUP_MAP_SHARED && type != GUP_MAP_PRIVATE))
		return -EINVAL;
	if (!(flags & GUP_MAP_ANONYMOUS) != has_file)
		return has_file ? -EINVAL : -EBADF;	/* files come through gup_mmap_file */
	if (flags & (GUP_MAP_FIXED | GUP_MAP_FIXED_NOREPLACE)) {
		if (addr & ~PAGE_MASK)
			return -EINVAL;
		if (addr + page_align(len) > GUP_TASK_SIZE || addr + page_align(len) < addr)
			return -ENOMEM;
		if (addr < GUP_MMAP_MIN)
			return -EPERM;
	}
	return 0;
}

int do_mmap(struct gup_mm *mm, uint64_t addr, uint64_t len, int prot, int flags,
	    uint64_t *out)
{
	return do_mmap_file(mm, addr, len, prot, flags, NULL, 0, out);
}

int do_mmap_file(struct gup_mm *mm, uint64_t addr, uint64_t len, int prot, int flags,
		 struct gup_file *file, uint64_t off, uint64_t *out)
{
	struct gup_vma *vma;
	int ret = mmap_check_args(addr, len, prot, flags, file != NULL);

	if (ret)
		return ret;
	len = page_align(len);
	if (file && ((off & ~PAGE_MASK) || off + len < off || (off + len) >> PAGE_SHIFT >
						      file_nr_slots(file)))
		return -EINVAL;	/* past the file's extent: no page could ever be there */
	mmap_write_lock(mm);
	if (flags & GUP_MAP_FIXED_NOREPLACE) {
		ret = vma_tree_find_intersection(&mm->vmas, addr, addr + len) ? -EEXIST : 0;
	} else if (flags & GUP_MAP_FIXED) {
		ret = munmap_locked(mm, addr, addr + len);
	} else {
		addr = get_unmapped_area(mm, addr, len);
		ret = addr ? 0 : -ENOMEM;
	}
	if (!ret)
		ret = mmap_region(mm, addr, len, prot, flags, file, off >> PAGE_SHIFT, &vma);
	mmap_write_unlock(mm);
	if (ret)
		return ret;
	*out = addr;
	if (flags & GUP_MAP_POPULATE) {
		/* Best effort, as mm_populate: mmap itself has succeeded. */
		mmap_read_lock(mm);
		vma = vma_lookup(mm, addr);
		if (vma && (vma->vm_flags & (VM_READ | VM_WRITE)))
			populate_vma_range(vma, addr, addr + len,
					   (vma->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE);
		mmap_read_unlock(mm);
	}
	return 0;
}

/* ---- mprotect ---- */

struct prot_args {
	struct gup_vma *vma;
	uint32_t newflags;
	bool try_writable;
	bool need_flush;
};

/* The new PTE under @newflags (change_pte_range's per-entry rule). */
static uint64_t change_pte(struct prot_args *pa, uint64_t addr, uint64_t pte)
{
	uint64_t new = pte;
	struct page *page;

	if (!(pa->newflags & VM_ACCESS_FLAGS))
		return (pte & ~(PTE_PRESENT | PTE_WRITE)) | PTE_PROTNONE;
	if (pte_protnone(new))
		new = (new & ~PTE_PROTNONE) | PTE_PRESENT;
	if (!(pa->newflags & VM_WRITE))
		return pte_wrprotect(new);
	/* A uffd-wp armed PTE stays R/O: the write must reach the handler. */
	if (pte_write(new) || !pa->try_writable || (new & PTE_UFFD_WP))
		return new;
	/* can_change_pte_writable: exclusive anon pages, or dirty shared pages. */
	if (pa->newflags & VM_SHARED)
		return pte_dirty(new) ? pte_mkwrite(new) : new;
	page = vm_normal_page(pa->vma, addr, new);
	if (page && PageAnon(page) && PageAnonExclusive(page))
		return pte_mkwrite(new);
	return new;
}

static int change_pte_table(struct pgtable *pt, uint64_t addr, uint64_t end, void *arg)
{
	struct prot_args *pa = arg;

	spin_lock(&pt->ptl);
	for (; addr != end; addr += PAGE_SIZE) {
		pte_t *ptep = &pt->ent[pte_index(addr)];
		uint64_t pte = ptep_get(ptep), new;

		if (!pte_present(pte))
			continue;
		/* cmpxchg: the walker may set A/D meanwhile; keep its update. */
		do {
			new = change_pte(pa, addr, pte);
		} while (new != pte && !try_cmpxchg_u64(ptep, &pte, new));
		if ((pte_write(pte) && !pte_write(new)) ||
		    (pte_accessible(pte) && !pte_accessible(new)))
			pa->need_flush = true;
	}
	spin_unlock(&pt->ptl);
	return 0;
}

static void change_protection(struct gup_vma *vma, uint32_t newflags)
{
	struct gup_mm *mm = vma->mm;
	struct prot_args pa = {
		.vma = vma,
		.newflags = newflags,
		.try_writable = mm->w->policy->mprotect_try_writable,
	};

	walk_pte_tables(mm, vma_start(vma), vma_end(vma), change_pte_table, &pa);
	if (pa.need_flush)
		flush_tlb_range(mm, vma_start(vma), vma_end(vma));
}

int vma_apply_range(struct gup_mm *mm, uint64_t start, uint64_t end,
		    void (*fn)(struct gup_vma *vma, void *arg), void *arg)
{
	struct gup_vma *vma, *next;
	int ret;

	ret = split_at(mm, start);
	if (!ret)
		ret = split_at(mm, end);
	if (ret)
		return ret;
	for (vma = find_vma(mm, start); vma && vma_start(vma) < end; vma = next) {
		next = vma_next(vma);
		fn(vma, arg);
	}
	/* Merge afterwards, over the whole range plus its neighbours. */
	for (vma = find_vma(mm, start ? start - 1 : 0); vma && vma_start(vma) <= end; vma = next) {
		vma = vma_merge_neighbours(vma);
		next = vma_next(vma);
	}
	return 0;
}

/*
 * Apply @fn to every VMA of [start, end) after splitting at the edges; the range
 * must be fully mapped (else -ENOMEM).  mmap lock held for write.
 */
static int for_each_vma_split(struct gup_mm *mm, uint64_t start, uint64_t end,
			      void (*fn)(struct gup_vma *vma, void *arg), void *arg)
{
	if (!range_is_mapped(mm, start, end))
		return -ENOMEM;
	return vma_apply_range(mm, start, end, fn, arg);
}

static void mprotect_one(struct gup_vma *vma, void *arg)
{
	uint32_t newflags = (vma->vm_flags & ~VM_ACCESS_FLAGS) | *(uint32_t *)arg;

	vma->vm_flags = newflags;
	change_protection(vma, newflags);
}

int do_mprotect(struct gup_mm *mm, uint64_t start, uint64_t len, int prot)
{
	uint32_t want = prot_to_vm_flags(prot);
	struct gup_vma *vma;
	uint64_t end;
	int ret = check_range(start, len, &end);

	if (ret)
		return ret;
	if (prot & ~(GUP_PROT_READ | GUP_PROT_WRITE | GUP_PROT_EXEC))
		return -EINVAL;
	if (!len)
		return 0;
	mmap_write_lock(mm);
	/* Permission first, so that a refused call changes nothing. */
	for (vma = find_vma(mm, start); vma && vma_start(vma) < end; vma = vma_next(vma)) {
		if (want & ~((vma->vm_flags >> 4) & VM_ACCESS_FLAGS)) {
			ret = -EACCES;	/* beyond VM_MAY* */
			break;
		}
	}
	if (!ret)
		ret = for_each_vma_split(mm, start, end, mprotect_one, &want);
	mmap_write_unlock(mm);
	return ret;
}

/* ---- madvise ---- */

struct flag_change {
	uint32_t set, clear;
};

static void madvise_flags_one(struct gup_vma *vma, void *arg)
{
	struct flag_change *fc = arg;

	vma->vm_flags = (vma->vm_flags & ~fc->clear) | fc->set;
}

static int madvise_vma_flags(struct gup_mm *mm, uint64_t start, uint64_t end, int advice)
{
	struct flag_change fc = { 0, 0 };
	struct gup_vma *vma;
	int ret = 0;

	switch (advice) {
	case GUP_MADV_DONTFORK:		fc.set = VM_DONTCOPY; break;
	case GUP_MADV_DOFORK:		fc.clear = VM_DONTCOPY; break;
	case GUP_MADV_WIPEONFORK:	fc.set = VM_WIPEONFORK; break;
	case GUP_MADV_KEEPONFORK:	fc.clear = VM_WIPEONFORK; break;
	}
	mmap_write_lock(mm);
	if (advice == GUP_MADV_WIPEONFORK) {
		/* Only private anonymous memory can be wiped (Linux: -EINVAL otherwise). */
		for (vma = find_vma(mm, start); vma && vma_start(vma) < end; vma = vma_next(vma))
			if ((vma->vm_flags & VM_SHARED) || !vma_is_anonymous(vma))
				ret = -EINVAL;
	}
	if (!ret)
		ret = for_each_vma_split(mm, start, end, madvise_flags_one, &fc);
	mmap_write_unlock(mm);
	return ret;
}

static int madvise_dontneed(struct gup_mm *mm, uint64_t start, uint64_t end)
{
	struct mmu_gather tlb;
	struct gup_vma *vma;
	int ret = 0;

	mmap_read_lock(mm);
	if (!range_is_mapped(mm, start, end))
		ret = -ENOMEM;	/* Linux zaps what is mapped and reports the hole */
	for (vma = find_vma(mm, start); vma && vma_start(vma) < end; vma = vma_next(vma))
		if (vma->vm_flags & (VM_LOCKED | VM_PFNMAP))
			ret = -EINVAL;
	if (ret != -EINVAL) {
		tlb_gather_mmu(&tlb, mm);
		for (vma = find_vma(mm, start); vma && vma_start(vma) < end; vma = vma_next(vma))
			zap_page_range(&tlb, vma, start > vma_start(vma) ? start : vma_start(vma),
				       end < vma_end(vma) ? end : vma_end(vma));
		tlb_finish_mmu(&tlb);
	}
	mmap_read_unlock(mm);
	return ret;
}

int populate_vma_range(struct gup_vma *vma, uint64_t start, uint64_t end, bool write)
{
	for (uint64_t addr = start; addr < end; addr += PAGE_SIZE) {
		for (int tries = 0;; tries++) {
			struct pgtable *pt;
			pte_t *ptep = pte_offset_map(vma->mm, addr, &pt);
			uint64_t pte = ptep ? ptep_get(ptep) : 0;
			unsigned ret;

			if (pte_accessible(pte) && (!write || pte_write(pte)))
				break;
			GUP_BUG_ON(tries > 3, "populate: fault did not make progress");
			ret = handle_mm_fault(vma, addr, write ? FAULT_FLAG_WRITE : 0, NULL);
			if (ret & VM_FAULT_ERROR)
				return vm_fault_to_errno(ret, false);
		}
		cond_resched();
	}
	return 0;
}

static int madvise_populate(struct gup_mm *mm, uint64_t start, uint64_t end, bool write)
{
	uint64_t addr = start;
	int ret = 0;

	mmap_read_lock(mm);
	while (addr < end && !ret) {
		struct gup_vma *vma = vma_lookup(mm, addr);
		uint64_t stop;

		if (!vma) {
			ret = -ENOMEM;	/* FOLL_MADV_POPULATE: no VMA */
			break;
		}
		if ((vma->vm_flags & (VM_IO | VM_PFNMAP)) ||
		    !(vma->vm_flags & (write ? VM_WRITE : VM_READ))) {
			ret = -EINVAL;	/* FOLL_MADV_POPULATE: unsuitable VMA */
			break;
		}
		stop = end < vma_end(vma) ? end : vma_end(vma);
		ret = populate_vma_range(vma, addr, stop, write);
		addr = stop;
	}
	mmap_read_unlock(mm);
	return ret;
}

int do_madvise(struct gup_mm *mm, uint64_t start, uint64_t len, int advice)
{
	uint64_t end;
	int ret = check_range(start, len, &end);

	if (ret)
		return ret;
	switch (advice) {
	case GUP_MADV_DONTNEED:
	case GUP_MADV_DONTFORK:
	case GUP_MADV_DOFORK:
	case GUP_MADV_WIPEONFORK:
	case GUP_MADV_KEEPONFORK:
	case GUP_MADV_POPULATE_READ:
	case GUP_MADV_POPULATE_WRITE:
		break;
	default:
		return -EINVAL;
	}
	if (!len)
		return 0;
	switch (advice) {
	case GUP_MADV_DONTNEED:
		return madvise_dontneed(mm, start, end);
	case GUP_MADV_POPULATE_READ:
		return madvise_populate(mm, start, end, false);
	case GUP_MADV_POPULATE_WRITE:
		return madvise_populate(mm, start, end, true);
	default:
		return madvise_vma_flags(mm, start, end, advice);
	}
}
