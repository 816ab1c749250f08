using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RagFunctions.App;
using RagFunctions.Core.Budgets;
using RagFunctions.Ledger;
using RagFunctions.UnitTests.Composition;

namespace RagFunctions.UnitTests.Budgets;

/// <summary>Tenants and budgets bind and are validated at start by both compositions: the app's and the ledger's.</summary>
public sealed class BudgetOptionsTests
{
    private static readonly Dictionary<string, string?> Required = new()
    {
        ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
        ["Rag:CorpusPath"] = Path.Combine(AppContext.BaseDirectory, "corpus"),
        ["Ledger:PushgatewayUrl"] = "http://pg:9091",
    };

    private static readonly (string, string)[] TwoTenants =
    [
        ("Rag:Tenants:0:KeyName", "acme-key"), ("Rag:Tenants:0:Name", "acme"),
        ("Rag:Tenants:0:Daily:Soft", "0.10"), ("Rag:Tenants:0:Daily:Hard", "0.25"), ("Rag:Tenants:0:Monthly:Hard", "12.5"),
        ("Rag:Tenants:1:KeyName", "globex.prod"), ("Rag:Tenants:1:Name", "globex"),
        ("Rag:Tenants:2:Name", "default"), ("Rag:Tenants:2:Daily:Hard", "1"),
        ("Rag:Budgets:Daily:Soft", "40"), ("Rag:Budgets:Daily:Hard", "50"), ("Rag:Budgets:Monthly:Hard", "1000"),
    ];

    public static TheoryData<string> Compositions() => new("app", "ledger");

    /// <summary>Builds the named composition and runs its start-up validation, as the host does.</summary>
    private static ServiceProvider Start(string composition, IEnumerable<(string Key, string Value)> overrides)
    {
        var configuration = TestConfiguration.From(Required, overrides);
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        _ = composition == "app" ? services.AddRagFunctions(configuration) : services.AddLedger(configuration);
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider;
    }

    private static string StartFails(string composition, params (string Key, string Value)[] overrides)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Start(composition, overrides).Dispose());
        return error.Message;
    }

    [Theory]
    [MemberData(nameof(Compositions))]
    public void ResolvesTheAllowListAndExactLimits(string composition)
    {
        using var provider = Start(composition, TwoTenants);
        var budgets = provider.GetRequiredService<TenantBudgets>();

        Assert.Equal(["acme", "default", "globex"], budgets.Names);
        Assert.Equal("acme", budgets.TenantOfKey("acme-key"));
        Assert.Equal("globex", budgets.TenantOfKey("globex.prod"));
        Assert.Equal("default", budgets.TenantOfKey("someone-else"));
        Assert.Equal("default", budgets.TenantOfKey(null));
        Assert.Equal("acme", budgets.TenantOfLabel("acme"));
        Assert.Equal("default", budgets.TenantOfLabel("intruder"));
        Assert.Equal("default", budgets.TenantOfLabel(null));
        Assert.Equal(0.10m, budgets.Limit("acme", BudgetWindow.Daily, BudgetLimitKind.Soft));
        Assert.Equal(0.25m, budgets.Limit("acme", BudgetWindow.Daily, BudgetLimitKind.Hard));
        Assert.Equal(12.5m, budgets.Limit("acme", BudgetWindow.Monthly, BudgetLimitKind.Hard));
        Assert.Null(budgets.Limit("acme", BudgetWindow.Monthly, BudgetLimitKind.Soft));
        Assert.Null(budgets.Limit("globex", BudgetWindow.Daily, BudgetLimitKind.Hard));
        Assert.Equal(1m, budgets.Limit("default", BudgetWindow.Daily, BudgetLimitKind.Hard));
        Assert.Equal(50m, budgets.Limit(BudgetOptions.AllTenants, BudgetWindow.Daily, BudgetLimitKind.Hard));
        Assert.Equal("ragbudgets", budgets.Table);
    }

    [Theory]
    [MemberData(nameof(Compositions))]
    public void WithoutSettingsOnlyTheDefaultTenantExistsAndNothingIsLimited(string composition)
    {
        using var provider = Start(composition, []);
        var budgets = provider.GetRequiredService<TenantBudgets>();

        Assert.Equal(["default"], budgets.Names);
        Assert.All(BudgetWindows.All, window => Assert.All(BudgetWindows.Kinds, kind =>
            Assert.Null(budgets.Limit(BudgetOptions.AllTenants, window, kind))));
    }

    [Theory]
    [InlineData("app", "Rag:Tenants:0:Name", "Acme Corp", "Rag:Tenants:0:Name must be 1-32 lowercase")]
    [InlineData("ledger", "Rag:Tenants:0:Name", "_all", "Rag:Tenants:0:Name must be 1-32 lowercase")]
    [InlineData("app", "Rag:Tenants:0:KeyName", "", "Rag:Tenants:0:KeyName must be set")]
    [InlineData("ledger", "Rag:Tenants:1:KeyName", "acme-key", "Rag:Tenants:1:KeyName 'acme-key' is mapped twice")]
    [InlineData("app", "Rag:Tenants:1:Name", "acme", "Rag:Tenants:1:Name 'acme' is listed twice")]
    [InlineData("ledger", "Rag:Tenants:0:Daily:Soft", "0.5", "Rag:Tenants:0:Daily:Soft must not exceed Rag:Tenants:0:Daily:Hard")]
    [InlineData("app", "Rag:Budgets:Monthly:Hard", "-1", "Rag:Budgets:Monthly:Hard must be a positive USD amount")]
    [InlineData("ledger", "Rag:Budgets:Daily:Soft", "0", "Rag:Budgets:Daily:Soft must be a positive USD amount")]
    [InlineData("app", "Rag:Budgets:MaxTenants", "2", "Rag:Tenants lists 3 tenants with 'default', more than Rag:Budgets:MaxTenants (2)")]
    [InlineData("ledger", "Rag:Budgets:MaxTenants", "0", "Rag:Budgets:MaxTenants must be between 1 and 1000")]
    [InlineData("app", "Rag:Budgets:Table", "rag-budgets", "Rag:Budgets:Table must be a valid table name")]
    [InlineData("app", "Rag:Budgets:RefreshSeconds", "0", "Rag:Budgets:RefreshSeconds must be between 0.1 and 3600")]
    [InlineData("ledger", "Rag:Budgets:RefreshSeconds", "3601", "Rag:Budgets:RefreshSeconds must be between 0.1 and 3600")]
    public void ABadSettingStopsTheStartNamingIt(string composition, string key, string value, string message)
    {
        var error = StartFails(composition, [.. TwoTenants, (key, value)]);

        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void FiftyTenantsFitTheDefaultCapAndFiftyOneDoNot()
    {
        static IEnumerable<(string, string)> Tenants(int count) => Enumerable.Range(0, count)
            .SelectMany(i => new[] { ($"Rag:Tenants:{i}:KeyName", $"key-{i}"), ($"Rag:Tenants:{i}:Name", $"t{i}") });

        using (var provider = Start("ledger", Tenants(49)))
        {
            Assert.Equal(50, provider.GetRequiredService<TenantBudgets>().Names.Count);
        }

        Assert.Contains("Rag:Tenants lists 51 tenants", StartFails("ledger", [.. Tenants(50)]), StringComparison.Ordinal);
    }
}
