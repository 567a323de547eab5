/* SPDX-License-Identifier: MIT */
/*
 * src/sched/lock.c - the spinlock slow path, the sleeping mutex and the fair rwsem.
 *
 * Fair rwsem design (see struct rw_semaphore in sched.h):
 *
 *   count = readers * RWSEM_READER | RWSEM_WAITERS? | RWSEM_WRITER?
 *
 *   - Fast paths (one CAS) run only while RWSEM_WAITERS is clear, so once anybody
 *     queues, every later acquirer queues behind it: FIFO.
 *   - Sleepers queue a struct sched_waiter on their own stack, under the wait lock,
 *     set RWSEM_WAITERS, and run the grant routine themselves (the lock may have
 *     been released between their failed fast path and the fetch_or).
 *   - Releasers that see RWSEM_WAITERS in the value their RMW replaced run the grant
 *     routine.  Because the enqueuer's fetch_or and the releaser's RMW are both RMWs
 *     of @count, one of them comes first in its modification order: either the
 *     releaser sees WAITERS and grants, or the enqueuer's grant sees the release.
 *   - The grant routine hands the lock to the head of the queue by updating @count
 *     on the waiter's behalf (hand-off), so a granted waiter owns the lock before
 *     it even wakes up and nobody can overtake it.
 */
#define _GNU_SOURCE

#include <assert.h>
#include <errno.h>

#include "sched/sched_internal.h"

/* ------------------------------------------------------------------------ */
/* Spinlock                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Contended spin_lock(): test-and-test-and-set.  Spin on a plain load so the cache
 * line stays shared while the holder works, and only CAS once it looks free.  The
 * SP_LOCK point was already made by spin_trylock() in spin_lock().
 */
void spin_lock_slow(spinlock_t *lock)
{
	unsigned spins = 0;
	uint32_t zero;

	sched_lock_note(lock, SLN_WAIT);
	for (;;) {
		while (atomic_load_explicit(&lock->locked, memory_order_relaxed) != 0)
			sched_spin_wait(lock, &spins);
		zero = 0;
		/* Acquire: pairs with the release store in spin_unlock(). */
		if (atomic_compare_exchange_weak_explicit(&lock->locked, &zero, 1,
				memory_order_acquire, memory_order_relaxed))
			return;
	}
}

/* ------------------------------------------------------------------------ */
/* Mutex                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Sleep/wake protocol (Dekker on two words, all seq_cst):
 *   sleeper: nr_waiting++ ; CAS(locked 0->1) fails ; sleep     (wait lock held)
 *   unlock:  locked = 0   ; load nr_waiting ; if != 0 signal   (under wait lock)
 * In the seq_cst total order either the sleeper's CAS follows the unlock's store
 * (and succeeds or loses to another owner, who will unlock in turn) or the unlock's
 * load follows the increment and signals; the sleeper holds the wait lock from its
 * increment until it sleeps, so the signal cannot fall in between.
 */

/* Spins of mutex_lock() on a held mutex before it goes to sleep. */
#define MUTEX_SPINS	64

void mutex_init(struct mutex *m)
{
	spin_lock_init(&m->fast);
	atomic_init(&m->nr_waiting, 0);
	wb_init(&m->wb);
}

void mutex_destroy(struct mutex *m)
{
	wb_destroy(&m->wb);
}

/* One CAS; seq_cst so that a sleeper's attempt is ordered after its increment. */
static bool mutex_cas(struct mutex *m)
{
	uint32_t zero = 0;

	return atomic_compare_exchange_strong_explicit(&m->fast.locked, &zero, 1,
			memory_order_seq_cst, memory_order_seq_cst);
}

/* Test before CAS: do not steal the line from the owner while it is held. */
static bool mutex_try(struct mutex *m)
{
	return atomic_load_explicit(&m->fast.locked, memory_order_relaxed) == 0 &&
	       mutex_cas(m);
}

/* Sleep until we own @m. */
static void mutex_lock_sleep(struct mutex *m)
{
	wb_lock(&m->wb);
	atomic_fetch_add_explicit(&m->nr_waiting, 1, memory_order_seq_cst);
	while (!mutex_cas(m))
		wb_wait(&m->wb, m);
	atomic_fetch_sub_explicit(&m->nr_waiting, 1, memory_order_relaxed);
	wb_unlock(&m->wb);
}

static void mutex_lock_wait(struct mutex *m)
{
	sched_lock_note(m, SLN_WAIT);
	for (unsigned i = 0; i < MUTEX_SPINS; i++) {
		cpu_relax_on(m);
		if (mutex_try(m))
			return;
	}
	mutex_lock_sleep(m);
}

void mutex_lock(struct mutex *m)
{
	sched_point_at(SP_LOCK, m, SCHED_LOCK_BLOCKING);
	if (!mutex_try(m))
		mutex_lock_wait(m);
	sched_lock_note(m, SLN_ACQUIRED);
}

bool mutex_trylock(struct mutex *m)
{
	sched_point(SP_LOCK, m);
	if (!mutex_try(m))
		return false;
	sched_lock_note(m, SLN_ACQUIRED);
	return true;
}

void mutex_unlock(struct mutex *m)
{
	sched_release();
	/* seq_cst store then seq_cst load: the unlock half of the protocol above. */
	atomic_store_explicit(&m->fast.locked, 0, memory_order_seq_cst);
	sched_lock_note(m, SLN_RELEASED);
	if (atomic_load_explicit(&m->nr_waiting, memory_order_seq_cst) != 0) {
		/* One sleeper suffices: if it loses the CAS, the winner unlocks later. */
		wb_lock(&m->wb);
		wb_signal(&m->wb);
		wb_unlock(&m->wb);
	}
	sched_point(SP_UNLOCK, m);
}

/* ------------------------------------------------------------------------ */
/* Fair rwsem                                                               */
/* ------------------------------------------------------------------------ */

/* A sleeper of an rwsem; lives on its stack; every field is under the wait lock. */
struct sched_waiter {
	struct sched_waiter *next;
	bool is_writer;
	bool granted;		/* set by the granter: @count already counts us */
};

void init_rwsem(struct rw_semaphore *sem)
{
	atomic_init(&sem->count, 0);
	sem->head = NULL;
	sem->tail = NULL;
	wb_init(&sem->wb);
}

void rwsem_destroy(struct rw_semaphore *sem)
{
	assert(sem->head == NULL);
	wb_destroy(&sem->wb);
}

/* Fast path: one more reader unless a writer holds or anybody queues (FIFO). */
/* The read fast path lives in sched.h (rwsem_read_fast), inlined into callers. */

/* Fast path: the writer bit on a completely idle semaphore. */
static bool rwsem_write_fast(struct rw_semaphore *sem)
{
	uint64_t zero = 0;

	return atomic_compare_exchange_strong_explicit(&sem->count, &zero, RWSEM_WRITER,
			memory_order_seq_cst, memory_order_relaxed);
}

/* Append @w (wait lock held). */
static void rwsem_enqueue(struct rw_semaphore *sem, struct sched_waiter *w)
{
	w->next = NULL;
	if (sem->tail != NULL)
		sem->tail->next = w;
	else
		sem->head = w;
	sem->tail = w;
}

/* Unlink @w wherever it is in the queue (wait lock held; killable give-up). */
static void rwsem_unlink(struct rw_semaphore *sem, struct sched_waiter *w)
{
	struct sched_waiter *prev = NULL;

	for (struct sched_waiter *it = sem->head; it != NULL; prev = it, it = it->next) {
		if (it != w)
			continue;
		if (prev != NULL)
			prev->next = w->next;
		else
			sem->head = w->next;
		if (sem->tail == w)
			sem->tail = prev;
		return;
	}
}

/*
 * Take the lock on behalf of @w if its kind may have it now: a writer needs no
 * writer and no readers, a reader needs no writer.  CAS loop because releasers and
 * pre-queue fast paths change @count without the wait lock.
 */
static bool rwsem_take_for(struct rw_semaphore *sem, const struct sched_waiter *w)
{
	uint64_t c = atomic_load_explicit(&sem->count, memory_order_relaxed);
	uint64_t new;

	for (;;) {
		if (w->is_writer) {
			if (c & ~RWSEM_WAITERS)
				return false;
			new = c | RWSEM_WRITER;
		} else {
			if (c & RWSEM_WRITER)
				return false;
			new = c + RWSEM_READER;
		}
		/* seq_cst (acquire): the previous owner's release happens-before @w's section. */
		if (atomic_compare_exchange_weak_explicit(&sem->count, &c, new,
				memory_order_seq_cst, memory_order_relaxed))
			return true;
	}
}

/*
 * The grant routine (wait lock held): hand the lock to the head writer, or to the
 * run of readers at the head, in FIFO order; stop at the first waiter that cannot
 * enter.  A reader granted here makes a following writer fail rwsem_take_for(), so
 * a run of readers ends at the first writer by itself.  Returns whether it woke any.
 */
static bool rwsem_grant(struct rw_semaphore *sem)
{
	bool woke = false;
	struct sched_waiter *w;

	while ((w = sem->head) != NULL && rwsem_take_for(sem, w)) {
		sem->head = w->next;
		if (sem->head == NULL)
			sem->tail = NULL;
		w->granted = true;
		woke = true;
		if (w->is_writer)
			break;
	}
	/*
	 * Empty queue: reopen the fast paths.  Enqueuers set WAITERS under the wait lock
	 * we hold, so nobody can queue meanwhile; the RMW keeps concurrent releases.
	 */
	if (sem->head == NULL)
		atomic_fetch_and_explicit(&sem->count, ~RWSEM_WAITERS, memory_order_seq_cst);
	if (woke)
		wb_broadcast(&sem->wb);
	return woke;
}

/* A releaser that saw RWSEM_WAITERS: run the grant routine. */
static void rwsem_wake(struct rw_semaphore *sem)
{
	bool woke;

	wb_lock(&sem->wb);
	woke = rwsem_grant(sem);
	wb_unlock(&sem->wb);
	/* After unlocking: a hook may yield, so keep it off the OS mutex where we can. */
	if (woke)
		sched_point_at(SP_WAKE, sem, SCHED_LOCK_BLOCKING);
}

/* Sleep (wait lock held) until granted or *@fatal; returns whether *@fatal stopped us. */
static bool rwsem_sleep_until_granted(struct rw_semaphore *sem, struct sched_waiter *w,
				      _Atomic bool *fatal)
{
	while (!w->granted) {
		if (fatal == NULL) {
			wb_wait(&sem->wb, sem);
			continue;
		}
		/* Acquire: whatever the killer did before setting the flag is visible. */
		if (atomic_load_explicit(fatal, memory_order_acquire))
			return true;
		/* Poll: whoever sets *fatal need not wake us. */
		wb_wait_until(&sem->wb, sem, sched_clock_ns() + SCHED_FATAL_POLL_NS);
	}
	return false;
}

/* Slow path of every down_*(): queue, let the grant routine hand us the lock. */
static int rwsem_wait(struct rw_semaphore *sem, bool is_writer, _Atomic bool *fatal)
{
	struct sched_waiter w = { .next = NULL, .is_writer = is_writer, .granted = false };
	int ret = 0;

	sched_lock_note(sem, SLN_WAIT);
	wb_lock(&sem->wb);
	/* Queueing turns the read fast paths off: part of a blocking acquisition. */
	sched_point_at(SP_LOCK, sem, SCHED_LOCK_BLOCKING);
	rwsem_enqueue(sem, &w);
	/* Pairs with the releasers' RMWs: one of us sees the other (see the top). */
	atomic_fetch_or_explicit(&sem->count, RWSEM_WAITERS, memory_order_seq_cst);
	rwsem_grant(sem);
	if (rwsem_sleep_until_granted(sem, &w, fatal)) {
		/* Not granted: leave; waiters behind us (readers after a writer) may enter. */
		rwsem_unlink(sem, &w);
		rwsem_grant(sem);
		ret = -EINTR;
	}
	wb_unlock(&sem->wb);
	if (ret)
		sched_lock_note(sem, SLN_GAVE_UP);
	else
		sched_lock_note(sem, is_writer ? SLN_ACQUIRED : SLN_ACQUIRED_SHARED);
	return ret;
}

/* The queueing side of down_read*(), after the inline fast path failed. */
int rwsem_down_read_slow(struct rw_semaphore *sem, _Atomic bool *fatal)
{
	return rwsem_wait(sem, false, fatal);
}

void down_write(struct rw_semaphore *sem)
{
	sched_point_at(SP_LOCK, sem, SCHED_LOCK_BLOCKING);
	if (rwsem_write_fast(sem))
		sched_lock_note(sem, SLN_ACQUIRED);
	else
		rwsem_wait(sem, true, NULL);
}

bool down_write_trylock(struct rw_semaphore *sem)
{
	sched_point(SP_LOCK, sem);
	if (!rwsem_write_fast(sem))
		return false;
	sched_lock_note(sem, SLN_ACQUIRED);
	return true;
}

int down_write_killable(struct rw_semaphore *sem, _Atomic bool *fatal)
{
	sched_point_at(SP_LOCK, sem, SCHED_LOCK_BLOCKING);
	if (rwsem_write_fast(sem)) {
		sched_lock_note(sem, SLN_ACQUIRED);
		return 0;
	}
	return rwsem_wait(sem, true, fatal);
}

/* up_read's slow side: the last reader left with sleepers queued. */
void rwsem_up_read_wake(struct rw_semaphore *sem)
{
	rwsem_wake(sem);
}

void up_write(struct rw_semaphore *sem)
{
	uint64_t old;

	sched_release();
	/* seq_cst (release): our section happens-before the next owner's. */
	old = atomic_fetch_sub_explicit(&sem->count, RWSEM_WRITER, memory_order_seq_cst);

	assert(old & RWSEM_WRITER);
	sched_lock_note(sem, SLN_RELEASED);
	if (old & RWSEM_WAITERS)
		rwsem_wake(sem);
	sched_point(SP_UNLOCK, sem);
}

/*
 * Writer to reader without a window: WRITER (1) becomes one READER (4) in a single
 * add of 3.  Readers queued at the head may now share the lock with us.
 */
void downgrade_write(struct rw_semaphore *sem)
{
	uint64_t old;

	sched_release();
	old = atomic_fetch_add_explicit(&sem->count, RWSEM_READER - RWSEM_WRITER,
					memory_order_seq_cst);

	assert(old & RWSEM_WRITER);
	sched_lock_note(sem, SLN_RELEASED);
	sched_lock_note(sem, SLN_ACQUIRED_SHARED);
	if (old & RWSEM_WAITERS)
		rwsem_wake(sem);
	sched_point(SP_UNLOCK, sem);
}
