/*
 * RDMSR/WRMSR in a TD (seam/td_msr.h).
 *
 * Facts, from the public TDX module 1.5.01 source:
 *  - the MSR list with each direction's bitmap bit (fixed 0: the TD runs
 *    the instruction natively; fixed 1: VM exit; dynamic: depends on the
 *    TD's ATTRIBUTES / XFAM / virtual CPUID) and exit action:
 *    include/auto_gen/msr_config_lookup.c;
 *  - what the exit handler does: src/td_dispatcher/vm_exits/td_msr_access.c
 *    (an MSR outside the bitmap ranges 0-1FFFh and C0000000h-C0001FFFh, or
 *    not in the list, is a #VE; action GP_OR_VE is #GP when the TD's virtual
 *    CPUID does not enumerate the feature, else #VE; the emulated MSRs), and
 *    src/td_dispatcher/tdx_td_dispatcher.c (a #VE for RDMSR/WRMSR carries
 *    exit qualification 0; #GP is injected with error code 0).
 * Which virtual CPUID bit each dynamic bit follows is the module's MSR
 * bitmap setup (src/common/helpers and TDH.MNG.INIT, condensed here).
 */
#include "seam/td_msr.h"
#include "seam/metadata_td.h"
#include "seam/td.h"

#include "tdx/arch.h"

/* Bitmap bit meaning of one direction. */
enum msr_bit {
	B_F0,                   /* fixed 0: native */
	B_F1,                   /* fixed 1: VM exit */
	B_PERFMON,              /* native iff ATTRIBUTES.PERFMON */
	B_OTHER,                /* PERF_METRICS / PERF_CAPABILITIES: as PERFMON here */
	B_XFAM_PT,              /* native iff XFAM[8] */
	B_XFAM_CET,             /* native iff XFAM[11] and XFAM[12] */
	B_XFAM_ULI,             /* native iff XFAM[14] */
	B_XFAM_LBR,             /* native iff XFAM[15] */
	B_PKS,                  /* native iff ATTRIBUTES.PKS */
	B_UMWAIT,               /* native iff virtual CPUID(7,0).ECX[5] */
	B_TSX,                  /* native iff virtual CPUID(7,0).EBX[4] or [11] */
	B_XFD,                  /* native iff virtual CPUID(0Dh,1).EAX[4] */
};

/* Exit action. */
enum msr_act {
	A_NONE,                 /* never exits (fixed 0) */
	A_GP, A_VE, A_OTHER,    /* #GP(0), #VE, emulated by the module */
	A_GPVE_DCA,             /* #GP unless virtual CPUID(1).ECX[18], then #VE */
	A_GPVE_TME,             /* #GP unless virtual CPUID(7,0).ECX[13], then #VE */
	A_GPVE_TSCDL,           /* #GP unless virtual CPUID(1).ECX[24], then #VE */
};

struct msr_entry {
	uint32_t first, last;
	uint8_t rd_bit, rd_act, wr_bit, wr_act;
};

/* msr_config_lookup.c (1.5.01), in address order. */
static const struct msr_entry msr_table[] = {
	{ 0x10, 0x10, B_F0, A_NONE, B_F1, A_VE },               /* IA32_TIME_STAMP_COUNTER */
	{ 0x48, 0x49, B_F0, A_NONE, B_F0, A_NONE },             /* IA32_SPEC_CTRL, IA32_PRED_CMD */
	{ 0x87, 0x87, B_F1, A_GPVE_TME, B_F1, A_GPVE_TME },     /* IA32_MKTME_PARTITIONING */
	{ 0x8C, 0x8F, B_F1, A_GP, B_F1, A_GP },                 /* IA32_SGXLEPUBKEYHASHx */
	{ 0x98, 0x9B, B_F1, A_GP, B_F1, A_GP },                 /* WBINVDP, WBNOINVDP, INTR_PENDING, SMM_MONITOR_CTL */
	{ 0x9E, 0x9E, B_F1, A_GP, B_F1, A_GP },                 /* IA32_SMBASE */
	{ 0xBC, 0xBC, B_F0, A_NONE, B_F1, A_VE },               /* IA32_MISC_PACKAGE_CTLS */
	{ 0xBD, 0xBD, B_F1, A_OTHER, B_F0, A_NONE },            /* IA32_XAPIC_DISABLE_STATUS */
	{ 0xC1, 0xC8, B_PERFMON, A_GP, B_PERFMON, A_GP },       /* IA32_PMCx */
	{ 0xE1, 0xE1, B_UMWAIT, A_GP, B_UMWAIT, A_GP },         /* IA32_UMWAIT_CONTROL */
	{ 0x10A, 0x10A, B_F1, A_OTHER, B_F0, A_NONE },          /* IA32_ARCH_CAPABILITIES */
	{ 0x10B, 0x10B, B_F0, A_NONE, B_F0, A_NONE },           /* IA32_FLUSH_CMD */
	{ 0x122, 0x122, B_TSX, A_GP, B_TSX, A_GP },             /* IA32_TSX_CTRL */
	{ 0x174, 0x176, B_F0, A_NONE, B_F0, A_NONE },           /* IA32_SYSENTER_CS/ESP/EIP */
	{ 0x186, 0x18D, B_PERFMON, A_GP, B_PERFMON, A_GP },     /* IA32_PERFEVTSELx */
	{ 0x195, 0x195, B_F1, A_GP, B_F1, A_GP },               /* IA32_OVERCLOCKING_STATUS */
	{ 0x1A0, 0x1A0, B_PERFMON, A_OTHER, B_F1, A_VE },       /* IA32_MISC_ENABLE */
	{ 0x1A6, 0x1A7, B_PERFMON, A_GP, B_PERFMON, A_GP },     /* MSR_OFFCORE_RSPx */
	{ 0x1C4, 0x1C5, B_XFD, A_GP, B_XFD, A_GP },             /* IA32_XFD, IA32_XFD_ERR */
	{ 0x1D9, 0x1D9, B_F1, A_OTHER, B_F1, A_OTHER },         /* IA32_DEBUGCTL */
	{ 0x1F8, 0x1FA, B_F1, A_GPVE_DCA, B_F1, A_GPVE_DCA },   /* IA32_PLATFORM/CPU/DCA_0 DCA_CAP */
	{ 0x276, 0x276, B_F1, A_GP, B_F1, A_GP },               /* MSR_SLAM_ENABLE */
	{ 0x277, 0x277, B_F0, A_NONE, B_F0, A_NONE },           /* IA32_PAT */
	{ 0x309, 0x310, B_PERFMON, A_GP, B_PERFMON, A_GP },     /* IA32_FIXED_CTRx */
	{ 0x329, 0x329, B_OTHER, A_GP, B_OTHER, A_GP },         /* IA32_PERF_METRICS */
	{ 0x345, 0x345, B_OTHER, A_OTHER, B_PERFMON, A_GP },    /* IA32_PERF_CAPABILITIES */
	{ 0x38D, 0x392, B_PERFMON, A_GP, B_PERFMON, A_GP },     /* FIXED_CTR_CTRL, PERF_GLOBAL_* */
	{ 0x3F1, 0x3F2, B_PERFMON, A_GP, B_PERFMON, A_GP },     /* IA32_PEBS_ENABLE, MSR_PEBS_MATRIX_VECT */
	{ 0x3F6, 0x3F7, B_PERFMON, A_GP, B_PERFMON, A_GP },     /* MSR_PEBS_LD_LATENCY, MSR_PEBS_FRONTEND */
	{ 0x480, 0x480, B_F1, A_OTHER, B_F1, A_GP },            /* IA32_VMX_BASIC */
	{ 0x481, 0x484, B_F1, A_VE, B_F1, A_GP },               /* IA32_VMX_PINBASED/PROCBASED/EXIT/ENTRY_CTLS */
	{ 0x485, 0x489, B_F1, A_OTHER, B_F1, A_GP },            /* IA32_VMX_MISC, CR0/CR4_FIXED0/1 */
	{ 0x48A, 0x48A, B_F1, A_VE, B_F1, A_GP },               /* IA32_VMX_VMCS_ENUM */
	{ 0x48B, 0x492, B_F1, A_OTHER, B_F1, A_GP },            /* IA32_VMX_PROCBASED_CTLS2 .. CTLS3 */
	{ 0x4C1, 0x4C8, B_PERFMON, A_GP, B_PERFMON, A_GP },     /* IA32_A_PMCx */
	{ 0x500, 0x500, B_F1, A_GP, B_F1, A_GP },               /* IA32_SGX_SVN_STATUS */
	{ 0x560, 0x561, B_XFAM_PT, A_GP, B_XFAM_PT, A_GP },     /* IA32_RTIT_OUTPUT_BASE/MASK_PTRS */
	{ 0x570, 0x572, B_XFAM_PT, A_GP, B_XFAM_PT, A_GP },     /* IA32_RTIT_CTL/STATUS/CR3_MATCH */
	{ 0x580, 0x587, B_XFAM_PT, A_GP, B_XFAM_PT, A_GP },     /* IA32_RTIT_ADDRn_A/B */
	{ 0x600, 0x600, B_F0, A_NONE, B_F0, A_NONE },           /* IA32_DS_AREA */
	{ 0x6A0, 0x6A0, B_XFAM_CET, A_GP, B_XFAM_CET, A_GP },   /* IA32_U_CET */
	{ 0x6A2, 0x6A2, B_XFAM_CET, A_GP, B_XFAM_CET, A_GP },   /* IA32_S_CET */
	{ 0x6A4, 0x6A8, B_XFAM_CET, A_GP, B_XFAM_CET, A_GP },   /* IA32_PLx_SSP, INTERRUPT_SSP_TABLE_ADDR */
	{ 0x6E0, 0x6E0, B_F1, A_GPVE_TSCDL, B_F1, A_GPVE_TSCDL }, /* IA32_TSC_DEADLINE */
	{ 0x6E1, 0x6E1, B_PKS, A_GP, B_PKS, A_GP },             /* IA32_PKRS */
	{ 0x800, 0x801, B_F1, A_GP, B_F1, A_GP },               /* reserved (xAPIC) */
	{ 0x804, 0x807, B_F1, A_GP, B_F1, A_GP },               /* reserved (xAPIC) */
	{ 0x808, 0x80C, B_F0, A_NONE, B_F0, A_NONE },           /* X2APIC TPR, 809h, PPR, EOI, 80Ch */
	{ 0x80E, 0x80E, B_F0, A_NONE, B_F0, A_NONE },           /* reserved (virtualized) */
	{ 0x810, 0x827, B_F0, A_NONE, B_F0, A_NONE },           /* X2APIC ISRx, TMRx, IRRx */
	{ 0x829, 0x82E, B_F1, A_GP, B_F1, A_GP },               /* reserved (xAPIC) */
	{ 0x831, 0x831, B_F1, A_GP, B_F1, A_GP },               /* reserved (xAPIC) */
	{ 0x83F, 0x83F, B_F0, A_NONE, B_F0, A_NONE },           /* X2APIC SELF_IPI */
	{ 0x840, 0x8FF, B_F1, A_GP, B_F1, A_GP },               /* reserved (xAPIC) */
	{ 0x981, 0x984, B_F1, A_GPVE_TME, B_F1, A_GPVE_TME },   /* IA32_TME_CAPABILITY/ACTIVATE/EXCLUDE_* */
	{ 0x985, 0x98A, B_XFAM_ULI, A_GP, B_XFAM_ULI, A_GP },   /* IA32_UINTR_* */
	{ 0xC80, 0xC80, B_F0, A_NONE, B_F1, A_VE },             /* IA32_DEBUG_INTERFACE */
	{ 0xD90, 0xD90, B_F1, A_GP, B_F1, A_GP },               /* IA32_BNDCFGS */
	{ 0xD93, 0xD93, B_F1, A_GP, B_F1, A_GP },               /* IA32_PASID */
	{ 0xDA0, 0xDA0, B_F0, A_NONE, B_F1, A_OTHER },          /* IA32_XSS */
	{ 0x1200, 0x12FF, B_XFAM_LBR, A_GP, B_XFAM_LBR, A_GP }, /* IA32_LBR_INFO */
	{ 0x14CE, 0x14CF, B_XFAM_LBR, A_GP, B_XFAM_LBR, A_GP }, /* IA32_LBR_CTL, IA32_LBR_DEPTH */
	{ 0x1500, 0x16FF, B_XFAM_LBR, A_GP, B_XFAM_LBR, A_GP }, /* IA32_LBR_x_FROM_IP / TO_IP */
	{ 0x1B01, 0x1B01, B_F0, A_NONE, B_F0, A_NONE },         /* IA32_UARCH_MISC_CTL */
	{ 0xC0000080, 0xC0000080, B_F0, A_NONE, B_F1, A_OTHER }, /* IA32_EFER */
	{ 0xC0000081, 0xC0000082, B_F0, A_NONE, B_F0, A_NONE }, /* IA32_STAR, IA32_LSTAR */
	{ 0xC0000084, 0xC0000084, B_F0, A_NONE, B_F0, A_NONE }, /* IA32_FMASK */
	{ 0xC0000100, 0xC0000103, B_F0, A_NONE, B_F0, A_NONE }, /* FS/GS/KERNEL_GS_BASE, TSC_AUX */
};

#define N_MSR (sizeof(msr_table) / sizeof(msr_table[0]))

#define MSR_XAPIC_DISABLE_STATUS 0xBDu
#define MSR_ARCH_CAPABILITIES    0x10Au
#define MSR_MISC_ENABLE          0x1A0u
#define MSR_DEBUGCTL             0x1D9u
#define MSR_PERF_CAPABILITIES    0x345u
#define MSR_VMX_BASIC            0x480u
#define MSR_VMX_LAST             0x492u
#define MSR_XSS                  0xDA0u
#define MSR_EFER                 0xC0000080u

#define XFAM_PT   (1ULL << 8)
#define XFAM_CET  ((1ULL << 11) | (1ULL << 12))
#define XFAM_ULI  (1ULL << 14)
#define XFAM_LBR  (1ULL << 15)
/* XFAM components managed through IA32_XSS (supervisor states): PT,
 * PASID, CET_U, CET_S, HDC, ULI, LBR, HWP. */
#define XSS_COMPONENTS 0x1FD00ULL

#define EFER_SCE (1ULL << 0)
#define EFER_LMA (1ULL << 10)

static bool cpuid_bit(struct tdxsim *s, const struct seam_td *td, uint32_t leaf, uint32_t sub,
		      unsigned reg, unsigned bitno)
{
	uint32_t out[4];
	if (!md_td_cpuid(s, td, leaf, sub, out))
		return false;
	return (out[reg] >> bitno) & 1;
}

/* The bitmap bit of one direction is clear (the TD accesses the MSR natively). */
static bool native(struct tdxsim *s, const struct seam_td *td, enum msr_bit b)
{
	switch (b) {
	case B_F0: return true;
	case B_F1: return false;
	case B_PERFMON:
	case B_OTHER: return td->attributes & TDX_TD_ATTR_PERFMON;
	case B_XFAM_PT: return td->xfam & XFAM_PT;
	case B_XFAM_CET: return (td->xfam & XFAM_CET) == XFAM_CET;
	case B_XFAM_ULI: return td->xfam & XFAM_ULI;
	case B_XFAM_LBR: return td->xfam & XFAM_LBR;
	case B_PKS: return td->attributes & TDX_TD_ATTR_PKS;
	case B_UMWAIT: return cpuid_bit(s, td, 7, 0, 2, 5);
	case B_TSX: return cpuid_bit(s, td, 7, 0, 1, 4) || cpuid_bit(s, td, 7, 0, 1, 11);
	case B_XFD: return cpuid_bit(s, td, 0xD, 1, 0, 4);
	}
	return false;
}

static const struct msr_entry *msr_find(uint32_t msr)
{
	for (unsigned i = 0; i < N_MSR; i++) {
		if (msr < msr_table[i].first)
			return NULL;
		if (msr <= msr_table[i].last)
			return &msr_table[i];
	}
	return NULL;
}

enum td_msr_action td_msr_action(struct tdxsim *s, const struct seam_td *td, uint32_t msr, bool wr)
{
	bool in_bitmap = msr < 0x2000 || (msr >= 0xC0000000u && msr < 0xC0002000u);
	if (!in_bitmap)
		return TD_MSR_VE;
	const struct msr_entry *e = msr_find(msr);
	if (!e)
		return TD_MSR_VE;       /* fixed-1 both ways, #VE: left out of the list */
	enum msr_bit b = wr ? e->wr_bit : e->rd_bit;
	enum msr_act a = wr ? e->wr_act : e->rd_act;
	if (native(s, td, b))
		return TD_MSR_NATIVE;
	switch (a) {
	case A_GP: return TD_MSR_GP;
	case A_VE: return TD_MSR_VE;
	case A_OTHER: return TD_MSR_EMULATE;
	case A_GPVE_DCA: return cpuid_bit(s, td, 1, 0, 2, 18) ? TD_MSR_VE : TD_MSR_GP;
	case A_GPVE_TME: return cpuid_bit(s, td, 7, 0, 2, 13) ? TD_MSR_VE : TD_MSR_GP;
	case A_GPVE_TSCDL: return cpuid_bit(s, td, 1, 0, 2, 24) ? TD_MSR_VE : TD_MSR_GP;
	case A_NONE: break;
	}
	/* A fixed-0 bit with no action: never reached (native() is true). */
	return TD_MSR_GP;
}

/* IA32_DEBUGCTL: reserved bits (SDM: 5:3 and 63:16), a write of any is #GP. */
#define DEBUGCTL_RESERVED 0xFFFFFFFFFFFF0038ULL
#define DEBUGCTL_TR       (1ULL << 6)
#define DEBUGCTL_BTS      (1ULL << 7)
#define DEBUGCTL_UNCORE   (1ULL << 13)
/* IA32_MISC_ENABLE bits the module virtualises when PERFMON is off. */
#define MISC_PERFMON_AVAILABLE (1ULL << 7)
#define MISC_PEBS_UNAVAILABLE  (1ULL << 12)

enum td_msr_action td_msr_emulate(struct tdxsim *s, struct seam_vcpu *v, uint32_t msr, bool wr,
				  uint64_t efer, uint64_t *val)
{
	struct seam_td *td = v->td;
	(void)s;
	if (!wr) {
		switch (msr) {
		case MSR_XAPIC_DISABLE_STATUS:
			*val = 1;               /* LEGACY_XAPIC_DISABLED */
			return TD_MSR_EMULATE;
		case MSR_ARCH_CAPABILITIES:
			/* The module returns the virtual value computed at
			 * TDH.MNG.INIT from the platform's value and the TD's
			 * configuration; the platform's own bits are not
			 * modelled: the configured bits. */
			*val = td->ia32_arch_capabilities_config;
			return TD_MSR_EMULATE;
		case MSR_MISC_ENABLE:
			/* Without PERFMON: the CPU's value with PERFMON_AVAILABLE
			 * clear and PEBS_UNAVAILABLE set. */
			*val = (*val & ~MISC_PERFMON_AVAILABLE) | MISC_PEBS_UNAVAILABLE;
			return TD_MSR_EMULATE;
		case MSR_DEBUGCTL:
			*val = v->g.debugctl & ~DEBUGCTL_UNCORE;
			return TD_MSR_EMULATE;
		case MSR_PERF_CAPABILITIES:
			*val = 0;               /* without PERFMON */
			return TD_MSR_EMULATE;
		default:
			if (msr >= MSR_VMX_BASIC && msr <= MSR_VMX_LAST) {
				/* Virtual VMX capability values (for L2 VMs): not
				 * modelled, read as 0. */
				*val = 0;
				return TD_MSR_EMULATE;
			}
			return TD_MSR_VE;
		}
	}
	switch (msr) {
	case MSR_DEBUGCTL:
		if (*val & DEBUGCTL_RESERVED)
			return TD_MSR_GP;
		if ((*val & DEBUGCTL_TR) && !(*val & DEBUGCTL_BTS))
			return TD_MSR_VE;
		v->g.debugctl = (*val & ~DEBUGCTL_UNCORE) | (v->g.debugctl & DEBUGCTL_UNCORE);
		return TD_MSR_EMULATE;
	case MSR_XSS:
		if (*val & ~(XSS_COMPONENTS & td->xfam))
			return TD_MSR_GP;
		v->g.xss = *val;
		return TD_MSR_NATIVE;   /* the module writes the CPU's IA32_XSS too */
	case MSR_EFER: {
		/* LMA is read-only; only SCE may change, anything else is a #VE. */
		uint64_t nv = (*val & ~EFER_LMA) | (efer & EFER_LMA);
		if ((nv & ~EFER_SCE) != (efer & ~EFER_SCE))
			return TD_MSR_VE;
		*val = nv;
		return TD_MSR_NATIVE;
	}
	default:
		return TD_MSR_VE;
	}
}
