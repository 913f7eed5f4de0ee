#!/usr/bin/env python3
"""Reference values for the verification statistics (MVLMVerifyTests), computed by SciPy and NumPy,
never by the code under test:

- KL(p || q) with p = softmax(float logits), q = softmax(quantized logits): scipy.stats.entropy(p, q)
- the negative log-likelihood of a target token: -scipy.special.log_softmax(logits)[target]
- cosine of the two logit vectors: 1 - scipy.spatial.distance.cosine
- top-1: numpy.argmax (first index on ties)
- percentiles: numpy.percentile (method 'linear')

Run: python3 Tests/Fixtures/generate.py verify   (needs numpy and scipy)
"""
import json
import pathlib

import numpy as np
from scipy.spatial.distance import cosine
from scipy.special import log_softmax, softmax
from scipy.stats import entropy

OUT = pathlib.Path(__file__).resolve().parent / "verify"


def case(name, a, b, target):
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return {
        "name": name,
        "float": a.tolist(),
        "quantized": b.tolist(),
        "target": int(target),
        "kld": float(entropy(softmax(a64), softmax(b64))),
        "float_nll": float(-log_softmax(a64)[target]),
        "quantized_nll": float(-log_softmax(b64)[target]),
        "cosine": float(1 - cosine(a64, b64)),
        "same_top": bool(np.argmax(a) == np.argmax(b)),
    }


def main() -> None:
    rng = np.random.default_rng(5)
    cases = []
    base = rng.normal(0, 3, 64)
    cases.append(case("identical", base, base, 7))
    cases.append(case("small noise", base, base + rng.normal(0, 0.05, 64), 3))
    cases.append(case("large noise", base, base + rng.normal(0, 2, 64), 11))
    cases.append(case("shifted (softmax-invariant)", base, base + 10, 0))
    peaked = np.full(100, -5.0)
    peaked[42] = 30
    flipped = np.full(100, -5.0)
    flipped[17] = 30
    cases.append(case("peaked, different top", peaked, flipped, 42))
    wide = rng.normal(0, 40, 1000)  # logits far apart: exp underflows without log-sum-exp
    cases.append(case("wide range", wide, wide * 0.9 + 1, int(np.argmin(wide))))
    ties = np.zeros(16)
    ties[[3, 9]] = 5
    cases.append(case("ties", ties, ties[::-1].copy(), 9))
    samples = rng.exponential(0.02, 997).tolist()
    percentiles = {
        "values": samples,
        "mean": float(np.mean(samples)),
        "median": float(np.percentile(samples, 50)),
        "p99": float(np.percentile(samples, 99)),
        "max": float(np.max(samples)),
        "small": {"values": [0.5, 0.1, 0.3], "median": 0.3, "p99": float(np.percentile([0.5, 0.1, 0.3], 99))},
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "expected.json").write_text(json.dumps({"positions": cases, "summary": percentiles}, indent=1) + "\n")
    print(f"wrote {OUT / 'expected.json'}")


if __name__ == "__main__":
    main()
