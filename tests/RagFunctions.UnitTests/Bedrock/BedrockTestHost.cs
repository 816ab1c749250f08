using RagFunctions.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.UnitTests.Bedrock;

/// <summary>A service provider wired like the app: configuration section, AddBedrockChatClient, static test credentials.</summary>
internal static class BedrockTestHost
{
    public static ServiceProvider Build(
        Uri? endpoint,
        IReadOnlyDictionary<string, string?>? overrides = null,
        IBedrockCredentialsSource? credentials = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rag:Generation:Provider"] = "Bedrock",
            ["Rag:Generation:Bedrock:Region"] = "us-east-1",
            ["Rag:Generation:Bedrock:ModelId"] = "amazon.nova-lite-v1:0",
            ["Rag:Generation:Bedrock:TimeoutSeconds"] = "10",
            ["Rag:Generation:Bedrock:MaxRetries"] = "3",
            // Fast tests: production backs off from 500 ms.
            ["Rag:Generation:Bedrock:RetryBaseDelayMilliseconds"] = "1",
        };
        if (endpoint is not null)
        {
            settings["Rag:Generation:Bedrock:Endpoint"] = endpoint.ToString();
        }

        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            // null means "not configured": a key bound with a null value would read as 0.
            if (value is null)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        if (credentials is not null)
        {
            services.AddSingleton(credentials);
        }

        services.AddBedrockChatClient();
        return services.BuildServiceProvider(validateScopes: true);
    }

    public static ServiceProvider Build(BedrockStandIn standIn, IReadOnlyDictionary<string, string?>? overrides = null) =>
        Build(standIn.BaseUri, overrides, new StaticCredentialsSource(BedrockStandIn.Credentials));
}
