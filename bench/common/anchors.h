/*
 * anchors.h - physical-floor and host-kernel reference measurements for
 * libgup benchmarks.
 *
 * Every libgup benchmark reports its own figure next to (a) the physical
 * floor of the same work on this machine (memory bandwidth, atomic latency)
 * and (b) the host Linux kernel doing the same work with real syscalls, both
 * measured in the same run.  Each function below performs ONE measurement;
 * callers repeat it anchor_runs() times and report anchor_median().
 *
 * All page-based figures are nanoseconds per 4 KiB page, timed with
 * clock_gettime(CLOCK_MONOTONIC).  `bytes` is rounded down to a multiple of
 * 4 KiB and must cover at least one page.  Anonymous memory is mapped with
 * MAP_PRIVATE|MAP_ANONYMOUS and madvise(MADV_NOHUGEPAGE) so the host works
 * in 4 KiB pages like libgup's model.  Any failing syscall prints a message
 * naming the call and errno text on stderr and calls abort().
 */
#ifndef LIBGUP_BENCH_ANCHORS_H
#define LIBGUP_BENCH_ANCHORS_H

#include <stddef.h>

/* Median of v[0..n-1]; v is not modified (a copy is sorted).  For even n,
 * the mean of the two middle values.  Returns NAN if n <= 0. */
double anchor_median(double *v, int n);

/* Smallest and largest of v[0..n-1]; NAN if n <= 0. */
double anchor_min(const double *v, int n);
double anchor_max(const double *v, int n);

/* Floor: memset(0) of each 4 KiB page of a pre-faulted buffer of `bytes`,
 * one sequential pass (use >= 256 MiB so the pass is cache-cold).
 * Returns ns per 4 KiB page. */
double floor_memset_cold_ns(size_t bytes);

/* Floor: the same pass as floor_memset_cold_ns with streaming (non-temporal)
 * stores and one store fence at the end: zeroing without reading the old lines,
 * which is how libgup zeroes frames (plain memset where SSE2 is missing).
 * Returns ns per 4 KiB page. */
double floor_zero_stream_cold_ns(size_t bytes);

/* Floor: memcpy of page i of buffer A to page i of buffer B, both
 * pre-faulted and `bytes` long each, one sequential pass.
 * Returns ns per 4 KiB page. */
double floor_memcpy_cold_ns(size_t bytes);

/* Floor: uncontended __atomic_fetch_add(..., __ATOMIC_SEQ_CST) on one cache
 * line, ~50M operations.  Returns ns per operation. */
double floor_atomic_ns(void);

/* The same for `nr_ops` operations: a short sample, for timing the floor back to
 * back with the operation it is the floor of (gup_ops's paired rounds). */
double floor_atomic_ops_ns(unsigned long nr_ops);

/* Floor: one __atomic_fetch_add(..., __ATOMIC_SEQ_CST) on each of `nr_lines`
 * consecutive 64-byte lines (the first word of each), 16 passes over the array,
 * which stays mapped between calls (see anchor_release).  This is the memory a pin
 * of nr_lines pages must touch (one 64-byte struct page each, refcount RMW); for
 * 65,536 lines the array (4 MiB) is about the L2 size, so it is served by L2/L3.
 * Returns ns per line. */
double floor_atomic_lines_ns(size_t nr_lines);

/* Host: mmap + MADV_NOHUGEPAGE `bytes`, write 1 byte per 4 KiB page (only
 * this loop is timed), munmap.  Returns ns per page (first-touch fault). */
double host_fault_ns(size_t bytes);

/* Host: touch `bytes` of anonymous memory in the parent, then time the
 * fork() call as the parent sees it; the child _exit(0)s at once and is
 * reaped.  Returns ns per page mapped in the parent. */
double host_fork_ns(size_t bytes);

/* Host: touch `bytes`, fork a child that stays alive blocked on a pipe,
 * time the parent writing 1 byte to each page (COW copy faults), then
 * release and reap the child.  Returns ns per page. */
double host_cow_ns(size_t bytes);

/* Number of repetitions: env GUP_BENCH_RUNS (integer 1..100000) or 5.
 * An invalid GUP_BENCH_RUNS prints a message and exits with status 2. */
int anchor_runs(void);

/* Unmap the buffers the floors keep between calls (see anchors.c). */
void anchor_release(void);

/* Host: io_uring buffer registration (raw io_uring_setup(2) and io_uring_register(2)
 * syscalls, no liburing) of a populated anonymous buffer of `bytes`, split into
 * iovecs of `iov_bytes` (clamped to the kernel's 1 GiB per buffer; at most 16,384
 * buffers).  IORING_REGISTER_BUFFERS pins every page (FOLL_WRITE|FOLL_LONGTERM);
 * IORING_UNREGISTER_BUFFERS unpins them.  Each call is timed separately.  The ring
 * and the buffer stay open/mapped between calls (see host_release).  As root,
 * RLIMIT_MEMLOCK is raised at the first call: to infinity, or (without
 * CAP_SYS_RESOURCE) the soft limit to the hard one; CAP_IPC_LOCK exempts anyway.
 * Returns 0 with *reg_ns and *unreg_ns in ns per 4 KiB page, or a positive errno
 * when io_uring is unavailable or refuses the registration; *why then names the
 * refused call (a static string).  Other failures abort. */
int host_uring_register_ns(size_t bytes, size_t iov_bytes, double *reg_ns,
			   double *unreg_ns, const char **why);

/* Host: process_vm_readv(2) of `bytes` from a child process (one iovec on each
 * side) into a pre-faulted local buffer: a remote read-only pin, copy and unpin of
 * each page.  The child maps and touches its own buffer (its pages are exclusive,
 * so no unshare happens) and stays alive between calls (see host_release).
 * Returns ns per 4 KiB page, or NAN if the kernel refuses the call (ENOSYS, EPERM;
 * a note is printed on stderr once).  Other failures abort. */
double host_pvm_readv_ns(size_t bytes);

/* Close the ring, reap the child and unmap the buffers the host_uring and
 * host_pvm functions keep between calls. */
void host_release(void);

#endif /* LIBGUP_BENCH_ANCHORS_H */
