/*
 * Nested VMX with VMCS shadowing in pKVM's design (nested.h).
 */
#include <stdio.h>
#include <string.h>

#include "vmx/nested.h"

/* ---- Field classes. ---- */

/* Fields L0 never passes from vmcs12 to vmcs02 as they are: sanitised or
 * replaced by L0's own values (nested_sanitise). */
static const uint16_t emulated_fields[] = {
	VIRTUAL_PROCESSOR_ID, PIN_BASED_VM_EXEC_CONTROL, CPU_BASED_VM_EXEC_CONTROL,
	SECONDARY_VM_EXEC_CONTROL, VM_EXIT_CONTROLS, VM_ENTRY_CONTROLS,
	VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_LOAD_COUNT, VM_ENTRY_MSR_LOAD_COUNT,
	IO_BITMAP_A, IO_BITMAP_B, MSR_BITMAP, VM_EXIT_MSR_STORE_ADDR, VM_EXIT_MSR_LOAD_ADDR,
	VM_ENTRY_MSR_LOAD_ADDR, PML_ADDRESS, VIRTUAL_APIC_PAGE_ADDR, APIC_ACCESS_ADDR,
	POSTED_INTR_DESC_ADDR, VM_FUNCTION_CONTROL, EPT_POINTER, EOI_EXIT_BITMAP0,
	EOI_EXIT_BITMAP1, EOI_EXIT_BITMAP2, EOI_EXIT_BITMAP3, EPTP_LIST_ADDRESS,
	VMREAD_BITMAP, VMWRITE_BITMAP, XSS_EXIT_BITMAP, ENCLS_EXITING_BITMAP,
	VMCS_LINK_POINTER,
};

/* What a VM exit changes in the VMCS: exit information and saved guest
 * state. Without shadowing L0 copies these from vmcs02 to vmcs12 at every
 * reflected exit (KVM's sync_vmcs02_to_vmcs12 does the same). */
static const uint16_t exit_saved_fields[] = {
	VM_EXIT_REASON, EXIT_QUALIFICATION, VM_EXIT_INSTRUCTION_LEN, VM_EXIT_INTR_INFO,
	VM_EXIT_INTR_ERROR_CODE, IDT_VECTORING_INFO_FIELD, IDT_VECTORING_ERROR_CODE,
	VMX_INSTRUCTION_INFO, GUEST_LINEAR_ADDRESS, GUEST_PHYSICAL_ADDRESS,
	GUEST_RIP, GUEST_RSP, GUEST_RFLAGS, GUEST_INTERRUPTIBILITY_INFO, GUEST_ACTIVITY_STATE,
	GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_PENDING_DBG_EXCEPTIONS, GUEST_IA32_EFER,
};

/* vmcs12 host state -> vmcs01 guest state when an exit goes to L1. */
static const struct { uint16_t host, guest; } l1_state[] = {
	{ HOST_RIP, GUEST_RIP }, { HOST_RSP, GUEST_RSP }, { HOST_CR0, GUEST_CR0 },
	{ HOST_CR3, GUEST_CR3 }, { HOST_CR4, GUEST_CR4 }, { HOST_CS_SELECTOR, GUEST_CS_SELECTOR },
	{ HOST_SS_SELECTOR, GUEST_SS_SELECTOR }, { HOST_DS_SELECTOR, GUEST_DS_SELECTOR },
	{ HOST_ES_SELECTOR, GUEST_ES_SELECTOR }, { HOST_FS_SELECTOR, GUEST_FS_SELECTOR },
	{ HOST_GS_SELECTOR, GUEST_GS_SELECTOR }, { HOST_TR_SELECTOR, GUEST_TR_SELECTOR },
	{ HOST_FS_BASE, GUEST_FS_BASE }, { HOST_GS_BASE, GUEST_GS_BASE },
	{ HOST_TR_BASE, GUEST_TR_BASE }, { HOST_GDTR_BASE, GUEST_GDTR_BASE },
	{ HOST_IDTR_BASE, GUEST_IDTR_BASE }, { HOST_IA32_EFER, GUEST_IA32_EFER },
	{ HOST_IA32_PAT, GUEST_IA32_PAT },
};

#define ARRAY_N(a) (sizeof(a) / sizeof((a)[0]))

static int fidx(uint32_t field)
{
	return vmcs_field_index(field);
}

static bool is_shadowed(struct nested_vm *n, int i)
{
	return i >= 0 && (n->shadow_rw[i] || n->shadow_ro[i]);
}

static void bitmap_bit(struct vmx_mem *m, uint64_t bm, uint32_t field, bool set)
{
	uint8_t *p = m->base + bm + ((field & 0x7FFF) >> 3);
	uint8_t bit = (uint8_t)(1u << (field & 7));
	*p = set ? (uint8_t)(*p | bit) : (uint8_t)(*p & ~bit);
}

static bool bitmap_test(struct vmx_mem *m, uint64_t bm, uint32_t field)
{
	return m->base[bm + ((field & 0x7FFF) >> 3)] & (1u << (field & 7));
}

void nested_bitmap_set(struct nested_vm *n, uint32_t field, bool exit_read, bool exit_write)
{
	bitmap_bit(&n->mem, n->vmread_bm_pa, field, exit_read);
	bitmap_bit(&n->mem, n->vmwrite_bm_pa, field, exit_write);
	if (VMCS_WIDTH(field) == VMCS_WIDTH_64) {      /* the high-access encoding too */
		bitmap_bit(&n->mem, n->vmread_bm_pa, field | 1, exit_read);
		bitmap_bit(&n->mem, n->vmwrite_bm_pa, field | 1, exit_write);
	}
}

static void classify(struct nested_vm *n)
{
	unsigned nf = vmcs_field_count();
	memset(n->mem.base + n->vmread_bm_pa, 0xFF, 4096);
	memset(n->mem.base + n->vmwrite_bm_pa, 0xFF, 4096);
	for (size_t i = 0; i < ARRAY_N(emulated_fields); i++)
		n->emulated[fidx(emulated_fields[i])] = true;
	if (n->mode != NESTED_SHADOW_PKVM)
		return;
	for (unsigned i = 0; i < nf; i++) {
		uint32_t f = vmcs_field_at(i);
		if (n->emulated[i] || VMCS_TYPE(f) == VMCS_TYPE_HOST)
			continue;
		if (VMCS_TYPE(f) == VMCS_TYPE_RO_DATA) {
			n->shadow_ro[i] = true;
			nested_bitmap_set(n, f, false, true);
		} else {
			n->shadow_rw[i] = true;
			nested_bitmap_set(n, f, false, false);
		}
	}
}

/* ---- Where L1's view of a field lives: vmcs02 if shadowed, otherwise
 * the cached vmcs12. Accesses by L0's software, charged as sync work. ---- */

static uint64_t l1_get(struct nested_vm *n, uint32_t field)
{
	vmx_charge(&n->clk, VMX_CAT_SYNC, n->k->sync_field);
	return vmcs_get(&n->mem, is_shadowed(n, fidx(field)) ? n->vmcs02_pa : n->cached12_pa, field);
}

static void l1_set(struct nested_vm *n, uint32_t field, uint64_t v)
{
	int i = fidx(field);
	vmx_charge(&n->clk, VMX_CAT_SYNC, n->k->sync_field);
	if (is_shadowed(n, i)) {
		vmcs_set(&n->mem, n->vmcs02_pa, field, v);
	} else {
		vmcs_set(&n->mem, n->cached12_pa, field, v);
		n->dirty[i] = true;
	}
}

static enum vmx_result l1_result(struct nested_vm *n, enum vmx_result r, uint32_t err)
{
	n->l1_rflags &= ~(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF);
	if (r == VMX_FAIL_INVALID)
		n->l1_rflags |= RFLAGS_CF;
	else if (r == VMX_FAIL_VALID) {
		n->l1_rflags |= RFLAGS_ZF;
		l1_set(n, VM_INSTRUCTION_ERROR, err);
	}
	return r;
}

static enum vmx_result l1_fail(struct nested_vm *n, uint32_t err)
{
	return l1_result(n, n->l1_current == VMX_INVALID_PTR ? VMX_FAIL_INVALID : VMX_FAIL_VALID, err);
}

uint32_t l1_insn_error(struct nested_vm *n)
{
	if (n->l1_current == VMX_INVALID_PTR)
		return 0;
	int i = fidx(VM_INSTRUCTION_ERROR);
	return (uint32_t)vmcs_get(&n->mem, is_shadowed(n, i) ? n->vmcs02_pa : n->cached12_pa,
				  VM_INSTRUCTION_ERROR);
}

uint8_t *nested_l1_mem(struct nested_vm *n, uint64_t gpa)
{
	return n->mem.base + NESTED_L1_BASE + gpa;
}

static bool l1_page_ok(uint64_t gpa)
{
	return !(gpa & 0xFFF) && gpa < NESTED_L1_SIZE && NESTED_L1_SIZE - gpa >= VMCS_SIZE;
}

/* ---- L1 <-> L0 transitions. ---- */

/* A VM exit from L1 to L0 and L0's common exit work. */
static void l1_exit(struct nested_vm *n, uint32_t reason)
{
	vmx_charge(&n->clk, VMX_CAT_HW, n->k->vmexit);
	vmx_charge(&n->clk, VMX_CAT_L0, n->k->vmm_exit_sw);
	if (reason < ARRAY_N(n->l1_exits))
		n->l1_exits[reason]++;
}

/* L0 resumes L1 (VMRESUME of vmcs01). */
static void l1_enter(struct nested_vm *n)
{
	vmx_charge(&n->clk, VMX_CAT_HW, n->k->vmentry);
}

/* An L1 VMX instruction that exits: exit, decode, (emulation), entry. */
static void vmx_insn_exit(struct nested_vm *n, uint32_t reason)
{
	l1_exit(n, reason);
	vmx_charge(&n->clk, VMX_CAT_L0, n->k->l0_vmx_insn);
}

/* ---- vmcs12 <-> vmcs02. ---- */

static uint64_t nested_sanitise(struct nested_vm *n, uint32_t field, uint64_t v)
{
	switch (field) {
	case PIN_BASED_VM_EXEC_CONTROL:
		return v | PIN_EXT_INTR_EXITING | PIN_NMI_EXITING;
	case CPU_BASED_VM_EXEC_CONTROL:
		return v | CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY;
	case SECONDARY_VM_EXEC_CONTROL:
		return (v & ~(uint64_t)(SEC_SHADOW_VMCS | SEC_ENABLE_VMFUNC)) | SEC_ENABLE_EPT | SEC_ENABLE_VPID;
	case VM_ENTRY_CONTROLS:
		return v | ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_DEBUG_CONTROLS;
	case VM_EXIT_CONTROLS:
		return v | EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_PAT |
			EXIT_SAVE_IA32_PAT | EXIT_HOST_ADDR_SPACE_SIZE;
	case VIRTUAL_PROCESSOR_ID:
		return n->vpid02;
	case EPT_POINTER:
		return n->ept02_pa | 0x1E;
	case MSR_BITMAP:
		return n->msr_bm02_pa;
	case IO_BITMAP_A:
		return n->io_bm02_pa;
	case IO_BITMAP_B:
		return n->io_bm02_pa + 0x1000;
	case VMCS_LINK_POINTER:
		return VMX_INVALID_PTR;
	default:
		/* Other addresses, MSR-area counts, VM functions: features L0
		 * does not offer to L1. */
		return 0;
	}
}

/* Dirty fields of the cached vmcs12 into vmcs02 (vmcs02 not current). */
static void sync_dirty_to_vmcs02(struct nested_vm *n)
{
	unsigned nf = vmcs_field_count();
	for (unsigned i = 0; i < nf; i++) {
		if (!n->dirty[i])
			continue;
		n->dirty[i] = false;
		uint32_t f = vmcs_field_at(i);
		if (VMCS_TYPE(f) == VMCS_TYPE_HOST || is_shadowed(n, (int)i))
			continue;                       /* host state stays in vmcs12 */
		uint64_t v = vmcs_get(&n->mem, n->cached12_pa, f);
		if (n->emulated[i])
			v = nested_sanitise(n, f, v);
		vmcs_set(&n->mem, n->vmcs02_pa, f, v);
		vmx_charge(&n->clk, VMX_CAT_SYNC, n->k->sync_field);
		n->synced_fields++;
	}
}

/* Shadowed fields vmcs12 -> vmcs02 (VMPTRLD) or back (VMCLEAR). */
static void copy_shadowed(struct nested_vm *n, bool to_vmcs02)
{
	unsigned nf = vmcs_field_count();
	for (unsigned i = 0; i < nf; i++) {
		if (!is_shadowed(n, (int)i))
			continue;
		uint32_t f = vmcs_field_at(i);
		if (to_vmcs02)
			vmcs_set(&n->mem, n->vmcs02_pa, f, vmcs_get(&n->mem, n->cached12_pa, f));
		else
			vmcs_set(&n->mem, n->cached12_pa, f, vmcs_get(&n->mem, n->vmcs02_pa, f));
		vmx_charge(&n->clk, VMX_CAT_SYNC, n->k->sync_field);
		n->synced_fields++;
	}
}

/* vmcs01 controls for shadowing on (vmcs12 current) or off. */
static void vmcs01_shadowing(struct nested_vm *n, bool on)
{
	struct vmx_mem *m = &n->mem;
	uint64_t sec = vmcs_get(m, n->vmcs01_pa, SECONDARY_VM_EXEC_CONTROL);
	if (on && n->mode == NESTED_SHADOW_PKVM) {
		vmcs_set(m, n->vmcs01_pa, VMREAD_BITMAP, n->vmread_bm_pa);
		vmcs_set(m, n->vmcs01_pa, VMWRITE_BITMAP, n->vmwrite_bm_pa);
		vmcs_set(m, n->vmcs01_pa, SECONDARY_VM_EXEC_CONTROL, sec | SEC_SHADOW_VMCS);
		vmcs_set(m, n->vmcs01_pa, VMCS_LINK_POINTER, n->vmcs02_pa);
		vmcs_set_header(m, n->vmcs02_pa, VMCS_REVISION | VMCS_SHADOW_BIT);
	} else {
		vmcs_set(m, n->vmcs01_pa, SECONDARY_VM_EXEC_CONTROL, sec & ~(uint64_t)SEC_SHADOW_VMCS);
		vmcs_set(m, n->vmcs01_pa, VMCS_LINK_POINTER, VMX_INVALID_PTR);
	}
	vmx_charge(&n->clk, VMX_CAT_SYNC, 4ull * n->k->vmwrite);
}

/* Write the cached vmcs12 back to L1 memory (shadowed fields first). */
static void release_vmcs12(struct nested_vm *n)
{
	if (n->l1_current == VMX_INVALID_PTR)
		return;
	if (n->mode == NESTED_SHADOW_PKVM) {
		vmx_vmclear(&n->cpu, n->vmcs02_pa);     /* flush the shadow VMCS */
		copy_shadowed(n, false);
	}
	memcpy(nested_l1_mem(n, n->l1_current), n->mem.base + n->cached12_pa, VMCS_SIZE);
	vmcs01_shadowing(n, false);
	n->l1_current = VMX_INVALID_PTR;
}

/* ---- L1's VMX instructions. ---- */

enum vmx_result l1_vmxon(struct nested_vm *n, uint64_t gpa)
{
	vmx_insn_exit(n, EXIT_REASON_VMXON);
	enum vmx_result r;
	if (n->l1_vmxon)
		r = l1_fail(n, VMXERR_VMXON_IN_ROOT);
	else if (!l1_page_ok(gpa))
		r = l1_result(n, VMX_FAIL_INVALID, 0);
	else {
		n->l1_vmxon = true;
		n->l1_vmxon_gpa = gpa;
		n->l1_current = VMX_INVALID_PTR;
		r = l1_result(n, VMX_SUCCEED, 0);
	}
	l1_enter(n);
	return r;
}

enum vmx_result l1_vmptrld(struct nested_vm *n, uint64_t gpa)
{
	vmx_insn_exit(n, EXIT_REASON_VMPTRLD);
	enum vmx_result r;
	uint32_t rev;
	if (!l1_page_ok(gpa))
		r = l1_fail(n, VMXERR_VMPTRLD_INVALID_ADDR);
	else if (gpa == n->l1_vmxon_gpa)
		r = l1_fail(n, VMXERR_VMPTRLD_VMXON_PTR);
	else if (memcpy(&rev, nested_l1_mem(n, gpa), 4), (rev & ~VMCS_SHADOW_BIT) != VMCS_REVISION)
		r = l1_fail(n, VMXERR_VMPTRLD_BAD_REVISION);
	else {
		if (gpa != n->l1_current) {
			release_vmcs12(n);
			memcpy(n->mem.base + n->cached12_pa, nested_l1_mem(n, gpa), VMCS_SIZE);
			vmx_charge(&n->clk, VMX_CAT_SYNC, (uint64_t)vmcs_field_count() * n->k->sync_field / 4);
			unsigned nf = vmcs_field_count();
			for (unsigned i = 0; i < nf; i++)
				n->dirty[i] = true;
			n->l1_current = gpa;
			if (n->mode == NESTED_SHADOW_PKVM) {
				copy_shadowed(n, true);
				vmcs01_shadowing(n, true);
			}
		}
		r = l1_result(n, VMX_SUCCEED, 0);
	}
	l1_enter(n);
	return r;
}

enum vmx_result l1_vmclear(struct nested_vm *n, uint64_t gpa)
{
	vmx_insn_exit(n, EXIT_REASON_VMCLEAR);
	enum vmx_result r;
	if (!l1_page_ok(gpa))
		r = l1_fail(n, VMXERR_VMCLEAR_INVALID_ADDR);
	else if (gpa == n->l1_vmxon_gpa)
		r = l1_fail(n, VMXERR_VMCLEAR_VMXON_PTR);
	else {
		if (gpa == n->l1_current)
			release_vmcs12(n);
		uint32_t clear = 0;
		memcpy(nested_l1_mem(n, gpa) + 8, &clear, 4);   /* launch state */
		r = l1_result(n, VMX_SUCCEED, 0);
	}
	l1_enter(n);
	return r;
}

/* VMREAD/VMWRITE executed by L1 in VMX non-root operation: the shadow VMCS
 * when vmcs01 enables shadowing and the bitmap bit is 0, else a VM exit. */
static bool shadow_hit(struct nested_vm *n, uint32_t field, uint64_t bitmap_field)
{
	struct vmx_mem *m = &n->mem;
	if (!(vmcs_get(m, n->vmcs01_pa, SECONDARY_VM_EXEC_CONTROL) & SEC_SHADOW_VMCS) ||
	    (field >> 15))
		return false;
	return !bitmap_test(m, vmcs_get(m, n->vmcs01_pa, bitmap_field), field);
}

enum vmx_result l1_vmread(struct nested_vm *n, uint32_t field, uint64_t *value)
{
	if (shadow_hit(n, field, VMREAD_BITMAP)) {
		vmx_charge(&n->clk, VMX_CAT_VMRW, n->k->shadow_vmread);
		n->shadow_reads++;
		uint64_t link = vmcs_get(&n->mem, n->vmcs01_pa, VMCS_LINK_POINTER);
		if (link == VMX_INVALID_PTR)
			return l1_result(n, VMX_FAIL_INVALID, 0);
		if (fidx(field) < 0) {          /* VMfailValid into the current VMCS (vmcs01) */
			vmx_set_result(&n->mem, &n->l1_rflags, VMX_FAIL_VALID, n->vmcs01_pa,
				       VMXERR_UNSUPPORTED_FIELD);
			return VMX_FAIL_VALID;
		}
		*value = vmcs_get(&n->mem, link, field);
		return l1_result(n, VMX_SUCCEED, 0);
	}
	vmx_insn_exit(n, EXIT_REASON_VMREAD);
	enum vmx_result r;
	if (n->l1_current == VMX_INVALID_PTR)
		r = l1_result(n, VMX_FAIL_INVALID, 0);
	else if (fidx(field) < 0)
		r = l1_fail(n, VMXERR_UNSUPPORTED_FIELD);
	else {
		*value = l1_get(n, field);
		r = l1_result(n, VMX_SUCCEED, 0);
	}
	l1_enter(n);
	return r;
}

enum vmx_result l1_vmwrite(struct nested_vm *n, uint32_t field, uint64_t value)
{
	if (shadow_hit(n, field, VMWRITE_BITMAP)) {
		vmx_charge(&n->clk, VMX_CAT_VMRW, n->k->shadow_vmwrite);
		n->shadow_writes++;
		uint64_t link = vmcs_get(&n->mem, n->vmcs01_pa, VMCS_LINK_POINTER);
		if (link == VMX_INVALID_PTR)
			return l1_result(n, VMX_FAIL_INVALID, 0);
		if (fidx(field) < 0 || VMCS_TYPE(field) == VMCS_TYPE_RO_DATA) {
			vmx_set_result(&n->mem, &n->l1_rflags, VMX_FAIL_VALID, n->vmcs01_pa,
				       fidx(field) < 0 ? VMXERR_UNSUPPORTED_FIELD : VMXERR_VMWRITE_READ_ONLY);
			return VMX_FAIL_VALID;
		}
		vmcs_set(&n->mem, link, field, value);
		return l1_result(n, VMX_SUCCEED, 0);
	}
	vmx_insn_exit(n, EXIT_REASON_VMWRITE);
	enum vmx_result r;
	if (n->l1_current == VMX_INVALID_PTR)
		r = l1_result(n, VMX_FAIL_INVALID, 0);
	else if (fidx(field) < 0)
		r = l1_fail(n, VMXERR_UNSUPPORTED_FIELD);
	else if (VMCS_TYPE(field) == VMCS_TYPE_RO_DATA)
		r = l1_fail(n, VMXERR_VMWRITE_READ_ONLY);
	else {
		l1_set(n, field, value);
		r = l1_result(n, VMX_SUCCEED, 0);
	}
	l1_enter(n);
	return r;
}

enum vmx_result l1_invept(struct nested_vm *n, uint64_t type, uint64_t eptp)
{
	(void)eptp;             /* L0 keeps one shadow EPT for L2: flush it whole */
	vmx_insn_exit(n, EXIT_REASON_INVEPT);
	enum vmx_result r;
	if (type != 1 && type != 2)
		r = l1_fail(n, VMXERR_INVALID_INVEPT_INVVPID);
	else {
		n->ept02_flushes++;
		vmx_invept(&n->cpu, 1, n->ept02_pa | 0x1E);
		r = l1_result(n, VMX_SUCCEED, 0);
	}
	l1_enter(n);
	return r;
}

enum vmx_result l1_invvpid(struct nested_vm *n, uint64_t type, uint16_t vpid)
{
	vmx_insn_exit(n, EXIT_REASON_INVVPID);
	enum vmx_result r;
	if (type > 3 || (type != 2 && vpid == 0))
		r = l1_fail(n, VMXERR_INVALID_INVEPT_INVVPID);
	else {
		/* L1's VPIDs all map to vpid02: invalidate that context. */
		n->vpid02_flushes++;
		vmx_invvpid(&n->cpu, 1, n->vpid02);
		r = l1_result(n, VMX_SUCCEED, 0);
	}
	l1_enter(n);
	return r;
}

/* ---- Running L2. ---- */

/* vmcs02 becomes the current, ordinary VMCS; runs L2 to its next exit and
 * reflects it to L1. */
static enum vmx_result run_l2(struct nested_vm *n)
{
	struct vmx_cpu *c = &n->cpu;
	if (n->mode == NESTED_SHADOW_PKVM) {
		/* Out of its shadow role: VMCLEAR (launch state clear), indicator off. */
		vmx_vmclear(c, n->vmcs02_pa);
		vmcs_set_header(&n->mem, n->vmcs02_pa, VMCS_REVISION);
	}
	vmx_vmptrld(c, n->vmcs02_pa);
	if (vmx_entry_check(c, vmcs_launch_state(&n->mem, n->vmcs02_pa) != 0) != VMX_SUCCEED)
		return VMX_FAIL_VALID;
	vmx_charge(&n->clk, VMX_CAT_HW, n->k->vmentry);
	memcpy(vmx_guest_regs(n->g), n->l1_regs, sizeof(n->l1_regs));
	uint32_t reason = vmx_guest_run(n->g, &n->mem, n->vmcs02_pa);
	if (!reason)
		return VMX_FAIL_INVALID;
	n->l2_exits++;
	/* L0: read the exit reason, decide L1 owns the exit (CPUID and HLT
	 * always do under the controls L1 sets). */
	vmx_charge(&n->clk, VMX_CAT_L0, n->k->vmm_exit_sw);
	uint64_t r;
	c->cat = VMX_CAT_L0;
	vmx_vmread(c, VM_EXIT_REASON, &r);
	vmx_charge(&n->clk, VMX_CAT_L0, n->k->l0_reflect);
	if (reason == EXIT_REASON_HLT)
		n->l2_halted = true;
	/* Unshadowed exit state into the cached vmcs12. */
	for (size_t i = 0; i < ARRAY_N(exit_saved_fields); i++) {
		uint32_t f = exit_saved_fields[i];
		if (is_shadowed(n, fidx(f)))
			continue;
		vmcs_set(&n->mem, n->cached12_pa, f, vmcs_get(&n->mem, n->vmcs02_pa, f));
		vmx_charge(&n->clk, VMX_CAT_SYNC, n->k->sync_field);
		n->synced_fields++;
	}
	memcpy(n->l1_regs, vmx_guest_regs(n->g), sizeof(n->l1_regs));
	/* Back to vmcs01, vmcs02 as its shadow again. */
	if (n->mode == NESTED_SHADOW_PKVM) {
		vmx_vmclear(c, n->vmcs02_pa);
		vmcs_set_header(&n->mem, n->vmcs02_pa, VMCS_REVISION | VMCS_SHADOW_BIT);
	}
	vmx_vmptrld(c, n->vmcs01_pa);
	/* L1's host state (vmcs12) becomes vmcs01's guest state. */
	for (size_t i = 0; i < ARRAY_N(l1_state); i++) {
		vmcs_set(&n->mem, n->vmcs01_pa, l1_state[i].guest,
			 vmcs_get(&n->mem, n->cached12_pa, l1_state[i].host));
		vmx_charge(&n->clk, VMX_CAT_SYNC, n->k->sync_field);
	}
	if (vmx_entry_check(c, true) != VMX_SUCCEED)
		return VMX_FAIL_VALID;
	l1_enter(n);
	return VMX_SUCCEED;
}

static enum vmx_result l1_entry(struct nested_vm *n, bool resume)
{
	vmx_insn_exit(n, resume ? EXIT_REASON_VMRESUME : EXIT_REASON_VMLAUNCH);
	vmx_charge(&n->clk, VMX_CAT_L0, n->k->l0_nested_entry);
	if (n->l1_current == VMX_INVALID_PTR) {
		l1_enter(n);
		return l1_result(n, VMX_FAIL_INVALID, 0);
	}
	uint32_t launched = vmcs_launch_state(&n->mem, n->cached12_pa);
	if (!resume && launched) {
		enum vmx_result r = l1_fail(n, VMXERR_VMLAUNCH_NONCLEAR);
		l1_enter(n);
		return r;
	}
	if (resume && !launched) {
		enum vmx_result r = l1_fail(n, VMXERR_VMRESUME_NONLAUNCHED);
		l1_enter(n);
		return r;
	}
	sync_dirty_to_vmcs02(n);
	vmcs_set_launch_state(&n->mem, n->cached12_pa, 1);
	l1_result(n, VMX_SUCCEED, 0);
	return run_l2(n);
}

enum vmx_result l1_vmlaunch(struct nested_vm *n)
{
	return l1_entry(n, false);
}

enum vmx_result l1_vmresume(struct nested_vm *n)
{
	return l1_entry(n, true);
}

/* ---- Setup and the run loop. ---- */

int nested_init(struct nested_vm *n, enum nested_shadow mode, uint32_t iterations,
		const struct vmx_costs *k, char *err, size_t errlen)
{
	memset(n, 0, sizeof(*n));
	if (vmcs_field_count() > NESTED_MAX_FIELDS) {
		snprintf(err, errlen, "NESTED_MAX_FIELDS too small");
		return -1;
	}
	if (vmx_mem_init(&n->mem, NESTED_MEM)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n->k = k;
	n->mode = mode;
	vmx_cpu_init(&n->cpu, &n->mem, k, &n->clk);
	n->vmxon_pa = 0x1000;
	n->vmcs01_pa = 0x2000;
	n->vmcs02_pa = 0x3000;
	n->cached12_pa = 0x4000;
	n->vmread_bm_pa = 0x5000;
	n->vmwrite_bm_pa = 0x6000;
	n->msr_bm02_pa = 0x7000;
	n->io_bm02_pa = 0x8000;
	n->ept02_pa = 0xA000;
	n->vpid02 = 2;
	n->l1_current = VMX_INVALID_PTR;
	n->l1_vmxon_gpa = VMX_INVALID_PTR;
	vmcs_format(&n->mem, n->vmxon_pa, false);
	vmcs_format(&n->mem, n->vmcs01_pa, false);
	vmcs_format(&n->mem, n->vmcs02_pa, false);
	vmcs_format(&n->mem, n->cached12_pa, false);
	classify(n);
	/* L0's VMCSs: vmcs01 for L1, vmcs02's host state is L0's. */
	if (vmx_vmxon(&n->cpu, n->vmxon_pa) != VMX_SUCCEED ||
	    vmx_vmclear(&n->cpu, n->vmcs02_pa) != VMX_SUCCEED ||
	    vmx_vmptrld(&n->cpu, n->vmcs02_pa) != VMX_SUCCEED) {
		snprintf(err, errlen, "L0 VMXON/VMPTRLD failed");
		nested_fini(n);
		return -1;
	}
	vmx_vmcs_setup(&n->cpu, 0xFFFFFFFF82000000ull);     /* L0's exit handler */
	vmx_vmclear(&n->cpu, n->vmcs02_pa);
	vmx_vmptrld(&n->cpu, n->vmcs01_pa);
	vmx_vmcs_setup(&n->cpu, 0xFFFFFFFF82000000ull);
	if (vmx_entry_check(&n->cpu, false) != VMX_SUCCEED) {  /* L1 is running */
		snprintf(err, errlen, "L0 VMLAUNCH of L1 failed");
		nested_fini(n);
		return -1;
	}
	/* L1's VMXON region and vmcs12 in L1 memory (revision from
	 * IA32_VMX_BASIC, as L1 writes them). */
	uint32_t rev = VMCS_REVISION;
	memcpy(nested_l1_mem(n, NESTED_L1_VMXON), &rev, 4);
	memcpy(nested_l1_mem(n, NESTED_L1_VMCS12), &rev, 4);
	n->max_l2_exits = (uint64_t)iterations + 1;
	n->g = vmx_guest_create(iterations, &n->clk, k, err, errlen);
	if (!n->g) {
		nested_fini(n);
		return -1;
	}
	memset(&n->clk, 0, sizeof(n->clk));
	return 0;
}

void nested_fini(struct nested_vm *n)
{
	vmx_guest_destroy(n->g);
	n->g = NULL;
	vmx_mem_fini(&n->mem);
}

static enum vmx_result ops_vmread(void *ctx, uint32_t f, uint64_t *v)
{
	return l1_vmread(ctx, f, v);
}

static enum vmx_result ops_vmwrite(void *ctx, uint32_t f, uint64_t v)
{
	return l1_vmwrite(ctx, f, v);
}

int nested_l1_setup(struct nested_vm *n, char *err, size_t errlen)
{
	if (l1_vmxon(n, NESTED_L1_VMXON) != VMX_SUCCEED ||
	    l1_vmclear(n, NESTED_L1_VMCS12) != VMX_SUCCEED ||
	    l1_vmptrld(n, NESTED_L1_VMCS12) != VMX_SUCCEED) {
		snprintf(err, errlen, "L1 VMXON/VMCLEAR/VMPTRLD failed (error %u)", l1_insn_error(n));
		return -1;
	}
	/* L1 sets up vmcs12 as for any VM: its own EPT, VPID, controls. */
	static const struct { uint32_t f; uint64_t v; } init[] = {
		{ PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR_EXITING },
		{ CPU_BASED_VM_EXEC_CONTROL, CPU_HLT_EXITING | CPU_ACTIVATE_SECONDARY },
		{ SECONDARY_VM_EXEC_CONTROL, SEC_ENABLE_EPT | SEC_ENABLE_VPID },
		{ VIRTUAL_PROCESSOR_ID, 1 },
		{ EPT_POINTER, 0x9000 | 0x1E },
		{ VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE_SIZE },
		{ VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE },
		{ HOST_CR0, 0x80050033 }, { HOST_CR4, 0x3726F0 }, { HOST_CR3, 0x3000 },
		{ HOST_RSP, 0xFFFFC90000008000ull }, { HOST_RIP, 0xFFFFFFFF81000000ull },
		{ HOST_CS_SELECTOR, 0x10 }, { HOST_TR_SELECTOR, 0x40 }, { HOST_IA32_EFER, 0xD01 },
		{ GUEST_CR0, 0x80000031 }, { GUEST_CR4, 0x2020 }, { GUEST_IA32_EFER, 0x500 },
		{ GUEST_CS_SELECTOR, 0x8 }, { GUEST_CS_AR_BYTES, 0xA09B },
		{ GUEST_CS_LIMIT, 0xFFFFFFFF }, { GUEST_RIP, VMX_GUEST_CODE },
		{ GUEST_RSP, 0x2000 }, { GUEST_RFLAGS, 2 },
	};
	for (size_t i = 0; i < ARRAY_N(init); i++)
		if (l1_vmwrite(n, init[i].f, init[i].v) != VMX_SUCCEED) {
			snprintf(err, errlen, "L1 VMWRITE 0x%x failed (error %u)", init[i].f,
				 l1_insn_error(n));
			return -1;
		}
	memset(&n->clk, 0, sizeof(n->clk));
	memset(n->l1_exits, 0, sizeof(n->l1_exits));
	n->shadow_reads = n->shadow_writes = n->synced_fields = 0;
	return 0;
}

int nested_run(struct nested_vm *n, char *err, size_t errlen)
{
	struct vmx_ops ops = {
		.vmread = ops_vmread, .vmwrite = ops_vmwrite, .ctx = n,
		.clk = &n->clk, .k = n->k, .cat = VMX_CAT_L1,
	};
	enum vmx_result r = l1_vmlaunch(n);
	for (;;) {
		if (r != VMX_SUCCEED) {
			snprintf(err, errlen, "L1 VMLAUNCH/VMRESUME failed (error %u)", l1_insn_error(n));
			return -1;
		}
		if (n->l2_exits > n->max_l2_exits) {
			snprintf(err, errlen, "more than %llu L2 exits: the guest does not advance",
				 (unsigned long long)n->max_l2_exits);
			return -1;
		}
		uint32_t reason;
		int rc = kvm_handle_exit(&ops, n->l1_regs, &reason);
		if (rc == KVM_EXIT_HALT)
			return 0;
		if (rc != KVM_EXIT_RESUME) {
			snprintf(err, errlen, "L1: exit reason %u not handled", reason);
			return -1;
		}
		r = l1_vmresume(n);
	}
}
