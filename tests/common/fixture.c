/* SPDX-License-Identifier: MIT */
/*
 * tests/common/fixture.c - helpers shared by the cmocka test programs (fixture.h).
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "mm/fault.h"
#include "world.h"

#define PG	GUP_PAGE_SIZE

/* ---- policies --------------------------------------------------------------- */

bool fx_policy_is_new(const char *policy)
{
	return policy == NULL || strcmp(policy, FX_POLICY_NEW) == 0;
}

/* ---- worlds ------------------------------------------------------------------- */

struct gup_world *fx_world_new(const char *policy, size_t nr_frames, size_t nr_movable)
{
	struct gup_world_config cfg = {
		.nr_frames = nr_frames,
		.nr_movable = nr_movable,
		.policy = policy,
	};
	struct gup_world *w = NULL;

	assert_int_equal(gup_world_create(&cfg, &w), 0);
	assert_non_null(w);
	if (policy)
		assert_string_equal(gup_world_policy(w), policy);
	return w;
}

void fx_check(struct gup_world *w)
{
	assert_int_equal(gup_world_check(w, NULL), 0);
}

void fx_world_done(struct gup_world *w)
{
	fx_check(w);
	assert_int_equal(gup_world_destroy(w), 0);
}

void fx_world_end(struct gup_world *w)
{
	struct gup_mem_info mi;

	fx_check(w);
	mi = fx_meminfo(w);
	assert_int_equal(mi.nr_mms, 0);
	assert_int_equal(mi.nr_tasks, 0);
	assert_int_equal(mi.nr_free, mi.nr_frames - 1);	/* all but the zero page */
	assert_int_equal(mi.nr_pgtables, 0);
	assert_int_equal(gup_world_destroy(w), 0);
}

/* ---- tasks -------------------------------------------------------------------- */

struct gup_task *fx_task_new(struct gup_world *w)
{
	struct gup_mm *mm = NULL;
	struct gup_task *t = NULL;

	assert_int_equal(gup_mm_create(w, &mm), 0);
	assert_int_equal(gup_task_create(mm, &t), 0);
	gup_mm_put(mm);		/* the task holds the mm now */
	return t;
}

struct gup_task *fx_task_add(struct gup_mm *mm)
{
	struct gup_task *t = NULL;

	assert_int_equal(gup_task_create(mm, &t), 0);
	assert_non_null(t);
	return t;
}

struct gup_task *fx_fork(struct gup_task *parent)
{
	struct gup_task *c = NULL;

	assert_int_equal(gup_fork(parent, &c), 0);
	assert_non_null(c);
	assert_ptr_not_equal(gup_task_mm(c), gup_task_mm(parent));
	return c;
}

void fx_env_new(struct fx_env *e, const char *policy, size_t nr_frames)
{
	e->w = fx_world_new(policy, nr_frames, nr_frames / 4);
	assert_int_equal(gup_mm_create(e->w, &e->mm), 0);
	assert_int_equal(gup_task_create(e->mm, &e->t), 0);
}

void fx_env_done(struct fx_env *e)
{
	fx_check(e->w);
	gup_task_exit(e->t);
	gup_mm_put(e->mm);
	fx_world_done(e->w);
}

/* ---- figures ------------------------------------------------------------------ */

struct gup_mem_info fx_meminfo(struct gup_world *w)
{
	struct gup_mem_info mi;

	memset(&mi, 0xff, sizeof(mi));
	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	return mi;
}

size_t fx_nr_free(struct gup_world *w)
{
	return fx_meminfo(w).nr_free;
}

struct gup_mm_info fx_mm_info(struct gup_mm *mm)
{
	struct gup_mm_info mi;

	memset(&mi, 0xff, sizeof(mi));
	assert_int_equal(gup_mm_info(mm, &mi), 0);
	return mi;
}

size_t fx_rss(struct gup_task *t)
{
	return fx_mm_info(gup_task_mm(t)).rss;
}

size_t fx_nr_vmas(struct gup_task *t)
{
	return fx_mm_info(gup_task_mm(t)).nr_vmas;
}

/* ---- counters ------------------------------------------------------------------- */

void fx_stats(struct gup_world *w, uint64_t s[GUP_NR_STATS])
{
	assert_int_equal(gup_world_stats(w, s), 0);
}

uint64_t fx_stat(struct gup_world *w, enum gup_stat_item item)
{
	uint64_t s[GUP_NR_STATS];

	fx_stats(w, s);
	return s[item];
}

void fx_snap(struct gup_world *w, struct fx_snap *s)
{
	fx_stats(w, s->v);
}

uint64_t fx_delta(struct gup_world *w, const struct fx_snap *s, enum gup_stat_item item)
{
	return fx_stat(w, item) - s->v[item];
}

/* ---- memory ------------------------------------------------------------------- */

uint64_t fx_map_anon(struct gup_task *t, size_t nr_pages, int prot, int flags)
{
	uint64_t addr = 0;

	assert_int_equal(gup_mmap(t, 0, nr_pages * PG, prot, flags | GUP_MAP_ANONYMOUS, &addr),
			 0);
	assert_true(addr >= GUP_MMAP_MIN);
	return addr;
}

uint64_t fx_map_private(struct gup_task *t, size_t nr_pages)
{
	return fx_map_anon(t, nr_pages, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_PRIVATE);
}

int fx_try_store_u64(struct gup_task *t, uint64_t addr, uint64_t v)
{
	return gup_store(t, addr, &v, sizeof(v));
}

void fx_store_u64(struct gup_task *t, uint64_t addr, uint64_t v)
{
	assert_int_equal(fx_try_store_u64(t, addr, v), 0);
}

uint64_t fx_load_u64(struct gup_task *t, uint64_t addr)
{
	uint64_t v = 0xdeadbeefdeadbeef;

	assert_int_equal(gup_load(t, addr, &v, sizeof(v)), 0);
	return v;
}

/* ---- page patterns -------------------------------------------------------------- */

uint8_t fx_pattern_byte(unsigned seed, uint64_t vpn, size_t off)
{
	return (uint8_t)(off * 7 + (off >> 8) + vpn * 13 + seed * 101 + 1);
}

void fx_pattern_page(uint8_t *buf, unsigned seed, uint64_t addr)
{
	for (size_t off = 0; off < PG; off++)
		buf[off] = fx_pattern_byte(seed, addr / PG, off);
}

void fx_fill_pages(struct gup_task *t, uint64_t addr, unsigned n, unsigned seed)
{
	uint8_t buf[GUP_PAGE_SIZE];

	for (unsigned i = 0; i < n; i++) {
		fx_pattern_page(buf, seed, addr + i * PG);
		assert_int_equal(gup_store(t, addr + i * PG, buf, PG), 0);
	}
}

void fx_check_pages(struct gup_task *t, uint64_t addr, unsigned n, unsigned seed)
{
	uint8_t want[GUP_PAGE_SIZE], got[GUP_PAGE_SIZE];

	for (unsigned i = 0; i < n; i++) {
		fx_pattern_page(want, seed, addr + i * PG);
		memset(got, 0x5a, PG);
		assert_int_equal(gup_load(t, addr + i * PG, got, PG), 0);
		if (memcmp(want, got, PG) != 0)
			fail_msg("page %u at %#llx: not pattern %u (first byte %#x, want %#x)", i,
				 (unsigned long long)(addr + i * PG), seed, got[0], want[0]);
	}
}

void fx_check_zero_pages(struct gup_task *t, uint64_t addr, unsigned n)
{
	uint8_t got[GUP_PAGE_SIZE];

	for (unsigned i = 0; i < n; i++) {
		memset(got, 0x5a, PG);
		assert_int_equal(gup_load(t, addr + i * PG, got, PG), 0);
		for (size_t off = 0; off < PG; off++)
			if (got[off])
				fail_msg("page %u at %#llx: byte %zu is %#x, want 0", i,
					 (unsigned long long)(addr + i * PG), off, got[off]);
	}
}

bool fx_frame_has(struct gup_world *w, struct page *page, unsigned seed, uint64_t addr)
{
	uint8_t want[GUP_PAGE_SIZE];

	fx_pattern_page(want, seed, addr);
	return memcmp(page_data(&w->arena, page), want, PG) == 0;
}

bool fx_frame_is_zero(struct gup_world *w, struct page *page)
{
	const uint8_t *d = page_data(&w->arena, page);

	for (size_t off = 0; off < PG; off++)
		if (d[off])
			return false;
	return true;
}

/* ---- pages and PTEs --------------------------------------------------------------- */

int64_t fx_pfn(struct gup_task *t, uint64_t addr)
{
	return gup_mm_pfn(gup_task_mm(t), addr);
}

uint64_t fx_pte(struct gup_task *t, uint64_t addr)
{
	struct gup_mm *mm = gup_task_mm(t);
	struct pgtable *pt;
	pte_t *ptep;
	uint64_t pte;

	mmap_read_lock(mm);
	ptep = pte_offset_map(mm, addr, &pt);
	pte = ptep ? ptep_get(ptep) : 0;
	mmap_read_unlock(mm);
	return pte;
}

struct page *fx_page_at(struct gup_task *t, uint64_t addr)
{
	int64_t pfn = fx_pfn(t, addr);

	assert_true(pfn > 0);
	return pfn_to_page(&gup_task_mm(t)->w->arena, (uint64_t)pfn);
}

/* ---- GUP references --------------------------------------------------------------- */

/* The normal page mapped at @addr as GUP finds it (VMA, PTE, vm_normal_page), or NULL.
 * The caller holds the mmap lock. */
static struct page *follow_page_locked(struct gup_mm *mm, uint64_t addr)
{
	struct gup_vma *vma = vma_lookup(mm, addr);
	struct pgtable *pt;
	pte_t *ptep = pte_offset_map(mm, addr, &pt);
	uint64_t pte;

	if (!vma || !ptep)
		return NULL;
	pte = ptep_get(ptep);
	return pte_present(pte) ? vm_normal_page(vma, addr, pte) : NULL;
}

struct page *fx_foll_pin(struct gup_task *t, uint64_t addr, bool mark_mm)
{
	struct gup_mm *mm = gup_task_mm(t);
	struct page *page;

	mmap_read_lock(mm);
	page = follow_page_locked(mm, addr);
	if (page) {
		page_ref_add(page, GUP_PIN_COUNTING_BIAS);
		if (mark_mm)
			set_bit(MMF_HAS_PINNED, &mm->flags);
		count_vm_event(mm->w, GUP_STAT_PIN_ACQUIRED);
	}
	mmap_read_unlock(mm);
	assert_non_null(page);
	assert_true(page_maybe_dma_pinned(page));
	return page;
}

void fx_foll_unpin(struct gup_world *w, struct page *page)
{
	page_ref_sub(w, page, GUP_PIN_COUNTING_BIAS);
	count_vm_event(w, GUP_STAT_PIN_RELEASED);
}

struct page *fx_foll_get(struct gup_task *t, uint64_t addr)
{
	struct gup_mm *mm = gup_task_mm(t);
	struct page *page;

	mmap_read_lock(mm);
	page = follow_page_locked(mm, addr);
	if (page) {
		get_page(page);
		count_vm_event(mm->w, GUP_STAT_GET_ACQUIRED);
	}
	mmap_read_unlock(mm);
	assert_non_null(page);
	return page;
}

void fx_foll_put(struct gup_world *w, struct page *page)
{
	put_page(w, page);
	count_vm_event(w, GUP_STAT_GET_RELEASED);
}

/* ---- threads and handshakes -------------------------------------------------------- */

struct gup_thread *fx_thread_start(struct gup_world *w, void (*fn)(void *arg), void *arg)
{
	struct gup_thread *th = NULL;

	assert_int_equal(gup_thread_start(w, fn, arg, &th), 0);
	return th;
}

uint64_t fx_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

void fx_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void fx_spin_begin(struct fx_spin *s, uint64_t timeout_ns, unsigned yield_every)
{
	s->end = fx_now_ns() + timeout_ns;
	s->spins = 0;
	s->yield_every = yield_every;
}

bool fx_spin(struct fx_spin *s)
{
	if (++s->spins % s->yield_every == 0) {
		if (fx_now_ns() > s->end)
			return false;
		sched_yield();
	}
	fx_cpu_relax();
	return true;
}

bool fx_wait_at_least(_Atomic unsigned *p, unsigned want)
{
	struct fx_spin s;

	fx_spin_begin(&s, FX_WAIT_NS, 64);
	while (atomic_load_explicit(p, memory_order_acquire) < want)
		if (!fx_spin(&s))
			return false;
	return true;
}

void fx_failf(struct fx_fail *f, const char *fmt, ...)
{
	int expect = 0;
	va_list ap;

	atomic_fetch_add_explicit(&f->count, 1, memory_order_seq_cst);
	if (!atomic_compare_exchange_strong(&f->claimed, &expect, 1))
		return;		/* only the first message is kept */
	va_start(ap, fmt);
	vsnprintf(f->first, sizeof(f->first), fmt, ap);
	va_end(ap);
}

bool fx_failed(struct fx_fail *f)
{
	return atomic_load_explicit(&f->count, memory_order_relaxed) != 0;
}

void fx_assert_no_fail(struct fx_fail *f)
{
	unsigned n = atomic_load(&f->count);

	if (n)
		fail_msg("%u failure(s) in threads; first: %s", n, f->first);
}

/* ---- files ---- */

void fx_repo_path(char *buf, size_t size, const char *sub)
{
	/* This file is tests/common/fixture.c, as the build names it. */
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');
	int dir = slash ? (int)(slash - file) : 1;

	snprintf(buf, size, "%.*s/../../%s", dir, slash ? file : ".", sub);
}
