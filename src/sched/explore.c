/* SPDX-License-Identifier: MIT */
/*
 * src/sched/explore.c - explore mode: actors as coroutines under a deterministic
 * scheduler that enumerates interleavings (explore.h).
 *
 * Steps and states.  An actor runs from one scheduling point to its next; that
 * stretch is a *step*, and the scheduler's choice before it is a *state*.  A point
 * announces the access that follows it (SP_READ before a load, SP_LOCK before an
 * acquire), so a step begins with the access its actor announced; points made
 * after the access (SP_UNLOCK, SP_WAKE, SP_IRQ_ON) end the current step with it.
 * Points inside a wait base's critical section (nest > 0) and a spin-wait's own
 * point add accesses to the step without being states: no switch happens there.
 *
 * Blocking.  A primitive that would wait calls the cooperative interface of
 * sched.h: block (until a wake of the key, or a virtual deadline), spin (until
 * another actor writes the object, or until anyone runs), join (until an actor
 * ends).  A blocked actor is disabled; a wake, a write or an end enables it, and
 * its next step begins with a read of what it waited on, which is how the waker's
 * step happens-before it.  When no actor is enabled, the earliest virtual deadline
 * fires (time passes only when everyone waits); with none, it is a deadlock.
 *
 * Pure waits.  A wait_event_pure_fn condition only loads, so the scheduler
 * evaluates it itself (await_poll): the waiter is runnable exactly while it holds,
 * and a look that fails is never a step.  The step that made it true
 * happens-before the waiter's next one (no race to reverse: the waiter could not
 * run before it), and a step that makes it false again races with the waiter
 * that could have run before it (await_disabled).
 *
 * Accesses.  Each access reads, writes or updates an object.  Reads commute with
 * reads; updates commute with updates of a compatible class: adds whose result
 * nobody reads (SP_ADD), bit operations on different bits or the same operation
 * on one bit (SP_BITS), decrements that kept a count above zero (a write until
 * sched_dec_kept says so: a put_page that did not free), lock operations
 * (below).  A frame's bytes are 64 objects, one per line (the point's
 * detail), so a DMA into one half of a page does not
 * conflict with a store to the other; a bit word's bits are 64 (SCHED_BIT_OBJ),
 * so a test of one page flag does not conflict with setting another (and a
 * word's fields are objects the same way).  Once an execution's outcome is
 * decided (every test actor ended), nothing more is recorded: finish and
 * teardown are no interleavings.
 *
 * Locks.  Two critical sections of one lock are ordered only if what they do
 * conflicts, not because both took the lock (the idea of lock-aware POR, LAPOR:
 * Kokologiannakis, Raad, Vafeiadis, ASPLOS 2019).  A blocking acquisition, a
 * release, and the spinning or sleeping for a lock are updates of class LOCK,
 * which races ignore and which give no happens-before; the substrate tells us who
 * holds and who waits for what (sched_lock_note).  The price is where a race is
 * reversed: if event j ran inside a section of lock L and the later actor took L
 * between j and its event, it can only come first by taking L first, so the
 * backtrack goes to the state before j's actor acquired L (lock_reloc); and an
 * actor that could not run at a state because it waited for a lock can run
 * before that lock's holders took it (state.lockreloc).  Three things keep lock
 * order where it is an outcome: a trylock is a write (its failure is acted on);
 * a nested acquisition (made while holding another lock) races with the other
 * actors' outer ones (held while they took another), since deadlocks form
 * there (lock_order_note); and for sleep sets lock operations conflict (an
 * acquisition changes what another one does: it blocks).  order_locks turns
 * all this off.
 *
 * DFS and partial-order reduction.  The path of states persists across
 * executions; each execution replays a prefix and extends it.  Without POR every
 * enabled actor is a backtrack choice.  With POR a state's backtrack set starts
 * with its choice, and each step's accesses are checked against the earlier
 * conflicting accesses of other actors (same object, one a write) that do not
 * happen-before it (vector clocks): the state before such an earlier step gets
 * the later actor as a backtrack choice (or every enabled one, if it was not
 * enabled then, and see "Locks").  Sleep sets prune what remains: an actor whose step from a state
 * was explored sleeps in the children reached by independent steps, and an
 * execution that finds every enabled actor asleep is redundant (finished without
 * recording, its outcome not counted).  Objects are named by first touch in each
 * execution, so names agree across executions that share a prefix.
 *
 * Store buffers (explore_config.store_buffers, the "sb" memory model).  A relaxed
 * store (sched_store_point: WRITE_ONCE, atomic_set, the atomics that return
 * nothing, set_bit, clear_bit) does not reach memory when the actor makes it: it
 * waits in the actor's buffer, oldest first, and the actor goes on.  Emptying
 * the buffer is the work of a flusher, one per actor (actor FLUSH0 + i for
 * actor i), enabled while its buffer holds a store: each step writes the oldest
 * store to memory, an ordinary step of the search that races, backtracks and
 * sleeps like any other, and the storing step happens-before it.  So a later
 * load of another object can run before an earlier store is seen by anyone:
 * the store-buffering shape (Dekker) that a full barrier forbids.  The actor
 * waits, at a state of its own, until its buffer is empty before a point that
 * orders (a fence, a value-returning RMW, a lock operation, an unbuffered
 * store, a block, an irq edge), before a release (sched_release: spin_unlock,
 * up_read, wake_up_all...), before it ends, and before any access to an object
 * its buffer holds (coherence: no forwarding, the store is drained instead -
 * fewer weak behaviours, each of them allowed).  This is the Linux kernel
 * memory model's view of store-to-load order for these primitives (arm64,
 * POWER); x86-TSO allows less, since its locked set_bit and atomic_inc are
 * full barriers.  Loads are never reordered.  By default a flusher goes
 * right after its actor's store (the first execution is sequentially
 * consistent); for the preemption bound an actor and its flusher are one CPU
 * (choice_preempts), so a bound that finds an interleaving under sequential
 * consistency finds it here too.  The scheduler context stores directly.
 *
 * Locking: none.  Everything here runs on one OS thread, the caller's of
 * explore_run; only the scheduler switches stacks, and only at points.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/coro.h"
#include "sched/explore.h"
#include "sched/sched_internal.h"

#define MAXA		EXPLORE_MAX_ACTORS
#define BIT(a)		((amask_t)1 << (a))
/* Store buffers: actor i's flusher is actor FLUSH0 + i (see "Store buffers"). */
#define FLUSH0		(MAXA / 2)
#define SB_MAX		16

typedef uint32_t amask_t;

enum actor_state { A_RUNNABLE, A_BLOCKED, A_DONE };

enum block_kind {
	BK_NONE,
	BK_WAKE,	/* block(): until wake(bkey) or the deadline     */
	BK_WRITE,	/* spin(obj): until another actor writes bkey    */
	BK_ANY,		/* spin(NULL): until another actor runs a step   */
	BK_JOIN,	/* join(): until the actor of bkey ends          */
	BK_AWAIT,	/* await(): while cond is false (runnable while true) */
};

/*
 * How a step touches an object.  Reads commute with reads; updates (SP_ADD,
 * SP_BITS, the read side of a rwsem) commute with updates of a compatible class
 * (upd_compatible) and conflict with reads and writes; a write conflicts with
 * everything.
 */
enum acc_mode { AM_READ, AM_WRITE, AM_UPDATE };

/* Update classes: a counting add, or a set/clear of one bit. */
#define UCLS_ADD	1u
#define UCLS_LOCK	2u		/* a blocking acquisition or a release */
#define UCLS_IRQ	3u		/* irq sections' edges, a shootdown's look */
#define UCLS_KEPT	4u		/* a decrement that kept its count above zero */
#define UCLS_BIT	0x100u		/* | SCHED_BIT_DETAIL(nr, set) */

/* A store waiting in a store buffer (sched_store_point's arguments). */
struct sb_entry {
	void *p;
	uint64_t v;
	uint8_t size, op;
	uint32_t vc[MAXA];		/* the storing step's clock: it happens-before the flush */
	long ev;			/* the storing step's event, or -1 */
};

/*
 * A lock an actor holds: the event that acquired it (its state is path[acq]).
 * @nested: it was taken while another was held; @outer: another was taken
 * while it was held (see lock_order_note).
 */
struct hold {
	const void *lock;
	uint32_t acq;
	bool excl;
	bool nested, outer;
};

/*
 * Locks one actor may hold at once: the allocator's exhaustion check takes every
 * shard lock of a zone (16, mm/page.c zone_alloc_slow) under a fault's mmap and
 * PT locks.  Past this the explorer stops with -EOVERFLOW rather than guess.
 */
#define MAX_HOLDS	32

/* An access: a canonical object (1-based; 0 = none), its mode and update class. */
struct acc {
	uint32_t obj;
	uint16_t mode;
	uint16_t cls;
};

/*
 * A step's accesses, kept in a state for the sleep sets.  Objects are named at
 * first touch in each execution, so only the names given before the step's
 * state (@base of them) mean the same object in a sibling branch; a name the
 * step gave itself may stand for another object there.
 */
struct acclist {
	uint32_t n;
	uint32_t base;			/* objects named when the step's state was pushed */
	struct acc a[];
};

/*
 * What an access covers: its object, or some parts of it that are objects of
 * their own - lines of a frame (bit i of @mask: bytes [64i, 64i + 64)), or
 * bits of a bit word (bit i: bit i, SCHED_BIT_OBJ).
 */
enum part_kind { PK_WHOLE, PK_LINES, PK_BITS };

struct parts {
	uint64_t mask;
	enum part_kind kind;
};

static const struct parts whole = { 0, PK_WHOLE };

struct actor {
	struct coro co;
	struct sched_thread *t;
	int id;
	enum actor_state state;
	bool is_test;			/* started by setup: the execution waits for it */
	enum block_kind bk;
	const void *bkey;
	uint64_t deadline;		/* virtual; 0 = none */
	uint64_t any_mark;		/* BK_ANY: the step count when it blocked */
	bool (*cond)(void *arg);	/* BK_AWAIT: pure, evaluated by the scheduler */
	void *cond_arg;
	_Atomic bool *fatal;
	long enabler;			/* BK_AWAIT: the event that made cond true, or -1 */
	const void *lockwait;		/* the lock it spins or sleeps for, or NULL */
	struct hold holds[MAX_HOLDS];	/* the locks it holds, oldest first */
	int nholds;
	struct hold *acqs;		/* every acquisition of this execution */
	size_t nacqs, capacqs;
	const void *pend;		/* the object announced at its last point */
	uint16_t pend_mode, pend_cls;
	struct parts pend_parts;	/* which parts of it (point_parts) */
	const void *resume;		/* what it waited on: read at its next step */
	uint32_t vc[MAXA];		/* vector clock: steps of each actor it knows */
	int nest;
	struct sb_entry sb[SB_MAX];	/* its store buffer: sb_n stores from sb_head */
	unsigned sb_head, sb_n;
};

struct event {
	int actor;
	uint32_t local;			/* the actor's step number (1-based) */
	size_t acc_off, acc_n;
	uint32_t vc[MAXA];		/* the actor's clock once the step closed */
	size_t hold_off, hold_n;	/* the locks held during the step (ex->holds) */
	long src;			/* a flush: the event that made the store, or -1 */
};

struct objrec {
	const void *ptr;
	uint32_t gen;			/* execution it belongs to (0: empty slot) */
	uint32_t id;
	long lastw;			/* event of the last write, or -1 */
	uint32_t wvc[MAXA];		/* clock of that write */
	uint32_t rvc[MAXA];		/* join of the reads since */
	uint32_t *reads;		/* events of those reads */
	uint32_t nreads, capreads;
	uint32_t uvc[MAXA];		/* join of the updates since the last write */
	uint32_t holder[MAXA];		/* a lock: acquiring event + 1 of each holder */
	struct upd { uint32_t ev; uint32_t cls; } *ups;	/* those updates */
	uint32_t nups, capups;
};

struct state {
	amask_t enabled, backtrack, done, sleep;
	/*
	 * Choices whose subtree the preemption bound cut somewhere (or that it
	 * cut here): not explored in full, so they put nobody to sleep.  Not
	 * empty: the bound cut something here or below.
	 */
	amask_t cut;
	int chosen, prev;		/* prev: the actor that ran before, or -1 */
	unsigned preempt;		/* preemptions on the path before this state */
	struct acclist *step[MAXA];	/* the step each explored choice took */
	struct acclist *sleepstep[MAXA];/* the steps of the sleeping actors */
	/* An actor blocked on a lock here: the state before its holders took it, + 1. */
	uint32_t lockreloc[MAXA];
	uint32_t nobj;			/* objects named when it was pushed */
};

struct explorer {
	struct sched_hook hook;		/* installed while an actor runs */
	struct sched_hook quiet;	/* in the scheduler context: points only counted */
	struct coro main;
	const struct explore_config *cfg;
	const struct explore_ops *ops;
	void *arg;
	struct explore_stats *st;
	size_t stack_size;
	unsigned long max_steps;

	/* this execution */
	struct actor *act[MAXA];
	struct actor *spare[MAXA];	/* ended actors, their stacks kept for the next */
	int nspare;
	int nact, cur;
	uint64_t vclock;
	struct event *ev;
	size_t nev, evcap;
	bool ev_open;
	struct acc *acc;
	size_t nacc, acccap;
	struct hold *holds;		/* what each event's actor held (event.hold_*) */
	size_t nholds, holdcap;
	bool recording, redundant, end_now;
	bool abandoned;			/* teardown of a stuck execution */
	enum explore_end end;
	size_t depth;			/* states of this execution */
	uint64_t nsteps;		/* steps of this execution, recorded or not */
	uint32_t gen, nobj;
	struct objrec *objs;
	size_t objcap;
	uint32_t *slot;			/* this execution's object names: their slots in objs */
	size_t slotcap;
	char *sched;
	size_t schedlen, schedcap;
	int run_actor;
	unsigned long run_len;
	const void **accptr;		/* the object of each access (parallel to acc) */
	struct { const void *p; size_t size; } *forget;	/* freed, retired at ev_close */
	size_t nforget, forgetcap;
	/* what the scheduler context waits for while actors run */
	enum { MW_EXEC, MW_JOIN, MW_KEY, MW_STEP } main_wait;
	const void *main_key;
	bool main_woken;
	struct sched_thread *main_join;
	uint64_t main_mark;

	/* across executions */
	struct state *path;
	size_t npath, pathcap, prefix;
	int *replay;
	size_t nreplay;
	uint64_t rng;
	unsigned prio[MAXA];
	uint64_t *change;
	unsigned nchange;
	uint64_t last_len;
	int err;
};

static const struct sched_coop explore_coop;
static void ex_set_cur(struct explorer *ex, int c);


static struct explorer *ex_self(void)
{
	const struct sched_hook *h = sched_hook_cur;

	return h && h->coop == &explore_coop ? h->arg : NULL;
}

static void sched_flush_run(struct explorer *ex);

const char *explore_schedule_so_far(void)
{
	struct explorer *ex = ex_self();

	if (!ex)
		return NULL;
	sched_flush_run(ex);	/* later steps start a new run: the string stays valid */
	return ex->sched ? ex->sched : "";
}

int explore_current_actor(void)
{
	struct explorer *ex = ex_self();

	return ex ? ex->cur : -1;
}

/* The explorer's own bookkeeping has no way to fail softly mid-execution. */
__attribute__((noreturn, cold)) static void oom(void)
{
	fprintf(stderr, "libgup explore: out of memory\n");
	abort();
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom();
	return q;
}

/* ---- objects: canonical names, per-object clocks ---- */

static uint32_t hash_ptr(const void *p)
{
	uint64_t v = (uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15);

	return (uint32_t)(v >> 32);
}

static void obj_grow(struct explorer *ex)
{
	struct objrec *old = ex->objs;
	size_t oldcap = ex->objcap;

	ex->objcap = oldcap ? oldcap * 2 : 1024;
	ex->objs = calloc(ex->objcap, sizeof(*ex->objs));
	if (!ex->objs)
		oom();
	for (size_t i = 0; i < oldcap; i++) {
		struct objrec *o = &old[i], *n;

		if (o->gen != ex->gen) {
			free(o->reads);
			free(o->ups);
			continue;
		}
		for (size_t i2 = hash_ptr(o->ptr) & (ex->objcap - 1);;
		     i2 = (i2 + 1) & (ex->objcap - 1)) {
			n = &ex->objs[i2];
			if (n->gen != ex->gen) {
				*n = *o;
				ex->slot[n->id] = (uint32_t)i2;
				break;
			}
		}
	}
	free(old);
}

/* The record of @ptr in this execution; a new name at first touch. */
static struct objrec *obj_find(struct explorer *ex, const void *ptr)
{
	size_t mask = ex->objcap - 1, i = hash_ptr(ptr) & mask;

	for (;; i = (i + 1) & mask) {
		struct objrec *o = &ex->objs[i];

		/*
		 * A slot of an earlier execution counts as empty: within one execution
		 * slots only ever become current, so a probe meets no hole before its
		 * entry.
		 */
		if (o->gen != ex->gen) {
			free(o->reads);
			free(o->ups);
			memset(o, 0, sizeof(*o));
			o->ptr = ptr;
			o->gen = ex->gen;
			o->id = ++ex->nobj;
			o->lastw = -1;
			if (o->id >= ex->slotcap) {
				ex->slotcap = ex->slotcap ? ex->slotcap * 2 : 1024;
				ex->slot = xrealloc(ex->slot, ex->slotcap * sizeof(*ex->slot));
			}
			ex->slot[o->id] = (uint32_t)i;
			return o;
		}
		if (o->ptr == ptr)
			return o;
	}
}

/* The record of the object named @id in this execution (no hashing). */
static struct objrec *obj_named(struct explorer *ex, uint32_t id)
{
	return &ex->objs[ex->slot[id]];
}

static struct objrec *obj_get(struct explorer *ex, const void *ptr)
{
	if ((ex->nobj + 1) * 2 > ex->objcap)
		obj_grow(ex);
	return obj_find(ex, ptr);
}


/*
 * Objects in [@p, @p + @size) were freed: their records stop answering to
 * the address, so whatever is allocated there next gets a name of its own.
 */
static void obj_retire(struct explorer *ex, const void *p, size_t size)
{
	uintptr_t lo = (uintptr_t)p, hi = lo + size;

	for (size_t i = 0; i < ex->objcap; i++) {
		struct objrec *o = &ex->objs[i];
		/* A bit of a bit word (SCHED_BIT_OBJ) goes with its word. */
		uintptr_t a = (uintptr_t)o->ptr & (((uintptr_t)1 << SCHED_BIT_OBJ_SHIFT) - 1);

		if (o->gen == ex->gen && a >= lo && a < hi)
			o->ptr = (const void *)(uintptr_t)1;	/* no object lives at 1 */
	}
}

static void obj_retire_pending(struct explorer *ex)
{
	for (size_t i = 0; i < ex->nforget; i++)
		obj_retire(ex, ex->forget[i].p, ex->forget[i].size);
	ex->nforget = 0;
}

/* ---- accesses ---- */

enum point_timing { PT_NONE, PT_BEFORE, PT_AFTER };

/* What a point says about the access it stands for: its timing, mode and class. */
static enum point_timing classify(enum sched_point_kind kind, uint64_t detail, struct acc *x)
{
	x->mode = AM_READ;
	x->cls = 0;
	switch (kind) {
	case SP_READ:
	case SP_MEM_READ:
	case SP_READ_BITS:
	case SP_BLOCK:
	case SP_YIELD:
		return PT_BEFORE;
	case SP_LOCK:
		x->mode = (detail & SCHED_LOCK_BLOCKING) ? AM_UPDATE : AM_WRITE;
		x->cls = (detail & SCHED_LOCK_BLOCKING) ? UCLS_LOCK : 0;
		return PT_BEFORE;
	case SP_WRITE:
	case SP_RMW:
	case SP_MEM_WRITE:
	case SP_WRITE_BITS:
		x->mode = AM_WRITE;
		return PT_BEFORE;
	case SP_IRQ_OFF:
	case SP_IRQ_SYNC:
		x->mode = AM_UPDATE;
		x->cls = UCLS_IRQ;
		return PT_BEFORE;
	case SP_ADD:
		x->mode = AM_UPDATE;
		x->cls = UCLS_ADD;
		return PT_BEFORE;
	case SP_LOCK_SHARED:
		x->mode = AM_UPDATE;
		x->cls = UCLS_LOCK;
		return PT_BEFORE;
	case SP_BITS:
		x->mode = AM_UPDATE;
		x->cls = (uint16_t)(UCLS_BIT | (detail & 0xff));
		return PT_BEFORE;
	case SP_UNLOCK_SHARED:
	case SP_UNLOCK:
		x->mode = AM_UPDATE;
		x->cls = UCLS_LOCK;
		return PT_AFTER;
	case SP_WAKE:
		x->mode = (detail & SCHED_LOCK_BLOCKING) ? AM_UPDATE : AM_WRITE;
		x->cls = (detail & SCHED_LOCK_BLOCKING) ? UCLS_LOCK : 0;
		return PT_AFTER;
	case SP_IRQ_ON:
		x->mode = AM_UPDATE;
		x->cls = UCLS_IRQ;
		return PT_AFTER;
	case SP_FENCE:
	default:
		return PT_NONE;
	}
}

/* The parts of its object a point's access covers. */
static struct parts point_parts(enum sched_point_kind kind, uint64_t detail)
{
	switch (kind) {
	case SP_MEM_READ:
	case SP_MEM_WRITE:
		return (struct parts){ detail ? detail : ~UINT64_C(0), PK_LINES };
	case SP_READ_BITS:
	case SP_WRITE_BITS:
		return (struct parts){ detail, PK_BITS };
	case SP_BITS:
		return (struct parts){ UINT64_C(1) << ((detail >> 1) & 63), PK_BITS };
	case SP_ADD:
		return detail ? (struct parts){ detail, PK_BITS } : whole;
	default:
		return whole;
	}
}

/*
 * Do two updates commute?  Adds with adds; bit operations unless they set and
 * clear the same bit (set/set and clear/clear of one bit are idempotent); kept
 * decrements with kept decrements (ex_dec_kept), not with adds: moving a
 * decrement before an increment may take the count to zero.
 */
static bool upd_compatible(uint32_t a, uint32_t b)
{
	if ((a & UCLS_BIT) && (b & UCLS_BIT))
		return (a >> 1) != (b >> 1) || a == b;
	return a == b;
}

/*
 * Do two steps' accesses conflict, for the sleep sets?  Lock operations do here
 * (an acquisition changes what another's does: it blocks), although the races
 * ignore them (dpor_access): a sleeping acquirer must wake when the lock is taken.
 * So do kept decrements: each kept its count above zero from the state where it
 * was taken, but one after the other may reach zero (ex_dec_kept).
 */
static bool acc_conflict(struct acc x, struct acc y)
{
	if (!x.obj || x.obj != y.obj)
		return false;
	if (x.mode == AM_READ && y.mode == AM_READ)
		return false;
	if (x.mode == AM_UPDATE && y.mode == AM_UPDATE)
		return x.cls == UCLS_LOCK || x.cls == UCLS_KEPT || !upd_compatible(x.cls, y.cls);
	return true;
}

/* Another actor wrote @obj: spinners on it may proceed (and re-check). */
static void wake_writers(struct explorer *ex, const void *obj, int by)
{
	for (int i = 0; i < ex->nact; i++) {
		struct actor *a = ex->act[i];

		if (a->state == A_BLOCKED && a->bk == BK_WRITE && a->bkey == obj && i != by) {
			a->state = A_RUNNABLE;
			a->resume = obj;
		}
	}
}

/* One access of the running actor's open step (recording), and its effect on spinners. */
static void record_one(struct explorer *ex, const void *obj, struct acc x)
{
	if (x.mode != AM_READ)
		wake_writers(ex, obj, ex->cur);
	if (!ex->recording || !ex->ev_open)
		return;
	if (ex->nacc == ex->acccap) {
		ex->acccap = ex->acccap ? ex->acccap * 2 : 4096;
		ex->acc = xrealloc(ex->acc, ex->acccap * sizeof(*ex->acc));
		ex->accptr = xrealloc(ex->accptr, ex->acccap * sizeof(*ex->accptr));
	}
	x.obj = obj_get(ex, obj)->id;
	ex->acc[ex->nacc] = x;
	ex->accptr[ex->nacc] = obj;
	ex->nacc++;
	ex->ev[ex->nev - 1].acc_n++;
}

/*
 * An access of @obj, or of @parts of it: each 64-byte line of a frame is an
 * object of its own, named by its address, so that accesses to disjoint bytes
 * of a page do not conflict; each bit of a bit word is one, named by
 * SCHED_BIT_OBJ, so that a test of PG_anon does not conflict with setting
 * PG_dirty.
 */
static void record(struct explorer *ex, const void *obj, struct acc x, struct parts parts)
{
	uint64_t m = parts.mask;

	if (!obj)
		return;
	switch (parts.kind) {
	case PK_WHOLE:
		record_one(ex, obj, x);
		break;
	case PK_LINES:
		for (; m; m &= m - 1)
			record_one(ex, (const char *)obj + __builtin_ctzll(m), x);
		break;
	case PK_BITS:
		for (; m; m &= m - 1)
			record_one(ex, SCHED_BIT_OBJ(obj, __builtin_ctzll(m)), x);
		if (x.mode != AM_READ)
			wake_writers(ex, obj, ex->cur);	/* a spinner on the word */
		break;
	}
}


static struct acc acc_read(void)
{
	return (struct acc){ .mode = AM_READ };
}

static struct acc acc_write(void)
{
	return (struct acc){ .mode = AM_WRITE };
}

/*
 * Could a sleeping step's access @x (of @a) and the access @y of the step just
 * taken touch the same object?  Names up to @a->base are shared with the
 * branch that recorded @a; a name above it there and one above it here may be
 * one object under two names, so they are taken to be.
 */
static bool sleep_conflict(const struct acclist *a, struct acc x, struct acc y)
{
	if (x.obj > a->base && y.obj > a->base)
		return !(x.mode == AM_READ && y.mode == AM_READ);
	return acc_conflict(x, y);
}

static bool steps_independent(const struct acclist *a, const struct acc *b, size_t nb)
{
	for (uint32_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < nb; j++)
			if (sleep_conflict(a, a->a[i], b[j]))
				return false;
	return true;
}

static struct acclist *acclist_of(const struct acc *a, size_t n, uint32_t base)
{
	struct acclist *l = xrealloc(NULL, sizeof(*l) + n * sizeof(l->a[0]));

	l->n = (uint32_t)n;
	l->base = base;
	if (n)
		memcpy(l->a, a, n * sizeof(*a));
	return l;
}

static struct acclist *acclist_dup(const struct acclist *l)
{
	return acclist_of(l->a, l->n, l->base);
}

/* ---- the schedule string: runs of one actor, "a:n,a:n,..." ---- */

static void sched_flush_run(struct explorer *ex)
{
	char buf[48];
	int len;

	if (ex->run_actor < 0)
		return;
	len = snprintf(buf, sizeof(buf), "%s%d:%lu", ex->schedlen ? "," : "", ex->run_actor,
		       ex->run_len);
	if (ex->schedlen + (size_t)len + 1 > ex->schedcap) {
		ex->schedcap = (ex->schedlen + (size_t)len + 1) * 2;
		ex->sched = xrealloc(ex->sched, ex->schedcap);
	}
	memcpy(ex->sched + ex->schedlen, buf, (size_t)len + 1);
	ex->schedlen += (size_t)len;
	ex->run_actor = -1;
	ex->run_len = 0;
}

static void sched_note(struct explorer *ex, int actor)
{
	if (actor != ex->run_actor) {
		sched_flush_run(ex);
		ex->run_actor = actor;
	}
	ex->run_len++;
}

/* Parse "a:n,a:n" into one choice per state.  -EINVAL on anything else. */
static int replay_parse(struct explorer *ex, const char *s)
{
	size_t cap = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), n;

		if (end == s || *end != ':' || a < 0 || a >= MAXA)
			return -EINVAL;
		s = end + 1;
		n = strtol(s, &end, 10);
		if (end == s || n <= 0 || n > 100000000L)
			return -EINVAL;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
		for (long i = 0; i < n; i++) {
			if (ex->nreplay == cap) {
				cap = cap ? cap * 2 : 1024;
				ex->replay = xrealloc(ex->replay, cap * sizeof(*ex->replay));
			}
			ex->replay[ex->nreplay++] = (int)a;
		}
	}
	return 0;
}

/* ---- randomness (xorshift64*) ---- */

static uint64_t rnd(struct explorer *ex)
{
	uint64_t x = ex->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ex->rng = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* ---- DPOR: clocks and races ---- */

static void vc_join(uint32_t *a, const uint32_t *b)
{
	for (int i = 0; i < MAXA; i++)
		if (b[i] > a[i])
			a[i] = b[i];
}

/* Step @j of another actor races with the step being closed by @p: backtrack. */
static void add_backtrack(struct explorer *ex, size_t j, int p)
{
	struct state *s = &ex->path[j];

	while (!(s->enabled & BIT(p))) {
		/*
		 * @p could not run here: if it was waiting for a lock, it can run
		 * before the lock's holders took it (see "Locks"); else any of
		 * those that can run may lead to it.
		 */
		s->backtrack |= s->enabled;
		if (!s->lockreloc[p] || s->lockreloc[p] - 1 >= j)
			return;
		j = s->lockreloc[p] - 1;
		s = &ex->path[j];
	}
	s->backtrack |= BIT(p);
}

/*
 * Whose locks a step of @c holds: a flusher's, its actor's.  A buffered store
 * reaches memory before its actor's next acquisition or release (both drain),
 * so it is flushed inside the very sections it was made in.
 */
static int lock_actor(const struct explorer *ex, int c)
{
	return ex->cfg->store_buffers && c >= FLUSH0 ? c - FLUSH0 : c;
}

/*
 * Where to reverse a race between event @j and the later event @k, or @j itself.
 * If @j ran inside a critical section of a lock that @k's actor took between
 * the two (one of the holds exclusive), that actor can only come first by
 * taking the lock first: before the event that acquired it for @j.
 */
static size_t lock_reloc(const struct explorer *ex, size_t j, size_t k)
{
	const struct event *ej = &ex->ev[j];
	const struct actor *q = ex->act[lock_actor(ex, ex->ev[k].actor)];
	size_t t = j;

	for (size_t a = 0; a < ej->hold_n; a++) {
		const struct hold *ha = &ex->holds[ej->hold_off + a];

		for (size_t b = q->nacqs; b-- > 0;) {
			const struct hold *hb = &q->acqs[b];

			if (hb->acq <= j)
				break;		/* acquisitions are in event order */
			if (hb->acq <= k && ha->lock == hb->lock && (ha->excl || hb->excl) &&
			    ha->acq < t)
				t = ha->acq;
		}
	}
	return t;
}

static bool happens_before(const struct explorer *ex, size_t j, const uint32_t *vc)
{
	const struct event *e = &ex->ev[j];

	return vc[e->actor] >= e->local;
}

/*
 * Bounded POR's conservative branch (Coons, Musuvathi and McKinley, OOPSLA
 * 2013).  Under a preemption bound, running @p at state @j may be a preemption
 * the path cannot afford, and the race is then never reversed, although an
 * order that reverses it may lie within the bound: the bound makes steps
 * depend on each other that otherwise do not.  So @p is also a choice at the
 * start of the block of steps that contains @j - the state where the CPU last
 * turned to the actor that ran at @j (an actor and its flusher are one CPU,
 * choice_preempts).  A switch there is one the path already paid for, or a
 * free one: running @p instead costs nothing more.
 */
static void add_backtrack_bounded(struct explorer *ex, size_t j, int p)
{
	int cpu = lock_actor(ex, ex->path[j].chosen);
	size_t i = j;

	while (i > 0 && lock_actor(ex, ex->path[i - 1].chosen) == cpu)
		i--;
	if (i != j)
		add_backtrack(ex, i, p);
}

/* Event @j of another actor, unordered before the step of @e, conflicts with it. */
static void dpor_race(struct explorer *ex, size_t j, const struct event *e, const uint32_t *before)
{
	int p = e->actor;

	if (!ex->cfg->por || ex->ev[j].actor == p || happens_before(ex, j, before))
		return;
	/*
	 * A flush of a store made after @j is not its flusher's next step at @j
	 * (that is an older store, or none): the store's actor must run first.
	 */
	if (e->src > (long)j)
		p = lock_actor(ex, p);
	j = lock_reloc(ex, j, (size_t)(e - ex->ev));
	add_backtrack(ex, j, p);
	if (ex->cfg->preemption_bound >= 0)
		add_backtrack_bounded(ex, j, p);
}

/*
 * Access @x of event @e against the history of its object @o: race with each
 * earlier conflicting access (the last write; the reads and updates since it, as
 * the mode says) and join their clocks into @clock.
 */
static void dpor_access(struct explorer *ex, const struct event *e, struct acc x,
			const struct objrec *o, const uint32_t *before, uint32_t *clock)
{
	if (o->lastw >= 0)
		dpor_race(ex, (size_t)o->lastw, e, before);
	vc_join(clock, o->wvc);
	if (x.mode != AM_READ) {
		for (uint32_t r = 0; r < o->nreads; r++)
			dpor_race(ex, o->reads[r], e, before);
		vc_join(clock, o->rvc);
	}
	if (x.mode == AM_UPDATE) {
		for (uint32_t u = 0; u < o->nups; u++) {
			if (upd_compatible(o->ups[u].cls, x.cls))
				continue;
			dpor_race(ex, o->ups[u].ev, e, before);
			vc_join(clock, ex->ev[o->ups[u].ev].vc);
		}
	} else {
		for (uint32_t u = 0; u < o->nups; u++)
			dpor_race(ex, o->ups[u].ev, e, before);
		vc_join(clock, o->uvc);
	}
}

/* The object's history after access @x of event @k, whose clock is @clock. */
static void dpor_remember(struct objrec *o, struct acc x, size_t k, const uint32_t *clock)
{
	switch (x.mode) {
	case AM_WRITE:
		memcpy(o->wvc, clock, sizeof(o->wvc));
		memset(o->rvc, 0, sizeof(o->rvc));
		memset(o->uvc, 0, sizeof(o->uvc));
		o->lastw = (long)k;
		o->nreads = 0;
		o->nups = 0;
		break;
	case AM_READ:
		vc_join(o->rvc, clock);
		if (o->nreads == o->capreads) {
			o->capreads = o->capreads ? o->capreads * 2 : 4;
			o->reads = xrealloc(o->reads, o->capreads * sizeof(*o->reads));
		}
		o->reads[o->nreads++] = (uint32_t)k;
		break;
	default:
		vc_join(o->uvc, clock);
		if (o->nups == o->capups) {
			o->capups = o->capups ? o->capups * 2 : 4;
			o->ups = xrealloc(o->ups, o->capups * sizeof(*o->ups));
		}
		o->ups[o->nups++] = (struct upd){ (uint32_t)k, x.cls };
		break;
	}
}

/* The accesses of the event just closed, against the history of their objects. */
static void dpor_close(struct explorer *ex, size_t k)
{
	struct event *e = &ex->ev[k];
	struct actor *a = ex->act[e->actor];
	uint32_t before[MAXA], clock[MAXA];

	memcpy(before, a->vc, sizeof(before));
	memcpy(clock, a->vc, sizeof(clock));
	for (size_t i = 0; i < e->acc_n; i++)
		dpor_access(ex, e, ex->acc[e->acc_off + i], obj_named(ex, ex->acc[e->acc_off + i].obj),
			    before, clock);
	clock[e->actor] = e->local;
	memcpy(a->vc, clock, sizeof(clock));
	memcpy(e->vc, clock, sizeof(clock));
	for (size_t i = 0; i < e->acc_n; i++)
		dpor_remember(obj_named(ex, ex->acc[e->acc_off + i].obj), ex->acc[e->acc_off + i],
			      k, clock);
}

/* ---- events ---- */

/* @e (the newest event) ran holding @h. */
static void ev_hold(struct explorer *ex, struct event *e, struct hold h)
{
	if (ex->nholds == ex->holdcap) {
		ex->holdcap = ex->holdcap ? ex->holdcap * 2 : 1024;
		ex->holds = xrealloc(ex->holds, ex->holdcap * sizeof(*ex->holds));
	}
	ex->holds[ex->nholds++] = h;
	e->hold_n++;
}

static void ev_open(struct explorer *ex, int actor)
{
	const struct actor *a = ex->act[actor], *holder;
	struct event *e;

	ex->nsteps++;
	if (!ex->recording)
		return;
	if (ex->nev == ex->evcap) {
		ex->evcap = ex->evcap ? ex->evcap * 2 : 1024;
		ex->ev = xrealloc(ex->ev, ex->evcap * sizeof(*ex->ev));
	}
	e = &ex->ev[ex->nev++];
	e->actor = actor;
	e->local = a->vc[actor] + 1;	/* dpor_close moves the clock to it */
	e->acc_off = ex->nacc;
	e->acc_n = 0;
	e->hold_off = ex->nholds;
	e->hold_n = 0;
	e->src = -1;
	holder = ex->act[lock_actor(ex, actor)];
	for (int i = 0; i < holder->nholds; i++)
		ev_hold(ex, e, holder->holds[i]);
	ex->ev_open = true;
}

static void ev_close(struct explorer *ex)
{
	size_t k;
	struct event *e;

	if (!ex->ev_open)
		return;
	ex->ev_open = false;
	k = ex->nev - 1;
	e = &ex->ev[k];
	/* Every write of the step is done now: spinners on those objects re-check. */
	for (size_t i = 0; i < e->acc_n; i++)
		if (ex->acc[e->acc_off + i].mode != AM_READ)
			wake_writers(ex, ex->accptr[e->acc_off + i], e->actor);
	dpor_close(ex, k);
	obj_retire_pending(ex);		/* after the step's own accesses are judged */
	if (k < ex->npath && !ex->path[k].step[e->actor])
		ex->path[k].step[e->actor] = acclist_of(&ex->acc[e->acc_off], e->acc_n,
							ex->path[k].nobj);
}

/* ---- choosing ---- */

/*
 * An awaiting actor is runnable exactly while its condition holds (or its fatal
 * flag, or its deadline): look now, from the scheduler context, where points are
 * not steps.  The condition is pure (wait_event_pure_fn), so looking changes
 * nothing.
 */
static void await_poll(struct explorer *ex)
{
	int cur = ex->cur;

	ex_set_cur(ex, -1);
	for (int i = 0; i < ex->nact; i++) {
		struct actor *b = ex->act[i];
		bool ok;

		if (b->state == A_DONE || b->bk != BK_AWAIT)
			continue;
		ok = b->cond(b->cond_arg) ||
		     (b->fatal && atomic_load_explicit(b->fatal, memory_order_acquire)) ||
		     (b->deadline && b->deadline <= ex->vclock);
		if (ok && b->state == A_BLOCKED)
			b->enabler = ex->recording && ex->nev ? (long)ex->nev - 1 : -1;
		else if (!ok)
			b->enabler = -1;
		b->state = ok ? A_RUNNABLE : A_BLOCKED;
	}
	ex_set_cur(ex, cur);
}

static amask_t awaiting_mask(struct explorer *ex)
{
	amask_t m = 0;

	for (int i = 0; i < ex->nact; i++)
		if (ex->act[i]->state != A_DONE && ex->act[i]->bk == BK_AWAIT)
			m |= BIT(i);
	return m;
}

/*
 * The step just taken disabled an awaiting actor that could have run before it
 * (it undid the condition): the two do not commute, so the state before the step
 * must also try that actor - the one race a failed look would have shown, had
 * failed looks been steps.
 */
static void await_disabled(struct explorer *ex, amask_t m)
{
	struct state *p;
	amask_t lost;

	if (!ex->recording || !ex->cfg->por || ex->depth == 0 || ex->depth > ex->npath)
		return;
	p = &ex->path[ex->depth - 1];
	lost = p->enabled & ~m & awaiting_mask(ex) & ~BIT(p->chosen);
	p->backtrack |= lost;
}

/* Is @c the flusher of a store buffer (see "Store buffers")? */
static bool is_flusher(const struct explorer *ex, int c)
{
	return ex->cfg->store_buffers && c >= FLUSH0;
}

static amask_t enabled_mask(struct explorer *ex)
{
	amask_t m = 0;

	await_poll(ex);
	for (int i = 0; i < ex->nact; i++) {
		if (ex->act[i]->state == A_RUNNABLE)
			m |= BIT(i);
		if (ex->act[i]->sb_n)
			m |= BIT(FLUSH0 + i);	/* only under store_buffers */
	}
	return m;
}

static int lowest(amask_t m)
{
	return m ? __builtin_ctz(m) : -1;
}

/*
 * Without a recorded choice: the actor that ran, if it can, else the first.
 * Under store buffers its flusher goes first: by default a store reaches
 * memory at once, as under sequential consistency.
 */
static int default_choice(const struct explorer *ex, amask_t m, int prev)
{
	if (prev >= 0 && ex->cfg->store_buffers && (m & BIT(FLUSH0 + prev)))
		return FLUSH0 + prev;
	if (prev >= 0 && (m & BIT(prev)))
		return prev;
	return lowest(m);
}

/*
 * Does choosing @c at @s count against the preemption bound?  Switching away
 * from the actor that ran (prev) while it could go on does.  Under store
 * buffers its flusher counts as part of it: keeping a store in the buffer
 * while the actor goes on is free, and so is flushing it while it runs, but
 * turning to anyone else while either can run is a switch.
 */
static bool choice_preempts(const struct explorer *ex, const struct state *s, int c)
{
	amask_t mine;

	if (s->prev < 0 || c == s->prev)
		return false;
	mine = BIT(s->prev);
	if (ex->cfg->store_buffers)
		mine |= BIT(FLUSH0 + s->prev);
	return (s->enabled & mine) && !(BIT(c) & mine);
}

static int pick_random(struct explorer *ex, amask_t m)
{
	int n = __builtin_popcount(m), k = (int)(rnd(ex) % (uint64_t)n);

	for (int i = 0; i < MAXA; i++)
		if ((m & BIT(i)) && k-- == 0)
			return i;
	return lowest(m);
}

/* PCT: the highest priority runs; at a change point the running actor drops low. */
static int pick_pct(struct explorer *ex, amask_t m, int prev)
{
	int best = -1;

	for (unsigned i = 0; i < ex->nchange; i++)
		if (ex->change[i] == ex->depth && prev >= 0)
			ex->prio[prev] = i;	/* below every initial priority */
	for (int i = 0; i < MAXA; i++)
		if ((m & BIT(i)) && (best < 0 || ex->prio[i] > ex->prio[best]))
			best = i;
	return best;
}

static struct state *path_push(struct explorer *ex)
{
	struct state *s;

	if (ex->npath == ex->pathcap) {
		ex->pathcap = ex->pathcap ? ex->pathcap * 2 : 1024;
		ex->path = xrealloc(ex->path, ex->pathcap * sizeof(*ex->path));
	}
	s = &ex->path[ex->npath++];
	memset(s, 0, sizeof(*s));
	s->nobj = ex->nobj;
	return s;
}

static void state_free(struct state *s)
{
	for (int i = 0; i < MAXA; i++) {
		free(s->step[i]);
		free(s->sleepstep[i]);
	}
}

/*
 * Sleep set of a new state: who sleeps on across the step its parent chose.
 * Only a choice whose subtree was explored in full puts its actor to sleep: if
 * the preemption bound cut anything in it, an order it would have covered may
 * lie within the bound from here although it did not from there (bounded POR
 * again).
 */
static void state_sleep(struct explorer *ex, struct state *s, size_t i)
{
	struct state *p = &ex->path[i - 1];
	const struct event *e = &ex->ev[i - 1];
	const struct acc *stepacc = &ex->acc[e->acc_off];
	amask_t cand = (p->sleep | (p->done & ~p->cut)) & ~BIT(p->chosen);

	for (int b = 0; b < MAXA; b++) {
		const struct acclist *l;

		if (!(cand & BIT(b)))
			continue;
		l = (p->sleep & BIT(b)) ? p->sleepstep[b] : p->step[b];
		if (l && steps_independent(l, stepacc, e->acc_n)) {
			s->sleep |= BIT(b);
			s->sleepstep[b] = acclist_dup(l);
		}
	}
}

/* For each actor waiting for a lock: the earliest state before its holders took it. */
static void state_lockreloc(struct explorer *ex, struct state *s)
{
	for (int b = 0; b < ex->nact; b++) {
		const struct actor *w = ex->act[b];
		const struct objrec *o;
		uint32_t best = 0;

		if (w->state != A_BLOCKED || !w->lockwait)
			continue;
		o = obj_get(ex, w->lockwait);
		for (int i = 0; i < ex->nact; i++)
			if (i != b && o->holder[i] && (!best || o->holder[i] < best))
				best = o->holder[i];
		s->lockreloc[b] = best;
	}
}

/* A new state: record it and choose by the strategy. */
static int choose_new(struct explorer *ex, amask_t m, int prev)
{
	const struct explore_config *cfg = ex->cfg;
	size_t i = ex->depth;
	struct state *s = path_push(ex);
	amask_t cand;
	int c;

	s->enabled = m;
	s->prev = prev;
	state_lockreloc(ex, s);
	if (i > 0) {
		const struct state *p = &ex->path[i - 1];

		s->preempt = p->preempt + choice_preempts(ex, p, p->chosen);
		if (cfg->strategy == EXPLORE_DFS && cfg->por)
			state_sleep(ex, s, i);
	}
	cand = m & ~s->sleep;
	if (!cand) {
		/* Sleep-set blocked: every continuation was explored from elsewhere. */
		ex->redundant = true;
		ex->recording = false;
		ex->npath--;
		state_free(s);
		return default_choice(ex, m, prev);
	}
	switch (cfg->strategy) {
	case EXPLORE_RANDOM:
		c = pick_random(ex, cand);
		break;
	case EXPLORE_PCT:
		c = pick_pct(ex, cand, prev);
		break;
	case EXPLORE_REPLAY:
		c = i < ex->nreplay ? ex->replay[i] : default_choice(ex, cand, prev);
		if (c < 0 || !(cand & BIT(c))) {
			ex->err = -EINVAL;	/* the schedule names an actor that cannot run */
			return -1;
		}
		break;
	default:
		c = default_choice(ex, cand, prev);
		break;
	}
	s->chosen = c;
	s->done = BIT(c);
	s->backtrack = (cfg->strategy == EXPLORE_DFS && !cfg->por) ? m : BIT(c);
	ex->depth++;
	return c;
}

/* The actor for the next step, or -1 if nobody can run (or the execution must end). */
static int choose(struct explorer *ex, int prev)
{
	amask_t m = enabled_mask(ex);
	int c;

	await_disabled(ex, m);
	if (!m) {
		/* Spinners waiting for "anyone" re-check when nobody else can run. */
		for (int i = 0; i < ex->nact; i++)
			if (ex->act[i]->state == A_BLOCKED && ex->act[i]->bk == BK_ANY)
				ex->act[i]->state = A_RUNNABLE, m |= BIT(i);
		if (!m)
			return -1;
	}
	if (ex->nsteps >= ex->max_steps) {
		ex->end_now = true;
		ex->end = EXPLORE_STEP_BOUND;
		return -1;
	}
	if (!ex->recording)
		c = default_choice(ex, m, prev);
	else if (ex->depth < ex->prefix) {
		c = ex->path[ex->depth].chosen;
		if (!(m & BIT(c)) || m != ex->path[ex->depth].enabled) {
			ex->err = -EPROTO;	/* the same prefix, another state */
			ex->end_now = true;
			ex->end = EXPLORE_DEADLOCK;
			return -1;
		}
		ex->path[ex->depth].prev = prev;
		ex->depth++;
	} else {
		c = choose_new(ex, m, prev);
		if (c < 0) {
			ex->end_now = true;
			ex->end = EXPLORE_DEADLOCK;
			return -1;
		}
	}
	ex->st->states++;
	sched_note(ex, c);
	return c;
}

/* ---- switching ---- */

static bool tests_done(struct explorer *ex)
{
	for (int i = 0; i < ex->nact; i++)
		if (ex->act[i]->is_test && ex->act[i]->state != A_DONE)
			return false;
	return true;
}

/* Does the scheduler context want the thread back now? */
static bool main_wants(struct explorer *ex)
{
	if (ex->end_now)
		return true;
	switch (ex->main_wait) {
	case MW_JOIN:
		return ((struct actor *)ex->main_join->actor)->state == A_DONE;
	case MW_KEY:
		return ex->main_woken;
	case MW_STEP:
		return ex->nsteps > ex->main_mark;
	default:
		return tests_done(ex);
	}
}

/* Nobody can run: the earliest virtual deadline passes.  False if there is none. */
static bool fire_timeouts(struct explorer *ex)
{
	uint64_t min = 0;

	for (int i = 0; i < ex->nact; i++) {
		struct actor *b = ex->act[i];

		if (b->state == A_BLOCKED && b->deadline && (!min || b->deadline < min))
			min = b->deadline;
	}
	if (!min)
		return false;
	if (min > ex->vclock)
		ex->vclock = min;
	for (int i = 0; i < ex->nact; i++) {
		struct actor *b = ex->act[i];

		if (b->state == A_BLOCKED && b->deadline && b->deadline <= ex->vclock) {
			b->state = A_RUNNABLE;
			b->resume = b->bkey;
		}
	}
	return true;
}

static void run_actor(struct explorer *ex, struct actor *from, int c);
static void sb_flush_step(struct explorer *ex, int c);

/*
 * The running actor @a is at a state (a point, a block, its end): close its step,
 * choose, and run the choice.  Returns when @a is chosen again.
 */
static void reschedule(struct explorer *ex, struct actor *a)
{
	int c;

	ev_close(ex);
	for (int i = 0; i < ex->nact; i++) {
		struct actor *b = ex->act[i];

		/* A step by someone else: spinners on "anything" re-check. */
		if (b->state == A_BLOCKED && b->bk == BK_ANY && b != a && b->any_mark < ex->nsteps)
			b->state = A_RUNNABLE;
	}
	for (;;) {
		c = main_wants(ex) ? -1 : choose(ex, a->id);
		if (!is_flusher(ex, c))
			break;
		sb_flush_step(ex, c);	/* a flush is a step, not a switch */
	}
	run_actor(ex, a, c);
}

/* Begin a step of @c: the read of what it waited on, then its announced access. */
static void open_step(struct explorer *ex, int c)
{
	struct actor *b = ex->act[c];
	int cur = ex->cur;

	ev_open(ex, c);
	/*
	 * An awaiting actor could not run before the step that made its condition
	 * true: that step happens-before this one (no race to reverse there).
	 */
	if (b->enabler >= 0 && ex->recording)
		vc_join(b->vc, ex->ev[b->enabler].vc);
	b->enabler = -1;
	ex->cur = c;		/* record() attributes the accesses to @c */
	/* A lock's hand-over orders nothing by itself (see "Locks"). */
	if (!b->lockwait)
		record(ex, b->resume, acc_read(), whole);
	record(ex, b->pend, (struct acc){ .mode = b->pend_mode, .cls = b->pend_cls }, b->pend_parts);
	ex->cur = cur;
	b->resume = NULL;
	b->pend = NULL;
}

/* Hand the thread from @from (an actor, or NULL: the scheduler) to @c (-1: scheduler). */
static void run_actor(struct explorer *ex, struct actor *from, int c)
{
	struct coro *fco = from ? &from->co : &ex->main;
	struct coro *tco;

	if (c >= 0)
		open_step(ex, c);
	if (from && c == from->id)
		return;
	ex_set_cur(ex, c);
	tco = c >= 0 ? &ex->act[c]->co : &ex->main;
	if (from && from->state == A_DONE)
		coro_exit_to(fco, tco);
	coro_switch(fco, tco);
	/* Resumed: whoever switched here set ex->cur to us. */
}

/*
 * @a waits at a state while the pure @cond(@cond_arg) is false (or until
 * *@fatal, or @deadline of the virtual clock): the scheduler evaluates it
 * (await_poll).
 */
static void actor_await(struct explorer *ex, struct actor *a, bool (*cond)(void *cond_arg),
			void *cond_arg, _Atomic bool *fatal, uint64_t deadline)
{
	a->state = A_BLOCKED;
	a->bk = BK_AWAIT;
	a->bkey = NULL;
	a->enabler = -1;
	a->cond = cond;
	a->cond_arg = cond_arg;
	a->fatal = fatal;
	a->deadline = deadline;
	reschedule(ex, a);
	a->bk = BK_NONE;
	a->cond = NULL;
	a->deadline = 0;
}

/* ---- store buffers ---- */

static bool sb_holds(const struct actor *a, const void *obj)
{
	for (unsigned i = 0; i < a->sb_n; i++)
		if (a->sb[(a->sb_head + i) % SB_MAX].p == obj)
			return true;
	return false;
}

/*
 * Must @a's buffer drain before the access its point announces?  Loads and
 * the updates that order nothing pass the buffer, unless they touch what it
 * holds; everything else orders.
 */
static bool sb_must_drain(const struct actor *a, enum sched_point_kind kind, const void *obj)
{
	if (!a->sb_n)
		return false;
	switch (kind) {
	case SP_READ:
	case SP_READ_BITS:
	case SP_MEM_READ:
	case SP_MEM_WRITE:
	case SP_ADD:
	case SP_BITS:
	case SP_YIELD:
		return obj && sb_holds(a, obj);
	default:
		return true;
	}
}

/* The access a buffered store makes when it reaches memory. */
static struct acc sb_acc(const struct sb_entry *e)
{
	switch (e->op) {
	case SB_ADD:
		return (struct acc){ .mode = AM_UPDATE, .cls = UCLS_ADD };
	case SB_SET_BIT:
	case SB_CLEAR_BIT:
		return (struct acc){
			.mode = AM_UPDATE,
			.cls = (uint16_t)(UCLS_BIT |
					  (SCHED_BIT_DETAIL(e->v, e->op == SB_SET_BIT) & 0xff)),
		};
	default:
		return acc_write();
	}
}

/* The parts a buffered store covers when it reaches memory: a bit, or its word. */
static struct parts sb_parts(const struct sb_entry *e)
{
	if (e->op == SB_SET_BIT || e->op == SB_CLEAR_BIT)
		return (struct parts){ UINT64_C(1) << (e->v & 63), PK_BITS };
	return whole;
}

/* The store reaches memory: what the primitive would have done. */
static void sb_apply(const struct sb_entry *e)
{
	switch (e->op) {
	case SB_STORE:
		if (e->size == 1)
			__atomic_store_n((uint8_t *)e->p, (uint8_t)e->v, __ATOMIC_RELAXED);
		else if (e->size == 4)
			__atomic_store_n((uint32_t *)e->p, (uint32_t)e->v, __ATOMIC_RELAXED);
		else
			__atomic_store_n((uint64_t *)e->p, e->v, __ATOMIC_RELAXED);
		break;
	case SB_ADD:
		if (e->size == 4)
			__atomic_fetch_add((uint32_t *)e->p, (uint32_t)e->v, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add((uint64_t *)e->p, e->v, __ATOMIC_RELAXED);
		break;
	case SB_SET_BIT:
		__atomic_fetch_or((uint64_t *)e->p, UINT64_C(1) << e->v, __ATOMIC_RELAXED);
		break;
	default:
		__atomic_fetch_and((uint64_t *)e->p, ~(UINT64_C(1) << e->v), __ATOMIC_RELAXED);
		break;
	}
}

static void sb_pop(struct actor *a)
{
	a->sb_head = (a->sb_head + 1) % SB_MAX;
	a->sb_n--;
}

/* Flusher @c writes the oldest store of its actor's buffer to memory: one step. */
static void sb_flush_step(struct explorer *ex, int c)
{
	struct actor *f = ex->act[c], *o = ex->act[c - FLUSH0];
	struct sb_entry *e = &o->sb[o->sb_head];
	struct acc x = sb_acc(e);

	if (ex->recording)
		vc_join(f->vc, e->vc);		/* the storing step came first */
	f->pend = e->p;
	f->pend_mode = x.mode;
	f->pend_cls = x.cls;
	f->pend_parts = sb_parts(e);
	open_step(ex, c);
	if (ex->ev_open)
		ex->ev[ex->nev - 1].src = e->ev;
	sb_apply(e);
	sb_pop(o);
	ev_close(ex);
}

/* Inside a wait base no switch may happen: the running step drains the buffer. */
static void sb_drain_inline(struct explorer *ex, struct actor *a)
{
	while (a->sb_n) {
		struct sb_entry *e = &a->sb[a->sb_head];

		record(ex, e->p, sb_acc(e), sb_parts(e));
		sb_apply(e);
		sb_pop(a);
	}
}

static bool sb_drained(void *arg)
{
	return ((const struct actor *)arg)->sb_n == 0;
}

/* @a waits, at a state, until its flusher has emptied its buffer. */
static void sb_wait_drained(struct explorer *ex, struct actor *a)
{
	actor_await(ex, a, sb_drained, a, NULL, 0);
}

/* sched_forget: retire the object's names once the running step is judged. */
static void ex_forget(void *arg, const void *p, size_t size)
{
	struct explorer *ex = arg;

	if (!ex->recording || !size)
		return;
	if (!ex->ev_open) {
		obj_retire(ex, p, size);
		return;
	}
	if (ex->nforget == ex->forgetcap) {
		ex->forgetcap = ex->forgetcap ? ex->forgetcap * 2 : 16;
		ex->forget = xrealloc(ex->forget, ex->forgetcap * sizeof(*ex->forget));
	}
	ex->forget[ex->nforget].p = p;
	ex->forget[ex->nforget].size = size;
	ex->nforget++;
}

/*
 * sched_dec_kept: the running step's decrement of @parts of @p (a write so far)
 * kept each above zero.  It becomes an update of class KEPT, which races only
 * with what is not a kept decrement.  Sound for the races of one execution:
 * between two kept decrements of a count, every other access to it races with
 * them or is a kept decrement too, and a run of decrements ends at the same
 * count in any order, never lower on the way - so the later one, which saw it
 * above zero, would see it so in the other order, and so would the earlier.
 * Not for the sleep sets (acc_conflict).
 */
static void ex_dec_kept(void *arg, const void *p, uint64_t parts)
{
	struct explorer *ex = arg;
	const struct event *e;

	if (ex->cur < 0 || !ex->recording || !ex->ev_open)
		return;
	e = &ex->ev[ex->nev - 1];
	for (uint64_t m = parts; m; m &= m - 1) {
		const void *obj = SCHED_BIT_OBJ(p, __builtin_ctzll(m));

		for (size_t i = e->acc_n; i-- > 0;) {
			struct acc *x = &ex->acc[e->acc_off + i];

			if (ex->accptr[e->acc_off + i] != obj)
				continue;
			if (x->mode == AM_WRITE)
				*x = (struct acc){ .obj = x->obj, .mode = AM_UPDATE, .cls = UCLS_KEPT };
			break;
		}
	}
}

static bool ex_sb_defer(void *arg, void *p, unsigned size, enum sched_sb_op op, uint64_t v)
{
	struct explorer *ex = arg;
	struct sb_entry *e;
	struct actor *a;

	if (!ex->cfg->store_buffers || ex->cur < 0 || !ex->recording ||
	    (size != 1 && size != 4 && size != 8))
		return false;
	a = ex->act[ex->cur];
	if (a->nest > 0 || a->sb_n == SB_MAX)
		return false;		/* the store goes now, after a drain if need be */
	e = &a->sb[(a->sb_head + a->sb_n++) % SB_MAX];
	e->p = p;
	e->v = v;
	e->size = (uint8_t)size;
	e->op = (uint8_t)op;
	memcpy(e->vc, a->vc, sizeof(e->vc));
	e->ev = -1;
	if (ex->ev_open) {
		e->ev = (long)ex->nev - 1;
		e->vc[a->id] = ex->ev[ex->nev - 1].local;
	}
	return true;
}

static void ex_sb_drain(void *arg)
{
	struct explorer *ex = arg;
	struct actor *a;

	if (ex->cur < 0 || !ex->act[ex->cur]->sb_n)
		return;
	a = ex->act[ex->cur];
	if (a->nest > 0) {
		sb_drain_inline(ex, a);
		return;
	}
	a->pend = NULL;
	sb_wait_drained(ex, a);
}

/* ---- the hook ---- */

static void ex_point_at(void *arg, enum sched_point_kind kind, const void *obj, uint64_t detail)
{
	struct explorer *ex = arg;
	struct actor *a;
	struct acc x;
	enum point_timing t;
	struct parts parts;
	bool drain;

	ex->st->points++;
	if (ex->cur < 0)
		return;			/* the scheduler context: setup, teardown */
	a = ex->act[ex->cur];
	t = classify(kind, detail, &x);
	parts = point_parts(kind, detail);
	/* Spinning or sleeping for a lock is part of taking it. */
	if (a->lockwait && obj == a->lockwait && t != PT_NONE)
		x = (struct acc){ .mode = AM_UPDATE, .cls = UCLS_LOCK };
	if (x.mode == AM_UPDATE && x.cls == UCLS_LOCK && ex->cfg->order_locks)
		x = acc_write();
	if (t == PT_AFTER) {
		record(ex, obj, x, parts);	/* done already: part of this step */
		if (a->nest > 0)
			return;
		reschedule(ex, a);
		return;
	}
	/* A spin-wait's own point, or one inside a wait base: no switch here. */
	if (a->nest > 0 || (kind == SP_YIELD && obj)) {
		if (sb_must_drain(a, kind, obj))
			sb_drain_inline(ex, a);
		record(ex, obj, x, parts);
		return;
	}
	drain = sb_must_drain(a, kind, obj);
	if (kind == SP_YIELD || t == PT_NONE)
		obj = NULL;	/* cond_resched / a fence: a state with no access */
	a->pend = obj;
	a->pend_mode = x.mode;
	a->pend_cls = x.cls;
	a->pend_parts = parts;
	if (obj && x.mode != AM_READ)
		wake_writers(ex, obj, a->id);	/* announced: re-check after it lands */
	if (drain)
		sb_wait_drained(ex, a);		/* the access waits for the buffer */
	else
		reschedule(ex, a);
}

static void ex_point(void *arg, enum sched_point_kind kind, const void *obj)
{
	ex_point_at(arg, kind, obj, 0);
}

/*
 * The scheduler context's points (setup, teardown, a pure wait's look) are no
 * steps: they are only counted.  Its engine code is most of an execution's
 * points (building, checking and freeing the world), so they come here through
 * a hook of their own rather than through ex_point_at.
 */
static void ex_point_quiet(void *arg, enum sched_point_kind kind, const void *obj)
{
	struct explorer *ex = arg;

	(void)kind;
	(void)obj;
	ex->st->points++;
}

/*
 * Who runs: actor @c, or the scheduler context (-1), and the hook for its points.
 * Both hooks are the explorer's, with the same cooperative interface: an engine
 * call that spans a switch sees the same scheduler throughout (sched.h).
 */
static void ex_set_cur(struct explorer *ex, int c)
{
	ex->cur = c;
	sched_hook_cur = c >= 0 ? &ex->hook : &ex->quiet;
}

/* Let actors run until the scheduler context's wait is over (teardown, joins). */
static void main_run(struct explorer *ex)
{
	while (!main_wants(ex)) {
		int c = choose(ex, -1);

		if (is_flusher(ex, c))
			sb_flush_step(ex, c);
		else if (c >= 0)
			run_actor(ex, NULL, c);
		else if (ex->end_now || !fire_timeouts(ex))
			return;		/* nobody can run: the caller re-checks */
	}
}

static void ex_block(void *arg, const void *key, uint64_t deadline)
{
	struct explorer *ex = arg;
	struct actor *a;
	int nest;

	if (ex->cur < 0) {
		ex->main_wait = MW_KEY;
		ex->main_key = key;
		ex->main_woken = false;
		main_run(ex);
		ex->main_wait = MW_EXEC;
		ex->main_key = NULL;
		return;
	}
	a = ex->act[ex->cur];
	a->state = A_BLOCKED;
	a->bk = BK_WAKE;
	a->bkey = key;
	a->deadline = deadline;
	nest = a->nest;
	a->nest = 0;		/* the wait releases the wait base */
	reschedule(ex, a);
	a->nest = nest;
	a->bk = BK_NONE;
	a->deadline = 0;
}

static void ex_wake(void *arg, const void *key)
{
	struct explorer *ex = arg;

	record(ex, key, acc_write(), whole);
	for (int i = 0; i < ex->nact; i++) {
		struct actor *b = ex->act[i];

		if (b->state == A_BLOCKED && b->bk == BK_WAKE && b->bkey == key) {
			b->state = A_RUNNABLE;
			b->resume = key;
		}
	}
	if (ex->main_key == key)
		ex->main_woken = true;
}

/* The scheduler context spins or waits: let another step happen first. */
static void main_step(struct explorer *ex)
{
	ex->main_wait = MW_STEP;
	ex->main_mark = ex->nsteps;
	main_run(ex);
	ex->main_wait = MW_EXEC;
}

static void ex_spin(void *arg, const void *obj)
{
	struct explorer *ex = arg;
	struct actor *a;

	if (ex->cur < 0) {
		main_step(ex);
		return;
	}
	a = ex->act[ex->cur];
	a->state = A_BLOCKED;
	a->bk = obj ? BK_WRITE : BK_ANY;
	a->bkey = obj;
	a->any_mark = ex->nsteps;
	reschedule(ex, a);
	a->bk = BK_NONE;
}

static void ex_await(void *arg, bool (*cond)(void *cond_arg), void *cond_arg,
		     _Atomic bool *fatal, uint64_t deadline)
{
	struct explorer *ex = arg;

	if (ex->cur < 0) {
		if (!cond(cond_arg) && !(fatal && atomic_load_explicit(fatal, memory_order_acquire)))
			main_step(ex);
		return;
	}
	actor_await(ex, ex->act[ex->cur], cond, cond_arg, fatal, deadline);
}

/* The clock of event @k: the running actor's, while its step is open. */
static const uint32_t *ev_clock(const struct explorer *ex, size_t k)
{
	if (ex->ev_open && k == ex->nev - 1)
		return ex->act[ex->ev[k].actor]->vc;
	return ex->ev[k].vc;
}

/*
 * Acquisitions (events) @x and @y of one lock by two actors are a nested and
 * an outer one: race them, the earlier first.
 */
static void lock_order_race(struct explorer *ex, size_t x, size_t y)
{
	size_t j = x < y ? x : y, k = x < y ? y : x;

	dpor_race(ex, j, &ex->ev[k], ev_clock(ex, k));
}

/* Race acquisition @h of actor @a against the other actors' of its lock that are @want. */
static void lock_order_against(struct explorer *ex, const struct actor *a, const struct hold *h,
			       bool want_outer)
{
	for (int i = 0; i < ex->nact; i++) {
		const struct actor *q = ex->act[i];

		if (q == a)
			continue;
		for (size_t b = 0; b < q->nacqs; b++) {
			const struct hold *hq = &q->acqs[b];

			if (hq->lock == h->lock && (want_outer ? hq->outer : hq->nested))
				lock_order_race(ex, h->acq, hq->acq);
		}
	}
}

/*
 * Lock order: how deadlocks form (see "Locks").  A deadlock is a cycle of
 * actors each holding a lock and waiting for the next one's, so each lock of
 * the cycle is taken by one actor as an *outer* lock (held while it takes
 * another) and by another as a *nested* one (taken while it holds another).
 * Those two acquisitions are what must be ordered both ways: the nested taker
 * can only wait for the outer holder if the outer one took the lock first.  So
 * a nested acquisition races with the other actors' outer acquisitions of its
 * lock, and an acquisition that becomes outer - known only when its actor
 * takes the next lock, which is now, for @a's newest acquisition - races with
 * their nested ones.  Any other two acquisitions are ordered only by what
 * their sections do.  AB-BA: test_deadlock_is_an_outcome.
 */
static void lock_order_note(struct explorer *ex, struct actor *a)
{
	struct hold *h = &a->acqs[a->nacqs - 1];

	if (!ex->cfg->por || !h->nested)
		return;
	lock_order_against(ex, a, h, true);
	for (int i = 0; i < a->nholds; i++) {
		for (size_t b = a->nacqs; b-- > 0;) {
			struct hold *ho = &a->acqs[b];

			if (ho->acq != a->holds[i].acq || ho->lock != a->holds[i].lock)
				continue;
			if (!ho->outer) {
				ho->outer = true;
				lock_order_against(ex, a, ho, false);
			}
			break;
		}
	}
}

/* The running actor's locks: what lock_reloc and the states' lockreloc use. */
static void ex_lock_note(void *arg, const void *lock, enum sched_lock_note what)
{
	struct explorer *ex = arg;
	struct actor *a;
	struct hold h;

	if (ex->cur < 0)
		return;			/* the scheduler context: setup, teardown */
	a = ex->act[ex->cur];
	switch (what) {
	case SLN_WAIT:
		a->lockwait = lock;
		return;
	case SLN_GAVE_UP:
		a->lockwait = NULL;
		return;
	case SLN_ACQUIRED:
	case SLN_ACQUIRED_SHARED:
		a->lockwait = NULL;
		if (a->nholds == MAX_HOLDS) {
			ex->err = -EOVERFLOW;	/* cannot track it: stop, never guess */
			ex->end_now = true;
			return;
		}
		h = (struct hold){ .lock = lock, .acq = UINT32_MAX, .excl = what == SLN_ACQUIRED,
				   .nested = a->nholds > 0 };
		if (ex->recording && ex->ev_open) {
			h.acq = (uint32_t)(ex->nev - 1);
			ev_hold(ex, &ex->ev[ex->nev - 1], h);
			obj_get(ex, lock)->holder[a->id] = h.acq + 1;
			if (a->nacqs == a->capacqs) {
				a->capacqs = a->capacqs ? a->capacqs * 2 : 16;
				a->acqs = xrealloc(a->acqs, a->capacqs * sizeof(*a->acqs));
			}
			a->acqs[a->nacqs++] = h;
			if (!ex->cfg->order_locks)
				lock_order_note(ex, a);
		}
		a->holds[a->nholds++] = h;
		return;
	case SLN_RELEASED:
		for (int i = a->nholds - 1; i >= 0; i--) {
			if (a->holds[i].lock != lock)
				continue;
			memmove(&a->holds[i], &a->holds[i + 1],
				(size_t)(a->nholds - i - 1) * sizeof(a->holds[0]));
			a->nholds--;
			break;
		}
		if (ex->recording)
			obj_get(ex, lock)->holder[a->id] = 0;
		return;
	}
}

static void ex_nest(void *arg, int delta)
{
	struct explorer *ex = arg;

	/* The scheduler context never switches inside a section: nothing to count. */
	if (ex->cur >= 0)
		ex->act[ex->cur]->nest += delta;
}

/* Every actor's body: run the thread's function, then end for good. */
static void actor_main(void *p)
{
	struct actor *a = p;
	struct explorer *ex = ex_self();

	a->t->fn(a->t->arg);
	if (a->sb_n) {
		a->pend = NULL;
		sb_wait_drained(ex, a);	/* its stores are in memory before it ends */
	}
	a->state = A_DONE;
	/* The end is a write on the thread: a joiner's next step reads it. */
	record(ex, a->t, acc_write(), whole);
	for (int i = 0; i < ex->nact; i++) {
		struct actor *b = ex->act[i];

		if (b->state == A_BLOCKED && b->bk == BK_JOIN && b->bkey == a->t) {
			b->state = A_RUNNABLE;
			b->resume = a->t;
		}
	}
	reschedule(ex, a);
	__builtin_trap();	/* an ended actor is never chosen */
}

/* A spare actor made new, with its stack and acquisitions' array kept. */
static struct actor *actor_recycle(struct actor *a)
{
	struct coro co = a->co;
	struct hold *acqs = a->acqs;
	size_t capacqs = a->capacqs;

	memset(a, 0, sizeof(*a));
	a->co = co;
	a->acqs = acqs;
	a->capacqs = capacqs;
	coro_recycle(&a->co, actor_main, a);
	return a;
}

static void actor_free(struct actor *a)
{
	coro_destroy(&a->co);
	free(a->acqs);
	free(a);
}

static int ex_spawn(void *arg, struct sched_thread *t)
{
	struct explorer *ex = arg;
	struct actor *a;
	int err;

	if (ex->nact == MAXA || (ex->cfg->store_buffers && ex->nact == FLUSH0))
		return -EAGAIN;		/* under store_buffers the flushers take the rest */
	if (ex->nspare) {
		a = actor_recycle(ex->spare[--ex->nspare]);
	} else {
		a = calloc(1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		err = coro_create(&a->co, ex->stack_size, actor_main, a);
		if (err) {
			free(a);
			return err;
		}
	}
	a->t = t;
	a->id = ex->nact;
	a->state = A_RUNNABLE;
	a->enabler = -1;
	a->is_test = ex->cur < 0 && !t->service;
	if (ex->cur >= 0) {
		/* Everything the parent did happens-before the child's first step. */
		memcpy(a->vc, ex->act[ex->cur]->vc, sizeof(a->vc));
		a->vc[a->id] = 0;
		record(ex, t, acc_write(), whole);
		a->resume = t;
	}
	t->actor = a;
	ex->act[ex->nact++] = a;
	return 0;
}

static int ex_join(void *arg, struct sched_thread *t)
{
	struct explorer *ex = arg;
	struct actor *target = t->actor, *a;

	if (target->state == A_DONE)
		return 0;
	if (ex->abandoned)
		return -EDEADLK;	/* stuck for good: the teardown only frees */
	if (ex->cur < 0) {
		ex->main_wait = MW_JOIN;
		ex->main_join = t;
		main_run(ex);
		ex->main_wait = MW_EXEC;
		ex->main_join = NULL;
		return target->state == A_DONE ? 0 : -EDEADLK;
	}
	a = ex->act[ex->cur];
	a->state = A_BLOCKED;
	a->bk = BK_JOIN;
	a->bkey = t;
	reschedule(ex, a);
	a->bk = BK_NONE;
	return 0;
}

static uint64_t ex_clock(void *arg)
{
	return ((struct explorer *)arg)->vclock;
}

static void ex_delay(void *arg, uint64_t ns)
{
	((struct explorer *)arg)->vclock += ns;
}

static unsigned ex_cpu(void *arg)
{
	struct explorer *ex = arg;

	return ex->cur < 0 ? 0 : (unsigned)ex->cur;
}

static const struct sched_coop explore_coop = {
	.block = ex_block,
	.wake = ex_wake,
	.spin = ex_spin,
	.nest = ex_nest,
	.spawn = ex_spawn,
	.join = ex_join,
	.clock = ex_clock,
	.delay = ex_delay,
	.cpu = ex_cpu,
	.await = ex_await,
	.lock_note = ex_lock_note,
	.sb_defer = ex_sb_defer,
	.sb_drain = ex_sb_drain,
	.forget = ex_forget,
	.dec_kept = ex_dec_kept,
};

/* ---- executions ---- */

static void exec_reset(struct explorer *ex)
{
	ex->nact = 0;
	ex_set_cur(ex, -1);
	ex->vclock = UINT64_C(1000000000);	/* a second in: deadlines stay positive */
	ex->nev = ex->nacc = ex->nholds = ex->nforget = 0;
	ex->ev_open = false;
	ex->recording = true;
	ex->redundant = ex->end_now = false;
	ex->end = EXPLORE_DONE;
	ex->depth = 0;
	ex->nsteps = 0;
	ex->gen++;
	if (ex->gen == UINT32_MAX)
		ex->gen = 1;
	ex->nobj = 0;
	ex->schedlen = 0;
	if (ex->sched)
		ex->sched[0] = '\0';
	ex->run_actor = -1;
	ex->run_len = 0;
	ex->main_wait = MW_EXEC;
	ex->main_key = NULL;
	ex->main_join = NULL;
	for (int i = FLUSH0; ex->cfg->store_buffers && i < MAXA; i++) {
		struct actor *f = ex->act[i];

		memset(f->vc, 0, sizeof(f->vc));
		f->pend = f->resume = NULL;
		f->enabler = -1;
	}
	if (!ex->objcap) {
		ex->objcap = 1024;
		ex->objs = calloc(ex->objcap, sizeof(*ex->objs));
		if (!ex->objs)
			oom();
	}
}

static void pct_prepare(struct explorer *ex)
{
	unsigned d = ex->cfg->pct_depth ? ex->cfg->pct_depth : 3;
	uint64_t len = ex->last_len ? ex->last_len : 1000;

	for (int i = 0; i < MAXA; i++)
		ex->prio[i] = d + (unsigned)(rnd(ex) % 1000000);	/* above every change */
	ex->nchange = d - 1;
	ex->change = xrealloc(ex->change, (d ? d : 1) * sizeof(*ex->change));
	for (unsigned i = 0; i < ex->nchange; i++)
		ex->change[i] = rnd(ex) % len;
}

/* Run one execution to its end; the actors' coroutines are freed after teardown. */
static void exec_run(struct explorer *ex)
{
	for (;;) {
		int c;

		if (ex->end_now)
			return;
		if (tests_done(ex)) {
			ex->end = EXPLORE_DONE;
			return;
		}
		c = choose(ex, -1);
		if (is_flusher(ex, c)) {
			sb_flush_step(ex, c);
			continue;
		}
		if (c >= 0) {
			run_actor(ex, NULL, c);
			continue;
		}
		if (ex->end_now)
			return;
		if (!fire_timeouts(ex)) {
			ex->end = EXPLORE_DEADLOCK;	/* all blocked, no timeout to fire */
			return;
		}
	}
}

static void exec_free_actors(struct explorer *ex)
{
	for (int i = 0; i < ex->nact; i++) {
		if (ex->nspare < MAXA)
			ex->spare[ex->nspare++] = ex->act[i];
		else
			actor_free(ex->act[i]);
		ex->act[i] = NULL;
	}
	ex->nact = 0;
}

/* DFS: the deepest state with a choice left; set it up as the next prefix. */
static bool dfs_next(struct explorer *ex)
{
	const struct explore_config *cfg = ex->cfg;

	while (ex->npath) {
		size_t i = ex->npath - 1;
		struct state *s = &ex->path[i];
		amask_t left = s->backtrack & ~s->done & ~s->sleep & s->enabled;

		while (left) {
			int c = lowest(left);
			bool preempts = choice_preempts(ex, s, c);

			left &= ~BIT(c);
			if (cfg->preemption_bound >= 0 && preempts &&
			    s->preempt >= (unsigned)cfg->preemption_bound) {
				s->done |= BIT(c);
				s->cut |= BIT(c);
				ex->st->bounded++;
				continue;
			}
			s->chosen = c;
			s->done |= BIT(c);
			ex->prefix = i + 1;
			return true;
		}
		if (s->cut && i > 0)	/* the parent's choice leading here was cut below */
			ex->path[i - 1].cut |= BIT(ex->path[i - 1].chosen);
		state_free(s);
		ex->npath--;
	}
	return false;
}

static size_t default_stack(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return 1u << 20;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
	return 1u << 20;
#else
	return 256u << 10;
#endif
#else
	return 256u << 10;
#endif
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static void explorer_free(struct explorer *ex)
{
	for (size_t i = 0; i < ex->npath; i++)
		state_free(&ex->path[i]);
	free(ex->path);
	for (size_t i = 0; i < ex->objcap; i++) {
		free(ex->objs[i].reads);
		free(ex->objs[i].ups);
	}
	free(ex->objs);
	free(ex->slot);
	free(ex->ev);
	free(ex->acc);
	free(ex->holds);
	free(ex->sched);
	free(ex->replay);
	free(ex->change);
	free(ex->accptr);
	free(ex->forget);
	for (int i = FLUSH0; ex->cfg->store_buffers && i < MAXA; i++)
		free(ex->act[i]);
	while (ex->nspare)
		actor_free(ex->spare[--ex->nspare]);
}

int explore_run(const struct explore_config *cfg, const struct explore_ops *ops, void *arg,
		struct explore_stats *stats)
{
	struct explorer ex;
	const struct sched_hook *old;
	unsigned long limit;
	uint64_t t0 = wall_ns();
	int ret = 0;

	if (!cfg || !ops || !ops->setup || !stats || cfg->strategy > EXPLORE_REPLAY ||
	    (cfg->strategy == EXPLORE_REPLAY && !cfg->replay) || ex_self())
		return -EINVAL;
	memset(stats, 0, sizeof(*stats));
	memset(&ex, 0, sizeof(ex));
	ex.cfg = cfg;
	ex.ops = ops;
	ex.arg = arg;
	ex.st = stats;
	ex.stack_size = cfg->stack_size ? cfg->stack_size : default_stack();
	ex.max_steps = cfg->max_steps ? cfg->max_steps : 1000000;
	ex.rng = cfg->seed * UINT64_C(0x9E3779B97F4A7C15) + 0x5DEECE66Du;
	if (!ex.rng)
		ex.rng = 1;
	if (cfg->strategy == EXPLORE_REPLAY && replay_parse(&ex, cfg->replay)) {
		explorer_free(&ex);
		return -EINVAL;
	}
	for (int i = FLUSH0; cfg->store_buffers && i < MAXA; i++) {
		/* Flushers: actors without a body (see "Store buffers"). */
		ex.act[i] = calloc(1, sizeof(*ex.act[i]));
		if (!ex.act[i]) {
			explorer_free(&ex);
			return -ENOMEM;
		}
		ex.act[i]->id = i;
		ex.act[i]->enabler = -1;
	}
	limit = cfg->max_execs;
	if (!limit && (cfg->strategy == EXPLORE_RANDOM || cfg->strategy == EXPLORE_PCT))
		limit = 1000;
	if (cfg->strategy == EXPLORE_REPLAY)
		limit = 1;
	ex.hook.point = ex_point;
	ex.hook.point_at = ex_point_at;
	ex.hook.arg = &ex;
	ex.hook.coop = &explore_coop;
	ex.quiet = ex.hook;
	ex.quiet.point = ex_point_quiet;
	ex.quiet.point_at = NULL;	/* points with a detail come to point() */
	coro_init_thread(&ex.main);
	old = sched_hook_install(&ex.quiet);

	for (;;) {
		bool abandoned;

		exec_reset(&ex);
		if (cfg->strategy == EXPLORE_PCT)
			pct_prepare(&ex);
		ret = ops->setup(arg);
		if (ret)
			break;
		exec_run(&ex);
		ev_close(&ex);
		sched_flush_run(&ex);
		/*
		 * The outcome is decided: what finish and teardown make the actors do
		 * (a device draining, exits) is no interleaving to explore - neither
		 * states of the tree nor races that would branch the test's steps.
		 */
		ex.recording = false;
		if (ex.err) {
			ret = ex.err;
			abandoned = true;
		} else {
			abandoned = ex.end != EXPLORE_DONE;
		}
		stats->execs++;
		stats->redundant += ex.redundant;
		stats->deadlocks += ex.end == EXPLORE_DEADLOCK && !ex.err;
		stats->step_bounds += ex.end == EXPLORE_STEP_BOUND;
		if (ex.depth > stats->max_depth)
			stats->max_depth = ex.depth;
		ex.last_len = ex.nsteps;
		if (ops->finish && !ex.err)
			ops->finish(arg, ex.end, ex.redundant, ex.sched ? ex.sched : "");
		ex.abandoned = abandoned;
		if (ops->teardown)
			ops->teardown(arg, abandoned);
		ex.abandoned = false;
		exec_free_actors(&ex);
		if (ret)
			break;
		if (limit && stats->execs >= limit)
			break;
		if (cfg->strategy == EXPLORE_DFS) {
			if (!dfs_next(&ex)) {
				stats->complete = true;
				break;
			}
		}
	}
	sched_hook_install(old);
	coro_fini_thread(&ex.main);
	explorer_free(&ex);
	stats->wall_ns = wall_ns() - t0;
	return ret;
}
