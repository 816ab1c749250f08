namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>Real Azurite (queues + tables) on free loopback ports with a temp location; killed by PID.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private BackgroundServer? _queue;
    private BackgroundServer? _table;
    private string? _location;

    public int QueuePort { get; private set; }

    public int TablePort { get; private set; }

    /// <summary>The well-known Azurite development account key, documented publicly; not a secret.</summary>
    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public async Task InitializeAsync()
    {
        _location = Directory.CreateTempSubdirectory("azurite-").FullName;
        await StartAsync();
    }

    /// <summary>Kills Azurite and starts it again on the same ports and data (fault tests).</summary>
    public async Task RestartAsync()
    {
        _queue?.Dispose();
        _table?.Dispose();
        await StartAsync(QueuePort, TablePort);
    }

    /// <summary>
    /// Stops Azurite with SIGTERM, keeps it down for <paramref name="downtime"/>, then starts it on the same ports and data
    /// (fault tests). SIGTERM, because Azurite saves its metadata when it closes but only every 5 s otherwise: a SIGKILL loses
    /// the last seconds of acknowledged writes, which Azure Storage never does.
    /// </summary>
    public async Task RestartGracefullyAsync(TimeSpan downtime)
    {
        await Task.WhenAll(CloseAsync(_queue), CloseAsync(_table));
        await Task.Delay(downtime);
        await StartAsync(QueuePort, TablePort);
    }

    /// <summary>SIGTERM, wait for "successfully closed" (data saved), then SIGKILL: a client's keep-alive connection keeps it running.</summary>
    private static async Task CloseAsync(BackgroundServer? server)
    {
        if (server is null)
        {
            return;
        }

        using (var term = System.Diagnostics.Process.Start("kill", ["-TERM", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term!.WaitForExitAsync();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!server.HasExited && !server.Output.Contains("successfully closed", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        server.Dispose();
    }

    public Task DisposeAsync()
    {
        _queue?.Dispose();
        _table?.Dispose();
        if (_location is not null)
        {
            try
            {
                Directory.Delete(_location, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temp folder left behind is harmless.
            }
        }

        return Task.CompletedTask;
    }

    private async Task StartAsync(int queuePort = 0, int tablePort = 0)
    {
        var azurite = Prerequisites.Azurite;
        QueuePort = queuePort == 0 ? FreePort.Next() : queuePort;
        TablePort = tablePort == 0 ? FreePort.Next() : tablePort;
        string[] common = ["--location", _location!, "--skipApiVersionCheck", "--silent", "--disableProductStyleUrl"];
        _queue = await BackgroundServer.StartAsync("azurite-queue", Path.Combine(Path.GetDirectoryName(azurite)!, "azurite-queue"),
            [.. common, "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture)], QueuePort);
        _table = await BackgroundServer.StartAsync("azurite-table", Path.Combine(Path.GetDirectoryName(azurite)!, "azurite-table"),
            [.. common, "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(System.Globalization.CultureInfo.InvariantCulture)], TablePort);
    }
}
