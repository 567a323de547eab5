/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/build.c - one execution's world: built before its actors start,
 * released after its final state has been read (run_internal.h).
 *
 * The build follows docs/litmus.md's initial state: disks with their bytes,
 * files (a disk with files first gets a placeholder extent over its declared
 * bytes, so that the files lie after them), pipes, each declared mm mapped and
 * filled by a setup task that then exits (every thread starts with a cold
 * TLB), a task per thread, uffds, and the observer that reads the final
 * memory.  The release lets go of what results still hold, runs the engine's
 * invariant checker on the quiescent world, and destroys it, counting leaks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "litmus/run_internal.h"
#include "world.h"

struct xrun *xrun_alloc(struct runner *r)
{
	const struct litmus_test *t = r->t;
	struct xrun *x = calloc(1, sizeof(*x));
	bool ok;

	if (!x)
		return NULL;
	x->r = r;
	x->disks = calloc(t->nr_disks + 1, sizeof(*x->disks));
	x->files = calloc(t->nr_files + 1, sizeof(*x->files));
	x->pipes = calloc(t->nr_pipes + 1, sizeof(*x->pipes));
	x->uffds = calloc(t->nr_uffds + 1, sizeof(*x->uffds));
	x->mms = calloc(t->nr_mms + 1, sizeof(*x->mms));
	ok = x->disks && x->files && x->pipes && x->uffds && x->mms;
	for (unsigned i = 0; ok && i < t->nr_threads; i++) {
		struct rthread *th = &x->threads[i];

		th->x = x;
		th->idx = i;
		th->lt = &t->threads[i];
		th->actor = -1;
		th->ops = calloc(th->lt->nr_ops + 1, sizeof(*th->ops));
		ok = th->ops != NULL;
	}
	for (unsigned i = 0; ok && i < t->nr_mms; i++)
		spin_lock_init(&x->mms[i].lock);
	x->report = ok ? open_memstream(&x->report_buf, &x->report_len) : NULL;
	if (!x->report) {
		xrun_free(x);
		return NULL;
	}
	return x;
}

void xrun_free(struct xrun *x)
{
	const struct litmus_test *t = x->r->t;

	for (unsigned i = 0; i < t->nr_threads; i++) {
		for (unsigned j = 0; x->threads[i].ops && j < t->threads[i].nr_ops; j++) {
			free(x->threads[i].ops[j].val.bytes);
			free(x->threads[i].ops[j].h.pages);
		}
		free(x->threads[i].ops);
	}
	if (x->report)
		fclose(x->report);
	free(x->report_buf);
	free(x->disks);
	free(x->files);
	free(x->pipes);
	free(x->uffds);
	free(x->mms);
	free(x);
}

/* Disks with files get a placeholder extent first: files lie after the declared bytes. */
static uint64_t disk_file_bytes(const struct litmus_test *t, unsigned d)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < t->nr_files; i++)
		if (t->files[i].kind == LITMUS_FILE_DISK && !t->files[i].dax &&
		    t->files[i].disk == d)
			n += run_page_up(t->files[i].max_size);
	return n;
}

static int build_disk(struct xrun *x, unsigned i)
{
	const struct litmus_disk *d = &x->r->t->disks[i];
	uint64_t files = disk_file_bytes(x->r->t, i);
	struct gup_disk_config dc = { .bytes = files ? run_page_up(d->size) + files : d->size };
	struct gup_file_config fc = { .max_size = d->size, .size = d->size };
	struct gup_file *hold;
	int err = gup_disk_create(x->w, &dc, &x->disks[i]);

	if (err)
		return err;
	if (d->init.len)
		err = gup_disk_poke(x->disks[i], 0, x->r->disk_init[i], d->init.len);
	if (err || !files)
		return err;
	/* Extents are handed out in order: this one covers the declared bytes. */
	fc.disk = x->disks[i];
	err = gup_file_create(x->w, &fc, &hold);
	return err ? err : gup_file_close(hold);
}

static int build_file(struct xrun *x, unsigned i)
{
	const struct litmus_file *lf = &x->r->t->files[i];
	struct gup_file_config fc = { .max_size = lf->max_size, .size = lf->size };
	long n;
	int err;

	if (lf->kind == LITMUS_FILE_MEMFD)
		fc.flags = GUP_FILE_MEMFD;
	else if (lf->dax)
		fc.flags = GUP_FILE_DAX;	/* its blocks are frames: no disk extent */
	else
		fc.disk = x->disks[lf->disk];
	err = gup_file_create(x->w, &fc, &x->files[i]);
	if (err || !lf->init.len)
		return err;
	n = gup_file_pwrite(x->files[i], x->r->file_init[i], lf->init.len, 0);
	if (n != (long)lf->init.len)
		return n < 0 ? (int)n : -EIO;
	return fc.disk ? gup_file_fsync(x->files[i]) : 0;
}

static int map_region(struct xrun *x, struct gup_task *t, unsigned i)
{
	const struct litmus_region *rg = &x->r->t->regions[i];
	uint64_t addr = x->r->region_addr[i], got;
	int flags = (rg->shared ? GUP_MAP_SHARED : GUP_MAP_PRIVATE) | GUP_MAP_FIXED |
		    (rg->populate ? GUP_MAP_POPULATE : 0);
	int err;

	if (rg->kind == LITMUS_MAP_ANON)
		err = gup_mmap(t, addr, rg->len, rg->prot, flags | GUP_MAP_ANONYMOUS, &got);
	else
		err = gup_mmap_file(t, addr, rg->len, rg->prot, flags, x->files[rg->file],
				    rg->file_off, &got);
	if (!err && rg->init.len)
		err = gup_store(t, addr, x->r->region_init[i], rg->init.len);
	return err;
}

/* The tasks of mm @m's threads (or an idle one), counted as its live tasks. */
static int mm_tasks(struct xrun *x, unsigned m, struct gup_mm *mm)
{
	const struct litmus_test *t = x->r->t;
	struct rmm *rm = &x->mms[m];
	int err;

	for (unsigned i = 0; i < t->nr_threads; i++) {
		if (t->threads[i].mm != m)
			continue;
		err = gup_task_create(mm, &x->threads[i].task);
		if (err)
			return err;
		rm->live++;
	}
	if (rm->live)
		return 0;
	err = gup_task_create(mm, &rm->idle);
	rm->live = !err;
	return err;
}

/* A declared mm: a setup task maps and fills it, then leaves it to the threads. */
static int build_mm(struct xrun *x, unsigned m)
{
	const struct litmus_mm *lm = &x->r->t->mms[m];
	struct gup_task *setup;
	struct gup_mm *mm;
	int err = gup_mm_create(x->w, &mm);

	if (err)
		return err;
	x->mms[m].mm = mm;
	err = gup_task_create(mm, &setup);
	if (err) {
		gup_mm_put(mm);
		return err;
	}
	for (unsigned i = 0; !err && i < lm->nr_regions; i++)
		err = map_region(x, setup, lm->first_region + i);
	if (!err)
		err = mm_tasks(x, m, mm);
	gup_task_exit(setup);	/* its TLB goes with it: every thread starts cold */
	gup_mm_put(mm);		/* the tasks hold it now */
	return err;
}

static int build_observer(struct xrun *x)
{
	struct gup_mm *mm;
	int err = gup_mm_create(x->w, &mm);

	if (err)
		return err;
	err = gup_task_create(mm, &x->observer);
	gup_mm_put(mm);
	return err;
}

int xrun_build(struct xrun *x)
{
	const struct litmus_test *t = x->r->t;
	struct gup_world_config wc = { .nr_frames = x->r->nr_frames,
				       .policy = x->r->res->policy,
				       .knobs = x->r->o->knobs,
				       .report = x->report, .debug = true };
	int err = world_create(&wc, &x->r->arenas, &x->w);

	for (unsigned i = 0; !err && i < t->nr_disks; i++)
		err = build_disk(x, i);
	/*
	 * The device is there before the test begins, as on a machine: starting it
	 * at the first submission would make its start-up (a world lock, a new
	 * actor) an interleaving of every test that does I/O.
	 */
	if (!err && t->nr_disks && !dma_engine_get(x->w, &err))
		err = err ? err : -ENOMEM;
	for (unsigned i = 0; !err && i < t->nr_files; i++)
		err = build_file(x, i);
	for (unsigned i = 0; !err && i < t->nr_pipes; i++)
		err = gup_pipe_create(x->w, &x->pipes[i]);
	for (unsigned i = 0; !err && i < t->nr_declared_mms; i++)
		err = build_mm(x, i);
	for (unsigned i = 0; !err && i < t->nr_uffds; i++)
		err = gup_uffd_create(x->mms[t->uffds[i].mm].mm, &x->uffds[i]);
	if (!err)
		err = build_observer(x);
	return err;
}

/* ---- teardown ----------------------------------------------------------------------- */

static void exit_tasks(struct xrun *x)
{
	const struct litmus_test *t = x->r->t;

	for (unsigned i = 0; i < t->nr_threads; i++)
		if (x->threads[i].task)
			gup_task_exit(x->threads[i].task);
	for (unsigned i = 0; i < t->nr_mms; i++)
		if (x->mms[i].idle)
			gup_task_exit(x->mms[i].idle);
	if (x->observer)
		gup_task_exit(x->observer);
}

/*
 * Release everything of a world whose actors have all ended.  Return: the
 * number of problems the engine found (checker violations, leaked frames, a
 * world that would not go).
 */
int xrun_release(struct xrun *x)
{
	const struct litmus_test *t = x->r->t;
	int bad = 0, leaks;

	if (!x->w)
		return 0;
	exec_release_handles(x);
	for (unsigned i = 0; i < t->nr_pipes; i++)
		if (x->pipes[i])
			gup_pipe_destroy(x->pipes[i]);
	for (unsigned i = 0; i < t->nr_uffds; i++)
		if (x->uffds[i])
			gup_uffd_close(NULL, x->uffds[i]);	/* -EBADF if a thread did */
	bad += gup_world_check(x->w, x->report);
	exit_tasks(x);
	for (unsigned i = 0; i < t->nr_files; i++)
		if (x->files[i])
			gup_file_close(x->files[i]);
	leaks = world_destroy(x->w, &x->r->arenas);
	if (leaks < 0)
		fprintf(x->report, "litmus: the world would not go: %s\n", strerror(-leaks));
	bad += leaks ? 1 : 0;
	x->w = NULL;
	return bad;
}
