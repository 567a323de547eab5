/* SPDX-License-Identifier: MIT */
/*
 * tests/test_dax.c - fs-DAX files and leases (issue 4 item 4).
 *
 * DAX blocks are mapped directly; FOLL_LONGTERM is refused on them; truncate and
 * punch-hole wait for pins over the range and fail with -ETIMEDOUT when a pin
 * outlives the file's break timeout, leaving the data alone; leases are broken
 * (their callback runs) and a cooperative holder's release lets truncate go on,
 * at once or later from another thread; a stubborn holder's truncate fails.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gup/file.h"
#include "common/fixture.h"

#define NPAGES		16
#define PG		GUP_PAGE_SIZE
#define BREAK_NS	(UINT64_C(100) * 1000 * 1000)	/* 100 ms */
/*
 * The break timeout of a test whose wait must succeed: another thread ends it,
 * and a stalled host (shared VM, two cores) may hold that thread back far longer
 * than 100 ms.  A lost wake is still caught: the waiter would sleep to the
 * deadline, so such a test checks it returned well before.
 */
#define LONG_BREAK_NS	(UINT64_C(20) * 1000 * 1000 * 1000)	/* 20 s */

struct dax_env {
	struct fx_env e;
	struct gup_file *f;
	uint64_t addr;			/* a shared mapping of the whole file */
};

static void dax_env_new_break(struct dax_env *d, uint64_t break_ns)
{
	struct gup_file_config fc = { .max_size = NPAGES * PG, .size = NPAGES * PG,
				      .flags = GUP_FILE_DAX, .lease_break_ns = break_ns };

	fx_env_new(&d->e, NULL, 1024);
	assert_int_equal(gup_file_create(d->e.w, &fc, &d->f), 0);
	assert_int_equal(gup_mmap_file(d->e.t, 0, NPAGES * PG, GUP_PROT_READ | GUP_PROT_WRITE,
				       GUP_MAP_SHARED, d->f, 0, &d->addr), 0);
}

static void dax_env_new(struct dax_env *d)
{
	dax_env_new_break(d, BREAK_NS);
}

static void dax_env_done(struct dax_env *d)
{
	assert_int_equal(gup_munmap(d->e.t, d->addr, NPAGES * PG), 0);
	assert_int_equal(gup_file_close(d->f), 0);
	fx_env_done(&d->e);
}

/* Page @i's first 8 bytes: @v, through the mapping. */
static void put_mark(struct dax_env *d, unsigned i, uint64_t v)
{
	fx_store_u64(d->e.t, d->addr + i * PG, v);
}

static uint64_t get_mark(struct dax_env *d, unsigned i)
{
	return fx_load_u64(d->e.t, d->addr + i * PG);
}

/* ---- mapping the storage ---- */

static void test_dax_maps_the_blocks(void **state)
{
	struct dax_env d;
	char buf[6] = { 0 };
	uint64_t v;

	(void)state;
	dax_env_new(&d);
	/* A store through the mapping is the file's content, with no writeback. */
	assert_int_equal(gup_store(d.e.t, d.addr + PG + 3, "hello", 5), 0);
	assert_int_equal(gup_file_pread(d.f, buf, 5, PG + 3), 5);
	assert_string_equal(buf, "hello");
	/* And a pwrite is seen through the mapping. */
	v = 0x1122334455667788u;
	assert_int_equal(gup_file_pwrite(d.f, &v, 8, 5 * PG), 8);
	assert_true(get_mark(&d, 5) == v);
	/* A second mapping, in another mm, maps the same frame. */
	{
		struct gup_task *t2 = fx_task_new(d.e.w);
		uint64_t a2;

		assert_int_equal(gup_mmap_file(t2, 0, NPAGES * PG, GUP_PROT_READ, GUP_MAP_SHARED,
					       d.f, 0, &a2), 0);
		assert_true(fx_load_u64(t2, a2 + 5 * PG) == v);
		assert_true(fx_pfn(t2, a2 + 5 * PG) == fx_pfn(d.e.t, d.addr + 5 * PG));
		gup_task_exit(t2);
	}
	assert_int_equal(gup_file_fsync(d.f), 0);
	dax_env_done(&d);
}

static void test_dax_longterm_refused(void **state)
{
	struct gup_page *pages[2];
	struct dax_env d;

	(void)state;
	dax_env_new(&d);
	assert_int_equal(gup_pin_user_pages_fast(d.e.t, d.addr, 2,
						 GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, pages),
			 -EOPNOTSUPP);
	assert_int_equal(gup_pin_user_pages_unlocked(d.e.t, d.addr, 2, pages,
						     GUP_FOLL_LONGTERM), -EOPNOTSUPP);
	/* A short-term pin is fine, and is the storage frame. */
	assert_int_equal(gup_pin_user_pages_fast(d.e.t, d.addr, 2, GUP_FOLL_WRITE, pages), 2);
	assert_true((int64_t)gup_page_pfn(pages[0]) == fx_pfn(d.e.t, d.addr));
	gup_unpin_user_pages(pages, 2);
	dax_env_done(&d);
}

/* ---- truncate and punch-hole against plain pins ---- */

static void test_dax_truncate_frees_range(void **state)
{
	struct dax_env d;
	char c;

	(void)state;
	dax_env_new(&d);
	for (unsigned i = 0; i < NPAGES; i++)
		put_mark(&d, i, 0x100 + i);
	assert_int_equal(gup_file_truncate(d.f, 10 * PG + 100), 0);
	/* Past EOF: SIGBUS.  The kept part keeps its data; the tail of page 10 is zero. */
	assert_int_equal(gup_load(d.e.t, d.addr + 11 * PG, &c, 1), -EFAULT);
	assert_true(get_mark(&d, 9) == 0x109);
	assert_true(get_mark(&d, 10) == 0x10a);
	assert_int_equal(gup_load(d.e.t, d.addr + 10 * PG + 100, &c, 1), 0);
	assert_int_equal(c, 0);
	/* Growing again: the freed blocks read as zeros, not as old data. */
	assert_int_equal(gup_file_truncate(d.f, NPAGES * PG), 0);
	assert_true(get_mark(&d, 12) == 0);
	dax_env_done(&d);
}

static void test_dax_truncate_times_out_on_pin(void **state)
{
	struct gup_page *page;
	struct fx_snap s;
	struct dax_env d;
	uint64_t t0;

	(void)state;
	dax_env_new(&d);
	put_mark(&d, 12, 0xabc);
	assert_int_equal(gup_pin_user_pages_fast(d.e.t, d.addr + 12 * PG, 1, 0, &page), 1);
	fx_snap(d.e.w, &s);
	t0 = fx_now_ns();
	assert_int_equal(gup_file_truncate(d.f, 4 * PG), -ETIMEDOUT);
	assert_true(fx_now_ns() - t0 >= BREAK_NS / 2);
	assert_int_equal(fx_delta(d.e.w, &s, GUP_STAT_DAX_BREAK_TIMEOUT), 1);
	/* Nothing changed: size, data, the pinned frame still the block. */
	{
		struct gup_file_info fi;

		assert_int_equal(gup_file_info(d.f, &fi), 0);
		assert_int_equal(fi.size, NPAGES * PG);
	}
	assert_true(get_mark(&d, 12) == 0xabc);
	assert_int_equal(gup_file_fallocate(d.f, GUP_FALLOC_FL_PUNCH_HOLE | GUP_FALLOC_FL_KEEP_SIZE,
					    12 * PG, PG), -ETIMEDOUT);
	/* A punch elsewhere does not care about the pin. */
	put_mark(&d, 2, 7);
	assert_int_equal(gup_file_fallocate(d.f, GUP_FALLOC_FL_PUNCH_HOLE | GUP_FALLOC_FL_KEEP_SIZE,
					    2 * PG, PG), 0);
	assert_true(get_mark(&d, 2) == 0);
	gup_unpin_user_page(page);
	assert_int_equal(gup_file_truncate(d.f, 4 * PG), 0);
	dax_env_done(&d);
}

struct late_unpin {
	struct gup_page *page;
	uint64_t delay_ns;
	_Atomic unsigned started;
};

static void late_unpin_fn(void *arg)
{
	struct late_unpin *u = arg;
	uint64_t end;

	atomic_fetch_add(&u->started, 1);
	end = fx_now_ns() + u->delay_ns;
	while (fx_now_ns() < end)
		fx_cpu_relax();
	gup_unpin_user_page(u->page);
}

/* Truncate waits for a short-term pin that another thread drops, then proceeds. */
static void test_dax_truncate_waits_for_unpin(void **state)
{
	struct late_unpin u = { .delay_ns = BREAK_NS / 5 };
	struct gup_thread *th;
	struct dax_env d;
	uint64_t t0, took;

	(void)state;
	dax_env_new_break(&d, LONG_BREAK_NS);
	put_mark(&d, 8, 0x88);
	assert_int_equal(gup_pin_user_pages_fast(d.e.t, d.addr + 8 * PG, 1, GUP_FOLL_WRITE,
						 &u.page), 1);
	t0 = fx_now_ns();
	th = fx_thread_start(d.e.w, late_unpin_fn, &u);
	assert_true(fx_wait_at_least(&u.started, 1));
	assert_int_equal(gup_file_truncate(d.f, 8 * PG), 0);
	took = fx_now_ns() - t0;
	assert_int_equal(gup_thread_join(th), 0);
	assert_true(took >= u.delay_ns / 2);	/* it did wait for the unpin */
	assert_true(took < LONG_BREAK_NS / 2);	/* and was woken by it */
	assert_int_equal(gup_file_truncate(d.f, NPAGES * PG), 0);
	assert_true(get_mark(&d, 8) == 0);	/* the block was freed */
	dax_env_done(&d);
}

/* ---- leases ---- */

struct holder {
	struct gup_lease *lease;
	_Atomic unsigned breaks;
	bool cooperative;		/* release from the callback */
};

static void on_break(struct gup_lease *lease, void *arg)
{
	struct holder *h = arg;

	assert_ptr_equal(lease, h->lease);
	atomic_fetch_add(&h->breaks, 1);
	if (h->cooperative) {
		gup_lease_release(lease);
		h->lease = NULL;
	}
}

static void test_lease_cooperative(void **state)
{
	struct holder h = { .cooperative = true };
	struct fx_snap s;
	struct dax_env d;

	(void)state;
	dax_env_new(&d);
	put_mark(&d, 6, 0x66);
	assert_int_equal(gup_lease_pin(d.e.t, d.f, d.addr + 6 * PG, 2, GUP_FOLL_WRITE, on_break,
				       &h, &h.lease), 0);
	assert_false(gup_lease_broken(h.lease));
	/* The device writes the block through the lease's page. */
	assert_int_equal(gup_page_write(gup_lease_page(h.lease, 1), 0, "dma", 3), 0);
	assert_null(gup_lease_page(h.lease, 2));
	/* A truncate that does not reach the lease leaves it alone. */
	assert_int_equal(gup_file_truncate(d.f, 12 * PG), 0);
	assert_int_equal(atomic_load(&h.breaks), 0);
	fx_snap(d.e.w, &s);
	assert_int_equal(gup_file_truncate(d.f, 7 * PG), 0);	/* reaches page 7 */
	assert_int_equal(atomic_load(&h.breaks), 1);
	assert_null(h.lease);
	assert_int_equal(fx_delta(d.e.w, &s, GUP_STAT_DAX_LEASE_BREAK), 1);
	assert_int_equal(fx_delta(d.e.w, &s, GUP_STAT_DAX_BREAK_TIMEOUT), 0);
	assert_true(get_mark(&d, 6) == 0x66);
	dax_env_done(&d);
}

static void test_lease_stubborn(void **state)
{
	struct holder h = { .cooperative = false };
	struct dax_env d;
	char buf[4] = { 0 };
	uint64_t t0;

	(void)state;
	dax_env_new(&d);
	assert_int_equal(gup_lease_pin(d.e.t, d.f, d.addr, 2, GUP_FOLL_WRITE, on_break, &h,
				       &h.lease), 0);
	assert_int_equal(gup_page_write(gup_lease_page(h.lease, 0), 0, "xyz", 3), 0);
	t0 = fx_now_ns();
	assert_int_equal(gup_file_fallocate(d.f, GUP_FALLOC_FL_PUNCH_HOLE | GUP_FALLOC_FL_KEEP_SIZE,
					    0, 2 * PG), -ETIMEDOUT);
	assert_true(fx_now_ns() - t0 >= BREAK_NS / 2);
	assert_int_equal(atomic_load(&h.breaks), 1);
	assert_true(gup_lease_broken(h.lease));
	/* The data the device wrote is still the file's. */
	assert_int_equal(gup_file_pread(d.f, buf, 3, 0), 3);
	assert_string_equal(buf, "xyz");
	/* Broken once: a second truncate does not call the holder again, and fails too. */
	assert_int_equal(gup_file_truncate(d.f, 0), -ETIMEDOUT);
	assert_int_equal(atomic_load(&h.breaks), 1);
	gup_lease_release(h.lease);
	assert_int_equal(gup_file_fallocate(d.f, GUP_FALLOC_FL_PUNCH_HOLE | GUP_FALLOC_FL_KEEP_SIZE,
					    0, 2 * PG), 0);
	assert_int_equal(gup_file_pread(d.f, buf, 3, 0), 3);
	assert_int_equal(buf[0], 0);
	dax_env_done(&d);
}

struct async_holder {
	struct gup_lease *lease;
	_Atomic unsigned broken;
};

static void on_break_async(struct gup_lease *lease, void *arg)
{
	struct async_holder *h = arg;

	(void)lease;
	atomic_store(&h->broken, 1);	/* the holder's thread releases later */
}

static void holder_fn(void *arg)
{
	struct async_holder *h = arg;

	if (!fx_wait_at_least(&h->broken, 1))
		return;		/* the test fails on the truncate's result */
	gup_lease_release(h->lease);
}

/* The holder is told in the callback and releases from its own thread. */
static void test_lease_released_by_holder_thread(void **state)
{
	struct async_holder h = { 0 };
	struct gup_thread *th;
	struct dax_env d;
	uint64_t t0;

	(void)state;
	dax_env_new_break(&d, LONG_BREAK_NS);
	assert_int_equal(gup_lease_pin(d.e.t, d.f, d.addr + 3 * PG, 4, 0, on_break_async, &h,
				       &h.lease), 0);
	th = fx_thread_start(d.e.w, holder_fn, &h);
	t0 = fx_now_ns();
	assert_int_equal(gup_file_truncate(d.f, 2 * PG), 0);
	assert_true(fx_now_ns() - t0 < LONG_BREAK_NS / 2);	/* woken by the release */
	assert_int_equal(gup_thread_join(th), 0);
	assert_int_equal(atomic_load(&h.broken), 1);
	dax_env_done(&d);
}

static void test_lease_bad_args(void **state)
{
	struct gup_file_config fc = { .max_size = 4 * PG, .size = 4 * PG,
				      .flags = GUP_FILE_MEMFD };
	struct holder h = { 0 };
	struct gup_file *memfd;
	struct gup_lease *l;
	struct dax_env d;
	uint64_t priv, m;

	(void)state;
	dax_env_new(&d);
	assert_int_equal(gup_lease_pin(d.e.t, d.f, d.addr + 1, 1, 0, on_break, &h, &l), -EINVAL);
	assert_int_equal(gup_lease_pin(d.e.t, d.f, d.addr, 0, 0, on_break, &h, &l), -EINVAL);
	assert_int_equal(gup_lease_pin(d.e.t, d.f, d.addr, 1, 0, NULL, &h, &l), -EINVAL);
	assert_int_equal(gup_lease_pin(d.e.t, d.f, d.addr, 1, GUP_FOLL_LONGTERM, on_break, &h, &l),
			 -EINVAL);
	/* Past the mapping's end. */
	assert_int_equal(gup_lease_pin(d.e.t, d.f, d.addr + (NPAGES - 1) * PG, 2, 0, on_break, &h,
				       &l), -EINVAL);
	/* A private mapping of the file is no lease target. */
	assert_int_equal(gup_mmap_file(d.e.t, 0, PG, GUP_PROT_READ, GUP_MAP_PRIVATE, d.f, 0, &priv),
			 0);
	assert_int_equal(gup_lease_pin(d.e.t, d.f, priv, 1, 0, on_break, &h, &l), -EINVAL);
	assert_int_equal(gup_munmap(d.e.t, priv, PG), 0);
	/* Not DAX. */
	assert_int_equal(gup_file_create(d.e.w, &fc, &memfd), 0);
	assert_int_equal(gup_mmap_file(d.e.t, 0, PG, GUP_PROT_READ, GUP_MAP_SHARED, memfd, 0, &m),
			 0);
	assert_int_equal(gup_lease_pin(d.e.t, memfd, m, 1, 0, on_break, &h, &l), -EOPNOTSUPP);
	assert_int_equal(gup_munmap(d.e.t, m, PG), 0);
	assert_int_equal(gup_file_close(memfd), 0);
	assert_int_equal(gup_lease_pin(d.e.t, memfd, m, 1, 0, on_break, &h, &l), -EBADF);
	/* A DAX file with a disk is refused at creation. */
	{
		struct gup_disk_config dc = { .bytes = 64 * PG };
		struct gup_file_config bad = { .max_size = PG, .flags = GUP_FILE_DAX };
		struct gup_disk *disk;
		struct gup_file *f;

		assert_int_equal(gup_disk_create(d.e.w, &dc, &disk), 0);
		bad.disk = disk;
		assert_int_equal(gup_file_create(d.e.w, &bad, &f), -EINVAL);
		bad.flags |= GUP_FILE_MEMFD;
		bad.disk = NULL;
		assert_int_equal(gup_file_create(d.e.w, &bad, &f), -EINVAL);
		assert_int_equal(gup_disk_destroy(disk), 0);
	}
	gup_lease_release(NULL);	/* harmless */
	dax_env_done(&d);
}

/* The lease keeps its file alive past close and munmap; release frees everything. */
static void test_lease_outlives_mapping(void **state)
{
	struct holder h = { 0 };
	struct dax_env d;
	uint64_t v;

	(void)state;
	dax_env_new(&d);
	put_mark(&d, 4, 0x44);
	assert_int_equal(gup_lease_pin(d.e.t, d.f, d.addr + 4 * PG, 1, 0, on_break, &h, &h.lease),
			 0);
	assert_int_equal(gup_munmap(d.e.t, d.addr, NPAGES * PG), 0);
	assert_int_equal(gup_file_close(d.f), 0);
	fx_check(d.e.w);
	assert_int_equal(gup_page_read(gup_lease_page(h.lease, 0), 0, &v, 8), 0);
	assert_true(v == 0x44);
	gup_lease_release(h.lease);
	fx_env_done(&d.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dax_maps_the_blocks),
		cmocka_unit_test(test_dax_longterm_refused),
		cmocka_unit_test(test_dax_truncate_frees_range),
		cmocka_unit_test(test_dax_truncate_times_out_on_pin),
		cmocka_unit_test(test_dax_truncate_waits_for_unpin),
		cmocka_unit_test(test_lease_cooperative),
		cmocka_unit_test(test_lease_stubborn),
		cmocka_unit_test(test_lease_released_by_holder_thread),
		cmocka_unit_test(test_lease_bad_args),
		cmocka_unit_test(test_lease_outlives_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
