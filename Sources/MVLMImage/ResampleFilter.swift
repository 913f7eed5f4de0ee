#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The convolution filters of Pillow's `Image.resize` (`src/libImaging/Resample.c`), with Pillow's
/// supports and formulas, evaluated in `Double` as Pillow evaluates them.
public enum ResampleFilter: String, Codable, Sendable, Hashable, CaseIterable {
    /// 1 on (-0.5, 0.5]; support 0.5.
    case box
    /// Triangle `1 - |x|`; support 1.
    case bilinear
    /// `sinc(x) * (0.54 + 0.46 cos(pi x))`; support 1.
    case hamming
    /// Keys' cubic convolution with a = -0.5; support 2. CLIP's and MobileVLM's filter.
    case bicubic
    /// `sinc(x) * sinc(x / 3)`; support 3.
    case lanczos

    /// The filter for a Pillow `Resampling` code as `preprocessor_config.json` stores it
    /// (1 Lanczos, 2 bilinear, 3 bicubic, 4 box, 5 Hamming); `nil` for 0 (nearest, which Pillow
    /// does not resample by convolution) and unknown codes.
    public init?(pillowCode: Int) {
        switch pillowCode {
        case 1: self = .lanczos
        case 2: self = .bilinear
        case 3: self = .bicubic
        case 4: self = .box
        case 5: self = .hamming
        default: return nil
        }
    }

    /// Pillow's `Resampling` code.
    public var pillowCode: Int {
        switch self {
        case .lanczos: 1
        case .bilinear: 2
        case .bicubic: 3
        case .box: 4
        case .hamming: 5
        }
    }

    /// Half the filter's width at scale 1, in input pixels.
    public var support: Double {
        switch self {
        case .box: 0.5
        case .bilinear, .hamming: 1
        case .bicubic: 2
        case .lanczos: 3
        }
    }

    /// The filter's weight at distance `x` (in input pixels divided by the filter scale).
    public func weight(_ x: Double) -> Double {
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let distance = abs(x)
            return distance < 1 ? 1 - distance : 0
        case .hamming:
            let distance = abs(x)
            if distance == 0 { return 1 }
            if distance >= 1 { return 0 }
            let angle = distance * Double.pi
            // Pillow writes the constants as float literals (0.54f, 0.46f).
            return sin(angle) / angle * (Double(Float(0.54)) + Double(Float(0.46)) * cos(angle))
        case .bicubic:
            let a = -0.5
            let distance = abs(x)
            if distance < 1 { return ((a + 2) * distance - (a + 3)) * distance * distance + 1 }
            if distance < 2 { return (((distance - 5) * distance + 8) * distance - 4) * a }
            return 0
        case .lanczos:
            guard x >= -3, x < 3 else { return 0 }
            return Self.sinc(x) * Self.sinc(x / 3)
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let angle = x * Double.pi
        return sin(angle) / angle
    }
}
