import CMVLMKernels
import MVLMCore
import MVLMGraph
import MVLMQuant
import MVLMTestSupport
import Testing

@testable import MVLMRuntime

/// `LinearPath`: the report of which code each linear weight runs through, checked against what
/// the interpreter's dispatch actually does (`QuantizedMatVec.applies`, `Tensor.applyInPlace`).
@Suite("LinearPath: which kernel each weight takes")
struct LinearPathTests {
    /// A kernel that only says it ran (a format exists for the type).
    struct Probe: WeightKernel {
        func run<W: WeightFormat>(_ format: W.Type, _ base: UnsafeRawPointer) -> Bool { true }
    }

    @Test("readsInPlace agrees with applyInPlace for every type the dequantizer knows")
    func inPlaceAgrees() throws {
        for type in BlockDequantizer.supportedTypes {
            let columns = type == .int8PerChannel ? 256 : 256 / type.blockElements * type.blockElements
            let bytes = [UInt8](repeating: 0, count: type.rowByteCount(elements: columns)!)
            let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(type), shape: [1, columns])
            #expect((tensor.applyInPlace(Probe(), type) != nil) == Tensor.readsInPlace(type), "\(type.name)")
        }
    }

    @Test("the reported route is the one the interpreter takes, for every block type and token count")
    func routeMatchesDispatch() throws {
        for type in BlockDequantizer.supportedTypes {
            let columns = 256
            let bytes = [UInt8](repeating: 0, count: 3 * type.rowByteCount(elements: columns)!)
            let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(type), shape: [3, columns])
            for tokens in [1, 2, 4, 100] {
                let path = LinearPath.of(tensor, tokens: tokens)
                let expected: LinearPath.Route =
                    QuantizedMatVec.applies(to: tensor, tokens: tokens)
                    ? .integer : (Tensor.readsInPlace(type) ? .widened : .reference)
                #expect(path.route == expected, "\(type.name) tokens \(tokens): \(path.description)")
            }
        }
    }

    @Test("predicted paths: own and legacy types are integer at every level, Q8_0 prefill is widened, Q2_K the reference, rows16 always integer")
    func predicted() {
        for level in 0...2 {
            for type in [BlockType.int8PerChannel, .affine4G32, .affine4G64, .affine4G128, .q4_1, .q4_0, .q4_K, .q6_K] {
                let decode = LinearPath.predicted(dtype: .block(type), layout: .rowMajor, shape: [64, 256], tokens: 1, level: level, arm: false)
                let prefill = LinearPath.predicted(dtype: .block(type), layout: .rowMajor, shape: [64, 256], tokens: 64, level: level, arm: false)
                #expect(decode.route == .integer && decode.kernel == "mvlm_matvec_q8 \(type.name)")
                #expect(prefill.route == .integer && prefill.kernel == "mvlm_gemm_q8 \(type.name)")
                #expect(decode.isFast == (level > 0), "level \(level): \(decode.description)")
            }
        }
        for type in [BlockType.q5_0, .q5_1] {
            let decode = LinearPath.predicted(dtype: .block(type), layout: .rowMajor, shape: [64, 256], tokens: 1, level: 2, arm: false)
            let prefill = LinearPath.predicted(dtype: .block(type), layout: .rowMajor, shape: [64, 256], tokens: 64, level: 2, arm: false)
            #expect(decode.route == .integer && decode.kernel == "mvlm_matvec_legacy \(type.name)" && decode.isFast)
            #expect(prefill.route == .integer && prefill.kernel == "mvlm_gemm_legacy \(type.name)")
        }
        let iq4 = LinearPath.predicted(dtype: .block(.iq4_NL), layout: .rowMajor, shape: [64, 256], tokens: 64, level: 2, arm: false)
        #expect(iq4.route == .integer && iq4.kernel == "mvlm_gemm_iq4nl IQ4_NL")
        // Q8_0 prefill keeps f32 activations (widened tiles through the float GEMM): not an integer kernel.
        let q8 = LinearPath.predicted(dtype: .block(.q8_0), layout: .rowMajor, shape: [64, 256], tokens: 64, level: 2, arm: false)
        #expect(q8.route == .widened)
        let q2 = LinearPath.predicted(dtype: .block(.q2_K), layout: .rowMajor, shape: [64, 256], tokens: 1, level: 2, arm: false)
        #expect(q2.route == .reference && !q2.isFast)
        // INT8_PC rows that are not whole activation blocks of 32 have no integer kernel.
        let odd = LinearPath.predicted(dtype: .block(.int8PerChannel), layout: .rowMajor, shape: [64, 100], tokens: 1, level: 2, arm: false)
        #expect(odd.route == .reference)
        let rows16 = LinearPath.predicted(dtype: .block(.q4_0), layout: .rows16, shape: [64, 256], tokens: 1, level: 3, arm: true)
        #expect(rows16.route == .integer && rows16.kernel == "mvlm_matvec_q8_rows16 Q4_0" && rows16.level == "i8mm")
        let float = LinearPath.predicted(dtype: .float16, layout: .rowMajor, shape: [64, 256], tokens: 8, level: 1, arm: false)
        #expect(float.route == .float && float.level == "avx2" && float.isFast)
        let off = LinearPath.predicted(dtype: .block(.int8PerChannel), layout: .rowMajor, shape: [64, 256], tokens: 1, level: 2, nativeKernels: false)
        #expect(off.route == .reference && off.level == "swift")
    }

    @Test("Interpreter.linearPaths lists each linear weight once, with its route")
    func interpreterPaths() throws {
        var g = GraphBuilder()
        let x = try g.input("x", TensorType(.float32, [.symbol("T"), .fixed(64)]))
        let a = try g.weight("a.weight", TensorType(.block(.int8PerChannel), shape: [32, 64]))
        let first = try g.add(.linear, [x, a])
        let second = try g.add(.linear, [x, a])  // the same weight twice: listed once
        g.output("y", try g.add(.add, [first, second]))
        let graph = try g.build()
        let columns = 64
        let bytes = [UInt8](repeating: 0, count: 32 * BlockType.int8PerChannel.rowByteCount(elements: columns)!)
        let tensor = try Tensor(storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) }, dtype: .block(.int8PerChannel), shape: [32, 64])
        let interpreter = try Interpreter(graph: graph, weights: ["a.weight": tensor], threads: 1)
        let paths = interpreter.linearPaths(tokens: 1)
        #expect(paths.map(\.weight) == ["a.weight"])
        #expect(paths.first?.path == LinearPath.of(tensor, tokens: 1))
    }
}
