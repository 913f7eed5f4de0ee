"""Reference splits for SplitPattern (MVLMTokenizer's regex matcher), made with Python's `regex`
module (an independent backtracking engine with Unicode properties).

Writes Tests/Fixtures/split_patterns/expected.json:
  {"patterns": [...], "texts": [...], "splits": [[[length, ...] per text] per pattern]}
where each split lists the lengths, in Unicode scalars, of the words that a "Split ... Isolated"
pre-tokenizer makes: every match and every run of text between matches (empty matches only mark a
boundary, and a non-empty match may follow an empty one at the same place, as in ECMAScript and
Python). `$` is matched as `\\Z` (the end of the text), as std::regex and Oniguruma do without
multi-line mode.

The patterns are llama.cpp's (llama-vocab.cpp, llama-cpp-python 0.3.36's tree) for every
pre-tokenizer type that SplitPattern runs, the original tokenizer.json forms they were adapted from,
and a few extra patterns for syntax the table does not use (lazy and possessive quantifiers, \\b,
\\w, \\D, \\P{..}, (?i:), dot). The texts are the corpus entries of Tests/Fixtures/tokenizer/corpus.json
whose scalars Python 3.11's Unicode 14 tables all assign (so both engines agree on every category),
plus hand-written lines for digits, apostrophes, marks and the chameleon image tokens.

Usage:
  python3 -m venv /work/helpers/venv-tokvec && /work/helpers/venv-tokvec/bin/pip install regex
  /work/helpers/venv-tokvec/bin/python Tests/Fixtures/gen_split_patterns.py
"""

import json
import os
import unicodedata

import regex

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "split_patterns")

CONTRACTION = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
QWEN2 = CONTRACTION + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
GPT4O = (
    r"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+" + CONTRACTION
    + r"?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*" + CONTRACTION
    + r"?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
CASED = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+" + CONTRACTION
    + r"?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*" + CONTRACTION
)

PATTERNS = [
    # llama.cpp's table (the forms SplitPattern runs).
    r"[\p{P}\$\+<=>\^~\|]+",
    "[0-9][0-9][0-9]",
    r"\p{N}{1,3}",
    CONTRACTION + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    CONTRACTION + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)"
    r"|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1}",
    r"[\r\n]",
    "\\s?[A-Za-z\U000000B5\U000000C0-\U000000D6\U000000D8-\U000000F6\U000000F8-\U000001BA\U000001BC-\U000001BF\U000001C4-\U00000293\U00000295-\U000002AF\U00000370-\U00000373\U00000376\U00000377\U0000037B-\U0000037D\U0000037F\U00000386\U00000388-\U0000038A\U0000038C\U0000038E-\U000003A1\U000003A3-\U000003F5\U000003F7-\U00000481\U0000048A-\U0000052F\U00000531-\U00000556\U000010A0-\U000010C5\U000013A0-\U000013F5\U000013F8-\U000013FD\U00001C90-\U00001CBA\U00001CBD-\U00001CBF\U00001D00-\U00001D2B\U00001D6B-\U00001D77\U00001D79-\U00001D9A\U00001E00-\U00001F15\U00001F18-\U00001F1D\U00001F20-\U00001F45\U00001F48-\U00001F4D\U00001F50-\U00001F57\U00001F59\U00001F5B\U00001F5D\U00001F5F-\U00001F7D\U00001F80-\U00001FB4\U00001FB6-\U00001FBC\U00001FBE\U00001FC2-\U00001FC4\U00001FC6-\U00001FCC\U00001FD0-\U00001FD3\U00001FD6-\U00001FDB\U00001FE0-\U00001FEC\U00001FF2-\U00001FF4\U00001FF6-\U00001FFC\U00002102\U00002107\U0000210A-\U00002113\U00002115\U00002119-\U0000211D\U00002124\U00002126\U00002128\U0000212A-\U0000212D\U0000212F-\U00002134\U00002139\U0000213C-\U0000213F\U00002145-\U00002149\U0000214E\U00002183\U00002184\U00002C00-\U00002C7B\U00002C7E-\U00002CE4\U00002CEB-\U00002CEE\U00002CF2\U00002CF3\U0000A640-\U0000A66D\U0000A680-\U0000A69B\U0000A722-\U0000A76F\U0000A771-\U0000A787\U0000A78B-\U0000A78E\U0000AB70-\U0000ABBF\U0000FB00-\U0000FB06\U0000FB13-\U0000FB17\U0000FF21-\U0000FF3A\U0000FF41-\U0000FF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
    "\\s?[!-/:-~！-／：-～‘-‟\u3000-。]+",
    r"\s+$",
    "[一-龥ࠀ-一가-\ud7ff]+",
    r"\s?\p{L}+",
    r"\s?\p{P}+",
    "[一-龥\u3040-ゟ゠-ヿ]+",
    r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+""",
    "[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥\u3040-ゟ゠-ヿ]+",
    CASED + r"?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    r"[\p{P}\$\+<=>\^~\|`]+",
    QWEN2,
    CONTRACTION + r"|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    r" ?[^(\s|.,!?…。，、।۔،)]+",
    r"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*"
    r"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "<sentinel:[0-9]+>",
    "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
    r"([\t\n]|    |  )",
    r"[\p{P}!-/:-@\[-`{-~]",
    GPT4O,
    GPT4O.replace(r"(?=[\p{L}])", r"(?=[\p{L}\p{M}])"),
    r"\d{1,3}(?=(?:\d{3})*\b)",
    CASED + r"?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    r"(?=(\d{3})+(?!\d))",
    r"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+",
    CONTRACTION + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+",
    r"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    r"[^\n]+|[\n]+",
    CONTRACTION + r"|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+",
    # The hand-written splitters' regexes, so the matcher is checked against them too.
    GPT2,
    GPT2 + r"|\s+",
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    # Original tokenizer.json forms (possessive quantifiers, (?i:), \p{Lu}…).
    r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    # Syntax the table does not use.
    r"[\p{L}\p{N}]+?(?=[^\p{L}\p{N}]|$)|[^\p{L}\p{N}]",
    r"\D+|\d",
    r"\P{L}+",
    r"[a-f]{2,}?x|.",
    r"(?:ab|a)(?:bc|c)?",
    r"\s+?(?=\S)|\S{2,3}+",
    r"[\x41-\x43\u00e9\-]+",
]

EXTRA_TEXTS = [
    "1234567 12 123 1234 12345678901 ٣٤٥٦٧ 3.14159",
    "I'M 'S 'LL 'Ve 'rE 'ʼs it's DON'T we'll You'D",
    "IMGIMGABZ IMGIMGABCDEZ <sentinel:12> <sentinel:> IMGIMGZ",
    "e\u0301te\u0301 cafe\u0301 a\u0308\u0308\u0308 ̈start",
    "CamelCaseWord XMLHttpRequest iPhone ÉCOLE école ǅemal",
    "line one\r\nline two\n\n\n   indented\t\ttabs  \n",
    "   leading and trailing   ",
    "x" * 300 + " " + "7" * 40,
    "日本語とEnglishと한국어と中文が混在する文。",
    "",
]


def split(pattern, text):
    compiled = regex.compile(pattern.replace("$", r"\Z") if pattern.endswith("$") else pattern)
    pieces = []
    pending = 0  # where the text not yet emitted starts
    for match in compiled.finditer(text):
        start, end = match.span()
        if start > pending:
            pieces.append(start - pending)
            pending = start
        if end > start:
            pieces.append(end - start)
            pending = end
    if pending < len(text):
        pieces.append(len(text) - pending)
    return pieces


def assigned_in_python(text):
    return all(unicodedata.category(c) != "Cn" and not (0x1C <= ord(c) <= 0x1F) for c in text)


def main():
    with open(os.path.join(HERE, "tokenizer", "corpus.json"), encoding="utf-8") as f:
        corpus = json.load(f)
    texts = [t for t in corpus if assigned_in_python(t)][:400] + EXTRA_TEXTS
    splits = [[split(p, t) for t in texts] for p in PATTERNS]
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"patterns": PATTERNS, "texts": texts, "splits": splits}, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"gen_split_patterns: {len(PATTERNS)} patterns x {len(texts)} texts")


if __name__ == "__main__":
    main()
