/* SPDX-License-Identifier: MIT */
/*
 * src/world.h - struct gup_world: everything one simulated machine owns.
 *
 * There is no global state in the engine: frames, page-table memory, the policy,
 * counters and the lists of live objects hang off a world, so any number of worlds
 * can run in one process.
 */
#ifndef GUP_WORLD_H
#define GUP_WORLD_H

#include <stdio.h>

#include "gup/gup.h"
#include "mm/mm.h"
#include "policy/policy.h"

/* vmstat, sharded by sched_cpu_hint() so that concurrent tasks do not share lines. */
struct vm_stat_shard {
	_Atomic uint64_t v[GUP_NR_STATS];
} __attribute__((aligned(64)));

#define PAGE_WAIT_TABLE	64	/* page_waitqueue hashes with >> 58 */

struct gup_world {
	struct frame_arena arena;
	struct pgtable_pool pgtables;
	const struct gup_policy *policy;	/* constant: &policy_knobs            */
	struct gup_policy policy_knobs;		/* the preset with the config's knobs */
	FILE *report;				/* constant */
	bool debug;				/* constant: misuse reports (gup/debug.c) */
	atomic64_t nr_misuse;			/* misuse reports issued */
	spinlock_t lock;			/* guards the lists and counts below */
	struct list_head mm_list;	/* of struct gup_mm */
	struct list_head shmem_list;	/* of struct shmem_obj */
	struct list_head disk_list;	/* of struct gup_disk */
	struct list_head file_list;	/* of struct gup_file */
	struct list_head uffd_list;	/* of struct gup_uffd, open and closed */
	size_t nr_mms, nr_tasks;
	unsigned next_id;
	struct vm_stat_shard stats[NR_ALLOC_SHARDS];
	/* Sleepers on page locks, hashed by page (page.c page_waitqueue). */
	struct wait_queue_head page_wait[PAGE_WAIT_TABLE];
	/* Truncate of a DAX range waiting for its pins to go (mm/dax.c). */
	struct wait_queue_head dax_wq;
	/* struct dma_engine *: started on first I/O (io/dma.c), under lock; stopped at teardown. */
	_Atomic uintptr_t dma;
};

static inline void count_vm_events(struct gup_world *w, enum gup_stat_item item, uint64_t n)
{
	stat_add(&w->stats[sched_cpu_hint() % NR_ALLOC_SHARDS].v[item], n);
}

static inline void count_vm_event(struct gup_world *w, enum gup_stat_item item)
{
	count_vm_events(w, item, 1);
}

/* Count on the acting task when there is one (cheap), else on the world. */
static inline void count_task_event(struct gup_world *w, struct gup_task *t,
				    enum gup_stat_item item)
{
	if (t)
		task_stat_add(t, item, 1);
	else
		count_vm_event(w, item);
}

static inline void count_task_events(struct gup_world *w, struct gup_task *t,
				     enum gup_stat_item item, uint64_t n)
{
	if (t)
		task_stat_add(t, item, n);
	else
		count_vm_events(w, item, n);
}

/*
 * gup_misuse - report a misuse with the caller's site (like a kernel WARN with
 * %pS; @site NULL when there is no caller, e.g. at teardown), when the world's
 * debug mode is on.  Counted in world->nr_misuse (gup/debug.c).
 */
void gup_misuse(struct gup_world *w, const void *site, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A task leaves: its counts move to the world (world->lock and tasks_lock held). */
void task_stats_fold(struct gup_world *w, struct gup_task *t);

uint64_t vm_stat_sum(struct gup_world *w, enum gup_stat_item item);

static inline struct page *zero_page(struct gup_world *w)
{
	return pfn_to_page(&w->arena, ZERO_PFN);
}

int world_check(struct gup_world *w, FILE *out);

/*
 * gup_world_create and gup_world_destroy, with the host memory of the frame
 * arena taken from and kept in @store (NULL: none): for a caller that builds
 * and destroys many worlds of one size, the litmus runner.
 */
int world_create(const struct gup_world_config *cfg, struct frame_arena_store *store,
		 struct gup_world **out);
int world_destroy(struct gup_world *w, struct frame_arena_store *store);

/*
 * world_abandon - free the bulk of a world nobody will touch again: the explorer
 * abandoned its execution with actors stuck inside the engine (explore.h), so it
 * cannot be torn down (their locks are held, their tasks alive).  The frame arena
 * and the page-table memory go; the small objects are leaked.
 */
void world_abandon(struct gup_world *w, struct frame_arena_store *store);

#endif /* GUP_WORLD_H */
