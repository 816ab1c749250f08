using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RagFunctions.Ledger;

public static class LedgerServiceCollectionExtensions
{
    /// <summary>The ledger's composition: options (validated at start), the state store, the Pushgateway client and the worker.</summary>
    public static IServiceCollection AddLedger(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LedgerOptions>()
            .Bind(configuration.GetSection(LedgerOptions.SectionName))
            .PostConfigure(o =>
            {
                o.StorageConnectionString ??= configuration["AzureWebJobsStorage"];
                o.ReplicaId ??= Environment.GetEnvironmentVariable("HOSTNAME") is { Length: > 0 } host ? host : Environment.MachineName;
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LedgerOptions>, LedgerOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<LedgerOptions>>().Value;
            return new LedgerStateStore(new TableClient(options.StorageConnectionString, options.StateTable), options.StatePartition);
        });
        services.AddHttpClient<PushgatewayClient>();
        services.AddHostedService<LedgerWorker>();
        return services;
    }
}
