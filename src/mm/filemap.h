/* SPDX-License-Identifier: MIT */
/*
 * src/mm/filemap.h - files and their page cache.
 *
 * A struct gup_file is inode and address_space in one: a size, a page cache indexed
 * by page offset, the VMAs that map it (i_mmap), and its storage - an extent of a
 * disk, or nothing for a memfd (the cache is the storage, as shmem).
 *
 * Locking (the project's lock order table is in mm.h):
 *   invalidate_lock  rwsem.  Shared: a fault adding a page to the cache.  Exclusive:
 *                    truncate and punch-hole, across unmapping and cache removal.
 *   page lock        held while a page is read from disk, written back, mapped by a
 *                    fault (so truncate cannot remove it in between), removed.
 *   i_mmap_lock      mutex: the i_mmap list and the range/pgoff of each VMA on it.
 *   lock             spinlock (i_pages): pages[] and size.
 * A cache page has one reference from the cache; page->mapping is the file while it
 * is in the cache and 0 once removed (a fault that finds 0 under the page lock lost
 * a race with truncate and retries).
 */
#ifndef GUP_MM_FILEMAP_H
#define GUP_MM_FILEMAP_H

#include "gup/file.h"
#include "mm/mm.h"

struct gup_disk;
struct vm_fault;

struct gup_file {
	struct gup_world *w;		/* constant */
	struct gup_disk *disk;		/* constant; NULL: memfd (shmem) */
	uint64_t disk_off;		/* constant: the extent's first byte */
	uint64_t max_size;		/* constant: the extent's length, page multiple */
	unsigned flags;			/* constant: GUP_FILE_* */
	unsigned id;			/* constant */
	struct rw_semaphore invalidate_lock;
	struct mutex i_mmap_lock;
	struct list_head i_mmap;	/* VMAs (vma->shared), under i_mmap_lock */
	spinlock_t lock;		/* pages[], size */
	_Atomic uint64_t size;		/* i_size; written under lock, read once */
	struct page **pages;		/* max_size / PAGE_SIZE slots, under lock */
	atomic_t refs;			/* the handle (until closed), VMAs, leases */
	struct list_head leases;	/* DAX: struct gup_lease, under lock */
	uint64_t break_ns;		/* constant: DAX lease break / pin wait limit */
	_Atomic bool closed;		/* gup_file_close was called */
	struct list_head list;		/* world->file_list, under world->lock */
};

static inline uint64_t file_nr_slots(const struct gup_file *f)
{
	return f->max_size >> PAGE_SHIFT;
}

static inline uint64_t file_size(struct gup_file *f)
{
	return read_once_u64(&f->size);
}

void file_get(struct gup_file *f);
void file_put(struct gup_file *f);

/* The VM operations of a file mapping; vma->vm_private is the file. */
extern const struct vm_operations filemap_vm_ops, memfd_vm_ops, dax_vm_ops;

static inline struct gup_file *vma_file(const struct gup_vma *vma)
{
	if (vma->vm_ops == &filemap_vm_ops || vma->vm_ops == &memfd_vm_ops ||
	    vma->vm_ops == &dax_vm_ops)
		return vma->vm_private;
	return NULL;
}

/* vm_ops open/close of every file mapping: a file reference, and i_mmap. */
void file_vma_open(struct gup_vma *vma);
void file_vma_close(struct gup_vma *vma);

/* ---- fs-DAX (dax.c) ---- */

#define DAX_BREAK_NS_DEFAULT	UINT64_C(1000000000)	/* 1 s */

/* The blocks: one zeroed frame per page of max_size, a storage reference each. */
int dax_file_init(struct gup_file *f);
/* Empty every slot: the cache's (or the storage's) references go, pins keep frames. */
void file_drop_pages(struct gup_file *f);
/* A GUP reference on @page, a DAX block (the caller asked PageDax while it still
 * held it), went away: wake truncate waiting for a DAX range. */
void dax_page_released(struct page *page);
long dax_rw(struct gup_file *f, void *buf, size_t len, uint64_t off, bool write);
/* Unmap [first, end), break its leases, wait for its pins (invalidate_lock (w)). */
int dax_break_layouts(struct gup_file *f, uint64_t first, uint64_t end, bool even_cows);
void dax_zero_range(struct gup_file *f, uint64_t off, uint64_t len);

/* Take @vma off its file's i_mmap before its page tables go (free_pgtables). */
void unlink_file_vma(struct gup_vma *vma);

/* The lock to hold while changing a mapped file VMA's range (split, merge), or NULL. */
struct mutex *vma_adjust_lock(struct gup_vma *vma);

/*
 * Unmap every PTE of [first, first + nr) pages of @f in every VMA; private COW
 * copies too if @even_cows (truncate), not for a hole punch (unmap_mapping_range).
 */
void unmap_mapping_pages(struct gup_file *f, uint64_t first, uint64_t nr, bool even_cows);

/* Free every file of the world (teardown; their pages are unmapped by then). */
void files_destroy(struct gup_world *w);

#endif /* GUP_MM_FILEMAP_H */
