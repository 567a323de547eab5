/* SPDX-License-Identifier: MIT */
/*
 * src/io/pvm.c - process_vm_readv / process_vm_writev (docs/io.md).
 *
 * As mm/process_vm_access.c does it: the remote side is referenced in batches
 * of up to PVM_BATCH pages with the remote GUP under the target mm's mmap lock,
 * passing `locked` so that GUP may drop the lock to wait (linux_anchor 1.8), then
 * the lock is released and the bytes are copied between the frames (by physical
 * page) and the caller's own memory (a CPU access through its TLB, which may
 * fault), and the batch is released - dirtied for a write.  FOLL_WRITE breaks COW
 * in the target, so a write never reaches another process sharing the page.
 * The references are pins on linux-6.x (pin_user_pages_remote) and FOLL_GET on
 * linux-2.6.29 (get_user_pages_remote).
 *
 * The result is Linux's: bytes copied if any, else the first error; the copy
 * stops at the first remote hole, local fault, or the end of either side.
 */
#include "io/io.h"

/* Pages referenced per remote GUP call (Linux: PVM_MAX_PP_ARRAY_COUNT). */
#define PVM_BATCH	16

/* The caller's side, consumed in order. */
struct iov_cursor {
	const struct gup_iovec *iov;
	unsigned long nr, i;
	size_t off;			/* within iov[i] */
};

/*
 * The next up to @max contiguous bytes of the cursor at *@addr, within one page
 * (so that a local fault stops the copy exactly there); 0 at the end.
 */
static size_t cursor_take(struct iov_cursor *c, size_t max, uint64_t *addr)
{
	size_t n;

	while (c->i < c->nr && c->off == c->iov[c->i].len) {
		c->i++;
		c->off = 0;
	}
	if (c->i == c->nr)
		return 0;
	*addr = c->iov[c->i].base + c->off;
	n = c->iov[c->i].len - c->off;
	if (n > max)
		n = max;
	if (n > PAGE_SIZE - (*addr & ~PAGE_MASK))
		n = PAGE_SIZE - (*addr & ~PAGE_MASK);
	c->off += n;
	return n;
}

struct pvm_ctx {
	struct gup_task *t;		/* the caller ("current") */
	struct gup_mm *mm;		/* the target */
	bool write;			/* process_vm_writev */
	bool pin;			/* the policy's reference */
	struct iov_cursor local;
	uint64_t done;			/* bytes copied so far */
	int err;			/* what stopped the copy */
	bool stop;
};

/* Reference up to @nr remote pages from @addr's page.  Count, or -errno. */
static long pvm_grab(struct pvm_ctx *c, uint64_t addr, unsigned long nr, struct page **pages)
{
	struct gup_page **gp = (struct gup_page **)pages;
	unsigned flags = c->write ? FOLL_WRITE : 0;
	int locked = 1;
	long got;
	int ret = gup_mmap_read_lock(c->t, c->mm);

	if (ret)
		return ret;
	if (c->pin)
		got = gup_pin_user_pages_remote(c->t, c->mm, addr, nr, flags, gp, &locked);
	else
		got = gup_get_user_pages_remote(c->t, c->mm, addr, nr, flags, gp, &locked);
	if (locked)
		gup_mmap_read_unlock(c->t, c->mm);
	return got ? got : -EFAULT;	/* pin_*_remote reject with 0 */
}

/* Copy one piece between a frame and the caller's memory. */
static int pvm_copy_piece(struct pvm_ctx *c, struct page *page, uint32_t off, size_t n,
			  uint64_t laddr)
{
	uint8_t *frame = page_data(&c->mm->w->arena, page);
	uint8_t bounce[PAGE_SIZE];

	if (c->write) {
		if (gup_load(c->t, laddr, bounce, n))
			return -EFAULT;
		mem_copy_to(frame + off, bounce, n, frame);
		return 0;
	}
	mem_copy_from(bounce, frame + off, n, frame);
	return gup_store(c->t, laddr, bounce, n) ? -EFAULT : 0;
}

/* Copy [addr, addr + len) of the referenced @pages (from @addr's page on). */
static void pvm_copy(struct pvm_ctx *c, struct page **pages, uint64_t addr, size_t len)
{
	struct io_chunk chunks[PVM_BATCH];
	unsigned long nr = io_fill_chunks(chunks, addr, len, pages);

	for (unsigned long i = 0; i < nr && !c->stop; i++) {
		uint32_t off = chunks[i].off;
		size_t left = chunks[i].len;

		while (left && !c->stop) {
			uint64_t laddr;
			size_t n = cursor_take(&c->local, left, &laddr);

			if (!n) {
				c->stop = true;		/* the caller's side is full */
			} else if (pvm_copy_piece(c, chunks[i].page, off, n, laddr)) {
				c->err = -EFAULT;
				c->stop = true;
			} else {
				c->done += n;
				off += (uint32_t)n;
				left -= n;
			}
		}
	}
}

/* One remote segment, batch by batch. */
static void pvm_seg(struct pvm_ctx *c, uint64_t addr, size_t len)
{
	while (len && !c->stop) {
		struct page *pages[PVM_BATCH];
		unsigned long nr = io_span_pages(addr, len);
		size_t bytes;
		long got;

		if (nr > PVM_BATCH)
			nr = PVM_BATCH;
		got = pvm_grab(c, addr & PAGE_MASK, nr, pages);
		if (got < 0) {
			c->err = (int)got;
			c->stop = true;
			break;
		}
		/* The bytes the referenced pages cover (a short count ends at a hole). */
		bytes = ((size_t)got << PAGE_SHIFT) - (addr & ~PAGE_MASK);
		if (bytes > len)
			bytes = len;
		pvm_copy(c, pages, addr, bytes);
		io_release_pages(pages, (unsigned long)got, c->pin, c->write);
		addr += bytes;
		len -= bytes;
	}
}

/* Does @mm still have a task (a live process)? */
static bool mm_has_tasks(struct gup_mm *mm)
{
	size_t n;

	spin_lock(&mm->tasks_lock);
	n = mm->nr_tasks;
	spin_unlock(&mm->tasks_lock);
	return n != 0;
}

/* The remote segments: only their count and lengths are checked up front. */
static long pvm_remote_check(const struct gup_iovec *rvec, unsigned long nr)
{
	uint64_t total = 0;

	if (nr > GUP_IOV_MAX || (nr && !rvec))
		return -EINVAL;
	for (unsigned long i = 0; i < nr; i++) {
		if (rvec[i].len > GUP_IO_MAX_BYTES - total)
			return -EINVAL;
		total += rvec[i].len;
	}
	return (long)total;
}

static long process_vm_rw(struct gup_task *t, struct gup_mm *mm, const struct gup_iovec *lvec,
			  unsigned long liovcnt, const struct gup_iovec *rvec,
			  unsigned long riovcnt, unsigned long flags, bool write)
{
	struct pvm_ctx c = { .t = t, .mm = mm, .write = write,
			     .local = { .iov = lvec, .nr = liovcnt } };
	long ltotal, rtotal;

	if (!t || !mm || t->w != mm->w || flags)
		return -EINVAL;
	ltotal = io_iov_check(lvec, liovcnt, 1);
	if (ltotal <= 0)
		return ltotal;		/* nothing to copy: 0, whoever the target is */
	rtotal = pvm_remote_check(rvec, riovcnt);
	if (rtotal < 0)
		return rtotal;
	if (!mm_has_tasks(mm))
		return -ESRCH;
	c.pin = io_ref_pin(t->w);
	for (unsigned long i = 0; i < riovcnt && !c.stop; i++)
		pvm_seg(&c, rvec[i].base, rvec[i].len);
	if (c.done)
		count_task_events(t->w, t, GUP_STAT_PVM_BYTES, c.done);
	return c.done ? (long)c.done : c.err;
}

GUP_API long gup_process_vm_readv(struct gup_task *t, struct gup_mm *mm,
				  const struct gup_iovec *lvec, unsigned long liovcnt,
				  const struct gup_iovec *rvec, unsigned long riovcnt,
				  unsigned long flags)
{
	return process_vm_rw(t, mm, lvec, liovcnt, rvec, riovcnt, flags, false);
}

GUP_API long gup_process_vm_writev(struct gup_task *t, struct gup_mm *mm,
				   const struct gup_iovec *lvec, unsigned long liovcnt,
				   const struct gup_iovec *rvec, unsigned long riovcnt,
				   unsigned long flags)
{
	return process_vm_rw(t, mm, lvec, liovcnt, rvec, riovcnt, flags, true);
}
