// The coverage-guided fuzzer: every reader and parser of MobileVLMKit as a libFuzzer target
// (`FuzzTarget`). Built only by `.ci/fuzz` (debug, `-sanitize=fuzzer -DMVLM_FUZZING`, its own
// scratch path `.build-fuzz`); a normal build gets a stub that says so. See docs/reliability.md.
//
//     .build-fuzz/debug/mvlm-fuzz TARGET [libFuzzer options] [CORPUS...]
//
// TARGET is a `FuzzTarget` name (safetensors, pytorch, gguf, hdf5, mvlm, npy, png, jpeg,
// tokenizer-json, sentencepiece, config, image-preprocessing). The binary is also its own HDF5
// worker (`mvlm-fuzz __hdf5-worker ...`), so the hdf5 target goes through the isolated reader.
#if canImport(Glibc)
import Glibc
#endif
import MVLMFuzzing
import MVLMHDF5

#if MVLM_FUZZING
nonisolated(unsafe) private var selectedTarget: FuzzTarget? = getenv("MVLM_FUZZ_TARGET").flatMap {
    FuzzTarget(rawValue: String(cString: $0))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let target = selectedTarget else {
        print("mvlm-fuzz: no target (pass it as the first argument or MVLM_FUZZ_TARGET)")
        exit(64)
    }
    target.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

/// libFuzzer's entry point for programs that have their own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzCallback
) -> Int32

/// The program's `main` in a SwiftPM debug build (which links executables with
/// `main = <module>_main`): picks the target or runs the HDF5 worker, then hands the remaining
/// arguments to libFuzzer.
@_cdecl("mvlm_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    let arguments = (0..<Int(argc)).map { String(cString: argv[$0]!) }
    if arguments.count > 1, arguments[1] == HDF5Worker.commandName {
        return HDF5Worker.run(Array(arguments.dropFirst(2)))
    }
    HDF5Reader.workerExecutable = arguments[0].hasPrefix("/") ? arguments[0] : nil
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    if arguments.count > 1, let target = FuzzTarget(rawValue: arguments[1]) {
        selectedTarget = target
        // Drop the target name: argv[1] = argv[0].
        argv[1] = argv[0]
        vector = argv + 1
        count -= 1
    }
    guard selectedTarget != nil else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        print("usage: mvlm-fuzz TARGET [libFuzzer options] [CORPUS...]; TARGET: \(names)")
        return 64
    }
    return runFuzzerDriver(&count, &vector, { data, size in fuzzOneInput(data, size) })
}
#else
@main
enum FuzzMain {
    static func main() {
        print("mvlm-fuzz is built by .ci/fuzz (swift build -Xswiftc -sanitize=fuzzer -Xswiftc -DMVLM_FUZZING)")
        exit(64)
    }
}
#endif
