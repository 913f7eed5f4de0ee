import MVLMCore

/// The only globals (`module.name`) the restricted unpickler accepts: what torch.save emits for a
/// state dict. Resolving a name never imports or calls anything; each case is a token that
/// `RestrictedUnpickler` interprets itself.
enum PickleGlobal: Equatable {
    /// `collections.OrderedDict`: called with `()` it makes an empty dict.
    case orderedDict
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
    case rebuildTensorV2
    /// `torch._utils._rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])`.
    case rebuildTensorV3
    /// `torch._utils._rebuild_parameter(tensor, requires_grad, hooks)`.
    case rebuildParameter
    /// `torch._utils._rebuild_parameter_with_state(tensor, requires_grad, hooks, state)`.
    case rebuildParameterWithState
    /// `torch.FloatStorage` and the other typed storages.
    case typedStorage(DType)
    /// `torch.storage.UntypedStorage` (numel counts bytes; the tensor's dtype is separate).
    case untypedStorage
    /// `torch.float32` and the other dtype objects (an argument of `_rebuild_tensor_v3`).
    case dtype(DType)
    /// `_codecs.encode(text, 'latin1')`: how protocol 2 pickles a `bytes` value.
    case codecsEncode
    /// `torch.Size((2, 3))`: a tuple (appears when a checkpoint stores shapes).
    case torchSize
    /// `torch.device('cuda', 0)`: kept as its text (appears in training checkpoints).
    case torchDevice

    /// Typed storage class names and the element types they hold.
    static let typedStorages: [String: DType] = [
        "DoubleStorage": .float64, "FloatStorage": .float32, "HalfStorage": .float16,
        "BFloat16Storage": .bfloat16, "LongStorage": .int64, "IntStorage": .int32,
        "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
    ]

    /// `torch.<name>` dtype objects and our element types.
    static let dtypes: [String: DType] = [
        "float64": .float64, "double": .float64, "float32": .float32, "float": .float32,
        "float16": .float16, "half": .float16, "bfloat16": .bfloat16,
        "float8_e4m3fn": .float8E4M3, "float8_e5m2": .float8E5M2,
        "int64": .int64, "long": .int64, "int32": .int32, "int": .int32, "int16": .int16,
        "short": .int16, "int8": .int8, "uint64": .uint64, "uint32": .uint32, "uint16": .uint16,
        "uint8": .uint8, "bool": .bool,
    ]

    /// Storage classes torch defines for element types we do not represent.
    static let unsupportedStorages: Set<String> = [
        "ComplexFloatStorage", "ComplexDoubleStorage", "QInt8Storage", "QUInt8Storage",
        "QInt32Storage", "QUInt4x2Storage", "QUInt2x4Storage",
    ]

    /// torch dtype objects we do not represent.
    static let unsupportedDTypes: Set<String> = [
        "complex32", "complex64", "complex128", "chalf", "cfloat", "cdouble", "qint8", "quint8",
        "qint32", "quint4x2", "quint2x4", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
        "float4_e2m1fn_x2", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16", "uint1", "uint2",
        "uint3", "uint4", "uint5", "uint6", "uint7", "int1", "int2", "int3", "int4", "int5", "int6",
        "int7",
    ]

    /// torch globals that are safe but describe tensors this reader cannot represent.
    static let knownUnsupported: Set<String> = [
        "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
        "torch._utils._rebuild_sparse_csr_tensor", "torch._utils._rebuild_nested_tensor",
        "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
        "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_xla_tensor",
        "torch._utils._rebuild_mtia_tensor", "torch._tensor._rebuild_from_type",
        "torch._tensor._rebuild_from_type_v2",
    ]

    /// Resolves `module.name`.
    /// - Throws: `.unsafeContent` for any global outside the allowlist (loading the file with
    ///   pickle would import and possibly call it), `.unsupported` for known torch globals we do
    ///   not represent (complex or quantized storages, sparse tensors).
    static func resolve(module: String, name: String) throws -> PickleGlobal {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor_v3"): return .rebuildTensorV3
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
        case ("torch.storage", "UntypedStorage"), ("torch", "UntypedStorage"): return .untypedStorage
        case ("_codecs", "encode"): return .codecsEncode
        case ("torch", "Size"): return .torchSize
        case ("torch", "device"): return .torchDevice
        default: break
        }
        let qualified = "\(module).\(name)"
        if module == "torch" {
            if let dtype = typedStorages[name] { return .typedStorage(dtype) }
            if let dtype = dtypes[name] { return .dtype(dtype) }
            if unsupportedStorages.contains(name) {
                throw MVLMError(
                    .unsupported,
                    "tensors stored as \(PyTorchText.quoted(qualified)) (complex or quantized) are not supported")
            }
            if unsupportedDTypes.contains(name) {
                throw MVLMError(.unsupported, "tensors of dtype \(PyTorchText.quoted(qualified)) are not supported")
            }
        }
        if knownUnsupported.contains(qualified) {
            throw MVLMError(
                .unsupported,
                "the pickle uses \(PyTorchText.quoted(qualified)), which builds a tensor kind this reader does not support (only dense CPU-layout tensors are)")
        }
        throw MVLMError(
            .unsafeContent,
            "the pickle references the global \(PyTorchText.quoted(qualified)); loading this file with pickle would import and may run it, so it was refused (only the globals torch.save writes for a state dict are accepted; save model.state_dict(), not the model or arbitrary objects)")
    }

    /// The name as Python would write it (for error messages).
    var qualifiedName: String {
        switch self {
        case .orderedDict: "collections.OrderedDict"
        case .rebuildTensorV2: "torch._utils._rebuild_tensor_v2"
        case .rebuildTensorV3: "torch._utils._rebuild_tensor_v3"
        case .rebuildParameter: "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: "torch._utils._rebuild_parameter_with_state"
        case .typedStorage(let dtype):
            "torch." + (Self.typedStorages.first { $0.value == dtype }?.key ?? "Storage")
        case .untypedStorage: "torch.storage.UntypedStorage"
        case .dtype(let dtype): "torch.\(dtype.name)"
        case .codecsEncode: "_codecs.encode"
        case .torchSize: "torch.Size"
        case .torchDevice: "torch.device"
        }
    }
}
