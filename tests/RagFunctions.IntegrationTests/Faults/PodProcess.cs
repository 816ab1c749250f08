using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>
/// One simulated pod as a real child process (<c>dotnet exec RagFunctions.SimulatedPod.dll</c> from the test output): the
/// app's functions with the queue pump and the pusher, until SIGTERM (clean stop, final push) or SIGKILL (a node failure).
/// </summary>
internal sealed class PodProcess : IDisposable
{
    private const string ReadyMarker = " ready instance=";

    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private BackgroundServer _process = null!;

    private PodProcess(string name) => Name = name;

    public string Name { get; }

    public int Pid => _process.Pid;

    public bool HasExited => _process.HasExited;

    public string Output => _process.Output;

    public static PodProcess Start(string name, IReadOnlyDictionary<string, string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "RagFunctions.SimulatedPod.dll");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{path} is missing: build tests/RagFunctions.IntegrationTests (it references the simulated pod).");
        }

        List<string> args =
        [
            "exec", path,
            "--pod-name", name,
            "--host-json", Path.Combine(Prerequisites.RepoRoot, "host.json"),
            "--corpus", Path.Combine(Prerequisites.RepoRoot, "functions", "corpus"),
        ];
        foreach (var (key, value) in arguments)
        {
            args.Add("--" + key);
            args.Add(value);
        }

        var pod = new PodProcess(name);
        pod._process = BackgroundServer.Launch($"pod {name}", "dotnet", args, environment: environment, onLine: pod.OnLine);
        return pod;
    }

    /// <summary>Waits for the pod's ready line (composed, start-up push done, pump running) and returns its push instance.</summary>
    public async Task<string> WaitUntilReadyAsync(TimeSpan timeout)
    {
        var finished = await Task.WhenAny(_ready.Task, Task.Delay(timeout), _process.WaitForExitAsync());
        return finished == _ready.Task
            ? await _ready.Task
            : throw new TimeoutException($"pod {Name} did not get ready within {timeout} (exited: {_process.HasExited}):\n{Output}");
    }

    /// <summary>SIGKILL by PID: no final push, in-flight messages stay leased until their lease runs out.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM by PID: the pod lets in-flight messages finish and pushes one last time.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (!await Task.Run(() => _process.Stop(grace)))
        {
            throw new TimeoutException($"pod {Name} did not stop within {grace} of SIGTERM:\n{Output}");
        }
    }

    public void Dispose() => _process.Dispose();

    private void OnLine(string line)
    {
        var at = line.IndexOf(ReadyMarker, StringComparison.Ordinal);
        if (at >= 0)
        {
            _ready.TrySetResult(line[(at + ReadyMarker.Length)..].Split(' ')[0]);
        }
    }
}
