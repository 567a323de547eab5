/* SPDX-License-Identifier: MIT */
/*
 * gup/foll.h - Linux's FOLL_* names for the public GUP_FOLL_* flags.  Included by
 * gup/linux.h (driver-style code) and by libgup itself; not by gup/gup.h, so
 * that programs using the gup_* API keep a clean namespace.
 */
#ifndef GUP_FOLL_H
#define GUP_FOLL_H

#include <gup/gup.h>

#define FOLL_WRITE		GUP_FOLL_WRITE
#define FOLL_GET		GUP_FOLL_GET
#define FOLL_DUMP		GUP_FOLL_DUMP
#define FOLL_FORCE		GUP_FOLL_FORCE
#define FOLL_NOWAIT		GUP_FOLL_NOWAIT
#define FOLL_NOFAULT		GUP_FOLL_NOFAULT
#define FOLL_HWPOISON		GUP_FOLL_HWPOISON
#define FOLL_ANON		GUP_FOLL_ANON
#define FOLL_LONGTERM		GUP_FOLL_LONGTERM
#define FOLL_SPLIT_PMD		GUP_FOLL_SPLIT_PMD
#define FOLL_PCI_P2PDMA		GUP_FOLL_PCI_P2PDMA
#define FOLL_INTERRUPTIBLE	GUP_FOLL_INTERRUPTIBLE
#define FOLL_HONOR_NUMA_FAULT	GUP_FOLL_HONOR_NUMA_FAULT

#endif /* GUP_FOLL_H */
