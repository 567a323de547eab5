/* SPDX-License-Identifier: MIT */
/*
 * tests/common/io_fixture.h - helpers for the tests of the users of GUP
 * (<gup/io.h>): a world with a task and a patterned disk, and checks of user
 * memory against the disk.  Like fixture.h, a helper asserts its own step with
 * cmocka, so it may only be called from the test's thread.
 */
#ifndef GUP_TESTS_IO_FIXTURE_H
#define GUP_TESTS_IO_FIXTURE_H

#include "fixture.h"
#include "gup/io.h"

#define FX_IO_DISK_BYTES	(64u * 1024)

/* What an fx_io disk holds at byte @off until written: differs per sector and byte. */
uint8_t fx_io_disk_byte(uint64_t off);

/*
 * A world of @nr_frames frames (a quarter movable) under @policy, one task of a
 * new mm, a disk of FX_IO_DISK_BYTES holding fx_io_disk_byte, and a snapshot of
 * the counters taken last.
 */
struct fx_io {
	const char *policy;
	bool new_policy;		/* linux-6.x */
	struct gup_world *w;
	struct gup_task *t;
	struct gup_disk *d;
	struct fx_snap s0;
};

void fx_io_new(struct fx_io *e, const char *policy, size_t nr_frames);

/* Balanced references, the checker clean, the disk and task gone, every frame back. */
void fx_io_done(struct fx_io *e);

/* Pins and FOLL_GET references all given back (the vmstat pairs balance). */
void fx_io_assert_balanced(struct gup_world *w);

/* The counter of the references the policy's I/O takes: pins (linux-6.x) or gets. */
enum gup_stat_item fx_io_ref_acquired(const struct fx_io *e);

/* The page @t maps at @addr, as a GUP user holds it. */
struct gup_page *fx_io_page(struct gup_task *t, uint64_t addr);

/* [addr, addr + len) of @t's memory (at most 8 pages) is byte @c throughout. */
void fx_io_mem_is(struct gup_task *t, uint64_t addr, size_t len, uint8_t c);

/* [addr, addr + len) of @t's memory (at most 8 pages) holds the disk's bytes from @pos. */
void fx_io_mem_has_disk(struct gup_task *t, uint64_t addr, size_t len, uint64_t pos);

#endif /* GUP_TESTS_IO_FIXTURE_H */
