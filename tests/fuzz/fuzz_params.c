/*
 * libFuzzer target: the module's parsing of the structures it reads from
 * host memory, TD_PARAMS (TDH.MNG.INIT) and TDMR_INFO (TDH.SYS.CONFIG),
 * written at the PA the leaf reads.
 *
 * Input: byte 0 bit 0 picks the structure, bit 1 how the bytes apply:
 *   set   the rest of the input overwrites the structure from its start
 *         (TD_PARAMS: 1024 bytes; TDMR_INFO: the TDMR count byte, then the
 *         TDMR_INFO entries, 320 bytes each, then the array of their PAs)
 *   clear patches to a valid structure (as KVM / Linux build it): records
 *         of (offset: 2 bytes, width: 1 byte (1, 2, 4 or 8), value: width
 *         bytes) until the input ends; for TDMR_INFO the offset runs over
 *         all entries (entry = offset / 320) and offset 0xFFFF sets the
 *         TDMR count (next byte) and 0xFFFE the KeyID (next byte)
 * TD_PARAMS: a TD with its TDCS added receives TDH.MNG.INIT; on success a
 * vCPU is created and initialised and the TD finalised (any status).
 * TDMR_INFO: after SYS.INIT and LP.INIT everywhere, TDH.SYS.CONFIG; on
 * success KEY.CONFIG on each package and TDMR.INIT of every TDMR (bounded),
 * then a TD is created if the module is READY. Invariants after each call.
 */
#include "fuzz_common.h"

static void patches(struct fz_in *in, uint8_t *buf, size_t len)
{
	while (fz_left(in)) {
		uint16_t off = fz_u16(in);
		unsigned w = 1u << (fz_u8(in) & 3);
		uint64_t v = 0;
		for (unsigned i = 0; i < w; i++)
			v |= (uint64_t)fz_u8(in) << (8 * i);
		if (off + w <= len)
			memcpy(buf + off, &v, w);
	}
}

static uint64_t call(tdxsim *s, unsigned lp, uint64_t fn, struct tdx_module_args *a, const char *what)
{
	uint64_t st = tdxsim_seamcall(s, lp, fn, a);
	fz_check(s, what);
	return st;
}

/* Prepared states: a TD with its TDCS (TD_PARAMS), a module before
 * SYS.CONFIG (TDMR_INFO). */
static struct fz_prep prep[2];
static struct {
	struct tsim_env e;
	struct tsim_td td;
} tdx;
static struct {
	struct tsim_tdmrs t;
	tdxsim_info info;
} sysx;

static void td_params_case(struct fz_in *in, int raw)
{
	tdxsim *s = fz_prep_restore(&prep[0], &tdx, sizeof(tdx));
	if (!s) {
		tdxsim_config cfg;
		fz_config(&cfg);
		memset(&tdx, 0, sizeof(tdx));
		tsim_env_init_cfg(&tdx.e, &cfg);
		tsim_td_create(&tdx.e, &tdx.td);
		tsim_td_addcx(&tdx.td);
		s = tdx.e.s;
		fz_prep_keep(&prep[0], s, &tdx, sizeof(tdx));
	}
	struct tsim_env e = tdx.e;
	struct tsim_td td = tdx.td;
	td.e = &e;
	struct tdx_td_params p;
	tsim_td_params(&e, &p, 0, 2);
	if (raw)
		fz_bytes(in, &p, sizeof(p));
	else
		patches(in, (uint8_t *)&p, sizeof(p));
	TSIM_CHECK_OK(tdxsim_mem_write(e.s, td.shared, 0, &p, sizeof(p)));
	struct tdx_module_args a = { .rcx = td.tdr, .rdx = td.shared };
	uint64_t st = call(e.s, 0, TDH_MNG_INIT, &a, "TDH.MNG.INIT");
	if (st == TDX_SUCCESS) {
		/* A vCPU with raw calls: the params may make VP.INIT fail. */
		uint64_t tdvpr = tsim_page(&e);
		struct tdx_module_args v = { .rcx = tdvpr, .rdx = td.tdr };
		if (call(e.s, 0, TDH_VP_CREATE, &v, "TDH.VP.CREATE") == TDX_SUCCESS) {
			for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++) {
				struct tdx_module_args x = { .rcx = tdvpr, .rdx = tsim_page(&e) };
				call(e.s, 0, TDH_VP_ADDCX, &x, "TDH.VP.ADDCX");
			}
			struct tdx_module_args vi = { .rcx = tdvpr, .rdx = 0, .r8 = 0 };
			call(e.s, 0, TDH_VP_INIT | (1ULL << TDX_VERSION_SHIFT), &vi, "TDH.VP.INIT");
		}
		struct tdx_module_args f = { .rcx = td.tdr };
		call(e.s, 0, TDH_MR_FINALIZE, &f, "TDH.MR.FINALIZE");
		struct tdx_module_args en = { .rcx = tdvpr };
		call(e.s, 0, TDH_VP_ENTER, &en, "TDH.VP.ENTER");
	}
	fz_prep_done(&prep[0], s);
}

static void tdmr_case(struct fz_in *in, int raw)
{
	tdxsim *s = fz_prep_restore(&prep[1], &sysx, sizeof(sysx));
	if (!s) {
		tdxsim_config cfg;
		fz_config(&cfg);
		s = tsim_create(&cfg);
		tsim_vmxon_all(s);
		tsim_sys_init(s);
		tsim_lp_init_all(s);
		tsim_build_tdmrs(s, &sysx.t);
		sysx.info = (tdxsim_info){ .size = sizeof(sysx.info) };
		TSIM_CHECK_OK(tdxsim_info_get(s, &sysx.info));
		fz_prep_keep(&prep[1], s, &sysx, sizeof(sysx));
	}
	struct tsim_tdmrs t = sysx.t;
	tdxsim_info info = sysx.info;
	uint64_t n = t.n, keyid = info.first_tdx_keyid;
	uint64_t array[TDX_MAX_TDMRS] = { 0 };
	for (unsigned i = 0; i < t.n; i++)
		array[i] = t.info_pa[i];
	if (raw) {
		n = fz_u8(in) % (TDX_MAX_TDMRS + 2);
		fz_bytes(in, t.info, sizeof(t.info[0]) * (n < t.n ? n : t.n));
		fz_bytes(in, array, sizeof(array));
	} else {
		while (fz_left(in)) {
			uint16_t off = fz_u16(in);
			if (off == 0xFFFF) {
				n = fz_u8(in) % (TDX_MAX_TDMRS + 2);
				continue;
			}
			if (off == 0xFFFE) {
				keyid = fz_u8(in);
				continue;
			}
			unsigned w = 1u << (fz_u8(in) & 3);
			uint64_t v = 0;
			for (unsigned i = 0; i < w; i++)
				v |= (uint64_t)fz_u8(in) << (8 * i);
			unsigned entry = off / sizeof(t.info[0]), o = off % sizeof(t.info[0]);
			if (entry < t.n && o + w <= sizeof(t.info[0]))
				memcpy((uint8_t *)&t.info[entry] + o, &v, w);
			else if (entry == t.n && o < sizeof(array) && o + w <= sizeof(array))
				memcpy((uint8_t *)array + o, &v, w);
		}
	}
	tsim_write_tdmrs(s, &t);
	TSIM_CHECK_OK(tdxsim_mem_write(s, t.array_pa, 0, array, sizeof(array)));
	struct tdx_module_args a = { .rcx = t.array_pa, .rdx = n, .r8 = keyid };
	if (call(s, 0, TDH_SYS_CONFIG, &a, "TDH.SYS.CONFIG") == TDX_SUCCESS) {
		for (unsigned p = 0; p < info.packages; p++) {
			struct tdx_module_args k = { 0 };
			call(s, tsim_pkg_first_lp(s, p), TDH_SYS_KEY_CONFIG, &k, "TDH.SYS.KEY.CONFIG");
		}
		/* TDMR.INIT of each configured TDMR base, 4 MiB a call: bounded. */
		unsigned budget = 2048;
		for (unsigned i = 0; i < n && i < TDX_MAX_TDMRS; i++) {
			uint64_t base = i < t.n ? t.info[i].base : 0;
			for (; budget; budget--) {
				struct tdx_module_args ti = { .rcx = base };
				if (call(s, 0, TDH_SYS_TDMR_INIT, &ti, "TDH.SYS.TDMR.INIT") != TDX_SUCCESS)
					break;
			}
		}
		if (tdxsim_module_state(s) == TDX_SYS_READY) {
			/* A TD in the first TDMR's memory, if it is there. */
			uint64_t tdr = t.info[0].base + (256ULL << 20);
			struct tdx_module_args c = { .rcx = tdr, .rdx = keyid + 1 };
			call(s, 0, TDH_MNG_CREATE, &c, "TDH.MNG.CREATE");
			unsigned type;
			uint64_t owner;
			unsigned sz;
			(void)tdxsim_pamt_lookup(s, tdr, &type, &owner, &sz);
		}
	}
	fz_prep_done(&prep[1], s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	fz_begin();
	uint8_t mode = fz_u8(&in);
	if (mode & 1)
		tdmr_case(&in, (mode & 2) != 0);
	else
		td_params_case(&in, (mode & 2) != 0);
	return 0;
}
