/// A decimal number's text compared by its exact value: min and max need it where two
/// numbers have the same double but are not the same number (an integer beyond Int64 keeps
/// its digits in its text; every other number is its double, written shortest).
struct ExactDecimal {
    private var negative = false
    /// The significant digits (ASCII), without leading or trailing zeros: empty for zero.
    private var digits: [UInt8] = []
    /// The value is 0.d1d2d3... × 10^pointPosition.
    private var pointPosition = 0

    /// The number written `text` (JSON's grammar, or a CSV cell's: a sign, digits with an
    /// optional point, an optional exponent); nil for anything else.
    init?(_ text: String) {
        var bytes = text.utf8[...]
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var sawDigit = false
        var sawPoint = false
        while let byte = bytes.first, byte == UInt8(ascii: ".") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) {
            bytes = bytes.dropFirst()
            if byte == UInt8(ascii: ".") {
                guard !sawPoint else { return nil }
                sawPoint = true
                continue
            }
            sawDigit = true
            if digits.isEmpty && byte == UInt8(ascii: "0") {
                // A leading zero: after the point it moves the first significant digit right.
                if sawPoint { pointPosition -= 1 }
                continue
            }
            digits.append(byte)
            if !sawPoint { pointPosition += 1 }
        }
        guard sawDigit else { return nil }
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            var exponentNegative = false
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                exponentNegative = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            guard !bytes.isEmpty else { return nil }
            var exponent = 0
            for byte in bytes {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                // Clamped: a finite double's exponent is far below it, and a text this far
                // out compares the same either way.
                exponent = min(exponent * 10 + Int(byte - UInt8(ascii: "0")), 1 << 40)
            }
            pointPosition += exponentNegative ? -exponent : exponent
            bytes = bytes[bytes.endIndex...]
        }
        guard bytes.isEmpty else { return nil }
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
    }

    private var sign: Int { digits.isEmpty ? 0 : (negative ? -1 : 1) }

    /// Whether the number written `a` is above the one written `b`, both with the double
    /// `sharedDouble`: a text that is not an integer's digits stands for that double, whose
    /// exact value its shortest text does not show (`1.8446744073709552e+19` is 2^64).
    static func exceeds(_ a: String, _ b: String, sharedDouble: Double) -> Bool {
        func exact(_ text: String) -> String {
            isIntegerLiteral(text) || sharedDouble != sharedDouble.rounded() ? text : integerText(of: sharedDouble)
        }
        return exceeds(exact(a), exact(b))
    }

    private static func isIntegerLiteral(_ text: String) -> Bool {
        let digits = text.utf8.first == UInt8(ascii: "-") ? text.utf8.dropFirst() : text.utf8[...]
        return !digits.isEmpty && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// The exact digits of an integral double: its 53-bit significand doubled `exponent - 52`
    /// times, in base 10.
    static func integerText(of value: Double) -> String {
        if abs(value) < 0x1p63 { return String(Int64(value)) }
        var digits = Array(String(value.significandBitPattern | (1 << 52)).utf8.reversed().map { $0 - UInt8(ascii: "0") })
        for _ in 0..<(Int(value.exponent) - 52) {
            var carry: UInt8 = 0
            for index in digits.indices {
                let doubled = digits[index] * 2 + carry
                digits[index] = doubled % 10
                carry = doubled / 10
            }
            if carry > 0 { digits.append(carry) }
        }
        return (value < 0 ? "-" : "") + String(decoding: digits.reversed().map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
    }

    /// Whether `a` is above `b`; false when either is not a decimal number.
    static func exceeds(_ a: String, _ b: String) -> Bool {
        guard let x = ExactDecimal(a), let y = ExactDecimal(b) else { return false }
        if x.sign != y.sign { return x.sign > y.sign }
        // Same sign: compare magnitudes, then flip for negatives.
        let magnitudeOrder: Int
        if x.pointPosition != y.pointPosition {
            magnitudeOrder = x.pointPosition > y.pointPosition ? 1 : -1
        } else if x.digits == y.digits {
            magnitudeOrder = 0
        } else {
            // Without trailing zeros, digit strings compare as the numbers do.
            magnitudeOrder = y.digits.lexicographicallyPrecedes(x.digits) ? 1 : -1
        }
        return x.sign * magnitudeOrder > 0
    }
}
