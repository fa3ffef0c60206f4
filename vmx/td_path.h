/*
 * The two TD paths of the VM-entry comparison, through tdxsim's public API
 * (plus the timing model's KVM host hook, below): a 2 GiB machine brought
 * up to READY, one TD with one vCPU whose private code page holds a
 * hand-assembled guest (boot to long mode, then a service loop), driven
 * with TDH.VP.ENTER on LP 0.
 *
 * The guest asks for work with TDG.VP.VMCALL (R11 = TD_PATH_MARK): the
 * host answers R11 = iterations, R12 = mode, and the guest runs
 *   TD_LOOP_CPUID     xor eax,eax; xor ecx,ecx; cpuid; dec rsi; jnz
 *                     (leaf 0: answered by the module, no TD exit)
 *   TD_LOOP_TDVMCALL  TDG.VP.VMCALL<Instruction.CPUID>(leaf 0) per
 *                     iteration: a TD exit to the host, which answers and
 *                     enters again
 *   TD_LOOP_NOP       the CPUID loop with a 2-byte NOP for the CPUID (the
 *                     guest instructions alone)
 * then asks again, reporting EBX of its last CPUID in R12.
 *
 * KVM's share of every TD exit is charged to the LP clock by the timing
 * model's host hook (models/kvm_host.h, an internal header: link the
 * static library).
 */
#ifndef VMX_TD_PATH_H
#define VMX_TD_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vmx_costs.h"

#define TD_PATH_MARK 0x7D000001u

enum td_loop { TD_LOOP_CPUID, TD_LOOP_TDVMCALL, TD_LOOP_NOP };

struct td_path;

struct td_path_result {
	uint64_t lp_cycles;             /* tdxsim_lp_cycles delta: SEAMCALLs, module, guest, host */
	uint64_t host_cycles;           /* of which KVM's share (models/kvm_host.h) */
	uint64_t entries;               /* TDH.VP.ENTER calls */
	uint64_t tdvmcall_exits;        /* TDVMCALL<CPUID> exits handled by the host */
	uint64_t other_exits;           /* budget/interrupt exits re-entered */
	uint32_t report;                /* EBX of the guest's last CPUID */
	double wall_ns;
};

struct td_path *td_path_open(const struct vmx_costs *k, char *err, size_t errlen);
int td_path_run(struct td_path *t, enum td_loop mode, uint32_t iterations,
		struct td_path_result *r, char *err, size_t errlen);
void td_path_close(struct td_path *t);
/* KVM's share of one TD exit (HOST_TD_EXIT), plus HOST_CPUID for a
 * TDVMCALL<CPUID> (models/cost_table.def). */
uint64_t td_path_host_cycles(const struct td_path *t, bool cpuid);

#endif
