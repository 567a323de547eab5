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
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/io_uring.h>

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

double anchor_min(const double *v, int n)
{
	double m = n > 0 ? v[0] : NAN;

	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

double anchor_max(const double *v, int n)
{
	double m = n > 0 ? v[0] : NAN;

	for (int i = 1; i < n; i++)
		m = v[i] > m ? v[i] : m;
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

static struct floor_buf memset_buf, memcpy_src, memcpy_dst, atomic_lines;

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
	struct floor_buf *all[] = { &memset_buf, &memcpy_src, &memcpy_dst, &atomic_lines };

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

double floor_atomic_ops_ns(unsigned long nr_ops)
{
	unsigned long before = __atomic_load_n(&anchor_atomic_ctr,
					       __ATOMIC_RELAXED);
	uint64_t t0, t1;

	if (nr_ops == 0)
		anchor_fail("floor_atomic_ops_ns: no operations");
	t0 = anchor_now_ns();
	for (unsigned long i = 0; i < nr_ops; i++) {
		__atomic_fetch_add(&anchor_atomic_ctr, 1, __ATOMIC_SEQ_CST);
		/* Forbid fusing consecutive atomics into one add. */
		__asm__ __volatile__("" ::: "memory");
	}
	t1 = anchor_now_ns();

	if (__atomic_load_n(&anchor_atomic_ctr, __ATOMIC_RELAXED) - before != nr_ops)
		anchor_fail("floor_atomic_ops_ns: counter mismatch");
	return (double)(t1 - t0) / (double)nr_ops;
}

double floor_atomic_ns(void)
{
	return floor_atomic_ops_ns(ANCHOR_ATOMIC_OPS);
}

#define ANCHOR_LINE		((size_t)64)
#define ANCHOR_LINE_PASSES	16

double floor_atomic_lines_ns(size_t nr_lines)
{
	size_t len, stride = ANCHOR_LINE / sizeof(unsigned long);
	unsigned long *v;
	uint64_t t0, t1;

	if (nr_lines == 0)
		anchor_fail("floor_atomic_lines_ns: no lines");
	len = (nr_lines * ANCHOR_LINE + ANCHOR_PAGE - 1) / ANCHOR_PAGE * ANCHOR_PAGE;
	floor_buf_get(&atomic_lines, len);
	v = (unsigned long *)atomic_lines.p;
	v[0] = 0;

	t0 = anchor_now_ns();
	for (int pass = 0; pass < ANCHOR_LINE_PASSES; pass++) {
		for (size_t i = 0; i < nr_lines; i++) {
			__atomic_fetch_add(&v[i * stride], 1, __ATOMIC_SEQ_CST);
			__asm__ __volatile__("" ::: "memory");
		}
	}
	t1 = anchor_now_ns();

	if (__atomic_load_n(&v[0], __ATOMIC_RELAXED) != ANCHOR_LINE_PASSES)
		anchor_fail("floor_atomic_lines_ns: counter mismatch");
	return (double)(t1 - t0) / (double)(nr_lines * ANCHOR_LINE_PASSES);
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

/*
 * Host pinning anchors.  One parent buffer serves both: it is the registered
 * io_uring buffer, and the destination of process_vm_readv.  It stays mapped, the
 * ring stays open and the process_vm_readv child stays alive from one call to the
 * next (the same reason as the floors' buffers: memory given back is reported to
 * the hypervisor and stalls what runs then).  host_release() ends all of them.
 */
#define HOST_URING_MAX_BUFS	16384		/* IORING_MAX_REG_BUFFERS */
#define HOST_URING_MAX_BUF	((size_t)1 << 30)	/* SZ_1G per buffer */

static struct floor_buf host_buf;
static int host_ring = -1;
static int host_ring_err;		/* errno of a failed io_uring_setup */

static struct {
	pid_t pid;
	int down;			/* write end: closed to let the child exit */
	char *addr;			/* its buffer, in its address space */
	size_t len;
} host_child = { .pid = -1, .down = -1 };

/* As root, lift RLIMIT_MEMLOCK (io_uring accounts registered pages to it). */
static void host_memlock_raise(void)
{
	static bool done;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	if (done)
		return;
	done = true;
	if (geteuid() != 0 || setrlimit(RLIMIT_MEMLOCK, &rl) == 0)
		return;
	/* No CAP_SYS_RESOURCE: the soft limit up to the hard one.  CAP_IPC_LOCK, which
	 * root usually keeps, exempts io_uring from the limit anyway. */
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
}

static int host_ring_get(void)
{
	struct io_uring_params p;
	long fd;

	if (host_ring >= 0 || host_ring_err)
		return host_ring_err;
	memset(&p, 0, sizeof(p));
	fd = syscall(__NR_io_uring_setup, 1, &p);
	if (fd < 0) {
		host_ring_err = errno;
		return host_ring_err;
	}
	host_ring = (int)fd;
	return 0;
}

int host_uring_register_ns(size_t bytes, size_t iov_bytes, double *reg_ns,
			   double *unreg_ns, const char **why)
{
	static char whybuf[160];
	size_t npages = anchor_pages(bytes, "host_uring_register_ns");
	size_t len = npages * ANCHOR_PAGE, nr_iov;
	struct iovec *iov;
	uint64_t t0, t1, t2;
	struct rlimit rl;
	int err;

	iov_bytes = iov_bytes / ANCHOR_PAGE * ANCHOR_PAGE;
	if (iov_bytes == 0 || iov_bytes > HOST_URING_MAX_BUF)
		iov_bytes = HOST_URING_MAX_BUF;
	nr_iov = (len + iov_bytes - 1) / iov_bytes;
	if (nr_iov > HOST_URING_MAX_BUFS) {
		*why = "IORING_REGISTER_BUFFERS (more than 16384 buffers)";
		return EINVAL;
	}
	host_memlock_raise();
	err = host_ring_get();
	if (err) {
		*why = "io_uring_setup";
		return err;
	}
	floor_buf_get(&host_buf, len);
	iov = malloc(nr_iov * sizeof(*iov));
	if (iov == NULL)
		anchor_die("malloc");
	for (size_t i = 0; i < nr_iov; i++) {
		size_t off = i * iov_bytes;

		iov[i].iov_base = host_buf.p + off;
		iov[i].iov_len = len - off < iov_bytes ? len - off : iov_bytes;
	}

	t0 = anchor_now_ns();
	if (syscall(__NR_io_uring_register, host_ring, IORING_REGISTER_BUFFERS, iov,
		    (unsigned)nr_iov) != 0) {
		err = errno;
		free(iov);
		if (err == ENOMEM && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY) {
			snprintf(whybuf, sizeof(whybuf), "IORING_REGISTER_BUFFERS "
				 "(RLIMIT_MEMLOCK is %llu kB%s)",
				 (unsigned long long)rl.rlim_cur >> 10,
				 geteuid() == 0 ? ", could not be raised" : ", not root");
			*why = whybuf;
		} else {
			*why = "IORING_REGISTER_BUFFERS";
		}
		return err;
	}
	t1 = anchor_now_ns();
	if (syscall(__NR_io_uring_register, host_ring, IORING_UNREGISTER_BUFFERS, NULL, 0) != 0)
		anchor_die("io_uring_register(IORING_UNREGISTER_BUFFERS)");
	t2 = anchor_now_ns();

	free(iov);
	*reg_ns = (double)(t1 - t0) / (double)npages;
	*unreg_ns = (double)(t2 - t1) / (double)npages;
	return 0;
}

static void host_child_end(void)
{
	if (host_child.pid < 0)
		return;
	if (close(host_child.down) != 0)
		anchor_die("close(pipe write end)");
	anchor_reap(host_child.pid, "host_pvm_readv_ns");
	host_child.pid = -1;
	host_child.down = -1;
	host_child.addr = NULL;
	host_child.len = 0;
}

/* A child holding @len bytes of its own touched anonymous memory, 0x3c per page. */
static void host_child_get(size_t len)
{
	int up[2], down[2];
	ssize_t r;
	pid_t pid;

	if (host_child.pid >= 0 && host_child.len == len)
		return;
	host_child_end();
	if (pipe(up) != 0 || pipe(down) != 0)
		anchor_die("pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		anchor_die("fork");
	if (pid == 0) {
		char *p, c;

		close(up[0]);
		close(down[1]);
		p = anchor_map(len);	/* its own pages: exclusive, never COW-shared */
		anchor_touch(p, len / ANCHOR_PAGE, 0x3c);
		if (write(up[1], &p, sizeof(p)) != (ssize_t)sizeof(p))
			_exit(1);
		do
			r = read(down[0], &c, 1);
		while (r < 0 && errno == EINTR);
		_exit(r == 0 ? 0 : 1);
	}
	close(up[1]);
	close(down[0]);
	do
		r = read(up[0], &host_child.addr, sizeof(host_child.addr));
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(host_child.addr))
		anchor_fail("host_pvm_readv_ns: the child did not report its buffer");
	close(up[0]);
	host_child.pid = pid;
	host_child.down = down[1];
	host_child.len = len;
}

double host_pvm_readv_ns(size_t bytes)
{
	static bool warned;
	size_t npages = anchor_pages(bytes, "host_pvm_readv_ns");
	size_t len = npages * ANCHOR_PAGE, done = 0;
	uint64_t t0, t1;
	char *dst;

	host_child_get(len);
	floor_buf_get(&host_buf, len);
	dst = host_buf.p;
	dst[0] = dst[len - ANCHOR_PAGE] = 0;	/* so the check below proves this pass ran */

	t0 = anchor_now_ns();
	while (done < len) {
		struct iovec local = { dst + done, len - done };
		struct iovec remote = { host_child.addr + done, len - done };
		ssize_t r = process_vm_readv(host_child.pid, &local, 1, &remote, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
			if (!warned) {
				warned = true;
				fprintf(stderr, "anchors: note: process_vm_readv refused: %s\n",
					strerror(errno));
			}
			return NAN;
		}
		if (r <= 0)
			anchor_die("process_vm_readv");
		done += (size_t)r;
	}
	t1 = anchor_now_ns();

	if (dst[0] != 0x3c || dst[len - ANCHOR_PAGE] != 0x3c)
		anchor_fail("host_pvm_readv_ns: the data did not arrive");
	return (double)(t1 - t0) / (double)npages;
}

void host_release(void)
{
	host_child_end();
	if (host_ring >= 0 && close(host_ring) != 0)
		anchor_die("close(io_uring)");
	host_ring = -1;
	if (host_buf.p)
		anchor_unmap(host_buf.p, host_buf.len);
	host_buf.p = NULL;
	host_buf.len = 0;
}
