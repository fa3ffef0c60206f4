/*
 * Static fixtures for tests whose fixture is one TD (struct fx): the TD
 * INITIALIZED with or without a vCPU, or short of INITIALIZED; released with
 * fx_fini(). Used by td_page_fixtures.h and the MNG.RD/WR tests.
 *
 * Include after <cmocka.h>.
 */
#ifndef TD_FIXTURES_H
#define TD_FIXTURES_H

#include "tsim_td.h"
#include "seam/td.h"
#include "sim/sim_int.h"

struct fx {
	struct tsim_env e;
	struct tsim_td td;
	uint64_t pa;            /* a page the test's fixture added, if any */
	uint8_t src[4096];      /* its initial content */
};

/* An INITIALIZED TD with the attributes (up to 4 vCPUs, none added). */
static inline void fx_build(struct fx *f, uint64_t attrs)
{
	tsim_env_init(&f->e);
	tsim_td_build(&f->e, &f->td, attrs, 4);
}

/* The same with one vCPU (initialised on LP 0). */
static inline void fx_init_attr(struct fx *f, uint64_t attrs)
{
	fx_build(f, attrs);
	tsim_vcpu_add(&f->td, 0);
}

static inline void fx_init(struct fx *f)
{
	fx_init_attr(f, 0);
}

/* A TD short of INITIALIZED: MNG.CREATE only (keys not configured), then
 * KEY.CONFIG too (TDCS not allocated), then the TDCS (UNINITIALIZED). */
enum fx_early { FX_NOKEY, FX_CREATED, FX_UNINIT };

static inline void fx_init_early(struct fx *f, enum fx_early k)
{
	tsim_env_init(&f->e);
	if (k == FX_NOKEY) {
		tsim_td_create_nokey(&f->e, &f->td);
		return;
	}
	tsim_td_create(&f->e, &f->td);
	if (k == FX_UNINIT)
		tsim_td_addcx(&f->td);
}

static inline void fx_fini(struct fx *f)
{
	tsim_env_fini(&f->e);
}

static inline uint64_t chldcnt(struct tsim_td *td)
{
	return atomic_load(&tsim_td_obj(td)->chldcnt);
}

#endif
