/* SPDX-License-Identifier: MIT */
/*
 * tests/common/fixture.h - helpers shared by the cmocka test programs.
 *
 * Linked into every tests/test_*.c program.  Unless said otherwise a helper
 * checks its own step with cmocka assertions (a failure ends the test), so it may
 * only be called from the test's thread.  The ones marked "thread-safe" assert
 * nothing and may be called from threads started by a test.
 *
 * Groups:
 *   policies   FX_POLICY_*, fx_policy_is_new, FX_PER_POLICY / FX_POLICY_TESTS,
 *              FX_POLICY_STATE_TESTS
 *   worlds     fx_world_new, fx_check, fx_world_done, fx_world_end
 *   tasks      fx_task_new, fx_task_add, fx_fork, struct fx_env
 *   figures    fx_meminfo, fx_nr_free, fx_mm_info, fx_rss, fx_nr_vmas
 *   counters   fx_stats, fx_stat, struct fx_snap, fx_snap, fx_delta
 *   memory     fx_map_anon, fx_map_private, fx_*_u64
 *   patterns   fx_pattern_*, fx_fill_pages, fx_check_pages, fx_check_zero_pages,
 *              fx_frame_has, fx_frame_is_zero
 *   pages      fx_pfn, fx_pte, fx_page_at
 *   GUP refs   fx_foll_pin, fx_foll_unpin, fx_foll_get, fx_foll_put
 *   threads    fx_thread_start, fx_now_ns, fx_cpu_relax, struct fx_spin,
 *              fx_wait_at_least, struct fx_fail
 *   files      fx_repo_path
 */
#ifndef GUP_TESTS_FIXTURE_H
#define GUP_TESTS_FIXTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gup/gup.h"

struct page;

/* ---- policies --------------------------------------------------------------- */

#define FX_POLICY_NEW	"linux-6.x"	/* the default policy */
#define FX_POLICY_OLD	"linux-2.6.29"

/* Is @policy linux-6.x?  NULL (the default policy) counts as linux-6.x. */
bool fx_policy_is_new(const char *policy);

/*
 * FX_PER_POLICY(fn) defines two cmocka tests, fn__linux6 and fn__linux2629, that
 * run the scenario `void fn(const char *policy)` under each policy;
 * FX_POLICY_TESTS(fn) lists both in a CMUnitTest array.
 */
#define FX_PER_POLICY(fn)                                                              \
	static void fn##__linux6(void **state) { (void)state; fn(FX_POLICY_NEW); }      \
	static void fn##__linux2629(void **state) { (void)state; fn(FX_POLICY_OLD); }
#define FX_POLICY_TESTS(fn) cmocka_unit_test(fn##__linux6), cmocka_unit_test(fn##__linux2629)

/*
 * FX_POLICY_STATE_TESTS(fn) lists two cmocka tests, both named fn, of
 * `void fn(void **state)`: *state is the policy name, FX_POLICY_NEW then
 * FX_POLICY_OLD.
 */
#define FX_POLICY_STATE_TESTS(fn)                                                      \
	cmocka_unit_test_prestate(fn, (void *)FX_POLICY_NEW),                           \
	cmocka_unit_test_prestate(fn, (void *)FX_POLICY_OLD)

/* ---- worlds ------------------------------------------------------------------- */

/*
 * A new world of @nr_frames frames, @nr_movable of them in ZONE_MOVABLE, under
 * @policy (NULL: the default).  When @policy is given, the world must report it.
 */
struct gup_world *fx_world_new(const char *policy, size_t nr_frames, size_t nr_movable);

/* gup_world_check finds no violation (they are printed to the world's report stream). */
void fx_check(struct gup_world *w);

/* fx_check, then gup_world_destroy succeeds (nothing leaked). */
void fx_world_done(struct gup_world *w);

/*
 * Every task and mm of @w is gone: fx_check, no mm, task or page table left, every
 * frame but the zero page free again; then destroy.
 */
void fx_world_end(struct gup_world *w);

/* ---- tasks -------------------------------------------------------------------- */

/* A task of a new, empty mm of @w (the task holds the only reference to the mm). */
struct gup_task *fx_task_new(struct gup_world *w);

/* One more task of @mm. */
struct gup_task *fx_task_add(struct gup_mm *mm);

/* gup_fork succeeds: the child, a task of its own new mm. */
struct gup_task *fx_fork(struct gup_task *parent);

/*
 * One world (a quarter of its frames movable), one mm and one task of it, each
 * held by the test.  fx_env_done checks the world, drops the task and the mm,
 * checks again and destroys the world.
 */
struct fx_env {
	struct gup_world *w;
	struct gup_mm *mm;
	struct gup_task *t;
};

void fx_env_new(struct fx_env *e, const char *policy, size_t nr_frames);
void fx_env_done(struct fx_env *e);

/* ---- figures ------------------------------------------------------------------ */

struct gup_mem_info fx_meminfo(struct gup_world *w);
size_t fx_nr_free(struct gup_world *w);		/* free frames */
struct gup_mm_info fx_mm_info(struct gup_mm *mm);
size_t fx_rss(struct gup_task *t);		/* of the task's mm */
size_t fx_nr_vmas(struct gup_task *t);		/* of the task's mm */

/* ---- counters (vmstat) ---------------------------------------------------------- */

/* All counters of @w into @s. */
void fx_stats(struct gup_world *w, uint64_t s[GUP_NR_STATS]);

/* One counter of @w. */
uint64_t fx_stat(struct gup_world *w, enum gup_stat_item item);

/* A snapshot of the counters, and how far one has moved since. */
struct fx_snap {
	uint64_t v[GUP_NR_STATS];
};

void fx_snap(struct gup_world *w, struct fx_snap *s);
uint64_t fx_delta(struct gup_world *w, const struct fx_snap *s, enum gup_stat_item item);

/* ---- memory ------------------------------------------------------------------- */

/*
 * mmap @nr_pages anonymous pages (@flags | GUP_MAP_ANONYMOUS, no address hint):
 * succeeds, at a user address.
 */
uint64_t fx_map_anon(struct gup_task *t, size_t nr_pages, int prot, int flags);

/* fx_map_anon, private and read/write. */
uint64_t fx_map_private(struct gup_task *t, size_t nr_pages);

/* Store @v at @addr through @t: gup_store's result (fx_store_u64: must be 0). */
int fx_try_store_u64(struct gup_task *t, uint64_t addr, uint64_t v);
void fx_store_u64(struct gup_task *t, uint64_t addr, uint64_t v);

/* Load the u64 at @addr through @t: the load must succeed. */
uint64_t fx_load_u64(struct gup_task *t, uint64_t addr);

/* ---- page patterns -------------------------------------------------------------- */

/*
 * Pattern @seed of a page: distinct bytes per seed, per page (@vpn: the virtual
 * page number) and per offset, so that misplaced or stale data shows.
 */
uint8_t fx_pattern_byte(unsigned seed, uint64_t vpn, size_t off);

/* The page-sized pattern @seed of the page at address @addr into @buf. */
void fx_pattern_page(uint8_t *buf, unsigned seed, uint64_t addr);

/* @t stores pattern @seed into each of the @n pages at @addr (each store succeeds). */
void fx_fill_pages(struct gup_task *t, uint64_t addr, unsigned n, unsigned seed);

/* @t reads pattern @seed in each of the @n pages at @addr. */
void fx_check_pages(struct gup_task *t, uint64_t addr, unsigned n, unsigned seed);

/* @t reads zeroes in each of the @n pages at @addr. */
void fx_check_zero_pages(struct gup_task *t, uint64_t addr, unsigned n);

/* Does frame @page itself hold pattern @seed of address @addr? */
bool fx_frame_has(struct gup_world *w, struct page *page, unsigned seed, uint64_t addr);

/* Is frame @page all zeroes? */
bool fx_frame_is_zero(struct gup_world *w, struct page *page);

/* ---- pages and PTEs --------------------------------------------------------------- */

/* gup_mm_pfn in @t's mm: the pfn mapped at @addr, 0 (zero page) or -errno. */
int64_t fx_pfn(struct gup_task *t, uint64_t addr);

/* The PTE of @addr in @t's mm, read under the mmap lock; 0 if there is no table. */
uint64_t fx_pte(struct gup_task *t, uint64_t addr);

/* The struct page of the frame (not the zero page) that @t maps at @addr. */
struct page *fx_page_at(struct gup_task *t, uint64_t addr);

/* ---- GUP references, simulated --------------------------------------------------- */

/*
 * A FOLL_PIN on the normal page @t maps at @addr, taken as GUP takes one on a small
 * page: under the mmap read lock, through the VMA and the PTE, refcount +=
 * GUP_PIN_COUNTING_BIAS, the mm marked MMF_HAS_PINNED if @mark_mm (it is sticky),
 * and the pin counted (GUP_STAT_PIN_ACQUIRED) so that gup_world_check balances.
 * The page must exist and now be maybe-DMA-pinned.  fx_foll_unpin undoes one.
 */
struct page *fx_foll_pin(struct gup_task *t, uint64_t addr, bool mark_mm);
void fx_foll_unpin(struct gup_world *w, struct page *page);

/*
 * A transient FOLL_GET reference (e.g. an O_DIRECT read in flight) on the normal
 * page @t maps at @addr, found the same way: get_page, counted as
 * GUP_STAT_GET_ACQUIRED.  fx_foll_put drops one.
 */
struct page *fx_foll_get(struct gup_task *t, uint64_t addr);
void fx_foll_put(struct gup_world *w, struct page *page);

/* ---- threads and handshakes -------------------------------------------------------- */

/* gup_thread_start succeeds: the thread running fn(arg). */
struct gup_thread *fx_thread_start(struct gup_world *w, void (*fn)(void *arg), void *arg);

/* CLOCK_MONOTONIC in nanoseconds.  Thread-safe. */
uint64_t fx_now_ns(void);

/* A spin-wait hint to the CPU.  Thread-safe. */
void fx_cpu_relax(void);

/*
 * A bounded spin-wait.  Loop on the condition, calling fx_spin once per turn:
 *
 *	struct fx_spin s;
 *
 *	fx_spin_begin(&s, FX_WAIT_NS, 64);
 *	while (!condition)
 *		if (!fx_spin(&s))
 *			return false;		(timed out)
 *
 * Every @yield_every turns fx_spin looks at the clock (false once @timeout_ns
 * have passed since fx_spin_begin) and yields the CPU, as threads may outnumber
 * cores; every turn it relaxes the CPU.  Thread-safe.
 */
struct fx_spin {
	uint64_t end;
	unsigned spins, yield_every;
};

void fx_spin_begin(struct fx_spin *s, uint64_t timeout_ns, unsigned yield_every);
bool fx_spin(struct fx_spin *s);

/*
 * The failures threads saw: how many, and the first message.  Threads never call
 * cmocka assertions; they record here and the test's thread asserts after joining
 * them.  fx_failf and fx_failed are thread-safe.
 */
struct fx_fail {
	_Atomic unsigned count;
	_Atomic int claimed;
	char first[320];
};

__attribute__((format(printf, 2, 3)))
void fx_failf(struct fx_fail *f, const char *fmt, ...);
bool fx_failed(struct fx_fail *f);
/* Nothing was recorded; else the test fails with the count and the first message. */
void fx_assert_no_fail(struct fx_fail *f);

/* How long a handshake waits before it gives up: 20 s. */
#define FX_WAIT_NS	(UINT64_C(20) * 1000 * 1000 * 1000)

/*
 * Wait until *@p >= @want (acquire) or FX_WAIT_NS pass; false on timeout.  With
 * every thread adding 1 to a counter first, a start barrier.  Thread-safe.
 */
bool fx_wait_at_least(_Atomic unsigned *p, unsigned want);

/* ---- files --------------------------------------------------------------------- */

/* The path of @sub (e.g. "tests/litmus") in the repository the tests were built from. */
void fx_repo_path(char *buf, size_t size, const char *sub);

#endif /* GUP_TESTS_FIXTURE_H */
