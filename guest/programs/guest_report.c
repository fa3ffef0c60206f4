/*
 * guest_report: TDG.MR.REPORT with REPORTDATA bytes i = (i + arg) & 0xFF
 * (i = 0..63): SYNC(1, status). The 1024-byte TDREPORT is then copied to
 * the shared transfer page (GUEST_XFER_OFFSET | shared):
 * SYNC(2, its GPA, 1024). DONE.
 */
#include "guest/guest.h"

static uint8_t report[1024] __attribute__((aligned(1024)));
static uint8_t reportdata[64] __attribute__((aligned(64)));

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	(void)vcpu_index;
	for (unsigned i = 0; i < sizeof(reportdata); i++)
		reportdata[i] = (uint8_t)(i + arg);
	GUEST_SYNC(1, tdg_mr_report(guest_gpa(report), guest_gpa(reportdata), 0));
	memcpy(guest_shared_ptr(GUEST_XFER_OFFSET), report, sizeof(report));
	GUEST_SYNC(2, GUEST_XFER_OFFSET | guest_shared_mask, sizeof(report));
	GUEST_DONE();
}
