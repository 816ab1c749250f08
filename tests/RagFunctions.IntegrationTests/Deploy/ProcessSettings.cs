using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>The settings a rendered Deployment's process sees, and the options its own composition binds from them.</summary>
public static class ProcessSettings
{
    /// <summary>Stands for a value that comes from a Secret (its content is a template placeholder here).</summary>
    public const string FromSecret = "<secret>";

    /// <summary>The container's environment: envFrom ConfigMaps first, then env (later wins, as in the kubelet).</summary>
    public static Dictionary<string, string> Of(IReadOnlyList<Manifest> manifests, Manifest deployment)
    {
        var c = Kustomize.Containers(deployment).Single();
        var settings = new Dictionary<string, string>();
        foreach (var name in (c["envFrom"]?.AsArray() ?? []).Select(from => from!.Get("configMapRef.name")?.GetValue<string>()).OfType<string>())
        {
            var configMap = manifests.Single(m => m.Kind == "ConfigMap" && m.Name == name && m.Namespace == deployment.Namespace);
            foreach (var (k, v) in configMap.Body["data"]!.AsObject())
            {
                settings[k] = v!.GetValue<string>();
            }
        }
        foreach (var env in c["env"]?.AsArray() ?? [])
        {
            if (env!.Get("valueFrom.secretKeyRef") is not null)
            {
                settings[env.Str("name")] = FromSecret;
            }
            else if (env!["value"] is { } v)
            {
                settings[env.Str("name")] = v.GetValue<string>();
            }
        }
        return settings;
    }

    /// <summary>Binds env-style settings (A__B) the way the process does and returns the validated options.</summary>
    public static T Bind<T>(Dictionary<string, string> settings, Action<IServiceCollection, IConfiguration> compose)
        where T : class
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(kv => KeyValuePair.Create(kv.Key.Replace("__", ":", StringComparison.Ordinal), (string?)kv.Value)))
            .Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        compose(services, configuration);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<T>>().Value;
    }
}
