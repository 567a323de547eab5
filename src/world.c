/* SPDX-License-Identifier: MIT */
/*
 * src/world.c - world lifecycle, counters, memory figures, threads.
 */
#include <stdlib.h>
#include <string.h>

#include "world.h"
#include "io/disk.h"
#include "mm/filemap.h"
#include "mm/userfaultfd.h"
#include "io/io.h"

/* GUP_DEBUG=1 in the environment turns misuse reports on for every world. */
static bool env_debug(void)
{
	const char *v = getenv("GUP_DEBUG");

	return v && v[0] == '1' && v[1] == '\0';
}

void task_stats_fold(struct gup_world *w, struct gup_task *t)
{
	for (int i = 0; i < GUP_NR_STATS; i++) {
		count_vm_events(w, i, stat_read(&t->stats[i]));
		stat_reset_local(&t->stats[i]);
	}
}

/* Frames ever allocated = frames freed + frames in use now (not counted per call). */
static uint64_t frames_allocated(struct gup_world *w, uint64_t freed)
{
	size_t nr_free = frame_arena_nr_free(&w->arena, ZONE_NORMAL) +
			 frame_arena_nr_free(&w->arena, ZONE_MOVABLE);

	return freed + (w->arena.nr_frames - 1 - nr_free);	/* the zero page never counts */
}

/* Sum the world's shards and every live task's counters, consistently. */
static void vm_stat_sum_all(struct gup_world *w, uint64_t *out)
{
	struct gup_mm *mm;
	struct gup_task *t;

	for (int i = 0; i < GUP_NR_STATS; i++)
		out[i] = 0;
	spin_lock(&w->lock);	/* no task folds or leaves meanwhile */
	for (int s = 0; s < NR_ALLOC_SHARDS; s++)
		for (int i = 0; i < GUP_NR_STATS; i++)
			out[i] += stat_read(&w->stats[s].v[i]);
	list_for_each_entry(mm, &w->mm_list, struct gup_mm, list) {
		spin_lock(&mm->tasks_lock);
		list_for_each_entry(t, &mm->tasks, struct gup_task, list)
			for (int i = 0; i < GUP_NR_STATS; i++)
				out[i] += stat_read(&t->stats[i]);
		spin_unlock(&mm->tasks_lock);
	}
	spin_unlock(&w->lock);
	out[GUP_STAT_FRAME_ALLOC] = frames_allocated(w, out[GUP_STAT_FRAME_FREE]);
}

uint64_t vm_stat_sum(struct gup_world *w, enum gup_stat_item item)
{
	uint64_t all[GUP_NR_STATS];

	vm_stat_sum_all(w, all);
	return all[item];
}

GUP_API int gup_world_stats(struct gup_world *w, uint64_t *out)
{
	if (!w || !out)
		return -EINVAL;
	vm_stat_sum_all(w, out);
	return 0;
}

/* The zero page: frame 0, reserved, one permanent reference, never mapped-counted. */
static void zero_page_init(struct gup_world *w)
{
	struct page *zp = zero_page(w);

	init_private_u64(&zp->flags, (UINT64_C(1) << PG_zero) | (UINT64_C(1) << PG_reserved) |
				     (UINT64_C(1) << PG_uptodate));
	init_private_u64(&zp->count, PAGE_REF_ONE);
	zp->zone = ZONE_NORMAL;
	memset(page_data(&w->arena, zp), 0, PAGE_SIZE);
}

int world_create(const struct gup_world_config *cfg, struct frame_arena_store *store,
		 struct gup_world **out)
{
	struct gup_world *w;
	struct gup_policy policy;
	int ret;

	if (!cfg || !out || cfg->nr_frames < 16 || cfg->nr_frames > (UINT64_C(1) << 36) ||
	    cfg->nr_movable > cfg->nr_frames - 8)
		return -EINVAL;
	ret = policy_build(&policy, cfg->policy, cfg->knobs, NULL, 0);
	if (ret)
		return ret;
	w = aligned_alloc(64, sizeof(*w));
	if (!w)
		return -ENOMEM;
	memset(w, 0, sizeof(*w));
	ret = frame_arena_init(&w->arena, cfg->nr_frames, cfg->nr_movable, cfg->prepopulate,
			       store);
	if (ret) {
		free(w);
		return ret;
	}
	pgtable_pool_init(&w->pgtables);
	spin_lock_init(&w->lock);
	for (size_t i = 0; i < PAGE_WAIT_TABLE; i++)
		init_waitqueue_head(&w->page_wait[i]);
	init_waitqueue_head(&w->dax_wq);
	INIT_LIST_HEAD(&w->mm_list);
	INIT_LIST_HEAD(&w->shmem_list);
	INIT_LIST_HEAD(&w->disk_list);
	INIT_LIST_HEAD(&w->file_list);
	INIT_LIST_HEAD(&w->uffd_list);
	w->policy_knobs = policy;
	w->policy = &w->policy_knobs;
	w->report = cfg->report ? cfg->report : stderr;
	w->debug = cfg->debug || env_debug();
	frame_arena_set_world(&w->arena, w);
	zero_page_init(w);
	*out = w;
	return 0;
}

GUP_API int gup_world_create(const struct gup_world_config *cfg, struct gup_world **out)
{
	return world_create(cfg, NULL, out);
}

/* Report every frame still referenced; returns how many. */
static int report_leaks(struct gup_world *w)
{
	int leaks = 0;

	for (uint64_t pfn = ZERO_PFN + 1; pfn < w->arena.nr_frames; pfn++) {
		struct page *p = pfn_to_page(&w->arena, pfn);
		uint64_t c = page_count_word(p);

		if (PageFree(p))
			continue;
		fprintf(w->report, "libgup: leak: pfn %llu refcount %u mapcount %u flags %#llx%s%s\n",
			(unsigned long long)pfn, count_ref(c), count_map(c),
			(unsigned long long)read_bits_u64(&p->flags, PAGE_FLAGS_ALL),
			PageAnon(p) ? " anon" : "", page_maybe_dma_pinned(p) ? " pinned" : "");
		leaks++;
	}
	return leaks;
}

/*
 * The balance of acquire/release counters that must meet at teardown: every
 * FOLL_GET reference put, every pin unpinned, every frame freed.  An imbalance is
 * reported (the frames it left behind are counted by report_leaks).
 */
static void report_unbalanced(struct gup_world *w)
{
	static const struct { enum gup_stat_item got, put; const char *what; } pairs[] = {
		{ GUP_STAT_PIN_ACQUIRED, GUP_STAT_PIN_RELEASED, "pins" },
		{ GUP_STAT_GET_ACQUIRED, GUP_STAT_GET_RELEASED, "FOLL_GET references" },
		{ GUP_STAT_FRAME_ALLOC, GUP_STAT_FRAME_FREE, "frames" },
		{ GUP_STAT_PGTABLE_ALLOC, GUP_STAT_PGTABLE_FREE, "page tables" },
	};
	uint64_t st[GUP_NR_STATS];

	gup_world_stats(w, st);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (st[pairs[i].got] != st[pairs[i].put])
			fprintf(w->report, "libgup: unbalanced at teardown: %llu %s acquired, "
				"%llu released\n", (unsigned long long)st[pairs[i].got],
				pairs[i].what, (unsigned long long)st[pairs[i].put]);
}

/* Files never closed: reported (a leak of the caller's), then freed with the world. */
static void report_open_files(struct gup_world *w)
{
	struct gup_file *f;

	list_for_each_entry(f, &w->file_list, struct gup_file, list)
		if (!read_once_bool(&f->closed))
			fprintf(w->report, "libgup: file %u never closed\n", f->id);
}

int world_destroy(struct gup_world *w, struct frame_arena_store *store)
{
	int leaks;

	if (!w)
		return -EINVAL;
	if (w->nr_mms || w->nr_tasks)
		return -EBUSY;
	uffds_free(w);		/* all closed: an open one would hold an mm */
	dma_engine_destroy(w);	/* runs queued I/O: its references go before the count */
	report_unbalanced(w);
	report_open_files(w);
	files_destroy(w);	/* their cache references, before the leak scan */
	leaks = report_leaks(w);
	if (leaks)
		fprintf(w->report, "libgup: %d frame(s) leaked at teardown\n", leaks);
	disks_destroy(w);
	for (size_t i = 0; i < PAGE_WAIT_TABLE; i++)
		waitqueue_destroy(&w->page_wait[i]);
	waitqueue_destroy(&w->dax_wq);
	pgtable_pool_destroy(&w->pgtables);
	frame_arena_destroy(&w->arena, store);
	free(w);
	return leaks;
}

GUP_API int gup_world_destroy(struct gup_world *w)
{
	return world_destroy(w, NULL);
}

void world_abandon(struct gup_world *w, struct frame_arena_store *store)
{
	/*
	 * Every actor that could reach the world is gone for good (its coroutine
	 * freed, never resumed), so nothing reads these again: no lock is taken,
	 * no object is walked, the frames need no accounting.
	 */
	pgtable_pool_destroy(&w->pgtables);
	frame_arena_destroy(&w->arena, store);
}

GUP_API const char *gup_world_policy(const struct gup_world *w)
{
	return w ? w->policy->name : NULL;
}

GUP_API const char *const *gup_policy_names(void)
{
	return policy_names;
}

GUP_API int gup_policy_check(const char *policy, const char *const *knobs, char *msg,
			     size_t size)
{
	struct gup_policy p;

	return policy_build(&p, policy, knobs, msg, size);
}

GUP_API const char *gup_policy_summary(const char *policy)
{
	const struct gup_policy *p = policy_find(policy);

	return p ? p->summary : NULL;
}

GUP_API int gup_policy_knobs(const char *policy, const char *const *knobs, char *buf,
			     size_t size)
{
	struct gup_policy p;
	int ret = policy_build(&p, policy, knobs, NULL, 0);

	return ret ? ret : policy_format(&p, buf, size);
}

GUP_API int gup_world_meminfo(struct gup_world *w, struct gup_mem_info *info)
{
	if (!w || !info)
		return -EINVAL;
	info->nr_frames = w->arena.nr_frames;
	info->nr_movable = w->arena.nr_frames - w->arena.movable_start;
	info->nr_movable_free = frame_arena_nr_free(&w->arena, ZONE_MOVABLE);
	info->nr_free = info->nr_movable_free + frame_arena_nr_free(&w->arena, ZONE_NORMAL);
	info->nr_pgtables = stat_read(&w->pgtables.nr_used);
	spin_lock(&w->lock);
	info->nr_mms = w->nr_mms;
	info->nr_tasks = w->nr_tasks;
	spin_unlock(&w->lock);
	return 0;
}

/* ---- threads ---- */

struct gup_thread {
	struct sched_thread *st;
};

GUP_API int gup_thread_start(struct gup_world *w, void (*fn)(void *arg), void *arg,
			     struct gup_thread **out)
{
	struct gup_thread *th;
	int ret;

	if (!w || !fn || !out)
		return -EINVAL;
	th = malloc(sizeof(*th));
	if (!th)
		return -ENOMEM;
	ret = sched_thread_start(&th->st, fn, arg);
	if (ret) {
		free(th);
		return ret;
	}
	*out = th;
	return 0;
}

GUP_API int gup_thread_join(struct gup_thread *th)
{
	int ret;

	if (!th)
		return -EINVAL;
	ret = sched_thread_join(th->st);
	free(th);
	return ret;
}
