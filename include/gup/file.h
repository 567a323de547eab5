/* SPDX-License-Identifier: MIT */
/*
 * <gup/file.h> - simulated disks, and the files and page cache on them.
 *
 * A disk is bytes in host memory with a latency per request; files live on a disk,
 * each in one extent fixed at creation (its maximum size).  Conventions as in
 * <gup/gup.h>: 0 or a count, or a negative errno.
 */
#ifndef GUP_FILE_H
#define GUP_FILE_H

#include "gup/gup.h"

#ifdef __cplusplus
extern "C" {
#endif

struct gup_disk;

#define GUP_SECTOR_SIZE	512u

struct gup_disk_config {
	uint64_t bytes;			/* capacity: a positive multiple of 512     */
	uint64_t read_latency_ns;	/* paid by every read request               */
	uint64_t write_latency_ns;	/* paid by every write request              */
};

/* gup_disk_create - Return: 0, -EINVAL (bad config), -ENOMEM. */
GUP_API GUP_MUST_CHECK int gup_disk_create(struct gup_world *w,
					   const struct gup_disk_config *cfg,
					   struct gup_disk **out);
/* gup_disk_destroy - Return: 0, -EBUSY (files on it or I/O in flight), -EINVAL. */
GUP_API int gup_disk_destroy(struct gup_disk *d);

/*
 * What the disk holds, bypassing everything (a test looking at the platter, or
 * preparing it).  Return: 0, -EINVAL (out of range).
 */
GUP_API int gup_disk_peek(struct gup_disk *d, uint64_t off, void *buf, size_t len);
GUP_API int gup_disk_poke(struct gup_disk *d, uint64_t off, const void *buf, size_t len);

struct gup_disk_stats {
	uint64_t nr_reads, nr_writes;		/* requests */
	uint64_t bytes_read, bytes_written;
};
GUP_API int gup_disk_stats(struct gup_disk *d, struct gup_disk_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* GUP_FILE_H */
