using System.Text.Json;
using RagFunctions.Core.Metrics;

namespace RagFunctions.IntegrationTests.Functions;

[Collection(AppHostCollection.Name)]
public sealed class HttpFunctionTests(AppHostFixture app)
{
    [Fact]
    public async Task QueryAnswersWithSourcesUsageCostAndStageLatency()
    {
        var response = await app.Host.SendAsync("POST", "/api/query", """{"question":"What do I do when the daily budget alert fires?","domain":null}""");

        Assert.Equal(200, response.Status);
        var body = JsonDocument.Parse(response.Body).RootElement;
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("answer").GetString()));
        var first = body.GetProperty("sources")[0];
        Assert.Contains("daily-budget", first.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.True(first.GetProperty("score").GetDouble() > 0);
        Assert.False(string.IsNullOrEmpty(first.GetProperty("title").GetString()));
        Assert.Equal("local-extractive", body.GetProperty("model").GetString());
        var usage = body.GetProperty("usage");
        Assert.True(usage.GetProperty("inputTokens").GetInt64() > 0);
        Assert.True(usage.GetProperty("outputTokens").GetInt64() > 0);
        Assert.Equal(0, usage.GetProperty("cacheReadTokens").GetInt64());
        Assert.Equal(0, usage.GetProperty("cacheWriteTokens").GetInt64());
        Assert.Equal(0m, body.GetProperty("costUsd").GetDecimal());
        var latency = body.GetProperty("latencyMs");
        Assert.True(latency.GetProperty("total").GetDouble() >= latency.GetProperty("retrieval").GetDouble());
        Assert.True(latency.GetProperty("generation").GetDouble() >= 0);
    }

    [Fact]
    public async Task HealthAnswersReadyOnceThePipelineIsBuilt()
    {
        var response = await app.Host.SendAsync("GET", "/api/health");

        Assert.Equal(200, response.Status);
        Assert.Equal("ready", response.Body);
    }

    [Fact]
    public async Task DomainLimitsRetrievalToThatDomain()
    {
        var response = await app.Host.SendAsync("POST", "/api/query", """{"question":"rag_cost_dollars_total labels","domain":"metrics"}""");

        Assert.Equal(200, response.Status);
        var sources = JsonDocument.Parse(response.Body).RootElement.GetProperty("sources").EnumerateArray().ToList();
        Assert.NotEmpty(sources);
    }

    [Fact]
    public async Task QuestionMatchingNothingIsANormalAnswerCountedAsNoContext()
    {
        var metrics = (RagMetrics)app.Host.Services.GetService(typeof(RagMetrics))!;
        var before = metrics.NoContext.Value;

        var response = await app.Host.SendAsync("POST", "/api/query", """{"question":"zzqxj wvvkpl"}""");

        Assert.Equal(200, response.Status);
        Assert.Empty(JsonDocument.Parse(response.Body).RootElement.GetProperty("sources").EnumerateArray());
        Assert.Equal(before + 1, metrics.NoContext.Value);
    }

    public static TheoryData<string, string?, string?, int, string> BadRequests() => new()
    {
        { "/api/query", "{\"question\": ", "application/json", 400, "Malformed JSON" },
        { "/api/query", "question=hi", "application/x-www-form-urlencoded", 415, "application/json" },
        { "/api/query", "{\"question\":\"hi\"}", null, 415, "application/json" },
        { "/api/query", "{}", "application/json", 400, "'question' is required" },
        { "/api/query", "{\"question\":\"   \"}", "application/json", 400, "'question' is required" },
        { "/api/query", "{\"question\":42}", "application/json", 400, "'question' must be a string, not a number" },
        { "/api/query", "{\"question\":\"hi\",\"domian\":\"x\"}", "application/json", 400, "Unknown property \"domian\"" },
        { "/api/query", "{\"question\":\"hi\",\"question\":\"ho\"}", "application/json", 400, "'question' appears more than once" },
        { "/api/query", "{\"question\":\"\u200B\u200D\u2060\uFEFF \"}", "application/json", 400, "'question' has no visible character" },
        { "/api/query", "{\"question\":\"hi\u0085there\"}", "application/json", 400, "control character U+0085" },
        { "/api/query", "{\"question\":\"hi\\ud800\"}", "application/json", 400, "unpaired surrogate" },
        { "/api/query", "{\"question\":\"hi\",\"\\udc00\":1}", "application/json", 400, "property name of the request body contains an escaped unpaired surrogate" },
        { "/api/query", "{\"question\":" + new string('t', 5_000) + "}", "application/json", 400, "…\" (5001 characters) is an invalid JSON literal" },
        { "/api/query", "{\"question\":\"" + string.Concat(Enumerable.Repeat("\ud83d\ude00", 4_001)) + "\"}", "application/json", 400, "has 4001 characters (Unicode scalar values); the limit is 4000" },
        { "/api/query", "{\"question\":\"hi\"}", "application/json; charset=utf-16", 415, "UTF-8" },
        { "/api/query", "null", "application/json", 400, "JSON null" },
        { "/api/query", "", "application/json", 400, "empty" },
        { "/api/query", "{\"question\":\"hi\",\"domain\":\"finance\"}", "application/json", 400, "Unknown domain" },
        { "/api/query", "{\"question\":\"" + new string('a', 4_001) + "\"}", "application/json", 400, "the limit is 4000" },
        { "/api/query", "{\"question\":\"" + new string('a', 70_000) + "\"}", "application/json", 413, "exceeds 65536 bytes" },
        { "/api/batches", "{\"questions\":[]}", "application/json", 400, "non-empty array" },
        { "/api/batches", "{\"domain\":null}", "application/json", 400, "non-empty array" },
        { "/api/batches", "{\"questions\":[\"ok\",\"\"]}", "application/json", 400, "'questions[1]' is required" },
        { "/api/batches", "{\"questions\":[" + string.Join(',', Enumerable.Repeat("\"q\"", 21)) + "]}", "application/json", 400, "the limit is 20" },
        { "/api/batches", "{\"questions\":[\"ok\"],\"domain\":\"nope\"}", "application/json", 400, "Unknown domain" },
        { "/api/batches", "{\"questions\":[\"ok\",\"\u200B\"]}", "application/json", 400, "'questions[1]' has no visible character" },
        { "/api/batches", "{\"questions\":[\"ok\",42]}", "application/json", 400, "'questions[1]' must be a string" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInputGetsAProblemJson4xxWithAUsefulDetailAndNoStackTrace(string path, string? body, string? contentType, int status, string detail)
    {
        var response = await app.Host.SendAsync("POST", path, body, contentType);

        Assert.Equal(status, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        var problem = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidFieldsAreListedInAnErrorsMemberShapedLikeValidationProblemDetails()
    {
        var response = await app.Host.SendAsync("POST", "/api/batches", "{\"questions\":[\"ok\",\"\u0085\",\"\u200B\"]}");

        Assert.Equal(400, response.Status);
        var errors = JsonDocument.Parse(response.Body).RootElement.GetProperty("errors");
        Assert.Equal(["questions[1]", "questions[2]"], errors.EnumerateObject().Select(e => e.Name));
        Assert.Contains("U+0085", errors.GetProperty("questions[1]")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EchoedInputIsQuotedAtMost64CharactersAndEscaped()
    {
        var name = new string('x', 20_000);

        var response = await app.Host.SendAsync("POST", "/api/query", $$"""{"question":"hi","{{name}}\u0000":1}""");

        Assert.Equal(400, response.Status);
        var detail = JsonDocument.Parse(response.Body).RootElement.GetProperty("detail").GetString()!;
        Assert.Contains($"\"{new string('x', 64)}…\" (20001 characters)", detail, StringComparison.Ordinal);
        Assert.True(response.Body.Length < 2_000, $"{response.Body.Length} characters");
    }

    [Fact]
    public async Task InvisibleCharactersInAnEchoAreShownAsEscapes()
    {
        var response = await app.Host.SendAsync("POST", "/api/query", "{\"question\":\"\u200B\u2060\"}");

        Assert.Equal(400, response.Status);
        Assert.Contains(@"""\u200B\u2060""", JsonDocument.Parse(response.Body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyWithAUtf8ByteOrderMarkIsReadAsUtf8()
    {
        var response = await app.Host.SendAsync("POST", "/api/query", [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes("""{"question":"pushgateway down"}""")], "application/json");

        Assert.Equal(200, response.Status);
    }

    [Theory]
    [InlineData("utf-16")]
    [InlineData("utf-16BE")]
    [InlineData("utf-32")]
    public async Task BodyInAWideEncodingIsToldToSendUtf8(string encoding)
    {
        var bytes = System.Text.Encoding.GetEncoding(encoding).GetPreamble().Concat(System.Text.Encoding.GetEncoding(encoding).GetBytes("""{"question":"hi"}""")).ToArray();

        var response = await app.Host.SendAsync("POST", "/api/query", bytes, "application/json");

        Assert.Equal(400, response.Status);
        Assert.Contains("send it as UTF-8", JsonDocument.Parse(response.Body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotFoundEchoesAtMost64CharactersOfTheId()
    {
        var response = await app.Host.SendAsync("GET", $"/api/batches/{new string('a', 10_000)}");

        Assert.Equal(404, response.Status);
        var detail = JsonDocument.Parse(response.Body).RootElement.GetProperty("detail").GetString()!;
        Assert.Contains($"\"{new string('a', 64)}…\" (10000 characters)", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/query", "{nope")]
    [InlineData("/api/query", "{\"question\":\"\"}")]
    [InlineData("/api/query", "{\"question\":\"hi\",\"domain\":\"finance\"}")]
    [InlineData("/api/batches", "{\"questions\":[]}")]
    [InlineData("/api/batches", "{\"questions\":[\"fine\",\"\"]}")]
    [InlineData("/api/batches", "{\"questions\":[\"fine\"],\"domain\":\"finance\"}")]
    public async Task RejectedQueryOrBatchSubmissionIsCountedOnceAsInvalidHttpRequest(string path, string body)
    {
        var metrics = (RagMetrics)app.Host.Services.GetService(typeof(RagMetrics))!;
        var text = await ExportAsync(metrics);
        var before = CountOf(text, InvalidHttp);

        var response = await app.Host.SendAsync("POST", path, body);

        Assert.Equal(400, response.Status);
        var after = CountOf(await ExportAsync(metrics), InvalidHttp);
        Assert.Equal(before + 1, after);
    }

    [Theory]
    [InlineData("?pageSize=0")]
    [InlineData("?pageSize=abc")]
    [InlineData("?continuationToken=garbage")]
    public async Task RejectedStatusReadIsNotAQueryButAFailedInvocation(string query)
    {
        var metrics = (RagMetrics)app.Host.Services.GetService(typeof(RagMetrics))!;
        var accepted = await app.Host.SendAsync("POST", "/api/batches", """{"questions":["What does PoisonMessages mean?"]}""");
        var id = JsonDocument.Parse(accepted.Body).RootElement.GetProperty("batchId").GetString();
        var requestsBefore = RequestSeriesSum(await ExportAsync(metrics));
        var statusFailures = metrics.ForFunction("BatchStatusFunction", "http").Failed;
        var failedBefore = statusFailures.Value;

        var response = await app.Host.SendAsync("GET", $"/api/batches/{id}{query}");

        Assert.Equal(400, response.Status);
        Assert.Equal(requestsBefore, RequestSeriesSum(await ExportAsync(metrics)));
        Assert.Equal(failedBefore + 1, statusFailures.Value);
    }

    [Fact]
    public async Task UnknownBatchIsNotFoundAsProblemJson()
    {
        var response = await app.Host.SendAsync("GET", $"/api/batches/{Guid.NewGuid():N}");

        Assert.Equal(404, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
    }

    [Fact]
    public async Task EveryInvocationIsMeteredByTheMiddleware()
    {
        var metrics = (RagMetrics)app.Host.Services.GetService(typeof(RagMetrics))!;
        var meters = metrics.ForFunction("QueryFunction", "http");
        var (ok, failed) = (meters.Succeeded.Value, meters.Failed.Value);

        await app.Host.SendAsync("POST", "/api/query", """{"question":"pushgateway down"}""");
        await app.Host.SendAsync("POST", "/api/query", "{broken");

        Assert.Equal(ok + 1, meters.Succeeded.Value);
        Assert.Equal(failed + 1, meters.Failed.Value);
        Assert.True(meters.Duration.Count >= 2);
    }

    private static async Task<string> ExportAsync(RagMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private const string InvalidHttp = "rag_requests_total{trigger=\"http\",outcome=\"invalid\",tenant=\"default\",environment=\"test\"}";

    /// <summary>The sum of every HTTP rag_requests_total series: queue outcomes of other tests' batches may move meanwhile.</summary>
    private static double RequestSeriesSum(string exposition) => exposition.Split('\n')
        .Where(l => l.StartsWith("rag_requests_total{trigger=\"http\"", StringComparison.Ordinal))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    private static double CountOf(string exposition, string series)
    {
        var line = exposition.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
