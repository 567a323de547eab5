/* SPDX-License-Identifier: MIT */
/*
 * src/mm/tlb.c - software TLBs, shootdowns, and the mmu_gather.
 *
 * Each task caches translations in its own TLB and uses them only inside an
 * irq-off section (one user access, or gup-fast's walk).  A shootdown is:
 *
 *   flusher:  change PTEs;  atomic64_inc_return(&mm->tlb_gen)  [full barrier]
 *             for each task of the mm: irq_sync(&task->irq)     [the IPI]
 *   task:     local_irq_disable()  [seq odd; smp_mb]
 *             if (tlb_gen != t->tlb_gen) drop all entries
 *             ... use entries ...;  local_irq_enable()
 *
 * The flusher's RMW and the task's smp_mb form a Dekker pair: either the task's
 * section began before the flusher read its seq (then irq_sync waits for it to
 * end, as an IPI waits for interrupts to be enabled again, seed004 1.12 L397-399),
 * or the task reads the new generation and drops its stale entries first.  A
 * stale writable entry therefore keeps working until the shootdown reaches the
 * task and no longer - exactly the window the 2009 races live in.
 *
 * Entries are dropped wholesale on a generation change; over-flushing is always
 * allowed, and a 64-entry TLB is cheap to clear.
 */
#include <string.h>

#include "mm/mm.h"
#include "mm/fault.h"
#include "world.h"

void tlb_task_flush_all(struct gup_task *t)
{
	for (int i = 0; i < TLB_ENTRIES; i++)
		t->tlb[i].vpn = 0;
	t->pwc_tag = 0;
}

/* Drop the entries of [start, end); a range wider than the TLB drops them all. */
static void tlb_task_flush_range(struct gup_task *t, uint64_t start, uint64_t end)
{
	if ((end - start) >> PAGE_SHIFT >= TLB_ENTRIES) {
		for (int i = 0; i < TLB_ENTRIES; i++)
			t->tlb[i].vpn = 0;
		return;
	}
	for (uint64_t vpn = start >> PAGE_SHIFT; vpn < end >> PAGE_SHIFT; vpn++)
		if (t->tlb[vpn % TLB_ENTRIES].vpn == vpn + 1)
			t->tlb[vpn % TLB_ENTRIES].vpn = 0;
}

/*
 * The log's record of generation @g: the range flushed, and whether page
 * tables were freed.  A seqrec (sched.h): false if it is gone or being
 * rewritten.
 */
enum { TLB_REC_START, TLB_REC_END, TLB_REC_TABLES };

static bool tlb_log_read(struct gup_mm *mm, uint64_t g, uint64_t *start, uint64_t *end,
			 bool *tables)
{
	uint64_t word[SEQREC_WORDS];

	if (!seqrec_read(&mm->tlb_log[g % TLB_FLUSH_LOG], g, word))
		return false;
	*start = word[TLB_REC_START];
	*end = word[TLB_REC_END];
	*tables = word[TLB_REC_TABLES];
	return true;
}

/* mm->tasks_lock held: writers of the log are serialised. */
static void tlb_log_write(struct gup_mm *mm, uint64_t g, uint64_t start, uint64_t end,
			  bool tables)
{
	const uint64_t word[SEQREC_WORDS] = {
		[TLB_REC_START] = start, [TLB_REC_END] = end, [TLB_REC_TABLES] = tables,
	};

	seqrec_write(&mm->tlb_log[g % TLB_FLUSH_LOG], g, word);
}

/*
 * Replay what this task missed, like Linux's flush_tlb_func: each logged range
 * is dropped; a record that is gone (the task lags more than the log), still
 * being written, or that freed page tables means a full flush, paging-structure
 * cache included.  Runs inside the task's irq-off section.
 */
void tlb_task_sync(struct gup_task *t, uint64_t gen)
{
	uint64_t g, start, end;
	bool tables;

	if (gen - t->tlb_gen > TLB_FLUSH_LOG)
		goto flush_all;
	for (g = t->tlb_gen + 1; g != gen + 1; g++) {
		if (!tlb_log_read(t->mm, g, &start, &end, &tables) || tables)
			goto flush_all;
		tlb_task_flush_range(t, start, end);
	}
	t->tlb_gen = gen;
	return;
flush_all:
	tlb_task_flush_all(t);
	t->tlb_gen = gen;
}

/*
 * The shootdown: every task of @mm stops using entries of [start, end) older
 * than this call.  The generation is bumped under tasks_lock so that log slots
 * are written in generation order by one flusher at a time.
 */
static void tlb_shootdown(struct gup_mm *mm, uint64_t start, uint64_t end, bool tables)
{
	struct gup_world *w = mm->w;
	struct gup_task *t;
	uint64_t ipis = 0, waits = 0, g;

	spin_lock(&mm->tasks_lock);
	/* Full barrier: our PTE stores before the generation; pairs with tlb_task_enter. */
	g = (uint64_t)atomic64_inc_return(&mm->tlb_gen);
	tlb_log_write(mm, g, start, end, tables);
	list_for_each_entry(t, &mm->tasks, struct gup_task, list) {
		ipis++;
		if (irqs_disabled(&t->irq))
			waits++;
		irq_sync(&t->irq);
	}
	spin_unlock(&mm->tasks_lock);
	count_vm_event(w, GUP_STAT_TLB_FLUSH);
	count_vm_events(w, GUP_STAT_TLB_SHOOTDOWN, ipis);
	if (waits)
		count_vm_events(w, GUP_STAT_TLB_SHOOTDOWN_WAIT, waits);
}

void flush_tlb_mm(struct gup_mm *mm)
{
	tlb_shootdown(mm, 0, GUP_TASK_SIZE, false);
}

void flush_tlb_range(struct gup_mm *mm, uint64_t start, uint64_t end)
{
	tlb_shootdown(mm, start & PAGE_MASK, (end + PAGE_SIZE - 1) & PAGE_MASK, false);
}

void flush_tlb_tables(struct gup_mm *mm, uint64_t start, uint64_t end)
{
	tlb_shootdown(mm, start & PAGE_MASK, (end + PAGE_SIZE - 1) & PAGE_MASK, true);
}

void flush_tlb_page(struct gup_mm *mm, uint64_t addr)
{
	flush_tlb_range(mm, addr, addr + PAGE_SIZE);
}

/* ---- mmu_gather ---- */

void tlb_gather_mmu(struct mmu_gather *tlb, struct gup_mm *mm)
{
	tlb->mm = mm;
	tlb->start = UINT64_MAX;
	tlb->end = 0;
	tlb->need_flush = false;
	tlb->fullmm = false;
	tlb->nr = 0;
	tlb->tables = NULL;
}

/* Flush, then release what was gathered: pages' mapping references, tables. */
void tlb_flush_mmu(struct mmu_gather *tlb)
{
	struct gup_world *w = tlb->mm->w;

	if (tlb->tables)	/* lockless walkers may hold a table pointer */
		flush_tlb_tables(tlb->mm, 0, GUP_TASK_SIZE);
	else if (tlb->need_flush)
		flush_tlb_range(tlb->mm, tlb->start, tlb->end);
	for (size_t i = 0; i < tlb->nr; i++)
		put_page(w, tlb->pages[i]);
	while (tlb->tables) {
		struct pgtable *pt = tlb->tables;

		tlb->tables = pt->free_next;
		pgtable_free(w, pt);
	}
	tlb->nr = 0;
	tlb->need_flush = false;
	tlb->start = UINT64_MAX;
	tlb->end = 0;
}

void tlb_finish_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu(tlb);
}

/* A present PTE at @addr was cleared: the flush must cover it. */
static void tlb_flush_pte_range(struct mmu_gather *tlb, uint64_t addr)
{
	tlb->need_flush = true;
	if (addr < tlb->start)
		tlb->start = addr;
	if (addr + PAGE_SIZE > tlb->end)
		tlb->end = addr + PAGE_SIZE;
}

/* The PTE mapping @page at @addr was cleared under the PT lock (rmap already removed). */
void tlb_remove_page(struct mmu_gather *tlb, struct page *page, uint64_t addr)
{
	tlb_flush_pte_range(tlb, addr);
	tlb->pages[tlb->nr++] = page;
}

/* ---- zap ---- */

struct zap_args {
	struct mmu_gather *tlb;
	struct gup_vma *vma;
	bool keep_anon;	/* zap_file_range without even_cows */
	bool full;	/* the gather filled up: flush and resume at @resume */
	uint64_t resume;
};

static int zap_pte_table(struct pgtable *pt, uint64_t addr, uint64_t end, void *arg)
{
	struct zap_args *za = arg;
	struct mmu_gather *tlb = za->tlb;
	struct gup_mm *mm = tlb->mm;
	int64_t rss = 0;
	uint64_t nr_zapped = 0;

	spin_lock(&pt->ptl);
	for (; addr != end; addr += PAGE_SIZE) {
		pte_t *ptep = &pt->ent[pte_index(addr)];
		uint64_t pte = ptep_get(ptep);
		struct page *page;

		if (pte_none(pte))
			continue;
		if (za->keep_anon) {
			page = vm_normal_page(za->vma, addr, pte);
			if (page && PageAnon(page))
				continue;
		}
		if (tlb->nr == GATHER_BATCH) {
			za->full = true;
			za->resume = addr;
			break;
		}
		pte = ptep_get_and_clear(ptep);
		nr_zapped++;
		page = vm_normal_page(za->vma, addr, pte);
		if (!page) {	/* the zero page: nothing counted, but flush */
			tlb_flush_pte_range(tlb, addr);
			continue;
		}
		if (pte_dirty(pte) && !PageAnon(page))
			SetPageDirty(page);
		if (tlb->fullmm && mm->w->debug && page_maybe_dma_pinned(page))
			gup_misuse(mm->w, NULL, "pfn %llu is still pinned at the teardown of mm %u "
				   "(refcount %u): a pin outlives its address space",
				   (unsigned long long)page_to_pfn(&mm->w->arena, page), mm->id,
				   page_ref_count(page));
		page_remove_rmap(page);
		rss--;
		tlb_remove_page(tlb, page, addr);
	}
	spin_unlock(&pt->ptl);
	add_mm_rss(mm, rss);
	if (nr_zapped)
		count_vm_events(mm->w, GUP_STAT_ZAP_PTE, nr_zapped);
	return za->full;
}

static void zap_range(struct mmu_gather *tlb, struct gup_vma *vma, uint64_t start,
		      uint64_t end, bool keep_anon)
{
	struct zap_args za = { .tlb = tlb, .vma = vma, .keep_anon = keep_anon };

	while (walk_pte_tables(tlb->mm, start, end, zap_pte_table, &za)) {
		/* The batch is full: flush, release, continue where we stopped. */
		tlb_flush_mmu(tlb);
		start = za.resume;
		za.full = false;
		cond_resched();
	}
}

void zap_page_range(struct mmu_gather *tlb, struct gup_vma *vma, uint64_t start,
		    uint64_t end)
{
	zap_range(tlb, vma, start, end, false);
}

void zap_file_range(struct mmu_gather *tlb, struct gup_vma *vma, uint64_t start,
		    uint64_t end, bool even_cows)
{
	zap_range(tlb, vma, start, end, !even_cows);
}
