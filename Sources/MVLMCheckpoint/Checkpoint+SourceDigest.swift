import Crypto
import Foundation
import MVLMCore

extension Checkpoint {
    /// The SHA-256 of every file of the checkpoint (`files`: the weights, an index and its
    /// shards), as 64 lowercase hex digits by file name: what an `.mvlm` manifest's
    /// `source.files[].sha256` records (Formats/mvlm.md) and `mvlm verify --against` compares.
    ///
    /// Each file is read once, sequentially, in 4 MiB pieces with `read(2)` (not mapped: the
    /// converter releases the mapping's pages as it goes); `convert` runs this on a thread of its
    /// own while it streams the tensors, so the hashing overlaps the conversion.
    /// - Throws: `MVLMError` naming the file when it cannot be read.
    public func sha256Digests() throws -> [String: String] {
        try Self.sha256Digests(of: filePaths)
    }

    /// Every file of the checkpoint (`files`) by name, with its path.
    public var filePaths: [String: String] {
        Dictionary(files.map { ($0.name, directory + "/" + $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// The SHA-256 of each file of `paths` (name → path), by name.
    /// - Throws: `MVLMError` naming the first file that cannot be read.
    public static func sha256Digests(of paths: [String: String]) throws -> [String: String] {
        var digests: [String: String] = [:]
        for (name, path) in paths.sorted(by: { $0.key < $1.key }) { digests[name] = try sha256(ofFileAt: path) }
        return digests
    }

    /// The SHA-256 of the file at `path`, as 64 lowercase hex digits (swift-crypto's `SHA256`).
    /// - Throws: `MVLMError` naming the file when it cannot be opened or read.
    public static func sha256(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MVLMError(.io, "cannot open the file to hash it", file: path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let piece: Data?
            do {
                piece = try handle.read(upToCount: 4 << 20)
            } catch {
                throw MVLMError(.io, "cannot read the file to hash it: \(error)", file: path)
            }
            guard let piece, !piece.isEmpty else { break }
            hasher.update(data: piece)
        }
        return hasher.finalize().map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
