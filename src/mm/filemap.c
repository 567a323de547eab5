/* SPDX-License-Identifier: MIT */
/*
 * src/mm/filemap.c - the page cache: filling it from the disk (with the fault retry
 * protocol of seed 002), dirty tracking and writeback, truncate and punch-hole.
 *
 * Read faults and the retry protocol (filemap_fault).  A fault that finds its page
 * missing must wait for the disk.  If the fault allows retry, it drops the mmap lock
 * first, reads the page, and returns VM_FAULT_RETRY: the caller retakes the lock
 * and faults again, and finds the page cached.  Without ALLOW_RETRY (GUP without
 * FOLL_UNLOCKABLE, populate) the I/O happens under the mmap lock, and every writer
 * of that mm (mmap, munmap, mprotect) waits for the disk.  That difference is what
 * the 2014 get_user_pages_unlocked change bought (seed 002; bench/file_ops).
 * With RETRY_NOWAIT (FOLL_NOWAIT) a fault that would wait returns VM_FAULT_RETRY
 * at once, the lock still held.
 *
 * Truncate against faults (the page lock).  The fault returns its page locked
 * (VM_FAULT_LOCKED) and do_file_fault maps it before unlocking; truncate unmaps,
 * then locks each page, unmaps it again if a fault mapped it meanwhile, and takes
 * it out of the cache (page->mapping = 0).  A fault that locks a page whose mapping
 * is gone lost that race and retries.  A second unmap pass at the end removes any
 * private COW copy made from a page during the first (as truncate_pagecache does).
 */
#include <stdlib.h>
#include <string.h>

#include "io/disk.h"
#include "mm/fault.h"
#include "mm/filemap.h"
#include "world.h"
#include "debug.h"

static inline bool page_in_file(struct page *page, struct gup_file *f)
{
	return read_once_uptr(&page->mapping) == (uintptr_t)f;
}

static inline uint64_t size_in_pages(uint64_t size)
{
	return (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
}

static _Atomic bool *task_fatal(struct gup_task *t)
{
	return t ? &t->fatal_signal : NULL;
}

/* ---- the cache (f->lock) ---- */

/* The cached page at @pgoff with a reference for the caller, or NULL. */
static struct page *filemap_lookup(struct gup_file *f, uint64_t pgoff)
{
	struct page *page;

	spin_lock(&f->lock);
	page = f->pages[pgoff];
	if (page)
		get_page(page);
	spin_unlock(&f->lock);
	return page;
}

/*
 * A new page for @pgoff, locked, in the cache (its reference) and with one for the
 * caller; *@created false if another task added one first (then that page, with a
 * reference, unlocked).  memfd pages are born zeroed and up to date.
 */
static int filemap_add(struct gup_file *f, uint64_t pgoff, struct page **out, bool *created)
{
	bool memfd = f->flags & GUP_FILE_MEMFD;
	struct page *page, *new;

	/* Unmovable, as shmem: migration of cache pages needs the rmap walk too. */
	new = alloc_page(f->w, GFP_KERNEL | (memfd ? GFP_ZERO : 0));
	if (!new)
		return -ENOMEM;
	page_init_private(new, (UINT64_C(1) << PG_locked) |
			  (memfd ? (UINT64_C(1) << PG_shmem) | (UINT64_C(1) << PG_uptodate) : 0),
			  2 * PAGE_REF_ONE /* the cache's and the caller's */, pgoff, false);
	init_private_uptr(&new->mapping, (uintptr_t)f);

	spin_lock(&f->lock);
	page = f->pages[pgoff];
	if (page) {
		get_page(page);
	} else {
		f->pages[pgoff] = new;	/* published by the unlock's release */
	}
	spin_unlock(&f->lock);
	if (page) {
		page_init_private(new, 0, 0, 0, false);
		init_private_uptr(&new->mapping, 0);
		free_frame(f->w, new);
		*created = false;
		*out = page;
		return 0;
	}
	*created = true;
	*out = new;
	return 0;
}

/*
 * Fill a locked page from the disk: the file's bytes, zeros past its size.  The
 * I/O takes the disk's latency; the caller decides what it holds meanwhile.
 */
static int filemap_read_page(struct gup_file *f, struct page *page)
{
	uint64_t pgoff = read_once_u64(&page->index), off = pgoff << PAGE_SHIFT;
	uint64_t size = file_size(f), len = 0;
	uint8_t *data = page_data(&f->w->arena, page);
	int ret = 0;

	if (off < size)
		len = size - off < PAGE_SIZE ? size - off : PAGE_SIZE;
	if (len)
		ret = disk_read(f->disk, f->disk_off + off, data, len, data);
	if (len < PAGE_SIZE)
		mem_set(data + len, 0, PAGE_SIZE - len, data);
	if (ret)
		return -EIO;
	SetPageUptodate(page);
	count_vm_event(f->w, GUP_STAT_FILE_READ_PAGE);
	return 0;
}

/*
 * The page at @pgoff, up to date and locked, with a reference: for pread/pwrite
 * and writers that hold no mmap lock.  @create false: NULL (0) if not cached.
 */
static int filemap_get_locked(struct gup_file *f, uint64_t pgoff, bool create,
			      struct page **out)
{
	struct page *page;
	bool created;
	int ret;

	for (;;) {
		page = filemap_lookup(f, pgoff);
		if (!page) {
			if (!create) {
				*out = NULL;
				return 0;
			}
			ret = filemap_add(f, pgoff, &page, &created);
			if (ret)
				return ret;
			if (!created)
				lock_page(page);
		} else {
			lock_page(page);
		}
		if (page_in_file(page, f))
			break;
		unlock_page(page);	/* truncated meanwhile: look again */
		put_page(f->w, page);
	}
	if (!PageUptodate(page)) {
		ret = filemap_read_page(f, page);
		if (ret) {
			unlock_page(page);
			put_page(f->w, page);
			return ret;
		}
	}
	*out = page;
	return 0;
}

/* Take a locked page out of the cache (truncate, punch-hole, final release). */
static void filemap_remove_page(struct gup_file *f, struct page *page)
{
	uint64_t pgoff = read_once_u64(&page->index);

	spin_lock(&f->lock);
	GUP_BUG_ON(f->pages[pgoff] != page, "page cache slot %llu lost its page",
		   (unsigned long long)pgoff);
	f->pages[pgoff] = NULL;
	spin_unlock(&f->lock);
	write_once_uptr(&page->mapping, 0);
	if (PageDirty(page))
		ClearPageDirty(page);	/* its bytes are gone with the range */
	put_page(f->w, page);		/* the cache's reference */
}

/* ---- reverse map: i_mmap ---- */

/* The address of @pgoff in @vma, or 0 if @vma does not map it. */
static uint64_t vma_address(struct gup_vma *vma, uint64_t pgoff)
{
	uint64_t nr = (vma_end(vma) - vma_start(vma)) >> PAGE_SHIFT;

	if (pgoff < vma->pgoff || pgoff - vma->pgoff >= nr)
		return 0;
	return vma_start(vma) + ((pgoff - vma->pgoff) << PAGE_SHIFT);
}

void file_vma_open(struct gup_vma *vma)
{
	struct gup_file *f = vma->vm_private;

	file_get(f);
	mutex_lock(&f->i_mmap_lock);
	list_add(&vma->shared, &f->i_mmap);
	mutex_unlock(&f->i_mmap_lock);
}

void unlink_file_vma(struct gup_vma *vma)
{
	struct gup_file *f = vma_file(vma);

	if (!f)
		return;
	mutex_lock(&f->i_mmap_lock);
	if (vma->shared.next) {
		list_del(&vma->shared);
		vma->shared.next = vma->shared.prev = NULL;
	}
	mutex_unlock(&f->i_mmap_lock);
}

void file_vma_close(struct gup_vma *vma)
{
	unlink_file_vma(vma);
	file_put(vma->vm_private);
}

struct mutex *vma_adjust_lock(struct gup_vma *vma)
{
	struct gup_file *f = vma_file(vma);

	return f ? &f->i_mmap_lock : NULL;
}

void unmap_mapping_pages(struct gup_file *f, uint64_t first, uint64_t nr, bool even_cows)
{
	struct gup_vma *vma;

	mutex_lock(&f->i_mmap_lock);
	list_for_each_entry(vma, &f->i_mmap, struct gup_vma, shared) {
		uint64_t vfirst = vma->pgoff, vnr = (vma_end(vma) - vma_start(vma)) >> PAGE_SHIFT;
		uint64_t lo = first > vfirst ? first : vfirst;
		uint64_t hi = first + nr < vfirst + vnr ? first + nr : vfirst + vnr;
		struct mmu_gather tlb;

		if (lo >= hi)
			continue;
		/* The VMA's tables stay while it is on i_mmap (unlink_file_vma). */
		tlb_gather_mmu(&tlb, vma->mm);
		zap_file_range(&tlb, vma, vma_address(vma, lo), vma_address(vma, hi - 1) + PAGE_SIZE,
			       even_cows);
		tlb_finish_mmu(&tlb);
	}
	mutex_unlock(&f->i_mmap_lock);
}

/*
 * page_mkclean - write-protect and clean every shared PTE of a locked page, so the
 * next write faults (page_mkwrite) and dirties it again: writeback is about to
 * take the page's bytes.
 */
static void page_mkclean(struct gup_file *f, struct page *page)
{
	uint64_t pgoff = read_once_u64(&page->index), pfn = page_to_pfn(&f->w->arena, page);
	struct gup_vma *vma;

	mutex_lock(&f->i_mmap_lock);
	list_for_each_entry(vma, &f->i_mmap, struct gup_vma, shared) {
		uint64_t addr = vma_address(vma, pgoff), pte;
		struct pgtable *pt;
		pte_t *ptep;

		if (!addr || !(vma->vm_flags & VM_SHARED))
			continue;
		ptep = pte_offset_map(vma->mm, addr, &pt);
		if (!ptep)
			continue;
		spin_lock(&pt->ptl);
		pte = ptep_get(ptep);
		if (pte_accessible(pte) && pte_pfn(pte) == pfn && (pte_write(pte) || pte_dirty(pte))) {
			set_pte(ptep, pte_wrprotect(pte) & ~PTE_DIRTY);
			flush_tlb_page(vma->mm, addr);
		}
		spin_unlock(&pt->ptl);
	}
	mutex_unlock(&f->i_mmap_lock);
}

/* ---- the fault ---- */

/* Drop the mmap lock to wait (VM_FAULT_RETRY follows): maybe_unlock_mmap_for_io. */
static void fault_drop_mmap_lock(struct vm_fault *vmf)
{
	mmap_read_unlock(vmf->mm);
}

/* A missing page: add it and read it, dropping the mmap lock if we may. */
static unsigned filemap_fault_missing(struct vm_fault *vmf, struct gup_file *f,
				      struct page **out)
{
	bool may_drop = (vmf->flags & FAULT_FLAG_ALLOW_RETRY) &&
			!(vmf->flags & FAULT_FLAG_RETRY_NOWAIT);
	struct page *page;
	bool created;
	int ret;

	if (!(f->flags & GUP_FILE_MEMFD) && (vmf->flags & FAULT_FLAG_RETRY_NOWAIT))
		return VM_FAULT_RETRY;		/* would wait for the disk */
	down_read(&f->invalidate_lock);
	if (vmf->pgoff >= size_in_pages(file_size(f))) {
		/* Truncated since filemap_fault looked (truncate sets the size under
		 * invalidate_lock): adding the page would map it past EOF. */
		up_read(&f->invalidate_lock);
		return VM_FAULT_SIGBUS;
	}
	ret = filemap_add(f, vmf->pgoff, &page, &created);
	if (ret) {
		up_read(&f->invalidate_lock);
		return VM_FAULT_OOM;
	}
	if (!created || PageUptodate(page)) {
		up_read(&f->invalidate_lock);
		if (created)
			unlock_page(page);	/* memfd: nothing to read */
		*out = page;
		return 0;
	}
	count_task_event(vmf->w, vmf->task, GUP_STAT_FAULT_MAJOR);
	if (may_drop) {
		/*
		 * Seed 002: never hold mmap_lock across the disk.  Without it the VMA
		 * may be unmapped, and with it the file's last reference: hold one
		 * across the read (maybe_unlock_mmap_for_io pins vm_file).
		 */
		file_get(f);
		fault_drop_mmap_lock(vmf);
		ret = filemap_read_page(f, page);
		unlock_page(page);
		up_read(&f->invalidate_lock);
		put_page(vmf->w, page);
		file_put(f);
		count_task_event(vmf->w, vmf->task, GUP_STAT_FAULT_RETRY_IO);
		(void)ret;	/* a failed read leaves the page !uptodate: the retry sees it */
		return VM_FAULT_RETRY;
	}
	ret = filemap_read_page(f, page);	/* under the mmap lock */
	up_read(&f->invalidate_lock);
	unlock_page(page);
	if (ret) {
		put_page(vmf->w, page);
		return VM_FAULT_SIGBUS;
	}
	*out = page;
	return 0;
}

static unsigned filemap_fault(struct vm_fault *vmf)
{
	struct gup_file *f = vmf->vma->vm_private;
	bool may_drop = (vmf->flags & FAULT_FLAG_ALLOW_RETRY) &&
			!(vmf->flags & FAULT_FLAG_RETRY_NOWAIT);
	struct page *page;
	unsigned ret;

	if (vmf->pgoff >= size_in_pages(file_size(f)))
		return VM_FAULT_SIGBUS;		/* past EOF */
	page = filemap_lookup(f, vmf->pgoff);
	if (!page) {
		page = NULL;
		ret = filemap_fault_missing(vmf, f, &page);
		if (ret)
			return ret;
	}
	if (!trylock_page(page)) {
		/* Someone reads it in or writes it back: wait for the page lock. */
		if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT) {
			put_page(vmf->w, page);
			return VM_FAULT_RETRY;
		}
		if (may_drop) {
			fault_drop_mmap_lock(vmf);
			wait_on_page_locked_killable(page, task_fatal(vmf->task));
			put_page(vmf->w, page);
			return VM_FAULT_RETRY;
		}
		lock_page(page);
	}
	if (!page_in_file(page, f)) {
		/* Truncated while we looked: the access faults again and sees why. */
		unlock_page(page);
		put_page(vmf->w, page);
		return VM_FAULT_NOPAGE;
	}
	if (!PageUptodate(page) && filemap_read_page(f, page)) {
		unlock_page(page);
		put_page(vmf->w, page);
		return VM_FAULT_SIGBUS;
	}
	vmf->page = page;
	return VM_FAULT_LOCKED;
}

/*
 * A write is about to be allowed on a shared mapping of @vmf->page (unlocked, one
 * reference): dirty it under the page lock, which writeback holds while it cleans.
 * Returns VM_FAULT_LOCKED (the caller maps, then unlocks) or NOPAGE (truncated).
 */
static unsigned filemap_page_mkwrite(struct vm_fault *vmf)
{
	struct gup_file *f = vmf->vma->vm_private;
	struct page *page = vmf->page;

	lock_page(page);
	if (!page_in_file(page, f)) {
		unlock_page(page);
		return VM_FAULT_NOPAGE;
	}
	if (!PageDirty(page))
		SetPageDirty(page);
	return VM_FAULT_LOCKED;
}

const struct vm_operations filemap_vm_ops = {
	.fault = filemap_fault,
	.page_mkwrite = filemap_page_mkwrite,
	.open = file_vma_open,
	.close = file_vma_close,
	.name = "file",
};

/* memfd is shmem: no writeback, so no write notification (as shmem_vm_ops). */
const struct vm_operations memfd_vm_ops = {
	.fault = filemap_fault,
	.open = file_vma_open,
	.close = file_vma_close,
	.name = "memfd",
};

/* ---- writeback ---- */

/* Write one locked dirty page back; the caller unlocks. */
static int filemap_writepage(struct gup_file *f, struct page *page)
{
	uint64_t off = read_once_u64(&page->index) << PAGE_SHIFT, size = file_size(f), len;
	uint8_t *data = page_data(&f->w->arena, page);

	page_mkclean(f, page);
	ClearPageDirty(page);
	if (f->flags & GUP_FILE_MEMFD || off >= size)
		return 0;
	len = size - off < PAGE_SIZE ? size - off : PAGE_SIZE;
	count_vm_event(f->w, GUP_STAT_FILE_WRITEBACK);
	if (disk_write(f->disk, f->disk_off + off, data, len, data)) {
		SetPageDirty(page);	/* still not on the disk */
		return -EIO;
	}
	return 0;
}

static int filemap_write_range(struct gup_file *f, uint64_t first, uint64_t end)
{
	int ret = 0;

	for (uint64_t pgoff = first; pgoff < end; pgoff++) {
		struct page *page = filemap_lookup(f, pgoff);

		if (!page)
			continue;
		if (PageDirty(page)) {
			lock_page(page);
			if (page_in_file(page, f) && PageDirty(page) && filemap_writepage(f, page))
				ret = -EIO;
			unlock_page(page);
		}
		put_page(f->w, page);
	}
	return ret;
}

/* ---- truncate and punch-hole ---- */

/* Drop the cached pages [first, end), unmapping any a fault mapped meanwhile. */
static void truncate_cache_range(struct gup_file *f, uint64_t first, uint64_t end)
{
	for (uint64_t pgoff = first; pgoff < end; pgoff++) {
		struct page *page = filemap_lookup(f, pgoff);

		if (!page)
			continue;
		lock_page(page);
		if (page_in_file(page, f)) {
			if (page_mapcount(page))
				unmap_mapping_pages(f, pgoff, 1, false);	/* the cache page */
			filemap_remove_page(f, page);
		}
		unlock_page(page);
		put_page(f->w, page);
	}
}

/* Zero [off, off+len) of a page in the cache (a partial page at a boundary). */
static void zero_cached_range(struct gup_file *f, uint64_t off, uint64_t len)
{
	struct page *page;
	uint8_t *data;

	if (!len || filemap_get_locked(f, off >> PAGE_SHIFT, false, &page) || !page)
		return;
	data = page_data(&f->w->arena, page);
	mem_set_shared(data + (off & ~PAGE_MASK), 0, len, data);	/* it may be mapped */
	if (!PageDirty(page))
		SetPageDirty(page);
	unlock_page(page);
	put_page(f->w, page);
}

/* Zero the disk's bytes of [off, off+len): a hole, or the space past a truncation. */
static void disk_zero_range(struct gup_file *f, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[SECTOR_SIZE];

	if (!f->disk)
		return;
	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		gup_disk_poke(f->disk, f->disk_off + off, zeros, n);
		off += n;
		len -= n;
	}
}

/*
 * Remove the whole pages [first, end) from every mapping and the cache; with
 * @even_cows (truncate) the private COW copies of them too.
 */
static void invalidate_pages(struct gup_file *f, uint64_t first, uint64_t end, bool even_cows)
{
	if (first >= end)
		return;
	unmap_mapping_pages(f, first, end - first, even_cows);
	truncate_cache_range(f, first, end);
	unmap_mapping_pages(f, first, end - first, even_cows);	/* COW copies made meanwhile */
}

/* DAX: the blocks go only when nothing pins them; else nothing changes. */
static int dax_truncate(struct gup_file *f, uint64_t size)
{
	uint64_t old;
	int ret;

	down_write(&f->invalidate_lock);
	old = file_size(f);
	if (size < old) {
		ret = dax_break_layouts(f, size_in_pages(size), size_in_pages(old), true);
		if (ret) {
			up_write(&f->invalidate_lock);
			return ret;
		}
		dax_zero_range(f, size, old - size);
	}
	spin_lock(&f->lock);
	write_once_u64(&f->size, size);
	spin_unlock(&f->lock);
	up_write(&f->invalidate_lock);
	return 0;
}

static int file_truncate(struct gup_file *f, uint64_t size)
{
	uint64_t old;

	if (size > f->max_size)
		return -EFBIG;
	if (f->flags & GUP_FILE_DAX)
		return dax_truncate(f, size);
	down_write(&f->invalidate_lock);
	spin_lock(&f->lock);
	old = file_size(f);
	write_once_u64(&f->size, size);
	spin_unlock(&f->lock);
	if (size < old) {
		/* The tail of the last page reads as zeros from now on. */
		if (size & ~PAGE_MASK)
			zero_cached_range(f, size, PAGE_SIZE - (size & ~PAGE_MASK));
		invalidate_pages(f, size_in_pages(size), size_in_pages(old), true);
		disk_zero_range(f, size, old - size);
	}
	up_write(&f->invalidate_lock);
	return 0;
}

static int file_punch_hole(struct gup_file *f, uint64_t off, uint64_t len)
{
	uint64_t size = file_size(f), end, first, last;

	if (off >= size)
		return 0;
	end = len > size - off ? size : off + len;
	first = size_in_pages(off);
	last = end >> PAGE_SHIFT;
	down_write(&f->invalidate_lock);
	if (f->flags & GUP_FILE_DAX) {
		int ret = first < last ? dax_break_layouts(f, first, last, false) : 0;

		if (!ret)
			dax_zero_range(f, off, end - off);
		up_write(&f->invalidate_lock);
		return ret;
	}
	if (first > last) {		/* inside one page */
		zero_cached_range(f, off, end - off);
	} else {
		zero_cached_range(f, off, (first << PAGE_SHIFT) - off);
		zero_cached_range(f, last << PAGE_SHIFT, end - (last << PAGE_SHIFT));
		invalidate_pages(f, first, last, false);	/* private data stays */
	}
	disk_zero_range(f, off, end - off);
	up_write(&f->invalidate_lock);
	return 0;
}

/* ---- lifetime ---- */

/* Drop the cache and the disk: the last reference is gone.  The struct stays. */
void file_drop_pages(struct gup_file *f)
{
	for (uint64_t i = 0; i < file_nr_slots(f); i++) {
		struct page *page = f->pages[i];

		if (!page)
			continue;
		f->pages[i] = NULL;
		write_once_uptr(&page->mapping, 0);
		if (PageDax(page))
			ClearPageDax(page);
		put_page(f->w, page);	/* pins still held keep the frame */
	}
}

static void file_release(struct gup_file *f)
{
	file_drop_pages(f);
	if (f->disk)
		atomic_dec(&f->disk->users);
	f->disk = NULL;
}

void file_get(struct gup_file *f)
{
	atomic_inc(&f->refs);
}

void file_put(struct gup_file *f)
{
	if (!atomic_dec_and_test(&f->refs))
		return;
	/* No VMA maps it, no handle: dirty data goes to the disk, then the cache.
	 * The struct itself stays until the world goes, so that a closed handle
	 * keeps answering -EBADF instead of being a dangling pointer. */
	if (!(f->flags & GUP_FILE_DAX))
		filemap_write_range(f, 0, file_nr_slots(f));
	file_release(f);
}

void files_destroy(struct gup_world *w)
{
	while (!list_empty(&w->file_list)) {
		struct gup_file *f = list_entry(w->file_list.next, struct gup_file, list);

		list_del(&f->list);
		if (atomic_read(&f->refs))
			file_release(f);	/* never closed (reported by the world) */
		rwsem_destroy(&f->invalidate_lock);
		mutex_destroy(&f->i_mmap_lock);
		free(f->pages);
		free(f);
	}
}

/* ---- the API ---- */

static int file_handle_ok(struct gup_file *f)
{
	if (!f)
		return -EINVAL;
	return read_once_bool(&f->closed) ? -EBADF : 0;
}

GUP_API int gup_file_create(struct gup_world *w, const struct gup_file_config *cfg,
			    struct gup_file **out)
{
	bool memfd = cfg && (cfg->flags & GUP_FILE_MEMFD);
	struct gup_file *f;
	uint64_t max;
	int ret;

	bool dax = cfg && (cfg->flags & GUP_FILE_DAX);

	/* Storage: a disk extent, or none (memfd: the cache; DAX: its own frames). */
	if (!w || !cfg || !out || (cfg->flags & ~(GUP_FILE_MEMFD | GUP_FILE_DAX)) ||
	    (memfd && dax) || (memfd || dax) != !cfg->disk || !cfg->max_size ||
	    cfg->size > cfg->max_size || cfg->max_size > (UINT64_C(1) << 40) ||
	    (cfg->disk && cfg->disk->w != w))
		return -EINVAL;
	max = (cfg->max_size + PAGE_SIZE - 1) & PAGE_MASK;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->pages = calloc(max >> PAGE_SHIFT, sizeof(*f->pages));
	if (!f->pages) {
		free(f);
		return -ENOMEM;
	}
	if (cfg->disk) {
		ret = disk_alloc_extent(cfg->disk, max, &f->disk_off);
		if (ret) {
			free(f->pages);
			free(f);
			return ret;
		}
		atomic_inc(&cfg->disk->users);
	}
	f->w = w;
	f->disk = cfg->disk;
	f->max_size = max;
	f->flags = cfg->flags;
	atomic_init(&f->size, cfg->size);
	/* Past the size the extent is unwritten: it reads as zeros when the file grows. */
	disk_zero_range(f, cfg->size, max - cfg->size);
	INIT_LIST_HEAD(&f->leases);
	f->break_ns = cfg->lease_break_ns ? cfg->lease_break_ns : DAX_BREAK_NS_DEFAULT;
	if (dax) {
		ret = dax_file_init(f);
		if (ret) {
			free(f->pages);
			free(f);
			return ret;
		}
	}
	init_rwsem(&f->invalidate_lock);
	mutex_init(&f->i_mmap_lock);
	INIT_LIST_HEAD(&f->i_mmap);
	spin_lock_init(&f->lock);
	atomic_set(&f->refs, 1);
	spin_lock(&w->lock);
	f->id = w->next_id++;
	list_add(&f->list, &w->file_list);
	spin_unlock(&w->lock);
	*out = f;
	return 0;
}

GUP_API int gup_file_close(struct gup_file *f)
{
	int ret = file_handle_ok(f);

	if (ret)
		return ret;
	write_once_bool(&f->closed, true);
	file_put(f);
	return 0;
}

static int file_rw_ok(struct gup_file *f, const void *buf, size_t len)
{
	int ret = file_handle_ok(f);

	return ret ? ret : (!buf && len) ? -EINVAL : 0;
}

GUP_API long gup_file_pread(struct gup_file *f, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	int ret = file_rw_ok(f, buf, len);

	if (ret)
		return ret;
	if (f->flags & GUP_FILE_DAX)
		return off >= f->max_size ? 0 : dax_rw(f, buf, len > f->max_size - off ?
						       f->max_size - off : len, off, false);
	while (done < len) {
		uint64_t pos = off + done, size = file_size(f), in, n;
		struct page *page;
		uint8_t *data;

		if (pos >= size)
			break;
		in = pos & ~PAGE_MASK;
		n = PAGE_SIZE - in;
		n = n > len - done ? len - done : n;
		n = n > size - pos ? size - pos : n;
		ret = filemap_get_locked(f, pos >> PAGE_SHIFT, true, &page);
		if (ret)
			return done ? (long)done : ret;
		data = page_data(&f->w->arena, page);
		mem_copy_from_shared((uint8_t *)buf + done, data + in, n, data);
		unlock_page(page);
		put_page(f->w, page);
		done += n;
	}
	return (long)done;
}

GUP_API long gup_file_pwrite(struct gup_file *f, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	int ret = file_rw_ok(f, buf, len);

	if (ret)
		return ret;
	if (!len)
		return 0;	/* before the limit, as generic_write_checks_count */
	if (off >= f->max_size || len > f->max_size - off)
		return -EFBIG;
	if (f->flags & GUP_FILE_DAX)
		return dax_rw(f, (void *)buf, len, off, true);
	while (done < len) {
		uint64_t pos = off + done, in = pos & ~PAGE_MASK, n = PAGE_SIZE - in;
		struct page *page;
		uint8_t *data;

		n = n > len - done ? len - done : n;
		ret = filemap_get_locked(f, pos >> PAGE_SHIFT, true, &page);
		if (ret)
			return done ? (long)done : ret;
		data = page_data(&f->w->arena, page);
		mem_copy_to_shared(data + in, (const uint8_t *)buf + done, n, data);
		if (!PageDirty(page))
			SetPageDirty(page);
		spin_lock(&f->lock);
		if (file_size(f) < pos + n)
			write_once_u64(&f->size, pos + n);
		spin_unlock(&f->lock);
		unlock_page(page);
		put_page(f->w, page);
		done += n;
	}
	return (long)done;
}

GUP_API int gup_file_fsync(struct gup_file *f)
{
	int ret = file_handle_ok(f);

	if (ret || (f->flags & GUP_FILE_DAX))
		return ret;	/* DAX: the stores are the storage */
	return filemap_write_range(f, 0, file_nr_slots(f));
}

GUP_API int gup_file_truncate(struct gup_file *f, uint64_t size)
{
	int ret = file_handle_ok(f);

	return ret ? ret : file_truncate(f, size);
}

GUP_API int gup_file_fallocate(struct gup_file *f, int mode, uint64_t off, uint64_t len)
{
	int ret = file_handle_ok(f);

	if (ret)
		return ret;
	if (!len || off + len < off)
		return -EINVAL;
	if (mode == (GUP_FALLOC_FL_PUNCH_HOLE | GUP_FALLOC_FL_KEEP_SIZE))
		return file_punch_hole(f, off, len);
	if (mode & GUP_FALLOC_FL_PUNCH_HOLE)
		return -EOPNOTSUPP;	/* PUNCH_HOLE needs KEEP_SIZE, as in Linux */
	if (mode & ~GUP_FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	if (off + len > f->max_size)
		return -EFBIG;
	if (mode & GUP_FALLOC_FL_KEEP_SIZE)
		return 0;	/* the extent is allocated already */
	down_write(&f->invalidate_lock);
	spin_lock(&f->lock);
	if (file_size(f) < off + len)
		write_once_u64(&f->size, off + len);
	spin_unlock(&f->lock);
	up_write(&f->invalidate_lock);
	return 0;
}

GUP_API int gup_file_info(struct gup_file *f, struct gup_file_info *info)
{
	struct gup_vma *vma;
	int ret = file_handle_ok(f);

	if (ret)
		return ret;
	if (!info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->size = file_size(f);
	info->max_size = f->max_size;
	spin_lock(&f->lock);
	for (uint64_t i = 0; i < file_nr_slots(f); i++) {
		if (!f->pages[i])
			continue;
		info->nr_cached++;
		info->nr_dirty += PageDirty(f->pages[i]);
	}
	spin_unlock(&f->lock);
	mutex_lock(&f->i_mmap_lock);
	list_for_each_entry(vma, &f->i_mmap, struct gup_vma, shared)
		info->nr_mapped++;
	mutex_unlock(&f->i_mmap_lock);
	return 0;
}
