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


FEATURES_OUT = OUT.parent / "features.json"
# Our own small templates, one construct each, rendered by the same jinja2 environment
# (committed with their sources; the context is passed as keyword arguments).
MESSAGES = [{"role": "system", "content": "  Be brief. "}, {"role": "user", "content": "Hi, 'you'"},
            {"role": "assistant", "content": "Hello\nthere"}, {"role": "user", "content": "Ünïcödé ✓"}]
FEATURES = [
    ("whitespace", "  {% if true %}\n  yes\n  {% endif %}\n{{ 'a' }}  {% if true -%}  b  {%- endif %}\n{# c #}\nd {{- ' e ' -}} f\n", {}),
    ("lstrip_after_expression", "{{ 'x' }}  {% if true %}y{% endif %}\n   {% if true %}z{% endif %}\n\n", {}),
    ("raw_and_plus", "{% raw %}{{ not evaluated }}{% endraw %}\n  {%+ if true %}k{% endif +%}\nl", {}),
    ("loop_variables", "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.length }}/{{ loop.first }}/{{ loop.last }}/{{ loop.previtem is defined }}/{{ loop.cycle('a', 'b') }};{% endfor %}", {"messages": MESSAGES}),
    ("loop_else_filter_break", "{% for x in [] %}no{% else %}empty{% endfor %}|{% for x in range(10) if x is odd %}{% if x > 6 %}{% break %}{% endif %}{% if x == 3 %}{% continue %}{% endif %}{{ x }}{% endfor %}", {}),
    ("loop_scope_and_namespace", "{% set count = 0 %}{% set ns = namespace(count=0, seen=[]) %}{% for m in messages %}{% set count = count + 1 %}{% set ns.count = ns.count + 1 %}{% set ns.seen = ns.seen + [m.role] %}{% endfor %}{{ count }} {{ ns.count }} {{ ns.seen }}", {"messages": MESSAGES}),
    ("unpacking", "{% for k, v in {'a': 1, 'b': [2, 3]}.items() %}{{ k }}={{ v }};{% endfor %}{% set x, y = [1, 2] %}{{ x + y }}", {}),
    ("macro_and_call", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{{ caller() if caller is defined else '' }}{% endmacro %}{{ greet('A') }} {{ greet('B', punct='?') }} {% call greet('C') %}[inside]{% endcall %}", {}),
    ("set_block_and_filter_block", "{% set body %}  Some Text  {% endset %}[{{ body | trim }}]{% filter upper %}shout {{ 'me' }}{% endfilter %}", {}),
    ("operators", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ 'a' ~ 1 ~ none }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ 1 == 1.0 }} {{ 'b' > 'a' }} {{ not 1 in [1] }} {{ 1 < 2 < 3 }} {{ 'x' if false }}|{{ 'y' if 0 else 'z' }} {{ '%s-%d' % ('a', 3) }}", {}),
    ("printing", "{{ none }} {{ true }} {{ 1.0 }} {{ 0.1 }} {{ 1e20 }} {{ 1e-7 }} {{ [1, 'a', none, true, 2.5] }} {{ {'k': 'v', 'n': [1]} }} {{ \"it's\" }} {{ ['it\\'s', \"q\\\"\"] }} {{ undefined_name }}.", {}),
    ("tests", "{% for v in [none, true, 1, 1.5, 'x', [1], {'a': 1}, undefined_name] %}{{ v is none }}{{ v is boolean }}{{ v is integer }}{{ v is float }}{{ v is number }}{{ v is string }}{{ v is mapping }}{{ v is iterable }}{{ v is sequence }}{{ v is defined }}{{ v is true }}{{ v is false }};{% endfor %}{{ 4 is divisibleby 2 }}{{ 3 is odd }}{{ 'ab' is lower }}{{ 'AB' is upper }}{{ 2 is in [1, 2] }}{{ 1 is sameas true }}{{ 'x' is eq 'x' }}{{ 3 is gt 2 }}", {}),
    ("string_filters", "{{ '  a b  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}|{{ 'a-b c' | upper }}|{{ 'ABC' | lower }}|{{ 'aXbXc' | replace('X', '-') }}|{{ 'aXbXc' | replace('X', '-', 1) }}|{{ 'héllo' | length }}|{{ 'abc' | list }}|{{ 'abc' | first }}{{ 'abc' | last }}|{{ 42 | string }}|{{ 'a\nb' | indent(2) }}|{{ 'a\n\nb\n' | indent(2, true) }}|{{ 'x' | center(5) }}|{{ 'one two  three' | wordcount }}", {}),
    ("list_filters", "{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', 'A', 'c'] | sort }} {{ [1, 2, 2, 1] | unique | list }} {{ [1, 2, 3] | sum }} {{ [4, 2, 9] | max }} {{ [4, 2, 9] | min }} {{ [1, 2] | reverse | list }} {{ [1, 2, 3] | join(', ') }} {{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ [1, none, 0, 'a'] | select | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ [-1, 2] | map('abs') | list }}", {}),
    ("attribute_filters", "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ messages | rejectattr('role', 'in', ['user', 'system']) | list | length }} {{ messages | map(attribute='missing', default='d') | list }} {{ messages | selectattr('content') | list | length }} {{ messages | map(attribute='role') | unique | list }} {{ messages | sort(attribute='role') | map(attribute='role') | join(',') }} {{ messages | first }}", {"messages": MESSAGES}),
    ("dict_filters_and_methods", "{{ d | items | list }} {{ d | dictsort }} {{ d | dictsort(reverse=true) }} {{ d.get('b') }} {{ d.get('z', 'none') }} {{ d.get('z') }} {{ d.keys() | list }} {{ d.values() | list }} {{ d | length }} {{ 'b' in d }} {{ d['b'] }} {{ d.b }} {{ d.zz is defined }} {{ d | tojson }}", {"d": {"b": 2, "a": [1, "x"], "c": {"n": None}}}),
    ("tojson", "{{ v | tojson }}\n{{ v | tojson(indent=2) }}\n{{ v | tojson(indent=4, sort_keys=true) }}\n{{ v | tojson(separators=(',', ':')) }}\n{{ v | tojson(ensure_ascii=true) }}\n{{ [] | tojson(indent=2) }}{{ {} | tojson }}{{ 'q\"\\\n\t\x01é' | tojson }}{{ 1.5 | tojson }}{{ none | tojson }}", {"v": {"name": "f", "vals": [1, 2.5, True, None, "ü\u2028"], "nested": {"z": [], "a": {}}}}),
    ("string_methods", "{{ ' x '.strip() }}|{{ 'xxax'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a.b.c'.rsplit('.', 1) }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}|{{ 'ab'.upper() }}{{ 'AB'.lower() }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'hello world'.title() }}|{{ 'hello'.capitalize() }}|{{ '{} and {}'.format(1, 'two') }}|{{ '{0}{name}'.format('x', name='y') }}|{{ 'abcabc'.find('c') }}{{ 'abcabc'.rfind('c') }}{{ 'abc'.find('z') }}|{{ 'abcabc'.count('b') }}|{{ '-'.join(['a', 'b']) }}|{{ 'a\nb\n'.splitlines() }}|{{ '12'.isdigit() }}{{ 'ab'.isalpha() }}{{ ' '.isspace() }}", {}),
    ("slicing_and_indexing", "{{ messages[0].role }} {{ messages[-1]['content'] }} {{ messages[1:3] | map(attribute='role') | list }} {{ messages[::-1] | map(attribute='role') | list }} {{ 'abcdef'[1:4] }} {{ 'abcdef'[::2] }} {{ 'abcdef'[-2:] }} {{ [1, 2, 3][5] is defined }} {{ 'héllo'[1] }} {{ messages[:-1] | length }}", {"messages": MESSAGES}),
    ("default_filter", "{{ missing | default('d') }} {{ none | default('d') }} {{ '' | default('d', true) }} {{ 0 | d('z', boolean=true) }} {{ 'v' | default('d') }}", {}),
    ("numbers", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3 | float }} {{ '2.5' | float }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(0, 'ceil') }} {{ -3 | abs }} {{ 10 / 4 }} {{ 1e3 | int }}", {}),
    ("strftime_and_globals", "{{ strftime_now('%Y-%m-%d %H:%M:%S %A %a %B %b %d %j %p %I') }} {{ dict(a=1, b='x') }} {{ namespace(a=1).a }} {{ range(3) | list }}", {}),
    ("raise_exception", "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}", {"messages": MESSAGES}),
    ("undefined_attribute_error", "{{ missing.attr }}", {}),
    ("generation_block", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.role }}{% endif %}|{% endfor %}", {"messages": MESSAGES}),
    ("chat_template_typical", "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] | trim + ' [/INST]' }}{% elif message['role'] == 'system' %}{{ '<<SYS>>\\n' + message['content'] | trim + '\\n<</SYS>>\\n\\n' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] | trim + ' ' + eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}", {"messages": MESSAGES, "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": True}),
]


def features(ctu) -> None:
    cases = []
    for name, source, context in FEATURES:
        case = {"name": name, "template": source, "context": context}
        try:
            case["output"] = ctu._compile_jinja_template(source).render(**json.loads(json.dumps(context)))
        except Exception as error:
            case["error"] = f"{type(error).__name__}: {error}"[:300]
        cases.append(case)
    FEATURES_OUT.write_text(json.dumps({"date": list(DATE), "cases": cases}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {FEATURES_OUT}: {len(cases)} feature templates")


def main() -> None:
    from transformers.utils import chat_template_utils as ctu

    class FixedDateTime(real_datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(*DATE)

    ctu.datetime = FixedDateTime  # strftime_now reads datetime.now()
    features(ctu)
    folder = os.environ.get("MVLM_LLAMACPP_TEMPLATES") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not folder:
        print("MVLM_LLAMACPP_TEMPLATES is not set: the corpus expectations are left as they are (see .ci/templates)")
        return

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
