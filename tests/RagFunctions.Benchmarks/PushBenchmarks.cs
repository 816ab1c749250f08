using System.Net.Http.Headers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Metrics.Push;

namespace RagFunctions.Benchmarks;

/// <summary>
/// One push cycle of an instance: serialize the app registry (<see cref="AppRegistry"/>) and PUT it to a real local
/// Pushgateway through the real <see cref="MetricsPusher"/> composed by <c>AddMetricsPusher</c>. Target p99 ≤ 2 ms for a
/// pod that used one model. The baseline is the Pushgateway's own floor for the same payload: a raw HttpClient PUT of the
/// identical pre-serialized bytes (no serializing, no pusher). Also serialize only. Two pods: one that used one model
/// (only touched series plus the fleet set are pushed), and one that used every model and function (nearly every series
/// touched, the size every push had while all series were pre-created). The payload column gives the bytes and series
/// of one PUT. Each push lands beside a fleet: <see cref="FleetGroups"/> other pods' groups are stored first. The
/// gateway runs as shipped (no per-push consistency check) and, for reference in the same run, as the Pushgateway runs
/// by default (every push checked against every stored group).
/// </summary>
[Config(typeof(Config))]
public class PushBenchmarks
{
    private PushgatewayProcess _gateway = null!;
    private ServiceProvider _services = null!;
    private MetricsPusher _pusher = null!;
    private RagMetrics _metrics = null!;
    private HttpClient _http = null!;
    private byte[] _payload = null!;
    private Uri _putOnlyGroup = null!;

    /// <summary>Other pods' groups stored beside the benchmarked one (a modest fleet; README, Scale).</summary>
    private const int FleetGroups = 200;

    [Params(AppRegistry.Pod.OneModel, AppRegistry.Pod.EveryModelAndFunction)]
    public AppRegistry.Pod Pod { get; set; }

    /// <summary>false as shipped; true is the Pushgateway's default, the reference.</summary>
    [Params(false, true)]
    public bool PerPushCheck { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _gateway = PushgatewayProcess.Start(PerPushCheck);
        _metrics = AppRegistry.Create(Pod);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rag:Push:Enabled"] = "true",
            ["Rag:Push:Url"] = _gateway.Url.ToString(),
            ["Rag:Push:Instance"] = "bench-push",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(_metrics);
        services.AddMetricsPusher();
        _services = services.BuildServiceProvider();
        _pusher = _services.GetRequiredService<MetricsPusher>();
        if (!_pusher.PushAsync(CancellationToken.None).GetAwaiter().GetResult())
        {
            throw new InvalidOperationException($"The Pushgateway at {_gateway.Url} rejected the first push.");
        }

        _payload = AppRegistry.Serialize(_metrics);
        _putOnlyGroup = new Uri(_gateway.Url, "/metrics/job/rag-functions/instance/bench-put-only");
        _http = new HttpClient();
        var fleetPayload = AppRegistry.Serialize(AppRegistry.Create(AppRegistry.Pod.OneModel));
        for (var pod = 0; pod < FleetGroups; pod++)
        {
            if (!Put(new Uri(_gateway.Url, $"/metrics/job/rag-functions/instance/bench-fleet-{pod}"), fleetPayload).GetAwaiter().GetResult())
            {
                throw new InvalidOperationException($"The Pushgateway at {_gateway.Url} rejected fleet group {pod}.");
            }
        }

        Console.WriteLine($"// Push payload: {_payload.Length} bytes, {AppRegistry.SeriesCount(_payload)} series, beside {FleetGroups} groups");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var failures = _metrics.PushFailures.Value;
        _http.Dispose();
        _services.Dispose();
        _gateway.Dispose();
        if (failures > 0)
        {
            throw new InvalidOperationException($"{failures} pushes failed during the run: the push figures include failures.");
        }
    }

    [Benchmark(Description = "serialize + PUT (MetricsPusher.PushAsync)")]
    public Task<bool> SerializeAndPut() => _pusher.PushAsync(CancellationToken.None);

    [Benchmark(Description = "serialize only")]
    public async Task<long> SerializeOnly()
    {
        using var body = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(body);
        return body.Length;
    }

    [Benchmark(Baseline = true, Description = "Pushgateway floor: raw PUT of the same bytes")]
    public Task<bool> PutOnly() => Put(_putOnlyGroup, _payload);

    private async Task<bool> Put(Uri group, byte[] payload)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, group) { Content = new ByteArrayContent(payload) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain; version=0.0.4");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return response.IsSuccessStatusCode;
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            Add(new PerOperationConfig());
            AddColumn(new PayloadColumn());
        }
    }

    /// <summary>Bytes and series of the pushed text (the same registry built in the host process; deterministic).</summary>
    private sealed class PayloadColumn : IColumn
    {
        private static string Describe(AppRegistry.Pod pod)
        {
            var payload = AppRegistry.Serialize(AppRegistry.Create(pod));
            return $"{payload.Length} B / {AppRegistry.SeriesCount(payload)} series";
        }

        public string Id => nameof(PayloadColumn);

        public string ColumnName => "Payload";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => false;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Size and series count of the exposition text one push sends";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
            benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(SerializeOnly) ? "-" : Describe((AppRegistry.Pod)benchmarkCase.Parameters[nameof(Pod)]);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
