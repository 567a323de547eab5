/* SPDX-License-Identifier: MIT */
/*
 * src/io/rdma.c - an RDMA NIC's memory regions: the driver that pins "forever"
 * (docs/io.md).
 *
 * Registration references every page of the region until deregistration, and
 * the NIC then reads and writes the frames by physical page whenever the remote
 * side asks - the pins must stay coherent with what the process sees for as
 * long as they last.  linux-6.x registers as ib_umem_get does now:
 * pin_user_pages_fast with FOLL_LONGTERM, FOLL_WRITE if the region is writable;
 * fork then copies the maybe-pinned exclusive pages for the child and the parent
 * keeps the pinned ones (linux_anchor 1.12).  linux-2.6.29 registers as 2009's
 * ib_umem_get did: get_user_pages(write=1, force=!writable) under mmap_sem -
 * write=1 even for read-only regions, to break COW at registration - and fork
 * shares the pages, so the parent's next write fault copies its page away from
 * the region (seed 004: "don't mix fork() with page pinning", MADV_DONTFORK being
 * the workaround of the day).
 *
 * A region is constant between registration and deregistration, so the device
 * accessors may run on any thread; deregistering under them is the caller's bug,
 * as in Linux.
 */
#include <stdlib.h>

#include "io/io.h"

#define RDMA_ACCESS_ALL	(GUP_RDMA_ACCESS_LOCAL_WRITE | GUP_RDMA_ACCESS_REMOTE_WRITE | \
			 GUP_RDMA_ACCESS_REMOTE_READ)

struct gup_mr {
	struct gup_world *w;		/* constant */
	uint64_t addr;			/* constant: first byte of the region */
	size_t len;			/* constant */
	unsigned access;		/* constant */
	bool pinned;			/* constant: FOLL_PIN, else FOLL_GET */
	unsigned long nr_pages;		/* constant */
	struct page *pages[];		/* constant until deregistration */
};

static bool mr_writable(unsigned access)
{
	return access & (GUP_RDMA_ACCESS_LOCAL_WRITE | GUP_RDMA_ACCESS_REMOTE_WRITE);
}

/* ib_umem_get, 2009: get_user_pages(write=1, force=!writable) with mmap_sem held. */
static int mr_get_user_pages(struct gup_task *t, struct gup_mr *mr)
{
	unsigned flags = FOLL_WRITE | (mr_writable(mr->access) ? 0 : FOLL_FORCE);
	long got;
	int ret = gup_mmap_read_lock(t, t->mm);

	if (ret)
		return ret;
	got = gup_get_user_pages(t, mr->addr & PAGE_MASK, mr->nr_pages, flags,
				 (struct gup_page **)mr->pages);
	gup_mmap_read_unlock(t, t->mm);
	if (got == (long)mr->nr_pages)
		return 0;
	if (got > 0)
		io_release_pages(mr->pages, (unsigned long)got, false, false);
	return got < 0 ? (int)got : -EFAULT;
}

static int mr_args_ok(uint64_t addr, size_t len, unsigned access)
{
	if (!len || len > GUP_IO_MAX_BYTES || (access & ~RDMA_ACCESS_ALL))
		return -EINVAL;
	/* ib_check_mr_access: remote write needs local write. */
	if ((access & GUP_RDMA_ACCESS_REMOTE_WRITE) && !(access & GUP_RDMA_ACCESS_LOCAL_WRITE))
		return -EINVAL;
	if (addr + len < addr || addr + len > GUP_TASK_SIZE)
		return -EFAULT;
	return 0;
}

GUP_API int gup_rdma_reg_mr(struct gup_task *t, uint64_t addr, size_t len, unsigned access,
			    struct gup_mr **out)
{
	unsigned long nr;
	struct gup_mr *mr;
	int ret;

	if (!t || !out)
		return -EINVAL;
	ret = mr_args_ok(addr, len, access);
	if (ret)
		return ret;
	nr = io_span_pages(addr, len);
	mr = calloc(1, sizeof(*mr) + nr * sizeof(mr->pages[0]));
	if (!mr)
		return -ENOMEM;
	*mr = (struct gup_mr){ .w = t->w, .addr = addr, .len = len, .access = access,
			       .pinned = io_ref_pin(t->w), .nr_pages = nr };
	if (mr->pinned)
		ret = io_gup_fast(t, addr, nr, FOLL_LONGTERM |
				  (mr_writable(access) ? FOLL_WRITE : 0), true, mr->pages);
	else
		ret = mr_get_user_pages(t, mr);
	if (ret) {
		free(mr);
		return ret;
	}
	*out = mr;
	return 0;
}

GUP_API int gup_rdma_dereg_mr(struct gup_mr *mr)
{
	if (!mr)
		return -EINVAL;
	/* ib_umem_release: dirty what the NIC may have written. */
	io_release_pages(mr->pages, mr->nr_pages, mr->pinned, mr_writable(mr->access));
	free(mr);
	return 0;
}

static bool mr_contains(const struct gup_mr *mr, uint64_t addr, size_t len)
{
	return addr >= mr->addr && addr - mr->addr <= mr->len &&
	       len <= mr->len - (addr - mr->addr);
}

/* The NIC's transfer, by physical page, in word-atomic units like a bus master. */
static int mr_access(struct gup_mr *mr, uint64_t addr, void *buf, size_t len, bool write)
{
	if (!mr || (!buf && len))
		return -EINVAL;
	if (write && !mr_writable(mr->access))
		return -EACCES;
	if (!mr_contains(mr, addr, len))
		return -EINVAL;
	while (len) {
		struct page *page = mr->pages[(addr >> PAGE_SHIFT) - (mr->addr >> PAGE_SHIFT)];
		uint8_t *frame = page_data(&mr->w->arena, page);
		size_t off = addr & ~PAGE_MASK, n = PAGE_SIZE - off;

		if (n > len)
			n = len;
		if (write)
			mem_copy_to_shared(frame + off, buf, n, frame);
		else
			mem_copy_from_shared(buf, frame + off, n, frame);
		buf = (uint8_t *)buf + n;
		addr += n;
		len -= n;
	}
	return 0;
}

GUP_API int gup_rdma_mr_read(struct gup_mr *mr, uint64_t addr, void *buf, size_t len)
{
	return mr_access(mr, addr, buf, len, false);
}

GUP_API int gup_rdma_mr_write(struct gup_mr *mr, uint64_t addr, const void *buf, size_t len)
{
	return mr_access(mr, addr, (void *)buf, len, true);
}
