#ifndef FFCOL_KERNELS_H
#define FFCOL_KERNELS_H
// Small data-parallel loops of the reader and the parser that Swift's auto-vectoriser handles poorly, as
// static inline C (no library to build or link: Swift inlines them). Each has a portable C
// version; on x86-64 an SSE2 one (SSE2 is part of the x86-64 base).
//
// Every pointer must cover n elements (the caller's bounds check); loads and stores are
// unaligned. Swift's -sanitize=address does not instrument these functions (they are compiled
// by the Clang importer), so AddressSanitizer and the fuzzers check only their callers' bounds;
// KernelTests checks the functions against the scalar definition. SwiftPM does not rebuild the Swift files that import this header when only the
// header changes: touch them (Sources/FFCol/Codec.swift) after editing it.
#include <stddef.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Byte planes of width 2 to values: t[i] = b0[i] | b1[i] << 8 for i < n.
static inline void ffcol_gather_planes2(const uint8_t *b0, const uint8_t *b1, uint32_t *t, size_t n) {
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(b0 + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(b1 + i));
        __m128i lo = _mm_unpacklo_epi8(a, b);  // rows 0-7 as 16-bit values
        __m128i hi = _mm_unpackhi_epi8(a, b);  // rows 8-15
        _mm_storeu_si128((__m128i *)(t + i), _mm_unpacklo_epi16(lo, zero));
        _mm_storeu_si128((__m128i *)(t + i + 4), _mm_unpackhi_epi16(lo, zero));
        _mm_storeu_si128((__m128i *)(t + i + 8), _mm_unpacklo_epi16(hi, zero));
        _mm_storeu_si128((__m128i *)(t + i + 12), _mm_unpackhi_epi16(hi, zero));
    }
#endif
    for (; i < n; i++) t[i] = (uint32_t)b0[i] | (uint32_t)b1[i] << 8;
}

/// Byte planes of width 4 to values: t[i] = b0[i] | b1[i] << 8 | b2[i] << 16 | b3[i] << 24
/// for i < n.
static inline void ffcol_gather_planes4(const uint8_t *b0, const uint8_t *b1, const uint8_t *b2,
                                        const uint8_t *b3, uint32_t *t, size_t n) {
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(b0 + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(b1 + i));
        __m128i c = _mm_loadu_si128((const __m128i *)(b2 + i));
        __m128i d = _mm_loadu_si128((const __m128i *)(b3 + i));
        __m128i ablo = _mm_unpacklo_epi8(a, b), abhi = _mm_unpackhi_epi8(a, b);  // low 16 bits
        __m128i cdlo = _mm_unpacklo_epi8(c, d), cdhi = _mm_unpackhi_epi8(c, d);  // high 16 bits
        _mm_storeu_si128((__m128i *)(t + i), _mm_unpacklo_epi16(ablo, cdlo));
        _mm_storeu_si128((__m128i *)(t + i + 4), _mm_unpackhi_epi16(ablo, cdlo));
        _mm_storeu_si128((__m128i *)(t + i + 8), _mm_unpacklo_epi16(abhi, cdhi));
        _mm_storeu_si128((__m128i *)(t + i + 12), _mm_unpackhi_epi16(abhi, cdhi));
    }
#endif
    for (; i < n; i++) {
        t[i] = (uint32_t)b0[i] | (uint32_t)b1[i] << 8 | (uint32_t)b2[i] << 16 | (uint32_t)b3[i] << 24;
    }
}

/// The 32 bytes at p: bit i of the result is set when byte i is a comma, LF or CR, and bit i
/// of *unprintable when byte i is outside printable ASCII (0x20...0x7E). p must cover 32 bytes.
static inline uint32_t ffcol_delimiters32(const uint8_t *p, uint32_t *unprintable) {
#if defined(__SSE2__)
    const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7F);
    uint32_t d = 0, u = 0;
    for (int h = 0; h < 2; h++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(p + 16 * h));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, comma), _mm_cmpeq_epi8(x, lf)), _mm_cmpeq_epi8(x, cr));
        // Signed compare: bytes 0x80-0xFF are negative, so below 0x20 as well.
        __m128i bad = _mm_or_si128(_mm_cmplt_epi8(x, space), _mm_cmpeq_epi8(x, del));
        d |= (uint32_t)_mm_movemask_epi8(hit) << (16 * h);
        u |= (uint32_t)_mm_movemask_epi8(bad) << (16 * h);
    }
    *unprintable = u;
    return d;
#else
    uint32_t d = 0, u = 0;
    for (int i = 0; i < 32; i++) {
        uint8_t b = p[i];
        if (b == ',' || b == '\n' || b == '\r') d |= (uint32_t)1 << i;
        if (b < 0x20 || b > 0x7E) u |= (uint32_t)1 << i;
    }
    *unprintable = u;
    return d;
#endif
}

/// Bit i of the result is set when a[i] == b[i], for i < 32. a and b must cover 32 bytes (they
/// may overlap).
static inline uint32_t ffcol_equal32(const uint8_t *a, const uint8_t *b) {
#if defined(__SSE2__)
    uint32_t e = 0;
    for (int h = 0; h < 2; h++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(a + 16 * h)), y = _mm_loadu_si128((const __m128i *)(b + 16 * h));
        e |= (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) << (16 * h);
    }
    return e;
#else
    uint32_t e = 0;
    for (int i = 0; i < 32; i++) if (a[i] == b[i]) e |= (uint32_t)1 << i;
    return e;
#endif
}

#endif
