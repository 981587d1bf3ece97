import Testing
@testable import Eddy

@Test func absentValuesAreMissingAndNull() {
    #expect(FieldValue.missing.isAbsent)
    #expect(FieldValue.null.isAbsent)
    #expect(!FieldValue(kind: .number, text: "1", number: 1, integer: 1).isAbsent)
}

@Test(arguments: [("a", "b"), ("", "a"), ("ab", "abc"), ("Z", "a"), ("f", "é"), ("\u{7F}", "é"), ("x\u{0}", "x\u{1}")])
func utf8OrderIsByteOrder(smaller: String, larger: String) {
    #expect(smaller.utf8Precedes(larger))
    #expect(!larger.utf8Precedes(smaller))
    #expect(!smaller.utf8Precedes(smaller))
}

@Test func crc32cMatchesTheStandardCheckValues() {
    // The check value of CRC-32C over "123456789" (RFC 3720), and of 32 zero bytes.
    #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    #expect(CRC32C.checksum([]) == 0)
    // Fed in pieces, the same as at once.
    let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    var pieces = CRC32C()
    bytes.withUnsafeBytes { all in
        pieces.update(UnsafeRawBufferPointer(rebasing: all[0..<3]))
        pieces.update(UnsafeRawBufferPointer(rebasing: all[3..<517]))
        pieces.update(UnsafeRawBufferPointer(rebasing: all[517...]))
    }
    #expect(pieces.value == CRC32C.checksum(bytes))
}

/// `FieldValue.overwrite` writes over an inline old text without releasing it, which is sound
/// only while the text is the one stored property that owns anything: the stored properties
/// are pinned here (widest first, so that a value takes 40 bytes, not 48), and overwriting
/// inline, out-of-line and empty texts gives the new value.
@Test func overwriteReplacesValuesWhateverTheOldText() {
    let labels = Mirror(reflecting: FieldValue.null).children.map(\.label)
    #expect(labels == ["text", "number", "integer", "kind"])
    #expect(MemoryLayout<FieldValue>.stride == 40)
    let long = FieldValue(kind: .string, text: "\"a text longer than fifteen bytes\"")
    let short = FieldValue(kind: .string, text: "\"c040886\"")
    let number = FieldValue(kind: .number, text: "40.35", number: 40.35)
    var slot = FieldValue.missing
    for next in [short, long, number, long, .missing, short, short] {
        withUnsafeMutablePointer(to: &slot) { FieldValue.overwrite($0, with: next) }
        #expect(slot == next)
    }
}
