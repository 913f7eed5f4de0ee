import MVLMCore
import MVLMTestSupport
import Testing

/// The reference for every conversion is the standard library's IEEE `Float16` (its conversions
/// are correctly rounded), and for bf16 the definition: the top 16 bits of the f32, rounded to
/// nearest even.
@Suite("f16 and bf16 conversion")
struct HalfPrecisionTests {
    @Test("f16 -> f32 is exact for all 65536 bit patterns")
    func float16ToFloatExhaustive() {
        let all = (0...UInt16.max).map { $0 }
        var output = [Float](repeating: 0, count: all.count)
        all.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { HalfPrecision.convertFloat16ToFloat(source, into: $0) }
        }
        var mismatches = 0
        for bits in all {
            let reference = Float(Float16(bitPattern: bits))
            let bulk = output[Int(bits)]
            let scalar = HalfPrecision.float(fromFloat16Bits: bits)
            if reference.isNaN {
                if !(bulk.isNaN && scalar.isNaN) { mismatches += 1 }
            } else if reference.bitPattern != bulk.bitPattern || reference.bitPattern != scalar.bitPattern {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test("f32 -> f16 rounds to nearest even, like Float16(Float), on edges and 400k random values")
    func floatToFloat16() {
        var random = SeededRandom(seed: 7)
        var values: [Float] = [
            0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e10, .infinity, -.infinity,
            .leastNonzeroMagnitude, 5.96e-8, 2.98e-8, 2.9802322e-8, 2.9802326e-8, 6.1035156e-5,
            6.097555e-5, 1.0009765625, 1.00048828125, 1.00146484375, .greatestFiniteMagnitude,
        ]
        // Every f16 value and the midpoints around it (ties must go to even).
        for bits in UInt16(0)...0x7BFF {
            let value = Float(Float16(bitPattern: bits))
            let next = Float(Float16(bitPattern: bits + 1))
            values += [value, -value, (value + next) / 2, value.nextUp, value.nextDown]
        }
        for _ in 0..<400_000 { values.append(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &random))) }
        var output = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { HalfPrecision.convertFloatToFloat16(source, into: $0) }
        }
        var mismatches = 0
        for (index, value) in values.enumerated() {
            let reference = Float16(value)
            if value.isNaN {
                if !Float16(bitPattern: output[index]).isNaN { mismatches += 1 }
            } else if reference.bitPattern != output[index]
                || HalfPrecision.float16Bits(from: value) != reference.bitPattern
            {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test("bf16 <-> f32: exact widening, round-to-nearest-even narrowing, NaN stays NaN")
    func bfloat16() {
        #expect(HalfPrecision.float(fromBFloat16Bits: 0x3F80) == 1)
        #expect(HalfPrecision.float(fromBFloat16Bits: 0xFF80) == -.infinity)
        #expect(HalfPrecision.float(fromBFloat16Bits: 0x0001) == Float(bitPattern: 0x0001_0000))
        // 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125: ties to even gives 1.0.
        #expect(HalfPrecision.bfloat16Bits(from: 1.00390625) == 0x3F80)
        // 1 + 3 * 2^-8 is halfway between 1.0078125 (odd) and 1.015625 (even).
        #expect(HalfPrecision.bfloat16Bits(from: 1.01171875) == 0x3F82)
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(HalfPrecision.bfloat16Bits(from: .greatestFiniteMagnitude) == 0x7F80)  // rounds to Inf
        let nan = Float(bitPattern: 0x7F80_0001)  // a NaN whose payload sits in the low bits
        #expect(HalfPrecision.float(fromBFloat16Bits: HalfPrecision.bfloat16Bits(from: nan)).isNaN)
        var random = SeededRandom(seed: 11)
        for _ in 0..<200_000 {
            let bits = UInt32.random(in: 0...UInt32.max, using: &random)
            let value = Float(bitPattern: bits)
            let narrowed = HalfPrecision.bfloat16Bits(from: value)
            if value.isNaN {
                #expect(HalfPrecision.float(fromBFloat16Bits: narrowed).isNaN)
                continue
            }
            // Reference: the nearest of the two bf16 neighbours, ties to the even one.
            let low = bits & 0xFFFF_0000
            let lowValue = Float(bitPattern: low)
            let highValue = Float(bitPattern: low &+ 0x1_0000)
            let exact = Double(value)
            let distanceLow = abs(exact - Double(lowValue))
            let distanceHigh = highValue.isNaN ? .infinity : abs(exact - Double(highValue))
            let expected: UInt32
            if distanceLow < distanceHigh { expected = low } else if distanceHigh < distanceLow { expected = low &+ 0x1_0000 } else {
                expected = (low >> 16) & 1 == 0 ? low : low &+ 0x1_0000
            }
            if UInt32(narrowed) << 16 != expected {
                // Overflow past the largest finite value legitimately becomes Inf.
                #expect(highValue.isInfinite && UInt32(narrowed) << 16 == low &+ 0x1_0000, "\(bits)")
            }
        }
    }

    @Test("bulk conversion reads sources at odd addresses (file data need not be aligned)")
    func unalignedSource() {
        let values: [Float] = (0..<13).map { Float($0) * 0.25 - 1 }
        let halves = values.map { Float16($0).bitPattern }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
        defer { raw.deallocate() }
        let odd = raw + 1
        for (index, bits) in halves.enumerated() { odd.storeBytes(of: bits, toByteOffset: index * 2, as: UInt16.self) }
        var widened = [Float](repeating: .nan, count: values.count)
        let source = UnsafeBufferPointer(start: UnsafeRawPointer(odd).assumingMemoryBound(to: UInt16.self), count: values.count)
        widened.withUnsafeMutableBufferPointer { HalfPrecision.convertFloat16ToFloat(source, into: $0) }
        #expect(widened == values)
        for (index, value) in values.enumerated() { odd.storeBytes(of: value, toByteOffset: index * 4, as: Float.self) }
        var narrowed = [UInt16](repeating: 0, count: values.count)
        let floats = UnsafeBufferPointer(start: UnsafeRawPointer(odd).assumingMemoryBound(to: Float.self), count: values.count)
        narrowed.withUnsafeMutableBufferPointer { HalfPrecision.convertFloatToFloat16(floats, into: $0) }
        #expect(narrowed == halves)
    }

    @Test("bulk conversion handles lengths that are not a multiple of 8")
    func tails() {
        for count in [0, 1, 7, 8, 9, 15, 17] {
            let values = (0..<count).map { Float($0) * 0.5 - 2 }
            var halves = [UInt16](repeating: 0, count: count)
            var back = [Float](repeating: .nan, count: count)
            values.withUnsafeBufferPointer { source in
                halves.withUnsafeMutableBufferPointer { HalfPrecision.convertFloatToFloat16(source, into: $0) }
            }
            halves.withUnsafeBufferPointer { source in
                back.withUnsafeMutableBufferPointer { HalfPrecision.convertFloat16ToFloat(source, into: $0) }
            }
            #expect(back == values)
        }
    }
}
