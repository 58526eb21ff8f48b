#ifndef FFCOL_CISAL_SHIM_H
#define FFCOL_CISAL_SHIM_H
// Plain re-export of ISA-L's streaming inflate (igzip); no wrappers are needed.
#include <isa-l/igzip_lib.h>
#endif
