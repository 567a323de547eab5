/* SPDX-License-Identifier: MIT */
/*
 * src/io/disk.h - a simulated block device: bytes in host memory, 512-byte
 * sectors, a configurable latency per request.
 *
 * Transfers move bytes between the disk and frames by physical address only (the
 * way a DMA engine does: no page table is involved), one request at a time per
 * disk: disk->lock is held across the copy, so the disk's bytes are never raced on;
 * the latency is paid outside it (sched_io_delay, a scheduling point), so other
 * tasks run while a request is in flight.  The frame side moves in aligned 8-byte
 * words (mem_copy_to_shared), as a bus master writes: a COW or fork copy of the
 * frame may read it at the same moment.
 */
#ifndef GUP_IO_DISK_H
#define GUP_IO_DISK_H

#include "gup/file.h"
#include "list.h"
#include "sched/sched.h"

#define SECTOR_SHIFT	9
#define SECTOR_SIZE	(1u << SECTOR_SHIFT)

struct gup_disk {
	struct gup_world *w;		/* constant */
	uint64_t bytes;			/* constant: capacity, sector multiple */
	uint64_t read_ns, write_ns;	/* constant: latency per request       */
	uint8_t *data;			/* under lock                          */
	spinlock_t lock;		/* the bytes; leaf lock                */
	atomic_t users;			/* files on it, requests in flight     */
	/* Totals (relaxed): requests and bytes each way. */
	_Atomic uint64_t nr_reads, nr_writes, bytes_read, bytes_written;
	/* Next free byte for a new file's extent (under world->lock). */
	uint64_t alloc_next;
	struct list_head list;		/* world->disk_list, under world->lock */
};

/*
 * Read [off, off+len) of @d into @frame_dst (bytes of the frame @frame), or write
 * it from @frame_src.  The request's latency is paid first (read) or last
 * (write, the data reaches the platter when it completes).
 * Return: 0 or -EINVAL (beyond the disk).
 */
int disk_read(struct gup_disk *d, uint64_t off, void *frame_dst, size_t len, const void *frame);
int disk_write(struct gup_disk *d, uint64_t off, const void *frame_src, size_t len,
	       const void *frame);

/* An extent of @bytes for a new file (sector aligned), or -ENOSPC. */
int disk_alloc_extent(struct gup_disk *d, uint64_t bytes, uint64_t *off);

/* Free every disk of the world (teardown). */
void disks_destroy(struct gup_world *w);

#endif /* GUP_IO_DISK_H */
