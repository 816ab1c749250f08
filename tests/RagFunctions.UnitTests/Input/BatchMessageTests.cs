using System.Text;
using RagFunctions.Core.Batches;

namespace RagFunctions.UnitTests.Input;

public sealed class BatchMessageTests
{
    private static readonly string Batch = BatchIds.New();

    private static InvalidQueueMessageException Rejects(string json) =>
        Assert.Throws<InvalidQueueMessageException>(() => BatchMessage.Parse(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void MessageRoundTrips()
    {
        var message = new BatchMessage(Batch, 3);

        Assert.Equal(message, BatchMessage.Parse(message.ToUtf8()));
    }

    [Fact]
    public void MessageCarriesOnlyItsVersionBatchAndIndex() =>
        Assert.Equal($$"""{"version":2,"batchId":"{{Batch}}","index":100000}""", Encoding.UTF8.GetString(new BatchMessage(Batch, 100_000).ToUtf8()));

    [Fact]
    public void LargestMessageTheAppWritesIs72BytesWellUnderTheLimit() =>
        Assert.Equal(72, new BatchMessage(Batch, 99_999).ToUtf8().Length);

    [Fact]
    public void MessageWithAUtf8ByteOrderMarkIsReadAsUtf8()
    {
        var message = new BatchMessage(Batch, 0);

        Assert.Equal(message, BatchMessage.Parse((byte[])[0xEF, 0xBB, 0xBF, .. message.ToUtf8()]));
    }

    [Theory]
    [InlineData("""{"version":2,"batchId":"{batch}"}""", "'index' is required")]
    [InlineData("""{"batchId":"{batch}","index":0}""", "'version' is required")]
    [InlineData("""{"version":1,"batchId":"{batch}","index":0,"question":"q","domain":null}""", "'version' is 1; this app reads version 2")]
    [InlineData("""{"version":2,"batchId":"{batch}","index":0,"question":"forged"}""", "'question' is not allowed: a message names its question by batch id and index only")]
    [InlineData("""{"version":2,"batchId":"{batch}","index":0,"domain":null}""", "'domain' is not allowed")]
    [InlineData("""{"version":2,"batchId":"{batch}","index":"0"}""", "'index' must be a number, not a string")]
    [InlineData("""{"version":2,"batchId":"{batch}","index":0,"index":1}""", "'index' appears more than once")]
    [InlineData("""{"version":2,"batchId":"{batch}","index":0,"Domain":null}""", "Unknown property \"Domain\"")]
    [InlineData("""{"version":2,"batchId":"{batch}","index":-1}""", "must not be negative")]
    [InlineData("""{"version":2,"batchId":"not-a-batch","index":0}""", "is not a batch id")]
    [InlineData("""[1]""", "must be a JSON object")]
    public void InvalidMessageIsRejectedWithItsReason(string json, string reason) =>
        Assert.Contains(reason, Rejects(json.Replace("{batch}", Batch, StringComparison.Ordinal)).Message, StringComparison.Ordinal);

    [Fact]
    public void MessageOverTheSizeLimitIsRejectedBeforeItIsParsed()
    {
        var padded = $$"""{"version":2,"batchId":"{{Batch}}","index":0}""" + new string(' ', BatchMessage.MaxBytes);

        Assert.Contains($"a version-2 message is at most {BatchMessage.MaxBytes} bytes", Rejects(padded).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Utf16MessageIsToldToUseUtf8() =>
        Assert.Contains("send it as UTF-8",
            Assert.Throws<InvalidQueueMessageException>(() => BatchMessage.Parse(Encoding.Unicode.GetBytes("{}"))).Message, StringComparison.Ordinal);
}
