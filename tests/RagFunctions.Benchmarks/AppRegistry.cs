using RagFunctions.Core.Generation;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Benchmarks;

/// <summary>
/// The app's registry as a running instance has it after a few hundred queries. <see cref="Create"/> is a busy pod that
/// used both known models and every function of the app, so nearly every series is touched; <see cref="CreateOneModelPod"/>
/// is a query pod as the composition builds it (one configured model) that used that model through QueryFunction only.
/// </summary>
public static class AppRegistry
{
    public static readonly string[] Models = ["amazon.nova-lite-v1:0", "local-extractive"];

    /// <summary>The app's [Function] names and trigger types (RagFunctions.App/Functions).</summary>
    public static readonly (string Function, string Trigger)[] Functions =
    [
        ("QueryFunction", "http"),
        ("SubmitBatchFunction", "http"),
        ("BatchStatusFunction", "http"),
        ("HealthFunction", "http"),
        ("ProcessQueryMessage", "queue"),
        ("RecordPoisonMessage", "queue"),
    ];

    /// <summary>The two pods the push benchmarks compare.</summary>
    public enum Pod
    {
        OneModel,
        EveryModelAndFunction,
    }

    public static RagMetrics Create(Pod pod) => pod == Pod.OneModel ? CreateOneModelPod() : Create();

    public static RagMetrics Create() => Create(Models, Functions);

    /// <summary>A query pod: one configured model (as AddRagFunctions registers it), every query through QueryFunction over HTTP.</summary>
    public static RagMetrics CreateOneModelPod() => Create([Models[0]], [Functions[0]]);

    private static RagMetrics Create(string[] models, (string Function, string Trigger)[] used)
    {
        var metrics = new RagMetrics("bench", models, ["default"]);
        var functions = used.Select(f => metrics.ForFunction(f.Function, f.Trigger)).ToArray();
        var servesQueue = used.Any(f => f.Trigger == "queue");
        var random = new Random(42);
        for (var i = 0; i < 500; i++)
        {
            var model = metrics.ForModel(models[i % models.Length], "default");
            var generation = 0.2 + (random.NextDouble() * 2);
            metrics.RetrievalStage.Observe(0.0002 + (random.NextDouble() * 0.002));
            metrics.RetrievedDocuments.Observe(random.Next(0, 5));
            metrics.GenerationStage.Observe(generation);
            model.InputTokens.Inc(800 + random.Next(800));
            model.OutputTokens.Inc(100 + random.Next(200));
            model.CacheReadTokens.Inc(random.Next(512));
            var cost = random.NextDouble() * 0.0002;
            model.Cost.Inc(cost);
            model.QueryCost.Observe(cost);
            metrics.TotalStage.Observe(generation + 0.001);
            metrics.QueryCompleted(servesQueue && i % 3 == 0 ? QueryOrigin.Queue : QueryOrigin.Http, QueryOutcome.Success, "default");
            var function = functions[i % functions.Length];
            function.Succeeded.Inc();
            function.Duration.Observe(generation + 0.003);
        }

        metrics.QueryCompleted(QueryOrigin.Http, QueryOutcome.Invalid, "default");
        metrics.ForModel(models[0], "default").CountError(LlmErrorKind.Throttling);
        metrics.TotalErrorStage.Observe(1.5);
        metrics.NoContext.Inc();
        return metrics;
    }

    /// <summary>The exposition text the pusher PUTs.</summary>
    public static byte[] Serialize(RagMetrics metrics)
    {
        using var body = new MemoryStream();
        metrics.Registry.CollectAndExportAsTextAsync(body).GetAwaiter().GetResult();
        return body.ToArray();
    }

    /// <summary>Sample lines of an exposition text (everything but # HELP / # TYPE and blank lines).</summary>
    public static int SeriesCount(byte[] payload) =>
        System.Text.Encoding.UTF8.GetString(payload).Split('\n').Count(line => line.Length > 0 && line[0] != '#');
}
