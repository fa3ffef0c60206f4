/* Kernel-mode glue for the Linux 6.12 suite (see glue.h). */
#include <linux/types.h>
#include <asm/mce.h>
#include <asm/tdx.h>

#include "glue.h"

const char *kglue_dump_mce(unsigned long long addr)
{
	struct mce m;

	const char *msg;

	/* The machine-check handler runs with IRQs off. */
	memset(&m, 0, sizeof(m));
	m.addr = addr;
	local_irq_disable();
	msg = tdx_dump_mce_info(&m);
	local_irq_enable();
	return msg;
}
