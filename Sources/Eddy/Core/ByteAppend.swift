import Glibc

extension Array where Element == UInt8 {
    /// Appends a string's UTF-8 bytes with one copy: `append(contentsOf: text.utf8)` goes
    /// through the generic sequence path, byte by byte, which showed up in profiles.
    @inline(__always)
    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { bytes in append(contentsOf: bytes) }
    }
}

extension String {
    /// Byte order of the UTF-8 forms (which is code point order), the order of persisted
    /// keys and of histogram buckets; one `memcmp` where comparing `utf8` views goes byte
    /// by byte through the generic sequence path.
    @inline(__always)
    func utf8Precedes(_ other: String) -> Bool {
        if let a = InlineText.inlineWords(self), let b = InlineText.inlineWords(other) {
            return InlineText.precedes(a, b)
        }
        var a = self
        var b = other
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
    }
}
