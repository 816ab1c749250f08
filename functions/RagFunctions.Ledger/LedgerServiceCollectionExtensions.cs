using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Options;

namespace RagFunctions.Ledger;

public static class LedgerServiceCollectionExtensions
{
    /// <summary>The ledger's composition: options, budgets and Rag:Environment (validated at start), the state store, the budgets table, the Pushgateway client and the worker.</summary>
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
        services.AddBudgetOptions(configuration);

        // Rag:Environment, the app's own setting and validation: the budget gauges carry the environment label the app
        // stamps on the series the ledger folds.
        services.AddOptions<RagOptions>().Bind(configuration.GetSection(RagOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new ExposedBudgets(sp.GetRequiredService<TenantBudgets>(), sp.GetRequiredService<IOptions<RagOptions>>().Value.Environment));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<LedgerOptions>>().Value;
            return new LedgerStateStore(new TableClient(options.StorageConnectionString, options.StateTable), options.StatePartition);
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<LedgerOptions>>().Value;
            var budgets = sp.GetRequiredService<TenantBudgets>();
            return new BudgetTable(new TableClient(options.StorageConnectionString, budgets.Table), budgets);
        });
        services.AddHttpClient<PushgatewayClient>();
        services.AddSingleton<LedgerWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerWorker>());
        return services;
    }

    /// <summary>The ledger process: its composition, listening on <c>Ledger:MetricsUrl</c> for Prometheus.</summary>
    public static WebApplicationBuilder AddLedgerHost(this WebApplicationBuilder builder)
    {
        builder.Services.AddLedger(builder.Configuration);
        builder.WebHost.UseUrls(builder.Configuration[$"{LedgerOptions.SectionName}:{nameof(LedgerOptions.MetricsUrl)}"] ?? LedgerOptions.DefaultMetricsUrl);
        return builder;
    }

    /// <summary>
    /// <c>GET /metrics</c>: the committed totals in the text format, for Prometheus (job="rag-ledger" comes from the
    /// scrape config). A replica that must serve nothing (standby, or unsure of its lease) answers 200 with no series,
    /// so a handover never shows two writers and never a reset. <c>GET /healthz</c>: 200 while the process serves HTTP.
    /// </summary>
    public static IEndpointRouteBuilder MapLedgerMetrics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/metrics", async (LedgerWorker worker, CancellationToken cancellationToken) =>
            Results.Text(await worker.RenderForScrapeAsync(cancellationToken) ?? string.Empty, "text/plain; version=0.0.4; charset=utf-8"));

        // Probes use this, never /metrics: a probe's read of /metrics would start first-sample holds no scraper saw.
        endpoints.MapGet("/healthz", () => Results.Text("ok"));
        return endpoints;
    }
}
