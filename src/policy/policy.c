/* SPDX-License-Identifier: MIT */
/*
 * src/policy/policy.c - the presets.  Each cites where its rule comes from;
 * docs/policies.md has them side by side.
 */
#include <string.h>

#include "policy/policy.h"

static const struct gup_policy presets[] = {
	{
		.name = "linux-6.x",
		.summary = "5.19+ anon-exclusive: exclusive pages reused, R/O pins unshare, "
			   "fork copies maybe-pinned pages, gup-fast checks write_protect_seq "
			   "(linux_anchor 1.10-1.12)",
		.reuse = REUSE_ANON_EXCLUSIVE,
		.read_cow = READ_COW_UNSHARE,
		.fork_copy = FORK_COPY_MAYBE_PINNED,
		.fork_copy_how = FORK_HOW_KEEP,
		.fast_guard = FAST_GUARD_WP_SEQ,
		.fast_recheck = true,
		.fast_barrier = false,	/* the grab's cmpxchg is the full barrier */
		.fork_lock = FORK_LOCK_NONE,
		.mprotect_try_writable = true,
		.io_ref = IO_REF_PIN,
		.write_retry = WRITE_RETRY_WRITE,
	},
	{
		.name = "linux-2.6.29",
		.summary = "2009 baseline: COW reuse by mapcount==1, fork shares every page "
			   "(the bug of seed 004, R1/R2)",
		.reuse = REUSE_MAPCOUNT,
		.read_cow = READ_COW_NEVER,
		.fork_copy = FORK_COPY_NONE,
		.fork_copy_how = FORK_HOW_KEEP,
		/*
		 * 2009's x86 walk: the PTE mask and nothing else (L8650-8652), no
		 * write_protect_seq (5.11).  It had no recheck either; the engine's
		 * re-read is kept so that this baseline's verdicts and replays of
		 * FOLL_GET transfers stay as they were: --knob fast_recheck=off gives
		 * the 2009 walk exactly.
		 */
		.fast_guard = FAST_GUARD_NONE,
		.fast_recheck = true,
		.fast_barrier = false,
		.fork_lock = FORK_LOCK_NONE,
		.mprotect_try_writable = false,
		.io_ref = IO_REF_GET,
		.write_retry = WRITE_RETRY_READ,	/* "since we have COWed" (seed004 L1151) */
	},
	{
		.name = "linus-refcount",
		.summary = "F12, Linus 2009-03-17 (L7711-7747): 2.6.29 with do_wp_page reusing "
			   "only if page_count==1, so no COW hands a referenced page away",
		.reuse = REUSE_REFCOUNT,
		.read_cow = READ_COW_NEVER,
		.fork_copy = FORK_COPY_NONE,
		.fork_copy_how = FORK_HOW_KEEP,
		.fast_guard = FAST_GUARD_NONE,
		.fast_recheck = true,
		.fast_barrier = false,
		.fork_lock = FORK_LOCK_NONE,
		.mprotect_try_writable = false,
		.io_ref = IO_REF_GET,
		.write_retry = WRITE_RETRY_READ,
	},
	{
		.name = "linux-5.9",
		.summary = "5.9-5.10: COW reuse by refcount==1 (09854ba94c6a), fork copies "
			   "maybe-pinned pages (70e806e4e645), gup-fast not yet fenced off fork",
		.reuse = REUSE_REFCOUNT,
		.read_cow = READ_COW_NEVER,	/* a308c71bf1e6 removed the forced COW */
		.fork_copy = FORK_COPY_MAYBE_PINNED,
		/* write_protect_seq came with 5.11 (57efa1fe5957): before it, a
		 * gup-fast pin could race the fork that was sharing its page. */
		.fast_guard = FAST_GUARD_NONE,
		.fast_recheck = true,
		.fast_barrier = false,
		.fork_lock = FORK_LOCK_NONE,
		.mprotect_try_writable = false,
		.io_ref = IO_REF_PIN,
		.write_retry = WRITE_RETRY_WRITE,	/* 19be0eaffa3a, 4.8.3 */
	},
	{
		.name = "gvisor",
		.summary = "gVisor 5032ac926 (2026): a pin breaks COW even for reads, fork copies "
			   "maybe-pinned pages of an mm that ever pinned, no lockless walk",
		.reuse = REUSE_REFCOUNT,	/* isPMACopyOnWriteLocked: HasUniqueRef takes over */
		.read_cow = READ_COW_PIN,
		.fork_copy = FORK_COPY_MAYBE_PINNED,	/* hasPinned, sticky */
		.fork_copy_how = FORK_HOW_KEEP,		/* forkCopyPMALocked */
		.fast_guard = FAST_GUARD_SLOW,	/* Pin goes through getPMAsLocked */
		.fast_recheck = true,
		.fast_barrier = false,
		.fork_lock = FORK_LOCK_NONE,
		.mprotect_try_writable = false,
		.io_ref = IO_REF_PIN,		/* the device proxies Pin() */
		.write_retry = WRITE_RETRY_WRITE,
	},
	{
		.name = "andrea-v2",
		.summary = "F2, Andrea 2009-03-16 (L3531-5190): PG_gup, fork_pre_cow copies "
			   "pinned pages for the child, gup-fast PG_gup+smp_mb+recheck, read "
			   "GUPs de-COW anon pages",
		.reuse = REUSE_MAPCOUNT,	/* do_wp_page unchanged */
		.read_cow = READ_COW_ANON,
		.fork_copy = FORK_COPY_PG_GUP,
		.fork_copy_how = FORK_HOW_PRECOW,
		.fast_guard = FAST_GUARD_PG_GUP,
		.fast_recheck = true,
		.fast_barrier = true,
		.fork_lock = FORK_LOCK_NONE,
		.mprotect_try_writable = false,
		.io_ref = IO_REF_GET,
		.write_retry = WRITE_RETRY_READ,	/* his patch keeps 2.6.29's loop */
	},
	{
		.name = "nick-v3",
		.summary = "F5, Nick 2009-03-16 (L5318-5947): every GUP de-COWs and marks "
			   "PG_dontcow, fork copies those pages, gup-fast refuses anon pages "
			   "without it (no barrier)",
		.reuse = REUSE_MAPCOUNT,
		.read_cow = READ_COW_ALL,
		.fork_copy = FORK_COPY_DONTCOW,
		.fork_copy_how = FORK_HOW_DECOW,
		.fast_guard = FAST_GUARD_DONTCOW,
		.fast_recheck = true,
		.fast_barrier = false,	/* "one branch and no barrier" (L3088-3091) */
		.fork_lock = FORK_LOCK_NONE,
		.mprotect_try_writable = false,
		.io_ref = IO_REF_GET,
		.write_retry = WRITE_RETRY_READ,
	},
	{
		.name = "kosaki-v2",
		.summary = "F16, KOSAKI 2009-03-22 (L8571-8906): O_DIRECT holds mm_pinned_sem "
			   "until it completes, fork takes it for write, gup-fast's slow path "
			   "de-COWs, gup-fast for writable PTEs only",
		.reuse = REUSE_MAPCOUNT,	/* Linus's F12 not included (L8973-8976) */
		.read_cow = READ_COW_PINNING,
		.fork_copy = FORK_COPY_NONE,
		.fork_copy_how = FORK_HOW_KEEP,
		.fast_guard = FAST_GUARD_WRITABLE,
		.fast_recheck = true,
		.fast_barrier = false,
		.fork_lock = FORK_LOCK_DIO_COMPLETE,
		.mprotect_try_writable = false,
		.io_ref = IO_REF_GET,
		.write_retry = WRITE_RETRY_READ,
	},
	{
		.name = "freebsd",
		.summary = "FreeBSD vm_map_copy_entry: fork copies eagerly only wired map entries "
			   "(here: wired by a long-term pin); transient holds do not wire",
		.reuse = REUSE_MAPCOUNT,	/* vm_fault_cow renames only if the object is ours */
		.read_cow = READ_COW_NEVER,	/* a read hold: pmap_extract_and_hold on the COW page */
		.fork_copy = FORK_COPY_WIRED,
		.fork_copy_how = FORK_HOW_KEEP,	/* vm_fault_copy_entry: the parent keeps its pages */
		.fast_guard = FAST_GUARD_NONE,
		.fast_recheck = true,		/* pmap_extract_and_hold holds the pmap lock */
		.fast_barrier = false,
		.fork_lock = FORK_LOCK_NONE,
		.mprotect_try_writable = false,
		.io_ref = IO_REF_GET,		/* holds wire pages, not entries */
		.write_retry = WRITE_RETRY_WRITE,	/* vm_fault_quick_hold_pages faults for write */
	},
};

const char *const policy_names[] = { "linux-6.x", "linux-2.6.29", "andrea-v2", "nick-v3",
				     "kosaki-v2", "linus-refcount", "linux-5.9", "gvisor",
				     "freebsd", NULL };

_Static_assert(sizeof(presets) / sizeof(presets[0]) ==
	       sizeof(policy_names) / sizeof(policy_names[0]) - 1, "a name for every preset");

const struct gup_policy *policy_find(const char *name)
{
	if (!name)
		return &presets[0];
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}
