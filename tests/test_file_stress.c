/* SPDX-License-Identifier: MIT */
/*
 * tests/test_file_stress.c - files and the page cache under concurrency.
 *
 *   - several tasks (of two mms, loads and GUP) fault the same uncached page of a
 *     slow disk at once: all get the disk's bytes, and the disk is read once;
 *   - fsync racing with stores of three tasks (two mms): no store is lost;
 *   - truncate, punch-hole and pwrite racing with loads, stores, private COW
 *     faults and GUP pins of the file: no crash, no leak, the world checks clean,
 *     every byte read is the file's data or a zero of a truncated/punched range,
 *     or the access fails with -EFAULT past EOF; the file ends with its data;
 *   - three races forced with a scheduling-point hook (sched_hook_install) that
 *     parks a task at the exact point:
 *       * a fault that checked i_size, then truncate, then the fault adds the page
 *         (filemap_fault must recheck the size once truncate cannot run: Linux
 *         rechecks i_size under the page lock) - a memfd store, GUP under the
 *         mmap lock, a load with the retry protocol;
 *       * a fault that dropped the mmap lock to read the page while munmap drops
 *         the last reference to a closed file (the fault must hold the file, as
 *         Linux's maybe_unlock_mmap_for_io takes a reference on vm_file);
 *       * an mprotect that merges two VMAs of a file, parked while the range
 *         changes hands, against truncate (some VMA on i_mmap must cover the
 *         range throughout: Linux keeps i_mmap_lock across vma_prepare/complete).
 *
 * Each test: a world with debug on, gup_world_check clean, no misuse reported,
 * leak-free teardown.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>

#include "common/file_fixture.h"
#include "io/disk.h"
#include "mm/fault.h"
#include "mm/filemap.h"
#include "world.h"

#define NR_FRAMES	1024
#define DISK_BYTES	(UINT64_C(4) << 20)
#define RW		(GUP_PROT_READ | GUP_PROT_WRITE)

/* ======================================================================== */
/* many tasks fault one uncached page                                       */
/* ======================================================================== */

#define NR_FAULTERS	6

struct faulter {
	struct gup_task *t;
	uint64_t addr;		/* the page's address in t's mm */
	bool use_gup;		/* gup_get_user_pages_fast + gup_page_read, else gup_load */
	_Atomic unsigned *ready;
	int ret;
	uint8_t buf[PG];
};

static void faulter_fn(void *arg)
{
	struct faulter *fa = arg;
	struct gup_page *pg = NULL;

	atomic_fetch_add_explicit(fa->ready, 1, memory_order_seq_cst);
	if (!fx_wait_at_least(fa->ready, NR_FAULTERS + 1)) {
		fa->ret = -ETIMEDOUT;
		return;
	}
	if (!fa->use_gup) {
		fa->ret = gup_load(fa->t, fa->addr, fa->buf, PG);
		return;
	}
	fa->ret = gup_get_user_pages_fast(fa->t, fa->addr, 1, 0, &pg);
	if (fa->ret == 1) {
		fa->ret = gup_page_read(pg, 0, fa->buf, PG);
		gup_put_page(pg);
	} else if (fa->ret >= 0) {
		fa->ret = -ENODATA;
	}
}

static void test_concurrent_faults_one_read(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 20 * MS, 0);
	struct gup_task *t1 = fx_task_new(w), *t2 = fx_task_new(w);
	struct faulter fa[NR_FAULTERS];
	struct gup_thread *th[NR_FAULTERS];
	_Atomic unsigned ready = 0;
	struct gup_disk_stats st0;
	struct gup_file *f;
	struct fx_snap snap;
	uint64_t a1, a2;

	(void)state;
	ff_poke_pat(d, 0, 4 * PG, 30);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	a1 = ff_map_shared(t1, f, 4 * PG);
	a2 = ff_map(t2, f, 4 * PG, GUP_PROT_READ, GUP_MAP_PRIVATE, 0);
	fx_snap(w, &snap);
	st0 = ff_disk_stats(d);
	for (int i = 0; i < NR_FAULTERS; i++) {
		bool second = i & 1;

		memset(&fa[i], 0, sizeof(fa[i]));
		fa[i].t = fx_task_add(gup_task_mm(second ? t2 : t1));
		fa[i].addr = (second ? a2 : a1) + PG;
		fa[i].use_gup = i >= NR_FAULTERS / 2;
		fa[i].ready = &ready;
		th[i] = fx_thread_start(w, faulter_fn, &fa[i]);
	}
	atomic_fetch_add_explicit(&ready, 1, memory_order_seq_cst);
	for (int i = 0; i < NR_FAULTERS; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);
	for (int i = 0; i < NR_FAULTERS; i++) {
		if (fa[i].ret)
			fail_msg("faulter %d: %d", i, fa[i].ret);
		ff_expect_pat(fa[i].buf, PG, 30, PG, "a faulter's bytes");
		gup_task_exit(fa[i].t);
	}
	/* One read request for everyone. */
	assert_int_equal(ff_disk_stats(d).nr_reads - st0.nr_reads, 1);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FILE_READ_PAGE), 1);
	assert_int_equal(fx_delta(w, &snap, GUP_STAT_FAULT_MAJOR), 1);
	assert_int_equal(ff_info(f).nr_cached, 1);
	/* Both mms map the one cache page. */
	assert_int_equal(fx_pfn(t1, a1 + PG), fx_pfn(t2, a2 + PG));
	gup_task_exit(t1);
	gup_task_exit(t2);
	assert_int_equal(gup_file_close(f), 0);
	ff_world_done(w);
}

/* ======================================================================== */
/* truncate racing with faults, stores and pins                              */
/* ======================================================================== */

#define RACE_PAGES	8
#define RACE_NS		(300 * MS)

/* Page k of the file holds byte stamp(k) everywhere: torn or zeroed reads show. */
static uint8_t stamp(uint64_t pgoff)
{
	return (uint8_t)(0x11 * (pgoff + 1));
}

enum racer_kind { RACER_SHARED, RACER_PRIVATE, RACER_PIN };

struct racer {
	struct gup_task *t;
	uint64_t addr;
	enum racer_kind kind;
	unsigned seed;
	_Atomic bool *stop;
	_Atomic unsigned *ready;
	/* results */
	unsigned long ok, efault, bad;
	char why[160];
};

static uint32_t rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Every byte of @v is 0 or @b. */
static bool bytes_ok(uint64_t v, uint8_t b)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		if ((uint8_t)v != 0 && (uint8_t)v != b)
			return false;
	return true;
}

static void racer_bad(struct racer *r, const char *what, uint64_t pgoff, long ret, uint64_t v)
{
	if (!r->bad++)
		snprintf(r->why, sizeof(r->why), "%s at page %llu: ret %ld value %#llx", what,
			 (unsigned long long)pgoff, ret, (unsigned long long)v);
}

static void racer_fn(void *arg)
{
	struct racer *r = arg;

	atomic_fetch_add_explicit(r->ready, 1, memory_order_seq_cst);
	while (!atomic_load_explicit(r->stop, memory_order_relaxed)) {
		uint64_t pgoff = rnd(&r->seed) % RACE_PAGES, off = (rnd(&r->seed) % (PG / 8)) * 8;
		uint64_t addr = r->addr + pgoff * PG + off, v = 0, sv;
		uint8_t b = stamp(pgoff);
		int ret;

		memset(&sv, b, sizeof(sv));
		if (r->kind == RACER_PIN) {
			struct gup_page *pg = NULL;
			long n = gup_pin_user_pages_fast(r->t, addr & ~(PG - 1), 1, GUP_FOLL_WRITE, &pg);

			if (n == -EFAULT) {
				r->efault++;
				continue;
			}
			if (n != 1) {
				racer_bad(r, "pin", pgoff, n, 0);
				continue;
			}
			if (gup_page_read(pg, off, &v, 8) || !bytes_ok(v, b))
				racer_bad(r, "pinned read", pgoff, 0, v);
			if (gup_page_write(pg, off, &sv, 8))
				racer_bad(r, "pinned write", pgoff, 0, 0);
			gup_unpin_user_pages_dirty_lock(&pg, 1, true);
			r->ok++;
			continue;
		}
		if (rnd(&r->seed) & 1) {
			ret = gup_load(r->t, addr, &v, 8);
			if (!ret && !bytes_ok(v, b))
				racer_bad(r, "load", pgoff, ret, v);
		} else {
			ret = gup_store(r->t, addr, &sv, 8);
		}
		if (ret == 0)
			r->ok++;
		else if (ret == -EFAULT)
			r->efault++;
		else
			racer_bad(r, "access", pgoff, ret, v);
	}
}

/* Put the whole file back: every page its stamp, the size RACE_PAGES pages. */
static void restore_file(struct gup_file *f, uint8_t *buf)
{
	for (uint64_t k = 0; k < RACE_PAGES; k++)
		memset(buf + k * PG, stamp(k), PG);
	assert_int_equal(gup_file_pwrite(f, buf, RACE_PAGES * PG, 0), RACE_PAGES * PG);
}

static void test_truncate_races_faults_and_pins(void **state)
{
	static const enum racer_kind kinds[] = {
		RACER_SHARED, RACER_SHARED, RACER_PRIVATE, RACER_PIN, RACER_SHARED,
	};
	enum { NR = sizeof(kinds) / sizeof(kinds[0]) };
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t1 = fx_task_new(w), *t2 = fx_task_new(w);
	uint8_t *buf = malloc(RACE_PAGES * PG);
	struct racer r[NR];
	struct gup_thread *th[NR];
	_Atomic bool stop = false;
	_Atomic unsigned ready = 0;
	unsigned seed = 12345, rounds = 0;
	uint64_t s1, s2, p2, t0;
	struct gup_file *f;

	(void)state;
	assert_non_null(buf);
	f = ff_file(w, d, RACE_PAGES * PG, 0);
	restore_file(f, buf);
	s1 = ff_map_shared(t1, f, RACE_PAGES * PG);
	s2 = ff_map_shared(t2, f, RACE_PAGES * PG);
	p2 = ff_map_private(t2, f, RACE_PAGES * PG);
	/* Shared racers in both mms; the private one and the pinner in t2's. */
	for (int i = 0; i < NR; i++) {
		bool in_t2 = kinds[i] != RACER_SHARED || (i & 1);

		memset(&r[i], 0, sizeof(r[i]));
		r[i].kind = kinds[i];
		r[i].t = fx_task_add(gup_task_mm(in_t2 ? t2 : t1));
		r[i].addr = kinds[i] == RACER_PRIVATE ? p2 : in_t2 ? s2 : s1;
		r[i].seed = 77u * (unsigned)i + 1;
		r[i].stop = &stop;
		r[i].ready = &ready;
		th[i] = fx_thread_start(w, racer_fn, &r[i]);
	}
	assert_true(fx_wait_at_least(&ready, NR));

	/* The one user of the handle: truncate, punch, fsync and put it back. */
	t0 = fx_now_ns();
	while (fx_now_ns() - t0 < RACE_NS || rounds < 20) {
		uint64_t size = rnd(&seed) % (RACE_PAGES * PG + 1);

		switch (rnd(&seed) % 4) {
		case 0:
		case 1:
			assert_int_equal(gup_file_truncate(f, size), 0);
			break;
		case 2:
			assert_int_equal(gup_file_fallocate(f, GUP_FALLOC_FL_PUNCH_HOLE |
							    GUP_FALLOC_FL_KEEP_SIZE, size,
							    1 + rnd(&seed) % (3 * PG)), 0);
			break;
		case 3:
			assert_int_equal(gup_file_fsync(f), 0);
			break;
		}
		sched_yield();
		restore_file(f, buf);
		rounds++;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NR; i++)
		assert_int_equal(gup_thread_join(th[i]), 0);
	for (int i = 0; i < NR; i++) {
		if (r[i].bad)
			fail_msg("racer %d (kind %d): %lu bad results, first: %s", i, (int)r[i].kind,
				 r[i].bad, r[i].why);
		if (!r[i].ok)
			fail_msg("racer %d (kind %d) never got through (%lu -EFAULT)", i,
				 (int)r[i].kind, r[i].efault);
		gup_task_exit(r[i].t);
	}
	assert_int_equal(gup_world_check(w, stderr), 0);

	/* Quiet now: the file holds exactly its data, in the cache and on the disk. */
	restore_file(f, buf);
	assert_int_equal(gup_file_fsync(f), 0);
	assert_int_equal(ff_info(f).size, RACE_PAGES * PG);
	for (uint64_t k = 0; k < RACE_PAGES; k++) {
		uint8_t want[PG];

		memset(want, stamp(k), PG);
		ff_peek_expect(d, k * PG, want, PG);
		ff_load(t1, s1 + k * PG, buf, PG);
		ff_expect_bytes(buf, want, PG, "shared mapping at the end", k * PG);
	}
	assert_int_equal(ff_info(f).nr_dirty, 0);
	gup_task_exit(t1);
	gup_task_exit(t2);
	assert_int_equal(gup_file_close(f), 0);
	free(buf);
	ff_world_done(w);
}

/* ======================================================================== */
/* writeback racing with stores: no write is lost                          */
/* ======================================================================== */

#define NR_WRITERS	3
#define FSYNC_NS	(200 * MS)

struct seq_writer {
	struct gup_task *t;
	uint64_t addr;
	_Atomic uint64_t done;		/* the last value whose store returned */
	_Atomic bool *stop;
	_Atomic unsigned *ready;
	int ret;
};

static void seq_writer_fn(void *arg)
{
	struct seq_writer *sw = arg;

	atomic_fetch_add_explicit(sw->ready, 1, memory_order_seq_cst);
	for (uint64_t v = 1; !atomic_load_explicit(sw->stop, memory_order_relaxed); v++) {
		sw->ret = gup_store(sw->t, sw->addr, &v, sizeof(v));
		if (sw->ret)
			return;
		atomic_store(&sw->done, v);
	}
}

/*
 * Each writer stores an increasing sequence into its own word of one page (two
 * through one mm's mapping, one through another's); the main thread fsyncs over
 * and over.  After each fsync the disk holds, for each word, at least the value
 * whose store had returned before the fsync began: a store racing with
 * writeback must leave the page dirty (page_mkclean write-protects before the
 * bytes are taken), never be lost.
 */
static void test_fsync_races_stores(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 200 * 1000);
	struct gup_task *t1 = fx_task_new(w), *t2 = fx_task_new(w);
	struct gup_file *f = ff_file(w, d, PG, PG);
	uint64_t s1 = ff_map_shared(t1, f, PG), s2 = ff_map_shared(t2, f, PG);
	struct seq_writer sw[NR_WRITERS];
	struct gup_thread *th[NR_WRITERS];
	_Atomic bool stop = false;
	_Atomic unsigned ready = 0;
	unsigned long nr_fsync = 0;
	uint64_t t0, v;

	(void)state;
	for (int i = 0; i < NR_WRITERS; i++) {
		memset(&sw[i], 0, sizeof(sw[i]));
		sw[i].t = fx_task_add(gup_task_mm(i == 2 ? t2 : t1));
		sw[i].addr = (i == 2 ? s2 : s1) + 64 * (uint64_t)i;
		sw[i].stop = &stop;
		sw[i].ready = &ready;
		th[i] = fx_thread_start(w, seq_writer_fn, &sw[i]);
	}
	assert_true(fx_wait_at_least(&ready, NR_WRITERS));
	t0 = fx_now_ns();
	while (fx_now_ns() - t0 < FSYNC_NS || nr_fsync < 20) {
		uint64_t before[NR_WRITERS];

		for (int i = 0; i < NR_WRITERS; i++)
			before[i] = atomic_load(&sw[i].done);
		assert_int_equal(gup_file_fsync(f), 0);
		for (int i = 0; i < NR_WRITERS; i++) {
			assert_int_equal(gup_disk_peek(d, 64 * (uint64_t)i, &v, sizeof(v)), 0);
			if (v < before[i])
				fail_msg("writer %d: the disk has %llu after fsync, but %llu was "
					 "stored before it", i, (unsigned long long)v,
					 (unsigned long long)before[i]);
		}
		nr_fsync++;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NR_WRITERS; i++) {
		assert_int_equal(gup_thread_join(th[i]), 0);
		assert_int_equal(sw[i].ret, 0);
		assert_true(atomic_load(&sw[i].done) > 0);
	}
	/* Quiet: one more fsync, and the disk has every last value. */
	assert_int_equal(gup_file_fsync(f), 0);
	for (int i = 0; i < NR_WRITERS; i++) {
		assert_int_equal(gup_disk_peek(d, 64 * (uint64_t)i, &v, sizeof(v)), 0);
		assert_int_equal(v, atomic_load(&sw[i].done));
		gup_task_exit(sw[i].t);
	}
	assert_int_equal(ff_info(f).nr_dirty, 0);
	gup_task_exit(t1);
	gup_task_exit(t2);
	assert_int_equal(gup_file_close(f), 0);
	ff_world_done(w);
}

/* ======================================================================== */
/* races forced with a scheduling-point hook                                */
/* ======================================================================== */

/*
 * Parks the OS thread it is installed on once the first scheduling point that
 * matches (kind, obj, and the invalidate_lock held if @need_inval) is done:
 * at the next point, or at that one for SP_UNLOCK(_SHARED) (which comes after the
 * release; a read's point comes before the load).  It stays parked until the
 * test says go.  The hook only touches its own C11 atomics and sleeps with
 * sched_yield: nothing that is itself a scheduling point.
 */
struct park_hook {
	struct sched_hook hook;
	enum sched_point_kind kind;
	const void *obj;
	struct rw_semaphore *need_inval;
	_Atomic bool armed, matched, parked, go;
};

static void park_point(void *arg, enum sched_point_kind kind, const void *obj)
{
	struct park_hook *h = arg;

	if (!atomic_load(&h->matched)) {
		if (kind != h->kind || obj != h->obj || !atomic_load(&h->armed))
			return;
		if (h->need_inval && !rwsem_is_locked(h->need_inval))
			return;
		atomic_store(&h->armed, false);
		atomic_store(&h->matched, true);
		if (kind != SP_UNLOCK && kind != SP_UNLOCK_SHARED)
			return;		/* the access itself is still to come */
	}
	if (atomic_load(&h->parked))
		return;
	atomic_store(&h->parked, true);
	while (!atomic_load(&h->go))
		sched_yield();
}

static void park_init(struct park_hook *h, enum sched_point_kind kind, const void *obj,
		      struct rw_semaphore *need_inval)
{
	memset(h, 0, sizeof(*h));
	h->hook.point = park_point;
	h->hook.coop = NULL;
	h->hook.arg = h;
	h->kind = kind;
	h->obj = obj;
	h->need_inval = need_inval;
	atomic_init(&h->armed, true);
	atomic_init(&h->matched, false);
	atomic_init(&h->parked, false);
	atomic_init(&h->go, false);
}

static void park_wait(struct park_hook *h)
{
	struct fx_spin sp;

	fx_spin_begin(&sp, FX_WAIT_NS, 16);
	while (!atomic_load(&h->parked))
		if (!fx_spin(&sp))
			fail_msg("the task never reached the parking point");
}

/* ---- fault vs truncate: the size must be rechecked ---- */

enum parked_op { OP_STORE, OP_GUP_LOCKED, OP_LOAD };

struct parked_task {
	struct gup_task *t;
	struct park_hook *hook;
	enum parked_op op;
	uint64_t addr;
	long ret;
	struct gup_page *page;
};

static void parked_task_fn(void *arg)
{
	struct parked_task *p = arg;
	struct gup_mm *mm = gup_task_mm(p->t);
	uint8_t buf[8];

	sched_hook_install(&p->hook->hook);
	switch (p->op) {
	case OP_STORE:
		p->ret = gup_store(p->t, p->addr, "beyond!", 8);
		break;
	case OP_LOAD:
		p->ret = gup_load(p->t, p->addr, buf, 8);
		break;
	case OP_GUP_LOCKED:
		p->ret = gup_mmap_read_lock(p->t, mm);
		if (!p->ret) {
			p->ret = gup_get_user_pages(p->t, p->addr, 1, GUP_FOLL_WRITE, &p->page);
			gup_mmap_read_unlock(p->t, mm);
		}
		break;
	}
	sched_hook_install(NULL);
}

/*
 * A fault on page 3 reads i_size (4 pages: fine) and is parked right there;
 * truncate to one page runs to completion; the fault goes on.  It must not add
 * and map a page past the new EOF: the access gets -EFAULT, the cache keeps only
 * page 0, and growing the file again reads zeros (not what the fault stored).
 */
static void fault_vs_truncate(bool memfd, enum parked_op op)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = memfd ? NULL : ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f = memfd ? ff_memfd(w, 4 * PG, 4 * PG) : ff_file(w, d, 4 * PG, 4 * PG);
	struct park_hook hook;
	struct parked_task p = { .hook = &hook, .op = op };
	struct gup_thread *th;
	uint8_t buf[4 * PG];
	uint64_t s;

	s = ff_map_shared(t, f, 4 * PG);
	ff_store(t, s, "page0", 5);
	p.t = fx_task_add(gup_task_mm(t));
	p.addr = s + 3 * PG;
	park_init(&hook, SP_READ, &f->size, NULL);
	th = fx_thread_start(w, parked_task_fn, &p);
	park_wait(&hook);
	assert_int_equal(gup_file_truncate(f, PG), 0);
	atomic_store(&hook.go, true);
	assert_int_equal(gup_thread_join(th), 0);

	if (p.ret == 1 && p.page)
		gup_put_page(p.page);
	assert_int_equal(p.ret, -EFAULT);
	assert_false(fx_pte(t, s + 3 * PG) & PTE_PRESENT);
	assert_int_equal(gup_load(t, s + 3 * PG, buf, 1), -EFAULT);
	assert_int_equal(ff_info(f).nr_cached, 1);
	assert_int_equal(gup_file_truncate(f, 4 * PG), 0);
	assert_int_equal(gup_file_pread(f, buf, 4 * PG, 0), 4 * PG);
	assert_memory_equal(buf, "page0", 5);
	ff_expect_zero(buf + 5, 4 * PG - 5, 5, "regrown file");
	gup_task_exit(p.t);
	gup_task_exit(t);
	assert_int_equal(gup_file_close(f), 0);
	ff_world_done(w);
}

static void test_race_memfd_store_vs_truncate(void **state)
{
	(void)state;
	fault_vs_truncate(true, OP_STORE);
}

static void test_race_locked_gup_vs_truncate(void **state)
{
	(void)state;
	fault_vs_truncate(false, OP_GUP_LOCKED);
}

static void test_race_load_vs_truncate(void **state)
{
	(void)state;
	fault_vs_truncate(false, OP_LOAD);
}

/* ---- the last reference to a file goes while a fault reads it ---- */

/*
 * The file is closed and mapped once.  A load faults a missing page: it drops the
 * mmap lock to read (seed 002) and is parked right after the unlock.  munmap
 * now takes the VMA, the file's last reference but the fault's.  The fault
 * must still read from a live file; on retry the VMA is gone: -EFAULT.
 */
static void test_race_unmap_while_fault_reads(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f;
	struct park_hook hook;
	struct parked_task p = { .hook = &hook, .op = OP_LOAD };
	struct gup_thread *th;
	uint64_t s;

	(void)state;
	ff_poke_pat(d, 0, 4 * PG, 31);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	s = ff_map_shared(t, f, 4 * PG);
	assert_int_equal(gup_file_close(f), 0);
	p.t = fx_task_add(gup_task_mm(t));
	p.addr = s + 2 * PG;
	park_init(&hook, SP_UNLOCK_SHARED, &gup_task_mm(t)->mmap_lock, &f->invalidate_lock);
	th = fx_thread_start(w, parked_task_fn, &p);
	park_wait(&hook);
	assert_int_equal(gup_munmap(t, s, 4 * PG), 0);
	atomic_store(&hook.go, true);
	assert_int_equal(gup_thread_join(th), 0);
	assert_int_equal(p.ret, -EFAULT);
	/* The file is gone with its cache; the disk is free again. */
	assert_int_equal(gup_disk_destroy(d), 0);
	gup_task_exit(p.t);
	gup_task_exit(t);
	ff_world_done(w);
}

/* ---- a VMA merge must not hide PTEs from truncate ---- */

struct mprotect_task {
	struct gup_task *t;
	struct park_hook *hook;
	uint64_t addr;
	size_t len;
	int ret;
};

static void mprotect_task_fn(void *arg)
{
	struct mprotect_task *m = arg;

	sched_hook_install(&m->hook->hook);
	m->ret = gup_mprotect(m->t, m->addr, m->len, RW);
	sched_hook_install(NULL);
}

/*
 * Two VMAs of one file, [0, 2) pages R/W and [2, 4) read-only, every page mapped.
 * mprotect makes the upper one R/W, so it merges into the lower; the merging
 * task is parked at its first release of the file's i_mmap_lock.  A truncate to
 * two pages runs meanwhile.  Whatever the merge's state at that moment, the
 * truncate must find and unmap pages 2 and 3 (Linux keeps i_mmap_lock across
 * the whole adjustment: vma_prepare/vma_complete).
 */
static void test_race_vma_merge_vs_truncate(void **state)
{
	struct gup_world *w = ff_world(NR_FRAMES);
	struct gup_disk *d = ff_disk(w, DISK_BYTES, 0, 0);
	struct gup_task *t = fx_task_new(w);
	struct gup_file *f;
	struct park_hook hook;
	struct mprotect_task m = { .hook = &hook };
	struct gup_thread *th;
	uint8_t buf[8];
	uint64_t s;

	(void)state;
	ff_poke_pat(d, 0, 4 * PG, 32);
	f = ff_file(w, d, 4 * PG, 4 * PG);
	s = ff_map_shared(t, f, 4 * PG);
	assert_int_equal(gup_mprotect(t, s + 2 * PG, 2 * PG, GUP_PROT_READ), 0);
	assert_int_equal(fx_nr_vmas(t), 2);
	ff_load_expect_pat(t, s, 4 * PG, 32, 0, "before");

	m.t = fx_task_add(gup_task_mm(t));
	m.addr = s + 2 * PG;
	m.len = 2 * PG;
	park_init(&hook, SP_UNLOCK, &f->i_mmap_lock, NULL);
	th = fx_thread_start(w, mprotect_task_fn, &m);
	park_wait(&hook);
	assert_int_equal(gup_file_truncate(f, 2 * PG), 0);
	atomic_store(&hook.go, true);
	assert_int_equal(gup_thread_join(th), 0);
	assert_int_equal(m.ret, 0);
	assert_int_equal(fx_nr_vmas(t), 1);

	for (int i = 2; i < 4; i++) {
		assert_false(fx_pte(t, s + i * PG) & PTE_PRESENT);
		assert_int_equal(gup_load(t, s + i * PG, buf, 1), -EFAULT);
	}
	ff_load_expect_pat(t, s, 2 * PG, 32, 0, "below EOF");
	assert_int_equal(ff_info(f).nr_mapped, 1);
	gup_task_exit(m.t);
	gup_task_exit(t);
	assert_int_equal(gup_file_close(f), 0);
	ff_world_done(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_faults_one_read),
		cmocka_unit_test(test_truncate_races_faults_and_pins),
		cmocka_unit_test(test_fsync_races_stores),
		cmocka_unit_test(test_race_memfd_store_vs_truncate),
		cmocka_unit_test(test_race_locked_gup_vs_truncate),
		cmocka_unit_test(test_race_load_vs_truncate),
		cmocka_unit_test(test_race_unmap_while_fault_reads),
		cmocka_unit_test(test_race_vma_merge_vs_truncate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
