/* SPDX-License-Identifier: MIT */
/*
 * src/mm/fault.h - handle_mm_fault: fault flags, results, the vm_fault descriptor.
 *
 * Flags and results are Linux's (linux_anchor 1.8).  Legal combinations of
 * ALLOW_RETRY/TRIED: neither, ALLOW_RETRY, or ALLOW_RETRY|TRIED.  WRITE|UNSHARE is
 * illegal.  A handler that returns VM_FAULT_RETRY with ALLOW_RETRY (and without
 * RETRY_NOWAIT) has released the mmap lock; VM_FAULT_COMPLETED means the fault was
 * handled and the lock released.
 */
#ifndef GUP_MM_FAULT_H
#define GUP_MM_FAULT_H

#include "mm/mm.h"
#include "world.h"

#define FAULT_FLAG_WRITE		0x0001u
#define FAULT_FLAG_MKWRITE		0x0002u
#define FAULT_FLAG_ALLOW_RETRY		0x0004u
#define FAULT_FLAG_RETRY_NOWAIT		0x0008u
#define FAULT_FLAG_KILLABLE		0x0010u
#define FAULT_FLAG_TRIED		0x0020u
#define FAULT_FLAG_USER			0x0040u
#define FAULT_FLAG_REMOTE		0x0080u
#define FAULT_FLAG_INTERRUPTIBLE	0x0200u
#define FAULT_FLAG_UNSHARE		0x0400u
#define FAULT_FLAG_ALL			0x06ffu

#define VM_FAULT_OOM		0x000001u
#define VM_FAULT_SIGBUS		0x000002u
#define VM_FAULT_MAJOR		0x000004u
/* do_wp_page made the page this mapping's own, copied or reused (2.6.29's
 * __get_user_pages then looked the page up as a read: Dirty COW). */
#define VM_FAULT_WRITE		0x000008u
#define VM_FAULT_HWPOISON	0x000010u
#define VM_FAULT_SIGSEGV	0x000040u
#define VM_FAULT_NOPAGE		0x000100u
#define VM_FAULT_LOCKED		0x000200u
#define VM_FAULT_RETRY		0x000400u
#define VM_FAULT_DONE_COW	0x001000u
#define VM_FAULT_COMPLETED	0x004000u
#define VM_FAULT_ERROR	(VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON)

struct vm_fault {
	struct gup_vma *vma;
	struct gup_mm *mm;
	struct gup_world *w;
	uint64_t address;		/* page aligned                              */
	uint64_t pgoff;			/* linear_page_index(vma, address)           */
	unsigned flags;			/* FAULT_FLAG_*                              */
	pte_t *pte;			/* the PTE slot (tables exist)               */
	struct pgtable *pt;		/* its table, for the PT lock                */
	uint64_t orig_pte;		/* the PTE value the decision was made on    */
	struct page *page;		/* vm_ops->fault result, one reference held */
	struct gup_task *task;		/* the faulting task, or NULL (remote, populate) */
};

/*
 * handle_mm_fault - resolve a fault at @addr of @vma.  mmap lock held for read;
 * released on return only with VM_FAULT_RETRY (if ALLOW_RETRY and not
 * RETRY_NOWAIT) or VM_FAULT_COMPLETED.  @task is the faulting task (its fatal
 * signal, its counters), or NULL for remote access and population.
 */
unsigned handle_mm_fault(struct gup_vma *vma, uint64_t addr, unsigned flags,
			 struct gup_task *task);

/* The struct page a PTE maps, or NULL for special PTEs (zero page) - vm_normal_page. */
static inline struct page *vm_normal_page(struct gup_vma *vma, uint64_t addr, uint64_t pte)
{
	(void)addr;
	if (pte_special(pte))
		return NULL;
	return pfn_to_page(&vma->mm->w->arena, pte_pfn(pte));
}

/* Turn an error result into an errno (vm_fault_to_errno; HWPOISON -> -EFAULT unless asked). */
int vm_fault_to_errno(unsigned ret, bool hwpoison_errno);

/*
 * do_user_fault - the fault a user access takes (arch do_user_addr_fault): takes the
 * mmap lock, checks the VMA's permission, calls handle_mm_fault with retry.
 * Return: 0, -EFAULT (SIGSEGV/SIGBUS), -ENOMEM (OOM), -EINTR (fatal signal).
 */
int do_user_fault(struct gup_task *t, uint64_t addr, bool write);

#endif /* GUP_MM_FAULT_H */
