/* SPDX-License-Identifier: MIT */
/*
 * tests/test_uffd.c - userfaultfd (<gup/uffd.h>) against Linux's contract
 * (linux_anchor 1.8, invariant 7; docs/uffd.md):
 *
 *   1. the API one call at a time: arguments, ranges, VMAs that cannot be
 *      registered, double registration, copy onto a mapped page, use after close,
 *      the -EDEADLK check, VMA splitting and merging, fork;
 *   2. GUP's side without waiting: no FOLL_UNLOCKABLE gets -EFAULT, FOLL_NOWAIT a
 *      short count, neither queues a message;
 *   3. faults that wait, with real threads: a user access, GUP unlocked, _remote
 *      with `locked`, and gup-fast's fallback block until a handler fills the page,
 *      then see exactly its bytes; the mmap lock is free meanwhile; ZEROPAGE, WAKE,
 *      DONTWAKE, write-protect, unregister, munmap, close and a fatal signal all
 *      end the wait.
 *
 * Each test ends with gup_world_check and a leak-free teardown.  The handler runs
 * on the test's thread with a task of its own mm (a monitor process), faulting
 * tasks on threads; every wait has a timeout, so a bug fails a test instead of
 * hanging it.  Internal headers are used to read VMA flags and PTE bits and to
 * build a file-backed VMA.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "gup/uffd.h"
#include "mm/fault.h"
#include "mm/userfaultfd.h"
#include "world.h"

#include "common/fixture.h"

#define PG		GUP_PAGE_SIZE
#define NR_FRAMES	512
#define F_WRITE		GUP_FOLL_WRITE
#define F_NOWAIT	GUP_FOLL_NOWAIT
#define SEED		7

/* How long a task must stay asleep to count as blocked: only a floor, never flaky. */
#define BLOCKED_NS	(UINT64_C(30) * 1000 * 1000)

/* ------------------------------------------------------------------------ */
/* Environment                                                              */
/* ------------------------------------------------------------------------ */

/*
 * A world; t, a task of the mm whose faults go to u; h, the handler's task, of its
 * own mm (a monitor process); tr, a "tracer" of yet another mm for remote GUP.
 */
struct env {
	struct gup_world *w;
	struct gup_task *t, *h, *tr;
	struct gup_mm *mm;	/* t's */
	struct gup_uffd *u;
	struct fx_snap s;	/* counters at the start */
};

static void env_new(struct env *e)
{
	e->w = fx_world_new(NULL, NR_FRAMES, NR_FRAMES / 4);
	e->t = fx_task_new(e->w);
	e->h = fx_task_new(e->w);
	e->tr = fx_task_new(e->w);
	e->mm = gup_task_mm(e->t);
	e->u = NULL;
	assert_int_equal(gup_uffd_create(e->mm, &e->u), 0);
	assert_non_null(e->u);
	fx_snap(e->w, &e->s);
}

/* Close the uffd (unless the test did), check, and tear down without leaks. */
static void env_end(struct env *e)
{
	int ret = gup_uffd_close(e->h, e->u);

	assert_true(ret == 0 || ret == -EBADF);
	fx_check(e->w);
	gup_task_exit(e->tr);
	gup_task_exit(e->h);
	gup_task_exit(e->t);
	fx_world_end(e->w);
}

static uint64_t delta(struct env *e, enum gup_stat_item item)
{
	return fx_delta(e->w, &e->s, item);
}

/* @nr_pages of private anon memory of t, registered with u under @mode. */
static uint64_t map_registered(struct env *e, size_t nr_pages, unsigned mode)
{
	uint64_t a = fx_map_private(e->t, nr_pages);

	assert_int_equal(gup_uffd_register(e->h, e->u, a, nr_pages * PG, mode), 0);
	return a;
}

static uint32_t vma_flags_at(struct gup_mm *mm, uint64_t addr)
{
	struct gup_vma *vma;
	uint32_t flags;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	assert_non_null(vma);
	flags = vma->vm_flags;
	mmap_read_unlock(mm);
	return flags;
}

static struct gup_uffd *vma_uffd_at(struct gup_mm *mm, uint64_t addr)
{
	struct gup_vma *vma;
	struct gup_uffd *u;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	assert_non_null(vma);
	u = vma->uffd;
	mmap_read_unlock(mm);
	return u;
}

/* The handler fills one page at @addr with pattern @seed. */
static long copy_pattern(struct env *e, uint64_t addr, unsigned seed, unsigned mode)
{
	uint8_t buf[GUP_PAGE_SIZE];

	fx_pattern_page(buf, seed, addr);
	return gup_uffd_copy(e->h, e->u, addr, buf, PG, mode);
}

/* No message is waiting. */
static void no_message(struct env *e)
{
	struct gup_uffd_msg m;

	assert_int_equal(gup_uffd_read(e->u, &m, 0), -EAGAIN);
}

/* Is @mm's mmap lock free (no reader, no writer) right now? */
static bool mmap_lock_free(struct gup_mm *mm)
{
	if (!down_write_trylock(&mm->mmap_lock))
		return false;
	up_write(&mm->mmap_lock);
	return true;
}

/* ------------------------------------------------------------------------ */
/* A task that faults, on a thread of its own                               */
/* ------------------------------------------------------------------------ */

enum fop {
	OP_LOAD,		/* gup_load of len bytes at addr                     */
	OP_STORE,		/* gup_store of buf                                  */
	OP_GET_UNLOCKED,	/* gup_get_user_pages_unlocked, nr pages             */
	OP_PIN_FAST,		/* gup_pin_user_pages_fast, nr pages                 */
	OP_GET_REMOTE_LOCKED,	/* by tr: lock, _remote(&locked), unlock if locked    */
	OP_READ_MSG,		/* gup_uffd_read without timeout                     */
	OP_FIXUP,		/* by tr: lock, gup_fixup_user_fault(&unlocked)       */
};

struct faulter {
	struct env *e;
	struct gup_task *t;	/* the task acting */
	enum fop op;
	uint64_t addr;
	size_t len;		/* bytes (load, store) or pages (GUP) */
	unsigned flags;		/* FOLL flags */
	uint8_t buf[2 * GUP_PAGE_SIZE];
	struct gup_page *pages[4];
	struct gup_uffd_msg msg;
	int locked;
	bool write_lock;	/* OP_GET_REMOTE_LOCKED: hold the lock for write */
	bool lock_free_after;
	bool unlocked;		/* OP_FIXUP */
	long ret;
	_Atomic int done;
	struct gup_thread *th;
};

static void faulter_fn(void *arg)
{
	struct faulter *f = arg;
	struct env *e = f->e;

	switch (f->op) {
	case OP_LOAD:
		f->ret = gup_load(f->t, f->addr, f->buf, f->len);
		break;
	case OP_STORE:
		f->ret = gup_store(f->t, f->addr, f->buf, f->len);
		break;
	case OP_GET_UNLOCKED:
		f->ret = gup_get_user_pages_unlocked(f->t, f->addr, f->len, f->pages, f->flags);
		break;
	case OP_PIN_FAST:
		f->ret = gup_pin_user_pages_fast(f->t, f->addr, (int)f->len, f->flags, f->pages);
		break;
	case OP_GET_REMOTE_LOCKED:
		f->locked = 1;
		f->ret = f->write_lock ? gup_mmap_write_lock(f->t, e->mm) :
					 gup_mmap_read_lock(f->t, e->mm);
		if (f->ret)
			break;
		f->ret = gup_get_user_pages_remote(f->t, e->mm, f->addr, f->len, f->flags,
						   f->pages, &f->locked);
		if (f->locked && f->write_lock)
			gup_mmap_write_unlock(f->t, e->mm);
		else if (f->locked)
			gup_mmap_read_unlock(f->t, e->mm);
		f->lock_free_after = !task_holds_mmap_lock(f->t, e->mm);
		break;
	case OP_READ_MSG:
		f->ret = gup_uffd_read(e->u, &f->msg, UINT64_MAX);
		break;
	case OP_FIXUP:
		f->ret = gup_mmap_read_lock(f->t, e->mm);
		if (f->ret)
			break;
		f->ret = gup_fixup_user_fault(f->t, e->mm, f->addr, f->flags, &f->unlocked);
		f->lock_free_after = !task_holds_mmap_lock(f->t, e->mm);
		gup_mmap_read_unlock(f->t, e->mm);	/* fixup always returns locked */
		break;
	}
	atomic_store_explicit(&f->done, 1, memory_order_release);
}

/* Set @f up; faulter_run starts it (after the test adjusts buf, flags...). */
static void faulter_init(struct faulter *f, struct env *e, struct gup_task *t, enum fop op,
			 uint64_t addr, size_t len)
{
	memset(f, 0, sizeof(*f));
	f->e = e;
	f->t = t;
	f->op = op;
	f->addr = addr;
	f->len = len;
	f->ret = -12345;
	memset(f->buf, 0x5a, sizeof(f->buf));
}

static void faulter_run(struct faulter *f)
{
	f->th = fx_thread_start(f->e->w, faulter_fn, f);
}

static void faulter_start(struct faulter *f, struct env *e, struct gup_task *t, enum fop op,
			  uint64_t addr, size_t len)
{
	faulter_init(f, e, t, op, addr, len);
	faulter_run(f);
}

static bool faulter_done(struct faulter *f)
{
	return atomic_load_explicit(&f->done, memory_order_acquire) != 0;
}

/* @f finished (within FX_WAIT_NS); its thread is joined. */
static void faulter_join(struct faulter *f)
{
	struct fx_spin s;
	bool done = true;

	fx_spin_begin(&s, FX_WAIT_NS, 64);
	while (!faulter_done(f))
		if (!fx_spin(&s)) {
			done = false;
			break;
		}
	if (!done)
		fail_msg("a faulting task is still blocked after %llu s",
			 (unsigned long long)(FX_WAIT_NS / 1000000000));
	assert_int_equal(gup_thread_join(f->th), 0);
	f->th = NULL;
}

/* @f stays unfinished for BLOCKED_NS: it sleeps in the fault. */
static void assert_blocked(struct faulter *f)
{
	uint64_t end = fx_now_ns() + BLOCKED_NS;

	while (fx_now_ns() < end) {
		assert_false(faulter_done(f));
		fx_cpu_relax();
	}
}

/* The next message, within FX_WAIT_NS: a page fault at @addr with @flags by @t. */
static void expect_fault(struct env *e, uint64_t addr, uint32_t flags, struct gup_task *t)
{
	struct gup_uffd_msg m;

	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(gup_uffd_read(e->u, &m, FX_WAIT_NS), 0);
	assert_int_equal(m.event, GUP_UFFD_EVENT_PAGEFAULT);
	assert_int_equal(m.address, addr);
	assert_int_equal(m.flags, flags);
	assert_int_equal(m.task_id, gup_task_id(t));
}

/* The message of @f's fault (at @addr, @flags), and @f asleep in it. */
static void await_blocked(struct env *e, struct faulter *f, uint64_t addr, uint32_t flags)
{
	expect_fault(e, addr, flags, f->t);
	assert_blocked(f);
}

/* @buf holds pattern @seed of the page at @addr. */
static void assert_pattern(const uint8_t *buf, unsigned seed, uint64_t addr, size_t len)
{
	uint8_t want[GUP_PAGE_SIZE];

	fx_pattern_page(want, seed, addr & ~(PG - 1));
	assert_memory_equal(buf, want + (addr & (PG - 1)), len);
}

static void assert_page_pattern(struct gup_page *p, unsigned seed, uint64_t addr)
{
	uint8_t got[GUP_PAGE_SIZE];

	assert_int_equal(gup_page_read(p, 0, got, PG), 0);
	assert_pattern(got, seed, addr, PG);
}

/* ------------------------------------------------------------------------ */
/* 1. The API, one call at a time                                           */
/* ------------------------------------------------------------------------ */

/* Creation and closing; a closed handle answers -EBADF to everything. */
static void test_create_close(void **state)
{
	struct gup_uffd *u2 = NULL;
	struct gup_uffd_msg m;
	uint8_t buf[GUP_PAGE_SIZE] = { 0 };
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	assert_int_equal(gup_uffd_create(NULL, &u2), -EINVAL);
	assert_int_equal(gup_uffd_create(e.mm, NULL), -EINVAL);
	assert_int_equal(gup_uffd_close(e.h, NULL), -EINVAL);

	assert_int_equal(gup_uffd_close(e.h, e.u), 0);
	assert_int_equal(vma_flags_at(e.mm, a) & VM_UFFD_FLAGS, 0);
	assert_null(vma_uffd_at(e.mm, a));
	/* Use after close. */
	assert_int_equal(gup_uffd_close(e.h, e.u), -EBADF);
	assert_int_equal(gup_uffd_close(NULL, e.u), -EBADF);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, PG, GUP_UFFD_MISSING), -EBADF);
	assert_int_equal(gup_uffd_unregister(e.h, e.u, a, PG), -EBADF);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a, buf, PG, 0), -EBADF);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a, PG, 0), -EBADF);
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a, PG, GUP_UFFD_WRITEPROTECT_WP), -EBADF);
	assert_int_equal(gup_uffd_wake(e.u, a, PG), -EBADF);
	assert_int_equal(gup_uffd_read(e.u, &m, 0), -EBADF);
	assert_int_equal(gup_uffd_read(e.u, &m, 1000), -EBADF);
	/* The range faults normally now. */
	fx_check_zero_pages(e.t, a, 2);
	env_end(&e);
}

/* An open uffd keeps its mm alive after the last task is gone, as a file would. */
static void test_uffd_holds_mm(void **state)
{
	struct gup_world *w = fx_world_new(NULL, NR_FRAMES, 0);
	struct gup_task *t = fx_task_new(w), *h = fx_task_new(w);
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_uffd *u = NULL;
	uint64_t a = fx_map_private(t, 2);

	(void)state;
	fx_fill_pages(t, a, 1, SEED);
	assert_int_equal(gup_uffd_create(mm, &u), 0);
	assert_int_equal(gup_uffd_register(h, u, a, 2 * PG, GUP_UFFD_MISSING), 0);
	gup_task_exit(t);
	assert_int_equal(fx_meminfo(w).nr_mms, 2);
	/* Still usable by the monitor: fill the second page. */
	assert_int_equal(gup_uffd_zeropage(h, u, a + PG, PG, 0), PG);
	fx_check(w);
	assert_int_equal(gup_uffd_close(NULL, u), 0);	/* puts the mm: torn down here */
	assert_int_equal(fx_meminfo(w).nr_mms, 1);
	gup_task_exit(h);
	fx_world_end(w);
}

/* validate_range and the mode: -EINVAL before anything is looked at. */
static void test_register_bad_args(void **state)
{
	struct gup_world *w2 = fx_world_new(NULL, 64, 0);
	struct gup_task *other = fx_task_new(w2);
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = fx_map_private(e.t, 4);
	assert_int_equal(gup_uffd_register(e.h, e.u, a + 1, PG, GUP_UFFD_MISSING), -EINVAL);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, PG + 1, GUP_UFFD_MISSING), -EINVAL);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, 0, GUP_UFFD_MISSING), -EINVAL);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, PG, 0), -EINVAL);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, PG, 1u << 2), -EINVAL);
	assert_int_equal(gup_uffd_register(e.h, e.u, 0, PG, GUP_UFFD_MISSING), -EINVAL);
	assert_int_equal(gup_uffd_register(e.h, e.u, GUP_TASK_SIZE, PG, GUP_UFFD_MISSING),
			 -EINVAL);
	assert_int_equal(gup_uffd_register(e.h, e.u, GUP_TASK_SIZE - PG, 2 * PG,
					   GUP_UFFD_MISSING), -EINVAL);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, UINT64_MAX & ~(PG - 1),
					   GUP_UFFD_MISSING), -EINVAL);
	assert_int_equal(gup_uffd_register(NULL, e.u, a, PG, GUP_UFFD_MISSING), -EINVAL);
	assert_int_equal(gup_uffd_register(e.h, NULL, a, PG, GUP_UFFD_MISSING), -EINVAL);
	/* A task of another world is no "current" for this uffd. */
	assert_int_equal(gup_uffd_register(other, e.u, a, PG, GUP_UFFD_MISSING), -EINVAL);
	assert_int_equal(gup_uffd_close(other, e.u), -EINVAL);
	/* Nothing mapped there. */
	assert_int_equal(gup_uffd_register(e.h, e.u, a + 64 * PG, PG, GUP_UFFD_MISSING),
			 -ENOMEM);
	assert_int_equal(gup_uffd_unregister(e.h, e.u, a + 64 * PG, PG), -ENOMEM);
	assert_int_equal(vma_flags_at(e.mm, a) & VM_UFFD_FLAGS, 0);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	gup_task_exit(other);
	fx_world_end(w2);
	env_end(&e);
}

/* A file-backed VMA (fake hooks) that can never be registered. */
static unsigned no_fault(struct vm_fault *vmf)
{
	(void)vmf;
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations fake_file_ops = { .fault = no_fault, .name = "fake" };

#define FILE_BASE	UINT64_C(0x300000000)

static void map_fake_file(struct gup_mm *mm)
{
	struct gup_vma *vma;

	mmap_write_lock(mm);
	vma = vma_alloc(mm);
	assert_non_null(vma);
	vma->node.start = FILE_BASE;
	vma->node.end = FILE_BASE + 2 * PAGE_SIZE;
	vma->vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;
	vma->vm_ops = &fake_file_ops;
	assert_int_equal(vma_link(mm, vma), 0);
	mmap_write_unlock(mm);
}

static void set_vm_flags(struct gup_mm *mm, uint64_t addr, uint32_t set, uint32_t clear)
{
	struct gup_vma *vma;

	mmap_write_lock(mm);
	vma = vma_lookup(mm, addr);
	assert_non_null(vma);
	vma->vm_flags = (vma->vm_flags & ~clear) | set;
	mmap_write_unlock(mm);
}

/*
 * vma_can_userfault: anonymous memory; file-backed, VM_IO and VM_PFNMAP VMAs give
 * -EINVAL, and so does WP on shared memory; a VMA without VM_MAYWRITE -EPERM; a
 * range that meets such a VMA registers nothing at all.
 */
static void test_register_bad_vmas(void **state)
{
	struct env e;
	uint64_t a, s;

	(void)state;
	env_new(&e);
	map_fake_file(e.mm);
	assert_int_equal(gup_uffd_register(e.h, e.u, FILE_BASE, PG, GUP_UFFD_MISSING), -EINVAL);
	assert_int_equal(gup_uffd_unregister(e.h, e.u, FILE_BASE, PG), -EINVAL);
	s = fx_map_anon(e.t, 2, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_SHARED);
	assert_int_equal(gup_uffd_register(e.h, e.u, s, PG, GUP_UFFD_WP), -EINVAL);
	assert_int_equal(gup_uffd_register(e.h, e.u, s, PG, GUP_UFFD_MISSING), 0);
	assert_int_equal(gup_uffd_register(e.h, e.u, s, PG, GUP_UFFD_MISSING | GUP_UFFD_WP),
			 -EINVAL);
	assert_int_equal(gup_uffd_copy(e.h, e.u, s, &s, PG, GUP_UFFD_COPY_WP), -EINVAL);

	a = fx_map_private(e.t, 2);
	set_vm_flags(e.mm, a, VM_IO, 0);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, PG, GUP_UFFD_MISSING), -EINVAL);
	/* Over a good VMA and a bad one: all or nothing. */
	assert_int_equal(a + 2 * PG, s);
	assert_int_equal(gup_uffd_unregister(e.h, e.u, s, 2 * PG), 0);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, 4 * PG, GUP_UFFD_MISSING), -EINVAL);
	assert_int_equal(vma_flags_at(e.mm, s) & VM_UFFD_FLAGS, 0);
	set_vm_flags(e.mm, a, VM_PFNMAP, VM_IO);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, PG, GUP_UFFD_MISSING), -EINVAL);
	set_vm_flags(e.mm, a, 0, VM_PFNMAP | VM_MAYWRITE | VM_WRITE);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, PG, GUP_UFFD_MISSING), -EPERM);
	assert_int_equal(vma_flags_at(e.mm, a) & VM_UFFD_FLAGS, 0);
	assert_int_equal(gup_munmap(e.t, FILE_BASE, 2 * PG), 0);
	env_end(&e);
}

/*
 * Registration splits VMAs at the range's edges and merges them back when the
 * range is unregistered; registering again with the same uffd changes the mode;
 * holes in the range are skipped.
 */
static void test_register_split_merge(void **state)
{
	struct env e;
	uint64_t a, b;

	(void)state;
	env_new(&e);
	a = fx_map_private(e.t, 4);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	assert_int_equal(gup_uffd_register(e.h, e.u, a + PG, 2 * PG, GUP_UFFD_MISSING), 0);
	assert_int_equal(fx_nr_vmas(e.t), 3);
	assert_int_equal(vma_flags_at(e.mm, a) & VM_UFFD_FLAGS, 0);
	assert_int_equal(vma_flags_at(e.mm, a + PG) & VM_UFFD_FLAGS, VM_UFFD_MISSING);
	assert_int_equal(vma_flags_at(e.mm, a + 2 * PG) & VM_UFFD_FLAGS, VM_UFFD_MISSING);
	assert_ptr_equal(vma_uffd_at(e.mm, a + 2 * PG), e.u);
	assert_int_equal(vma_flags_at(e.mm, a + 3 * PG) & VM_UFFD_FLAGS, 0);
	assert_int_equal(atomic_read(&e.u->vma_refs), 1);
	fx_check(e.w);

	/* The same uffd again: a new mode, the same VMAs. */
	assert_int_equal(gup_uffd_register(e.h, e.u, a + PG, 2 * PG,
					   GUP_UFFD_MISSING | GUP_UFFD_WP), 0);
	assert_int_equal(fx_nr_vmas(e.t), 3);
	assert_int_equal(vma_flags_at(e.mm, a + PG) & VM_UFFD_FLAGS, VM_UFFD_FLAGS);
	/* Part of it: the registered VMA splits, and merges back when it matches again. */
	assert_int_equal(gup_uffd_register(e.h, e.u, a + PG, PG, GUP_UFFD_WP), 0);
	assert_int_equal(fx_nr_vmas(e.t), 4);
	assert_int_equal(atomic_read(&e.u->vma_refs), 2);
	assert_int_equal(gup_uffd_register(e.h, e.u, a + PG, PG,
					   GUP_UFFD_MISSING | GUP_UFFD_WP), 0);
	assert_int_equal(fx_nr_vmas(e.t), 3);

	assert_int_equal(gup_uffd_unregister(e.h, e.u, a, 4 * PG), 0);
	assert_int_equal(fx_nr_vmas(e.t), 1);
	assert_int_equal(atomic_read(&e.u->vma_refs), 0);
	assert_int_equal(vma_flags_at(e.mm, a + PG) & VM_UFFD_FLAGS, 0);
	/* Unregistering what is not registered is fine. */
	assert_int_equal(gup_uffd_unregister(e.h, e.u, a, 4 * PG), 0);

	/* Across a hole: both VMAs, nothing in between. */
	b = a + 8 * PG;
	assert_int_equal(gup_mmap(e.t, b, 2 * PG, GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED, &b), 0);
	assert_int_equal(gup_uffd_register(e.h, e.u, a + 3 * PG, 6 * PG, GUP_UFFD_MISSING), 0);
	assert_int_equal(vma_flags_at(e.mm, a + 3 * PG) & VM_UFFD_FLAGS, VM_UFFD_MISSING);
	assert_int_equal(vma_flags_at(e.mm, b) & VM_UFFD_FLAGS, VM_UFFD_MISSING);
	assert_int_equal(vma_flags_at(e.mm, b + PG) & VM_UFFD_FLAGS, 0);
	assert_int_equal(fx_nr_vmas(e.t), 4);
	fx_check(e.w);
	assert_int_equal(gup_uffd_close(e.h, e.u), 0);
	assert_int_equal(fx_nr_vmas(e.t), 2);	/* merged back on close */
	env_end(&e);
}

/* One uffd per VMA: another uffd gets -EBUSY and cannot unregister it either. */
static void test_register_double(void **state)
{
	struct gup_uffd *u2 = NULL;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	assert_int_equal(gup_uffd_create(e.mm, &u2), 0);
	assert_int_equal(gup_uffd_register(e.h, u2, a, 2 * PG, GUP_UFFD_MISSING), -EBUSY);
	assert_int_equal(gup_uffd_register(e.h, u2, a + PG, PG, GUP_UFFD_WP), -EBUSY);
	assert_int_equal(gup_uffd_unregister(e.h, u2, a, PG), -EBUSY);
	assert_int_equal(gup_uffd_zeropage(e.h, u2, a, PG, 0), -ENOENT);	/* not u2's */
	assert_int_equal(fx_nr_vmas(e.t), 1);
	assert_ptr_equal(vma_uffd_at(e.mm, a), e.u);
	/* Closing u2 leaves u's registration alone. */
	assert_int_equal(gup_uffd_close(e.h, u2), 0);
	assert_ptr_equal(vma_uffd_at(e.mm, a), e.u);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a, 2 * PG, 0), 2 * PG);
	env_end(&e);
}

/*
 * UFFDIO_COPY without a waiter: the pages are new exclusive anon pages, writable
 * in a writable VMA, holding the bytes given; accesses then take no fault.
 */
static void test_copy_fills(void **state)
{
	uint8_t buf[2 * GUP_PAGE_SIZE];
	struct env e;
	uint64_t a, pte;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 3, GUP_UFFD_MISSING);
	fx_pattern_page(buf, SEED, a);
	fx_pattern_page(buf + PG, SEED, a + PG);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a, buf, 2 * PG, 0), 2 * PG);
	pte = fx_pte(e.t, a);
	assert_true(pte & PTE_PRESENT);
	assert_true(pte & PTE_WRITE);
	assert_false(pte & PTE_UFFD_WP);
	assert_true(gup_page_anon_exclusive((struct gup_page *)fx_page_at(e.t, a)));
	assert_int_equal(fx_rss(e.t), 2);
	fx_check_pages(e.t, a, 2, SEED);
	fx_store_u64(e.t, a, 42);
	assert_int_equal(fx_load_u64(e.t, a), 42);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_COPY), 2);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_FAULT), 0);
	no_message(&e);
	fx_check(e.w);
	env_end(&e);
}

/* UFFDIO_COPY's errors, and its short count at the first page already mapped. */
static void test_copy_errors(void **state)
{
	uint8_t buf[3 * GUP_PAGE_SIZE];
	struct env e;
	uint64_t a, p;

	(void)state;
	env_new(&e);
	memset(buf, 0x11, sizeof(buf));
	a = map_registered(&e, 3, GUP_UFFD_MISSING);
	p = fx_map_private(e.t, 1);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a + 1, buf, PG, 0), -EINVAL);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a, buf, PG - 1, 0), -EINVAL);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a, buf, 0, 0), -EINVAL);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a, buf, PG, 1u << 2), -EINVAL);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a, buf, PG, GUP_UFFD_COPY_WP), -EINVAL);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a, NULL, PG, 0), -EFAULT);
	assert_int_equal(gup_uffd_copy(NULL, e.u, a, buf, PG, 0), -EINVAL);
	assert_int_equal(gup_uffd_copy(e.h, NULL, a, buf, PG, 0), -EINVAL);
	/* Not registered, or not inside one registered VMA. */
	assert_int_equal(gup_uffd_copy(e.h, e.u, p, buf, PG, 0), -ENOENT);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a + 2 * PG, buf, 2 * PG, 0), -ENOENT);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a + 64 * PG, buf, PG, 0), -ENOENT);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a, PG, 1u << 1), -EINVAL);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, p, PG, 0), -ENOENT);

	/* Onto a mapped page: -EEXIST, and the page is untouched. */
	assert_int_equal(gup_uffd_copy(e.h, e.u, a + PG, buf, PG, 0), PG);
	memset(buf, 0x22, sizeof(buf));
	assert_int_equal(gup_uffd_copy(e.h, e.u, a + PG, buf, PG, 0), -EEXIST);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a + PG, PG, 0), -EEXIST);
	/* Stops there: a short count. */
	assert_int_equal(gup_uffd_copy(e.h, e.u, a, buf, 3 * PG, 0), PG);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a + PG, 2 * PG, 0), -EEXIST);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a + 2 * PG, PG, 0), PG);
	assert_int_equal(fx_load_u64(e.t, a), UINT64_C(0x2222222222222222));
	assert_int_equal(fx_load_u64(e.t, a + PG), UINT64_C(0x1111111111111111));
	assert_int_equal(fx_load_u64(e.t, a + 2 * PG), 0);
	/* An existing zero-page mapping counts as mapped, too. */
	assert_int_equal(gup_uffd_copy(e.h, e.u, a + 2 * PG, buf, PG, 0), -EEXIST);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_COPY), 2);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_ZEROPAGE), 1);
	env_end(&e);
}

/* UFFDIO_ZEROPAGE maps the shared zero page R/O; a later write COWs it. */
static void test_zeropage_maps_zero_page(void **state)
{
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a, 2 * PG, 0), 2 * PG);
	assert_int_equal(fx_pfn(e.t, a), 0);
	assert_int_equal(fx_pfn(e.t, a + PG), 0);
	assert_int_equal(fx_rss(e.t), 0);
	fx_check_zero_pages(e.t, a, 2);
	fx_store_u64(e.t, a, 5);	/* a WP fault on the zero page: no uffd involved */
	assert_true(fx_pfn(e.t, a) > 0);
	assert_int_equal(delta(&e, GUP_STAT_COW_ZERO), 1);
	no_message(&e);
	env_end(&e);
}

/* An operation by a task that holds the uffd's mmap lock would deadlock: refused. */
static void test_op_holding_mmap_lock(void **state)
{
	uint8_t buf[GUP_PAGE_SIZE] = { 0 };
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 1, GUP_UFFD_MISSING | GUP_UFFD_WP);
	assert_int_equal(gup_mmap_read_lock(e.h, e.mm), 0);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a, buf, PG, 0), -EDEADLK);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a, PG, 0), -EDEADLK);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, PG, GUP_UFFD_MISSING), -EDEADLK);
	assert_int_equal(gup_uffd_unregister(e.h, e.u, a, PG), -EDEADLK);
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a, PG, 0), -EDEADLK);
	assert_int_equal(gup_uffd_close(e.h, e.u), -EDEADLK);
	/* Read and wake take no mmap lock. */
	assert_int_equal(gup_uffd_wake(e.u, a, PG), 0);
	no_message(&e);
	gup_mmap_read_unlock(e.h, e.mm);
	assert_int_equal(gup_uffd_copy(e.h, e.u, a, buf, PG, 0), PG);
	env_end(&e);
}

/* A killed caller's operation that must wait for the mmap lock gives up: -EINTR. */
static void test_op_killed_caller(void **state)
{
	uint8_t buf[GUP_PAGE_SIZE] = { 0 };
	struct gup_task *k;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 1, GUP_UFFD_MISSING);
	k = fx_task_new(e.w);
	gup_task_kill(k);
	assert_int_equal(gup_mmap_write_lock(e.tr, e.mm), 0);	/* contended: k must wait */
	assert_int_equal(gup_uffd_copy(k, e.u, a, buf, PG, 0), -EINTR);
	assert_int_equal(gup_uffd_register(k, e.u, a, PG, GUP_UFFD_WP), -EINTR);
	gup_mmap_write_unlock(e.tr, e.mm);
	gup_task_exit(k);
	assert_int_equal(vma_flags_at(e.mm, a) & VM_UFFD_FLAGS, VM_UFFD_MISSING);
	env_end(&e);
}

/* gup_uffd_read's timeouts and arguments. */
static void test_read_timeout(void **state)
{
	struct gup_uffd_msg m;
	struct env e;
	uint64_t t0;

	(void)state;
	env_new(&e);
	assert_int_equal(gup_uffd_read(e.u, &m, 0), -EAGAIN);
	t0 = fx_now_ns();
	assert_int_equal(gup_uffd_read(e.u, &m, 2 * 1000 * 1000), -ETIMEDOUT);
	assert_true(fx_now_ns() - t0 >= 2 * 1000 * 1000);
	assert_int_equal(gup_uffd_read(NULL, &m, 0), -EINVAL);
	assert_int_equal(gup_uffd_read(e.u, NULL, 0), -EINVAL);
	assert_int_equal(gup_uffd_wake(NULL, GUP_MMAP_MIN, PG), -EINVAL);
	assert_int_equal(gup_uffd_wake(e.u, GUP_MMAP_MIN + 1, PG), -EINVAL);
	assert_int_equal(gup_uffd_wake(e.u, GUP_MMAP_MIN, 0), -EINVAL);
	env_end(&e);
}

/*
 * fork (no UFFD_FEATURE_EVENT_FORK): the child's VMAs are not registered and
 * carry no uffd-wp markers; its faults are ordinary.  The parent is unchanged.
 */
static void test_fork_child_unregistered(void **state)
{
	struct gup_page *pages[1];
	struct gup_task *child;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 3, GUP_UFFD_MISSING | GUP_UFFD_WP);
	assert_int_equal(copy_pattern(&e, a, SEED, GUP_UFFD_COPY_WP), PG);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a + PG, PG, 0), PG);
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a + PG, PG, GUP_UFFD_WRITEPROTECT_WP), 0);
	assert_true(fx_pte(e.t, a) & PTE_UFFD_WP);
	assert_true(fx_pte(e.t, a + PG) & PTE_UFFD_WP);

	child = fx_fork(e.t);
	assert_int_equal(vma_flags_at(gup_task_mm(child), a) & VM_UFFD_FLAGS, 0);
	assert_null(vma_uffd_at(gup_task_mm(child), a));
	assert_false(fx_pte(child, a) & PTE_UFFD_WP);
	assert_false(fx_pte(child, a + PG) & PTE_UFFD_WP);
	assert_int_equal(atomic_read(&e.u->vma_refs), 1);
	fx_check(e.w);
	/* The child's faults: a COW, a zero-page COW, a missing page; no message. */
	fx_store_u64(child, a, 1);
	fx_store_u64(child, a + PG, 2);
	fx_check_zero_pages(child, a + 2 * PG, 1);
	no_message(&e);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_FAULT) + delta(&e, GUP_STAT_UFFD_WP_FAULT), 0);
	/* The parent's pages are still armed: a write cannot proceed without waiting. */
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_get_user_pages(e.t, a, 1, F_WRITE, pages), -EFAULT);
	assert_int_equal(gup_get_user_pages(e.t, a + 2 * PG, 1, 0, pages), -EFAULT);
	gup_mmap_read_unlock(e.t, e.mm);
	assert_true(fx_pte(e.t, a) & PTE_UFFD_WP);
	fx_check_pages(e.t, a, 1, SEED);
	gup_task_exit(child);
	env_end(&e);
}

/*
 * UFFDIO_WRITEPROTECT arms present pages only (R/O + marker, TLBs flushed),
 * needs a WP registration with this uffd, and resolving drops the marker but not
 * the protection; mprotect cannot make an armed PTE writable; reads go on.
 */
static void test_writeprotect_sequential(void **state)
{
	struct gup_page *pages[1];
	struct env e;
	uint64_t a, m;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_WP);
	m = map_registered(&e, 1, GUP_UFFD_MISSING);
	fx_fill_pages(e.t, a, 1, SEED);
	assert_true(fx_pte(e.t, a) & PTE_WRITE);
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a, PG, 1u << 2), -EINVAL);
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a, PG, GUP_UFFD_WRITEPROTECT_WP |
					       GUP_UFFD_WRITEPROTECT_DONTWAKE), -EINVAL);
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a + 1, PG, GUP_UFFD_WRITEPROTECT_WP),
			 -EINVAL);
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, m, PG, GUP_UFFD_WRITEPROTECT_WP),
			 -ENOENT);
	/* All or nothing: m's VMA is not WP-registered, so a is not armed either. */
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, m, 3 * PG, GUP_UFFD_WRITEPROTECT_WP),
			 -ENOENT);
	assert_true(fx_pte(e.t, a) & PTE_WRITE);
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a + 64 * PG, PG, 0), -ENOENT);

	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a, 2 * PG, GUP_UFFD_WRITEPROTECT_WP), 0);
	assert_int_equal(fx_pte(e.t, a) & (PTE_WRITE | PTE_UFFD_WP), PTE_UFFD_WP);
	assert_int_equal(fx_pte(e.t, a + PG), 0);	/* not present: not armed */
	fx_check_pages(e.t, a, 1, SEED);		/* reads are fine */
	assert_int_equal(gup_mprotect(e.t, a, 2 * PG, GUP_PROT_READ), 0);
	assert_int_equal(gup_mprotect(e.t, a, 2 * PG, GUP_PROT_READ | GUP_PROT_WRITE), 0);
	assert_int_equal(fx_pte(e.t, a) & (PTE_WRITE | PTE_UFFD_WP), PTE_UFFD_WP);
	/* Writes cannot wait here; a R/O reference is fine. */
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_get_user_pages(e.t, a, 1, F_WRITE, pages), -EFAULT);
	assert_int_equal(gup_get_user_pages(e.t, a, 1, F_WRITE | GUP_FOLL_FORCE, pages), -EFAULT);
	assert_int_equal(gup_get_user_pages(e.t, a, 1, 0, pages), 1);
	gup_mmap_read_unlock(e.t, e.mm);
	gup_put_page(pages[0]);
	assert_int_equal(gup_get_user_pages_fast_only(e.t, a, 1, F_WRITE, pages), 0);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_SIGBUS), 2);
	fx_check(e.w);

	/* Resolve: the marker goes, the PTE stays R/O, the next write just faults. */
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a, 2 * PG, 0), 0);
	assert_int_equal(fx_pte(e.t, a) & (PTE_WRITE | PTE_UFFD_WP), 0);
	fx_store_u64(e.t, a, 9);
	assert_true(fx_pte(e.t, a) & PTE_WRITE);
	assert_int_equal(delta(&e, GUP_STAT_COW_REUSE), 1);
	no_message(&e);
	env_end(&e);
}

/* Unregistering (and re-registering without WP) drops the markers. */
static void test_unregister_drops_markers(void **state)
{
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_WP | GUP_UFFD_MISSING);
	assert_int_equal(copy_pattern(&e, a, SEED, GUP_UFFD_COPY_WP), PG);
	assert_int_equal(copy_pattern(&e, a + PG, SEED, GUP_UFFD_COPY_WP), PG);
	assert_int_equal(fx_pte(e.t, a) & (PTE_WRITE | PTE_UFFD_WP), PTE_UFFD_WP);
	assert_int_equal(gup_uffd_register(e.h, e.u, a, PG, GUP_UFFD_MISSING), 0);
	assert_false(fx_pte(e.t, a) & PTE_UFFD_WP);
	assert_true(fx_pte(e.t, a + PG) & PTE_UFFD_WP);
	assert_int_equal(gup_uffd_unregister(e.h, e.u, a + PG, PG), 0);
	assert_false(fx_pte(e.t, a + PG) & PTE_UFFD_WP);
	fx_fill_pages(e.t, a, 2, SEED + 1);
	fx_check_pages(e.t, a, 2, SEED + 1);
	no_message(&e);
	env_end(&e);
}

/* ------------------------------------------------------------------------ */
/* 2. GUP that cannot wait                                                  */
/* ------------------------------------------------------------------------ */

/*
 * linux_anchor invariant 7: without FOLL_UNLOCKABLE there is no ALLOW_RETRY, so a
 * uffd fault is VM_FAULT_SIGBUS and GUP returns -EFAULT (pages before it: a short
 * count).  Nothing is queued: no message.
 */
static void test_gup_locked_efault(void **state)
{
	struct gup_page *pages[2];
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_get_user_pages(e.t, a, 1, 0, pages), -EFAULT);
	assert_int_equal(gup_pin_user_pages(e.t, a, 1, F_WRITE, pages), -EFAULT);
	gup_mmap_read_unlock(e.t, e.mm);
	assert_int_equal(gup_mmap_read_lock(e.tr, e.mm), 0);
	assert_int_equal(gup_get_user_pages_remote(e.tr, e.mm, a, 1, 0, pages, NULL), -EFAULT);
	assert_int_equal(gup_pin_user_pages_remote(e.tr, e.mm, a, 1, 0, pages, NULL), -EFAULT);
	gup_mmap_read_unlock(e.tr, e.mm);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_SIGBUS), 4);

	assert_int_equal(copy_pattern(&e, a, SEED, 0), PG);
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_get_user_pages(e.t, a, 2, 0, pages), 1);	/* short */
	gup_mmap_read_unlock(e.t, e.mm);
	assert_page_pattern(pages[0], SEED, a);
	gup_put_page(pages[0]);
	no_message(&e);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_FAULT), 0);
	assert_true(mmap_lock_free(e.mm));
	env_end(&e);
}

/*
 * linux_anchor 1.4: FOLL_NOWAIT gives ALLOW_RETRY|RETRY_NOWAIT: the uffd fault
 * returns VM_FAULT_RETRY at once with the lock kept, nothing queued; GUP returns
 * what it had (a short count, or 0) and *locked stays 1.
 */
static void test_gup_nowait_short(void **state)
{
	struct gup_page *pages[3] = { NULL, NULL, NULL };
	struct env e;
	int locked = 1;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 3, GUP_UFFD_MISSING);
	assert_int_equal(copy_pattern(&e, a, SEED, 0), PG);
	assert_int_equal(gup_mmap_read_lock(e.tr, e.mm), 0);
	assert_int_equal(gup_get_user_pages_remote(e.tr, e.mm, a, 3, F_NOWAIT, pages, &locked), 1);
	assert_int_equal(locked, 1);
	assert_true(task_holds_mmap_lock(e.tr, e.mm));
	assert_null(pages[1]);
	gup_put_page(pages[0]);
	assert_int_equal(gup_pin_user_pages_remote(e.tr, e.mm, a + PG, 2, F_NOWAIT, pages,
						   &locked), 0);
	assert_int_equal(locked, 1);
	gup_mmap_read_unlock(e.tr, e.mm);
	assert_int_equal(gup_mmap_read_lock(e.t, e.mm), 0);
	assert_int_equal(gup_get_user_pages(e.t, a, 2, F_NOWAIT, pages), 1);
	gup_mmap_read_unlock(e.t, e.mm);
	assert_page_pattern(pages[0], SEED, a);
	gup_put_page(pages[0]);
	no_message(&e);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_FAULT) + delta(&e, GUP_STAT_UFFD_SIGBUS), 0);
	assert_int_equal(fx_pte(e.t, a + PG), 0);
	env_end(&e);
}

/* ------------------------------------------------------------------------ */
/* 3. Faults that wait for the handler                                      */
/* ------------------------------------------------------------------------ */

/*
 * A read in a registered range blocks; the handler reads the message (the page,
 * no WRITE flag, the faulting task), fills the page with UFFDIO_COPY; the reader
 * then sees exactly those bytes.  The counters say: one fault, one copy, one wake.
 */
static void test_load_waits_for_copy(void **state)
{
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	faulter_start(&f, &e, e.t, OP_LOAD, a + PG + 100, 200);
	await_blocked(&e, &f, a + PG, 0);
	no_message(&e);		/* reported once */
	assert_int_equal(copy_pattern(&e, a + PG, SEED, 0), PG);
	faulter_join(&f);
	assert_int_equal(f.ret, 0);
	assert_pattern(f.buf, SEED, a + PG + 100, 200);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_FAULT), 1);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_COPY), 1);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_WAKE), 1);
	assert_int_equal(fx_pte(e.t, a), 0);
	env_end(&e);
}

/* A write blocks too (the message has WRITE); it lands on the copied page. */
static void test_store_waits_for_copy(void **state)
{
	uint8_t want[GUP_PAGE_SIZE], got[GUP_PAGE_SIZE];
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 1, GUP_UFFD_MISSING);
	faulter_init(&f, &e, e.t, OP_STORE, a + 8, 16);
	memset(f.buf, 0xee, 16);
	faulter_run(&f);
	await_blocked(&e, &f, a, GUP_UFFD_PAGEFAULT_FLAG_WRITE);
	assert_int_equal(copy_pattern(&e, a, SEED, 0), PG);
	faulter_join(&f);
	assert_int_equal(f.ret, 0);
	fx_pattern_page(want, SEED, a);
	memset(want + 8, 0xee, 16);
	assert_int_equal(gup_load(e.t, a, got, PG), 0);
	assert_memory_equal(got, want, PG);
	env_end(&e);
}

/*
 * While the task waits, its mmap lock is really free: a writer gets it at once,
 * another task maps and unmaps, and the access completes only after the copy.
 */
static void test_wait_releases_mmap_lock(void **state)
{
	struct gup_task *t2;
	struct faulter f;
	struct fx_spin s;
	struct env e;
	uint64_t a, b;
	bool got;

	(void)state;
	env_new(&e);
	t2 = fx_task_add(e.mm);
	a = map_registered(&e, 1, GUP_UFFD_MISSING);
	faulter_start(&f, &e, e.t, OP_LOAD, a, 8);
	expect_fault(&e, a, 0, e.t);
	/* The message is queued just before the lock goes: give it a moment. */
	fx_spin_begin(&s, FX_WAIT_NS, 16);
	while (!(got = mmap_lock_free(e.mm)) && fx_spin(&s))
		;
	assert_true(got);
	assert_false(task_holds_mmap_lock(e.t, e.mm));	/* its record agrees */
	assert_int_equal(gup_mmap_write_lock(t2, e.mm), 0);
	gup_mmap_write_unlock(t2, e.mm);
	b = fx_map_private(t2, 4);
	fx_fill_pages(t2, b, 4, SEED);
	assert_int_equal(gup_munmap(t2, b, 4 * PG), 0);
	assert_blocked(&f);
	assert_int_equal(copy_pattern(&e, a, SEED, 0), PG);
	faulter_join(&f);
	assert_int_equal(f.ret, 0);
	assert_pattern(f.buf, SEED, a, 8);
	gup_task_exit(t2);
	env_end(&e);
}

/*
 * get_user_pages_unlocked waits in each missing page (lock dropped, the page
 * retried with FOLL_TRIED), and returns both pages with the handler's bytes.
 */
static void test_gup_unlocked_waits(void **state)
{
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	faulter_start(&f, &e, e.t, OP_GET_UNLOCKED, a, 2);
	await_blocked(&e, &f, a, 0);
	assert_int_equal(copy_pattern(&e, a, SEED, 0), PG);
	expect_fault(&e, a + PG, 0, e.t);
	assert_int_equal(copy_pattern(&e, a + PG, SEED, 0), PG);
	faulter_join(&f);
	assert_int_equal(f.ret, 2);
	assert_page_pattern(f.pages[0], SEED, a);
	assert_page_pattern(f.pages[1], SEED, a + PG);
	gup_put_page(f.pages[0]);
	gup_put_page(f.pages[1]);
	assert_int_equal(delta(&e, GUP_STAT_GUP_RETRY), 2);
	assert_true(mmap_lock_free(e.mm));
	env_end(&e);
}

/*
 * pin_user_pages_fast: the lockless walk takes the present page and stops at the
 * missing one; the fallback (FOLL_UNLOCKABLE) waits for the handler; the pins
 * cover both pages and hold the handler's bytes.  With FOLL_WRITE the fault is a
 * write fault.
 */
static void test_pin_fast_fallback_waits(void **state)
{
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	assert_int_equal(copy_pattern(&e, a, SEED, 0), PG);
	faulter_init(&f, &e, e.t, OP_PIN_FAST, a, 2);
	f.flags = F_WRITE;
	faulter_run(&f);
	await_blocked(&e, &f, a + PG, GUP_UFFD_PAGEFAULT_FLAG_WRITE);
	assert_int_equal(copy_pattern(&e, a + PG, SEED + 1, 0), PG);
	faulter_join(&f);
	assert_int_equal(f.ret, 2);
	assert_page_pattern(f.pages[0], SEED, a);
	assert_page_pattern(f.pages[1], SEED + 1, a + PG);
	assert_true(gup_page_maybe_dma_pinned(f.pages[1]));
	assert_int_equal(delta(&e, GUP_STAT_GUP_FAST_FALLBACK), 1);
	assert_int_equal(delta(&e, GUP_STAT_GUP_FAST_PAGES), 1);
	fx_check(e.w);
	gup_unpin_user_pages(f.pages, 2);
	env_end(&e);
}

/*
 * _remote with `locked`: the tracer's lock is dropped for the wait, and GUP
 * returns with it released and *locked == 0 (linux_anchor 1.8).
 */
static void test_gup_remote_locked_waits(void **state)
{
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	/* Held for read, as Linux requires; and for write, which the model tolerates. */
	for (int i = 0; i < 2; i++) {
		uint64_t va = a + (uint64_t)i * PG;

		faulter_init(&f, &e, e.tr, OP_GET_REMOTE_LOCKED, va, 1);
		f.write_lock = i;
		faulter_run(&f);
		await_blocked(&e, &f, va, 0);
		assert_int_equal(copy_pattern(&e, va, SEED, 0), PG);
		faulter_join(&f);
		assert_int_equal(f.ret, 1);
		assert_int_equal(f.locked, 0);
		assert_true(f.lock_free_after);
		assert_true(mmap_lock_free(e.mm));
		assert_page_pattern(f.pages[0], SEED, va);
		gup_put_page(f.pages[0]);
	}
	env_end(&e);
}

/*
 * fixup_user_fault with `unlocked` lets the uffd fault drop the lock and wait; it
 * comes back with the lock re-taken and *unlocked set.  Without `unlocked` it
 * cannot wait: -EFAULT.
 */
static void test_fixup_waits(void **state)
{
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	assert_int_equal(gup_mmap_read_lock(e.tr, e.mm), 0);
	assert_int_equal(gup_fixup_user_fault(e.tr, e.mm, a, GUP_FAULT_FLAG_WRITE, NULL),
			 -EFAULT);
	gup_mmap_read_unlock(e.tr, e.mm);
	faulter_init(&f, &e, e.tr, OP_FIXUP, a + PG, 0);
	f.flags = GUP_FAULT_FLAG_WRITE;
	faulter_run(&f);
	await_blocked(&e, &f, a + PG, GUP_UFFD_PAGEFAULT_FLAG_WRITE);
	assert_true(mmap_lock_free(e.mm));
	assert_int_equal(copy_pattern(&e, a + PG, SEED, 0), PG);
	faulter_join(&f);
	assert_int_equal(f.ret, 0);
	assert_true(f.unlocked);
	assert_false(f.lock_free_after);	/* re-taken, and recorded as held */
	assert_true(fx_pte(e.t, a + PG) & PTE_WRITE);
	env_end(&e);
}

/* UFFDIO_ZEROPAGE resolves a waiting read: zeroes, through the zero page. */
static void test_zeropage_wakes(void **state)
{
	uint8_t zero[64] = { 0 };
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 1, GUP_UFFD_MISSING);
	faulter_start(&f, &e, e.t, OP_LOAD, a, 64);
	await_blocked(&e, &f, a, 0);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a, PG, 0), PG);
	faulter_join(&f);
	assert_int_equal(f.ret, 0);
	assert_memory_equal(f.buf, zero, 64);
	assert_int_equal(fx_pfn(e.t, a), 0);
	env_end(&e);
}

/*
 * COPY with DONTWAKE leaves the task asleep until UFFDIO_WAKE; a wake of a page
 * still missing makes it fault again (a second message).
 */
static void test_dontwake_and_wake(void **state)
{
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	faulter_start(&f, &e, e.t, OP_LOAD, a, 2 * PG);
	expect_fault(&e, a, 0, e.t);
	/* A wake with nothing filled: the task retries and faults again. */
	assert_int_equal(gup_uffd_wake(e.u, a, PG), 0);
	expect_fault(&e, a, 0, e.t);
	assert_int_equal(copy_pattern(&e, a, SEED, GUP_UFFD_COPY_DONTWAKE), PG);
	assert_blocked(&f);
	assert_int_equal(gup_uffd_wake(e.u, a + PG, PG), 0);	/* another range */
	assert_blocked(&f);
	assert_int_equal(gup_uffd_wake(e.u, a, PG), 0);
	expect_fault(&e, a + PG, 0, e.t);
	assert_int_equal(copy_pattern(&e, a + PG, SEED, 0), PG);
	faulter_join(&f);
	assert_int_equal(f.ret, 0);
	assert_pattern(f.buf, SEED, a, PG);
	assert_pattern(f.buf + PG, SEED, a + PG, PG);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_FAULT), 3);
	env_end(&e);
}

/*
 * uffd-wp: a write to an armed page blocks (message WRITE|WP) while reads by
 * another task go on; resolving wakes the writer, whose bytes then land on the
 * page it had.
 */
static void test_wp_write_waits(void **state)
{
	uint8_t got[GUP_PAGE_SIZE];
	struct gup_task *t2;
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	t2 = fx_task_add(e.mm);
	a = map_registered(&e, 1, GUP_UFFD_WP);
	fx_fill_pages(e.t, a, 1, SEED);
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a, PG, GUP_UFFD_WRITEPROTECT_WP), 0);
	faulter_init(&f, &e, e.t, OP_STORE, a + 16, 8);
	memset(f.buf, 0x77, 8);
	faulter_run(&f);
	await_blocked(&e, &f, a, GUP_UFFD_PAGEFAULT_FLAG_WRITE | GUP_UFFD_PAGEFAULT_FLAG_WP);
	fx_check_pages(t2, a, 1, SEED);		/* a reader is not held up */
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a, PG, GUP_UFFD_WRITEPROTECT_DONTWAKE), 0);
	assert_blocked(&f);
	assert_int_equal(gup_uffd_wake(e.u, a, PG), 0);
	faulter_join(&f);
	assert_int_equal(f.ret, 0);
	assert_int_equal(gup_load(t2, a, got, PG), 0);
	assert_pattern(got, SEED, a, 16);
	assert_int_equal(got[16], 0x77);
	assert_pattern(got + 24, SEED, a + 24, PG - 24);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_WP_FAULT), 1);
	assert_int_equal(delta(&e, GUP_STAT_COW_REUSE), 1);
	gup_task_exit(t2);
	env_end(&e);
}

/* A page copied in WP mode is armed: the first write to it is a WP fault. */
static void test_copy_wp_mode(void **state)
{
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 1, GUP_UFFD_MISSING | GUP_UFFD_WP);
	faulter_init(&f, &e, e.t, OP_STORE, a, 8);
	memset(f.buf, 0x33, 8);
	faulter_run(&f);
	expect_fault(&e, a, GUP_UFFD_PAGEFAULT_FLAG_WRITE, e.t);
	assert_int_equal(copy_pattern(&e, a, SEED, GUP_UFFD_COPY_WP), PG);
	await_blocked(&e, &f, a, GUP_UFFD_PAGEFAULT_FLAG_WRITE | GUP_UFFD_PAGEFAULT_FLAG_WP);
	assert_int_equal(gup_uffd_writeprotect(e.h, e.u, a, PG, 0), 0);
	faulter_join(&f);
	assert_int_equal(f.ret, 0);
	assert_int_equal(fx_load_u64(e.t, a), UINT64_C(0x3333333333333333));
	assert_int_equal(gup_load(e.t, a + 8, f.buf, PG - 8), 0);
	assert_pattern(f.buf, SEED, a + 8, PG - 8);
	env_end(&e);
}

/*
 * Close wakes everyone: a waiting reader of messages gets -EBADF, a faulting
 * task retries and, the registration being gone, faults normally (zeroes).
 */
static void test_close_wakes_waiters(void **state)
{
	uint8_t zero[32] = { 0 };
	struct faulter f, r;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	faulter_init(&f, &e, e.t, OP_STORE, a, 8);
	memset(f.buf, 0x44, 8);
	faulter_run(&f);
	await_blocked(&e, &f, a, GUP_UFFD_PAGEFAULT_FLAG_WRITE);
	faulter_start(&r, &e, e.h, OP_READ_MSG, 0, 0);
	assert_blocked(&r);
	assert_int_equal(gup_uffd_close(e.h, e.u), 0);
	faulter_join(&f);
	faulter_join(&r);
	assert_int_equal(f.ret, 0);
	assert_int_equal(r.ret, -EBADF);
	assert_int_equal(fx_load_u64(e.t, a), UINT64_C(0x4444444444444444));
	assert_int_equal(gup_load(e.t, a + 8, f.buf, 32), 0);
	assert_memory_equal(f.buf, zero, 32);
	assert_int_equal(vma_flags_at(e.mm, a) & VM_UFFD_FLAGS, 0);
	env_end(&e);
}

/* Two tasks fault on one page: two messages; one copy wakes both. */
static void test_two_waiters_one_page(void **state)
{
	struct gup_task *t2;
	struct faulter f, g;
	struct gup_uffd_msg m1, m2;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	t2 = fx_task_add(e.mm);
	a = map_registered(&e, 1, GUP_UFFD_MISSING);
	faulter_start(&f, &e, e.t, OP_LOAD, a, 64);
	faulter_start(&g, &e, t2, OP_GET_UNLOCKED, a, 1);
	assert_int_equal(gup_uffd_read(e.u, &m1, FX_WAIT_NS), 0);
	assert_int_equal(gup_uffd_read(e.u, &m2, FX_WAIT_NS), 0);
	assert_int_equal(m1.address, a);
	assert_int_equal(m2.address, a);
	assert_int_not_equal(m1.task_id, m2.task_id);
	assert_blocked(&f);
	assert_blocked(&g);
	assert_int_equal(copy_pattern(&e, a, SEED, 0), PG);
	assert_int_equal(copy_pattern(&e, a, SEED + 1, 0), -EEXIST);	/* the usual race */
	faulter_join(&f);
	faulter_join(&g);
	assert_int_equal(f.ret, 0);
	assert_pattern(f.buf, SEED, a, 64);
	assert_int_equal(g.ret, 1);
	assert_page_pattern(g.pages[0], SEED, a);
	gup_put_page(g.pages[0]);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_WAKE), 2);
	gup_task_exit(t2);
	env_end(&e);
}

/* Unregistering wakes the range's waiters (Linux does, so they never hang). */
static void test_unregister_wakes_waiters(void **state)
{
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, 1, GUP_UFFD_MISSING);
	faulter_start(&f, &e, e.t, OP_GET_UNLOCKED, a, 1);
	await_blocked(&e, &f, a, 0);
	assert_int_equal(gup_uffd_unregister(e.h, e.u, a, PG), 0);
	faulter_join(&f);
	assert_int_equal(f.ret, 1);
	assert_true(gup_page_is_zero(f.pages[0]));
	gup_put_page(f.pages[0]);
	env_end(&e);
}

/* munmap of the range a task waits in wakes it; it finds no VMA: -EFAULT. */
static void test_munmap_wakes_waiters(void **state)
{
	struct gup_task *t2;
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	t2 = fx_task_add(e.mm);
	a = map_registered(&e, 3, GUP_UFFD_MISSING);
	faulter_start(&f, &e, e.t, OP_LOAD, a + PG, 8);
	await_blocked(&e, &f, a + PG, 0);
	assert_int_equal(gup_munmap(t2, a + PG, PG), 0);
	faulter_join(&f);
	assert_int_equal(f.ret, -EFAULT);
	assert_int_equal(atomic_read(&e.u->vma_refs), 2);	/* the two sides */
	gup_task_exit(t2);
	env_end(&e);
}

/*
 * A fatal signal ends the wait: the access returns -EINTR, GUP too, and the
 * unread message goes away with the waiter.
 */
static void test_killed_waiter(void **state)
{
	struct gup_task *k1, *k2;
	struct faulter f, g;
	struct fx_spin s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	k1 = fx_task_add(e.mm);
	k2 = fx_task_add(e.mm);
	a = map_registered(&e, 2, GUP_UFFD_MISSING);
	faulter_start(&f, &e, k1, OP_LOAD, a, 8);
	await_blocked(&e, &f, a, 0);
	gup_task_kill(k1);
	faulter_join(&f);
	assert_int_equal(f.ret, -EINTR);

	faulter_start(&g, &e, k2, OP_GET_UNLOCKED, a + PG, 1);
	/* Wait until it has queued its message (left unread), then kill it. */
	fx_spin_begin(&s, FX_WAIT_NS, 16);
	while (delta(&e, GUP_STAT_UFFD_FAULT) < 2 && fx_spin(&s))
		;
	assert_int_equal(delta(&e, GUP_STAT_UFFD_FAULT), 2);
	assert_blocked(&g);
	gup_task_kill(k2);
	faulter_join(&g);
	assert_int_equal(g.ret, -EINTR);
	no_message(&e);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_FAULT), 2);
	assert_true(mmap_lock_free(e.mm));
	assert_int_equal(fx_pte(e.t, a), 0);
	gup_task_exit(k1);
	gup_task_exit(k2);
	env_end(&e);
}

/*
 * Many tasks fault on their own pages at once; the handler serves messages as
 * they come; each task reads exactly its page's bytes.
 */
#define NR_FAULTERS	6

static void test_many_waiters(void **state)
{
	struct gup_task *ts[NR_FAULTERS];
	struct faulter f[NR_FAULTERS];
	bool served[NR_FAULTERS] = { false };
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_registered(&e, NR_FAULTERS, GUP_UFFD_MISSING);
	for (int i = 0; i < NR_FAULTERS; i++) {
		ts[i] = fx_task_add(e.mm);
		faulter_start(&f[i], &e, ts[i], i % 2 ? OP_LOAD : OP_GET_UNLOCKED,
			      a + (uint64_t)i * PG, i % 2 ? PG : 1);
	}
	for (int n = 0; n < NR_FAULTERS; n++) {
		struct gup_uffd_msg m;
		unsigned i;

		assert_int_equal(gup_uffd_read(e.u, &m, FX_WAIT_NS), 0);
		i = (unsigned)((m.address - a) / PG);
		assert_true(i < NR_FAULTERS);
		assert_false(served[i]);
		assert_int_equal(m.task_id, gup_task_id(ts[i]));
		served[i] = true;
		assert_int_equal(copy_pattern(&e, m.address, SEED + i, 0), PG);
	}
	for (int i = 0; i < NR_FAULTERS; i++) {
		faulter_join(&f[i]);
		if (i % 2) {
			assert_int_equal(f[i].ret, 0);
			assert_pattern(f[i].buf, SEED + (unsigned)i, a + (uint64_t)i * PG, PG);
		} else {
			assert_int_equal(f[i].ret, 1);
			assert_page_pattern(f[i].pages[0], SEED + (unsigned)i,
					    a + (uint64_t)i * PG);
			gup_put_page(f[i].pages[0]);
		}
		gup_task_exit(ts[i]);
	}
	no_message(&e);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_FAULT), NR_FAULTERS);
	env_end(&e);
}

/* ------------------------------------------------------------------------ */
/* 4. Shared anonymous memory                                               */
/* ------------------------------------------------------------------------ */

/* @nr_pages of shared anon memory of t, registered with u for missing faults. */
static uint64_t map_shared_registered(struct env *e, size_t nr_pages)
{
	uint64_t a = fx_map_anon(e->t, nr_pages, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_SHARED);

	assert_int_equal(gup_uffd_register(e->h, e->u, a, nr_pages * PG, GUP_UFFD_MISSING), 0);
	return a;
}

/*
 * MAP_SHARED|MAP_ANONYMOUS: a fault is missing when the shared object has no
 * page; COPY puts the handler's bytes in the object, ZEROPAGE a zeroed page (not
 * the zero page); a fork child shares them.
 */
static void test_shmem_missing(void **state)
{
	struct gup_task *child;
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_shared_registered(&e, 3);
	faulter_start(&f, &e, e.t, OP_LOAD, a, PG);
	await_blocked(&e, &f, a, 0);
	assert_int_equal(copy_pattern(&e, a, SEED, 0), PG);
	faulter_join(&f);
	assert_int_equal(f.ret, 0);
	assert_pattern(f.buf, SEED, a, PG);
	assert_true(fx_pte(e.t, a) & PTE_WRITE);
	assert_int_equal(copy_pattern(&e, a, SEED, 0), -EEXIST);
	assert_int_equal(gup_uffd_zeropage(e.h, e.u, a + PG, PG, 0), PG);
	assert_true(fx_pfn(e.t, a + PG) > 0);
	fx_check_zero_pages(e.t, a + PG, 1);
	fx_check(e.w);

	/* The child maps the same object, unregistered: it sees what was filled. */
	child = fx_fork(e.t);
	assert_int_equal(vma_flags_at(gup_task_mm(child), a) & VM_UFFD_FLAGS, 0);
	fx_check_pages(child, a, 1, SEED);
	assert_int_equal(fx_pfn(child, a), fx_pfn(e.t, a));
	gup_task_exit(child);
	/* DONTNEED drops PTEs, not the object's pages: the refault is no uffd fault. */
	assert_int_equal(gup_madvise(e.t, a, 2 * PG, GUP_MADV_DONTNEED), 0);
	fx_check_pages(e.t, a, 1, SEED);
	no_message(&e);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_FAULT), 1);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_COPY), 1);
	assert_int_equal(delta(&e, GUP_STAT_UFFD_ZEROPAGE), 1);
	env_end(&e);
}

/*
 * A page the (unregistered) fork child brings into the shared object while the
 * parent waits for it: the parent keeps waiting (its PTE is still missing), COPY
 * says -EEXIST, and a WAKE lets the parent map the child's page.
 */
static void test_shmem_filled_by_other_mapping(void **state)
{
	struct gup_task *child;
	struct faulter f;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e);
	a = map_shared_registered(&e, 1);
	child = fx_fork(e.t);
	faulter_start(&f, &e, e.t, OP_LOAD, a, 8);
	expect_fault(&e, a, 0, e.t);
	fx_store_u64(child, a, 0xc0ffee);
	assert_blocked(&f);
	assert_int_equal(copy_pattern(&e, a, SEED, 0), -EEXIST);
	assert_blocked(&f);
	assert_int_equal(gup_uffd_wake(e.u, a, PG), 0);
	faulter_join(&f);
	assert_int_equal(f.ret, 0);
	assert_int_equal(fx_load_u64(e.t, a), 0xc0ffee);
	gup_task_exit(child);
	env_end(&e);
}

int main(void)
{
	const struct CMUnitTest uffd[] = {
		/* 1 */
		cmocka_unit_test(test_create_close),
		cmocka_unit_test(test_uffd_holds_mm),
		cmocka_unit_test(test_register_bad_args),
		cmocka_unit_test(test_register_bad_vmas),
		cmocka_unit_test(test_register_split_merge),
		cmocka_unit_test(test_register_double),
		cmocka_unit_test(test_copy_fills),
		cmocka_unit_test(test_copy_errors),
		cmocka_unit_test(test_zeropage_maps_zero_page),
		cmocka_unit_test(test_op_holding_mmap_lock),
		cmocka_unit_test(test_op_killed_caller),
		cmocka_unit_test(test_read_timeout),
		cmocka_unit_test(test_fork_child_unregistered),
		cmocka_unit_test(test_writeprotect_sequential),
		cmocka_unit_test(test_unregister_drops_markers),
		/* 2 */
		cmocka_unit_test(test_gup_locked_efault),
		cmocka_unit_test(test_gup_nowait_short),
		/* 3 */
		cmocka_unit_test(test_load_waits_for_copy),
		cmocka_unit_test(test_store_waits_for_copy),
		cmocka_unit_test(test_wait_releases_mmap_lock),
		cmocka_unit_test(test_gup_unlocked_waits),
		cmocka_unit_test(test_pin_fast_fallback_waits),
		cmocka_unit_test(test_gup_remote_locked_waits),
		cmocka_unit_test(test_fixup_waits),
		cmocka_unit_test(test_zeropage_wakes),
		cmocka_unit_test(test_dontwake_and_wake),
		cmocka_unit_test(test_wp_write_waits),
		cmocka_unit_test(test_copy_wp_mode),
		cmocka_unit_test(test_two_waiters_one_page),
		cmocka_unit_test(test_close_wakes_waiters),
		cmocka_unit_test(test_unregister_wakes_waiters),
		cmocka_unit_test(test_munmap_wakes_waiters),
		cmocka_unit_test(test_killed_waiter),
		cmocka_unit_test(test_many_waiters),
		/* 4 */
		cmocka_unit_test(test_shmem_missing),
		cmocka_unit_test(test_shmem_filled_by_other_mapping),
	};

	return cmocka_run_group_tests(uffd, NULL, NULL);
}
