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
	const char *policy;	/* a preset (gup_policy_names); NULL: "linux-6.x"     */
	FILE *report;		/* leak and checker reports; NULL means stderr          */
	/*
	 * Misuse detection (like lockdep and DEBUG_VM): report GUP calls that need
	 * the mmap lock made without it, user accesses made while holding it, a put
	 * of a pinned page or an unpin of a FOLL_GET one, pins alive at mm teardown,
	 * unknown flag bits.  Also on when the environment has GUP_DEBUG=1.
	 */
	bool debug;
	/*
	 * Overrides of the policy's knobs, "name=value" strings (NULL-terminated;
	 * NULL: none), applied in order: e.g. "fast_recheck=off".  The knobs and
	 * their values are listed by gup_policy_knobs and docs/policies.md;
	 * gup_policy_check says what is wrong with a bad one.
	 */
	const char *const *knobs;
};

/*
 * gup_world_create - create a world.
 * Return: 0, -EINVAL (bad config, unknown policy), -ENOMEM.
 */
GUP_API GUP_MUST_CHECK int gup_world_create(const struct gup_world_config *cfg,
					    struct gup_world **out);

/*
 * gup_world_destroy - tear a world down.  Every task must have exited and every
 * mm been put.  DMA requests still queued are run first (gup/io.h) and the I/O
 * threads joined.  Leaked frame references are reported (one line each) to the
 * config's report stream.
 * Return: the number of leaked frames (0 is a clean teardown), or -EBUSY if tasks
 * or mms are still alive (nothing is freed then).
 */
GUP_API int gup_world_destroy(struct gup_world *w);

/* Name of the world's policy preset, and the list of all presets (NULL-terminated). */
GUP_API const char *gup_world_policy(const struct gup_world *w);
GUP_API const char *const *gup_policy_names(void);

/*
 * gup_policy_check - would @policy (NULL: the default) with the overrides @knobs
 * (as gup_world_config.knobs) make a world?  Return: 0, or -EINVAL with a one-line
 * message in @msg (if non-NULL; truncated to @size) naming the unknown preset,
 * knob or value and listing what is known.
 */
GUP_API int gup_policy_check(const char *policy, const char *const *knobs, char *msg,
			     size_t size);
/* gup_policy_summary - the preset's one-line description, citing its source; NULL if unknown. */
GUP_API const char *gup_policy_summary(const char *policy);
/*
 * gup_policy_knobs - every knob of @policy with @knobs applied, as "name=value"
 * separated by spaces, into @buf (truncated to @size, as snprintf).
 * Return: the length needed, or -EINVAL (as gup_policy_check).
 */
GUP_API int gup_policy_knobs(const char *policy, const char *const *knobs, char *buf,
			     size_t size);

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
/* A task's id, unique in its world (userfaultfd messages name the faulting task). */
GUP_API unsigned gup_task_id(const struct gup_task *t);
/*
 * The task this OS thread acts as, for code written with Linux names (gup/linux.h:
 * `current`).  Per thread; NULL until set.  The gup_* API never reads it.
 */
GUP_API void gup_set_current(struct gup_task *t);
GUP_API struct gup_task *gup_current(void);

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

/* ---- get_user_pages: taking references and pins ------------------------------ */

/*
 * A frame handed out by GUP: hold it with a FOLL_GET reference (release with
 * gup_put_page) or a pin (release with gup_unpin_user_page*).  Opaque.
 */
struct gup_page;

/* External FOLL flags (linux_anchor 1.4; same bit values as Linux). */
#define GUP_FOLL_WRITE			(1u << 0)	/* need a writable PTE (breaks COW) */
#define GUP_FOLL_GET			(1u << 1)	/* +1 reference per page            */
#define GUP_FOLL_DUMP			(1u << 2)	/* holes and the zero page: -EFAULT */
#define GUP_FOLL_FORCE			(1u << 3)	/* ptrace: ignore VMA permissions   */
#define GUP_FOLL_NOWAIT			(1u << 4)	/* start faults, never wait or drop  */
#define GUP_FOLL_NOFAULT		(1u << 5)	/* never fault: missing -> -EFAULT  */
#define GUP_FOLL_HWPOISON		(1u << 6)	/* poisoned -> -EHWPOISON           */
#define GUP_FOLL_ANON			(1u << 7)	/* anonymous VMAs only              */
#define GUP_FOLL_LONGTERM		(1u << 8)	/* pin held indefinitely (FOLL_PIN)  */
#define GUP_FOLL_SPLIT_PMD		(1u << 9)	/* no-op: no huge PMDs are modelled */
#define GUP_FOLL_PCI_P2PDMA		(1u << 10)	/* allow P2PDMA pages (none exist)  */
#define GUP_FOLL_INTERRUPTIBLE		(1u << 11)	/* waits end on any signal          */
#define GUP_FOLL_HONOR_NUMA_FAULT	(1u << 12)	/* fault on PROT_NONE-mapped pages  */

/*
 * The mmap lock, for callers of the variants that need it held (gup_get_user_pages,
 * gup_pin_user_pages, the _remote ones).  @t is the calling task ("current"); @mm
 * its own mm or another (remote).  The read lock is killable: -EINTR if @t has a
 * fatal signal.  Return: 0, -EINTR, -EINVAL, -EDEADLK (t already holds it).
 */
GUP_API GUP_MUST_CHECK int gup_mmap_read_lock(struct gup_task *t, struct gup_mm *mm);
GUP_API void gup_mmap_read_unlock(struct gup_task *t, struct gup_mm *mm);
GUP_API GUP_MUST_CHECK int gup_mmap_write_lock(struct gup_task *t, struct gup_mm *mm);
GUP_API void gup_mmap_write_unlock(struct gup_task *t, struct gup_mm *mm);

/*
 * The GUP family (linux_anchor 1.1), with @t as "current".  Return conventions are
 * Linux's: the number of pages done, possibly fewer than asked; -errno if none;
 * 0 for nr_pages == 0.  Rejected arguments give -EINVAL from get_* and *_fast,
 * but 0 from pin_user_pages, _remote and _unlocked, as in Linux.
 *
 * gup_get_user_pages, gup_pin_user_pages: the caller holds @t's mmap lock; it is
 *     never dropped.
 * _remote: on @mm, the caller holds @mm's lock; with @locked (which must point to
 *     1) GUP may drop it to wait, and then *locked is 0 on return.
 * _unlocked: the caller must not hold the lock; GUP takes and releases it.
 * _fast: lockless for present pages, then as _unlocked for the rest;
 *     gup_get_user_pages_fast_only never falls back (may return short).
 */
GUP_API long gup_get_user_pages(struct gup_task *t, uint64_t start, unsigned long nr_pages,
				unsigned gup_flags, struct gup_page **pages);
GUP_API long gup_get_user_pages_remote(struct gup_task *t, struct gup_mm *mm, uint64_t start,
				       unsigned long nr_pages, unsigned gup_flags,
				       struct gup_page **pages, int *locked);
GUP_API long gup_get_user_pages_unlocked(struct gup_task *t, uint64_t start,
					 unsigned long nr_pages, struct gup_page **pages,
					 unsigned gup_flags);
GUP_API int gup_get_user_pages_fast(struct gup_task *t, uint64_t start, int nr_pages,
				    unsigned gup_flags, struct gup_page **pages);
GUP_API int gup_get_user_pages_fast_only(struct gup_task *t, uint64_t start, int nr_pages,
					 unsigned gup_flags, struct gup_page **pages);
GUP_API long gup_pin_user_pages(struct gup_task *t, uint64_t start, unsigned long nr_pages,
				unsigned gup_flags, struct gup_page **pages);
GUP_API long gup_pin_user_pages_remote(struct gup_task *t, struct gup_mm *mm, uint64_t start,
				       unsigned long nr_pages, unsigned gup_flags,
				       struct gup_page **pages, int *locked);
GUP_API long gup_pin_user_pages_unlocked(struct gup_task *t, uint64_t start,
					 unsigned long nr_pages, struct gup_page **pages,
					 unsigned gup_flags);
GUP_API int gup_pin_user_pages_fast(struct gup_task *t, uint64_t start, int nr_pages,
				    unsigned gup_flags, struct gup_page **pages);

/* Releasing: put for FOLL_GET references, unpin for pins.  NULL entries are skipped. */
GUP_API void gup_put_page(struct gup_page *page);
GUP_API void gup_unpin_user_page(struct gup_page *page);
GUP_API void gup_unpin_user_pages(struct gup_page **pages, unsigned long npages);
/* As gup_unpin_user_pages, marking each page dirty first if @make_dirty (DMA wrote it). */
GUP_API void gup_unpin_user_pages_dirty_lock(struct gup_page **pages, unsigned long npages,
					     bool make_dirty);
/* @npages physically contiguous pages starting at @page. */
GUP_API void gup_unpin_user_page_range_dirty_lock(struct gup_page *page, unsigned long npages,
						  bool make_dirty);

/* Fault flags for gup_fixup_user_fault (Linux's FAULT_FLAG_* values). */
#define GUP_FAULT_FLAG_WRITE		0x0001u
#define GUP_FAULT_FLAG_REMOTE		0x0080u
#define GUP_FAULT_FLAG_UNSHARE		0x0400u

/*
 * gup_fixup_user_fault - resolve a fault at @address of @mm as a futex or KVM
 * would (the caller holds @mm's mmap lock).  With @unlocked, the fault may drop
 * the lock to wait; it is re-taken before returning and *unlocked set to true.
 * Return: 0, -EFAULT, -ENOMEM, -EHWPOISON, -EINTR, -EINVAL.
 */
GUP_API int gup_fixup_user_fault(struct gup_task *t, struct gup_mm *mm, uint64_t address,
				 unsigned fault_flags, bool *unlocked);

/* ---- pages held by GUP: what a driver or DMA engine sees --------------------- */

GUP_API uint64_t gup_page_pfn(const struct gup_page *page);
/*
 * Copy bytes of the frame by physical page (a device's view, no page tables), in
 * single-copy-atomic 8-byte words where offset and length are multiples of 8.
 */
GUP_API int gup_page_read(struct gup_page *page, size_t off, void *buf, size_t len);
GUP_API int gup_page_write(struct gup_page *page, size_t off, const void *buf, size_t len);
GUP_API unsigned gup_page_ref_count(const struct gup_page *page);
GUP_API unsigned gup_page_mapcount(const struct gup_page *page);
GUP_API bool gup_page_maybe_dma_pinned(const struct gup_page *page);
GUP_API bool gup_page_anon_exclusive(const struct gup_page *page);
GUP_API bool gup_page_is_zero(const struct gup_page *page);
GUP_API bool gup_page_dirty(const struct gup_page *page);
/* The page is in ZONE_MOVABLE (FOLL_LONGTERM migrates such pages out). */
GUP_API bool gup_page_movable(const struct gup_page *page);

/*
 * A memory error on frame @pfn (memory_failure): GUP on it fails with -EHWPOISON
 * (FOLL_HWPOISON) or -EFAULT.  Not modelled further: CPU accesses through an
 * existing mapping still work, and a freed poisoned frame is reused.
 */
GUP_API int gup_memory_failure(struct gup_world *w, uint64_t pfn);

/* Misuse reports issued so far (debug mode); see gup_world_config.debug. */
GUP_API unsigned long gup_world_misuse_count(struct gup_world *w);

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
	GUP_STAT_GUP_SLOW_PAGES,	/* pages the GUP slow path returned           */
	GUP_STAT_GUP_FAST_PAGES,	/* pages gup-fast grabbed locklessly          */
	GUP_STAT_GUP_FAST_FALLBACK,	/* gup-fast calls that fell back to slow path */
	GUP_STAT_GUP_RETRY,		/* slow path: lock dropped, page retried      */
	GUP_STAT_LONGTERM_MIGRATE,	/* pages migrated out of ZONE_MOVABLE         */
	/* files and the page cache */
	GUP_STAT_FAULT_MAJOR,		/* faults that waited for a disk read         */
	GUP_STAT_FAULT_RETRY_IO,	/* of those, read with the mmap lock dropped  */
	GUP_STAT_FILE_READ_PAGE,	/* pages read into the page cache             */
	GUP_STAT_FILE_WRITEBACK,	/* dirty pages written back to a disk         */
	GUP_STAT_DAX_LEASE,		/* leases taken on DAX file ranges            */
	GUP_STAT_DAX_LEASE_BREAK,	/* leases broken by truncate / punch-hole     */
	GUP_STAT_DAX_BREAK_TIMEOUT,	/* truncates refused: pins outlived the wait  */
	GUP_STAT_UFFD_FAULT,		/* missing faults queued to a userfaultfd     */
	GUP_STAT_UFFD_WP_FAULT,		/* uffd-wp faults queued to a userfaultfd     */
	GUP_STAT_UFFD_SIGBUS,		/* uffd faults that could not wait (no RETRY) */
	GUP_STAT_UFFD_COPY,		/* pages filled by UFFDIO_COPY                */
	GUP_STAT_UFFD_ZEROPAGE,		/* pages filled by UFFDIO_ZEROPAGE            */
	GUP_STAT_UFFD_WAKE,		/* waiting faults woken                       */
	GUP_STAT_DIO_READ,		/* DMA requests disk -> memory (gup/io.h)     */
	GUP_STAT_DIO_WRITE,		/* DMA requests memory -> disk                */
	GUP_STAT_DIO_BYTES,		/* bytes DMA requests moved                   */
	GUP_STAT_VMSPLICE_PAGES,	/* pages vmsplice queued in a pipe            */
	GUP_STAT_PVM_BYTES,		/* bytes process_vm_readv/writev copied       */
	GUP_STAT_GUP_DECOW,		/* read GUPs that broke COW first (read_cow)  */
	GUP_STAT_FORK_IO_WAIT,		/* forks that waited for O_DIRECT (fork_lock) */
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
