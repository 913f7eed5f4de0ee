#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MVLMCore
import MVLMGGUF
import MVLMHDF5
import MVLMImage
import MVLMModelFile
import MVLMModels
import MVLMPyTorch
import MVLMSafetensors
import MVLMTokenizer
import MVLMNumPy

/// One reader or parser under fuzzing: it takes any bytes and must either succeed or throw an
/// `MVLMError`; a crash, a hang or an allocation beyond the bounds is a finding.
///
/// The fuzzer executable (`Fuzz/`, built with `-sanitize=fuzzer` by `.ci/fuzz`) calls `run(_:)`
/// from `LLVMFuzzerTestOneInput`; `MVLMFuzzingTests` run every seed of `Tests/Fixtures/fuzz`
/// through every target in the normal test suite, so the harness never rots. Readers that take a
/// path get the bytes through a scratch file (in /dev/shm when there is one), one per call.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case safetensors, pytorch, gguf, hdf5, mvlm, npy, png, jpeg
    case tokenizerJSON = "tokenizer-json"
    case sentencePiece = "sentencepiece"
    case config
    case imagePreprocessing = "image-preprocessing"

    /// The seed corpus folder under `Tests/Fixtures/fuzz`.
    public var corpusName: String { rawValue }

    /// Feeds `bytes` to the target. Errors thrown by the reader are the expected outcome for bad
    /// input and are swallowed; anything else (a trap, a signal) ends the process.
    public func run(_ bytes: UnsafeRawBufferPointer) {
        do {
            try withScratch { try body(bytes, scratch: $0) }
        } catch {
            guard error is MVLMError || self == .config || self == .tokenizerJSON else {
                // Only MVLMError is allowed out of a reader (JSON decoding errors of config.json
                // are wrapped by its readers, and the tokenizer wraps JSONSerialization).
                fatalError("\(self): \(type(of: error)) escaped: \(error)")
            }
        }
    }

    /// Whether the target's reader accepts `bytes` (parses without an error).
    public func accepts(_ bytes: UnsafeRawBufferPointer) -> Bool {
        (try? withScratch { try body(bytes, scratch: $0) }) != nil
    }

    /// Images decoded by the fuzzer stay small, so that one input cannot take seconds.
    static let limits = ImageLimits(maxDimension: 4096, maxPixels: 1 << 20, maxJPEGScans: 100)

    private func body(_ bytes: UnsafeRawBufferPointer, scratch: String) throws {
        switch self {
        case .safetensors:
            try readAll(SafetensorsReader(path: try write(bytes, to: scratch, "safetensors")))
        case .pytorch:
            let reader = try PyTorchReader(path: try write(bytes, to: scratch, "pt"))
            for info in reader.tensorInfos {
                let tensor = try reader.tensor(named: info.name).contiguous()
                checksum(tensor)
            }
        case .gguf:
            let reader = try GGUFReader(path: try write(bytes, to: scratch, "gguf"))
            _ = reader.metadata.count
            try readAll(reader)
        case .hdf5:
            try readAll(HDF5Reader(path: try write(bytes, to: scratch, "h5")))
        case .mvlm:
            let reader = try ModelFileReader(path: try write(bytes, to: scratch, "mvlm"))
            _ = reader.verifyIntegrity()
            _ = reader.metadata.count
            try readAll(reader)
        case .npy:
            let path = try write(bytes, to: scratch, "npy")
            _ = try? NumPyFile.readFloat32(path: path)
            _ = try NumPyFile.readIntegers(path: path)
        case .png, .jpeg:
            let image = try ImageDecoder.decode(bytes: bytes, name: rawValue, limits: Self.limits)
            _ = image.width
        case .tokenizerJSON:
            let tokenizer = try Tokenizer(huggingFaceJSON: [UInt8](bytes))
            exercise(tokenizer)
        case .sentencePiece:
            let tokenizer = try Tokenizer(files: ["tokenizer.model": [UInt8](bytes)], context: "fuzz")
            exercise(tokenizer)
        case .config:
            let config = try JSONDecoder().decode([String: MetadataValue].self, from: Data(bytes))
            _ = try? LlamaConfiguration(config: config)
            _ = try? VisionConfiguration(config: config)
            _ = try ImagePreprocessing(preprocessorConfig: config, padToSquare: true)
        case .imagePreprocessing:
            // The first byte picks the geometry; the rest is a PNG or JPEG.
            guard let first = bytes.first else { return }
            let rest = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
            let image = try ImageDecoder.decode(bytes: rest, name: rawValue, limits: Self.limits)
            let size = 8 + Int(first & 0x3F)
            let parameters = ImagePreprocessing(
                size: size, resizeToSquare: first & 0x40 != 0, cropWidth: size, cropHeight: size,
                padToSquare: first & 0x80 != 0,
                imageMean: ImagePreprocessing.openAIMean.map { Float($0) },
                imageStd: ImagePreprocessing.openAIStd.map { Float($0) })
            let values = ImagePreprocessor(parameters).pixelValues(image)
            precondition(values.count == 3 * size * size, "preprocessing gave \(values.count) values")
        }
    }

    private func readAll(_ reader: some TensorReader) throws {
        for info in reader.tensorInfos {
            checksum(try reader.tensor(named: info.name))
        }
    }

    private func checksum(_ tensor: Tensor) {
        var sum: UInt8 = 0
        tensor.withUnsafeStoredBytes { bytes in
            for byte in bytes { sum &+= byte }
        }
        _ = sum
    }

    private func exercise(_ tokenizer: Tokenizer) {
        let ids = tokenizer.encode("Hello wörld <s> 123 \u{1F600}")
        _ = tokenizer.decode(ids)
    }

    /// Runs `body` with a scratch path unique to this call, removed afterwards.
    private func withScratch(_ body: (String) throws -> Void) throws {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(directory)/mvlm-fuzz-\(getpid())-\(ScratchCounter.next())"
        defer { for ext in ["safetensors", "pt", "gguf", "h5", "mvlm", "npy"] { unlink(path + "." + ext) } }
        try body(path)
    }

    /// Writes `bytes` to `scratch.ext` and returns that path.
    private func write(_ bytes: UnsafeRawBufferPointer, to scratch: String, _ ext: String) throws -> String {
        let path = scratch + "." + ext
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw MVLMError(.io, "cannot create the scratch file", file: path) }
        defer { close(descriptor) }
        var done = 0
        while done < bytes.count {
            let count = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            guard count > 0 else { throw MVLMError(.io, "cannot write the scratch file", file: path) }
            done += count
        }
        return path
    }
}

/// Numbers scratch files so that concurrent calls (the test suite) never share one.
private enum ScratchCounter {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var value = 0

    static func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
