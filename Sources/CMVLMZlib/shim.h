#ifndef CMVLM_ZLIB_SHIM_H
#define CMVLM_ZLIB_SHIM_H
#include <zlib.h>
#endif
