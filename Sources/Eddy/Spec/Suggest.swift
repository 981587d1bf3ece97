/// "Did you mean" for spec keys and enumerated values.
public enum Suggest {
    /// The candidate closest to `input` by edit distance, ignoring case, or nil when none is
    /// close enough to be a plausible typo. Close enough: distance <= max(1, n / 3) where n
    /// is the longer of the two lengths, so short words allow one slip and long ones more,
    /// while unrelated words (`foo` vs `sum`) get no suggestion. Ties go to the earlier
    /// candidate, so callers list candidates in their preferred order.
    public static func closest(to input: String, in candidates: [String]) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let d = distance(input, candidate)
            let limit = max(1, max(input.count, candidate.count) / 3)
            guard d <= limit else { continue }
            if best == nil || d < best!.distance { best = (candidate, d) }
        }
        return best?.candidate
    }

    /// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions, so
    /// `feild` is one edit from `field`), case-insensitive, over Characters.
    public static func distance(_ a: String, _ b: String) -> Int {
        let s = Array(a.lowercased())
        let t = Array(b.lowercased())
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        // Three rows suffice: the transposition step looks back two rows.
        var previous2 = [Int](repeating: 0, count: t.count + 1)
        var previous = Array(0...t.count)
        var current = [Int](repeating: 0, count: t.count + 1)
        for i in 1...s.count {
            current[0] = i
            for j in 1...t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[t.count]
    }
}
