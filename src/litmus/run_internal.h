/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/run_internal.h - what the runner (run.c) and the interpreter of
 * operations (exec.c) share: the state of one execution of a litmus test.
 *
 * One struct xrun per execution, built by the explorer's setup callback and
 * gone after its teardown; it points at the struct runner that outlives it
 * (the test, the layout, the accumulated outcomes).  Everything an actor
 * reads that another actor writes, and that decides what it does, goes
 * through substrate primitives (the mm records' spinlock, the lease flag), so
 * that the explorer sees the dependency; what only feeds the report (results,
 * the order of events) is plain memory, written by one actor at a time.
 */
#ifndef GUP_LITMUS_RUN_INTERNAL_H
#define GUP_LITMUS_RUN_INTERNAL_H

#include "gup/file.h"
#include "gup/gup.h"
#include "gup/io.h"
#include "gup/uffd.h"
#include "litmus/run.h"
#include "mm/page.h"
#include "sched/sched.h"

/* Where the interpreter puts the mappings: region i at region_addr[i]. */
#define RUN_MAP_BASE	UINT64_C(0x10000000)

enum rval_kind {
	RV_UNSET,	/* the operation never ran (or never returned)      */
	RV_INT,		/* a count, 0, or -errno                           */
	RV_BYTES,	/* bytes read                                       */
	RV_ADDR,	/* an address (uffd_read)                           */
	RV_GONE,	/* a location that no longer exists                 */
};

struct rval {
	enum rval_kind kind;
	int64_t num;		/* RV_INT, RV_ADDR */
	uint8_t *bytes;		/* RV_BYTES (malloc'ed; NULL if len is 0) */
	size_t len;
};

/* What a named result holds until its releasing operation (or the teardown). */
struct rhandle {
	int err;			/* the operation that made it failed: its error */
	struct gup_page **pages;	/* LH_GET, LH_PIN: nr_pages of them */
	long nr_pages;
	struct gup_dio *dio;		/* LH_DIO, until waited */
	struct gup_fixed_buffers *fb;	/* LH_FIXED */
	struct gup_mr *mr;		/* LH_MR */
	struct gup_lease *lease;	/* LH_LEASE */
	_Atomic uint64_t lease_held;	/* 1 until its holder or the break releases it */
	bool release_on_break;
};

/* One operation of one execution. */
struct rop {
	struct rval val;
	struct rhandle h;
	unsigned begin, end;		/* its start and return in the execution's order; 0: never */
};

struct xrun;

struct rthread {
	struct xrun *x;
	unsigned idx;
	const struct litmus_thread *lt;
	struct gup_task *task;		/* NULL until its mm exists, and after `exit` */
	struct sched_thread *st;	/* its actor; NULL before it starts and once joined */
	int actor;			/* the explorer's id for it; -1 before it runs */
	struct rop *ops;
};

/* An address space of the test: a declared mm or a forked child. */
struct rmm {
	struct gup_mm *mm;		/* NULL until forked (or never) */
	spinlock_t lock;		/* task_lock: liveness against remote users */
	unsigned live;			/* the interpreter's tasks on it, under lock */
	struct gup_task *idle;		/* the task that keeps it alive when no thread runs */
};

struct runner;

struct xrun {
	struct runner *r;
	struct gup_world *w;
	FILE *report;			/* the world's reports of this execution */
	char *report_buf;
	size_t report_len;
	struct gup_disk **disks;
	struct gup_file **files;
	struct gup_pipe **pipes;
	struct gup_uffd **uffds;
	struct rmm *mms;
	struct rthread threads[LITMUS_MAX_THREADS];
	struct gup_task *observer;	/* reads the final memory, as a debugger would */
	unsigned events;		/* operations started and returned so far */
};

/* A location of the final condition (or the filter), with what it needs. */
struct rloc {
	const struct litmus_loc *loc;
	uint64_t len;			/* bytes to read: the longest pattern compared */
	bool shown;			/* in the condition (a state's column), not only the filter */
};

struct runner {
	const struct litmus_test *t;
	const struct litmus_run_opts *o;
	struct litmus_result *res;
	uint64_t *region_addr;
	uint8_t **op_pat[LITMUS_MAX_THREADS];	/* each op's pattern argument, expanded */
	uint8_t **disk_init, **file_init, **region_init;
	size_t nr_frames;
	struct frame_arena_store arenas;	/* one world's frames, between executions */
	struct rloc *locs;
	unsigned nr_locs;
	struct rval *vals;			/* this execution's value of each loc */
	struct xrun *x;				/* the execution in progress */
	char *sched;				/* its schedule string */
	size_t sched_cap;
	uint64_t t0, next_progress;
};

static inline uint64_t run_page_up(uint64_t n)
{
	return (n + GUP_PAGE_SIZE - 1) & ~(GUP_PAGE_SIZE - 1);
}

/* build.c */
struct xrun *xrun_alloc(struct runner *r);
void xrun_free(struct xrun *x);
int xrun_build(struct xrun *x);
/* Release a world whose actors all ended; the number of problems the engine found. */
int xrun_release(struct xrun *x);

/* state.c */
int state_loc_index(const struct runner *r, const struct litmus_loc *l);
void state_read(struct runner *r);
void state_free_vals(struct runner *r);
bool state_eval(const struct runner *r, const struct litmus_cond *c);
char *state_val_text(const struct runner *r, const struct rval *v);
char *state_text(const struct runner *r);

/* exec.c */
void exec_thread_main(void *arg);
int exec_thread_start(struct rthread *th);
void exec_release_handles(struct xrun *x);
uint64_t exec_addr(const struct runner *r, const struct litmus_addr *a);

#endif /* GUP_LITMUS_RUN_INTERNAL_H */
