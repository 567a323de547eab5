/* SPDX-License-Identifier: MIT */
/*
 * tools/matrix_cost.c - the cost side of `gup matrix`: what each design makes
 * the common operations pay, the figures the 2009 thread argued about without
 * measuring (seed004 section 5: "none of them numeric").
 *
 * One fixed workload per preset, in free mode (real threads), read from the
 * engine's counters and from a scheduling-point hook:
 *
 *   - gup-fast: pin_user_pages_fast(FOLL_WRITE) of MX_PAGES exclusive pages in
 *     one call, with a hook on the calling thread counting its atomics (every
 *     read-modify-write, add and bit operation) and full barriers per page;
 *   - fork: with MX_PINNED of the pages pinned FOLL_LONGTERM, the pages fork
 *     copies for the child instead of sharing;
 *   - after that fork, read pins of one page per call: the calls gup-fast hands
 *     to the slow path;
 *   - fork with an O_DIRECT read in flight on a disk of MX_DISK_NS latency: how
 *     long fork takes (a design that excludes fork from I/O waits for it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gup/file.h"
#include "gup/gup.h"
#include "gup/io.h"
#include "sched/sched.h"
#include "matrix.h"

#define MX_PAGES	256
#define MX_PINNED	16
#define MX_DISK_NS	(UINT64_C(20) * 1000 * 1000)

struct mx_counter {
	struct sched_hook hook;
	unsigned long atomics, barriers;
};

static void count_point_at(void *arg, enum sched_point_kind kind, const void *obj,
			   uint64_t detail)
{
	struct mx_counter *c = arg;

	(void)obj;
	switch (kind) {
	case SP_RMW:
	case SP_ADD:
	case SP_BITS:
	/*
	 * A read-modify-write of bits or fields: the grab's cmpxchg, put_page,
	 * test_and_set_bit.  (write_bits_u64 and write_parts_u64 are plain
	 * stores of this kind too: a frame's free and shmem's setup, neither
	 * in this workload.)
	 */
	case SP_WRITE_BITS:
		c->atomics++;
		break;
	case SP_FENCE:
		c->barriers += (detail & SCHED_FENCE_FULL) != 0;
		break;
	default:
		break;
	}
}

static void count_point(void *arg, enum sched_point_kind kind, const void *obj)
{
	count_point_at(arg, kind, obj, 0);
}

static uint64_t stat_of(struct gup_world *w, enum gup_stat_item item)
{
	uint64_t s[GUP_NR_STATS];

	return gup_world_stats(w, s) ? 0 : s[item];
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* gup-fast over every page in one call: atomics and full barriers per page. */
static int cost_gup_fast(struct gup_task *t, uint64_t addr, struct mx_cost *out)
{
	struct gup_page *pages[MX_PAGES];
	struct mx_counter c = { .hook = { .point = count_point, .point_at = count_point_at } };
	const struct sched_hook *old;
	int n;

	c.hook.arg = &c;
	old = sched_hook_install(&c.hook);
	n = gup_pin_user_pages_fast(t, addr, MX_PAGES, GUP_FOLL_WRITE, pages);
	sched_hook_install(old);
	if (n != MX_PAGES)
		return n < 0 ? n : -EFAULT;
	gup_unpin_user_pages(pages, MX_PAGES);
	out->atomics_per_page = (double)c.atomics / MX_PAGES;
	out->barriers_per_page = (double)c.barriers / MX_PAGES;
	return 0;
}

/* Fork with long-term pins held: pages copied; then read pins that fall back. */
static int cost_fork(struct gup_world *w, struct gup_task *t, uint64_t addr,
		     struct mx_cost *out)
{
	struct gup_page *pinned[MX_PINNED], *p;
	struct gup_task *child;
	uint64_t copied = stat_of(w, GUP_STAT_FORK_PAGE_COPIED), fb;
	int n = gup_pin_user_pages_fast(t, addr, MX_PINNED, GUP_FOLL_WRITE | GUP_FOLL_LONGTERM,
					pinned), err;

	if (n != MX_PINNED)
		return n < 0 ? n : -EFAULT;
	err = gup_fork(t, &child);
	if (err)
		goto out_unpin;
	out->fork_copied = stat_of(w, GUP_STAT_FORK_PAGE_COPIED) - copied;
	fb = stat_of(w, GUP_STAT_GUP_FAST_FALLBACK);
	for (int i = 0; i < MX_PAGES && !err; i++) {
		n = gup_pin_user_pages_fast(t, addr + (uint64_t)i * GUP_PAGE_SIZE, 1, 0, &p);
		if (n == 1)
			gup_unpin_user_page(p);
		else
			err = n < 0 ? n : -EFAULT;
	}
	out->fallbacks_per_page = (double)(stat_of(w, GUP_STAT_GUP_FAST_FALLBACK) - fb) / MX_PAGES;
	gup_task_exit(child);
out_unpin:
	gup_unpin_user_pages(pinned, MX_PINNED);
	return err;
}

/* How long fork takes while a direct read into the parent is in flight. */
static int cost_fork_during_io(struct gup_world *w, struct gup_task *t, uint64_t addr,
			       struct mx_cost *out)
{
	struct gup_disk_config dc = { .bytes = GUP_PAGE_SIZE, .read_latency_ns = MX_DISK_NS };
	struct gup_iovec iov = { .base = addr, .len = GUP_PAGE_SIZE };
	struct gup_disk *d;
	struct gup_dio *req;
	struct gup_task *child;
	double t0;
	int err = gup_disk_create(w, &dc, &d);

	if (err)
		return err;
	err = gup_dio_submit(t, d, GUP_DIO_READ, 0, &iov, 1, &req);
	if (err)
		goto out_disk;
	t0 = now_ms();
	err = gup_fork(t, &child);
	out->fork_ms_during_io = now_ms() - t0;
	if (!err)
		gup_task_exit(child);
	if (gup_dio_wait(req) < 0 && !err)
		err = -EIO;
out_disk:
	gup_disk_destroy(d);
	return err;
}

int matrix_cost(const char *preset, struct mx_cost *out)
{
	struct gup_world_config wc = { .nr_frames = 4 * MX_PAGES + 256, .policy = preset };
	struct gup_world *w;
	struct gup_mm *mm;
	struct gup_task *t;
	uint64_t addr;
	int err = gup_world_create(&wc, &w);

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	err = gup_mm_create(w, &mm);
	if (err)
		goto out_world;
	err = gup_task_create(mm, &t);
	gup_mm_put(mm);
	if (err)
		goto out_world;
	err = gup_mmap(t, 0, MX_PAGES * GUP_PAGE_SIZE, GUP_PROT_READ | GUP_PROT_WRITE,
		       GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS, &addr);
	if (!err)
		err = gup_fill(t, addr, 0x5a, MX_PAGES * GUP_PAGE_SIZE);
	if (!err)
		err = cost_gup_fast(t, addr, out);
	if (!err)
		err = cost_fork(w, t, addr, out);
	if (!err)
		err = cost_fork_during_io(w, t, addr, out);
	gup_task_exit(t);
out_world:
	if (gup_world_destroy(w) && !err)
		err = -EBUSY;
	return err;
}
