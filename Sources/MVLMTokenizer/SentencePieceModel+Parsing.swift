import MVLMCore

extension SentencePieceModel {
    /// The most pieces a model may declare (LLaMA has 32,000; the largest public models ~256k).
    public static let maximumPieceCount = 1 << 22

    /// Parses a serialized `ModelProto` (the bytes of `tokenizer.model`).
    ///
    /// Reads `pieces` (piece, score, type), `trainer_spec` (model_type, byte_fallback, unk/bos/eos/pad
    /// ids, unk_surface, treat_whitespace_as_suffix) and `normalizer_spec` (name,
    /// precompiled_charsmap, add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces) with
    /// proto2 defaults for absent fields; every other field is skipped by its wire type.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - context: the file name, for error messages.
    /// - Throws: `MVLMError` (`.truncated`, `.malformed`) for bytes that are not a well-formed
    ///   `ModelProto`, `.unsupported` for WORD/CHAR models and precompiled normalizers.
    public init(serializedModel bytes: [UInt8], context: String = "tokenizer.model") throws {
        var reader = ProtobufReader(bytes: bytes, context: context, path: "ModelProto")
        var pieces: [Piece] = []
        var trainer = TrainerFields()
        var normalizer = NormalizerFields()
        while let (number, wireType) = try reader.nextField() {
            switch number {
            case 1:
                try reader.require(wireType, .lengthDelimited, field: "pieces")
                guard pieces.count < Self.maximumPieceCount else {
                    throw MVLMError(.malformed, "more than \(Self.maximumPieceCount) pieces", file: context)
                }
                var message = try reader.readMessage(path: "ModelProto.pieces[\(pieces.count)]")
                pieces.append(try Self.parsePiece(&message))
            case 2:
                try reader.require(wireType, .lengthDelimited, field: "trainer_spec")
                var message = try reader.readMessage(path: "ModelProto.trainer_spec")
                try trainer.parse(&message)
            case 3:
                try reader.require(wireType, .lengthDelimited, field: "normalizer_spec")
                var message = try reader.readMessage(path: "ModelProto.normalizer_spec")
                try normalizer.parse(&message)
            default:
                try reader.skip(wireType)
            }
        }
        guard !pieces.isEmpty else {
            throw MVLMError(.malformed, "the model has no pieces (is this a SentencePiece tokenizer.model?)", file: context)
        }
        guard let algorithm = Algorithm(rawValue: Int(trainer.modelType)) else {
            let name = [3: "WORD", 4: "CHAR"][trainer.modelType] ?? "\(trainer.modelType)"
            throw MVLMError(
                .unsupported, "model_type \(name) is not supported; only UNIGRAM (1) and BPE (2)", file: context,
                subject: "trainer_spec.model_type")
        }
        guard normalizer.precompiledCharsmapLength == 0 else {
            throw MVLMError(
                .unsupported,
                "normalizer '\(normalizer.name)' uses a precompiled character map (\(normalizer.precompiledCharsmapLength) bytes); only the identity normalizer (LLaMA's) is supported",
                file: context, subject: "normalizer_spec")
        }
        var options = Options()
        options.addDummyPrefix = normalizer.addDummyPrefix
        options.removeExtraWhitespaces = normalizer.removeExtraWhitespaces
        options.escapeWhitespaces = normalizer.escapeWhitespaces
        options.treatWhitespaceAsSuffix = trainer.treatWhitespaceAsSuffix
        options.byteFallback = trainer.byteFallback
        options.unknownSurface = trainer.unknownSurface
        func optionalID(_ value: Int32) -> Int? { value < 0 ? nil : Int(value) }
        try self.init(
            algorithm: algorithm, pieces: pieces, options: options, unknownID: Int(trainer.unknownID),
            bosID: optionalID(trainer.bosID), eosID: optionalID(trainer.eosID), padID: optionalID(trainer.padID),
            context: context)
    }

    private static func parsePiece(_ reader: inout ProtobufReader) throws -> Piece {
        var text: String?
        var score: Float = 0
        var type = TokenType.normal
        while let (number, wireType) = try reader.nextField() {
            switch number {
            case 1:
                try reader.require(wireType, .lengthDelimited, field: "piece")
                text = try reader.readString(field: "piece")
            case 2:
                try reader.require(wireType, .fixed32, field: "score")
                score = try reader.readFloat()
            case 3:
                try reader.require(wireType, .varint, field: "type")
                let raw = try reader.readInt32()
                guard let value = TokenType(rawValue: Int(raw)) else {
                    throw MVLMError(.malformed, "piece type \(raw) is not one of 1...6", file: reader.context, subject: reader.path)
                }
                type = value
            default:
                try reader.skip(wireType)
            }
        }
        guard let text else {
            throw MVLMError(.malformed, "piece has no text (field 1)", file: reader.context, subject: reader.path)
        }
        guard score.isFinite else {
            throw MVLMError(.malformed, "piece '\(text)' has a non-finite score", file: reader.context, subject: reader.path)
        }
        return Piece(text: text, score: score, type: type)
    }

    /// `TrainerSpec` fields that matter for encoding, with proto2 defaults.
    private struct TrainerFields {
        var modelType: Int32 = 1
        var byteFallback = false
        var treatWhitespaceAsSuffix = false
        var unknownID: Int32 = 0
        var bosID: Int32 = 1
        var eosID: Int32 = 2
        var padID: Int32 = -1
        var unknownSurface = " \u{2047} "

        mutating func parse(_ reader: inout ProtobufReader) throws {
            while let (number, wireType) = try reader.nextField() {
                switch number {
                case 3: try reader.require(wireType, .varint, field: "model_type"); modelType = try reader.readInt32()
                case 35: try reader.require(wireType, .varint, field: "byte_fallback"); byteFallback = try reader.readBool()
                case 24:
                    try reader.require(wireType, .varint, field: "treat_whitespace_as_suffix")
                    treatWhitespaceAsSuffix = try reader.readBool()
                case 40: try reader.require(wireType, .varint, field: "unk_id"); unknownID = try reader.readInt32()
                case 41: try reader.require(wireType, .varint, field: "bos_id"); bosID = try reader.readInt32()
                case 42: try reader.require(wireType, .varint, field: "eos_id"); eosID = try reader.readInt32()
                case 43: try reader.require(wireType, .varint, field: "pad_id"); padID = try reader.readInt32()
                case 44:
                    try reader.require(wireType, .lengthDelimited, field: "unk_surface")
                    unknownSurface = try reader.readString(field: "unk_surface")
                default: try reader.skip(wireType)
                }
            }
        }
    }

    /// `NormalizerSpec` fields, with proto2 defaults.
    private struct NormalizerFields {
        var name = ""
        var precompiledCharsmapLength = 0
        var addDummyPrefix = true
        var removeExtraWhitespaces = true
        var escapeWhitespaces = true

        mutating func parse(_ reader: inout ProtobufReader) throws {
            while let (number, wireType) = try reader.nextField() {
                switch number {
                case 1: try reader.require(wireType, .lengthDelimited, field: "name"); name = try reader.readString(field: "name")
                case 2:
                    try reader.require(wireType, .lengthDelimited, field: "precompiled_charsmap")
                    precompiledCharsmapLength = try reader.readBytes().count
                case 3:
                    try reader.require(wireType, .varint, field: "add_dummy_prefix")
                    addDummyPrefix = try reader.readBool()
                case 4:
                    try reader.require(wireType, .varint, field: "remove_extra_whitespaces")
                    removeExtraWhitespaces = try reader.readBool()
                case 5:
                    try reader.require(wireType, .varint, field: "escape_whitespaces")
                    escapeWhitespaces = try reader.readBool()
                default: try reader.skip(wireType)
                }
            }
        }
    }
}
