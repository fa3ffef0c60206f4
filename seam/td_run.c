/*
 * The guest runner: the guest-run half of TDH.VP.ENTER (seam/vp_enter.h),
 * executing the vCPU on Unicorn. This is the only file that sees Unicorn.
 *
 * Engine. One uc_engine per vCPU, created at the first entry and kept in
 * v->run until the vCPU structure is freed. It is opened in 64-bit mode and
 * brought to the VP.INIT reset state (32-bit protected mode, paging off) by
 * toggling paging from the host (Unicorn's 64-bit mode starts in "long mode
 * without paging"); the engine keeps the CPU state between entries, and the
 * GPRs, RIP and RFLAGS are (re)loaded from TDVPS (v->g) at every entry and
 * saved there at every exit, together with CR0/2/3/4, EFER, selectors, the
 * FS/GS bases, GDTR and IDTR.
 *
 * Guest memory is mapped lazily, one 4 KiB page at a time, when Unicorn
 * reports an access to an unmapped (guest-physical) page, and when a guest
 * page walk or a TDCALL decode needs a page-table page (a walk through an
 * unmapped table reaches us as a #PF, which is retried once the tables are
 * mapped):
 *  - private GPA: the S-EPT leaf must be MAPPED (BLOCKEDW: read/fetch only);
 *    the runner maps its own decrypted copy of the page (read through the
 *    TD's KeyID), read+exec first; the first write marks it dirty and makes
 *    it writable. Encrypted RAM stays authoritative: dirty pages are written
 *    back through the TD's KeyID at every TD exit and before seam_tdcall(),
 *    and clean copies are refreshed when the page's write version changed
 *    (a module-handled TDCALL or a host leaf wrote it). A new TD epoch
 *    (MEM.TRACK, which follows every RANGE.BLOCK of a running TD) re-walks
 *    the S-EPT for every private copy and drops those no longer MAPPED at
 *    the same HPA, so a removed or blocked page faults again.
 *  - shared GPA (shared bit set): translated through the host's shared EPT
 *    (v->vmcs.shared_eptp) and mapped directly onto simulated memory (the
 *    host's view), read/write, never executable; revalidated at every entry.
 *  Anything else is an EPT-violation TD exit (reason 48).
 *
 * TD exits (tdx-abi.md 2.3): RAX = status | VMX exit reason, RCX = exit
 * qualification, RDX = extended exit qualification, R8 = GPA, R9 =
 * interruption info, R10-R15, RBX, RSI, RDI = 0 (RBP is not in the argument
 * block: preserved). Reasons produced:
 *   77 TDG.VP.VMCALL: RCX = the guest's mask, the selected GPRs carry the
 *      guest's values; the next entry copies the host's selected GPRs into
 *      the guest, sets guest RAX = 0, RCX = mask, and resumes after TDCALL.
 *      A mask with bit 0, 1, 4 (5 with NO_RBP_MOD) or 63:32 set is refused
 *      in the guest (RAX = OPERAND_INVALID + RCX) without an exit.
 *   48 EPT violation: RCX bits 2:0 = read/write/fetch, 5:3 = what the leaf
 *      allows; R8 = the GPA; RDX = 6 (PENDING) for a PENDING private page,
 *      else 0. The guest retries the access at the next entry.
 *   12 HLT: the guest resumes after the HLT.
 *    1 external interrupt (R9 = 0x800000EC): the run budget is used up (a
 *      spinning guest returns to the host); the guest resumes where it was.
 *    2 triple fault, status NON_RECOVERABLE_VCPU, vCPU DISABLED: a guest
 *      exception (Unicorn does not deliver exceptions through the guest's
 *      IDT), an undecodable instruction, or #GP/#UD a TDCALL asked for.
 *   seam_tdcall() returning SEAM_TDCALL_EXIT: v->tdcall_exit, the guest's
 *   registers and RIP as before the TDCALL (it runs again).
 *
 * Not modelled yet: #VE injection, machine checks on poisoned lines,
 * host kicks, 32-bit guest paging (only long-mode paging is walked by the
 * runner; the guest's own 32-bit paging works in Unicorn), XMM passing in
 * VMCALL.
 */
#include <stdlib.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include "seam/gpa.h"
#include "seam/sept.h"
#include "seam/tdcall.h"
#include "seam/td.h"
#include "seam/vp_enter.h"
#include "sim/sim_int.h"

#define RUN_UNTIL         0xDEAD0000DEAD0001ULL     /* non-canonical: never reached */
#define RUN_BLOCK_BUDGET  (1u << 22)                /* translated blocks per entry */
#define RUN_CYCLES_PER_BLOCK 8

#define EXIT_EXTERNAL_INTERRUPT SEAM_VP_EXIT_EXTERNAL_INTERRUPT
#define EXIT_TRIPLE_FAULT       2u
#define EXIT_HLT                12u
#define EXIT_EPT_VIOLATION      48u
#define EXIT_TDCALL             77u

#define EQ_READ   (1ULL << 0)
#define EQ_WRITE  (1ULL << 1)
#define EQ_FETCH  (1ULL << 2)
#define EQ_R_OK   (1ULL << 3)
#define EQ_W_OK   (1ULL << 4)
#define EQ_X_OK   (1ULL << 5)
#define EEQ_PENDING_EPT 6ULL

#define CR0_PG    (1ULL << 31)
#define CR4_PAE   (1ULL << 5)
#define CR4_LA57  (1ULL << 12)
#define EFER_LMA  (1ULL << 10)
#define PTE_P     1ULL
#define PTE_PS    (1ULL << 7)
#define PTE_ADDR  0x000FFFFFFFFFF000ULL

#define PG_PRIVATE  1u
#define PG_DIRTY    2u
#define PG_WRITABLE 4u

/* VMCALL RCX bits that may never be exposed: RAX, RCX, RSP; RBP too with
 * NO_RBP_MOD; and bits 63:32. */
#define VMCALL_BAD_MASK   ((1ULL << GPR_RAX) | (1ULL << GPR_RCX) | (1ULL << GPR_RSP) | \
			   0xFFFFFFFF00000000ULL)

enum run_stop {
	STOP_NONE = 0, STOP_VMCALL, STOP_TDCALL, STOP_EPT, STOP_FATAL, STOP_BUDGET,
};

struct run_page {
	uint64_t gpa;                   /* page GPA (shared bit included) */
	uint64_t hpa;
	uint8_t *buf;                   /* private: the decrypted copy; shared: NULL */
	uint32_t ver;                   /* private: page version the copy matches */
	uint32_t flags;                 /* PG_* */
};

struct td_run {
	uc_engine *uc;
	struct seam_ctx *c;             /* the entry in progress */
	struct seam_vcpu *v;
	struct run_page *pg;
	uint32_t n_pg, cap_pg;
	uint32_t *hash;                 /* open addressing: index + 1, 0 = empty */
	uint32_t hash_cap;              /* power of two, > 2 * n_pg */
	uint8_t **spare;                /* page buffers to reuse */
	uint32_t n_spare, cap_spare;
	uint64_t epoch;
	bool epoch_valid;
	bool vmcall_pending;
	uint64_t vmcall_mask;
	bool skip_ud;                   /* swallow the #UD of the TDCALL just handled */
	bool refaulted;                 /* a #PF/#DF was answered by mapping tables */
	uint64_t tdcall_rip;
	uint64_t blocks;
	enum run_stop stop;
	uint64_t ex_qual, ex_ext, ex_gpa;
};

static const int gpr_reg[16] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
	UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
	UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
	UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};
static const int sel_reg[6] = {
	UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS,
};

static uint64_t reg_get(struct td_run *r, int reg)
{
	uint64_t val = 0;
	uc_reg_read(r->uc, reg, &val);
	return val;
}

static void reg_set(struct td_run *r, int reg, uint64_t val)
{
	uc_reg_write(r->uc, reg, &val);
}

#define MSR_EFER 0xC0000080u

static uint64_t efer_get(struct td_run *r)
{
	uc_x86_msr msr = { .rid = MSR_EFER, .value = 0 };
	uc_reg_read(r->uc, UC_X86_REG_MSR, &msr);
	return msr.value;
}

static void efer_set(struct td_run *r, uint64_t val)
{
	uc_x86_msr msr = { .rid = MSR_EFER, .value = val };
	uc_reg_write(r->uc, UC_X86_REG_MSR, &msr);
}

/* ---- Page table of mapped guest pages ------------------------------------- */

static uint32_t hash_slot(const struct td_run *r, uint64_t gpa)
{
	uint64_t h = (gpa >> 12) * 0x9E3779B97F4A7C15ULL;
	return (uint32_t)(h >> 32) & (r->hash_cap - 1);
}

static struct run_page *page_find(struct td_run *r, uint64_t gpa)
{
	if (!r->hash_cap)
		return NULL;
	for (uint32_t i = hash_slot(r, gpa);; i = (i + 1) & (r->hash_cap - 1)) {
		uint32_t x = r->hash[i];
		if (!x)
			return NULL;
		if (r->pg[x - 1].gpa == gpa)
			return &r->pg[x - 1];
	}
}

static int hash_rebuild(struct td_run *r, uint32_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));
	if (!h)
		return -1;
	free(r->hash);
	r->hash = h;
	r->hash_cap = cap;
	for (uint32_t n = 0; n < r->n_pg; n++) {
		uint32_t i = hash_slot(r, r->pg[n].gpa);
		while (h[i])
			i = (i + 1) & (cap - 1);
		h[i] = n + 1;
	}
	return 0;
}

static struct run_page *page_add(struct td_run *r, uint64_t gpa)
{
	if (r->n_pg == r->cap_pg) {
		uint32_t cap = r->cap_pg ? 2 * r->cap_pg : 64;
		struct run_page *p = realloc(r->pg, cap * sizeof(*p));
		if (!p)
			return NULL;
		r->pg = p;
		r->cap_pg = cap;
	}
	if (2 * (r->n_pg + 1) >= r->hash_cap && hash_rebuild(r, r->hash_cap ? 2 * r->hash_cap : 256))
		return NULL;
	struct run_page *p = &r->pg[r->n_pg++];
	memset(p, 0, sizeof(*p));
	p->gpa = gpa;
	uint32_t i = hash_slot(r, gpa);
	while (r->hash[i])
		i = (i + 1) & (r->hash_cap - 1);
	r->hash[i] = r->n_pg;
	return p;
}

static uint8_t *buf_get(struct td_run *r)
{
	if (r->n_spare)
		return r->spare[--r->n_spare];
	return aligned_alloc(4096, 4096);
}

static void buf_put(struct td_run *r, uint8_t *b)
{
	if (r->n_spare == r->cap_spare) {
		uint32_t cap = r->cap_spare ? 2 * r->cap_spare : 64;
		uint8_t **s = realloc(r->spare, cap * sizeof(*s));
		if (!s) {
			free(b);
			return;
		}
		r->spare = s;
		r->cap_spare = cap;
	}
	r->spare[r->n_spare++] = b;
}

/* Unmap the pages for which drop() says so (all with drop == NULL). */
static void pages_drop(struct td_run *r, bool (*drop)(struct td_run *, struct run_page *))
{
	uint32_t kept = 0;
	bool any = false;
	for (uint32_t n = 0; n < r->n_pg; n++) {
		struct run_page *p = &r->pg[n];
		if (drop && !drop(r, p)) {
			r->pg[kept++] = *p;
			continue;
		}
		uc_mem_unmap(r->uc, p->gpa, 4096);
		uc_ctl_remove_cache(r->uc, p->gpa, p->gpa + 4096);
		if (p->buf)
			buf_put(r, p->buf);
		any = true;
	}
	r->n_pg = kept;
	if (any)
		hash_rebuild(r, r->hash_cap ? r->hash_cap : 256);
}

/* Write the dirty private copies back through the TD's KeyID and make them
 * read-only again, so the next write is noticed. */
static void pages_writeback(struct td_run *r)
{
	struct seam_ctx *c = r->c;
	for (uint32_t n = 0; n < r->n_pg; n++) {
		struct run_page *p = &r->pg[n];
		if (!(p->flags & PG_DIRTY))
			continue;
		seam_priv_write(c, p->hpa, r->v->td->hkid, p->buf, 4096);
		p->ver = phys_mem_page_ver(&c->s->mem, p->hpa);
		p->flags &= ~PG_DIRTY;
		uc_mem_protect(r->uc, p->gpa, 4096, UC_PROT_READ | UC_PROT_EXEC);
	}
}

/* Private copies the S-EPT no longer maps the same way (removed, blocked,
 * relocated, write-blocked). Table pages stay mapped otherwise: a guest
 * page walk through an unmapped table would be a #PF that Unicorn cannot
 * retry more than once per engine (its double-fault tracking is only reset
 * by an IDT delivery). */
static bool drop_stale_private(struct td_run *r, struct run_page *p)
{
	if (!(p->flags & PG_PRIVATE))
		return false;
	struct seam_gpa_xlat x;
	return seam_gpa_xlat(r->c, r->v, p->gpa, &x) || x.hpa != p->hpa ||
	       !!x.writable != !!(p->flags & PG_WRITABLE);
}

/* Shared pages whose shared-EPT translation changed or went away. */
static bool drop_stale_shared(struct td_run *r, struct run_page *p)
{
	if (p->flags & PG_PRIVATE)
		return false;
	struct seam_gpa_xlat x;
	return seam_gpa_xlat(r->c, r->v, p->gpa, &x) || x.hpa != p->hpa ||
	       !!x.writable != !!(p->flags & PG_WRITABLE);
}

/* Private copies whose page changed in RAM since they were made (the
 * copies are clean here: written back first). */
static void pages_refresh(struct td_run *r)
{
	struct seam_ctx *c = r->c;
	for (uint32_t n = 0; n < r->n_pg; n++) {
		struct run_page *p = &r->pg[n];
		if (!(p->flags & PG_PRIVATE))
			continue;
		uint32_t ver = phys_mem_page_ver(&c->s->mem, p->hpa);
		if (ver == p->ver)
			continue;
		seam_priv_read(c, p->hpa, r->v->td->hkid, p->buf, 4096);
		p->ver = phys_mem_page_ver(&c->s->mem, p->hpa);
		uc_ctl_remove_cache(r->uc, p->gpa, p->gpa + 4096);
	}
}

/* Map the page of gpa. Returns 0 (mapped, or already mapped), or -1 with
 * the EPT-violation details in x. */
static int page_fault_in(struct td_run *r, uint64_t gpa, struct seam_gpa_xlat *x)
{
	uint64_t page = gpa & ~0xFFFULL;
	if (page_find(r, page))
		return 0;
	if (seam_gpa_xlat(r->c, r->v, page, x))
		return -1;
	struct phys_mem *m = &r->c->s->mem;
	struct run_page *p;
	if (x->shared) {
		/* A shared mapping of a TD-owned page would read zeros and
		 * poison on writes: not mapped directly (an EPT violation). */
		for (uint64_t off = 0; off < 4096; off += 64)
			if (phys_mem_line_state(m, x->hpa + off))
				return -1;
		p = page_add(r, page);
		if (!p)
			return -1;
		p->hpa = x->hpa;
		p->flags = x->writable ? PG_WRITABLE : 0;
		uint32_t perms = UC_PROT_READ | (x->writable ? UC_PROT_WRITE : 0);
		if (uc_mem_map_ptr(r->uc, page, 4096, perms, phys_mem_host_ptr(m, x->hpa))) {
			r->n_pg--;
			hash_rebuild(r, r->hash_cap);
			return -1;
		}
		return 0;
	}
	uint8_t *buf = buf_get(r);
	if (!buf)
		return -1;
	p = page_add(r, page);
	if (!p) {
		buf_put(r, buf);
		return -1;
	}
	seam_priv_read(r->c, x->hpa, r->v->td->hkid, buf, 4096);
	p->hpa = x->hpa;
	p->buf = buf;
	p->ver = phys_mem_page_ver(m, x->hpa);
	p->flags = PG_PRIVATE | (x->writable ? PG_WRITABLE : 0);
	if (uc_mem_map_ptr(r->uc, page, 4096, UC_PROT_READ | UC_PROT_EXEC, buf)) {
		r->n_pg--;
		hash_rebuild(r, r->hash_cap);
		buf_put(r, buf);
		return -1;
	}
	return 0;
}

static void stop_ept(struct td_run *r, uint64_t gpa, uint64_t access, const struct seam_gpa_xlat *x)
{
	uint64_t q = access;
	if (x->state == SEPT_MAPPED && !x->shared)
		q |= EQ_R_OK | EQ_W_OK | EQ_X_OK;
	else if (x->state == SEPT_BLOCKEDW && !x->shared)
		q |= EQ_R_OK | EQ_X_OK;
	r->stop = STOP_EPT;
	r->ex_qual = q;
	r->ex_ext = (!x->shared && x->state == SEPT_PENDING) ? EEQ_PENDING_EPT : 0;
	r->ex_gpa = gpa;
	uc_emu_stop(r->uc);
}

static void stop_fatal(struct td_run *r)
{
	r->stop = STOP_FATAL;
	uc_emu_stop(r->uc);
}

/* Read guest-physical memory through the engine, mapping pages as needed.
 * newly, if not NULL, is set when a page had to be mapped. */
static int phys_read(struct td_run *r, uint64_t gpa, void *buf, size_t len, bool *newly)
{
	struct seam_gpa_xlat x;
	uint64_t page = gpa & ~0xFFFULL;
	if (!page_find(r, page)) {
		if (page_fault_in(r, page, &x))
			return -1;
		if (newly)
			*newly = true;
	}
	return uc_mem_read(r->uc, gpa, buf, len) ? -1 : 0;
}

/* Guest linear -> guest physical (paging off, or 4/5-level long-mode
 * paging), mapping the table pages it reads. */
static int guest_walk(struct td_run *r, uint64_t va, uint64_t *gpa, bool *newly)
{
	uint64_t cr0 = reg_get(r, UC_X86_REG_CR0);
	if (!(cr0 & CR0_PG)) {
		*gpa = va & 0xFFFFFFFFULL;
		return 0;
	}
	uint64_t efer = efer_get(r);
	if (!(efer & EFER_LMA))
		return -1;
	uint64_t cr4 = reg_get(r, UC_X86_REG_CR4);
	uint64_t table = reg_get(r, UC_X86_REG_CR3) & PTE_ADDR;
	for (int lvl = (cr4 & CR4_LA57) ? 4 : 3; lvl >= 0; lvl--) {
		uint64_t e;
		unsigned idx = (unsigned)(va >> (12 + 9 * lvl)) & 511;
		if (phys_read(r, table + 8ULL * idx, &e, 8, newly) || !(e & PTE_P))
			return -1;
		if (lvl == 0 || ((e & PTE_PS) && lvl <= 2)) {
			uint64_t size = 4096ULL << (9 * lvl);
			*gpa = (e & PTE_ADDR & ~(size - 1)) | (va & (size - 1));
			return 0;
		}
		table = e & PTE_ADDR;
	}
	return -1;
}

static int virt_read(struct td_run *r, uint64_t va, void *buf, size_t len)
{
	uint64_t gpa;
	if (guest_walk(r, va, &gpa, NULL))
		return -1;
	if ((gpa & 0xFFF) + len > 4096) {
		size_t n = 4096 - (gpa & 0xFFF);
		return phys_read(r, gpa, buf, n, NULL) ||
		       virt_read(r, va + n, (uint8_t *)buf + n, len - n) ? -1 : 0;
	}
	return phys_read(r, gpa, buf, len, NULL);
}

/* ---- Unicorn hooks ---------------------------------------------------------- */

static bool hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
			  int64_t value, void *user)
{
	(void)uc;
	(void)value;
	struct td_run *r = user;
	uint64_t access = type == UC_MEM_WRITE_UNMAPPED ? EQ_WRITE :
			  type == UC_MEM_FETCH_UNMAPPED ? EQ_FETCH : EQ_READ;
	uint64_t last = addr + (uint64_t)(size > 0 ? size - 1 : 0);
	struct seam_gpa_xlat x;
	if (page_fault_in(r, addr, &x)) {
		stop_ept(r, addr, access, &x);
		return false;
	}
	if ((last ^ addr) >> 12 && page_fault_in(r, last & ~0xFFFULL, &x)) {
		stop_ept(r, last & ~0xFFFULL, access, &x);
		return false;
	}
	return true;
}

static bool hook_prot(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		      int64_t value, void *user)
{
	(void)size;
	(void)value;
	struct td_run *r = user;
	struct run_page *p = page_find(r, addr & ~0xFFFULL);
	if (p && type == UC_MEM_WRITE_PROT && (p->flags & PG_PRIVATE) && (p->flags & PG_WRITABLE)) {
		p->flags |= PG_DIRTY;
		uc_mem_protect(uc, p->gpa, 4096, UC_PROT_ALL);
		return true;
	}
	/* A write to a read-only leaf, or a fetch from a shared page. */
	struct seam_gpa_xlat x;
	memset(&x, 0, sizeof(x));
	if (p && (p->flags & PG_PRIVATE))
		x.state = (p->flags & PG_WRITABLE) ? SEPT_MAPPED : SEPT_BLOCKEDW;
	else
		x.shared = true;
	stop_ept(r, addr, type == UC_MEM_WRITE_PROT ? EQ_WRITE :
		 type == UC_MEM_FETCH_PROT ? EQ_FETCH : EQ_READ, &x);
	return false;
}

static bool hook_insn_invalid(uc_engine *uc, void *user)
{
	(void)uc;
	struct td_run *r = user;
	uint64_t rip = reg_get(r, UC_X86_REG_RIP);
	uint8_t insn[4];
	static const uint8_t tdcall[4] = { 0x66, 0x0F, 0x01, 0xCC };
	if (virt_read(r, rip, insn, sizeof(insn)) || memcmp(insn, tdcall, sizeof(insn)))
		return false;                   /* a real #UD: fatal (hook_intr) */
	r->skip_ud = true;
	r->tdcall_rip = rip;
	reg_set(r, UC_X86_REG_RIP, rip + 4);
	uint64_t rax = reg_get(r, UC_X86_REG_RAX);
	if (rax != 0) {
		r->stop = STOP_TDCALL;
		uc_emu_stop(r->uc);
		return true;
	}
	uint64_t mask = reg_get(r, UC_X86_REG_RCX);
	uint64_t bad = VMCALL_BAD_MASK;
	if (r->v->td->config_flags & TDX_CONFIG_FLAGS_NO_RBP_MOD)
		bad |= 1ULL << GPR_RBP;
	if (!(efer_get(r) & EFER_LMA)) {
		stop_fatal(r);                  /* #GP(0): not in 64-bit mode */
		return true;
	}
	if (mask & bad) {
		reg_set(r, UC_X86_REG_RAX, tdx_status_op(TDX_OPERAND_INVALID, TDX_OPERAND_ID_RCX));
		return true;
	}
	r->vmcall_mask = mask;
	r->stop = STOP_VMCALL;
	uc_emu_stop(r->uc);
	return true;
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	(void)uc;
	struct td_run *r = user;
	if (intno == 6 && r->skip_ud) {
		r->skip_ud = false;
		return;
	}
	if ((intno == 14 || intno == 8) && r->stop == STOP_NONE) {
		/* A walk through a page-table page not mapped yet: map the tables
		 * and retry; a real page fault otherwise. (A fetch fault reaches
		 * us as #DF: Unicorn tries to deliver the #PF through the IDT,
		 * whose own walk faults too; nothing was pushed yet.) */
		bool newly = false;
		uint64_t gpa;
		uint64_t cr2 = reg_get(r, UC_X86_REG_CR2);
		int rc = guest_walk(r, cr2, &gpa, &newly);
		if (newly || (rc == 0 && !page_find(r, gpa & ~0xFFFULL))) {
			struct seam_gpa_xlat x;
			if (rc == 0 && page_fault_in(r, gpa, &x)) {
				stop_ept(r, gpa, EQ_READ, &x);
				return;
			}
			r->refaulted = true;
			return;
		}
	}
	if (r->stop == STOP_NONE)
		stop_fatal(r);
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	(void)addr;
	(void)size;
	struct td_run *r = user;
	if (++r->blocks >= RUN_BLOCK_BUDGET && r->stop == STOP_NONE) {
		r->stop = STOP_BUDGET;
		uc_emu_stop(uc);
	}
}

/* ---- Engine life ------------------------------------------------------------ */

void seam_vcpu_run_free(void *run)
{
	struct td_run *r = run;
	if (!r)
		return;
	if (r->uc)
		uc_close(r->uc);
	for (uint32_t n = 0; n < r->n_pg; n++)
		free(r->pg[n].buf);
	for (uint32_t n = 0; n < r->n_spare; n++)
		free(r->spare[n]);
	free(r->spare);
	free(r->pg);
	free(r->hash);
	free(r);
}

static void load_mmr(struct td_run *r, int reg, uint64_t base, uint32_t limit)
{
	uc_x86_mmr mmr = { .selector = 0, .base = base, .limit = limit, .flags = 0 };
	uc_reg_write(r->uc, reg, &mmr);
}

/* Bring a fresh engine to the state in v->g. */
static void engine_state(struct td_run *r, struct seam_vcpu *v)
{
	const struct seam_vcpu_guest *g = &v->g;
	if (v->launched && (g->efer & EFER_LMA)) {
		/* A vCPU that ran before, in long mode (the engine was lost):
		 * the 64-bit engine is in long mode already. */
		reg_set(r, UC_X86_REG_CR4, g->cr4);
		reg_set(r, UC_X86_REG_CR3, g->cr3);
		reg_set(r, UC_X86_REG_CR0, g->cr0);
		efer_set(r, g->efer);
		load_mmr(r, UC_X86_REG_GDTR, g->gdtr_base, g->gdtr_limit);
		load_mmr(r, UC_X86_REG_IDTR, g->idtr_base, g->idtr_limit);
		reg_set(r, UC_X86_REG_FS_BASE, g->fs_base);
		reg_set(r, UC_X86_REG_GS_BASE, g->gs_base);
		return;
	}
	/* Leave Unicorn's "long mode without paging" by a paging round trip
	 * (unicorn-notes.md), then the reset values. */
	reg_set(r, UC_X86_REG_CR4, CR4_PAE);
	reg_set(r, UC_X86_REG_CR0, 0x80000001ULL);
	reg_set(r, UC_X86_REG_CR0, g->cr0 & ~CR0_PG);
	reg_set(r, UC_X86_REG_CR4, g->cr4);
	efer_set(r, g->efer & ~EFER_LMA);
	reg_set(r, UC_X86_REG_CR3, g->cr3);
	load_mmr(r, UC_X86_REG_GDTR, g->gdtr_base, v->launched ? g->gdtr_limit : 0xFFFF);
	load_mmr(r, UC_X86_REG_IDTR, g->idtr_base, v->launched ? g->idtr_limit : 0xFFFF);
}

static struct td_run *engine_get(struct seam_vcpu *v)
{
	struct td_run *r = v->run;
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	uc_hook h;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &r->uc) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_MEM_UNMAPPED, (void *)hook_unmapped, r, 1, 0) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_MEM_PROT, (void *)hook_prot, r, 1, 0) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_INSN_INVALID, (void *)hook_insn_invalid, r, 1, 0) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_INTR, (void *)hook_intr, r, 1, 0) ||
	    uc_hook_add(r->uc, &h, UC_HOOK_BLOCK, (void *)hook_block, r, 1, 0)) {
		seam_vcpu_run_free(r);
		return NULL;
	}
	engine_state(r, v);
	v->run = r;
	return r;
}

static void regs_load(struct td_run *r, const struct seam_vcpu_guest *g)
{
	for (int i = 0; i < 16; i++)
		reg_set(r, gpr_reg[i], g->gpr[i]);
	reg_set(r, UC_X86_REG_RFLAGS, g->rflags);
}

static void regs_save(struct td_run *r, struct seam_vcpu_guest *g)
{
	for (int i = 0; i < 16; i++)
		g->gpr[i] = reg_get(r, gpr_reg[i]);
	g->rip = reg_get(r, UC_X86_REG_RIP);
	g->rflags = reg_get(r, UC_X86_REG_RFLAGS);
	g->cr0 = reg_get(r, UC_X86_REG_CR0);
	g->cr2 = reg_get(r, UC_X86_REG_CR2);
	g->cr3 = reg_get(r, UC_X86_REG_CR3);
	g->cr4 = reg_get(r, UC_X86_REG_CR4);
	g->efer = efer_get(r);
	g->fs_base = reg_get(r, UC_X86_REG_FS_BASE);
	g->gs_base = reg_get(r, UC_X86_REG_GS_BASE);
	for (int i = 0; i < 6; i++)
		g->sel[i] = (uint16_t)reg_get(r, sel_reg[i]);
	uc_x86_mmr mmr;
	if (!uc_reg_read(r->uc, UC_X86_REG_GDTR, &mmr)) {
		g->gdtr_base = mmr.base;
		g->gdtr_limit = mmr.limit;
	}
	if (!uc_reg_read(r->uc, UC_X86_REG_IDTR, &mmr)) {
		g->idtr_base = mmr.base;
		g->idtr_limit = mmr.limit;
	}
}

/* The host's GPR of a VMCALL-exposable index (NULL: not in the block). */
static uint64_t *host_gpr(struct tdx_module_args *a, int i)
{
	switch (i) {
	case GPR_RDX: return &a->rdx;
	case GPR_RBX: return &a->rbx;
	case GPR_RSI: return &a->rsi;
	case GPR_RDI: return &a->rdi;
	case GPR_R8: return &a->r8;
	case GPR_R9: return &a->r9;
	case GPR_R10: return &a->r10;
	case GPR_R11: return &a->r11;
	case GPR_R12: return &a->r12;
	case GPR_R13: return &a->r13;
	case GPR_R14: return &a->r14;
	case GPR_R15: return &a->r15;
	default: return NULL;
	}
}

static void exit_regs(struct tdx_module_args *a, uint64_t qual, uint64_t ext, uint64_t gpa,
		      uint64_t intr)
{
	a->rcx = qual;
	a->rdx = ext;
	a->r8 = gpa;
	a->r9 = intr;
	a->r10 = a->r11 = a->r12 = a->r13 = a->r14 = a->r15 = 0;
	a->rbx = a->rsi = a->rdi = 0;
}

/* Is the instruction before RIP a HLT? */
static bool after_hlt(struct td_run *r, uint64_t rip)
{
	uint8_t b;
	return rip && !virt_read(r, rip - 1, &b, 1) && b == 0xF4;
}

uint64_t seam_vp_run(struct seam_ctx *c, struct seam_vcpu *v)
{
	struct tdx_module_args *a = c->r;
	struct seam_td *td = v->td;
	struct td_run *r = engine_get(v);
	if (!r) {
		/* No host memory for the engine: the entry ends at once, as if
		 * an external interrupt were pending. */
		exit_regs(a, 0, 0, 0, SEAM_VP_INTR_INFO_TIMER);
		return TDX_SUCCESS | EXIT_EXTERNAL_INTERRUPT;
	}
	r->c = c;
	r->v = v;
	v->launched = true;

	/* Revalidate the mappings: a new TD epoch re-walks the private copies;
	 * changed pages are re-read; shared translations re-walked. */
	uint64_t epoch = atomic_load(&td->td_epoch);
	if (!r->epoch_valid || r->epoch != epoch)
		pages_drop(r, drop_stale_private);
	r->epoch = epoch;
	r->epoch_valid = true;
	pages_refresh(r);
	pages_drop(r, drop_stale_shared);

	if (r->vmcall_pending) {
		for (int i = 0; i < 16; i++) {
			uint64_t *h = host_gpr(a, i);
			if (h && (r->vmcall_mask & (1ULL << i)))
				v->g.gpr[i] = *h;
		}
		v->g.gpr[GPR_RAX] = 0;
		v->g.gpr[GPR_RCX] = r->vmcall_mask;
		r->vmcall_pending = false;
	}
	regs_load(r, &v->g);
	uint64_t rip = v->g.rip;
	r->blocks = 0;
	/* Map the tables that translate RIP and RSP now, so that the first
	 * fetch after the copies were dropped does not fault. */
	uint64_t unused;
	guest_walk(r, rip, &unused, NULL);
	guest_walk(r, v->g.gpr[GPR_RSP], &unused, NULL);

	for (;;) {
		r->stop = STOP_NONE;
		r->skip_ud = false;
		r->refaulted = false;
		uc_err err = uc_emu_start(r->uc, rip, RUN_UNTIL, 0, 0);
		c->cycles += r->blocks * RUN_CYCLES_PER_BLOCK;
		regs_save(r, &v->g);
		pages_writeback(r);
		rip = v->g.rip;
		switch (r->stop) {
		case STOP_TDCALL: {
			enum seam_tdcall_next next = seam_tdcall(c, v);
			if (next == SEAM_TDCALL_RESUME) {
				pages_refresh(r);
				regs_load(r, &v->g);
				rip = v->g.rip;
				continue;
			}
			if (next == SEAM_TDCALL_EXIT) {
				const struct seam_td_exit *e = &v->tdcall_exit;
				v->g.rip = r->tdcall_rip;
				exit_regs(a, e->exit_qual, e->ext_exit_qual, e->gpa, e->intr_info);
				return e->status;
			}
			goto fatal;             /* #GP / #UD: no IDT delivery */
		}
		case STOP_VMCALL:
			r->vmcall_pending = true;
			exit_regs(a, r->vmcall_mask, 0, 0, 0);
			for (int i = 0; i < 16; i++) {
				uint64_t *h = host_gpr(a, i);
				if (h && (r->vmcall_mask & (1ULL << i)))
					*h = v->g.gpr[i];
			}
			return TDX_SUCCESS | EXIT_TDCALL;
		case STOP_EPT:
			exit_regs(a, r->ex_qual, r->ex_ext, r->ex_gpa, 0);
			return TDX_SUCCESS | EXIT_EPT_VIOLATION;
		case STOP_BUDGET:
			exit_regs(a, 0, 0, 0, SEAM_VP_INTR_INFO_TIMER);
			return TDX_SUCCESS | EXIT_EXTERNAL_INTERRUPT;
		case STOP_FATAL:
			goto fatal;
		case STOP_NONE:
			break;
		}
		if (err == UC_ERR_OK && r->refaulted && r->blocks < RUN_BLOCK_BUDGET)
			continue;               /* stopped after mapping tables: go on */
		if (err == UC_ERR_OK && after_hlt(r, rip)) {
			exit_regs(a, 0, 0, 0, 0);
			return TDX_SUCCESS | EXIT_HLT;
		}
		if (err == UC_ERR_OK) {
			/* Stopped for no reason of ours: an interrupt-window exit. */
			exit_regs(a, 0, 0, 0, SEAM_VP_INTR_INFO_TIMER);
			return TDX_SUCCESS | EXIT_EXTERNAL_INTERRUPT;
		}
		goto fatal;
	}
fatal:
	atomic_store(&v->state, VCPU_DISABLED);
	exit_regs(a, 0, 0, 0, 0);
	return TDX_NON_RECOVERABLE_VCPU | EXIT_TRIPLE_FAULT;
}
