/*
 * uint64_t tdcall(uint64_t leaf, struct tdcall_args *a)
 * RAX = leaf, RCX/RDX/R8-R15 from *a; after TDCALL all ten go back to *a
 * and RAX is returned. Callee-saved registers are kept (a VMCALL may expose
 * R12-R15 to the host, which then writes them).
 */
	.text
	.code64
	.globl tdcall
	.type tdcall, @function
tdcall:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rsi
	movq	%rdi, %rax
	movq	0(%rsi), %rcx
	movq	8(%rsi), %rdx
	movq	16(%rsi), %r8
	movq	24(%rsi), %r9
	movq	32(%rsi), %r10
	movq	40(%rsi), %r11
	movq	48(%rsi), %r12
	movq	56(%rsi), %r13
	movq	64(%rsi), %r14
	movq	72(%rsi), %r15
	.byte	0x66, 0x0f, 0x01, 0xcc          /* TDCALL */
	popq	%rsi
	movq	%rcx, 0(%rsi)
	movq	%rdx, 8(%rsi)
	movq	%r8, 16(%rsi)
	movq	%r9, 24(%rsi)
	movq	%r10, 32(%rsi)
	movq	%r11, 40(%rsi)
	movq	%r12, 48(%rsi)
	movq	%r13, 56(%rsi)
	movq	%r14, 64(%rsi)
	movq	%r15, 72(%rsi)
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret
	.size tdcall, . - tdcall

	.section .note.GNU-stack, "", @progbits
