// Suite "elementwise" of the kernel test program (harness.h).
#include "harness.h"

void suite_elementwise(void) {}
