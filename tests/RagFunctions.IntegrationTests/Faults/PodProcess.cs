using System.Diagnostics;
using System.Text;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>
/// One simulated pod as a real child process (<c>dotnet exec RagFunctions.SimulatedPod.dll</c> from the test output): the
/// app's functions with the queue pump and the pusher, until SIGTERM (clean stop, final push) or SIGKILL (a node failure).
/// </summary>
internal sealed class PodProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PodProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static PodProcess Start(string name, IReadOnlyDictionary<string, string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "RagFunctions.SimulatedPod.dll");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{path} is missing: build tests/RagFunctions.IntegrationTests (it references the simulated pod).");
        }

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(path);
        info.ArgumentList.Add("--pod-name");
        info.ArgumentList.Add(name);
        info.ArgumentList.Add("--host-json");
        info.ArgumentList.Add(Path.Combine(Prerequisites.RepoRoot, "host.json"));
        info.ArgumentList.Add("--corpus");
        info.ArgumentList.Add(Path.Combine(Prerequisites.RepoRoot, "functions", "corpus"));
        foreach (var (key, value) in arguments)
        {
            info.ArgumentList.Add("--" + key);
            info.ArgumentList.Add(value);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start pod {name}");
        var pod = new PodProcess(name, process);
        process.OutputDataReceived += (_, e) => pod.Append(e.Data);
        process.ErrorDataReceived += (_, e) => pod.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
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
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>SIGTERM by PID: the pod lets in-flight messages finish and pushes one last time.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"pod {Name} did not stop within {grace} of SIGTERM:\n{Output}");
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        const string marker = " ready instance=";
        var at = line.IndexOf(marker, StringComparison.Ordinal);
        if (at >= 0)
        {
            _ready.TrySetResult(line[(at + marker.Length)..].Split(' ')[0]);
        }

        lock (_output)
        {
            if (_output.Length < 256 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }
}
