using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>
/// A real server binary started for a test on a loopback port with its own data folder, stopped by PID.
/// Output is kept so a failed start says why.
/// </summary>
public sealed class BackgroundServer : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private Action<string>? _onLine;

    private BackgroundServer(string name, Process process, int port)
    {
        Name = name;
        _process = process;
        Port = port;
    }

    public string Name { get; }

    public int Port { get; }

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

    /// <summary>Starts <paramref name="executable"/> and waits until <paramref name="port"/> accepts connections.</summary>
    public static async Task<BackgroundServer> StartAsync(
        string name, string executable, IEnumerable<string> arguments, int port, TimeSpan? startTimeout = null,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var server = Launch(name, executable, arguments, port, environment, workingDirectory);
        var process = server._process;
        var deadline = DateTime.UtcNow + (startTimeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with {process.ExitCode} before listening on {port}:\n{server.Output}");
            }

            if (await server.AcceptsConnectionsAsync())
            {
                return server;
            }

            await Task.Delay(50);
        }

        server.Dispose();
        throw new TimeoutException($"{name} did not listen on 127.0.0.1:{port} in time:\n{server.Output}");
    }

    /// <summary>Starts a process that listens on no port (or whose readiness the caller checks), with its output captured.</summary>
    public static BackgroundServer Launch(
        string name, string executable, IEnumerable<string> arguments, int port = 0,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, Action<string>? onLine = null)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"{name}: could not start {executable}");
        var server = new BackgroundServer(name, process, port) { _onLine = onLine };
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    public async Task<bool> AcceptsConnectionsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL by PID: some servers (Azurite) ignore SIGTERM, and tests must not hang.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>SIGTERM by PID, then SIGKILL if it does not exit in time; false when it had to be killed.</summary>
    public bool Stop(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return true;
        }

        using (var kill = Process.Start("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill?.WaitForExit();
        }

        if (_process.WaitForExit(grace))
        {
            return true;
        }

        Kill();
        return false;
    }

    public Task WaitForExitAsync() => _process.WaitForExitAsync();

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

        _onLine?.Invoke(line);
        lock (_output)
        {
            // Keep the newest output: late lines (the last fold, the crash) are the ones a failing test needs.
            if (_output.Length > 256 * 1024)
            {
                _output.Remove(0, 128 * 1024);
            }

            _output.AppendLine(line);
        }
    }
}
