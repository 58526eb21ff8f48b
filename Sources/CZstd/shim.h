#ifndef FFCOL_CZSTD_SHIM_H
#define FFCOL_CZSTD_SHIM_H
// Plain re-export of libzstd's public API; no wrappers are needed.
#include <zstd.h>
#endif
