#ifndef EDDY_SUPPORT_H
#define EDDY_SUPPORT_H

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Asks the CPU to start loading the cache line at `address` for a later write. Swift has
/// no prefetch intrinsic; the runtime prefetches a batch's key-table entries and feature
/// states before using them, so that the cache misses of many keys overlap.
static inline void eddy_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// KeyGroups.stableHash (64-bit FNV-1a, then MurmurHash3's fmix64) of the `count` bytes at
/// `bytes`, for a count of at most 15 (an inline text's). The same steps byte by byte, in
/// runs of 8, 4, 2 and 1 bytes as the count's bits say, each unrolled: three instructions
/// a byte, where a loop of eight-byte rounds, a byte loop for the rest and its exit took
/// ~15 more a key of 9 bytes. In C, always inlined: written in Swift, it made the key-hash
/// functions around it too large for the optimizer to inline them into the read loop.
__attribute__((always_inline))
static inline uint64_t eddy_stable_hash_short(const unsigned char *p, long count) {
    const uint64_t prime = 0x00000100000001b3ULL;
    uint64_t hash = 0xcbf29ce484222325ULL;
#define EDDY_FNV_STEP(k) hash = (hash ^ p[k]) * prime
    if (count & 8) {
        EDDY_FNV_STEP(0); EDDY_FNV_STEP(1); EDDY_FNV_STEP(2); EDDY_FNV_STEP(3);
        EDDY_FNV_STEP(4); EDDY_FNV_STEP(5); EDDY_FNV_STEP(6); EDDY_FNV_STEP(7);
        p += 8;
    }
    if (count & 4) {
        EDDY_FNV_STEP(0); EDDY_FNV_STEP(1); EDDY_FNV_STEP(2); EDDY_FNV_STEP(3);
        p += 4;
    }
    if (count & 2) {
        EDDY_FNV_STEP(0); EDDY_FNV_STEP(1);
        p += 2;
    }
    if (count & 1) {
        EDDY_FNV_STEP(0);
    }
#undef EDDY_FNV_STEP
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 33;
    hash *= 0xc4ceb9fe1a85ec53ULL;
    hash ^= hash >> 33;
    return hash;
}

/// 10^k for k in 0...19, from a constant table. Swift has no constant arrays (a global array
/// is initialised lazily, a check on every use), and its switch over k compiled to an
/// indirect jump that was mispredicted for about every other number written.
static inline uint64_t eddy_power_of_ten(long k) {
    static const uint64_t powers[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
        1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
        100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
        1000000000000000000ULL, 10000000000000000000ULL,
    };
    return powers[k];
}

/// The 8 bytes at `address`, at any alignment. Swift's `loadUnaligned` is a generic
/// function the optimizer inlines only within its budget: large callers (the JSON scanner's
/// `scanLaidOut`) were left calling it for every text built, and spilled registers around
/// the call (~29 instructions an event on the card job).
static inline uint64_t eddy_load_unaligned_64(const void *address) {
    uint64_t value;
    __builtin_memcpy(&value, address, sizeof value);
    return value;
}

/// The 4 bytes at `address`, at any alignment (see `eddy_load_unaligned_64`).
static inline uint32_t eddy_load_unaligned_32(const void *address) {
    uint32_t value;
    __builtin_memcpy(&value, address, sizeof value);
    return value;
}

/// Stores the 4 bytes of `value` at `address`, at any alignment (a number's fraction digits,
/// built as one word): inlined everywhere, as `eddy_load_unaligned_64` is.
static inline void eddy_store_32(void *address, uint32_t value) {
    __builtin_memcpy(address, &value, sizeof value);
}

/// Stores the 8 bytes of `value` at `address`, at any alignment (eight digits of a number).
static inline void eddy_store_64(void *address, uint64_t value) {
    __builtin_memcpy(address, &value, sizeof value);
}

/// Whether the bytes at `address` are the ones at `expected` where `bits` has a bit (bit k
/// for byte k; 16 bytes are read at each). SSE2 compares the 16 bytes at once and the bits
/// pick the ones that count: 6 instructions, where two words masked and compared took 10
/// (the JSON scanner matches a member layout's gap so, five times a record).
static inline _Bool eddy_same_prefix_16(const void *address, const void *expected, uint32_t bits) {
#if defined(__SSE2__)
    __m128i same = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)address), _mm_loadu_si128((const __m128i *)expected));
    return (~(uint32_t)_mm_movemask_epi8(same) & bits) == 0;
#else
    const unsigned char *a = (const unsigned char *)address, *b = (const unsigned char *)expected;
    for (int k = 0; k < 16; k++) {
        if (((bits >> k) & 1) && a[k] != b[k]) return 0;
    }
    return 1;
#endif
}

/// A JSON string of at most 15 bytes, quotes included, with no escape, control character or
/// non-ASCII byte: its bytes as an inline text's two words (the first byte lowest, zero bytes
/// past them) and its length; length 0 for any other string.
typedef struct {
    uint64_t low;
    uint64_t high;
    long length;
} eddy_short_string;

/// Reads the short plain string whose opening quote is at `address`, where 16 bytes can be
/// read (see `eddy_short_string`). The 16 bytes loaded to find the closing quote are the
/// text's words too, masked to its length without a branch on it: read from memory again
/// per length, they cost ~10 instructions a string more in the JSON scanner.
static inline eddy_short_string eddy_read_short_string(const void *address) {
    eddy_short_string none = {0, 0, 0};
#if defined(__SSE2__)
    __m128i bytes = _mm_loadu_si128((const __m128i *)address);
    __m128i quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'));
    __m128i backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'));
    // As signed bytes, control characters (0x00-0x1F) and non-ASCII bytes (0x80-0xFF) are
    // exactly the ones below 0x20.
    __m128i below = _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20));
    unsigned quotes = (unsigned)_mm_movemask_epi8(quote);
    // The stops in bytes 1-14: the opening quote (byte 0) stops nothing, and a closing one
    // past byte 14 ends a text too long to be inline.
    unsigned stops = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), below)) & 0x7FFEu;
    // The first of them (none when there is none) must be a quote.
    unsigned first = stops & (0u - stops);
    if (!(first & quotes)) return none;
    long length = (long)__builtin_ctz(first) + 1;
    // 16 bytes of 0xFF then 16 zero bytes: loaded from 16 - length on, a mask of `length` bytes.
    static const unsigned char masks[32] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    };
    __m128i kept = _mm_and_si128(bytes, _mm_loadu_si128((const __m128i *)(masks + 16 - length)));
    eddy_short_string text = {
        (uint64_t)_mm_cvtsi128_si64(kept), (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(kept, kept)), length,
    };
    return text;
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const unsigned char *p = (const unsigned char *)address;
    for (long k = 1; k < 15; k++) {
        unsigned char b = p[k];
        if (b == '"') {
            uint64_t words[2] = {0, 0};
            __builtin_memcpy(words, p, (unsigned long)k + 1);
            eddy_short_string text = {words[0], words[1], k + 1};
            return text;
        }
        if (b == '\\' || b < 0x20 || b >= 0x80) return none;
    }
    return none;
#else
    (void)address;
    return none;
#endif
}

/// Swaps two paths atomically (Linux `renameat2` with `RENAME_EXCHANGE`, which needs
/// `_GNU_SOURCE`, so it is called from C): 0 on success, -1 with errno set.
int eddy_exchange_paths(const char *first, const char *second);

/// Anonymous private memory of `bytes` (page-aligned, zero-filled, mapped on first touch),
/// or NULL. Grown with `eddy_grow_mapping`: Linux `mremap` moves the pages themselves
/// instead of copying their bytes (it needs `_GNU_SOURCE`, so it is called from C), so a
/// table that doubles never holds its old and new copies at once; NULL when it fails (as
/// on a range that is not one whole mapping).
#include <stddef.h>
void *eddy_map_memory(size_t bytes);
void *eddy_grow_mapping(void *memory, size_t bytes, size_t newBytes);
void eddy_unmap_memory(void *memory, size_t bytes);

/// Continues a CRC-32C over `count` bytes: `state` is the running value before the final
/// inversion (start from 0xFFFFFFFF, invert at the end). Uses the SSE 4.2 instruction when
/// the CPU has it (checkpoints checksum every state file), a table otherwise.
#include <stddef.h>
#include <stdint.h>
uint32_t eddy_crc32c_update(uint32_t state, const void *bytes, size_t count);

/// SIGINT and SIGTERM only record the signal (a handler may do nothing else safely); the
/// run polls `eddy_stop_signal()` between records, takes a checkpoint and exits.
void eddy_install_stop_handlers(void);
/// The stop signal received, or 0.
int eddy_stop_signal(void);

#endif
