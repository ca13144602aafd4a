// Tables shared by the UTF-8 validation kernels of utf8_simd_amd64.s and
// utf8_simd_arm64.s, which #include this file and add their own block-end
// thresholds at offset 0x70. The method is described in utf8_simd.go.
//
// Error classes, one bit each, for a pair of bytes (prev1, cur):
//
//	0x01  lead byte C0..FF followed by 00..7F or C0..FF (sequence too short)
//	0x02  00..7F followed by a continuation byte 80..BF (too long)
//	0x04  E0 followed by 80..9F (overlong 3-byte form)
//	0x08  F4..FF followed by 90..BF (above U+10FFFF)
//	0x10  ED followed by A0..BF (surrogate)
//	0x20  C0 or C1 followed by 80..BF (overlong 2-byte form)
//	0x40  F0 followed by 80..8F (overlong 4-byte form), or F5..FF followed
//	      by 80..8F (above U+10FFFF)
//	0x80  80..BF followed by 80..BF (allowed only for the third and fourth
//	      byte of a sequence, see CHECK32 and CHECK16)
//
// The three tables hold, for each nibble value, the classes that nibble
// allows: a class is reported when the high nibble of prev1, the low nibble
// of prev1 and the high nibble of cur all allow it.
//
// Offsets into utf8Tables:
//
//	0x00  0x0F in every byte, to isolate a nibble
//	0x10  classes by high nibble of prev1:
//	      0-7: 0x02; 8-B: 0x80; C: 0x21; D: 0x01; E: 0x15; F: 0x49
//	0x20  classes by low nibble of prev1: 0x83 (the classes that do not
//	      depend on it) in all, plus 0: 0x64; 1: 0x20; 4: 0x08;
//	      5-C, E, F: 0x48; D: 0x58
//	0x30  classes by high nibble of cur:
//	      0-7: 0x01; 8: 0xE6; 9: 0xAE; A, B: 0xBA; C-F: 0x01
//	0x40  0x60 = 0xE0-0x80 in every byte: a byte minus this, saturated, has
//	      its high bit set exactly when the byte is E0..FF
//	0x50  0x70 = 0xF0-0x80 likewise for F0..FF
//	0x60  0x80 in every byte
//	0x70  block-end thresholds, defined by each architecture's file

DATA utf8Tables<>+0x00(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA utf8Tables<>+0x08(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA utf8Tables<>+0x10(SB)/8, $0x0202020202020202
DATA utf8Tables<>+0x18(SB)/8, $0x4915012180808080
DATA utf8Tables<>+0x20(SB)/8, $0xcbcbcb8b8383a3e7
DATA utf8Tables<>+0x28(SB)/8, $0xcbcbdbcbcbcbcbcb
DATA utf8Tables<>+0x30(SB)/8, $0x0101010101010101
DATA utf8Tables<>+0x38(SB)/8, $0x01010101babaaee6
DATA utf8Tables<>+0x40(SB)/8, $0x6060606060606060
DATA utf8Tables<>+0x48(SB)/8, $0x6060606060606060
DATA utf8Tables<>+0x50(SB)/8, $0x7070707070707070
DATA utf8Tables<>+0x58(SB)/8, $0x7070707070707070
DATA utf8Tables<>+0x60(SB)/8, $0x8080808080808080
DATA utf8Tables<>+0x68(SB)/8, $0x8080808080808080
