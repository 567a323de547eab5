/* SPDX-License-Identifier: MIT */
/*
 * src/sched/explore.h - explore mode: the deterministic scheduler of the laboratory.
 *
 * A test is a setup that builds a state and starts actors (sched_thread_start, or
 * gup_thread_start: both make actors while the explorer runs), a finish that
 * observes the final state, and a teardown.  explore_run() runs it again and again
 * on one OS thread, every actor a coroutine, switching only at the substrate's
 * scheduling points, and chooses the interleavings:
 *
 *   DFS      every interleaving, or with POR one per equivalence class of the
 *            dependency relation (two steps conflict when they touch the same
 *            object and one writes): dynamic partial-order reduction (the
 *            backtrack sets of Flanagan and Godefroid) with sleep sets; an optional
 *            preemption bound;
 *   RANDOM   random walks from a seed;
 *   PCT      probabilistic concurrency testing (random priorities, d-1 change points);
 *   REPLAY   one execution from a schedule string, as explore prints them.
 *
 * Objects are identified by first touch within an execution, so identities hold
 * across executions that share a prefix even when allocation addresses differ.
 * The engine must be deterministic given the schedule (it is: no real time - the
 * clock is virtual in explore mode - and no randomness); a replay that diverges is
 * reported (-EPROTO), not followed.
 */
#ifndef GUP_SCHED_EXPLORE_H
#define GUP_SCHED_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPLORE_MAX_ACTORS	16

enum explore_strategy {
	EXPLORE_DFS,
	EXPLORE_RANDOM,
	EXPLORE_PCT,
	EXPLORE_REPLAY,
};

enum explore_end {
	EXPLORE_DONE,		/* every actor setup started has returned       */
	EXPLORE_DEADLOCK,	/* all blocked, no timeout to fire              */
	EXPLORE_STEP_BOUND,	/* max_steps choice points without finishing    */
};

struct explore_config {
	enum explore_strategy strategy;
	bool por;			/* DFS: DPOR + sleep sets                 */
	/*
	 * DFS with POR: order every two critical sections of a lock, as a plain
	 * DPOR does, instead of only those whose contents conflict (explore.c,
	 * "Locks").  For comparisons; the outcomes are the same.
	 */
	bool order_locks;
	/*
	 * The "sb" memory model instead of sequential consistency: each actor's
	 * relaxed stores (WRITE_ONCE, atomic_set, atomic_add/sub/inc/dec, set_bit,
	 * clear_bit) wait in a store buffer of its own and reach memory later, in
	 * order, as steps the scheduler chooses; full barriers, value-returning
	 * RMWs, lock operations and releases wait for the buffer to drain
	 * (explore.c, "Store buffers").  At most EXPLORE_MAX_ACTORS / 2 actors.
	 */
	bool store_buffers;
	int preemption_bound;		/* DFS: < 0 for none                      */
	uint64_t seed;			/* RANDOM, PCT                            */
	unsigned long max_execs;	/* DFS: 0 unlimited; RANDOM/PCT: 0 = 1000 */
	unsigned pct_depth;		/* PCT: d >= 1 (0 = 3)                    */
	unsigned long max_steps;	/* choice points per execution (0 = 1e6)  */
	const char *replay;		/* REPLAY: a schedule string              */
	size_t stack_size;		/* per actor (0 = 256 KiB, more under ASan) */
};

struct explore_ops {
	/* Build one execution's state and start its actors.  Unscheduled. */
	int (*setup)(void *arg);
	/*
	 * The execution ended.  @redundant: POR showed an equivalent execution was or
	 * will be explored (do not count its outcome).  @schedule: its replay string.
	 */
	void (*finish)(void *arg, enum explore_end end, bool redundant, const char *schedule);
	/*
	 * Undo setup.  @abandoned: actors are stuck mid-operation (deadlock, bound);
	 * joining one then returns -EDEADLK at once and only frees it, and any state
	 * they hold locked must be leaked, not torn down.
	 */
	void (*teardown)(void *arg, bool abandoned);
};

struct explore_stats {
	unsigned long execs;		/* executions run                         */
	unsigned long redundant;	/* of those, sleep-set blocked (POR)      */
	unsigned long deadlocks, step_bounds;
	unsigned long bounded;		/* choices cut by the preemption bound    */
	uint64_t points;		/* scheduling points, every execution     */
	uint64_t states;		/* of those, where a switch could happen  */
	unsigned long max_depth;	/* most states in one execution           */
	uint64_t wall_ns;
	bool complete;			/* DFS: nothing left (not cut by max_execs) */
};

/*
 * Explore @ops under @cfg.  Return: 0, -EINVAL (bad config or replay string),
 * -ENOMEM, -EPROTO (the test is not deterministic: a replayed prefix diverged),
 * or setup's error.
 */
int explore_run(const struct explore_config *cfg, const struct explore_ops *ops, void *arg,
		struct explore_stats *stats);

/*
 * The schedule of the execution running now, as far as it got (for a report when
 * the engine stops on a BUG: replay it to see the same run), or NULL outside
 * explore_run.
 */
const char *explore_schedule_so_far(void);

/* The actor running now (0, 1, ... in order of creation), or -1 outside one. */
int explore_current_actor(void);

#endif /* GUP_SCHED_EXPLORE_H */
