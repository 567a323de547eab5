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

#include <cmocka.h>

#include "gup/gup.h"
#include "mm/fault.h"
#include "world.h"

#include "common/fixture.h"

#define PG		GUP_PAGE_SIZE
#define NR_FRAMES	128
#define NR_MOVABLE	64

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static struct gup_world *world_new(const char *policy)
{
	return fx_world_new(policy, NR_FRAMES, NR_MOVABLE);
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

/* ------------------------------------------------------------------------ */
/* Anonymous faults                                                         */
/* ------------------------------------------------------------------------ */

/* A write fault on an empty PTE: a zeroed, exclusive page mapped writable once. */
static void cow_anon_write_fault(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, 2), pte;
	struct page *pg;
	struct fx_snap s;

	/* Directly, as GUP with FOLL_WRITE would. */
	fx_snap(w, &s);
	assert_int_equal(fault(t, a, FAULT_FLAG_WRITE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_ANON_WRITE), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 1);
	pte = fx_pte(t, a);
	assert_true(pte_present(pte));
	assert_true(pte_write(pte));
	assert_true(pte_dirty(pte));
	assert_false(pte_special(pte));
	pg = fx_page_at(t, a);
	assert_true(PageAnon(pg));
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_mapcount(pg), 1);
	assert_int_equal(page_ref_count(pg), 1);
	assert_true(fx_frame_is_zero(w, pg));
	fx_check_zero_pages(t, a, 1);

	/* Through a user store. */
	fx_snap(w, &s);
	fx_fill_pages(t, a + PG, 1, 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_ANON_WRITE), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 0);
	pg = fx_page_at(t, a + PG);
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_mapcount(pg), 1);
	assert_int_equal(page_ref_count(pg), 1);
	assert_true(pte_write(fx_pte(t, a + PG)));
	assert_true(fx_frame_has(w, pg, 1, a + PG));
	fx_check_pages(t, a + PG, 1, 1);
	assert_int_equal(fx_rss(t), 2);

	/* A second write is no fault at all. */
	fx_snap(w, &s);
	fx_fill_pages(t, a + PG, 1, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);
	fx_check_pages(t, a + PG, 1, 2);
	fx_check(w);
	gup_task_exit(t);
	fx_world_end(w);
}
FX_PER_POLICY(cow_anon_write_fault)

/* A read fault maps the shared zero page R/O; the first write COWs it. */
static void cow_zero_page_then_write(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, 1), pte;
	struct page *zp = zero_page(w), *pg;
	uint32_t zref = page_ref_count(zp);
	uint8_t v = 0x77, buf[64];
	struct fx_snap s;

	fx_snap(w, &s);
	fx_check_zero_pages(t, a, 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_ANON_READ), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	pte = fx_pte(t, a);
	assert_true(pte_present(pte));
	assert_true(pte_special(pte));
	assert_false(pte_write(pte));
	assert_int_equal(fx_pfn(t, a), 0);
	assert_int_equal(page_mapcount(zp), 0);	/* the zero page is never counted */
	assert_int_equal(page_ref_count(zp), zref);
	assert_int_equal(fx_rss(t), 0);
	fx_check(w);

	fx_snap(w, &s);
	assert_int_equal(gup_store(t, a + 10, &v, 1), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_ZERO), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 1);
	pte = fx_pte(t, a);
	assert_false(pte_special(pte));
	assert_true(pte_write(pte));
	assert_int_not_equal(pte_pfn(pte), 0);
	pg = fx_page_at(t, a);
	assert_true(PageAnon(pg));
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_mapcount(pg), 1);
	assert_int_equal(page_ref_count(pg), 1);
	assert_int_equal(page_ref_count(zp), zref);
	assert_int_equal(fx_rss(t), 1);
	assert_int_equal(gup_load(t, a, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], i == 10 ? 0x77 : 0);
	assert_true(fx_frame_is_zero(w, zp));
	fx_check(w);
	gup_task_exit(t);
	fx_world_end(w);
}
FX_PER_POLICY(cow_zero_page_then_write)

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
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, 1);
	struct page *pg, *ref;
	int64_t pfn;
	struct fx_snap s;

	fx_fill_pages(t, a, 1, 1);
	pfn = fx_pfn(t, a);
	ref = fx_foll_get(t, a);
	pg = fx_page_at(t, a);
	assert_ptr_equal(ref, pg);
	assert_int_equal(page_ref_count(pg), 2);
	assert_int_equal(page_mapcount(pg), 1);

	assert_int_equal(gup_mprotect(t, a, PG, GUP_PROT_READ), 0);
	assert_false(pte_write(fx_pte(t, a)));
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(gup_mprotect(t, a, PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_int_equal(pte_write(fx_pte(t, a)), fx_policy_is_new(policy));
	fx_check(w);

	fx_snap(w, &s);
	fx_fill_pages(t, a, 1, 2);
	if (fx_policy_is_new(policy)) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 0);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
	} else {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 1);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 1);
	}
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_pfn(t, a), pfn);
	assert_true(pte_write(fx_pte(t, a)));
	assert_true(fx_frame_has(w, ref, 2, a));
	fx_check_pages(t, a, 1, 2);
	fx_check(w);

	fx_foll_put(w, ref);
	assert_int_equal(page_ref_count(pg), 1);
	fx_check(w);
	gup_task_exit(t);
	fx_world_end(w);
}
FX_PER_POLICY(cow_reuse_mprotect_extra_ref)

/*
 * After a fork whose child is gone, the page is mapped once but no longer
 * exclusive (fork cleared it).  With a FOLL_GET reference held, linux-6.x sees
 * refcount 2 and copies - the reference now holds a page the process no longer
 * maps (FOLL_GET's known unreliability); linux-2.6.29 reuses by mapcount == 1.
 */
static void cow_after_fork_child_gone_extra_ref(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, 1);
	struct page *ref;
	int64_t pfn;
	struct fx_snap s;

	fx_fill_pages(p, a, 1, 1);
	pfn = fx_pfn(p, a);
	c = fx_fork(p);
	gup_task_exit(c);
	ref = fx_foll_get(p, a);
	assert_false(PageAnonExclusive(ref));
	assert_int_equal(page_mapcount(ref), 1);
	assert_int_equal(page_ref_count(ref), 2);
	assert_false(pte_write(fx_pte(p, a)));
	fx_check(w);

	fx_snap(w, &s);
	fx_fill_pages(p, a, 1, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 1);
	if (fx_policy_is_new(policy)) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 1);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
		assert_int_not_equal(fx_pfn(p, a), pfn);
		/* Only the reference keeps the old frame, with the old data. */
		assert_int_equal(page_mapcount(ref), 0);
		assert_int_equal(page_ref_count(ref), 1);
		assert_true(fx_frame_has(w, ref, 1, a));
	} else {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 1);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
		assert_int_equal(fx_pfn(p, a), pfn);
		assert_true(fx_frame_has(w, ref, 2, a));
	}
	assert_true(PageAnonExclusive(fx_page_at(p, a)));
	fx_check_pages(p, a, 1, 2);
	fx_check(w);

	fx_foll_put(w, ref);
	fx_check(w);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(cow_after_fork_child_gone_extra_ref)

/*
 * The same page, but an unshare fault (what a R/O FOLL_PIN triggers) marks it
 * exclusive first.  Now a write reuses it whatever references exist: under
 * linux-6.x because it is exclusive, under linux-2.6.29 by mapcount == 1.
 */
static void cow_exclusive_reused_despite_ref(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, 1);
	struct page *pg, *ref;
	int64_t pfn;
	struct fx_snap s;

	fx_fill_pages(p, a, 1, 1);
	pfn = fx_pfn(p, a);
	c = fx_fork(p);
	gup_task_exit(c);
	pg = fx_page_at(p, a);
	assert_false(PageAnonExclusive(pg));

	fx_snap(w, &s);
	assert_int_equal(fault(p, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_UNSHARE), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_REUSE), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	assert_int_equal(fx_pfn(p, a), pfn);
	assert_true(PageAnonExclusive(pg));
	assert_false(pte_write(fx_pte(p, a)));

	ref = fx_foll_get(p, a);
	assert_int_equal(page_ref_count(pg), 2);
	fx_snap(w, &s);
	fx_fill_pages(p, a, 1, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_pfn(p, a), pfn);
	assert_true(fx_frame_has(w, ref, 2, a));
	fx_check_pages(p, a, 1, 2);
	fx_check(w);
	fx_foll_put(w, ref);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(cow_exclusive_reused_despite_ref)

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
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, 2), pte;
	struct page *orig, *pg;
	int64_t pfn, npfn;
	struct fx_snap s;

	fx_fill_pages(p, a, 2, 1);
	pfn = fx_pfn(p, a);
	c = fx_fork(p);
	orig = fx_page_at(p, a);
	assert_int_equal(page_mapcount(orig), 2);
	fx_check_pages(p, a, 1, 1);	/* leave a R/O TLB entry behind in the parent */

	fx_snap(w, &s);
	assert_int_equal(fault(p, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_UNSHARE), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_REUSE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
	npfn = fx_pfn(p, a);
	assert_int_not_equal(npfn, pfn);
	pte = fx_pte(p, a);
	assert_false(pte_write(pte));
	pg = fx_page_at(p, a);
	assert_true(PageAnon(pg));
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_mapcount(pg), 1);
	assert_int_equal(page_ref_count(pg), 1);
	assert_true(fx_frame_has(w, pg, 1, a));
	/* The child is unaffected: still the original frame, now mapped once. */
	assert_int_equal(fx_pfn(c, a), pfn);
	assert_int_equal(page_mapcount(orig), 1);
	assert_false(PageAnonExclusive(orig));
	fx_check_pages(p, a, 1, 1);
	fx_check_pages(c, a, 1, 1);
	/* The neighbour page is still shared. */
	assert_int_equal(fx_pfn(c, a + PG), fx_pfn(p, a + PG));
	assert_int_equal(fx_rss(p), 2);
	fx_check(w);

	/* The parent's later write reuses its exclusive copy; no second copy. */
	fx_snap(w, &s);
	fx_fill_pages(p, a, 1, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_pfn(p, a), npfn);
	fx_check_pages(p, a, 1, 2);
	fx_check_pages(c, a, 1, 1);
	fx_check(w);

	gup_task_exit(c);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(unshare_cow_shared)

/* On an exclusive page mapped R/O: nothing to copy, the PTE stays as it was. */
static void unshare_exclusive_ro(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, 1), pte;
	struct page *pg;
	int64_t pfn;
	struct fx_snap s;

	fx_fill_pages(t, a, 1, 1);
	pfn = fx_pfn(t, a);
	assert_int_equal(gup_mprotect(t, a, PG, GUP_PROT_READ), 0);
	pte = fx_pte(t, a);
	assert_false(pte_write(pte));
	pg = fx_page_at(t, a);
	assert_true(PageAnonExclusive(pg));

	fx_snap(w, &s);
	assert_int_equal(fault(t, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_REUSE), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	assert_int_equal(fx_pte(t, a), pte);
	assert_int_equal(fx_pfn(t, a), pfn);
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_ref_count(pg), 1);
	fx_check_pages(t, a, 1, 1);
	assert_int_equal(gup_store(t, a, "x", 1), -EFAULT);
	fx_check(w);
	gup_task_exit(t);
	fx_world_end(w);
}
FX_PER_POLICY(unshare_exclusive_ro)

/* On the zero page: a new zeroed exclusive page, mapped R/O. */
static void unshare_zero_page(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, 1), pte;
	struct page *pg;
	int64_t pfn;
	struct fx_snap s;

	fx_check_zero_pages(t, a, 1);
	assert_int_equal(fx_pfn(t, a), 0);

	fx_snap(w, &s);
	assert_int_equal(fault(t, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_REUSE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 1);
	pte = fx_pte(t, a);
	assert_true(pte_present(pte));
	assert_false(pte_special(pte));
	assert_false(pte_write(pte));
	pfn = fx_pfn(t, a);
	assert_true(pfn > 0);
	pg = fx_page_at(t, a);
	assert_true(PageAnon(pg));
	assert_true(PageAnonExclusive(pg));
	assert_int_equal(page_mapcount(pg), 1);
	assert_int_equal(page_ref_count(pg), 1);
	assert_true(fx_frame_is_zero(w, pg));
	assert_int_equal(fx_rss(t), 1);
	fx_check_zero_pages(t, a, 1);
	fx_check(w);

	/* The write that follows reuses it. */
	fx_snap(w, &s);
	fx_fill_pages(t, a, 1, 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_pfn(t, a), pfn);
	fx_check_pages(t, a, 1, 1);
	fx_check(w);
	gup_task_exit(t);
	fx_world_end(w);
}
FX_PER_POLICY(unshare_zero_page)

/* On a writable PTE: nothing to do. */
static void unshare_writable_noop(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, 1), pte;
	struct fx_snap s;

	fx_fill_pages(t, a, 1, 1);
	pte = fx_pte(t, a);
	assert_true(pte_write(pte));
	fx_snap(w, &s);
	assert_int_equal(fault(t, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(fx_pte(t, a), pte);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_UNSHARE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_REUSE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	fx_check_pages(t, a, 1, 1);
	fx_check(w);
	gup_task_exit(t);
	fx_world_end(w);
}
FX_PER_POLICY(unshare_writable_noop)

/*
 * UNSHARE outside a COW situation is a read fault: on an empty private PTE it
 * maps the zero page; in a shared mapping it maps the object's page and never
 * copies, even over a R/O PTE.
 */
static void unshare_as_read_fault(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, 1), sh = 0, pte;
	int64_t pfn;
	struct fx_snap s;

	fx_snap(w, &s);
	assert_int_equal(fault(t, a, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_ANON_READ), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	assert_int_equal(fx_pfn(t, a), 0);
	assert_true(pte_special(fx_pte(t, a)));

	assert_int_equal(gup_mmap(t, 0, PG, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_SHARED | GUP_MAP_ANONYMOUS, &sh), 0);
	fx_fill_pages(t, sh, 1, 1);
	pfn = fx_pfn(t, sh);
	assert_int_equal(gup_mprotect(t, sh, PG, GUP_PROT_READ), 0);
	pte = fx_pte(t, sh);
	assert_false(pte_write(pte));
	fx_snap(w, &s);
	assert_int_equal(fault(t, sh, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(fx_pte(t, sh), pte);
	assert_int_equal(fx_pfn(t, sh), pfn);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_REUSE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	fx_check_pages(t, sh, 1, 1);

	/* An empty PTE of the shared mapping: the object's page, no copy. */
	assert_int_equal(gup_madvise(t, sh, PG, GUP_MADV_DONTNEED), 0);
	assert_int_equal(fx_pfn(t, sh), -EFAULT);
	fx_snap(w, &s);
	assert_int_equal(fault(t, sh, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(fx_pfn(t, sh), pfn);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	fx_check_pages(t, sh, 1, 1);
	fx_check(w);
	gup_task_exit(t);
	fx_world_end(w);
}
FX_PER_POLICY(unshare_as_read_fault)

/* Illegal flag combinations are refused before anything is touched. */
static void fault_illegal_flags(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, 2), pte;
	struct fx_snap s;

	fx_snap(w, &s);
	assert_int_equal(fault(p, a, FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE), VM_FAULT_SIGBUS);
	assert_int_equal(fault(p, a, FAULT_FLAG_TRIED), VM_FAULT_SIGBUS);
	assert_int_equal(fault(p, a, FAULT_FLAG_WRITE | FAULT_FLAG_TRIED), VM_FAULT_SIGBUS);
	assert_int_equal(fx_pte(p, a), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FRAME_ALLOC), 0);
	assert_int_equal(vm_fault_to_errno(VM_FAULT_SIGBUS, false), -EFAULT);

	/* ALLOW_RETRY|TRIED is legal: a retried fault proceeds. */
	assert_int_equal(fault(p, a, FAULT_FLAG_WRITE | FAULT_FLAG_ALLOW_RETRY |
				     FAULT_FLAG_TRIED), 0);
	assert_true(pte_write(fx_pte(p, a)));

	/* On a COW-shared page the illegal combination neither copies nor reuses. */
	fx_fill_pages(p, a + PG, 1, 1);
	c = fx_fork(p);
	pte = fx_pte(p, a + PG);
	fx_snap(w, &s);
	assert_int_equal(fault(p, a + PG, FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE),
			 VM_FAULT_SIGBUS);
	assert_int_equal(fault(p, a + PG, FAULT_FLAG_UNSHARE | FAULT_FLAG_TRIED),
			 VM_FAULT_SIGBUS);
	assert_int_equal(fx_pte(p, a + PG), pte);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
	assert_int_equal(fx_pfn(c, a + PG), fx_pfn(p, a + PG));
	fx_check(w);
	gup_task_exit(c);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(fault_illegal_flags)

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
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, 2);
	uint8_t v = 0xee, got = 0;
	int64_t pfn;
	struct fx_snap s;

	fx_fill_pages(t, a, 2, 1);		/* writable TLB entries now */
	pfn = fx_pfn(t, a);
	assert_int_equal(gup_mprotect(t, a, 2 * PG, GUP_PROT_READ), 0);
	for (unsigned i = 0; i < 2; i++)
		assert_false(pte_write(fx_pte(t, a + i * PG)));

	fx_snap(w, &s);
	assert_int_equal(gup_store(t, a, &v, 1), -EFAULT);
	assert_int_equal(gup_store(t, a + PG + 7, &v, 1), -EFAULT);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_SIGSEGV), 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 0);
	fx_check_pages(t, a, 2, 1);	/* nothing was written */
	fx_check(w);

	assert_int_equal(gup_mprotect(t, a, 2 * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_int_equal(gup_store(t, a + 5, &v, 1), 0);
	assert_int_equal(gup_load(t, a + 5, &got, 1), 0);
	assert_int_equal(got, 0xee);
	assert_int_equal(fx_pfn(t, a), pfn);	/* exclusive: no copy under any policy */
	/* Every other byte is intact. */
	{
		static uint8_t want[GUP_PAGE_SIZE], buf[GUP_PAGE_SIZE];

		fx_pattern_page(want, 1, a);
		want[5] = 0xee;
		assert_int_equal(gup_load(t, a, buf, PG), 0);
		assert_memory_equal(buf, want, PG);
	}
	fx_check_pages(t, a + PG, 1, 1);
	fx_check(w);
	gup_task_exit(t);
	fx_world_end(w);
}
FX_PER_POLICY(mprotect_write_fault)

/* The mprotect upgrade never makes the zero page writable. */
static void mprotect_zero_page_stays_ro(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, 1);
	uint8_t v = 9, got = 0;
	struct fx_snap s;

	fx_check_zero_pages(t, a, 1);
	assert_int_equal(gup_mprotect(t, a, PG, GUP_PROT_READ), 0);
	assert_int_equal(gup_mprotect(t, a, PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_false(pte_write(fx_pte(t, a)));
	assert_true(pte_special(fx_pte(t, a)));
	fx_check(w);
	fx_snap(w, &s);
	assert_int_equal(gup_store(t, a + 1, &v, 1), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_ZERO), 1);
	assert_int_equal(gup_load(t, a + 1, &got, 1), 0);
	assert_int_equal(got, 9);
	assert_true(fx_frame_is_zero(w, zero_page(w)));
	fx_check(w);
	gup_task_exit(t);
	fx_world_end(w);
}
FX_PER_POLICY(mprotect_zero_page_stays_ro)

/* munmap splits a VMA in two; after a fork both halves are COW as before. */
static void munmap_split_then_fork(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, 6), lo = a, hi = a + 4 * PG;
	struct gup_mm_info mi;
	uint8_t b;
	struct fx_snap s;

	fx_fill_pages(p, a, 6, 1);
	assert_int_equal(gup_munmap(p, a + 2 * PG, 2 * PG), 0);
	assert_int_equal(gup_mm_info(gup_task_mm(p), &mi), 0);
	assert_int_equal(mi.nr_vmas, 2);
	assert_int_equal(mi.rss, 4);
	assert_int_equal(gup_load(p, a + 2 * PG, &b, 1), -EFAULT);

	fx_snap(w, &s);
	c = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 4);
	assert_int_equal(gup_mm_info(gup_task_mm(c), &mi), 0);
	assert_int_equal(mi.nr_vmas, 2);
	assert_int_equal(gup_load(c, a + 3 * PG, &b, 1), -EFAULT);

	fx_snap(w, &s);
	fx_fill_pages(p, lo, 2, 2);
	fx_fill_pages(p, hi, 2, 2);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 4);
	fx_check_pages(c, lo, 2, 1);
	fx_check_pages(c, hi, 2, 1);
	fx_snap(w, &s);
	fx_fill_pages(c, lo, 2, 3);
	fx_fill_pages(c, hi, 2, 3);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 4);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	fx_check_pages(p, lo, 2, 2);
	fx_check_pages(p, hi, 2, 2);
	fx_check_pages(c, lo, 2, 3);
	fx_check_pages(c, hi, 2, 3);
	fx_check(w);

	/* Splitting again in the child (inside the upper half) keeps the rest. */
	assert_int_equal(gup_munmap(c, hi, PG), 0);
	assert_int_equal(gup_load(c, hi, &b, 1), -EFAULT);
	fx_check_pages(c, hi + PG, 1, 3);
	fx_check_pages(p, hi, 2, 2);
	fx_check(w);
	gup_task_exit(c);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(munmap_split_then_fork)

/*
 * A store through a task whose TLB holds a read-only entry for the page (a load
 * came first) must fault, upgrade or copy, and later loads must see the new
 * frame, not the one the stale entry pointed at.
 */
static void tlb_readonly_entry_upgrade(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, 3);
	uint8_t v, got;
	struct fx_snap s;

	/* 1. A R/O entry for the zero page, then a store: COW of the zero page. */
	fx_check_zero_pages(p, a, 1);
	v = 0x11;
	assert_int_equal(gup_store(p, a, &v, 1), 0);
	assert_int_equal(gup_load(p, a, &got, 1), 0);
	assert_int_equal(got, 0x11);
	assert_int_not_equal(fx_pfn(p, a), 0);
	{
		uint8_t rest[64];

		assert_int_equal(gup_load(p, a + 1, rest, sizeof(rest)), 0);
		for (size_t i = 0; i < sizeof(rest); i++)
			assert_int_equal(rest[i], 0);
	}

	/* 2. A R/O entry for a COW-shared page: the store copies; loads follow it. */
	fx_fill_pages(p, a + PG, 1, 1);
	c = fx_fork(p);
	fx_check_pages(p, a + PG, 1, 1);
	fx_check_pages(c, a + PG, 1, 1);
	fx_snap(w, &s);
	v = 0x22;
	assert_int_equal(gup_store(p, a + PG + 3, &v, 1), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 1);
	assert_int_equal(gup_load(p, a + PG + 3, &got, 1), 0);
	assert_int_equal(got, 0x22);
	assert_int_equal(gup_load(c, a + PG + 3, &got, 1), 0);
	assert_int_equal(got, fx_pattern_byte(1, (a + PG) / PG, 3));
	/* and the child's store after its own load reuses its page */
	assert_int_equal(gup_load(c, a + PG, &got, 1), 0);
	fx_snap(w, &s);
	v = 0x33;
	assert_int_equal(gup_store(c, a + PG + 3, &v, 1), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(gup_load(c, a + PG + 3, &got, 1), 0);
	assert_int_equal(got, 0x33);
	assert_int_equal(gup_load(p, a + PG + 3, &got, 1), 0);
	assert_int_equal(got, 0x22);
	fx_check(w);
	gup_task_exit(c);

	/* 3. R/O entry after mprotect(PROT_READ), then mprotect(R/W) and a store. */
	fx_fill_pages(p, a + 2 * PG, 1, 4);
	assert_int_equal(gup_mprotect(p, a + 2 * PG, PG, GUP_PROT_READ), 0);
	fx_check_pages(p, a + 2 * PG, 1, 4);
	assert_int_equal(gup_mprotect(p, a + 2 * PG, PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	fx_snap(w, &s);
	v = 0x44;
	assert_int_equal(gup_store(p, a + 2 * PG + 9, &v, 1), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), fx_policy_is_new(policy) ? 0 : 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(gup_load(p, a + 2 * PG + 9, &got, 1), 0);
	assert_int_equal(got, 0x44);
	assert_int_equal(gup_load(p, a + 2 * PG + 8, &got, 1), 0);
	assert_int_equal(got, fx_pattern_byte(4, (a + 2 * PG) / PG, 8));
	fx_check(w);
	gup_task_exit(p);
	fx_world_end(w);
}
FX_PER_POLICY(tlb_readonly_entry_upgrade)

/*
 * Two tasks of one mm.  The second holds a R/O TLB entry for a COW-shared page
 * when the first replaces the page (a COW copy, or an unshare copy followed by a
 * reuse that needs no flush): the second task's next load must see the new frame.
 */
static void cow_other_task_tlb(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *t1 = fx_task_new(w), *t2 = NULL, *c;
	uint64_t a = fx_map_private(t1, 2);
	uint8_t v, got;
	struct fx_snap s;

	assert_int_equal(gup_task_create(gup_task_mm(t1), &t2), 0);
	fx_fill_pages(t1, a, 2, 1);
	c = fx_fork(t1);

	/* COW copy by t1 while t2 caches the shared frame. */
	fx_check_pages(t2, a, 1, 1);
	fx_snap(w, &s);
	v = 0x5c;
	assert_int_equal(gup_store(t1, a + 40, &v, 1), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 1);
	assert_int_equal(gup_load(t2, a + 40, &got, 1), 0);
	assert_int_equal(got, 0x5c);
	assert_int_equal(gup_load(c, a + 40, &got, 1), 0);
	assert_int_equal(got, fx_pattern_byte(1, a / PG, 40));

	/* Unshare copy (R/O), then t1's write reuses the copy without a flush. */
	fx_check_pages(t2, a + PG, 1, 1);
	fx_snap(w, &s);
	assert_int_equal(fault(t1, a + PG, FAULT_FLAG_UNSHARE), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), 1);
	v = 0x6d;
	assert_int_equal(gup_store(t1, a + PG + 40, &v, 1), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_int_equal(gup_load(t2, a + PG + 40, &got, 1), 0);
	assert_int_equal(got, 0x6d);
	assert_int_equal(gup_load(c, a + PG + 40, &got, 1), 0);
	assert_int_equal(got, fx_pattern_byte(1, (a + PG) / PG, 40));
	fx_check(w);

	gup_task_exit(c);
	gup_task_exit(t2);
	gup_task_exit(t1);
	fx_world_end(w);
}
FX_PER_POLICY(cow_other_task_tlb)

int main(void)
{
	const struct CMUnitTest cow_tests[] = {
		FX_POLICY_TESTS(cow_anon_write_fault),
		FX_POLICY_TESTS(cow_zero_page_then_write),
		FX_POLICY_TESTS(cow_reuse_mprotect_extra_ref),
		FX_POLICY_TESTS(cow_after_fork_child_gone_extra_ref),
		FX_POLICY_TESTS(cow_exclusive_reused_despite_ref),
		FX_POLICY_TESTS(unshare_cow_shared),
		FX_POLICY_TESTS(unshare_exclusive_ro),
		FX_POLICY_TESTS(unshare_zero_page),
		FX_POLICY_TESTS(unshare_writable_noop),
		FX_POLICY_TESTS(unshare_as_read_fault),
		FX_POLICY_TESTS(fault_illegal_flags),
		FX_POLICY_TESTS(mprotect_write_fault),
		FX_POLICY_TESTS(mprotect_zero_page_stays_ro),
		FX_POLICY_TESTS(munmap_split_then_fork),
		FX_POLICY_TESTS(tlb_readonly_entry_upgrade),
		FX_POLICY_TESTS(cow_other_task_tlb),
	};

	return cmocka_run_group_tests(cow_tests, NULL, NULL);
}
