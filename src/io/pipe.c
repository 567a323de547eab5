/* SPDX-License-Identifier: MIT */
/*
 * src/io/pipe.c - a pipe, and vmsplice into it (docs/io.md).
 *
 * vmsplice(2) moves no bytes: each page of the user's range is referenced with
 * GUP - FOLL_GET and no FOLL_WRITE, on every policy, since Linux's vmsplice has
 * always asked for read access only (get_user_pages then, iov_iter_get_pages2
 * now) - and the pipe keeps the reference until a reader has copied the bytes out
 * of the frame.  What the reader sees is whatever the frame holds at read time.
 * That is CVE-2020-29374's shape (cow.c A3-A6): after fork the page is shared,
 * and once one side unmaps it, the other side's write fault decides whether the
 * pipe's frame changes under it.  linux-6.x reuses a non-exclusive anon page only
 * if it holds the sole reference (the pipe's makes two), so the writer gets a
 * copy; linux-2.6.29 reuses it when it is mapped once, and the write shows
 * through the pipe.
 *
 * Locking: p->lock (a leaf spinlock) guards the ring.  GUP runs before it is
 * taken, and references are dropped after it is released (a put may free the
 * frame, which takes allocator locks above it).
 */
#include <stdlib.h>

#include "io/io.h"

struct pipe_buf {
	struct page *page;		/* a FOLL_GET reference */
	uint32_t off, len;		/* the bytes still to read */
};

struct gup_pipe {
	struct gup_world *w;			/* constant */
	spinlock_t lock;			/* leaf: head, tail, bufs */
	unsigned head, tail;			/* bufs[tail..head) hold data, mod size */
	struct pipe_buf bufs[GUP_PIPE_BUFFERS];
};

GUP_API int gup_pipe_create(struct gup_world *w, struct gup_pipe **out)
{
	struct gup_pipe *p;

	if (!w || !out)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->w = w;
	spin_lock_init(&p->lock);
	*out = p;
	return 0;
}

GUP_API void gup_pipe_destroy(struct gup_pipe *p)
{
	if (!p)
		return;
	for (unsigned i = p->tail; i != p->head; i++)
		io_release_pages(&p->bufs[i % GUP_PIPE_BUFFERS].page, 1, false, false);
	free(p);
}

static bool pipe_full(struct gup_pipe *p)
{
	bool full;

	spin_lock(&p->lock);
	full = p->head - p->tail == GUP_PIPE_BUFFERS;
	spin_unlock(&p->lock);
	return full;
}

/* Queue one referenced piece of a page; false (nothing queued) if the pipe is full. */
static bool pipe_push(struct gup_pipe *p, struct page *page, uint32_t off, uint32_t len)
{
	bool room;

	spin_lock(&p->lock);
	room = p->head - p->tail < GUP_PIPE_BUFFERS;
	if (room) {
		p->bufs[p->head % GUP_PIPE_BUFFERS] = (struct pipe_buf){ page, off, len };
		p->head++;
	}
	spin_unlock(&p->lock);
	return room;
}

/* Splice what fits of [addr, addr + len): bytes queued, or -errno if none. */
static long vmsplice_seg(struct gup_pipe *p, struct gup_task *t, uint64_t addr, size_t len)
{
	size_t done = 0;

	while (done < len && !pipe_full(p)) {
		uint64_t a = addr + done;
		uint32_t off = (uint32_t)(a & ~PAGE_MASK);
		size_t n = PAGE_SIZE - off;
		struct page *page;
		int ret;

		if (n > len - done)
			n = len - done;
		ret = io_gup_fast(t, a, 1, 0, false, &page);	/* FOLL_GET, read-only */
		if (ret)
			return done ? (long)done : ret;
		if (!pipe_push(p, page, off, (uint32_t)n)) {
			io_release_pages(&page, 1, false, false);	/* filled meanwhile */
			break;
		}
		count_task_event(t->w, t, GUP_STAT_VMSPLICE_PAGES);
		done += n;
	}
	return (long)done;
}

GUP_API long gup_vmsplice(struct gup_pipe *p, struct gup_task *t, const struct gup_iovec *iov,
			  unsigned nr_segs)
{
	long total = (p && t && p->w == t->w) ? io_iov_check(iov, nr_segs, 1) : -EINVAL;
	long done = 0;

	if (total <= 0)
		return total;
	for (unsigned i = 0; i < nr_segs; i++) {
		long ret = vmsplice_seg(p, t, iov[i].base, iov[i].len);

		if (ret < 0)
			return done ? done : ret;
		done += ret;
		if ((size_t)ret < iov[i].len)
			break;		/* the pipe is full */
	}
	return done ? done : -EAGAIN;
}

GUP_API long gup_pipe_read(struct gup_pipe *p, void *buf, size_t len)
{
	struct page *emptied[GUP_PIPE_BUFFERS];
	unsigned nr_emptied = 0;
	size_t got = 0;
	bool empty;

	if (!p || (!buf && len))
		return -EINVAL;
	spin_lock(&p->lock);
	empty = p->head == p->tail;
	while (got < len && p->tail != p->head) {
		struct pipe_buf *b = &p->bufs[p->tail % GUP_PIPE_BUFFERS];
		size_t n = b->len < len - got ? b->len : len - got;
		uint8_t *frame = page_data(&p->w->arena, b->page);

		/* By physical page: whatever the frame holds now. */
		mem_copy_from((uint8_t *)buf + got, frame + b->off, n, frame);
		b->off += (uint32_t)n;
		b->len -= (uint32_t)n;
		got += n;
		if (!b->len) {
			emptied[nr_emptied++] = b->page;
			p->tail++;
		}
	}
	spin_unlock(&p->lock);
	io_release_pages(emptied, nr_emptied, false, false);
	return empty && len ? -EAGAIN : (long)got;
}
