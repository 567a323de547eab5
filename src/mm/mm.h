/* SPDX-License-Identifier: MIT */
/*
 * src/mm/mm.h - address spaces, VMAs, tasks, and the operations on them.
 *
 * LOCK ORDER (outermost first; the one table of the project, mirrored in
 * docs/locking.md).  A lock may be taken while holding only locks above it.
 *
 *   0. mm->mm_pinned_sem       rwsem, only under policy fork_lock: O_DIRECT
 *                              holds it for read while its pages are in use
 *                              (released by the I/O's completion, another
 *                              thread), fork for write (KOSAKI, seed004 F16).
 *   1. mm->mmap_lock           rwsem.  fork: parent's before the child's.
 *   1a. file->invalidate_lock  rwsem: truncate/punch-hole (w), faults filling
 *                              the cache (r) (filemap.h).
 *   2. page lock (PG_locked)   sleeps (held across disk I/O); only trylock_page
 *                              while holding a PT lock.
 *   2a. file->i_mmap_lock      mutex: i_mmap and its VMAs' ranges (taken under
 *                              the mmap lock by split/merge/fork, under the page
 *                              lock by writeback's page_mkclean).
 *   3. shmem->lock             spinlock: a shared-anon object's page array;
 *      file->lock              spinlock: a file's page cache and size.
 *   4. PT lock (pgtable->ptl)  spinlock.  fork: parent's table before the child's.
 *   5. mm->page_table_lock     spinlock: populating upper-level entries.
 *   6. free_shard->lock        a zone's shards nest only in index order (steal,
 *                              exhaustion check).
 *   7. world->lock             the world's lists; mm->tasks_lock may nest inside
 *                              (summing and folding per-task counters).
 *   8. leaf locks, never nested with each other:
 *        pgtable_pool->lock, mm->tasks_lock, disk->lock,
 *        uffd->lock (a userfaultfd's fault queues; taken under the mmap lock by
 *        faults, UFFDIO_* and munmap, never with a PT lock held),
 *        dma_engine->lock (io/dma.c), pipe->lock (io/pipe.c).
 *
 * Sleeping (rwsem, mutex, page lock, waiting) is allowed only at levels 1-2a.  A
 * TLB shootdown (which waits for irq-off sections) may be issued holding any of
 * these: an irq-off section never takes a lock, so it always ends.  A fault
 * delivered to a userfaultfd (handle_userfault) releases the mmap lock, whichever
 * mode its caller held it in, and sleeps holding nothing; it returns
 * VM_FAULT_RETRY.
 */
#ifndef GUP_MM_MM_H
#define GUP_MM_MM_H

#include <errno.h>

#include "gup/gup.h"
#include "list.h"
#include "mm/page.h"
#include "mm/pgtable.h"
#include "mm/vma_tree.h"

struct gup_world;
struct gup_vma;
struct vm_fault;
struct shmem_obj;
struct gup_file;
struct gup_uffd;

/* ---- VMAs ---- */

#define VM_READ		0x00000001u
#define VM_WRITE	0x00000002u
#define VM_EXEC		0x00000004u
#define VM_SHARED	0x00000008u
#define VM_MAYREAD	0x00000010u
#define VM_MAYWRITE	0x00000020u
#define VM_MAYEXEC	0x00000040u
#define VM_MAYSHARE	0x00000080u
#define VM_PFNMAP	0x00000400u
#define VM_LOCKED	0x00002000u
#define VM_IO		0x00004000u
#define VM_DONTCOPY	0x00020000u	/* MADV_DONTFORK */
#define VM_WIPEONFORK	0x02000000u
#define VM_UFFD_MISSING	0x00000200u	/* missing faults go to vma->uffd */
#define VM_UFFD_WP	0x00001000u	/* uffd-wp faults go to vma->uffd */
#define VM_FSDAX	0x04000000u	/* fs-DAX file mapping (files issue) */

#define VM_UFFD_FLAGS	(VM_UFFD_MISSING | VM_UFFD_WP)

#define VM_ACCESS_FLAGS	(VM_READ | VM_WRITE | VM_EXEC)

/* File-backed hooks (the files issue provides real ones; tests provide fakes). */
struct vm_operations {
	/* Fill vmf->page (one reference held) or return VM_FAULT_* error/RETRY. */
	unsigned (*fault)(struct vm_fault *vmf);
	/* A write to a shared file page is about to be allowed (dirty tracking). */
	unsigned (*page_mkwrite)(struct vm_fault *vmf);
	void (*open)(struct gup_vma *vma);	/* VMA duplicated (fork, split) */
	void (*close)(struct gup_vma *vma);	/* VMA going away               */
	const char *name;
};

/*
 * struct gup_vma - a virtual memory area.  All fields are protected by the mmap
 * lock: written with it held for write, read with it held for read.  The range is
 * the tree node's [start, end).
 */
struct gup_vma {
	struct vma_node node;		/* start, end; linked in mm->vmas          */
	struct gup_mm *mm;
	uint32_t vm_flags;
	uint64_t pgoff;			/* file/shmem offset of start, in pages    */
	struct shmem_obj *shmem;	/* shared anon backing (a reference)       */
	const struct vm_operations *vm_ops;
	void *vm_private;		/* for vm_ops (a file mapping: the file)   */
	struct list_head shared;	/* file->i_mmap, under its i_mmap_lock     */
	/*
	 * The userfaultfd this VMA is registered with, iff vm_flags has a VM_UFFD_*
	 * bit; counted in uffd->vma_refs (split and vma_free keep the count, fork's
	 * copy drops it: userfaultfd.h).
	 */
	struct gup_uffd *uffd;
	struct gup_vma *doomed_next;	/* munmap: unlinked, freed after the flush */
	/*
	 * FreeBSD's wired map entry (policy fork_copy=wired): a FOLL_LONGTERM pin
	 * through this VMA wired it, so fork copies its pages eagerly.  The one field
	 * written under the mmap lock held for read (by GUP), hence atomic; sticky,
	 * since an unpin does not know its VMA (there is no vsunlock here).
	 */
	_Atomic bool wired;
};

static inline uint64_t vma_start(const struct gup_vma *v) { return v->node.start; }
static inline uint64_t vma_end(const struct gup_vma *v) { return v->node.end; }
static inline struct gup_vma *node_vma(struct vma_node *n)
{
	return n ? (struct gup_vma *)((char *)n - offsetof(struct gup_vma, node)) : NULL;
}

/* Private, copy-on-write: writes may need a private copy (is_cow_mapping). */
static inline bool is_cow_mapping(uint32_t flags)
{
	return (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

static inline bool vma_is_anonymous(const struct gup_vma *v)
{
	return v->vm_ops == NULL && v->shmem == NULL;
}

static inline bool vma_is_shmem(const struct gup_vma *v)
{
	return v->shmem != NULL;
}

static inline uint64_t linear_page_index(const struct gup_vma *v, uint64_t addr)
{
	return v->pgoff + ((addr - vma_start(v)) >> PAGE_SHIFT);
}

/* ---- shared anonymous memory (shmem object) ---- */

struct shmem_obj {
	atomic_t refs;			/* VMAs referencing it                      */
	spinlock_t lock;		/* guards pages[]                           */
	size_t nr_pages;		/* constant                                 */
	struct page **pages;		/* under lock: one cache reference each    */
	struct list_head list;		/* world->shmem_list, under world->lock   */
};

struct shmem_obj *shmem_obj_create(struct gup_world *w, size_t nr_pages);
void shmem_obj_get(struct shmem_obj *obj);
void shmem_obj_put(struct gup_world *w, struct shmem_obj *obj);
/* The page at @pgoff, created zeroed if absent, with a reference for the caller. */
int shmem_get_page(struct gup_world *w, struct shmem_obj *obj, uint64_t pgoff,
		   struct page **out);
/* Is there a page at @pgoff?  (A userfaultfd missing fault on shmem is a cache miss.) */
bool shmem_page_cached(struct shmem_obj *obj, uint64_t pgoff);
/*
 * UFFDIO_COPY/ZEROPAGE into shared memory: @page, just allocated and filled by the
 * caller, becomes the page at @pgoff, holding the cache's reference and one for
 * the caller.  -EEXIST if there is one already, -EFAULT beyond the object; then
 * @page is freed.
 */
int shmem_add_page(struct gup_world *w, struct shmem_obj *obj, uint64_t pgoff,
		   struct page *page);

/* ---- the software TLB of a task ---- */

#define TLB_ENTRIES	64		/* direct-mapped by virtual page number */

struct tlb_entry {
	uint64_t vpn;			/* virtual page number + 1; 0 = invalid */
	uint8_t *data;			/* the frame's bytes                    */
	const void *frame;		/* object identity for scheduling points */
	bool writable;			/* PTE was writable and dirty at fill   */
};

/* ---- tasks ---- */

/*
 * One shootdown, as a task that missed it must replay it: which generation,
 * which range, and whether page tables were freed (then the paging-structure
 * cache must go too).  Written by the flusher under mm->tasks_lock; read
 * locklessly, validated by @gen before and after (0 while being rewritten).
 */

#define TLB_FLUSH_LOG	8	/* generations a task may lag and still flush by range */

struct gup_task {
	struct gup_mm *mm;		/* constant; holds an mm_users reference   */
	struct gup_world *w;		/* constant                                */
	struct irq_state irq;		/* odd while in an irq-off section         */
	_Atomic bool fatal_signal;	/* gup_task_kill; read by killable waits   */
	/*
	 * The mmap locks this task holds through gup_mmap_*_lock or inside GUP (owner
	 * only): the locked GUP variants' contract and the misuse reports read it.
	 */
	struct mmap_held {
		struct gup_mm *mm;
		int mode;		/* MMAP_HELD_READ or MMAP_HELD_WRITE */
	} mmap_held[2];
	uint64_t tlb_gen;		/* owner only: mm->tlb_gen last synced      */
	struct tlb_entry tlb[TLB_ENTRIES];	/* owner only                    */
	/*
	 * Paging-structure cache (owner only): the PTE table of the last 2 MiB region
	 * walked, as MMUs cache upper-level entries.  Dropped with the TLB, so a table
	 * freed after a shootdown is never used through it.
	 */
	uint64_t pwc_tag;		/* (addr >> PMD_SHIFT) + 1; 0 = empty */
	struct pgtable *pwc_table;
	struct list_head list;		/* mm->tasks, under mm->tasks_lock         */
	unsigned id;			/* constant                                */
	/*
	 * vmstat events of this task, like Linux's per-cpu vm_event_states: written
	 * only by the task's own thread (no atomic RMW), read by vm_stat_sum under
	 * world->lock + mm->tasks_lock, folded into the world when the task exits.
	 */
	_Atomic uint64_t stats[GUP_NR_STATS];
	/*
	 * Pages this task's own faults added to its mm's RSS (two's complement), like
	 * Linux's SPLIT_RSS_COUNTING: single writer, summed by mm_rss under
	 * tasks_lock, folded into mm->rss when the task exits.
	 */
	_Atomic uint64_t rss_delta;
};

static inline void task_stat_add(struct gup_task *t, enum gup_stat_item item, uint64_t n)
{
	stat_add_local(&t->stats[item], n);	/* single writer: no locked RMW */
}

/* ---- address spaces ---- */

#define MMAP_HELD_READ	1
#define MMAP_HELD_WRITE	2

#define MMF_HAS_PINNED	27		/* sticky: some FOLL_PIN ever succeeded */

struct gup_mm {
	struct gup_world *w;		/* constant                                 */
	atomic_t mm_users;		/* gup_mm_get/put; tasks hold one each       */
	/*
	 * References to the structure itself (Linux's mm_count): all the users
	 * together hold one, and an I/O that must release mm_pinned_sem at its
	 * completion holds one (mmgrab), so the structure outlives exit_mmap.
	 */
	atomic_t mm_count;
	/*
	 * KOSAKI's fork-exclusion lock (policy fork_lock; seed004 L8737-8813): held
	 * for read by O_DIRECT from submission to completion (or to the end of the
	 * submission, KOSAKI v1), for write by fork.  Lock order 0, above mmap_lock.
	 */
	struct rw_semaphore mm_pinned_sem;
	struct rw_semaphore mmap_lock;
	struct vma_tree vmas;		/* under mmap_lock                           */
	struct pgtable *pgd;		/* constant after creation                   */
	spinlock_t page_table_lock;	/* populating PUD/PMD/PTE entries            */
	spinlock_t tasks_lock;		/* guards tasks, nr_tasks                    */
	struct list_head tasks;		/* of struct gup_task                        */
	size_t nr_tasks;
	/*
	 * Bumped (seq_cst RMW) after PTE changes that need a flush; a task entering an
	 * irq-off section that sees a newer value flushes its TLB first.  Pairs with
	 * local_irq_disable()'s smp_mb (see tlb.c).
	 */
	atomic64_t tlb_gen;
	/* fork write-protects under it; gup-fast FOLL_PIN backs off (linux_anchor 1.12). */
	seqcount_t write_protect_seq;
	struct seqrec tlb_log[TLB_FLUSH_LOG];	/* by generation % size: tlb.c  */
	_Atomic uint64_t flags;		/* MMF_* bits                                */
	atomic64_t rss;			/* pages mapped (not the zero page)          */
	_Atomic uint64_t nr_pgtables;	/* tables owned by this mm                   */
	uint64_t mmap_base;		/* under mmap_lock: next top-down hint      */
	struct list_head list;		/* world->mm_list, under world->lock         */
	unsigned id;
};

static inline struct gup_vma *find_vma(struct gup_mm *mm, uint64_t addr)
{
	return node_vma(vma_tree_find(&mm->vmas, addr));
}

static inline struct gup_vma *vma_lookup(struct gup_mm *mm, uint64_t addr)
{
	return node_vma(vma_tree_lookup(&mm->vmas, addr));
}

static inline struct gup_vma *vma_next(struct gup_vma *v)
{
	return node_vma(vma_tree_next(&v->node));
}

static inline void mmap_read_lock(struct gup_mm *mm) { down_read(&mm->mmap_lock); }
static inline void mmap_read_unlock(struct gup_mm *mm) { up_read(&mm->mmap_lock); }
static inline void mmap_write_lock(struct gup_mm *mm) { down_write(&mm->mmap_lock); }
static inline void mmap_write_unlock(struct gup_mm *mm) { up_write(&mm->mmap_lock); }

static inline void add_mm_rss(struct gup_mm *mm, int64_t n)
{
	atomic64_add(n, &mm->rss);
}

/* RSS change by a fault: on the faulting task's own delta when it is of @mm. */
static inline void add_mm_rss_task(struct gup_mm *mm, struct gup_task *t, int64_t n)
{
	if (t && t->mm == mm)
		stat_add_local(&t->rss_delta, (uint64_t)n);
	else
		add_mm_rss(mm, n);
}

/* The mm's RSS: the shared counter plus every live task's delta. */
int64_t mm_rss(struct gup_mm *mm);

/* mm.c */
struct gup_mm *mm_alloc(struct gup_world *w);
void mmput(struct gup_mm *mm);
/* mmgrab/mmdrop: keep the structure (not the address space) alive. */
void mmgrab(struct gup_mm *mm);
void mmdrop(struct gup_mm *mm);
struct gup_vma *vma_alloc(struct gup_mm *mm);
void vma_free(struct gup_vma *vma);
int vma_link(struct gup_mm *mm, struct gup_vma *vma);
void vma_unlink(struct gup_mm *mm, struct gup_vma *vma);
/* Split @vma at @addr; the new VMA is the upper part [addr, end).  mmap lock (w). */
int split_vma(struct gup_vma *vma, uint64_t addr, struct gup_vma **upper);
/* Merge @vma with its neighbours where compatible.  mmap lock (w). */
struct gup_vma *vma_merge_neighbours(struct gup_vma *vma);
struct gup_vma *vma_dup(struct gup_mm *mm, struct gup_vma *src);
/* FreeBSD's wired entries (policy fork_copy=wired): is @vma wired; wire it. */
bool vma_wired(struct gup_vma *vma);
void vma_wire(struct gup_vma *vma);

/* mmap.c */
int do_mmap(struct gup_mm *mm, uint64_t addr, uint64_t len, int prot, int flags,
	    uint64_t *out);
/* As do_mmap, of @file at byte offset @off (NULL: anonymous). */
int do_mmap_file(struct gup_mm *mm, uint64_t addr, uint64_t len, int prot, int flags,
		 struct gup_file *file, uint64_t off, uint64_t *out);
int do_munmap(struct gup_mm *mm, uint64_t start, uint64_t len);
int do_mprotect(struct gup_mm *mm, uint64_t start, uint64_t len, int prot);
int do_madvise(struct gup_mm *mm, uint64_t start, uint64_t len, int advice);
/*
 * vma_apply_range - split VMAs at @start and @end, call @fn on each VMA inside
 * [start, end) (holes are skipped), then merge what became compatible.  Returns 0
 * or -ENOMEM (a split failed; VMAs already passed to @fn stay changed).  mmap lock
 * held for write.
 */
int vma_apply_range(struct gup_mm *mm, uint64_t start, uint64_t end,
		    void (*fn)(struct gup_vma *vma, void *arg), void *arg);
/* Fault in [start, end) as MADV_POPULATE_* / MAP_POPULATE.  mmap lock (r). */
int populate_vma_range(struct gup_vma *vma, uint64_t start, uint64_t end, bool write);

/* ---- zapping: the mmu_gather ---- */

#define GATHER_BATCH	256

/*
 * Pages and tables unmapped under PT locks are released only after the TLB
 * shootdown: a stale TLB entry of another task may still write a page until then,
 * and a lockless walker may still be reading a table.
 */
struct mmu_gather {
	struct gup_mm *mm;
	uint64_t start, end;		/* range needing a flush                  */
	bool need_flush;
	bool fullmm;			/* exit_mmap: the whole mm goes            */
	size_t nr;
	struct page *pages[GATHER_BATCH];
	struct pgtable *tables;		/* detached tables                         */
};

void tlb_gather_mmu(struct mmu_gather *tlb, struct gup_mm *mm);
void tlb_remove_page(struct mmu_gather *tlb, struct page *page, uint64_t addr);
void tlb_flush_mmu(struct mmu_gather *tlb);
void tlb_finish_mmu(struct mmu_gather *tlb);
/* Unmap every PTE of [start, end) in @vma (VMA stays). mmap lock held. */
void zap_page_range(struct mmu_gather *tlb, struct gup_vma *vma, uint64_t start,
		    uint64_t end);
/*
 * The same for a file's pages (unmap_mapping_pages, under i_mmap_lock); without
 * @even_cows, anon pages (a private mapping's COW copies) stay mapped, as Linux's
 * zap_details.even_cows: only truncate throws private data away, not a hole punch.
 */
void zap_file_range(struct mmu_gather *tlb, struct gup_vma *vma, uint64_t start,
		    uint64_t end, bool even_cows);

/* ---- TLB (tlb.c) ---- */

void flush_tlb_mm(struct gup_mm *mm);
void flush_tlb_range(struct gup_mm *mm, uint64_t start, uint64_t end);
void flush_tlb_page(struct gup_mm *mm, uint64_t addr);
/* As flush_tlb_range, after page tables of [start, end) were detached. */
void flush_tlb_tables(struct gup_mm *mm, uint64_t start, uint64_t end);
void tlb_task_flush_all(struct gup_task *t);
/* Replay the shootdowns since t->tlb_gen up to @gen (by range where possible). */
void tlb_task_sync(struct gup_task *t, uint64_t gen);

/*
 * Enter an irq-off section and drop what shootdowns since the task last looked
 * invalidated (tlb.c explains the pairing with tlb_shootdown).
 */
static inline void tlb_task_enter(struct gup_task *t)
{
	uint64_t gen;

	local_irq_disable(&t->irq);
	/* Ordered after the section entry by local_irq_disable's smp_mb. */
	gen = (uint64_t)atomic64_read(&t->mm->tlb_gen);
	if (unlikely(gen != t->tlb_gen))
		tlb_task_sync(t, gen);
}

static inline void tlb_task_exit(struct gup_task *t)
{
	local_irq_enable(&t->irq);
}

/*
 * Walkers that do one atomic per page on its struct page (fork) find
 * those lines cold when frames were recycled in scattered order, and the locked
 * op waits for each.  Start the miss a few PTEs ahead: a plain peek at the PTE,
 * only a hint (no scheduling point, nothing decided on it).  @map: the arena's
 * descriptors (frame_arena.pages), which a walk loads once.
 */
static inline void prefetch_pte_page(struct page *map, pte_t *ptep)
{
	uint64_t pte = peek_u64(ptep);

	if (pte_present(pte) && !pte_special(pte))
		prefetchw(&map[pte_pfn(pte)]);
}

/* ---- the mmap locks a task holds (recorded by gup/lock.c) ---- */
static inline struct mmap_held *task_mmap_held(struct gup_task *t, struct gup_mm *mm)
{
	for (size_t i = 0; i < sizeof(t->mmap_held) / sizeof(t->mmap_held[0]); i++)
		if (t->mmap_held[i].mm == mm)
			return &t->mmap_held[i];
	return NULL;
}

static inline bool task_holds_mmap_lock(struct gup_task *t, struct gup_mm *mm)
{
	return t && mm && task_mmap_held(t, mm) != NULL;
}

/*
 * @t no longer holds @mm's mmap lock (owner only).  GUP calls it when it releases
 * the lock, and a fault handler that releases the lock on @t's behalf before
 * sleeping (handle_userfault) calls it at that moment, so the record never claims
 * a lock the task is not holding.  A lock taken by a path that did not record it
 * (do_user_fault) has no record: nothing to do.
 */
static inline void task_mmap_held_clear(struct gup_task *t, struct gup_mm *mm)
{
	struct mmap_held *h = t ? task_mmap_held(t, mm) : NULL;

	if (h) {
		h->mm = NULL;
		h->mode = 0;
	}
}

/* ---- tasks ---- */
void mm_add_task(struct gup_mm *mm, struct gup_task *t);
void mm_del_task_locked(struct gup_mm *mm, struct gup_task *t);	/* tasks_lock held */

/* ---- fork (fork.c) ---- */
int dup_mm(struct gup_mm *oldmm, struct gup_mm **out);

#endif /* GUP_MM_MM_H */
