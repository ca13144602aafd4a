//go:build arm64 && !purego

#include "textflag.h"

// UTF-8 validation with TBL table lookups, 16 bytes at a time; the method is
// described in utf8_simd.go and the shared tables in utf8_simd_tables.h;
// this file adds the 16-byte block-end thresholds:
//
//	0x70  FF everywhere but the last three bytes, which are EF, DF, BF
//
// Go's assembler has no UQSUB (unsigned saturating subtract), so it is
// encoded with WORD, the instruction given in a comment. An encoded
// instruction cannot take its registers from macro arguments, so every
// UQSUB works on fixed registers.
#include "utf8_simd_tables.h"

DATA utf8Tables<>+0x70(SB)/8, $0xffffffffffffffff
DATA utf8Tables<>+0x78(SB)/8, $0xbfdfefffffffffff
GLOBL utf8Tables<>(SB), RODATA|NOPTR, $128

// CHECK16 ORs into V24 the errors of the 16-byte block cur, whose preceding
// 16 bytes are in prev. V4-V6 are clobbered; V16-V22 hold the constants.
// VEXT takes the last 1, 2 or 3 bytes of prev followed by cur, which gives
// prev1, prev2 and prev3. USHR on bytes leaves the high nibble alone, so
// only the low nibble needs a mask. V5 becomes 0x80 where cur must be a
// third or fourth byte and V6 the AND of the three lookups; their XOR is the
// error.
#define CHECK16(cur, prev) \
	VEXT  $15, cur.B16, prev.B16, V4.B16; \
	VEXT  $14, cur.B16, prev.B16, V5.B16; \
	VEXT  $13, cur.B16, prev.B16, V6.B16; \
	WORD  $0x6e342ca5; \
	WORD  $0x6e352cc6; \
	VORR  V6.B16, V5.B16, V5.B16; \
	VAND  V22.B16, V5.B16, V5.B16; \
	VUSHR $4, V4.B16, V6.B16; \
	VTBL  V6.B16, [V17.B16], V6.B16; \
	VAND  V16.B16, V4.B16, V4.B16; \
	VTBL  V4.B16, [V18.B16], V4.B16; \
	VAND  V4.B16, V6.B16, V6.B16; \
	VUSHR $4, cur.B16, V4.B16; \
	VTBL  V4.B16, [V19.B16], V4.B16; \
	VAND  V4.B16, V6.B16, V6.B16; \
	VEOR  V5.B16, V6.B16, V6.B16; \
	VORR  V6.B16, V24.B16, V24.B16

// The two WORDs of CHECK16 are UQSUB V5.16B, V5.16B, V20.16B (prev2 minus
// 0x60, saturated) and UQSUB V6.16B, V6.16B, V21.16B (prev3 minus 0x70).

// func validUTF8NEON(p []byte) bool
//
// R0 walks p, R1 counts the bytes left and R2 keeps len(p). V25 holds the
// previous 16 bytes (zero before the start) and V24 the errors. The main
// loop takes 64 bytes at a time and skips the lookups when all 64 are
// ASCII. The last len(p)%16 bytes are checked as part of the final 16 bytes
// of p, or, when p is shorter than 16 bytes, copied to a zeroed 16-byte
// buffer on the stack.
TEXT ·validUTF8NEON(SB), NOSPLIT, $16-25
	MOVD   p_base+0(FP), R0
	MOVD   p_len+8(FP), R1
	MOVD   R1, R2
	MOVD   $utf8Tables<>(SB), R3
	VLD1.P 64(R3), [V16.B16, V17.B16, V18.B16, V19.B16]
	VLD1   (R3), [V20.B16, V21.B16, V22.B16, V23.B16]
	VEOR   V24.B16, V24.B16, V24.B16
	VEOR   V25.B16, V25.B16, V25.B16

neonLoop64:
	CMP    $64, R1
	BLT    neonBlock16
	VLD1.P 64(R0), [V0.B16, V1.B16, V2.B16, V3.B16]
	VORR   V0.B16, V1.B16, V4.B16
	VORR   V2.B16, V3.B16, V5.B16
	VORR   V4.B16, V5.B16, V4.B16
	VMOV   V4.D[0], R5
	VMOV   V4.D[1], R6
	ORR    R5, R6, R5
	TST    $0x8080808080808080, R5
	BNE    neonCheck64

	// All ASCII: only the previous block may be unfinished.
	WORD $0x6e372f27 // UQSUB V7.16B, V25.16B, V23.16B
	VORR V7.B16, V24.B16, V24.B16
	VMOV V3.B16, V25.B16
	SUB  $64, R1
	B    neonLoop64

neonCheck64:
	CHECK16(V0, V25)
	CHECK16(V1, V0)
	CHECK16(V2, V1)
	CHECK16(V3, V2)
	VMOV V3.B16, V25.B16
	SUB  $64, R1
	B    neonLoop64

neonBlock16:
	CMP    $16, R1
	BLT    neonTail
	VLD1.P 16(R0), [V0.B16]
	VMOV   V0.D[0], R5
	VMOV   V0.D[1], R6
	ORR    R5, R6, R5
	TST    $0x8080808080808080, R5
	BNE    neonCheck16
	WORD   $0x6e372f27 // UQSUB V7.16B, V25.16B, V23.16B
	VORR   V7.B16, V24.B16, V24.B16
	B      neonNext16

neonCheck16:
	CHECK16(V0, V25)

neonNext16:
	VMOV V0.B16, V25.B16
	SUB  $16, R1
	B    neonBlock16

neonTail:
	CBNZ R1, neonPartial

neonFinished:
	// All that is left to check is that the block in V25, which ends where
	// the unchecked bytes (if any) begin, is not unfinished.
	WORD $0x6e372f27 // UQSUB V7.16B, V25.16B, V23.16B
	VORR V7.B16, V24.B16, V24.B16
	B    neonDone

neonPartial:
	CMP $16, R2
	BLT neonCopy

	// Check the last 16 bytes of p again: if they are all ASCII, as for
	// the end of a block; otherwise with the three bytes before them
	// (zeros before the start of p) at the top of each word of V25.
	ADD   R1, R0, R7
	SUB   $16, R7, R7
	VLD1  (R7), [V0.B16]
	VMOV  V0.D[0], R5
	VMOV  V0.D[1], R6
	ORR   R5, R6, R5
	TST   $0x8080808080808080, R5
	BEQ   neonFinished
	CMP   $19, R2
	BLT   neonShort
	MOVWU -3(R7), R5
	LSLW  $8, R5, R5
	B     neonLast

neonShort:
	// len(p) is 17 or 18: shift p[0:4] up by 20-len(p) bytes.
	MOVD  p_base+0(FP), R8
	MOVWU (R8), R5
	MOVD  $20, R9
	SUB   R2, R9, R9
	LSL   $3, R9, R9
	LSLW  R9, R5, R5

neonLast:
	VDUP R5, V25.S4
	CHECK16(V0, V25)
	WORD $0x6e372c07 // UQSUB V7.16B, V0.16B, V23.16B
	VORR V7.B16, V24.B16, V24.B16
	B    neonDone

neonCopy:
	// Copy the R1 < 16 remaining bytes to the stack, padded with zeros.
	MOVD   $buf-16(SP), R8
	MOVD   R8, R9
	STP    (ZR, ZR), (R8)

neonCopyByte:
	CBZ     R1, neonCopied
	MOVBU.P 1(R0), R5
	MOVBU.P R5, 1(R9)
	SUB     $1, R1
	B       neonCopyByte

neonCopied:
	VLD1 (R8), [V0.B16]
	CHECK16(V0, V25)

neonDone:
	VMOV V24.D[0], R5
	VMOV V24.D[1], R6
	ORR  R5, R6, R5
	CMP  $0, R5
	CSET EQ, R5
	MOVB R5, ret+24(FP)
	RET
