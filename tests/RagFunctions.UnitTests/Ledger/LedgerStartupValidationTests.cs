using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RagFunctions.Ledger;
using RagFunctions.UnitTests.Composition;

namespace RagFunctions.UnitTests.Ledger;

/// <summary>The ledger's composition refuses, at start, a configuration that would let it fold its own totals or mislabel its budget gauges.</summary>
public sealed class LedgerStartupValidationTests
{
    private static LedgerOptions Start(params (string Key, string Value)[] overrides)
    {
        var configuration = TestConfiguration.From(new Dictionary<string, string?>
        {
            ["Ledger:PushgatewayUrl"] = "http://pg:9091",
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
        }, overrides);
        var services = new ServiceCollection().AddLogging().AddLedger(configuration);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<LedgerOptions>>().Value;
    }

    [Fact]
    public void StartsWithTheShippedJobs()
    {
        var options = Start();

        Assert.Equal(("rag-functions", "rag-ledger"), (options.InstanceJob, options.LedgerJob));
    }

    [Theory]
    [InlineData("rag-ledger", null)]
    [InlineData("spend", "spend")]
    public void RefusesAnInstanceJobEqualToItsOwn(string instanceJob, string? ledgerJob)
    {
        var overrides = new List<(string, string)> { ("Ledger:InstanceJob", instanceJob) };
        if (ledgerJob is not null)
        {
            overrides.Add(("Ledger:LedgerJob", ledgerJob));
        }

        var error = Assert.Throws<OptionsValidationException>(() => Start([.. overrides]));

        Assert.Contains("Ledger:InstanceJob and Ledger:LedgerJob must be set and differ", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The budget gauges' environment label is the app's Rag:Environment, validated as the app validates it.</summary>
    [Fact]
    public void RefusesAnEnvironmentTheAppWouldRefuse()
    {
        var configuration = TestConfiguration.From(new Dictionary<string, string?>
        {
            ["Ledger:PushgatewayUrl"] = "http://pg:9091",
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
        }, [("Rag:Environment", "Prod\"x")]);
        using var provider = new ServiceCollection().AddLogging().AddLedger(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ExposedBudgets>());

        Assert.Contains("Rag:Environment must be 1-31 lowercase letters, digits or dashes.", error.Message, StringComparison.Ordinal);
    }
}
