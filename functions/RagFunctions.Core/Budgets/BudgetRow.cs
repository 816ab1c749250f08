using System.Globalization;
using Azure.Data.Tables;

namespace RagFunctions.Core.Budgets;

/// <summary>
/// One row of the budgets table (<c>Rag:Budgets:Table</c>, default <c>ragbudgets</c>): a tenant's exact spend in one
/// window, written only by the ledger (after each commit that changed it), read by the app.
/// PartitionKey = window (<c>daily</c> | <c>monthly</c>), RowKey = tenant (<c>_all</c>: all tenants).
/// </summary>
/// <param name="Spent">Exact USD spent in the window (stored as invariant decimal text: Table storage has no decimal type).</param>
/// <param name="WindowStart">00:00 UTC of the day, or of the 1st of the month, the spend belongs to.</param>
/// <param name="ResetsAt">When the window ends: from then on the tenant's spend in this window is 0, whatever the row says.</param>
/// <param name="UpdatedAt">The fold time of the ledger's last write of the row.</param>
public sealed record BudgetRow(string Tenant, BudgetWindow Window, decimal Spent, DateTimeOffset WindowStart, DateTimeOffset ResetsAt, DateTimeOffset UpdatedAt)
{
    /// <summary>The spend that counts at <paramref name="at"/>: <see cref="Spent"/> while its window lasts, 0 once it has reset.</summary>
    public decimal SpentAt(DateTimeOffset at) => at >= ResetsAt ? 0m : Spent;

    public TableEntity ToEntity() => new(Window.LabelValue(), Tenant)
    {
        [nameof(Spent)] = Spent.ToString(CultureInfo.InvariantCulture),
        [nameof(WindowStart)] = WindowStart,
        [nameof(ResetsAt)] = ResetsAt,
        [nameof(UpdatedAt)] = UpdatedAt,
    };

    /// <summary>Reads a row the ledger wrote; null for a row of an unknown window or with unreadable values.</summary>
    public static BudgetRow? FromEntity(TableEntity entity)
    {
        var window = BudgetWindows.All.Where(w => w.LabelValue() == entity.PartitionKey).Cast<BudgetWindow?>().FirstOrDefault();
        return window is { } w
            && decimal.TryParse(entity.GetString(nameof(Spent)), NumberStyles.Number, CultureInfo.InvariantCulture, out var spent)
            && entity.GetDateTimeOffset(nameof(WindowStart)) is { } start
            && entity.GetDateTimeOffset(nameof(ResetsAt)) is { } resets
            && entity.GetDateTimeOffset(nameof(UpdatedAt)) is { } updated
            ? new BudgetRow(entity.RowKey, w, spent, start, resets, updated)
            : null;
    }
}
