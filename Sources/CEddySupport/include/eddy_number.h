#ifndef EDDY_NUMBER_H
#define EDDY_NUMBER_H

#include <stdint.h>

/// What `eddy_read_short_number` found: a number's length and value, and its canonical text.
typedef struct {
    /// Its digits with the point left out, signed: the value times 10^fraction_digits
    /// (below 10^15 in magnitude, so exact as a double as well).
    int64_t value;
    /// Its bytes, the sign included; 0 when the number was left to the general reading.
    long length;
    /// Digits after the point; 0 for an integer.
    long fraction_digits;
    /// Its canonical text (all of it, less a fraction's trailing zeros after the first), at
    /// most 15 bytes: the first 8 in `text_low`, the rest in `text_high`, the first byte
    /// lowest, zero bytes past them.
    uint64_t text_low;
    uint64_t text_high;
    long text_length;
} eddy_short_number;

/// 10^k as a double for k in 0...22, all exact: an exact integer below 2^53 divided by one of
/// these is correctly rounded.
static inline double eddy_exact_power_of_ten(long k) {
    static const double powers[23] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };
    return powers[k];
}

/// The value of 8 bytes that each hold a digit's value (0...9), the first in the lowest
/// byte: neighbours joined pairwise, then in fours, then eights, by three multiplications.
static inline uint64_t eddy_eight_digit_values(uint64_t values) {
    values = (values * (1 + (10 << 8))) >> 8;
    values = ((values & 0x00FF00FF00FF00FFULL) * (1 + (100 << 16))) >> 16;
    return ((values & 0x0000FFFF0000FFFFULL) * (1 + (10000ULL << 32))) >> 32;
}

/// The high bit of each byte of `values` that is no digit's value (0...9), exactly (no carry
/// crosses bytes).
static inline uint64_t eddy_no_digit_bytes(uint64_t values) {
    return (((values & 0x7F7F7F7F7F7F7F7FULL) + 0x7676767676767676ULL) | values) & 0x8080808080808080ULL;
}

/// Reads the JSON number that starts at `address` (`available` bytes on, at least 1) when it
/// is a short plain one, as nearly every number of a stream is: an optional minus, then
/// either integer digits (no leading zeros) with an optional point and fraction digits, all
/// within 7 bytes (a fraction with a zero integer part only when one of its first four
/// digits is not zero), or an integer of 8 digits or more, at most 15 bytes with its sign
/// (an epoch time). Anything else (exponents, longer numbers, `-0`, fewer than 8 bytes after
/// the sign before the record's end) gives length 0, left to the general reading, which then
/// also rejects what is no number (`01`, `1.`, `-`). Like `NumberText.shapePrefix`, it reads
/// the longest number at the start: the caller checks that what follows is no part of one
/// (`1.5e3`, `12-`).
///
/// What it reads, `NumberText.value` reads alike: the same value, text, double and integer
/// (`shortNumbersReadAsTheGeneralReadingDoes` checks it against the general reading).
///
/// Without a loop: the general reading's per-byte loops exit at a place that depends on each
/// number, a branch the predictor misses often. The 8 bytes after the sign are classified at
/// once; the first one that is no digit ends the integer part and, when it is the point, the
/// next such byte the fraction. The digits, the point taken out, are shifted to the top of the
/// word (zero digits below) and converted with three multiplications; an integer whose
/// digits fill the word continues in the next 8 bytes, converted the same way.
///
/// Always inlined: called from two copies of the JSON scanner's loop, it was left a call
/// that returned its result through memory.
__attribute__((always_inline))
static inline eddy_short_number eddy_read_short_number(const void *address, long available) {
    const eddy_short_number none = {0, 0, 0, 0, 0, 0};
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const unsigned char *start = (const unsigned char *)address;
    long sign = start[0] == '-';
    long room = available - sign;
    if (room < 8) return none;
    const uint64_t zeros = 0x3030303030303030ULL;
    uint64_t low, high;
    __builtin_memcpy(&low, start + sign, 8);
    // Digit values, and the bytes that are none (the point, the separator after the number).
    uint64_t values = low ^ zeros;
    uint64_t stops = eddy_no_digit_bytes(values);
    long leadingZero = (values & 0xFF) == 0;
    // Every field is set on both paths below, and the result built once from them: a field
    // left as it was on one path kept the whole result in memory.
    uint64_t magnitude, textLow, textHigh;
    long length, fractionDigits, textLength;
    // Positions are in bits, 8 a byte: `integerBits` is 8 times the integer digits.
    if (stops != 0) {
        long integerBits = __builtin_ctzll(stops) - 7;
        long point = ((values >> integerBits) & 0xFF) == ('.' ^ '0');
        // `-0` is left too (its text drops the sign), and so is a leading zero before digits.
        if (integerBits == 0 || (leadingZero && (integerBits > 8 || (sign && !point)))) return none;
        long endBits = integerBits, dropped = 0;
        fractionDigits = 0;
        if (point) {
            // The fraction ends at the stop after the point, the lowest one left once the
            // point's is cleared.
            uint64_t after = stops & (stops - 1);
            if (after == 0) return none;  // the number goes on past the word
            endBits = __builtin_ctzll(after) - 7;
            if (endBits == integerBits + 8) return none;  // `1.` and no digit
            // The fraction moves down a byte over the point.
            uint64_t keep = (1ULL << integerBits) - 1;
            values = (values & keep) | ((values >> 8) & ~keep);
            endBits -= 8;
            fractionDigits = (endBits - integerBits) >> 3;
        }
        // All the digits to the top of the word, zero digits below.
        values <<= 64 - endBits;
        magnitude = eddy_eight_digit_values(values);
        if (point) {
            // 0.0 and 0.0000x and below have a text of their own (an exponent past four
            // zeros); at most 5 fraction digits follow "0." within the word.
            static const uint64_t least[6] = {1, 1, 1, 1, 1, 10};
            if (leadingZero && magnitude < least[fractionDigits]) return none;
            // The fraction's trailing zeros, but its first digit, are the zero bytes at the top.
            long trailingZeros = __builtin_clzll(values) >> 3;
            dropped = trailingZeros < fractionDigits - 1 ? trailingZeros : fractionDigits - 1;
        }
        length = sign + (endBits >> 3) + point;
        textLength = length - dropped;
        // The text is the number's first bytes, at most 8 (two shifts: none is 64 bits).
        __builtin_memcpy(&textLow, start, 8);
        textLow &= ~((~0ULL << (8 * textLength - 1)) << 1);
        textHigh = 0;
    } else {
        // 8 digits and more: an integer, ending in the next 8 bytes. Past `available` they
        // are zero bytes (which end the number as the record's end does), shifted in rather
        // than read.
        if (leadingZero || room < 9) return none;
        long highOffset = room < 16 ? room - 8 : 8;
        __builtin_memcpy(&high, start + sign + highOffset, 8);
        uint64_t highValues = (high >> (8 * (8 - highOffset))) ^ zeros;
        uint64_t highStops = eddy_no_digit_bytes(highValues);
        if (highStops == 0) return none;
        long moreBits = __builtin_ctzll(highStops) - 7;
        length = sign + 8 + (moreBits >> 3);
        if (length > 15) return none;  // the text is at most 15 bytes
        static const uint64_t scale[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
        // The further digits at the top of the word (two shifts: none is 64 bits).
        uint64_t tail = (highValues << (56 - moreBits)) << 8;
        magnitude = eddy_eight_digit_values(values) * scale[moreBits >> 3] + eddy_eight_digit_values(tail);
        fractionDigits = 0;
        // The text is the number: its first 8 bytes and the rest.
        textLength = length;
        __builtin_memcpy(&textLow, start, 8);
        __builtin_memcpy(&textHigh, start + length - 8, 8);
        textHigh = (textHigh >> (8 * (15 - length))) >> 8;
    }
    eddy_short_number number = {
        sign ? -(int64_t)magnitude : (int64_t)magnitude, length, fractionDigits, textLow, textHigh, textLength,
    };
    return number;
#else
    (void)address;
    (void)available;
    return none;
#endif
}
#endif
