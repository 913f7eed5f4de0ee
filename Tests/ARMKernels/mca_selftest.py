#!/usr/bin/env python3
"""Self-test of mca_loops.py (the loop cutter behind Tests/ARMKernels/mca.sh) on small hand-written
AArch64 assembly: clang's loop annotations, an inline-asm loop with numeric labels and `.inst`
words, marker selection, and the nested-loop composition. Needs llvm-mc-16 and llvm-mca-16.

  python3 Tests/ARMKernels/mca_selftest.py        # exit 0 when every check passes
"""
import io
import json
import os
import subprocess
import sys
import tempfile
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mca_loops  # noqa: E402

# A function shaped like clang's output: an outer loop (BB0_2) holding an inner loop (BB0_3) with
# 2 SDOTs and a marker, and after it an inline-asm loop (label 3, renamed .Ltmp0 as clang does)
# whose SDOT is spelled as an .inst word (sdot v10.4s, v12.16b, v31.4b[0]).
ASM = """\
\t.text
\t.globl\tkernel
\t.type\tkernel,@function
kernel:
// %bb.0:
\tmov\tw8, wzr
.LBB0_2:                                // =>This Loop Header: Depth=1
                                        //     Child Loop BB0_3 Depth 2
\tadd\tx9, x0, #16
\tmov\tw10, #4
.LBB0_3:                                //   Parent Loop BB0_2 Depth=1
                                        // =>  This Inner Loop Header: Depth=2
\t//APP
\t// LLVM-MCA-BEGIN inner
\t//NO_APP
\tldr\tq0, [x9], #16
\tsdot\tv1.4s, v0.16b, v2.16b
\tsdot\tv3.4s, v0.16b, v2.16b
\tsubs\tw10, w10, #1
\t//APP
\t// LLVM-MCA-END inner
\t//NO_APP
\tb.ne\t.LBB0_3
// %bb.4:                               //   in Loop: Header=BB0_2 Depth=1
\tfmla\tv4.4s, v1.4s, v5.4s
\tadd\tw8, w8, #1
\tcmp\tw8, w1
\tb.lt\t.LBB0_2
// %bb.5:
\t//APP
\tmov x11, #8
.Ltmp0:
\tldr q31, [x2], #16
\t.inst\t0x4f9fe18a
\tsubs x11, x11, #1
\tb.ne .Ltmp0
\t//NO_APP
\tret
.Lfunc_end0:
"""

failures = []


def check(what, ok, detail=""):
    print(("ok    " if ok else "FAIL  ") + what + (("  (" + detail + ")") if detail and not ok else ""))
    if not ok:
        failures.append(what)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "k.s")
        with open(path, "w") as f:
            f.write(ASM)
        fns = mca_loops.parse(path)
        check("one function parsed", [f.name for f in fns] == ["kernel"], str([f.name for f in fns]))
        fn = fns[0]
        check(".inst word decoded by llvm-mc", "sdot v10.4s, v12.16b, v31.4b[0]" in fn.insts,
              str([t for t in fn.insts if "v31" in t]))
        loops = mca_loops.loops(fn)
        names = sorted(l.name for l in loops)
        check("three loops: two from clang's annotations, one inline-asm", len(loops) == 3 and
              "BB0_2" in names and "BB0_3" in names and any(n.startswith("asm@") for n in names), str(names))
        outer = next(l for l in loops if l.name == "BB0_2")
        inner = next(l for l in loops if l.name == "BB0_3")
        asm = next(l for l in loops if l.name.startswith("asm@"))
        check("the inner loop's parent is the outer loop", inner.parent is outer)
        check("the inner loop: ldr, 2 sdot, subs, b.ne", len(inner.indices) == 5, str(len(inner.indices)))
        check("the outer loop's own instructions exclude the inner loop",
              len(mca_loops.own_indices(outer)) == 6, str(len(mca_loops.own_indices(outer))))
        check("the inline-asm loop: ldr, sdot, subs, b.ne", len(asm.indices) == 4 and asm.parent is None,
              str(len(asm.indices)))
        f2, sel = mca_loops.select(fns, "marker:inner")
        check("marker:inner selects the inner loop", sel.name == "BB0_3", sel.name)
        f2, sel = mca_loops.select(fns, "marker:inner^1")
        check("marker:inner^1 selects its parent", sel.name == "BB0_2", sel.name)
        f2, sel = mca_loops.select(fns, "func:kernel:hot")
        check("func:kernel:hot: the innermost loop with the most dot instructions", sel.name == "BB0_3", sel.name)

        # Composition: cycles(outer, trips 4) = own(outer) + 4 x inner, each from llvm-mca directly.
        out = io.StringIO()
        with redirect_stdout(out):
            mca_loops.measure(path, "marker:inner^1", "4", ["cortex-a57"], "+dotprod", os.path.join(tmp, "m"))
        r = json.loads(out.getvalue().splitlines()[0])
        def direct(insts):
            p = os.path.join(tmp, "d.s")
            mca_loops.write_block(p, insts)
            rep = mca_loops.run_mca(p, "cortex-a57", "+dotprod", 200, os.path.join(tmp, "d.txt"))
            return rep["total_cycles"] / rep["iterations"]
        own = direct([fn.insts[i] for i in mca_loops.own_indices(outer)])
        kid = direct([fn.insts[i] for i in inner.indices])
        check("composed cycles = own + 4 x inner", abs(r["cycles_per_iter"] - (own + 4 * kid)) < 1e-6,
              "%s vs %s" % (r["cycles_per_iter"], own + 4 * kid))
        check("dot MACs counted through the trip count (4 x 2 SDOT x 16)", r["dot_macs_per_iter"] == 128,
              str(r["dot_macs_per_iter"]))
        err = io.StringIO()
        try:
            with redirect_stdout(err):
                mca_loops.measure(path, "marker:inner^1", "-", ["cortex-a57"], "+dotprod", os.path.join(tmp, "n"))
            check("a missing trip count is refused", False)
        except SystemExit as e:
            check("a missing trip count is refused", "1 nested loops" in str(e), str(e))
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
