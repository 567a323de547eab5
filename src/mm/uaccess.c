/* SPDX-License-Identifier: MIT */
/*
 * src/mm/uaccess.c - loads and stores of a task, through its software TLB.
 *
 * Each page of an access is one irq-off section: look up the TLB; on a miss (or a
 * write through an entry that does not allow it) walk the page table as the MMU
 * would - setting ACCESSED/DIRTY with a cmpxchg, never taking a lock - and on a
 * non-present or write-protected PTE leave the section and take the fault.  The
 * bytes are moved inside the section, so a shootdown waits for the move to
 * finish, as an IPI waits for the instruction to retire.
 */
#include "mm/fault.h"
#include "world.h"

enum uaccess_op { UA_LOAD, UA_STORE, UA_FILL };

/* The MMU's page walk; true if the entry was filled.  Inside an irq-off section. */
/* The PTE slot of @addr, through the task's paging-structure cache. */
static pte_t *tlb_walk(struct gup_task *t, uint64_t addr)
{
	uint64_t tag = (addr >> PMD_SHIFT) + 1;
	struct pgtable *pt;
	pte_t *ptep;

	if (t->pwc_tag == tag)
		return &t->pwc_table->ent[pte_index(addr)];
	ptep = pte_offset_map(t->mm, addr, &pt);
	if (ptep) {
		t->pwc_tag = tag;
		t->pwc_table = pt;
	}
	return ptep;
}

static bool tlb_fill(struct gup_task *t, struct tlb_entry *e, uint64_t addr, bool write)
{
	struct gup_world *w = t->w;
	pte_t *ptep = tlb_walk(t, addr);
	uint64_t pte, want;

	if (!ptep)
		return false;
	/* Acquire: the frame's contents are seen once its PTE is; pairs with
	 * set_pte's release store (pgtable.h). */
	pte = smp_load_acquire(ptep);
	do {
		if (!pte_accessible(pte) || (write && !pte_write(pte)))
			return false;
		want = pte_mkyoung(pte) | (write ? PTE_DIRTY : 0);
		/* Only a missing A/D bit is ever written (pgtable.h's rule). */
	} while (want != pte && !try_cmpxchg_u64(ptep, &pte, want));

	e->vpn = (addr >> PAGE_SHIFT) + 1;
	e->data = w->arena.data + (pte_pfn(want) << PAGE_SHIFT);
	e->frame = e->data;
	e->writable = pte_write(want) && pte_dirty(want);
	task_stat_add(t, GUP_STAT_TLB_MISS, 1);
	return true;
}

/* One page's worth of an access: [addr, addr+n) lies within one page. */
static int access_page(struct gup_task *t, uint64_t addr, void *buf, int c, size_t n,
		       enum uaccess_op op)
{
	bool write = op != UA_LOAD;
	uint64_t vpn = addr >> PAGE_SHIFT;
	size_t off = addr & ~PAGE_MASK;
	struct tlb_entry *e = &t->tlb[vpn % TLB_ENTRIES];
	int err;

again:
	tlb_task_enter(t);
	if (e->vpn != vpn + 1 || (write && !e->writable)) {
		if (!tlb_fill(t, e, addr, write)) {
			tlb_task_exit(t);
			/*
			 * A fault would take the mmap lock this task already holds:
			 * fail as a pagefault_disable()d access does, rather than
			 * deadlock behind a queued writer.
			 */
			if (unlikely(task_holds_mmap_lock(t, t->mm)))
				return -EFAULT;
			err = do_user_fault(t, addr, write);
			if (err)
				return err;
			goto again;
		}
	}
	if (op == UA_LOAD)
		mem_copy_from(buf, e->data + off, n, e->frame);
	else if (op == UA_STORE)
		mem_copy_to(e->data + off, buf, n, e->frame);
	else
		mem_set(e->data + off, c, n, e->frame);
	tlb_task_exit(t);
	return 0;
}

static int uaccess(struct gup_task *t, uint64_t addr, void *buf, int c, size_t len,
		   enum uaccess_op op, const void *site)
{
	if (!t || (!buf && op != UA_FILL && len))
		return -EINVAL;
	if (addr + len < addr || addr + len > GUP_TASK_SIZE)
		return -EFAULT;
	/* might_fault(): a user access may fault, which takes the mmap lock. */
	if (unlikely(task_holds_mmap_lock(t, t->mm)))
		gup_misuse(t->w, site, "user access by task %u while it holds its mmap lock "
			   "(the access may fault, and the fault takes that lock)", t->id);
	while (len) {
		size_t n = PAGE_SIZE - (addr & ~PAGE_MASK);
		int err;

		if (n > len)
			n = len;
		err = access_page(t, addr, buf, c, n, op);
		if (err)
			return err;
		addr += n;
		len -= n;
		if (buf)
			buf = (char *)buf + n;
	}
	return 0;
}

GUP_API int gup_store(struct gup_task *t, uint64_t addr, const void *buf, size_t len)
{
	return uaccess(t, addr, (void *)buf, 0, len, UA_STORE, __builtin_return_address(0));
}

GUP_API int gup_load(struct gup_task *t, uint64_t addr, void *buf, size_t len)
{
	return uaccess(t, addr, buf, 0, len, UA_LOAD, __builtin_return_address(0));
}

GUP_API int gup_fill(struct gup_task *t, uint64_t addr, int c, size_t len)
{
	return uaccess(t, addr, NULL, c, len, UA_FILL, __builtin_return_address(0));
}
