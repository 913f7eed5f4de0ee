extension SentencePieceModel {
    /// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space.
    static let spaceSymbol: [UInt8] = [0xE2, 0x96, 0x81]

    /// The text as the identity normalizer leaves it (`normalizer.cc`): optional removal of extra
    /// spaces, the dummy `▁` prefix (or suffix), and ' ' replaced by `▁`. Only U+0020 is a space
    /// here; tabs and newlines stay as they are (and fall back to bytes if the vocabulary lacks them).
    public func normalize(_ text: String) -> [UInt8] {
        var input = Array(text.utf8)[...]
        if options.removeExtraWhitespaces {
            while input.first == 0x20 { input = input.dropFirst() }
        }
        if input.isEmpty { return [] }
        let space = options.escapeWhitespaces ? Self.spaceSymbol : [0x20]
        var output: [UInt8] = []
        output.reserveCapacity(input.count + 16)
        if options.addDummyPrefix && !options.treatWhitespaceAsSuffix { output += space }
        var previousWasSpace = options.removeExtraWhitespaces
        for byte in input {
            if byte == 0x20 {
                if previousWasSpace { continue }
                output += space
                previousWasSpace = options.removeExtraWhitespaces
            } else {
                output.append(byte)
                previousWasSpace = false
            }
        }
        if options.removeExtraWhitespaces {
            while output.count >= space.count && output.suffix(space.count).elementsEqual(space) {
                output.removeLast(space.count)
            }
        }
        if options.addDummyPrefix && options.treatWhitespaceAsSuffix { output += space }
        return output
    }

    /// The ids of `text` as `SentencePieceProcessor::Encode` returns them: normalization, the
    /// model's segmentation, then byte fallback for unknown pieces (or one `<unk>` per run of
    /// unknown characters when byte fallback is off).
    public func encode(_ text: String) -> [Int] {
        let normalized = normalize(text)
        if normalized.isEmpty { return [] }
        let segments = algorithm == .bpe ? bpeSegments(normalized) : unigramSegments(normalized)
        var ids: [Int] = []
        ids.reserveCapacity(segments.count)
        var previousWasUnknown = false
        for (bytes, id) in segments {
            if let id, id != unknownID {
                ids.append(id)
                previousWasUnknown = false
            } else if options.byteFallback {
                for byte in bytes { ids.append(byteIDs[Int(byte)]!) }
                previousWasUnknown = false
            } else {
                if !previousWasUnknown { ids.append(unknownID) }
                previousWasUnknown = true
            }
        }
        return ids
    }

    /// The length of the UTF-8 character starting with `lead` (1 for a stray continuation byte).
    static func characterLength(lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: 4
        case 0xE0...: 3
        case 0xC0...: 2
        default: 1
        }
    }

    // MARK: - BPE (bpe_model.cc)

    /// A candidate merge on the agenda. The smallest is taken first: the highest score, then the
    /// leftmost position, as sentencepiece's `SymbolPairComparator` orders its priority queue.
    private struct SymbolPair: Comparable {
        var score: Float
        var left: Int
        var right: Int
        var size: Int

        static func < (a: SymbolPair, b: SymbolPair) -> Bool {
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }
    }

    private struct Symbol {
        var start: Int
        var end: Int
        var previous: Int
        var next: Int
        var frozen: Bool
    }

    /// The BPE segmentation of normalized text: pieces (as bytes) with their ids, nil for unknown.
    func bpeSegments(_ normalized: [UInt8]) -> [(ArraySlice<UInt8>, Int?)] {
        var symbols: [Symbol] = []
        var position = 0
        while position < normalized.count {
            var end = min(normalized.count, position + Self.characterLength(lead: normalized[position]))
            var frozen = false
            if !userDefinedTrie.isEmpty, let match = userDefinedTrie.longestPrefix(of: normalized, from: position) {
                end = match.end
                frozen = true
            }
            let index = symbols.count
            symbols.append(Symbol(
                start: position, end: end, previous: index - 1, next: end < normalized.count ? index + 1 : -1,
                frozen: frozen))
            position = end
        }

        var agenda = BinaryHeap<SymbolPair>()
        var reverseMerges: [Int: (ArraySlice<UInt8>, ArraySlice<UInt8>)] = [:]
        func addPair(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0, !symbols[left].frozen, !symbols[right].frozen else { return }
            guard symbols[right].end - symbols[left].start <= maximumPieceLength else { return }
            let merged = normalized[symbols[left].start..<symbols[right].end]
            guard let id = segmentationTrie.value(for: merged) else { return }
            agenda.insert(SymbolPair(score: pieces[id].score, left: left, right: right, size: merged.count))
            if pieces[id].type == .unused {
                reverseMerges[id] = (
                    normalized[symbols[left].start..<symbols[left].end],
                    normalized[symbols[right].start..<symbols[right].end]
                )
            }
        }
        for index in symbols.indices.dropFirst() { addPair(index - 1, index) }

        while let top = agenda.popMinimum() {
            let left = symbols[top.left]
            let right = symbols[top.right]
            // Stale: one side was merged away or grew since the pair was queued.
            guard left.start < left.end, right.start < right.end,
                (left.end - left.start) + (right.end - right.start) == top.size
            else { continue }
            symbols[top.left].end = right.end
            symbols[top.left].next = right.next
            if right.next >= 0 { symbols[right.next].previous = top.left }
            symbols[top.right].start = symbols[top.right].end
            addPair(symbols[top.left].previous, top.left)
            addPair(top.left, symbols[top.left].next)
        }

        var output: [(ArraySlice<UInt8>, Int?)] = []
        func resegment(_ piece: ArraySlice<UInt8>, depth: Int) {
            let id = segmentationTrie.value(for: piece)
            if let id, pieces[id].type == .unused, depth < 64, let (left, right) = reverseMerges[id] {
                resegment(left, depth: depth + 1)
                resegment(right, depth: depth + 1)
            } else {
                output.append((piece, id))
            }
        }
        var index = symbols.isEmpty ? -1 : 0
        while index >= 0 {
            resegment(normalized[symbols[index].start..<symbols[index].end], depth: 0)
            index = symbols[index].next
        }
        return output
    }

    // MARK: - Unigram (unigram_model.cc, EncodeOptimized)

    /// sentencepiece's `kUnkPenalty`: an unknown character costs this much more than the rarest piece.
    static let unknownPenalty: Float = 10

    /// The Viterbi segmentation of normalized text under the pieces' log-probabilities.
    func unigramSegments(_ normalized: [UInt8]) -> [(ArraySlice<UInt8>, Int?)] {
        struct Node {
            var id = -1
            var score: Float = 0
            var start = -1
        }
        let size = normalized.count
        var best = [Node](repeating: Node(), count: size + 1)
        let unknownScore = minimumScore - Self.unknownPenalty
        var start = 0
        while start < size {
            let scoreHere = best[start].score
            let characterLength = min(Self.characterLength(lead: normalized[start]), size - start)
            var hasSingleCharacter = false
            segmentationTrie.forEachPrefix(of: normalized, from: start) { end, id in
                let type = pieces[id].type
                if type == .unused { return }
                let length = end - start
                let candidate: Float
                if type == .userDefined {
                    // User-defined symbols get a bonus so they are always chosen (computed in double
                    // precision as in the reference).
                    candidate = Float(Double(Float(length) * maximumScore) - 0.1 + Double(scoreHere))
                } else {
                    candidate = pieces[id].score + scoreHere
                }
                if best[end].start == -1 || candidate > best[end].score {
                    best[end] = Node(id: id, score: candidate, start: start)
                }
                if length == characterLength { hasSingleCharacter = true }
            }
            if !hasSingleCharacter {
                let end = start + characterLength
                let candidate = unknownScore + scoreHere
                if best[end].start == -1 || candidate > best[end].score {
                    best[end] = Node(id: unknownID, score: candidate, start: start)
                }
            }
            start += characterLength
        }
        var output: [(ArraySlice<UInt8>, Int?)] = []
        var end = size
        while end > 0 {
            let node = best[end]
            output.append((normalized[node.start..<end], node.id == unknownID ? nil : node.id))
            end = node.start
        }
        output.reverse()
        return output
    }
}
