/* SPDX-License-Identifier: MIT */
/*
 * tests/test_gup_cow.c - GUP against copy-on-write: the cases of Linux's
 * tools/testing/selftests/mm/cow.c (linux_anchor 2.1), ported in meaning onto
 * libgup's real GUP entry points.
 *
 * The kernel selftest's facilities map onto libgup as follows (no THP, swap or
 * hugetlb here, so only the "... with base page" variant of each case exists):
 *
 *   vmsplice() into a pipe      a R/O FOLL_GET reference: gup_get_user_pages_fast
 *                               with no flags, held as the pipe holds it; reading
 *                               the pipe is gup_page_read, closing it gup_put_page.
 *   io_uring fixed buffer       gup_pin_user_pages_fast(FOLL_WRITE|FOLL_LONGTERM);
 *                               write_fixed + compare is gup_page_read of the pins
 *                               compared with gup_load of the mapping.
 *   gup_test PIN_LONGTERM_*     a R/O FOLL_LONGTERM pin: gup_pin_user_pages under
 *                               the mmap read lock, or gup_pin_user_pages_fast;
 *                               _READ is gup_page_read.
 *   mprotect() optimization     gup_mprotect RO then RW (linux-6.x maps exclusive
 *                               anon pages writable at once, linux_anchor 2.1 A2).
 *   fork(), child exit          fx_fork, gup_task_exit(child).
 *
 * Every case runs under linux-6.x and asserts the outcome the selftest expects
 * ("No leak from parent into child", "Longterm R/W pin is reliable", "Longterm
 * R/O pin is reliable").  Where linux-2.6.29 famously fails, the same scenario
 * also runs under linux-2.6.29 and asserts the broken outcome, with a comment
 * naming the bug: the model must tell the two designs apart.
 *
 * The linux-2.6.29 worlds have no ZONE_MOVABLE memory: 2.6.29 had no
 * FOLL_LONGTERM migration, and without movable frames the pins there stay where
 * they are, so only the COW rule differs between the two runs.  linux-6.x worlds
 * have movable memory, so their long-term pins also migrate (linux_anchor 1.14);
 * the *_normal_zone variants of the GUP-fast cases have none, so that gup-fast
 * itself decides what it may pin.
 *
 * Worlds run in debug mode (misuse reports) and each must end with no misuse
 * report, a clean invariant check and every frame free.
 */
#include <errno.h>
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

#define PG		GUP_PAGE_SIZE
#define NR_FRAMES	256
#define NR_MOVABLE	128
#define NPAGES		4

/* Patterns: what the memory held first, what a later write puts there, a DMA write. */
#define OLD		1
#define NEW		2
#define DEV		3

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* A world under @policy in debug mode, with @nr_movable of its frames movable. */
static struct gup_world *world_new_zones(const char *policy, size_t nr_movable)
{
	struct gup_world_config cfg = {
		.nr_frames = NR_FRAMES,
		.nr_movable = nr_movable,
		.policy = policy,
		.debug = true,
	};
	struct gup_world *w = NULL;

	assert_int_equal(gup_world_create(&cfg, &w), 0);
	assert_string_equal(gup_world_policy(w), policy);
	return w;
}

/*
 * The usual world of a case: linux-6.x with half the frames movable,
 * linux-2.6.29 with none (see the header comment).
 */
static struct gup_world *world_new(const char *policy)
{
	return world_new_zones(policy, fx_policy_is_new(policy) ? NR_MOVABLE : 0);
}

/* No misuse was reported, then fx_world_end (nothing left, nothing leaked). */
static void world_end(struct gup_world *w)
{
	assert_int_equal(gup_world_misuse_count(w), 0);
	fx_world_end(w);
}

static bool pte_writable(struct gup_task *t, uint64_t addr)
{
	return pte_write(fx_pte(t, addr));
}

/* Do the @n held pages hold pattern @seed of the pages at @addr (a pipe read)? */
static bool held_have(struct gup_page **pages, unsigned n, uint64_t addr, unsigned seed)
{
	uint8_t want[PG], got[PG];

	for (unsigned i = 0; i < n; i++) {
		fx_pattern_page(want, seed, addr + i * PG);
		memset(got, 0x5a, PG);
		assert_int_equal(gup_page_read(pages[i], 0, got, PG), 0);
		if (memcmp(want, got, PG) != 0)
			return false;
	}
	return true;
}

/* Are the @n held pages all zeroes? */
static bool held_zero(struct gup_page **pages, unsigned n)
{
	uint8_t got[PG];

	for (unsigned i = 0; i < n; i++) {
		memset(got, 0x5a, PG);
		assert_int_equal(gup_page_read(pages[i], 0, got, PG), 0);
		for (size_t off = 0; off < PG; off++)
			if (got[off])
				return false;
	}
	return true;
}

/* Does @t read pattern @seed in each of the @n pages at @addr? */
static bool task_reads(struct gup_task *t, uint64_t addr, unsigned n, unsigned seed)
{
	uint8_t want[PG], got[PG];

	for (unsigned i = 0; i < n; i++) {
		fx_pattern_page(want, seed, addr + i * PG);
		memset(got, 0x5a, PG);
		assert_int_equal(gup_load(t, addr + i * PG, got, PG), 0);
		if (memcmp(want, got, PG) != 0)
			return false;
	}
	return true;
}

/*
 * cow.c's "write_fixed to a file and compare": do the pinned pages hold exactly
 * what @t reads from the mapping?
 */
static bool pins_match_memory(struct gup_task *t, uint64_t addr, struct gup_page **pages,
			      unsigned n)
{
	uint8_t mem[PG], dev[PG];

	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(gup_load(t, addr + i * PG, mem, PG), 0);
		assert_int_equal(gup_page_read(pages[i], 0, dev, PG), 0);
		if (memcmp(mem, dev, PG) != 0)
			return false;
	}
	return true;
}

/* A device writes pattern @seed of @addr's pages into the @n held pages (DMA). */
static void dma_write(struct gup_page **pages, unsigned n, uint64_t addr, unsigned seed)
{
	uint8_t buf[PG];

	for (unsigned i = 0; i < n; i++) {
		fx_pattern_page(buf, seed, addr + i * PG);
		assert_int_equal(gup_page_write(pages[i], 0, buf, PG), 0);
	}
}

/*
 * A FOLL_LONGTERM pin of @n pages at @addr, as gup_test's PIN_LONGTERM_TEST_START
 * takes it: pin_user_pages under the mmap read lock, or pin_user_pages_fast.
 */
static long pin_longterm(struct gup_task *t, uint64_t addr, unsigned n, unsigned flags,
			 bool fast, struct gup_page **pages)
{
	struct gup_mm *mm = gup_task_mm(t);
	long ret;

	flags |= GUP_FOLL_LONGTERM;
	if (fast)
		return gup_pin_user_pages_fast(t, addr, (int)n, flags, pages);
	assert_int_equal(gup_mmap_read_lock(t, mm), 0);
	ret = gup_pin_user_pages(t, addr, n, flags, pages);
	gup_mmap_read_unlock(t, mm);
	return ret;
}

/* "vmsplice()": a R/O FOLL_GET reference on each of the @n pages, as a pipe holds it. */
static void vmsplice_pages(struct gup_task *t, uint64_t addr, unsigned n,
			   struct gup_page **pipe)
{
	assert_int_equal(gup_get_user_pages_fast(t, addr, (int)n, 0, pipe), (int)n);
	for (unsigned i = 0; i < n; i++) {
		assert_non_null(pipe[i]);
		assert_false(gup_page_maybe_dma_pinned(pipe[i]));
	}
}

static void put_pages(struct gup_page **pages, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		gup_put_page(pages[i]);
}

/* ------------------------------------------------------------------------ */
/* A1, A2: Basic COW after fork()                                           */
/* ------------------------------------------------------------------------ */

/*
 * cow.c A1 "Basic COW after fork()" (and A2 "... with mprotect() optimization"):
 * the parent writes after fork; the child must still read the old data ("No leak
 * from parent into child").  With the mprotect RO->RW dance first, the shared
 * pages must not come back writable (linux_anchor 1.11, 5.4).
 */
static void basic_cow(bool mprotect_dance)
{
	struct gup_world *w = world_new(FX_POLICY_NEW);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, NPAGES);
	int64_t pfn[NPAGES];
	struct fx_snap s;

	fx_fill_pages(p, a, NPAGES, OLD);
	c = fx_fork(p);
	for (unsigned i = 0; i < NPAGES; i++) {
		pfn[i] = fx_pfn(p, a + i * PG);
		assert_int_equal(fx_pfn(c, a + i * PG), pfn[i]);
		assert_false(pte_writable(p, a + i * PG));
	}
	if (mprotect_dance) {
		assert_int_equal(gup_mprotect(p, a, NPAGES * PG, GUP_PROT_READ), 0);
		assert_int_equal(gup_mprotect(p, a, NPAGES * PG,
					      GUP_PROT_READ | GUP_PROT_WRITE), 0);
		for (unsigned i = 0; i < NPAGES; i++)
			assert_false(pte_writable(p, a + i * PG));	/* still shared */
	}
	fx_snap(w, &s);
	fx_fill_pages(p, a, NPAGES, NEW);	/* memset(mem, 0xff) */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
	assert_true(task_reads(c, a, NPAGES, OLD));	/* no leak from parent into child */
	assert_true(task_reads(p, a, NPAGES, NEW));
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(fx_pfn(c, a + i * PG), pfn[i]);
		assert_int_not_equal(fx_pfn(p, a + i * PG), pfn[i]);
	}
	fx_check(w);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}

/* cow.c A1: Basic COW after fork(). */
static void a01_basic_cow__linux6(void **state)
{
	(void)state;
	basic_cow(false);
}

/* cow.c A2: Basic COW after fork() with mprotect() optimization. */
static void a02_basic_cow_mprotect__linux6(void **state)
{
	(void)state;
	basic_cow(true);
}

/* ------------------------------------------------------------------------ */
/* A3, A4: vmsplice() + unmap in child (CVE-2020-29374)                     */
/* ------------------------------------------------------------------------ */

/*
 * cow.c A3 "vmsplice() + unmap in child" / A4 "... with mprotect() optimization":
 * after fork the child vmsplices the shared pages (R/O FOLL_GET) and unmaps them;
 * the parent then writes.  The pipe must still show the old data.
 *
 * linux-6.x: fork cleared exclusivity, so the parent's write fault sees a
 * non-exclusive page with the pipe's extra reference and copies (linux_anchor
 * 1.11: reuse only if the sole reference).
 *
 * linux-2.6.29: the child's unmap left the parent's mapping as the only one, so
 * the mapcount == 1 rule reuses the page and the parent's new data leaks into the
 * child's pipe - CVE-2020-29374 (Jann Horn), the bug cow.c names for this case.
 */
static void vmsplice_in_child(const char *policy, bool mprotect_dance)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, NPAGES);
	struct gup_page *pipe[NPAGES];
	struct fx_snap s;

	fx_fill_pages(p, a, NPAGES, OLD);
	c = fx_fork(p);

	fx_snap(w, &s);
	vmsplice_pages(c, a, NPAGES, pipe);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GET_ACQUIRED), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		/* The pipe holds the very frames parent and child share. */
		assert_int_equal(gup_page_pfn(pipe[i]), fx_pfn(p, a + i * PG));
		assert_int_equal(gup_page_mapcount(pipe[i]), 2);
		assert_int_equal(gup_page_ref_count(pipe[i]), 3);
	}
	assert_int_equal(gup_munmap(c, a, NPAGES * PG), 0);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(gup_page_mapcount(pipe[i]), 1);
		assert_int_equal(gup_page_ref_count(pipe[i]), 2);	/* parent + pipe */
	}
	fx_check(w);

	if (mprotect_dance) {
		assert_int_equal(gup_mprotect(p, a, NPAGES * PG, GUP_PROT_READ), 0);
		assert_int_equal(gup_mprotect(p, a, NPAGES * PG,
					      GUP_PROT_READ | GUP_PROT_WRITE), 0);
		/* Not exclusive (fork cleared it): mprotect must not map it writable. */
		for (unsigned i = 0; i < NPAGES; i++)
			assert_false(pte_writable(p, a + i * PG));
	}

	fx_snap(w, &s);
	fx_fill_pages(p, a, NPAGES, NEW);
	assert_true(task_reads(p, a, NPAGES, NEW));
	if (fx_policy_is_new(policy)) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), NPAGES);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
		for (unsigned i = 0; i < NPAGES; i++)
			assert_int_not_equal(fx_pfn(p, a + i * PG), gup_page_pfn(pipe[i]));
		/* No leak from parent into child. */
		assert_true(held_have(pipe, NPAGES, a, OLD));
	} else {
		/* CVE-2020-29374: the parent wrote into the pages the child's pipe holds. */
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), NPAGES);
		for (unsigned i = 0; i < NPAGES; i++)
			assert_int_equal(fx_pfn(p, a + i * PG), gup_page_pfn(pipe[i]));
		assert_false(held_have(pipe, NPAGES, a, OLD));
		assert_true(held_have(pipe, NPAGES, a, NEW));
	}
	fx_check(w);

	put_pages(pipe, NPAGES);
	fx_check(w);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}

static void a03_vmsplice_unmap_in_child(const char *policy)
{
	vmsplice_in_child(policy, false);
}
FX_PER_POLICY(a03_vmsplice_unmap_in_child)

static void a04_vmsplice_unmap_in_child_mprotect(const char *policy)
{
	vmsplice_in_child(policy, true);
}
FX_PER_POLICY(a04_vmsplice_unmap_in_child_mprotect)

/* ------------------------------------------------------------------------ */
/* A5, A6: vmsplice() in the parent, unmap in the parent after fork()       */
/* ------------------------------------------------------------------------ */

/*
 * cow.c A5 "vmsplice() before fork(), unmap in parent after fork()" and A6
 * "vmsplice() + unmap in parent after fork()": the parent's pipe holds the pages,
 * the parent unmaps them, the child writes.  The pipe must show the old data ("No
 * leak from child into parent").
 *
 * A FOLL_GET reference is not a pin: fork shares the page either way.
 * linux-6.x: the child's write sees a non-exclusive page with an extra reference
 * and copies.  linux-2.6.29: the child is the only mapper left, mapcount == 1
 * reuses, and the child's write lands in the parent's pipe (the same
 * CVE-2020-29374 class of leak, in the other direction).
 */
static void vmsplice_in_parent(const char *policy, bool before_fork)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, NPAGES);
	struct gup_page *pipe[NPAGES];
	struct fx_snap s;

	fx_fill_pages(p, a, NPAGES, OLD);
	if (before_fork)
		vmsplice_pages(p, a, NPAGES, pipe);
	fx_snap(w, &s);
	c = fx_fork(p);
	/* Not maybe-pinned: shared COW, not copied early. */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), NPAGES);
	if (!before_fork)
		vmsplice_pages(p, a, NPAGES, pipe);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(gup_page_pfn(pipe[i]), fx_pfn(c, a + i * PG));
		assert_false(gup_page_anon_exclusive(pipe[i]));
	}
	assert_int_equal(gup_munmap(p, a, NPAGES * PG), 0);
	fx_check(w);

	fx_snap(w, &s);
	fx_fill_pages(c, a, NPAGES, NEW);
	assert_true(task_reads(c, a, NPAGES, NEW));
	if (fx_policy_is_new(policy)) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), NPAGES);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), 0);
		/* No leak from child into parent. */
		assert_true(held_have(pipe, NPAGES, a, OLD));
	} else {
		/* The child's write reused the page the parent's pipe still holds. */
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), NPAGES);
		for (unsigned i = 0; i < NPAGES; i++)
			assert_int_equal(fx_pfn(c, a + i * PG), gup_page_pfn(pipe[i]));
		assert_true(held_have(pipe, NPAGES, a, NEW));
	}
	fx_check(w);

	put_pages(pipe, NPAGES);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}

static void a05_vmsplice_before_fork_unmap_in_parent(const char *policy)
{
	vmsplice_in_parent(policy, true);
}
FX_PER_POLICY(a05_vmsplice_before_fork_unmap_in_parent)

static void a06_vmsplice_unmap_in_parent_after_fork(const char *policy)
{
	vmsplice_in_parent(policy, false);
}
FX_PER_POLICY(a06_vmsplice_unmap_in_parent_after_fork)

/* ------------------------------------------------------------------------ */
/* A7: R/O-mapping a page registered as io_uring fixed buffer               */
/* ------------------------------------------------------------------------ */

/*
 * cow.c A7: register the range as an io_uring fixed buffer (a R/W long-term
 * pin), mprotect it RO and back RW, write, write_fixed and compare: "Longterm R/W
 * pin is reliable".  The pinned pages are exclusive, so the write must land in
 * them (linux_anchor 1.10, 1.11: an exclusive page is reused unconditionally;
 * linux-6.x's mprotect even maps them writable again at once).
 */
static void a07_iouring_ro_mapping__linux6(void **state)
{
	struct gup_world *w = world_new(FX_POLICY_NEW);
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, NPAGES);
	struct gup_page *buf[NPAGES];
	struct fx_snap s;

	(void)state;
	fx_fill_pages(t, a, NPAGES, OLD);
	fx_snap(w, &s);
	assert_int_equal(gup_pin_user_pages_fast(t, a, NPAGES, GUP_FOLL_WRITE | GUP_FOLL_LONGTERM,
						 buf), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_PIN_ACQUIRED) -
			 fx_delta(w, &s, GUP_STAT_PIN_RELEASED), NPAGES);
	/* Private anon memory is movable: the long-term pin migrated it. */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_LONGTERM_MIGRATE), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_true(gup_page_maybe_dma_pinned(buf[i]));
		assert_true(gup_page_anon_exclusive(buf[i]));
		assert_false(gup_page_movable(buf[i]));
		assert_int_equal(gup_page_pfn(buf[i]), fx_pfn(t, a + i * PG));
	}
	assert_true(held_have(buf, NPAGES, a, OLD));
	fx_check(w);

	assert_int_equal(gup_mprotect(t, a, NPAGES * PG, GUP_PROT_READ), 0);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_false(pte_writable(t, a + i * PG));
	assert_int_equal(gup_store(t, a, "x", 1), -EFAULT);
	assert_int_equal(gup_mprotect(t, a, NPAGES * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	/* The mprotect() optimization: exclusive pages are writable again at once. */
	for (unsigned i = 0; i < NPAGES; i++)
		assert_true(pte_writable(t, a + i * PG));

	fx_snap(w, &s);
	fx_fill_pages(t, a, NPAGES, NEW);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_int_equal(gup_page_pfn(buf[i]), fx_pfn(t, a + i * PG));
	/* Longterm R/W pin is reliable. */
	assert_true(held_have(buf, NPAGES, a, NEW));
	assert_true(pins_match_memory(t, a, buf, NPAGES));
	fx_check(w);

	gup_unpin_user_pages(buf, NPAGES);
	fx_check(w);
	gup_task_exit(t);
	world_end(w);
}

/* ------------------------------------------------------------------------ */
/* A8: fork() with an io_uring fixed buffer                                 */
/* ------------------------------------------------------------------------ */

/*
 * cow.c A8: register a fixed buffer, fork (the child stays alive), the parent
 * writes, write_fixed and compare: "Longterm R/W pin is reliable".
 *
 * linux-6.x: fork copies the maybe-pinned exclusive pages for the child and
 * leaves the parent's PTEs writable (linux_anchor 1.12), so the parent's write
 * lands in the pinned pages, and a DMA write shows in the parent only.
 *
 * linux-2.6.29: fork shares the pinned pages; the parent's write COWs them away,
 * so the pinned frames (where the device reads and writes) now belong to the
 * child: the parent's data never reaches the device, the device's writes leak
 * into the child - the fork-vs-GUP bug of seed 004 (race R1).
 */
static void a08_fork_with_iouring(const char *policy)
{
	struct gup_world *w = world_new(policy);
	struct gup_task *p = fx_task_new(w), *c;
	uint64_t a = fx_map_private(p, NPAGES);
	struct gup_page *buf[NPAGES];
	int64_t pinned[NPAGES];
	struct fx_snap s;

	fx_fill_pages(p, a, NPAGES, OLD);
	assert_int_equal(gup_pin_user_pages_fast(p, a, NPAGES, GUP_FOLL_WRITE | GUP_FOLL_LONGTERM,
						 buf), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		pinned[i] = (int64_t)gup_page_pfn(buf[i]);
		assert_int_equal(fx_pfn(p, a + i * PG), pinned[i]);
		assert_true(gup_page_anon_exclusive(buf[i]));
	}

	fx_snap(w, &s);
	c = fx_fork(p);
	assert_true(task_reads(c, a, NPAGES, OLD));
	if (fx_policy_is_new(policy)) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), NPAGES);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), 0);
		for (unsigned i = 0; i < NPAGES; i++) {
			assert_int_equal(fx_pfn(p, a + i * PG), pinned[i]);
			assert_true(pte_writable(p, a + i * PG));
			assert_true(gup_page_anon_exclusive(buf[i]));
			assert_int_equal(gup_page_mapcount(buf[i]), 1);
			assert_int_not_equal(fx_pfn(c, a + i * PG), pinned[i]);
		}
	} else {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), NPAGES);
		for (unsigned i = 0; i < NPAGES; i++) {
			assert_int_equal(fx_pfn(c, a + i * PG), pinned[i]);
			assert_false(pte_writable(p, a + i * PG));
			assert_int_equal(gup_page_mapcount(buf[i]), 2);
		}
	}
	fx_check(w);

	fx_snap(w, &s);
	fx_fill_pages(p, a, NPAGES, NEW);
	assert_true(task_reads(c, a, NPAGES, OLD));	/* no leak into the child */
	if (fx_policy_is_new(policy)) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_WP), 0);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
		/* Longterm R/W pin is reliable. */
		assert_true(held_have(buf, NPAGES, a, NEW));
		assert_true(pins_match_memory(p, a, buf, NPAGES));
	} else {
		/* Seed 004 R1: the parent's write went to a copy; the pin is stale. */
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), NPAGES);
		for (unsigned i = 0; i < NPAGES; i++) {
			assert_int_not_equal(fx_pfn(p, a + i * PG), pinned[i]);
			assert_int_equal(fx_pfn(c, a + i * PG), pinned[i]);
		}
		assert_true(held_have(buf, NPAGES, a, OLD));
		assert_false(pins_match_memory(p, a, buf, NPAGES));
	}
	fx_check(w);

	/* The device writes into the buffer. */
	dma_write(buf, NPAGES, a, DEV);
	if (fx_policy_is_new(policy)) {
		assert_true(task_reads(p, a, NPAGES, DEV));
		assert_true(task_reads(c, a, NPAGES, OLD));
	} else {
		/* The DMA leaks into the child and is lost for the parent. */
		assert_true(task_reads(c, a, NPAGES, DEV));
		assert_true(task_reads(p, a, NPAGES, NEW));
	}

	gup_unpin_user_pages(buf, NPAGES);
	fx_check(w);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}
FX_PER_POLICY(a08_fork_with_iouring)

/* ------------------------------------------------------------------------ */
/* A9-A14: R/O GUP pins on R/O-mapped pages                                 */
/* ------------------------------------------------------------------------ */

enum ro_pin_mode {
	RO_PIN_SHARED,		/* A9/A10: COW-shared with a live child          */
	RO_PIN_PREV_SHARED,	/* A11/A12: the child exited before the pin      */
	RO_PIN_EXCLUSIVE,	/* A13/A14: exclusive, but mapped R/O            */
};

/*
 * cow.c A9-A14 (do_test_ro_pin): a R/O long-term pin of R/O-mapped pages, then a
 * write through the PTE, then PIN_LONGTERM_TEST_READ: the pin must see the write
 * ("Longterm R/O pin is reliable").
 *
 * linux-6.x: a R/O pin of a page that is not anon-exclusive unshares it first
 * (FAULT_FLAG_UNSHARE, linux_anchor 1.10): copied if still shared, made exclusive
 * if not; the PTE stays R/O.  The later write fault then reuses the exclusive
 * page unconditionally (1.11).  gup-fast cannot unshare and falls back (1.13).
 *
 * linux-2.6.29 (shared case only): GUP pins the shared page as is, the parent's
 * write copies it away (mapcount 2), and the pin keeps reading stale data - the
 * R/O-pin flavour of the seed 004 bug that cow.c's A9/A10 were written for.
 *
 * A13/A14 need an exclusive page mapped R/O.  cow.c gets one with mprotect RO +
 * clear_softdirty() + mprotect RW; soft-dirty is not modelled, so here the page
 * is pinned while the VMA is PROT_READ, and made writable again afterwards.
 */
static void ro_pin_zones(const char *policy, enum ro_pin_mode mode, bool fast, bool movable)
{
	bool new_policy = fx_policy_is_new(policy);
	struct gup_world *w = world_new_zones(policy, movable ? NR_MOVABLE : 0);
	struct gup_task *p = fx_task_new(w), *c = NULL;
	uint64_t a = fx_map_private(p, NPAGES);
	struct gup_page *pins[NPAGES];
	int64_t before[NPAGES];
	struct fx_snap s;

	fx_fill_pages(p, a, NPAGES, OLD);
	switch (mode) {
	case RO_PIN_SHARED:
		c = fx_fork(p);
		break;
	case RO_PIN_PREV_SHARED:
		gup_task_exit(fx_fork(p));
		break;
	case RO_PIN_EXCLUSIVE:
		assert_int_equal(gup_mprotect(p, a, NPAGES * PG, GUP_PROT_READ), 0);
		break;
	}
	for (unsigned i = 0; i < NPAGES; i++) {
		struct page *pg = fx_page_at(p, a + i * PG);

		before[i] = fx_pfn(p, a + i * PG);
		assert_false(pte_writable(p, a + i * PG));
		assert_int_equal(PageAnonExclusive(pg), mode == RO_PIN_EXCLUSIVE);
		assert_int_equal(page_mapcount(pg), mode == RO_PIN_SHARED ? 2 : 1);
	}
	fx_check(w);

	fx_snap(w, &s);
	assert_int_equal(pin_longterm(p, a, NPAGES, 0, fast, pins), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_true(gup_page_maybe_dma_pinned(pins[i]));
		assert_false(pte_writable(p, a + i * PG));	/* unshare never grants write */
	}
	assert_true(held_have(pins, NPAGES, a, OLD));
	if (new_policy) {
		uint64_t unshare = fx_delta(w, &s, GUP_STAT_FAULT_UNSHARE);

		for (unsigned i = 0; i < NPAGES; i++) {
			assert_true(gup_page_anon_exclusive(pins[i]));
			assert_int_equal(gup_page_mapcount(pins[i]), 1);
			assert_false(gup_page_movable(pins[i]));
			assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(p, a + i * PG));
			if (c)
				assert_int_equal(fx_pfn(c, a + i * PG), before[i]);
		}
		switch (mode) {
		case RO_PIN_SHARED:
			assert_int_equal(unshare, NPAGES);
			assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), NPAGES);
			break;
		case RO_PIN_PREV_SHARED:
			assert_int_equal(unshare, NPAGES);
			assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_REUSE), NPAGES);
			assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), 0);
			break;
		case RO_PIN_EXCLUSIVE:
			assert_int_equal(unshare, 0);
			break;
		}
		assert_int_equal(fx_delta(w, &s, GUP_STAT_LONGTERM_MIGRATE),
				 movable ? NPAGES : 0);
		if (fast && (movable || mode != RO_PIN_EXCLUSIVE)) {
			/*
			 * Movable, or not exclusive (gup_must_unshare, checked after
			 * the grab): gup-fast leaves it all to the slow path.
			 */
			assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_FALLBACK), 1);
			assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_PAGES), 0);
		} else if (fast) {
			/* Exclusive and long-term pinnable: no fallback needed. */
			assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_FALLBACK), 0);
			assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_PAGES), NPAGES);
		}
	} else {
		/* 2.6.29 has no unshare: the shared pages themselves are pinned. */
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_UNSHARE), 0);
		for (unsigned i = 0; i < NPAGES; i++) {
			assert_int_equal(gup_page_pfn(pins[i]), before[i]);
			assert_int_equal(gup_page_mapcount(pins[i]), 2);
		}
	}
	fx_check(w);

	if (mode == RO_PIN_EXCLUSIVE) {
		assert_int_equal(gup_mprotect(p, a, NPAGES * PG,
					      GUP_PROT_READ | GUP_PROT_WRITE), 0);
		for (unsigned i = 0; i < NPAGES; i++)
			assert_true(pte_writable(p, a + i * PG));
	}

	fx_snap(w, &s);
	fx_fill_pages(p, a, NPAGES, NEW);
	if (c)
		assert_true(task_reads(c, a, NPAGES, OLD));
	if (new_policy) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
		for (unsigned i = 0; i < NPAGES; i++)
			assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(p, a + i * PG));
		/* Longterm R/O pin is reliable. */
		assert_true(held_have(pins, NPAGES, a, NEW));
		assert_true(pins_match_memory(p, a, pins, NPAGES));
	} else {
		/* The write COWed the pinned pages away: the pin reads stale data. */
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), NPAGES);
		assert_true(held_have(pins, NPAGES, a, OLD));
		assert_false(pins_match_memory(p, a, pins, NPAGES));
	}
	fx_check(w);

	gup_unpin_user_pages(pins, NPAGES);
	fx_check(w);
	if (c)
		gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}

static void ro_pin(const char *policy, enum ro_pin_mode mode, bool fast)
{
	ro_pin_zones(policy, mode, fast, fx_policy_is_new(policy));
}

/* cow.c A9: R/O GUP pin on R/O-mapped shared page. */
static void a09_ro_pin_shared(const char *policy)
{
	ro_pin(policy, RO_PIN_SHARED, false);
}
FX_PER_POLICY(a09_ro_pin_shared)

/* cow.c A10: R/O GUP-fast pin on R/O-mapped shared page. */
static void a10_ro_fast_pin_shared(const char *policy)
{
	ro_pin(policy, RO_PIN_SHARED, true);
}
FX_PER_POLICY(a10_ro_fast_pin_shared)

/* cow.c A11: R/O GUP pin on R/O-mapped previously-shared page. */
static void a11_ro_pin_prev_shared__linux6(void **state)
{
	(void)state;
	ro_pin(FX_POLICY_NEW, RO_PIN_PREV_SHARED, false);
}

/* cow.c A12: R/O GUP-fast pin on R/O-mapped previously-shared page. */
static void a12_ro_fast_pin_prev_shared__linux6(void **state)
{
	(void)state;
	ro_pin(FX_POLICY_NEW, RO_PIN_PREV_SHARED, true);
}

/* cow.c A13: R/O GUP pin on R/O-mapped exclusive page. */
static void a13_ro_pin_exclusive__linux6(void **state)
{
	(void)state;
	ro_pin(FX_POLICY_NEW, RO_PIN_EXCLUSIVE, false);
}

/* cow.c A14: R/O GUP-fast pin on R/O-mapped exclusive page. */
static void a14_ro_fast_pin_exclusive__linux6(void **state)
{
	(void)state;
	ro_pin(FX_POLICY_NEW, RO_PIN_EXCLUSIVE, true);
}

/*
 * The GUP-fast cases again in a world without ZONE_MOVABLE, so that gup-fast
 * itself must decide (nothing to migrate): it grabs, then must drop a page that
 * is not exclusive (A10, A12: grab-then-recheck of gup_must_unshare, linux_anchor
 * 1.13) and may keep an exclusive one (A14).
 */
static void a10_ro_fast_pin_shared_normal_zone__linux6(void **state)
{
	(void)state;
	ro_pin_zones(FX_POLICY_NEW, RO_PIN_SHARED, true, false);
}

static void a12_ro_fast_pin_prev_shared_normal_zone__linux6(void **state)
{
	(void)state;
	ro_pin_zones(FX_POLICY_NEW, RO_PIN_PREV_SHARED, true, false);
}

static void a14_ro_fast_pin_exclusive_normal_zone__linux6(void **state)
{
	(void)state;
	ro_pin_zones(FX_POLICY_NEW, RO_PIN_EXCLUSIVE, true, false);
}

/* ------------------------------------------------------------------------ */
/* C: non-anonymous pages in private mappings                               */
/* ------------------------------------------------------------------------ */

/*
 * cow.c C "Basic COW ... with shared zeropage": two private mappings read-faulted
 * (both map the shared zero page); a write through one must leave the other, and
 * the zero page itself, untouched ("Other mapping not modified").
 */
static void c_basic_cow_zeropage__linux6(void **state)
{
	struct gup_world *w = world_new(FX_POLICY_NEW);
	struct gup_task *t = fx_task_new(w);
	uint64_t mem = fx_map_private(t, NPAGES), smem = fx_map_private(t, NPAGES);
	struct fx_snap s;

	(void)state;
	fx_check_zero_pages(t, mem, NPAGES);
	fx_check_zero_pages(t, smem, NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_int_equal(fx_pfn(t, mem + i * PG), 0);
		assert_int_equal(fx_pfn(t, smem + i * PG), 0);
	}
	fx_snap(w, &s);
	fx_fill_pages(t, mem, NPAGES, NEW);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_ZERO), NPAGES);
	assert_true(task_reads(t, mem, NPAGES, NEW));
	fx_check_zero_pages(t, smem, NPAGES);		/* other mapping not modified */
	assert_true(fx_frame_is_zero(w, pfn_to_page(&w->arena, ZERO_PFN)));
	for (unsigned i = 0; i < NPAGES; i++)
		assert_int_equal(fx_pfn(t, smem + i * PG), 0);
	fx_check(w);
	gup_task_exit(t);
	world_end(w);
}

/*
 * A fake file (as tests/test_file_hooks.c): a tiny page cache of unmovable pages,
 * each holding one cache reference.  That reference is accounted as an outstanding
 * FOLL_GET reference (GUP_STAT_GET_ACQUIRED/RELEASED) so that gup_world_check
 * balances while the file lives.  Page @i holds pattern OLD of address i * PG.
 */
#define FILE_PAGES	NPAGES

struct fake_file {
	struct gup_world *w;
	struct page *cache[FILE_PAGES];
};

static unsigned fake_fault(struct vm_fault *vmf)
{
	struct fake_file *f = vmf->vma->vm_private;
	struct page *p;

	if (vmf->pgoff >= FILE_PAGES)
		return VM_FAULT_SIGBUS;
	p = f->cache[vmf->pgoff];
	if (!p) {
		p = alloc_page(f->w, GFP_KERNEL);
		if (!p)
			return VM_FAULT_OOM;
		fx_pattern_page(page_data(&f->w->arena, p), OLD, vmf->pgoff * PG);
		write_once_u64(&p->count, PAGE_REF_ONE);	/* the cache's reference */
		write_once_u64(&p->index, vmf->pgoff);
		count_vm_event(f->w, GUP_STAT_GET_ACQUIRED);
		f->cache[vmf->pgoff] = p;
	}
	get_page(p);	/* the reference vmf->page hands to the fault path */
	vmf->page = p;
	return 0;
}

static const struct vm_operations fake_ops = {
	.fault = fake_fault,
	.name = "fake-memfd",
};

/* Map the fake file at a free address of @t's mm; returns the address. */
static uint64_t map_fake(struct gup_task *t, struct fake_file *f, bool shared)
{
	struct gup_mm *mm = gup_task_mm(t);
	uint64_t addr = fx_map_private(t, FILE_PAGES);	/* reserve a free range */
	struct gup_vma *vma;

	assert_int_equal(gup_munmap(t, addr, FILE_PAGES * PG), 0);
	mmap_write_lock(mm);
	vma = vma_alloc(mm);
	assert_non_null(vma);
	vma->node.start = addr;
	vma->node.end = addr + FILE_PAGES * PG;
	vma->vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE |
			(shared ? VM_SHARED | VM_MAYSHARE : 0);
	vma->vm_ops = &fake_ops;
	vma->vm_private = f;
	assert_int_equal(vma_link(mm, vma), 0);
	mmap_write_unlock(mm);
	return addr;
}

static void drop_cache(struct fake_file *f)
{
	for (unsigned i = 0; i < FILE_PAGES; i++)
		if (f->cache[i]) {
			assert_int_equal(page_mapcount(f->cache[i]), 0);
			assert_int_equal(page_ref_count(f->cache[i]), 1);
			put_page(f->w, f->cache[i]);
			count_vm_event(f->w, GUP_STAT_GET_RELEASED);
			f->cache[i] = NULL;
		}
}

/*
 * cow.c C "Basic COW ... with memfd": a private and a shared mapping of the same
 * file; a write through the private one gets anon copies and must not show in
 * the shared one ("Other mapping not modified").
 */
static void c_basic_cow_memfd__linux6(void **state)
{
	struct gup_world *w = world_new(FX_POLICY_NEW);
	struct fake_file f = { .w = w };
	struct gup_task *t = fx_task_new(w);
	uint64_t mem = map_fake(t, &f, false), smem = map_fake(t, &f, true);
	struct fx_snap s;

	(void)state;
	fx_check(w);
	fx_snap(w, &s);
	fx_fill_pages(t, mem, FILE_PAGES, NEW);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), FILE_PAGES);
	assert_true(task_reads(t, mem, FILE_PAGES, NEW));
	for (unsigned i = 0; i < FILE_PAGES; i++) {
		uint8_t want[PG], got[PG];

		assert_true(PageAnon(fx_page_at(t, mem + i * PG)));
		fx_pattern_page(want, OLD, i * PG);
		assert_int_equal(gup_load(t, smem + i * PG, got, PG), 0);
		assert_memory_equal(got, want, PG);	/* other mapping not modified */
		assert_ptr_equal(fx_page_at(t, smem + i * PG), f.cache[i]);
	}
	fx_check(w);
	gup_task_exit(t);
	drop_cache(&f);
	world_end(w);
}

/*
 * cow.c C "R/O longterm GUP pin ... with shared zeropage" / "R/O longterm GUP-fast
 * pin ...": read-fault a private anon range (the zero page), R/O long-term pin
 * it, write through the PTE, read through the pin: the pin must see the write.
 *
 * linux-6.x: a R/O long-term pin of a non-anon page (here the zero page) in a COW
 * mapping must break COW at pin time (gup_must_unshare's non-anon branch,
 * linux_anchor 1.10): each pin is a fresh exclusive anon page, mapped R/O, that
 * the later write reuses.
 *
 * linux-2.6.29: the zero page itself is "pinned" (nothing counted, linux_anchor
 * 1.6), the write COWs it into a new page, and the pin keeps reading zeroes.
 */
static void c_ro_longterm_pin_zeropage(const char *policy, bool fast)
{
	bool new_policy = fx_policy_is_new(policy);
	struct gup_world *w = world_new(policy);
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, NPAGES);
	struct gup_page *pins[NPAGES];
	struct fx_snap s;

	fx_check_zero_pages(t, a, NPAGES);
	fx_snap(w, &s);
	assert_int_equal(pin_longterm(t, a, NPAGES, 0, fast, pins), NPAGES);
	assert_true(held_zero(pins, NPAGES));
	if (new_policy) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), NPAGES);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_PIN_ACQUIRED) -
				 fx_delta(w, &s, GUP_STAT_PIN_RELEASED), NPAGES);
		for (unsigned i = 0; i < NPAGES; i++) {
			assert_false(gup_page_is_zero(pins[i]));
			assert_true(gup_page_anon_exclusive(pins[i]));
			assert_true(gup_page_maybe_dma_pinned(pins[i]));
			assert_false(gup_page_movable(pins[i]));
			assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(t, a + i * PG));
			assert_false(pte_writable(t, a + i * PG));
		}
	} else {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT_UNSHARE), 0);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_PIN_ACQUIRED), 0);
		for (unsigned i = 0; i < NPAGES; i++) {
			assert_true(gup_page_is_zero(pins[i]));
			assert_int_equal(fx_pfn(t, a + i * PG), 0);
		}
	}
	fx_check(w);

	fx_snap(w, &s);
	fx_fill_pages(t, a, NPAGES, NEW);
	if (new_policy) {
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), NPAGES);
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_ZERO), 0);
		/* Longterm R/O pin is reliable. */
		assert_true(held_have(pins, NPAGES, a, NEW));
		assert_true(pins_match_memory(t, a, pins, NPAGES));
	} else {
		/* The write COWed the zero page: the "pin" never sees it. */
		assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_ZERO), NPAGES);
		assert_true(held_zero(pins, NPAGES));
		assert_false(pins_match_memory(t, a, pins, NPAGES));
	}
	assert_true(fx_frame_is_zero(w, pfn_to_page(&w->arena, ZERO_PFN)));
	fx_check(w);

	gup_unpin_user_pages(pins, NPAGES);
	fx_check(w);
	gup_task_exit(t);
	world_end(w);
}

static void c_ro_longterm_pin_zeropage_slow(const char *policy)
{
	c_ro_longterm_pin_zeropage(policy, false);
}
FX_PER_POLICY(c_ro_longterm_pin_zeropage_slow)

static void c_ro_longterm_pin_zeropage_fast(const char *policy)
{
	c_ro_longterm_pin_zeropage(policy, true);
}
FX_PER_POLICY(c_ro_longterm_pin_zeropage_fast)

/* ------------------------------------------------------------------------ */
/* fork() with real pins (linux_anchor 1.12)                                */
/* ------------------------------------------------------------------------ */

/*
 * Pages pinned with gup_pin_user_pages_fast (R/W and R/O, not long-term) are
 * copied for the child at fork; the parent's PTEs stay writable on the same
 * frames, and pinned pages stay anon-exclusive for as long as they are pinned
 * (linux_anchor 1.10: "PageAnonExclusive() will stick around"), through a
 * mprotect dance and repeated forks.  Unpinned pages are shared as usual, and
 * once the pins are gone the next fork shares the formerly pinned pages too
 * (MMF_HAS_PINNED is sticky, but the page is no longer maybe-pinned).
 */
#define FP_RW		2	/* pages [0, 2) pinned R/W              */
#define FP_RO		2	/* pages [2, 4) pinned R/O              */
#define FP_PAGES	6	/* pages [4, 6) never pinned            */
#define FP_PINNED	(FP_RW + FP_RO)

static void fork_real_pins__linux6(void **state)
{
	struct gup_world *w = world_new(FX_POLICY_NEW);
	struct gup_task *p = fx_task_new(w), *c, *c2;
	uint64_t a = fx_map_private(p, FP_PAGES);
	struct gup_page *pins[FP_PINNED];
	int64_t pfn[FP_PAGES];
	struct fx_snap s;

	(void)state;
	fx_fill_pages(p, a, FP_PAGES, OLD);
	fx_snap(w, &s);
	assert_int_equal(gup_pin_user_pages_fast(p, a, FP_RW, GUP_FOLL_WRITE, pins), FP_RW);
	assert_int_equal(gup_pin_user_pages_fast(p, a + FP_RW * PG, FP_RO, 0, pins + FP_RW),
			 FP_RO);
	/* Present, writable, exclusive, not long-term: all served locklessly. */
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_PAGES), FP_PINNED);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_FALLBACK), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_LONGTERM_MIGRATE), 0);
	for (unsigned i = 0; i < FP_PAGES; i++)
		pfn[i] = fx_pfn(p, a + i * PG);
	for (unsigned i = 0; i < FP_PINNED; i++) {
		assert_int_equal(gup_page_pfn(pins[i]), pfn[i]);
		assert_int_equal(gup_page_ref_count(pins[i]), 1 + 1024);
		assert_true(gup_page_anon_exclusive(pins[i]));
		assert_true(gup_page_movable(pins[i]));	/* short-term: not migrated */
	}

	fx_snap(w, &s);
	c = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), FP_PINNED);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), FP_PAGES - FP_PINNED);
	for (unsigned i = 0; i < FP_PAGES; i++) {
		uint64_t pa = a + i * PG;

		assert_int_equal(fx_pfn(p, pa), pfn[i]);
		if (i < FP_PINNED) {
			assert_true(pte_writable(p, pa));
			assert_true(gup_page_anon_exclusive(pins[i]));
			assert_int_equal(gup_page_mapcount(pins[i]), 1);
			assert_int_not_equal(fx_pfn(c, pa), pfn[i]);
			assert_true(pte_writable(c, pa));
			assert_true(PageAnonExclusive(fx_page_at(c, pa)));
		} else {
			assert_false(pte_writable(p, pa));
			assert_int_equal(fx_pfn(c, pa), pfn[i]);
			assert_false(PageAnonExclusive(fx_page_at(p, pa)));
		}
	}
	assert_true(task_reads(c, a, FP_PAGES, OLD));
	fx_check(w);

	/* The parent writes: no fault on the pinned pages, the pins see it all. */
	fx_snap(w, &s);
	fx_fill_pages(p, a, FP_PINNED, NEW);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FAULT), 0);
	assert_true(held_have(pins, FP_PINNED, a, NEW));
	assert_true(task_reads(c, a, FP_PAGES, OLD));

	/* mprotect RO and back RW: still exclusive, writable again at once. */
	assert_int_equal(gup_mprotect(p, a, FP_PAGES * PG, GUP_PROT_READ), 0);
	assert_int_equal(gup_mprotect(p, a, FP_PAGES * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	for (unsigned i = 0; i < FP_PINNED; i++) {
		assert_true(gup_page_anon_exclusive(pins[i]));
		assert_true(pte_writable(p, a + i * PG));
	}

	/* A second fork while still pinned: copied again. */
	fx_snap(w, &s);
	c2 = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), FP_PINNED);
	for (unsigned i = 0; i < FP_PINNED; i++) {
		assert_true(gup_page_anon_exclusive(pins[i]));
		assert_int_equal(fx_pfn(p, a + i * PG), pfn[i]);
	}
	assert_true(task_reads(c2, a, FP_PINNED, NEW));
	fx_check(w);
	gup_task_exit(c2);

	/* Unpinned: exclusive still (nothing shared them), but no longer copied. */
	gup_unpin_user_pages(pins, FP_PINNED);
	for (unsigned i = 0; i < FP_PINNED; i++) {
		assert_false(gup_page_maybe_dma_pinned(pins[i]));
		assert_true(PageAnonExclusive(fx_page_at(p, a + i * PG)));
	}
	assert_true(test_bit(MMF_HAS_PINNED, &gup_task_mm(p)->flags));	/* sticky */
	fx_snap(w, &s);
	c2 = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PTE_SHARED), FP_PAGES);
	for (unsigned i = 0; i < FP_PINNED; i++) {
		assert_int_equal(fx_pfn(c2, a + i * PG), pfn[i]);
		assert_false(PageAnonExclusive(fx_page_at(p, a + i * PG)));
		assert_false(pte_writable(p, a + i * PG));
	}
	fx_check(w);

	gup_task_exit(c2);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}

/*
 * A R/O pin of a COW-shared page unshares it (linux_anchor 1.10) and the page
 * stays exclusive while pinned: a later fork copies it for the child instead of
 * sharing it again, and the parent's write is seen through the pin.
 */
static void fork_ro_pin_after_unshare__linux6(void **state)
{
	struct gup_world *w = world_new(FX_POLICY_NEW);
	struct gup_task *p = fx_task_new(w), *c, *c2;
	uint64_t a = fx_map_private(p, NPAGES);
	struct gup_page *pins[NPAGES];
	struct fx_snap s;

	(void)state;
	fx_fill_pages(p, a, NPAGES, OLD);
	c = fx_fork(p);
	fx_snap(w, &s);
	assert_int_equal(gup_pin_user_pages_fast(p, a, NPAGES, 0, pins), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_UNSHARE_COPY), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_FALLBACK), 1);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_true(gup_page_anon_exclusive(pins[i]));
		assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(p, a + i * PG));
		assert_int_not_equal(fx_pfn(c, a + i * PG), fx_pfn(p, a + i * PG));
		assert_false(pte_writable(p, a + i * PG));
	}
	fx_check(w);

	fx_snap(w, &s);
	c2 = fx_fork(p);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_FORK_PAGE_COPIED), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_true(gup_page_anon_exclusive(pins[i]));
		assert_int_not_equal(fx_pfn(c2, a + i * PG), gup_page_pfn(pins[i]));
	}
	fx_snap(w, &s);
	fx_fill_pages(p, a, NPAGES, NEW);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_REUSE), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_true(held_have(pins, NPAGES, a, NEW));
	assert_true(task_reads(c, a, NPAGES, OLD));
	assert_true(task_reads(c2, a, NPAGES, OLD));
	fx_check(w);

	gup_unpin_user_pages(pins, NPAGES);
	gup_task_exit(c2);
	gup_task_exit(c);
	gup_task_exit(p);
	world_end(w);
}

/* ------------------------------------------------------------------------ */
/* gup-fast FOLL_PIN backs off while fork write-protects (linux_anchor 1.13) */
/* ------------------------------------------------------------------------ */

/*
 * While mm->write_protect_seq is odd (fork is write-protecting), gup-fast must
 * not take pins: pin_user_pages_fast falls back to the slow path, which here
 * succeeds because nobody holds the mmap lock (a real fork would, and the
 * fallback would wait for it).  FOLL_GET is not affected.  Once the sequence is
 * even again, pins are taken locklessly.
 */
static void fast_pin_backs_off_during_fork__linux6(void **state)
{
	struct gup_world *w = world_new(FX_POLICY_NEW);
	struct gup_task *t = fx_task_new(w);
	struct gup_mm *mm = gup_task_mm(t);
	uint64_t a = fx_map_private(t, NPAGES);
	struct gup_page *pins[NPAGES], *refs[NPAGES];
	struct fx_snap s;

	(void)state;
	fx_fill_pages(t, a, NPAGES, OLD);

	raw_write_seqcount_begin(&mm->write_protect_seq);
	fx_snap(w, &s);
	assert_int_equal(gup_pin_user_pages_fast(t, a, NPAGES, GUP_FOLL_WRITE, pins), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_FALLBACK), 1);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_PAGES), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_SLOW_PAGES), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_PIN_ACQUIRED), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_PIN_RELEASED), 0);

	/* FOLL_GET does not look at write_protect_seq. */
	fx_snap(w, &s);
	assert_int_equal(gup_get_user_pages_fast(t, a, NPAGES, 0, refs), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_FALLBACK), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_PAGES), NPAGES);
	raw_write_seqcount_end(&mm->write_protect_seq);
	put_pages(refs, NPAGES);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(t, a + i * PG));
	assert_true(held_have(pins, NPAGES, a, OLD));
	gup_unpin_user_pages(pins, NPAGES);
	fx_check(w);

	/* Even again: the pin is lockless. */
	fx_snap(w, &s);
	assert_int_equal(gup_pin_user_pages_fast(t, a, NPAGES, GUP_FOLL_WRITE, pins), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_FALLBACK), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_PAGES), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_SLOW_PAGES), 0);
	gup_unpin_user_pages(pins, NPAGES);
	fx_check(w);

	gup_task_exit(t);
	world_end(w);
}

int main(void)
{
	const struct CMUnitTest gup_cow[] = {
		cmocka_unit_test(a01_basic_cow__linux6),
		cmocka_unit_test(a02_basic_cow_mprotect__linux6),
		FX_POLICY_TESTS(a03_vmsplice_unmap_in_child),
		FX_POLICY_TESTS(a04_vmsplice_unmap_in_child_mprotect),
		FX_POLICY_TESTS(a05_vmsplice_before_fork_unmap_in_parent),
		FX_POLICY_TESTS(a06_vmsplice_unmap_in_parent_after_fork),
		cmocka_unit_test(a07_iouring_ro_mapping__linux6),
		FX_POLICY_TESTS(a08_fork_with_iouring),
		FX_POLICY_TESTS(a09_ro_pin_shared),
		FX_POLICY_TESTS(a10_ro_fast_pin_shared),
		cmocka_unit_test(a11_ro_pin_prev_shared__linux6),
		cmocka_unit_test(a12_ro_fast_pin_prev_shared__linux6),
		cmocka_unit_test(a13_ro_pin_exclusive__linux6),
		cmocka_unit_test(a14_ro_fast_pin_exclusive__linux6),
		cmocka_unit_test(a10_ro_fast_pin_shared_normal_zone__linux6),
		cmocka_unit_test(a12_ro_fast_pin_prev_shared_normal_zone__linux6),
		cmocka_unit_test(a14_ro_fast_pin_exclusive_normal_zone__linux6),
		cmocka_unit_test(c_basic_cow_zeropage__linux6),
		cmocka_unit_test(c_basic_cow_memfd__linux6),
		FX_POLICY_TESTS(c_ro_longterm_pin_zeropage_slow),
		FX_POLICY_TESTS(c_ro_longterm_pin_zeropage_fast),
		cmocka_unit_test(fork_real_pins__linux6),
		cmocka_unit_test(fork_ro_pin_after_unshare__linux6),
		cmocka_unit_test(fast_pin_backs_off_during_fork__linux6),
	};

	return cmocka_run_group_tests(gup_cow, NULL, NULL);
}
