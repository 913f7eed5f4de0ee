/// A tensor the reader lists: its name, how to reach its dataset, and what listing learned.
struct HDF5Entry: Sendable, Codable {
    /// The tensor name (layout-dependent; see `HDF5Layout`).
    var name: String
    /// Link paths opened one after another from the root group to reach the dataset. Keras
    /// legacy files resolve `weight_names` relative to their layer group, so this mirrors how
    /// the dataset was found while listing.
    var location: [String]
    var description: HDF5DatasetDescription
}
