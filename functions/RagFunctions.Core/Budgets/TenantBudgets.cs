namespace RagFunctions.Core.Budgets;

/// <summary>
/// The validated allow-list and limits, resolved once: which tenant a key name or a label value stands for, and each
/// tenant's (and the global) limit per window and kind. The app and the ledger both read it; neither resolves twice.
/// </summary>
public sealed class TenantBudgets
{
    private readonly Dictionary<string, string> _tenantOfKey;
    private readonly Dictionary<string, TenantOptions> _tenants;
    private readonly GlobalBudgetOptions _global;

    public TenantBudgets(BudgetOptions options)
    {
        _global = options.Budgets;
        _tenants = options.Tenants.ToDictionary(t => t.Name, StringComparer.Ordinal);
        _tenantOfKey = options.Tenants.Where(t => !string.IsNullOrEmpty(t.KeyName)).ToDictionary(t => t.KeyName!, t => t.Name, StringComparer.Ordinal);
        Names = [.. _tenants.Keys.Append(BudgetOptions.DefaultTenant).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>Every tenant, <c>default</c> included, sorted: the bounded set of <c>tenant</c> label values.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The table of spend rows (<see cref="GlobalBudgetOptions.Table"/>).</summary>
    public string Table => _global.Table;

    /// <summary>The tenant of a caller's function key name: its allow-listed tenant, else <c>default</c>.</summary>
    public string TenantOfKey(string? keyName) =>
        keyName is not null && _tenantOfKey.TryGetValue(keyName, out var tenant) ? tenant : BudgetOptions.DefaultTenant;

    /// <summary>The tenant a <c>tenant</c> label value counts for: itself when allow-listed, else (absent or unknown) <c>default</c>.</summary>
    public string TenantOfLabel(string? label) =>
        label is not null && _tenants.ContainsKey(label) ? label : BudgetOptions.DefaultTenant;

    /// <summary>The limit of <paramref name="tenant"/> (or <see cref="BudgetOptions.AllTenants"/> for the global one); null: none.</summary>
    public decimal? Limit(string tenant, BudgetWindow window, BudgetLimitKind kind)
    {
        WindowLimits? limits = tenant == BudgetOptions.AllTenants
            ? (window == BudgetWindow.Daily ? _global.Daily : _global.Monthly)
            : _tenants.TryGetValue(tenant, out var options) ? (window == BudgetWindow.Daily ? options.Daily : options.Monthly) : null;
        return limits?.Of(kind);
    }
}
