/* SPDX-License-Identifier: MIT */
/*
 * <gup/io.h> - the users of get_user_pages: devices and syscalls that reach a
 * task's memory by physical page, never through its page tables.
 *
 *   gup_dio_*            O_DIRECT-style DMA between a disk and user memory, at
 *                        512-byte granularity, synchronous or asynchronous; the
 *                        transfer runs on the world's DMA engine (I/O threads).
 *   gup_fixed_buffers_*  io_uring-style registered buffers: pinned once
 *                        (FOLL_PIN|FOLL_LONGTERM|FOLL_WRITE), then named by index
 *                        in DMA requests, with no GUP at I/O time.
 *   gup_pipe_*, gup_vmsplice
 *                        a pipe holding read-only FOLL_GET references on user
 *                        pages until it is read (CVE-2020-29374's shape).
 *   gup_process_vm_readv/_writev
 *                        copies to and from another mm through the remote GUP.
 *   gup_rdma_*           an RDMA NIC's memory regions, pinned until deregistered
 *                        and read or written by the device at any time.
 *
 * How the references are taken follows the world's policy: FOLL_PIN on
 * "linux-6.x", FOLL_GET on "linux-2.6.29" (2009's direct-io.c and ib_umem_get),
 * which is what makes fork lose DMA there (docs/io.md).  Conventions as in
 * <gup/gup.h>: 0 or a count, or a negative errno; an object is used by one thread
 * at a time unless a function says otherwise.
 */
#ifndef GUP_IO_H
#define GUP_IO_H

#include "gup/file.h"
#include "gup/gup.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A range of user memory (struct iovec): @base is a user address. */
struct gup_iovec {
	uint64_t base;
	size_t len;
};

/* Most segments in one request (UIO_MAXIOV). */
#define GUP_IOV_MAX		1024u
/* Most bytes in one request or call (Linux's MAX_RW_COUNT: INT_MAX, page-aligned). */
#define GUP_IO_MAX_BYTES	((size_t)0x7ffff000)

/* ---- O_DIRECT-style DMA ------------------------------------------------------- */

/* The direction of a transfer. */
#define GUP_DIO_READ		0	/* disk -> memory (the pages get FOLL_WRITE)  */
#define GUP_DIO_WRITE		1	/* memory -> disk (read-only references)      */

/* One request in flight (an iocb).  Opaque. */
struct gup_dio;

/*
 * gup_dio_submit - start a transfer between @d at byte @pos and the segments of
 * @t's memory in @iov (preadv/pwritev order: the disk range is split over the
 * segments one after the other).  @pos, every segment's base and length must be
 * multiples of 512 (zero-length segments are ignored); sub-page addresses are
 * fine.  The pages are referenced here, in the caller's thread, with the GUP the
 * policy prescribes; the bytes move later on an I/O thread, by physical page.
 * The caller must not hold @t's mmap lock.
 * Return: 0 and *@out (reap it with gup_dio_wait), or -EINVAL (bad arguments,
 * misaligned, beyond the disk, more than GUP_IOV_MAX segments or
 * GUP_IO_MAX_BYTES bytes), -EFAULT (a segment is not mapped with the access the
 * transfer needs: nothing stays referenced), -ENOMEM, -EINTR.
 */
GUP_API GUP_MUST_CHECK int gup_dio_submit(struct gup_task *t, struct gup_disk *d, int op,
					  uint64_t pos, const struct gup_iovec *iov,
					  unsigned nr_segs, struct gup_dio **out);

/* Has @req completed (gup_dio_wait would not block)?  Any thread. */
GUP_API bool gup_dio_done(struct gup_dio *req);

/*
 * gup_dio_wait - wait for @req to complete and free it.  By then its references
 * are released (pages a read wrote are marked dirty first).
 * Return: the bytes transferred, or a negative errno; -EINVAL for NULL.
 */
GUP_API long gup_dio_wait(struct gup_dio *req);

/* Synchronous forms: submit and wait.  Return: bytes, or as gup_dio_submit. */
GUP_API long gup_dio_read(struct gup_task *t, struct gup_disk *d, uint64_t pos,
			  const struct gup_iovec *iov, unsigned nr_segs);
GUP_API long gup_dio_write(struct gup_task *t, struct gup_disk *d, uint64_t pos,
			   const struct gup_iovec *iov, unsigned nr_segs);

/*
 * gup_dio_plug/unplug - hold the world's DMA engine: requests submitted while it
 * is plugged keep their references but do not start until the last unplug (a
 * test's way to put a transfer "in flight" for as long as it likes).  Waiting on
 * such a request blocks until then.  World teardown runs held requests anyway.
 * Return: 0, -EINVAL (NULL, or unplug without plug), -ENOMEM, -EAGAIN (no thread).
 */
GUP_API int gup_dio_plug(struct gup_world *w);
GUP_API int gup_dio_unplug(struct gup_world *w);

/* ---- io_uring-style fixed buffers ---------------------------------------------- */

struct gup_fixed_buffers;

/* Most buffers in one registration, and the largest buffer (IORING_MAX_REG_BUFFERS, 1 GiB). */
#define GUP_FIXED_MAX_BUFFERS	16384u
#define GUP_FIXED_MAX_LEN	((size_t)1 << 30)

/*
 * gup_fixed_buffers_register - pin @nr buffers of @t's memory for I/O
 * (FOLL_PIN|FOLL_LONGTERM|FOLL_WRITE, as io_uring_register(IORING_REGISTER_BUFFERS)).
 * Return: 0 and *@out, -EINVAL (NULL, nr out of range, a buffer of length 0 or
 * above GUP_FIXED_MAX_LEN), -EFAULT (beyond user space, or not mapped writable:
 * nothing stays pinned), -ENOMEM.
 */
GUP_API GUP_MUST_CHECK int gup_fixed_buffers_register(struct gup_task *t,
						      const struct gup_iovec *iov, unsigned nr,
						      struct gup_fixed_buffers **out);

/*
 * gup_fixed_buffers_unregister - drop the registration.  The pins go when the
 * last request using the buffers completes.  Return: 0, -EINVAL.
 */
GUP_API int gup_fixed_buffers_unregister(struct gup_fixed_buffers *fb);

/*
 * gup_dio_submit_fixed - as gup_dio_submit on [@offset, @offset+@len) of
 * registered buffer @index (READ_FIXED/WRITE_FIXED): no GUP, the pinned pages
 * are used.  Any thread.
 * Return: 0 and *@out, -EINVAL (bad index, misaligned, beyond the disk), -EFAULT
 * (beyond the buffer), -ENOMEM, -EAGAIN.
 */
GUP_API GUP_MUST_CHECK int gup_dio_submit_fixed(struct gup_fixed_buffers *fb, unsigned index,
						size_t offset, size_t len, struct gup_disk *d,
						int op, uint64_t pos, struct gup_dio **out);

/* ---- vmsplice ---------------------------------------------------------------- */

struct gup_pipe;

/* Buffers (pages) a pipe holds at most (PIPE_DEF_BUFFERS). */
#define GUP_PIPE_BUFFERS	16u

/* gup_pipe_create - an empty pipe.  Return: 0, -EINVAL, -ENOMEM. */
GUP_API GUP_MUST_CHECK int gup_pipe_create(struct gup_world *w, struct gup_pipe **out);
/* gup_pipe_destroy - drop the references the pipe still holds, free it. */
GUP_API void gup_pipe_destroy(struct gup_pipe *p);

/*
 * gup_vmsplice - vmsplice(2) of @t's memory into @p, without copying: each page
 * of the segments is referenced read-only (FOLL_GET, no FOLL_WRITE: Linux's
 * vmsplice never asks for write access) and queued as one pipe buffer.  Stops
 * when the pipe is full.  Any address and length.  Any thread.
 * Return: bytes queued; -EAGAIN (pipe full), -EFAULT (first page not mapped
 * readable), -EINVAL (NULL, too many segments or bytes), -ENOMEM.
 */
GUP_API long gup_vmsplice(struct gup_pipe *p, struct gup_task *t, const struct gup_iovec *iov,
			  unsigned nr_segs);

/*
 * gup_pipe_read - copy up to @len bytes out of @p, in order, from the referenced
 * frames by physical page; emptied buffers drop their references.  Any thread.
 * Return: bytes read; -EAGAIN (empty), -EINVAL.
 */
GUP_API long gup_pipe_read(struct gup_pipe *p, void *buf, size_t len);

/* ---- process_vm_readv / process_vm_writev --------------------------------------- */

/*
 * gup_process_vm_readv - copy from @mm's ranges @rvec to @t's ranges @lvec
 * (_writev: the other way), as process_vm_readv(2): the remote pages are
 * referenced with the remote GUP (pin or get per policy, FOLL_WRITE for writev)
 * under @mm's mmap lock, which GUP may drop; the local side is a CPU copy through
 * @t's TLB.  @mm may be @t's own.  The caller holds a reference on @mm and no
 * mmap lock.
 * Return: bytes copied (short if a range ends in a hole after some bytes; 0 if
 * the local side is empty, whoever the target is); -EINVAL (flags, NULL, counts
 * above GUP_IOV_MAX, a side's total above GUP_IO_MAX_BYTES), -ESRCH (@mm has no
 * live task: the process is gone), -EFAULT (nothing copied: a remote range not
 * mapped with the access, a local one not mapped, or beyond user space),
 * -EDEADLK (@t holds @mm's mmap lock), -ENOMEM, -EINTR.
 */
GUP_API long gup_process_vm_readv(struct gup_task *t, struct gup_mm *mm,
				  const struct gup_iovec *lvec, unsigned long liovcnt,
				  const struct gup_iovec *rvec, unsigned long riovcnt,
				  unsigned long flags);
GUP_API long gup_process_vm_writev(struct gup_task *t, struct gup_mm *mm,
				   const struct gup_iovec *lvec, unsigned long liovcnt,
				   const struct gup_iovec *rvec, unsigned long riovcnt,
				   unsigned long flags);

/* ---- an RDMA NIC's memory regions ------------------------------------------------ */

struct gup_mr;

/* Access rights of a region (IB_ACCESS_*): REMOTE_WRITE needs LOCAL_WRITE. */
#define GUP_RDMA_ACCESS_LOCAL_WRITE	(1u << 0)
#define GUP_RDMA_ACCESS_REMOTE_WRITE	(1u << 1)
#define GUP_RDMA_ACCESS_REMOTE_READ	(1u << 2)

/*
 * gup_rdma_reg_mr - register [@addr, @addr+@len) of @t's memory with the NIC
 * (ibv_reg_mr): its pages stay referenced until gup_rdma_dereg_mr.  linux-6.x:
 * FOLL_PIN|FOLL_LONGTERM, FOLL_WRITE if writable; linux-2.6.29: get_user_pages
 * with write=1, force=!writable (ib_umem_get).  The caller holds no mmap lock.
 * Return: 0 and *@out, -EINVAL (NULL, bad access bits, length 0 or above
 * GUP_IO_MAX_BYTES), -EFAULT (beyond user space, or not mapped with the access:
 * nothing stays referenced), -ENOMEM, -EINTR.
 */
GUP_API GUP_MUST_CHECK int gup_rdma_reg_mr(struct gup_task *t, uint64_t addr, size_t len,
					   unsigned access, struct gup_mr **out);
/* Release the pages (marked dirty if the region was writable) and free @mr. */
GUP_API int gup_rdma_dereg_mr(struct gup_mr *mr);

/*
 * The NIC reads (a send, an RDMA read) or writes (a receive, an RDMA write) the
 * region at user address @addr, by physical page.  Any thread.
 * Return: 0, -EINVAL (outside the region), -EACCES (write to a region without
 * write access).
 */
GUP_API int gup_rdma_mr_read(struct gup_mr *mr, uint64_t addr, void *buf, size_t len);
GUP_API int gup_rdma_mr_write(struct gup_mr *mr, uint64_t addr, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* GUP_IO_H */
