using RagFunctions.Core.Generation;
using RagFunctions.TestHost;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.Core.Generation.Bedrock;


namespace RagFunctions.UnitTests.Bedrock;

public sealed class BedrockConverseChatClientTests
{
    private static readonly ChatMessage[] Question = [new(ChatRole.User, "Why is the pod crash-looping?")];

    [Fact]
    public async Task SendsModelIdPercentEncodedOnTheWireWithAValidBedrockSignature()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson()));
        await using var services = BedrockTestHost.Build(standIn);

        await services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question);

        var request = Assert.Single(standIn.Received);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/model/amazon.nova-lite-v1%3A0/converse", request.RawTarget);
        Assert.Null(request.SignatureProblem);
        Assert.Contains("/us-east-1/bedrock/aws4_request", request.Headers["authorization"], StringComparison.Ordinal);
        Assert.Equal("application/json", request.Headers["content-type"]);
    }

    [Fact]
    public async Task MapsSystemUserAndAssistantMessagesAndChatOptionsToConverseRequest()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson()));
        await using var services = BedrockTestHost.Build(standIn);
        ChatMessage[] messages =
        [
            new(ChatRole.System, "Answer from the runbooks."),
            new(ChatRole.User, [new TextContent("Context: runbook A"), new TextContent("Question: disk full?")]),
            new(ChatRole.Assistant, "Which node?"),
            new(ChatRole.User, "node-7"),
        ];

        await services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(
            messages,
            new ChatOptions { MaxOutputTokens = 100, Temperature = 0.5f });

        using var body = JsonDocument.Parse(Assert.Single(standIn.Received).Body);
        var root = body.RootElement;
        Assert.Equal("Answer from the runbooks.", root.GetProperty("system")[0].GetProperty("text").GetString());
        var turns = root.GetProperty("messages");
        Assert.Equal(3, turns.GetArrayLength());
        Assert.Equal("user", turns[0].GetProperty("role").GetString());
        Assert.Equal(["Context: runbook A", "Question: disk full?"], turns[0].GetProperty("content").EnumerateArray().Select(b => b.GetProperty("text").GetString()));
        Assert.Equal("assistant", turns[1].GetProperty("role").GetString());
        Assert.Equal("node-7", turns[2].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(100, root.GetProperty("inferenceConfig").GetProperty("maxTokens").GetInt32());
        Assert.Equal(0.5, root.GetProperty("inferenceConfig").GetProperty("temperature").GetDouble(), 3);
    }

    [Fact]
    public async Task UsesConfiguredMaxTokensAndTemperatureWhenChatOptionsLeaveThemUnset()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson()));
        await using var services = BedrockTestHost.Build(standIn);

        await services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question);

        using var body = JsonDocument.Parse(Assert.Single(standIn.Received).Body);
        var inference = body.RootElement.GetProperty("inferenceConfig");
        Assert.Equal(512, inference.GetProperty("maxTokens").GetInt32());
        Assert.Equal(0.2, inference.GetProperty("temperature").GetDouble(), 3);
        Assert.False(body.RootElement.TryGetProperty("system", out _));
    }

    [Fact]
    public async Task ReturnsTextFinishReasonUsageWithCacheCountsAndLatency()
    {
        const string Json = """
            {"output":{"message":{"role":"assistant","content":[{"text":"Restart the pod."},{"text":" Then check the logs."}]}},
             "stopReason":"max_tokens",
             "usage":{"inputTokens":120,"outputTokens":15,"totalTokens":1335,"cacheReadInputTokens":1000,"cacheWriteInputTokens":200},
             "metrics":{"latencyMs":412}}
            """;
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, Json));
        await using var services = BedrockTestHost.Build(standIn);

        var response = await services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question);

        Assert.Equal("Restart the pod. Then check the logs.", response.Text);
        Assert.Equal(2, response.Messages.Single().Contents.OfType<TextContent>().Count());
        Assert.Equal("amazon.nova-lite-v1:0", response.ModelId);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        var usage = Assert.IsType<UsageDetails>(response.Usage);
        Assert.Equal(120, usage.InputTokenCount);
        Assert.Equal(15, usage.OutputTokenCount);
        Assert.Equal(1335, usage.TotalTokenCount);
        Assert.Equal(1000, usage.AdditionalCounts![BedrockUsageKeys.CacheRead]);
        Assert.Equal(200, usage.AdditionalCounts[BedrockUsageKeys.CacheWrite]);
        Assert.Null(usage.CachedInputTokenCount);
        Assert.Equal(412L, response.AdditionalProperties![BedrockUsageKeys.LatencyMs]);
    }

    [Fact]
    public async Task RetriesThrottlingWithAFreshSignatureAndSucceeds()
    {
        await using var standIn = await BedrockStandIn.StartAsync(attempt => attempt == 1
            ? new CannedResponse(429, """{"message":"Too many requests, please wait before trying again."}""", new Dictionary<string, string>
            {
                ["x-amzn-ErrorType"] = "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            })
            : new CannedResponse(200, BedrockStandIn.ConverseJson("Second time lucky.")));
        var rotating = new RotatingCredentialsSource();
        await using var services = BedrockTestHost.Build(standIn.BaseUri, credentials: rotating);

        var response = await services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question);

        Assert.Equal("Second time lucky.", response.Text);
        Assert.Equal(2, standIn.Received.Count);
        Assert.All(standIn.Received, r => Assert.Null(r.SignatureProblem));
        // Each attempt was signed anew, with the credentials current at that moment.
        Assert.Equal(["session-1", "session-2"], standIn.Received.Select(r => r.Headers["x-amz-security-token"]));
    }

    [Theory]
    [InlineData(429, "ModelNotReadyException")]
    [InlineData(408, "ModelTimeoutException")]
    [InlineData(500, "InternalServerException")]
    public async Task RetriesEachTransientErrorType(int status, string errorType)
    {
        await using var standIn = await BedrockStandIn.StartAsync(attempt => attempt == 1
            ? new CannedResponse(status, $$"""{"message":"try later","__type":"com.amazon.bedrock#{{errorType}}"}""")
            : new CannedResponse(200, BedrockStandIn.ConverseJson()));
        await using var services = BedrockTestHost.Build(standIn);

        await services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question);

        Assert.Equal(2, standIn.Received.Count);
    }

    [Fact]
    public async Task DoesNotRetryValidationExceptionAndReportsIt()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(
            400,
            """{"message":"Malformed input request: extraneous key [foo] is not permitted","__type":"com.amazon.coral.validate#ValidationException"}"""));
        await using var services = BedrockTestHost.Build(standIn);

        var error = await Assert.ThrowsAsync<BedrockException>(() => services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question));

        Assert.Single(standIn.Received);
        Assert.Equal(LlmErrorKind.Validation, error.ErrorKind);
        Assert.False(error.IsTransient);
        Assert.Equal(400, error.StatusCode);
        Assert.Equal("ValidationException", error.AwsErrorType);
        Assert.Contains("Malformed input request", error.Message, StringComparison.Ordinal);
        Assert.Null(error.RetryAfter);
    }

    [Theory]
    [InlineData(403, "AccessDeniedException", LlmErrorKind.AccessDenied)]
    [InlineData(404, "ResourceNotFoundException", LlmErrorKind.NotFound)]
    [InlineData(400, "ServiceQuotaExceededException", LlmErrorKind.Other)]
    public async Task DoesNotRetryNonTransientErrorTypes(int status, string errorType, LlmErrorKind expected)
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(
            status, """{"message":"no"}""", new Dictionary<string, string> { ["x-amzn-ErrorType"] = errorType }));
        await using var services = BedrockTestHost.Build(standIn);

        var error = await Assert.ThrowsAsync<BedrockException>(() => services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question));

        Assert.Single(standIn.Received);
        Assert.Equal(expected, error.ErrorKind);
        Assert.Equal(errorType, error.AwsErrorType);
    }

    [Fact]
    public async Task GivesUpOnServiceUnavailableAfterMaxRetriesHonouringRetryAfter()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(
            503,
            """{"message":"Service unavailable"}""",
            new Dictionary<string, string> { ["x-amzn-ErrorType"] = "ServiceUnavailableException", ["Retry-After"] = "1" }));
        await using var services = BedrockTestHost.Build(standIn, new Dictionary<string, string?> { ["Rag:Generation:Bedrock:MaxRetries"] = "2" });
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<BedrockException>(() => services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question));

        Assert.Equal(3, standIn.Received.Count);
        Assert.All(standIn.Received, r => Assert.Null(r.SignatureProblem));
        Assert.Equal(LlmErrorKind.Unavailable, error.ErrorKind);
        Assert.True(error.IsTransient);
        Assert.Equal(503, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), error.RetryAfter);
        // Backoff base is 1 ms here, so two waits of about a second can only come from Retry-After.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"retries took {clock.Elapsed}");
    }

    [Fact]
    public async Task MapsRefusedConnectionToTransientNetworkError()
    {
        var closedPort = FreeLoopbackPort();
        await using var services = BedrockTestHost.Build(
            new Uri($"http://127.0.0.1:{closedPort}"),
            new Dictionary<string, string?> { ["Rag:Generation:Bedrock:MaxRetries"] = "1" },
            new StaticCredentialsSource(BedrockStandIn.Credentials));

        var error = await Assert.ThrowsAsync<BedrockException>(() => services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question));

        Assert.Equal(LlmErrorKind.Network, error.ErrorKind);
        Assert.True(error.IsTransient);
        Assert.Null(error.StatusCode);
        Assert.IsAssignableFrom<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task MapsAttemptTimeoutToTimeoutAfterRetrying()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson(), Delay: TimeSpan.FromSeconds(10)));
        await using var services = BedrockTestHost.Build(standIn, new Dictionary<string, string?>
        {
            // 3 s, not 1: under load (a full run: unit and integration tests side by side on 2 cores) a retry cancelled
            // after 1 s, and once after 2 s, did not reach the stand-in, which counts arrivals.
            ["Rag:Generation:Bedrock:TimeoutSeconds"] = "3",
            ["Rag:Generation:Bedrock:MaxRetries"] = "1",
        });

        var error = await Assert.ThrowsAsync<BedrockException>(() => services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question));

        Assert.Equal(LlmErrorKind.Timeout, error.ErrorKind);
        Assert.True(error.IsTransient);
        Assert.Equal(2, standIn.Received.Count);
    }

    [Fact]
    public async Task SignsTheSessionTokenOfTemporaryCredentials()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson()));
        var temporary = BedrockStandIn.Credentials with { SessionToken = "IQoJb3JpZ2luX2VjEXAMPLETOKEN/+=" };
        await using var services = BedrockTestHost.Build(standIn.BaseUri, credentials: new StaticCredentialsSource(temporary));

        await services.GetRequiredService<BedrockConverseChatClient>().GetResponseAsync(Question);

        var request = Assert.Single(standIn.Received);
        Assert.Null(request.SignatureProblem);
        Assert.Equal(temporary.SessionToken, request.Headers["x-amz-security-token"]);
        Assert.Contains("x-amz-security-token", request.Headers["authorization"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamingYieldsTheCompleteResponseFromOneConverseCall()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson("All at once.")));
        await using var services = BedrockTestHost.Build(standIn);

        var updates = await services.GetRequiredService<BedrockConverseChatClient>().GetStreamingResponseAsync(Question).ToListAsync();

        Assert.Single(standIn.Received);
        var response = updates.ToChatResponse();
        Assert.Equal("All at once.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(12, response.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task RejectsToolMessagesWithAClearError()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson()));
        await using var services = BedrockTestHost.Build(standIn);

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => services.GetRequiredService<BedrockConverseChatClient>()
            .GetResponseAsync([new ChatMessage(ChatRole.Tool, "42")]));

        Assert.Contains("tool", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(standIn.Received);
    }

    /// <summary>Hands out a new session token on every call, like refreshing STS credentials.</summary>
    private sealed class RotatingCredentialsSource : IBedrockCredentialsSource
    {
        private int _calls;

        public ValueTask<AwsSigningCredentials> GetCredentialsAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult(BedrockStandIn.Credentials with { SessionToken = $"session-{Interlocked.Increment(ref _calls)}" });
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
