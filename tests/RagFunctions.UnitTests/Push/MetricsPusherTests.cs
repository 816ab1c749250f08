using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Metrics.Push;

namespace RagFunctions.UnitTests.Push;

public sealed class MetricsPusherTests
{
    private static (MetricsPusher Pusher, RagMetrics Metrics) Create(RecordingHandler handler, Action<PushOptions>? configure = null)
    {
        var options = new PushOptions { Enabled = true, Url = "http://pg.test:9091/", Instance = "pod-1-abcd", TimeoutMilliseconds = 200 };
        configure?.Invoke(options);
        var metrics = new RagMetrics("test", ["local-extractive"], ["default"]);
        return (new MetricsPusher(metrics, new HttpClient(handler), Options.Create(options), NullLogger<MetricsPusher>.Instance), metrics);
    }

    [Fact]
    public async Task PutsTheWholeRegistryToTheInstanceGroupInTextFormat()
    {
        var handler = new RecordingHandler();
        var (pusher, metrics) = Create(handler);
        metrics.ForModel("local-extractive", "default").Cost.Inc(0.25);

        Assert.True(await pusher.PushAsync(CancellationToken.None));

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("http://pg.test:9091/metrics/job/rag-functions/instance/" + pusher.Instance, request.Uri.ToString());
        Assert.Equal("text/plain; version=0.0.4", request.ContentType);
        Assert.Null(request.Authorization);
        using var expected = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(expected);
        Assert.Equal(Encoding.UTF8.GetString(expected.ToArray()), request.Body);
        Assert.Contains("rag_cost_dollars_total{model=\"local-extractive\",tenant=\"default\",environment=\"test\"} 0.25", request.Body);
    }

    [Fact]
    public async Task SendsBasicAuthGivenCredentials()
    {
        var handler = new RecordingHandler();
        var (pusher, _) = Create(handler, o => (o.Username, o.Password) = ("pusher", "s3cret"));

        await pusher.PushAsync(CancellationToken.None);

        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("pusher:s3cret")), Assert.Single(handler.Requests).Authorization);
    }

    [Fact]
    public async Task ReturnsFalseAndCountsTheFailureGivenARejectedPush()
    {
        var handler = new RecordingHandler(HttpStatusCode.BadRequest);
        var (pusher, metrics) = Create(handler);

        Assert.False(await pusher.PushAsync(CancellationToken.None));
        Assert.False(await pusher.PushAsync(CancellationToken.None));

        Assert.Equal(2, metrics.PushFailures.Value);
        // The failure counter of the first attempt travels with the next push.
        Assert.Contains("rag_metrics_push_failures_total{environment=\"test\"} 1", handler.Requests[1].Body);
    }

    [Fact]
    public async Task GivesUpWithinTheTimeoutGivenAHangingPushgateway()
    {
        var handler = new RecordingHandler(hang: true);
        var (pusher, metrics) = Create(handler, o => o.TimeoutMilliseconds = 150);

        var watch = Stopwatch.StartNew();
        var pushed = await pusher.PushAsync(CancellationToken.None);

        Assert.False(pushed);
        Assert.InRange(watch.ElapsedMilliseconds, 100, 2000);
        Assert.Equal(1, metrics.PushFailures.Value);
    }

    [Fact]
    public async Task DoesNotCountACallerCancellationAsAFailure()
    {
        var handler = new RecordingHandler(hang: true);
        var (pusher, metrics) = Create(handler, o => o.TimeoutMilliseconds = 5000);
        using var cancel = new CancellationTokenSource(50);

        Assert.False(await pusher.PushAsync(cancel.Token));
        Assert.Equal(0, metrics.PushFailures.Value);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CallsWaitingOnARunningPushShareOneLaterPushThatCarriesAllTheirData(bool runningPushFails)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new RecordingHandler(release: release.Task, failFirst: runningPushFails ? 1 : 0);
        var (pusher, metrics) = Create(handler, o => o.TimeoutMilliseconds = 10_000);
        var cost = metrics.ForModel("local-extractive", "default").Cost;
        var running = pusher.PushAsync(CancellationToken.None);
        await WaitForRequestsAsync(handler, 1);

        var waiting = new List<Task<bool>>();
        for (var i = 0; i < 10; i++)
        {
            cost.Inc(1);
            waiting.Add(pusher.PushAsync(CancellationToken.None));
        }

        release.SetResult();

        Assert.Equal(!runningPushFails, await running);
        Assert.All(await Task.WhenAll(waiting), Assert.True);
        // The running push collected before the ten increments; one more push carries them all, whether or not the
        // running one was accepted.
        Assert.Equal(2, handler.Requests.Count);
        Assert.Contains("rag_cost_dollars_total{model=\"local-extractive\",tenant=\"default\",environment=\"test\"} 10", handler.Requests[1].Body);
    }

    [Fact]
    public async Task CallsOneAfterAnotherEachPush()
    {
        var handler = new RecordingHandler();
        var (pusher, _) = Create(handler);

        Assert.True(await pusher.PushAsync(CancellationToken.None));
        Assert.True(await pusher.PushAsync(CancellationToken.None));

        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task DoesNothingGivenPushDisabled()
    {
        var handler = new RecordingHandler();
        var (pusher, _) = Create(handler, o => o.Enabled = false);

        Assert.False(await pusher.PushAsync(CancellationToken.None));
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public void EffectiveInstanceIsUrlSafeAndUniquePerProcessStart()
    {
        var first = PushOptions.EffectiveInstance(null);
        var second = PushOptions.EffectiveInstance(null);

        Assert.NotEqual(first, second);
        Assert.Equal(PushOptions.UrlSafe(first), first);
        Assert.Matches("^[A-Za-z0-9._-]+-[0-9a-f]{8}$", first);
    }

    [Fact]
    public void UrlSafeReplacesEverythingOutsideTheSafeSet()
    {
        Assert.Equal("rag-fn-7d9f_x.y-z--", PushOptions.UrlSafe("rag/fn 7d9f_x.y-z?&"));
    }

    [Fact]
    public void UsesTheConfiguredInstanceAsAPrefixAndAlwaysAppendsAStartNonce()
    {
        var (configured, _) = Create(new RecordingHandler());
        var (generated, _) = Create(new RecordingHandler(), o => o.Instance = null);

        Assert.Matches("^pod-1-abcd-[0-9a-f]{8}$", configured.Instance);
        Assert.Matches("^[A-Za-z0-9._-]+-[0-9a-f]{8}$", generated.Instance);
        Assert.DoesNotMatch("^pod-1-abcd-", generated.Instance);
        Assert.EndsWith("/instance/" + configured.Instance, configured.GroupUrl.ToString());
        Assert.EndsWith("/instance/" + generated.Instance, generated.GroupUrl.ToString());
    }

    [Fact]
    public async Task TwoPushersWithTheSameConfiguredInstancePushToDifferentGroups()
    {
        var firstHandler = new RecordingHandler();
        var secondHandler = new RecordingHandler();
        var (first, _) = Create(firstHandler);
        var (second, _) = Create(secondHandler);

        Assert.True(await first.PushAsync(CancellationToken.None));
        Assert.True(await second.PushAsync(CancellationToken.None));

        Assert.NotEqual(first.Instance, second.Instance);
        Assert.NotEqual(Assert.Single(firstHandler.Requests).Uri, Assert.Single(secondHandler.Requests).Uri);
    }

    private static async Task WaitForRequestsAsync(RecordingHandler handler, int count)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            lock (handler.Requests)
            {
                if (handler.Requests.Count >= count)
                {
                    return;
                }
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"the fake Pushgateway did not get {count} request(s)");
            await Task.Delay(10);
        }
    }
}
