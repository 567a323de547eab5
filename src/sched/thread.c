/* SPDX-License-Identifier: MIT */
/*
 * src/sched/thread.c - tasks' threads of execution; free mode: one pthread each.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>

#include "sched/sched_internal.h"

/* pthread's entry: run the task's function; a new thread starts without a hook. */
static void *sched_thread_main(void *p)
{
	struct sched_thread *t = p;

	t->fn(t->arg);
	return NULL;
}

static int thread_start(struct sched_thread **out, void (*fn)(void *arg), void *arg,
			bool service)
{
	struct sched_thread *t = malloc(sizeof(*t));
	int err;

	if (t == NULL)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	t->actor = NULL;
	t->service = service;
	if (sched_coop_cur()) {		/* explore mode: an actor, not an OS thread */
		err = sched_coop_cur()->spawn(sched_hook_cur->arg, t);
		if (err) {
			free(t);
			return err;
		}
		*out = t;
		return 0;
	}
	/* pthread_create's start happens-before the thread's first instruction. */
	err = pthread_create(&t->tid, NULL, sched_thread_main, t);
	if (err != 0) {
		free(t);
		return -err;
	}
	*out = t;
	return 0;
}

/* Start @fn(@arg) on a new thread; 0 and *@out, or a negative errno. */
int sched_thread_start(struct sched_thread **out, void (*fn)(void *arg), void *arg)
{
	return thread_start(out, fn, arg, false);
}

int sched_kthread_start(struct sched_thread **out, void (*fn)(void *arg), void *arg)
{
	return thread_start(out, fn, arg, true);
}

/* Wait for @t to finish and free it; everything it did happens-before our return. */
int sched_thread_join(struct sched_thread *t)
{
	int err;

	if (t->actor) {
		/* An actor of the explorer that is running this thread (explore.c). */
		err = sched_coop_cur()->join(sched_hook_cur->arg, t);
		free(t);
		return err;
	}
	err = pthread_join(t->tid, NULL);

	if (err != 0)
		return -err;
	free(t);
	return 0;
}
