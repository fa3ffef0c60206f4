/*
 * tdxsim as a SystemC TLM-2.0 target: see tdxsim_tlm.h and docs/systemc.md.
 */
#include "tdxsim_tlm.h"

namespace tdxsim_sc {

sc_core::sc_time target::default_period(tdxsim *sim)
{
	tdxsim_info info{};
	info.size = sizeof(info);
	uint32_t mhz = 0;
	if (sim && tdxsim_info_get(sim, &info) == TDXSIM_OK && info.platform)
		mhz = info.platform->tsc_mhz;
	if (!mhz)
		SC_REPORT_FATAL("tdxsim_sc::target", "no platform TSC frequency: pass a clock period");
	/* Rounded to the time resolution by sc_time. */
	return sc_core::sc_time(1.0e6 / mhz, sc_core::SC_PS);
}

target::target(sc_core::sc_module_name name, tdxsim *sim)
	: target(name, sim, default_period(sim))
{
}

target::target(sc_core::sc_module_name name, tdxsim *sim, const sc_core::sc_time &period)
	: sc_core::sc_module(name), socket("socket"), sim_(sim), period_(period)
{
	if (!sim_)
		SC_REPORT_FATAL("tdxsim_sc::target", "tdxsim handle is NULL");
	if (period_ == sc_core::SC_ZERO_TIME)
		SC_REPORT_FATAL("tdxsim_sc::target", "clock period rounds to zero at this time resolution");
	socket.register_b_transport(this, &target::b_transport);
	socket.register_transport_dbg(this, &target::transport_dbg);
}

sc_core::sc_time target::cycles_to_time(uint64_t cycles) const
{
	/* Integer arithmetic on the resolution's units: exact, no rounding. */
	return sc_core::sc_time::from_value(period_.value() * cycles);
}

void target::b_transport(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay)
{
	if (gp.get_command() != tlm::TLM_WRITE_COMMAND) {
		gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
		return;
	}
	if (gp.get_address() != 0) {
		gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
		return;
	}
	if (!gp.get_data_ptr() || gp.get_data_length() != sizeof(transaction) ||
	    gp.get_streaming_width() != sizeof(transaction)) {
		gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
		return;
	}
	if (gp.get_byte_enable_ptr()) {
		gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
		return;
	}
	auto *t = reinterpret_cast<transaction *>(gp.get_data_ptr());
	if (t->op > OP_WBINVD) {
		gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
		return;
	}

	uint64_t before = 0, after = 0;
	bool clocked = tdxsim_lp_cycles(sim_, t->lp, &before) == TDXSIM_OK;
	switch (t->op) {
	case OP_SEAMCALL:
		t->status = tdxsim_seamcall(sim_, t->lp, t->rax, &t->args);
		break;
	case OP_VMX_GET:
		t->status = tdxsim_vmx_get(sim_, t->lp);
		break;
	case OP_VMX_PUT:
		t->status = tdxsim_vmx_put(sim_, t->lp);
		break;
	case OP_WBINVD:
		t->status = tdxsim_wbinvd(sim_, t->lp);
		break;
	}
	/* A bad LP has no clock: nothing charged. */
	if (clocked && tdxsim_lp_cycles(sim_, t->lp, &after) == TDXSIM_OK && after >= before)
		t->cycles = after - before;
	else
		t->cycles = 0;
	transactions_++;
	cycles_ += t->cycles;
	delay += cycles_to_time(t->cycles);
	gp.set_dmi_allowed(false);
	gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

/* Debug transport: simulated physical memory through KeyID 0 (address = PA,
 * no KeyID bits), as tdxsim_mem_read/tdxsim_mem_write see it. Returns the
 * bytes transferred (0 on any error). */
unsigned int target::transport_dbg(tlm::tlm_generic_payload &gp)
{
	unsigned char *p = gp.get_data_ptr();
	unsigned int len = gp.get_data_length();
	tdxsim_err err = TDXSIM_ERR_ARG;
	if (p && len) {
		if (gp.get_command() == tlm::TLM_READ_COMMAND)
			err = tdxsim_mem_read(sim_, gp.get_address(), 0, p, len);
		else if (gp.get_command() == tlm::TLM_WRITE_COMMAND)
			err = tdxsim_mem_write(sim_, gp.get_address(), 0, p, len);
	}
	gp.set_response_status(err == TDXSIM_OK ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
	return err == TDXSIM_OK ? len : 0;
}

} /* namespace tdxsim_sc */
