/* SPDX-License-Identifier: MIT */
/*
 * src/mm/userfaultfd.h - userfaultfd inside the engine: the object, the fault-side
 * entry (handle_userfault) and the hooks of VMA duplication, fork and munmap.
 * The public API is <gup/uffd.h>; the model is described in docs/uffd.md.
 */
#ifndef GUP_MM_USERFAULTFD_H
#define GUP_MM_USERFAULTFD_H

#include "gup/uffd.h"
#include "mm/mm.h"

struct vm_fault;

/*
 * struct gup_uffd - one userfaultfd (Linux's struct userfaultfd_ctx).
 *
 * A faulting task queues a waiter (on its own stack) on @pending, where
 * gup_uffd_read finds it and moves it to @reported; a wake (COPY, ZEROPAGE,
 * WRITEPROTECT resolve, WAKE, UNREGISTER, munmap, close) unlinks the waiters of
 * its range from either list and then sets their woken flag.  Everything on the
 * lists is under @lock, which is a leaf lock (mm.h's table, level 8).
 *
 * Lifetime: the object is on world->uffd_list from creation until the world is
 * destroyed, so a stale handle after gup_uffd_close finds @released and gets
 * -EBADF instead of freed memory.  @mm is pinned by an mm_users reference from
 * creation until close; an operation takes its own reference first (under @lock,
 * while not released), so a concurrent close cannot free the mm under it.
 */
struct gup_uffd {
	struct gup_world *w;		/* constant                                  */
	struct gup_mm *mm;		/* constant; referenced until close          */
	spinlock_t lock;		/* guards the lists, nr_pending, released    */
	struct list_head pending;	/* struct uffd_waiter, not read yet (FIFO)   */
	struct list_head reported;	/* struct uffd_waiter, read, not woken yet   */
	/* Written under @lock; read locklessly by a sleeping reader's condition. */
	_Atomic uint32_t nr_pending;
	/*
	 * Set once, under @lock, by close, before close takes the mmap lock.  Read
	 * under @lock (queueing faults, operations), under the mmap lock by register
	 * (exact: close's setting happens-before its unlock), and locklessly by the
	 * fault dispatch (a hint: a fault that misses it is refused under @lock).
	 */
	_Atomic bool released;
	atomic_t vma_refs;		/* VMAs with vma->uffd == this               */
	struct wait_queue_head fault_wq;	/* faulting tasks sleep here         */
	struct wait_queue_head read_wq;		/* gup_uffd_read sleeps here         */
	struct list_head list;		/* world->uffd_list, under world->lock       */
};

/*
 * Is a fault on the missing page @pgoff of @vma (no PTE) delivered to its uffd?
 * For shared memory only if the object has no page there either: a page another
 * mapping brought in is simply mapped (shmem_get_folio_gfp).  Not once the uffd is
 * being released: the fault is then handled as if unregistered, which is the state
 * close is about to establish (Linux returns VM_FAULT_NOPAGE and lets the access
 * retry; here GUP's loop would then spin holding the mmap lock that the release
 * needs for write).  mmap lock held.
 */
static inline bool uffd_missing(struct gup_vma *vma, uint64_t pgoff)
{
	if (likely(!(vma->vm_flags & VM_UFFD_MISSING)) || read_once_bool(&vma->uffd->released))
		return false;
	return !vma_is_shmem(vma) || !shmem_page_cached(vma->shmem, pgoff);
}

/* Is a write to the PTE @pte of @vma a uffd-wp fault?  mmap lock held. */
static inline bool uffd_wp_armed(struct gup_vma *vma, uint64_t pte)
{
	return unlikely(pte & PTE_UFFD_WP) && (vma->vm_flags & VM_UFFD_WP) &&
	       !read_once_bool(&vma->uffd->released);
}

/*
 * handle_userfault - deliver the fault @vmf to vmf->vma->uffd (@reason: VM_UFFD_MISSING
 * or VM_UFFD_WP).  Without FAULT_FLAG_ALLOW_RETRY the task cannot wait:
 * VM_FAULT_SIGBUS (GUP without FOLL_UNLOCKABLE gets -EFAULT).  With RETRY_NOWAIT:
 * VM_FAULT_RETRY at once, lock kept, nothing queued (FOLL_NOWAIT).  Otherwise the
 * fault is queued for gup_uffd_read, the mmap lock released, and the task sleeps
 * (killable with FAULT_FLAG_KILLABLE) until woken; VM_FAULT_RETRY.  VM_FAULT_NOPAGE,
 * lock kept, if the uffd is being released.
 */
unsigned handle_userfault(struct vm_fault *vmf, uint32_t reason);

/* A VMA now points at @uffd (split, duplication) / no longer does (freed). */
static inline void uffd_vma_get(struct gup_uffd *uffd)
{
	atomic_inc(&uffd->vma_refs);
}

static inline void uffd_vma_put(struct gup_uffd *uffd)
{
	atomic_dec(&uffd->vma_refs);
}

/*
 * dup_userfaultfd - fork's copy of a registered VMA is not registered (Linux
 * without UFFD_FEATURE_EVENT_FORK: the child's faults are ordinary).  Its uffd-wp
 * markers are dropped by copy_page_range.  Both mmap locks held for write.
 */
void dup_userfaultfd(struct gup_vma *vma);

/* munmap of a registered VMA: wake its waiters, which retry and find no VMA. */
void userfaultfd_unmap(struct gup_vma *vma);

/* World teardown: free every uffd (all closed by then). */
void uffds_free(struct gup_world *w);

#endif /* GUP_MM_USERFAULTFD_H */
