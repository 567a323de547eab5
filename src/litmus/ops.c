/* SPDX-License-Identifier: MIT */
/*
 * src/litmus/ops.c - the operations of the litmus language: each one's
 * arguments, result and the libgup call it stands for.
 *
 * One table drives the parser (what to read after the name), the static checks
 * (which ranges must lie inside what), the printer and, later, the interpreter.
 * Adding an operation is adding a row here and a line in docs/litmus.md.
 */
#include <string.h>

#include "gup/file.h"
#include "gup/gup.h"
#include "gup/io.h"
#include "gup/uffd.h"
#include "litmus/litmus.h"

#define FLAGS(what_, single_, ...)						\
	{ .what = (what_), .single = (single_),					\
	  .flags = (const struct litmus_flag[]){ __VA_ARGS__ },			\
	  .nr = sizeof((const struct litmus_flag[]){ __VA_ARGS__ }) /		\
		sizeof(struct litmus_flag) }

static const struct litmus_flag_table foll_flags = FLAGS("FOLL flag", false,
	{ "FOLL_WRITE", GUP_FOLL_WRITE }, { "FOLL_GET", GUP_FOLL_GET },
	{ "FOLL_DUMP", GUP_FOLL_DUMP }, { "FOLL_FORCE", GUP_FOLL_FORCE },
	{ "FOLL_NOWAIT", GUP_FOLL_NOWAIT }, { "FOLL_NOFAULT", GUP_FOLL_NOFAULT },
	{ "FOLL_HWPOISON", GUP_FOLL_HWPOISON }, { "FOLL_ANON", GUP_FOLL_ANON },
	{ "FOLL_LONGTERM", GUP_FOLL_LONGTERM }, { "FOLL_SPLIT_PMD", GUP_FOLL_SPLIT_PMD },
	{ "FOLL_PCI_P2PDMA", GUP_FOLL_PCI_P2PDMA },
	{ "FOLL_INTERRUPTIBLE", GUP_FOLL_INTERRUPTIBLE },
	{ "FOLL_HONOR_NUMA_FAULT", GUP_FOLL_HONOR_NUMA_FAULT });

static const struct litmus_flag_table madv_values = FLAGS("madvise advice", true,
	{ "MADV_DONTNEED", GUP_MADV_DONTNEED }, { "MADV_DONTFORK", GUP_MADV_DONTFORK },
	{ "MADV_DOFORK", GUP_MADV_DOFORK }, { "MADV_WIPEONFORK", GUP_MADV_WIPEONFORK },
	{ "MADV_KEEPONFORK", GUP_MADV_KEEPONFORK },
	{ "MADV_POPULATE_READ", GUP_MADV_POPULATE_READ },
	{ "MADV_POPULATE_WRITE", GUP_MADV_POPULATE_WRITE });

static const struct litmus_flag_table uffd_modes = FLAGS("uffd mode", false,
	{ "UFFD_MISSING", GUP_UFFD_MISSING }, { "UFFD_WP", GUP_UFFD_WP });

static const struct litmus_flag_table uffd_copy_modes = FLAGS("UFFDIO_COPY mode", false,
	{ "UFFD_COPY_DONTWAKE", GUP_UFFD_COPY_DONTWAKE }, { "UFFD_COPY_WP", GUP_UFFD_COPY_WP });

static const struct litmus_flag_table uffd_zero_modes = FLAGS("UFFDIO_ZEROPAGE mode", false,
	{ "UFFD_ZEROPAGE_DONTWAKE", GUP_UFFD_ZEROPAGE_DONTWAKE });

static const struct litmus_flag_table uffd_wp_modes = FLAGS("UFFDIO_WRITEPROTECT mode", false,
	{ "UFFD_WRITEPROTECT_WP", GUP_UFFD_WRITEPROTECT_WP },
	{ "UFFD_WRITEPROTECT_DONTWAKE", GUP_UFFD_WRITEPROTECT_DONTWAKE });

static const struct litmus_flag_table ib_access = FLAGS("IB access flag", false,
	{ "IB_ACCESS_LOCAL_WRITE", GUP_RDMA_ACCESS_LOCAL_WRITE },
	{ "IB_ACCESS_REMOTE_WRITE", GUP_RDMA_ACCESS_REMOTE_WRITE },
	{ "IB_ACCESS_REMOTE_READ", GUP_RDMA_ACCESS_REMOTE_READ });

/* Argument shorthands. */
#define ADDR		{ .kind = LA_ADDR, .what = "address" }
#define LADDR		{ .kind = LA_LADDR, .what = "local address" }
#define UINT(w)		{ .kind = LA_UINT, .what = (w) }
#define PATTERN		{ .kind = LA_PATTERN, .what = "bytes" }
#define FLAGARG(t)	{ .kind = LA_FLAGS, .what = "flags", .flags = &(t) }
#define PROT		{ .kind = LA_PROT, .what = "protection" }
#define MM		{ .kind = LA_MM, .what = "mm" }
#define NEWMM		{ .kind = LA_NEWMM, .what = "child mm" }
#define DISK		{ .kind = LA_DISK, .what = "disk" }
#define FILEARG		{ .kind = LA_FILE, .what = "file" }
#define PIPE		{ .kind = LA_PIPE, .what = "pipe" }
#define UFFD		{ .kind = LA_UFFD, .what = "uffd" }
#define HANDLE(w, m)	{ .kind = LA_HANDLE, .what = (w), .handles = (m) }
#define KEYWORD(k)	{ .kind = LA_KEYWORD, .what = (k), .keyword = (k) }

/* A row: name, call, how many args and how many of them required, the result. */
#define OP(name_, call_, nr_, req_, res_, ...)					\
	{ .name = (name_), .call = (call_), .nr_args = (nr_), .nr_required = (req_), \
	  .result = (res_), __VA_ARGS__ }
#define ARGS(...)	.args = { __VA_ARGS__ }
#define SPAN(o, f, l, u)	{ .obj = (o), .off = (f), .len = (l), .unit = (u) }
#define SPANS(...)	.nr_spans = sizeof((struct litmus_span[]){ __VA_ARGS__ }) /	\
				    sizeof(struct litmus_span),				\
			.spans = { __VA_ARGS__ }
/* [mm,] address, then a length in `unit`s: the usual span. */
#define ADDR_SPAN(a, l, u)	SPANS(SPAN(a, a, l, u))

/* The nine GUP entry points: [mm,] addr, pages, flags [, locked]. */
#define GUP_OP(name_, call_, handle_)						\
	OP(name_, call_, 3, 3, LR_INT, .handle = (handle_),			\
	   ARGS(ADDR, UINT("pages"), FLAGARG(foll_flags)), ADDR_SPAN(0, 1, LS_PAGES))
#define GUP_REMOTE_OP(name_, call_, handle_)					\
	OP(name_, call_, 5, 4, LR_INT, .handle = (handle_), .ctx = LCTX_MM,	\
	   ARGS(MM, ADDR, UINT("pages"), FLAGARG(foll_flags), KEYWORD("locked")), \
	   ADDR_SPAN(1, 2, LS_PAGES))
/* Ops that end the life of their handle argument (always argument 0). */
#define RELEASE_OP(name_, call_, res_, what_, class_)				\
	OP(name_, call_, 1, 1, res_, .releases = true, ARGS(HANDLE(what_, class_)))
/* disk, position, address, length */
#define DIO_OP(name_, call_)							\
	OP(name_, call_, 4, 4, LR_INT, .handle = LH_DIO,			\
	   ARGS(DISK, UINT("disk position"), ADDR, UINT("length")),		\
	   SPANS(SPAN(0, 1, 3, LS_BYTES), SPAN(2, 2, 3, LS_BYTES)))
/* fixed buffer, offset, length, disk, position */
#define FIXED_IO_OP(name_, call_)						\
	OP(name_, call_, 5, 5, LR_INT, .handle = LH_DIO,			\
	   ARGS(HANDLE("fixed buffer", LH_FIXED), UINT("offset"), UINT("length"),	\
		DISK, UINT("disk position")),					\
	   SPANS(SPAN(0, 1, 2, LS_BYTES), SPAN(3, 4, 2, LS_BYTES)))
/* mm, remote address, local address, length */
#define PVM_OP(name_, call_)							\
	OP(name_, call_, 4, 4, LR_INT, .ctx = LCTX_MM,				\
	   ARGS(MM, ADDR, LADDR, UINT("length")),				\
	   SPANS(SPAN(1, 1, 3, LS_BYTES), SPAN(2, 2, 3, LS_BYTES)))
/* uffd, address, length [, more] */
#define UFFD_RANGE_OP(name_, call_, nr_, req_, ...)				\
	OP(name_, call_, nr_, req_, LR_INT, .ctx = LCTX_UFFD,			\
	   ARGS(UFFD, ADDR, UINT("length"), __VA_ARGS__), ADDR_SPAN(1, 2, LS_BYTES))

static const struct litmus_op_info ops[LOP_NR] = {
	[LOP_STORE] = OP("store", "gup_store", 2, 2, LR_INT,
			 ARGS(ADDR, PATTERN), ADDR_SPAN(0, 1, LS_PATTERN)),
	[LOP_LOAD] = OP("load", "gup_load", 2, 2, LR_BYTES,
			ARGS(ADDR, UINT("length")), ADDR_SPAN(0, 1, LS_BYTES)),
	[LOP_MUNMAP] = OP("munmap", "gup_munmap", 2, 2, LR_INT,
			  ARGS(ADDR, UINT("length")), ADDR_SPAN(0, 1, LS_BYTES)),
	[LOP_MPROTECT] = OP("mprotect", "gup_mprotect", 3, 3, LR_INT,
			    ARGS(ADDR, UINT("length"), PROT), ADDR_SPAN(0, 1, LS_BYTES)),
	[LOP_MADVISE] = OP("madvise", "gup_madvise", 3, 3, LR_INT,
			   ARGS(ADDR, UINT("length"), FLAGARG(madv_values)),
			   ADDR_SPAN(0, 1, LS_BYTES)),
	[LOP_FORK] = OP("fork", "gup_fork", 1, 1, LR_INT, ARGS(NEWMM)),
	[LOP_EXIT] = OP("exit", "gup_task_exit", 0, 0, LR_NONE, .nr_spans = 0),

	[LOP_GET_USER_PAGES] = GUP_OP("get_user_pages",
				      "gup_mmap_read_lock + gup_get_user_pages", LH_GET),
	[LOP_GET_USER_PAGES_FAST] = GUP_OP("get_user_pages_fast",
					   "gup_get_user_pages_fast", LH_GET),
	[LOP_GET_USER_PAGES_FAST_ONLY] = GUP_OP("get_user_pages_fast_only",
						"gup_get_user_pages_fast_only", LH_GET),
	[LOP_GET_USER_PAGES_UNLOCKED] = GUP_OP("get_user_pages_unlocked",
					       "gup_get_user_pages_unlocked", LH_GET),
	[LOP_GET_USER_PAGES_REMOTE] = GUP_REMOTE_OP("get_user_pages_remote",
		"gup_mmap_read_lock(mm) + gup_get_user_pages_remote", LH_GET),
	[LOP_PIN_USER_PAGES] = GUP_OP("pin_user_pages",
				      "gup_mmap_read_lock + gup_pin_user_pages", LH_PIN),
	[LOP_PIN_USER_PAGES_FAST] = GUP_OP("pin_user_pages_fast",
					   "gup_pin_user_pages_fast", LH_PIN),
	[LOP_PIN_USER_PAGES_UNLOCKED] = GUP_OP("pin_user_pages_unlocked",
					       "gup_pin_user_pages_unlocked", LH_PIN),
	[LOP_PIN_USER_PAGES_REMOTE] = GUP_REMOTE_OP("pin_user_pages_remote",
		"gup_mmap_read_lock(mm) + gup_pin_user_pages_remote", LH_PIN),

	[LOP_PUT] = RELEASE_OP("put", "gup_put_page (each page)", LR_NONE, "pages", LH_GET),
	[LOP_UNPIN] = RELEASE_OP("unpin", "gup_unpin_user_pages", LR_NONE, "pages", LH_PIN),
	[LOP_UNPIN_DIRTY] = RELEASE_OP("unpin_dirty",
				       "gup_unpin_user_pages_dirty_lock(make_dirty=true)",
				       LR_NONE, "pages", LH_PIN),
	[LOP_PAGE_READ] = OP("page_read", "gup_page_read", 3, 3, LR_BYTES,
			     ARGS(HANDLE("pages", LH_GET | LH_PIN), UINT("offset"), UINT("length")),
			     SPANS(SPAN(0, 1, 2, LS_BYTES))),
	[LOP_PAGE_WRITE] = OP("page_write", "gup_page_write", 3, 3, LR_INT,
			      ARGS(HANDLE("pages", LH_GET | LH_PIN), UINT("offset"), PATTERN),
			      SPANS(SPAN(0, 1, 2, LS_PATTERN))),

	[LOP_DIO_READ] = DIO_OP("dio_read", "gup_dio_submit(GUP_DIO_READ)"),
	[LOP_DIO_WRITE] = DIO_OP("dio_write", "gup_dio_submit(GUP_DIO_WRITE)"),
	[LOP_WAIT] = RELEASE_OP("wait", "gup_dio_wait", LR_INT, "request", LH_DIO),
	[LOP_FIXED_REGISTER] = OP("fixed_register", "gup_fixed_buffers_register", 2, 2, LR_INT,
				  .handle = LH_FIXED, ARGS(ADDR, UINT("length")),
				  ADDR_SPAN(0, 1, LS_BYTES)),
	[LOP_FIXED_READ] = FIXED_IO_OP("fixed_read", "gup_dio_submit_fixed(GUP_DIO_READ)"),
	[LOP_FIXED_WRITE] = FIXED_IO_OP("fixed_write", "gup_dio_submit_fixed(GUP_DIO_WRITE)"),
	[LOP_FIXED_UNREGISTER] = RELEASE_OP("fixed_unregister", "gup_fixed_buffers_unregister",
					    LR_INT, "fixed buffer", LH_FIXED),

	[LOP_VMSPLICE] = OP("vmsplice", "gup_vmsplice", 3, 3, LR_INT,
			    ARGS(PIPE, ADDR, UINT("length")), ADDR_SPAN(1, 2, LS_BYTES)),
	[LOP_PIPE_READ] = OP("pipe_read", "gup_pipe_read", 2, 2, LR_BYTES,
			     ARGS(PIPE, UINT("length"))),
	[LOP_PROCESS_VM_READV] = PVM_OP("process_vm_readv", "gup_process_vm_readv"),
	[LOP_PROCESS_VM_WRITEV] = PVM_OP("process_vm_writev", "gup_process_vm_writev"),
	[LOP_RDMA_REG_MR] = OP("rdma_reg_mr", "gup_rdma_reg_mr", 3, 3, LR_INT, .handle = LH_MR,
			       ARGS(ADDR, UINT("length"), FLAGARG(ib_access)),
			       ADDR_SPAN(0, 1, LS_BYTES)),
	[LOP_RDMA_READ] = OP("rdma_read", "gup_rdma_mr_read", 3, 3, LR_BYTES,
			     ARGS(HANDLE("memory region", LH_MR), ADDR, UINT("length")),
			     ADDR_SPAN(1, 2, LS_BYTES)),
	[LOP_RDMA_WRITE] = OP("rdma_write", "gup_rdma_mr_write", 3, 3, LR_INT,
			      ARGS(HANDLE("memory region", LH_MR), ADDR, PATTERN),
			      ADDR_SPAN(1, 2, LS_PATTERN)),
	[LOP_RDMA_DEREG_MR] = RELEASE_OP("rdma_dereg_mr", "gup_rdma_dereg_mr",
					 LR_INT, "memory region", LH_MR),

	[LOP_PREAD] = OP("pread", "gup_file_pread", 3, 3, LR_BYTES,
			 ARGS(FILEARG, UINT("offset"), UINT("length")),
			 SPANS(SPAN(0, 1, 2, LS_BYTES))),
	[LOP_PWRITE] = OP("pwrite", "gup_file_pwrite", 3, 3, LR_INT,
			  ARGS(FILEARG, UINT("offset"), PATTERN), SPANS(SPAN(0, 1, 2, LS_PATTERN))),
	[LOP_FSYNC] = OP("fsync", "gup_file_fsync", 1, 1, LR_INT, ARGS(FILEARG)),
	[LOP_TRUNCATE] = OP("truncate", "gup_file_truncate", 2, 2, LR_INT,
			    ARGS(FILEARG, UINT("size"))),
	[LOP_PUNCH_HOLE] = OP("punch_hole", "gup_file_fallocate(PUNCH_HOLE|KEEP_SIZE)", 3, 3,
			      LR_INT, ARGS(FILEARG, UINT("offset"), UINT("length")),
			      SPANS(SPAN(0, 1, 2, LS_BYTES))),
	[LOP_LEASE_PIN] = OP("lease_pin", "gup_lease_pin", 5, 4, LR_INT, .handle = LH_LEASE,
			     ARGS(FILEARG, ADDR, UINT("pages"), FLAGARG(foll_flags),
				  KEYWORD("release_on_break")),
			     ADDR_SPAN(1, 2, LS_PAGES)),
	[LOP_LEASE_RELEASE] = RELEASE_OP("lease_release", "gup_lease_release",
					 LR_NONE, "lease", LH_LEASE),

	[LOP_UFFD_REGISTER] = UFFD_RANGE_OP("uffd_register", "gup_uffd_register", 4, 4,
					    FLAGARG(uffd_modes)),
	[LOP_UFFD_UNREGISTER] = OP("uffd_unregister", "gup_uffd_unregister", 3, 3, LR_INT,
				   .ctx = LCTX_UFFD, ARGS(UFFD, ADDR, UINT("length")),
				   ADDR_SPAN(1, 2, LS_BYTES)),
	[LOP_UFFD_READ] = OP("uffd_read", "gup_uffd_read (no timeout)", 1, 1, LR_ADDR,
			     .ctx = LCTX_UFFD, ARGS(UFFD)),
	[LOP_UFFD_COPY] = OP("uffd_copy", "gup_uffd_copy", 4, 3, LR_INT, .ctx = LCTX_UFFD,
			     ARGS(UFFD, ADDR, PATTERN, FLAGARG(uffd_copy_modes)),
			     ADDR_SPAN(1, 2, LS_PATTERN)),
	[LOP_UFFD_ZEROPAGE] = UFFD_RANGE_OP("uffd_zeropage", "gup_uffd_zeropage", 4, 3,
					    FLAGARG(uffd_zero_modes)),
	[LOP_UFFD_WRITEPROTECT] = UFFD_RANGE_OP("uffd_writeprotect", "gup_uffd_writeprotect",
						4, 4, FLAGARG(uffd_wp_modes)),
	[LOP_UFFD_WAKE] = OP("uffd_wake", "gup_uffd_wake", 3, 3, LR_INT, .ctx = LCTX_UFFD,
			     ARGS(UFFD, ADDR, UINT("length")), ADDR_SPAN(1, 2, LS_BYTES)),
	[LOP_UFFD_CLOSE] = OP("uffd_close", "gup_uffd_close", 1, 1, LR_INT, .ctx = LCTX_UFFD,
			      ARGS(UFFD)),
};

const struct litmus_op_info *litmus_op_info(enum litmus_op_kind kind)
{
	if ((unsigned)kind >= LOP_NR)
		return NULL;
	return &ops[kind];
}

int litmus_op_lookup(const char *name, size_t len)
{
	for (int k = 0; k < LOP_NR; k++)
		if (strlen(ops[k].name) == len && memcmp(ops[k].name, name, len) == 0)
			return k;
	return -1;
}

const char *litmus_obs_name(enum litmus_obs obs)
{
	static const char *const names[] = { "Never", "Sometimes", "Always" };

	return (unsigned)obs < 3 ? names[obs] : "?";
}

static const char *const memory_names[] = { "sc", "sb" };

const char *litmus_memory_name(enum litmus_memory m)
{
	return (unsigned)m < 2 ? memory_names[m] : "?";
}

int litmus_memory_lookup(const char *name, size_t len)
{
	for (int m = 0; m < 2; m++)
		if (strlen(memory_names[m]) == len && memcmp(memory_names[m], name, len) == 0)
			return m;
	return -1;
}

const char *litmus_quant_name(enum litmus_quant q)
{
	static const char *const names[] = { "exists", "~exists", "forall" };

	return (unsigned)q < 3 ? names[q] : "?";
}

/* ---- patterns ---------------------------------------------------------------- */

void litmus_pattern_expand(const struct litmus_pattern *p, uint8_t *out)
{
	for (unsigned i = 0; i < p->nr_pieces; i++) {
		const struct litmus_piece *pc = &p->pieces[i];

		for (uint64_t r = 0; r < pc->repeat; r++) {
			memcpy(out, pc->bytes, pc->nr_bytes);
			out += pc->nr_bytes;
		}
	}
}

bool litmus_pattern_matches(const struct litmus_pattern *p, const uint8_t *buf)
{
	for (unsigned i = 0; i < p->nr_pieces; i++) {
		const struct litmus_piece *pc = &p->pieces[i];

		for (uint64_t r = 0; r < pc->repeat; r++) {
			if (memcmp(buf, pc->bytes, pc->nr_bytes) != 0)
				return false;
			buf += pc->nr_bytes;
		}
	}
	return true;
}
