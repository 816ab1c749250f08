using System.Net;
using System.Text;
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
/// consistent with every other pod's, whatever each pod has touched and however it is configured. A Pushgateway that
/// still checks must take them all; and the control shows what the shipped gateway does with a push that is not.
/// </summary>
public sealed class PushConsistencyTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task ACheckingPushgatewayAcceptsThePodsRegistryInEveryStateAndConfigurationTogether()
    {
        await using var checking = await PushgatewayServer.StartAsync(checkConsistency: true);
        var states = PodStates().ToList();
        foreach (var (name, metrics) in states)
        {
            using var pusher = Pusher(checking.Url, metrics, name);
            Assert.True(await pusher.PushAsync(TimeSpan.FromSeconds(10), CancellationToken.None),
                $"the checking Pushgateway refused the push of a pod in state '{name}':\n{checking.Output}");
        }

        var groups = await checking.GroupsAsync();
        Assert.Equal(states.Count, groups.Count(g => g.Labels.GetValueOrDefault("job") == "rag-functions"));
        Assert.Equal(HttpStatusCode.OK, await ScrapeStatusAsync(checking.Url));
    }

    [Fact]
    public async Task APushThatRetypesAnAppMetricIsRefusedWhenCheckedAndFailsEveryScrapeOfTheShippedGatewayUntilDeleted()
    {
        const string retyped = "# TYPE rag_requests_total gauge\nrag_requests_total{trigger=\"http\",outcome=\"success\",tenant=\"default\",environment=\"it\"} 1\n";
        var (name, metrics) = PodStates().Last();

        await using var checking = await PushgatewayServer.StartAsync(checkConsistency: true);
        using (var pusher = Pusher(checking.Url, metrics, name))
        {
            Assert.True(await pusher.PushAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        }

        Assert.Equal(HttpStatusCode.BadRequest, await PutAsync(checking.Url, retyped));

        await using var shipped = await PushgatewayServer.StartAsync();
        using (var pusher = Pusher(shipped.Url, metrics, name))
        {
            Assert.True(await pusher.PushAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        }

        // Unchecked, a push is queued for the gateway's writer and answered 202 at once; the scrape fails once it is stored.
        Assert.Equal(HttpStatusCode.Accepted, await PutAsync(shipped.Url, retyped));
        // up{job="pushgateway"} == 0: PushgatewayDown, whose runbook names this cause.
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

    private static MetricsPusher Pusher(Uri pushgateway, RagMetrics metrics, string instance) =>
        new(metrics, Http, Options.Create(new PushOptions { Enabled = true, Url = pushgateway.ToString(), Instance = instance, TimeoutMilliseconds = 10_000 }),
            NullLogger<MetricsPusher>.Instance);

    private static async Task<HttpStatusCode> ScrapeStatusAsync(Uri pushgateway)
    {
        using var scrape = await Http.GetAsync(new Uri(pushgateway, "/metrics"));
        return scrape.StatusCode;
    }

    private static Uri RetypedGroup(Uri pushgateway) => new(pushgateway, "/metrics/job/rag-functions/instance/retyped");

    private static async Task<HttpStatusCode> PutAsync(Uri pushgateway, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new("text/plain") { Parameters = { new("version", "0.0.4") } };
        using var response = await Http.PutAsync(RetypedGroup(pushgateway), content);
        return response.StatusCode;
    }
}
