/* SPDX-License-Identifier: MIT */
/*
 * tests/test_io_users.c - the users of GUP other than plain O_DIRECT
 * (<gup/io.h>), each on both policies, with real data:
 *
 *   - fixed buffers (io_uring-style): registration pins long-term (out of
 *     ZONE_MOVABLE), fixed requests take no reference at I/O time, the data lands
 *     at sub-page offsets; the pin stays coherent with the parent across fork on
 *     linux-6.x (cow.c A8) and not on linux-2.6.29; unregistering under I/O;
 *     every bad input.
 *
 * Every test ends with gup_world_check, balanced GUP counters and a clean
 * teardown.
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
#include "gup/io.h"

#include "common/io_fixture.h"

#define PG		GUP_PAGE_SIZE
#define SECT		512u
#define NR_FRAMES	512
#define FILL		0xee

/* ------------------------------------------------------------------------ */
/* Fixed buffers                                                            */
/* ------------------------------------------------------------------------ */

static void fixed_read_write(const char *policy)
{
	struct gup_iovec iov[2];
	struct gup_fixed_buffers *fb;
	struct gup_dio *req;
	static uint8_t disk[PG];
	uint8_t want[PG];
	struct fx_snap s1;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	iov[0] = (struct gup_iovec){ fx_map_private(e.t, 3), 3 * PG };
	iov[1] = (struct gup_iovec){ fx_map_private(e.t, 1), PG };
	assert_int_equal(gup_fill(e.t, iov[0].base, FILL, 3 * PG), 0);
	fx_fill_pages(e.t, iov[1].base, 1, 3);
	assert_int_equal(gup_fixed_buffers_register(e.t, iov, 2, &fb), 0);
	/* Pinned long-term (a migration re-pins): every page, out of ZONE_MOVABLE. */
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_PIN_ACQUIRED) -
			 fx_delta(e.w, &e.s0, GUP_STAT_PIN_RELEASED), 4);
	for (unsigned p = 0; p < 3; p++) {
		assert_true(gup_page_maybe_dma_pinned(fx_io_page(e.t, iov[0].base + p * PG)));
		assert_false(gup_page_movable(fx_io_page(e.t, iov[0].base + p * PG)));
	}

	/* Read 2 KiB across pages 0/1 of buffer 0; write buffer 1 to the disk. */
	fx_snap(e.w, &s1);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, PG - SECT, 4 * SECT, e.d, GUP_DIO_READ,
					      5 * SECT, &req), 0);
	assert_int_equal(gup_dio_wait(req), 4 * SECT);
	assert_int_equal(gup_dio_submit_fixed(fb, 1, 0, PG, e.d, GUP_DIO_WRITE, 12 * PG, &req), 0);
	assert_int_equal(gup_dio_wait(req), PG);
	/* No GUP at I/O time. */
	assert_int_equal(fx_delta(e.w, &s1, GUP_STAT_PIN_ACQUIRED), 0);
	assert_int_equal(fx_delta(e.w, &s1, GUP_STAT_GET_ACQUIRED), 0);
	assert_int_equal(fx_delta(e.w, &s1, GUP_STAT_DIO_READ), 1);
	assert_int_equal(fx_delta(e.w, &s1, GUP_STAT_DIO_WRITE), 1);

	fx_io_mem_is(e.t, iov[0].base, PG - SECT, FILL);
	fx_io_mem_has_disk(e.t, iov[0].base + PG - SECT, 4 * SECT, 5 * SECT);
	fx_io_mem_is(e.t, iov[0].base + PG + 3 * SECT, 2 * PG - 3 * SECT, FILL);
	assert_true(gup_page_dirty(fx_io_page(e.t, iov[0].base + PG)));
	assert_int_equal(gup_disk_peek(e.d, 12 * PG, disk, PG), 0);
	fx_pattern_page(want, 3, iov[1].base);
	assert_memory_equal(disk, want, PG);

	assert_int_equal(gup_fixed_buffers_unregister(fb), 0);
	assert_false(gup_page_maybe_dma_pinned(fx_io_page(e.t, iov[0].base)));
	fx_io_done(&e);
}
FX_PER_POLICY(fixed_read_write)

/*
 * cow.c A8, "fork() with an iouring fixed buffer": register, fork (the child
 * lives on), the parent writes its buffer, a fixed write sends the buffer to
 * the disk.  linux-6.x: fork copied the pinned page for the child, so the disk
 * gets what the parent wrote, and the child's own writes stay out of it.
 * linux-2.6.29: fork shared the pinned page, the parent's write copied it away,
 * and the child's write then reused the pinned page (mapped once): the disk gets
 * the child's bytes, and a fixed read lands in the child's memory - the
 * registration follows the child, not the task that made it.
 */
static void fixed_fork(const char *policy)
{
	struct gup_fixed_buffers *fb;
	struct gup_task *child;
	struct gup_iovec iov;
	struct gup_dio *req;
	static uint8_t disk[PG];
	uint8_t want[PG];
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	iov = (struct gup_iovec){ fx_map_private(e.t, 1), PG };
	fx_fill_pages(e.t, iov.base, 1, 1);
	assert_int_equal(gup_fixed_buffers_register(e.t, &iov, 1, &fb), 0);
	child = fx_fork(e.t);
	fx_fill_pages(e.t, iov.base, 1, 2);		/* parent: new data */
	fx_fill_pages(child, iov.base, 1, 3);		/* child: its own */
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 0, PG, e.d, GUP_DIO_WRITE, 0, &req), 0);
	assert_int_equal(gup_dio_wait(req), PG);
	assert_int_equal(gup_disk_peek(e.d, 0, disk, PG), 0);
	fx_pattern_page(want, e.new_policy ? 2 : 3, iov.base);
	assert_memory_equal(disk, want, PG);
	/* And the other way: a fixed read. */
	assert_int_equal(gup_dio_submit_fixed(fb, 0, SECT, SECT, e.d, GUP_DIO_READ, 4 * PG, &req),
			 0);
	assert_int_equal(gup_dio_wait(req), SECT);
	if (e.new_policy) {
		fx_io_mem_has_disk(e.t, iov.base + SECT, SECT, 4 * PG);
		fx_check_pages(child, iov.base, 1, 3);
	} else {
		fx_check_pages(e.t, iov.base, 1, 2);
		fx_io_mem_has_disk(child, iov.base + SECT, SECT, 4 * PG);
	}
	gup_task_exit(child);
	assert_int_equal(gup_fixed_buffers_unregister(fb), 0);
	fx_io_done(&e);
}
FX_PER_POLICY(fixed_fork)

/* Unregistering while a request uses the buffer: the pins outlive it. */
static void test_fixed_unregister_in_flight(void **state)
{
	struct gup_fixed_buffers *fb;
	struct gup_iovec iov;
	struct gup_dio *req;
	struct fx_io e;

	(void)state;
	fx_io_new(&e, NULL, NR_FRAMES);
	iov = (struct gup_iovec){ fx_map_private(e.t, 2), 2 * PG };
	assert_int_equal(gup_fill(e.t, iov.base, FILL, 2 * PG), 0);
	assert_int_equal(gup_fixed_buffers_register(e.t, &iov, 1, &fb), 0);
	assert_int_equal(gup_dio_plug(e.w), 0);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, PG, PG, e.d, GUP_DIO_READ, 3 * PG, &req), 0);
	assert_int_equal(gup_fixed_buffers_unregister(fb), 0);
	assert_true(gup_page_maybe_dma_pinned(fx_io_page(e.t, iov.base)));
	assert_int_equal(gup_dio_unplug(e.w), 0);
	assert_int_equal(gup_dio_wait(req), PG);
	assert_false(gup_page_maybe_dma_pinned(fx_io_page(e.t, iov.base)));
	fx_io_mem_is(e.t, iov.base, PG, FILL);
	fx_io_mem_has_disk(e.t, iov.base + PG, PG, 3 * PG);
	fx_io_done(&e);
}

static void fixed_bad_args(const char *policy)
{
	struct gup_disk_config cfg = { .bytes = FX_IO_DISK_BYTES };
	struct gup_world *w2 = fx_world_new(policy, 64, 0);
	struct gup_fixed_buffers *fb = NULL;
	struct gup_iovec iov[2];
	struct gup_dio *req = NULL;
	struct gup_disk *d2;
	uint64_t base, ro;
	struct fx_io e;
	size_t free0;

	fx_io_new(&e, policy, NR_FRAMES);
	assert_int_equal(gup_disk_create(w2, &cfg, &d2), 0);
	base = fx_map_private(e.t, 2);
	ro = fx_map_anon(e.t, 1, GUP_PROT_READ, GUP_MAP_PRIVATE);
	free0 = fx_nr_free(e.w);
	iov[0] = (struct gup_iovec){ base, PG };

	/* Registration. */
	assert_int_equal(gup_fixed_buffers_register(NULL, iov, 1, &fb), -EINVAL);
	assert_int_equal(gup_fixed_buffers_register(e.t, NULL, 1, &fb), -EINVAL);
	assert_int_equal(gup_fixed_buffers_register(e.t, iov, 1, NULL), -EINVAL);
	assert_int_equal(gup_fixed_buffers_register(e.t, iov, 0, &fb), -EINVAL);
	assert_int_equal(gup_fixed_buffers_register(e.t, iov, GUP_FIXED_MAX_BUFFERS + 1, &fb),
			 -EINVAL);
	iov[1] = (struct gup_iovec){ base, 0 };
	assert_int_equal(gup_fixed_buffers_register(e.t, iov, 2, &fb), -EINVAL);
	iov[1] = (struct gup_iovec){ base, GUP_FIXED_MAX_LEN + PG };
	assert_int_equal(gup_fixed_buffers_register(e.t, iov, 2, &fb), -EINVAL);
	iov[1] = (struct gup_iovec){ GUP_TASK_SIZE - PG, 2 * PG };
	assert_int_equal(gup_fixed_buffers_register(e.t, iov, 2, &fb), -EFAULT);
	/* Not mapped, not writable: the first buffer's pins are undone. */
	iov[1] = (struct gup_iovec){ base + PG, 2 * PG };
	assert_int_equal(gup_fixed_buffers_register(e.t, iov, 2, &fb), -EFAULT);
	iov[1] = (struct gup_iovec){ ro, PG };
	assert_int_equal(gup_fixed_buffers_register(e.t, iov, 2, &fb), -EFAULT);
	assert_null(fb);
	fx_io_assert_balanced(e.w);
	assert_int_equal(gup_fixed_buffers_unregister(NULL), -EINVAL);

	/* Requests on a good registration of [base, base + 2 pages). */
	iov[0] = (struct gup_iovec){ base, 2 * PG };
	assert_int_equal(gup_fixed_buffers_register(e.t, iov, 1, &fb), 0);
	assert_int_equal(gup_dio_submit_fixed(NULL, 0, 0, SECT, e.d, GUP_DIO_READ, 0, &req), -EINVAL);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 0, SECT, NULL, GUP_DIO_READ, 0, &req), -EINVAL);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 0, SECT, e.d, GUP_DIO_READ, 0, NULL), -EINVAL);
	assert_int_equal(gup_dio_submit_fixed(fb, 1, 0, SECT, e.d, GUP_DIO_READ, 0, &req), -EINVAL);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 0, SECT, e.d, 5, 0, &req), -EINVAL);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 0, SECT, d2, GUP_DIO_READ, 0, &req), -EINVAL);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 100, SECT, e.d, GUP_DIO_READ, 0, &req), -EINVAL);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 0, 100, e.d, GUP_DIO_READ, 0, &req), -EINVAL);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 0, SECT, e.d, GUP_DIO_READ, 1, &req), -EINVAL);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 0, SECT, e.d, GUP_DIO_READ,
					      FX_IO_DISK_BYTES, &req), -EINVAL);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, PG + SECT, PG, e.d, GUP_DIO_READ, 0, &req),
			 -EFAULT);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 3 * PG, 0, e.d, GUP_DIO_READ, 0, &req),
			 -EFAULT);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, SIZE_MAX, 2 * SECT, e.d, GUP_DIO_READ, 0,
					      &req), -EFAULT);
	assert_null(req);
	/* The edges that work: the buffer's end, an empty request. */
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 2 * PG - SECT, SECT, e.d, GUP_DIO_READ, 0,
					      &req), 0);
	assert_int_equal(gup_dio_wait(req), SECT);
	assert_int_equal(gup_dio_submit_fixed(fb, 0, 2 * PG, 0, e.d, GUP_DIO_WRITE, 0, &req), 0);
	assert_int_equal(gup_dio_wait(req), 0);
	assert_int_equal(gup_fixed_buffers_unregister(fb), 0);
	assert_int_equal(fx_nr_free(e.w), free0 - 2);	/* the two pages faulted in */
	assert_int_equal(gup_disk_destroy(d2), 0);
	fx_world_done(w2);
	fx_io_done(&e);
}
FX_PER_POLICY(fixed_bad_args)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_POLICY_TESTS(fixed_read_write),
		FX_POLICY_TESTS(fixed_fork),
		cmocka_unit_test(test_fixed_unregister_in_flight),
		FX_POLICY_TESTS(fixed_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
