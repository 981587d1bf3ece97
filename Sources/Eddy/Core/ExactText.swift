/// A text that equals and hashes by its UTF-8 bytes. `String`'s `==` and hashing treat
/// canonically equivalent texts as one (`"é"` as U+00E9 and as `e` + U+0301), but keys,
/// distinct counts and input member names tell them apart by their bytes: the tables of
/// input values and column names that are looked up by text use this, so that all parts
/// agree.
struct ExactText: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: ExactText, b: ExactText) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }

    func hash(into hasher: inout Hasher) {
        for byte in text.utf8 { hasher.combine(byte) }
        // Ends the bytes, so that two texts in a row hash apart from their concatenation.
        hasher.combine(0xFF as UInt8)
    }
}

extension Array where Element == String {
    /// The first index of an element with the bytes of `text` (see `ExactText`).
    func firstIndex(ofExact text: String) -> Int? {
        firstIndex { $0.utf8.elementsEqual(text.utf8) }
    }
}
