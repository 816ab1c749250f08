using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Generation.Bedrock;
using RagFunctions.Core.Generation.Extractive;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Options;
using RagFunctions.Core.Pipeline;
using RagFunctions.Core.Pricing;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core;

public static class RagServiceCollectionExtensions
{
    /// <summary>
    /// The RAG pipeline, its provider, pricing, metrics and batch storage, with options bound and validated at start.
    /// Transport-free: the Functions app, the tests and the benchmarks compose through this.
    /// </summary>
    public static IServiceCollection AddRagPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RagOptions>().Bind(configuration.GetSection(RagOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RetrievalOptions>().Bind(configuration.GetSection(RagOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<GenerationOptions>().Bind(configuration.GetSection(GenerationOptions.Section)).ValidateOnStart();
        services.AddOptions<PricingOptions>().Bind(configuration.GetSection(PricingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.Section))
            .PostConfigure(o => o.ConnectionString = string.IsNullOrWhiteSpace(o.ConnectionString) ? configuration["AzureWebJobsStorage"] ?? string.Empty : o.ConnectionString)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PricingOptions>>().Value.ToPriceTable());
        services.AddSingleton(sp => new RagMetrics(
            sp.GetRequiredService<IOptions<RagOptions>>().Value.Environment,
            [ModelIdOf(sp.GetRequiredService<IChatClient>())]));
        services.AddSingleton<IRetriever>(sp => LuceneRetriever.Create(
            sp.GetRequiredService<IOptions<RetrievalOptions>>().Value, sp.GetRequiredService<ILogger<LuceneRetriever>>()));

        var provider = configuration.GetSection(GenerationOptions.Section).Get<GenerationOptions>()?.Provider ?? GenerationProvider.Extractive;
        if (provider == GenerationProvider.Bedrock)
        {
            services.AddBedrockChatClient();
            services.AddSingleton<IChatClient>(sp => sp.GetRequiredService<BedrockConverseChatClient>());
        }
        else
        {
            services.AddSingleton<IChatClient, ExtractiveChatClient>();
        }

        services.AddSingleton(sp =>
        {
            var inner = sp.GetRequiredService<IChatClient>();
            return new MeteredChatClient(inner, ModelIdOf(inner), sp.GetRequiredService<RagMetrics>(), sp.GetRequiredService<PriceTable>(),
                sp.GetRequiredService<ILogger<MeteredChatClient>>());
        });
        services.AddSingleton<QueryValidator>();
        services.AddSingleton<RagPipeline>();
        services.AddSingleton<BatchStorage>();
        services.AddSingleton<BatchRowClaims>();
        services.AddSingleton<BatchProcessing>();
        services.AddSingleton<BatchSubmission>();
        services.AddSingleton<BatchStatusReader>();
        return services;
    }

    /// <summary>The model label of a provider: the one it reports, else the local answerer's (it reports none when wrapped).</summary>
    private static string ModelIdOf(IChatClient client) => client.GetService<ChatClientMetadata>()?.DefaultModelId ?? LocalModels.Extractive;
}
