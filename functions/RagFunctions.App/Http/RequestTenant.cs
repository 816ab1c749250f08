using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Options;

namespace RagFunctions.App.Http;

/// <summary>
/// The tenant of an HTTP request, resolved once at the edge: the function key name that the trusted ingress in front of
/// the app states in <see cref="KeyHeader"/>, mapped through the allow-list (<see cref="TenantBudgets.TenantOfKey"/>).
/// An isolated worker is not told which function key the host validated, so the header is read only when
/// <see cref="RagOptions.TrustTenantHeader"/> says an ingress sets it and overwrites any value a client sent; otherwise
/// every caller is <c>default</c>. Absent, repeated or unknown: <c>default</c>.
/// </summary>
public sealed class RequestTenant(TenantBudgets budgets, IOptions<RagOptions> options)
{
    public const string KeyHeader = "X-Rag-Tenant-Key";

    private readonly bool _trusted = options.Value.TrustTenantHeader;

    public string Of(HttpRequest request) =>
        _trusted && request.Headers[KeyHeader] is { Count: 1 } values ? budgets.TenantOfKey(values[0]) : BudgetOptions.DefaultTenant;
}
