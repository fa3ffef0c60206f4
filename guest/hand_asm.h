/*
 * Host-side helpers for the small hand-assembled TD guests that benchmarks,
 * fuzzers and stress tests build with plain SEAMCALLs (no guest image):
 * a tiny assembler (bytes, short jumps) and the code page that boots a
 * vCPU from its reset vector into a 64-bit program.
 *
 * The code page sits at GPA TD_BOOT_CODE_GPA, its page-table page at
 * TD_BOOT_PT_GPA (zeroed by the host). A vCPU starts at the reset vector
 * (0xFFFFFFF0, 32-bit, paging off), jumps to offset 0, which maps the top
 * 2 MiB with one 2 MiB page through the self-referencing table page, sets
 * CR4.PAE, loads the GDT (64-bit code at selector 8, data at 16), sets
 * CR0.PG (TDH.VP.INIT has set EFER.LME) and far-jumps to the 64-bit
 * program at offset TD_BOOT_PROG. Layout: 0 boot code, TD_BOOT_PROG up to
 * TD_BOOT_PROG_END the program, 0xE0 GDT, 0x100 GDTR, 0xFF0 the reset
 * vector's jump; every other byte is HLT.
 */
#ifndef GUEST_HAND_ASM_H
#define GUEST_HAND_ASM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TD_BOOT_CODE_GPA 0xFFFFF000ULL
#define TD_BOOT_PT_GPA   0xFFFFE000ULL
#define TD_BOOT_PROG     0x50u
#define TD_BOOT_PROG_END 0xE0u

/* The boot page without a program: write it at TD_BOOT_PROG. */
static inline void td_boot_page(uint8_t *pg)
{
	static const uint8_t boot32[] = {
		0xB8, 0x03, 0xE0, 0xFF, 0xFF,                   /* mov eax, 0xFFFFE003 */
		0xA3, 0x00, 0xE0, 0xFF, 0xFF,                   /* mov [0xFFFFE000], eax: PML4[0] */
		0xA3, 0x18, 0xE0, 0xFF, 0xFF,                   /* mov [0xFFFFE018], eax: PDPT[3] */
		0xC7, 0x05, 0xF8, 0xEF, 0xFF, 0xFF,             /* mov dword [0xFFFFEFF8], */
		0x83, 0x00, 0xE0, 0xFF,                         /*   0xFFE00083: PD[511], 2M */
		0xB8, 0x00, 0xE0, 0xFF, 0xFF,                   /* mov eax, 0xFFFFE000 */
		0x0F, 0x22, 0xD8,                               /* mov cr3, eax */
		0x0F, 0x20, 0xE0,                               /* mov eax, cr4 */
		0x83, 0xC8, 0x20,                               /* or eax, PAE */
		0x0F, 0x22, 0xE0,                               /* mov cr4, eax */
		0x0F, 0x01, 0x15, 0x00, 0xF1, 0xFF, 0xFF,       /* lgdt [0xFFFFF100] */
		0x0F, 0x20, 0xC0,                               /* mov eax, cr0 */
		0x0D, 0x00, 0x00, 0x00, 0x80,                   /* or eax, PG */
		0x0F, 0x22, 0xC0,                               /* mov cr0, eax */
		0xEA, TD_BOOT_PROG, 0xF0, 0xFF, 0xFF, 0x08, 0x00, /* jmp 0x08:0xFFFFF050 */
	};
	static const uint64_t gdt[3] = { 0, 0x00AF9A000000FFFFULL, 0x00CF92000000FFFFULL };
	static const uint8_t reset_jmp[] = { 0xE9, 0x0B, 0xF0, 0xFF, 0xFF }; /* jmp 0xFFFFF000 */
	memset(pg, 0xF4, 4096);
	memcpy(pg, boot32, sizeof(boot32));
	memcpy(pg + 0xE0, gdt, sizeof(gdt));
	uint16_t limit = sizeof(gdt) - 1;
	uint32_t base = (uint32_t)(TD_BOOT_CODE_GPA + 0xE0);
	memcpy(pg + 0x100, &limit, 2);
	memcpy(pg + 0x102, &base, 4);
	memcpy(pg + 0xFF0, reset_jmp, sizeof(reset_jmp));
}

/* A tiny assembler: bytes appended at b + n. */
struct hasm {
	uint8_t *b;
	size_t n;
};

static inline void hasm_emit(struct hasm *c, const uint8_t *bytes, size_t len)
{
	memcpy(c->b + c->n, bytes, len);
	c->n += len;
}

#define HASM(c, ...) do { static const uint8_t e_[] = { __VA_ARGS__ }; hasm_emit(c, e_, sizeof(e_)); } while (0)

/* A short jump (op: 0xEB, or a 0x7x Jcc) back to label; 0, or -1 if out of
 * the 8-bit range (nothing emitted). */
static inline int hasm_jback(struct hasm *c, uint8_t op, size_t label)
{
	long rel = (long)label - (long)(c->n + 2);
	if (rel < -128)
		return -1;
	uint8_t j[2] = { op, (uint8_t)(int8_t)rel };
	hasm_emit(c, j, 2);
	return 0;
}

/* A forward short jump; returns the offset of its displacement byte, which
 * hasm_patch() points at the current position. */
static inline size_t hasm_jfwd(struct hasm *c, uint8_t op)
{
	uint8_t j[2] = { op, 0 };
	hasm_emit(c, j, 2);
	return c->n - 1;
}

static inline void hasm_patch(struct hasm *c, size_t at)
{
	c->b[at] = (uint8_t)(c->n - (at + 1));
}

#endif
