/*
 * VMCS model (vmx/vmcs.c): SDM Appendix B encodings, VMREAD/VMWRITE and
 * their VM-instruction error numbers, VMPTRLD/VMCLEAR/VMXON failures, the
 * VMLAUNCH/VMRESUME launch-state rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/vmcs.h"

struct fx {
	struct vmx_mem mem;
	struct vmx_clock clk;
	struct vmx_cpu cpu;
};

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	if (vmx_mem_init(&f.mem, 64 << 10))
		return -1;
	vmx_cpu_init(&f.cpu, &f.mem, vmx_costs_for(NULL), &f.clk);
	vmcs_format(&f.mem, 0x1000, false);     /* VMXON region */
	vmcs_format(&f.mem, 0x2000, false);
	vmcs_format(&f.mem, 0x3000, false);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vmx_mem_fini(&f->mem);
	return 0;
}

static void on(struct fx *f)
{
	assert_int_equal(vmx_vmxon(&f->cpu, 0x1000), VMX_SUCCEED);
	assert_int_equal(vmx_vmptrld(&f->cpu, 0x2000), VMX_SUCCEED);
}

static void test_vmcs__encodings(void **state)
{
	(void)state;
	/* SDM Appendix B values and the bit layout they follow. */
	assert_int_equal(GUEST_RIP, 0x681E);
	assert_int_equal(VM_EXIT_REASON, 0x4402);
	assert_int_equal(EXIT_QUALIFICATION, 0x6400);
	assert_int_equal(VM_EXIT_INSTRUCTION_LEN, 0x440C);
	assert_int_equal(VMCS_LINK_POINTER, 0x2800);
	assert_int_equal(VMREAD_BITMAP, 0x2026);
	assert_int_equal(VMCS_TYPE(VM_EXIT_REASON), VMCS_TYPE_RO_DATA);
	assert_int_equal(VMCS_TYPE(HOST_RIP), VMCS_TYPE_HOST);
	assert_int_equal(VMCS_TYPE(GUEST_RIP), VMCS_TYPE_GUEST);
	assert_int_equal(VMCS_WIDTH(GUEST_RIP), VMCS_WIDTH_NATURAL);
	assert_int_equal(VMCS_WIDTH(EPT_POINTER), VMCS_WIDTH_64);
	assert_int_equal(VMCS_WIDTH(GUEST_CS_SELECTOR), VMCS_WIDTH_16);
	assert_int_equal(VMCS_WIDTH(VM_EXIT_REASON), VMCS_WIDTH_32);
	/* The table is strictly ascending (binary search) and every entry is
	 * found at its own index. */
	for (unsigned i = 0; i < vmcs_field_count(); i++) {
		if (i)
			assert_true(vmcs_field_at(i - 1) < vmcs_field_at(i));
		assert_int_equal(vmcs_field_index(vmcs_field_at(i)), (int)i);
	}
	/* Reserved bits, high access of a non-64-bit field, unknown index. */
	assert_int_equal(vmcs_field_index(GUEST_RIP | 0x1000), -1);
	assert_int_equal(vmcs_field_index(GUEST_RIP | 0x8000), -1);
	assert_int_equal(vmcs_field_index(GUEST_RIP | 1), -1);
	assert_int_equal(vmcs_field_index(0x6830), -1);
	assert_true(vmcs_field_index(EPT_POINTER | 1) >= 0);
}

static void test_vmcs__vmread_vmwrite(void **state)
{
	struct fx *f = *state;
	on(f);
	uint64_t v = 0;
	assert_int_equal(vmx_vmwrite(&f->cpu, GUEST_RIP, 0xFFFFFFFF81234567ull), VMX_SUCCEED);
	assert_int_equal(vmx_vmread(&f->cpu, GUEST_RIP, &v), VMX_SUCCEED);
	assert_int_equal(v, 0xFFFFFFFF81234567ull);
	assert_int_equal(f->cpu.rflags & (RFLAGS_CF | RFLAGS_ZF), 0);
	/* Width: a 16-bit field keeps 16 bits, a 32-bit one 32. */
	vmx_vmwrite(&f->cpu, GUEST_CS_SELECTOR, 0x12345678);
	vmx_vmread(&f->cpu, GUEST_CS_SELECTOR, &v);
	assert_int_equal(v, 0x5678);
	vmx_vmwrite(&f->cpu, EXCEPTION_BITMAP, 0x1122334455667788ull);
	vmx_vmread(&f->cpu, EXCEPTION_BITMAP, &v);
	assert_int_equal(v, 0x55667788);
	/* High access of a 64-bit field: bits 63:32 only. */
	vmx_vmwrite(&f->cpu, EPT_POINTER, 0x1111222233334444ull);
	vmx_vmread(&f->cpu, EPT_POINTER | 1, &v);
	assert_int_equal(v, 0x11112222);
	vmx_vmwrite(&f->cpu, EPT_POINTER | 1, 0xAAAABBBB);
	vmx_vmread(&f->cpu, EPT_POINTER, &v);
	assert_int_equal(v, 0xAAAABBBB33334444ull);
	/* Unsupported component: VMfailValid(12), ZF, error in the VMCS. */
	v = 7;
	assert_int_equal(vmx_vmread(&f->cpu, 0x6830, &v), VMX_FAIL_VALID);
	assert_int_equal(v, 7);
	assert_true(f->cpu.rflags & RFLAGS_ZF);
	assert_false(f->cpu.rflags & RFLAGS_CF);
	assert_int_equal(vmx_insn_error(&f->cpu), VMXERR_UNSUPPORTED_FIELD);
	assert_int_equal(vmx_vmwrite(&f->cpu, GUEST_RIP | 0x8000, 0), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), 12);
	/* Read-only exit information: VMfailValid(13) unless IA32_VMX_MISC[29]. */
	assert_int_equal(vmx_vmwrite(&f->cpu, VM_EXIT_REASON, 10), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), 13);
	f->cpu.vmwrite_any = true;
	assert_int_equal(vmx_vmwrite(&f->cpu, VM_EXIT_REASON, 10), VMX_SUCCEED);
	assert_int_equal(f->cpu.rflags & (RFLAGS_CF | RFLAGS_ZF), 0);
	/* Success leaves the error field alone. */
	assert_int_equal(vmx_insn_error(&f->cpu), 13);
	/* No current VMCS: VMfailInvalid (CF), nothing written. */
	assert_int_equal(vmx_vmclear(&f->cpu, 0x2000), VMX_SUCCEED);
	assert_int_equal(vmx_vmread(&f->cpu, GUEST_RIP, &v), VMX_FAIL_INVALID);
	assert_true(f->cpu.rflags & RFLAGS_CF);
	assert_false(f->cpu.rflags & RFLAGS_ZF);
}

static void test_vmcs__pointers(void **state)
{
	struct fx *f = *state;
	assert_int_equal(vmx_vmxon(&f->cpu, 0x1000), VMX_SUCCEED);
	/* VMXON in VMX root operation: no current VMCS -> VMfailInvalid. */
	assert_int_equal(vmx_vmxon(&f->cpu, 0x1000), VMX_FAIL_INVALID);
	assert_int_equal(vmx_vmptrld(&f->cpu, 0x2000), VMX_SUCCEED);
	assert_int_equal(vmx_vmxon(&f->cpu, 0x1000), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), VMXERR_VMXON_IN_ROOT);
	/* VMPTRLD: misaligned 9, the VMXON pointer 10, bad revision 11. */
	assert_int_equal(vmx_vmptrld(&f->cpu, 0x3008), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), 9);
	assert_int_equal(vmx_vmptrld(&f->cpu, 1ull << 40), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), 9);
	assert_int_equal(vmx_vmptrld(&f->cpu, 0x1000), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), 10);
	vmcs_set_header(&f->mem, 0x3000, 0x5);
	assert_int_equal(vmx_vmptrld(&f->cpu, 0x3000), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), 11);
	assert_int_equal(f->cpu.current, 0x2000);
	/* VMCLEAR: misaligned 2, the VMXON pointer 3. */
	assert_int_equal(vmx_vmclear(&f->cpu, 0x2001), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), 2);
	assert_int_equal(vmx_vmclear(&f->cpu, 0x1000), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), 3);
}

static void test_vmcs__launch_state(void **state)
{
	struct fx *f = *state;
	on(f);
	vmx_vmwrite(&f->cpu, HOST_RIP, 0xFFFFFFFF81000000ull);
	/* VMRESUME of a clear VMCS: 5. */
	assert_int_equal(vmx_entry_check(&f->cpu, true), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), VMXERR_VMRESUME_NONLAUNCHED);
	assert_int_equal(vmcs_launch_state(&f->mem, 0x2000), 0);
	assert_int_equal(vmx_entry_check(&f->cpu, false), VMX_SUCCEED);
	assert_int_equal(vmcs_launch_state(&f->mem, 0x2000), 1);
	/* VMLAUNCH of a launched VMCS: 4; VMRESUME is fine. */
	assert_int_equal(vmx_entry_check(&f->cpu, false), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), VMXERR_VMLAUNCH_NONCLEAR);
	assert_int_equal(vmx_entry_check(&f->cpu, true), VMX_SUCCEED);
	/* VMCLEAR makes it clear (and not current); VMLAUNCH works again. */
	assert_int_equal(vmx_vmclear(&f->cpu, 0x2000), VMX_SUCCEED);
	assert_int_equal(f->cpu.current, VMX_INVALID_PTR);
	assert_int_equal(vmx_entry_check(&f->cpu, false), VMX_FAIL_INVALID);
	assert_int_equal(vmx_vmptrld(&f->cpu, 0x2000), VMX_SUCCEED);
	assert_int_equal(vmx_entry_check(&f->cpu, true), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), 5);
	assert_int_equal(vmx_entry_check(&f->cpu, false), VMX_SUCCEED);
	/* Invalid controls (CR3-target count > 4): 7; non-canonical host RIP: 8. */
	vmx_vmclear(&f->cpu, 0x2000);
	vmx_vmptrld(&f->cpu, 0x2000);
	vmx_vmwrite(&f->cpu, CR3_TARGET_COUNT, 5);
	assert_int_equal(vmx_entry_check(&f->cpu, false), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), VMXERR_ENTRY_INVALID_CONTROL);
	vmx_vmwrite(&f->cpu, CR3_TARGET_COUNT, 0);
	vmx_vmwrite(&f->cpu, HOST_RIP, 0x0000800000000000ull);
	assert_int_equal(vmx_entry_check(&f->cpu, false), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), VMXERR_ENTRY_INVALID_HOST);
	assert_int_equal(vmcs_launch_state(&f->mem, 0x2000), 0);
	/* A shadow VMCS may be current but cannot be entered: VMfailInvalid. */
	vmcs_set_header(&f->mem, 0x3000, VMCS_REVISION | VMCS_SHADOW_BIT);
	assert_int_equal(vmx_vmptrld(&f->cpu, 0x3000), VMX_SUCCEED);
	assert_int_equal(vmx_entry_check(&f->cpu, false), VMX_FAIL_INVALID);
}

static void test_vmcs__invept_invvpid(void **state)
{
	struct fx *f = *state;
	on(f);
	assert_int_equal(vmx_invept(&f->cpu, 1, 0x501E), VMX_SUCCEED);
	assert_int_equal(vmx_invept(&f->cpu, 2, 0), VMX_SUCCEED);
	assert_int_equal(vmx_invept(&f->cpu, 3, 0), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), VMXERR_INVALID_INVEPT_INVVPID);
	assert_int_equal(vmx_invvpid(&f->cpu, 1, 0), VMX_FAIL_VALID);
	assert_int_equal(vmx_insn_error(&f->cpu), 28);
	assert_int_equal(vmx_invvpid(&f->cpu, 2, 0), VMX_SUCCEED);
	assert_int_equal(vmx_invvpid(&f->cpu, 4, 1), VMX_FAIL_VALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmcs__encodings),
		cmocka_unit_test_setup_teardown(test_vmcs__vmread_vmwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmcs__pointers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmcs__launch_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmcs__invept_invvpid, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
