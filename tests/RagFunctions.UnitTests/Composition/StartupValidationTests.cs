using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RagFunctions.App;

namespace RagFunctions.UnitTests.Composition;

/// <summary>A bad setting stops the app at start with a message naming it, through the real composition root.</summary>
public sealed class StartupValidationTests
{
    private static OptionsValidationException StartWith(params (string Key, string Value)[] overrides)
    {
        var configuration = TestConfiguration.From(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["Rag:CorpusPath"] = Path.Combine(AppContext.BaseDirectory, "corpus"),
        }, overrides);
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddRagFunctions(configuration);
        using var provider = services.BuildServiceProvider();
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
    }

    [Theory]
    [InlineData("Rag:Environment", "Prod Env!", "Rag:Environment")]
    [InlineData("Rag:MaxQuestionChars", "0", "Rag:MaxQuestionChars")]
    [InlineData("Rag:MaxBatchQuestions", "-5", "Rag:MaxBatchQuestions")]
    [InlineData("Rag:Storage:ResultTable", "1-bad", "Rag:Storage:ResultTable")]
    [InlineData("Rag:Push:Enabled", "true", "Rag:Push:Url")]
    public void BadSettingFailsAtStartNamingTheSetting(string key, string value, string named)
    {
        var error = StartWith((key, value));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PushingUnderTheLedgersJobFailsAtStart()
    {
        var error = StartWith(("Rag:Push:Enabled", "true"), ("Rag:Push:Url", "http://pg:9091"), ("Rag:Push:Job", "rag-ledger"));

        Assert.Contains("Rag:Push:Job must differ from Rag:Push:LedgerJob", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BedrockProviderWithoutModelFailsAtStartNamingTheSetting()
    {
        var error = StartWith(("Rag:Generation:Provider", "Bedrock"), ("Rag:Generation:Bedrock:Region", "us-east-1"));

        Assert.Contains("Rag:Generation:Bedrock:ModelId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingStorageConnectionFailsAtStartNamingIt()
    {
        var error = StartWith(("AzureWebJobsStorage", ""));

        Assert.Contains("AzureWebJobsStorage", error.Message, StringComparison.Ordinal);
    }
}
