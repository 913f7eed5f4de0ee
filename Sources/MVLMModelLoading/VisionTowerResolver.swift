import Foundation
import MVLMCheckpoint
import MVLMCore
import MVLMModels

/// Completes a MobileVLM config.json with what a released checkpoint leaves out: the CLIP
/// tower's own configuration (`vision_config`) and its image preprocessing
/// (`preprocessor_config`), so the model can be built and the .mvlm file carries both.
///
/// Sources, first match wins: an explicit CLIP folder (`--vision-tower DIR`: a full CLIPModel
/// folder or a CLIPVisionModel folder); `vision_config` already in the config (an .mvlm file, or
/// a config written with it); `mm_vision_tower` when it names an existing folder (absolute, or
/// relative to the checkpoint); the built-in table of the towers MobileVLM is released with.
public enum VisionTowerResolver {
    /// What was resolved and from where.
    public struct Resolution: Sendable {
        public var config: [String: MetadataValue]
        /// A short description of where the tower configuration came from (nil when unchanged).
        public var source: String?
    }

    /// CLIPVisionConfig of the towers known by hub name (from their published config.json).
    public static let builtIn: [String: [String: MetadataValue]] = [
        "openai/clip-vit-large-patch14-336": tower(hidden: 1024, intermediate: 4096, heads: 16, layers: 24, image: 336, patch: 14),
        "openai/clip-vit-large-patch14": tower(hidden: 1024, intermediate: 4096, heads: 16, layers: 24, image: 224, patch: 14),
        "openai/clip-vit-base-patch16": tower(hidden: 768, intermediate: 3072, heads: 12, layers: 12, image: 224, patch: 16),
        "openai/clip-vit-base-patch32": tower(hidden: 768, intermediate: 3072, heads: 12, layers: 12, image: 224, patch: 32),
    ]

    static func tower(hidden: Int, intermediate: Int, heads: Int, layers: Int, image: Int, patch: Int) -> [String: MetadataValue] {
        [
            "hidden_size": .int(Int64(hidden)), "intermediate_size": .int(Int64(intermediate)),
            "num_attention_heads": .int(Int64(heads)), "num_hidden_layers": .int(Int64(layers)),
            "image_size": .int(Int64(image)), "patch_size": .int(Int64(patch)), "num_channels": .int(3),
            "layer_norm_eps": .float(1e-5), "hidden_act": .string("quick_gelu"),
        ]
    }

    /// CLIP's image preprocessing at `size` pixels (`VisionConfiguration.defaultPreprocessor`).
    public static func defaultPreprocessor(size: Int) -> [String: MetadataValue] {
        VisionConfiguration.defaultPreprocessor(size: size)
    }

    /// Whether `config` describes a model with a vision tower (MobileVLM / LLaVA-style fields).
    public static func wantsVision(_ config: [String: MetadataValue]) -> Bool {
        config["mm_vision_tower"] != nil || config["vision_config"] != nil
    }

    /// Resolves the tower of `config`.
    /// - Parameters:
    ///   - checkpointDirectory: the folder of the checkpoint (for a relative `mm_vision_tower`).
    ///   - visionTower: an explicit CLIP folder (`--vision-tower`).
    ///   - required: throw when nothing applies (conversion); otherwise return the config unchanged.
    /// - Throws: `MVLMError` for an unreadable `--vision-tower` folder, or (when `required`) a
    ///   message that says to pass `--vision-tower`.
    public static func resolve(
        config: [String: MetadataValue], checkpointDirectory: String?, visionTower: String?, required: Bool = false
    ) throws -> Resolution {
        var config = config
        if let visionTower {
            let (tower, preprocessor) = try readFolder(visionTower)
            config["vision_config"] = .object(tower)
            config["preprocessor_config"] = .object(preprocessor ?? defaultPreprocessor(size: size(of: tower)))
            return Resolution(config: config, source: "--vision-tower \(visionTower)")
        }
        guard wantsVision(config) else { return Resolution(config: config, source: nil) }
        if case .object(let tower) = config["vision_config"] {
            if config["preprocessor_config"] == nil {
                config["preprocessor_config"] = .object(defaultPreprocessor(size: size(of: tower)))
            }
            return Resolution(config: config, source: nil)
        }
        let name = config["mm_vision_tower"]?.stringValue ?? ""
        var candidates = [name]
        if let checkpointDirectory, !name.hasPrefix("/") { candidates.append(checkpointDirectory + "/" + name) }
        for candidate in candidates where !candidate.isEmpty {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate + "/config.json", isDirectory: &isDirectory), !isDirectory.boolValue {
                let (tower, preprocessor) = try readFolder(candidate)
                config["vision_config"] = .object(tower)
                config["preprocessor_config"] = .object(preprocessor ?? defaultPreprocessor(size: size(of: tower)))
                return Resolution(config: config, source: "mm_vision_tower folder \(candidate)")
            }
        }
        // A hub name, possibly as the tail of a local path ("/models/openai/clip-vit-large-patch14-336").
        let parts = name.split(separator: "/")
        let key = parts.suffix(2).joined(separator: "/")
        if let tower = builtIn[name] ?? builtIn[key] ?? builtIn["openai/" + (parts.last.map(String.init) ?? "")] {
            config["vision_config"] = .object(tower)
            config["preprocessor_config"] = .object(defaultPreprocessor(size: size(of: tower)))
            return Resolution(config: config, source: "built-in configuration of \(builtIn[name] != nil ? name : key)")
        }
        guard !required else {
            throw MVLMError(
                .notFound,
                "the vision tower '\(name)' is neither a folder here nor a known tower (\(builtIn.keys.sorted().joined(separator: ", "))): pass --vision-tower DIR, a CLIP folder with its config.json",
                file: "config.json", subject: "'mm_vision_tower'")
        }
        return Resolution(config: config, source: nil)
    }

    /// The vision configuration of a CLIP folder (`vision_config` of a CLIPModel, or the whole
    /// config of a CLIPVisionModel) and its preprocessor_config.json when present.
    static func readFolder(_ folder: String) throws -> ([String: MetadataValue], [String: MetadataValue]?) {
        let path = folder.hasSuffix(".json") ? folder : folder + "/config.json"
        guard FileManager.default.fileExists(atPath: path) else {
            throw MVLMError(.notFound, "no config.json: --vision-tower takes a CLIP folder (CLIPModel or CLIPVisionModel)", file: folder)
        }
        let config = try Checkpoint.readConfig(path)
        var towerConfig: [String: MetadataValue]
        if case .object(let nested) = config["vision_config"] {
            towerConfig = nested
        } else if config["patch_size"] != nil || config["model_type"]?.stringValue == "clip_vision_model" {
            towerConfig = config
        } else {
            throw MVLMError(
                .malformed, "is not a CLIP config (no vision_config and no patch_size)", file: path)
        }
        // CLIPVisionConfig defaults for what a nested vision_config may leave out.
        let defaults = tower(hidden: 768, intermediate: 3072, heads: 12, layers: 12, image: 224, patch: 32)
        for (key, value) in defaults where towerConfig[key] == nil { towerConfig[key] = value }
        let directory = (path as NSString).deletingLastPathComponent
        let preprocessorPath = (directory.isEmpty ? "." : directory) + "/preprocessor_config.json"
        let preprocessor = FileManager.default.fileExists(atPath: preprocessorPath) ? try Checkpoint.readConfig(preprocessorPath) : nil
        return (towerConfig, preprocessor)
    }

    static func size(of tower: [String: MetadataValue]) -> Int {
        Int(tower["image_size"]?.intValue ?? 224)
    }
}
