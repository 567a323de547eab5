/* SPDX-License-Identifier: MIT */
/*
 * src/io/iov.c - segments and references, shared by the users of GUP (io.h).
 */
#include "io/io.h"

long io_iov_check(const struct gup_iovec *iov, unsigned long nr, uint64_t align)
{
	uint64_t total = 0;

	if (nr > GUP_IOV_MAX || (nr && !iov))
		return -EINVAL;
	for (unsigned long i = 0; i < nr; i++) {
		uint64_t base = iov[i].base, len = iov[i].len;

		if (!len)
			continue;	/* as iov_iter_alignment: empty segments never count */
		if ((base | len) & (align - 1))
			return -EINVAL;
		if (len > GUP_IO_MAX_BYTES || total + len > GUP_IO_MAX_BYTES)
			return -EINVAL;
		if (base + len < base || base + len > GUP_TASK_SIZE)
			return -EFAULT;		/* access_ok fails */
		total += len;
	}
	return (long)total;
}

unsigned long io_iov_nr_pages(const struct gup_iovec *iov, unsigned long nr)
{
	unsigned long pages = 0;

	for (unsigned long i = 0; i < nr; i++)
		pages += io_span_pages(iov[i].base, iov[i].len);
	return pages;
}

unsigned long io_fill_chunks(struct io_chunk *c, uint64_t addr, size_t len,
			     struct page **pages)
{
	unsigned long n = 0;

	while (len) {
		uint32_t off = (uint32_t)(addr & ~PAGE_MASK);
		size_t part = PAGE_SIZE - off;

		if (part > len)
			part = len;
		c[n].page = pages[n];
		c[n].off = off;
		c[n].len = (uint32_t)part;
		n++;
		addr += part;
		len -= part;
	}
	return n;
}

int io_gup_fast(struct gup_task *t, uint64_t addr, unsigned long nr, unsigned flags,
		bool pin, struct page **pages)
{
	struct gup_page **gp = (struct gup_page **)pages;
	int got;

	if (nr > INT32_MAX)
		return -EINVAL;
	if (!nr)
		return 0;
	if (pin)
		got = gup_pin_user_pages_fast(t, addr & PAGE_MASK, (int)nr, flags, gp);
	else
		got = gup_get_user_pages_fast(t, addr & PAGE_MASK, (int)nr, flags, gp);
	if (got == (int)nr)
		return 0;
	/* A short count means a hole or a refusal further on: give back what we got. */
	if (got > 0)
		io_release_pages(pages, (unsigned long)got, pin, false);
	return got < 0 ? got : -EFAULT;
}

void io_set_page_dirty_lock(struct page *page)
{
	if (PageZero(page) || PageDirty(page))
		return;
	/* The page lock orders us against writeback, as set_page_dirty_lock. */
	lock_page(page);
	SetPageDirty(page);
	unlock_page(page);
}

void io_release_pages(struct page **pages, unsigned long n, bool pin, bool dirty)
{
	if (pin) {
		gup_unpin_user_pages_dirty_lock((struct gup_page **)pages, n, dirty);
		return;
	}
	/* FOLL_GET: dio_bio_complete's set_page_dirty_lock, then put_page. */
	for (unsigned long i = 0; i < n; i++) {
		if (!pages[i])
			continue;
		if (dirty)
			io_set_page_dirty_lock(pages[i]);
		gup_put_page(page_to_gup_page(pages[i]));
	}
}
