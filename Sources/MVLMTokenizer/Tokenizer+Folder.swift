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
        var files: [String: [UInt8]] = [:]
        for name in Self.fileNames where FileManager.default.fileExists(atPath: base.appendingPathComponent(name).path) {
            files[name] = try Self.readFile(base.appendingPathComponent(name).path)
        }
        guard files["tokenizer.model"] != nil || files["tokenizer.json"] != nil else {
            throw MVLMError(
                .notFound, "no tokenizer.model or tokenizer.json in the folder (a GGUF file carries its own: use its metadata)",
                file: folder)
        }
        try self.init(files: files, context: folder)
    }

    /// The files a tokenizer is made from, by name: `tokenizer.model`, `tokenizer.json`,
    /// `tokenizer_config.json`, and the chat template files `chat_template.jinja` and
    /// `chat_template.json` (what a model folder holds and an `.mvlm` file embeds).
    public static let fileNames = ["tokenizer.model", "tokenizer.json", "tokenizer_config.json"] + chatTemplateFileNames

    /// The tokenizer made from the bytes of a folder's tokenizer files (see `init(folder:)`).
    /// - Parameters:
    ///   - files: file name → contents; `tokenizer.model` wins over `tokenizer.json`.
    ///   - context: where the files came from, for error messages.
    public init(files: [String: [UInt8]], context: String) throws {
        func path(_ name: String) -> String { context + "/" + name }
        var config: [String: Any]?
        if let bytes = files["tokenizer_config.json"] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw MVLMError(.malformed, "not a JSON object", file: path("tokenizer_config.json"))
            }
            config = object
        }
        if let bytes = files["tokenizer.model"] {
            let file = path("tokenizer.model")
            let model = try SentencePieceModel(serializedModel: bytes, context: file)
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
        } else if let bytes = files["tokenizer.json"] {
            try self.init(huggingFaceJSON: bytes, config: config, context: path("tokenizer.json"))
        } else {
            throw MVLMError(.notFound, "neither tokenizer.model nor tokenizer.json was given", file: context)
        }
        let templates = try Self.chatTemplates(files: files, context: context)
        chatTemplate = templates.defaultTemplate
        namedChatTemplates = templates.named
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        let file = try MappedFile(path: path)
        return file.withUnsafeBytes { Array($0) }
    }
}
