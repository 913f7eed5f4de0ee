import CMVLMHDF5
import MVLMCore

extension HDF5Catalog {
    /// Lists a Keras 2 / Hugging Face legacy file, in the order the file declares.
    ///
    /// `weights` carries `layer_names` (the root of a `save_weights` file or `tf_model.h5`, or
    /// `model_weights/` of a `model.save` file). Each layer name resolves, relative to `weights`,
    /// to a group whose `weight_names` lists datasets relative to that group (Keras), or directly
    /// to a dataset (Hugging Face TF shards list weight paths in `layer_names`). Then
    /// `top_level_model_weights` (Keras 3's writer) and the root's `optimizer_weights/` (named
    /// `optimizer_weights/<weight name>`). A name listed but absent is an error, as in Keras.
    mutating func listKerasLegacy(root: HDF5Handle, weights: HDF5Handle, location: [String]) throws
    {
        layout = .kerasLegacy
        let subject =
            location.isEmpty ? "layer_names" : location.joined(separator: "/") + ": layer_names"
        let layerNames =
            try HDF5AttributeReader.nameList(
                of: weights.id, named: "layer_names", context: context, subject: subject) ?? []
        for layer in layerNames {
            let object = try openObject(
                weights.id, layer, .notFound,
                "lists layer '\(layer)', which is not in the file "
                    + "(external links are never followed)",
                subject: subject)
            switch H5Iget_type(object.id) {
            case H5I_DATASET:
                try addEntry(named: layer, dataset: object, location: location + [layer])
            case H5I_GROUP:
                try addWeights(of: object, layer: layer, location: location + [layer], prefix: "")
            default:
                throw context.error(
                    .malformed, "lists layer '\(layer)', which is neither a group nor a dataset",
                    subject: subject)
            }
        }
        let topLevel = "top_level_model_weights"
        if !layerNames.contains(topLevel),
            let group = try openGroupIfPresent(weights.id, topLevel, subject: subject)
        {
            try addWeights(of: group, layer: topLevel, location: location + [topLevel], prefix: "")
        }
        var optimizerCount = 0
        let optimizer = "optimizer_weights"
        if !(location.isEmpty && layerNames.contains(optimizer)),
            let group = try openGroupIfPresent(root.id, optimizer, subject: nil)
        {
            optimizerCount = try addWeights(
                of: group, layer: optimizer, location: [optimizer], prefix: optimizer + "/")
        }
        metadata["optimizer_tensor_count"] = .int(Int64(optimizerCount))
    }

    /// Adds the datasets a group's `weight_names` lists (none when the attribute is absent, as
    /// Keras reads it). Returns how many were added.
    @discardableResult
    private mutating func addWeights(
        of group: HDF5Handle, layer: String, location: [String], prefix: String
    ) throws -> Int {
        let subject = location.joined(separator: "/") + ": weight_names"
        let weightNames =
            try HDF5AttributeReader.nameList(
                of: group.id, named: "weight_names", context: context, subject: subject) ?? []
        for weight in weightNames {
            let dataset = try openObject(
                group.id, weight, .notFound,
                "lists weight '\(weight)', which is not in the file "
                    + "(external links are never followed)",
                subject: subject)
            guard H5Iget_type(dataset.id) == H5I_DATASET else {
                throw context.error(
                    .malformed, "lists weight '\(weight)', which is not a dataset",
                    subject: subject)
            }
            // Weight names are unique in files Keras writes; if not, qualify with the layer.
            var name = prefix + weight
            if listedNames.contains(name) { name = prefix + layer + "/" + weight }
            try addEntry(named: name, dataset: dataset, location: location + [weight])
        }
        return weightNames.count
    }

    private mutating func addEntry(named name: String, dataset: HDF5Handle, location: [String])
        throws
    {
        guard !listedNames.contains(name) else {
            throw context.error(.malformed, "two weights are both named '\(name)'", subject: name)
        }
        let description = try HDF5DatasetDescription(
            dataset: dataset.id, context: context, subject: name)
        entries.append(HDF5Entry(name: name, location: location, description: description))
        listedNames.insert(name)
    }
}
