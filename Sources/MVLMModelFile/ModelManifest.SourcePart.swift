import MVLMCore

extension ModelManifest {
    /// One source tensor a file tensor was made from: a whole tensor (`rows` nil), or the rows
    /// `rows` of a fused one (for a fused vector, its elements) — a `source` entry of the manifest.
    public struct SourcePart: Sendable, Equatable {
        /// The source tensor's name, as downloaded.
        public var name: String
        /// Where its rows lie in the file tensor; nil when it is the whole tensor.
        public var rows: Range<Int>?

        /// Parses a `source` entry: a name, or `{"name": ..., "rows": [begin, end]}` with
        /// 0 ≤ begin ≤ end. Nil for anything else (the caller says what is wrong where).
        public init?(_ value: MetadataValue) {
            if let name = value.stringValue {
                self.name = name
                rows = nil
                return
            }
            guard let name = value["name"]?.stringValue, let bounds = value["rows"]?.arrayValue?.compactMap(\.intValue),
                bounds.count == 2, bounds[0] >= 0, bounds[0] <= bounds[1]
            else { return nil }
            self.name = name
            rows = bounds[0]..<bounds[1]
        }
    }
}
