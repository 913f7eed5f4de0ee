import CMVLMKernels
import MVLMCore

/// Widens whole rows of a contiguous tensor's bytes to f32, whatever the source dtype.
public enum RowWidening {
    /// Writes `rows` rows of `rowLength` elements, starting at row `firstRow`, into `output`.
    public static func widen(
        _ bytes: UnsafeRawBufferPointer, dtype: DType, rowLength: Int, firstRow: Int, rows: Int,
        into output: UnsafeMutableBufferPointer<Float>
    ) throws {
        let count = rows * rowLength
        let out = UnsafeMutableBufferPointer(rebasing: output[0..<count])
        switch dtype {
        case .block(let type):
            guard let rowBytes = type.rowByteCount(elements: rowLength) else {
                throw MVLMError(.invalidArgument, "rows of \(rowLength) are not whole \(type.name) blocks")
            }
            for row in 0..<rows {
                let start = (firstRow + row) * rowBytes
                try BlockDequantizer.dequantize(
                    type, from: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + rowBytes)]),
                    into: UnsafeMutableBufferPointer(rebasing: out[(row * rowLength)..<((row + 1) * rowLength)]))
            }
        case .float32:
            let start = firstRow * rowLength * 4
            UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count * 4)]))
        case .float16, .bfloat16:
            let start = firstRow * rowLength * 2
            let halves = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count * 2)])
            // The mapping may leave 2-byte data unaligned only in files we do not write; copy then.
            if Int(bitPattern: halves.baseAddress) % 2 == 0 {
                let source = halves.assumingMemoryBound(to: UInt16.self)
                if dtype == .float16 {
                    // F16C where the CPU has it (exact, like the software conversion).
                    if mvlm_widen_f16(source.baseAddress, out.baseAddress, Int64(count)) == 0 {
                        HalfPrecision.convertFloat16ToFloat(source, into: out)
                    }
                } else {
                    HalfPrecision.convertBFloat16ToFloat(source, into: out)
                }
            } else {
                let copy = [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: halves)
                    initialized = count
                }
                copy.withUnsafeBufferPointer { source in
                    if dtype == .float16 { HalfPrecision.convertFloat16ToFloat(source, into: out) } else {
                        HalfPrecision.convertBFloat16ToFloat(source, into: out)
                    }
                }
            }
        case .float64:
            let start = firstRow * rowLength * 8
            for index in 0..<count {
                out[index] = Float(bytes.loadUnaligned(fromByteOffset: start + index * 8, as: Double.self))
            }
        default:
            throw MVLMError(.unsupported, "cannot convert \(dtype.name) weights to floats")
        }
    }
}
