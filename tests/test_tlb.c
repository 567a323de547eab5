/* SPDX-License-Identifier: MIT */
/*
 * tests/test_tlb.c - the software TLB and its shootdown protocol (src/mm/tlb.c).
 *
 * What is modelled: a task caches translations and uses them only inside an
 * irq-off section; a change to a PTE takes effect for another task only when a
 * flush (mm->tlb_gen bump + irq_sync of every task) reaches it.  These tests pin
 * that behaviour down from the outside (stores succeeding or faulting, counters)
 * and from the inside (the TLB array, the scheduling points a store reports).
 *
 * Threads never call cmocka assertions: they record what they saw in atomics and
 * the main thread checks after the handshake.  Every wait is bounded.
 */
#define _GNU_SOURCE	/* sched_yield */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "mm/fault.h"
#include "world.h"

#include "common/fixture.h"

#define WAIT_NS		(UINT64_C(10) * 1000 * 1000 * 1000)	/* a handshake gives up after 10 s */
#define QUIET_NS	(UINT64_C(50) * 1000 * 1000)		/* "stays blocked" window: 50 ms   */
#define QUIET_READS	UINT64_C(10000000)			/* ... and at least this many reads */

#define PROT_RW		(GUP_PROT_READ | GUP_PROT_WRITE)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Spin (yielding now and then) until *@p == @want or WAIT_NS pass. */
static bool wait_int(_Atomic int *p, int want)
{
	struct fx_spin s;

	fx_spin_begin(&s, WAIT_NS, 256);
	while (atomic_load_explicit(p, memory_order_acquire) != want)
		if (!fx_spin(&s))
			return false;
	return true;
}

/* The task's TLB entry for @addr, or NULL if it caches none. */
static const struct tlb_entry *tlb_lookup(const struct gup_task *t, uint64_t addr)
{
	uint64_t vpn = addr >> GUP_PAGE_SHIFT;
	const struct tlb_entry *e = &t->tlb[vpn % TLB_ENTRIES];

	return e->vpn == vpn + 1 ? e : NULL;
}

static size_t tlb_valid_entries(const struct gup_task *t)
{
	size_t n = 0;

	for (int i = 0; i < TLB_ENTRIES; i++)
		n += t->tlb[i].vpn != 0;
	return n;
}

/* The PTE slot of @addr (tables must exist); the mmap lock is held by the caller. */
static pte_t *pte_slot(struct gup_mm *mm, uint64_t addr, struct pgtable **pt)
{
	pte_t *ptep = pte_offset_map(mm, addr, pt);

	assert_non_null(ptep);
	return ptep;
}

/* Clear PTE_WRITE of @addr under the PT lock, without any flush.  Returns the old PTE. */
static uint64_t wrprotect_no_flush(struct gup_mm *mm, uint64_t addr)
{
	struct pgtable *pt;
	pte_t *ptep;
	uint64_t old;

	mmap_read_lock(mm);
	ptep = pte_slot(mm, addr, &pt);
	spin_lock(&pt->ptl);
	old = fetch_and_u64(ptep, ~PTE_WRITE);
	spin_unlock(&pt->ptl);
	mmap_read_unlock(mm);
	return old;
}

static uint64_t pte_value(struct gup_mm *mm, uint64_t addr)
{
	struct pgtable *pt;
	uint64_t v;

	mmap_read_lock(mm);
	v = ptep_get(pte_slot(mm, addr, &pt));
	mmap_read_unlock(mm);
	return v;
}

/* ------------------------------------------------------------------------ */
/* A stale writable entry is used until the shootdown                        */
/* ------------------------------------------------------------------------ */

/* mprotect(PROT_READ) flushes: B's writable entry is gone, its next store faults. */
static void test_mprotect_drops_writable_entry(void **state)
{
	const char *policy = *state;
	struct gup_world *w = fx_world_new(policy, 64, 0);
	struct gup_mm *mm;
	struct gup_task *a, *b;
	struct fx_snap s;
	uint64_t addr, v = 0xbbbb;

	assert_int_equal(gup_mm_create(w, &mm), 0);
	a = fx_task_add(mm);
	b = fx_task_add(mm);
	gup_mm_put(mm);
	addr = fx_map_private(a, 4);

	fx_store_u64(b, addr, 0x1111);		/* fault: B's entry is writable now */
	assert_non_null(tlb_lookup(b, addr));
	assert_true(tlb_lookup(b, addr)->writable);
	assert_null(tlb_lookup(a, addr));

	fx_snap(w, &s);
	assert_int_equal(gup_mprotect(a, addr, 4 * GUP_PAGE_SIZE, GUP_PROT_READ), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_FLUSH), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_SHOOTDOWN), 2);	/* A and B */
	assert_false(pte_write(pte_value(mm, addr)));

	/* B's store: the entry was dropped by the shootdown, the walk finds R/O, SIGSEGV. */
	fx_snap(w, &s);
	assert_int_equal(gup_store(b, addr, &v, sizeof(v)), -EFAULT);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_SIGSEGV), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_MISS), 0);	/* the walk failed: no fill */
	assert_int_equal(fx_load_u64(b, addr), 0x1111);	/* reading is still allowed */
	assert_int_equal(fx_load_u64(a, addr), 0x1111);
	assert_non_null(tlb_lookup(b, addr));
	assert_false(tlb_lookup(b, addr)->writable);

	/* Back to RW: B may store again, and the old data is still there. */
	assert_int_equal(gup_mprotect(a, addr, 4 * GUP_PAGE_SIZE, PROT_RW), 0);
	fx_store_u64(b, addr, 0x2222);
	assert_int_equal(fx_load_u64(a, addr), 0x2222);

	gup_task_exit(a);
	gup_task_exit(b);
	fx_world_done(w);
}

/*
 * Clear PTE_WRITE behind the TLB's back: B keeps storing through its stale entry
 * (what hardware does) until a flush reaches it; then the store walks, finds the
 * R/O PTE and takes a write-protect fault, which (the VMA being writable and the
 * page exclusive) reuses the page and makes the PTE writable again.
 */
static void test_stale_entry_until_flush(void **state)
{
	const char *policy = *state;
	struct gup_world *w = fx_world_new(policy, 64, 0);
	struct gup_mm *mm;
	struct gup_task *a, *b;
	struct fx_snap s;
	uint64_t addr, old, pfn;

	assert_int_equal(gup_mm_create(w, &mm), 0);
	a = fx_task_add(mm);
	b = fx_task_add(mm);
	gup_mm_put(mm);
	addr = fx_map_private(a, 1);

	fx_store_u64(b, addr, 0x1111);
	pfn = (uint64_t)gup_mm_pfn(mm, addr);
	assert_true(tlb_lookup(b, addr) && tlb_lookup(b, addr)->writable);

	old = wrprotect_no_flush(mm, addr);
	assert_true(pte_write(old));
	assert_false(pte_write(pte_value(mm, addr)));

	/* No flush yet: B's store goes through the stale writable entry. */
	fx_snap(w, &s);
	fx_store_u64(b, addr + 8, 0x2222);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_MISS), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_FLUSH), 0);
	assert_false(pte_write(pte_value(mm, addr)));	/* the store did not touch the PTE */
	/* It landed in the frame: A (no entry yet) reads it through a fresh R/O fill. */
	assert_int_equal(fx_load_u64(a, addr + 8), 0x2222);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_MISS), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);
	assert_false(tlb_lookup(a, addr)->writable);

	/* The flush reaches B: the entry is gone; the next store walks and faults. */
	flush_tlb_mm(mm);
	fx_snap(w, &s);
	fx_store_u64(b, addr + 16, 0x3333);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 1);	/* exclusive: no copy */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_MISS), 1);	/* refilled after the fault */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_SIGSEGV), 0);
	assert_true(pte_write(pte_value(mm, addr)));
	assert_int_equal(gup_mm_pfn(mm, addr), (int64_t)pfn);	/* same frame */
	assert_true(tlb_lookup(b, addr) && tlb_lookup(b, addr)->writable);

	/* A's R/O entry was dropped by the same flush: a load refills it. */
	fx_snap(w, &s);
	assert_int_equal(fx_load_u64(a, addr), 0x1111);
	assert_int_equal(fx_load_u64(a, addr + 8), 0x2222);
	assert_int_equal(fx_load_u64(a, addr + 16), 0x3333);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_MISS), 1);

	gup_task_exit(a);
	gup_task_exit(b);
	fx_world_done(w);
}

/* ------------------------------------------------------------------------ */
/* Shootdowns are replayed by range; a lagging task or freed tables: flush all */
/* ------------------------------------------------------------------------ */

static void test_ranged_flush(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	struct gup_mm *mm;
	struct gup_task *a, *b;
	struct fx_snap s;
	uint64_t addr;

	(void)state;
	assert_int_equal(gup_mm_create(w, &mm), 0);
	a = fx_task_add(mm);
	b = fx_task_add(mm);
	gup_mm_put(mm);
	addr = fx_map_private(a, 4);
	for (int i = 0; i < 4; i++)
		fx_store_u64(b, addr + i * PAGE_SIZE, 0x100 + i);

	/* A one-page flush drops B's entry for that page only. */
	flush_tlb_page(mm, addr + PAGE_SIZE);
	tlb_task_enter(b);	/* B syncs as it would at its next access */
	tlb_task_exit(b);
	assert_non_null(tlb_lookup(b, addr));
	assert_null(tlb_lookup(b, addr + PAGE_SIZE));
	assert_non_null(tlb_lookup(b, addr + 2 * PAGE_SIZE));
	assert_int_not_equal(b->pwc_tag, 0);	/* no table freed: walk cache kept */
	fx_snap(w, &s);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fx_load_u64(b, addr + i * PAGE_SIZE), 0x100 + i);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_MISS), 1);

	/* A task lagging more generations than the log remembers flushes it all. */
	for (int i = 0; i <= TLB_FLUSH_LOG; i++)
		flush_tlb_page(mm, addr + 3 * PAGE_SIZE);
	fx_snap(w, &s);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fx_load_u64(b, addr + i * PAGE_SIZE), 0x100 + i);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_MISS), 4);

	/* Freed page tables: the paging-structure cache goes with the entries. */
	flush_tlb_tables(mm, addr, addr + PAGE_SIZE);
	tlb_task_enter(b);
	tlb_task_exit(b);
	assert_int_equal(b->pwc_tag, 0);
	assert_null(tlb_lookup(b, addr + 2 * PAGE_SIZE));

	gup_task_exit(a);
	gup_task_exit(b);
	fx_world_done(w);
}

/* ------------------------------------------------------------------------ */
/* A shootdown waits for irq-off sections, and only for them                */
/* ------------------------------------------------------------------------ */

struct section_ctx {
	struct gup_mm *mm;
	struct gup_task *b;
	_Atomic int in_section;		/* B: inside tlb_task_enter..exit        */
	_Atomic int release;		/* main: B may leave the section         */
	_Atomic int b_timeout;		/* B gave up waiting for release          */
	_Atomic int flush_started;	/* A: about to call flush_tlb_mm          */
	_Atomic int flushed;		/* A: flush_tlb_mm returned               */
};

static void section_thread(void *arg)
{
	struct section_ctx *c = arg;

	tlb_task_enter(c->b);
	atomic_store_explicit(&c->in_section, 1, memory_order_release);
	if (!wait_int(&c->release, 1))
		atomic_store_explicit(&c->b_timeout, 1, memory_order_relaxed);
	tlb_task_exit(c->b);
	atomic_store_explicit(&c->in_section, 2, memory_order_release);
}

static void flush_thread(void *arg)
{
	struct section_ctx *c = arg;

	atomic_store_explicit(&c->flush_started, 1, memory_order_release);
	flush_tlb_mm(c->mm);
	atomic_store_explicit(&c->flushed, 1, memory_order_release);
}

static void test_shootdown_waits_for_irq_off(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	struct section_ctx c = { 0 };
	struct gup_thread *tb, *ta;
	struct gup_task *a;
	struct fx_snap s;
	uint64_t gen0, start, reads = 0;
	bool early = false;

	(void)state;
	assert_int_equal(gup_mm_create(w, &c.mm), 0);
	a = fx_task_add(c.mm);
	c.b = fx_task_add(c.mm);
	gup_mm_put(c.mm);
	fx_snap(w, &s);
	gen0 = (uint64_t)atomic64_read(&c.mm->tlb_gen);

	tb = fx_thread_start(w, section_thread, &c);
	assert_true(wait_int(&c.in_section, 1));
	assert_true(irqs_disabled(&c.b->irq));

	ta = fx_thread_start(w, flush_thread, &c);
	assert_true(wait_int(&c.flush_started, 1));
	/* The flusher has published its generation: it is inside the shootdown now. */
	{
		uint64_t end = fx_now_ns() + WAIT_NS;

		while ((uint64_t)atomic_load_explicit(&c.mm->tlb_gen.counter, memory_order_acquire) == gen0 &&
		       fx_now_ns() < end)
			sched_yield();
		assert_true((uint64_t)atomic_load_explicit(&c.mm->tlb_gen.counter,
							   memory_order_acquire) != gen0);
	}

	/* While B stays in its section the flush must not return (busy check, no yield). */
	start = fx_now_ns();
	for (;;) {
		for (int i = 0; i < 1000; i++) {
			if (atomic_load_explicit(&c.flushed, memory_order_relaxed)) {
				early = true;
				break;
			}
		}
		reads += 1000;
		if (early || (reads >= QUIET_READS && fx_now_ns() - start >= QUIET_NS))
			break;
	}
	assert_false(early);
	assert_int_equal(atomic_load_explicit(&c.in_section, memory_order_acquire), 1);

	atomic_store_explicit(&c.release, 1, memory_order_release);
	assert_true(wait_int(&c.flushed, 1));
	assert_int_equal(gup_thread_join(ta), 0);
	assert_int_equal(gup_thread_join(tb), 0);
	assert_int_equal(atomic_load(&c.b_timeout), 0);
	assert_int_equal(atomic_load(&c.in_section), 2);

	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_FLUSH), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_SHOOTDOWN), 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_SHOOTDOWN_WAIT), 1);
	/* B's TLB is synced with the generation it saw on entry, not the new one. */
	assert_int_equal(c.b->tlb_gen, gen0);

	gup_task_exit(a);
	gup_task_exit(c.b);
	fx_world_done(w);
}

/* A task that is not inside a section costs the flusher nothing. */
static void test_flush_skips_idle_tasks(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	struct section_ctx c = { 0 };
	struct gup_thread *ta;
	struct gup_task *a;
	struct fx_snap s;
	uint64_t addr;

	(void)state;
	assert_int_equal(gup_mm_create(w, &c.mm), 0);
	a = fx_task_add(c.mm);
	c.b = fx_task_add(c.mm);
	gup_mm_put(c.mm);
	addr = fx_map_private(a, 1);
	fx_store_u64(c.b, addr, 7);	/* B has been in (and left) sections */
	assert_false(irqs_disabled(&c.b->irq));

	fx_snap(w, &s);
	ta = fx_thread_start(w, flush_thread, &c);
	assert_true(wait_int(&c.flushed, 1));	/* returns without anyone leaving a section */
	assert_int_equal(gup_thread_join(ta), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_FLUSH), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_SHOOTDOWN), 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_SHOOTDOWN_WAIT), 0);

	/* B's entry is still in its array, but stale: the next section drops it. */
	assert_non_null(tlb_lookup(c.b, addr));
	fx_snap(w, &s);
	assert_int_equal(fx_load_u64(c.b, addr), 7);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_MISS), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);

	gup_task_exit(a);
	gup_task_exit(c.b);
	fx_world_done(w);
}

/* A task created after flushes starts empty and synced: no spurious drop, no stale entry. */
static void test_new_task_starts_empty(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	struct gup_mm *mm;
	struct gup_task *a, *c;
	struct fx_snap s;
	uint64_t addr;

	(void)state;
	assert_int_equal(gup_mm_create(w, &mm), 0);
	a = fx_task_add(mm);
	gup_mm_put(mm);
	addr = fx_map_private(a, 2);
	fx_store_u64(a, addr, 1);
	fx_store_u64(a, addr + GUP_PAGE_SIZE, 2);
	flush_tlb_mm(mm);
	flush_tlb_mm(mm);
	fx_store_u64(a, addr, 3);		/* A refills after the flushes */
	assert_true(tlb_valid_entries(a) >= 1);

	c = fx_task_add(mm);
	assert_int_equal(tlb_valid_entries(c), 0);
	assert_int_equal(c->tlb_gen, (uint64_t)atomic64_read(&mm->tlb_gen));
	assert_false(irqs_disabled(&c->irq));

	/* Its first accesses are TLB misses, resolved by the walker without faults. */
	fx_snap(w, &s);
	assert_int_equal(fx_load_u64(c, addr), 3);
	assert_int_equal(fx_load_u64(c, addr + GUP_PAGE_SIZE), 2);
	/* A load of a writable, dirty PTE caches a writable entry: the store hits. */
	assert_true(tlb_lookup(c, addr) && tlb_lookup(c, addr)->writable);
	fx_store_u64(c, addr, 4);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_MISS), 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);
	assert_int_equal(tlb_valid_entries(c), 2);
	assert_int_equal(fx_load_u64(a, addr), 4);

	gup_task_exit(c);
	gup_task_exit(a);
	fx_world_done(w);
}

/* ------------------------------------------------------------------------ */
/* Every shootdown reaches every task of the mm                             */
/* ------------------------------------------------------------------------ */

#define NR_REACH_TASKS	5

static void test_shootdown_reaches_all_tasks(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	struct gup_mm *mm, *other_mm;
	struct gup_task *t[NR_REACH_TASKS], *other;
	struct fx_snap s;
	uint64_t addr, oaddr, v = 9;

	(void)state;
	assert_int_equal(gup_mm_create(w, &mm), 0);
	for (int i = 0; i < NR_REACH_TASKS; i++)
		t[i] = fx_task_add(mm);
	gup_mm_put(mm);
	/* A task of another mm is never reached by this mm's flushes. */
	assert_int_equal(gup_mm_create(w, &other_mm), 0);
	other = fx_task_add(other_mm);
	gup_mm_put(other_mm);
	oaddr = fx_map_private(other, 1);
	fx_store_u64(other, oaddr, 77);

	addr = fx_map_private(t[0], 1);
	for (int i = 0; i < NR_REACH_TASKS; i++) {
		fx_store_u64(t[i], addr + 8 * (uint64_t)i, (uint64_t)i + 100);
		assert_true(tlb_lookup(t[i], addr) && tlb_lookup(t[i], addr)->writable);
	}

	fx_snap(w, &s);
	for (int k = 0; k < 7; k++)
		flush_tlb_mm(mm);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_FLUSH), 7);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_SHOOTDOWN), 7 * NR_REACH_TASKS);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_SHOOTDOWN_WAIT), 0);

	/* A flush through mprotect reaches them all too: every task's store now faults. */
	fx_snap(w, &s);
	assert_int_equal(gup_mprotect(t[2], addr, GUP_PAGE_SIZE, GUP_PROT_READ), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_FLUSH), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_SHOOTDOWN), NR_REACH_TASKS);
	for (int i = 0; i < NR_REACH_TASKS; i++)
		assert_int_equal(gup_store(t[i], addr, &v, sizeof(v)), -EFAULT);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_SIGSEGV), NR_REACH_TASKS);
	for (int i = 0; i < NR_REACH_TASKS; i++)
		assert_int_equal(fx_load_u64(t[i], addr + 8 * (uint64_t)i), (uint64_t)i + 100);

	/* The other mm's task was never touched: its entry still hits. */
	fx_snap(w, &s);
	assert_int_equal(fx_load_u64(other, oaddr), 77);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_MISS), 0);

	/* An exited task is no longer reached. */
	gup_task_exit(t[NR_REACH_TASKS - 1]);
	fx_snap(w, &s);
	flush_tlb_mm(mm);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_TLB_SHOOTDOWN), NR_REACH_TASKS - 1);

	for (int i = 0; i < NR_REACH_TASKS - 1; i++)
		gup_task_exit(t[i]);
	gup_task_exit(other);
	fx_world_done(w);
}

/* ------------------------------------------------------------------------ */
/* Scheduling points of a store                                              */
/* ------------------------------------------------------------------------ */

#define LOG_MAX	4096

struct sp_event {
	enum sched_point_kind kind;
	const void *obj;
	int irq_depth;		/* irq-off sections open when the point was reported */
};

/*
 * A hook that logs the points of its thread.  It must not use sched.h primitives
 * (they would re-enter it), so its state is plain: only its own thread touches it.
 */
struct sp_log {
	struct sched_hook hook;
	size_t n, dropped;
	int depth;
	unsigned lock_in_irq;	/* SP_LOCK or SP_BLOCK inside an irq-off section */
	unsigned kinds[SP_NR_KINDS];
	struct sp_event ev[LOG_MAX];
};

static void sp_log_point(void *arg, enum sched_point_kind kind, const void *obj)
{
	struct sp_log *l = arg;

	if (kind == SP_IRQ_OFF)
		l->depth++;
	if ((kind == SP_LOCK || kind == SP_LOCK_SHARED || kind == SP_BLOCK) && l->depth > 0)
		l->lock_in_irq++;
	if ((unsigned)kind < SP_NR_KINDS)
		l->kinds[kind]++;
	if (l->n < LOG_MAX)
		l->ev[l->n++] = (struct sp_event){ kind, obj, l->depth };
	else
		l->dropped++;
	if (kind == SP_IRQ_ON)
		l->depth--;
}

static void sp_log_reset(struct sp_log *l)
{
	l->n = l->dropped = 0;
	l->depth = 0;
	l->lock_in_irq = 0;
	memset(l->kinds, 0, sizeof(l->kinds));
}

static unsigned sp_count(const struct sp_log *l, enum sched_point_kind kind, const void *obj)
{
	unsigned n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->ev[i].kind == kind && l->ev[i].obj == obj;
	return n;
}

static void test_sched_points_of_store(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	static struct sp_log log;	/* large: not on the stack */
	const struct sched_hook *old;
	struct gup_mm *mm;
	struct gup_task *t;
	struct pgtable *pt;
	uint64_t addr, v = 0x5a5a;
	const void *frame;
	int64_t pfn;
	size_t first_lock = SIZE_MAX, last_irq_on = 0, mem_write_at = SIZE_MAX;

	(void)state;
	assert_int_equal(gup_mm_create(w, &mm), 0);
	t = fx_task_add(mm);
	gup_mm_put(mm);
	addr = fx_map_private(t, 1);

	memset(&log, 0, sizeof(log));
	log.hook.point = sp_log_point;
	log.hook.coop = NULL;
	log.hook.arg = &log;

	/* 1. A store that faults. */
	old = sched_hook_install(&log.hook);
	assert_int_equal(gup_store(t, addr, &v, sizeof(v)), 0);
	sched_hook_install(old);

	assert_int_equal(log.dropped, 0);
	pfn = gup_mm_pfn(mm, addr);
	assert_true(pfn > 0);
	frame = w->arena.data + ((uint64_t)pfn << GUP_PAGE_SHIFT);
	mmap_read_lock(mm);
	assert_non_null(pte_offset_map(mm, addr, &pt));
	mmap_read_unlock(mm);

	/* mmap lock: taken once for read, released once (shared: nobody queued). */
	assert_int_equal(sp_count(&log, SP_LOCK_SHARED, &mm->mmap_lock), 1);
	assert_int_equal(sp_count(&log, SP_UNLOCK_SHARED, &mm->mmap_lock), 1);
	assert_int_equal(sp_count(&log, SP_LOCK, &mm->mmap_lock), 0);
	/* PT lock of the table that maps the page: taken and released in pairs. */
	assert_true(sp_count(&log, SP_LOCK, &pt->ptl) >= 1);
	assert_int_equal(sp_count(&log, SP_LOCK, &pt->ptl), sp_count(&log, SP_UNLOCK, &pt->ptl));
	assert_int_equal(log.kinds[SP_LOCK], log.kinds[SP_UNLOCK]);
	/* Two sections on the task's irq state: the failed walk, then the store. */
	assert_true(sp_count(&log, SP_IRQ_OFF, &t->irq) >= 2);
	assert_int_equal(sp_count(&log, SP_IRQ_OFF, &t->irq), sp_count(&log, SP_IRQ_ON, &t->irq));
	assert_int_equal(log.kinds[SP_IRQ_OFF], log.kinds[SP_IRQ_ON]);
	/* Frame writes: the store's bytes only - a frame fresh from the arena is known
	 * to hold zeros (fresh host memory), so the fault does not zero it again. */
	assert_int_equal(sp_count(&log, SP_MEM_WRITE, frame), 1);
	assert_int_equal(log.depth, 0);
	/* No lock is ever taken (nor a wait begun) inside an irq-off section. */
	assert_int_equal(log.lock_in_irq, 0);
	for (size_t i = 0; i < log.n; i++) {
		const struct sp_event *e = &log.ev[i];

		if (e->kind == SP_LOCK_SHARED && e->obj == &mm->mmap_lock && first_lock == SIZE_MAX)
			first_lock = i;
		if (e->kind == SP_IRQ_ON)
			last_irq_on = i;
		if (e->kind == SP_MEM_WRITE && e->obj == frame && e->irq_depth > 0) {
			assert_int_equal(mem_write_at, SIZE_MAX);	/* only one, the store */
			mem_write_at = i;
		}
	}
	/* The fault (mmap lock) comes first, the byte move in the last section after it. */
	assert_true(first_lock != SIZE_MAX && mem_write_at != SIZE_MAX);
	assert_true(first_lock < mem_write_at);
	assert_true(mem_write_at < last_irq_on);
	assert_int_equal(log.ev[last_irq_on].obj, &t->irq);
	assert_int_equal(log.ev[log.n - 1].kind, SP_IRQ_ON);

	/* 2. A store that hits the TLB: one section, the byte move, no lock at all. */
	sp_log_reset(&log);
	v = 0xa5a5;
	old = sched_hook_install(&log.hook);
	assert_int_equal(gup_store(t, addr + 8, &v, sizeof(v)), 0);
	sched_hook_install(old);

	assert_int_equal(log.dropped, 0);
	assert_int_equal(log.kinds[SP_LOCK], 0);
	assert_int_equal(log.kinds[SP_UNLOCK], 0);
	assert_int_equal(log.kinds[SP_LOCK_SHARED], 0);
	assert_int_equal(log.kinds[SP_BLOCK], 0);
	assert_int_equal(sp_count(&log, SP_IRQ_OFF, &t->irq), 1);
	assert_int_equal(sp_count(&log, SP_IRQ_ON, &t->irq), 1);
	assert_int_equal(log.kinds[SP_IRQ_OFF], 1);
	assert_int_equal(log.kinds[SP_IRQ_ON], 1);
	assert_int_equal(sp_count(&log, SP_MEM_WRITE, frame), 1);
	assert_int_equal(log.kinds[SP_MEM_WRITE], 1);
	assert_int_equal(log.ev[0].kind, SP_IRQ_OFF);
	assert_int_equal(log.ev[log.n - 1].kind, SP_IRQ_ON);
	for (size_t i = 0; i < log.n; i++)
		if (log.ev[i].kind == SP_MEM_WRITE)
			assert_int_equal(log.ev[i].irq_depth, 1);

	/* 3. A load that hits: a read of the frame, no write, no lock. */
	sp_log_reset(&log);
	old = sched_hook_install(&log.hook);
	assert_int_equal(gup_load(t, addr + 8, &v, sizeof(v)), 0);
	sched_hook_install(old);
	assert_int_equal(v, 0xa5a5);
	assert_int_equal(log.kinds[SP_LOCK], 0);
	assert_int_equal(log.kinds[SP_MEM_WRITE], 0);
	assert_int_equal(sp_count(&log, SP_MEM_READ, frame), 1);
	assert_int_equal(log.kinds[SP_IRQ_OFF], 1);

	/* Uninstalled: nothing more is logged. */
	sp_log_reset(&log);
	assert_int_equal(gup_store(t, addr + 16, &v, sizeof(v)), 0);
	assert_int_equal(log.n, 0);
	assert_null(sched_hook_install(NULL));

	gup_task_exit(t);
	fx_world_done(w);
}

/* Log what @t's store of @v at @addr does. */
static void sp_log_store(struct sp_log *l, struct gup_task *t, uint64_t addr, uint64_t v)
{
	const struct sched_hook *old;

	memset(l, 0, sizeof(*l));
	l->hook.point = sp_log_point;
	l->hook.arg = l;
	old = sched_hook_install(&l->hook);
	fx_store_u64(t, addr, v);
	sched_hook_install(old);
	assert_int_equal(l->dropped, 0);
}

/*
 * A COW copy drops both of its references to the old page - the caller's and
 * the replaced mapping's - in one decrement, as Linux's two folio_puts with
 * nothing between them: a second put would be one more access for the
 * explorer to order against every other put of the page (fault.c wp_page_copy).
 */
static void test_sched_points_of_cow_copy(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 64, 0);
	static struct sp_log log;
	struct gup_task *t = fx_task_new(w), *child;
	uint64_t addr = fx_map_private(t, 1);
	struct page *old;

	(void)state;
	fx_store_u64(t, addr, 1);
	child = fx_fork(t);
	old = fx_page_at(t, addr);
	assert_int_equal(page_ref_count(old), 2);		/* two mappings */

	sp_log_store(&log, t, addr, 2);
	assert_ptr_not_equal(fx_page_at(t, addr), old);	/* copied */
	/* get_page, page_remove_rmap: adds; the puts: one decrement, not two */
	assert_int_equal(sp_count(&log, SP_ADD, &old->count), 2);
	assert_int_equal(sp_count(&log, SP_WRITE_BITS, &old->count), 1);
	assert_int_equal(page_ref_count(old), 1);		/* the child's mapping */
	assert_int_equal(fx_load_u64(child, addr), 1);

	gup_task_exit(child);
	gup_task_exit(t);
	fx_world_done(w);
}

/*
 * The lock-order rule "an irq-off section never takes a lock" (mm.h), checked
 * over a workload: faults, COW after fork, mprotect, munmap, all logged.
 */
static void test_no_lock_inside_irq_off(void **state)
{
	struct gup_world *w = fx_world_new(*state, 256, 0);
	static struct sp_log log;
	const struct sched_hook *old;
	struct gup_mm *mm;
	struct gup_task *t, *child;
	uint64_t addr, v;

	assert_int_equal(gup_mm_create(w, &mm), 0);
	t = fx_task_add(mm);
	gup_mm_put(mm);
	memset(&log, 0, sizeof(log));
	log.hook.point = sp_log_point;
	log.hook.coop = NULL;
	log.hook.arg = &log;

	old = sched_hook_install(&log.hook);
	addr = fx_map_private(t, 16);
	for (uint64_t i = 0; i < 16; i++)
		fx_store_u64(t, addr + i * GUP_PAGE_SIZE, i);
	assert_int_equal(gup_fork(t, &child), 0);
	for (uint64_t i = 0; i < 16; i++) {
		fx_store_u64(t, addr + i * GUP_PAGE_SIZE, i + 100);	/* COW */
		v = fx_load_u64(child, addr + i * GUP_PAGE_SIZE);
		assert_int_equal(v, i);
	}
	assert_int_equal(gup_mprotect(t, addr, 8 * GUP_PAGE_SIZE, GUP_PROT_READ), 0);
	assert_int_equal(gup_store(t, addr, &v, sizeof(v)), -EFAULT);
	assert_int_equal(gup_munmap(t, addr + 8 * GUP_PAGE_SIZE, 8 * GUP_PAGE_SIZE), 0);
	assert_int_equal(gup_load(t, addr + 8 * GUP_PAGE_SIZE, &v, sizeof(v)), -EFAULT);
	gup_task_exit(child);
	sched_hook_install(old);

	assert_true(log.kinds[SP_IRQ_OFF] > 32);
	assert_int_equal(log.kinds[SP_IRQ_OFF], log.kinds[SP_IRQ_ON]);
	assert_int_equal(log.depth, 0);
	assert_int_equal(log.lock_in_irq, 0);

	gup_task_exit(t);
	fx_world_done(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_POLICY_STATE_TESTS(test_mprotect_drops_writable_entry),
		FX_POLICY_STATE_TESTS(test_stale_entry_until_flush),
		cmocka_unit_test(test_ranged_flush),
		cmocka_unit_test(test_shootdown_waits_for_irq_off),
		cmocka_unit_test(test_flush_skips_idle_tasks),
		cmocka_unit_test(test_new_task_starts_empty),
		cmocka_unit_test(test_shootdown_reaches_all_tasks),
		cmocka_unit_test(test_sched_points_of_store),
		cmocka_unit_test(test_sched_points_of_cow_copy),
		FX_POLICY_STATE_TESTS(test_no_lock_inside_irq_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
