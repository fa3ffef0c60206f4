/*
 * guest_rtmr: TDG.MR.RTMR.EXTEND of RTMR[2] with the 48 bytes
 * i = (i * 3 + arg) & 0xFF (i = 0..47): SYNC(1, status). Then the same
 * value into RTMR[4], which does not exist: SYNC(2, status) (expect
 * OPERAND_INVALID + RDX). Then a TDREPORT (REPORTDATA zero) copied to the
 * shared transfer page, so the host can check RTMR[2]:
 * SYNC(3, report status, its GPA, 1024). DONE.
 */
#include "guest/guest.h"

static uint8_t value[64] __attribute__((aligned(64)));
static uint8_t report[1024] __attribute__((aligned(1024)));
static uint8_t reportdata[64] __attribute__((aligned(64)));

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	(void)vcpu_index;
	for (unsigned i = 0; i < 48; i++)
		value[i] = (uint8_t)(i * 3 + arg);
	GUEST_SYNC(1, tdg_mr_rtmr_extend(guest_gpa(value), 2));
	GUEST_SYNC(2, tdg_mr_rtmr_extend(guest_gpa(value), 4));
	uint64_t st = tdg_mr_report(guest_gpa(report), guest_gpa(reportdata), 0);
	memcpy(guest_shared_ptr(GUEST_XFER_OFFSET), report, sizeof(report));
	GUEST_SYNC(3, st, GUEST_XFER_OFFSET | guest_shared_mask, sizeof(report));
	GUEST_DONE();
}
