/*
 * The five VM-entry paths (vmx/paths.c): the guest loop runs N iterations
 * with exactly N CPUID-type exits on each; the VMX guest exits at the
 * CPUID with the SDM's exit information; cycle counts are deterministic
 * and ordered vmx < nested_shadowed < nested_unshadowed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/paths.h"

#define N 9

static void test_vmx_paths__exit_information(void **state)
{
	(void)state;
	char err[128] = "";
	struct vmx_vm vm;
	if (vmx_vm_init(&vm, N, vmx_costs_for(NULL), err, sizeof(err)))
		fail_msg("vmx_vm_init: %s", err);
	assert_int_equal(vmx_entry_check(&vm.cpu, false), VMX_SUCCEED);
	assert_int_equal(vmx_guest_run(vm.g, &vm.mem, vm.vmcs_pa), EXIT_REASON_CPUID);
	/* Fault-like: RIP at the CPUID, length 2, nothing executed past it. */
	assert_int_equal(vmcs_get(&vm.mem, vm.vmcs_pa, GUEST_RIP), VMX_GUEST_CPUID);
	assert_int_equal(vmcs_get(&vm.mem, vm.vmcs_pa, VM_EXIT_REASON), EXIT_REASON_CPUID);
	assert_int_equal(vmcs_get(&vm.mem, vm.vmcs_pa, VM_EXIT_INSTRUCTION_LEN), 2);
	assert_int_equal(vmcs_get(&vm.mem, vm.vmcs_pa, EXIT_QUALIFICATION), 0);
	assert_int_equal(vmx_guest_regs(vm.g)[R_RSI], N);
	assert_int_equal(vmx_guest_insns(vm.g), 3);             /* mov, xor, xor */
	/* Entering again without advancing RIP exits at the same CPUID,
	 * with the loop counter unchanged. */
	assert_int_equal(vmx_guest_run(vm.g, &vm.mem, vm.vmcs_pa), EXIT_REASON_CPUID);
	assert_int_equal(vmcs_get(&vm.mem, vm.vmcs_pa, GUEST_RIP), VMX_GUEST_CPUID);
	assert_int_equal(vmx_guest_regs(vm.g)[R_RSI], N);
	/* Advanced: one more iteration. */
	vmcs_set(&vm.mem, vm.vmcs_pa, GUEST_RIP, VMX_GUEST_CPUID + 2);
	assert_int_equal(vmx_guest_run(vm.g, &vm.mem, vm.vmcs_pa), EXIT_REASON_CPUID);
	assert_int_equal(vmx_guest_regs(vm.g)[R_RSI], N - 1);
	assert_int_equal(vmx_guest_insns(vm.g), 3 + VMX_GUEST_LOOP_INSNS);
	vmx_vm_fini(&vm);
}

static void test_vmx_paths__vmx_run(void **state)
{
	(void)state;
	char err[128] = "";
	struct vmx_vm vm;
	if (vmx_vm_init(&vm, N, vmx_costs_for(NULL), err, sizeof(err)))
		fail_msg("vmx_vm_init: %s", err);
	if (vmx_vm_run(&vm, err, sizeof(err)))
		fail_msg("vmx_vm_run: %s", err);
	assert_int_equal(vm.cpuid_exits, N);
	assert_int_equal(vm.exits, N + 1);                       /* + the HLT */
	assert_int_equal(vm.entries, N + 1);
	uint32_t out[4];
	kvm_cpuid_values(0, 0, out);
	uint64_t *r = vmx_guest_regs(vm.g);
	assert_int_equal(r[R_RAX], out[0]);
	assert_int_equal(r[R_RBX], out[1]);
	assert_int_equal(r[R_RSI], 0);
	assert_int_equal(vmcs_get(&vm.mem, vm.vmcs_pa, GUEST_RIP), VMX_GUEST_HLT);
	/* Guest instructions: mov + 4 per iteration. */
	assert_int_equal(vmx_guest_insns(vm.g), 1 + (uint64_t)VMX_GUEST_LOOP_INSNS * N);
	assert_int_equal(vm.clk.cat[VMX_CAT_HW],
			 (uint64_t)(N + 1) * (vm.cpu.k->vmexit + vm.cpu.k->vmentry));
	vmx_vm_fini(&vm);
}

/* N iterations -> N exits on every path, the TD ones included. */
static void test_vmx_paths__exits_per_path(void **state)
{
	(void)state;
	char err[160] = "";
	const struct vmx_costs *k = vmx_costs_for(NULL);
	struct td_path *td = td_path_open(k, err, sizeof(err));
	if (!td)
		fail_msg("td_path_open: %s", err);
	for (int p = 0; p < PATH_N; p++) {
		struct path_sample s;
		if (path_sample_run(p, N, td, k, &s, err, sizeof(err)))
			fail_msg("%s: %s", vmx_path_names[p], err);
		assert_int_equal(s.exits, N);
		assert_true(s.clk.total > 0);
	}
	/* The TDVMCALL loop: one host-handled exit per iteration, one entry
	 * each plus the one that starts the loop. */
	struct td_path_result r;
	if (td_path_run(td, TD_LOOP_TDVMCALL, N, &r, err, sizeof(err)))
		fail_msg("td_path_run: %s", err);
	assert_int_equal(r.tdvmcall_exits, N);
	assert_int_equal(r.entries, N + 1 + r.other_exits);
	/* KVM's share: a TD exit + CPUID per iteration, a TD exit for the
	 * final request (and any interrupt exit). */
	assert_int_equal(r.host_cycles, (uint64_t)N * td_path_host_cycles(td, true) +
			 (1 + r.other_exits) * td_path_host_cycles(td, false));
	assert_true(td_path_host_cycles(td, true) > td_path_host_cycles(td, false));
	/* The module-handled loop: no exit to the host at all. */
	if (td_path_run(td, TD_LOOP_CPUID, N, &r, err, sizeof(err)))
		fail_msg("td_path_run: %s", err);
	assert_int_equal(r.tdvmcall_exits, 0);
	assert_int_equal(r.entries, 1 + r.other_exits);
	assert_true(r.report != 0);                             /* the TD's CPUID(0).EBX */
	td_path_close(td);
}

/* Same inputs, same cycles; the legacy and nested paths in order. */
static void test_vmx_paths__ordering_deterministic(void **state)
{
	(void)state;
	char err[160] = "";
	const struct vmx_costs *k = vmx_costs_for(NULL);
	struct path_result a[3], b[3];
	for (int p = 0; p < 3; p++) {
		if (path_measure(p, 20, NULL, k, &a[p], err, sizeof(err)) ||
		    path_measure(p, 20, NULL, k, &b[p], err, sizeof(err)))
			fail_msg("%s: %s", vmx_path_names[p], err);
		assert_true(a[p].cycles == b[p].cycles);
		double sum = 0;
		for (int c = 0; c < VMX_CAT_N; c++) {
			assert_true(a[p].cat[c] == b[p].cat[c]);
			sum += a[p].cat[c];
		}
		assert_true(sum == a[p].cycles);
	}
	assert_true(a[PATH_VMX].cycles < a[PATH_NESTED_SHADOWED].cycles);
	assert_true(a[PATH_NESTED_SHADOWED].cycles < a[PATH_NESTED_UNSHADOWED].cycles);
	/* Where the difference comes from: shadowed VMREAD/VMWRITE cost less
	 * than the exits of the unshadowed ones; only nesting syncs VMCSs. */
	assert_true(a[PATH_VMX].cat[VMX_CAT_SYNC] == 0);
	assert_true(a[PATH_NESTED_SHADOWED].cat[VMX_CAT_HW] < a[PATH_NESTED_UNSHADOWED].cat[VMX_CAT_HW]);
	assert_true(a[PATH_VMX].cat[VMX_CAT_GUEST] == VMX_GUEST_LOOP_INSNS * k->guest_insn);
}

/* The TD paths are deterministic too (the simulator's LP clock). */
static void test_vmx_paths__td_deterministic(void **state)
{
	(void)state;
	char err[160] = "";
	const struct vmx_costs *k = vmx_costs_for(NULL);
	struct path_result a[2], b[2];
	for (int i = 0; i < 2; i++) {
		struct td_path *td = td_path_open(k, err, sizeof(err));
		if (!td)
			fail_msg("td_path_open: %s", err);
		struct path_result *o = i ? b : a;
		if (path_measure(PATH_TD_MODULE, 16, td, k, &o[0], err, sizeof(err)) ||
		    path_measure(PATH_TD_TDVMCALL, 16, td, k, &o[1], err, sizeof(err)))
			fail_msg("%s", err);
		td_path_close(td);
	}
	for (int p = 0; p < 2; p++) {
		assert_true(a[p].cycles == b[p].cycles);
		assert_true(a[p].cat[VMX_CAT_SEAM] == b[p].cat[VMX_CAT_SEAM]);
	}
	assert_true(a[1].cat[VMX_CAT_HOST] > 0);
	assert_true(a[0].cat[VMX_CAT_HOST] == 0);
	assert_true(a[1].cycles > a[1].cat[VMX_CAT_HOST]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmx_paths__exit_information),
		cmocka_unit_test(test_vmx_paths__vmx_run),
		cmocka_unit_test(test_vmx_paths__exits_per_path),
		cmocka_unit_test(test_vmx_paths__ordering_deterministic),
		cmocka_unit_test(test_vmx_paths__td_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
