/* SPDX-License-Identifier: MIT */
/*
 * src/gup/debug.c - misuse reports, the way lockdep and DEBUG_VM help kernel
 * developers (seed 000: drivers "don't have mmap_sem when calling
 * get_user_pages() or hold mmap_sem when calling copy_from_user()").
 *
 * A report names the caller as a kernel WARN does with %pS: symbol+offset of the
 * return address into the caller (dladdr; a program linked without -rdynamic
 * shows the raw address).  Reports are counted, so tests can assert each one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>

#include "gup/internal.h"

static void print_site(FILE *f, const void *site)
{
	Dl_info info;

	if (!site)
		fprintf(f, "none");
	else if (dladdr(site, &info) && info.dli_sname)
		fprintf(f, "%s+%#lx", info.dli_sname,
			(unsigned long)((const char *)site - (const char *)info.dli_saddr));
	else
		fprintf(f, "%p", site);	/* link with -rdynamic for a name */
}

void gup_misuse(struct gup_world *w, const void *site, const char *fmt, ...)
{
	va_list ap;

	if (!w->debug)
		return;
	atomic64_add(1, &w->nr_misuse);
	spin_lock(&w->lock);	/* one report at a time on the stream */
	fprintf(w->report, "libgup: misuse: ");
	va_start(ap, fmt);
	vfprintf(w->report, fmt, ap);
	va_end(ap);
	fprintf(w->report, " (caller ");
	print_site(w->report, site);
	fprintf(w->report, ")\n");
	fflush(w->report);
	spin_unlock(&w->lock);
}

GUP_API unsigned long gup_world_misuse_count(struct gup_world *w)
{
	return w ? (unsigned long)atomic64_read(&w->nr_misuse) : 0;
}
