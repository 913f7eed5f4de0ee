import MVLMCore

/// Writes a tensor as the source stores it (`StorageType.keep`: integer tensors, blocks already
/// in the wanted scheme), byte for byte.
struct CopyStreamer {
    func stream(_ decision: TensorDecision, sources: [Tensor], into writer: some ConversionSink, advance: (Int) -> Void) throws {
        guard sources.allSatisfy({ $0.dtype == sources[0].dtype }) else {
            throw MVLMError(.invalidArgument, "fused sources differ in dtype")
        }
        try writer.beginTensor(decision, dtype: sources[0].dtype)
        for source in sources {
            try RowStreamer(tensor: source).bytes { chunk in
                try writer.write(chunk)
                advance(chunk.count)
            }
        }
        try writer.endTensor()
    }
}
