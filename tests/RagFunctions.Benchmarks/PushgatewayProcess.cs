using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RagFunctions.Benchmarks;

/// <summary>
/// A real Pushgateway on a free loopback port with its persistence file in a temp folder, stopped by its own PID.
/// </summary>
public sealed class PushgatewayProcess : IDisposable
{
    private static readonly string[] Candidates = ["/usr/bin/prometheus-pushgateway", "/usr/local/bin/pushgateway"];

    private readonly Process _process;
    private readonly string _dataDirectory;

    private PushgatewayProcess(Process process, string dataDirectory, Uri url)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>
    /// Starts one with the shipped flags (Terraform, scripts/dev, compose: no per-push consistency check), or, with
    /// <paramref name="checkConsistency"/>, as the Pushgateway runs by default: every push checked against every group.
    /// </summary>
    public static PushgatewayProcess Start(bool checkConsistency = false)
    {
        var binary = Candidates.FirstOrDefault(File.Exists) ?? FindOnPath("prometheus-pushgateway") ?? FindOnPath("pushgateway")
            ?? throw new InvalidOperationException("prometheus-pushgateway not found: run scripts/setup (it installs the Debian package).");
        var port = FreeLoopbackPort();
        var data = Directory.CreateTempSubdirectory("rag-bench-pushgateway-").FullName;
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        start.ArgumentList.Add($"--persistence.file={Path.Combine(data, "pushgateway.db")}");
        if (!checkConsistency)
        {
            start.ArgumentList.Add("--push.disable-consistency-check");
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new PushgatewayProcess(process, data, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            gateway.WaitReady(TimeSpan.FromSeconds(15));
        }
        catch
        {
            gateway.Dispose();
            throw;
        }

        return gateway;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5_000);
            }
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private void WaitReady(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Pushgateway exited with code {_process.ExitCode} before it was ready.");
            }

            try
            {
                using var response = http.GetAsync(new Uri(Url, "/-/ready")).GetAwaiter().GetResult();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow to answer on a busy machine; try again.
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException($"Pushgateway at {Url} not ready within {timeout.TotalSeconds} s.");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
