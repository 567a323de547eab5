/* SPDX-License-Identifier: MIT */
/*
 * <gup/uffd.h> - userfaultfd: page faults of an address space delivered to a
 * handler, which resolves them by filling pages in.
 *
 * Linux's userfaultfd(2) with UFFDIO_REGISTER, UFFDIO_COPY, UFFDIO_ZEROPAGE,
 * UFFDIO_WRITEPROTECT, UFFDIO_WAKE, UFFDIO_UNREGISTER and read(2) of fault
 * messages, for anonymous memory (docs/uffd.md).  A task that faults in a
 * registered range sleeps, with the mmap lock released, until the handler fills
 * the page (or wakes it, or closes the uffd); GUP without FOLL_UNLOCKABLE cannot
 * wait and fails with -EFAULT; FOLL_NOWAIT returns a short count.
 *
 * The calling task (@t, "current") is passed to every operation that takes the
 * mmap lock: its fatal signal makes that wait killable (-EINTR), and an operation
 * called while @t holds the uffd's mmap lock (gup_mmap_*_lock) is refused with
 * -EDEADLK instead of deadlocking.  gup_uffd_read and gup_uffd_wake take no mmap
 * lock and no task.
 *
 * Conventions as in <gup/gup.h>: 0 or a count, or a negative errno.  Ranges are
 * page aligned.  A uffd may be used by several threads at once.
 */
#ifndef GUP_UFFD_H
#define GUP_UFFD_H

#include "gup/gup.h"

#ifdef __cplusplus
extern "C" {
#endif

struct gup_uffd;

/*
 * gup_uffd_create - a userfaultfd for @mm.  It holds a reference to @mm until
 * gup_uffd_close (an open uffd keeps the address space alive, as a file would).
 * Return: 0, -EINVAL, -ENOMEM.
 */
GUP_API GUP_MUST_CHECK int gup_uffd_create(struct gup_mm *mm, struct gup_uffd **out);

/*
 * gup_uffd_close - release the uffd: every waiting task is woken (it retries and
 * then faults normally), every range is unregistered (uffd-wp markers dropped),
 * and the mm reference is put.  @t may be NULL if the caller has no task (the
 * -EDEADLK check is then skipped).  A closed handle stays valid until the world is
 * destroyed, and every call on it returns -EBADF (as a closed fd does).
 * Return: 0, -EBADF (already closed), -EINVAL, -EDEADLK.
 */
GUP_API int gup_uffd_close(struct gup_task *t, struct gup_uffd *uffd);

/* Registration modes (UFFDIO_REGISTER_MODE_*). */
#define GUP_UFFD_MISSING	(1u << 0)	/* faults on pages not present            */
#define GUP_UFFD_WP		(1u << 1)	/* writes to pages armed by writeprotect  */

/*
 * gup_uffd_register - deliver faults in [start, start+len) to @uffd.  Every VMA
 * the range meets (holes are skipped) is split at the edges and registered; it
 * must be anonymous memory, private or shared (MAP_SHARED|MAP_ANONYMOUS, for
 * GUP_UFFD_MISSING only).  Registering again with the same uffd replaces the mode.
 * In shared memory a fault is "missing" when the shared object has no page there
 * (a page another mapping brought in is just mapped).  Return: 0; -EINVAL (unaligned or empty range, bad mode, a VMA that cannot
 * be registered: file-backed, VM_IO/VM_PFNMAP); -ENOMEM (no VMA in the range, or
 * out of memory); -EPERM (a VMA without VM_MAYWRITE); -EBUSY (a VMA registered
 * with another uffd); -EBADF; -EINTR; -EDEADLK.
 */
GUP_API int gup_uffd_register(struct gup_task *t, struct gup_uffd *uffd, uint64_t start,
			      size_t len, unsigned mode);

/*
 * gup_uffd_unregister - stop delivering faults in [start, start+len): tasks
 * waiting there are woken, uffd-wp markers are dropped.  Return: as register
 * (-EBUSY: a VMA registered with another uffd).
 */
GUP_API int gup_uffd_unregister(struct gup_task *t, struct gup_uffd *uffd, uint64_t start,
				size_t len);

/* A fault message (struct uffd_msg, UFFD_EVENT_PAGEFAULT). */
#define GUP_UFFD_EVENT_PAGEFAULT	0x12
#define GUP_UFFD_PAGEFAULT_FLAG_WRITE	(1u << 0)	/* a write (or GUP FOLL_WRITE) */
#define GUP_UFFD_PAGEFAULT_FLAG_WP	(1u << 1)	/* a write to a uffd-wp page   */

struct gup_uffd_msg {
	uint32_t event;		/* GUP_UFFD_EVENT_PAGEFAULT                          */
	uint32_t flags;		/* GUP_UFFD_PAGEFAULT_FLAG_*                         */
	uint64_t address;	/* the faulting page (page aligned)                  */
	unsigned task_id;	/* gup_task_id of the faulting task; 0 for none      */
};

/*
 * gup_uffd_read - the oldest fault not read yet.  Waits up to @timeout_ns for one
 * (0: do not wait; UINT64_MAX: no limit).  A fault is reported once; if the task
 * is woken without its page being filled, it faults again and a new message comes.
 * Return: 0, -EAGAIN (none and @timeout_ns == 0), -ETIMEDOUT, -EBADF (closed,
 * also while waiting), -EINVAL.
 */
GUP_API int gup_uffd_read(struct gup_uffd *uffd, struct gup_uffd_msg *msg,
			  uint64_t timeout_ns);

/* UFFDIO_COPY modes. */
#define GUP_UFFD_COPY_DONTWAKE	(1u << 0)	/* fill, but leave the waiters asleep */
#define GUP_UFFD_COPY_WP	(1u << 1)	/* map the pages uffd-wp armed        */

/*
 * gup_uffd_copy - fill the missing pages [dst, dst+len) with @len bytes from @src
 * (UFFDIO_COPY): new anonymous pages (in shared memory: new pages of the shared
 * object), mapped writable if the VMA is (R/O with GUP_UFFD_COPY_WP), then the
 * tasks waiting in the range are woken.  The range must
 * lie in one VMA registered with @uffd.  Stops at the first page already mapped.
 * Return: bytes filled (@len, or fewer if it stopped after filling some: their
 * waiters are woken); -EEXIST (the first page is mapped, or in shared memory
 * exists); -ENOENT (not in one VMA
 * registered with @uffd); -EINVAL (unaligned or empty range, bad mode, COPY_WP on
 * a VMA not registered GUP_UFFD_WP); -EFAULT (@src NULL); -ENOMEM; -EBADF;
 * -EINTR; -EDEADLK.
 */
GUP_API long gup_uffd_copy(struct gup_task *t, struct gup_uffd *uffd, uint64_t dst,
			   const void *src, size_t len, unsigned mode);

#define GUP_UFFD_ZEROPAGE_DONTWAKE	(1u << 0)

/*
 * gup_uffd_zeropage - fill the missing pages [dst, dst+len) with zeroes
 * (UFFDIO_ZEROPAGE): private anonymous memory maps the shared zero page, as a
 * read fault would; shared memory gets a zeroed page.  Return: as gup_uffd_copy.
 */
GUP_API long gup_uffd_zeropage(struct gup_task *t, struct gup_uffd *uffd, uint64_t dst,
			       size_t len, unsigned mode);

/* UFFDIO_WRITEPROTECT modes. */
#define GUP_UFFD_WRITEPROTECT_WP	(1u << 0)	/* arm; without it, resolve   */
#define GUP_UFFD_WRITEPROTECT_DONTWAKE	(1u << 1)	/* resolve, but do not wake   */

/*
 * gup_uffd_writeprotect - arm (GUP_UFFD_WRITEPROTECT_WP) or resolve uffd-wp on
 * the pages present in [start, start+len).  An armed page is read-only; a write
 * to it is a GUP_UFFD_PAGEFAULT_FLAG_WP fault.  Resolving drops the marker (the
 * page stays read-only until the next write fault, which then proceeds as usual)
 * and wakes the tasks waiting in the range.  Pages not present are not armed.
 * Return: 0; -ENOENT (a VMA of the range not registered GUP_UFFD_WP with @uffd, or
 * no VMA); -EINVAL (range, mode: WP with DONTWAKE); -EBADF; -EINTR; -EDEADLK.
 */
GUP_API int gup_uffd_writeprotect(struct gup_task *t, struct gup_uffd *uffd, uint64_t start,
				  size_t len, unsigned mode);

/*
 * gup_uffd_wake - wake the tasks waiting on faults in [start, start+len)
 * (UFFDIO_WAKE), e.g. after a COPY with DONTWAKE.  They retry; a page still
 * missing faults again.  Return: 0, -EINVAL, -EBADF.
 */
GUP_API int gup_uffd_wake(struct gup_uffd *uffd, uint64_t start, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* GUP_UFFD_H */
