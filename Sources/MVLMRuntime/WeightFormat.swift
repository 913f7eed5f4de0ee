import MVLMCore

/// How a weight's elements are widened to Float as kernels read them. Kernels are generic over a
/// format (`<W: WeightFormat>`) so each dtype gets its own specialized loop; weights are never
/// converted as a whole.
///
/// Kernels read 8 elements at a time as two `SIMD4<Float>` (one 128-bit register each: the
/// baseline x86-64 and arm64 vector width; wider vectors are split by the compiler and spill in
/// a four-row kernel) in the format's *packed order*: natural order for f32, and for the 16-bit
/// formats the even elements then the odd ones (a 16-byte load viewed as four `UInt32` holds
/// element pairs; splitting each pair with a mask and a shift needs no lane shuffles). A dot
/// product only needs both operands in the same order, so activations are packed the same way
/// once per call (`pack`).
@usableFromInline
protocol WeightFormat {
    /// Bytes per element.
    static var elementSize: Int { get }
    /// True when the packed order is even elements then odd elements.
    static var packsPairs: Bool { get }
    /// Elements `index ..< index + 8` (in elements from `base`), widened, in packed order.
    static func load8(_ base: UnsafeRawPointer, _ index: Int) -> (SIMD4<Float>, SIMD4<Float>)
    /// Element `index`, widened.
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Float
}

extension WeightFormat {
    /// Widens `count` elements starting at element `start` into `destination` in packed order
    /// (whole 8-element blocks packed, the remainder in natural order).
    @inline(__always)
    static func widenPacked(
        _ base: UnsafeRawPointer, start: Int, count: Int, into destination: UnsafeMutablePointer<Float>
    ) {
        let raw = UnsafeMutableRawPointer(destination)
        var index = 0
        while index &+ 8 <= count {
            let (a, b) = load8(base, start &+ index)
            raw.storeBytes(of: a, toByteOffset: index &* 4, as: SIMD4<Float>.self)
            raw.storeBytes(of: b, toByteOffset: (index &+ 4) &* 4, as: SIMD4<Float>.self)
            index &+= 8
        }
        while index < count {
            destination[index] = load(base, start &+ index)
            index &+= 1
        }
    }

    /// Copies `count` floats from `source` to `destination` in this format's packed order.
    @inline(__always)
    static func pack(_ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<Float>) {
        guard packsPairs else {
            destination.update(from: source, count: count)
            return
        }
        var index = 0
        while index &+ 8 <= count {
            for lane in 0..<4 {
                destination[index &+ lane] = source[index &+ 2 &* lane]
                destination[index &+ 4 &+ lane] = source[index &+ 2 &* lane &+ 1]
            }
            index &+= 8
        }
        while index < count {
            destination[index] = source[index]
            index &+= 1
        }
    }
}
