/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/ast.h - the syntax tree of a GUP litmus test (docs/litmus.md).
 *
 * What the parser hands the interpreter.  Every name is resolved: a reference is
 * an index into one of the test's arrays, never a string to look up again, and
 * every node carries the place in the file it came from (struct litmus_pos), so
 * that a run-time complaint can point at the line that caused it.
 *
 * The whole tree lives in one arena owned by the test: litmus_free() releases
 * it at once, and nothing in it is ever freed or reallocated on its own.  All
 * pointers are const for the reader; only the parser writes.
 */
#ifndef GUP_LITMUS_AST_H
#define GUP_LITMUS_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a node starts: 1-based line and column (a column counts bytes). */
struct litmus_pos {
	const char *file;	/* the test's path (struct litmus_test.path) */
	unsigned line, col;
};

/*
 * A byte string as written: pieces, each a run of bytes repeated `repeat`
 * times, never expanded (0xfa*16777216 costs one piece).  `len` is the total.
 */
struct litmus_piece {
	const uint8_t *bytes;
	uint32_t nr_bytes;	/* >= 1 */
	uint64_t repeat;	/* >= 1 */
	bool string;		/* written as "..." rather than byte values */
};

struct litmus_pattern {
	struct litmus_pos pos;
	const struct litmus_piece *pieces;
	unsigned nr_pieces;	/* 0: no pattern (an initial state of zeroes) */
	uint64_t len;
};

/* ---- the header ------------------------------------------------------------ */

enum litmus_obs {
	LITMUS_NEVER,		/* no final state satisfies the condition  */
	LITMUS_SOMETIMES,	/* some do, some do not                   */
	LITMUS_ALWAYS,		/* every final state satisfies it         */
};

/*
 * The memory model a test asks for (a Memory: line; sc when it has none): what
 * the explorer's store_buffers is set to (src/sched/explore.h).
 */
enum litmus_memory {
	LITMUS_MEM_SC,		/* sequential consistency: a store is seen at once */
	LITMUS_MEM_SB,		/* store buffers: a relaxed store may be seen late */
};

/* One `policy=Observation` of a Result: line. */
struct litmus_expect {
	struct litmus_pos pos;
	const char *policy;
	enum litmus_obs obs;
};

/* ---- the initial state --------------------------------------------------------- */

struct litmus_disk {
	struct litmus_pos pos;
	const char *name;
	uint64_t size;			/* bytes, a multiple of 512 */
	struct litmus_pattern init;	/* the first init.len bytes; the rest zero */
};

enum litmus_file_kind {
	LITMUS_FILE_DISK,	/* `file NAME on DISK`: page cache over a disk extent */
	LITMUS_FILE_MEMFD,	/* `memfd NAME`: shmem, the cache is the storage      */
};

struct litmus_file {
	struct litmus_pos pos;
	const char *name;
	enum litmus_file_kind kind;
	unsigned disk;			/* LITMUS_FILE_DISK: index in test->disks */
	uint64_t size, max_size;	/* max_size >= size; both > 0 */
	bool dax;			/* fs-DAX (GUP_FILE_DAX) */
	struct litmus_pattern init;
};

struct litmus_pipe {
	struct litmus_pos pos;
	const char *name;
};

struct litmus_uffd {
	struct litmus_pos pos;
	const char *name;
	unsigned mm;			/* the mm it was created on */
};

enum litmus_map_kind {
	LITMUS_MAP_ANON,
	LITMUS_MAP_FILE,
};

/*
 * A mapping of a declared mm (`buf: anon private rw 4096`).  A forked child
 * has its parent's mappings under the same names at the same addresses, so a
 * region is named by its index in test->regions whichever mm is meant.
 */
struct litmus_region {
	struct litmus_pos pos;
	const char *name;
	unsigned mm;			/* the declared mm it belongs to */
	enum litmus_map_kind kind;
	unsigned file;			/* LITMUS_MAP_FILE: index in test->files */
	uint64_t file_off;		/* LITMUS_MAP_FILE: page aligned */
	bool shared;			/* MAP_SHARED, else MAP_PRIVATE */
	int prot;			/* GUP_PROT_* */
	uint64_t len;			/* bytes, a positive multiple of 4096 */
	bool populate;			/* MAP_POPULATE */
	struct litmus_pattern init;	/* written by a CPU store before any thread runs */
};

/*
 * An address space.  Declared mms come first in test->mms; a `fork(NAME)`
 * appends the child it creates.
 */
struct litmus_mm {
	struct litmus_pos pos;
	const char *name;
	int parent;			/* -1: declared; else the forking mm's index */
	unsigned root;			/* the declared mm whose regions it has */
	unsigned fork_thread;		/* child: the thread and op that fork it */
	unsigned fork_op;
	unsigned first_region;		/* the root's regions: */
	unsigned nr_regions;		/* test->regions[first_region ...] */
};

/* ---- threads and operations ----------------------------------------------------- */

/*
 * The kinds of operation.  Their signatures (argument kinds, result, the libgup
 * call each maps to) are in litmus_op_info(); docs/litmus.md describes them.
 */
enum litmus_op_kind {
	/* memory */
	LOP_STORE, LOP_LOAD, LOP_MUNMAP, LOP_MPROTECT, LOP_MADVISE, LOP_FORK, LOP_EXIT,
	/* get_user_pages and friends */
	LOP_GET_USER_PAGES, LOP_GET_USER_PAGES_FAST, LOP_GET_USER_PAGES_FAST_ONLY,
	LOP_GET_USER_PAGES_UNLOCKED, LOP_GET_USER_PAGES_REMOTE,
	LOP_PIN_USER_PAGES, LOP_PIN_USER_PAGES_FAST, LOP_PIN_USER_PAGES_UNLOCKED,
	LOP_PIN_USER_PAGES_REMOTE,
	LOP_PUT, LOP_UNPIN, LOP_UNPIN_DIRTY, LOP_PAGE_READ, LOP_PAGE_WRITE,
	/* O_DIRECT, fixed buffers */
	LOP_DIO_READ, LOP_DIO_WRITE, LOP_WAIT,
	LOP_FIXED_REGISTER, LOP_FIXED_READ, LOP_FIXED_WRITE, LOP_FIXED_UNREGISTER,
	/* vmsplice, process_vm_*, RDMA */
	LOP_VMSPLICE, LOP_PIPE_READ, LOP_PROCESS_VM_READV, LOP_PROCESS_VM_WRITEV,
	LOP_RDMA_REG_MR, LOP_RDMA_READ, LOP_RDMA_WRITE, LOP_RDMA_DEREG_MR,
	/* files and leases */
	LOP_PREAD, LOP_PWRITE, LOP_FSYNC, LOP_TRUNCATE, LOP_PUNCH_HOLE,
	LOP_LEASE_PIN, LOP_LEASE_RELEASE,
	/* userfaultfd */
	LOP_UFFD_REGISTER, LOP_UFFD_UNREGISTER, LOP_UFFD_READ, LOP_UFFD_COPY,
	LOP_UFFD_ZEROPAGE, LOP_UFFD_WRITEPROTECT, LOP_UFFD_WAKE, LOP_UFFD_CLOSE,
	LOP_NR
};

enum litmus_arg_kind {
	LA_ADDR,	/* region+offset in the op's address space (see litmus_op_info) */
	LA_LADDR,	/* region+offset in the thread's own mm (process_vm_* local side) */
	LA_UINT,	/* a length, count, offset or disk position */
	LA_PATTERN,	/* bytes */
	LA_FLAGS,	/* names or'ed together (the table is the op's: litmus_op_info) */
	LA_PROT,	/* r, rw, rx, rwx, w, wx, x, none */
	LA_MM,		/* an existing mm */
	LA_NEWMM,	/* the name fork gives its child */
	LA_DISK,
	LA_FILE,
	LA_PIPE,
	LA_UFFD,
	LA_HANDLE,	/* a named result of this thread that holds something */
	LA_KEYWORD,	/* an optional word (`locked`, `release_on_break`) */
};

/* What a named result holds besides its value.  A mask: LH_GET | LH_PIN... */
enum litmus_handle_class {
	LH_NONE  = 0,
	LH_GET   = 1u << 0,	/* pages with FOLL_GET references (put)         */
	LH_PIN   = 1u << 1,	/* pinned pages (unpin, unpin_dirty)             */
	LH_DIO   = 1u << 2,	/* a DMA request in flight (wait)               */
	LH_FIXED = 1u << 3,	/* registered fixed buffers (fixed_unregister)  */
	LH_MR    = 1u << 4,	/* an RDMA memory region (rdma_dereg_mr)        */
	LH_LEASE = 1u << 5,	/* a DAX lease (lease_release)                  */
};

struct litmus_addr {
	unsigned region;	/* index in test->regions */
	uint64_t off;		/* bytes from the region's start */
};

struct litmus_arg {
	struct litmus_pos pos;
	enum litmus_arg_kind kind;
	union {
		struct litmus_addr addr;	/* LA_ADDR, LA_LADDR */
		uint64_t num;			/* LA_UINT, LA_FLAGS, LA_PROT */
		struct litmus_pattern pat;	/* LA_PATTERN */
		unsigned ref;			/* LA_MM/NEWMM: test->mms; LA_DISK,
						 * FILE, PIPE, UFFD: their arrays;
						 * LA_HANDLE: the op index in the thread */
		bool present;			/* LA_KEYWORD */
	};
};

#define LITMUS_MAX_ARGS	6

struct litmus_op {
	struct litmus_pos pos;
	enum litmus_op_kind kind;
	const char *result;		/* the name of its result, or NULL */
	struct litmus_pos result_pos;
	unsigned nr_args;		/* as written; optional args may be absent */
	struct litmus_arg args[LITMUS_MAX_ARGS];
};

struct litmus_thread {
	struct litmus_pos pos;
	unsigned id;			/* N of `PN` (threads are P0, P1, ... in order) */
	unsigned mm;			/* index in test->mms */
	const struct litmus_op *ops;
	unsigned nr_ops;
};

/* ---- conditions -------------------------------------------------------------------- */

enum litmus_loc_kind {
	LL_MEM,		/* MM:REGION+OFF - bytes of an mm's memory at the end     */
	LL_RESULT,	/* PN:NAME      - the value of a named result             */
	LL_DISK,	/* DISK+OFF     - bytes on the platter                     */
	LL_FILE,	/* FILE+OFF     - bytes of the file (as pread would see)   */
	LL_STAT,	/* vm_stat(NAME) - a counter of the world (gup_stat_name) */
};

struct litmus_loc {
	struct litmus_pos pos;
	enum litmus_loc_kind kind;
	unsigned obj;		/* LL_MEM: mm; LL_RESULT: thread; LL_DISK/FILE: index;
				 * LL_STAT: the enum gup_stat_item */
	unsigned region;	/* LL_MEM */
	unsigned op;		/* LL_RESULT: index of the op in the thread */
	uint64_t off;		/* LL_MEM, LL_DISK, LL_FILE */
};

enum litmus_val_kind {
	LV_INT,		/* a return value: -EFAULT, 512, 0 */
	LV_BYTES,	/* bytes; a memory location's length is the pattern's */
	LV_ADDR,	/* MM:REGION+OFF as an address (uffd_read's result)      */
};

struct litmus_value {
	struct litmus_pos pos;
	enum litmus_val_kind kind;
	int64_t num;			/* LV_INT */
	struct litmus_pattern pat;	/* LV_BYTES */
	unsigned mm;			/* LV_ADDR */
	struct litmus_addr addr;	/* LV_ADDR */
};

enum litmus_cond_kind {
	LC_TRUE, LC_FALSE,
	LC_EQ, LC_NE,		/* loc = value, loc != value */
	LC_NOT,			/* ~kids[0] */
	LC_AND, LC_OR,		/* kids[0] /\ kids[1] /\ ... (nr_kids >= 2) */
};

struct litmus_cond {
	struct litmus_pos pos;
	enum litmus_cond_kind kind;
	struct litmus_loc loc;			/* LC_EQ, LC_NE */
	struct litmus_value val;		/* LC_EQ, LC_NE */
	const struct litmus_cond *const *kids;	/* LC_NOT, LC_AND, LC_OR */
	unsigned nr_kids;
};

enum litmus_quant {
	LITMUS_EXISTS,		/* exists p:  Ok if some final state satisfies p  */
	LITMUS_NOT_EXISTS,	/* ~exists p: Ok if none does                     */
	LITMUS_FORALL,		/* forall p:  Ok if every one does                */
};

/* ---- the test ------------------------------------------------------------------- */

struct litmus_test {
	const char *path;
	struct litmus_pos pos;
	const char *name;
	const char *desc;		/* NULL if none; may hold NUL bytes: */
	size_t desc_len;
	const struct litmus_expect *expect;
	unsigned nr_expect;
	enum litmus_memory memory;
	struct litmus_pos memory_pos;	/* of the Memory: line; line 0 if none */

	const struct litmus_disk *disks;
	unsigned nr_disks;
	const struct litmus_file *files;
	unsigned nr_files;
	const struct litmus_pipe *pipes;
	unsigned nr_pipes;
	const struct litmus_uffd *uffds;
	unsigned nr_uffds;
	const struct litmus_mm *mms;	/* declared mms, then forked children */
	unsigned nr_mms;
	unsigned nr_declared_mms;
	const struct litmus_region *regions;
	unsigned nr_regions;

	const struct litmus_thread *threads;
	unsigned nr_threads;

	const struct litmus_cond *filter;	/* NULL if none */
	enum litmus_quant quant;
	struct litmus_pos quant_pos;
	const struct litmus_cond *cond;

	struct litmus_arena *arena;		/* private to the parser */
};

#endif /* GUP_LITMUS_AST_H */
