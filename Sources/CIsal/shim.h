#ifndef FFCOL_CISAL_SHIM_H
#define FFCOL_CISAL_SHIM_H
// Plain re-export of ISA-L's streaming inflate (igzip) and CRC-32; no wrappers are needed.
#include <isa-l/igzip_lib.h>
#include <isa-l/crc.h>
#endif
