// SPDX-License-Identifier: MIT
/*
 * src/mm/vma_tree.c - AVL tree of non-overlapping intervals (see vma_tree.h).
 *
 * Heights: an empty subtree has height 0 and a leaf height 1.  Every
 * structural change (link or unlink) is followed by a walk from the lowest
 * touched node up to the root that refreshes heights and rotates wherever
 * the two subtree heights differ by two.  The walk visits O(log n) nodes.
 *
 * Because the intervals never overlap, ordering by start is the same as
 * ordering by end, so searches may compare against either bound.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "vma_tree.h"

/*
 * Deeper than any valid AVL tree that fits in memory (a 64-bit address
 * space holds fewer than 2^64 nodes, so height < 1.45 * 64 < 93).  Used by
 * validation to stop on a corrupted, cyclic tree.
 */
#define VMA_TREE_MAX_DEPTH	96

static int height(const struct vma_node *n)
{
	return n ? n->height : 0;
}

static int balance(const struct vma_node *n)
{
	return height(n->left) - height(n->right);
}

static void update_height(struct vma_node *n)
{
	int l = height(n->left), r = height(n->right);

	n->height = 1 + (l > r ? l : r);
}

/* Make whatever pointed at @old (its parent, or the root) point at @new. */
static void replace_child(struct vma_tree *t, struct vma_node *parent,
			  struct vma_node *old, struct vma_node *new)
{
	if (!parent)
		t->root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

/*
 *     x                y
 *    / \              / \
 *   a   y     ->     x   c
 *      / \          / \
 *     b   c        a   b
 */
static struct vma_node *rotate_left(struct vma_tree *t, struct vma_node *x)
{
	struct vma_node *y = x->right;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	y->parent = x->parent;
	replace_child(t, x->parent, x, y);
	y->left = x;
	x->parent = y;
	update_height(x);
	update_height(y);
	return y;
}

/* Mirror image of rotate_left(). */
static struct vma_node *rotate_right(struct vma_tree *t, struct vma_node *x)
{
	struct vma_node *y = x->left;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	y->parent = x->parent;
	replace_child(t, x->parent, x, y);
	y->right = x;
	x->parent = y;
	update_height(x);
	update_height(y);
	return y;
}

/* Restore balance at @n; returns the root of the subtree @n headed. */
static struct vma_node *fix_node(struct vma_tree *t, struct vma_node *n)
{
	int b;

	update_height(n);
	b = balance(n);
	if (b > 1) {
		if (balance(n->left) < 0)
			rotate_left(t, n->left);
		return rotate_right(t, n);
	}
	if (b < -1) {
		if (balance(n->right) > 0)
			rotate_right(t, n->right);
		return rotate_left(t, n);
	}
	return n;
}

/* Refresh heights and rebalance from @n up to the root. */
static void rebalance(struct vma_tree *t, struct vma_node *n)
{
	while (n)
		n = fix_node(t, n)->parent;
}

static struct vma_node *leftmost(struct vma_node *n)
{
	while (n && n->left)
		n = n->left;
	return n;
}

static struct vma_node *rightmost(struct vma_node *n)
{
	while (n && n->right)
		n = n->right;
	return n;
}

void vma_tree_init(struct vma_tree *t)
{
	t->root = NULL;
	t->count = 0;
}

int vma_tree_insert(struct vma_tree *t, struct vma_node *n)
{
	struct vma_node *parent = NULL, **link = &t->root;

	if (n->start >= n->end)
		return -EINVAL;
	/*
	 * Any node overlapping n lies on this search path: it is never
	 * entirely on the far side of a node n is entirely to one side of.
	 */
	while (*link) {
		parent = *link;
		if (n->end <= parent->start)
			link = &parent->left;
		else if (n->start >= parent->end)
			link = &parent->right;
		else
			return -EEXIST;
	}
	n->left = NULL;
	n->right = NULL;
	n->parent = parent;
	n->height = 1;
	*link = n;
	t->count++;
	rebalance(t, parent);
	return 0;
}

/*
 * Unlink @n, which has two children, by moving its in-order successor
 * into its place.  Returns the lowest node whose subtree changed.
 */
static struct vma_node *erase_two_children(struct vma_tree *t,
					   struct vma_node *n)
{
	struct vma_node *s = leftmost(n->right), *from;

	if (s == n->right) {
		from = s;
	} else {
		from = s->parent;
		from->left = s->right;
		if (s->right)
			s->right->parent = from;
		s->right = n->right;
		s->right->parent = s;
	}
	s->left = n->left;
	s->left->parent = s;
	s->parent = n->parent;
	s->height = n->height;
	replace_child(t, n->parent, n, s);
	return from;
}

void vma_tree_erase(struct vma_tree *t, struct vma_node *n)
{
	struct vma_node *from, *child;

	if (n->left && n->right) {
		from = erase_two_children(t, n);
	} else {
		child = n->left ? n->left : n->right;
		if (child)
			child->parent = n->parent;
		replace_child(t, n->parent, n, child);
		from = n->parent;
	}
	n->left = NULL;
	n->right = NULL;
	n->parent = NULL;
	n->height = 0;
	t->count--;
	rebalance(t, from);
}

struct vma_node *vma_tree_find(const struct vma_tree *t, uint64_t addr)
{
	struct vma_node *n = t->root, *best = NULL;

	while (n) {
		if (n->end > addr) {
			best = n;
			if (n->start <= addr)
				break;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

struct vma_node *vma_tree_lookup(const struct vma_tree *t, uint64_t addr)
{
	struct vma_node *n = vma_tree_find(t, addr);

	return n && n->start <= addr ? n : NULL;
}

struct vma_node *vma_tree_find_intersection(const struct vma_tree *t,
					    uint64_t start, uint64_t end)
{
	struct vma_node *n;

	if (start >= end)
		return NULL;
	n = vma_tree_find(t, start);
	return n && n->start < end ? n : NULL;
}

struct vma_node *vma_tree_first(const struct vma_tree *t)
{
	return leftmost(t->root);
}

struct vma_node *vma_tree_last(const struct vma_tree *t)
{
	return rightmost(t->root);
}

struct vma_node *vma_tree_next(const struct vma_node *n)
{
	if (n->right)
		return leftmost(n->right);
	while (n->parent && n == n->parent->right)
		n = n->parent;
	return n->parent;
}

struct vma_node *vma_tree_prev(const struct vma_node *n)
{
	if (n->left)
		return rightmost(n->left);
	while (n->parent && n == n->parent->left)
		n = n->parent;
	return n->parent;
}

struct validate_state {
	const struct vma_tree *t;
	const struct vma_node *prev;	/* last node visited in order */
	size_t seen;
	int err;
};

/* Checks of @n alone and of its links to its children. */
static int check_node(const struct vma_node *n)
{
	if (n->start >= n->end)
		return -EUCLEAN;
	if (n->left && n->left->parent != n)
		return -EUCLEAN;
	if (n->right && n->right->parent != n)
		return -EUCLEAN;
	return 0;
}

/*
 * In-order walk of the subtree at @n; returns its computed height (or -1
 * once an error has been recorded in @s).
 */
static int validate_subtree(struct validate_state *s, const struct vma_node *n,
			    int depth)
{
	int l, r;

	if (!n)
		return 0;
	if (depth > VMA_TREE_MAX_DEPTH || ++s->seen > s->t->count ||
	    check_node(n)) {
		s->err = -EUCLEAN;
		return -1;
	}
	l = validate_subtree(s, n->left, depth + 1);
	if (l < 0)
		return -1;
	if (s->prev && s->prev->end > n->start) {
		s->err = -EUCLEAN;
		return -1;
	}
	s->prev = n;
	r = validate_subtree(s, n->right, depth + 1);
	if (r < 0)
		return -1;
	if (n->height != 1 + (l > r ? l : r) || l - r > 1 || r - l > 1) {
		s->err = -EUCLEAN;
		return -1;
	}
	return n->height;
}

int vma_tree_validate(const struct vma_tree *t)
{
	struct validate_state s = { .t = t };

	if (t->root && t->root->parent)
		return -EUCLEAN;
	validate_subtree(&s, t->root, 1);
	if (s.err)
		return s.err;
	return s.seen == t->count ? 0 : -EUCLEAN;
}
