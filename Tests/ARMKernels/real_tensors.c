// Real tensors of a converted model (harness.h, `--real DIR`): not yet written.
#include "harness.h"

int run_real_tensors(const char *dir, const char *out_dir) {
    (void)out_dir;
    fprintf(stderr, "--real %s: not implemented yet\n", dir);
    return 1;
}
