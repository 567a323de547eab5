/* SPDX-License-Identifier: MIT */
/*
 * tests/common/file_fixture.h - helpers for the tests of disks, files and the page
 * cache (test_file.c, test_file_stress.c).  Header only, all static inline, on top
 * of fixture.h; every helper asserts its own step (call from the test's thread).
 *
 *   worlds   ff_world (debug on, reports to stderr), ff_world_done
 *   disks    ff_disk, ff_disk_stats, ff_poke_pat, ff_peek_expect*
 *   files    ff_file, ff_memfd, ff_info
 *   bytes    ff_pat, ff_fill_pat, ff_expect_pat, ff_expect_zero, ff_expect_bytes
 *   memory   ff_map, ff_load, ff_store
 *
 * Files are expected at the start of a fresh disk: the first file created on a
 * disk gets the extent at byte 0 (disk_alloc_extent hands extents out in order),
 * so that a test can prepare a file's bytes with gup_disk_poke before creating it
 * and look at them with gup_disk_peek.
 */
#ifndef GUP_TESTS_FILE_FIXTURE_H
#define GUP_TESTS_FILE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gup/file.h"
#include "fixture.h"

#define PG		GUP_PAGE_SIZE
#define MS		(UINT64_C(1000) * 1000)	/* ns */

/* ---- worlds ---- */

/* A world under @policy (NULL: the default). */
static inline struct gup_world *ff_world_policy(size_t nr_frames, const char *policy)
{
	struct gup_world_config cfg = {
		.nr_frames = nr_frames,
		.nr_movable = nr_frames / 4,
		.report = stderr,
		.debug = true,
		.policy = policy,
	};
	struct gup_world *w = NULL;

	assert_int_equal(gup_world_create(&cfg, &w), 0);
	assert_non_null(w);
	return w;
}

static inline struct gup_world *ff_world(size_t nr_frames)
{
	return ff_world_policy(nr_frames, NULL);
}

/* The invariants hold, no misuse was reported, and nothing leaks at teardown. */
static inline void ff_world_done(struct gup_world *w)
{
	assert_int_equal(gup_world_check(w, stderr), 0);
	assert_int_equal(gup_world_misuse_count(w), 0);
	assert_int_equal(gup_world_destroy(w), 0);
}

/* ---- disks ---- */

static inline struct gup_disk *ff_disk(struct gup_world *w, uint64_t bytes, uint64_t read_ns,
				       uint64_t write_ns)
{
	struct gup_disk_config cfg = {
		.bytes = bytes, .read_latency_ns = read_ns, .write_latency_ns = write_ns,
	};
	struct gup_disk *d = NULL;

	assert_int_equal(gup_disk_create(w, &cfg, &d), 0);
	assert_non_null(d);
	return d;
}

static inline struct gup_disk_stats ff_disk_stats(struct gup_disk *d)
{
	struct gup_disk_stats st;

	memset(&st, 0xff, sizeof(st));
	assert_int_equal(gup_disk_stats(d, &st), 0);
	return st;
}

/* ---- bytes ---- */

/* Byte @off of pattern @seed: never zero, different per seed, offset and page. */
static inline uint8_t ff_pat(unsigned seed, uint64_t off)
{
	uint8_t v = (uint8_t)(seed * 167u + (uint32_t)off * 13u + (uint32_t)(off >> 12) * 71u +
			      (uint32_t)(off >> 9) * 5u);

	return v ? v : 0xa5;
}

static inline void ff_fill_pat(uint8_t *buf, size_t len, unsigned seed, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = ff_pat(seed, off + i);
}

/* Compare @len bytes, naming the first difference. */
static inline void ff_expect_bytes(const uint8_t *got, const uint8_t *want, size_t len,
				   const char *what, uint64_t base)
{
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i])
			fail_msg("%s: byte at %#llx is %#x, want %#x", what,
				 (unsigned long long)(base + i), got[i], want[i]);
}

static inline void ff_expect_pat(const uint8_t *got, size_t len, unsigned seed, uint64_t off,
				 const char *what)
{
	for (size_t i = 0; i < len; i++)
		if (got[i] != ff_pat(seed, off + i))
			fail_msg("%s: byte at %#llx is %#x, want pattern %u's %#x", what,
				 (unsigned long long)(off + i), got[i], seed, ff_pat(seed, off + i));
}

static inline void ff_expect_zero(const uint8_t *got, size_t len, uint64_t off, const char *what)
{
	for (size_t i = 0; i < len; i++)
		if (got[i])
			fail_msg("%s: byte at %#llx is %#x, want 0", what,
				 (unsigned long long)(off + i), got[i]);
}

/* Pattern @seed of bytes [off, off+len) onto the disk at the same offsets. */
static inline void ff_poke_pat(struct gup_disk *d, uint64_t off, size_t len, unsigned seed)
{
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	ff_fill_pat(buf, len, seed, off);
	assert_int_equal(gup_disk_poke(d, off, buf, len), 0);
	free(buf);
}

/* The disk holds @want at [off, off+len). */
static inline void ff_peek_expect(struct gup_disk *d, uint64_t off, const uint8_t *want, size_t len)
{
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	assert_int_equal(gup_disk_peek(d, off, buf, len), 0);
	ff_expect_bytes(buf, want, len, "disk", off);
	free(buf);
}

/* ---- files ---- */

static inline struct gup_file *ff_file(struct gup_world *w, struct gup_disk *d, uint64_t max,
				       uint64_t size)
{
	struct gup_file_config cfg = { .disk = d, .max_size = max, .size = size };
	struct gup_file *f = NULL;

	assert_int_equal(gup_file_create(w, &cfg, &f), 0);
	assert_non_null(f);
	return f;
}

static inline struct gup_file *ff_memfd(struct gup_world *w, uint64_t max, uint64_t size)
{
	struct gup_file_config cfg = { .max_size = max, .size = size, .flags = GUP_FILE_MEMFD };
	struct gup_file *f = NULL;

	assert_int_equal(gup_file_create(w, &cfg, &f), 0);
	assert_non_null(f);
	return f;
}

static inline struct gup_file_info ff_info(struct gup_file *f)
{
	struct gup_file_info fi;

	memset(&fi, 0xff, sizeof(fi));
	assert_int_equal(gup_file_info(f, &fi), 0);
	return fi;
}

/* ---- memory ---- */

static inline uint64_t ff_map(struct gup_task *t, struct gup_file *f, size_t len, int prot,
			      int flags, uint64_t off)
{
	uint64_t addr = 0;

	assert_int_equal(gup_mmap_file(t, 0, len, prot, flags, f, off, &addr), 0);
	assert_true(addr >= GUP_MMAP_MIN && !(addr & (PG - 1)));
	return addr;
}

static inline uint64_t ff_map_shared(struct gup_task *t, struct gup_file *f, size_t len)
{
	return ff_map(t, f, len, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_SHARED, 0);
}

static inline uint64_t ff_map_private(struct gup_task *t, struct gup_file *f, size_t len)
{
	return ff_map(t, f, len, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_PRIVATE, 0);
}

static inline void ff_load(struct gup_task *t, uint64_t addr, void *buf, size_t len)
{
	assert_int_equal(gup_load(t, addr, buf, len), 0);
}

static inline void ff_store(struct gup_task *t, uint64_t addr, const void *buf, size_t len)
{
	assert_int_equal(gup_store(t, addr, buf, len), 0);
}

/* @t reads pattern @seed of file offsets [off, off+len) at @addr. */
static inline void ff_load_expect_pat(struct gup_task *t, uint64_t addr, size_t len,
				      unsigned seed, uint64_t off, const char *what)
{
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	ff_load(t, addr, buf, len);
	ff_expect_pat(buf, len, seed, off, what);
	free(buf);
}

static inline void ff_load_expect_zero(struct gup_task *t, uint64_t addr, size_t len,
				       uint64_t off, const char *what)
{
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	memset(buf, 0x5a, len);
	ff_load(t, addr, buf, len);
	ff_expect_zero(buf, len, off, what);
	free(buf);
}

#endif /* GUP_TESTS_FILE_FIXTURE_H */
