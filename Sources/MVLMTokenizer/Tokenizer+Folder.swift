import Foundation
import MVLMCore
import MVLMFileIO

extension Tokenizer {
    /// The tokenizer of a model folder: `tokenizer.model` (SentencePiece) if present, else
    /// `tokenizer.json` (byte-level BPE), with `tokenizer_config.json` when present for
    /// `add_bos_token`, `add_eos_token`, the special tokens and `chat_template`.
    ///
    /// A SentencePiece model's CONTROL and UNKNOWN pieces become special added tokens; bos/eos
    /// default to the model's `bos_id`/`eos_id`, and `add_bos_token` to true (LLaMA's setting).
    ///
    /// - Parameter folder: the model folder.
    /// - Throws: `MVLMError` (`.notFound` when neither file exists, and whatever parsing throws,
    ///   naming the file).
    public init(folder: String) throws {
        let base = URL(fileURLWithPath: folder)
        func path(_ name: String) -> String { base.appendingPathComponent(name).path }
        let fileManager = FileManager.default
        var config: [String: Any]?
        if fileManager.fileExists(atPath: path("tokenizer_config.json")) {
            let bytes = try Self.readFile(path("tokenizer_config.json"))
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw MVLMError(.malformed, "not a JSON object", file: path("tokenizer_config.json"))
            }
            config = object
        }
        if fileManager.fileExists(atPath: path("tokenizer.model")) {
            let file = path("tokenizer.model")
            let model = try SentencePieceModel(serializedModel: try Self.readFile(file), context: file)
            var added: [AddedToken] = []
            for (id, piece) in model.pieces.enumerated() where piece.type == .control || piece.type == .unknown {
                added.append(AddedToken(content: piece.text, id: id, isSpecial: true))
            }
            func configToken(_ name: String) -> Int? {
                guard let value = config?[name] else { return nil }
                let content = (value as? String) ?? ((value as? [String: Any])?["content"] as? String)
                return content.flatMap { model.id(ofPiece: $0) }
            }
            try self.init(
                model: .sentencePiece(model), addedTokens: added, bosID: configToken("bos_token") ?? model.bosID,
                eosID: configToken("eos_token") ?? model.eosID, unknownID: model.unknownID,
                paddingID: configToken("pad_token") ?? model.padID,
                addBOS: config?["add_bos_token"] as? Bool ?? true, addEOS: config?["add_eos_token"] as? Bool ?? false,
                chatTemplate: Self.chatTemplate(config?["chat_template"]), context: file)
        } else if fileManager.fileExists(atPath: path("tokenizer.json")) {
            let file = path("tokenizer.json")
            try self.init(huggingFaceJSON: try Self.readFile(file), config: config, context: file)
        } else {
            throw MVLMError(
                .notFound, "no tokenizer.model or tokenizer.json in the folder (a GGUF file carries its own: use its metadata)",
                file: folder)
        }
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        let file = try MappedFile(path: path)
        return file.withUnsafeBytes { Array($0) }
    }
}
