/* SPDX-License-Identifier: MIT */
/*
 * <gup/gup.h> - libgup: Linux's get_user_pages subsystem, and the memory manager
 * under it, in user space.
 *
 * Objects:
 *   struct gup_world   physical memory (a frame arena), the policy, counters; every
 *                      other object hangs off one world, and worlds are independent.
 *   struct gup_mm      an address space: VMAs, 4-level page tables, the mmap lock.
 *   struct gup_task    a thread of an mm, with its own software TLB.  Memory is
 *                      touched only through gup_load()/gup_store() on a task.
 *   struct gup_thread  an execution context that runs a function (free mode: a
 *                      pthread); it drives tasks.
 *
 * Conventions (as in Linux): functions return 0 or a count, or a negative errno;
 * errno is never used.  Ranges are [start, end) or (start, len) in bytes; page counts
 * are called nr_pages.  Every object is used by one thread at a time unless a
 * function says otherwise; different tasks of one mm run concurrently.
 */
#ifndef GUP_GUP_H
#define GUP_GUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GUP_API __attribute__((visibility("default")))
#define GUP_MUST_CHECK __attribute__((warn_unused_result))

#define GUP_PAGE_SHIFT	12
#define GUP_PAGE_SIZE	(UINT64_C(1) << GUP_PAGE_SHIFT)
/* User address space: [GUP_MMAP_MIN, GUP_TASK_SIZE), 47 bits as on x86-64. */
#define GUP_TASK_SIZE	(UINT64_C(1) << 47)
#define GUP_MMAP_MIN	UINT64_C(0x10000)

struct gup_world;
struct gup_mm;
struct gup_task;
struct gup_thread;

/* ---- worlds ------------------------------------------------------------ */

struct gup_world_config {
	size_t nr_frames;	/* frames in the arena (4 KiB each), >= 16            */
	size_t nr_movable;	/* how many of them are ZONE_MOVABLE (<= nr_frames-8) */
	bool prepopulate;	/* touch the arena now, so no host fault happens later */
	const char *policy;	/* NULL or "linux-6.x" (default), "linux-2.6.29"      */
	FILE *report;		/* leak and checker reports; NULL means stderr          */
};

/*
 * gup_world_create - create a world.
 * Return: 0, -EINVAL (bad config, unknown policy), -ENOMEM.
 */
GUP_API GUP_MUST_CHECK int gup_world_create(const struct gup_world_config *cfg,
					    struct gup_world **out);

/*
 * gup_world_destroy - tear a world down.  Every task must have exited and every
 * mm been put.  Leaked frame references are reported (one line each) to the
 * config's report stream.
 * Return: the number of leaked frames (0 is a clean teardown), or -EBUSY if tasks
 * or mms are still alive (nothing is freed then).
 */
GUP_API int gup_world_destroy(struct gup_world *w);

/* Name of the world's policy preset, and the list of all presets (NULL-terminated). */
GUP_API const char *gup_world_policy(const struct gup_world *w);
GUP_API const char *const *gup_policy_names(void);

/* ---- address spaces and tasks ------------------------------------------- */

/* gup_mm_create - an empty address space; the caller owns one reference. */
GUP_API GUP_MUST_CHECK int gup_mm_create(struct gup_world *w, struct gup_mm **out);
/* mmget/mmput: an mm is torn down (unmapped, tables freed) at its last put. */
GUP_API void gup_mm_get(struct gup_mm *mm);
GUP_API void gup_mm_put(struct gup_mm *mm);

/* gup_task_create - a new thread of @mm (takes an mm reference). */
GUP_API GUP_MUST_CHECK int gup_task_create(struct gup_mm *mm, struct gup_task **out);
/* gup_task_exit - the thread exits: its TLB is dropped, its mm reference put. */
GUP_API void gup_task_exit(struct gup_task *t);
GUP_API struct gup_mm *gup_task_mm(const struct gup_task *t);
/* Send a fatal signal (SIGKILL): sleeping lock waits that are killable give up. */
GUP_API void gup_task_kill(struct gup_task *t);

/* ---- memory map syscalls (the calling task is "current") ------------------ */

#define GUP_PROT_NONE	0x0
#define GUP_PROT_READ	0x1
#define GUP_PROT_WRITE	0x2
#define GUP_PROT_EXEC	0x4

#define GUP_MAP_SHARED		0x01
#define GUP_MAP_PRIVATE		0x02
#define GUP_MAP_FIXED		0x10
#define GUP_MAP_ANONYMOUS	0x20
#define GUP_MAP_POPULATE	0x8000
#define GUP_MAP_FIXED_NOREPLACE	0x100000

/*
 * gup_mmap - map [addr, addr+len) (a hint unless MAP_FIXED*).  Only anonymous
 * mappings are created through the public API for now; @out gets the address.
 * MAP_POPULATE is best effort, as in Linux: running out of frames while populating
 * does not fail the mmap.
 * Return: 0, -EINVAL (bad length, prot or flags), -EBADF (not MAP_ANONYMOUS: no
 * file descriptors yet), -EPERM (MAP_FIXED below GUP_MMAP_MIN), -ENOMEM (no room),
 * -EEXIST (MAP_FIXED_NOREPLACE over a mapping).
 */
GUP_API GUP_MUST_CHECK int gup_mmap(struct gup_task *t, uint64_t addr, size_t len,
				    int prot, int flags, uint64_t *out);
/* gup_munmap - unmap [addr, addr+len), splitting VMAs.  Return: 0 or -EINVAL. */
GUP_API int gup_munmap(struct gup_task *t, uint64_t addr, size_t len);
/* gup_mprotect - Return: 0, -EINVAL, -ENOMEM (hole in the range), -EACCES. */
GUP_API int gup_mprotect(struct gup_task *t, uint64_t addr, size_t len, int prot);

#define GUP_MADV_DONTNEED	4
#define GUP_MADV_DONTFORK	10
#define GUP_MADV_DOFORK		11
#define GUP_MADV_WIPEONFORK	18
#define GUP_MADV_KEEPONFORK	19
#define GUP_MADV_POPULATE_READ	22
#define GUP_MADV_POPULATE_WRITE	23

/*
 * gup_madvise - Return: 0, -EINVAL (bad advice or range, WIPEONFORK on a non-private-
 * anon VMA, POPULATE on a range without the permission), -ENOMEM (hole in the range
 * or out of frames), -EFAULT (POPULATE hit a SIGBUS).
 */
GUP_API int gup_madvise(struct gup_task *t, uint64_t addr, size_t len, int advice);

/*
 * gup_fork - fork(): a new mm, a copy of the caller's, with one task (the caller's
 * copy) returned in @child.  Only the calling task is duplicated.
 * Return: 0, -ENOMEM (the parent is unchanged).
 */
GUP_API GUP_MUST_CHECK int gup_fork(struct gup_task *t, struct gup_task **child);

/* ---- user memory access through the task's TLB ---------------------------- */

/*
 * gup_store/gup_load - copy bytes to/from the task's address space, as the CPU
 * would: through the software TLB, faulting on a miss or a protection violation.
 * An aligned access of 1, 2, 4 or 8 bytes is single-copy atomic.
 * Return: 0; -EFAULT where a real process would get SIGSEGV/SIGBUS; -ENOMEM when a
 * fault found no free frame (a real process would meet the OOM killer); -EINTR if
 * the task was killed while waiting in a fault.  Bytes before the failing page have
 * been copied.
 */
GUP_API int gup_store(struct gup_task *t, uint64_t addr, const void *buf, size_t len);
GUP_API int gup_load(struct gup_task *t, uint64_t addr, void *buf, size_t len);
/* Fill [addr, addr+len) with byte @c (memset in user space). */
GUP_API int gup_fill(struct gup_task *t, uint64_t addr, int c, size_t len);

/* ---- threads of execution -------------------------------------------------- */

GUP_API GUP_MUST_CHECK int gup_thread_start(struct gup_world *w, void (*fn)(void *arg),
					    void *arg, struct gup_thread **out);
GUP_API int gup_thread_join(struct gup_thread *th);

/* ---- observability ---------------------------------------------------------- */

enum gup_stat_item {
	GUP_STAT_FAULT,			/* handle_mm_fault calls                      */
	GUP_STAT_FAULT_ANON_READ,	/* read fault mapped the zero page            */
	GUP_STAT_FAULT_ANON_WRITE,	/* write fault allocated a zeroed frame       */
	GUP_STAT_FAULT_SHARED,		/* fault on shared anon memory                */
	GUP_STAT_FAULT_WP,		/* write-protect faults                       */
	GUP_STAT_FAULT_UNSHARE,		/* unshare faults                             */
	GUP_STAT_FAULT_SIGSEGV,		/* faults that found no VMA or no permission  */
	GUP_STAT_FAULT_OOM,		/* faults that found no free frame            */
	GUP_STAT_COW_COPY,		/* COW faults that copied the page            */
	GUP_STAT_COW_REUSE,		/* COW faults that reused the page            */
	GUP_STAT_COW_ZERO,		/* COW of the zero page (new zeroed frame)    */
	GUP_STAT_UNSHARE_COPY,		/* unshare faults that copied                 */
	GUP_STAT_UNSHARE_REUSE,		/* unshare faults that marked exclusive       */
	GUP_STAT_PIN_ACQUIRED,		/* nr_foll_pin_acquired                       */
	GUP_STAT_PIN_RELEASED,		/* nr_foll_pin_released                       */
	GUP_STAT_GET_ACQUIRED,		/* FOLL_GET references taken                  */
	GUP_STAT_GET_RELEASED,		/* FOLL_GET references put                    */
	GUP_STAT_TLB_FLUSH,		/* flush_tlb_* calls                          */
	GUP_STAT_TLB_SHOOTDOWN,		/* tasks a flush reached (IPIs), flusher incl. */
	GUP_STAT_TLB_SHOOTDOWN_WAIT,	/* of those, waits for an irq-off section    */
	GUP_STAT_TLB_MISS,		/* TLB fills by the walker                    */
	GUP_STAT_FORK,			/* fork() calls                               */
	GUP_STAT_FORK_PTE_SHARED,	/* PTEs shared COW at fork                    */
	GUP_STAT_FORK_PAGE_COPIED,	/* pages copied early at fork (maybe pinned)  */
	GUP_STAT_FRAME_ALLOC,		/* frames allocated                           */
	GUP_STAT_FRAME_FREE,		/* frames freed                               */
	GUP_STAT_PGTABLE_ALLOC,		/* page tables allocated                      */
	GUP_STAT_PGTABLE_FREE,		/* page tables freed                          */
	GUP_STAT_ZAP_PTE,		/* PTEs zapped (munmap, DONTNEED, exit)       */
	GUP_NR_STATS
};

GUP_API const char *gup_stat_name(enum gup_stat_item item);
/* Snapshot all counters into out[GUP_NR_STATS].  Return: 0 or -EINVAL. */
GUP_API int gup_world_stats(struct gup_world *w, uint64_t *out);

struct gup_mem_info {
	size_t nr_frames, nr_free, nr_movable, nr_movable_free;
	size_t nr_pgtables;	/* page tables in use, all mms */
	size_t nr_mms, nr_tasks;
};
GUP_API int gup_world_meminfo(struct gup_world *w, struct gup_mem_info *info);

/*
 * gup_world_check - the invariant checker.  The world must be quiescent (no task
 * inside a call).  Checks every frame and every page table:
 *   - a frame's mapcount equals the number of PTEs that map it;
 *   - refcount == mapcount + page-cache references + pins*1024 + other references
 *     (the sum over all frames of refs not explained by mappings and caches equals
 *     the outstanding GUP references and pins the counters record);
 *   - an anon-exclusive page is mapped at most once, and a writable PTE of a
 *     private anon page maps an exclusive page (linux-6.x);
 *   - no PTE points at a free frame; free frames have no references;
 *   - the zero page is never mapped writable and holds no mapcount;
 *   - each mm's RSS counter equals the pages it maps.
 * Violations are printed, one per line, to @out (NULL: the config's report stream).
 * Return: the number of violations (0: all hold).
 */
GUP_API int gup_world_check(struct gup_world *w, FILE *out);

/* Per-mm figures (for tests and tools): pages mapped, VMAs, page tables. */
struct gup_mm_info {
	size_t rss;		/* present PTEs that map a frame (not the zero page) */
	size_t nr_vmas;
	size_t nr_pgtables;
};
GUP_API int gup_mm_info(struct gup_mm *mm, struct gup_mm_info *info);

/* The frame number an address maps (walks the page table), or -EFAULT if none. */
GUP_API int64_t gup_mm_pfn(struct gup_mm *mm, uint64_t addr);

#ifdef __cplusplus
}
#endif

#endif /* GUP_GUP_H */
