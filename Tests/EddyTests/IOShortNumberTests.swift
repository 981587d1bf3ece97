import CEddySupport
import Testing
@testable import Eddy

/// Number texts of every shape the one-pass reading takes or leaves: integers of 1 to 17
/// digits, fractions of 1 to 9 digits with and without trailing zeros, zero integer parts
/// with leading fraction zeros, signs, and what JSON refuses.
private func numberTexts() -> [String] {
    var texts = ["0", "-0", "0.0", "-0.0", "0.00", "0.5", "-0.5", "0.05", "0.005", "0.0005", "0.00005",
                 "0.0001", "0.00010", "0.000100", "0.10", "1", "-1", "9", "10", "1.0", "1.00", "10.0",
                 "1.", "-", "-.5", ".5", "01", "-01", "00", "0.", "1e5", "1.5e3", "1E-2", "12-",
                 "1.2.3", "1234567", "12345678", "123456789", "1699999999566", "-1699999999566",
                 "123456789012345", "-123456789012345", "1234567890123456", "12345678901234567",
                 "5000.00", "40.35", "40.30", "40.00", "0.50", "1234.5", "123456.7", "-123456.7",
                 "1234567.8", "12345.678", "-1.25", "99999999", "100000000", "9223372036854775807"]
    var generator = SplitMix(seed: 31)
    func digits(_ count: Int, leadingNonZero: Bool) -> String {
        String((0..<count).map { k -> Character in
            let d = generator.next() % 10
            return Character(String(k == 0 && leadingNonZero && d == 0 ? 7 : d))
        })
    }
    for _ in 0..<4000 {
        let integerDigits = Int(generator.next() % 17) + 1
        var text = integerDigits == 1 && generator.next() % 3 == 0 ? "0" : digits(integerDigits, leadingNonZero: true)
        switch generator.next() % 4 {
        case 0: break
        case 1: text += "." + digits(Int(generator.next() % 9) + 1, leadingNonZero: false)
        case 2: text += "." + digits(Int(generator.next() % 3) + 1, leadingNonZero: false) + String(repeating: "0", count: Int(generator.next() % 4) + 1)
        default: text += "." + String(repeating: "0", count: Int(generator.next() % 6)) + digits(Int(generator.next() % 3) + 1, leadingNonZero: false)
        }
        texts.append(generator.next() % 3 == 0 ? "-" + text : text)
    }
    return texts
}

/// `eddy_read_short_number` either leaves a number to the general reading or reads what
/// `NumberText.shapePrefix` and `NumberText.value` read: the same length (unless a byte
/// follows that continues a number, which its callers refuse as they refuse the general
/// reading's) and the same value, text, double (to the bit) and integer. Each text is read
/// followed by a separator, by bytes that continue a number and by nothing (the end of the
/// record), with digits past the end that must not be read.
@Test func shortNumbersReadAsTheGeneralReadingDoes() {
    var read = 0, left = 0
    let followers = [",", "}", " ", "", "]", "\"", "x", ".", "e5", "E", "-", "+"]
    for text in numberTexts() {
        for follower in followers {
            let bytes = Array((text + follower).utf8)
            let available = bytes.count
            (bytes + Array(repeating: UInt8(ascii: "9"), count: 16)).withUnsafeBufferPointer { buffer in
                let p = buffer.baseAddress!
                let fast = eddy_read_short_number(p, available)
                guard fast.length > 0 else { left += 1; return }
                read += 1
                // What the callers refuse (`1.5e`, `12-`), they refuse whichever reads it.
                if fast.length < available, "0123456789.eE+-".utf8.contains(bytes[fast.length]) { return }
                let shape = NumberText.shapePrefix(p, available)
                #expect(shape != nil, "\(text)\(follower)")
                guard let shape else { return }
                #expect(shape.end == fast.length, "\(text)\(follower)")
                let general = NumberText.value(p, shape.end, shape)
                let short = NumberText.shortValue(fast)
                #expect(general == short, "\(text)\(follower)")
                #expect(general?.number.bitPattern == short.number.bitPattern, "\(text)\(follower)")
            }
        }
    }
    // Most of the texts are read in one pass (the rest: longer, refused or at the end).
    #expect(read > 15_000 && left > 15_000, "\(read) read, \(left) left")
}

/// A record laid out as the one before it reads its numbers in one pass; every number of the
/// shapes above, and values that are no number where one was, gives what a fresh scanner
/// gives (which reads the record generally), values and problem alike.
@Test func laidOutNumbersReadAsTheGeneralReadingDoes() {
    let fields = ["id", "amount", "ts"]
    let base = #"{"id":"c040886","amount":40.35,"skip":12,"ts":1699999999566}"#
    var records: [String] = []
    for text in numberTexts().prefix(600) + ["true", "false", "null", "{}", "[1]", "\"1\"", "tru", "n"] {
        records.append(#"{"id":"c040886","amount":"# + text + #","skip":12,"ts":1699999999566}"#)
        records.append(#"{"id":"c040886","amount":40.35,"skip":"# + text + #","ts":1699999999566}"#)
        records.append(#"{"id":"c040886","amount":40.35,"skip":12,"ts":"# + text + "}")
        records.append(#"{"id":"c040886","amount":40.35,"skip":12,"ts":"# + text + " }")
        records.append(#"{"id":"c040886","amount":40.35,"skip":12,"ts":"# + text)
    }
    var scanner = JSONObjectScanner(fieldNames: fields)
    var values = Array(repeating: FieldValue.missing, count: fields.count)
    for record in records {
        for text in [base, record] {
            let problem = withBytes(text) { scanner.scan($0, into: &values) }
            let fresh = scanJSON(text, fields)
            #expect(problem == fresh.problem, "\(text)")
            #expect(values == fresh.values, "\(text)")
            #expect(values.map(\.number.bitPattern) == fresh.values.map(\.number.bitPattern), "\(text)")
        }
    }
}
