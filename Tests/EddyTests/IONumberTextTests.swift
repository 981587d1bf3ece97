import Testing
@testable import Eddy

@Test func integersKeepTheirDigits() {
    #expect(number("0") == int(0))
    #expect(number("-0") == FieldValue(kind: .number, text: "0", number: 0, integer: 0))
    #expect(number("42") == int(42))
    #expect(number("-17") == int(-17))
    #expect(number("1700000000000") == int(1_700_000_000_000))
    #expect(number("9223372036854775807") == int(Int64.max))
    #expect(number("-9223372036854775808") == int(Int64.min))
}

/// Integer digits are read eight at a time where eight remain: every length, digits that
/// straddle the blocks, and a non-digit byte at each place after the first digit.
@Test func integersOfEveryLengthParseExactly() {
    var generator = SplitMix(seed: 7)
    for length in 1...18 {
        for _ in 0..<200 {
            var digits = (0..<length).map { _ in Character(String(generator.next() % 10)) }
            if digits[0] == "0" { digits[0] = "7" }
            let text = String(digits)
            #expect(number(text) == int(Int64(text)!), "\(text)")
            #expect(number("-" + text) == int(-Int64(text)!), "-\(text)")
            #expect(number(text + ".5")?.number == Double(text + ".5")!, "\(text).5")
        }
    }
    let long = "1234567890123456789"
    for place in 1..<long.count {
        for bad: Character in ["/", ":", "a", " ", "\u{7F}"] {
            var broken = Array(long)
            broken[place] = bad
            #expect(number(String(broken)) == nil, "\(String(broken))")
        }
    }
    #expect(number("99999999") == int(99_999_999))
    #expect(number("100000000") == int(100_000_000))
}

/// Past Int64 an integer keeps its digits as its text (as jq 1.7 keeps integer literals), so
/// that IDs which round to one double stay apart; its number is the nearest double.
@Test func integersBeyondInt64KeepTheirDigits() {
    let above = number("9223372036854775808")
    #expect(above?.integer == nil)
    #expect(above?.number == 9223372036854775808.0)
    #expect(above?.text == "9223372036854775808")
    #expect(number("-9223372036854775809")?.integer == nil)
    #expect(number("-9223372036854775809")?.text == "-9223372036854775809")
    #expect(number("100000000000000000000")?.text == "100000000000000000000")
    let first = number("12345678901234567890"), second = number("12345678901234567891")
    #expect(first?.number == second?.number)
    #expect(first?.text != second?.text)
    #expect(number("1" + String(repeating: "0", count: 400)) == nil)
}

@Test func nonIntegersGetShortestText() {
    #expect(number("20.10") == dbl("20.1", 20.1))
    #expect(number("20.0") == dbl("20.0", 20.0))
    #expect(number("1E3") == dbl("1000.0", 1000))
    #expect(number("1e3")?.integer == nil)
    #expect(number("0.00001") == dbl("1e-05", 0.00001))
    #expect(number("0.0001")?.text == "0.0001")
    #expect(number("-0.5")?.text == "-0.5")
    #expect(number("-0.0")?.text == "-0.0")
    #expect(number("0.000")?.text == "0.0")
    #expect(number("2.5e-3")?.text == "0.0025")
    #expect(number("1.5E+2")?.text == "150.0")
    #expect(number("0.1000000000000000055511151231257827")?.text == "0.1")
    #expect(number("123456789012345.6")?.text == "123456789012345.6")
    #expect(number("1234567890123456.7")?.text == "1234567890123456.8")
    #expect(number("12345678901234567.5")?.text == "1.2345678901234568e+16")
    #expect(number("1e-400")?.text == "0.0")
}

@Test func grammarIsExact() {
    for bad in ["", "-", "+1", "01", "-01", "00", ".5", "5.", "-.5", "1.e5", "1e", "1e+", "1E-",
                "NaN", "Infinity", "-Infinity", "inf", "0x10", "1 ", " 1", "1_000", "1.2.3", "1e5e5", "--1", "١"] {
        #expect(number(bad) == nil, "\(bad)")
    }
    for good in ["0", "-0", "0.0", "0e0", "0E+0", "-0.0e-0", "10", "1.25", "1e5", "1E-5", "9.99e+300"] {
        #expect(number(good) != nil, "\(good)")
    }
}

@Test func overflowingDoublesAreRejected() {
    #expect(number("1e400") == nil)
    #expect(number("-1e309") == nil)
}

@Test func fastPathMatchesSwiftDescriptionOnRandomValues() {
    var rng = SystemRandomNumberGenerator()
    for decimals in [1, 2, 3, 6] {
        for _ in 0..<20_000 {
            let scale = [1, 10, 1000, 1_000_000, 1_000_000_000][Int.random(in: 0..<5, using: &rng)]
            let units = Int64.random(in: 0..<Int64(scale) * 1000, using: &rng)
            var frac = String(Int64.random(in: 0..<Int64(pow10(decimals)), using: &rng))
            frac = String(repeating: "0", count: decimals - frac.count) + frac
            let sign = Bool.random(using: &rng) ? "-" : ""
            let text = "\(sign)\(units).\(frac)"
            let expected = Double(text)!
            let parsed = number(text)
            #expect(parsed?.number == expected, "\(text)")
            #expect(parsed?.text == expected.description, "\(text)")
            #expect(parsed?.integer == nil)
        }
    }
}

@Test func fastPathBandEdgesMatchDescription() {
    let texts = ["0.0001", "0.00010", "0.00009999", "0.001", "999999999999999.9", "99999999999999.99",
                 "100000000000000.0", "0.1", "0.2", "0.3", "1.10", "5.000000", "123.450000",
                 "0.000123456789012", "-0.0001", "0.00001000", "4503599627370496.5"]
    for text in texts {
        let expected = Double(text)!
        #expect(number(text)?.text == expected.description, "\(text)")
        #expect(number(text)?.number == expected, "\(text)")
    }
}

private func pow10(_ n: Int) -> Int64 {
    var v: Int64 = 1
    for _ in 0..<n { v *= 10 }
    return v
}

@Test func formatAndAppendMatchDescription() {
    let values: [Double] = [0, -0.0, 1, -1, 20.1, 1000, 1e15, 1e16, 123456789012345, 9007199254740992,
                            0.1 + 0.2, 1e-5, -2.5e-300, 1.7976931348623157e308, .leastNonzeroMagnitude]
    for d in values {
        #expect(NumberText.format(d) == d.description)
        let out = appended { NumberText.append(d, to: $0) }
        #expect(String(decoding: out, as: UTF8.self) == d.description, "\(d)")
    }
    #expect(NumberText.format(.nan) == "null")
    #expect(NumberText.format(.infinity) == "null")
    let out = appended { NumberText.append(-Double.infinity, to: $0) }
    #expect(out == Array("null".utf8))
}

/// The short-decimal fast path must print exactly what `description` prints, on the values it
/// takes (sums of cents, quarter steps, tiny and huge magnitudes) and on those it must refuse.
@Test func shortDecimalsPrintAsDescriptionDoes() {
    var generator = SystemRandomNumberGenerator()
    var values: [Double] = [0.0001, 0.00015, 0.05, -0.05, 1e10 + 0.5, 99999999999.9999, 1e11 + 0.25, 123.4567, 0.1 + 0.2]
    var sum = 0.0
    for _ in 0..<20_000 {
        let cents = Double(Int.random(in: -500_000...500_000, using: &generator)) / 100
        sum += cents
        values.append(cents)
        values.append(sum)
        values.append(sum / Double(Int.random(in: 1...9, using: &generator)))
        values.append(Double(bitPattern: generator.next()))
        values.append(Double(Int.random(in: 1...99_999, using: &generator)) / 1e4)
    }
    var taken = 0
    for d in values where d.isFinite {
        if NumberText.shortDecimal(d) != nil { taken += 1 }
        let out = appended { NumberText.append(d, to: $0) }
        #expect(String(decoding: out, as: UTF8.self) == d.description, "\(d)")
    }
    // The fast path is taken for most money-like values, not silently never.
    #expect(taken > 40_000)
}

/// The short-decimal writer prints `description`'s text for every four-digit fraction, with
/// integer parts of every length it takes (the words built below 10^4 and the pair loop
/// above), both signs, and through `append` as well as directly.
@Test func appendDecimalMatchesDescriptionForEveryFraction() {
    var generator = SplitMix(seed: 43)
    var integers: [UInt64] = [0, 1, 7, 9, 10, 42, 99, 100, 305, 999, 1000, 1001, 4096, 9999, 10_000, 10_001, 99_999,
                              100_000, 1_234_567, 99_999_999_999]
    for digits in 1...11 { integers.append(generator.next() % NumberText.powerOfTen(digits)) }
    var mismatches = 0
    for integer in integers {
        for fraction: UInt64 in 0..<10_000 {
            let scaled = Int64(integer * 10_000 + fraction)
            guard scaled != 0 else { continue }
            for value in [scaled, -scaled] {
                let d = Double(value) / 1e4
                let direct = String(decoding: appended { NumberText.appendDecimal(value, to: $0) }, as: UTF8.self)
                let viaAppend = String(decoding: appended { NumberText.append(d, to: $0) }, as: UTF8.self)
                if direct != d.description || viaAppend != d.description {
                    mismatches += 1
                    if mismatches <= 10 { Issue.record("\(value): \(direct), \(viaAppend), not \(d.description)") }
                }
            }
        }
    }
    #expect(mismatches == 0)
}

@Test func appendIntegerWritesDigits() {
    var generator = SystemRandomNumberGenerator()
    let powersOfTen = (0...18).flatMap { power -> [Int64] in
        let p = (0..<power).reduce(Int64(1)) { value, _ in value * 10 }
        return [p - 1, p, -p, -(p - 1)]
    }
    let random = (0..<1000).map { _ in Int64.random(in: .min ... .max, using: &generator) >> Int64.random(in: 0..<63, using: &generator) }
    for i: Int64 in [0, 7, -7, 10, 99, 100, -100, 1_700_000_000_000, Int64.max, Int64.min] + powersOfTen + random {
        let out = appended {
            $0.append(0x5B)
            NumberText.append(i, to: $0)
        }
        #expect(out == [0x5B] + Array(String(i).utf8))
    }
}

/// The runtime formatter behind `ShortestDouble` writes exactly `description`'s text, into a
/// buffer that already holds other bytes (its padding zeros are filled in, not left over),
/// on every kind of value: its verification at run start passes, and random bit patterns,
/// fractions below one and ratios of integers agree one by one.
@Test func runtimeFormatterWritesDescriptionsText() {
    #expect(ShortestDouble.runtimeMatchesDescription())
    #expect(ShortestDouble.usesRuntime)
    var generator = SystemRandomNumberGenerator()
    let out = ByteBuffer()
    for index in 0..<200_000 {
        let value: Double
        switch index % 4 {
        case 0: value = Double(bitPattern: generator.next())
        case 1: value = Double.random(in: -1...1, using: &generator)
        case 2: value = Double(Int.random(in: -99_999...99_999, using: &generator)) / Double(Int.random(in: 1...997, using: &generator))
        default: value = Double.random(in: 0..<1e-3, using: &generator) * Double(sign: .plus, exponent: Int.random(in: -20...80, using: &generator), significand: 1)
        }
        guard value.isFinite else { continue }
        out.removeAll()
        // Stale digits where the formatter pads: they must not show through.
        out.append(contentsOf: Array("999999999999999999999999999999".utf8))
        out.removeAll()
        ShortestDouble.append(value, to: out)
        let text = String(decoding: out.array, as: UTF8.self)
        if text != value.description {
            Issue.record("\(value.bitPattern): \(text) is not \(value.description)")
            return
        }
    }
}

/// The exact-arithmetic path for numbers with a fraction prints `description`'s digits on
/// every kind of value in its range: random bit patterns, averages and sums of cents (17
/// significant digits; running ones, and a window's few), numbers a few units in the last
/// place from short decimals, and the range's edges; and it is taken for most of them, not
/// left to the runtime.
@Test func shortestFractionsPrintAsDescriptionDoes() {
    var generator = SplitMix(seed: 41)
    var values: [Double] = [1e-4, 1.0000000000000002e-4, 0.00010000000000000002, 999999999999999.9, 0.1, 0.3, 2.5,
                            1.0 / 3, 2.0 / 3, 0.1 + 0.2, 123456.789, 4503599627370495.5, 0.30000000000000004]
    func random(below bound: UInt64) -> UInt64 { generator.next() % bound }
    var sum = 0.0
    for index in 1...150_000 {
        // A bit pattern with an exponent inside [1e-4, 1e15).
        let exponent = 1009 + random(below: 50)
        values.append(Double(bitPattern: exponent << 52 | generator.next() >> 12))
        let cents = Double(Int(random(below: 1_000_000))) / 100
        sum += cents
        values.append(sum)
        values.append(sum / Double(index))
        // A window's sum and average of a few cent amounts (40.35 + 8.87): mostly 15 to 17
        // significant digits with an integer part below 10^4, the card job's numbers.
        var window = 0.0
        let amounts = 1 + Int(random(below: 6))
        for _ in 0..<amounts { window += Double(Int(random(below: 100_000))) / 100 }
        values.append(window)
        values.append(window / Double(amounts))
        // Near a short decimal: a few units in the last place away from it.
        let short = Double(Int(random(below: 100_000))) / pow10Double(Int(random(below: 8)))
        var near = short
        for _ in 0..<random(below: 4) { near = near.nextUp }
        values.append(near)
    }
    var taken = 0
    for magnitude in values where magnitude >= 1e-4 && magnitude < 1e15 && magnitude.rounded() != magnitude {
        if let shortest = ShortestFraction.digits(magnitude) {
            taken += 1
            #expect(shortest.fractionDigits >= 1)
        }
        for value in [magnitude, -magnitude] {
            let out = appended { NumberText.append(value, to: $0) }
            #expect(String(decoding: out, as: UTF8.self) == value.description, "\(value)")
        }
    }
    #expect(taken > values.count * 9 / 10)
}

/// Integral doubles, which the shortest-fraction path takes before the integer path, print
/// as `description` does (`n.0`) from 1 to 1e15, through the path itself and `append`.
@Test func integralDoublesPrintAsDescriptionDoes() {
    var generator = SplitMix(seed: 53)
    var values: [Double] = [1, 2, 3, 5, 7, 10, 99, 100, 1023, 1025, 65_537, 999_999_999_999_999, 123_456_789_012_345]
    for digits in 1...15 {
        for _ in 0..<2_000 { values.append(Double(generator.next() % NumberText.powerOfTen(digits) + 1)) }
    }
    var mismatches = 0
    for magnitude in values where magnitude < 1e15 {
        if let shortest = ShortestFraction.digits(magnitude) {
            #expect(shortest.fractionDigits == 1 && shortest.digits == UInt64(magnitude) * 10 && shortest.integer == UInt64(magnitude),
                    "\(magnitude)")
        }
        countMismatches(printing: magnitude, into: &mismatches)
    }
    #expect(mismatches == 0)
}

/// Prints `magnitude` and its negation through `NumberText.append`, counting (and recording
/// the first ten of) the texts that differ from `description`'s.
private func countMismatches(printing magnitude: Double, into mismatches: inout Int) {
    for value in [magnitude, -magnitude] {
        let text = String(decoding: appended { NumberText.append(value, to: $0) }, as: UTF8.self)
        if text != value.description {
            mismatches += 1
            if mismatches <= 10 { Issue.record("\(text) is not \(value.description)") }
        }
    }
}

/// The eight-digits-a-word writer of the shortest-fraction path prints `description`'s text
/// for integer parts of every length the path takes (0 to 15 digits, both sides of the one
/// word below 10^8) and fractions of every length from 1 to 19 digits (one, two and three
/// words), both signs.
@Test func longFractionsPrintAsDescriptionDoes() {
    var generator = SplitMix(seed: 47)
    var lengths = Set<Int>()
    var mismatches = 0
    for integerDigits in 0...15 {
        for _ in 0..<4_000 {
            let integer = integerDigits == 0 ? 0 : NumberText.powerOfTen(integerDigits - 1) + generator.next() % (9 * NumberText.powerOfTen(integerDigits - 1))
            // A random fraction, scaled down at times so that it starts with zeros.
            var fraction = Double(generator.next() >> 11) / 0x1p53
            fraction /= NumberText.exactPowersOfTen[Int(generator.next() % 6)]
            let magnitude = Double(integer) + fraction
            guard magnitude < 1e15, let shortest = ShortestFraction.digits(magnitude) else { continue }
            lengths.insert(shortest.fractionDigits)
            countMismatches(printing: magnitude, into: &mismatches)
        }
    }
    #expect(mismatches == 0)
    #expect(lengths.isSuperset(of: 1...19))
}

/// Integers and decimals of every length print all their digits, with the point in place.
@Test func digitCountsAndLongNumbers() {
    for exponent in 0..<19 {
        let power = NumberText.powerOfTen(exponent)
        #expect(NumberText.digitCount(power) == exponent + 1)
        #expect(NumberText.digitCount(power - 1) == max(exponent, 1))
    }
    #expect(NumberText.digitCount(0) == 1)
    #expect(NumberText.digitCount(UInt64.max) == 20)
    for value: Int64 in [Int64.max, Int64.min, -1_000_000_000_000_000_000, 999_999_999_999_999_999] {
        #expect(String(decoding: appended { NumberText.append(value, to: $0) }, as: UTF8.self) == String(value))
    }
}

private func pow10Double(_ exponent: Int) -> Double {
    (0..<exponent).reduce(1.0) { value, _ in value * 10 }
}

/// Integers of 9 to 16 digits (two eight-digit words) and around them, of either sign,
/// between other bytes: every digit count, a zero digit at each place, and the bounds.
@Test func longIntegersWriteEveryDigit() {
    var generator = SplitMix(seed: 16)
    var values: [Int64] = [100_000_000, 99_999_999, 9_999_999_999_999_999, 10_000_000_000_000_000, 1_000_000_000_000_001]
    for digits in 8...17 {
        let low = Int64(NumberText.powerOfTen(digits - 1))
        for _ in 0..<300 { values.append(low + Int64(generator.next() % UInt64(9 * low))) }
        for place in 0..<digits { values.append(9 * low + 8 * (low - 1) / 9 - 8 * Int64(NumberText.powerOfTen(place))) }
    }
    for value in values + values.map(-) {
        let out = appended {
            $0.append(0x5B)
            NumberText.append(value, to: $0)
            $0.append(0x5D)
        }
        #expect(out == [0x5B] + Array(String(value).utf8) + [0x5D], "\(value)")
    }
}
