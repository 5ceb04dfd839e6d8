/* text/bytes_unicode.c: GPT-2's bytes_to_unicode, by arithmetic rather than a table.
 *
 * GPT-2 shows every byte as a printable character so that a token is a readable string: the 188
 * bytes that are printable Latin-1 ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) stand for
 * themselves; the 68 others (0x00..0x20, 0x7F..0xA0, 0xAD) become U+0100, U+0101, ... in byte
 * order. So the space 0x20 (the 33rd non-printable byte) is U+0120 'Ġ' and '\n' is U+010A 'Ċ'. */
#include "text/text_internal.h"

/* The 188 bytes GPT-2 shows as themselves. */
static int printable(int b) {
    return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

int32_t text_byte_to_char(unsigned char b) {
    if (printable(b)) return b;
    if (b <= 0x20) return 0x100 + b;                            /* ranks 0..32 */
    if (b >= 0x7f && b <= 0xa0) return 0x100 + 33 + (b - 0x7f); /* ranks 33..66 */
    return 0x100 + 67;                                          /* 0xad */
}

int text_char_to_byte(int32_t cp) {
    if (cp >= 0 && cp < 0x100) return printable(cp) ? cp : -1;
    int32_t rank = cp - 0x100;
    if (rank < 0 || rank > 67) return -1;
    if (rank <= 32) return rank;
    if (rank <= 66) return 0x7f + (rank - 33);
    return 0xad;
}

int text_byte_to_utf8(unsigned char b, char *out) {
    return text_utf8_encode(text_byte_to_char(b), (unsigned char *)out);
}
