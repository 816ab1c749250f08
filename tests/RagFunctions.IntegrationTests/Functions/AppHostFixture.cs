using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;

namespace RagFunctions.IntegrationTests.Functions;

/// <summary>Real Azurite plus the app composed in-process over it with the shipped corpus and the offline answerer.</summary>
public sealed class AppHostFixture : IAsyncLifetime
{
    public AzuriteFixture Azurite { get; } = new();

    public InProcessFunctionHost Host { get; private set; } = null!;

    public static Dictionary<string, string?> Settings(AzuriteFixture azurite) => new()
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["Rag:Environment"] = "test",
        ["Rag:CorpusPath"] = Path.Combine(Prerequisites.RepoRoot, "functions", "corpus"),
        ["Rag:MaxBatchQuestions"] = "20",
        ["Rag:MaxBodyBytes"] = "65536",
        // The shipped 300 s outlasts a Bedrock call with retries; here a claim left by a crash or a storage outage
        // expires within the tests' bounds.
        ["Rag:Storage:ClaimLeaseSeconds"] = "5",
    };

    public async Task InitializeAsync()
    {
        await Azurite.InitializeAsync();
        Host = await InProcessFunctionHost.StartAsync(Settings(Azurite));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class AppHostCollection : ICollectionFixture<AppHostFixture>
{
    public const string Name = "app over azurite";
}
