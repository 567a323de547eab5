/* SPDX-License-Identifier: MIT */
/*
 * src/sched/sched_internal.h - private to the .c files of src/sched.
 *
 * Free-mode realisation of struct sched_wait_base (a pthread mutex and a condition
 * variable on CLOCK_MONOTONIC), and the few helpers the sleeping primitives share.
 * Only the files of src/sched may include <pthread.h>; this header is how they do.
 */
#ifndef GUP_SCHED_INTERNAL_H
#define GUP_SCHED_INTERNAL_H

#include <pthread.h>
#include <sched.h>	/* the system's, for sched_yield(): -Isrc has no sched.h at its top */
#include <stdint.h>
#include <time.h>

#include "sched/sched.h"

#define SCHED_HIDDEN __attribute__((visibility("hidden")))

/* What the opaque bytes of struct sched_wait_base hold in free mode. */
struct sched_wb_impl {
	pthread_mutex_t lock;	/* the wait lock: protects queues and sleeping */
	pthread_cond_t cond;	/* broadcast whenever a sleeper may proceed   */
};

_Static_assert(sizeof(struct sched_wb_impl) <= sizeof(struct sched_wait_base),
	       "pthread mutex + condvar must fit in struct sched_wait_base");
_Static_assert(_Alignof(struct sched_wb_impl) <= _Alignof(struct sched_wait_base),
	       "struct sched_wait_base is not aligned enough for pthread objects");

static inline struct sched_wb_impl *wb_impl(struct sched_wait_base *wb)
{
	/* The opaque array is only ever accessed through this type. */
	return (struct sched_wb_impl *)(void *)wb->opaque;
}

/* Poll period of a killable sleep: how late a fatal flag set without a wake is seen. */
#define SCHED_FATAL_POLL_NS	UINT64_C(1000000)

/* Spin iterations after which a spinner starts yielding its OS thread. */
#define SCHED_SPINS_BEFORE_YIELD	100

/*
 * One iteration of a spin-wait on another OS thread, for @obj to change.  After a
 * short burst of pause-spinning, yield the CPU on every iteration: with more threads
 * than cores the thread we wait for may be preempted, and only giving up our slice
 * lets it run.
 */
static inline void sched_spin_wait(const void *obj, unsigned *spins)
{
	cpu_relax_on(obj);
	if (sched_coop_cur())
		return;		/* explore mode: cpu_relax_on ran someone else */
	if (*spins >= SCHED_SPINS_BEFORE_YIELD)
		sched_yield();
	else
		(*spins)++;
}

/* A thread of execution: a pthread, or in explore mode an actor (explore.c). */
struct sched_thread {
	pthread_t tid;
	void (*fn)(void *arg);
	void *arg;
	void *actor;		/* explore mode: the scheduler's actor */
	bool service;		/* sched_kthread_start: nobody waits for its end */
};

SCHED_HIDDEN void wb_init(struct sched_wait_base *wb);
SCHED_HIDDEN void wb_destroy(struct sched_wait_base *wb);
SCHED_HIDDEN void wb_lock(struct sched_wait_base *wb);
SCHED_HIDDEN void wb_unlock(struct sched_wait_base *wb);
/*
 * Sleep (wait lock held) until woken; spurious wake-ups possible.  Makes the
 * SP_BLOCK point on @obj first: it comes after the sleeper has registered itself
 * (queued, counted) and found it must wait, so an observer that sees the point
 * knows a wake-up is now required.
 */
SCHED_HIDDEN void wb_wait(struct sched_wait_base *wb, const void *obj);
/* As wb_wait(), also returning once CLOCK_MONOTONIC passes @deadline_ns. */
SCHED_HIDDEN void wb_wait_until(struct sched_wait_base *wb, const void *obj,
				uint64_t deadline_ns);
/* Wake every sleeper; called with the wait lock held. */
SCHED_HIDDEN void wb_broadcast(struct sched_wait_base *wb);
/* Wake one sleeper; called with the wait lock held. */
SCHED_HIDDEN void wb_signal(struct sched_wait_base *wb);

#endif /* GUP_SCHED_INTERNAL_H */
