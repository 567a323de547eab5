/* SPDX-License-Identifier: MIT */
/*
 * tests/test_gup_longterm.c - FOLL_LONGTERM pins: migration out of ZONE_MOVABLE
 * (linux_anchor 1.14), the mappings a long-term pin may and may not use (1.5:
 * dirty-tracked shared file mappings, fs-DAX), and the matrix of Linux's
 * tools/testing/selftests/mm/gup_longterm.c (2.2), ported in meaning.
 *
 * The selftest's "R/W" and "R/O longterm GUP(-fast) pin in MAP_SHARED/MAP_PRIVATE
 * file mapping" cases run here through each pin entry point - pin_user_pages
 * (mmap lock held), pin_user_pages_unlocked, pin_user_pages_fast and
 * pin_user_pages_remote (from another process) - on five kinds of memory:
 *
 *   private anon    movable: every long-term pin migrates it to ZONE_NORMAL
 *   shared anon     MAP_SHARED|MAP_ANONYMOUS (shmem), allocated unmovable
 *   private file    a fake file (vm_ops), COW: pins land on anon copies
 *   shared file     a fake file with page_mkwrite (dirty-tracked, like ext4):
 *                   R/W long-term pins must fail with -EFAULT
 *   shared tmpfs    a fake file without page_mkwrite (like tmpfs): all work
 *
 * As in gup_longterm.c, the R/O cases mprotect the range PROT_READ first.  Where
 * a pin works, a later write through the PTE must be seen through the pin.
 *
 * The fake files keep their pages in ZONE_NORMAL: the model cannot migrate page
 * cache (no reverse map yet; see src/gup/longterm.c).  Their cache references are
 * accounted as outstanding FOLL_GET references (GUP_STAT_GET_ACQUIRED/RELEASED)
 * so that gup_world_check balances while a file lives.
 *
 * Worlds run in debug mode; each must end with no misuse report, a clean
 * invariant check and every frame free.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gup/gup.h"
#include "mm/fault.h"
#include "world.h"

#include "common/fixture.h"

#define PG		GUP_PAGE_SIZE
#define NR_FRAMES	256
#define NR_MOVABLE	128
#define NPAGES		4

#define OLD		1
#define NEW		2

/* ------------------------------------------------------------------------ */
/* Worlds, patterns                                                         */
/* ------------------------------------------------------------------------ */

static struct gup_world *world_new(size_t nr_frames, size_t nr_movable)
{
	struct gup_world_config cfg = {
		.nr_frames = nr_frames,
		.nr_movable = nr_movable,
		.policy = FX_POLICY_NEW,
		.debug = true,
	};
	struct gup_world *w = NULL;

	assert_int_equal(gup_world_create(&cfg, &w), 0);
	assert_string_equal(gup_world_policy(w), FX_POLICY_NEW);
	return w;
}

static void world_end(struct gup_world *w)
{
	assert_int_equal(gup_world_misuse_count(w), 0);
	fx_world_end(w);
}

static struct gup_page *as_gup_page(struct page *p)
{
	return (struct gup_page *)p;
}

static size_t normal_free(struct gup_world *w)
{
	struct gup_mem_info mi = fx_meminfo(w);

	return mi.nr_free - mi.nr_movable_free;
}

/* Do the @n held pages hold pattern @seed of the pages at @addr? */
static bool held_have(struct gup_page **pages, unsigned n, uint64_t addr, unsigned seed)
{
	uint8_t want[PG], got[PG];

	for (unsigned i = 0; i < n; i++) {
		fx_pattern_page(want, seed, addr + i * PG);
		memset(got, 0x5a, PG);
		assert_int_equal(gup_page_read(pages[i], 0, got, PG), 0);
		if (memcmp(want, got, PG) != 0)
			return false;
	}
	return true;
}

/* Pins taken minus pins released since @s: the pins still held. */
static int64_t pins_held(struct gup_world *w, const struct fx_snap *s)
{
	return (int64_t)(fx_delta(w, s, GUP_STAT_PIN_ACQUIRED) -
			 fx_delta(w, s, GUP_STAT_PIN_RELEASED));
}

static int64_t refs_held(struct gup_world *w, const struct fx_snap *s)
{
	return (int64_t)(fx_delta(w, s, GUP_STAT_GET_ACQUIRED) -
			 fx_delta(w, s, GUP_STAT_GET_RELEASED));
}

/* ------------------------------------------------------------------------ */
/* The pin entry points                                                     */
/* ------------------------------------------------------------------------ */

enum pin_api {
	API_PIN,		/* pin_user_pages, under gup_mmap_read_lock   */
	API_PIN_UNLOCKED,	/* pin_user_pages_unlocked                     */
	API_PIN_FAST,		/* pin_user_pages_fast                         */
	API_PIN_REMOTE,		/* pin_user_pages_remote, from another process */
	API_PIN_REMOTE_NOLOCKED,	/* the same, with locked == NULL          */
	NR_APIS
};

static const char *const api_name[NR_APIS] = {
	"pin_user_pages", "pin_user_pages_unlocked", "pin_user_pages_fast",
	"pin_user_pages_remote", "pin_user_pages_remote(locked=NULL)",
};

struct env {
	struct gup_world *w;
	struct gup_task *t;	/* the process whose memory is pinned       */
	struct gup_task *r;	/* another process (a driver's kthread, say) */
};

static void env_new(struct env *e, size_t nr_frames, size_t nr_movable)
{
	e->w = world_new(nr_frames, nr_movable);
	e->t = fx_task_new(e->w);
	e->r = fx_task_new(e->w);
}

static void env_exit_tasks(struct env *e)
{
	fx_check(e->w);
	gup_task_exit(e->r);
	gup_task_exit(e->t);
}

/* Pin @n pages at @addr of e->t's mm through @api with @flags. */
static long do_pin(struct env *e, enum pin_api api, uint64_t addr, unsigned n,
		   unsigned flags, struct gup_page **pages)
{
	struct gup_mm *mm = gup_task_mm(e->t);
	int locked = 1;
	long ret = -1;

	memset(pages, 0, n * sizeof(*pages));
	switch (api) {
	case API_PIN:
		assert_int_equal(gup_mmap_read_lock(e->t, mm), 0);
		ret = gup_pin_user_pages(e->t, addr, n, flags, pages);
		gup_mmap_read_unlock(e->t, mm);
		break;
	case API_PIN_UNLOCKED:
		ret = gup_pin_user_pages_unlocked(e->t, addr, n, pages, flags);
		break;
	case API_PIN_FAST:
		ret = gup_pin_user_pages_fast(e->t, addr, (int)n, flags, pages);
		break;
	case API_PIN_REMOTE:
		assert_int_equal(gup_mmap_read_lock(e->r, mm), 0);
		ret = gup_pin_user_pages_remote(e->r, mm, addr, n, flags, pages, &locked);
		if (locked)
			gup_mmap_read_unlock(e->r, mm);
		break;
	case API_PIN_REMOTE_NOLOCKED:
		assert_int_equal(gup_mmap_read_lock(e->r, mm), 0);
		ret = gup_pin_user_pages_remote(e->r, mm, addr, n, flags, pages, NULL);
		gup_mmap_read_unlock(e->r, mm);
		break;
	case NR_APIS:
		fail();
	}
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Fake files                                                               */
/* ------------------------------------------------------------------------ */

#define FILE_PAGES	NPAGES

/* Page @i of a fake file holds pattern OLD of address i * PG. */
struct fake_file {
	struct gup_world *w;
	struct page *cache[FILE_PAGES];
	int mkwrites;
};

static unsigned fake_fault(struct vm_fault *vmf)
{
	struct fake_file *f = vmf->vma->vm_private;
	struct page *p;

	if (vmf->pgoff >= FILE_PAGES)
		return VM_FAULT_SIGBUS;
	p = f->cache[vmf->pgoff];
	if (!p) {
		p = alloc_page(f->w, GFP_KERNEL);	/* unmovable page cache */
		if (!p)
			return VM_FAULT_OOM;
		fx_pattern_page(page_data(&f->w->arena, p), OLD, vmf->pgoff * PG);
		write_once_u64(&p->count, PAGE_REF_ONE);	/* the cache's reference */
		write_once_u64(&p->index, vmf->pgoff);
		count_vm_event(f->w, GUP_STAT_GET_ACQUIRED);	/* see the header */
		f->cache[vmf->pgoff] = p;
	}
	get_page(p);	/* the reference vmf->page hands to the fault path */
	vmf->page = p;
	return 0;
}

static unsigned fake_mkwrite(struct vm_fault *vmf)
{
	((struct fake_file *)vmf->vma->vm_private)->mkwrites++;
	return 0;
}

/* A filesystem that tracks dirty pages (ext4, xfs, btrfs). */
static const struct vm_operations fake_fs_ops = {
	.fault = fake_fault,
	.page_mkwrite = fake_mkwrite,
	.name = "fake-fs",
};

/* A filesystem without write notification (tmpfs). */
static const struct vm_operations fake_tmpfs_ops = {
	.fault = fake_fault,
	.name = "fake-tmpfs",
};

/* Map the fake file at a free address of @t's mm; returns the address. */
static uint64_t map_fake(struct gup_task *t, struct fake_file *f, bool shared,
			 const struct vm_operations *ops, uint32_t extra_flags)
{
	struct gup_mm *mm = gup_task_mm(t);
	uint64_t addr = fx_map_private(t, FILE_PAGES);	/* reserve a free range */
	struct gup_vma *vma;

	assert_int_equal(gup_munmap(t, addr, FILE_PAGES * PG), 0);
	mmap_write_lock(mm);
	vma = vma_alloc(mm);
	assert_non_null(vma);
	vma->node.start = addr;
	vma->node.end = addr + FILE_PAGES * PG;
	vma->vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | extra_flags |
			(shared ? VM_SHARED | VM_MAYSHARE : 0);
	vma->vm_ops = ops;
	vma->vm_private = f;
	assert_int_equal(vma_link(mm, vma), 0);
	mmap_write_unlock(mm);
	return addr;
}

static void drop_cache(struct fake_file *f)
{
	for (unsigned i = 0; i < FILE_PAGES; i++)
		if (f->cache[i]) {
			assert_int_equal(page_mapcount(f->cache[i]), 0);
			assert_int_equal(page_ref_count(f->cache[i]), 1);
			put_page(f->w, f->cache[i]);
			count_vm_event(f->w, GUP_STAT_GET_RELEASED);
			f->cache[i] = NULL;
		}
}

/* ------------------------------------------------------------------------ */
/* Migration out of ZONE_MOVABLE (linux_anchor 1.14)                        */
/* ------------------------------------------------------------------------ */

/*
 * Private anon memory is allocated movable; a FOLL_LONGTERM pin must not stay
 * there (folio_is_longterm_pinnable, linux_anchor 1.6), so __gup_longterm_locked
 * unpins, migrates and pins again: the pins are ZONE_NORMAL frames, the mapping
 * maps the new frames, the data moved with them, the old frames are free.
 * R/W and R/O pins both; once migrated, gup-fast pins the range locklessly.
 */
static void longterm_migrates_movable(void **state)
{
	struct gup_world *w = world_new(NR_FRAMES, NR_MOVABLE);
	struct gup_task *t = fx_task_new(w);
	uint64_t a = fx_map_private(t, NPAGES), b = fx_map_private(t, NPAGES);
	struct gup_page *pins[NPAGES], *ro[NPAGES], *again[NPAGES];
	int64_t old_a[NPAGES], old_b[NPAGES];
	struct gup_mem_info mi0, mi1;
	struct fx_snap s;

	(void)state;
	fx_fill_pages(t, a, NPAGES, OLD);
	fx_fill_pages(t, b, NPAGES, OLD);
	for (unsigned i = 0; i < NPAGES; i++) {
		old_a[i] = fx_pfn(t, a + i * PG);
		old_b[i] = fx_pfn(t, b + i * PG);
		assert_true(gup_page_movable(as_gup_page(fx_page_at(t, a + i * PG))));
		assert_true(gup_page_movable(as_gup_page(fx_page_at(t, b + i * PG))));
	}
	mi0 = fx_meminfo(w);

	/* R/W, through gup-fast (which leaves movable pages to the slow path). */
	fx_snap(w, &s);
	assert_int_equal(gup_pin_user_pages_fast(t, a, NPAGES,
						 GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, pins), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_LONGTERM_MIGRATE), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_FALLBACK), 1);
	assert_int_equal(pins_held(w, &s), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_false(gup_page_movable(pins[i]));
		assert_true(gup_page_maybe_dma_pinned(pins[i]));
		assert_true(gup_page_anon_exclusive(pins[i]));
		assert_int_equal(gup_page_mapcount(pins[i]), 1);
		assert_int_equal(gup_page_ref_count(pins[i]), 1 + 1024);
		assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(t, a + i * PG));
		assert_int_not_equal(fx_pfn(t, a + i * PG), old_a[i]);
		assert_true(PageFree(pfn_to_page(&w->arena, (uint64_t)old_a[i])));
		assert_true(pte_write(fx_pte(t, a + i * PG)));
	}
	assert_true(held_have(pins, NPAGES, a, OLD));
	fx_check_pages(t, a, NPAGES, OLD);
	mi1 = fx_meminfo(w);
	assert_int_equal(mi1.nr_free, mi0.nr_free);
	assert_int_equal(mi1.nr_movable_free, mi0.nr_movable_free + NPAGES);
	fx_check(w);

	/* R/O, through pin_user_pages. */
	fx_snap(w, &s);
	assert_int_equal(gup_mmap_read_lock(t, gup_task_mm(t)), 0);
	assert_int_equal(gup_pin_user_pages(t, b, NPAGES, GUP_FOLL_LONGTERM, ro), NPAGES);
	gup_mmap_read_unlock(t, gup_task_mm(t));
	assert_int_equal(fx_delta(w, &s, GUP_STAT_LONGTERM_MIGRATE), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_false(gup_page_movable(ro[i]));
		assert_int_equal(gup_page_pfn(ro[i]), fx_pfn(t, b + i * PG));
		assert_int_not_equal(fx_pfn(t, b + i * PG), old_b[i]);
	}
	assert_true(held_have(ro, NPAGES, b, OLD));
	fx_check(w);

	/* The mapping and the pins agree: writes are seen through them. */
	fx_snap(w, &s);
	fx_fill_pages(t, a, NPAGES, NEW);
	fx_fill_pages(t, b, NPAGES, NEW);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_COW_COPY), 0);
	assert_true(held_have(pins, NPAGES, a, NEW));
	assert_true(held_have(ro, NPAGES, b, NEW));

	/* Now in ZONE_NORMAL: gup-fast takes a long-term pin without falling back. */
	fx_snap(w, &s);
	assert_int_equal(gup_pin_user_pages_fast(t, a, NPAGES,
						 GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, again), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_PAGES), NPAGES);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_GUP_FAST_FALLBACK), 0);
	assert_int_equal(fx_delta(w, &s, GUP_STAT_LONGTERM_MIGRATE), 0);
	for (unsigned i = 0; i < NPAGES; i++)
		assert_ptr_equal(again[i], pins[i]);
	fx_check(w);

	gup_unpin_user_pages(again, NPAGES);
	gup_unpin_user_pages(pins, NPAGES);
	gup_unpin_user_pages(ro, NPAGES);
	fx_check(w);
	gup_task_exit(t);
	world_end(w);
}

/* A pin that is not long-term may stay in ZONE_MOVABLE: nothing is migrated. */
static void shortterm_pin_no_migration(void **state)
{
	struct env e;
	uint64_t a;
	struct gup_page *pins[NPAGES];
	int64_t pfn[NPAGES];
	struct fx_snap s;

	(void)state;
	env_new(&e, NR_FRAMES, NR_MOVABLE);
	a = fx_map_private(e.t, NPAGES);
	fx_fill_pages(e.t, a, NPAGES, OLD);
	for (unsigned i = 0; i < NPAGES; i++)
		pfn[i] = fx_pfn(e.t, a + i * PG);
	for (int api = 0; api < NR_APIS; api++) {
		for (int rw = 0; rw < 2; rw++) {
			fx_snap(e.w, &s);
			assert_int_equal(do_pin(&e, (enum pin_api)api, a, NPAGES,
						rw ? GUP_FOLL_WRITE : 0, pins), NPAGES);
			assert_int_equal(fx_delta(e.w, &s, GUP_STAT_LONGTERM_MIGRATE), 0);
			for (unsigned i = 0; i < NPAGES; i++) {
				assert_true(gup_page_movable(pins[i]));
				assert_int_equal(gup_page_pfn(pins[i]), pfn[i]);
				assert_int_equal(fx_pfn(e.t, a + i * PG), pfn[i]);
			}
			if (api == API_PIN_FAST)
				assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GUP_FAST_PAGES),
						 NPAGES);
			fx_check(e.w);
			gup_unpin_user_pages(pins, NPAGES);
		}
	}
	env_exit_tasks(&e);
	world_end(e.w);
}

/*
 * The zero page is long-term pinnable (folio_is_longterm_pinnable, linux_anchor
 * 1.6) and never pinned at all.  In a private mapping that is not a COW mapping
 * (no VM_MAYWRITE: like MAP_PRIVATE of a file opened O_RDONLY) a R/O long-term
 * pin does not unshare (1.10), so each entry point hands out the zero page:
 * nothing counted, nothing migrated.  (In a COW mapping the pin breaks COW
 * instead: test_gup_cow's c_ro_longterm_pin_zeropage.)
 */
static void longterm_zero_page(void **state)
{
	struct gup_page *pins[NPAGES];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NR_FRAMES, NR_MOVABLE);
	a = fx_map_anon(e.t, NPAGES, GUP_PROT_READ, GUP_MAP_PRIVATE);
	mmap_write_lock(gup_task_mm(e.t));
	vma_lookup(gup_task_mm(e.t), a)->vm_flags &= ~VM_MAYWRITE;
	mmap_write_unlock(gup_task_mm(e.t));
	fx_check_zero_pages(e.t, a, NPAGES);
	for (int api = 0; api < NR_APIS; api++) {
		fx_snap(e.w, &s);
		assert_int_equal(do_pin(&e, (enum pin_api)api, a, NPAGES, GUP_FOLL_LONGTERM, pins),
				 NPAGES);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_ACQUIRED), 0);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_LONGTERM_MIGRATE), 0);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_FAULT_UNSHARE), 0);
		for (unsigned i = 0; i < NPAGES; i++) {
			assert_true(gup_page_is_zero(pins[i]));
			assert_false(gup_page_movable(pins[i]));
			assert_false(gup_page_maybe_dma_pinned(pins[i]));
			assert_int_equal(fx_pfn(e.t, a + i * PG), 0);
		}
		gup_unpin_user_pages(pins, NPAGES);	/* a no-op on the zero page */
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_PIN_RELEASED), 0);
		fx_check(e.w);
	}
	env_exit_tasks(&e);
	world_end(e.w);
}

/*
 * One long-term pin over a range whose first half is shmem (unmovable) and
 * second half private anon (movable): only the movable pages move, every page
 * ends up pinned once, each PTE maps its pinned frame.
 */
static void longterm_mixed_range(void **state)
{
	struct gup_page *pins[NPAGES];
	int64_t pfn[NPAGES];
	struct fx_snap s;
	struct env e;
	uint64_t a, x;

	(void)state;
	env_new(&e, NR_FRAMES, NR_MOVABLE);
	a = fx_map_anon(e.t, NPAGES, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_SHARED);
	assert_int_equal(gup_munmap(e.t, a + NPAGES / 2 * PG, NPAGES / 2 * PG), 0);
	assert_int_equal(gup_mmap(e.t, a + NPAGES / 2 * PG, NPAGES / 2 * PG,
				  GUP_PROT_READ | GUP_PROT_WRITE,
				  GUP_MAP_PRIVATE | GUP_MAP_ANONYMOUS | GUP_MAP_FIXED, &x), 0);
	assert_int_equal(x, a + NPAGES / 2 * PG);
	assert_int_equal(fx_nr_vmas(e.t), 2);
	fx_fill_pages(e.t, a, NPAGES, OLD);
	for (unsigned i = 0; i < NPAGES; i++)
		pfn[i] = fx_pfn(e.t, a + i * PG);

	fx_snap(e.w, &s);
	assert_int_equal(do_pin(&e, API_PIN_FAST, a, NPAGES,
				GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, pins), NPAGES);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_LONGTERM_MIGRATE), NPAGES / 2);
	assert_int_equal(pins_held(e.w, &s), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_false(gup_page_movable(pins[i]));
		assert_int_equal(gup_page_ref_count(pins[i]),
				 1 + 1024 + (i < NPAGES / 2));	/* shmem: + the cache */
		assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(e.t, a + i * PG));
		if (i < NPAGES / 2)
			assert_int_equal(fx_pfn(e.t, a + i * PG), pfn[i]);
		else
			assert_int_not_equal(fx_pfn(e.t, a + i * PG), pfn[i]);
	}
	assert_true(held_have(pins, NPAGES, a, OLD));
	fx_check(e.w);
	gup_unpin_user_pages(pins, NPAGES);
	env_exit_tasks(&e);
	world_end(e.w);
}

/*
 * gup-fast takes what it can locklessly (pages already in ZONE_NORMAL) and hands
 * the rest of the range to the slow path, which migrates only that part
 * (linux_anchor 1.13 fallback, 1.14).  A range ending in a hole pins what is
 * mapped (a short count) and migrates it.
 */
static void longterm_partial_ranges(void **state)
{
	struct gup_page *pins[NPAGES], *first[NPAGES / 2];
	int64_t pfn[NPAGES];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NR_FRAMES, NR_MOVABLE);
	a = fx_map_private(e.t, NPAGES);
	fx_fill_pages(e.t, a, NPAGES, OLD);
	assert_int_equal(gup_pin_user_pages_fast(e.t, a, NPAGES / 2,
						 GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, first),
			 NPAGES / 2);
	for (unsigned i = 0; i < NPAGES; i++)
		pfn[i] = fx_pfn(e.t, a + i * PG);

	fx_snap(e.w, &s);
	assert_int_equal(gup_pin_user_pages_fast(e.t, a, NPAGES,
						 GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, pins), NPAGES);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GUP_FAST_PAGES), NPAGES / 2);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_GUP_FAST_FALLBACK), 1);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_LONGTERM_MIGRATE), NPAGES / 2);
	assert_int_equal(pins_held(e.w, &s), NPAGES);
	for (unsigned i = 0; i < NPAGES; i++) {
		assert_false(gup_page_movable(pins[i]));
		assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(e.t, a + i * PG));
		if (i < NPAGES / 2) {
			assert_ptr_equal(pins[i], first[i]);
			assert_int_equal(gup_page_ref_count(pins[i]), 1 + 2 * 1024);
		} else {
			assert_int_not_equal(fx_pfn(e.t, a + i * PG), pfn[i]);
		}
	}
	assert_true(held_have(pins, NPAGES, a, OLD));
	fx_check(e.w);
	gup_unpin_user_pages(pins, NPAGES);
	gup_unpin_user_pages(first, NPAGES / 2);

	/* The last page unmapped: a short pin of the rest, migrated as well. */
	assert_int_equal(gup_munmap(e.t, a + (NPAGES - 1) * PG, PG), 0);
	for (int api = 0; api < NR_APIS; api++) {
		uint64_t b = fx_map_private(e.t, NPAGES);

		assert_int_equal(gup_munmap(e.t, b + (NPAGES - 1) * PG, PG), 0);
		fx_fill_pages(e.t, b, NPAGES - 1, OLD);
		fx_snap(e.w, &s);
		assert_int_equal(do_pin(&e, (enum pin_api)api, b, NPAGES,
					GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, pins), NPAGES - 1);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_LONGTERM_MIGRATE), NPAGES - 1);
		assert_int_equal(pins_held(e.w, &s), NPAGES - 1);
		for (unsigned i = 0; i < NPAGES - 1; i++) {
			assert_false(gup_page_movable(pins[i]));
			assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(e.t, b + i * PG));
		}
		assert_true(held_have(pins, NPAGES - 1, b, OLD));
		fx_check(e.w);
		gup_unpin_user_pages(pins, NPAGES - 1);
		assert_int_equal(gup_munmap(e.t, b, NPAGES * PG), 0);
	}
	env_exit_tasks(&e);
	world_end(e.w);
}

/* ------------------------------------------------------------------------ */
/* gup_longterm.c: R/W and R/O long-term pins per mapping type              */
/* ------------------------------------------------------------------------ */

enum mem_kind {
	MEM_PRIVATE_ANON,
	MEM_SHARED_ANON,
	MEM_PRIVATE_FILE,
	MEM_SHARED_FILE,	/* page_mkwrite: dirty-tracked */
	MEM_SHARED_TMPFS,	/* no page_mkwrite             */
};

static bool kind_is_file(enum mem_kind kind)
{
	return kind >= MEM_PRIVATE_FILE;
}

/*
 * gup_longterm.c's expectation (linux_anchor 2.2): should_work = !shared || !rw
 * || fs is tmpfs.  A R/W long-term pin of a dirty-tracked shared file mapping
 * fails with -EFAULT (writable_file_mapping_allowed / gup_fast_folio_allowed,
 * 1.5, 1.13) - from every entry point, nothing held.  Where it works, the pinned
 * pages are what the mapping maps, in ZONE_NORMAL, and a write through the PTE
 * (after mprotect RW for the R/O case) is seen through the pin; a private file
 * mapping's pins are anon copies (a R/O long-term pin breaks COW, 1.10) and the
 * file stays untouched.
 */
static void longterm_matrix(enum mem_kind kind, bool rw)
{
	bool should_work = !(kind == MEM_SHARED_FILE && rw);
	unsigned flags = GUP_FOLL_LONGTERM | (rw ? GUP_FOLL_WRITE : 0);

	for (int api = 0; api < NR_APIS; api++) {
		struct gup_page *pins[NPAGES];
		struct fake_file f = { 0 };
		struct fx_snap s;
		uint64_t a = 0, pat;
		struct env e;
		long ret;

		env_new(&e, NR_FRAMES, NR_MOVABLE);
		f.w = e.w;
		switch (kind) {
		case MEM_PRIVATE_ANON:
			a = fx_map_private(e.t, NPAGES);
			break;
		case MEM_SHARED_ANON:
			a = fx_map_anon(e.t, NPAGES, GUP_PROT_READ | GUP_PROT_WRITE,
					GUP_MAP_SHARED);
			break;
		case MEM_PRIVATE_FILE:
			a = map_fake(e.t, &f, false, &fake_fs_ops, 0);
			break;
		case MEM_SHARED_FILE:
			a = map_fake(e.t, &f, true, &fake_fs_ops, 0);
			break;
		case MEM_SHARED_TMPFS:
			a = map_fake(e.t, &f, true, &fake_tmpfs_ops, 0);
			break;
		}
		/* Anon memory is filled by the process; a file's data is the file's. */
		pat = kind_is_file(kind) ? 0 : a;
		if (!kind_is_file(kind))
			fx_fill_pages(e.t, a, NPAGES, OLD);
		if (!rw)
			assert_int_equal(gup_mprotect(e.t, a, NPAGES * PG, GUP_PROT_READ), 0);

		fx_snap(e.w, &s);
		ret = do_pin(&e, (enum pin_api)api, a, NPAGES, flags, pins);
		if (!should_work) {
			if (ret != -EFAULT)
				fail_msg("%s: R/W longterm pin of a dirty-tracked shared file "
					 "mapping returned %ld, want -EFAULT", api_name[api], ret);
			assert_int_equal(pins_held(e.w, &s), 0);
			assert_int_equal(f.mkwrites, 0);
			fx_check(e.w);

			/* A pin that is not long-term is allowed. */
			fx_snap(e.w, &s);
			assert_int_equal(do_pin(&e, (enum pin_api)api, a, NPAGES, GUP_FOLL_WRITE,
						pins), NPAGES);
			for (unsigned i = 0; i < NPAGES; i++)
				assert_ptr_equal(pins[i], as_gup_page(f.cache[i]));
			assert_int_equal(pins_held(e.w, &s), NPAGES);
			fx_check(e.w);
			gup_unpin_user_pages(pins, NPAGES);

			/* Mapped writable and dirty now: the long-term pin still fails. */
			for (unsigned i = 0; i < NPAGES; i++)
				assert_true(pte_write(fx_pte(e.t, a + i * PG)));
			fx_snap(e.w, &s);
			ret = do_pin(&e, (enum pin_api)api, a, NPAGES, flags, pins);
			if (ret != -EFAULT)
				fail_msg("%s: R/W longterm pin of mapped dirty-tracked shared file "
					 "pages returned %ld, want -EFAULT", api_name[api], ret);
			assert_int_equal(pins_held(e.w, &s), 0);
			fx_check(e.w);
			goto out;
		}
		if (ret != NPAGES)
			fail_msg("%s: %s longterm pin returned %ld, want %d", api_name[api],
				 rw ? "R/W" : "R/O", ret, NPAGES);
		assert_int_equal(pins_held(e.w, &s), NPAGES);
		for (unsigned i = 0; i < NPAGES; i++) {
			struct page *pg = (struct page *)pins[i];

			assert_true(gup_page_maybe_dma_pinned(pins[i]));
			assert_false(gup_page_movable(pins[i]));
			assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(e.t, a + i * PG));
			switch (kind) {
			case MEM_PRIVATE_ANON:
			case MEM_PRIVATE_FILE:
				assert_true(PageAnon(pg));
				assert_true(gup_page_anon_exclusive(pins[i]));
				if (kind == MEM_PRIVATE_FILE)
					assert_ptr_not_equal(pg, f.cache[i]);
				break;
			case MEM_SHARED_ANON:
				assert_true(PageShmem(pg));
				break;
			case MEM_SHARED_FILE:
			case MEM_SHARED_TMPFS:
				assert_ptr_equal(pg, f.cache[i]);
				break;
			}
		}
		/* Anon pages (private anon and private-file COW copies) were movable. */
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_LONGTERM_MIGRATE),
				 (kind == MEM_PRIVATE_ANON || kind == MEM_PRIVATE_FILE) ? NPAGES : 0);
		assert_true(held_have(pins, NPAGES, pat, OLD));
		fx_check(e.w);

		if (!rw)
			assert_int_equal(gup_mprotect(e.t, a, NPAGES * PG,
						      GUP_PROT_READ | GUP_PROT_WRITE), 0);
		fx_fill_pages(e.t, a, NPAGES, NEW);
		for (unsigned i = 0; i < NPAGES; i++)
			assert_int_equal(gup_page_pfn(pins[i]), fx_pfn(e.t, a + i * PG));
		if (!held_have(pins, NPAGES, a, NEW))
			fail_msg("%s: %s longterm pin does not see the write through the PTE",
				 api_name[api], rw ? "R/W" : "R/O");
		if (kind == MEM_PRIVATE_FILE)	/* the file is untouched */
			for (unsigned i = 0; i < NPAGES; i++)
				assert_true(fx_frame_has(e.w, f.cache[i], OLD, i * PG));
		if (kind == MEM_SHARED_FILE)	/* the write was notified */
			assert_true(f.mkwrites > 0);
		fx_check(e.w);
		gup_unpin_user_pages(pins, NPAGES);
out:
		env_exit_tasks(&e);
		drop_cache(&f);
		world_end(e.w);
	}
}

static void longterm_rw_private_anon(void **state)
{
	(void)state;
	longterm_matrix(MEM_PRIVATE_ANON, true);
}

static void longterm_ro_private_anon(void **state)
{
	(void)state;
	longterm_matrix(MEM_PRIVATE_ANON, false);
}

static void longterm_rw_shared_anon(void **state)
{
	(void)state;
	longterm_matrix(MEM_SHARED_ANON, true);
}

static void longterm_ro_shared_anon(void **state)
{
	(void)state;
	longterm_matrix(MEM_SHARED_ANON, false);
}

/* gup_longterm.c: "R/W longterm GUP(-fast) pin in MAP_PRIVATE file mapping". */
static void longterm_rw_private_file(void **state)
{
	(void)state;
	longterm_matrix(MEM_PRIVATE_FILE, true);
}

/* gup_longterm.c: "R/O longterm GUP(-fast) pin in MAP_PRIVATE file mapping". */
static void longterm_ro_private_file(void **state)
{
	(void)state;
	longterm_matrix(MEM_PRIVATE_FILE, false);
}

/* gup_longterm.c: "R/W longterm GUP(-fast) pin in MAP_SHARED file mapping" (ext4). */
static void longterm_rw_shared_file_fails(void **state)
{
	(void)state;
	longterm_matrix(MEM_SHARED_FILE, true);
}

/* gup_longterm.c: "R/O longterm GUP(-fast) pin in MAP_SHARED file mapping" (ext4). */
static void longterm_ro_shared_file(void **state)
{
	(void)state;
	longterm_matrix(MEM_SHARED_FILE, false);
}

/* gup_longterm.c: "R/W longterm GUP(-fast) pin in MAP_SHARED file mapping" (tmpfs). */
static void longterm_rw_shared_tmpfs(void **state)
{
	(void)state;
	longterm_matrix(MEM_SHARED_TMPFS, true);
}

/* gup_longterm.c: "R/O longterm GUP(-fast) pin in MAP_SHARED file mapping" (tmpfs). */
static void longterm_ro_shared_tmpfs(void **state)
{
	(void)state;
	longterm_matrix(MEM_SHARED_TMPFS, false);
}

/* ------------------------------------------------------------------------ */
/* fs-DAX                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * fs-DAX pages are the file's storage itself: they can be neither migrated nor
 * held indefinitely, so check_vma_flags refuses FOLL_LONGTERM on a VM_FSDAX VMA
 * with -EOPNOTSUPP (linux_anchor 1.5), from every entry point, whether the pages
 * are mapped yet or not.  Pins and references that are not long-term work.
 */
static void longterm_fsdax_refused(void **state)
{
	struct gup_page *pins[NPAGES];
	struct fake_file f = { 0 };
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NR_FRAMES, NR_MOVABLE);
	f.w = e.w;
	a = map_fake(e.t, &f, true, &fake_tmpfs_ops, VM_FSDAX);

	for (int pass = 0; pass < 2; pass++) {	/* not yet mapped, then mapped */
		for (int api = 0; api < NR_APIS; api++) {
			for (int rw = 0; rw < 2; rw++) {
				long ret;

				fx_snap(e.w, &s);
				ret = do_pin(&e, (enum pin_api)api, a, NPAGES,
					     GUP_FOLL_LONGTERM | (rw ? GUP_FOLL_WRITE : 0), pins);
				if (ret != -EOPNOTSUPP)
					fail_msg("%s (%s, pass %d) on fs-DAX returned %ld, want "
						 "-EOPNOTSUPP", api_name[api], rw ? "R/W" : "R/O",
						 pass, ret);
				assert_int_equal(pins_held(e.w, &s), 0);
				assert_int_equal(refs_held(e.w, &s), 0);
			}
		}
		fx_check(e.w);
		if (pass)
			break;

		/* Short-term pins, R/W and R/O, and a FOLL_GET reference: fine. */
		for (int api = 0; api < NR_APIS; api++) {
			for (int rw = 0; rw < 2; rw++) {
				assert_int_equal(do_pin(&e, (enum pin_api)api, a, NPAGES,
							rw ? GUP_FOLL_WRITE : 0, pins), NPAGES);
				for (unsigned i = 0; i < NPAGES; i++) {
					assert_ptr_equal(pins[i], as_gup_page(f.cache[i]));
					assert_true(gup_page_maybe_dma_pinned(pins[i]));
				}
				gup_unpin_user_pages(pins, NPAGES);
			}
		}
		assert_int_equal(gup_get_user_pages_fast(e.t, a, NPAGES, GUP_FOLL_WRITE, pins),
				 NPAGES);
		for (unsigned i = 0; i < NPAGES; i++) {
			assert_ptr_equal(pins[i], as_gup_page(f.cache[i]));
			gup_put_page(pins[i]);
		}
		for (unsigned i = 0; i < NPAGES; i++)
			assert_true(fx_pfn(e.t, a + i * PG) > 0);
	}
	env_exit_tasks(&e);
	drop_cache(&f);
	world_end(e.w);
}

/* ------------------------------------------------------------------------ */
/* Migration that cannot succeed                                            */
/* ------------------------------------------------------------------------ */

/*
 * A page that someone else holds - a FOLL_GET reference (an O_DIRECT read in
 * flight) or a short-term pin - cannot be migrated: migrate_pages fails on the
 * unexpected reference.  The long-term pin must then end (no endless retry) with
 * an error, holding nothing: every page of the range unpinned, the holder's
 * reference intact, the data and the invariants untouched.  Once the holder lets
 * go, the same pin succeeds.  (The errno itself: longterm_busy_page_errno.)
 */
static void longterm_busy_page_no_leak(void **state)
{
	(void)state;
	for (int holder_pins = 0; holder_pins < 2; holder_pins++) {
		for (int api = 0; api < NR_APIS; api++) {
			struct gup_page *pins[2], *held = NULL;
			struct page *busy;
			struct fx_snap s;
			int64_t busy_pfn;
			struct env e;
			uint64_t a;
			long ret;

			env_new(&e, NR_FRAMES, NR_MOVABLE);
			a = fx_map_private(e.t, 2);
			fx_fill_pages(e.t, a, 2, OLD);
			if (holder_pins)
				assert_int_equal(gup_pin_user_pages_fast(e.t, a + PG, 1, 0, &held), 1);
			else
				assert_int_equal(gup_get_user_pages_fast(e.t, a + PG, 1, 0, &held), 1);
			busy = fx_page_at(e.t, a + PG);
			busy_pfn = fx_pfn(e.t, a + PG);
			assert_ptr_equal(held, as_gup_page(busy));

			fx_snap(e.w, &s);
			ret = do_pin(&e, (enum pin_api)api, a, 2,
				     GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, pins);
			if (ret >= 0)
				fail_msg("%s: longterm pin of a busy movable page returned %ld",
					 api_name[api], ret);
			assert_int_equal(pins_held(e.w, &s), 0);
			assert_int_equal(refs_held(e.w, &s), 0);
			/* The busy page: where it was, only the mapping and the holder. */
			assert_int_equal(fx_pfn(e.t, a + PG), busy_pfn);
			assert_int_equal(page_mapcount(busy), 1);
			assert_int_equal(page_ref_count(busy), holder_pins ? 1 + 1024 : 2);
			assert_true(gup_page_movable(held));
			/* The other page may have moved; it holds nothing but its mapping. */
			assert_int_equal(page_ref_count(fx_page_at(e.t, a)), 1);
			fx_check_pages(e.t, a, 2, OLD);
			fx_check(e.w);

			if (holder_pins)
				gup_unpin_user_page(held);
			else
				gup_put_page(held);
			fx_snap(e.w, &s);
			assert_int_equal(do_pin(&e, (enum pin_api)api, a, 2,
						GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, pins), 2);
			assert_false(gup_page_movable(pins[0]));
			assert_false(gup_page_movable(pins[1]));
			assert_int_not_equal(fx_pfn(e.t, a + PG), busy_pfn);
			assert_true(held_have(pins, 2, a, OLD));
			fx_check(e.w);
			gup_unpin_user_pages(pins, 2);
			env_exit_tasks(&e);
			world_end(e.w);
		}
	}
}

/*
 * The errno of a long-term pin whose migration fails: migrate_pages() reports
 * the page it could not move and __gup_longterm_locked returns -ENOMEM
 * (migrate_longterm_unpinnable_folios; linux_anchor 1.5, 1.14: "-ENOMEM
 * (migrate_pages) or -EBUSY (device-coherent)" - there is no device memory here).
 */
static void longterm_busy_page_errno(void **state)
{
	struct gup_page *pins[1], *held;
	long ret[NR_APIS];
	struct fx_snap s;
	struct env e;
	uint64_t a;

	(void)state;
	env_new(&e, NR_FRAMES, NR_MOVABLE);
	a = fx_map_private(e.t, 1);
	fx_fill_pages(e.t, a, 1, OLD);
	assert_int_equal(gup_get_user_pages_fast(e.t, a, 1, 0, &held), 1);
	fx_snap(e.w, &s);
	for (int api = 0; api < NR_APIS; api++)
		ret[api] = do_pin(&e, (enum pin_api)api, a, 1,
				  GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, pins);
	assert_int_equal(pins_held(e.w, &s), 0);
	gup_put_page(held);
	env_exit_tasks(&e);
	world_end(e.w);

	/* Judged after the teardown, so that a wrong errno leaks nothing. */
	for (int api = 0; api < NR_APIS; api++)
		if (ret[api] != -ENOMEM)
			fail_msg("%s: longterm pin of a page with an extra reference returned "
				 "%ld, want -ENOMEM (migrate_pages failed)", api_name[api],
				 ret[api]);
}

/*
 * No ZONE_NORMAL frame left to migrate into: the long-term pin of movable pages
 * fails cleanly with -ENOMEM (migrate_pages could not allocate) from every entry
 * point - nothing pinned, nothing moved, no frame lost.  A short-term pin still
 * works; once normal memory is freed, the long-term pin succeeds.
 */
static void longterm_out_of_normal(void **state)
{
	enum { FRAMES = 64, MOVABLE = FRAMES - 8, SHM_PAGES = 16 };
	struct gup_page *pins[2];
	struct gup_mem_info mi0;
	int64_t pfn[2];
	struct fx_snap s;
	struct env e;
	uint64_t a, shm;
	unsigned filled = 0;

	(void)state;
	env_new(&e, FRAMES, MOVABLE);
	a = fx_map_private(e.t, 2);
	fx_fill_pages(e.t, a, 2, OLD);
	pfn[0] = fx_pfn(e.t, a);
	pfn[1] = fx_pfn(e.t, a + PG);

	/* Use up ZONE_NORMAL: shared anon pages are allocated there. */
	shm = fx_map_anon(e.t, SHM_PAGES, GUP_PROT_READ | GUP_PROT_WRITE, GUP_MAP_SHARED);
	for (unsigned i = 0; i < SHM_PAGES; i++) {
		int ret = fx_try_store_u64(e.t, shm + i * PG, i + 1);

		if (ret == -ENOMEM)
			break;
		assert_int_equal(ret, 0);
		filled++;
	}
	assert_true(filled > 0 && filled < SHM_PAGES);
	assert_int_equal(normal_free(e.w), 0);
	fx_check(e.w);
	mi0 = fx_meminfo(e.w);

	for (int api = 0; api < NR_APIS; api++) {
		long ret;

		fx_snap(e.w, &s);
		ret = do_pin(&e, (enum pin_api)api, a, 2, GUP_FOLL_WRITE | GUP_FOLL_LONGTERM, pins);
		if (ret != -ENOMEM)
			fail_msg("%s: longterm pin with ZONE_NORMAL full returned %ld, want "
				 "-ENOMEM", api_name[api], ret);
		assert_int_equal(pins_held(e.w, &s), 0);
		assert_int_equal(fx_delta(e.w, &s, GUP_STAT_LONGTERM_MIGRATE), 0);
		for (unsigned i = 0; i < 2; i++) {
			struct page *pg = fx_page_at(e.t, a + i * PG);

			assert_int_equal(fx_pfn(e.t, a + i * PG), pfn[i]);
			assert_true(gup_page_movable(as_gup_page(pg)));
			assert_int_equal(page_ref_count(pg), 1);
		}
		assert_int_equal(fx_meminfo(e.w).nr_free, mi0.nr_free);
		fx_check_pages(e.t, a, 2, OLD);
		fx_check(e.w);
	}

	/* Not long-term: may stay movable. */
	assert_int_equal(gup_pin_user_pages_fast(e.t, a, 2, GUP_FOLL_WRITE, pins), 2);
	assert_true(gup_page_movable(pins[0]));
	gup_unpin_user_pages(pins, 2);

	/* Free the normal frames (the shmem object goes with its last mapping). */
	assert_int_equal(gup_munmap(e.t, shm, SHM_PAGES * PG), 0);
	assert_int_equal(normal_free(e.w), filled);
	fx_snap(e.w, &s);
	assert_int_equal(gup_pin_user_pages_fast(e.t, a, 2, GUP_FOLL_WRITE | GUP_FOLL_LONGTERM,
						 pins), 2);
	assert_int_equal(fx_delta(e.w, &s, GUP_STAT_LONGTERM_MIGRATE), 2);
	assert_false(gup_page_movable(pins[0]));
	assert_false(gup_page_movable(pins[1]));
	assert_true(held_have(pins, 2, a, OLD));
	fx_check(e.w);
	gup_unpin_user_pages(pins, 2);
	env_exit_tasks(&e);
	world_end(e.w);
}

int main(void)
{
	const struct CMUnitTest gup_longterm[] = {
		cmocka_unit_test(longterm_migrates_movable),
		cmocka_unit_test(shortterm_pin_no_migration),
		cmocka_unit_test(longterm_zero_page),
		cmocka_unit_test(longterm_mixed_range),
		cmocka_unit_test(longterm_partial_ranges),
		cmocka_unit_test(longterm_rw_private_anon),
		cmocka_unit_test(longterm_ro_private_anon),
		cmocka_unit_test(longterm_rw_shared_anon),
		cmocka_unit_test(longterm_ro_shared_anon),
		cmocka_unit_test(longterm_rw_private_file),
		cmocka_unit_test(longterm_ro_private_file),
		cmocka_unit_test(longterm_rw_shared_file_fails),
		cmocka_unit_test(longterm_ro_shared_file),
		cmocka_unit_test(longterm_rw_shared_tmpfs),
		cmocka_unit_test(longterm_ro_shared_tmpfs),
		cmocka_unit_test(longterm_fsdax_refused),
		cmocka_unit_test(longterm_busy_page_no_leak),
		cmocka_unit_test(longterm_busy_page_errno),
		cmocka_unit_test(longterm_out_of_normal),
	};

	return cmocka_run_group_tests(gup_longterm, NULL, NULL);
}
