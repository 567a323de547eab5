/* SPDX-License-Identifier: MIT */
/*
 * src/list.h - intrusive circular doubly-linked lists, Linux's list_head shape.
 *
 * No locking: each list's owner says which lock protects it.
 */
#ifndef GUP_LIST_H
#define GUP_LIST_H

#include <stddef.h>

struct list_head {
	struct list_head *next, *prev;
};

static inline void INIT_LIST_HEAD(struct list_head *h)
{
	h->next = h->prev = h;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

static inline void list_del(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

static inline int list_empty(const struct list_head *h)
{
	return h->next == h;
}

#define list_entry(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/*
 * Iterate @pos (a struct pointer) over @head; the body must not remove @pos.
 * The loop walks the list_heads and makes @pos of real entries only: Linux's
 * shape also forms a "container" of the head itself, a misaligned pointer (and
 * undefined behaviour on its member access) when @type is more aligned than
 * the structure that holds the head.
 */
#define list_for_each_entry(pos, head, type, member)                            \
	for (struct list_head *pos##_lh_ = (head)->next;                        \
	     pos##_lh_ != (head) &&                                             \
	     ((pos = list_entry(pos##_lh_, type, member)), (void)pos, 1);       \
	     pos##_lh_ = pos##_lh_->next)

#endif /* GUP_LIST_H */
