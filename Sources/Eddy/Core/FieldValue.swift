/// The kind of a value read from one input field.
public enum ValueKind: UInt8, Sendable {
    /// The field is absent from the record.
    case missing
    /// JSON `null`, or an empty CSV cell.
    case null
    case bool
    case number
    case string
    /// A JSON object or array, kept as text.
    case json

    /// Missing or null: what aggregates skip.
    @inlinable public var isAbsent: Bool { self == .missing || self == .null }
}

/// One field of one input record, parsed once and carried to the operators.
///
/// `text` is the canonical JSON text of the value, which is what eddy writes out and what
/// distinct counts and histograms compare:
/// - strings: quoted, escapes decoded and re-encoded minimally (`"\u0041"` becomes `"A"`);
/// - numbers: integers as plain digits, as written (`-0` becomes `0`), also past Int64;
///   other numbers in shortest round-trip form (`20.10` becomes `20.1`, `1E3` becomes
///   `1000.0`);
/// - `true`, `false`, `null`; objects and arrays as in the input, outer whitespace trimmed.
/// For `missing` the text is empty.
public struct FieldValue: Sendable, Equatable {
    // Declared widest first: Swift lays stored properties out in this order, and the kind
    // first padded it to 8 bytes (48 bytes a value; 40 this way). Every event moves a
    // value per field into the pending queue and out again.
    public var text: String
    /// For numbers: the value as a Double (also set for integers).
    public var number: Double
    /// For numbers written as integers that fit Int64: the exact value.
    public var integer: Int64?
    public var kind: ValueKind

    public init(kind: ValueKind, text: String, number: Double = 0, integer: Int64? = nil) {
        self.kind = kind
        self.text = text
        self.number = number
        self.integer = integer
    }

    public static let missing = FieldValue(kind: .missing, text: "")
    public static let null = FieldValue(kind: .null, text: "null")

    /// True when the value is absent or null: aggregates skip it, as SQL does.
    @inlinable public var isAbsent: Bool { kind.isAbsent }

    /// Where the text of the value at `value` is stored, for reading it in place.
    @inline(__always)
    static func textAddress(_ value: UnsafePointer<FieldValue>) -> UnsafePointer<String> {
        (UnsafeRawPointer(value) + MemoryLayout<FieldValue>.offset(of: \.text)!).assumingMemoryBound(to: String.self)
    }

    /// Replaces the value at `destination` with a copy of the one at `source`: when both
    /// texts are inline (own nothing), byte for byte, without the runtime calls of a copy.
    @inline(__always)
    static func assign(_ destination: UnsafeMutablePointer<FieldValue>, from source: UnsafePointer<FieldValue>) {
        if InlineText.isInline(at: textAddress(destination)) && InlineText.isInline(at: textAddress(source)) {
            // Every other stored property is trivial.
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: MemoryLayout<FieldValue>.size)
        } else {
            destination.pointee = source.pointee
        }
    }

    /// Replaces the value at `destination` with `value`. An assignment releases the old text
    /// through a runtime call even when it is stored inline and owns nothing (the scanner
    /// overwrites every field of every record); such an old value is simply written over.
    @inline(__always)
    static func overwrite(_ destination: UnsafeMutablePointer<FieldValue>, with value: consuming FieldValue) {
        if InlineText.isInline(at: textAddress(destination)) {
            // Every other stored property is trivial: nothing else is left unreleased.
            destination.initialize(to: value)
        } else {
            destination.pointee = value
        }
    }
}
