/* SPDX-License-Identifier: MIT */
/*
 * tests/test_dma.c - the DMA engine (<gup/io.h>, gup_dio_*): O_DIRECT-style
 * transfers between a disk and user memory, by physical page.
 *
 *   - data lands exactly where it should at 512-byte sub-page offsets, over
 *     several segments, and nothing around a segment changes (reads); the disk
 *     receives exactly the memory's bytes (writes);
 *   - asynchronous requests: submit, poll, wait; a plugged engine holds them with
 *     their references taken; the references are the policy's (pins on
 *     linux-6.x, FOLL_GET on linux-2.6.29), released at completion, pages a read
 *     wrote marked dirty;
 *   - every bad input gets its errno and leaves nothing referenced;
 *   - seed 004's two races, made deterministic by holding the engine: forkscrew's
 *     (R1: a read in flight, fork, a neighbouring read's COW fault in the parent;
 *     linux-2.6.29 loses the DMA into the child's page) and reverse-race's (R2: a
 *     write in flight from a COW-shared page; linux-2.6.29 sends the child's
 *     later data to the disk);
 *   - threads submitting to the same pages at once (free mode, no fork).
 *
 * Every test ends with gup_world_check, balanced GUP counters and a clean
 * teardown (every frame free, the I/O threads joined).
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
#define DISK_BYTES	FX_IO_DISK_BYTES
#define FILL		0xee		/* user memory before a read */
#define DISK_FILL	0x33		/* disk bytes before a write */

/* ------------------------------------------------------------------------ */
/* Reads and writes at sub-page offsets                                     */
/* ------------------------------------------------------------------------ */

/*
 * Three segments: inside page 0, across the page 1/2 boundary, at the end of
 * page 3 - one reference on each of the 4 pages, 2560 bytes.
 */
#define NR_SEGS	3
static const struct { uint64_t off; size_t len; } segs[NR_SEGS] = {
	{ SECT, 2 * SECT },
	{ PG + 7 * SECT, 2 * SECT },
	{ 3 * PG + 7 * SECT, SECT },
};
#define SEGS_BYTES	(5 * SECT)
#define SEGS_PAGES	4

static void make_iov(struct gup_iovec *iov, uint64_t base)
{
	for (unsigned i = 0; i < NR_SEGS; i++) {
		iov[i].base = base + segs[i].off;
		iov[i].len = segs[i].len;
	}
}

/* Which segment holds byte @off of the buffer, and where in the request; -1 if none. */
static long seg_pos(uint64_t off)
{
	long at = 0;

	for (unsigned i = 0; i < NR_SEGS; i++) {
		if (off >= segs[i].off && off < segs[i].off + segs[i].len)
			return at + (long)(off - segs[i].off);
		at += (long)segs[i].len;
	}
	return -1;
}

static void dio_read_subpage(const char *policy)
{
	struct fx_io e;
	struct gup_iovec iov[NR_SEGS];
	static uint8_t buf[4 * PG];
	const uint64_t pos = 3 * SECT;
	uint64_t base;

	fx_io_new(&e, policy, NR_FRAMES);
	base = fx_map_private(e.t, 4);
	assert_int_equal(gup_fill(e.t, base, FILL, 4 * PG), 0);
	make_iov(iov, base);
	assert_int_equal(gup_dio_read(e.t, e.d, pos, iov, NR_SEGS), SEGS_BYTES);

	/* Every byte: the disk's inside a segment, untouched around it. */
	assert_int_equal(gup_load(e.t, base, buf, sizeof(buf)), 0);
	for (uint64_t off = 0; off < sizeof(buf); off++) {
		long at = seg_pos(off);
		uint8_t want = at < 0 ? FILL : fx_io_disk_byte(pos + (uint64_t)at);

		if (buf[off] != want)
			fail_msg("buffer byte %#llx is %#x, want %#x", (unsigned long long)off,
				 buf[off], want);
	}
	/* Pages the DMA wrote are dirty; only their mappings reference them now. */
	for (unsigned p = 0; p < SEGS_PAGES; p++) {
		assert_true(gup_page_dirty(fx_io_page(e.t, base + p * PG)));
		assert_int_equal(gup_page_ref_count(fx_io_page(e.t, base + p * PG)), 1);
	}
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_DIO_READ), 1);
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_DIO_BYTES), SEGS_BYTES);
	/* One reference per page of each segment, of the policy's kind. */
	assert_int_equal(fx_delta(e.w, &e.s0, fx_io_ref_acquired(&e)), SEGS_PAGES);
	assert_int_equal(fx_delta(e.w, &e.s0, e.new_policy ? GUP_STAT_GET_ACQUIRED
							   : GUP_STAT_PIN_ACQUIRED), 0);
	fx_io_done(&e);
}
FX_PER_POLICY(dio_read_subpage)

static void dio_write_subpage(const char *policy)
{
	static uint8_t mem[4 * PG], disk[DISK_BYTES], fill[DISK_BYTES];
	const uint64_t pos = 9 * SECT;
	struct gup_iovec iov[NR_SEGS];
	struct fx_io e;
	uint64_t base;

	fx_io_new(&e, policy, NR_FRAMES);
	memset(fill, DISK_FILL, sizeof(fill));
	assert_int_equal(gup_disk_poke(e.d, 0, fill, DISK_BYTES), 0);
	base = fx_map_private(e.t, 4);
	fx_fill_pages(e.t, base, 4, 5);
	assert_int_equal(gup_load(e.t, base, mem, sizeof(mem)), 0);
	make_iov(iov, base);
	assert_int_equal(gup_dio_write(e.t, e.d, pos, iov, NR_SEGS), SEGS_BYTES);

	/* The disk holds the segments' bytes in order from pos, and nothing else changed. */
	assert_int_equal(gup_disk_peek(e.d, 0, disk, DISK_BYTES), 0);
	for (uint64_t off = 0, at = 0; off < sizeof(mem); off++) {
		if (seg_pos(off) < 0)
			continue;
		if (disk[pos + at] != mem[off])
			fail_msg("disk byte %#llx is %#x, want memory byte %#llx (%#x)",
				 (unsigned long long)(pos + at), disk[pos + at],
				 (unsigned long long)off, mem[off]);
		at++;
	}
	for (uint64_t off = 0; off < DISK_BYTES; off++)
		if ((off < pos || off >= pos + SEGS_BYTES) && disk[off] != DISK_FILL)
			fail_msg("disk byte %#llx outside the write is %#x", (unsigned long long)off,
				 disk[off]);
	/* The memory is unchanged, and a write does not dirty it. */
	fx_check_pages(e.t, base, 4, 5);
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_DIO_WRITE), 1);
	assert_int_equal(fx_delta(e.w, &e.s0, fx_io_ref_acquired(&e)), SEGS_PAGES);
	fx_io_done(&e);
}
FX_PER_POLICY(dio_write_subpage)

/* A write from memory never touched: the zero page goes to the disk. */
static void dio_write_from_zero_page(const char *policy)
{
	static uint8_t disk[2 * SECT];
	struct gup_iovec iov;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	iov.base = fx_map_private(e.t, 1) + SECT;
	iov.len = 2 * SECT;
	assert_int_equal(gup_dio_write(e.t, e.d, 0, &iov, 1), 2 * SECT);
	assert_int_equal(gup_disk_peek(e.d, 0, disk, sizeof(disk)), 0);
	for (size_t i = 0; i < sizeof(disk); i++)
		assert_int_equal(disk[i], 0);
	assert_int_equal(fx_rss(e.t), 0);	/* read access: nothing allocated */
	fx_io_done(&e);
}
FX_PER_POLICY(dio_write_from_zero_page)

/* ------------------------------------------------------------------------ */
/* Asynchronous requests                                                    */
/* ------------------------------------------------------------------------ */

static void dio_async_plugged(const char *policy)
{
	struct gup_dio *rd[4], *wr;
	struct gup_iovec iov[4], wiov;
	static uint8_t disk[PG];
	uint64_t base;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	base = fx_map_private(e.t, 4);
	assert_int_equal(gup_fill(e.t, base, FILL, 4 * PG), 0);
	assert_int_equal(gup_dio_plug(e.w), 0);
	assert_int_equal(gup_dio_plug(e.w), 0);		/* it nests */
	/* Four reads, one per 1 KiB of page 1 and 2, from four disk places. */
	for (unsigned i = 0; i < 4; i++) {
		iov[i].base = base + PG + i * 2 * SECT + SECT;
		iov[i].len = SECT;
		assert_int_equal(gup_dio_submit(e.t, e.d, GUP_DIO_READ, i * PG, &iov[i], 1, &rd[i]),
				 0);
	}
	/* And a write of page 3 (its own bytes). */
	fx_fill_pages(e.t, base + 3 * PG, 1, 9);
	wiov.base = base + 3 * PG;
	wiov.len = PG;
	assert_int_equal(gup_dio_submit(e.t, e.d, GUP_DIO_WRITE, 8 * PG, &wiov, 1, &wr), 0);

	/* Held: nothing moved, the references are in place. */
	for (unsigned i = 0; i < 4; i++)
		assert_false(gup_dio_done(rd[i]));
	assert_false(gup_dio_done(wr));
	fx_io_mem_is(e.t, base + PG, PG, FILL);
	if (e.new_policy)
		assert_true(gup_page_maybe_dma_pinned(fx_io_page(e.t, base + PG)));
	else
		assert_int_equal(gup_page_ref_count(fx_io_page(e.t, base + PG)), 1 + 4);
	assert_int_equal(gup_disk_destroy(e.d), -EBUSY);	/* I/O in flight */
	assert_int_equal(gup_dio_unplug(e.w), 0);
	assert_false(gup_dio_done(wr));
	assert_int_equal(gup_dio_unplug(e.w), 0);
	assert_int_equal(gup_dio_unplug(e.w), -EINVAL);	/* not plugged */

	/* Poll one to completion, wait for the rest. */
	while (!gup_dio_done(rd[0]))
		fx_cpu_relax();
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(gup_dio_wait(rd[i]), SECT);
	assert_int_equal(gup_dio_wait(wr), PG);
	for (unsigned i = 0; i < 4; i++) {
		fx_io_mem_has_disk(e.t, iov[i].base, SECT, i * PG);
		fx_io_mem_is(e.t, iov[i].base - SECT, SECT, FILL);	/* between them */
	}
	assert_int_equal(gup_page_ref_count(fx_io_page(e.t, base + PG)), 1);
	assert_int_equal(gup_disk_peek(e.d, 8 * PG, disk, PG), 0);
	{
		uint8_t want[PG];

		fx_pattern_page(want, 9, base + 3 * PG);
		assert_memory_equal(disk, want, PG);
	}
	fx_io_done(&e);
}
FX_PER_POLICY(dio_async_plugged)

/* Requests left unreaped are run and freed by the world's teardown. */
static void test_dio_unreaped_at_teardown(void **state)
{
	struct gup_world *w = fx_world_new(NULL, NR_FRAMES, 0);
	struct gup_disk_config cfg = { .bytes = DISK_BYTES };
	struct gup_task *t = fx_task_new(w);
	struct gup_iovec iov;
	struct gup_dio *req;
	struct gup_disk *d;

	(void)state;
	assert_int_equal(gup_disk_create(w, &cfg, &d), 0);
	iov.base = fx_map_private(t, 2) + SECT;
	iov.len = PG;
	assert_int_equal(gup_dio_plug(w), 0);
	assert_int_equal(gup_dio_submit(t, d, GUP_DIO_READ, 0, &iov, 1, &req), 0);
	gup_task_exit(t);		/* the pins keep the two frames */
	assert_int_equal(fx_meminfo(w).nr_free, NR_FRAMES - 1 - 2);
	fx_check(w);
	/* Still plugged: teardown runs the request, then everything is free. */
	assert_int_equal(gup_world_destroy(w), 0);
}

/* Zero segments, or only empty ones: a request that moves nothing. */
static void test_dio_empty(void **state)
{
	struct gup_iovec iov[2] = { { 0x1234, 0 }, { 0, 0 } };	/* empty: not checked */
	struct gup_dio *req;
	struct fx_io e;

	(void)state;
	fx_io_new(&e, NULL, NR_FRAMES);
	assert_int_equal(gup_dio_read(e.t, e.d, 0, NULL, 0), 0);
	assert_int_equal(gup_dio_submit(e.t, e.d, GUP_DIO_WRITE, DISK_BYTES, iov, 2, &req), 0);
	assert_true(gup_dio_done(req));
	assert_int_equal(gup_dio_wait(req), 0);
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_DIO_BYTES), 0);
	fx_io_done(&e);
}

/* ------------------------------------------------------------------------ */
/* Bad input                                                                */
/* ------------------------------------------------------------------------ */

/* Nothing referenced, nothing counted as I/O, nothing allocated since @free0. */
static void assert_nothing_held(struct fx_io *e, size_t free0)
{
	fx_io_assert_balanced(e->w);
	assert_int_equal(fx_delta(e->w, &e->s0, GUP_STAT_DIO_READ), 0);
	assert_int_equal(fx_delta(e->w, &e->s0, GUP_STAT_DIO_WRITE), 0);
	assert_int_equal(fx_nr_free(e->w), free0);
}

static void dio_bad_args(const char *policy)
{
	struct gup_iovec iov = { 0, PG }, two[2];
	static struct gup_iovec many[GUP_IOV_MAX + 1];
	struct gup_world *w2 = fx_world_new(policy, 64, 0);
	struct gup_disk_config cfg = { .bytes = DISK_BYTES };
	struct gup_disk *d2;
	struct gup_dio *req = NULL;
	struct fx_io e;
	size_t free0;

	fx_io_new(&e, policy, NR_FRAMES);
	assert_int_equal(gup_disk_create(w2, &cfg, &d2), 0);
	iov.base = fx_map_private(e.t, 4);
	assert_int_equal(gup_fill(e.t, iov.base, FILL, 4 * PG), 0);
	/* The edges that work: the last sector of the disk, GUP_IOV_MAX segments. */
	two[0] = (struct gup_iovec){ iov.base, SECT };
	assert_int_equal(gup_dio_read(e.t, e.d, DISK_BYTES - SECT, &two[0], 1), SECT);
	for (unsigned i = 0; i <= GUP_IOV_MAX; i++)
		many[i] = (struct gup_iovec){ iov.base + (i % 8) * SECT, i == 5 ? SECT : 0 };
	assert_int_equal(gup_dio_read(e.t, e.d, 0, many, GUP_IOV_MAX), SECT);
	fx_snap(e.w, &e.s0);
	free0 = fx_nr_free(e.w);

	/* NULLs, the direction, another world's disk. */
	assert_int_equal(gup_dio_submit(NULL, e.d, GUP_DIO_READ, 0, &iov, 1, &req), -EINVAL);
	assert_int_equal(gup_dio_submit(e.t, NULL, GUP_DIO_READ, 0, &iov, 1, &req), -EINVAL);
	assert_int_equal(gup_dio_submit(e.t, e.d, GUP_DIO_READ, 0, &iov, 1, NULL), -EINVAL);
	assert_int_equal(gup_dio_submit(e.t, e.d, GUP_DIO_READ, 0, NULL, 1, &req), -EINVAL);
	assert_int_equal(gup_dio_submit(e.t, e.d, 2, 0, &iov, 1, &req), -EINVAL);
	assert_int_equal(gup_dio_submit(e.t, e.d, -1, 0, &iov, 1, &req), -EINVAL);
	assert_int_equal(gup_dio_read(e.t, d2, 0, &iov, 1), -EINVAL);
	assert_null(req);
	assert_int_equal(gup_dio_wait(NULL), -EINVAL);
	assert_false(gup_dio_done(NULL));
	assert_int_equal(gup_dio_plug(NULL), -EINVAL);
	assert_int_equal(gup_dio_unplug(NULL), -EINVAL);
	assert_int_equal(gup_dio_unplug(e.w), -EINVAL);		/* never plugged */
	/* Misaligned: disk offset, user address, length, a later segment. */
	assert_int_equal(gup_dio_read(e.t, e.d, 100, &iov, 1), -EINVAL);
	assert_int_equal(gup_dio_read(e.t, e.d, SECT / 2, &iov, 1), -EINVAL);
	two[0] = (struct gup_iovec){ iov.base + 256, SECT };
	assert_int_equal(gup_dio_read(e.t, e.d, 0, two, 1), -EINVAL);
	two[0] = (struct gup_iovec){ iov.base, SECT + 8 };
	assert_int_equal(gup_dio_write(e.t, e.d, 0, two, 1), -EINVAL);
	two[0] = (struct gup_iovec){ iov.base, SECT };
	two[1] = (struct gup_iovec){ iov.base + PG + 1, SECT };
	assert_int_equal(gup_dio_read(e.t, e.d, 0, two, 2), -EINVAL);
	/* Beyond the disk, including offsets that would wrap. */
	assert_int_equal(gup_dio_read(e.t, e.d, DISK_BYTES - SECT, &iov, 1), -EINVAL);
	assert_int_equal(gup_dio_read(e.t, e.d, DISK_BYTES, &two[0], 1), -EINVAL);
	assert_int_equal(gup_dio_read(e.t, e.d, UINT64_MAX - SECT + 1, &two[0], 1), -EINVAL);
	/* Too many segments; too many bytes. */
	assert_int_equal(gup_dio_read(e.t, e.d, 0, many, GUP_IOV_MAX + 1), -EINVAL);
	two[0] = (struct gup_iovec){ iov.base, GUP_IO_MAX_BYTES };
	two[1] = (struct gup_iovec){ iov.base, PG };
	assert_int_equal(gup_dio_read(e.t, e.d, 0, two, 2), -EINVAL);
	/* Beyond user space: access_ok. */
	two[0] = (struct gup_iovec){ GUP_TASK_SIZE - SECT, 2 * SECT };
	assert_int_equal(gup_dio_read(e.t, e.d, 0, two, 1), -EFAULT);
	two[0] = (struct gup_iovec){ UINT64_MAX - SECT + 1, SECT };
	assert_int_equal(gup_dio_write(e.t, e.d, 0, two, 1), -EFAULT);
	assert_nothing_held(&e, free0);
	assert_int_equal(gup_disk_destroy(d2), 0);
	fx_world_done(w2);
	fx_io_done(&e);
}
FX_PER_POLICY(dio_bad_args)

/*
 * Memory that is not there, or not writable for a read: -EFAULT, and the pages of
 * the segments before the bad one are released again.
 */
static void dio_bad_memory(const char *policy)
{
	struct gup_iovec iov[3];
	uint64_t base, ro;
	struct fx_io e;
	size_t free0;

	fx_io_new(&e, policy, NR_FRAMES);
	base = fx_map_private(e.t, 4);
	assert_int_equal(gup_fill(e.t, base, FILL, 4 * PG), 0);
	ro = fx_map_anon(e.t, 2, GUP_PROT_READ, GUP_MAP_PRIVATE);
	assert_int_equal(gup_munmap(e.t, base + 2 * PG, PG), 0);	/* a hole at page 2 */
	free0 = fx_nr_free(e.w);

	/* Two good segments, then one over the hole. */
	iov[0] = (struct gup_iovec){ base, PG };
	iov[1] = (struct gup_iovec){ base + PG + SECT, SECT };
	iov[2] = (struct gup_iovec){ base + PG + 7 * SECT, 2 * SECT };
	assert_int_equal(gup_dio_read(e.t, e.d, 0, iov, 3), -EFAULT);
	assert_int_equal(gup_dio_write(e.t, e.d, 0, iov, 3), -EFAULT);
	/* Wholly in the hole; a read into read-only memory (a write from it is fine). */
	iov[0] = (struct gup_iovec){ base + 2 * PG, SECT };
	assert_int_equal(gup_dio_write(e.t, e.d, 0, iov, 1), -EFAULT);
	iov[0] = (struct gup_iovec){ ro + SECT, PG };
	assert_int_equal(gup_dio_read(e.t, e.d, 0, iov, 1), -EFAULT);
	for (unsigned p = 0; p < 2; p++)
		assert_int_equal(gup_page_ref_count(fx_io_page(e.t, base + p * PG)), 1);
	assert_nothing_held(&e, free0);
	assert_int_equal(gup_dio_write(e.t, e.d, 0, iov, 1), PG);
	/* Holding its own mmap lock, a task may not submit (gup-fast would take it). */
	assert_int_equal(gup_mmap_read_lock(e.t, gup_task_mm(e.t)), 0);
	iov[0] = (struct gup_iovec){ base, PG };
	assert_int_equal(gup_dio_read(e.t, e.d, 0, iov, 1), -EINVAL);
	gup_mmap_read_unlock(e.t, gup_task_mm(e.t));
	fx_io_done(&e);
}
FX_PER_POLICY(dio_bad_memory)

/* ------------------------------------------------------------------------ */
/* Seed 004's races, deterministic: the engine held while the CPU side runs  */
/* ------------------------------------------------------------------------ */

#define SCREW		0x2a		/* forkscrew's fill */

/*
 * forkscrew (seed004 T2) in one thread: an asynchronous read into [512, 4608)
 * of a three-page buffer is in flight (page 0's tail, page 1's head); fork; a
 * second read into [4608, 8704) write-faults page 1 in the parent.  linux-6.x:
 * fork copied the pinned pages 0 and 1 for the child, the parent keeps them, no
 * loss, and the child sees no DMA.  linux-2.6.29: fork shared everything, the
 * fault gave the parent a copy of page 1, and the first read's last 512 bytes
 * land in the child's page: the parent still reads 0x2a there.
 */
static void dio_forkscrew_held(const char *policy)
{
	struct gup_iovec a, b;
	struct gup_dio *ra, *rb;
	struct gup_task *child;
	uint64_t base;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	base = fx_map_private(e.t, 3);
	assert_int_equal(gup_fill(e.t, base, SCREW, 3 * PG), 0);
	a = (struct gup_iovec){ base + SECT, PG };
	b = (struct gup_iovec){ base + PG + SECT, PG };
	assert_int_equal(gup_dio_plug(e.w), 0);
	assert_int_equal(gup_dio_submit(e.t, e.d, GUP_DIO_READ, 0, &a, 1, &ra), 0);
	child = fx_fork(e.t);
	assert_int_equal(gup_dio_submit(e.t, e.d, GUP_DIO_READ, 2 * PG, &b, 1, &rb), 0);
	assert_int_equal(gup_dio_unplug(e.w), 0);
	assert_int_equal(gup_dio_wait(ra), PG);
	assert_int_equal(gup_dio_wait(rb), PG);

	/* Page 0's part and the whole second read reach the parent either way. */
	fx_io_mem_has_disk(e.t, a.base, PG - SECT, 0);
	fx_io_mem_has_disk(e.t, b.base, PG, 2 * PG);
	if (e.new_policy) {
		fx_io_mem_has_disk(e.t, base + PG, SECT, PG - SECT);
		assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_FORK_PAGE_COPIED), 2);
		fx_io_mem_is(child, base, 3 * PG, SCREW);	/* no DMA after fork */
	} else {
		/* R1: lost in the parent, found in the child's page. */
		fx_io_mem_is(e.t, base + PG, SECT, SCREW);
		fx_io_mem_has_disk(child, base + PG, SECT, PG - SECT);
		fx_io_mem_has_disk(child, a.base, PG - SECT, 0);	/* page 0 still shared */
		assert_true(fx_delta(e.w, &e.s0, GUP_STAT_COW_COPY) >= 1);
	}
	gup_task_exit(child);
	fx_io_done(&e);
}
FX_PER_POLICY(dio_forkscrew_held)

/*
 * reverse-race (seed004 R2, T3) in one thread: the parent fills a page with 0x00
 * and forks; an O_DIRECT write of the page is in flight; the parent stores 0x11,
 * then the child 0xff.  The disk may get 0x00 or 0x11, never the child's 0xff.
 * linux-6.x: the R/O pin unshared the page, so the pin is the parent's own page
 * (which its store then reuses: 0x11).  linux-2.6.29: the read reference sits on
 * the shared page; the parent's store copies it away, the child's store then
 * reuses it in place (mapcount 1), and the child's bytes go to the disk.
 */
static void dio_reverse_race_held(const char *policy)
{
	static uint8_t disk[PG];
	struct gup_iovec iov;
	struct gup_task *child;
	struct gup_dio *req;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	iov = (struct gup_iovec){ fx_map_private(e.t, 1), PG };
	assert_int_equal(gup_fill(e.t, iov.base, 0x00, PG), 0);
	child = fx_fork(e.t);
	assert_int_equal(gup_dio_plug(e.w), 0);
	assert_int_equal(gup_dio_submit(e.t, e.d, GUP_DIO_WRITE, 0, &iov, 1, &req), 0);
	assert_int_equal(gup_fill(e.t, iov.base, 0x11, PG), 0);
	assert_int_equal(gup_fill(child, iov.base, 0xff, PG), 0);
	assert_int_equal(gup_dio_unplug(e.w), 0);
	assert_int_equal(gup_dio_wait(req), PG);
	assert_int_equal(gup_disk_peek(e.d, 0, disk, PG), 0);
	for (size_t i = 0; i < PG; i++)
		assert_int_equal(disk[i], e.new_policy ? 0x11 : 0xff);
	if (e.new_policy)
		assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_FAULT_UNSHARE), 1);
	fx_io_mem_is(child, iov.base, PG, 0xff);
	fx_io_mem_is(e.t, iov.base, PG, 0x11);
	gup_task_exit(child);
	fx_io_done(&e);
}
FX_PER_POLICY(dio_reverse_race_held)

/* ------------------------------------------------------------------------ */
/* Threads sharing pages at 512-byte granularity (free mode, no fork)        */
/* ------------------------------------------------------------------------ */

#define TH_WORKERS	4
#define TH_ROUNDS	64

/*
 * dma_thread's layout without the fork: worker j owns [512 + j*4096, 4608 +
 * j*4096) of the buffer, half of two pages, and reads or writes only there;
 * every page is shared by two workers' DMA.
 */
struct th_ctx {
	struct fx_io *e;
	uint64_t base;
	struct gup_task *t[TH_WORKERS];
	_Atomic unsigned bad, ready;
};

struct th_arg {
	struct th_ctx *c;
	unsigned j;
};

static void th_worker(void *p)
{
	struct th_arg *a = p;
	struct th_ctx *c = a->c;
	uint64_t addr = c->base + SECT + a->j * PG;
	struct gup_iovec iov = { addr, PG };
	static _Thread_local uint8_t buf[PG];

	atomic_fetch_add(&c->ready, 1);
	fx_wait_at_least(&c->ready, TH_WORKERS);
	for (unsigned r = 0; r < TH_ROUNDS; r++) {
		/* Read a disk page in, check it, write it to the worker's own disk page. */
		uint64_t src = ((r + a->j) % 8) * PG, dst = (8 + a->j) * PG;

		if (gup_dio_read(c->t[a->j], c->e->d, src, &iov, 1) != PG ||
		    gup_load(c->t[a->j], addr, buf, PG)) {
			atomic_fetch_add(&c->bad, 1);
			continue;
		}
		for (size_t i = 0; i < PG; i++)
			if (buf[i] != fx_io_disk_byte(src + i)) {
				atomic_fetch_add(&c->bad, 1);
				break;
			}
		if (gup_dio_write(c->t[a->j], c->e->d, dst, &iov, 1) != PG)
			atomic_fetch_add(&c->bad, 1);
	}
}

static void dio_threads_share_pages(const char *policy)
{
	struct gup_thread *th[TH_WORKERS];
	struct th_arg args[TH_WORKERS];
	static uint8_t disk[PG];
	struct th_ctx c;
	struct fx_io e;

	fx_io_new(&e, policy, NR_FRAMES);
	memset(&c, 0, sizeof(c));
	c.e = &e;
	c.base = fx_map_private(e.t, TH_WORKERS + 1);
	assert_int_equal(gup_fill(e.t, c.base, FILL, (TH_WORKERS + 1) * PG), 0);
	for (unsigned j = 0; j < TH_WORKERS; j++) {
		c.t[j] = fx_task_add(gup_task_mm(e.t));
		args[j] = (struct th_arg){ &c, j };
	}
	for (unsigned j = 0; j < TH_WORKERS; j++)
		th[j] = fx_thread_start(e.w, th_worker, &args[j]);
	for (unsigned j = 0; j < TH_WORKERS; j++)
		assert_int_equal(gup_thread_join(th[j]), 0);
	assert_int_equal(atomic_load(&c.bad), 0);
	/* The bytes nobody's DMA touches: the buffer's first and last 3.5 KiB. */
	fx_io_mem_is(e.t, c.base, SECT, FILL);
	fx_io_mem_is(e.t, c.base + TH_WORKERS * PG + SECT, PG - SECT, FILL);
	for (unsigned j = 0; j < TH_WORKERS; j++) {
		uint64_t last = ((TH_ROUNDS - 1 + j) % 8) * PG;

		assert_int_equal(gup_disk_peek(e.d, (8 + j) * PG, disk, PG), 0);
		for (size_t i = 0; i < PG; i++)
			assert_int_equal(disk[i], fx_io_disk_byte(last + i));
		gup_task_exit(c.t[j]);
	}
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_DIO_READ), TH_WORKERS * TH_ROUNDS);
	assert_int_equal(fx_delta(e.w, &e.s0, GUP_STAT_DIO_BYTES), 2 * TH_WORKERS * TH_ROUNDS * PG);
	fx_io_done(&e);
}
FX_PER_POLICY(dio_threads_share_pages)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_POLICY_TESTS(dio_read_subpage),
		FX_POLICY_TESTS(dio_write_subpage),
		FX_POLICY_TESTS(dio_write_from_zero_page),
		FX_POLICY_TESTS(dio_async_plugged),
		cmocka_unit_test(test_dio_unreaped_at_teardown),
		cmocka_unit_test(test_dio_empty),
		FX_POLICY_TESTS(dio_bad_args),
		FX_POLICY_TESTS(dio_bad_memory),
		FX_POLICY_TESTS(dio_forkscrew_held),
		FX_POLICY_TESTS(dio_reverse_race_held),
		FX_POLICY_TESTS(dio_threads_share_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
