/*
 * Kernel-mode glue: small functions compiled like the kernel files (against
 * the shim headers) that give the user-space tests plain-C access to kernel
 * structures. Only basic C types here: both sides include it.
 */
#ifndef KGLUE_H
#define KGLUE_H

/* tdx_dump_mce_info() for a memory error at addr. */
const char *kglue_dump_mce(unsigned long long addr);

/* 7.3: tdx_get_sysinfo(), flattened. */
struct kglue_sysinfo {
	unsigned short major, minor, update;
	unsigned long long features0;
	unsigned short max_tdmrs, max_reserved_per_tdmr;
	unsigned short pamt_entry_size[3];
	unsigned short tdr_base_size, tdcs_base_size, tdvps_base_size;
	unsigned long long attributes_fixed0, attributes_fixed1, xfam_fixed0, xfam_fixed1;
	unsigned short num_cpuid_config, max_vcpus_per_td;
	unsigned long long cpuid_config_leaves[128];
	unsigned long long cpuid_config_values[128][2];
};
/* Returns 0 and fills *out, or -1 if tdx_get_sysinfo() returned NULL. */
int kglue_sysinfo(struct kglue_sysinfo *out);

/* 7.3: seamldr_get_info() into a kernel allocation, flattened. */
struct kglue_seamldr_info {
	unsigned int version, attributes, vendor_id, build_date;
	unsigned short build_num, minor_version, major_version, update_version;
	unsigned int num_remaining_updates;
	unsigned char seam_ready, seam_debug, p_seam_ready;
};
int kglue_seamldr_info(struct kglue_seamldr_info *out);

/* 7.3: the boot-time initcall (subsys_initcall(tdx_enable)). */
int kglue_initcall(void);

#endif
