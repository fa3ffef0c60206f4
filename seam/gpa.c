/*
 * The TD's view of guest-physical memory (seam/gpa.h, seam/tdcall.h):
 * private GPAs through the S-EPT and the TD's KeyID, shared GPAs through the
 * host's shared EPT in KeyID-0 memory.
 */
#include <sched.h>
#include <string.h>

#include "seam/gpa.h"
#include "seam/sept.h"
#include "seam/tdcall.h"
#include "seam/td.h"
#include "sim/sim_int.h"

#define EPT_R   (1ULL << 0)
#define EPT_W   (1ULL << 1)
#define EPT_PS  (1ULL << 7)

/* HPA bits of an entry or EPTP: 51:12 without the KeyID bits above keyid_shift. */
static uint64_t hpa_bits(const struct seam_ctx *c, uint64_t e)
{
	uint64_t m = 0x000FFFFFFFFFF000ULL;
	if (c->s->keyid_shift < 52)
		m &= (1ULL << c->s->keyid_shift) - 1;
	return e & m;
}

uint64_t seam_host_read64(struct seam_ctx *c, uint64_t pa)
{
	struct phys_mem *m = &c->s->mem;
	if ((pa & 7) || !phys_mem_contains(m, pa, 8))
		return 0;
	if (phys_mem_line_state(m, pa) & PHYS_LINE_TD_OWNER)
		return 0;
	return __atomic_load_n((uint64_t *)phys_mem_ptr(m, pa), __ATOMIC_RELAXED);
}

static int xlat_shared(struct seam_ctx *c, struct seam_vcpu *v, uint64_t gpa,
		       struct seam_gpa_xlat *x)
{
	uint64_t eptp = v->vmcs.shared_eptp;
	unsigned levels = (unsigned)((eptp >> 3) & 7) + 1;
	if (levels != 4 && levels != 5)
		levels = v->td->ept_levels;
	uint64_t table = hpa_bits(c, eptp);
	bool w = true;
	for (int lvl = (int)levels - 1; lvl >= 0; lvl--) {
		unsigned idx = (unsigned)(gpa >> (12 + 9 * lvl)) & 511;
		uint64_t e = seam_host_read64(c, table + 8ULL * idx);
		x->level = (unsigned)lvl;
		x->sve = e >> 63;
		if (!(e & EPT_R))
			return -1;
		w = w && (e & EPT_W);
		if (lvl == 0 || ((e & EPT_PS) && lvl <= 2)) {
			uint64_t size = 4096ULL << (9 * lvl);
			x->hpa = (hpa_bits(c, e) & ~(size - 1)) + (gpa & (size - 1) & ~0xFFFULL);
			x->writable = w;
			return phys_mem_contains(&c->s->mem, x->hpa, 4096) ? 0 : -1;
		}
		table = hpa_bits(c, e);
	}
	return -1;
}

static void sept_lock_spin(struct seam_td *td)
{
	while (!seam_lock_try_sh(&td->sept_lock))
		sched_yield();
}

int seam_gpa_xlat(struct seam_ctx *c, struct seam_vcpu *v, uint64_t gpa, struct seam_gpa_xlat *x)
{
	struct seam_td *td = v->td;
	memset(x, 0, sizeof(*x));
	uint64_t sbit = seam_td_shared_bit(td);
	unsigned width = td->gpaw ? 52 : 48;
	if (width < 64 && (gpa >> width))
		return -1;
	if (gpa & sbit) {
		x->shared = true;
		return xlat_shared(c, v, gpa, x);      /* the shared bit indexes the EPT too */
	}
	struct sept_walk w;
	sept_lock_spin(td);
	sept_walk(c, td, gpa & ~0xFFFULL, 0, &w);
	seam_unlock_sh(&td->sept_lock);
	x->state = sept_state(w.entry);
	x->level = w.level;
	if (x->state != SEPT_MAPPED && x->state != SEPT_BLOCKEDW)
		return -1;
	uint64_t size = sept_level_size(w.level);
	x->hpa = (sept_hpa(w.entry) & ~(size - 1)) + (gpa & (size - 1) & ~0xFFFULL);
	x->writable = x->state == SEPT_MAPPED;
	return 0;
}

static int gpa_access(struct seam_ctx *c, struct seam_vcpu *v, uint64_t gpa, void *buf,
		      uint64_t len, unsigned *leaf_state, bool write)
{
	struct seam_gpa_xlat x;
	if (leaf_state)
		*leaf_state = SEPT_FREE;
	if (!len)
		return 0;
	if ((gpa & 0xFFF) + len > 4096)
		return -1;
	int rc = seam_gpa_xlat(c, v, gpa, &x);
	if (leaf_state)
		*leaf_state = x.state;
	if (rc || (write && !x.writable))
		return -1;
	uint64_t pa = x.hpa + (gpa & 0xFFF);
	if (!x.shared) {
		if (write)
			seam_priv_write(c, pa, v->td->hkid, buf, len);
		else
			seam_priv_read(c, pa, v->td->hkid, buf, len);
		return 0;
	}
	/* Shared: host memory through KeyID 0, line by line (TD-owned lines
	 * read as zeros; a write to one takes its ownership away and poisons
	 * it, as a shared-KeyID write does). */
	struct phys_mem *m = &c->s->mem;
	uint8_t *p = buf;
	if (write) {
		phys_mem_rmw_lock(m, pa);
		sim_mem_raw_locked(c->s, &c->lp->crypt, pa, len, SIM_RAW_WRITE);
		memcpy(phys_mem_ptr(m, pa), p, len);
		phys_mem_write_shared(m, pa, len);
		phys_mem_bump(m, pa, len);
		phys_mem_rmw_unlock(m, pa);
		return 0;
	}
	while (len) {
		uint64_t n = 64 - (pa & 63);
		if (n > len)
			n = len;
		if (phys_mem_line_state(m, pa) & PHYS_LINE_TD_OWNER)
			memset(p, 0, n);
		else
			memcpy(p, phys_mem_ptr(m, pa), n);
		p += n;
		pa += n;
		len -= n;
	}
	return 0;
}

int seam_gpa_read(struct seam_ctx *c, struct seam_vcpu *v, uint64_t gpa, void *buf,
		  uint64_t len, unsigned *leaf_state)
{
	return gpa_access(c, v, gpa, buf, len, leaf_state, false);
}

int seam_gpa_write(struct seam_ctx *c, struct seam_vcpu *v, uint64_t gpa, const void *buf,
		   uint64_t len, unsigned *leaf_state)
{
	return gpa_access(c, v, gpa, (void *)buf, len, leaf_state, true);
}
