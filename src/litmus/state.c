/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/state.c - the final state of an execution: the value of each
 * location the condition and the filter name, the condition's truth, and the
 * state as text (run_internal.h).
 *
 * Values are read from the scheduler context once every thread has ended:
 * results as the threads recorded them; memory as a debugger reads it, by an
 * observer task with remote GUP and FOLL_FORCE (a page-table walk that sees
 * the zero page as zeroes and never waits for a uffd handler); disks on the
 * platter; files as pread returns them; the world's counters (vm_stat) first
 * of all, so that the observer's own GUP calls do not count in them.  A
 * location that does not exist (an mm whose tasks all exited or that was
 * never forked, an unmapped range) is gone, and an operation that never ran
 * leaves its result unset: every atom on either is false, `!=` included
 * (docs/litmus.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "litmus/run_internal.h"

static bool loc_equal(const struct litmus_loc *a, const struct litmus_loc *b)
{
	return a->kind == b->kind && a->obj == b->obj && a->off == b->off &&
	       (a->kind != LL_MEM || a->region == b->region) &&
	       (a->kind != LL_RESULT || a->op == b->op);
}

int state_loc_index(const struct runner *r, const struct litmus_loc *l)
{
	for (unsigned i = 0; i < r->nr_locs; i++)
		if (loc_equal(r->locs[i].loc, l))
			return (int)i;
	return -1;
}

/* Bytes of mm @m's memory, as a debugger reads them: -errno if any is missing. */
static int read_mem(struct xrun *x, unsigned m, uint64_t addr, uint8_t *buf, uint64_t len)
{
	struct rmm *rm = &x->mms[m];
	struct gup_task *obs = x->observer;
	int err;

	if (!rm->mm || !rm->live)
		return -ESRCH;		/* never forked, or every task of it exited */
	err = gup_mmap_read_lock(obs, rm->mm);
	while (!err && len) {
		uint64_t off = addr % GUP_PAGE_SIZE;
		uint64_t chunk = len < GUP_PAGE_SIZE - off ? len : GUP_PAGE_SIZE - off;
		struct gup_page *pg;

		if (gup_get_user_pages_remote(obs, rm->mm, addr - off, 1, GUP_FOLL_FORCE,
					      &pg, NULL) != 1) {
			err = -EFAULT;	/* unmapped (or only a uffd could fill it) */
			break;
		}
		err = gup_page_read(pg, off, buf, chunk);
		gup_put_page(pg);
		addr += chunk;
		buf += chunk;
		len -= chunk;
	}
	gup_mmap_read_unlock(obs, rm->mm);
	return err;
}

/* Read the bytes of memory, disk or file location @l into @v (RV_GONE if none). */
static void read_bytes(struct xrun *x, const struct rloc *rl, struct rval *v)
{
	const struct litmus_loc *l = rl->loc;
	uint8_t *buf = malloc(rl->len ? rl->len : 1);
	int64_t n = (int64_t)rl->len;

	v->kind = RV_GONE;
	if (!buf)
		return;
	if (l->kind == LL_MEM) {
		uint64_t addr = x->r->region_addr[l->region] + l->off;

		if (read_mem(x, l->obj, addr, buf, rl->len))
			n = -1;
	} else if (l->kind == LL_DISK) {
		if (gup_disk_peek(x->disks[l->obj], l->off, buf, rl->len))
			n = -1;
	} else {
		n = gup_file_pread(x->files[l->obj], buf, rl->len, l->off);
	}
	if (n < 0) {
		free(buf);
		return;
	}
	v->kind = RV_BYTES;
	v->bytes = buf;
	v->len = (size_t)n;
}

/*
 * The counters, before anything else is read: the observer's own GUP calls
 * count too (gup_slow_pages, nr_foll_get_*), and must not show in them.
 */
static void read_stats(struct runner *r)
{
	uint64_t snap[GUP_NR_STATS];
	bool read = false;

	for (unsigned i = 0; i < r->nr_locs; i++) {
		const struct litmus_loc *l = r->locs[i].loc;
		struct rval *v = &r->vals[i];

		if (l->kind != LL_STAT)
			continue;
		if (!read && gup_world_stats(r->x->w, snap) == 0)
			read = true;
		if (!read)
			continue;	/* stays gone: cannot happen with a live world */
		v->kind = RV_INT;
		v->num = (int64_t)snap[l->obj];
	}
}

void state_read(struct runner *r)
{
	struct xrun *x = r->x;

	for (unsigned i = 0; i < r->nr_locs; i++) {
		memset(&r->vals[i], 0, sizeof(r->vals[i]));
		r->vals[i].kind = RV_GONE;
	}
	read_stats(r);
	for (unsigned i = 0; i < r->nr_locs; i++) {
		const struct litmus_loc *l = r->locs[i].loc;
		struct rval *v = &r->vals[i];

		if (l->kind == LL_STAT)
			continue;
		memset(v, 0, sizeof(*v));
		if (l->kind == LL_RESULT)
			*v = x->threads[l->obj].ops[l->op].val;	/* borrowed */
		else
			read_bytes(x, &r->locs[i], v);
	}
}

void state_free_vals(struct runner *r)
{
	for (unsigned i = 0; i < r->nr_locs; i++)
		if (r->locs[i].loc->kind != LL_RESULT && r->locs[i].loc->kind != LL_STAT)
			free(r->vals[i].bytes);
}

/* Does @v equal @want?  -1 if @v does not exist (unset, gone): every atom is false. */
static int value_eq(const struct runner *r, const struct litmus_loc *l, const struct rval *v,
		    const struct litmus_value *want)
{
	switch (v->kind) {
	case RV_UNSET:
	case RV_GONE:
		return -1;
	case RV_INT:
		return want->kind == LV_INT && v->num == want->num;
	case RV_ADDR:
		if (want->kind == LV_ADDR)
			return (uint64_t)v->num == exec_addr(r, &want->addr);
		return want->kind == LV_INT && v->num == want->num;
	case RV_BYTES:
		if (want->kind != LV_BYTES || v->len < want->pat.len ||
		    (l->kind == LL_RESULT && v->len != want->pat.len))
			return 0;
		return litmus_pattern_matches(&want->pat, v->bytes);
	}
	return -1;
}

bool state_eval(const struct runner *r, const struct litmus_cond *c)
{
	int eq;

	switch (c->kind) {
	case LC_TRUE:
		return true;
	case LC_FALSE:
		return false;
	case LC_EQ:
	case LC_NE:
		eq = value_eq(r, &c->loc, &r->vals[state_loc_index(r, &c->loc)], &c->val);
		if (eq < 0)
			return false;
		return c->kind == LC_EQ ? eq : !eq;
	case LC_NOT:
		return !state_eval(r, c->kids[0]);
	case LC_AND:
		for (unsigned i = 0; i < c->nr_kids; i++)
			if (!state_eval(r, c->kids[i]))
				return false;
		return true;
	case LC_OR:
		for (unsigned i = 0; i < c->nr_kids; i++)
			if (state_eval(r, c->kids[i]))
				return true;
		return false;
	}
	return false;
}

/* ---- values as text ---------------------------------------------------------------------- */

/* How many bytes from @i repeat b[i]. */
static size_t run_len(const uint8_t *b, size_t len, size_t i)
{
	size_t j = i + 1;

	while (j < len && b[j] == b[i])
		j++;
	return j - i;
}

static bool printable(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* Printable bytes from @i that are not long runs, as a string; returns the end. */
static size_t print_string_piece(FILE *f, const uint8_t *b, size_t len, size_t i)
{
	size_t k = i;

	while (k < len && printable(b[k]) && run_len(b, len, k) < 4)
		k++;
	fprintf(f, "\"%.*s\"", (int)(k - i), (const char *)b + i);
	return k;
}

/*
 * Bytes as a pattern of the language, so that a state can be pasted into a
 * condition: runs of one byte ("0x42*512"), text as strings ("hello").
 */
static void print_bytes(FILE *f, const uint8_t *b, size_t len)
{
	if (!len) {
		fputs("\"\"", f);
		return;
	}
	for (size_t i = 0; i < len;) {
		size_t n = run_len(b, len, i);

		fputs(i ? " " : "", f);
		if (n < 4 && printable(b[i]) && i + 1 < len && printable(b[i + 1])) {
			i = print_string_piece(f, b, len, i);
			continue;
		}
		fprintf(f, "0x%02x", b[i]);
		if (n > 1)
			fprintf(f, "*%zu", n);
		i += n;
	}
}

/* An address as MM:REGION+OFF when it lies in a mapping of the test. */
static void print_addr(FILE *f, const struct runner *r, uint64_t addr)
{
	const struct litmus_test *t = r->t;

	for (unsigned i = 0; i < t->nr_regions; i++) {
		uint64_t base = r->region_addr[i];

		if (addr >= base && addr < base + t->regions[i].len) {
			fprintf(f, "%s:%s", t->mms[t->regions[i].mm].name, t->regions[i].name);
			if (addr > base)
				fprintf(f, "+%" PRIu64, addr - base);
			return;
		}
	}
	fprintf(f, "0x%" PRIx64, addr);
}

static void print_val(FILE *f, const struct runner *r, const struct rval *v)
{
	switch (v->kind) {
	case RV_UNSET:
		fputs("unset", f);
		break;
	case RV_GONE:
		fputs("gone", f);
		break;
	case RV_INT:
		litmus_print_int(f, v->num);
		break;
	case RV_ADDR:
		print_addr(f, r, (uint64_t)v->num);
		break;
	case RV_BYTES:
		print_bytes(f, v->bytes, v->len);
		break;
	}
}

char *state_val_text(const struct runner *r, const struct rval *v)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	print_val(f, r, v);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* "P0:n=512; parent:buf+512=0x42*512;": the condition's locations in order. */
char *state_text(const struct runner *r)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	bool first = true;

	if (!f)
		return NULL;
	for (unsigned i = 0; i < r->nr_locs; i++) {
		if (!r->locs[i].shown)
			continue;
		fputs(first ? "" : " ", f);
		litmus_print_loc(f, r->t, r->locs[i].loc);
		fputc('=', f);
		print_val(f, r, &r->vals[i]);
		fputc(';', f);
		first = false;
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
