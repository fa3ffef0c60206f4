/*
 * Shared by the guest tests: a module brought to READY plus one TD built by
 * tsim_guest around a guest image.
 */
#ifndef TG_FIXTURE_H
#define TG_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tsim.h"
#include "tsim_td.h"
#include "tsim_guest.h"

struct tg_fx {
	struct tsim_env e;
	struct tg_vm *vm;
	struct tg_vcpu *v;
};

/* Environment and TD with max_vcpus, no vCPU yet. */
static inline void tg_fx_begin(struct tg_fx *f, unsigned max_vcpus)
{
	memset(f, 0, sizeof(*f));
	tsim_env_init(&f->e);
	f->vm = td_create(&f->e, max_vcpus);
}

/* One vCPU on LP 0, the image loaded with arg, finalized. */
static inline void tg_fx_init(struct tg_fx *f, const char *image, uint64_t arg)
{
	tg_fx_begin(f, 1);
	f->v = td_vcpu_add(f->vm, 0);
	td_load_image(f->vm, image, arg);
	td_finalize(f->vm);
}

static inline void tg_fx_fini(struct tg_fx *f)
{
	td_destroy(f->vm);
	tsim_env_fini(&f->e);
}

#endif
