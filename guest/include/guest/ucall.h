/*
 * ucall: how a guest program talks to its test. Shared by guest and host.
 *
 * The guest fills its vCPU's struct ucall in the shared ucall page
 * (GPA = (GUEST_UCALL_OFFSET + vcpu * sizeof(struct ucall)) | shared bit)
 * and issues TDG.VP.VMCALL (RAX = 0, RCX = 0xFC00) with
 *   R10 = 0, R11 = 48 (MMIO / EPT violation), R12 = 8 (size), R13 = 1 (write),
 *   R14 = UCALL_MMIO_OFFSET | shared bit, R15 = GPA of the struct ucall.
 * The host recognises the exit by R11 == 48 and (R14 & ~shared bit) ==
 * UCALL_MMIO_OFFSET, reads sizeof(struct ucall) bytes of shared memory at
 * R15 & ~shared bit, acts on cmd, sets R10 = 0 and re-enters. Nothing is ever
 * mapped at UCALL_MMIO_OFFSET.
 */
#ifndef GUEST_UCALL_H
#define GUEST_UCALL_H

#define UCALL_MMIO_OFFSET       0xFED00000      /* shared bit is ORed in */
#define UCALL_MMIO_SIZE         8
#define UCALL_SIZE              256

#ifndef __ASSEMBLER__
#include <stdint.h>

enum ucall_cmd {
	UCALL_NONE = 0,
	UCALL_SYNC = 1,         /* args[0] = GUEST_SYNC's argument, args[1..] program-defined */
	UCALL_DONE = 2,         /* the program finished */
	UCALL_ABORT = 3,        /* GUEST_ASSERT failed: file, line, message */
	UCALL_PRINT = 4,        /* message holds a line the guest printed (not used by the console) */
	UCALL_UNHANDLED = 5,    /* unexpected exception: args[0] vector, [1] error code, [2] RIP */
};

struct ucall {
	uint64_t cmd;           /* enum ucall_cmd */
	uint64_t args[6];
	uint32_t line;          /* __LINE__ of the GUEST_* macro */
	uint32_t vcpu;          /* vCPU index */
	char file[64];          /* NUL-terminated tail of __FILE__ */
	char message[128];      /* NUL-terminated */
};

_Static_assert(sizeof(struct ucall) == UCALL_SIZE, "ucall layout");
#endif

#endif
