/// Small vector helpers shared by the kernels.
enum Vector {
    /// `Σ a[i] b[i]` with SIMD8 accumulators.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var k = 0
        while k &+ 16 <= count {
            acc0 += ra.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
            acc1 += ra.loadUnaligned(fromByteOffset: (k &+ 8) &* 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: (k &+ 8) &* 4, as: SIMD8<Float>.self)
            k &+= 16
        }
        if k &+ 8 <= count {
            acc0 += ra.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
            k &+= 8
        }
        var sum = (acc0 + acc1).sum()
        while k < count {
            sum += a[k] * b[k]
            k &+= 1
        }
        return sum
    }

    /// `y[i] += alpha * x[i]`.
    @inline(__always)
    static func addScaled(_ x: UnsafePointer<Float>, _ alpha: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        let a = SIMD8<Float>(repeating: alpha)
        var k = 0
        while k &+ 8 <= count {
            let sum = ry.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
                + a * rx.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: sum, toByteOffset: k &* 4, as: SIMD8<Float>.self)
            k &+= 8
        }
        while k < count {
            y[k] += alpha * x[k]
            k &+= 1
        }
    }

    /// `y[i] += x[i]` for every element (8 lanes at a time; each sum is the same single rounding as
    /// the scalar loop's).
    static func add(_ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(x.count == y.count, "add of \(x.count) values into \(y.count)")
        guard let xb = x.baseAddress, let yb = y.baseAddress else { return }
        let rx = UnsafeRawPointer(xb), ry = UnsafeMutableRawPointer(yb)
        let body = y.count & ~7
        var k = 0
        while k < body {
            let sum = ry.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
                + rx.loadUnaligned(fromByteOffset: k &* 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: sum, toByteOffset: k &* 4, as: SIMD8<Float>.self)
            k &+= 8
        }
        while k < y.count {
            yb[k] += xb[k]
            k &+= 1
        }
    }
}
