extension Tokenizer {
    /// Ids of `text` with each `imagePlaceholder` (MobileVLM's `<image>`) replaced by `imageID`,
    /// as MobileVLM's `tokenizer_image_token` computes them: each chunk between placeholders is
    /// encoded on its own (so each starts with the dummy prefix a SentencePiece model adds), the
    /// beginning-of-sequence id is kept once at the start, and `imageID` goes between chunks.
    public func encode(_ text: String, imagePlaceholder: String, imageID: Int) -> [Int] {
        let chunks = text.split(separator: imagePlaceholder, omittingEmptySubsequences: false).map(String.init)
        var ids: [Int] = []
        for (index, chunk) in chunks.enumerated() {
            var chunkIDs = encode(chunk)
            if index == 0 {
                ids += chunkIDs
                continue
            }
            if addBOS, let bosID, chunkIDs.first == bosID { chunkIDs.removeFirst() }
            ids.append(imageID)
            ids += chunkIDs
        }
        return ids
    }
}
