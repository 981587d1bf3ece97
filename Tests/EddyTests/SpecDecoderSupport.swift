@testable import Eddy

// Shared helpers for the Spec*Tests: build small specs from fragments and read back either
// the decoded spec or its error list as `path: message` lines.

/// A valid minimal job with pieces swapped in; `extra` members go last so tests control
/// where their finding sits in document order.
func specJob(
    _ extra: String = "", code: String = #""j""#, keys: String = #"["k"]"#,
    dict: String = #"[{"name": "n", "operator": "count"}]"#
) -> String {
    #"{"code": \#(code), "keys": \#(keys), "dict": \#(dict)\#(extra.isEmpty ? "" : ", " + extra)}"#
}

/// A job with event time and one feature entry.
func specFeature(_ entry: String, root: String = #""time": "ts""#) -> String {
    specJob(root, dict: "[\(entry)]")
}

func specDecode(_ json: String) throws(SpecErrors) -> (spec: JobSpec, warnings: [SpecDiagnostic]) {
    try JobSpec.decode(Array(json.utf8))
}

/// The errors as `path: message`, or `[]` when the spec is valid.
func specErrors(_ json: String) -> [String] {
    do {
        _ = try specDecode(json)
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}
