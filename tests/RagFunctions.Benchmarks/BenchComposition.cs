using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.Core;

namespace RagFunctions.Benchmarks;

/// <summary>The product's own composition (<c>AddRagPipeline</c>) with in-memory settings, as the app gets them.</summary>
public static class BenchComposition
{
    public static IConfiguration Configuration(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["Rag:Environment"] = "bench",
            ["Rag:CorpusPath"] = "corpus",
            ["Rag:TopK"] = "4",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    /// <summary>
    /// Builds the provider. With <paramref name="model"/> the composed <see cref="IChatClient"/> is replaced by it (the last
    /// registration wins), so metering, pricing and labels follow its model id exactly as with a real provider.
    /// </summary>
    public static ServiceProvider Build(IChatClient? model = null, IConfiguration? configuration = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRagPipeline(configuration ?? Configuration());
        if (model is not null)
        {
            services.AddSingleton(model);
        }

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    /// <summary>Realistic operator questions, rotated so retrieval does not hit one posting list only.</summary>
    public static readonly string[] Questions =
    [
        "What do I do when the daily budget alert fires?",
        "Why is the Pushgateway down and how do I recover it?",
        "The LLM is throttling requests, what should I check?",
        "How is the cost of a query computed from cache read tokens?",
        "Messages are ending up in the poison queue, what now?",
        "What does rag_request_duration_seconds measure and which buckets does it use?",
        "The ledger stalled; how do I restart it safely?",
        "How do I run the stack locally with Azurite?",
    ];
}
