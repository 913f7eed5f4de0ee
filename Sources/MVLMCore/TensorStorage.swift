#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes that hold tensor data: a range inside a memory-mapped file, or memory this storage owns.
///
/// A mapped storage keeps its `owner` (the mapping) alive, so the pointer stays valid for the
/// lifetime of the storage. The pointer is never handed out except inside `withUnsafeBytes`.
public final class TensorStorage: @unchecked Sendable {
    private let base: UnsafeRawPointer?
    /// Byte count of the storage.
    public let count: Int
    private let owner: AnyObject?
    private let ownsMemory: Bool

    /// Storage that points into memory kept alive by `owner` (for example a file mapping).
    /// - Parameters:
    ///   - owner: an object whose lifetime keeps `bytes` valid.
    ///   - bytes: the region; it must stay valid and unchanged while `owner` lives.
    public init(borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        self.base = bytes.baseAddress
        self.count = bytes.count
        self.owner = owner
        self.ownsMemory = false
    }

    /// Storage that owns a fresh copy of `bytes`.
    public init(copying bytes: UnsafeRawBufferPointer) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if let source = bytes.baseAddress, bytes.count > 0 {
            memory.copyMemory(from: source, byteCount: bytes.count)
        }
        self.base = UnsafeRawPointer(memory)
        self.count = bytes.count
        self.owner = nil
        self.ownsMemory = true
    }

    /// Storage of `byteCount` bytes that `initializer` fills.
    /// - Throws: `MVLMError` (`.outOfBounds`) when `byteCount` is negative or the memory cannot be
    ///   allocated (sizes come from files: a failed allocation is an error, never a trap), or
    ///   what `initializer` throws.
    public init(
        byteCount: Int, initializingWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        guard byteCount >= 0, let memory = TensorStorage.allocate(byteCount: byteCount) else {
            throw MVLMError(.outOfBounds, "cannot allocate \(byteCount) bytes for tensor data")
        }
        do {
            try initializer(UnsafeMutableRawBufferPointer(start: memory, count: byteCount))
        } catch {
            memory.deallocate()
            throw error
        }
        self.base = UnsafeRawPointer(memory)
        self.count = byteCount
        self.owner = nil
        self.ownsMemory = true
    }

    deinit {
        if ownsMemory, let base { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }

    /// 64-byte aligned memory from `posix_memalign` (which `deallocate()` frees), or nil.
    private static func allocate(byteCount: Int) -> UnsafeMutableRawPointer? {
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, 64, max(byteCount, 1)) == 0 else { return nil }
        return memory
    }

    /// True when the bytes live in memory owned by another object (a file mapping).
    public var isBorrowed: Bool { !ownsMemory }

    /// Calls `body` with the storage's bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) {
            try body(UnsafeRawBufferPointer(start: base, count: count))
        }
    }
}
