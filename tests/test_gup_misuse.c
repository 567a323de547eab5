/* SPDX-License-Identifier: MIT */
/*
 * tests/test_gup_misuse.c - misuse reports in debug mode (gup_world_config.debug),
 * the user-space stand-in for lockdep and DEBUG_VM (linux_anchor 1.1, 1.2, 1.5, 5):
 *
 *   - GUP variants that need the mmap lock called without it, and the ones that
 *     take it themselves (_unlocked, gup-fast with fallback) called holding it;
 *   - a user access by a task holding its own mmap lock (might_fault);
 *   - a put of a pinned page, an unpin of a FOLL_GET one, an errno as a count;
 *   - pins still held when their mm is torn down;
 *   - internal and unknown FOLL bits passed by a caller;
 *   - with debug off: the same calls rejected the same way, silently.
 *
 * Every report is asserted: the misuse count moves by exactly one, and the one new
 * line of the report stream names the problem and the calling test function.
 * The test functions are global (not static) on purpose: the programs link with
 * -rdynamic, and dladdr() can name only functions in the dynamic symbol table.
 * The misusing call is made directly from the test function, so that it is the
 * caller the report names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "gup/legacy.h"
#include "gup/internal.h"
#include "world.h"

#include "common/fixture.h"

#define PG		GUP_PAGE_SIZE
#define BIAS		1024u		/* GUP_PIN_COUNTING_BIAS, linux_anchor 1.6 */

#define F_WRITE		(1u << 0)
#define F_NOWAIT	(1u << 4)
#define F_DUMP		(1u << 2)

/* ------------------------------------------------------------------------ */
/* A debug world whose report stream is a memory buffer                      */
/* ------------------------------------------------------------------------ */

struct dbg {
	struct gup_world *w;
	struct gup_task *t;	/* owns the memory */
	struct gup_task *tr;	/* a task of another mm */
	struct gup_mm *mm;	/* t's mm */
	FILE *f;
	char *buf;
	size_t len;
	size_t seen;		/* report bytes already looked at */
	unsigned long nr;	/* reports expected so far */
};

static void dbg_new(struct dbg *d, bool debug)
{
	struct gup_world_config cfg = {
		.nr_frames = 128,
		.nr_movable = 0,
		.debug = debug,
	};
	const char *env = getenv("GUP_DEBUG");
	char *saved = env ? strdup(env) : NULL;

	memset(d, 0, sizeof(*d));
	d->f = open_memstream(&d->buf, &d->len);
	assert_non_null(d->f);
	cfg.report = d->f;
	/* GUP_DEBUG=1 would turn debug on for every world: keep it out of a debug-off one. */
	if (!debug)
		unsetenv("GUP_DEBUG");
	assert_int_equal(gup_world_create(&cfg, &d->w), 0);
	if (saved) {
		setenv("GUP_DEBUG", saved, 1);
		free(saved);
	}
	d->t = fx_task_new(d->w);
	d->tr = fx_task_new(d->w);
	d->mm = gup_task_mm(d->t);
	assert_int_equal(gup_world_misuse_count(d->w), 0);
}

/* No report since the last look. */
static void expect_quiet(struct dbg *d)
{
	fflush(d->f);
	assert_int_equal(gup_world_misuse_count(d->w), d->nr);
	if (d->len != d->seen)
		fail_msg("unexpected report: %s", d->buf + d->seen);
}

/*
 * Exactly one report since the last look: one line, a misuse, saying @what and
 * naming @fn as the caller ("none" where there is no caller).
 */
static void expect_report(struct dbg *d, const char *what, const char *fn)
{
	char caller[160];
	const char *text;
	size_t len;

	fflush(d->f);
	assert_int_equal(gup_world_misuse_count(d->w), d->nr + 1);
	d->nr++;
	text = d->buf + d->seen;
	len = d->len - d->seen;
	if (len == 0)
		fail_msg("misuse counted but nothing printed (want \"%s\")", what);
	if (memchr(text, '\n', len) != text + len - 1)
		fail_msg("not exactly one report line: %s", text);
	if (strncmp(text, "libgup: misuse: ", 16) != 0)
		fail_msg("not a misuse report: %s", text);
	if (!strstr(text, what))
		fail_msg("report does not say \"%s\": %s", what, text);
	if (strcmp(fn, "none") == 0)
		snprintf(caller, sizeof(caller), "(caller none)");
	else
		snprintf(caller, sizeof(caller), "(caller %s+", fn);
	if (!strstr(text, caller))
		fail_msg("report does not name the caller \"%s\": %s", fn, text);
	d->seen = d->len;
}

/* Every task gone, nothing leaked, no report left unchecked; the stream closed. */
static void dbg_end(struct dbg *d)
{
	fx_check(d->w);
	if (d->tr)
		gup_task_exit(d->tr);
	if (d->t)
		gup_task_exit(d->t);
	expect_quiet(d);
	fx_world_end(d->w);
	fflush(d->f);
	if (d->len != d->seen)
		fail_msg("teardown printed: %s", d->buf + d->seen);
	fclose(d->f);
	free(d->buf);
}

static void lock(struct gup_task *t, struct gup_mm *mm)
{
	assert_int_equal(gup_mmap_read_lock(t, mm), 0);
}

/* A private R/W mapping of @n pages of @t, all populated. */
static uint64_t populated(struct gup_task *t, unsigned n)
{
	uint64_t a = fx_map_private(t, n);

	fx_fill_pages(t, a, n, 1);
	return a;
}

static struct gup_page *page_of(struct gup_task *t, uint64_t addr)
{
	return (struct gup_page *)fx_page_at(t, addr);
}

/* ------------------------------------------------------------------------ */
/* The mmap lock contract                                                   */
/* ------------------------------------------------------------------------ */

void test_misuse_get_without_lock(void **state);
void test_misuse_pin_without_lock(void **state);
void test_misuse_remote_without_lock(void **state);
void test_misuse_unlocked_holding_lock(void **state);
void test_misuse_fast_holding_lock(void **state);
void test_misuse_uaccess_holding_lock(void **state);
void test_misuse_unlock_not_held(void **state);
void test_misuse_legacy_lock(void **state);
void test_misuse_put_pinned_page(void **state);
void test_misuse_unpin_get_page(void **state);
void test_misuse_unpin_errno_count(void **state);
void test_misuse_pinned_at_teardown(void **state);
void test_misuse_unknown_flags(void **state);
void test_misuse_internal_flags(void **state);
void test_misuse_fast_illegal_flags(void **state);
void test_misuse_debug_off(void **state);

/*
 * get_user_pages needs the caller to hold the mmap lock (linux_anchor 1.1;
 * mmap_assert_locked in Linux): without it the call is refused (-EINVAL, nothing
 * taken) and reported with the caller.
 */
void test_misuse_get_without_lock(void **state)
{
	struct gup_page *pages[1] = { NULL };
	struct fx_snap s;
	struct dbg d;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	fx_snap(d.w, &s);
	assert_int_equal(gup_get_user_pages(d.t, a, 1, 0, pages), -EINVAL);
	expect_report(&d, "get_user_pages called without the mmap lock", __func__);
	assert_null(pages[0]);
	/* Holding another mm's lock is not holding this one. */
	lock(d.t, gup_task_mm(d.tr));
	assert_int_equal(gup_get_user_pages(d.t, a, 1, F_WRITE, pages), -EINVAL);
	expect_report(&d, "get_user_pages called without the mmap lock", __func__);
	gup_mmap_read_unlock(d.t, gup_task_mm(d.tr));
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(gup_page_ref_count(page_of(d.t, a)), 1);
	/* With the lock: fine, and silent. */
	lock(d.t, d.mm);
	assert_int_equal(gup_get_user_pages(d.t, a, 1, 0, pages), 1);
	gup_mmap_read_unlock(d.t, d.mm);
	gup_put_page(pages[0]);
	expect_quiet(&d);
	dbg_end(&d);
}

/* As above for pin_user_pages, whose rejections return 0 (linux_anchor 1.5). */
void test_misuse_pin_without_lock(void **state)
{
	struct gup_page *pages[1] = { NULL };
	struct fx_snap s;
	struct dbg d;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	fx_snap(d.w, &s);
	assert_int_equal(gup_pin_user_pages(d.t, a, 1, F_WRITE, pages), 0);
	expect_report(&d, "pin_user_pages called without the mmap lock", __func__);
	assert_null(pages[0]);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	assert_false(gup_page_maybe_dma_pinned(page_of(d.t, a)));
	dbg_end(&d);
}

/*
 * The _remote variants need the *target* mm's lock: the tracer holding only its
 * own lock is refused and reported (get: -EINVAL, pin: 0).
 */
void test_misuse_remote_without_lock(void **state)
{
	struct gup_page *pages[1] = { NULL };
	struct fx_snap s;
	struct dbg d;
	int locked = 1;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	fx_snap(d.w, &s);
	assert_int_equal(gup_get_user_pages_remote(d.tr, d.mm, a, 1, 0, pages, NULL), -EINVAL);
	expect_report(&d, "get_user_pages_remote called without the mmap lock", __func__);
	assert_int_equal(gup_pin_user_pages_remote(d.tr, d.mm, a, 1, 0, pages, &locked), 0);
	expect_report(&d, "pin_user_pages_remote called without the mmap lock", __func__);
	assert_int_equal(locked, 1);
	lock(d.tr, gup_task_mm(d.tr));
	assert_int_equal(gup_get_user_pages_remote(d.tr, d.mm, a, 1, 0, pages, &locked),
			 -EINVAL);
	expect_report(&d, "get_user_pages_remote called without the mmap lock", __func__);
	gup_mmap_read_unlock(d.tr, gup_task_mm(d.tr));
	assert_null(pages[0]);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	dbg_end(&d);
}

/*
 * The _unlocked variants take the mmap lock themselves: called holding it they
 * would self-deadlock behind a queued writer, so they are refused and reported.
 */
void test_misuse_unlocked_holding_lock(void **state)
{
	struct gup_page *pages[1] = { NULL };
	struct fx_snap s;
	struct dbg d;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	fx_snap(d.w, &s);
	lock(d.t, d.mm);
	assert_int_equal(gup_get_user_pages_unlocked(d.t, a, 1, pages, 0), -EINVAL);
	expect_report(&d, "get_user_pages_unlocked called holding the mmap lock", __func__);
	assert_int_equal(gup_pin_user_pages_unlocked(d.t, a, 1, pages, 0), 0);
	expect_report(&d, "pin_user_pages_unlocked called holding the mmap lock", __func__);
	assert_true(task_holds_mmap_lock(d.t, d.mm));
	gup_mmap_read_unlock(d.t, d.mm);
	assert_null(pages[0]);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	/* Holding another mm's lock is fine. */
	lock(d.t, gup_task_mm(d.tr));
	assert_int_equal(gup_get_user_pages_unlocked(d.t, a, 1, pages, 0), 1);
	gup_mmap_read_unlock(d.t, gup_task_mm(d.tr));
	gup_put_page(pages[0]);
	expect_quiet(&d);
	dbg_end(&d);
}

/*
 * get/pin_user_pages_fast may fall back to the slow path, which takes the lock
 * (might_lock_read): called holding it, refused and reported; gup-fast-only never
 * takes the lock and may be called under it, silently.
 */
void test_misuse_fast_holding_lock(void **state)
{
	struct gup_page *pages[1] = { NULL };
	struct fx_snap s;
	struct dbg d;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	fx_snap(d.w, &s);
	lock(d.t, d.mm);
	assert_int_equal(gup_get_user_pages_fast(d.t, a, 1, F_WRITE, pages), -EINVAL);
	expect_report(&d, "get_user_pages_fast called holding the mmap lock", __func__);
	assert_int_equal(gup_pin_user_pages_fast(d.t, a, 1, F_WRITE, pages), -EINVAL);
	expect_report(&d, "pin_user_pages_fast called holding the mmap lock", __func__);
	assert_null(pages[0]);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	assert_int_equal(gup_get_user_pages_fast_only(d.t, a, 1, F_WRITE, pages), 1);
	expect_quiet(&d);
	gup_mmap_read_unlock(d.t, d.mm);
	gup_put_page(pages[0]);
	expect_quiet(&d);
	dbg_end(&d);
}

/*
 * A user access may fault, and the fault takes the task's mmap lock (seed 000:
 * "hold mmap_sem when calling copy_from_user()"): reported each time; a present
 * page is still accessed, a missing one fails with -EFAULT (as with
 * pagefault_disable) instead of deadlocking, and stays missing.
 */
void test_misuse_uaccess_holding_lock(void **state)
{
	struct dbg d;
	uint64_t a, v = 0;

	(void)state;
	dbg_new(&d, true);
	a = fx_map_private(d.t, 2);
	fx_store_u64(d.t, a, 0x600d);
	lock(d.t, d.mm);
	assert_int_equal(gup_load(d.t, a, &v, sizeof(v)), 0);
	expect_report(&d, "user access by task", __func__);
	assert_int_equal(v, 0x600d);
	v = 0xbad;
	assert_int_equal(gup_store(d.t, a + PG, &v, sizeof(v)), -EFAULT);
	expect_report(&d, "while it holds its mmap lock", __func__);
	assert_int_equal(gup_fill(d.t, a + PG, 0, 16), -EFAULT);
	expect_report(&d, "user access by task", __func__);
	gup_mmap_read_unlock(d.t, d.mm);
	assert_int_equal(fx_pfn(d.t, a + PG), -EFAULT);
	/* Another task of another mm holding its own lock does not matter to t. */
	lock(d.tr, gup_task_mm(d.tr));
	assert_int_equal(fx_load_u64(d.t, a), 0x600d);
	gup_mmap_read_unlock(d.tr, gup_task_mm(d.tr));
	expect_quiet(&d);
	dbg_end(&d);
}

/* Unlocking an mmap lock the task does not hold is reported and ignored. */
void test_misuse_unlock_not_held(void **state)
{
	struct dbg d;

	(void)state;
	dbg_new(&d, true);
	gup_mmap_read_unlock(d.t, d.mm);
	expect_report(&d, "mmap read unlock of a lock task", __func__);
	assert_int_equal(gup_mmap_write_lock(d.t, d.mm), 0);
	gup_mmap_read_unlock(d.t, d.mm);	/* held, but for write */
	expect_report(&d, "does not hold for read", __func__);
	gup_mmap_write_unlock(d.t, d.mm);
	expect_quiet(&d);
	dbg_end(&d);
}

/* The legacy API has the same lock contract, and its own flag set (no P2PDMA then). */
void test_misuse_legacy_lock(void **state)
{
	struct gup_page *pages[1] = { NULL };
	struct dbg d;
	int locked = 1;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	assert_int_equal(gup_legacy_get_user_pages(d.t, d.mm, a, 1, 0, pages, NULL), -EINVAL);
	expect_report(&d, "get_user_pages called without the mmap lock", __func__);
	assert_int_equal(gup_legacy_get_user_pages_locked(d.t, d.mm, a, 1, 0, pages, &locked),
			 -EINVAL);
	expect_report(&d, "get_user_pages_locked called without the mmap lock", __func__);
	lock(d.t, d.mm);
	assert_int_equal(gup_legacy_get_user_pages_unlocked(d.t, d.mm, a, 1, pages, 0), -EINVAL);
	expect_report(&d, "get_user_pages_unlocked called holding the mmap lock", __func__);
	assert_int_equal(gup_legacy_get_user_pages(d.t, d.mm, a, 1, 1u << 10, pages, NULL),
			 -EINVAL);
	expect_report(&d, "unknown to the legacy API", __func__);
	gup_mmap_read_unlock(d.t, d.mm);
	assert_null(pages[0]);
	assert_int_equal(gup_page_ref_count(page_of(d.t, a)), 1);
	dbg_end(&d);
}

/* ------------------------------------------------------------------------ */
/* Releasing with the wrong function                                        */
/* ------------------------------------------------------------------------ */

/*
 * linux_anchor 1.2: a pin is released with unpin_user_page*, never put_page.  A put
 * of a pinned page is reported and ignored (the refcount is untouched); the pin
 * is then released properly and nothing leaks.
 */
void test_misuse_put_pinned_page(void **state)
{
	struct gup_page *pages[1];
	struct fx_snap s;
	char what[80];
	struct dbg d;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	assert_int_equal(gup_pin_user_pages_fast(d.t, a, 1, F_WRITE, pages), 1);
	assert_int_equal(gup_page_ref_count(pages[0]), 1 + BIAS);
	fx_snap(d.w, &s);
	gup_put_page(pages[0]);
	snprintf(what, sizeof(what), "put of pfn %llu, which holds no FOLL_GET reference",
		 (unsigned long long)gup_page_pfn(pages[0]));
	expect_report(&d, what, __func__);
	fflush(d.f);
	assert_non_null(strstr(d.buf, "it is pinned"));
	assert_int_equal(gup_page_ref_count(pages[0]), 1 + BIAS);
	assert_true(gup_page_maybe_dma_pinned(pages[0]));
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_GET_RELEASED), 0);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_PIN_RELEASED), 0);
	fx_check(d.w);
	gup_unpin_user_page(pages[0]);
	assert_int_equal(gup_page_ref_count(pages[0]), 1);
	expect_quiet(&d);
	dbg_end(&d);
}

/*
 * linux_anchor 1.2: a FOLL_GET reference is released with put_page; unpinning it
 * is reported and ignored, for each page of unpin_user_pages; then the reference
 * is put and nothing leaks.
 */
void test_misuse_unpin_get_page(void **state)
{
	struct gup_page *pages[2];
	struct fx_snap s;
	char what[80];
	struct dbg d;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 2);
	assert_int_equal(gup_get_user_pages_fast(d.t, a, 2, 0, pages), 2);
	fx_snap(d.w, &s);
	gup_unpin_user_page(pages[0]);
	snprintf(what, sizeof(what), "unpin of pfn %llu, which holds no pin",
		 (unsigned long long)gup_page_pfn(pages[0]));
	expect_report(&d, what, __func__);
	assert_int_equal(gup_page_ref_count(pages[0]), 2);
	gup_unpin_user_pages_dirty_lock(pages + 1, 1, true);
	snprintf(what, sizeof(what), "unpin of pfn %llu, which holds no pin",
		 (unsigned long long)gup_page_pfn(pages[1]));
	expect_report(&d, what, __func__);
	assert_int_equal(gup_page_ref_count(pages[1]), 2);
	assert_false(gup_page_dirty(pages[1]));
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_PIN_RELEASED), 0);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_GET_RELEASED), 0);
	fx_check(d.w);
	gup_put_page(pages[0]);
	gup_put_page(pages[1]);
	assert_int_equal(gup_page_ref_count(pages[0]), 1);
	assert_int_equal(gup_page_ref_count(pages[1]), 1);
	expect_quiet(&d);
	dbg_end(&d);
}

/*
 * linux_anchor 1.2: unpin_user_pages WARNs on an errno passed as the count (a GUP
 * failure forwarded unchecked) and releases nothing.
 */
void test_misuse_unpin_errno_count(void **state)
{
	struct gup_page *pages[1];
	struct dbg d;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	assert_int_equal(gup_pin_user_pages_fast(d.t, a, 1, 0, pages), 1);
	gup_unpin_user_pages(pages, (unsigned long)(long)-EFAULT);
	expect_report(&d, "an errno passed as a count", __func__);
	assert_int_equal(gup_page_ref_count(pages[0]), 1 + BIAS);
	gup_unpin_user_pages(pages, 1);
	assert_int_equal(gup_page_ref_count(pages[0]), 1);
	expect_quiet(&d);
	dbg_end(&d);
}

/*
 * A pin outliving its address space (the last task exits while a page stays
 * pinned) is reported once, at the teardown (no caller: it comes from exit);
 * the page survives the unmap with only the pin's references, and the late
 * unpin frees it: nothing leaks.
 */
void test_misuse_pinned_at_teardown(void **state)
{
	struct gup_page *pages[1];
	struct fx_snap s;
	char what[80];
	struct dbg d;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 3);
	assert_int_equal(gup_pin_user_pages_fast(d.t, a + PG, 1, F_WRITE, pages), 1);
	snprintf(what, sizeof(what), "pfn %llu is still pinned at the teardown",
		 (unsigned long long)gup_page_pfn(pages[0]));
	fx_snap(d.w, &s);
	gup_task_exit(d.t);
	d.t = NULL;
	expect_report(&d, what, "none");
	assert_int_equal(gup_page_mapcount(pages[0]), 0);
	assert_int_equal(gup_page_ref_count(pages[0]), BIAS);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_FRAME_FREE), 2);
	gup_unpin_user_page(pages[0]);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_FRAME_FREE), 3);
	expect_quiet(&d);
	dbg_end(&d);
}

/* ------------------------------------------------------------------------ */
/* Flags                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Unknown FOLL bits (13-15 and above the internal ones) are reported and refused,
 * by every family: get_* -EINVAL, pin_* 0, *_fast -EINVAL.
 */
void test_misuse_unknown_flags(void **state)
{
	struct gup_page *pages[1] = { NULL };
	struct fx_snap s;
	struct dbg d;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	fx_snap(d.w, &s);
	lock(d.t, d.mm);
	assert_int_equal(gup_get_user_pages(d.t, a, 1, 1u << 13, pages), -EINVAL);
	expect_report(&d, "unknown FOLL flag bit(s) 0x2000", __func__);
	assert_int_equal(gup_pin_user_pages(d.t, a, 1, (1u << 15) | F_WRITE, pages), 0);
	expect_report(&d, "unknown FOLL flag bit(s) 0x8000", __func__);
	gup_mmap_read_unlock(d.t, d.mm);
	assert_int_equal(gup_get_user_pages_unlocked(d.t, a, 1, pages, 1u << 30), -EINVAL);
	expect_report(&d, "unknown FOLL flag bit(s) 0x40000000", __func__);
	assert_int_equal(gup_get_user_pages_fast(d.t, a, 1, 1u << 14, pages), -EINVAL);
	expect_report(&d, "unknown FOLL flag bit(s) 0x4000", __func__);
	assert_int_equal(gup_pin_user_pages_fast(d.t, a, 1, 1u << 13, pages), -EINVAL);
	expect_report(&d, "unknown FOLL flag bit(s) 0x2000", __func__);
	assert_null(pages[0]);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	dbg_end(&d);
}

/*
 * linux_anchor 1.5 rule 1: the internal flags (FOLL_TOUCH 1<<16, FOLL_PIN 1<<19,
 * FOLL_UNLOCKABLE 1<<21 ...) passed by a caller are a WARN in Linux: reported,
 * and refused.
 */
void test_misuse_internal_flags(void **state)
{
	struct gup_page *pages[1] = { NULL };
	struct fx_snap s;
	struct dbg d;
	int locked = 1;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	fx_snap(d.w, &s);
	lock(d.t, d.mm);
	assert_int_equal(gup_get_user_pages(d.t, a, 1, 1u << 16, pages), -EINVAL);
	expect_report(&d, "internal FOLL flag(s) 0x10000 passed by a caller", __func__);
	assert_int_equal(gup_get_user_pages(d.t, a, 1, 1u << 19, pages), -EINVAL);
	expect_report(&d, "internal FOLL flag(s) 0x80000", __func__);
	assert_int_equal(gup_pin_user_pages(d.t, a, 1, 1u << 21, pages), 0);
	expect_report(&d, "internal FOLL flag(s) 0x200000", __func__);
	gup_mmap_read_unlock(d.t, d.mm);
	lock(d.tr, d.mm);
	assert_int_equal(gup_pin_user_pages_remote(d.tr, d.mm, a, 1, 1u << 18, pages, &locked),
			 0);
	expect_report(&d, "internal FOLL flag(s) 0x40000", __func__);
	gup_mmap_read_unlock(d.tr, d.mm);
	assert_int_equal(gup_get_user_pages_fast(d.t, a, 1, 1u << 20, pages), -EINVAL);
	expect_report(&d, "internal FOLL flag(s) 0x100000", __func__);
	assert_int_equal(gup_get_user_pages_fast_only(d.t, a, 1, 1u << 17, pages), -EINVAL);
	expect_report(&d, "internal FOLL flag(s) 0x20000", __func__);
	assert_null(pages[0]);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
	assert_false(test_bit(MMF_HAS_PINNED, &d.mm->flags));
	dbg_end(&d);
}

/*
 * linux_anchor 1.5 (gup_fast_fallback WARN): flags gup-fast does not accept are
 * reported and refused with -EINVAL.
 */
void test_misuse_fast_illegal_flags(void **state)
{
	struct gup_page *pages[1] = { NULL };
	struct dbg d;
	uint64_t a;

	(void)state;
	dbg_new(&d, true);
	a = populated(d.t, 1);
	assert_int_equal(gup_get_user_pages_fast(d.t, a, 1, F_NOWAIT, pages), -EINVAL);
	expect_report(&d, "get_user_pages_fast: flag(s) 0x10 are not allowed on gup-fast",
		      __func__);
	assert_int_equal(gup_pin_user_pages_fast(d.t, a, 1, F_DUMP | F_WRITE, pages), -EINVAL);
	expect_report(&d, "pin_user_pages_fast: flag(s) 0x4 are not allowed", __func__);
	assert_null(pages[0]);
	dbg_end(&d);
}

/*
 * Debug off (the default): the same misuses are refused exactly the same way, but
 * nothing is printed and nothing counted; a pin outliving its mm is silent too.
 */
void test_misuse_debug_off(void **state)
{
	struct gup_page *pages[2] = { NULL, NULL }, *pinned[1], *got[1];
	struct fx_snap s;
	struct dbg d;
	uint64_t a, v;

	(void)state;
	dbg_new(&d, false);
	a = populated(d.t, 3);
	fx_snap(d.w, &s);
	assert_int_equal(gup_get_user_pages(d.t, a, 1, 0, pages), -EINVAL);
	assert_int_equal(gup_pin_user_pages(d.t, a, 1, 0, pages), 0);
	assert_int_equal(gup_get_user_pages_remote(d.tr, d.mm, a, 1, 0, pages, NULL), -EINVAL);
	lock(d.t, d.mm);
	assert_int_equal(gup_get_user_pages_unlocked(d.t, a, 1, pages, 0), -EINVAL);
	assert_int_equal(gup_pin_user_pages_unlocked(d.t, a, 1, pages, 0), 0);
	assert_int_equal(gup_get_user_pages_fast(d.t, a, 1, 0, pages), -EINVAL);
	assert_int_equal(gup_get_user_pages(d.t, a, 1, 1u << 16, pages), -EINVAL);
	assert_int_equal(gup_pin_user_pages(d.t, a, 1, 1u << 13, pages), 0);
	assert_int_equal(gup_load(d.t, a, &v, sizeof(v)), 0);
	gup_mmap_read_unlock(d.t, d.mm);
	assert_int_equal(gup_get_user_pages_fast(d.t, a, 1, F_NOWAIT, pages), -EINVAL);
	assert_null(pages[0]);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(d.w, &s, GUP_STAT_PIN_ACQUIRED), 0);

	/* An unpin of a FOLL_GET page is still refused. */
	assert_int_equal(gup_get_user_pages_fast(d.t, a, 1, 0, got), 1);
	gup_unpin_user_page(got[0]);
	assert_int_equal(gup_page_ref_count(got[0]), 2);
	gup_put_page(got[0]);

	/* A pin outliving its mm. */
	assert_int_equal(gup_pin_user_pages_fast(d.t, a + PG, 1, F_WRITE, pinned), 1);
	gup_task_exit(d.t);
	d.t = NULL;
	assert_int_equal(gup_page_ref_count(pinned[0]), BIAS);
	gup_unpin_user_page(pinned[0]);

	assert_int_equal(gup_world_misuse_count(d.w), 0);
	expect_quiet(&d);
	assert_int_equal(d.len, 0);
	dbg_end(&d);
}

int main(void)
{
	const struct CMUnitTest gup_misuse[] = {
		cmocka_unit_test(test_misuse_get_without_lock),
		cmocka_unit_test(test_misuse_pin_without_lock),
		cmocka_unit_test(test_misuse_remote_without_lock),
		cmocka_unit_test(test_misuse_unlocked_holding_lock),
		cmocka_unit_test(test_misuse_fast_holding_lock),
		cmocka_unit_test(test_misuse_uaccess_holding_lock),
		cmocka_unit_test(test_misuse_unlock_not_held),
		cmocka_unit_test(test_misuse_legacy_lock),
		cmocka_unit_test(test_misuse_put_pinned_page),
		cmocka_unit_test(test_misuse_unpin_get_page),
		cmocka_unit_test(test_misuse_unpin_errno_count),
		cmocka_unit_test(test_misuse_pinned_at_teardown),
		cmocka_unit_test(test_misuse_unknown_flags),
		cmocka_unit_test(test_misuse_internal_flags),
		cmocka_unit_test(test_misuse_fast_illegal_flags),
		cmocka_unit_test(test_misuse_debug_off),
	};

	return cmocka_run_group_tests(gup_misuse, NULL, NULL);
}
