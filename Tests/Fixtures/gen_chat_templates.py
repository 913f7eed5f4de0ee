#!/usr/bin/env python3
"""Expected renderings of llama.cpp's chat-template corpus for MVLMTemplateTests.

The corpus is llama.cpp's models/templates/*.jinja, read from the llama.cpp tree inside the
llama-cpp-python 0.3.36 sdist on PyPI (not committed: .ci/templates downloads it and sets
MVLM_LLAMACPP_TEMPLATES). Each template is rendered by transformers' own
`render_jinja_template` (jinja2's ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loopcontrols, transformers' tojson / raise_exception / strftime_now / dict / namespace), with
strftime_now's clock fixed to DATE so the output is reproducible, on every conversation below,
with and without the generation prompt, without tools. What is committed is only the outputs
(or the fact that jinja2 raised), keyed by file name and the template's SHA-256.

Run: MVLM_LLAMACPP_TEMPLATES=DIR python Tests/Fixtures/generate.py chat_templates
     (needs transformers and jinja2>=3.1.6; .ci/templates shows how to get DIR)
"""
import datetime as real_datetime
import hashlib
import json
import os
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parent / "templates" / "llamacpp_expected.json"
DATE = (2026, 7, 26, 14, 5, 9)
SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}
CONVERSATIONS = {
    "user": [{"role": "user", "content": "What is the capital of France?"}],
    "system_user": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello!"},
    ],
    "multi_turn": [
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Write a haiku about the sea.\nThanks!"},
    ],
    "user_assistant": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": " 4 "},
    ],
    "unicode": [{"role": "user", "content": "Écris un haïku 🌊 \"quoted\" 'x'\tend\\n"}],
}


def main() -> None:
    folder = os.environ.get("MVLM_LLAMACPP_TEMPLATES") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not folder:
        raise SystemExit("set MVLM_LLAMACPP_TEMPLATES to llama.cpp's models/templates folder (see .ci/templates)")
    from transformers.utils import chat_template_utils as ctu

    class FixedDateTime(real_datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(*DATE)

    ctu.datetime = FixedDateTime  # strftime_now reads datetime.now()

    templates = {}
    for path in sorted(pathlib.Path(folder).glob("*.jinja")):
        source = path.read_text(encoding="utf-8")
        cases = []
        for name, messages in CONVERSATIONS.items():
            for generation in (False, True):
                case = {"conversation": name, "add_generation_prompt": generation}
                try:
                    rendered, _ = ctu.render_jinja_template(
                        conversations=[json.loads(json.dumps(messages))], chat_template=source,
                        add_generation_prompt=generation, **SPECIAL_TOKENS)
                    case["output"] = rendered[0]
                except Exception as error:  # jinja2 refused (raise_exception, syntax, type error)
                    case["error"] = f"{type(error).__name__}: {error}"[:300]
                cases.append(case)
        templates[path.name] = {"sha256": hashlib.sha256(source.encode("utf-8")).hexdigest(), "cases": cases}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "source": "llama-cpp-python==0.3.36 sdist, vendor/llama.cpp/models/templates",
        "date": list(DATE), "special_tokens": SPECIAL_TOKENS, "conversations": CONVERSATIONS, "templates": templates,
    }
    OUT.write_text(json.dumps(document, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    rendered = sum(1 for t in templates.values() for c in t["cases"] if "output" in c)
    print(f"wrote {OUT}: {len(templates)} templates, {rendered} renderings, "
          f"{sum(len(t['cases']) for t in templates.values()) - rendered} jinja2 errors")


if __name__ == "__main__":
    main()
