#ifndef CMVLM_ZSTD_SHIM_H
#define CMVLM_ZSTD_SHIM_H
#include <zstd.h>
#endif
