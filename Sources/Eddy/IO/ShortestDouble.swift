/// A double's shortest round-trip text (exactly `Double.description`'s) written straight
/// into a byte buffer.
///
/// `description` builds a `String`: for the 16 to 24 characters most fractions need, that is
/// a heap allocation and an atomic release per number (a job with an average formats one per
/// event). The standard library's formatter is also exported by the runtime under its C name
/// `swift_float64ToString(buffer, length, value, debug)`, which writes into a caller's buffer
/// and returns the text's length. This Swift's version of it expects the buffer to be
/// filled with ASCII `0` beforehand, as `description` fills its own (padding zeros, like the
/// `0` of `0.25`, are not written, only left in place), so the room is filled first.
///
/// The entry point is the runtime's ABI, not a documented API: `verify()` compares it with
/// `description` before a run, and a difference sends every number through `description`,
/// so a different runtime costs speed, never correctness.
enum ShortestDouble {
    /// Bytes the formatter may touch: it asks for at least 32; the longest text is 24.
    static let room = 40

    /// Whether the runtime's formatter is used. A constant initial value, so reading it is a
    /// plain load; `verify()` checks it before a run starts.
    nonisolated(unsafe) private(set) static var usesRuntime = true

    /// Checks the runtime's formatter against `description`, and stops using it for good if
    /// they differ on any sample. Called once, before any thread formats numbers.
    static func verify() {
        if usesRuntime && !runtimeMatchesDescription() { usesRuntime = false }
    }

    /// Whether the runtime's formatter writes `description`'s text for a spread of values:
    /// fractions below one (whose leading zero is padding), long fractions, integers, large
    /// and tiny magnitudes in both notations, subnormals and negative zero.
    static func runtimeMatchesDescription() -> Bool {
        var samples: [Double] = [
            0.0, -0.0, 1.0, -2.5, 0.1, 0.25, 1.0 / 3, -2.0 / 3, 0.000123, 0.0001, 0.00001234,
            37.305, 123456.789, 1e15, 1e16, 9007199254740994, 1e22, 1.7976931348623157e308,
            .leastNonzeroMagnitude, 2.2250738585072014e-308, 100.0, 1000.5, 0.001, 1e-7, 4.35e-5,
        ]
        // A fixed pseudo-random spread of bit patterns (splitmix64), the same every run.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            let value = Double(bitPattern: z ^ (z >> 31))
            if value.isFinite { samples.append(value) }
        }
        var buffer = [UInt8](repeating: 0, count: room)
        return buffer.withUnsafeMutableBufferPointer { buffer in
            samples.allSatisfy { value in
                let length = runtimeWrite(value, to: buffer.baseAddress!)
                // A runtime that claims more than the room is not the one this expects.
                guard length <= buffer.count else { return false }
                return Array(buffer[0..<length]) == Array(value.description.utf8)
            }
        }
    }

    /// Writes `value`'s text at `p`, which has `room` bytes; returns its length.
    @inline(__always)
    private static func runtimeWrite(_ value: Double, to p: UnsafeMutablePointer<UInt8>) -> Int {
        let raw = UnsafeMutableRawPointer(p)
        for offset in stride(from: 0, to: room, by: 8) {
            raw.storeBytes(of: 0x3030_3030_3030_3030 as UInt64, toByteOffset: offset, as: UInt64.self)
        }
        return Int(truncatingIfNeeded: runtimeFormat(p, UInt(room), value, false))
    }

    /// Appends a finite `value`'s shortest round-trip text (`description`'s) to `out`.
    @inline(__always)
    static func append(_ value: Double, to out: ByteBuffer) {
        guard usesRuntime else { return out.appendUTF8(value.description) }
        out.append(reserving: room) { runtimeWrite(value, to: $0) }
    }
}

/// The runtime's formatter behind `Double.description` (see `ShortestDouble`).
@_silgen_name("swift_float64ToString")
private func runtimeFormat(_ buffer: UnsafeMutablePointer<UInt8>, _ length: UInt, _ value: Double, _ debug: Bool) -> UInt64
