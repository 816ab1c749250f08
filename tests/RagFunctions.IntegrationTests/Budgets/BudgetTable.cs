using Azure.Data.Tables;
using RagFunctions.Core.Budgets;

namespace RagFunctions.IntegrationTests.Budgets;

/// <summary>A budgets table on Azurite, written exactly as the ledger writes it (<see cref="BudgetRow.ToEntity"/>).</summary>
internal sealed class BudgetTable(string connectionString)
{
    /// <summary>A fresh table name per test: tests that share one Azurite never see each other's spend.</summary>
    public string Name { get; } = "budgets" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>Upserts the ledger's row of <paramref name="tenant"/> (or <c>_all</c>) for the window that contains <paramref name="at"/>.</summary>
    public async Task WriteAsync(string tenant, BudgetWindow window, decimal spent, DateTimeOffset at)
    {
        var table = new TableClient(connectionString, Name);
        await table.CreateIfNotExistsAsync();
        await table.UpsertEntityAsync(new BudgetRow(tenant, window, spent, window.Start(at), window.ResetsAt(at), at).ToEntity(), TableUpdateMode.Replace);
    }
}
