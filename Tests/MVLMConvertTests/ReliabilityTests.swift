import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMFileIO
import MVLMModelFile
import MVLMTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 18's classes of defect, each with its regression test (docs/reliability.md). The broken
/// inputs are committed under Tests/Fixtures/hostile (written by Tests/Fixtures/gen_hostile.py) or,
/// for things that cannot be committed (FIFOs, device nodes, corrupted conversions), made here.
@Suite("hostile files and bad hands: no crash, no lost data, no laundered corruption")
struct ReliabilityTests {
    /// Runs `mvlm` with a time limit (a FIFO must not block it): kills it after `seconds`.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], seconds: Double = 120
    ) throws -> CommandLineTool.Result {
        let result = try CommandLineTool.run(arguments, environment: environment, input: Data(), timeout: seconds)
        if result.timedOut {
            Issue.record("mvlm \(arguments.joined(separator: " ")) did not finish within \(seconds) s")
        }
        return result
    }

    static let model = Fixtures.path("llama/mha_f32")

    /// A converted copy of the small LLaMA fixture in a fresh folder.
    static func convertedModel() throws -> (folder: URL, file: String) {
        let folder = try Fixtures.temporaryDirectory("mvlm-reliability")
        let file = folder.appendingPathComponent("m.mvlm").path
        let result = try run(["convert", model, "-o", file, "--quant", "q8_0"])
        try #require(result.status == 0, "\(result.stderr)")
        return (folder, file)
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    // MARK: 1. libhdf5 in a worker process

    @Test("a worker that dies of a signal is a clean one-line error naming the file")
    func hdf5WorkerCrash() throws {
        let folder = try Fixtures.temporaryDirectory()
        let worker = folder.appendingPathComponent("crashing-worker").path
        try "#!/bin/sh\nkill -SEGV $$\n".write(toFile: worker, atomically: true, encoding: .utf8)
        chmod(worker, 0o755)
        let file = Fixtures.path("hdf5/tf_model.h5")
        let result = try Self.run(["inspect", file], environment: ["MVLM_HDF5_WORKER": worker])
        #expect(result.status == 1 && !result.signaled)
        #expect(result.stderr.hasPrefix("Error: \(file): libhdf5 crashed reading this file"), "\(result.stderr)")
        #expect(result.stderr.contains("signal 11"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("a worker that answers nonsense is a clean error")
    func hdf5WorkerNonsense() throws {
        let file = Fixtures.path("hdf5/compact.h5")
        let result = try Self.run(["inspect", file], environment: ["MVLM_HDF5_WORKER": "/bin/echo"])
        #expect(result.status == 1 && result.stderr.contains("\(file): the HDF5 worker's catalogue cannot be read"), "\(result.stderr)")
    }

    @Test("a worker that stalls is killed after MVLM_HDF5_WORKER_TIMEOUT seconds")
    func hdf5WorkerTimeout() throws {
        let folder = try Fixtures.temporaryDirectory()
        let worker = folder.appendingPathComponent("stalling-worker").path
        try "#!/bin/sh\nexec sleep 60\n".write(toFile: worker, atomically: true, encoding: .utf8)
        chmod(worker, 0o755)
        let file = Fixtures.path("hdf5/keras3_model.weights.h5")
        let started = Date()
        let result = try Self.run(
            ["inspect", file], environment: ["MVLM_HDF5_WORKER": worker, "MVLM_HDF5_WORKER_TIMEOUT": "1"], seconds: 30)
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(result.status == 1 && result.stderr.contains("\(file): libhdf5 did not finish reading the file within 1 s"))
    }

    @Test("one-byte corruptions that crash libhdf5 1.10 give a clean error", arguments: hdf5CrashFixtures())
    func hdf5CrashFixture(name: String) throws {
        let file = Fixtures.path("hostile/\(name)")
        let result = try Self.run(["inspect", file], environment: ["MVLM_HDF5_WORKER_TIMEOUT": "5"], seconds: 60)
        #expect(result.status == 1 && !result.signaled)
        #expect(result.stderr.hasPrefix("Error: \(file): libhdf5"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    static func hdf5CrashFixtures() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.path("hostile"))) ?? []
        return names.filter { $0.hasPrefix("libhdf5_crash_") }.sorted()
    }

    @Test("chunked data is decoded by the worker and streamed back (compact and big-endian too)")
    func hdf5WorkerReadsData() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("hdf5/compact.h5"))
        for info in checkpoint.reader.tensorInfos {
            let tensor = try checkpoint.reader.tensor(named: info.name)
            #expect(tensor.byteCount == info.byteCount)
        }
    }

    // MARK: 2. Numbers from a file never drive allocations

    @Test("a stride-0 view of 4 TiB over 16 bytes is refused before anything is allocated")
    func strideZeroView() throws {
        let file = Fixtures.path("hostile/stride0_huge.pt")
        #expect(throws: MVLMError.self) { try Checkpoint.open(file) }
        let result = try Self.run(["dump", file, "--tensor", "w", "-o", "/tmp/never-written.npy"])
        #expect(result.status == 1 && result.stderr.contains("a repeating view may exceed its storage by at most 64 MiB"))
    }

    @Test("a deflate bomb is refused by the ratio limit; a small zero entry still inflates")
    func deflateBomb() throws {
        let bomb = try Checkpoint.open(Fixtures.path("hostile/deflate_bomb.pt"))
        #expect {
            try bomb.reader.tensor(named: "w")
        } throws: { error in
            "\(error)".contains("refused: more than 64x plus 64 MiB")
        }
        let small = try Checkpoint.open(Fixtures.path("hostile/deflate_bomb_small_ok.pt"))
        let tensor = try small.reader.tensor(named: "w")
        #expect(tensor.shape == [262_144])
        #expect(tensor.withUnsafeBytes { $0.allSatisfy { $0 == 0 } })
    }

    @Test("a block tensor with no elements reads as zero bytes (a gguf fuzz finding that trapped)",
          arguments: ["hostile/gguf_zero_block.gguf", "hostile/gguf_zero_block_fuzz_finding.gguf"])
    func zeroElementBlockTensor(_ fixture: String) throws {
        let checkpoint = try Checkpoint.open(Fixtures.path(fixture))
        #expect(!checkpoint.reader.tensorInfos.isEmpty)
        for info in checkpoint.reader.tensorInfos {
            let tensor = try checkpoint.reader.tensor(named: info.name)
            #expect(tensor.elementCount == 0 && tensor.isContiguous)
            #expect(tensor.withUnsafeStoredBytes { $0.count } == 0)
            #expect(tensor.contiguous().byteCount == 0)
        }
        let result = try Self.run(["inspect", Fixtures.path(fixture)])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("a view may exceed its storage by 64 MiB at most; an impossible allocation is an error")
    func viewBoundAndAllocation() throws {
        let storage = try TensorStorage(byteCount: 4) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        let broadcast = try Tensor(storage: storage, dtype: .float32, shape: [1024, 1024], strides: [0, 0])
        #expect(broadcast.contiguous().byteCount == 4 << 20)
        #expect(throws: MVLMError.self) {
            try Tensor(storage: storage, dtype: .float32, shape: [1 << 20, 1 << 20], strides: [0, 0])
        }
        #expect(throws: MVLMError.self) { try TensorStorage(byteCount: Int.max / 2) { _ in } }
    }

    // MARK: 3. Outputs never destroy inputs, devices or other files

    @Test("-o naming an input file (directly, through a symlink or a hard link) is refused; the input is intact")
    func outputIsInput() throws {
        let folder = try Fixtures.temporaryDirectory()
        let source = folder.appendingPathComponent("model")
        try FileManager.default.copyItem(atPath: Self.model, toPath: source.path)
        let weights = source.appendingPathComponent("model.safetensors").path
        let before = try Self.bytes(weights)
        let link = folder.appendingPathComponent("link.mvlm").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: weights)
        let hard = folder.appendingPathComponent("hard.mvlm").path
        try FileManager.default.linkItem(atPath: weights, toPath: hard)
        for output in [weights, link, hard, source.appendingPathComponent("config.json").path] {
            let result = try Self.run(["convert", source.path, "-o", output])
            #expect(result.status == 1, "\(output)")
            #expect(result.stderr.contains("is an input of this command"), "\(result.stderr)")
        }
        #expect(try Self.bytes(weights) == before)
        let pack = try Self.run(["pack", weights, "-o", hard])
        #expect(pack.status == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: source.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("an existing output that is not a regular file (device, FIFO, folder) is refused and stays what it was")
    func nonRegularOutputs() throws {
        let folder = try Fixtures.temporaryDirectory()
        let fifo = folder.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let directory = folder.appendingPathComponent("dir").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        var outputs = ["/dev/null", fifo, directory]
        let device = folder.appendingPathComponent("null-device").path
        if geteuid() == 0, mknod(device, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 { outputs.append(device) }
        for output in outputs {
            let result = try Self.run(["convert", Self.model, "-o", output], seconds: 60)
            #expect(result.status == 1, "\(output)")
            #expect(result.stderr.contains("not a regular file; refusing to replace it"), "\(result.stderr)")
            var status = stat()
            #expect(lstat(output, &status) == 0 && status.st_mode & S_IFMT != S_IFREG, "\(output) was replaced")
        }
    }

    @Test("a symlinked output replaces the file it points to and stays a link")
    func symlinkedOutput() throws {
        let folder = try Fixtures.temporaryDirectory()
        let target = folder.appendingPathComponent("real.mvlm").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        let link = folder.appendingPathComponent("link.mvlm").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.mvlm")
        let result = try Self.run(["convert", Self.model, "-o", link])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real.mvlm")
        #expect(try ModelFileReader(path: target).tensorInfos.count > 0)
        let dangling = folder.appendingPathComponent("dangling.mvlm").path
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: "missing/x.mvlm")
        #expect(try Self.run(["convert", Self.model, "-o", dangling]).status == 1)
    }

    // MARK: 4. No laundered corruption

    @Test("a flipped bit in tensor data stops run, convert, pack and dump; --no-verify-checksums skips the check")
    func corruptTensorData() throws {
        let (folder, file) = try Self.convertedModel()
        let reader = try ModelFileReader(path: file)
        let entry = try #require(reader.manifest.tensors.first { $0.name == "lm_head.weight" })
        var bytes = try Self.bytes(file)
        bytes[entry.offset + entry.bytes / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let run = try Self.run(["run", file, "--tokens", "1,2", "--max-new-tokens", "2"])
        #expect(run.status == 1 && run.stderr.contains("lm_head.weight") && run.stderr.contains("checksum mismatch"), "\(run.stderr)")
        let unchecked = try Self.run(["run", file, "--tokens", "1,2", "--max-new-tokens", "2", "--no-verify-checksums"])
        #expect(unchecked.status == 0, "\(unchecked.stderr)")
        let again = folder.appendingPathComponent("again.mvlm").path
        let convert = try Self.run(["convert", file, "-o", again])
        #expect(convert.status == 1 && convert.stderr.contains("checksum mismatch"), "\(convert.stderr)")
        #expect(!FileManager.default.fileExists(atPath: again))
        let packed = folder.appendingPathComponent("m.mvlm.zst").path
        let pack = try Self.run(["pack", file, "-o", packed])
        #expect(pack.status == 1 && pack.stderr.contains("refusing to pack a corrupt file"), "\(pack.stderr)")
        #expect(!FileManager.default.fileExists(atPath: packed))
    }

    @Test("a non-zero byte in the padding between tensors is found by every reader and verify --integrity")
    func corruptPadding() throws {
        // fuzz/seed.mvlm: two F16 tensors of 12 and 8 bytes, each padded to 64.
        let folder = try Fixtures.temporaryDirectory()
        let file = folder.appendingPathComponent("padded.mvlm").path
        try FileManager.default.copyItem(atPath: Fixtures.path("fuzz/seed.mvlm"), toPath: file)
        let entries = try ModelFileReader(path: file).manifest.tensors.sorted { $0.offset < $1.offset }
        let gap = try #require(zip(entries, entries.dropFirst()).first { $0.offset + $0.bytes < $1.offset })
        var bytes = try Self.bytes(file)
        let offset = gap.0.offset + gap.0.bytes
        bytes[offset] = 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        #expect(throws: MVLMError.self) { try ModelFileReader(path: file) }
        let out = folder.appendingPathComponent("out").path
        for arguments in [["verify", file, "--integrity"], ["inspect", file], ["convert", file, "-o", out], ["pack", file, "-o", out]] {
            let result = try Self.run(arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("padding byte \(offset)"), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    // MARK: 5. Temporary files never outlive the command

    @Test(
        "SIGINT, SIGTERM and SIGHUP while writing remove the temporary file", .serialized,
        arguments: [SIGINT, SIGTERM, SIGHUP])
    func signalsRemoveTemporaryFiles(signal: Int32) throws {
        let folder = try Fixtures.temporaryDirectory()
        let output = folder.appendingPathComponent("big").path
        let process = Process()
        process.executableURL = CommandLineTool.executable
        process.arguments = ["synth", "--preset", "mobilellama-1.4b", "-o", output]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Wait until the weights' temporary file exists, then signal.
        var sawTemporary = false
        for _ in 0..<2400 {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
            if names.contains(where: { $0.hasPrefix(".model.safetensors.tmp-") }) {
                sawTemporary = true
                break
            }
            usleep(50_000)
        }
        try #require(sawTemporary)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal)
        let names = try FileManager.default.contentsOfDirectory(atPath: output)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
    }

    @Test("a write that fails (file size limit, as a full disk) removes the temporary file")
    func failedWriteRemovesTemporary() throws {
        let folder = try Fixtures.temporaryDirectory()
        let output = folder.appendingPathComponent("m.mvlm").path
        // 64 KiB limit; SIGXFSZ ignored so the write fails with EFBIG like ENOSPC would.
        let command = "trap '' XFSZ; ulimit -f 64; exec '\(CommandLineTool.executable.path)' convert '\(Self.model)' -o '\(output)' --quant f16"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(message)")
        #expect(message.contains("write failed") || message.contains("File too large"), "\(message)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("an AtomicFileWriter's temporary file is registered until committed or discarded")
    func temporaryRegistry() throws {
        let folder = try Fixtures.temporaryDirectory()
        let writer = try AtomicFileWriter(destination: folder.appendingPathComponent("x").path)
        #expect(TemporaryFiles.pending.contains(writer.temporaryPath))
        writer.discard()
        #expect(!TemporaryFiles.pending.contains(writer.temporaryPath))
        #expect(!FileManager.default.fileExists(atPath: writer.temporaryPath))
    }

    // MARK: 6. The command line

    @Test("a FIFO given to any path option is refused at once, naming it")
    func fifoInputs() throws {
        let folder = try Fixtures.temporaryDirectory()
        let fifo = folder.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let out = folder.appendingPathComponent("o.mvlm").path
        let (_, file) = try Self.convertedModel()
        let cases: [[String]] = [
            ["inspect", fifo], ["verify", fifo, "--integrity"], ["convert", fifo, "-o", out], ["unpack", fifo, "-o", out],
            ["pack", fifo, "-o", out], ["dump", fifo, "--tensor", "x", "-o", out], ["bench", fifo],
            ["run", file, "--tokens", "1", "--image", fifo], ["run", file, "--prompt", "hi", "--tokenizer", fifo],
            ["run", file, "--tokens", fifo], ["convert", Self.model, "-o", out, "--calibrate", fifo],
            ["verify", file, "--against", Self.model, "--tokens", fifo],
        ]
        for arguments in cases {
            let result = try Self.run(arguments, seconds: 60)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("\(fifo): is a FIFO, not a regular file"), "\(arguments): \(result.stderr)")
        }
    }

    @Test("--calibrate /dev/zero is one clear line")
    func deviceInput() throws {
        let result = try Self.run(["convert", Self.model, "-o", "/tmp/never.mvlm", "--calibrate", "/dev/zero"], seconds: 60)
        #expect(result.status == 1)
        #expect(result.stderr == "Error: /dev/zero: is a character device, not a regular file\n")
    }

    @Test("huge --max-new-tokens is capped at the context; a prompt beyond it is refused")
    func contextLimits() throws {
        let (_, file) = try Self.convertedModel()
        let huge = try Self.run(["run", file, "--tokens", "1,2", "--max-new-tokens", "9223372036854775807", "--json"])
        #expect(huge.status == 0 && !huge.signaled, "\(huge.stderr)")
        #expect(huge.stderr.contains("generating at most 254 tokens"))
        let long = (0..<300).map { String($0 % 200) }.joined(separator: ",")
        let refused = try Self.run(["run", file, "--tokens", long])
        #expect(refused.status == 1 && refused.stderr.contains("the prompt has 300 positions, more than the model's context"))
    }

    @Test("negative numbers, empty token fields and overrides that match nothing each get one clear line")
    func commandLineTypos() throws {
        let (_, file) = try Self.convertedModel()
        let negative = try Self.run(["run", file, "--tokens", "1", "--max-new-tokens", "-3"])
        #expect(negative.status == 64 && negative.stderr.contains("--max-new-tokens must be 0 or more"))
        let threads = try Self.run(["run", file, "--tokens", "1", "--threads", "-1"])
        #expect(threads.status == 64 && threads.stderr.contains("--threads must be at least 1"))
        let empty = try Self.run(["run", file, "--tokens", "1,,2"])
        #expect(empty.status != 0 && empty.stderr.contains("an empty field between commas"))
        let verifyEmpty = try Self.run(["verify", file, "--against", Self.model, "--tokens", "1,,2"])
        #expect(verifyEmpty.status == 1 && verifyEmpty.stderr.contains("an empty field between commas"))
        let override = try Self.run(["convert", Self.model, "--dry-run", "--override", "[=Q8_0"])
        #expect(override.status == 1 && override.stderr.contains("--override [=Q8_0 matches no tensor"))
    }
}
