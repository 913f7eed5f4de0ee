/// Rendering of strings that come from a file inside one-line error messages.
enum PyTorchText {
    /// `text` in single quotes with control characters escaped and long text shortened, so a
    /// hostile name can neither break the one-line error format nor flood it.
    static func quoted(_ text: String, limit: Int = 120) -> String {
        var result = "'"
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                result += "..."
                break
            }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += scalar.escaped(asASCII: true)
            } else {
                result.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return result + "'"
    }
}
