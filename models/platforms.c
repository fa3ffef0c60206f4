/*
 * Platform profiles. Values are those of production parts as Linux and the
 * TDX module see them; where a BIOS chooses (KeyID split, topology), the
 * default is a typical 2-socket configuration scaled down to what a 2-core
 * host simulates quickly, and every field can be overridden in tdxsim_config.
 *
 *  - CPUID family/model: Linux arch/x86/include/asm/intel-family.h
 *    (SAPPHIRERAPIDS_X 0x8F, EMERALDRAPIDS_X 0xCF, GRANITERAPIDS_X 0xAD).
 *  - MAX_PA: 52. The TDX module places KeyIDs at PA bits [52 - keyid_bits, 51]
 *    (MAX_PA is a constant 52 in module 1.5) and Linux at x86_phys_bits, so a
 *    TDX platform reports 52 address bits for the two to agree.
 *  - KeyIDs: SPR/EMR implement 6 KeyID bits (64 KeyIDs incl. KeyID 0); a
 *    typical BIOS split is 31 MKTME + 32 TDX. GNR implements 7 bits; 63 + 64.
 *  - Module: SPR/EMR run TDX module 1.5.x, GNR 2.0.x (Intel's release notes).
 *  - TDX_FEATURES0: module 1.5.01's value (bits 0-5, 7, 9-11, 16-19) plus
 *    bit 20 TOPOLOGY_ENUM, which KVM requires (tdx-abi.md section 0).
 *  - PW_MCE: Linux marks SPR and EMR with X86_BUG_TDX_PW_MCE.
 *  - P-SEAMLDR: the loader generation that ships with each module line
 *    (1.5 with module 1.5, 2.0 with module 2.0); 16 remaining updates is an
 *    estimate (the count is a BIOS/loader setting).
 */
#include <string.h>

#include "tdxsim/tdxsim.h"

#define FEATURES0_15 0x00000000001F0EBFULL /* bits 0-5,7,9-11,16-20 */

static const tdxsim_platform spr = {
	.name = "spr",
	.description = "4th Gen Xeon (Sapphire Rapids), TDX module 1.5",
	.cpu_family = 6, .cpu_model = 0x8F, .cpu_stepping = 8,
	.packages = 2, .lps_per_package = 4,
	.max_pa = 52,
	.mktme_keyids = 31, .tdx_keyids = 32,
	.module_major = 1, .module_minor = 5, .module_update = 6,
	.tdx_features0 = FEATURES0_15,
	.default_mem_bytes = 4ULL << 30,
	.tsc_mhz = 2100,
	.flags = TDXSIM_PLATFORM_F_PW_MCE,
	.seamldr_major = 1, .seamldr_minor = 5, .seamldr_update = 0,
	.seamldr_remaining_updates = 16,
};

static const tdxsim_platform emr = {
	.name = "emr",
	.description = "5th Gen Xeon (Emerald Rapids), TDX module 1.5",
	.cpu_family = 6, .cpu_model = 0xCF, .cpu_stepping = 2,
	.packages = 2, .lps_per_package = 4,
	.max_pa = 52,
	.mktme_keyids = 31, .tdx_keyids = 32,
	.module_major = 1, .module_minor = 5, .module_update = 6,
	.tdx_features0 = FEATURES0_15,
	.default_mem_bytes = 4ULL << 30,
	.tsc_mhz = 2100,
	.flags = TDXSIM_PLATFORM_F_PW_MCE,
	.seamldr_major = 1, .seamldr_minor = 5, .seamldr_update = 0,
	.seamldr_remaining_updates = 16,
};

static const tdxsim_platform gnr = {
	.name = "gnr",
	.description = "Xeon 6 P-core (Granite Rapids), TDX module 2.0",
	.cpu_family = 6, .cpu_model = 0xAD, .cpu_stepping = 1,
	.packages = 2, .lps_per_package = 4,
	.max_pa = 52,
	.mktme_keyids = 63, .tdx_keyids = 64,
	.module_major = 2, .module_minor = 0, .module_update = 0,
	.tdx_features0 = FEATURES0_15,
	.default_mem_bytes = 4ULL << 30,
	.tsc_mhz = 2000,
	.flags = 0,
	.seamldr_major = 2, .seamldr_minor = 0, .seamldr_update = 0,
	.seamldr_remaining_updates = 16,
};

static const tdxsim_platform *const platforms[] = { &spr, &emr, &gnr, NULL };

const tdxsim_platform *const *tdxsim_platforms(void)
{
	return platforms;
}

const tdxsim_platform *tdxsim_platform_find(const char *name)
{
	for (int i = 0; platforms[i]; i++)
		if (!strcmp(platforms[i]->name, name))
			return platforms[i];
	return NULL;
}
