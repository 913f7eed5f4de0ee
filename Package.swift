// swift-tools-version:6.0
import PackageDescription

// Dependency graph (arrows point down; nothing points up; .ci/library-graph checks that every
// module imports only what it lists here, and that MobileVLM and the engine reach no reader):
//
//   mvlm (CLI)
//     ├─ MVLMVerify ── float source vs .mvlm file, calibration (MVLMModelLoading, MVLMModelFile,
//     │                MVLMQuant, MVLMNumPy; not MVLMConvert)
//     ├─ MVLMConvert ── typed passes, plan, copy/cast/quantize streamers (MVLMCheckpoint, MVLMModelFile,
//     │                 MVLMQuant)
//     ├─ MVLMBenchmarking ── prefill/decode throughput (MVLMModels)
//     ├─ MVLMModelLoading ── models from checkpoints: LanguageModel.load(Checkpoint), VisionTowerResolver
//     │    ├─ MVLMCheckpoint ── format detection, checkpoint folders, architecture recognition, inspect
//     │    │    ├─ MVLMSafetensors ─┐
//     │    │    ├─ MVLMPyTorch ─────┤
//     │    │    ├─ MVLMGGUF ────────┼─ MVLMFileIO ── mmap owner, bounds-checked byte reading, atomic writes
//     │    │    ├─ MVLMHDF5 ── CMVLMHDF5 (libhdf5), MVLMFileIO
//     │    │    └─ MVLMModelFile
//     │    └─ MVLMModels
//     ├─ MVLMSynthetic ── random-weight checkpoints (MVLMSafetensors, MVLMPyTorch)
//     ├─ MVLMNumPy ── .npy arrays (MVLMFileIO)
//     ├─ MVLMConversionJob ── `mvlm convert` as a library (MVLMConvert, MVLMGGUFExport, MVLMVerify, MVLMModelLoading)
//     ├─ MVLMGGUFExport ── GGUF export of a conversion plan (MVLMConvert, MVLMGGUF, MVLMTokenizer)
//     └─ everything MobileVLM has
//   MobileVLM (library for apps: no reader, no libhdf5, no conversion)
//     ├─ MVLMModels (architecture builders, generation, sampling) ── MVLMRuntime (interpreter,
//     │    kernels) ── MVLMGraph (graph IR, no I/O); MVLMQuant; CMVLMKernels
//     ├─ MVLMModelFile ── the .mvlm container (MVLMFileIO, MVLMCompression ── CMVLMZstd, CMVLMZlib)
//     ├─ MVLMTokenizer ── SentencePiece and byte-level BPE (MVLMFileIO), chat prompts ── MVLMTemplate
//     └─ MVLMImage ── PNG/JPEG decoding, Pillow-exact resampling, CLIP preprocessing (MVLMFileIO,
//                     CMVLMPNG (libpng), CMVLMJPEG (libjpeg-turbo))
//   MVLMQuant ── quantization schemes (GGUF block types, int8, affine int4), row widening, no I/O
//   MVLMFuzzing ── every reader as a fuzz target; mvlm-fuzz, its libFuzzer executable (.ci/fuzz)
//   everything above ── MVLMCore: dtypes, shapes, tensors, f16/bf16 conversion (no I/O, no C)

let package = Package(
    name: "MobileVLMKit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mvlm", targets: ["mvlm"]),
        .library(name: "MVLMCore", targets: ["MVLMCore"]),
        .library(name: "MVLMCheckpoint", targets: ["MVLMCheckpoint"]),
        // The runtime for apps: open an .mvlm file, tokenize, generate (docs/library.md). Its
        // dependency graph holds no checkpoint reader, no libhdf5 and no conversion module
        // (.ci/library-graph checks it).
        .library(name: "MobileVLM", targets: ["MobileVLM"]),
        .executable(name: "mvlm-fuzz", targets: ["mvlm-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // SHA-256 of source files (the manifest's provenance); MVLMCheckpoint only, not in MobileVLM.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Core: no I/O, no C.
        .target(name: "MVLMCore"),

        // I/O primitives.
        .target(name: "MVLMFileIO", dependencies: ["MVLMCore"]),

        // System libraries, each wrapped by exactly one Swift module.
        .systemLibrary(
            name: "CMVLMZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CMVLMHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(
            name: "CMVLMZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .target(name: "MVLMCompression", dependencies: ["CMVLMZstd", "CMVLMZlib", "MVLMCore"]),

        // One module per file format.
        .target(name: "MVLMSafetensors", dependencies: ["MVLMCore", "MVLMFileIO"]),
        .target(name: "MVLMPyTorch", dependencies: ["MVLMCore", "MVLMFileIO", "MVLMCompression"]),
        .target(name: "MVLMGGUF", dependencies: ["MVLMCore", "MVLMFileIO"]),
        .target(name: "MVLMHDF5", dependencies: ["MVLMCore", "MVLMFileIO", "CMVLMHDF5"]),

        // Checkpoints as users have them: files, folders, shards, config.json.
        .target(
            name: "MVLMCheckpoint",
            dependencies: [
                "MVLMCore", "MVLMFileIO", "MVLMSafetensors", "MVLMPyTorch", "MVLMGGUF", "MVLMHDF5",
                "MVLMModelFile", .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // The float engine: graph IR (no I/O), architecture builders, interpreter.
        .target(name: "MVLMGraph", dependencies: ["MVLMCore"]),
        // Kernels in C with run-time CPU dispatch (portable C, AVX2, AVX-512): quantized dot products and
        // products for the runtime, vector quantizers and f16 widening for conversion.
        .target(name: "CMVLMKernels"),
        .target(name: "MVLMRuntime", dependencies: ["MVLMCore", "MVLMGraph", "MVLMQuant", "CMVLMKernels"]),
        .target(name: "MVLMModels", dependencies: ["MVLMCore", "MVLMGraph", "MVLMRuntime", "MVLMQuant"]),
        // Models from checkpoint folders and files (any reader), above the engine.
        .target(name: "MVLMModelLoading", dependencies: ["MVLMCore", "MVLMCheckpoint", "MVLMModels"]),
        // Prefill and decode throughput of a model (bench, the MVLMBenchmarks suite).
        .target(name: "MVLMBenchmarking", dependencies: ["MVLMCore", "MVLMGraph", "MVLMRuntime", "MVLMModels"]),
        // NumPy .npy arrays: logits, pixels and token ids in and out of the tools.
        .target(name: "MVLMNumPy", dependencies: ["MVLMCore", "MVLMFileIO"]),

        // Quantization schemes: pure functions over float rows and packed blocks (no I/O).
        .target(name: "MVLMQuant", dependencies: ["MVLMCore", "CMVLMKernels"]),

        // The .mvlm model file: reader, streaming writer, zstd distribution form (Formats/mvlm.md).
        .target(name: "MVLMModelFile", dependencies: ["MVLMCore", "MVLMFileIO", "MVLMCompression"]),

        // Conversion: tensor roles, the mixed-precision policy, the typed passes and plan, the
        // copy / cast / quantize streamers into .mvlm files.
        .target(
            name: "MVLMConvert",
            dependencies: [
                "MVLMCore", "MVLMCheckpoint", "MVLMFileIO", "MVLMModelFile", "MVLMQuant", "CMVLMKernels",
            ]),

        // GGUF export: the plan and streaming converter written as llama.cpp GGUF files (language
        // model and vision projector), beside the .mvlm writer (docs/gguf-export.md).
        .target(
            name: "MVLMGGUFExport",
            dependencies: ["MVLMCore", "MVLMCheckpoint", "MVLMConvert", "MVLMGGUF", "MVLMQuant", "MVLMTokenizer"]),

        // Conversion as a library: what `mvlm convert` does (engine configuration, passes,
        // tokenizer embedding, image-preprocessing record, calibration, verify-before-publish,
        // GGUF export) from one Sendable options value.
        .target(
            name: "MVLMConversionJob",
            dependencies: [
                "MVLMCore", "MVLMFileIO", "MVLMCheckpoint", "MVLMModelFile", "MVLMConvert", "MVLMGGUFExport", "MVLMGGUF",
                "MVLMVerify", "MVLMModels", "MVLMModelLoading", "MVLMNumPy", "MVLMQuant", "MVLMRuntime", "MVLMTokenizer",
                "MVLMTemplate", "MVLMImage",
            ]),

        // Verification: the float source against the quantized file, calibration statistics.
        .target(
            name: "MVLMVerify",
            dependencies: [
                "MVLMCore", "MVLMFileIO", "MVLMCheckpoint", "MVLMModelFile", "MVLMModelLoading", "MVLMModels", "MVLMNumPy",
                "MVLMQuant", "MVLMRuntime",
            ]),

        // Chat templates: a sandboxed Jinja engine for the subset chat templates use (no I/O).
        .target(name: "MVLMTemplate", dependencies: ["MVLMCore"]),

        // Tokenizers: SentencePiece (tokenizer.model) and byte-level BPE (tokenizer.json, GGUF metadata).
        .target(name: "MVLMTokenizer", dependencies: ["MVLMCore", "MVLMFileIO", "MVLMTemplate"]),

        // Images: PNG (libpng) and JPEG (libjpeg-turbo) to RGB as Pillow converts them, and
        // MobileVLM's CLIP preprocessing with Pillow's bicubic resampling (docs/images.md).
        .systemLibrary(
            name: "CMVLMPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CMVLMJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),
        .target(name: "MVLMImage", dependencies: ["MVLMCore", "MVLMFileIO", "CMVLMPNG", "CMVLMJPEG"]),

        // The runtime library for apps (docs/library.md): the engine, the .mvlm reader, tokenizers,
        // images; no checkpoint reader, no conversion.
        .target(
            name: "MobileVLM",
            dependencies: [
                "MVLMCore", "MVLMModelFile", "MVLMModels", "MVLMRuntime", "MVLMTokenizer", "MVLMTemplate", "MVLMImage",
            ]),

        // Random-weight checkpoints with real shapes, for benchmarks without downloads.
        .target(
            name: "MVLMSynthetic",
            dependencies: ["MVLMCore", "MVLMFileIO", "MVLMSafetensors", "MVLMPyTorch"]),

        // The command-line tool stays thin.
        .executableTarget(
            name: "mvlm",
            dependencies: [
                "MVLMCore", "MVLMCheckpoint", "MVLMGraph", "MVLMRuntime", "MVLMModels", "MVLMModelLoading", "MVLMBenchmarking",
                "MVLMNumPy", "MVLMSynthetic",
                "MVLMModelFile", "MVLMConvert", "MVLMVerify", "MVLMFileIO", "MVLMTokenizer", "MVLMTemplate", "MVLMImage",
                "MVLMHDF5", "MVLMGGUF", "MVLMQuant", "MVLMGGUFExport", "MVLMConversionJob",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Fuzzing (docs/reliability.md): every reader and parser as a target (MVLMFuzzing, tested in
        // the normal suite), and the libFuzzer executable that .ci/fuzz builds with -sanitize=fuzzer.
        .target(
            name: "MVLMFuzzing",
            dependencies: [
                "MVLMCore", "MVLMGGUF", "MVLMHDF5", "MVLMImage", "MVLMModelFile", "MVLMModels", "MVLMNumPy", "MVLMPyTorch",
                "MVLMSafetensors", "MVLMTokenizer",
            ]),
        .executableTarget(name: "mvlm-fuzz", dependencies: ["MVLMFuzzing", "MVLMHDF5"]),

        // Tests.
        .target(name: "MVLMTestSupport", dependencies: ["MVLMCore"], path: "Tests/MVLMTestSupport"),
        .testTarget(name: "MVLMCoreTests", dependencies: ["MVLMCore", "MVLMTestSupport"]),
        .testTarget(name: "MVLMFileIOTests", dependencies: ["MVLMFileIO", "MVLMTestSupport"]),
        .testTarget(name: "MVLMCompressionTests", dependencies: ["MVLMCompression", "MVLMTestSupport"]),
        .testTarget(name: "MVLMSafetensorsTests", dependencies: ["MVLMSafetensors", "MVLMTestSupport"]),
        .testTarget(name: "MVLMPyTorchTests", dependencies: ["MVLMPyTorch", "MVLMTestSupport"]),
        .testTarget(name: "MVLMGGUFTests", dependencies: ["MVLMGGUF", "MVLMTestSupport"]),
        // "mvlm": the HDF5 reader runs libhdf5 in `mvlm __hdf5-worker` child processes.
        .testTarget(name: "MVLMHDF5Tests", dependencies: ["MVLMHDF5", "mvlm", "MVLMTestSupport"]),
        .testTarget(
            name: "MVLMCheckpointTests",
            dependencies: ["MVLMCheckpoint", "MVLMSynthetic", "MVLMSafetensors", "mvlm", "MVLMTestSupport"]),
        .testTarget(name: "MVLMModelFileTests", dependencies: ["MVLMModelFile", "MVLMCompression", "MVLMTestSupport"]),
        .testTarget(
            name: "MVLMConvertTests",
            dependencies: [
                "MVLMConvert", "MVLMCheckpoint", "MVLMCompression", "MVLMModelFile", "MVLMModels", "MVLMModelLoading",
                "MVLMNumPy", "MVLMSynthetic", "mvlm",
                "MVLMTestSupport", "MVLMGGUFExport", "MVLMConversionJob", "MVLMVerify",
            ]),
        .testTarget(name: "MVLMTemplateTests", dependencies: ["MVLMTemplate", "MVLMTestSupport"]),
        .testTarget(
            name: "MVLMTokenizerTests",
            dependencies: ["MVLMTokenizer", "MVLMTemplate", "MVLMGGUF", "mvlm", "MVLMTestSupport"]),
        .testTarget(name: "MVLMImageTests", dependencies: ["MVLMImage", "MVLMCore", "MVLMCompression", "MVLMTestSupport"]),
        .testTarget(name: "MVLMQuantTests", dependencies: ["MVLMQuant", "CMVLMKernels", "MVLMTestSupport"]),
        .testTarget(name: "MVLMGraphTests", dependencies: ["MVLMGraph", "MVLMTestSupport"]),
        .testTarget(name: "MVLMRuntimeTests", dependencies: ["MVLMRuntime", "MVLMQuant", "MVLMTestSupport"]),
        .testTarget(
            name: "MVLMModelsTests",
            dependencies: [
                "MVLMModels", "MVLMModelLoading", "MVLMBenchmarking", "MVLMNumPy", "MVLMCheckpoint", "MVLMModelFile", "mvlm",
                "MVLMTestSupport",
            ]),
        .testTarget(
            name: "MVLMVerifyTests",
            dependencies: [
                "MVLMVerify", "MVLMModels", "MVLMModelLoading", "MVLMNumPy", "MVLMCheckpoint", "MVLMModelFile", "MVLMConvert",
                "MVLMCompression", "MVLMSynthetic",
                "MVLMRuntime", "mvlm", "MVLMTestSupport",
            ]),
        // An app's view: imports MobileVLM only ("mvlm" builds its .mvlm fixture from the shipped ones).
        .testTarget(name: "MobileVLMTests", dependencies: ["MobileVLM", "mvlm"]),
        .testTarget(name: "MVLMFuzzingTests", dependencies: ["MVLMFuzzing", "mvlm", "MVLMTestSupport"]),
        .testTarget(
            name: "MVLMRealFileTests",
            dependencies: ["MVLMCheckpoint", "MVLMCompression", "MVLMModelFile", "mvlm", "MVLMTestSupport"]),
        .testTarget(
            name: "MVLMBenchmarks",
            dependencies: ["MVLMCore", "MVLMCheckpoint", "MVLMRuntime", "MVLMTestSupport"]),
    ]
)
