/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sched.c - unit tests of the substrate (src/sched).
 *
 * Threads come from sched_thread_start(); they never call cmocka assertions (those
 * longjmp on the main thread's stack) but record what they saw for the main thread
 * to check.  Handshakes are atomics and scheduling-point hooks, never sleeps; every
 * handshake wait is bounded by WAIT_NS, so a broken primitive fails an assertion
 * (a thread left stuck in it may still hang the final join).
 *
 * "Blocked" probes rely on the substrate making its SP_BLOCK point only once the
 * sleeper is registered (queued, counted) and has found it must sleep.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sched/sched.h"

#define WAIT_NS		(UINT64_C(10) * 1000 * 1000 * 1000)	/* give up after 10 s */
#define NR_THREADS	4
#define LOCK_ITERS	200000

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static struct sched_thread *start(void (*fn)(void *), void *arg)
{
	struct sched_thread *t = NULL;

	assert_int_equal(sched_thread_start(&t, fn, arg), 0);
	assert_non_null(t);
	return t;
}

static void join(struct sched_thread *t)
{
	assert_int_equal(sched_thread_join(t), 0);
}

/* Spin until (*p & mask) == want, or WAIT_NS pass; true if it happened. */
static bool spin_until_u64(_Atomic uint64_t *p, uint64_t mask, uint64_t want)
{
	uint64_t end = sched_clock_ns() + WAIT_NS;

	while ((atomic_load_explicit(p, memory_order_acquire) & mask) != want) {
		if (sched_clock_ns() > end)
			return false;
		cpu_relax();
	}
	return true;
}

/* Spin until *p is nonzero. */
static bool spin_until_set(_Atomic uint64_t *p)
{
	uint64_t end = sched_clock_ns() + WAIT_NS;

	while (atomic_load_explicit(p, memory_order_acquire) == 0) {
		if (sched_clock_ns() > end)
			return false;
		cpu_relax();
	}
	return true;
}

static void set_flag(_Atomic uint64_t *p)
{
	atomic_store_explicit(p, 1, memory_order_release);
}

/*
 * A hook that notes when its thread is about to block on one object.  It touches
 * its own state only through raw atomics: a sched.h primitive would re-enter it.
 */
struct block_probe {
	struct sched_hook hook;
	const void *obj;
	_Atomic uint64_t blocked;
};

static void block_probe_point(void *arg, enum sched_point_kind kind, const void *obj)
{
	struct block_probe *bp = arg;

	if (kind == SP_BLOCK && obj == bp->obj)
		atomic_store_explicit(&bp->blocked, 1, memory_order_release);
}

static void block_probe_init(struct block_probe *bp, const void *obj)
{
	bp->hook.point = block_probe_point;
	bp->hook.coop = NULL;	/* an observer: primitives wait as in free mode */
	bp->hook.arg = bp;
	bp->obj = obj;
	atomic_init(&bp->blocked, 0);
}

/* ------------------------------------------------------------------------ */
/* Atomics, bit operations, ONCE accessors                                  */
/* ------------------------------------------------------------------------ */

static void test_atomic_int(void **state)
{
	atomic_t v = { 0 };
	int old;

	(void)state;
	atomic_set(&v, 5);
	assert_int_equal(atomic_read(&v), 5);
	assert_int_equal(atomic_add_return(3, &v), 8);
	assert_int_equal(atomic_sub_return(10, &v), -2);
	assert_int_equal(atomic_inc_return(&v), -1);
	assert_int_equal(atomic_fetch_add(4, &v), -1);
	assert_int_equal(atomic_read(&v), 3);
	atomic_inc(&v);
	atomic_add(6, &v);
	atomic_sub(2, &v);
	atomic_dec(&v);
	assert_int_equal(atomic_read(&v), 7);

	atomic_set(&v, 2);
	assert_false(atomic_dec_and_test(&v));
	assert_true(atomic_dec_and_test(&v));
	assert_int_equal(atomic_dec_return(&v), -1);
	atomic_set(&v, 9);
	assert_false(atomic_sub_and_test(4, &v));
	assert_true(atomic_sub_and_test(5, &v));

	/* try_cmpxchg: failure reports the current value through *old. */
	atomic_set(&v, 10);
	old = 11;
	assert_false(atomic_try_cmpxchg(&v, &old, 20));
	assert_int_equal(old, 10);
	assert_int_equal(atomic_read(&v), 10);
	assert_true(atomic_try_cmpxchg(&v, &old, 20));
	assert_int_equal(old, 10);
	assert_int_equal(atomic_read(&v), 20);
	assert_int_equal(atomic_cmpxchg(&v, 7, 8), 20);
	assert_int_equal(atomic_cmpxchg(&v, 20, 21), 20);
	assert_int_equal(atomic_read(&v), 21);
	assert_int_equal(atomic_xchg(&v, 3), 21);
	assert_int_equal(atomic_read(&v), 3);

	/* add_unless: the folio_try_get shape. */
	atomic_set(&v, 0);
	assert_false(atomic_add_unless(&v, 1, 0));
	assert_int_equal(atomic_read(&v), 0);
	atomic_set(&v, 3);
	assert_true(atomic_add_unless(&v, 1, 0));
	assert_int_equal(atomic_read(&v), 4);

	atomic_set(&v, 0x0f);
	assert_int_equal(atomic_fetch_or(0x30, &v), 0x0f);
	assert_int_equal(atomic_read(&v), 0x3f);
	assert_int_equal(atomic_fetch_and(0x21, &v), 0x3f);
	assert_int_equal(atomic_read(&v), 0x21);
}

static void test_atomic64(void **state)
{
	atomic64_t v = { 0 };
	atomic_long_t l = { 0 };
	int64_t old;
	const int64_t big = INT64_C(1) << 40;

	(void)state;
	atomic64_set(&v, big);
	assert_true(atomic64_add_return(big, &v) == 2 * big);
	assert_true(atomic64_sub_return(3 * big, &v) == -big);
	assert_true(atomic64_fetch_add(big + 1, &v) == -big);
	assert_true(atomic64_read(&v) == 1);
	assert_true(atomic64_dec_and_test(&v));

	old = 5;
	assert_false(atomic64_try_cmpxchg(&v, &old, big));
	assert_true(old == 0);
	assert_true(atomic64_try_cmpxchg(&v, &old, big));
	assert_true(atomic64_read(&v) == big);
	assert_false(atomic64_add_unless(&v, 1, big));
	assert_true(atomic64_add_unless(&v, -big, 0));
	assert_true(atomic64_read(&v) == 0);
	assert_true(atomic64_fetch_or(big, &v) == 0);
	assert_true(atomic64_fetch_and(~big, &v) == big);
	assert_true(atomic64_read(&v) == 0);

	atomic_long_set(&l, 1);
	atomic_long_inc(&l);
	assert_true(atomic_long_add_return(2, &l) == 4);
	assert_true(atomic_long_fetch_add(-3, &l) == 4);
	assert_true(atomic_long_dec_and_test(&l));
}

static void test_bitops_and_words(void **state)
{
	_Atomic uint64_t w;
	uint64_t old;

	(void)state;
	atomic_init(&w, 0);
	set_bit(0, &w);
	set_bit(63, &w);
	assert_true(test_bit(0, &w));
	assert_true(test_bit(63, &w));
	assert_false(test_bit(1, &w));
	clear_bit(0, &w);
	assert_false(test_bit(0, &w));
	assert_false(test_and_set_bit(5, &w));
	assert_true(test_and_set_bit(5, &w));
	assert_true(test_and_clear_bit(5, &w));
	assert_false(test_and_clear_bit(5, &w));
	assert_false(test_and_set_bit_lock(7, &w));
	assert_true(test_and_set_bit_lock(7, &w));
	clear_bit_unlock(7, &w);
	assert_false(test_bit(7, &w));
	assert_true(READ_ONCE(w) == UINT64_C(1) << 63);

	assert_true(xchg_u64(&w, 10) == UINT64_C(1) << 63);
	old = 11;
	assert_false(try_cmpxchg_u64(&w, &old, 12));
	assert_true(old == 10);
	assert_true(try_cmpxchg_u64(&w, &old, 12));
	assert_true(fetch_add_u64(&w, 4) == 12);
	assert_true(fetch_or_u64(&w, 0x100) == 16);
	assert_true(fetch_and_u64(&w, 0x1f0) == 0x110);
	assert_true(READ_ONCE(w) == 0x110);
}

static void test_once_accessors(void **state)
{
	struct {
		_Atomic uint8_t u8;
		_Atomic bool b;
		_Atomic uint32_t u32;
		_Atomic int i;
		_Atomic uint64_t u64;
		_Atomic int64_t i64;
		_Atomic uintptr_t ptr;
	} s;
	int target = 42;

	(void)state;
	memset(&s, 0, sizeof(s));
	WRITE_ONCE(s.u8, 200);
	WRITE_ONCE(s.b, true);
	WRITE_ONCE(s.u32, UINT32_MAX);
	WRITE_ONCE(s.i, -7);
	smp_store_release(&s.u64, UINT64_MAX);
	smp_store_release(&s.i64, INT64_MIN);
	STORE_RELEASE_PTR(s.ptr, &target);
	assert_int_equal(READ_ONCE(s.u8), 200);
	assert_true(READ_ONCE(s.b));
	assert_true(READ_ONCE(s.u32) == UINT32_MAX);
	assert_int_equal(READ_ONCE(s.i), -7);
	assert_true(smp_load_acquire(&s.u64) == UINT64_MAX);
	assert_true(smp_load_acquire(&s.i64) == INT64_MIN);
	assert_ptr_equal(LOAD_ACQUIRE_PTR(int *, s.ptr), &target);
	WRITE_ONCE_PTR(s.ptr, NULL);
	assert_null(READ_ONCE_PTR(int *, s.ptr));

	_Atomic uint64_t c;
	atomic_init(&c, 0);
	stat_add(&c, 3);
	assert_true(stat_read(&c) == 3);
}

/* Records the points a hook sees: their kinds and objects, in order. */
struct point_log {
	struct sched_hook hook;
	int n;
	enum sched_point_kind kind[8];
	const void *obj[8];
};

static void point_log_fn(void *arg, enum sched_point_kind kind, const void *obj)
{
	struct point_log *log = arg;

	if (log->n < 8) {
		log->kind[log->n] = kind;
		log->obj[log->n] = obj;
	}
	log->n++;
}

/*
 * The _hk variants make the point their argument says, whatever the thread's
 * hook: true gives the same point as the plain primitive, false none.  The
 * plain primitive asks sched_hooked().
 */
static void test_once_accessors_hooked(void **state)
{
	struct point_log log = { .hook = { .point = point_log_fn } };
	_Atomic uint64_t x;
	uint64_t old = 5;

	(void)state;
	log.hook.arg = &log;
	atomic_init(&x, 5);
	assert_false(sched_hooked());
	assert_true(read_once_hk_u64(true, &x) == 5);	/* no hook: nobody to tell */
	assert_null(sched_hook_install(&log.hook));
	assert_true(sched_hooked());
	assert_true(read_once_hk_u64(false, &x) == 5);
	assert_true(load_acquire_hk_u64(false, &x) == 5);
	assert_true(try_cmpxchg_hk_u64(false, &x, &old, 6));
	assert_int_equal(log.n, 0);
	assert_true(read_once_hk_u64(true, &x) == 6);
	assert_true(load_acquire_hk_u64(true, &x) == 6);
	old = 6;
	assert_true(try_cmpxchg_hk_u64(true, &x, &old, 7));
	assert_true(read_once_u64(&x) == 7);
	assert_ptr_equal(sched_hook_install(NULL), &log.hook);
	assert_false(sched_hooked());
	assert_int_equal(log.n, 4);
	assert_int_equal(log.kind[0], SP_READ);
	assert_int_equal(log.kind[1], SP_READ);
	assert_int_equal(log.kind[2], SP_RMW);
	assert_int_equal(log.kind[3], SP_READ);
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(log.obj[i], &x);
}

/* ------------------------------------------------------------------------ */
/* Spinlock and mutex                                                       */
/* ------------------------------------------------------------------------ */

struct counter_test {
	spinlock_t spin;
	struct mutex mutex;
	uint64_t plain;		/* deliberately not atomic: the lock protects it */
};

static void spin_worker(void *arg)
{
	struct counter_test *ct = arg;

	for (int i = 0; i < LOCK_ITERS; i++) {
		spin_lock(&ct->spin);
		uint64_t v = ct->plain;
		cpu_relax();	/* an opaque call: a lost update needs only overlap */
		ct->plain = v + 1;
		spin_unlock(&ct->spin);
	}
}

static void test_spinlock_exclusion(void **state)
{
	struct counter_test ct = { .spin = SPINLOCK_INIT, .plain = 0 };
	struct sched_thread *t[NR_THREADS];

	(void)state;
	assert_true(spin_trylock(&ct.spin));
	assert_true(spin_is_locked(&ct.spin));
	assert_false(spin_trylock(&ct.spin));
	spin_unlock(&ct.spin);
	assert_false(spin_is_locked(&ct.spin));

	for (int i = 0; i < NR_THREADS; i++)
		t[i] = start(spin_worker, &ct);
	for (int i = 0; i < NR_THREADS; i++)
		join(t[i]);
	assert_true(ct.plain == (uint64_t)NR_THREADS * LOCK_ITERS);
	assert_false(spin_is_locked(&ct.spin));
}

static void mutex_worker(void *arg)
{
	struct counter_test *ct = arg;

	for (int i = 0; i < LOCK_ITERS; i++) {
		mutex_lock(&ct->mutex);
		uint64_t v = ct->plain;
		cpu_relax();
		ct->plain = v + 1;
		mutex_unlock(&ct->mutex);
	}
}

static void test_mutex_exclusion(void **state)
{
	struct counter_test ct = { .plain = 0 };
	struct sched_thread *t[NR_THREADS];

	(void)state;
	mutex_init(&ct.mutex);
	assert_true(mutex_trylock(&ct.mutex));
	assert_false(mutex_trylock(&ct.mutex));
	mutex_unlock(&ct.mutex);

	for (int i = 0; i < NR_THREADS; i++)
		t[i] = start(mutex_worker, &ct);
	for (int i = 0; i < NR_THREADS; i++)
		join(t[i]);
	assert_true(ct.plain == (uint64_t)NR_THREADS * LOCK_ITERS);
	assert_true(mutex_trylock(&ct.mutex));
	mutex_unlock(&ct.mutex);
	mutex_destroy(&ct.mutex);
}

/* ------------------------------------------------------------------------ */
/* Fair rwsem                                                               */
/* ------------------------------------------------------------------------ */

/* One task of an rwsem scenario; fields written by it, read by main after flags. */
struct rw_task {
	struct rw_semaphore *sem;
	bool write;
	bool killable;
	_Atomic bool *fatal;
	_Atomic uint64_t *order;	/* shared ticket: who got the lock when */
	struct block_probe probe;
	_Atomic uint64_t acquired;	/* 1 + ticket once in, 0 before */
	_Atomic uint64_t release;	/* set by main: leave the lock now */
	_Atomic uint64_t done;
	int rc;
};

static void rw_task_init(struct rw_task *t, struct rw_semaphore *sem, bool write,
			 _Atomic uint64_t *order)
{
	memset(t, 0, sizeof(*t));
	t->sem = sem;
	t->write = write;
	t->order = order;
	block_probe_init(&t->probe, sem);
	atomic_init(&t->acquired, 0);
	atomic_init(&t->release, 0);
	atomic_init(&t->done, 0);
}

/* Take the lock (noting arrival order), hold it until main says so, release. */
static void rw_task_main(void *arg)
{
	struct rw_task *t = arg;
	int rc = 0;

	sched_hook_install(&t->probe.hook);
	if (t->killable)
		rc = t->write ? down_write_killable(t->sem, t->fatal)
			      : down_read_killable(t->sem, t->fatal);
	else if (t->write)
		down_write(t->sem);
	else
		down_read(t->sem);
	sched_hook_install(NULL);
	t->rc = rc;
	if (rc == 0) {
		uint64_t ticket = atomic_fetch_add_explicit(t->order, 1, memory_order_seq_cst);

		atomic_store_explicit(&t->acquired, ticket + 1, memory_order_release);
		spin_until_set(&t->release);
		if (t->write)
			up_write(t->sem);
		else
			up_read(t->sem);
	}
	set_flag(&t->done);
}

static void test_rwsem_readers_share(void **state)
{
	struct rw_semaphore sem;
	_Atomic uint64_t order = 0;
	struct rw_task r;
	struct sched_thread *th;

	(void)state;
	init_rwsem(&sem);
	down_read(&sem);
	assert_true(rwsem_is_locked(&sem));
	assert_false(rwsem_is_write_locked(&sem));
	/* A second reader gets in while we hold it: both hold at once. */
	assert_true(down_read_trylock(&sem));
	up_read(&sem);
	rw_task_init(&r, &sem, false, &order);
	th = start(rw_task_main, &r);
	assert_true(spin_until_set(&r.acquired));
	assert_false(down_write_trylock(&sem));
	set_flag(&r.release);
	join(th);
	up_read(&sem);
	assert_false(rwsem_is_locked(&sem));
	assert_true(down_write_trylock(&sem));
	assert_true(rwsem_is_write_locked(&sem));
	assert_false(down_read_trylock(&sem));
	assert_false(down_write_trylock(&sem));
	up_write(&sem);
	assert_true(READ_ONCE(sem.count) == 0);
	rwsem_destroy(&sem);
}

/* Mixed readers and writers: readers never see a half-updated pair. */
struct pair_test {
	struct rw_semaphore sem;
	uint64_t a, b;			/* plain: the rwsem protects them */
	_Atomic uint64_t torn;		/* reader sections that saw a != b */
	_Atomic uint64_t reads;
};

#define PAIR_ITERS 20000

static void pair_writer(void *arg)
{
	struct pair_test *pt = arg;

	for (int i = 0; i < PAIR_ITERS; i++) {
		down_write(&pt->sem);
		pt->a++;
		cpu_relax();	/* widen the window a reader could see */
		pt->b++;
		up_write(&pt->sem);
	}
}

static void pair_reader(void *arg)
{
	struct pair_test *pt = arg;

	for (int i = 0; i < PAIR_ITERS; i++) {
		down_read(&pt->sem);
		if (pt->a != pt->b)
			atomic_fetch_add_explicit(&pt->torn, 1, memory_order_relaxed);
		up_read(&pt->sem);
		atomic_fetch_add_explicit(&pt->reads, 1, memory_order_relaxed);
	}
}

static void test_rwsem_writer_exclusion(void **state)
{
	struct pair_test pt = { .a = 0, .b = 0 };
	struct sched_thread *t[NR_THREADS];

	(void)state;
	init_rwsem(&pt.sem);
	atomic_init(&pt.torn, 0);
	atomic_init(&pt.reads, 0);
	t[0] = start(pair_writer, &pt);
	t[1] = start(pair_reader, &pt);
	t[2] = start(pair_writer, &pt);
	t[3] = start(pair_reader, &pt);
	for (int i = 0; i < NR_THREADS; i++)
		join(t[i]);
	assert_true(pt.a == 2 * PAIR_ITERS);
	assert_true(pt.b == 2 * PAIR_ITERS);
	assert_true(atomic_load(&pt.torn) == 0);
	assert_true(atomic_load(&pt.reads) == 2 * PAIR_ITERS);
	assert_true(READ_ONCE(pt.sem.count) == 0);
	rwsem_destroy(&pt.sem);
}

/*
 * FIFO: we hold it for read; a writer queues; a reader arriving later must not join
 * us but wait behind the writer.
 */
static void test_rwsem_fifo(void **state)
{
	struct rw_semaphore sem;
	_Atomic uint64_t order = 0;
	struct rw_task w, r;
	struct sched_thread *tw, *tr;

	(void)state;
	init_rwsem(&sem);
	down_read(&sem);
	rw_task_init(&w, &sem, true, &order);
	rw_task_init(&r, &sem, false, &order);
	tw = start(rw_task_main, &w);
	/* WAITERS is set only once the writer is in the queue. */
	assert_true(spin_until_u64(&sem.count, RWSEM_WAITERS, RWSEM_WAITERS));
	tr = start(rw_task_main, &r);
	/* The reader must block although only readers hold the lock. */
	assert_true(spin_until_set(&r.probe.blocked));
	assert_true(atomic_load(&r.acquired) == 0);
	assert_true(atomic_load(&w.acquired) == 0);
	assert_false(down_read_trylock(&sem));
	up_read(&sem);

	assert_true(spin_until_set(&w.acquired));
	assert_true(atomic_load(&r.acquired) == 0);	/* writer holds: reader still out */
	set_flag(&w.release);
	assert_true(spin_until_set(&r.acquired));
	assert_true(atomic_load(&w.acquired) == 1);	/* ticket 0: first */
	assert_true(atomic_load(&r.acquired) == 2);	/* ticket 1: second */
	set_flag(&r.release);
	join(tw);
	join(tr);
	assert_true(READ_ONCE(sem.count) == 0);
	rwsem_destroy(&sem);
}

/* @sem held for read by the caller, and a writer thread queued behind it. */
static struct sched_thread *reader_then_queued_writer(struct rw_semaphore *sem,
						      struct rw_task *w, _Atomic uint64_t *order)
{
	struct sched_thread *tw;

	init_rwsem(sem);
	down_read(sem);
	rw_task_init(w, sem, true, order);
	tw = start(rw_task_main, w);
	assert_true(spin_until_u64(&sem->count, RWSEM_WAITERS, RWSEM_WAITERS));
	return tw;
}

static void test_rwsem_trylock_vs_queued_writer(void **state)
{
	struct rw_semaphore sem;
	_Atomic uint64_t order = 0;
	struct rw_task w;
	struct sched_thread *tw;

	(void)state;
	tw = reader_then_queued_writer(&sem, &w, &order);
	assert_false(down_read_trylock(&sem));
	assert_false(down_write_trylock(&sem));
	up_read(&sem);
	assert_true(spin_until_set(&w.acquired));
	assert_false(down_read_trylock(&sem));
	set_flag(&w.release);
	join(tw);
	/* Queue empty again: the fast paths reopen. */
	assert_true(READ_ONCE(sem.count) == 0);
	assert_true(down_read_trylock(&sem));
	up_read(&sem);
	rwsem_destroy(&sem);
}

/* downgrade_write admits the readers at the head, not the writer queued behind them. */
static void test_rwsem_downgrade(void **state)
{
	struct rw_semaphore sem;
	_Atomic uint64_t order = 0;
	struct rw_task r, w;
	struct sched_thread *tr, *tw;

	(void)state;
	init_rwsem(&sem);
	down_write(&sem);
	rw_task_init(&r, &sem, false, &order);
	rw_task_init(&w, &sem, true, &order);
	tr = start(rw_task_main, &r);
	assert_true(spin_until_u64(&sem.count, RWSEM_WAITERS, RWSEM_WAITERS));
	tw = start(rw_task_main, &w);	/* queues behind the reader */
	assert_true(spin_until_set(&w.probe.blocked));
	assert_true(atomic_load(&r.acquired) == 0);

	downgrade_write(&sem);
	assert_false(rwsem_is_write_locked(&sem));
	assert_true(spin_until_set(&r.acquired));	/* shares it with us */
	assert_true(atomic_load(&w.acquired) == 0);
	assert_false(down_write_trylock(&sem));
	up_read(&sem);
	assert_true(atomic_load(&w.acquired) == 0);	/* the reader still holds */
	set_flag(&r.release);
	assert_true(spin_until_set(&w.acquired));
	set_flag(&w.release);
	join(tr);
	join(tw);
	assert_true(READ_ONCE(sem.count) == 0);
	rwsem_destroy(&sem);
}

/* A fatal flag set without any wake-up makes a blocked killable reader give up. */
static void test_rwsem_read_killable(void **state)
{
	struct rw_semaphore sem;
	_Atomic uint64_t order = 0;
	_Atomic bool fatal = false;
	struct rw_task k;
	struct sched_thread *tk;

	(void)state;
	init_rwsem(&sem);
	down_write(&sem);
	rw_task_init(&k, &sem, false, &order);
	k.killable = true;
	k.fatal = &fatal;
	tk = start(rw_task_main, &k);
	assert_true(spin_until_u64(&sem.count, RWSEM_WAITERS, RWSEM_WAITERS));
	atomic_store(&fatal, true);
	assert_true(spin_until_set(&k.done));
	join(tk);
	assert_int_equal(k.rc, -EINTR);
	assert_true(atomic_load(&k.acquired) == 0);
	/* It left the queue: only our writer bit remains. */
	assert_true(READ_ONCE(sem.count) == RWSEM_WRITER);
	up_write(&sem);
	assert_true(down_read_trylock(&sem));
	up_read(&sem);
	/* Uncontended, a killable acquisition succeeds even with the flag set. */
	assert_int_equal(down_read_killable(&sem, &fatal), 0);
	up_read(&sem);
	assert_int_equal(down_write_killable(&sem, NULL), 0);
	up_write(&sem);
	rwsem_destroy(&sem);
}

/* A killed writer at the head lets the readers queued behind it in. */
static void test_rwsem_write_killable(void **state)
{
	struct rw_semaphore sem;
	_Atomic uint64_t order = 0;
	_Atomic bool fatal = false;
	struct rw_task k, r;
	struct sched_thread *tk, *tr;

	(void)state;
	init_rwsem(&sem);
	down_read(&sem);
	rw_task_init(&k, &sem, true, &order);
	k.killable = true;
	k.fatal = &fatal;
	rw_task_init(&r, &sem, false, &order);
	tk = start(rw_task_main, &k);
	assert_true(spin_until_u64(&sem.count, RWSEM_WAITERS, RWSEM_WAITERS));
	tr = start(rw_task_main, &r);
	assert_true(spin_until_set(&r.probe.blocked));
	atomic_store(&fatal, true);
	assert_true(spin_until_set(&k.done));
	assert_int_equal(k.rc, -EINTR);
	assert_true(spin_until_set(&r.acquired));	/* alongside our read lock */
	set_flag(&r.release);
	join(tk);
	join(tr);
	up_read(&sem);
	assert_true(READ_ONCE(sem.count) == 0);
	rwsem_destroy(&sem);
}

/* ------------------------------------------------------------------------ */
/* Seqcount                                                                 */
/* ------------------------------------------------------------------------ */

static void test_seqcount_basic(void **state)
{
	seqcount_t s;
	uint32_t start_seq, seq;

	(void)state;
	seqcount_init(&s);
	assert_true(raw_seqcount_try_begin(&s, &start_seq));
	assert_false(read_seqcount_retry(&s, start_seq));

	raw_write_seqcount_begin(&s);
	assert_false(raw_seqcount_try_begin(&s, &seq));
	assert_true(seq & 1);
	raw_write_seqcount_end(&s);
	assert_true(read_seqcount_retry(&s, start_seq));	/* a write happened */

	seq = read_seqcount_begin(&s);
	assert_false(seq & 1);
	assert_false(read_seqcount_retry(&s, seq));
	assert_true(raw_seqcount_try_begin(&s, &start_seq));
	assert_int_equal(start_seq, seq);
}

struct seq_test {
	seqcount_t s;
	_Atomic uint64_t a, b;
	_Atomic uint64_t stop;
	_Atomic uint64_t torn;		/* accepted reads with a != b */
	_Atomic uint64_t accepted;
};

#define SEQ_WRITES 50000

static void seq_writer(void *arg)
{
	struct seq_test *st = arg;

	for (uint64_t i = 1; i <= SEQ_WRITES; i++) {
		raw_write_seqcount_begin(&st->s);
		WRITE_ONCE(st->a, i);
		WRITE_ONCE(st->b, i);
		raw_write_seqcount_end(&st->s);
	}
	set_flag(&st->stop);
}

static void seq_reader(void *arg)
{
	struct seq_test *st = arg;

	while (!atomic_load_explicit(&st->stop, memory_order_acquire)) {
		uint32_t seq = read_seqcount_begin(&st->s);
		uint64_t a = READ_ONCE(st->a);
		uint64_t b = READ_ONCE(st->b);

		if (read_seqcount_retry(&st->s, seq))
			continue;
		atomic_fetch_add_explicit(&st->accepted, 1, memory_order_relaxed);
		if (a != b)
			atomic_fetch_add_explicit(&st->torn, 1, memory_order_relaxed);
	}
}

static void test_seqcount_concurrent(void **state)
{
	struct seq_test st;
	struct sched_thread *w, *r;

	(void)state;
	seqcount_init(&st.s);
	atomic_init(&st.a, 0);
	atomic_init(&st.b, 0);
	atomic_init(&st.stop, 0);
	atomic_init(&st.torn, 0);
	atomic_init(&st.accepted, 0);
	r = start(seq_reader, &st);
	w = start(seq_writer, &st);
	join(w);
	join(r);
	assert_true(atomic_load(&st.torn) == 0);
	assert_true(READ_ONCE(st.s.sequence) == 2 * SEQ_WRITES);
}

/* ------------------------------------------------------------------------ */
/* Wait queues and completions                                              */
/* ------------------------------------------------------------------------ */

static bool flag_cond(void *arg)
{
	return atomic_load_explicit((_Atomic uint64_t *)arg, memory_order_acquire) != 0;
}

static void test_wait_event_immediate(void **state)
{
	struct wait_queue_head wq;
	_Atomic uint64_t yes = 1, no = 0;
	_Atomic bool fatal = true;

	(void)state;
	init_waitqueue_head(&wq);
	assert_int_equal(wait_event_fn(&wq, flag_cond, &yes, NULL), 0);
	/* The condition wins over a fatal flag. */
	assert_int_equal(wait_event_fn(&wq, flag_cond, &yes, &fatal), 0);
	assert_int_equal(wait_event_fn(&wq, flag_cond, &no, &fatal), -EINTR);
	assert_int_equal(wait_event_timeout_fn(&wq, flag_cond, &no, &fatal, WAIT_NS), -EINTR);
	/* The pure forms wait the same way in free mode. */
	assert_int_equal(wait_event_pure_fn(&wq, flag_cond, &yes, &fatal), 0);
	assert_int_equal(wait_event_pure_fn(&wq, flag_cond, &no, &fatal), -EINTR);
	assert_int_equal(wait_event_pure_timeout_fn(&wq, flag_cond, &no, NULL, 1000), -ETIMEDOUT);
	wake_up_all(&wq);	/* nobody waits: harmless */
	waitqueue_destroy(&wq);
}

static void test_wait_event_timeout(void **state)
{
	struct wait_queue_head wq;
	_Atomic uint64_t no = 0;
	_Atomic bool fatal = false;
	const uint64_t timeout = UINT64_C(20) * 1000 * 1000;	/* 20 ms */
	uint64_t t0, dt;

	(void)state;
	init_waitqueue_head(&wq);
	t0 = sched_clock_ns();
	assert_int_equal(wait_event_timeout_fn(&wq, flag_cond, &no, NULL, timeout), -ETIMEDOUT);
	dt = sched_clock_ns() - t0;
	assert_true(dt >= timeout);
	assert_true(dt < UINT64_C(2) * 1000 * 1000 * 1000);
	/* Also with a fatal flag, which makes the wait poll. */
	t0 = sched_clock_ns();
	assert_int_equal(wait_event_timeout_fn(&wq, flag_cond, &no, &fatal, timeout), -ETIMEDOUT);
	dt = sched_clock_ns() - t0;
	assert_true(dt >= timeout);
	assert_true(dt < UINT64_C(2) * 1000 * 1000 * 1000);
	waitqueue_destroy(&wq);
}

/* Ping-pong: a lost wake-up would leave one side asleep until the timeout. */
struct pingpong {
	struct wait_queue_head wq[2];
	_Atomic uint64_t turn;		/* whose turn: even = side 0 */
	_Atomic uint64_t timeouts;
	bool pure;			/* wait_event_pure_timeout_fn */
};

struct pp_side {
	struct pingpong *pp;
	uint64_t me;
};

#define PP_ROUNDS 20000

static bool pp_my_turn(void *arg)
{
	struct pp_side *s = arg;

	return (atomic_load_explicit(&s->pp->turn, memory_order_acquire) & 1) == s->me;
}

static void pp_main(void *arg)
{
	struct pp_side *s = arg;
	struct pingpong *pp = s->pp;

	for (int i = 0; i < PP_ROUNDS; i++) {
		int (*wait)(struct wait_queue_head *, bool (*)(void *), void *, _Atomic bool *,
			    uint64_t) = pp->pure ? wait_event_pure_timeout_fn : wait_event_timeout_fn;

		if (wait(&pp->wq[s->me], pp_my_turn, s, NULL, WAIT_NS) != 0) {
			atomic_fetch_add_explicit(&pp->timeouts, 1, memory_order_relaxed);
			return;
		}
		atomic_fetch_add_explicit(&pp->turn, 1, memory_order_release);
		wake_up_all(&pp->wq[!s->me]);
	}
}

static void pingpong(bool pure)
{
	struct pingpong pp = { .pure = pure };
	struct pp_side s0 = { &pp, 0 }, s1 = { &pp, 1 };
	struct sched_thread *t0, *t1;

	init_waitqueue_head(&pp.wq[0]);
	init_waitqueue_head(&pp.wq[1]);
	atomic_init(&pp.turn, 0);
	atomic_init(&pp.timeouts, 0);
	t0 = start(pp_main, &s0);
	t1 = start(pp_main, &s1);
	join(t0);
	join(t1);
	assert_true(atomic_load(&pp.timeouts) == 0);
	assert_true(atomic_load(&pp.turn) == 2 * PP_ROUNDS);
	waitqueue_destroy(&pp.wq[0]);
	waitqueue_destroy(&pp.wq[1]);
}

static void test_wait_event_pingpong(void **state)
{
	(void)state;
	pingpong(false);
	pingpong(true);
}

/* A waiter killed without a wake-up notices within the poll period. */
struct fatal_waiter {
	struct wait_queue_head wq;
	_Atomic uint64_t never;
	_Atomic bool fatal;
	struct block_probe probe;
	int rc;
	_Atomic uint64_t done;
};

static void fatal_waiter_main(void *arg)
{
	struct fatal_waiter *fw = arg;

	sched_hook_install(&fw->probe.hook);
	fw->rc = wait_event_fn(&fw->wq, flag_cond, &fw->never, &fw->fatal);
	sched_hook_install(NULL);
	set_flag(&fw->done);
}

static void test_wait_event_fatal(void **state)
{
	struct fatal_waiter fw;
	struct sched_thread *t;

	(void)state;
	init_waitqueue_head(&fw.wq);
	atomic_init(&fw.never, 0);
	atomic_init(&fw.fatal, false);
	atomic_init(&fw.done, 0);
	fw.rc = 1;
	block_probe_init(&fw.probe, &fw.wq);
	t = start(fatal_waiter_main, &fw);
	assert_true(spin_until_set(&fw.probe.blocked));
	atomic_store(&fw.fatal, true);
	assert_true(spin_until_set(&fw.done));
	join(t);
	assert_int_equal(fw.rc, -EINTR);
	waitqueue_destroy(&fw.wq);
}

static void test_completion_single(void **state)
{
	struct completion c;

	(void)state;
	init_completion(&c);
	assert_false(completion_done(&c));
	assert_false(try_wait_for_completion(&c));
	complete(&c);
	assert_true(completion_done(&c));
	wait_for_completion(&c);		/* completed before: returns at once */
	assert_false(completion_done(&c));	/* consumed */
	complete(&c);
	complete(&c);
	assert_true(try_wait_for_completion(&c));
	assert_true(try_wait_for_completion(&c));
	assert_false(try_wait_for_completion(&c));
	completion_destroy(&c);
}

struct comp_waiter {
	struct completion *c;
	struct block_probe probe;
	_Atomic uint64_t done;
};

static void comp_waiter_main(void *arg)
{
	struct comp_waiter *w = arg;

	sched_hook_install(&w->probe.hook);
	wait_for_completion(w->c);
	sched_hook_install(NULL);
	set_flag(&w->done);
}

static void comp_waiter_init(struct comp_waiter *w, struct completion *c)
{
	w->c = c;
	block_probe_init(&w->probe, &c->wait);
	atomic_init(&w->done, 0);
}

static void test_completion_after_wait(void **state)
{
	struct completion c;
	struct comp_waiter w;
	struct sched_thread *t;

	(void)state;
	init_completion(&c);
	comp_waiter_init(&w, &c);
	t = start(comp_waiter_main, &w);
	assert_true(spin_until_set(&w.probe.blocked));	/* it went to sleep */
	assert_true(atomic_load(&w.done) == 0);
	complete(&c);
	assert_true(spin_until_set(&w.done));
	join(t);
	assert_false(completion_done(&c));
	completion_destroy(&c);
}

static void test_completion_all(void **state)
{
	struct completion c;
	struct comp_waiter w[NR_THREADS];
	struct sched_thread *t[NR_THREADS];

	(void)state;
	init_completion(&c);
	for (int i = 0; i < NR_THREADS; i++) {
		comp_waiter_init(&w[i], &c);
		t[i] = start(comp_waiter_main, &w[i]);
	}
	for (int i = 0; i < NR_THREADS; i++)
		assert_true(spin_until_set(&w[i].probe.blocked));
	complete_all(&c);
	for (int i = 0; i < NR_THREADS; i++) {
		assert_true(spin_until_set(&w[i].done));
		join(t[i]);
	}
	/* Stays complete for everyone until reinit. */
	assert_true(completion_done(&c));
	assert_true(try_wait_for_completion(&c));
	wait_for_completion(&c);
	complete(&c);
	assert_true(completion_done(&c));
	reinit_completion(&c);
	assert_false(completion_done(&c));
	assert_false(try_wait_for_completion(&c));
	completion_destroy(&c);
}

/* ------------------------------------------------------------------------ */
/* irq-off sections                                                         */
/* ------------------------------------------------------------------------ */

struct irq_test {
	struct irq_state irq;
	_Atomic uint64_t inside;	/* the owner entered its section */
	_Atomic uint64_t go;		/* main lets the owner leave */
	_Atomic uint64_t work;		/* written in the section */
	struct block_probe probe;	/* on the syncing thread */
	_Atomic uint64_t synced;
	uint64_t work_seen;		/* what the syncer saw after irq_sync */
};

static void irq_owner(void *arg)
{
	struct irq_test *it = arg;

	local_irq_disable(&it->irq);
	set_flag(&it->inside);
	spin_until_set(&it->go);
	WRITE_ONCE(it->work, 1);
	local_irq_enable(&it->irq);
}

static void irq_syncer(void *arg)
{
	struct irq_test *it = arg;

	sched_hook_install(&it->probe.hook);
	smp_mb();
	irq_sync(&it->irq);
	sched_hook_install(NULL);
	it->work_seen = READ_ONCE(it->work);
	set_flag(&it->synced);
}

static void test_irq_sync(void **state)
{
	struct irq_test it;
	struct sched_thread *owner, *syncer;

	(void)state;
	memset(&it, 0, sizeof(it));
	irq_state_init(&it.irq);
	/* Nobody inside: returns at once. */
	irq_sync(&it.irq);
	assert_false(irqs_disabled(&it.irq));
	local_irq_disable(&it.irq);
	assert_true(irqs_disabled(&it.irq));
	local_irq_enable(&it.irq);
	irq_sync(&it.irq);

	block_probe_init(&it.probe, &it.irq);
	owner = start(irq_owner, &it);
	assert_true(spin_until_set(&it.inside));
	syncer = start(irq_syncer, &it);
	assert_true(spin_until_set(&it.probe.blocked));	/* it saw the section */
	assert_true(atomic_load(&it.synced) == 0);
	set_flag(&it.go);
	assert_true(spin_until_set(&it.synced));
	join(owner);
	join(syncer);
	assert_true(it.work_seen == 1);	/* the whole section happened before */
	assert_false(irqs_disabled(&it.irq));
}

/* ------------------------------------------------------------------------ */
/* Hooks                                                                    */
/* ------------------------------------------------------------------------ */

struct counting_hook {
	struct sched_hook hook;
	unsigned count[SP_NR_KINDS];
	const void *last_obj[SP_NR_KINDS];
	unsigned total;
	enum sched_point_kind seq[8];	/* the first kinds, in order */
};

static void counting_point(void *arg, enum sched_point_kind kind, const void *obj)
{
	struct counting_hook *ch = arg;

	if (ch->total < 8)
		ch->seq[ch->total] = kind;
	ch->count[kind]++;
	ch->last_obj[kind] = obj;
	ch->total++;
}

static void counting_reset(struct counting_hook *ch)
{
	memset(ch->count, 0, sizeof(ch->count));
	memset(ch->last_obj, 0, sizeof(ch->last_obj));
	ch->total = 0;
}

/* Exactly one point of @kind on @obj since the last reset. */
static void expect_one(struct counting_hook *ch, enum sched_point_kind kind, const void *obj)
{
	assert_int_equal(ch->total, 1);
	assert_int_equal(ch->count[kind], 1);
	assert_ptr_equal(ch->last_obj[kind], obj);
	counting_reset(ch);
}

static void other_thread_ops(void *arg)
{
	atomic_inc(arg);
	smp_mb();
}

static void test_hooks(void **state)
{
	struct counting_hook ch = { .hook = { .point = counting_point, .arg = &ch } };
	spinlock_t lock = SPINLOCK_INIT;
	atomic_t v;
	_Atomic uint32_t x;
	_Atomic uint64_t stat;
	struct mutex m;
	struct rw_semaphore sem;
	struct irq_state irq;
	char src[16] = "frame bytes", dst[16];
	_Alignas(64) unsigned char frame[4096];

	(void)state;
	atomic_init(&v.counter, 0);
	atomic_init(&x, 0);
	atomic_init(&stat, 0);
	mutex_init(&m);
	init_rwsem(&sem);
	irq_state_init(&irq);

	assert_null(sched_hook_install(&ch.hook));
	counting_reset(&ch);

	spin_lock(&lock);
	expect_one(&ch, SP_LOCK, &lock);
	spin_unlock(&lock);
	expect_one(&ch, SP_UNLOCK, &lock);
	(void)READ_ONCE(x);
	expect_one(&ch, SP_READ, &x);
	WRITE_ONCE(x, 3);
	expect_one(&ch, SP_WRITE, &x);
	(void)smp_load_acquire(&x);
	expect_one(&ch, SP_READ, &x);
	smp_mb();
	expect_one(&ch, SP_FENCE, NULL);
	smp_rmb();
	expect_one(&ch, SP_FENCE, NULL);
	atomic_inc(&v);				/* nobody looks at the result */
	expect_one(&ch, SP_ADD, &v);
	atomic_sub(1, &v);
	expect_one(&ch, SP_ADD, &v);
	atomic_inc(&v);
	expect_one(&ch, SP_ADD, &v);
	(void)atomic_dec_and_test(&v);
	expect_one(&ch, SP_RMW, &v);
	(void)atomic_read(&v);
	expect_one(&ch, SP_READ, &v);
	mutex_lock(&m);
	expect_one(&ch, SP_LOCK, &m);
	mutex_unlock(&m);
	expect_one(&ch, SP_UNLOCK, &m);
	down_read(&sem);
	expect_one(&ch, SP_LOCK_SHARED, &sem);
	up_read(&sem);
	expect_one(&ch, SP_UNLOCK_SHARED, &sem);
	down_write(&sem);
	expect_one(&ch, SP_LOCK, &sem);
	up_write(&sem);
	expect_one(&ch, SP_UNLOCK, &sem);
	local_irq_disable(&irq);
	expect_one(&ch, SP_IRQ_OFF, &irq);
	local_irq_enable(&irq);
	expect_one(&ch, SP_IRQ_ON, &irq);
	irq_sync(&irq);				/* outside a section: one look */
	expect_one(&ch, SP_IRQ_SYNC, &irq);
	cpu_relax();
	expect_one(&ch, SP_YIELD, NULL);
	cond_resched();
	expect_one(&ch, SP_YIELD, NULL);
	mem_copy_from(dst, src, sizeof(src), src);
	expect_one(&ch, SP_MEM_READ, src);
	mem_copy_to(dst, src, sizeof(src), dst);
	expect_one(&ch, SP_MEM_WRITE, dst);
	mem_zero_frame(dst, sizeof(dst));
	expect_one(&ch, SP_MEM_WRITE, dst);
	assert_int_equal(dst[0], 0);
	memset(frame, 0xa5, sizeof(frame));
	mem_zero_frame_stream(frame, sizeof(frame));
	expect_one(&ch, SP_MEM_WRITE, frame);
	mem_stream_fence();			/* a write barrier: one fence point */
	expect_one(&ch, SP_FENCE, NULL);
	for (size_t i = 0; i < sizeof(frame); i++)
		if (frame[i])
			fail_msg("streaming zero left byte %zu = %#x", i, frame[i]);
	mem_copy_frame(dst, src, sizeof(src));
	assert_int_equal(ch.total, 2);
	assert_int_equal(ch.seq[0], SP_MEM_READ);
	assert_int_equal(ch.seq[1], SP_MEM_WRITE);
	assert_ptr_equal(ch.last_obj[SP_MEM_READ], src);
	assert_ptr_equal(ch.last_obj[SP_MEM_WRITE], dst);
	assert_string_equal(dst, "frame bytes");
	counting_reset(&ch);
	stat_add(&stat, 2);			/* statistics are not points */
	assert_true(stat_read(&stat) == 2);
	assert_int_equal(ch.total, 0);

	/* Hooks are per OS thread: another thread's points are not ours. */
	join(start(other_thread_ops, &v));
	assert_int_equal(ch.total, 0);
	assert_int_equal(atomic_read(&v), 1);
	counting_reset(&ch);

	/* Uninstalling returns our hook and stops the reports. */
	assert_ptr_equal(sched_hook_install(NULL), &ch.hook);
	spin_lock(&lock);
	spin_unlock(&lock);
	atomic_inc(&v);
	smp_mb();
	(void)READ_ONCE(x);
	assert_int_equal(ch.total, 0);

	mutex_destroy(&m);
	rwsem_destroy(&sem);
}

/* A hook that takes the detail: what the explorer's dependency relation sees. */
struct detail_hook {
	struct sched_hook hook;
	enum sched_point_kind kind;
	const void *obj;
	uint64_t detail;
	unsigned n;
};

static void detail_point_at(void *arg, enum sched_point_kind kind, const void *obj,
			    uint64_t detail)
{
	struct detail_hook *dh = arg;

	dh->kind = kind;
	dh->obj = obj;
	dh->detail = detail;
	dh->n++;
}

static void detail_point(void *arg, enum sched_point_kind kind, const void *obj)
{
	detail_point_at(arg, kind, obj, UINT64_MAX);	/* "no detail": never a real one */
}

static void expect_detail(struct detail_hook *dh, enum sched_point_kind kind, const void *obj,
			  uint64_t detail)
{
	assert_int_equal(dh->n, 1);
	assert_int_equal(dh->kind, kind);
	assert_ptr_equal(dh->obj, obj);
	assert_true(dh->detail == detail);
	dh->n = 0;
}

static void test_hook_details(void **state)
{
	struct detail_hook dh = { .hook = { .point = detail_point, .point_at = detail_point_at,
					    .arg = &dh } };
	_Atomic uint64_t word;
	_Alignas(4096) static unsigned char frame[4096];
	unsigned char buf[128] = { 0 };

	(void)state;
	atomic_init(&word, 0);
	assert_null(sched_hook_install(&dh.hook));
	/* Which bit, and set or clear: set/set of one bit commute, set/clear do not. */
	set_bit(5, &word);
	expect_detail(&dh, SP_BITS, &word, SCHED_BIT_DETAIL(5, true));
	clear_bit(63, &word);
	expect_detail(&dh, SP_BITS, &word, SCHED_BIT_DETAIL(63, false));
	assert_true(atomic_load(&word) == UINT64_C(1) << 5);
	/* The 64-byte lines of a frame that the bytes cover. */
	mem_copy_to(frame + 100, buf, 16, frame);
	expect_detail(&dh, SP_MEM_WRITE, frame, UINT64_C(1) << 1);
	mem_copy_to(frame + 60, buf, 8, frame);
	expect_detail(&dh, SP_MEM_WRITE, frame, UINT64_C(3));
	mem_copy_from(buf, frame + 4032, 64, frame);
	expect_detail(&dh, SP_MEM_READ, frame, UINT64_C(1) << 63);
	mem_set(frame, 0, 4096, frame);
	expect_detail(&dh, SP_MEM_WRITE, frame, ~UINT64_C(0));
	mem_copy_to_shared(frame + 512, buf, 128, frame);
	expect_detail(&dh, SP_MEM_WRITE, frame, UINT64_C(3) << 8);
	/* Whole-frame moves are plain points: every line. */
	mem_copy_frame(frame, frame, 64);
	assert_int_equal(dh.n, 2);
	assert_true(dh.detail == UINT64_MAX);
	dh.n = 0;
	assert_ptr_equal(sched_hook_install(NULL), &dh.hook);
	/* Out of the frame's range: all lines, never a wrong subset. */
	assert_true(sched_frame_lines(4090, 16) == ~UINT64_C(0));
	assert_true(sched_frame_lines(0, 0) == ~UINT64_C(0));
	assert_true(sched_frame_lines(0, 4096) == ~UINT64_C(0));
	assert_true(sched_frame_lines(4095, 1) == UINT64_C(1) << 63);
}

/*
 * A read release that finds a writer queued wakes it: that is an exclusive
 * access (SP_UNLOCK), while one with nobody queued only moves the count.
 */
static void test_hook_rwsem_release_kinds(void **state)
{
	struct counting_hook ch = { .hook = { .point = counting_point, .arg = &ch } };
	struct rw_semaphore sem;
	_Atomic uint64_t order = 0;
	struct rw_task w;
	struct sched_thread *tw;

	(void)state;
	tw = reader_then_queued_writer(&sem, &w, &order);
	assert_null(sched_hook_install(&ch.hook));
	counting_reset(&ch);
	up_read(&sem);
	assert_int_equal(ch.count[SP_UNLOCK], 1);
	assert_int_equal(ch.count[SP_UNLOCK_SHARED], 0);
	assert_ptr_equal(ch.last_obj[SP_UNLOCK], &sem);
	assert_ptr_equal(sched_hook_install(NULL), &ch.hook);
	assert_true(spin_until_set(&w.acquired));
	set_flag(&w.release);
	join(tw);
	rwsem_destroy(&sem);
}

static void test_threads_and_clock(void **state)
{
	uint64_t a, b;

	(void)state;
	a = sched_clock_ns();
	b = sched_clock_ns();
	assert_true(b >= a);
	assert_true(a > 0);
}

int main(void)
{
	const struct CMUnitTest sched[] = {
		cmocka_unit_test(test_atomic_int),
		cmocka_unit_test(test_atomic64),
		cmocka_unit_test(test_bitops_and_words),
		cmocka_unit_test(test_once_accessors),
		cmocka_unit_test(test_once_accessors_hooked),
		cmocka_unit_test(test_spinlock_exclusion),
		cmocka_unit_test(test_mutex_exclusion),
		cmocka_unit_test(test_rwsem_readers_share),
		cmocka_unit_test(test_rwsem_writer_exclusion),
		cmocka_unit_test(test_rwsem_fifo),
		cmocka_unit_test(test_rwsem_trylock_vs_queued_writer),
		cmocka_unit_test(test_rwsem_downgrade),
		cmocka_unit_test(test_rwsem_read_killable),
		cmocka_unit_test(test_rwsem_write_killable),
		cmocka_unit_test(test_seqcount_basic),
		cmocka_unit_test(test_seqcount_concurrent),
		cmocka_unit_test(test_wait_event_immediate),
		cmocka_unit_test(test_wait_event_timeout),
		cmocka_unit_test(test_wait_event_pingpong),
		cmocka_unit_test(test_wait_event_fatal),
		cmocka_unit_test(test_completion_single),
		cmocka_unit_test(test_completion_after_wait),
		cmocka_unit_test(test_completion_all),
		cmocka_unit_test(test_irq_sync),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_hook_details),
		cmocka_unit_test(test_hook_rwsem_release_kinds),
		cmocka_unit_test(test_threads_and_clock),
	};

	return cmocka_run_group_tests(sched, NULL, NULL);
}
