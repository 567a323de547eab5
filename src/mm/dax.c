/* SPDX-License-Identifier: MIT */
/*
 * src/mm/dax.c - fs-DAX files, and revocable long-term pins on them (leases).
 *
 * A DAX file's blocks are frames (persistent memory): created with the file, one
 * storage reference each, mapped directly by faults - no page cache, no disk.  The
 * filesystem cannot free or reuse a block while a device may still write it, so:
 *
 *  - truncate and punch-hole unmap the range, then wait until no page of it holds
 *    a reference beyond the storage's (Linux: dax_layout_busy_page_range and the
 *    wait for the page refcount to drop to 1), and only then zero the blocks (our
 *    "free");
 *  - FOLL_LONGTERM on a DAX VMA is refused with -EOPNOTSUPP (check_vma_flags): a
 *    long-term pin would block truncate forever.
 *
 * Beyond Linux, as seed 001 proposed and Linux never merged: a lease is a long-term
 * pin registered against the file range it pins, with a callback.  Truncate or
 * punch-hole over it breaks it - calls the holder - and waits, up to the file's
 * break timeout, for the holder to release it; a holder that does not gives
 * truncate -ETIMEDOUT and leaves the file as it was.  Short-term pins get the same
 * bounded wait: a clear error instead of a hang.
 *
 * Waking: a release of a reference on a DAX page (unpin, put) or of a lease wakes
 * world->dax_wq; the waiter re-checks the whole range.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/fault.h"
#include "mm/filemap.h"
#include "world.h"
#include "debug.h"

struct gup_lease {
	struct gup_file *f;
	uint64_t first, nr;		/* the pinned pgoff range (constant) */
	struct gup_page **pages;	/* the pins, nr of them (constant) */
	bool dirty;			/* pinned for write: unpin dirties */
	void (*on_break)(struct gup_lease *lease, void *arg);
	void *arg;
	bool broken;			/* under f->lock */
	struct list_head list;		/* f->leases, under f->lock */
};

/* ---- blocks ---- */

int dax_file_init(struct gup_file *f)
{
	for (uint64_t i = 0; i < file_nr_slots(f); i++) {
		struct page *page = alloc_page(f->w, GFP_KERNEL | GFP_ZERO);

		if (!page) {
			file_drop_pages(f);
			return -ENOMEM;
		}
		page_init_private(page, (UINT64_C(1) << PG_dax) | (UINT64_C(1) << PG_uptodate),
				  PAGE_REF_ONE /* the storage's */, i, false);
		init_private_uptr(&page->mapping, (uintptr_t)f);
		f->pages[i] = page;
	}
	return 0;
}

void dax_page_released(struct page *page)
{
	wake_up_all(&page->w->dax_wq);
}

/* ---- the fault: map the block itself ---- */

static unsigned dax_fault(struct vm_fault *vmf)
{
	struct gup_file *f = vmf->vma->vm_private;
	struct page *page = NULL;

	/* Shared, as DAX faults take it: truncate holds it while blocks go. */
	down_read(&f->invalidate_lock);
	if (vmf->pgoff < (file_size(f) + PAGE_SIZE - 1) >> PAGE_SHIFT) {
		page = f->pages[vmf->pgoff];
		get_page(page);
	}
	up_read(&f->invalidate_lock);
	if (!page)
		return VM_FAULT_SIGBUS;
	/* Locked until mapped, so a truncate that starts now unmaps it after. */
	lock_page(page);
	if (vmf->pgoff >= (file_size(f) + PAGE_SIZE - 1) >> PAGE_SHIFT) {
		unlock_page(page);
		put_page(vmf->w, page);
		return VM_FAULT_NOPAGE;
	}
	vmf->page = page;
	return VM_FAULT_LOCKED;
}

/* Shared writes go straight to the storage: no write notification. */
const struct vm_operations dax_vm_ops = {
	.fault = dax_fault,
	.open = file_vma_open,
	.close = file_vma_close,
	.name = "dax",
};

/* ---- pread/pwrite: copies to and from the blocks (mapped, maybe pinned) ---- */

long dax_rw(struct gup_file *f, void *buf, size_t len, uint64_t off, bool write)
{
	size_t done = 0;

	down_read(&f->invalidate_lock);
	while (done < len) {
		uint64_t pos = off + done, in = pos & ~PAGE_MASK, n = PAGE_SIZE - in, size;
		struct page *page = f->pages[pos >> PAGE_SHIFT];
		uint8_t *data = page_data(&f->w->arena, page);

		n = n > len - done ? len - done : n;
		if (write) {
			mem_copy_to_shared(data + in, (const uint8_t *)buf + done, n, data);
			spin_lock(&f->lock);
			if (file_size(f) < pos + n)
				write_once_u64(&f->size, pos + n);
			spin_unlock(&f->lock);
		} else {
			size = file_size(f);
			if (pos >= size)
				break;
			n = n > size - pos ? size - pos : n;
			mem_copy_from_shared((uint8_t *)buf + done, data + in, n, data);
		}
		done += n;
	}
	up_read(&f->invalidate_lock);
	return (long)done;
}

/* ---- truncate and punch-hole: break leases, wait for pins ---- */

static bool lease_overlaps(const struct gup_lease *l, uint64_t first, uint64_t end)
{
	return l->first < end && first < l->first + l->nr;
}

/* Call the holders of the leases over [first, end) that are not broken yet. */
static void break_leases(struct gup_file *f, uint64_t first, uint64_t end)
{
	struct gup_lease *l;

again:
	spin_lock(&f->lock);
	list_for_each_entry(l, &f->leases, struct gup_lease, list) {
		if (l->broken || !lease_overlaps(l, first, end))
			continue;
		l->broken = true;
		spin_unlock(&f->lock);
		count_vm_event(f->w, GUP_STAT_DAX_LEASE_BREAK);
		/* Without locks but invalidate_lock: the holder may release at once. */
		l->on_break(l, l->arg);
		goto again;	/* the list may have changed */
	}
	spin_unlock(&f->lock);
}

struct busy_range {
	struct gup_file *f;
	uint64_t first, end;
};

/* No lease over the range, and no block of it referenced beyond its storage. */
static bool dax_range_idle(void *arg)
{
	struct busy_range *r = arg;
	struct gup_file *f = r->f;
	struct gup_lease *l;
	bool idle = true;

	spin_lock(&f->lock);
	list_for_each_entry(l, &f->leases, struct gup_lease, list)
		if (lease_overlaps(l, r->first, r->end))
			idle = false;
	spin_unlock(&f->lock);
	for (uint64_t i = r->first; idle && i < r->end; i++)
		if (page_ref_count(f->pages[i]) != 1)
			idle = false;
	return idle;
}

/*
 * Make [first, end) free to go: unmap it (private COW copies too if @even_cows:
 * truncate, not punch-hole), break its leases, wait for every pin.
 * invalidate_lock held for write (no fault maps it again meanwhile).
 * Return: 0, or -ETIMEDOUT if the file's break timeout passed with pins left.
 */
int dax_break_layouts(struct gup_file *f, uint64_t first, uint64_t end, bool even_cows)
{
	struct busy_range r = { f, first, end };
	int ret;

	if (first >= end)
		return 0;
	unmap_mapping_pages(f, first, end - first, even_cows);
	if (dax_range_idle(&r))
		return 0;
	break_leases(f, first, end);
	ret = wait_event_timeout_fn(&f->w->dax_wq, dax_range_idle, &r, NULL, f->break_ns);
	if (ret) {
		count_vm_event(f->w, GUP_STAT_DAX_BREAK_TIMEOUT);
		return -ETIMEDOUT;
	}
	return 0;
}

/* Zero [off, off+len) of the blocks: freed blocks read back as zeros. */
void dax_zero_range(struct gup_file *f, uint64_t off, uint64_t len)
{
	while (len) {
		uint64_t in = off & ~PAGE_MASK, n = PAGE_SIZE - in;
		struct page *page = f->pages[off >> PAGE_SHIFT];
		uint8_t *data = page_data(&f->w->arena, page);

		n = n > len ? len : n;
		mem_set_shared(data + in, 0, n, data);	/* it may be pinned */
		off += n;
		len -= n;
	}
}

/* ---- leases ---- */

/* The DAX VMA of @f that maps all of [addr, addr + len), or NULL.  mmap lock held. */
static struct gup_vma *lease_vma(struct gup_mm *mm, struct gup_file *f, uint64_t addr,
				 uint64_t len)
{
	struct gup_vma *vma = vma_lookup(mm, addr);

	if (!vma || vma_file(vma) != f || vma->vm_ops != &dax_vm_ops ||
	    !(vma->vm_flags & VM_SHARED) || vma_end(vma) - addr < len)
		return NULL;
	return vma;
}

GUP_API int gup_lease_pin(struct gup_task *t, struct gup_file *f, uint64_t addr,
			  unsigned long nr_pages, unsigned gup_flags,
			  void (*on_break)(struct gup_lease *lease, void *arg), void *arg,
			  struct gup_lease **out)
{
	struct gup_lease *l;
	struct gup_vma *vma;
	uint64_t len = (uint64_t)nr_pages << PAGE_SHIFT;
	long got;
	int ret;

	if (!t || !f || !on_break || !out || !nr_pages || (addr & ~PAGE_MASK) ||
	    (gup_flags & ~GUP_FOLL_WRITE) || f->w != t->w || nr_pages > file_nr_slots(f))
		return -EINVAL;
	if (read_once_bool(&f->closed))
		return -EBADF;
	if (!(f->flags & GUP_FILE_DAX))
		return -EOPNOTSUPP;	/* only DAX blocks are the storage itself */
	l = calloc(1, sizeof(*l));
	if (l)
		l->pages = calloc(nr_pages, sizeof(*l->pages));
	if (!l || !l->pages) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = gup_mmap_read_lock(t, t->mm);
	if (ret)
		goto out_free;
	vma = lease_vma(t->mm, f, addr, len);
	if (!vma) {
		gup_mmap_read_unlock(t, t->mm);
		ret = -EINVAL;
		goto out_free;
	}
	l->first = linear_page_index(vma, addr);
	/* A plain pin: the lease, not FOLL_LONGTERM, is what makes it long-term. */
	got = gup_pin_user_pages(t, addr, nr_pages, gup_flags, l->pages);
	gup_mmap_read_unlock(t, t->mm);
	if (got != (long)nr_pages) {
		if (got > 0)
			gup_unpin_user_pages(l->pages, (unsigned long)got);
		ret = got < 0 ? (int)got : -EFAULT;
		goto out_free;
	}
	l->f = f;
	l->nr = nr_pages;
	l->dirty = gup_flags & GUP_FOLL_WRITE;
	l->on_break = on_break;
	l->arg = arg;
	file_get(f);
	spin_lock(&f->lock);
	list_add(&l->list, &f->leases);
	spin_unlock(&f->lock);
	count_vm_event(f->w, GUP_STAT_DAX_LEASE);
	*out = l;
	return 0;

out_free:
	if (l)
		free(l->pages);
	free(l);
	return ret;
}

GUP_API void gup_lease_release(struct gup_lease *l)
{
	struct gup_file *f;

	if (!l)
		return;
	f = l->f;
	spin_lock(&f->lock);
	list_del(&l->list);
	spin_unlock(&f->lock);
	gup_unpin_user_pages_dirty_lock(l->pages, l->nr, l->dirty);
	wake_up_all(&f->w->dax_wq);
	file_put(f);
	free(l->pages);
	free(l);
}

GUP_API struct gup_page *gup_lease_page(struct gup_lease *l, unsigned long i)
{
	return l && i < l->nr ? l->pages[i] : NULL;
}

GUP_API bool gup_lease_broken(struct gup_lease *l)
{
	bool broken;

	if (!l)
		return false;
	spin_lock(&l->f->lock);
	broken = l->broken;
	spin_unlock(&l->f->lock);
	return broken;
}
