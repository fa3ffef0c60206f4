/* Kernel-mode glue for the Linux 7.3 suite (see glue.h). */
#include <linux/types.h>
#include <asm/mce.h>
#include <asm/tdx.h>
#include <asm/seamldr.h>

#include "glue.h"

extern int (*const kshim_subsys_initcall)(void);

const char *kglue_dump_mce(unsigned long long addr)
{
	struct mce m;

	const char *msg;

	/* The machine-check handler runs with IRQs off. */
	memset(&m, 0, sizeof(m));
	m.addr = addr;
	local_irq_disable();
	msg = tdx_dump_mce_info(&m);
	local_irq_enable();
	return msg;
}

int kglue_sysinfo(struct kglue_sysinfo *o)
{
	const struct tdx_sys_info *si = tdx_get_sysinfo();

	if (!si)
		return -1;
	memset(o, 0, sizeof(*o));
	o->major = si->version.major_version;
	o->minor = si->version.minor_version;
	o->update = si->version.update_version;
	o->features0 = si->features.tdx_features0;
	o->max_tdmrs = si->tdmr.max_tdmrs;
	o->max_reserved_per_tdmr = si->tdmr.max_reserved_per_tdmr;
	o->pamt_entry_size[0] = si->tdmr.pamt_4k_entry_size;
	o->pamt_entry_size[1] = si->tdmr.pamt_2m_entry_size;
	o->pamt_entry_size[2] = si->tdmr.pamt_1g_entry_size;
	o->tdr_base_size = si->td_ctrl.tdr_base_size;
	o->tdcs_base_size = si->td_ctrl.tdcs_base_size;
	o->tdvps_base_size = si->td_ctrl.tdvps_base_size;
	o->attributes_fixed0 = si->td_conf.attributes_fixed0;
	o->attributes_fixed1 = si->td_conf.attributes_fixed1;
	o->xfam_fixed0 = si->td_conf.xfam_fixed0;
	o->xfam_fixed1 = si->td_conf.xfam_fixed1;
	o->num_cpuid_config = si->td_conf.num_cpuid_config;
	o->max_vcpus_per_td = si->td_conf.max_vcpus_per_td;
	memcpy(o->cpuid_config_leaves, si->td_conf.cpuid_config_leaves, sizeof(o->cpuid_config_leaves));
	memcpy(o->cpuid_config_values, si->td_conf.cpuid_config_values, sizeof(o->cpuid_config_values));
	return 0;
}

int kglue_seamldr_info(struct kglue_seamldr_info *o)
{
	struct seamldr_info *info = kzalloc(sizeof(*info), GFP_KERNEL);
	int ret;

	if (!info)
		return -ENOMEM;
	ret = seamldr_get_info(info);
	if (!ret) {
		o->version = info->version;
		o->attributes = info->attributes;
		o->vendor_id = info->vendor_id;
		o->build_date = info->build_date;
		o->build_num = info->build_num;
		o->minor_version = info->minor_version;
		o->major_version = info->major_version;
		o->update_version = info->update_version;
		o->num_remaining_updates = info->num_remaining_updates;
		o->seam_ready = info->seam_ready;
		o->seam_debug = info->seam_debug;
		o->p_seam_ready = info->p_seam_ready;
	}
	kfree(info);
	return ret;
}

int kglue_initcall(void)
{
	return kshim_subsys_initcall();
}
