/* SPDX-License-Identifier: MIT */
/*
 * src/policy/policy.h - the knobs a design choice of the fork-vs-gup debate turns.
 *
 * One structure, one preset per design.  The engine consults the world's policy at
 * the decision points only (the COW reuse rule in do_wp_page, what fork copies
 * eagerly, mprotect's write upgrade, which references the users of GUP take);
 * everything else is common mechanism.  Later
 * issues add the remaining knobs and presets (andrea-v2, nick-v3, ...).
 */
#ifndef GUP_POLICY_H
#define GUP_POLICY_H

#include <stdbool.h>

/* do_wp_page: may a write fault on a R/O-mapped private anon page reuse it? */
enum cow_reuse_rule {
	/* 2.6.29: reuse_swap_page(): the page is mapped once (seed004 1.8, L5805). */
	REUSE_MAPCOUNT,
	/* 5.9-5.18: only the mapping's reference exists (page_count == 1, F12 L7743). */
	REUSE_REFCOUNT,
	/* 5.19+: PageAnonExclusive reuses unconditionally; else refcount == 1
	 * (wp_can_reuse_anon_folio, linux_anchor 1.11). */
	REUSE_ANON_EXCLUSIVE,
};

/* copy_present_pte: which anon pages fork copies for the child instead of sharing. */
enum fork_copy_rule {
	FORK_COPY_NONE,			/* 2.6.29: everything is shared COW          */
	/* 5.9+: maybe-pinned (MMF_HAS_PINNED && refcount >= 1024) exclusive pages
	 * (linux_anchor 1.12: folio_try_dup_anon_rmap -> -EBUSY -> copy). */
	FORK_COPY_MAYBE_PINNED,
};

/*
 * How the kernel's users of GUP (O_DIRECT, RDMA, process_vm_*) hold the pages of
 * an I/O: the reference type decides what fork and COW can tell about them.
 */
enum io_ref_rule {
	/* 5.6+: FOLL_PIN, released with unpin_user_pages(_dirty_lock): O_DIRECT
	 * through pin_user_pages_fast, ib_umem through FOLL_PIN|FOLL_LONGTERM. */
	IO_REF_PIN,
	/* 2009: FOLL_GET, released with put_page: direct-io.c's dio_refill_pages
	 * called get_user_pages_fast (seed004 1.20), ib_umem_get get_user_pages
	 * with write=1, force=!writable. */
	IO_REF_GET,
};

struct gup_policy {
	const char *name;
	const char *summary;
	enum cow_reuse_rule reuse;
	enum fork_copy_rule fork_copy;
	/* mprotect RO->RW maps exclusive anon pages writable at once
	 * (can_change_pte_writable, 5.x+; cow.c A2's "mprotect() optimization"). */
	bool mprotect_try_writable;
	enum io_ref_rule io_ref;	/* GUP users' references (src/io/) */
};

/* The preset called @name, or NULL. */
const struct gup_policy *policy_find(const char *name);
extern const char *const policy_names[];

#endif /* GUP_POLICY_H */
