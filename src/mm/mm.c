/* SPDX-License-Identifier: MIT */
/*
 * src/mm/mm.c - mm lifetime, VMA objects (split, merge, duplicate), task lists.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/filemap.h"
#include "mm/mm.h"
#include "mm/userfaultfd.h"
#include "world.h"
#include "debug.h"

#define MMAP_BASE	(UINT64_C(0x7f0000000000))

struct gup_mm *mm_alloc(struct gup_world *w)
{
	struct gup_mm *mm = calloc(1, sizeof(*mm));

	if (!mm)
		return NULL;
	mm->pgd = pgtable_alloc(w, 3);
	if (!mm->pgd) {
		free(mm);
		return NULL;
	}
	mm->w = w;
	atomic_set(&mm->mm_users, 1);
	atomic_set(&mm->mm_count, 1);
	init_rwsem(&mm->mmap_lock);
	init_rwsem(&mm->mm_pinned_sem);
	vma_tree_init(&mm->vmas);
	spin_lock_init(&mm->page_table_lock);
	spin_lock_init(&mm->tasks_lock);
	INIT_LIST_HEAD(&mm->tasks);
	seqcount_init(&mm->write_protect_seq);
	mm->mmap_base = MMAP_BASE;
	init_private_u64(&mm->nr_pgtables, 1);

	spin_lock(&w->lock);
	mm->id = ++w->next_id;
	list_add(&mm->list, &w->mm_list);
	w->nr_mms++;
	spin_unlock(&w->lock);
	return mm;
}

/* exit_mmap: unmap everything, free every table.  No task is left in @mm. */
static void exit_mmap(struct gup_mm *mm)
{
	struct mmu_gather tlb;
	struct gup_vma *vma;

	mmap_write_lock(mm);
	tlb_gather_mmu(&tlb, mm);
	tlb.fullmm = true;
	for (vma = node_vma(vma_tree_first(&mm->vmas)); vma; vma = vma_next(vma))
		zap_page_range(&tlb, vma, vma_start(vma), vma_end(vma));
	for (vma = node_vma(vma_tree_first(&mm->vmas)); vma; vma = vma_next(vma))
		unlink_file_vma(vma);	/* before the tables go (truncate walks them) */
	free_pgtables(&tlb, 0, GUP_TASK_SIZE, 0, GUP_TASK_SIZE);
	tlb_finish_mmu(&tlb);
	while ((vma = node_vma(vma_tree_first(&mm->vmas)))) {
		vma_unlink(mm, vma);
		vma_free(vma);
	}
	mmap_write_unlock(mm);
}

void mmput(struct gup_mm *mm)
{
	struct gup_world *w = mm->w;

	if (!atomic_dec_and_test(&mm->mm_users))
		return;
	GUP_BUG_ON(mm->nr_tasks, "last mm reference dropped with live tasks");
	exit_mmap(mm);
	GUP_BUG_ON(atomic64_read(&mm->rss) != 0, "mm %u torn down with rss %lld", mm->id,
		   (long long)atomic64_read(&mm->rss));
	pgtable_free(w, mm->pgd);

	spin_lock(&w->lock);
	list_del(&mm->list);
	w->nr_mms--;
	spin_unlock(&w->lock);
	mmdrop(mm);	/* the users' reference to the structure */
}

void mmgrab(struct gup_mm *mm)
{
	atomic_inc(&mm->mm_count);
}

void mmdrop(struct gup_mm *mm)
{
	if (!atomic_dec_and_test(&mm->mm_count))
		return;
	rwsem_destroy(&mm->mmap_lock);
	rwsem_destroy(&mm->mm_pinned_sem);
	free(mm);
}

/* ---- VMAs ---- */

/*
 * Is @vma wired (FreeBSD's map entries, gup_vma.wired)?  Only the policy that
 * wires looks: for every other one the field stays false and reading it would
 * be a scheduling point for nothing.
 */
bool vma_wired(struct gup_vma *vma)
{
	if (vma->mm->w->policy->fork_copy != FORK_COPY_WIRED)
		return false;
	return read_once_bool(&vma->wired);
}

/* A FOLL_LONGTERM pin wires @vma (mmap lock held, for read at least). */
void vma_wire(struct gup_vma *vma)
{
	if (!vma_wired(vma))
		write_once_bool(&vma->wired, true);
}

struct gup_vma *vma_alloc(struct gup_mm *mm)
{
	struct gup_vma *vma = calloc(1, sizeof(*vma));

	if (vma)
		vma->mm = mm;
	return vma;
}

void vma_free(struct gup_vma *vma)
{
	if (vma->vm_ops && vma->vm_ops->close)
		vma->vm_ops->close(vma);
	if (vma->shmem)
		shmem_obj_put(vma->mm->w, vma->shmem);
	if (vma->uffd)
		uffd_vma_put(vma->uffd);
	sched_forget(vma, sizeof(*vma));
	free(vma);
}

int vma_link(struct gup_mm *mm, struct gup_vma *vma)
{
	return vma_tree_insert(&mm->vmas, &vma->node);
}

void vma_unlink(struct gup_mm *mm, struct gup_vma *vma)
{
	vma_tree_erase(&mm->vmas, &vma->node);
}

/* A copy of @src's attributes (not linked, no range); takes the backing references. */
struct gup_vma *vma_dup(struct gup_mm *mm, struct gup_vma *src)
{
	struct gup_vma *vma = vma_alloc(mm);

	if (!vma)
		return NULL;
	vma->node.start = src->node.start;
	vma->node.end = src->node.end;
	vma->vm_flags = src->vm_flags;
	vma->pgoff = src->pgoff;
	vma->vm_ops = src->vm_ops;
	vma->vm_private = src->vm_private;
	vma->shmem = src->shmem;
	if (vma->shmem)
		shmem_obj_get(vma->shmem);
	if (vma_wired(src))	/* a split keeps it; fork's copy drops it (dup_mmap) */
		write_once_bool(&vma->wired, true);
	vma->uffd = src->uffd;	/* a split keeps the registration; fork drops it */
	if (vma->uffd)
		uffd_vma_get(vma->uffd);
	if (vma->vm_ops && vma->vm_ops->open)
		vma->vm_ops->open(vma);
	return vma;
}

int split_vma(struct gup_vma *vma, uint64_t addr, struct gup_vma **upper)
{
	struct mutex *adjust;
	struct gup_vma *new;
	int ret;

	GUP_BUG_ON(addr <= vma_start(vma) || addr >= vma_end(vma) || (addr & ~PAGE_MASK),
		   "bad split address");
	new = vma_dup(vma->mm, vma);
	if (!new)
		return -ENOMEM;
	adjust = vma_adjust_lock(vma);
	if (adjust)
		mutex_lock(adjust);	/* truncate reads the ranges of file VMAs */
	new->node.start = addr;
	new->pgoff = linear_page_index(vma, addr);
	/* Shrinking in place keeps the tree ordered (vma_tree.h allows it). */
	vma->node.end = addr;
	if (adjust)
		mutex_unlock(adjust);
	ret = vma_link(vma->mm, new);
	GUP_BUG_ON(ret, "split produced an overlapping VMA");
	*upper = new;
	return 0;
}

/* Can @a (below) and @b (above, adjacent) become one VMA? */
static bool vma_can_merge(struct gup_vma *a, struct gup_vma *b)
{
	if (vma_end(a) != vma_start(b) || a->vm_flags != b->vm_flags ||
	    a->vm_ops != b->vm_ops || a->vm_private != b->vm_private ||
	    a->shmem != b->shmem || a->uffd != b->uffd || vma_wired(a) != vma_wired(b))
		return false;
	if (a->vm_ops || a->shmem)
		return linear_page_index(a, vma_end(a)) == b->pgoff;
	return true;
}

/* Fold @b into @a (a below b). */
static void vma_absorb(struct gup_vma *a, struct gup_vma *b)
{
	struct mutex *adjust = vma_adjust_lock(a);
	uint64_t end = vma_end(b);

	vma_unlink(a->mm, b);
	/*
	 * @a covers @b's range before @b leaves i_mmap: a truncate walking i_mmap
	 * in between must still find the PTEs there (covered twice for a moment
	 * is harmless: the second zap finds none).
	 */
	if (adjust)
		mutex_lock(adjust);
	a->node.end = end;
	if (adjust)
		mutex_unlock(adjust);
	unlink_file_vma(b);
	vma_free(b);
}

struct gup_vma *vma_merge_neighbours(struct gup_vma *vma)
{
	struct gup_vma *prev = node_vma(vma_tree_prev(&vma->node));
	struct gup_vma *next = vma_next(vma);

	if (next && vma_can_merge(vma, next))
		vma_absorb(vma, next);
	if (prev && vma_can_merge(prev, vma)) {
		vma_absorb(prev, vma);
		vma = prev;
	}
	return vma;
}

/* ---- tasks ---- */

int64_t mm_rss(struct gup_mm *mm)
{
	int64_t rss = atomic64_read(&mm->rss);
	struct gup_task *t;

	spin_lock(&mm->tasks_lock);
	list_for_each_entry(t, &mm->tasks, struct gup_task, list)
		rss += (int64_t)stat_read(&t->rss_delta);
	spin_unlock(&mm->tasks_lock);
	return rss;
}

void mm_add_task(struct gup_mm *mm, struct gup_task *t)
{
	spin_lock(&mm->tasks_lock);
	list_add(&t->list, &mm->tasks);
	mm->nr_tasks++;
	spin_unlock(&mm->tasks_lock);
}

void mm_del_task_locked(struct gup_mm *mm, struct gup_task *t)
{
	list_del(&t->list);
	mm->nr_tasks--;
}
