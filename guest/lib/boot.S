/*
 * Boot block: from the TD reset state (32-bit protected mode, paging off,
 * flat 4 GiB segments, RIP 0xFFFFFFF0; RBX = GPAW, RSI = vCPU index,
 * RCX = R8 = VP.INIT RDX) to guest_start() in 64-bit mode.
 *
 * Every vCPU runs this. Each one writes the same page-table entries (never
 * a transient value), so vCPUs that arrive late cannot disturb those that
 * already run. A bad boot parameters page or vCPU index ends in ud2 with no
 * IDT, i.e. a triple fault.
 */
#include "guest/boot.h"

#define CR0_PG          0x80000000
#define CR4_PAE         0x20
#define MSR_EFER        0xC0000080
#define EFER_LME        0x100
#define PTE_P_RW        0x3
#define PDE_2M          0x83            /* present, writable, 2 MiB page */

#define SEL_CODE64      0x08
#define SEL_DATA        0x10

	.section .boot32, "ax"
	.code32
	.globl boot32
boot32:
	movl	$GUEST_BOOT_PARAMS_GPA, %ebp
	cmpl	$(GUEST_BOOT_MAGIC & 0xFFFFFFFF), GUEST_BP_MAGIC(%ebp)
	jne	boot_fail
	cmpl	$(GUEST_BOOT_MAGIC >> 32), GUEST_BP_MAGIC+4(%ebp)
	jne	boot_fail
	cmpl	$GUEST_BOOT_VERSION, GUEST_BP_VERSION(%ebp)
	jne	boot_fail
	cmpl	GUEST_BP_NUM_VCPUS(%ebp), %esi
	jae	boot_fail
	cmpl	$GUEST_MAX_VCPUS, %esi
	jae	boot_fail
	/* Shared bit: bit GPAW-1, i.e. bit GPAW-33 of a PDE's upper half. */
	cmpl	$48, %ebx
	je	1f
	cmpl	$52, %ebx
	jne	boot_fail
1:	leal	-33(%ebx), %ecx
	movl	$1, %edx
	shll	%cl, %edx               /* edx = shared bit >> 32 */
	movl	GUEST_BP_PT_GPA(%ebp), %edi
	testl	$0xFFF, %edi
	jnz	boot_fail
	cmpl	$0, GUEST_BP_PT_GPA+4(%ebp)
	jne	boot_fail

	/* PML4 (page 0): entry 0 -> PDPT, the others empty. */
	leal	0x1000+PTE_P_RW(%edi), %eax
	movl	%eax, 0(%edi)
	movl	$0, 4(%edi)
	movl	$8, %ecx
2:	movl	$0, (%edi,%ecx)
	addl	$4, %ecx
	cmpl	$0x1000, %ecx
	jb	2b

	/* PDPT (page 1): entries 0-7 -> PD pages 2-9, the others empty. */
	leal	0x1000(%edi), %ebx
	xorl	%ecx, %ecx
3:	movl	%ecx, %eax
	addl	$2, %eax
	shll	$12, %eax
	leal	PTE_P_RW(%edi,%eax), %eax
	movl	%eax, (%ebx,%ecx,8)
	movl	$0, 4(%ebx,%ecx,8)
	incl	%ecx
	cmpl	$8, %ecx
	jb	3b
4:	movl	$0, (%ebx,%ecx,8)
	movl	$0, 4(%ebx,%ecx,8)
	incl	%ecx
	cmpl	$512, %ecx
	jb	4b

	/*
	 * PDs (pages 2-9, 2048 entries each half): entry i maps 2 MiB page
	 * i mod 2048 of [0, 4 GiB); the upper half (i >= 2048) adds the shared bit.
	 */
	leal	0x2000(%edi), %ebx
	xorl	%ecx, %ecx
5:	movl	%ecx, %eax
	andl	$0x7FF, %eax
	shll	$21, %eax
	orl	$PDE_2M, %eax
	movl	%eax, (%ebx,%ecx,8)
	xorl	%eax, %eax
	cmpl	$2048, %ecx
	jb	6f
	movl	%edx, %eax
6:	movl	%eax, 4(%ebx,%ecx,8)
	incl	%ecx
	cmpl	$4096, %ecx
	jb	5b

	/* Long mode: CR3, PAE, EFER.LME (already set after VP.INIT), paging. */
	movl	%edx, %ebp              /* keep the shared bit across RDMSR */
	movl	%edi, %cr3
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$MSR_EFER, %ecx
	rdmsr
	testl	$EFER_LME, %eax
	jnz	7f
	orl	$EFER_LME, %eax
	wrmsr
7:	movl	%cr0, %eax
	orl	$CR0_PG, %eax
	movl	%eax, %cr0
	lgdt	boot_gdt_desc
	ljmpl	$SEL_CODE64, $boot64

boot_fail:
	ud2
	jmp	boot_fail

	.code64
boot64:
	movl	$SEL_DATA, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	/* Recompute what the 32-bit path consumed: GPAW from the shared bit. */
	movl	%ebp, %eax
	bsrl	%eax, %eax
	leal	33(%eax), %edx          /* edx = GPAW */
	movl	%esi, %edi              /* vCPU index */
	movl	%esi, %eax
	movq	GUEST_BOOT_PARAMS_GPA+GUEST_BP_STACK_TOP(,%rax,8), %rsp
	andq	$-16, %rsp
	movl	%edi, %edi
	movq	%r8, %rcx               /* VP.INIT RDX */
	movl	%edx, %esi              /* GPAW */
	xorl	%ebp, %ebp
	/* guest_start(vcpu_index, gpaw, vp_init_rdx) */
	movabsq	$guest_start, %rax
	call	*%rax
	ud2

	.section .rodata.boot, "a"
	.balign 16
boot_gdt:
	.quad	0
	.quad	0x00AF9B000000FFFF      /* 0x08: 64-bit code */
	.quad	0x00CF93000000FFFF      /* 0x10: data */
boot_gdt_end:
	.balign 8
	.globl boot_gdt_desc
boot_gdt_desc:
	.word	boot_gdt_end - boot_gdt - 1
	.long	boot_gdt

	/* The last 16 bytes of the image: the reset vector at 0xFFFFFFF0. */
	.section .resetvec, "ax"
	.code32
	.globl reset_vector
reset_vector:
	jmp	boot32
	.fill	16 - (. - reset_vector), 1, 0xF4   /* hlt padding */

	.section .note.GNU-stack, "", @progbits
