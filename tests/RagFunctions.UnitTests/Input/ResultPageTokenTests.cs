using CsCheck;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Input;

namespace RagFunctions.UnitTests.Input;

public sealed class ResultPageTokenTests
{
    private static readonly string Batch = BatchIds.New();

    [Fact]
    public void TokenRoundTripsForItsBatch()
    {
        var errors = new InputErrors();

        Assert.Equal(42, ResultPageToken.Parse(ResultPageToken.Create(Batch, 42), Batch, errors));
        Assert.False(errors.Any);
    }

    [Fact]
    public void TokenOfAnotherBatchIsRejected()
    {
        var errors = new InputErrors();

        Assert.Null(ResultPageToken.Parse(ResultPageToken.Create(BatchIds.New(), 2), Batch, errors));
        Assert.Contains("another batch", errors.ToException().Errors["continuationToken"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void NoStringButAnIssuedTokenIsAccepted() =>
        Gen.Frequency(
            (2, Gen.String),
            (1, Gen.Char["0123456789abcdefABCDEF:-_=1 "].Array[0, 80].Select(c => new string(c))),
            (1, Gen.Int.Select(i => ResultPageToken.Create(Batch, i) + "A")),
            (1, Gen.Int.Select(i => ResultPageToken.Create(Batch, i).ToUpperInvariant()))).Sample(token =>
        {
            var errors = new InputErrors();
            var parsed = ResultPageToken.Parse(token, Batch, errors);
            Assert.True(parsed is null ? errors.Any : token == ResultPageToken.Create(Batch, parsed.Value), token);
        }, iter: 2_000);
}
