using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RagFunctions.Ledger;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// The ledger's own composition (AddLedger) with the clock replaced; cycles run when the test says, and scrapes (of
/// <see cref="ServeAsync"/>) take turns with them, as the worker's own loop makes them.
/// </summary>
internal sealed class InProcessLedger : IDisposable
{
    private readonly ServiceProvider _provider;
    private readonly LedgerWorker _worker;
    private readonly SemaphoreSlim _turn = new(1, 1);

    private InProcessLedger(ServiceProvider provider)
    {
        _provider = provider;
        _worker = provider.GetRequiredService<LedgerWorker>();
    }

    public static InProcessLedger Start(IReadOnlyDictionary<string, string?> settings, TimeProvider clock, string replica)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).AddInMemoryCollection([KeyValuePair.Create("Ledger:ReplicaId", (string?)replica)]).Build();
        var services = new ServiceCollection().AddLogging().AddLedger(configuration);
        services.AddSingleton(clock);
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        provider.GetRequiredService<LedgerStateStore>().EnsureTableAsync(CancellationToken.None).GetAwaiter().GetResult();
        provider.GetRequiredService<BudgetTable>().EnsureTableAsync(CancellationToken.None).GetAwaiter().GetResult();
        return new InProcessLedger(provider);
    }

    public Task CycleAsync() => InTurnAsync(() => _worker.RunCycleAsync(CancellationToken.None));

    public async Task<string> ScrapeAsync() => await InTurnAsync(() => _worker.RenderForScrapeAsync(CancellationToken.None))
        ?? throw new InvalidOperationException("the ledger serves nothing: it does not hold the lease");

    /// <summary>Serves <c>GET /metrics</c> on a loopback port, as the ledger process does, for a real Prometheus to scrape.</summary>
    public async Task<WebApplication> ServeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/metrics", async () => Results.Text(
            await InTurnAsync(() => _worker.RenderForScrapeAsync(CancellationToken.None)) ?? string.Empty, "text/plain; version=0.0.4; charset=utf-8"));
        await app.StartAsync();
        return app;
    }

    public void Dispose()
    {
        _provider.Dispose();
        _turn.Dispose();
    }

    private async Task InTurnAsync(Func<Task> step) => await InTurnAsync(async () =>
    {
        await step();
        return true;
    });

    private async Task<T> InTurnAsync<T>(Func<Task<T>> step)
    {
        await _turn.WaitAsync();
        try
        {
            return await step();
        }
        finally
        {
            _turn.Release();
        }
    }
}
