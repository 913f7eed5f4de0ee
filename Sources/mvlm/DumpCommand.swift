import ArgumentParser
import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMModelFile
import MVLMModels
import MVLMQuant
import MVLMNumPy

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write one tensor of a checkpoint or .mvlm file to a NumPy .npy file.",
        discussion: """
            NAME is the tensor's name as the source checkpoint has it (for an .mvlm file, the name \
            it was converted from). Without --dequantize the stored form is written: scalar types \
            as their NumPy dtype (bf16 as its raw uint16 bits), block-quantized tensors as uint8 \
            [rows, bytes per row]. With --dequantize: float32 in the tensor's logical shape. A tensor \
            read from an .mvlm file is checked against its CRC-32 first.

            Examples:
              mvlm dump model.mvlm --tensor lm_head.weight --dequantize -o lm_head.npy
              mvlm dump ./MobileLLaMA-1.4B --tensor model.norm.weight -o norm.npy
            """)

    @Argument(help: "A checkpoint file or folder, or an .mvlm file.")
    var model: String

    @Option(help: "The tensor's name.")
    var tensor: String

    @Flag(help: "Write float32 values in the logical shape.")
    var dequantize = false

    @Option(name: [.customShort("o"), .long], help: "The .npy file to write.")
    var output: String

    func run() throws {
        try InputPaths.check([model])
        let checkpoint = try Checkpoint.open(model)
        let (name, rows) = try Self.resolve(tensor, in: checkpoint)
        var value: Tensor
        if let file = checkpoint.reader as? ModelFileReader {
            value = try file.verifiedTensor(named: name)
        } else {
            value = try checkpoint.reader.tensor(named: name)
        }
        if let rows {
            // The source tensor's rows inside a fused one (rows are stored one after another; in the
            // rows16 layout too, whose groups of 16 rows never straddle two parts).
            let columns = value.shape.count == 2 ? value.shape[1] : 1
            let rowBytes = value.dtype.byteCount(shape: [columns]) ?? 0
            let shape = value.shape.count == 2 ? [rows.count, columns] : [rows.count]
            value = try Tensor(
                storage: value.storage, dtype: value.dtype, shape: shape, byteOffset: value.byteOffset + rows.lowerBound * rowBytes,
                layout: value.layout)
        }
        if dequantize {
            let floats: [Float]
            if case .block(let type) = value.dtype {
                floats = try value.withUnsafeBytes { try BlockDequantizer.dequantize(type, bytes: Array($0), count: value.elementCount, rowLength: value.shape.last) }
            } else {
                floats = try value.floatValues()
            }
            try NumPyFile.writeFloat32(floats, shape: value.shape, to: output)
        } else if let descr = NumPyFile.descr(for: value.dtype) {
            try value.withUnsafeBytes { try NumPyFile.write(bytes: $0, descr: descr, shape: value.shape, to: output) }
        } else {
            let rowLength = value.shape.last ?? 1
            let rows = rowLength > 0 ? value.elementCount / rowLength : 0
            let rowBytes = rows > 0 ? value.byteCount / rows : 0
            // The raw stored form: a rows16 matrix as its interleaved groups (Formats/mvlm.md).
            try value.withUnsafeStoredBytes { try NumPyFile.write(bytes: $0, descr: "|u1", shape: [rows, rowBytes], to: output) }
        }
        FileHandle.standardError.write(Data("wrote \(output): '\(name)' \(value.dtype.name) \(Shape.describe(value.shape))\(dequantize ? " as float32" : value.layout == .rows16 ? " (stored rows16 layout)" : "")\n".utf8))
    }

    /// The name in the file for a source name: itself, or the .mvlm tensor made from it (with the
    /// rows it fills when that tensor is fused from several).
    static func resolve(_ name: String, in checkpoint: Checkpoint) throws -> (String, Range<Int>?) {
        if checkpoint.reader.tensorInfos.contains(where: { $0.name == name }) { return (name, nil) }
        if let file = checkpoint.reader as? ModelFileReader {
            for entry in file.manifest.tensors {
                for source in entry.source {
                    guard let part = ModelManifest.SourcePart(source), part.name == name else { continue }
                    guard let rows = part.rows else { return (entry.name, nil) }
                    if rows.upperBound <= (entry.shape.first ?? 0) { return (entry.name, rows) }
                }
            }
        }
        let close = checkpoint.reader.tensorInfos.map(\.name).filter { $0.contains(name.split(separator: ".").last.map(String.init) ?? name) }.prefix(3)
        throw MVLMError(
            .notFound, "no tensor named '\(name)'\(close.isEmpty ? "" : "; similar: " + close.joined(separator: ", "))",
            file: checkpoint.path)
    }
}
