/* SPDX-License-Identifier: MIT */
/*
 * src/mm/shmem.c - shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS).
 *
 * As in Linux, shared anon memory is a shmem object: a page cache indexed by
 * pgoff, holding one reference per page, shared by every VMA that maps it
 * (including the child's after fork).  Its pages are not PageAnon: they are never
 * COW-shared, writes go to the one copy, and fork copies no PTEs for them.
 */
#include <stdlib.h>

#include "mm/mm.h"
#include "world.h"

struct shmem_obj *shmem_obj_create(struct gup_world *w, size_t nr_pages)
{
	struct shmem_obj *obj = calloc(1, sizeof(*obj));

	if (!obj)
		return NULL;
	obj->pages = calloc(nr_pages, sizeof(*obj->pages));
	if (!obj->pages) {
		free(obj);
		return NULL;
	}
	obj->nr_pages = nr_pages;
	atomic_set(&obj->refs, 1);
	spin_lock_init(&obj->lock);
	spin_lock(&w->lock);
	list_add(&obj->list, &w->shmem_list);
	spin_unlock(&w->lock);
	return obj;
}

void shmem_obj_get(struct shmem_obj *obj)
{
	atomic_inc(&obj->refs);
}

void shmem_obj_put(struct gup_world *w, struct shmem_obj *obj)
{
	if (!atomic_dec_and_test(&obj->refs))
		return;
	spin_lock(&w->lock);
	list_del(&obj->list);
	spin_unlock(&w->lock);
	/* No VMA maps the object any more: drop the cache references. */
	for (size_t i = 0; i < obj->nr_pages; i++)
		if (obj->pages[i])
			put_page(w, obj->pages[i]);
	free(obj->pages);
	free(obj);
}

/* A page just allocated for @obj at @pgoff, holding the cache's reference. */
static void shmem_page_init(struct shmem_obj *obj, uint64_t pgoff, struct page *page)
{
	SetPageShmem(page);
	SetPageUptodate(page);
	write_once_uptr(&page->mapping, (uintptr_t)obj);
	write_once_u64(&page->index, pgoff);
	write_parts_u64(&page->count, PAGE_COUNT_BOTH, PAGE_REF_ONE);	/* the cache's reference */
}

int shmem_get_page(struct gup_world *w, struct shmem_obj *obj, uint64_t pgoff,
		   struct page **out)
{
	struct page *page, *new = NULL;

	if (pgoff >= obj->nr_pages)
		return -EFAULT;	/* beyond the object: SIGBUS */
again:
	spin_lock(&obj->lock);
	page = obj->pages[pgoff];
	if (!page && new) {
		obj->pages[pgoff] = page = new;
		new = NULL;
	}
	if (page)
		get_page(page);
	spin_unlock(&obj->lock);
	if (!page) {
		/*
		 * Allocate (and zero) outside the lock, then install if still absent.
		 * Unmovable: migrating a shared page needs every mapping of it (an
		 * i_mmap reverse map, which the files issue brings), so until then
		 * FOLL_LONGTERM must never find shmem pages in ZONE_MOVABLE.
		 */
		new = alloc_page(w, GFP_KERNEL | GFP_ZERO);
		if (!new)
			return -ENOMEM;
		shmem_page_init(obj, pgoff, new);
		goto again;
	}
	if (new) {	/* lost the race */
		write_parts_u64(&new->count, PAGE_COUNT_BOTH, 0);
		free_frame(w, new);
	}
	*out = page;
	return 0;
}

bool shmem_page_cached(struct shmem_obj *obj, uint64_t pgoff)
{
	bool cached;

	spin_lock(&obj->lock);
	cached = pgoff < obj->nr_pages && obj->pages[pgoff];
	spin_unlock(&obj->lock);
	return cached;
}

int shmem_add_page(struct gup_world *w, struct shmem_obj *obj, uint64_t pgoff,
		   struct page *page)
{
	int ret = 0;

	if (pgoff >= obj->nr_pages)
		ret = -EFAULT;
	if (!ret) {
		shmem_page_init(obj, pgoff, page);
		spin_lock(&obj->lock);	/* its release publishes the filled page */
		if (obj->pages[pgoff]) {
			ret = -EEXIST;
		} else {
			obj->pages[pgoff] = page;
			get_page(page);
		}
		spin_unlock(&obj->lock);
	}
	if (ret) {
		write_parts_u64(&page->count, PAGE_COUNT_BOTH, 0);
		free_frame(w, page);
	}
	return ret;
}
