// Suite "decode" of the kernel test program (harness.h).
#include "harness.h"

void suite_decode(void) {}
