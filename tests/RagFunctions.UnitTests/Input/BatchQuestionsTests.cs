using RagFunctions.Core.Batches;

namespace RagFunctions.UnitTests.Input;

public sealed class BatchQuestionsTests
{
    [Fact]
    public void ShortQuestionIsOnePart() =>
        Assert.Equal(["Why is the ledger stalled?"], BatchQuestions.Split("Why is the ledger stalled?"));

    [Fact]
    public void LongestAllowedQuestionSplitsIntoPartsATableStringPropertyHoldsAndJoinsBackWhole()
    {
        // 100000 Unicode scalar values (Rag:MaxQuestionChars' ceiling), each a surrogate pair: 200000 UTF-16 code units.
        var question = string.Concat(Enumerable.Repeat("\ud83d\ude00", 100_000));

        var parts = BatchQuestions.Split(question);

        Assert.Equal(7, parts.Count);
        Assert.All(parts, p => Assert.InRange(p.Length, 1, BatchQuestions.MaxPartChars));
        Assert.All(parts, p => Assert.False(char.IsHighSurrogate(p[^1]) || char.IsLowSurrogate(p[0]), "a part splits a surrogate pair"));
        Assert.Equal(question, string.Concat(parts));
    }
}
