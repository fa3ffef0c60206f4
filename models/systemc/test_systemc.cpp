/*
 * test_systemc: tdxsim behind its TLM-2.0 target socket (tdxsim_tlm.h).
 *
 * One SystemC initiator thread drives the whole run through the socket:
 * a SEAMCALL before VMXON (#UD), VMXON on every LP, TDH.SYS.INIT,
 * TDH.SYS.LP.INIT on every LP, TDH.SYS.CONFIG, WBINVD, TDH.SYS.KEY.CONFIG
 * per package, TDH.SYS.TDMR.INIT until every TDMR is initialised; then a
 * TD built by the test harness around guest_hlt is entered through the
 * socket (TDH.VP.ENTER) until its guest is done: ucall SYNC(1), the
 * TDVMCALL<HLT>, SYNC(2, 0), DONE. For every transaction: the exact status,
 * the cycles reported equal both the LP clock's advance and the cycles the
 * module's SEAMCALL event charged, the annotated delay is cycles x clock
 * period, and sc_time_stamp() advances by exactly that after wait(delay).
 * Malformed payloads get their TLM error response and cost nothing.
 * Exit status 0 when every check passed.
 */
#include <cstdio>
#include <cstring>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "sc_fixture.h"
#include "tdxsim_tlm.h"

using namespace sc_core;

namespace {

int failures;

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++; \
		} \
	} while (0)

#define CHECK_EQ(want, got) \
	do { \
		unsigned long long w_ = (unsigned long long)(want), g_ = (unsigned long long)(got); \
		if (w_ != g_) { \
			std::fprintf(stderr, "%s:%d: %s: expected 0x%llx, got 0x%llx\n", __FILE__, __LINE__, \
				     #got, w_, g_); \
			failures++; \
		} \
	} while (0)

constexpr uint64_t EXIT_TDVMCALL = 77;  /* TDH.VP.ENTER exit reason: TDG.VP.VMCALL */
constexpr uint64_t GHCI_HLT = 12;       /* TDVMCALL<Instruction.HLT> */
constexpr uint64_t UCALL_SYNC = 1, UCALL_DONE = 2;

struct last_event {
	uint64_t seq = ~0ULL, cycles = 0, status = 0;
};

void on_seamcall(void *user, const tdxsim_seamcall_event *ev)
{
	auto *l = static_cast<last_event *>(user);
	l->seq = ev->seq;
	l->cycles = ev->cycles;
	l->status = ev->status;
}

struct host : sc_module {
	tlm_utils::simple_initiator_socket<host> socket;
	tdxsim_sc::target &tgt;
	sc_fx *fx;
	tdxsim *sim;
	last_event ev;
	uint64_t total = 0;             /* cycles of every transaction */
	uint64_t enter_cycles = 0;      /* of the TDH.VP.ENTERs */
	bool finished = false;

	SC_HAS_PROCESS(host);
	host(sc_module_name name, tdxsim_sc::target &t, sc_fx *f)
		: sc_module(name), socket("socket"), tgt(t), fx(f), sim(sc_fx_sim(f))
	{
		SC_THREAD(run);
		set_stack_size(16u << 20);      /* TDH.VP.ENTER runs the guest on this stack */
	}

	/* One well-formed transaction; checks its timing, returns its status. */
	uint64_t issue(uint32_t op, unsigned lp, uint64_t rax, tdx_module_args &args, int line)
	{
		tdxsim_sc::transaction t{};
		t.op = op;
		t.lp = lp;
		t.rax = rax;
		t.args = args;
		t.cycles = ~0ULL;
		tlm::tlm_generic_payload gp;
		gp.set_command(tlm::TLM_WRITE_COMMAND);
		gp.set_address(0);
		gp.set_data_ptr(reinterpret_cast<unsigned char *>(&t));
		gp.set_data_length(sizeof(t));
		gp.set_streaming_width(sizeof(t));
		gp.set_byte_enable_ptr(nullptr);
		gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);

		uint64_t c0 = 0, c1 = 0, seq0 = ev.seq;
		CHECK_EQ(TDXSIM_OK, tdxsim_lp_cycles(sim, lp, &c0));
		sc_time t0 = sc_time_stamp(), delay = SC_ZERO_TIME;
		socket->b_transport(gp, delay);
		if (!gp.is_response_ok())
			std::fprintf(stderr, "line %d: response %s\n", line, gp.get_response_string().c_str());
		CHECK(gp.is_response_ok());
		CHECK(sc_time_stamp() == t0);   /* b_transport itself never waits */
		CHECK_EQ(TDXSIM_OK, tdxsim_lp_cycles(sim, lp, &c1));
		if (t.cycles != c1 - c0)
			std::fprintf(stderr, "line %d:\n", line);
		CHECK_EQ(c1 - c0, t.cycles);
		if (op == tdxsim_sc::OP_SEAMCALL) {
			/* The module's own account of this SEAMCALL. */
			CHECK_EQ(seq0 + 1, ev.seq);
			CHECK_EQ(ev.cycles, t.cycles);
			CHECK_EQ(ev.status, t.status);
			CHECK(t.cycles > 0);
		}
		CHECK_EQ(tgt.clock_period().value() * t.cycles, delay.value());
		wait(delay);
		CHECK(sc_time_stamp() - t0 == delay);
		total += t.cycles;
		args = t.args;
		return t.status;
	}

	uint64_t seamcall(unsigned lp, uint64_t rax, tdx_module_args &a, int line)
	{
		return issue(tdxsim_sc::OP_SEAMCALL, lp, rax, a, line);
	}
	uint64_t machine_op(uint32_t op, unsigned lp, int line)
	{
		tdx_module_args a{};
		return issue(op, lp, 0, a, line);
	}

	/* A malformed payload: the given response, nothing run, no time. */
	void malformed(tlm::tlm_response_status want, tlm::tlm_command cmd, uint64_t addr,
		       unsigned len, bool null_data, uint32_t op, int line)
	{
		tdxsim_sc::transaction t{};
		t.op = op;
		t.rax = TDH_SYS_RD;
		t.args.rdx = MD_SYS_MAJOR_VERSION;
		t.status = 0x1234;
		unsigned char be[sizeof(t)];
		std::memset(be, 0xFF, sizeof(be));
		tlm::tlm_generic_payload gp;
		gp.set_command(cmd);
		gp.set_address(addr);
		gp.set_data_ptr(null_data ? nullptr : reinterpret_cast<unsigned char *>(&t));
		gp.set_data_length(len);
		gp.set_streaming_width(len);
		gp.set_byte_enable_ptr(want == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE ? be : nullptr);
		gp.set_byte_enable_length(want == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE ? sizeof(be) : 0);
		gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
		uint64_t seq0 = ev.seq, c0 = 0, c1 = 0;
		tdxsim_lp_cycles(sim, 0, &c0);
		sc_time delay = SC_ZERO_TIME;
		socket->b_transport(gp, delay);
		tdxsim_lp_cycles(sim, 0, &c1);
		if (gp.get_response_status() != want)
			std::fprintf(stderr, "line %d: response %s\n", line, gp.get_response_string().c_str());
		CHECK(gp.get_response_status() == want);
		CHECK(delay == SC_ZERO_TIME);
		CHECK_EQ(seq0, ev.seq);         /* no SEAMCALL issued */
		CHECK_EQ(c0, c1);
		CHECK_EQ(0x1234, t.status);
	}

	void bringup()
	{
		unsigned n_lps = sc_fx_n_lps(fx), n_pkgs = sc_fx_n_pkgs(fx);
		tdx_module_args a{};
		/* Outside VMX operation a SEAMCALL is #UD. */
		CHECK_EQ(TDX_SEAMCALL_UD, seamcall(0, TDH_SYS_INIT, a, __LINE__));
		for (unsigned lp = 0; lp < n_lps; lp++)
			CHECK_EQ(TDXSIM_OK, machine_op(tdxsim_sc::OP_VMX_GET, lp, __LINE__));
		unsigned refs = 0;
		CHECK_EQ(TDXSIM_OK, tdxsim_vmx_refcount(sim, n_lps - 1, &refs));
		CHECK_EQ(1, refs);
		a = tdx_module_args{};
		CHECK_EQ(TDX_SUCCESS, seamcall(0, TDH_SYS_INIT, a, __LINE__));
		for (unsigned lp = 0; lp < n_lps; lp++) {
			a = tdx_module_args{};
			CHECK_EQ(TDX_SUCCESS, seamcall(lp, TDH_SYS_LP_INIT, a, __LINE__));
		}
		a = tdx_module_args{};
		a.rcx = sc_fx_tdmr_array(fx);
		a.rdx = sc_fx_n_tdmrs(fx);
		a.r8 = sc_fx_first_keyid(fx);
		CHECK_EQ(TDX_SUCCESS, seamcall(0, TDH_SYS_CONFIG, a, __LINE__));
		CHECK(tdxsim_module_state(sim) == TDX_SYSCONFIG_DONE);
		uint64_t wb0 = 0, wb1 = 0;
		tdxsim_wbinvd_count(sim, 0, &wb0);
		for (unsigned lp = 0; lp < n_lps; lp++)
			CHECK_EQ(TDXSIM_OK, machine_op(tdxsim_sc::OP_WBINVD, lp, __LINE__));
		tdxsim_wbinvd_count(sim, 0, &wb1);
		CHECK_EQ(wb0 + 1, wb1);
		for (unsigned p = 0; p < n_pkgs; p++) {
			a = tdx_module_args{};
			CHECK_EQ(TDX_SUCCESS, seamcall(p * (n_lps / n_pkgs), TDH_SYS_KEY_CONFIG, a, __LINE__));
		}
		CHECK(tdxsim_module_state(sim) == TDX_SYS_READY);
		unsigned tdmr_inits = 0;
		for (unsigned i = 0; i < sc_fx_n_tdmrs(fx); i++) {
			uint64_t next = sc_fx_tdmr_base(fx, i);
			while (next < sc_fx_tdmr_end(fx, i) && failures == 0) {
				a = tdx_module_args{};
				a.rcx = sc_fx_tdmr_base(fx, i);
				CHECK_EQ(TDX_SUCCESS, seamcall(0, TDH_SYS_TDMR_INIT, a, __LINE__));
				CHECK(a.rdx >= next);     /* next GiB to initialise */
				next = a.rdx;
				tdmr_inits++;
			}
		}
		CHECK(tdmr_inits > 0);
		/* The module answers metadata reads: READY. */
		a = tdx_module_args{};
		a.rdx = MD_SYS_MAJOR_VERSION;
		CHECK_EQ(TDX_SUCCESS, seamcall(0, TDH_SYS_RD, a, __LINE__));
		tdxsim_info info{};
		info.size = sizeof(info);
		tdxsim_info_get(sim, &info);
		CHECK_EQ(info.module_major, a.r8);
		std::printf("bring-up: %u TDMR.INIT calls, %llu cycles, sc_time %s\n", tdmr_inits,
			    (unsigned long long)total, sc_time_stamp().to_string().c_str());
	}

	/* TDH.VP.ENTER through the socket: the exit must be a TDVMCALL. */
	uint64_t enter(uint64_t tdvpr, tdx_module_args &a, int line)
	{
		a.rcx = tdvpr;
		uint64_t before = total;
		uint64_t st = seamcall(sc_fx_vcpu_lp(fx), TDH_VP_ENTER, a, line);
		CHECK_EQ(TDX_SUCCESS | EXIT_TDVMCALL, st);
		enter_cycles += total - before;
		return st;
	}

	void td_exit()
	{
		uint64_t tdvpr = sc_fx_td(fx, "guest_hlt", 0);
		uint64_t args[2] = { ~0ULL, ~0ULL };
		tdx_module_args a{};
		/* SYNC(1): the guest's first TD exit. */
		enter(tdvpr, a, __LINE__);
		CHECK_EQ(UCALL_SYNC, sc_fx_ucall(fx, &a, args));
		CHECK_EQ(1, args[0]);
		/* Resume (R10 = 0: success): TDVMCALL<HLT>. */
		a.r10 = 0;
		enter(tdvpr, a, __LINE__);
		CHECK_EQ(0, a.r10);
		CHECK_EQ(GHCI_HLT, a.r11);
		CHECK_EQ(0, sc_fx_ucall(fx, &a, args));
		/* Resume the halted guest: SYNC(2, 0), then DONE. */
		a.r10 = 0;
		enter(tdvpr, a, __LINE__);
		CHECK_EQ(UCALL_SYNC, sc_fx_ucall(fx, &a, args));
		CHECK_EQ(2, args[0]);
		CHECK_EQ(0, args[1]);
		a.r10 = 0;
		enter(tdvpr, a, __LINE__);
		CHECK_EQ(UCALL_DONE, sc_fx_ucall(fx, &a, args));
		std::printf("TD: 4 TDH.VP.ENTER, %llu cycles\n", (unsigned long long)enter_cycles);
	}

	void run()
	{
		unsigned hook = 0;
		CHECK_EQ(TDXSIM_OK, tdxsim_hook_seamcall(sim, on_seamcall, &ev, &hook));
		malformed(tlm::TLM_COMMAND_ERROR_RESPONSE, tlm::TLM_READ_COMMAND, 0,
			  sizeof(tdxsim_sc::transaction), false, tdxsim_sc::OP_SEAMCALL, __LINE__);
		malformed(tlm::TLM_ADDRESS_ERROR_RESPONSE, tlm::TLM_WRITE_COMMAND, 8,
			  sizeof(tdxsim_sc::transaction), false, tdxsim_sc::OP_SEAMCALL, __LINE__);
		malformed(tlm::TLM_BURST_ERROR_RESPONSE, tlm::TLM_WRITE_COMMAND, 0,
			  sizeof(tdxsim_sc::transaction) - 8, false, tdxsim_sc::OP_SEAMCALL, __LINE__);
		malformed(tlm::TLM_BURST_ERROR_RESPONSE, tlm::TLM_WRITE_COMMAND, 0,
			  sizeof(tdxsim_sc::transaction), true, tdxsim_sc::OP_SEAMCALL, __LINE__);
		malformed(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE, tlm::TLM_WRITE_COMMAND, 0,
			  sizeof(tdxsim_sc::transaction), false, tdxsim_sc::OP_SEAMCALL, __LINE__);
		malformed(tlm::TLM_COMMAND_ERROR_RESPONSE, tlm::TLM_WRITE_COMMAND, 0,
			  sizeof(tdxsim_sc::transaction), false, 99, __LINE__);
		CHECK(sc_time_stamp() == SC_ZERO_TIME);

		bringup();
		if (failures == 0)
			td_exit();

		/* All simulated time came from the transactions. */
		CHECK_EQ(total, tgt.cycles_charged());
		CHECK_EQ(tgt.clock_period().value() * total, sc_time_stamp().value());
		CHECK(enter_cycles > 0);
		tdxsim_hook_remove(sim, hook);
		std::printf("total: %llu transactions, %llu cycles, clock period %s, sc_time %s\n",
			    (unsigned long long)tgt.transactions(), (unsigned long long)total,
			    tgt.clock_period().to_string().c_str(), sc_time_stamp().to_string().c_str());
		finished = true;
		sc_stop();
	}
};

} /* namespace */

int sc_main(int, char *[])
{
	sc_fx *fx = sc_fx_new();
	tdxsim_sc::target tgt("tdxsim", sc_fx_sim(fx));
	host h("host", tgt, fx);
	h.socket.bind(tgt.socket);
	/* The default period: one cycle of the platform's nominal frequency. */
	tdxsim_info info{};
	info.size = sizeof(info);
	tdxsim_info_get(sc_fx_sim(fx), &info);
	CHECK(tgt.clock_period() == sc_time(1.0e6 / info.platform->tsc_mhz, SC_PS));
	CHECK(tgt.clock_period() > SC_ZERO_TIME);
	sc_start();
	CHECK(h.finished);
	sc_fx_free(fx);
	if (failures) {
		std::fprintf(stderr, "test_systemc: %d check(s) failed\n", failures);
		return 1;
	}
	std::printf("test_systemc: OK\n");
	return 0;
}
