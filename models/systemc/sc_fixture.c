/* The C side of test_systemc: see sc_fixture.h. */
#include <stdlib.h>
#include <string.h>

#include "sc_fixture.h"
#include "tsim.h"
#include "tsim_td.h"
#include "tsim_guest.h"

struct sc_fx {
	struct tsim_env e;
	struct tg_vm *vm;
	struct tg_vcpu *v;
};

struct sc_fx *sc_fx_new(void)
{
	struct sc_fx *f = calloc(1, sizeof(*f));
	if (!f)
		TSIM_FAIL("out of memory");
	f->e.s = tsim_create(NULL);
	tsim_build_tdmrs(f->e.s, &f->e.t);
	tdxsim_info info = { .size = sizeof(info) };
	TSIM_CHECK_OK(tdxsim_info_get(f->e.s, &info));
	/* The rest of tsim_env, as tsim_env_init_cfg() fills it. */
	f->e.n_lps = info.n_lps;
	f->e.n_pkgs = info.packages;
	f->e.first_keyid = info.first_tdx_keyid;
	f->e.n_keyids = info.tdx_keyids;
	f->e.keyid_shift = info.keyid_shift;
	f->e.next_hkid = f->e.first_keyid + 1;
	f->e.next_pa = 256ULL << 20;
	f->e.end_pa = 1ULL << 30;
	f->e.next_pa_2m = 1ULL << 30;
	f->e.shared_pa = f->e.t.scratch_pa;
	return f;
}

tdxsim *sc_fx_sim(struct sc_fx *f) { return f->e.s; }
unsigned sc_fx_n_lps(struct sc_fx *f) { return f->e.n_lps; }
unsigned sc_fx_n_pkgs(struct sc_fx *f) { return f->e.n_pkgs; }
uint32_t sc_fx_first_keyid(struct sc_fx *f) { return f->e.first_keyid; }
uint64_t sc_fx_tdmr_array(struct sc_fx *f) { return f->e.t.array_pa; }
unsigned sc_fx_n_tdmrs(struct sc_fx *f) { return f->e.t.n; }
uint64_t sc_fx_tdmr_base(struct sc_fx *f, unsigned i) { return f->e.t.info[i].base; }
uint64_t sc_fx_tdmr_end(struct sc_fx *f, unsigned i) { return f->e.t.info[i].base + f->e.t.info[i].size; }

uint64_t sc_fx_td(struct sc_fx *f, const char *image, uint64_t arg)
{
	f->vm = td_create(&f->e, 1);
	f->v = td_vcpu_add(f->vm, 0);
	td_load_image(f->vm, image, arg);
	td_finalize(f->vm);
	return f->v->tv->tdvpr;
}

unsigned sc_fx_vcpu_lp(struct sc_fx *f) { return f->v->lp; }

uint64_t sc_fx_ucall(struct sc_fx *f, const struct tdx_module_args *exit, uint64_t args[2])
{
	uint64_t sb = f->vm->shared_bit;
	if (exit->r10 != 0 || exit->r11 != 48 || exit->r12 != UCALL_MMIO_SIZE || exit->r13 != 1 ||
	    exit->r14 != (UCALL_MMIO_OFFSET | sb) || !(exit->r15 & sb))
		return 0;
	struct ucall uc;
	td_shared_read(f->vm, exit->r15 & ~sb, &uc, sizeof(uc));
	args[0] = uc.args[0];
	args[1] = uc.args[1];
	return uc.cmd;
}

void sc_fx_free(struct sc_fx *f)
{
	if (f->vm)
		td_destroy(f->vm);
	tdxsim_close(f->e.s);
	free(f);
}
