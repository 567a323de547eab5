/* SPDX-License-Identifier: MIT */
/*
 * tests/test_cow.c - fault-level copy-on-write and unsharing.
 *
 * The fault handler is driven both by user accesses (gup_store/gup_load) and
 * directly (handle_mm_fault under the mmap read lock, as GUP's faultin does), and
 * the result is read off the PTE and the struct page: writable or not, which
 * frame, PageAnonExclusive, mapcount and refcount.  Transient FOLL_GET references
 * are simulated with get_page/put_page and counted so that gup_world_check
 * balances.  Each scenario whose outcome depends on the COW reuse rule runs once
 * per policy ("linux-6.x": exclusive or refcount == 1; "linux-2.6.29": mapcount
 * == 1) and asserts that policy's outcome.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "mm/fault.h"
#include "world.h"

#define PG		GUP_PAGE_SIZE
#define NR_FRAMES	128
#define NR_MOVABLE	64

static const char POL_NEW[] = "linux-6.x";
static const char POL_OLD[] = "linux-2.6.29";

static bool is_new(const char *policy)
{
	return strcmp(policy, POL_NEW) == 0;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static struct gup_world *world_new(const char *policy)
{
	struct gup_world_config cfg = {
		.nr_frames = NR_FRAMES,
		.nr_movable = NR_MOVABLE,
		.policy = policy,
	};
	struct gup_world *w = NULL;

	assert_int_equal(gup_world_create(&cfg, &w), 0);
	assert_non_null(w);
	assert_string_equal(gup_world_policy(w), policy);
	return w;
}

static struct gup_task *task_new(struct gup_world *w)
{
	struct gup_mm *mm = NULL;
	struct gup_task *t = NULL;

	assert_int_equal(gup_mm_create(w, &mm), 0);
	assert_int_equal(gup_task_create(mm, &t), 0);
	gup_mm_put(mm);
	return t;
}

static struct gup_task *fork_ok(struct gup_task *t)
{
	struct gup_task *c = NULL;

	assert_int_equal(gup_fork(t, &c), 0);
	assert_non_null(c);
	return c;
}

static uint64_t map_private(struct gup_task *t, unsigned nr_pages)
{
	uint64_t addr = 0;

	assert_int_equal(gup_mmap(t, 0, nr_pages * PG, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS, &addr), 0);
	assert_int_not_equal(addr, 0);
	return addr;
}

static void check_world(struct gup_world *w)
{
	assert_int_equal(gup_world_check(w, stderr), 0);
}

static void world_end(struct gup_world *w)
{
	struct gup_mem_info mi;

	check_world(w);
	assert_int_equal(gup_world_meminfo(w, &mi), 0);
	assert_int_equal(mi.nr_mms, 0);
	assert_int_equal(mi.nr_tasks, 0);
	assert_int_equal(mi.nr_free, mi.nr_frames - 1);
	assert_int_equal(gup_world_destroy(w), 0);
}

struct snap {
	uint64_t v[GUP_NR_STATS];
};

static void snap(struct gup_world *w, struct snap *s)
{
	assert_int_equal(gup_world_stats(w, s->v), 0);
}

static uint64_t delta(struct gup_world *w, const struct snap *s, enum gup_stat_item i)
{
	uint64_t now[GUP_NR_STATS];

	assert_int_equal(gup_world_stats(w, now), 0);
	return now[i] - s->v[i];
}

static uint8_t pat_byte(unsigned seed, uint64_t vpn, size_t off)
{
	return (uint8_t)(off * 5 + (off >> 7) + vpn * 11 + seed * 37 + 3);
}

static void make_page(uint8_t *buf, unsigned seed, uint64_t addr)
{
	for (size_t off = 0; off < PG; off++)
		buf[off] = pat_byte(seed, addr / PG, off);
}

static void fill_pages(struct gup_task *t, uint64_t addr, unsigned n, unsigned seed)
{
	static uint8_t buf[GUP_PAGE_SIZE];

	for (unsigned i = 0; i < n; i++) {
		make_page(buf, seed, addr + i * PG);
		assert_int_equal(gup_store(t, addr + i * PG, buf, PG), 0);
	}
}

static void check_pages(struct gup_task *t, uint64_t addr, unsigned n, unsigned seed)
{
	static uint8_t want[GUP_PAGE_SIZE], got[GUP_PAGE_SIZE];

	for (unsigned i = 0; i < n; i++) {
		make_page(want, seed, addr + i * PG);
		memset(got, 0x5a, PG);
		assert_int_equal(gup_load(t, addr + i * PG, got, PG), 0);
		if (memcmp(want, got, PG) != 0)
			fail_msg("page %u at %#llx: not pattern %u (first byte %#x, want %#x)", i,
				 (unsigned long long)(addr + i * PG), seed, got[0], want[0]);
	}
}

static void check_zero_pages(struct gup_task *t, uint64_t addr, unsigned n)
{
	static uint8_t got[GUP_PAGE_SIZE];

	for (unsigned i = 0; i < n; i++) {
		memset(got, 0x5a, PG);
		assert_int_equal(gup_load(t, addr + i * PG, got, PG), 0);
		for (size_t off = 0; off < PG; off++)
			if (got[off])
				fail_msg("page %u: byte %zu is %#x, want 0", i, off, got[off]);
	}
}

static bool frame_has(struct gup_world *w, struct page *page, unsigned seed, uint64_t addr)
{
	static uint8_t want[GUP_PAGE_SIZE];

	make_page(want, seed, addr);
	return memcmp(page_data(&w->arena, page), want, PG) == 0;
}

static bool frame_is_zero(struct gup_world *w, struct page *page)
{
	const uint8_t *d = page_data(&w->arena, page);

	for (size_t off = 0; off < PG; off++)
		if (d[off])
			return false;
	return true;
}

static int64_t pfn_of(struct gup_task *t, uint64_t addr)
{
	return gup_mm_pfn(gup_task_mm(t), addr);
}

static uint64_t pte_of(struct gup_task *t, uint64_t addr)
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

static struct page *page_at(struct gup_world *w, struct gup_task *t, uint64_t addr)
{
	int64_t pfn = pfn_of(t, addr);

	assert_true(pfn > 0);
	return pfn_to_page(&w->arena, (uint64_t)pfn);
}

static size_t rss_of(struct gup_task *t)
{
	struct gup_mm_info mi;

	assert_int_equal(gup_mm_info(gup_task_mm(t), &mi), 0);
	return mi.rss;
}

/*
 * handle_mm_fault at @addr as GUP's faultin calls it: mmap lock held for read,
 * the VMA found with vma_lookup.  Without ALLOW_RETRY the lock is still held on
 * return; it is dropped here.
 */
static unsigned fault(struct gup_task *t, uint64_t addr, unsigned flags)
{
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_vma *vma;
	unsigned ret;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	if (!vma) {
		mmap_read_unlock(mm);
		fail_msg("no VMA at %#llx", (unsigned long long)addr);
	}
	ret = handle_mm_fault(vma, addr, flags, NULL);
	if (!(ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)))
		mmap_read_unlock(mm);
	return ret;
}

/* A transient FOLL_GET reference (e.g. an O_DIRECT read in flight). */
static struct page *sim_get(struct gup_world *w, struct gup_task *t, uint64_t addr)
{
	struct gup_mm *mm = gup_task_mm(t);
	struct page *page = NULL;
	struct gup_vma *vma;
	struct pgtable *pt;
	pte_t *ptep;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	ptep = pte_offset_map(mm, addr, &pt);
	if (vma && ptep && pte_present(ptep_get(ptep)))
		page = vm_normal_page(vma, addr, ptep_get(ptep));
	if (page) {
		get_page(page);
		count_vm_event(w, GUP_STAT_GET_ACQUIRED);
	}
	mmap_read_unlock(mm);
	assert_non_null(page);
	return page;
}

static void sim_put(struct gup_world *w, struct page *page)
{
	put_page(w, page);
	count_vm_event(w, GUP_STAT_GET_RELEASED);
}

#define PER_POLICY(fn)                                                          \
	static void fn##__linux6(void **state) { (void)state; fn(POL_NEW); }    \
	static void fn##__linux2629(void **state) { (void)state; fn(POL_OLD); }
#define POLICY_TESTS(fn) cmocka_unit_test(fn##__linux6), cmocka_unit_test(fn##__linux2629)

/* ------------------------------------------------------------------------ */
/* Anonymous faults                                                         */
/* ------------------------------------------------------------------------ */

/* A write fault on an empty PTE: a zeroed, exclusive page mapped writable once. */
static void cow_anon_write_fault(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = task_new(w);
	uint64_t a = map_private(t, 2), pte;
	struct page *pg;
	struct snap s;

	/* Directly, as GUP with FOLL_WRITE would. */
	snap(w, &s);
	assert_int_equal(fault(t, a, FAULT_FLAG_WRITE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_ANON_WRITE), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 1);
	pte = pte_of(t, a);
	assert_true(pte_present(pte));
	assert_true(pte_write(pte));
	assert_true(pte_dirty(pte));
	assert_false(pte_special(pte));
	pg = page_at(w, t, a);
	assert_true(PageAnon(pg));
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_mapcount(pg), 1);
	assert_int_equal(page_ref_count(pg), 1);
	assert_true(frame_is_zero(w, pg));
	check_zero_pages(t, a, 1);

	/* Through a user store. */
	snap(w, &s);
	fill_pages(t, a + PG, 1, 1);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_ANON_WRITE), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), 0);
	pg = page_at(w, t, a + PG);
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_mapcount(pg), 1);
	assert_int_equal(page_ref_count(pg), 1);
	assert_true(pte_write(pte_of(t, a + PG)));
	assert_true(frame_has(w, pg, 1, a + PG));
	check_pages(t, a + PG, 1, 1);
	assert_int_equal(rss_of(t), 2);

	/* A second write is no fault at all. */
	snap(w, &s);
	fill_pages(t, a + PG, 1, 2);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT), 0);
	check_pages(t, a + PG, 1, 2);
	check_world(w);
	gup_task_exit(t);
	world_end(w);
}
PER_POLICY(cow_anon_write_fault)

/* A read fault maps the shared zero page R/O; the first write COWs it. */
static void cow_zero_page_then_write(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = task_new(w);
	uint64_t a = map_private(t, 1), pte;
	struct page *zp = zero_page(w), *pg;
	uint32_t zref = page_ref_count(zp);
	uint8_t v = 0x77, buf[64];
	struct snap s;

	snap(w, &s);
	check_zero_pages(t, a, 1);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_ANON_READ), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	pte = pte_of(t, a);
	assert_true(pte_present(pte));
	assert_true(pte_special(pte));
	assert_false(pte_write(pte));
	assert_int_equal(pfn_of(t, a), 0);
	assert_int_equal(page_mapcount(zp), 0);	/* the zero page is never counted */
	assert_int_equal(page_ref_count(zp), zref);
	assert_int_equal(rss_of(t), 0);
	check_world(w);

	snap(w, &s);
	assert_int_equal(gup_store(t, a + 10, &v, 1), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_ZERO), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 1);
	pte = pte_of(t, a);
	assert_false(pte_special(pte));
	assert_true(pte_write(pte));
	assert_int_not_equal(pte_pfn(pte), 0);
	pg = page_at(w, t, a);
	assert_true(PageAnon(pg));
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_mapcount(pg), 1);
	assert_int_equal(page_ref_count(pg), 1);
	assert_int_equal(page_ref_count(zp), zref);
	assert_int_equal(rss_of(t), 1);
	assert_int_equal(gup_load(t, a, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], i == 10 ? 0x77 : 0);
	assert_true(frame_is_zero(w, zp));
	check_world(w);
	gup_task_exit(t);
	world_end(w);
}
PER_POLICY(cow_zero_page_then_write)

/* ------------------------------------------------------------------------ */
/* The reuse rule                                                           */
/* ------------------------------------------------------------------------ */

/*
 * An exclusive page mapped once, with a transient FOLL_GET reference, made R/O
 * and back to R/W by mprotect.  linux-6.x's mprotect upgrade maps the exclusive
 * page writable again at once: the store takes no fault.  linux-2.6.29 has no
 * upgrade: the store takes a write fault and reuses the page (mapcount == 1, the
 * extra reference is not looked at).  Either way the frame the reference holds
 * sees the store.
 */
static void cow_reuse_mprotect_extra_ref(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = task_new(w);
	uint64_t a = map_private(t, 1);
	struct page *pg, *ref;
	int64_t pfn;
	struct snap s;

	fill_pages(t, a, 1, 1);
	pfn = pfn_of(t, a);
	ref = sim_get(w, t, a);
	pg = page_at(w, t, a);
	assert_ptr_equal(ref, pg);
	assert_int_equal(page_ref_count(pg), 2);
	assert_int_equal(page_mapcount(pg), 1);

	assert_int_equal(gup_mprotect(t, a, PG, GUP_PROT_READ), 0);
	assert_false(pte_write(pte_of(t, a)));
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(gup_mprotect(t, a, PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_int_equal(pte_write(pte_of(t, a)), is_new(policy));
	check_world(w);

	snap(w, &s);
	fill_pages(t, a, 1, 2);
	if (is_new(policy)) {
		assert_int_equal(delta(w, &s, GUP_STAT_FAULT), 0);
		assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), 0);
		assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 0);
	} else {
		assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), 1);
		assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 1);
	}
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(pfn_of(t, a), pfn);
	assert_true(pte_write(pte_of(t, a)));
	assert_true(frame_has(w, ref, 2, a));
	check_pages(t, a, 1, 2);
	check_world(w);

	sim_put(w, ref);
	assert_int_equal(page_ref_count(pg), 1);
	check_world(w);
	gup_task_exit(t);
	world_end(w);
}
PER_POLICY(cow_reuse_mprotect_extra_ref)

/*
 * After a fork whose child is gone, the page is mapped once but no longer
 * exclusive (fork cleared it).  With a FOLL_GET reference held, linux-6.x sees
 * refcount 2 and copies - the reference now holds a page the process no longer
 * maps (FOLL_GET's known unreliability); linux-2.6.29 reuses by mapcount == 1.
 */
static void cow_after_fork_child_gone_extra_ref(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, 1);
	struct page *ref;
	int64_t pfn;
	struct snap s;

	fill_pages(p, a, 1, 1);
	pfn = pfn_of(p, a);
	c = fork_ok(p);
	gup_task_exit(c);
	ref = sim_get(w, p, a);
	assert_false(PageAnonExclusive(ref));
	assert_int_equal(page_mapcount(ref), 1);
	assert_int_equal(page_ref_count(ref), 2);
	assert_false(pte_write(pte_of(p, a)));
	check_world(w);

	snap(w, &s);
	fill_pages(p, a, 1, 2);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), 1);
	if (is_new(policy)) {
		assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 1);
		assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 0);
		assert_int_not_equal(pfn_of(p, a), pfn);
		/* Only the reference keeps the old frame, with the old data. */
		assert_int_equal(page_mapcount(ref), 0);
		assert_int_equal(page_ref_count(ref), 1);
		assert_true(frame_has(w, ref, 1, a));
	} else {
		assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 1);
		assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
		assert_int_equal(pfn_of(p, a), pfn);
		assert_true(frame_has(w, ref, 2, a));
	}
	assert_true(PageAnonExclusive(page_at(w, p, a)));
	check_pages(p, a, 1, 2);
	check_world(w);

	sim_put(w, ref);
	check_world(w);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(cow_after_fork_child_gone_extra_ref)

/*
 * The same page, but an unshare fault (what a R/O FOLL_PIN triggers) marks it
 * exclusive first.  Now a write reuses it whatever references exist: under
 * linux-6.x because it is exclusive, under linux-2.6.29 by mapcount == 1.
 */
static void cow_exclusive_reused_despite_ref(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, 1);
	struct page *pg, *ref;
	int64_t pfn;
	struct snap s;

	fill_pages(p, a, 1, 1);
	pfn = pfn_of(p, a);
	c = fork_ok(p);
	gup_task_exit(c);
	pg = page_at(w, p, a);
	assert_false(PageAnonExclusive(pg));

	snap(w, &s);
	assert_int_equal(fault(p, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_UNSHARE), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_REUSE), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	assert_int_equal(pfn_of(p, a), pfn);
	assert_true(PageAnonExclusive(pg));
	assert_false(pte_write(pte_of(p, a)));

	ref = sim_get(w, p, a);
	assert_int_equal(page_ref_count(pg), 2);
	snap(w, &s);
	fill_pages(p, a, 1, 2);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(pfn_of(p, a), pfn);
	assert_true(frame_has(w, ref, 2, a));
	check_pages(p, a, 1, 2);
	check_world(w);
	sim_put(w, ref);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(cow_exclusive_reused_despite_ref)

/* ------------------------------------------------------------------------ */
/* Unshare faults                                                           */
/* ------------------------------------------------------------------------ */

/*
 * On a COW-shared page (both processes alive): the faulting side gets its own
 * exclusive copy, mapped R/O - unshare never grants write.  The other side keeps
 * the original.
 */
static void unshare_cow_shared(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, 2), pte;
	struct page *orig, *pg;
	int64_t pfn, npfn;
	struct snap s;

	fill_pages(p, a, 2, 1);
	pfn = pfn_of(p, a);
	c = fork_ok(p);
	orig = page_at(w, p, a);
	assert_int_equal(page_mapcount(orig), 2);
	check_pages(p, a, 1, 1);	/* leave a R/O TLB entry behind in the parent */

	snap(w, &s);
	assert_int_equal(fault(p, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_UNSHARE), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_COPY), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_REUSE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 0);
	npfn = pfn_of(p, a);
	assert_int_not_equal(npfn, pfn);
	pte = pte_of(p, a);
	assert_false(pte_write(pte));
	pg = page_at(w, p, a);
	assert_true(PageAnon(pg));
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_mapcount(pg), 1);
	assert_int_equal(page_ref_count(pg), 1);
	assert_true(frame_has(w, pg, 1, a));
	/* The child is unaffected: still the original frame, now mapped once. */
	assert_int_equal(pfn_of(c, a), pfn);
	assert_int_equal(page_mapcount(orig), 1);
	assert_false(PageAnonExclusive(orig));
	check_pages(p, a, 1, 1);
	check_pages(c, a, 1, 1);
	/* The neighbour page is still shared. */
	assert_int_equal(pfn_of(c, a + PG), pfn_of(p, a + PG));
	assert_int_equal(rss_of(p), 2);
	check_world(w);

	/* The parent's later write reuses its exclusive copy; no second copy. */
	snap(w, &s);
	fill_pages(p, a, 1, 2);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(pfn_of(p, a), npfn);
	check_pages(p, a, 1, 2);
	check_pages(c, a, 1, 1);
	check_world(w);

	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(unshare_cow_shared)

/* On an exclusive page mapped R/O: nothing to copy, the PTE stays as it was. */
static void unshare_exclusive_ro(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = task_new(w);
	uint64_t a = map_private(t, 1), pte;
	struct page *pg;
	int64_t pfn;
	struct snap s;

	fill_pages(t, a, 1, 1);
	pfn = pfn_of(t, a);
	assert_int_equal(gup_mprotect(t, a, PG, GUP_PROT_READ), 0);
	pte = pte_of(t, a);
	assert_false(pte_write(pte));
	pg = page_at(w, t, a);
	assert_true(PageAnonExclusive(pg));

	snap(w, &s);
	assert_int_equal(fault(t, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_REUSE), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	assert_int_equal(pte_of(t, a), pte);
	assert_int_equal(pfn_of(t, a), pfn);
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_ref_count(pg), 1);
	check_pages(t, a, 1, 1);
	assert_int_equal(gup_store(t, a, "x", 1), -EFAULT);
	check_world(w);
	gup_task_exit(t);
	world_end(w);
}
PER_POLICY(unshare_exclusive_ro)

/* On the zero page: a new zeroed exclusive page, mapped R/O. */
static void unshare_zero_page(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = task_new(w);
	uint64_t a = map_private(t, 1), pte;
	struct page *pg;
	int64_t pfn;
	struct snap s;

	check_zero_pages(t, a, 1);
	assert_int_equal(pfn_of(t, a), 0);

	snap(w, &s);
	assert_int_equal(fault(t, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_COPY), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_REUSE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 1);
	pte = pte_of(t, a);
	assert_true(pte_present(pte));
	assert_false(pte_special(pte));
	assert_false(pte_write(pte));
	pfn = pfn_of(t, a);
	assert_true(pfn > 0);
	pg = page_at(w, t, a);
	assert_true(PageAnon(pg));
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_mapcount(pg), 1);
	assert_int_equal(page_ref_count(pg), 1);
	assert_true(frame_is_zero(w, pg));
	assert_int_equal(rss_of(t), 1);
	check_zero_pages(t, a, 1);
	check_world(w);

	/* The write that follows reuses it. */
	snap(w, &s);
	fill_pages(t, a, 1, 1);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(pfn_of(t, a), pfn);
	check_pages(t, a, 1, 1);
	check_world(w);
	gup_task_exit(t);
	world_end(w);
}
PER_POLICY(unshare_zero_page)

/* On a writable PTE: nothing to do. */
static void unshare_writable_noop(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = task_new(w);
	uint64_t a = map_private(t, 1), pte;
	struct snap s;

	fill_pages(t, a, 1, 1);
	pte = pte_of(t, a);
	assert_true(pte_write(pte));
	snap(w, &s);
	assert_int_equal(fault(t, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(pte_of(t, a), pte);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_UNSHARE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_REUSE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	check_pages(t, a, 1, 1);
	check_world(w);
	gup_task_exit(t);
	world_end(w);
}
PER_POLICY(unshare_writable_noop)

/*
 * UNSHARE outside a COW situation is a read fault: on an empty private PTE it
 * maps the zero page; in a shared mapping it maps the object's page and never
 * copies, even over a R/O PTE.
 */
static void unshare_as_read_fault(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = task_new(w);
	uint64_t a = map_private(t, 1), sh = 0, pte;
	int64_t pfn;
	struct snap s;

	snap(w, &s);
	assert_int_equal(fault(t, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_ANON_READ), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	assert_int_equal(pfn_of(t, a), 0);
	assert_true(pte_special(pte_of(t, a)));

	assert_int_equal(gup_mmap(t, 0, PG, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_SHARED | GUP_MAP_ANONYMOUS, &sh), 0);
	fill_pages(t, sh, 1, 1);
	pfn = pfn_of(t, sh);
	assert_int_equal(gup_mprotect(t, sh, PG, GUP_PROT_READ), 0);
	pte = pte_of(t, sh);
	assert_false(pte_write(pte));
	snap(w, &s);
	assert_int_equal(fault(t, sh, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(pte_of(t, sh), pte);
	assert_int_equal(pfn_of(t, sh), pfn);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_REUSE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	check_pages(t, sh, 1, 1);

	/* An empty PTE of the shared mapping: the object's page, no copy. */
	assert_int_equal(gup_madvise(t, sh, PG, GUP_MADV_DONTNEED), 0);
	assert_int_equal(pfn_of(t, sh), -EFAULT);
	snap(w, &s);
	assert_int_equal(fault(t, sh, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(pfn_of(t, sh), pfn);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	check_pages(t, sh, 1, 1);
	check_world(w);
	gup_task_exit(t);
	world_end(w);
}
PER_POLICY(unshare_as_read_fault)

/* Illegal flag combinations are refused before anything is touched. */
static void fault_illegal_flags(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, 2), pte;
	struct snap s;

	snap(w, &s);
	assert_int_equal(fault(p, a, FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE), VM_FAULT_SIGBUS);
	assert_int_equal(fault(p, a, FAULT_FLAG_TRIED), VM_FAULT_SIGBUS);
	assert_int_equal(fault(p, a, FAULT_FLAG_WRITE | FAULT_FLAG_TRIED), VM_FAULT_SIGBUS);
	assert_int_equal(pte_of(p, a), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	assert_int_equal(vm_fault_to_errno(VM_FAULT_SIGBUS, false), -EFAULT);

	/* ALLOW_RETRY|TRIED is legal: a retried fault proceeds. */
	assert_int_equal(fault(p, a, FAULT_FLAG_WRITE | FAULT_FLAG_ALLOW_RETRY |
				     FAULT_FLAG_TRIED), 0);
	assert_true(pte_write(pte_of(p, a)));

	/* On a COW-shared page the illegal combination neither copies nor reuses. */
	fill_pages(p, a + PG, 1, 1);
	c = fork_ok(p);
	pte = pte_of(p, a + PG);
	snap(w, &s);
	assert_int_equal(fault(p, a + PG, FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE),
			 VM_FAULT_SIGBUS);
	assert_int_equal(fault(p, a + PG, FAULT_FLAG_UNSHARE | FAULT_FLAG_TRIED),
			 VM_FAULT_SIGBUS);
	assert_int_equal(pte_of(p, a + PG), pte);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 0);
	assert_int_equal(pfn_of(c, a + PG), pfn_of(p, a + PG));
	check_world(w);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(fault_illegal_flags)

/* ------------------------------------------------------------------------ */
/* mprotect, munmap, the TLB                                                */
/* ------------------------------------------------------------------------ */

/*
 * mprotect(PROT_READ) makes stores fail - even right after a store left a
 * writable TLB entry - while loads still work; R/W again, stores succeed and the
 * data is intact.
 */
static void mprotect_write_fault(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = task_new(w);
	uint64_t a = map_private(t, 2);
	uint8_t v = 0xee, got = 0;
	int64_t pfn;
	struct snap s;

	fill_pages(t, a, 2, 1);		/* writable TLB entries now */
	pfn = pfn_of(t, a);
	assert_int_equal(gup_mprotect(t, a, 2 * PG, GUP_PROT_READ), 0);
	for (unsigned i = 0; i < 2; i++)
		assert_false(pte_write(pte_of(t, a + i * PG)));

	snap(w, &s);
	assert_int_equal(gup_store(t, a, &v, 1), -EFAULT);
	assert_int_equal(gup_store(t, a + PG + 7, &v, 1), -EFAULT);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_SIGSEGV), 2);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), 0);
	check_pages(t, a, 2, 1);	/* nothing was written */
	check_world(w);

	assert_int_equal(gup_mprotect(t, a, 2 * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_int_equal(gup_store(t, a + 5, &v, 1), 0);
	assert_int_equal(gup_load(t, a + 5, &got, 1), 0);
	assert_int_equal(got, 0xee);
	assert_int_equal(pfn_of(t, a), pfn);	/* exclusive: no copy under any policy */
	/* Every other byte is intact. */
	{
		static uint8_t want[GUP_PAGE_SIZE], buf[GUP_PAGE_SIZE];

		make_page(want, 1, a);
		want[5] = 0xee;
		assert_int_equal(gup_load(t, a, buf, PG), 0);
		assert_memory_equal(buf, want, PG);
	}
	check_pages(t, a + PG, 1, 1);
	check_world(w);
	gup_task_exit(t);
	world_end(w);
}
PER_POLICY(mprotect_write_fault)

/* The mprotect upgrade never makes the zero page writable. */
static void mprotect_zero_page_stays_ro(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = task_new(w);
	uint64_t a = map_private(t, 1);
	uint8_t v = 9, got = 0;
	struct snap s;

	check_zero_pages(t, a, 1);
	assert_int_equal(gup_mprotect(t, a, PG, GUP_PROT_READ), 0);
	assert_int_equal(gup_mprotect(t, a, PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_false(pte_write(pte_of(t, a)));
	assert_true(pte_special(pte_of(t, a)));
	check_world(w);
	snap(w, &s);
	assert_int_equal(gup_store(t, a + 1, &v, 1), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_ZERO), 1);
	assert_int_equal(gup_load(t, a + 1, &got, 1), 0);
	assert_int_equal(got, 9);
	assert_true(frame_is_zero(w, zero_page(w)));
	check_world(w);
	gup_task_exit(t);
	world_end(w);
}
PER_POLICY(mprotect_zero_page_stays_ro)

/* munmap splits a VMA in two; after a fork both halves are COW as before. */
static void munmap_split_then_fork(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, 6), lo = a, hi = a + 4 * PG;
	struct gup_mm_info mi;
	uint8_t b;
	struct snap s;

	fill_pages(p, a, 6, 1);
	assert_int_equal(gup_munmap(p, a + 2 * PG, 2 * PG), 0);
	assert_int_equal(gup_mm_info(gup_task_mm(p), &mi), 0);
	assert_int_equal(mi.nr_vmas, 2);
	assert_int_equal(mi.rss, 4);
	assert_int_equal(gup_load(p, a + 2 * PG, &b, 1), -EFAULT);

	snap(w, &s);
	c = fork_ok(p);
	assert_int_equal(delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	assert_int_equal(gup_mm_info(gup_task_mm(c), &mi), 0);
	assert_int_equal(mi.nr_vmas, 2);
	assert_int_equal(gup_load(c, a + 3 * PG, &b, 1), -EFAULT);

	snap(w, &s);
	fill_pages(p, lo, 2, 2);
	fill_pages(p, hi, 2, 2);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 4);
	check_pages(c, lo, 2, 1);
	check_pages(c, hi, 2, 1);
	snap(w, &s);
	fill_pages(c, lo, 2, 3);
	fill_pages(c, hi, 2, 3);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 4);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	check_pages(p, lo, 2, 2);
	check_pages(p, hi, 2, 2);
	check_pages(c, lo, 2, 3);
	check_pages(c, hi, 2, 3);
	check_world(w);

	/* Splitting again in the child (inside the upper half) keeps the rest. */
	assert_int_equal(gup_munmap(c, hi, PG), 0);
	assert_int_equal(gup_load(c, hi, &b, 1), -EFAULT);
	check_pages(c, hi + PG, 1, 3);
	check_pages(p, hi, 2, 2);
	check_world(w);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(munmap_split_then_fork)

/*
 * A store through a task whose TLB holds a read-only entry for the page (a load
 * came first) must fault, upgrade or copy, and later loads must see the new
 * frame, not the one the stale entry pointed at.
 */
static void tlb_readonly_entry_upgrade(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = task_new(w), *c;
	uint64_t a = map_private(p, 3);
	uint8_t v, got;
	struct snap s;

	/* 1. A R/O entry for the zero page, then a store: COW of the zero page. */
	check_zero_pages(p, a, 1);
	v = 0x11;
	assert_int_equal(gup_store(p, a, &v, 1), 0);
	assert_int_equal(gup_load(p, a, &got, 1), 0);
	assert_int_equal(got, 0x11);
	assert_int_not_equal(pfn_of(p, a), 0);
	{
		uint8_t rest[64];

		assert_int_equal(gup_load(p, a + 1, rest, sizeof(rest)), 0);
		for (size_t i = 0; i < sizeof(rest); i++)
			assert_int_equal(rest[i], 0);
	}

	/* 2. A R/O entry for a COW-shared page: the store copies; loads follow it. */
	fill_pages(p, a + PG, 1, 1);
	c = fork_ok(p);
	check_pages(p, a + PG, 1, 1);
	check_pages(c, a + PG, 1, 1);
	snap(w, &s);
	v = 0x22;
	assert_int_equal(gup_store(p, a + PG + 3, &v, 1), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 1);
	assert_int_equal(gup_load(p, a + PG + 3, &got, 1), 0);
	assert_int_equal(got, 0x22);
	assert_int_equal(gup_load(c, a + PG + 3, &got, 1), 0);
	assert_int_equal(got, pat_byte(1, (a + PG) / PG, 3));
	/* and the child's store after its own load reuses its page */
	assert_int_equal(gup_load(c, a + PG, &got, 1), 0);
	snap(w, &s);
	v = 0x33;
	assert_int_equal(gup_store(c, a + PG + 3, &v, 1), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(gup_load(c, a + PG + 3, &got, 1), 0);
	assert_int_equal(got, 0x33);
	assert_int_equal(gup_load(p, a + PG + 3, &got, 1), 0);
	assert_int_equal(got, 0x22);
	check_world(w);
	gup_task_exit(c);

	/* 3. R/O entry after mprotect(PROT_READ), then mprotect(R/W) and a store. */
	fill_pages(p, a + 2 * PG, 1, 4);
	assert_int_equal(gup_mprotect(p, a + 2 * PG, PG, GUP_PROT_READ), 0);
	check_pages(p, a + 2 * PG, 1, 4);
	assert_int_equal(gup_mprotect(p, a + 2 * PG, PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	snap(w, &s);
	v = 0x44;
	assert_int_equal(gup_store(p, a + 2 * PG + 9, &v, 1), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_FAULT_WP), is_new(policy) ? 0 : 1);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(gup_load(p, a + 2 * PG + 9, &got, 1), 0);
	assert_int_equal(got, 0x44);
	assert_int_equal(gup_load(p, a + 2 * PG + 8, &got, 1), 0);
	assert_int_equal(got, pat_byte(4, (a + 2 * PG) / PG, 8));
	check_world(w);
	gup_task_exit(p);
	world_end(w);
}
PER_POLICY(tlb_readonly_entry_upgrade)

/*
 * Two tasks of one mm.  The second holds a R/O TLB entry for a COW-shared page
 * when the first replaces the page (a COW copy, or an unshare copy followed by a
 * reuse that needs no flush): the second task's next load must see the new frame.
 */
static void cow_other_task_tlb(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t1 = task_new(w), *t2 = NULL, *c;
	uint64_t a = map_private(t1, 2);
	uint8_t v, got;
	struct snap s;

	assert_int_equal(gup_task_create(gup_task_mm(t1), &t2), 0);
	fill_pages(t1, a, 2, 1);
	c = fork_ok(t1);

	/* COW copy by t1 while t2 caches the shared frame. */
	check_pages(t2, a, 1, 1);
	snap(w, &s);
	v = 0x5c;
	assert_int_equal(gup_store(t1, a + 40, &v, 1), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 1);
	assert_int_equal(gup_load(t2, a + 40, &got, 1), 0);
	assert_int_equal(got, 0x5c);
	assert_int_equal(gup_load(c, a + 40, &got, 1), 0);
	assert_int_equal(got, pat_byte(1, a / PG, 40));

	/* Unshare copy (R/O), then t1's write reuses the copy without a flush. */
	check_pages(t2, a + PG, 1, 1);
	snap(w, &s);
	assert_int_equal(fault(t1, a + PG, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_UNSHARE_COPY), 1);
	v = 0x6d;
	assert_int_equal(gup_store(t1, a + PG + 40, &v, 1), 0);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(gup_load(t2, a + PG + 40, &got, 1), 0);
	assert_int_equal(got, 0x6d);
	assert_int_equal(gup_load(c, a + PG + 40, &got, 1), 0);
	assert_int_equal(got, pat_byte(1, (a + PG) / PG, 40));
	check_world(w);

	gup_task_exit(c);
	gup_task_exit(t2);
	gup_task_exit(t1);
	world_end(w);
}
PER_POLICY(cow_other_task_tlb)

int main(void)
{
	const struct CMUnitTest cow_tests[] = {
		POLICY_TESTS(cow_anon_write_fault),
		POLICY_TESTS(cow_zero_page_then_write),
		POLICY_TESTS(cow_reuse_mprotect_extra_ref),
		POLICY_TESTS(cow_after_fork_child_gone_extra_ref),
		POLICY_TESTS(cow_exclusive_reused_despite_ref),
		POLICY_TESTS(unshare_cow_shared),
		POLICY_TESTS(unshare_exclusive_ro),
		POLICY_TESTS(unshare_zero_page),
		POLICY_TESTS(unshare_writable_noop),
		POLICY_TESTS(unshare_as_read_fault),
		POLICY_TESTS(fault_illegal_flags),
		POLICY_TESTS(mprotect_write_fault),
		POLICY_TESTS(mprotect_zero_page_stays_ro),
		POLICY_TESTS(munmap_split_then_fork),
		POLICY_TESTS(tlb_readonly_entry_upgrade),
		POLICY_TESTS(cow_other_task_tlb),
	};

	return cmocka_run_group_tests(cow_tests, NULL, NULL);
}
