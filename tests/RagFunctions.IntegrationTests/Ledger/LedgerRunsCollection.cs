namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// The ledger runs time real processes (stale ages, leases, scrape holds) on 2 cores: they run one after another and
/// beside no other test class, so no run starves another into a stall that looks like a ledger fault.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LedgerRunsCollection
{
    public const string Name = "ledger runs";
}
