using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Metrics.Push;
using RagFunctions.Core.Pipeline;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// The shipped Pushgateway skips its per-push consistency check: that check gathers every stored group on each push, in
/// the gateway's single writer, and caps the fleet (README, Scale). Skipping it is safe only while every pod's push is
/// consistent with every other pod's, whatever each pod has touched, however it is configured, and across releases (a
/// metric never changes its type). A Pushgateway that still checks must take them all; the controls show what a push
/// that is not consistent does to each.
/// </summary>
public sealed partial class PushConsistencyTests
{
    private const string RetypedRequests = "# TYPE rag_requests_total gauge\nrag_requests_total{trigger=\"http\",outcome=\"success\",tenant=\"default\",environment=\"it\"} 1\n";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task ACheckingPushgatewayAcceptsThePodsRegistryInEveryStateAndConfigurationTogether()
    {
        await using var checking = await PushgatewayServer.StartAsync(checkConsistency: true);
        var states = PodStates().ToList();
        foreach (var (name, metrics) in states)
        {
            await PushAcceptedAsync(checking, metrics, name);
        }

        var groups = await checking.GroupsAsync();
        Assert.Equal(states.Count, groups.Count(g => g.Labels.GetValueOrDefault("job") == "rag-functions"));
        Assert.Equal(HttpStatusCode.OK, await ScrapeStatusAsync(checking.Url));
    }

    [Fact]
    public async Task ACheckingPushgatewayRefusesAPushThatRetypesAnAppMetric()
    {
        var (name, metrics) = PodStates().Last();
        await using var checking = await PushgatewayServer.StartAsync(checkConsistency: true);
        await PushAcceptedAsync(checking, metrics, name);

        Assert.Equal(HttpStatusCode.BadRequest, await PutRetypedAsync(checking.Url));
        Assert.Equal(HttpStatusCode.OK, await ScrapeStatusAsync(checking.Url));
    }

    [Fact]
    public async Task TheShippedPushgatewayAcceptsARetypedPushAndFailsEveryScrapeUntilItsGroupIsDeleted()
    {
        var (name, metrics) = PodStates().Last();
        await using var shipped = await PushgatewayServer.StartAsync();
        await PushAcceptedAsync(shipped, metrics, name);

        // Unchecked, a push is queued for the gateway's writer and answered 202 at once; the scrape fails once it is stored.
        Assert.Equal(HttpStatusCode.Accepted, await PutRetypedAsync(shipped.Url));
        // up{job="pushgateway"} == 0: PushgatewayDown, whose runbook names this cause and deletes the group.
        await Poll.UntilAsync(async () => await ScrapeStatusAsync(shipped.Url) == HttpStatusCode.InternalServerError,
            TimeSpan.FromSeconds(10), "the shipped Pushgateway's scrape fails while the retyped group is stored");

        using (var delete = await Http.DeleteAsync(RetypedGroup(shipped.Url)))
        {
            Assert.True(delete.IsSuccessStatusCode);
        }

        await Poll.UntilAsync(async () => await ScrapeStatusAsync(shipped.Url) == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10), "the shipped Pushgateway's scrape recovers once the retyped group is deleted");
    }

    /// <summary>
    /// Across releases: every family the registry pushes has the type that the metrics reference (the corpus document
    /// operators read) gives it. A release that retypes a family must change the reference too, on purpose; pods of the
    /// old and the new release would otherwise push two types under one name and fail the scrape.
    /// </summary>
    [Fact]
    public async Task EveryPushedFamilyHasTheTypeTheMetricsReferenceGivesIt()
    {
        var reference = await File.ReadAllTextAsync(Path.Combine(Prerequisites.RepoRoot, "functions", "corpus", "metrics", "metrics-reference.md"));
        using var exposition = new MemoryStream();
        await PodStates().Last().Metrics.Registry.CollectAndExportAsTextAsync(exposition);
        var families = TypeLine().Matches(Encoding.UTF8.GetString(exposition.ToArray())).Select(m => (Name: m.Groups[1].Value, Type: m.Groups[2].Value)).ToList();

        Assert.NotEmpty(families);
        foreach (var (family, type) in families)
        {
            var section = Regex.Match(reference, $@"^## {Regex.Escape(family)}\n\n(\w+)", RegexOptions.Multiline);
            Assert.True(section.Success, $"functions/corpus/metrics/metrics-reference.md has no section '## {family}'");
            Assert.True(string.Equals(section.Groups[1].Value, type, StringComparison.OrdinalIgnoreCase),
                $"{family} is pushed as a {type}, but the metrics reference says {section.Groups[1].Value}: a retyped family breaks the scrape while pods of both releases push");
        }
    }

    /// <summary>
    /// Pods as they are pushed: just started (the fleet set only), having touched a little, and having touched every
    /// series the registry has (every model, tenant, trigger, outcome, error kind, stage and function), under two
    /// configurations (different models and tenants), and with a model outside its configuration.
    /// </summary>
    private static IEnumerable<(string Name, RagMetrics Metrics)> PodStates()
    {
        string[] models = ["amazon.nova-lite-v1:0", "local-extractive"];
        string[] otherModels = ["anthropic.claude-3-5-haiku-20241022-v1:0", "amazon.nova-pro-v1:0"];
        yield return ("just-started", new RagMetrics("it", models, ["default"]));

        var sparse = new RagMetrics("it", models, ["default"]);
        Query(sparse, models[0], "default", QueryOrigin.Http);
        yield return ("one-query", sparse);

        var unconfigured = new RagMetrics("it", models, ["default"]);
        Query(unconfigured, otherModels[0], "default", QueryOrigin.Queue);
        yield return ("unconfigured-model", unconfigured);

        var everything = new RagMetrics("it", otherModels, ["default", "acme", "globex"]);
        foreach (var tenant in new[] { "default", "acme", "globex" })
        {
            foreach (var model in otherModels)
            {
                foreach (var origin in Enum.GetValues<QueryOrigin>())
                {
                    Query(everything, model, tenant, origin);
                }

                var meters = everything.ForModel(model, tenant);
                meters.UnpricedTokens.Inc(3);
                foreach (var kind in Enum.GetValues<LlmErrorKind>())
                {
                    meters.CountError(kind);
                }
            }

            foreach (var origin in Enum.GetValues<QueryOrigin>())
            {
                everything.BudgetRejected(origin, tenant);
                foreach (var outcome in Enum.GetValues<QueryOutcome>())
                {
                    everything.QueryCompleted(origin, outcome, tenant);
                }
            }
        }

        foreach (var (function, trigger) in new[] { ("QueryFunction", "http"), ("SubmitBatchFunction", "http"), ("ProcessQueryMessage", "queue") })
        {
            var meters = everything.ForFunction(function, trigger);
            meters.Succeeded.Inc();
            meters.Failed.Inc();
            meters.Duration.Observe(0.2);
        }

        everything.TotalErrorStage.Observe(1.5);
        everything.NoContext.Inc();
        everything.PoisonMessages.Inc();
        everything.PushFailures.Inc();
        yield return ("everything-touched", everything);
    }

    private static void Query(RagMetrics metrics, string model, string tenant, QueryOrigin origin)
    {
        var meters = metrics.ForModel(model, tenant);
        meters.AddCost(0.0001234m);
        meters.QueryCost.Observe(0.0001234);
        meters.InputTokens.Inc(1200);
        meters.OutputTokens.Inc(150);
        meters.CacheReadTokens.Inc(64);
        meters.CacheWriteTokens.Inc(32);
        metrics.RetrievalStage.Observe(0.002);
        metrics.RetrievedDocuments.Observe(4);
        metrics.GenerationStage.Observe(0.7);
        metrics.TotalStage.Observe(0.71);
        metrics.QueryCompleted(origin, QueryOutcome.Success, tenant);
    }

    /// <summary>Pushes the registry through the app's real pusher as instance <paramref name="name"/>; it must be accepted.</summary>
    private static async Task PushAcceptedAsync(PushgatewayServer pushgateway, RagMetrics metrics, string name)
    {
        using var pusher = new MetricsPusher(metrics, Http,
            Options.Create(new PushOptions { Enabled = true, Url = pushgateway.Url.ToString(), Instance = name, TimeoutMilliseconds = 10_000 }),
            NullLogger<MetricsPusher>.Instance);
        Assert.True(await pusher.PushAsync(CancellationToken.None), $"the Pushgateway refused the push of a pod in state '{name}':\n{pushgateway.Output}");
    }

    private static async Task<HttpStatusCode> ScrapeStatusAsync(Uri pushgateway)
    {
        using var scrape = await Http.GetAsync(new Uri(pushgateway, "/metrics"));
        return scrape.StatusCode;
    }

    private static Uri RetypedGroup(Uri pushgateway) => new(pushgateway, "/metrics/job/rag-functions/instance/retyped");

    private static async Task<HttpStatusCode> PutRetypedAsync(Uri pushgateway)
    {
        using var content = new StringContent(RetypedRequests, Encoding.UTF8);
        content.Headers.ContentType = new("text/plain") { Parameters = { new("version", "0.0.4") } };
        using var response = await Http.PutAsync(RetypedGroup(pushgateway), content);
        return response.StatusCode;
    }

    [GeneratedRegex(@"^# TYPE (\S+) (\w+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
