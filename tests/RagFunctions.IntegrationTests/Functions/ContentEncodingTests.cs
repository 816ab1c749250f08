using System.IO.Compression;
using System.Text;
using System.Text.Json;
using RagFunctions.Core.Metrics;
using RagFunctions.TestHost;

namespace RagFunctions.IntegrationTests.Functions;

/// <summary>Content-Encoding: gzip and br bodies are decoded within the body limit; a mislabelled body or another coding is refused.</summary>
[Collection(AppHostCollection.Name)]
public sealed class ContentEncodingTests(AppHostFixture app)
{
    private const string Question = """{"question":"What do I do when the daily budget alert fires?"}""";

    [Theory]
    [InlineData("gzip")]
    [InlineData("x-gzip")]
    [InlineData("br")]
    [InlineData("GZIP")]
    public async Task EncodedQueryIsDecodedAndAnswered(string coding)
    {
        var response = await SendAsync("/api/query", Encode(Encoding.UTF8.GetBytes(Question), coding), coding);

        Assert.Equal(200, response.Status);
        Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(response.Body).RootElement.GetProperty("answer").GetString()));
    }

    [Fact]
    public async Task GzipBatchSubmissionIsDecodedAndAccepted()
    {
        var body = Encode("""{"questions":["Why is the ledger stalled?","What does HighP95Latency mean?"]}"""u8.ToArray(), "gzip");

        var response = await SendAsync("/api/batches", body, "gzip");

        Assert.Equal(202, response.Status);
        Assert.Equal(2, JsonDocument.Parse(response.Body).RootElement.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task PlainBodyLabelledAsEncodedIsRefusedNotReadAsPlain(string coding)
    {
        var metrics = (RagMetrics)app.Host.Services.GetService(typeof(RagMetrics))!;
        var before = metrics.GenerationStage.Count;

        var response = await SendAsync("/api/query", Encoding.UTF8.GetBytes(Question), coding);

        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Contains($"not {coding} data", JsonDocument.Parse(response.Body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, metrics.GenerationStage.Count);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task BombThatInflatesPastTheBodyLimitIs413AfterReadingOnlyTheLimit(string coding)
    {
        // 64 MiB of one letter inside a question: a few KB encoded, 1,000 times the test host's 64 KiB limit decoded.
        var inflated = new byte[64 * 1024 * 1024];
        inflated.AsSpan().Fill((byte)'a');
        "{\"question\":\""u8.CopyTo(inflated);
        var bomb = Encode(inflated, coding);
        Assert.True(bomb.Length < 65_536, $"the {coding} bomb is {bomb.Length} bytes, not under the limit");

        var response = await SendAsync("/api/query", bomb, coding);

        Assert.Equal(413, response.Status);
        Assert.Contains("exceeds 65536 bytes", JsonDocument.Parse(response.Body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("deflate")]
    [InlineData("compress")]
    [InlineData("zstd")]
    [InlineData("gzip, br")]
    public async Task OtherCodingIs415NamingTheCodingsThatAreRead(string coding)
    {
        var response = await SendAsync("/api/query", Encoding.UTF8.GetBytes(Question), coding);

        Assert.Equal(415, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Equal("gzip, br, identity", response.Headers["Accept-Encoding"]);
    }

    [Fact]
    public async Task IdentityCodingIsAPlainBody()
    {
        var response = await SendAsync("/api/query", Encoding.UTF8.GetBytes(Question), "identity");

        Assert.Equal(200, response.Status);
    }

    private Task<HttpCallResult> SendAsync(string path, byte[] body, string coding) =>
        app.Host.SendAsync("POST", path, body, "application/json", new Dictionary<string, string> { ["Content-Encoding"] = coding });

    private static byte[] Encode(byte[] data, string coding)
    {
        using var output = new MemoryStream();
        using (Stream encoder = coding.Equals("br", StringComparison.Ordinal)
            ? new BrotliStream(output, CompressionLevel.Optimal)
            : new GZipStream(output, CompressionLevel.Optimal))
        {
            encoder.Write(data);
        }

        return output.ToArray();
    }
}
