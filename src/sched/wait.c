/* SPDX-License-Identifier: MIT */
/*
 * src/sched/wait.c - the free-mode wait base (pthread mutex + condvar), wait queues
 * and completions.
 *
 * Wait-queue protocol (no lost wake-ups without taking the mutex on every wake):
 *
 *   waiter                                  waker
 *   lock(wb)                                change the condition
 *   RMW nr_waiting += 1  (seq_cst)  [W]     RMW nr_waiting += 0  (seq_cst)  [K]
 *   if (cond()) done                        if (value read != 0)
 *   cond_wait(wb)  (drops the lock)             lock(wb); broadcast; unlock(wb)
 *
 * Every change of nr_waiting is an RMW, and RMWs read the latest value of the
 * modification order.  If K comes after W there, K reads our increment and
 * broadcasts; since the waiter holds the mutex from W until it sleeps, the
 * broadcast cannot slip in between.  If K comes before W, W (acquire) reads a value
 * of K's (release) release sequence, so the condition change happens-before the
 * waiter's cond().  No fences: the argument is plain C11 and ThreadSanitizer models
 * it (it does not model atomic_thread_fence).
 */
#define _GNU_SOURCE

#include <errno.h>

#include "sched/sched_internal.h"

/* complete_all() value; half the range so racing complete()s cannot wrap it. */
#define COMPLETION_ALL	(UINT32_MAX / 2)

/* ------------------------------------------------------------------------ */
/* The wait base                                                            */
/* ------------------------------------------------------------------------ */

/* A mutex and a condvar whose timed waits run on CLOCK_MONOTONIC (immune to date changes). */
void wb_init(struct sched_wait_base *wb)
{
	struct sched_wb_impl *impl = wb_impl(wb);
	pthread_condattr_t attr;

	pthread_mutex_init(&impl->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&impl->cond, &attr);
	pthread_condattr_destroy(&attr);
}

/* Only when nobody can be sleeping or about to sleep on @wb. */
void wb_destroy(struct sched_wait_base *wb)
{
	pthread_cond_destroy(&wb_impl(wb)->cond);
	pthread_mutex_destroy(&wb_impl(wb)->lock);
}

/*
 * In explore mode every actor runs on this one OS thread: the wait lock is no OS
 * mutex there (an actor switched away inside it would deadlock the next one) but a
 * section the scheduler does not switch in, and a sleep is the scheduler's block
 * on the wait base, which a broadcast or signal wakes.
 */
void wb_lock(struct sched_wait_base *wb)
{
	const struct sched_coop *coop = sched_coop_cur();

	if (coop)
		coop->nest(sched_hook_cur->arg, 1);
	else
		pthread_mutex_lock(&wb_impl(wb)->lock);
}

void wb_unlock(struct sched_wait_base *wb)
{
	const struct sched_coop *coop = sched_coop_cur();

	if (coop)
		coop->nest(sched_hook_cur->arg, -1);
	else
		pthread_mutex_unlock(&wb_impl(wb)->lock);
}

void wb_wait(struct sched_wait_base *wb, const void *obj)
{
	const struct sched_coop *coop;

	sched_point(SP_BLOCK, obj);
	coop = sched_coop_cur();
	if (coop)
		coop->block(sched_hook_cur->arg, wb, 0);
	else
		pthread_cond_wait(&wb_impl(wb)->cond, &wb_impl(wb)->lock);
}

void wb_wait_until(struct sched_wait_base *wb, const void *obj, uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / UINT64_C(1000000000)),
		.tv_nsec = (long)(deadline_ns % UINT64_C(1000000000)),
	};
	const struct sched_coop *coop;

	sched_point(SP_BLOCK, obj);
	coop = sched_coop_cur();
	if (coop) {
		coop->block(sched_hook_cur->arg, wb, deadline_ns ? deadline_ns : 1);
		return;
	}
	/* ETIMEDOUT and spurious returns alike: the caller re-checks everything. */
	pthread_cond_timedwait(&wb_impl(wb)->cond, &wb_impl(wb)->lock, &ts);
}

void wb_broadcast(struct sched_wait_base *wb)
{
	const struct sched_coop *coop = sched_coop_cur();

	if (coop)
		coop->wake(sched_hook_cur->arg, wb);
	else
		pthread_cond_broadcast(&wb_impl(wb)->cond);
}

void wb_signal(struct sched_wait_base *wb)
{
	const struct sched_coop *coop = sched_coop_cur();

	/* Explore mode wakes them all: a sleeper re-checks, so that is a spurious wake. */
	if (coop)
		coop->wake(sched_hook_cur->arg, wb);
	else
		pthread_cond_signal(&wb_impl(wb)->cond);
}

/* ------------------------------------------------------------------------ */
/* Wait queues                                                              */
/* ------------------------------------------------------------------------ */

void init_waitqueue_head(struct wait_queue_head *wq)
{
	wb_init(&wq->wb);
	atomic_init(&wq->nr_waiting, 0);
}

void waitqueue_destroy(struct wait_queue_head *wq)
{
	wb_destroy(&wq->wb);
}

/* now + @ns, saturating: UINT64_MAX means "no deadline". */
static uint64_t deadline_after(uint64_t ns)
{
	uint64_t now;

	if (ns == UINT64_MAX)
		return UINT64_MAX;
	now = sched_clock_ns();
	return ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
}

/*
 * Sleep once (wait lock held).  Without a fatal flag or deadline nothing but a wake
 * can change the outcome, so sleep untimed; with a fatal flag, wake at least every
 * SCHED_FATAL_POLL_NS because whoever sets it need not wake us.
 */
static void wq_sleep(struct wait_queue_head *wq, _Atomic bool *fatal, uint64_t deadline)
{
	uint64_t until = deadline;

	if (fatal != NULL) {
		uint64_t poll = deadline_after(SCHED_FATAL_POLL_NS);

		if (poll < until)
			until = poll;
	}
	if (until == UINT64_MAX)
		wb_wait(&wq->wb, wq);
	else
		wb_wait_until(&wq->wb, wq, until);
}

/* Is the wait over?  0, -EINTR or -ETIMEDOUT; 1 to go on waiting. */
static int wait_outcome(bool (*cond)(void *arg), void *arg, _Atomic bool *fatal,
			uint64_t deadline)
{
	/* The condition wins over a fatal flag or an expiry seen at the same time. */
	if (cond(arg))
		return 0;
	/* Acquire: whatever the killer did before setting the flag is visible. */
	if (fatal != NULL && atomic_load_explicit(fatal, memory_order_acquire))
		return -EINTR;
	if (deadline != UINT64_MAX && sched_clock_ns() >= deadline)
		return -ETIMEDOUT;
	return 1;
}

/* The loop of the protocol above; returns 0, -EINTR or -ETIMEDOUT. */
static int wq_wait_locked(struct wait_queue_head *wq, bool (*cond)(void *arg), void *arg,
			  _Atomic bool *fatal, uint64_t deadline)
{
	int ret;

	while ((ret = wait_outcome(cond, arg, fatal, deadline)) > 0)
		wq_sleep(wq, fatal, deadline);
	return ret;
}

static int wait_event_common(struct wait_queue_head *wq, bool (*cond)(void *arg),
			     void *arg, _Atomic bool *fatal, uint64_t deadline)
{
	int ret;

	if (cond(arg))
		return 0;
	wb_lock(&wq->wb);
	/* W: acquire half pairs with K in wake_up_all(); see the top of the file. */
	atomic_fetch_add_explicit(&wq->nr_waiting, 1, memory_order_seq_cst);
	ret = wq_wait_locked(wq, cond, arg, fatal, deadline);
	/* Relaxed: a waker that still sees us only pays a useless broadcast. */
	atomic_fetch_sub_explicit(&wq->nr_waiting, 1, memory_order_relaxed);
	wb_unlock(&wq->wb);
	return ret;
}

int wait_event_fn(struct wait_queue_head *wq, bool (*cond)(void *arg), void *arg,
		  _Atomic bool *fatal)
{
	return wait_event_common(wq, cond, arg, fatal, UINT64_MAX);
}

int wait_event_timeout_fn(struct wait_queue_head *wq, bool (*cond)(void *arg), void *arg,
			  _Atomic bool *fatal, uint64_t timeout_ns)
{
	return wait_event_common(wq, cond, arg, fatal, deadline_after(timeout_ns));
}

/*
 * Explore mode: let the scheduler hold us until the outcome is decided, then
 * look.  The look may still fail (another actor ran between the scheduler's
 * evaluation and ours and undid the condition): then wait again.
 */
static int wait_event_await(const struct sched_coop *coop, bool (*cond)(void *arg), void *arg,
			    _Atomic bool *fatal, uint64_t deadline)
{
	int ret;

	do {
		coop->await(sched_hook_cur->arg, cond, arg, fatal,
			    deadline == UINT64_MAX ? 0 : deadline);
	} while ((ret = wait_outcome(cond, arg, fatal, deadline)) > 0);
	return ret;
}

int wait_event_pure_fn(struct wait_queue_head *wq, bool (*cond)(void *arg), void *arg,
		       _Atomic bool *fatal)
{
	const struct sched_coop *coop = sched_coop_cur();

	if (coop)
		return wait_event_await(coop, cond, arg, fatal, UINT64_MAX);
	return wait_event_common(wq, cond, arg, fatal, UINT64_MAX);
}

int wait_event_pure_timeout_fn(struct wait_queue_head *wq, bool (*cond)(void *arg), void *arg,
			       _Atomic bool *fatal, uint64_t timeout_ns)
{
	const struct sched_coop *coop = sched_coop_cur();
	uint64_t deadline = deadline_after(timeout_ns);

	if (coop)
		return wait_event_await(coop, cond, arg, fatal, deadline);
	return wait_event_common(wq, cond, arg, fatal, deadline);
}

void wake_up_all(struct wait_queue_head *wq)
{
	/* A wake that wakes is a full barrier (Linux's try_to_wake_up): the waker's
	 * stores reach memory before the woken re-check their condition. */
	sched_release();
	/* K: an RMW reads the newest count; its release half pairs with W. */
	if (atomic_fetch_add_explicit(&wq->nr_waiting, 0, memory_order_seq_cst) != 0) {
		wb_lock(&wq->wb);
		wb_broadcast(&wq->wb);
		wb_unlock(&wq->wb);
	}
	sched_point(SP_WAKE, wq);
}

/* ------------------------------------------------------------------------ */
/* Completions                                                              */
/* ------------------------------------------------------------------------ */

void init_completion(struct completion *x)
{
	atomic_init(&x->done, 0);
	init_waitqueue_head(&x->wait);
}

void completion_destroy(struct completion *x)
{
	waitqueue_destroy(&x->wait);
}

/* Only when nobody waits: forget earlier completions. */
void reinit_completion(struct completion *x)
{
	sched_point(SP_WRITE, &x->done);
	atomic_store_explicit(&x->done, 0, memory_order_relaxed);
}

/* Let one waiter (present or future) through. */
void complete(struct completion *x)
{
	sched_point(SP_RMW, &x->done);
	/* Past COMPLETION_ALL every waiter passes anyway; stay there, never wrap. */
	if (atomic_load_explicit(&x->done, memory_order_relaxed) < COMPLETION_ALL) {
		/* seq_cst (release): pairs with try_wait_for_completion()'s acquire. */
		atomic_fetch_add_explicit(&x->done, 1, memory_order_seq_cst);
	}
	wake_up_all(&x->wait);
}

/* Let every waiter through, now and until reinit_completion(). */
void complete_all(struct completion *x)
{
	sched_point(SP_WRITE, &x->done);
	/* Release: pairs with the acquire in try_wait_for_completion()/completion_done(). */
	atomic_store_explicit(&x->done, COMPLETION_ALL, memory_order_release);
	wake_up_all(&x->wait);
}

/* Consume one completion if there is one (none is consumed after complete_all). */
bool try_wait_for_completion(struct completion *x)
{
	uint32_t d;

	sched_point(SP_RMW, &x->done);
	d = atomic_load_explicit(&x->done, memory_order_acquire);
	do {
		if (d == 0)
			return false;
		if (d >= COMPLETION_ALL)
			return true;
		/* Acquire on success: pairs with complete()'s add. */
	} while (!atomic_compare_exchange_weak_explicit(&x->done, &d, d - 1,
			memory_order_acquire, memory_order_acquire));
	return true;
}

/* Only a hint for the wait loop; the consuming CAS provides the ordering. */
static bool completion_cond(void *arg)
{
	struct completion *x = arg;

	return atomic_load_explicit(&x->done, memory_order_relaxed) != 0;
}

/* Sleep until a completion is available, then consume it (another waiter may race us). */
void wait_for_completion(struct completion *x)
{
	while (!try_wait_for_completion(x))
		wait_event_fn(&x->wait, completion_cond, x, NULL);
}

bool completion_done(struct completion *x)
{
	sched_point(SP_READ, &x->done);
	return atomic_load_explicit(&x->done, memory_order_acquire) != 0;
}

/* ------------------------------------------------------------------------ */
/* Device latency                                                           */
/* ------------------------------------------------------------------------ */

void sched_io_delay(const void *obj, uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };
	const struct sched_coop *coop;

	sched_point(SP_BLOCK, obj);
	coop = sched_coop_cur();
	if (coop) {
		coop->delay(sched_hook_cur->arg, ns);	/* the virtual clock moves */
		return;
	}
	if (!ns)
		return;
	/* EINTR: sleep the rest (a signal handler of the host program). */
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
