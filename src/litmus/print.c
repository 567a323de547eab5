/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/print.c - a test back to text, in canonical form.
 *
 * The output parses to the same tree (positions aside), and printing that tree
 * gives the same text again: the round trip the tests and the fuzzer check.
 * Canonical choices: declarations grouped by kind in the order their references
 * need (disks, files, pipes, mms, uffds), one Result: line and after it the
 * Memory: line if the test has one, sizes in decimal, byte values in hex, flags
 * by name, errors by name, and parentheses around every connective nested in
 * another and every atom under a negation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "gup/gup.h"
#include "litmus/litmus.h"

/* A string literal's bytes, escaped; newlines stay newlines (descriptions). */
static void print_string(FILE *f, const uint8_t *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\n')
			fputc('\n', f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void print_pattern(FILE *f, const struct litmus_pattern *p)
{
	for (unsigned i = 0; i < p->nr_pieces; i++) {
		const struct litmus_piece *pc = &p->pieces[i];

		if (i)
			fputc(' ', f);
		if (pc->string)
			print_string(f, pc->bytes, pc->nr_bytes);
		else
			fprintf(f, "0x%02x", pc->bytes[0]);
		if (pc->repeat > 1)
			fprintf(f, "*%" PRIu64, pc->repeat);
	}
}

static void print_flags(FILE *f, const struct litmus_flag_table *tab, uint64_t v)
{
	const char *sep = "";

	if (tab->single) {
		for (unsigned i = 0; i < tab->nr; i++)
			if (tab->flags[i].value == v) {
				fputs(tab->flags[i].name, f);
				return;
			}
		fprintf(f, "%" PRIu64, v);
		return;
	}
	if (!v) {
		fputc('0', f);
		return;
	}
	for (unsigned i = 0; i < tab->nr; i++) {
		if (tab->flags[i].value && (v & tab->flags[i].value) == tab->flags[i].value) {
			fprintf(f, "%s%s", sep, tab->flags[i].name);
			v &= ~tab->flags[i].value;
			sep = "|";
		}
	}
	if (v)
		fprintf(f, "%s0x%" PRIx64, sep, v);
}

static void print_prot(FILE *f, int prot)
{
	if (!(prot & (GUP_PROT_READ | GUP_PROT_WRITE | GUP_PROT_EXEC))) {
		fputs("none", f);
		return;
	}
	if (prot & GUP_PROT_READ)
		fputc('r', f);
	if (prot & GUP_PROT_WRITE)
		fputc('w', f);
	if (prot & GUP_PROT_EXEC)
		fputc('x', f);
}

static void print_addr(FILE *f, const struct litmus_test *t, const struct litmus_addr *a)
{
	fputs(t->regions[a->region].name, f);
	if (a->off)
		fprintf(f, "+%" PRIu64, a->off);
}

static void print_init(FILE *f, const struct litmus_pattern *p)
{
	if (!p->nr_pieces)
		return;
	fputs(" = ", f);
	print_pattern(f, p);
}

/* ---- the header and the initial state ---------------------------------------------- */

static void print_header(FILE *f, const struct litmus_test *t)
{
	fprintf(f, "GUP %s\n", t->name);
	if (t->desc) {
		print_string(f, (const uint8_t *)t->desc, t->desc_len);
		fputc('\n', f);
	}
	if (t->nr_expect) {
		fputs("Result:", f);
		for (unsigned i = 0; i < t->nr_expect; i++)
			fprintf(f, " %s=%s", t->expect[i].policy,
				litmus_obs_name(t->expect[i].obs));
		fputc('\n', f);
	}
	if (t->memory != LITMUS_MEM_SC || t->memory_pos.line)
		fprintf(f, "Memory: %s\n", litmus_memory_name(t->memory));
}

static void print_region(FILE *f, const struct litmus_test *t, const struct litmus_region *r)
{
	fprintf(f, "\t\t%s: ", r->name);
	if (r->kind == LITMUS_MAP_FILE) {
		fprintf(f, "file %s", t->files[r->file].name);
		if (r->file_off)
			fprintf(f, "+%" PRIu64, r->file_off);
	} else {
		fputs("anon", f);
	}
	fputs(r->shared ? " shared " : " private ", f);
	print_prot(f, r->prot);
	fprintf(f, " %" PRIu64 "%s", r->len, r->populate ? " populate" : "");
	print_init(f, &r->init);
	fputs(";\n", f);
}

static void print_state(FILE *f, const struct litmus_test *t)
{
	fputs("\n{\n", f);
	for (unsigned i = 0; i < t->nr_disks; i++) {
		fprintf(f, "\tdisk %s %" PRIu64, t->disks[i].name, t->disks[i].size);
		print_init(f, &t->disks[i].init);
		fputs(";\n", f);
	}
	for (unsigned i = 0; i < t->nr_files; i++) {
		const struct litmus_file *fl = &t->files[i];

		if (fl->kind == LITMUS_FILE_MEMFD)
			fprintf(f, "\tmemfd %s %" PRIu64, fl->name, fl->size);
		else
			fprintf(f, "\tfile %s on %s %" PRIu64, fl->name, t->disks[fl->disk].name,
				fl->size);
		if (fl->max_size != fl->size)
			fprintf(f, " max %" PRIu64, fl->max_size);
		if (fl->dax)
			fputs(" dax", f);
		print_init(f, &fl->init);
		fputs(";\n", f);
	}
	for (unsigned i = 0; i < t->nr_pipes; i++)
		fprintf(f, "\tpipe %s;\n", t->pipes[i].name);
	for (unsigned i = 0; i < t->nr_declared_mms; i++) {
		const struct litmus_mm *m = &t->mms[i];

		fprintf(f, "\tmm %s {\n", m->name);
		for (unsigned r = 0; r < m->nr_regions; r++)
			print_region(f, t, &t->regions[m->first_region + r]);
		fputs("\t}\n", f);
	}
	for (unsigned i = 0; i < t->nr_uffds; i++)
		fprintf(f, "\tuffd %s on %s;\n", t->uffds[i].name, t->mms[t->uffds[i].mm].name);
	fputs("}\n", f);
}

/* ---- threads ----------------------------------------------------------------------------- */

static void print_arg(FILE *f, const struct litmus_test *t, const struct litmus_thread *th,
		      const struct litmus_arg_info *ai, const struct litmus_arg *a)
{
	switch (a->kind) {
	case LA_ADDR:
	case LA_LADDR:
		print_addr(f, t, &a->addr);
		break;
	case LA_UINT:
		fprintf(f, "%" PRIu64, a->num);
		break;
	case LA_PATTERN:
		print_pattern(f, &a->pat);
		break;
	case LA_FLAGS:
		print_flags(f, ai->flags, a->num);
		break;
	case LA_PROT:
		print_prot(f, (int)a->num);
		break;
	case LA_MM:
	case LA_NEWMM:
		fputs(t->mms[a->ref].name, f);
		break;
	case LA_DISK:
		fputs(t->disks[a->ref].name, f);
		break;
	case LA_FILE:
		fputs(t->files[a->ref].name, f);
		break;
	case LA_PIPE:
		fputs(t->pipes[a->ref].name, f);
		break;
	case LA_UFFD:
		fputs(t->uffds[a->ref].name, f);
		break;
	case LA_HANDLE:
		fputs(th->ops[a->ref].result, f);
		break;
	case LA_KEYWORD:
		fputs(ai->keyword, f);
		break;
	}
}

void litmus_print_op(FILE *f, const struct litmus_test *t, const struct litmus_thread *th,
		     const struct litmus_op *op)
{
	const struct litmus_op_info *info = litmus_op_info(op->kind);

	if (op->result)
		fprintf(f, "%s = ", op->result);
	fputs(info->name, f);
	if (info->nr_args) {
		fputc('(', f);
		for (unsigned i = 0; i < op->nr_args; i++) {
			if (i)
				fputs(", ", f);
			print_arg(f, t, th, &info->args[i], &op->args[i]);
		}
		fputc(')', f);
	}
}

static void print_thread(FILE *f, const struct litmus_test *t, const struct litmus_thread *th)
{
	fprintf(f, "\nP%u@%s {\n", th->id, t->mms[th->mm].name);
	for (unsigned i = 0; i < th->nr_ops; i++) {
		fputc('\t', f);
		litmus_print_op(f, t, th, &th->ops[i]);
		fputs(";\n", f);
	}
	fputs("}\n", f);
}

/* ---- conditions --------------------------------------------------------------------------- */

void litmus_print_int(FILE *f, int64_t v)
{
	const char *name = v < 0 && v > -4096 ? litmus_errno_name(-v) : NULL;

	if (name)
		fprintf(f, "-%s", name);
	else
		fprintf(f, "%" PRId64, v);
}

static void print_value(FILE *f, const struct litmus_test *t, const struct litmus_value *v)
{
	switch (v->kind) {
	case LV_INT:
		litmus_print_int(f, v->num);
		break;
	case LV_BYTES:
		print_pattern(f, &v->pat);
		break;
	case LV_ADDR:
		fprintf(f, "%s:", t->mms[v->mm].name);
		print_addr(f, t, &v->addr);
		break;
	}
}

void litmus_print_loc(FILE *f, const struct litmus_test *t, const struct litmus_loc *l)
{
	switch (l->kind) {
	case LL_MEM:
		fprintf(f, "%s:", t->mms[l->obj].name);
		print_addr(f, t, &(struct litmus_addr){ l->region, l->off });
		return;
	case LL_RESULT:
		fprintf(f, "P%u:%s", l->obj, t->threads[l->obj].ops[l->op].result);
		return;
	case LL_DISK:
		fputs(t->disks[l->obj].name, f);
		break;
	case LL_FILE:
		fputs(t->files[l->obj].name, f);
		break;
	case LL_STAT:
		fprintf(f, "vm_stat(%s)", gup_stat_name((enum gup_stat_item)l->obj));
		return;
	}
	if (l->off)
		fprintf(f, "+%" PRIu64, l->off);
}

static bool is_connective(const struct litmus_cond *c)
{
	return c->kind == LC_AND || c->kind == LC_OR;
}

/* @c where only a unary form may stand (under ~, or as a kid of a connective). */
static void print_unary(FILE *f, const struct litmus_test *t, const struct litmus_cond *c,
			bool under_not)
{
	bool paren = is_connective(c) ||
		     (under_not && (c->kind == LC_EQ || c->kind == LC_NE));

	if (paren)
		fputc('(', f);
	litmus_print_cond(f, t, c);
	if (paren)
		fputc(')', f);
}

void litmus_print_cond(FILE *f, const struct litmus_test *t, const struct litmus_cond *c)
{
	switch (c->kind) {
	case LC_TRUE:
		fputs("true", f);
		break;
	case LC_FALSE:
		fputs("false", f);
		break;
	case LC_EQ:
	case LC_NE:
		litmus_print_loc(f, t, &c->loc);
		fputs(c->kind == LC_EQ ? " = " : " != ", f);
		print_value(f, t, &c->val);
		break;
	case LC_NOT:
		fputc('~', f);
		print_unary(f, t, c->kids[0], true);
		break;
	case LC_AND:
	case LC_OR:
		for (unsigned i = 0; i < c->nr_kids; i++) {
			if (i)
				fputs(c->kind == LC_AND ? " /\\ " : " \\/ ", f);
			print_unary(f, t, c->kids[i], false);
		}
		break;
	}
}

int litmus_print(FILE *f, const struct litmus_test *t)
{
	print_header(f, t);
	print_state(f, t);
	for (unsigned i = 0; i < t->nr_threads; i++)
		print_thread(f, t, &t->threads[i]);
	fputc('\n', f);
	if (t->filter) {
		fputs("filter (", f);
		litmus_print_cond(f, t, t->filter);
		fputs(")\n", f);
	}
	fprintf(f, "%s (", litmus_quant_name(t->quant));
	litmus_print_cond(f, t, t->cond);
	fputs(")\n", f);
	return ferror(f) ? -EIO : 0;
}
