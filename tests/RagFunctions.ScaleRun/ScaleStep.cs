using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pipeline;
using RagFunctions.IntegrationTests.Faults;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.IntegrationTests.Ledger;

namespace RagFunctions.ScaleRun;

/// <summary>
/// One step of the scale run: <c>pods</c> live simulated pods, replaced as they end, until <c>lifetimes</c> have lived.
/// One Pushgateway and one ledger (real processes, state in Azurite) serve two Prometheus servers that scrape them
/// alike except for the Pushgateway job's relabelling: "before" drops only what is pushed under job="rag-ledger" (the
/// configuration before issue 12), "after" uses the Terraform ServiceMonitor's metricRelabelings (as the test fixtures
/// do). Both see the same pods, so the series each creates per lifetime compare within one run.
/// </summary>
internal static class ScaleStep
{
    private const string Model = "amazon.nova-lite-v1:0";
    private const double FoldSeconds = 5;
    private const double StaleAfterSeconds = 15;

    /// <summary>As scripts/dev and the compose file scrape (the fixtures' 1 s would time out a large Pushgateway; the cluster's default is 30 s).</summary>
    private const int PushgatewayScrapeSeconds = 5;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<ScaleResult> RunAsync(AzuriteFixture azurite, int pods, ScaleOptions options)
    {
        await using var pushgateway = await PushgatewayServer.StartAsync();
        var settings = LedgerSettings.For(pushgateway, azurite.ConnectionString, "scale" + Guid.NewGuid().ToString("N")[..8],
            foldSeconds: FoldSeconds, staleAfter: StaleAfterSeconds, hold: 0, lease: 30);
        settings["ReplicaId"] = "scale";
        using var ledger = LedgerProcess.Start(settings);
        await ledger.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        await using var before = await PrometheusServer.StartWithScrapeConfigsAsync(
            PrometheusServer.ScrapeConfigs(pushgateway.Port, [ledger.MetricsPort], LedgerJobDropOnly(), PushgatewayScrapeSeconds));
        await using var after = await PrometheusServer.StartWithScrapeConfigsAsync(
            PrometheusServer.ScrapeConfigs(pushgateway.Port, [ledger.MetricsPort], pushgatewayScrapeSeconds: PushgatewayScrapeSeconds));
        await before.UntilScrapedAsync("pushgateway");
        await after.UntilScrapedAsync("pushgateway");
        var createdBefore = await SeriesCreatedAsync(before);
        var createdAfter = await SeriesCreatedAsync(after);

        var truth = new SeriesTruth();
        var started = 0;
        var watch = Stopwatch.StartNew();
        using var stopSampling = new CancellationTokenSource();
        var sampler = SampleAsync(pushgateway, ledger, stopSampling.Token);
        var workers = Enumerable.Range(0, pods).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            // Staggered, so pods start and end at every moment rather than in waves.
            await Task.Delay(TimeSpan.FromSeconds(random.NextDouble() * options.LifetimeSeconds));
            while (Interlocked.Increment(ref started) <= options.Lifetimes)
            {
                var final = await LiveAsync(pushgateway.Url, worker, random, options);
                lock (truth)
                {
                    truth.Add(final);
                }
            }
        })).ToList();
        await Task.WhenAll(workers);
        var pushedFor = watch.Elapsed;

        // Every group is folded one last time and deleted once stale; then the ledger must equal the truth.
        var groupsLeft = await GroupsLeftAsync(pushgateway, TimeSpan.FromSeconds(StaleAfterSeconds + (4 * FoldSeconds) + 30));
        var mismatches = SeriesComparison.Mismatches(truth.Totals, await LedgerCheck.LedgerTotalsAsync(ledger));
        var settle = Stopwatch.StartNew();
        while (mismatches.Count > 0 && settle.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(500);
            mismatches = SeriesComparison.Mismatches(truth.Totals, await LedgerCheck.LedgerTotalsAsync(ledger));
        }

        await stopSampling.CancelAsync();
        var samples = await sampler;
        foreach (var mismatch in mismatches.Take(10))
        {
            Console.WriteLine($"  mismatch: {mismatch}");
        }

        var window = $"{Math.Ceiling(watch.Elapsed.TotalSeconds)}s";
        var live = samples.Where(s => s.Time <= pushedFor.TotalSeconds).ToList();
        return new ScaleResult(
            pods,
            options.Lifetimes,
            pushedFor.TotalSeconds,
            LoadAverage.Read(),
            (await SeriesCreatedAsync(before) - createdBefore) / options.Lifetimes,
            (await SeriesCreatedAsync(after) - createdAfter) / options.Lifetimes,
            await ScalarAsync(before, $"avg_over_time(scrape_duration_seconds{{job=\"pushgateway\"}}[{window}])"),
            await ScalarAsync(before, $"max_over_time(scrape_duration_seconds{{job=\"pushgateway\"}}[{window}])"),
            await ScalarAsync(after, $"avg_over_time(scrape_duration_seconds{{job=\"pushgateway\"}}[{window}])"),
            await ScalarAsync(after, $"max_over_time(scrape_duration_seconds{{job=\"pushgateway\"}}[{window}])"),
            await ScalarAsync(after, $"max_over_time(scrape_samples_scraped{{job=\"pushgateway\"}}[{window}])"),
            await ScalarAsync(before, $"max_over_time(scrape_samples_post_metric_relabeling{{job=\"pushgateway\"}}[{window}])"),
            await ScalarAsync(after, $"max_over_time(scrape_samples_post_metric_relabeling{{job=\"pushgateway\"}}[{window}])"),
            Mean(live, s => s.ScrapeBytes), Max(live, s => s.ScrapeBytes),
            Mean(live, s => s.ScrapeSeconds), Max(live, s => s.ScrapeSeconds),
            Mean(live, s => s.FoldSeconds), Max(live, s => s.FoldSeconds),
            Max(live, s => s.Groups),
            truth.Totals.Count,
            mismatches.Count,
            groupsLeft);
    }

    /// <summary>The relabelling before issue 12: only the drop of anything pushed under the ledger's job (Terraform's first rule).</summary>
    private static JsonArray LedgerJobDropOnly()
    {
        var rules = MetricRelabelConfigs.Pushgateway();
        var first = rules[0]!.AsObject();
        if (first["action"]?.GetValue<string>() != "drop" || first["regex"]?.GetValue<string>() != "rag-ledger")
        {
            throw new InvalidOperationException($"Terraform's first Pushgateway metricRelabeling is no longer the rag-ledger drop: {first.ToJsonString()}");
        }

        return [first.DeepClone()];
    }

    /// <summary>One pod lifetime: the start-up push, a push every PushSeconds after 1–3 queries, the last one at the end.</summary>
    private static async Task<string> LiveAsync(Uri pushgateway, int worker, Random random, ScaleOptions options)
    {
        var pod = new SimulatedInstance(pushgateway, worker, random);
        await pod.PushUntilAcceptedAsync();
        var pushes = Math.Max(1, (int)Math.Round(options.LifetimeSeconds / options.PushSeconds));
        for (var push = 0; push < pushes; push++)
        {
            await Task.Delay(TimeSpan.FromSeconds(options.PushSeconds * (0.8 + (random.NextDouble() * 0.4))));
            for (var queries = random.Next(1, 4); queries > 0; queries--)
            {
                Query(pod.Metrics, random);
            }

            await pod.PushUntilAcceptedAsync();
        }

        return await pod.ExpositionAsync();
    }

    /// <summary>A query of a pod that uses one model, as RagPipeline, MeteredAnswerGenerator and the middleware record it.</summary>
    private static void Query(RagMetrics metrics, Random random)
    {
        var model = metrics.ForModel(Model, "default");
        var function = metrics.ForFunction("QueryFunction", "http");
        var generation = 0.3 + (random.NextDouble() * 2);
        metrics.RetrievalStage.Observe(0.0002 + (random.NextDouble() * 0.002));
        var documents = random.Next(0, 6);
        metrics.RetrievedDocuments.Observe(documents);
        if (documents == 0)
        {
            metrics.NoContext.Inc();
        }

        if (random.Next(20) == 0)
        {
            model.CountError(LlmErrorKind.Throttling);
            metrics.TotalErrorStage.Observe(generation);
            metrics.QueryCompleted(QueryOrigin.Http, QueryOutcome.Throttled, "default");
            function.Failed.Inc();
        }
        else
        {
            metrics.GenerationStage.Observe(generation);
            model.InputTokens.Inc(800 + random.Next(800));
            model.OutputTokens.Inc(100 + random.Next(200));
            model.CacheReadTokens.Inc(random.Next(512));
            model.CacheWriteTokens.Inc(0);
            // Priced to 10 decimals and added as the app adds it (AddCost: the exact decimal total).
            var cost = Math.Round((decimal)(random.NextDouble() * 0.0002), 10);
            model.AddCost(cost);
            model.QueryCost.Observe((double)cost);
            metrics.TotalStage.Observe(generation + 0.001);
            metrics.QueryCompleted(QueryOrigin.Http, QueryOutcome.Success, "default");
            function.Succeeded.Inc();
        }

        function.Duration.Observe(generation + 0.003);
    }

    private static async Task<int> GroupsLeftAsync(PushgatewayServer pushgateway, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var left = (await pushgateway.GroupsAsync()).Count(g => g.Labels.GetValueOrDefault("job") == "rag-functions");
        while (left > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
            left = (await pushgateway.GroupsAsync()).Count(g => g.Labels.GetValueOrDefault("job") == "rag-functions");
        }

        return left;
    }

    /// <summary>Every 2 s: one GET of the Pushgateway's /metrics (bytes and time, as a scrape sees them) and the ledger's self-metrics.</summary>
    private static async Task<List<Sample>> SampleAsync(PushgatewayServer pushgateway, LedgerProcess ledger, CancellationToken stop)
    {
        var samples = new List<Sample>();
        var watch = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var scrape = Stopwatch.StartNew();
                var body = await Http.GetByteArrayAsync(new Uri(pushgateway.Url, "/metrics"), stop);
                var scrapeSeconds = scrape.Elapsed.TotalSeconds;
                var self = (await ledger.ScrapeAsync()).Split('\n');
                samples.Add(new Sample(watch.Elapsed.TotalSeconds, body.Length, scrapeSeconds,
                    SelfMetric(self, "rag_ledger_fold_seconds"), SelfMetric(self, "rag_ledger_pushgateway_groups")));
                await Task.Delay(2000, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (HttpRequestException)
            {
                // The ledger answers nothing between a failed cycle and the next; sample again.
            }
        }

        return samples;
    }

    private static double SelfMetric(string[] lines, string name) =>
        lines.Where(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(name.Length + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture))
            .DefaultIfEmpty(double.NaN).First();

    private static async Task<double> SeriesCreatedAsync(PrometheusServer prometheus)
    {
        var own = (await Http.GetStringAsync(new Uri(prometheus.Url, "/metrics"))).Split('\n');
        return SelfMetric(own, "prometheus_tsdb_head_series_created_total");
    }

    private static async Task<double> ScalarAsync(PrometheusServer prometheus, string expression) =>
        (await prometheus.QueryAsync(expression)).Select(s => s.Value).DefaultIfEmpty(double.NaN).Max();

    private static double Mean(List<Sample> samples, Func<Sample, double> value) =>
        samples.Select(value).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();

    private static double Max(List<Sample> samples, Func<Sample, double> value) =>
        samples.Select(value).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();

    private sealed record Sample(double Time, double ScrapeBytes, double ScrapeSeconds, double FoldSeconds, double Groups);
}
