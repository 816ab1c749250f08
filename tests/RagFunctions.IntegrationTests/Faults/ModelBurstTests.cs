using System.Diagnostics;
using System.Text.Json;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pipeline;
using RagFunctions.IntegrationTests.Functions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>The Bedrock stand-in answers in bursts of 429 throttling, 503 unavailable and slow (timed-out) responses.</summary>
public sealed class ModelBurstTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string Model = "amazon.nova-lite-v1:0";
    private const int Questions = 12;

    private static readonly Dictionary<string, string> ThrottlingHeaders = new() { ["x-amzn-ErrorType"] = "ThrottlingException" };
    private static readonly Dictionary<string, string> UnavailableHeaders = new() { ["x-amzn-ErrorType"] = "ServiceUnavailableException", ["Retry-After"] = "1" };

    private enum Burst
    {
        None,
        Throttling,
        Unavailable,
        Slow,
    }

    [Fact]
    public async Task BurstsAreRetriedSurfacedAs503WithRetryAfterCountedByTypeAndQueuedQuestionsAreAnsweredOnceTheyEnd()
    {
        var watch = Stopwatch.StartNew();
        var burst = (int)Burst.None;
        var burstAttemptsLeft = 0;
        await using var standIn = await BedrockStandIn.StartAsync(_ =>
        {
            var current = (Burst)Volatile.Read(ref burst);
            // A burst of a few attempts (shorter than the retries) is ridden out; "until switched off" outlasts them.
            if (current != Burst.None && Interlocked.Decrement(ref burstAttemptsLeft) < 0)
            {
                current = Burst.None;
            }

            return current switch
            {
                Burst.Throttling => new CannedResponse(429, """{"message":"Too many requests, please wait before trying again."}""", ThrottlingHeaders),
                Burst.Unavailable => new CannedResponse(503, """{"message":"Service unavailable"}""", UnavailableHeaders),
                Burst.Slow => new CannedResponse(200, BedrockStandIn.ConverseJson(), Delay: TimeSpan.FromSeconds(2)),
                _ => new CannedResponse(200, BedrockStandIn.ConverseJson()),
            };
        });
        var settings = AppHostFixture.Settings(azurite);
        standIn.Configure(settings, Model, maxRetries: 2, retryBaseDelayMilliseconds: 20);
        settings["Rag:Generation:Bedrock:TimeoutSeconds"] = "1";
        await using var host = await InProcessFunctionHost.StartAsync(settings);
        var metrics = (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;
        Task<double> ErrorsAsync(LlmErrorKind kind) => Exposition.ValueAsync(metrics, "rag_llm_errors_total", $"error_type=\"{kind.LabelValue()}\"");
        Task<double> RequestsAsync(QueryOrigin trigger, QueryOutcome outcome) =>
            Exposition.ValueAsync(metrics, "rag_requests_total", $"trigger=\"{trigger.LabelValue()}\"", $"outcome=\"{outcome.LabelValue()}\"");

        async Task<(HttpCallResult Response, int Attempts)> QueryAsync(Burst kind, int attemptsInBurst)
        {
            Volatile.Write(ref burstAttemptsLeft, attemptsInBurst);
            Volatile.Write(ref burst, (int)kind);
            var before = standIn.Received.Count;
            var response = await host.SendAsync("POST", "/api/query", """{"question":"What does LLMThrottling mean?"}""");
            Volatile.Write(ref burst, (int)Burst.None);
            return (response, standIn.Received.Count - before);
        }

        // A burst shorter than the retries: the caller never sees it and no error is counted.
        var (ridden, riddenAttempts) = await QueryAsync(Burst.Throttling, 2);
        Assert.Equal(200, ridden.Status);
        Assert.Equal(3, riddenAttempts);
        Assert.Equal(0, await ErrorsAsync(LlmErrorKind.Throttling));

        // Bursts that outlast the retries: 503 problem+json with Retry-After, one error of the burst's type per query.
        foreach (var (kind, errorKind, retryAfter) in new[]
                 {
                     (Burst.Throttling, LlmErrorKind.Throttling, (string?)null),
                     (Burst.Unavailable, LlmErrorKind.Unavailable, "1"),
                     (Burst.Slow, LlmErrorKind.Timeout, null),
                 })
        {
            var errorsBefore = await ErrorsAsync(errorKind);
            var (response, attempts) = await QueryAsync(kind, int.MaxValue);
            output.WriteLine($"{watch.Elapsed:mm\\:ss\\.f} {kind} burst: HTTP {response.Status}, Retry-After {response.Headers.GetValueOrDefault("Retry-After")}, stand-in attempts {attempts}");
            Assert.Equal(503, response.Status);
            Assert.Equal("application/problem+json", response.ContentType);
            Assert.True(int.Parse(response.Headers["Retry-After"], System.Globalization.CultureInfo.InvariantCulture) >= 1);
            if (retryAfter is not null)
            {
                Assert.Equal(retryAfter, response.Headers["Retry-After"]);
            }

            Assert.DoesNotContain("   at ", response.Body, StringComparison.Ordinal);
            Assert.Equal(3, attempts);
            Assert.Equal(errorsBefore + 1, await ErrorsAsync(errorKind));
        }

        Assert.Equal(1, await RequestsAsync(QueryOrigin.Http, QueryOutcome.Throttled));
        Assert.Equal(2, await RequestsAsync(QueryOrigin.Http, QueryOutcome.Unavailable));

        // Queue: questions arrive during a throttling burst; each failed delivery is retried after the visibility timeout and
        // every question is answered once the burst ends, before maxDequeueCount would poison it.
        var throttlingBefore = await ErrorsAsync(LlmErrorKind.Throttling);
        var queueThrottledBefore = await RequestsAsync(QueryOrigin.Queue, QueryOutcome.Throttled);
        var queueSuccessBefore = await RequestsAsync(QueryOrigin.Queue, QueryOutcome.Success);
        Volatile.Write(ref burstAttemptsLeft, int.MaxValue);
        Volatile.Write(ref burst, (int)Burst.Throttling);
        var batchId = await BatchCheck.SubmitAsync(host, BatchCheck.Questions(Questions, "a throttling burst"));
        var queueSettings = Prerequisites.HostQueueSettings with { VisibilityTimeout = TimeSpan.FromSeconds(1) };
        var pump = new QueuePump(host, azurite.ConnectionString, queueSettings);
        var draining = pump.RunUntilIdleAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
        await Poll.UntilAsync(() => Task.FromResult(pump.Failed >= 2 * Questions), TimeSpan.FromSeconds(20), "two failed deliveries per question");
        Volatile.Write(ref burst, (int)Burst.None);
        output.WriteLine($"{watch.Elapsed:mm\\:ss\\.f} burst ended after {pump.Failed} failed deliveries");
        await draining;

        var rows = await BatchCheck.AssertNothingLostAsync(host, azurite.ConnectionString, batchId, Questions);
        Assert.Equal(0, pump.Poisoned);
        Assert.All(rows, r => Assert.InRange(r.DequeueCount, 2, queueSettings.MaxDequeueCount));
        Assert.Equal(throttlingBefore + pump.Failed, await ErrorsAsync(LlmErrorKind.Throttling));
        // Each question counts once, with its final outcome: the failed deliveries before it are not outcomes.
        Assert.Equal(queueThrottledBefore, await RequestsAsync(QueryOrigin.Queue, QueryOutcome.Throttled));
        Assert.Equal(queueSuccessBefore + Questions, await RequestsAsync(QueryOrigin.Queue, QueryOutcome.Success));
        output.WriteLine($"queue: {Questions} questions, {pump.Failed} failed deliveries, {pump.Processed} completed, stand-in attempts in total {standIn.Received.Count}, " +
            $"llm errors throttling {await ErrorsAsync(LlmErrorKind.Throttling)} unavailable {await ErrorsAsync(LlmErrorKind.Unavailable)} timeout {await ErrorsAsync(LlmErrorKind.Timeout)}, duration {watch.Elapsed}");
    }
}
