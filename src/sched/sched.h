/* SPDX-License-Identifier: MIT */
/*
 * src/sched/sched.h - the substrate: every shared-memory operation of the engine.
 *
 * The one rule that makes the laboratory possible: engine code never calls pthreads,
 * sleeps or raw atomics.  Every atomic, lock, barrier, PTE access, TLB shootdown and
 * DMA step goes through a primitive of this header, and each primitive is a
 * *scheduling point*: sched_point(kind, object).
 *
 * Free mode (this issue): tasks are pthreads, and a scheduling point costs one load
 * of a thread-local pointer and one predictable branch.  A per-OS-thread hook can be
 * installed (sched_hook_install) to observe or perturb points: tests use it to count
 * points and to inject yields ("chaos" mode); the deterministic explorer of a later
 * issue installs its scheduler there.
 *
 * Each point names the object it touches (a PTE, a page's counts, a lock, a frame's
 * bytes) and whether it reads, writes or read-modify-writes it, because that is the
 * dependency relation a partial-order reduction needs.
 *
 * Memory-ordering conventions follow Linux (Documentation/atomic_t.txt):
 *   - value-returning RMW atomics are fully ordered (seq_cst here);
 *   - non-value-returning ones (atomic_inc, atomic_add...) are relaxed;
 *   - READ_ONCE/WRITE_ONCE are relaxed single-copy-atomic accesses;
 *   - smp_load_acquire/smp_store_release, smp_mb/smp_rmb/smp_wmb as in the kernel.
 * Every shared field of the engine is declared _Atomic so that these are C11-correct.
 */
#ifndef GUP_SCHED_H
#define GUP_SCHED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * <stdatomic.h> defines the generic atomic_fetch_{add,sub,or,and,xor} as macros; the
 * kernel names them for atomic_t.  We use only the *_explicit forms of C11, so the
 * kernel names win.
 */
#undef atomic_fetch_add
#undef atomic_fetch_sub
#undef atomic_fetch_or
#undef atomic_fetch_and
#undef atomic_fetch_xor

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ------------------------------------------------------------------------ */
/* Scheduling points                                                        */
/* ------------------------------------------------------------------------ */

enum sched_point_kind {
	SP_READ,	/* plain shared load (READ_ONCE, acquire load)            */
	SP_WRITE,	/* plain shared store (WRITE_ONCE, release store)          */
	SP_RMW,		/* atomic read-modify-write                               */
	SP_FENCE,	/* smp_mb / smp_rmb / smp_wmb                              */
	SP_LOCK,	/* about to acquire a lock (spin, rwsem, mutex)            */
	SP_UNLOCK,	/* released a lock                                         */
	SP_BLOCK,	/* about to wait (wait queue, completion, shootdown)       */
	SP_WAKE,	/* woke waiters                                            */
	SP_IRQ_OFF,	/* entered an irq-off section                              */
	SP_IRQ_ON,	/* left an irq-off section                                 */
	SP_MEM_READ,	/* read bytes of a frame (obj = frame data)               */
	SP_MEM_WRITE,	/* wrote bytes of a frame                                  */
	SP_YIELD,	/* voluntary point: cond_resched, cpu_relax                */
	/*
	 * Updates that commute with each other: the explorer treats two of them on
	 * one object as independent (neither order can change what either does or
	 * leaves behind), while each still conflicts with a read or a write of it.
	 */
	SP_ADD,		/* atomic add/sub whose result nobody looks at             */
	SP_BITS,	/* set_bit/clear_bit; detail: SCHED_BIT_DETAIL(nr, set)    */
	SP_LOCK_SHARED,	/* about to take a rwsem for read (fast path)              */
	SP_UNLOCK_SHARED,/* released a rwsem read hold that woke nobody            */
	/*
	 * A TLB shootdown looks whether a task is inside an irq-off section.  It
	 * commutes with the task entering and leaving sections: whether the
	 * flusher then waits changes no memory - what the section reads is
	 * ordered against the flush by the flush's own writes (tlb_gen, PTEs).
	 */
	SP_IRQ_SYNC,
	/*
	 * A bit word's bits are objects of their own (SCHED_BIT_OBJ): a test of
	 * one bit commutes with setting another.  The detail is the mask of the
	 * bits the access reads or writes; SP_BITS names its one bit.  A word of
	 * fields names its fields the same way, bit i of the mask for field i
	 * (the *_parts_u64 accessors; page->count: refcount, mapcount), and an
	 * SP_ADD's detail says which fields it adds to (0: the whole word).
	 */
	SP_READ_BITS,	/* test_bit, read_bits_u64, read_parts_u64                 */
	SP_WRITE_BITS,	/* test_and_set_bit, write_bits_u64, fetch_add_parts_u64   */
	SP_NR_KINDS,
};

/*
 * The detail of a point (sched_point_at): which bit an SP_BITS sets or clears,
 * and which 64-byte lines of a frame an SP_MEM_* touches (bit i: bytes
 * [64i, 64i + 64) of the 4 KiB frame; 0 or a plain sched_point: all of them).
 */
#define SCHED_BIT_DETAIL(nr, set)	(((uint64_t)(nr) << 1) | (uint64_t)!!(set))
/*
 * Bit @nr of the bit word at @word as an object: the name a scheduler gives
 * it, and the object of the page lock's points (PG_locked).  Never a valid
 * address: user addresses stay below 2^57, and the bit number goes above.
 * Every access to a bit word goes through the bit operations below, so that
 * each names the bits it reads or writes.
 */
#define SCHED_BIT_OBJ_SHIFT		57
#define SCHED_BIT_OBJ(word, nr)		\
	((const void *)((uintptr_t)(word) | ((uintptr_t)(nr) + 1) << SCHED_BIT_OBJ_SHIFT))
/*
 * The detail of an SP_LOCK that waits until it has the lock (spin_lock,
 * mutex_lock, down_write: no outcome but "acquired"), unlike a trylock whose
 * failure the caller acts on; and of an SP_WAKE that hands a lock over.
 */
#define SCHED_LOCK_BLOCKING		UINT64_C(1)
/* The detail of an SP_FENCE that is a full barrier (smp_mb), not rmb/wmb. */
#define SCHED_FENCE_FULL		UINT64_C(1)

/*
 * What a sleeping or spinning lock tells a scheduler about its holders
 * (sched_lock_note): the explorer's lock-aware reduction reorders critical
 * sections only when what they do conflicts, and needs to know who holds
 * what, and who waits for what, to do it.
 */
enum sched_lock_note {
	SLN_WAIT,		/* about to spin or sleep until the lock is ours  */
	SLN_ACQUIRED,		/* now held exclusively                          */
	SLN_ACQUIRED_SHARED,	/* now held for read                             */
	SLN_RELEASED,		/* no longer held                                */
	SLN_GAVE_UP,		/* stopped waiting without it (killable)         */
};
#define SCHED_LINE_SHIFT		6
#define SCHED_FRAME_LINES		64

struct sched_thread;
struct sched_coop;

/* A relaxed store a store buffer may hold (sched_store_point): what it does to memory. */
enum sched_sb_op {
	SB_STORE,	/* WRITE_ONCE, atomic_set: the value                       */
	SB_ADD,		/* atomic_add/sub/inc/dec: a two's complement delta         */
	SB_SET_BIT,	/* set_bit: the bit number                                 */
	SB_CLEAR_BIT,	/* clear_bit: the bit number                               */
};

struct sched_hook {
	/* Called at every scheduling point of the OS thread it is installed on. */
	void (*point)(void *arg, enum sched_point_kind kind, const void *obj);
	/*
	 * Optional: points with a detail (sched_point_at) come here when set, to
	 * point() (detail dropped) otherwise.
	 */
	void (*point_at)(void *arg, enum sched_point_kind kind, const void *obj, uint64_t detail);
	void *arg;
	/*
	 * Explore mode (explore.c): every actor runs as a coroutine on this OS thread,
	 * so a primitive that would wait (spin, sleep, join) must hand the thread to
	 * the scheduler instead, and the wait base's OS mutex must not be taken.  NULL
	 * for an observing hook: the primitives then wait as in free mode.
	 */
	const struct sched_coop *coop;
};

/* What the primitives ask of a cooperative scheduler (explore.c), with hook->arg. */
struct sched_coop {
	/* Wait until wake(@key), or until @deadline_ns of the virtual clock (0: none). */
	void (*block)(void *arg, const void *key, uint64_t deadline_ns);
	void (*wake)(void *arg, const void *key);
	/* Wait until another actor writes @obj (NULL: until any other actor runs). */
	void (*spin)(void *arg, const void *obj);
	/* Enter (+1) or leave (-1) a wait base's critical section: no switch inside. */
	void (*nest)(void *arg, int delta);
	/* A new actor running t->fn(t->arg); join waits for it to end (or -EDEADLK:
	 * the execution was abandoned with the actor stuck). */
	int (*spawn)(void *arg, struct sched_thread *t);
	int (*join)(void *arg, struct sched_thread *t);
	/* The virtual clock, and the passing of a device's latency on it. */
	uint64_t (*clock)(void *arg);
	void (*delay)(void *arg, uint64_t ns);
	/* The running actor's "CPU" (sched_cpu_hint): per-cpu shards stay per actor. */
	unsigned (*cpu)(void *arg);
	/*
	 * Wait until the pure @cond(@cond_arg) holds, *@fatal is set, or @deadline_ns
	 * of the virtual clock passes (0: none); the scheduler evaluates @cond itself,
	 * and the caller re-checks all three when it returns.
	 */
	void (*await)(void *arg, bool (*cond)(void *cond_arg), void *cond_arg,
		      _Atomic bool *fatal, uint64_t deadline_ns);
	/* A lock's holders and waiters changed (sched_lock_note). */
	void (*lock_note)(void *arg, const void *lock, enum sched_lock_note what);
	/*
	 * Optional, the "sb" memory model (explore.c, "Store buffers"): take a
	 * relaxed store of the running actor into its store buffer (true), or let
	 * it go to memory now (false); and wait until the buffer has drained.
	 */
	bool (*sb_defer)(void *arg, void *p, unsigned size, enum sched_sb_op op, uint64_t v);
	void (*sb_drain)(void *arg);
	/* Optional: the object at [@p, @p + @size) is freed (sched_forget). */
	void (*forget)(void *arg, const void *p, size_t size);
	/* Optional: the running actor's last decrement of @parts of @p kept them
	 * above zero (sched_dec_kept). */
	void (*dec_kept)(void *arg, const void *p, uint64_t parts);
};

/* The cooperative scheduler of this OS thread, or NULL (free mode). */
static inline const struct sched_coop *sched_coop_cur(void);

/*
 * Thread-local state exists only here, in the substrate: the hook of this OS
 * thread, NULL in plain free mode (initial-exec: a single %fs-relative load, also
 * in the .so), and below the thread's "current" task.
 */
extern __thread const struct sched_hook *sched_hook_cur
	__attribute__((tls_model("initial-exec")));

/* The thread's "current" task, for Linux-named wrappers only (hook.c). */
void sched_set_current(void *task);
void *sched_get_current(void);

/* The hook never dereferences @obj; tell gcc so (no false "maybe-uninitialized"). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define SCHED_NO_ACCESS(n) __attribute__((access(none, n)))
#else
#define SCHED_NO_ACCESS(n)
#endif
SCHED_NO_ACCESS(2) void sched_point_slow(enum sched_point_kind kind, const void *obj);

/*
 * Hooked once, hooked throughout.  sched_hook_install is called around engine
 * calls (the explorer around its whole search, tests around what they drive),
 * never from inside one, so a thread's hook is the same from the start of an
 * engine call to its end.  A hot loop may read it once with sched_hooked() and
 * hand the answer to the primitives' _hk variants, which test the argument
 * instead of the thread-local: the same points in the same order, and, where
 * the loop is instantiated for @hooked false, no test at all (gup-fast's walk,
 * whose five points a page were a sixth of its instructions).
 */
static inline bool sched_hooked(void)
{
	return sched_hook_cur != NULL;
}

static inline void sched_point_hk(bool hooked, enum sched_point_kind kind, const void *obj)
{
	if (unlikely(hooked))
		sched_point_slow(kind, obj);
}

/* A scheduling point (free mode: one load and a branch). */
static inline void sched_point(enum sched_point_kind kind, const void *obj)
{
	sched_point_hk(sched_hooked(), kind, obj);
}

SCHED_NO_ACCESS(2) void sched_point_at_slow(enum sched_point_kind kind, const void *obj,
					    uint64_t detail);

void sched_lock_note_slow(const void *lock, enum sched_lock_note what);

/* Tell a cooperative scheduler about @lock (free mode: one load and a branch). */
static inline void sched_lock_note(const void *lock, enum sched_lock_note what)
{
	if (unlikely(sched_hook_cur != NULL))
		sched_lock_note_slow(lock, what);
}

void sched_dec_kept_slow(const void *p, uint64_t parts);

/*
 * A put that did not free: the fetch_add_parts_u64 just made on the counts
 * @parts of @p was a decrement that left each above zero, and its caller looks
 * at the result only to learn that.  Two such decrements give that answer in
 * either order (the second one sees the smaller count, and it was above zero),
 * so a scheduler may let them commute; a decrement that reached zero frees,
 * and the order decides who does.
 */
static inline void sched_dec_kept(const void *p, uint64_t parts)
{
	if (unlikely(sched_hook_cur != NULL))
		sched_dec_kept_slow(p, parts);
}

/* A point whose access a detail makes more precise (SP_BITS, SP_MEM_*). */
static inline void sched_point_at(enum sched_point_kind kind, const void *obj, uint64_t detail)
{
	if (unlikely(sched_hook_cur != NULL))
		sched_point_at_slow(kind, obj, detail);
}

bool sched_sb_defer_slow(void *p, unsigned size, enum sched_sb_op op, uint64_t v);
void sched_release_slow(void);
void sched_forget_slow(const void *p, size_t size);

/*
 * An object whose fields are scheduling points is about to be freed: an
 * object allocated later at the same address is another one.  The explorer
 * names objects by address; without this, whether a request reuses the
 * memory of one freed earlier (which depends on where the heap landed) would
 * add a conflict in one process and not in the next, and the figures of a
 * search would differ from run to run.
 */
static inline void sched_forget(const void *p, size_t size)
{
	if (unlikely(sched_hook_cur != NULL))
		sched_forget_slow(p, size);
}

/*
 * A relaxed store's scheduling point (@kind, @detail), unless a store buffer
 * takes the store (true: the caller must not store).  The stores that Linux's
 * memory model leaves unordered against later loads (WRITE_ONCE, atomic_set,
 * the atomics that return nothing, set_bit and clear_bit) come here: under the
 * explorer's "sb" model the store waits in the actor's store buffer and the
 * primitive returns at once.  Free mode: one load and one branch, as a plain
 * point.
 */
static inline bool sched_store_point(enum sched_point_kind kind, void *p, uint64_t detail,
				     unsigned size, enum sched_sb_op op, uint64_t v)
{
	if (likely(sched_hook_cur == NULL))
		return false;
	if (sched_sb_defer_slow(p, size, op, v))
		return true;
	sched_point_at_slow(kind, p, detail);
	return false;
}

/*
 * Before a release whose scheduling point comes after it (spin_unlock,
 * clear_bit_unlock, up_read...): everything the actor stored before is in
 * memory first, as release ordering requires.  Only the "sb" model has
 * anything to wait for; every other release is a point the explorer drains at.
 */
static inline void sched_release(void)
{
	if (unlikely(sched_hook_cur != NULL))
		sched_release_slow();
}

/* The lines of a 4 KiB frame that bytes [@off, @off + @n) cover (all: out of range). */
static inline uint64_t sched_frame_lines(size_t off, size_t n)
{
	size_t first = off >> SCHED_LINE_SHIFT, last;

	if (n == 0 || off + n > (size_t)SCHED_FRAME_LINES << SCHED_LINE_SHIFT || off + n < off)
		return ~UINT64_C(0);
	last = (off + n - 1) >> SCHED_LINE_SHIFT;
	return (last - first == 63 ? ~UINT64_C(0) : ((UINT64_C(1) << (last - first + 1)) - 1))
	       << first;
}

static inline const struct sched_coop *sched_coop_cur(void)
{
	const struct sched_hook *h = sched_hook_cur;

	return unlikely(h != NULL) ? h->coop : NULL;
}

/*
 * Under the explorer?  For the one decision that depends on it: how many identical
 * device actors to start (a second DMA worker only multiplies symmetric orders).
 */
static inline bool sched_exploring(void)
{
	return sched_coop_cur() != NULL;
}

/* A spin-wait iteration on @obj (NULL: unknown): a point, then wait as the mode says. */
void cpu_relax_on(const void *obj);

/*
 * A small number that differs between OS threads that run at once, like
 * raw_smp_processor_id(): it picks per-"cpu" shards of counters and free lists.
 * Derived from the address of this thread's TLS block, so it needs no state.
 */
static inline unsigned sched_cpu_hint(void)
{
	const struct sched_hook *h = sched_hook_cur;

	/* Under the explorer each actor is a CPU of its own (explore.c). */
	if (unlikely(h != NULL) && h->coop)
		return h->coop->cpu(h->arg);
	return (unsigned)((((uintptr_t)&sched_hook_cur >> 12) * UINT64_C(0x9E3779B97F4A7C15)) >> 60);
}

/* Install (or with NULL remove) the hook of the calling OS thread; returns the old one. */
const struct sched_hook *sched_hook_install(const struct sched_hook *hook);

/* A spin-wait iteration: a point and a pause.  Loops that may wait on a preempted
 * OS thread yield it themselves. */
void cpu_relax(void);
/* A voluntary preemption point in long loops (fork's copy, zap, the checker). */
void cond_resched(void);

/* ------------------------------------------------------------------------ */
/* READ_ONCE / WRITE_ONCE / acquire / release on _Atomic scalars            */
/* ------------------------------------------------------------------------ */

#define SCHED_DEFINE_ONCE(name, T)                                              \
static inline T read_once_hk_##name(bool hooked, _Atomic T *p)                  \
{                                                                               \
	sched_point_hk(hooked, SP_READ, (const void *)p);                       \
	return atomic_load_explicit(p, memory_order_relaxed);                   \
}                                                                               \
static inline T read_once_##name(_Atomic T *p)                                  \
{                                                                               \
	return read_once_hk_##name(sched_hooked(), p);                          \
}                                                                               \
static inline void write_once_##name(_Atomic T *p, T v)                         \
{                                                                               \
	if (sched_store_point(SP_WRITE, (void *)p, 0, sizeof(T), SB_STORE,      \
			      (uint64_t)v))                                     \
		return;                                                         \
	atomic_store_explicit(p, v, memory_order_relaxed);                      \
}                                                                               \
static inline T load_acquire_hk_##name(bool hooked, _Atomic T *p)               \
{                                                                               \
	sched_point_hk(hooked, SP_READ, (const void *)p);                       \
	return atomic_load_explicit(p, memory_order_acquire);                   \
}                                                                               \
static inline T load_acquire_##name(_Atomic T *p)                               \
{                                                                               \
	return load_acquire_hk_##name(sched_hooked(), p);                       \
}                                                                               \
static inline void store_release_##name(_Atomic T *p, T v)                      \
{                                                                               \
	sched_point(SP_WRITE, (const void *)p);                                 \
	atomic_store_explicit(p, v, memory_order_release);                      \
}

SCHED_DEFINE_ONCE(u8, uint8_t)
SCHED_DEFINE_ONCE(bool, bool)
SCHED_DEFINE_ONCE(u32, uint32_t)
SCHED_DEFINE_ONCE(int, int)
SCHED_DEFINE_ONCE(u64, uint64_t)
SCHED_DEFINE_ONCE(i64, int64_t)
SCHED_DEFINE_ONCE(uptr, uintptr_t)

#define SCHED_ONCE_GENERIC(op, p)                  \
	_Generic((p),                              \
		_Atomic uint8_t *: op##_u8,        \
		_Atomic bool *: op##_bool,         \
		_Atomic uint32_t *: op##_u32,      \
		_Atomic int *: op##_int,           \
		_Atomic uint64_t *: op##_u64,      \
		_Atomic int64_t *: op##_i64)

#define READ_ONCE(x)		SCHED_ONCE_GENERIC(read_once, &(x))(&(x))
#define WRITE_ONCE(x, v)	SCHED_ONCE_GENERIC(write_once, &(x))(&(x), (v))
#define smp_load_acquire(p)	SCHED_ONCE_GENERIC(load_acquire, (p))(p)
#define smp_store_release(p, v)	SCHED_ONCE_GENERIC(store_release, (p))((p), (v))

/* Pointers shared between tasks are stored as uintptr_t; these give them a type back. */
#define READ_ONCE_PTR(T, x)	((T)read_once_uptr(&(x)))
#define WRITE_ONCE_PTR(x, v)	write_once_uptr(&(x), (uintptr_t)(v))
#define LOAD_ACQUIRE_PTR(T, x)	((T)load_acquire_uptr(&(x)))
#define STORE_RELEASE_PTR(x, v)	store_release_uptr(&(x), (uintptr_t)(v))

/*
 * Initialising an object nobody else can see yet (a frame just allocated, a table
 * just taken from the pool): no scheduling point, since there is no one to
 * interleave with.  Publication is a separate, ordered step (a release store).
 */
#define SCHED_DEFINE_INIT(name, T)                                   \
static inline void init_private_##name(_Atomic T *p, T v)            \
{                                                                    \
	atomic_store_explicit(p, v, memory_order_relaxed);           \
}
SCHED_DEFINE_INIT(u8, uint8_t)
SCHED_DEFINE_INIT(u64, uint64_t)
SCHED_DEFINE_INIT(uptr, uintptr_t)

/*
 * A racy look that decides nothing (a prefetch target, a hint later re-checked
 * under a lock): not a scheduling point, because no outcome depends on it.
 */
static inline uint64_t peek_u64(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static inline void prefetch(const void *p) { __builtin_prefetch(p, 0); }
/*
 * Fetch a line for writing.  Baseline x86-64 code generation turns
 * __builtin_prefetch(p, 1) into prefetcht0 (a read), so say PREFETCHW itself:
 * every x86-64 CPU of the last decade has it, and older ones decode the opcode
 * as a no-op.
 */
static inline void prefetchw(const void *p)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

/* ------------------------------------------------------------------------ */
/* Barriers                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * ThreadSanitizer does not model atomic_thread_fence and gcc says so at each
 * inlined use (-Wtsan).  The fences remain correct C11; silence the note.
 */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif

static inline void smp_mb(void)
{
	sched_point_at(SP_FENCE, NULL, SCHED_FENCE_FULL);
	atomic_thread_fence(memory_order_seq_cst);
}

static inline void smp_rmb(void)
{
	sched_point(SP_FENCE, NULL);
	atomic_thread_fence(memory_order_acquire);
}

static inline void smp_wmb(void)
{
	sched_point(SP_FENCE, NULL);
	atomic_thread_fence(memory_order_release);
}

/* Our value-returning RMWs are seq_cst; the _after_atomic forms only order relaxed ones. */
static inline void smp_mb__after_atomic(void) { smp_mb(); }
static inline void smp_mb__before_atomic(void) { smp_mb(); }

/* ------------------------------------------------------------------------ */
/* atomic_t, atomic64_t, atomic_long_t                                      */
/* ------------------------------------------------------------------------ */

typedef struct { _Atomic int counter; } atomic_t;
typedef struct { _Atomic int64_t counter; } atomic64_t;
typedef atomic64_t atomic_long_t;	/* LP64: long is 64 bits */

#define SCHED_DEFINE_ATOMIC(pfx, AT, T)                                                  \
static inline T pfx##_read(const AT *v)                                                  \
{                                                                                        \
	sched_point(SP_READ, (const void *)v);                                           \
	return atomic_load_explicit(&((AT *)v)->counter, memory_order_relaxed);          \
}                                                                                        \
static inline void pfx##_set(AT *v, T i)                                                 \
{                                                                                        \
	if (sched_store_point(SP_WRITE, (void *)&v->counter, 0, sizeof(T), SB_STORE,     \
			      (uint64_t)i))                                              \
		return;                                                                  \
	atomic_store_explicit(&v->counter, i, memory_order_relaxed);                     \
}                                                                                        \
static inline void pfx##_add(T i, AT *v)                                                 \
{                                                                                        \
	if (sched_store_point(SP_ADD, (void *)&v->counter, 0, sizeof(T), SB_ADD,         \
			      (uint64_t)(int64_t)i))                                     \
		return;                                                                  \
	atomic_fetch_add_explicit(&v->counter, i, memory_order_relaxed);                 \
}                                                                                        \
static inline void pfx##_sub(T i, AT *v)                                                 \
{                                                                                        \
	if (sched_store_point(SP_ADD, (void *)&v->counter, 0, sizeof(T), SB_ADD,         \
			      UINT64_C(0) - (uint64_t)(int64_t)i))                       \
		return;                                                                  \
	atomic_fetch_sub_explicit(&v->counter, i, memory_order_relaxed);                 \
}                                                                                        \
static inline void pfx##_inc(AT *v) { pfx##_add(1, v); }                                 \
static inline void pfx##_dec(AT *v) { pfx##_sub(1, v); }                                 \
static inline T pfx##_fetch_add(T i, AT *v)                                              \
{                                                                                        \
	sched_point(SP_RMW, (const void *)v);                                            \
	return atomic_fetch_add_explicit(&v->counter, i, memory_order_seq_cst);          \
}                                                                                        \
static inline T pfx##_add_return(T i, AT *v) { return pfx##_fetch_add(i, v) + i; }       \
static inline T pfx##_sub_return(T i, AT *v) { return pfx##_fetch_add(-i, v) - i; }      \
static inline T pfx##_inc_return(AT *v) { return pfx##_add_return(1, v); }               \
static inline T pfx##_dec_return(AT *v) { return pfx##_sub_return(1, v); }               \
static inline bool pfx##_dec_and_test(AT *v) { return pfx##_dec_return(v) == 0; }        \
static inline bool pfx##_sub_and_test(T i, AT *v) { return pfx##_sub_return(i, v) == 0; }\
static inline T pfx##_fetch_or(T i, AT *v)                                               \
{                                                                                        \
	sched_point(SP_RMW, (const void *)v);                                            \
	return atomic_fetch_or_explicit(&v->counter, i, memory_order_seq_cst);           \
}                                                                                        \
static inline T pfx##_fetch_and(T i, AT *v)                                              \
{                                                                                        \
	sched_point(SP_RMW, (const void *)v);                                            \
	return atomic_fetch_and_explicit(&v->counter, i, memory_order_seq_cst);          \
}                                                                                        \
static inline T pfx##_xchg(AT *v, T i)                                                   \
{                                                                                        \
	sched_point(SP_RMW, (const void *)v);                                            \
	return atomic_exchange_explicit(&v->counter, i, memory_order_seq_cst);           \
}                                                                                        \
/* On failure *old is updated to the current value, as in the kernel. */                \
static inline bool pfx##_try_cmpxchg(AT *v, T *old, T new)                               \
{                                                                                        \
	sched_point(SP_RMW, (const void *)v);                                            \
	return atomic_compare_exchange_strong_explicit(&v->counter, old, new,            \
			memory_order_seq_cst, memory_order_seq_cst);                     \
}                                                                                        \
static inline T pfx##_cmpxchg(AT *v, T old, T new)                                       \
{                                                                                        \
	pfx##_try_cmpxchg(v, &old, new);                                                 \
	return old;                                                                      \
}                                                                                        \
/* Add @a unless the value is @u; true if added (folio_ref_try_add shape). */            \
static inline bool pfx##_add_unless(AT *v, T a, T u)                                     \
{                                                                                        \
	T c = pfx##_read(v);                                                             \
	do {                                                                             \
		if (c == u)                                                              \
			return false;                                                    \
	} while (!pfx##_try_cmpxchg(v, &c, c + a));                                      \
	return true;                                                                     \
}

SCHED_DEFINE_ATOMIC(atomic, atomic_t, int)
SCHED_DEFINE_ATOMIC(atomic64, atomic64_t, int64_t)

#define atomic_long_read	atomic64_read
#define atomic_long_set		atomic64_set
#define atomic_long_add		atomic64_add
#define atomic_long_sub		atomic64_sub
#define atomic_long_inc		atomic64_inc
#define atomic_long_dec		atomic64_dec
#define atomic_long_fetch_add	atomic64_fetch_add
#define atomic_long_add_return	atomic64_add_return
#define atomic_long_dec_and_test atomic64_dec_and_test
#define atomic_long_try_cmpxchg	atomic64_try_cmpxchg

/* Bit operations on an unsigned 64-bit word (page flags, mm flags). */
static inline void set_bit(unsigned nr, _Atomic uint64_t *addr)
{
	if (sched_store_point(SP_BITS, (void *)addr, SCHED_BIT_DETAIL(nr, true), sizeof(*addr),
			      SB_SET_BIT, nr))
		return;
	atomic_fetch_or_explicit(addr, UINT64_C(1) << nr, memory_order_relaxed);
}

static inline void clear_bit(unsigned nr, _Atomic uint64_t *addr)
{
	if (sched_store_point(SP_BITS, (void *)addr, SCHED_BIT_DETAIL(nr, false), sizeof(*addr),
			      SB_CLEAR_BIT, nr))
		return;
	atomic_fetch_and_explicit(addr, ~(UINT64_C(1) << nr), memory_order_relaxed);
}

static inline bool test_bit(unsigned nr, _Atomic uint64_t *addr)
{
	sched_point_at(SP_READ_BITS, (const void *)addr, UINT64_C(1) << nr);
	return (atomic_load_explicit(addr, memory_order_relaxed) >> nr) & 1;
}

/*
 * The bits of @mask, the others read as 0: one load for several tests (the
 * bits a caller does not name are not its to look at, and it cannot).
 */
static inline uint64_t read_bits_hk_u64(bool hooked, _Atomic uint64_t *addr, uint64_t mask)
{
	if (unlikely(hooked))
		sched_point_at_slow(SP_READ_BITS, (const void *)addr, mask);
	return atomic_load_explicit(addr, memory_order_relaxed) & mask;
}

static inline uint64_t read_bits_u64(_Atomic uint64_t *addr, uint64_t mask)
{
	return read_bits_hk_u64(sched_hooked(), addr, mask);
}

/* Set the bits of @mask to those of @v, others kept (WRITE_ONCE of the word's @mask bits). */
static inline void write_bits_u64(_Atomic uint64_t *addr, uint64_t mask, uint64_t v)
{
	uint64_t old;

	sched_point_at(SP_WRITE_BITS, (const void *)addr, mask);
	old = atomic_load_explicit(addr, memory_order_relaxed);
	atomic_store_explicit(addr, (old & ~mask) | (v & mask), memory_order_relaxed);
}

static inline bool test_and_set_bit(unsigned nr, _Atomic uint64_t *addr)
{
	sched_point_at(SP_WRITE_BITS, (const void *)addr, UINT64_C(1) << nr);
	return (atomic_fetch_or_explicit(addr, UINT64_C(1) << nr, memory_order_seq_cst) >> nr) & 1;
}

static inline bool test_and_clear_bit(unsigned nr, _Atomic uint64_t *addr)
{
	sched_point_at(SP_WRITE_BITS, (const void *)addr, UINT64_C(1) << nr);
	return (atomic_fetch_and_explicit(addr, ~(UINT64_C(1) << nr), memory_order_seq_cst) >> nr) & 1;
}

/* Acquire/release bit lock, as lock_page uses: the lock is the bit's object. */
static inline bool test_and_set_bit_lock(unsigned nr, _Atomic uint64_t *addr)
{
	sched_point(SP_LOCK, SCHED_BIT_OBJ(addr, nr));
	return (atomic_fetch_or_explicit(addr, UINT64_C(1) << nr, memory_order_acquire) >> nr) & 1;
}

static inline void clear_bit_unlock(unsigned nr, _Atomic uint64_t *addr)
{
	sched_release();
	atomic_fetch_and_explicit(addr, ~(UINT64_C(1) << nr), memory_order_release);
	sched_point(SP_UNLOCK, SCHED_BIT_OBJ(addr, nr));
}

/* 64-bit word RMWs (PTEs, page counts) that the engine builds its own types from. */
static inline uint64_t xchg_u64(_Atomic uint64_t *p, uint64_t v)
{
	sched_point(SP_RMW, (const void *)p);
	return atomic_exchange_explicit(p, v, memory_order_seq_cst);
}

static inline bool try_cmpxchg_hk_u64(bool hooked, _Atomic uint64_t *p, uint64_t *old,
				      uint64_t new)
{
	sched_point_hk(hooked, SP_RMW, (const void *)p);
	return atomic_compare_exchange_strong_explicit(p, old, new,
			memory_order_seq_cst, memory_order_seq_cst);
}

static inline bool try_cmpxchg_u64(_Atomic uint64_t *p, uint64_t *old, uint64_t new)
{
	return try_cmpxchg_hk_u64(sched_hooked(), p, old, new);
}

/* An add whose old value nobody needs: commutes with every other such add. */
static inline void add_u64(_Atomic uint64_t *p, uint64_t v)
{
	sched_point(SP_ADD, (const void *)p);
	atomic_fetch_add_explicit(p, v, memory_order_seq_cst);
}

static inline uint64_t fetch_add_u64(_Atomic uint64_t *p, uint64_t v)
{
	sched_point(SP_RMW, (const void *)p);
	return atomic_fetch_add_explicit(p, v, memory_order_seq_cst);
}

/*
 * A word of fields (SP_READ_BITS): bit i of @parts is field i, an object of
 * its own for the explorer.  Each access names every field whose value it
 * uses or changes; every access to such a word goes through these.
 */
static inline uint64_t read_parts_u64(_Atomic uint64_t *p, uint64_t parts)
{
	sched_point_at(SP_READ_BITS, (const void *)p, parts);
	return atomic_load_explicit(p, memory_order_relaxed);
}

static inline uint64_t load_acquire_parts_u64(_Atomic uint64_t *p, uint64_t parts)
{
	sched_point_at(SP_READ_BITS, (const void *)p, parts);
	return atomic_load_explicit(p, memory_order_acquire);
}

/* An add whose result nobody looks at: commutes with other adds to the fields. */
static inline void add_parts_u64(_Atomic uint64_t *p, uint64_t parts, uint64_t v)
{
	sched_point_at(SP_ADD, (const void *)p, parts);
	atomic_fetch_add_explicit(p, v, memory_order_seq_cst);
}

static inline uint64_t fetch_add_parts_u64(_Atomic uint64_t *p, uint64_t parts, uint64_t v)
{
	sched_point_at(SP_WRITE_BITS, (const void *)p, parts);
	return atomic_fetch_add_explicit(p, v, memory_order_seq_cst);
}

static inline void write_parts_u64(_Atomic uint64_t *p, uint64_t parts, uint64_t v)
{
	sched_point_at(SP_WRITE_BITS, (const void *)p, parts);
	atomic_store_explicit(p, v, memory_order_relaxed);
}

static inline uint64_t fetch_and_u64(_Atomic uint64_t *p, uint64_t v)
{
	sched_point(SP_RMW, (const void *)p);
	return atomic_fetch_and_explicit(p, v, memory_order_seq_cst);
}

static inline uint64_t fetch_or_u64(_Atomic uint64_t *p, uint64_t v)
{
	sched_point(SP_RMW, (const void *)p);
	return atomic_fetch_or_explicit(p, v, memory_order_seq_cst);
}

/* ------------------------------------------------------------------------ */
/* Statistics counters: relaxed adds, no ordering (vmstat semantics)         */
/* ------------------------------------------------------------------------ */

static inline void stat_add(_Atomic uint64_t *c, uint64_t n)
{
	/* Not a scheduling point: counters are observations, never synchronisation. */
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t stat_read(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/*
 * A counter with a single writer (a task's own vm events, like Linux's per-cpu
 * __count_vm_event): a relaxed load and store, no locked instruction.  Readers
 * use stat_read.
 */
static inline void stat_add_local(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void stat_reset_local(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, 0, memory_order_relaxed);
}

/* ------------------------------------------------------------------------ */
/* Frame bytes: the data a CPU or a DMA engine moves                        */
/* ------------------------------------------------------------------------ */

/* Each is one point on the frame it touches (@frame identifies the object). */
void mem_copy_from(void *dst, const void *frame_src, size_t n, const void *frame);
void mem_copy_to(void *frame_dst, const void *src, size_t n, const void *frame);
void mem_copy_frame(void *dst_frame, const void *src_frame, size_t n);
void mem_zero_frame(void *frame, size_t n);
void mem_zero_frame_stream(void *frame, size_t n);
void mem_stream_fence(void);
/* memset of user-visible bytes: @frame_dst within the frame @frame. */
void mem_set(void *frame_dst, int c, size_t n, const void *frame);
/*
 * The same moves for the kernel's or a device's side of a frame that tasks or
 * devices may touch at the same time (the page cache: pread/pwrite, truncate's
 * zeroing, writeback; a DMA transfer or an RDMA NIC by physical page): any size,
 * made of relaxed atomic words and bytes, so never a C data race - a COW or fork
 * copy of the frame running meanwhile (seed 004 R1) sees whole words.
 */
void mem_copy_from_shared(void *dst, const void *frame_src, size_t n, const void *frame);
void mem_copy_to_shared(void *frame_dst, const void *src, size_t n, const void *frame);
void mem_set_shared(void *frame_dst, int c, size_t n, const void *frame);

/* ------------------------------------------------------------------------ */
/* Spinlock (PT lock, allocator shards, task lists)                         */
/* ------------------------------------------------------------------------ */

typedef struct {
	_Atomic uint32_t locked;	/* 0 free, 1 held */
} spinlock_t;

#define SPINLOCK_INIT { 0 }

void spin_lock_slow(spinlock_t *lock);

static inline void spin_lock_init(spinlock_t *lock)
{
	atomic_init(&lock->locked, 0);
}

static inline bool spin_try_raw(spinlock_t *lock)
{
	uint32_t zero = 0;

	return atomic_load_explicit(&lock->locked, memory_order_relaxed) == 0 &&
	       atomic_compare_exchange_strong_explicit(&lock->locked, &zero, 1,
			memory_order_acquire, memory_order_relaxed);
}

static inline bool spin_trylock(spinlock_t *lock)
{
	sched_point(SP_LOCK, lock);
	if (!spin_try_raw(lock))
		return false;
	sched_lock_note(lock, SLN_ACQUIRED);
	return true;
}

static inline void spin_lock(spinlock_t *lock)
{
	sched_point_at(SP_LOCK, lock, SCHED_LOCK_BLOCKING);
	if (unlikely(!spin_try_raw(lock)))
		spin_lock_slow(lock);
	sched_lock_note(lock, SLN_ACQUIRED);
}

static inline void spin_unlock(spinlock_t *lock)
{
	sched_release();
	atomic_store_explicit(&lock->locked, 0, memory_order_release);
	sched_lock_note(lock, SLN_RELEASED);
	sched_point(SP_UNLOCK, lock);
}

static inline bool spin_is_locked(spinlock_t *lock)
{
	return atomic_load_explicit(&lock->locked, memory_order_relaxed) != 0;
}

/* ------------------------------------------------------------------------ */
/* Sleeping primitives: mutex, fair rwsem, wait queue, completion           */
/* ------------------------------------------------------------------------ */

struct sched_waiter;

/*
 * The OS-level blocking object under every sleeping primitive.  Free mode: a
 * pthread mutex and condition variable; explore mode will block the coroutine.
 * Opaque storage so that engine headers need not include <pthread.h>.
 */
struct sched_wait_base {
	_Alignas(16) unsigned char opaque[96];
};

struct mutex {
	spinlock_t fast;		/* the lock word itself */
	_Atomic uint32_t nr_waiting;	/* sleepers, so unlock knows to wake */
	struct sched_wait_base wb;
};

void mutex_init(struct mutex *m);
void mutex_destroy(struct mutex *m);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);

/*
 * Fair reader/writer semaphore (the mmap lock).  FIFO: a queued writer blocks
 * readers that arrive after it (seed004 L2127-2130 relies on this: while fork holds
 * the lock for write, a parent thread's fault waits).  Uncontended down_read and
 * down_write are one CAS on @count; contended acquirers queue under @wait_lock and
 * are granted the lock by the releaser (hand-off), in arrival order, consecutive
 * readers together.
 */
struct rw_semaphore {
	/* bit 0: writer holds; bit 1: waiters queued (fast paths off); bits 2..: readers */
	_Atomic uint64_t count;
	struct sched_waiter *head, *tail;	/* FIFO of sleepers, under wait_lock */
	struct sched_wait_base wb;		/* wait_lock + condition variable    */
};

#define RWSEM_WRITER	UINT64_C(1)
#define RWSEM_WAITERS	UINT64_C(2)
#define RWSEM_READER	UINT64_C(4)

void init_rwsem(struct rw_semaphore *sem);
void rwsem_destroy(struct rw_semaphore *sem);
void down_write(struct rw_semaphore *sem);
bool down_write_trylock(struct rw_semaphore *sem);
void up_write(struct rw_semaphore *sem);
void downgrade_write(struct rw_semaphore *sem);
/*
 * Killable acquisition: gives up with -EINTR when *@fatal becomes true while waiting
 * (the task's fatal-signal flag).  @fatal may be NULL.
 */
int down_write_killable(struct rw_semaphore *sem, _Atomic bool *fatal);

/* Slow paths of the inline read side below (lock.c). */
int rwsem_down_read_slow(struct rw_semaphore *sem, _Atomic bool *fatal);
void rwsem_up_read_wake(struct rw_semaphore *sem);

/* The uncontended read acquisition: one CAS while no writer holds or waits. */
static inline bool rwsem_read_fast(struct rw_semaphore *sem)
{
	uint64_t c = atomic_load_explicit(&sem->count, memory_order_relaxed);

	while (!(c & (RWSEM_WRITER | RWSEM_WAITERS))) {
		/* seq_cst (acquire): pairs with the releasing RMWs of up_*(). */
		if (atomic_compare_exchange_weak_explicit(&sem->count, &c, c + RWSEM_READER,
				memory_order_seq_cst, memory_order_relaxed))
			return true;
	}
	return false;
}

/*
 * The read side's points say what the explorer may reorder: a fast-path
 * acquisition and a release that finds nobody queued only move the reader count,
 * and any two of those commute (none can make another block or wake anyone:
 * that needs the WRITER or WAITERS bit, which only exclusive accesses set).  The
 * slow path announces its queueing as a write (rwsem_wait), and a release that
 * sees sleepers is a write too.
 */
static inline void down_read(struct rw_semaphore *sem)
{
	sched_point(SP_LOCK_SHARED, sem);
	if (rwsem_read_fast(sem))
		sched_lock_note(sem, SLN_ACQUIRED_SHARED);
	else
		rwsem_down_read_slow(sem, NULL);
}

/* A trylock's failure is an outcome the caller acts on: an exclusive access. */
static inline bool down_read_trylock(struct rw_semaphore *sem)
{
	sched_point(SP_LOCK, sem);
	if (!rwsem_read_fast(sem))
		return false;
	sched_lock_note(sem, SLN_ACQUIRED_SHARED);
	return true;
}

static inline int down_read_killable(struct rw_semaphore *sem, _Atomic bool *fatal)
{
	sched_point(SP_LOCK_SHARED, sem);
	if (rwsem_read_fast(sem)) {
		sched_lock_note(sem, SLN_ACQUIRED_SHARED);
		return 0;
	}
	return rwsem_down_read_slow(sem, fatal);
}

static inline void up_read(struct rw_semaphore *sem)
{
	uint64_t old;

	sched_release();
	/* seq_cst (release): our section happens-before the next writer's. */
	old = atomic_fetch_sub_explicit(&sem->count, RWSEM_READER,
					memory_order_seq_cst);

	/* Last reader out with sleepers queued: only a writer can be at the head. */
	sched_lock_note(sem, SLN_RELEASED);
	if (unlikely(old - RWSEM_READER == RWSEM_WAITERS))
		rwsem_up_read_wake(sem);
	sched_point((old & RWSEM_WAITERS) ? SP_UNLOCK : SP_UNLOCK_SHARED, sem);
}

static inline bool rwsem_is_locked(struct rw_semaphore *sem)
{
	return (atomic_load_explicit(&sem->count, memory_order_relaxed) &
		~RWSEM_WAITERS) != 0;
}

static inline bool rwsem_is_write_locked(struct rw_semaphore *sem)
{
	return atomic_load_explicit(&sem->count, memory_order_relaxed) & RWSEM_WRITER;
}

/* Wait queue: sleep until a condition holds, re-evaluated after every wake-up. */
struct wait_queue_head {
	struct sched_wait_base wb;
	_Atomic uint32_t nr_waiting;
};

void init_waitqueue_head(struct wait_queue_head *wq);
void waitqueue_destroy(struct wait_queue_head *wq);
/* Returns 0 once @cond(arg) is true; -EINTR if *@fatal becomes true first (may be NULL). */
int wait_event_fn(struct wait_queue_head *wq, bool (*cond)(void *arg), void *arg,
		  _Atomic bool *fatal);
/* As wait_event_fn with a timeout in nanoseconds: -ETIMEDOUT when it expires. */
int wait_event_timeout_fn(struct wait_queue_head *wq, bool (*cond)(void *arg), void *arg,
			  _Atomic bool *fatal, uint64_t timeout_ns);
/*
 * As wait_event_fn / wait_event_timeout_fn for a *pure* @cond: loads only (no
 * lock, no store, no side effect), so that it may be evaluated at any moment by
 * anyone.  Explore mode uses that: the waiter is not runnable until @cond holds
 * (or *@fatal, or the deadline), so a check that fails is never an interleaving
 * of its own - only the check that succeeds is, ordered after the store that
 * made it true.  Free mode waits exactly as wait_event_fn.
 */
int wait_event_pure_fn(struct wait_queue_head *wq, bool (*cond)(void *arg), void *arg,
		       _Atomic bool *fatal);
int wait_event_pure_timeout_fn(struct wait_queue_head *wq, bool (*cond)(void *arg), void *arg,
			       _Atomic bool *fatal, uint64_t timeout_ns);
/* Wake every waiter; callers change the condition before calling (release order). */
void wake_up_all(struct wait_queue_head *wq);

struct completion {
	_Atomic uint32_t done;
	struct wait_queue_head wait;
};

void init_completion(struct completion *x);
void completion_destroy(struct completion *x);
void reinit_completion(struct completion *x);
void complete(struct completion *x);
void complete_all(struct completion *x);
void wait_for_completion(struct completion *x);
bool try_wait_for_completion(struct completion *x);
bool completion_done(struct completion *x);

/* ------------------------------------------------------------------------ */
/* Sequence counts (write_protect_seq)                                      */
/* ------------------------------------------------------------------------ */

typedef struct {
	_Atomic uint32_t sequence;	/* odd while a writer is inside */
} seqcount_t;

static inline void seqcount_init(seqcount_t *s)
{
	atomic_init(&s->sequence, 0);
}

/* Writers are serialised by an outer lock (mmap lock for write_protect_seq). */
static inline void raw_write_seqcount_begin(seqcount_t *s)
{
	write_once_u32(&s->sequence, read_once_u32(&s->sequence) + 1);
	smp_wmb();	/* sequence odd before the protected stores; pairs with read_seqcount_retry */
}

static inline void raw_write_seqcount_end(seqcount_t *s)
{
	smp_wmb();	/* protected stores before sequence even; pairs with raw_seqcount_try_begin */
	write_once_u32(&s->sequence, read_once_u32(&s->sequence) + 1);
}

/* Reader that does not wait: false if a writer is inside (gup-fast backs off). */
static inline bool raw_seqcount_try_begin(seqcount_t *s, uint32_t *start)
{
	*start = smp_load_acquire(&s->sequence);
	return !(*start & 1);
}

static inline uint32_t read_seqcount_begin(seqcount_t *s)
{
	uint32_t seq;

	while ((seq = smp_load_acquire(&s->sequence)) & 1)
		cpu_relax_on(&s->sequence);
	return seq;
}

static inline bool read_seqcount_retry(seqcount_t *s, uint32_t start)
{
	smp_rmb();	/* protected loads before the re-read; pairs with raw_write_seqcount_begin */
	return read_once_u32(&s->sequence) != start;
}

/*
 * A record of a few words published whole, seqlock-style: writers are
 * serialised by the caller, readers take no lock and fail on a record that is
 * gone (another generation) or being rewritten.  One scheduling point a read
 * and one a write, on the record: how the words are ordered inside is this
 * primitive's own business, as a lock's word is the lock's, and an explorer
 * need not interleave a reader with each word of a writer to learn the three
 * things a read can see (the record, a failure, another record).  The TLB
 * flush log (mm/tlb.c) is one.
 */
#define SEQREC_WORDS	3

struct seqrec {
	_Atomic uint64_t gen;		/* 0 while being written */
	_Atomic uint64_t word[SEQREC_WORDS];
};

/* The words of the record of generation @gen (not 0), or false. */
static inline bool seqrec_read(struct seqrec *r, uint64_t gen, uint64_t word[SEQREC_WORDS])
{
	sched_point(SP_READ, r);
	if (atomic_load_explicit(&r->gen, memory_order_acquire) != gen)
		return false;
	for (int i = 0; i < SEQREC_WORDS; i++)
		word[i] = atomic_load_explicit(&r->word[i], memory_order_relaxed);
	/* smp_rmb: the words before the re-read; pairs with seqrec_write's release. */
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&r->gen, memory_order_relaxed) == gen;
}

/* Make @word the record of generation @gen (not 0); the caller serialises writers. */
static inline void seqrec_write(struct seqrec *r, uint64_t gen, const uint64_t word[SEQREC_WORDS])
{
	sched_point(SP_WRITE, r);
	atomic_store_explicit(&r->gen, 0, memory_order_relaxed);
	/* smp_wmb: readers that see a new word see gen 0 first; pairs with the rmb above. */
	atomic_thread_fence(memory_order_release);
	for (int i = 0; i < SEQREC_WORDS; i++)
		atomic_store_explicit(&r->word[i], word[i], memory_order_relaxed);
	atomic_store_explicit(&r->gen, gen, memory_order_release);
}

/* ------------------------------------------------------------------------ */
/* irq-off sections and the IPI wait                                        */
/* ------------------------------------------------------------------------ */

/*
 * A task's interrupt state.  @seq is odd while the task is inside an irq-off
 * section (gup-fast's walk, one user access).  A TLB shootdown is an IPI: it cannot
 * complete on a task until that task has left the section it was in, so the flusher
 * first publishes its change (smp_mb) and then irq_sync()s every other task.  The
 * task side pairs: local_irq_disable() makes @seq odd and issues smp_mb before it
 * reads anything the flusher may have changed (Dekker: one of the two sees the other).
 */
struct irq_state {
	_Atomic uint32_t seq;
};

static inline void irq_state_init(struct irq_state *irq)
{
	atomic_init(&irq->seq, 0);
}

static inline void local_irq_disable(struct irq_state *irq)
{
	sched_point(SP_IRQ_OFF, irq);
	atomic_store_explicit(&irq->seq,
			      atomic_load_explicit(&irq->seq, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	/* Section entry visible before our reads of PTEs / tlb_gen; pairs with irq_sync(). */
	atomic_thread_fence(memory_order_seq_cst);
}

static inline void local_irq_enable(struct irq_state *irq)
{
	sched_release();
	/* Everything done in the section happens-before a flusher that sees us leave. */
	atomic_store_explicit(&irq->seq,
			      atomic_load_explicit(&irq->seq, memory_order_relaxed) + 1,
			      memory_order_release);
	sched_point(SP_IRQ_ON, irq);
}

static inline bool irqs_disabled(struct irq_state *irq)
{
	return atomic_load_explicit(&irq->seq, memory_order_relaxed) & 1;
}

/*
 * Wait until @irq's owner is not inside the irq-off section it was in when we
 * looked (it may have entered a new one since: that one began after our smp_mb and
 * so sees our change).  The caller has made its change visible with smp_mb().
 */
void irq_sync(struct irq_state *irq);

/* ------------------------------------------------------------------------ */
/* Threads of execution (free mode: pthreads)                               */
/* ------------------------------------------------------------------------ */

struct sched_thread;

int sched_thread_start(struct sched_thread **out, void (*fn)(void *arg), void *arg);
/*
 * A kernel thread (a device's worker): the same in free mode; under the explorer
 * an actor whose end an execution started by setup does not wait for - it serves
 * the test's actors until teardown stops and joins it.
 */
int sched_kthread_start(struct sched_thread **out, void (*fn)(void *arg), void *arg);
int sched_thread_join(struct sched_thread *t);

/* Monotonic nanoseconds, for timeouts and statistics (never for correctness). */
uint64_t sched_clock_ns(void);

/*
 * A device's latency (a disk request in flight): the calling thread is away for
 * @ns.  A scheduling point (SP_BLOCK on @obj), so an explorer runs other threads
 * meanwhile; in free mode the thread sleeps.  0 is only the point.
 */
void sched_io_delay(const void *obj, uint64_t ns);

#endif /* GUP_SCHED_H */
