/* SPDX-License-Identifier: MIT */
/*
 * tests/test_policy.c - the policies (src/policy/, docs/policies.md).
 *
 *   - the knobs: every preset's "name=value" line parses back to the same
 *     policy; --knob overrides reach the world; bad names and values give
 *     -EINVAL with a message that names them, never a world;
 *   - each preset's mechanism, in a scenario that fails without it (the knob
 *     that turns the mechanism off is set in a second run where that helps);
 *   - the litmus runner carries the overrides into every world it builds;
 *   - `gup policies` lists every preset; `gup demo --knob` and `gup litmus
 *     --knob` refuse bad overrides with "gup...: " and exit status 2.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/io_fixture.h"
#include "litmus/litmus.h"
#include "litmus/run.h"
#include "mm/pgtable.h"
#include "policy/policy.h"
#include "world.h"

#define PG		GUP_PAGE_SIZE
#define RW		(GUP_PROT_READ | GUP_PROT_WRITE)

/* A corpus test, parsed. */
static struct litmus_test *corpus(const char *name)
{
	char path[512], rel[128], *text = malloc(LITMUS_MAX_TEXT + 1);
	struct litmus_test *t = NULL;
	struct litmus_diag d;
	size_t len;
	FILE *f;

	snprintf(rel, sizeof(rel), "tests/litmus/%s.litmus", name);
	fx_repo_path(path, sizeof(path), rel);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_non_null(text);
	len = fread(text, 1, LITMUS_MAX_TEXT, f);
	fclose(f);
	assert_int_equal(litmus_parse(path, text, len, &t, &d), 0);
	free(text);
	return t;
}

/* A world of @policy with the overrides @knobs (NULL-terminated); must succeed. */
static struct gup_world *world_knobs(const char *policy, const char *const *knobs,
				     size_t nr_frames)
{
	struct gup_world_config cfg = { .nr_frames = nr_frames, .nr_movable = nr_frames / 4,
					.policy = policy, .knobs = knobs };
	struct gup_world *w = NULL;

	assert_int_equal(gup_world_create(&cfg, &w), 0);
	return w;
}

/* ---- the knobs ------------------------------------------------------------------- */

/* Every knob of @a and @b equal (field by field: the structure has padding). */
static void assert_same_knobs(const struct gup_policy *a, const struct gup_policy *b)
{
	assert_int_equal(a->reuse, b->reuse);
	assert_int_equal(a->read_cow, b->read_cow);
	assert_int_equal(a->fork_copy, b->fork_copy);
	assert_int_equal(a->fork_copy_how, b->fork_copy_how);
	assert_int_equal(a->fast_guard, b->fast_guard);
	assert_int_equal(a->fast_recheck, b->fast_recheck);
	assert_int_equal(a->fast_barrier, b->fast_barrier);
	assert_int_equal(a->fork_lock, b->fork_lock);
	assert_int_equal(a->mprotect_try_writable, b->mprotect_try_writable);
	assert_int_equal(a->io_ref, b->io_ref);
	assert_int_equal(a->write_retry, b->write_retry);
}

/* Each preset's knob line, applied to the default preset, gives that preset back. */
static void test_presets_round_trip(void **state)
{
	(void)state;
	for (const char *const *n = gup_policy_names(); *n; n++) {
		const struct gup_policy *want = policy_find(*n);
		struct gup_policy got;
		char line[512], *knobs[32], *save = NULL;
		unsigned nk = 0;

		assert_non_null(want);
		assert_non_null(gup_policy_summary(*n));
		assert_true(strlen(gup_policy_summary(*n)) > 20);
		assert_true(gup_policy_knobs(*n, NULL, line, sizeof(line)) < (int)sizeof(line));
		for (char *k = strtok_r(line, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
			assert_true(nk < 31);
			knobs[nk++] = k;
		}
		knobs[nk] = NULL;
		assert_int_equal(policy_build(&got, NULL, (const char *const *)knobs, NULL, 0), 0);
		assert_same_knobs(&got, want);
	}
}

static void test_override_reaches_world(void **state)
{
	static const char *const knobs[] = { "reuse=refcount", "fast_recheck=off",
					     "fast_barrier=yes", "reuse=mapcount", NULL };
	struct gup_world *w = world_knobs("linux-6.x", knobs, 32);
	char line[512];

	(void)state;
	/* Applied in order: the later reuse= wins; booleans take yes/no too. */
	assert_int_equal(w->policy->reuse, REUSE_MAPCOUNT);
	assert_false(w->policy->fast_recheck);
	assert_true(w->policy->fast_barrier);
	assert_int_equal(w->policy->read_cow, READ_COW_UNSHARE);	/* untouched */
	assert_string_equal(gup_world_policy(w), "linux-6.x");
	/* The preset itself is not changed: the world holds a copy. */
	assert_true(policy_find("linux-6.x")->fast_recheck);
	assert_true(gup_policy_knobs("linux-6.x", knobs, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "reuse=mapcount "));
	assert_non_null(strstr(line, "fast_recheck=off "));
	fx_world_done(w);
}

/* -EINVAL, no world, and a message that contains @want. */
static void bad_knob(const char *policy, const char *kv, const char *want)
{
	const char *knobs[] = { "io_ref=get", kv, NULL };
	struct gup_world_config cfg = { .nr_frames = 32, .policy = policy, .knobs = knobs };
	struct gup_world *w = NULL;
	char msg[512];

	assert_int_equal(gup_world_create(&cfg, &w), -EINVAL);
	assert_null(w);
	assert_int_equal(gup_policy_check(policy, knobs, msg, sizeof(msg)), -EINVAL);
	if (!strstr(msg, want))
		fail_msg("message '%s' lacks '%s'", msg, want);
	assert_int_equal(gup_policy_knobs(policy, knobs, msg, sizeof(msg)), -EINVAL);
}

static void test_bad_knobs(void **state)
{
	char tiny[8];

	(void)state;
	bad_knob(NULL, "bogus=1", "unknown knob 'bogus' (known: reuse, read_cow, ");
	bad_knob(NULL, "reuse=sometimes",
		 "knob reuse has no value 'sometimes' (values: mapcount, refcount, anon_exclusive)");
	bad_knob(NULL, "fast_recheck=maybe", "knob fast_recheck has no value 'maybe' (values: "
					     "off, on)");
	bad_knob(NULL, "reuse", "knob 'reuse' is not name=value");
	bad_knob(NULL, "=mapcount", "knob '=mapcount' is not name=value");
	bad_knob(NULL, "reuse=", "knob reuse has no value ''");
	bad_knob(NULL, "reuse =mapcount", "unknown knob 'reuse '");
	bad_knob(NULL, "REUSE=mapcount", "unknown knob 'REUSE'");
	bad_knob("linux-0.1", "reuse=mapcount", "unknown policy 'linux-0.1' (known: linux-6.x, ");
	/* A short buffer is filled, not overrun; no buffer at all is fine. */
	assert_int_equal(gup_policy_check(NULL, (const char *const[]){ "x=y", NULL }, tiny,
					  sizeof(tiny)), -EINVAL);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_int_equal(gup_policy_check(NULL, (const char *const[]){ "x=y", NULL }, NULL, 0),
			 -EINVAL);
	assert_int_equal(gup_policy_check("linux-2.6.29", NULL, NULL, 0), 0);
	assert_int_equal(gup_policy_check(NULL, NULL, NULL, 0), 0);
	assert_null(gup_policy_summary("linux-0.1"));
	assert_int_equal(gup_policy_knobs(NULL, NULL, NULL, 0) > 0, 1);
}

/* ---- the presets' mechanisms -------------------------------------------------------- */

/*
 * One process of @policy (with @knobs) that has written @n private pages at
 * @buf: each page exclusive, mapped writable.
 */
struct scen {
	struct gup_world *w;
	struct gup_task *t;
	uint64_t buf;
};

static void scen_new(struct scen *s, const char *policy, const char *const *knobs, unsigned n)
{
	s->w = world_knobs(policy, knobs, 256);
	s->t = fx_task_new(s->w);
	s->buf = fx_map_private(s->t, n);
	fx_fill_pages(s->t, s->buf, n, 1);
}

/* Every task gone, the checker clean, nothing leaked. */
static void scen_end(struct scen *s, struct gup_task *child)
{
	if (child)
		gup_task_exit(child);
	gup_task_exit(s->t);
	fx_world_end(s->w);
}

static bool pte_writable(struct gup_task *t, uint64_t addr)
{
	return pte_write(fx_pte(t, addr));
}

/* The first 8 bytes of the frame a GUP reference @ref holds (what a device sees). */
static uint64_t frame_u64(struct gup_world *w, struct gup_page *ref)
{
	uint64_t v;

	memcpy(&v, page_data(&w->arena, (struct page *)ref), sizeof(v));
	return v;
}

/*
 * The parent holds a FOLL_GET reference on its page (an O_DIRECT transfer in
 * flight), forks, the child exits, and the parent writes: the page is mapped
 * once again but referenced twice.  Under F12 the write copies (the reference
 * keeps the old page); under 2.6.29's mapcount rule it is reused.
 */
static void refcount_write_fault(const char *policy, bool want_copy)
{
	struct scen s;
	struct gup_page *ref;
	struct fx_snap snap;
	int64_t pfn;

	scen_new(&s, policy, NULL, 1);
	assert_int_equal(gup_get_user_pages_fast(s.t, s.buf, 1, GUP_FOLL_WRITE, &ref), 1);
	gup_task_exit(fx_fork(s.t));
	pfn = fx_pfn(s.t, s.buf);
	assert_false(pte_writable(s.t, s.buf));
	fx_snap(s.w, &snap);
	fx_store_u64(s.t, s.buf, 7);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_COW_COPY), want_copy);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_COW_REUSE), !want_copy);
	assert_true((fx_pfn(s.t, s.buf) != pfn) == want_copy);
	gup_put_page(ref);
	scen_end(&s, NULL);
}

static void test_linus_refcount_extra_ref_copies(void **state)
{
	(void)state;
	refcount_write_fault("linus-refcount", true);
	refcount_write_fault("linux-5.9", true);
	refcount_write_fault("linux-2.6.29", false);	/* mapcount == 1: reused */
}

/*
 * linux-5.9: fork copies a maybe-pinned page for the child and leaves the
 * parent's PTE writable (70e806e4e645); a R/O pin does not unshare (5.9 had
 * no unsharing: a308c71bf1e6 removed the forced COW).
 */
static void test_linux59_fork_copies_pinned(void **state)
{
	struct gup_page *pin[2];
	struct gup_task *child;
	struct fx_snap snap;
	struct scen s;
	int64_t pfn;

	(void)state;
	scen_new(&s, "linux-5.9", NULL, 2);
	assert_int_equal(gup_pin_user_pages_fast(s.t, s.buf, 1, GUP_FOLL_WRITE, pin), 1);
	pfn = fx_pfn(s.t, s.buf);
	fx_snap(s.w, &snap);
	child = fx_fork(s.t);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_FORK_PAGE_COPIED), 1);
	assert_int_equal(fx_pfn(s.t, s.buf), pfn);
	assert_true(pte_writable(s.t, s.buf));
	assert_true(fx_pfn(child, s.buf) != pfn);
	fx_check_pages(child, s.buf, 2, 1);
	/* The unpinned second page was shared; a R/O pin leaves it shared. */
	assert_int_equal(fx_pfn(child, s.buf + PG), fx_pfn(s.t, s.buf + PG));
	assert_int_equal(gup_pin_user_pages_fast(s.t, s.buf + PG, 1, 0, pin + 1), 1);
	assert_int_equal(fx_pfn(child, s.buf + PG), fx_pfn(s.t, s.buf + PG));
	gup_unpin_user_pages(pin, 2);
	scen_end(&s, child);
}

/*
 * gup-fast under @s's policy on the page at @addr (read unless @write): true if
 * the lockless walk got it, false if it went to the slow path.  Either way the
 * reference is taken and dropped again.
 */
static bool fast_got(struct scen *s, uint64_t addr, bool write)
{
	struct gup_page *page;
	struct fx_snap snap;
	bool fast;

	fx_snap(s->w, &snap);
	assert_int_equal(gup_get_user_pages_fast(s->t, addr, 1, write ? GUP_FOLL_WRITE : 0,
						 &page), 1);
	fast = fx_delta(s->w, &snap, GUP_STAT_GUP_FAST_PAGES) == 1;
	assert_int_equal(fx_delta(s->w, &snap, GUP_STAT_GUP_FAST_FALLBACK), !fast);
	gup_put_page(page);
	return fast;
}

/* @s's second page, write-protected: a R/O PTE on an exclusive anon page. */
static uint64_t scen_ro_page(struct scen *s)
{
	assert_int_equal(gup_mprotect(s->t, s->buf + PG, PG, GUP_PROT_READ), 0);
	assert_false(pte_writable(s->t, s->buf + PG));
	return s->buf + PG;
}

/* What each gup-fast guard sends to the slow path, on the 2.6.29 baseline. */
static void test_fast_guards(void **state)
{
	static const char *const writable[] = { "fast_guard=writable", NULL };
	static const char *const pg_gup[] = { "fast_guard=pg_gup", NULL };
	static const char *const pg_gup_bare[] = { "fast_guard=pg_gup", "fast_recheck=off", NULL };
	static const char *const dontcow[] = { "fast_guard=dontcow", NULL };
	static const char *const slow[] = { "fast_guard=slow", NULL };
	struct scen s;
	uint64_t ro;

	(void)state;
	scen_new(&s, "linux-2.6.29", NULL, 2);		/* no guard: the PTE mask only */
	ro = scen_ro_page(&s);
	assert_true(fast_got(&s, s.buf, true));
	assert_true(fast_got(&s, ro, false));
	scen_end(&s, NULL);

	scen_new(&s, "linux-2.6.29", writable, 2);	/* KOSAKI: writable PTEs only */
	ro = scen_ro_page(&s);
	assert_true(fast_got(&s, s.buf, false));
	assert_false(fast_got(&s, ro, false));
	scen_end(&s, NULL);

	scen_new(&s, "linux-2.6.29", pg_gup, 2);	/* Andrea: PG_gup; R/O anon: slow */
	ro = scen_ro_page(&s);
	assert_false(PageGUP(fx_page_at(s.t, s.buf)));
	assert_true(fast_got(&s, s.buf, false));
	assert_true(PageGUP(fx_page_at(s.t, s.buf)));
	assert_false(fast_got(&s, ro, false));
	scen_end(&s, NULL);

	scen_new(&s, "linux-2.6.29", pg_gup_bare, 2);	/* his R/O test is the recheck */
	ro = scen_ro_page(&s);
	assert_true(fast_got(&s, ro, false));
	assert_true(PageGUP(fx_page_at(s.t, ro)));
	scen_end(&s, NULL);

	scen_new(&s, "linux-2.6.29", dontcow, 1);	/* Nick: anon pages need PG_dontcow */
	assert_false(fast_got(&s, s.buf, true));
	SetPageDontCOW(fx_page_at(s.t, s.buf));
	assert_true(fast_got(&s, s.buf, true));
	scen_end(&s, NULL);

	scen_new(&s, "linux-2.6.29", slow, 1);		/* no lockless walk */
	assert_false(fast_got(&s, s.buf, true));
	scen_end(&s, NULL);
}

/* How a read GUP takes its reference in read_cow_case. */
enum read_gup { READ_GET_SLOW, READ_PIN_SLOW, READ_GET_FAST };

/*
 * A page shared with a child by fork; the parent takes a read reference with
 * @how.  Returns whether that broke COW: the parent then maps a private,
 * writable copy, the child still the original.
 */
static bool read_cow_case(const char *policy, const char *const *knobs, enum read_gup how)
{
	struct gup_page *ref;
	struct gup_task *child;
	struct fx_snap snap;
	struct scen s;
	int64_t pfn;
	long got = 0;
	bool broke;

	scen_new(&s, policy, knobs, 1);
	child = fx_fork(s.t);
	pfn = fx_pfn(s.t, s.buf);
	assert_int_equal(fx_pfn(child, s.buf), pfn);
	fx_snap(s.w, &snap);
	if (how == READ_GET_SLOW)
		got = gup_get_user_pages_unlocked(s.t, s.buf, 1, &ref, 0);
	else if (how == READ_PIN_SLOW)
		got = gup_pin_user_pages_unlocked(s.t, s.buf, 1, &ref, 0);
	else
		got = gup_get_user_pages_fast(s.t, s.buf, 1, 0, &ref);
	assert_int_equal(got, 1);
	broke = fx_pfn(s.t, s.buf) != pfn;
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_GUP_DECOW), broke);
	assert_int_equal(pte_writable(s.t, s.buf), broke);
	assert_int_equal(fx_pfn(child, s.buf), pfn);
	fx_check_pages(s.t, s.buf, 1, 1);
	if (how == READ_PIN_SLOW)
		gup_unpin_user_page(ref);
	else
		gup_put_page(ref);
	scen_end(&s, child);
	return broke;
}

/* Which read GUPs break COW first, per read_cow value (on the 2.6.29 baseline). */
static void test_read_cow(void **state)
{
	static const char *const anon[] = { "read_cow=anon", NULL };
	static const char *const all[] = { "read_cow=all", NULL };
	static const char *const pinning[] = { "read_cow=pinning", "fast_guard=writable", NULL };
	static const char *const pinning_bare[] = { "read_cow=pinning", NULL };
	static const char *const pin[] = { "read_cow=pin", NULL };
	const char *old = "linux-2.6.29";

	(void)state;
	assert_false(read_cow_case(old, NULL, READ_GET_SLOW));
	assert_false(read_cow_case(old, NULL, READ_GET_FAST));
	assert_true(read_cow_case(old, anon, READ_GET_SLOW));	/* Andrea: every FOLL_GET */
	assert_true(read_cow_case(old, all, READ_PIN_SLOW));	/* Nick: every GUP */
	assert_false(read_cow_case(old, pinning, READ_GET_SLOW));	/* KOSAKI: not plain gup */
	assert_true(read_cow_case(old, pinning, READ_GET_FAST));	/* ... but gup-fast's */
	/* ... if the walk leaves R/O PTEs to the slow path: KOSAKI's guard does. */
	assert_false(read_cow_case(old, pinning_bare, READ_GET_FAST));
	assert_false(read_cow_case(old, pin, READ_GET_SLOW));	/* gVisor: pins only */
	assert_true(read_cow_case(old, pin, READ_PIN_SLOW));
	/* linux-6.x unshares instead: the copy stays R/O (not counted as de-COW). */
	assert_false(read_cow_case(FX_POLICY_NEW, NULL, READ_GET_SLOW));
}

/*
 * gvisor: a R/O pin of a COW-shared page breaks COW (the pinned page is the
 * parent's alone, writable); a later fork copies the pinned page for the child
 * (hasPinned) and the parent's writes keep reaching the pin.  A R/O pin in a
 * mapping without write permission unshares once: the PTE stays R/O.
 */
static void test_gvisor_ro_pin_breaks_cow(void **state)
{
	uint64_t seven = 7;
	struct gup_page *pin[2];
	struct gup_task *child, *child2;
	struct fx_snap snap;
	struct scen s;
	uint64_t ro;

	(void)state;
	assert_true(read_cow_case("gvisor", NULL, READ_PIN_SLOW));
	assert_false(read_cow_case("gvisor", NULL, READ_GET_SLOW));
	scen_new(&s, "gvisor", NULL, 1);
	child = fx_fork(s.t);
	assert_int_equal(gup_pin_user_pages_fast(s.t, s.buf, 1, 0, pin), 1);
	assert_true(fx_pfn(s.t, s.buf) != fx_pfn(child, s.buf));
	assert_true(pte_writable(s.t, s.buf));
	fx_snap(s.w, &snap);
	child2 = fx_fork(s.t);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_FORK_PAGE_COPIED), 1);
	assert_true(pte_writable(s.t, s.buf));
	fx_store_u64(s.t, s.buf, seven);
	assert_int_equal(frame_u64(s.w, pin[0]), seven);
	fx_check_pages(child2, s.buf, 1, 1);

	ro = fx_map_anon(s.t, 1, GUP_PROT_READ, GUP_MAP_PRIVATE);
	assert_int_equal(fx_load_u64(s.t, ro), 0);	/* the zero page */
	fx_snap(s.w, &snap);
	assert_int_equal(gup_pin_user_pages_fast(s.t, ro, 1, 0, pin + 1), 1);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_GUP_DECOW), 1);
	assert_true(fx_pfn(s.t, ro) > 0);
	assert_false(pte_writable(s.t, ro));
	gup_unpin_user_pages(pin, 2);
	fx_snap(s.w, &snap);
	assert_int_equal(gup_pin_user_pages_fast(s.t, ro, 1, 0, pin + 1), 1);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_GUP_DECOW), 0);	/* ours already */
	gup_unpin_user_page(pin[1]);
	gup_task_exit(child2);
	scen_end(&s, child);
}

/*
 * andrea-v2's fork_pre_cow: the parent's page 0 is under an O_DIRECT-style
 * FOLL_GET reference (gup-fast set PG_gup); page 1 is not.  Returns whether
 * fork gave the child a copy of page 0, checking what must hold if it did: the
 * parent keeps the very page and its writable PTE (L2301-2304), so its next
 * store takes no fault and reaches the referenced frame; the child sees the
 * page as it was.  Page 1 is shared COW either way.
 */
static bool precow_case(const char *const *knobs)
{
	uint64_t seven = 7;
	struct gup_page *ref;
	struct gup_task *child;
	struct fx_snap snap;
	struct scen s;
	int64_t pfn;
	bool copied;

	scen_new(&s, "andrea-v2", knobs, 2);
	assert_int_equal(gup_get_user_pages_fast(s.t, s.buf, 1, GUP_FOLL_WRITE, &ref), 1);
	assert_true(PageGUP(fx_page_at(s.t, s.buf)));
	pfn = fx_pfn(s.t, s.buf);
	fx_snap(s.w, &snap);
	child = fx_fork(s.t);
	copied = fx_pfn(child, s.buf) != pfn;
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_FORK_PAGE_COPIED), copied);
	assert_int_equal(fx_pfn(s.t, s.buf), pfn);
	assert_int_equal(pte_writable(s.t, s.buf), copied);
	fx_check_pages(child, s.buf, 2, 1);
	assert_int_equal(fx_pfn(child, s.buf + PG), fx_pfn(s.t, s.buf + PG));
	assert_false(pte_writable(s.t, s.buf + PG));
	fx_snap(s.w, &snap);
	fx_store_u64(s.t, s.buf, seven);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_FAULT_WP), !copied);
	assert_int_equal(frame_u64(s.w, ref) == seven, copied);	/* else lost: R1 */
	fx_check_pages(child, s.buf, 1, 1);
	gup_put_page(ref);
	scen_end(&s, child);
	return copied;
}

static void test_andrea_fork_pre_cow(void **state)
{
	static const char *const no_copy[] = { "fork_copy=none", NULL };
	static const char *const keep[] = { "fork_copy_how=keep", NULL };
	struct gup_page *ref;
	struct gup_task *child;
	struct scen s;

	(void)state;
	assert_true(precow_case(NULL));
	assert_false(precow_case(no_copy));		/* 2.6.29's fork: the bug */
	assert_true(precow_case(keep));			/* copy_present_page's way */

	/* The flag alone is not enough: once the reference is gone, fork shares. */
	scen_new(&s, "andrea-v2", NULL, 1);
	assert_int_equal(gup_get_user_pages_unlocked(s.t, s.buf, 1, &ref, GUP_FOLL_WRITE), 1);
	assert_true(PageGUP(fx_page_at(s.t, s.buf)));	/* the slow path sets it too */
	gup_put_page(ref);
	child = fx_fork(s.t);
	assert_int_equal(fx_pfn(child, s.buf), fx_pfn(s.t, s.buf));
	scen_end(&s, child);
}

/* fork_pre_cow with no frame for the copy: fork fails, the parent is as it was. */
static void test_andrea_fork_pre_cow_no_frame(void **state)
{
	struct gup_world *w = fx_world_new("andrea-v2", 64, 0);
	struct gup_task *t = fx_task_new(w), *child = NULL;
	uint64_t buf = fx_map_private(t, 1), fill;
	struct gup_page *ref;
	struct fx_snap snap;
	int64_t pfn;
	size_t i;

	(void)state;
	fx_store_u64(t, buf, 1);
	assert_int_equal(gup_get_user_pages_fast(t, buf, 1, GUP_FOLL_WRITE, &ref), 1);
	pfn = fx_pfn(t, buf);
	fill = fx_map_private(t, 64);
	for (i = 0; i < 64 && !fx_try_store_u64(t, fill + i * PG, i); i++)
		;
	assert_true(i < 64);
	assert_int_equal(gup_fork(t, &child), -ENOMEM);
	assert_null(child);
	assert_int_equal(fx_pfn(t, buf), pfn);
	assert_true(pte_writable(t, buf));
	assert_true(PageAnonExclusive(fx_page_at(t, buf)));
	fx_check(w);
	fx_snap(w, &snap);
	fx_store_u64(t, buf, 2);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT), 0);
	gup_put_page(ref);
	gup_task_exit(t);
	fx_world_end(w);
}

/*
 * nick-v3: gup-fast refuses an anon page without PG_dontcow and falls back; the
 * slow path marks it, so the next gup-fast gets it locklessly.  fork gives the
 * child a copy of a PG_dontcow page (decow_one_pte) and leaves the parent's PTE
 * write-protected: the parent's next write reuses the page, which a transfer
 * still references, without a copy.  An unmarked page is shared as usual.
 */
static void test_nick_dontcow(void **state)
{
	static const char *const no_copy[] = { "fork_copy=none", NULL };
	uint64_t seven = 7;
	struct gup_page *ref;
	struct gup_task *child;
	struct fx_snap snap;
	struct scen s;
	int64_t pfn;

	(void)state;
	scen_new(&s, "nick-v3", NULL, 2);
	assert_false(PageDontCOW(fx_page_at(s.t, s.buf)));
	assert_false(fast_got(&s, s.buf, true));	/* refused, then the slow path */
	assert_true(PageDontCOW(fx_page_at(s.t, s.buf)));
	assert_true(fast_got(&s, s.buf, true));
	assert_int_equal(gup_get_user_pages_fast(s.t, s.buf, 1, GUP_FOLL_WRITE, &ref), 1);
	pfn = fx_pfn(s.t, s.buf);
	fx_snap(s.w, &snap);
	child = fx_fork(s.t);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_FORK_PAGE_COPIED), 1);
	assert_true(fx_pfn(child, s.buf) != pfn);
	assert_int_equal(fx_pfn(child, s.buf + PG), fx_pfn(s.t, s.buf + PG));
	fx_check_pages(child, s.buf, 2, 1);
	assert_false(pte_writable(s.t, s.buf));
	fx_snap(s.w, &snap);
	fx_store_u64(s.t, s.buf, seven);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_COW_REUSE), 1);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_COW_COPY), 0);
	assert_int_equal(fx_pfn(s.t, s.buf), pfn);
	assert_int_equal(frame_u64(s.w, ref), seven);
	fx_check_pages(child, s.buf, 1, 1);
	gup_put_page(ref);
	scen_end(&s, child);

	/* Without the fork side the marked page is shared, and the parent's write copies. */
	scen_new(&s, "nick-v3", no_copy, 1);
	assert_false(fast_got(&s, s.buf, true));
	child = fx_fork(s.t);
	assert_int_equal(fx_pfn(child, s.buf), fx_pfn(s.t, s.buf));
	scen_end(&s, child);
}

/* A fork on a thread of its own: the test watches whether it has returned. */
struct forker {
	struct gup_task *t, *child;
	_Atomic bool done;
	int ret;
};

static void forker_fn(void *arg)
{
	struct forker *f = arg;

	f->ret = gup_fork(f->t, &f->child);
	atomic_store(&f->done, true);
}

/* Has the fork been waiting for the fork-exclusion lock for a while? */
static bool fork_is_blocked(struct gup_world *w, const struct fx_snap *snap, struct forker *f)
{
	struct fx_spin spin;

	fx_spin_begin(&spin, FX_WAIT_NS, 64);
	while (!fx_delta(w, snap, GUP_STAT_FORK_IO_WAIT) && !atomic_load(&f->done))
		if (!fx_spin(&spin))
			return false;
	nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);	/* still, later */
	return !atomic_load(&f->done);
}

/*
 * kosaki-v2: an asynchronous O_DIRECT read is in flight (the engine plugged);
 * fork, on another thread, waits for it on mm_pinned_sem and goes on once the
 * transfer completed (F16, L8719-8813).  Under KOSAKI's v1 lock (dio_submit)
 * the asynchronous transfer has already let go of it: fork does not wait (R10).
 */
static void kosaki_fork_waits(const char *const *knobs, bool want_wait)
{
	struct gup_world_config cfg = { .nr_frames = 256, .nr_movable = 64,
					.policy = "kosaki-v2", .knobs = knobs };
	struct gup_disk_config dc = { .bytes = FX_IO_DISK_BYTES };
	struct forker f = { .done = false };
	struct gup_thread *th;
	struct gup_disk *d;
	struct gup_iovec iov;
	struct gup_dio *req;
	struct fx_snap snap;
	struct gup_world *w;

	assert_int_equal(gup_world_create(&cfg, &w), 0);
	assert_int_equal(gup_disk_create(w, &dc, &d), 0);
	f.t = fx_task_new(w);
	iov.base = fx_map_private(f.t, 1) + 512;
	iov.len = 512;
	fx_store_u64(f.t, iov.base - 512, 1);
	assert_int_equal(gup_dio_plug(w), 0);
	assert_int_equal(gup_dio_submit(f.t, d, GUP_DIO_READ, 0, &iov, 1, &req), 0);
	fx_snap(w, &snap);
	th = fx_thread_start(w, forker_fn, &f);
	if (want_wait) {
		assert_true(fork_is_blocked(w, &snap, &f));
	} else {
		assert_int_equal(gup_thread_join(th), 0);
		th = NULL;
		assert_int_equal(fx_delta(w, &snap, GUP_STAT_FORK_IO_WAIT), 0);
	}
	assert_int_equal(gup_dio_unplug(w), 0);
	assert_int_equal(gup_dio_wait(req), 512);
	if (th)
		assert_int_equal(gup_thread_join(th), 0);
	assert_int_equal(f.ret, 0);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FORK_IO_WAIT), want_wait);
	gup_task_exit(f.child);
	assert_int_equal(gup_disk_destroy(d), 0);
	gup_task_exit(f.t);
	fx_world_end(w);
}

static void test_kosaki_fork_waits_for_dio(void **state)
{
	static const char *const v1[] = { "fork_lock=dio_submit", NULL };
	static const char *const none[] = { "fork_lock=none", NULL };

	(void)state;
	kosaki_fork_waits(NULL, true);
	kosaki_fork_waits(v1, false);
	kosaki_fork_waits(none, false);
}

/*
 * freebsd: fork copies eagerly only the pages of wired entries.  An O_DIRECT
 * style hold (FOLL_GET, or a pin without FOLL_LONGTERM) wires nothing, so fork
 * shares the page COW and the parent's next write copies it away from the
 * hold; a FOLL_LONGTERM pin wires the VMA, so fork copies all of it for the
 * child and the parent keeps its pages, writable.  The child's entry is not
 * wired: its own fork shares.
 */
static void test_freebsd_wired_entries(void **state)
{
	struct gup_page *ref, *pin;
	struct gup_task *child, *grandchild;
	struct fx_snap snap;
	struct scen s;
	int64_t pfn;

	(void)state;
	scen_new(&s, "freebsd", NULL, 2);
	assert_int_equal(gup_get_user_pages_fast(s.t, s.buf, 1, GUP_FOLL_WRITE, &ref), 1);
	assert_int_equal(gup_pin_user_pages_fast(s.t, s.buf, 1, GUP_FOLL_WRITE, &pin), 1);
	fx_snap(s.w, &snap);
	child = fx_fork(s.t);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_FORK_PAGE_COPIED), 0);
	assert_int_equal(fx_pfn(child, s.buf), fx_pfn(s.t, s.buf));
	gup_unpin_user_page(pin);
	gup_put_page(ref);
	gup_task_exit(child);

	assert_int_equal(gup_pin_user_pages_fast(s.t, s.buf, 1,
						 GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, &pin), 1);
	pfn = fx_pfn(s.t, s.buf);
	fx_snap(s.w, &snap);
	child = fx_fork(s.t);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_FORK_PAGE_COPIED), 2);	/* the entry */
	assert_int_equal(fx_pfn(s.t, s.buf), pfn);
	assert_true(fx_pfn(child, s.buf) != pfn);
	assert_true(pte_writable(s.t, s.buf));	/* the parent's PTEs untouched */
	assert_true(fx_pfn(child, s.buf + PG) != fx_pfn(s.t, s.buf + PG));
	fx_check_pages(child, s.buf, 2, 1);
	fx_snap(s.w, &snap);
	grandchild = fx_fork(child);
	assert_int_equal(fx_delta(s.w, &snap, GUP_STAT_FORK_PAGE_COPIED), 0);
	gup_task_exit(grandchild);
	gup_unpin_user_page(pin);
	scen_end(&s, child);
}

/*
 * Every preset: pins of each kind and a transient reference held across two
 * forks, both sides writing every page, then everything released.  Each side
 * must see exactly its own writes, the invariant checker must be clean at each
 * step, and the teardown must find every frame free.
 */
static void sweep_one(const char *policy)
{
	struct gup_page *pins[3], *ref;
	struct gup_task *child, *child2;
	struct scen s;

	scen_new(&s, policy, NULL, 4);
	assert_int_equal(gup_pin_user_pages_fast(s.t, s.buf, 1, GUP_FOLL_WRITE, pins), 1);
	assert_int_equal(gup_get_user_pages_fast(s.t, s.buf + PG, 1, GUP_FOLL_WRITE, &ref), 1);
	assert_int_equal(gup_pin_user_pages_fast(s.t, s.buf + 2 * PG, 1, 0, pins + 1), 1);
	assert_int_equal(gup_pin_user_pages_fast(s.t, s.buf + 3 * PG, 1,
						 GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, pins + 2), 1);
	child = fx_fork(s.t);
	fx_check(s.w);
	fx_fill_pages(s.t, s.buf, 4, 2);
	fx_check_pages(child, s.buf, 4, 1);
	fx_fill_pages(child, s.buf, 4, 3);
	fx_check_pages(s.t, s.buf, 4, 2);
	fx_check(s.w);
	child2 = fx_fork(s.t);
	fx_fill_pages(child2, s.buf, 2, 4);
	fx_fill_pages(s.t, s.buf + 2 * PG, 2, 5);
	fx_check_pages(s.t, s.buf, 2, 2);
	fx_check_pages(child, s.buf, 4, 3);
	fx_check(s.w);
	gup_unpin_user_pages_dirty_lock(pins, 3, true);
	gup_put_page(ref);
	fx_check(s.w);
	gup_task_exit(child2);
	scen_end(&s, child);
}

static void test_every_preset_checks_clean(void **state)
{
	(void)state;
	for (const char *const *n = gup_policy_names(); *n; n++)
		sweep_one(*n);
}

/* ---- the litmus runner ------------------------------------------------------------ */

/*
 * R3, Linus's race against the first PG_gup patch (L376-402): andrea-v2 is
 * Never with its recheck, and Sometimes without it (--knob fast_recheck=off):
 * the runner's worlds must get the overrides, or the witness would not exist.
 */
static void test_litmus_carries_knobs(void **state)
{
	static const char *const knobs[] = { "fast_recheck=off", NULL };
	struct litmus_test *t = corpus("R3-fork-vs-gup-fast");
	struct litmus_result *r = NULL;
	struct litmus_run_opts o;

	(void)state;
	litmus_run_opts_init(&o);
	assert_int_equal(litmus_run(t, "andrea-v2", &o, &r), 0);
	assert_int_equal(r->obs, LITMUS_NEVER);
	assert_null(r->knobs);
	litmus_result_free(r);
	o.knobs = knobs;
	assert_int_equal(litmus_run(t, "andrea-v2", &o, &r), 0);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->obs, LITMUS_SOMETIMES);
	assert_string_equal(r->knobs, "fast_recheck=off");
	litmus_result_free(r);
	o.knobs = (const char *const[]){ "fast_guard=sideways", NULL };
	assert_int_equal(litmus_run(t, "andrea-v2", &o, &r), -EINVAL);
	assert_null(r);
	litmus_free(t);
}

/*
 * R10 (Andrea L6987-7013, KAMEZAWA L7789-7796): KOSAKI v2's lock, released by
 * the completion, keeps fork off an asynchronous read in flight; KOSAKI v1's,
 * released when the submission returns (--knob fork_lock=dio_submit), lets
 * fork share the page under the read.  The matrix runs presets only: this is
 * where the corpus's R10 test is run with the override.
 */
static void test_litmus_r10_lock_release(void **state)
{
	static const char *const v1[] = { "fork_lock=dio_submit", NULL };
	struct litmus_test *t = corpus("R10-aio-escapes-lock");
	struct litmus_result *r = NULL;
	struct litmus_run_opts o;

	(void)state;
	litmus_run_opts_init(&o);
	assert_int_equal(litmus_run(t, "kosaki-v2", &o, &r), 0);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->obs, LITMUS_NEVER);
	litmus_result_free(r);
	o.knobs = v1;
	assert_int_equal(litmus_run(t, "kosaki-v2", &o, &r), 0);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->errors, 0);
	assert_int_equal(r->obs, LITMUS_SOMETIMES);
	assert_string_equal(r->knobs, "fork_lock=dio_submit");
	litmus_result_free(r);
	litmus_free(t);
}

/* ---- the commands ------------------------------------------------------------------- */

static char gup_path[512];

/* Run `gup ARGS`, its output (stdout and stderr) into *@out; the exit status. */
static int gup_cmd(const char *args, char **out)
{
	char cmd[2048], chunk[4096];
	size_t len = 0, got;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", gup_path, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	*out = calloc(1, 1);
	while ((got = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		*out = realloc(*out, len + got + 1);
		assert_non_null(*out);
		memcpy(*out + len, chunk, got);
		len += got;
		(*out)[len] = '\0';
	}
	st = pclose(p);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* `gup ARGS` with "@" in @args standing for the corpus directory. */
static void expect_cmd(const char *fmt, int status, const char *want)
{
	char dir[512], args[1024], *out, *at;
	int st;

	fx_repo_path(dir, sizeof(dir), "tests/litmus");
	at = strchr(fmt, '@');
	if (at)
		snprintf(args, sizeof(args), "%.*s'%s'%s", (int)(at - fmt), fmt, dir, at + 1);
	else
		snprintf(args, sizeof(args), "%s", fmt);
	st = gup_cmd(args, &out);

	if (st != status || !strstr(out, want))
		fail_msg("gup %s: status %d, output:\n%s\n(wanted %d and '%s')", args, st, out,
			 status, want);
	free(out);
}

static void test_commands(void **state)
{
	(void)state;
	if (access(gup_path, X_OK))
		skip();
	expect_cmd("policies", 0, "linux-6.x       5.19+ anon-exclusive");
	expect_cmd("policies", 0, "reuse=mapcount read_cow=never ");
	for (const char *const *n = gup_policy_names(); *n; n++) {
		char line[128];

		snprintf(line, sizeof(line), "\n%-15s %.20s", *n, gup_policy_summary(*n));
		expect_cmd("policies", 0, strcmp(*n, "linux-6.x") ? line : line + 1);
	}
	expect_cmd("policies extra", 2, "gup: policies: unexpected argument 'extra'");
	expect_cmd("demo --pages 2 --knob reuse=refcount", 0,
		   "libgup demo, policy linux-6.x with reuse=refcount\n");
	expect_cmd("demo --knob reuse=sometimes", 2,
		   "gup: knob reuse has no value 'sometimes' (values: mapcount, ");
	expect_cmd("demo --knob nope=1", 2, "gup: unknown knob 'nope' (known: reuse, ");
	expect_cmd("demo --knob fast_recheck", 2, "gup: knob 'fast_recheck' is not name=value");
	expect_cmd("demo --policy linux-0.1", 2, "gup: unknown policy 'linux-0.1' (known: ");
	expect_cmd("litmus --knob bogus=on @", 2, "gup litmus: unknown knob 'bogus'");
	expect_cmd("litmus --knob", 2, "gup litmus: --knob needs name=value");
	expect_cmd("litmus --policy linux-0.1 @", 2,
		   "gup litmus: unknown policy 'linux-0.1'");
	expect_cmd("litmus --check --knob fast_recheck=off --policy linux-6.x "
		   "@/COW-basic.litmus", 0,
		   "skip COW-basic linux-6.x: knobs overridden");
	expect_cmd("litmus --knob fast_recheck=off --policy linux-6.x "
		   "@/COW-basic.litmus", 0, "Policy linux-6.x with fast_recheck=off\n");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presets_round_trip),
		cmocka_unit_test(test_override_reaches_world),
		cmocka_unit_test(test_bad_knobs),
		cmocka_unit_test(test_linus_refcount_extra_ref_copies),
		cmocka_unit_test(test_linux59_fork_copies_pinned),
		cmocka_unit_test(test_fast_guards),
		cmocka_unit_test(test_read_cow),
		cmocka_unit_test(test_gvisor_ro_pin_breaks_cow),
		cmocka_unit_test(test_andrea_fork_pre_cow),
		cmocka_unit_test(test_andrea_fork_pre_cow_no_frame),
		cmocka_unit_test(test_nick_dontcow),
		cmocka_unit_test(test_kosaki_fork_waits_for_dio),
		cmocka_unit_test(test_freebsd_wired_entries),
		cmocka_unit_test(test_every_preset_checks_clean),
		cmocka_unit_test(test_litmus_carries_knobs),
		cmocka_unit_test(test_litmus_r10_lock_release),
		cmocka_unit_test(test_commands),
	};
	const char *slash = strrchr(argv[0], '/');

	(void)argc;
	/* build/tests/test_policy -> build/gup */
	snprintf(gup_path, sizeof(gup_path), "%.*s/../gup", slash ? (int)(slash - argv[0]) : 1,
		 slash ? argv[0] : ".");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
