/* SPDX-License-Identifier: MIT */
/*
 * src/sched/coro.h - coroutines for explore mode: many actors on one OS thread.
 *
 * A coroutine is a stack and a saved stack pointer.  Switching saves the callee-
 * saved registers on the current stack and loads another stack pointer: a few
 * instructions, no system call (swapcontext would make one per switch for the
 * signal mask).  The sanitizers are told about every switch (their fiber APIs), so
 * ASan and TSan builds follow the stacks.
 *
 * Private to src/sched (explore.c); no other file may switch stacks.
 */
#ifndef GUP_SCHED_CORO_H
#define GUP_SCHED_CORO_H

#include <stddef.h>

struct coro {
	void *sp;		/* saved stack pointer while not running */
	void *stack;		/* the mapping (guard page first), NULL for a thread's own */
	size_t stack_size;	/* usable bytes above the guard page */
	void *tsan_fiber;	/* TSan's fiber for this context */
	const void *asan_bottom;	/* ASan: the stack's range, for the switch calls */
	size_t asan_size;
};

/* The calling OS thread's own context, the one the scheduler runs on. */
void coro_init_thread(struct coro *self);
void coro_fini_thread(struct coro *self);

/*
 * A new coroutine that will run @fn(@arg) the first time it is switched to.  @fn
 * must never return: it ends by switching away for good (then coro_destroy).
 * Return: 0 or -ENOMEM.
 */
int coro_create(struct coro *c, size_t stack_size, void (*fn)(void *arg), void *arg);
void coro_destroy(struct coro *c);
/*
 * Make @c, which ended or was abandoned and is not running, run @fn(@arg) the next
 * time it is switched to, on the same stack: coro_destroy and coro_create without
 * unmapping, mapping and faulting in a stack again.
 */
void coro_recycle(struct coro *c, void (*fn)(void *arg), void *arg);

/* Save the running context into @from and run @to. */
void coro_switch(struct coro *from, struct coro *to);
/* Run @to for good: the calling coroutine has ended and will be destroyed. */
__attribute__((noreturn)) void coro_exit_to(struct coro *from, struct coro *to);

#endif /* GUP_SCHED_CORO_H */
