/* SPDX-License-Identifier: MIT */
/*
 * src/io/io.h - what the users of GUP share (docs/io.md): segment checks, taking
 * and releasing the references of an I/O, and the DMA engine's request.
 *
 * A user reaches user memory by physical page: it takes references with the GUP
 * the policy prescribes (policy->io_ref), then moves bytes with page_data() and
 * the substrate's movers, never through page tables.
 */
#ifndef GUP_IO_IO_H
#define GUP_IO_IO_H

#include "gup/internal.h"
#include "gup/io.h"
#include "io/disk.h"

/* One piece of an I/O that lies within one frame. */
struct io_chunk {
	struct page *page;
	uint32_t off, len;
};

/* ---- segments (iov.c) ---- */

/* Pages spanned by [addr, addr + len); 0 for an empty range. */
static inline unsigned long io_span_pages(uint64_t addr, size_t len)
{
	if (!len)
		return 0;
	return (unsigned long)(((addr + len - 1) >> PAGE_SHIFT) - (addr >> PAGE_SHIFT) + 1);
}

/*
 * io_iov_check - the segments as a syscall would accept them: @nr <= GUP_IOV_MAX,
 * @iov non-NULL if @nr, each non-empty segment inside user space (else -EFAULT)
 * with base and length multiples of @align (else -EINVAL), the total at most
 * GUP_IO_MAX_BYTES (else -EINVAL).
 * Return: the total bytes, or -errno.
 */
long io_iov_check(const struct gup_iovec *iov, unsigned long nr, uint64_t align);

/* Pages the segments span, summed (a page shared by two segments counts twice). */
unsigned long io_iov_nr_pages(const struct gup_iovec *iov, unsigned long nr);

/*
 * io_fill_chunks - the chunks of [@addr, @addr+@len), one per page, given the
 * frames that back it from @addr's page on.  Returns the number written.
 */
unsigned long io_fill_chunks(struct io_chunk *c, uint64_t addr, size_t len,
			     struct page **pages);

/* ---- references ---- */

/* Does the world's policy hold I/O pages with FOLL_PIN (else FOLL_GET)? */
static inline bool io_ref_pin(struct gup_world *w)
{
	return w->policy->io_ref == IO_REF_PIN;
}

/*
 * io_gup_fast - reference @nr pages of @t's memory from @addr with gup-fast: pin
 * (@pin) or get, with external FOLL flags @flags.  All or nothing.
 * Return: 0, or -errno with nothing held (-EFAULT for a short count).
 */
int io_gup_fast(struct gup_task *t, uint64_t addr, unsigned long nr, unsigned flags,
		bool pin, struct page **pages);

/*
 * io_release_pages - drop what io_gup_fast (or another GUP) took: unpin, or
 * put_page; @dirty first marks each page dirty under its page lock
 * (set_page_dirty_lock: a device wrote it).  NULL entries are skipped.
 */
void io_release_pages(struct page **pages, unsigned long n, bool pin, bool dirty);

/* set_page_dirty_lock on a page a device wrote (never the zero page). */
void io_set_page_dirty_lock(struct page *page);

/* ---- the DMA engine (dma.c) ---- */

struct dma_engine;

/* A request's life: queued -> running -> done (then reaped by gup_dio_wait). */
enum dio_state { DIO_QUEUED, DIO_DONE };	/* running is not a state anyone asks about */

/*
 * struct gup_dio - one transfer.  Built by the submitter, which alone touches it
 * until it is queued; then owned by the engine's worker until @state is DIO_DONE
 * (a release store, after which the worker never touches it again); then by the
 * reaper.  @queue and @live are under the engine's lock.
 */
struct gup_dio {
	struct list_head queue;		/* engine->queue while DIO_QUEUED            */
	struct list_head live;		/* engine->live until reaped                 */
	struct dma_engine *engine;	/* constant                                  */
	struct gup_disk *disk;		/* holds a disk->users count until done      */
	bool to_memory;			/* GUP_DIO_READ                              */
	uint64_t pos;			/* disk byte offset                          */
	unsigned long nr_chunks;
	struct io_chunk *chunks;	/* what moves, in disk order                 */
	/* References to drop at completion: the pages GUP gave (not fixed buffers). */
	unsigned long nr_pages;
	struct page **pages;
	bool pinned;			/* FOLL_PIN, else FOLL_GET                   */
	void (*release)(struct gup_dio *req);	/* extra release (fixed buffers)   */
	void *release_arg;
	/* fork_lock=dio_complete: mm_pinned_sem held for read, and a mm_count, until done. */
	struct gup_mm *excl_mm;
	_Atomic int64_t result;		/* bytes or -errno, before @state = DONE     */
	_Atomic uint32_t state;		/* enum dio_state                            */
};

/* The world's engine, started on first use; NULL if it cannot start (-ENOMEM/-EAGAIN). */
struct dma_engine *dma_engine_get(struct gup_world *w, int *err);

/* A request with room for @nr_chunks chunks and @nr_pages page references. */
struct gup_dio *dio_alloc(struct dma_engine *e, unsigned long nr_chunks,
			  unsigned long nr_pages);
/* Free a request that was never queued. */
void dio_free(struct gup_dio *req);
static inline bool dio_op_ok(int op)
{
	return op == GUP_DIO_READ || op == GUP_DIO_WRITE;
}

/* Check that [@pos, @pos+@bytes) is a sector-aligned range of @d: 0 or -EINVAL. */
int dio_range_ok(struct gup_disk *d, uint64_t pos, uint64_t bytes);
/* Hand a built request to the engine (it takes a disk->users count). */
void dio_queue(struct gup_dio *req, struct gup_disk *d, int op, uint64_t pos);

/* World teardown: run what is queued, join the I/O threads, free the engine. */
void dma_engine_destroy(struct gup_world *w);

#endif /* GUP_IO_IO_H */
