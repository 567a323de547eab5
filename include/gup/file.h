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

/* ---- files ------------------------------------------------------------ */

struct gup_file;

#define GUP_FILE_MEMFD	0x1u	/* no disk: the page cache is the storage (shmem) */
#define GUP_FILE_DAX	0x2u	/* fs-DAX: the blocks are frames, mapped directly */

struct gup_file_config {
	struct gup_disk *disk;	/* NULL with GUP_FILE_MEMFD                        */
	uint64_t max_size;	/* the extent reserved on the disk: the size limit */
	uint64_t size;		/* initial size (<= max_size); its bytes are the disk's */
	unsigned flags;		/* GUP_FILE_*                                      */
	/* DAX: how long truncate/punch-hole wait for pins and broken leases to go
	 * before failing with -ETIMEDOUT; 0 means 1 s. */
	uint64_t lease_break_ns;
};

/*
 * gup_file_create - a file on @cfg->disk, in a fresh extent of max_size bytes.  Its
 * first @cfg->size bytes are whatever the disk holds there (gup_disk_poke prepares
 * a file); the rest of the extent is zeroed, so that growing the file reads zeros.
 * Return: 0, -EINVAL, -ENOSPC (the disk is full), -ENOMEM.
 */
GUP_API GUP_MUST_CHECK int gup_file_create(struct gup_world *w, const struct gup_file_config *cfg,
					   struct gup_file **out);
/*
 * gup_file_close - drop the handle.  The file lives on while mapped (as an inode
 * does while a VMA holds it); every other call on the handle gives -EBADF after,
 * until the world is destroyed.  Dirty pages are written back at the last
 * reference.  Return: 0, -EBADF.
 */
GUP_API int gup_file_close(struct gup_file *f);

/* ---- fs-DAX leases: revocable long-term pins (seed 001's proposal) ------- */

struct gup_lease;

/*
 * gup_lease_pin - pin [addr, addr + nr_pages pages) of @t's shared mapping of the
 * DAX file @f, for as long as the holder likes (FOLL_LONGTERM itself is refused on
 * DAX: -EOPNOTSUPP).  @gup_flags: 0 or GUP_FOLL_WRITE.  When a truncate or
 * punch-hole reaches the range, @on_break(lease, arg) is called once (from the
 * truncating thread) and the truncate waits for gup_lease_release, up to the file's
 * lease_break_ns, then fails with -ETIMEDOUT if the lease is still held.
 * Return: 0, -EINVAL (not a shared DAX mapping of @f, bad flags), -EBADF,
 * -EOPNOTSUPP (not DAX), -ENOMEM, -EFAULT, -EINTR.
 */
GUP_API GUP_MUST_CHECK int gup_lease_pin(struct gup_task *t, struct gup_file *f, uint64_t addr,
					 unsigned long nr_pages, unsigned gup_flags,
					 void (*on_break)(struct gup_lease *lease, void *arg),
					 void *arg, struct gup_lease **out);
/* Unpin (dirtying if pinned for write) and free the lease; may run in on_break. */
GUP_API void gup_lease_release(struct gup_lease *lease);
/* The i-th pinned page (for DMA), or NULL. */
GUP_API struct gup_page *gup_lease_page(struct gup_lease *lease, unsigned long i);
GUP_API bool gup_lease_broken(struct gup_lease *lease);

/* pread/pwrite through the page cache (DAX: straight to the blocks).  Return: bytes done, or -EINVAL, -EBADF,
 * -EFBIG (a write past max_size), -ENOMEM, -EIO. */
GUP_API long gup_file_pread(struct gup_file *f, void *buf, size_t len, uint64_t off);
GUP_API long gup_file_pwrite(struct gup_file *f, const void *buf, size_t len, uint64_t off);

/* Write every dirty cache page back to the disk.  Return: 0, -EBADF, -EIO. */
GUP_API int gup_file_fsync(struct gup_file *f);

/*
 * gup_file_truncate - set the size.  Pages past it are unmapped from every mapping
 * (private COW copies too) and dropped from the cache; an access there gets -EFAULT
 * (SIGBUS).  Return: 0, -EBADF, -EINVAL, -EFBIG.
 */
GUP_API int gup_file_truncate(struct gup_file *f, uint64_t size);

#define GUP_FALLOC_FL_KEEP_SIZE		0x01
#define GUP_FALLOC_FL_PUNCH_HOLE	0x02
/*
 * gup_file_fallocate - PUNCH_HOLE|KEEP_SIZE: the whole pages of [off, off+len) are
 * unmapped and dropped and read back as zeros, partial pages zeroed in place; a
 * private mapping's own COW copies of them stay (unlike truncate).
 * mode 0: extend the size to off+len.  Return: 0, -EBADF, -EINVAL, -EOPNOTSUPP, -EFBIG.
 */
GUP_API int gup_file_fallocate(struct gup_file *f, int mode, uint64_t off, uint64_t len);

struct gup_file_info {
	uint64_t size, max_size;
	uint64_t nr_cached;	/* pages in the page cache */
	uint64_t nr_dirty;	/* of those, dirty        */
	uint64_t nr_mapped;	/* VMAs that map the file */
};
GUP_API int gup_file_info(struct gup_file *f, struct gup_file_info *info);

/*
 * gup_mmap_file - mmap(2) of @f at @off (page aligned).  MAP_SHARED writes reach the
 * file (dirty tracking: the first write of a clean page faults); MAP_PRIVATE
 * writes get private anon copies.  Return: as gup_mmap, and -EBADF, -EINVAL (off).
 */
GUP_API GUP_MUST_CHECK int gup_mmap_file(struct gup_task *t, uint64_t addr, size_t len,
					 int prot, int flags, struct gup_file *f,
					 uint64_t off, uint64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* GUP_FILE_H */
