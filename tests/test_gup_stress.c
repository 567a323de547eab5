/* SPDX-License-Identifier: MIT */
/*
 * tests/test_gup_stress.c - free-mode stress of gup-fast (and its slow fallback)
 * against everything that changes page tables under it.
 *
 * Real threads drive tasks of one mm; one of them takes references and pins with
 * the GUP API while another remaps, re-protects, forks, zaps or exits.  Each
 * scenario checks exact properties, never timings:
 *
 *   1. gup-fast vs munmap/mmap(MAP_FIXED): a page GUP hands out holds data of its
 *      own address from one real generation of the mapping (never garbage, never
 *      another address's bytes, never older than what was mapped when the call
 *      began).  Breaks if gup-fast grabbed a frame after its PTE was zapped and the
 *      frame recycled (missing grab-then-recheck, or page tables freed under the
 *      walk without waiting for its irq-off section).
 *   2. gup-fast vs mprotect: a FOLL_WRITE pin never succeeds while the mapping was
 *      read-only for the whole call, and always succeeds while it was writable for
 *      the whole call; a pinned page is the mapped one and stays coherent with it.
 *      Breaks if gup-fast ignored pte_write, or mprotect forgot a flush.
 *   3. gup-fast FOLL_PIN vs fork (linux_anchor 1.12, 1.13; seed 004 race R1): DMA
 *      writes through a pin reach the parent's mapping even across a fork and a
 *      write fault in the parent, and a child never sees a DMA write made after
 *      the fork.  Breaks if fork shared a maybe-pinned exclusive page, or gup-fast
 *      pinned a page fork was write-protecting (write_protect_seq not checked).
 *      Under linux-2.6.29 (fork shares pinned pages, COW by mapcount) the parent
 *      loses DMA writes: counted and printed, not asserted.
 *   4. gup-fast vs MADV_DONTNEED: a page pinned before the zap survives it (only the
 *      pin holds it) with its data; the mapping refaults zero-filled; the unpin
 *      frees it.  And vs task exit: pins and references outlive the tasks and the
 *      whole mm; releasing them frees every frame.  Breaks if a zap dropped a
 *      pinned frame (use after free, data lost) or leaked it after the unpin.
 *   5. Four threads mixing get/pin, fast/unlocked on the same pages while a
 *      FOLL_LONGTERM pinner migrates them out of ZONE_MOVABLE: no data lost or
 *      misplaced by a migration, no pin on a movable page, no torn count, no hang
 *      (giving up with -ENOMEM or -EBUSY is allowed when the pages stay busy).
 *      Breaks if a migration copied a page someone still held or wrote, or
 *      installed the copy over a PTE that changed meanwhile.
 *
 * Common to all: pins and references balance (nr_foll_pin_acquired == released,
 * gets likewise), gup_world_check finds nothing, and every frame comes back.
 * Threads never call cmocka assertions: they record the first failure; the test's
 * thread asserts after joining them.  Every wait is bounded.
 *
 * GUP_STRESS_SCALE (percent; default 100, 25 under TSan, 50 under ASan) scales
 * iteration counts; each racing phase also stops after a time budget.
 * Scenario 3's device writes race with fork's copy of the pinned page on purpose
 * (that copy is why fork copies pinned pages at all); the engine's frame copy is
 * made of single-copy-atomic words, so under TSan this is no data race.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"

#include "common/fixture.h"

#define PG		GUP_PAGE_SIZE
#define PROT_RW		(GUP_PROT_READ | GUP_PROT_WRITE)
#define ANON_PRIVATE	(GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS)
/* A FOLL_PIN on a small page adds this much to its refcount (linux_anchor 1.6). */
#define PIN_BIAS	1024u

#define WORLD_FRAMES	4096
#define WORLD_MOVABLE	2048

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

#ifdef __has_feature
#define GS_HAS_FEATURE(x) __has_feature(x)
#else
#define GS_HAS_FEATURE(x) 0
#endif

#if defined(__SANITIZE_THREAD__) || GS_HAS_FEATURE(thread_sanitizer)
#define GS_TSAN		1
#define GS_DEFAULT_PCT	25
#elif defined(__SANITIZE_ADDRESS__) || GS_HAS_FEATURE(address_sanitizer)
#define GS_DEFAULT_PCT	50
#else
#define GS_DEFAULT_PCT	100
#endif
#ifndef GS_TSAN
#define GS_TSAN		0
#endif

/* Time budget of one racing phase; iteration counts bound it too. */
#define GS_BUDGET_NS	(UINT64_C(350) * 1000 * 1000)

static unsigned gs_pct(void)
{
	const char *s = getenv("GUP_STRESS_SCALE");

	if (s && *s) {
		long v = strtol(s, NULL, 10);

		if (v > 0 && v <= 100000)
			return (unsigned)v;
	}
	return GS_DEFAULT_PCT;
}

static unsigned gs_iters(unsigned base)
{
	uint64_t n = (uint64_t)base * gs_pct() / 100;

	return n ? (unsigned)n : 1;
}

/* xorshift64*: a per-thread generator, seeded per scenario (reproducible mixes). */
static uint64_t gs_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

/*
 * Wait until *@p > @old (acquire), or *@quit is set, or FX_WAIT_NS pass.  True if
 * the value moved.  Used to keep two racing threads overlapping.
 */
static bool gs_wait_above(_Atomic unsigned *p, unsigned old, _Atomic int *quit)
{
	struct fx_spin s;

	fx_spin_begin(&s, FX_WAIT_NS, 32);
	while (atomic_load_explicit(p, memory_order_acquire) <= old) {
		if (quit && atomic_load_explicit(quit, memory_order_acquire))
			return false;
		if (!fx_spin(&s))
			return false;
	}
	return true;
}

/* Wait until *@p is nonzero; false on timeout. */
static bool gs_wait_flag(_Atomic int *p)
{
	struct fx_spin s;

	fx_spin_begin(&s, FX_WAIT_NS, 32);
	while (!atomic_load_explicit(p, memory_order_acquire))
		if (!fx_spin(&s))
			return false;
	return true;
}

static int gs_load64(struct gup_task *t, uint64_t addr, uint64_t *v)
{
	return gup_load(t, addr, v, sizeof(*v));
}

static int gs_store64(struct gup_task *t, uint64_t addr, uint64_t v)
{
	return gup_store(t, addr, &v, sizeof(v));
}

static int gs_page_read64(struct gup_page *p, size_t off, uint64_t *v)
{
	return gup_page_read(p, off, v, sizeof(*v));
}

static int gs_page_write64(struct gup_page *p, size_t off, uint64_t v)
{
	return gup_page_write(p, off, &v, sizeof(v));
}

/* Pins and FOLL_GET references all released: the vmstat pairs balance. */
static void gs_assert_balanced(struct gup_world *w)
{
	uint64_t s[GUP_NR_STATS];

	fx_stats(w, s);
	assert_int_equal(s[GUP_STAT_PIN_ACQUIRED], s[GUP_STAT_PIN_RELEASED]);
	assert_int_equal(s[GUP_STAT_GET_ACQUIRED], s[GUP_STAT_GET_RELEASED]);
}

/*
 * Sampled words of a page: enough to catch a misplaced, stale or half-written
 * page (first, last, both sides of every 2 KiB boundary) at 8-byte single-copy
 * atomic accesses, so concurrent readers and writers never tear a word.
 */
#define NR_WORDS	8
static const unsigned gs_word_idx[NR_WORDS] = { 0, 1, 63, 64, 255, 256, 500, 511 };

/*
 * The value of sampled word @wi of page @page (index in its region) written in
 * generation @gen: a tag, the generation, the page and the word.  Zero is never
 * a valid value, so a fresh zero-filled frame shows as "not written".
 */
#define GEN_TAG		UINT64_C(0xB7)

static uint64_t gen_word(unsigned gen, unsigned page, unsigned wi)
{
	return (GEN_TAG << 56) | ((uint64_t)gen << 24) | ((uint64_t)page << 10) | gs_word_idx[wi];
}

/* @t stores generation @gen's words into pages [first, first+n) of @base. */
static int gen_fill(struct gup_task *t, uint64_t base, unsigned first, unsigned n, unsigned gen)
{
	for (unsigned p = first; p < first + n; p++)
		for (unsigned wi = 0; wi < NR_WORDS; wi++) {
			int ret = gs_store64(t, base + p * PG + gs_word_idx[wi] * 8,
					     gen_word(gen, p, wi));

			if (ret)
				return ret;
		}
	return 0;
}

/* Read the sampled words of a page held by GUP. */
static int gen_read_page(struct gup_page *page, uint64_t *words)
{
	for (unsigned wi = 0; wi < NR_WORDS; wi++) {
		int ret = gs_page_read64(page, gs_word_idx[wi] * 8, &words[wi]);

		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Classify sampled words of page @page: the number written (nonzero), with the
 * generation in *@gen; -1 if a nonzero word is not a value of this page and word,
 * or two words disagree on the generation (garbage, foreign or torn data).
 */
static int gen_classify(const uint64_t *words, unsigned page, unsigned *gen)
{
	int nz = 0;

	for (unsigned wi = 0; wi < NR_WORDS; wi++) {
		uint64_t v = words[wi];
		unsigned g;

		if (!v)
			continue;
		if (v >> 56 != GEN_TAG || ((v >> 10) & 0x3fff) != page ||
		    (v & 0x3ff) != gs_word_idx[wi])
			return -1;
		g = (unsigned)((v >> 24) & 0xffffffff);
		if (nz && g != *gen)
			return -1;
		*gen = g;
		nz++;
	}
	return nz;
}

/* ------------------------------------------------------------------------ */
/* 1. gup-fast vs munmap / mmap(MAP_FIXED)                                  */
/* ------------------------------------------------------------------------ */

#define MR_PAGES	32
#define MR_CHUNK	8			/* remapped as a unit (or two at once) */
#define MR_NCHUNK	(MR_PAGES / MR_CHUNK)
#define MR_MAXN		12			/* pages per GUP call, at most */

struct mr_ctx {
	uint64_t base;
	struct gup_task *user, *mapper;
	unsigned max_gens;
	uint64_t deadline;
	/* Per chunk: the generation whose remap has begun / that is fully filled. */
	_Atomic unsigned started[MR_NCHUNK];
	_Atomic unsigned filled[MR_NCHUNK];
	_Atomic unsigned calls;		/* user: GUP calls completed */
	_Atomic int user_done, mapper_done;
	unsigned gens;			/* mapper: last generation made */
	/* user's figures */
	uint64_t pages, full, partial, zero, shorts, efaults;
	struct fx_fail f;
};

static void mr_mapper_fn(void *arg)
{
	struct mr_ctx *c = arg;
	uint64_t rng = 0x9e3779b97f4a7c15;
	unsigned g;

	for (g = 1; g <= c->max_gens && fx_now_ns() < c->deadline; g++) {
		unsigned ch = (unsigned)(gs_rand(&rng) % MR_NCHUNK);
		unsigned nc = (g % 5 == 0 && ch + 1 < MR_NCHUNK) ? 2 : 1;
		uint64_t a = c->base + (uint64_t)ch * MR_CHUNK * PG, len = nc * MR_CHUNK * PG, out = 0;
		int flags = ANON_PRIVATE, ret;

		/* Every 4 generations, let the user finish a call: real overlap. */
		if (g % 4 == 0 &&
		    !gs_wait_above(&c->calls, atomic_load(&c->calls), &c->user_done)) {
			if (!atomic_load(&c->user_done))
				fx_failf(&c->f, "user made no progress (gen %u)", g);
			break;
		}
		for (unsigned i = 0; i < nc; i++)
			atomic_store(&c->started[ch + i], g);
		if (g & 1) {
			ret = gup_munmap(c->mapper, a, len);
			if (ret) {
				fx_failf(&c->f, "munmap gen %u: %d", g, ret);
				break;
			}
			flags |= GUP_MAP_FIXED_NOREPLACE;
		} else {
			flags |= GUP_MAP_FIXED;	/* replaces the old pages in one call */
		}
		ret = gup_mmap(c->mapper, a, len, PROT_RW, flags, &out);
		if (ret || out != a) {
			fx_failf(&c->f, "mmap gen %u: %d at %#" PRIx64, g, ret, out);
			break;
		}
		ret = gen_fill(c->mapper, c->base, ch * MR_CHUNK, nc * MR_CHUNK, g);
		if (ret) {
			fx_failf(&c->f, "fill gen %u: %d", g, ret);
			break;
		}
		for (unsigned i = 0; i < nc; i++)
			atomic_store(&c->filled[ch + i], g);
		c->gens = g;
	}
	atomic_store(&c->mapper_done, 1);
}

/*
 * Check one page the user got at region index @p during a call that began when
 * generation @lo of its chunk was complete, and whose content was read before the
 * chunk's started generation was seen to be @hi.
 */
static void mr_check_page(struct mr_ctx *c, unsigned p, const uint64_t *words, unsigned lo,
			  unsigned hi, bool write, bool pin, bool is_zero, bool excl,
			  bool pinned)
{
	unsigned gen = 0;
	int nz = gen_classify(words, p, &gen);

	c->pages++;
	/* Never garbage, never another address's data, never two generations. */
	if (nz < 0) {
		fx_failf(&c->f, "page %u: foreign or torn data %#" PRIx64 " %#" PRIx64 " ...", p,
			 words[0], words[NR_WORDS - 1]);
		return;
	}
	if (nz == 0) {
		/*
		 * A page nobody wrote: only a mapping newer than the complete one
		 * (generation lo fills every page before it is published).
		 */
		c->zero++;
		if (hi == lo)
			fx_failf(&c->f, "page %u: zero-filled, but generation %u was complete "
				 "and no newer one had begun", p, lo);
	} else {
		/* A generation that was mapped at that address during the call. */
		if (gen < lo || gen > hi)
			fx_failf(&c->f, "page %u: generation %u outside [%u, %u]", p, gen, lo, hi);
		/* The complete generation's frames are complete. */
		else if (gen == lo && nz != NR_WORDS)
			fx_failf(&c->f, "page %u: generation %u has %d of %d words", p, gen, nz,
				 NR_WORDS);
		if (nz == NR_WORDS)
			c->full++;
		else
			c->partial++;
	}
	/* FOLL_WRITE got a private writable frame: never the zero page, and exclusive. */
	if (write && (is_zero || !excl))
		fx_failf(&c->f, "page %u: FOLL_WRITE gave %s", p,
			 is_zero ? "the zero page" : "a non-exclusive anon page");
	/* A pin shows while it is held (false negatives are not allowed). */
	if (pin && !pinned)
		fx_failf(&c->f, "page %u: pinned but not maybe_dma_pinned", p);
}

static void mr_user_fn(void *arg)
{
	struct mr_ctx *c = arg;
	uint64_t rng = 0x5851f42d4c957f2d;
	struct gup_page *pages[MR_MAXN];
	uint64_t words[MR_MAXN][NR_WORDS];
	bool is_zero[MR_MAXN], excl[MR_MAXN], pinned[MR_MAXN];

	while (!atomic_load_explicit(&c->mapper_done, memory_order_acquire) && !fx_failed(&c->f)) {
		unsigned s = (unsigned)(gs_rand(&rng) % MR_PAGES);
		unsigned n = 1 + (unsigned)(gs_rand(&rng) % MR_MAXN);
		unsigned op = atomic_load(&c->calls) % 3, lo[MR_NCHUNK], hi[MR_NCHUNK];
		bool pin = op == 0, write = op != 1;
		int ret;

		if (s + n > MR_PAGES)
			n = MR_PAGES - s;
		for (unsigned ch = 0; ch < MR_NCHUNK; ch++)
			lo[ch] = atomic_load(&c->filled[ch]);
		memset(pages, 0, sizeof(pages));
		if (pin)
			ret = gup_pin_user_pages_fast(c->user, c->base + s * PG, (int)n,
						      GUP_FOLL_WRITE, pages);
		else
			ret = gup_get_user_pages_fast(c->user, c->base + s * PG, (int)n,
						      write ? GUP_FOLL_WRITE : 0, pages);
		/* A hole at the first page (between munmap and mmap): -EFAULT, nothing held. */
		if (ret < 0) {
			if (ret != -EFAULT)
				fx_failf(&c->f, "GUP at page %u x%u: %d", s, n, ret);
			c->efaults++;
			atomic_fetch_add(&c->calls, 1);
			continue;
		}
		if ((unsigned)ret > n) {
			fx_failf(&c->f, "GUP returned %d of %u pages", ret, n);
			break;
		}
		if ((unsigned)ret < n)
			c->shorts++;
		for (int i = 0; i < ret; i++) {
			if (!pages[i] || gen_read_page(pages[i], words[i])) {
				fx_failf(&c->f, "page %u: NULL or unreadable", s + i);
				memset(words[i], 0, sizeof(words[i]));
			}
			is_zero[i] = gup_page_is_zero(pages[i]);
			excl[i] = gup_page_anon_exclusive(pages[i]);
			pinned[i] = gup_page_maybe_dma_pinned(pages[i]);
		}
		/* After the reads: which generations could have been mapped meanwhile. */
		for (unsigned ch = 0; ch < MR_NCHUNK; ch++)
			hi[ch] = atomic_load(&c->started[ch]);
		if (pin)
			gup_unpin_user_pages(pages, (unsigned long)ret);
		else
			for (int i = 0; i < ret; i++)
				gup_put_page(pages[i]);
		for (int i = 0; i < ret; i++) {
			unsigned p = s + (unsigned)i, ch = p / MR_CHUNK;

			mr_check_page(c, p, words[i], lo[ch], hi[ch], write, pin, is_zero[i],
				      excl[i], pinned[i]);
		}
		atomic_fetch_add(&c->calls, 1);
	}
	atomic_store(&c->user_done, 1);
}

static void test_fast_vs_munmap_mmap(void **state)
{
	struct gup_world *w = fx_world_new(FX_POLICY_NEW, WORLD_FRAMES, WORLD_MOVABLE);
	static struct mr_ctx c;
	struct gup_thread *th[2];
	struct gup_mm *mm;
	struct fx_snap s0;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(gup_mm_create(w, &mm), 0);
	c.user = fx_task_add(mm);
	c.mapper = fx_task_add(mm);
	gup_mm_put(mm);
	c.base = fx_map_private(c.mapper, MR_PAGES);
	/* Generation 0: the whole region, complete before anyone looks. */
	assert_int_equal(gen_fill(c.mapper, c.base, 0, MR_PAGES, 0), 0);
	c.max_gens = gs_iters(3000);
	c.deadline = fx_now_ns() + GS_BUDGET_NS;
	fx_snap(w, &s0);

	th[0] = fx_thread_start(w, mr_user_fn, &c);
	th[1] = fx_thread_start(w, mr_mapper_fn, &c);
	assert_int_equal(gup_thread_join(th[0]), 0);
	assert_int_equal(gup_thread_join(th[1]), 0);
	fx_assert_no_fail(&c.f);
	print_message("munmap/mmap: %u generations, %u calls (%" PRIu64 " -EFAULT, %" PRIu64
		      " short); pages %" PRIu64 ": full %" PRIu64 ", partial %" PRIu64
		      ", zero %" PRIu64 "; fast fallbacks %" PRIu64 "\n",
		      c.gens, atomic_load(&c.calls), c.efaults, c.shorts, c.pages, c.full,
		      c.partial, c.zero, fx_delta(w, &s0, GUP_STAT_GUP_FAST_FALLBACK));
	assert_true(c.gens >= 1);
	assert_true(atomic_load(&c.calls) >= 1);
	assert_true(c.pages >= 1);

	/* Quiescent: every chunk holds exactly its last complete generation. */
	for (unsigned p = 0; p < MR_PAGES; p++) {
		unsigned g = atomic_load(&c.filled[p / MR_CHUNK]);

		for (unsigned wi = 0; wi < NR_WORDS; wi++) {
			uint64_t v = 0;

			assert_int_equal(gs_load64(c.user, c.base + p * PG + gs_word_idx[wi] * 8, &v), 0);
			assert_int_equal(v, gen_word(g, p, wi));
		}
	}
	/* Every reference and pin released; the counts explain every frame. */
	gs_assert_balanced(w);
	fx_check(w);
	assert_int_equal(gup_munmap(c.mapper, c.base, MR_PAGES * PG), 0);
	gup_task_exit(c.user);
	gup_task_exit(c.mapper);
	fx_world_end(w);
}

/* ------------------------------------------------------------------------ */
/* 2. gup-fast FOLL_WRITE pins vs mprotect                                  */
/* ------------------------------------------------------------------------ */

#define MP_PAGES	16
#define MP_GROUPS	2			/* halves, re-protected apart or together */
#define MP_GPAGES	(MP_PAGES / MP_GROUPS)
#define MP_ST_RO	1u			/* the group is PROT_READ        */
#define MP_ST_BUSY	2u			/* an mprotect of it is running   */
#define MP_DMA_TAG	UINT64_C(0xD1)

struct mp_ctx {
	uint64_t base;
	struct gup_task *user, *toggler;
	unsigned max_toggles;
	uint64_t deadline;
	/* Per group: (epoch << 2) | BUSY | RO; the toggler is the only writer. */
	_Atomic unsigned state[MP_GROUPS];
	_Atomic unsigned calls;
	_Atomic int user_done, toggler_done;
	unsigned toggles;
	uint64_t last[MP_PAGES];	/* user: last DMA value per page (0: none) */
	uint64_t ok, efault, partial, ro_whole, rw_whole;
	struct fx_fail f;
};

static void mp_toggler_fn(void *arg)
{
	struct mp_ctx *c = arg;
	unsigned i;

	for (i = 0; i < c->max_toggles && fx_now_ns() < c->deadline; i++) {
		unsigned tgt = i % 3;	/* group 0, group 1, or both */
		unsigned g0 = tgt == 2 ? 0 : tgt, g1 = tgt == 2 ? 1 : tgt;
		bool ro = !(atomic_load(&c->state[g0]) & MP_ST_RO);
		uint64_t a = c->base + (uint64_t)g0 * MP_GPAGES * PG;
		size_t len = (size_t)(g1 - g0 + 1) * MP_GPAGES * PG;
		int ret;

		if (i % 8 == 0 &&
		    !gs_wait_above(&c->calls, atomic_load(&c->calls), &c->user_done)) {
			if (!atomic_load(&c->user_done))
				fx_failf(&c->f, "user made no progress (toggle %u)", i);
			break;
		}
		/* Busy first: a call overlapping the change cannot conclude anything. */
		for (unsigned g = g0; g <= g1; g++) {
			unsigned st = atomic_load(&c->state[g]);

			atomic_store(&c->state[g], (((st >> 2) + 1) << 2) | MP_ST_BUSY | (st & MP_ST_RO));
		}
		ret = gup_mprotect(c->toggler, a, len, ro ? GUP_PROT_READ : PROT_RW);
		if (ret) {
			fx_failf(&c->f, "mprotect %u: %d", i, ret);
			break;
		}
		for (unsigned g = g0; g <= g1; g++) {
			unsigned st = atomic_load(&c->state[g]);

			atomic_store(&c->state[g], (st & ~(MP_ST_BUSY | MP_ST_RO)) | (ro ? MP_ST_RO : 0));
		}
	}
	c->toggles = i;
	atomic_store(&c->toggler_done, 1);
}

static void mp_user_fn(void *arg)
{
	struct mp_ctx *c = arg;
	struct gup_mm *mm = gup_task_mm(c->user);
	struct gup_page *pages[MP_GPAGES];
	uint64_t rng = 0x2545f4914f6cdd1d, seq = 0;

	while (!atomic_load_explicit(&c->toggler_done, memory_order_acquire) && !fx_failed(&c->f)) {
		unsigned g = (unsigned)(gs_rand(&rng) % MP_GROUPS);
		unsigned off = (unsigned)(gs_rand(&rng) % MP_GPAGES);
		unsigned n = 1 + (unsigned)(gs_rand(&rng) % (MP_GPAGES - off));
		unsigned first = g * MP_GPAGES + off, s1, s2;
		int ret;

		memset(pages, 0, sizeof(pages));
		s1 = atomic_load(&c->state[g]);
		ret = gup_pin_user_pages_fast(c->user, c->base + first * PG, (int)n, GUP_FOLL_WRITE,
					      pages);
		s2 = atomic_load(&c->state[g]);
		atomic_fetch_add(&c->calls, 1);
		if (s1 == s2 && !(s1 & MP_ST_BUSY)) {
			if (s1 & MP_ST_RO) {
				/* Read-only for the whole call: a write pin must fail. */
				c->ro_whole++;
				if (ret != -EFAULT) {
					fx_failf(&c->f, "FOLL_WRITE pin of %u pages at %u returned %d "
						 "on a mapping read-only throughout", n, first, ret);
					if (ret > 0)
						gup_unpin_user_pages(pages, (unsigned long)ret);
					break;
				}
			} else {
				/* Writable for the whole call: it must get every page. */
				c->rw_whole++;
				if (ret != (int)n)
					fx_failf(&c->f, "FOLL_WRITE pin of %u pages at %u returned %d "
						 "on a mapping writable throughout", n, first, ret);
			}
		}
		if (ret < 0) {
			if (ret != -EFAULT)
				fx_failf(&c->f, "pin at %u: %d", first, ret);
			c->efault++;
			continue;
		}
		if ((unsigned)ret > n) {
			fx_failf(&c->f, "pin returned %d of %u", ret, n);
			break;
		}
		if ((unsigned)ret < n)
			c->partial++;
		c->ok++;
		for (int i = 0; i < ret; i++) {
			unsigned p = first + (unsigned)i;
			uint64_t a = c->base + p * PG, v, got = 0;
			int64_t pfn = gup_mm_pfn(mm, a);

			/* A write pin is on a private, exclusive page (linux_anchor 1.10). */
			if (!gup_page_anon_exclusive(pages[i]) || gup_page_is_zero(pages[i]))
				fx_failf(&c->f, "page %u: write-pinned page not exclusive", p);
			/* mprotect never moves a page: the pinned page is the mapped one. */
			if (pfn < 0 || (uint64_t)pfn != gup_page_pfn(pages[i]))
				fx_failf(&c->f, "page %u: pinned pfn %" PRIu64 ", mapped %" PRId64, p,
					 gup_page_pfn(pages[i]), pfn);
			/* Coherent: a DMA write is what the mapping reads (any protection). */
			v = (MP_DMA_TAG << 56) | ((uint64_t)p << 40) | ++seq;
			if (gs_page_write64(pages[i], 0, v) || gs_load64(c->user, a, &got) ||
			    got != v)
				fx_failf(&c->f, "page %u: DMA wrote %#" PRIx64 ", mapping reads %#"
					 PRIx64, p, v, got);
			c->last[p] = v;
		}
		gup_unpin_user_pages_dirty_lock(pages, (unsigned long)ret, true);
	}
	atomic_store(&c->user_done, 1);
}

static void test_fast_vs_mprotect(void **state)
{
	struct gup_world *w = fx_world_new(FX_POLICY_NEW, WORLD_FRAMES, WORLD_MOVABLE);
	static struct mp_ctx c;
	struct gup_page *pages[4];
	struct gup_thread *th[2];
	struct gup_mm *mm;
	struct fx_snap s0;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(gup_mm_create(w, &mm), 0);
	c.user = fx_task_add(mm);
	c.toggler = fx_task_add(mm);
	gup_mm_put(mm);
	c.base = fx_map_private(c.toggler, MP_PAGES);
	assert_int_equal(gup_fill(c.toggler, c.base, 0, MP_PAGES * PG), 0);

	/* Deterministic edge first: read-only -> no write pin; writable -> all. */
	fx_snap(w, &s0);
	assert_int_equal(gup_mprotect(c.toggler, c.base, MP_PAGES * PG, GUP_PROT_READ), 0);
	assert_int_equal(gup_pin_user_pages_fast(c.user, c.base, 4, GUP_FOLL_WRITE, pages), -EFAULT);
	assert_true(fx_delta(w, &s0, GUP_STAT_GUP_FAST_FALLBACK) >= 1);	/* fast refused */
	assert_int_equal(gup_mprotect(c.toggler, c.base, MP_PAGES * PG, PROT_RW), 0);
	assert_int_equal(gup_pin_user_pages_fast(c.user, c.base, 4, GUP_FOLL_WRITE, pages), 4);
	gup_unpin_user_pages(pages, 4);

	c.max_toggles = gs_iters(4000);
	c.deadline = fx_now_ns() + GS_BUDGET_NS;
	fx_snap(w, &s0);
	th[0] = fx_thread_start(w, mp_user_fn, &c);
	th[1] = fx_thread_start(w, mp_toggler_fn, &c);
	assert_int_equal(gup_thread_join(th[0]), 0);
	assert_int_equal(gup_thread_join(th[1]), 0);
	fx_assert_no_fail(&c.f);
	print_message("mprotect: %u toggles, %u pins: ok %" PRIu64 " (partial %" PRIu64
		      "), -EFAULT %" PRIu64 "; whole-call RO %" PRIu64 ", RW %" PRIu64
		      "; fast fallbacks %" PRIu64 "\n", c.toggles, atomic_load(&c.calls), c.ok,
		      c.partial, c.efault, c.ro_whole, c.rw_whole,
		      fx_delta(w, &s0, GUP_STAT_GUP_FAST_FALLBACK));
	assert_true(c.ok >= 1);

	/* Writable again: each page holds the last DMA value written through a pin. */
	assert_int_equal(gup_mprotect(c.toggler, c.base, MP_PAGES * PG, PROT_RW), 0);
	for (unsigned p = 0; p < MP_PAGES; p++) {
		uint64_t v = 1;

		assert_int_equal(gs_load64(c.toggler, c.base + p * PG, &v), 0);
		assert_int_equal(v, c.last[p]);
	}
	assert_int_equal(fx_nr_vmas(c.user), 1);	/* the splits merged back */
	gs_assert_balanced(w);
	fx_check(w);
	gup_task_exit(c.user);
	gup_task_exit(c.toggler);
	fx_world_end(w);
}

/* ------------------------------------------------------------------------ */
/* 3. gup-fast FOLL_PIN vs fork                                             */
/* ------------------------------------------------------------------------ */

/*
 * Per page, word 0 is the DMA word (written only through pins), word 1 the CPU
 * word (the pinner's gup_store, which write-faults in the parent if a fork
 * write-protected the page).  A DMA value carries its page and a global sequence
 * number; before writing sequence s the pinner publishes attempt = s, so a value
 * above what `attempt` was after a fork returned was written after that fork.
 */
#define FK_PAGES	16
#define FK_BATCH	4
#define FK_TAG		UINT64_C(0xF0)
#define FK_SEQ_MASK	((UINT64_C(1) << 40) - 1)
#define FK_MAX_DELAY	4096			/* cpu_relax turns before a fork */
#define FK_ROUNDS	4			/* DMA rounds per pin */

struct fk_ctx {
	const char *policy;
	bool new_policy;
	uint64_t base;
	struct gup_task *pinner, *forker;
	unsigned max_forks;
	uint64_t deadline;
	_Atomic uint64_t attempt;	/* highest DMA sequence started */
	_Atomic unsigned iters;		/* pinner: iterations completed */
	_Atomic int holding;		/* pinner: first pins taken (handshake) */
	_Atomic int forked;		/* forker: first fork done (handshake) */
	_Atomic int pinner_done, forker_done;
	uint64_t parent_last[FK_PAGES];	/* pinner: last DMA value per page */
	/* figures */
	uint64_t dma_checks, lost;	/* pinner: parent loads after a DMA write; misses */
	unsigned forks;
	uint64_t child_words, child_late, child_changed;	/* forker */
	struct fx_fail f;
};

static uint64_t fk_value(unsigned page, uint64_t seq)
{
	return (FK_TAG << 56) | ((uint64_t)page << 40) | seq;
}

static int fk_dma(struct fk_ctx *c, struct gup_page *page, unsigned p, uint64_t *seq,
		  uint64_t *v)
{
	*v = fk_value(p, ++*seq);
	atomic_store(&c->attempt, *seq);	/* published before the write lands */
	return gs_page_write64(page, 0, *v);
}

/*
 * One round on the pinned batch at page @first: a DMA write, a CPU write (after a
 * fork that shared the page, a write fault in the parent), a second DMA write,
 * and the parent's load that must see it.  @handshake: hold the pins across the
 * first fork, so that fork meets pinned pages at least once.
 */
static void fk_dma_round(struct fk_ctx *c, struct gup_page **pages, unsigned first, unsigned k,
			 uint64_t *seq, bool handshake)
{
	uint64_t a0 = c->base + first * PG, v1[FK_BATCH], v2[FK_BATCH];

	for (unsigned j = 0; j < FK_BATCH; j++)
		if (fk_dma(c, pages[j], first + j, seq, &v1[j]))
			fx_failf(&c->f, "DMA write failed");
	if (handshake) {
		atomic_store(&c->holding, 1);
		if (!gs_wait_flag(&c->forked))
			fx_failf(&c->f, "first fork never came");
	}
	for (unsigned j = 0; j < FK_BATCH; j++)
		if (gs_store64(c->pinner, a0 + j * PG + 8, k))
			fx_failf(&c->f, "CPU store to page %u failed", first + j);
	for (unsigned j = 0; j < FK_BATCH; j++)
		if (fk_dma(c, pages[j], first + j, seq, &v2[j]))
			fx_failf(&c->f, "DMA write failed");
	for (unsigned j = 0; j < FK_BATCH; j++) {
		uint64_t got = 0;

		if (gs_load64(c->pinner, a0 + j * PG, &got)) {
			fx_failf(&c->f, "parent load of page %u failed", first + j);
			continue;
		}
		c->dma_checks++;
		/*
		 * The pin is coherent with the parent: its mapping reads the last DMA
		 * write.  linux-2.6.29 loses it when the write fault gave the parent a
		 * copy and left the pinned page to the child (counted only).
		 */
		if (got != v2[j]) {
			c->lost++;
			if (c->new_policy)
				fx_failf(&c->f, "page %u: parent reads %#" PRIx64 " after DMA wrote %#"
					 PRIx64 " (earlier %#" PRIx64 ")", first + j, got, v2[j], v1[j]);
		}
		c->parent_last[first + j] = v2[j];
	}
}

static void fk_pinner_fn(void *arg)
{
	struct fk_ctx *c = arg;
	struct gup_page *pages[FK_BATCH];
	uint64_t seq = 0;

	for (unsigned k = 1; !atomic_load_explicit(&c->forker_done, memory_order_acquire) &&
			     !fx_failed(&c->f); k++) {
		unsigned first = ((k - 1) * FK_BATCH) % FK_PAGES;
		int ret;

		memset(pages, 0, sizeof(pages));
		ret = gup_pin_user_pages_fast(c->pinner, c->base + first * PG, FK_BATCH,
					      GUP_FOLL_WRITE, pages);
		/* Mapped and writable: a write pin gets every page (after a COW if need be). */
		if (ret != FK_BATCH) {
			fx_failf(&c->f, "iteration %u: pin returned %d", k, ret);
			if (ret > 0)
				gup_unpin_user_pages(pages, (unsigned long)ret);
			break;
		}
		/* linux-6.x: a write-pinned anon page is exclusive. */
		for (unsigned j = 0; j < FK_BATCH && c->new_policy; j++)
			if (!gup_page_anon_exclusive(pages[j]))
				fx_failf(&c->f, "page %u: pinned, not exclusive", first + j);
		/* Several DMA rounds per pin: the pins are held most of the time. */
		for (unsigned r = 0; r < FK_ROUNDS; r++)
			fk_dma_round(c, pages, first, k, &seq, k == 1 && r == 0);
		gup_unpin_user_pages_dirty_lock(pages, FK_BATCH, true);
		atomic_store(&c->iters, k);
	}
	atomic_store(&c->holding, 1);	/* never leave the forker waiting */
	atomic_store(&c->pinner_done, 1);
}

/* Read the child's DMA words; check each against the sequence bound @hi. */
static void fk_check_child(struct fk_ctx *c, struct gup_task *child, uint64_t hi,
			   uint64_t *snap)
{
	for (unsigned p = 0; p < FK_PAGES; p++) {
		uint64_t v = 0;

		if (gs_load64(child, c->base + p * PG, &v)) {
			fx_failf(&c->f, "child load of page %u failed", p);
			return;
		}
		snap[p] = v;
		c->child_words++;
		if (!v)
			continue;	/* never written before the fork */
		/* Never garbage or another page's value (the copy is of the right page). */
		if (v >> 56 != FK_TAG || ((v >> 40) & 0xffff) != p) {
			fx_failf(&c->f, "child page %u: foreign value %#" PRIx64, p, v);
			return;
		}
		/* No DMA write made after the fork reached the child's memory. */
		if ((v & FK_SEQ_MASK) > hi) {
			c->child_late++;
			if (c->new_policy)
				fx_failf(&c->f, "child page %u sees DMA seq %" PRIu64 ", written after "
					 "the fork (bound %" PRIu64 ")", p, v & FK_SEQ_MASK, hi);
		}
	}
}

static void fk_forker_fn(void *arg)
{
	struct fk_ctx *c = arg;
	uint64_t snap[FK_PAGES], rng = 0xda942042e4dd58b5;
	unsigned i;

	if (!gs_wait_flag(&c->holding))
		fx_failf(&c->f, "pinner never took its first pins");
	for (i = 0; i < c->max_forks && !fx_failed(&c->f); i++) {
		struct gup_task *child = NULL;
		unsigned it;
		uint64_t hi;
		int ret;

		if (i && fx_now_ns() >= c->deadline)
			break;
		/*
		 * A random pause: the wait below ends just as the pinner unpins, and
		 * forking in phase with it would miss the pinned windows.
		 */
		for (unsigned d = (unsigned)(gs_rand(&rng) % FK_MAX_DELAY); d; d--)
			fx_cpu_relax();
		ret = gup_fork(c->forker, &child);
		if (ret) {
			fx_failf(&c->f, "fork %u: %d", i, ret);
			break;
		}
		/* Every DMA write made from here on has a sequence above hi. */
		hi = atomic_load(&c->attempt);
		atomic_store(&c->forked, 1);
		it = atomic_load(&c->iters);
		fk_check_child(c, child, hi, snap);
		/*
		 * Keep the child alive while the pinner runs a full iteration or two (its
		 * CPU write and its DMA writes), then look again: nothing moved.
		 */
		gs_wait_above(&c->iters, it + 1, &c->pinner_done);
		for (unsigned p = 0; p < FK_PAGES; p++) {
			uint64_t v = 0;

			if (gs_load64(child, c->base + p * PG, &v)) {
				fx_failf(&c->f, "child reload of page %u failed", p);
				break;
			}
			if (v != snap[p]) {
				c->child_changed++;
				if (c->new_policy)
					fx_failf(&c->f, "fork %u: child page %u changed from %#" PRIx64
						 " to %#" PRIx64, i, p, snap[p], v);
			}
		}
		gup_task_exit(child);
	}
	c->forks = i;
	atomic_store(&c->forked, 1);
	atomic_store(&c->forker_done, 1);
}

static void fork_pin_scenario(const char *policy)
{
	struct gup_world *w = fx_world_new(policy, WORLD_FRAMES, WORLD_MOVABLE);
	static struct fk_ctx c;
	struct gup_thread *th[2];
	struct gup_mm *mm;
	struct fx_snap s0;
	struct gup_mem_info mi;
	uint64_t copied, fallback;

	memset(&c, 0, sizeof(c));
	c.policy = policy;
	c.new_policy = fx_policy_is_new(policy);
	/* Only linux-6.x copies at fork (2.6.29 shares every page: nothing to race). */
	assert_int_equal(gup_mm_create(w, &mm), 0);
	c.pinner = fx_task_add(mm);
	c.forker = fx_task_add(mm);
	gup_mm_put(mm);
	c.base = fx_map_private(c.forker, FK_PAGES);
	assert_int_equal(gup_fill(c.forker, c.base, 0, FK_PAGES * PG), 0);
	c.max_forks = gs_iters(400);
	c.deadline = fx_now_ns() + GS_BUDGET_NS;
	fx_snap(w, &s0);

	th[0] = fx_thread_start(w, fk_pinner_fn, &c);
	th[1] = fx_thread_start(w, fk_forker_fn, &c);
	assert_int_equal(gup_thread_join(th[0]), 0);
	assert_int_equal(gup_thread_join(th[1]), 0);
	fx_assert_no_fail(&c.f);
	copied = fx_delta(w, &s0, GUP_STAT_FORK_PAGE_COPIED);
	fallback = fx_delta(w, &s0, GUP_STAT_GUP_FAST_FALLBACK);
	print_message("%s fork vs pin: %u forks, %u pin rounds; fork page copies %" PRIu64
		      ", fast fallbacks %" PRIu64 "; parent lost %" PRIu64 " of %" PRIu64
		      " DMA writes; child saw %" PRIu64 " post-fork writes, %" PRIu64
		      " changes in %" PRIu64 " words\n", policy, c.forks,
		      atomic_load(&c.iters), copied, fallback, c.lost, c.dma_checks,
		      c.child_late, c.child_changed, c.child_words);
	assert_true(c.forks >= 1);
	assert_true(atomic_load(&c.iters) >= 1);
	assert_int_equal(fx_delta(w, &s0, GUP_STAT_FORK), c.forks);
	if (c.new_policy) {
		/* The first fork met the pinned batch: each page copied for the child. */
		assert_true(copied >= FK_BATCH);
		assert_int_equal(c.lost, 0);
		assert_int_equal(c.child_late, 0);
		assert_int_equal(c.child_changed, 0);
		/* Quiescent: the parent holds the last DMA value of each page. */
		for (unsigned p = 0; p < FK_PAGES; p++)
			assert_int_equal(fx_load_u64(c.pinner, c.base + p * PG), c.parent_last[p]);
	} else {
		/* 2.6.29 never copies at fork (FORK_COPY_NONE). */
		assert_int_equal(copied, 0);
	}
	/* Children gone; the parent maps its pages and nothing else is held. */
	mi = fx_meminfo(w);
	assert_int_equal(mi.nr_mms, 1);
	assert_int_equal(mi.nr_tasks, 2);
	assert_int_equal(fx_rss(c.pinner), FK_PAGES);
	gs_assert_balanced(w);
	fx_check(w);
	gup_task_exit(c.pinner);
	gup_task_exit(c.forker);
	fx_world_end(w);
}

FX_PER_POLICY(fork_pin_scenario)

/* ------------------------------------------------------------------------ */
/* 4a. gup-fast vs MADV_DONTNEED                                            */
/* ------------------------------------------------------------------------ */

#define DN_PAGES	32
#define DN_CALL		8			/* pages per GUP call: 4 calls per round */
#define DN_CALLS	(DN_PAGES / DN_CALL)

enum dn_kind { DN_PIN_WRITE, DN_PIN_READ, DN_GET_READ };

struct dn_ctx {
	uint64_t base;
	unsigned round;
	struct gup_task *user, *zapper;
	_Atomic unsigned progress;	/* user: calls done this round */
	_Atomic int zapped;
	_Atomic int user_done;
	struct gup_page *held[DN_PAGES];
	enum dn_kind kind[DN_PAGES];
	uint64_t old_pages, new_pages, zero_refs;
	struct fx_fail f;
};

static void dn_release(struct dn_ctx *c)
{
	for (unsigned p = 0; p < DN_PAGES; p++) {
		if (!c->held[p])
			continue;
		if (c->kind[p] == DN_GET_READ)
			gup_put_page(c->held[p]);
		else
			gup_unpin_user_page(c->held[p]);
		c->held[p] = NULL;
	}
}

/* After the zap: a page got before it, one got after it, or the zero page. */
static void dn_check_after(struct dn_ctx *c, unsigned p, bool was_old)
{
	struct gup_page *pg = c->held[p];
	enum dn_kind k = c->kind[p];
	uint64_t words[NR_WORDS];
	unsigned gen = 0, want_ref;
	int nz;

	if (gen_read_page(pg, words)) {
		fx_failf(&c->f, "page %u: unreadable after the zap", p);
		return;
	}
	nz = gen_classify(words, p, &gen);
	if (gup_page_is_zero(pg)) {
		/* A read of the refaulted hole: the shared zero page. */
		c->zero_refs++;
		if (was_old || k == DN_PIN_WRITE || nz != 0)
			fx_failf(&c->f, "page %u: unexpected zero page", p);
		return;
	}
	want_ref = k == DN_GET_READ ? 1 : PIN_BIAS;
	if (was_old) {
		/*
		 * Got before the zap: still holding the round's data, mapped nowhere,
		 * kept alive by our reference alone.
		 */
		if (nz != NR_WORDS || gen != c->round)
			fx_failf(&c->f, "page %u: pinned data lost after the zap (%d words, gen %u)",
				 p, nz, gen);
		if (gup_page_mapcount(pg) != 0 || gup_page_ref_count(pg) != want_ref)
			fx_failf(&c->f, "page %u: zapped page mapcount %u refcount %u, want 0/%u",
				 p, gup_page_mapcount(pg), gup_page_ref_count(pg), want_ref);
	} else {
		/* Faulted in after the zap: zero-filled, and the page mapped now. */
		int64_t pfn = gup_mm_pfn(gup_task_mm(c->user), c->base + p * PG);

		if (nz != 0)
			fx_failf(&c->f, "page %u: refaulted page not zero-filled", p);
		if (pfn < 0 || (uint64_t)pfn != gup_page_pfn(pg) || gup_page_mapcount(pg) != 1 ||
		    gup_page_ref_count(pg) != want_ref + 1)
			fx_failf(&c->f, "page %u: refaulted page pfn %" PRIu64 " (mapped %" PRId64
				 ") mapcount %u refcount %u", p, gup_page_pfn(pg), pfn,
				 gup_page_mapcount(pg), gup_page_ref_count(pg));
	}
	if (k != DN_GET_READ && !gup_page_maybe_dma_pinned(pg))
		fx_failf(&c->f, "page %u: pinned but not maybe_dma_pinned", p);
}

static void dn_user_fn(void *arg)
{
	struct dn_ctx *c = arg;
	bool old[DN_PAGES] = { false };

	/* Every 4th round, zap first: everything refaults. */
	if (c->round % 4 == 0 && !gs_wait_flag(&c->zapped))
		fx_failf(&c->f, "round %u: zap never came", c->round);
	for (unsigned i = 0; i < DN_CALLS; i++) {
		unsigned call = (i + c->round) % DN_CALLS, first = call * DN_CALL;
		enum dn_kind k = (enum dn_kind)((i + c->round) % 3);
		struct gup_page *pages[DN_CALL] = { NULL };
		uint64_t a = c->base + first * PG;
		int ret;

		if (k == DN_GET_READ)
			ret = gup_get_user_pages_fast(c->user, a, DN_CALL, 0, pages);
		else
			ret = gup_pin_user_pages_fast(c->user, a, DN_CALL,
						      k == DN_PIN_WRITE ? GUP_FOLL_WRITE : 0, pages);
		/* Mapped: a zapped page just refaults, so every page comes back. */
		if (ret != DN_CALL) {
			fx_failf(&c->f, "round %u call %u: %d", c->round, i, ret);
			for (int j = 0; j < ret; j++)
				if (k == DN_GET_READ)
					gup_put_page(pages[j]);
				else
					gup_unpin_user_page(pages[j]);
			break;
		}
		for (unsigned j = 0; j < DN_CALL; j++) {
			uint64_t words[NR_WORDS];
			unsigned p = first + j, gen = 0;
			int nz = -1;

			c->held[p] = pages[j];
			c->kind[p] = k;
			if (!gen_read_page(pages[j], words))
				nz = gen_classify(words, p, &gen);
			/* The round's data (got before the zap) or zeroes (after), nothing else. */
			if (nz == NR_WORDS && gen == c->round) {
				old[p] = true;
				c->old_pages++;
			} else if (nz == 0) {
				old[p] = false;
				c->new_pages++;
			} else {
				old[p] = false;
				fx_failf(&c->f, "round %u page %u: %d words of gen %u", c->round, p,
					 nz, gen);
			}
		}
		atomic_fetch_add(&c->progress, 1);
	}
	if (!gs_wait_flag(&c->zapped))
		fx_failf(&c->f, "round %u: zap never came", c->round);
	for (unsigned p = 0; p < DN_PAGES && !fx_failed(&c->f); p++)
		if (c->held[p])
			dn_check_after(c, p, old[p]);
	/* The mapping itself reads zeroes everywhere once zapped. */
	for (unsigned p = 0; p < DN_PAGES && !fx_failed(&c->f); p++)
		for (unsigned wi = 0; wi < NR_WORDS; wi++) {
			uint64_t v = 1;

			if (gs_load64(c->user, c->base + p * PG + gs_word_idx[wi] * 8, &v) || v) {
				fx_failf(&c->f, "round %u page %u: mapping reads %#" PRIx64
					 " after the zap", c->round, p, v);
				break;
			}
		}
	dn_release(c);
	atomic_store(&c->user_done, 1);
}

static void dn_zapper_fn(void *arg)
{
	struct dn_ctx *c = arg;
	unsigned after = c->round % 4;	/* zap once the user has made this many calls */
	int ret;

	if (after && !gs_wait_above(&c->progress, after - 1, &c->user_done))
		fx_failf(&c->f, "round %u: user made no progress", c->round);
	ret = gup_madvise(c->zapper, c->base, DN_PAGES * PG, GUP_MADV_DONTNEED);
	if (ret)
		fx_failf(&c->f, "round %u: DONTNEED: %d", c->round, ret);
	atomic_store(&c->zapped, 1);
}

static void test_fast_vs_dontneed(void **state)
{
	struct gup_world *w = fx_world_new(FX_POLICY_NEW, WORLD_FRAMES, WORLD_MOVABLE);
	static struct dn_ctx c;
	unsigned rounds = gs_iters(200);
	uint64_t deadline = fx_now_ns() + GS_BUDGET_NS, done = 0;
	struct gup_mm *mm;
	size_t free_empty;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(gup_mm_create(w, &mm), 0);
	c.user = fx_task_add(mm);
	c.zapper = fx_task_add(mm);
	gup_mm_put(mm);
	c.base = fx_map_private(c.zapper, DN_PAGES);
	/* Page tables in place, no page: the baseline every round must return to. */
	assert_int_equal(gen_fill(c.zapper, c.base, 0, DN_PAGES, 0), 0);
	assert_int_equal(gup_madvise(c.zapper, c.base, DN_PAGES * PG, GUP_MADV_DONTNEED), 0);
	free_empty = fx_nr_free(w);

	for (c.round = 1; c.round <= rounds; c.round++) {
		struct gup_thread *th[2];

		if (c.round > 4 && fx_now_ns() >= deadline)
			break;
		assert_int_equal(gen_fill(c.zapper, c.base, 0, DN_PAGES, c.round), 0);
		atomic_store(&c.progress, 0);
		atomic_store(&c.zapped, 0);
		atomic_store(&c.user_done, 0);
		th[0] = fx_thread_start(w, dn_user_fn, &c);
		th[1] = fx_thread_start(w, dn_zapper_fn, &c);
		assert_int_equal(gup_thread_join(th[0]), 0);
		assert_int_equal(gup_thread_join(th[1]), 0);
		fx_assert_no_fail(&c.f);
		/* Released: pins and gets balance, and the zapped pages were freed. */
		gs_assert_balanced(w);
		fx_check(w);
		assert_int_equal(gup_madvise(c.zapper, c.base, DN_PAGES * PG, GUP_MADV_DONTNEED), 0);
		assert_int_equal(fx_rss(c.zapper), 0);
		assert_int_equal(fx_nr_free(w), free_empty);
		done++;
	}
	print_message("DONTNEED: %" PRIu64 " rounds; pages got before the zap %" PRIu64
		      ", after %" PRIu64 " (zero page %" PRIu64 ")\n", done, c.old_pages,
		      c.new_pages, c.zero_refs);
	/* Rounds 1-3 get pages before the zap for sure, round 4 only after it. */
	assert_true(c.old_pages >= 1 && c.new_pages >= 1);
	assert_int_equal(gup_munmap(c.zapper, c.base, DN_PAGES * PG), 0);
	gup_task_exit(c.user);
	gup_task_exit(c.zapper);
	fx_world_end(w);
}

/* ------------------------------------------------------------------------ */
/* 4b. gup-fast vs task exit: pins outliving the mm                         */
/* ------------------------------------------------------------------------ */

/*
 * Each round: a fresh mm with two tasks, a pinner (gup-fast FOLL_WRITE pins) and
 * a getter (gup-fast FOLL_GET), racing; one exits while the other still walks its
 * page tables, then the other takes references it keeps and exits too, tearing
 * the mm down under them.  (Linux allows it; with GUP_DEBUG=1 the engine reports
 * each such pin, as intended.)  The test thread then finds the frames alive on
 * those references alone, and frees them all.
 */

#define EX_PAGES	16
#define EX_CHUNK	4
#define EX_MIN_ITERS	8

struct ex_ctx {
	uint64_t base;
	unsigned round;
	bool pinner_first;		/* which task exits first this round */
	struct gup_task *pinner, *getter;
	_Atomic unsigned pin_iters, get_iters;
	_Atomic int pinner_gone, getter_gone;
	struct gup_page *final[EX_PAGES];	/* pinner: write pins, held past exit */
	struct gup_page *kept[EX_CHUNK];	/* getter: references, held past exit */
	unsigned kept_first;
	_Atomic uint64_t checks;	/* both threads count */
	struct fx_fail f;
};

/* A page got from the round's data holds exactly it. */
static void ex_check(struct ex_ctx *c, struct gup_page *pg, unsigned p)
{
	uint64_t words[NR_WORDS];
	unsigned gen = 0;

	if (gen_read_page(pg, words) || gen_classify(words, p, &gen) != NR_WORDS ||
	    gen != c->round)
		fx_failf(&c->f, "round %u page %u: not the round's data", c->round, p);
	atomic_fetch_add(&c->checks, 1);
}

static void ex_pinner_fn(void *arg)
{
	struct ex_ctx *c = arg;
	struct gup_page *pages[EX_CHUNK];
	int ret;

	/* Pin/unpin chunks until the getter is gone (or, first to exit, for a while). */
	for (unsigned i = 0; !fx_failed(&c->f); i++) {
		unsigned first = (i * EX_CHUNK) % EX_PAGES;

		if (c->pinner_first ? i >= EX_MIN_ITERS && atomic_load(&c->get_iters) >= 2
				    : atomic_load(&c->getter_gone) && i >= EX_MIN_ITERS)
			break;
		if (i > 100000) {
			fx_failf(&c->f, "round %u: pinner loop did not end", c->round);
			break;
		}
		ret = gup_pin_user_pages_fast(c->pinner, c->base + first * PG, EX_CHUNK,
					      GUP_FOLL_WRITE, pages);
		if (ret != EX_CHUNK) {
			fx_failf(&c->f, "round %u: pin chunk: %d", c->round, ret);
			if (ret > 0)
				gup_unpin_user_pages(pages, (unsigned long)ret);
			break;
		}
		for (unsigned j = 0; j < EX_CHUNK; j++)
			ex_check(c, pages[j], first + j);
		gup_unpin_user_pages(pages, EX_CHUNK);
		atomic_fetch_add(&c->pin_iters, 1);
		sched_yield();
	}
	/* The whole region, pinned and kept while the task (maybe the mm) goes. */
	ret = gup_pin_user_pages_fast(c->pinner, c->base, EX_PAGES, GUP_FOLL_WRITE, c->final);
	if (ret != EX_PAGES) {
		fx_failf(&c->f, "round %u: final pin: %d", c->round, ret);
		if (ret > 0)
			gup_unpin_user_pages(c->final, (unsigned long)ret);
		memset(c->final, 0, sizeof(c->final));
	}
	if (!c->pinner_first && !gs_wait_flag(&c->getter_gone))
		fx_failf(&c->f, "round %u: getter never exited", c->round);
	gup_task_exit(c->pinner);
	atomic_store(&c->pinner_gone, 1);
}

static void ex_getter_fn(void *arg)
{
	struct ex_ctx *c = arg;
	struct gup_page *pages[EX_CHUNK];
	int ret;

	for (unsigned i = 0; !fx_failed(&c->f); i++) {
		unsigned first = ((i + 2) * EX_CHUNK) % EX_PAGES;

		if (c->pinner_first ? atomic_load(&c->pinner_gone) && i >= EX_MIN_ITERS
				    : i >= EX_MIN_ITERS && atomic_load(&c->pin_iters) >= 2)
			break;
		if (i > 100000) {
			fx_failf(&c->f, "round %u: getter loop did not end", c->round);
			break;
		}
		ret = gup_get_user_pages_fast(c->getter, c->base + first * PG, EX_CHUNK, 0, pages);
		if (ret != EX_CHUNK) {
			fx_failf(&c->f, "round %u: get chunk: %d", c->round, ret);
			for (int j = 0; j < ret; j++)
				gup_put_page(pages[j]);
			break;
		}
		for (unsigned j = 0; j < EX_CHUNK; j++) {
			ex_check(c, pages[j], first + j);
			gup_put_page(pages[j]);
		}
		atomic_fetch_add(&c->get_iters, 1);
		sched_yield();
	}
	/* One chunk of references kept across the exit. */
	c->kept_first = (c->round * EX_CHUNK) % EX_PAGES;
	ret = gup_get_user_pages_fast(c->getter, c->base + c->kept_first * PG, EX_CHUNK, 0, c->kept);
	if (ret != EX_CHUNK) {
		fx_failf(&c->f, "round %u: kept get: %d", c->round, ret);
		for (int j = 0; j < ret; j++)
			gup_put_page(c->kept[j]);
		memset(c->kept, 0, sizeof(c->kept));
	}
	if (c->pinner_first && !gs_wait_flag(&c->pinner_gone))
		fx_failf(&c->f, "round %u: pinner never exited", c->round);
	gup_task_exit(c->getter);
	atomic_store(&c->getter_gone, 1);
}

static void test_fast_vs_task_exit(void **state)
{
	struct gup_world *w = fx_world_new(FX_POLICY_NEW, WORLD_FRAMES, WORLD_MOVABLE);
	static struct ex_ctx c;
	unsigned rounds = gs_iters(60), done = 0;
	uint64_t deadline = fx_now_ns() + GS_BUDGET_NS, checks = 0;

	(void)state;
	for (unsigned r = 1; r <= rounds; r++) {
		struct gup_thread *th[2];
		struct gup_mem_info mi;
		struct gup_mm *mm;

		if (r > 2 && fx_now_ns() >= deadline)
			break;
		memset(&c, 0, sizeof(c));
		c.round = r;
		c.pinner_first = r % 2;
		assert_int_equal(gup_mm_create(w, &mm), 0);
		c.pinner = fx_task_add(mm);
		c.getter = fx_task_add(mm);
		gup_mm_put(mm);		/* the two tasks hold the mm now */
		c.base = fx_map_private(c.getter, EX_PAGES);
		assert_int_equal(gen_fill(c.getter, c.base, 0, EX_PAGES, r), 0);

		th[0] = fx_thread_start(w, ex_pinner_fn, &c);
		th[1] = fx_thread_start(w, ex_getter_fn, &c);
		assert_int_equal(gup_thread_join(th[0]), 0);
		assert_int_equal(gup_thread_join(th[1]), 0);
		fx_assert_no_fail(&c.f);

		/* The last exit tore the mm down, pins and references outstanding. */
		mi = fx_meminfo(w);
		assert_int_equal(mi.nr_mms, 0);
		assert_int_equal(mi.nr_tasks, 0);
		assert_int_equal(mi.nr_pgtables, 0);
		for (unsigned p = 0; p < EX_PAGES; p++) {
			bool kept = p >= c.kept_first && p < c.kept_first + EX_CHUNK;
			unsigned want = PIN_BIAS + (kept ? 1 : 0);

			/* Alive on the pin (and the kept get) alone, data intact, unmapped. */
			assert_non_null(c.final[p]);
			assert_int_equal(gup_page_mapcount(c.final[p]), 0);
			assert_int_equal(gup_page_ref_count(c.final[p]), want);
			ex_check(&c, c.final[p], p);
			if (kept)
				assert_ptr_equal(c.kept[p - c.kept_first], c.final[p]);
		}
		fx_assert_no_fail(&c.f);
		fx_check(w);	/* outstanding refs = what the counters say is held */
		gup_unpin_user_pages(c.final, EX_PAGES);
		for (unsigned j = 0; j < EX_CHUNK; j++)
			gup_put_page(c.kept[j]);
		/* Released: every frame but the zero page is free again. */
		gs_assert_balanced(w);
		assert_int_equal(fx_nr_free(w), WORLD_FRAMES - 1);
		checks += atomic_load(&c.checks);
		done++;
	}
	print_message("task exit: %u rounds, %" PRIu64 " page checks\n", done, checks);
	fx_world_end(w);
}

/* ------------------------------------------------------------------------ */
/* 5. Many pinners on the same pages vs FOLL_LONGTERM migration             */
/* ------------------------------------------------------------------------ */

#define MG_WORKERS	4
#define MG_PAGES	48
#define MG_BATCH	8
#define MG_LT_BATCH	16
#define MG_LT_SLOT	MG_WORKERS		/* the long-term pinner's word */
#define MG_LT_FLAGS	(GUP_FOLL_LONGTERM | GUP_FOLL_WRITE)

struct mg_ctx;

struct mg_worker {
	struct mg_ctx *c;
	struct gup_task *t;
	unsigned id;
	uint64_t last[MG_PAGES];	/* own word: last value stored (0: none) */
	uint64_t calls[5];		/* per variant */
};

struct mg_ctx {
	uint64_t base;
	unsigned round, iters;
	struct gup_task *lt;
	struct mg_worker wk[MG_WORKERS];
	_Atomic unsigned workers_done;
	uint64_t lt_last[MG_PAGES];	/* long-term pinner: last DMA value */
	uint64_t lt_ok, lt_partial, lt_gaveup;
	struct fx_fail f;
};

/* Word @slot of a page: its owner, the page and a sequence - misplacement shows. */
static uint64_t mg_value(unsigned slot, unsigned page, uint64_t seq)
{
	return ((uint64_t)(slot + 1) << 56) | ((uint64_t)page << 40) | seq;
}

static bool mg_value_ok(uint64_t v, unsigned slot, unsigned page)
{
	return !v || (v >> 56 == slot + 1 && ((v >> 40) & 0xffff) == page);
}

static void mg_release(struct gup_page **pages, int n, bool pin)
{
	if (pin)
		gup_unpin_user_pages(pages, (unsigned long)n);
	else
		for (int i = 0; i < n; i++)
			gup_put_page(pages[i]);
}

static void mg_worker_fn(void *arg)
{
	struct mg_worker *me = arg;
	struct mg_ctx *c = me->c;
	struct gup_mm *mm = gup_task_mm(me->t);
	uint64_t rng = 0x9e3779b97f4a7c15 ^ ((uint64_t)me->id << 32) ^ c->round;

	for (unsigned k = 1; k <= c->iters && !fx_failed(&c->f); k++) {
		unsigned s = (unsigned)(gs_rand(&rng) % (MG_PAGES - MG_BATCH + 1));
		unsigned variant = (k + me->id) % 5;
		struct gup_page *pages[MG_BATCH] = { NULL };
		bool pin = variant == 1 || variant == 3 || variant == 4;
		int ret = 0;

		/* Our own word of each page first (this may race with a migration). */
		for (unsigned j = 0; j < MG_BATCH; j++) {
			unsigned p = s + j;
			uint64_t v = mg_value(me->id, p, ((uint64_t)c->round << 24) | k);

			if (gs_store64(me->t, c->base + p * PG + me->id * 8, v)) {
				fx_failf(&c->f, "worker %u: store to page %u failed", me->id, p);
				return;
			}
			me->last[p] = v;
		}
		switch (variant) {
		case 0:
			ret = gup_get_user_pages_fast(me->t, c->base + s * PG, MG_BATCH, 0, pages);
			break;
		case 1:
			ret = gup_pin_user_pages_fast(me->t, c->base + s * PG, MG_BATCH,
						      GUP_FOLL_WRITE, pages);
			break;
		case 2:
			ret = (int)gup_get_user_pages_unlocked(me->t, c->base + s * PG, MG_BATCH,
							       pages, GUP_FOLL_WRITE);
			break;
		case 3:
			ret = (int)gup_pin_user_pages_unlocked(me->t, c->base + s * PG, MG_BATCH,
							       pages, 0);
			break;
		default:
			ret = gup_pin_user_pages_fast(me->t, c->base + s * PG, MG_BATCH, 0, pages);
			break;
		}
		me->calls[variant]++;
		/* Present, writable pages: every variant gets all of them. */
		if (ret != MG_BATCH) {
			fx_failf(&c->f, "worker %u variant %u: %d of %u", me->id, variant, ret,
				 MG_BATCH);
			if (ret > 0)
				mg_release(pages, ret, pin);
			return;
		}
		for (unsigned j = 0; j < MG_BATCH; j++) {
			unsigned p = s + j;
			uint64_t own = 0, other = 0;
			int64_t pfn = gup_mm_pfn(mm, c->base + p * PG);

			/* The page we hold carries our last store (a migration copied it). */
			if (gs_page_read64(pages[j], me->id * 8, &own) || own != me->last[p])
				fx_failf(&c->f, "worker %u page %u: holds %#" PRIx64 ", stored %#"
					 PRIx64, me->id, p, own, me->last[p]);
			/* Other words: their owners' values for this page, or nothing. */
			for (unsigned o = 0; o <= MG_LT_SLOT; o++) {
				if (gs_page_read64(pages[j], o * 8, &other) || !mg_value_ok(other, o, p))
					fx_failf(&c->f, "worker %u page %u: word %u holds %#" PRIx64,
						 me->id, p, o, other);
			}
			/*
			 * Held pages are not migrated: it is the page mapped there (a failed
			 * migration may have the PTE cleared for an instant).
			 */
			if (pfn != -EFAULT && (pfn < 0 || (uint64_t)pfn != gup_page_pfn(pages[j])))
				fx_failf(&c->f, "worker %u page %u: held pfn %" PRIu64 ", mapped %"
					 PRId64, me->id, p, gup_page_pfn(pages[j]), pfn);
			/* Our own reference or pin shows in the count (plus the mapping). */
			if (gup_page_ref_count(pages[j]) < (pin ? PIN_BIAS : 1u) + 1)
				fx_failf(&c->f, "worker %u page %u: refcount %u while held", me->id,
					 p, gup_page_ref_count(pages[j]));
		}
		mg_release(pages, ret, pin);
		/* The mapping agrees. */
		for (unsigned j = 0; j < MG_BATCH; j++) {
			uint64_t v = 0;

			if (gs_load64(me->t, c->base + (s + j) * PG + me->id * 8, &v) ||
			    v != me->last[s + j])
				fx_failf(&c->f, "worker %u page %u: loads %#" PRIx64 ", stored %#" PRIx64,
					 me->id, s + j, v, me->last[s + j]);
		}
	}
	atomic_fetch_add(&c->workers_done, 1);
}

static void mg_lt_fn(void *arg)
{
	struct mg_ctx *c = arg;
	struct gup_page *pages[MG_LT_BATCH];
	uint64_t seq = 0;

	for (unsigned k = 0; !fx_failed(&c->f); k++) {
		unsigned first = (k * 5) % (MG_PAGES - MG_LT_BATCH + 1);
		uint64_t a = c->base + first * PG;
		int ret;

		if (atomic_load(&c->workers_done) == MG_WORKERS && k >= 4)
			break;
		if (k > 1000000) {
			fx_failf(&c->f, "long-term loop did not end");
			break;
		}
		memset(pages, 0, sizeof(pages));
		if (k & 1)
			ret = (int)gup_pin_user_pages_unlocked(c->lt, a, MG_LT_BATCH, pages,
							       MG_LT_FLAGS);
		else
			ret = gup_pin_user_pages_fast(c->lt, a, MG_LT_BATCH, MG_LT_FLAGS, pages);
		/*
		 * Pages kept busy by the others: the migration gives up after a bounded
		 * number of tries (-ENOMEM as a failed migrate_pages, or -EBUSY;
		 * linux_anchor 1.14), it does not hang.
		 */
		if (ret == -ENOMEM || ret == -EBUSY) {
			c->lt_gaveup++;
			continue;
		}
		if (ret <= 0 || ret > MG_LT_BATCH) {
			fx_failf(&c->f, "long-term pin at %u: %d", first, ret);
			break;
		}
		if (ret < MG_LT_BATCH)
			c->lt_partial++;	/* gup-fast pinned a prefix, the rest was busy */
		else
			c->lt_ok++;
		for (int i = 0; i < ret; i++) {
			unsigned p = first + (unsigned)i;
			uint64_t v = mg_value(MG_LT_SLOT, p, ++seq), got = 0;

			/* A long-term pin is never on a movable page, and exclusive. */
			if (gup_page_movable(pages[i]) || !gup_page_anon_exclusive(pages[i]) ||
			    !gup_page_maybe_dma_pinned(pages[i]))
				fx_failf(&c->f, "page %u: long-term pinned page movable %d "
					 "exclusive %d", p, gup_page_movable(pages[i]),
					 gup_page_anon_exclusive(pages[i]));
			/* The pin is the mapping: a DMA write shows in a load. */
			if (gs_page_write64(pages[i], MG_LT_SLOT * 8, v) ||
			    gs_load64(c->lt, a + (uint64_t)i * PG + MG_LT_SLOT * 8, &got) || got != v)
				fx_failf(&c->f, "page %u: DMA wrote %#" PRIx64 ", loads %#" PRIx64,
					 p, v, got);
			c->lt_last[p] = v;
		}
		gup_unpin_user_pages_dirty_lock(pages, (unsigned long)ret, true);
	}
}

static void test_pinners_vs_longterm_migration(void **state)
{
	struct gup_world *w = fx_world_new(FX_POLICY_NEW, WORLD_FRAMES, WORLD_MOVABLE);
	static struct mg_ctx c;
	unsigned rounds = gs_iters(24), done = 0;
	uint64_t deadline = fx_now_ns() + GS_BUDGET_NS, calls[5] = { 0 };
	struct gup_page *page = NULL;
	struct gup_mm *mm;
	struct fx_snap s0;
	size_t free0;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(gup_mm_create(w, &mm), 0);
	c.lt = fx_task_add(mm);
	for (unsigned i = 0; i < MG_WORKERS; i++) {
		c.wk[i].c = &c;
		c.wk[i].id = i;
		c.wk[i].t = fx_task_add(mm);
	}
	gup_mm_put(mm);
	free0 = fx_nr_free(w);

	/* Deterministic first: an idle movable page migrates, its data along. */
	c.base = fx_map_private(c.lt, 1);
	fx_store_u64(c.lt, c.base + 8, 0x1234);
	fx_snap(w, &s0);
	assert_int_equal(gup_pin_user_pages_fast(c.lt, c.base, 1, MG_LT_FLAGS, &page), 1);
	assert_false(gup_page_movable(page));
	assert_int_equal(fx_delta(w, &s0, GUP_STAT_LONGTERM_MIGRATE), 1);
	assert_int_equal(fx_load_u64(c.lt, c.base + 8), 0x1234);
	gup_unpin_user_page(page);
	assert_int_equal(gup_munmap(c.lt, c.base, PG), 0);

	fx_snap(w, &s0);
	for (c.round = 1; c.round <= rounds; c.round++) {
		struct gup_thread *th[MG_WORKERS + 1];

		if (c.round > 2 && fx_now_ns() >= deadline)
			break;
		c.base = fx_map_private(c.lt, MG_PAGES);
		c.iters = gs_iters(60);
		atomic_store(&c.workers_done, 0);
		memset(c.lt_last, 0, sizeof(c.lt_last));
		for (unsigned i = 0; i < MG_WORKERS; i++)
			memset(c.wk[i].last, 0, sizeof(c.wk[i].last));
		for (unsigned i = 0; i < MG_WORKERS; i++)
			th[i] = fx_thread_start(w, mg_worker_fn, &c.wk[i]);
		th[MG_WORKERS] = fx_thread_start(w, mg_lt_fn, &c);
		for (unsigned i = 0; i <= MG_WORKERS; i++)
			assert_int_equal(gup_thread_join(th[i]), 0);
		fx_assert_no_fail(&c.f);

		/* No write lost or misplaced by the migrations: every word is its last value. */
		for (unsigned p = 0; p < MG_PAGES; p++) {
			for (unsigned i = 0; i < MG_WORKERS; i++)
				assert_int_equal(fx_load_u64(c.lt, c.base + p * PG + i * 8),
						 c.wk[i].last[p]);
			assert_int_equal(fx_load_u64(c.lt, c.base + p * PG + MG_LT_SLOT * 8),
					 c.lt_last[p]);
		}
		/* Counts: every get and pin released; refcounts explained by mappings. */
		gs_assert_balanced(w);
		fx_check(w);
		assert_int_equal(gup_munmap(c.lt, c.base, MG_PAGES * PG), 0);
		assert_int_equal(fx_nr_free(w), free0);
		done++;
	}
	for (unsigned i = 0; i < MG_WORKERS; i++)
		for (unsigned v = 0; v < 5; v++)
			calls[v] += c.wk[i].calls[v];
	print_message("long-term: %u rounds; worker calls get-fast %" PRIu64 " pin-fast-w %" PRIu64
		      " get-unlocked-w %" PRIu64 " pin-unlocked %" PRIu64 " pin-fast %" PRIu64
		      "; long-term pins ok %" PRIu64 " partial %" PRIu64 " gave up %" PRIu64
		      "; migrations %" PRIu64 "\n", done, calls[0], calls[1], calls[2], calls[3],
		      calls[4], c.lt_ok, c.lt_partial, c.lt_gaveup,
		      fx_delta(w, &s0, GUP_STAT_LONGTERM_MIGRATE));
	assert_true(done >= 1);
	for (unsigned i = 0; i < MG_WORKERS; i++)
		gup_task_exit(c.wk[i].t);
	gup_task_exit(c.lt);
	fx_world_end(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_vs_munmap_mmap),
		cmocka_unit_test(test_fast_vs_mprotect),
		FX_POLICY_TESTS(fork_pin_scenario),
		cmocka_unit_test(test_fast_vs_dontneed),
		cmocka_unit_test(test_fast_vs_task_exit),
		cmocka_unit_test(test_pinners_vs_longterm_migration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
