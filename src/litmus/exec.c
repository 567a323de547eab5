/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/exec.c - the threads of a litmus test: each operation through
 * the gup_* call docs/litmus.md gives it.
 *
 * A thread is an actor of the explorer running exec_thread_main on its task.
 * An operation records its result (struct rop.val) and what it holds
 * (struct rop.h) for the operations after it that name it; the order in which
 * operations start and return (begin, end) feeds the witness trace.
 *
 * A thread bound to a forked child is started by the fork that creates its mm,
 * so that it cannot run earlier, and the forking thread joins it after its own
 * last operation, so that the execution ends only when it has ended.  At its
 * end a thread waits for the transfers it started and never waited for, as a
 * process's exit waits for its AIO: the execution ends when the devices have
 * finished too.  Whatever else is still held is released by the teardown
 * (exec_release_handles), after the final state has been read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "litmus/run_internal.h"
#include "sched/explore.h"

typedef void op_fn(struct rthread *th, const struct litmus_op *op, struct rop *ro);

/* ---- arguments and results --------------------------------------------------- */

uint64_t exec_addr(const struct runner *r, const struct litmus_addr *a)
{
	return r->region_addr[a->region] + a->off;
}

static uint64_t arg_addr(const struct rthread *th, const struct litmus_op *op, unsigned i)
{
	return exec_addr(th->x->r, &op->args[i].addr);
}

/* An optional flags argument, 0 when absent. */
static uint64_t arg_opt(const struct litmus_op *op, unsigned i)
{
	return i < op->nr_args ? op->args[i].num : 0;
}

static bool arg_keyword(const struct litmus_op *op, unsigned i)
{
	return i < op->nr_args && op->args[i].present;
}

/* The bytes of the op's pattern argument (expanded once per run) and their number. */
static const uint8_t *op_bytes(const struct rthread *th, const struct litmus_op *op,
			       size_t *len)
{
	for (unsigned i = 0; i < op->nr_args; i++) {
		if (op->args[i].kind == LA_PATTERN) {
			*len = op->args[i].pat.len;
			return th->x->r->op_pat[th->idx][op - th->lt->ops];
		}
	}
	*len = 0;
	return NULL;
}

/* The handle an op's argument @i names: the rop of an earlier op of the thread. */
static struct rhandle *arg_hold(struct rthread *th, const struct litmus_op *op, unsigned i)
{
	return &th->ops[op->args[i].ref].h;
}

static void set_int(struct rop *ro, int64_t v)
{
	ro->val.kind = RV_INT;
	ro->val.num = v;
}

/* Bytes read: @n of @buf (owned by the result from now on), or @n < 0 an error. */
static void set_bytes(struct rop *ro, uint8_t *buf, int64_t n)
{
	if (n < 0) {
		free(buf);
		set_int(ro, n);
		return;
	}
	ro->val.kind = RV_BYTES;
	ro->val.bytes = buf;
	ro->val.len = (size_t)n;
}

/* The result of an operation that acquires a handle: failed, it holds nothing. */
static void set_acquired(struct rop *ro, int err)
{
	if (err) {
		ro->h.dio = NULL;
		ro->h.fb = NULL;
		ro->h.mr = NULL;
		ro->h.lease = NULL;
	}
	ro->h.err = err;
	set_int(ro, err);
}

/* A buffer for @len bytes read; NULL (and an -ENOMEM result) if there is none. */
static uint8_t *read_buf(struct rop *ro, uint64_t len)
{
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		set_int(ro, -ENOMEM);
	return buf;
}

/*
 * A live reference on mm @m for an operation on another address space, or
 * NULL if that process does not exist (not forked yet, or every task of it
 * has exited): get_task_mm() under task_lock against exit.
 */
static struct gup_mm *mm_get_live(struct xrun *x, unsigned m)
{
	struct rmm *rm = &x->mms[m];
	struct gup_mm *mm = NULL;

	spin_lock(&rm->lock);
	if (rm->live) {
		mm = rm->mm;
		gup_mm_get(mm);
	}
	spin_unlock(&rm->lock);
	return mm;
}

/* ---- memory ------------------------------------------------------------------ */

static void op_store(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	size_t len;
	const uint8_t *b = op_bytes(th, op, &len);

	set_int(ro, gup_store(th->task, arg_addr(th, op, 0), b, len));
}

static void op_load(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	uint64_t len = op->args[1].num;
	uint8_t *buf = read_buf(ro, len);
	int err;

	if (!buf)
		return;
	err = gup_load(th->task, arg_addr(th, op, 0), buf, len);
	set_bytes(ro, buf, err ? err : (int64_t)len);
}

static void op_munmap(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	set_int(ro, gup_munmap(th->task, arg_addr(th, op, 0), op->args[1].num));
}

static void op_mprotect(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	set_int(ro, gup_mprotect(th->task, arg_addr(th, op, 0), op->args[1].num,
				 (int)op->args[2].num));
}

static void op_madvise(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	set_int(ro, gup_madvise(th->task, arg_addr(th, op, 0), op->args[1].num,
				(int)op->args[2].num));
}

/* Give child mm @c's threads their tasks: fork's to the first, new ones to the others. */
static unsigned child_tasks(struct xrun *x, unsigned c, struct gup_task *child)
{
	const struct litmus_test *t = x->r->t;
	struct gup_task *first = child;
	unsigned live = 0;

	for (unsigned j = 0; j < t->nr_threads; j++) {
		struct gup_task *task = first;

		if (t->threads[j].mm != c)
			continue;
		if (!task && gup_task_create(gup_task_mm(child), &task))
			task = NULL;	/* out of memory: this thread never runs */
		first = NULL;
		x->threads[j].task = task;
		live += task != NULL;
	}
	if (first) {
		x->mms[c].idle = first;	/* nobody runs it: it keeps the child alive */
		live++;
	}
	return live;
}

static void child_start(struct xrun *x, unsigned c, struct gup_task *child)
{
	const struct litmus_test *t = x->r->t;
	struct rmm *rm = &x->mms[c];
	unsigned live = child_tasks(x, c, child);

	spin_lock(&rm->lock);		/* published: remote users may now find it */
	rm->mm = gup_task_mm(child);
	rm->live = live;
	spin_unlock(&rm->lock);
	for (unsigned j = 0; j < t->nr_threads; j++) {
		struct rthread *cth = &x->threads[j];
		struct gup_task *task = cth->task;

		if (t->threads[j].mm != c || !task || !exec_thread_start(cth))
			continue;
		cth->task = NULL;	/* no actor for it (too many): it exits unborn */
		spin_lock(&rm->lock);
		rm->live--;
		spin_unlock(&rm->lock);
		gup_task_exit(task);
	}
}

static void op_fork(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_task *child;
	int err = gup_fork(th->task, &child);

	set_int(ro, err);
	if (!err)
		child_start(th->x, op->args[0].ref, child);
}

static void op_exit(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct rmm *rm = &th->x->mms[th->lt->mm];
	struct gup_task *task = th->task;

	(void)op;
	(void)ro;
	spin_lock(&rm->lock);		/* exit_mm: gone for remote users first */
	rm->live--;
	spin_unlock(&rm->lock);
	th->task = NULL;
	gup_task_exit(task);
}

/* ---- get_user_pages and friends ------------------------------------------------- */

/* Keep what a GUP call returned: @got pages of @pages, or its error. */
static void keep_pages(struct rop *ro, struct gup_page **pages, long got)
{
	set_int(ro, got);
	if (got > 0) {
		ro->h.pages = pages;
		ro->h.nr_pages = got;
		return;
	}
	ro->h.err = got ? (int)got : -EFAULT;
	free(pages);
}

static struct gup_page **page_array(struct rop *ro, uint64_t n)
{
	struct gup_page **pages = calloc(n ? n : 1, sizeof(*pages));

	if (!pages) {
		set_int(ro, -ENOMEM);
		ro->h.err = -ENOMEM;
	}
	return pages;
}

/* get_user_pages / pin_user_pages: the caller holds its own mmap lock. */
static long gup_locked(struct gup_task *t, bool pin, uint64_t addr, unsigned long n,
		       unsigned flags, struct gup_page **pages)
{
	struct gup_mm *mm = gup_task_mm(t);
	long got;
	int err = gup_mmap_read_lock(t, mm);

	if (err)
		return err;
	if (pin)
		got = gup_pin_user_pages(t, addr, n, flags, pages);
	else
		got = gup_get_user_pages(t, addr, n, flags, pages);
	gup_mmap_read_unlock(t, mm);
	return got;
}

static void op_gup(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_task *t = th->task;
	uint64_t addr = arg_addr(th, op, 0);
	unsigned long n = op->args[1].num;
	unsigned flags = (unsigned)op->args[2].num;
	struct gup_page **pages = page_array(ro, n);
	long got;

	if (!pages)
		return;
	switch (op->kind) {
	case LOP_GET_USER_PAGES:
		got = gup_locked(t, false, addr, n, flags, pages);
		break;
	case LOP_PIN_USER_PAGES:
		got = gup_locked(t, true, addr, n, flags, pages);
		break;
	case LOP_GET_USER_PAGES_FAST:
		got = gup_get_user_pages_fast(t, addr, (int)n, flags, pages);
		break;
	case LOP_PIN_USER_PAGES_FAST:
		got = gup_pin_user_pages_fast(t, addr, (int)n, flags, pages);
		break;
	case LOP_GET_USER_PAGES_FAST_ONLY:
		got = gup_get_user_pages_fast_only(t, addr, (int)n, flags, pages);
		break;
	case LOP_GET_USER_PAGES_UNLOCKED:
		got = gup_get_user_pages_unlocked(t, addr, n, pages, flags);
		break;
	default:	/* LOP_PIN_USER_PAGES_UNLOCKED */
		got = gup_pin_user_pages_unlocked(t, addr, n, pages, flags);
		break;
	}
	keep_pages(ro, pages, got);
}

/* get_user_pages_remote(mm, addr, pages, FOLL [, locked]) and its pin twin. */
static void op_gup_remote(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_task *t = th->task;
	uint64_t addr = arg_addr(th, op, 1);
	unsigned long n = op->args[2].num;
	unsigned flags = (unsigned)op->args[3].num;
	bool pin = op->kind == LOP_PIN_USER_PAGES_REMOTE;
	int locked = 1, *lockedp = arg_keyword(op, 4) ? &locked : NULL;
	struct gup_page **pages = page_array(ro, n);
	struct gup_mm *mm;
	long got;

	if (!pages)
		return;
	mm = mm_get_live(th->x, op->args[0].ref);
	if (!mm) {
		keep_pages(ro, pages, -ESRCH);
		return;
	}
	got = gup_mmap_read_lock(t, mm);
	if (!got) {
		if (pin)
			got = gup_pin_user_pages_remote(t, mm, addr, n, flags, pages, lockedp);
		else
			got = gup_get_user_pages_remote(t, mm, addr, n, flags, pages, lockedp);
		if (locked)
			gup_mmap_read_unlock(t, mm);
	}
	gup_mm_put(mm);
	keep_pages(ro, pages, got);
}

static void drop_pages(struct rhandle *h, bool pinned, bool dirty)
{
	if (pinned && dirty)
		gup_unpin_user_pages_dirty_lock(h->pages, (unsigned long)h->nr_pages, true);
	else if (pinned)
		gup_unpin_user_pages(h->pages, (unsigned long)h->nr_pages);
	else
		for (long i = 0; i < h->nr_pages; i++)
			gup_put_page(h->pages[i]);
	free(h->pages);
	h->pages = NULL;
	h->nr_pages = 0;
}

static void op_put(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	(void)ro;
	drop_pages(arg_hold(th, op, 0), op->kind != LOP_PUT, op->kind == LOP_UNPIN_DIRTY);
}

/* The device reads or writes [off, off+len) of the held pages, by physical page. */
static int pages_io(struct rhandle *h, uint64_t off, uint8_t *buf, uint64_t len, bool write)
{
	if (off + len > (uint64_t)h->nr_pages * GUP_PAGE_SIZE)
		return -EFAULT;		/* beyond what the call got (or it failed) */
	while (len) {
		struct gup_page *pg = h->pages[off / GUP_PAGE_SIZE];
		size_t o = off % GUP_PAGE_SIZE;
		size_t chunk = len < GUP_PAGE_SIZE - o ? len : GUP_PAGE_SIZE - o;
		int err = write ? gup_page_write(pg, o, buf, chunk) : gup_page_read(pg, o, buf, chunk);

		if (err)
			return err;
		off += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static void op_page_read(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	uint64_t len = op->args[2].num;
	uint8_t *buf = read_buf(ro, len);
	int err;

	if (!buf)
		return;
	err = pages_io(arg_hold(th, op, 0), op->args[1].num, buf, len, false);
	set_bytes(ro, buf, err ? err : (int64_t)len);
}

static void op_page_write(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	size_t len;
	const uint8_t *b = op_bytes(th, op, &len);

	/* pages_io does not write through buf when it writes the pages. */
	set_int(ro, pages_io(arg_hold(th, op, 0), op->args[1].num, (uint8_t *)b, len, true));
}

/* ---- O_DIRECT and fixed buffers -------------------------------------------------- */

static void op_dio(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_iovec iov = { arg_addr(th, op, 2), op->args[3].num };
	int dir = op->kind == LOP_DIO_READ ? GUP_DIO_READ : GUP_DIO_WRITE;
	int err = gup_dio_submit(th->task, th->x->disks[op->args[0].ref], dir,
				 op->args[1].num, &iov, 1, &ro->h.dio);

	set_acquired(ro, err);
}

static void op_wait(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct rhandle *h = arg_hold(th, op, 0);

	if (!h->dio) {
		set_int(ro, h->err ? h->err : -EINVAL);	/* the submission failed */
		return;
	}
	set_int(ro, gup_dio_wait(h->dio));
	h->dio = NULL;
}

static void op_fixed_register(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_iovec iov = { arg_addr(th, op, 0), op->args[1].num };
	int err = gup_fixed_buffers_register(th->task, &iov, 1, &ro->h.fb);

	set_acquired(ro, err);
}

static void op_fixed_io(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_fixed_buffers *fb = arg_hold(th, op, 0)->fb;
	int dir = op->kind == LOP_FIXED_READ ? GUP_DIO_READ : GUP_DIO_WRITE;
	int err = -EBADF;	/* the registration failed: nothing to name */

	if (fb)
		err = gup_dio_submit_fixed(fb, 0, op->args[1].num, op->args[2].num,
					   th->x->disks[op->args[3].ref], dir,
					   op->args[4].num, &ro->h.dio);
	set_acquired(ro, err);
}

static void op_fixed_unregister(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct rhandle *h = arg_hold(th, op, 0);

	set_int(ro, h->fb ? gup_fixed_buffers_unregister(h->fb) : -EBADF);
	h->fb = NULL;
}

/* ---- vmsplice, process_vm_*, RDMA --------------------------------------------------- */

static void op_vmsplice(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_iovec iov = { arg_addr(th, op, 1), op->args[2].num };

	set_int(ro, gup_vmsplice(th->x->pipes[op->args[0].ref], th->task, &iov, 1));
}

static void op_pipe_read(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	uint64_t len = op->args[1].num;
	uint8_t *buf = read_buf(ro, len);

	if (buf)
		set_bytes(ro, buf, gup_pipe_read(th->x->pipes[op->args[0].ref], buf, len));
}

static void op_pvm(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_iovec rv = { arg_addr(th, op, 1), op->args[3].num };
	struct gup_iovec lv = { arg_addr(th, op, 2), op->args[3].num };
	struct gup_mm *mm = mm_get_live(th->x, op->args[0].ref);

	if (!mm) {
		set_int(ro, -ESRCH);	/* no such process (yet, or any more) */
		return;
	}
	if (op->kind == LOP_PROCESS_VM_READV)
		set_int(ro, gup_process_vm_readv(th->task, mm, &lv, 1, &rv, 1, 0));
	else
		set_int(ro, gup_process_vm_writev(th->task, mm, &lv, 1, &rv, 1, 0));
	gup_mm_put(mm);
}

static void op_rdma_reg(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	int err = gup_rdma_reg_mr(th->task, arg_addr(th, op, 0), op->args[1].num,
				  (unsigned)op->args[2].num, &ro->h.mr);

	set_acquired(ro, err);
}

static void op_rdma_read(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_mr *mr = arg_hold(th, op, 0)->mr;
	uint64_t len = op->args[2].num;
	uint8_t *buf;

	if (!mr) {
		set_int(ro, -EBADF);
		return;
	}
	buf = read_buf(ro, len);
	if (buf) {
		int err = gup_rdma_mr_read(mr, arg_addr(th, op, 1), buf, len);

		set_bytes(ro, buf, err ? err : (int64_t)len);
	}
}

static void op_rdma_write(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_mr *mr = arg_hold(th, op, 0)->mr;
	size_t len;
	const uint8_t *b = op_bytes(th, op, &len);

	set_int(ro, mr ? gup_rdma_mr_write(mr, arg_addr(th, op, 1), b, len) : -EBADF);
}

static void op_rdma_dereg(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct rhandle *h = arg_hold(th, op, 0);

	set_int(ro, h->mr ? gup_rdma_dereg_mr(h->mr) : -EBADF);
	h->mr = NULL;
}

/* ---- files and leases ---------------------------------------------------------------- */

static struct gup_file *arg_file(const struct rthread *th, const struct litmus_op *op)
{
	return th->x->files[op->args[0].ref];
}

static void op_pread(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	uint64_t len = op->args[2].num;
	uint8_t *buf = read_buf(ro, len);

	if (buf)
		set_bytes(ro, buf, gup_file_pread(arg_file(th, op), buf, len, op->args[1].num));
}

static void op_pwrite(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	size_t len;
	const uint8_t *b = op_bytes(th, op, &len);

	set_int(ro, gup_file_pwrite(arg_file(th, op), b, len, op->args[1].num));
}

static void op_fsync(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	set_int(ro, gup_file_fsync(arg_file(th, op)));
}

static void op_truncate(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	set_int(ro, gup_file_truncate(arg_file(th, op), op->args[1].num));
}

static void op_punch_hole(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	set_int(ro, gup_file_fallocate(arg_file(th, op),
				       GUP_FALLOC_FL_PUNCH_HOLE | GUP_FALLOC_FL_KEEP_SIZE,
				       op->args[1].num, op->args[2].num));
}

/* Whoever clears lease_held first - the holder or the break - releases the lease. */
static void lease_drop(struct rhandle *h, struct gup_lease *lease)
{
	if (xchg_u64(&h->lease_held, 0))
		gup_lease_release(lease);
}

/* A truncate or punch-hole reached the lease (called from that thread). */
static void lease_broken(struct gup_lease *lease, void *arg)
{
	struct rhandle *h = arg;

	if (h->release_on_break)
		lease_drop(h, lease);
	/* else the holder keeps it until its lease_release, and the truncate waits */
}

static void op_lease_pin(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct rhandle *h = &ro->h;
	int err;

	h->release_on_break = arg_keyword(op, 4);
	init_private_u64(&h->lease_held, 1);	/* before a break can see it */
	err = gup_lease_pin(th->task, arg_file(th, op), arg_addr(th, op, 1), op->args[2].num,
			    (unsigned)op->args[3].num, lease_broken, h, &h->lease);
	if (err)
		init_private_u64(&h->lease_held, 0);
	set_acquired(ro, err);
}

static void op_lease_release(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct rhandle *h = arg_hold(th, op, 0);

	(void)ro;
	if (h->lease)
		lease_drop(h, h->lease);
}

/* ---- userfaultfd ------------------------------------------------------------------------ */

static struct gup_uffd *arg_uffd(const struct rthread *th, const struct litmus_op *op)
{
	return th->x->uffds[op->args[0].ref];
}

static void op_uffd_register(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	uint64_t addr = arg_addr(th, op, 1), len = op->args[2].num;

	if (op->kind == LOP_UFFD_REGISTER)
		set_int(ro, gup_uffd_register(th->task, arg_uffd(th, op), addr, len,
					      (unsigned)op->args[3].num));
	else
		set_int(ro, gup_uffd_unregister(th->task, arg_uffd(th, op), addr, len));
}

static void op_uffd_read(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_uffd_msg msg;
	int err = gup_uffd_read(arg_uffd(th, op), &msg, UINT64_MAX);

	set_int(ro, err);
	if (!err) {
		ro->val.kind = RV_ADDR;
		ro->val.num = (int64_t)msg.address;
	}
}

static void op_uffd_copy(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	size_t len;
	const uint8_t *b = op_bytes(th, op, &len);

	set_int(ro, gup_uffd_copy(th->task, arg_uffd(th, op), arg_addr(th, op, 1), b, len,
				  (unsigned)arg_opt(op, 3)));
}

static void op_uffd_range(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	struct gup_uffd *u = arg_uffd(th, op);
	uint64_t addr = arg_addr(th, op, 1), len = op->args[2].num;
	unsigned mode = (unsigned)arg_opt(op, 3);

	if (op->kind == LOP_UFFD_ZEROPAGE)
		set_int(ro, gup_uffd_zeropage(th->task, u, addr, len, mode));
	else if (op->kind == LOP_UFFD_WRITEPROTECT)
		set_int(ro, gup_uffd_writeprotect(th->task, u, addr, len, mode));
	else
		set_int(ro, gup_uffd_wake(u, addr, len));
}

static void op_uffd_close(struct rthread *th, const struct litmus_op *op, struct rop *ro)
{
	set_int(ro, gup_uffd_close(th->task, arg_uffd(th, op)));
}

/* ---- the threads ------------------------------------------------------------------------ */

static op_fn *const op_fns[LOP_NR] = {
	[LOP_STORE] = op_store, [LOP_LOAD] = op_load, [LOP_MUNMAP] = op_munmap,
	[LOP_MPROTECT] = op_mprotect, [LOP_MADVISE] = op_madvise, [LOP_FORK] = op_fork,
	[LOP_EXIT] = op_exit,
	[LOP_GET_USER_PAGES] = op_gup, [LOP_GET_USER_PAGES_FAST] = op_gup,
	[LOP_GET_USER_PAGES_FAST_ONLY] = op_gup, [LOP_GET_USER_PAGES_UNLOCKED] = op_gup,
	[LOP_GET_USER_PAGES_REMOTE] = op_gup_remote,
	[LOP_PIN_USER_PAGES] = op_gup, [LOP_PIN_USER_PAGES_FAST] = op_gup,
	[LOP_PIN_USER_PAGES_UNLOCKED] = op_gup, [LOP_PIN_USER_PAGES_REMOTE] = op_gup_remote,
	[LOP_PUT] = op_put, [LOP_UNPIN] = op_put, [LOP_UNPIN_DIRTY] = op_put,
	[LOP_PAGE_READ] = op_page_read, [LOP_PAGE_WRITE] = op_page_write,
	[LOP_DIO_READ] = op_dio, [LOP_DIO_WRITE] = op_dio, [LOP_WAIT] = op_wait,
	[LOP_FIXED_REGISTER] = op_fixed_register, [LOP_FIXED_READ] = op_fixed_io,
	[LOP_FIXED_WRITE] = op_fixed_io, [LOP_FIXED_UNREGISTER] = op_fixed_unregister,
	[LOP_VMSPLICE] = op_vmsplice, [LOP_PIPE_READ] = op_pipe_read,
	[LOP_PROCESS_VM_READV] = op_pvm, [LOP_PROCESS_VM_WRITEV] = op_pvm,
	[LOP_RDMA_REG_MR] = op_rdma_reg, [LOP_RDMA_READ] = op_rdma_read,
	[LOP_RDMA_WRITE] = op_rdma_write, [LOP_RDMA_DEREG_MR] = op_rdma_dereg,
	[LOP_PREAD] = op_pread, [LOP_PWRITE] = op_pwrite, [LOP_FSYNC] = op_fsync,
	[LOP_TRUNCATE] = op_truncate, [LOP_PUNCH_HOLE] = op_punch_hole,
	[LOP_LEASE_PIN] = op_lease_pin, [LOP_LEASE_RELEASE] = op_lease_release,
	[LOP_UFFD_REGISTER] = op_uffd_register, [LOP_UFFD_UNREGISTER] = op_uffd_register,
	[LOP_UFFD_READ] = op_uffd_read, [LOP_UFFD_COPY] = op_uffd_copy,
	[LOP_UFFD_ZEROPAGE] = op_uffd_range, [LOP_UFFD_WRITEPROTECT] = op_uffd_range,
	[LOP_UFFD_WAKE] = op_uffd_range, [LOP_UFFD_CLOSE] = op_uffd_close,
};

/* Transfers this thread started and never waited for: wait, as exit does for AIO. */
static void wait_in_flight(struct rthread *th)
{
	for (unsigned i = 0; i < th->lt->nr_ops; i++) {
		struct rhandle *h = &th->ops[i].h;

		if (h->dio) {
			gup_dio_wait(h->dio);
			h->dio = NULL;
		}
	}
}

/* The threads of the children this thread forked: the execution waits for them. */
static void join_children(struct rthread *th)
{
	const struct litmus_test *t = th->x->r->t;

	for (unsigned j = 0; j < t->nr_threads; j++) {
		struct rthread *c = &th->x->threads[j];
		const struct litmus_mm *m = &t->mms[t->threads[j].mm];

		if (m->parent >= 0 && m->fork_thread == th->idx && c->st) {
			sched_thread_join(c->st);
			c->st = NULL;
		}
	}
}

void exec_thread_main(void *arg)
{
	struct rthread *th = arg;
	struct xrun *x = th->x;

	th->actor = explore_current_actor();
	for (unsigned i = 0; i < th->lt->nr_ops; i++) {
		const struct litmus_op *op = &th->lt->ops[i];
		struct rop *ro = &th->ops[i];

		ro->begin = ++x->events;
		op_fns[op->kind](th, op, ro);
		ro->end = ++x->events;
	}
	wait_in_flight(th);
	join_children(th);
}

int exec_thread_start(struct rthread *th)
{
	int err = sched_thread_start(&th->st, exec_thread_main, th);

	if (err)
		th->st = NULL;
	return err;
}

/* What a result still holds after the final state was read (scheduler context). */
static void release_handle(const struct litmus_op *op, struct rhandle *h)
{
	if (h->pages)
		drop_pages(h, litmus_op_info(op->kind)->handle == LH_PIN, false);
	if (h->dio)
		gup_dio_wait(h->dio);
	if (h->fb)
		gup_fixed_buffers_unregister(h->fb);
	if (h->mr)
		gup_rdma_dereg_mr(h->mr);
	if (h->lease)
		lease_drop(h, h->lease);
	h->dio = NULL;
	h->fb = NULL;
	h->mr = NULL;
	h->lease = NULL;
}

void exec_release_handles(struct xrun *x)
{
	const struct litmus_test *t = x->r->t;

	for (unsigned i = 0; i < t->nr_threads; i++)
		for (unsigned j = 0; j < t->threads[i].nr_ops; j++)
			release_handle(&t->threads[i].ops[j], &x->threads[i].ops[j].h);
}
