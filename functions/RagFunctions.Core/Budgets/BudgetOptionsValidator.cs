using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace RagFunctions.Core.Budgets;

/// <summary>Refuses, at start, an allow-list or a limit that would make the tenant label unbounded or a budget meaningless.</summary>
public sealed partial class BudgetOptionsValidator : IValidateOptions<BudgetOptions>
{
    /// <summary>Largest limit accepted, in USD: far above any real budget, far below decimal's range.</summary>
    public const decimal MaxLimitUsd = 1_000_000_000m;

    /// <summary>Upper bound of <see cref="GlobalBudgetOptions.MaxTenants"/>: every tenant is a label value on several series.</summary>
    public const int MaxTenantsCeiling = 1_000;

    /// <summary>Upper bound of <see cref="GlobalBudgetOptions.RefreshSeconds"/>: an hour-old copy of the spend would hardly enforce anything.</summary>
    public const int MaxRefreshSeconds = 3_600;

    public ValidateOptionsResult Validate(string? name, BudgetOptions options)
    {
        var errors = new List<string>();
        var budgets = options.Budgets;
        if (budgets.MaxTenants is < 1 or > MaxTenantsCeiling)
        {
            errors.Add($"Rag:Budgets:MaxTenants must be between 1 and {MaxTenantsCeiling}.");
        }

        if (budgets.Table is null || !TableName().IsMatch(budgets.Table))
        {
            errors.Add("Rag:Budgets:Table must be a valid table name (a letter, then 2-62 letters or digits).");
        }

        if (budgets.RefreshSeconds is < 0.1 or > MaxRefreshSeconds)
        {
            errors.Add($"Rag:Budgets:RefreshSeconds must be between 0.1 and {MaxRefreshSeconds} (keep it at most Ledger:FoldIntervalSeconds).");
        }

        CheckLimits(errors, "Rag:Budgets:Daily", budgets.Daily);
        CheckLimits(errors, "Rag:Budgets:Monthly", budgets.Monthly);

        var names = new HashSet<string>(StringComparer.Ordinal) { BudgetOptions.DefaultTenant };
        var listedNames = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Tenants.Count; i++)
        {
            var tenant = options.Tenants[i];
            var at = $"Rag:Tenants:{i}";
            if (tenant.Name is null || !TenantName().IsMatch(tenant.Name))
            {
                errors.Add($"{at}:Name must be 1-32 lowercase letters, digits, '_' or '-', starting with a letter (it is a metric label value).");
                continue;
            }

            if (!listedNames.Add(tenant.Name))
            {
                errors.Add($"{at}:Name '{tenant.Name}' is listed twice: each tenant has one entry (one key name, one set of limits).");
            }

            names.Add(tenant.Name);
            if (string.IsNullOrEmpty(tenant.KeyName))
            {
                if (tenant.Name != BudgetOptions.DefaultTenant)
                {
                    errors.Add($"{at}:KeyName must be set: only '{BudgetOptions.DefaultTenant}' (the tenant of unknown callers) has no key.");
                }
            }
            else if (!KeyName().IsMatch(tenant.KeyName))
            {
                errors.Add($"{at}:KeyName must be 1-128 letters, digits, '_', '-' or '.' (a function key name).");
            }
            else if (!keys.Add(tenant.KeyName))
            {
                errors.Add($"{at}:KeyName '{tenant.KeyName}' is mapped twice: a key belongs to one tenant.");
            }

            CheckLimits(errors, $"{at}:Daily", tenant.Daily);
            CheckLimits(errors, $"{at}:Monthly", tenant.Monthly);
        }

        if (names.Count > budgets.MaxTenants)
        {
            errors.Add($"Rag:Tenants lists {names.Count} tenants with '{BudgetOptions.DefaultTenant}', more than Rag:Budgets:MaxTenants ({budgets.MaxTenants}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckLimits(List<string> errors, string at, WindowLimits? limits)
    {
        if (limits is null)
        {
            return;
        }

        foreach (var (kind, value) in new[] { ("Soft", limits.Soft), ("Hard", limits.Hard) })
        {
            if (value is { } usd && (usd <= 0 || usd > MaxLimitUsd))
            {
                errors.Add($"{at}:{kind} must be a positive USD amount up to {MaxLimitUsd} (leave it unset for no limit).");
            }
        }

        if (limits is { Soft: { } soft, Hard: { } hard } && soft > hard)
        {
            errors.Add($"{at}:Soft must not exceed {at}:Hard: the warning comes before the block.");
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,31}$")]
    private static partial Regex TenantName();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,128}$")]
    private static partial Regex KeyName();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    private static partial Regex TableName();
}
