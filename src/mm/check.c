/* SPDX-License-Identifier: MIT */
/*
 * src/mm/check.c - the invariant checker (gup_world_check) for tests and tools.
 *
 * It recounts, from the page tables and the shmem and file caches, what every frame's
 * counts must be, and compares.  The world must be quiescent: no task inside a
 * call (the checker still takes each mm's mmap lock and the free-list locks, so
 * a forgotten thread shows up as a wait, not as garbage).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "mm/fault.h"
#include "mm/filemap.h"
#include "world.h"

struct checker {
	struct gup_world *w;
	FILE *out;
	int violations;
	uint32_t *mapped;	/* PTEs found per pfn */
	uint32_t *cached;	/* shmem and file cache references per pfn */
	struct gup_mm *mm;
	size_t rss;
};

__attribute__((format(printf, 2, 3)))
static void violation(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->out, "libgup: invariant violated: ");
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
	c->violations++;
}

static void check_pte(struct checker *c, uint64_t addr, uint64_t pte)
{
	struct gup_mm *mm = c->mm;
	struct gup_vma *vma = vma_lookup(mm, addr);
	struct page *page;
	uint64_t pfn = pte_pfn(pte);

	if (!vma)
		violation(c, "mm %u: PTE at %#llx outside any VMA", mm->id,
			  (unsigned long long)addr);
	/* uffd-wp: a marker is R/O and lives only in a VMA registered for it. */
	if ((pte & PTE_UFFD_WP) && (pte_write(pte) || (vma && !(vma->vm_flags & VM_UFFD_WP))))
		violation(c, "mm %u: uffd-wp PTE at %#llx is writable or outside a WP VMA",
			  mm->id, (unsigned long long)addr);
	if (!pfn_valid(&c->w->arena, pfn)) {
		violation(c, "mm %u: PTE at %#llx maps pfn %llu beyond the arena", mm->id,
			  (unsigned long long)addr, (unsigned long long)pfn);
		return;
	}
	if (pte_special(pte)) {
		if (pfn != ZERO_PFN || pte_write(pte))
			violation(c, "mm %u: special PTE at %#llx is not a R/O zero page",
				  mm->id, (unsigned long long)addr);
		return;
	}
	page = pfn_to_page(&c->w->arena, pfn);
	if (PageFree(page) || pfn == ZERO_PFN)
		violation(c, "mm %u: PTE at %#llx maps %s pfn %llu", mm->id,
			  (unsigned long long)addr, pfn == ZERO_PFN ? "the zero page as normal"
								   : "free", (unsigned long long)pfn);
	c->mapped[pfn]++;
	c->rss++;
	if (pte_write(pte) && PageAnon(page) && !PageAnonExclusive(page) &&
	    c->w->policy->reuse == REUSE_ANON_EXCLUSIVE)
		violation(c, "mm %u: writable PTE at %#llx maps non-exclusive anon pfn %llu",
			  mm->id, (unsigned long long)addr, (unsigned long long)pfn);
}

static int check_pte_table(struct pgtable *pt, uint64_t addr, uint64_t end, void *arg)
{
	for (; addr != end; addr += PAGE_SIZE) {
		uint64_t pte = ptep_get(&pt->ent[pte_index(addr)]);

		if (pte_present(pte))
			check_pte(arg, addr, pte);
		else if (!pte_none(pte))
			violation(arg, "non-present, non-none PTE %#llx at %#llx",
				  (unsigned long long)pte, (unsigned long long)addr);
	}
	return 0;
}

static void check_mm(struct checker *c, struct gup_mm *mm)
{
	size_t tables;

	mmap_read_lock(mm);
	c->mm = mm;
	c->rss = 0;
	/* Every table reached and counted: a directory's nr_pde too low would hide some. */
	tables = walk_all_pte_tables(mm, check_pte_table, c);
	if (tables != stat_read(&mm->nr_pgtables))
		violation(c, "mm %u: %s: %llu tables counted", mm->id,
			  tables == SIZE_MAX ? "a directory holds fewer tables than it counts"
					     : "page tables reached differ from the count",
			  (unsigned long long)stat_read(&mm->nr_pgtables));
	if ((int64_t)c->rss != mm_rss(mm))
		violation(c, "mm %u: rss counter %lld but %zu pages mapped", mm->id,
			  (long long)mm_rss(mm), c->rss);
	if (vma_tree_validate(&mm->vmas))
		violation(c, "mm %u: VMA tree corrupt", mm->id);
	for (struct gup_vma *v = node_vma(vma_tree_first(&mm->vmas)); v; v = vma_next(v))
		if (!v->uffd != !(v->vm_flags & VM_UFFD_FLAGS))
			violation(c, "mm %u: VMA at %#llx: userfaultfd flags %#x but uffd %p",
				  mm->id, (unsigned long long)vma_start(v),
				  v->vm_flags & VM_UFFD_FLAGS, (void *)v->uffd);
	mmap_read_unlock(mm);
}

static void check_shmem(struct checker *c, struct shmem_obj *obj)
{
	spin_lock(&obj->lock);
	for (size_t i = 0; i < obj->nr_pages; i++)
		if (obj->pages[i])
			c->cached[page_to_pfn(&c->w->arena, obj->pages[i])]++;
	spin_unlock(&obj->lock);
}

/* A file's page cache (DAX: its blocks) holds one reference per slot. */
static void check_file(struct checker *c, struct gup_file *f)
{
	spin_lock(&f->lock);
	for (uint64_t i = 0; i < file_nr_slots(f); i++)
		if (f->pages[i])
			c->cached[page_to_pfn(&c->w->arena, f->pages[i])]++;
	spin_unlock(&f->lock);
}

/* Per frame: counts as recounted; returns the references nothing here explains. */
static uint64_t check_frame(struct checker *c, uint64_t pfn)
{
	struct page *p = pfn_to_page(&c->w->arena, pfn);
	uint64_t cw = page_count_word(p);
	uint32_t ref = count_ref(cw), map = count_map(cw);
	uint32_t base = c->mapped[pfn] + c->cached[pfn] + (pfn == ZERO_PFN);

	if (PageFree(p)) {
		if (cw)
			violation(c, "free pfn %llu has count %#llx", (unsigned long long)pfn,
				  (unsigned long long)cw);
		return 0;
	}
	if (map != c->mapped[pfn])
		violation(c, "pfn %llu: mapcount %u but %u PTEs map it",
			  (unsigned long long)pfn, map, c->mapped[pfn]);
	if (ref < base) {
		violation(c, "pfn %llu: refcount %u below mappings+caches %u",
			  (unsigned long long)pfn, ref, base);
		return 0;
	}
	if (PageAnonExclusive(p) && c->mapped[pfn] > 1)
		violation(c, "pfn %llu: anon-exclusive but mapped %u times",
			  (unsigned long long)pfn, c->mapped[pfn]);
	if (ref == 0)
		violation(c, "pfn %llu: allocated but unreferenced", (unsigned long long)pfn);
	return ref - base;
}

static void check_free_lists(struct checker *c)
{
	struct frame_arena *a = &c->w->arena;
	size_t listed = 0, flagged = 0;

	for (int z = 0; z < NR_ZONES; z++)
		for (int i = 0; i < NR_ALLOC_SHARDS; i++) {
			spin_lock(&a->shards[z][i].lock);
			listed += a->shards[z][i].nr_free;
			spin_unlock(&a->shards[z][i].lock);
		}
	for (uint64_t pfn = 0; pfn < a->nr_frames; pfn++)
		flagged += PageFree(pfn_to_page(a, pfn));
	if (listed != flagged)
		violation(c, "%zu frames on free lists but %zu marked free", listed, flagged);
}

int world_check(struct gup_world *w, FILE *out)
{
	struct checker c = { .w = w, .out = out ? out : w->report };
	uint64_t extra = 0, expected;
	struct gup_mm *mm;
	struct shmem_obj *obj;
	struct gup_file *f;

	c.mapped = calloc(w->arena.nr_frames, sizeof(*c.mapped));
	c.cached = calloc(w->arena.nr_frames, sizeof(*c.cached));
	if (!c.mapped || !c.cached) {
		free(c.mapped);
		free(c.cached);
		return -ENOMEM;
	}
	spin_lock(&w->lock);	/* the lists stay put; mm locks nest inside (quiescent) */
	list_for_each_entry(mm, &w->mm_list, struct gup_mm, list)
		check_mm(&c, mm);
	list_for_each_entry(obj, &w->shmem_list, struct shmem_obj, list)
		check_shmem(&c, obj);
	list_for_each_entry(f, &w->file_list, struct gup_file, list)
		check_file(&c, f);
	spin_unlock(&w->lock);
	for (uint64_t pfn = 0; pfn < w->arena.nr_frames; pfn++)
		extra += check_frame(&c, pfn);
	check_free_lists(&c);
	/* What remains are GUP references and pins: the counters must explain them. */
	expected = (vm_stat_sum(w, GUP_STAT_GET_ACQUIRED) - vm_stat_sum(w, GUP_STAT_GET_RELEASED)) +
		   GUP_PIN_COUNTING_BIAS * (vm_stat_sum(w, GUP_STAT_PIN_ACQUIRED) -
					    vm_stat_sum(w, GUP_STAT_PIN_RELEASED));
	if (extra != expected)
		violation(&c, "%llu references not explained by mappings or caches, but the "
			  "GUP counters account for %llu", (unsigned long long)extra,
			  (unsigned long long)expected);
	free(c.mapped);
	free(c.cached);
	return c.violations;
}

GUP_API int gup_world_check(struct gup_world *w, FILE *out)
{
	if (!w)
		return -EINVAL;
	return world_check(w, out);
}
