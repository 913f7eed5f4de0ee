extension SentencePieceModel {
    /// The text of `ids` as `SentencePieceProcessor::Decode` gives it: control pieces vanish, the
    /// unknown piece becomes `unk_surface`, runs of byte pieces are reassembled into UTF-8 (each
    /// invalid byte becomes U+FFFD), `▁` becomes a space, and the dummy prefix space of the first
    /// piece is removed. Ids outside the vocabulary are skipped.
    ///
    /// - Parameter renderingControlPieces: show control pieces as their text (`<s>`) instead of
    ///   nothing (sentencepiece's behaviour, the default).
    public func decode(_ ids: [Int], renderingControlPieces: Bool = false) -> String {
        var text: [UInt8] = []
        var pendingBytes: [UInt8] = []
        // sentencepiece removes the dummy space from the first piece that is not a control piece.
        var isFirstVisiblePiece = true
        let stripsLeadingSpace = options.addDummyPrefix || options.removeExtraWhitespaces
        func flushBytes() {
            if pendingBytes.isEmpty { return }
            text += UTF8Repair.repaired(pendingBytes)
            pendingBytes.removeAll(keepingCapacity: true)
        }
        for id in ids where pieces.indices.contains(id) {
            let piece = pieces[id]
            if piece.type == .byte {
                pendingBytes.append(Self.byteValue(ofPiece: piece.text)!)
                isFirstVisiblePiece = false
                continue
            }
            flushBytes()
            switch piece.type {
            case .control:
                if renderingControlPieces { text += Array(piece.text.utf8) }
            case .unknown:
                text += Array(options.unknownSurface.utf8)
                isFirstVisiblePiece = false
            default:
                var utf8 = Array(piece.text.utf8)[...]
                if isFirstVisiblePiece && stripsLeadingSpace && !options.treatWhitespaceAsSuffix
                    && utf8.starts(with: Self.spaceSymbol)
                {
                    utf8 = utf8.dropFirst(Self.spaceSymbol.count)
                }
                text += Self.replacingSpaceSymbols(utf8)
                isFirstVisiblePiece = false
            }
        }
        flushBytes()
        if options.treatWhitespaceAsSuffix && stripsLeadingSpace && text.last == 0x20 { text.removeLast() }
        return String(decoding: text, as: UTF8.self)
    }

    static func replacingSpaceSymbols(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 0xE2, index + 2 < bytes.endIndex, bytes[index + 1] == 0x96, bytes[index + 2] == 0x81 {
                result.append(0x20)
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }
}
