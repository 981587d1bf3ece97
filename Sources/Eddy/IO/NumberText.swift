import CEddySupport

/// JSON numbers: exact grammar check, correctly rounded value, canonical text.
public enum NumberText {
    /// Where the parts of a grammatically valid number are (indices into its bytes), plus the
    /// digits accumulated on the way so the value needs no second pass.
    struct Shape {
        var negative: Bool
        var intStart: Int
        var intEnd: Int
        /// Digits after the point; `fracStart == fracEnd` when there is no fraction.
        var fracStart: Int
        var fracEnd: Int
        var hasExponent: Bool
        /// Index just past the number.
        var end: Int
        /// Integer and fraction digits as one integer; exact while there are at most 19 of them.
        var mantissa: UInt64
        var isInteger: Bool { fracStart == fracEnd && !hasExponent }
    }

    /// Checks `p[0..<n]` is exactly one JSON number.
    @inline(__always)
    static func shape(_ p: UnsafePointer<UInt8>, _ n: Int) -> Shape? {
        guard let s = shapePrefix(p, n), s.end == n else { return nil }
        return s
    }

    /// The longest JSON number at the start of `p[0..<n]`, nil when it starts like a number but
    /// breaks the grammar (`-`, `1.`, `1e`). Callers decide what may follow it. (Positions
    /// move with wrapping arithmetic: they stay below `n`.)
    @inline(always)
    static func shapePrefix(_ p: UnsafePointer<UInt8>, _ n: Int) -> Shape? {
        var i = 0
        var m: UInt64 = 0
        let negative = n > 0 && p[0] == 0x2D
        if negative { i = 1 }
        let intStart = i
        guard i < n else { return nil }
        let first = p[i] &- 0x30
        if first == 0 {
            i &+= 1
        } else if first < 10 {
            m = UInt64(first)
            i &+= 1
            // Long integers (epoch times) take eight digits a step.
            while i &+ 8 <= n, let eight = eightDigits(p + i) {
                m = m &* 100_000_000 &+ eight
                i &+= 8
            }
            while i < n {
                let d = p[i] &- 0x30
                guard d < 10 else { break }
                m = m &* 10 &+ UInt64(d)
                i &+= 1
            }
        } else {
            return nil
        }
        let intEnd = i
        var fracStart = i
        var fracEnd = i
        if i < n && p[i] == 0x2E {
            i &+= 1
            fracStart = i
            while i < n {
                let d = p[i] &- 0x30
                guard d < 10 else { break }
                m = m &* 10 &+ UInt64(d)
                i &+= 1
            }
            guard i > fracStart else { return nil }
            fracEnd = i
        }
        var hasExponent = false
        if i < n && (p[i] | 0x20) == 0x65 {
            hasExponent = true
            i &+= 1
            if i < n && (p[i] == 0x2B || p[i] == 0x2D) { i &+= 1 }
            let expStart = i
            while i < n && p[i] &- 0x30 < 10 { i &+= 1 }
            guard i > expStart else { return nil }
        }
        return Shape(negative: negative, intStart: intStart, intEnd: intEnd, fracStart: fracStart,
                     fracEnd: fracEnd, hasExponent: hasExponent, end: i, mantissa: m)
    }

    /// The value of the eight bytes at `p` when all are ASCII digits, else nil: a byte is a
    /// digit when its high nibble is 3 and adding 6 keeps it there. The digits are combined
    /// pairwise, then in fours, then eights, by three multiplications (a digit a step took
    /// ~10 instructions, ~130 for a 13-digit epoch time).
    @inline(__always)
    static func eightDigits(_ p: UnsafePointer<UInt8>) -> UInt64? {
        let word = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        let highNibbles: UInt64 = 0xF0F0_F0F0_F0F0_F0F0
        let threes: UInt64 = 0x3030_3030_3030_3030
        guard word & highNibbles == threes, (word &+ 0x0606_0606_0606_0606) & highNibbles == threes else { return nil }
        // Bytes hold digits first-to-last from the lowest: each step joins neighbours,
        // the earlier one (lower) scaled by 10, 100, then 10^4.
        var value = word & 0x0F0F_0F0F_0F0F_0F0F
        value = (value &* (10 &<< 8 &+ 1)) &>> 8
        value = ((value & 0x00FF_00FF_00FF_00FF) &* (100 &<< 16 &+ 1)) &>> 16
        return ((value & 0x0000_FFFF_0000_FFFF) &* (10_000 &<< 32 &+ 1)) &>> 32
    }

    /// Exact powers of ten: dividing an exact mantissa below 2^53 by one of these is a single
    /// correctly rounded IEEE operation, so the fast path gives the same value as strtod.
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Parses exactly one JSON number; nil if the grammar does not match or the value
    /// overflows a Double (`1e400`).
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> FieldValue? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
              let s = shape(base, bytes.count) else { return nil }
        return value(base, bytes.count, s)
    }

    /// The value of a number whose shape was checked; nil only when it overflows a Double.
    @inline(always)
    static func value(_ p: UnsafePointer<UInt8>, _ n: Int, _ s: Shape) -> FieldValue? {
        if s.isInteger {
            if let i = integerValue(p, s) {
                // Valid grammar has no leading zeros, so the input digits are canonical except `-0`.
                let text = i == 0 ? "0" : InlineText.make(p, n, knownASCII: true)
                return FieldValue(kind: .number, text: text, number: Double(i), integer: i)
            }
            return bigInteger(p, n)
        }
        if !s.hasExponent {
            if p[s.intStart] != 0x30 {
                // No leading zeros (amounts, prices): the general case below, reduced to its
                // arithmetic, which wraps (positions and counts stay below `n`). Its checked
                // steps and their overflow branches were ~25 instructions a number.
                let fracDigits = s.fracEnd &- s.fracStart
                if (s.intEnd &- s.intStart) &+ fracDigits <= 15 {
                    // Below 10^15, so exact as a Double, and converted as signed (one
                    // instruction; an unsigned conversion is six).
                    var d = Double(Int64(bitPattern: s.mantissa)) / exactPowersOfTen[fracDigits]
                    if s.negative { d = -d }
                    var end = s.fracEnd
                    while end > s.fracStart &+ 1 && p[end &- 1] == 0x30 { end &-= 1 }
                    return FieldValue(kind: .number, text: InlineText.make(p, end, knownASCII: true), number: d)
                }
                return slowValue(p, n)
            }
            // Significant digits: skip the leading zeros of "0.000123".
            var firstSig = s.intStart
            var fracLeadingZeros = 0
            if p[s.intStart] == 0x30 {
                firstSig = s.fracStart
                while firstSig < s.fracEnd && p[firstSig] == 0x30 { firstSig &+= 1 }
                fracLeadingZeros = firstSig - s.fracStart
            }
            let fracDigits = s.fracEnd - s.fracStart
            let sigDigits = (s.intEnd - s.intStart) + fracDigits - (firstSig <= s.intStart ? 0 : (firstSig - s.intStart - 1))
            if firstSig < s.fracEnd && sigDigits <= 15 && fracDigits <= 22 {
                // Leading zeros add nothing, so <= 15 significant digits means the mantissa is exact.
                var d = Double(s.mantissa) / exactPowersOfTen[fracDigits]
                if s.negative { d = -d }
                // Below 1e-4 Swift switches to exponent form; the integer part has at most 15
                // digits here, so the value is below 1e15. Within that band, <= 15 significant
                // digits always round-trip and no shorter text does, so Swift's shortest text is
                // the input with the fraction's trailing zeros removed.
                if p[s.intStart] != 0x30 || fracLeadingZeros <= 3 {
                    var end = s.fracEnd
                    while end > s.fracStart + 1 && p[end - 1] == 0x30 { end &-= 1 }
                    let text = InlineText.make(p, end, knownASCII: true)
                    return FieldValue(kind: .number, text: text, number: d)
                }
                return FieldValue(kind: .number, text: d.description, number: d)
            }
        }
        return slowValue(p, n)
    }

    /// The value of a number `eddy_read_short_number` read: the one `value` gives.
    @inline(__always)
    static func shortValue(_ number: eddy_short_number) -> FieldValue {
        // Dividing an integer by 10^0 leaves it as it is, and a negative fraction's value is
        // the negated one of its magnitude (the rounding is symmetric; -0 is not read there),
        // so integers and fractions need no branch between them.
        let text = InlineText.makeASCII(words: (number.text_low, number.text_high), count: number.text_length)
        return FieldValue(kind: .number, text: text,
                          number: Double(number.value) / eddy_exact_power_of_ten(number.fraction_digits),
                          integer: number.fraction_digits == 0 ? number.value : nil)
    }

    /// Exact Int64 for integer digits, nil when out of range.
    @inline(always)
    static func integerValue(_ p: UnsafePointer<UInt8>, _ s: Shape) -> Int64? {
        let digits = s.intEnd - s.intStart
        if digits <= 18 {
            let v = Int64(s.mantissa)
            return s.negative ? -v : v
        }
        guard digits == 19 else { return nil }
        // 19 digits fit a UInt64; check against the Int64 bounds there.
        let u = s.mantissa
        if s.negative {
            if u == UInt64(Int64.max) + 1 { return Int64.min }
            return u <= UInt64(Int64.max) ? -Int64(u) : nil
        }
        return u <= UInt64(Int64.max) ? Int64(u) : nil
    }

    /// An integer past Int64 keeps its digits as its text: a key, a `max` or a carried column
    /// prints it exactly, and two such integers that round to one double stay two keys.
    /// Arithmetic (sums, averages) takes its nearest double.
    static func bigInteger(_ p: UnsafePointer<UInt8>, _ n: Int) -> FieldValue? {
        guard let rounded = slowValue(p, n) else { return nil }
        return FieldValue(kind: .number, text: String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self), number: rounded.number)
    }

    /// Correctly rounded parse through the standard library (locale-independent, unlike strtod).
    static func slowValue(_ p: UnsafePointer<UInt8>, _ n: Int) -> FieldValue? {
        let text = String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { return nil }
        return FieldValue(kind: .number, text: d.description, number: d)
    }

    /// Shortest round-trip text (Swift's `description`); JSON has no NaN or infinity, so those
    /// become `null`.
    public static func format(_ d: Double) -> String {
        d.isFinite ? d.description : "null"
    }

    /// Appends `d`'s shortest round-trip text (`description`'s), or `null` when not finite.
    ///
    /// Inlined with only the short-decimal case (most sums and averages of amounts), tested
    /// first: it needs no test for infinities or NaN (which it refuses) nor for integral
    /// values (which it prints as the integer path does, `n.0`), and no stack frame; the
    /// other cases are a call.
    @inline(__always)
    static func append(_ d: Double, to out: ByteBuffer) {
        if let scaled = shortDecimal(d) { return appendDecimal(scaled, to: out) }
        appendNoShortDecimal(d, to: out)
    }

    /// `append` for a double that is no short decimal (`shortDecimal`), or not finite.
    @inline(never)
    static func appendNoShortDecimal(_ d: Double, to out: ByteBuffer) {
        // A number with a fraction (most averages) first: `ShortestFraction` refuses what is
        // not finite, and prints an integral value as the integer path below does (`n.0`).
        if let shortest = ShortestFraction.digits(d.magnitude) {
            // The shortest decimal lies strictly between the midpoints to `d`'s neighbours,
            // and the integers around `d` are doubles too, so its integer part is `d`'s.
            appendFraction(shortest.digits, fractionDigits: shortest.fractionDigits,
                           integer: shortest.integer, negative: d.sign == .minus, to: out)
            return
        }
        guard d.isFinite else {
            out.append(contentsOf: nullBytes)
            return
        }
        // Integral doubles below 1e15 print as digits plus ".0". Truncated by a conversion
        // (in range, so exact) rather than `Int64(exactly:)`, whose `rounded(.towardZero)`
        // was a call into libm per number.
        if d.magnitude < 1e15, case let i = Int64(d), Double(i) == d, d != 0 || d.sign == .plus {
            appendDigits(i.magnitude * 10, fractionDigits: 1, negative: i < 0, to: out)
            return
        }
        ShortestDouble.append(d, to: out)
    }

    /// `d` times 10^4 as an exact integer when the decimal with at most 4 fraction digits
    /// (and at most 15 significant digits) it names is the one `d` is nearest to: then it is
    /// the shortest round-trip text too, since two decimals of 15 significant digits or
    /// fewer never round to the same double. Sums of money amounts land here, which saves
    /// the general shortest-digits search (~600 instructions a number, twice per event on
    /// a job with a sum and an average).
    @inline(__always)
    static func shortDecimal(_ d: Double) -> Int64? {
        let scaled = d * 1e4
        guard scaled.magnitude < 1e15, d.magnitude >= 1e-4 else { return nil }
        // Rounded to an integer by adding and removing 1.5 * 2^52, which leaves no fraction
        // bits below 2^51 (`rounded()` was a call into libm per number). Ties go to even, not
        // away from zero: either way a tie is no 4-digit decimal, and the check below fails.
        let shifted = scaled + 0x1.8p52
        let rounded = shifted - 0x1.8p52
        // An exact integer below 2^53 divided by an exact power of ten is correctly rounded.
        guard rounded / 1e4 == d else { return nil }
        // The integer is in the low bits of the sum's bit pattern (|scaled| < 2^51 keeps its
        // exponent at 52): `Int64(rounded)` added range checks to the conversion.
        return Int64(bitPattern: shifted.bitPattern) &- Int64(bitPattern: (0x1.8p52 as Double).bitPattern)
    }

    /// Writes `scaled / 10^4` as decimal text without trailing fraction zeros (one zero for an
    /// integer, though integers print as `n.0` through the integer path).
    ///
    /// The four fraction digits are built as one little-endian word, tens and units of both
    /// pairs in 16-bit lanes at once, and stored whole: the trailing zeros are the word's zero
    /// bytes at the top, so the text's length is known without the loop that divided them off
    /// one by one (the slack past the reserved room takes the bytes after a shorter fraction).
    /// An integer part below 10^4 (nearly all sums and averages of amounts) is built the same
    /// way in the word below and stored with its leading zero bytes shifted out; the point and
    /// the fraction are stored over what lies past its digits. On the card job (1.6 such
    /// numbers an event) the fraction's word took 82 instructions an event off the division
    /// loop and the pair loop (with `shortDecimal`'s conversion), the integer's word 31 more.
    /// (Session 11 had found a fraction word no cheaper; it still stripped digits in a loop.)
    @inline(__always)
    static func appendDecimal(_ scaled: Int64, to out: ByteBuffer) {
        let magnitude = scaled.magnitude
        let sign = scaled < 0 ? 1 : 0
        if magnitude < 100_000_000 {
            // Divided as 32 bits: a 32-bit reciprocal's multiply, no full-width one.
            let magnitude32 = UInt32(truncatingIfNeeded: magnitude)
            let integer = UInt64(magnitude32 / 10_000)
            let fraction = magnitude &- integer &* 10_000
            let digits = fourDigitWords(integer | fraction &<< 32)
            let integerWord = UInt32(truncatingIfNeeded: digits)
            let fractionWord = UInt32(truncatingIfNeeded: digits &>> 32)
            // The leading zeros are the zero bytes at the bottom, in bits; the top byte stays
            // for an integer part of 0.
            let leadingZeroBits = (integerWord | 0x0100_0000).trailingZeroBitCount & ~7
            let point = sign &+ 4 &- leadingZeroBits &>> 3
            let length = point &+ 1 &+ fractionDigits(fractionWord)
            out.append(reserving: length) { target in
                eddy_store_32(target + sign, (integerWord | 0x3030_3030) &>> UInt32(leadingZeroBits))
                target[point] = 0x2E
                eddy_store_32(target + (point &+ 1), fractionWord | 0x3030_3030)
                if scaled < 0 { target[0] = 0x2D }
                return length
            }
            return
        }
        let integer = magnitude / 10_000
        let fraction = magnitude &- integer &* 10_000
        let fractionWord = UInt32(truncatingIfNeeded: fourDigitWords(fraction))
        let integerDigits = digitCount(integer)
        let point = sign &+ integerDigits
        let length = point &+ 1 &+ fractionDigits(fractionWord)
        out.append(reserving: length) { target in
            _ = writeDigits(integer, count: integerDigits, endingAt: point, in: target)
            target[point] = 0x2E
            eddy_store_32(target + (point &+ 1), fractionWord | 0x3030_3030)
            if scaled < 0 { target[0] = 0x2D }
            return length
        }
    }

    /// Writes `digits` with a point before the last `fractionDigits` (1...19) of them, whose
    /// integer part is `integer`: the shortest digits of a double with a fraction, mostly 16
    /// or 17 of them (sums and averages that are no short decimal). The digits go eight at a
    /// time (`eightDigitWord`) instead of two: the integer part's word first, its leading
    /// zero bytes shifted out, then the point, then the fraction's words from the left, each
    /// store overwriting what the one before it wrote past its digits (the buffer's slack
    /// takes the bytes past the end). The pair loop took ~7 steps of 18 instructions for a
    /// 17-digit number; on the card job (0.38 such numbers an event) this took 16.8
    /// instructions an event off.
    @inline(__always)
    static func appendFraction(_ digits: UInt64, fractionDigits: Int, integer: UInt64, negative: Bool, to out: ByteBuffer) {
        let fraction = digits &- integer &* powerOfTen(fractionDigits)
        let sign = negative ? 1 : 0
        // Below 10^4 (most sums and averages) the integer is the word's second half alone,
        // with no division by 10^4 to split it.
        let integerWord = integer < 10_000 ? fourDigitWords(integer &<< 32) : eightDigitWord(integer)
        // Below 10^8 the integer's digits are one word; the leading zeros are its zero bytes
        // at the bottom, in bits (the top byte stays for an integer part of 0).
        let leadingZeroBits = (integerWord | 1 &<< 56).trailingZeroBitCount & ~7
        let integerDigits = integer < 100_000_000 ? 8 &- leadingZeroBits &>> 3 : digitCount(integer)
        let point = sign &+ integerDigits
        let length = point &+ 1 &+ fractionDigits
        out.append(reserving: length) { target in
            if integer < 100_000_000 {
                eddy_store_64(target + sign, (integerWord | 0x3030_3030_3030_3030) &>> UInt64(leadingZeroBits))
            } else {
                _ = writeDigits(integer, count: integerDigits, endingAt: point, in: target)
            }
            target[point] = 0x2E
            let first = target + (point &+ 1)
            // The fraction's first 1...8 digits, then whole words of eight. 9 to 16 digits
            // (most sums and averages) first, on a path of their own: one test, where the
            // general one below dispatched on the words twice.
            if UInt(bitPattern: fractionDigits &- 9) < 8 {
                let leading = fractionDigits &- 8
                let top = fraction / 100_000_000, rest = fraction % 100_000_000
                eddy_store_64(first, (eightDigitWord(top) | 0x3030_3030_3030_3030) &>> UInt64(truncatingIfNeeded: 64 &- leading &* 8))
                eddy_store_64(first + leading, eightDigitWord(rest) | 0x3030_3030_3030_3030)
                if negative { target[0] = 0x2D }
                return length
            }
            let words = (fractionDigits &- 1) &>> 3
            let leading = fractionDigits &- words &* 8
            let top: UInt64, rest: UInt64
            switch words {
            case 0: (top, rest) = (fraction, 0)
            case 1: (top, rest) = (fraction / 100_000_000, fraction % 100_000_000)
            default: (top, rest) = (fraction / 10_000_000_000_000_000, fraction % 10_000_000_000_000_000)
            }
            eddy_store_64(first, (eightDigitWord(top) | 0x3030_3030_3030_3030) &>> UInt64(truncatingIfNeeded: 64 &- leading &* 8))
            if words == 1 {
                eddy_store_64(first + leading, eightDigitWord(rest) | 0x3030_3030_3030_3030)
            } else if words == 2 {
                eddy_store_64(first + leading, eightDigitWord(rest / 100_000_000) | 0x3030_3030_3030_3030)
                eddy_store_64(first + (leading &+ 8), eightDigitWord(rest % 100_000_000) | 0x3030_3030_3030_3030)
            }
            if negative { target[0] = 0x2D }
            return length
        }
    }

    /// The eight decimal digits of `value` (below 10^8, leading zeros included) as bytes
    /// 0...9, the first in the lowest byte.
    @inline(__always)
    static func eightDigitWord(_ value: UInt64) -> UInt64 {
        // Divided as 32 bits (10^8 < 2^32): a multiply by a 32-bit reciprocal, where the
        // 64-bit one took a full-width multiply and its register moves. (appendFraction also
        // calls this for an integer part of 10^8 or more, and drops the result.)
        let value32 = UInt32(truncatingIfNeeded: value)
        let high = value32 / 10_000
        return fourDigitWords(UInt64(high) | UInt64(value32 &- high &* 10_000) &<< 32)
    }

    /// The four decimal digits of each 32-bit half of `halves` (each below 10^4) as bytes
    /// 0...9, the first digit in the lowest byte of its half: both halves split into pairs
    /// (x * 5243 >> 19 is x / 100 below 43,699), then every 16-bit lane into tens and units
    /// (x * 103 >> 10 is x / 10 up to 178). No lane's product reaches the bits of the lane
    /// below it that are kept. Each lane's quotient q and remainder x - 100q (or 10q) are put
    /// side by side as `x << 16 + q * (1 - 100 << 16)`: one multiply by a 32-bit immediate and
    /// an add where the remainder's multiply, subtract, shift and or took five instructions
    /// (no lane's result is negative or past its lane, so the wrapping sum is exact).
    @inline(__always)
    static func fourDigitWords(_ halves: UInt64) -> UInt64 {
        let hundreds = ((halves &* 5243) &>> 19) & 0x0000_007F_0000_007F
        let pairs = halves &<< 16 &+ hundreds &* UInt64(bitPattern: 1 - 100 << 16)
        let tens = ((pairs &* 103) &>> 10) & 0x000F_000F_000F_000F
        return pairs &<< 8 &+ tens &* UInt64(bitPattern: 1 - 10 << 8)
    }

    /// The fraction digits to print from a four-digit word (`fourDigitWords`): 4 less its
    /// trailing zeros, the zero bytes at the top; 1 for a fraction of 0 (`| 1`, which also
    /// spares the count a zero input).
    @inline(__always)
    static func fractionDigits(_ word: UInt32) -> Int {
        4 &- (word | 1).leadingZeroBitCount &>> 3
    }

    /// Writes `magnitude`'s digits, with a point before the last `fractionDigits` of them
    /// (at least one digit before it), straight into the buffer from the last byte back, two
    /// digits at a time: the text's length is known first from the number of digits. Built
    /// on the stack and copied from there, the copy's wide load waited for the byte stores
    /// before it to retire (a store-to-load forwarding stall: ~5% of the card job's time,
    /// which writes two such numbers per event).
    @inline(__always)
    private static func appendDigits(_ magnitude: UInt64, fractionDigits: Int, negative: Bool, to out: ByteBuffer) {
        let sign = negative ? 1 : 0
        let integerDigits = max(digitCount(magnitude) &- fractionDigits, 1)
        let length = sign &+ integerDigits &+ (fractionDigits > 0 ? 1 &+ fractionDigits : 0)
        out.append(reserving: length) { target in
            var end = length
            var rest = magnitude
            if fractionDigits > 0 {
                rest = writeDigits(rest, count: fractionDigits, endingAt: end, in: target)
                end &-= fractionDigits &+ 1
                target[end] = 0x2E
            }
            _ = writeDigits(rest, count: integerDigits, endingAt: end, in: target)
            if negative { target[0] = 0x2D }
            return length
        }
    }

    /// Writes the last `count` digits of `value` to end just before `target[end]`, two at a
    /// time; returns what is left of `value` before them.
    @inline(__always)
    private static func writeDigits(_ value: UInt64, count: Int, endingAt end: Int, in target: UnsafeMutablePointer<UInt8>) -> UInt64 {
        var rest = value
        var position = end
        var left = count
        while left >= 2 {
            position &-= 2
            UnsafeMutableRawPointer(target + position).storeBytes(of: digitPair(rest % 100), as: UInt16.self)
            rest /= 100
            left &-= 2
        }
        if left == 1 {
            target[position &- 1] = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        return rest
    }

    /// The digits of `pair` (0...99) as the two bytes of a little-endian UInt16.
    @inline(__always)
    private static func digitPair(_ pair: UInt64) -> UInt16 {
        let tens = pair / 10
        return UInt16(truncatingIfNeeded: 0x3030 | tens | (pair &- tens &* 10) << 8)
    }

    /// The number of decimal digits of `value` (1 for 0): its bit length times log10(2),
    /// corrected by one comparison.
    @inline(__always)
    static func digitCount(_ value: UInt64) -> Int {
        // `value | 1`: 0 has one digit, as 1 has; `| 1` changes only even numbers, and the
        // number before a power of ten is odd, so no count changes.
        let atLeastOne = value | 1
        let estimate = ((64 &- atLeastOne.leadingZeroBitCount) &* 1233) >> 12
        return estimate &+ (atLeastOne >= powerOfTen(estimate) ? 1 : 0)
    }

    /// `10^k` for k in 0...19 (`eddy_power_of_ten`'s table).
    @inline(__always)
    static func powerOfTen(_ k: Int) -> UInt64 {
        precondition(UInt(bitPattern: k) < 20, "10^\(k) is past UInt64")
        return eddy_power_of_ten(k)
    }

    /// Appends `i`'s digits. Inlined with only the case of one digit (most counts), a store
    /// of one byte; the others are a call.
    @inline(__always)
    static func append(_ i: Int64, to out: ByteBuffer) {
        let value = UInt64(bitPattern: i)
        guard value < 10 else { return appendInteger(i, to: out) }
        out.append(0x30 | UInt8(truncatingIfNeeded: value))
    }

    /// `append(Int64)` past 9, or negative: two digits (larger counts) as one 16-bit word.
    /// Longer numbers are a call of their own, so that this path saves no registers (it
    /// pushed and popped six for the general one's sake: 16 of its 38 instructions).
    @inline(never)
    static func appendInteger(_ i: Int64, to out: ByteBuffer) {
        let value = UInt64(bitPattern: i)
        guard value < 100 else { return appendLongInteger(i, to: out) }
        out.append(reserving: 2) { target in
            UnsafeMutableRawPointer(target).storeBytes(of: digitPair(value), as: UInt16.self)
            return 2
        }
    }

    /// `appendInteger` past 99, or negative. 9 to 16 digits (epoch times in milliseconds, as
    /// window bounds are) go as two eight-digit words (`eightDigitWord`), the first with its
    /// leading zeros shifted out, where the pair loop took ~7 steps of 18 instructions.
    @inline(never)
    private static func appendLongInteger(_ i: Int64, to out: ByteBuffer) {
        let magnitude = i.magnitude
        guard magnitude >= 100_000_000, magnitude < 10_000_000_000_000_000 else {
            return appendDigits(magnitude, fractionDigits: 0, negative: i < 0, to: out)
        }
        let high = magnitude / 100_000_000
        let highWord = eightDigitWord(high)
        let lowWord = eightDigitWord(magnitude &- high &* 100_000_000)
        // `high` is not 0: its leading zeros are the zero bytes at the bottom, in bits.
        let leadingZeroBits = highWord.trailingZeroBitCount & ~7
        let sign = i < 0 ? 1 : 0
        let highDigits = 8 &- leadingZeroBits &>> 3
        let length = sign &+ highDigits &+ 8
        out.append(reserving: length) { target in
            eddy_store_64(target + sign, (highWord | 0x3030_3030_3030_3030) &>> UInt64(leadingZeroBits))
            eddy_store_64(target + (sign &+ highDigits), lowWord | 0x3030_3030_3030_3030)
            if i < 0 { target[0] = 0x2D }
            return length
        }
    }

    private static let nullBytes: [UInt8] = Array("null".utf8)
}
