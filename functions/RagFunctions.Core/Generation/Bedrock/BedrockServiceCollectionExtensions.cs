using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;


namespace RagFunctions.Core.Generation.Bedrock;

public static class BedrockServiceCollectionExtensions
{
    /// <summary>Longest wait honoured from a Retry-After header; longer asks fail fast to the caller instead.</summary>
    internal static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Registers <see cref="BedrockConverseChatClient"/> (as itself, singleton), its options (section
    /// Rag:Generation:Bedrock, validated on start), the default-chain credentials source (unless one is already
    /// registered) and the named HttpClient: resilience (retry, per-attempt timeout) outside, SigV4 signing inside.
    /// Does not register IChatClient.
    /// </summary>
    public static IServiceCollection AddBedrockChatClient(this IServiceCollection services)
    {
        services.AddOptions<BedrockOptions>()
            .BindConfiguration(BedrockOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BedrockOptions>, BedrockOptionsValidator>());
        services.TryAddSingleton<IBedrockCredentialsSource, DefaultChainCredentialsSource>();
        services.AddHostedService<BedrockCredentialsCheck>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddTransient<SigV4SigningHandler>();

        // Handlers run in the order added: resilience first (outer), signing second (inner), so each attempt is re-signed.
        var httpClient = services.AddHttpClient(BedrockConverseChatClient.HttpClientName)
            // Per-attempt timeouts live in the pipeline; the caller's token bounds the whole call.
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan);
        httpClient.AddResilienceHandler("bedrock", ConfigurePipeline);
        httpClient.AddHttpMessageHandler<SigV4SigningHandler>();

        services.TryAddSingleton<BedrockConverseChatClient>();
        return services;
    }

    private static void ConfigurePipeline(ResiliencePipelineBuilder<HttpResponseMessage> builder, ResilienceHandlerContext context)
    {
        var options = context.ServiceProvider.GetRequiredService<IOptions<BedrockOptions>>().Value;
        var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger<BedrockConverseChatClient>();

        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMilliseconds),
                ShouldHandle = ShouldRetryAsync,
                DelayGenerator = static args => ValueTask.FromResult(RetryAfterDelay(args.Outcome.Result)),
                OnRetry = args =>
                {
                    var kind = args.Outcome.Exception is TimeoutRejectedException ? "Timeout"
                        : args.Outcome.Exception is not null ? "Network"
                        : args.Outcome.Result?.StatusCode.ToString() ?? "unknown";
                    Log.RetryingBedrockCall(logger, args.AttemptNumber + 1, kind, (int?)args.Outcome.Result?.StatusCode, args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        builder.AddTimeout(TimeSpan.FromSeconds(options.TimeoutSeconds));
    }

    private static async ValueTask<bool> ShouldRetryAsync(RetryPredicateArguments<HttpResponseMessage> args)
    {
        if (args.Outcome.Exception is { } exception)
        {
            return exception is HttpRequestException or TimeoutRejectedException;
        }

        if (args.Outcome.Result is not { IsSuccessStatusCode: false } response)
        {
            return false;
        }

        var error = await BedrockErrors.ClassifyAsync(response, args.Context.CancellationToken);
        return error.Kind.IsTransient();
    }

    /// <summary>The service's Retry-After (capped) when present; otherwise null, meaning jittered exponential backoff.</summary>
    private static TimeSpan? RetryAfterDelay(HttpResponseMessage? response) =>
        response is not null && BedrockErrors.RetryAfterOf(response) is { } retryAfter
            ? retryAfter < MaxRetryAfter ? retryAfter : MaxRetryAfter
            : null;
}
