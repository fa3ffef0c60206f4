/*
 * tdxsim info: the platform profile, the simulated machine and the TDX
 * module's metadata. Opens the simulator on the platform, brings the module
 * up to READY the way Linux does (tests/harness: VMXON, SYS.INIT, LP.INIT,
 * TDMRs, SYS.CONFIG, KEY.CONFIG, TDMR.INIT), reads the global metadata with
 * TDH.SYS.RD and prints it as a table or as one JSON object (--json).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsim.h"
#include "tsim_td.h"
#include "cli.h"

const char cmd_info_usage[] =
	"Usage: tdxsim info [--platform spr|emr|gnr] [--json]\n"
	"\n"
	"Open the simulator on a platform profile, bring the TDX module up to READY\n"
	"(VMXON, TDH.SYS.INIT, TDH.SYS.LP.INIT, TDMRs, TDH.SYS.CONFIG, TDH.SYS.KEY.CONFIG,\n"
	"TDH.SYS.TDMR.INIT) and print the platform, the machine and the module's\n"
	"metadata read with TDH.SYS.RD.\n"
	"\n"
	"Options:\n"
	"  --platform P   platform profile: spr (default), emr or gnr\n"
	"  --json         one JSON object instead of the table (64-bit values as\n"
	"                 \"0x...\" strings, counts as numbers, unreadable fields null)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Exit status: 0 success, 1 the bring-up failed, 2 bad usage.\n";

enum fmt { DEC, HEX };

static const struct field {
	const char *name;               /* the JSON key and the table's label */
	uint64_t id;
	enum fmt fmt;
} fields[] = {
	{ "MAJOR_VERSION", MD_SYS_MAJOR_VERSION, DEC },
	{ "MINOR_VERSION", MD_SYS_MINOR_VERSION, DEC },
	{ "UPDATE_VERSION", MD_SYS_UPDATE_VERSION, DEC },
	{ "VENDOR_ID", MD_SYS_VENDOR_ID, HEX },
	{ "TDX_FEATURES0", MD_SYS_TDX_FEATURES0, HEX },
	{ "NUM_CMRS", MD_SYS_NUM_CMRS, DEC },
	{ "MAX_TDMRS", MD_SYS_MAX_TDMRS, DEC },
	{ "MAX_RESERVED_PER_TDMR", MD_SYS_MAX_RESERVED_PER_TDMR, DEC },
	{ "PAMT_4K_ENTRY_SIZE", MD_SYS_PAMT_4K_ENTRY_SIZE, DEC },
	{ "PAMT_2M_ENTRY_SIZE", MD_SYS_PAMT_2M_ENTRY_SIZE, DEC },
	{ "PAMT_1G_ENTRY_SIZE", MD_SYS_PAMT_1G_ENTRY_SIZE, DEC },
	{ "TDR_BASE_SIZE", MD_SYS_TDR_BASE_SIZE, DEC },
	{ "TDCS_BASE_SIZE", MD_SYS_TDCS_BASE_SIZE, DEC },
	{ "TDVPS_BASE_SIZE", MD_SYS_TDVPS_BASE_SIZE, DEC },
	{ "ATTRIBUTES_FIXED0", MD_SYS_ATTRIBUTES_FIXED0, HEX },
	{ "ATTRIBUTES_FIXED1", MD_SYS_ATTRIBUTES_FIXED1, HEX },
	{ "XFAM_FIXED0", MD_SYS_XFAM_FIXED0, HEX },
	{ "XFAM_FIXED1", MD_SYS_XFAM_FIXED1, HEX },
	{ "NUM_CPUID_CONFIG", MD_SYS_NUM_CPUID_CONFIG, DEC },
	{ "MAX_VCPUS_PER_TD", MD_SYS_MAX_VCPUS_PER_TD, DEC },
	{ "MODULE_HV", MD_SYS_MODULE_HV, DEC },
	{ "MIN_UPDATE_HV", MD_SYS_MIN_UPDATE_HV, DEC },
	{ "NO_DOWNGRADE", MD_SYS_NO_DOWNGRADE, DEC },
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *state_name(enum tdx_sys_state st)
{
	switch (st) {
	case TDX_SYSINIT_PENDING: return "SYSINIT_PENDING";
	case TDX_SYSINIT_DONE: return "SYSINIT_DONE";
	case TDX_SYSCONFIG_DONE: return "SYSCONFIG_DONE";
	case TDX_SYS_READY: return "READY";
	case TDX_SYS_SHUTDOWN_STATE: return "SHUTDOWN";
	}
	return "?";
}

struct md {
	uint64_t value[N_FIELDS];
	uint64_t status[N_FIELDS];      /* TDH.SYS.RD status; not TDX_SUCCESS: unreadable */
};

static void read_metadata(tdxsim *s, struct md *md)
{
	for (size_t i = 0; i < N_FIELDS; i++) {
		struct tdx_module_args a = { .rdx = fields[i].id };
		md->status[i] = tdxsim_seamcall(s, 0, TDH_SYS_RD, &a);
		md->value[i] = a.r8;
	}
}

static void print_table(const tdxsim_info *in, enum tdx_sys_state st, const struct md *md)
{
	const tdxsim_platform *p = in->platform;
	printf("tdxsim %s\n\n", TDXSIM_VERSION_STRING);
	printf("Platform %s: %s\n", p->name, p->description ? p->description : "");
	printf("  %-26s %u/%#x/%u\n", "CPU family/model/stepping", p->cpu_family, p->cpu_model, p->cpu_stepping);
	printf("  %-26s %u packages x %u LPs (%u LPs)\n", "topology", in->packages, in->lps_per_package, in->n_lps);
	printf("  %-26s %llu MiB in %u CMRs\n", "DRAM", (unsigned long long)(in->mem_bytes >> 20), in->n_cmrs);
	for (uint32_t i = 0; i < in->n_cmrs && i < TDX_MAX_CMRS; i++)
		printf("    CMR[%u]%*s 0x%012llx..0x%012llx (%llu MiB)\n", i, i < 10 ? 19 : 18, "",
		       (unsigned long long)in->cmrs[i].base,
		       (unsigned long long)(in->cmrs[i].base + in->cmrs[i].size),
		       (unsigned long long)(in->cmrs[i].size >> 20));
	printf("  %-26s %u (KeyID in PA bits %u..%u, %u bits)\n", "physical address bits", in->max_pa,
	       in->keyid_shift, in->max_pa ? in->max_pa - 1 : 0, in->keyid_bits);
	printf("  %-26s %u MKTME, %u TDX (first TDX KeyID %u, the global one)\n", "KeyIDs", in->mktme_keyids,
	       in->tdx_keyids, in->first_tdx_keyid);
	printf("  %-26s %u MHz\n", "TSC", p->tsc_mhz);
	printf("  %-26s %u.%u.%u, %u module updates left\n", "P-SEAMLDR", p->seamldr_major, p->seamldr_minor,
	       p->seamldr_update, p->seamldr_remaining_updates);
	printf("  %-26s %s\n", "errata", (p->flags & TDXSIM_PLATFORM_F_PW_MCE) ? "partial-write #MC (PW_MCE)"
									  : "none");
	printf("  %-26s %#llx\n", "RNG seed", (unsigned long long)in->seed);
	printf("\nTDX module %u.%u.%u: state %s (TDH.SYS.RD after bring-up)\n", in->module_major, in->module_minor,
	       in->module_update, state_name(st));
	for (size_t i = 0; i < N_FIELDS; i++) {
		if (md->status[i] != TDX_SUCCESS) {
			char buf[96];
			printf("  %-26s unreadable: %s\n", fields[i].name, tdx_status_str(md->status[i], buf, sizeof(buf)));
		} else if (fields[i].fmt == HEX) {
			printf("  %-26s %#llx\n", fields[i].name, (unsigned long long)md->value[i]);
		} else {
			printf("  %-26s %llu\n", fields[i].name, (unsigned long long)md->value[i]);
		}
	}
}

static void jhex(const char *key, uint64_t v, int comma)
{
	printf("%s\"%s\": \"0x%llx\"", comma ? ", " : "", key, (unsigned long long)v);
}

static void jnum(const char *key, uint64_t v, int comma)
{
	printf("%s\"%s\": %llu", comma ? ", " : "", key, (unsigned long long)v);
}

static void print_json(const tdxsim_info *in, enum tdx_sys_state st, const struct md *md)
{
	const tdxsim_platform *p = in->platform;
	printf("{\n  \"tdxsim\": \"%s\",\n  \"platform\": {\"name\": ", TDXSIM_VERSION_STRING);
	cli_json_str(stdout, p->name);
	printf(", \"description\": ");
	cli_json_str(stdout, p->description);
	jnum("cpu_family", p->cpu_family, 1);
	jnum("cpu_model", p->cpu_model, 1);
	jnum("cpu_stepping", p->cpu_stepping, 1);
	jnum("tsc_mhz", p->tsc_mhz, 1);
	printf(", \"pw_mce\": %s", (p->flags & TDXSIM_PLATFORM_F_PW_MCE) ? "true" : "false");
	printf(", \"seamldr_version\": \"%u.%u.%u\"", p->seamldr_major, p->seamldr_minor, p->seamldr_update);
	jnum("seamldr_remaining_updates", p->seamldr_remaining_updates, 1);
	printf("},\n  \"machine\": {");
	jnum("packages", in->packages, 0);
	jnum("lps_per_package", in->lps_per_package, 1);
	jnum("n_lps", in->n_lps, 1);
	jhex("mem_bytes", in->mem_bytes, 1);
	jhex("pa_space_bytes", in->pa_space_bytes, 1);
	printf(", \"cmrs\": [");
	for (uint32_t i = 0; i < in->n_cmrs && i < TDX_MAX_CMRS; i++) {
		printf("%s{", i ? ", " : "");
		jhex("base", in->cmrs[i].base, 0);
		jhex("size", in->cmrs[i].size, 1);
		printf("}");
	}
	printf("]");
	jnum("max_pa", in->max_pa, 1);
	jnum("keyid_bits", in->keyid_bits, 1);
	jnum("keyid_shift", in->keyid_shift, 1);
	jnum("mktme_keyids", in->mktme_keyids, 1);
	jnum("tdx_keyids", in->tdx_keyids, 1);
	jnum("first_tdx_keyid", in->first_tdx_keyid, 1);
	jhex("seed", in->seed, 1);
	printf("},\n  \"module\": {\"version\": \"%u.%u.%u\", \"state\": \"%s\", \"metadata\": {\n",
	       in->module_major, in->module_minor, in->module_update, state_name(st));
	for (size_t i = 0; i < N_FIELDS; i++) {
		printf("    \"%s\": ", fields[i].name);
		if (md->status[i] != TDX_SUCCESS)
			printf("null");
		else if (fields[i].fmt == HEX)
			printf("\"0x%llx\"", (unsigned long long)md->value[i]);
		else
			printf("%llu", (unsigned long long)md->value[i]);
		printf("%s\n", i + 1 < N_FIELDS ? "," : "");
	}
	printf("  }}\n}\n");
}

int cmd_info(int argc, char **argv)
{
	const char *platform = NULL;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		const char *val;
		int r;
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if ((r = cli_opt_value("info", argc, argv, &i, "--platform", &val)) != 0) {
			if (r < 0)
				return CLI_EXIT_USAGE;
			platform = val;
		} else if (argv[i][0] == '-') {
			return cli_usage_error("info", "unknown option '%s'", argv[i]);
		} else {
			return cli_usage_error("info", "unexpected argument '%s'", argv[i]);
		}
	}
	if (platform && cli_check_platform("info", platform))
		return CLI_EXIT_USAGE;

	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.platform = platform;
	struct tsim_env env;
	tsim_env_init_cfg(&env, &cfg);          /* exits 1 with file:line on failure */
	tdxsim_info in = { .size = sizeof(in) };
	tdxsim_err err = tdxsim_info_get(env.s, &in);
	if (err != TDXSIM_OK) {
		cli_error("info", "tdxsim_info_get: %s", tdxsim_strerror(err));
		tsim_env_fini(&env);
		return CLI_EXIT_FAIL;
	}
	struct md md;
	read_metadata(env.s, &md);
	enum tdx_sys_state st = tdxsim_module_state(env.s);
	if (json)
		print_json(&in, st, &md);
	else
		print_table(&in, st, &md);
	tsim_env_fini(&env);
	if (fflush(stdout) != 0) {
		cli_error("info", "cannot write the output");
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}
