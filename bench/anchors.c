/*
 * anchors - print the physical floors and host-kernel reference figures
 * that every libgup benchmark is compared against.
 *
 * Usage: anchors [--mib N] [--runs N]
 *   --mib N   buffer size in MiB for every anchor (defaults: memset/memcpy
 *             256, host fault/fork 512, host COW 256)
 *   --runs N  repetitions per anchor (default: env GUP_BENCH_RUNS or 5),
 *             each anchor first runs once untimed as a warm-up
 */
#include "anchors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB ((size_t)1 << 20)
#define MAX_MIB 65536L
#define MAX_RUNS 100000L

enum kind { K_MEMSET, K_MEMCPY, K_ATOMIC, K_FAULT, K_FORK, K_COW };

struct anchor {
	const char *name;
	enum kind kind;
	long def_mib;          /* 0: size-independent */
	const char *unit;
	const char *ref;       /* reference figure, same machine class */
};

static const struct anchor anchors[] = {
	{ "memset_cold", K_MEMSET, 256, "ns/4KiB", "426" },
	{ "memcpy_cold", K_MEMCPY, 256, "ns/4KiB", "611" },
	{ "atomic_add",  K_ATOMIC,   0, "ns/op",   "5.7" },
	{ "host_fault",  K_FAULT,  512, "ns/page", "1307" },
	{ "host_fork",   K_FORK,   512, "ns/page", "37.7 @512MiB, 35 @2GiB" },
	{ "host_cow",    K_COW,    256, "ns/page", "2512" },
};

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"usage: %s [--mib N] [--runs N]\n"
		"  --mib N   buffer size in MiB for every anchor, 1..%ld\n"
		"            (defaults: memset/memcpy 256, host fault/fork 512,"
		" host cow 256)\n"
		"  --runs N  repetitions per anchor, 1..%ld\n"
		"            (default: env GUP_BENCH_RUNS, else 5)\n",
		argv0, MAX_MIB, MAX_RUNS);
}

/* Parse a decimal integer in [lo, hi]; 0 on success. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static double measure(enum kind k, size_t bytes)
{
	switch (k) {
	case K_MEMSET: return floor_memset_cold_ns(bytes);
	case K_MEMCPY: return floor_memcpy_cold_ns(bytes);
	case K_ATOMIC: return floor_atomic_ns();
	case K_FAULT:  return host_fault_ns(bytes);
	case K_FORK:   return host_fork_ns(bytes);
	case K_COW:    return host_cow_ns(bytes);
	}
	abort();
}

int main(int argc, char **argv)
{
	long mib = 0, runs = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *opt;
		long *dst, hi;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout, argv[0]);
			return 0;
		}
		if (strncmp(a, "--mib", 5) == 0 &&
		    (a[5] == '\0' || a[5] == '=')) {
			dst = &mib;
			opt = "--mib";
			hi = MAX_MIB;
			val = a[5] == '=' ? a + 6 : NULL;
		} else if (strncmp(a, "--runs", 6) == 0 &&
			   (a[6] == '\0' || a[6] == '=')) {
			dst = &runs;
			opt = "--runs";
			hi = MAX_RUNS;
			val = a[6] == '=' ? a + 7 : NULL;
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n",
				argv[0], a);
			usage(stderr, argv[0]);
			return 2;
		}
		if (val == NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: '%s' needs a value\n",
					argv[0], a);
				usage(stderr, argv[0]);
				return 2;
			}
			val = argv[++i];
		}
		if (parse_long(val, 1, hi, dst) != 0) {
			fprintf(stderr, "%s: bad value '%s' for %s "
				"(integer 1..%ld)\n", argv[0], val, opt, hi);
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (runs == 0)
		runs = anchor_runs();

	double *v = malloc((size_t)runs * sizeof(*v));
	if (v == NULL) {
		perror("malloc");
		return 1;
	}

	printf("libgup anchors: %ld run(s) each after 1 discarded warm-up; "
	       "median (min .. max); "
	       "4 KiB pages, MADV_NOHUGEPAGE; ref = reference machine "
	       "(2 cores, x86_64)\n", runs);
	fflush(stdout);

	for (size_t a = 0; a < sizeof(anchors) / sizeof(anchors[0]); a++) {
		const struct anchor *an = &anchors[a];
		long m = an->def_mib ? (mib ? mib : an->def_mib) : 0;
		size_t bytes = (size_t)m * MIB;
		double lo, hi;
		char size[32];

		/* One discarded warm-up: the very first pass over fresh
		 * memory also pays for the host/hypervisor backing it. */
		(void)measure(an->kind, bytes);
		for (long r = 0; r < runs; r++)
			v[r] = measure(an->kind, bytes);
		lo = hi = v[0];
		for (long r = 1; r < runs; r++) {
			if (v[r] < lo)
				lo = v[r];
			if (v[r] > hi)
				hi = v[r];
		}
		if (m)
			snprintf(size, sizeof(size), "%ld MiB", m);
		else
			snprintf(size, sizeof(size), "50M ops");
		printf("%-12s %9s  median %8.1f %-7s (%.1f .. %.1f)  [ref %s]\n",
		       an->name, size, anchor_median(v, (int)runs), an->unit,
		       lo, hi, an->ref);
		fflush(stdout);
	}
	free(v);
	return 0;
}
