/// JSON numbers: strict grammar in, canonical text out.
///
/// Integers that fit Int64 keep their digits; every other number prints as Swift's
/// `Double.description` does (shortest round-trip), so `20.10` and `20.1` are one value.
public enum NumberText {
    /// Powers of ten exactly representable as Double, for the exact fast path.
    private static let exactPowersOfTen: [Double] = (0...22).map { power in
        var value = 1.0
        for _ in 0..<power { value *= 10 }
        return value
    }

    /// Parses one JSON number (exactly the JSON grammar: no `+`, no leading zeros, no `.5`).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> FieldValue? {
        let count = bytes.count
        var index = 0
        let negative = count > 0 && bytes[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        guard index < count else { return nil }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var fractionDigits = 0
        // Integer part.
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(bytes[index]) {
            while index < count, isDigit(bytes[index]) {
                accumulate(bytes[index], &mantissa, &significantDigits)
                index += 1
            }
        } else {
            return nil
        }
        let integerEnd = index
        var hasFraction = false
        if index < count, bytes[index] == UInt8(ascii: ".") {
            hasFraction = true
            index += 1
            let start = index
            while index < count, isDigit(bytes[index]) {
                accumulate(bytes[index], &mantissa, &significantDigits)
                fractionDigits += 1
                index += 1
            }
            guard index > start else { return nil }
        }
        var hasExponent = false
        if index < count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            hasExponent = true
            index += 1
            if index < count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let start = index
            while index < count, isDigit(bytes[index]) { index += 1 }
            guard index > start else { return nil }
        }
        guard index == count else { return nil }

        if !hasFraction && !hasExponent, let integer = parseInt64(bytes, negative: negative, end: integerEnd) {
            let text = integer == 0 ? "0" : String(decoding: bytes, as: UTF8.self)
            return FieldValue(kind: .number, text: text, number: Double(integer), integer: integer)
        }
        if !hasExponent, significantDigits <= 15, fractionDigits <= 22 {
            // Clinger's fast path: both operands are exact doubles, so one correctly rounded
            // division gives the correctly rounded value.
            var value = Double(mantissa) / exactPowersOfTen[fractionDigits]
            if negative { value = -value }
            let magnitude = abs(value)
            if magnitude >= 1e-4, magnitude < 1e15 {
                return FieldValue(kind: .number, text: trimmedDecimal(bytes), number: value)
            }
            return FieldValue(kind: .number, text: format(value), number: value)
        }
        guard let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite else { return nil }
        return FieldValue(kind: .number, text: format(value), number: value)
    }

    /// Whether the bytes are exactly one JSON number, without computing its value: the
    /// scanner uses it for numbers the job does not read.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var index = 0
        if index < count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < count else { return false }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            let start = index
            while index < count, isDigit(bytes[index]) { index += 1 }
            guard index > start else { return false }
        }
        if index < count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < count, isDigit(bytes[index]) { index += 1 }
            guard index > start else { return false }
        }
        if index < count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let start = index
            while index < count, isDigit(bytes[index]) { index += 1 }
            guard index > start else { return false }
        }
        return index == count
    }

    /// Shortest round-trip text of a double; `null` for NaN and infinities, which JSON lacks.
    public static func format(_ value: Double) -> String {
        value.isFinite ? value.description : "null"
    }

    public static func append(_ value: Double, to out: inout [UInt8]) {
        out.appendUTF8(format(value))
    }

    public static func append(_ value: Int64, to out: inout [UInt8]) {
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, no allocation
        let written = withUnsafeMutableBytes(of: &digits) { buffer -> Int in
            var position = buffer.count
            while magnitude > 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[position...]))
            return buffer.count - position
        }
        _ = written
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- 48 < 10 }

    @inline(__always)
    private static func accumulate(_ digit: UInt8, _ mantissa: inout UInt64, _ significant: inout Int) {
        if mantissa == 0 && digit == UInt8(ascii: "0") { return }  // leading zeros are not significant
        significant += 1
        if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(digit - 48) }
    }

    private static func parseInt64(_ bytes: UnsafeRawBufferPointer, negative: Bool, end: Int) -> Int64? {
        var value: Int64 = 0
        for index in (negative ? 1 : 0)..<end {
            let digit = Int64(bytes[index] - 48)
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            if overflow1 || overflow2 { return nil }
            value = next
        }
        return value
    }

    /// A plain decimal with its fraction's trailing zeros removed, keeping one digit after the
    /// point: in the band where Swift prints plain decimals this equals `description`.
    private static func trimmedDecimal(_ bytes: UnsafeRawBufferPointer) -> String {
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "0"), bytes[end - 2] != UInt8(ascii: ".") { end -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
    }
}
