/* SPDX-License-Identifier: MIT */
/*
 * src/mm/userfaultfd.c - userfaultfd: faults in registered ranges are delivered to
 * a handler, which resolves them by filling pages in (docs/uffd.md).
 *
 * Fault side (handle_userfault, called from handle_pte_fault for a missing page of
 * a VM_UFFD_MISSING VMA and from do_wp_page for a write to a uffd-wp PTE):
 *
 *   faulting task (mmap lock held)            handler
 *   queue a waiter under uffd->lock           gup_uffd_read: take it (uffd->lock)
 *   re-read the PTE: still unresolved?        gup_uffd_copy: PTE set under PT lock,
 *   release the mmap lock                       then, under uffd->lock, unlink the
 *   sleep until woken (killable)                waiters of the range, set woken
 *   dequeue, return VM_FAULT_RETRY            wake_up_all
 *
 * No lost wake-up: either the handler's uffd->lock section comes after the queueing
 * one (it finds and wakes the waiter), or before it, and then its PTE update
 * happens-before the waiter's re-read, which sees the fault resolved and does not
 * sleep (Linux's userfaultfd_must_wait).  The caller retries the fault (GUP with
 * FOLL_TRIED, a user access from the start) and finds the page.
 *
 * Operations that change VMAs (register, unregister, close) take the mmap lock for
 * write; those that fill or write-protect PTEs take it for read and change PTEs
 * under their PT lock; read and wake take no mmap lock.
 */
#include <stdlib.h>

#include "mm/fault.h"
#include "mm/userfaultfd.h"
#include "world.h"
#include "debug.h"

/*
 * One faulting task, on its stack while it sleeps in handle_userfault.  Only the
 * waiter itself sets @msg (before queueing); @list, @queued and @reported change
 * under uffd->lock; @woken is set (release) by a waker after unlinking it, and
 * after that store the waker never touches the waiter again: it may be gone.
 */
struct uffd_waiter {
	struct list_head list;		/* on uffd->pending or ->reported, or empty */
	bool queued;			/* on one of the lists                      */
	bool reported;			/* on ->reported (read by gup_uffd_read)    */
	_Atomic bool woken;
	struct gup_uffd_msg msg;
};

/* ---- the queues (uffd->lock) ---- */

static void uffd_unlink(struct gup_uffd *u, struct uffd_waiter *uw)
{
	list_del(&uw->list);
	uw->queued = false;
	if (!uw->reported)
		write_once_u32(&u->nr_pending, read_once_u32(&u->nr_pending) - 1);
}

/* Unlink and wake the waiters of @head faulting in [start, end).  uffd->lock held. */
static unsigned uffd_wake_list(struct gup_uffd *u, struct list_head *head, uint64_t start,
			       uint64_t end)
{
	struct list_head *pos, *next;
	unsigned n = 0;

	for (pos = head->next; pos != head; pos = next) {
		struct uffd_waiter *uw = list_entry(pos, struct uffd_waiter, list);

		next = pos->next;
		if (uw->msg.address < start || uw->msg.address >= end)
			continue;
		uffd_unlink(u, uw);
		/* The last touch: pairs with the acquire in uffd_waiter_woken. */
		smp_store_release(&uw->woken, true);
		n++;
	}
	return n;
}

static unsigned uffd_wake_locked(struct gup_uffd *u, uint64_t start, uint64_t end)
{
	return uffd_wake_list(u, &u->pending, start, end) +
	       uffd_wake_list(u, &u->reported, start, end);
}

/* Wake the tasks waiting on faults in [start, end) (Linux's wake_userfault). */
static void uffd_wake_range(struct gup_uffd *u, uint64_t start, uint64_t end)
{
	unsigned n;

	spin_lock(&u->lock);
	n = uffd_wake_locked(u, start, end);
	spin_unlock(&u->lock);
	if (n) {
		count_vm_events(u->w, GUP_STAT_UFFD_WAKE, n);
		wake_up_all(&u->fault_wq);
	}
}

/* ---- the fault side ---- */

static void uffd_waiter_init(struct uffd_waiter *uw, struct vm_fault *vmf, uint32_t reason)
{
	INIT_LIST_HEAD(&uw->list);
	uw->queued = false;
	uw->reported = false;
	write_once_bool(&uw->woken, false);
	uw->msg.event = GUP_UFFD_EVENT_PAGEFAULT;
	uw->msg.flags = 0;
	if (vmf->flags & FAULT_FLAG_WRITE)
		uw->msg.flags |= GUP_UFFD_PAGEFAULT_FLAG_WRITE;
	if (reason == VM_UFFD_WP)
		uw->msg.flags |= GUP_UFFD_PAGEFAULT_FLAG_WP;
	uw->msg.address = vmf->address;
	uw->msg.task_id = vmf->task ? vmf->task->id : 0;
}

/* Queue @uw at the tail of ->pending; false if the uffd is being released. */
static bool uffd_queue(struct gup_uffd *u, struct uffd_waiter *uw)
{
	bool ok;

	spin_lock(&u->lock);
	ok = !read_once_bool(&u->released);
	if (ok) {
		list_add(&uw->list, u->pending.prev);
		uw->queued = true;
		write_once_u32(&u->nr_pending, read_once_u32(&u->nr_pending) + 1);
	}
	spin_unlock(&u->lock);
	return ok;
}

static void uffd_dequeue(struct gup_uffd *u, struct uffd_waiter *uw)
{
	spin_lock(&u->lock);
	if (uw->queued)
		uffd_unlink(u, uw);	/* not woken: resolved before we slept, or killed */
	spin_unlock(&u->lock);
}

/*
 * Must the fault still wait (userfaultfd_must_wait)?  Read after queueing, with the
 * mmap lock still held (the PTE table cannot be freed): a fill or a write-protect
 * resolve that came first is seen here.  A uffd-wp fault waits for the marker
 * itself, not for write permission, which resolving does not grant.
 */
static bool uffd_must_wait(struct vm_fault *vmf, uint32_t reason)
{
	uint64_t pte = ptep_get(vmf->pte);

	if (reason == VM_UFFD_WP)
		return pte_present(pte) && (pte & PTE_UFFD_WP);
	return pte_none(pte);
}

/*
 * Release the mmap lock the fault was entered with, as VM_FAULT_RETRY tells the
 * caller.  A GUP caller may hold it for write (the locked _remote variants accept
 * either mode); the fault runs under that lock, so a writer can only be us.
 */
static void uffd_release_fault_lock(struct vm_fault *vmf)
{
	task_mmap_held_clear(vmf->task, vmf->mm);
	if (rwsem_is_write_locked(&vmf->mm->mmap_lock))
		mmap_write_unlock(vmf->mm);
	else
		mmap_read_unlock(vmf->mm);
}

static bool uffd_waiter_woken(void *arg)
{
	struct uffd_waiter *uw = arg;

	return smp_load_acquire(&uw->woken);
}

/* Sleep until woken; a fatal signal ends a killable fault's sleep early. */
static void uffd_sleep(struct gup_uffd *u, struct uffd_waiter *uw, struct vm_fault *vmf)
{
	_Atomic bool *fatal = NULL;

	if (vmf->task && (vmf->flags & (FAULT_FLAG_KILLABLE | FAULT_FLAG_INTERRUPTIBLE)))
		fatal = &vmf->task->fatal_signal;
	/* -EINTR needs nothing here: the caller sees the signal after VM_FAULT_RETRY. */
	wait_event_pure_fn(&u->fault_wq, uffd_waiter_woken, uw, fatal);
}

unsigned handle_userfault(struct vm_fault *vmf, uint32_t reason)
{
	struct gup_uffd *u = vmf->vma->uffd;
	struct uffd_waiter uw;
	bool must_wait;

	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY)) {
		/* The caller cannot let go of the lock, so it cannot wait for the handler. */
		count_task_event(vmf->w, vmf->task, GUP_STAT_UFFD_SIGBUS);
		return VM_FAULT_SIGBUS;
	}
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;	/* FOLL_NOWAIT: no message, no sleep, lock kept */
	uffd_waiter_init(&uw, vmf, reason);
	if (!uffd_queue(u, &uw))
		return VM_FAULT_NOPAGE;	/* being released: the retry finds it unregistered */
	count_task_event(vmf->w, vmf->task,
			 reason == VM_UFFD_WP ? GUP_STAT_UFFD_WP_FAULT : GUP_STAT_UFFD_FAULT);
	must_wait = uffd_must_wait(vmf, reason);
	uffd_release_fault_lock(vmf);
	if (must_wait) {
		wake_up_all(&u->read_wq);
		uffd_sleep(u, &uw, vmf);
	}
	uffd_dequeue(u, &uw);
	return VM_FAULT_RETRY;
}

/* ---- VMA hooks ---- */

void dup_userfaultfd(struct gup_vma *vma)
{
	if (vma->uffd)
		uffd_vma_put(vma->uffd);
	vma->uffd = NULL;
	vma->vm_flags &= ~VM_UFFD_FLAGS;
}

void userfaultfd_unmap(struct gup_vma *vma)
{
	if (vma->uffd)
		uffd_wake_range(vma->uffd, vma_start(vma), vma_end(vma));
}

/* ---- lifetime ---- */

GUP_API int gup_uffd_create(struct gup_mm *mm, struct gup_uffd **out)
{
	struct gup_world *w;
	struct gup_uffd *u;

	if (!mm || !out)
		return -EINVAL;
	w = mm->w;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->w = w;
	u->mm = mm;
	spin_lock_init(&u->lock);
	INIT_LIST_HEAD(&u->pending);
	INIT_LIST_HEAD(&u->reported);
	init_waitqueue_head(&u->fault_wq);
	init_waitqueue_head(&u->read_wq);
	atomic_inc(&mm->mm_users);
	spin_lock(&w->lock);
	list_add(&u->list, &w->uffd_list);
	spin_unlock(&w->lock);
	*out = u;
	return 0;
}

void uffds_free(struct gup_world *w)
{
	while (!list_empty(&w->uffd_list)) {
		struct gup_uffd *u = list_entry(w->uffd_list.next, struct gup_uffd, list);

		GUP_BUG_ON(!read_once_bool(&u->released), "an open uffd outlived its mm");
		list_del(&u->list);
		waitqueue_destroy(&u->fault_wq);
		waitqueue_destroy(&u->read_wq);
		free(u);
	}
}

/*
 * Begin an operation of @t on @u: the uffd must be open, and its mm gets a
 * reference of ours (uffd_op_end puts it).  Calling with @u's mmap lock held would
 * deadlock on the lock the operation takes: refused.
 */
static int uffd_op_begin(struct gup_task *t, struct gup_uffd *u)
{
	int ret = 0;

	if (!t || !u || t->w != u->w)
		return -EINVAL;
	if (task_holds_mmap_lock(t, u->mm))	/* compares pointers only */
		return -EDEADLK;
	spin_lock(&u->lock);
	if (read_once_bool(&u->released))
		ret = -EBADF;
	else
		atomic_inc(&u->mm->mm_users);
	spin_unlock(&u->lock);
	return ret;
}

static void uffd_op_end(struct gup_uffd *u)
{
	mmput(u->mm);
}

/* A page-aligned, non-empty range of user addresses (Linux's validate_range). */
static int uffd_check_range(uint64_t start, uint64_t len, uint64_t *end)
{
	if ((start & ~PAGE_MASK) || (len & ~PAGE_MASK) || !len)
		return -EINVAL;
	if (start < GUP_MMAP_MIN || start >= GUP_TASK_SIZE || len > GUP_TASK_SIZE - start)
		return -EINVAL;
	*end = start + len;
	return 0;
}

/*
 * The prologue of an operation on [start, start+len): the range, the uffd open,
 * then the mmap lock (for write to change VMAs, else for read), killably.  Ended
 * by uffd_op_unlock.
 */
static int uffd_op_lock(struct gup_task *t, struct gup_uffd *u, uint64_t start, uint64_t len,
			uint64_t *end, bool write)
{
	struct rw_semaphore *sem;
	int ret;

	ret = uffd_check_range(start, len, end);
	if (!ret)
		ret = uffd_op_begin(t, u);
	if (ret)
		return ret;
	sem = &u->mm->mmap_lock;
	if (write ? down_write_killable(sem, &t->fatal_signal) :
		    down_read_killable(sem, &t->fatal_signal)) {
		uffd_op_end(u);
		return -EINTR;
	}
	return 0;
}

static void uffd_op_unlock(struct gup_uffd *u, bool write)
{
	if (write)
		mmap_write_unlock(u->mm);
	else
		mmap_read_unlock(u->mm);
	uffd_op_end(u);
}

/* ---- arming and resolving uffd-wp on PTEs ---- */

struct uffd_wp_args {
	bool arm;
	bool need_flush;
};

/*
 * Arm: R/O plus the marker; resolve: drop the marker and leave the PTE R/O (the
 * next write faults as usual).  cmpxchg: the TLB walker may set A/D meanwhile.
 */
static int uffd_wp_pte_table(struct pgtable *pt, uint64_t addr, uint64_t end, void *arg)
{
	struct uffd_wp_args *wa = arg;

	spin_lock(&pt->ptl);
	for (; addr != end; addr += PAGE_SIZE) {
		pte_t *ptep = &pt->ent[pte_index(addr)];
		uint64_t pte = ptep_get(ptep), new;

		if (!pte_present(pte))
			continue;	/* only present pages are armed (no PTE markers) */
		do {
			new = wa->arm ? pte_wrprotect(pte) | PTE_UFFD_WP : pte & ~PTE_UFFD_WP;
		} while (new != pte && !try_cmpxchg_u64(ptep, &pte, new));
		wa->need_flush |= pte_write(pte) && !pte_write(new);
	}
	spin_unlock(&pt->ptl);
	return 0;
}

/* Arm or resolve [start, end) of @vma.  mmap lock held. */
static void uffd_wp_range(struct gup_vma *vma, uint64_t start, uint64_t end, bool arm)
{
	struct uffd_wp_args wa = { .arm = arm };

	walk_pte_tables(vma->mm, start, end, uffd_wp_pte_table, &wa);
	/* A writable TLB entry would let a write slip past the marker. */
	if (wa.need_flush)
		flush_tlb_range(vma->mm, start, end);
}

/* ---- registration ---- */

/*
 * vma_can_userfault: anonymous memory, private or shared (shmem).  uffd-wp on
 * shared memory would need PTE markers to survive unmapping: private only.
 */
static bool vma_can_userfault(const struct gup_vma *vma, uint32_t vm_flags)
{
	if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_FSDAX))
		return false;
	if (vma_is_shmem(vma))
		return !(vm_flags & VM_UFFD_WP);
	return vma_is_anonymous(vma) && !(vma->vm_flags & VM_SHARED);
}

/*
 * May [start, end) be registered with @u under @vm_flags (0: unregistered)?
 * 0, -ENOMEM, -EINVAL, -EPERM, -EBUSY.
 */
static int uffd_check_vmas(struct gup_mm *mm, struct gup_uffd *u, uint64_t start,
			   uint64_t end, uint32_t vm_flags)
{
	struct gup_vma *vma = find_vma(mm, start);

	if (!vma || vma_start(vma) >= end)
		return -ENOMEM;
	for (; vma && vma_start(vma) < end; vma = vma_next(vma)) {
		if (!vma_can_userfault(vma, vm_flags))
			return -EINVAL;
		/* UFFDIO_COPY fills pages whatever the protection: it needs MAYWRITE. */
		if (!(vma->vm_flags & VM_MAYWRITE))
			return -EPERM;
		/* One uffd per VMA: a fault must know where to go. */
		if (vma->uffd && vma->uffd != u)
			return -EBUSY;
	}
	return 0;
}

struct uffd_reg {
	struct gup_uffd *u;
	uint32_t vm_flags;	/* VM_UFFD_* to set; 0: unregister */
};

/* Set @vma's uffd mode; markers exist only where a WP registration gives them meaning. */
static void uffd_set_mode(struct gup_vma *vma, uint32_t vm_flags)
{
	if ((vma->vm_flags & VM_UFFD_WP) && !(vm_flags & VM_UFFD_WP))
		uffd_wp_range(vma, vma_start(vma), vma_end(vma), false);
	vma->vm_flags = (vma->vm_flags & ~VM_UFFD_FLAGS) | vm_flags;
}

/* vma_apply_range callback: register @vma (unregistered, or already r->u's). */
static void uffd_register_vma(struct gup_vma *vma, void *arg)
{
	struct uffd_reg *r = arg;

	uffd_set_mode(vma, r->vm_flags);
	if (!vma->uffd) {
		vma->uffd = r->u;
		uffd_vma_get(r->u);
	}
}

/* vma_apply_range callback: unregister @vma if it is r->u's. */
static void uffd_unregister_vma(struct gup_vma *vma, void *arg)
{
	struct uffd_reg *r = arg;

	if (vma->uffd != r->u)
		return;
	uffd_set_mode(vma, 0);
	vma->uffd = NULL;
	uffd_vma_put(r->u);
}

/* Close: every VMA of the mm still registered with @u.  mmap lock (w). */
static void uffd_unregister_all(struct gup_mm *mm, struct gup_uffd *u)
{
	struct uffd_reg r = { .u = u };
	struct gup_vma *vma, *next;

	for (vma = node_vma(vma_tree_first(&mm->vmas)); vma; vma = next) {
		if (vma->uffd == u) {
			uffd_unregister_vma(vma, &r);
			vma = vma_merge_neighbours(vma);
		}
		next = vma_next(vma);
	}
}

static int uffd_set_range(struct gup_task *t, struct gup_uffd *u, uint64_t start,
			  uint64_t len, uint32_t vm_flags)
{
	struct uffd_reg r = { .u = u, .vm_flags = vm_flags };
	uint64_t end;
	int ret;

	ret = uffd_op_lock(t, u, start, len, &end, true);
	if (ret)
		return ret;
	/* A close that got the lock first has unregistered everything: stay out. */
	ret = read_once_bool(&u->released) ? -EBADF :
					     uffd_check_vmas(u->mm, u, start, end, vm_flags);
	if (!ret)
		ret = vma_apply_range(u->mm, start, end,
				      vm_flags ? uffd_register_vma : uffd_unregister_vma, &r);
	uffd_op_unlock(u, true);
	/* Unregistered waiters would otherwise sleep until a wake nobody will send. */
	if (!ret && !vm_flags)
		uffd_wake_range(u, start, end);
	return ret;
}

GUP_API int gup_uffd_register(struct gup_task *t, struct gup_uffd *uffd, uint64_t start,
			      size_t len, unsigned mode)
{
	uint32_t vm_flags = 0;

	if (!mode || (mode & ~(GUP_UFFD_MISSING | GUP_UFFD_WP)))
		return -EINVAL;
	if (mode & GUP_UFFD_MISSING)
		vm_flags |= VM_UFFD_MISSING;
	if (mode & GUP_UFFD_WP)
		vm_flags |= VM_UFFD_WP;
	return uffd_set_range(t, uffd, start, len, vm_flags);
}

GUP_API int gup_uffd_unregister(struct gup_task *t, struct gup_uffd *uffd, uint64_t start,
				size_t len)
{
	return uffd_set_range(t, uffd, start, len, 0);
}

GUP_API int gup_uffd_close(struct gup_task *t, struct gup_uffd *uffd)
{
	struct gup_mm *mm;
	unsigned n;

	if (!uffd || (t && t->w != uffd->w))
		return -EINVAL;
	if (t && task_holds_mmap_lock(t, uffd->mm))
		return -EDEADLK;
	spin_lock(&uffd->lock);
	if (read_once_bool(&uffd->released)) {
		spin_unlock(&uffd->lock);
		return -EBADF;
	}
	/* From here no fault queues, and whoever was queued is woken to retry. */
	write_once_bool(&uffd->released, true);
	n = uffd_wake_locked(uffd, 0, UINT64_MAX);
	spin_unlock(&uffd->lock);
	count_vm_events(uffd->w, GUP_STAT_UFFD_WAKE, n);
	wake_up_all(&uffd->fault_wq);
	wake_up_all(&uffd->read_wq);

	mm = uffd->mm;
	mmap_write_lock(mm);	/* not killable: a close always completes */
	uffd_unregister_all(mm, uffd);
	mmap_write_unlock(mm);
	GUP_BUG_ON(atomic_read(&uffd->vma_refs) != 0, "closed uffd still on %d VMA(s)",
		   atomic_read(&uffd->vma_refs));
	mmput(mm);
	return 0;
}

/* ---- reading fault messages ---- */

/* The oldest unread message into @msg: 0, -EAGAIN (none), -EBADF (closed). */
static int uffd_take_msg(struct gup_uffd *u, struct gup_uffd_msg *msg)
{
	struct uffd_waiter *uw;
	int ret = -EAGAIN;

	spin_lock(&u->lock);
	if (read_once_bool(&u->released)) {
		ret = -EBADF;
	} else if (!list_empty(&u->pending)) {
		uw = list_entry(u->pending.next, struct uffd_waiter, list);
		uffd_unlink(u, uw);
		list_add(&uw->list, u->reported.prev);
		uw->queued = true;
		uw->reported = true;
		*msg = uw->msg;		/* under the lock: the waiter cannot leave */
		ret = 0;
	}
	spin_unlock(&u->lock);
	return ret;
}

static bool uffd_readable(void *arg)
{
	struct gup_uffd *u = arg;

	return read_once_u32(&u->nr_pending) != 0 || read_once_bool(&u->released);
}

GUP_API int gup_uffd_read(struct gup_uffd *uffd, struct gup_uffd_msg *msg,
			  uint64_t timeout_ns)
{
	uint64_t now, deadline = UINT64_MAX;
	int ret;

	if (!uffd || !msg)
		return -EINVAL;
	if (timeout_ns != UINT64_MAX) {
		now = sched_clock_ns();
		deadline = timeout_ns > UINT64_MAX - 1 - now ? UINT64_MAX - 1 : now + timeout_ns;
	}
	for (;;) {
		ret = uffd_take_msg(uffd, msg);
		if (ret != -EAGAIN || !timeout_ns)
			return ret;
		now = sched_clock_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		/* Another reader may take what woke us: then wait again. */
		ret = wait_event_pure_timeout_fn(&uffd->read_wq, uffd_readable, uffd, NULL,
					    deadline == UINT64_MAX ? UINT64_MAX : deadline - now);
		if (ret)
			return ret;
	}
}

GUP_API int gup_uffd_wake(struct gup_uffd *uffd, uint64_t start, size_t len)
{
	uint64_t end;
	int ret;

	if (!uffd)
		return -EINVAL;
	ret = uffd_check_range(start, len, &end);
	if (ret)
		return ret;
	if (read_once_bool(&uffd->released))
		return -EBADF;
	uffd_wake_range(uffd, start, end);
	return 0;
}

/* ---- filling pages: UFFDIO_COPY and UFFDIO_ZEROPAGE ---- */

/*
 * Map @entry at @addr if nothing is mapped there (-EEXIST otherwise).  @ref, if
 * not NULL, is a reference of the caller's on the page that the mapping takes
 * over (a shmem page; a new anon page comes with its mapping counted).  mmap lock
 * held (r).
 */
static int uffd_install_pte(struct gup_task *t, struct gup_vma *vma, uint64_t addr,
			    uint64_t entry, struct page *ref)
{
	struct gup_mm *mm = vma->mm;
	struct pgtable *pt;
	pte_t *ptep = pte_alloc_map(mm, addr, &pt);

	if (!ptep)
		return -ENOMEM;
	spin_lock(&pt->ptl);
	if (!pte_none(ptep_get(ptep))) {
		spin_unlock(&pt->ptl);
		return -EEXIST;
	}
	if (ref)
		add_parts_u64(&ref->count, PAGE_COUNT_MAP, PAGE_MAP_ONE);
	set_pte(ptep, entry);
	spin_unlock(&pt->ptl);
	if (!pte_special(entry))
		add_mm_rss_task(mm, t, 1);
	return 0;
}

/* A new exclusive anon page holding @src, mapped at @addr (mfill_atomic_pte_copy). */
static int uffd_copy_page(struct gup_task *t, struct gup_vma *vma, uint64_t addr,
			  const void *src, bool wp)
{
	struct gup_world *w = vma->mm->w;
	struct page *page = alloc_page(w, GFP_MOVABLE);
	uint8_t *data;
	uint64_t entry;
	int ret;

	if (!page)
		return -ENOMEM;
	data = page_data(&w->arena, page);
	mem_copy_to(data, src, PAGE_SIZE, data);
	/* Published by set_pte's release, like a page of do_anonymous_page. */
	page_init_private(page, (UINT64_C(1) << PG_anon) | (UINT64_C(1) << PG_uptodate),
			  PAGE_MAP_REF, addr >> PAGE_SHIFT, true);
	entry = pte_mkdirty(pfn_pte(page_to_pfn(&w->arena, page), PTE_PRESENT | PTE_ACCESSED));
	if (wp)
		entry |= PTE_UFFD_WP;
	else if (vma->vm_flags & VM_WRITE)
		entry = pte_mkwrite(entry);
	ret = uffd_install_pte(t, vma, addr, entry, NULL);
	if (ret) {
		page_init_private(page, 0, 0, 0, false);
		free_frame(w, page);
		return ret;
	}
	count_task_event(w, t, GUP_STAT_UFFD_COPY);
	return 0;
}

/* The shared zero page at @addr, R/O, as a read fault maps it. */
static int uffd_zero_page(struct gup_task *t, struct gup_vma *vma, uint64_t addr)
{
	int ret = uffd_install_pte(t, vma, addr, pfn_pte(ZERO_PFN, PTE_PRESENT | PTE_SPECIAL |
								  PTE_ACCESSED), NULL);

	if (!ret)
		count_task_event(vma->mm->w, t, GUP_STAT_UFFD_ZEROPAGE);
	return ret;
}

/*
 * Shared memory (shmem_mfill_atomic_pte): a new page in the object's cache, holding
 * @src (NULL: zeroes), mapped here.  -EEXIST if the object has one: another mapping
 * may have faulted it in (the handler then just wakes the waiter).
 */
static int uffd_shmem_page(struct gup_task *t, struct gup_vma *vma, uint64_t addr,
			   const void *src)
{
	struct gup_world *w = vma->mm->w;
	/* Unmovable, as every shmem page (shmem_get_page says why). */
	struct page *page = alloc_page(w, GFP_KERNEL | (src ? 0 : GFP_ZERO));
	uint64_t entry;
	int ret;

	if (!page)
		return -ENOMEM;
	if (src)
		mem_copy_to(page_data(&w->arena, page), src, PAGE_SIZE, page_data(&w->arena, page));
	ret = shmem_add_page(w, vma->shmem, linear_page_index(vma, addr), page);
	if (ret)
		return ret;
	SetPageDirty(page);
	entry = pte_mkdirty(pfn_pte(page_to_pfn(&w->arena, page), PTE_PRESENT | PTE_ACCESSED));
	if (vma->vm_flags & VM_WRITE)
		entry = pte_mkwrite(entry);
	ret = uffd_install_pte(t, vma, addr, entry, page);
	if (ret)
		put_page(w, page);	/* the object keeps it; a fault will map it */
	else
		count_task_event(w, t, src ? GUP_STAT_UFFD_COPY : GUP_STAT_UFFD_ZEROPAGE);
	return ret;
}

struct uffd_fill {
	const uint8_t *src;	/* NULL: zeroes */
	bool wp;		/* map uffd-wp armed */
	bool wake;
};

/* Fill [dst, end) of @vma page by page; bytes filled, or -errno if none. */
static long uffd_fill_vma(struct gup_task *t, struct gup_vma *vma, uint64_t dst, uint64_t end,
			  const struct uffd_fill *f)
{
	long done = 0;
	int ret = 0;

	for (uint64_t addr = dst; addr < end && !ret; addr += PAGE_SIZE) {
		const uint8_t *src = f->src ? f->src + (addr - dst) : NULL;

		if (vma_is_shmem(vma))
			ret = uffd_shmem_page(t, vma, addr, src);
		else if (src)
			ret = uffd_copy_page(t, vma, addr, src, f->wp);
		else
			ret = uffd_zero_page(t, vma, addr);
		if (!ret)
			done += PAGE_SIZE;
		cond_resched();
	}
	return done ? done : ret;
}

/*
 * mfill_atomic: [dst, dst+len) must lie in one VMA registered with @u; pages are
 * filled under the mmap read lock, then the waiters of what was filled are woken.
 */
static long uffd_fill(struct gup_task *t, struct gup_uffd *u, uint64_t dst, uint64_t len,
		      const struct uffd_fill *f)
{
	struct gup_vma *vma;
	uint64_t end;
	long ret;

	ret = uffd_op_lock(t, u, dst, len, &end, false);
	if (ret)
		return ret;
	vma = vma_lookup(u->mm, dst);
	if (!vma || end > vma_end(vma) || vma->uffd != u)
		ret = -ENOENT;
	else if (f->wp && !(vma->vm_flags & VM_UFFD_WP))
		ret = -EINVAL;
	else
		ret = uffd_fill_vma(t, vma, dst, end, f);
	uffd_op_unlock(u, false);
	if (ret > 0 && f->wake)
		uffd_wake_range(u, dst, dst + (uint64_t)ret);
	return ret;
}

GUP_API long gup_uffd_copy(struct gup_task *t, struct gup_uffd *uffd, uint64_t dst,
			   const void *src, size_t len, unsigned mode)
{
	struct uffd_fill f = {
		.src = src,
		.wp = mode & GUP_UFFD_COPY_WP,
		.wake = !(mode & GUP_UFFD_COPY_DONTWAKE),
	};

	if (mode & ~(GUP_UFFD_COPY_DONTWAKE | GUP_UFFD_COPY_WP))
		return -EINVAL;
	if (!src)
		return -EFAULT;
	return uffd_fill(t, uffd, dst, len, &f);
}

GUP_API long gup_uffd_zeropage(struct gup_task *t, struct gup_uffd *uffd, uint64_t dst,
			       size_t len, unsigned mode)
{
	struct uffd_fill f = { .wake = !(mode & GUP_UFFD_ZEROPAGE_DONTWAKE) };

	if (mode & ~GUP_UFFD_ZEROPAGE_DONTWAKE)
		return -EINVAL;
	return uffd_fill(t, uffd, dst, len, &f);
}

/* ---- UFFDIO_WRITEPROTECT ---- */

/* Every VMA meeting [start, end) is registered GUP_UFFD_WP with @u; -ENOENT if not. */
static int uffd_check_wp_vmas(struct gup_mm *mm, struct gup_uffd *u, uint64_t start,
			      uint64_t end)
{
	struct gup_vma *vma = find_vma(mm, start);

	if (!vma || vma_start(vma) >= end)
		return -ENOENT;
	for (; vma && vma_start(vma) < end; vma = vma_next(vma))
		if (vma->uffd != u || !(vma->vm_flags & VM_UFFD_WP))
			return -ENOENT;
	return 0;
}

GUP_API int gup_uffd_writeprotect(struct gup_task *t, struct gup_uffd *uffd, uint64_t start,
				  size_t len, unsigned mode)
{
	bool arm = mode & GUP_UFFD_WRITEPROTECT_WP;
	struct gup_vma *vma;
	uint64_t end;
	int ret;

	if ((mode & ~(GUP_UFFD_WRITEPROTECT_WP | GUP_UFFD_WRITEPROTECT_DONTWAKE)) ||
	    (arm && (mode & GUP_UFFD_WRITEPROTECT_DONTWAKE)))
		return -EINVAL;
	ret = uffd_op_lock(t, uffd, start, len, &end, false);
	if (ret)
		return ret;
	/* All or nothing: check every VMA before arming any. */
	ret = uffd_check_wp_vmas(uffd->mm, uffd, start, end);
	for (vma = ret ? NULL : find_vma(uffd->mm, start); vma && vma_start(vma) < end;
	     vma = vma_next(vma))
		uffd_wp_range(vma, start > vma_start(vma) ? start : vma_start(vma),
			      end < vma_end(vma) ? end : vma_end(vma), arm);
	uffd_op_unlock(uffd, false);
	if (!ret && !arm && !(mode & GUP_UFFD_WRITEPROTECT_DONTWAKE))
		uffd_wake_range(uffd, start, end);
	return ret;
}
