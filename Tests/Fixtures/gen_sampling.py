"""Sampling filters: transformers' own logits processors on fixed logits, as the reference for
Sampler (Tests/MVLMModelsTests/SamplerTests.swift).

For each case: seeded logits over a small vocabulary (with ties and a wide range), a context of
ids (for the repetition penalty), the options, and the distribution transformers samples from —
softmax of the scores after RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
TopKLogitsWarper, TopPLogitsWarper and MinPLogitsWarper, in the order GenerationMixin applies them
(each only when its option is set, as GenerationMixin does). Writes Tests/Fixtures/sampling/expected.json.
"""
import json
import pathlib

import numpy as np
import torch
from transformers.generation.logits_process import (
    LogitsProcessorList,
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

OUT = pathlib.Path(__file__).resolve().parent / "sampling"

CASES = [
    dict(temperature=1.0),
    dict(temperature=0.7),
    dict(temperature=1.3, top_k=5),
    dict(temperature=1.0, top_k=1),
    dict(temperature=0.8, top_p=0.9),
    dict(temperature=1.0, top_p=0.5),
    dict(temperature=1.0, top_p=0.01),
    dict(temperature=1.0, min_p=0.05),
    dict(temperature=0.6, min_p=0.3),
    dict(temperature=1.0, repetition_penalty=1.3),
    dict(temperature=0.9, top_k=20, top_p=0.95, min_p=0.02, repetition_penalty=1.1),
    dict(temperature=2.0, top_k=40, top_p=0.8, repetition_penalty=0.8),
]


def processors(case):
    chain = []
    if case.get("repetition_penalty", 1.0) != 1.0:
        chain.append(RepetitionPenaltyLogitsProcessor(case["repetition_penalty"]))
    if case.get("temperature", 1.0) != 1.0:
        chain.append(TemperatureLogitsWarper(case["temperature"]))
    if case.get("top_k", 0):
        chain.append(TopKLogitsWarper(case["top_k"]))
    if case.get("top_p", 1.0) < 1.0:
        chain.append(TopPLogitsWarper(case["top_p"]))
    if case.get("min_p", 0.0):
        chain.append(MinPLogitsWarper(case["min_p"]))
    return LogitsProcessorList(chain)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261207)
    records = []
    for index, case in enumerate(CASES):
        vocab = 64
        logits = (rng.standard_normal(vocab) * 3).astype(np.float32)
        logits[7] = logits[9]  # a tie
        logits[-1] = -logits.max()  # a wide range
        history = rng.integers(0, vocab, size=12).tolist()
        input_ids = torch.tensor([history], dtype=torch.long)
        scores = processors(case)(input_ids, torch.tensor(logits).unsqueeze(0))
        probabilities = torch.softmax(scores, dim=-1)[0].numpy().astype(np.float32)
        records.append({
            "options": case,
            "logits": [float(x) for x in logits],
            "history": history,
            "probabilities": [float(x) for x in probabilities],
        })
    (OUT / "expected.json").write_text(json.dumps({"cases": records}, indent=1) + "\n")


if __name__ == "__main__":
    main()
