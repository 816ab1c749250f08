using RagFunctions.Ledger;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>
/// The real ledger as a child process: <c>dotnet exec RagFunctions.Ledger.dll</c> from the test output folder
/// (the project reference copies it there), configured through <c>Ledger__*</c> environment variables. With a crash
/// step it runs <c>RagFunctions.CrashingLedger.dll</c> instead: the same composition plus a test-only crash.
/// </summary>
public sealed class LedgerProcess : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly BackgroundServer _process;

    private LedgerProcess(BackgroundServer process, int metricsPort)
    {
        _process = process;
        MetricsPort = metricsPort;
    }

    /// <summary>Loopback port of its /metrics, the port Prometheus scrapes.</summary>
    public int MetricsPort { get; }

    public Uri MetricsUrl => new($"http://127.0.0.1:{MetricsPort}/metrics");

    /// <summary>Waits until its HTTP endpoint answers (/healthz, which starts no first-sample hold).</summary>
    public Task WaitUntilListeningAsync(TimeSpan timeout) => Poll.UntilAsync(async () =>
    {
        try
        {
            using var response = await Http.GetAsync(new Uri(MetricsUrl, "/healthz"));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }, timeout, $"the ledger listens on {MetricsUrl}", () => Output);

    /// <summary>One GET of /metrics, as a scrape: it starts the first-sample hold of any series served at 0 for the first time.</summary>
    public async Task<string> ScrapeAsync() => await Http.GetStringAsync(MetricsUrl);

    private static string AssemblyPath(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, name + ".dll");
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: build tests/RagFunctions.IntegrationTests (it references {name}).");
    }

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    public string Output => _process.Output;

    /// <param name="settings">Ledger settings, without the <c>Ledger__</c> prefix.</param>
    /// <param name="crashAt">SIGKILL at this step of the first cycle that folds new data; null: never.</param>
    /// <param name="metricsPort">Loopback port for /metrics (a replica restarted keeps its port, as a pod keeps its scrape target); null: a free one.</param>
    /// <param name="ragSettings">Settings the ledger shares with the app (tenants and budgets), without the <c>Rag__</c> prefix.</param>
    public static LedgerProcess Start(IReadOnlyDictionary<string, string> settings, LedgerCycleStep? crashAt = null, int? metricsPort = null,
        IReadOnlyDictionary<string, string>? ragSettings = null)
    {
        var port = metricsPort ?? FreePort.Next();
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Logging__Console__FormatterName"] = "simple",
        };
        foreach (var (key, value) in settings)
        {
            environment["Ledger__" + key] = value;
        }

        foreach (var (key, value) in ragSettings ?? new Dictionary<string, string>())
        {
            environment["Rag__" + key] = value;
        }

        environment["Ledger__MetricsUrl"] = $"http://127.0.0.1:{port}";

        var assembly = "RagFunctions.Ledger";
        if (crashAt is { } step)
        {
            environment["Fault__CrashAt"] = step.ToString();
            assembly = "RagFunctions.CrashingLedger";
        }

        return new LedgerProcess(BackgroundServer.Launch("ledger", "dotnet", ["exec", AssemblyPath(assembly)], environment: environment), port);
    }

    /// <summary>SIGKILL by PID, as a node failure would.</summary>
    public void Kill() => _process.Kill();

    public void Dispose() => _process.Dispose();
}
