/*
 * tdxsim as a SystemC TLM-2.0 target (loosely timed, blocking transport).
 *
 * An initiator issues SEAMCALLs (and the few machine operations a host needs
 * around them: VMXON/VMXOFF, WBINVD) as tlm_generic_payload transactions on
 * tdxsim_sc::target::socket. The payload's data pointer points at one
 * tdxsim_sc::transaction:
 *
 *   command        TLM_WRITE_COMMAND (the initiator writes a request; the
 *                  target writes the results back into the same buffer)
 *   address        0
 *   data_ptr       (unsigned char *)&transaction
 *   data_length    sizeof(tdxsim_sc::transaction), streaming width the same
 *   byte_enable    none
 *
 * b_transport runs the operation on the simulator at once (it never calls
 * wait()) and adds to the annotated delay the simulated cycles it cost on
 * that LP (the LP clock's advance, tdxsim_lp_cycles) times clock_period().
 * An initiator that wait()s for the returned delay (or whose quantum keeper
 * does) sees sc_time_stamp() advance by exactly cycles * clock_period().
 *
 * The response status says whether the transaction was well formed
 * (TLM_OK_RESPONSE: the operation ran; the TDX status is in
 * transaction::status, whatever it is). A malformed payload gets
 * TLM_COMMAND_ERROR_RESPONSE (command or op), TLM_ADDRESS_ERROR_RESPONSE
 * (address), TLM_BURST_ERROR_RESPONSE (data pointer, length or streaming
 * width) or TLM_BYTE_ENABLE_ERROR_RESPONSE, and nothing runs.
 *
 * Stack: b_transport runs on the initiator's SC_THREAD stack, and
 * TDH.VP.ENTER runs the guest (Unicorn) on it: give that thread a large
 * stack (sc_spawn_options::set_stack_size or set_stack_size() after
 * SC_THREAD; 8 MiB is ample), the default 64 KiB is not enough.
 *
 * See docs/systemc.md.
 */
#ifndef TDXSIM_TLM_H
#define TDXSIM_TLM_H

#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "tdxsim/tdxsim.h"

namespace tdxsim_sc {

/* What a transaction does (transaction::op). */
enum op : uint32_t {
	OP_SEAMCALL = 0,        /* tdxsim_seamcall(lp, rax, &args) */
	OP_VMX_GET = 1,         /* tdxsim_vmx_get(lp): VMXON on the first reference */
	OP_VMX_PUT = 2,         /* tdxsim_vmx_put(lp): VMXOFF on the last */
	OP_WBINVD = 3,          /* tdxsim_wbinvd(lp) */
};

/* The payload: what tlm_generic_payload's data pointer points at. */
struct transaction {
	uint32_t op;                    /* in: tdxsim_sc::op */
	uint32_t lp;                    /* in: logical processor */
	uint64_t rax;                   /* in: SEAMCALL leaf and version (RAX) */
	struct tdx_module_args args;    /* in: RCX..R15; out: as the SEAMCALL left them */
	uint64_t status;                /* out: RAX after the SEAMCALL (TDX status, or a
					   TDXSIM_SW_* status for a bad LP); for the other
					   ops the tdxsim_err */
	uint64_t cycles;                /* out: cycles the LP's clock advanced */
};

class target : public sc_core::sc_module {
public:
	tlm_utils::simple_target_socket<target> socket;

	/*
	 * sim stays the caller's (not closed here). The clock period defaults
	 * to one cycle of the platform's nominal TSC frequency (tsc_mhz: the
	 * base core frequency on these Xeons), rounded to the kernel's time
	 * resolution (1 ps by default: 476 ps for 2100 MHz, 500 ps for 2000
	 * MHz); pass period to choose another.
	 */
	target(sc_core::sc_module_name name, tdxsim *sim);
	target(sc_core::sc_module_name name, tdxsim *sim, const sc_core::sc_time &period);

	tdxsim *sim() const { return sim_; }
	const sc_core::sc_time &clock_period() const { return period_; }
	sc_core::sc_time cycles_to_time(uint64_t cycles) const;
	/* Totals over the transactions this target ran. */
	uint64_t transactions() const { return transactions_; }
	uint64_t cycles_charged() const { return cycles_; }

	/* The default period for a simulator (see the constructor). */
	static sc_core::sc_time default_period(tdxsim *sim);

private:
	void b_transport(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay);
	unsigned int transport_dbg(tlm::tlm_generic_payload &gp);

	tdxsim *sim_;
	sc_core::sc_time period_;
	uint64_t transactions_ = 0;
	uint64_t cycles_ = 0;
};

} /* namespace tdxsim_sc */

#endif
