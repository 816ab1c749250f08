using Microsoft.AspNetCore.Http;
using RagFunctions.Core.Budgets;

namespace RagFunctions.App.Http;

/// <summary>
/// The tenant of an HTTP request, resolved once at the edge: the function key name that the trusted ingress in front of
/// the app states in <see cref="KeyHeader"/>, mapped through the allow-list (<see cref="TenantBudgets.TenantOfKey"/>).
/// An isolated worker is not told which function key the host validated, so the header is trusted only behind an
/// ingress that sets it and strips any value a client sent. Absent, repeated or unknown: <c>default</c>.
/// </summary>
public sealed class RequestTenant(TenantBudgets budgets)
{
    public const string KeyHeader = "X-Rag-Tenant-Key";

    public string Of(HttpRequest request) =>
        request.Headers[KeyHeader] is { Count: 1 } values ? budgets.TenantOfKey(values[0]) : BudgetOptions.DefaultTenant;
}
