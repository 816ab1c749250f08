namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>Real Azurite (queue and table services, one process each) on free loopback ports with temp locations; stopped by PID.</summary>
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

    /// <summary>
    /// Kills Azurite (SIGKILL) and starts it again on the same ports and data (fault tests). Azurite keeps its metadata in
    /// LokiJS and saves it only every 5 s (autosaveInterval 5000) or when it closes, so a SIGKILL loses the writes it
    /// acknowledged since its last save: up to ~5 s of queue and table changes. Azure Storage never does that; use
    /// <see cref="RestartGracefullyAsync"/> for a restart that must keep the data.
    /// </summary>
    public async Task RestartAsync()
    {
        _queue?.Dispose();
        _table?.Dispose();
        await StartAsync(QueuePort, TablePort);
    }

    /// <summary>
    /// Stops both services so that they save their data (see <see cref="CloseAsync"/>), keeps them down for
    /// <paramref name="downtime"/>, then starts them on the same ports and data (fault tests).
    /// </summary>
    public async Task RestartGracefullyAsync(TimeSpan downtime)
    {
        await Task.WhenAll(CloseAsync(_queue), CloseAsync(_table));
        await Task.Delay(downtime);
        await StartAsync(QueuePort, TablePort);
    }

    /// <summary>
    /// SIGINT, wait (bounded) for "successfully closed", then SIGKILL by PID. SIGINT and not SIGTERM: azurite-table 3.37
    /// (dist/src/table/main.js) handles only SIGINT and the IPC "shutdown" message, so SIGTERM ends it at once with
    /// Node's default action and without saving; azurite-queue handles both. On SIGINT each service closes its LokiJS
    /// stores, which saves what is not saved yet (Loki close() with autosave), and then prints "successfully closed".
    /// The process may stay alive after that while a client holds a keep-alive connection (stoppable waits for it), hence
    /// the SIGKILL once the data is on disk. A service that exits or times out without closing fails the restart:
    /// going on would silently test against lost data.
    /// </summary>
    private static async Task CloseAsync(BackgroundServer? server)
    {
        if (server is null)
        {
            return;
        }

        using (var interrupt = System.Diagnostics.Process.Start("kill", ["-INT", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await interrupt!.WaitForExitAsync();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!Closed(server) && !server.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var closed = Closed(server);
        server.Dispose();
        if (!closed)
        {
            throw new InvalidOperationException($"{server.Name} did not report \"successfully closed\" after SIGINT (its data may not be saved):\n{server.Output}");
        }

        static bool Closed(BackgroundServer s) => s.Output.Contains("successfully closed", StringComparison.Ordinal);
    }

    public Task DisposeAsync()
    {
        _queue?.Dispose();
        _table?.Dispose();
        if (_location is not null)
        {
            TempFolder.TryDelete(_location);
        }

        return Task.CompletedTask;
    }

    private async Task StartAsync(int queuePort = 0, int tablePort = 0)
    {
        var azurite = Prerequisites.Azurite;
        QueuePort = queuePort == 0 ? FreePort.Next() : queuePort;
        TablePort = tablePort == 0 ? FreePort.Next() : tablePort;
        // One location per service: each process writes its own LokiJS files and AzuriteConfig, nothing is shared.
        string[] common = ["--skipApiVersionCheck", "--silent", "--disableProductStyleUrl"];
        _queue = await BackgroundServer.StartAsync("azurite-queue", Path.Combine(Path.GetDirectoryName(azurite)!, "azurite-queue"),
            [.. common, "--location", Path.Combine(_location!, "queue"), "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture)], QueuePort);
        _table = await BackgroundServer.StartAsync("azurite-table", Path.Combine(Path.GetDirectoryName(azurite)!, "azurite-table"),
            [.. common, "--location", Path.Combine(_location!, "table"), "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(System.Globalization.CultureInfo.InvariantCulture)], TablePort);
    }
}
