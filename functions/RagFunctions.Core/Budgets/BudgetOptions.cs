namespace RagFunctions.Core.Budgets;

/// <summary>
/// Tenants and their budgets, read from section <c>Rag</c> by the app and by the ledger (both validate it at start):
/// the allow-list <c>Rag:Tenants:N:KeyName</c> → <c>Rag:Tenants:N:Name</c> with each tenant's limits, and the global
/// limits and settings under <c>Rag:Budgets</c>. Env form: <c>Rag__Tenants__0__Name</c>, <c>Rag__Budgets__Daily__Hard</c>.
/// </summary>
public sealed class BudgetOptions
{
    public const string Section = "Rag";

    /// <summary>The tenant of every caller that is unknown or unnamed; always present, whether listed or not.</summary>
    public const string DefaultTenant = "default";

    /// <summary>The <c>tenant</c> label value of the global budget (all tenants together); never a tenant name.</summary>
    public const string AllTenants = "_all";

    /// <summary>The allow-list: each entry maps one function key name to a tenant name and carries that tenant's limits.</summary>
    public List<TenantOptions> Tenants { get; set; } = [];

    public GlobalBudgetOptions Budgets { get; set; } = new();
}

/// <summary>One allow-listed tenant (<c>Rag:Tenants:N</c>).</summary>
public sealed class TenantOptions
{
    /// <summary>The function key name callers of this tenant use (what the trusted ingress sends); not needed for <c>default</c>.</summary>
    public string? KeyName { get; set; }

    /// <summary>The tenant label value: 1-32 of a-z, 0-9, '_' and '-', starting with a letter.</summary>
    public string Name { get; set; } = string.Empty;

    public WindowLimits Daily { get; set; } = new();

    public WindowLimits Monthly { get; set; } = new();
}

/// <summary>The global limits (over all tenants) and the budget settings (<c>Rag:Budgets</c>).</summary>
public sealed class GlobalBudgetOptions
{
    /// <summary>Most tenants (the allow-list plus <c>default</c>): it caps the tenant label's cardinality.</summary>
    public int MaxTenants { get; set; } = 50;

    /// <summary>The table the ledger writes each tenant's spend to and the app reads.</summary>
    public string Table { get; set; } = "ragbudgets";

    /// <summary>
    /// How old the app's cached copy of the table may get before it is read again, in seconds (0.1-3600). Keep it at most
    /// the ledger's <c>Ledger:FoldIntervalSeconds</c>: it adds to the lag of enforcement (README, Overshoot bound).
    /// </summary>
    public double RefreshSeconds { get; set; } = 5;

    public WindowLimits Daily { get; set; } = new();

    public WindowLimits Monthly { get; set; } = new();
}

/// <summary>Limits of one budget window in USD; unset means no limit of that kind.</summary>
public sealed class WindowLimits
{
    /// <summary>Reaching it raises TenantBudgetWarning.</summary>
    public decimal? Soft { get; set; }

    /// <summary>Reaching it raises TenantBudgetEnforced (and blocks the tenant until the reset: <see cref="BudgetGate"/>).</summary>
    public decimal? Hard { get; set; }

    public decimal? Of(BudgetLimitKind kind) => kind == BudgetLimitKind.Soft ? Soft : Hard;
}
