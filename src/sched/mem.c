/* SPDX-License-Identifier: MIT */
/*
 * src/sched/mem.c - moving the bytes of frames, for CPUs and DMA engines.
 *
 * Each call is one scheduling point on the frame it touches (a read point and a
 * write point for frame-to-frame copies).  A CPU access of 1, 2, 4 or 8 naturally
 * aligned bytes is single-copy atomic: a concurrent reader (another task, a DMA
 * engine, fork's copy) sees all of it or none, so it is done with one relaxed
 * atomic access.  Larger or unaligned moves are plain memcpy/memset and may tear,
 * as on real hardware.
 */
#include <stdint.h>
#include <string.h>

#include "sched/sched.h"

/* One relaxed atomic copy of a naturally aligned scalar; false if not applicable. */
static bool copy_scalar(void *dst, const void *src, size_t n, bool dst_is_frame)
{
	const void *shared = dst_is_frame ? dst : src;
	uint64_t v = 0;

	if ((n != 1 && n != 2 && n != 4 && n != 8) || ((uintptr_t)shared & (n - 1)))
		return false;
	if (dst_is_frame) {
		memcpy(&v, src, n);
		switch (n) {
		case 1: __atomic_store_n((uint8_t *)dst, (uint8_t)v, __ATOMIC_RELAXED); break;
		case 2: __atomic_store_n((uint16_t *)dst, (uint16_t)v, __ATOMIC_RELAXED); break;
		case 4: __atomic_store_n((uint32_t *)dst, (uint32_t)v, __ATOMIC_RELAXED); break;
		default: __atomic_store_n((uint64_t *)dst, v, __ATOMIC_RELAXED); break;
		}
		return true;
	}
	switch (n) {
	case 1: v = __atomic_load_n((const uint8_t *)src, __ATOMIC_RELAXED); break;
	case 2: v = __atomic_load_n((const uint16_t *)src, __ATOMIC_RELAXED); break;
	case 4: v = __atomic_load_n((const uint32_t *)src, __ATOMIC_RELAXED); break;
	default: v = __atomic_load_n((const uint64_t *)src, __ATOMIC_RELAXED); break;
	}
	memcpy(dst, &v, n);	/* little-endian: the low n bytes */
	return true;
}

/* A CPU reading a frame's bytes into private memory. */
void mem_copy_from(void *dst, const void *frame_src, size_t n, const void *frame)
{
	sched_point(SP_MEM_READ, frame);
	if (!copy_scalar(dst, frame_src, n, false))
		memcpy(dst, frame_src, n);
}

/* A CPU writing private bytes into a frame. */
void mem_copy_to(void *frame_dst, const void *src, size_t n, const void *frame)
{
	sched_point(SP_MEM_WRITE, frame);
	if (!copy_scalar(frame_dst, src, n, true))
		memcpy(frame_dst, src, n);
}

/* Frame-to-frame copy (COW, fork): a read of the source, then a write of the target. */
void mem_copy_frame(void *dst_frame, const void *src_frame, size_t n)
{
	sched_point(SP_MEM_READ, src_frame);
	sched_point(SP_MEM_WRITE, dst_frame);
	memcpy(dst_frame, src_frame, n);
}

/* Zero-fill of a fresh frame. */
void mem_zero_frame(void *frame, size_t n)
{
	sched_point(SP_MEM_WRITE, frame);
	memset(frame, 0, n);
}

/* memset of user-visible bytes within @frame. */
void mem_set(void *frame_dst, int c, size_t n, const void *frame)
{
	sched_point(SP_MEM_WRITE, frame);
	memset(frame_dst, c, n);
}
