/* SPDX-License-Identifier: MIT */
/*
 * tests/test_gup_api.c - the public get_user_pages API against Linux's contract
 * (linux_anchor sections 1.1-1.8, 1.10 and 5):
 *
 *   - every entry point on populated and unpopulated private anon memory, and the
 *     release functions (put, unpin, unpin with dirtying);
 *   - return conventions: 0 pages, short counts at a hole, errors, gup-fast's
 *     range checks, rejected arguments (-EINVAL from get_* and *_fast, 0 from
 *     pin_user_pages, _remote and _unlocked);
 *   - one test per rejected flag combination (is_valid_gup_args, gup-fast's mask);
 *   - check_vma_flags: permissions, FOLL_FORCE (the Dirty COW lessons), FOLL_ANON,
 *     FOLL_DUMP, FOLL_NOFAULT, FOLL_HWPOISON, fs-DAX, VM_IO/VM_PFNMAP;
 *   - pin accounting: +1 per FOLL_GET, +1024 per pin, the zero page, MMF_HAS_PINNED;
 *   - the `locked` protocol and fault retry, with a fake file whose fault handler
 *     drops the mmap lock (VM_FAULT_RETRY / VM_FAULT_COMPLETED);
 *   - R/O pins unshare COW-shared anon pages (linux-6.x), R/O references do not;
 *   - gup_fixup_user_fault, and the 2014-2019 legacy API (gup/legacy.h).
 *
 * Internal headers are used only to build what the public API cannot yet (a VMA
 * with fake file hooks, VM_FSDAX/VM_IO/VM_PFNMAP flags) and to read MMF_HAS_PINNED
 * and lock ownership.  Flag values of rejected combinations are written as raw
 * bits so that the test does not depend on the engine's own definitions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "gup/legacy.h"
#include "gup/internal.h"
#include "mm/fault.h"
#include "world.h"

#include "common/fixture.h"

#define PG		GUP_PAGE_SIZE
#define NR_FRAMES	256
#define BIAS		1024u		/* GUP_PIN_COUNTING_BIAS, linux_anchor 1.6 */

/* External FOLL bits (linux_anchor 1.4). */
#define F_WRITE		(1u << 0)
#define F_GET		(1u << 1)
#define F_DUMP		(1u << 2)
#define F_FORCE		(1u << 3)
#define F_NOWAIT	(1u << 4)
#define F_NOFAULT	(1u << 5)
#define F_HWPOISON	(1u << 6)
#define F_ANON		(1u << 7)
#define F_LONGTERM	(1u << 8)
#define F_SPLIT_PMD	(1u << 9)
#define F_P2PDMA	(1u << 10)
#define F_INTERRUPTIBLE	(1u << 11)

/* A page handle that must never be written over by a rejected call. */
#define SENTINEL	((struct gup_page *)(uintptr_t)0x5a5a5a5a)

/* ------------------------------------------------------------------------ */
/* Environment                                                              */
/* ------------------------------------------------------------------------ */

/* A world, the task whose memory is taken, and a "tracer" task of another mm. */
struct env {
	struct gup_world *w;
	struct gup_task *t;
	struct gup_task *tr;
	struct gup_mm *mm;	/* t's mm */
};

static void env_new(struct env *e, const char *policy)
{
	e->w = fx_world_new(policy, NR_FRAMES, 0);
	e->t = fx_task_new(e->w);
	e->tr = fx_task_new(e->w);
	e->mm = gup_task_mm(e->t);
}

static void env_end(struct env *e)
{
	fx_check(e->w);
	gup_task_exit(e->tr);
	gup_task_exit(e->t);
	fx_world_end(e->w);
}

static bool has_pinned(struct gup_mm *mm)
{
	return test_bit(MMF_HAS_PINNED, &mm->flags);
}

static struct gup_page *zero_handle(struct gup_world *w)
{
	return (struct gup_page *)zero_page(w);
}

static void set_vm_flags(struct gup_mm *mm, uint64_t addr, uint32_t flags)
{
	struct gup_vma *vma;

	mmap_write_lock(mm);
	vma = vma_lookup(mm, addr);
	assert_non_null(vma);
	vma->vm_flags |= flags;
	mmap_write_unlock(mm);
}

/* The frame behind @p holds pattern @seed of address @addr. */
static void check_page_has(struct gup_page *p, unsigned seed, uint64_t addr)
{
	uint8_t want[GUP_PAGE_SIZE], got[GUP_PAGE_SIZE];

	fx_pattern_page(want, seed, addr);
	memset(got, 0x5a, sizeof(got));
	assert_int_equal(gup_page_read(p, 0, got, PG), 0);
	assert_memory_equal(got, want, PG);
}

static void check_page_zero(struct gup_page *p)
{
	uint8_t want[GUP_PAGE_SIZE], got[GUP_PAGE_SIZE];

	memset(want, 0, sizeof(want));
	memset(got, 0x5a, sizeof(got));
	assert_int_equal(gup_page_read(p, 0, got, PG), 0);
	assert_memory_equal(got, want, PG);
}

static uint64_t page_u64(struct gup_page *p, size_t off)
{
	uint64_t v = 0;

	assert_int_equal(gup_page_read(p, off, &v, sizeof(v)), 0);
	return v;
}

/* ------------------------------------------------------------------------ */
/* The entry points, called the way their lock contract wants               */
/* ------------------------------------------------------------------------ */

enum api {
	GET, GET_REMOTE, GET_REMOTE_LOCKED, GET_UNLOCKED, GET_FAST, GET_FAST_ONLY,
	PIN, PIN_REMOTE, PIN_REMOTE_LOCKED, PIN_UNLOCKED, PIN_FAST,
	NR_APIS
};

static const char *const api_names[NR_APIS] = {
	[GET] = "get_user_pages",
	[GET_REMOTE] = "get_user_pages_remote",
	[GET_REMOTE_LOCKED] = "get_user_pages_remote(locked)",
	[GET_UNLOCKED] = "get_user_pages_unlocked",
	[GET_FAST] = "get_user_pages_fast",
	[GET_FAST_ONLY] = "get_user_pages_fast_only",
	[PIN] = "pin_user_pages",
	[PIN_REMOTE] = "pin_user_pages_remote",
	[PIN_REMOTE_LOCKED] = "pin_user_pages_remote(locked)",
	[PIN_UNLOCKED] = "pin_user_pages_unlocked",
	[PIN_FAST] = "pin_user_pages_fast",
};

#define M(a)		(1u << (a))
#define ALL_GET		(M(GET) | M(GET_REMOTE) | M(GET_REMOTE_LOCKED) | M(GET_UNLOCKED) | \
			 M(GET_FAST) | M(GET_FAST_ONLY))
#define ALL_PIN		(M(PIN) | M(PIN_REMOTE) | M(PIN_REMOTE_LOCKED) | M(PIN_UNLOCKED) | \
			 M(PIN_FAST))
#define ALL_FAST	(M(GET_FAST) | M(GET_FAST_ONLY) | M(PIN_FAST))
#define ALL_APIS	(ALL_GET | ALL_PIN)
#define PIN_SLOW	(M(PIN) | M(PIN_REMOTE) | M(PIN_REMOTE_LOCKED) | M(PIN_UNLOCKED))

static bool api_pin(enum api a)
{
	return M(a) & ALL_PIN;
}

static bool api_fast(enum api a)
{
	return M(a) & ALL_FAST;
}

/* What a rejected argument gives (linux_anchor 1.5): 0 from the slow pin_*, else -EINVAL. */
static long api_reject(enum api a)
{
	return (M(a) & PIN_SLOW) ? 0 : -EINVAL;
}

/*
 * Call entry point @a on [start, start + n pages) of e->t's mm: the locked ones
 * under the mmap read lock (taken and dropped here); the remote ones by e->tr.
 * Only for memory whose faults never drop the lock (anon, shmem).
 */
static long call_api(struct env *e, enum api a, uint64_t start, long n, unsigned flags,
		     struct gup_page **pages)
{
	struct gup_task *caller = (a == GET_REMOTE || a == GET_REMOTE_LOCKED ||
				   a == PIN_REMOTE || a == PIN_REMOTE_LOCKED) ? e->tr : e->t;
	int locked = 1;
	long ret;

	switch (a) {
	case GET_UNLOCKED:
		return gup_get_user_pages_unlocked(e->t, start, n, pages, flags);
	case PIN_UNLOCKED:
		return gup_pin_user_pages_unlocked(e->t, start, n, pages, flags);
	case GET_FAST:
		return gup_get_user_pages_fast(e->t, start, (int)n, flags, pages);
	case GET_FAST_ONLY:
		return gup_get_user_pages_fast_only(e->t, start, (int)n, flags, pages);
	case PIN_FAST:
		return gup_pin_user_pages_fast(e->t, start, (int)n, flags, pages);
	default:
		break;
	}
	assert_int_equal(gup_mmap_read_lock(caller, e->mm), 0);
	switch (a) {
	case GET:
		ret = gup_get_user_pages(e->t, start, n, flags, pages);
		break;
	case PIN:
		ret = gup_pin_user_pages(e->t, start, n, flags, pages);
		break;
	case GET_REMOTE:
		ret = gup_get_user_pages_remote(e->tr, e->mm, start, n, flags, pages, NULL);
		break;
	case PIN_REMOTE:
		ret = gup_pin_user_pages_remote(e->tr, e->mm, start, n, flags, pages, NULL);
		break;
	case GET_REMOTE_LOCKED:
		ret = gup_get_user_pages_remote(e->tr, e->mm, start, n, flags, pages, &locked);
		break;
	case PIN_REMOTE_LOCKED:
		ret = gup_pin_user_pages_remote(e->tr, e->mm, start, n, flags, pages, &locked);
		break;
	default:
		fail_msg("bad api %d", a);
		return 0;
	}
	if (locked)
		gup_mmap_read_unlock(caller, e->mm);
	/* Anon faults never drop the lock: GUP must say it is still held. */
	assert_int_equal(locked, 1);
	return ret;
}

static void release(enum api a, struct gup_page **pages, long n)
{
	if (api_pin(a)) {
		gup_unpin_user_pages(pages, (unsigned long)n);
		return;
	}
	for (long i = 0; i < n; i++)
		gup_put_page(pages[i]);
}

/* ------------------------------------------------------------------------ */
/* 1. Every entry point on populated and unpopulated private anon memory     */
/* ------------------------------------------------------------------------ */

/*
 * linux_anchor 1.1, 1.2, 1.6: each entry point returns the pages of the range,
 * faulting in what is missing (except gup-fast-only, which never faults and
 * stops at the first page it cannot take locklessly); FOLL_GET adds 1 to each
 * refcount, FOLL_PIN 1024; a write request on an unpopulated page allocates an
 * exclusive anon page, a read maps the shared zero page, which a short-term pin
 * does not count.  The device's view (gup_page_read/write) is the task's memory.
 */
static void api_basic(enum api api)
{
	struct gup_page *pages[8], *zero;
	bool pin = api_pin(api), fast_only = api == GET_FAST_ONLY;
	unsigned zero_ref;
	struct fx_snap s;
	struct env e;
	uint64_t a, b;
	long n;

	env_new(&e, NULL);
	zero = zero_handle(e.w);
	a = fx_map_private(e.t, 8);
	fx_fill_pages(e.t, a, 4, 1);

	/* A write request over 4 populated pages and 4 unpopulated ones. */
	memset(pages, 0, sizeof(pages));
	fx_snap(e.w, &s);
	n = call_api(&e, api, a, 8, F_WRITE, pages);
	assert_int_equal(n, fast_only ? 4 : 8);
	for (long i = 0; i < n; i++) {
		uint64_t va = a + (uint64_t)i * PG;

		assert_non_null(pages[i]);
		assert_int_equal(gup_page_pfn(pages[i]), fx_pfn(e.t, va));
		assert_false(gup_page_is_zero(pages[i]));
		assert_true(gup_page_anon_exclusive(pages[i]));
		assert_int_equal(gup_page_mapcount(pages[i]), 1);
		assert_int_equal(gup_page_ref_count(pages[i]), 1 + (pin ? BIAS : 1));
		assert_int_equal(gup_page_maybe_dma_pinned(pages[i]), pin);
		if (i < 4)
			check_page_has(pages[i], 1, va);
		else
			check_page_zero(pages[i]);
	}
	for (long i = n; i < 8; i++)
		assert_null(pages[i]);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), pin ? n : 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), pin ? 0 : n);
	if (fast_only) {
		/* Never faults: the unpopulated half stays unpopulated. */
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);
		for (int i = 4; i < 8; i++)
			assert_int_equal(fx_pfn(e.t, a + (uint64_t)i * PG), -EFAULT);
	} else {
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT_ANON_WRITE), 4);
	}

	/* DMA into the pages shows in the task's memory. */
	for (long i = 0; i < n; i++) {
		uint64_t v = UINT64_C(0xd3a0000) + (uint64_t)i;

		assert_int_equal(gup_page_write(pages[i], 8, &v, sizeof(v)), 0);
		assert_int_equal(fx_load_u64(e.t, a + (uint64_t)i * PG + 8), v);
	}
	release(api, pages, n);
	for (long i = 0; i < n; i++) {
		assert_int_equal(gup_page_ref_count(pages[i]), 1);
		assert_false(gup_page_maybe_dma_pinned(pages[i]));
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_RELEASED), pin ? n : 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_RELEASED), pin ? 0 : n);

	/* A read request on populated pages: the same pages. */
	memset(pages, 0, sizeof(pages));
	n = call_api(&e, api, a, 4, 0, pages);
	assert_int_equal(n, 4);
	for (long i = 0; i < n; i++)
		assert_int_equal(gup_page_pfn(pages[i]), fx_pfn(e.t, a + (uint64_t)i * PG));
	release(api, pages, n);

	/* A read request on unpopulated pages: the zero page. */
	b = fx_map_private(e.t, 2);
	zero_ref = gup_page_ref_count(zero);
	memset(pages, 0, sizeof(pages));
	fx_snap(e.w, &s);
	n = call_api(&e, api, b, 2, 0, pages);
	if (fast_only) {
		assert_int_equal(n, 0);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);
		assert_int_equal(fx_pfn(e.t, b), -EFAULT);
		/* Even mapped, the zero page has no struct page to count locklessly. */
		fx_check_zero_pages(e.t, b, 2);
		assert_int_equal(fx_pfn(e.t, b), 0);
		assert_int_equal(call_api(&e, api, b, 2, 0, pages), 0);
	} else {
		assert_int_equal(n, 2);
		for (long i = 0; i < n; i++) {
			assert_ptr_equal(pages[i], zero);
			assert_true(gup_page_is_zero(pages[i]));
			check_page_zero(pages[i]);
		}
		assert_int_equal(fx_pfn(e.t, b), 0);
		/* FOLL_GET references the zero page; a short-term pin takes nothing. */
		assert_int_equal(gup_page_ref_count(zero), zero_ref + (pin ? 0 : 2));
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), pin ? 0 : 2);
		release(api, pages, n);
		assert_int_equal(gup_page_ref_count(zero), zero_ref);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_RELEASED), 0);
	}
	env_end(&e);
}

#define API_TEST(name, api) \
	static void test_api_##name(void **state) { (void)state; api_basic(api); }

API_TEST(get_user_pages, GET)
API_TEST(get_user_pages_remote, GET_REMOTE)
API_TEST(get_user_pages_remote_locked, GET_REMOTE_LOCKED)
API_TEST(get_user_pages_unlocked, GET_UNLOCKED)
API_TEST(get_user_pages_fast, GET_FAST)
API_TEST(get_user_pages_fast_only, GET_FAST_ONLY)
API_TEST(pin_user_pages, PIN)
API_TEST(pin_user_pages_remote, PIN_REMOTE)
API_TEST(pin_user_pages_remote_locked, PIN_REMOTE_LOCKED)
API_TEST(pin_user_pages_unlocked, PIN_UNLOCKED)
API_TEST(pin_user_pages_fast, PIN_FAST)

/*
 * linux_anchor 1.2: unpin_user_page, unpin_user_pages (NULL entries skipped),
 * unpin_user_pages_dirty_lock (marks dirty only if asked), and
 * unpin_user_page_range_dirty_lock over physically contiguous pages; an errno
 * passed as a count is refused.  pin_user_pages does not FOLL_TOUCH, so a R/O
 * pin leaves the pages clean until the unpin says DMA wrote them.
 */
static void test_release_functions(void **state)
{
	struct gup_page *pages[16], *mixed[4], *lo = NULL;
	struct fx_snap s;
	struct env e;
	uint64_t a;
	long n;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 16);
	fx_fill_pages(e.t, a, 16, 2);
	fx_snap(e.w, &s);
	n = call_api(&e, PIN, a, 16, 0, pages);
	assert_int_equal(n, 16);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(gup_page_ref_count(pages[i]), 1 + BIAS);
		assert_false(gup_page_dirty(pages[i]));
	}

	/* An errno for a count: nothing is released. */
	gup_unpin_user_pages(pages, (unsigned long)(long)-EFAULT);
	for (int i = 0; i < 16; i++)
		assert_int_equal(gup_page_ref_count(pages[i]), 1 + BIAS);

	gup_unpin_user_page(pages[0]);
	assert_int_equal(gup_page_ref_count(pages[0]), 1);

	mixed[0] = pages[1];
	mixed[1] = NULL;
	mixed[2] = pages[2];
	mixed[3] = pages[3];
	gup_unpin_user_pages(mixed, 4);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(gup_page_ref_count(pages[i]), 1);
		assert_false(gup_page_dirty(pages[i]));
	}

	gup_unpin_user_pages_dirty_lock(pages + 4, 4, true);
	for (int i = 4; i < 8; i++) {
		assert_int_equal(gup_page_ref_count(pages[i]), 1);
		assert_true(gup_page_dirty(pages[i]));
	}
	gup_unpin_user_pages_dirty_lock(pages + 8, 2, false);
	for (int i = 8; i < 10; i++) {
		assert_int_equal(gup_page_ref_count(pages[i]), 1);
		assert_false(gup_page_dirty(pages[i]));
	}

	/* Two pinned pages that are physically adjacent, released as one range. */
	for (int i = 10; i < 16 && !lo; i++)
		for (int j = 10; j < 16; j++)
			if (gup_page_pfn(pages[j]) == gup_page_pfn(pages[i]) + 1) {
				lo = pages[i];
				break;
			}
	assert_non_null(lo);
	gup_unpin_user_page_range_dirty_lock(lo, 2, true);
	for (int i = 10; i < 16; i++) {
		uint64_t pfn = gup_page_pfn(pages[i]);
		bool in_range = pfn == gup_page_pfn(lo) || pfn == gup_page_pfn(lo) + 1;

		assert_int_equal(gup_page_ref_count(pages[i]), in_range ? 1 : 1 + BIAS);
		assert_int_equal(gup_page_dirty(pages[i]), in_range);
		if (!in_range)
			gup_unpin_user_page(pages[i]);
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 16);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_RELEASED), 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(gup_page_ref_count(pages[i]), 1);
	fx_check_pages(e.t, a, 16, 2);
	env_end(&e);
}

/* ------------------------------------------------------------------------ */
/* 2. Return conventions                                                    */
/* ------------------------------------------------------------------------ */

/* linux_anchor 1.3: nr_pages == 0 gives 0, from every entry point, touching nothing. */
static void test_ret_zero_pages(void **state)
{
	struct gup_page *pages[1] = { SENTINEL };
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 1);
	fx_snap(e.w, &s);
	for (int api = 0; api < NR_APIS; api++) {
		long ret = call_api(&e, api, a, 0, F_WRITE, pages);

		if (ret != 0)
			fail_msg("%s of 0 pages: %ld", api_names[api], ret);
		assert_ptr_equal(pages[0], SENTINEL);
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);
	assert_int_equal(fx_pfn(e.t, a), -EFAULT);
	env_end(&e);
}

/*
 * linux_anchor 1.3: a range that runs into a hole gives the pages before it (a
 * short count); the caller holds exactly those.  gup-fast hands what it grabbed
 * plus what the slow path got; gup-fast-only stops at the first unpopulated page.
 */
static void test_ret_partial_at_hole(void **state)
{
	struct gup_page *pages[8];
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	for (int api = 0; api < NR_APIS; api++) {
		struct fx_snap s;
		long n, want = api == GET_FAST_ONLY ? 2 : 4;

		/* 4 mapped pages (2 of them populated), then a hole of 4. */
		a = fx_map_private(e.t, 8);
		assert_int_equal(gup_munmap(e.t, a + 4 * PG, 4 * PG), 0);
		fx_fill_pages(e.t, a, 2, 3);
		memset(pages, 0, sizeof(pages));
		fx_snap(e.w, &s);
		n = call_api(&e, api, a, 8, F_WRITE, pages);
		if (n != want)
			fail_msg("%s into a hole: %ld, want %ld", api_names[api], n, want);
		for (long i = 0; i < 8; i++)
			assert_true(i < n ? pages[i] != NULL : pages[i] == NULL);
		assert_int_equal(fx_delta(e.w, &s, api_pin(api) ? GUP_STAT_PIN_ACQUIRED
							: GUP_STAT_GET_ACQUIRED), n);
		release(api, pages, n);
		assert_int_equal(gup_munmap(e.t, a, 4 * PG), 0);
	}
	env_end(&e);
}

/*
 * linux_anchor 1.3, 1.5: no page at all (first page in a hole) is -EFAULT from
 * every entry point - from pin_* too, since the arguments were valid - except
 * gup-fast-only, which never reports errors for missing pages and returns 0.
 */
static void test_ret_first_page_in_hole(void **state)
{
	struct gup_page *pages[4] = { SENTINEL, SENTINEL, SENTINEL, SENTINEL };
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 4);
	fx_fill_pages(e.t, a + PG, 3, 4);
	assert_int_equal(gup_munmap(e.t, a, PG), 0);
	fx_snap(e.w, &s);
	for (int api = 0; api < NR_APIS; api++) {
		long want = api == GET_FAST_ONLY ? 0 : -EFAULT;
		long ret = call_api(&e, api, a, 4, 0, pages);

		if (ret != want)
			fail_msg("%s at a hole: %ld, want %ld", api_names[api], ret, want);
		/* Beyond the user address space there is nothing either. */
		ret = call_api(&e, api, GUP_TASK_SIZE - PG, 1, 0, pages);
		if (ret != want)
			fail_msg("%s at the top: %ld, want %ld", api_names[api], ret, want);
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	env_end(&e);
}

/*
 * linux_anchor 1.3 (gup_fast_fallback): start + len overflowing is -EOVERFLOW,
 * an end beyond TASK_SIZE is -EFAULT, before any walk; a negative nr_pages
 * overflows too.
 */
static void test_ret_fast_range_checks(void **state)
{
	static const enum api fast[] = { GET_FAST, GET_FAST_ONLY, PIN_FAST };
	struct gup_page *pages[4];
	struct fx_snap s;
	struct env e;

	(void)state;
	env_new(&e, NULL);
	fx_snap(e.w, &s);
	for (size_t i = 0; i < sizeof(fast) / sizeof(fast[0]); i++) {
		assert_int_equal(call_api(&e, fast[i], GUP_TASK_SIZE - PG, 2, 0, pages), -EFAULT);
		assert_int_equal(call_api(&e, fast[i], GUP_TASK_SIZE, 1, 0, pages), -EFAULT);
		assert_int_equal(call_api(&e, fast[i], UINT64_MAX & ~(PG - 1), 2, 0, pages),
				 -EOVERFLOW);
		assert_int_equal(call_api(&e, fast[i], GUP_MMAP_MIN, -1, 0, pages), -EOVERFLOW);
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GUP_FAST_FALLBACK), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);
	env_end(&e);
}

/*
 * linux_anchor 1.1, 1.5: rejected arguments make pin_user_pages, _remote and
 * _unlocked return 0 (a caller cannot tell it from "nothing pinned"), while the
 * get_* and *_fast variants return -EINVAL.
 */
static void test_ret_rejected_values(void **state)
{
	struct gup_page *pages[2] = { SENTINEL, SENTINEL };
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 2);
	fx_fill_pages(e.t, a, 2, 5);
	for (int api = 0; api < NR_APIS; api++) {
		long want = (M(api) & PIN_SLOW) ? 0 : -EINVAL;
		long ret = call_api(&e, api, a, 2, F_LONGTERM | F_P2PDMA, pages);

		if (ret != want)
			fail_msg("%s rejected: %ld, want %ld", api_names[api], ret, want);
		assert_ptr_equal(pages[0], SENTINEL);
	}
	env_end(&e);
}

/* ------------------------------------------------------------------------ */
/* 3. Rejected combinations (is_valid_gup_args, gup-fast's flag mask)        */
/* ------------------------------------------------------------------------ */

struct rej {
	struct env e;
	uint64_t a;	/* 2 populated pages: a wrongly accepted call would return 2 */
};

static void rej_new(struct rej *r)
{
	env_new(&r->e, NULL);
	r->a = fx_map_private(r->e.t, 2);
	fx_fill_pages(r->e.t, r->a, 2, 6);
}

static void rej_end(struct rej *r)
{
	assert_false(has_pinned(r->e.mm));	/* a rejected pin does not mark the mm */
	env_end(&r->e);
}

/* Each entry point of @mask refuses @flags: its rejection value, and no effect. */
static void expect_rejected(struct rej *r, unsigned mask, unsigned flags, bool null_pages)
{
	for (int api = 0; api < NR_APIS; api++) {
		struct gup_page *pages[2] = { SENTINEL, SENTINEL };
		struct fx_snap s;
		long ret;

		if (!(mask & M(api)))
			continue;
		fx_snap(r->e.w, &s);
		ret = call_api(&r->e, api, r->a, 2, flags, null_pages ? NULL : pages);
		if (ret != api_reject(api))
			fail_msg("%s(flags %#x%s): %ld, want %ld", api_names[api], flags,
				 null_pages ? ", pages NULL" : "", ret, api_reject(api));
		assert_ptr_equal(pages[0], SENTINEL);
		assert_ptr_equal(pages[1], SENTINEL);
		assert_int_equal(fx_delta(r->e.w, &s, GUP_STAT_GET_ACQUIRED), 0);
		assert_int_equal(fx_delta(r->e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
		assert_int_equal(fx_delta(r->e.w, &s, GUP_STAT_FAULT), 0);
		assert_int_equal(fx_delta(r->e.w, &s, GUP_STAT_GUP_SLOW_PAGES), 0);
		assert_int_equal(fx_delta(r->e.w, &s, GUP_STAT_GUP_FAST_PAGES), 0);
	}
}

/* Entry point @a accepts @flags on the 2 populated pages (a control). */
static void expect_accepted(struct rej *r, enum api a, unsigned flags)
{
	struct gup_page *pages[2];
	long n = call_api(&r->e, a, r->a, 2, flags, pages);

	if (n != 2)
		fail_msg("%s(flags %#x): %ld, want 2", api_names[a], flags, n);
	release(a, pages, n);
}

/* linux_anchor 1.5 rule 1: FOLL_TOUCH (1<<16) is internal; no caller may pass it. */
static void test_reject_internal_touch(void **state)
{
	struct rej r;

	(void)state;
	rej_new(&r);
	expect_rejected(&r, ALL_APIS, 1u << 16, false);
	rej_end(&r);
}

/* linux_anchor 1.5 rule 1: FOLL_PIN (1<<19) is internal: pins come from pin_* only. */
static void test_reject_internal_pin(void **state)
{
	struct rej r;

	(void)state;
	rej_new(&r);
	expect_rejected(&r, ALL_APIS, 1u << 19, false);
	expect_rejected(&r, ALL_APIS, (1u << 19) | F_WRITE, false);
	rej_end(&r);
}

/*
 * linux_anchor 1.5 rule 1: the other internal flags - FOLL_TRIED, FOLL_REMOTE,
 * FOLL_FAST_ONLY, FOLL_UNLOCKABLE, FOLL_MADV_POPULATE (1<<17, 18, 20, 21, 22).
 */
static void test_reject_internal_others(void **state)
{
	static const unsigned bits[] = { 17, 18, 20, 21, 22 };
	struct rej r;

	(void)state;
	rej_new(&r);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		expect_rejected(&r, ALL_APIS, 1u << bits[i], false);
	rej_end(&r);
}

/*
 * Unknown bits (1<<13..15, 1<<23, 1<<31).  gup-fast refuses anything outside its
 * mask in Linux too (linux_anchor 1.5); for the slow variants Linux only WARNs on
 * INTERNAL_GUP_FLAGS, the model refuses unknown bits as well (gup.h, debug).
 */
static void test_reject_unknown_bits(void **state)
{
	static const unsigned bits[] = { 13, 14, 15, 23, 31 };
	struct rej r;

	(void)state;
	rej_new(&r);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		expect_rejected(&r, ALL_APIS, 1u << bits[i], false);
	rej_end(&r);
}

/*
 * linux_anchor 1.5 rule 3: FOLL_GET and FOLL_PIN are mutually exclusive, so
 * FOLL_GET passed to a pin_* variant is refused; get_* may name FOLL_GET.
 */
static void test_reject_get_with_pin(void **state)
{
	struct rej r;

	(void)state;
	rej_new(&r);
	expect_rejected(&r, ALL_PIN, F_GET, false);
	expect_rejected(&r, ALL_PIN, F_GET | F_WRITE, false);
	for (int api = 0; api < NR_APIS; api++)
		if (M(api) & ALL_GET)
			expect_accepted(&r, api, F_GET);
	rej_end(&r);
}

/*
 * linux_anchor 1.5 rule 4: FOLL_LONGTERM needs FOLL_PIN, so every get_user_pages*
 * variant refuses it; the pin_* variants take it.
 */
static void test_reject_longterm_on_get(void **state)
{
	struct rej r;

	(void)state;
	rej_new(&r);
	expect_rejected(&r, ALL_GET, F_LONGTERM, false);
	expect_rejected(&r, ALL_GET, F_LONGTERM | F_WRITE, false);
	expect_accepted(&r, PIN, F_LONGTERM);
	expect_accepted(&r, PIN_FAST, F_LONGTERM | F_WRITE);
	assert_true(has_pinned(r.e.mm));
	env_end(&r.e);
}

/*
 * linux_anchor 1.5 rule 5: FOLL_GET (explicit, or implied by the fast variants)
 * or FOLL_PIN without a pages array is refused.  Plain get_user_pages without
 * pages and without FOLL_GET is legal: it only faults the range in.
 */
static void test_reject_null_pages(void **state)
{
	struct fx_snap s;
	struct rej r;
	uint64_t b;

	(void)state;
	rej_new(&r);
	expect_rejected(&r, ALL_GET, F_GET, true);
	expect_rejected(&r, ALL_PIN, 0, true);
	expect_rejected(&r, ALL_PIN, F_WRITE, true);
	expect_rejected(&r, M(GET_FAST) | M(GET_FAST_ONLY), 0, true);

	b = fx_map_private(r.e.t, 3);
	fx_snap(r.e.w, &s);
	assert_int_equal(call_api(&r.e, GET, b, 3, F_WRITE, NULL), 3);
	assert_int_equal(call_api(&r.e, GET_UNLOCKED, b, 3, 0, NULL), 3);
	assert_int_equal(fx_delta(r.e.w, &s, GUP_STAT_FAULT_ANON_WRITE), 3);
	assert_int_equal(fx_delta(r.e.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(gup_page_ref_count((struct gup_page *)fx_page_at(r.e.t,
								b + (uint64_t)i * PG)), 1);
	rej_end(&r);
}

/*
 * linux_anchor 1.5 rule 2: at the external interface *locked must be 1 (the
 * caller holds the lock); anything else is refused, and *locked is left alone.
 */
static void test_reject_locked_not_one(void **state)
{
	static const int bad[] = { 0, 2, -1 };
	struct gup_page *pages[2] = { SENTINEL, SENTINEL };
	struct fx_snap s;
	struct rej r;

	(void)state;
	rej_new(&r);
	fx_snap(r.e.w, &s);
	assert_int_equal(gup_mmap_read_lock(r.e.tr, r.e.mm), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int locked = bad[i];

		assert_int_equal(gup_get_user_pages_remote(r.e.tr, r.e.mm, r.a, 2, 0, pages,
							   &locked), -EINVAL);
		assert_int_equal(locked, bad[i]);
		assert_int_equal(gup_pin_user_pages_remote(r.e.tr, r.e.mm, r.a, 2, 0, pages,
							   &locked), 0);
		assert_int_equal(locked, bad[i]);
	}
	assert_true(task_holds_mmap_lock(r.e.tr, r.e.mm));
	gup_mmap_read_unlock(r.e.tr, r.e.mm);
	assert_ptr_equal(pages[0], SENTINEL);
	assert_int_equal(fx_delta(r.e.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(r.e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	rej_end(&r);
}

/*
 * linux_anchor 1.5 rule 6: FOLL_LONGTERM with FOLL_PCI_P2PDMA is refused (the
 * pgmap must stay hot-unpluggable); each flag alone is fine.
 */
static void test_reject_longterm_p2pdma(void **state)
{
	struct rej r;

	(void)state;
	rej_new(&r);
	expect_rejected(&r, ALL_PIN, F_LONGTERM | F_P2PDMA, false);
	expect_rejected(&r, ALL_GET, F_LONGTERM | F_P2PDMA, false);
	expect_accepted(&r, PIN, F_P2PDMA);
	expect_accepted(&r, PIN_FAST, F_P2PDMA);
	expect_accepted(&r, GET, F_P2PDMA);
	expect_accepted(&r, PIN_UNLOCKED, F_LONGTERM);
	env_end(&r.e);
}

/*
 * linux_anchor 1.5 (gup_fast_fallback): @flag is outside what gup-fast accepts,
 * so every *_fast variant refuses it with -EINVAL; the slow path takes it.
 */
static void fast_illegal(unsigned flag)
{
	struct rej r;

	rej_new(&r);
	expect_rejected(&r, ALL_FAST, flag, false);
	expect_rejected(&r, ALL_FAST, flag | F_WRITE, false);
	expect_accepted(&r, GET, flag);
	expect_accepted(&r, GET_UNLOCKED, flag);
	rej_end(&r);
}

static void test_reject_fast_nowait(void **state)
{
	(void)state;
	fast_illegal(F_NOWAIT);
}

static void test_reject_fast_dump(void **state)
{
	(void)state;
	fast_illegal(F_DUMP);
}

static void test_reject_fast_anon(void **state)
{
	(void)state;
	fast_illegal(F_ANON);
}

static void test_reject_fast_hwpoison(void **state)
{
	(void)state;
	fast_illegal(F_HWPOISON);
}

static void test_reject_fast_interruptible(void **state)
{
	(void)state;
	fast_illegal(F_INTERRUPTIBLE);
}

static void test_reject_fast_split_pmd(void **state)
{
	(void)state;
	fast_illegal(F_SPLIT_PMD);
}

/* ------------------------------------------------------------------------ */
/* 4. check_vma_flags                                                       */
/* ------------------------------------------------------------------------ */

static long remote_get(struct env *e, uint64_t addr, unsigned flags, struct gup_page **pages)
{
	return call_api(e, GET_REMOTE, addr, 1, flags, pages);
}

/*
 * linux_anchor 1.5, 1.10, section 4 (Dirty COW, CVE-2016-5195 and CVE-2022-2590):
 * a write to a PROT_READ private mapping is -EFAULT without FOLL_FORCE.  With it
 * (ptrace), GUP first breaks COW: the page it returns is a private, anon-exclusive
 * copy, still mapped read-only, so the write through the page handle reaches the
 * tracee but never the child that shares the original.  Once the copy is
 * exclusive, a second forced write uses it in place.
 */
static void test_vma_force_write_ro_private(void **state)
{
	struct gup_page *pages[1];
	struct gup_task *child;
	int64_t shared_pfn;
	struct fx_snap s;
	struct env e;
	uint64_t a, v;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 2);
	fx_fill_pages(e.t, a, 2, 7);
	child = fx_fork(e.t);
	assert_int_equal(gup_mprotect(e.t, a, 2 * PG, GUP_PROT_READ), 0);
	shared_pfn = fx_pfn(e.t, a);
	assert_int_equal(fx_pfn(child, a), shared_pfn);

	/* No FOLL_FORCE: the VMA says no. */
	fx_snap(e.w, &s);
	assert_int_equal(remote_get(&e, a, F_WRITE, pages), -EFAULT);
	assert_int_equal(call_api(&e, PIN_REMOTE, a, 1, F_WRITE, pages), -EFAULT);
	assert_int_equal(call_api(&e, GET, a, 1, F_WRITE, pages), -EFAULT);
	assert_int_equal(call_api(&e, GET_FAST, a, 1, F_WRITE, pages), -EFAULT);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);

	/* FOLL_FORCE: COW first, then the private copy is handed out. */
	fx_snap(e.w, &s);
	assert_int_equal(remote_get(&e, a, F_WRITE | F_FORCE, pages), 1);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_COW_COPY), 1);
	assert_int_not_equal(gup_page_pfn(pages[0]), shared_pfn);
	assert_int_equal(gup_page_pfn(pages[0]), fx_pfn(e.t, a));
	assert_int_equal(fx_pfn(child, a), shared_pfn);
	assert_true(gup_page_anon_exclusive(pages[0]));
	assert_int_equal(gup_page_mapcount(pages[0]), 1);
	assert_false(fx_pte(e.t, a) & PTE_WRITE);	/* the VMA is still read-only */
	check_page_has(pages[0], 7, a);
	v = UINT64_C(0x7074726163650a);
	assert_int_equal(gup_page_write(pages[0], 0, &v, sizeof(v)), 0);
	gup_put_page(pages[0]);
	assert_int_equal(fx_load_u64(e.t, a), v);
	fx_check_pages(child, a, 2, 7);

	/* The copy is exclusive now: written in place, no second COW. */
	fx_snap(e.w, &s);
	assert_int_equal(remote_get(&e, a, F_WRITE | F_FORCE, pages), 1);
	assert_int_equal(gup_page_pfn(pages[0]), fx_pfn(e.t, a));
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_COW_COPY), 0);
	gup_put_page(pages[0]);

	/* A forced pin works the same way on the still-shared second page. */
	assert_int_equal(call_api(&e, PIN_REMOTE, a + PG, 1, F_WRITE | F_FORCE, pages), 1);
	assert_int_not_equal(gup_page_pfn(pages[0]), fx_pfn(child, a + PG));
	assert_true(gup_page_anon_exclusive(pages[0]));
	gup_unpin_user_page(pages[0]);

	/* The user itself still cannot write. */
	assert_int_equal(fx_try_store_u64(e.t, a, 1), -EFAULT);
	fx_check_pages(child, a, 2, 7);
	gup_task_exit(child);
	env_end(&e);
}

/*
 * linux_anchor 1.5, 1.10 (CVE-2022-2590): FOLL_FORCE never writes into a shared
 * mapping it may not write: a read-only MAP_SHARED anon (shmem) mapping refuses
 * FOLL_WRITE with or without FOLL_FORCE; reads are fine.
 */
static void test_vma_force_write_ro_shared(void **state)
{
	struct gup_page *pages[1];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_anon(e.t, 1, GUP_PROT_READ, GUP_MAP_SHARED);
	fx_check_zero_pages(e.t, a, 1);
	fx_snap(e.w, &s);
	for (int api = 0; api < NR_APIS; api++) {
		if (api == GET_FAST_ONLY)
			continue;	/* never reaches check_vma_flags */
		if (call_api(&e, api, a, 1, F_WRITE | F_FORCE, pages) != -EFAULT)
			fail_msg("%s: forced write into a R/O shared mapping", api_names[api]);
		if (call_api(&e, api, a, 1, F_WRITE, pages) != -EFAULT)
			fail_msg("%s: write into a R/O shared mapping", api_names[api]);
	}
	assert_int_equal(call_api(&e, GET_FAST_ONLY, a, 1, F_WRITE | F_FORCE, pages), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	assert_int_equal(remote_get(&e, a, 0, pages), 1);
	assert_false(gup_page_anon_exclusive(pages[0]));
	check_page_zero(pages[0]);
	gup_put_page(pages[0]);
	env_end(&e);
}

/*
 * linux_anchor 1.5: a read of a PROT_NONE VMA is -EFAULT without FOLL_FORCE; with
 * it (VM_MAYREAD is set) the page is returned with its contents.
 */
static void test_vma_prot_none_read(void **state)
{
	struct gup_page *pages[1];
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 1);
	fx_fill_pages(e.t, a, 1, 8);
	assert_int_equal(gup_mprotect(e.t, a, PG, GUP_PROT_NONE), 0);
	for (int api = 0; api < NR_APIS; api++) {
		long want = api == GET_FAST_ONLY ? 0 : -EFAULT;

		if (call_api(&e, api, a, 1, 0, pages) != want)
			fail_msg("%s: read of PROT_NONE without FOLL_FORCE", api_names[api]);
	}
	for (int api = 0; api < NR_APIS; api++) {
		if (api == GET_FAST_ONLY)
			continue;
		if (call_api(&e, api, a, 1, F_FORCE, pages) != 1)
			fail_msg("%s: forced read of PROT_NONE", api_names[api]);
		assert_int_equal(gup_page_pfn(pages[0]), fx_pfn(e.t, a));
		check_page_has(pages[0], 8, a);
		release(api, pages, 1);
	}
	env_end(&e);
}

/* linux_anchor 1.5: FOLL_ANON refuses a non-anonymous VMA (shmem) with -EFAULT. */
static void test_vma_foll_anon(void **state)
{
	struct gup_page *pages[1];
	struct env e;
	uint64_t a, p;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_anon(e.t, 1, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_SHARED);
	p = fx_map_private(e.t, 1);
	fx_fill_pages(e.t, a, 1, 9);
	fx_fill_pages(e.t, p, 1, 9);
	assert_int_equal(call_api(&e, GET, a, 1, F_ANON, pages), -EFAULT);
	assert_int_equal(call_api(&e, GET_UNLOCKED, a, 1, F_ANON | F_WRITE, pages), -EFAULT);
	assert_int_equal(call_api(&e, PIN, a, 1, F_ANON, pages), -EFAULT);
	assert_int_equal(call_api(&e, PIN_REMOTE, a, 1, F_ANON, pages), -EFAULT);
	assert_int_equal(call_api(&e, GET, a, 1, 0, pages), 1);
	check_page_has(pages[0], 9, a);
	gup_put_page(pages[0]);
	assert_int_equal(call_api(&e, GET, p, 1, F_ANON, pages), 1);
	check_page_has(pages[0], 9, p);
	gup_put_page(pages[0]);
	env_end(&e);
}

/*
 * linux_anchor 1.4: FOLL_DUMP (core dumps) gets -EFAULT for a hole and for the
 * zero page, instead of allocating or returning it; a real page is returned.
 */
static void test_vma_foll_dump(void **state)
{
	struct gup_page *pages[3];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 3);
	fx_check_zero_pages(e.t, a + PG, 1);		/* page 1: the zero page */
	fx_fill_pages(e.t, a + 2 * PG, 1, 10);		/* page 2: real */
	fx_snap(e.w, &s);
	assert_int_equal(call_api(&e, GET, a, 1, F_DUMP, pages), -EFAULT);
	assert_int_equal(call_api(&e, GET, a, 3, F_DUMP | F_FORCE, pages), -EFAULT);
	assert_int_equal(call_api(&e, GET, a + PG, 1, F_DUMP, pages), -EFAULT);
	assert_int_equal(call_api(&e, GET_REMOTE, a + PG, 1, F_DUMP | F_FORCE, pages), -EFAULT);
	assert_int_equal(call_api(&e, PIN, a + PG, 1, F_DUMP, pages), -EFAULT);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);
	assert_int_equal(fx_pfn(e.t, a), -EFAULT);	/* nothing allocated */
	assert_int_equal(call_api(&e, GET, a + 2 * PG, 1, F_DUMP | F_FORCE, pages), 1);
	check_page_has(pages[0], 10, a + 2 * PG);
	gup_put_page(pages[0]);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 1);
	env_end(&e);
}

/* linux_anchor 1.4: FOLL_NOFAULT never faults: a missing page is -EFAULT. */
static void test_vma_foll_nofault(void **state)
{
	struct gup_page *pages[2];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 2);
	fx_fill_pages(e.t, a, 1, 11);
	fx_snap(e.w, &s);
	for (int api = 0; api < NR_APIS; api++) {
		long want = api == GET_FAST_ONLY ? 0 : -EFAULT;

		if (call_api(&e, api, a + PG, 1, F_NOFAULT, pages) != want)
			fail_msg("%s: FOLL_NOFAULT on a missing page", api_names[api]);
		/* A populated page first: a short count. */
		if (call_api(&e, api, a, 2, F_NOFAULT | F_WRITE, pages) != 1)
			fail_msg("%s: FOLL_NOFAULT short count", api_names[api]);
		check_page_has(pages[0], 11, a);
		release(api, pages, 1);
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);
	assert_int_equal(fx_pfn(e.t, a + PG), -EFAULT);
	env_end(&e);
}

/*
 * linux_anchor 1.4, 1.8: after a memory error on a mapped page, GUP fails on it
 * with -EHWPOISON if the caller asked with FOLL_HWPOISON, else -EFAULT; no
 * reference is taken on the poisoned frame.
 */
static void test_vma_hwpoison(void **state)
{
	struct gup_page *pages[2];
	struct fx_snap s;
	struct env e;
	unsigned ref;
	uint64_t a;
	int64_t pfn;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 2);
	fx_fill_pages(e.t, a, 2, 12);
	pfn = fx_pfn(e.t, a);
	assert_true(pfn > 0);
	ref = page_ref_count(fx_page_at(e.t, a));
	assert_int_equal(gup_memory_failure(e.w, (uint64_t)pfn), 0);
	fx_snap(e.w, &s);
	assert_int_equal(call_api(&e, GET, a, 1, F_HWPOISON, pages), -EHWPOISON);
	assert_int_equal(call_api(&e, GET, a, 1, 0, pages), -EFAULT);
	assert_int_equal(call_api(&e, GET_REMOTE_LOCKED, a, 2, F_HWPOISON, pages), -EHWPOISON);
	assert_int_equal(call_api(&e, GET_UNLOCKED, a, 2, 0, pages), -EFAULT);
	assert_int_equal(call_api(&e, PIN, a, 1, F_HWPOISON | F_WRITE, pages), -EHWPOISON);
	assert_int_equal(call_api(&e, PIN_REMOTE, a, 1, F_WRITE, pages), -EFAULT);
	assert_int_equal(call_api(&e, GET_FAST, a, 1, 0, pages), -EFAULT);
	assert_int_equal(call_api(&e, PIN_FAST, a, 1, 0, pages), -EFAULT);
	assert_int_equal(call_api(&e, GET_FAST_ONLY, a, 1, 0, pages), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	assert_int_equal(page_ref_count(fx_page_at(e.t, a)), ref);
	/* The healthy neighbour is unaffected. */
	assert_int_equal(call_api(&e, GET, a + PG, 1, F_HWPOISON, pages), 1);
	check_page_has(pages[0], 12, a + PG);
	gup_put_page(pages[0]);
	env_end(&e);
}

/*
 * linux_anchor 1.5 (check_vma_flags): FOLL_LONGTERM on an fs-DAX VMA is
 * -EOPNOTSUPP - an errno from the engine, so pin_user_pages* return it rather
 * than the 0 of a rejected argument - populated or not; no pin is left behind.
 * Short-term pins and references are fine.
 */
static void test_vma_longterm_fsdax(void **state)
{
	struct gup_page *pages[2];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 4);
	fx_fill_pages(e.t, a, 2, 13);			/* pages 0-1 populated, 2-3 not */
	set_vm_flags(e.mm, a, VM_FSDAX);
	fx_snap(e.w, &s);
	for (int api = 0; api < NR_APIS; api++) {
		if (!(M(api) & ALL_PIN))
			continue;
		if (api != PIN_FAST &&
		    call_api(&e, api, a, 2, F_LONGTERM | F_WRITE, pages) != -EOPNOTSUPP)
			fail_msg("%s: longterm pin of populated fs-DAX", api_names[api]);
		if (call_api(&e, api, a + 2 * PG, 2, F_LONGTERM, pages) != -EOPNOTSUPP)
			fail_msg("%s: longterm pin of unpopulated fs-DAX", api_names[api]);
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED),
			 fx_delta(e.w, &s, GUP_STAT_PIN_RELEASED));
	for (int i = 0; i < 2; i++)
		assert_false(gup_page_maybe_dma_pinned((struct gup_page *)
						       fx_page_at(e.t, a + (uint64_t)i * PG)));
	/* Without FOLL_LONGTERM, DAX is fine. */
	assert_int_equal(call_api(&e, PIN, a, 2, F_WRITE, pages), 2);
	gup_unpin_user_pages(pages, 2);
	assert_int_equal(call_api(&e, GET, a, 2, 0, pages), 2);
	release(GET, pages, 2);
	env_end(&e);
}

/*
 * As above for pin_user_pages_fast on pages that are present.  gup-fast never
 * looks at the VMA: it refuses fs-DAX *folios* (folio_is_longterm_pinnable), but
 * the pages here are anonymous copies (as a private fs-DAX mapping has after a
 * write), which are long-term pinnable once out of ZONE_MOVABLE, so Linux's
 * gup-fast pins them without ever reaching check_vma_flags (linux_anchor 1.13,
 * 1.6).  Real DAX pages, which gup-fast must refuse, come with the files issue.
 */
static void test_vma_longterm_fsdax_fast_populated(void **state)
{
	struct gup_page *pages[2] = { NULL, NULL };
	struct env e;
	uint64_t a;
	long n;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 2);
	fx_fill_pages(e.t, a, 2, 14);
	set_vm_flags(e.mm, a, VM_FSDAX);
	n = call_api(&e, PIN_FAST, a, 2, F_LONGTERM | F_WRITE, pages);
	if (n > 0) {
		assert_false(gup_page_movable(pages[0]));
		assert_false(gup_page_movable(pages[1]));
		gup_unpin_user_pages(pages, (unsigned long)n);	/* keep the world clean */
	}
	env_end(&e);
	assert_int_equal(n, 2);
}

/*
 * linux_anchor 1.5: VM_IO and VM_PFNMAP VMAs cannot be GUPed (-EFAULT), whatever
 * the flags.  (Their PTEs would be special in Linux, which the model cannot
 * express for an anon VMA, so gup-fast is tried only where nothing is present.)
 */
static void test_vma_io_pfnmap(void **state)
{
	static const uint32_t vmflags[] = { VM_IO, VM_PFNMAP };
	struct gup_page *pages[1];
	struct fx_snap s;
	struct env e;

	(void)state;
	env_new(&e, NULL);
	for (size_t i = 0; i < sizeof(vmflags) / sizeof(vmflags[0]); i++) {
		uint64_t a = fx_map_private(e.t, 2);

		fx_fill_pages(e.t, a, 1, 15);
		set_vm_flags(e.mm, a, vmflags[i]);
		fx_snap(e.w, &s);
		for (int api = 0; api < NR_APIS; api++) {
			if (api_fast(api))
				continue;
			if (call_api(&e, api, a, 1, 0, pages) != -EFAULT ||
			    call_api(&e, api, a, 1, F_WRITE | F_FORCE, pages) != -EFAULT ||
			    call_api(&e, api, a + PG, 1, F_WRITE, pages) != -EFAULT)
				fail_msg("%s on a %#x VMA", api_names[api], vmflags[i]);
		}
		assert_int_equal(call_api(&e, GET_FAST, a + PG, 1, F_WRITE, pages), -EFAULT);
		assert_int_equal(call_api(&e, PIN_FAST, a + PG, 1, 0, pages), -EFAULT);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 0);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
		assert_int_equal(fx_pfn(e.t, a + PG), -EFAULT);
	}
	env_end(&e);
}

/* ------------------------------------------------------------------------ */
/* 5. Pin accounting                                                        */
/* ------------------------------------------------------------------------ */

/*
 * linux_anchor 1.6: FOLL_GET adds 1 to the refcount, FOLL_PIN adds 1024 (small
 * page); maybe_dma_pinned is refcount >= 1024, so a FOLL_GET alone never looks
 * pinned; each release undoes exactly its own part.
 */
static void test_pin_refcount_bias(void **state)
{
	struct gup_page *g[1], *p1[1], *p2[1];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 1);
	fx_fill_pages(e.t, a, 1, 16);
	fx_snap(e.w, &s);
	assert_int_equal(call_api(&e, GET, a, 1, 0, g), 1);
	assert_int_equal(gup_page_ref_count(g[0]), 2);
	assert_false(gup_page_maybe_dma_pinned(g[0]));
	assert_int_equal(call_api(&e, PIN, a, 1, 0, p1), 1);
	assert_ptr_equal(p1[0], g[0]);
	assert_int_equal(gup_page_ref_count(g[0]), 2 + BIAS);
	assert_true(gup_page_maybe_dma_pinned(g[0]));
	assert_int_equal(call_api(&e, PIN_FAST, a, 1, F_WRITE, p2), 1);
	assert_int_equal(gup_page_ref_count(g[0]), 2 + 2 * BIAS);
	assert_int_equal(gup_page_mapcount(g[0]), 1);
	gup_unpin_user_page(p2[0]);
	assert_int_equal(gup_page_ref_count(g[0]), 2 + BIAS);
	gup_put_page(g[0]);
	assert_int_equal(gup_page_ref_count(g[0]), 1 + BIAS);
	assert_true(gup_page_maybe_dma_pinned(g[0]));
	gup_unpin_user_page(p1[0]);
	assert_int_equal(gup_page_ref_count(g[0]), 1);
	assert_false(gup_page_maybe_dma_pinned(g[0]));
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 2);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_RELEASED), 2);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 1);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_RELEASED), 1);
	env_end(&e);
}

/*
 * linux_anchor 1.6, 1.10: a R/O short-term pin of a read-faulted page of a
 * private anon mapping returns the shared zero page and pins nothing (no count,
 * not in nr_foll_pin_acquired); its unpin is a no-op.  The PTE keeps mapping the
 * zero page.
 */
static void test_pin_zero_page_shortterm(void **state)
{
	static const enum api pins[] = { PIN, PIN_REMOTE, PIN_REMOTE_LOCKED, PIN_UNLOCKED,
					 PIN_FAST };
	struct gup_page *pages[2], *zero;
	struct fx_snap s;
	unsigned zero_ref;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	zero = zero_handle(e.w);
	a = fx_map_private(e.t, 2);
	fx_check_zero_pages(e.t, a, 2);
	assert_int_equal(fx_pfn(e.t, a), 0);
	zero_ref = gup_page_ref_count(zero);
	fx_snap(e.w, &s);
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		assert_int_equal(call_api(&e, pins[i], a, 2, 0, pages), 2);
		assert_ptr_equal(pages[0], zero);
		assert_ptr_equal(pages[1], zero);
		assert_int_equal(gup_page_ref_count(zero), zero_ref);
		gup_unpin_user_pages(pages, 2);
		assert_int_equal(gup_page_ref_count(zero), zero_ref);
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_RELEASED), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT_UNSHARE), 0);
	assert_int_equal(fx_pfn(e.t, a), 0);
	assert_int_equal(fx_pfn(e.t, a + PG), 0);
	env_end(&e);
}

/*
 * linux_anchor 1.10 (gup_must_unshare, non-anon branch): a R/O FOLL_LONGTERM pin
 * of the zero page in a COW mapping must see later writes, so it unshares first:
 * a new exclusive anon page, mapped read-only, gets the pin.  A later write by
 * the task reuses that page (it is exclusive), and the pin sees the write.
 */
static void test_pin_zero_page_longterm(void **state)
{
	static const enum api pins[] = { PIN, PIN_FAST };
	struct gup_page *pages[1];
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 2);
	fx_check_zero_pages(e.t, a, 2);
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		uint64_t va = a + i * PG;
		struct fx_snap s;

		fx_snap(e.w, &s);
		assert_int_equal(call_api(&e, pins[i], va, 1, F_LONGTERM, pages), 1);
		assert_false(gup_page_is_zero(pages[0]));
		assert_true(gup_page_anon_exclusive(pages[0]));
		assert_int_equal(gup_page_ref_count(pages[0]), 1 + BIAS);
		assert_int_equal(gup_page_pfn(pages[0]), fx_pfn(e.t, va));
		assert_false(fx_pte(e.t, va) & PTE_WRITE);	/* unshare grants no write */
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT_UNSHARE), 1);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 1);
		check_page_zero(pages[0]);

		fx_snap(e.w, &s);
		fx_store_u64(e.t, va + 16, 0xfeed);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_COW_REUSE), 1);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_COW_COPY), 0);
		assert_int_equal(gup_page_pfn(pages[0]), fx_pfn(e.t, va));
		assert_int_equal(page_u64(pages[0], 16), 0xfeed);
		gup_unpin_user_page(pages[0]);
		assert_int_equal(gup_page_ref_count(pages[0]), 1);
	}
	env_end(&e);
}

/*
 * linux_anchor 1.6: MMF_HAS_PINNED is set by the first FOLL_PIN call on an mm
 * (slow or fast), never by FOLL_GET, and never cleared while the mm lives; a
 * child of fork starts without it.
 */
static void test_pin_mmf_has_pinned(void **state)
{
	struct gup_page *pages[1];
	struct gup_task *child;
	struct env e;
	uint64_t a, b;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 1);
	fx_fill_pages(e.t, a, 1, 17);
	assert_false(has_pinned(e.mm));
	assert_int_equal(call_api(&e, GET, a, 1, 0, pages), 1);
	gup_put_page(pages[0]);
	assert_int_equal(call_api(&e, GET_FAST, a, 1, 0, pages), 1);
	gup_put_page(pages[0]);
	assert_false(has_pinned(e.mm));
	assert_int_equal(call_api(&e, PIN, a, 1, 0, pages), 1);
	assert_true(has_pinned(e.mm));
	gup_unpin_user_page(pages[0]);
	assert_true(has_pinned(e.mm));		/* sticky */
	fx_store_u64(e.t, a, 1);
	assert_true(has_pinned(e.mm));

	/* The tracer's pin_user_pages_fast marks its own mm. */
	assert_false(has_pinned(gup_task_mm(e.tr)));
	b = fx_map_private(e.tr, 1);
	assert_int_equal(gup_pin_user_pages_fast(e.tr, b, 1, F_WRITE, pages), 1);
	gup_unpin_user_page(pages[0]);
	assert_true(has_pinned(gup_task_mm(e.tr)));
	child = fx_fork(e.t);
	assert_false(has_pinned(gup_task_mm(child)));
	gup_task_exit(child);
	env_end(&e);
}

/* linux_anchor 1.6: nr_foll_pin_acquired/released move by the number of pages. */
static void test_pin_counters(void **state)
{
	struct gup_page *pages[8];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 8);
	fx_fill_pages(e.t, a, 5, 18);
	fx_snap(e.w, &s);
	assert_int_equal(call_api(&e, PIN, a, 5, F_WRITE, pages), 5);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 5);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_RELEASED), 0);
	assert_int_equal(call_api(&e, PIN_FAST, a + 5 * PG, 3, F_WRITE, pages + 5), 3);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 8);
	gup_unpin_user_pages(pages, 3);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_RELEASED), 3);
	gup_unpin_user_pages_dirty_lock(pages + 3, 5, true);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_RELEASED), 8);
	assert_int_equal(call_api(&e, GET_UNLOCKED, a, 8, 0, pages), 8);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 8);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 8);
	release(GET, pages, 8);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_RELEASED), 8);
	env_end(&e);
}

/* ------------------------------------------------------------------------ */
/* 6. The locked protocol and fault retry: a fake file                      */
/* ------------------------------------------------------------------------ */

#define FILE_BASE	UINT64_C(0x300000000)
#define FILE_PAGES	4
#define MAX_CALLS	16

enum ff_mode {
	FF_RETRY,	/* first try with ALLOW_RETRY: drop the lock, VM_FAULT_RETRY      */
	FF_COMPLETED,	/* first try with ALLOW_RETRY: map, drop the lock, COMPLETED      */
};

/*
 * A file whose pages need "I/O": a fault that may retry starts it, drops the mmap
 * lock and asks to be retried (or finishes the fault itself, FF_COMPLETED); a
 * fault that may not (no ALLOW_RETRY, or the TRIED retry) gets the page at once;
 * with RETRY_NOWAIT it only starts the I/O and keeps the lock.  Each page of the
 * cache holds one cache reference.
 */
struct fake_file {
	struct gup_world *w;
	struct page *cache[FILE_PAGES];
	enum ff_mode mode;
	bool kill_on_drop;	/* a fatal signal arrives while the lock is dropped */
	int calls, drops;
	unsigned flags[MAX_CALLS];
};

static struct page *ff_cache_page(struct fake_file *f, uint64_t pgoff)
{
	struct page *p = f->cache[pgoff];

	if (!p) {
		p = alloc_page(f->w, GFP_KERNEL | GFP_ZERO);
		if (!p)
			return NULL;
		memset(page_data(&f->w->arena, p), 'a' + (int)pgoff, PAGE_SIZE);
		write_once_u64(&p->count, PAGE_REF_ONE);	/* the cache's reference */
		write_once_u64(&p->index, pgoff);
		f->cache[pgoff] = p;
	}
	return p;
}

/* Finish the fault ourselves (VM_FAULT_COMPLETED): map the cache page R/O. */
static void ff_map(struct vm_fault *vmf, struct page *p)
{
	spin_lock(&vmf->pt->ptl);
	if (pte_none(ptep_get(vmf->pte))) {
		page_add_map_ref(p);
		set_pte(vmf->pte, pfn_pte(page_to_pfn(&vmf->w->arena, p),
					  PTE_PRESENT | PTE_ACCESSED));
		add_mm_rss_task(vmf->mm, vmf->task, 1);
	}
	spin_unlock(&vmf->pt->ptl);
}

static unsigned ff_fault(struct vm_fault *vmf)
{
	struct fake_file *f = vmf->vma->vm_private;
	unsigned fl = vmf->flags;
	struct page *p;

	if (f->calls < MAX_CALLS)
		f->flags[f->calls] = fl;
	f->calls++;
	if (vmf->pgoff >= FILE_PAGES)
		return VM_FAULT_SIGBUS;
	p = ff_cache_page(f, vmf->pgoff);	/* start the "I/O" */
	if (!p)
		return VM_FAULT_OOM;
	if (!(fl & FAULT_FLAG_ALLOW_RETRY) || (fl & FAULT_FLAG_TRIED)) {
		get_page(p);	/* the reference vmf->page hands to the fault path */
		vmf->page = p;
		return 0;
	}
	if (fl & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;	/* may not wait, may not drop the lock */
	f->drops++;
	if (f->mode == FF_COMPLETED)
		ff_map(vmf, p);
	if (f->kill_on_drop)
		gup_task_kill(vmf->task);
	mmap_read_unlock(vmf->mm);
	return f->mode == FF_COMPLETED ? VM_FAULT_COMPLETED : VM_FAULT_RETRY;
}

static const struct vm_operations ff_ops = {
	.fault = ff_fault,
	.name = "retry-file",
};

static void ff_map_vma(struct gup_task *t, struct fake_file *f)
{
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_vma *vma;

	mmap_write_lock(mm);
	vma = vma_alloc(mm);
	assert_non_null(vma);
	vma->node.start = FILE_BASE;
	vma->node.end = FILE_BASE + FILE_PAGES * PAGE_SIZE;
	vma->vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;
	vma->vm_ops = &ff_ops;
	vma->vm_private = f;
	assert_int_equal(vma_link(mm, vma), 0);
	mmap_write_unlock(mm);
}

/* A world with a task mapping the fake file at FILE_BASE, and a tracer task. */
static void ff_env_new(struct env *e, struct fake_file *f, enum ff_mode mode)
{
	memset(f, 0, sizeof(*f));
	env_new(e, NULL);
	f->w = e->w;
	f->mode = mode;
	ff_map_vma(e->t, f);
}

/*
 * Tasks exit first (the cache pages get unmapped), then the cache goes; the
 * checker does not know the cache's references, so it runs only after.
 */
static void ff_env_end(struct env *e, struct fake_file *f)
{
	gup_task_exit(e->tr);
	gup_task_exit(e->t);
	for (int i = 0; i < FILE_PAGES; i++)
		if (f->cache[i]) {
			assert_int_equal(page_mapcount(f->cache[i]), 0);
			assert_int_equal(page_ref_count(f->cache[i]), 1);
			put_page(f->w, f->cache[i]);
			f->cache[i] = NULL;
		}
	fx_world_end(e->w);
}

/* Is @mm's mmap lock really free (no reader, no writer)? */
static bool mmap_lock_free(struct gup_mm *mm)
{
	if (!down_write_trylock(&mm->mmap_lock))
		return false;
	up_write(&mm->mmap_lock);
	return true;
}

static struct gup_page *cache_handle(struct fake_file *f, int i)
{
	return (struct gup_page *)f->cache[i];
}

/*
 * linux_anchor 1.8: _remote with @locked passes FAULT_FLAG_ALLOW_RETRY; a handler
 * that drops the lock makes GUP retry the page with FAULT_FLAG_TRIED, and since
 * the caller's critical section was lost, GUP returns with the lock released and
 * *locked == 0 ("caller-held-lock callers see *locked==0 iff GUP dropped it"):
 * the caller must not unlock.
 */
static void test_retry_remote_locked(void **state)
{
	static const enum api apis[] = { GET_REMOTE_LOCKED, PIN_REMOTE_LOCKED };
	int locked_after[2], held_after[2], free_after[2];
	struct gup_page *pages[1];
	struct fake_file f;
	struct fx_snap s;
	struct env e;

	(void)state;
	ff_env_new(&e, &f, FF_RETRY);
	for (int i = 0; i < 2; i++) {
		uint64_t va = FILE_BASE + (uint64_t)i * PG;
		int calls = f.calls, locked = 1;
		long n;

		fx_snap(e.w, &s);
		assert_int_equal(gup_mmap_read_lock(e.tr, e.mm), 0);
		n = apis[i] == GET_REMOTE_LOCKED ?
			gup_get_user_pages_remote(e.tr, e.mm, va, 1, 0, pages, &locked) :
			gup_pin_user_pages_remote(e.tr, e.mm, va, 1, 0, pages, &locked);
		locked_after[i] = locked;
		held_after[i] = task_holds_mmap_lock(e.tr, e.mm);
		if (locked)
			gup_mmap_read_unlock(e.tr, e.mm);	/* only if GUP says we hold it */
		free_after[i] = mmap_lock_free(e.mm);
		assert_int_equal(n, 1);
		assert_ptr_equal(pages[0], cache_handle(&f, i));
		assert_int_equal(f.calls - calls, 2);
		assert_true(f.flags[calls] & FAULT_FLAG_ALLOW_RETRY);
		assert_false(f.flags[calls] & FAULT_FLAG_TRIED);
		assert_true(f.flags[calls] & FAULT_FLAG_REMOTE);
		assert_true(f.flags[calls + 1] & FAULT_FLAG_ALLOW_RETRY);
		assert_true(f.flags[calls + 1] & FAULT_FLAG_TRIED);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GUP_RETRY), 1);
		assert_int_equal(gup_page_ref_count(pages[0]),
				 2 + (i ? BIAS : 1));	/* cache + map + ours */
		release(apis[i], pages, 1);
	}
	ff_env_end(&e, &f);
	for (int i = 0; i < 2; i++) {
		if (locked_after[i] != 0 || held_after[i] || !free_after[i])
			fail_msg("%s: the lock was dropped, yet on return *locked = %d, "
				 "caller holds it: %d, lock free: %d (want 0, 0, 1)",
				 api_names[apis[i]], locked_after[i], held_after[i], free_after[i]);
	}
}

/*
 * linux_anchor 1.1, 1.8: without `locked` (get_user_pages, pin_user_pages,
 * _remote with NULL) GUP never passes FAULT_FLAG_ALLOW_RETRY, so a handler can
 * never drop the lock; the caller holds it throughout.
 */
static void test_retry_never_without_locked(void **state)
{
	struct gup_page *pages[1];
	struct fake_file f;
	struct fx_snap s;
	struct env e;

	(void)state;
	ff_env_new(&e, &f, FF_RETRY);
	fx_snap(e.w, &s);
	assert_int_equal(gup_mmap_read_lock(e.tr, e.mm), 0);
	assert_int_equal(gup_get_user_pages_remote(e.tr, e.mm, FILE_BASE, 1, 0, pages, NULL), 1);
	assert_ptr_equal(pages[0], cache_handle(&f, 0));
	gup_put_page(pages[0]);
	assert_int_equal(gup_pin_user_pages_remote(e.tr, e.mm, FILE_BASE + PG, 1, 0, pages,
						   NULL), 1);
	gup_unpin_user_page(pages[0]);
	assert_true(task_holds_mmap_lock(e.tr, e.mm));
	gup_mmap_read_unlock(e.tr, e.mm);

	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_get_user_pages(e.t, FILE_BASE + 2 * PG, 1, 0, pages), 1);
	gup_put_page(pages[0]);
	assert_int_equal(gup_pin_user_pages(e.t, FILE_BASE + 3 * PG, 1, 0, pages), 1);
	gup_unpin_user_page(pages[0]);
	assert_true(task_holds_mmap_lock(e.t, e.mm));
	gup_mmap_read_unlock(e.t, e.mm);

	assert_int_equal(f.calls, 4);
	assert_int_equal(f.drops, 0);
	for (int i = 0; i < 4; i++)
		assert_false(f.flags[i] & (FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_TRIED));
	assert_true(f.flags[0] & FAULT_FLAG_REMOTE);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GUP_RETRY), 0);
	ff_env_end(&e, &f);
}

/*
 * linux_anchor 1.8: _unlocked (and gup-fast's fallback) take the lock, let the
 * handler drop it, retry the page with FAULT_FLAG_TRIED (counted as a GUP retry),
 * continue with the rest of the range without TRIED, and return unlocked.
 */
static void test_retry_unlocked(void **state)
{
	struct gup_page *pages[2];
	struct fake_file f;
	struct fx_snap s;
	struct env e;

	(void)state;
	ff_env_new(&e, &f, FF_RETRY);
	fx_snap(e.w, &s);
	assert_int_equal(gup_get_user_pages_unlocked(e.t, FILE_BASE, 2, pages, 0), 2);
	assert_ptr_equal(pages[0], cache_handle(&f, 0));
	assert_ptr_equal(pages[1], cache_handle(&f, 1));
	assert_int_equal(f.calls, 4);
	assert_int_equal(f.drops, 2);
	assert_int_equal(f.flags[0] & (FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_TRIED),
			 FAULT_FLAG_ALLOW_RETRY);
	assert_true(f.flags[0] & FAULT_FLAG_KILLABLE);
	assert_true(f.flags[1] & FAULT_FLAG_TRIED);
	assert_true(f.flags[1] & FAULT_FLAG_ALLOW_RETRY);
	assert_false(f.flags[2] & FAULT_FLAG_TRIED);
	assert_true(f.flags[3] & FAULT_FLAG_TRIED);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GUP_RETRY), 2);
	assert_false(task_holds_mmap_lock(e.t, e.mm));
	assert_true(mmap_lock_free(e.mm));
	release(GET, pages, 2);

	assert_int_equal(gup_pin_user_pages_unlocked(e.t, FILE_BASE + 2 * PG, 1, pages, 0), 1);
	assert_ptr_equal(pages[0], cache_handle(&f, 2));
	assert_int_equal(gup_page_ref_count(pages[0]), 2 + BIAS);
	gup_unpin_user_page(pages[0]);
	assert_int_equal(gup_get_user_pages_fast(e.t, FILE_BASE + 3 * PG, 1, 0, pages), 1);
	assert_ptr_equal(pages[0], cache_handle(&f, 3));
	gup_put_page(pages[0]);
	assert_int_equal(f.calls, 8);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GUP_RETRY), 4);
	assert_true(mmap_lock_free(e.mm));
	ff_env_end(&e, &f);
}

/*
 * linux_anchor 1.4, 1.8: FOLL_NOWAIT passes ALLOW_RETRY|RETRY_NOWAIT: the handler
 * starts the I/O and returns VM_FAULT_RETRY keeping the lock; GUP returns what it
 * had (0 here - the only case where 0 is not an error) and *locked stays 1.
 */
static void test_retry_nowait(void **state)
{
	struct gup_page *pages[2] = { NULL, NULL };
	struct fake_file f;
	struct env e;
	int locked = 1;
	char c;

	(void)state;
	ff_env_new(&e, &f, FF_RETRY);
	assert_int_equal(gup_mmap_read_lock(e.tr, e.mm), 0);
	assert_int_equal(gup_get_user_pages_remote(e.tr, e.mm, FILE_BASE, 1, F_NOWAIT, pages,
						   &locked), 0);
	assert_int_equal(locked, 1);
	assert_true(task_holds_mmap_lock(e.tr, e.mm));
	assert_null(pages[0]);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.flags[0] & (FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT),
			 FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT);
	assert_non_null(f.cache[0]);		/* the I/O was started */
	gup_mmap_read_unlock(e.tr, e.mm);
	assert_int_equal(fx_pfn(e.t, FILE_BASE), -EFAULT);

	/* Without `locked` too. */
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_get_user_pages(e.t, FILE_BASE + PG, 1, F_NOWAIT, pages), 0);
	assert_true(task_holds_mmap_lock(e.t, e.mm));
	gup_mmap_read_unlock(e.t, e.mm);

	/* A present first page: a short count of 1. */
	assert_int_equal(gup_load(e.t, FILE_BASE, &c, 1), 0);
	assert_int_equal(c, 'a');
	assert_int_equal(gup_mmap_read_lock(e.tr, e.mm), 0);
	locked = 1;
	assert_int_equal(gup_pin_user_pages_remote(e.tr, e.mm, FILE_BASE, 3, F_NOWAIT, pages,
						   &locked), 1);
	assert_int_equal(locked, 1);
	assert_ptr_equal(pages[0], cache_handle(&f, 0));
	gup_mmap_read_unlock(e.tr, e.mm);
	gup_unpin_user_page(pages[0]);
	assert_true(mmap_lock_free(e.mm));
	ff_env_end(&e, &f);
}

/*
 * linux_anchor 1.8: a handler may finish the fault itself and release the lock
 * (VM_FAULT_COMPLETED); GUP re-takes the lock, finds the page and goes on.  Like
 * VM_FAULT_RETRY it means the lock was dropped, so a caller-held lock comes back
 * released with *locked == 0.
 */
static void test_retry_completed(void **state)
{
	struct gup_page *pages[2];
	struct fake_file f;
	struct fx_snap s;
	int locked = 1, held;
	struct env e;
	bool lock_free;
	long n;

	(void)state;
	ff_env_new(&e, &f, FF_COMPLETED);
	fx_snap(e.w, &s);
	assert_int_equal(gup_get_user_pages_unlocked(e.t, FILE_BASE, 2, pages, 0), 2);
	assert_ptr_equal(pages[0], cache_handle(&f, 0));
	assert_ptr_equal(pages[1], cache_handle(&f, 1));
	assert_int_equal(f.calls, 2);		/* no second call: it was completed */
	assert_int_equal(f.drops, 2);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GUP_RETRY), 2);
	assert_int_equal(fx_pfn(e.t, FILE_BASE), (int64_t)gup_page_pfn(pages[0]));
	assert_true(mmap_lock_free(e.mm));
	release(GET, pages, 2);

	assert_int_equal(gup_pin_user_pages_fast(e.t, FILE_BASE + 2 * PG, 1, 0, pages), 1);
	assert_ptr_equal(pages[0], cache_handle(&f, 2));
	gup_unpin_user_page(pages[0]);

	assert_int_equal(gup_mmap_read_lock(e.tr, e.mm), 0);
	n = gup_get_user_pages_remote(e.tr, e.mm, FILE_BASE + 3 * PG, 1, 0, pages, &locked);
	held = task_holds_mmap_lock(e.tr, e.mm);
	if (locked)
		gup_mmap_read_unlock(e.tr, e.mm);
	lock_free = mmap_lock_free(e.mm);
	assert_int_equal(n, 1);
	assert_ptr_equal(pages[0], cache_handle(&f, 3));
	gup_put_page(pages[0]);
	assert_int_equal(f.calls, 4);
	ff_env_end(&e, &f);
	if (locked != 0 || held || !lock_free)
		fail_msg("VM_FAULT_COMPLETED under _remote(locked): *locked = %d, caller holds "
			 "it: %d, lock free: %d (want 0, 0, 1)", locked, held, lock_free);
}

/*
 * linux_anchor 1.3, 1.7: a task with a fatal signal gets -EINTR from the unlocked
 * variants (the page loop checks before faulting), having faulted nothing.
 */
static void test_retry_killed_task(void **state)
{
	struct gup_page *pages[1];
	struct fake_file f;
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	ff_env_new(&e, &f, FF_RETRY);
	a = fx_map_private(e.t, 1);
	gup_task_kill(e.t);
	fx_snap(e.w, &s);
	assert_int_equal(gup_get_user_pages_unlocked(e.t, FILE_BASE, 1, pages, 0), -EINTR);
	assert_int_equal(gup_pin_user_pages_unlocked(e.t, FILE_BASE, 1, pages, 0), -EINTR);
	assert_int_equal(gup_get_user_pages_unlocked(e.t, a, 1, pages, F_WRITE), -EINTR);
	assert_int_equal(gup_get_user_pages_fast(e.t, a, 1, F_WRITE, pages), -EINTR);
	assert_int_equal(gup_pin_user_pages_fast(e.t, FILE_BASE, 1, 0, pages), -EINTR);
	assert_int_equal(f.calls, 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	assert_false(task_holds_mmap_lock(e.t, e.mm));
	assert_true(mmap_lock_free(e.mm));
	ff_env_end(&e, &f);
}

/*
 * linux_anchor 1.8: a fatal signal that arrives while the handler has the lock
 * dropped ends the retry loop: the pages done so far are returned (-EINTR if
 * none), unlocked.
 */
static void test_retry_killed_while_dropped(void **state)
{
	struct gup_page *pages[2] = { NULL, NULL };
	struct fake_file f;
	struct env e;
	char c;

	(void)state;
	ff_env_new(&e, &f, FF_RETRY);
	assert_int_equal(gup_load(e.t, FILE_BASE, &c, 1), 0);	/* page 0 present */
	f.kill_on_drop = true;
	assert_int_equal(gup_get_user_pages_unlocked(e.t, FILE_BASE, 2, pages, 0), 1);
	assert_ptr_equal(pages[0], cache_handle(&f, 0));
	assert_null(pages[1]);
	assert_true(mmap_lock_free(e.mm));
	gup_put_page(pages[0]);
	assert_int_equal(gup_get_user_pages_unlocked(e.t, FILE_BASE + PG, 1, pages, 0), -EINTR);
	assert_true(mmap_lock_free(e.mm));
	ff_env_end(&e, &f);
}

/* ------------------------------------------------------------------------ */
/* 7. R/O pins and unsharing                                                */
/* ------------------------------------------------------------------------ */

/*
 * linux_anchor 1.10, cow.c A9/A10: after fork (child alive) a page is COW-shared;
 * a R/O pin in the parent must not land on it (a later COW would leave the pin
 * behind), so GUP unshares first: the parent gets a private, anon-exclusive copy,
 * still mapped R/O, and the pin is on it.  A later write by the parent reuses the
 * pinned page, so the pin sees it; the child keeps the original.  gup-fast cannot
 * tell, falls back, and the slow path unshares the same way.
 */
static void test_unshare_ro_pin_after_fork(void **state)
{
	static const enum api pins[] = { PIN, PIN_FAST };
	struct gup_page *pages[1];
	struct gup_task *child;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 2);
	fx_fill_pages(e.t, a, 2, 19);
	child = fx_fork(e.t);
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		uint64_t va = a + i * PG;
		int64_t shared = fx_pfn(e.t, va);
		struct fx_snap s;

		assert_int_equal(fx_pfn(child, va), shared);
		fx_snap(e.w, &s);
		assert_int_equal(call_api(&e, pins[i], va, 1, 0, pages), 1);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT_UNSHARE), 1);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_UNSHARE_COPY), 1);
		if (pins[i] == PIN_FAST)
			assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GUP_FAST_FALLBACK), 1);
		assert_int_not_equal(gup_page_pfn(pages[0]), shared);
		assert_int_equal(gup_page_pfn(pages[0]), fx_pfn(e.t, va));
		assert_int_equal(fx_pfn(child, va), shared);
		assert_true(gup_page_anon_exclusive(pages[0]));
		assert_true(gup_page_maybe_dma_pinned(pages[0]));
		assert_int_equal(gup_page_mapcount(pages[0]), 1);
		assert_false(fx_pte(e.t, va) & PTE_WRITE);
		check_page_has(pages[0], 19, va);

		fx_snap(e.w, &s);
		fx_store_u64(e.t, va, 0xabcd);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_COW_COPY), 0);
		assert_int_equal(gup_page_pfn(pages[0]), fx_pfn(e.t, va));
		assert_int_equal(page_u64(pages[0], 0), 0xabcd);
		gup_unpin_user_page(pages[0]);
	}
	fx_check_pages(child, a, 2, 19);
	gup_task_exit(child);
	env_end(&e);
}

/*
 * linux_anchor 1.10: only R/O *pins* unshare (gup_must_unshare needs FOLL_PIN
 * without FOLL_WRITE); a R/O FOLL_GET reference takes the COW-shared page as is.
 */
static void test_unshare_ro_get_keeps_shared(void **state)
{
	static const enum api gets[] = { GET, GET_REMOTE, GET_UNLOCKED, GET_FAST, GET_FAST_ONLY };
	struct gup_page *pages[1];
	struct gup_task *child;
	int64_t shared;
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 1);
	fx_fill_pages(e.t, a, 1, 20);
	child = fx_fork(e.t);
	shared = fx_pfn(e.t, a);
	fx_snap(e.w, &s);
	for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
		assert_int_equal(call_api(&e, gets[i], a, 1, 0, pages), 1);
		assert_int_equal(gup_page_pfn(pages[0]), shared);
		assert_false(gup_page_anon_exclusive(pages[0]));
		assert_int_equal(gup_page_mapcount(pages[0]), 2);
		assert_int_equal(gup_page_ref_count(pages[0]), 3);
		gup_put_page(pages[0]);
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT_UNSHARE), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);
	assert_int_equal(fx_pfn(e.t, a), shared);
	assert_int_equal(fx_pfn(child, a), shared);
	gup_task_exit(child);
	env_end(&e);
}

/*
 * Under linux-2.6.29 there is no anon exclusivity and no unsharing: a R/O pin
 * after fork lands on the COW-shared page itself (the pre-5.19 unreliability
 * cow.c documents).
 */
static void test_unshare_old_policy(void **state)
{
	struct gup_page *pages[1];
	struct gup_task *child;
	int64_t shared;
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, FX_POLICY_OLD);
	a = fx_map_private(e.t, 1);
	fx_fill_pages(e.t, a, 1, 21);
	child = fx_fork(e.t);
	shared = fx_pfn(e.t, a);
	fx_snap(e.w, &s);
	assert_int_equal(call_api(&e, PIN, a, 1, 0, pages), 1);
	assert_int_equal(gup_page_pfn(pages[0]), shared);
	assert_int_equal(fx_pfn(child, a), shared);
	assert_int_equal(gup_page_mapcount(pages[0]), 2);
	assert_true(gup_page_maybe_dma_pinned(pages[0]));
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT_UNSHARE), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);
	gup_unpin_user_page(pages[0]);
	assert_int_equal(call_api(&e, PIN_FAST, a, 1, 0, pages), 1);
	assert_int_equal(gup_page_pfn(pages[0]), shared);
	gup_unpin_user_page(pages[0]);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT_UNSHARE), 0);
	gup_task_exit(child);
	env_end(&e);
}

/* ------------------------------------------------------------------------ */
/* 8. gup_fixup_user_fault                                                  */
/* ------------------------------------------------------------------------ */

static int fixup(struct gup_task *caller, struct gup_mm *mm, uint64_t addr, unsigned flags,
		 bool *unlocked)
{
	int ret;

	assert_int_equal(gup_mmap_read_lock(caller, mm), 0);
	ret = gup_fixup_user_fault(caller, mm, addr, flags, unlocked);
	assert_true(task_holds_mmap_lock(caller, mm));	/* never returns unlocked */
	gup_mmap_read_unlock(caller, mm);
	return ret;
}

/*
 * linux_anchor 1.1 (fixup_user_fault): a write fault on an unpopulated page makes
 * it present and writable; a read fault maps the zero page; remote faults work
 * on another task's mm.
 */
static void test_fixup_write_fault(void **state)
{
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 3);
	fx_snap(e.w, &s);
	assert_int_equal(fixup(e.t, e.mm, a, GUP_FAULT_FLAG_WRITE, NULL), 0);
	assert_true(fx_pfn(e.t, a) > 0);
	assert_true(fx_pte(e.t, a) & PTE_WRITE);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT_ANON_WRITE), 1);
	assert_int_equal(fixup(e.t, e.mm, a + PG, 0, NULL), 0);
	assert_int_equal(fx_pfn(e.t, a + PG), 0);
	assert_int_equal(fixup(e.tr, e.mm, a + 2 * PG,
			       GUP_FAULT_FLAG_WRITE | GUP_FAULT_FLAG_REMOTE, NULL), 0);
	assert_true(fx_pfn(e.t, a + 2 * PG) > 0);
	/* A second write fault on a writable page is harmless. */
	assert_int_equal(fixup(e.t, e.mm, a, GUP_FAULT_FLAG_WRITE, NULL), 0);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 0);	/* no reference */
	fx_check_zero_pages(e.t, a, 3);
	env_end(&e);
}

/* fixup_user_fault checks the VMA: a write to a read-only VMA, or no VMA, is -EFAULT. */
static void test_fixup_ro_vma(void **state)
{
	struct env e;
	uint64_t a, n;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_anon(e.t, 1, GUP_PROT_READ, GUP_MAP_PRIVATE);
	n = fx_map_anon(e.t, 1, GUP_PROT_NONE, GUP_MAP_PRIVATE);
	assert_int_equal(fixup(e.t, e.mm, a, GUP_FAULT_FLAG_WRITE, NULL), -EFAULT);
	assert_int_equal(fx_pfn(e.t, a), -EFAULT);
	assert_int_equal(fixup(e.t, e.mm, a, 0, NULL), 0);
	assert_int_equal(fx_pfn(e.t, a), 0);
	assert_int_equal(fixup(e.t, e.mm, n, 0, NULL), -EFAULT);
	assert_int_equal(fixup(e.t, e.mm, a + 64 * PG, 0, NULL), -EFAULT);
	assert_int_equal(fixup(e.t, e.mm, GUP_TASK_SIZE, 0, NULL), -EFAULT);
	env_end(&e);
}

/*
 * The model's fault-flag contract (gup.h): only WRITE, REMOTE and UNSHARE may be
 * passed, and WRITE|UNSHARE is illegal (linux_anchor 1.8); anything else is
 * -EINVAL and no fault happens.
 */
static void test_fixup_bad_flags(void **state)
{
	static const unsigned bad[] = {
		GUP_FAULT_FLAG_WRITE | GUP_FAULT_FLAG_UNSHARE,
		0x0004,		/* ALLOW_RETRY: GUP's to set, from `unlocked` */
		0x0020,		/* TRIED */
		0x0040,		/* USER */
		0x8000,
	};
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 1);
	fx_snap(e.w, &s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool unlocked = false;

		assert_int_equal(fixup(e.t, e.mm, a, bad[i], NULL), -EINVAL);
		assert_int_equal(fixup(e.t, e.mm, a, bad[i], &unlocked), -EINVAL);
		assert_false(unlocked);
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT), 0);
	assert_int_equal(fx_pfn(e.t, a), -EFAULT);
	env_end(&e);
}

/*
 * linux_anchor 1.1: with `unlocked`, fixup_user_fault lets the handler drop the
 * lock (ALLOW_RETRY), re-takes it, retries with TRIED, sets *unlocked and never
 * returns with the lock dropped; VM_FAULT_COMPLETED likewise.  A fault that does
 * not drop the lock leaves *unlocked false.
 */
static void test_fixup_unlocked_retry(void **state)
{
	static const enum ff_mode modes[] = { FF_RETRY, FF_COMPLETED };

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		bool unlocked = false;
		struct fake_file f;
		struct env e;
		uint64_t a;

		ff_env_new(&e, &f, modes[i]);
		assert_int_equal(fixup(e.t, e.mm, FILE_BASE, 0, &unlocked), 0);
		assert_true(unlocked);
		assert_int_equal(f.drops, 1);
		assert_int_equal(f.calls, modes[i] == FF_RETRY ? 2 : 1);
		assert_true(f.flags[0] & FAULT_FLAG_ALLOW_RETRY);
		if (modes[i] == FF_RETRY)
			assert_true(f.flags[1] & FAULT_FLAG_TRIED);
		assert_int_equal(fx_pfn(e.t, FILE_BASE),
				 (int64_t)gup_page_pfn(cache_handle(&f, 0)));
		assert_true(mmap_lock_free(e.mm));

		/* Remote, by the tracer. */
		unlocked = false;
		assert_int_equal(fixup(e.tr, e.mm, FILE_BASE + PG, GUP_FAULT_FLAG_REMOTE,
				       &unlocked), 0);
		assert_true(unlocked);

		/* Anon memory never drops the lock. */
		a = fx_map_private(e.t, 1);
		unlocked = false;
		assert_int_equal(fixup(e.t, e.mm, a, GUP_FAULT_FLAG_WRITE, &unlocked), 0);
		assert_false(unlocked);
		ff_env_end(&e, &f);
	}
}

/* ------------------------------------------------------------------------ */
/* 9. The legacy API (gup/legacy.h)                                          */
/* ------------------------------------------------------------------------ */

/*
 * Legacy get_user_pages (2014-2019) fills vmas[] with each page's VMA, valid while
 * the lock is held, and returns FOLL_GET references (there is no FOLL_PIN then).
 */
static void test_legacy_vmas(void **state)
{
	const struct gup_vma *vmas[3];
	struct gup_page *pages[3], *one[1];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 3);
	fx_fill_pages(e.t, a, 3, 22);
	assert_int_equal(gup_mprotect(e.t, a + 2 * PG, PG, GUP_PROT_READ), 0);
	fx_snap(e.w, &s);
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_legacy_get_user_pages(e.t, e.mm, a, 3, 0, pages, vmas), 3);
	assert_ptr_equal(vmas[0], vmas[1]);
	assert_ptr_not_equal(vmas[1], vmas[2]);
	assert_int_equal(gup_vma_start(vmas[0]), a);
	assert_int_equal(gup_vma_end(vmas[0]), a + 2 * PG);
	assert_int_equal(gup_vma_prot(vmas[0]), GUP_PROT_READ | GUP_PROT_WRITE);
	assert_int_equal(gup_vma_start(vmas[2]), a + 2 * PG);
	assert_int_equal(gup_vma_end(vmas[2]), a + 3 * PG);
	assert_int_equal(gup_vma_prot(vmas[2]), GUP_PROT_READ);
	/* Without vmas. */
	assert_int_equal(gup_legacy_get_user_pages(e.t, e.mm, a, 1, F_WRITE, one, NULL), 1);
	assert_ptr_equal(one[0], pages[0]);
	gup_put_page(one[0]);
	gup_mmap_read_unlock(e.t, e.mm);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(gup_page_pfn(pages[i]), fx_pfn(e.t, a + (uint64_t)i * PG));
		assert_int_equal(gup_page_ref_count(pages[i]), 2);
		assert_false(gup_page_maybe_dma_pinned(pages[i]));
		check_page_has(pages[i], 22, a + (uint64_t)i * PG);
	}
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 4);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	release(GET, pages, 3);

	/* Remotely, by the tracer. */
	assert_int_equal(gup_mmap_read_lock(e.tr, e.mm), 0);
	assert_int_equal(gup_legacy_get_user_pages(e.tr, e.mm, a, 3, 0, pages, vmas), 3);
	assert_int_equal(gup_vma_start(vmas[2]), a + 2 * PG);
	gup_mmap_read_unlock(e.tr, e.mm);
	release(GET, pages, 3);
	env_end(&e);
}

/*
 * Seed 003: FOLL_LONGTERM needs the VMAs (to refuse fs-DAX), so the legacy
 * get_user_pages_locked and _unlocked refuse it with -EINVAL; plain legacy
 * get_user_pages takes it.
 */
static void test_legacy_longterm_refused(void **state)
{
	struct gup_page *pages[1] = { SENTINEL };
	struct fx_snap s;
	struct env e;
	int locked = 1;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 1);
	fx_fill_pages(e.t, a, 1, 23);
	fx_snap(e.w, &s);
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_legacy_get_user_pages_locked(e.t, e.mm, a, 1, F_LONGTERM, pages,
							  &locked), -EINVAL);
	assert_int_equal(locked, 1);
	assert_ptr_equal(pages[0], SENTINEL);
	assert_int_equal(gup_legacy_get_user_pages_locked(e.t, e.mm, a, 1, 0, pages, &locked), 1);
	assert_int_equal(locked, 1);
	gup_put_page(pages[0]);
	assert_int_equal(gup_legacy_get_user_pages(e.t, e.mm, a, 1, F_LONGTERM, pages, NULL), 1);
	gup_put_page(pages[0]);
	gup_mmap_read_unlock(e.t, e.mm);
	pages[0] = SENTINEL;
	assert_int_equal(gup_legacy_get_user_pages_unlocked(e.t, e.mm, a, 1, pages, F_LONGTERM),
			 -EINVAL);
	assert_ptr_equal(pages[0], SENTINEL);
	assert_int_equal(gup_legacy_get_user_pages_unlocked(e.t, e.mm, a, 1, pages, F_WRITE), 1);
	check_page_has(pages[0], 23, a);
	gup_put_page(pages[0]);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED), 3);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_RELEASED), 3);
	env_end(&e);
}

/*
 * get_user_pages_longterm (v4.15-v5.1, linux_anchor section 4): FOLL_LONGTERM on an
 * fs-DAX VMA is -EOPNOTSUPP, and the references taken before the VMA check are
 * all dropped again.
 */
static void test_legacy_longterm_fsdax(void **state)
{
	struct gup_page *pages[2];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NULL);
	a = fx_map_private(e.t, 2);
	fx_fill_pages(e.t, a, 1, 24);
	set_vm_flags(e.mm, a, VM_FSDAX);
	fx_snap(e.w, &s);
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_legacy_get_user_pages(e.t, e.mm, a, 2, F_LONGTERM | F_WRITE,
						   pages, NULL), -EOPNOTSUPP);
	assert_int_equal(gup_legacy_get_user_pages(e.t, e.mm, a, 1, F_LONGTERM, pages, NULL),
			 -EOPNOTSUPP);
	gup_mmap_read_unlock(e.t, e.mm);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GET_ACQUIRED),
			 fx_delta(e.w, &s, GUP_STAT_GET_RELEASED));
	for (int i = 0; i < 2; i++) {
		int64_t pfn = fx_pfn(e.t, a + (uint64_t)i * PG);

		if (pfn > 0)
			assert_int_equal(page_ref_count(fx_page_at(e.t, a + (uint64_t)i * PG)),
					 1);
	}
	fx_check(e.w);
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_legacy_get_user_pages(e.t, e.mm, a, 2, F_WRITE, pages, NULL), 2);
	gup_mmap_read_unlock(e.t, e.mm);
	release(GET, pages, 2);
	env_end(&e);
}

/*
 * Seed 002 (2014): legacy get_user_pages_locked may drop the lock to wait; the
 * caller then learns it lost its critical section: *locked == 0 on return, the
 * lock released.
 */
static void test_legacy_locked_retry(void **state)
{
	struct gup_page *pages[1];
	struct fake_file f;
	int locked = 1, held;
	struct env e;
	bool lock_free;
	long n;

	(void)state;
	ff_env_new(&e, &f, FF_RETRY);
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	n = gup_legacy_get_user_pages_locked(e.t, e.mm, FILE_BASE, 1, 0, pages, &locked);
	held = task_holds_mmap_lock(e.t, e.mm);
	if (locked)
		gup_mmap_read_unlock(e.t, e.mm);
	lock_free = mmap_lock_free(e.mm);
	assert_int_equal(n, 1);
	assert_ptr_equal(pages[0], cache_handle(&f, 0));
	assert_int_equal(f.calls, 2);
	gup_put_page(pages[0]);

	/* _unlocked always ends unlocked. */
	assert_int_equal(gup_legacy_get_user_pages_unlocked(e.t, e.mm, FILE_BASE + PG, 1, pages,
							    0), 1);
	assert_true(mmap_lock_free(e.mm));
	gup_put_page(pages[0]);
	ff_env_end(&e, &f);
	if (locked != 0 || held || !lock_free)
		fail_msg("legacy _locked after a dropped lock: *locked = %d, caller holds it: "
			 "%d, lock free: %d (want 0, 0, 1)", locked, held, lock_free);
}

int main(void)
{
	const struct CMUnitTest gup_api[] = {
		/* 1 */
		cmocka_unit_test(test_api_get_user_pages),
		cmocka_unit_test(test_api_get_user_pages_remote),
		cmocka_unit_test(test_api_get_user_pages_remote_locked),
		cmocka_unit_test(test_api_get_user_pages_unlocked),
		cmocka_unit_test(test_api_get_user_pages_fast),
		cmocka_unit_test(test_api_get_user_pages_fast_only),
		cmocka_unit_test(test_api_pin_user_pages),
		cmocka_unit_test(test_api_pin_user_pages_remote),
		cmocka_unit_test(test_api_pin_user_pages_remote_locked),
		cmocka_unit_test(test_api_pin_user_pages_unlocked),
		cmocka_unit_test(test_api_pin_user_pages_fast),
		cmocka_unit_test(test_release_functions),
		/* 2 */
		cmocka_unit_test(test_ret_zero_pages),
		cmocka_unit_test(test_ret_partial_at_hole),
		cmocka_unit_test(test_ret_first_page_in_hole),
		cmocka_unit_test(test_ret_fast_range_checks),
		cmocka_unit_test(test_ret_rejected_values),
		/* 3 */
		cmocka_unit_test(test_reject_internal_touch),
		cmocka_unit_test(test_reject_internal_pin),
		cmocka_unit_test(test_reject_internal_others),
		cmocka_unit_test(test_reject_unknown_bits),
		cmocka_unit_test(test_reject_get_with_pin),
		cmocka_unit_test(test_reject_longterm_on_get),
		cmocka_unit_test(test_reject_null_pages),
		cmocka_unit_test(test_reject_locked_not_one),
		cmocka_unit_test(test_reject_longterm_p2pdma),
		cmocka_unit_test(test_reject_fast_nowait),
		cmocka_unit_test(test_reject_fast_dump),
		cmocka_unit_test(test_reject_fast_anon),
		cmocka_unit_test(test_reject_fast_hwpoison),
		cmocka_unit_test(test_reject_fast_interruptible),
		cmocka_unit_test(test_reject_fast_split_pmd),
		/* 4 */
		cmocka_unit_test(test_vma_force_write_ro_private),
		cmocka_unit_test(test_vma_force_write_ro_shared),
		cmocka_unit_test(test_vma_prot_none_read),
		cmocka_unit_test(test_vma_foll_anon),
		cmocka_unit_test(test_vma_foll_dump),
		cmocka_unit_test(test_vma_foll_nofault),
		cmocka_unit_test(test_vma_hwpoison),
		cmocka_unit_test(test_vma_longterm_fsdax),
		cmocka_unit_test(test_vma_longterm_fsdax_fast_populated),
		cmocka_unit_test(test_vma_io_pfnmap),
		/* 5 */
		cmocka_unit_test(test_pin_refcount_bias),
		cmocka_unit_test(test_pin_zero_page_shortterm),
		cmocka_unit_test(test_pin_zero_page_longterm),
		cmocka_unit_test(test_pin_mmf_has_pinned),
		cmocka_unit_test(test_pin_counters),
		/* 6 */
		cmocka_unit_test(test_retry_remote_locked),
		cmocka_unit_test(test_retry_never_without_locked),
		cmocka_unit_test(test_retry_unlocked),
		cmocka_unit_test(test_retry_nowait),
		cmocka_unit_test(test_retry_completed),
		cmocka_unit_test(test_retry_killed_task),
		cmocka_unit_test(test_retry_killed_while_dropped),
		/* 7 */
		cmocka_unit_test(test_unshare_ro_pin_after_fork),
		cmocka_unit_test(test_unshare_ro_get_keeps_shared),
		cmocka_unit_test(test_unshare_old_policy),
		/* 8 */
		cmocka_unit_test(test_fixup_write_fault),
		cmocka_unit_test(test_fixup_ro_vma),
		cmocka_unit_test(test_fixup_bad_flags),
		cmocka_unit_test(test_fixup_unlocked_retry),
		/* 9 */
		cmocka_unit_test(test_legacy_vmas),
		cmocka_unit_test(test_legacy_longterm_refused),
		cmocka_unit_test(test_legacy_longterm_fsdax),
		cmocka_unit_test(test_legacy_locked_retry),
	};

	return cmocka_run_group_tests(gup_api, NULL, NULL);
}
