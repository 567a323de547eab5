/* SPDX-License-Identifier: MIT */
/*
 * src/mm/page.c - the frame arena, the frame allocator, reference drops.
 *
 * The arena is one host mapping of nr_frames * 4 KiB plus a struct page array.
 * Frame 0 is the shared zero page; [1, movable_start) is ZONE_NORMAL and
 * [movable_start, nr_frames) ZONE_MOVABLE.
 *
 * The allocator is sharded (NR_ALLOC_SHARDS free stacks per zone, each with its own
 * spinlock) and an allocation starts at the shard of the calling OS thread
 * (sched_cpu_hint), so tasks on different CPUs rarely share a lock.  A frame is
 * freed to the shard its pfn belongs to (chunks of SHARD_CHUNK contiguous frames),
 * which keeps each shard's frames physically clustered.  Exhaustion is reported
 * only with every shard of the zone locked at once (zone_alloc_slow): no frame
 * hides, even from concurrent allocators that move shards around.
 */
#define _GNU_SOURCE	/* MAP_ANONYMOUS, MAP_POPULATE */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mm/page.h"
#include "world.h"
#include "debug.h"

static unsigned pfn_shard(uint64_t pfn)
{
	return (unsigned)((pfn / SHARD_CHUNK) % NR_ALLOC_SHARDS);
}

static enum zone_type pfn_zone(const struct frame_arena *a, uint64_t pfn)
{
	return pfn >= a->movable_start ? ZONE_MOVABLE : ZONE_NORMAL;
}

/*
 * A shard's free list is a stack of entries, pfn << 1 | FREE_ZEROED: popping needs
 * no descriptor read (a linked list would chase one cold struct page per pop), and
 * whether the frame is known to hold zeros travels in the entry.
 */
#define FREE_ZEROED	UINT64_C(1)

static uint64_t free_ent(uint64_t pfn, bool zeroed)
{
	return pfn << 1 | (zeroed ? FREE_ZEROED : 0);
}

/* Push an entry.  s->lock held (or the arena is being built). */
static void shard_push_ent(struct free_shard *s, uint64_t ent)
{
	if (unlikely(s->nr_free == s->cap)) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *ents = realloc(s->ents, cap * sizeof(*ents));

		/* Bounded by the frames of the zone; host memory exhaustion is fatal. */
		GUP_BUG_ON(!ents, "free list growth to %zu entries failed", cap);
		s->ents = ents;
		s->cap = cap;
	}
	s->ents[s->nr_free++] = ent;
	write_once_u64(&s->nr_hint, s->nr_free);
}

/* Pop the top entry of @s into *@ent; false if empty.  s->lock held. */
static bool shard_take_locked(struct free_shard *s, uint64_t *ent)
{
	if (!s->nr_free)
		return false;
	*ent = s->ents[--s->nr_free];
	write_once_u64(&s->nr_hint, s->nr_free);
	return true;
}

#define PAGES_ALIGN	((size_t)2 << 20)	/* a huge host page */

/* Take @store's host memory for @a, zeroed: true if it holds @nr_frames frames. */
static bool arena_take_stored(struct frame_arena *a, size_t nr_frames,
			      struct frame_arena_store *store)
{
	if (!store || !store->data || store->nr_frames != nr_frames)
		return false;
	a->data = store->data;
	a->pages = store->pages;
	a->pages_bytes = store->pages_bytes;
	memset(a->pages, 0, a->pages_bytes);	/* as a fresh mapping reads */
	store->data = NULL;
	return true;
}

int frame_arena_init(struct frame_arena *a, size_t nr_frames, size_t nr_movable,
		     bool prepopulate, struct frame_arena_store *store)
{
	size_t bytes = nr_frames << PAGE_SHIFT;
	int mflags = MAP_PRIVATE | MAP_ANONYMOUS | (prepopulate ? MAP_POPULATE : 0);

	memset(a, 0, sizeof(*a));
	if (!prepopulate && arena_take_stored(a, nr_frames, store))
		goto fill;
	a->data = mmap(NULL, bytes, PROT_READ | PROT_WRITE, mflags, -1, 0);
	if (a->data == MAP_FAILED)
		return -ENOMEM;
	/*
	 * The struct pages in huge host pages where the host allows (as Linux maps
	 * its vmemmap with PMDs): walkers that touch one struct page per page -
	 * gup-fast, unpin, fork - otherwise take a host TLB miss every 64 pages,
	 * a two-dimensional walk on a VM.  Fresh anonymous memory is zeroed.
	 * Not for a small arena: a huge page would be 2 MiB to zero for a few KiB
	 * of struct pages, and the explorer builds a small world per execution.
	 */
	a->pages_bytes = nr_frames * sizeof(struct page);
	if (a->pages_bytes >= PAGES_ALIGN)
		a->pages_bytes = (a->pages_bytes + PAGES_ALIGN - 1) & ~(PAGES_ALIGN - 1);
	a->pages = mmap(NULL, a->pages_bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->pages == MAP_FAILED)
		goto out_unmap;
	if (a->pages_bytes >= PAGES_ALIGN)
		madvise(a->pages, a->pages_bytes, MADV_HUGEPAGE);	/* a hint; may fail */
fill:
	a->nr_frames = nr_frames;
	a->movable_start = nr_frames - nr_movable;
	for (int z = 0; z < NR_ZONES; z++)
		for (int i = 0; i < NR_ALLOC_SHARDS; i++)
			spin_lock_init(&a->shards[z][i].lock);
	/* Push in descending order so that each shard hands out ascending pfns.
	 * Fresh anonymous host memory reads as zeros: the frames start known-zero. */
	for (uint64_t pfn = nr_frames - 1; pfn > ZERO_PFN; pfn--) {
		struct page *p = &a->pages[pfn];
		enum zone_type z = pfn_zone(a, pfn);

		p->zone = (uint8_t)z;
		init_private_u64(&p->flags, UINT64_C(1) << PG_free);
		shard_push_ent(&a->shards[z][pfn_shard(pfn)], free_ent(pfn, true));
	}
	/*
	 * A zone with no frames at all is empty from the start, and stays so (a
	 * free goes back to its pfn's zone): say so now, rather than let the first
	 * allocation find it out by locking every shard (zone_alloc_slow), maybe
	 * under other locks.  Under the explorer that is more locks held at once
	 * than it tracks, and the run stops (an untouched anonymous mapping's first
	 * write fault in a litmus test, whose world has no ZONE_MOVABLE).
	 */
	if (a->movable_start == 1)
		atomic_init(&a->zone_empty[ZONE_NORMAL], true);
	if (a->movable_start == nr_frames)
		atomic_init(&a->zone_empty[ZONE_MOVABLE], true);
	return 0;

out_unmap:
	munmap(a->data, bytes);
	return -ENOMEM;
}

void frame_arena_set_world(struct frame_arena *a, struct gup_world *w)
{
	for (size_t pfn = 0; pfn < a->nr_frames; pfn++)
		a->pages[pfn].w = w;
}

void frame_arena_destroy(struct frame_arena *a, struct frame_arena_store *store)
{
	size_t bytes = a->nr_frames << PAGE_SHIFT;

	for (int z = 0; z < NR_ZONES; z++)
		for (int i = 0; i < NR_ALLOC_SHARDS; i++)
			free(a->shards[z][i].ents);
	/* The frames the world used read as zeros again: fresh ones start known-zero. */
	if (store && !store->data && !madvise(a->data, bytes, MADV_DONTNEED)) {
		*store = (struct frame_arena_store){ a->data, a->pages, a->nr_frames,
						     a->pages_bytes };
		return;
	}
	munmap(a->data, bytes);
	munmap(a->pages, a->pages_bytes);
}

void frame_arena_store_release(struct frame_arena_store *store)
{
	if (!store->data)
		return;
	munmap(store->data, store->nr_frames << PAGE_SHIFT);
	munmap(store->pages, store->pages_bytes);
	store->data = NULL;
}

/* Lockless "is it empty?"; the locked take and zone_alloc_slow are authoritative. */
static bool shard_maybe_empty(struct free_shard *s)
{
	return !read_once_u64(&s->nr_hint);
}

static bool shard_pop(struct frame_arena *a, struct free_shard *s, uint64_t *ent)
{
	uint64_t next = 0;
	bool ok;

	if (shard_maybe_empty(s))
		return false;
	spin_lock(&s->lock);
	ok = shard_take_locked(s, ent);
	if (ok && s->nr_free)
		next = s->ents[s->nr_free - 1];
	spin_unlock(&s->lock);
	/* The next pop's frame: its descriptor is initialised then - start the miss. */
	if (next)
		prefetchw(pfn_to_page(a, next >> 1));
	return ok;
}

/* Two shards of one zone, locked in index (= address) order. */
static void shard_lock_pair(struct free_shard *a, struct free_shard *b)
{
	if (a < b) {
		spin_lock(&a->lock);
		spin_lock(&b->lock);
	} else {
		spin_lock(&b->lock);
		spin_lock(&a->lock);
	}
}

/*
 * Take every frame of @victim into @home (rmqueue_bulk's role): once a thread's
 * own shard runs dry it refills in one go instead of visiting other shards on
 * every allocation.  An empty home simply swaps stacks with the victim, O(1).
 * Both locks are held while the entries move, so a frame is never on no list.
 * Frees return frames to their pfn's home shard, so the shards rebalance.
 */
static bool shard_steal(struct free_shard *home, struct free_shard *victim)
{
	bool moved = false;

	if (shard_maybe_empty(victim))
		return false;
	shard_lock_pair(home, victim);
	if (victim->nr_free && !home->nr_free) {
		struct free_shard tmp = *home;

		home->ents = victim->ents;
		home->cap = victim->cap;
		home->nr_free = victim->nr_free;
		victim->ents = tmp.ents;
		victim->cap = tmp.cap;
		victim->nr_free = 0;
		moved = true;
	} else {
		uint64_t ent;

		/* Home was refilled meanwhile: move entries one by one (rare). */
		while (shard_take_locked(victim, &ent)) {
			shard_push_ent(home, ent);
			moved = true;
		}
	}
	write_once_u64(&home->nr_hint, home->nr_free);
	write_once_u64(&victim->nr_hint, victim->nr_free);
	spin_unlock(&victim->lock);
	spin_unlock(&home->lock);
	return moved;
}

/*
 * Exhaustion must be true exhaustion: with every shard of the zone locked (index
 * order) no frame can be in flight between lists.  Reached only when the lockless
 * peeks found nothing, i.e. near real exhaustion.
 */
static bool zone_alloc_slow(struct frame_arena *a, enum zone_type z, uint64_t *ent)
{
	struct free_shard *shards = a->shards[z];
	bool ok, in_flight;

again:
	ok = false;
	for (int i = 0; i < NR_ALLOC_SHARDS; i++)
		spin_lock(&shards[i].lock);
	for (int i = 0; i < NR_ALLOC_SHARDS && !ok; i++)
		ok = shard_take_locked(&shards[i], ent);
	in_flight = !ok && atomic_read(&a->nr_zeroing[z]);
	if (!ok && !in_flight)
		write_once_bool(&a->zone_empty[z], true);	/* still under every lock */
	for (int i = NR_ALLOC_SHARDS - 1; i >= 0; i--)
		spin_unlock(&shards[i].lock);
	if (in_flight) {
		/* A zeroing batch holds free frames for a few microseconds: wait. */
		cpu_relax_on(&a->nr_zeroing[z]);
		goto again;
	}
	return ok;
}

/* Pop from this thread's shard; when it is dry, take a whole other shard. */
static bool zone_alloc(struct frame_arena *a, enum zone_type z, uint64_t *ent)
{
	unsigned first = sched_cpu_hint() % NR_ALLOC_SHARDS;
	struct free_shard *home = &a->shards[z][first];
	bool ok;

	if (read_once_bool(&a->zone_empty[z]))
		return false;	/* found empty under all locks, no free since */
	ok = shard_pop(a, home, ent);
	for (unsigned i = 1; !ok && i < NR_ALLOC_SHARDS; i++)
		if (shard_steal(home, &a->shards[z][(first + i) % NR_ALLOC_SHARDS]))
			ok = shard_pop(a, home, ent);
	return ok || zone_alloc_slow(a, z, ent);
}

/*
 * Zeroing in batches, with streaming stores.  When a GFP_ZERO allocation gets a
 * frame that is not known to be zero, it also takes up to ZERO_BATCH-1 more such
 * frames from the top of its shard, zeroes them all with streaming stores
 * (mem_zero_frame_stream: no read-for-ownership of the old bytes, the cost that
 * dominates a cached memset of a cold frame), pays one fence for the batch, and
 * returns the extras marked known-zero - still free, visible to every allocator,
 * as FreeBSD keeps PG_ZERO pages on its free queues.  The next zeroing
 * allocations find them ready.  The fence comes before the frames are pushed or
 * returned, so the zeroes are ordered before the shard lock's release and before
 * the set_pte release that maps the frame.
 */
#define ZERO_BATCH	8

static void zero_batch(struct frame_arena *a, struct page *p)
{
	struct free_shard *home = &a->shards[p->zone][sched_cpu_hint() % NR_ALLOC_SHARDS];
	uint64_t extra[ZERO_BATCH - 1];
	int n = 0;

	spin_lock(&home->lock);
	while (n < ZERO_BATCH - 1 && home->nr_free &&
	       !(home->ents[home->nr_free - 1] & FREE_ZEROED))
		shard_take_locked(home, &extra[n++]);
	if (n)
		atomic_add(n, &a->nr_zeroing[p->zone]);	/* in flight: see zone_alloc_slow */
	spin_unlock(&home->lock);

	mem_zero_frame_stream(page_data(a, p), PAGE_SIZE);
	for (int i = 0; i < n; i++)
		mem_zero_frame_stream(a->data + ((extra[i] >> 1) << PAGE_SHIFT), PAGE_SIZE);
	mem_stream_fence();
	if (!n)
		return;
	spin_lock(&home->lock);	/* the release orders the zeroes before any taker */
	atomic_sub(n, &a->nr_zeroing[p->zone]);
	while (n--)
		shard_push_ent(home, extra[n] | FREE_ZEROED);
	spin_unlock(&home->lock);
}

struct page *alloc_page(struct gup_world *w, unsigned gfp)
{
	struct frame_arena *a = &w->arena;
	struct page *p;
	uint64_t ent;
	bool ok = false, zeroed;

	if (gfp & GFP_MOVABLE)
		ok = zone_alloc(a, ZONE_MOVABLE, &ent);
	if (!ok && !zone_alloc(a, ZONE_NORMAL, &ent))
		return NULL;
	p = pfn_to_page(a, ent >> 1);
	zeroed = ent & FREE_ZEROED;
	/* Ours alone until published through a PTE or a cache (free_frame left
	 * count and exclusivity at 0). */
	page_init_private(p, 0, 0, 0, false);
	init_private_uptr(&p->mapping, 0);
	if ((gfp & GFP_ZERO) && !zeroed)
		zero_batch(a, p);
	/* GUP_STAT_FRAME_ALLOC is derived (frees + frames in use): nothing to count. */
	return p;
}

void free_frame(struct gup_world *w, struct page *p)
{
	struct frame_arena *a = &w->arena;
	uint64_t pfn = page_to_pfn(a, p);
	struct free_shard *s = &a->shards[p->zone][pfn_shard(pfn)];

	GUP_BUG_ON(PageReserved(p), "freeing reserved pfn %llu", (unsigned long long)pfn);
	GUP_BUG_ON(page_count_word(p) != 0, "freeing pfn %llu with count %#llx",
		   (unsigned long long)pfn, (unsigned long long)page_count_word(p));
	write_bits_u64(&p->flags, PAGE_FLAGS_ALL, PG_BIT(PG_free));
	write_once_u8(&p->anon_exclusive, 0);
	spin_lock(&s->lock);
	shard_push_ent(s, free_ent(pfn, false));
	/* Under the shard lock: zone_alloc_slow cannot be between its check and flag. */
	if (read_once_bool(&a->zone_empty[p->zone]))
		write_once_bool(&a->zone_empty[p->zone], false);
	spin_unlock(&s->lock);
	count_vm_event(w, GUP_STAT_FRAME_FREE);
}

size_t frame_arena_nr_free(struct frame_arena *a, enum zone_type z)
{
	size_t n = 0;

	for (int i = 0; i < NR_ALLOC_SHARDS; i++) {
		spin_lock(&a->shards[z][i].lock);
		n += a->shards[z][i].nr_free;
		spin_unlock(&a->shards[z][i].lock);
	}
	return n;
}

/* No points: unhooked, or after page_ref_try_add_hooked's one point. */
bool page_ref_try_add_retry(struct page *p, uint32_t nr, uint64_t c)
{
	do {
		if (!page_ref_addable(c, nr))
			return false;
	} while (!try_cmpxchg_hk_u64(false, &p->count, &c, c + nr));
	return true;
}

bool page_ref_try_add_hooked(struct page *p, uint32_t nr)
{
	uint64_t c;

	/* The grab's one point; the loop below it makes none. */
	sched_point_at(SP_WRITE_BITS, &p->count, PAGE_COUNT_REF);
	c = read_once_hk_u64(false, &p->count);
	return page_ref_try_add_retry(p, nr, c);
}

void page_ref_sub_last(struct gup_world *w, struct page *p, uint64_t old, uint32_t nr)
{
	GUP_BUG_ON(count_ref(old) < nr, "refcount underflow on pfn %llu (%u - %u)",
		   (unsigned long long)page_to_pfn(&w->arena, p), count_ref(old), nr);
	if (count_ref(old) == nr) {
		GUP_BUG_ON(count_map(old) != 0, "last reference of a mapped page");
		free_frame(w, p);
	}
}

/* ---- the page lock (page.h) ---- */

/*
 * Hashed by pfn, not by address: which pages share a queue must not depend on
 * where the arena landed, or the explorer's objects (and so its replays and
 * its figures) would change from one process to the next.
 */
static struct wait_queue_head *page_waitqueue(struct page *p)
{
	uint64_t h = page_to_pfn(&p->w->arena, p);

	return &p->w->page_wait[(h * UINT64_C(0x9E3779B97F4A7C15)) >> 58];
}

static bool page_trylock_cond(void *arg)
{
	return trylock_page(arg);
}

static bool page_unlocked_cond(void *arg)
{
	struct page *p = arg;

	return !test_bit(PG_locked, &p->flags);
}

int lock_page_killable(struct page *p, _Atomic bool *fatal)
{
	if (trylock_page(p))
		return 0;
	return wait_event_fn(page_waitqueue(p), page_trylock_cond, p, fatal);
}

void lock_page(struct page *p)
{
	lock_page_killable(p, NULL);
}

int wait_on_page_locked_killable(struct page *p, _Atomic bool *fatal)
{
	return wait_event_pure_fn(page_waitqueue(p), page_unlocked_cond, p, fatal);
}

void unlock_page(struct page *p)
{
	/* The bit is clear before the wake (release), as wake_up_all requires. */
	clear_bit_unlock(PG_locked, &p->flags);
	wake_up_all(page_waitqueue(p));
}
