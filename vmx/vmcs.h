/*
 * VMCS model: architectural field encodings (Intel SDM Vol. 3, Appendix B),
 * the VMCS region in simulated memory, and the VMX instructions of VMX root
 * operation with the SDM's success/failure conventions (VMsucceed,
 * VMfailInvalid: CF = 1, VMfailValid(n): ZF = 1 and VM-instruction error n
 * in the current VMCS, SDM Vol. 3 "VM Instruction Error Numbers").
 *
 * The in-memory format of a VMCS is implementation specific (SDM 25.2). Ours:
 *   +0  revision identifier (30:0), shadow-VMCS indicator (31)
 *   +4  VMX-abort indicator
 *   +8  launch state (0 clear, 1 launched)
 *   +16 one 64-bit slot per supported field, in vmcs_fields[] order
 */
#ifndef VMX_VMCS_H
#define VMX_VMCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vmx_costs.h"

/* ---- Field encodings (SDM Appendix B). ---- */
/* 16-bit control */
#define VIRTUAL_PROCESSOR_ID            0x0000
#define POSTED_INTR_NV                  0x0002
/* 16-bit guest state */
#define GUEST_ES_SELECTOR               0x0800
#define GUEST_CS_SELECTOR               0x0802
#define GUEST_SS_SELECTOR               0x0804
#define GUEST_DS_SELECTOR               0x0806
#define GUEST_FS_SELECTOR               0x0808
#define GUEST_GS_SELECTOR               0x080A
#define GUEST_LDTR_SELECTOR             0x080C
#define GUEST_TR_SELECTOR               0x080E
#define GUEST_INTR_STATUS               0x0810
#define GUEST_PML_INDEX                 0x0812
/* 16-bit host state */
#define HOST_ES_SELECTOR                0x0C00
#define HOST_CS_SELECTOR                0x0C02
#define HOST_SS_SELECTOR                0x0C04
#define HOST_DS_SELECTOR                0x0C06
#define HOST_FS_SELECTOR                0x0C08
#define HOST_GS_SELECTOR                0x0C0A
#define HOST_TR_SELECTOR                0x0C0C
/* 64-bit control */
#define IO_BITMAP_A                     0x2000
#define IO_BITMAP_B                     0x2002
#define MSR_BITMAP                      0x2004
#define VM_EXIT_MSR_STORE_ADDR          0x2006
#define VM_EXIT_MSR_LOAD_ADDR           0x2008
#define VM_ENTRY_MSR_LOAD_ADDR          0x200A
#define PML_ADDRESS                     0x200E
#define TSC_OFFSET                      0x2010
#define VIRTUAL_APIC_PAGE_ADDR          0x2012
#define APIC_ACCESS_ADDR                0x2014
#define POSTED_INTR_DESC_ADDR           0x2016
#define VM_FUNCTION_CONTROL             0x2018
#define EPT_POINTER                     0x201A
#define EOI_EXIT_BITMAP0                0x201C
#define EOI_EXIT_BITMAP1                0x201E
#define EOI_EXIT_BITMAP2                0x2020
#define EOI_EXIT_BITMAP3                0x2022
#define EPTP_LIST_ADDRESS               0x2024
#define VMREAD_BITMAP                   0x2026
#define VMWRITE_BITMAP                  0x2028
#define XSS_EXIT_BITMAP                 0x202C
#define ENCLS_EXITING_BITMAP            0x202E
#define TSC_MULTIPLIER                  0x2032
/* 64-bit read-only data */
#define GUEST_PHYSICAL_ADDRESS          0x2400
/* 64-bit guest state */
#define VMCS_LINK_POINTER               0x2800
#define GUEST_IA32_DEBUGCTL             0x2802
#define GUEST_IA32_PAT                  0x2804
#define GUEST_IA32_EFER                 0x2806
#define GUEST_IA32_PERF_GLOBAL_CTRL     0x2808
#define GUEST_PDPTR0                    0x280A
#define GUEST_PDPTR1                    0x280C
#define GUEST_PDPTR2                    0x280E
#define GUEST_PDPTR3                    0x2810
#define GUEST_BNDCFGS                   0x2812
/* 64-bit host state */
#define HOST_IA32_PAT                   0x2C00
#define HOST_IA32_EFER                  0x2C02
#define HOST_IA32_PERF_GLOBAL_CTRL      0x2C04
/* 32-bit control */
#define PIN_BASED_VM_EXEC_CONTROL       0x4000
#define CPU_BASED_VM_EXEC_CONTROL       0x4002
#define EXCEPTION_BITMAP                0x4004
#define PAGE_FAULT_ERROR_CODE_MASK      0x4006
#define PAGE_FAULT_ERROR_CODE_MATCH     0x4008
#define CR3_TARGET_COUNT                0x400A
#define VM_EXIT_CONTROLS                0x400C
#define VM_EXIT_MSR_STORE_COUNT         0x400E
#define VM_EXIT_MSR_LOAD_COUNT          0x4010
#define VM_ENTRY_CONTROLS               0x4012
#define VM_ENTRY_MSR_LOAD_COUNT         0x4014
#define VM_ENTRY_INTR_INFO_FIELD        0x4016
#define VM_ENTRY_EXCEPTION_ERROR_CODE   0x4018
#define VM_ENTRY_INSTRUCTION_LEN        0x401A
#define TPR_THRESHOLD                   0x401C
#define SECONDARY_VM_EXEC_CONTROL       0x401E
#define PLE_GAP                         0x4020
#define PLE_WINDOW                      0x4022
/* 32-bit read-only data */
#define VM_INSTRUCTION_ERROR            0x4400
#define VM_EXIT_REASON                  0x4402
#define VM_EXIT_INTR_INFO               0x4404
#define VM_EXIT_INTR_ERROR_CODE         0x4406
#define IDT_VECTORING_INFO_FIELD        0x4408
#define IDT_VECTORING_ERROR_CODE        0x440A
#define VM_EXIT_INSTRUCTION_LEN         0x440C
#define VMX_INSTRUCTION_INFO            0x440E
/* 32-bit guest state */
#define GUEST_ES_LIMIT                  0x4800
#define GUEST_CS_LIMIT                  0x4802
#define GUEST_SS_LIMIT                  0x4804
#define GUEST_DS_LIMIT                  0x4806
#define GUEST_FS_LIMIT                  0x4808
#define GUEST_GS_LIMIT                  0x480A
#define GUEST_LDTR_LIMIT                0x480C
#define GUEST_TR_LIMIT                  0x480E
#define GUEST_GDTR_LIMIT                0x4810
#define GUEST_IDTR_LIMIT                0x4812
#define GUEST_ES_AR_BYTES               0x4814
#define GUEST_CS_AR_BYTES               0x4816
#define GUEST_SS_AR_BYTES               0x4818
#define GUEST_DS_AR_BYTES               0x481A
#define GUEST_FS_AR_BYTES               0x481C
#define GUEST_GS_AR_BYTES               0x481E
#define GUEST_LDTR_AR_BYTES             0x4820
#define GUEST_TR_AR_BYTES               0x4822
#define GUEST_INTERRUPTIBILITY_INFO     0x4824
#define GUEST_ACTIVITY_STATE            0x4826
#define GUEST_SMBASE                    0x4828
#define GUEST_SYSENTER_CS               0x482A
#define VMX_PREEMPTION_TIMER_VALUE      0x482E
/* 32-bit host state */
#define HOST_IA32_SYSENTER_CS           0x4C00
/* natural-width control */
#define CR0_GUEST_HOST_MASK             0x6000
#define CR4_GUEST_HOST_MASK             0x6002
#define CR0_READ_SHADOW                 0x6004
#define CR4_READ_SHADOW                 0x6006
#define CR3_TARGET_VALUE0               0x6008
#define CR3_TARGET_VALUE1               0x600A
#define CR3_TARGET_VALUE2               0x600C
#define CR3_TARGET_VALUE3               0x600E
/* natural-width read-only data */
#define EXIT_QUALIFICATION              0x6400
#define EXIT_IO_RCX                     0x6402
#define EXIT_IO_RSI                     0x6404
#define EXIT_IO_RDI                     0x6406
#define EXIT_IO_RIP                     0x6408
#define GUEST_LINEAR_ADDRESS            0x640A
/* natural-width guest state */
#define GUEST_CR0                       0x6800
#define GUEST_CR3                       0x6802
#define GUEST_CR4                       0x6804
#define GUEST_ES_BASE                   0x6806
#define GUEST_CS_BASE                   0x6808
#define GUEST_SS_BASE                   0x680A
#define GUEST_DS_BASE                   0x680C
#define GUEST_FS_BASE                   0x680E
#define GUEST_GS_BASE                   0x6810
#define GUEST_LDTR_BASE                 0x6812
#define GUEST_TR_BASE                   0x6814
#define GUEST_GDTR_BASE                 0x6816
#define GUEST_IDTR_BASE                 0x6818
#define GUEST_DR7                       0x681A
#define GUEST_RSP                       0x681C
#define GUEST_RIP                       0x681E
#define GUEST_RFLAGS                    0x6820
#define GUEST_PENDING_DBG_EXCEPTIONS    0x6822
#define GUEST_SYSENTER_ESP              0x6824
#define GUEST_SYSENTER_EIP              0x6826
/* natural-width host state */
#define HOST_CR0                        0x6C00
#define HOST_CR3                        0x6C02
#define HOST_CR4                        0x6C04
#define HOST_FS_BASE                    0x6C06
#define HOST_GS_BASE                    0x6C08
#define HOST_TR_BASE                    0x6C0A
#define HOST_GDTR_BASE                  0x6C0C
#define HOST_IDTR_BASE                  0x6C0E
#define HOST_IA32_SYSENTER_ESP          0x6C10
#define HOST_IA32_SYSENTER_EIP          0x6C12
#define HOST_RSP                        0x6C14
#define HOST_RIP                        0x6C16

/* Encoding layout (SDM B.1): bit 0 access type (1 = high half of a 64-bit
 * field), 9:1 index, 11:10 type, 14:13 width; 12 and 31:15 reserved. */
#define VMCS_TYPE(f)        (((f) >> 10) & 3u)
#define VMCS_WIDTH(f)       (((f) >> 13) & 3u)
enum { VMCS_TYPE_CONTROL, VMCS_TYPE_RO_DATA, VMCS_TYPE_GUEST, VMCS_TYPE_HOST };
enum { VMCS_WIDTH_16, VMCS_WIDTH_64, VMCS_WIDTH_32, VMCS_WIDTH_NATURAL };

/* ---- Control bits used by the models (SDM 25.6). ---- */
#define PIN_EXT_INTR_EXITING            (1u << 0)
#define PIN_NMI_EXITING                 (1u << 3)
#define CPU_HLT_EXITING                 (1u << 7)
#define CPU_USE_MSR_BITMAPS             (1u << 28)
#define CPU_ACTIVATE_SECONDARY          (1u << 31)
#define SEC_ENABLE_EPT                  (1u << 1)
#define SEC_ENABLE_VPID                 (1u << 5)
#define SEC_ENABLE_VMFUNC               (1u << 13)
#define SEC_SHADOW_VMCS                 (1u << 14)
#define EXIT_HOST_ADDR_SPACE_SIZE       (1u << 9)
#define EXIT_SAVE_IA32_PAT              (1u << 18)
#define EXIT_LOAD_IA32_PAT              (1u << 19)
#define EXIT_SAVE_IA32_EFER             (1u << 20)
#define EXIT_LOAD_IA32_EFER             (1u << 21)
#define ENTRY_LOAD_DEBUG_CONTROLS       (1u << 2)
#define ENTRY_IA32E_MODE                (1u << 9)
#define ENTRY_LOAD_IA32_PAT             (1u << 14)
#define ENTRY_LOAD_IA32_EFER            (1u << 15)

/* ---- Basic exit reasons (SDM Appendix C). ---- */
#define EXIT_REASON_CPUID               10
#define EXIT_REASON_HLT                 12
#define EXIT_REASON_VMCALL              18
#define EXIT_REASON_VMCLEAR             19
#define EXIT_REASON_VMLAUNCH            20
#define EXIT_REASON_VMPTRLD             21
#define EXIT_REASON_VMREAD              23
#define EXIT_REASON_VMRESUME            24
#define EXIT_REASON_VMWRITE             25
#define EXIT_REASON_VMXON               27
#define EXIT_REASON_INVEPT              50
#define EXIT_REASON_INVVPID             53

/* ---- VM-instruction error numbers (SDM 31.4). ---- */
#define VMXERR_VMCALL_IN_ROOT           1
#define VMXERR_VMCLEAR_INVALID_ADDR     2
#define VMXERR_VMCLEAR_VMXON_PTR        3
#define VMXERR_VMLAUNCH_NONCLEAR        4
#define VMXERR_VMRESUME_NONLAUNCHED     5
#define VMXERR_ENTRY_INVALID_CONTROL    7
#define VMXERR_ENTRY_INVALID_HOST       8
#define VMXERR_VMPTRLD_INVALID_ADDR     9
#define VMXERR_VMPTRLD_VMXON_PTR        10
#define VMXERR_VMPTRLD_BAD_REVISION     11
#define VMXERR_UNSUPPORTED_FIELD        12
#define VMXERR_VMWRITE_READ_ONLY        13
#define VMXERR_VMXON_IN_ROOT            15
#define VMXERR_INVALID_INVEPT_INVVPID   28

#define VMX_INVALID_PTR                 UINT64_MAX
#define VMCS_REVISION                   0x4u        /* our IA32_VMX_BASIC[30:0] */
#define VMCS_SHADOW_BIT                 (1u << 31)
#define VMCS_SIZE                       4096u

#define RFLAGS_CF                       (1ull << 0)
#define RFLAGS_PF                       (1ull << 2)
#define RFLAGS_AF                       (1ull << 4)
#define RFLAGS_ZF                       (1ull << 6)
#define RFLAGS_SF                       (1ull << 7)
#define RFLAGS_OF                       (1ull << 11)

/* ---- Simulated cycles, by where they go (the benchmark's breakdown). ---- */
enum vmx_cat {
	VMX_CAT_GUEST,          /* guest instructions */
	VMX_CAT_HW,             /* hardware VM exits and entries */
	VMX_CAT_L0,             /* L0 (or the only VMM) software */
	VMX_CAT_L1,             /* L1 hypervisor software */
	VMX_CAT_VMRW,           /* VMREAD/VMWRITE, native or shadowed */
	VMX_CAT_SYNC,           /* vmcs12 <-> vmcs02 copies, VMPTRLD/VMCLEAR switches */
	VMX_CAT_SEAM,           /* SEAM transitions and TDX module work */
	VMX_CAT_HOST,           /* host VMM of a TD */
	VMX_CAT_N
};
extern const char *const vmx_cat_names[VMX_CAT_N];

struct vmx_clock {
	uint64_t total;
	uint64_t cat[VMX_CAT_N];
};

static inline void vmx_charge(struct vmx_clock *c, enum vmx_cat cat, uint64_t cycles)
{
	c->total += cycles;
	c->cat[cat] += cycles;
}

/* ---- Simulated physical memory (VMCS regions, bitmaps, L1 memory). ---- */
struct vmx_mem {
	uint8_t *base;
	uint64_t size;
};
int vmx_mem_init(struct vmx_mem *m, uint64_t size);
void vmx_mem_fini(struct vmx_mem *m);
bool vmx_mem_ok(const struct vmx_mem *m, uint64_t pa, uint64_t len);

/* ---- Fields. ---- */
/* Index of a supported field in the VMCS layout, -1 if unsupported (a
 * reserved bit set, or an encoding the model does not implement). The high
 * access (bit 0) of a 64-bit field maps to the full field's index. */
int vmcs_field_index(uint32_t field);
unsigned vmcs_field_count(void);
uint32_t vmcs_field_at(unsigned index);    /* encoding of the index-th field */
/* Value as stored by VMWRITE: truncated to the field width. */
uint64_t vmcs_field_truncate(uint32_t field, uint64_t value);

/* Raw VMCS region accesses (what the processor and a VMM's own bookkeeping
 * do); the caller checks the field is supported. */
uint64_t vmcs_get(struct vmx_mem *m, uint64_t vmcs, uint32_t field);
void vmcs_set(struct vmx_mem *m, uint64_t vmcs, uint32_t field, uint64_t value);
uint32_t vmcs_header(struct vmx_mem *m, uint64_t vmcs);
void vmcs_set_header(struct vmx_mem *m, uint64_t vmcs, uint32_t header);
uint32_t vmcs_launch_state(struct vmx_mem *m, uint64_t vmcs);
void vmcs_set_launch_state(struct vmx_mem *m, uint64_t vmcs, uint32_t state);
/* A fresh VMCS region: revision, all fields 0, link pointer ~0. */
void vmcs_format(struct vmx_mem *m, uint64_t vmcs, bool shadow);

/* ---- A logical processor in VMX root operation. ---- */
struct vmx_cpu {
	struct vmx_mem *mem;
	const struct vmx_costs *k;
	struct vmx_clock *clk;
	enum vmx_cat cat;               /* where the VMX instructions are charged */
	bool vmxon;
	uint64_t vmxon_ptr;
	uint64_t current;               /* current-VMCS pointer */
	uint64_t rflags;                /* arithmetic flags of the last VMX instruction */
	bool vmwrite_any;               /* IA32_VMX_MISC[29]: VMWRITE to exit-information fields */
};

enum vmx_result { VMX_SUCCEED, VMX_FAIL_INVALID, VMX_FAIL_VALID };

void vmx_cpu_init(struct vmx_cpu *c, struct vmx_mem *m, const struct vmx_costs *k, struct vmx_clock *clk);
enum vmx_result vmx_vmxon(struct vmx_cpu *c, uint64_t region);
enum vmx_result vmx_vmptrld(struct vmx_cpu *c, uint64_t vmcs);
enum vmx_result vmx_vmclear(struct vmx_cpu *c, uint64_t vmcs);
enum vmx_result vmx_vmread(struct vmx_cpu *c, uint32_t field, uint64_t *value);
enum vmx_result vmx_vmwrite(struct vmx_cpu *c, uint32_t field, uint64_t value);
/* The instruction-level checks of VMLAUNCH (resume = false) / VMRESUME and
 * the VM-entry checks on the controls and host state the model performs;
 * VMX_SUCCEED means the entry proceeds (launch state set to launched). */
enum vmx_result vmx_entry_check(struct vmx_cpu *c, bool resume);
/* INVEPT (type 1 single-context, 2 all-context) / INVVPID (0..3). */
enum vmx_result vmx_invept(struct vmx_cpu *c, uint64_t type, uint64_t eptp);
enum vmx_result vmx_invvpid(struct vmx_cpu *c, uint64_t type, uint16_t vpid);
/* VM-instruction error field of the current VMCS (0 if none). */
uint32_t vmx_insn_error(struct vmx_cpu *c);

/* Sets RFLAGS for a VMX instruction result (SDM 31.2) into *rflags and, for
 * VMfailValid, writes the error number into the VMCS at err_vmcs. */
void vmx_set_result(struct vmx_mem *m, uint64_t *rflags, enum vmx_result r, uint64_t err_vmcs,
		    uint32_t err);

#endif
