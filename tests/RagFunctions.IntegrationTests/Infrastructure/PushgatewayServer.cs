using System.Globalization;
using System.Text.Json;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>
/// A real Pushgateway on a free loopback port with a persistence file; restartable on the same port and file. It runs
/// with the shipped flags: like Terraform, scripts/dev and the compose file, it skips the per-push consistency check.
/// </summary>
public sealed class PushgatewayServer : IAsyncDisposable
{
    private const string WebConfigFile = "web-config.yml";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _folder;
    private readonly bool _checkConsistency;
    private BackgroundServer _server;

    private PushgatewayServer(string folder, bool checkConsistency, BackgroundServer server, int port)
    {
        _folder = folder;
        _checkConsistency = checkConsistency;
        _server = server;
        Port = port;
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}");

    public string Output => _server.Output;

    /// <summary>
    /// Starts one; with <paramref name="login"/>, behind basic auth through <c>--web.config.file</c> (bcrypt hash). With
    /// <paramref name="checkConsistency"/>, it checks every push against all stored groups, as the Pushgateway does by
    /// default (the test that proves the app's pushes are consistent runs it so).
    /// </summary>
    public static async Task<PushgatewayServer> StartAsync((string User, string Password)? login = null, bool checkConsistency = false)
    {
        var folder = Directory.CreateTempSubdirectory("pushgateway-").FullName;
        if (login is var (user, password))
        {
            await File.WriteAllTextAsync(Path.Combine(folder, WebConfigFile),
                $"basic_auth_users:\n  {user}: {BCrypt.Net.BCrypt.HashPassword(password, workFactor: 4)}\n");
        }

        var port = FreePort.Next();
        return new PushgatewayServer(folder, checkConsistency, await LaunchAsync(folder, checkConsistency, port), port);
    }

    /// <summary>SIGTERM (the Pushgateway persists on shutdown), then start again on the same port and file.</summary>
    public async Task RestartAsync()
    {
        _server.Stop(TimeSpan.FromSeconds(10));
        _server.Dispose();
        _server = await LaunchAsync(_folder, _checkConsistency, Port);
    }

    /// <summary>PID of the running Pushgateway (fault tests freeze it with SIGSTOP).</summary>
    public int Pid => _server.Pid;

    /// <summary>SIGTERM (the Pushgateway persists on shutdown) and stay down until <see cref="StartAgainAsync"/> (fault tests).</summary>
    public void Stop() => _server.Stop(TimeSpan.FromSeconds(10));

    /// <summary>Starts it again on the same port and persistence file after <see cref="Stop"/>.</summary>
    public async Task StartAgainAsync()
    {
        _server.Dispose();
        _server = await LaunchAsync(_folder, _checkConsistency, Port);
    }

    /// <summary>Every group's labels and push time, from the JSON API.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double PushTime)>> GroupsAsync()
    {
        using var document = JsonDocument.Parse(await Http.GetStringAsync(new Uri(Url, "/api/v1/metrics")));
        var groups = new List<(IReadOnlyDictionary<string, string>, double)>();
        foreach (var group in document.RootElement.GetProperty("data").EnumerateArray())
        {
            var labels = group.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty);
            var push = group.GetProperty("push_time_seconds").GetProperty("metrics")[0].GetProperty("value").GetString()!;
            groups.Add((labels, double.Parse(push, CultureInfo.InvariantCulture)));
        }

        return groups;
    }

    public ValueTask DisposeAsync()
    {
        _server.Dispose();
        TempFolder.TryDelete(_folder);
        return ValueTask.CompletedTask;
    }

    private static Task<BackgroundServer> LaunchAsync(string folder, bool checkConsistency, int port)
    {
        List<string> arguments =
        [
            $"--web.listen-address=127.0.0.1:{port}",
            $"--persistence.file={Path.Combine(folder, "pg.data")}",
            "--persistence.interval=1s",
            "--log.level=warn",
        ];
        if (!checkConsistency)
        {
            arguments.Add("--push.disable-consistency-check");
        }

        var webConfig = Path.Combine(folder, WebConfigFile);
        if (File.Exists(webConfig))
        {
            arguments.Add($"--web.config.file={webConfig}");
        }

        return BackgroundServer.StartAsync("pushgateway", Prerequisites.Pushgateway, arguments, port);
    }
}
