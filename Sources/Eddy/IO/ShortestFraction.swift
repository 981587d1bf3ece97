/// The shortest decimal that reads back as a given double, for doubles with a fraction
/// between 1e-4 and 1e15 (averages, sums of amounts): the digits `Double.description`
/// prints, found with exact 128-bit integer arithmetic instead of the runtime's general
/// routine, whose call took ~870 instructions a number (one in three card-job events needs
/// one): 44 fewer instructions per event, digits included.
///
/// A double `d = m * 2^e` (53-bit `m`, `e < 0` for a number with a fraction) reads back from
/// every decimal strictly between its neighbours' midpoints, `(2m - 1) / 2^s` and
/// `(2m + 1) / 2^s` with `s = 1 - e`. The decimals with `k` fraction digits in that interval
/// are the integers from `ceil(low * 10^k)` to `floor(high * 10^k)`; the fewest digits is
/// the smallest `k` for which that range is not empty, and of its decimals the one nearest
/// to `d` is printed. A midpoint is never itself such a decimal (whether it reads back
/// would depend on `m`'s parity): `(2m ± 1) * 10^k` holds exactly `k` factors of two, and
/// `k < s` here. Two decimals equally near to `d` depend on a convention rather than on
/// arithmetic, and are left to the runtime; so are powers of two, whose lower neighbour is
/// nearer than the upper.
enum ShortestFraction {
    /// The digits of the shortest decimal that reads back as `magnitude` and the number of
    /// them after the point (at least 1), with `magnitude`'s integer part; nil when
    /// `magnitude` is outside `[1e-4, 1e15)` (or not a number), is a power of two, needs 20
    /// fraction digits, or lies halfway between two shortest decimals. An integral
    /// `magnitude` gets its digits and one zero after the point.
    @inline(__always)
    static func digits(_ magnitude: Double) -> (digits: UInt64, fractionDigits: Int, integer: UInt64)? {
        guard magnitude >= 1e-4, magnitude < 1e15 else { return nil }
        let bits = magnitude.bitPattern
        let fraction = bits & (1 << 52 - 1)
        guard fraction != 0 else { return nil }
        // magnitude = m * 2^e; below 1e15 e <= -3, at or above 1e-4 e >= -66.
        let twiceM = (fraction | 1 << 52) << 1
        let e = Int(bits >> 52) &- 1075
        guard e < 0 else { return nil }
        let s = 1 &- e
        // From 1 up (s <= 53) the shifts by s below stay within one word of the 128-bit
        // products: written for that case, they take a double shift each, not the branchless
        // selections of a general 128-bit shift (~20 instructions a number).
        return s < 64 ? search(twiceM: twiceM, s: s, narrow: true) : search(twiceM: twiceM, s: s, narrow: false)
    }

    /// `digits` for `m * 2^e` with `twiceM` = 2m and `s` = 1 - e, `narrow` when `s < 64`.
    @inline(__always)
    private static func search(twiceM: UInt64, s: Int, narrow: Bool) -> (digits: UInt64, fractionDigits: Int, integer: UInt64)? {
        /// The low word of `x >> s`.
        @inline(__always) func shifted(_ x: UInt128) -> UInt64 {
            guard narrow else { return UInt64(truncatingIfNeeded: x &>> s) }
            let low = UInt64(truncatingIfNeeded: x)
            let high = UInt64(truncatingIfNeeded: x &>> 64)
            return low &>> UInt64(s) | high &<< UInt64(64 &- s)
        }
        // The interval is 2^e wide, so it holds a decimal of k digits once 10^-k <= 2^e,
        // that is 10^k >= 2^(s - 1): log10(2) ~ 78913 / 2^18 estimates k from below.
        var k = ((s &- 1) &* 78913) >> 18
        if (!narrow && s &- 1 >= 64) || NumberText.powerOfTen(k) < UInt64(1) << (s &- 1) { k &+= 1 }
        guard k <= 19 else { return nil }
        // 2m * 10^k and the interval's ends around it, (2m -+ 1) * 10^k, all scaled by 2^s.
        @inline(__always) func scaled(_ k: Int) -> (exact: UInt128, low: UInt128, high: UInt128) {
            let power = NumberText.powerOfTen(k)
            let (high, low) = twiceM.multipliedFullWidth(by: power)
            let exact = UInt128(high) &<< 64 | UInt128(low)
            return (exact, exact &- UInt128(power), exact &+ UInt128(power))
        }
        var bounds = scaled(k)
        // The low end is no decimal of k digits (above), so its ceiling is its floor plus one.
        var first = shifted(bounds.low) &+ 1
        var last = shifted(bounds.high)
        guard first <= last else { return nil }
        // One digit fewer keeps the decimals of this range that end in 0, divided by ten:
        // there are some when the last one's multiple of ten is in the range, which takes one
        // division where comparing both ends divided took two (most numbers have none).
        let longest = k
        while k > 1 {
            let shorterLast = last / 10
            guard shorterLast &* 10 >= first else { break }
            first = (first &+ 9) / 10
            last = shorterLast
            k &-= 1
        }
        if k != longest { bounds = scaled(k) }
        // The decimal nearest to m * 2^e * 10^k, within the range: the remainder below 2^s
        // against half of it.
        let roundsUp: Bool
        if narrow {
            // The remainder's s bits moved to the top of a word, where half is 2^63: no masks
            // to build (~4 instructions).
            let remainderBits = UInt64(truncatingIfNeeded: bounds.exact) &<< UInt64(64 &- s)
            guard remainderBits != 1 << 63 else { return nil }
            roundsUp = remainderBits > 1 << 63
        } else {
            let remainder = bounds.exact & (UInt128(1) &<< s &- 1)
            let half = UInt128(1) &<< (s &- 1)
            guard remainder != half else { return nil }
            roundsUp = remainder > half
        }
        let nearest = shifted(bounds.exact) &+ (roundsUp ? 1 : 0)
        // The integer part of m * 2^e = 2m / 2^s (none from 2^-64 down).
        let integer = narrow ? twiceM &>> UInt64(s) : 0
        return (min(max(nearest, first), last), k, integer)
    }
}
