using System.Diagnostics;
using System.Globalization;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.LocalDevelopment;

/// <summary>
/// The local stack as a user starts it: <c>scripts/dev up</c>, on free loopback ports with a temp <c>RAG_DEV_DIR</c>,
/// the in-process demo as the app (as where Core Tools is missing), and the ledger and demo from this test's build output.
/// Stopped with <c>scripts/dev down</c> (recorded PIDs) at the end, and any PID still recorded is killed, even on failure.
/// </summary>
public class DevStack : IAsyncLifetime
{
    // Generous: in a full run two stacks can start at once beside the unit tests, on 2 cores.
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(300);
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);
    private readonly string[] _up;

    public DevStack()
        : this("up")
    {
    }

    /// <summary>A stack started with <c>scripts/dev</c> and these arguments (e.g. <c>up --priced</c>).</summary>
    protected DevStack(params string[] up) => _up = up;

    public string Folder { get; } = Directory.CreateTempSubdirectory("rag-dev-").FullName;

    public Uri Prometheus { get; private set; } = null!;

    public Uri Pushgateway { get; private set; } = null!;

    public Uri Alertmanager { get; private set; } = null!;

    /// <summary>The ledger's /metrics listener.</summary>
    public Uri Ledger { get; private set; } = null!;

    /// <summary>What <c>scripts/dev up</c> printed and returned; tests assert on it so a failed start shows why.</summary>
    public ProcessResult Up { get; private set; } = new(-1, string.Empty, "not started");

    public async Task InitializeAsync()
    {
        // A missing binary fails here, naming scripts/test.
        _ = Prerequisites.Azurite;
        _ = Prerequisites.Pushgateway;
        _ = Prerequisites.Prometheus;
        _ = Prerequisites.Alertmanager;

        var ports = DistinctFreePorts(8);
        Pushgateway = new Uri($"http://127.0.0.1:{ports[3]}");
        Prometheus = new Uri($"http://127.0.0.1:{ports[4]}");
        Alertmanager = new Uri($"http://127.0.0.1:{ports[5]}");
        Ledger = new Uri($"http://127.0.0.1:{ports[6]}");
        _environment["RAG_DEV_DIR"] = Folder;
        _environment["RAG_DEV_AZURITE_BLOB_PORT"] = Text(ports[0]);
        _environment["RAG_DEV_AZURITE_QUEUE_PORT"] = Text(ports[1]);
        _environment["RAG_DEV_AZURITE_TABLE_PORT"] = Text(ports[2]);
        _environment["RAG_DEV_PUSHGATEWAY_PORT"] = Text(ports[3]);
        _environment["RAG_DEV_PROMETHEUS_PORT"] = Text(ports[4]);
        _environment["RAG_DEV_ALERTMANAGER_PORT"] = Text(ports[5]);
        _environment["RAG_DEV_LEDGER_PORT"] = Text(ports[6]);
        _environment["RAG_DEV_BEDROCK_PORT"] = Text(ports[7]);
        _environment["RAG_DEV_SCRAPE_INTERVAL"] = "1s";
        _environment["RAG_DEV_FOLD_SECONDS"] = "1";
        _environment["RAG_DEV_SETUP"] = "skip";
        _environment["RAG_DEV_NO_FUNC"] = "1";
        _environment["RAG_DEV_PREBUILT"] = AppContext.BaseDirectory;

        Up = await DevAsync(_up, UpTimeout);
    }

    public async Task DisposeAsync()
    {
        try
        {
            await DevAsync("down", TimeSpan.FromSeconds(60));
        }
        finally
        {
            // Whatever `down` left recorded (it removes each file once stopped) is killed by its PID.
            foreach (var file in Directory.Exists(Path.Combine(Folder, "pids")) ? Directory.GetFiles(Path.Combine(Folder, "pids"), "*.pid") : [])
            {
                KillPid(Path.GetFileNameWithoutExtension(file));
            }

            TempFolder.TryDelete(Folder);
        }
    }

    public Task<ProcessResult> DevAsync(string command, TimeSpan timeout) => DevAsync([command], timeout);

    public Task<ProcessResult> DevAsync(IReadOnlyList<string> arguments, TimeSpan timeout) =>
        ProcessRunner.RunAsync(Path.Combine(Prerequisites.RepoRoot, "scripts", "dev"), arguments, timeout,
            Prerequisites.RepoRoot, environment: _environment);

    /// <summary>The PID scripts/dev recorded for a part, or null when none is recorded.</summary>
    public int? RecordedPid(string part)
    {
        var file = Path.Combine(Folder, "pids", part + ".pid");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Split(' ', 2)[0], CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    /// <summary>Runs the verify tool (from this build's output) against the stack.</summary>
    public Task<ProcessResult> VerifyAsync() =>
        ProcessRunner.RunAsync("dotnet",
        [
            "exec", Path.Combine(AppContext.BaseDirectory, "RagFunctions.Verify.dll"),
            "--prometheus", Prometheus.ToString(), "--pushgateway", Pushgateway.ToString(), "--alertmanager", Alertmanager.ToString(),
            "--no-kubernetes", "--max-ledger-age", "5",
            "--dashboards", Path.Combine(Prerequisites.RepoRoot, "dashboards"),
            "--rules", Path.Combine(Prerequisites.RepoRoot, RulesTemplate.RelativePath),
        ], TimeSpan.FromSeconds(60), Prerequisites.RepoRoot);

    /// <summary>Runs verify until <paramref name="done"/> holds for its result or <paramref name="within"/> passes; returns the last result.</summary>
    public async Task<ProcessResult> VerifyUntilAsync(Func<ProcessResult, bool> done, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var result = await VerifyAsync();
            if (done(result) || DateTime.UtcNow >= deadline)
            {
                return result;
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>SIGKILLs one part of the stack by the PID scripts/dev recorded for it.</summary>
    public void Kill(string part) => KillPid(part);

    /// <summary>The last lines of a part's log, for assertion messages.</summary>
    public string Log(string part)
    {
        var file = Path.Combine(Folder, "logs", part + ".log");
        return File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(40)) : $"(no {file})";
    }

    private void KillPid(string part)
    {
        if (RecordedPid(part) is not { } pid)
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(10_000);
        }
        catch (ArgumentException)
        {
            // Not running any more.
        }
        catch (InvalidOperationException)
        {
            // Exited between the lookup and the kill.
        }
    }

    private static int[] DistinctFreePorts(int count)
    {
        var ports = new HashSet<int>();
        while (ports.Count < count)
        {
            ports.Add(FreePort.Next());
        }

        return [.. ports];
    }

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);
}
