/* SPDX-License-Identifier: MIT */
/*
 * tests/test_file_hooks.c - the file-backed VMA hooks (vm_operations) that the
 * files issue will plug real files into: fault, page_mkwrite, open, close.
 *
 * A fake file is a tiny page cache: each page holds one cache reference.  VMAs
 * are built with the internal API (no public file mmap yet).  The fake cache's
 * references are not known to gup_world_check, so specific counts are asserted
 * while it lives, and the whole world is checked after it is dropped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/fixture.h"
#include "mm/fault.h"
#include "world.h"

#define FILE_PAGES	4
#define BASE		UINT64_C(0x200000000)

struct fake_file {
	struct gup_world *w;
	struct page *cache[FILE_PAGES];
	int faults, mkwrites, opens, closes;
	bool close_saw_private;	/* vm_private intact when close ran */
};

static unsigned fake_fault(struct vm_fault *vmf)
{
	struct fake_file *f = vmf->vma->vm_private;
	struct page *p;

	f->faults++;
	if (vmf->pgoff >= FILE_PAGES)
		return VM_FAULT_SIGBUS;
	p = f->cache[vmf->pgoff];
	if (!p) {
		p = alloc_page(f->w, GFP_MOVABLE | GFP_ZERO);
		if (!p)
			return VM_FAULT_OOM;
		memset(page_data(&f->w->arena, p), 'A' + (int)vmf->pgoff, PAGE_SIZE);
		write_once_u64(&p->count, PAGE_REF_ONE);	/* the cache's reference */
		write_once_u64(&p->index, vmf->pgoff);
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

static void fake_open(struct gup_vma *vma)
{
	((struct fake_file *)vma->vm_private)->opens++;
}

static void fake_close(struct gup_vma *vma)
{
	struct fake_file *f = vma->vm_private;

	if (f) {
		f->closes++;
		f->close_saw_private = true;
	}
}

static const struct vm_operations fake_ops = {
	.fault = fake_fault,
	.page_mkwrite = fake_mkwrite,
	.open = fake_open,
	.close = fake_close,
	.name = "fake",
};

static void map_fake(struct gup_task *t, struct fake_file *f, bool shared)
{
	struct gup_mm *mm = gup_task_mm(t);
	struct gup_vma *vma;

	mmap_write_lock(mm);
	vma = vma_alloc(mm);
	assert_non_null(vma);
	vma->node.start = BASE;
	vma->node.end = BASE + FILE_PAGES * PAGE_SIZE;
	vma->vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE |
			(shared ? VM_SHARED | VM_MAYSHARE : 0);
	vma->vm_ops = &fake_ops;
	vma->vm_private = f;
	assert_int_equal(vma_link(mm, vma), 0);
	mmap_write_unlock(mm);
}

static void drop_cache(struct fake_file *f)
{
	for (int i = 0; i < FILE_PAGES; i++)
		if (f->cache[i]) {
			assert_int_equal(page_mapcount(f->cache[i]), 0);
			put_page(f->w, f->cache[i]);
			f->cache[i] = NULL;
		}
}

/* Private mapping: reads map the cache page R/O; a write gets an anon copy. */
static void test_private_file_cow(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 256, 128);
	struct fake_file f = { .w = w };
	struct gup_task *t = fx_task_new(w);
	char c;

	(void)state;
	map_fake(t, &f, false);
	assert_int_equal(gup_load(t, BASE + PAGE_SIZE, &c, 1), 0);
	assert_int_equal(c, 'B');
	assert_ptr_equal(fx_page_at(t, BASE + PAGE_SIZE), f.cache[1]);
	assert_false(fx_pte(t, BASE + PAGE_SIZE) & PTE_WRITE);	/* read: R/O */
	assert_int_equal(page_mapcount(f.cache[1]), 1);
	assert_int_equal(page_ref_count(f.cache[1]), 2);	/* cache + mapping */

	/* The write breaks COW away from the cache page: the file is unchanged. */
	c = 'x';
	assert_int_equal(gup_store(t, BASE + PAGE_SIZE, &c, 1), 0);
	assert_ptr_not_equal(fx_page_at(t, BASE + PAGE_SIZE), f.cache[1]);
	assert_true(PageAnon(fx_page_at(t, BASE + PAGE_SIZE)));
	assert_int_equal(page_data(&w->arena, f.cache[1])[0], 'B');
	assert_int_equal(page_mapcount(f.cache[1]), 0);
	assert_int_equal(page_ref_count(f.cache[1]), 1);	/* only the cache now */

	/* A first access that writes goes straight to an anon copy (do_cow_fault). */
	assert_int_equal(gup_store(t, BASE + 2 * PAGE_SIZE + 5, &c, 1), 0);
	assert_true(PageAnon(fx_page_at(t, BASE + 2 * PAGE_SIZE)));
	assert_int_equal(gup_load(t, BASE + 2 * PAGE_SIZE, &c, 1), 0);
	assert_int_equal(c, 'C');	/* copied from the file page */
	assert_int_equal(page_mapcount(f.cache[2]), 0);
	assert_int_equal(f.mkwrites, 0);	/* private writes never notify */

	gup_task_exit(t);
	assert_int_equal(f.closes, 1);
	assert_true(f.close_saw_private);
	drop_cache(&f);
	fx_world_end(w);
}

/* Shared mapping: writes reach the cache page, through page_mkwrite. */
static void test_shared_file_mkwrite(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 256, 128);
	struct fake_file f = { .w = w };
	struct gup_task *t = fx_task_new(w), *child;
	char c = 'z';

	(void)state;
	map_fake(t, &f, true);
	/* Read first: mapped R/O so that the first write is noticed. */
	assert_int_equal(gup_load(t, BASE, &c, 1), 0);
	assert_false(fx_pte(t, BASE) & PTE_WRITE);
	c = 'z';
	assert_int_equal(gup_store(t, BASE, &c, 1), 0);
	assert_int_equal(f.mkwrites, 1);
	assert_ptr_equal(fx_page_at(t, BASE), f.cache[0]);	/* no copy */
	assert_int_equal(page_data(&w->arena, f.cache[0])[0], 'z');
	assert_true(PageDirty(f.cache[0]));

	/* fork duplicates the VMA (open) but copies no PTEs of a shared mapping. */
	child = fx_fork(t);
	assert_int_equal(f.opens, 1);
	assert_int_equal(fx_pfn(child, BASE), -EFAULT);
	assert_int_equal(gup_load(child, BASE, &c, 1), 0);	/* faults it in */
	assert_int_equal(c, 'z');
	assert_int_equal(page_mapcount(f.cache[0]), 2);

	/* munmap closes the VMA with its private data intact. */
	assert_int_equal(gup_munmap(child, BASE, FILE_PAGES * PAGE_SIZE), 0);
	assert_int_equal(f.closes, 1);
	assert_true(f.close_saw_private);
	assert_int_equal(page_mapcount(f.cache[0]), 1);
	gup_task_exit(child);
	gup_task_exit(t);
	assert_int_equal(f.closes, 2);
	drop_cache(&f);
	fx_world_end(w);
}

/* A fault beyond the file's end is SIGBUS: the access fails with -EFAULT. */
static void test_file_sigbus(void **state)
{
	struct gup_world *w = fx_world_new(NULL, 256, 128);
	struct fake_file f = { .w = w };
	struct gup_task *t = fx_task_new(w);
	struct gup_mm *mm = gup_task_mm(t);
	char c;

	(void)state;
	map_fake(t, &f, true);
	mmap_write_lock(mm);
	vma_lookup(mm, BASE)->pgoff = FILE_PAGES - 1;	/* last page, then beyond */
	mmap_write_unlock(mm);
	assert_int_equal(gup_load(t, BASE, &c, 1), 0);
	assert_int_equal(gup_load(t, BASE + PAGE_SIZE, &c, 1), -EFAULT);
	gup_task_exit(t);
	drop_cache(&f);
	fx_world_end(w);
}

int main(void)
{
	const struct CMUnitTest file_hooks[] = {
		cmocka_unit_test(test_private_file_cow),
		cmocka_unit_test(test_shared_file_mkwrite),
		cmocka_unit_test(test_file_sigbus),
	};

	return cmocka_run_group_tests(file_hooks, NULL, NULL);
}
