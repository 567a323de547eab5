/* SPDX-License-Identifier: MIT */
/*
 * src/sched/hook.c - scheduling-point hooks, spin-wait and voluntary preemption
 * points, the monotonic clock, and the frame-byte movers.
 */
#define _GNU_SOURCE

#include <string.h>
#include <time.h>

#include "sched/sched.h"

/*
 * The hook of this OS thread.  NULL (the common case) makes every scheduling point
 * one thread-local load and a not-taken branch.  Never shared between threads, so
 * plain accesses suffice.
 */
__thread const struct sched_hook *sched_hook_cur __attribute__((tls_model("initial-exec")));

/*
 * Out of line so that the inline fast path stays one load and one branch.  @obj is
 * an identity, never dereferenced (access(none) in sched.h); gcc then warns that
 * passing it on "may use it uninitialized", which is why the warning is off here.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
void sched_point_slow(enum sched_point_kind kind, const void *obj)
{
	const struct sched_hook *hook = sched_hook_cur;

	/* A hook without a callback is a valid way to mark a thread and observe nothing. */
	if (hook != NULL && hook->point != NULL)
		hook->point(hook->arg, kind, obj);
}

void sched_lock_note_slow(const void *lock, enum sched_lock_note what)
{
	const struct sched_hook *hook = sched_hook_cur;

	if (hook != NULL && hook->coop != NULL && hook->coop->lock_note != NULL)
		hook->coop->lock_note(hook->arg, lock, what);
}

void sched_dec_kept_slow(const void *p, uint64_t parts)
{
	const struct sched_hook *hook = sched_hook_cur;

	if (hook != NULL && hook->coop != NULL && hook->coop->dec_kept != NULL)
		hook->coop->dec_kept(hook->arg, p, parts);
}

void sched_point_at_slow(enum sched_point_kind kind, const void *obj, uint64_t detail)
{
	const struct sched_hook *hook = sched_hook_cur;

	if (hook == NULL)
		return;
	if (hook->point_at != NULL)
		hook->point_at(hook->arg, kind, obj, detail);
	else if (hook->point != NULL)
		hook->point(hook->arg, kind, obj);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

bool sched_sb_defer_slow(void *p, unsigned size, enum sched_sb_op op, uint64_t v)
{
	const struct sched_hook *hook = sched_hook_cur;

	return hook != NULL && hook->coop != NULL && hook->coop->sb_defer != NULL &&
	       hook->coop->sb_defer(hook->arg, p, size, op, v);
}

void sched_forget_slow(const void *p, size_t size)
{
	const struct sched_hook *hook = sched_hook_cur;

	if (hook != NULL && hook->coop != NULL && hook->coop->forget != NULL)
		hook->coop->forget(hook->arg, p, size);
}

void sched_release_slow(void)
{
	const struct sched_hook *hook = sched_hook_cur;

	if (hook != NULL && hook->coop != NULL && hook->coop->sb_drain != NULL)
		hook->coop->sb_drain(hook->arg);
}

/* Swap the calling thread's hook; the caller owns @hook's lifetime while installed. */
const struct sched_hook *sched_hook_install(const struct sched_hook *hook)
{
	const struct sched_hook *old = sched_hook_cur;

	sched_hook_cur = hook;
	return old;
}

/*
 * One iteration of a spin-wait.  The point lets a hook interleave other tasks; the
 * pause tells an SMT sibling we are idle.  Spin loops that may wait on a preempted
 * OS thread also call sched_yield() themselves every so often (see lock.c, irq.c):
 * this function keeps no per-thread counter (the hook is the only TLS allowed).
 */
void cpu_relax_on(const void *obj)
{
	const struct sched_coop *coop;

	sched_point(SP_YIELD, obj);
	coop = sched_coop_cur();
	if (coop) {
		coop->spin(sched_hook_cur->arg, obj);	/* run others until @obj changes */
		return;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void cpu_relax(void)
{
	cpu_relax_on(NULL);
}

/* A voluntary preemption point for long loops: only a hook can act on it. */
void cond_resched(void)
{
	sched_point(SP_YIELD, NULL);
}

/* Monotonic nanoseconds; for timeouts and statistics, never for correctness. */
uint64_t sched_clock_ns(void)
{
	const struct sched_coop *coop = sched_coop_cur();
	struct timespec ts;

	if (coop)
		return coop->clock(sched_hook_cur->arg);	/* explore: virtual time */

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/*
 * The task a thread acts as ("current"), for code written against Linux names
 * (gup/linux.h).  Per OS thread, like the hook; the engine never reads it - every
 * engine call is given its task explicitly.
 */
static __thread void *sched_current_task;

void sched_set_current(void *task)
{
	sched_current_task = task;
}

void *sched_get_current(void)
{
	return sched_current_task;
}
