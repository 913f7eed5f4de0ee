import Dispatch
import MVLMCore

/// Error-compensating rounding (GPTQ, Frantar et al. 2022) into the existing block formats.
///
/// For a weight matrix `W [rows, columns]` whose input `X [tokens, columns]` has the second moment
/// `H = XᵀX`, GPTQ minimizes `‖(W − Ŵ) Xᵀ‖²` greedily: columns are rounded in order, and each
/// column's rounding error, divided by the diagonal of the upper Cholesky factor `U` of the damped
/// inverse (`(H + λI)⁻¹ = UᵀU`), is pushed onto the columns not yet rounded through the row `U[i, i+1...]`.
///
/// The output is exactly the scheme's block bytes: when the walk reaches the first column of a
/// parameter group (a block; a K-quant super-block; the whole row for INT8_PC), that group's
/// parameters are chosen by the scheme's own quantizer on the *current* (error-updated) weights —
/// with its scale search and the importance weights when asked — and written; then every column of
/// the group is rounded to the nearest level of that fixed grid (``QuantizationScheme/grid(element:in:)``)
/// and its level stored (``QuantizationScheme/storeLevel(_:element:in:)``). With `H = I` nothing is
/// pushed and the result is round-to-nearest on the parameters the plain quantizer chose.
///
/// Cost: `rows * columns² / 2` multiply-adds for the matrix, `columns³ / 3` for the factor (once per
/// distinct input). Memory: the factor (`columns²` floats) plus the rows of one task.
public enum GPTQ {
    /// The upper-triangular `U` (row-major `[columns, columns]`, zeros below the diagonal) with
    /// `(H + λ I)⁻¹ = Uᵀ U`, `λ = damping * mean(diag H)`.
    ///
    /// Columns whose diagonal is 0 (an input that was always 0) get a diagonal of 1 first, as in
    /// GPTQ. Computed in Double: `H` reversed (`J H J`) is Cholesky-factored as `M Mᵀ`; then
    /// `H = R Rᵀ` with `R = J M J` upper triangular, so `H⁻¹ = R⁻ᵀ R⁻¹` and `U = R⁻¹ = J M⁻¹ J`.
    /// When the damped matrix is not numerically positive definite the damping is raised tenfold
    /// (up to three times).
    /// - Throws: `MVLMError.invalidArgument` for a size mismatch, a non-finite entry or a matrix that
    ///   stays indefinite.
    public static func inverseFactor(hessian: [Double], columns: Int, damping: Double = 0.01) throws -> [Float] {
        guard columns > 0, hessian.count == columns * columns else {
            throw MVLMError(.invalidArgument, "second moment has \(hessian.count) entries, expected \(columns) x \(columns)", subject: "GPTQ")
        }
        guard damping >= 0, damping.isFinite else {
            throw MVLMError(.invalidArgument, "damping \(damping) must be finite and >= 0", subject: "GPTQ")
        }
        var diagonal = (0..<columns).map { hessian[$0 * columns + $0] }
        if let bad = hessian.firstIndex(where: { !$0.isFinite }) {
            throw MVLMError(.invalidArgument, "second moment entry \(bad) is not finite", subject: "GPTQ")
        }
        for i in 0..<columns where diagonal[i] <= 0 { diagonal[i] = 1 }
        let mean = diagonal.reduce(0, +) / Double(columns)
        var lambda = damping * mean
        for _ in 0..<4 {
            // Reversed and damped: B[i][j] = H[n-1-i][n-1-j].
            var m = [Double](repeating: 0, count: columns * columns)
            for i in 0..<columns {
                for j in 0...i {
                    let ri = columns - 1 - i, rj = columns - 1 - j
                    m[i * columns + j] = ri == rj ? diagonal[ri] + lambda : hessian[ri * columns + rj]
                }
            }
            if choleskyInPlace(&m, columns) {
                let inverse = lowerInverse(m, columns)
                var factor = [Float](repeating: 0, count: columns * columns)
                for i in 0..<columns {
                    for j in i..<columns {
                        factor[i * columns + j] = Float(inverse[(columns - 1 - i) * columns + (columns - 1 - j)])
                    }
                }
                return factor
            }
            lambda = lambda > 0 ? lambda * 10 : max(mean, 1) * 1e-6
        }
        throw MVLMError(.invalidArgument, "second moment is not positive definite even with damping \(lambda / 10)", subject: "GPTQ")
    }

    /// Lower Cholesky factor in the lower triangle of `a` (row-major; the upper triangle is not read
    /// and is left 0). Returns false on a non-positive pivot.
    static func choleskyInPlace(_ a: inout [Double], _ n: Int) -> Bool {
        a.withUnsafeMutableBufferPointer { buffer in
            let l = buffer.baseAddress!
            for i in 0..<n {
                let rowI = l + i &* n
                for j in 0...i {
                    let rowJ = l + j &* n
                    let s = dot(rowI, rowJ, j)
                    if i == j {
                        let pivot = rowI[i] - s
                        guard pivot > 0, pivot.isFinite else { return false }
                        rowI[i] = pivot.squareRoot()
                    } else {
                        rowI[j] = (rowI[j] - s) / rowJ[j]
                    }
                }
            }
            return true
        }
    }

    /// The inverse of the lower-triangular `l`, by rows: `X[i] = (e_i − Σ_{k<i} L[i][k] X[k]) / L[i][i]`.
    static func lowerInverse(_ l: [Double], _ n: Int) -> [Double] {
        var x = [Double](repeating: 0, count: n * n)
        l.withUnsafeBufferPointer { lb in
            x.withUnsafeMutableBufferPointer { xb in
                let L = lb.baseAddress!, X = xb.baseAddress!
                for i in 0..<n {
                    let row = X + i &* n
                    for k in 0..<i {
                        let c = L[i &* n &+ k]
                        if c == 0 { continue }
                        let other = X + k &* n
                        for j in 0...k { row[j] -= c * other[j] }
                    }
                    row[i] += 1
                    let inverse = 1 / L[i &* n &+ i]
                    for j in 0...i { row[j] *= inverse }
                }
            }
        }
        return x
    }

    @inline(__always)
    static func dot(_ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>, _ count: Int) -> Double {
        var acc = SIMD4<Double>()
        var k = 0
        while k &+ 4 <= count {
            acc += UnsafeRawPointer(a + k).loadUnaligned(as: SIMD4<Double>.self)
                * UnsafeRawPointer(b + k).loadUnaligned(as: SIMD4<Double>.self)
            k &+= 4
        }
        var s = acc.sum()
        while k < count {
            s += a[k] * b[k]
            k &+= 1
        }
        return s
    }

    /// Quantizes a row-major `[rows, columns]` matrix with error compensation (see the type).
    ///
    /// - Parameters:
    ///   - factor: ``inverseFactor(hessian:columns:damping:)`` of the input's second moment.
    ///   - importance: optional per-column weights for the scale search of each group (e.g. the
    ///     diagonal of the second moment divided by the tokens: mean squared activations).
    ///   - search: run the scheme's scale search when choosing each group's parameters.
    ///   - destination: at least `rows * rowByteCount(elements: columns)` bytes.
    /// - Throws: `MVLMError.invalidArgument` for sizes that do not fit, a non-finite weight (naming
    ///   the row) or bad importance values.
    public static func quantize(
        matrix: UnsafeBufferPointer<Float>, rows: Int, columns: Int, factor: [Float], scheme: QuantizationScheme,
        importance: UnsafeBufferPointer<Float>? = nil, search: Bool = false, into destination: UnsafeMutableRawBufferPointer
    ) throws {
        guard scheme.hasLinearLevels else {
            throw MVLMError(.unsupported, "GPTQ needs a linear grid of levels; \(scheme.name)'s is not", subject: scheme.name)
        }
        let rowBytes = try scheme.rowByteCount(elements: columns)
        guard rows >= 0, matrix.count == rows * columns else {
            throw MVLMError(.invalidArgument, "matrix has \(matrix.count) floats, expected \(rows) x \(columns)", subject: scheme.name)
        }
        guard factor.count == columns * columns else {
            throw MVLMError(.invalidArgument, "factor has \(factor.count) entries, expected \(columns) x \(columns)", subject: scheme.name)
        }
        guard destination.count >= rows * rowBytes else {
            throw MVLMError(.invalidArgument, "destination has \(destination.count) bytes, the matrix needs \(rows * rowBytes)", subject: scheme.name)
        }
        if let importance { try QuantizationScheme.checkImportance(importance, count: columns) }
        guard rows > 0, let x = matrix.baseAddress, let out = destination.baseAddress else { return }
        for row in 0..<rows {
            try QuantizationScheme.checkFinite(UnsafeBufferPointer(start: x + row &* columns, count: columns), rowIndex: row)
        }
        let rowsPerTask = 8
        let tasks = (rows + rowsPerTask - 1) / rowsPerTask
        nonisolated(unsafe) let input = x
        nonisolated(unsafe) let output = out
        nonisolated(unsafe) let weights = search ? importance?.baseAddress : nil
        factor.withUnsafeBufferPointer { u in
            nonisolated(unsafe) let factor = u.baseAddress!
            DispatchQueue.concurrentPerform(iterations: tasks) { task in
                let first = task &* rowsPerTask, count = Swift.min(rowsPerTask, rows &- first)
                var work = [Float](repeating: 0, count: count &* columns)
                work.withUnsafeMutableBufferPointer { w in
                    let w = w.baseAddress!
                    w.update(from: input + first &* columns, count: count &* columns)
                    quantizeRows(
                        w, count: count, columns: columns, factor: factor, scheme: scheme, importance: weights, search: search,
                        into: output + first &* rowBytes, rowBytes: rowBytes)
                }
            }
        }
    }

    /// The walk over `count` rows held in `w` (updated in place).
    static func quantizeRows(
        _ w: UnsafeMutablePointer<Float>, count: Int, columns: Int, factor u: UnsafePointer<Float>, scheme: QuantizationScheme,
        importance: UnsafePointer<Float>?, search: Bool, into out: UnsafeMutableRawPointer, rowBytes: Int
    ) {
        let group = scheme.parameterGroup(rowLength: columns)
        var start = 0
        while start < columns {
            let byteOffset = group == columns ? 0 : (start / scheme.blockElements) &* scheme.blockBytes
            for r in 0..<count {
                scheme.quantizeUnchecked(
                    w + (r &* columns &+ start), count: group, importance: importance.map { $0 + start },
                    into: out + (r &* rowBytes &+ byteOffset), search: search)
            }
            for i in start..<(start &+ group) {
                let uRow = u + i &* columns
                let inverseDiagonal = 1 / uRow[i]
                let tail = columns &- i &- 1
                for r in 0..<count {
                    let row = w + r &* columns
                    let encoded = out + r &* rowBytes
                    let grid = scheme.grid(element: i, in: encoded)
                    let level = grid.nearestLevel(row[i])
                    scheme.storeLevel(level, element: i, in: encoded)
                    let error = (row[i] - grid.value(level)) * inverseDiagonal
                    if error == 0 || tail == 0 { continue }
                    axpy(-error, uRow + (i &+ 1), row + (i &+ 1), tail)
                }
            }
            start &+= group
        }
    }

    /// y += a * x over `count` floats.
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        let va = SIMD8(repeating: a)
        var k = 0
        while k &+ 8 <= count {
            let xv = UnsafeRawPointer(x + k).loadUnaligned(as: SIMD8<Float>.self)
            let yv = UnsafeRawPointer(y + k).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + k).storeBytes(of: yv + va * xv, as: SIMD8<Float>.self)
            k &+= 8
        }
        while k < count {
            y[k] += a * x[k]
            k &+= 1
        }
    }
}
