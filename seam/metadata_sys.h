/* Global (SYS-context) metadata: the field table behind TDH.SYS.RD/RDALL. */
#ifndef SEAM_METADATA_SYS_H
#define SEAM_METADATA_SYS_H

#include <stdint.h>

struct tdxsim;

/* Read one field; returns TDX status, *val and *next as TDH.SYS.RD defines. */
uint64_t md_sys_read(struct tdxsim *s, uint64_t field_id, uint64_t *val, uint64_t *next);
/* Fill a 4 KiB metadata list starting at field_id (-1 = first); TDH.SYS.RDALL. */
uint64_t md_sys_dump(struct tdxsim *s, uint64_t field_id, uint8_t *page, uint64_t *next);
/* Build the per-class index of the field table in the module state. */
struct seam_module;
void md_sys_index_init(struct seam_module *m);
/* Number of elements in the table (for tests). */
unsigned md_sys_element_count(void);

/* CPUID_CONFIG list the module reports (leaf/subleaf word, configurable masks). */
struct md_cpuid_config {
	uint32_t leaf, subleaf;         /* subleaf 0xFFFFFFFF = none */
	uint32_t eax, ebx, ecx, edx;    /* bits the VMM may configure */
};
extern const struct md_cpuid_config md_cpuid_configs[];
extern const unsigned md_num_cpuid_config;

#define MD_MAX_CPUID_CONFIG 32
#define MD_MAX_VCPUS_PER_TD 576

#endif
