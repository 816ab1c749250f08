using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RagFunctions.Core.Metrics;
using RagFunctions.TestHost;

namespace RagFunctions.IntegrationTests.EndToEnd;

/// <summary>
/// One simulated function pod: the real app (composition root, middleware, pipeline, registry) in-process, with the real
/// pusher on (its own grouping-key instance, 1 s interval). Its lifetime runs from the start-up push to the shutdown push.
/// </summary>
internal sealed class AppInstance
{
    // Questions about the shipped corpus, and one whose retrieval finds nothing (rag_no_context_total).
    private static readonly string[] Questions =
    [
        "What does HighCostSpike mean?",
        "The daily budget was exceeded, what do I do?",
        "Why is the ledger stalled?",
        "How do I check that the Pushgateway is being scraped?",
        "p95 latency of the generation stage is high",
        "What should I do about poison messages?",
        "LLM throttling errors from the model",
        "qzxv wubbleflarn plimsoquat",
    ];

    private readonly InProcessFunctionHost _host;
    private readonly PushLog _pushLog;
    private readonly Random _random;
    private readonly Dictionary<int, int> _statuses = [];
    private readonly Dictionary<int, string> _firstProblem = [];

    private AppInstance(string name, InProcessFunctionHost host, PushLog pushLog, Random random)
    {
        Name = name;
        _host = host;
        _pushLog = pushLog;
        _random = random;
        Metrics = host.Services.GetRequiredService<RagMetrics>();
    }

    public string Name { get; }

    public RagMetrics Metrics { get; }

    /// <summary>HTTP status → count of this instance's calls.</summary>
    public IReadOnlyDictionary<int, int> Statuses => _statuses;

    public static async Task<AppInstance> StartAsync(string name, IReadOnlyDictionary<string, string?> settings, Random random)
    {
        var pushLog = new PushLog();
        var host = await InProcessFunctionHost.StartAsync(settings, logging => logging.AddProvider(pushLog));
        return new AppInstance(name, host, pushLog, random);
    }

    /// <summary>One POST /api/query: usually a corpus question, sometimes an empty (invalid) one.</summary>
    public async Task QueryAsync()
    {
        var body = _random.Next(12) == 0
            ? """{"question":""}"""
            : JsonSerializer.Serialize(new Dictionary<string, string> { ["question"] = Questions[_random.Next(Questions.Length)] });
        var response = await _host.SendAsync("POST", "/api/query", body);
        Count(response.Status, response);
    }

    /// <summary>POST /api/batches, drains the queue through the real queue function as the host would, then GETs the status.</summary>
    public async Task RunBatchAsync(string storageConnectionString, QueueHostSettings queueSettings, int questions)
    {
        var batch = JsonSerializer.Serialize(new Dictionary<string, string[]>
        {
            ["questions"] = [.. Enumerable.Range(0, questions).Select(_ => Questions[_random.Next(Questions.Length)])],
        });
        var submitted = await _host.SendAsync("POST", "/api/batches", batch);
        Count(submitted.Status);
        if (submitted.Status != 202)
        {
            throw new InvalidOperationException($"{Name}: batch submission answered {submitted.Status}: {submitted.Body}");
        }

        var pump = new QueuePump(_host, storageConnectionString, queueSettings);
        await pump.RunUntilIdleAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(60));
        var batchId = JsonDocument.Parse(submitted.Body).RootElement.GetProperty("batchId").GetString()!;
        Count((await _host.SendAsync("GET", $"/api/batches/{batchId}")).Status);
    }

    /// <summary>
    /// Stops the host (its shutdown push) and returns the registry's final exposition: what the last accepted push
    /// carried, since nothing is counted after it.
    /// </summary>
    public async Task<string> StopAsync()
    {
        await _host.DisposeAsync();
        if (_pushLog.FinalPushAccepted != true)
        {
            throw new InvalidOperationException($"{Name}: the shutdown push was not accepted ({_pushLog.FinalPushAccepted?.ToString() ?? "not logged"}).");
        }

        using var text = new MemoryStream();
        await Metrics.Registry.CollectAndExportAsTextAsync(text);
        return Encoding.UTF8.GetString(text.ToArray());
    }

    /// <summary>Stops the host of a run that failed before <see cref="StopAsync"/>, so no push loop outlives the test.</summary>
    public async Task AbandonAsync()
    {
        try
        {
            await _host.DisposeAsync();
        }
        catch (ObjectDisposedException)
        {
            // Already stopped.
        }
    }

    /// <summary>Status counts, the problem title of the first answer of each error status, and failed pushes if any.</summary>
    public string Describe() =>
        string.Join(" ", _statuses.OrderBy(s => s.Key).Select(s => string.Create(CultureInfo.InvariantCulture,
            $"{s.Key}x{s.Value}{(_firstProblem.TryGetValue(s.Key, out var title) ? $" ({title})" : string.Empty)}")))
        + (_pushLog.FailedPushes > 0 ? $"; failed pushes {_pushLog.FailedPushes}" : string.Empty);

    private void Count(int status, HttpCallResult? response = null)
    {
        lock (_statuses)
        {
            _statuses[status] = _statuses.GetValueOrDefault(status) + 1;
            if (status >= 400 && response is not null && !_firstProblem.ContainsKey(status))
            {
                _firstProblem[status] = ProblemTitle(response.Body);
            }
        }
    }

    private static string ProblemTitle(string body)
    {
        try
        {
            using var problem = JsonDocument.Parse(body);
            return $"{problem.RootElement.GetProperty("title").GetString()}: {problem.RootElement.GetProperty("detail").GetString()}";
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return body.Length > 80 ? body[..80] : body;
        }
    }
}
