import Testing
@testable import Eddy

/// Runs `body` over the UTF-8 bytes of `text` as a raw buffer.
func withBytes<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBytes(body)
}

func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) -> R) -> R {
    bytes.withUnsafeBytes(body)
}

func number(_ text: String) -> FieldValue? {
    withBytes(text) { NumberText.parse($0) }
}

func scanJSON(_ record: String, _ fields: [String]) -> (values: [FieldValue], problem: RecordProblem?) {
    var scanner = JSONObjectScanner(fieldNames: fields)
    var values = Array(repeating: FieldValue.missing, count: fields.count)
    let problem = withBytes(record) { scanner.scan($0, into: &values) }
    return (values, problem)
}

func jsonProblem(_ record: String) -> RecordProblem? {
    scanJSON(record, ["a"]).problem
}

func str(_ text: String) -> FieldValue { FieldValue(kind: .string, text: text) }
func int(_ v: Int64) -> FieldValue { FieldValue(kind: .number, text: String(v), number: Double(v), integer: v) }
func dbl(_ text: String, _ v: Double) -> FieldValue { FieldValue(kind: .number, text: text, number: v) }
