import Foundation
import MVLMFuzzing
import MVLMTestSupport
import Testing

/// Keeps the fuzz harness honest in the normal suite: every target has seeds, every seed goes
/// through its target without a crash, and every seed is accepted by its reader (a seed that the
/// reader refuses would fuzz only the error paths).
@Suite("fuzz targets and their seed corpora")
struct FuzzTargetTests {
    static let seeds: [(target: String, path: String)] = {
        let list = (try? String(contentsOfFile: Fixtures.path("fuzz/seeds.txt"), encoding: .utf8)) ?? ""
        return list.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
            return fields.count == 2 ? (fields[0], fields[1]) : nil
        }
    }()

    @Test("every target has at least one seed, and every seed names a target", arguments: FuzzTarget.allCases)
    func everyTargetHasSeeds(target: FuzzTarget) {
        #expect(Self.seeds.contains { $0.target == target.rawValue })
        #expect(Self.seeds.allSatisfy { FuzzTarget(rawValue: $0.target) != nil })
    }

    @Test("every seed runs through its target", arguments: seeds.map { "\($0.target) \($0.path)" })
    func seedRuns(seed: String) throws {
        let fields = seed.split(separator: " ", maxSplits: 1).map(String.init)
        let target = try #require(FuzzTarget(rawValue: fields[0]))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(fields[1])))
        bytes.withUnsafeBytes { target.run($0) }
        // The seed is a valid input: the target's reader accepts it.
        #expect(bytes.withUnsafeBytes { target.accepts($0) }, "\(seed) is refused by its reader")
    }

    @Test("hostile bytes end in an error, not a crash", arguments: FuzzTarget.allCases)
    func garbage(target: FuzzTarget) {
        var random = SeededRandom(seed: 18)
        for length in [0, 1, 7, 64, 1000] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            bytes.withUnsafeBytes { target.run($0) }
            #expect(!bytes.withUnsafeBytes { target.accepts($0) } || length == 0 || target == .config)
        }
    }
}
