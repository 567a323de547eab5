/* SPDX-License-Identifier: MIT */
/*
 * src/sched/irq.c - the IPI wait of a TLB shootdown.
 */
#define _GNU_SOURCE

#include "sched/sched_internal.h"

/*
 * Wait until @irq's owner has left the irq-off section it is in now, if any.
 *
 * The caller published its change and issued smp_mb() before calling; the owner's
 * local_irq_disable() makes @seq odd and then issues a seq_cst fence before reading
 * anything.  Dekker between those two fences: either our load below sees the odd
 * @seq (and we wait), or the owner's section started after our fence and sees our
 * change.  The acquire loads pair with the release store of local_irq_enable(), so
 * everything the owner did in the section happens-before our return.
 */
void irq_sync(struct irq_state *irq)
{
	unsigned spins = 0;
	uint32_t s;

	sched_point(SP_IRQ_SYNC, irq);
	s = atomic_load_explicit(&irq->seq, memory_order_acquire);
	if (!(s & 1))
		return;		/* not inside a section: nothing to wait for */
	sched_point(SP_BLOCK, irq);
	/* Any change means that section ended (a later one began after our change). */
	while (atomic_load_explicit(&irq->seq, memory_order_acquire) == s)
		sched_spin_wait(irq, &spins);
}
