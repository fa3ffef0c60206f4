/*
 * Example host program: boot a guest in a TD and print what it reports.
 *
 * Brings the module up (tests/harness: VMXON, SYS.INIT .. TDMR.INIT), builds
 * a TD around the guest image guest_demo (guest/programs/guest_demo.c) the
 * way KVM does (MNG.CREATE, KEY.CONFIG, ADDCX, MNG.INIT, VP.CREATE/ADDCX/
 * INIT, PAGE.ADD + MR.EXTEND of the image, MR.FINALIZE), runs its vCPU with
 * TDH.VP.ENTER, handling its TD exits as a VMM would, prints the guest's
 * console and every ucall with what it means, checks the TDREPORT the guest
 * hands over, then tears the TD down (KVM's order) until every page is
 * free.
 *
 * Links the cmocka-free harness (tsim_harness_core): a SEAMCALL or TD exit
 * that goes wrong prints file:line and the status name, and exits with 1.
 *
 * Usage: tdxsim-guest-demo [spr|emr|gnr]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tsim.h"
#include "tsim_td.h"
#include "tsim_guest.h"
#include "guest/images.h"

#define DEMO_NONCE          0x5eed0fdecafULL
#define DEMO_HV_LEAF        0x40000000u
#define DEMO_PATTERN        0x74647873696d2121ULL   /* guest_demo.c */

/* TDREPORT_STRUCT byte offsets (tdx-abi.md: REPORTMACSTRUCT, TEE_TCB_INFO, TDINFO). */
#define REPORT_SIZE         1024
#define OFF_REPORTTYPE      0
#define OFF_TEE_INFO_HASH   80
#define OFF_REPORTDATA      128
#define OFF_TDINFO          512
#define OFF_TDINFO_ATTR     (OFF_TDINFO + 0)
#define OFF_TDINFO_XFAM     (OFF_TDINFO + 8)
#define OFF_TDINFO_MRTD     (OFF_TDINFO + 16)
#define OFF_TDINFO_RTMR     (OFF_TDINFO + 208)
#define TDINFO_SIZE         512

/* VMX exit reasons and GHCI sub-functions the demo counts. */
#define EXIT_HLT            12u
#define EXIT_EPT_VIOLATION  48u
#define EXIT_TDVMCALL       77u
#define GHCI_CPUID          10u
#define GHCI_IO             30u
#define GHCI_MMIO           48u

struct demo {
	struct tg_vm *vm;
	size_t console_shown;               /* bytes of vm->console printed */
	/* TD exits seen by the SEAMCALL hook. */
	unsigned long enters, tdvmcall_io, tdvmcall_mmio, tdvmcall_cpuid, tdvmcall_other;
	unsigned long ept_violations, hlt, other;
};

/* Print the guest's console output not shown yet, line by line. */
static void console_flush(struct demo *d)
{
	struct tg_vm *vm = d->vm;
	while (d->console_shown < vm->console_len) {
		const char *p = vm->console + d->console_shown;
		const char *nl = memchr(p, '\n', vm->console_len - d->console_shown);
		if (!nl)
			return;                 /* wait for the end of the line */
		printf("    guest console | %.*s\n", (int)(nl - p), p);
		d->console_shown += (size_t)(nl - p) + 1;
	}
}

static void on_seamcall(void *user, const tdxsim_seamcall_event *ev)
{
	struct demo *d = user;
	if ((ev->rax_in & 0xFFFF) != TDH_VP_ENTER)
		return;
	d->enters++;
	if (ev->status & TDX_STATUS_ERROR_BIT)
		return;
	switch ((unsigned)(ev->status & 0xFFFF)) {
	case EXIT_TDVMCALL:
		if (ev->out.r10 != 0)
			d->tdvmcall_other++;
		else if (ev->out.r11 == GHCI_IO)
			d->tdvmcall_io++;
		else if (ev->out.r11 == GHCI_MMIO)
			d->tdvmcall_mmio++;
		else if (ev->out.r11 == GHCI_CPUID)
			d->tdvmcall_cpuid++;
		else
			d->tdvmcall_other++;
		break;
	case EXIT_EPT_VIOLATION:
		d->ept_violations++;
		break;
	case EXIT_HLT:
		d->hlt++;
		break;
	default:
		d->other++;
	}
}

/* The VMM's answer to TDG.VP.VMCALL<Instruction.CPUID>: a hypervisor leaf. */
static uint64_t demo_cpuid(struct tg_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct demo *d = v->vm->opaque;
	console_flush(d);
	printf("    host: TDG.VP.VMCALL<Instruction.CPUID> leaf %#x subleaf %u from vCPU %u\n", leaf, subleaf,
	       v->index);
	memset(out, 0, 4 * sizeof(*out));
	if (leaf == DEMO_HV_LEAF) {
		out[0] = DEMO_HV_LEAF;                  /* highest hypervisor leaf */
		memcpy(&out[1], "tdxs", 4);             /* signature in EBX, ECX, EDX */
		memcpy(&out[2], "im-d", 4);
		memcpy(&out[3], "emo ", 4);
	}
	return TG_VMCALL_SUCCESS;
}

static void hex(const char *label, const uint8_t *p, size_t n)
{
	printf("%s", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

/* TDX_SUCCESS, or the status name and value. */
static const char *status(uint64_t st, char *buf, size_t size)
{
	if (st == TDX_SUCCESS)
		return "TDX_SUCCESS";
	return tdx_status_str(st, buf, size);
}

/* The file name of a ucall's __FILE__. */
static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static const char *yes_no(int ok)
{
	return ok ? "matches" : "MISMATCH";
}

/* Run to the next ucall and say where it came from. */
static uint64_t run(struct demo *d, struct tg_vcpu *v, struct ucall *uc)
{
	uint64_t cmd = vcpu_run(v, uc);
	console_flush(d);
	switch (cmd) {
	case UCALL_SYNC:
		printf("  ucall SYNC(%llu) from %s:%u\n", (unsigned long long)uc->args[0], base(uc->file), uc->line);
		break;
	case UCALL_DONE:
		printf("  ucall DONE from %s:%u: guest_main() finished\n", base(uc->file), uc->line);
		break;
	case UCALL_ABORT:
		TSIM_FAIL("guest assertion at %s:%u: %s", uc->file, uc->line, uc->message);
	case UCALL_UNHANDLED:
		TSIM_FAIL("guest took exception %llu (error 0x%llx) at RIP 0x%llx",
			  (unsigned long long)uc->args[0], (unsigned long long)uc->args[1],
			  (unsigned long long)uc->args[2]);
	default:
		TSIM_FAIL("guest stopped without a ucall (cmd %llu)", (unsigned long long)cmd);
	}
	return cmd;
}

static void expect_sync(struct demo *d, struct tg_vcpu *v, struct ucall *uc, uint64_t stage)
{
	uint64_t cmd = run(d, v, uc);
	TSIM_CHECK_MSG(cmd == UCALL_SYNC && uc->args[0] == stage, "expected SYNC(%llu) from the guest",
		       (unsigned long long)stage);
}

static int sha384(const void *a, size_t na, const void *b, size_t nb, uint8_t out[48])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned n = 0;
	int ok = c && EVP_DigestInit_ex(c, EVP_sha384(), NULL) && EVP_DigestUpdate(c, a, na) &&
		 (!nb || EVP_DigestUpdate(c, b, nb)) && EVP_DigestFinal_ex(c, out, &n) && n == 48;
	EVP_MD_CTX_free(c);
	return ok;
}

static void check_report(struct tg_vm *vm, const struct ucall *uc)
{
	char buf[96];
	uint8_t rep[REPORT_SIZE + 48];
	printf("    TDG.MR.REPORT: %s; the guest copied the %llu-byte TDREPORT to shared GPA\n"
	       "    %#llx\n",
	       status(uc->args[1], buf, sizeof(buf)), (unsigned long long)uc->args[3],
	       (unsigned long long)uc->args[2]);
	TSIM_CHECK_MSG(uc->args[1] == TDX_SUCCESS && uc->args[3] == REPORT_SIZE &&
		       (uc->args[2] & ~vm->shared_bit) == GUEST_XFER_OFFSET, "unexpected TDG.MR.REPORT outcome");
	td_shared_read(vm, GUEST_XFER_OFFSET, rep, sizeof(rep));

	printf("    TDREPORT (read by the host from the shared page):\n");
	printf("      REPORTTYPE.TYPE  %#x (%s)\n", rep[OFF_REPORTTYPE],
	       rep[OFF_REPORTTYPE] == 0x81 ? "TDX" : "unexpected");
	char want[64] = { 0 }, got[65];
	snprintf(want, sizeof(want), "tdxsim demo, nonce %llx", (unsigned long long)DEMO_NONCE);
	memcpy(got, rep + OFF_REPORTDATA, 64);
	got[64] = 0;
	int rd_ok = !memcmp(rep + OFF_REPORTDATA, want, sizeof(want));
	printf("      REPORTDATA       \"%s\" (%s the host's nonce)\n", got, yes_no(rd_ok));
	uint64_t attr, xfam;
	memcpy(&attr, rep + OFF_TDINFO_ATTR, 8);
	memcpy(&xfam, rep + OFF_TDINFO_XFAM, 8);
	printf("      ATTRIBUTES       %#llx (DEBUG), XFAM %#llx (x87, SSE)\n", (unsigned long long)attr,
	       (unsigned long long)xfam);
	uint64_t mrtd[6];
	for (unsigned i = 0; i < 6; i++)
		mrtd[i] = td_rd(vm, MD_TD_MRTD + i);
	int mrtd_ok = !memcmp(rep + OFF_TDINFO_MRTD, mrtd, sizeof(mrtd));
	hex("      MRTD             ", rep + OFF_TDINFO_MRTD, 48);
	printf("                       (%s TDH.MNG.RD(MRTD): the image measured at build time)\n",
	       yes_no(mrtd_ok));
	uint8_t zero[48] = { 0 }, rtmr2[48];
	int rtmr_ok = sha384(zero, 48, rep + REPORT_SIZE, 48, rtmr2) &&
		      !memcmp(rep + OFF_TDINFO_RTMR + 2 * 48, rtmr2, 48);
	hex("      RTMR[2]          ", rep + OFF_TDINFO_RTMR + 2 * 48, 48);
	printf("                       (%s SHA-384(48 zero bytes || the guest's event), computed by the host)\n",
	       yes_no(rtmr_ok));
	uint8_t h[48];
	int hash_ok = sha384(rep + OFF_TDINFO, TDINFO_SIZE, NULL, 0, h) &&
		      !memcmp(rep + OFF_TEE_INFO_HASH, h, 48);
	printf("      TEE_INFO_HASH    %s SHA-384(TDINFO)\n", yes_no(hash_ok));
	TSIM_CHECK_MSG(rep[OFF_REPORTTYPE] == 0x81 && rd_ok && mrtd_ok && rtmr_ok && hash_ok,
		       "the TDREPORT does not check out");
	printf("    => the guest's report checks out: REPORTDATA, MRTD, RTMR[2] and TEE_INFO_HASH verified\n");
}

int main(int argc, char **argv)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.platform = argc > 1 ? argv[1] : NULL;
	struct tsim_env env;
	struct demo d;
	char buf[96];
	memset(&d, 0, sizeof(d));

	printf("Booting a guest in a TD\n");
	tsim_env_init_cfg(&env, &cfg);
	tdxsim_info info = { .size = sizeof(info) };
	TSIM_CHECK_OK(tdxsim_info_get(env.s, &info));
	printf("  module READY (tests/harness bring-up) on platform %s, %u LPs; TD KeyIDs %u..%u\n",
	       info.platform->name, env.n_lps, env.first_keyid + 1, env.first_keyid + env.n_keyids - 1);
	unsigned hook;
	TSIM_CHECK_OK(tdxsim_hook_seamcall(env.s, on_seamcall, &d, &hook));

	/* KVM_TDX_INIT_VM, KVM_TDX_INIT_VCPU, KVM_TDX_INIT_MEM_REGION, KVM_TDX_FINALIZE_VM. */
	struct tg_vm *vm = td_create(&env, 1);
	d.vm = vm;
	vm->opaque = &d;
	vm->ops.cpuid = demo_cpuid;
	struct tg_vcpu *v = td_vcpu_add(vm, 0);
	td_load_image(vm, "guest_demo", DEMO_NONCE);
	td_finalize(vm);
	printf("  TD built (KeyID %u, ATTRIBUTES DEBUG, 1 vCPU on LP 0, GPAW 48: shared bit %#llx):\n"
	       "    image %s\n"
	       "    %u KiB at GPA %#llx added with TDH.MEM.PAGE.ADD and measured with TDH.MR.EXTEND,\n"
	       "    boot parameters at GPA %#llx (arg = nonce %#llx), page tables, stack; TDH.MR.FINALIZE\n",
	       vm->td.hkid, (unsigned long long)vm->shared_bit, GUEST_IMAGE_PATH("guest_demo"),
	       GUEST_IMAGE_SIZE / 1024, (unsigned long long)GUEST_IMAGE_GPA,
	       (unsigned long long)GUEST_BOOT_PARAMS_GPA, (unsigned long long)DEMO_NONCE);

	printf("\nRunning vCPU 0 with TDH.VP.ENTER from the reset vector (%#x):\n", GUEST_RESET_VECTOR);
	struct ucall uc;
	expect_sync(&d, v, &uc, 1);
	printf("    TDG.VP.INFO (answered inside the module): %s; GPAW %llu, ATTRIBUTES %#llx,\n"
	       "    %llu of %llu vCPUs, this is vCPU %llu\n",
	       status(uc.args[1], buf, sizeof(buf)), (unsigned long long)uc.args[2],
	       (unsigned long long)uc.args[3], (unsigned long long)(uc.args[4] & 0xFFFFFFFF),
	       (unsigned long long)(uc.args[4] >> 32), (unsigned long long)uc.args[5]);

	expect_sync(&d, v, &uc, 2);
	char vendor[13];
	memcpy(vendor, &uc.args[2], 4);
	memcpy(vendor + 4, &uc.args[4], 4);
	memcpy(vendor + 8, &uc.args[3], 4);
	vendor[12] = 0;
	printf("    CPUID(0) = max leaf %#llx, vendor \"%s\": virtualised by the module, no TD exit\n",
	       (unsigned long long)uc.args[1], vendor);

	expect_sync(&d, v, &uc, 3);
	char sig[13];
	memcpy(sig, &uc.args[2], 4);
	memcpy(sig + 4, &uc.args[3], 4);
	memcpy(sig + 8, &uc.args[4], 4);
	sig[12] = 0;
	printf("    CPUID(%#x) = max leaf %#llx, signature \"%s\": not virtualised by the module,\n"
	       "    so a #VE; the guest's #VE handler (TDG.VP.VEINFO.GET) asked the host (above)\n",
	       DEMO_HV_LEAF, (unsigned long long)uc.args[1], sig);

	expect_sync(&d, v, &uc, 4);
	printf("    TDG.MEM.PAGE.ACCEPT(GPA %#llx, 4 KiB): %s after %llu EPT violation(s),\n"
	       "    each answered with TDH.MEM.PAGE.AUG; the page read %#llx, then %#llx after the\n"
	       "    guest's write\n",
	       (unsigned long long)GUEST_ACCEPT_GPA, status(uc.args[1], buf, sizeof(buf)),
	       (unsigned long long)v->ept_augs, (unsigned long long)uc.args[2], (unsigned long long)uc.args[3]);
	TSIM_CHECK_MSG(uc.args[1] == TDX_SUCCESS && uc.args[2] == 0 && uc.args[3] == DEMO_PATTERN,
		       "lazy accept went wrong");

	expect_sync(&d, v, &uc, 5);
	printf("    TDG.MR.RTMR.EXTEND(RTMR[2], 48 bytes of text): %s\n",
	       status(uc.args[1], buf, sizeof(buf)));

	expect_sync(&d, v, &uc, 6);
	check_report(vm, &uc);

	TSIM_CHECK(run(&d, v, &uc) == UCALL_DONE);
	if (d.console_shown < vm->console_len)  /* a last line without its newline */
		printf("    guest console | %s\n", vm->console + d.console_shown);

	printf("\nTD exits the host handled (%lu TDH.VP.ENTER calls):\n"
	       "  %4lu TDG.VP.VMCALL<Instruction.IO>     console bytes to port %#x\n"
	       "  %4lu TDG.VP.VMCALL<#VE.RequestMMIO>    ucalls (8-byte write to doorbell GPA %#x | shared bit)\n"
	       "  %4lu TDG.VP.VMCALL<Instruction.CPUID>  from the guest's #VE handler\n"
	       "  %4lu EPT violation                     ACCEPT of a GPA with no page: PAGE.AUG\n"
	       "  %4lu other (HLT %lu)\n"
	       "  TDG.VP.INFO, TDG.VP.VEINFO.GET, TDG.MEM.PAGE.ACCEPT, TDG.MR.RTMR.EXTEND and\n"
	       "  TDG.MR.REPORT ran inside the module: no TD exit.\n",
	       d.enters, d.tdvmcall_io, TG_CONSOLE_PORT, d.tdvmcall_mmio, UCALL_MMIO_OFFSET, d.tdvmcall_cpuid,
	       d.ept_violations, d.tdvmcall_other + d.hlt + d.other, d.hlt);

	/* Teardown: remember every page the TD owns, destroy, check they are free. */
	uint64_t pages[TSIM_MAX_PAGES + TSIM_MAX_SEPT + TDX_TDVPS_PAGES + TDX_TDCS_PAGES + 1];
	unsigned n = 0, n_private = vm->td.n_pages, n_sept = vm->td.n_sept;
	for (unsigned i = 0; i < vm->td.n_pages; i++)
		pages[n++] = vm->td.page[i].pa;
	for (unsigned i = 0; i < vm->td.n_sept; i++)
		pages[n++] = vm->td.sept[i].pa;
	pages[n++] = v->tv->tdvpr;
	for (unsigned i = 0; i < TDX_TDVPS_PAGES - 1; i++)
		pages[n++] = v->tv->tdcx[i];
	for (unsigned i = 0; i < vm->td.n_tdcs; i++)
		pages[n++] = vm->td.tdcs[i];
	pages[n++] = vm->td.tdr;
	td_destroy(vm);
	unsigned free_pages = 0;
	for (unsigned i = 0; i < n; i++)
		free_pages += tsim_page_type(&env, pages[i]) == PT_NDA;
	printf("\nTD torn down (VP.FLUSH, VPFLUSHDONE, CACHE.WB, KEY.FREEID, PAGE.RECLAIM): %u private pages,\n"
	       "  %u S-EPT pages, %u TDVPS pages, %u TDCS pages and the TDR; %u of %u pages back to PT_NDA\n",
	       n_private, n_sept, TDX_TDVPS_PAGES, TDX_TDCS_PAGES, free_pages, n);
	TSIM_CHECK(free_pages == n);
	tdxsim_hook_remove(env.s, hook);
	tsim_env_fini(&env);
	return 0;
}
