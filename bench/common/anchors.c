/*
 * anchors.c - physical-floor and host-kernel reference measurements.
 * See anchors.h for the contract of each function.
 */
#define _GNU_SOURCE

#include "anchors.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define ANCHOR_PAGE     ((size_t)4096)
#define ANCHOR_ATOMIC_OPS 50000000UL

/* Keep the compiler from eliding, merging or reordering memory work
 * across this point: `p` escapes and all memory is clobbered. */
#define ANCHOR_ESCAPE(p) __asm__ __volatile__("" : : "r"(p) : "memory")

/* The floors call the C library's memset/memcpy through volatile pointers:
 * the compiler can neither elide the work nor substitute its own inline
 * expansion (GCC emits `rep stosq` for a constant 4 KiB memset), so the
 * figure is libc's tuned routine whichever compiler built the bench. */
static void *(*volatile anchor_memset_fn)(void *, int, size_t) = memset;
static void *(*volatile anchor_memcpy_fn)(void *, const void *, size_t) =
	memcpy;

static _Noreturn void anchor_die(const char *what)
{
	int e = errno;

	fprintf(stderr, "anchors: %s failed: %s\n", what, strerror(e));
	fflush(stderr);
	abort();
}

static _Noreturn void anchor_fail(const char *msg)
{
	fprintf(stderr, "anchors: %s\n", msg);
	fflush(stderr);
	abort();
}

static uint64_t anchor_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		anchor_die("clock_gettime(CLOCK_MONOTONIC)");
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static size_t anchor_pages(size_t bytes, const char *who)
{
	size_t n = bytes / ANCHOR_PAGE;

	if (n == 0) {
		fprintf(stderr, "anchors: %s: size %zu is below one 4 KiB page\n",
			who, bytes);
		fflush(stderr);
		abort();
	}
	return n;
}

/* mmap(MAP_PRIVATE|MAP_ANONYMOUS) + madvise(MADV_NOHUGEPAGE).  A kernel
 * built without THP rejects the advice with EINVAL; that is harmless
 * (pages are 4 KiB anyway), so it is reported once and tolerated. */
static char *anchor_map(size_t len)
{
	static int nothp_warned;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		anchor_die("mmap(MAP_PRIVATE|MAP_ANONYMOUS)");
	if (madvise(p, len, MADV_NOHUGEPAGE) != 0) {
		if (errno != EINVAL)
			anchor_die("madvise(MADV_NOHUGEPAGE)");
		if (!nothp_warned) {
			nothp_warned = 1;
			fprintf(stderr, "anchors: note: MADV_NOHUGEPAGE "
				"unsupported (no THP?); continuing\n");
		}
	}
	return p;
}

static void anchor_unmap(char *p, size_t len)
{
	if (munmap(p, len) != 0)
		anchor_die("munmap");
}

/* Fault in every page by writing one byte to it. */
static void anchor_touch(char *p, size_t npages, char val)
{
	volatile char *v = p;

	for (size_t i = 0; i < npages; i++)
		v[i * ANCHOR_PAGE] = val;
}

static void anchor_reap(pid_t pid, const char *who)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, 0);

		if (r == pid)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		anchor_die("waitpid");
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "anchors: %s: child did not exit cleanly "
			"(status 0x%x)\n", who, (unsigned)status);
		fflush(stderr);
		abort();
	}
}

static int anchor_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double anchor_median(double *v, int n)
{
	double *c, m;

	if (n <= 0 || v == NULL)
		return NAN;
	c = malloc((size_t)n * sizeof(*c));
	if (c == NULL)
		anchor_die("malloc");
	memcpy(c, v, (size_t)n * sizeof(*c));
	qsort(c, (size_t)n, sizeof(*c), anchor_cmp_double);
	if (n % 2)
		m = c[n / 2];
	else
		m = (c[n / 2 - 1] + c[n / 2]) / 2.0;
	free(c);
	return m;
}

/*
 * The floors' buffers stay mapped from one call to the next (same size: reused;
 * a larger or smaller size replaces them).  On a virtual machine, memory given
 * back with munmap is reported to the hypervisor a moment later (free page
 * reporting), and that work stalls whatever is being measured then; reusing the
 * buffers keeps the floors from disturbing the measurements around them.  A
 * buffer far larger than the last-level cache is cold again at every pass.
 */
struct floor_buf {
	char *p;
	size_t len;
};

static struct floor_buf memset_buf, memcpy_src, memcpy_dst;

/* @fb mapped with @len bytes, every page faulted in; true if newly mapped. */
static bool floor_buf_get(struct floor_buf *fb, size_t len)
{
	if (fb->p && fb->len == len)
		return false;
	if (fb->p)
		anchor_unmap(fb->p, fb->len);
	fb->p = anchor_map(len);
	fb->len = len;
	anchor_touch(fb->p, len / ANCHOR_PAGE, 1);
	return true;
}

void anchor_release(void)
{
	struct floor_buf *all[] = { &memset_buf, &memcpy_src, &memcpy_dst };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i]->p)
			anchor_unmap(all[i]->p, all[i]->len);
		all[i]->p = NULL;
		all[i]->len = 0;
	}
}

double floor_memset_cold_ns(size_t bytes)
{
	size_t npages = anchor_pages(bytes, "floor_memset_cold_ns");
	size_t len = npages * ANCHOR_PAGE;
	char *buf;
	uint64_t t0, t1;

	floor_buf_get(&memset_buf, len);
	buf = memset_buf.p;
	buf[len - 1] = 1;	/* so the check below proves this pass ran */

	t0 = anchor_now_ns();
	for (size_t i = 0; i < npages; i++) {
		char *pg = buf + i * ANCHOR_PAGE;

		anchor_memset_fn(pg, 0, ANCHOR_PAGE);
		ANCHOR_ESCAPE(pg);
	}
	t1 = anchor_now_ns();

	if (buf[len - 1] != 0)
		anchor_fail("floor_memset_cold_ns: memset had no effect");
	return (double)(t1 - t0) / (double)npages;
}

static void anchor_zero_stream(char *pg)
{
#if defined(__SSE2__)
	__m128i z = _mm_setzero_si128();

	for (size_t i = 0; i < ANCHOR_PAGE; i += 16)
		_mm_stream_si128((__m128i *)(pg + i), z);
#else
	anchor_memset_fn(pg, 0, ANCHOR_PAGE);
#endif
}

double floor_zero_stream_cold_ns(size_t bytes)
{
	size_t npages = anchor_pages(bytes, "floor_zero_stream_cold_ns");
	size_t len = npages * ANCHOR_PAGE;
	char *buf;
	uint64_t t0, t1;

	floor_buf_get(&memset_buf, len);
	buf = memset_buf.p;
	buf[0] = buf[len - 1] = 1;	/* so the check below proves this pass ran */

	t0 = anchor_now_ns();
	for (size_t i = 0; i < npages; i++) {
		char *pg = buf + i * ANCHOR_PAGE;

		anchor_zero_stream(pg);
		ANCHOR_ESCAPE(pg);
	}
#if defined(__SSE2__)
	_mm_sfence();	/* the pass is done when the stores are visible */
#endif
	t1 = anchor_now_ns();

	if (buf[0] != 0 || buf[len - 1] != 0)
		anchor_fail("floor_zero_stream_cold_ns: the stores had no effect");
	return (double)(t1 - t0) / (double)npages;
}

double floor_memcpy_cold_ns(size_t bytes)
{
	size_t npages = anchor_pages(bytes, "floor_memcpy_cold_ns");
	size_t len = npages * ANCHOR_PAGE;
	char *a, *b;
	uint64_t t0, t1;

	/* Fill the source fully (distinct bytes) once; the destination is faulted in. */
	if (floor_buf_get(&memcpy_src, len))
		memset(memcpy_src.p, 0x5a, len);
	floor_buf_get(&memcpy_dst, len);
	a = memcpy_src.p;
	b = memcpy_dst.p;
	ANCHOR_ESCAPE(a);
	b[0] = b[len - 1] = 1;	/* so the check below proves this pass ran */

	t0 = anchor_now_ns();
	for (size_t i = 0; i < npages; i++) {
		char *dst = b + i * ANCHOR_PAGE;

		anchor_memcpy_fn(dst, a + i * ANCHOR_PAGE, ANCHOR_PAGE);
		ANCHOR_ESCAPE(dst);
	}
	t1 = anchor_now_ns();

	if (b[0] != 0x5a || b[len - 1] != 0x5a)
		anchor_fail("floor_memcpy_cold_ns: memcpy had no effect");
	return (double)(t1 - t0) / (double)npages;
}

/* One counter alone on its 64-byte cache line. */
static struct {
	_Alignas(64) unsigned long v;
	char pad[64 - sizeof(unsigned long)];
} anchor_atomic_line;
#define anchor_atomic_ctr (anchor_atomic_line.v)

double floor_atomic_ns(void)
{
	unsigned long before = __atomic_load_n(&anchor_atomic_ctr,
					       __ATOMIC_RELAXED);
	uint64_t t0, t1;

	t0 = anchor_now_ns();
	for (unsigned long i = 0; i < ANCHOR_ATOMIC_OPS; i++) {
		__atomic_fetch_add(&anchor_atomic_ctr, 1, __ATOMIC_SEQ_CST);
		/* Forbid fusing consecutive atomics into one add. */
		__asm__ __volatile__("" ::: "memory");
	}
	t1 = anchor_now_ns();

	if (__atomic_load_n(&anchor_atomic_ctr, __ATOMIC_RELAXED) - before !=
	    ANCHOR_ATOMIC_OPS)
		anchor_fail("floor_atomic_ns: counter mismatch");
	return (double)(t1 - t0) / (double)ANCHOR_ATOMIC_OPS;
}

double host_fault_ns(size_t bytes)
{
	size_t npages = anchor_pages(bytes, "host_fault_ns");
	size_t len = npages * ANCHOR_PAGE;
	char *buf = anchor_map(len);
	uint64_t t0, t1;

	t0 = anchor_now_ns();
	anchor_touch(buf, npages, 1);
	t1 = anchor_now_ns();

	anchor_unmap(buf, len);
	return (double)(t1 - t0) / (double)npages;
}

double host_fork_ns(size_t bytes)
{
	size_t npages = anchor_pages(bytes, "host_fork_ns");
	size_t len = npages * ANCHOR_PAGE;
	char *buf = anchor_map(len);
	uint64_t t0, t1;
	pid_t pid;

	anchor_touch(buf, npages, 1);
	/* Nothing buffered may be duplicated into the child. */
	fflush(NULL);

	t0 = anchor_now_ns();
	pid = fork();
	if (pid == 0)
		_exit(0);
	t1 = anchor_now_ns();
	if (pid < 0)
		anchor_die("fork");

	anchor_reap(pid, "host_fork_ns");
	anchor_unmap(buf, len);
	return (double)(t1 - t0) / (double)npages;
}

double host_cow_ns(size_t bytes)
{
	size_t npages = anchor_pages(bytes, "host_cow_ns");
	size_t len = npages * ANCHOR_PAGE;
	char *buf = anchor_map(len);
	uint64_t t0, t1;
	int fds[2];
	pid_t pid;

	anchor_touch(buf, npages, 1);
	if (pipe(fds) != 0)
		anchor_die("pipe");
	fflush(NULL);

	pid = fork();
	if (pid < 0)
		anchor_die("fork");
	if (pid == 0) {
		/* Child: keep the pages shared until the parent closes the
		 * pipe (read returns 0).  Touch nothing in buf. */
		char c;
		ssize_t r;

		close(fds[1]);
		do
			r = read(fds[0], &c, 1);
		while (r < 0 && errno == EINTR);
		_exit(r == 0 ? 0 : 1);
	}
	if (close(fds[0]) != 0)
		anchor_die("close(pipe read end)");

	t0 = anchor_now_ns();
	anchor_touch(buf, npages, 2);
	t1 = anchor_now_ns();

	if (close(fds[1]) != 0)
		anchor_die("close(pipe write end)");
	anchor_reap(pid, "host_cow_ns");
	anchor_unmap(buf, len);
	return (double)(t1 - t0) / (double)npages;
}

int anchor_runs(void)
{
	const char *s = getenv("GUP_BENCH_RUNS");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return 5;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 100000) {
		fprintf(stderr, "anchors: GUP_BENCH_RUNS=\"%s\" is not an "
			"integer in 1..100000\n", s);
		exit(2);
	}
	return (int)v;
}
