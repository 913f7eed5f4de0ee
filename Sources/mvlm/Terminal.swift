#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about the terminal the CLI writes to.
enum Terminal {
    /// The width of standard output when it is a terminal; `nil` for pipes and files.
    static var columns: Int? {
        guard isatty(STDOUT_FILENO) != 0 else { return nil }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    /// True when standard error is a terminal (progress bars go there).
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}
