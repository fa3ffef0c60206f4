/*
 * guest_demo: the guest `make demo` boots (examples/guest_demo.c runs it
 * and explains each report). On vCPU 0, with arg as a nonce:
 *   console: a greeting (TDG.VP.VMCALL<Instruction.IO> to port 0x3F8).
 *   SYNC(1, TDG.VP.INFO status, GPAW, ATTRIBUTES,
 *        NUM_VCPUS | MAX_VCPUS << 32, VCPU_INDEX)
 *   SYNC(2, EAX, EBX, ECX, EDX) of CPUID leaf 0, which the module answers
 *        inside the TD (no exit).
 *   SYNC(3, EAX, EBX, ECX, EDX) of CPUID leaf 0x40000000, which the module
 *        turns into a #VE; the runtime's #VE handler asks the host with
 *        TDG.VP.VMCALL<Instruction.CPUID>.
 *   SYNC(4, ACCEPT status, first qword before, first qword after) of the
 *        4 KiB TDG.MEM.PAGE.ACCEPT at GUEST_ACCEPT_GPA (no page there: the
 *        ACCEPT takes an EPT violation, the host PAGE.AUGs, the ACCEPT is
 *        retried), then a write of DEMO_PATTERN and a read back.
 *   SYNC(5, RTMR.EXTEND status) of RTMR[2] with 48 bytes of text.
 *   SYNC(6, TDG.MR.REPORT status, shared GPA, 1024) with REPORTDATA the
 *        text "tdxsim demo, nonce <arg in hex>" (zero padded); the TDREPORT
 *        is at the start of the shared transfer page, the 48 bytes extended
 *        into RTMR[2] right after it (offset 1024).
 *   console: goodbye. DONE.
 * Other vCPUs: DONE.
 */
#include "guest/guest.h"

#define DEMO_PATTERN 0x74647873696d2121ull

static uint8_t report[1024] __attribute__((aligned(1024)));
static uint8_t reportdata[64] __attribute__((aligned(64)));
static uint8_t event[64] __attribute__((aligned(64)));

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	uint32_t a = leaf, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	r[0] = a;
	r[1] = b;
	r[2] = c;
	r[3] = d;
}

void guest_main(unsigned vcpu_index, uint64_t arg)
{
	struct tdg_vp_info info;
	uint32_t r[4];
	uint64_t st;

	if (vcpu_index != 0)
		return;                 /* returning from guest_main() is DONE */
	guest_printf("Hello from a TD: vCPU %u in 64-bit mode, GPAW %u, shared bit 0x%lx\n", vcpu_index,
		     guest_gpaw, (unsigned long)guest_shared_mask);

	st = tdg_vp_info(&info);
	GUEST_SYNC(1, st, info.gpaw, info.attributes,
		   info.num_vcpus | (uint64_t)info.max_vcpus << 32, info.vcpu_index);

	cpuid(0, r);
	GUEST_SYNC(2, r[0], r[1], r[2], r[3]);
	cpuid(0x40000000, r);
	GUEST_SYNC(3, r[0], r[1], r[2], r[3]);

	volatile uint64_t *page = (volatile uint64_t *)(uintptr_t)GUEST_ACCEPT_GPA;
	uint64_t before = 0, after = 0;
	st = tdg_mem_page_accept(GUEST_ACCEPT_GPA, 0);
	if (st == 0) {
		before = *page;
		*page = DEMO_PATTERN;
		after = *page;
	}
	GUEST_SYNC(4, st, before, after);

	static const char text[] = "guest_demo: measured into RTMR[2] at run time";
	_Static_assert(sizeof(text) <= 48, "an RTMR event is 48 bytes");
	memcpy(event, text, sizeof(text));
	GUEST_SYNC(5, tdg_mr_rtmr_extend(guest_gpa(event), 2));

	guest_snprintf((char *)reportdata, sizeof(reportdata), "tdxsim demo, nonce %lx", (unsigned long)arg);
	st = tdg_mr_report(guest_gpa(report), guest_gpa(reportdata), 0);
	uint8_t *xfer = guest_shared_ptr(GUEST_XFER_OFFSET);
	memcpy(xfer, report, sizeof(report));
	memcpy(xfer + sizeof(report), event, 48);
	GUEST_SYNC(6, st, GUEST_XFER_OFFSET | guest_shared_mask, sizeof(report));

	guest_puts("Goodbye from the TD.\n");
	GUEST_DONE();
}
