/*
 * VMCS fields and the VMX instructions of VMX root operation (vmcs.h).
 * Semantics after the Intel SDM Vol. 3, chapter 31 (VMX instruction
 * reference) and Appendix B (field encodings).
 */
#include <stdlib.h>
#include <string.h>

#include "vmx/vmcs.h"

const char *const vmx_cat_names[VMX_CAT_N] = {
	[VMX_CAT_GUEST] = "guest instructions",
	[VMX_CAT_HW] = "hardware VM exit/entry",
	[VMX_CAT_L0] = "L0 handler",
	[VMX_CAT_L1] = "L1 handler",
	[VMX_CAT_VMRW] = "VMREAD/VMWRITE",
	[VMX_CAT_SYNC] = "VMCS sync and switch",
	[VMX_CAT_SEAM] = "SEAM transitions + module",
	[VMX_CAT_HOST] = "host VMM",
};

/* Supported fields, ascending by encoding. */
#define VMCS_FIELDS(X) \
	X(VIRTUAL_PROCESSOR_ID) X(POSTED_INTR_NV) X(GUEST_ES_SELECTOR) X(GUEST_CS_SELECTOR) \
	X(GUEST_SS_SELECTOR) X(GUEST_DS_SELECTOR) X(GUEST_FS_SELECTOR) X(GUEST_GS_SELECTOR) \
	X(GUEST_LDTR_SELECTOR) X(GUEST_TR_SELECTOR) X(GUEST_INTR_STATUS) X(GUEST_PML_INDEX) \
	X(HOST_ES_SELECTOR) X(HOST_CS_SELECTOR) X(HOST_SS_SELECTOR) X(HOST_DS_SELECTOR) \
	X(HOST_FS_SELECTOR) X(HOST_GS_SELECTOR) X(HOST_TR_SELECTOR) X(IO_BITMAP_A) X(IO_BITMAP_B) \
	X(MSR_BITMAP) X(VM_EXIT_MSR_STORE_ADDR) X(VM_EXIT_MSR_LOAD_ADDR) X(VM_ENTRY_MSR_LOAD_ADDR) \
	X(PML_ADDRESS) X(TSC_OFFSET) X(VIRTUAL_APIC_PAGE_ADDR) X(APIC_ACCESS_ADDR) \
	X(POSTED_INTR_DESC_ADDR) X(VM_FUNCTION_CONTROL) X(EPT_POINTER) X(EOI_EXIT_BITMAP0) \
	X(EOI_EXIT_BITMAP1) X(EOI_EXIT_BITMAP2) X(EOI_EXIT_BITMAP3) X(EPTP_LIST_ADDRESS) \
	X(VMREAD_BITMAP) X(VMWRITE_BITMAP) X(XSS_EXIT_BITMAP) X(ENCLS_EXITING_BITMAP) \
	X(TSC_MULTIPLIER) X(GUEST_PHYSICAL_ADDRESS) X(VMCS_LINK_POINTER) X(GUEST_IA32_DEBUGCTL) \
	X(GUEST_IA32_PAT) X(GUEST_IA32_EFER) X(GUEST_IA32_PERF_GLOBAL_CTRL) X(GUEST_PDPTR0) \
	X(GUEST_PDPTR1) X(GUEST_PDPTR2) X(GUEST_PDPTR3) X(GUEST_BNDCFGS) X(HOST_IA32_PAT) \
	X(HOST_IA32_EFER) X(HOST_IA32_PERF_GLOBAL_CTRL) X(PIN_BASED_VM_EXEC_CONTROL) \
	X(CPU_BASED_VM_EXEC_CONTROL) X(EXCEPTION_BITMAP) X(PAGE_FAULT_ERROR_CODE_MASK) \
	X(PAGE_FAULT_ERROR_CODE_MATCH) X(CR3_TARGET_COUNT) X(VM_EXIT_CONTROLS) \
	X(VM_EXIT_MSR_STORE_COUNT) X(VM_EXIT_MSR_LOAD_COUNT) X(VM_ENTRY_CONTROLS) \
	X(VM_ENTRY_MSR_LOAD_COUNT) X(VM_ENTRY_INTR_INFO_FIELD) X(VM_ENTRY_EXCEPTION_ERROR_CODE) \
	X(VM_ENTRY_INSTRUCTION_LEN) X(TPR_THRESHOLD) X(SECONDARY_VM_EXEC_CONTROL) X(PLE_GAP) \
	X(PLE_WINDOW) X(VM_INSTRUCTION_ERROR) X(VM_EXIT_REASON) X(VM_EXIT_INTR_INFO) \
	X(VM_EXIT_INTR_ERROR_CODE) X(IDT_VECTORING_INFO_FIELD) X(IDT_VECTORING_ERROR_CODE) \
	X(VM_EXIT_INSTRUCTION_LEN) X(VMX_INSTRUCTION_INFO) X(GUEST_ES_LIMIT) X(GUEST_CS_LIMIT) \
	X(GUEST_SS_LIMIT) X(GUEST_DS_LIMIT) X(GUEST_FS_LIMIT) X(GUEST_GS_LIMIT) X(GUEST_LDTR_LIMIT) \
	X(GUEST_TR_LIMIT) X(GUEST_GDTR_LIMIT) X(GUEST_IDTR_LIMIT) X(GUEST_ES_AR_BYTES) \
	X(GUEST_CS_AR_BYTES) X(GUEST_SS_AR_BYTES) X(GUEST_DS_AR_BYTES) X(GUEST_FS_AR_BYTES) \
	X(GUEST_GS_AR_BYTES) X(GUEST_LDTR_AR_BYTES) X(GUEST_TR_AR_BYTES) \
	X(GUEST_INTERRUPTIBILITY_INFO) X(GUEST_ACTIVITY_STATE) X(GUEST_SMBASE) X(GUEST_SYSENTER_CS) \
	X(VMX_PREEMPTION_TIMER_VALUE) X(HOST_IA32_SYSENTER_CS) X(CR0_GUEST_HOST_MASK) \
	X(CR4_GUEST_HOST_MASK) X(CR0_READ_SHADOW) X(CR4_READ_SHADOW) X(CR3_TARGET_VALUE0) \
	X(CR3_TARGET_VALUE1) X(CR3_TARGET_VALUE2) X(CR3_TARGET_VALUE3) X(EXIT_QUALIFICATION) \
	X(EXIT_IO_RCX) X(EXIT_IO_RSI) X(EXIT_IO_RDI) X(EXIT_IO_RIP) X(GUEST_LINEAR_ADDRESS) \
	X(GUEST_CR0) X(GUEST_CR3) X(GUEST_CR4) X(GUEST_ES_BASE) X(GUEST_CS_BASE) X(GUEST_SS_BASE) \
	X(GUEST_DS_BASE) X(GUEST_FS_BASE) X(GUEST_GS_BASE) X(GUEST_LDTR_BASE) X(GUEST_TR_BASE) \
	X(GUEST_GDTR_BASE) X(GUEST_IDTR_BASE) X(GUEST_DR7) X(GUEST_RSP) X(GUEST_RIP) X(GUEST_RFLAGS) \
	X(GUEST_PENDING_DBG_EXCEPTIONS) X(GUEST_SYSENTER_ESP) X(GUEST_SYSENTER_EIP) X(HOST_CR0) \
	X(HOST_CR3) X(HOST_CR4) X(HOST_FS_BASE) X(HOST_GS_BASE) X(HOST_TR_BASE) X(HOST_GDTR_BASE) \
	X(HOST_IDTR_BASE) X(HOST_IA32_SYSENTER_ESP) X(HOST_IA32_SYSENTER_EIP) X(HOST_RSP) X(HOST_RIP)

enum {
#define X(f) IDX_##f,
	VMCS_FIELDS(X)
#undef X
	N_FIELDS_ENUM
};

static const uint16_t fields[] = {
#define X(f) f,
	VMCS_FIELDS(X)
#undef X
};

/* Encoding -> 1 + index: every supported field has an index (bits 9:1)
 * below 32, so type, width and index make a 9-bit key. */
#define FIELD_KEY(f) ((((f) >> 1) & 0x1Fu) | ((((f) >> 10) & 3u) << 5) | ((((f) >> 13) & 3u) << 7))
static const int16_t key_to_index[512] = {
#define X(f) [FIELD_KEY(f)] = IDX_##f + 1,
	VMCS_FIELDS(X)
#undef X
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
#define VMCS_DATA 16u
_Static_assert(VMCS_DATA + 8 * N_FIELDS <= VMCS_SIZE, "VMCS layout exceeds 4 KiB");
_Static_assert(N_FIELDS == N_FIELDS_ENUM, "field list");

int vmx_mem_init(struct vmx_mem *m, uint64_t size)
{
	m->base = calloc(1, size);
	m->size = m->base ? size : 0;
	return m->base ? 0 : -1;
}

void vmx_mem_fini(struct vmx_mem *m)
{
	free(m->base);
	m->base = NULL;
	m->size = 0;
}

bool vmx_mem_ok(const struct vmx_mem *m, uint64_t pa, uint64_t len)
{
	return pa < m->size && len <= m->size - pa;
}

int vmcs_field_index(uint32_t field)
{
	/* Bits 31:15 and 12 are reserved; bit 0 (high access) exists only for
	 * 64-bit fields. */
	if (field & ~0x6FFFu)
		return -1;
	if ((field & 1) && VMCS_WIDTH(field) != VMCS_WIDTH_64)
		return -1;
	if (((field >> 1) & 0x1FFu) >= 32)
		return -1;
	int i = key_to_index[FIELD_KEY(field)] - 1;
	if (i < 0 || fields[i] != (field & ~1u))
		return -1;
	return i;
}

unsigned vmcs_field_count(void)
{
	return N_FIELDS;
}

uint32_t vmcs_field_at(unsigned index)
{
	return index < N_FIELDS ? fields[index] : UINT32_MAX;
}

uint64_t vmcs_field_truncate(uint32_t field, uint64_t v)
{
	if (field & 1)
		return (uint32_t)v;             /* high half of a 64-bit field */
	switch (VMCS_WIDTH(field)) {
	case VMCS_WIDTH_16: return (uint16_t)v;
	case VMCS_WIDTH_32: return (uint32_t)v;
	default: return v;
	}
}

static uint8_t *slot(struct vmx_mem *m, uint64_t vmcs, unsigned off)
{
	return m->base + vmcs + off;
}

uint64_t vmcs_get(struct vmx_mem *m, uint64_t vmcs, uint32_t field)
{
	int i = vmcs_field_index(field);
	uint64_t v = 0;
	if (i < 0 || !vmx_mem_ok(m, vmcs, VMCS_SIZE))
		return 0;
	memcpy(&v, slot(m, vmcs, VMCS_DATA + 8u * (unsigned)i), 8);
	return (field & 1) ? v >> 32 : v;
}

void vmcs_set(struct vmx_mem *m, uint64_t vmcs, uint32_t field, uint64_t value)
{
	int i = vmcs_field_index(field);
	if (i < 0 || !vmx_mem_ok(m, vmcs, VMCS_SIZE))
		return;
	uint8_t *p = slot(m, vmcs, VMCS_DATA + 8u * (unsigned)i);
	uint64_t v;
	if (field & 1) {                        /* high half only */
		memcpy(&v, p, 8);
		v = (v & 0xFFFFFFFFull) | ((uint64_t)(uint32_t)value << 32);
	} else {
		v = vmcs_field_truncate(field, value);
	}
	memcpy(p, &v, 8);
}

static uint32_t get32(struct vmx_mem *m, uint64_t pa)
{
	uint32_t v = 0;
	if (vmx_mem_ok(m, pa, 4))
		memcpy(&v, m->base + pa, 4);
	return v;
}

static void set32(struct vmx_mem *m, uint64_t pa, uint32_t v)
{
	if (vmx_mem_ok(m, pa, 4))
		memcpy(m->base + pa, &v, 4);
}

uint32_t vmcs_header(struct vmx_mem *m, uint64_t vmcs) { return get32(m, vmcs); }
void vmcs_set_header(struct vmx_mem *m, uint64_t vmcs, uint32_t h) { set32(m, vmcs, h); }
uint32_t vmcs_launch_state(struct vmx_mem *m, uint64_t vmcs) { return get32(m, vmcs + 8); }
void vmcs_set_launch_state(struct vmx_mem *m, uint64_t vmcs, uint32_t s) { set32(m, vmcs + 8, s); }

void vmcs_format(struct vmx_mem *m, uint64_t vmcs, bool shadow)
{
	if (!vmx_mem_ok(m, vmcs, VMCS_SIZE))
		return;
	memset(m->base + vmcs, 0, VMCS_SIZE);
	vmcs_set_header(m, vmcs, VMCS_REVISION | (shadow ? VMCS_SHADOW_BIT : 0));
	vmcs_set(m, vmcs, VMCS_LINK_POINTER, VMX_INVALID_PTR);
}

void vmx_cpu_init(struct vmx_cpu *c, struct vmx_mem *m, const struct vmx_costs *k, struct vmx_clock *clk)
{
	memset(c, 0, sizeof(*c));
	c->mem = m;
	c->k = k;
	c->clk = clk;
	c->cat = VMX_CAT_L0;
	c->vmxon_ptr = VMX_INVALID_PTR;
	c->current = VMX_INVALID_PTR;
}

void vmx_set_result(struct vmx_mem *m, uint64_t *rflags, enum vmx_result r, uint64_t err_vmcs,
		    uint32_t err)
{
	*rflags &= ~(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF);
	if (r == VMX_FAIL_INVALID)
		*rflags |= RFLAGS_CF;
	else if (r == VMX_FAIL_VALID) {
		*rflags |= RFLAGS_ZF;
		vmcs_set(m, err_vmcs, VM_INSTRUCTION_ERROR, err);
	}
}

/* VMfail(n) of the SDM pseudocode: VMfailValid with a current VMCS,
 * VMfailInvalid without one. */
static enum vmx_result fail(struct vmx_cpu *c, uint32_t err)
{
	enum vmx_result r = c->current == VMX_INVALID_PTR ? VMX_FAIL_INVALID : VMX_FAIL_VALID;
	vmx_set_result(c->mem, &c->rflags, r, c->current, err);
	return r;
}

static enum vmx_result fail_invalid(struct vmx_cpu *c)
{
	vmx_set_result(c->mem, &c->rflags, VMX_FAIL_INVALID, 0, 0);
	return VMX_FAIL_INVALID;
}

static enum vmx_result succeed(struct vmx_cpu *c)
{
	vmx_set_result(c->mem, &c->rflags, VMX_SUCCEED, 0, 0);
	return VMX_SUCCEED;
}

static bool region_ok(struct vmx_cpu *c, uint64_t pa)
{
	return !(pa & 0xFFF) && vmx_mem_ok(c->mem, pa, VMCS_SIZE);
}

enum vmx_result vmx_vmxon(struct vmx_cpu *c, uint64_t region)
{
	if (c->vmxon)
		return fail(c, VMXERR_VMXON_IN_ROOT);
	if (!region_ok(c, region) || (vmcs_header(c->mem, region) & ~VMCS_SHADOW_BIT) != VMCS_REVISION)
		return fail_invalid(c);
	c->vmxon = true;
	c->vmxon_ptr = region;
	c->current = VMX_INVALID_PTR;
	return succeed(c);
}

enum vmx_result vmx_vmptrld(struct vmx_cpu *c, uint64_t vmcs)
{
	vmx_charge(c->clk, VMX_CAT_SYNC, c->k->vmptrld);
	if (!region_ok(c, vmcs))
		return fail(c, VMXERR_VMPTRLD_INVALID_ADDR);
	if (vmcs == c->vmxon_ptr)
		return fail(c, VMXERR_VMPTRLD_VMXON_PTR);
	/* A shadow VMCS may be made current (VMCS shadowing is supported);
	 * only the revision identifier must match. */
	if ((vmcs_header(c->mem, vmcs) & ~VMCS_SHADOW_BIT) != VMCS_REVISION)
		return fail(c, VMXERR_VMPTRLD_BAD_REVISION);
	c->current = vmcs;
	return succeed(c);
}

enum vmx_result vmx_vmclear(struct vmx_cpu *c, uint64_t vmcs)
{
	vmx_charge(c->clk, VMX_CAT_SYNC, c->k->vmclear);
	if (!region_ok(c, vmcs))
		return fail(c, VMXERR_VMCLEAR_INVALID_ADDR);
	if (vmcs == c->vmxon_ptr)
		return fail(c, VMXERR_VMCLEAR_VMXON_PTR);
	vmcs_set_launch_state(c->mem, vmcs, 0);
	if (vmcs == c->current)
		c->current = VMX_INVALID_PTR;
	return succeed(c);
}

enum vmx_result vmx_vmread(struct vmx_cpu *c, uint32_t field, uint64_t *value)
{
	vmx_charge(c->clk, VMX_CAT_VMRW, c->k->vmread);
	if (c->current == VMX_INVALID_PTR)
		return fail_invalid(c);
	if (vmcs_field_index(field) < 0)
		return fail(c, VMXERR_UNSUPPORTED_FIELD);
	*value = vmcs_get(c->mem, c->current, field);
	return succeed(c);
}

enum vmx_result vmx_vmwrite(struct vmx_cpu *c, uint32_t field, uint64_t value)
{
	vmx_charge(c->clk, VMX_CAT_VMRW, c->k->vmwrite);
	if (c->current == VMX_INVALID_PTR)
		return fail_invalid(c);
	if (vmcs_field_index(field) < 0)
		return fail(c, VMXERR_UNSUPPORTED_FIELD);
	if (VMCS_TYPE(field) == VMCS_TYPE_RO_DATA && !c->vmwrite_any)
		return fail(c, VMXERR_VMWRITE_READ_ONLY);
	vmcs_set(c->mem, c->current, field, value);
	return succeed(c);
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

enum vmx_result vmx_entry_check(struct vmx_cpu *c, bool resume)
{
	/* VMLAUNCH/VMRESUME: no current VMCS, or a shadow VMCS as the current
	 * one, is VMfailInvalid. */
	if (c->current == VMX_INVALID_PTR || (vmcs_header(c->mem, c->current) & VMCS_SHADOW_BIT))
		return fail_invalid(c);
	uint32_t launched = vmcs_launch_state(c->mem, c->current);
	if (!resume && launched)
		return fail(c, VMXERR_VMLAUNCH_NONCLEAR);
	if (resume && !launched)
		return fail(c, VMXERR_VMRESUME_NONLAUNCHED);
	/* A few of the VM-entry checks of SDM 27.2. */
	uint64_t cpu = vmcs_get(c->mem, c->current, CPU_BASED_VM_EXEC_CONTROL);
	uint64_t sec = (cpu & CPU_ACTIVATE_SECONDARY) ?
		vmcs_get(c->mem, c->current, SECONDARY_VM_EXEC_CONTROL) : 0;
	if (vmcs_get(c->mem, c->current, CR3_TARGET_COUNT) > 4 ||
	    ((sec & SEC_ENABLE_VPID) && vmcs_get(c->mem, c->current, VIRTUAL_PROCESSOR_ID) == 0))
		return fail(c, VMXERR_ENTRY_INVALID_CONTROL);
	if (!canonical(vmcs_get(c->mem, c->current, HOST_RIP)) ||
	    !canonical(vmcs_get(c->mem, c->current, HOST_RSP)))
		return fail(c, VMXERR_ENTRY_INVALID_HOST);
	vmcs_set_launch_state(c->mem, c->current, 1);
	return succeed(c);
}

enum vmx_result vmx_invept(struct vmx_cpu *c, uint64_t type, uint64_t eptp)
{
	(void)eptp;
	vmx_charge(c->clk, c->cat, c->k->invept);
	if (type != 1 && type != 2)
		return fail(c, VMXERR_INVALID_INVEPT_INVVPID);
	return succeed(c);
}

enum vmx_result vmx_invvpid(struct vmx_cpu *c, uint64_t type, uint16_t vpid)
{
	vmx_charge(c->clk, c->cat, c->k->invvpid);
	if (type > 3 || (type != 2 && vpid == 0))
		return fail(c, VMXERR_INVALID_INVEPT_INVVPID);
	return succeed(c);
}

uint32_t vmx_insn_error(struct vmx_cpu *c)
{
	if (c->current == VMX_INVALID_PTR)
		return 0;
	return (uint32_t)vmcs_get(c->mem, c->current, VM_INSTRUCTION_ERROR);
}
