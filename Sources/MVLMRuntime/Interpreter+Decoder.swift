import CMVLMKernels
import MVLMCore
import MVLMGraph

extension Interpreter {
    /// Token embedding (with image rows spliced in), rotary positions and cached causal attention.
    mutating func computeDecoder(_ step: NodeStep) throws -> Activation {
        let node = step.node
        func value(_ index: Int) -> Activation { step.value(index) }
        func fail(_ message: String) -> MVLMError { step.fail(message) }
        let threads = self.threads
        let tokens = step.tokens
        let past = step.past
        let newTokens = step.newTokens

        switch node.operation {
        case .embedding:
            let table = tensors[node.inputs[0]]!
            let ids = tokens[node.inputs[1]]!
            let rows = table.shape[0], width = table.shape[1]
            let spliced = node.inputs.count == 3 ? value(2) : nil
            var indices: [Int] = []
            var textPositions: [Int] = []
            indices.reserveCapacity(ids.count)
            textPositions.reserveCapacity(ids.count)
            var splicedCount = 0
            for (position, id) in ids.enumerated() {
                if id < 0, spliced != nil {
                    splicedCount += 1
                    continue
                }
                guard id >= 0, Int(id) < rows else { throw fail("token id \(id) is outside the vocabulary 0..<\(rows)") }
                indices.append(Int(id))
                textPositions.append(position)
            }
            if let spliced, spliced.shape[0] != splicedCount {
                throw fail("the prompt has \(splicedCount) image positions (negative ids) but \(spliced.shape[0]) image rows were given")
            }
            var gathered = [Float](repeating: 0, count: indices.count * width)
            try gathered.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                try table.apply(RowGather(rows: indices, width: width, output: base))
            }
            guard let spliced else { return Activation(shape: [ids.count, width], values: gathered) }
            var output = [Float](repeating: 0, count: ids.count * width)
            var text = 0, image = 0
            for position in 0..<ids.count {
                let target = position * width
                if text < textPositions.count, textPositions[text] == position {
                    output.replaceSubrange(target..<(target + width), with: gathered[(text * width)..<((text + 1) * width)])
                    text += 1
                } else {
                    output.replaceSubrange(target..<(target + width), with: spliced.values[(image * width)..<((image + 1) * width)])
                    image += 1
                }
            }
            return Activation(shape: [ids.count, width], values: output)

        case .rope(let rope):
            var x = value(0)
            let inverse = frequencies[node.id]!
            let rows = x.rowCount, width = x.lastDimension
            x.values.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                Kernels.rope(
                    base, tokens: rows, width: width, firstPosition: past, inverseFrequencies: inverse,
                    headDimension: rope.headDimension, interleaved: rope.interleaved)
            }
            return x

        case .attention(let p):
            let q = value(0), k = value(1), v = value(2)
            let rows = q.shape[0]
            guard rows == newTokens, k.shape[0] == rows, v.shape[0] == rows else {
                throw fail("attention over \(rows) rows, but this call adds \(newTokens) tokens")
            }
            cache.keys[p.cacheSlot].append(contentsOf: k.values)
            cache.values[p.cacheSlot].append(contentsOf: v.values)
            var output = [Float](repeating: 0, count: q.values.count)
            q.values.withUnsafeBufferPointer { qs in
                cache.keys[p.cacheSlot].withUnsafeBufferPointer { keys in
                    cache.values[p.cacheSlot].withUnsafeBufferPointer { cachedValues in
                        output.withUnsafeMutableBufferPointer { out in
                            guard let o = out.baseAddress else { return }
                            if rows >= AttentionKernel.minimumRows && NativeKernels.isEnabled {
                                // Both products as matrix multiplications (C kernels).
                                AttentionKernel.run(
                                    q: qs.baseAddress!, keys: keys.baseAddress!, values: cachedValues.baseAddress!,
                                    output: o, tokens: rows, past: past, parameters: p, causal: true, threads: threads)
                            } else if NativeKernels.isEnabled {
                                // Decode: vector dot products per (token, head) in C.
                                AttentionKernel.runRows(
                                    q: qs.baseAddress!, keys: keys.baseAddress!, values: cachedValues.baseAddress!,
                                    output: o, tokens: rows, past: past, parameters: p, causal: true, threads: threads)
                            } else {
                                Kernels.attention(
                                    q: qs.baseAddress!, keys: keys.baseAddress!, values: cachedValues.baseAddress!,
                                    output: o, tokens: rows, past: past, parameters: p, threads: threads)
                            }
                        }
                    }
                }
            }
            return Activation(shape: q.shape, values: output)
        default:
            preconditionFailure("\(node.operation.name) is not a decoder operation")
        }
    }
}
