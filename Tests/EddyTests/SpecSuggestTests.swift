import Testing
@testable import Eddy

@Suite struct SpecSuggestions {
    @Test func distanceCountsTranspositionsAsOneEdit() {
        #expect(Suggest.distance("feild", "field") == 1)
        #expect(Suggest.distance("summ", "sum") == 1)
        #expect(Suggest.distance("kitten", "sitting") == 3)
        #expect(Suggest.distance("", "abc") == 3)
        #expect(Suggest.distance("Sum", "sum") == 0)  // case is ignored
    }

    @Test func suggestsTheClosestPlausibleCandidate() {
        let operators = FeatureOperator.allCases.map(\.rawValue)
        #expect(Suggest.closest(to: "summ", in: operators) == "sum")
        #expect(Suggest.closest(to: "COUNT", in: operators) == "count")
        #expect(Suggest.closest(to: "countdistinct", in: operators) == "count_distinct")
        #expect(Suggest.closest(to: "timeunit", in: ["time", "timeUnit"]) == "timeUnit")
    }

    @Test func staysQuietWhenNothingIsClose() {
        #expect(Suggest.closest(to: "median", in: FeatureOperator.allCases.map(\.rawValue)) == nil)
        #expect(Suggest.closest(to: "foo", in: ["sum", "avg"]) == nil)
        #expect(Suggest.closest(to: "anything", in: []) == nil)
    }

    @Test func tiesGoToTheEarlierCandidate() {
        #expect(Suggest.closest(to: "mx", in: ["max", "min"]) == "max")
        #expect(Suggest.closest(to: "mx", in: ["min", "max"]) == "max")  // min is 2 edits away
        #expect(Suggest.closest(to: "ab", in: ["abc", "abd"]) == "abc")
    }
}
