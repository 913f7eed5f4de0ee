/// How an HDF5 file's datasets are organized, as `HDF5Reader` detected it.
///
/// The layout decides how tensors are named and listed; see Formats/hdf5.md.
public enum HDF5Layout: String, Hashable, Sendable, CaseIterable {
    /// Keras 3 `.weights.h5`: every dataset sits in a group named `vars`
    /// (`layers/dense/vars/0`, `optimizer/vars/3`). Names are dataset paths without the
    /// leading `/`.
    case keras3
    /// Keras 2 / Hugging Face `tf_model.h5` (legacy `save_weights` / `model.save` `.h5`): the root
    /// (or `model_weights/`) attribute `layer_names` lists layer groups, each of whose
    /// `weight_names` lists its datasets. Names are the weight names as written
    /// (`tf_bert_model/bert/embeddings/word_embeddings/weight:0`).
    case kerasLegacy
    /// Anything else: every numeric dataset, named by its path without the leading `/`.
    case generic

    /// The name stored in metadata under `layout` (`keras3`, `kerasLegacy`, `generic`).
    public var name: String { rawValue }
}
