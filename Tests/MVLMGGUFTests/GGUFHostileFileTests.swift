import Foundation
import MVLMCore
import MVLMGGUF
import MVLMTestSupport
import Testing

@Suite("GGUFReader refuses hostile files with a clear error")
struct GGUFHostileFileTests {
    typealias Case = HostileCase

    static let cases: [Case] = [
        Case(file: "empty.gguf", code: .truncated, keyword: "empty"),
        Case(file: "bad_magic.gguf", code: .malformed, keyword: "not a GGUF file"),
        Case(file: "short_magic.gguf", code: .truncated, keyword: "magic"),
        Case(file: "v1_header.gguf", code: .unsupported, keyword: "unsupported GGUF version 1"),
        Case(file: "version_4.gguf", code: .unsupported, keyword: "unsupported GGUF version 4"),
        Case(file: "big_endian.gguf", code: .unsupported, keyword: "big-endian"),
        Case(file: "truncated_header.gguf", code: .truncated, keyword: "key-value count"),
        Case(file: "truncated_kv.gguf", code: .truncated, keyword: "string value"),
        Case(file: "truncated_tensor_info.gguf", code: .truncated, keyword: "tensor info"),
        Case(file: "truncated_data.gguf", code: .truncated, keyword: "file ends"),
        Case(file: "string_too_long.gguf", code: .truncated, keyword: "1099511627776 bytes"),
        Case(file: "array_count_huge.gguf", code: .truncated, keyword: "4611686018427387904"),
        Case(file: "array_bad_element_type.gguf", code: .malformed, keyword: "element type 42"),
        Case(file: "tensor_count_huge.gguf", code: .truncated, keyword: "tensor infos"),
        Case(file: "kv_count_huge.gguf", code: .truncated, keyword: "key-value pairs"),
        Case(file: "bad_value_type.gguf", code: .malformed, keyword: "value type 13"),
        Case(file: "bad_bool.gguf", code: .malformed, keyword: "BOOL"),
        Case(file: "duplicate_key.gguf", code: .malformed, keyword: "duplicate key"),
        Case(file: "duplicate_tensor.gguf", code: .malformed, keyword: "duplicate tensor name"),
        Case(file: "invalid_utf8_name.gguf", code: .malformed, keyword: "UTF-8"),
        Case(file: "offset_past_end.gguf", code: .outOfBounds, keyword: "past the end"),
        Case(file: "offset_huge.gguf", code: .outOfBounds, keyword: "data offset"),
        Case(file: "overlapping.gguf", code: .malformed, keyword: "overlap"),
        Case(file: "misaligned.gguf", code: .malformed, keyword: "misaligned"),
        Case(file: "ndims_100.gguf", code: .malformed, keyword: "n_dims is 100"),
        Case(file: "dims_overflow.gguf", code: .outOfBounds, keyword: "overflow"),
        Case(file: "dim_too_large.gguf", code: .outOfBounds, keyword: "ne[0]"),
        Case(file: "unknown_type.gguf", code: .unsupported, keyword: "unknown ggml type 99"),
        Case(file: "removed_type.gguf", code: .unsupported, keyword: "Q4_2"),
        Case(file: "block_row_length.gguf", code: .malformed, keyword: "block size 32"),
        Case(file: "tensor_too_big.gguf", code: .truncated, keyword: "file ends"),
        Case(file: "alignment_zero.gguf", code: .malformed, keyword: "power of two"),
        Case(file: "alignment_three.gguf", code: .malformed, keyword: "power of two"),
        Case(file: "alignment_type.gguf", code: .malformed, keyword: "UINT32"),
        Case(file: "deep_nesting.gguf", code: .unsupported, keyword: "nested"),
    ]

    @Test("every hostile fixture has a case here")
    func everyFixtureIsTested() {
        #expect(Set(GGUFExpected.hostile.keys) == Set(Self.cases.map(\.file)))
    }

    @Test("opening throws the expected code with a one-line message naming the file", arguments: cases)
    func refused(_ hostile: Case) throws {
        let path = GGUFExpected.path("hostile/\(hostile.file)")
        let error = try #require(throws: MVLMError.self) {
            let reader = try GGUFReader(path: path)
            for info in reader.tensorInfos { _ = try reader.tensor(named: info.name) }
        }
        #expect(error.code == hostile.code, "\(error)")
        #expect(error.description.contains(hostile.keyword), "\(error)")
        #expect(error.file == path)
        #expect(error.description.hasPrefix(path + ": "))
        #expect(!error.description.contains("\n"))
    }

    @Test("tensor errors name the tensor")
    func tensorSubject() throws {
        let path = GGUFExpected.path("hostile/misaligned.gguf")
        let error = try #require(throws: MVLMError.self) { try GGUFReader(path: path) }
        #expect(error.subject == "tensor 'b'")
        let overlap = try #require(throws: MVLMError.self) {
            try GGUFReader(path: GGUFExpected.path("hostile/overlapping.gguf"))
        }
        #expect(overlap.description.contains("'a'") && overlap.description.contains("'b'"))
    }

    @Test("key errors name the key")
    func keySubject() throws {
        let error = try #require(throws: MVLMError.self) {
            try GGUFReader(path: GGUFExpected.path("hostile/alignment_three.gguf"))
        }
        #expect(error.subject == "key 'general.alignment'")
    }
}
