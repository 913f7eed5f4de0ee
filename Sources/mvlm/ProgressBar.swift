import Foundation

/// A one-line progress bar on standard error, drawn only when standard error is a terminal (so
/// logs and pipes stay clean). Redraws at most ten times a second.
final class ProgressBar {
    /// What `done` and `total` count.
    enum Unit {
        case bytes
        /// Items of a kind (`windows`, `tensors`), shown with the time left.
        case items(String)
    }

    private let label: String
    private let unit: Unit
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast

    init(label: String, unit: Unit = .bytes, enabled: Bool = Terminal.stderrIsTerminal) {
        self.label = label
        self.unit = unit
        self.enabled = enabled
    }

    /// Shows `done` of `total` bytes.
    func update(done: Int, total: Int) {
        guard enabled else { return }
        let now = Date()
        guard done >= total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let elapsed = max(now.timeIntervalSince(start), 1e-6)
        let line: String
        switch unit {
        case .bytes:
            let rate = Double(done) / elapsed / 1e6
            line = String(format: "\r%@ %@ %3.0f%%  %.0f / %.0f MB  %.0f MB/s", label, bar, fraction * 100, Double(done) / 1e6, Double(total) / 1e6, rate)
        case .items(let name):
            let left = done > 0 ? elapsed / Double(done) * Double(max(total - done, 0)) : 0
            line = String(format: "\r%@ %@ %3.0f%%  %ld / %ld %@  %.0f s left ", label, bar, fraction * 100, done, total, name, left)
        }
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Ends the line.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
