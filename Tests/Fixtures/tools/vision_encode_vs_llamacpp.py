#!/usr/bin/env python3
"""Image encode time of mvlm against llama.cpp's llama-mtmd-cli, back to back (issue 22).

Runs, for each round, llama-mtmd-cli on the GGUF export of the weights (language model + mmproj,
`mvlm convert SRC -o x.gguf --quant f16` writes both) and then `mvlm bench FILE --image IMAGE`
on the .mvlm file, with the same threads and image, and prints each pair, the medians and the
median of the per-pair ratios (mvlm / llama.cpp). llama.cpp's figure is the "image slice encoded
in N ms" line of mtmd-helper (the tower + projector, as mvlm's `image_encode_seconds`).

Standard library only. Example:

    Tests/Fixtures/tools/vision_encode_vs_llamacpp.py --mvlm .build/release/mvlm \
        --llama-bin /work/helpers/llamacpp/build/bin --model mvlm2-q8tower.mvlm \
        --gguf mvlm2-f16.gguf --mmproj mvlm2-f16.mmproj.gguf --image photo.png --rounds 5 --threads 2

With MVLM_PROFILE=1 in the environment mvlm's encode is also split by part (products, attention,
elementwise, projector).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys


def llama_encode_seconds(args):
    command = [
        os.path.join(args.llama_bin, "llama-mtmd-cli"), "-m", args.gguf, "--mmproj", args.mmproj, "--image", args.image,
        "-t", str(args.threads), "-p", "Describe the image.", "-n", "1", "--temp", "0", "--no-warmup",
        "--chat-template", "deepseek",
    ]
    environment = dict(os.environ, LD_LIBRARY_PATH=args.llama_bin + ":" + os.environ.get("LD_LIBRARY_PATH", ""))
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600)
    text = result.stdout + result.stderr
    found = re.findall(r"image slice encoded in (\d+) ms", text) or re.findall(r"mtmd batch encoding done in (\d+) ms", text)
    if result.returncode != 0 or not found:
        sys.exit(f"llama-mtmd-cli failed (exit {result.returncode}); last output:\n{text[-2000:]}")
    return float(found[0]) / 1000


def mvlm_encode(args):
    command = [
        args.mvlm, "bench", args.model, "--image", args.image, "--threads", str(args.threads), "--prompt-tokens", "1",
        "--gen-tokens", "1", "--repetitions", str(args.repetitions), "--json",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        sys.exit(f"mvlm bench failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    return report["image_encode_seconds"], report.get("image_encode_parts_seconds", {})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mvlm", required=True, help="the mvlm binary (a release build)")
    parser.add_argument("--llama-bin", required=True, help="the folder holding llama-mtmd-cli")
    parser.add_argument("--model", required=True, help="the .mvlm file")
    parser.add_argument("--gguf", required=True, help="the language model GGUF of the same weights")
    parser.add_argument("--mmproj", required=True, help="its mmproj GGUF (tower + projector)")
    parser.add_argument("--image", required=True, help="a PNG or JPEG")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=3, help="mvlm encodes per round (median taken)")
    args = parser.parse_args()

    pairs = []
    for round_index in range(1, args.rounds + 1):
        llama = llama_encode_seconds(args)
        ours, parts = mvlm_encode(args)
        load = os.getloadavg()[0]
        split = ", ".join(f"{k} {v:.3f}" for k, v in sorted(parts.items()))
        print(f"round {round_index}: llama-mtmd-cli {llama:.3f} s, mvlm {ours:.3f} s, ratio {ours / llama:.2f}"
              f" (load {load:.1f}){'; mvlm parts: ' + split if split else ''}", flush=True)
        pairs.append((llama, ours))
    llama_median = statistics.median(p[0] for p in pairs)
    ours_median = statistics.median(p[1] for p in pairs)
    ratio_median = statistics.median(p[1] / p[0] for p in pairs)
    print(f"medians over {len(pairs)} pairs: llama-mtmd-cli {llama_median:.3f} s, mvlm {ours_median:.3f} s;"
          f" median ratio mvlm / llama.cpp {ratio_median:.2f}")


if __name__ == "__main__":
    main()
