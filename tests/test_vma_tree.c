// SPDX-License-Identifier: MIT
/*
 * tests/test_vma_tree.c - unit tests of the VMA interval tree.
 *
 * Directed tests of the boundary semantics, then a seeded random test that
 * drives the tree and a sorted-array reference model side by side and
 * validates the tree after every operation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mm/vma_tree.h"

/* ---- helpers ---------------------------------------------------------- */

static void node_set(struct vma_node *n, uint64_t start, uint64_t end)
{
	memset(n, 0, sizeof(*n));
	n->start = start;
	n->end = end;
}

static void insert_ok(struct vma_tree *t, struct vma_node *n, uint64_t start,
		      uint64_t end)
{
	node_set(n, start, end);
	assert_int_equal(vma_tree_insert(t, n), 0);
	assert_int_equal(vma_tree_validate(t), 0);
}

/* log2(x) for x >= 1 without libm: integer part, then bits by squaring. */
static double log2_approx(double x)
{
	double r = 0.0, bit = 1.0;
	int i;

	while (x >= 2.0) {
		x /= 2.0;
		r += 1.0;
	}
	for (i = 0; i < 30; i++) {
		x *= x;
		bit /= 2.0;
		if (x >= 2.0) {
			x /= 2.0;
			r += bit;
		}
	}
	return r;
}

static void assert_height_bound(const struct vma_tree *t)
{
	int h = t->root ? t->root->height : 0;

	assert_true((double)h <= 1.45 * log2_approx((double)t->count + 2.0));
}

/* xorshift64*: deterministic and independent of the C library. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t rng_below(uint64_t n)
{
	return rng() % n;
}

/* ---- directed tests --------------------------------------------------- */

static void test_empty(void **state)
{
	struct vma_tree t;

	(void)state;
	vma_tree_init(&t);
	assert_null(t.root);
	assert_int_equal(t.count, 0);
	assert_int_equal(vma_tree_validate(&t), 0);
	assert_null(vma_tree_first(&t));
	assert_null(vma_tree_last(&t));
	assert_null(vma_tree_find(&t, 0));
	assert_null(vma_tree_find(&t, UINT64_MAX));
	assert_null(vma_tree_lookup(&t, 0));
	assert_null(vma_tree_lookup(&t, 0x1000));
	assert_null(vma_tree_find_intersection(&t, 0, UINT64_MAX));
}

static void test_single_and_invalid(void **state)
{
	struct vma_tree t;
	struct vma_node a, bad;

	(void)state;
	vma_tree_init(&t);
	node_set(&bad, 0x2000, 0x2000);
	assert_int_equal(vma_tree_insert(&t, &bad), -EINVAL);
	node_set(&bad, 0x3000, 0x2000);
	assert_int_equal(vma_tree_insert(&t, &bad), -EINVAL);
	assert_int_equal(t.count, 0);

	insert_ok(&t, &a, 0x1000, 0x2000);
	assert_int_equal(t.count, 1);
	assert_ptr_equal(vma_tree_first(&t), &a);
	assert_ptr_equal(vma_tree_last(&t), &a);
	assert_null(vma_tree_next(&a));
	assert_null(vma_tree_prev(&a));

	vma_tree_erase(&t, &a);
	assert_int_equal(t.count, 0);
	assert_null(t.root);
	assert_int_equal(vma_tree_validate(&t), 0);
}

/* [0x1000,0x2000) [0x2000,0x3000) gap [0x5000,0x6000) */
static void make_three(struct vma_tree *t, struct vma_node v[3])
{
	vma_tree_init(t);
	insert_ok(t, &v[2], 0x5000, 0x6000);
	insert_ok(t, &v[0], 0x1000, 0x2000);
	insert_ok(t, &v[1], 0x2000, 0x3000);
}

static void test_find_vs_lookup(void **state)
{
	struct vma_tree t;
	struct vma_node v[3];

	(void)state;
	make_three(&t, v);

	/* below everything: find returns the first node, lookup nothing */
	assert_ptr_equal(vma_tree_find(&t, 0), &v[0]);
	assert_null(vma_tree_lookup(&t, 0));
	assert_ptr_equal(vma_tree_find(&t, 0xfff), &v[0]);
	assert_null(vma_tree_lookup(&t, 0xfff));

	/* addr == start, addr == end - 1 */
	assert_ptr_equal(vma_tree_find(&t, 0x1000), &v[0]);
	assert_ptr_equal(vma_tree_lookup(&t, 0x1000), &v[0]);
	assert_ptr_equal(vma_tree_find(&t, 0x1fff), &v[0]);
	assert_ptr_equal(vma_tree_lookup(&t, 0x1fff), &v[0]);

	/* addr == end of one node == start of an adjacent one */
	assert_ptr_equal(vma_tree_find(&t, 0x2000), &v[1]);
	assert_ptr_equal(vma_tree_lookup(&t, 0x2000), &v[1]);

	/* addr == end with a gap above: find skips to the next node */
	assert_ptr_equal(vma_tree_find(&t, 0x3000), &v[2]);
	assert_null(vma_tree_lookup(&t, 0x3000));
	assert_ptr_equal(vma_tree_find(&t, 0x4fff), &v[2]);
	assert_null(vma_tree_lookup(&t, 0x4fff));
	assert_ptr_equal(vma_tree_find(&t, 0x5000), &v[2]);
	assert_ptr_equal(vma_tree_lookup(&t, 0x5fff), &v[2]);

	/* at and above the end of the last node */
	assert_null(vma_tree_find(&t, 0x6000));
	assert_null(vma_tree_lookup(&t, 0x6000));
	assert_null(vma_tree_find(&t, UINT64_MAX));
}

static void test_top_of_address_space(void **state)
{
	struct vma_tree t;
	struct vma_node a, b;

	(void)state;
	vma_tree_init(&t);
	insert_ok(&t, &a, 0, 1);
	insert_ok(&t, &b, UINT64_MAX - 0x10, UINT64_MAX);
	assert_ptr_equal(vma_tree_lookup(&t, 0), &a);
	assert_ptr_equal(vma_tree_find(&t, 1), &b);
	assert_ptr_equal(vma_tree_lookup(&t, UINT64_MAX - 1), &b);
	assert_null(vma_tree_lookup(&t, UINT64_MAX));
	assert_null(vma_tree_find(&t, UINT64_MAX));
	assert_ptr_equal(vma_tree_find_intersection(&t, 1, UINT64_MAX), &b);
}

static void test_overlap_rejected(void **state)
{
	static const uint64_t bad[][2] = {
		{ 0x1000, 0x2000 },	/* identical */
		{ 0x0800, 0x1001 },	/* covers the first byte */
		{ 0x1fff, 0x2800 },	/* covers the last byte */
		{ 0x1400, 0x1800 },	/* inside */
		{ 0x0000, 0x9000 },	/* covers everything */
		{ 0x2fff, 0x5001 },	/* spans the gap into the next node */
		{ 0x4fff, 0x5001 },
		{ 0x5fff, 0x6000 },
	};
	struct vma_tree t;
	struct vma_node v[3], n, ok[3];
	size_t i;

	(void)state;
	make_three(&t, v);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		node_set(&n, bad[i][0], bad[i][1]);
		assert_int_equal(vma_tree_insert(&t, &n), -EEXIST);
		assert_int_equal(t.count, 3);
		assert_int_equal(vma_tree_validate(&t), 0);
	}
	/* touching neighbours is not overlapping */
	insert_ok(&t, &ok[0], 0x0800, 0x1000);
	insert_ok(&t, &ok[1], 0x3000, 0x5000);
	insert_ok(&t, &ok[2], 0x6000, 0x6001);
	assert_int_equal(t.count, 6);
}

static void test_find_intersection(void **state)
{
	struct vma_tree t;
	struct vma_node v[3];

	(void)state;
	make_three(&t, v);
	assert_null(vma_tree_find_intersection(&t, 0, 0x1000));
	assert_ptr_equal(vma_tree_find_intersection(&t, 0, 0x1001), &v[0]);
	assert_ptr_equal(vma_tree_find_intersection(&t, 0x1fff, 0x2001),
			 &v[0]);
	assert_ptr_equal(vma_tree_find_intersection(&t, 0x2000, 0x9000),
			 &v[1]);
	assert_null(vma_tree_find_intersection(&t, 0x3000, 0x5000));
	assert_ptr_equal(vma_tree_find_intersection(&t, 0x3000, 0x5001),
			 &v[2]);
	assert_ptr_equal(vma_tree_find_intersection(&t, 0x2fff, 0x5001),
			 &v[1]);
	assert_null(vma_tree_find_intersection(&t, 0x6000, UINT64_MAX));
	/* empty and inverted ranges intersect nothing */
	assert_null(vma_tree_find_intersection(&t, 0x1800, 0x1800));
	assert_null(vma_tree_find_intersection(&t, 0x1800, 0x1000));
}

#define ITER_N 1000

static void test_iteration_order(void **state)
{
	static struct vma_node v[ITER_N];
	struct vma_tree t;
	struct vma_node *n;
	size_t i, k;

	(void)state;
	vma_tree_init(&t);
	/* insert in a scrambled order: 7 is coprime with ITER_N */
	for (i = 0; i < ITER_N; i++) {
		k = (i * 7) % ITER_N;
		insert_ok(&t, &v[k], k * 0x1000, k * 0x1000 + 0x800);
	}
	assert_height_bound(&t);

	for (i = 0, n = vma_tree_first(&t); n; n = vma_tree_next(n), i++)
		assert_ptr_equal(n, &v[i]);
	assert_int_equal(i, ITER_N);

	for (i = ITER_N, n = vma_tree_last(&t); n; n = vma_tree_prev(n))
		assert_ptr_equal(n, &v[--i]);
	assert_int_equal(i, 0);
}

/* Ascending and descending insertion, the classic degenerate orders. */
static void test_sorted_insertion_balanced(void **state)
{
	static struct vma_node v[4096];
	struct vma_tree t;
	size_t i;

	(void)state;
	vma_tree_init(&t);
	for (i = 0; i < 4096; i++) {
		node_set(&v[i], i * 2, i * 2 + 1);
		assert_int_equal(vma_tree_insert(&t, &v[i]), 0);
		assert_height_bound(&t);
	}
	assert_int_equal(vma_tree_validate(&t), 0);
	for (i = 0; i < 4096; i++) {
		vma_tree_erase(&t, &v[i]);
		assert_height_bound(&t);
	}
	assert_int_equal(vma_tree_validate(&t), 0);
	assert_null(t.root);

	for (i = 4096; i-- > 0;) {
		node_set(&v[i], i * 2, i * 2 + 1);
		assert_int_equal(vma_tree_insert(&t, &v[i]), 0);
		assert_height_bound(&t);
	}
	assert_int_equal(vma_tree_validate(&t), 0);
	assert_int_equal(t.count, 4096);
}

/* Splitting a VMA: shrink it in place, then link the tail piece. */
static void test_in_place_shrink(void **state)
{
	struct vma_tree t;
	struct vma_node v[3], tail, head;

	(void)state;
	make_three(&t, v);
	v[1].end = 0x2800;
	assert_int_equal(vma_tree_validate(&t), 0);
	assert_null(vma_tree_lookup(&t, 0x2800));
	assert_ptr_equal(vma_tree_find(&t, 0x2800), &v[2]);
	insert_ok(&t, &tail, 0x2800, 0x3000);
	assert_ptr_equal(vma_tree_lookup(&t, 0x2fff), &tail);
	assert_ptr_equal(vma_tree_next(&v[1]), &tail);
	assert_ptr_equal(vma_tree_next(&tail), &v[2]);

	/* shrink from the front and link the head piece */
	v[2].start = 0x5400;
	assert_int_equal(vma_tree_validate(&t), 0);
	assert_ptr_equal(vma_tree_find(&t, 0x5000), &v[2]);
	assert_null(vma_tree_lookup(&t, 0x5000));
	insert_ok(&t, &head, 0x5000, 0x5400);
	assert_ptr_equal(vma_tree_lookup(&t, 0x53ff), &head);
	assert_ptr_equal(vma_tree_lookup(&t, 0x5400), &v[2]);
	assert_int_equal(t.count, 5);
}

static void test_validate_detects_corruption(void **state)
{
	struct vma_tree t;
	struct vma_node v[3];

	(void)state;
	make_three(&t, v);
	v[1].end = 0x5001;		/* now overlaps v[2] */
	assert_int_equal(vma_tree_validate(&t), -EUCLEAN);
	v[1].end = 0x3000;
	assert_int_equal(vma_tree_validate(&t), 0);
	t.root->height++;
	assert_int_equal(vma_tree_validate(&t), -EUCLEAN);
	t.root->height--;
	t.count++;
	assert_int_equal(vma_tree_validate(&t), -EUCLEAN);
	t.count--;
	assert_int_equal(vma_tree_validate(&t), 0);
}

/* ---- randomized test against a sorted-array model --------------------- */

#define POOL		1024
#define SPACE		(1u << 17)
#define MAX_LEN		64
#define RANDOM_OPS	20000

struct model {
	struct vma_node *v[POOL];	/* linked nodes, sorted by start */
	size_t n;
};

static size_t model_find_idx(const struct model *m, uint64_t addr)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->v[i]->end > addr)
			break;
	return i;
}

static struct vma_node *model_find(const struct model *m, uint64_t addr)
{
	size_t i = model_find_idx(m, addr);

	return i < m->n ? m->v[i] : NULL;
}

static struct vma_node *model_lookup(const struct model *m, uint64_t addr)
{
	struct vma_node *n = model_find(m, addr);

	return n && n->start <= addr ? n : NULL;
}

static struct vma_node *model_intersection(const struct model *m,
					   uint64_t start, uint64_t end)
{
	size_t i;

	if (start >= end)		/* an empty range intersects nothing */
		return NULL;
	for (i = 0; i < m->n; i++)
		if (m->v[i]->start < end && m->v[i]->end > start)
			return m->v[i];
	return NULL;
}

static void model_insert(struct model *m, struct vma_node *n)
{
	size_t i = model_find_idx(m, n->start);

	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(m->v[0]));
	m->v[i] = n;
	m->n++;
}

static void model_erase(struct model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(m->v[0]));
	m->n--;
}

struct rand_ctx {
	struct vma_tree t;
	struct model m;
	struct vma_node pool[POOL];
	struct vma_node *free[POOL];
	size_t nfree, peak;
	unsigned long inserted, rejected, erased, queried, shrunk;
};

static void rand_insert(struct rand_ctx *c)
{
	uint64_t start = rng_below(SPACE), len = 1 + rng_below(MAX_LEN);
	struct vma_node *n;
	int expect, ret;

	if (!c->nfree)
		return;
	n = c->free[c->nfree - 1];
	node_set(n, start, start + len);
	expect = model_intersection(&c->m, start, start + len) ? -EEXIST : 0;
	ret = vma_tree_insert(&c->t, n);
	assert_int_equal(ret, expect);
	if (ret) {
		c->rejected++;
		return;
	}
	c->nfree--;
	model_insert(&c->m, n);
	if (c->m.n > c->peak)
		c->peak = c->m.n;
	c->inserted++;
}

static void rand_erase(struct rand_ctx *c)
{
	size_t i;

	if (!c->m.n)
		return;
	i = rng_below(c->m.n);
	vma_tree_erase(&c->t, c->m.v[i]);
	c->free[c->nfree++] = c->m.v[i];
	model_erase(&c->m, i);
	c->erased++;
}

/* Shrink a random node from either side, as a split would. */
static void rand_shrink(struct rand_ctx *c)
{
	struct vma_node *n;
	uint64_t cut;

	if (!c->m.n)
		return;
	n = c->m.v[rng_below(c->m.n)];
	if (n->end - n->start < 2)
		return;
	cut = 1 + rng_below(n->end - n->start - 1);
	if (rng() & 1)
		n->start += cut;
	else
		n->end -= cut;
	c->shrunk++;
}

static void rand_query(struct rand_ctx *c)
{
	uint64_t a = rng_below(SPACE + MAX_LEN), b = a + rng_below(4 * MAX_LEN);

	assert_ptr_equal(vma_tree_find(&c->t, a), model_find(&c->m, a));
	assert_ptr_equal(vma_tree_lookup(&c->t, a), model_lookup(&c->m, a));
	assert_ptr_equal(vma_tree_find_intersection(&c->t, a, b),
			 model_intersection(&c->m, a, b));
	c->queried++;
}

static void check_against_model(const struct rand_ctx *c)
{
	struct vma_node *n = vma_tree_first(&c->t);
	size_t i;

	assert_int_equal(vma_tree_validate(&c->t), 0);
	assert_int_equal(c->t.count, c->m.n);
	assert_height_bound(&c->t);
	for (i = 0; i < c->m.n; i++, n = vma_tree_next(n))
		assert_ptr_equal(n, c->m.v[i]);
	assert_null(n);
	assert_ptr_equal(vma_tree_last(&c->t),
			 c->m.n ? c->m.v[c->m.n - 1] : NULL);
}

static void test_random_vs_model(void **state)
{
	static struct rand_ctx c;
	unsigned long op;
	uint64_t r;
	size_t i;

	(void)state;
	memset(&c, 0, sizeof(c));
	rng_state = 0x9e3779b97f4a7c15ULL;
	vma_tree_init(&c.t);
	for (i = 0; i < POOL; i++)
		c.free[c.nfree++] = &c.pool[i];

	for (op = 0; op < RANDOM_OPS; op++) {
		/* grow for the first half, then drift towards empty */
		r = rng_below(100);
		if (r < (op < RANDOM_OPS / 2 ? 45u : 25u))
			rand_insert(&c);
		else if (r < 60)
			rand_erase(&c);
		else if (r < 65)
			rand_shrink(&c);
		else
			rand_query(&c);
		check_against_model(&c);
	}
	print_message("random: %lu inserted, %lu rejected, %lu erased, "
		      "%lu shrunk, %lu queried, peak size %zu, final %zu\n",
		      c.inserted, c.rejected, c.erased, c.shrunk, c.queried,
		      c.peak, c.m.n);
	/* the mix must really have exercised a big tree and every path */
	assert_true(c.inserted > 1000 && c.rejected > 100 && c.erased > 1000);
	assert_true(c.peak > 500);
}

int main(void)
{
	/* the array's name is the group name cmocka reports */
	const struct CMUnitTest vma_tree[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_and_invalid),
		cmocka_unit_test(test_find_vs_lookup),
		cmocka_unit_test(test_top_of_address_space),
		cmocka_unit_test(test_overlap_rejected),
		cmocka_unit_test(test_find_intersection),
		cmocka_unit_test(test_iteration_order),
		cmocka_unit_test(test_sorted_insertion_balanced),
		cmocka_unit_test(test_in_place_shrink),
		cmocka_unit_test(test_validate_detects_corruption),
		cmocka_unit_test(test_random_vs_model),
	};

	return cmocka_run_group_tests(vma_tree, NULL, NULL);
}
