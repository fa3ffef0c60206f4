/* The simulated machine: configuration, topology, lifecycle of the handle. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_int.h"
#include "sim/trace.h"

_Noreturn void sim_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "tdxsim: internal error at %s:%d: %s\n", file, line, what);
	abort();
}

/*
 * The handle's last error message is shared by every thread using the
 * handle: it is written and copied out under err_mutex (host bookkeeping,
 * never on a SEAMCALL path).
 */
tdxsim_err sim_error(tdxsim *s, tdxsim_err err, const char *fmt, ...)
{
	if (s && s->magic == TDXSIM_MAGIC) {
		char msg[sizeof(s->errmsg)];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		pthread_mutex_lock(&s->err_mutex);
		memcpy(s->errmsg, msg, sizeof(msg));
		pthread_mutex_unlock(&s->err_mutex);
	}
	return err;
}

unsigned tdxsim_version(void)
{
	return TDXSIM_VERSION_HEX;
}

static const char *const err_names[] = {
#define X(name, msg) #name,
	TDXSIM_ERR_MAP(X)
#undef X
};
static const char *const err_msgs[] = {
#define X(name, msg) msg,
	TDXSIM_ERR_MAP(X)
#undef X
};

const char *tdxsim_strerror(tdxsim_err err)
{
	return (unsigned)err < TDXSIM_ERR_COUNT_ ? err_msgs[err] : "unknown tdxsim error";
}

const char *tdxsim_err_name(tdxsim_err err)
{
	return (unsigned)err < TDXSIM_ERR_COUNT_ ? err_names[err] : "TDXSIM_ERR_UNKNOWN";
}

/* A copy of the message for the calling thread (another thread may record
 * the next error meanwhile); a few slots, so that one expression may name
 * several handles' messages. */
const char *tdxsim_errmsg(const tdxsim *s)
{
	static _Thread_local char copy[4][sizeof(s->errmsg)];
	static _Thread_local unsigned next;
	if (!sim_ok(s))
		return "invalid or closed simulator handle";
	char *out = copy[next++ % 4];
	pthread_mutex_t *mu = (pthread_mutex_t *)&s->err_mutex;   /* const handle, mutable lock */
	pthread_mutex_lock(mu);
	memcpy(out, s->errmsg, sizeof(s->errmsg));
	pthread_mutex_unlock(mu);
	return out;
}

static uint32_t bits_for(uint32_t n)
{
	uint32_t b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

/* Fill in defaults and check the configuration; msg gets the reason. */
static tdxsim_err resolve_config(const tdxsim_config *in, tdxsim_config *c,
				 const tdxsim_platform **platp, char *msg, size_t len)
{
	if (!in) {
		memset(c, 0, sizeof(*c));
		c->size = sizeof(*c);
	} else {
		if (in->size < 2 * sizeof(uint32_t)) {
			snprintf(msg, len, "config.size %u is too small", in->size);
			return TDXSIM_ERR_VERSION;
		}
		if (in->size > sizeof(*c)) {
			snprintf(msg, len, "config.size %u is larger than this library's %zu "
				 "(built against a newer tdxsim?)", in->size, sizeof(*c));
			return TDXSIM_ERR_VERSION;
		}
		memset(c, 0, sizeof(*c));
		memcpy(c, in, in->size);
		c->size = sizeof(*c);
	}
	const char *pname = c->platform ? c->platform : TDXSIM_DEFAULT_PLATFORM;
	const tdxsim_platform *p = tdxsim_platform_find(pname);
	if (!p) {
		snprintf(msg, len, "unknown platform profile '%s' (known: spr, emr, gnr)", pname);
		return TDXSIM_ERR_ARG;
	}
	*platp = p;
	c->platform = p->name;
	if (!c->packages)
		c->packages = p->packages;
	if (!c->lps_per_package)
		c->lps_per_package = p->lps_per_package;
	if (c->packages > TDXSIM_MAX_PKGS || (uint64_t)c->packages * c->lps_per_package > TDXSIM_MAX_LPS) {
		snprintf(msg, len, "topology %u packages x %u LPs exceeds the limits (%d packages, %d LPs)",
			 c->packages, c->lps_per_package, TDXSIM_MAX_PKGS, TDXSIM_MAX_LPS);
		return TDXSIM_ERR_ARG;
	}
	if (!c->mktme_keyids && !c->tdx_keyids) {
		c->mktme_keyids = p->mktme_keyids;
		c->tdx_keyids = p->tdx_keyids;
	}
	if ((uint64_t)c->mktme_keyids + c->tdx_keyids >= 2048) {
		snprintf(msg, len, "KeyID partition %u + %u: at most 2047 KeyIDs",
			 c->mktme_keyids, c->tdx_keyids);
		return TDXSIM_ERR_ARG;
	}
	if (!c->module_major && !c->module_minor && !c->module_update) {
		c->module_major = p->module_major;
		c->module_minor = p->module_minor;
		c->module_update = p->module_update;
	}
	if (!(c->flags & TDXSIM_CFG_FEATURES0_SET))
		c->tdx_features0 = p->tdx_features0;

	if (c->n_cmrs > TDX_MAX_CMRS) {
		snprintf(msg, len, "%u CMRs: at most %d", c->n_cmrs, TDX_MAX_CMRS);
		return TDXSIM_ERR_ARG;
	}
	if (!c->n_cmrs) {
		uint64_t mem = c->mem_bytes ? c->mem_bytes : p->default_mem_bytes;
		if (mem & (TDX_PAGE_SIZE - 1) || mem < (64ULL << 20)) {
			snprintf(msg, len, "mem_bytes 0x%llx: must be a 4 KiB multiple of at least 64 MiB",
				 (unsigned long long)mem);
			return TDXSIM_ERR_ARG;
		}
		uint64_t low = mem < (2ULL << 30) ? mem : (2ULL << 30);
		c->cmrs[0] = (tdxsim_range){ 0, low };
		c->n_cmrs = 1;
		if (mem > low) {
			c->cmrs[1] = (tdxsim_range){ 4ULL << 30, mem - low };
			c->n_cmrs = 2;
		}
		c->mem_bytes = mem;
	} else {
		uint64_t total = 0, prev_end = 0;
		for (uint32_t i = 0; i < c->n_cmrs; i++) {
			const tdxsim_range *r = &c->cmrs[i];
			if (!r->size || (r->base | r->size) & (TDX_PAGE_SIZE - 1) ||
			    r->base + r->size < r->base || (i && r->base < prev_end)) {
				snprintf(msg, len, "cmrs[%u] = [0x%llx, +0x%llx): CMRs must be non-empty, "
					 "4 KiB aligned, ascending and disjoint", i,
					 (unsigned long long)r->base, (unsigned long long)r->size);
				return TDXSIM_ERR_ARG;
			}
			prev_end = r->base + r->size;
			total += r->size;
		}
		if (c->mem_bytes && c->mem_bytes != total) {
			snprintf(msg, len, "mem_bytes 0x%llx differs from the CMRs' total 0x%llx",
				 (unsigned long long)c->mem_bytes, (unsigned long long)total);
			return TDXSIM_ERR_ARG;
		}
		c->mem_bytes = total;
	}
	uint64_t top = c->cmrs[c->n_cmrs - 1].base + c->cmrs[c->n_cmrs - 1].size;
	uint32_t kbits = bits_for(c->mktme_keyids + c->tdx_keyids + 1);
	if (top > (1ULL << (p->max_pa - kbits))) {
		snprintf(msg, len, "memory top 0x%llx exceeds the %u physical address bits left "
			 "below the KeyID bits", (unsigned long long)top, p->max_pa - kbits);
		return TDXSIM_ERR_ARG;
	}
	return TDXSIM_OK;
}

tdxsim_err tdxsim_open(const tdxsim_config *cfg, tdxsim **out)
{
	char msg[256] = "";
	if (!out)
		return TDXSIM_ERR_ARG;
	*out = NULL;
	tdxsim *s = calloc(1, sizeof(*s));
	if (!s)
		return TDXSIM_ERR_NOMEM;
	tdxsim_err err = resolve_config(cfg, &s->cfg, &s->plat, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "tdxsim_open: %s\n", msg);
		free(s);
		return err;
	}
	const tdxsim_config *c = &s->cfg;
	s->costs = (c->flags & TDXSIM_CFG_NO_TIMING) ? tdxsim_costs_none() :
		   tdxsim_costs_for(s->plat->name);
	s->n_pkgs = c->packages;
	s->n_lps = c->packages * c->lps_per_package;
	s->mem_bytes = c->mem_bytes;
	s->keyid_bits = bits_for(c->mktme_keyids + c->tdx_keyids + 1);
	s->keyid_shift = s->plat->max_pa - s->keyid_bits;
	s->lps = calloc(s->n_lps, sizeof(*s->lps));
	if (!s->lps) {
		free(s);
		return TDXSIM_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < s->n_lps; i++) {
		struct sim_lp *lp = &s->lps[i];
		lp->id = i;
		lp->pkg = i / c->lps_per_package;
		atomic_init(&lp->online, 1);
		lp->rng = c->seed ^ (0xA0761D6478BD642FULL * (i + 1));
	}
	uint64_t top = c->cmrs[c->n_cmrs - 1].base + c->cmrs[c->n_cmrs - 1].size;
	uint64_t span = (top + TDX_1G - 1) & ~(TDX_1G - 1);
	s->pa_top = top;
	s->checker = (c->flags & TDXSIM_CFG_CHECKER) != 0;
	if (phys_mem_init(&s->mem, span, s->checker)) {
		fprintf(stderr, "tdxsim_open: cannot reserve %llu MiB of address space for "
			"simulated memory\n", (unsigned long long)(span >> 20));
		free(s->lps);
		free(s);
		return TDXSIM_ERR_NOMEM;
	}
	pthread_mutex_init(&s->err_mutex, NULL);
	s->magic = TDXSIM_MAGIC;
	s->n_keyslots = c->mktme_keyids + c->tdx_keyids + 1;
	s->keys = calloc(s->n_keyslots, sizeof(*s->keys));
	int crypt_ok = s->keys != NULL;
	for (uint32_t i = 0; crypt_ok && i < s->n_lps; i++)
		crypt_ok = !sim_crypt_init(&s->lps[i].crypt);
	if (!crypt_ok || seam_module_init(&s->mod, s)) {
		tdxsim_close(s);
		return TDXSIM_ERR_NOMEM;
	}
	if (s->checker && sim_checker_open(s)) {
		fprintf(stderr, "tdxsim_open: checker mode: at most %d simulators per process "
			"use it at a time\n", SIM_CHECKER_MAX);
		s->checker = 0;
		tdxsim_close(s);
		return TDXSIM_ERR_NOMEM;
	}
	if (sim_fault_env(s)) {
		fprintf(stderr, "tdxsim_open: %s\n", tdxsim_errmsg(s));
		tdxsim_close(s);
		return TDXSIM_ERR_ARG;
	}
	sim_trace_env_start(s);
	*out = s;
	return TDXSIM_OK;
}

void tdxsim_close(tdxsim *s)
{
	if (!sim_ok(s))
		return;
	sim_trace_close(s);
	if (s->checker)
		sim_checker_close(s);
	seam_module_fini(&s->mod);
	phys_mem_fini(&s->mem);
	for (uint32_t i = 0; i < s->n_lps; i++)
		sim_crypt_fini(&s->lps[i].crypt);
	free(s->keys);
	free(s->lps);
	s->magic = TDXSIM_DEAD;
	pthread_mutex_destroy(&s->err_mutex);
	free(s);
}

tdxsim_err tdxsim_info_get(tdxsim *s, tdxsim_info *o)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (!o || o->size < sizeof(*o))
		return sim_error(s, TDXSIM_ERR_VERSION, "tdxsim_info.size must be sizeof(tdxsim_info)");
	const tdxsim_config *c = &s->cfg;
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->platform = s->plat;
	o->packages = c->packages;
	o->lps_per_package = c->lps_per_package;
	o->n_lps = s->n_lps;
	o->mem_bytes = s->mem_bytes;
	o->pa_space_bytes = c->cmrs[c->n_cmrs - 1].base + c->cmrs[c->n_cmrs - 1].size;
	o->n_cmrs = c->n_cmrs;
	memcpy(o->cmrs, c->cmrs, sizeof(o->cmrs));
	o->max_pa = s->plat->max_pa;
	o->keyid_bits = s->keyid_bits;
	o->keyid_shift = s->keyid_shift;
	o->mktme_keyids = c->mktme_keyids;
	o->tdx_keyids = c->tdx_keyids;
	o->first_tdx_keyid = c->mktme_keyids + 1;
	o->module_major = c->module_major;
	o->module_minor = c->module_minor;
	o->module_update = c->module_update;
	o->tdx_features0 = c->tdx_features0;
	o->seed = c->seed;
	o->module_loaded = !(c->flags & TDXSIM_CFG_NO_MODULE);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_lp_package(tdxsim *s, unsigned lp, unsigned *pkg)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (lp >= s->n_lps || !pkg)
		return sim_error(s, TDXSIM_ERR_ARG, "LP %u out of range (%u LPs)", lp, s->n_lps);
	*pkg = s->lps[lp].pkg;
	return TDXSIM_OK;
}

tdxsim_err tdxsim_rdmsr(tdxsim *s, unsigned lp, uint32_t msr, uint64_t *val)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (lp >= s->n_lps || !val)
		return sim_error(s, TDXSIM_ERR_ARG, "LP %u out of range (%u LPs)", lp, s->n_lps);
	switch (msr) {
	case MSR_IA32_MKTME_KEYID_PARTITIONING:
		/* EAX = MKTME KeyIDs, EDX = TDX private KeyIDs. */
		*val = ((uint64_t)s->cfg.tdx_keyids << 32) | s->cfg.mktme_keyids;
		return TDXSIM_OK;
	case MSR_IA32_TME_ACTIVATE:
		/* Locked (0), enabled (1), MK_TME_KEYID_BITS in 35:32. */
		*val = 0x3ULL | ((uint64_t)s->keyid_bits << 32);
		return TDXSIM_OK;
	case MSR_IA32_VMX_BASIC:
		/* VMCS revision 4, 4 KiB VMCS region, WB VMCS memory type (53:50 = 6),
		 * INS/OUTS info (54), true controls (55), exception error codes
		 * optional (56); bit 60: P-SEAMLDR calls leave the current VMCS
		 * intact (assumed on every profile unless the config says otherwise). */
		*val = 0x4ULL | (0x1000ULL << 32) | (6ULL << 50) | (1ULL << 54) | (1ULL << 55) |
		       (1ULL << 56);
		if (!(s->cfg.flags & TDXSIM_CFG_SEAMLDR_VMCS_BUG))
			*val |= 1ULL << 60;
		return TDXSIM_OK;
	default:
		return sim_error(s, TDXSIM_ERR_NOENT, "MSR 0x%x is not modelled", msr);
	}
}
