/*
 * Shared by the module's fuzz targets (fuzz_seamcall.c, fuzz_params.c,
 * fuzz_tdcall.c): the input reader, the prepared states each input starts
 * from (built once, then restored from a snapshot for every input, so a
 * saved reproducer replays exactly), the invariant check run after every
 * call, and a hand-assembled
 * guest whose loop lets the host choose the registers of every TDCALL it
 * makes.
 *
 * Failure policy: anything the harness must do to reach a prepared state
 * aborts if it fails (tsim_fail_at below); after that, every SEAMCALL may
 * fail with any status, but the process must not crash, trip a sanitizer or
 * break tdxsim_check_invariants().
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsim.h"
#include "tsim_td.h"
#include "guest/hand_asm.h"
#include "sim/sim_int.h"

/* The harness's checks: during setup a failure is a bug worth a crash. */
_Thread_local int tsim_worker_thread;
void tsim_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* ---- Input ---------------------------------------------------------------- */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline int fz_left(const struct fz_in *in)
{
	return in->n > 0;
}

static inline uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	return (uint16_t)(fz_u8(in) | (fz_u8(in) << 8));
}

static inline uint64_t fz_u64(struct fz_in *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)fz_u8(in) << (8 * i);
	return v;
}

/* Copy up to len bytes (the rest zero). */
static inline void fz_bytes(struct fz_in *in, void *buf, size_t len)
{
	size_t k = in->n < len ? in->n : len;
	memcpy(buf, in->p, k);
	memset((uint8_t *)buf + k, 0, len - k);
	in->p += k;
	in->n -= k;
}

/* ---- Invariants ----------------------------------------------------------- */

/*
 * Poisoned memory: a line last written through a shared KeyID after a TD
 * owned it. The host can do that to a TD's own structures through the
 * module: leaves that write output to a host buffer (TDH.SYS.INFO's
 * TDSYSINFO and CMR tables) check only that the PA is a shared one, as the
 * real module does, so a buffer on a TD's S-EPT page poisons it (on real
 * hardware the next read through the TD's KeyID is a machine check). The
 * invariant walk then reads garbage entries. That is the host's doing, not a
 * broken module: once any line is poisoned the rest of the input runs
 * without invariant checks (crashes and sanitizer reports still count).
 */
static int fz_no_invariants;

static inline int fz_poisoned(tdxsim *s)
{
	const struct phys_mem *m = &s->mem;
	for (uint64_t pa = 0; pa < m->size; pa += 4096) {
		if (__atomic_load_n(&m->page_meta[pa >> 12], __ATOMIC_ACQUIRE) != PAGE_MIXED)
			continue;
		for (uint64_t l = 0; l < 4096; l += 64)
			if (phys_mem_line_state(m, pa + l) & PHYS_LINE_POISON)
				return 1;
	}
	return 0;
}

/* Start of an input. */
static inline void fz_begin(void)
{
	fz_no_invariants = 0;
}

static inline void fz_check(tdxsim *s, const char *after)
{
	if (fz_no_invariants || tdxsim_check_invariants(s, 0) == TDXSIM_OK)
		return;
	if (fz_poisoned(s)) {
		fz_no_invariants = 1;
		return;
	}
	fprintf(stderr, "invariant broken after %s: %s\n", after, tdxsim_errmsg(s));
	abort();
}

/* ---- Prepared states ------------------------------------------------------ */

/*
 * Each prepared state is built once per process and kept as a snapshot
 * (tdxsim_snapshot_save); every later input restores it into the same handle
 * (bit-identical, so a saved reproducer still replays exactly, and the
 * snapshot code is fuzzed along). aux is the harness's own bookkeeping for
 * the state (the tsim_env, a TD's pages, address pools), copied back with
 * it. With TDXSIM_FUZZ_FRESH set in the environment, or if a snapshot
 * cannot be taken, every input builds its state afresh instead.
 */
struct fz_prep {
	int tried, ok;
	void *snap;
	size_t len;
	tdxsim *h;
	void *aux;
	size_t aux_len;
};

/* The prepared handle with aux restored, or NULL: build the state, then
 * fz_prep_keep(). */
static inline tdxsim *fz_prep_restore(struct fz_prep *p, void *aux, size_t aux_len)
{
	if (!p->ok)
		return NULL;
	if (tdxsim_snapshot_restore(p->h, p->snap, p->len) != TDXSIM_OK) {
		fprintf(stderr, "snapshot restore: %s\n", tdxsim_errmsg(p->h));
		abort();
	}
	memcpy(aux, p->aux, aux_len);
	return p->h;
}

/* After building: snapshot the state (once). Returns 1 if s is now the
 * prepared handle (do not close it), 0 if the caller closes it. */
static inline int fz_prep_keep(struct fz_prep *p, tdxsim *s, const void *aux, size_t aux_len)
{
	if (p->tried)
		return 0;
	p->tried = 1;
	if (getenv("TDXSIM_FUZZ_FRESH"))
		return 0;
	if (tdxsim_snapshot_save(s, &p->snap, &p->len) != TDXSIM_OK) {
		fprintf(stderr, "fuzz: no snapshot (%s): building every state afresh\n", tdxsim_errmsg(s));
		return 0;
	}
	p->aux = malloc(aux_len);
	if (!p->aux)
		abort();
	memcpy(p->aux, aux, aux_len);
	p->aux_len = aux_len;
	p->h = s;
	p->ok = 1;
	return 1;
}

/* The end of an input on s. */
static inline void fz_prep_done(struct fz_prep *p, tdxsim *s)
{
	if (!p->ok || s != p->h)
		tdxsim_close(s);
}

/* 2 packages x 2 LPs, 1 GiB: small and fast to bring up (the TDMR's PAMT is
 * initialised for every input; the TD fixtures take 4 KiB pages from
 * 256 MiB up, far below the PAMT and TDMR_INFO pages at the top). */
static inline void fz_config(tdxsim_config *cfg)
{
	*cfg = (tdxsim_config)TDXSIM_CONFIG_INIT;
	cfg->packages = 2;
	cfg->lps_per_package = 2;
	cfg->mem_bytes = 1ULL << 30;
}

/* The guest (all private, not a debug TD), as in bench/bench_guest.c:
 *   0xFFFFF000 code: +0x000 32-bit boot to long mode, +0x050 the loop, +0x0E0
 *              GDT, +0x100 GDTR, +0xFF0 reset vector
 *   0xFFFFE000 the boot page table (maps 0xFFE00000 with a 2 MiB page)
 * The loop: TDG.VP.VMCALL with mask FZ_MASK (RDX, RBX, RSI, RDI, R8-R15: the
 * host's values come back in them), then a TDCALL with RAX = RBX, RCX = RSI
 * and the rest as the host gave them, then RBX = the TDCALL's RAX, again. */
#define FZ_GPA_CODE TD_BOOT_CODE_GPA
#define FZ_GPA_PT   TD_BOOT_PT_GPA
#define FZ_MASK     0xFFCCULL
#define FZ_EXIT_VMCALL (TDX_SUCCESS | 77)

static inline void fz_guest_code(uint8_t *pg)
{
	static const uint8_t loop[] = {
		0x31, 0xC0,                                     /* xor eax, eax */
		0xB9, 0xCC, 0xFF, 0x00, 0x00,                   /* mov ecx, FZ_MASK */
		0x66, 0x0F, 0x01, 0xCC,                         /* tdcall: VMCALL */
		0x48, 0x89, 0xD8,                               /* mov rax, rbx */
		0x48, 0x89, 0xF1,                               /* mov rcx, rsi */
		0x66, 0x0F, 0x01, 0xCC,                         /* tdcall */
		0x48, 0x89, 0xC3,                               /* mov rbx, rax */
		0xEB, 0xE6,                                     /* jmp loop (-26) */
	};
	td_boot_page(pg);
	memcpy(pg + TD_BOOT_PROG, loop, sizeof(loop));
}

/* A finalised TD with one vCPU on LP 0, the guest's two pages, and (running)
 * the vCPU entered once: it waits in its loop's VMCALL. */
static inline void fz_td_build(struct tsim_env *e, struct tsim_td *td, int running)
{
	tsim_td_build(e, td, 0, 2);
	tsim_vcpu_add(td, 0);
	static uint8_t pg[4096];
	fz_guest_code(pg);
	tsim_page_add(td, FZ_GPA_CODE, pg, false);
	memset(pg, 0, sizeof(pg));
	tsim_page_add(td, FZ_GPA_PT, pg, false);
	tsim_td_finalize(td);
	if (running) {
		struct tdx_module_args a = { .rcx = td->vcpu[0].tdvpr };
		uint64_t st = seamcall_raw(e->s, 0, TDH_VP_ENTER, &a);
		TSIM_CHECK_MSG(st == FZ_EXIT_VMCALL && a.rcx == FZ_MASK,
			       "first VP.ENTER: status 0x%llx, RCX 0x%llx", (unsigned long long)st,
			       (unsigned long long)a.rcx);
	}
}

#endif
