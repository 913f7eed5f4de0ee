// What an app names besides this module's own types: the sampling options of
// `GenerationOptions.sampling` (their fields and filter order are documented on the type).
@_exported import struct MVLMModels.SamplingOptions
