/*
 * Guest images boot without the module: guest_lifecycle.bin on a bare
 * Unicorn engine, started from the TD reset state (tdx-abi.md 7) with the
 * memory a host would PAGE.ADD, reaches 64-bit mode and reports through
 * ucall (TDG.VP.VMCALL MMIO write, tdx-abi.md 1.3). TDCALL raises #UD in
 * Unicorn; the hooks below play the host's part.
 *
 * Unicorn 2.1.1's x86 CPUs have MAXPHYADDR 40 (every CPU model): a guest
 * page-table entry with the shared bit (47 or 51) set takes a reserved-bit
 * #PF. The #PF hook below therefore folds the shared bit of the faulting
 * 2 MiB entry down to bit 39 (SHARED_FOLD) and retries; the shared ucall
 * page is mapped at its folded address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <unicorn/unicorn.h>

#include "guest/boot.h"
#include "guest/images.h"
#include "guest/tdcall.h"
#include "guest/ucall.h"

#define RAM_LOW_GPA     GUEST_BOOT_PARAMS_GPA           /* boot page + page tables */
#define RAM_LOW_SIZE    0x10000
#define STACKS_SIZE     (GUEST_MAX_VCPUS * GUEST_STACK_SIZE)
#define EFER_LMA        (1ull << 10)
#define CR0_PG          (1ull << 31)
#define SHARED_FOLD     (1ull << 39)
#define PTE_ADDR        0x000FFFFFFFFFF000ull

struct tdcall_seen {
	uint64_t rax, rcx, r10, r11, r12, r13, r14, r15;
	uint64_t cr0, efer;
	uint16_t cs;
};

struct run {
	uc_engine *uc;
	uint64_t shared_bit;
	int tdcall_pending;             /* the #UD of a TDCALL the hook handled */
	int unexpected_intr;            /* other interrupts */
	unsigned ntdcalls;
	struct tdcall_seen calls[16];
	struct ucall ucalls[16];
	unsigned nucalls;
	int done;
	unsigned folds;
};

static uint64_t reg(uc_engine *uc, int id)
{
	uint64_t v = 0;
	assert_int_equal(uc_reg_read(uc, id, &v), UC_ERR_OK);
	return v;
}

static void set_reg(uc_engine *uc, int id, uint64_t v)
{
	assert_int_equal(uc_reg_write(uc, id, &v), UC_ERR_OK);
}

static uint64_t rdmsr(uc_engine *uc, uint32_t msr)
{
	uc_x86_msr m = { .rid = msr };
	assert_int_equal(uc_reg_read(uc, UC_X86_REG_MSR, &m), UC_ERR_OK);
	return m.value;
}

static void wrmsr(uc_engine *uc, uint32_t msr, uint64_t v)
{
	uc_x86_msr m = { .rid = msr, .value = v };
	assert_int_equal(uc_reg_write(uc, UC_X86_REG_MSR, &m), UC_ERR_OK);
}

static bool on_invalid(uc_engine *uc, void *user)
{
	struct run *r = user;
	uint64_t rip = reg(uc, UC_X86_REG_RIP);
	uint8_t insn[4];
	if (uc_mem_read(uc, rip, insn, sizeof(insn)) != UC_ERR_OK ||
	    memcmp(insn, "\x66\x0f\x01\xcc", 4) != 0)
		return false;
	if (r->ntdcalls < 16) {
		struct tdcall_seen *t = &r->calls[r->ntdcalls];
		t->rax = reg(uc, UC_X86_REG_RAX);
		t->rcx = reg(uc, UC_X86_REG_RCX);
		t->r10 = reg(uc, UC_X86_REG_R10);
		t->r11 = reg(uc, UC_X86_REG_R11);
		t->r12 = reg(uc, UC_X86_REG_R12);
		t->r13 = reg(uc, UC_X86_REG_R13);
		t->r14 = reg(uc, UC_X86_REG_R14);
		t->r15 = reg(uc, UC_X86_REG_R15);
		t->cr0 = reg(uc, UC_X86_REG_CR0);
		t->efer = rdmsr(uc, 0xC0000080);
		t->cs = (uint16_t)reg(uc, UC_X86_REG_CS);
		if (t->rax == TDG_VP_VMCALL && t->r11 == TDVMCALL_MMIO &&
		    t->r14 == (UCALL_MMIO_OFFSET | r->shared_bit) && r->nucalls < 16) {
			struct ucall *u = &r->ucalls[r->nucalls++];
			uint64_t gpa = (t->r15 & ~r->shared_bit) | SHARED_FOLD;
			if (!(t->r15 & r->shared_bit) || uc_mem_read(uc, gpa, u, sizeof(*u)) != UC_ERR_OK)
				memset(u, 0, sizeof(*u));
			if (u->cmd == UCALL_DONE || u->cmd == UCALL_ABORT || u->cmd == UCALL_UNHANDLED) {
				r->done = 1;
				uc_emu_stop(uc);
			}
		}
	}
	r->ntdcalls++;
	/* The host's answer: TDCALL status 0, GHCI status 0, resume after TDCALL. */
	set_reg(uc, UC_X86_REG_RAX, 0);
	set_reg(uc, UC_X86_REG_R10, 0);
	set_reg(uc, UC_X86_REG_RIP, rip + 4);
	r->tdcall_pending = 1;
	return true;
}

/* A #PF on the shared alias: fold the 2 MiB entry's shared bit to SHARED_FOLD. */
static bool fold_shared(struct run *r, uint64_t va)
{
	uint64_t e = reg(r->uc, UC_X86_REG_CR3) & PTE_ADDR, addr = 0;
	for (int level = 3; level >= 1; level--) {
		addr = (e & PTE_ADDR) + ((va >> (12 + 9 * level)) & 511) * 8;
		if (uc_mem_read(r->uc, addr, &e, 8) != UC_ERR_OK || !(e & 1))
			return false;
	}
	if (!(e & 0x80) || !(e & r->shared_bit))
		return false;
	e = (e & ~r->shared_bit) | SHARED_FOLD;
	r->folds++;
	return uc_mem_write(r->uc, addr, &e, 8) == UC_ERR_OK;
}

static void on_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct run *r = user;
	if (intno == 6 && r->tdcall_pending) {
		r->tdcall_pending = 0;
		return;
	}
	if (intno == 14 && fold_shared(r, reg(uc, UC_X86_REG_CR2)))
		return;
	r->unexpected_intr++;
	fprintf(stderr, "unexpected interrupt %u at rip 0x%llx\n", intno,
		(unsigned long long)reg(uc, UC_X86_REG_RIP));
	uc_emu_stop(uc);
}

/* Maps the memory a host would add, loads the image and sets the VP.INIT state. */
static void setup(struct run *r, const char *image, unsigned gpaw, unsigned vcpu, uint64_t magic)
{
	memset(r, 0, sizeof(*r));
	r->shared_bit = 1ull << (gpaw - 1);
	assert_int_equal(uc_open(UC_ARCH_X86, UC_MODE_64, &r->uc), UC_ERR_OK);
	uc_engine *uc = r->uc;

	FILE *f = fopen(image, "rb");
	assert_non_null(f);
	static uint8_t img[GUEST_IMAGE_SIZE + 1];
	size_t n = fread(img, 1, sizeof(img), f);
	fclose(f);
	assert_int_equal(n, GUEST_IMAGE_SIZE);

	assert_int_equal(uc_mem_map(uc, GUEST_IMAGE_GPA, GUEST_IMAGE_SIZE, UC_PROT_ALL), UC_ERR_OK);
	assert_int_equal(uc_mem_write(uc, GUEST_IMAGE_GPA, img, GUEST_IMAGE_SIZE), UC_ERR_OK);
	assert_int_equal(uc_mem_map(uc, RAM_LOW_GPA, RAM_LOW_SIZE, UC_PROT_ALL), UC_ERR_OK);
	assert_int_equal(uc_mem_map(uc, GUEST_STACK_GPA, STACKS_SIZE, UC_PROT_ALL), UC_ERR_OK);
	assert_int_equal(uc_mem_map(uc, GUEST_UCALL_OFFSET | SHARED_FOLD, 0x1000, UC_PROT_ALL),
			 UC_ERR_OK);

	struct guest_boot_params bp = {
		.magic = magic, .version = GUEST_BOOT_VERSION, .num_vcpus = 2,
		.arg = 0xA5A5F00D, .pt_gpa = GUEST_PT_GPA,
	};
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++)
		bp.stack_top[i] = GUEST_STACK_GPA + (uint64_t)(i + 1) * GUEST_STACK_SIZE;
	assert_int_equal(uc_mem_write(uc, GUEST_BOOT_PARAMS_GPA, &bp, sizeof(bp)), UC_ERR_OK);

	/* unicorn-notes.md: leave the engine's "long mode, paging off" state through paging. */
	set_reg(uc, UC_X86_REG_CR4, 0x20);
	set_reg(uc, UC_X86_REG_CR0, 0x80000001);
	set_reg(uc, UC_X86_REG_CR0, 0x21);
	set_reg(uc, UC_X86_REG_CR4, 0x2040);
	wrmsr(uc, 0xC0000080, 0x901);
	set_reg(uc, UC_X86_REG_RFLAGS, 0x2);
	set_reg(uc, UC_X86_REG_RIP, GUEST_RESET_VECTOR);
	set_reg(uc, UC_X86_REG_RBX, gpaw);
	set_reg(uc, UC_X86_REG_RSI, vcpu);
	set_reg(uc, UC_X86_REG_RCX, 0x1234);
	set_reg(uc, UC_X86_REG_R8, 0x1234);
	set_reg(uc, UC_X86_REG_RDX, 0x806F8);

	uc_hook h1, h2;
	assert_int_equal(uc_hook_add(uc, &h1, UC_HOOK_INSN_INVALID, (void *)on_invalid, r, 1, 0),
			 UC_ERR_OK);
	assert_int_equal(uc_hook_add(uc, &h2, UC_HOOK_INTR, (void *)on_intr, r, 1, 0), UC_ERR_OK);
}

static uc_err run(struct run *r)
{
	return uc_emu_start(r->uc, GUEST_RESET_VECTOR, 0, 60 * 1000000, 0);
}

static void test_image_layout(void **state)
{
	(void)state;
	FILE *f = fopen(GUEST_IMAGE_PATH("guest_lifecycle"), "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_int_equal(ftell(f), GUEST_IMAGE_SIZE);
	uint8_t rv[16];
	assert_int_equal(fseek(f, GUEST_IMAGE_SIZE - 16, SEEK_SET), 0);
	assert_int_equal(fread(rv, 1, 16, f), 16);
	fclose(f);
	/* jmp rel32 (E9): a near jump, as the reset-time GDT has no usable descriptor. */
	assert_int_equal(rv[0], 0xE9);
	int32_t rel;
	memcpy(&rel, &rv[1], 4);
	uint64_t target = (uint64_t)(uint32_t)(GUEST_RESET_VECTOR + 5 + (int64_t)rel);
	assert_true(target >= GUEST_IMAGE_GPA && target < GUEST_RESET_VECTOR);
	assert_int_equal(GUEST_IMAGE_GPA, 0xFFFF0000);
}

static void check_ucall_tdcall(const struct run *r, unsigned i, unsigned vcpu)
{
	const struct tdcall_seen *t = &r->calls[i];
	assert_int_equal(t->rax, 0);
	assert_int_equal(t->rcx, 0xFC00);
	assert_int_equal(t->r10, 0);
	assert_int_equal(t->r11, 48);
	assert_int_equal(t->r12, 8);
	assert_int_equal(t->r13, 1);
	assert_int_equal(t->r14, UCALL_MMIO_OFFSET | r->shared_bit);
	assert_int_equal(t->r15, (GUEST_UCALL_OFFSET + vcpu * UCALL_SIZE) | r->shared_bit);
	/* 64-bit mode: paging on (CR0.ET reads 1 in Unicorn), EFER.LMA, the runtime's code selector. */
	assert_true(t->cr0 & CR0_PG);
	assert_true(t->cr0 & 1);
	assert_true(t->efer & EFER_LMA);
	assert_int_equal(t->cs, 0x08);
}

static void boot_lifecycle(unsigned gpaw, unsigned vcpu)
{
	struct run r;
	setup(&r, GUEST_IMAGE_PATH("guest_lifecycle"), gpaw, vcpu, GUEST_BOOT_MAGIC);
	assert_int_equal(run(&r), UC_ERR_OK);
	assert_int_equal(r.unexpected_intr, 0);
	assert_int_equal(r.folds, 1);   /* one 2 MiB shared-alias entry: the ucall page's */
	assert_true(r.done);
	assert_int_equal(r.ntdcalls, 3);
	assert_int_equal(r.nucalls, 3);
	for (unsigned i = 0; i < 3; i++)
		check_ucall_tdcall(&r, i, vcpu);

	assert_int_equal(r.ucalls[0].cmd, UCALL_SYNC);
	assert_int_equal(r.ucalls[0].args[0], 1);
	assert_int_equal(r.ucalls[0].args[1], vcpu);
	assert_int_equal(r.ucalls[0].args[2], 0xA5A5F00D);
	assert_int_equal(r.ucalls[0].vcpu, vcpu);
	assert_non_null(strstr(r.ucalls[0].file, "guest_lifecycle.c"));
	assert_true(r.ucalls[0].line > 0);
	assert_int_equal(r.ucalls[1].cmd, UCALL_SYNC);
	assert_int_equal(r.ucalls[1].args[0], 2);
	assert_int_equal(r.ucalls[1].args[1], gpaw);
	assert_int_equal(r.ucalls[2].cmd, UCALL_DONE);
	assert_true(r.ucalls[2].line > r.ucalls[1].line);
	uc_close(r.uc);
}

static void test_lifecycle_boots_gpaw48(void **state)
{
	(void)state;
	boot_lifecycle(48, 0);
}

static void test_lifecycle_boots_gpaw52(void **state)
{
	(void)state;
	boot_lifecycle(52, 0);
}

static void test_lifecycle_boots_vcpu1(void **state)
{
	(void)state;
	boot_lifecycle(48, 1);
}

/* A boot page without the magic: the boot block stops (ud2) before any TDCALL. */
static void test_bad_boot_page_stops(void **state)
{
	(void)state;
	struct run r;
	setup(&r, GUEST_IMAGE_PATH("guest_lifecycle"), 48, 0, GUEST_BOOT_MAGIC ^ 1);
	assert_int_equal(run(&r), UC_ERR_INSN_INVALID);
	assert_int_equal(r.ntdcalls, 0);
	uint8_t insn[2];
	assert_int_equal(uc_mem_read(r.uc, reg(r.uc, UC_X86_REG_RIP), insn, 2), UC_ERR_OK);
	assert_memory_equal(insn, "\x0f\x0b", 2);     /* ud2 */
	assert_false(reg(r.uc, UC_X86_REG_CR0) & CR0_PG);
	uc_close(r.uc);
}

/* guest_sha256 hashes 1 MiB of "private" memory; the digest matches libcrypto's. */
static void test_sha256_digest(void **state)
{
	(void)state;
	struct run r;
	setup(&r, GUEST_IMAGE_PATH("guest_sha256"), 48, 0, GUEST_BOOT_MAGIC);
	uint8_t *data = malloc(GUEST_DATA_SIZE);
	assert_non_null(data);
	for (uint64_t i = 0; i < GUEST_DATA_SIZE; i++)
		data[i] = (uint8_t)(i * 131 + (i >> 9));
	assert_int_equal(uc_mem_map(r.uc, GUEST_DATA_GPA, GUEST_DATA_SIZE, UC_PROT_ALL), UC_ERR_OK);
	assert_int_equal(uc_mem_write(r.uc, GUEST_DATA_GPA, data, GUEST_DATA_SIZE), UC_ERR_OK);
	assert_int_equal(run(&r), UC_ERR_OK);
	assert_int_equal(r.unexpected_intr, 0);
	assert_int_equal(r.nucalls, 2);
	assert_int_equal(r.ucalls[0].cmd, UCALL_SYNC);
	assert_int_equal(r.ucalls[0].args[0], 1);
	assert_int_equal(r.ucalls[0].args[5], GUEST_DATA_SIZE);
	uint8_t want[32];
	SHA256(data, GUEST_DATA_SIZE, want);
	assert_memory_equal(&r.ucalls[0].args[1], want, 32);
	assert_int_equal(r.ucalls[1].cmd, UCALL_DONE);
	free(data);
	uc_close(r.uc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_layout),
		cmocka_unit_test(test_lifecycle_boots_gpaw48),
		cmocka_unit_test(test_lifecycle_boots_gpaw52),
		cmocka_unit_test(test_lifecycle_boots_vcpu1),
		cmocka_unit_test(test_bad_boot_page_stops),
		cmocka_unit_test(test_sha256_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
