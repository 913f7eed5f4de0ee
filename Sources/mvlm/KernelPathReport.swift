import Foundation
import MVLMConvert
import MVLMCore
import MVLMRuntime

/// Which path every linear weight takes, for `mvlm bench`, `mvlm run --json` and
/// `mvlm convert --dry-run`: a count per path, and every weight that is not on a fast C kernel
/// (`LinearPath.isFast`) by name, so that no slow path is a surprise.
struct KernelPathReport {
    /// `decode` (1 token) or `prefill` (a prompt) with the path of each weight.
    let phases: [(phase: String, paths: [(weight: String, path: LinearPath)])]

    /// What an interpreter runs for one decode token and for a prompt of `promptTokens`.
    init(_ interpreter: Interpreter, promptTokens: Int) {
        phases = [
            ("decode", interpreter.linearPaths(tokens: 1)),
            ("prefill", interpreter.linearPaths(tokens: max(promptTokens, LinearPath.prefillTokens))),
        ]
    }

    /// What a conversion plan's matrices would run on `target`'s CPUs (its kernel level).
    init(plan: ConversionPlan, target: DeviceTarget) {
        let arm = [.arm64NEON, .arm64DotProd, .arm64I8MM].contains(target)
        var result: [(String, [(weight: String, path: LinearPath)])] = []
        for (phase, tokens) in [("decode", 1), ("prefill", 64)] {
            var paths: [(weight: String, path: LinearPath)] = []
            for decision in plan.decisions where decision.shape.count == 2 && decision.role != .tokenEmbedding {
                let path = LinearPath.predicted(
                    dtype: decision.outputDType, layout: decision.storedLayout, shape: decision.shape, tokens: tokens, level: target.kernelLevel,
                    arm: arm)
                paths.append((decision.name, path))
            }
            result.append((phase, paths))
        }
        phases = result
    }

    /// Weights that are not on a fast kernel, with their phase.
    var slow: [(phase: String, weight: String, path: LinearPath)] {
        phases.flatMap { phase in phase.paths.filter { !$0.path.isFast }.map { (phase.phase, $0.weight, $0.path) } }
    }

    /// Per phase: how many weights take each path (`integer mvlm_matvec_q8 INT8_PC (avx512-vnni)`: 30).
    var counts: [(phase: String, counts: [(path: String, weights: Int)])] {
        phases.map { phase in
            var counts: [String: Int] = [:]
            for entry in phase.paths { counts[entry.path.description, default: 0] += 1 }
            return (phase.phase, counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map { ($0.key, $0.value) })
        }
    }

    /// The JSON value: `{"decode": {path: count}, "prefill": {...}, "slow": [{phase, weight, route, kernel, level}]}`.
    var metadata: MetadataValue {
        var object: [String: MetadataValue] = [:]
        for phase in counts {
            object[phase.phase] = .object(Dictionary(uniqueKeysWithValues: phase.counts.map { ($0.path, .int(Int64($0.weights))) }))
        }
        object["slow"] = .array(
            slow.map { entry in
                .object([
                    "phase": .string(entry.phase), "weight": .string(entry.weight), "route": .string(entry.path.route.rawValue),
                    "kernel": .string(entry.path.kernel), "level": .string(entry.path.level),
                ])
            }, elementType: "JSON")
        return .object(object)
    }

    /// The same as `metadata`, for `JSONSerialization`.
    var jsonObject: [String: Any] {
        var object: [String: Any] = [:]
        for phase in counts { object[phase.phase] = Dictionary(uniqueKeysWithValues: phase.counts.map { ($0.path, $0.weights) }) }
        object["slow"] = slow.map {
            ["phase": $0.phase, "weight": $0.weight, "route": $0.path.route.rawValue, "kernel": $0.path.kernel, "level": $0.path.level]
        }
        return object
    }

    /// Text lines: the counts per phase, then one line per slow path kind naming up to 3 weights.
    func lines(label: String) -> [String] {
        var lines: [String] = []
        for phase in counts {
            let text = phase.counts.map { "\($0.weights)x \($0.path)" }.joined(separator: "; ")
            lines.append("  \(label) \(phase.phase): \(text.isEmpty ? "no linear weights" : text)")
        }
        var groups: [String: [String]] = [:]
        for entry in slow { groups["\(entry.phase): \(entry.path.description)", default: []].append(entry.weight) }
        for (key, weights) in groups.sorted(by: { $0.key < $1.key }) {
            let names = weights.prefix(3).joined(separator: ", ") + (weights.count > 3 ? ", ..." : "")
            lines.append("  SLOW PATH \(key): \(weights.count) weight\(weights.count == 1 ? "" : "s") (\(names))")
        }
        return lines
    }
}
