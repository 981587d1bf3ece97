import Testing
@testable import Eddy

@Suite struct InlineTextTests {
    @Test func theStandardLibraryLaysStringsOutAsAssumed() {
        #expect(InlineText.layoutHolds())
    }

    /// Texts from 0 to 40 bytes, ASCII and not: built and read back through the inline path
    /// (up to 15 bytes) or the standard library (longer), equal to what the standard library
    /// builds from the same bytes.
    @Test(arguments: ["x", "é", "€", "😀"])
    func buildsAndReadsTextsOfEveryLength(unit: String) {
        for length in 0...40 {
            var bytes: [UInt8] = []
            while bytes.count + unit.utf8.count <= length { bytes += Array(unit.utf8) }
            let expected = String(decoding: bytes, as: UTF8.self)
            let built = bytes.withUnsafeBufferPointer { InlineText.make($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
            #expect(built == expected)
            #expect(Array(built.utf8) == bytes)
            #expect(built.hashValue == expected.hashValue)
            #expect(InlineText.withBytes(of: built) { Array($0) } == bytes)
            #expect(InlineText.withBytes(of: expected) { Array($0) } == bytes)
            // Built texts behave as any other: appending, comparing, slicing.
            #expect(built + "!" == expected + "!")
            #expect(built.count == expected.count)
        }
    }

    /// Texts read where they are stored (the in-place paths of the hot loop) give what the
    /// texts themselves give: the same bytes, the same stable hash, inline or not.
    @Test(arguments: ["x", "é", "😀"])
    func textsReadInPlaceMatchTheTexts(unit: String) {
        for length in 0...24 {
            var text = ""
            while text.utf8.count + unit.utf8.count <= length { text += unit }
            withUnsafePointer(to: text) { stored in
                #expect(InlineText.inlineWords(at: stored)?.count == InlineText.inlineWords(text)?.count)
                #expect(KeyGroups.stableHash(ofTextAt: stored) == KeyGroups.stableHash(ofKey: text))
                let out = ByteBuffer()
                out.append(0x5B)
                out.appendUTF8(textAt: stored)
                out.append(0x5D)
                #expect(out.array == [0x5B] + Array(text.utf8) + [0x5D])
            }
        }
        var window = Lookback<String>()
        for (time, text) in ["\"a\"", "\"a text longer than fifteen bytes\"", "12.5"].enumerated() {
            window.append(text, at: Int64(time))
        }
        let out = ByteBuffer()
        window.appendJSONArray(to: out)
        #expect(String(decoding: out.array, as: UTF8.self) == #"["a","a text longer than fifteen bytes",12.5]"#)
    }
}

/// Byte order on inline texts, however they were built (literals, concatenation, slices,
/// numbers), agrees with comparing their UTF-8 bytes; prefixes come first.
@Test func inlineTextsOrderByTheirBytes() {
    let built: [String] = [
        "", "a", "ab", "ab\u{0}", "abc", "b", "é", "e\u{301}", "\u{7F}", "zzzzzzzzzzzzzzz", "zzzzzzzzzzzzzz",
        "x" + "y", String("prefix-suffix".dropFirst(7)), String("prefix-suffix".prefix(6)), String(12345), "\"m00019\"",
        "a long text beyond fifteen bytes", "a long text beyond fifteen bytes!",
    ]
    for a in built {
        for b in built {
            let expected = Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
            #expect(a.utf8Precedes(b) == expected, "\(a) < \(b)")
        }
    }
}

/// The prefetches that compute an element's address assume an array's elements start 32 bytes
/// into its storage object; a toolchain that changed that would make them useless, not wrong.
@Test func arrayElementsStartWhereThePrefetchesExpect() {
    let numbers = Array(0..<100)
    let storage = withUnsafeBytes(of: numbers) { $0.load(as: UInt.self) }
    let elements = numbers.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    #expect(elements == storage + UInt(arrayElementsOffset))
}
