/*
 * Exception entry stubs for vectors 0-31: each pushes a dummy error code
 * (if the CPU does not push one) and its vector, then exc_common saves the
 * GPRs as a struct guest_frame (runtime.c) and calls guest_exception().
 */
	.text
	.code64

.macro VEC n, has_err
	.balign 16
vec\n:
	.if \has_err == 0
	pushq	$0
	.endif
	pushq	$\n
	jmp	exc_common
.endm

	VEC 0, 0
	VEC 1, 0
	VEC 2, 0
	VEC 3, 0
	VEC 4, 0
	VEC 5, 0
	VEC 6, 0
	VEC 7, 0
	VEC 8, 1
	VEC 9, 0
	VEC 10, 1
	VEC 11, 1
	VEC 12, 1
	VEC 13, 1
	VEC 14, 1
	VEC 15, 0
	VEC 16, 0
	VEC 17, 1
	VEC 18, 0
	VEC 19, 0
	VEC 20, 0
	VEC 21, 1
	VEC 22, 0
	VEC 23, 0
	VEC 24, 0
	VEC 25, 0
	VEC 26, 0
	VEC 27, 0
	VEC 28, 0
	VEC 29, 1
	VEC 30, 1
	VEC 31, 0

exc_common:
	pushq	%r15
	pushq	%r14
	pushq	%r13
	pushq	%r12
	pushq	%r11
	pushq	%r10
	pushq	%r9
	pushq	%r8
	pushq	%rbp
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%rcx
	pushq	%rbx
	pushq	%rax
	movq	%rsp, %rdi
	movq	%rsp, %rbx
	andq	$-16, %rsp
	movabsq	$guest_exception, %rax
	call	*%rax
	movq	%rbx, %rsp
	popq	%rax
	popq	%rbx
	popq	%rcx
	popq	%rdx
	popq	%rsi
	popq	%rdi
	popq	%rbp
	popq	%r8
	popq	%r9
	popq	%r10
	popq	%r11
	popq	%r12
	popq	%r13
	popq	%r14
	popq	%r15
	addq	$16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl guest_vectors
guest_vectors:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	vec\n
	.endr

	.section .note.GNU-stack, "", @progbits
