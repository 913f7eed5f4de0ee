import MVLMCore

/// A value the restricted unpickler can produce. Nothing here can run code: globals are a closed
/// set of names (`PickleGlobal`), and calling one only builds one of these values.
///
/// Containers are classes registered with a `PickleArena`, which empties them all iteratively when
/// the unpickler is done: a hostile pickle nesting a million tuples must not overflow the stack
/// through recursive deinitialization, and cycles (a list appended to itself) must not leak.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer wider than 64 bits; its value is not kept (torch never needs one).
    case largeInt
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    /// A persistent id `('storage', type, key, location, numel)` resolved to a storage reference.
    case storage(PickleStorage)
    case tensor(PickleTensor)

    /// A short name of the value's kind for error messages.
    var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .largeInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(let global): global.qualifiedName
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}
