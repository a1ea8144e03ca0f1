/* SPDX-License-Identifier: MIT */
/* A minimal intrusive doubly linked list, after the kernel's list.h. */
#ifndef SOFTSEV_LIST_H
#define SOFTSEV_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_head {
	struct list_head *next, *prev;
};

static inline void list_init(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void list_del_init(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* Move every entry of from to the tail of to; from ends up empty. */
static inline void list_splice_tail_init(struct list_head *from,
					 struct list_head *to)
{
	if (list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	list_init(from);
}

static inline size_t list_count(const struct list_head *h)
{
	const struct list_head *p;
	size_t n = 0;

	for (p = h->next; p != h; p = p->next)
		n++;
	return n;
}

#define list_entry(ptr, type, member)                                     \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define list_for_each_safe(pos, tmp, head)                                \
	for (pos = (head)->next, tmp = pos->next; pos != (head);          \
	     pos = tmp, tmp = pos->next)

#endif
