/* SPDX-License-Identifier: MIT */
/*
 * tests/test_gup_linux.c - <gup/linux.h>: driver code written with Linux's names
 * (current, mmap_read_lock, pin_user_pages, unpin_user_pages_dirty_lock,
 * get_user_pages_fast, put_page, ...) compiles and behaves as the gup_* API
 * (linux_anchor 1.1, 1.2, 1.6).
 *
 * linux.h defines short macros (current, put_page, FOLL_*) that clash with the
 * engine's internal headers and the test fixture, so this file includes only the
 * public headers, cmocka and the C library.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gup/gup.h>
#include <gup/linux.h>

#define NR_PAGES	4
#define PG		GUP_PAGE_SIZE

struct drv_env {
	struct gup_world *w;
	struct gup_task *t;
	uint64_t buf;		/* NR_PAGES of private anon memory of t */
};

static void drv_env_new(struct drv_env *e)
{
	struct gup_world_config cfg = { .nr_frames = 64 };
	struct gup_mm *mm = NULL;

	assert_int_equal(gup_world_create(&cfg, &e->w), 0);
	assert_int_equal(gup_mm_create(e->w, &mm), 0);
	assert_int_equal(gup_task_create(mm, &e->t), 0);
	gup_mm_put(mm);
	assert_int_equal(gup_mmap(e->t, 0, NR_PAGES * PG, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS, &e->buf), 0);
	gup_set_current(e->t);
	assert_ptr_equal(current->task, e->t);
	assert_ptr_equal(current->mm, gup_task_mm(e->t));
}

static void drv_env_end(struct drv_env *e)
{
	assert_int_equal(gup_world_check(e->w, NULL), 0);
	gup_set_current(NULL);
	assert_null(current->task);
	gup_task_exit(e->t);
	assert_int_equal(gup_world_destroy(e->w), 0);
}

/* ---- the "driver" ---- */

/* Pin a user buffer for a device to write into, as a driver's ioctl would. */
static long drv_pin_for_dma(unsigned long start, unsigned long n, struct page **pages)
{
	long ret;

	mmap_read_lock(current->mm);
	ret = pin_user_pages(start, n, FOLL_WRITE, pages);
	mmap_read_unlock(current->mm);
	return ret;
}

/* The "device" writes @byte over each page it was given (by physical page). */
static void drv_dma_write(struct page **pages, long n, int byte)
{
	uint8_t data[GUP_PAGE_SIZE];

	memset(data, byte, sizeof(data));
	for (long i = 0; i < n; i++)
		assert_int_equal(gup_page_write(GUP_LINUX_PAGE(pages[i]), 0, data, PG), 0);
}

/*
 * linux_anchor 1.1, 1.2, 1.6: pin_user_pages under mmap_read_lock(current->mm)
 * pins each page (maybe_dma_pinned), a device writes them, and
 * unpin_user_pages_dirty_lock(..., true) marks them dirty and releases the pins;
 * the process sees the data.
 */
static void test_linux_pin_dma_write(void **state)
{
	struct page **pages = calloc(NR_PAGES, sizeof(*pages));
	uint8_t got[GUP_PAGE_SIZE];
	struct drv_env e;
	long ret;

	(void)state;
	assert_non_null(pages);
	drv_env_new(&e);
	ret = drv_pin_for_dma(e.buf, NR_PAGES, pages);
	assert_int_equal(ret, NR_PAGES);
	for (long i = 0; i < ret; i++) {
		assert_non_null(pages[i]);
		assert_true(page_maybe_dma_pinned(pages[i]));
		assert_int_equal((int64_t)page_to_pfn(pages[i]),
				 gup_mm_pfn(current->mm, e.buf + (uint64_t)i * PG));
		assert_false(gup_page_dirty(GUP_LINUX_PAGE(pages[i])));
	}
	drv_dma_write(pages, ret, 0x5d);
	unpin_user_pages_dirty_lock(pages, ret, true);
	for (long i = 0; i < ret; i++) {
		assert_false(page_maybe_dma_pinned(pages[i]));
		assert_true(gup_page_dirty(GUP_LINUX_PAGE(pages[i])));
		assert_int_equal(gup_page_ref_count(GUP_LINUX_PAGE(pages[i])), 1);
	}
	for (int i = 0; i < NR_PAGES; i++) {
		uint8_t want[GUP_PAGE_SIZE];

		memset(want, 0x5d, sizeof(want));
		assert_int_equal(gup_load(e.t, e.buf + (uint64_t)i * PG, got, PG), 0);
		assert_memory_equal(got, want, PG);
	}
	drv_env_end(&e);
	free(pages);
}

/*
 * get_user_pages_fast takes FOLL_GET references (released with put_page), and
 * pin_user_pages_fast with FOLL_LONGTERM pins (unpin_user_page); rejected
 * combinations give Linux's values (pin_user_pages: 0, get_user_pages_fast:
 * -EINVAL).
 */
static void test_linux_fast_and_rejects(void **state)
{
	struct page *pages[NR_PAGES];
	struct drv_env e;
	int ret;

	(void)state;
	drv_env_new(&e);
	ret = get_user_pages_fast(e.buf, NR_PAGES, FOLL_WRITE, pages);
	assert_int_equal(ret, NR_PAGES);
	for (int i = 0; i < ret; i++) {
		assert_false(page_maybe_dma_pinned(pages[i]));
		assert_int_equal(gup_page_ref_count(GUP_LINUX_PAGE(pages[i])), 2);
		put_page(pages[i]);
	}
	ret = pin_user_pages_fast(e.buf, 1, FOLL_WRITE | FOLL_LONGTERM, pages);
	assert_int_equal(ret, 1);
	assert_true(page_maybe_dma_pinned(pages[0]));
	unpin_user_page(pages[0]);

	assert_int_equal(get_user_pages_fast(e.buf, 1, FOLL_LONGTERM, pages), -EINVAL);
	mmap_read_lock(current->mm);
	assert_int_equal(pin_user_pages(e.buf, 1, FOLL_GET, pages), 0);
	assert_int_equal(get_user_pages(e.buf, 1, FOLL_LONGTERM, pages), -EINVAL);
	mmap_read_unlock(current->mm);
	drv_env_end(&e);
}

/*
 * A ptrace-like caller (another task as current) uses get_user_pages_remote with
 * `locked` on the tracee's mm, and fixup_user_fault: the lock stays held (anon
 * faults never drop it) and *locked stays 1.
 */
static void test_linux_remote(void **state)
{
	struct gup_task *tracer = NULL;
	struct gup_mm *tracee_mm, *mm = NULL;
	struct page *pages[1];
	bool unlocked = false;
	struct drv_env e;
	uint8_t b = 0;
	int locked = 1;

	(void)state;
	drv_env_new(&e);
	tracee_mm = current->mm;
	assert_int_equal(gup_mm_create(e.w, &mm), 0);
	assert_int_equal(gup_task_create(mm, &tracer), 0);
	gup_mm_put(mm);
	gup_set_current(tracer);

	mmap_read_lock(tracee_mm);
	assert_int_equal(fixup_user_fault(tracee_mm, e.buf, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE,
					  &unlocked), 0);
	assert_false(unlocked);
	assert_int_equal(get_user_pages_remote(tracee_mm, e.buf, 1, FOLL_FORCE, pages, &locked),
			 1);
	assert_int_equal(locked, 1);
	mmap_read_unlock(tracee_mm);
	assert_int_equal(gup_page_read(GUP_LINUX_PAGE(pages[0]), 0, &b, 1), 0);
	assert_int_equal(b, 0);
	put_page(pages[0]);

	gup_set_current(e.t);
	gup_task_exit(tracer);
	drv_env_end(&e);
}

int main(void)
{
	const struct CMUnitTest gup_linux[] = {
		cmocka_unit_test(test_linux_pin_dma_write),
		cmocka_unit_test(test_linux_fast_and_rejects),
		cmocka_unit_test(test_linux_remote),
	};

	return cmocka_run_group_tests(gup_linux, NULL, NULL);
}
