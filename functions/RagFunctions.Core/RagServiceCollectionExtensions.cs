using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Budgets;
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
    /// The RAG pipeline, its provider, pricing, tenants, metrics and batch storage, with options bound and validated at start.
    /// Transport-free: the Functions app, the tests and the benchmarks compose through this.
    /// </summary>
    public static IServiceCollection AddRagPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RagOptions>().Bind(configuration.GetSection(RagOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RetrievalOptions>().Bind(configuration.GetSection(RagOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PricingOptions>().Bind(configuration.GetSection(PricingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.Section))
            .PostConfigure(o => o.ConnectionString = string.IsNullOrWhiteSpace(o.ConnectionString) ? configuration["AzureWebJobsStorage"] ?? string.Empty : o.ConnectionString)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddBudgetOptions(configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PricingOptions>>().Value.ToPriceTable());
        services.AddSingleton(sp => new RagMetrics(
            sp.GetRequiredService<IOptions<RagOptions>>().Value.Environment,
            [sp.GetRequiredService<IAnswerGenerator>().ModelId],
            sp.GetRequiredService<TenantBudgets>().Names));
        services.AddSingleton<IQueryOutcomeObserver>(sp => sp.GetRequiredService<RagMetrics>());
        services.AddSingleton<IRetriever>(sp => LuceneRetriever.Create(
            sp.GetRequiredService<IOptions<RetrievalOptions>>().Value, sp.GetRequiredService<ILogger<LuceneRetriever>>()));

        // The provider setting is read here only: it decides what is registered, and nothing reads it after.
        var provider = configuration.GetSection(GenerationOptions.Section).Get<GenerationOptions>()?.Provider ?? GenerationProvider.Extractive;
        if (provider == GenerationProvider.Bedrock)
        {
            services.AddBedrockChatClient();
            services.AddSingleton<IChatClient>(sp => sp.GetRequiredService<BedrockConverseChatClient>());
        }

        // Any IChatClient in the container answers (Bedrock's, or one a host registers after this call); without one,
        // the offline extractive answerer does.
        services.AddSingleton<IAnswerGenerator>(sp => sp.GetService<IChatClient>() is { } chat
            ? new ChatClientAnswerGenerator(chat)
            : new ExtractiveAnswerGenerator());
        services.AddSingleton<MeteredAnswerGenerator>();
        services.AddSingleton<QueryValidator>();
        services.AddSingleton<BudgetGate>();
        services.AddSingleton<RagPipeline>();
        services.AddSingleton<BatchStore>();
        services.AddSingleton<BatchRowClaims>();
        services.AddSingleton<BatchProcessing>();
        services.AddSingleton<BatchSubmission>();
        services.AddSingleton<BatchStatusReader>();
        return services;
    }
}
