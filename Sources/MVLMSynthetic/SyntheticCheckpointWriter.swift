import Foundation
import MVLMCore
import MVLMFileIO
import MVLMSafetensors

/// Writes a random-weight Hugging Face checkpoint folder (config.json + weights) for a preset.
///
/// Weights are uniform with the standard deviation of LLaMA's initializer (0.02), norms are ones.
/// Each tensor's values come from a generator seeded by the tensor's name and `seed`, so the output
/// is reproducible byte for byte. Memory stays bounded: values are produced and written in chunks of
/// `chunkElements`, whatever the model's size.
public struct SyntheticCheckpointWriter: Sendable {
    public enum WeightsFormat: String, Sendable, CaseIterable {
        case safetensors
        case bin
    }

    public var preset: SyntheticPreset
    public var dtype: DType
    public var format: WeightsFormat
    public var seed: UInt64
    /// Elements generated per chunk (1 Mi by default: 2 MB of f16).
    public var chunkElements = 1 << 20

    public init(preset: SyntheticPreset, dtype: DType = .float16, format: WeightsFormat = .safetensors, seed: UInt64 = 0) {
        self.preset = preset
        self.dtype = dtype
        self.format = format
        self.seed = seed
    }

    /// Writes the folder `directory` (created if needed).
    /// - Parameter progress: called after each tensor with (bytes written, total bytes).
    /// - Throws: `MVLMError` for an unsupported dtype or I/O failure.
    public func write(to directory: String, progress: (Int, Int) -> Void = { _, _ in }) throws {
        guard [.float16, .bfloat16, .float32].contains(dtype) else {
            throw MVLMError(.invalidArgument, "synthetic weights are F16, BF16 or F32, not \(dtype.name)")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw MVLMError(.io, "cannot create the folder: \(error.localizedDescription)", file: directory)
        }
        var config = preset.config
        config["torch_dtype"] = .string(dtype == .float16 ? "float16" : dtype == .bfloat16 ? "bfloat16" : "float32")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let configWriter = try AtomicFileWriter(destination: "\(directory)/config.json")
        try configWriter.write(Array(try encoder.encode(config)))
        try configWriter.commit()

        let specs = preset.tensors.map { SafetensorsWriter.TensorSpec(name: $0.name, dtype: dtype, shape: $0.shape) }
        let total = specs.reduce(0) { $0 + dtype.byteCount(elementCount: Shape.elementCount($1.shape)!)! }
        var written = 0
        switch format {
        case .safetensors:
            let writer = try SafetensorsWriter(
                path: "\(directory)/model.safetensors", tensors: specs,
                metadata: ["format": "pt", "generator": "mvlm synth --preset \(preset.name)"])
            for tensor in preset.tensors {
                try generate(tensor) { try writer.write($0) }
                written += dtype.byteCount(elementCount: Shape.elementCount(tensor.shape)!)!
                progress(written, total)
            }
            try writer.finish()
        case .bin:
            try writeBin(to: "\(directory)/pytorch_model.bin", specs: specs, progress: progress, total: total)
        }
    }

    /// Produces a tensor's values chunk by chunk, already encoded in `dtype`.
    func generate(_ tensor: SyntheticPreset.TensorShape, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let count = Shape.elementCount(tensor.shape)!
        var generator = SplitMix(seed: seed ^ fnv1a(tensor.name))
        let halfWidth = Float(0.02 * 3.0.squareRoot())  // uniform(-a, a) has std a / sqrt(3)
        var floats = [Float](repeating: 0, count: min(chunkElements, max(count, 1)))
        var encoded = [UInt8](repeating: 0, count: floats.count * dtype.scalarByteSize!)
        var done = 0
        while done < count {
            let n = min(floats.count, count - done)
            if tensor.isNorm {
                for index in 0..<n { floats[index] = 1 }
            } else {
                fillUniform(&floats, count: n, halfWidth: halfWidth, generator: &generator)
            }
            let byteCount = n * dtype.scalarByteSize!
            try floats.withUnsafeBufferPointer { source in
                try encoded.withUnsafeMutableBytes { destination in
                    let input = UnsafeBufferPointer(rebasing: source[0..<n])
                    switch dtype {
                    case .float16:
                        HalfPrecision.convertFloatToFloat16(input, into: destination.bindMemory(to: UInt16.self))
                    case .bfloat16:
                        HalfPrecision.convertFloatToBFloat16(input, into: destination.bindMemory(to: UInt16.self))
                    default:
                        destination.copyMemory(from: UnsafeRawBufferPointer(input))
                    }
                    try sink(UnsafeRawBufferPointer(rebasing: destination[0..<byteCount]))
                }
            }
            done += n
        }
    }
}

/// Fills `values[0..<count]` with uniform values in (-halfWidth, halfWidth): two 24-bit uniforms per
/// 64-bit draw, eight lanes at a time.
func fillUniform(_ values: inout [Float], count: Int, halfWidth: Float, generator: inout SplitMix) {
    let scale = SIMD8<Float>(repeating: halfWidth / Float(1 << 23))
    let mask = SIMD8<UInt32>(repeating: 0xFF_FFFF)
    let centre = SIMD8<Int32>(repeating: 1 << 23)
    values.withUnsafeMutableBufferPointer { buffer in
        let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
        var index = 0
        while index < count {
            let a = generator.next(), b = generator.next(), c = generator.next(), d = generator.next()
            let lanes = SIMD8<UInt32>(
                UInt32(truncatingIfNeeded: a), UInt32(truncatingIfNeeded: a >> 32),
                UInt32(truncatingIfNeeded: b), UInt32(truncatingIfNeeded: b >> 32),
                UInt32(truncatingIfNeeded: c), UInt32(truncatingIfNeeded: c >> 32),
                UInt32(truncatingIfNeeded: d), UInt32(truncatingIfNeeded: d >> 32))
            let centred = SIMD8<Int32>(truncatingIfNeeded: lanes & mask) &- centre
            let floats = SIMD8<Float>(centred) * scale
            if index + 8 <= count {
                raw.storeBytes(of: floats, toByteOffset: index * 4, as: SIMD8<Float>.self)
            } else {
                for lane in 0..<(count - index) { buffer[index + lane] = floats[lane] }
            }
            index += 8
        }
    }
}

/// SplitMix64: a small, fast, well-distributed generator for synthetic weights.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// FNV-1a of a string: a stable per-tensor seed.
func fnv1a(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01B3
    }
    return hash
}
