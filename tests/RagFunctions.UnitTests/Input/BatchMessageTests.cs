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
        var message = new BatchMessage(Batch, 3, "Why is the ledger stalled?", "runbooks");

        Assert.Equal(message, BatchMessage.Parse(message.ToUtf8()));
    }

    [Fact]
    public void MessageWithAUtf8ByteOrderMarkIsReadAsUtf8()
    {
        var message = new BatchMessage(Batch, 0, "q", null);

        Assert.Equal(message, BatchMessage.Parse((byte[])[0xEF, 0xBB, 0xBF, .. message.ToUtf8()]));
    }

    [Theory]
    [InlineData("""{"version":1,"batchId":"{batch}","question":"q"}""", "'index' is required")]
    [InlineData("""{"batchId":"{batch}","index":0,"question":"q"}""", "'version' is required")]
    [InlineData("""{"version":2,"batchId":"{batch}","index":0,"question":"q"}""", "this app reads version 1")]
    [InlineData("""{"version":1,"batchId":"{batch}","index":"0","question":"q"}""", "'index' must be a number, not a string")]
    [InlineData("""{"version":1,"batchId":"{batch}","index":0,"question":"q","index":1}""", "'index' appears more than once")]
    [InlineData("""{"version":1,"batchId":"{batch}","index":0,"question":"q","Domain":null}""", "Unknown property \"Domain\"")]
    [InlineData("""{"version":1,"batchId":"{batch}","index":-1,"question":"q"}""", "must not be negative")]
    [InlineData("""{"version":1,"batchId":"not-a-batch","index":0,"question":"q"}""", "is not a batch id")]
    [InlineData("""{"version":1,"batchId":"{batch}","index":0}""", "'question' is required")]
    [InlineData("""[1]""", "must be a JSON object")]
    public void InvalidMessageIsRejectedWithItsReason(string json, string reason) =>
        Assert.Contains(reason, Rejects(json.Replace("{batch}", Batch, StringComparison.Ordinal)).Message, StringComparison.Ordinal);

    [Fact]
    public void Utf16MessageIsToldToUseUtf8() =>
        Assert.Contains("send it as UTF-8",
            Assert.Throws<InvalidQueueMessageException>(() => BatchMessage.Parse(Encoding.Unicode.GetBytes("{}"))).Message, StringComparison.Ordinal);
}
