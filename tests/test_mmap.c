// SPDX-License-Identifier: MIT
/*
 * tests/test_mmap.c - the VMA-range system calls through the public API:
 * mmap (placement, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE, argument
 * errors), munmap (splitting, holes), mprotect (split/merge, PROT_NONE,
 * read-only), madvise (DONTNEED, *FORK, POPULATE_*), and user loads/stores.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"

#include "common/fixture.h"

#define PG	GUP_PAGE_SIZE
#define RW	(GUP_PROT_READ | GUP_PROT_WRITE)
#define PRIV	(GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS)
#define SHRD	(GUP_MAP_SHARED | GUP_MAP_ANONYMOUS)
#define FIXED	GUP_MAP_FIXED

/* ---- helpers ---------------------------------------------------------- */

/* mmap succeeds: page-aligned, inside user space, at @addr under MAP_FIXED*. */
static uint64_t map_ok(struct fx_env *e, uint64_t addr, size_t len, int prot, int flags)
{
	uint64_t got = 0;

	assert_int_equal(gup_mmap(e->t, addr, len, prot, flags, &got), 0);
	assert_int_equal(got & (PG - 1), 0);
	assert_true(got >= GUP_MMAP_MIN);
	assert_true(got + len <= GUP_TASK_SIZE);
	if (flags & (GUP_MAP_FIXED | GUP_MAP_FIXED_NOREPLACE))
		assert_int_equal(got, addr);
	return got;
}

/* A value tied to an address, so misplaced data shows. */
static uint64_t tag(uint64_t addr) { return addr * 0x9E3779B97F4A7C15 + 1; }

/* ---- mmap placement ---------------------------------------------------- */

static void test_mmap_placement(void **state)
{
	struct fx_env e;
	uint64_t got[12];
	size_t lens[12];

	(void)state;
	fx_env_new(&e, NULL, 256);
	for (int i = 0; i < 12; i++) {
		int flags = (i & 1) ? SHRD : PRIV;
		/* Alternate prot so that neighbours cannot merge. */
		int prot = (i & 2) ? GUP_PROT_READ : RW;

		lens[i] = (size_t)(i + 1) * PG - (i % 3) * 100;	/* some unaligned */
		got[i] = map_ok(&e, 0, lens[i], prot, flags);
	}
	for (int i = 0; i < 12; i++) {
		uint64_t ei = got[i] + ((lens[i] + PG - 1) & ~(PG - 1));

		for (int j = 0; j < 12; j++) {
			uint64_t ej = got[j] + ((lens[j] + PG - 1) & ~(PG - 1));

			if (i != j)
				assert_true(ei <= got[j] || ej <= got[i]);
		}
	}
	/* Every mapping readable (zero); shared never merges, so 12 VMAs. */
	for (int i = 0; i < 12; i++)
		assert_int_equal(fx_load_u64(e.t, got[i]), 0);
	assert_int_equal(fx_nr_vmas(e.t), 12);

	/* A free hint is honoured (without MAP_FIXED). */
	{
		uint64_t h = UINT64_C(0x123450000);

		assert_int_equal(map_ok(&e, h, 3 * PG, RW, PRIV), h);
		/* An occupied hint is not: the mapping goes elsewhere. */
		uint64_t o = map_ok(&e, h + PG, 2 * PG, RW, PRIV);

		assert_true(o + 2 * PG <= h || o >= h + 3 * PG);
		/* An unaligned or too-low hint is ignored, not an error. */
		o = map_ok(&e, h + 3 * PG + 1, PG, RW, PRIV);
		assert_int_equal(o & (PG - 1), 0);
		o = map_ok(&e, 0x1000, PG, RW, PRIV);
		assert_true(o >= GUP_MMAP_MIN);
	}
	fx_env_done(&e);
}

static void test_mmap_fixed(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x500000);
	uint64_t s0[GUP_NR_STATS], s1[GUP_NR_STATS];

	(void)state;
	fx_env_new(&e, NULL, 256);
	assert_int_equal(map_ok(&e, a, 4 * PG, RW, PRIV | FIXED), a);
	assert_int_equal(map_ok(&e, GUP_MMAP_MIN, PG, RW, PRIV | FIXED), GUP_MMAP_MIN);
	assert_int_equal(map_ok(&e, GUP_TASK_SIZE - PG, PG, RW, PRIV | FIXED),
			 GUP_TASK_SIZE - PG);
	fx_store_u64(e.t, GUP_TASK_SIZE - 8, 77);
	assert_int_equal(fx_load_u64(e.t, GUP_TASK_SIZE - 8), 77);
	assert_int_equal(fx_load_u64(e.t, GUP_MMAP_MIN), 0);
	for (int i = 0; i < 4; i++)
		fx_store_u64(e.t, a + i * PG, tag(a + i * PG));
	assert_int_equal(fx_rss(e.t), 5);
	assert_int_equal(fx_nr_vmas(e.t), 3);

	/* MAP_FIXED over the middle two pages: replaced, old data gone. */
	fx_stats(e.w, s0);
	assert_int_equal(map_ok(&e, a + PG, 2 * PG, RW, PRIV | FIXED), a + PG);
	fx_stats(e.w, s1);
	assert_int_equal(s1[GUP_STAT_ZAP_PTE] - s0[GUP_STAT_ZAP_PTE], 2);
	assert_int_equal(s1[GUP_STAT_FRAME_FREE] - s0[GUP_STAT_FRAME_FREE], 2);
	assert_int_equal(fx_rss(e.t), 3);
	assert_int_equal(fx_load_u64(e.t, a + PG), 0);
	assert_int_equal(fx_load_u64(e.t, a + 2 * PG), 0);
	assert_int_equal(fx_load_u64(e.t, a), tag(a));
	assert_int_equal(fx_load_u64(e.t, a + 3 * PG), tag(a + 3 * PG));
	/* Same prot and flags: the pieces merge back into one VMA. */
	assert_int_equal(fx_nr_vmas(e.t), 3);

	/* MAP_FIXED with other prot: three VMAs there now. */
	assert_int_equal(map_ok(&e, a + PG, PG, GUP_PROT_READ, PRIV | FIXED), a + PG);
	assert_int_equal(fx_nr_vmas(e.t), 5);
	{
		uint64_t v = 1;

		assert_int_equal(gup_store(e.t, a + PG, &v, sizeof(v)), -EFAULT);
	}

	/* MAP_FIXED_NOREPLACE: over a mapping -EEXIST, nothing changes. */
	{
		uint64_t out = 0x42;
		size_t vmas = fx_nr_vmas(e.t), frames = fx_nr_free(e.w);

		assert_int_equal(gup_mmap(e.t, a, PG, RW, PRIV | GUP_MAP_FIXED_NOREPLACE, &out),
				 -EEXIST);
		assert_int_equal(gup_mmap(e.t, a - PG, 2 * PG, RW,
					  PRIV | GUP_MAP_FIXED_NOREPLACE, &out), -EEXIST);
		assert_int_equal(gup_mmap(e.t, a + 3 * PG, 4 * PG, RW,
					  SHRD | GUP_MAP_FIXED_NOREPLACE | FIXED, &out), -EEXIST);
		assert_int_equal(out, 0x42);
		assert_int_equal(fx_nr_vmas(e.t), vmas);
		assert_int_equal(fx_nr_free(e.w), frames);
		assert_int_equal(fx_load_u64(e.t, a), tag(a));
		assert_int_equal(fx_load_u64(e.t, a + 3 * PG), tag(a + 3 * PG));
		/* Right next to it is free: succeeds (and merges with it). */
		assert_int_equal(map_ok(&e, a + 4 * PG, PG, RW, PRIV | GUP_MAP_FIXED_NOREPLACE),
				 a + 4 * PG);
		assert_int_equal(fx_nr_vmas(e.t), vmas);
	}
	fx_env_done(&e);
}

/* MAP_FIXED over a shared mapping drops the shmem pages with it. */
static void test_mmap_fixed_over_shared(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x700000);
	size_t free0;

	(void)state;
	fx_env_new(&e, NULL, 256);
	free0 = fx_nr_free(e.w);
	map_ok(&e, a, 3 * PG, RW, SHRD | FIXED);
	for (int i = 0; i < 3; i++)
		fx_store_u64(e.t, a + i * PG, tag(a + i * PG));
	assert_int_equal(fx_nr_free(e.w), free0 - 3);
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT_SHARED), 3);
	map_ok(&e, a, 3 * PG, RW, PRIV | FIXED);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx_load_u64(e.t, a + i * PG), 0);
	assert_int_equal(fx_nr_free(e.w), free0);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	fx_env_done(&e);
}

static void test_mmap_errors(void **state)
{
	struct fx_env e;
	uint64_t out = 0x5555;
	size_t vmas, frames;
	struct gup_mm_info mi0;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, 0x400000, PG, RW, PRIV | FIXED);
	mi0 = fx_mm_info(e.mm);
	vmas = mi0.nr_vmas;
	frames = fx_nr_free(e.w);

	assert_int_equal(gup_mmap(e.t, 0, 0, RW, PRIV, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, PG, 0x8, PRIV, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, PG, RW | 0x100, PRIV, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, PG, -1, PRIV, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, PG, RW, GUP_MAP_ANONYMOUS, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, PG, RW, PRIV | GUP_MAP_SHARED, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, PG, RW, PRIV | 0x40, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, PG, RW, PRIV | 0x1000000, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, PG, RW, GUP_MAP_PRIVATE, &out), -EBADF);
	assert_int_equal(gup_mmap(e.t, 0, PG, RW, GUP_MAP_SHARED, &out), -EBADF);
	assert_int_equal(gup_mmap(e.t, 0x400001, PG, RW, PRIV | FIXED, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0x400800, PG, RW, PRIV | GUP_MAP_FIXED_NOREPLACE, &out),
			 -EINVAL);
	assert_int_equal(gup_mmap(e.t, GUP_MMAP_MIN - PG, PG, RW, PRIV | FIXED, &out), -EPERM);
	assert_int_equal(gup_mmap(e.t, 0, PG, RW, PRIV | FIXED, &out), -EPERM);
	/* Fixed, but running past the top of the address space. */
	assert_int_equal(gup_mmap(e.t, GUP_TASK_SIZE - PG, 2 * PG, RW, PRIV | FIXED, &out),
			 -ENOMEM);
	assert_int_equal(gup_mmap(e.t, GUP_TASK_SIZE, PG, RW, PRIV | FIXED, &out), -ENOMEM);
	/* Huge lengths: beyond the address space is -EINVAL ... */
	assert_int_equal(gup_mmap(e.t, 0, GUP_TASK_SIZE + 1, RW, PRIV, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, SIZE_MAX, RW, PRIV, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, SIZE_MAX - PG + 2, RW, PRIV, &out), -EINVAL);
	/* ... the whole address space does not fit anywhere: -ENOMEM. */
	assert_int_equal(gup_mmap(e.t, 0, GUP_TASK_SIZE, RW, PRIV, &out), -ENOMEM);
	assert_int_equal(gup_mmap(e.t, 0, GUP_TASK_SIZE - PG, RW, SHRD, &out), -ENOMEM);
	assert_int_equal(gup_mmap(e.t, GUP_MMAP_MIN, GUP_TASK_SIZE, RW, PRIV | FIXED, &out),
			 -ENOMEM);
	/* NULL task or out. */
	assert_int_equal(gup_mmap(NULL, 0, PG, RW, PRIV, &out), -EINVAL);
	assert_int_equal(gup_mmap(e.t, 0, PG, RW, PRIV, NULL), -EINVAL);

	/* Nothing happened. */
	assert_int_equal(out, 0x5555);
	assert_int_equal(fx_nr_vmas(e.t), vmas);
	assert_int_equal(fx_mm_info(e.mm).nr_pgtables, mi0.nr_pgtables);
	assert_int_equal(fx_nr_free(e.w), frames);
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT), 0);
	fx_env_done(&e);
}

/* ---- MAP_POPULATE ------------------------------------------------------ */

static void test_map_populate(void **state)
{
	struct fx_env e;
	uint64_t a, b, c, s0[GUP_NR_STATS], s1[GUP_NR_STATS];
	size_t frames;

	(void)state;
	fx_env_new(&e, NULL, 256);
	frames = fx_nr_free(e.w);
	fx_stats(e.w, s0);
	a = map_ok(&e, 0, 8 * PG, RW, PRIV | GUP_MAP_POPULATE);
	fx_stats(e.w, s1);
	assert_int_equal(fx_rss(e.t), 8);
	assert_int_equal(fx_nr_free(e.w), frames - 8);
	assert_int_equal(s1[GUP_STAT_FAULT_ANON_WRITE] - s0[GUP_STAT_FAULT_ANON_WRITE], 8);
	for (int i = 0; i < 8; i++) {
		int64_t pfn = gup_mm_pfn(e.mm, a + i * PG);

		assert_true(pfn > 0 && pfn < 256);
	}
	/* Accesses now need no fault at all. */
	for (int i = 0; i < 8; i++) {
		assert_int_equal(fx_load_u64(e.t, a + i * PG), 0);
		fx_store_u64(e.t, a + i * PG + 16, tag(a + i * PG));
	}
	fx_stats(e.w, s0);
	assert_int_equal(s0[GUP_STAT_FAULT], s1[GUP_STAT_FAULT]);

	/* Read-only private: the zero page everywhere, no frame. */
	b = map_ok(&e, 0, 4 * PG, GUP_PROT_READ, PRIV | GUP_MAP_POPULATE);
	for (int i = 0; i < 4; i++)
		assert_int_equal(gup_mm_pfn(e.mm, b + i * PG), 0);
	assert_int_equal(fx_rss(e.t), 8);

	/* PROT_NONE: nothing populated. */
	c = map_ok(&e, 0, 2 * PG, GUP_PROT_NONE, PRIV | GUP_MAP_POPULATE);
	assert_int_equal(gup_mm_pfn(e.mm, c), -EFAULT);

	/* Shared: the shmem pages are created and mapped. */
	c = map_ok(&e, 0, 3 * PG, RW, SHRD | GUP_MAP_POPULATE);
	assert_int_equal(fx_rss(e.t), 11);
	for (int i = 0; i < 3; i++)
		assert_true(gup_mm_pfn(e.mm, c + i * PG) > 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(fx_load_u64(e.t, a + i * PG + 16), tag(a + i * PG));
	fx_env_done(&e);
}

/*
 * MAP_POPULATE that runs out of frames.  Linux (mm_populate) ignores the error:
 * the mapping exists and mmap succeeds, populated as far as frames went.
 */
static void test_map_populate_oom(void **state)
{
	struct fx_env e;
	uint64_t a = 0;
	size_t frames;
	int ret;

	(void)state;
	fx_env_new(&e, NULL, 32);
	frames = fx_nr_free(e.w);
	ret = gup_mmap(e.t, 0, 64 * PG, RW, PRIV | GUP_MAP_POPULATE, &a);
	assert_int_equal(ret, 0);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	assert_int_equal(fx_nr_free(e.w), 0);
	assert_int_equal(fx_rss(e.t), frames);
	assert_true(fx_stat(e.w, GUP_STAT_FAULT_OOM) >= 1);
	/* Populated pages work, an unpopulated one cannot be faulted in. */
	fx_store_u64(e.t, a, 5);
	{
		uint64_t v = 1;

		assert_int_equal(gup_store(e.t, a + 63 * PG, &v, sizeof(v)), -ENOMEM);
	}
	assert_int_equal(gup_munmap(e.t, a, 64 * PG), 0);
	assert_int_equal(fx_nr_free(e.w), frames);
	fx_env_done(&e);
}

/* ---- munmap ------------------------------------------------------------ */

static void test_munmap_errors(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x800000);
	size_t frames;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 4 * PG, RW, PRIV | FIXED);
	fx_store_u64(e.t, a, 1);
	frames = fx_nr_free(e.w);
	assert_int_equal(gup_munmap(e.t, a + 1, PG), -EINVAL);
	assert_int_equal(gup_munmap(e.t, a + PG / 2, PG), -EINVAL);
	assert_int_equal(gup_munmap(e.t, a, 0), -EINVAL);
	assert_int_equal(gup_munmap(e.t, GUP_TASK_SIZE - PG, 2 * PG), -EINVAL);
	assert_int_equal(gup_munmap(e.t, GUP_TASK_SIZE, PG), -EINVAL);
	assert_int_equal(gup_munmap(e.t, a, SIZE_MAX), -EINVAL);
	assert_int_equal(gup_munmap(e.t, UINT64_MAX & ~(PG - 1), PG), -EINVAL);
	assert_int_equal(gup_munmap(NULL, a, PG), -EINVAL);
	/* Holes are fine. */
	assert_int_equal(gup_munmap(e.t, a + 16 * PG, 4 * PG), 0);
	assert_int_equal(gup_munmap(e.t, GUP_MMAP_MIN, PG), 0);
	assert_int_equal(gup_munmap(e.t, 0, PG), 0);
	assert_int_equal(gup_munmap(e.t, GUP_TASK_SIZE - PG, PG), 0);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	assert_int_equal(fx_nr_free(e.w), frames);
	assert_int_equal(fx_load_u64(e.t, a), 1);
	/* An unaligned length covers the partial page. */
	assert_int_equal(gup_munmap(e.t, a, 1), 0);
	{
		uint64_t v;

		assert_int_equal(gup_load(e.t, a, &v, sizeof(v)), -EFAULT);
	}
	assert_int_equal(fx_nr_free(e.w), frames + 1);
	/* A range covering a hole and a mapping: the mapping goes. */
	assert_int_equal(gup_munmap(e.t, a - 8 * PG, 16 * PG), 0);
	assert_int_equal(fx_nr_vmas(e.t), 0);
	fx_env_done(&e);
}

static void test_munmap_split(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x1000000);
	uint64_t v;
	uint64_t segv0;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 6 * PG, RW, PRIV | FIXED);
	for (int i = 0; i < 6; i++)
		fx_store_u64(e.t, a + i * PG + 24, tag(a + i * PG));
	assert_int_equal(fx_nr_vmas(e.t), 1);
	assert_int_equal(fx_rss(e.t), 6);
	/* The task's TLB holds entries for the middle pages right now. */
	assert_int_equal(gup_munmap(e.t, a + 2 * PG, 2 * PG), 0);
	assert_int_equal(fx_nr_vmas(e.t), 2);
	assert_int_equal(fx_rss(e.t), 4);
	segv0 = fx_stat(e.w, GUP_STAT_FAULT_SIGSEGV);
	assert_int_equal(gup_load(e.t, a + 2 * PG + 24, &v, sizeof(v)), -EFAULT);
	assert_int_equal(gup_load(e.t, a + 3 * PG, &v, 1), -EFAULT);
	assert_int_equal(gup_store(e.t, a + 3 * PG, &v, 1), -EFAULT);
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT_SIGSEGV) - segv0, 3);
	for (int i = 0; i < 6; i++)
		if (i < 2 || i >= 4)
			assert_int_equal(fx_load_u64(e.t, a + i * PG + 24), tag(a + i * PG));
	/* Both sides still grow new pages. */
	fx_store_u64(e.t, a + PG + 512, 9);
	fx_store_u64(e.t, a + 5 * PG + 512, 10);
	assert_int_equal(fx_load_u64(e.t, a + PG + 512), 9);
	assert_int_equal(fx_load_u64(e.t, a + 5 * PG + 512), 10);
	/* Remapping the hole with the same prot merges everything again. */
	map_ok(&e, a + 2 * PG, 2 * PG, RW, PRIV | FIXED);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	assert_int_equal(fx_load_u64(e.t, a + 2 * PG + 24), 0);
	assert_int_equal(fx_load_u64(e.t, a + 4 * PG + 24), tag(a + 4 * PG));
	fx_env_done(&e);
}

/* Splitting a shared mapping keeps each piece on the right shmem offsets. */
static void test_munmap_split_shared(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x2000000);
	size_t frames;

	(void)state;
	fx_env_new(&e, NULL, 256);
	frames = fx_nr_free(e.w);
	map_ok(&e, a, 6 * PG, RW, SHRD | FIXED);
	for (int i = 0; i < 6; i++)
		fx_store_u64(e.t, a + i * PG, tag(a + i * PG));
	assert_int_equal(gup_munmap(e.t, a + 2 * PG, PG), 0);
	assert_int_equal(fx_nr_vmas(e.t), 2);
	/* Zap the PTEs of both sides: the data must come back from the object. */
	assert_int_equal(gup_madvise(e.t, a, 2 * PG, GUP_MADV_DONTNEED), 0);
	assert_int_equal(gup_madvise(e.t, a + 3 * PG, 3 * PG, GUP_MADV_DONTNEED), 0);
	assert_int_equal(fx_rss(e.t), 0);
	for (int i = 0; i < 6; i++)
		if (i != 2)
			assert_int_equal(fx_load_u64(e.t, a + i * PG), tag(a + i * PG));
	assert_int_equal(fx_rss(e.t), 5);
	/* The object still holds all six pages while any piece maps it. */
	assert_int_equal(fx_nr_free(e.w), frames - 6);
	assert_int_equal(gup_munmap(e.t, a, 6 * PG), 0);
	assert_int_equal(fx_nr_free(e.w), frames);
	fx_env_done(&e);
}

/* ---- merging and mprotect ----------------------------------------------- */

static void test_merge_and_mprotect_split(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x3000000);

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 2 * PG, RW, PRIV | FIXED);
	map_ok(&e, a + 2 * PG, 2 * PG, RW, PRIV | FIXED);
	map_ok(&e, a - 2 * PG, 2 * PG, RW, PRIV | FIXED);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	for (int i = -2; i < 4; i++)
		fx_store_u64(e.t, a + i * PG, tag(a + i * PG));

	/* Top-down placement packs mappings together: they merge too. */
	{
		uint64_t x = map_ok(&e, 0, PG, RW, PRIV);
		uint64_t y = map_ok(&e, 0, PG, RW, PRIV);

		assert_true(x == y + PG || y == x + PG);
		assert_int_equal(fx_nr_vmas(e.t), 2);
		assert_int_equal(gup_munmap(e.t, x < y ? x : y, 2 * PG), 0);
	}

	assert_int_equal(gup_mprotect(e.t, a, 2 * PG, GUP_PROT_READ), 0);
	assert_int_equal(fx_nr_vmas(e.t), 3);
	for (int i = -2; i < 4; i++)
		assert_int_equal(fx_load_u64(e.t, a + i * PG), tag(a + i * PG));
	assert_int_equal(gup_mprotect(e.t, a, 2 * PG, RW), 0);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	/* Splitting at one edge only. */
	assert_int_equal(gup_mprotect(e.t, a - 2 * PG, PG, GUP_PROT_READ), 0);
	assert_int_equal(fx_nr_vmas(e.t), 2);
	assert_int_equal(gup_mprotect(e.t, a + 3 * PG, PG, GUP_PROT_READ), 0);
	assert_int_equal(fx_nr_vmas(e.t), 3);
	/* Over everything: one VMA again. */
	assert_int_equal(gup_mprotect(e.t, a - 2 * PG, 6 * PG, RW), 0);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	for (int i = -2; i < 4; i++) {
		fx_store_u64(e.t, a + i * PG + 8, tag(a + i * PG) + 1);
		assert_int_equal(fx_load_u64(e.t, a + i * PG), tag(a + i * PG));
	}
	/* Shared and private never merge. */
	map_ok(&e, a + 4 * PG, PG, RW, SHRD | FIXED);
	assert_int_equal(fx_nr_vmas(e.t), 2);
	fx_env_done(&e);
}

static void test_mprotect_errors(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x4000000);
	uint64_t v = 7;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 2 * PG, RW, PRIV | FIXED);
	map_ok(&e, a + 3 * PG, 2 * PG, RW, PRIV | FIXED);	/* hole at a+2PG */
	fx_store_u64(e.t, a, 1);
	fx_store_u64(e.t, a + 4 * PG, 2);
	assert_int_equal(fx_nr_vmas(e.t), 2);

	assert_int_equal(gup_mprotect(e.t, a + 1, PG, GUP_PROT_READ), -EINVAL);
	assert_int_equal(gup_mprotect(e.t, a, PG, 0x10), -EINVAL);
	assert_int_equal(gup_mprotect(e.t, a, PG, -1), -EINVAL);
	assert_int_equal(gup_mprotect(e.t, GUP_TASK_SIZE - PG, 2 * PG, GUP_PROT_READ), -EINVAL);
	assert_int_equal(gup_mprotect(NULL, a, PG, GUP_PROT_READ), -EINVAL);
	/* The range has a hole: -ENOMEM and nothing changed (no split, no prot). */
	assert_int_equal(gup_mprotect(e.t, a, 5 * PG, GUP_PROT_READ), -ENOMEM);
	assert_int_equal(gup_mprotect(e.t, a + PG, 2 * PG, GUP_PROT_NONE), -ENOMEM);
	assert_int_equal(gup_mprotect(e.t, a + 2 * PG, 2 * PG, GUP_PROT_READ), -ENOMEM);
	assert_int_equal(gup_mprotect(e.t, a + 16 * PG, PG, GUP_PROT_READ), -ENOMEM);
	assert_int_equal(fx_nr_vmas(e.t), 2);
	assert_int_equal(gup_store(e.t, a + PG, &v, sizeof(v)), 0);
	assert_int_equal(gup_store(e.t, a + 3 * PG, &v, sizeof(v)), 0);
	assert_int_equal(fx_load_u64(e.t, a), 1);
	/* Length 0 is a no-op success. */
	assert_int_equal(gup_mprotect(e.t, a, 0, GUP_PROT_NONE), 0);
	assert_int_equal(fx_load_u64(e.t, a), 1);
	fx_env_done(&e);
}

static void test_mprotect_none_and_back(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x5000000);
	uint64_t v, segv0;
	size_t frames;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 4 * PG, RW, PRIV | FIXED);
	for (int i = 0; i < 3; i++)
		fx_store_u64(e.t, a + i * PG, tag(a + i * PG));
	assert_int_equal(fx_load_u64(e.t, a + 3 * PG), 0);	/* zero page */
	frames = fx_nr_free(e.w);
	assert_int_equal(fx_rss(e.t), 3);

	assert_int_equal(gup_mprotect(e.t, a, 4 * PG, GUP_PROT_NONE), 0);
	segv0 = fx_stat(e.w, GUP_STAT_FAULT_SIGSEGV);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(gup_load(e.t, a + i * PG, &v, sizeof(v)), -EFAULT);
		assert_int_equal(gup_store(e.t, a + i * PG, &v, sizeof(v)), -EFAULT);
	}
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT_SIGSEGV) - segv0, 8);
	/* The frames stay mapped (for the mm) and allocated. */
	assert_int_equal(fx_rss(e.t), 3);
	assert_int_equal(fx_nr_free(e.w), frames);
	assert_true(gup_mm_pfn(e.mm, a) > 0);
	assert_int_equal(gup_mm_pfn(e.mm, a + 3 * PG), 0);
	fx_check(e.w);

	assert_int_equal(gup_mprotect(e.t, a, 4 * PG, RW), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx_load_u64(e.t, a + i * PG), tag(a + i * PG));
	assert_int_equal(fx_load_u64(e.t, a + 3 * PG), 0);
	for (int i = 0; i < 4; i++)
		fx_store_u64(e.t, a + i * PG + 8, i);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fx_load_u64(e.t, a + i * PG + 8), (uint64_t)i);
	assert_int_equal(fx_rss(e.t), 4);
	assert_int_equal(fx_nr_free(e.w), frames - 1);

	/* PROT_NONE then READ: loads fine, stores fault. */
	assert_int_equal(gup_mprotect(e.t, a, 4 * PG, GUP_PROT_NONE), 0);
	assert_int_equal(gup_mprotect(e.t, a, 4 * PG, GUP_PROT_READ), 0);
	assert_int_equal(fx_load_u64(e.t, a), tag(a));
	assert_int_equal(gup_store(e.t, a, &v, sizeof(v)), -EFAULT);
	fx_env_done(&e);
}

static void mprotect_readonly(const char *policy)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x6000000);
	uint64_t v = 0, segv0, wp0, s[GUP_NR_STATS];
	bool linux6 = fx_policy_is_new(policy);

	fx_env_new(&e, policy, 256);
	map_ok(&e, a, 3 * PG, RW, PRIV | FIXED);
	for (int i = 0; i < 3; i++)
		fx_store_u64(e.t, a + i * PG, tag(a + i * PG));	/* TLB entries: writable */
	assert_int_equal(gup_mprotect(e.t, a, 3 * PG, GUP_PROT_READ), 0);
	segv0 = fx_stat(e.w, GUP_STAT_FAULT_SIGSEGV);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(gup_store(e.t, a + i * PG, &v, sizeof(v)), -EFAULT);
		assert_int_equal(fx_load_u64(e.t, a + i * PG), tag(a + i * PG));
	}
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT_SIGSEGV) - segv0, 3);
	/* Stores that fault change nothing: bytes before the fault only. */
	{
		uint8_t buf[16];

		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(gup_store(e.t, a + PG - 8, buf, sizeof(buf)), -EFAULT);
	}
	assert_int_equal(fx_load_u64(e.t, a + PG - 8), 0);
	fx_check(e.w);

	/* Back to RW: same frames, writable again. */
	{
		int64_t pfn = gup_mm_pfn(e.mm, a);

		wp0 = fx_stat(e.w, GUP_STAT_FAULT_WP);
		assert_int_equal(gup_mprotect(e.t, a, 3 * PG, RW), 0);
		for (int i = 0; i < 3; i++)
			fx_store_u64(e.t, a + i * PG + 8, 1);
		assert_int_equal(gup_mm_pfn(e.mm, a), pfn);
		fx_stats(e.w, s);
		if (linux6) {
			/* Exclusive anon pages were made writable by mprotect itself. */
			assert_int_equal(s[GUP_STAT_FAULT_WP] - wp0, 0);
		} else {
			/* 2.6.29: each first store takes a WP fault and reuses the page. */
			assert_int_equal(s[GUP_STAT_FAULT_WP] - wp0, 3);
			assert_int_equal(s[GUP_STAT_COW_REUSE], 3);
		}
		assert_int_equal(s[GUP_STAT_COW_COPY], 0);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx_load_u64(e.t, a + i * PG), tag(a + i * PG));
	fx_env_done(&e);
}

static void test_mprotect_readonly(void **state)
{
	(void)state;
	mprotect_readonly(FX_POLICY_NEW);
}

static void test_mprotect_readonly_2629(void **state)
{
	(void)state;
	mprotect_readonly(FX_POLICY_OLD);
}

/* Shared mapping through PROT_NONE and back: data in the object survives. */
static void test_mprotect_shared(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x6800000);
	uint64_t v;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 3 * PG, RW, SHRD | FIXED);
	for (int i = 0; i < 3; i++)
		fx_store_u64(e.t, a + i * PG, tag(a + i * PG));
	assert_int_equal(gup_mprotect(e.t, a + PG, PG, GUP_PROT_NONE), 0);
	assert_int_equal(fx_nr_vmas(e.t), 3);
	assert_int_equal(gup_load(e.t, a + PG, &v, sizeof(v)), -EFAULT);
	assert_int_equal(fx_load_u64(e.t, a + 2 * PG), tag(a + 2 * PG));
	assert_int_equal(gup_mprotect(e.t, a + PG, PG, RW), 0);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	assert_int_equal(fx_load_u64(e.t, a + PG), tag(a + PG));
	fx_store_u64(e.t, a + PG + 8, 3);
	assert_int_equal(fx_load_u64(e.t, a + PG + 8), 3);
	fx_env_done(&e);
}

/* ---- madvise ------------------------------------------------------------- */

static void test_madvise_errors(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x7000000);

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 4 * PG, RW, PRIV | FIXED);
	fx_store_u64(e.t, a, 1);
	assert_int_equal(gup_madvise(e.t, a, PG, 12345), -EINVAL);
	assert_int_equal(gup_madvise(e.t, a, PG, -1), -EINVAL);
	assert_int_equal(gup_madvise(e.t, a, PG, 0), -EINVAL);
	assert_int_equal(gup_madvise(e.t, a, 0, 12345), -EINVAL);
	assert_int_equal(gup_madvise(e.t, a + 8, PG, GUP_MADV_DONTNEED), -EINVAL);
	assert_int_equal(gup_madvise(e.t, GUP_TASK_SIZE - PG, 2 * PG, GUP_MADV_DONTNEED),
			 -EINVAL);
	assert_int_equal(gup_madvise(NULL, a, PG, GUP_MADV_DONTNEED), -EINVAL);
	/* Length 0 with valid advice: nothing to do. */
	assert_int_equal(gup_madvise(e.t, a, 0, GUP_MADV_DONTNEED), 0);
	assert_int_equal(fx_load_u64(e.t, a), 1);
	/* The flag advices work on private anon and are undone by their pairs. */
	assert_int_equal(gup_madvise(e.t, a + PG, PG, GUP_MADV_WIPEONFORK), 0);
	assert_int_equal(fx_nr_vmas(e.t), 3);
	assert_int_equal(gup_madvise(e.t, a + PG, PG, GUP_MADV_KEEPONFORK), 0);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	assert_int_equal(gup_madvise(e.t, a, 2 * PG, GUP_MADV_DONTFORK), 0);
	assert_int_equal(fx_nr_vmas(e.t), 2);
	assert_int_equal(gup_madvise(e.t, a, 2 * PG, GUP_MADV_DOFORK), 0);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	/* ... and report holes. */
	assert_int_equal(gup_madvise(e.t, a, 8 * PG, GUP_MADV_DONTFORK), -ENOMEM);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	assert_int_equal(fx_load_u64(e.t, a), 1);
	fx_env_done(&e);
}

static void test_madvise_wipeonfork_shared(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x7800000);

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 2 * PG, RW, SHRD | FIXED);
	map_ok(&e, a + 2 * PG, 2 * PG, RW, PRIV | FIXED);
	assert_int_equal(fx_nr_vmas(e.t), 2);
	assert_int_equal(gup_madvise(e.t, a, 2 * PG, GUP_MADV_WIPEONFORK), -EINVAL);
	assert_int_equal(gup_madvise(e.t, a + PG, 2 * PG, GUP_MADV_WIPEONFORK), -EINVAL);
	assert_int_equal(fx_nr_vmas(e.t), 2);	/* nothing split */
	assert_int_equal(gup_madvise(e.t, a + 2 * PG, 2 * PG, GUP_MADV_WIPEONFORK), 0);
	assert_int_equal(gup_madvise(e.t, a, 2 * PG, GUP_MADV_KEEPONFORK), 0);
	assert_int_equal(fx_nr_vmas(e.t), 2);
	fx_env_done(&e);
}

static void test_madvise_dontneed_private(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x8000000);
	size_t frames;
	uint64_t zap0;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 8 * PG, RW, PRIV | FIXED);
	for (int i = 0; i < 8; i++)
		fx_store_u64(e.t, a + i * PG + 40, tag(a + i * PG));
	assert_int_equal(fx_rss(e.t), 8);
	frames = fx_nr_free(e.w);
	zap0 = fx_stat(e.w, GUP_STAT_ZAP_PTE);
	/* Pages 2..5: gone; the task's cached translations must not survive. */
	assert_int_equal(gup_madvise(e.t, a + 2 * PG, 4 * PG, GUP_MADV_DONTNEED), 0);
	assert_int_equal(fx_stat(e.w, GUP_STAT_ZAP_PTE) - zap0, 4);
	assert_int_equal(fx_rss(e.t), 4);
	assert_int_equal(fx_nr_free(e.w), frames + 4);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	for (int i = 0; i < 8; i++)
		assert_int_equal(fx_load_u64(e.t, a + i * PG + 40),
				 (i >= 2 && i < 6) ? 0 : tag(a + i * PG));
	/* Reads of the dropped pages map the zero page, not frames. */
	assert_int_equal(fx_rss(e.t), 4);
	assert_int_equal(gup_mm_pfn(e.mm, a + 3 * PG), 0);
	/* Writes allocate new zeroed frames. */
	fx_store_u64(e.t, a + 3 * PG, 11);
	assert_int_equal(fx_load_u64(e.t, a + 3 * PG + 40), 0);
	assert_int_equal(fx_rss(e.t), 5);

	/* Over a hole: -ENOMEM, but what is mapped is still dropped. */
	assert_int_equal(gup_madvise(e.t, a + 6 * PG, 4 * PG, GUP_MADV_DONTNEED), -ENOMEM);
	assert_int_equal(fx_load_u64(e.t, a + 6 * PG + 40), 0);
	assert_int_equal(fx_load_u64(e.t, a + 7 * PG + 40), 0);
	assert_int_equal(gup_madvise(e.t, a + 16 * PG, PG, GUP_MADV_DONTNEED), -ENOMEM);
	assert_int_equal(fx_load_u64(e.t, a + 40), tag(a));
	fx_env_done(&e);
}

static void test_madvise_dontneed_shared(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0x9000000);
	size_t frames;
	uint64_t sh0;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 4 * PG, RW, SHRD | FIXED);
	for (int i = 0; i < 4; i++)
		fx_store_u64(e.t, a + i * PG, tag(a + i * PG));
	assert_int_equal(fx_rss(e.t), 4);
	frames = fx_nr_free(e.w);
	assert_int_equal(gup_madvise(e.t, a, 4 * PG, GUP_MADV_DONTNEED), 0);
	/* The PTEs went, the pages did not: they live in the shmem object. */
	assert_int_equal(fx_rss(e.t), 0);
	assert_int_equal(fx_nr_free(e.w), frames);
	assert_int_equal(gup_mm_pfn(e.mm, a), -EFAULT);
	sh0 = fx_stat(e.w, GUP_STAT_FAULT_SHARED);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fx_load_u64(e.t, a + i * PG), tag(a + i * PG));
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT_SHARED) - sh0, 4);
	assert_int_equal(fx_rss(e.t), 4);
	assert_int_equal(fx_nr_free(e.w), frames);
	fx_env_done(&e);
}

static void test_madvise_populate(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0xa000000);
	uint64_t s0[GUP_NR_STATS], s1[GUP_NR_STATS];
	size_t frames;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 8 * PG, RW, PRIV | FIXED);
	frames = fx_nr_free(e.w);

	fx_stats(e.w, s0);
	assert_int_equal(gup_madvise(e.t, a, 4 * PG, GUP_MADV_POPULATE_READ), 0);
	fx_stats(e.w, s1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(gup_mm_pfn(e.mm, a + i * PG), 0);
	assert_int_equal(gup_mm_pfn(e.mm, a + 4 * PG), -EFAULT);
	assert_int_equal(s1[GUP_STAT_FAULT_ANON_READ] - s0[GUP_STAT_FAULT_ANON_READ], 4);
	assert_int_equal(fx_rss(e.t), 0);
	assert_int_equal(fx_nr_free(e.w), frames);
	/* Already populated: nothing more to do. */
	assert_int_equal(gup_madvise(e.t, a, 4 * PG, GUP_MADV_POPULATE_READ), 0);
	fx_stats(e.w, s0);
	assert_int_equal(s0[GUP_STAT_FAULT], s1[GUP_STAT_FAULT]);

	/* POPULATE_WRITE over zero-page and empty PTEs alike: frames, no store. */
	assert_int_equal(gup_madvise(e.t, a + 2 * PG, 6 * PG, GUP_MADV_POPULATE_WRITE), 0);
	fx_stats(e.w, s1);
	assert_int_equal(fx_rss(e.t), 6);
	assert_int_equal(fx_nr_free(e.w), frames - 6);
	assert_int_equal(s1[GUP_STAT_FAULT_ANON_WRITE] - s0[GUP_STAT_FAULT_ANON_WRITE], 4);
	assert_int_equal(s1[GUP_STAT_COW_ZERO] - s0[GUP_STAT_COW_ZERO], 2);
	for (int i = 2; i < 8; i++) {
		int64_t pfn = gup_mm_pfn(e.mm, a + i * PG);

		assert_true(pfn > 0 && pfn < 256);
	}
	assert_int_equal(gup_mm_pfn(e.mm, a), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(fx_load_u64(e.t, a + i * PG + 128), 0);
	/* Stores to populated pages take no fault. */
	fx_stats(e.w, s0);
	for (int i = 2; i < 8; i++)
		fx_store_u64(e.t, a + i * PG, 1);
	fx_stats(e.w, s1);
	assert_int_equal(s1[GUP_STAT_FAULT], s0[GUP_STAT_FAULT]);

	/* Holes and missing permission. */
	assert_int_equal(gup_madvise(e.t, a + 6 * PG, 4 * PG, GUP_MADV_POPULATE_READ), -ENOMEM);
	assert_int_equal(gup_madvise(e.t, a + 16 * PG, PG, GUP_MADV_POPULATE_WRITE), -ENOMEM);
	map_ok(&e, a + 16 * PG, 2 * PG, GUP_PROT_READ, PRIV | FIXED);
	assert_int_equal(gup_madvise(e.t, a + 16 * PG, 2 * PG, GUP_MADV_POPULATE_WRITE),
			 -EINVAL);
	assert_int_equal(gup_mm_pfn(e.mm, a + 16 * PG), -EFAULT);
	assert_int_equal(gup_madvise(e.t, a + 16 * PG, 2 * PG, GUP_MADV_POPULATE_READ), 0);
	assert_int_equal(gup_mm_pfn(e.mm, a + 17 * PG), 0);
	map_ok(&e, a + 20 * PG, PG, GUP_PROT_NONE, PRIV | FIXED);
	assert_int_equal(gup_madvise(e.t, a + 20 * PG, PG, GUP_MADV_POPULATE_READ), -EINVAL);
	assert_int_equal(gup_madvise(e.t, a + 20 * PG, PG, GUP_MADV_POPULATE_WRITE), -EINVAL);
	assert_int_equal(gup_madvise(e.t, a + 21 * PG, PG, GUP_MADV_POPULATE_READ), -ENOMEM);
	fx_env_done(&e);
}

static void test_madvise_populate_shared(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0xb000000);
	size_t frames;

	(void)state;
	fx_env_new(&e, NULL, 256);
	frames = fx_nr_free(e.w);
	map_ok(&e, a, 4 * PG, RW, SHRD | FIXED);
	assert_int_equal(gup_madvise(e.t, a, 2 * PG, GUP_MADV_POPULATE_READ), 0);
	assert_int_equal(gup_madvise(e.t, a + 2 * PG, 2 * PG, GUP_MADV_POPULATE_WRITE), 0);
	assert_int_equal(fx_rss(e.t), 4);
	assert_int_equal(fx_nr_free(e.w), frames - 4);
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT_SHARED), 4);
	for (int i = 0; i < 4; i++) {
		assert_true(gup_mm_pfn(e.mm, a + i * PG) > 0);
		assert_int_equal(fx_load_u64(e.t, a + i * PG), 0);
	}
	fx_env_done(&e);
}

/* ---- loads and stores -------------------------------------------------------- */

static void test_uaccess_cross_page(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0xc000000);
	uint8_t buf[3 * 4096 + 64], out[sizeof(buf)];
	uint64_t w0;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 6 * PG, RW, PRIV | FIXED);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	w0 = fx_stat(e.w, GUP_STAT_FAULT_ANON_WRITE);
	/* 16 bytes over the first page boundary: two pages faulted. */
	assert_int_equal(gup_store(e.t, a + PG - 8, buf, 16), 0);
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT_ANON_WRITE) - w0, 2);
	memset(out, 0, sizeof(out));
	assert_int_equal(gup_load(e.t, a + PG - 8, out, 16), 0);
	assert_memory_equal(out, buf, 16);
	assert_int_equal(fx_load_u64(e.t, a + PG - 16), 0);
	assert_int_equal(fx_load_u64(e.t, a + PG + 8), 0);

	/* A long unaligned store over four pages. */
	assert_int_equal(gup_store(e.t, a + 2 * PG - 32, buf, sizeof(buf)), 0);
	memset(out, 0, sizeof(out));
	assert_int_equal(gup_load(e.t, a + 2 * PG - 32, out, sizeof(out)), 0);
	assert_memory_equal(out, buf, sizeof(buf));
	/* [a+2PG-32, a+5PG+32): pages 1..5, of which 2..5 are new. */
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT_ANON_WRITE) - w0, 6);
	assert_int_equal(fx_rss(e.t), 6);

	/* Running off the end of the mapping: bytes before the bad page land. */
	memset(out, 0, sizeof(out));
	assert_int_equal(gup_store(e.t, a + 6 * PG - 8, buf, 16), -EFAULT);
	assert_int_equal(gup_load(e.t, a + 6 * PG - 8, out, 8), 0);
	assert_memory_equal(out, buf, 8);
	assert_int_equal(gup_load(e.t, a + 6 * PG - 8, out, 16), -EFAULT);
	/* Zero-length accesses succeed anywhere. */
	assert_int_equal(gup_load(e.t, 0, out, 0), 0);
	assert_int_equal(gup_store(e.t, a + 100 * PG, buf, 0), 0);
	fx_env_done(&e);
}

static void test_uaccess_errors(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0xd000000);
	uint64_t v = 0;

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, PG, RW, PRIV | FIXED);
	assert_int_equal(gup_store(e.t, a, NULL, 8), -EINVAL);
	assert_int_equal(gup_load(e.t, a, NULL, 8), -EINVAL);
	assert_int_equal(gup_store(NULL, a, &v, 8), -EINVAL);
	assert_int_equal(gup_load(NULL, a, &v, 8), -EINVAL);
	assert_int_equal(gup_fill(NULL, a, 0, 8), -EINVAL);
	assert_int_equal(gup_store(e.t, UINT64_MAX - 3, &v, 8), -EFAULT);
	assert_int_equal(gup_load(e.t, UINT64_MAX - 3, &v, 8), -EFAULT);
	assert_int_equal(gup_fill(e.t, UINT64_MAX - 3, 1, 8), -EFAULT);
	assert_int_equal(gup_store(e.t, GUP_TASK_SIZE - 4, &v, 8), -EFAULT);
	assert_int_equal(gup_load(e.t, GUP_TASK_SIZE, &v, 1), -EFAULT);
	assert_int_equal(gup_load(e.t, a, &v, SIZE_MAX), -EFAULT);
	/* Unmapped: SIGSEGV. */
	assert_int_equal(gup_load(e.t, a + PG, &v, 1), -EFAULT);
	assert_int_equal(gup_load(e.t, 0, &v, 1), -EFAULT);
	assert_int_equal(fx_stat(e.w, GUP_STAT_FAULT_SIGSEGV), 2);
	/* None of that allocated anything. */
	assert_int_equal(fx_rss(e.t), 0);
	assert_int_equal(fx_stat(e.w, GUP_STAT_FRAME_ALLOC), 0);
	fx_env_done(&e);
}

static void test_fill(void **state)
{
	struct fx_env e;
	const uint64_t a = UINT64_C(0xe000000);
	uint8_t out[3 * 4096];

	(void)state;
	fx_env_new(&e, NULL, 256);
	map_ok(&e, a, 4 * PG, RW, PRIV | FIXED);
	assert_int_equal(gup_fill(e.t, a + 100, 0xab, 2 * PG), 0);
	assert_int_equal(gup_load(e.t, a, out, sizeof(out)), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], (i >= 100 && i < 100 + 2 * PG) ? 0xab : 0);
	assert_int_equal(fx_rss(e.t), 3);
	/* int c is truncated to a byte, as memset does. */
	assert_int_equal(gup_fill(e.t, a, 0x1cd, 8), 0);
	assert_int_equal(fx_load_u64(e.t, a), UINT64_C(0xcdcdcdcdcdcdcdcd));
	assert_int_equal(gup_fill(e.t, a, 0, 0), 0);
	assert_int_equal(gup_fill(e.t, a + 4 * PG - 4, 1, 8), -EFAULT);
	assert_int_equal(fx_load_u64(e.t, a + 4 * PG - 8), UINT64_C(0x0101010100000000));
	/* Filling a read-only mapping faults without touching it. */
	map_ok(&e, a + 8 * PG, PG, GUP_PROT_READ, PRIV | FIXED);
	assert_int_equal(gup_fill(e.t, a + 8 * PG, 1, 8), -EFAULT);
	assert_int_equal(fx_load_u64(e.t, a + 8 * PG), 0);
	fx_env_done(&e);
}

/* A second task of the mm sees munmap and MAP_FIXED at once (its TLB is shot down). */
static void test_two_tasks_see_changes(void **state)
{
	struct fx_env e;
	struct gup_task *t2;
	const uint64_t a = UINT64_C(0xf000000);
	uint64_t v = 0, shoot0;

	(void)state;
	fx_env_new(&e, NULL, 256);
	assert_int_equal(gup_task_create(e.mm, &t2), 0);
	map_ok(&e, a, 2 * PG, RW, PRIV | FIXED);
	fx_store_u64(e.t, a, 21);
	assert_int_equal(gup_load(t2, a, &v, sizeof(v)), 0);	/* t2 caches it */
	assert_int_equal(v, 21);
	v = 22;
	assert_int_equal(gup_store(t2, a + 8, &v, sizeof(v)), 0);
	assert_int_equal(fx_load_u64(e.t, a + 8), 22);

	shoot0 = fx_stat(e.w, GUP_STAT_TLB_SHOOTDOWN);
	map_ok(&e, a, PG, RW, PRIV | FIXED);
	assert_true(fx_stat(e.w, GUP_STAT_TLB_SHOOTDOWN) - shoot0 >= 2);
	assert_int_equal(gup_load(t2, a, &v, sizeof(v)), 0);
	assert_int_equal(v, 0);

	fx_store_u64(e.t, a + PG, 23);
	assert_int_equal(gup_load(t2, a + PG, &v, sizeof(v)), 0);
	assert_int_equal(v, 23);
	assert_int_equal(gup_munmap(e.t, a + PG, PG), 0);
	assert_int_equal(gup_load(t2, a + PG, &v, sizeof(v)), -EFAULT);
	assert_int_equal(gup_store(t2, a + PG, &v, sizeof(v)), -EFAULT);

	/* mprotect read-only reaches t2's cached writable entry. */
	v = 24;
	assert_int_equal(gup_store(t2, a, &v, sizeof(v)), 0);
	assert_int_equal(gup_mprotect(e.t, a, PG, GUP_PROT_READ), 0);
	assert_int_equal(gup_store(t2, a, &v, sizeof(v)), -EFAULT);
	assert_int_equal(gup_load(t2, a, &v, sizeof(v)), 0);
	assert_int_equal(v, 24);
	gup_task_exit(t2);
	fx_env_done(&e);
}

/* ---- a randomised run against a reference model ------------------------------ */

/*
 * A window of W pages (straddling a 2 MiB boundary) is driven by random mmap,
 * munmap, mprotect, madvise, load and store calls from two tasks of the mm; a
 * model predicts every return value, every loaded value, the PTE state of each
 * page (none / zero page / frame), the number of VMAs (maximal mergeable runs),
 * RSS and the number of free frames.  gup_world_check runs after every step.
 */
enum { W = 48, NSLOT = 3, MAXOBJ = 1024, MAXLEN = 8 };
static const uint64_t slot_off[NSLOT] = { 0, 1024, 4088 };
#define WBASE (UINT64_C(0x10200000) - 24 * PG)

enum pstate { P_NONE, P_ZERO, P_FRAME };

struct mpage {
	bool mapped;
	int prot;
	unsigned obj;		/* 0: private; else the shmem object */
	unsigned pgoff;		/* in the object */
	unsigned madv;		/* 1: DONTFORK, 2: WIPEONFORK */
	enum pstate pte;
	uint64_t data[NSLOT];	/* private pages only */
};

struct mobj {
	bool faulted[MAXLEN];
	uint64_t data[MAXLEN][NSLOT];
};

struct model {
	struct mpage pg[W];
	struct mobj *obj;	/* [MAXOBJ] */
	unsigned nobj;
	uint64_t rng;
};

static uint64_t mrand(struct model *m, uint64_t n)
{
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return (m->rng * UINT64_C(0x2545F4914F6CDD1D)) % n;
}

static uint64_t *mdata(struct model *m, unsigned i)
{
	struct mpage *p = &m->pg[i];

	return p->obj ? m->obj[p->obj].data[p->pgoff] : p->data;
}

static bool m_can_read(const struct mpage *p) { return p->mapped && p->prot != 0; }
static bool m_can_write(const struct mpage *p)
{
	return p->mapped && (p->prot & GUP_PROT_WRITE);
}

/* The page is touched by a fault (user access or populate). */
static void m_fault(struct model *m, unsigned i, bool write)
{
	struct mpage *p = &m->pg[i];

	if (p->obj) {
		m->obj[p->obj].faulted[p->pgoff] = true;
		p->pte = P_FRAME;
	} else if (write) {
		p->pte = P_FRAME;
	} else if (p->pte == P_NONE) {
		p->pte = P_ZERO;
	}
}

static void m_unmap(struct model *m, unsigned i)
{
	struct mpage *p = &m->pg[i];

	memset(p, 0, sizeof(*p));
}

static size_t m_vmas(const struct model *m)
{
	size_t n = 0;

	for (unsigned i = 0; i < W; i++) {
		const struct mpage *p = &m->pg[i], *q = i ? &m->pg[i - 1] : NULL;

		if (!p->mapped)
			continue;
		if (q && q->mapped && q->prot == p->prot && q->obj == p->obj &&
		    q->madv == p->madv && (!p->obj || q->pgoff + 1 == p->pgoff))
			continue;
		n++;
	}
	return n;
}

static size_t m_frames_used(const struct model *m)
{
	size_t n = 0;
	bool *alive = calloc(m->nobj + 1, sizeof(bool));

	assert_non_null(alive);
	for (unsigned i = 0; i < W; i++) {
		if (m->pg[i].mapped && !m->pg[i].obj && m->pg[i].pte == P_FRAME)
			n++;
		if (m->pg[i].mapped && m->pg[i].obj)
			alive[m->pg[i].obj] = true;
	}
	for (unsigned o = 1; o <= m->nobj; o++)
		for (unsigned k = 0; alive[o] && k < MAXLEN; k++)
			n += m->obj[o].faulted[k];
	free(alive);
	return n;
}

static size_t m_rss(const struct model *m)
{
	size_t n = 0;

	for (unsigned i = 0; i < W; i++)
		n += m->pg[i].mapped && m->pg[i].pte == P_FRAME;
	return n;
}

static bool m_any_mapped(const struct model *m, unsigned i, unsigned n)
{
	for (unsigned k = i; k < i + n; k++)
		if (m->pg[k].mapped)
			return true;
	return false;
}

static bool m_all_mapped(const struct model *m, unsigned i, unsigned n)
{
	for (unsigned k = i; k < i + n; k++)
		if (!m->pg[k].mapped)
			return false;
	return true;
}

static int random_prot(struct model *m)
{
	static const int prots[] = { GUP_PROT_NONE, GUP_PROT_READ, RW, RW, RW,
				     GUP_PROT_WRITE, GUP_PROT_EXEC | GUP_PROT_READ };

	return prots[mrand(m, sizeof(prots) / sizeof(prots[0]))];
}

static void model_check(struct fx_env *e, struct model *m, size_t nr_frames, int step)
{
	struct gup_mm_info mi = fx_mm_info(e->mm);

	if (mi.nr_vmas != m_vmas(m) || mi.rss != m_rss(m) ||
	    fx_nr_free(e->w) != nr_frames - 1 - m_frames_used(m))
		print_error("step %d: vmas %zu/%zu rss %zu/%zu free %zu/%zu\n", step,
			    mi.nr_vmas, m_vmas(m), mi.rss, m_rss(m), fx_nr_free(e->w),
			    nr_frames - 1 - m_frames_used(m));
	assert_int_equal(mi.nr_vmas, m_vmas(m));
	assert_int_equal(mi.rss, m_rss(m));
	assert_int_equal(fx_nr_free(e->w), nr_frames - 1 - m_frames_used(m));
	for (unsigned i = 0; i < W; i++) {
		int64_t pfn = gup_mm_pfn(e->mm, WBASE + i * PG);
		enum pstate st = m->pg[i].mapped ? m->pg[i].pte : P_NONE;

		if (st == P_NONE)
			assert_int_equal(pfn, -EFAULT);
		else if (st == P_ZERO)
			assert_int_equal(pfn, 0);
		else
			assert_true(pfn > 0 && (size_t)pfn < nr_frames);
	}
	fx_check(e->w);
}

static void random_run(const char *policy, uint64_t seed, int steps)
{
	const size_t nr_frames = 2048;
	struct fx_env e;
	struct gup_task *t2;
	struct model *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->obj = calloc(MAXOBJ, sizeof(*m->obj));
	assert_non_null(m->obj);
	m->rng = seed;
	fx_env_new(&e, policy, nr_frames);
	assert_int_equal(gup_task_create(e.mm, &t2), 0);

	for (int step = 0; step < steps; step++) {
		unsigned i = (unsigned)mrand(m, W);
		unsigned n = 1 + (unsigned)mrand(m, MAXLEN);
		uint64_t addr = WBASE + i * PG, len;
		struct gup_task *tt = mrand(m, 3) == 0 ? t2 : e.t;
		unsigned op = (unsigned)mrand(m, 100);
		int ret, want;

		if (i + n > W)
			n = W - i;
		len = n * PG;

		if (op < 14) {				/* mmap FIXED / NOREPLACE */
			bool shared = mrand(m, 3) == 0 && m->nobj + 1 < MAXOBJ;
			bool noreplace = mrand(m, 4) == 0;
			bool populate = mrand(m, 4) == 0;
			int prot = random_prot(m);
			int flags = (shared ? SHRD : PRIV) | (populate ? GUP_MAP_POPULATE : 0) |
				    (noreplace ? GUP_MAP_FIXED_NOREPLACE : FIXED);
			uint64_t out = 0;

			want = noreplace && m_any_mapped(m, i, n) ? -EEXIST : 0;
			ret = gup_mmap(tt, addr, len, prot, flags, &out);
			assert_int_equal(ret, want);
			if (ret)
				goto check;
			assert_int_equal(out, addr);
			if (shared)
				m->nobj++;
			for (unsigned k = 0; k < n; k++) {
				struct mpage *p = &m->pg[i + k];

				m_unmap(m, i + k);
				p->mapped = true;
				p->prot = prot;
				p->obj = shared ? m->nobj : 0;
				p->pgoff = k;
				if (shared)
					memset(m->obj[m->nobj].data[k], 0, sizeof(m->obj[0].data[0]));
			}
			if (populate && (prot & RW)) {
				bool wr = !shared && (prot & GUP_PROT_WRITE);

				for (unsigned k = 0; k < n; k++)
					m_fault(m, i + k, wr);
			}
		} else if (op < 24) {			/* munmap */
			assert_int_equal(gup_munmap(tt, addr, len), 0);
			for (unsigned k = 0; k < n; k++)
				m_unmap(m, i + k);
		} else if (op < 36) {			/* mprotect */
			int prot = random_prot(m);

			want = m_all_mapped(m, i, n) ? 0 : -ENOMEM;
			assert_int_equal(gup_mprotect(tt, addr, len, prot), want);
			for (unsigned k = 0; !want && k < n; k++)
				m->pg[i + k].prot = prot;
		} else if (op < 44) {			/* DONTNEED */
			want = m_all_mapped(m, i, n) ? 0 : -ENOMEM;
			assert_int_equal(gup_madvise(tt, addr, len, GUP_MADV_DONTNEED), want);
			for (unsigned k = 0; k < n; k++) {
				struct mpage *p = &m->pg[i + k];

				if (!p->mapped)
					continue;
				p->pte = P_NONE;
				if (!p->obj)
					memset(p->data, 0, sizeof(p->data));
			}
		} else if (op < 52) {			/* POPULATE_READ / WRITE */
			bool wr = mrand(m, 2);

			want = 0;
			for (unsigned k = 0; k < n; k++) {
				struct mpage *p = &m->pg[i + k];

				if (!p->mapped) {
					want = -ENOMEM;
					break;
				}
				if (!(p->prot & (wr ? GUP_PROT_WRITE : GUP_PROT_READ))) {
					want = -EINVAL;
					break;
				}
				m_fault(m, i + k, wr);
			}
			assert_int_equal(gup_madvise(tt, addr, len, wr ? GUP_MADV_POPULATE_WRITE
								 : GUP_MADV_POPULATE_READ),
					 want);
		} else if (op < 58) {			/* the fork flags */
			static const int adv[] = { GUP_MADV_DONTFORK, GUP_MADV_DOFORK,
						   GUP_MADV_WIPEONFORK, GUP_MADV_KEEPONFORK };
			int a = adv[mrand(m, 4)];
			bool shared_in = false;

			for (unsigned k = 0; k < n; k++)
				shared_in |= m->pg[i + k].mapped && m->pg[i + k].obj;
			if (a == GUP_MADV_WIPEONFORK && shared_in)
				want = -EINVAL;
			else
				want = m_all_mapped(m, i, n) ? 0 : -ENOMEM;
			assert_int_equal(gup_madvise(tt, addr, len, a), want);
			for (unsigned k = 0; !want && k < n; k++) {
				unsigned *f = &m->pg[i + k].madv;

				if (a == GUP_MADV_DONTFORK)
					*f |= 1;
				else if (a == GUP_MADV_DOFORK)
					*f &= ~1u;
				else if (a == GUP_MADV_WIPEONFORK)
					*f |= 2;
				else
					*f &= ~2u;
			}
		} else if (op < 78) {			/* store one slot */
			unsigned s = (unsigned)mrand(m, NSLOT);
			uint64_t v = m->rng | 1;
			struct mpage *p = &m->pg[i];

			want = m_can_write(p) ? 0 : -EFAULT;
			assert_int_equal(gup_store(tt, addr + slot_off[s], &v, sizeof(v)), want);
			if (!want) {
				m_fault(m, i, true);
				mdata(m, i)[s] = v;
			}
		} else if (op < 84 && i + 1 < W) {	/* store across a page boundary */
			uint64_t v[2] = { m->rng | 1, (m->rng >> 1) | 2 };
			struct mpage *p = &m->pg[i], *q = &m->pg[i + 1];

			want = m_can_write(p) && m_can_write(q) ? 0 : -EFAULT;
			assert_int_equal(gup_store(tt, addr + PG - 8, v, sizeof(v)), want);
			if (m_can_write(p)) {
				m_fault(m, i, true);
				mdata(m, i)[2] = v[0];
				if (m_can_write(q)) {
					m_fault(m, i + 1, true);
					mdata(m, i + 1)[0] = v[1];
				}
			}
		} else {				/* load one slot */
			unsigned s = (unsigned)mrand(m, NSLOT);
			uint64_t v = 0x5a5a;
			struct mpage *p = &m->pg[i];

			want = m_can_read(p) ? 0 : -EFAULT;
			assert_int_equal(gup_load(tt, addr + slot_off[s], &v, sizeof(v)), want);
			if (!want) {
				m_fault(m, i, false);
				if (v != mdata(m, i)[s])
					print_error("step %d: page %u slot %u: %#llx want %#llx\n",
						    step, i, s, (unsigned long long)v,
						    (unsigned long long)mdata(m, i)[s]);
				assert_int_equal(v, mdata(m, i)[s]);
			}
		}
check:
		model_check(&e, m, nr_frames, step);
	}
	/* Everything readable still holds what the model says. */
	for (unsigned i = 0; i < W; i++)
		for (unsigned s = 0; s < NSLOT; s++) {
			uint64_t v;

			if (!m_can_read(&m->pg[i]))
				continue;
			assert_int_equal(gup_load(e.t, WBASE + i * PG + slot_off[s], &v, sizeof(v)), 0);
			assert_int_equal(v, mdata(m, i)[s]);
		}
	gup_task_exit(t2);
	fx_env_done(&e);
	free(m->obj);
	free(m);
}

static void test_random_linux6(void **state)
{
	(void)state;
	random_run(FX_POLICY_NEW, UINT64_C(0x1234567887654321), 3000);
	random_run(FX_POLICY_NEW, UINT64_C(0xfeedfacecafebeef), 3000);
}

static void test_random_linux2629(void **state)
{
	(void)state;
	random_run(FX_POLICY_OLD, UINT64_C(0x0badc0de0badc0de), 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_placement),
		cmocka_unit_test(test_mmap_fixed),
		cmocka_unit_test(test_mmap_fixed_over_shared),
		cmocka_unit_test(test_mmap_errors),
		cmocka_unit_test(test_map_populate),
		cmocka_unit_test(test_map_populate_oom),
		cmocka_unit_test(test_munmap_errors),
		cmocka_unit_test(test_munmap_split),
		cmocka_unit_test(test_munmap_split_shared),
		cmocka_unit_test(test_merge_and_mprotect_split),
		cmocka_unit_test(test_mprotect_errors),
		cmocka_unit_test(test_mprotect_none_and_back),
		cmocka_unit_test(test_mprotect_readonly),
		cmocka_unit_test(test_mprotect_readonly_2629),
		cmocka_unit_test(test_mprotect_shared),
		cmocka_unit_test(test_madvise_errors),
		cmocka_unit_test(test_madvise_wipeonfork_shared),
		cmocka_unit_test(test_madvise_dontneed_private),
		cmocka_unit_test(test_madvise_dontneed_shared),
		cmocka_unit_test(test_madvise_populate),
		cmocka_unit_test(test_madvise_populate_shared),
		cmocka_unit_test(test_uaccess_cross_page),
		cmocka_unit_test(test_uaccess_errors),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_two_tasks_see_changes),
		cmocka_unit_test(test_random_linux6),
		cmocka_unit_test(test_random_linux2629),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
