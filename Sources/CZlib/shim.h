#ifndef FFCOL_CZLIB_SHIM_H
#define FFCOL_CZLIB_SHIM_H
// This shim exists because inflateInit2/deflateInit2 are C macros that Swift cannot call.
#include <zlib.h>

static inline int ffcol_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}

static inline int ffcol_deflateInit2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
#endif
