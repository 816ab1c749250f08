using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace RagFunctions.Core.Budgets;

public static class BudgetServiceCollectionExtensions
{
    /// <summary>
    /// Binds the tenants and budgets from section <c>Rag</c> (validated at start) and registers the resolved
    /// <see cref="TenantBudgets"/>. The app's and the ledger's compositions both call it, so they read one configuration.
    /// </summary>
    public static IServiceCollection AddBudgetOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BudgetOptions>().Bind(configuration.GetSection(BudgetOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BudgetOptions>, BudgetOptionsValidator>());
        services.TryAddSingleton(sp => new TenantBudgets(sp.GetRequiredService<IOptions<BudgetOptions>>().Value));
        return services;
    }
}
