/*
 * x86 instruction length and operand decoding (seam/x86_insn.h), from the
 * opcode maps of the Intel SDM Vol. 2, Appendix A.
 */
#include "seam/x86_insn.h"

#define MAX_LEN 15

/* One bit per opcode: the one-byte map opcodes with a ModRM byte. */
static const uint32_t modrm1[8] = {
	0x0F0F0F0FU, /* 00-1F: ALU r/m forms (x0-x3, x8-xB) */
	0x0F0F0F0FU, /* 20-3F */
	0x00000000U, /* 40-5F */
	0x00000A0CU, /* 60-7F: 62 63 69 6B */
	0x0000FFFFU, /* 80-9F: 80-8F */
	0x00000000U, /* A0-BF */
	0xFF0F00F3U, /* C0-DF: C0 C1 C4-C7, D0-D3, D8-DF */
	0xC0C00000U, /* E0-FF: F6 F7 FE FF */
};

/* The 0F map opcodes without a ModRM byte. */
static const uint32_t no_modrm2[8] = {
	0x00005FF0U, /* 00-1F: 04-0C, 0E (0A and 0C invalid); 0D and 0F have one */
	0xFFFF0000U, /* 20-3F: 30-3F (38 and 3A are escapes, handled first) */
	0x00000000U, /* 40-5F */
	0x00800000U, /* 60-7F: 77 EMMS */
	0x0000FFFFU, /* 80-9F: 80-8F Jcc rel */
	0x00000707U, /* A0-BF: A0 A1 A2, A8 A9 AA */
	0x0000FF00U, /* C0-DF: C8-CF BSWAP */
	0x00000000U, /* E0-FF */
};

static bool bit(const uint32_t *map, uint8_t op)
{
	return (map[op >> 5] >> (op & 31)) & 1;
}

/* Bytes of ModRM + SIB + displacement at p (the ModRM byte first); 0 if
 * truncated. */
static size_t modrm_len(const uint8_t *p, size_t n, unsigned addr_size)
{
	if (n < 1)
		return 0;
	unsigned mod = p[0] >> 6, rm = p[0] & 7;
	size_t len = 1;
	if (addr_size == 2) {
		if (mod == 0 && rm == 6)
			len += 2;
		else if (mod == 1)
			len += 1;
		else if (mod == 2)
			len += 2;
	} else if (mod != 3) {
		if (rm == 4) {
			if (n < 2)
				return 0;
			len++;
			if (mod == 0 && (p[1] & 7) == 5)
				len += 4;
		} else if (mod == 0 && rm == 5) {
			len += 4;               /* disp32 (RIP-relative in 64-bit mode) */
		}
		if (mod == 1)
			len += 1;
		else if (mod == 2)
			len += 4;
	}
	return len <= n ? len : 0;
}

/* Immediate bytes of a 0F-map opcode (ModRM already known). */
static unsigned imm_0f(uint8_t op)
{
	if ((op >= 0x70 && op <= 0x73) || op == 0xA4 || op == 0xAC || op == 0xBA || op == 0xC2 ||
	    (op >= 0xC4 && op <= 0xC6) || op == 0x0F)
		return 1;
	return 0;
}

/* VEX / EVEX: after the prefix bytes, the opcode of `map` (1 0F, 2 0F38,
 * 3 0F3A) and its ModRM; an imm8 for map 3 and the few map-1 opcodes with
 * one. */
static int vex_tail(const uint8_t *code, size_t n, size_t i, unsigned map, unsigned addr_size,
		    struct x86_insn *out)
{
	if (i >= n)
		return -1;
	uint8_t op = code[i++];
	if (!(map == 1 && op == 0x77)) {        /* VZEROUPPER / VZEROALL: no ModRM */
		size_t m = modrm_len(code + i, n - i, addr_size);
		if (!m)
			return -1;
		i += m;
	}
	if (map == 3 || (map == 1 && imm_0f(op)))
		i++;
	if (i > n || i > MAX_LEN)
		return -1;
	out->len = (uint8_t)i;
	return 0;
}

int x86_decode(const uint8_t *code, size_t n, unsigned bits, struct x86_insn *out)
{
	bool mode64 = bits == 64;
	bool opsize = false, adsize = false;
	uint8_t rex = 0;
	size_t i = 0;

	*out = (struct x86_insn){ .seg = X86_SEG_NONE };
	if (n > MAX_LEN)
		n = MAX_LEN;
	/* Legacy prefixes, then REX (64-bit mode; a REX followed by another
	 * prefix is ignored). */
	for (;; i++) {
		if (i >= n)
			return -1;
		uint8_t b = code[i];
		switch (b) {
		case 0x66: opsize = true; rex = 0; continue;
		case 0x67: adsize = true; rex = 0; continue;
		case 0xF2: case 0xF3: out->rep = true; rex = 0; continue;
		case 0xF0: rex = 0; continue;
		case 0x26: out->seg = 0; rex = 0; continue;
		case 0x2E: out->seg = 1; rex = 0; continue;
		case 0x36: out->seg = 2; rex = 0; continue;
		case 0x3E: out->seg = 3; rex = 0; continue;
		case 0x64: out->seg = 4; rex = 0; continue;
		case 0x65: out->seg = 5; rex = 0; continue;
		default: break;
		}
		if (mode64 && (b & 0xF0) == 0x40) {
			rex = b;
			continue;
		}
		break;
	}
	bool rex_w = rex & 8;
	unsigned def = mode64 ? 4 : bits / 8;   /* default operand size */
	unsigned osz = rex_w ? 8 : (opsize ? (def == 2 ? 4 : 2) : def);
	unsigned asz = mode64 ? (adsize ? 4 : 8) : (adsize ? (bits == 16 ? 4 : 2) : bits / 8);
	unsigned z = osz == 2 ? 2 : 4;          /* Iz / Jz */
	out->addr_size = (uint8_t)asz;

	uint8_t op = code[i++];
	size_t imm = 0;
	bool has_modrm;

	if (op == 0x0F) {
		if (i >= n)
			return -1;
		uint8_t op2 = code[i++];
		if (op2 == 0x38 || op2 == 0x3A) {
			if (i >= n)
				return -1;
			i++;                    /* the third opcode byte */
			has_modrm = true;
			imm = op2 == 0x3A ? 1 : 0;
		} else {
			has_modrm = !bit(no_modrm2, op2);
			imm = imm_0f(op2);
			if (op2 >= 0x80 && op2 <= 0x8F)
				imm = z;        /* rel16 with 66 even in 64-bit mode, as Unicorn decodes it */
			if (op2 >= 0x20 && op2 <= 0x23) {
				/* MOV to/from CR/DR: ModRM.mod is ignored (register form). */
				if (i >= n)
					return -1;
				i++;
				has_modrm = false;
			}
			if ((op2 >= 0x80 && op2 <= 0x8F) || op2 == 0x05 || op2 == 0x07 || op2 == 0x0B ||
			    op2 == 0x34 || op2 == 0x35 || op2 == 0xB9 || op2 == 0xFF)
				out->branch = true;     /* Jcc, SYSCALL/SYSRET, UD, SYSENTER/EXIT */
			switch (op2) {
			case 0x08: out->op = X86_OP_INVD; break;
			case 0x09: out->op = X86_OP_WBINVD; break;
			case 0x30: out->op = X86_OP_WRMSR; break;
			case 0x32: out->op = X86_OP_RDMSR; break;
			case 0x33: out->op = X86_OP_RDPMC; break;
			case 0x31: out->op = X86_OP_RDTSC; break;
			case 0xA2: out->op = X86_OP_CPUID; break;
			case 0x01:
				if (i < n) {
					switch (code[i]) {
					case 0xC1: out->op = X86_OP_VMCALL; break;
					case 0xC5: out->op = X86_OP_PCONFIG; break;
					case 0xC8: out->op = X86_OP_MONITOR; break;
					case 0xC9: out->op = X86_OP_MWAIT; break;
					case 0xF9: out->op = X86_OP_RDTSCP; break;
					default: break;
					}
				}
				break;
			default: break;
			}
		}
	} else if ((op == 0xC4 || op == 0xC5 || op == 0x62) &&
		   (mode64 || (i < n && (code[i] & 0xC0) == 0xC0))) {
		/* VEX (C4 3-byte, C5 2-byte) or EVEX (62): in 32-bit mode only
		 * when the next byte has ModRM.mod = 11 (else LES/LDS/BOUND). */
		if (op == 0xC5)
			return vex_tail(code, n, i + 1, 1, asz, out);
		if (op == 0xC4) {
			if (i + 2 > n)
				return -1;
			return vex_tail(code, n, i + 2, code[i] & 0x1F, asz, out);
		}
		if (i + 3 > n)
			return -1;
		return vex_tail(code, n, i + 3, code[i] & 0x07, asz, out);
	} else if (op == 0x8F && i < n && (code[i] & 0x1F) >= 8) {
		/* AMD XOP (8F with map >= 8; POP r/m has ModRM.reg = 0):
		 * opcode, ModRM, imm8 in map 8, imm32 in map 0Ah. */
		unsigned map = code[i] & 0x1F;
		i += 2;
		if (i >= n)
			return -1;
		i++;
		size_t m = modrm_len(code + i, n - i, asz);
		if (!m)
			return -1;
		i += m + (map == 8 ? 1 : map == 0xA ? 4 : 0);
		if (i > n)
			return -1;
		out->len = (uint8_t)i;
		return 0;
	} else {
		has_modrm = bit(modrm1, op);
		switch (op) {
		case 0x04: case 0x0C: case 0x14: case 0x1C: case 0x24: case 0x2C: case 0x34: case 0x3C:
		case 0x6A: case 0x6B: case 0x80: case 0x82: case 0x83: case 0xA8: case 0xC0: case 0xC1:
		case 0xC6: case 0xCD: case 0xD4: case 0xD5: case 0xEB:
			imm = 1;
			break;
		case 0x05: case 0x0D: case 0x15: case 0x1D: case 0x25: case 0x2D: case 0x35: case 0x3D:
		case 0x68: case 0x69: case 0x81: case 0xA9: case 0xC7:
			imm = z;
			break;
		case 0xE8: case 0xE9:
			imm = z;                /* rel16 with 66, as Unicorn decodes it */
			break;
		case 0xC2: case 0xCA:
			imm = 2;
			break;
		case 0xC8:
			imm = 3;
			break;
		case 0xA0: case 0xA1: case 0xA2: case 0xA3:
			imm = asz;              /* moffs */
			break;
		case 0x9A: case 0xEA:
			imm = mode64 ? 0 : z + 2;       /* ptr16:16/32 (invalid in 64-bit mode) */
			break;
		case 0xE4: case 0xE5:
			imm = 1;
			out->op = X86_OP_IN;
			out->io_imm = true;
			break;
		case 0xE6: case 0xE7:
			imm = 1;
			out->op = X86_OP_OUT;
			out->io_imm = true;
			break;
		case 0xEC: case 0xED: out->op = X86_OP_IN; break;
		case 0xEE: case 0xEF: out->op = X86_OP_OUT; break;
		case 0x6C: case 0x6D: out->op = X86_OP_INS; break;
		case 0x6E: case 0x6F: out->op = X86_OP_OUTS; break;
		case 0xF4: out->op = X86_OP_HLT; break;
		default:
			if (op >= 0x70 && op <= 0x7F)
				imm = 1;
			else if ((op >= 0xE0 && op <= 0xE3) || (op >= 0xB0 && op <= 0xB7))
				imm = 1;
			else if (op >= 0xB8 && op <= 0xBF)
				imm = rex_w ? 8 : z;
			break;
		}
		if (out->op >= X86_OP_IN && out->op <= X86_OP_OUTS)
			out->io_size = (op & 1) ? (osz == 2 ? 2 : 4) : 1;
		if ((op >= 0x70 && op <= 0x7F) || (op >= 0xE0 && op <= 0xE3) || op == 0xE8 || op == 0xE9 ||
		    op == 0xEA || op == 0xEB || op == 0x9A || op == 0xC2 || op == 0xC3 || op == 0xCA ||
		    op == 0xCB || (op >= 0xCC && op <= 0xCF) || op == 0xF1)
			out->branch = true;     /* jumps, calls, returns, software interrupts */

	}

	if (has_modrm) {
		size_t m = modrm_len(code + i, n - i, asz);
		if (!m)
			return -1;
		if ((op == 0xF6 || op == 0xF7) && ((code[i] >> 3) & 7) < 2)
			imm = op == 0xF6 ? 1 : z;       /* TEST r/m, imm */
		if (op == 0xFF && ((code[i] >> 3) & 7) >= 2 && ((code[i] >> 3) & 7) <= 5)
			out->branch = true;     /* CALL/JMP (far) r/m */
		i += m;
	}
	i += imm;
	if (i > n)
		return -1;
	out->len = (uint8_t)i;
	if (out->op == X86_OP_IN || out->op == X86_OP_OUT) {
		if (out->io_imm)
			out->imm8 = code[i - 1];
	}
	return 0;
}

uint64_t x86_io_exit_qual(const struct x86_insn *i, uint16_t port)
{
	bool in = i->op == X86_OP_IN || i->op == X86_OP_INS;
	bool str = i->op == X86_OP_INS || i->op == X86_OP_OUTS;
	return (uint64_t)(i->io_size - 1) | ((uint64_t)in << 3) | ((uint64_t)str << 4) |
	       ((uint64_t)(str && i->rep) << 5) | ((uint64_t)i->io_imm << 6) | ((uint64_t)port << 16);
}

uint32_t x86_io_instr_info(const struct x86_insn *i)
{
	if (i->op != X86_OP_INS && i->op != X86_OP_OUTS)
		return 0;
	uint32_t as = i->addr_size == 2 ? 0 : i->addr_size == 4 ? 1 : 2;
	uint32_t seg = 0;                       /* INS: ES */
	if (i->op == X86_OP_OUTS)
		seg = i->seg != X86_SEG_NONE ? i->seg : 3;
	return (as << 7) | (seg << 15);
}

