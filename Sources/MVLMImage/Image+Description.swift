extension Image: CustomStringConvertible, CustomDebugStringConvertible {
    /// `Image(200×130 RGB)`: the size, not the bytes.
    public var description: String { "Image(\(width)×\(height) RGB)" }
    public var debugDescription: String { description }
}
