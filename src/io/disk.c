/* SPDX-License-Identifier: MIT */
/*
 * src/io/disk.c - the simulated block device (disk.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/disk.h"
#include "world.h"

static bool disk_range_ok(const struct gup_disk *d, uint64_t off, size_t len)
{
	return off <= d->bytes && len <= d->bytes - off;
}

int disk_read(struct gup_disk *d, uint64_t off, void *frame_dst, size_t len, const void *frame)
{
	if (!disk_range_ok(d, off, len))
		return -EINVAL;
	atomic_inc(&d->users);
	sched_io_delay(d, d->read_ns);		/* seek and transfer */
	spin_lock(&d->lock);
	mem_copy_to_shared(frame_dst, d->data + off, len, frame);
	spin_unlock(&d->lock);
	stat_add(&d->nr_reads, 1);
	stat_add(&d->bytes_read, len);
	atomic_dec(&d->users);
	return 0;
}

int disk_write(struct gup_disk *d, uint64_t off, const void *frame_src, size_t len,
	       const void *frame)
{
	if (!disk_range_ok(d, off, len))
		return -EINVAL;
	atomic_inc(&d->users);
	spin_lock(&d->lock);
	mem_copy_from_shared(d->data + off, frame_src, len, frame);	/* a pin may write it */
	spin_unlock(&d->lock);
	sched_io_delay(d, d->write_ns);		/* complete when it is on the platter */
	stat_add(&d->nr_writes, 1);
	stat_add(&d->bytes_written, len);
	atomic_dec(&d->users);
	return 0;
}

int disk_alloc_extent(struct gup_disk *d, uint64_t bytes, uint64_t *off)
{
	uint64_t len = (bytes + SECTOR_SIZE - 1) & ~(uint64_t)(SECTOR_SIZE - 1);
	int ret = -ENOSPC;

	spin_lock(&d->w->lock);
	if (len <= d->bytes - d->alloc_next) {
		*off = d->alloc_next;
		d->alloc_next += len;
		ret = 0;
	}
	spin_unlock(&d->w->lock);
	return ret;
}

GUP_API int gup_disk_create(struct gup_world *w, const struct gup_disk_config *cfg,
			    struct gup_disk **out)
{
	struct gup_disk *d;

	if (!w || !cfg || !out || !cfg->bytes || cfg->bytes % SECTOR_SIZE ||
	    cfg->bytes > (UINT64_C(1) << 40))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->data = calloc(1, cfg->bytes);
	if (!d->data) {
		free(d);
		return -ENOMEM;
	}
	d->w = w;
	d->bytes = cfg->bytes;
	d->read_ns = cfg->read_latency_ns;
	d->write_ns = cfg->write_latency_ns;
	spin_lock_init(&d->lock);
	atomic_set(&d->users, 0);
	spin_lock(&w->lock);
	list_add(&d->list, &w->disk_list);
	spin_unlock(&w->lock);
	*out = d;
	return 0;
}

static void disk_free(struct gup_disk *d)
{
	free(d->data);
	free(d);
}

GUP_API int gup_disk_destroy(struct gup_disk *d)
{
	if (!d)
		return -EINVAL;
	spin_lock(&d->w->lock);
	if (atomic_read(&d->users)) {
		spin_unlock(&d->w->lock);
		return -EBUSY;
	}
	list_del(&d->list);
	spin_unlock(&d->w->lock);
	disk_free(d);
	return 0;
}

void disks_destroy(struct gup_world *w)
{
	while (!list_empty(&w->disk_list)) {
		struct gup_disk *d = list_entry(w->disk_list.next, struct gup_disk, list);

		list_del(&d->list);
		disk_free(d);
	}
}

GUP_API int gup_disk_peek(struct gup_disk *d, uint64_t off, void *buf, size_t len)
{
	if (!d || (!buf && len) || !disk_range_ok(d, off, len))
		return -EINVAL;
	spin_lock(&d->lock);
	memcpy(buf, d->data + off, len);
	spin_unlock(&d->lock);
	return 0;
}

GUP_API int gup_disk_poke(struct gup_disk *d, uint64_t off, const void *buf, size_t len)
{
	if (!d || (!buf && len) || !disk_range_ok(d, off, len))
		return -EINVAL;
	spin_lock(&d->lock);
	memcpy(d->data + off, buf, len);
	spin_unlock(&d->lock);
	return 0;
}

GUP_API int gup_disk_stats(struct gup_disk *d, struct gup_disk_stats *st)
{
	if (!d || !st)
		return -EINVAL;
	st->nr_reads = stat_read(&d->nr_reads);
	st->nr_writes = stat_read(&d->nr_writes);
	st->bytes_read = stat_read(&d->bytes_read);
	st->bytes_written = stat_read(&d->bytes_written);
	return 0;
}
