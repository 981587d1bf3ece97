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
            // Two inline texts: their bytes read as big-endian words compare in byte order
            // (unused bytes are zero, so a prefix comes first when the counts break the tie).
            if a.words.0 != b.words.0 { return a.words.0.bigEndian < b.words.0.bigEndian }
            let withoutTag: UInt64 = 0x00FF_FFFF_FFFF_FFFF
            let (x, y) = (a.words.1 & withoutTag, b.words.1 & withoutTag)
            if x != y { return x.bigEndian < y.bigEndian }
            return a.count < b.count
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
