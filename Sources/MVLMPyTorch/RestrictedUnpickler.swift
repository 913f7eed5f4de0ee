import MVLMCore
import MVLMFileIO

/// A pickle virtual machine that knows exactly the opcodes and globals torch.save writes for a
/// state dict, and nothing that can run code.
///
/// Python's unpickler imports any `module.name` a pickle mentions and calls it on `REDUCE`; this one
/// resolves names only through `PickleGlobal` (a closed allowlist) and interprets each allowed call
/// itself, building `PickleValue`s. Everything is bounded: stack size, mark depth, memo size, and
/// every length is checked against the remaining bytes before it is read.
struct RestrictedUnpickler {
    /// Resource bounds for hostile input.
    struct Limits {
        var maximumStackDepth = 1 << 20
        var maximumMarkDepth = 1 << 16
        var maximumMemoCount = 1 << 20
        var maximumGlobalNameLength = 1024
    }

    private var reader: ByteReader
    private let path: String
    private let pickleName: String
    private let limits: Limits
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [UInt32: PickleValue] = [:]
    private let arena = PickleArena()
    private var opcodeOffset = 0
    private var opcode: UInt8 = 0

    /// - Parameters:
    ///   - pickle: the pickle bytes (`data.pkl`).
    ///   - path: the checkpoint file, for error messages.
    ///   - pickleName: the zip entry name, for error messages.
    init(pickle: TensorStorage, path: String, pickleName: String, limits: Limits = Limits()) {
        self.reader = ByteReader(pickle, context: path)
        self.path = path
        self.pickleName = pickleName
        self.limits = limits
    }

    /// Runs the pickle to its STOP opcode and returns the value it built.
    /// - Throws: `MVLMError`: `.unsafeContent` for a global outside the allowlist, `.malformed` for
    ///   unknown opcodes or inconsistent structure, `.truncated` when the bytes end early,
    ///   `.unsupported` for tensor kinds this reader does not represent.
    mutating func load() throws -> PickleValue {
        do {
            while true {
                opcodeOffset = reader.offset
                guard !reader.isAtEnd else {
                    throw MVLMError(.truncated, "the pickle ends without a STOP opcode")
                }
                opcode = try reader.readByte("pickle opcode")
                if opcode == 0x2E {  // STOP
                    guard let result = stack.last else {
                        throw MVLMError(.malformed, "STOP with an empty stack")
                    }
                    return result
                }
                try step()
            }
        } catch var error as MVLMError {
            error.file = path
            error.message += " (\(pickleName) offset \(opcodeOffset), opcode \(Self.describe(opcode)))"
            throw error
        }
    }

    /// Empties every container this unpickler built (call when done with the loaded value).
    mutating func releaseObjects() {
        stack = []
        memo = [:]
        arena.removeAll()
    }

    private func tuple(_ items: [PickleValue]) -> PickleValue {
        .tuple(arena.register(PickleTuple(items)))
    }

    // MARK: - Opcodes

    private mutating func step() throws {
        switch opcode {
        case 0x80:  // PROTO
            let version = try reader.readByte("protocol version")
            guard version <= 5 else {
                throw MVLMError(.unsupported, "pickle protocol \(version) is newer than 5")
            }
        case 0x95:  // FRAME: a length prefix only; the bytes follow inline.
            let length = try reader.read(UInt64.self, "frame length")
            guard length <= UInt64(reader.remaining) else {
                throw MVLMError(.truncated, "frame of \(length) bytes but only \(reader.remaining) remain")
            }
        case 0x7D: try push(.dict(arena.register(PickleDict())))  // EMPTY_DICT
        case 0x5D: try push(.list(arena.register(PickleList())))  // EMPTY_LIST
        case 0x29: try push(tuple([]))  // EMPTY_TUPLE
        case 0x28:  // MARK
            guard marks.count < limits.maximumMarkDepth else {
                throw MVLMError(.outOfBounds, "more than \(limits.maximumMarkDepth) nested marks")
            }
            marks.append(stack.count)
        case 0x58: try push(.string(try readText(length: Int(try reader.read(UInt32.self, "string length")))))
        case 0x8C: try push(.string(try readText(length: Int(try reader.readByte("string length")))))
        case 0x8D: try push(.string(try readText(length: try readLength64())))
        case 0x54:  // BINSTRING (Python 2 str, decoded as Latin-1)
            let length = Int(try reader.read(Int32.self, "string length"))
            try push(.string(try readLatin1(length: length)))
        case 0x55: try push(.string(try readLatin1(length: Int(try reader.readByte("string length")))))
        case 0x42: try push(.bytes(try readRaw(length: Int(try reader.read(UInt32.self, "bytes length")))))
        case 0x43: try push(.bytes(try readRaw(length: Int(try reader.readByte("bytes length")))))
        case 0x8E: try push(.bytes(try readRaw(length: try readLength64())))
        case 0x4A: try push(.int(Int64(try reader.read(Int32.self, "BININT"))))
        case 0x4B: try push(.int(Int64(try reader.readByte("BININT1"))))
        case 0x4D: try push(.int(Int64(try reader.read(UInt16.self, "BININT2"))))
        case 0x8A: try push(try readLong(length: Int(try reader.readByte("LONG1 length"))))
        case 0x8B:
            let length = Int(try reader.read(Int32.self, "LONG4 length"))
            try push(try readLong(length: length))
        case 0x47:  // BINFLOAT is big-endian
            try push(.float(Double(bitPattern: try reader.readBigEndian(UInt64.self, "BINFLOAT"))))
        case 0x88: try push(.bool(true))
        case 0x89: try push(.bool(false))
        case 0x4E: try push(.none)
        case 0x85: try push(tuple([try pop()]))
        case 0x86:
            let second = try pop()
            let first = try pop()
            try push(tuple([first, second]))
        case 0x87:
            let third = try pop()
            let second = try pop()
            let first = try pop()
            try push(tuple([first, second, third]))
        case 0x74: try push(tuple(try popToMark()))  // TUPLE
        case 0x73:  // SETITEM
            let value = try pop()
            let key = try pop()
            try topDict().set(key, value)
        case 0x75:  // SETITEMS
            let items = try popToMark()
            guard items.count % 2 == 0 else {
                throw MVLMError(.malformed, "SETITEMS with an odd number (\(items.count)) of items")
            }
            let dict = try topDict()
            for index in stride(from: 0, to: items.count, by: 2) { dict.set(items[index], items[index + 1]) }
        case 0x61:  // APPEND
            let value = try pop()
            try topList().items.append(value)
        case 0x65:  // APPENDS
            let items = try popToMark()
            try topList().items.append(contentsOf: items)
        case 0x71: try memoize(at: UInt32(try reader.readByte("memo index")))  // BINPUT
        case 0x72: try memoize(at: try reader.read(UInt32.self, "memo index"))  // LONG_BINPUT
        case 0x94: try memoize(at: UInt32(truncatingIfNeeded: memo.count))  // MEMOIZE
        case 0x68: try push(try memoValue(UInt32(try reader.readByte("memo index"))))  // BINGET
        case 0x6A: try push(try memoValue(try reader.read(UInt32.self, "memo index")))  // LONG_BINGET
        case 0x63:  // GLOBAL
            let module = try readLine("global module")
            let name = try readLine("global name")
            try push(.global(try PickleGlobal.resolve(module: module, name: name)))
        case 0x93:  // STACK_GLOBAL
            guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                throw MVLMError(.malformed, "STACK_GLOBAL needs two strings")
            }
            try push(.global(try PickleGlobal.resolve(module: module, name: name)))
        case 0x52:  // REDUCE
            let arguments = try pop()
            let callable = try pop()
            try push(try reduce(callable, arguments))
        case 0x62:  // BUILD: torch sets `_metadata` on state dicts; the state is dropped unused.
            _ = try pop()
            _ = try top()
        case 0x51:  // BINPERSID
            try push(try persistentLoad(try pop()))
        case 0x30: _ = try pop()  // POP
        case 0x31: _ = try popToMark()  // POP_MARK
        case 0x32: try push(try top())  // DUP
        case 0x69:  // INST names a class inline: refuse it by name.
            let module = try readLine("INST module")
            let name = try readLine("INST name")
            _ = try PickleGlobal.resolve(module: module, name: name)
            throw MVLMError(.unsafeContent, "INST instantiates \(PyTorchText.quoted(module + "." + name)), which torch.save never writes")
        default:
            throw MVLMError(.malformed, "unsupported pickle opcode; torch.save state dicts do not use it")
        }
    }

    // MARK: - Stack

    private mutating func push(_ value: PickleValue) throws {
        guard stack.count < limits.maximumStackDepth else {
            throw MVLMError(.outOfBounds, "pickle stack deeper than \(limits.maximumStackDepth)")
        }
        stack.append(value)
    }

    private mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0) else {
            throw MVLMError(.malformed, "pickle stack underflow")
        }
        return stack.removeLast()
    }

    private func top() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else {
            throw MVLMError(.malformed, "pickle stack underflow")
        }
        return value
    }

    private mutating func popToMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else {
            throw MVLMError(.malformed, "no MARK on the pickle stack")
        }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private func topDict() throws -> PickleDict {
        guard case .dict(let dict) = try top() else {
            throw MVLMError(.malformed, "SETITEM(S) on a \(try top().kind), expected a dict")
        }
        return dict
    }

    private func topList() throws -> PickleList {
        guard case .list(let list) = try top() else {
            throw MVLMError(.malformed, "APPEND(S) on a \(try top().kind), expected a list")
        }
        return list
    }

    private mutating func memoize(at index: UInt32) throws {
        let value = try top()
        guard memo[index] != nil || memo.count < limits.maximumMemoCount else {
            throw MVLMError(.outOfBounds, "more than \(limits.maximumMemoCount) memo entries")
        }
        memo[index] = value
    }

    private func memoValue(_ index: UInt32) throws -> PickleValue {
        guard let value = memo[index] else {
            throw MVLMError(.malformed, "memo index \(index) was never stored")
        }
        return value
    }

    // MARK: - Reading operands

    private mutating func readLength64() throws -> Int {
        let length = try reader.read(UInt64.self, "length")
        guard length <= UInt64(reader.remaining) else {
            throw MVLMError(.truncated, "length \(length) exceeds the \(reader.remaining) remaining bytes")
        }
        return Int(length)
    }

    private mutating func readRaw(length: Int) throws -> [UInt8] {
        guard length >= 0, length <= reader.remaining else {
            throw MVLMError(.truncated, "length \(length) exceeds the \(reader.remaining) remaining bytes")
        }
        return try reader.readBytes(length, "bytes")
    }

    private mutating func readText(length: Int) throws -> String {
        let raw = try readRaw(length: length)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw MVLMError(.malformed, "string is not valid UTF-8")
        }
        return text
    }

    private mutating func readLatin1(length: Int) throws -> String {
        String(String.UnicodeScalarView(try readRaw(length: length).map { Unicode.Scalar($0) }))
    }

    /// A little-endian two's-complement integer of `length` bytes (LONG1/LONG4).
    private mutating func readLong(length: Int) throws -> PickleValue {
        let raw = try readRaw(length: length)
        guard !raw.isEmpty else { return .int(0) }
        let negative = raw[raw.count - 1] & 0x80 != 0
        let fill: UInt8 = negative ? 0xFF : 0x00
        if raw.count > 8 {
            // Wider than 8 bytes: representable only if the extra bytes are sign extension.
            guard raw[8...].allSatisfy({ $0 == fill }), (raw[7] & 0x80 != 0) == negative else {
                return .largeInt
            }
        }
        var bits: UInt64 = negative ? ~0 : 0
        for (index, byte) in raw.prefix(8).enumerated() {
            let shift = UInt64(8 * index)
            bits &= ~(UInt64(0xFF) << shift)
            bits |= UInt64(byte) << shift
        }
        return .int(Int64(bitPattern: bits))
    }

    private mutating func readLine(_ what: String) throws -> String {
        var bytes: [UInt8] = []
        while true {
            let byte = try reader.readByte(what)
            if byte == 0x0A { break }
            guard bytes.count < limits.maximumGlobalNameLength else {
                throw MVLMError(.malformed, "\(what) longer than \(limits.maximumGlobalNameLength) bytes")
            }
            bytes.append(byte)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MVLMError(.malformed, "\(what) is not valid UTF-8")
        }
        return text
    }

    // MARK: - Calls

    private func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(let global) = callable else {
            throw MVLMError(.malformed, "REDUCE calls a \(callable.kind), expected an allowed global")
        }
        guard case .tuple(let argumentTuple) = arguments else {
            throw MVLMError(.malformed, "REDUCE arguments of \(global.qualifiedName) are a \(arguments.kind), expected a tuple")
        }
        let arguments = argumentTuple.items
        switch global {
        case .orderedDict:
            guard arguments.isEmpty else {
                throw MVLMError(.malformed, "collections.OrderedDict called with arguments; torch.save calls it with none")
            }
            return .dict(arena.register(PickleDict()))
        case .rebuildTensorV2:
            guard arguments.count == 6 || arguments.count == 7 else {
                throw MVLMError(.malformed, "_rebuild_tensor_v2 takes 6 or 7 arguments, got \(arguments.count)")
            }
            guard case .storage(let storage) = arguments[0], let dtype = storage.dtype else {
                throw MVLMError(.malformed, "_rebuild_tensor_v2 needs a typed storage, got \(arguments[0].kind)")
            }
            return .tensor(try tensor(storage, dtype, arguments))
        case .rebuildTensorV3:
            guard arguments.count == 7 || arguments.count == 8 else {
                throw MVLMError(.malformed, "_rebuild_tensor_v3 takes 7 or 8 arguments, got \(arguments.count)")
            }
            guard case .storage(let storage) = arguments[0] else {
                throw MVLMError(.malformed, "_rebuild_tensor_v3 needs a storage, got \(arguments[0].kind)")
            }
            guard case .global(.dtype(let dtype)) = arguments[6] else {
                throw MVLMError(.malformed, "_rebuild_tensor_v3 needs a torch dtype, got \(arguments[6].kind)")
            }
            if let storageType = storage.dtype, storageType != dtype {
                throw MVLMError(.malformed, "_rebuild_tensor_v3: dtype \(dtype.name) differs from its \(storageType.name) storage")
            }
            return .tensor(try tensor(storage, dtype, arguments))
        case .rebuildParameter, .rebuildParameterWithState:
            let expected = global == .rebuildParameter ? 3 : 4
            guard arguments.count == expected, case .tensor = arguments[0] else {
                throw MVLMError(.malformed, "\(global.qualifiedName) takes a tensor and \(expected - 1) more arguments")
            }
            return arguments[0]
        case .codecsEncode:
            guard arguments.count == 2, case .string(let text) = arguments[0],
                case .string(let encoding) = arguments[1], ["latin1", "latin-1"].contains(encoding.lowercased())
            else {
                throw MVLMError(.malformed, "_codecs.encode is accepted only as encode(str, 'latin1')")
            }
            var bytes: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value <= 0xFF else {
                    throw MVLMError(.malformed, "_codecs.encode: text is not Latin-1")
                }
                bytes.append(UInt8(scalar.value))
            }
            return .bytes(bytes)
        case .torchSize:
            guard arguments.count == 1, case .tuple(let dimensions) = arguments[0],
                dimensions.items.allSatisfy({ if case .int = $0 { true } else { false } })
            else {
                throw MVLMError(.malformed, "torch.Size is accepted only as Size(tuple of ints)")
            }
            return arguments[0]
        case .torchDevice:
            var parts: [String] = []
            for argument in arguments {
                switch argument {
                case .string(let text): parts.append(text)
                case .int(let number): parts.append(String(number))
                default: throw MVLMError(.malformed, "torch.device is accepted only with a string and an index")
                }
            }
            guard (1...2).contains(parts.count) else {
                throw MVLMError(.malformed, "torch.device takes one or two arguments")
            }
            return .string(parts.joined(separator: ":"))
        case .typedStorage, .untypedStorage, .dtype:
            throw MVLMError(.malformed, "\(global.qualifiedName) is called, which torch.save never does")
        }
    }

    /// Checks `_rebuild_tensor_v2/v3` arguments: (storage, offset, size, stride, ...).
    private func tensor(_ storage: PickleStorage, _ dtype: DType, _ arguments: [PickleValue]) throws
        -> PickleTensor
    {
        guard case .int(let offset) = arguments[1], offset >= 0 else {
            throw MVLMError(.malformed, "storage offset must be a non-negative int, got \(arguments[1].kind)")
        }
        let shape = try integers(arguments[2], "size")
        let strides = try integers(arguments[3], "stride")
        guard shape.count == strides.count else {
            throw MVLMError(.malformed, "size \(Shape.describe(shape)) and stride \(Shape.describe(strides)) differ in rank")
        }
        return PickleTensor(
            storage: storage, dtype: dtype, storageOffset: Int(offset), shape: shape, strides: strides)
    }

    private func integers(_ value: PickleValue, _ what: String) throws -> [Int] {
        guard case .tuple(let tuple) = value else {
            throw MVLMError(.malformed, "tensor \(what) must be a tuple, got \(value.kind)")
        }
        return try tuple.items.map { item in
            guard case .int(let number) = item, number >= 0 else {
                throw MVLMError(.malformed, "tensor \(what) must hold non-negative ints, got \(item.kind == "int" ? "a negative or huge int" : item.kind)")
            }
            return Int(number)
        }
    }

    /// Resolves torch's persistent id `('storage', storage_type, key, location, numel)`.
    private func persistentLoad(_ id: PickleValue) throws -> PickleValue {
        guard case .tuple(let tuple) = id, tuple.items.count == 5, case .string("storage") = tuple.items[0] else {
            throw MVLMError(.malformed, "persistent id is not ('storage', type, key, location, numel)")
        }
        let parts = tuple.items
        guard case .string(let key) = parts[2], case .string(let location) = parts[3] else {
            throw MVLMError(.malformed, "persistent id key and location must be strings")
        }
        guard case .int(let numel) = parts[4], numel >= 0 else {
            throw MVLMError(.malformed, "persistent id numel must be a non-negative int")
        }
        let dtype: DType?
        switch parts[1] {
        case .global(.typedStorage(let type)): dtype = type
        case .global(.untypedStorage): dtype = nil
        default:
            throw MVLMError(.malformed, "persistent id storage type is a \(parts[1].kind), expected a torch storage class")
        }
        let elementSize = dtype?.scalarByteSize ?? 1
        let (bytes, overflow) = Int(numel).multipliedReportingOverflow(by: elementSize)
        guard !overflow else {
            throw MVLMError(.outOfBounds, "storage '\(key)' numel \(numel) overflows")
        }
        return .storage(PickleStorage(key: key, dtype: dtype, byteCount: bytes, location: location))
    }

    // MARK: - Names

    private static let opcodeNames: [UInt8: String] = [
        0x28: "MARK", 0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT",
        0x49: "INT", 0x4A: "BININT", 0x4B: "BININT1", 0x4C: "LONG", 0x4D: "BININT2", 0x4E: "NONE",
        0x50: "PERSID", 0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING",
        0x55: "SHORT_BINSTRING", 0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD",
        0x63: "GLOBAL", 0x64: "DICT", 0x7D: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET",
        0x68: "BINGET", 0x69: "INST", 0x6A: "LONG_BINGET", 0x6C: "LIST", 0x5D: "EMPTY_LIST",
        0x6F: "OBJ", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x73: "SETITEM",
        0x74: "TUPLE", 0x29: "EMPTY_TUPLE", 0x75: "SETITEMS", 0x47: "BINFLOAT", 0x80: "PROTO",
        0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2",
        0x87: "TUPLE3", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8A: "LONG1", 0x8B: "LONG4",
        0x42: "BINBYTES", 0x43: "SHORT_BINBYTES", 0x8C: "SHORT_BINUNICODE", 0x8D: "BINUNICODE8",
        0x8E: "BINBYTES8", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET",
        0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
        0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]

    /// `NAME (0xNN)` or `0xNN` for a byte that is no pickle opcode.
    static func describe(_ opcode: UInt8) -> String {
        let hex = "0x" + (opcode < 16 ? "0" : "") + String(opcode, radix: 16, uppercase: true)
        return opcodeNames[opcode].map { "\($0) (\(hex))" } ?? "\(hex), not a pickle opcode"
    }
}
