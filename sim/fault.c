/*
 * Seeded, deterministic fault injection: the module answers a chosen status
 * at a point where the real one can fail with it, as it does when RDRAND/
 * RDSEED or PCONFIG fail, when a lock is contended, when an interrupt is
 * pending during an interruptible leaf, or when teardown finds a vCPU still
 * associated or running, a range not yet tracked or a cache not written back.
 *
 * Each leaf asks seam_fault(c, kind) at its points; the plan is a short
 * array of faults scanned in order, the first that fires wins. Counters are
 * atomics (several LPs may match one fault); probability draws come from a
 * per-LP stream of their own (lps[].fault_rng), so a plan never perturbs the
 * module's own random numbers (keys, nonces) and each LP's sequence is the
 * same from run to run whatever the threads do.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_int.h"

/* ---- What can be injected where ------------------------------------------- */

struct fault_kind {
	uint64_t status;
	uint32_t kind;                  /* TDX_LEAF_F_* (leaf-list flag) or SEAM_FAULT_* */
	const char *what;               /* for messages */
	int leaves[6];                  /* SEAM_FAULT_* kinds: the leaves with such a point (-1 ends) */
};

static const struct fault_kind kinds[] = {
	{ TDX_RND_NO_ENTROPY, TDX_LEAF_F_RND, "draws no random numbers", { -1 } },
	{ TDX_KEY_GENERATION_FAILED, TDX_LEAF_F_KEYGEN, "programs no key", { -1 } },
	{ TDX_SYS_BUSY, TDX_LEAF_F_SYSLOCK, "takes no global lock", { -1 } },
	{ TDX_OPERAND_BUSY, TDX_LEAF_F_OPLOCK, "locks no operand", { -1 } },
	{ TDX_INTERRUPTED_RESUMABLE, TDX_LEAF_F_RESUMABLE, "is not interruptible", { -1 } },
	{ TDX_FLUSHVP_NOT_DONE, SEAM_FAULT_FLUSHVP, "does not check for associated vCPUs",
	  { TDH_MNG_VPFLUSHDONE, -1 } },
	{ TDX_PREVIOUS_TLB_EPOCH_BUSY, SEAM_FAULT_EPOCH, "does not start a TLB epoch",
	  { TDH_MEM_TRACK, -1 } },
	{ TDX_TLB_TRACKING_NOT_DONE, SEAM_FAULT_TLB_TRACK, "does not check TLB tracking",
	  { TDH_MEM_PAGE_REMOVE, TDH_MEM_SEPT_REMOVE, TDH_MEM_PAGE_DEMOTE, TDH_MEM_PAGE_PROMOTE,
	    TDH_MEM_RANGE_UNBLOCK, -1 } },
	{ TDX_WBCACHE_NOT_COMPLETE, SEAM_FAULT_WBCACHE, "does not check the cache write-back",
	  { TDH_MNG_KEY_FREEID, -1 } },
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static const struct fault_kind *kind_of_status(uint64_t status)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (kinds[i].status == status)
			return &kinds[i];
	return NULL;
}

static uint32_t fault_kind(uint64_t status)
{
	const struct fault_kind *k = kind_of_status(status);
	return k ? k->kind : 0;
}

/* The flags of a leaf from the leaf list. */
static uint32_t leaf_flags(unsigned leaf, int *defined)
{
	switch (leaf) {
#define CASE(e, n, s, fn, v, f, impl) case n: *defined = 1; return f;
	TDX_SEAMCALL_LEAVES(CASE)
#undef CASE
	}
	*defined = 0;
	return 0;
}

static int leaf_has_point(unsigned leaf, const struct fault_kind *k)
{
	int defined;
	uint32_t fl = leaf_flags(leaf, &defined);
	if (k->kind < 0x100u)
		return (fl & k->kind) != 0;
	for (int i = 0; k->leaves[i] >= 0; i++)
		if ((unsigned)k->leaves[i] == leaf)
			return 1;
	return 0;
}

/* Check a fault; on error write the reason to msg and return the error. */
static tdxsim_err fault_validate(const tdxsim *s, const tdxsim_fault *f, char *msg, size_t len)
{
	const struct fault_kind *k = kind_of_status(f->status);
	if (!k) {
		snprintf(msg, len, "cannot inject status 0x%016llx: injectable statuses are "
			 "TDX_RND_NO_ENTROPY, TDX_KEY_GENERATION_FAILED, TDX_SYS_BUSY, "
			 "TDX_OPERAND_BUSY (operand id added by the leaf), TDX_INTERRUPTED_RESUMABLE, "
			 "TDX_FLUSHVP_NOT_DONE, TDX_PREVIOUS_TLB_EPOCH_BUSY, TDX_TLB_TRACKING_NOT_DONE "
			 "and TDX_WBCACHE_NOT_COMPLETE", (unsigned long long)f->status);
		return TDXSIM_ERR_ARG;
	}
	if (f->leaf >= 0) {
		int defined;
		leaf_flags((unsigned)f->leaf, &defined);
		if (!defined) {
			snprintf(msg, len, "fault on leaf %d: no such SEAMCALL leaf", f->leaf);
			return TDXSIM_ERR_ARG;
		}
		if (!leaf_has_point((unsigned)f->leaf, k)) {
			snprintf(msg, len, "%s never returns %s on a real module (it %s)",
				 tdx_seamcall_leaf_name((uint64_t)f->leaf), tdx_status_name(f->status),
				 k->what);
			return TDXSIM_ERR_ARG;
		}
	} else if (f->leaf != -1) {
		snprintf(msg, len, "fault leaf %d: use a leaf number or -1", f->leaf);
		return TDXSIM_ERR_ARG;
	}
	if (f->lp < -1 || (f->lp >= 0 && (unsigned)f->lp >= s->n_lps)) {
		snprintf(msg, len, "fault LP %d out of range (%u LPs)", f->lp, s->n_lps);
		return TDXSIM_ERR_ARG;
	}
	if (!f->nth && !(f->probability > 0.0 && f->probability <= 1.0)) {
		snprintf(msg, len, "fault needs nth >= 1 or a probability in (0, 1]");
		return TDXSIM_ERR_ARG;
	}
	if (f->flags & ~TDXSIM_FAULT_PER_CALL) {
		snprintf(msg, len, "fault flags 0x%x: only TDXSIM_FAULT_PER_CALL is defined", f->flags);
		return TDXSIM_ERR_ARG;
	}
	return TDXSIM_OK;
}

static void fault_append(tdxsim *s, const tdxsim_fault *f, unsigned *id)
{
	int n = atomic_load(&s->n_faults);
	struct sim_fault *sf = &s->faults[n];
	memset(sf, 0, sizeof(*sf));
	sf->f = *f;
	sf->used = 1;
	atomic_store(&s->n_faults, n + 1);
	if (id)
		*id = (unsigned)n;
}

tdxsim_err tdxsim_fault_add(tdxsim *s, const tdxsim_fault *f, unsigned *id)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (!f || f->size < sizeof(*f))
		return sim_error(s, TDXSIM_ERR_VERSION, "tdxsim_fault.size must be sizeof(tdxsim_fault)");
	char msg[400];
	tdxsim_err err = fault_validate(s, f, msg, sizeof(msg));
	if (err)
		return sim_error(s, err, "%s", msg);
	if (atomic_load(&s->n_faults) >= TDXSIM_MAX_FAULTS)
		return sim_error(s, TDXSIM_ERR_NOMEM, "at most %d faults", TDXSIM_MAX_FAULTS);
	fault_append(s, f, id);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_fault_clear(tdxsim *s)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	atomic_store(&s->n_faults, 0);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_fault_fired(tdxsim *s, unsigned id, uint64_t *count)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	if (id >= (unsigned)atomic_load(&s->n_faults) || !count)
		return sim_error(s, TDXSIM_ERR_NOENT, "no fault %u", id);
	*count = atomic_load(&s->faults[id].fired);
	return TDXSIM_OK;
}

tdxsim_err tdxsim_fault_seed(tdxsim *s, uint64_t seed)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	s->fault_seed = seed;
	for (uint32_t i = 0; i < s->n_lps; i++) {
		uint64_t st = seed ^ (0xD6E8FEB86659FD93ULL * (i + 1));
		s->lps[i].fault_rng = sim_rng_next(&st);
	}
	return TDXSIM_OK;
}

uint64_t sim_fault_check(tdxsim *s, struct sim_lp *lp, unsigned leaf, uint32_t kind,
			 uint32_t *seen)
{
	int n = atomic_load_explicit(&s->n_faults, memory_order_acquire);
	for (int i = 0; i < n; i++) {
		struct sim_fault *sf = &s->faults[i];
		const tdxsim_fault *f = &sf->f;
		if (fault_kind(f->status) != kind)
			continue;
		if (f->leaf >= 0 && (unsigned)f->leaf != leaf)
			continue;
		if (f->lp >= 0 && (unsigned)f->lp != lp->id)
			continue;
		if (f->flags & TDXSIM_FAULT_PER_CALL) {
			if (*seen & (1u << i))
				continue;       /* this call was counted at an earlier point */
			*seen |= 1u << i;
		}
		uint64_t k = atomic_fetch_add(&sf->matched, 1) + 1;
		int fire;
		if (f->nth)
			fire = k >= f->nth && (!f->count || k < f->nth + f->count);
		else
			fire = (sim_rng_next(&lp->fault_rng) >> 11) * 0x1.0p-53 < f->probability;
		if (fire) {
			atomic_fetch_add(&sf->fired, 1);
			return f->status;
		}
	}
	return 0;
}

/* ---- Plan strings (tdxsim_fault_parse, TDXSIM_FAULTS) --------------------- */

static const char *const leaf_names[TDX_SEAMCALL_LEAF_MAX] = {
#define NAME(e, n, str, fn, v, f, impl) [n] = str,
	TDX_SEAMCALL_LEAVES(NAME)
#undef NAME
};

/* Names compare case-insensitively with '_' and '.' alike. */
static int name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = (char)toupper((unsigned char)*a), y = (char)toupper((unsigned char)*b);
		if (x == '_')
			x = '.';
		if (y == '_')
			y = '.';
		if (x != y)
			return 0;
	}
	return !*a && !*b;
}

static int parse_u64(const char *v, uint64_t *out)
{
	if (!*v || *v == '-' || *v == '+' || isspace((unsigned char)*v))
		return -1;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 0);
	if (errno || *end)
		return -1;
	*out = x;
	return 0;
}

static int is_any(const char *v)
{
	return !strcmp(v, "*") || name_eq(v, "any");
}

static char *trim(char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	char *e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = 0;
	return p;
}

/* One entry "k=v,k=v" into *f; on error a message naming the token. */
static int parse_entry(tdxsim *s, char *entry, tdxsim_fault *f, char *msg, size_t len)
{
	int have_status = 0, have_nth = 0, have_p = 0;
	for (char *tok; (tok = strsep(&entry, ",")) != NULL;) {
		tok = trim(tok);
		if (!*tok) {
			snprintf(msg, len, "empty field");
			return -1;
		}
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(msg, len, "'%s' is not key=value", tok);
			return -1;
		}
		*eq = 0;
		char *k = trim(tok), *v = trim(eq + 1);
		if (!*v) {
			snprintf(msg, len, "%s= has no value", k);
			return -1;
		}
		if (!strcmp(k, "status")) {
			const struct fault_kind *fk = NULL;
			for (size_t i = 0; i < N_KINDS && !fk; i++) {
				const char *name = tdx_status_name(kinds[i].status);
				if (name && (name_eq(v, name) || (!strncmp(name, "TDX_", 4) &&
								  name_eq(v, name + 4))))
					fk = &kinds[i];
			}
			if (!fk) {
				snprintf(msg, len, "status '%s' is not injectable (RND_NO_ENTROPY, "
					 "KEY_GENERATION_FAILED, SYS_BUSY, OPERAND_BUSY, "
					 "INTERRUPTED_RESUMABLE, FLUSHVP_NOT_DONE, PREVIOUS_TLB_EPOCH_BUSY, "
					 "TLB_TRACKING_NOT_DONE, WBCACHE_NOT_COMPLETE)", v);
				return -1;
			}
			f->status = fk->status;
			have_status = 1;
		} else if (!strcmp(k, "leaf")) {
			uint64_t n;
			if (is_any(v)) {
				f->leaf = -1;
				continue;
			}
			if (!parse_u64(v, &n)) {
				if (n >= TDX_SEAMCALL_LEAF_MAX || !leaf_names[n]) {
					snprintf(msg, len, "leaf '%s': no such SEAMCALL leaf", v);
					return -1;
				}
				f->leaf = (int32_t)n;
				continue;
			}
			int found = -1;
			for (int i = 0; i < TDX_SEAMCALL_LEAF_MAX && found < 0; i++)
				if (leaf_names[i] && name_eq(v, leaf_names[i]))
					found = i;
			if (found < 0) {
				snprintf(msg, len, "leaf '%s': no such SEAMCALL leaf (a name such as "
					 "TDH.MEM.PAGE.AUG, or a number)", v);
				return -1;
			}
			f->leaf = found;
		} else if (!strcmp(k, "lp")) {
			uint64_t n;
			if (is_any(v)) {
				f->lp = -1;
				continue;
			}
			if (parse_u64(v, &n) || n >= s->n_lps) {
				snprintf(msg, len, "lp '%s': not an LP number below %u", v, s->n_lps);
				return -1;
			}
			f->lp = (int32_t)n;
		} else if (!strcmp(k, "nth") || !strcmp(k, "count")) {
			uint64_t n;
			if (parse_u64(v, &n) || (!strcmp(k, "nth") && n == 0)) {
				snprintf(msg, len, "%s '%s': not a %s number", k, v,
					 !strcmp(k, "nth") ? "positive" : "non-negative");
				return -1;
			}
			if (!strcmp(k, "nth")) {
				f->nth = n;
				have_nth = 1;
			} else {
				f->count = n;
			}
		} else if (!strcmp(k, "p") || !strcmp(k, "probability")) {
			char *end;
			errno = 0;
			double p = strtod(v, &end);
			if (errno || *end || !(p > 0.0 && p <= 1.0)) {
				snprintf(msg, len, "%s '%s': not a probability in (0, 1]", k, v);
				return -1;
			}
			f->probability = p;
			have_p = 1;
		} else if (!strcmp(k, "per")) {
			if (!strcmp(v, "call")) {
				f->flags |= TDXSIM_FAULT_PER_CALL;
			} else if (!strcmp(v, "point")) {
				f->flags &= ~TDXSIM_FAULT_PER_CALL;
			} else {
				snprintf(msg, len, "per '%s': use per=call or per=point", v);
				return -1;
			}
		} else {
			snprintf(msg, len, "unknown key '%s' (status, leaf, lp, nth, count, p, per)", k);
			return -1;
		}
	}
	if (!have_status) {
		snprintf(msg, len, "no status= given");
		return -1;
	}
	if (have_nth && have_p) {
		snprintf(msg, len, "give nth= or p=, not both");
		return -1;
	}
	if (!have_nth && !have_p) {
		snprintf(msg, len, "give nth= (with count=) or p=");
		return -1;
	}
	return 0;
}

static tdxsim_err fault_parse(tdxsim *s, const char *plan, unsigned *first_id, const char *who)
{
	char msg[400];
	if (!plan)
		return sim_error(s, TDXSIM_ERR_ARG, "%s: no plan string", who);
	char *copy = strdup(plan);
	if (!copy)
		return sim_error(s, TDXSIM_ERR_NOMEM, "%s: out of memory", who);
	tdxsim_fault parsed[TDXSIM_MAX_FAULTS];
	int n = 0, entry_no = 0;
	tdxsim_err err = TDXSIM_OK;
	char *save = NULL;
	for (char *e = strtok_r(copy, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
		entry_no++;
		char *t = trim(e);
		if (!*t)
			continue;
		char shown[96];
		snprintf(shown, sizeof(shown), "%s", t);
		int have = atomic_load(&s->n_faults);
		if (have + n >= TDXSIM_MAX_FAULTS) {
			err = sim_error(s, TDXSIM_ERR_ARG, "%s: entry %d (\"%s\"): more than %d faults",
					who, entry_no, shown, TDXSIM_MAX_FAULTS);
			goto out;
		}
		tdxsim_fault f = TDXSIM_FAULT_INIT;
		if (parse_entry(s, t, &f, msg, sizeof(msg)) ||
		    fault_validate(s, &f, msg, sizeof(msg))) {
			err = sim_error(s, TDXSIM_ERR_ARG, "%s: entry %d (\"%s\"): %s", who, entry_no,
					shown, msg);
			goto out;
		}
		parsed[n++] = f;
	}
	for (int i = 0; i < n; i++) {
		unsigned id;
		fault_append(s, &parsed[i], &id);
		if (i == 0 && first_id)
			*first_id = id;
	}
out:
	free(copy);
	return err;
}

tdxsim_err tdxsim_fault_parse(tdxsim *s, const char *plan, unsigned *first_id)
{
	if (!sim_ok(s))
		return TDXSIM_ERR_HANDLE;
	return fault_parse(s, plan, first_id, "fault plan");
}

tdxsim_err sim_fault_env(tdxsim *s)
{
	uint64_t seed = s->cfg.seed;
	const char *v = getenv("TDXSIM_FAULT_SEED");
	if (v && *v && parse_u64(v, &seed))
		return sim_error(s, TDXSIM_ERR_ARG, "TDXSIM_FAULT_SEED '%s': not a number", v);
	tdxsim_fault_seed(s, seed);
	v = getenv("TDXSIM_FAULTS");
	if (v && *v)
		return fault_parse(s, v, NULL, "TDXSIM_FAULTS");
	return TDXSIM_OK;
}
