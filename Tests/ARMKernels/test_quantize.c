// Suite "quantize" of the kernel test program (harness.h).
#include "harness.h"

void suite_quantize(void) {}
