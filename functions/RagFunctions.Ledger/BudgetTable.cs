using Azure.Data.Tables;
using RagFunctions.Core.Budgets;

namespace RagFunctions.Ledger;

/// <summary>
/// Writes the spend rows (<see cref="BudgetRow"/>) from the committed state: one per tenant (and <c>_all</c>) and window,
/// upserted whole, so a repeated write is harmless and a crash before one is repaired by the next.
/// </summary>
public sealed class BudgetTable(TableClient table, TenantBudgets budgets)
{
    /// <summary>A transaction carries at most 100 operations, all in one partition (= one window).</summary>
    private const int RowsPerTransaction = 100;

    public async Task EnsureTableAsync(CancellationToken cancellationToken) => await table.CreateIfNotExistsAsync(cancellationToken);

    public async Task WriteAsync(TenantSpend spend, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var window in spend.Rows(budgets.Names, now).GroupBy(r => r.Window))
        {
            foreach (var batch in window.Chunk(RowsPerTransaction))
            {
                await table.SubmitTransactionAsync(
                    batch.Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row.ToEntity())), cancellationToken);
            }
        }
    }
}
