/*
 * pKVM-style nested VMX (vmx/nested.c): VMREAD/VMWRITE bitmaps and the
 * shadow VMCS, fields served from the cached vmcs12, dirty sync at
 * VMLAUNCH/VMRESUME, write-back at VMCLEAR, sanitised controls, emulated
 * INVEPT/INVVPID, L1's launch-state rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/nested.h"

#define ITER 5

static struct nested_vm *open_nested(enum nested_shadow mode)
{
	static struct nested_vm n;
	char err[128] = "";
	int rc = nested_init(&n, mode, ITER, vmx_costs_for(NULL), err, sizeof(err));
	if (rc)
		fail_msg("nested_init: %s", err);
	rc = nested_l1_setup(&n, err, sizeof(err));
	if (rc)
		fail_msg("nested_l1_setup: %s", err);
	return &n;
}

static uint64_t v02(struct nested_vm *n, uint32_t f)
{
	return vmcs_get(&n->mem, n->vmcs02_pa, f);
}

static uint64_t rd(struct nested_vm *n, uint32_t f)
{
	uint64_t v = 0xDEAD;
	assert_int_equal(l1_vmread(n, f, &v), VMX_SUCCEED);
	return v;
}

/* L1 answers the reflected CPUID exit the short way: RIP += 2. */
static void l1_skip(struct nested_vm *n)
{
	assert_int_equal(rd(n, VM_EXIT_REASON), EXIT_REASON_CPUID);
	assert_int_equal(l1_vmwrite(n, GUEST_RIP, rd(n, GUEST_RIP) + 2), VMX_SUCCEED);
}

static void test_nested__shadowed_read_no_exit(void **state)
{
	(void)state;
	struct nested_vm *n = open_nested(NESTED_SHADOW_PKVM);
	assert_int_equal(l1_vmlaunch(n), VMX_SUCCEED);
	assert_int_equal(n->l2_exits, 1);
	uint64_t reads = n->l1_exits[EXIT_REASON_VMREAD], shadow = n->shadow_reads;
	/* Exit information and guest state: from vmcs02, no VM exit. */
	assert_int_equal(rd(n, VM_EXIT_REASON), EXIT_REASON_CPUID);
	assert_int_equal(rd(n, VM_EXIT_INSTRUCTION_LEN), 2);
	assert_int_equal(rd(n, GUEST_RIP), VMX_GUEST_CPUID);
	assert_int_equal(n->l1_exits[EXIT_REASON_VMREAD], reads);
	assert_int_equal(n->shadow_reads, shadow + 3);
	/* A shadowed VMWRITE lands in vmcs02 directly. */
	uint64_t writes = n->l1_exits[EXIT_REASON_VMWRITE];
	assert_int_equal(l1_vmwrite(n, GUEST_RIP, VMX_GUEST_CPUID + 2), VMX_SUCCEED);
	assert_int_equal(n->l1_exits[EXIT_REASON_VMWRITE], writes);
	assert_int_equal(v02(n, GUEST_RIP), VMX_GUEST_CPUID + 2);
	/* The same field taken out of the bitmap exits, and L0 still serves
	 * it from where it lives. */
	nested_bitmap_set(n, GUEST_RIP, true, true);
	assert_int_equal(rd(n, GUEST_RIP), VMX_GUEST_CPUID + 2);
	assert_int_equal(n->l1_exits[EXIT_REASON_VMREAD], reads + 1);
	nested_fini(n);
}

static void test_nested__unshadowed_from_vmcs12(void **state)
{
	(void)state;
	struct nested_vm *n = open_nested(NESTED_SHADOW_PKVM);
	assert_int_equal(l1_vmlaunch(n), VMX_SUCCEED);
	/* EPT pointer: emulated. L1 reads back its own value (an exit served
	 * from the cached vmcs12); vmcs02 holds L0's shadow EPT. */
	uint64_t reads = n->l1_exits[EXIT_REASON_VMREAD];
	assert_int_equal(rd(n, EPT_POINTER), 0x9000 | 0x1E);
	assert_int_equal(n->l1_exits[EXIT_REASON_VMREAD], reads + 1);
	assert_int_equal(v02(n, EPT_POINTER), n->ept02_pa | 0x1E);
	/* Host state is never shadowed. */
	assert_int_equal(rd(n, HOST_RIP), 0xFFFFFFFF81000000ull);
	assert_int_equal(n->l1_exits[EXIT_REASON_VMREAD], reads + 2);
	/* Unsupported field: exits, VMfailValid(12) in L1's view. */
	uint64_t v;
	assert_int_equal(l1_vmread(n, 0x6830, &v), VMX_FAIL_VALID);
	assert_true(n->l1_rflags & RFLAGS_ZF);
	assert_int_equal(l1_insn_error(n), VMXERR_UNSUPPORTED_FIELD);
	/* Read-only exit information: the write exits, VMfailValid(13). */
	uint64_t writes = n->l1_exits[EXIT_REASON_VMWRITE];
	assert_int_equal(l1_vmwrite(n, VM_EXIT_REASON, 0), VMX_FAIL_VALID);
	assert_int_equal(n->l1_exits[EXIT_REASON_VMWRITE], writes + 1);
	assert_int_equal(l1_insn_error(n), VMXERR_VMWRITE_READ_ONLY);
	assert_int_equal(rd(n, VM_EXIT_REASON), EXIT_REASON_CPUID);
	nested_fini(n);
}

static void test_nested__dirty_sync_and_sanitise(void **state)
{
	(void)state;
	struct nested_vm *n = open_nested(NESTED_SHADOW_PKVM);
	assert_int_equal(l1_vmlaunch(n), VMX_SUCCEED);
	int i = vmcs_field_index(CPU_BASED_VM_EXEC_CONTROL);
	uint64_t cpu = rd(n, CPU_BASED_VM_EXEC_CONTROL);
	assert_int_equal(cpu, CPU_HLT_EXITING | CPU_ACTIVATE_SECONDARY);
	/* L0's additions are in vmcs02 only. */
	assert_int_equal(v02(n, CPU_BASED_VM_EXEC_CONTROL), cpu | CPU_USE_MSR_BITMAPS);
	const uint64_t rdtsc_exiting = 1u << 12;
	assert_int_equal(l1_vmwrite(n, CPU_BASED_VM_EXEC_CONTROL, cpu | rdtsc_exiting), VMX_SUCCEED);
	assert_int_equal(l1_vmwrite(n, SECONDARY_VM_EXEC_CONTROL,
				    SEC_ENABLE_EPT | SEC_SHADOW_VMCS | SEC_ENABLE_VMFUNC), VMX_SUCCEED);
	assert_int_equal(l1_vmwrite(n, MSR_BITMAP, 0x5000), VMX_SUCCEED);
	assert_int_equal(l1_vmwrite(n, VM_ENTRY_MSR_LOAD_COUNT, 3), VMX_SUCCEED);
	assert_int_equal(l1_vmwrite(n, VIRTUAL_PROCESSOR_ID, 7), VMX_SUCCEED);
	/* Dirty, not yet in vmcs02. */
	assert_true(n->dirty[i]);
	assert_false(v02(n, CPU_BASED_VM_EXEC_CONTROL) & rdtsc_exiting);
	l1_skip(n);
	assert_int_equal(l1_vmresume(n), VMX_SUCCEED);
	assert_int_equal(n->l2_exits, 2);
	assert_false(n->dirty[i]);
	assert_int_equal(v02(n, CPU_BASED_VM_EXEC_CONTROL), cpu | rdtsc_exiting | CPU_USE_MSR_BITMAPS);
	/* Sanitised: no shadow VMCS or VM functions for L2, L0's EPT and VPID,
	 * L0's MSR bitmap, no MSR load area, NMI and interrupt exiting. */
	uint64_t sec = v02(n, SECONDARY_VM_EXEC_CONTROL);
	assert_false(sec & (SEC_SHADOW_VMCS | SEC_ENABLE_VMFUNC));
	assert_true(sec & SEC_ENABLE_EPT);
	assert_true(sec & SEC_ENABLE_VPID);
	assert_int_equal(v02(n, MSR_BITMAP), n->msr_bm02_pa);
	assert_int_equal(v02(n, VM_ENTRY_MSR_LOAD_COUNT), 0);
	assert_int_equal(v02(n, VIRTUAL_PROCESSOR_ID), n->vpid02);
	assert_int_equal(v02(n, PIN_BASED_VM_EXEC_CONTROL) & (PIN_NMI_EXITING | PIN_EXT_INTR_EXITING),
			 PIN_NMI_EXITING | PIN_EXT_INTR_EXITING);
	assert_int_equal(v02(n, VMCS_LINK_POINTER), VMX_INVALID_PTR);
	/* L1 still reads what it wrote. */
	assert_int_equal(rd(n, SECONDARY_VM_EXEC_CONTROL),
			 SEC_ENABLE_EPT | SEC_SHADOW_VMCS | SEC_ENABLE_VMFUNC);
	assert_int_equal(rd(n, VIRTUAL_PROCESSOR_ID), 7);
	/* The RIP advance reached L2: the loop counter went down once. */
	assert_int_equal(n->l1_regs[R_RSI], ITER - 1);
	nested_fini(n);
}

static void test_nested__vmclear_writeback(void **state)
{
	(void)state;
	struct nested_vm *n = open_nested(NESTED_SHADOW_PKVM);
	assert_int_equal(l1_vmlaunch(n), VMX_SUCCEED);
	const uint64_t mem12 = NESTED_L1_BASE + NESTED_L1_VMCS12;
	/* A shadowed write lives in vmcs02 until VMCLEAR. */
	assert_int_equal(l1_vmwrite(n, GUEST_RSP, 0x1234), VMX_SUCCEED);
	assert_int_equal(l1_vmwrite(n, EXCEPTION_BITMAP, 0x60000), VMX_SUCCEED);
	assert_int_not_equal(vmcs_get(&n->mem, mem12, GUEST_RSP), 0x1234);
	/* A VMLAUNCH of the launched vmcs12: VMfailValid(4). */
	assert_int_equal(l1_vmlaunch(n), VMX_FAIL_VALID);
	assert_int_equal(l1_insn_error(n), VMXERR_VMLAUNCH_NONCLEAR);
	assert_int_equal(vmcs_launch_state(&n->mem, n->cached12_pa), 1);
	assert_int_equal(l1_vmclear(n, NESTED_L1_VMCS12), VMX_SUCCEED);
	assert_int_equal(vmcs_get(&n->mem, mem12, GUEST_RSP), 0x1234);
	assert_int_equal(vmcs_get(&n->mem, mem12, EXCEPTION_BITMAP), 0x60000);
	assert_int_equal(vmcs_get(&n->mem, mem12, VM_EXIT_REASON), EXIT_REASON_CPUID);
	assert_int_equal(vmcs_get(&n->mem, mem12, EPT_POINTER), 0x9000 | 0x1E);
	assert_int_equal(vmcs_launch_state(&n->mem, mem12), 0);
	/* Shadowing is off without a current vmcs12: the read exits and
	 * fails invalid. */
	uint64_t v;
	assert_false(vmcs_get(&n->mem, n->vmcs01_pa, SECONDARY_VM_EXEC_CONTROL) & SEC_SHADOW_VMCS);
	assert_int_equal(l1_vmread(n, GUEST_RSP, &v), VMX_FAIL_INVALID);
	assert_true(n->l1_rflags & RFLAGS_CF);
	/* VMPTRLD brings it back; VMRESUME of the now clear vmcs12: 5. */
	assert_int_equal(l1_vmptrld(n, NESTED_L1_VMCS12), VMX_SUCCEED);
	assert_int_equal(rd(n, GUEST_RSP), 0x1234);
	assert_int_equal(l1_vmresume(n), VMX_FAIL_VALID);
	assert_int_equal(l1_insn_error(n), VMXERR_VMRESUME_NONLAUNCHED);
	/* VMPTRLD errors. */
	assert_int_equal(l1_vmptrld(n, NESTED_L1_VMCS12 + 8), VMX_FAIL_VALID);
	assert_int_equal(l1_insn_error(n), VMXERR_VMPTRLD_INVALID_ADDR);
	assert_int_equal(l1_vmptrld(n, NESTED_L1_VMXON), VMX_FAIL_VALID);
	assert_int_equal(l1_insn_error(n), VMXERR_VMPTRLD_VMXON_PTR);
	assert_int_equal(l1_vmptrld(n, 0x5000), VMX_FAIL_VALID);  /* revision 0 */
	assert_int_equal(l1_insn_error(n), VMXERR_VMPTRLD_BAD_REVISION);
	assert_int_equal(l1_vmxon(n, NESTED_L1_VMXON), VMX_FAIL_VALID);
	assert_int_equal(l1_insn_error(n), VMXERR_VMXON_IN_ROOT);
	nested_fini(n);
}

static void test_nested__invept_invvpid(void **state)
{
	(void)state;
	struct nested_vm *n = open_nested(NESTED_SHADOW_PKVM);
	assert_int_equal(l1_invept(n, 1, 0x901E), VMX_SUCCEED);
	assert_int_equal(l1_invept(n, 2, 0), VMX_SUCCEED);
	assert_int_equal(n->ept02_flushes, 2);
	assert_int_equal(n->l1_exits[EXIT_REASON_INVEPT], 2);
	assert_int_equal(l1_invept(n, 0, 0), VMX_FAIL_VALID);
	assert_int_equal(l1_insn_error(n), VMXERR_INVALID_INVEPT_INVVPID);
	assert_int_equal(n->ept02_flushes, 2);
	assert_int_equal(l1_invvpid(n, 1, 1), VMX_SUCCEED);
	assert_int_equal(n->vpid02_flushes, 1);
	assert_int_equal(l1_invvpid(n, 1, 0), VMX_FAIL_VALID);
	assert_int_equal(l1_insn_error(n), 28);
	assert_int_equal(n->l1_exits[EXIT_REASON_INVVPID], 2);
	nested_fini(n);
}

/* Without shadowing: every VMREAD/VMWRITE exits, the exit state comes
 * through the cached vmcs12, GUEST_RIP reaches vmcs02 at VMRESUME. */
static void test_nested__no_shadowing(void **state)
{
	(void)state;
	struct nested_vm *n = open_nested(NESTED_SHADOW_NONE);
	assert_int_equal(l1_vmlaunch(n), VMX_SUCCEED);
	uint64_t reads = n->l1_exits[EXIT_REASON_VMREAD];
	assert_int_equal(rd(n, GUEST_RIP), VMX_GUEST_CPUID);
	assert_int_equal(n->l1_exits[EXIT_REASON_VMREAD], reads + 1);
	assert_int_equal(n->shadow_reads, 0);
	int i = vmcs_field_index(GUEST_RIP);
	assert_int_equal(l1_vmwrite(n, GUEST_RIP, VMX_GUEST_CPUID + 2), VMX_SUCCEED);
	assert_true(n->dirty[i]);
	assert_int_equal(v02(n, GUEST_RIP), VMX_GUEST_CPUID);
	assert_int_equal(l1_vmresume(n), VMX_SUCCEED);
	assert_false(n->dirty[i]);
	assert_int_equal(n->l1_regs[R_RSI], ITER - 1);
	nested_fini(n);
}

/* The whole loop: ITER CPUID exits and the HLT, each reflected to L1;
 * L1's handler does 6 VMREADs and 1 VMWRITE per CPUID exit. */
static void test_nested__run_counts(void **state)
{
	(void)state;
	char err[128] = "";
	for (int mode = NESTED_SHADOW_PKVM; mode <= NESTED_SHADOW_NONE; mode++) {
		struct nested_vm *n = open_nested(mode);
		if (nested_run(n, err, sizeof(err)))
			fail_msg("nested_run: %s", err);
		assert_int_equal(n->l2_exits, ITER + 1);
		assert_int_equal(n->l1_exits[EXIT_REASON_VMLAUNCH], 1);
		assert_int_equal(n->l1_exits[EXIT_REASON_VMRESUME], ITER);
		if (mode == NESTED_SHADOW_PKVM) {
			assert_int_equal(n->l1_exits[EXIT_REASON_VMREAD], 0);
			assert_int_equal(n->l1_exits[EXIT_REASON_VMWRITE], 0);
			assert_int_equal(n->shadow_reads, 6 * ITER + 3);
			assert_int_equal(n->shadow_writes, ITER);
		} else {
			assert_int_equal(n->l1_exits[EXIT_REASON_VMREAD], 6 * ITER + 3);
			assert_int_equal(n->l1_exits[EXIT_REASON_VMWRITE], ITER);
			assert_int_equal(n->shadow_reads, 0);
		}
		/* The guest saw the L1 hypervisor's CPUID answer. */
		uint32_t out[4];
		kvm_cpuid_values(0, 0, out);
		assert_int_equal(n->l1_regs[R_RBX], out[1]);
		assert_int_equal(n->l1_regs[R_RSI], 0);
		nested_fini(n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested__shadowed_read_no_exit),
		cmocka_unit_test(test_nested__unshadowed_from_vmcs12),
		cmocka_unit_test(test_nested__dirty_sync_and_sanitise),
		cmocka_unit_test(test_nested__vmclear_writeback),
		cmocka_unit_test(test_nested__invept_invvpid),
		cmocka_unit_test(test_nested__no_shadowing),
		cmocka_unit_test(test_nested__run_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
