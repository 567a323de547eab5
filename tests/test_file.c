/* SPDX-License-Identifier: MIT */
/*
 * tests/test_file.c - disks, files and the page cache through the public API
 * (<gup/file.h>), with the bytes checked everywhere: on the disk (peek), through
 * pread, and through mappings.
 *
 *   disk      create/destroy, bad configs, peek/poke ranges, -EBUSY with a file,
 *             request statistics;
 *   files     create (bad configs, -ENOSPC), pread/pwrite round trips at odd
 *             offsets, short reads at EOF, -EFBIG, size growth, -EBADF after
 *             close, a mapped file outliving its handle, gup_file_info;
 *   mappings  MAP_SHARED reads and writeback, dirty tracking across fsync,
 *             MAP_PRIVATE isolation, coherence with pread/pwrite, mmap argument
 *             checks, writeback at the last reference, fork, mappings at an
 *             offset, mprotect and madvise (DONTNEED, POPULATE) on files;
 *   truncate  SIGBUS past EOF (COW copies too), zeroed tails and re-extension,
 *             punch-hole (mappings, cache, disk; private COW data kept), fallocate
 *             modes, truncate of a pinned page;
 *   memfd     two mms share bytes, FOLL_LONGTERM|FOLL_WRITE pins (memfd yes, a
 *             dirty-tracked file no: check_vma_flags), truncate frees frames;
 *   GUP       a write pin dirties the page and its DMA is written back, FOLL_FORCE
 *             writes go to a private copy, a R/O long-term pin of a private file
 *             mapping unshares, fixup_user_fault drops the lock for the read;
 *   retry     seed 002: GUP that may drop the mmap lock reads a missing page
 *             with the lock dropped, GUP under the caller's lock does not,
 *             FOLL_NOWAIT never waits; an mmap writer of the same mm is not held
 *             up by the disk in the first case and is in the second; killed
 *             tasks give up waiting for a page at once.
 *
 * Each test runs in a world of its own with debug checks on and ends with
 * gup_world_check clean, no misuse reported and a leak-free teardown.
 */
#include <errno.h>

#include "common/file_fixture.h"
#include "mm/fault.h"
#include "mm/filemap.h"
#include "io/disk.h"
#include "world.h"

#define NR_FRAMES	512
#define DISK_BYTES	(UINT64_C(1) << 20)
#define RW		(GUP_PROT_READ | GUP_PROT_WRITE)

static void file_close(struct gup_file *f)
{
	assert_int_equal(gup_file_close(f), 0);
}

/* ======================================================================== */
/* disk                                                                     */
/* ======================================================================== */

static void test_disk_create_destroy(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, 64 * 1024, 0, 0), *d2 = ff_disk(w, 512, 0, 0);
	uint8_t buf[1500], want[1500];
	struct gup_disk_stats st;

	(void)state;
	/* A new disk reads zeros. */
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(gup_disk_peek(d, 0, buf, sizeof(buf)), 0);
	ff_expect_zero(buf, sizeof(buf), 0, "fresh disk");

	/* Round trip across sector boundaries, and the very last byte. */
	ff_fill_pat(want, sizeof(want), 1, 510);
	assert_int_equal(gup_disk_poke(d, 510, want, sizeof(want)), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gup_disk_peek(d, 510, buf, sizeof(buf)), 0);
	ff_expect_bytes(buf, want, sizeof(want), "disk", 510);
	assert_int_equal(gup_disk_poke(d, 64 * 1024 - 1, "z", 1), 0);
	assert_int_equal(gup_disk_peek(d, 64 * 1024 - 1, buf, 1), 0);
	assert_int_equal(buf[0], 'z');
	/* Bytes around the poked range are untouched. */
	assert_int_equal(gup_disk_peek(d, 500, buf, 10), 0);
	ff_expect_zero(buf, 10, 500, "before the poke");
	assert_int_equal(gup_disk_peek(d, 510 + sizeof(want), buf, 10), 0);
	ff_expect_zero(buf, 10, 510 + sizeof(want), "after the poke");
	/* Empty transfers at the end are fine. */
	assert_int_equal(gup_disk_peek(d, 64 * 1024, buf, 0), 0);
	assert_int_equal(gup_disk_poke(d, 64 * 1024, buf, 0), 0);

	/* Disks are independent. */
	assert_int_equal(gup_disk_peek(d2, 0, buf, 512), 0);
	ff_expect_zero(buf, 512, 0, "second disk");

	/* peek and poke bypass the request path: no request counted. */
	st = ff_disk_stats(d);
	assert_int_equal(st.nr_reads, 0);
	assert_int_equal(st.nr_writes, 0);
	assert_int_equal(st.bytes_read, 0);
	assert_int_equal(st.bytes_written, 0);

	assert_int_equal(gup_disk_destroy(d), 0);
	assert_int_equal(gup_disk_destroy(d2), 0);
	assert_int_equal(gup_disk_destroy(NULL), -EINVAL);
	ff_world_done(w);
}

static void test_disk_bad_config(void **state)
{
	static const uint64_t bad[] = {
		0, 1, 511, 513, 1000, 4095, (UINT64_C(1) << 40) + 512, UINT64_MAX & ~UINT64_C(511),
	};
	struct gup_world *w = ff_world(NR_FRAMES), *w2 = NULL;
	struct gup_disk_config cfg = { .bytes = 4096 };
	struct gup_disk *sentinel = (struct gup_disk *)(uintptr_t)0x5a5a5a5a, *d = sentinel;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gup_disk_config c = { .bytes = bad[i] };

		assert_int_equal(gup_disk_create(w, &c, &d), -EINVAL);
		assert_ptr_equal(d, sentinel);
	}
	assert_int_equal(gup_disk_create(w, NULL, &d), -EINVAL);
	assert_int_equal(gup_disk_create(w, &cfg, NULL), -EINVAL);
	assert_int_equal(gup_disk_create(w2, &cfg, &d), -EINVAL);
	assert_ptr_equal(d, sentinel);

	/* The smallest disk: one sector. */
	cfg.bytes = 512;
	assert_int_equal(gup_disk_create(w, &cfg, &d), 0);
	assert_ptr_not_equal(d, sentinel);
	assert_int_equal(gup_disk_destroy(d), 0);
	ff_world_done(w);
}

static void test_disk_peek_poke_range(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, 4096, 0, 0);
	uint8_t buf[4096], junk[200];
	struct gup_disk_stats st;

	(void)state;
	memset(junk, 0xee, sizeof(junk));
	assert_int_equal(gup_disk_peek(d, 4096, buf, 1), -EINVAL);
	assert_int_equal(gup_disk_peek(d, 4095, buf, 2), -EINVAL);
	assert_int_equal(gup_disk_peek(d, 4097, buf, 0), -EINVAL);
	assert_int_equal(gup_disk_peek(d, UINT64_MAX, buf, 2), -EINVAL);
	assert_int_equal(gup_disk_peek(d, 0, buf, 4097), -EINVAL);
	assert_int_equal(gup_disk_peek(d, 0, NULL, 1), -EINVAL);
	assert_int_equal(gup_disk_peek(NULL, 0, buf, 1), -EINVAL);
	assert_int_equal(gup_disk_poke(d, 4000, junk, 97), -EINVAL);
	assert_int_equal(gup_disk_poke(d, UINT64_MAX - 10, junk, 100), -EINVAL);
	assert_int_equal(gup_disk_poke(d, 0, NULL, 1), -EINVAL);
	assert_int_equal(gup_disk_poke(NULL, 0, junk, 1), -EINVAL);
	/* A refused poke wrote nothing, not even the part that fitted. */
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(gup_disk_peek(d, 0, buf, sizeof(buf)), 0);
	ff_expect_zero(buf, sizeof(buf), 0, "disk after refused pokes");
	/* The whole disk in one go is fine. */
	ff_poke_pat(d, 0, 4096, 3);
	assert_int_equal(gup_disk_peek(d, 0, buf, sizeof(buf)), 0);
	ff_expect_pat(buf, sizeof(buf), 3, 0, "whole disk");

	assert_int_equal(gup_disk_stats(NULL, &st), -EINVAL);
	assert_int_equal(gup_disk_stats(d, NULL), -EINVAL);
	assert_int_equal(gup_disk_destroy(d), 0);
	ff_world_done(w);
}

/* A disk with a file on it cannot go; a mapped file keeps it busy after close. */
static void test_disk_busy_with_file(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f = ff_file(w, d, 4 * PG, 4 * PG), *m = ff_memfd(w, PG, PG);
	uint64_t addr;
	uint8_t c;

	(void)state;
	assert_int_equal(gup_disk_destroy(d), -EBUSY);
	addr = ff_map_shared(t, f, 4 * PG);
	ff_load(t, addr, &c, 1);
	file_close(f);
	assert_int_equal(gup_disk_destroy(d), -EBUSY);	/* the mapping holds the file */
	ff_load(t, addr + 3 * PG, &c, 1);		/* and still works */
	assert_int_equal(gup_munmap(t, addr, 4 * PG), 0);
	/* A memfd has no disk: it keeps none busy. */
	assert_int_equal(gup_disk_destroy(d), 0);
	file_close(m);
	gup_task_exit(t);
	ff_world_done(w);
}

static void test_disk_stats_count_requests(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	const uint64_t size = 3 * PG - 100;
	struct gup_file *f;
	struct gup_disk_stats st;
	struct fx_snap snap;
	uint8_t *buf = malloc(4 * PG);

	(void)state;
	assert_non_null(buf);
	ff_poke_pat(d, 0, 4 * PG, 1);
	f = ff_file(w, d, 4 * PG, size);
	fx_snap(w, &snap);

	/* One read request per page, the last one only up to EOF. */
	assert_int_equal(gup_file_pread(f, buf, 4 * PG, 0), (long)size);
	ff_expect_pat(buf, size, 1, 0, "pread");
	st = ff_disk_stats(d);
	assert_int_equal(st.nr_reads, 3);
	assert_int_equal(st.bytes_read, size);
	assert_int_equal(st.nr_writes, 0);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_READ_PAGE), 3);
	/* Cached now: no more requests. */
	assert_int_equal(gup_file_pread(f, buf, 100, PG + 7), 100);
	assert_int_equal(ff_disk_stats(d).nr_reads, 3);

	/* Writes reach the disk at fsync: one request per dirty page. */
	assert_int_equal(gup_file_pwrite(f, "abcdefghij", 10, 5), 10);
	assert_int_equal(gup_file_pwrite(f, "ABCDEFGHIJ", 10, 2 * PG + 1), 10);
	assert_int_equal(ff_disk_stats(d).nr_writes, 0);
	assert_int_equal(gup_file_fsync(f), 0);
	st = ff_disk_stats(d);
	assert_int_equal(st.nr_writes, 2);
	assert_int_equal(st.bytes_written, PG + (size - 2 * PG));
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_WRITEBACK), 2);
	/* Nothing dirty: nothing written. */
	assert_int_equal(gup_file_fsync(f), 0);
	assert_int_equal(ff_disk_stats(d).nr_writes, 2);
	assert_int_equal(ff_disk_stats(d).nr_reads, 3);

	file_close(f);
	free(buf);
	ff_world_done(w);
}

/* ======================================================================== */
/* files                                                                    */
/* ======================================================================== */

static void test_file_create_bad_config(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES), *w2 = ff_world(64);
	struct gup_disk *d = ff_disk(w, 16 * PG, 0, 0), *d2 = ff_disk(w2, 16 * PG, 0, 0);
	struct gup_file *sentinel = (struct gup_file *)(uintptr_t)0x5a5a5a5a, *f = sentinel;
	const struct gup_file_config bad[] = {
		{ .disk = d, .max_size = PG, .flags = GUP_FILE_MEMFD },	/* memfd with a disk */
		{ .disk = NULL, .max_size = PG },			/* a file without a disk */
		{ .disk = d, .max_size = 0 },				/* no size */
		{ .disk = NULL, .max_size = 0, .flags = GUP_FILE_MEMFD },
		{ .disk = d, .max_size = PG, .size = PG + 1 },		/* size > max_size */
		{ .disk = NULL, .max_size = PG, .size = 2 * PG, .flags = GUP_FILE_MEMFD },
		{ .disk = d, .max_size = PG, .flags = 0x4 },		/* unknown flags */
		{ .disk = NULL, .max_size = PG, .flags = GUP_FILE_MEMFD | 0x80000000u },
		{ .disk = d2, .max_size = PG },				/* another world's disk */
	};
	struct gup_file_config ok = { .disk = d, .max_size = 16 * PG };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gup_file_create(w, &bad[i], &f) != -EINVAL)
			fail_msg("bad config %zu accepted or wrong error", i);
		assert_ptr_equal(f, sentinel);
	}
	assert_int_equal(gup_file_create(w, NULL, &f), -EINVAL);
	assert_int_equal(gup_file_create(w, &ok, NULL), -EINVAL);
	assert_int_equal(gup_file_create(NULL, &ok, &f), -EINVAL);
	assert_ptr_equal(f, sentinel);
	/* fs-DAX blocks are frames: a DAX file on a disk is refused (test_dax.c). */
	ok.flags = GUP_FILE_DAX;
	assert_int_equal(gup_file_create(w, &ok, &f), -EINVAL);
	assert_ptr_equal(f, sentinel);
	ok.flags = 0;

	/* No refused create consumed any of the disk: the whole of it is still free. */
	assert_int_equal(gup_file_create(w, &ok, &f), 0);
	assert_ptr_not_equal(f, sentinel);
	assert_int_equal(ff_info(f).max_size, 16 * PG);
	file_close(f);
	assert_int_equal(gup_disk_destroy(d2), 0);
	ff_world_done(w2);
	ff_world_done(w);
}

static void test_file_create_enospc(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, 16 * PG, 0, 0);
	struct gup_file_config cfg = { .disk = d };
	struct gup_file *f1, *f2, *f3 = NULL, *m;

	(void)state;
	f1 = ff_file(w, d, 10 * PG, 0);
	cfg.max_size = 7 * PG;
	assert_int_equal(gup_file_create(w, &cfg, &f3), -ENOSPC);
	assert_null(f3);
	/* The extent is page-rounded: 5000 bytes take two pages. */
	f2 = ff_file(w, d, 5000, 0);
	assert_int_equal(ff_info(f2).max_size, 2 * PG);
	cfg.max_size = 4 * PG + 1;
	assert_int_equal(gup_file_create(w, &cfg, &f3), -ENOSPC);
	cfg.max_size = 4 * PG;			/* exactly what is left */
	assert_int_equal(gup_file_create(w, &cfg, &f3), 0);
	cfg.max_size = 1;
	assert_int_equal(gup_file_create(w, &cfg, &f3), -ENOSPC);
	/* A memfd needs no disk space. */
	m = ff_memfd(w, 64 * PG, 0);

	/* The extents do not overlap: each file keeps its own bytes. */
	assert_int_equal(gup_file_pwrite(f1, "one", 3, 10 * PG - 3), 3);
	assert_int_equal(gup_file_pwrite(f2, "two", 3, 0), 3);
	assert_int_equal(gup_file_fsync(f1), 0);
	assert_int_equal(gup_file_fsync(f2), 0);
	{
		char buf[4] = { 0 };

		assert_int_equal(gup_file_pread(f1, buf, 3, 10 * PG - 3), 3);
		assert_memory_equal(buf, "one", 3);
		assert_int_equal(gup_file_pread(f2, buf, 3, 0), 3);
		assert_memory_equal(buf, "two", 3);
		ff_peek_expect(d, 10 * PG - 3, (const uint8_t *)"onetwo", 6);
	}
	file_close(f1);
	file_close(f2);
	file_close(f3);
	file_close(m);
	assert_int_equal(gup_disk_destroy(d), 0);
	ff_world_done(w);
}

/* pwrite/pread at odd offsets across page boundaries, against a model of the file. */
static void test_file_pread_pwrite_roundtrip(void **state)
{
	static const struct { uint64_t off, len; } wr[] = {
		{ 1, 3 * PG + 123 },		/* crosses three boundaries */
		{ 5 * PG - 7, 14 },		/* straddles one */
		{ 2 * PG - 1, 2 },
		{ 7 * PG + 4000, 96 },		/* up to the last byte */
		{ 3 * PG + 5, 1 },
	};
	static const struct { uint64_t off, len; } rd[] = {
		{ 0, 8 * PG }, { PG - 3, 10 }, { 2 * PG - 1, PG + 2 }, { 5 * PG - 8, 16 },
		{ 7 * PG + 4095, 1 }, { 3, 5 * PG }, { 4 * PG, PG },
	};
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_file *f = ff_file(w, d, 8 * PG, 0);
	struct gup_task *t = fx_task_new(w);
	uint8_t *model = calloc(1, 8 * PG), *buf = malloc(8 * PG);
	uint64_t size = 0, addr;

	(void)state;
	assert_non_null(model);
	assert_non_null(buf);
	for (size_t i = 0; i < sizeof(wr) / sizeof(wr[0]); i++) {
		ff_fill_pat(buf, wr[i].len, 10 + (unsigned)i, wr[i].off);
		assert_int_equal(gup_file_pwrite(f, buf, wr[i].len, wr[i].off), (long)wr[i].len);
		memcpy(model + wr[i].off, buf, wr[i].len);
		if (wr[i].off + wr[i].len > size)
			size = wr[i].off + wr[i].len;
		assert_int_equal(ff_info(f).size, size);
	}
	assert_int_equal(size, 8 * PG);
	for (size_t i = 0; i < sizeof(rd) / sizeof(rd[0]); i++) {
		memset(buf, 0xee, 8 * PG);
		assert_int_equal(gup_file_pread(f, buf, rd[i].len, rd[i].off), (long)rd[i].len);
		ff_expect_bytes(buf, model + rd[i].off, rd[i].len, "pread", rd[i].off);
	}
	/* The same bytes through a mapping, read across page boundaries. */
	addr = ff_map(t, f, 8 * PG, GUP_PROT_READ, GUP_MAP_SHARED, 0);
	for (size_t i = 0; i < sizeof(rd) / sizeof(rd[0]); i++) {
		memset(buf, 0xee, 8 * PG);
		ff_load(t, addr + rd[i].off, buf, rd[i].len);
		ff_expect_bytes(buf, model + rd[i].off, rd[i].len, "mapping", rd[i].off);
	}
	/* And on the disk after fsync. */
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 0, model, 8 * PG);

	gup_task_exit(t);
	file_close(f);
	free(model);
	free(buf);
	ff_world_done(w);
}

static void test_file_read_past_eof_short(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	const uint64_t size = 2 * PG + 100;
	struct gup_file *f;
	uint8_t buf[300];

	(void)state;
	ff_poke_pat(d, 0, 4 * PG, 2);		/* bytes past EOF on the disk too */
	f = ff_file(w, d, 4 * PG, size);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(gup_file_pread(f, buf, 100, size - 50), 50);
	ff_expect_pat(buf, 50, 2, size - 50, "up to EOF");
	for (size_t i = 50; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);	/* nothing written past the count */
	assert_int_equal(gup_file_pread(f, buf, 10, size), 0);
	assert_int_equal(gup_file_pread(f, buf, 10, 3 * PG), 0);
	assert_int_equal(gup_file_pread(f, buf, 10, 100 * PG), 0);	/* beyond the extent */
	assert_int_equal(gup_file_pread(f, buf, 0, 0), 0);
	assert_int_equal(gup_file_pread(f, NULL, 1, 0), -EINVAL);
	/* A read that starts in one page and ends at EOF in the next. */
	assert_int_equal(gup_file_pread(f, buf, 300, 2 * PG - 200), 300);
	ff_expect_pat(buf, 300, 2, 2 * PG - 200, "across into the last page");
	assert_int_equal(gup_file_pread(f, buf, 300, 2 * PG - 150), 250);
	file_close(f);
	ff_world_done(w);
}

static void test_file_pwrite_efbig(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_file *f = ff_file(w, d, 2 * PG, 0);
	uint8_t buf[8] = "12345678";

	(void)state;
	assert_int_equal(gup_file_pwrite(f, buf, 3, 2 * PG - 2), -EFBIG);
	assert_int_equal(gup_file_pwrite(f, buf, 1, 2 * PG), -EFBIG);
	assert_int_equal(gup_file_pwrite(f, buf, 4, UINT64_MAX - 1), -EFBIG);
	assert_int_equal(gup_file_pwrite(f, buf, 8, UINT64_MAX - 4), -EFBIG);
	/* Refused as a whole: nothing written, the size unchanged. */
	assert_int_equal(ff_info(f).size, 0);
	assert_int_equal(ff_info(f).nr_cached, 0);
	assert_int_equal(gup_file_pwrite(f, buf, 2, 2 * PG - 2), 2);
	assert_int_equal(ff_info(f).size, 2 * PG);
	assert_int_equal(gup_file_truncate(f, 2 * PG + 1), -EFBIG);
	assert_int_equal(gup_file_fallocate(f, 0, PG, 2 * PG), -EFBIG);
	assert_int_equal(gup_file_pwrite(f, NULL, 1, 0), -EINVAL);
	/* Writing nothing succeeds anywhere (Linux checks the count before the limit). */
	assert_int_equal(gup_file_pwrite(f, buf, 0, 2 * PG), 0);
	assert_int_equal(gup_file_pwrite(f, buf, 0, UINT64_MAX), 0);
	assert_int_equal(gup_file_pwrite(f, NULL, 0, 0), 0);
	assert_int_equal(ff_info(f).size, 2 * PG);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gup_file_pread(f, buf, 8, 2 * PG - 4), 4);
	assert_memory_equal(buf, "\0\0" "12", 4);
	file_close(f);
	ff_world_done(w);
}

static void test_file_size_grows_with_writes(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_file *f = ff_file(w, d, 8 * PG, 0);
	uint8_t *buf = malloc(8 * PG);

	(void)state;
	assert_non_null(buf);
	assert_int_equal(gup_file_pwrite(f, "0123456789", 10, 100), 10);
	assert_int_equal(ff_info(f).size, 110);
	assert_int_equal(gup_file_pread(f, buf, 8 * PG, 0), 110);
	ff_expect_zero(buf, 100, 0, "the hole before the write");
	assert_memory_equal(buf + 100, "0123456789", 10);
	/* A write inside does not change the size. */
	assert_int_equal(gup_file_pwrite(f, "ab", 2, 50), 2);
	assert_int_equal(ff_info(f).size, 110);
	/* A write far out: the gap reads zeros. */
	assert_int_equal(gup_file_pwrite(f, "xyz", 3, 5 * PG + 1), 3);
	assert_int_equal(ff_info(f).size, 5 * PG + 4);
	memset(buf, 0xee, 8 * PG);
	assert_int_equal(gup_file_pread(f, buf, 8 * PG, 0), (long)(5 * PG + 4));
	assert_memory_equal(buf + 50, "ab", 2);
	assert_memory_equal(buf + 100, "0123456789", 10);
	ff_expect_zero(buf + 110, 5 * PG + 1 - 110, 110, "the gap");
	assert_memory_equal(buf + 5 * PG + 1, "xyz", 3);
	/* fsync: the disk holds the same. */
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 0, buf, 5 * PG + 4);
	file_close(f);
	free(buf);
	ff_world_done(w);
}

static void test_file_close_ebadf(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_file *f = ff_file(w, d, 4 * PG, PG), *m = ff_memfd(w, PG, PG);
	struct gup_task *t = fx_task_new(w);
	struct gup_file_info fi;
	uint64_t addr = 0x1234;
	uint8_t buf[16];

	(void)state;
	assert_int_equal(gup_file_pwrite(f, "data", 4, 0), 4);	/* dirty at close */
	file_close(f);
	file_close(m);
	for (int i = 0; i < 2; i++) {
		struct gup_file *h = i ? m : f;

		assert_int_equal(gup_file_pread(h, buf, 4, 0), -EBADF);
		assert_int_equal(gup_file_pwrite(h, buf, 4, 0), -EBADF);
		assert_int_equal(gup_file_fsync(h), -EBADF);
		assert_int_equal(gup_file_truncate(h, 0), -EBADF);
		assert_int_equal(gup_file_fallocate(h, 0, 0, PG), -EBADF);
		assert_int_equal(gup_file_fallocate(h, GUP_FALLOC_FL_PUNCH_HOLE |
						    GUP_FALLOC_FL_KEEP_SIZE, 0, PG), -EBADF);
		assert_int_equal(gup_file_info(h, &fi), -EBADF);
		assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED, h, 0, &addr), -EBADF);
		assert_int_equal(addr, 0x1234);
		assert_int_equal(gup_file_close(h), -EBADF);
	}
	assert_int_equal(fx_nr_vmas(t), 0);
	/* The dirty page went to the disk at the close (its last reference). */
	ff_peek_expect(d, 0, (const uint8_t *)"data", 4);
	gup_task_exit(t);
	ff_world_done(w);
}

static void test_file_mapped_outlives_close(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f;
	uint8_t *want = malloc(2 * PG);
	struct fx_snap snap;
	uint64_t addr;

	(void)state;
	assert_non_null(want);
	ff_poke_pat(d, 0, 2 * PG, 4);
	f = ff_file(w, d, 2 * PG, 2 * PG);
	addr = ff_map_shared(t, f, 2 * PG);
	file_close(f);
	/* The mapping still reads and writes the file. */
	ff_load_expect_pat(t, addr, 2 * PG, 4, 0, "after close");
	ff_store(t, addr + PG - 2, "WXYZ", 4);
	fx_snap(w, &snap);
	ff_fill_pat(want, 2 * PG, 4, 0);
	ff_peek_expect(d, 0, want, 2 * PG);	/* not written back yet */
	memcpy(want + PG - 2, "WXYZ", 4);
	/* The last reference goes with the mapping: dirty pages are written back. */
	assert_int_equal(gup_munmap(t, addr, 2 * PG), 0);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_WRITEBACK), 2);
	ff_peek_expect(d, 0, want, 2 * PG);
	assert_int_equal(gup_disk_destroy(d), 0);
	gup_task_exit(t);
	free(want);
	ff_world_done(w);
}

static void test_file_info_counts(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f = ff_file(w, d, 8 * PG, 8 * PG), *g = ff_file(w, d, 5000, 100);
	struct gup_file_info fi;
	uint64_t s, p;
	uint8_t buf[2 * PG];

	(void)state;
	fi = ff_info(g);
	assert_int_equal(fi.size, 100);
	assert_int_equal(fi.max_size, 2 * PG);
	assert_int_equal(fi.nr_cached, 0);
	assert_int_equal(fi.nr_dirty, 0);
	assert_int_equal(fi.nr_mapped, 0);
	assert_int_equal(gup_file_info(g, NULL), -EINVAL);

	assert_int_equal(gup_file_pread(f, buf, 2 * PG, 0), 2 * PG);
	fi = ff_info(f);
	assert_int_equal(fi.nr_cached, 2);
	assert_int_equal(fi.nr_dirty, 0);
	assert_int_equal(gup_file_pwrite(f, buf, 10, 2 * PG), 10);
	fi = ff_info(f);
	assert_int_equal(fi.nr_cached, 3);
	assert_int_equal(fi.nr_dirty, 1);

	s = ff_map_shared(t, f, 4 * PG);
	p = ff_map(t, f, 2 * PG, RW, GUP_MAP_PRIVATE, PG);
	assert_int_equal(ff_info(f).nr_mapped, 2);
	ff_load(t, s + 3 * PG, buf, 1);
	assert_int_equal(ff_info(f).nr_cached, 4);
	ff_store(t, s + 3 * PG, buf, 1);
	assert_int_equal(ff_info(f).nr_dirty, 2);
	/* A private write dirties no cache page. */
	ff_store(t, p, buf, 1);
	assert_int_equal(ff_info(f).nr_dirty, 2);
	/* Splitting a VMA makes two mappings of the file. */
	assert_int_equal(gup_munmap(t, s + PG, PG), 0);
	assert_int_equal(ff_info(f).nr_mapped, 3);
	assert_int_equal(gup_file_fsync(f), 0);
	fi = ff_info(f);
	assert_int_equal(fi.nr_dirty, 0);
	assert_int_equal(fi.nr_cached, 4);
	assert_int_equal(fi.size, 8 * PG);
	assert_int_equal(fi.max_size, 8 * PG);
	assert_int_equal(gup_munmap(t, s, 4 * PG), 0);
	assert_int_equal(ff_info(f).nr_mapped, 1);
	gup_task_exit(t);
	assert_int_equal(ff_info(f).nr_mapped, 0);
	file_close(f);
	file_close(g);
	ff_world_done(w);
}

/* ======================================================================== */
/* mappings                                                                 */
/* ======================================================================== */

static void test_map_shared_reads_disk(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	const uint64_t size = 3 * PG + 123;
	struct gup_file *f;
	struct fx_snap snap;
	uint64_t addr;
	uint8_t c;

	(void)state;
	ff_poke_pat(d, 0, 6 * PG, 5);	/* stale bytes past EOF on the disk too */
	f = ff_file(w, d, 6 * PG, size);
	addr = ff_map_shared(t, f, 5 * PG);
	fx_snap(w, &snap);
	ff_load_expect_pat(t, addr, size, 5, 0, "shared mapping");
	/* The rest of the last page reads zeros, not the disk's bytes past EOF. */
	ff_load_expect_zero(t, addr + size, 4 * PG - size, size, "tail of the EOF page");
	/* Past EOF: SIGBUS. */
	assert_int_equal(gup_load(t, addr + 4 * PG, &c, 1), -EFAULT);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_READ_PAGE), 4);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_MAJOR), 4);
	/* A read fault maps R/O, so that the first write is noticed. */
	assert_true(fx_pte(t, addr) & PTE_PRESENT);
	assert_false(fx_pte(t, addr) & PTE_WRITE);
	assert_int_equal(ff_info(f).nr_dirty, 0);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

static void test_map_shared_store_fsync(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	uint8_t *want = malloc(4 * PG), x[10];
	struct gup_file *f;
	struct fx_snap snap;
	uint64_t addr;

	(void)state;
	assert_non_null(want);
	ff_poke_pat(d, 0, 4 * PG, 6);
	ff_fill_pat(want, 4 * PG, 6, 0);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	addr = ff_map_shared(t, f, 4 * PG);
	ff_fill_pat(x, sizeof(x), 60, 0);
	ff_store(t, addr + PG - 5, x, sizeof(x));	/* pages 0 and 1 */
	ff_store(t, addr + 2 * PG + 77, x, 3);		/* page 2 */
	/* Not on the disk before writeback. */
	ff_peek_expect(d, 0, want, 4 * PG);
	memcpy(want + PG - 5, x, sizeof(x));
	memcpy(want + 2 * PG + 77, x, 3);
	assert_int_equal(ff_info(f).nr_dirty, 3);
	fx_snap(w, &snap);
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 0, want, 4 * PG);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_WRITEBACK), 3);
	assert_int_equal(ff_info(f).nr_dirty, 0);
	gup_task_exit(t);
	file_close(f);
	free(want);
	ff_world_done(w);
}

/* After writeback the page is clean and write-protected; the next store dirties it. */
static void test_map_shared_dirty_tracking(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f = ff_file(w, d, 2 * PG, 2 * PG);
	struct gup_disk_stats st;
	struct fx_snap snap;
	uint64_t addr = ff_map_shared(t, f, 2 * PG), pte;
	uint8_t c;

	(void)state;
	ff_load(t, addr + 10, &c, 1);
	assert_int_equal(ff_info(f).nr_dirty, 0);
	assert_false(fx_pte(t, addr) & PTE_WRITE);

	fx_snap(w, &snap);
	ff_store(t, addr + 10, "v1", 2);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_WP), 1);
	assert_int_equal(ff_info(f).nr_dirty, 1);
	pte = fx_pte(t, addr);
	assert_true((pte & PTE_WRITE) && (pte & PTE_DIRTY));

	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 10, (const uint8_t *)"v1", 2);
	assert_int_equal(ff_info(f).nr_dirty, 0);
	pte = fx_pte(t, addr);
	assert_true(pte & PTE_PRESENT);
	assert_false(pte & (PTE_WRITE | PTE_DIRTY));	/* page_mkclean */

	/* Clean: fsync writes nothing. */
	st = ff_disk_stats(d);
	assert_int_equal(gup_file_fsync(f), 0);
	assert_int_equal(ff_disk_stats(d).nr_writes, st.nr_writes);

	/* The next store faults (the TLB was shot down), dirties, and is written back. */
	fx_snap(w, &snap);
	ff_store(t, addr + 10, "v2", 2);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_WP), 1);
	assert_int_equal(ff_info(f).nr_dirty, 1);
	ff_peek_expect(d, 10, (const uint8_t *)"v1", 2);
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 10, (const uint8_t *)"v2", 2);
	assert_int_equal(ff_disk_stats(d).nr_writes, st.nr_writes + 1);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_WRITEBACK), 1);

	/* A write fault as the first access dirties at once (no second fault). */
	fx_snap(w, &snap);
	ff_store(t, addr + PG, "v3", 2);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_WP), 0);
	assert_int_equal(ff_info(f).nr_dirty, 1);
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, PG, (const uint8_t *)"v3", 2);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

/* MAP_PRIVATE writes stay private; unwritten private pages follow the file. */
static void test_map_private_cow_isolated(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	uint8_t *want = malloc(2 * PG), buf[8];
	struct gup_file *f;
	struct fx_snap snap;
	uint64_t s, p;

	(void)state;
	assert_non_null(want);
	ff_poke_pat(d, 0, 2 * PG, 7);
	ff_fill_pat(want, 2 * PG, 7, 0);
	f = ff_file(w, d, 2 * PG, 2 * PG);
	s = ff_map_shared(t, f, 2 * PG);
	p = ff_map_private(t, f, 2 * PG);
	ff_load_expect_pat(t, p, 2 * PG, 7, 0, "private before writes");
	ff_load_expect_pat(t, s, 2 * PG, 7, 0, "shared before writes");
	assert_ptr_equal(fx_page_at(t, p), fx_page_at(t, s));	/* the cache page */

	fx_snap(w, &snap);
	ff_store(t, p + 100, "PRIV", 4);
	assert_true(PageAnon(fx_page_at(t, p)));
	assert_ptr_not_equal(fx_page_at(t, p), fx_page_at(t, s));
	ff_load(t, p + 98, buf, 8);
	ff_expect_bytes(buf, want + 98, 2, "private", 98);
	assert_memory_equal(buf + 2, "PRIV", 4);
	ff_load_expect_pat(t, s, 2 * PG, 7, 0, "shared after a private write");
	assert_int_equal(gup_file_pread(f, want, 2 * PG, 0), 2 * PG);
	ff_expect_pat(want, 2 * PG, 7, 0, "pread after a private write");
	assert_int_equal(ff_info(f).nr_dirty, 0);
	assert_int_equal(gup_file_fsync(f), 0);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_WRITEBACK), 0);
	ff_fill_pat(want, 2 * PG, 7, 0);
	ff_peek_expect(d, 0, want, 2 * PG);

	/* A page the private mapping never wrote is the cache's: it sees file writes... */
	assert_int_equal(gup_file_pwrite(f, "FILE", 4, PG + 8), 4);
	ff_load(t, p + PG + 8, buf, 4);
	assert_memory_equal(buf, "FILE", 4);
	ff_store(t, s + PG + 20, "SHRD", 4);
	ff_load(t, p + PG + 20, buf, 4);
	assert_memory_equal(buf, "SHRD", 4);
	/* ...but the copied one does not. */
	assert_int_equal(gup_file_pwrite(f, "file", 4, 100), 4);
	ff_load(t, p + 100, buf, 4);
	assert_memory_equal(buf, "PRIV", 4);
	ff_load(t, s + 100, buf, 4);
	assert_memory_equal(buf, "file", 4);
	gup_task_exit(t);
	file_close(f);
	free(want);
	ff_world_done(w);
}

static void test_map_coherent_with_pread_pwrite(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f = ff_file(w, d, 4 * PG, 4 * PG);
	uint64_t s = ff_map_shared(t, f, 4 * PG);
	uint8_t x[PG + 64], buf[PG + 64];

	(void)state;
	/* Stores are seen by pread at once (one page cache). */
	ff_fill_pat(x, sizeof(x), 8, 0);
	ff_store(t, s + PG - 32, x, sizeof(x));
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gup_file_pread(f, buf, sizeof(buf), PG - 32), (long)sizeof(buf));
	ff_expect_bytes(buf, x, sizeof(x), "pread of stores", PG - 32);
	/* pwrite is seen through the existing mapping, mapped pages or not. */
	ff_fill_pat(x, sizeof(x), 9, 0);
	assert_int_equal(gup_file_pwrite(f, x, sizeof(x), PG + 100), (long)sizeof(x));
	ff_load(t, s + PG + 100, buf, sizeof(buf));
	ff_expect_bytes(buf, x, sizeof(x), "loads of pwrite (mapped page)", PG + 100);
	assert_int_equal(gup_file_pwrite(f, "late", 4, 3 * PG + 1), 4);
	ff_load(t, s + 3 * PG + 1, buf, 4);
	assert_memory_equal(buf, "late", 4);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

static void test_mmap_file_bad_args(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES), *w2 = ff_world(64);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0), *d2 = ff_disk(w2, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f = ff_file(w, d, 4 * PG, PG), *c = ff_file(w, d, PG, PG);
	struct gup_file *other = ff_file(w2, d2, PG, PG);
	uint64_t addr = 0x777, a;
	uint8_t b;

	(void)state;
	file_close(c);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED, f, 100, &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED, f, PG + 1, &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED, f, 4 * PG, &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, 2 * PG, RW, GUP_MAP_SHARED, f, 3 * PG, &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, 5 * PG, RW, GUP_MAP_PRIVATE, f, 0, &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED, f, UINT64_MAX & ~(PG - 1),
				       &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED | GUP_MAP_ANONYMOUS, f, 0,
				       &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, 0, f, 0, &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED | GUP_MAP_PRIVATE, f, 0, &addr),
			 -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, 0, RW, GUP_MAP_SHARED, f, 0, &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED, NULL, 0, &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED, other, 0, &addr), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED, f, 0, NULL), -EINVAL);
	assert_int_equal(gup_mmap_file(t, 0, PG, RW, GUP_MAP_SHARED, c, 0, &addr), -EBADF);
	/* gup_mmap is for anonymous memory only. */
	assert_int_equal(gup_mmap(t, 0, PG, RW, GUP_MAP_SHARED, &addr), -EBADF);
	assert_int_equal(addr, 0x777);
	assert_int_equal(fx_nr_vmas(t), 0);
	assert_int_equal(ff_info(f).nr_mapped, 0);

	/* Up to the end of the extent is fine, past EOF included (SIGBUS on access). */
	a = ff_map(t, f, 2 * PG, RW, GUP_MAP_SHARED, 2 * PG);
	assert_int_equal(gup_load(t, a, &b, 1), -EFAULT);
	/* An unaligned length is rounded up. */
	a = ff_map(t, f, 100, GUP_PROT_READ, GUP_MAP_SHARED, 0);
	ff_load(t, a + PG - 1, &b, 1);
	assert_int_equal(b, 0);
	assert_int_equal(gup_store(t, a, &b, 1), -EFAULT);	/* PROT_READ */
	assert_int_equal(ff_info(f).nr_mapped, 2);
	gup_task_exit(t);
	file_close(f);
	file_close(other);
	ff_world_done(w2);
	ff_world_done(w);
}

/* Dirty pages of an unmapped (or exited) mapping reach the disk at the last reference. */
static void test_unmap_dirty_then_close_writes_back(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w), *t2;
	struct gup_file *f1 = ff_file(w, d, 2 * PG, 2 * PG);
	struct gup_file *f2 = ff_file(w, d, 2 * PG, 2 * PG);
	struct gup_file *f3 = ff_file(w, d, 2 * PG, 2 * PG);
	uint8_t x[64];
	uint64_t a;

	(void)state;
	ff_fill_pat(x, sizeof(x), 11, 0);
	/* munmap, then close. */
	a = ff_map_shared(t, f1, 2 * PG);
	ff_store(t, a + PG - 32, x, sizeof(x));
	assert_int_equal(gup_munmap(t, a, 2 * PG), 0);
	assert_int_equal(ff_info(f1).nr_dirty, 2);		/* still in the cache */
	file_close(f1);
	ff_peek_expect(d, PG - 32, x, sizeof(x));

	/* The task exits (mm teardown), then close. */
	t2 = fx_task_new(w);
	a = ff_map_shared(t2, f2, 2 * PG);
	ff_store(t2, a + 5, x, sizeof(x));
	gup_task_exit(t2);
	assert_int_equal(ff_info(f2).nr_mapped, 0);
	file_close(f2);
	ff_peek_expect(d, 2 * PG + 5, x, sizeof(x));	/* f2's extent follows f1's */

	/* Close first; the exit is the last reference. */
	t2 = fx_task_new(w);
	a = ff_map_shared(t2, f3, 2 * PG);
	ff_store(t2, a + 2 * PG - 1, x, 1);
	file_close(f3);
	ff_peek_expect(d, 6 * PG - 1, (const uint8_t *)"", 1);
	gup_task_exit(t2);
	ff_peek_expect(d, 6 * PG - 1, x, 1);
	gup_task_exit(t);
	ff_world_done(w);
}

static void test_fork_shared_file_mapping(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w), *c;
	struct gup_file *f;
	uint64_t s, p;
	uint8_t buf[8];

	(void)state;
	ff_poke_pat(d, 0, 2 * PG, 12);
	f = ff_file(w, d, 2 * PG, 2 * PG);
	s = ff_map_shared(t, f, 2 * PG);
	p = ff_map_private(t, f, 2 * PG);
	ff_load(t, p, buf, 1);			/* the cache page, R/O */
	ff_store(t, p + PG, "pcow", 4);		/* an anon copy */
	ff_store(t, s, "pre!", 4);
	c = fx_fork(t);
	assert_int_equal(ff_info(f).nr_mapped, 4);

	/* Shared: each sees the other's stores. */
	ff_store(c, s + 8, "kid1", 4);
	ff_load(t, s + 8, buf, 4);
	assert_memory_equal(buf, "kid1", 4);
	ff_store(t, s + PG + 8, "dad1", 4);
	ff_load(c, s + PG + 8, buf, 4);
	assert_memory_equal(buf, "dad1", 4);
	ff_load(c, s, buf, 4);
	assert_memory_equal(buf, "pre!", 4);
	/* Private: the child inherits the copy, and its writes stay its own. */
	ff_load(c, p + PG, buf, 4);
	assert_memory_equal(buf, "pcow", 4);
	ff_store(c, p, "kidp", 4);
	ff_store(c, p + PG, "kidq", 4);
	/* (the parent's private page 0 is still the cache page: it shows the file) */
	ff_load(t, p, buf, 4);
	assert_memory_equal(buf, "pre!", 4);
	ff_load_expect_pat(t, p + 12, 8, 12, 12, "parent's private page 0");
	ff_load(t, p + PG, buf, 4);
	assert_memory_equal(buf, "pcow", 4);
	ff_load(t, s, buf, 4);
	assert_memory_equal(buf, "pre!", 4);	/* the child's private store left the file */

	gup_task_exit(c);
	assert_int_equal(ff_info(f).nr_mapped, 2);
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 0, (const uint8_t *)"pre!", 4);
	ff_peek_expect(d, 8, (const uint8_t *)"kid1", 4);
	ff_peek_expect(d, PG + 8, (const uint8_t *)"dad1", 4);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

/* A mapping at a file offset: writeback cleans its PTEs, truncate unmaps the right ones. */
static void test_map_at_offset_dirty_and_truncate(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f;
	uint64_t a, b;
	uint8_t buf[8];

	(void)state;
	ff_poke_pat(d, 0, 6 * PG, 25);
	f = ff_file(w, d, 6 * PG, 6 * PG);
	a = ff_map(t, f, 3 * PG, RW, GUP_MAP_SHARED, 2 * PG);	/* pages 2..4 */
	b = ff_map(t, f, 2 * PG, RW, GUP_MAP_SHARED, 3 * PG);	/* pages 3..4 again */
	ff_load_expect_pat(t, a, 3 * PG, 25, 2 * PG, "mapping at 2 pages");
	ff_store(t, a + PG + 8, "off3", 4);			/* page 3 */
	ff_load(t, b + 8, buf, 4);
	assert_memory_equal(buf, "off3", 4);
	assert_int_equal(ff_info(f).nr_dirty, 1);
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 3 * PG + 8, (const uint8_t *)"off3", 4);
	/* Both PTEs of page 3 write-protected and clean: the next stores fault. */
	assert_false(fx_pte(t, a + PG) & (PTE_WRITE | PTE_DIRTY));
	assert_false(fx_pte(t, b) & (PTE_WRITE | PTE_DIRTY));
	ff_store(t, b + 16, "viab", 4);
	assert_int_equal(ff_info(f).nr_dirty, 1);
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 3 * PG + 16, (const uint8_t *)"viab", 4);

	/* Truncate to 3.5 pages: pages 4 go in both mappings, page 3's tail zeroed. */
	assert_int_equal(gup_file_truncate(f, 3 * PG + PG / 2), 0);
	assert_int_equal(gup_load(t, a + 2 * PG, buf, 1), -EFAULT);
	assert_int_equal(gup_load(t, b + PG, buf, 1), -EFAULT);
	ff_load_expect_pat(t, a, PG, 25, 2 * PG, "page 2 stays");
	ff_load_expect_zero(t, b + PG / 2, PG / 2, 3 * PG + PG / 2, "page 3's tail");
	ff_load(t, a + PG + 16, buf, 4);
	assert_memory_equal(buf, "viab", 4);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

/* mprotect does not defeat dirty tracking: a clean page never becomes writable. */
static void test_mprotect_keeps_dirty_tracking(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f = ff_file(w, d, 2 * PG, 2 * PG);
	uint64_t s = ff_map_shared(t, f, 2 * PG);
	uint8_t c = 0;

	(void)state;
	ff_load(t, s, &c, 1);				/* page 0 clean */
	ff_store(t, s + PG, "d", 1);			/* page 1 dirty */
	assert_int_equal(gup_mprotect(t, s, 2 * PG, GUP_PROT_READ), 0);
	assert_int_equal(gup_store(t, s, "x", 1), -EFAULT);
	assert_int_equal(gup_mprotect(t, s, 2 * PG, RW), 0);
	assert_false(fx_pte(t, s) & PTE_WRITE);		/* clean: stays R/O */
	assert_int_equal(ff_info(f).nr_dirty, 1);
	ff_store(t, s, "c", 1);
	assert_int_equal(ff_info(f).nr_dirty, 2);
	assert_int_equal(gup_file_fsync(f), 0);
	assert_int_equal(ff_info(f).nr_dirty, 0);
	/* After writeback, mprotect must not hand write access back either. */
	assert_int_equal(gup_mprotect(t, s, 2 * PG, GUP_PROT_READ), 0);
	assert_int_equal(gup_mprotect(t, s, 2 * PG, RW), 0);
	assert_false(fx_pte(t, s) & PTE_WRITE);
	assert_false(fx_pte(t, s + PG) & PTE_WRITE);
	ff_store(t, s + PG, "e", 1);
	assert_int_equal(ff_info(f).nr_dirty, 1);
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 0, (const uint8_t *)"c", 1);
	ff_peek_expect(d, PG, (const uint8_t *)"e", 1);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

static void test_madvise_on_file_mappings(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f;
	struct fx_snap snap;
	uint64_t s, p, q;
	uint8_t buf[8];

	(void)state;
	ff_poke_pat(d, 0, 8 * PG, 26);
	f = ff_file(w, d, 8 * PG, 6 * PG);

	/* MAP_POPULATE: every page read and mapped at mmap time. */
	fx_snap(w, &snap);
	assert_int_equal(gup_mmap_file(t, 0, 4 * PG, RW, GUP_MAP_SHARED | GUP_MAP_POPULATE, f, 0,
				       &s), 0);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_READ_PAGE), 4);
	assert_int_equal(fx_rss(t), 4);
	assert_int_equal(ff_info(f).nr_dirty, 0);	/* populated for read */
	ff_load_expect_pat(t, s, 4 * PG, 26, 0, "populated");
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT), 4);

	/* DONTNEED on a shared mapping: the data lives on in the cache. */
	ff_store(t, s + 8, "keep", 4);
	assert_int_equal(gup_madvise(t, s, 4 * PG, GUP_MADV_DONTNEED), 0);
	assert_int_equal(fx_rss(t), 0);
	ff_load(t, s + 8, buf, 4);
	assert_memory_equal(buf, "keep", 4);
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 8, (const uint8_t *)"keep", 4);

	/* DONTNEED on a private mapping drops its copy: the file shows again. */
	p = ff_map_private(t, f, 2 * PG);
	ff_store(t, p + 8, "priv", 4);
	assert_int_equal(gup_madvise(t, p, 2 * PG, GUP_MADV_DONTNEED), 0);
	ff_load(t, p + 8, buf, 4);
	assert_memory_equal(buf, "keep", 4);

	/* POPULATE_WRITE on a shared mapping dirties; POPULATE_READ past EOF: SIGBUS. */
	q = ff_map(t, f, 8 * PG, RW, GUP_MAP_SHARED, 0);
	assert_int_equal(gup_madvise(t, q + 4 * PG, 2 * PG, GUP_MADV_POPULATE_WRITE), 0);
	assert_int_equal(ff_info(f).nr_dirty, 2);
	assert_int_equal(gup_madvise(t, q + 4 * PG, 4 * PG, GUP_MADV_POPULATE_READ), -EFAULT);
	assert_int_equal(gup_madvise(t, q, 6 * PG, GUP_MADV_POPULATE_READ), 0);
	/* Only private anonymous memory can be wiped on fork. */
	assert_int_equal(gup_madvise(t, p, PG, GUP_MADV_WIPEONFORK), -EINVAL);
	assert_int_equal(gup_madvise(t, q, PG, GUP_MADV_WIPEONFORK), -EINVAL);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

/* ======================================================================== */
/* truncate, punch-hole, fallocate                                          */
/* ======================================================================== */

static void test_truncate_sigbus_shared_and_private(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	const uint64_t nsize = PG + 100;
	uint8_t *buf = malloc(4 * PG);
	struct gup_file *f;
	uint64_t s, p;
	size_t rss;

	(void)state;
	assert_non_null(buf);
	ff_poke_pat(d, 0, 4 * PG, 13);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	s = ff_map_shared(t, f, 4 * PG);
	p = ff_map_private(t, f, 4 * PG);
	ff_load_expect_pat(t, s, 4 * PG, 13, 0, "shared");
	ff_load_expect_pat(t, p, 4 * PG, 13, 0, "private");
	ff_store(t, p + PG + 50, "cow1", 4);	/* a COW copy inside the new size */
	ff_store(t, p + 3 * PG, "cow3", 4);	/* one past it */
	ff_store(t, s + 2 * PG, "shr2", 4);
	rss = fx_rss(t);
	assert_int_equal(rss, 8);

	assert_int_equal(gup_file_truncate(f, nsize), 0);
	assert_int_equal(ff_info(f).size, nsize);
	/* Past EOF everything is gone: shared pages, cache pages in the private
	 * mapping, and the private COW copy as well. */
	for (int i = 2; i < 4; i++) {
		assert_int_equal(gup_load(t, s + i * PG, buf, 1), -EFAULT);
		assert_int_equal(gup_store(t, s + i * PG, buf, 1), -EFAULT);
		assert_int_equal(gup_load(t, p + i * PG, buf, 1), -EFAULT);
		assert_int_equal(gup_store(t, p + i * PG, buf, 1), -EFAULT);
		assert_false(fx_pte(t, s + i * PG) & PTE_PRESENT);
		assert_false(fx_pte(t, p + i * PG) & PTE_PRESENT);
	}
	assert_int_equal(fx_rss(t), 4);
	assert_int_equal(ff_info(f).nr_cached, 2);
	/* Inside: page 0 intact, page 1 up to the new EOF, zeros after it. */
	ff_load_expect_pat(t, s, nsize, 13, 0, "shared below EOF");
	ff_load_expect_zero(t, s + nsize, 2 * PG - nsize, nsize, "shared EOF tail");
	/* The private copy of page 1 is the process's own data: untouched. */
	ff_load(t, p + PG + 50, buf, 4);
	assert_memory_equal(buf, "cow1", 4);
	ff_load_expect_pat(t, p + PG + 54, nsize - PG - 54, 13, PG + 54, "private copy");
	ff_load_expect_pat(t, p, PG, 13, 0, "private page 0");
	memset(buf, 0xee, 4 * PG);
	assert_int_equal(gup_file_pread(f, buf, 4 * PG, 0), (long)nsize);
	ff_expect_pat(buf, nsize, 13, 0, "pread after truncate");
	assert_int_equal(gup_world_check(w, stderr), 0);

	/* Growing again brings zeros back, not the old bytes or stores. */
	assert_int_equal(gup_file_truncate(f, 4 * PG), 0);
	ff_load_expect_zero(t, s + nsize, 4 * PG - nsize, nsize, "shared after regrow");
	ff_load_expect_zero(t, p + 2 * PG, 2 * PG, 2 * PG, "private after regrow");
	assert_int_equal(gup_file_fsync(f), 0);
	assert_int_equal(gup_disk_peek(d, 0, buf, 4 * PG), 0);
	ff_expect_pat(buf, nsize, 13, 0, "disk below EOF");
	ff_expect_zero(buf + nsize, 4 * PG - nsize, nsize, "disk after regrow");
	gup_task_exit(t);
	file_close(f);
	free(buf);
	ff_world_done(w);
}

static void test_truncate_tail_zero_and_reextend(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	const uint64_t nsize = 5000;
	uint8_t *buf = malloc(3 * PG);
	struct gup_file *f, *g, *h;
	uint64_t s;

	(void)state;
	assert_non_null(buf);
	ff_poke_pat(d, 0, 9 * PG, 14);
	f = ff_file(w, d, 3 * PG, 3 * PG);
	g = ff_file(w, d, 3 * PG, 3 * PG);
	h = ff_file(w, d, 3 * PG, 3 * PG);

	/* f: every page cached and mapped; truncate, then fallocate back. */
	s = ff_map_shared(t, f, 3 * PG);
	ff_load_expect_pat(t, s, 3 * PG, 14, 0, "f before");
	ff_store(t, s + nsize + 10, "old!", 4);	/* dirty bytes past the new EOF */
	assert_int_equal(gup_file_truncate(f, nsize), 0);
	assert_int_equal(gup_file_pread(f, buf, 10, nsize), 0);
	assert_int_equal(gup_file_fallocate(f, 0, 0, 3 * PG), 0);
	assert_int_equal(ff_info(f).size, 3 * PG);
	memset(buf, 0xee, 3 * PG);
	assert_int_equal(gup_file_pread(f, buf, 3 * PG, 0), 3 * PG);
	ff_expect_pat(buf, nsize, 14, 0, "f below EOF");
	ff_expect_zero(buf + nsize, 3 * PG - nsize, nsize, "f re-extended by fallocate");
	ff_load_expect_zero(t, s + nsize, 3 * PG - nsize, nsize, "f re-extended, mapped");
	assert_int_equal(gup_file_fsync(f), 0);
	assert_int_equal(gup_disk_peek(d, 0, buf, 3 * PG), 0);
	ff_expect_pat(buf, nsize, 14, 0, "f's disk below EOF");
	ff_expect_zero(buf + nsize, 3 * PG - nsize, nsize, "f's disk past the old EOF");

	/* g: nothing cached; truncate, then pwrite past the old tail. */
	assert_int_equal(gup_file_truncate(g, nsize), 0);
	assert_int_equal(gup_file_pwrite(g, "Q", 1, 3 * PG - 1), 1);
	memset(buf, 0xee, 3 * PG);
	assert_int_equal(gup_file_pread(g, buf, 3 * PG, 0), 3 * PG);
	ff_expect_pat(buf, nsize, 14, 3 * PG, "g below EOF");
	ff_expect_zero(buf + nsize, 3 * PG - 1 - nsize, nsize, "g re-extended by pwrite");
	assert_int_equal(buf[3 * PG - 1], 'Q');

	/* h: only the partial page cached (by pread); truncate up with truncate. */
	assert_int_equal(gup_file_pread(h, buf, 1, PG), 1);
	assert_int_equal(gup_file_truncate(h, nsize), 0);
	assert_int_equal(gup_file_truncate(h, 2 * PG), 0);
	assert_int_equal(gup_file_pread(h, buf, 3 * PG, 0), 2 * PG);
	ff_expect_pat(buf, nsize, 14, 6 * PG, "h below EOF");
	ff_expect_zero(buf + nsize, 2 * PG - nsize, nsize, "h truncated up");
	/* A page-aligned truncate leaves no partial page. */
	assert_int_equal(gup_file_truncate(h, PG), 0);
	assert_int_equal(gup_file_truncate(h, 3 * PG), 0);
	assert_int_equal(gup_file_pread(h, buf, 3 * PG, 0), 3 * PG);
	ff_expect_pat(buf, PG, 14, 6 * PG, "h page 0");
	ff_expect_zero(buf + PG, 2 * PG, PG, "h past the aligned truncate");

	gup_task_exit(t);
	file_close(f);
	file_close(g);
	file_close(h);
	free(buf);
	ff_world_done(w);
}

/*
 * Punch-hole: whole pages are dropped (zeros after), partial pages zeroed in place;
 * a private mapping's COW copies are its own data and survive (Linux passes
 * even_cows = 0 for a hole, 1 only for truncate: unmap_mapping_range).
 */
static void test_punch_hole(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	const uint64_t off = 1000, len = 2 * PG + 500;	/* [1000, 2 pages + 1500) */
	uint8_t *model = malloc(4 * PG), *buf = malloc(4 * PG);
	struct gup_file *f, *g;
	uint64_t s, p;

	(void)state;
	assert_non_null(model);
	assert_non_null(buf);
	ff_poke_pat(d, 0, 8 * PG, 15);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	g = ff_file(w, d, 4 * PG, 4 * PG);
	s = ff_map_shared(t, f, 4 * PG);
	p = ff_map_private(t, f, 4 * PG);
	ff_load_expect_pat(t, s, 4 * PG, 15, 0, "f");
	ff_store(t, p + PG + 8, "cow!", 4);	/* a COW copy of a page in the hole */
	ff_load(t, p + 2 * PG, buf, 1);		/* the cache page, partially in the hole */

	assert_int_equal(gup_file_fallocate(f, GUP_FALLOC_FL_PUNCH_HOLE | GUP_FALLOC_FL_KEEP_SIZE,
					    off, len), 0);
	ff_fill_pat(model, 4 * PG, 15, 0);
	memset(model + off, 0, len);
	assert_int_equal(ff_info(f).size, 4 * PG);
	assert_false(fx_pte(t, s + PG) & PTE_PRESENT);		/* the whole page: unmapped */
	ff_load(t, s, buf, 4 * PG);
	ff_expect_bytes(buf, model, 4 * PG, "shared mapping after punch", 0);
	memset(buf, 0xee, 4 * PG);
	assert_int_equal(gup_file_pread(f, buf, 4 * PG, 0), 4 * PG);
	ff_expect_bytes(buf, model, 4 * PG, "pread after punch", 0);
	/* The private mapping: its copy stays, the cache page it maps is zeroed. */
	ff_load(t, p + PG + 8, buf, 4);
	assert_memory_equal(buf, "cow!", 4);
	ff_load_expect_pat(t, p + PG + 12, PG - 12, 15, PG + 12, "private COW copy");
	ff_load(t, p + 2 * PG, buf, PG);
	ff_expect_bytes(buf, model + 2 * PG, PG, "private, partial page", 2 * PG);
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 0, model, 4 * PG);

	/* g: nothing cached; a hole of one whole page and one past EOF. */
	assert_int_equal(gup_file_fallocate(g, GUP_FALLOC_FL_PUNCH_HOLE | GUP_FALLOC_FL_KEEP_SIZE,
					    PG, PG), 0);
	assert_int_equal(gup_file_fallocate(g, GUP_FALLOC_FL_PUNCH_HOLE | GUP_FALLOC_FL_KEEP_SIZE,
					    4 * PG - 10, 100 * PG), 0);
	assert_int_equal(gup_file_fallocate(g, GUP_FALLOC_FL_PUNCH_HOLE | GUP_FALLOC_FL_KEEP_SIZE,
					    4 * PG, PG), 0);	/* all past EOF */
	assert_int_equal(ff_info(g).size, 4 * PG);
	ff_fill_pat(model, 4 * PG, 15, 4 * PG);
	memset(model + PG, 0, PG);
	memset(model + 4 * PG - 10, 0, 10);
	assert_int_equal(gup_file_pread(g, buf, 4 * PG, 0), 4 * PG);
	ff_expect_bytes(buf, model, 4 * PG, "g pread after punch", 0);
	ff_peek_expect(d, 4 * PG, model, 4 * PG);

	gup_task_exit(t);
	file_close(f);
	file_close(g);
	free(model);
	free(buf);
	ff_world_done(w);
}

static void test_fallocate_modes(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_file *f;
	uint8_t buf[PG];

	(void)state;
	ff_poke_pat(d, 0, 2 * PG, 16);
	f = ff_file(w, d, 4 * PG, 2 * PG);
	/* PUNCH_HOLE needs KEEP_SIZE; unknown modes are refused; nothing changes. */
	assert_int_equal(gup_file_fallocate(f, GUP_FALLOC_FL_PUNCH_HOLE, 0, PG), -EOPNOTSUPP);
	assert_int_equal(gup_file_fallocate(f, 0x10, 0, PG), -EOPNOTSUPP);
	assert_int_equal(gup_file_fallocate(f, 0, 0, 0), -EINVAL);
	assert_int_equal(gup_file_fallocate(f, 0, UINT64_MAX - 10, 100), -EINVAL);
	assert_int_equal(gup_file_pread(f, buf, PG, 0), PG);
	ff_expect_pat(buf, PG, 16, 0, "after refused fallocates");
	/* KEEP_SIZE alone: the size stays. */
	assert_int_equal(gup_file_fallocate(f, GUP_FALLOC_FL_KEEP_SIZE, 0, 4 * PG), 0);
	assert_int_equal(ff_info(f).size, 2 * PG);
	/* Mode 0 below the size does not shrink; above it extends. */
	assert_int_equal(gup_file_fallocate(f, 0, 0, PG), 0);
	assert_int_equal(ff_info(f).size, 2 * PG);
	assert_int_equal(gup_file_fallocate(f, 0, 3 * PG, 10), 0);
	assert_int_equal(ff_info(f).size, 3 * PG + 10);
	assert_int_equal(gup_file_pread(f, buf, PG, PG), PG);
	ff_expect_pat(buf, PG, 16, PG, "below the old size");
	file_close(f);
	ff_world_done(w);
}

/*
 * Bytes of the extent past the initial size are not the file's: growing the file
 * (fallocate, truncate up, pwrite past EOF) shows zeros there, as a mapping of the
 * EOF page does before it grows, and as after a truncate.  Linux never shows
 * bytes past EOF on extension (they are a hole or unwritten extent).
 */
static void test_file_extend_reads_zeros_not_stale_extent(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	const uint64_t size = PG + 100;
	uint8_t *buf = malloc(4 * PG);
	struct gup_file *f, *g, *h;
	uint64_t s;

	(void)state;
	assert_non_null(buf);
	ff_poke_pat(d, 0, 12 * PG, 24);		/* stale bytes over all three extents */
	f = ff_file(w, d, 4 * PG, size);
	g = ff_file(w, d, 4 * PG, size);
	h = ff_file(w, d, 4 * PG, size);
	/* Before growing: the EOF page's tail reads zeros through a mapping. */
	s = ff_map_shared(t, f, 4 * PG);
	ff_load_expect_pat(t, s, size, 24, 0, "f below EOF");
	ff_load_expect_zero(t, s + size, PG - 100, size, "f's EOF page tail");

	assert_int_equal(gup_file_fallocate(f, 0, 0, 4 * PG), 0);
	assert_int_equal(gup_file_truncate(g, 4 * PG), 0);
	assert_int_equal(gup_file_pwrite(h, "end", 3, 4 * PG - 3), 3);
	for (int i = 0; i < 3; i++) {
		struct gup_file *x = i == 0 ? f : i == 1 ? g : h;

		memset(buf, 0xee, 4 * PG);
		assert_int_equal(gup_file_pread(x, buf, 4 * PG, 0), 4 * PG);
		ff_expect_pat(buf, size, 24, (uint64_t)i * 4 * PG, "below the initial size");
		ff_expect_zero(buf + size, 4 * PG - size - 3, size, "grown file past the initial size");
	}
	ff_load_expect_zero(t, s + size, 4 * PG - size, size, "f grown, mapped");
	gup_task_exit(t);
	file_close(f);
	file_close(g);
	file_close(h);
	free(buf);
	ff_world_done(w);
}

/* Truncating a pinned page: the pin keeps the frame, the file lets go of it. */
static void test_truncate_pinned_page(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_page *pg = NULL;
	uint8_t buf[PG], want[PG];
	struct gup_file *f;
	size_t nr_free;
	uint64_t s;

	(void)state;
	ff_poke_pat(d, 0, 4 * PG, 17);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	s = ff_map_shared(t, f, 4 * PG);
	ff_load_expect_pat(t, s, 4 * PG, 17, 0, "before");
	assert_int_equal(gup_pin_user_pages_fast(t, s + 2 * PG, 1, GUP_FOLL_WRITE, &pg), 1);
	assert_true(gup_page_maybe_dma_pinned(pg));
	assert_int_equal(gup_page_write(pg, 10, "DMA!", 4), 0);	/* the device writes */
	ff_load(t, s + 2 * PG + 10, buf, 4);
	assert_memory_equal(buf, "DMA!", 4);

	assert_int_equal(gup_file_truncate(f, PG), 0);
	assert_int_equal(gup_load(t, s + 2 * PG, buf, 1), -EFAULT);
	/* Only the pin holds the frame now, with the bytes it had. */
	assert_int_equal(gup_page_mapcount(pg), 0);
	assert_int_equal(gup_page_ref_count(pg), 1024);
	ff_fill_pat(want, PG, 17, 2 * PG);
	memcpy(want + 10, "DMA!", 4);
	assert_int_equal(gup_page_read(pg, 0, buf, PG), 0);
	ff_expect_bytes(buf, want, PG, "pinned frame after truncate", 0);
	assert_int_equal(gup_page_write(pg, 20, "late", 4), 0);	/* DMA may go on */
	assert_int_equal(gup_world_check(w, stderr), 0);

	nr_free = fx_nr_free(w);
	gup_unpin_user_pages_dirty_lock(&pg, 1, true);
	assert_int_equal(fx_nr_free(w), nr_free + 1);

	/* The DMA never reaches the file. */
	assert_int_equal(gup_file_truncate(f, 4 * PG), 0);
	ff_load_expect_zero(t, s + PG, 3 * PG, PG, "regrown after the pinned truncate");
	assert_int_equal(gup_file_fsync(f), 0);
	assert_int_equal(gup_disk_peek(d, 2 * PG, buf, PG), 0);
	ff_expect_zero(buf, PG, 2 * PG, "disk of the pinned page");
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

/* ======================================================================== */
/* memfd                                                                    */
/* ======================================================================== */

static void test_memfd_shared_two_mms(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_task *a = fx_task_new(w), *b = fx_task_new(w);
	struct gup_file *m = ff_memfd(w, 4 * PG, 2 * PG);
	uint64_t ma = ff_map_shared(a, m, 4 * PG), mb = ff_map_shared(b, m, 4 * PG);
	uint8_t x[200], buf[200];
	struct fx_snap snap;

	(void)state;
	fx_snap(w, &snap);
	ff_load_expect_zero(b, mb, 2 * PG, 0, "new memfd");
	ff_fill_pat(x, sizeof(x), 18, 0);
	ff_store(a, ma + PG - 100, x, sizeof(x));
	ff_load(b, mb + PG - 100, buf, sizeof(buf));
	ff_expect_bytes(buf, x, sizeof(x), "b sees a's store", PG - 100);
	assert_int_equal(fx_pfn(a, ma + PG), fx_pfn(b, mb + PG));
	ff_store(b, mb + 7, "from b", 6);
	ff_load(a, ma + 7, buf, 6);
	assert_memory_equal(buf, "from b", 6);
	assert_int_equal(gup_file_pread(m, buf, 6, 7), 6);
	assert_memory_equal(buf, "from b", 6);
	assert_int_equal(gup_file_pwrite(m, "pw", 2, 2 * PG - 1), 2);	/* grows by one byte */
	ff_load(a, ma + 2 * PG - 1, buf, 2);
	assert_memory_equal(buf, "pw", 2);
	ff_load(b, mb + 2 * PG - 1, buf, 2);
	assert_memory_equal(buf, "pw", 2);
	assert_int_equal(gup_load(a, ma + 3 * PG, buf, 1), -EFAULT);	/* past EOF */
	assert_int_equal(gup_file_fsync(m), 0);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_WRITEBACK), 0);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_READ_PAGE), 0);
	assert_int_equal(ff_info(m).nr_mapped, 2);
	gup_task_exit(a);
	gup_task_exit(b);
	file_close(m);
	ff_world_done(w);
}

/* check_vma_flags: a writable long-term pin of a dirty-tracked file mapping is refused. */
static void test_memfd_longterm_pin_vs_disk_file(void **state)
{
	const unsigned lt_w = GUP_FOLL_LONGTERM | GUP_FOLL_WRITE;
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *m = ff_memfd(w, 4 * PG, 4 * PG), *f = ff_file(w, d, 4 * PG, 4 * PG);
	uint64_t ms = ff_map_shared(t, m, 4 * PG), fs = ff_map_shared(t, f, 4 * PG);
	uint64_t fp = ff_map_private(t, f, 4 * PG);
	struct gup_page *pages[2] = { NULL, NULL };
	uint8_t buf[8];

	(void)state;
	/* memfd (shmem): allowed, and the pin is the memory the mapping sees. */
	assert_int_equal(gup_pin_user_pages_fast(t, ms, 2, lt_w, pages), 2);
	assert_int_equal(gup_page_write(pages[1], 3, "dev", 3), 0);
	ff_load(t, ms + PG + 3, buf, 3);
	assert_memory_equal(buf, "dev", 3);
	gup_unpin_user_pages_dirty_lock(pages, 2, true);
	assert_int_equal(gup_pin_user_pages_unlocked(t, ms + 2 * PG, 1, pages, lt_w), 1);
	gup_unpin_user_page(pages[0]);

	/* A disk file's shared mapping: -EFAULT from every variant, nothing taken. */
	pages[0] = NULL;
	ff_load(t, fs, buf, 1);		/* cached and mapped: gup-fast would find it */
	assert_int_equal(gup_pin_user_pages_fast(t, fs, 1, lt_w, pages), -EFAULT);
	assert_int_equal(gup_pin_user_pages_unlocked(t, fs + PG, 1, pages, lt_w), -EFAULT);
	assert_int_equal(gup_mmap_read_lock(t, gup_task_mm(t)), 0);
	assert_int_equal(gup_pin_user_pages(t, fs, 1, lt_w, pages), -EFAULT);
	gup_mmap_read_unlock(t, gup_task_mm(t));
	assert_null(pages[0]);
	assert_int_equal(ff_info(f).nr_dirty, 0);

	/* Allowed on that file: a read-only long-term pin, a short-term write pin,
	 * and a long-term write pin of the private mapping (an anon copy). */
	assert_int_equal(gup_pin_user_pages_fast(t, fs, 1, GUP_FOLL_LONGTERM, pages), 1);
	gup_unpin_user_page(pages[0]);
	assert_int_equal(gup_pin_user_pages_fast(t, fs + PG, 1, GUP_FOLL_WRITE, pages), 1);
	gup_unpin_user_pages_dirty_lock(pages, 1, true);
	assert_int_equal(gup_pin_user_pages_fast(t, fp, 1, lt_w, pages), 1);
	assert_false(gup_page_is_zero(pages[0]));
	assert_int_equal(gup_page_write(pages[0], 0, "anon", 4), 0);
	ff_load(t, fp, buf, 4);
	assert_memory_equal(buf, "anon", 4);
	assert_int_equal(gup_file_pread(f, buf, 4, 0), 4);
	assert_memory_not_equal(buf, "anon", 4);
	gup_unpin_user_page(pages[0]);

	gup_task_exit(t);
	file_close(m);
	file_close(f);
	ff_world_done(w);
}

static void test_memfd_truncate_frees(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *m = ff_memfd(w, 8 * PG, 0);
	uint8_t *buf = malloc(8 * PG);
	size_t nr_free;
	uint64_t s;

	(void)state;
	assert_non_null(buf);
	ff_fill_pat(buf, 8 * PG, 19, 0);
	assert_int_equal(gup_file_pwrite(m, buf, 8 * PG, 0), 8 * PG);
	s = ff_map_shared(t, m, 8 * PG);
	ff_load_expect_pat(t, s, 8 * PG, 19, 0, "memfd");
	assert_int_equal(ff_info(m).nr_cached, 8);
	nr_free = fx_nr_free(w);

	assert_int_equal(gup_file_truncate(m, 2 * PG - 1), 0);
	assert_int_equal(ff_info(m).nr_cached, 2);
	assert_int_equal(fx_nr_free(w), nr_free + 6);
	assert_int_equal(gup_load(t, s + 2 * PG, buf, 1), -EFAULT);
	assert_int_equal(gup_load(t, s + 7 * PG, buf, 1), -EFAULT);
	ff_load_expect_pat(t, s, 2 * PG - 1, 19, 0, "kept");
	assert_int_equal(gup_file_truncate(m, 8 * PG), 0);
	ff_load_expect_zero(t, s + 2 * PG - 1, 6 * PG + 1, 2 * PG - 1, "regrown memfd");
	assert_int_equal(gup_file_truncate(m, 0), 0);
	assert_int_equal(ff_info(m).nr_cached, 0);
	assert_int_equal(fx_rss(t), 0);
	gup_task_exit(t);
	file_close(m);
	free(buf);
	ff_world_done(w);
}

/* ======================================================================== */
/* GUP on file mappings                                                     */
/* ======================================================================== */

/* A short-term write pin of a clean shared page dirties it; the DMA reaches the disk. */
static void test_gup_write_pin_dirties_file(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f = ff_file(w, d, 2 * PG, 2 * PG);
	uint64_t s = ff_map_shared(t, f, 2 * PG);
	struct gup_page *pg = NULL;
	uint8_t c;

	(void)state;
	ff_load(t, s, &c, 1);
	assert_int_equal(gup_file_fsync(f), 0);
	assert_int_equal(ff_info(f).nr_dirty, 0);
	assert_int_equal(gup_pin_user_pages_fast(t, s, 1, GUP_FOLL_WRITE, &pg), 1);
	assert_true(gup_page_dirty(pg));
	assert_int_equal(ff_info(f).nr_dirty, 1);
	assert_int_equal(gup_page_write(pg, 100, "device", 6), 0);
	/* Writeback while pinned takes what the device wrote so far... */
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 100, (const uint8_t *)"device", 6);
	assert_int_equal(ff_info(f).nr_dirty, 0);
	/* ...and the unpin's make_dirty brings the rest to the next writeback. */
	assert_int_equal(gup_page_write(pg, 200, "later!", 6), 0);
	gup_unpin_user_pages_dirty_lock(&pg, 1, true);
	assert_int_equal(ff_info(f).nr_dirty, 1);
	assert_int_equal(gup_file_fsync(f), 0);
	ff_peek_expect(d, 100, (const uint8_t *)"device", 6);
	ff_peek_expect(d, 200, (const uint8_t *)"later!", 6);
	/* A read pin leaves the page clean. */
	assert_int_equal(gup_pin_user_pages_fast(t, s + PG, 1, 0, &pg), 1);
	assert_int_equal(ff_info(f).nr_dirty, 0);
	gup_unpin_user_page(pg);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

/*
 * FOLL_FORCE writes (ptrace) go to a private copy, never to the file: today's
 * way (the copy is followed for write), and without a race also 2009's
 * (write_retry=read: the write fault makes the copy ours, FOLL_WRITE is
 * dropped, and the read lookup finds the copy).
 */
static void force_write_file(const char *policy)
{
	struct gup_world *w = ff_world_policy(NR_FRAMES, policy);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_file *f;
	struct gup_page *pg = NULL;
	uint64_t p, s;
	uint8_t buf[PG];

	ff_poke_pat(d, 0, PG, 27);
	f = ff_file(w, d, PG, PG);
	p = ff_map(t, f, PG, GUP_PROT_READ, GUP_MAP_PRIVATE, 0);
	s = ff_map(t, f, PG, GUP_PROT_READ, GUP_MAP_SHARED, 0);
	assert_int_equal(gup_mmap_read_lock(t, mm), 0);
	assert_int_equal(gup_get_user_pages(t, p, 1, GUP_FOLL_WRITE | GUP_FOLL_FORCE, &pg), 1);
	assert_int_equal(gup_get_user_pages(t, s, 1, GUP_FOLL_WRITE | GUP_FOLL_FORCE, NULL),
			 -EFAULT);
	gup_mmap_read_unlock(t, mm);
	assert_true(gup_page_anon_exclusive(pg));
	assert_int_equal(gup_page_write(pg, 0, "poke", 4), 0);
	gup_put_page(pg);
	ff_load(t, p, buf, 4);
	assert_memory_equal(buf, "poke", 4);
	ff_load_expect_pat(t, s, PG, 27, 0, "the file through a shared mapping");
	assert_int_equal(gup_file_pread(f, buf, PG, 0), PG);
	ff_expect_pat(buf, PG, 27, 0, "the file");
	assert_int_equal(ff_info(f).nr_dirty, 0);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

static void test_gup_force_write_file(void **state)
{
	(void)state;
	force_write_file(NULL);
	force_write_file("linux-2.6.29");
}

/* A read-only long-term pin of a private file mapping unshares (an anon copy). */
static void test_gup_longterm_ro_pin_private_file(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f = ff_file(w, d, PG, PG);
	uint64_t p = ff_map_private(t, f, PG);
	struct gup_page *pg = NULL;
	uint8_t buf[4];

	(void)state;
	assert_int_equal(gup_file_pwrite(f, "orig", 4, 0), 4);
	ff_load(t, p, buf, 4);			/* the cache page, R/O */
	assert_int_equal(gup_pin_user_pages_fast(t, p, 1, GUP_FOLL_LONGTERM, &pg), 1);
	assert_true(gup_page_anon_exclusive(pg));
	assert_int_equal(gup_page_read(pg, 0, buf, 4), 0);
	assert_memory_equal(buf, "orig", 4);
	/* The pin and the mapping hold the same copy, detached from the file. */
	assert_int_equal(fx_pfn(t, p), (int64_t)gup_page_pfn(pg));
	assert_int_equal(gup_file_pwrite(f, "new!", 4, 0), 4);
	assert_int_equal(gup_page_read(pg, 0, buf, 4), 0);
	assert_memory_equal(buf, "orig", 4);
	ff_load(t, p, buf, 4);
	assert_memory_equal(buf, "orig", 4);
	gup_unpin_user_page(pg);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

/* fixup_user_fault with @unlocked may drop the lock for the read; it says so. */
static void test_gup_fixup_user_fault_file(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, MS, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_file *f = ff_file(w, d, 2 * PG, PG);
	uint64_t s = ff_map_shared(t, f, 2 * PG);
	struct fx_snap snap;
	bool unlocked = false;

	(void)state;
	fx_snap(w, &snap);
	assert_int_equal(gup_mmap_read_lock(t, mm), 0);
	assert_int_equal(gup_fixup_user_fault(t, mm, s, GUP_FAULT_FLAG_WRITE, &unlocked), 0);
	assert_true(unlocked);
	assert_int_equal(gup_fixup_user_fault(t, mm, s + PG, 0, NULL), -EFAULT);	/* past EOF */
	gup_mmap_read_unlock(t, mm);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_RETRY_IO), 1);
	assert_true(fx_pte(t, s) & PTE_WRITE);
	assert_int_equal(ff_info(f).nr_dirty, 1);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

/* ======================================================================== */
/* fault retry (seed 002)                                                   */
/* ======================================================================== */

/* GUP that may drop the mmap lock reads a missing page with the lock dropped. */
static void test_retry_unlocked_and_fast_drop_lock(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 3 * MS, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_page *pg = NULL;
	struct gup_file *f;
	struct fx_snap snap;
	uint8_t buf[PG];
	uint64_t s;

	(void)state;
	ff_poke_pat(d, 0, 4 * PG, 20);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	s = ff_map_shared(t, f, 4 * PG);

	fx_snap(w, &snap);
	assert_int_equal(gup_pin_user_pages_unlocked(t, s, 1, &pg, 0), 1);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_MAJOR), 1);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_RETRY_IO), 1);
	assert_true(fx_delta(w, &snap, GUP_STAT_GUP_RETRY) >= 1);
	assert_int_equal(gup_page_read(pg, 0, buf, PG), 0);
	ff_expect_pat(buf, PG, 20, 0, "pinned page");
	gup_unpin_user_page(pg);

	fx_snap(w, &snap);
	assert_int_equal(gup_get_user_pages_fast(t, s + PG, 1, 0, &pg), 1);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_RETRY_IO), 1);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_READ_PAGE), 1);
	assert_int_equal(gup_page_read(pg, 0, buf, PG), 0);
	ff_expect_pat(buf, PG, 20, PG, "page from gup-fast's fallback");
	gup_put_page(pg);

	/* Cached now: no I/O, no retry. */
	fx_snap(w, &snap);
	assert_int_equal(gup_get_user_pages_fast(t, s + PG, 1, 0, &pg), 1);
	gup_put_page(pg);
	assert_int_equal(gup_pin_user_pages_unlocked(t, s, 1, &pg, 0), 1);
	gup_unpin_user_page(pg);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_RETRY_IO), 0);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_READ_PAGE), 0);

	/* The CPU's fault path retries too. */
	fx_snap(w, &snap);
	ff_load_expect_pat(t, s + 2 * PG, PG, 20, 2 * PG, "load");
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_RETRY_IO), 1);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

/* GUP under the caller's lock cannot drop it: the read happens under it. */
static void test_retry_locked_gup_reads_under_lock(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 3 * MS, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_page *pages[2] = { NULL, NULL }, *pin = NULL;
	struct gup_file *f;
	struct fx_snap snap;
	uint8_t buf[PG];
	uint64_t s;

	(void)state;
	ff_poke_pat(d, 0, 4 * PG, 21);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	s = ff_map_shared(t, f, 4 * PG);

	fx_snap(w, &snap);
	assert_int_equal(gup_mmap_read_lock(t, mm), 0);
	assert_int_equal(gup_get_user_pages(t, s, 2, 0, pages), 2);
	assert_int_equal(gup_pin_user_pages(t, s + 2 * PG, 1, GUP_FOLL_WRITE, &pin), 1);
	gup_mmap_read_unlock(t, mm);
	gup_unpin_user_pages_dirty_lock(&pin, 1, true);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_MAJOR), 3);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_RETRY_IO), 0);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_GUP_RETRY), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(gup_page_read(pages[i], 0, buf, PG), 0);
		ff_expect_pat(buf, PG, 21, (uint64_t)i * PG, "page of locked GUP");
		gup_put_page(pages[i]);
	}
	/* The write fault of the pin dirtied page 2. */
	assert_int_equal(ff_info(f).nr_dirty, 1);

	/* _remote without @locked: the same. */
	fx_snap(w, &snap);
	assert_int_equal(gup_mmap_read_lock(t, mm), 0);
	assert_int_equal(gup_get_user_pages_remote(t, mm, s + 3 * PG, 1, 0, pages, NULL), 1);
	gup_mmap_read_unlock(t, mm);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_MAJOR), 1);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_RETRY_IO), 0);
	assert_int_equal(gup_page_read(pages[0], 0, buf, PG), 0);
	ff_expect_pat(buf, PG, 21, 3 * PG, "page of remote GUP");
	gup_put_page(pages[0]);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
}

/*
 * A timed check says "this did not wait for the disk": it took less than half
 * the disk's latency.  On a loaded machine a run can be slow for other reasons;
 * then @once returns false (nothing proved) and the check runs again with a
 * disk four times slower.  Code that really waits for the disk is slow every
 * time and fails.  @took is what the last run measured.
 */
static void with_slower_disks(bool (*once)(uint64_t lat, uint64_t *took),
			      uint64_t lat, const char *what)
{
	uint64_t took = 0;
	int attempt;

	for (attempt = 0; attempt < 4; attempt++, lat *= 4)
		if (once(lat, &took))
			return;
	fail_msg("%s took %llu ns with a disk latency of %llu ns", what,
		 (unsigned long long)took, (unsigned long long)(lat / 4));
}

/* FOLL_NOWAIT: never wait for the disk; a short count, the lock kept. */
static bool nowait_remote(uint64_t lat, uint64_t *took)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, lat, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_page *pages[2] = { NULL, NULL };
	struct gup_file *f;
	struct fx_snap snap;
	uint64_t s, t0, el;
	uint8_t buf[PG];
	int locked;
	long n;

	ff_poke_pat(d, 0, 4 * PG, 22);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	s = ff_map_shared(t, f, 4 * PG);
	ff_load(t, s, buf, 1);		/* page 0 cached and mapped */

	fx_snap(w, &snap);
	assert_int_equal(gup_mmap_read_lock(t, mm), 0);
	locked = 1;
	t0 = fx_now_ns();
	n = gup_get_user_pages_remote(t, mm, s, 2, GUP_FOLL_NOWAIT, pages, &locked);
	el = fx_now_ns() - t0;
	assert_int_equal(n, 1);
	assert_int_equal(locked, 1);
	locked = 1;
	n = gup_get_user_pages_remote(t, mm, s + PG, 1, GUP_FOLL_NOWAIT, pages + 1, &locked);
	el = fx_now_ns() - t0;
	assert_int_equal(n, 0);
	assert_int_equal(locked, 1);
	assert_null(pages[1]);
	gup_mmap_read_unlock(t, mm);
	*took = el;
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_MAJOR), 0);
	assert_int_equal(ff_disk_stats(d).nr_reads, 1);
	assert_int_equal(gup_page_read(pages[0], 0, buf, PG), 0);
	ff_expect_pat(buf, PG, 22, 0, "NOWAIT page");
	gup_put_page(pages[0]);

	/* Without NOWAIT the same call waits, dropping the lock to do so. */
	assert_int_equal(gup_mmap_read_lock(t, mm), 0);
	locked = 1;
	n = gup_get_user_pages_remote(t, mm, s + PG, 1, 0, pages, &locked);
	assert_int_equal(n, 1);
	assert_int_equal(locked, 0);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_RETRY_IO), 1);
	assert_int_equal(gup_page_read(pages[0], 0, buf, PG), 0);
	ff_expect_pat(buf, PG, 22, PG, "page after the wait");
	gup_put_page(pages[0]);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
	return el < lat / 2;
}

static void test_retry_nowait_remote(void **state)
{
	(void)state;
	with_slower_disks(nowait_remote, 20 * MS, "FOLL_NOWAIT calls");
}

/* ---- an mmap writer against a reader waiting for the disk ---- */

struct io_reader {
	struct gup_task *t;
	struct gup_disk *d;
	uint64_t addr;
	bool under_lock;		/* gup_get_user_pages under gup_mmap_read_lock */
	_Atomic unsigned done;
	int ret;
	uint8_t buf[64];
	struct gup_page *page;
};

static void io_reader_fn(void *arg)
{
	struct io_reader *r = arg;

	if (r->under_lock) {
		struct gup_mm *mm = gup_task_mm(r->t);

		r->ret = gup_mmap_read_lock(r->t, mm);
		if (!r->ret) {
			r->ret = (int)gup_get_user_pages(r->t, r->addr & ~(PG - 1), 1, 0, &r->page);
			gup_mmap_read_unlock(r->t, mm);
		}
	} else {
		r->ret = gup_load(r->t, r->addr, r->buf, sizeof(r->buf));
	}
	atomic_store(&r->done, 1);
}

/* Wait until a read request is in flight on @d (users: the file + the request). */
static void wait_for_io(struct gup_disk *d)
{
	struct fx_spin sp;

	fx_spin_begin(&sp, FX_WAIT_NS, 16);
	while (atomic_read(&d->users) < 2)
		if (!fx_spin(&sp))
			fail_msg("the reader never started its disk read");
}

/*
 * The reader's disk request starts after @t_start and lasts @lat, so the
 * writer's end is at least @lat after @t_start if it waited for the disk; and
 * before @t_start + @lat the reader cannot be done.  Returns whether the writer
 * went through in time to show it did not wait (false: the run proved nothing).
 */
static bool writer_vs_reader(bool under_lock, uint64_t lat, uint64_t *took)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, lat, 0);
	struct gup_task *b = fx_task_new(w);
	struct gup_mm *mm = gup_task_mm(b);
	struct io_reader r = { .t = fx_task_add(mm), .d = d, .under_lock = under_lock };
	struct gup_thread *th;
	struct gup_file *f;
	struct fx_snap snap;
	uint64_t t_start, end, a;
	bool reader_done;

	ff_poke_pat(d, 0, 4 * PG, 23);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	r.addr = ff_map_shared(b, f, 4 * PG) + 2 * PG + 100;
	fx_snap(w, &snap);
	t_start = fx_now_ns();
	th = fx_thread_start(w, io_reader_fn, &r);
	wait_for_io(d);

	/* B: the mmap lock for write, then an unrelated mmap + munmap. */
	assert_int_equal(gup_mmap_write_lock(b, mm), 0);
	gup_mmap_write_unlock(b, mm);
	a = fx_map_anon(b, 2, RW, GUP_MAP_PRIVATE);
	assert_int_equal(gup_munmap(b, a, 2 * PG), 0);
	end = fx_now_ns();
	reader_done = atomic_load(&r.done);
	*took = end - t_start;

	assert_int_equal(gup_thread_join(th), 0);
	if (under_lock) {
		/* The read held the lock: B waited for the disk. */
		if (*took < lat)
			fail_msg("the writer was done %llu ns after the read began, under the lock",
				 (unsigned long long)*took);
		assert_int_equal(r.ret, 1);
		assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_RETRY_IO), 0);
		assert_int_equal(gup_page_read(r.page, 100, r.buf, sizeof(r.buf)), 0);
		gup_put_page(r.page);
	} else {
		/* The read dropped the lock: B went through while the disk worked. */
		if (*took < lat / 2)
			assert_false(reader_done);
		assert_int_equal(r.ret, 0);
		assert_true(fx_delta(w, &snap, GUP_STAT_FAULT_RETRY_IO) >= 1);
	}
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_MAJOR), 1);
	ff_expect_pat(r.buf, sizeof(r.buf), 23, 2 * PG + 100, "the reader's bytes");
	gup_task_exit(r.t);
	gup_task_exit(b);
	file_close(f);
	ff_world_done(w);
	return *took < lat / 2;
}

static bool writer_vs_unlocked_reader(uint64_t lat, uint64_t *took)
{
	return writer_vs_reader(false, lat, took);
}

static void test_retry_writer_not_blocked_by_io(void **state)
{
	(void)state;
	with_slower_disks(writer_vs_unlocked_reader, 50 * MS,
			  "a writer against a read that dropped the lock");
}

static void test_retry_writer_waits_for_io_under_lock(void **state)
{
	uint64_t took;

	(void)state;
	writer_vs_reader(true, 50 * MS, &took);
}

/* ---- killed while waiting for the disk ---- */

struct waiter {
	struct gup_task *t;
	uint64_t addr;
	struct sched_hook hook;
	_Atomic bool blocked, done;
	int ret;
};

static void waiter_point(void *arg, enum sched_point_kind kind, const void *obj)
{
	struct waiter *wt = arg;

	(void)obj;
	if (kind == SP_BLOCK)
		atomic_store(&wt->blocked, true);
}

static void waiter_fn(void *arg)
{
	struct waiter *wt = arg;
	uint8_t c;

	sched_hook_install(&wt->hook);
	wt->ret = gup_load(wt->t, wt->addr, &c, 1);
	sched_hook_install(NULL);
	atomic_store(&wt->done, true);
}

/*
 * Task A reads a page from a slow disk (the lock dropped); task B faults the same
 * page and sleeps on its page lock.  B is killed: it gives up at once, long
 * before the disk is done.  A is killed too: its read completes (a disk request
 * is not interruptible), then it gives up; the page stays cached for the others.
 *
 * Both kills must land while the disk still works.  On a loaded machine the
 * setup can take longer than the disk: then the run proves nothing and returns
 * false, and the caller tries again with a slower disk.  A waiter that does not
 * give up when killed makes every run too slow, so it still fails.
 */
static bool killed_while_waiting(uint64_t lat, uint64_t *took)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, lat, 0);
	struct gup_task *t = fx_task_new(w);
	struct waiter a = { 0 }, b = { 0 };
	struct gup_thread *tha, *thb;
	struct fx_spin sp;
	struct gup_file *f;
	uint8_t buf[PG];
	uint64_t t0;
	bool in_time;

	ff_poke_pat(d, 0, 2 * PG, 28);
	f = ff_file(w, d, 2 * PG, 2 * PG);
	a.addr = b.addr = ff_map_shared(t, f, 2 * PG) + PG;
	a.t = fx_task_add(gup_task_mm(t));
	b.t = fx_task_add(gup_task_mm(t));
	a.hook.point = b.hook.point = waiter_point;
	a.hook.coop = b.hook.coop = NULL;
	a.hook.arg = &a;
	b.hook.arg = &b;
	t0 = fx_now_ns();	/* A's disk request starts after this */
	tha = fx_thread_start(w, waiter_fn, &a);
	wait_for_io(d);
	thb = fx_thread_start(w, waiter_fn, &b);
	fx_spin_begin(&sp, FX_WAIT_NS, 16);
	while (!atomic_load(&b.blocked))
		if (!fx_spin(&sp))
			fail_msg("task B never slept");
	gup_task_kill(b.t);
	assert_int_equal(gup_thread_join(thb), 0);
	assert_int_equal(b.ret, -EINTR);
	/* Before t0 + lat the disk cannot be done, so A is still in its read. */
	*took = fx_now_ns() - t0;
	in_time = *took < lat / 2;
	if (in_time)
		assert_false(atomic_load(&a.done));
	gup_task_kill(a.t);
	assert_int_equal(gup_thread_join(tha), 0);
	if (in_time)
		assert_int_equal(a.ret, -EINTR);

	/* Killed or not, the page was read once and is cached. */
	assert_int_equal(ff_disk_stats(d).nr_reads, 1);
	assert_int_equal(gup_file_pread(f, buf, PG, PG), PG);
	ff_expect_pat(buf, PG, 28, PG, "the page read for the killed task");
	assert_int_equal(ff_disk_stats(d).nr_reads, 1);
	gup_task_exit(a.t);
	gup_task_exit(b.t);
	gup_task_exit(t);
	file_close(f);
	ff_world_done(w);
	return in_time;
}

static void test_retry_killed_while_waiting(void **state)
{
	(void)state;
	with_slower_disks(killed_while_waiting, 60 * MS, "a read, a kill and the killed waiter's return");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* disk */
		cmocka_unit_test(test_disk_create_destroy),
		cmocka_unit_test(test_disk_bad_config),
		cmocka_unit_test(test_disk_peek_poke_range),
		cmocka_unit_test(test_disk_busy_with_file),
		cmocka_unit_test(test_disk_stats_count_requests),
		/* files */
		cmocka_unit_test(test_file_create_bad_config),
		cmocka_unit_test(test_file_create_enospc),
		cmocka_unit_test(test_file_pread_pwrite_roundtrip),
		cmocka_unit_test(test_file_read_past_eof_short),
		cmocka_unit_test(test_file_pwrite_efbig),
		cmocka_unit_test(test_file_size_grows_with_writes),
		cmocka_unit_test(test_file_close_ebadf),
		cmocka_unit_test(test_file_mapped_outlives_close),
		cmocka_unit_test(test_file_info_counts),
		/* mappings */
		cmocka_unit_test(test_map_shared_reads_disk),
		cmocka_unit_test(test_map_shared_store_fsync),
		cmocka_unit_test(test_map_shared_dirty_tracking),
		cmocka_unit_test(test_map_private_cow_isolated),
		cmocka_unit_test(test_map_coherent_with_pread_pwrite),
		cmocka_unit_test(test_mmap_file_bad_args),
		cmocka_unit_test(test_unmap_dirty_then_close_writes_back),
		cmocka_unit_test(test_fork_shared_file_mapping),
		cmocka_unit_test(test_map_at_offset_dirty_and_truncate),
		cmocka_unit_test(test_mprotect_keeps_dirty_tracking),
		cmocka_unit_test(test_madvise_on_file_mappings),
		/* truncate, punch-hole, fallocate */
		cmocka_unit_test(test_truncate_sigbus_shared_and_private),
		cmocka_unit_test(test_truncate_tail_zero_and_reextend),
		cmocka_unit_test(test_punch_hole),
		cmocka_unit_test(test_fallocate_modes),
		cmocka_unit_test(test_file_extend_reads_zeros_not_stale_extent),
		cmocka_unit_test(test_truncate_pinned_page),
		/* memfd */
		cmocka_unit_test(test_memfd_shared_two_mms),
		cmocka_unit_test(test_memfd_longterm_pin_vs_disk_file),
		cmocka_unit_test(test_memfd_truncate_frees),
		/* GUP on file mappings */
		cmocka_unit_test(test_gup_write_pin_dirties_file),
		cmocka_unit_test(test_gup_force_write_file),
		cmocka_unit_test(test_gup_longterm_ro_pin_private_file),
		cmocka_unit_test(test_gup_fixup_user_fault_file),
		/* fault retry */
		cmocka_unit_test(test_retry_unlocked_and_fast_drop_lock),
		cmocka_unit_test(test_retry_locked_gup_reads_under_lock),
		cmocka_unit_test(test_retry_nowait_remote),
		cmocka_unit_test(test_retry_writer_not_blocked_by_io),
		cmocka_unit_test(test_retry_writer_waits_for_io_under_lock),
		cmocka_unit_test(test_retry_killed_while_waiting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
