/* SPDX-License-Identifier: MIT */
/*
 * src/gup/lock.c - the mmap lock as GUP's callers hold it.
 *
 * Linux's locked GUP variants trust the caller to hold mmap_lock (lockdep checks
 * it).  Here each task records the mmap locks it holds, so that the contract can
 * be checked (misuse reports, debug.c) and so that a user access by a task holding
 * its own mm's lock cannot deadlock on a recursive read lock behind a queued
 * writer: it fails with -EFAULT instead, as a pagefault_disable()d access would.
 * Only the owning thread writes or reads its own record.
 */
#include "gup/internal.h"

void task_note_mmap_lock(struct gup_task *t, struct gup_mm *mm, int mode)
{
	struct mmap_held *h;

	if (!t)
		return;
	h = task_mmap_held(t, NULL);
	/* Two slots: own mm and one remote; a third is refused before locking. */
	GUP_BUG_ON(!h, "task %u holds too many mmap locks", t->id);
	h->mm = mm;
	h->mode = mode;
}

void task_note_mmap_unlock(struct gup_task *t, struct gup_mm *mm)
{
	/* No record if an internal path took it, or the fault that dropped it cleared it. */
	task_mmap_held_clear(t, mm);
}

int gup_mmap_read_lock_killable(struct gup_call *c)
{
	_Atomic bool never = false;

	if (down_read_killable(&c->mm->mmap_lock, c->task ? &c->task->fatal_signal : &never))
		return -EINTR;
	task_note_mmap_lock(c->task, c->mm, MMAP_HELD_READ);
	return 0;
}

void gup_mmap_read_unlock_call(struct gup_call *c)
{
	task_note_mmap_unlock(c->task, c->mm);
	mmap_read_unlock(c->mm);
}

/* ---- public: the lock for callers of the locked variants ---- */

static int lock_args(struct gup_task *t, struct gup_mm *mm)
{
	if (!t || !mm || t->w != mm->w)
		return -EINVAL;
	if (task_holds_mmap_lock(t, mm))
		return -EDEADLK;	/* a second acquisition would self-deadlock */
	if (!task_mmap_held(t, NULL))
		return -EINVAL;		/* already holds two mmap locks */
	return 0;
}

GUP_API int gup_mmap_read_lock(struct gup_task *t, struct gup_mm *mm)
{
	struct gup_call c = { .task = t, .mm = mm };
	int err = lock_args(t, mm);

	return err ? err : gup_mmap_read_lock_killable(&c);
}

GUP_API void gup_mmap_read_unlock(struct gup_task *t, struct gup_mm *mm)
{
	struct mmap_held *h = t && mm ? task_mmap_held(t, mm) : NULL;

	if (!h || h->mode != MMAP_HELD_READ) {
		if (t)
			gup_misuse(t->w, __builtin_return_address(0),
				   "mmap read unlock of a lock task %u does not hold for read", t->id);
		return;
	}
	task_note_mmap_unlock(t, mm);
	mmap_read_unlock(mm);
}

GUP_API int gup_mmap_write_lock(struct gup_task *t, struct gup_mm *mm)
{
	int err = lock_args(t, mm);

	if (err)
		return err;
	if (down_write_killable(&mm->mmap_lock, &t->fatal_signal))
		return -EINTR;
	task_note_mmap_lock(t, mm, MMAP_HELD_WRITE);
	return 0;
}

GUP_API void gup_mmap_write_unlock(struct gup_task *t, struct gup_mm *mm)
{
	struct mmap_held *h = t && mm ? task_mmap_held(t, mm) : NULL;

	if (!h || h->mode != MMAP_HELD_WRITE) {
		if (t)
			gup_misuse(t->w, __builtin_return_address(0),
				   "mmap write unlock of a lock task %u does not hold for write",
				   t->id);
		return;
	}
	task_note_mmap_unlock(t, mm);
	mmap_write_unlock(mm);
}
