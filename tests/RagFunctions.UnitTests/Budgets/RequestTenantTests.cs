using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using RagFunctions.App.Http;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Options;

namespace RagFunctions.UnitTests.Budgets;

/// <summary>How the tenant header is read at the edge: trusted only when configured, and only as one known key name.</summary>
public sealed class RequestTenantTests
{
    private static RequestTenant Tenant(bool trusted) => new(
        new TenantBudgets(new BudgetOptions { Tenants = [new TenantOptions { KeyName = "acme-key", Name = "acme" }] }),
        Options.Create(new RagOptions { Environment = "test", TrustTenantHeader = trusted }));

    private static HttpRequest Request(StringValues header)
    {
        var context = new DefaultHttpContext();
        if (!StringValues.IsNullOrEmpty(header))
        {
            context.Request.Headers[RequestTenant.KeyHeader] = header;
        }

        return context.Request;
    }

    [Fact]
    public void OneKnownKeyNameIsItsTenantWhenTheHeaderIsTrusted() =>
        Assert.Equal("acme", Tenant(trusted: true).Of(Request("acme-key")));

    [Fact]
    public void TheHeaderNameMatchesWhateverItsCase()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-rag-tenant-key"] = "acme-key";

        Assert.Equal("acme", Tenant(trusted: true).Of(context.Request));
    }

    /// <param name="values">The header's values, comma-separated; empty: no header.</param>
    [Theory]
    [InlineData("acme-key,acme-key")]
    [InlineData("acme-key,other-key")]
    [InlineData("other-key")]
    [InlineData("ACME-KEY")]
    [InlineData("")]
    public void ARepeatedUnknownOrAbsentHeaderIsDefault(string values) =>
        Assert.Equal(BudgetOptions.DefaultTenant, Tenant(trusted: true).Of(Request(new StringValues(values.Split(',', StringSplitOptions.RemoveEmptyEntries)))));

    [Fact]
    public void AnUntrustedHeaderIsIgnored() =>
        Assert.Equal(BudgetOptions.DefaultTenant, Tenant(trusted: false).Of(Request("acme-key")));
}
