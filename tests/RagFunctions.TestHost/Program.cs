using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RagFunctions.TestHost;

// `demo`: the stand-in for `func start` where Core Tools is not installed. Drives the app's real function classes through
// the real composition root and middleware, with settings from the environment (the local.settings.json keys, e.g.
// AzureWebJobsStorage, Rag__Push__Enabled, Rag__Push__Url), so push → ledger → Prometheus → rules runs for real.
// `bedrock-standin`: the simulated Bedrock Converse API of `scripts/dev up --priced` (SimulatedBedrock).
if (args is ["bedrock-standin", .. var standInArgs])
{
    return await SimulatedBedrock.RunAsync(standInArgs);
}

if (args is not ["demo", .. var rest])
{
    await Console.Error.WriteLineAsync("""
        usage: RagFunctions.TestHost demo [--host-json PATH] [--keep-running] [--interval-seconds N] [--tenant-key NAME]
          Runs a few queries (one of them invalid) and a batch drained through the queue pump, with settings from the
          environment (AzureWebJobsStorage, Rag__*). --keep-running then stays up, one query every N seconds (default 10),
          pushing metrics until SIGTERM/Ctrl+C, as a running Functions app would. --tenant-key sends X-Rag-Tenant-Key: NAME
          with every request (the tenant's key name, as a trusted ingress states it).
        """ + "\n" + SimulatedBedrock.Usage);
    return 2;
}

var options = DemoOptions.Parse(rest);
var settings = new ConfigurationBuilder().AddEnvironmentVariables().Build().AsEnumerable()
    .Where(kv => kv.Key.StartsWith("Rag:", StringComparison.Ordinal) || kv.Key == "AzureWebJobsStorage")
    .ToDictionary(kv => kv.Key, kv => kv.Value);
if (!settings.TryGetValue("AzureWebJobsStorage", out var storage) || string.IsNullOrEmpty(storage))
{
    await Console.Error.WriteLineAsync("demo: set AzureWebJobsStorage (the Azurite connection string)");
    return 2;
}

using var stopping = new StopSignal();

await using var host = await InProcessFunctionHost.StartAsync(settings, logging => logging
    .AddSimpleConsole(console => console.SingleLine = true)
    .SetMinimumLevel(LogLevel.Warning)
    .AddFilter("RagFunctions", LogLevel.Information));
var workload = new DemoWorkload(host, storage, QueueHostSettings.FromHostJson(options.HostJson), options.TenantKey, Console.Out);
try
{
    await workload.RunOnceAsync(stopping.Token);
    if (options.KeepRunning)
    {
        Console.WriteLine($"demo: staying up, one query every {options.IntervalSeconds}s; SIGTERM or Ctrl+C stops (final push on the way out)");
        await workload.TrickleAsync(TimeSpan.FromSeconds(options.IntervalSeconds), stopping.Token);
    }
}
catch (OperationCanceledException) when (stopping.IsStopping)
{
    // Stopped by a signal: disposing the host stops the pusher, which pushes one last time.
}

Console.WriteLine("demo: stopped");
return 0;

/// <summary>Command-line options of <c>demo</c>.</summary>
internal sealed record DemoOptions(string HostJson, bool KeepRunning, int IntervalSeconds, string? TenantKey)
{
    public static DemoOptions Parse(IReadOnlyList<string> args)
    {
        var options = new DemoOptions("host.json", false, 10, null);
        for (var i = 0; i < args.Count; i++)
        {
            options = args[i] switch
            {
                "--host-json" when i + 1 < args.Count => options with { HostJson = args[++i] },
                "--keep-running" => options with { KeepRunning = true },
                "--tenant-key" when i + 1 < args.Count => options with { TenantKey = args[++i] },
                "--interval-seconds" when i + 1 < args.Count && int.TryParse(args[i + 1], out var s) && s > 0 => options with { IntervalSeconds = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"demo: unknown or incomplete option '{args[i]}'"),
            };
        }

        return options;
    }
}

/// <summary>The demo workload: HTTP queries (one invalid), a batch through the queue pump, then optionally a trickle.</summary>
internal sealed class DemoWorkload(InProcessFunctionHost host, string storageConnectionString, QueueHostSettings queueSettings, string? tenantKey, TextWriter output)
{
    private readonly Dictionary<string, string> _headers = tenantKey is null ? [] : new() { [RagFunctions.App.Http.RequestTenant.KeyHeader] = tenantKey };

    private static readonly string[] Questions =
    [
        "What should I do when the daily budget is exceeded?",
        "How does the ledger turn pod pushes into exact totals?",
        "Why is the Pushgateway scraped with honor_labels?",
        "How are batch questions processed from the queue?",
        "What does the LLM throttling alert mean?",
    ];

    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        foreach (var question in Questions)
        {
            await QueryAsync(question, cancellationToken);
        }

        // One bad request: an empty question is a 400 problem+json, counted as outcome="invalid".
        var bad = await PostAsync("/api/query", """{"question":""}""", cancellationToken);
        output.WriteLine($"demo: POST /api/query (empty question) -> {bad.Status} {bad.ContentType}");

        var batch = JsonSerializer.Serialize(new { questions = Questions.Take(3).Append("How do I read the cost dashboard?").ToArray() });
        var accepted = await PostAsync("/api/batches", batch, cancellationToken);
        output.WriteLine($"demo: POST /api/batches -> {accepted.Status}");
        if (accepted.Status == 429)
        {
            // The tenant's hard budget is reached (the priced demo's point): nothing was enqueued, so there is nothing to pump.
            output.WriteLine($"demo: the batch was refused until the budget resets: {accepted.Body}");
            return;
        }

        if (accepted.Status != 202)
        {
            throw new InvalidOperationException($"demo: the batch was not accepted: {accepted.Status} {accepted.Body}");
        }

        var batchId = JsonDocument.Parse(accepted.Body).RootElement.GetProperty("batchId").GetString()!;
        var pump = new QueuePump(host, storageConnectionString, queueSettings);
        await pump.RunUntilIdleAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), cancellationToken);
        var status = await host.SendAsync("GET", $"/api/batches/{batchId}", cancellationToken: cancellationToken);
        using var view = JsonDocument.Parse(status.Body);
        var root = view.RootElement;
        output.WriteLine($"demo: batch {batchId}: {root.GetProperty("status").GetString()}, " +
                         $"{root.GetProperty("succeeded").GetInt32()}/{root.GetProperty("count").GetInt32()} succeeded, " +
                         $"{pump.Processed} messages processed, {pump.Poisoned} poisoned");
    }

    public async Task TrickleAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        var next = 0;
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await QueryAsync(Questions[next++ % Questions.Length], cancellationToken);
        }
    }

    private async Task QueryAsync(string question, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new { question });
        var result = await PostAsync("/api/query", body, cancellationToken);
        output.WriteLine($"demo: POST /api/query \"{question}\" -> {result.Status}" + (result.Status == 200 ? string.Empty : $" {result.Body}"));
    }

    private Task<HttpCallResult> PostAsync(string path, string body, CancellationToken cancellationToken) =>
        host.SendAsync("POST", path, Encoding.UTF8.GetBytes(body), "application/json", _headers, cancellationToken);
}
