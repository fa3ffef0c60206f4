/*
 * Fixtures for the module-handled TDCALL tests (tests/leaf/test_tdg_*.c):
 * a RUNNABLE TD with one vCPU (or more), whose TDCALLs the test issues by
 * calling seam_tdcall() directly on the vCPU's TDVPS, on a module context
 * built the way seam/dispatch.c builds one (LP 0), with the guest in 64-bit
 * mode. Private pages the test needs are PAGE.ADDed before MR.FINALIZE.
 *
 * Include after <cmocka.h>.
 */
#ifndef TDCALL_FIXTURES_H
#define TDCALL_FIXTURES_H

#include <string.h>

#include "tsim_td.h"
#include "seam/sept.h"
#include "seam/tdcall.h"
#include "seam/td.h"
#include "sim/sim_int.h"

#define TFX_EFER_LME_LMA 0x500ULL
#define TFX_MAX_ADD 8

struct tfx {
	struct tsim_env e;
	struct tsim_td td;
	struct seam_td *t;
	struct seam_vcpu *v[TSIM_MAX_VCPUS];
	struct tdx_module_args regs;
	struct seam_ctx c;
	uint64_t in[16];            /* the GPRs of the last tfx_call_on() */
};

/* Options: TD attributes, vCPUs, private 4 KiB pages PAGE.ADDed (zeros) at
 * the given GPAs before MR.FINALIZE (0 ends the list), finalize or not. */
struct tfx_opts {
	uint64_t attrs;
	unsigned n_vcpus;
	uint64_t add_gpa[TFX_MAX_ADD];
	bool no_finalize;
};

static inline void tfx_init_opts(struct tfx *f, const struct tfx_opts *o)
{
	memset(f, 0, sizeof(*f));
	tsim_env_init(&f->e);
	tsim_td_build(&f->e, &f->td, o->attrs, 4);
	unsigned n = o->n_vcpus ? o->n_vcpus : 1;
	for (unsigned i = 0; i < n; i++)
		tsim_vcpu_add(&f->td, 0);
	for (unsigned i = 0; i < TFX_MAX_ADD && o->add_gpa[i]; i++)
		tsim_page_add(&f->td, o->add_gpa[i], NULL, false);
	if (!o->no_finalize)
		tsim_td_finalize(&f->td);
	f->t = tsim_td_obj(&f->td);
	for (unsigned i = 0; i < n; i++) {
		f->v[i] = seam_obj_get(&f->e.s->mod, f->td.vcpu[i].tdvpr);
		f->v[i]->g.efer = TFX_EFER_LME_LMA;
	}
	f->c = (struct seam_ctx){
		.s = f->e.s, .m = &f->e.s->mod, .lp = &f->e.s->lps[0], .lp_id = 0,
		.leaf = TDH_VP_ENTER, .r = &f->regs,
	};
}

static inline void tfx_init(struct tfx *f)
{
	struct tfx_opts o = { 0 };
	tfx_init_opts(f, &o);
}

static inline void tfx_fini(struct tfx *f)
{
	tsim_env_fini(&f->e);
}

/* Issue a TDCALL on vCPU i with the given RAX (leaf | version << 16) and
 * inputs; the guest's other GPRs hold a recognisable pattern (all saved
 * in f->in). */
static inline enum seam_tdcall_next tfx_call_on(struct tfx *f, unsigned i, uint64_t rax,
						uint64_t rcx, uint64_t rdx, uint64_t r8,
						uint64_t r9)
{
	uint64_t *g = f->v[i]->g.gpr;
	for (unsigned k = 0; k < 16; k++)
		g[k] = 0x5A5A000000000000ULL | k;
	g[GPR_RAX] = rax;
	g[GPR_RCX] = rcx;
	g[GPR_RDX] = rdx;
	g[GPR_R8] = r8;
	g[GPR_R9] = r9;
	memcpy(f->in, g, sizeof(f->in));
	return seam_tdcall(&f->c, f->v[i]);
}

static inline enum seam_tdcall_next tfx_call(struct tfx *f, uint64_t rax, uint64_t rcx,
					     uint64_t rdx, uint64_t r8, uint64_t r9)
{
	return tfx_call_on(f, 0, rax, rcx, rdx, r8, r9);
}

/* A TDCALL that resumes the guest with this status in RAX. */
#define tfx_expect(f, status, rax, rcx, rdx, r8, r9) do { \
	assert_int_equal(tfx_call(f, rax, rcx, rdx, r8, r9), SEAM_TDCALL_RESUME); \
	assert_tdx_status(status, (f)->v[0]->g.gpr[GPR_RAX]); \
} while (0)

static inline uint64_t tfx_gpr(struct tfx *f, unsigned k)
{
	return f->v[0]->g.gpr[k];
}

/* GPRs first..last of vCPU 0 still hold their values before the TDCALL. */
static inline void tfx_assert_untouched(struct tfx *f, unsigned first, unsigned last)
{
	for (unsigned k = first; k <= last; k++)
		assert_int_equal(f->v[0]->g.gpr[k], f->in[k]);
}

/* The PA of the private page PAGE.ADDed or AUGed at gpa (fixture list). */
static inline uint64_t tfx_page_pa(struct tfx *f, uint64_t gpa)
{
	for (unsigned i = 0; i < f->td.n_pages; i++)
		if (f->td.page[i].gpa == (gpa & ~0xFFFULL))
			return f->td.page[i].pa;
	fail_msg("no page at GPA 0x%llx", (unsigned long long)gpa);
	return 0;
}

/* Read / write a TD private page through the TD's KeyID (as the guest sees
 * it). */
static inline void tfx_priv_read(struct tfx *f, uint64_t pa, void *buf, uint64_t len)
{
	assert_int_equal(seam_priv_read(&f->c, pa, f->t->hkid, buf, len), 0);
}
static inline void tfx_priv_write(struct tfx *f, uint64_t pa, const void *buf, uint64_t len)
{
	seam_priv_write(&f->c, pa, f->t->hkid, buf, len);
}

/* TDH.MEM.SEPT.RD of gpa at level: the entry's state (RDX 15:8), or -1. */
static inline int tfx_sept_state(struct tfx *f, uint64_t gpa, unsigned level)
{
	struct tdx_module_args a = { .rcx = gpa | level, .rdx = f->td.tdr };
	if (seamcall_raw(f->e.s, 0, TDH_MEM_SEPT_RD, &a) != TDX_SUCCESS)
		return -1;
	return (int)((a.rdx >> 8) & 0xFF);
}

#endif
