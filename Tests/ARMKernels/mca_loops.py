#!/usr/bin/env python3
"""Loop extraction and llvm-mca bookkeeping for Tests/ARMKernels/mca.sh (see docs/arm.md).

Subcommands (all read AArch64 assembly written by `clang -S`):

  list   ASM [FUNC]            print every function's loops (nesting, size, dot instructions, markers)
  cut    ASM SELECTOR OUT_DIR  write the selected loop as OUT_DIR/own.s (its instructions with the
                               child loops cut out) and OUT_DIR/child<N>.s (each direct child loop),
                               and OUT_DIR/loop.json (counts, markers, the child list)
  measure ASM SELECTOR TRIPS CPUS MATTR OUT_DIR
                               llvm-mca the selected loop on each CPU model (comma list) and print
                               one JSON line per model: cycles per iteration, composed over nested
                               loops with TRIPS (comma list, `-` for none; see measure())
  parse  MCA_OUTPUT            print one JSON line from an llvm-mca report: iterations, total cycles,
                               block reciprocal throughput, the busiest resource and its pressure

A loop is found from the branches alone: a branch whose target label comes before it is a back
edge, and the loop is every instruction from the label to the last back edge to it (clang lays a
loop's blocks out contiguously; inline-asm loops with numeric labels, `3:` ... `b.ne 3b`, are found
the same way). SELECTOR is either
  marker:NAME[^K]         (^K: the K-th loop enclosing it) the innermost loop holding both the `# LLVM-MCA-BEGIN NAME` and the next
                          `# LLVM-MCA-END` comment (or, if the markers bracket whole loops, the
                          outermost loop between them), in whichever function holds the marker;
  func:NAME:hot           in function NAME, the innermost loop with the most dot-product
                          instructions (sdot/udot/usdot/smmla/ummla/usmmla; fmla for float kernels
                          when no dot product exists);
  func:NAME:hot^K         the K-th enclosing loop of that one (hot^1 = its parent, which then has
                          the hot loop as a child).
`.inst 0x...` words (llama.cpp's inline asm spells sdot/smmla that way for old assemblers) are
decoded with llvm-mc so that llvm-mca sees the real instructions.
"""
import json
import os
import re
import subprocess
import sys

DOT_OPS = ("sdot", "udot", "usdot", "sudot", "smmla", "ummla", "usmmla", "bfmmla", "bfdot")
BRANCH_OPS = ("b", "cbz", "cbnz", "tbz", "tbnz")
LABEL_RE = re.compile(r"^\s*([.$\w]+|\d+):(.*)$")
MARK_BEGIN = re.compile(r"LLVM-MCA-BEGIN\s*([\w.\-]*)")
MARK_END = re.compile(r"LLVM-MCA-END")


def llvm_mc():
    return os.environ.get("LLVM_MC", "llvm-mc-16")


def decode_inst_words(words):
    """Decodes `.inst` words with llvm-mc's disassembler; returns {word: 'mnemonic operands'}."""
    if not words:
        return {}
    words = sorted(set(words))
    text = "\n".join(" ".join("0x%02x" % ((w >> (8 * k)) & 0xFF) for k in range(4)) for w in words)
    out = subprocess.run(
        [llvm_mc(), "--disassemble", "-triple=aarch64", "-mattr=+v8.6a,+dotprod,+i8mm,+fullfp16,+bf16"],
        input=text, capture_output=True, text=True, check=True).stdout
    lines = [ln.strip() for ln in out.splitlines() if ln.strip() and not ln.strip().startswith(".")]
    if len(lines) != len(words):
        raise SystemExit("llvm-mc decoded %d of %d .inst words" % (len(lines), len(words)))
    return {w: re.sub(r"\s+", " ", ln.split("//")[0]).strip() for w, ln in zip(words, lines)}


class Function:
    def __init__(self, name):
        self.name = name
        self.insts = []      # instruction text, one per instruction
        self.labels = {}     # symbolic label -> index of the next instruction
        self.numeric = []    # (number, index) for numeric local labels, in order
        self.markers = []    # (kind, name, index): kind BEGIN/END, index of the next instruction
        self.block_loop = [] # per instruction: clang's innermost loop header (e.g. "BB7_3") or None
        self.clang_loops = {}  # header -> (depth, parent header or None)


def strip_comment(line):
    # AArch64 GNU syntax: `//` starts a comment; a line starting with `#` is a comment too.
    s = line.split("//")[0]
    if s.lstrip().startswith("#"):
        return ""
    return s


HEADER_RE = re.compile(r"This (?:Inner )?Loop Header: Depth=(\d+)")
PARENT_RE = re.compile(r"Parent Loop (BB\d+_\d+) Depth=(\d+)")
INLOOP_RE = re.compile(r"in Loop: Header=(BB\d+_\d+) Depth=(\d+)")


def parse(asm_path):
    """Splits an assembly file into functions with their instructions, labels, markers and clang's
    loop annotations (the `// in Loop: Header=...` comments clang writes on every basic block)."""
    functions = []
    current = None
    inst_words = []
    block = None        # (label or None): the basic block being read
    block_loop = None   # innermost loop header of the current block
    parents = {}
    with open(asm_path) as f:
        raw = f.read().splitlines()
    for line in raw:
        m = re.match(r"^([A-Za-z_][\w.$]*):", line)
        if m and not line.startswith(".L"):
            current = Function(m.group(1))
            functions.append(current)
            block, block_loop, parents = None, None, {}
            continue
        if current is None:
            continue
        if line.startswith(".Lfunc_end"):
            current = None
            continue
        bm = re.match(r"^\.L(BB\d+_\d+):", line) or re.match(r"^// %bb\.\d+:", line)
        if bm:
            block = bm.group(1) if bm.re.pattern.startswith("^\\.L") else None
            block_loop, parents = None, {}
        comment = line.split("//", 1)[1] if "//" in line else ""
        if bm or not strip_comment(line).strip():
            h = HEADER_RE.search(comment)
            for p, d in PARENT_RE.findall(comment):
                parents[int(d)] = p
            i = INLOOP_RE.search(comment)
            if i:
                block_loop = i.group(1)
            if h and block:
                depth = int(h.group(1))
                current.clang_loops[block] = (depth, parents.get(depth - 1))
                block_loop = block
        b = MARK_BEGIN.search(line)
        if b:
            current.markers.append(("BEGIN", b.group(1), len(current.insts)))
            continue
        if MARK_END.search(line):
            current.markers.append(("END", "", len(current.insts)))
            continue
        if bm:
            continue
        body = line
        # Labels, possibly several and possibly followed by an instruction (inline asm "3:ldr ...").
        while True:
            lm = LABEL_RE.match(strip_comment(body)) if strip_comment(body).strip() else None
            if not lm:
                break
            label = lm.group(1)
            if label.isdigit():
                current.numeric.append((int(label), len(current.insts)))
            else:
                current.labels[label] = len(current.insts)
            body = lm.group(2)
        text = strip_comment(body).strip()
        if not text or text.startswith(".") and not text.startswith(".inst"):
            continue
        text = re.sub(r"\s+", " ", text)
        if text.startswith(".inst"):
            word = int(text.split()[1].rstrip(","), 0)
            inst_words.append(word)
            text = ".inst 0x%08x" % word
        current.insts.append(text)
        current.block_loop.append(block_loop)
    decoded = decode_inst_words(inst_words)
    for fn in functions:
        fn.insts = [decoded[int(t.split()[1], 16)] if t.startswith(".inst") else t for t in fn.insts]
    return [fn for fn in functions if fn.insts]


def branch_target(fn, idx):
    """The instruction index a branch at idx jumps to, or None (not a branch / unknown target)."""
    parts = fn.insts[idx].replace(",", " ").split()
    op = parts[0].lower()
    if not (op in BRANCH_OPS or op.startswith("b.")):
        return None
    target = parts[-1]
    if target in fn.labels:
        return fn.labels[target]
    m = re.match(r"^(\d+)([bf])$", target)
    if m:
        n, direction = int(m.group(1)), m.group(2)
        if direction == "b":
            cands = [i for (k, i) in fn.numeric if k == n and i <= idx]
            return cands[-1] if cands else None
        cands = [i for (k, i) in fn.numeric if k == n and i > idx]
        return cands[0] if cands else None
    return None


class Loop:
    def __init__(self, name, indices):
        self.name = name
        self.indices = sorted(indices)   # every instruction of the loop, its child loops included
        self.parent = None
        self.children = []


def loops(fn):
    """The function's loops: clang's (from its block annotations) and inline asm's (a back edge to a
    numeric label: every instruction from the label to the last branch back to it)."""
    result = {}
    for header in fn.clang_loops:
        result[header] = Loop(header, [])
    def ancestors(h):
        while h is not None:
            yield h
            h = fn.clang_loops.get(h, (0, None))[1]
    for i, h in enumerate(fn.block_loop):
        for a in ancestors(h):
            if a in result:
                result[a].indices.append(i)
    for h, (depth, par) in fn.clang_loops.items():
        if par in result:
            result[h].parent = result[par]
    # Inline asm's local labels: numeric ones as written, or clang's renaming of them (.Ltmp<N>).
    numeric_labels = {i for (_, i) in fn.numeric}
    numeric_labels.update(i for (name, i) in fn.labels.items() if not name.startswith(".LBB"))
    ends = {}
    for j in range(len(fn.insts)):
        t = branch_target(fn, j)
        if t is not None and t <= j and t in numeric_labels:
            ends[t] = max(ends.get(t, j), j)
    asm_loops = [Loop("asm@%d" % s, range(s, e + 1)) for s, e in ends.items()]
    for l in asm_loops:
        outer = [o for o in asm_loops if o is not l and o.indices[0] <= l.indices[0] and l.indices[-1] <= o.indices[-1]]
        if outer:
            l.parent = min(outer, key=lambda o: len(o.indices))
        elif fn.block_loop[l.indices[0]] is not None:
            l.parent = result.get(fn.block_loop[l.indices[0]])
        result[l.name] = l
    for l in result.values():
        l.indices = sorted(set(l.indices))
        if l.parent is not None:
            l.parent.children.append(l)
    out = [l for l in result.values() if l.indices]
    return sorted(out, key=lambda l: (l.indices[0], -len(l.indices)))


def depth(loop):
    d = 0
    while loop.parent is not None:
        d, loop = d + 1, loop.parent
    return d


def count_dot(insts):
    n = {}
    for t in insts:
        op = t.split()[0].lower()
        if op in DOT_OPS or op in ("fmla", "fmlal", "fmlal2", "bfmlalb", "bfmlalt"):
            n[op] = n.get(op, 0) + 1
    return n


def own_indices(loop):
    kids = set()
    for k in loop.children:
        kids.update(k.indices)
    return [i for i in loop.indices if i not in kids]


def select(functions, selector):
    kind, _, rest = selector.partition(":")
    m = re.match(r"^(.*)\^(\d+)$", rest) if kind == "marker" else None
    if m:
        # marker:NAME^K: the K-th loop enclosing the marked one.
        fn, loop = select(functions, "marker:" + m.group(1))
        for _ in range(int(m.group(2))):
            loop = loop.parent
            if loop is None:
                raise SystemExit("selector %s: the marked loop has fewer enclosing loops" % selector)
        return fn, loop
    if kind == "marker":
        for fn in functions:
            for pos, (k, name, idx) in enumerate(fn.markers):
                if k != "BEGIN" or name != rest:
                    continue
                end = next((i for (kk, _, i) in fn.markers[pos + 1:] if kk == "END"), None)
                if end is None:
                    raise SystemExit("marker %s: no LLVM-MCA-END after the BEGIN in %s" % (rest, fn.name))
                all_loops = loops(fn)
                last = max(idx, end - 1)
                holding = [l for l in all_loops if idx in l.indices and last in l.indices]
                if holding:
                    return fn, min(holding, key=lambda l: len(l.indices))
                between = [l for l in all_loops if idx <= l.indices[0] and l.indices[-1] < end]
                outer = [l for l in between if l.parent not in between]
                if len(outer) == 1:
                    return fn, outer[0]
                raise SystemExit("marker %s in %s: no loop holds it and %d loops lie between BEGIN and END"
                                 % (rest, fn.name, len(outer)))
        raise SystemExit("marker %s: not found" % rest)
    if kind == "func":
        name, _, how = rest.rpartition(":")
        fn = next((f for f in functions if f.name == name), None)
        if fn is None:
            raise SystemExit("function %s: not in the assembly" % name)
        all_loops = loops(fn)
        if not all_loops:
            raise SystemExit("function %s: has no loop" % name)
        m = re.match(r"^hot(?:\^(\d+))?$", how)
        if not m:
            raise SystemExit("selector %s: expected hot or hot^K" % selector)
        innermost = [l for l in all_loops if not l.children]
        def weight(l):
            d = count_dot(fn.insts[i] for i in l.indices)
            return (sum(v for k, v in d.items() if not k.startswith("f")), sum(d.values()), -l.indices[0])
        loop = max(innermost, key=weight)
        for _ in range(int(m.group(1) or 0)):
            loop = loop.parent
            if loop is None:
                raise SystemExit("selector %s: the hot loop has fewer enclosing loops" % selector)
        return fn, loop
    raise SystemExit("selector %s: expected marker:NAME or func:NAME:hot" % selector)


def write_block(path, insts):
    with open(path, "w") as f:
        for t in insts:
            f.write("\t%s\n" % t)


def cut(asm_path, selector, out_dir):
    functions = parse(asm_path)
    fn, loop = select(functions, selector)
    os.makedirs(out_dir, exist_ok=True)
    own = own_indices(loop)
    write_block(os.path.join(out_dir, "own.s"), [fn.insts[i] for i in own])
    info = {"function": fn.name, "loop": loop.name, "instructions": len(loop.indices),
            "own_instructions": len(own), "dot": count_dot(fn.insts[i] for i in own),
            "markers_inside": sum(1 for (k, _, i) in fn.markers if k == "BEGIN" and i in loop.indices),
            "forward_branches": sum(1 for i in own
                                    if (lambda t: t is not None and t > i)(branch_target(fn, i))),
            "children": []}
    for n, kid in enumerate(loop.children):
        if kid.children:
            raise SystemExit("%s: child loop %s has loops of its own; select it instead" % (selector, kid.name))
        write_block(os.path.join(out_dir, "child%d.s" % n), [fn.insts[i] for i in kid.indices])
        info["children"].append({"loop": kid.name, "instructions": len(kid.indices),
                                 "dot": count_dot(fn.insts[i] for i in kid.indices)})
    with open(os.path.join(out_dir, "loop.json"), "w") as f:
        json.dump(info, f)
    print(json.dumps(info))


def list_loops(asm_path, only=None):
    for fn in parse(asm_path):
        if only and fn.name != only:
            continue
        marks = " ".join("%s%s@%d" % (k[0], ":" + n if n else "", i) for (k, n, i) in fn.markers)
        print("%s  (%d instructions) %s" % (fn.name, len(fn.insts), marks))
        for l in loops(fn):
            print("  %s%s [%d..%d] %d insts, own %d, dot %s" % ("  " * depth(l), l.name, l.indices[0], l.indices[-1],
                  len(l.indices), len(own_indices(l)), count_dot(fn.insts[i] for i in l.indices)))


def mca_report(text):
    """Iterations, total cycles, block reciprocal throughput and the busiest resource of one llvm-mca
    report (the resource with the highest pressure per iteration per unit of that resource)."""
    def num(pattern):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else None
    res = {"iterations": num(r"Iterations:\s+(\d+)"), "total_cycles": num(r"Total Cycles:\s+(\d+)"),
           "rthroughput": num(r"Block RThroughput:\s+([\d.]+)"), "instructions": num(r"Instructions:\s+(\d+)")}
    names = dict(re.findall(r"^\[([\d.]+)\]\s+-\s+(\S+)", text, re.M))
    m = re.search(r"Resource pressure per iteration:\n(.*)\n(.*)\n", text)
    busiest, pressure = None, 0.0
    if m:
        heads = re.findall(r"\[([\d.]+)\]", m.group(1))
        per_unit = {}
        for h, v in zip(heads, m.group(2).split()):
            per_unit.setdefault(names.get(h, h), []).append(0.0 if v == "-" else float(v))
        # A group of k units (e.g. two NEON pipes) takes k per cycle: compare per-unit means, and
        # name every resource within 2% of the busiest (N2's two vector pipes are V0 and V1).
        loads = {base + ("x%d" % len(xs) if len(xs) > 1 else ""): sum(xs) / len(xs) for base, xs in per_unit.items()}
        if loads:
            pressure = max(loads.values())
            busiest = "+".join(k for k, v in loads.items() if v >= 0.98 * pressure)
    res["busiest"] = busiest
    res["busiest_pressure"] = round(pressure, 3)
    return res


def parse_mca(path):
    print(json.dumps(mca_report(open(path).read())))


def subtree(loop):
    """The loop's descendants in pre-order (the order TRIPS lists their trip counts in)."""
    out = []
    for c in sorted(loop.children, key=lambda l: l.indices[0]):
        out.append(c)
        out.extend(subtree(c))
    return out


def run_mca(block_path, cpu, mattr, iterations, report_path):
    # "name@V" runs the model of another llvm-mca (llvm-mca-V), e.g. neoverse-v1@19: LLVM 16 has no
    # Neoverse-V1 model of its own (it uses Neoverse-N2's); LLVM 19 has one.
    tool = os.environ.get("LLVM_MCA", "llvm-mca-16")
    if "@" in cpu:
        cpu, version = cpu.split("@")
        tool = "llvm-mca-" + version
    cmd = [tool, "-mtriple=aarch64", "-mcpu=" + cpu, "-mattr=" + mattr,
           "-iterations=%d" % iterations, "-bottleneck-analysis", block_path]
    p = subprocess.run(cmd, capture_output=True, text=True)
    with open(report_path, "w") as f:
        f.write(p.stdout + p.stderr)
    if p.returncode != 0:
        raise SystemExit("llvm-mca failed on %s (-mcpu=%s): %s" % (block_path, cpu, p.stderr.strip()[:400]))
    return mca_report(p.stdout)


def measure(asm_path, selector, trips_arg, cpus, mattr, out_dir, iterations=200):
    """Cycles per iteration of the selected loop on each CPU model: llvm-mca's steady state of the
    loop's own instructions plus, for every descendant loop, its trip count (per iteration of its
    parent) times its own cycles, recursively. Prints one JSON line per model."""
    functions = parse(asm_path)
    fn, loop = select(functions, selector)
    desc = subtree(loop)
    trips = [int(t) for t in trips_arg.split(",") if t] if trips_arg not in ("", "-") else []
    if len(trips) != len(desc):
        shape = ", ".join("%s (%d insts, dot %s)" % (d.name, len(d.indices), count_dot(fn.insts[i] for i in d.indices))
                          for d in desc)
        raise SystemExit("%s in %s: %d nested loops [%s] but %d trip counts given"
                         % (selector, fn.name, len(desc), shape, len(trips)))
    trip_of = {id(d): t for d, t in zip(desc, trips)}
    os.makedirs(out_dir, exist_ok=True)
    blocks = []   # (name, multiplicity per iteration of the selected loop, instructions)
    def walk(l, mult):
        blocks.append((l.name, mult, [fn.insts[i] for i in own_indices(l)]))
        for c in sorted(l.children, key=lambda x: x.indices[0]):
            walk(c, mult * trip_of[id(c)])
    walk(loop, 1)
    dot_macs = 0
    for _, mult, insts in blocks:
        d = count_dot(insts)
        dot_macs += mult * (16 * sum(d.get(k, 0) for k in ("sdot", "udot", "usdot", "sudot"))
                            + 32 * sum(d.get(k, 0) for k in ("smmla", "ummla", "usmmla")))
    markers = sum(1 for (k, _, i) in fn.markers if k == "BEGIN" and i in loop.indices)
    for n, (name, mult, insts) in enumerate(blocks):
        write_block(os.path.join(out_dir, "block%d.s" % n), insts)
    for cpu in cpus:
        cycles = rthr = 0.0
        worst = None
        for n, (name, mult, insts) in enumerate(blocks):
            if not insts:
                continue
            r = run_mca(os.path.join(out_dir, "block%d.s" % n), cpu, mattr, iterations,
                        os.path.join(out_dir, "block%d.%s.txt" % (n, cpu.replace("@", "-llvm"))))
            c = r["total_cycles"] / r["iterations"]
            cycles += mult * c
            rthr += mult * r["rthroughput"]
            if worst is None or mult * c > worst[0]:
                worst = (mult * c, r, c)
        _, r, c = worst
        kind = "dependency/latency" if c > 1.2 * r["busiest_pressure"] else "resource"
        print(json.dumps({"cpu": cpu, "function": fn.name, "loop": loop.name, "blocks": len(blocks),
                          "instructions": sum(m * len(i) for _, m, i in blocks),
                          "cycles_per_iter": round(cycles, 3), "rthroughput_per_iter": round(rthr, 3),
                          "bottleneck": "%s %s (%.2f/%.2f cyc)" % (kind, r["busiest"], r["busiest_pressure"], c),
                          "dot_macs_per_iter": dot_macs, "markers_in_loop": markers}))


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    cmd = sys.argv[1]
    if cmd == "list":
        list_loops(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif cmd == "cut" and len(sys.argv) == 5:
        cut(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "measure" and len(sys.argv) == 8:
        measure(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5].split(","), sys.argv[6], sys.argv[7])
    elif cmd == "parse":
        parse_mca(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
