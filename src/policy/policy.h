/* SPDX-License-Identifier: MIT */
/*
 * src/policy/policy.h - the knobs a design choice of the fork-vs-gup debate turns.
 *
 * One structure, one preset per design (policy.c), one table of knob names and
 * values (knobs.c) for `--knob name=value` and `gup policies`.  The engine
 * consults the world's copy of the policy (w->policy) at the decision points
 * only; everything else is common mechanism.  Each knob says what it decides,
 * where the engine decides it, and which fix of the 2009 thread (seed004.md §3,
 * F1-F17) or which later Linux change each value comes from, with seed lines
 * ("L4333") of ../shared/seeds/004_d31178e16a7de27e.txt.  docs/policies.md has
 * the same as a table.
 *
 * Not modelled: hugetlb (the engine has no huge pages; Andrea's per-subpage
 * PG_gup, L4367-4463, and copy_hugetlb_page_range, L4615-4653, have nowhere to
 * go), swap (R6-R8 need it), KSM (R5).
 */
#ifndef GUP_POLICY_H
#define GUP_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * reuse - do_wp_page (mm/fault.c wp_can_reuse_anon): may a write fault on a R/O
 * mapped private anon page make it writable in place instead of copying it?
 */
enum cow_reuse_rule {
	/* 2.6.29: reuse_swap_page(): the page is mapped once (seed004 1.8, L5805). */
	REUSE_MAPCOUNT,
	/* F12 (Linus, L7743-7744), Linux 5.9-5.18 (09854ba94c6a): only the mapping's
	 * reference exists (page_count == 1); an extra reference forces a copy. */
	REUSE_REFCOUNT,
	/* 5.19+: PageAnonExclusive reuses unconditionally; else refcount == 1
	 * (wp_can_reuse_anon_folio, linux_anchor 1.11). */
	REUSE_ANON_EXCLUSIVE,
};

/*
 * read_cow - GUP slow path (gup/gup.c follow_page_pte): does a GUP that does not
 * ask for write access break COW before it takes its reference, so that the
 * reference cannot end up on a page a later COW fault gives away (R2)?
 */
enum read_cow_rule {
	READ_COW_NEVER,		/* 2.6.29: the shared page is returned as is        */
	/* Andrea v2 (F2): FOLL_GET on a PageAnon page with a R/O PTE forces a write
	 * fault first (follow_page's *flagsp |= FOLL_WRITE, L5061-5074). */
	READ_COW_ANON,
	/* Nick v3 (F5): every GUP that returns pages, on any page of a COW mapping
	 * ("decow = (pages && is_cow_mapping(vma))", L5719-5726, L5743-5744). */
	READ_COW_ALL,
	/* KOSAKI v2 (F16): only GUP_FLAGS_PINNING_PAGE calls - gup-fast's slow path
	 * (L8680-8702, L8860-8883); plain get_user_pages is left alone (R15). */
	READ_COW_PINNING,
	/* gVisor (5032ac926): every pin, even a R/O one, breaks COW
	 * ("(at.Write || forPin) && isPMACopyOnWriteLocked", peers.md C). */
	READ_COW_PIN,
	/* 5.19+: a R/O FOLL_PIN of a page that is not anon-exclusive takes an unshare
	 * fault; the PTE stays R/O (gup_must_unshare, linux_anchor 1.10). */
	READ_COW_UNSHARE,
};

/*
 * fork_copy - copy_present_pte (mm/fork.c): which anon pages fork gives the child
 * a copy of instead of sharing them COW.
 */
enum fork_copy_rule {
	FORK_COPY_NONE,			/* 2.6.29: everything is shared COW          */
	/* Andrea v2 (F2): PG_gup (set by GUP, L5070-5071, L4333-4335) and more
	 * references than mappings, checked after the write-protect and smp_mb, or
	 * the page lock not obtained (L4786-4845).  Only a writable parent PTE. */
	FORK_COPY_PG_GUP,
	/* Nick v3 (F5): PG_dontcow, set by every GUP that returns pages of a COW
	 * mapping (L5743-5744); copy_one_pte returns 1 for it (L5531-5532). */
	FORK_COPY_DONTCOW,
	/* 5.9+ (70e806e4e645), gVisor: maybe-pinned (MMF_HAS_PINNED, sticky, and
	 * refcount >= 1024) anon pages; with anon-exclusivity only exclusive ones
	 * (linux_anchor 1.12: folio_try_dup_anon_rmap -> -EBUSY -> copy). */
	FORK_COPY_MAYBE_PINNED,
	/* FreeBSD: every page of a wired map entry (vm_map_copy_entry ->
	 * vm_fault_copy_entry); only a FOLL_LONGTERM pin wires an entry here, a
	 * transient hold (vm_fault_quick_hold_pages) does not (peers.md C). */
	FORK_COPY_WIRED,
};

/* fork_copy_how - how fork makes the copy fork_copy asks for, and re-validates it. */
enum fork_copy_how {
	/* copy_present_page (5.9+), vm_fault_copy_entry (FreeBSD): decided before
	 * sharing, copied under both PT locks; the parent's PTE is never touched. */
	FORK_HOW_KEEP,
	/* Nick v3 decow_one_pte (L5417-5591): shared first (parent write-protected,
	 * child mapped), then the child's PTE is replaced by a copy made with the PT
	 * locks dropped, the child's PTE re-validated with pte_same (-EAGAIN: retry).
	 * No TLB flush before the copy (R4, seed004 F4 [obs]); the parent stays R/O
	 * and reuses the page at its next write (L2224-2228). */
	FORK_HOW_DECOW,
	/* Andrea v2 fork_pre_cow (L5102-5175): shared first (parent write-protected,
	 * the child's mapping counted, smp_mb), then decided; flush_tlb_page so the
	 * copy is atomic against the parent's threads (L4831, L624-631), copied with
	 * both PT locks dropped, both PTEs re-validated with pte_same (-EAGAIN: undo,
	 * retry), the child mapped to the copy and the parent's PTE made writable
	 * again (L2301-2304). */
	FORK_HOW_PRECOW,
};

/*
 * fast_guard - gup-fast (gup/fast.c): what stops the lockless walk from grabbing
 * a page that fork is making COW-shared (R3) or that must be de-COWed first.
 */
enum fast_guard_rule {
	FAST_GUARD_NONE,	/* 2.6.29's x86 walk (L8650-8652): the PTE mask only  */
	/* Andrea v2 (F2, L4333-4352): on anon pages, after the grab, set PG_gup; then
	 * (fast_barrier) smp_mb, (fast_recheck) the PTE must still be there and
	 * writable, else undo and fall back.  The R3 answer (L590-613). */
	FAST_GUARD_PG_GUP,
	/* Nick v3 (F5, L5845-5846, L3304-3305): refuse PageAnon && !PageDontCOW
	 * before the grab; "one branch and no barrier" (L3088-3091). */
	FAST_GUARD_DONTCOW,
	/* KOSAKI v2 (F16, L8647-8679; Linus's GUP_MASK, L9071-9080): refuse every
	 * PTE without write permission, reads included. */
	FAST_GUARD_WRITABLE,
	/* 5.11+ (57efa1fe5957): FOLL_PIN samples mm->write_protect_seq and backs off
	 * if a fork write-protected meanwhile (linux_anchor 1.12). */
	FAST_GUARD_WP_SEQ,
	/* No lockless walk: straight to the slow path, as the weak generic
	 * get_user_pages_fast (mm/util.c, L8890-8906) and gVisor's Pin. */
	FAST_GUARD_SLOW,
};

/*
 * fork_lock - a per-mm fork-exclusion rwsem (mm->mm_pinned_sem) that O_DIRECT
 * holds for read and fork takes for write (io/dma.c, mm/fork.c).
 */
enum fork_lock_rule {
	FORK_LOCK_NONE,
	/* KOSAKI v1 (F10, L6061-6073, L6103-6121): held across direct_io_worker,
	 * i.e. a synchronous transfer until it completes, an asynchronous one only
	 * until it is queued (-EIOCBQUEUED): AIO escapes (R10, L7003-7013). */
	FORK_LOCK_DIO_SUBMIT,
	/* KOSAKI v2 (F16, L8719-8743, L8797-8813): taken at submission, released by
	 * dio_complete (up_read_non_owner) - fork waits for in-flight I/O (R13). */
	FORK_LOCK_DIO_COMPLETE,
};

/*
 * io_ref - pin accounting of the kernel's users of GUP (src/io/): the reference
 * type decides what fork and COW can tell about them.
 */
enum io_ref_rule {
	/* 5.6+: FOLL_PIN (+GUP_PIN_COUNTING_BIAS), released with
	 * unpin_user_pages(_dirty_lock): O_DIRECT through pin_user_pages_fast,
	 * ib_umem through FOLL_PIN|FOLL_LONGTERM. */
	IO_REF_PIN,
	/* 2009: FOLL_GET (+1), released with put_page: direct-io.c's dio_refill_pages
	 * called get_user_pages_fast (seed004 1.20), ib_umem get_user_pages with
	 * write=1, force=!writable. */
	IO_REF_GET,
};

/*
 * write_retry - how the GUP loop looks a page up again after a write fault
 * that made it the mapping's own (VM_FAULT_WRITE).
 */
enum write_retry_rule {
	/* 4.8.3+ (19be0eaffa3a, FOLL_COW; today can_follow_write_pte): as a write
	 * again, so a zapped page means another write fault and another copy. */
	WRITE_RETRY_WRITE,
	/* 2.6.29 __get_user_pages: as a read, "since we have COWed" - a page zapped
	 * in between comes back read-faulted: Dirty COW (CVE-2016-5195). */
	WRITE_RETRY_READ,
};

struct gup_policy {
	const char *name;		/* the preset's name (static)                */
	const char *summary;		/* one line, citing its source (static)      */
	enum cow_reuse_rule reuse;
	enum read_cow_rule read_cow;
	enum fork_copy_rule fork_copy;
	enum fork_copy_how fork_copy_how;
	enum fast_guard_rule fast_guard;
	/*
	 * gup-fast re-reads the PTE after the grab and undoes it if the PTE changed
	 * (Andrea's recheck, L4346-4351; the generic grab-then-recheck since).  Off:
	 * the 2009 x86 walk, which relied on its irq-off section alone (L397-399) -
	 * R3's "Sometimes without the recheck" (L376-402, L720).
	 */
	bool fast_recheck;
	/*
	 * gup-fast issues smp_mb between the grab (and PG_gup) and the recheck
	 * (Andrea, L4336).  Nick claimed his scheme needs none (L3088-3091, L5219-5221).
	 * The explorer is sequentially consistent, so only free-mode threads on a
	 * weakly ordered machine could tell the difference (docs/policies.md).
	 */
	bool fast_barrier;
	enum fork_lock_rule fork_lock;
	/* mprotect RO->RW maps exclusive anon pages writable at once
	 * (can_change_pte_writable, 5.x+; cow.c A2's "mprotect() optimization"). */
	bool mprotect_try_writable;
	enum io_ref_rule io_ref;	/* GUP users' references (src/io/) */
	enum write_retry_rule write_retry;
};

/* ---- presets (policy.c) ---- */

/* The preset called @name (NULL: the default, linux-6.x), or NULL. */
const struct gup_policy *policy_find(const char *name);
/* The presets' names, NULL-terminated; the default first. */
extern const char *const policy_names[];

/* ---- knobs (knobs.c) ---- */

/*
 * policy_build - the preset @name (NULL: the default) with the overrides @knobs
 * ("name=value" strings, NULL-terminated; NULL: none) applied in order, into
 * *@out.  Return: 0, or -EINVAL with what is wrong in @err (if non-NULL): an
 * unknown preset, knob or value (each message lists what is known).
 */
int policy_build(struct gup_policy *out, const char *name, const char *const *knobs,
		 char *err, size_t err_size);

/*
 * policy_format - every knob of @p as "name=value" separated by spaces, into
 * @buf (truncated to @size).  Return: the length it needed, as snprintf.
 */
int policy_format(const struct gup_policy *p, char *buf, size_t size);

#endif /* GUP_POLICY_H */
