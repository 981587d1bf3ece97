extension Array where Element == UInt8 {
    /// Appends a string's UTF-8 bytes with one copy: `append(contentsOf: text.utf8)` goes
    /// through the generic sequence path, byte by byte, which showed up in profiles.
    @inline(__always)
    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { bytes in append(contentsOf: bytes) }
    }
}
