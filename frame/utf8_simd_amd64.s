//go:build amd64 && !purego

#include "textflag.h"

// UTF-8 validation with PSHUFB table lookups; the method is described in
// utf8_simd.go. Each function accumulates an error vector, ORing in the
// result of every block, and reports whether it is zero at the end.
//
// The tables and their layout are in utf8_simd_tables.h; this file adds:
//
//	0x70  32 bytes: FF everywhere but the last three, which are EF, DF, BF.
//	      Subtracted with saturation from a block, it leaves a non-zero byte
//	      exactly when the block ends inside a sequence: F0..FF three bytes
//	      from the end, E0..FF two bytes from it, or C0..FF last. The SSE
//	      code uses its last 16 bytes.

#include "utf8_simd_tables.h"

DATA utf8Tables<>+0x70(SB)/8, $0xffffffffffffffff
DATA utf8Tables<>+0x78(SB)/8, $0xffffffffffffffff
DATA utf8Tables<>+0x80(SB)/8, $0xffffffffffffffff
DATA utf8Tables<>+0x88(SB)/8, $0xbfdfefffffffffff
GLOBL utf8Tables<>(SB), RODATA|NOPTR, $144

// CHECK32 ORs into Y7 the errors of the 32-byte block cur, whose preceding
// 32 bytes are in prev. Y2-Y5 are clobbered; Y9-Y15 hold the constants.
//
// VPALIGNR shifts within 128-bit lanes, so Y2 is first set to the high lane
// of prev followed by the low lane of cur; aligning cur against it gives
// prev3, prev2 and prev1 (cur shifted by 3, 2 and 1 bytes). VPSRLW shifts
// 16-bit words, so the high nibbles are masked after the shift. Y4 becomes
// 0x80 where cur must be a third or fourth byte and Y2 the AND of the three
// lookups; their XOR is the error.
#define CHECK32(cur, prev) \
	VPERM2I128 $0x21, cur, prev, Y2; \
	VPALIGNR $13, Y2, cur, Y5; \
	VPALIGNR $14, Y2, cur, Y4; \
	VPALIGNR $15, Y2, cur, Y3; \
	VPSUBUSB Y10, Y5, Y5; \
	VPSUBUSB Y11, Y4, Y4; \
	VPOR     Y5, Y4, Y4; \
	VPAND    Y9, Y4, Y4; \
	VPSRLW   $4, Y3, Y2; \
	VPAND    Y15, Y2, Y2; \
	VPSHUFB  Y2, Y14, Y2; \
	VPAND    Y15, Y3, Y3; \
	VPSHUFB  Y3, Y13, Y3; \
	VPAND    Y3, Y2, Y2; \
	VPSRLW   $4, cur, Y5; \
	VPAND    Y15, Y5, Y5; \
	VPSHUFB  Y5, Y12, Y5; \
	VPAND    Y5, Y2, Y2; \
	VPXOR    Y4, Y2, Y2; \
	VPOR     Y2, Y7, Y7

// func validUTF8AVX2(p []byte) bool
//
// SI walks p, CX counts the bytes left and DX keeps len(p). Y6 holds the
// previous 32 bytes (zero before the start) and Y7 the errors. The main loop
// takes 64 bytes at a time and skips the lookups when all 64 are ASCII. The
// last len(p)%32 bytes are checked as part of the final 32 bytes of p, or,
// when p is shorter than 32 bytes, copied to a zeroed 32-byte buffer on the
// stack; reading that buffer back stalls on store forwarding, which is why
// validUTF8 sends short inputs to utf8.Valid instead.
TEXT ·validUTF8AVX2(SB), NOSPLIT, $32-25
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), CX
	MOVQ CX, DX
	LEAQ utf8Tables<>(SB), AX
	VBROADCASTI128 0x00(AX), Y15
	VBROADCASTI128 0x10(AX), Y14
	VBROADCASTI128 0x20(AX), Y13
	VBROADCASTI128 0x30(AX), Y12
	VBROADCASTI128 0x40(AX), Y11
	VBROADCASTI128 0x50(AX), Y10
	VBROADCASTI128 0x60(AX), Y9
	VMOVDQU        0x70(AX), Y8
	VPXOR          Y7, Y7, Y7
	VPXOR          Y6, Y6, Y6

avx2Loop64:
	CMPQ      CX, $64
	JB        avx2Block32
	VMOVDQU   (SI), Y0
	VMOVDQU   32(SI), Y1
	VPOR      Y0, Y1, Y2
	VPMOVMSKB Y2, AX
	TESTL     AX, AX
	JNZ       avx2Check64

	// All ASCII: only the previous block may be unfinished.
	VPSUBUSB Y8, Y6, Y2
	VPOR     Y2, Y7, Y7
	VMOVDQA  Y1, Y6
	ADDQ     $64, SI
	SUBQ     $64, CX
	JMP      avx2Loop64

avx2Check64:
	CHECK32(Y0, Y6)
	CHECK32(Y1, Y0)
	VMOVDQA Y1, Y6
	ADDQ    $64, SI
	SUBQ    $64, CX
	JMP     avx2Loop64

avx2Block32:
	CMPQ      CX, $32
	JB        avx2Tail
	VMOVDQU   (SI), Y0
	VPMOVMSKB Y0, AX
	TESTL     AX, AX
	JNZ       avx2Check32
	VPSUBUSB  Y8, Y6, Y2
	VPOR      Y2, Y7, Y7
	JMP       avx2Next32

avx2Check32:
	CHECK32(Y0, Y6)

avx2Next32:
	VMOVDQA Y0, Y6
	ADDQ    $32, SI
	SUBQ    $32, CX

avx2Tail:
	TESTQ CX, CX
	JNZ   avx2Partial

avx2Finished:
	// All that is left to check is that the block in Y6, which ends where
	// the unchecked bytes (if any) begin, is not unfinished.
	VPSUBUSB Y8, Y6, Y2
	VPOR     Y2, Y7, Y7
	JMP      avx2Done

avx2Partial:
	CMPQ DX, $32
	JB   avx2Copy

	// Check the last 32 bytes of p again. If they are all ASCII, the
	// unchecked ones among them are fine and so is the end of p. Otherwise
	// they need the block before them, of which only its last three bytes
	// matter, the bytes 35 to 33 from the end of p, or zeros where p is
	// shorter: they go to the top of a dword, which is broadcast.
	VMOVDQU   -32(SI)(CX*1), Y0
	VPMOVMSKB Y0, AX
	TESTL     AX, AX
	JZ        avx2Finished
	CMPQ      DX, $35
	JB      avx2Short
	MOVL    -35(SI)(CX*1), AX
	SHLL    $8, AX
	JMP     avx2Last

avx2Short:
	// len(p) is 33 or 34: shift p[0:4] up by 36-len(p) bytes.
	MOVQ p_base+0(FP), BX
	MOVL (BX), AX
	MOVQ $36, CX
	SUBQ DX, CX
	SHLQ $3, CX
	SHLL CX, AX

avx2Last:
	MOVQ         AX, X6
	VPBROADCASTD X6, Y6
	CHECK32(Y0, Y6)
	VPSUBUSB     Y8, Y0, Y2
	VPOR         Y2, Y7, Y7
	JMP          avx2Done

avx2Copy:
	// Copy the CX < 32 remaining bytes to 0(SP), padded with zeros. At
	// least one zero follows them, which is enough to expose a sequence
	// left unfinished.
	VPXOR   Y0, Y0, Y0
	VMOVDQU Y0, 0(SP)
	LEAQ    0(SP), DI
	TESTQ   $16, CX
	JZ      avx2Copy8
	VMOVDQU (SI), X0
	VMOVDQU X0, (DI)
	ADDQ    $16, SI
	ADDQ    $16, DI

avx2Copy8:
	TESTQ $8, CX
	JZ    avx2Copy4
	MOVQ  (SI), AX
	MOVQ  AX, (DI)
	ADDQ  $8, SI
	ADDQ  $8, DI

avx2Copy4:
	TESTQ $4, CX
	JZ    avx2Copy2
	MOVL  (SI), AX
	MOVL  AX, (DI)
	ADDQ  $4, SI
	ADDQ  $4, DI

avx2Copy2:
	TESTQ $2, CX
	JZ    avx2Copy1
	MOVW  (SI), AX
	MOVW  AX, (DI)
	ADDQ  $2, SI
	ADDQ  $2, DI

avx2Copy1:
	TESTQ $1, CX
	JZ    avx2Copied
	MOVB  (SI), AX
	MOVB  AX, (DI)

avx2Copied:
	VMOVDQU 0(SP), Y0
	CHECK32(Y0, Y6)

avx2Done:
	VPTEST     Y7, Y7
	SETEQ      ret+24(FP)
	VZEROUPPER
	RET

// CHECK16 is CHECK32 for 16-byte blocks with SSE instructions: it ORs into
// X7 the errors of cur, whose preceding 16 bytes are in prev. X2-X5 are
// clobbered; X9-X15 hold the constants. The instructions overwrite their
// destination, hence the copies.
#define CHECK16(cur, prev) \
	MOVO    cur, X2; \
	PALIGNR $14, prev, X2; \
	PSUBUSB X11, X2; \
	MOVO    cur, X3; \
	PALIGNR $13, prev, X3; \
	PSUBUSB X10, X3; \
	POR     X3, X2; \
	PAND    X9, X2; \
	MOVO    cur, X3; \
	PALIGNR $15, prev, X3; \
	MOVO    X3, X4; \
	PSRLW   $4, X4; \
	PAND    X15, X4; \
	MOVO    X14, X5; \
	PSHUFB  X4, X5; \
	PAND    X15, X3; \
	MOVO    X13, X4; \
	PSHUFB  X3, X4; \
	PAND    X4, X5; \
	MOVO    cur, X3; \
	PSRLW   $4, X3; \
	PAND    X15, X3; \
	MOVO    X12, X4; \
	PSHUFB  X3, X4; \
	PAND    X4, X5; \
	PXOR    X2, X5; \
	POR     X5, X7

// func validUTF8SSE(p []byte) bool
//
// The same as validUTF8AVX2 with 16-byte blocks: X6 holds the previous 16
// bytes and X7 the errors, the main loop takes 64 bytes at a time, and the
// tail is checked as part of the last 16 bytes of p, or from a zeroed
// 16-byte buffer on the stack when p is shorter than 16 bytes. Only SSE2 and
// SSSE3 instructions are used.
TEXT ·validUTF8SSE(SB), NOSPLIT, $16-25
	MOVQ  p_base+0(FP), SI
	MOVQ  p_len+8(FP), CX
	MOVQ  CX, DX
	LEAQ  utf8Tables<>(SB), AX
	MOVOU 0x00(AX), X15
	MOVOU 0x10(AX), X14
	MOVOU 0x20(AX), X13
	MOVOU 0x30(AX), X12
	MOVOU 0x40(AX), X11
	MOVOU 0x50(AX), X10
	MOVOU 0x60(AX), X9
	MOVOU 0x80(AX), X8
	PXOR  X7, X7
	PXOR  X6, X6

sseLoop64:
	CMPQ     CX, $64
	JB       sseBlock16
	MOVOU    (SI), X0
	MOVOU    16(SI), X1
	MOVOU    32(SI), X2
	MOVOU    48(SI), X3
	POR      X1, X0
	POR      X3, X2
	POR      X2, X0
	PMOVMSKB X0, AX
	TESTL    AX, AX
	JNZ      sseCheck64

	// All ASCII: only the previous block may be unfinished.
	MOVO    X6, X2
	PSUBUSB X8, X2
	POR     X2, X7
	MOVO    X3, X6
	ADDQ    $64, SI
	SUBQ    $64, CX
	JMP     sseLoop64

sseCheck64:
	// The ASCII test used up the registers, so the blocks are loaded
	// again, alternately into X0 and X1; the last goes to X6 directly.
	MOVOU 0(SI), X0
	CHECK16(X0, X6)
	MOVOU 16(SI), X1
	CHECK16(X1, X0)
	MOVOU 32(SI), X0
	CHECK16(X0, X1)
	MOVOU 48(SI), X6
	CHECK16(X6, X0)
	ADDQ  $64, SI
	SUBQ  $64, CX
	JMP   sseLoop64

sseBlock16:
	CMPQ     CX, $16
	JB       sseTail
	MOVOU    (SI), X0
	PMOVMSKB X0, AX
	TESTL    AX, AX
	JNZ      sseCheck16
	MOVO     X6, X2
	PSUBUSB  X8, X2
	POR      X2, X7
	JMP      sseNext16

sseCheck16:
	CHECK16(X0, X6)

sseNext16:
	MOVO X0, X6
	ADDQ $16, SI
	SUBQ $16, CX
	JMP  sseBlock16

sseTail:
	TESTQ CX, CX
	JNZ   ssePartial

sseFinished:
	// All that is left to check is that the block in X6, which ends where
	// the unchecked bytes (if any) begin, is not unfinished.
	MOVO    X6, X2
	PSUBUSB X8, X2
	POR     X2, X7
	JMP     sseDone

ssePartial:
	CMPQ DX, $16
	JB   sseCopy

	// Check the last 16 bytes of p again: if they are all ASCII, as for
	// the end of a block; otherwise with the three bytes before them
	// (zeros before the start of p) at the top of each dword of X6.
	MOVOU    -16(SI)(CX*1), X0
	PMOVMSKB X0, AX
	TESTL    AX, AX
	JZ       sseFinished
	CMPQ     DX, $19
	JB    sseShort
	MOVL  -19(SI)(CX*1), AX
	SHLL  $8, AX
	JMP   sseLast

sseShort:
	// len(p) is 17 or 18: shift p[0:4] up by 20-len(p) bytes.
	MOVQ p_base+0(FP), BX
	MOVL (BX), AX
	MOVQ $20, CX
	SUBQ DX, CX
	SHLQ $3, CX
	SHLL CX, AX

sseLast:
	MOVQ    AX, X6
	PSHUFD  $0, X6, X6
	CHECK16(X0, X6)
	MOVO    X0, X2
	PSUBUSB X8, X2
	POR     X2, X7
	JMP     sseDone

sseCopy:
	// Copy the CX < 16 remaining bytes to 0(SP), padded with zeros.
	PXOR  X0, X0
	MOVOU X0, 0(SP)
	LEAQ  0(SP), DI
	TESTQ $8, CX
	JZ    sseCopy4
	MOVQ  (SI), AX
	MOVQ  AX, (DI)
	ADDQ  $8, SI
	ADDQ  $8, DI

sseCopy4:
	TESTQ $4, CX
	JZ    sseCopy2
	MOVL  (SI), AX
	MOVL  AX, (DI)
	ADDQ  $4, SI
	ADDQ  $4, DI

sseCopy2:
	TESTQ $2, CX
	JZ    sseCopy1
	MOVW  (SI), AX
	MOVW  AX, (DI)
	ADDQ  $2, SI
	ADDQ  $2, DI

sseCopy1:
	TESTQ $1, CX
	JZ    sseCopied
	MOVB  (SI), AX
	MOVB  AX, (DI)

sseCopied:
	MOVOU 0(SP), X0
	CHECK16(X0, X6)

sseDone:
	PXOR     X0, X0
	PCMPEQB  X7, X0
	PMOVMSKB X0, AX
	CMPL     AX, $0xffff
	SETEQ    ret+24(FP)
	RET
