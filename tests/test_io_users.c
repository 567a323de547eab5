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
 *   - vmsplice (cow.c A3-A6, CVE-2020-29374): what a pipe shows is what the
 *     vmsplicer's memory held when it spliced, never a later write by the other
 *     side of a fork - on linux-6.x; linux-2.6.29 shows the later write.  Pipe
 *     capacity, sub-page pieces, a reader thread, every bad input.
 *   - process_vm_readv/writev: bytes move between the right places over uneven
 *     segments on both sides, through the remote GUP (pins or gets per policy);
 *     a write breaks COW in the target only; partial counts at a hole; -ESRCH
 *     for a process that is gone; every bad input.
 *   - RDMA memory regions: after fork the parent's region still aliases what the
 *     parent sees on linux-6.x (fork copied the pinned pages for the child); on
 *     linux-2.6.29 the parent's first write copies its page away and the NIC
 *     talks to the child's page (seed 004's bug).  A read-only region made after
 *     fork is coherent on both (unshare; ib_umem_get's write=1, force).  Access
 *     rights, every bad input.
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

/* ------------------------------------------------------------------------ */
/* vmsplice                                                                 */
/* ------------------------------------------------------------------------ */

#define VS_PAGES	2

/* Read @n whole pages out of @p: they must hold pattern @seed of the range at @addr. */
static void pipe_expect_pages(struct gup_pipe *p, uint64_t addr, unsigned n, unsigned seed)
{
	uint8_t got[PG], want[PG];

	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(gup_pipe_read(p, got, PG), PG);
		fx_pattern_page(want, seed, addr + i * PG);
		if (memcmp(got, want, PG) != 0)
			fail_msg("pipe page %u: not pattern %u (first byte %#x, want %#x)", i, seed,
				 got[0], want[0]);
	}
	assert_int_equal(gup_pipe_read(p, got, PG), -EAGAIN);
}

/*
 * Who splices, who unmaps, who writes afterwards - cow.c's four vmsplice cases.
 * The pipe must show pattern 1 (the memory at vmsplice time) on linux-6.x; the
 * writer's pattern 2 shows through on linux-2.6.29, where the writer's fault
 * found the page mapped once and reused it under the pipe's reference.
 */
enum vs_case {
	VS_CHILD_SPLICES,		/* A3: fork; child splices, unmaps; parent writes  */
	VS_CHILD_SPLICES_MPROTECT,	/* A4: A3, parent mprotect RO -> RW first           */
	VS_PARENT_SPLICES_BEFORE_FORK,	/* A5: parent splices, forks, unmaps; child writes */
	VS_PARENT_SPLICES_AFTER_FORK,	/* A6: fork; parent splices, unmaps; child writes  */
};

static void vmsplice_case(const char *policy, enum vs_case vc)
{
	struct gup_task *child = NULL, *splicer, *writer;
	struct gup_iovec iov;
	struct gup_pipe *p;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	iov = (struct gup_iovec){ fx_map_private(e.t, VS_PAGES), VS_PAGES * PG };
	fx_fill_pages(e.t, iov.base, VS_PAGES, 1);
	assert_int_equal(gup_pipe_create(e.w, &p), 0);
	if (vc == VS_PARENT_SPLICES_BEFORE_FORK)
		assert_int_equal(gup_vmsplice(p, e.t, &iov, 1), VS_PAGES * PG);
	child = fx_fork(e.t);
	splicer = vc <= VS_CHILD_SPLICES_MPROTECT ? child : e.t;
	writer = splicer == child ? e.t : child;
	if (vc != VS_PARENT_SPLICES_BEFORE_FORK)
		assert_int_equal(gup_vmsplice(p, splicer, &iov, 1), VS_PAGES * PG);
	assert_int_equal(gup_munmap(splicer, iov.base, VS_PAGES * PG), 0);
	if (vc == VS_CHILD_SPLICES_MPROTECT) {
		assert_int_equal(gup_mprotect(writer, iov.base, VS_PAGES * PG, GUP_PROT_READ), 0);
		assert_int_equal(gup_mprotect(writer, iov.base, VS_PAGES * PG,
					      GUP_PROT_READ | GUP_PROT_WRITE), 0);
	}
	fx_fill_pages(writer, iov.base, VS_PAGES, 2);
	pipe_expect_pages(p, iov.base, VS_PAGES, e.new_policy ? 1 : 2);
	fx_check_pages(writer, iov.base, VS_PAGES, 2);
	gup_pipe_destroy(p);
	gup_task_exit(child);
	fx_io_done(&e);
}

static void vmsplice_a3(const char *policy) { vmsplice_case(policy, VS_CHILD_SPLICES); }
static void vmsplice_a4(const char *policy) { vmsplice_case(policy, VS_CHILD_SPLICES_MPROTECT); }
static void vmsplice_a5(const char *policy) { vmsplice_case(policy, VS_PARENT_SPLICES_BEFORE_FORK); }
static void vmsplice_a6(const char *policy) { vmsplice_case(policy, VS_PARENT_SPLICES_AFTER_FORK); }
FX_PER_POLICY(vmsplice_a3)
FX_PER_POLICY(vmsplice_a4)
FX_PER_POLICY(vmsplice_a5)
FX_PER_POLICY(vmsplice_a6)

/*
 * Sub-page pieces over several segments, in order; the pipe holds
 * GUP_PIPE_BUFFERS pieces, then -EAGAIN; reads of any size; read-only
 * references (no write fault, nothing pinned); destroy drops what is left.
 */
static void test_vmsplice_pieces(void **state)
{
	uint8_t mem[4 * PG], got[4 * PG];
	struct gup_iovec iov[3], big;
	struct gup_pipe *p;
	uint64_t base, many;
	struct fx_io e;
	long n;

	(void)state;
	fx_io_new(&e, NULL, NR_FRAMES);
	base = fx_map_private(e.t, 4);
	fx_fill_pages(e.t, base, 4, 7);
	assert_int_equal(gup_load(e.t, base, mem, sizeof(mem)), 0);
	assert_int_equal(gup_pipe_create(e.w, &p), 0);
	fx_snap(e.w, &e.s0);
	iov[0] = (struct gup_iovec){ base + 5, 10 };			/* 1 piece     */
	iov[1] = (struct gup_iovec){ base + PG - 3, 7 };		/* 2 pieces    */
	iov[2] = (struct gup_iovec){ base + 2 * PG + 100, PG + 1 };	/* 2 pieces    */
	assert_int_equal(gup_vmsplice(p, e.t, iov, 3), 10 + 7 + PG + 1);
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_VMSPLICE_PAGES), 5);
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_GET_ACQUIRED), 5);
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_PIN_ACQUIRED), 0);
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_FAULT), 0);
	/* Reads of 4, then 6 + 7 + 3 bytes, then the rest. */
	assert_int_equal(gup_pipe_read(p, got, 4), 4);
	assert_memory_equal(got, mem + 5, 4);
	assert_int_equal(gup_pipe_read(p, got, 16), 16);
	assert_memory_equal(got, mem + 9, 6);
	assert_memory_equal(got + 6, mem + PG - 3, 7);
	assert_memory_equal(got + 13, mem + 2 * PG + 100, 3);
	assert_int_equal(gup_pipe_read(p, got, sizeof(got)), PG + 1 - 3);
	assert_memory_equal(got, mem + 2 * PG + 103, PG + 1 - 3);
	assert_int_equal(gup_pipe_read(p, got, 1), -EAGAIN);
	assert_int_equal(gup_pipe_read(p, got, 0), 0);

	/* Capacity: 20 pages offered, 16 queued; then full. */
	many = fx_map_private(e.t, 20);
	fx_fill_pages(e.t, many, 20, 8);
	big = (struct gup_iovec){ many, 20 * PG };
	n = gup_vmsplice(p, e.t, &big, 1);
	assert_int_equal(n, GUP_PIPE_BUFFERS * PG);
	assert_int_equal(gup_vmsplice(p, e.t, &big, 1), -EAGAIN);
	assert_int_equal(gup_pipe_read(p, got, PG), PG);
	big = (struct gup_iovec){ many + 16 * PG + 8, 8 };
	assert_int_equal(gup_vmsplice(p, e.t, &big, 1), 8);
	assert_int_equal(gup_page_ref_count(fx_io_page(e.t, many + 5 * PG)), 2);
	gup_pipe_destroy(p);		/* 15 pages and a piece still queued */
	assert_int_equal(gup_page_ref_count(fx_io_page(e.t, many + 5 * PG)), 1);
	fx_io_done(&e);
}

static void test_vmsplice_bad_args(void **state)
{
	struct gup_world *w2 = fx_world_new(NULL, 64, 0);
	struct gup_iovec iov[2];
	uint8_t buf[PG];
	struct gup_pipe *p;
	uint64_t base, none;
	struct fx_io e;
	size_t free0;

	(void)state;
	fx_io_new(&e, NULL, NR_FRAMES);
	base = fx_map_private(e.t, 2);
	fx_fill_pages(e.t, base, 1, 4);		/* page 1 never touched: the zero page */
	none = fx_map_anon(e.t, 1, GUP_PROT_NONE, GUP_MAP_PRIVATE);
	assert_int_equal(gup_pipe_create(NULL, &p), -EINVAL);
	assert_int_equal(gup_pipe_create(e.w, NULL), -EINVAL);
	assert_int_equal(gup_pipe_create(e.w, &p), 0);
	free0 = fx_nr_free(e.w);
	iov[0] = (struct gup_iovec){ base, PG };
	assert_int_equal(gup_vmsplice(NULL, e.t, iov, 1), -EINVAL);
	assert_int_equal(gup_vmsplice(p, NULL, iov, 1), -EINVAL);
	assert_int_equal(gup_vmsplice(p, e.t, NULL, 1), -EINVAL);
	assert_int_equal(gup_vmsplice(p, e.t, iov, GUP_IOV_MAX + 1), -EINVAL);
	{
		struct gup_task *t2 = fx_task_new(w2);

		assert_int_equal(gup_vmsplice(p, t2, iov, 1), -EINVAL);
		gup_task_exit(t2);
	}
	assert_int_equal(gup_vmsplice(p, e.t, iov, 0), 0);
	iov[1] = (struct gup_iovec){ GUP_TASK_SIZE - 1, 2 };
	assert_int_equal(gup_vmsplice(p, e.t, iov, 2), -EFAULT);	/* access_ok first */
	iov[1] = (struct gup_iovec){ none, 1 };
	assert_int_equal(gup_vmsplice(p, e.t, &iov[1], 1), -EFAULT);
	iov[1] = (struct gup_iovec){ base + 2 * PG + PG, 1 };	/* unmapped, past both */
	assert_int_equal(gup_vmsplice(p, e.t, &iov[1], 1), -EFAULT);
	assert_int_equal(gup_pipe_read(p, buf, 1), -EAGAIN);
	assert_int_equal(gup_pipe_read(NULL, buf, 1), -EINVAL);
	assert_int_equal(gup_pipe_read(p, NULL, 1), -EINVAL);
	fx_io_assert_balanced(e.w);
	assert_int_equal(fx_nr_free(e.w), free0);
	/* A hole after the first segment: what was spliced before it counts. */
	iov[1] = (struct gup_iovec){ none, PG };
	assert_int_equal(gup_vmsplice(p, e.t, iov, 2), PG);
	/* The zero page, read-only: spliced as is, nothing allocated. */
	iov[0] = (struct gup_iovec){ base + PG, 16 };
	assert_int_equal(gup_vmsplice(p, e.t, iov, 1), 16);
	assert_int_equal(gup_pipe_read(p, buf, PG), PG);
	assert_int_equal(gup_pipe_read(p, buf, PG), 16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(fx_nr_free(e.w), free0);
	gup_pipe_destroy(p);
	gup_pipe_destroy(NULL);
	fx_world_done(w2);
	fx_io_done(&e);
}

/* A writer thread splices a read-only stream while a reader thread drains it. */
#define VT_PAGES	8
#define VT_ROUNDS	200

struct vt_ctx {
	struct gup_pipe *p;
	struct gup_task *t;
	uint64_t base;
	_Atomic unsigned bad;
	_Atomic int writer_done;
	uint64_t spliced, eagain;
};

/* The stream's byte @i: the page it came from and its offset. */
static uint8_t vt_byte(uint64_t i)
{
	return fx_pattern_byte(11, i / PG % VT_PAGES, i % PG);
}

static void vt_writer(void *arg)
{
	struct vt_ctx *c = arg;
	uint64_t pos = 0, end = (uint64_t)VT_ROUNDS * VT_PAGES * PG;
	struct fx_spin s;

	fx_spin_begin(&s, FX_WAIT_NS, 4);
	while (pos < end) {
		/* Odd-sized pieces that cross pages; the stream wraps around the buffer. */
		uint64_t off = pos % (VT_PAGES * PG);
		size_t len = 3000;
		struct gup_iovec iov;
		long n;

		if (len > VT_PAGES * PG - off)
			len = VT_PAGES * PG - off;
		if (len > end - pos)
			len = end - pos;
		iov = (struct gup_iovec){ c->base + off, len };
		n = gup_vmsplice(c->p, c->t, &iov, 1);
		if (n == -EAGAIN) {
			c->eagain++;
			if (!fx_spin(&s))
				break;		/* the reader is gone: the test fails on pos */
			continue;
		}
		if (n <= 0) {
			atomic_fetch_add(&c->bad, 1);
			break;
		}
		pos += (uint64_t)n;
	}
	c->spliced = pos;
	atomic_store(&c->writer_done, 1);
}

static void test_vmsplice_threads(void **state)
{
	struct gup_thread *th;
	struct vt_ctx c;
	uint8_t buf[1000];
	uint64_t pos = 0, end = (uint64_t)VT_ROUNDS * VT_PAGES * PG;
	struct fx_spin s;
	struct fx_io e;

	(void)state;
	fx_io_new(&e, NULL, NR_FRAMES);
	memset(&c, 0, sizeof(c));
	c.base = fx_map_private(e.t, VT_PAGES);
	for (unsigned i = 0; i < VT_PAGES; i++) {
		uint8_t page[PG];

		for (size_t off = 0; off < PG; off++)
			page[off] = vt_byte(i * PG + off);
		assert_int_equal(gup_store(e.t, c.base + i * PG, page, PG), 0);
	}
	assert_int_equal(gup_pipe_create(e.w, &c.p), 0);
	c.t = fx_task_add(gup_task_mm(e.t));
	th = fx_thread_start(e.w, vt_writer, &c);
	fx_spin_begin(&s, FX_WAIT_NS, 4);
	while (pos < end && !atomic_load(&c.bad)) {
		long n = gup_pipe_read(c.p, buf, sizeof(buf));

		if (n == -EAGAIN) {
			if (!fx_spin(&s))
				break;
			continue;
		}
		assert_true(n > 0);
		for (long i = 0; i < n; i++)
			if (buf[i] != vt_byte(pos + (uint64_t)i))
				fail_msg("stream byte %llu is %#x, want %#x",
					 (unsigned long long)(pos + (uint64_t)i), buf[i],
					 vt_byte(pos + (uint64_t)i));
		pos += (uint64_t)n;
	}
	assert_int_equal(gup_thread_join(th), 0);
	assert_int_equal(atomic_load(&c.bad), 0);
	assert_int_equal(pos, end);
	assert_int_equal(c.spliced, end);
	print_message("vmsplice stream: %llu bytes, writer saw a full pipe %llu times\n",
		      (unsigned long long)end, (unsigned long long)c.eagain);
	gup_pipe_destroy(c.p);
	gup_task_exit(c.t);
	fx_io_done(&e);
}

/* ------------------------------------------------------------------------ */
/* process_vm_readv / process_vm_writev                                     */
/* ------------------------------------------------------------------------ */

/* A target process: a task of its own mm with 3 pages of pattern 5 at *@base. */
static struct gup_task *pvm_target(struct fx_io *e, uint64_t *base)
{
	struct gup_task *target = fx_task_new(e->w);

	*base = fx_map_private(target, 3);
	fx_fill_pages(target, *base, 3, 5);
	return target;
}

/*
 * Remote [r+10, r+3010) and [r+2PG-50, r+2PG+2050) - 5100 bytes over 3 pages -
 * to local [l+100, l+200) and [l+PG+7, l+PG+5007): the byte streams line up.
 */
static void pvm_readv_writev(const char *policy)
{
	uint8_t remote[3 * PG], local[3 * PG], want[3 * PG];
	struct gup_iovec lv[2], rv[2];
	struct gup_task *target;
	uint64_t r, l;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	target = pvm_target(&e, &r);
	l = fx_map_private(e.t, 3);
	assert_int_equal(gup_fill(e.t, l, FILL, 3 * PG), 0);
	rv[0] = (struct gup_iovec){ r + 10, 3000 };
	rv[1] = (struct gup_iovec){ r + 2 * PG - 50, 2100 };
	lv[0] = (struct gup_iovec){ l + 100, 100 };
	lv[1] = (struct gup_iovec){ l + PG + 7, 5000 };
	assert_int_equal(gup_process_vm_readv(e.t, gup_task_mm(target), lv, 2, rv, 2, 0), 5100);
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_PVM_BYTES), 5100);
	assert_true(fx_delta(e.w, &e.s0, fx_io_ref_acquired(&e)) >= 3);

	/* What the local side must hold: the remote stream, in order, FILL elsewhere. */
	assert_int_equal(gup_load(target, r, remote, sizeof(remote)), 0);
	memset(want, FILL, sizeof(want));
	memcpy(want + 100, remote + 10, 100);
	memcpy(want + PG + 7, remote + 110, 2900);
	memcpy(want + PG + 7 + 2900, remote + 2 * PG - 50, 2100);
	assert_int_equal(gup_load(e.t, l, local, sizeof(local)), 0);
	assert_memory_equal(local, want, sizeof(want));

	/* The other way: the local stream lands in the same remote places. */
	fx_fill_pages(e.t, l, 3, 6);
	assert_int_equal(gup_load(e.t, l, local, sizeof(local)), 0);
	assert_int_equal(gup_process_vm_writev(e.t, gup_task_mm(target), lv, 2, rv, 2, 0), 5100);
	memcpy(want, remote, sizeof(want));
	memcpy(want + 10, local + 100, 100);
	memcpy(want + 110, local + PG + 7, 2900);
	memcpy(want + 2 * PG - 50, local + PG + 7 + 2900, 2100);
	assert_int_equal(gup_load(target, r, remote, sizeof(remote)), 0);
	assert_memory_equal(remote, want, sizeof(want));
	/* A page the write reached is dirty; the references are gone. */
	assert_true(gup_page_dirty(fx_io_page(target, r)));
	assert_int_equal(gup_page_ref_count(fx_io_page(target, r)), 1);
	gup_task_exit(target);
	fx_io_done(&e);
}
FX_PER_POLICY(pvm_readv_writev)

/*
 * The target is a child whose pages are COW-shared with its parent: a writev
 * breaks COW in the child (FOLL_WRITE) and the parent keeps its bytes; a readv
 * of the parent then sees them unchanged.  Also onto the caller's own mm.
 */
static void pvm_write_breaks_cow(const char *policy)
{
	struct gup_iovec lv, rv;
	struct gup_task *child;
	uint8_t msg[64];
	uint64_t l, r;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	r = fx_map_private(e.t, 1);
	fx_fill_pages(e.t, r, 1, 1);
	child = fx_fork(e.t);
	l = fx_map_private(e.t, 1);
	memset(msg, 0x77, sizeof(msg));
	assert_int_equal(gup_store(e.t, l, msg, sizeof(msg)), 0);
	lv = (struct gup_iovec){ l, sizeof(msg) };
	rv = (struct gup_iovec){ r + 1000, sizeof(msg) };
	assert_int_equal(gup_process_vm_writev(e.t, gup_task_mm(child), &lv, 1, &rv, 1, 0),
			 sizeof(msg));
	fx_io_mem_is(child, r + 1000, sizeof(msg), 0x77);
	fx_check_pages(e.t, r, 1, 1);
	assert_int_not_equal(fx_pfn(child, r), fx_pfn(e.t, r));
	/* Self: read own page 0 into own l. */
	rv = (struct gup_iovec){ r, sizeof(msg) };
	assert_int_equal(gup_process_vm_readv(e.t, gup_task_mm(e.t), &lv, 1, &rv, 1, 0),
			 sizeof(msg));
	assert_int_equal(gup_load(e.t, l, msg, sizeof(msg)), 0);
	for (unsigned i = 0; i < sizeof(msg); i++)
		assert_int_equal(msg[i], fx_pattern_byte(1, r / PG, i));
	gup_task_exit(child);
	fx_io_done(&e);
}
FX_PER_POLICY(pvm_write_breaks_cow)

static void pvm_bad_args(const char *policy)
{
	struct gup_world *w2 = fx_world_new(policy, 64, 0);
	struct gup_iovec lv[2], rv[2];
	struct gup_task *target, *t2;
	struct gup_mm *tmm;
	uint64_t r, l, ro;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	target = pvm_target(&e, &r);
	tmm = gup_task_mm(target);
	ro = fx_map_anon(target, 1, GUP_PROT_READ, GUP_MAP_PRIVATE);
	l = fx_map_private(e.t, 2);
	lv[0] = (struct gup_iovec){ l, PG };
	rv[0] = (struct gup_iovec){ r, PG };
	t2 = fx_task_new(w2);

	assert_int_equal(gup_process_vm_readv(NULL, tmm, lv, 1, rv, 1, 0), -EINVAL);
	assert_int_equal(gup_process_vm_readv(e.t, NULL, lv, 1, rv, 1, 0), -EINVAL);
	assert_int_equal(gup_process_vm_readv(t2, tmm, lv, 1, rv, 1, 0), -EINVAL);
	assert_int_equal(gup_process_vm_readv(e.t, tmm, lv, 1, rv, 1, 1), -EINVAL);
	assert_int_equal(gup_process_vm_writev(e.t, tmm, NULL, 1, rv, 1, 0), -EINVAL);
	assert_int_equal(gup_process_vm_readv(e.t, tmm, lv, 1, NULL, 1, 0), -EINVAL);
	assert_int_equal(gup_process_vm_readv(e.t, tmm, lv, GUP_IOV_MAX + 1, rv, 1, 0), -EINVAL);
	assert_int_equal(gup_process_vm_readv(e.t, tmm, lv, 1, rv, GUP_IOV_MAX + 1, 0), -EINVAL);
	rv[1] = (struct gup_iovec){ r, GUP_IO_MAX_BYTES };
	assert_int_equal(gup_process_vm_readv(e.t, tmm, lv, 1, rv, 2, 0), -EINVAL);
	/* Nothing to copy; nothing remote. */
	assert_int_equal(gup_process_vm_readv(e.t, tmm, lv, 0, rv, 1, 0), 0);
	assert_int_equal(gup_process_vm_readv(e.t, tmm, lv, 1, rv, 0, 0), 0);
	/* Remote not mapped, not readable/writable; local not mapped or beyond. */
	rv[1] = (struct gup_iovec){ r + 3 * PG, PG };
	assert_int_equal(gup_process_vm_readv(e.t, tmm, lv, 1, &rv[1], 1, 0), -EFAULT);
	rv[1] = (struct gup_iovec){ ro, PG };
	assert_int_equal(gup_process_vm_writev(e.t, tmm, lv, 1, &rv[1], 1, 0), -EFAULT);
	lv[1] = (struct gup_iovec){ l + 2 * PG, PG };
	assert_int_equal(gup_process_vm_readv(e.t, tmm, &lv[1], 1, rv, 1, 0), -EFAULT);
	lv[1] = (struct gup_iovec){ GUP_TASK_SIZE - 8, 16 };
	assert_int_equal(gup_process_vm_readv(e.t, tmm, &lv[1], 1, rv, 1, 0), -EFAULT);
	fx_io_assert_balanced(e.w);
	/* Partial: 2 KiB before a remote hole; local 1.5 KiB before a local hole. */
	rv[1] = (struct gup_iovec){ r + 3 * PG - 2048, 4096 };
	lv[1] = (struct gup_iovec){ l, 2 * PG };
	assert_int_equal(gup_process_vm_readv(e.t, tmm, &lv[1], 1, &rv[1], 1, 0), 2048);
	lv[1] = (struct gup_iovec){ l + 2 * PG - 1536, 4096 };
	assert_int_equal(gup_process_vm_readv(e.t, tmm, &lv[1], 1, rv, 1, 0), 1536);
	/* Holding the target's mmap lock: refused, nothing taken. */
	assert_int_equal(gup_mmap_read_lock(e.t, tmm), 0);
	assert_int_equal(gup_process_vm_readv(e.t, tmm, lv, 1, rv, 1, 0), -EDEADLK);
	gup_mmap_read_unlock(e.t, tmm);
	/* The process is gone (its last task exited; we still hold the mm). */
	gup_mm_get(tmm);
	gup_task_exit(target);
	assert_int_equal(gup_process_vm_readv(e.t, tmm, lv, 1, rv, 1, 0), -ESRCH);
	assert_int_equal(gup_process_vm_writev(e.t, tmm, lv, 1, rv, 1, 0), -ESRCH);
	gup_mm_put(tmm);
	gup_task_exit(t2);
	fx_world_end(w2);
	fx_io_done(&e);
}
FX_PER_POLICY(pvm_bad_args)

/* ------------------------------------------------------------------------ */
/* RDMA memory regions                                                      */
/* ------------------------------------------------------------------------ */

#define RW_ACCESS	(GUP_RDMA_ACCESS_LOCAL_WRITE | GUP_RDMA_ACCESS_REMOTE_WRITE | \
			 GUP_RDMA_ACCESS_REMOTE_READ)

/* The NIC reads [addr, addr + len) of @mr: it must hold pattern @seed of those addresses. */
static void mr_expect(struct gup_mr *mr, uint64_t addr, size_t len, unsigned seed)
{
	uint8_t got[2 * PG];

	assert_true(len <= sizeof(got));
	assert_int_equal(gup_rdma_mr_read(mr, addr, got, len), 0);
	for (size_t i = 0; i < len; i++)
		if (got[i] != fx_pattern_byte(seed, (addr + i) / PG, (addr + i) % PG))
			fail_msg("NIC reads %#x at %#llx, want pattern %u", got[i],
				 (unsigned long long)(addr + i), seed);
}

/*
 * A region over most of two pages; fork (the child lives on); the parent writes
 * pattern 2 over them; the NIC reads the region and writes a message into it.
 */
static void rdma_fork_coherence(const char *policy)
{
	uint8_t msg[300];
	struct gup_task *child;
	struct gup_mr *mr;
	uint64_t base, addr;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	base = fx_map_private(e.t, 2);
	fx_fill_pages(e.t, base, 2, 1);
	addr = base + 100;
	assert_int_equal(gup_rdma_reg_mr(e.t, addr, 2 * PG - 200, RW_ACCESS, &mr), 0);
	mr_expect(mr, addr, 2 * PG - 200, 1);
	child = fx_fork(e.t);
	fx_fill_pages(e.t, base, 2, 2);
	memset(msg, 0x5c, sizeof(msg));
	assert_int_equal(gup_rdma_mr_write(mr, base + PG - 150, msg, sizeof(msg)), 0);
	if (e.new_policy) {
		/* Both pinned pages were copied for the child; the region stays the parent's. */
		assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_FORK_PAGE_COPIED), 2);
		mr_expect(mr, addr, PG - 250, 2);
		fx_io_mem_is(e.t, base + PG - 150, sizeof(msg), 0x5c);
		fx_check_pages(child, base, 2, 1);
	} else {
		/* The parent's write faults copied both pages away: the NIC has the child's. */
		mr_expect(mr, addr, PG - 250, 1);
		fx_io_mem_is(child, base + PG - 150, sizeof(msg), 0x5c);
		fx_check_pages(e.t, base, 2, 2);
	}
	assert_int_equal(gup_rdma_dereg_mr(mr), 0);
	assert_true(gup_page_dirty(fx_io_page(e.new_policy ? e.t : child, base)));
	gup_task_exit(child);
	fx_io_done(&e);
}
FX_PER_POLICY(rdma_fork_coherence)

/*
 * A read-only region registered over pages already COW-shared with a child:
 * coherent with the parent's later writes on both policies - linux-6.x unshares
 * at the R/O long-term pin, 2009's ib_umem_get forced a write fault (write=1,
 * force=1).  The NIC may not write it.
 */
static void rdma_readonly_after_fork(const char *policy)
{
	struct gup_task *child;
	struct gup_mr *mr;
	uint8_t b = 0;
	uint64_t base;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	base = fx_map_private(e.t, 1);
	fx_fill_pages(e.t, base, 1, 1);
	child = fx_fork(e.t);
	assert_int_equal(gup_rdma_reg_mr(e.t, base, PG, GUP_RDMA_ACCESS_REMOTE_READ, &mr), 0);
	assert_int_not_equal(fx_pfn(e.t, base), fx_pfn(child, base));
	fx_fill_pages(e.t, base, 1, 2);
	mr_expect(mr, base, PG, 2);
	assert_int_equal(gup_rdma_mr_write(mr, base, &b, 1), -EACCES);
	fx_check_pages(child, base, 1, 1);
	if (e.new_policy)
		assert_false(gup_page_movable(fx_io_page(e.t, base)));	/* FOLL_LONGTERM */
	assert_int_equal(gup_rdma_dereg_mr(mr), 0);
	gup_task_exit(child);
	fx_io_done(&e);
}
FX_PER_POLICY(rdma_readonly_after_fork)

static void rdma_bad_args(const char *policy)
{
	struct gup_mr *mr = NULL;
	uint64_t base, ro;
	uint8_t buf[16];
	struct fx_io e;
	size_t free0;

	fx_io_new(&e, policy, NR_FRAMES);
	base = fx_map_private(e.t, 2);
	ro = fx_map_anon(e.t, 1, GUP_PROT_READ, GUP_MAP_PRIVATE);
	free0 = fx_nr_free(e.w);
	assert_int_equal(gup_rdma_reg_mr(NULL, base, PG, RW_ACCESS, &mr), -EINVAL);
	assert_int_equal(gup_rdma_reg_mr(e.t, base, PG, RW_ACCESS, NULL), -EINVAL);
	assert_int_equal(gup_rdma_reg_mr(e.t, base, 0, RW_ACCESS, &mr), -EINVAL);
	assert_int_equal(gup_rdma_reg_mr(e.t, base, PG, 1u << 5, &mr), -EINVAL);
	assert_int_equal(gup_rdma_reg_mr(e.t, base, PG, GUP_RDMA_ACCESS_REMOTE_WRITE, &mr),
			 -EINVAL);
	assert_int_equal(gup_rdma_reg_mr(e.t, base, GUP_IO_MAX_BYTES + PG, RW_ACCESS, &mr),
			 -EINVAL);
	assert_int_equal(gup_rdma_reg_mr(e.t, GUP_TASK_SIZE - PG, 2 * PG, RW_ACCESS, &mr), -EFAULT);
	assert_int_equal(gup_rdma_reg_mr(e.t, base + PG, 2 * PG, RW_ACCESS, &mr), -EFAULT);
	assert_int_equal(gup_rdma_reg_mr(e.t, ro, PG, RW_ACCESS, &mr), -EFAULT);
	assert_null(mr);
	assert_int_equal(gup_rdma_dereg_mr(NULL), -EINVAL);
	fx_io_assert_balanced(e.w);
	/* The faults of the refused registrations stay; nothing else is held. */
	assert_true(fx_nr_free(e.w) + 2 >= free0);

	/* A region of [base + 8, base + PG): accesses outside it, or with NULL. */
	assert_int_equal(gup_rdma_reg_mr(e.t, base + 8, PG - 8, GUP_RDMA_ACCESS_LOCAL_WRITE, &mr),
			 0);
	assert_int_equal(gup_rdma_mr_read(mr, base, buf, 8), -EINVAL);
	assert_int_equal(gup_rdma_mr_read(mr, base + PG - 8, buf, 9), -EINVAL);
	assert_int_equal(gup_rdma_mr_write(mr, base + PG, buf, 1), -EINVAL);
	assert_int_equal(gup_rdma_mr_read(mr, UINT64_MAX, buf, 2), -EINVAL);
	assert_int_equal(gup_rdma_mr_read(mr, base + 8, NULL, 1), -EINVAL);
	assert_int_equal(gup_rdma_mr_read(NULL, base + 8, buf, 1), -EINVAL);
	assert_int_equal(gup_rdma_mr_read(mr, base + PG, buf, 0), 0);	/* the end, empty */
	memset(buf, 0xa1, sizeof(buf));
	assert_int_equal(gup_rdma_mr_write(mr, base + PG - 16, buf, 16), 0);
	fx_io_mem_is(e.t, base + PG - 16, 16, 0xa1);
	assert_int_equal(gup_rdma_dereg_mr(mr), 0);
	fx_io_done(&e);
}
FX_PER_POLICY(rdma_bad_args)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_POLICY_TESTS(fixed_read_write),
		FX_POLICY_TESTS(fixed_fork),
		cmocka_unit_test(test_fixed_unregister_in_flight),
		FX_POLICY_TESTS(fixed_bad_args),
		FX_POLICY_TESTS(vmsplice_a3),
		FX_POLICY_TESTS(vmsplice_a4),
		FX_POLICY_TESTS(vmsplice_a5),
		FX_POLICY_TESTS(vmsplice_a6),
		cmocka_unit_test(test_vmsplice_pieces),
		cmocka_unit_test(test_vmsplice_bad_args),
		cmocka_unit_test(test_vmsplice_threads),
		FX_POLICY_TESTS(pvm_readv_writev),
		FX_POLICY_TESTS(pvm_write_breaks_cow),
		FX_POLICY_TESTS(pvm_bad_args),
		FX_POLICY_TESTS(rdma_fork_coherence),
		FX_POLICY_TESTS(rdma_readonly_after_fork),
		FX_POLICY_TESTS(rdma_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
