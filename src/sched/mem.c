/* SPDX-License-Identifier: MIT */
/*
 * src/sched/mem.c - moving the bytes of frames, for CPUs and DMA engines.
 *
 * Each call is one scheduling point on the frame it touches (a read point and a
 * write point for frame-to-frame copies), with the 64-byte lines it covers as the
 * point's detail: an explorer then sees that a DMA into the second half of a page
 * and a store to its first bytes do not conflict.  A CPU access of 1, 2, 4 or 8 naturally
 * aligned bytes is single-copy atomic: a concurrent reader (another task, a DMA
 * engine, fork's copy) sees all of it or none, so it is done with one relaxed
 * atomic access.  Larger or unaligned moves are plain memcpy/memset and may tear,
 * as on real hardware.
 */
#include <stdint.h>
#include <string.h>

#include "sched/sched.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The lines of @frame that [@p, @p + @n) covers: the detail of a memory point. */
static inline uint64_t frame_lines(const void *frame, const void *p, size_t n)
{
	if ((const char *)p < (const char *)frame)
		return ~UINT64_C(0);
	return sched_frame_lines((size_t)((const char *)p - (const char *)frame), n);
}

/*
 * One relaxed atomic access for a naturally aligned 1/2/4/8-byte move; false if
 * not applicable.  Constant-size copies in and out of @v compile to single moves.
 */
#define COPY_SCALAR_CASE(T)                                                      \
	do {                                                                     \
		T v;                                                             \
		if (to_frame) {                                                  \
			__builtin_memcpy(&v, src, sizeof(T));                    \
			__atomic_store_n((T *)dst, v, __ATOMIC_RELAXED);         \
		} else {                                                         \
			v = __atomic_load_n((const T *)src, __ATOMIC_RELAXED);   \
			__builtin_memcpy(dst, &v, sizeof(T));                    \
		}                                                                \
	} while (0)

static inline bool copy_scalar(void *dst, const void *src, size_t n, bool to_frame)
{
	uintptr_t shared = (uintptr_t)(to_frame ? dst : src);

	if (shared & (n - 1))
		return false;
	switch (n) {
	case 1: COPY_SCALAR_CASE(uint8_t); return true;
	case 2: COPY_SCALAR_CASE(uint16_t); return true;
	case 4: COPY_SCALAR_CASE(uint32_t); return true;
	case 8: COPY_SCALAR_CASE(uint64_t); return true;
	default: return false;
	}
}

/* A CPU reading a frame's bytes into private memory. */
void mem_copy_from(void *dst, const void *frame_src, size_t n, const void *frame)
{
	sched_point_at(SP_MEM_READ, frame, frame_lines(frame, frame_src, n));
	if (!copy_scalar(dst, frame_src, n, false))
		memcpy(dst, frame_src, n);
}

/* A CPU writing private bytes into a frame. */
void mem_copy_to(void *frame_dst, const void *src, size_t n, const void *frame)
{
	sched_point_at(SP_MEM_WRITE, frame, frame_lines(frame, frame_dst, n));
	if (!copy_scalar(frame_dst, src, n, true))
		memcpy(frame_dst, src, n);
}

/*
 * Frame-to-frame copy (COW, fork, migration): a read of the source, then a write
 * of the target.  The source may be written meanwhile - by a device through a
 * pin, or by another task through a still-writable PTE (fork copies pinned pages
 * exactly while that can happen) - so the copy is made of single-copy-atomic
 * 8-byte moves: it can tear between words, as a CPU's copy can (seed 004 R4), but
 * it is never a C data race.  Frames are page aligned; other buffers (tests) are
 * copied a byte at a time.
 */
void mem_copy_frame(void *dst_frame, const void *src_frame, size_t n)
{
	sched_point(SP_MEM_READ, src_frame);
	sched_point(SP_MEM_WRITE, dst_frame);
	if ((((uintptr_t)dst_frame | (uintptr_t)src_frame | n) & 7) == 0) {
		const uint64_t *s = src_frame;
		uint64_t *d = dst_frame;

		for (size_t i = 0; i < n / 8; i++)	/* the target is private */
			d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
	} else {
		const uint8_t *s = src_frame;
		uint8_t *d = dst_frame;

		for (size_t i = 0; i < n; i++)
			d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
	}
}

/* Zero-fill of a fresh frame. */
void mem_zero_frame(void *frame, size_t n)
{
	sched_point(SP_MEM_WRITE, frame);
	memset(frame, 0, n);
}

/*
 * Zero-fill with streaming (non-temporal) stores, for frames zeroed ahead of use.
 * A cached store to a cold line first reads it (RFO) only to overwrite it; a
 * streaming store writes whole lines through the write-combining buffers and
 * reads nothing.  On this machine class a cold 4 KiB frame takes ~215 ns this way
 * against ~550 ns for memset (docs/performance.md).  The price: the lines end up
 * in memory, not in the cache, so the first access misses once, and the stores
 * are weakly ordered - the caller must issue mem_stream_fence() before the frame
 * can be seen by anyone else (a free-list push, a PTE).  @n is a multiple of 64.
 */
void mem_zero_frame_stream(void *frame, size_t n)
{
	sched_point(SP_MEM_WRITE, frame);
#if defined(__SSE2__)
	__m128i z = _mm_setzero_si128();
	char *c = frame;

	for (size_t i = 0; i < n; i += 64) {
		_mm_stream_si128((__m128i *)(c + i), z);
		_mm_stream_si128((__m128i *)(c + i + 16), z);
		_mm_stream_si128((__m128i *)(c + i + 32), z);
		_mm_stream_si128((__m128i *)(c + i + 48), z);
	}
#else
	memset(frame, 0, n);
#endif
}

/*
 * Orders every earlier mem_zero_frame_stream() before later stores: after it, a
 * release (unlock, set_pte) publishes the zeroes like any cached store.  One
 * fence for a whole batch of frames: it waits for the write-combining buffers to
 * drain, which is the cost the batch amortises.
 */
void mem_stream_fence(void)
{
#if defined(__SSE2__)
	_mm_sfence();
#endif
	smp_wmb();
}

/* memset of user-visible bytes within @frame. */
void mem_set(void *frame_dst, int c, size_t n, const void *frame)
{
	sched_point_at(SP_MEM_WRITE, frame, frame_lines(frame, frame_dst, n));
	memset(frame_dst, c, n);
}

/*
 * The kernel's moves of page-cache bytes race legitimately with tasks storing
 * through their mappings and devices writing through pins: a store while pwrite
 * copies or truncate zeroes a page's tail, a DMA write while writeback reads the
 * page.  They may tear, as on hardware, but are made of relaxed atomic 8-byte
 * words where the frame's side is aligned and single bytes around them.
 */
static void copy_shared(void *dst, const void *src, size_t n, bool to_frame)
{
	uintptr_t shared = (uintptr_t)(to_frame ? dst : src);
	size_t head = (8 - (shared & 7)) & 7, i = 0, end;
	const uint8_t *s = src;
	uint8_t *d = dst;

	if (head > n)
		head = n;
	end = head + ((n - head) & ~(size_t)7);
	if (to_frame) {
		for (; i < head; i++)
			__atomic_store_n(d + i, s[i], __ATOMIC_RELAXED);
		for (; i < end; i += 8) {
			uint64_t v;

			__builtin_memcpy(&v, s + i, 8);
			__atomic_store_n((uint64_t *)(void *)(d + i), v, __ATOMIC_RELAXED);
		}
		for (; i < n; i++)
			__atomic_store_n(d + i, s[i], __ATOMIC_RELAXED);
	} else {
		for (; i < head; i++)
			d[i] = __atomic_load_n(s + i, __ATOMIC_RELAXED);
		for (; i < end; i += 8) {
			uint64_t v = __atomic_load_n((const uint64_t *)(const void *)(s + i),
						     __ATOMIC_RELAXED);

			__builtin_memcpy(d + i, &v, 8);
		}
		for (; i < n; i++)
			d[i] = __atomic_load_n(s + i, __ATOMIC_RELAXED);
	}
}

void mem_copy_from_shared(void *dst, const void *frame_src, size_t n, const void *frame)
{
	sched_point_at(SP_MEM_READ, frame, frame_lines(frame, frame_src, n));
	copy_shared(dst, frame_src, n, false);
}

void mem_copy_to_shared(void *frame_dst, const void *src, size_t n, const void *frame)
{
	sched_point_at(SP_MEM_WRITE, frame, frame_lines(frame, frame_dst, n));
	copy_shared(frame_dst, src, n, true);
}

void mem_set_shared(void *frame_dst, int c, size_t n, const void *frame)
{
	uint64_t word = UINT64_C(0x0101010101010101) * (uint8_t)c;
	size_t head = (8 - ((uintptr_t)frame_dst & 7)) & 7, i = 0, end;
	uint8_t *d = frame_dst;

	sched_point_at(SP_MEM_WRITE, frame, frame_lines(frame, frame_dst, n));
	if (head > n)
		head = n;
	end = head + ((n - head) & ~(size_t)7);
	for (; i < head; i++)
		__atomic_store_n(d + i, (uint8_t)c, __ATOMIC_RELAXED);
	for (; i < end; i += 8)
		__atomic_store_n((uint64_t *)(void *)(d + i), word, __ATOMIC_RELAXED);
	for (; i < n; i++)
		__atomic_store_n(d + i, (uint8_t)c, __ATOMIC_RELAXED);
}
