/* SPDX-License-Identifier: MIT */
/*
 * src/io/fixed.c - io_uring-style registered ("fixed") buffers (docs/io.md).
 *
 * Registration pins every page of each buffer once, with FOLL_PIN|FOLL_LONGTERM|
 * FOLL_WRITE as io_uring's buffer registration does (cow.c A7/A8 test exactly
 * this pin): long-term, so the pages leave ZONE_MOVABLE first; writable, so a
 * COW-shared page is broken at registration and the pin is the task's own page.
 * A fixed request then names a buffer and an offset: its chunks point into the
 * pinned pages, and no GUP runs at I/O time - which is why such a pin must stay
 * coherent with the task across fork (linux-6.x copies maybe-pinned pages for
 * the child; linux-2.6.29 does not, and a later COW in the parent detaches it).
 *
 * Lifetime: @refs counts the registration and every request in flight; the pins
 * go with the last reference, so unregistering under I/O is safe (io_uring keeps
 * its buffer nodes alive the same way).  Everything else is constant after
 * registration, so requests may be submitted from any thread.
 */
#include <stdlib.h>

#include "io/io.h"

struct fixed_buf {
	uint64_t base;
	size_t len;
	unsigned long nr_pages;
	struct page **pages;		/* pinned long-term */
};

struct gup_fixed_buffers {
	struct gup_world *w;		/* constant */
	atomic_t refs;			/* the registration + requests in flight */
	unsigned nr;			/* constant */
	struct fixed_buf bufs[];	/* constant after registration */
};

/* Unpin the first @nr buffers and free the registration. */
static void fixed_buffers_free(struct gup_fixed_buffers *fb, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++) {
		io_release_pages(fb->bufs[i].pages, fb->bufs[i].nr_pages, true, false);
		free(fb->bufs[i].pages);
	}
	free(fb);
}

static void fixed_buffers_put(struct gup_fixed_buffers *fb)
{
	if (atomic_dec_and_test(&fb->refs))
		fixed_buffers_free(fb, fb->nr);
}

static int fixed_buf_check(const struct gup_iovec *iov)
{
	if (!iov->len || iov->len > GUP_FIXED_MAX_LEN)
		return -EINVAL;
	if (iov->base + iov->len < iov->base || iov->base + iov->len > GUP_TASK_SIZE)
		return -EFAULT;
	return 0;
}

static int fixed_buf_pin(struct gup_task *t, struct fixed_buf *b, const struct gup_iovec *iov)
{
	int ret;

	b->base = iov->base;
	b->len = iov->len;
	b->nr_pages = io_span_pages(iov->base, iov->len);
	b->pages = calloc(b->nr_pages, sizeof(*b->pages));
	if (!b->pages)
		return -ENOMEM;
	ret = io_gup_fast(t, iov->base, b->nr_pages, FOLL_WRITE | FOLL_LONGTERM, true,
			  b->pages);
	if (ret) {
		free(b->pages);
		b->pages = NULL;
	}
	return ret;
}

GUP_API int gup_fixed_buffers_register(struct gup_task *t, const struct gup_iovec *iov,
				       unsigned nr, struct gup_fixed_buffers **out)
{
	struct gup_fixed_buffers *fb;
	int ret;

	if (!t || !iov || !out || !nr || nr > GUP_FIXED_MAX_BUFFERS)
		return -EINVAL;
	for (unsigned i = 0; i < nr; i++) {
		ret = fixed_buf_check(&iov[i]);
		if (ret)
			return ret;
	}
	fb = calloc(1, sizeof(*fb) + nr * sizeof(fb->bufs[0]));
	if (!fb)
		return -ENOMEM;
	fb->w = t->w;
	fb->nr = nr;
	atomic_set(&fb->refs, 1);
	for (unsigned i = 0; i < nr; i++) {
		ret = fixed_buf_pin(t, &fb->bufs[i], &iov[i]);
		if (ret) {
			fixed_buffers_free(fb, i);
			return ret;
		}
	}
	*out = fb;
	return 0;
}

GUP_API int gup_fixed_buffers_unregister(struct gup_fixed_buffers *fb)
{
	if (!fb)
		return -EINVAL;
	fixed_buffers_put(fb);
	return 0;
}

/* A fixed request's completion: a DMA into memory dirties the frames; drop our hold. */
static void fixed_dio_release(struct gup_dio *req)
{
	if (req->to_memory)
		for (unsigned long i = 0; i < req->nr_chunks; i++)
			io_set_page_dirty_lock(req->chunks[i].page);
	fixed_buffers_put(req->release_arg);
}

GUP_API int gup_dio_submit_fixed(struct gup_fixed_buffers *fb, unsigned index, size_t offset,
				 size_t len, struct gup_disk *d, int op, uint64_t pos,
				 struct gup_dio **out)
{
	const struct fixed_buf *b;
	struct dma_engine *e;
	struct gup_dio *req;
	uint64_t addr;
	int ret;

	if (!fb || !d || !out || fb->w != d->w || index >= fb->nr || !dio_op_ok(op))
		return -EINVAL;
	b = &fb->bufs[index];
	if (offset > b->len || len > b->len - offset)
		return -EFAULT;
	addr = b->base + offset;
	if ((addr | len) % SECTOR_SIZE)
		return -EINVAL;
	ret = dio_range_ok(d, pos, len);
	if (ret)
		return ret;
	e = dma_engine_get(fb->w, &ret);
	if (!e)
		return ret;
	req = dio_alloc(e, io_span_pages(addr, len), 0);
	if (!req)
		return -ENOMEM;
	/* The pinned pages from @addr's on: no GUP, no page tables. */
	req->nr_chunks = io_fill_chunks(req->chunks, addr, len,
					b->pages + ((addr >> PAGE_SHIFT) - (b->base >> PAGE_SHIFT)));
	req->release = fixed_dio_release;
	req->release_arg = fb;
	atomic_inc(&fb->refs);
	count_vm_event(fb->w, op == GUP_DIO_READ ? GUP_STAT_DIO_READ : GUP_STAT_DIO_WRITE);
	dio_queue(req, d, op, pos);
	*out = req;
	return 0;
}
