using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RagFunctions.Ledger;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>The ledger's own composition (AddLedger) with the clock replaced; cycles run when the test says.</summary>
internal sealed class InProcessLedger : IDisposable
{
    private readonly ServiceProvider _provider;
    private readonly LedgerWorker _worker;

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

    public Task CycleAsync() => _worker.RunCycleAsync(CancellationToken.None);

    public async Task<string> ScrapeAsync() => await _worker.RenderForScrapeAsync(CancellationToken.None)
        ?? throw new InvalidOperationException("the ledger serves nothing: it does not hold the lease");

    public void Dispose() => _provider.Dispose();
}
