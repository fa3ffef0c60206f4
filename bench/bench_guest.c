/*
 * Guest benchmarks: a tiny hand-assembled guest run by TDH.VP.ENTER
 * (seam/td_run.c), driven by the host through TDG.VP.VMCALL.
 *  td.vmcall_roundtrip.ns      guest TDG.VP.VMCALL -> TD exit -> the host
 *                              enters again -> guest (median of single
 *                              round trips)
 *  td.page_faultin_4k.ns       per 4 KiB page (median), KVM + Linux guest
 *                              style: the guest's TDG.MEM.PAGE.ACCEPT of a FREE
 *                              GPA is an EPT-violation TD exit -> host
 *                              PAGE.AUG -> entry -> ACCEPT succeeds -> the
 *                              guest writes the page
 *  guest.store_loop.minsn_per_s  million guest instructions per second of a
 *                              5-instruction loop of 8-byte stores over a
 *                              1 MiB private buffer (64 MiB stored), counted
 *                              over the wall time of the VP.ENTERs running
 *                              it (budget exits included)
 *
 * Guest memory (all private; the TD is not a debug TD):
 *   0xFFFFF000 code: +0x000 32-bit boot (paging, long mode), +0x050 the
 *              64-bit program, +0x0E0 GDT, +0x100 GDTR, +0xFF0 reset vector
 *   0xFFFFE000 the boot page table (PML4[0] -> itself as PDPT, PDPT[3] ->
 *              itself as PD, PD[511] = 2 MiB at 0xFFE00000); PDPT[1] (pre-
 *              written by the host) -> 0xFFFFD000
 *   0xFFFFD000 PD of [1 GiB, 2 GiB): 2 MiB identity pages
 *   [1 GiB, ...) the pages faulted in (AUG + ACCEPT); the first 1 MiB is the
 *              store loop's buffer
 *
 * The program: VMCALLs (mask R11, R12) until the host answers R11 != 0;
 * then ACCEPT + write R11 pages from GPA R12 and VMCALL; then R11 loop
 * iterations of stores over the 1 MiB at R12 and VMCALL; then spins.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "guest/hand_asm.h"

#define GIB        (1ULL << 30)
#define GPA_CODE   TD_BOOT_CODE_GPA
#define GPA_PT     TD_BOOT_PT_GPA
#define GPA_PD1    0xFFFFD000ULL
#define GPA_FAULT  GIB

#define EXIT_VMCALL (TDX_SUCCESS | 77)
#define EXIT_EPT    (TDX_SUCCESS | 48)
#define EXIT_INTR   (TDX_SUCCESS | 1)

#define STORE_INSNS 5                   /* instructions per store-loop iteration */

static void jcc_back(struct hasm *c, uint8_t op, size_t label)
{
	if (hasm_jback(c, op, label)) {
		fprintf(stderr, "tdxsim-bench: guest jump out of range\n");
		exit(1);
	}
}

/* VMCALL exposing R11 and R12. */
#define VMCALL_R11_R12 0x31, 0xC0, 0xB9, 0x00, 0x18, 0x00, 0x00, 0x66, 0x0F, 0x01, 0xCC

static void build_code(uint8_t *pg)
{
	td_boot_page(pg);
	struct hasm c = { .b = pg, .n = TD_BOOT_PROG };
	/* Phase 1: VMCALL until the host answers R11 != 0. */
	size_t p1 = c.n;
	HASM(&c, VMCALL_R11_R12);
	HASM(&c, 0x4D, 0x85, 0xDB);                     /* test r11, r11 */
	jcc_back(&c, 0x74, p1);                         /* jz p1 */
	/* Phase 2: R11 pages from GPA R12: ACCEPT (4K), write the page. */
	HASM(&c, 0x4C, 0x89, 0xE6);                     /* mov rsi, r12 */
	HASM(&c, 0x4C, 0x89, 0xDB);                     /* mov rbx, r11 */
	size_t p2 = c.n;
	HASM(&c, 0x48, 0x89, 0xF1);                     /* mov rcx, rsi: 4K level */
	HASM(&c, 0xB8, 0x06, 0x00, 0x00, 0x00);         /* mov eax, 6: MEM.PAGE.ACCEPT */
	HASM(&c, 0x66, 0x0F, 0x01, 0xCC);               /* tdcall */
	HASM(&c, 0x48, 0x89, 0x06);                     /* mov [rsi], rax */
	HASM(&c, 0x48, 0x81, 0xC6, 0x00, 0x10, 0x00, 0x00); /* add rsi, 0x1000 */
	HASM(&c, 0x48, 0xFF, 0xCB);                     /* dec rbx */
	jcc_back(&c, 0x75, p2);                         /* jnz p2 */
	HASM(&c, VMCALL_R11_R12);
	/* Phase 3: R11 iterations of an 8-byte store over the 1 MiB at R12. */
	HASM(&c, 0x4C, 0x89, 0xE7);                     /* mov rdi, r12 */
	HASM(&c, 0x4C, 0x89, 0xD9);                     /* mov rcx, r11 */
	HASM(&c, 0x31, 0xD2);                           /* xor edx, edx */
	size_t p3 = c.n;
	HASM(&c, 0x48, 0x89, 0x0C, 0x17);               /* mov [rdi + rdx], rcx */
	HASM(&c, 0x48, 0x83, 0xC2, 0x08);               /* add rdx, 8 */
	HASM(&c, 0x81, 0xE2, 0xF8, 0xFF, 0x0F, 0x00);   /* and edx, 0xFFFF8 */
	HASM(&c, 0x48, 0xFF, 0xC9);                     /* dec rcx */
	jcc_back(&c, 0x75, p3);                         /* jnz p3 (5 instructions) */
	HASM(&c, VMCALL_R11_R12);
	HASM(&c, 0xEB, 0xFE);                           /* jmp $ */
	if (c.n > TD_BOOT_PROG_END) {
		fprintf(stderr, "tdxsim-bench: guest program too long\n");
		exit(1);
	}
}

static uint64_t enter(struct btd *t, struct tdx_module_args *a)
{
	a->rcx = t->tdvpr;
	return tdxsim_seamcall(t->s, 0, TDH_VP_ENTER, a);
}

static void want(uint64_t st, uint64_t exp, const char *what)
{
	if (st != exp) {
		char buf[96];
		fprintf(stderr, "tdxsim-bench: %s: VP.ENTER gave %s (0x%llx)\n", what,
			tdx_status_str(st, buf, sizeof(buf)), (unsigned long long)st);
		exit(1);
	}
}

/* Snapshots of this booted machine with its running TD: save, and restore
 * into another handle (the fuzzer's "start from a running TD"); the TD must
 * run on in the restored handle. */
static void bench_snapshot(struct bench_metrics *m, struct btd *t)
{
	enum { N = 9 };
	double save_ms[N], restore_ms[N];
	void *buf = NULL;
	size_t len = 0;
	for (unsigned i = 0; i < N; i++) {
		tdxsim_snapshot_free(buf);
		double t0 = bench_now_ns();
		if (tdxsim_snapshot_save(t->s, &buf, &len)) {
			fprintf(stderr, "tdxsim-bench: snapshot save: %s\n", tdxsim_errmsg(t->s));
			exit(1);
		}
		save_ms[i] = (bench_now_ns() - t0) / 1e6;
	}
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(t->s, &info);
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	char msg[256];
	tdxsim_snapshot_config(buf, len, &cfg, msg, sizeof(msg));
	tdxsim *b;
	if (tdxsim_open(&cfg, &b)) {
		fprintf(stderr, "tdxsim-bench: snapshot: tdxsim_open failed\n");
		exit(1);
	}
	for (unsigned i = 0; i < N; i++) {
		double t0 = bench_now_ns();
		if (tdxsim_snapshot_restore(b, buf, len)) {
			fprintf(stderr, "tdxsim-bench: snapshot restore: %s\n", tdxsim_errmsg(b));
			exit(1);
		}
		restore_ms[i] = (bench_now_ns() - t0) / 1e6;
	}
	struct btd u = *t;
	u.s = b;
	struct tdx_module_args a = { 0 };
	want(enter(&u, &a), EXIT_VMCALL, "vmcall after a snapshot restore");
	qsort(save_ms, N, sizeof(save_ms[0]), bench_cmp_double);
	qsort(restore_ms, N, sizeof(restore_ms[0]), bench_cmp_double);
	bench_metric(m, "snapshot.save_ms", save_ms[N / 2], "ms");
	bench_metric(m, "snapshot.restore_ms", restore_ms[N / 2], "ms");
	bench_metric(m, "snapshot.bytes", (double)len, "bytes");
	printf("snapshot.save_ms = %.2f, snapshot.restore_ms = %.2f (%.1f MiB, %llu MiB machine, "
	       "one running TD)\n", save_ms[N / 2], restore_ms[N / 2], len / 1048576.0,
	       (unsigned long long)(info.mem_bytes >> 20));
	tdxsim_close(b);
	tdxsim_snapshot_free(buf);
}

void bench_guest(struct bench_metrics *m)
{
	tdxsim *s = bench_open(2);
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(s, &info);

	enum { FAULT_PAGES = 1024, RT = 20001 };
	struct btd t = { .next_pa = 16ULL << 20, .params_pa = 4ULL << 20, .src_pa = 8ULL << 20 };
	btd_create(&t, s, info.first_tdx_keyid + 1);
	btd_sept_map(&t, 0xFFE00000ULL, 2ULL << 20);
	btd_sept_map(&t, GPA_FAULT, FAULT_PAGES * 4096ULL);
	static uint8_t pg[4096];
	build_code(pg);
	btd_page_add(&t, GPA_CODE, pg);
	memset(pg, 0, sizeof(pg));
	uint64_t e = GPA_PD1 | 3;                       /* PDPT[1] */
	memcpy(pg + 8, &e, 8);
	btd_page_add(&t, GPA_PT, pg);
	for (unsigned i = 0; i < 512; i++) {
		e = (GIB + ((uint64_t)i << 21)) | 0x83;  /* 2 MiB, present, writable */
		memcpy(pg + 8 * i, &e, 8);
	}
	btd_page_add(&t, GPA_PD1, pg);
	struct tdx_module_args a = { .rcx = t.tdr };
	bench_must(s, 0, TDH_MR_FINALIZE, &a);

	/* 1. VMCALL round trips (the first entry boots the guest). */
	memset(&a, 0, sizeof(a));
	want(enter(&t, &a), EXIT_VMCALL, "boot");
	static double rt[RT];
	for (unsigned i = 0; i < 1000; i++) {           /* warm-up */
		a = (struct tdx_module_args){ 0 };
		want(enter(&t, &a), EXIT_VMCALL, "vmcall");
	}
	for (unsigned i = 0; i < RT; i++) {
		a = (struct tdx_module_args){ 0 };
		double t0 = bench_now_ns();
		uint64_t st = enter(&t, &a);
		rt[i] = bench_now_ns() - t0;
		want(st, EXIT_VMCALL, "vmcall");
	}
	qsort(rt, RT, sizeof(rt[0]), bench_cmp_double);
	double vmcall_ns = rt[RT / 2];
	bench_snapshot(m, &t);          /* the TD booted, waiting in its VMCALL loop */

	/* 2. Fault-in: ACCEPT exit -> AUG -> ACCEPT -> write, per page. */
	uint64_t aug_pa = t.next_pa;
	t.next_pa += FAULT_PAGES * 4096ULL;
	static const uint8_t zero[4096];
	for (unsigned i = 0; i < FAULT_PAGES; i++)      /* the host's pages, zeroed */
		tdxsim_mem_write(s, aug_pa + i * 4096ULL, 0, zero, sizeof(zero));
	unsigned augs = 0;
	a = (struct tdx_module_args){ .r11 = FAULT_PAGES, .r12 = GPA_FAULT };
	/* Per page: PAGE.AUG, then the entry that accepts and writes the page
	 * and runs to the next page's EPT violation (the last one to the
	 * VMCALL); the median of those, as for the round trips. */
	static double per_page[FAULT_PAGES];
	double aug_ns = 0;
	uint64_t st = enter(&t, &a);
	while (st == EXIT_EPT) {
		uint64_t gpa = a.r8 & ~0xFFFULL;
		if (augs == FAULT_PAGES || gpa != GPA_FAULT + augs * 4096ULL)
			want(st, EXIT_VMCALL, "fault-in (unexpected GPA)");
		a = (struct tdx_module_args){ .rcx = gpa, .rdx = t.tdr, .r8 = aug_pa + augs * 4096ULL };
		double t0 = bench_now_ns();
		bench_must(s, 0, TDH_MEM_PAGE_AUG, &a);
		double t1 = bench_now_ns();
		a = (struct tdx_module_args){ 0 };
		st = enter(&t, &a);
		per_page[augs] = bench_now_ns() - t0;
		aug_ns += t1 - t0;
		augs++;
	}
	qsort(per_page, augs, sizeof(per_page[0]), bench_cmp_double);
	double fault_ns = augs ? per_page[augs / 2] : 0;
	if (getenv("TDXSIM_BENCH_DETAIL"))
		printf("  fault-in: PAGE.AUG %.0f ns/page (mean), page min %.0f, p90 %.0f\n",
		       augs ? aug_ns / augs : 0, augs ? per_page[0] : 0, augs ? per_page[augs * 9 / 10] : 0);
	want(st, EXIT_VMCALL, "fault-in");
	if (augs != FAULT_PAGES)
		want(augs, FAULT_PAGES, "fault-in (page count)");

	/* 3. Store loop over 1 MiB of the pages just accepted. */
	const uint64_t iters = (64ULL << 20) / 8;
	a = (struct tdx_module_args){ .r11 = iters, .r12 = GPA_FAULT };
	unsigned entries = 1;
	double t0 = bench_now_ns();
	while ((st = enter(&t, &a)) == EXIT_INTR) {
		a = (struct tdx_module_args){ 0 };
		entries++;
	}
	double loop_ns = bench_now_ns() - t0;
	want(st, EXIT_VMCALL, "store loop");
	double minsn = (double)iters * STORE_INSNS / (loop_ns / 1e9) / 1e6;

	bench_metric(m, "td.vmcall_roundtrip.ns", vmcall_ns, "ns");
	bench_metric(m, "td.page_faultin_4k.ns", fault_ns, "ns");
	bench_metric(m, "guest.store_loop.minsn_per_s", minsn, "Minsn/s");
	printf("td.vmcall_roundtrip.ns = %.0f (min %.0f, p90 %.0f)\n", vmcall_ns, rt[0],
	       rt[RT * 9 / 10]);
	printf("td.page_faultin_4k.ns = %.0f (%u pages)\n", fault_ns, FAULT_PAGES);
	printf("guest.store_loop.minsn_per_s = %.0f (%llu instructions, %u entries, %.1f ms)\n", minsn,
	       (unsigned long long)iters * STORE_INSNS, entries, loop_ns / 1e6);
	free(t.pages);
	free(t.sept);
	tdxsim_close(s);
}
