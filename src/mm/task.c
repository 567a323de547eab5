/* SPDX-License-Identifier: MIT */
/*
 * src/mm/task.c - the public face of mms and tasks: thin validating wrappers
 * over the engines in mm.c, mmap.c and fork.c.
 */
#include <stdlib.h>

#include "mm/fault.h"
#include "mm/filemap.h"
#include "world.h"

GUP_API int gup_mm_create(struct gup_world *w, struct gup_mm **out)
{
	struct gup_mm *mm;

	if (!w || !out)
		return -EINVAL;
	mm = mm_alloc(w);
	if (!mm)
		return -ENOMEM;
	*out = mm;
	return 0;
}

GUP_API void gup_mm_get(struct gup_mm *mm)
{
	if (mm)
		atomic_inc(&mm->mm_users);
}

GUP_API void gup_mm_put(struct gup_mm *mm)
{
	if (mm)
		mmput(mm);
}

static struct gup_task *task_alloc(struct gup_mm *mm)
{
	struct gup_world *w = mm->w;
	struct gup_task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->mm = mm;
	t->w = w;
	irq_state_init(&t->irq);
	/* Start synced: the new TLB is empty, so no older flush concerns it. */
	t->tlb_gen = (uint64_t)atomic64_read(&mm->tlb_gen);
	spin_lock(&w->lock);
	t->id = ++w->next_id;
	w->nr_tasks++;
	spin_unlock(&w->lock);
	mm_add_task(mm, t);
	return t;
}

GUP_API int gup_task_create(struct gup_mm *mm, struct gup_task **out)
{
	struct gup_task *t;

	if (!mm || !out)
		return -EINVAL;
	atomic_inc(&mm->mm_users);
	t = task_alloc(mm);
	if (!t) {
		mmput(mm);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

GUP_API void gup_task_exit(struct gup_task *t)
{
	struct gup_world *w;
	struct gup_mm *mm;

	if (!t)
		return;
	w = t->w;
	mm = t->mm;
	spin_lock(&w->lock);
	spin_lock(&mm->tasks_lock);	/* fold and unlink as one step for readers */
	task_stats_fold(w, t);
	add_mm_rss(mm, (int64_t)stat_read(&t->rss_delta));	/* fold, as SPLIT_RSS did */
	mm_del_task_locked(mm, t);
	spin_unlock(&mm->tasks_lock);
	w->nr_tasks--;
	spin_unlock(&w->lock);
	free(t);
	mmput(mm);
}

GUP_API struct gup_mm *gup_task_mm(const struct gup_task *t)
{
	return t ? t->mm : NULL;
}

GUP_API unsigned gup_task_id(const struct gup_task *t)
{
	return t ? t->id : 0;
}

GUP_API void gup_task_kill(struct gup_task *t)
{
	if (t)
		write_once_bool(&t->fatal_signal, true);
}

GUP_API int gup_mmap(struct gup_task *t, uint64_t addr, size_t len, int prot, int flags,
		     uint64_t *out)
{
	if (!t || !out)
		return -EINVAL;
	return do_mmap(t->mm, addr, len, prot, flags, out);
}

GUP_API int gup_mmap_file(struct gup_task *t, uint64_t addr, size_t len, int prot, int flags,
			  struct gup_file *f, uint64_t off, uint64_t *out)
{
	if (!t || !out || !f || f->w != t->w)
		return -EINVAL;
	if (read_once_bool(&f->closed))
		return -EBADF;
	return do_mmap_file(t->mm, addr, len, prot, flags, f, off, out);
}

GUP_API int gup_munmap(struct gup_task *t, uint64_t addr, size_t len)
{
	if (!t)
		return -EINVAL;
	return do_munmap(t->mm, addr, len);
}

GUP_API int gup_mprotect(struct gup_task *t, uint64_t addr, size_t len, int prot)
{
	if (!t)
		return -EINVAL;
	return do_mprotect(t->mm, addr, len, prot);
}

GUP_API int gup_madvise(struct gup_task *t, uint64_t addr, size_t len, int advice)
{
	if (!t)
		return -EINVAL;
	return do_madvise(t->mm, addr, len, advice);
}

GUP_API int gup_fork(struct gup_task *t, struct gup_task **child)
{
	struct gup_mm *mm;
	struct gup_task *ct;
	int ret;

	if (!t || !child)
		return -EINVAL;
	ret = dup_mm(t->mm, &mm);
	if (ret)
		return ret;
	ct = task_alloc(mm);	/* takes over dup_mm's reference */
	if (!ct) {
		mmput(mm);
		return -ENOMEM;
	}
	*child = ct;
	return 0;
}

static int count_mm_pte(struct pgtable *pt, uint64_t addr, uint64_t end, void *arg)
{
	size_t *rss = arg;

	for (; addr != end; addr += PAGE_SIZE) {
		uint64_t pte = ptep_get(&pt->ent[pte_index(addr)]);

		if (pte_present(pte) && !pte_special(pte))
			(*rss)++;
	}
	return 0;
}

GUP_API int gup_mm_info(struct gup_mm *mm, struct gup_mm_info *info)
{
	if (!mm || !info)
		return -EINVAL;
	mmap_read_lock(mm);
	info->rss = 0;
	walk_pte_tables(mm, 0, GUP_TASK_SIZE, count_mm_pte, &info->rss);
	info->nr_vmas = mm->vmas.count;
	info->nr_pgtables = stat_read(&mm->nr_pgtables);
	mmap_read_unlock(mm);
	return 0;
}

GUP_API int64_t gup_mm_pfn(struct gup_mm *mm, uint64_t addr)
{
	struct pgtable *pt;
	pte_t *ptep;
	uint64_t pte;

	if (!mm || addr >= GUP_TASK_SIZE)
		return -EINVAL;
	mmap_read_lock(mm);
	ptep = pte_offset_map(mm, addr, &pt);
	pte = ptep ? ptep_get(ptep) : 0;
	mmap_read_unlock(mm);
	if (!pte_present(pte))
		return -EFAULT;
	return (int64_t)pte_pfn(pte);
}

GUP_API void gup_set_current(struct gup_task *t)
{
	sched_set_current(t);
}

GUP_API struct gup_task *gup_current(void)
{
	return sched_get_current();
}
