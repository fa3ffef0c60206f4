/*
 * Guest harness in the style of KVM selftests: build a TD around one of the
 * guest/ images, run its vCPUs with TDH.VP.ENTER and handle the TD exits a
 * host handles (tdx-abi.md 1.3, 2.3), returning to the caller at each ucall
 * (guest/include/guest/ucall.h).
 *
 *   struct tg_vm *vm = td_create(&env, max_vcpus);     MNG.CREATE..INIT
 *   struct tg_vcpu *v = td_vcpu_add(vm, lp);            VP.CREATE/ADDCX/INIT
 *   td_load_image(vm, "guest_lifecycle", arg);          PAGE.ADD + MR.EXTEND
 *   td_finalize(vm);                                    MR.FINALIZE
 *   struct ucall uc;
 *   while (vcpu_run(v, &uc) == UCALL_SYNC) ...;         VP.ENTER loop
 *   td_destroy(vm);                                     KVM's teardown
 *
 * Memory. Private memory is the image (PAGE.ADD and measured), the boot
 * parameters page, the page-table pages and the stacks (guest/boot.h), plus
 * whatever a test adds with td_add_private(); a private GPA the guest
 * touches without a page gets PAGE.AUG (4 KiB) at its EPT violation and the
 * guest then accepts it, as KVM does. Shared memory lives in host pages
 * (KeyID 0) mapped by a 4-level shared EPT the harness builds in simulated
 * memory and installs with TDH.VP.WR(SHARED_EPT_POINTER) on every vCPU: the
 * ucall page and the transfer page from the start, more with
 * td_map_shared() or by the guest's MapGPA.
 *
 * Every SEAMCALL is asserted to succeed, as in tsim_td.h; a TD exit the
 * harness cannot handle fails with its status name. Failures go through
 * tsim_fail_at() (tsim_check.h): a cmocka test failure when linked into the
 * tests (tsim_harness), a message on stderr and exit status 1 in programs
 * without cmocka (tsim_harness_core: the examples).
 *
 * Threads: each vCPU may be run by its own thread (vcpu_run() on the vCPU's
 * LP); exit handling is serialised by vm->lock, callbacks included. In the
 * tests a failure inside vcpu_run() is a cmocka failure, which only the main
 * thread may raise: threaded tests check results after joining. MapGPA to shared
 * removes private pages (MEM.TRACK, PAGE.REMOVE), which needs the other
 * vCPUs out of the TD: convert from single-vCPU phases only.
 *
 * Include after tsim.h and tsim_td.h.
 */
#ifndef TSIM_GUEST_H
#define TSIM_GUEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/boot.h"
#include "guest/ucall.h"
#include "tsim_td.h"

#define TG_CONSOLE_PORT   0x3F8
#define TG_CONSOLE_SIZE   4096
#define TG_MAX_SHARED     64            /* shared 4 KiB mappings */
#define TG_MAX_EPT_PAGES  64            /* shared EPT table pages */

/* GHCI statuses the host puts in R10 (tdx-abi.md 1.3). */
#define TG_VMCALL_SUCCESS             0ULL
#define TG_VMCALL_RETRY               1ULL
#define TG_VMCALL_INVALID_OPERAND     0x8000000000000000ULL
#define TG_VMCALL_ALIGN_ERROR         0x8000000000000002ULL
#define TG_VMCALL_SUBFUNC_UNSUPPORTED 0x8000000000000003ULL

struct tg_vm;
struct tg_vcpu;

/*
 * Callbacks a test sets for the exits the harness does not answer itself.
 * Each returns the GHCI status for R10 (TG_VMCALL_*); a NULL callback
 * answers SUBFUNC_UNSUPPORTED (reads return 0).
 */
struct tg_ops {
	/* Port I/O other than the console port: size 1/2/4; *val is the
	 * value written (out) or receives the value read (in). */
	uint64_t (*io)(struct tg_vcpu *v, uint16_t port, unsigned size, bool write, uint64_t *val);
	/* MMIO on a shared GPA (shared bit cleared in gpa) other than the ucall
	 * doorbell: size 1/2/4/8. */
	uint64_t (*mmio)(struct tg_vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val);
	uint64_t (*rdmsr)(struct tg_vcpu *v, uint32_t msr, uint64_t *val);
	uint64_t (*wrmsr)(struct tg_vcpu *v, uint32_t msr, uint64_t val);
	/* out[0..3] = EAX, EBX, ECX, EDX. */
	uint64_t (*cpuid)(struct tg_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
};

struct tg_vcpu {
	struct tg_vm *vm;
	struct tsim_vcpu *tv;
	unsigned index;
	unsigned lp;
	struct tdx_module_args next;        /* host GPRs for the next VP.ENTER */
	uint64_t last_exit;                 /* RAX of the last VP.ENTER */
	uint64_t entries;                   /* VP.ENTER calls */
	uint64_t ept_augs;                  /* pages AUGed at EPT violations */
	/* External-interrupt exits (reason 1) and the last one's R9 (written
	 * by the thread running the vCPU, readable from any). */
	_Atomic uint64_t intr_exits;
	_Atomic uint64_t last_intr_info;
};

struct tg_vm {
	struct tsim_env *e;
	struct tsim_td td;
	unsigned max_vcpus;
	uint64_t shared_bit;
	struct tg_vcpu vcpu[TSIM_MAX_VCPUS];
	unsigned n_vcpus;
	bool loaded;
	/* Shared EPT (host memory, KeyID 0). */
	uint64_t ept_root;
	uint64_t ept_pages[TG_MAX_EPT_PAGES];
	unsigned n_ept_pages;
	struct { uint64_t offset, pa; } shared[TG_MAX_SHARED];
	unsigned n_shared;
	uint64_t ucall_pa, xfer_pa;
	/* Behaviour. */
	struct tg_ops ops;
	void *opaque;                       /* for the callbacks */
	bool aug_on_violation;              /* default true */
	/* Console (port 0x3F8 output, NUL-terminated). */
	char console[TG_CONSOLE_SIZE];
	size_t console_len;
	/* Counters. */
	uint64_t map_gpa_calls;
	/* Serialises exit handling (and so the callbacks) of vCPUs run from
	 * different threads. */
	pthread_mutex_t lock;
};

/* MNG.CREATE, KEY.CONFIG, ADDCX, MNG.INIT (debug TD, max_vcpus), and the
 * shared EPT with the ucall and transfer pages. Caller owns env (initialised). */
struct tg_vm *td_create(struct tsim_env *e, unsigned max_vcpus);
/* td_create() with TD attributes of the caller's choice. */
struct tg_vm *td_create_attr(struct tsim_env *e, unsigned max_vcpus, uint64_t attributes);
/* VP.CREATE, VP.ADDCX, VP.INIT on lp; SHARED_EPT_POINTER written. */
struct tg_vcpu *td_vcpu_add(struct tg_vm *vm, unsigned lp);
/* The image build/guest/<name>.bin at GUEST_IMAGE_GPA (PAGE.ADD and 16 x
 * MR.EXTEND per page), the boot parameters (num_vcpus = vCPUs added so far,
 * arg), the page-table pages and one stack per vCPU. */
void td_load_image(struct tg_vm *vm, const char *name, uint64_t arg);
/* Same with a file path. */
void td_load_image_path(struct tg_vm *vm, const char *path, uint64_t arg);
/* PAGE.ADD private pages at gpa (size a multiple of 4 KiB) from data
 * (size bytes; NULL: zeros), measured if extend. Before td_finalize(). */
void td_add_private(struct tg_vm *vm, uint64_t gpa, const void *data, size_t size, bool extend);
/* PAGE.AUG private memory (level 0: 4 KiB pages, 1: 2 MiB pages). After
 * td_finalize(). The guest must accept it. */
void td_aug_private(struct tg_vm *vm, uint64_t gpa, uint64_t size, unsigned level);
void td_finalize(struct tg_vm *vm);
/* VP.FLUSH .. RECLAIM (tsim_td_teardown) and free the harness's pages. */
void td_destroy(struct tg_vm *vm);

/* Map a fresh zeroed host page at shared offset (shared bit not included)
 * in the shared EPT; returns its PA (KeyID 0). Replaces nothing: the offset
 * must not be mapped. */
uint64_t td_map_shared(struct tg_vm *vm, uint64_t offset);
/* Remove a shared mapping (no-op if none). */
void td_unmap_shared(struct tg_vm *vm, uint64_t offset);
/* Mark [offset, offset + size) (4 KiB aligned, shared bit not included) as
 * MMIO the way KVM does for a TD: shared-EPT leaf entries 0 (not present,
 * suppress-#VE clear), so that a guest access is a #VE in the TD (reason 48)
 * which the guest turns into TDG.VP.VMCALL<#VE.RequestMMIO> (ops.mmio).
 * Other unmapped shared GPAs keep suppress #VE set: an access is a TD exit. */
void td_map_mmio(struct tg_vm *vm, uint64_t offset, uint64_t size);
/* PA of the host page mapped at shared offset, 0 if none. */
uint64_t td_shared_pa(struct tg_vm *vm, uint64_t offset);
/* Host access to shared memory by offset (may cross pages of the mapping). */
void td_shared_read(struct tg_vm *vm, uint64_t offset, void *buf, size_t len);
void td_shared_write(struct tg_vm *vm, uint64_t offset, const void *buf, size_t len);

/*
 * Run the vCPU until the guest makes a ucall (returns its cmd, *uc filled)
 * or halts (TDVMCALL HLT or the HLT instruction: returns UCALL_NONE with
 * uc->cmd = UCALL_NONE). Handles in between: console and I/O, MMIO, MSR,
 * CPUID, MapGPA, EPT violations (PAGE.AUG), external interrupts. A fatal
 * exit or an exit it cannot handle fails (tsim_fail_at()).
 */
uint64_t vcpu_run(struct tg_vcpu *v, struct ucall *uc);
/* vcpu_run() expecting a SYNC with args[0] == stage (fails otherwise,
 * printing an ABORT's file:line and message). */
void vcpu_expect_sync(struct tg_vcpu *v, struct ucall *uc, uint64_t stage);
void vcpu_expect_done(struct tg_vcpu *v);

/* TDH.MNG.RD of a TD field. */
uint64_t td_rd(struct tg_vm *vm, uint64_t field);

#endif
