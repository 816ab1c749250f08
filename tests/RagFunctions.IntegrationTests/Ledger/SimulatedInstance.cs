using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Metrics.Push;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>One short-lived function pod: the real RagMetrics registry pushed by the real MetricsPusher.</summary>
internal sealed class SimulatedInstance
{
    private static readonly HttpClient Http = new();
    private static readonly string[] Models = ["amazon.nova-lite-v1:0", "local-extractive"];
    private readonly RagMetrics _metrics = new("it", Models, ["default"]);
    private readonly MetricsPusher _pusher;
    private readonly Random _random;

    public SimulatedInstance(Uri pushgateway, int index, Random random)
    {
        _random = random;
        _pusher = new MetricsPusher(_metrics, Http, Options.Create(new PushOptions
        {
            Enabled = true,
            Url = pushgateway.ToString(),
            Instance = $"sim-{index}-{random.Next():x8}",
            TimeoutMilliseconds = 1000,
        }), NullLogger<MetricsPusher>.Instance);
    }

    public string Instance => _pusher.Instance;

    /// <summary>The pod's registry, for tests that script which series it touches and when.</summary>
    public RagMetrics Metrics => _metrics;

    /// <summary>
    /// Lives <paramref name="lifetime"/>: a start-up push, random queries each followed by a push, then either a final
    /// query + push (clean stop) or nothing more (SIGKILL right after a push). Returns the final pushed exposition.
    /// </summary>
    public async Task<string> RunAsync(TimeSpan lifetime, bool killed, bool replayFinalPush)
    {
        var deadline = DateTime.UtcNow + lifetime;
        await PushUntilAcceptedAsync();
        while (DateTime.UtcNow < deadline)
        {
            Query();
            await _pusher.PushAsync(CancellationToken.None);
            await Task.Delay(_random.Next(80, 350));
        }

        if (!killed)
        {
            Query();
        }

        // A killed pod dies right after an accepted push; a clean one after its shutdown push.
        await PushUntilAcceptedAsync();
        if (replayFinalPush)
        {
            await PushUntilAcceptedAsync();
        }

        return await ExpositionAsync();
    }

    public Task PushUntilAcceptedAsync() => PushUntilAcceptedAsync(_pusher);

    private static async Task PushUntilAcceptedAsync(MetricsPusher pusher)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (await pusher.PushAsync(CancellationToken.None))
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"{pusher.Instance}: the Pushgateway did not accept a push for 10 s");
    }

    /// <summary>What the pod's next push carries.</summary>
    public async Task<string> ExpositionAsync()
    {
        using var text = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(text);
        return Encoding.UTF8.GetString(text.ToArray());
    }

    private void Query()
    {
        var model = _metrics.ForModel(Models[_random.Next(Models.Length)], "default");
        var cost = _random.NextDouble() * 0.004;
        model.Cost.Inc(cost);
        model.QueryCost.Observe(cost);
        model.InputTokens.Inc(_random.Next(50, 4000));
        model.OutputTokens.Inc(_random.Next(10, 800));
        _metrics.RetrievalStage.Observe(_random.NextDouble() * 0.08);
        _metrics.TotalStage.Observe(_random.NextDouble() * 3);
        var documents = _random.Next(0, 6);
        _metrics.RetrievedDocuments.Observe(documents);
        if (documents == 0)
        {
            _metrics.NoContext.Inc();
        }

        if (_random.Next(10) == 0)
        {
            model.CountError(LlmErrorKind.Throttling);
            _metrics.QueryCompleted(QueryOrigin.Queue, QueryOutcome.Throttled, "default");
        }
        else
        {
            _metrics.QueryCompleted(_random.Next(2) == 0 ? QueryOrigin.Http : QueryOrigin.Queue, QueryOutcome.Success, "default");
        }
    }
}
