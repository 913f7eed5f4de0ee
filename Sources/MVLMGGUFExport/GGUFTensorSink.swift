import MVLMConvert
import MVLMCore
import MVLMGGUF

/// The GGUF output of the streaming conversion: takes the converter's tensors under their plan
/// names and writes them into a `GGUFWriter` under their GGUF names, permuting the rows of Q and K
/// projections (`HeadRowPermutation`) one head at a time as the bytes arrive, so memory stays at a
/// head's rows whatever the chunking.
public final class GGUFTensorSink: ConversionSink {
    /// Where one plan tensor goes.
    public struct Route: Sendable, Hashable {
        /// The tensor's name in the GGUF file.
        public var name: String
        /// The row order to apply, if any.
        public var permutation: HeadRowPermutation?

        public init(name: String, permutation: HeadRowPermutation? = nil) {
            self.name = name
            self.permutation = permutation
        }
    }

    public let writer: GGUFWriter
    private let routes: [String: Route]
    private let dtypes: [String: DType]
    private var current: (route: Route, groupBytes: Int, rowBytes: Int)?
    private var pending: [UInt8] = []

    /// - Parameters:
    ///   - writer: the GGUF file, its tensor table already declared.
    ///   - routes: plan tensor name → GGUF name and permutation.
    public init(writer: GGUFWriter, routes: [String: Route]) {
        self.writer = writer
        self.routes = routes
        var dtypes: [String: DType] = [:]
        for entry in writer.tensorTable { dtypes[entry.tensor.name] = entry.tensor.dtype }
        self.dtypes = dtypes
    }

    public func beginTensor(_ decision: TensorDecision, dtype: DType) throws {
        guard let route = routes[decision.name] else {
            throw MVLMError(.invalidArgument, "has no place in the GGUF file", file: writer.path, subject: "tensor '\(decision.name)'")
        }
        guard dtypes[route.name] == dtype else {
            throw MVLMError(
                .invalidArgument, "arrives as \(dtype.name), but the GGUF table declares \(dtypes[route.name]?.name ?? "nothing")",
                file: writer.path, subject: "tensor '\(decision.name)'")
        }
        try writer.beginTensor(named: route.name)
        var rowBytes = 0
        var groupBytes = 0
        if let permutation = route.permutation {
            // A vector (a bias) permutes its elements; a matrix its rows.
            let rowLength = decision.shape.count >= 2 ? decision.shape.last! : 1
            guard let bytes = dtype.byteCount(elementCount: rowLength) else {
                throw MVLMError(.invalidArgument, "\(dtype.name) rows of \(rowLength) cannot be permuted", subject: "tensor '\(decision.name)'")
            }
            rowBytes = bytes
            groupBytes = bytes * permutation.headDimension
        }
        current = (route, groupBytes, rowBytes)
        pending.removeAll(keepingCapacity: true)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let current else { throw MVLMError(.invalidArgument, "no tensor was begun", file: writer.path) }
        guard let permutation = current.route.permutation else {
            try writer.write(bytes)
            return
        }
        pending.append(contentsOf: bytes)
        let groups = pending.count / current.groupBytes
        guard groups > 0 else { return }
        var permuted = [UInt8](repeating: 0, count: groups * current.groupBytes)
        pending.withUnsafeBytes { source in
            permuted.withUnsafeMutableBytes { output in
                for group in 0..<groups {
                    let range = (group * current.groupBytes)..<((group + 1) * current.groupBytes)
                    permutation.permuteHead(
                        UnsafeRawBufferPointer(rebasing: source[range]), rowBytes: current.rowBytes,
                        into: UnsafeMutableRawBufferPointer(rebasing: output[range]))
                }
            }
        }
        try permuted.withUnsafeBytes { try writer.write($0) }
        pending.removeFirst(groups * current.groupBytes)
    }

    public func endTensor() throws {
        guard let current else { throw MVLMError(.invalidArgument, "no tensor to end", file: writer.path) }
        guard pending.isEmpty else {
            throw MVLMError(
                .invalidArgument, "ended with \(pending.count) bytes short of a whole head of rows", file: writer.path,
                subject: "tensor '\(current.route.name)'")
        }
        try writer.endTensor()
        self.current = nil
    }
}
