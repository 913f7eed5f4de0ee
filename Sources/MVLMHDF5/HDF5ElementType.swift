import CMVLMHDF5
import MVLMCore

/// How an HDF5 datatype maps to a `DType`, and how its elements are read.
///
/// Accepted (see Formats/hdf5.md):
/// - `H5T_FLOAT` with IEEE binary16/32/64 field layout -> F16/F32/F64; the bfloat16 layout
///   (sign 15, exponent 7..14, bias 127) -> BF16.
/// - `H5T_INTEGER`, 1/2/4/8 bytes, signed or unsigned, full precision -> I8...U64.
/// - `H5T_ENUM` over a 1-byte integer with exactly the values 0 and 1 (how h5py stores numpy
///   bool) -> BOOL.
/// - `H5T_OPAQUE` of 2 bytes on a dataset whose attribute `dtype` is `"bfloat16"` (how Keras 3
///   stores bfloat16 variables) -> BF16.
/// Floats and integers may be big-endian: they are then converted to little-endian by H5Dread
/// and never mapped. Everything else is refused, naming the HDF5 class.
struct HDF5ElementType: Sendable, Hashable {
    /// The tensor's element type.
    var dtype: DType
    /// True when the file's bytes are already the tensor's little-endian bytes (a view into the
    /// mapping is possible); false when H5Dread must convert the byte order.
    var isStoredLittleEndian: Bool
    /// True for floats and integers, whose memory type is the file type with little-endian
    /// order; enum and opaque types are read as stored.
    var convertsByteOrder: Bool

    /// Classifies a datatype.
    /// - Parameters:
    ///   - type: the dataset's datatype identifier.
    ///   - hasBFloat16Marker: whether the dataset carries Keras 3's `dtype = "bfloat16"` attribute
    ///     (asked only for 2-byte opaque types).
    /// - Throws: `.unsupported` naming the HDF5 class and layout.
    init(
        classifying type: hid_t, hasBFloat16Marker: () throws -> Bool, context: HDF5ErrorContext,
        subject: String
    ) throws {
        let typeClass = H5Tget_class(type)
        let size = H5Tget_size(type)
        func refuse(_ what: String) -> MVLMError {
            context.error(
                .unsupported,
                "HDF5 \(what) elements are not supported (supported: IEEE f16/f32/f64, bfloat16, "
                    + "8-64-bit integers, h5py bool enums)",
                subject: subject)
        }
        switch typeClass {
        case H5T_FLOAT:
            let order = H5Tget_order(type)
            guard order == H5T_ORDER_LE || order == H5T_ORDER_BE || size == 1 else {
                throw refuse("float (\(size) bytes, byte order \(order.rawValue))")
            }
            guard let dtype = HDF5ElementType.floatType(type, size: size) else {
                throw refuse("float with a non-IEEE \(size)-byte layout")
            }
            self.init(
                dtype: dtype, isStoredLittleEndian: order == H5T_ORDER_LE, convertsByteOrder: true)
        case H5T_INTEGER:
            let order = H5Tget_order(type)
            let signed = H5Tget_sign(type) == H5T_SGN_2
            guard H5Tget_precision(type) == size &* 8, H5Tget_offset(type) == 0,
                order == H5T_ORDER_LE || order == H5T_ORDER_BE || size == 1
            else {
                throw refuse("integer with a padded or unordered \(size)-byte layout")
            }
            let dtype: DType
            switch (size, signed) {
            case (1, true): dtype = .int8
            case (2, true): dtype = .int16
            case (4, true): dtype = .int32
            case (8, true): dtype = .int64
            case (1, false): dtype = .uint8
            case (2, false): dtype = .uint16
            case (4, false): dtype = .uint32
            case (8, false): dtype = .uint64
            default: throw refuse("\(size)-byte integer")
            }
            self.init(
                dtype: dtype, isStoredLittleEndian: size == 1 || order == H5T_ORDER_LE,
                convertsByteOrder: true)
        case H5T_ENUM:
            guard HDF5ElementType.isBooleanEnum(type) else {
                throw refuse("enum (other than h5py's 1-byte FALSE=0/TRUE=1 bool)")
            }
            self.init(dtype: .bool, isStoredLittleEndian: true, convertsByteOrder: false)
        case H5T_OPAQUE:
            guard size == 2, try hasBFloat16Marker() else {
                throw refuse("opaque (\(size)-byte, without a dtype=\"bfloat16\" attribute)")
            }
            self.init(dtype: .bfloat16, isStoredLittleEndian: true, convertsByteOrder: false)
        default:
            throw refuse(HDF5ElementType.className(typeClass))
        }
    }

    private init(dtype: DType, isStoredLittleEndian: Bool, convertsByteOrder: Bool) {
        self.dtype = dtype
        self.isStoredLittleEndian = isStoredLittleEndian
        self.convertsByteOrder = convertsByteOrder
    }

    /// The memory type for `H5Dread`: the file type with little-endian byte order, so libhdf5
    /// swaps big-endian data while reading. Call inside `HDF5Library.withLock`.
    func memoryType(fileType: hid_t, context: HDF5ErrorContext, subject: String) throws
        -> HDF5Handle
    {
        let copy = try context.handle(
            H5Tcopy(fileType), .datatype, .malformed, "cannot copy the datatype", subject: subject)
        if convertsByteOrder, dtype.scalarByteSize != 1 {
            try context.check(
                H5Tset_order(copy.id, H5T_ORDER_LE), .malformed,
                "cannot set little-endian order on the memory type", subject: subject)
        }
        return copy
    }

    /// The DType of an IEEE-layout float (or bfloat16), or nil.
    private static func floatType(_ type: hid_t, size: Int) -> DType? {
        var signPosition = 0
        var exponentPosition = 0
        var exponentSize = 0
        var mantissaPosition = 0
        var mantissaSize = 0
        guard
            H5Tget_fields(
                type, &signPosition, &exponentPosition, &exponentSize, &mantissaPosition,
                &mantissaSize)
                >= 0
        else {
            HDF5Library.clearErrors()
            return nil
        }
        guard H5Tget_precision(type) == size &* 8, H5Tget_offset(type) == 0,
            H5Tget_norm(type) == H5T_NORM_IMPLIED, mantissaPosition == 0
        else { return nil }
        let bias = H5Tget_ebias(type)
        let layout = [size, signPosition, exponentPosition, exponentSize, mantissaSize, bias]
        switch layout {
        case [2, 15, 10, 5, 10, 15]: return .float16
        case [2, 15, 7, 8, 7, 127]: return .bfloat16
        case [4, 31, 23, 8, 23, 127]: return .float32
        case [8, 63, 52, 11, 52, 1023]: return .float64
        default: return nil
        }
    }

    /// True for an enum over a 1-byte integer whose two members have the values 0 and 1.
    private static func isBooleanEnum(_ type: hid_t) -> Bool {
        guard H5Tget_size(type) == 1, H5Tget_nmembers(type) == 2 else { return false }
        var values: Set<UInt8> = []
        for member in 0..<UInt32(2) {
            var value: UInt8 = 0xFF
            guard H5Tget_member_value(type, member, &value) >= 0 else {
                HDF5Library.clearErrors()
                return false
            }
            values.insert(value)
        }
        return values == [0, 1]
    }

    /// HDF5's name for a datatype class, for messages.
    static func className(_ typeClass: H5T_class_t) -> String {
        switch typeClass {
        case H5T_INTEGER: "integer"
        case H5T_FLOAT: "float"
        case H5T_TIME: "time"
        case H5T_STRING: "string"
        case H5T_BITFIELD: "bitfield"
        case H5T_OPAQUE: "opaque"
        case H5T_COMPOUND: "compound"
        case H5T_REFERENCE: "reference"
        case H5T_ENUM: "enum"
        case H5T_VLEN: "variable-length"
        case H5T_ARRAY: "array"
        default: "unknown-class (\(typeClass.rawValue))"
        }
    }
}
