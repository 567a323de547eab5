/* SPDX-License-Identifier: MIT */
/*
 * tests/common/io_fixture.c - helpers for the tests of the users of GUP
 * (io_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "io_fixture.h"

#define PG	GUP_PAGE_SIZE

uint8_t fx_io_disk_byte(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) * 29 + 1);
}

void fx_io_new(struct fx_io *e, const char *policy, size_t nr_frames)
{
	struct gup_disk_config cfg = { .bytes = FX_IO_DISK_BYTES };
	static uint8_t buf[FX_IO_DISK_BYTES];

	memset(e, 0, sizeof(*e));
	e->policy = policy;
	e->new_policy = fx_policy_is_new(policy);
	e->w = fx_world_new(policy, nr_frames, nr_frames / 4);
	e->t = fx_task_new(e->w);
	assert_int_equal(gup_disk_create(e->w, &cfg, &e->d), 0);
	for (uint64_t off = 0; off < FX_IO_DISK_BYTES; off++)
		buf[off] = fx_io_disk_byte(off);
	assert_int_equal(gup_disk_poke(e->d, 0, buf, FX_IO_DISK_BYTES), 0);
	fx_snap(e->w, &e->s0);
}

void fx_io_assert_balanced(struct gup_world *w)
{
	uint64_t s[GUP_NR_STATS];

	fx_stats(w, s);
	assert_int_equal(s[GUP_STAT_PIN_ACQUIRED], s[GUP_STAT_PIN_RELEASED]);
	assert_int_equal(s[GUP_STAT_GET_ACQUIRED], s[GUP_STAT_GET_RELEASED]);
}

void fx_io_done(struct fx_io *e)
{
	fx_io_assert_balanced(e->w);
	fx_check(e->w);
	assert_int_equal(gup_disk_destroy(e->d), 0);
	gup_task_exit(e->t);
	fx_world_end(e->w);
}

enum gup_stat_item fx_io_ref_acquired(const struct fx_io *e)
{
	return e->new_policy ? GUP_STAT_PIN_ACQUIRED : GUP_STAT_GET_ACQUIRED;
}

struct gup_page *fx_io_page(struct gup_task *t, uint64_t addr)
{
	return (struct gup_page *)fx_page_at(t, addr);
}

void fx_io_mem_is(struct gup_task *t, uint64_t addr, size_t len, uint8_t c)
{
	static uint8_t buf[8 * PG];

	assert_true(len <= sizeof(buf));
	assert_int_equal(gup_load(t, addr, buf, len), 0);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != c)
			fail_msg("byte %zu at %#llx is %#x, want %#x", i,
				 (unsigned long long)(addr + i), buf[i], c);
}

void fx_io_mem_has_disk(struct gup_task *t, uint64_t addr, size_t len, uint64_t pos)
{
	static uint8_t buf[8 * PG];

	assert_true(len <= sizeof(buf));
	assert_int_equal(gup_load(t, addr, buf, len), 0);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != fx_io_disk_byte(pos + i))
			fail_msg("byte %zu at %#llx is %#x, want disk byte %#llx (%#x)", i,
				 (unsigned long long)(addr + i), buf[i],
				 (unsigned long long)(pos + i), fx_io_disk_byte(pos + i));
}
