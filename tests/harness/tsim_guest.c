#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsim.h"
#include "tsim_td.h"
#include "tsim_guest.h"
#include "guest/images.h"

#define STATUS_CLASS_MASK  0xFFFFFFFF00000000ULL
#define EXIT_REASON(st)    ((unsigned)((st) & 0xFFFF))

/* VMX exit reasons the runner produces (tdx-abi.md 2.3). */
#define EXIT_EXTERNAL_INTERRUPT 1u
#define EXIT_TRIPLE_FAULT       2u
#define EXIT_HLT                12u
#define EXIT_EPT_VIOLATION      48u
#define EXIT_TDVMCALL           77u

/* GHCI sub-functions (R11) when R10 = 0. */
#define GHCI_CPUID      10
#define GHCI_HLT        12
#define GHCI_IO         30
#define GHCI_RDMSR      31
#define GHCI_WRMSR      32
#define GHCI_MMIO       48
#define GHCI_MAP_GPA    0x10001
#define GHCI_FATAL      0x10003

/* Extended exit qualification type of a PENDING page (the guest touched
 * memory it did not accept). */
#define EEQ_TYPE_MASK   0xFULL
#define EEQ_PENDING_EPT 6ULL

/* TD-VMCS SHARED_EPT_POINTER (class 0, 64-bit, encoding 0x203C). */
#define VP_FIELD_SHARED_EPTP ((2ULL << 52) | (1ULL << 50) | (3ULL << 32) | 0x203CULL)
#define VP_FIELD_GUEST_RIP   ((2ULL << 52) | (1ULL << 50) | (3ULL << 32) | 0x681EULL)
#define SHARED_EPTP_PA_MASK  0x000FFFFFFFFFF000ULL

/* Standard EPT entry bits. */
#define EPT_RWX         0x7ULL
#define EPT_MT_WB       (6ULL << 3)
#define EPT_ADDR_MASK   0x000FFFFFFFFFF000ULL
/* Bit 63, suppress #VE: KVM's non-present entries have it set (an access is a
 * TD exit); its MMIO entries are 0, not present with the bit clear (a #VE). */
#define EPT_SVE         (1ULL << 63)

#define call_ok(s, lp, fn, a) \
	tsim_expect_status(__FILE__, __LINE__, TDX_SUCCESS, tsim_seamcall_retry((s), (lp), (fn), (a)), (fn))

/* ---- shared EPT ---- */

static uint64_t zeroed_page(struct tg_vm *vm)
{
	static const uint8_t zero[4096];
	uint64_t pa = tsim_page(vm->e);
	TSIM_CHECK_OK(tdxsim_mem_write(vm->e->s, pa, 0, zero, sizeof(zero)));
	return pa;
}

/* A shared-EPT table page: 512 non-present entries with suppress #VE set. */
static uint64_t ept_table_page(struct tg_vm *vm)
{
	uint64_t none[512];
	for (unsigned i = 0; i < 512; i++)
		none[i] = EPT_SVE;
	uint64_t pa = tsim_page(vm->e);
	TSIM_CHECK_OK(tdxsim_mem_write(vm->e->s, pa, 0, none, sizeof(none)));
	return pa;
}

static uint64_t ept_read(struct tg_vm *vm, uint64_t pa)
{
	uint64_t v = 0;
	TSIM_CHECK_OK(tdxsim_mem_read(vm->e->s, pa, 0, &v, 8));
	return v;
}

static void ept_write(struct tg_vm *vm, uint64_t pa, uint64_t v)
{
	TSIM_CHECK_OK(tdxsim_mem_write(vm->e->s, pa, 0, &v, 8));
}

/* PA of the 4K leaf entry of gpa (shared bit included), creating the
 * tables on the way if create. 0 if absent. */
static uint64_t ept_leaf(struct tg_vm *vm, uint64_t gpa, bool create)
{
	uint64_t table = vm->ept_root;
	for (int lvl = (int)vm->td.ept_levels - 1; lvl > 0; lvl--) {
		uint64_t epa = table + 8 * ((gpa >> (12 + 9 * lvl)) & 511);
		uint64_t e = ept_read(vm, epa);
		if (!(e & EPT_RWX)) {
			if (!create)
				return 0;
			if (vm->n_ept_pages >= TG_MAX_EPT_PAGES)
				TSIM_FAIL("tsim_guest: shared EPT full");
			uint64_t pa = ept_table_page(vm);
			vm->ept_pages[vm->n_ept_pages++] = pa;
			e = pa | EPT_RWX;
			ept_write(vm, epa, e);
		}
		table = e & EPT_ADDR_MASK;
	}
	return table + 8 * ((gpa >> 12) & 511);
}

uint64_t td_shared_pa(struct tg_vm *vm, uint64_t offset)
{
	offset &= ~0xFFFULL;
	for (unsigned i = 0; i < vm->n_shared; i++)
		if (vm->shared[i].offset == offset)
			return vm->shared[i].pa;
	return 0;
}

uint64_t td_map_shared(struct tg_vm *vm, uint64_t offset)
{
	TSIM_CHECK((offset & 0xFFF) == 0);
	TSIM_CHECK((offset & vm->shared_bit) == 0);
	if (td_shared_pa(vm, offset))
		TSIM_FAIL("td_map_shared: offset 0x%llx already mapped", (unsigned long long)offset);
	if (vm->n_shared >= TG_MAX_SHARED)
		TSIM_FAIL("td_map_shared: too many shared pages");
	uint64_t pa = zeroed_page(vm);
	ept_write(vm, ept_leaf(vm, offset | vm->shared_bit, true), pa | EPT_RWX | EPT_MT_WB);
	vm->shared[vm->n_shared].offset = offset;
	vm->shared[vm->n_shared].pa = pa;
	vm->n_shared++;
	return pa;
}

void td_unmap_shared(struct tg_vm *vm, uint64_t offset)
{
	offset &= ~0xFFFULL;
	for (unsigned i = 0; i < vm->n_shared; i++) {
		if (vm->shared[i].offset != offset)
			continue;
		uint64_t epa = ept_leaf(vm, offset | vm->shared_bit, false);
		if (epa)
			ept_write(vm, epa, EPT_SVE);
		vm->shared[i] = vm->shared[--vm->n_shared];
		return;
	}
}

void td_map_mmio(struct tg_vm *vm, uint64_t offset, uint64_t size)
{
	TSIM_CHECK((offset & 0xFFF) == 0 && (size & 0xFFF) == 0);
	TSIM_CHECK((offset & vm->shared_bit) == 0);
	for (uint64_t off = offset; off < offset + size; off += 4096) {
		if (td_shared_pa(vm, off))
			TSIM_FAIL("td_map_mmio: offset 0x%llx is mapped shared memory", (unsigned long long)off);
		ept_write(vm, ept_leaf(vm, off | vm->shared_bit, true), 0);
	}
}

static void shared_xfer(struct tg_vm *vm, uint64_t offset, void *buf, size_t len, bool write)
{
	uint8_t *p = buf;
	while (len) {
		uint64_t in = offset & 0xFFF;
		size_t n = 4096 - in < len ? 4096 - in : len;
		uint64_t pa = td_shared_pa(vm, offset);
		if (!pa)
			TSIM_FAIL("tsim_guest: shared offset 0x%llx not mapped", (unsigned long long)offset);
		tdxsim_err err = write ? tdxsim_mem_write(vm->e->s, pa + in, 0, p, n)
				       : tdxsim_mem_read(vm->e->s, pa + in, 0, p, n);
		if (err != TDXSIM_OK)
			TSIM_FAIL("tsim_guest: %s of %zu bytes at PA 0x%llx: %s", write ? "write" : "read", n,
				  (unsigned long long)(pa + in), tdxsim_strerror(err));
		p += n;
		offset += n;
		len -= n;
	}
}

void td_shared_read(struct tg_vm *vm, uint64_t offset, void *buf, size_t len)
{
	shared_xfer(vm, offset, buf, len, false);
}

void td_shared_write(struct tg_vm *vm, uint64_t offset, const void *buf, size_t len)
{
	shared_xfer(vm, offset, (void *)(uintptr_t)buf, len, true);
}

/* ---- TD build ---- */

struct tg_vm *td_create_attr(struct tsim_env *e, unsigned max_vcpus, uint64_t attributes)
{
	TSIM_CHECK(max_vcpus >= 1 && max_vcpus <= TSIM_MAX_VCPUS && max_vcpus <= GUEST_MAX_VCPUS);
	struct tg_vm *vm = calloc(1, sizeof(*vm));
	TSIM_CHECK(vm != NULL);
	vm->e = e;
	vm->max_vcpus = max_vcpus;
	vm->aug_on_violation = true;
	pthread_mutex_init(&vm->lock, NULL);
	tsim_td_build(e, &vm->td, attributes, (uint16_t)max_vcpus);
	/* MNG.INIT with 4-level EPT: GPAW 48, shared bit 47. */
	vm->shared_bit = guest_shared_bit(48);
	vm->ept_root = ept_table_page(vm);
	vm->ucall_pa = td_map_shared(vm, GUEST_UCALL_OFFSET);
	vm->xfer_pa = td_map_shared(vm, GUEST_XFER_OFFSET);
	return vm;
}

struct tg_vm *td_create(struct tsim_env *e, unsigned max_vcpus)
{
	return td_create_attr(e, max_vcpus, TDX_TD_ATTR_DEBUG);
}

struct tg_vcpu *td_vcpu_add(struct tg_vm *vm, unsigned lp)
{
	if (vm->n_vcpus >= vm->max_vcpus)
		TSIM_FAIL("td_vcpu_add: TD has %u vCPUs already", vm->n_vcpus);
	struct tg_vcpu *v = &vm->vcpu[vm->n_vcpus];
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->index = vm->n_vcpus;
	v->lp = lp;
	v->tv = tsim_vcpu_add(&vm->td, lp);
	struct tdx_module_args a = {
		.rcx = v->tv->tdvpr, .rdx = VP_FIELD_SHARED_EPTP,
		.r8 = vm->ept_root, .r9 = SHARED_EPTP_PA_MASK,
	};
	call_ok(vm->e->s, lp, TDH_VP_WR, &a);
	vm->n_vcpus++;
	return v;
}

void td_add_private(struct tg_vm *vm, uint64_t gpa, const void *data, size_t size, bool extend)
{
	TSIM_CHECK((gpa & 0xFFF) == 0 && (size & 0xFFF) == 0);
	const uint8_t *p = data;
	for (size_t off = 0; off < size; off += 4096)
		tsim_page_add(&vm->td, gpa + off, p ? p + off : NULL, extend);
}

void td_aug_private(struct tg_vm *vm, uint64_t gpa, uint64_t size, unsigned level)
{
	uint64_t step = 4096ULL << (9 * level);
	TSIM_CHECK((gpa & (step - 1)) == 0 && (size & (step - 1)) == 0);
	for (uint64_t off = 0; off < size; off += step)
		tsim_page_aug(&vm->td, gpa + off, level);
}

void td_load_image_path(struct tg_vm *vm, const char *path, uint64_t arg)
{
	TSIM_CHECK_MSG(!vm->loaded, "td_load_image: an image is loaded already");
	if (vm->n_vcpus == 0)
		TSIM_FAIL("td_load_image: add the vCPUs first (num_vcpus goes to the boot page)");
	FILE *f = fopen(path, "rb");
	if (!f)
		TSIM_FAIL("td_load_image: cannot open %s: %s", path, strerror(errno));
	uint8_t *img = calloc(1, GUEST_IMAGE_SIZE);
	TSIM_CHECK(img != NULL);
	size_t n = fread(img, 1, GUEST_IMAGE_SIZE, f);
	int extra = fgetc(f);
	fclose(f);
	if (n != GUEST_IMAGE_SIZE || extra != EOF) {
		free(img);
		TSIM_FAIL("td_load_image: %s is not a %u-byte image", path, GUEST_IMAGE_SIZE);
	}
	td_add_private(vm, GUEST_IMAGE_GPA, img, GUEST_IMAGE_SIZE, true);
	free(img);

	_Alignas(8) uint8_t bp_page[4096];
	memset(bp_page, 0, sizeof(bp_page));
	struct guest_boot_params *bp = (struct guest_boot_params *)bp_page;
	bp->magic = GUEST_BOOT_MAGIC;
	bp->version = GUEST_BOOT_VERSION;
	bp->num_vcpus = vm->n_vcpus;
	bp->arg = arg;
	bp->pt_gpa = GUEST_PT_GPA;
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		bp->stack_top[i] = GUEST_STACK_GPA + (uint64_t)(i + 1) * GUEST_STACK_SIZE;
	td_add_private(vm, GUEST_BOOT_PARAMS_GPA, bp_page, sizeof(bp_page), true);
	td_add_private(vm, GUEST_PT_GPA, NULL, GUEST_PT_PAGES * 4096, false);
	td_add_private(vm, GUEST_STACK_GPA, NULL, (size_t)vm->n_vcpus * GUEST_STACK_SIZE, false);
	vm->loaded = true;
}

void td_load_image(struct tg_vm *vm, const char *name, uint64_t arg)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s.bin", GUEST_IMAGE_DIR, name);
	td_load_image_path(vm, path, arg);
}

void td_finalize(struct tg_vm *vm)
{
	tsim_td_finalize(&vm->td);
}

void td_destroy(struct tg_vm *vm)
{
	if (!vm)
		return;
	tsim_td_teardown(&vm->td);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

uint64_t td_rd(struct tg_vm *vm, uint64_t field)
{
	struct tdx_module_args a = { .rcx = vm->td.tdr, .rdx = field };
	call_ok(vm->e->s, vm->td.lp, TDH_MNG_RD, &a);
	return a.r8;
}

/* ---- TD exits ---- */

static void console_put(struct tg_vm *vm, uint64_t val, unsigned size)
{
	for (unsigned i = 0; i < size; i++) {
		if (vm->console_len + 1 >= TG_CONSOLE_SIZE)
			return;
		vm->console[vm->console_len++] = (char)(val >> (8 * i));
		vm->console[vm->console_len] = 0;
	}
}

static bool io_size_ok(uint64_t size)
{
	return size == 1 || size == 2 || size == 4;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* MapGPA: convert [start, start + size) to shared (shared bit set in
 * start) or private. Private -> shared removes the private pages as KVM
 * does (BLOCK, TRACK, REMOVE) and maps zeroed host pages; shared ->
 * private unmaps them (the guest's ACCEPT then faults and gets PAGE.AUG). */
static uint64_t map_gpa(struct tg_vm *vm, uint64_t start, uint64_t size, uint64_t *resume)
{
	bool to_shared = (start & vm->shared_bit) != 0;
	uint64_t base = start & ~vm->shared_bit;
	vm->map_gpa_calls++;
	*resume = start;
	if ((base & 0xFFF) || (size & 0xFFF) || base + size < base || base + size > vm->shared_bit)
		return TG_VMCALL_INVALID_OPERAND;
	for (uint64_t off = 0; off < size; off += 4096) {
		uint64_t gpa = base + off;
		if (to_shared) {
			for (unsigned i = 0; i < vm->td.n_pages; i++) {
				uint64_t psz = 4096ULL << (9 * vm->td.page[i].level);
				if (gpa < vm->td.page[i].gpa || gpa >= vm->td.page[i].gpa + psz)
					continue;
				if (vm->td.page[i].level != 0)
					TSIM_FAIL("MapGPA: 0x%llx is inside a 2 MiB private page (not supported)",
						 (unsigned long long)gpa);
				tsim_page_zap(&vm->td, gpa, 0);
				break;
			}
			if (!td_shared_pa(vm, gpa))
				td_map_shared(vm, gpa);
		} else {
			td_unmap_shared(vm, gpa);
		}
	}
	return TG_VMCALL_SUCCESS;
}

/* Handle a TDG.VP.VMCALL exit (registers in a); fill v->next. Returns a
 * ucall cmd to hand to the caller, or UCALL_NONE to re-enter; *halt set on
 * HLT. */
static uint64_t handle_vmcall(struct tg_vcpu *v, const struct tdx_module_args *a, struct ucall *uc,
			      bool *halt)
{
	struct tg_vm *vm = v->vm;
	const struct tg_ops *ops = &vm->ops;
	struct tdx_module_args *n = &v->next;
	*n = *a;                        /* registers the host does not change go back as they were */
	n->rcx = 0;
	if (a->r10 != 0) {              /* KVM hypercall: none supported */
		n->r10 = TG_VMCALL_SUBFUNC_UNSUPPORTED;
		return UCALL_NONE;
	}
	uint64_t st = TG_VMCALL_SUBFUNC_UNSUPPORTED;
	switch (a->r11) {
	case GHCI_MMIO: {
		uint64_t gpa = a->r14 & ~vm->shared_bit;
		unsigned size = (unsigned)a->r12;
		bool write = a->r13 == 1;
		if (gpa == UCALL_MMIO_OFFSET && write && size == UCALL_MMIO_SIZE && (a->r14 & vm->shared_bit)) {
			td_shared_read(vm, a->r15 & ~vm->shared_bit, uc, sizeof(*uc));
			uc->file[sizeof(uc->file) - 1] = 0;
			uc->message[sizeof(uc->message) - 1] = 0;
			n->r10 = TG_VMCALL_SUCCESS;
			if (uc->cmd == UCALL_PRINT) {
				size_t len = strnlen(uc->message, sizeof(uc->message));
				for (size_t i = 0; i < len; i++)
					console_put(vm, (uint8_t)uc->message[i], 1);
				return UCALL_NONE;
			}
			if (uc->cmd == UCALL_NONE)
				TSIM_FAIL("vCPU %u: ucall with cmd 0", v->index);
			return uc->cmd;
		}
		if ((size != 1 && size != 2 && size != 4 && size != 8) || a->r13 > 1 ||
		    !(a->r14 & vm->shared_bit)) {
			st = TG_VMCALL_INVALID_OPERAND;
			break;
		}
		uint64_t val = write ? a->r15 & size_mask(size) : 0;
		if (ops->mmio)
			st = ops->mmio(v, gpa, size, write, &val);
		if (!write)
			n->r11 = val & size_mask(size);
		break;
	}
	case GHCI_IO: {
		unsigned size = (unsigned)a->r12;
		bool write = a->r13 == 1;
		uint16_t port = (uint16_t)a->r14;
		if (!io_size_ok(a->r12) || a->r13 > 1 || a->r14 > 0xFFFF) {
			st = TG_VMCALL_INVALID_OPERAND;
			break;
		}
		uint64_t val = write ? a->r15 & size_mask(size) : 0;
		if (port == TG_CONSOLE_PORT) {
			if (write)
				console_put(vm, val, size);
			st = TG_VMCALL_SUCCESS;
		} else if (ops->io) {
			st = ops->io(v, port, size, write, &val);
		}
		if (!write)
			n->r11 = val & size_mask(size);
		break;
	}
	case GHCI_RDMSR: {
		uint64_t val = 0;
		if (ops->rdmsr)
			st = ops->rdmsr(v, (uint32_t)a->r12, &val);
		n->r11 = st == TG_VMCALL_SUCCESS ? val : 0;
		break;
	}
	case GHCI_WRMSR:
		if (ops->wrmsr)
			st = ops->wrmsr(v, (uint32_t)a->r12, a->r13);
		break;
	case GHCI_CPUID: {
		uint32_t out[4] = { 0 };
		if (ops->cpuid)
			st = ops->cpuid(v, (uint32_t)a->r12, (uint32_t)a->r13, out);
		if (st == TG_VMCALL_SUCCESS) {
			n->r12 = out[0];
			n->r13 = out[1];
			n->r14 = out[2];
			n->r15 = out[3];
		}
		break;
	}
	case GHCI_HLT:
		n->r10 = TG_VMCALL_SUCCESS;
		*halt = true;
		return UCALL_NONE;
	case GHCI_MAP_GPA: {
		uint64_t resume = 0;
		st = map_gpa(vm, a->r12, a->r13, &resume);
		if (st != TG_VMCALL_SUCCESS)
			n->r11 = resume;
		break;
	}
	case GHCI_FATAL:
		TSIM_FAIL("vCPU %u: guest ReportFatalError, code 0x%llx", v->index,
			 (unsigned long long)a->r12);
		break;
	default:
		break;
	}
	n->r10 = st;
	return UCALL_NONE;
}

static uint64_t guest_rip(struct tg_vcpu *v);

static void handle_ept_violation(struct tg_vcpu *v, const struct tdx_module_args *a)
{
	struct tg_vm *vm = v->vm;
	uint64_t gpa = a->r8;
	if (gpa & vm->shared_bit)
		TSIM_FAIL("vCPU %u: EPT violation on shared GPA 0x%llx (qualification 0x%llx): not mapped "
			 "in the shared EPT", v->index, (unsigned long long)gpa, (unsigned long long)a->rcx);
	if ((a->rdx & EEQ_TYPE_MASK) == EEQ_PENDING_EPT)
		TSIM_FAIL("vCPU %u: guest touched unaccepted private GPA 0x%llx at RIP 0x%llx", v->index,
			 (unsigned long long)gpa, (unsigned long long)guest_rip(v));
	if (!vm->aug_on_violation)
		TSIM_FAIL("vCPU %u: EPT violation on private GPA 0x%llx (qualification 0x%llx, ext 0x%llx)",
			 v->index, (unsigned long long)gpa, (unsigned long long)a->rcx,
			 (unsigned long long)a->rdx);
	tsim_page_aug(&vm->td, gpa & ~0xFFFULL, 0);
	v->ept_augs++;
	memset(&v->next, 0, sizeof(v->next));
}

/* Guest RIP through TDH.VP.RD (debug TDs; ~0 when refused): diagnostics. */
static uint64_t guest_rip(struct tg_vcpu *v)
{
	struct tdx_module_args a = { .rcx = v->tv->tdvpr, .rdx = VP_FIELD_GUEST_RIP };
	if (seamcall_raw(v->vm->e->s, v->lp, TDH_VP_RD, &a) != TDX_SUCCESS)
		return ~0ULL;
	return a.r8;
}

uint64_t vcpu_run(struct tg_vcpu *v, struct ucall *uc)
{
	struct tg_vm *vm = v->vm;
	tdxsim *s = vm->e->s;
	memset(uc, 0, sizeof(*uc));
	for (;;) {
		struct tdx_module_args a = v->next;
		a.rcx = v->tv->tdvpr;
		uint64_t st = seamcall_raw(s, v->lp, TDH_VP_ENTER, &a);
		v->entries++;
		v->last_exit = st;
		if ((st & STATUS_CLASS_MASK) == TDX_OPERAND_BUSY) {
			sched_yield();          /* entry refused: registers not consumed, retry */
			continue;
		}
		if ((st & STATUS_CLASS_MASK) != TDX_SUCCESS) {
			char buf[128];
			TSIM_FAIL("vCPU %u: TDH.VP.ENTER: %s (0x%016llx), reason %u, qual 0x%llx, GPA 0x%llx; "
				 "console: %s", v->index, tdx_status_str(st, buf, sizeof(buf)),
				 (unsigned long long)st, EXIT_REASON(st), (unsigned long long)a.rcx,
				 (unsigned long long)a.r8, vm->console);
		}
		memset(&v->next, 0, sizeof(v->next));
		switch (EXIT_REASON(st)) {
		case EXIT_TDVMCALL: {
			bool halt = false;
			pthread_mutex_lock(&vm->lock);
			uint64_t cmd = handle_vmcall(v, &a, uc, &halt);
			pthread_mutex_unlock(&vm->lock);
			if (halt)
				return UCALL_NONE;
			if (cmd != UCALL_NONE)
				return cmd;
			break;
		}
		case EXIT_EPT_VIOLATION:
			pthread_mutex_lock(&vm->lock);
			handle_ept_violation(v, &a);
			pthread_mutex_unlock(&vm->lock);
			break;
		case EXIT_HLT:
			return UCALL_NONE;
		case EXIT_EXTERNAL_INTERRUPT:
			atomic_store(&v->last_intr_info, a.r9);
			atomic_fetch_add(&v->intr_exits, 1);
			if (getenv("TSIM_GUEST_TRACE"))
				fprintf(stderr, "vCPU %u: external interrupt at RIP 0x%llx\n", v->index,
					(unsigned long long)guest_rip(v));
			break;
		default:
			TSIM_FAIL("vCPU %u: unhandled TD exit reason %u (RAX 0x%016llx, qual 0x%llx, GPA 0x%llx)",
				 v->index, EXIT_REASON(st), (unsigned long long)st, (unsigned long long)a.rcx,
				 (unsigned long long)a.r8);
		}
	}
}

static const char *ucall_name(uint64_t cmd)
{
	switch (cmd) {
	case UCALL_NONE: return "HLT";
	case UCALL_SYNC: return "SYNC";
	case UCALL_DONE: return "DONE";
	case UCALL_ABORT: return "ABORT";
	case UCALL_PRINT: return "PRINT";
	case UCALL_UNHANDLED: return "UNHANDLED";
	default: return "?";
	}
}

static void expect_cmd(struct tg_vcpu *v, struct ucall *uc, uint64_t want, uint64_t stage)
{
	uint64_t cmd = vcpu_run(v, uc);
	if (cmd == UCALL_ABORT)
		TSIM_FAIL("vCPU %u: guest assertion at %s:%u: %s", v->index, uc->file, uc->line, uc->message);
	if (cmd == UCALL_UNHANDLED)
		TSIM_FAIL("vCPU %u: guest exception vector %llu error 0x%llx at RIP 0x%llx", v->index,
			 (unsigned long long)uc->args[0], (unsigned long long)uc->args[1],
			 (unsigned long long)uc->args[2]);
	if (cmd != want)
		TSIM_FAIL("vCPU %u: expected %s, got %s (%s:%u)", v->index, ucall_name(want), ucall_name(cmd),
			 uc->file, uc->line);
	if (want == UCALL_SYNC && uc->args[0] != stage)
		TSIM_FAIL("vCPU %u: expected SYNC(%llu), got SYNC(%llu) at %s:%u", v->index,
			 (unsigned long long)stage, (unsigned long long)uc->args[0], uc->file, uc->line);
}

void vcpu_expect_sync(struct tg_vcpu *v, struct ucall *uc, uint64_t stage)
{
	expect_cmd(v, uc, UCALL_SYNC, stage);
}

void vcpu_expect_done(struct tg_vcpu *v)
{
	struct ucall uc;
	expect_cmd(v, &uc, UCALL_DONE, 0);
}
