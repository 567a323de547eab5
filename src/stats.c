/* SPDX-License-Identifier: MIT */
/*
 * src/stats.c - the names of the world's counters (enum gup_stat_item).
 *
 * On their own, apart from world.c, so that the litmus front end, which names
 * counters in conditions (vm_stat(NAME), docs/litmus.md), can be built without
 * the engine (the parser's fuzz target).
 */
#include "gup/gup.h"

static const char *const stat_names[GUP_NR_STATS] = {
	[GUP_STAT_FAULT] = "fault",
	[GUP_STAT_FAULT_ANON_READ] = "fault_anon_read",
	[GUP_STAT_FAULT_ANON_WRITE] = "fault_anon_write",
	[GUP_STAT_FAULT_SHARED] = "fault_shared",
	[GUP_STAT_FAULT_WP] = "fault_wp",
	[GUP_STAT_FAULT_UNSHARE] = "fault_unshare",
	[GUP_STAT_FAULT_SIGSEGV] = "fault_sigsegv",
	[GUP_STAT_FAULT_OOM] = "fault_oom",
	[GUP_STAT_COW_COPY] = "cow_copy",
	[GUP_STAT_COW_REUSE] = "cow_reuse",
	[GUP_STAT_COW_ZERO] = "cow_zero",
	[GUP_STAT_UNSHARE_COPY] = "unshare_copy",
	[GUP_STAT_UNSHARE_REUSE] = "unshare_reuse",
	[GUP_STAT_PIN_ACQUIRED] = "nr_foll_pin_acquired",
	[GUP_STAT_PIN_RELEASED] = "nr_foll_pin_released",
	[GUP_STAT_GET_ACQUIRED] = "nr_foll_get_acquired",
	[GUP_STAT_GET_RELEASED] = "nr_foll_get_released",
	[GUP_STAT_TLB_FLUSH] = "tlb_flush",
	[GUP_STAT_TLB_SHOOTDOWN] = "tlb_shootdown",
	[GUP_STAT_TLB_SHOOTDOWN_WAIT] = "tlb_shootdown_wait",
	[GUP_STAT_TLB_MISS] = "tlb_miss",
	[GUP_STAT_FORK] = "fork",
	[GUP_STAT_FORK_PTE_SHARED] = "fork_pte_shared",
	[GUP_STAT_FORK_PAGE_COPIED] = "fork_page_copied",
	[GUP_STAT_FRAME_ALLOC] = "frame_alloc",
	[GUP_STAT_FRAME_FREE] = "frame_free",
	[GUP_STAT_PGTABLE_ALLOC] = "pgtable_alloc",
	[GUP_STAT_PGTABLE_FREE] = "pgtable_free",
	[GUP_STAT_ZAP_PTE] = "zap_pte",
	[GUP_STAT_GUP_SLOW_PAGES] = "gup_slow_pages",
	[GUP_STAT_GUP_FAST_PAGES] = "gup_fast_pages",
	[GUP_STAT_GUP_FAST_FALLBACK] = "gup_fast_fallback",
	[GUP_STAT_GUP_RETRY] = "gup_retry",
	[GUP_STAT_LONGTERM_MIGRATE] = "longterm_migrate",
	[GUP_STAT_FAULT_MAJOR] = "fault_major",
	[GUP_STAT_FAULT_RETRY_IO] = "fault_retry_io",
	[GUP_STAT_FILE_READ_PAGE] = "file_read_page",
	[GUP_STAT_FILE_WRITEBACK] = "file_writeback",
	[GUP_STAT_DAX_LEASE] = "dax_lease",
	[GUP_STAT_DAX_LEASE_BREAK] = "dax_lease_break",
	[GUP_STAT_DAX_BREAK_TIMEOUT] = "dax_break_timeout",
	[GUP_STAT_UFFD_FAULT] = "uffd_fault",
	[GUP_STAT_UFFD_WP_FAULT] = "uffd_wp_fault",
	[GUP_STAT_UFFD_SIGBUS] = "uffd_sigbus",
	[GUP_STAT_UFFD_COPY] = "uffd_copy",
	[GUP_STAT_UFFD_ZEROPAGE] = "uffd_zeropage",
	[GUP_STAT_UFFD_WAKE] = "uffd_wake",
	[GUP_STAT_DIO_READ] = "dio_read",
	[GUP_STAT_DIO_WRITE] = "dio_write",
	[GUP_STAT_DIO_BYTES] = "dio_bytes",
	[GUP_STAT_VMSPLICE_PAGES] = "vmsplice_pages",
	[GUP_STAT_PVM_BYTES] = "pvm_bytes",
	[GUP_STAT_GUP_DECOW] = "gup_decow",
	[GUP_STAT_FORK_IO_WAIT] = "fork_io_wait",
};

GUP_API const char *gup_stat_name(enum gup_stat_item item)
{
	if ((unsigned)item >= GUP_NR_STATS)
		return NULL;
	return stat_names[item];
}
