/* SPDX-License-Identifier: MIT */
/*
 * src/mm/vma_tree.h - the per-mm index of virtual memory areas.
 *
 * An intrusive AVL tree of non-overlapping half-open intervals
 * [start, end), keyed by start.  Embed a struct vma_node in the VMA and
 * link it in; the tree never allocates.  Insert, erase and every lookup
 * are O(log n); first/last are O(log n) and next/prev are amortised O(1)
 * (worst case O(log n)).
 *
 * Locking: the tree has no internal locking and uses no atomics.  It is
 * protected by the owning mm's mmap lock: lookups and iteration need it
 * held at least for read, insert/erase and in-place resizing need it held
 * for write.
 *
 * In-place resizing: a caller holding the lock for write may change
 * start and/or end of a linked node directly (this is how a VMA is shrunk
 * when it is split) as long as, afterwards, every node still has
 * start < end, no two nodes overlap and the order of the nodes by start
 * is unchanged.  Since the tree is keyed only by the relative order of
 * the intervals, no re-linking is needed.  Moving a node past one of its
 * neighbours is not allowed: erase it and insert it again instead.
 */
#ifndef LIBGUP_MM_VMA_TREE_H
#define LIBGUP_MM_VMA_TREE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct vma_node {
	uint64_t start;			/* first address covered */
	uint64_t end;			/* first address not covered */
	struct vma_node *left;
	struct vma_node *right;
	struct vma_node *parent;
	int height;			/* leaf = 1 */
};

struct vma_tree {
	struct vma_node *root;
	size_t count;			/* number of linked nodes */
};

void vma_tree_init(struct vma_tree *t);

/*
 * Link n into t.  The caller sets n->start and n->end (start < end); the
 * link fields are initialised here.  Returns 0, -EEXIST if [start, end)
 * overlaps a linked node, or -EINVAL if start >= end.  On error the tree
 * is unchanged and n is not linked.
 */
int vma_tree_insert(struct vma_tree *t, struct vma_node *n);

/* Unlink n, which must be linked in t.  n's link fields are cleared. */
void vma_tree_erase(struct vma_tree *t, struct vma_node *n);

/*
 * Like Linux find_vma(): the first node with end > addr, or NULL.  The
 * node may start above addr (addr then lies in the gap below it).
 */
struct vma_node *vma_tree_find(const struct vma_tree *t, uint64_t addr);

/* Like vma_lookup(): the node with start <= addr < end, or NULL. */
struct vma_node *vma_tree_lookup(const struct vma_tree *t, uint64_t addr);

/*
 * The lowest node intersecting [start, end), or NULL (always NULL when
 * start >= end).
 */
struct vma_node *vma_tree_find_intersection(const struct vma_tree *t,
					    uint64_t start, uint64_t end);

/* Lowest and highest node, or NULL when the tree is empty. */
struct vma_node *vma_tree_first(const struct vma_tree *t);
struct vma_node *vma_tree_last(const struct vma_tree *t);

/* In-order neighbours of a linked node, or NULL at either end. */
struct vma_node *vma_tree_next(const struct vma_node *n);
struct vma_node *vma_tree_prev(const struct vma_node *n);

/*
 * Check the whole tree: parent links, stored heights, AVL balance,
 * start < end, ordering and non-overlap of neighbours, and count.
 * O(n); meant for tests and debugging.  Returns 0 or -EUCLEAN.
 */
int vma_tree_validate(const struct vma_tree *t);

#endif /* LIBGUP_MM_VMA_TREE_H */
