using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RagFunctions.Core.Metrics.Push;

public static class PushServiceCollectionExtensions
{
    public const string HttpClientName = "rag-metrics-push";

    /// <summary>
    /// Binds <c>Rag:Push</c> (validated at start) and registers <see cref="MetricsPusher"/> and the hosted
    /// <see cref="MetricsPushService"/>. With <c>Enabled=false</c> both are no-ops, so callers always inject the pusher.
    /// Needs <see cref="RagMetrics"/> and <see cref="IConfiguration"/> registered.
    /// </summary>
    public static IServiceCollection AddMetricsPusher(this IServiceCollection services)
    {
        services.AddOptions<PushOptions>().BindConfiguration(PushOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PushOptions>, PushOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        // The timeout is enforced per push by the pusher; the client's own is only a backstop.
        services.AddHttpClient(HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        services.TryAddSingleton(sp => new MetricsPusher(
            sp.GetRequiredService<RagMetrics>(),
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName),
            sp.GetRequiredService<IOptions<PushOptions>>(),
            sp.GetRequiredService<ILogger<MetricsPusher>>()));
        services.AddHostedService<MetricsPushService>();
        return services;
    }
}
