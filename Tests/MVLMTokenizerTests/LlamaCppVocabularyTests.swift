import Foundation
import MVLMCore
import MVLMGGUF
import MVLMTestSupport
import MVLMTokenizer
import Testing

/// llama.cpp's tokenizer test vectors: `models/ggml-vocab-*.gguf` (vocabulary-only GGUF files) with
/// `.inp` (texts separated by `__ggml_vocab_test__` lines) and `.out` (the expected ids, one line per
/// text, made by Hugging Face tokenizers; llama.cpp's `test-tokenizer-0` must reproduce them).
///
/// `.ci/tokenizer-vectors` fetches them from the llama.cpp tree vendored in the llama-cpp-python
/// sdist into `.build-real-files/llamacpp-vocab/` and `MVLM_LLAMACPP_VOCABS` names that folder.
/// Each text is encoded as `test-tokenizer-0` does: `common_tokenize(ctx, text, add_special: false,
/// parse_special: false)`, i.e. no BOS/EOS and special tokens written in the text read as text.
@Suite("llama.cpp tokenizer test vectors (ggml-vocab-*.gguf)")
struct LlamaCppVocabularyTests {
    static let folder = ProcessInfo.processInfo.environment["MVLM_LLAMACPP_VOCABS"]

    /// The vocabularies with test vectors that must pass: every SentencePiece ("llama") and BPE
    /// ("gpt2", "gemma4") one in llama-cpp-python 0.3.36's tree.
    static let vocabularies = [
        "llama-spm", "phi-3", "gpt-2", "llama-bpe", "falcon", "mpt", "starcoder", "refact", "command-r",
        "deepseek-llm", "deepseek-coder", "qwen2", "qwen35", "gemma-4",
    ]

    /// Vectors of a vocabulary type this package does not implement: they must be refused with a
    /// one-line `.unsupported` error naming the type.
    static let refused = ["bert-bge": "bert"]

    struct Vector {
        var text: String
        var ids: [Int]
    }

    /// The texts and ids of one vocabulary, split as `test-tokenizer-0.cpp`'s `read_tests` splits them.
    static func vectors(_ name: String) throws -> [Vector] {
        let base = "\(folder!)/ggml-vocab-\(name).gguf"
        let input = String(decoding: try Data(contentsOf: URL(fileURLWithPath: base + ".inp")), as: UTF8.self)
        let output = String(decoding: try Data(contentsOf: URL(fileURLWithPath: base + ".out")), as: UTF8.self)
        var texts: [String] = []
        var rest = Substring(input)
        while !rest.isEmpty {
            guard let separator = rest.range(of: "\n__ggml_vocab_test__\n") else {
                texts.append(String(rest))
                break
            }
            texts.append(String(rest[..<separator.lowerBound]))
            rest = rest[separator.upperBound...]
        }
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.count == texts.count else {
            throw MVLMError(.malformed, "\(texts.count) texts but \(lines.count) id lines", file: base)
        }
        return try zip(texts, lines).map { text, line in
            let ids = try line.split(separator: " ").map { field in
                guard let id = Int(field) else { throw MVLMError(.malformed, "'\(field)' is not an id", file: base + ".out") }
                return id
            }
            return Vector(text: text, ids: ids)
        }
    }

    static func tokenizer(_ name: String) throws -> (Tokenizer, [String: MetadataValue]) {
        let path = "\(folder!)/ggml-vocab-\(name).gguf"
        let metadata = try GGUFReader(path: path).metadata
        var tokenizer = try Tokenizer(ggufMetadata: metadata, context: path)
        tokenizer.addEOS = false
        return (tokenizer, metadata)
    }

    @Test(.enabled(if: folder != nil, "set MVLM_LLAMACPP_VOCABS to the folder .ci/tokenizer-vectors fills"), arguments: vocabularies)
    func expectedIDs(vocabulary: String) throws {
        let (tokenizer, metadata) = try Self.tokenizer(vocabulary)
        let vectors = try Self.vectors(vocabulary)
        try #require(vectors.count >= 40)
        var failures: [String] = []
        var roundTripFailures: [String] = []
        for vector in vectors {
            let ids = tokenizer.encode(vector.text, addBOS: false, parseSpecial: false)
            if ids != vector.ids {
                failures.append("\(vector.text.debugDescription): expected \(vector.ids), got \(ids)")
            }
            // Byte-level BPE is lossless: the expected ids decode to the text.
            if case .byteLevelBPE(let bpe) = tokenizer.model, !bpe.isSentencePieceStyle,
                tokenizer.decode(vector.ids) != vector.text
            {
                roundTripFailures.append(vector.text.debugDescription)
            }
        }
        let model = metadata["tokenizer.ggml.model"]?.stringValue ?? "?"
        let pre = metadata["tokenizer.ggml.pre"]?.stringValue ?? "(none)"
        print("llama.cpp vectors: ggml-vocab-\(vocabulary).gguf \(model) \(pre): \(vectors.count - failures.count)/\(vectors.count) identical")
        #expect(failures.isEmpty, "\(failures.count) of \(vectors.count) texts differ:\n\(failures.prefix(8).joined(separator: "\n"))")
        #expect(roundTripFailures.isEmpty, "expected ids do not decode to the text: \(roundTripFailures.prefix(8))")
    }

    @Test(.enabled(if: folder != nil, "set MVLM_LLAMACPP_VOCABS to the folder .ci/tokenizer-vectors fills"), arguments: refused.sorted(by: { $0.key < $1.key }).map { $0 })
    func unsupportedTypesAreRefused(vocabulary: String, model: String) throws {
        let path = "\(Self.folder!)/ggml-vocab-\(vocabulary).gguf"
        let metadata = try GGUFReader(path: path).metadata
        #expect(metadata["tokenizer.ggml.model"]?.stringValue == model)
        let error = #expect(throws: MVLMError.self) { try Tokenizer(ggufMetadata: metadata, context: path) }
        #expect(error?.code == .unsupported)
        #expect(error?.description.contains("'\(model)'") == true)
        #expect(error?.description.contains("\n") == false)
    }

    /// The vocabularies without vectors still load (or are refused for their type).
    @Test(.enabled(if: folder != nil, "set MVLM_LLAMACPP_VOCABS to the folder .ci/tokenizer-vectors fills"))
    func vocabulariesWithoutVectorsLoad() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder!)
        let withoutVectors = files.filter { $0.hasSuffix(".gguf") && !files.contains($0 + ".inp") }.sorted()
        #expect(!withoutVectors.isEmpty)
        for file in withoutVectors {
            let metadata = try GGUFReader(path: "\(Self.folder!)/\(file)").metadata
            let model = metadata["tokenizer.ggml.model"]?.stringValue ?? "?"
            do {
                let tokenizer = try Tokenizer(ggufMetadata: metadata, context: file)
                let ids = tokenizer.encode("Hello world", addBOS: false, parseSpecial: false)
                #expect(!ids.isEmpty && tokenizer.decode(ids).hasSuffix("Hello world"), "\(file)")
                print("llama.cpp vocabulary without vectors: \(file) (\(model)) loads")
            } catch let error as MVLMError {
                #expect(["t5", "bert", "rwkv"].contains(model), "\(file): \(error)")
                print("llama.cpp vocabulary without vectors: \(file) (\(model)) refused: \(error)")
            }
        }
    }

    /// The folder holds every vocabulary this suite expects, so a partial download fails loudly.
    @Test(.enabled(if: folder != nil, "set MVLM_LLAMACPP_VOCABS to the folder .ci/tokenizer-vectors fills"))
    func folderIsComplete() throws {
        for name in Self.vocabularies + Self.refused.keys.sorted() {
            for suffix in ["", ".inp", ".out"] {
                let path = "\(Self.folder!)/ggml-vocab-\(name).gguf\(suffix)"
                #expect(FileManager.default.fileExists(atPath: path), "missing \(path)")
            }
        }
    }

    /// `mvlm tokenize` and `mvlm detokenize` through the built CLI give the same ids on real
    /// vectors (one invocation per text: each loads the vocabulary).
    @Test(.enabled(if: folder != nil, "set MVLM_LLAMACPP_VOCABS to the folder .ci/tokenizer-vectors fills"), arguments: ["llama-spm", "deepseek-coder"])
    func commandLine(vocabulary: String) throws {
        let path = "\(Self.folder!)/ggml-vocab-\(vocabulary).gguf"
        let vectors = try Self.vectors(vocabulary)
        let picked = [vectors.last!] + vectors.filter { $0.text.contains("y'all") || $0.text == "\n =" }
        try #require(picked.count == 3)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mvlm-tokenize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (index, vector) in picked.enumerated() {
            let file = directory.appendingPathComponent("text\(index).txt")
            try Data(vector.text.utf8).write(to: file)
            let result = try CommandLineTool.run(
                ["tokenize", path, "--file", file.path, "--no-bos", "--no-parse-special", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(object["ids"] as? [Int] == vector.ids, "\(vector.text.debugDescription)")
            #expect((object["tokens"] as? [[String: Any]])?.count == vector.ids.count)
            if index == 0 {
                let plain = try CommandLineTool.run(["tokenize", path, "--file", file.path, "--no-bos", "--no-parse-special"])
                #expect(plain.stdout == vector.ids.map(String.init).joined(separator: " ") + "\n")
            }
        }
        let ids = picked[1].ids
        let decoded = try CommandLineTool.run(["detokenize", path, "--ids", ids.map(String.init).joined(separator: ","), "--json"])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(decoded.stdout.utf8)) as? [String: Any])
        #expect(object["text"] as? String == picked[1].text)
    }
}
