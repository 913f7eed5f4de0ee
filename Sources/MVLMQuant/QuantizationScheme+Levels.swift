/// The grid of values an encoded row offers each element, and storing one element's level: what
/// error-compensating rounding (``GPTQ``) needs to round weights one column at a time against block
/// parameters (scales, mins) that were already chosen and written.
///
/// Every scheme's element value is `step * Float(level - zero) + offset` with an integer `level` in
/// `low...high`, evaluated with the same float operations as the scheme's dequantizer, so a level
/// stored with ``storeLevel(_:element:in:)`` decodes to exactly ``ElementGrid/value(_:)``.
extension QuantizationScheme {
    /// One element's grid: `value(level) = step * Float(level - zero) + offset`, `level` in `low...high`.
    public struct ElementGrid: Sendable, Equatable {
        public var step: Float
        public var zero: Int32
        public var offset: Float
        public var low: Int32
        public var high: Int32

        /// The value a level decodes to.
        @inline(__always)
        public func value(_ level: Int32) -> Float { step * Float(level &- zero) + offset }

        /// The level nearest `x` (clamped to `low...high`; `zero` clamped when `step` is 0).
        @inline(__always)
        public func nearestLevel(_ x: Float) -> Int32 {
            guard step != 0 else { return Swift.min(Swift.max(zero, low), high) }
            let t = ((x - offset) / step).rounded(.toNearestOrEven)
            guard t.isFinite else { return t > 0 ? high : low }
            let clamped = Swift.min(Swift.max(t, Float(low &- zero)), Float(high &- zero))
            return Int32(clamped) &+ zero
        }
    }

    /// The columns that share block parameters: the block (32 or the group size for legacy and
    /// affine schemes, the super-block of 256 for K-quants), the whole row for ``int8PerChannel``.
    public func parameterGroup(rowLength: Int) -> Int {
        if case .int8PerChannel = self { return rowLength }
        return blockElements
    }

    /// Element `element`'s grid in the encoded row `row` (``rowByteCount(elements:)`` bytes).
    /// - Precondition: `element` lies in the row (not checked: callers iterate over the row).
    @inline(__always)
    public func grid(element: Int, in row: UnsafeRawPointer) -> ElementGrid {
        switch self {
        case .q8_0, .int8Block32:
            let d = (row + (element / 32) &* 34).float16(at: 0)
            return ElementGrid(step: d, zero: 0, offset: 0, low: -127, high: 127)
        case .q4_0:
            let d = (row + (element / 32) &* 18).float16(at: 0)
            return ElementGrid(step: d, zero: 8, offset: 0, low: 0, high: 15)
        case .q5_0:
            let d = (row + (element / 32) &* 22).float16(at: 0)
            return ElementGrid(step: d, zero: 16, offset: 0, low: 0, high: 31)
        case .q4_1:
            let b = row + (element / 32) &* 20
            return ElementGrid(step: b.float16(at: 0), zero: 0, offset: b.float16(at: 2), low: 0, high: 15)
        case .affineInt4(let groupSize):
            let b = row + (element / groupSize) &* (4 &+ groupSize / 2)
            return ElementGrid(step: b.float16(at: 0), zero: 0, offset: b.float16(at: 2), low: 0, high: 15)
        case .q4_K:
            let b = row + (element / 256) &* 144
            let (sc, m) = Q4_KKernel.scaleAndMin((element % 256) / 32, b + 4)
            let d = b.float16(at: 0), dmin = b.float16(at: 2)
            return ElementGrid(step: d * Float(sc), zero: 0, offset: -(dmin * Float(m)), low: 0, high: 15)
        case .q6_K:
            let b = row + (element / 256) &* 210
            let j = element % 256
            let half = j / 128, quarter = (j % 128) / 32, l = j % 32
            let scale = b.load(fromByteOffset: 192 &+ half &* 8 &+ l / 16 &+ 2 &* quarter, as: Int8.self)
            return ElementGrid(step: b.float16(at: 208) * Float(scale), zero: 32, offset: 0, low: 0, high: 63)
        case .int8PerChannel:
            let s = Float(bitPattern: UInt32(littleEndian: row.loadUnaligned(as: UInt32.self)))
            return ElementGrid(step: s, zero: 0, offset: 0, low: -127, high: 127)
        case .iq4_NL:
            preconditionFailure("IQ4_NL's grid is not linear: GPTQ skips it (hasLinearLevels)")
        }
    }

    /// Whether every element's levels form a linear grid (``grid(element:in:)``), which GPTQ needs:
    /// all schemes but ``iq4_NL`` (a fixed non-linear 16-value grid), which GPTQ leaves to its
    /// own quantizer.
    public var hasLinearLevels: Bool {
        if case .iq4_NL = self { return false }
        return true
    }

    /// Stores `level` (in the element's `low...high`) as element `element` of the encoded row,
    /// leaving every other element and every block parameter as they are.
    @inline(__always)
    public func storeLevel(_ level: Int32, element: Int, in row: UnsafeMutableRawPointer) {
        @inline(__always) func setNibble(_ byte: UnsafeMutableRawPointer, high: Bool, _ value: Int32) {
            let old = byte.load(as: UInt8.self)
            let v = UInt8(truncatingIfNeeded: value) & 0xF
            byte.storeBytes(of: high ? (old & 0x0F) | (v &<< 4) : (old & 0xF0) | v, as: UInt8.self)
        }
        switch self {
        case .q8_0, .int8Block32:
            row.storeBytes(of: Int8(truncatingIfNeeded: level), toByteOffset: (element / 32) &* 34 &+ 2 &+ element % 32, as: Int8.self)
        case .q4_0:
            let j = element % 32
            setNibble(row + ((element / 32) &* 18 &+ 2 &+ j % 16), high: j >= 16, level)
        case .q4_1:
            let j = element % 32
            setNibble(row + ((element / 32) &* 20 &+ 4 &+ j % 16), high: j >= 16, level)
        case .affineInt4(let groupSize):
            let j = element % groupSize, half = groupSize / 2
            setNibble(row + ((element / groupSize) &* (4 &+ half) &+ 4 &+ j % half), high: j >= half, level)
        case .q5_0:
            let b = row + (element / 32) &* 22
            let j = element % 32
            setNibble(b + (6 &+ j % 16), high: j >= 16, level)
            var qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let bit = UInt32(1) &<< UInt32(j)
            qh = (level & 0x10) != 0 ? qh | bit : qh & ~bit
            b.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
        case .q4_K:
            let j = element % 256
            let sub = j / 32
            setNibble(row + ((element / 256) &* 144 &+ 16 &+ (sub / 2) &* 32 &+ j % 32), high: sub % 2 == 1, level)
        case .q6_K:
            let b = row + (element / 256) &* 210
            let j = element % 256
            let half = j / 128, quarter = (j % 128) / 32, l = j % 32
            setNibble(b + (half &* 64 &+ l &+ (quarter % 2) &* 32), high: quarter >= 2, level)
            let qh = b + (128 &+ half &* 32 &+ l)
            let shift = UInt8(2 &* quarter)
            let old = qh.load(as: UInt8.self)
            let bits = UInt8(truncatingIfNeeded: level &>> 4) & 3
            qh.storeBytes(of: (old & ~(3 &<< shift)) | (bits &<< shift), as: UInt8.self)
        case .int8PerChannel:
            row.storeBytes(of: Int8(truncatingIfNeeded: level), toByteOffset: 4 &+ element, as: Int8.self)
        case .iq4_NL:
            preconditionFailure("IQ4_NL's grid is not linear: GPTQ skips it (hasLinearLevels)")
        }
    }
}
