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

#endif /* LIBGUP_BENCH_ANCHORS_H */
