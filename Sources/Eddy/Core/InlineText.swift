#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEddySupport

/// Direct access to the texts Swift stores inline.
///
/// A `String` of at most 15 UTF-8 bytes keeps them inside its own 16 bytes: bytes 0-14 hold
/// the code units, byte 15 holds a discriminator in its high nibble (0xE for ASCII, 0xA for
/// other UTF-8) and the count in its low nibble. Nearly every text on the hot path (keys,
/// merchants, numbers kept as text) is that short. Building one through the standard
/// library's initialisers costs ~110 instructions, and reading its bytes back (`withUTF8`)
/// a call that spills it to the stack, several times per event; this builds and reads the
/// 16 bytes directly.
///
/// The layout is the standard library's ABI for 64-bit little-endian platforms (frozen since
/// Swift 5), not a public contract: `verify()` checks it against strings the standard library
/// built before a run, and falls back to the standard library's own initialisers and views
/// if it differs, so a different layout costs speed, never correctness (`InlineTextTests`
/// runs the same check, so the suite says so too).
enum InlineText {
    static let capacity = 15

    /// Whether strings are laid out as described above (checked on ASCII, non-ASCII and
    /// empty texts built by the standard library).
    static func layoutHolds() -> Bool {
        guard MemoryLayout<String>.size == 16 else { return false }
        for sample in ["", "c040886", "\"m00019\"", "exactly 15 byte", "é€", "ü"] {
            let utf8 = Array(sample.utf8)
            let expected = String(decoding: utf8, as: UTF8.self)
            let raw = withUnsafeBytes(of: expected) { Array($0) }
            let isASCII = utf8.allSatisfy { $0 < 0x80 }
            guard raw[15] == (isASCII ? 0xE0 : 0xA0) | UInt8(utf8.count),
                  Array(raw[0..<utf8.count]) == utf8,
                  raw[utf8.count..<15].allSatisfy({ $0 == 0 }) else { return false }
            let built = utf8.withUnsafeBufferPointer { unchecked($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
            guard built == expected, built.utf8.count == utf8.count else { return false }
        }
        // Longer texts are not inline.
        let long = String(decoding: Array(repeating: UInt8(ascii: "x"), count: 16), as: UTF8.self)
        return withUnsafeBytes(of: long) { $0[15] & 0x20 == 0 }
    }

    /// Whether the texts are read and built as described above. A constant initial value, so
    /// reading it is a plain load (a lazily computed flag cost a `swift_once` call per text,
    /// 1% of a run); `verify()` checks it against the standard library before a run starts.
    #if (arch(x86_64) || arch(arm64)) && _endian(little)
    nonisolated(unsafe) private(set) static var holds = true
    #else
    nonisolated(unsafe) private(set) static var holds = false
    #endif

    /// Checks the layout against this process's standard library, and falls back to it for
    /// good when the layout differs. Called once, before any thread reads texts.
    static func verify() {
        if holds && !layoutHolds() { holds = false }
    }

    /// The string of `count` (at most 15) bytes of valid UTF-8 at `p`, built in place.
    @inline(always)
    private static func unchecked(_ p: UnsafePointer<UInt8>, _ count: Int, knownASCII: Bool = false) -> String {
        // Whole-word loads, overlapping where the count is not a multiple of their width: a
        // byte loop here was turned into a call to memcpy.
        let raw = UnsafeRawPointer(p)
        var low: UInt64 = 0
        var high: UInt64 = 0
        if count >= 8 {
            // Through C, where the load is always inlined (see `eddy_load_unaligned_64`).
            low = eddy_load_unaligned_64(raw)
            if count > 8 {
                // Bytes count-8 ..< count, shifted so that byte 8 lands first.
                high = eddy_load_unaligned_64(raw + (count - 8)) >> UInt64(8 * (16 - count))
            }
        } else if count >= 4 {
            // Through C as well: Swift's loadUnaligned was left a call in the JSON scanner.
            let front = UInt64(eddy_load_unaligned_32(raw))
            let back = UInt64(eddy_load_unaligned_32(raw + (count - 4)))
            // The two overlap on equal bytes, so or-ing them is exact.
            low = front | back << UInt64(8 * (count - 4))
        } else if count > 0 {
            low = UInt64(p[0]) | UInt64(p[count / 2]) << UInt64(8 * (count / 2)) | UInt64(p[count - 1]) << UInt64(8 * (count - 1))
        }
        let isASCII = knownASCII || (low | high) & 0x8080_8080_8080_8080 == 0
        high |= UInt64((isASCII ? 0xE0 : 0xA0) | count) << 56
        // Written over an empty string, which owns nothing: a bit cast of the words made the
        // caller retain the result (a call per text, though inline texts own nothing either).
        var text = ""
        withUnsafeMutableBytes(of: &text) { $0.storeBytes(of: (low, high), as: (UInt64, UInt64).self) }
        return text
    }

    /// A string of the `count` bytes of valid UTF-8 at `p`; `knownASCII` when the caller
    /// knows them to be ASCII (a number's digits, a string the scanner found plain), which
    /// saves testing them for the tag (~6 instructions a text).
    @inline(always)
    static func make(_ p: UnsafePointer<UInt8>, _ count: Int, knownASCII: Bool = false) -> String {
        if count <= capacity, holds { return unchecked(p, count, knownASCII: knownASCII) }
        return makeOutOfLine(p, count)
    }

    /// `make` of a text stored out of line, as a call: inlined, its closure's context took
    /// stack and registers from callers on their common path (the JSON scanner's laid-out
    /// reading: ~4 instructions a record).
    @inline(never)
    private static func makeOutOfLine(_ p: UnsafePointer<UInt8>, _ count: Int) -> String {
        String(unsafeUninitializedCapacity: count) { out in
            out.baseAddress!.update(from: p, count: count)
            return count
        }
    }

    /// An inline text's two words (bytes 0-7; bytes 8-14 and the tag) and its byte count;
    /// nil for a text stored out of line.
    @inline(__always)
    static func inlineWords(_ text: String) -> (words: (UInt64, UInt64), count: Int)? {
        guard holds else { return nil }
        return decoded(unsafeBitCast(text, to: (UInt64, UInt64).self))
    }

    /// `inlineWords` of the string stored at `text`, read from its raw bytes: passing the
    /// string itself copies it out of its storage, which retains and releases it (a call
    /// each, even for an inline text, which owns nothing).
    @inline(__always)
    static func inlineWords(at text: UnsafePointer<String>) -> (words: (UInt64, UInt64), count: Int)? {
        guard holds else { return nil }
        return decoded(UnsafeRawPointer(text).load(as: (UInt64, UInt64).self))
    }

    /// Whether inline text `a`'s bytes precede `b`'s: their bytes read as big-endian words
    /// compare in byte order (unused bytes are zero, so a prefix comes first when the counts
    /// break the tie).
    @inline(__always)
    static func precedes(_ a: (words: (UInt64, UInt64), count: Int), _ b: (words: (UInt64, UInt64), count: Int)) -> Bool {
        let (x, y) = (sortableWords(a), sortableWords(b))
        return (x.high, x.low, a.count) < (y.high, y.low, b.count)
    }

    /// An inline text's words as two integers that order like its bytes (with `precedes`'s
    /// count as the tie-break): for sorting many texts without decoding them per comparison.
    @inline(__always)
    static func sortableWords(_ text: (words: (UInt64, UInt64), count: Int)) -> (high: UInt64, low: UInt64) {
        (text.words.0.bigEndian, (text.words.1 & 0x00FF_FFFF_FFFF_FFFF).bigEndian)
    }

    /// `utf8Precedes` for the strings stored at `a` and `b`, read in place when both are inline.
    @inline(__always)
    static func precedes(at a: UnsafePointer<String>, _ b: UnsafePointer<String>) -> Bool {
        if let x = inlineWords(at: a), let y = inlineWords(at: b) { return precedes(x, y) }
        return a.pointee.utf8Precedes(b.pointee)
    }

    /// Whether the string at `text` is stored inline, so owns no storage: its tag byte alone
    /// (reading both words cost the scanner a dozen instructions a record).
    @inline(__always)
    static func isInline(at text: UnsafePointer<String>) -> Bool {
        holds && UnsafeRawPointer(text).load(fromByteOffset: 15, as: UInt8.self) & 0x20 != 0
    }

    /// A copy of the string stored at `text`. An inline text's 16 bytes are copied as they
    /// are: it owns nothing, but copying it as a `String` calls the runtime to retain it
    /// (and the copy's end, to release it), several times per event where states keep texts.
    @inline(__always)
    static func copy(at text: UnsafePointer<String>) -> String {
        guard isInline(at: text) else { return text.pointee }
        // Written over an empty string, which owns nothing (see `unchecked`).
        var copy = ""
        withUnsafeMutableBytes(of: &copy) { $0.copyMemory(from: UnsafeRawBufferPointer(start: text, count: 16)) }
        return copy
    }

    /// Replaces the string at `target` with a copy of the one at `source`, without runtime
    /// calls when both are inline (the old text owns nothing to release).
    @inline(__always)
    static func assign(_ target: UnsafeMutablePointer<String>, from source: UnsafePointer<String>) {
        if isInline(at: target) && isInline(at: source) {
            UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: 16)
        } else {
            target.pointee = source.pointee
        }
    }

    /// Whether the strings stored at `a` and `b` hold the same bytes, compared in place: two
    /// inline texts do exactly when their 16 bytes are equal (the bytes past the count are
    /// zero, and the tag follows from the bytes). Bytes, not `==`'s canonical equivalence:
    /// texts are found by a hash of their bytes, so byte equality is what tables mean.
    @inline(__always)
    static func same(at a: UnsafePointer<String>, _ b: UnsafePointer<String>) -> Bool {
        if isInline(at: a) && isInline(at: b) {
            let left = UnsafeRawPointer(a).load(as: (UInt64, UInt64).self)
            let right = UnsafeRawPointer(b).load(as: (UInt64, UInt64).self)
            return left.0 == right.0 && left.1 == right.1
        }
        return sameBytes(at: a, b)
    }

    /// `same` for texts not both inline; out of line, so that `same` stays small enough to
    /// be inlined where tables probe. Read-only (its copies of the texts are local): an
    /// opaque call in a probe loop otherwise made the caller retain the table's storage
    /// around every lookup.
    @inline(never) @_effects(readonly)
    private static func sameBytes(at a: UnsafePointer<String>, _ b: UnsafePointer<String>) -> Bool {
        var left = a.pointee
        var right = b.pointee
        guard left.utf8.count == right.utf8.count else { return false }
        return left.withUTF8 { left in
            right.withUTF8 { right in left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0 }
        }
    }

    /// The words and byte count of a string's 16 bytes when its tag says it is inline; for
    /// callers that checked `holds` once for many texts.
    @inline(__always)
    static func decoded(_ words: (UInt64, UInt64)) -> (words: (UInt64, UInt64), count: Int)? {
        let tag = UInt8(truncatingIfNeeded: words.1 >> 56)
        return tag & 0x20 != 0 ? (words, Int(tag & 0x0F)) : nil
    }

    /// Writes the text's UTF-8 bytes at `target` and returns their count. An inline text is
    /// written as its 16 raw bytes (the ones past the count are scratch the caller overwrites
    /// or ignores), so `target` must have room for 16 bytes or the count, whichever is more.
    @inline(__always)
    static func write(_ text: String, to target: UnsafeMutablePointer<UInt8>) -> Int {
        if let inline = inlineWords(text) { return write(inline, to: target) }
        var text = text
        return text.withUTF8 { bytes in
            if let source = bytes.baseAddress { target.update(from: source, count: bytes.count) }
            return bytes.count
        }
    }

    /// Writes an inline text's 16 raw bytes at `target` (see `write`) and returns its count.
    /// Stored straight from registers: copying the bytes out of a spilled copy made the CPU
    /// wait on store forwarding, a third of the time spent writing records.
    @inline(__always)
    static func write(_ inline: (words: (UInt64, UInt64), count: Int), to target: UnsafeMutablePointer<UInt8>) -> Int {
        UnsafeMutableRawPointer(target).storeBytes(of: inline.words, as: (UInt64, UInt64).self)
        return inline.count
    }

    /// The text's UTF-8 byte count, without the call `utf8.count` makes.
    @inline(__always)
    static func byteCount(_ text: String) -> Int {
        inlineWords(text)?.count ?? text.utf8.count
    }

    /// Calls `body` with the text's UTF-8 bytes: read in place when the text is inline.
    @inline(__always)
    static func withBytes<Result>(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let inline = inlineWords(text) {
            return withUnsafeBytes(of: inline.words) { raw in
                body(UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: inline.count))
            }
        }
        var text = text
        return text.withUTF8(body)
    }
}

/// Checks, once per process and before a run reads any record, that this Swift lays texts
/// out as `InlineText` assumes and formats numbers as `ShortestDouble` assumes; where it does
/// not, eddy keeps to the standard library's (slower) ways. `eddy run` calls it first.
public func verifyRuntimeShortcuts() {
    InlineText.verify()
    ShortestDouble.verify()
}

extension InlineText {
    /// The text of the `count` (at most 15) ASCII bytes held in `words`, the first in the
    /// lowest byte of the first word and zero bytes past them: their words as they are, with
    /// the tag `make` writes. (A number's text read with its digits, in registers already.)
    @inline(__always)
    static func makeASCII(words: (UInt64, UInt64), count: Int) -> String {
        guard holds else { return makeASCIIOutOfLine(words: words, count: count) }
        // Written over an empty string, which owns nothing (see `unchecked`).
        var text = ""
        withUnsafeMutableBytes(of: &text) {
            $0.storeBytes(of: (words.0, words.1 | UInt64(truncatingIfNeeded: 0xE0 | count) &<< 56), as: (UInt64, UInt64).self)
        }
        return text
    }

    /// `makeASCII` where texts are not laid out as assumed, as a call (see `makeOutOfLine`).
    @inline(never)
    private static func makeASCIIOutOfLine(words: (UInt64, UInt64), count: Int) -> String {
        withUnsafeBytes(of: words) { String(decoding: UnsafeRawBufferPointer(rebasing: $0[..<count]), as: UTF8.self) }
    }
}
