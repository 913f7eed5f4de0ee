/// How llama.cpp tokenizes a BPE vocabulary with a given `tokenizer.ggml.pre` value: the splitting
/// regexes and the flags `llama_vocab::impl::load` sets for it (`llama-vocab.cpp`).
///
/// Each pre-tokenizer type runs its regexes in order, each on the pieces the previous one produced.
/// The GPT-2 and Llama 3 regexes run on the hand-written splitters (`PreTokenizer.Step.gpt2`,
/// `.llama3`, which llama.cpp also has as custom code); every other regex runs on `SplitPattern`.
/// Where llama.cpp rewrote a `tokenizer.json` regex for its engine (`(?i:'s|…)` as `'[sS]|…`, the
/// letter-case classes of tekken and gpt-4o as lookaheads), its rewritten form is used.
///
/// Not supported, with the reason: `kimi-k2` (needs the Han script property, which Swift's Unicode
/// tables do not expose), `afmoe` (a digit-grouping rule llama.cpp implements as custom code, not a
/// regex), `whitespace` (used with the "whitespace" tokenizer model, not "gpt2").
public struct LlamaCppVocabularyType: Sendable, Hashable {
    /// The `tokenizer.ggml.pre` value as given.
    public var name: String
    public var preTokenizer: PreTokenizer
    /// A word that is itself a token is emitted whole (`ignore_merges`).
    public var ignoreMerges: Bool
    /// llama.cpp's `add_bos` before `tokenizer.ggml.add_bos_token` overrides it.
    public var addsBOS: Bool
    /// llama.cpp drops the BOS token (`chatglm-bpe`, `glm4`).
    public var hasNoBOS: Bool
    /// SentencePiece-style BPE (Gemma 4, Sarvam): spaces become `▁`, merges run over UTF-8
    /// characters rather than GPT-2's byte alphabet, and characters without a token fall back to
    /// `<0xNN>` byte tokens.
    public var isSentencePieceStyle: Bool
    /// A word of newlines only is emitted whole when it is a token (llama.cpp's Gemma 4 rule).
    public var emitsNewlineRunsWhole: Bool

    /// The type llama.cpp uses for `pre` (an absent key is "default"); nil when llama.cpp does not
    /// know the value or this package does not implement it.
    public init?(pre: String) {
        name = pre
        ignoreMerges = false
        addsBOS = false
        hasNoBOS = false
        isSentencePieceStyle = false
        emitsNewlineRunsWhole = false
        let llama3Contraction = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"#
        let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#
        let qwen2 = llama3Contraction + #"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        let deepseek3 = [
            #"\p{N}{1,3}"#,
            #"[一-龥\#u{3040}-ゟ゠-ヿ]+"#,
            ##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"##,
        ]
        let gpt4o =
            #"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+"# + llama3Contraction
            + #"?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*"# + llama3Contraction
            + #"?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        let llama3Splitter = "(the Llama 3 splitter)"  // not a pattern: selects `.llama3`
        let newlineRuns = #"[^\n]+|[\n]+"#
        let finnish = #" ?[^(\s|.,!?…。，、।۔،)]+"#

        var regexes: [String]
        switch pre {
        case "default", "":
            regexes = [#"[\p{P}\$\+<=>\^~\|]+"#, gpt2Regex, #"\p{N}+"#, "[0-9][0-9][0-9]"]
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
            regexes = [llama3Splitter]
            ignoreMerges = true
            addsBOS = true
        case "dbrx", "smaug-bpe":
            regexes = [llama3Splitter]
        case "chatglm-bpe":
            regexes = [llama3Splitter]
            hasNoBOS = true
        case "glm4", "glm5":
            regexes = [llama3Splitter]
            hasNoBOS = true
            ignoreMerges = true
        case "minicpm5":
            regexes = [
                #"\p{N}{1,3}"#,
                llama3Contraction + #"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
            ]
            ignoreMerges = true
        case "jais-2":
            regexes = [
                llama3Contraction
                    + #"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1}"#
            ]
        case "deepseek-llm":
            regexes = [
                #"[\r\n]"#,
                #"\s?[A-Za-z\#u{B5}\#u{C0}-\#u{D6}\#u{D8}-\#u{F6}\#u{F8}-\#u{1BA}\#u{1BC}-\#u{1BF}\#u{1C4}-\#u{293}\#u{295}-\#u{2AF}\#u{370}-\#u{373}\#u{376}\#u{377}\#u{37B}-\#u{37D}\#u{37F}\#u{386}\#u{388}-\#u{38A}\#u{38C}\#u{38E}-\#u{3A1}\#u{3A3}-\#u{3F5}\#u{3F7}-\#u{481}\#u{48A}-\#u{52F}\#u{531}-\#u{556}\#u{10A0}-\#u{10C5}\#u{13A0}-\#u{13F5}\#u{13F8}-\#u{13FD}\#u{1C90}-\#u{1CBA}\#u{1CBD}-\#u{1CBF}\#u{1D00}-\#u{1D2B}\#u{1D6B}-\#u{1D77}\#u{1D79}-\#u{1D9A}\#u{1E00}-\#u{1F15}\#u{1F18}-\#u{1F1D}\#u{1F20}-\#u{1F45}\#u{1F48}-\#u{1F4D}\#u{1F50}-\#u{1F57}\#u{1F59}\#u{1F5B}\#u{1F5D}\#u{1F5F}-\#u{1F7D}\#u{1F80}-\#u{1FB4}\#u{1FB6}-\#u{1FBC}\#u{1FBE}\#u{1FC2}-\#u{1FC4}\#u{1FC6}-\#u{1FCC}\#u{1FD0}-\#u{1FD3}\#u{1FD6}-\#u{1FDB}\#u{1FE0}-\#u{1FEC}\#u{1FF2}-\#u{1FF4}\#u{1FF6}-\#u{1FFC}\#u{2102}\#u{2107}\#u{210A}-\#u{2113}\#u{2115}\#u{2119}-\#u{211D}\#u{2124}\#u{2126}\#u{2128}\#u{212A}-\#u{212D}\#u{212F}-\#u{2134}\#u{2139}\#u{213C}-\#u{213F}\#u{2145}-\#u{2149}\#u{214E}\#u{2183}\#u{2184}\#u{2C00}-\#u{2C7B}\#u{2C7E}-\#u{2CE4}\#u{2CEB}-\#u{2CEE}\#u{2CF2}\#u{2CF3}\#u{A640}-\#u{A66D}\#u{A680}-\#u{A69B}\#u{A722}-\#u{A76F}\#u{A771}-\#u{A787}\#u{A78B}-\#u{A78E}\#u{AB70}-\#u{ABBF}\#u{FB00}-\#u{FB06}\#u{FB13}-\#u{FB17}\#u{FF21}-\#u{FF3A}\#u{FF41}-\#u{FF5A}\#u{10400}-\#u{1044F}\#u{104B0}-\#u{104D3}\#u{104D8}-\#u{104FB}\#u{10C80}-\#u{10CB2}\#u{10CC0}-\#u{10CF2}\#u{118A0}-\#u{118DF}\#u{1E900}-\#u{1E943}]+"#,
                #"\s?[!-/:-~！-／：-～‘-‟\#u{3000}-。]+"#,
                #"\s+$"#,
                #"[一-龥ࠀ-一가-\#u{D7FF}]+"#,
                #"\p{N}+"#,
            ]
        case "deepseek-coder":
            regexes = [#"[\r\n]"#, #"\s?\p{L}+"#, #"\s?\p{P}+"#, #"[一-龥ࠀ-一가-\#u{D7FF}]+"#, #"\p{N}"#]
        case "deepseek-v3", "hunyuan-dense", "hy_v4", "joyai-llm":
            regexes = deepseek3
        case "spark2_5":
            regexes = [
                deepseek3[0], deepseek3[1],
                ##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+"##,
                #"\p{N}"#,
            ]
        case "youtu":
            regexes = [
                #"[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥\#u{3040}-ゟ゠-ヿ]+"#,
                #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"# + llama3Contraction
                    + #"?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"# + llama3Contraction
                    + #"?|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
            ]
            ignoreMerges = true
        case "falcon":
            regexes = [#"[\p{P}\$\+<=>\^~\|`]+"#, gpt2Regex, "[0-9][0-9][0-9]"]
        case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "minerva", "mellum2":
            regexes = [#"\p{N}"#, gpt2Regex]
        case "gpt-2", "gpt2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
            "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo", "jais", "trillion",
            "granite-docling":
            regexes = [gpt2Regex]
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open":
            regexes = [qwen2]
        case "qwen35":
            regexes = [
                llama3Contraction
                    + #"|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
            ]
        case "poro-chat", "bloom", "gpt3-finnish":
            regexes = [finnish]
        case "viking":
            regexes = [finnish, #"\p{N}"#]
        case "tekken":
            regexes = [
                #"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
            ]
            ignoreMerges = true
            addsBOS = true
        case "chameleon":
            regexes = [
                "<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", #"([\t\n]|    |  )"#, #"\p{N}"#,
                #"[\p{P}!-/:-@\[-`{-~]"#, gpt2Regex,
            ]
            addsBOS = true
        case "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2":
            regexes = [gpt4o]
        case "granite-embed-multi-97m":
            regexes = [gpt4o.replacingOccurrences(of: #"(?=[\p{L}])"#, with: #"(?=[\p{L}\p{M}])"#)]
            ignoreMerges = true
        case "tiny_aya", "cohere2moe":
            regexes = [
                #"\d{1,3}(?=(?:\d{3})*\b)"#,
                #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"# + llama3Contraction
                    + #"?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"# + llama3Contraction
                    + #"?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
            ]
        case "superbpe":
            regexes = [#"\p{N}+"#, #"(?=(\d{3})+(?!\d))"#]
        case "bailingmoe", "bailingmoe2", "llada-moe":
            regexes = [
                #"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#
            ]
        case "seed-coder":
            regexes = [
                llama3Contraction
                    + #"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"#
            ]
        case "ufakzeka":
            regexes = [#"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#]
        case "grok-2":
            regexes = [qwen2]
        case "laguna":
            regexes = [newlineRuns, qwen2]
        case "exaone-moe":
            regexes = [
                llama3Contraction
                    + #"|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+"#
            ]
        case "gemma4", "granite-embed-multi-311m":
            regexes = [newlineRuns]
            isSentencePieceStyle = true
            emitsNewlineRunsWhole = true
        case "sarvam-moe":
            regexes = [newlineRuns]
            isSentencePieceStyle = true
        default:
            return nil
        }
        var steps: [PreTokenizer.Step] = []
        for regex in regexes {
            switch regex {
            case llama3Splitter: steps.append(.llama3)
            case gpt2Regex: steps.append(.gpt2)
            case #"\p{N}"#: steps.append(.isolateNumbers(individually: true))
            case #"\p{N}+"#: steps.append(.isolateNumbers(individually: false))
            default:
                // The table's patterns are fixed strings that SplitPatternTests compiles one by one.
                guard let pattern = try? SplitPattern(regex) else { return nil }
                steps.append(.regex(pattern))
            }
        }
        preTokenizer = PreTokenizer(steps: steps)
    }

    /// Every `tokenizer.ggml.pre` value the table knows (for error messages and tests).
    public static let knownNames: [String] = [
        "default", "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
        "jina-v5-nano", "dbrx", "smaug-bpe", "chatglm-bpe", "glm4", "glm5", "minicpm5", "jais-2", "deepseek-llm",
        "deepseek-coder", "deepseek-v3", "hunyuan-dense", "hy_v4", "joyai-llm", "spark2_5", "youtu", "falcon",
        "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "minerva", "mellum2",
        "gpt-2", "gpt2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
        "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo", "jais", "trillion",
        "granite-docling", "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan",
        "solar-open", "qwen35", "poro-chat", "bloom", "gpt3-finnish", "viking", "tekken", "chameleon", "gpt-4o",
        "llama4", "kanana2", "talkie", "minimax-m2", "granite-embed-multi-97m", "tiny_aya", "cohere2moe", "superbpe",
        "bailingmoe", "bailingmoe2", "llada-moe", "seed-coder", "ufakzeka", "grok-2", "laguna", "exaone-moe", "gemma4",
        "granite-embed-multi-311m", "sarvam-moe",
    ]
}
