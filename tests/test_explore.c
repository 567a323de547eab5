/* SPDX-License-Identifier: MIT */
/*
 * tests/test_explore.c - explore mode: coroutine actors under the deterministic
 * scheduler, its strategies, and the reduction.
 *
 * Small programs over the substrate's primitives whose outcome sets are known:
 * a lost update that exhaustive search must find and POR must still find, fully
 * independent actors that POR explores once, locks that exclude, a deadlock that
 * is reported as an outcome, wait queues and joins that block and wake, timeouts
 * on the virtual clock, replay of a printed schedule, random walks and PCT.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sched/explore.h"
#include "sched/sched.h"

#define MAX_OUT 64

/* One scenario: its actors' bodies, and the outcomes seen (a value per execution). */
struct scen {
	int nactors;
	void (*body[4])(void *arg);
	void (*init)(struct scen *s);
	uint64_t (*outcome)(struct scen *s);
	/* shared state of the toy program */
	_Atomic uint64_t x, y, flag;
	atomic_t cnt;
	spinlock_t lock;
	struct mutex m1, m2, m3;
	struct wait_queue_head wq;
	int rc[4];
	int n;				/* iterations, where a body loops */
	struct sched_thread *t[4];
	/* what explore saw */
	uint64_t outs[MAX_OUT];
	unsigned long count[MAX_OUT];
	int nout;
	unsigned long done, deadlocks, bounds, redundant;
	char witness[256];		/* a schedule that gave outcomes[want] */
	uint64_t want;
};

static int scen_setup(void *arg)
{
	struct scen *s = arg;

	atomic_init(&s->x, 0);
	atomic_init(&s->y, 0);
	atomic_init(&s->flag, 0);
	atomic_set(&s->cnt, 0);
	spin_lock_init(&s->lock);
	memset(s->rc, 0, sizeof(s->rc));
	if (s->init)
		s->init(s);
	for (int i = 0; i < s->nactors; i++)
		if (sched_thread_start(&s->t[i], s->body[i], s) != 0)
			return -ENOMEM;
	return 0;
}

static void scen_finish(void *arg, enum explore_end end, bool redundant, const char *sched)
{
	struct scen *s = arg;
	uint64_t o;
	int i;

	if (redundant) {
		s->redundant++;
		return;
	}
	if (end == EXPLORE_DEADLOCK) {
		s->deadlocks++;
		return;
	}
	if (end == EXPLORE_STEP_BOUND) {
		s->bounds++;
		return;
	}
	s->done++;
	o = s->outcome(s);
	for (i = 0; i < s->nout; i++)
		if (s->outs[i] == o)
			break;
	if (i == s->nout && s->nout < MAX_OUT)
		s->outs[s->nout++] = o;
	if (i < MAX_OUT)
		s->count[i]++;
	if (o == s->want && !s->witness[0])
		snprintf(s->witness, sizeof(s->witness), "%s", sched);
}

static void scen_teardown(void *arg, bool abandoned)
{
	struct scen *s = arg;

	/* Actors stuck in an abandoned execution cannot be joined, only freed. */
	for (int i = 0; i < s->nactors; i++) {
		int rc = sched_thread_join(s->t[i]);

		if (abandoned)
			assert_true(rc == 0 || rc == -EDEADLK);
		else
			assert_int_equal(rc, 0);
	}
}

static const struct explore_ops scen_ops = { scen_setup, scen_finish, scen_teardown };

static bool seen(const struct scen *s, uint64_t o)
{
	for (int i = 0; i < s->nout; i++)
		if (s->outs[i] == o)
			return true;
	return false;
}

static void reset_results(struct scen *s)
{
	s->nout = 0;
	memset(s->count, 0, sizeof(s->count));
	s->done = s->deadlocks = s->bounds = s->redundant = 0;
	s->witness[0] = '\0';
}

static struct explore_stats run(struct scen *s, enum explore_strategy how, bool por)
{
	struct explore_config cfg = { .strategy = how, .por = por, .preemption_bound = -1,
				      .seed = 42 };
	struct explore_stats st;

	reset_results(s);
	assert_int_equal(explore_run(&cfg, &scen_ops, s, &st), 0);
	return st;
}

/* DFS with POR, lock-aware or ordering every two critical sections. */
static struct explore_stats run_locks(struct scen *s, bool order_locks)
{
	struct explore_config cfg = { .strategy = EXPLORE_DFS, .por = true,
				      .preemption_bound = -1, .order_locks = order_locks };
	struct explore_stats st;

	reset_results(s);
	assert_int_equal(explore_run(&cfg, &scen_ops, s, &st), 0);
	assert_true(st.complete);
	return st;
}

static uint64_t out_x(struct scen *s)
{
	return atomic_load(&s->x);
}

/* ---- a lost update ---- */

static void racy_inc(void *arg)
{
	struct scen *s = arg;
	uint64_t v = read_once_u64(&s->x);

	write_once_u64(&s->x, v + 1);
}

static void test_lost_update_found(void **state)
{
	struct scen s = { .nactors = 2, .body = { racy_inc, racy_inc }, .outcome = out_x,
			  .want = 1 };
	struct explore_stats full, por;

	(void)state;
	full = run(&s, EXPLORE_DFS, false);
	assert_true(full.complete);
	assert_true(seen(&s, 1) && seen(&s, 2));
	assert_int_equal(s.nout, 2);
	assert_true(s.witness[0] != '\0');
	por = run(&s, EXPLORE_DFS, true);
	assert_true(por.complete);
	assert_true(seen(&s, 1) && seen(&s, 2));
	assert_int_equal(s.nout, 2);
	/* POR explores no more than plain DFS, and here strictly fewer. */
	assert_true(por.execs - por.redundant < full.execs);
	assert_int_equal(s.deadlocks + s.bounds, 0);
}

static void atomic_incs(void *arg)
{
	struct scen *s = arg;

	atomic_inc(&s->cnt);
	atomic_inc(&s->cnt);
}

static uint64_t out_cnt(struct scen *s)
{
	return (uint64_t)atomic_read(&s->cnt);
}

static void test_atomics_never_lose(void **state)
{
	struct scen s = { .nactors = 3, .body = { atomic_incs, atomic_incs, atomic_incs },
			  .outcome = out_cnt };

	(void)state;
	run(&s, EXPLORE_DFS, true);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 6);
	run(&s, EXPLORE_DFS, false);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 6);
}

/* ---- independent actors: POR explores one interleaving ---- */

static void write_x_many(void *arg)
{
	struct scen *s = arg;

	for (int i = 0; i < 4; i++)
		write_once_u64(&s->x, read_once_u64(&s->x) + 1);
}

static void write_y_many(void *arg)
{
	struct scen *s = arg;

	for (int i = 0; i < 4; i++)
		write_once_u64(&s->y, read_once_u64(&s->y) + 1);
}

static uint64_t out_xy(struct scen *s)
{
	return atomic_load(&s->x) * 100 + atomic_load(&s->y);
}

static void test_por_independent(void **state)
{
	struct scen s = { .nactors = 2, .body = { write_x_many, write_y_many },
			  .outcome = out_xy };
	struct explore_stats full, por;

	(void)state;
	por = run(&s, EXPLORE_DFS, true);
	assert_true(por.complete);
	assert_int_equal(por.execs - por.redundant, 1);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 404);
	full = run(&s, EXPLORE_DFS, false);
	assert_true(full.complete);
	/* 8 steps each way interleave in C(16, 8) = 12870 ways, or near it. */
	assert_true(full.execs > 1000);
	assert_int_equal(s.nout, 1);
	print_message("independent actors: %lu executions without POR, %lu with\n",
		      full.execs, por.execs - por.redundant);
}

/*
 * ---- bit words: each bit is an object ----
 *
 * Actor 0 sets bit 0 and tests bit 1; actor 1 sets bit 2 and tests bit
 * @s->n.  Bits 0..2 never meet: one interleaving.  With @s->n = 0 actor 1
 * tests the bit actor 0 sets: both answers.
 */
static uint64_t out_rc1(struct scen *s)
{
	return (uint64_t)s->rc[1];
}

static void bits_a(void *arg)
{
	struct scen *s = arg;

	set_bit(0, &s->x);
	s->rc[0] = test_bit(1, &s->x);
}

static void bits_b(void *arg)
{
	struct scen *s = arg;

	set_bit(2, &s->x);
	s->rc[1] = test_bit((unsigned)s->n, &s->x);
	/* One load for two bits: only the named ones are read, and returned. */
	s->rc[2] = (int)read_bits_u64(&s->x, UINT64_C(1) << 1 | UINT64_C(1) << 2);
}

static uint64_t out_bits(struct scen *s)
{
	return (uint64_t)s->rc[1] * 100 + (uint64_t)s->rc[2];
}

static void test_por_bits_independent(void **state)
{
	struct scen s = { .nactors = 2, .body = { bits_a, bits_b }, .outcome = out_bits,
			  .n = 1 };
	struct explore_stats st;

	(void)state;
	st = run(&s, EXPLORE_DFS, true);
	assert_true(st.complete);
	assert_int_equal(st.execs - st.redundant, 1);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 4);		/* bit 1 clear; bits 1|2 read as 4 */
	/* The same bit: set before or after the test, both seen. */
	s.n = 0;
	st = run(&s, EXPLORE_DFS, true);
	assert_true(st.complete);
	assert_int_equal(s.nout, 2);
	assert_int_equal(s.outs[0] + s.outs[1], 4 + 104);
}

/*
 * A word of fields (page->count's shape): field 0 low, field 1 high.  Actor 0
 * adds to field 1; actor 1 drops field 0 and reads field @s->n.  Field 0 alone
 * never meets field 1: one interleaving; reading field 1: both values.
 */
static void fields_a(void *arg)
{
	struct scen *s = arg;

	add_parts_u64(&s->y, 2, UINT64_C(1) << 32);
}

static void fields_b(void *arg)
{
	struct scen *s = arg;
	uint64_t parts = s->n ? 2 : 1;

	s->rc[2] = (int)fetch_add_parts_u64(&s->y, 1, (uint64_t)0 - 1);
	s->rc[1] = (int)(read_parts_u64(&s->y, parts) >> (s->n ? 32 : 0));
}

static void init_fields(struct scen *s)
{
	atomic_store(&s->y, 5);
}

static void test_por_word_fields(void **state)
{
	struct scen s = { .nactors = 2, .body = { fields_a, fields_b }, .outcome = out_rc1,
			  .init = init_fields };
	struct explore_stats st;

	(void)state;
	st = run(&s, EXPLORE_DFS, true);
	assert_true(st.complete);
	assert_int_equal(st.execs - st.redundant, 1);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 4);
	s.n = 1;
	st = run(&s, EXPLORE_DFS, true);
	assert_true(st.complete);
	assert_int_equal(s.nout, 2);		/* the mapcount before or after */
	assert_int_equal(s.outs[0] + s.outs[1], 1);
}

/*
 * Puts on a count (field 0 of y, page->count's refcount): a put that keeps it
 * above zero says so (sched_dec_kept, as page_ref_sub does); one that takes it
 * to zero "frees", and x records which actor did.
 */
static void put_count(void *arg)
{
	struct scen *s = arg;

	if (fetch_add_parts_u64(&s->y, 1, (uint64_t)0 - 1) > 1)
		sched_dec_kept(&s->y, 1);
	else
		write_once_u64(&s->x, (uint64_t)explore_current_actor() + 1);
}

static void get_count(void *arg)
{
	struct scen *s = arg;

	add_parts_u64(&s->y, 1, 1);
}

static void init_count(struct scen *s)
{
	atomic_store(&s->y, (uint64_t)s->n);
}

/* Who freed (0: nobody), and the count left. */
static uint64_t out_freer(struct scen *s)
{
	return atomic_load(&s->x) * 100 + atomic_load(&s->y);
}

/*
 * Actor 0 runs @first and actor 1 a put, from a count of @n: a complete search
 * finds @nout outcomes summing to @sum, in @execs interleavings (0: any).
 */
static void assert_puts(void (*first)(void *), uint64_t n, int nout, uint64_t sum,
			unsigned long execs)
{
	struct scen s = { .nactors = 2, .body = { first, put_count }, .outcome = out_freer,
			  .init = init_count, .n = (int)n };
	struct explore_stats st = run(&s, EXPLORE_DFS, true);
	uint64_t got = 0;

	assert_true(st.complete);
	if (execs)
		assert_int_equal(st.execs - st.redundant, execs);
	assert_int_equal(s.nout, nout);
	for (int i = 0; i < s.nout; i++)
		got += s.outs[i];
	assert_int_equal(got, sum);
}

/* Two puts that both keep the count above zero commute: one interleaving. */
static void test_por_kept_puts_commute(void **state)
{
	(void)state;
	assert_puts(put_count, 3, 1, 1, 1);
}

/* When one of them takes it to zero the order decides who frees: both run. */
static void test_por_last_put_ordered(void **state)
{
	(void)state;
	assert_puts(put_count, 2, 2, 100 + 200, 0);
}

/*
 * A kept put does not commute with a get: run first, the put would have been
 * the last.  The default order (the get first) keeps the count; the other frees.
 */
static void test_por_kept_put_not_with_get(void **state)
{
	(void)state;
	assert_puts(get_count, 1, 2, 1 + 201, 0);
}

/* A bit lock is its bit: a test of that bit sees it held or not, as it was. */
static void bitlock_hold(void *arg)
{
	struct scen *s = arg;

	if (!test_and_set_bit_lock(3, &s->x)) {
		write_once_u64(&s->y, 1);	/* a step inside the section */
		clear_bit_unlock(3, &s->x);
	}
}

static void bitlock_look(void *arg)
{
	struct scen *s = arg;

	s->rc[1] = test_bit(3, &s->x) + 2 * test_bit(4, &s->x);
}

static void test_por_bit_lock(void **state)
{
	struct scen s = { .nactors = 2, .body = { bitlock_hold, bitlock_look },
			  .outcome = out_rc1 };
	struct explore_stats st;

	(void)state;
	st = run(&s, EXPLORE_DFS, true);
	assert_true(st.complete);
	assert_int_equal(s.nout, 2);		/* held (1) or not (0) */
	assert_int_equal(s.outs[0] + s.outs[1], 1);
}

/* ---- locks ---- */

static void locked_inc(void *arg)
{
	struct scen *s = arg;

	for (int i = 0; i < 2; i++) {
		spin_lock(&s->lock);
		write_once_u64(&s->x, read_once_u64(&s->x) + 1);
		spin_unlock(&s->lock);
	}
}

static void test_spinlock_excludes(void **state)
{
	struct scen s = { .nactors = 2, .body = { locked_inc, locked_inc }, .outcome = out_x };
	struct explore_stats st;

	(void)state;
	st = run(&s, EXPLORE_DFS, true);
	assert_true(st.complete);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 4);
	assert_int_equal(s.deadlocks + s.bounds, 0);
}

static void init_mutexes(struct scen *s)
{
	mutex_init(&s->m1);
	mutex_init(&s->m2);
}

static void ab(void *arg)
{
	struct scen *s = arg;

	mutex_lock(&s->m1);
	mutex_lock(&s->m2);
	mutex_unlock(&s->m2);
	mutex_unlock(&s->m1);
}

static void ba(void *arg)
{
	struct scen *s = arg;

	mutex_lock(&s->m2);
	mutex_lock(&s->m1);
	mutex_unlock(&s->m1);
	mutex_unlock(&s->m2);
}

static uint64_t out_zero(struct scen *s)
{
	(void)s;
	return 0;
}

/* A complete search of @s ends in deadlock in some executions and finishes in others. */
static void assert_deadlocks_sometimes(struct scen *s)
{
	struct explore_stats st = run(s, EXPLORE_DFS, true);

	assert_true(st.complete);
	assert_true(s->deadlocks > 0);	/* each holds one, waits for the next */
	assert_true(s->done > 0);	/* and the orders that do not overlap finish */
	assert_int_equal(st.deadlocks, s->deadlocks);
}

static void test_deadlock_is_an_outcome(void **state)
{
	struct scen s = { .nactors = 2, .body = { ab, ba }, .init = init_mutexes,
			  .outcome = out_zero };

	(void)state;
	assert_deadlocks_sometimes(&s);
}

static void init_three_mutexes(struct scen *s)
{
	init_mutexes(s);
	mutex_init(&s->m3);
}

/* Actor i takes mutex i, then mutex i + 1 (mod 3): a cycle of three. */
static void lock_ring(void *arg)
{
	struct scen *s = arg;
	struct mutex *m[3] = { &s->m1, &s->m2, &s->m3 };
	int i = explore_current_actor();

	mutex_lock(m[i]);
	mutex_lock(m[(i + 1) % 3]);
	mutex_unlock(m[(i + 1) % 3]);
	mutex_unlock(m[i]);
}

/*
 * The lock-order races of a nested and an outer acquisition (lock_order_note)
 * find a cycle of three as well as AB-BA: each lock is outer for one actor and
 * nested for the next.
 */
static void test_deadlock_ring_of_three(void **state)
{
	struct scen s = { .nactors = 3, .body = { lock_ring, lock_ring, lock_ring },
			  .init = init_three_mutexes, .outcome = out_zero };

	(void)state;
	assert_deadlocks_sometimes(&s);
}

/* AB-BA behind a gate: m3 around both orders. */
static void gated_ab(void *arg)
{
	struct scen *s = arg;

	mutex_lock(&s->m3);
	ab(arg);
	mutex_unlock(&s->m3);
}

static void gated_ba(void *arg)
{
	struct scen *s = arg;

	mutex_lock(&s->m3);
	ba(arg);
	mutex_unlock(&s->m3);
}

/*
 * The gate makes the cycle unreachable: m1 and m2 are still outer for one
 * actor and nested for the other, so both orders of the sections run, and
 * neither deadlocks.
 */
static void test_deadlock_gated(void **state)
{
	struct scen s = { .nactors = 2, .body = { gated_ab, gated_ba },
			  .init = init_three_mutexes, .outcome = out_zero };

	(void)state;
	run_locks(&s, false);
	assert_int_equal(s.deadlocks, 0);
	assert_int_equal(s.done, 2);
}

static void cs_own_var(void *arg);

/* cs_own_var's spinlock nested in m3. */
static void nested_own_var(void *arg)
{
	struct scen *s = arg;

	mutex_lock(&s->m3);
	cs_own_var(arg);
	mutex_unlock(&s->m3);
}

/*
 * Two actors running @body, each storing to its own variable under a lock:
 * one class lock-aware, both orders with order_locks.
 */
static void assert_sections_one_class(struct scen *s)
{
	struct explore_stats aware, ordered;

	aware = run_locks(s, false);
	assert_int_equal(s->nout, 1);
	assert_int_equal(s->outs[0], 101);
	assert_int_equal(aware.execs - aware.redundant, 1);
	ordered = run_locks(s, true);
	assert_int_equal(s->nout, 1);
	assert_true(ordered.execs - ordered.redundant >= 2);
}

/*
 * Nested acquisitions order nothing by themselves: the spinlock is nested for
 * both actors and m3 outer for both, so no cycle can form, and sections that
 * do not conflict are one class.  (When every nested acquisition was a write,
 * this ran both orders.)
 */
static void test_nested_sections_independent(void **state)
{
	struct scen s = { .nactors = 2, .body = { nested_own_var, nested_own_var },
			  .init = init_three_mutexes, .outcome = out_xy };

	(void)state;
	assert_sections_one_class(&s);
}

/*
 * ---- lock-aware reduction ----
 *
 * Critical sections of one lock are reordered only when what they do
 * conflicts; then the reversal must start before the first one took the lock.
 */
static void cs_own_var(void *arg)
{
	struct scen *s = arg;
	bool first = explore_current_actor() == 0;

	spin_lock(&s->lock);
	write_once_u64(first ? &s->x : &s->y, 1);
	spin_unlock(&s->lock);
}

static void test_locks_independent_sections(void **state)
{
	struct scen s = { .nactors = 2, .body = { cs_own_var, cs_own_var }, .outcome = out_xy };

	(void)state;
	/* Two orders of the sections, one class: only order_locks runs both. */
	assert_sections_one_class(&s);
}

static void cs_write_x(void *arg)
{
	struct scen *s = arg;

	spin_lock(&s->lock);
	write_once_u64(&s->x, 1);
	spin_unlock(&s->lock);
}

static void cs_read_x(void *arg)
{
	struct scen *s = arg;

	spin_lock(&s->lock);
	write_once_u64(&s->y, read_once_u64(&s->x) + 1);
	spin_unlock(&s->lock);
}

static uint64_t out_y(struct scen *s)
{
	return atomic_load(&s->y);
}

/* Conflicting sections: both orders, whichever ran first. */
static void test_locks_conflicting_sections(void **state)
{
	struct scen s = { .nactors = 2, .body = { cs_write_x, cs_read_x }, .outcome = out_y };
	struct scen r = { .nactors = 2, .body = { cs_read_x, cs_write_x }, .outcome = out_y };

	(void)state;
	for (int order = 0; order < 2; order++) {
		run_locks(&s, order);
		assert_int_equal(s.nout, 2);
		assert_true(seen(&s, 1) && seen(&s, 2));
		run_locks(&r, order);
		assert_int_equal(r.nout, 2);
		assert_true(seen(&r, 1) && seen(&r, 2));
	}
}

/*
 * The race is between a read inside one section and a write after another:
 * the writer must take the lock first, which it could not do at the read (it
 * was waiting for the lock there) - only "before the reader took it" reverses it.
 */
static void read_x_locked(void *arg)
{
	struct scen *s = arg;

	spin_lock(&s->lock);
	write_once_u64(&s->y, read_once_u64(&s->x) + 1);
	spin_unlock(&s->lock);
}

static void write_x_after_section(void *arg)
{
	struct scen *s = arg;

	spin_lock(&s->lock);
	spin_unlock(&s->lock);
	write_once_u64(&s->x, 1);
}

static void test_locks_waiter_goes_first(void **state)
{
	struct scen s = { .nactors = 2, .body = { read_x_locked, write_x_after_section },
			  .outcome = out_y };

	(void)state;
	for (int order = 0; order < 2; order++) {
		run_locks(&s, order);
		assert_true(seen(&s, 1));	/* read before the write */
		assert_true(seen(&s, 2));	/* the writer's section came first */
	}
}

/* ---- wait queues, timeouts, joins ---- */

static void init_wq(struct scen *s)
{
	init_waitqueue_head(&s->wq);
}

static bool flag_set(void *arg)
{
	struct scen *s = arg;

	return read_once_u64(&s->flag) != 0;
}

static void waiter(void *arg)
{
	struct scen *s = arg;

	s->rc[0] = wait_event_fn(&s->wq, flag_set, s, NULL);
	write_once_u64(&s->x, read_once_u64(&s->flag) * 10);
}

static void waker(void *arg)
{
	struct scen *s = arg;

	write_once_u64(&s->flag, 7);
	wake_up_all(&s->wq);
}

static void test_wait_queue_wakes(void **state)
{
	struct scen s = { .nactors = 2, .body = { waiter, waker }, .init = init_wq,
			  .outcome = out_x };
	struct explore_stats st;

	(void)state;
	st = run(&s, EXPLORE_DFS, true);
	assert_true(st.complete);
	assert_int_equal(s.deadlocks, 0);	/* no lost wake-up in any order */
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 70);
}

/* The same with a pure condition: the scheduler holds the waiter until it holds. */
static void pure_waiter(void *arg)
{
	struct scen *s = arg;

	s->rc[0] = wait_event_pure_fn(&s->wq, flag_set, s, NULL);
	write_once_u64(&s->x, read_once_u64(&s->flag) * 10);
}

static void test_pure_wait_explores_less(void **state)
{
	struct scen s = { .nactors = 2, .body = { waiter, waker }, .init = init_wq,
			  .outcome = out_x };
	struct explore_stats plain, pure;

	(void)state;
	plain = run(&s, EXPLORE_DFS, true);
	s.body[0] = pure_waiter;
	pure = run(&s, EXPLORE_DFS, true);
	assert_true(pure.complete);
	assert_int_equal(s.deadlocks, 0);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 70);
	/* A failed look is no step: only the order "set, then look" is left. */
	assert_int_equal(pure.execs - pure.redundant, 1);
	assert_true(plain.execs - plain.redundant > 1);
	print_message("waiter and waker: %lu executions with wait_event_fn, %lu pure\n",
		      plain.execs - plain.redundant, pure.execs - pure.redundant);
}

/*
 * A step that undoes an awaited condition races with the waiter that could
 * have run before it.  The first execution runs setter, then resetter (woken by
 * the setter's second store) before the waiter: a deadlock.  Only that race
 * makes the search also run the waiter between the two (x = 10).
 */
static bool y_set(void *arg)
{
	struct scen *s = arg;

	return read_once_u64(&s->y) != 0;
}

static void resetter(void *arg)
{
	struct scen *s = arg;

	wait_event_pure_fn(&s->wq, y_set, s, NULL);
	write_once_u64(&s->flag, 0);
}

static void flag_waiter(void *arg)
{
	struct scen *s = arg;

	wait_event_pure_fn(&s->wq, flag_set, s, NULL);
	write_once_u64(&s->x, 10);
}

static void setter(void *arg)
{
	struct scen *s = arg;

	write_once_u64(&s->flag, 1);
	write_once_u64(&s->y, 1);
	wake_up_all(&s->wq);
}

static void test_pure_wait_disabled_is_a_race(void **state)
{
	struct scen s = { .nactors = 3, .body = { resetter, flag_waiter, setter },
			  .init = init_wq, .outcome = out_x };
	struct explore_stats st;

	(void)state;
	st = run(&s, EXPLORE_DFS, true);
	assert_true(st.complete);
	assert_true(s.deadlocks > 0);		/* reset before the waiter looked */
	assert_true(seen(&s, 10));		/* the waiter ran between the two */
}

static void timed_waiter(void *arg)
{
	struct scen *s = arg;
	uint64_t t0 = sched_clock_ns();

	s->rc[0] = wait_event_timeout_fn(&s->wq, flag_set, s, NULL, UINT64_C(5000000));
	write_once_u64(&s->x, (sched_clock_ns() - t0) / 1000000);
}

static void test_timeout_on_virtual_clock(void **state)
{
	struct scen s = { .nactors = 1, .body = { timed_waiter }, .init = init_wq,
			  .outcome = out_x };
	struct explore_stats st;

	(void)state;
	st = run(&s, EXPLORE_DFS, true);
	assert_true(st.complete);
	assert_int_equal(s.deadlocks, 0);
	assert_int_equal(s.rc[0], -ETIMEDOUT);
	assert_int_equal(s.nout, 1);
	assert_true(s.outs[0] >= 5);	/* 5 virtual ms passed, no real ones */
	assert_true(st.wall_ns < UINT64_C(1000000000));
}

static void child_body(void *arg)
{
	struct scen *s = arg;

	atomic_inc(&s->cnt);
}

static void parent_body(void *arg)
{
	struct scen *s = arg;
	struct sched_thread *t;

	assert_int_equal(sched_thread_start(&t, child_body, s), 0);
	atomic_inc(&s->cnt);
	assert_int_equal(sched_thread_join(t), 0);
	/* The child's increment happens-before the join's return. */
	write_once_u64(&s->x, (uint64_t)atomic_read(&s->cnt));
}

static void test_spawn_and_join(void **state)
{
	struct scen s = { .nactors = 1, .body = { parent_body }, .outcome = out_x };
	struct explore_stats st;

	(void)state;
	st = run(&s, EXPLORE_DFS, true);
	assert_true(st.complete);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 2);
	assert_int_equal(s.deadlocks, 0);
}

/* ---- a spin on a flag nobody sets: a bounded outcome, not a hang ---- */

static void spin_forever(void *arg)
{
	struct scen *s = arg;

	while (!read_once_u64(&s->flag))
		cpu_relax_on(&s->flag);
}

static void test_spin_without_writer_ends(void **state)
{
	struct scen s = { .nactors = 1, .body = { spin_forever }, .outcome = out_zero };
	struct explore_config cfg = { .strategy = EXPLORE_DFS, .por = true,
				      .preemption_bound = -1, .max_steps = 1000 };
	struct explore_stats st;

	(void)state;
	reset_results(&s);
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
	assert_int_equal(s.done, 0);
	assert_int_equal(s.deadlocks + s.bounds, st.execs);
}

/* ---- freed objects: an address reused is another object ---- */

static void reader_frees(void *arg)
{
	struct scen *s = arg;

	s->rc[0] = (int)read_once_u64(&s->x);
	if (s->n)
		sched_forget(&s->x, sizeof(s->x));	/* as if freed here */
}

static void writer_reuses(void *arg)
{
	struct scen *s = arg;

	write_once_u64(&s->x, 1);			/* as if allocated anew */
}

static uint64_t out_rc0(struct scen *s)
{
	return (uint64_t)s->rc[0];
}

static void test_forget_names_anew(void **state)
{
	struct scen s = { .nactors = 2, .body = { reader_frees, writer_reuses },
			  .outcome = out_rc0 };
	struct explore_stats st;

	(void)state;
	/* The same object: the write races with the read, both orders run. */
	st = run(&s, EXPLORE_DFS, true);
	assert_int_equal(st.execs - st.redundant, 2);
	assert_true(seen(&s, 0) && seen(&s, 1));
	/* Forgotten after the read: the write that follows touches a new one. */
	s.n = 1;
	st = run(&s, EXPLORE_DFS, true);
	assert_int_equal(st.execs, 1);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 0);
}

/* ---- the "sb" memory model: store buffers ---- */

/* DFS, complete, with or without POR, under SC or store buffers. */
static struct explore_stats run_mem(struct scen *s, bool por, bool sb)
{
	struct explore_config cfg = { .strategy = EXPLORE_DFS, .por = por,
				      .preemption_bound = -1, .store_buffers = sb };
	struct explore_stats st;

	reset_results(s);
	assert_int_equal(explore_run(&cfg, &scen_ops, s, &st), 0);
	assert_true(st.complete);
	assert_int_equal(s->deadlocks + s->bounds, 0);
	return st;
}

/* Store buffering (Dekker): each stores its flag, then reads the other's. */
static void sb_left(void *arg)
{
	struct scen *s = arg;

	write_once_u64(&s->x, 1);
	if (s->n)
		smp_mb();
	s->rc[0] = (int)read_once_u64(&s->y);
}

static void sb_right(void *arg)
{
	struct scen *s = arg;

	write_once_u64(&s->y, 1);
	if (s->n)
		smp_mb();
	s->rc[1] = (int)read_once_u64(&s->x);
}

static uint64_t out_rc01(struct scen *s)
{
	return (uint64_t)(s->rc[0] * 10 + s->rc[1]);
}

static void test_sb_store_buffering(void **state)
{
	struct scen s = { .nactors = 2, .body = { sb_left, sb_right }, .outcome = out_rc01,
			  .want = 0 };
	struct explore_config cfg = { .strategy = EXPLORE_REPLAY, .preemption_bound = -1,
				      .store_buffers = true };
	struct explore_stats st;
	char witness[256];

	(void)state;
	for (int por = 0; por < 2; por++) {
		/* Sequential consistency: one of the two sees the other's store. */
		run_mem(&s, por, false);
		assert_int_equal(s.nout, 3);
		assert_true(seen(&s, 1) && seen(&s, 10) && seen(&s, 11));
		/* Store buffers: both loads may pass their own store. */
		run_mem(&s, por, true);
		assert_int_equal(s.nout, 4);
		assert_true(seen(&s, 0) && seen(&s, 1) && seen(&s, 10) && seen(&s, 11));
	}
	/* The witness names the flushers, and replays. */
	assert_true(s.witness[0] != '\0');
	snprintf(witness, sizeof(witness), "%s", s.witness);
	assert_non_null(strstr(witness, "8:") ? witness : strstr(witness, "9:"));
	cfg.replay = witness;
	reset_results(&s);
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 0);
	/* smp_mb between the store and the load forbids it again. */
	s.n = 1;
	run_mem(&s, true, true);
	assert_false(seen(&s, 0));
	assert_int_equal(s.nout, 3);
}

/*
 * For the preemption bound an actor and its flusher are one CPU: what a bound
 * finds under sequential consistency it finds under store buffers (the lost
 * update takes one preemption either way), and the default schedule flushes
 * at once, so bound 0 is the two sequentially consistent executions, one actor
 * after the other.  The second is bounded POR's conservative branch: the race
 * between the two increments backtracks to a state where running the other
 * actor would be a preemption, so the other actor is also tried where the
 * first one's run began, for free.  Plain DPOR under the bound ran only one.
 */
static void test_sb_bound_keeps_sc(void **state)
{
	struct scen s = { .nactors = 2, .body = { racy_inc, racy_inc }, .outcome = out_x };
	struct explore_config cfg = { .strategy = EXPLORE_DFS, .por = true,
				      .preemption_bound = 1 };
	struct explore_stats st;

	(void)state;
	for (int sb = 0; sb < 2; sb++) {
		cfg.store_buffers = sb;
		cfg.preemption_bound = 1;
		reset_results(&s);
		assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
		assert_true(seen(&s, 1) && seen(&s, 2));
		cfg.preemption_bound = 0;
		reset_results(&s);
		assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
		assert_int_equal(st.execs, 2);
		assert_true(st.complete);
		assert_int_equal(s.nout, 1);
		assert_int_equal(s.outs[0], 2);
	}
}

/* y, then x; the reader of x. */
static void late_writer(void *arg)
{
	struct scen *s = arg;

	write_once_u64(&s->y, 1);
	write_once_u64(&s->x, 1);
}

static void early_reader(void *arg)
{
	struct scen *s = arg;

	s->rc[0] = (int)read_once_u64(&s->x);
}

/*
 * Bounded POR (Coons, Musuvathi and McKinley 2013).  Under bound 0 the reader
 * can still run first, switching to nobody, and read x = 0.  The first
 * execution runs the writer, then the reader (1); the race between the write
 * of x and the read reverses at the state just before that write, where
 * running the reader preempts the writer: over the bound.  DPOR with the bound
 * as a filter stops there and says x = 1 always.  The conservative branch also
 * tries the reader where the writer's run began, for free, and finds 0.
 */
static void test_bounded_por_free_order(void **state)
{
	struct scen s = { .nactors = 2, .body = { late_writer, early_reader },
			  .outcome = out_rc0 };
	struct explore_config cfg = { .strategy = EXPLORE_DFS, .por = true,
				      .preemption_bound = 0 };
	struct explore_stats st;

	(void)state;
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
	assert_true(st.complete);
	assert_true(seen(&s, 0) && seen(&s, 1));
	assert_int_equal(s.nout, 2);
	/* Bound 1 adds the reader between the two writes: still 0 and 1. */
	cfg.preemption_bound = 1;
	reset_results(&s);
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
	assert_true(seen(&s, 0) && seen(&s, 1));
	assert_int_equal(s.nout, 2);
}

/* Message passing: data, then the flag; the reader takes the flag, then the data. */
static void mp_writer(void *arg)
{
	struct scen *s = arg;

	write_once_u64(&s->x, 1);
	if (s->n == 1)
		smp_store_release(&s->flag, 1);
	else if (s->n == 2)
		write_once_u64(&s->flag, 1);
	else {
		spin_lock(&s->lock);
		write_once_u64(&s->flag, 1);
		spin_unlock(&s->lock);
	}
}

static void mp_reader(void *arg)
{
	struct scen *s = arg;

	if (s->n == 3) {
		spin_lock(&s->lock);
		s->rc[0] = (int)read_once_u64(&s->flag);
		spin_unlock(&s->lock);
	} else {
		s->rc[0] = (int)smp_load_acquire(&s->flag);
	}
	s->rc[1] = (int)read_once_u64(&s->x);
}

static void test_sb_stores_stay_in_order(void **state)
{
	struct scen s = { .nactors = 2, .body = { mp_writer, mp_reader },
			  .outcome = out_rc01 };

	(void)state;
	/* A release, two relaxed stores (a FIFO buffer), a lock: never flag without data. */
	for (s.n = 1; s.n <= 3; s.n++) {
		run_mem(&s, true, true);
		assert_false(seen(&s, 10));
		assert_true(seen(&s, 11));
		run_mem(&s, false, true);
		assert_false(seen(&s, 10));
	}
}

/* An actor sees its own buffered stores, and nobody loses an add or a bit. */
static void sb_own(void *arg)
{
	struct scen *s = arg;
	int id = explore_current_actor();

	atomic_inc(&s->cnt);
	set_bit((unsigned)id, &s->x);
	s->rc[id] = atomic_read(&s->cnt) >= 1 && test_bit((unsigned)id, &s->x);
	atomic_inc(&s->cnt);
	clear_bit((unsigned)id + 8, &s->x);
}

static uint64_t out_own(struct scen *s)
{
	return (uint64_t)atomic_read(&s->cnt) * 10000 + atomic_load(&s->x) * 10 +
	       (uint64_t)(s->rc[0] && s->rc[1] && (s->nactors < 3 || s->rc[2]));
}

static void init_own(struct scen *s)
{
	atomic_store(&s->x, 0x700);
}

static void test_sb_coherent_and_atomic(void **state)
{
	struct scen s = { .nactors = 3, .body = { sb_own, sb_own, sb_own },
			  .init = init_own, .outcome = out_own };
	/* Two preemptions: unbounded, three actors take 19,936 executions with POR. */
	struct explore_config cfg = { .strategy = EXPLORE_DFS, .por = true,
				      .preemption_bound = 2, .store_buffers = true };
	struct explore_stats st;

	(void)state;
	reset_results(&s);
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
	assert_true(st.complete);
	assert_int_equal(s.deadlocks + s.bounds, 0);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 6 * 10000 + 7 * 10 + 1);
	/* Without POR, two actors. */
	cfg.por = false;
	s.nactors = 2;
	reset_results(&s);
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
	assert_true(st.complete && st.execs > 100);
	assert_int_equal(s.deadlocks + s.bounds, 0);
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 4 * 10000 + 0x403 * 10 + 1);
}

/* ---- replay, random, PCT ---- */

static void test_replay_reproduces(void **state)
{
	struct scen s = { .nactors = 2, .body = { racy_inc, racy_inc }, .outcome = out_x,
			  .want = 1 };
	char witness[256];
	struct explore_config cfg = { .strategy = EXPLORE_REPLAY, .preemption_bound = -1 };
	struct explore_stats st;

	(void)state;
	run(&s, EXPLORE_DFS, true);
	assert_true(s.witness[0] != '\0');
	snprintf(witness, sizeof(witness), "%s", s.witness);
	cfg.replay = witness;
	for (int i = 0; i < 3; i++) {
		reset_results(&s);
		assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
		assert_int_equal(st.execs, 1);
		assert_int_equal(s.nout, 1);
		assert_int_equal(s.outs[0], 1);
	}
	/* A schedule that names an actor that does not exist is refused. */
	cfg.replay = "0:1,9:3";
	reset_results(&s);
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), -EINVAL);
	cfg.replay = "0:x";
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), -EINVAL);
}

static void test_random_and_pct_find_it(void **state)
{
	struct scen s = { .nactors = 2, .body = { racy_inc, racy_inc }, .outcome = out_x };
	struct explore_config cfg = { .strategy = EXPLORE_RANDOM, .preemption_bound = -1,
				      .seed = 7, .max_execs = 200 };
	struct explore_stats st;

	(void)state;
	reset_results(&s);
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
	assert_int_equal(st.execs, 200);
	assert_true(seen(&s, 1) && seen(&s, 2));
	cfg.strategy = EXPLORE_PCT;
	cfg.pct_depth = 2;
	reset_results(&s);
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
	assert_true(seen(&s, 1) && seen(&s, 2));
}

static void test_preemption_bound_zero(void **state)
{
	struct scen s = { .nactors = 2, .body = { racy_inc, racy_inc }, .outcome = out_x };
	struct explore_config cfg = { .strategy = EXPLORE_DFS, .por = false,
				      .preemption_bound = 0 };
	struct explore_stats st;

	(void)state;
	reset_results(&s);
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), 0);
	/* Without preemption each actor runs to its end: never a lost update. */
	assert_int_equal(s.nout, 1);
	assert_int_equal(s.outs[0], 2);
	assert_true(st.bounded > 0);
}

static void test_bad_config(void **state)
{
	struct scen s = { .nactors = 1, .body = { racy_inc }, .outcome = out_x };
	struct explore_config cfg = { .strategy = EXPLORE_REPLAY };
	struct explore_stats st;

	(void)state;
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), -EINVAL);	/* no string */
	cfg.strategy = (enum explore_strategy)99;
	assert_int_equal(explore_run(&cfg, &scen_ops, &s, &st), -EINVAL);
	assert_int_equal(explore_run(NULL, &scen_ops, &s, &st), -EINVAL);
	assert_int_equal(explore_current_actor(), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_update_found),
		cmocka_unit_test(test_atomics_never_lose),
		cmocka_unit_test(test_por_independent),
		cmocka_unit_test(test_por_bits_independent),
		cmocka_unit_test(test_por_bit_lock),
		cmocka_unit_test(test_por_word_fields),
		cmocka_unit_test(test_por_kept_puts_commute),
		cmocka_unit_test(test_por_last_put_ordered),
		cmocka_unit_test(test_por_kept_put_not_with_get),
		cmocka_unit_test(test_spinlock_excludes),
		cmocka_unit_test(test_locks_independent_sections),
		cmocka_unit_test(test_locks_conflicting_sections),
		cmocka_unit_test(test_locks_waiter_goes_first),
		cmocka_unit_test(test_deadlock_is_an_outcome),
		cmocka_unit_test(test_deadlock_ring_of_three),
		cmocka_unit_test(test_deadlock_gated),
		cmocka_unit_test(test_nested_sections_independent),
		cmocka_unit_test(test_wait_queue_wakes),
		cmocka_unit_test(test_pure_wait_explores_less),
		cmocka_unit_test(test_pure_wait_disabled_is_a_race),
		cmocka_unit_test(test_timeout_on_virtual_clock),
		cmocka_unit_test(test_spawn_and_join),
		cmocka_unit_test(test_spin_without_writer_ends),
		cmocka_unit_test(test_forget_names_anew),
		cmocka_unit_test(test_sb_store_buffering),
		cmocka_unit_test(test_sb_bound_keeps_sc),
		cmocka_unit_test(test_bounded_por_free_order),
		cmocka_unit_test(test_sb_stores_stay_in_order),
		cmocka_unit_test(test_sb_coherent_and_atomic),
		cmocka_unit_test(test_replay_reproduces),
		cmocka_unit_test(test_random_and_pct_find_it),
		cmocka_unit_test(test_preemption_bound_zero),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
