using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.EndToEnd;

/// <summary>
/// A real Alertmanager on a free loopback port with a temp storage path and clustering off, routing every alert to one
/// webhook receiver with second-scale grouping; killed by PID.
/// </summary>
internal sealed class AlertmanagerServer : IAsyncDisposable
{
    public const string Receiver = "e2e-webhook";

    private readonly string _folder;
    private readonly BackgroundServer _server;

    private AlertmanagerServer(string folder, BackgroundServer server)
    {
        _folder = folder;
        _server = server;
    }

    public int Port => _server.Port;

    public string Output => _server.Output;

    public static async Task<AlertmanagerServer> StartAsync(Uri webhook)
    {
        var binary = Prerequisites.Alertmanager;
        var folder = Directory.CreateTempSubdirectory("alertmanager-").FullName;
        var config = Path.Combine(folder, "alertmanager.yml");
        await File.WriteAllTextAsync(config, $"""
            route:
              receiver: {Receiver}
              group_by: [alertname, environment]
              group_wait: 1s
              group_interval: 1s
              repeat_interval: 1m
            receivers:
              - name: {Receiver}
                webhook_configs:
                  - url: "{webhook}"
                    send_resolved: false
            """);
        var port = FreePort.Next();
        var server = await BackgroundServer.StartAsync("alertmanager", binary,
        [
            $"--config.file={config}",
            $"--storage.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            // Empty disables the HA cluster listener (0.0.0.0:9094 by default): loopback only, no port clash.
            "--cluster.listen-address=",
            "--log.level=warn",
        ], port);
        return new AlertmanagerServer(folder, server);
    }

    public ValueTask DisposeAsync()
    {
        _server.Dispose();
        TempFolder.TryDelete(_folder);
        return ValueTask.CompletedTask;
    }
}
