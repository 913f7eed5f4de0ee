import MVLMCore
import Testing

@testable import MVLMPyTorch

@Suite("RestrictedUnpickler on hand-made pickles")
struct RestrictedUnpicklerTests {
    /// Loads `bytes`, flattens the result, and empties every container afterwards.
    static func run(
        _ bytes: [UInt8], limits: RestrictedUnpickler.Limits = .init()
    ) throws -> [(name: String, tensor: PickleTensor)] {
        let storage = bytes.withUnsafeBytes { TensorStorage(copying: $0) }
        var unpickler = RestrictedUnpickler(pickle: storage, path: "test.pt", pickleName: "archive/data.pkl", limits: limits)
        defer { unpickler.releaseObjects() }
        let root = try unpickler.load()
        var flattener = StateDictFlattener(path: "test.pt", pickleByteCount: bytes.count)
        try flattener.flatten(root)
        return flattener.tensors
    }

    static func string(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        return [0x58] + withUnsafeBytes(of: UInt32(utf8.count).littleEndian, Array.init) + utf8
    }

    static func global(_ module: String, _ name: String) -> [UInt8] {
        [0x63] + Array("\(module)\n\(name)\n".utf8)
    }

    static func error(_ bytes: [UInt8], limits: RestrictedUnpickler.Limits = .init()) throws -> MVLMError {
        try #require(throws: MVLMError.self) { _ = try run(bytes, limits: limits) }
    }

    @Test("300,000 nested tuples are refused without overflowing the stack")
    func deepTuples() throws {
        let bytes: [UInt8] = [0x80, 2, 0x7D, 0x8C, 1, 0x6B, 0x29] + [UInt8](repeating: 0x85, count: 300_000) + [0x73, 0x2E]
        let error = try Self.error(bytes)
        #expect(error.code == .outOfBounds)
        #expect(error.message.contains("deeper than 64"))
    }

    @Test("a long chain of lists and a list holding itself are released without recursion")
    func deepListsAndCycles() throws {
        // L0 = []; then repeatedly L(k) = [L(k-1)]: each list is created after the one it holds,
        // so releasing the outermost would recurse through the whole chain.
        var bytes: [UInt8] = [0x80, 2, 0x5D, 0x72, 0, 0, 0, 0, 0x30]
        for level in 1...200_000 {
            bytes += [0x5D, 0x6A] + withUnsafeBytes(of: UInt32(level - 1).littleEndian, Array.init)  // new, LONG_BINGET prev
            bytes += [0x61, 0x72] + withUnsafeBytes(of: UInt32(level).littleEndian, Array.init)  // APPEND, LONG_BINPUT
            bytes += [0x30]  // POP
        }
        bytes += [0x6A] + withUnsafeBytes(of: UInt32(200_000).littleEndian, Array.init) + [0x2E]
        #expect(try Self.error(bytes).code == .outOfBounds)
        let cycle: [UInt8] = [0x80, 2, 0x5D, 0x71, 0, 0x68, 0, 0x61, 0x2E]  // l = []; l.append(l)
        #expect(try Self.error(cycle).code == .outOfBounds)
    }

    @Test("structural errors name the opcode and offset", arguments: [
        ([0x80, 2, 0x85, 0x2E], "underflow", "offset 2, opcode TUPLE1 (0x85)"),
        ([0x80, 2, 0x68, 5, 0x2E], "never stored", "BINGET"),
        ([0x80, 2, 0x58, 0xFF, 0xFF, 0, 0, 0x61], "remaining", "BINUNICODE"),
        ([0x80, 2, 0x4E], "without a STOP", "offset 3"),
        ([0x80, 2, 0x74, 0x2E], "no MARK", "TUPLE"),
        ([0x80, 2, 0x2E], "empty stack", "STOP"),
        ([0x80, 2, 0xFF, 0x2E], "unsupported pickle opcode", "0xFF, not a pickle opcode"),
        ([0x80, 2, 0x81, 0x2E], "unsupported pickle opcode", "NEWOBJ (0x81)"),
        ([0x80, 9, 0x2E], "protocol 9", "PROTO"),
    ] as [([UInt8], String, String)])
    func structuralErrors(bytes: [UInt8], keyword: String, location: String) throws {
        let error = try Self.error(bytes)
        #expect(error.message.contains(keyword), "\(error)")
        #expect(error.message.contains(location), "\(error)")
        #expect(error.file == "test.pt")
    }

    @Test("memo and stack sizes are bounded")
    func limits() throws {
        var limits = RestrictedUnpickler.Limits()
        limits.maximumMemoCount = 2
        let memo: [UInt8] = [0x80, 2, 0x4E, 0x71, 0, 0x71, 1, 0x71, 2, 0x2E]
        #expect(try Self.error(memo, limits: limits).code == .outOfBounds)
        limits.maximumStackDepth = 3
        let stack: [UInt8] = [0x80, 2, 0x4E, 0x4E, 0x4E, 0x4E, 0x2E]
        #expect(try Self.error(stack, limits: limits).code == .outOfBounds)
    }

    @Test("globals outside the allowlist are refused before anything else happens", arguments: [
        ("os", "system"), ("posix", "system"), ("nt", "system"), ("builtins", "eval"), ("builtins", "exec"),
        ("builtins", "getattr"), ("__builtin__", "eval"), ("subprocess", "Popen"), ("torch", "load"),
        ("torch.serialization", "load"), ("numpy.core.multiarray", "_reconstruct"), ("collections", "deque"),
        ("torch.nn.modules.linear", "Linear"),
    ])
    func unsafeGlobals(module: String, name: String) throws {
        let bytes: [UInt8] = [0x80, 2] + Self.global(module, name) + Self.string("x") + [0x85, 0x52, 0x2E]
        let error = try Self.error(bytes)
        #expect(error.code == .unsafeContent)
        #expect(error.message.contains("'\(module).\(name)'"))
        #expect(error.message.contains("run"))
        // The same name through STACK_GLOBAL and INST.
        let stacked: [UInt8] = [0x80, 4] + Self.string(module) + Self.string(name) + [0x93, 0x2E]
        #expect(try Self.error(stacked).code == .unsafeContent)
        let inst: [UInt8] = [0x80, 2, 0x28, 0x69] + Array("\(module)\n\(name)\n".utf8) + [0x2E]
        #expect(try Self.error(inst).code == .unsafeContent)
    }

    @Test("torch globals for tensor kinds we lack are unsupported, not unsafe", arguments: [
        ("torch", "ComplexFloatStorage"), ("torch", "complex64"), ("torch._utils", "_rebuild_sparse_tensor"),
        ("torch._utils", "_rebuild_qtensor"), ("torch", "QInt8Storage"), ("torch", "quint8"),
    ])
    func unsupportedGlobals(module: String, name: String) throws {
        let bytes: [UInt8] = [0x80, 2] + Self.global(module, name) + [0x2E]
        #expect(try Self.error(bytes).code == .unsupported)
    }

    @Test("calls torch.save never makes are refused")
    func badCalls() throws {
        let dictWithArguments: [UInt8] = [0x80, 2] + Self.global("collections", "OrderedDict") + [0x4E, 0x85, 0x52, 0x2E]
        #expect(try Self.error(dictWithArguments).message.contains("with arguments"))
        let callStorage: [UInt8] = [0x80, 2] + Self.global("torch", "FloatStorage") + [0x29, 0x52, 0x2E]
        #expect(try Self.error(callStorage).message.contains("never does"))
        let badPersistentID: [UInt8] = [0x80, 2] + Self.string("x") + [0x51, 0x2E]
        #expect(try Self.error(badPersistentID).message.contains("persistent id"))
    }

    @Test("integers, floats, strings, bytes and None are accepted and skipped")
    func scalars() throws {
        var bytes: [UInt8] = [0x80, 2, 0x7D, 0x28]
        bytes += Self.string("a") + [0x8A, 1, 0xFF]  // LONG1 -1
        bytes += Self.string("b") + [0x8A, 9] + [UInt8](repeating: 0x11, count: 9)  // 72-bit int
        bytes += Self.string("c") + [0x47, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0]  // BINFLOAT 1.0
        bytes += Self.string("d") + [0x43, 2, 0xAB, 0xCD]  // SHORT_BINBYTES
        bytes += Self.string("e") + Self.global("_codecs", "encode") + Self.string("\u{ff}") + Self.string("latin1") + [0x86, 0x52]
        bytes += Self.string("f") + [0x4E, 0x88, 0x89, 0x87]  // (None, True, False)
        bytes += Self.string("g") + Self.global("torch", "device") + Self.string("cuda") + [0x4B, 0, 0x86, 0x52]
        bytes += Self.string("h") + Self.global("torch", "Size") + [0x4B, 2, 0x4B, 3, 0x86, 0x85, 0x52]
        bytes += [0x75, 0x2E]
        #expect(try Self.run(bytes).isEmpty)
    }
}
