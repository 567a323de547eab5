/* SPDX-License-Identifier: MIT */
/*
 * src/io/dma.c - the DMA engine: O_DIRECT-style transfers between a disk and user
 * memory, by physical page (docs/io.md).
 *
 * Submission runs in the caller's thread: check the segments (512-byte
 * granularity, like 2009's dio with hardware-sector alignment, seed004 1.20),
 * reference every page with the GUP the policy prescribes - pin_user_pages_fast
 * on linux-6.x, get_user_pages_fast on linux-2.6.29 as dio_refill_pages did,
 * FOLL_WRITE for a read into memory - and queue the request.  From then on the
 * page tables play no part: the world's I/O threads move each chunk (the part of
 * a segment within one frame) with disk_read/disk_write on page_data(), which may
 * by then be a frame the task no longer maps (seed004 R1: fork plus a COW fault
 * in the parent, the DMA lands in the child's page).  Completion releases the
 * references - unpin_user_pages_dirty_lock(..., true) or set_page_dirty_lock +
 * put_page for a read, as dio_bio_complete - and publishes the result.
 *
 * The engine is per world, started on first use, stopped at world teardown
 * after running everything queued.  Locking: engine->lock (a leaf spinlock)
 * guards the queue, the list of live requests, and the writes of nr_queued,
 * plugged and stop, which the workers' wait condition reads without it.  A
 * request's state goes QUEUED -> RUNNING -> DONE; DONE is a release store after
 * which the worker never touches the request, so gup_dio_wait may free it.
 */
#include <stdlib.h>

#include "io/io.h"

/* I/O threads per world: a small device with a queue depth of two. */
#define DMA_WORKERS	2

struct dma_engine {
	struct gup_world *w;			/* constant                           */
	spinlock_t lock;			/* leaf: the lists, the writers below */
	struct list_head queue;			/* DIO_QUEUED requests, FIFO          */
	struct list_head live;			/* every request not yet reaped       */
	/* Written under lock, read locklessly by dma_has_work. */
	_Atomic uint32_t nr_queued;		/* length of queue                    */
	_Atomic uint32_t plugged;		/* gup_dio_plug nesting               */
	_Atomic bool stop;			/* teardown: drain, then exit         */
	struct wait_queue_head work_wait;	/* workers wait for work              */
	struct wait_queue_head done_wait;	/* reapers wait for DIO_DONE          */
	struct sched_thread *workers[DMA_WORKERS];	/* set before first use    */
};

/* ---- the workers ---- */

static bool dma_has_work(void *arg)
{
	struct dma_engine *e = arg;

	return READ_ONCE(e->stop) ||
	       (READ_ONCE(e->nr_queued) && !READ_ONCE(e->plugged));
}

/* The oldest queued request, or NULL; *@exit once stopped with nothing left. */
static struct gup_dio *dma_dequeue(struct dma_engine *e, bool *exit)
{
	struct gup_dio *req = NULL;
	bool stop;

	spin_lock(&e->lock);
	stop = READ_ONCE(e->stop);
	if (!list_empty(&e->queue) && (stop || !READ_ONCE(e->plugged))) {
		req = list_entry(e->queue.next, struct gup_dio, queue);
		list_del(&req->queue);
		WRITE_ONCE(e->nr_queued, READ_ONCE(e->nr_queued) - 1);
	} else {
		*exit = stop && list_empty(&e->queue);
	}
	spin_unlock(&e->lock);
	return req;
}

/* Move every chunk; each disk request is a scheduling point.  Bytes or -errno. */
static int64_t dio_transfer(struct gup_dio *req)
{
	struct frame_arena *a = &req->engine->w->arena;
	uint64_t pos = req->pos;
	int64_t done = 0;

	for (unsigned long i = 0; i < req->nr_chunks; i++) {
		const struct io_chunk *c = &req->chunks[i];
		uint8_t *frame = page_data(a, c->page);
		int ret;

		if (req->to_memory)
			ret = disk_read(req->disk, pos, frame + c->off, c->len, frame);
		else
			ret = disk_write(req->disk, pos, frame + c->off, c->len, frame);
		if (ret)
			return done ? done : ret;
		pos += c->len;
		done += c->len;
	}
	return done;
}

/* ---- KOSAKI's fork-exclusion lock (policy fork_lock) ---- */

/*
 * Keep fork out of @t's mm while this transfer's pages are referenced: taken
 * before GUP, as direct_io_worker took it (L8737-8743; v1: L6061-6073).  The
 * structure is kept too (mmgrab): the completion may come after the mm's last
 * task exited.
 */
static void dio_exclude_fork(struct gup_task *t)
{
	down_read(&t->mm->mm_pinned_sem);
	mmgrab(t->mm);
}

static void dio_allow_fork(struct gup_mm *mm)
{
	up_read(&mm->mm_pinned_sem);	/* non-owner: the completion's thread (L8719-8725) */
	mmdrop(mm);
}

/*
 * Release what the request holds, then publish its result.  After the release
 * store of DIO_DONE the request belongs to its reaper.
 */
static void dio_complete(struct gup_dio *req, int64_t result)
{
	struct dma_engine *e = req->engine;

	io_release_pages(req->pages, req->nr_pages, req->pinned, req->to_memory);
	if (req->release)
		req->release(req);
	if (req->excl_mm)
		dio_allow_fork(req->excl_mm);	/* KOSAKI v2: only now may fork run */
	atomic_dec(&req->disk->users);
	if (result > 0)
		count_vm_events(e->w, GUP_STAT_DIO_BYTES, (uint64_t)result);
	WRITE_ONCE(req->result, result);
	smp_store_release(&req->state, (uint32_t)DIO_DONE);
	wake_up_all(&e->done_wait);
}

static void dma_worker(void *arg)
{
	struct dma_engine *e = arg;
	bool exit = false;

	while (!exit) {
		struct gup_dio *req;

		/* Look before taking the lock: an idle device touches nothing shared. */
		wait_event_pure_fn(&e->work_wait, dma_has_work, e, NULL);
		req = dma_dequeue(e, &exit);
		if (req)
			dio_complete(req, dio_transfer(req));
	}
}

/* ---- the engine's life ---- */

/* Stop: run what is queued, join the workers, free requests nobody reaped. */
static void dma_engine_stop(struct dma_engine *e)
{
	spin_lock(&e->lock);
	WRITE_ONCE(e->stop, true);
	spin_unlock(&e->lock);
	wake_up_all(&e->work_wait);
	for (int i = 0; i < DMA_WORKERS; i++)
		if (e->workers[i])
			sched_thread_join(e->workers[i]);
	while (!list_empty(&e->live)) {
		struct gup_dio *req = list_entry(e->live.next, struct gup_dio, live);

		list_del(&req->live);
		dio_free(req);
	}
	waitqueue_destroy(&e->work_wait);
	waitqueue_destroy(&e->done_wait);
	free(e);
}

static struct dma_engine *dma_engine_create(struct gup_world *w, int *err)
{
	struct dma_engine *e = calloc(1, sizeof(*e));

	if (!e) {
		*err = -ENOMEM;
		return NULL;
	}
	e->w = w;
	spin_lock_init(&e->lock);
	INIT_LIST_HEAD(&e->queue);
	INIT_LIST_HEAD(&e->live);
	init_waitqueue_head(&e->work_wait);
	init_waitqueue_head(&e->done_wait);
	/* One device actor under the explorer: two identical ones add only symmetry. */
	for (int i = 0; i < (sched_exploring() ? 1 : DMA_WORKERS); i++) {
		*err = sched_kthread_start(&e->workers[i], dma_worker, e);
		if (*err) {
			e->workers[i] = NULL;
			dma_engine_stop(e);
			return NULL;
		}
	}
	return e;
}

struct dma_engine *dma_engine_get(struct gup_world *w, int *err)
{
	struct dma_engine *e = LOAD_ACQUIRE_PTR(struct dma_engine *, w->dma), *cur;

	if (likely(e))
		return e;
	/* Threads are not started under a spinlock: start, then publish or drop. */
	e = dma_engine_create(w, err);
	if (!e)
		return NULL;
	spin_lock(&w->lock);
	cur = READ_ONCE_PTR(struct dma_engine *, w->dma);
	if (!cur)
		STORE_RELEASE_PTR(w->dma, e);	/* pairs with the acquire above */
	spin_unlock(&w->lock);
	if (!cur)
		return e;
	dma_engine_stop(e);		/* another thread started one first */
	return cur;
}

void dma_engine_destroy(struct gup_world *w)
{
	struct dma_engine *e = READ_ONCE_PTR(struct dma_engine *, w->dma);

	if (!e)
		return;
	WRITE_ONCE_PTR(w->dma, 0);
	dma_engine_stop(e);
}

/* ---- requests ---- */

struct gup_dio *dio_alloc(struct dma_engine *e, unsigned long nr_chunks,
			  unsigned long nr_pages)
{
	struct gup_dio *req = calloc(1, sizeof(*req) + nr_chunks * sizeof(struct io_chunk) +
				     nr_pages * sizeof(struct page *));

	if (!req)
		return NULL;
	req->engine = e;
	req->chunks = (struct io_chunk *)(req + 1);
	req->pages = (struct page **)(req->chunks + nr_chunks);
	INIT_LIST_HEAD(&req->queue);
	INIT_LIST_HEAD(&req->live);
	/* calloc: state DIO_QUEUED, result 0, no release hook; private until queued. */
	return req;
}

void dio_free(struct gup_dio *req)
{
	sched_forget(req, sizeof(*req));
	free(req);
}

int dio_range_ok(struct gup_disk *d, uint64_t pos, uint64_t bytes)
{
	if (pos % SECTOR_SIZE || bytes > d->bytes || pos > d->bytes - bytes)
		return -EINVAL;
	return 0;
}

void dio_queue(struct gup_dio *req, struct gup_disk *d, int op, uint64_t pos)
{
	struct dma_engine *e = req->engine;

	req->disk = d;
	req->to_memory = op == GUP_DIO_READ;
	req->pos = pos;
	atomic_inc(&d->users);		/* gup_disk_destroy: -EBUSY while in flight */
	spin_lock(&e->lock);
	list_add(&req->live, &e->live);
	if (req->nr_chunks) {
		list_add(&req->queue, e->queue.prev);	/* at the tail: FIFO */
		WRITE_ONCE(e->nr_queued, READ_ONCE(e->nr_queued) + 1);
	}
	spin_unlock(&e->lock);
	if (!req->nr_chunks)
		dio_complete(req, 0);	/* nothing to move */
	else
		wake_up_all(&e->work_wait);
}

/*
 * Reference the pages of every segment, all or nothing, and cut the segments
 * into chunks.  A read into memory needs FOLL_WRITE: the DMA writes the frames.
 */
static int dio_grab_user(struct gup_dio *req, struct gup_task *t, const struct gup_iovec *iov,
			 unsigned nr_segs, bool to_memory)
{
	unsigned flags = to_memory ? FOLL_WRITE : 0;
	bool pin = io_ref_pin(t->w);
	unsigned long k = 0;

	req->pinned = pin;
	for (unsigned i = 0; i < nr_segs; i++) {
		unsigned long n = io_span_pages(iov[i].base, iov[i].len);
		int ret = io_gup_fast(t, iov[i].base, n, flags, pin, req->pages + k);

		if (ret) {
			io_release_pages(req->pages, k, pin, false);
			return ret;
		}
		io_fill_chunks(req->chunks + k, iov[i].base, iov[i].len, req->pages + k);
		k += n;
	}
	req->nr_chunks = req->nr_pages = k;
	return 0;
}

/*
 * Build, reference and queue a transfer.  Under fork_lock=dio_complete the
 * request keeps fork out until it completes; under dio_submit the lock spans
 * this call only (@excl: the caller took it).
 */
static int dio_submit(struct gup_task *t, struct gup_disk *d, int op, uint64_t pos,
		      const struct gup_iovec *iov, unsigned nr_segs, bool excl,
		      struct gup_dio **out)
{
	unsigned long nr;
	struct dma_engine *e;
	struct gup_dio *req;
	long total;
	int ret;

	total = io_iov_check(iov, nr_segs, SECTOR_SIZE);
	if (total < 0)
		return (int)total;
	ret = dio_range_ok(d, pos, (uint64_t)total);
	if (ret)
		return ret;
	e = dma_engine_get(t->w, &ret);
	if (!e)
		return ret;
	nr = io_iov_nr_pages(iov, nr_segs);
	req = dio_alloc(e, nr, nr);
	if (!req)
		return -ENOMEM;
	if (excl) {
		dio_exclude_fork(t);
		req->excl_mm = t->mm;
	}
	ret = dio_grab_user(req, t, iov, nr_segs, op == GUP_DIO_READ);
	if (ret) {
		if (req->excl_mm)
			dio_allow_fork(req->excl_mm);
		dio_free(req);
		return ret;
	}
	count_task_event(t->w, t, op == GUP_DIO_READ ? GUP_STAT_DIO_READ : GUP_STAT_DIO_WRITE);
	dio_queue(req, d, op, pos);
	*out = req;
	return 0;
}

static bool dio_args_ok(struct gup_task *t, struct gup_disk *d, int op)
{
	return t && d && t->w == d->w && dio_op_ok(op);
}

/*
 * An asynchronous transfer.  KOSAKI v1 (fork_lock=dio_submit) held his lock
 * across direct_io_worker only, which returns -EIOCBQUEUED for AIO while the
 * transfer is in flight: fork may run then (R10, L7003-7013).
 */
GUP_API int gup_dio_submit(struct gup_task *t, struct gup_disk *d, int op, uint64_t pos,
			   const struct gup_iovec *iov, unsigned nr_segs, struct gup_dio **out)
{
	enum fork_lock_rule rule;
	struct gup_dio *req = NULL;
	int ret;

	if (!dio_args_ok(t, d, op) || !out)
		return -EINVAL;
	rule = t->w->policy->fork_lock;
	if (rule == FORK_LOCK_DIO_SUBMIT)
		dio_exclude_fork(t);
	ret = dio_submit(t, d, op, pos, iov, nr_segs, rule == FORK_LOCK_DIO_COMPLETE, &req);
	if (rule == FORK_LOCK_DIO_SUBMIT)
		dio_allow_fork(t->mm);
	if (!ret)
		*out = req;
	return ret;
}

static bool dio_is_done(void *arg)
{
	struct gup_dio *req = arg;

	/* Acquire: pairs with dio_complete's release; the result and the
	 * released references are seen. */
	return smp_load_acquire(&req->state) == DIO_DONE;
}

GUP_API bool gup_dio_done(struct gup_dio *req)
{
	return req && dio_is_done(req);
}

GUP_API long gup_dio_wait(struct gup_dio *req)
{
	struct dma_engine *e;
	long res;

	if (!req)
		return -EINVAL;
	e = req->engine;
	wait_event_pure_fn(&e->done_wait, dio_is_done, req, NULL);
	res = (long)READ_ONCE(req->result);
	spin_lock(&e->lock);
	list_del(&req->live);
	spin_unlock(&e->lock);
	dio_free(req);
	return res;
}

/*
 * A synchronous transfer: direct_io_worker waited for it, so even KOSAKI v1's
 * lock (fork_lock=dio_submit) spans the whole transfer (L6061-6073).
 */
static long dio_sync(struct gup_task *t, struct gup_disk *d, int op, uint64_t pos,
		     const struct gup_iovec *iov, unsigned nr_segs)
{
	bool v1 = dio_args_ok(t, d, op) && t->w->policy->fork_lock == FORK_LOCK_DIO_SUBMIT;
	struct gup_mm *mm = t ? t->mm : NULL;
	struct gup_dio *req;
	long ret;

	if (v1)
		dio_exclude_fork(t);
	ret = v1 ? dio_submit(t, d, op, pos, iov, nr_segs, false, &req) :
		   gup_dio_submit(t, d, op, pos, iov, nr_segs, &req);
	if (!ret)
		ret = gup_dio_wait(req);
	if (v1)
		dio_allow_fork(mm);
	return ret;
}

GUP_API long gup_dio_read(struct gup_task *t, struct gup_disk *d, uint64_t pos,
			  const struct gup_iovec *iov, unsigned nr_segs)
{
	return dio_sync(t, d, GUP_DIO_READ, pos, iov, nr_segs);
}

GUP_API long gup_dio_write(struct gup_task *t, struct gup_disk *d, uint64_t pos,
			   const struct gup_iovec *iov, unsigned nr_segs)
{
	return dio_sync(t, d, GUP_DIO_WRITE, pos, iov, nr_segs);
}

/* ---- holding the queue ---- */

GUP_API int gup_dio_plug(struct gup_world *w)
{
	struct dma_engine *e;
	int err = 0;

	if (!w)
		return -EINVAL;
	e = dma_engine_get(w, &err);
	if (!e)
		return err;
	spin_lock(&e->lock);
	WRITE_ONCE(e->plugged, READ_ONCE(e->plugged) + 1);
	spin_unlock(&e->lock);
	return 0;
}

GUP_API int gup_dio_unplug(struct gup_world *w)
{
	struct dma_engine *e = w ? LOAD_ACQUIRE_PTR(struct dma_engine *, w->dma) : NULL;
	uint32_t plugged;

	if (!e)
		return -EINVAL;
	spin_lock(&e->lock);
	plugged = READ_ONCE(e->plugged);
	if (plugged)
		WRITE_ONCE(e->plugged, plugged - 1);
	spin_unlock(&e->lock);
	if (!plugged)
		return -EINVAL;
	wake_up_all(&e->work_wait);
	return 0;
}
