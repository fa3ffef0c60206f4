/* Names, statistics, hooks and module introspection. */
#include <stdio.h>
#include <string.h>

#include "seam/pamt.h"
#include "seam/vp_enter.h"
#include "sim/sim_int.h"

static const struct {
	const char *name;
	uint64_t value;
} status_names[] = {
#define X(name) { #name, name },
	TDX_STATUS_MAP(X)
#undef X
};

const char *tdx_status_name(uint64_t status)
{
	uint64_t hi = status & TDX_STATUS_CLASS_MASK;
	/* Software class: the whole value is the code. */
	if (((status >> 40) & 0xFF) == TDX_STATUS_SW_CLASS)
		hi = status;
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (status_names[i].value == hi)
			return status_names[i].name;
	return "TDX_UNKNOWN_STATUS";
}

static const char *operand_name(uint32_t op)
{
	static const char *const gprs[16] = {
		"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
		"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
	};
	if (op < 16)
		return gprs[op];
	switch (op) {
	case TDX_OPERAND_ID_TDR: return "TDR";
	case TDX_OPERAND_ID_TDCX: return "TDCX";
	case TDX_OPERAND_ID_TDVPR: return "TDVPR";
	case TDX_OPERAND_ID_TDCS: return "TDCS";
	case TDX_OPERAND_ID_TDVPS: return "TDVPS";
	case TDX_OPERAND_ID_SEPT_TREE: return "SEPT_TREE";
	case TDX_OPERAND_ID_SEPT_ENTRY: return "SEPT_ENTRY";
	case TDX_OPERAND_ID_TD_EPOCH: return "TD_EPOCH";
	case TDX_OPERAND_ID_OP_STATE: return "OP_STATE";
	case TDX_OPERAND_ID_KOT: return "KOT";
	case TDX_OPERAND_ID_KET: return "KET";
	case TDX_OPERAND_ID_WBCACHE: return "WBCACHE";
	case TDX_OPERAND_ID_SYS: return "SYS";
	case TDX_OPERAND_ID_TDMR: return "TDMR";
	default: return NULL;
	}
}

const char *tdx_status_str(uint64_t status, char *buf, size_t len)
{
	const char *name = tdx_status_name(status);
	uint32_t op = (uint32_t)status;
	int sw = ((status >> 40) & 0xFF) == TDX_STATUS_SW_CLASS;
	if (!op || sw) {
		snprintf(buf, len, "%s (0x%016llx)", name, (unsigned long long)status);
	} else if (((status >> 40) & 0xFF) == 0x0A) {
		/* TDMR class: TDMR index / level / second index. */
		snprintf(buf, len, "%s+0x%x (0x%016llx)", name, op, (unsigned long long)status);
	} else if (operand_name(op)) {
		snprintf(buf, len, "%s+%s (0x%016llx)", name, operand_name(op),
			 (unsigned long long)status);
	} else {
		snprintf(buf, len, "%s+0x%x (0x%016llx)", name, op, (unsigned long long)status);
	}
	return buf;
}

tdxsim_err tdxsim_stats_get(tdxsim *s, tdxsim_stats *out)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (!out || out->size < sizeof(*out))
		return sim_error(s, TDXSIM_ERR_VERSION, "tdxsim_stats.size must be sizeof(tdxsim_stats)");
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	for (unsigned l = 0; l < s->n_lps; l++) {
		struct sim_lp *lp = &s->lps[l];
		out->seamcalls += atomic_load_explicit(&lp->stat_calls, memory_order_relaxed);
		out->seamcalls_failed += atomic_load_explicit(&lp->stat_failed, memory_order_relaxed);
		out->injected += atomic_load_explicit(&lp->stat_injected, memory_order_relaxed);
		for (unsigned i = 0; i < TDX_SEAMCALL_LEAF_MAX; i++)
			out->per_leaf[i] += atomic_load_explicit(&lp->stat_leaf[i], memory_order_relaxed);
	}
	return TDXSIM_OK;
}

tdxsim_err tdxsim_hook_seamcall(tdxsim *s, tdxsim_seamcall_hook_fn fn, void *user, unsigned *id)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (!fn)
		return sim_error(s, TDXSIM_ERR_ARG, "hook function is NULL");
	int n = atomic_load(&s->n_hooks);
	for (int i = 0; i < TDXSIM_MAX_HOOKS; i++) {
		if (s->hooks[i].fn)
			continue;
		s->hooks[i].user = user;
		s->hooks[i].fn = fn;
		if (i >= n)
			atomic_store_explicit(&s->n_hooks, i + 1, memory_order_release);
		if (id)
			*id = (unsigned)i;
		return TDXSIM_OK;
	}
	return sim_error(s, TDXSIM_ERR_NOMEM, "at most %d hooks", TDXSIM_MAX_HOOKS);
}

tdxsim_err tdxsim_hook_remove(tdxsim *s, unsigned id)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (id >= TDXSIM_MAX_HOOKS || !s->hooks[id].fn)
		return sim_error(s, TDXSIM_ERR_NOENT, "no hook %u", id);
	s->hooks[id].fn = NULL;
	return TDXSIM_OK;
}

enum tdx_sys_state tdxsim_module_state(tdxsim *s)
{
	return sim_ok(s) ? (enum tdx_sys_state)seam_state(&s->mod) : TDX_SYSINIT_PENDING;
}

uint32_t tdxsim_global_keyid(tdxsim *s)
{
	return sim_ok(s) ? s->mod.hkid : 0;
}

tdxsim_err tdxsim_pamt_lookup(tdxsim *s, uint64_t pa, unsigned *type, uint64_t *owner, unsigned *size)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (seam_state(&s->mod) < TDX_SYSCONFIG_DONE)
		return sim_error(s, TDXSIM_ERR_NOENT, "no TDMRs configured");
	struct seam_tdmr *t = pamt_get_block(&s->mod, pa & ~(TDX_PAGE_SIZE - 1));
	if (!t)
		return sim_error(s, TDXSIM_ERR_NOENT, "PA 0x%llx is not in an initialised TDMR block",
				 (unsigned long long)pa);
	struct tdx_pamt_entry e;
	unsigned ps;
	if (pamt_walk_read(s, t, pa & ~(TDX_PAGE_SIZE - 1), &e, &ps))
		return sim_error(s, TDXSIM_ERR_STATE, "PAMT entry of 0x%llx is locked",
				 (unsigned long long)pa);
	if (type)
		*type = pamt_type(&e);
	if (owner)
		*owner = pamt_owner_pa(&e);
	if (size)
		*size = ps;
	return TDXSIM_OK;
}

/* ---- Memory access for the embedder ---------------------------------------- */

/* The host's view: in checker mode a second mapping of the same memory whose
 * TD-private pages are inaccessible (sim/checker.c); otherwise the one mapping. */
void *tdxsim_pa_to_ptr(tdxsim *s, uint64_t pa)
{
	if (!sim_ok(s) || pa >= s->pa_top)
		return NULL;
	seam_run_sync(s, NULL);        /* RAM as of now (seam/vp_enter.h) */
	/* Raw bytes from here on: a lazily zeroed page gets its ciphertext
	 * (sim/mktme.h; only pa's page, not pages reached by arithmetic). */
	return sim_mem_host_ptr(s, pa);
}

tdxsim_err tdxsim_ptr_to_pa(tdxsim *s, const void *p, uint64_t *pa)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	const uint8_t *b = p;
	if (!pa || b < s->mem.host_base || (uint64_t)(b - s->mem.host_base) >= s->pa_top)
		return sim_error(s, TDXSIM_ERR_RANGE, "host pointer %p is not simulated memory", p);
	*pa = (uint64_t)(b - s->mem.host_base);
	return TDXSIM_OK;
}

static tdxsim_err mem_check(tdxsim *s, uint64_t pa, uint32_t keyid, const void *buf, size_t len)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (!buf && len)
		return sim_error(s, TDXSIM_ERR_ARG, "NULL buffer");
	if (pa >= s->pa_top || len > s->pa_top - pa)
		return sim_error(s, TDXSIM_ERR_RANGE, "[0x%llx, +0x%zx) is outside simulated memory "
				 "(which ends at 0x%llx)", (unsigned long long)pa, len,
				 (unsigned long long)s->pa_top);
	if ((uint64_t)keyid > (uint64_t)s->cfg.mktme_keyids + s->cfg.tdx_keyids)
		return sim_error(s, TDXSIM_ERR_ARG, "KeyID %u does not exist (%u KeyIDs)", keyid,
				 s->cfg.mktme_keyids + s->cfg.tdx_keyids);
	return TDXSIM_OK;
}

/* A TDX private KeyID (mem_check already bounded it by the last KeyID). */
static int keyid_private(tdxsim *s, uint32_t keyid)
{
	return keyid > s->cfg.mktme_keyids;
}

/*
 * Shared-KeyID accesses, page by page under each page's RMW stripe lock, so
 * they never interleave with the memory-encryption engine's update of the
 * same page on an LP (its RAM, line states and version change together).
 * SH_READ fills dst; SH_WRITE and SH_MOVDIR64B store src; SH_ZERO clears.
 */
enum { SH_READ, SH_WRITE, SH_MOVDIR64B, SH_ZERO };

static void shared_access(tdxsim *s, uint64_t pa, void *dst, const void *src, size_t len,
			  int op)
{
	struct phys_mem *m = &s->mem;
	uint8_t *d = dst;
	const uint8_t *sp = src;
	size_t done = 0;
	while (len) {
		size_t n = TDX_PAGE_SIZE - (pa & (TDX_PAGE_SIZE - 1));
		if (n > len)
			n = len;
		uint8_t *ram = phys_mem_ptr(m, pa);
		phys_mem_rmw_lock(m, pa);
		/* A lazily zeroed page's ciphertext before its bytes are seen
		 * or partly replaced (sim/mktme.h). */
		sim_mem_raw_locked(s, NULL, pa, n, op == SH_READ ? SIM_RAW_READ_MASKED : SIM_RAW_WRITE);
		switch (op) {
		case SH_READ:
			memcpy(d + done, ram, n);
			for (size_t i = 0; i < n;) {
				size_t k = 64 - (size_t)((pa + i) % 64);
				if (k > n - i)
					k = n - i;
				if (phys_mem_line_state(m, pa + i) & PHYS_LINE_TD_OWNER)
					memset(d + done + i, 0, k);
				i += k;
			}
			break;
		case SH_WRITE:
			memcpy(ram, sp + done, n);
			phys_mem_write_shared(m, pa, n);
			break;
		case SH_MOVDIR64B:
			memcpy(ram, sp + done, n);
			phys_mem_clear_state(m, pa, n);
			break;
		case SH_ZERO:
			memset(ram, 0, n);
			phys_mem_clear_state(m, pa, n);
			break;
		}
		if (op != SH_READ)
			phys_mem_bump(m, pa, n);
		phys_mem_rmw_unlock(m, pa);
		pa += n;
		len -= n;
		done += n;
	}
}

/*
 * Memory-integrity model (tdxsim.h). Through a private KeyID the host is
 * software running with that KeyID: it reads and writes plaintext, encrypted
 * with the KeyID's key, and its writes make the lines TD-owned. Through a
 * shared KeyID (0 or MKTME) it sees raw memory, except that a TD-owned line
 * reads as zeros, and a write to a TD-owned line clears the owner bit and
 * poisons the line.
 */
static tdxsim_err mem_op_mem_movdir64b(tdxsim *s, uint64_t pa, uint32_t keyid, const void *src64)
{
	tdxsim_err err = mem_check(s, pa, keyid, src64, 64);
	if (err)
		return err;
	if (pa & 63)
		return sim_error(s, TDXSIM_ERR_ARG, "MOVDIR64B to 0x%llx: not 64-byte aligned",
				 (unsigned long long)pa);
	if (keyid_private(s, keyid)) {
		sim_priv_write(s, NULL, pa, keyid, src64, 64);
		return TDXSIM_OK;
	}
	shared_access(s, pa, NULL, src64, 64, SH_MOVDIR64B);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_mem_movdir64b(tdxsim *s, uint64_t pa, uint32_t keyid, const void *src64)
{
	/* Guests stopped, their held writes in RAM (seam/vp_enter.h). */
	struct seam_run_hold h;
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	seam_run_hold(s, NULL, -1, &h);
	tdxsim_err err = mem_op_mem_movdir64b(s, pa, keyid, src64);
	seam_run_release(&h);
	return err;
}

static tdxsim_err mem_op_mem_read(tdxsim *s, uint64_t pa, uint32_t keyid, void *buf, size_t len)
{
	tdxsim_err err = mem_check(s, pa, keyid, buf, len);
	if (err)
		return err;
	if (keyid_private(s, keyid)) {
		sim_priv_read(s, NULL, pa, keyid, buf, len);
		return TDXSIM_OK;
	}
	shared_access(s, pa, buf, NULL, len, SH_READ);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_mem_read(tdxsim *s, uint64_t pa, uint32_t keyid, void *buf, size_t len)
{
	/* Guests stopped, their held writes in RAM (seam/vp_enter.h). */
	struct seam_run_hold h;
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	seam_run_hold(s, NULL, -1, &h);
	tdxsim_err err = mem_op_mem_read(s, pa, keyid, buf, len);
	seam_run_release(&h);
	return err;
}

static tdxsim_err mem_op_mem_write(tdxsim *s, uint64_t pa, uint32_t keyid, const void *buf, size_t len)
{
	tdxsim_err err = mem_check(s, pa, keyid, buf, len);
	if (err)
		return err;
	if (keyid_private(s, keyid)) {
		sim_priv_write(s, NULL, pa, keyid, buf, len);
		return TDXSIM_OK;
	}
	shared_access(s, pa, NULL, buf, len, SH_WRITE);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_mem_write(tdxsim *s, uint64_t pa, uint32_t keyid, const void *buf, size_t len)
{
	/* Guests stopped, their held writes in RAM (seam/vp_enter.h). */
	struct seam_run_hold h;
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	seam_run_hold(s, NULL, -1, &h);
	tdxsim_err err = mem_op_mem_write(s, pa, keyid, buf, len);
	seam_run_release(&h);
	return err;
}

static tdxsim_err mem_op_page_clear(tdxsim *s, uint64_t pa, uint32_t keyid)
{
	static const uint8_t zero[64];
	tdxsim_err err = mem_check(s, pa, keyid, zero, TDX_PAGE_SIZE);
	if (err)
		return err;
	if (pa & (TDX_PAGE_SIZE - 1))
		return sim_error(s, TDXSIM_ERR_ARG, "page clear at 0x%llx: not 4 KiB aligned",
				 (unsigned long long)pa);
	if (keyid_private(s, keyid)) {
		/* Eager: the host may look at the raw page through pointers
		 * it already holds. */
		sim_priv_zero(s, NULL, pa, keyid, TDX_PAGE_SIZE);
		sim_mem_settle(s, NULL, pa, TDX_PAGE_SIZE);
		return TDXSIM_OK;
	}
	shared_access(s, pa, NULL, NULL, TDX_PAGE_SIZE, SH_ZERO);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_page_clear(tdxsim *s, uint64_t pa, uint32_t keyid)
{
	/* Guests stopped, their held writes in RAM (seam/vp_enter.h). */
	struct seam_run_hold h;
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	seam_run_hold(s, NULL, -1, &h);
	tdxsim_err err = mem_op_page_clear(s, pa, keyid);
	seam_run_release(&h);
	return err;
}

int tdxsim_mem_poisoned(tdxsim *s, uint64_t pa)
{
	if (!sim_ok(s) || pa >= s->pa_top)
		return 0;
	return (phys_mem_line_state(&s->mem, pa & ~63ULL) & PHYS_LINE_POISON) != 0;
}
